//! The envelope decoder on arbitrary bytes: it may refuse them, never panic,
//! and anything it accepts encodes and decodes again to the same token.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = handoff::envelope::decode(data) {
        let again = handoff::envelope::encode(&token);
        let back = handoff::envelope::decode(&again).expect("an encoded token decodes");
        assert_eq!(format!("{token:?}"), format!("{back:?}"));
    }
});
