//! Updating one profile of the AWS shared credentials file, and its region
//! in the config file, as botocore reads them, leaving every other line as
//! it was.

use std::path::Path;

use zeroize::Zeroizing;

use crate::credentials::Token;
use crate::documents::ini::{self, Ini, LineKind};
use crate::documents::{render, OutputFormat};
use crate::files::{lock_beside, write_file, write_file_keeping_mode, Overwrite};
use crate::{Error, Result};

/// The comment that marks a profile as handoff's: a section holding a line
/// that starts with it (`# handoff: expires ...` included, which handoff
/// wrote before the marker) is replaced without `--force`.
pub const MARKER: &str = "# handoff:";

const NOT_WRITING: &str = "not writing a profile into it";

/// The line handoff writes under the header of a profile it writes.
const MARKER_LINE: &str =
    "# handoff: written by handoff open --write-profile; replaced without asking";

/// Puts the token's credentials into profile `name` of the credentials file
/// at `path`, leaving every other line, comment and profile byte for byte as
/// it was; returns whether the profile was there before. Concurrent writers
/// are serialised by a lock file beside it (`PATH.lock`, never followed if it
/// is a symlink), waited for at most [`LOCK_WAIT`](crate::files::LOCK_WAIT).
///
/// An existing profile is replaced only when handoff wrote it (it holds a
/// [`MARKER`] comment) or with `force`; otherwise the error names it. The
/// file is read as botocore reads it ([`crate::documents::ini`]): a file botocore
/// refuses is refused, naming the line, and left alone (except a UTF-8 byte
/// order mark, which botocore cannot read past: it is dropped). The new
/// section uses the file's line breaks (LF, CR or CRLF).
///
/// Anything but a regular file (a FIFO, a device) is refused before a byte
/// is read. A credentials file that is a symlink is written through (the
/// link is kept); an existing file keeps its owner and mode unless group or
/// others could read it (then it becomes 0600).
pub fn write_profile(path: &Path, name: &str, token: &Token, force: bool) -> Result<bool> {
    check_name(name)?;
    ini::check_regular(path, NOT_WRITING)?;
    let lock = lock_beside(path)?;
    let existing = read(path)?;
    let text = existing.strip_prefix('\u{feff}').unwrap_or(&existing);
    let parsed = ini::parse(text).map_err(|e| ini::refused(path, &e))?;
    let br = ini::line_break(text);
    let found = parsed.section(name).map(|s| s.header_line());
    if let Some(header) = found {
        let (start, end) = extent(&parsed, header);
        let ours = parsed.lines()[start..end].iter().any(|l| {
            l.kind == LineKind::Comment
                && text[l.start..l.text_end].trim_start().starts_with(MARKER)
        });
        if !ours && !force {
            return Err(Error::new(
                crate::ErrorKind::Exists {
                    path: path.to_path_buf(),
                },
                format!(
                    "profile [{name}] in {} was not written by handoff",
                    path.display()
                ),
            ));
        }
    }
    let rendered = render(token, OutputFormat::Ini, name)?;
    // the header, the marker, then the rest, in the file's line breaks
    let mut section = Zeroizing::new(String::with_capacity(
        (rendered.len() + MARKER_LINE.len() + 2) * 2,
    ));
    for (i, line) in rendered.lines().enumerate() {
        section.push_str(line);
        section.push_str(br);
        if i == 0 {
            section.push_str(MARKER_LINE);
            section.push_str(br);
        }
    }
    let updated = match found {
        Some(header) => {
            let (start, end) = extent(&parsed, header);
            splice(text, &parsed, start, end, &section)
        }
        None => append(text, br, &section),
    };
    check_result(&updated, |ini| ini.section(name).is_some())?;
    let result = write_file(path, updated.as_bytes(), Overwrite::Replace, true);
    drop(lock);
    result.map(|()| found.is_some())
}

/// Sets `region` for profile `name` in the AWS config file at `path`, when
/// that profile has none there: a `region = ...` line at the end of its
/// section, else a new `[profile NAME]` section (`[default]` for
/// `default`). Returns whether it wrote. The same rules as
/// [`write_profile`]: locked, atomic, owner kept, symlinks written through,
/// a file botocore refuses or anything but a regular file refused, every
/// other line kept byte for byte; the mode is kept whatever it is (the file
/// holds no secret: 0644 stays 0644), a new file is 0600.
pub fn set_region(path: &Path, name: &str, region: &str) -> Result<bool> {
    check_name(name)?;
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::other(format!("{region:?} is not a region name")));
    }
    ini::check_regular(path, NOT_WRITING)?;
    let lock = lock_beside(path)?;
    let existing = read(path)?;
    let text = existing.strip_prefix('\u{feff}').unwrap_or(&existing);
    let parsed = ini::parse(text).map_err(|e| ini::refused(path, &e))?;
    let br = ini::line_break(text);
    let updated = match parsed.config_profile(name) {
        Some(s) if s.has("region") => return Ok(false),
        Some(s) => {
            let (start, end) = extent(&parsed, s.header_line());
            // after the section's last header, key or continuation line,
            // indented as its last key (so that it continues nothing, and
            // what follows reads as before)
            let body = &parsed.lines()[start..end];
            let last = body
                .iter()
                .rposition(|l| l.kind != LineKind::Blank && l.kind != LineKind::Comment)
                .map_or(start, |i| start + i);
            let indent = body
                .iter()
                .rev()
                .find(|l| matches!(l.kind, LineKind::Key | LineKind::Header))
                .map_or(0, |l| l.indent);
            let at = parsed.lines()[last].end;
            let mut out = Zeroizing::new(String::with_capacity(text.len() + region.len() + 64));
            out.push_str(&text[..at]);
            if !(text[..at].ends_with('\n') || text[..at].ends_with('\r')) {
                out.push_str(br);
            }
            out.push_str(&" ".repeat(indent));
            out.push_str("region = ");
            out.push_str(region);
            out.push_str(br);
            out.push_str(&text[at..]);
            out
        }
        None => {
            let header = config_header(name)?;
            let section = format!("[{header}]{br}region = {region}{br}");
            append(text, br, &section)
        }
    };
    check_result(&updated, |ini| {
        ini.config_profile(name).and_then(|s| s.get("region")) == Some(region)
    })?;
    // the config file holds no secret: its mode is kept as it is
    let result = write_file_keeping_mode(path, updated.as_bytes());
    drop(lock);
    result.map(|()| true)
}

/// Checks, without writing, that [`set_region`] can read the config file at
/// `path` (missing is fine): so that a config file botocore refuses, or one
/// that is not a regular file, stops `--write-profile` before the
/// credentials file is touched.
pub fn check_config(path: &Path) -> Result<()> {
    ini::check_regular(path, NOT_WRITING)?;
    let text = read(path)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    ini::parse(text).map_err(|e| ini::refused(path, &e))?;
    Ok(())
}

/// The config-file header of profile `name`: `default`, `profile NAME`, or
/// `profile "NAME"` when the name holds what `shlex.split` would split.
fn config_header(name: &str) -> Result<String> {
    if name == "default" {
        return Ok(name.to_string());
    }
    let plain = format!("profile {name}");
    if ini::config_profile_name(&plain).as_deref() == Some(name) {
        return Ok(plain);
    }
    let quoted = format!(
        "profile \"{}\"",
        name.replace('\\', "\\\\").replace('"', "\\\"")
    );
    if ini::config_profile_name(&quoted).as_deref() == Some(name) {
        return Ok(quoted);
    }
    Err(Error::other(format!(
        "profile {name:?} cannot be named in the AWS config file"
    )))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(['[', ']', '\n', '\r']) || name.trim() != name {
        return Err(Error::usage(format!(
            "{name:?} is not a usable profile name"
        )));
    }
    Ok(())
}

/// The file's text, empty when there is none; anything but a regular file is
/// refused before a byte is read.
fn read(path: &Path) -> Result<Zeroizing<String>> {
    Ok(ini::read_file_as(path, NOT_WRITING)?.unwrap_or_else(|| Zeroizing::new(String::new())))
}

/// A last check of what is about to be written: botocore reads it, and
/// finds what was written.
fn check_result(text: &str, found: impl Fn(&Ini) -> bool) -> Result<()> {
    match ini::parse(text) {
        Ok(ini) if found(&ini) => Ok(()),
        _ => Err(Error::other(
            "the profile could not be written without changing how the rest of the file reads; nothing was written",
        )),
    }
}

/// The lines of the section whose header is line `header`: to the next
/// header, less the blank and comment lines just before that header (they
/// belong to what follows); at the end of the text, all of them.
fn extent(parsed: &Ini, header: usize) -> (usize, usize) {
    let lines = parsed.lines();
    let next = (header + 1..lines.len()).find(|&i| lines[i].kind == LineKind::Header);
    let mut end = next.unwrap_or(lines.len());
    if next.is_some() {
        // never past the header: a header is neither blank nor a comment
        while matches!(lines[end - 1].kind, LineKind::Blank | LineKind::Comment) {
            end -= 1;
        }
    }
    (header, end)
}

/// `text` with lines `start..end` replaced by `section`.
fn splice(text: &str, parsed: &Ini, start: usize, end: usize, section: &str) -> Zeroizing<String> {
    let lines = parsed.lines();
    let (from, to) = (lines[start].start, lines[end - 1].end);
    let mut out = Zeroizing::new(String::with_capacity(text.len() + section.len()));
    out.push_str(&text[..from]);
    out.push_str(section);
    out.push_str(&text[to..]);
    out
}

/// `text` and then `section`, one blank line between.
fn append(text: &str, br: &str, section: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() + section.len() + 8));
    out.push_str(text);
    if !text.is_empty() {
        if !(text.ends_with('\n') || text.ends_with('\r')) {
            out.push_str(br);
        }
        if !out.ends_with(&format!("{br}{br}")) {
            out.push_str(br);
        }
    }
    out.push_str(section);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    const FILE: &str = "# my credentials\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = d\n\n# the work account\n[work] \naws_access_key_id = OLD\n; old comment\naws_secret_access_key = old\n\n; trailing comment\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = o";

    fn token() -> Token {
        Token::new(
            crate::Kind::Static,
            crate::Credentials::new("AKIANEW", "s".to_string().into(), None, None),
        )
    }

    fn write(text: &str, name: &str, force: bool) -> Result<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        fs::write(&path, text).unwrap();
        write_profile(&path, name, &token(), force)?;
        Ok(fs::read_to_string(&path).unwrap())
    }

    fn ours(name: &str) -> String {
        format!("[{name}]\n{MARKER_LINE}\naws_access_key_id = AKIANEW\naws_secret_access_key = s\n")
    }

    #[test]
    fn replaces_only_its_section_and_only_when_asked() {
        let e = write(FILE, "work", false).unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::Exists { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("profile [work] in ")
                && e.to_string().ends_with("was not written by handoff"),
            "{e}"
        );
        let out = write(FILE, "work", true).unwrap();
        let want = FILE.replace(
            "[work] \naws_access_key_id = OLD\n; old comment\naws_secret_access_key = old\n",
            &ours("work"),
        );
        assert_eq!(out, want);
        // what handoff wrote, it replaces without asking
        let again = write(&out, "work", false).unwrap();
        assert_eq!(again, want);
        // and a section written before the marker, by its expiry comment
        let old = "[work]\n# handoff: expires 2030-01-01T00:00:00Z\naws_access_key_id = A\n";
        assert_eq!(write(old, "work", false).unwrap(), ours("work"));
        // a marker in another section does not count
        let other = "[a]\n# handoff: expires x\n[work]\nk = 1\n";
        assert!(write(other, "work", false).is_err());
        let out = write(FILE, "other", true).unwrap();
        assert!(out.starts_with(&FILE[..FILE.find("[other]").unwrap()]));
        assert!(out.ends_with(&ours("other")));
    }

    #[test]
    fn appends_a_new_section() {
        assert_eq!(
            write(FILE, "new", false).unwrap(),
            format!("{FILE}\n\n{}", ours("new"))
        );
        assert_eq!(write("", "new", false).unwrap(), ours("new"));
        for (text, want) in [
            ("[a]\nx = 1", "[a]\nx = 1\n\n"),
            ("[a]\nx = 1\n", "[a]\nx = 1\n\n"),
            ("[a]\nx = 1\n\n", "[a]\nx = 1\n\n"),
        ] {
            assert_eq!(
                write(text, "new", false).unwrap(),
                format!("{want}{}", ours("new"))
            );
        }
    }

    #[test]
    fn the_file_keeps_its_line_breaks() {
        for br in ["\r", "\r\n", "\n"] {
            let text = format!("[default]{br}aws_access_key_id = A{br}[work]{br}{MARKER_LINE}{br}aws_access_key_id = B{br}");
            let out = write(&text, "work", false).unwrap();
            assert_eq!(
                out,
                format!(
                    "[default]{br}aws_access_key_id = A{br}{}",
                    ours("work").replace('\n', br)
                )
            );
            let out = write(&text, "new", false).unwrap();
            assert!(out.starts_with(&text), "{br:?}");
            assert_eq!(out.matches("[work]").count(), 1, "{br:?}");
            assert!(out.ends_with(&format!("{br}{br}{}", ours("new").replace('\n', br))));
        }
    }

    #[test]
    fn headers_as_botocore_reads_them() {
        // an inline comment after the header; an indented bracket line that
        // continues a value is no header
        let text = "[default]\nx = 1\n  [work]\n[work] ; mine\naws_access_key_id = OLD\n\n[other]\ny = 2\n";
        let out = write(text, "work", true).unwrap();
        assert_eq!(
            out,
            format!(
                "[default]\nx = 1\n  [work]\n{}\n[other]\ny = 2\n",
                ours("work")
            )
        );
        // "[ work ]" is profile " work " to botocore, not "work"
        let out = write("[ work ]\nx = 1\n", "work", false).unwrap();
        assert_eq!(out, format!("[ work ]\nx = 1\n\n{}", ours("work")));
        // a file botocore refuses is left alone, naming the line
        for (bad, line) in [
            ("[work]\nk = 1\n[a]\n[work]\n", 4),
            ("[a]\njunk\n", 2),
            ("k = 1\n", 1),
        ] {
            let e = write(bad, "work", true).unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("credentials line {line}: ")),
                "{e}"
            );
        }
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
        assert!(write_profile(&link, "work", &token(), true).unwrap());
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), ours("work"));
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o400);
        // a group-readable file is narrowed to 0600, never kept wide
        fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
        write_profile(&link, "work", &token(), false).unwrap();
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(real.parent().unwrap()).unwrap().count(), 1);
        // the owner is kept: another user's (root), or another of the
        // writer's groups (anyone else)
        let (user, group) = crate::files::other_owner_for_tests();
        std::os::unix::fs::chown(&real, Some(user), Some(group)).unwrap();
        write_profile(&link, "work", &token(), false).unwrap();
        let after = fs::metadata(&real).unwrap();
        assert_eq!((after.uid(), after.gid()), (user, group));
    }

    #[test]
    fn profile_names_and_files_that_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        for bad in ["", "a]b", "[a", "a\nb", "a\rb", " a", "a "] {
            let e = write_profile(&path, bad, &token(), true).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument, "{bad:?}");
            assert_eq!(
                e.to_string(),
                format!("{bad:?} is not a usable profile name")
            );
        }
        assert!(!path.exists());
        // not a regular file: refused before anything is read (/dev/zero
        // never ends, a FIFO would block)
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for p in [
            Path::new("/dev/null"),
            Path::new("/dev/zero"),
            &fifo,
            dir.path(),
        ] {
            let e = write_profile(p, "work", &token(), true).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{} is not a regular file; not writing a profile into it",
                    p.display()
                )
            );
            let e = set_region(p, "work", "eu-west-1").unwrap_err();
            assert!(e.to_string().contains("is not a regular file"), "{e}");
        }
        fs::write(&path, b"[work]\nx = \xff\n").unwrap();
        let e = write_profile(&path, "work", &token(), true).unwrap_err();
        assert!(e.to_string().contains("is not UTF-8 text"), "{e}");
    }

    #[test]
    fn appending_keeps_comments_with_what_they_precede() {
        let text = format!("[new]\n{MARKER_LINE}\nx = 1\n# inside\ny = 2\n\n# next\n[b]\n");
        assert_eq!(
            write(&text, "new", false).unwrap(),
            format!("{}\n# next\n[b]\n", ours("new"))
        );
        // at the end of the file, trailing comments are the section's
        let text = format!("[b]\n[new]\n{MARKER_LINE}\nx = 1\n# c\n\n");
        assert_eq!(
            write(&text, "new", false).unwrap(),
            format!("[b]\n{}", ours("new"))
        );
    }

    fn region(text: &str, name: &str) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        if !text.is_empty() {
            fs::write(&path, text).unwrap();
        }
        let wrote = set_region(&path, name, "eu-west-1").unwrap();
        (wrote, fs::read_to_string(&path).unwrap_or_default())
    }

    #[test]
    fn regions_are_added_only_where_missing() {
        assert_eq!(
            region("", "c"),
            (true, "[profile c]\nregion = eu-west-1\n".into())
        );
        assert_eq!(
            region("", "default"),
            (true, "[default]\nregion = eu-west-1\n".into())
        );
        assert_eq!(
            region("[profile a]\noutput = json", "my c"),
            (
                true,
                "[profile a]\noutput = json\n\n[profile \"my c\"]\nregion = eu-west-1\n".into()
            )
        );
        let has = "[profile c]\nregion = us-west-2\n";
        assert_eq!(region(has, "c"), (false, has.into()));
        let inherited = "[DEFAULT]\nregion = us-west-2\n[profile c]\n";
        assert_eq!(region(inherited, "c"), (false, inherited.into()));
        // into the profile's own section, after its last key, indented as
        // it is; comments before the next header stay where they are
        assert_eq!(
            region("[profile c]\r\n    output = json\r\n    s3 =\r\n      x = 1\r\n\r\n# b\r\n  [b]\r\n", "c").1,
            "[profile c]\r\n    output = json\r\n    s3 =\r\n      x = 1\r\n    region = eu-west-1\r\n\r\n# b\r\n  [b]\r\n"
        );
        assert_eq!(
            region("[default]\routput = json", "default").1,
            "[default]\routput = json\rregion = eu-west-1\r"
        );
        // the later of [default] and [profile default], as botocore
        assert_eq!(
            region(
                "[default]\nregion = x\n[profile default]\noutput = json\n",
                "default"
            )
            .1,
            "[default]\nregion = x\n[profile default]\noutput = json\nregion = eu-west-1\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "[profile c]\n[profile c]\n").unwrap();
        let e = set_region(&path, "c", "eu-west-1").unwrap_err();
        assert!(e.to_string().contains("config line 2: "), "{e}");
        assert_eq!(e.kind(), &crate::ErrorKind::Document { line: Some(2) });
        let e = set_region(&path, "c", "eu-west-1\n[x]").unwrap_err();
        assert!(e.to_string().contains("not a region name"), "{e}");
    }

    #[test]
    fn the_config_file_keeps_its_mode_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/aws-config");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "[profile a]\noutput = json\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(set_region(&link, "c", "eu-west-1").unwrap());
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o644);
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "[profile a]\noutput = json\n\n[profile c]\nregion = eu-west-1\n"
        );
        assert_eq!(fs::read_dir(real.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn the_lock_path_is_the_bytes_of_the_path_and_not_followed() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        let path = odd.join("credentials");
        write_profile(&path, "work", &token(), false).unwrap();
        assert!(odd.join("credentials.lock").exists());
        let other = dir.path().join("c");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("c.lock"))
            .unwrap();
        let e = write_profile(&other, "work", &token(), false).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(!dir.path().join("elsewhere").exists());
    }
}
