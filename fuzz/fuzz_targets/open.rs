//! The whole open path on arbitrary bytes, as `handoff open` runs it: form
//! detection (binary, armor, base64), the header bound, age decryption with
//! a fixed identity, and the envelope. Seeded with the hostile corpus, whose
//! tokens are sealed to that same identity, so mutations start from files
//! that open.
#![no_main]

use handoff::Identities;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static IDS: Identities = {
        let mut ids = Identities::new();
        ids.add_text(
            include_str!("../../fixtures/hostile/identity.txt"),
            "fixtures/hostile/identity.txt",
        )
        .expect("the corpus identity");
        ids.set_passphrase("correct horse battery staple".to_string().into());
        ids
    };
}

fuzz_target!(|data: &[u8]| {
    if let Err(e) = IDS.with(|ids| handoff::open(data, ids)) {
        // every refusal is a cause of exit status 3 (7 for a signature that
        // does not verify) with a message
        use handoff::ErrorKind as K;
        assert!(
            matches!(
                e.kind(),
                K::NoMatchingIdentity
                    | K::WrongPassphrase
                    | K::Damaged
                    | K::NotAToken
                    | K::UnsupportedVersion { .. }
                    | K::ExcessiveWork { .. }
                    | K::Unsigned
                    | K::UnknownSigner
                    | K::BadSignature
                    | K::ReAddressed
            ),
            "{e}"
        );
        assert!(!e.to_string().is_empty());
    }
});
