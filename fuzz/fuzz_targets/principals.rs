//! allowed_signers principal lists matched as OpenSSH's match_pattern_list
//! matches them (src/seal/signing.rs): any list and principal, never a panic or
//! a runaway; a plain pattern matches itself unless the list negates it,
//! and a list of one negated pattern matches nothing.
#![no_main]

use handoff::seal::signing::principals_match;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // the list, then the principal, split at the first NUL
    let (list, who) = text.split_once('\0').unwrap_or((text, ""));
    let m = principals_match(list, who);
    if !list.is_empty() && !list.contains(['*', '?', ',', '!']) && list.len() < 1023 {
        assert_eq!(m, list == who);
    }
    if !list.contains(',') {
        assert!(!principals_match(&format!("!{list}"), who));
    }
});
