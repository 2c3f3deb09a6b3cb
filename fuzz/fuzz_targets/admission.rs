//! Fuzzes AdmissionReview decoding and rule evaluation: any bytes as a `/validate`,
//! `/mutate` or protection body must give an answer that encodes, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| katalog_fuzz::handlers().admission(data));
