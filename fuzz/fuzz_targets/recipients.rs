//! Recipients files (`seal -R`), which may come from elsewhere (a saved
//! https://github.com/USER.keys): any text is refused or read, never a
//! panic; what is read names a recipient, and every warning names the file
//! and a line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut recipients = handoff::Recipients::new();
    if let Ok(warnings) = recipients.add_text(text, "fuzz") {
        assert!(!recipients.is_empty());
        for w in warnings {
            assert!(w.starts_with("recipients file fuzz line "), "{w}");
        }
    }
});
