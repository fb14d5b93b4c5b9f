//! Rosters for `seal --each` (NAME RECIPIENT lines): any text is read or
//! refused, never a panic; every name read is one STS takes, none is hidden
//! or option-like (a leading `.` or `-`), and no two are the same, even
//! ignoring case.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(people) = handoff::issuer::roster::parse(text, "fuzz", &|_| Ok(())) {
        let mut names: Vec<String> = people.iter().map(|p| p.name.to_ascii_lowercase()).collect();
        for p in &people {
            assert!(handoff::issuer::roster::name_ok(&p.name), "{:?}", p.name);
            assert!(!p.name.starts_with(['.', '-']), "{:?}", p.name);
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a name twice (ignoring case)");
    }
});
