//! Fuzzes the Katalog loader: any bytes as a Katalog file must load or produce diagnostics,
//! never panic, hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Err(diagnostics) = katalog::load_text("fuzz/katalog.yaml", text) {
        let _ = diagnostics.render();
    }
});
