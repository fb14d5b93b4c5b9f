//! The man pages in docs/man/ (`handoff.1` and `handoff-COMMAND.1` for each
//! command) are generated from the clap definitions with clap_mangen; this
//! test fails when they are stale. To write them again:
//!
//! ```sh
//! HANDOFF_WRITE_MAN=1 cargo test --test man
//! ```

#[allow(dead_code)]
#[path = "../src/bin/handoff/cli.rs"]
mod cli;
#[path = "../src/bin/handoff/errors.rs"]
#[allow(dead_code)]
mod errors;

use std::collections::BTreeMap;
use std::path::Path;

use clap::CommandFactory;

/// Every page, by file name: `handoff.1`, and `handoff-COMMAND.1` for each
/// command, as clap_mangen writes them, with two sections of their own: the
/// text after the help (seal's examples) under its own heading (EXAMPLES)
/// rather than clap_mangen's EXTRA, and EXIT STATUS, from the library's
/// list (errors::EXIT_STATUSES) that `handoff --help` prints too.
fn pages() -> BTreeMap<String, Vec<u8>> {
    let mut cmd = cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let cmd = cli::unquoted_help_flags(cmd);
    let mut commands = vec![cmd.clone()];
    commands.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    commands
        .into_iter()
        .map(|c| {
            let man = clap_mangen::Man::new(c.clone());
            (man.get_filename(), page(c))
        })
        .collect()
}

/// One page: clap_mangen's, its after-help text moved into a section named
/// by the text's first line, then EXIT STATUS (before VERSION, where the
/// page has one).
fn page(cmd: clap::Command) -> Vec<u8> {
    use clap_mangen::roff::{roman, Roff};
    let after = cmd.get_after_help().map(|s| s.to_string());
    let cmd = cmd.after_help(None::<&str>).after_long_help(None::<&str>);
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out).unwrap();
    let page = String::from_utf8(out).unwrap();

    let mut roff = Roff::new();
    if let Some(after) = after {
        let mut lines = after.lines();
        let heading = lines
            .next()
            .unwrap_or("")
            .trim_end_matches(':')
            .to_uppercase();
        roff.control("SH", [heading.as_str()]);
        roff.control("nf", []);
        for line in lines {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (n, what) in errors::EXIT_STATUSES {
        roff.control("TP", []);
        roff.text([roman(n.to_string())]);
        roff.text([roman(*what)]);
    }
    roff.control("TP", []);
    roff.text([roman("126, 127")]);
    roff.text([roman(
        "exec: the command cannot be run (126) or is not found (127); otherwise exec exits with the status of its command",
    )]);
    // Roff::render starts with its preamble, which the page has already.
    let rendered = roff.render();
    let sections = rendered
        .split_once(".el .ds Aq '\n")
        .map_or(rendered.as_str(), |(_, rest)| rest);
    let page = match page.find("\n.SH VERSION") {
        Some(at) => format!("{}\n{}{}", &page[..at], sections, &page[at + 1..]),
        None => format!("{page}{sections}"),
    };
    page.into_bytes()
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

/// Every page lists the exit statuses in an EXIT STATUS section, as
/// docs/man holds them (the staleness test above covers the rest), and
/// seal's examples are under EXAMPLES.
#[test]
fn every_page_has_the_exit_statuses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
    for (name, _) in pages() {
        let page = std::fs::read_to_string(dir.join(&name)).unwrap();
        let section = page
            .split_once(".SH \"EXIT STATUS\"\n")
            .unwrap_or_else(|| panic!("{name}: no EXIT STATUS section"))
            .1;
        let section = section.split("\n.SH ").next().unwrap();
        for (n, _) in errors::EXIT_STATUSES {
            assert!(
                section.contains(&format!(".TP\n{n}\n")),
                "{name}: no exit status {n} in\n{section}"
            );
        }
        assert!(!page.contains(".SH EXTRA"), "{name}");
    }
    let seal = std::fs::read_to_string(dir.join("handoff-seal.1")).unwrap();
    assert!(seal.contains(".SH EXAMPLES\n"), "{seal}");
    assert!(seal.contains("handoff seal \\-\\-federation bob"));
}
