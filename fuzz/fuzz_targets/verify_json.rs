//! `POST /verify` with a JSON body: arbitrary bytes go through the route's own parsing
//! (`verify::parse_json_input`) and verification (`verify::verify_input`) on the offline
//! service state. Nothing may panic, input that is not a credential must be a 4xx, and a
//! report must never contradict itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use partnership_badges::verify;
use partnership_badges_fuzz::{assert_client_error, assert_consistent, offline};

fuzz_target!(|data: &[u8]| {
    let offline = offline();
    let input = match verify::parse_json_input(data) {
        Ok(input) => input,
        Err(e) => return assert_client_error(&e),
    };
    match offline
        .runtime
        .block_on(verify::verify_input(&offline.state, input))
    {
        Ok(report) => assert_consistent(&report),
        Err(e) => assert_client_error(&e),
    }
});
