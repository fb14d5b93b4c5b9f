//! Recipients files as age reads them (`age -R FILE`): one recipient a line,
//! `#` comments and blank lines skipped, CRLF or LF line ends, a last line
//! with or without its line break; `-` is standard input. A valid SSH public
//! key of a type age cannot encrypt to (`ecdsa-sha2-*`, `sk-ssh-ed25519@...`,
//! `sk-ecdsa-*`) is skipped with a warning naming the file and line, as Go
//! age does, so a GitHub `https://github.com/USER.keys` file saved as it is
//! works; the file fails only when no recipient is left. Any other line that
//! is not a recipient fails the whole file.

use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::{Error, Result};

/// Lines longer than this are refused (sshd's limit, and Go age's).
const MAX_LINE: usize = 8 << 10;

/// A file larger than this is refused.
const MAX_FILE: u64 = 1 << 20;

/// What a recipients file holds: the recipient lines with their line numbers,
/// and one warning per line skipped.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) recipients: Vec<(usize, String)>,
    pub(crate) warnings: Vec<String>,
}

/// Reads the recipients file `path` (`-`: standard input).
pub(crate) fn read(path: &Path) -> Result<Listing> {
    let name = path.display().to_string();
    let text = if path == Path::new("-") {
        read_bounded(std::io::stdin().lock(), "standard input")?
    } else {
        let f = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
        if f.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(Error::usage(format!(
                "recipients file {name} is a directory"
            )));
        }
        read_bounded(f, &name)?
    };
    parse(&text, &name)
}

fn read_bounded(mut r: impl Read, name: &str) -> Result<Zeroizing<String>> {
    let bytes = crate::files::read_capped(&mut r, MAX_FILE as usize, None)
        .map_err(|e| {
            let message = format!("cannot read recipients file {name}: {e}");
            Error::new(crate::ErrorKind::Io { path: name.into() }, message).with_source(e)
        })?
        .ok_or_else(|| Error::usage(format!("recipients file {name} is too large")))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::usage(format!("recipients file {name} is not UTF-8 text")))?;
    Ok(Zeroizing::new(text.to_string()))
}

/// Splits a recipients file into recipient lines and skipped-line warnings.
pub(crate) fn parse(text: &str, name: &str) -> Result<Listing> {
    let mut listing = Listing::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.len() > MAX_LINE {
            return Err(Error::usage(format!(
                "recipients file {name} line {n} is too long"
            )));
        }
        // a key age would panic on is left for the recipient parser to refuse
        let unsupported = match crate::seal::ssh_wire::check_public_line(line) {
            Ok(()) => match age::ssh::Recipient::from_str(line) {
                // age says the same of a key of a type it reads whose data
                // is malformed: that is refused, not skipped
                Err(age::ssh::ParseRecipientKeyError::Unsupported(kind))
                    if kind != "ssh-ed25519" && kind != "ssh-rsa" =>
                {
                    Some(kind)
                }
                _ => None,
            },
            Err(_) => None,
        };
        if let Some(kind) = unsupported {
            listing.warnings.push(format!(
                "recipients file {name} line {n}: skipping an SSH key of type {kind:?}, which age cannot encrypt to"
            ));
            continue;
        }
        listing.recipients.push((n, line.to_string()));
    }
    if listing.recipients.is_empty() {
        return Err(Error::usage(format!(
            "recipients file {name} lists no recipients{}",
            if listing.warnings.is_empty() {
                ""
            } else {
                " handoff can seal to (only SSH keys of unsupported types)"
            }
        )));
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHFliOyIZs1gxGF3fmDxFykQhE88wy6AKDGFBfn0R6ZuvRmENABZQa9+pj9hMki+LX0qDJbmHTiWDbYv/cmFt/Q=";
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN";

    #[test]
    fn github_keys_file_as_saved() {
        // no comments, CRLF, no final line break
        let text = format!("{ED25519}\r\n{ECDSA}\r\n{ED25519}");
        let l = parse(&text, "u.keys").unwrap();
        assert_eq!(
            l.recipients.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(l.recipients[1].1, ED25519);
        assert_eq!(
            l.warnings,
            ["recipients file u.keys line 2: skipping an SSH key of type \"ecdsa-sha2-nistp256\", which age cannot encrypt to"]
        );
    }

    #[test]
    fn malformed_keys_of_types_age_reads_are_kept_to_be_refused_not_skipped() {
        // an ed25519 key whose point is not one; an RSA key with an exponent
        // of zero bytes only (on which the age crate panics): Go age refuses
        // both ("malformed SSH recipient"), and so does handoff, later
        for bad in [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPV0l3dJDSF2xNDFhm/RUdQoAuDptkI6fMC5g5CMyKUI alice",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAAAAAAAAAX8= zero",
        ] {
            let l = parse(&format!("{ED25519}\n{bad}\n"), "u.keys").unwrap();
            assert_eq!(l.recipients.len(), 2, "{bad}");
            assert!(l.warnings.is_empty(), "{bad}");
            let e = crate::Recipients::new()
                .add_text(&format!("{ED25519}\n{bad}\n"), "u.keys")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("u.keys line 2: invalid SSH recipient"), "{e}");
        }
    }

    #[test]
    fn the_fixture_seals_to_its_ed25519_and_age_keys() {
        let text = include_str!("../../fixtures/recipients/github.keys");
        let mut r = crate::Recipients::new();
        let warnings = r.add_text(text, "github.keys").unwrap();
        assert_eq!(r.names().len(), 2, "{:?}", r.names());
        assert!(warnings[0].contains("line 2") && warnings[0].contains("ecdsa-sha2-nistp256"));
        assert!(
            warnings[1].contains("line 3") && warnings[1].contains("sk-ssh-ed25519@openssh.com")
        );
    }

    #[test]
    fn nothing_left_fails() {
        let e = parse(&format!("# only\n{ECDSA}\n"), "k").unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("lists no recipients"), "{e}");
        assert!(parse("\n# x\n", "k").is_err());
    }

    #[test]
    fn a_broken_key_of_an_unsupported_type_is_not_skipped() {
        // the type named does not match the key inside: not a valid key, so
        // it is passed on (and refused) rather than skipped
        let bad = "ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN";
        let l = parse(&format!("{ED25519}\n{bad}\n"), "k").unwrap();
        assert_eq!(l.recipients.len(), 2);
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn lines_up_to_the_limit() {
        let at = "x".repeat(MAX_LINE);
        assert_eq!(parse(&at, "f").unwrap().recipients, [(1, at.clone())]);
        for over in [MAX_LINE + 1, MAX_LINE + 2] {
            let e = parse(&format!("# c\n{}", "x".repeat(over)), "f").unwrap_err();
            assert_eq!(e.to_string(), "recipients file f line 2 is too long");
        }
    }
}
