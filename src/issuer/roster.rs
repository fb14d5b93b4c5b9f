//! A roster: one person a line, `NAME RECIPIENT`, for sealing one token per
//! person (`handoff seal --each ROSTER`).
//!
//! `#` comments and blank lines are ignored; a UTF-8 byte order mark at the
//! start is skipped. NAME is 1–32 characters of `[A-Za-z0-9+=,.@_-]`, not
//! starting with `.` or `-` (no hidden or option-like file names), unique in
//! the roster even ignoring case (`Alice.age` and `alice.age` are one file
//! on macOS and Windows); it names the person's file (`NAME.age`) and fills
//! `{name}` in the minted name and the label. RECIPIENT is the rest of the
//! line: one age or SSH public key (a line with two is an error that says
//! so). Every error in a roster is reported at once, each with its line
//! number.

use std::io::Read;
use std::path::Path;

use crate::seal::Recipients;
use crate::{Error, Result};

/// The placeholder a template fills with a person's name.
pub const PLACEHOLDER: &str = "{name}";

/// The longest name, in characters.
pub const MAX_NAME: usize = 32;

/// The largest roster read, in bytes.
const MAX_ROSTER_SIZE: u64 = 1 << 20;

/// One person of a roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Their name.
    pub name: String,
    /// Their public key, as written.
    pub recipient: String,
    /// The line of the roster they are on (1-based).
    pub line: usize,
}

impl Person {
    /// The recipients to seal to: this person alone.
    pub fn recipients(&self) -> Result<Recipients> {
        let mut r = Recipients::new();
        r.add(&self.recipient)?;
        Ok(r)
    }
}

/// Whether `name` is a roster name: 1–32 characters of `[A-Za-z0-9+=,.@_-]`,
/// the first neither `.` nor `-`.
pub fn name_ok(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// Whether a word of a roster line starts a recipient of its own.
fn starts_recipient(word: &str) -> bool {
    word.starts_with("age1") || word.starts_with("ssh-")
}

/// `template` with every `{name}` replaced by `name`.
pub fn fill(template: &str, name: &str) -> String {
    template.replace(PLACEHOLDER, name)
}

/// Parses a roster. `source` names it in messages (a path, `stdin`);
/// `check` is asked about each person (say, whether the minted name the
/// template makes from their name is one STS takes) and its error is
/// reported on that person's line. All errors come back together, one a
/// line, as one [`Error`] whose [`related`](Error::related) list holds each
/// (one alone is returned as it is).
pub fn parse(
    text: &str,
    source: &str,
    check: &dyn Fn(&Person) -> Result<()>,
) -> Result<Vec<Person>> {
    let mut people: Vec<Person> = Vec::new();
    let mut errors: Vec<Error> = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (name, recipient) = match trimmed.split_once(char::is_whitespace) {
            Some((n, r)) => (n, r.trim()),
            None => {
                errors.push(Error::usage(format!(
                    "{source} line {line}: expected NAME RECIPIENT, found one word"
                )));
                continue;
            }
        };
        if !name_ok(name) {
            errors.push(Error::usage(format!(
                "{source} line {line}: name {:?} must be 1 to {MAX_NAME} characters of letters, digits and +=,.@_-, not starting with . or -",
                name.chars().take(40).collect::<String>()
            )));
            continue;
        }
        if let Some(first) = people.iter().find(|p| p.name == name) {
            errors.push(Error::usage(format!(
                "{source} line {line}: {name} is already on line {}",
                first.line
            )));
            continue;
        }
        if let Some(first) = people.iter().find(|p| p.name.eq_ignore_ascii_case(name)) {
            errors.push(Error::usage(format!(
                "{source} line {line}: {name} and {} (line {}) differ only in case; their files would be one on macOS and Windows",
                first.name, first.line
            )));
            continue;
        }
        let starts: Vec<&str> = recipient
            .split_whitespace()
            .filter(|w| starts_recipient(w))
            .collect();
        if starts.len() > 1 {
            let short = |w: &str| w.chars().take(16).collect::<String>();
            errors.push(Error::usage(format!(
                "{source} line {line}: {} recipients ({}…, {}…); a roster line is NAME RECIPIENT, one key per person",
                starts.len(),
                short(starts[0]),
                short(starts[1])
            )));
            continue;
        }
        let person = Person {
            name: name.to_string(),
            recipient: recipient.to_string(),
            line,
        };
        if let Err(e) = person.recipients().and_then(|_| check(&person)) {
            errors.push(Error::usage(format!("{source} line {line}: {e}")).with_source(e));
            continue;
        }
        people.push(person);
    }
    match errors.len() {
        0 => {}
        1 => return Err(errors.remove(0)),
        n => {
            return Err(Error::usage(format!("{n} errors in roster {source}")).with_related(errors))
        }
    }
    if people.is_empty() {
        return Err(Error::usage(format!("roster {source} lists nobody")));
    }
    Ok(people)
}

/// Reads and parses a roster file; `-` reads stdin.
pub fn read(path: &Path, check: &dyn Fn(&Person) -> Result<()>) -> Result<Vec<Person>> {
    let (text, source) = if path == Path::new("-") {
        let mut buf = String::new();
        std::io::stdin()
            .lock()
            .take(MAX_ROSTER_SIZE + 1)
            .read_to_string(&mut buf)
            .map_err(|e| {
                Error::new(
                    crate::ErrorKind::Io { path: "-".into() },
                    format!("cannot read the roster from stdin: {e}"),
                )
                .with_source(e)
            })?;
        (buf, "stdin".to_string())
    } else {
        let f = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
        let mut buf = String::new();
        f.take(MAX_ROSTER_SIZE + 1)
            .read_to_string(&mut buf)
            .map_err(|e| Error::io("cannot read", path, e))?;
        (buf, path.display().to_string())
    };
    if text.len() as u64 > MAX_ROSTER_SIZE {
        return Err(Error::usage(format!(
            "roster {source} is larger than {} KiB",
            MAX_ROSTER_SIZE / 1024
        )));
    }
    parse(&text, &source, check)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    /// What the fuzz smoke run in CI found: carol's RSA key has an exponent
    /// of three zero bytes (and padding that does not fit), on which the age
    /// crate panics. Every bad line is reported, carol's among them.
    #[test]
    fn the_roster_the_fuzzer_found_is_refused_not_a_panic() {
        let text = concat!(
            "# the workshop\n",
            "alice age1h4yrk36e9p58m7htpmpc3xvcjz7skp99at0\0\0\0\0\0\0\0uqa7fq9y2rcuujfmsw0s5v5\n",
            "bob ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPV0l3dJDSF2xNDFhm/RUdQoAuDptkI6fMC5g5CMyKUI alice\n",
            "\n",
            "carol ",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQABAAAAgQC7n4ss085IBAgJaP6d9Xqy",
            "R0BKl4GY== carol",
            "\n",
        );
        let err = each(&parse(text, "roster", &|_| Ok(())).unwrap_err());
        assert!(
            err.contains("roster line 2: invalid age recipient"),
            "{err}"
        );
        assert!(
            err.contains("roster line 5: invalid SSH recipient"),
            "{err}"
        );
        assert!(err.contains("integer of zero bytes"), "{err}");
        // bob's key is an ed25519 key whose point is not one
        assert!(err.contains("roster line 3: invalid SSH recipient \"ssh-ed25519 AAAAC3NzaC1l\": a malformed ssh-ed25519 key"), "{err}");
    }

    fn none(_: &Person) -> Result<()> {
        Ok(())
    }

    #[test]
    fn people_comments_and_blanks() {
        let text = format!("# workshop\n\nalice {ALICE}\n  bob.smith@x   {ALICE}  \n");
        let people = parse(&text, "r.txt", &none).unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].name, "alice");
        assert_eq!(people[0].line, 3);
        assert_eq!(people[1].name, "bob.smith@x");
        assert_eq!(people[1].recipient, ALICE);
        assert_eq!(fill("ws-{name}", "bob"), "ws-bob");
    }

    /// The errors an error stands for, one a line.
    fn each(e: &Error) -> String {
        let all: Vec<String> = e.related().iter().map(ToString::to_string).collect();
        all.join("\n")
    }

    #[test]
    fn every_error_with_its_line() {
        let long = "x".repeat(33);
        let text = format!(
            "alice {ALICE}\nbad/name {ALICE}\nalice {ALICE}\ncarol age1nope\n{long} {ALICE}\nlonely\ndave {ALICE}\n"
        );
        let check = |p: &Person| {
            if p.name == "dave" {
                Err(Error::usage("dave is refused"))
            } else {
                Ok(())
            }
        };
        let e = parse(&text, "r.txt", &check).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert_eq!(e.to_string(), "6 errors in roster r.txt");
        assert!(e
            .related()
            .iter()
            .all(|r| r.kind() == &crate::ErrorKind::InvalidArgument));
        let msg = each(&e);
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines.len(), 6, "{msg}");
        assert!(
            lines[0].starts_with("r.txt line 2: name \"bad/name\""),
            "{msg}"
        );
        assert_eq!(lines[1], "r.txt line 3: alice is already on line 1");
        assert!(lines[2].starts_with("r.txt line 4: "), "{msg}");
        assert!(lines[3].starts_with("r.txt line 5: name"), "{msg}");
        assert!(
            lines[4].starts_with("r.txt line 6: expected NAME RECIPIENT"),
            "{msg}"
        );
        assert_eq!(lines[5], "r.txt line 7: dave is refused");
    }

    #[test]
    fn names() {
        for ok in ["a", "A-z_0.9+=,@", &"n".repeat(32)] {
            assert!(name_ok(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "ü",
            &"n".repeat(33),
            "a:b",
            "{name}",
            ".",
            "..",
            ".hidden",
            "-rf",
            "--force",
        ] {
            assert!(!name_ok(bad), "{bad}");
        }
        assert!(parse("# nobody\n", "r", &none)
            .unwrap_err()
            .to_string()
            .contains("lists nobody"));
    }

    #[test]
    fn hidden_option_like_and_case_twins_are_refused_a_bom_is_not() {
        let text = format!(
            "\u{feff}alice {ALICE}\n. {ALICE}\n.. {ALICE}\n-rf {ALICE}\n--force {ALICE}\nAlice {ALICE}\nbob {ALICE} {ALICE}\n"
        );
        let msg = each(&parse(&text, "r", &none).unwrap_err());
        let lines: Vec<&str> = msg.lines().collect();
        assert_eq!(lines.len(), 6, "{msg}");
        for (i, n) in ["\".\"", "\"..\"", "\"-rf\"", "\"--force\""]
            .iter()
            .enumerate()
        {
            assert!(
                lines[i].starts_with(&format!("r line {}: name {n}", i + 2))
                    && lines[i].ends_with("not starting with . or -"),
                "{msg}"
            );
        }
        assert_eq!(
            lines[4],
            "r line 6: Alice and alice (line 1) differ only in case; their files would be one on macOS and Windows"
        );
        assert!(
            lines[5].starts_with("r line 7: 2 recipients (age1ql3z7hjy54pw…, age1ql3z7hjy54pw…)"),
            "{msg}"
        );
        // the BOM is not part of the first name
        let people = parse(&format!("\u{feff}alice {ALICE}\n"), "r", &none).unwrap();
        assert_eq!(people[0].name, "alice");
        // an SSH key's comment is not a second recipient
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB/VZ3Kyxxxx alice@ssh-host";
        let e = parse(&format!("alice {ssh}\n"), "r", &none)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("recipients ("), "{e}");
    }
}
