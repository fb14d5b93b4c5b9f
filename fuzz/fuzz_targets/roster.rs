//! Rosters for `seal --each` (NAME RECIPIENT lines): any text is read or
//! refused, never a panic; every name read is one STS takes, and no two are
//! the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(people) = handoff::roster::parse(text, "fuzz", &|_| Ok(())) {
        let mut names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
        for n in &names {
            assert!(handoff::roster::name_ok(n), "{n:?}");
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a name twice");
    }
});
