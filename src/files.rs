//! Writing files that hold keys or secrets: mode 0600, atomically (a temp
//! file in the same directory, fsync, rename), never replacing a file unless
//! asked to; and updating one profile of the shared credentials file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credentials::Token;
use crate::documents::{render, OutputFormat};
use crate::{Error, Result};

/// Whether an existing file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse to replace an existing file.
    Refuse,
    /// Replace it (atomically).
    Replace,
}

/// Refuses early when `path` exists and may not be replaced, so no work is
/// wasted (an STS call, a key generated) before the final write would fail.
pub fn check_writable(path: &Path, overwrite: Overwrite) -> Result<()> {
    if overwrite == Overwrite::Refuse && fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    Ok(())
}

fn exists(path: &Path) -> Error {
    Error::Other(format!(
        "{} already exists; --force replaces it",
        path.display()
    ))
}

/// Writes `bytes` to `path` with mode 0600: a temp file in the same directory,
/// fsync, then a rename (or, with [`Overwrite::Refuse`], a link that fails if
/// `path` exists). A crash at any point leaves either the old file or the new
/// one, never a mix. Missing parent directories are created with mode 0700.
pub fn write_private(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".handoff-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(|e| Error::io("cannot create a temporary file in", &dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io("cannot write", tmp.path(), e))?;
    fail_point("before-rename");
    match overwrite {
        Overwrite::Replace => tmp.persist(path).map(drop).map_err(|e| e.error),
        Overwrite::Refuse => tmp.persist_noclobber(path).map(drop).map_err(|e| e.error),
    }
    .map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            Error::io("cannot write", path, e)
        }
    })?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A test hook: with `HANDOFF_FAIL_POINT=NAME` set in a debug build, the
/// process aborts at that point, as a crash would.
fn fail_point(name: &str) {
    if cfg!(debug_assertions) && std::env::var("HANDOFF_FAIL_POINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates a directory (and its parents) with mode 0700 if it is missing.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("cannot create directory", dir, e))
}

/// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/credentials`.
pub fn shared_credentials_file() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    Ok(home()?.join(".aws").join("credentials"))
}

pub(crate) fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| Error::Other("HOME is not set".into()))
}

/// Puts the token's credentials into profile `name` of the credentials file
/// at `path`, leaving every other line, comment and profile byte for byte as
/// it was. Concurrent writers are serialised by a lock file beside it
/// (`PATH.lock`).
pub fn write_profile(path: &Path, name: &str, token: &Token) -> Result<()> {
    if name.is_empty() || name.contains(['[', ']', '\n', '\r']) || name.trim() != name {
        return Err(Error::usage(format!(
            "{name:?} is not a usable profile name"
        )));
    }
    let lock = lock_beside(path)?;
    let existing = match fs::read(path) {
        Ok(b) => Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Zeroizing::new(Vec::new()),
        Err(e) => return Err(Error::io("cannot read", path, e)),
    };
    let existing = std::str::from_utf8(&existing).map_err(|_| {
        Error::Other(format!(
            "{} is not UTF-8 text; not touching it",
            path.display()
        ))
    })?;
    let section = render(token, OutputFormat::Ini, name);
    let updated = replace_section(existing, name, &section);
    let result = write_private(path, updated.as_bytes(), Overwrite::Replace);
    drop(lock);
    result
}

/// Takes the lock file beside `path` (`PATH.lock`, mode 0600, created with
/// its directory when missing), waiting for whoever holds it. The lock
/// lasts until the returned file is dropped.
pub(crate) fn lock_beside(path: &Path) -> Result<File> {
    create_private_dir(&parent_dir(path))?;
    let lock_path = PathBuf::from(format!("{}.lock", path.display()));
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| Error::io("cannot open lock file", &lock_path, e))?;
    lock.lock()
        .map_err(|e| Error::io("cannot lock", &lock_path, e))?;
    Ok(lock)
}

/// Replaces section `[name]` of an INI text with `section` (which includes its
/// header), or appends it. The section runs from its header to the next
/// header, less any blank or comment lines just before that next header
/// (those belong to what follows).
fn replace_section(text: &str, name: &str, section: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() + section.len() + 2));
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_header = |l: &str| l.trim_start().starts_with('[');
    let header = |l: &str| {
        let t = l.trim();
        t.strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .map(str::trim)
            .is_some_and(|n| n == name)
    };
    let Some(start) = lines.iter().position(|l| header(l)) else {
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
    let mut end = lines[start + 1..]
        .iter()
        .position(|l| is_header(l))
        .map_or(lines.len(), |i| start + 1 + i);
    if end < lines.len() {
        while end > start + 1 {
            let t = lines[end - 1].trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                end -= 1;
            } else {
                break;
            }
        }
    }
    for l in &lines[..start] {
        out.push_str(l);
    }
    out.push_str(section);
    for l in &lines[end..] {
        out.push_str(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn private_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/key.txt");
        write_private(&p, b"one", Overwrite::Refuse).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(p.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let e = write_private(&p, b"two", Overwrite::Refuse).unwrap_err();
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert!(check_writable(&p, Overwrite::Refuse).is_err());
        write_private(&p, b"two", Overwrite::Replace).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "no temp files left"
        );
    }
}
