//! The AWS shared files as botocore reads them (src/documents/ini.rs): any text is
//! read or refused with a line number, never a panic; what reads is
//! consistent (every line accounted for, in order, each section's header a
//! header line, every config-file profile found again by its name), and
//! the line break found is one of the three.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert!(["\n", "\r", "\r\n"].contains(&handoff::documents::ini::line_break(text)));
    match handoff::documents::ini::parse(text) {
        Err(e) => assert!(e.line >= 1 && !e.why.is_empty()),
        Ok(ini) => {
            let mut at = 0;
            for line in ini.lines() {
                assert_eq!(line.start, at);
                assert!(line.start <= line.text_end && line.text_end <= line.end);
                at = line.end;
            }
            assert_eq!(at, text.len());
            for s in ini.sections() {
                assert_eq!(
                    ini.lines()[s.header_line()].kind,
                    handoff::documents::ini::LineKind::Header
                );
                assert!(ini.section(s.name()).is_some());
                if let Some(p) = handoff::documents::ini::config_profile_name(s.name()) {
                    assert!(ini.config_profile(&p).is_some());
                }
            }
        }
    }
});
