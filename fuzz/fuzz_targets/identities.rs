//! Identity files (age X25519 and plugin lines, OpenSSH and PEM/PKCS#8 RSA
//! keys): any text is read or refused with an error naming the file, never a
//! panic. Nothing here decrypts, so no plugin runs and no passphrase is
//! asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut ids = handoff::Identities::new();
    if let Err(e) = ids.add_text(text, "fuzz") {
        let msg = e.to_string();
        assert!(msg.contains("fuzz"), "{msg}");
    }
});
