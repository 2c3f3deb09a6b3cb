//! Fuzzes ConversionReview decoding and conversion: any bytes as a `/convert` body must give
//! a review that encodes, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| katalog_fuzz::handlers().conversion(data));
