//! Updating one profile of the AWS shared credentials file, as botocore
//! reads it, leaving every other line as it was.

use std::fs;
use std::path::Path;

use zeroize::Zeroizing;

use crate::credentials::Token;
use crate::documents::{render, OutputFormat};
use crate::files::{lock_beside, target, write_file, Overwrite, Target};
use crate::{Error, Result};

/// Puts the token's credentials into profile `name` of the credentials file
/// at `path`, leaving every other line, comment and profile byte for byte as
/// it was. Concurrent writers are serialised by a lock file beside it
/// (`PATH.lock`, never followed if it is a symlink), waited for at most
/// [`LOCK_WAIT`](crate::files::LOCK_WAIT).
///
/// A credentials file that is a symlink is written through (the link is
/// kept); an existing file keeps its owner and mode unless group or others
/// could read it (then it becomes 0600). Headers are recognised as botocore
/// reads them: `[work] ; note` is profile `work`, an indented line after a
/// value continues the value. Every section named `name` is replaced by one
/// (two of them make botocore refuse the whole file), and a UTF-8 byte order
/// mark, which botocore cannot read past, is dropped.
pub fn write_profile(path: &Path, name: &str, token: &Token) -> Result<()> {
    if name.is_empty() || name.contains(['[', ']', '\n', '\r']) || name.trim() != name {
        return Err(Error::usage(format!(
            "{name:?} is not a usable profile name"
        )));
    }
    let lock = lock_beside(path)?;
    let existing = match target(path)? {
        Target::Into(_) => {
            return Err(Error::Other(format!(
                "{} is not a regular file; not writing a profile into it",
                path.display()
            )))
        }
        Target::Missing => Zeroizing::new(Vec::new()),
        Target::File(..) => {
            Zeroizing::new(fs::read(path).map_err(|e| Error::io("cannot read", path, e))?)
        }
    };
    let existing = std::str::from_utf8(&existing).map_err(|_| {
        Error::Other(format!(
            "{} is not UTF-8 text; not touching it",
            path.display()
        ))
    })?;
    let existing = existing.strip_prefix('\u{feff}').unwrap_or(existing);
    let section = render(token, OutputFormat::Ini, name)?;
    let updated = replace_section(existing, name, &section);
    let result = write_file(path, updated.as_bytes(), Overwrite::Replace, true);
    drop(lock);
    result
}

/// [`write_profile`], saying whether a profile `name` was there before
/// (replaced: true) or not (added: false).
pub fn set_profile(path: &Path, name: &str, token: &Token) -> Result<bool> {
    let replaced = has_profile(path, name)?;
    write_profile(path, name, token)?;
    Ok(replaced)
}

/// Whether the shared credentials file at `path` has a section `[name]`
/// (so that writing the profile replaces it), with headers recognised as
/// [`write_profile`] recognises them; false when there is no file.
pub fn has_profile(path: &Path, name: &str) -> Result<bool> {
    let text = match fs::read(path) {
        Ok(b) => Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("cannot read", path, e)),
    };
    // not UTF-8: write_profile refuses the file, saying so
    let text = std::str::from_utf8(&text).unwrap_or_default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_header = headers(&lines);
    Ok((0..lines.len()).any(|i| is_header[i] && section_name(lines[i]) == Some(name)))
}

/// The section a line opens, as botocore (Python's configparser) reads it:
/// the line, stripped, starts with `[` and has a `]` after; the name runs to
/// the last `]` and is not trimmed (`[work] ; note` is `work`).
fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    let rest = t.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    Some(&rest[..end]).filter(|n| !n.is_empty())
}

/// A line configparser passes over: blank, or a `#` or `;` comment.
fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#') || t.starts_with(';')
}

/// Which lines of an INI text open a section, as configparser sees them: a
/// bracketed line indented deeper than the value before it continues that
/// value instead.
fn headers(lines: &[&str]) -> Vec<bool> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut value_indent: Option<usize> = None;
    lines
        .iter()
        .map(|l| {
            if is_blank_or_comment(l) {
                return false;
            }
            if value_indent.is_some_and(|v| indent(l) > v) {
                return false;
            }
            if section_name(l).is_some() {
                value_indent = None;
                true
            } else {
                value_indent = Some(indent(l));
                false
            }
        })
        .collect()
}

/// Replaces section `[name]` of an INI text with `section` (which includes its
/// header), or appends it. The section runs from its header to the next
/// header, less any blank or comment lines just before that next header
/// (those belong to what follows). Later sections of the same name are
/// removed.
fn replace_section(text: &str, name: &str, section: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() + section.len() + 2));
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_header = headers(&lines);
    let ours = |i: usize| is_header[i] && section_name(lines[i]) == Some(name);
    let Some(first) = (0..lines.len()).find(|&i| ours(i)) else {
        out.push_str(text);
        if !text.is_empty() {
            if !text.ends_with('\n') {
                out.push('\n');
            }
            if !text.ends_with("\n\n") {
                out.push('\n');
            }
        }
        out.push_str(section);
        return out;
    };
    // Where the section starting at `start` ends.
    let end_of = |start: usize| {
        let mut end = (start + 1..lines.len())
            .find(|&i| is_header[i])
            .unwrap_or(lines.len());
        if end < lines.len() {
            // Never past `start`: a header is neither blank nor a comment.
            while is_blank_or_comment(lines[end - 1]) {
                end -= 1;
            }
        }
        end
    };
    let mut i = 0;
    while i < lines.len() {
        if ours(i) {
            if i == first {
                out.push_str(section);
            }
            i = end_of(i);
        } else {
            out.push_str(lines[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    const FILE: &str = "# my credentials\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n# the work account\n[work] \naws_access_key_id = OLD\n; old comment\naws_secret_access_key = old\n\n; trailing comment\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o";

    #[test]
    fn replaces_only_its_section() {
        let out = replace_section(FILE, "work", "[work]\naws_access_key_id = NEW\n");
        assert_eq!(
            *out,
            "# my credentials\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n# the work account\n[work]\naws_access_key_id = NEW\n\n; trailing comment\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o"
        );
        let out = replace_section(FILE, "other", "[other]\nx = 1\n");
        assert!(out.starts_with(&FILE[..FILE.find("[other]").unwrap()]));
        assert!(out.ends_with("[other]\nx = 1\n"));
    }

    #[test]
    fn appends_a_new_section() {
        let out = replace_section(FILE, "new", "[new]\nx = 1\n");
        assert_eq!(*out, format!("{FILE}\n\n[new]\nx = 1\n"));
        assert_eq!(*replace_section("", "new", "[new]\n"), "[new]\n");
        assert_eq!(
            *replace_section("[a]\n\n", "new", "[new]\n"),
            "[a]\n\n[new]\n"
        );
    }

    #[test]
    fn headers_as_botocore_reads_them() {
        // an inline comment after the header, two sections of one name, an
        // indented bracket line that continues a value
        let text = "[default]\nx = 1\n  [work]\n[work] ; mine\naws_access_key_id = OLD\n\n[other]\ny = 2\n[work]\naws_access_key_id = OLDER\n";
        let out = replace_section(text, "work", "[work]\naws_access_key_id = NEW\n");
        assert_eq!(
            *out,
            "[default]\nx = 1\n  [work]\n[work]\naws_access_key_id = NEW\n\n[other]\ny = 2\n"
        );
        // "[ work ]" is profile " work " to botocore, not "work"
        let out = replace_section("[ work ]\nx = 1\n", "work", "[work]\n");
        assert_eq!(*out, "[ work ]\nx = 1\n\n[work]\n");
    }

    fn token() -> Token {
        Token::new(
            crate::Kind::Static,
            crate::Credentials::new("AKIANEW", "s".to_string().into(), None, None),
        )
    }

    #[test]
    fn profiles_are_written_through_symlinks_keeping_mode_and_dropping_a_bom() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/credentials");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "\u{feff}[work]\naws_access_key_id = OLD\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o400)).unwrap();
        let link = dir.path().join("credentials");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_profile(&link, "work", &token()).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let text = fs::read_to_string(&real).unwrap();
        assert!(
            text.starts_with("[work]\n") && text.contains("AKIANEW"),
            "{text}"
        );
        assert_eq!(text.matches("[work]").count(), 1, "{text}");
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o400);
        // a group-readable file is narrowed to 0600, never kept wide
        fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
        write_profile(&link, "work", &token()).unwrap();
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(real.parent().unwrap()).unwrap().count(), 1);
        // the owner is kept: root can give the new file to the old owner
        // (anyone else writes only files that are theirs already)
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&real, Some(65534), Some(65534)).unwrap();
        }
        let before = fs::metadata(&real).unwrap();
        write_profile(&link, "work", &token()).unwrap();
        let after = fs::metadata(&real).unwrap();
        assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    }

    #[test]
    fn profile_names_and_files_that_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        for bad in ["", "a]b", "[a", "a\nb", "a\rb", " a", "a "] {
            let e = write_profile(&path, bad, &token()).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            assert_eq!(
                e.to_string(),
                format!("{bad:?} is not a usable profile name")
            );
        }
        assert!(!path.exists());
        let e = write_profile(Path::new("/dev/null"), "work", &token()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/dev/null is not a regular file; not writing a profile into it"
        );
        fs::write(&path, b"[work]\nx = \xff\n").unwrap();
        let e = write_profile(&path, "work", &token()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("is not UTF-8 text; not touching it"),
            "{e}"
        );
        assert!(!has_profile(&path, "other").unwrap());
    }

    #[test]
    fn set_profile_says_whether_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        assert!(!has_profile(&path, "work").unwrap());
        assert!(!set_profile(&path, "work", &token()).unwrap());
        assert!(has_profile(&path, "work").unwrap());
        assert!(!has_profile(&path, "other").unwrap());
        assert!(set_profile(&path, "work", &token()).unwrap());
        assert!(!set_profile(&path, "other", &token()).unwrap());
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("AKIANEW").count(), 2, "{text}");
        // headers as write_profile sees them: a BOM, an inline comment, a
        // commented-out or indented bracket line
        fs::write(&path, "\u{feff}[a] ; note\nx = 1\n").unwrap();
        assert!(has_profile(&path, "a").unwrap());
        fs::write(&path, "#[a]\n;[a]\n[b]\nx = 1\n  [a]\n").unwrap();
        assert!(!has_profile(&path, "a").unwrap());
        assert!(has_profile(&path, "b").unwrap());
        let e = has_profile(dir.path(), "a").unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn section_names_and_headers() {
        assert_eq!(section_name("[a]\n"), Some("a"));
        assert_eq!(section_name("  [a] ; c\n"), Some("a"));
        assert_eq!(section_name("[a]]\n"), Some("a]"));
        assert_eq!(section_name("[]\n"), None);
        assert_eq!(section_name("[a\n"), None);
        assert_eq!(section_name("a]\n"), None);
        let lines = [
            "[a]\n",
            "x = 1\n",
            "  [b]\n",
            "\n",
            "# [c]\n",
            "; [c]\n",
            "[d]\n",
            "  y = 2\n",
            "  [e]\n",
            "    [f]\n",
        ];
        assert_eq!(
            headers(&lines),
            [true, false, false, false, false, false, true, false, true, true]
        );
        // comments and blank lines leave the value they follow open
        for comment in ["# c\n", "; c\n", "\n"] {
            assert_eq!(
                headers(&["[a]\n", comment, "  [b]\n"]),
                [true, false, true],
                "{comment:?}"
            );
            assert_eq!(
                headers(&["[a]\n", "x = 1\n", comment, "  [b]\n"]),
                [true, false, false, false],
                "{comment:?}"
            );
        }
    }

    #[test]
    fn appending_keeps_one_blank_line_between_sections() {
        for (text, want) in [
            ("[a]\nx = 1", "[a]\nx = 1\n\n[new]\n"),
            ("[a]\nx = 1\n", "[a]\nx = 1\n\n[new]\n"),
            ("[a]\nx = 1\n\n", "[a]\nx = 1\n\n[new]\n"),
        ] {
            assert_eq!(*replace_section(text, "new", "[new]\n"), want, "{text:?}");
        }
        // comments and blank lines before the next header stay with it;
        // those inside the section go with it
        let text = "[new]\nx = 1\n# inside\ny = 2\n\n# next\n[b]\n";
        assert_eq!(
            *replace_section(text, "new", "[new]\nz = 3\n"),
            "[new]\nz = 3\n\n# next\n[b]\n"
        );
        // at the end of the file, trailing comments are the section's
        assert_eq!(
            *replace_section("[b]\n[new]\nx = 1\n# c\n\n", "new", "[new]\nz = 3\n"),
            "[b]\n[new]\nz = 3\n"
        );
        // a section of only a header and comments, before another
        assert_eq!(
            *replace_section("[new]\n# c\n[b]\n", "new", "[new]\n"),
            "[new]\n# c\n[b]\n"
        );
        assert_eq!(
            *replace_section("[b]\n[new]\n", "new", "[new]\nz = 3\n"),
            "[b]\n[new]\nz = 3\n"
        );
    }

    #[test]
    fn the_lock_path_is_the_bytes_of_the_path_and_not_followed() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        let path = odd.join("credentials");
        write_profile(&path, "work", &token()).unwrap();
        assert!(odd.join("credentials.lock").exists());
        let other = dir.path().join("c");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("c.lock"))
            .unwrap();
        let e = write_profile(&other, "work", &token()).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(!dir.path().join("elsewhere").exists());
    }
}
