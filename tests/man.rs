//! The man pages in docs/man/ (`handoff.1` and `handoff-COMMAND.1` for each
//! command) are generated from the clap definitions with clap_mangen; this
//! test fails when they are stale. To write them again:
//!
//! ```sh
//! HANDOFF_WRITE_MAN=1 cargo test --test man
//! ```

#[allow(dead_code)]
#[path = "../src/cli.rs"]
mod cli;

use std::collections::BTreeMap;
use std::path::Path;

use clap::CommandFactory;

/// Every page, by file name, as clap_mangen writes them: `handoff.1`, and
/// `handoff-COMMAND.1` for each command.
fn pages() -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(cli::Cli::command(), dir.path()).expect("generate man pages");
    std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    let pages = pages();
    if std::env::var_os("HANDOFF_WRITE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "1") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (name, page) in &pages {
            std::fs::write(dir.join(name), page).unwrap();
        }
        return;
    }
    let mut stale = Vec::new();
    for (name, page) in &pages {
        match std::fs::read(dir.join(name)) {
            Ok(on_disk) if on_disk == *page => {}
            _ => stale.push(name.clone()),
        }
    }
    let mut extra: Vec<String> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".1") && !pages.contains_key(n))
                .collect()
        })
        .unwrap_or_default();
    stale.append(&mut extra);
    assert!(
        stale.is_empty(),
        "docs/man is stale ({}): run HANDOFF_WRITE_MAN=1 cargo test --test man",
        stale.join(", ")
    );
}

#[test]
fn every_command_has_a_page() {
    let pages = pages();
    for name in [
        "handoff", "keygen", "policy", "seal", "open", "show", "exec", "ec2",
    ] {
        let file = if name == "handoff" {
            "handoff.1".to_string()
        } else {
            format!("handoff-{name}.1")
        };
        assert!(pages.contains_key(&file), "{file}: {:?}", pages.keys());
    }
    let open = String::from_utf8(pages["handoff-open.1"].clone()).unwrap();
    for format in ["powershell", "windows\\-cmd", "imds", "fish"] {
        assert!(
            open.contains(format),
            "{format} missing from handoff-open.1"
        );
    }
}
