//! The console's sign-in exchange on arbitrary bytes (src/recipient/console.rs): as
//! an answer to getSigninToken under each status (read strictly, or refused
//! in handoff's own words with the contract's exit status, quoting nothing),
//! and cut into credentials for the request (refused past its bound, or
//! holding exactly the three Session keys equal to them).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    handoff::recipient::console::fuzzing::signin(data);
});
