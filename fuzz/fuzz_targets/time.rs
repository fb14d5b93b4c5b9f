//! The time parser and formatter (src/clock.rs) on arbitrary input: any
//! string, any instant, and the envelope's date fields as CBOR tag 0 (text)
//! and tag 1 (epoch number) values. Nothing may panic; every time accepted
//! is inside 1970-9999 UTC and prints as RFC 3339 that parses back to the
//! same second.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use handoff::clock::{format_rfc3339, in_range, parse_rfc3339};
use libfuzzer_sys::fuzz_target;

fn round_trips(t: std::time::SystemTime) {
    assert!(in_range(t));
    let text = format_rfc3339(t);
    let back = parse_rfc3339(&text).expect("a formatted time parses");
    let secs = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs(back), secs(t), "{text}");
}

/// An envelope whose Expiration is `value`, as CBOR.
fn envelope(value: &[u8]) -> Vec<u8> {
    let mut e = vec![0xa3];
    e.extend_from_slice(b"\x67Version\x01\x64Kind\x66static\x6bCredentials\xa3");
    e.extend_from_slice(b"\x6bAccessKeyId\x61A\x6fSecretAccessKey\x61s\x6aExpiration");
    e.extend_from_slice(value);
    e
}

fuzz_target!(|data: &[u8]| {
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    match how % 4 {
        // any string
        0 => {
            if let Some(t) = std::str::from_utf8(rest).ok().and_then(parse_rfc3339) {
                round_trips(t);
            }
        }
        // any instant a library caller could build: printed, clamped
        1 => {
            let mut b = [0u8; 12];
            let n = rest.len().min(12);
            b[..n].copy_from_slice(&rest[..n]);
            let secs = u64::from_le_bytes(b[..8].try_into().unwrap());
            let nanos = u32::from_le_bytes(b[8..].try_into().unwrap()) % 1_000_000_000;
            if let Some(t) = UNIX_EPOCH.checked_add(Duration::new(secs, nanos)) {
                let text = format_rfc3339(t);
                parse_rfc3339(&text).expect("every printed time parses");
                if in_range(t) {
                    round_trips(t);
                }
            }
        }
        // tag 0 (text) and tag 1 (number) dates inside an envelope
        _ => {
            let mut value = vec![if how % 4 == 2 { 0xc0 } else { 0xc1 }];
            value.extend_from_slice(rest);
            if let Ok(token) = handoff::envelope::decode(&envelope(&value)) {
                if let Some(t) = token.expiration() {
                    round_trips(t);
                }
                let again = handoff::envelope::encode(&token);
                handoff::envelope::decode(&again).expect("an encoded token decodes");
            }
        }
    }
});
