//! allowed_signers files (OpenSSH's format, often shared with git and ssh):
//! any text is read or refused, never a panic; a file that reads has its
//! skipped lines listed, each with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(signers) = handoff::seal::signing::Signers::parse(text, "fuzz") {
        for skipped in signers.skipped() {
            assert!(!skipped.is_empty());
        }
    }
});
