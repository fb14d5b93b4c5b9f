//! Writing files that hold keys or secrets: mode 0600, atomically (a temp
//! file in the same directory, fsync, rename), never replacing a file unless
//! asked to; and updating one profile of the shared credentials file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
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
/// A path that is not a regular file (a device such as `/dev/stdout`, a
/// FIFO) is written into, not replaced, so it needs no `--force`.
pub fn check_writable(path: &Path, overwrite: Overwrite) -> Result<()> {
    match target(path)? {
        Target::Into(_) => Ok(()),
        Target::File(..) if overwrite == Overwrite::Refuse => Err(exists(path)),
        Target::Missing if overwrite == Overwrite::Refuse && fs::symlink_metadata(path).is_ok() => {
            Err(exists(path))
        }
        _ => Ok(()),
    }
}

fn exists(path: &Path) -> Error {
    Error::Other(format!(
        "{} already exists; --force replaces it",
        path.display()
    ))
}

/// What an output path is, after following symlinks.
enum Target {
    /// Nothing there (or a dangling symlink): a new file is made at the path.
    Missing,
    /// A regular file, reached through any symlinks: the real path, and the
    /// file's metadata.
    File(PathBuf, fs::Metadata),
    /// A character device or a FIFO (`/dev/null`, `/dev/stdout`, a pipe):
    /// written into, as `age -o` does; never renamed over.
    Into(PathBuf),
}

fn target(path: &Path) -> Result<Target> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Missing),
        Err(e) => return Err(Error::io("cannot write", path, e)),
    };
    let real = || fs::canonicalize(path).map_err(|e| Error::io("cannot write", path, e));
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(Target::File(real()?, meta));
    }
    if kind.is_char_device() || kind.is_fifo() {
        return Ok(Target::Into(path.to_path_buf()));
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Err(Error::Other(format!(
        "{} is {what}; not writing into it",
        path.display()
    )))
}

/// Writes `bytes` to `path` with mode 0600: a temp file in the same directory,
/// fsync, then a rename (or, with [`Overwrite::Refuse`], a link that fails if
/// `path` exists). A crash at any point leaves either the old file or the new
/// one, never a mix. Missing parent directories are created with mode 0700.
///
/// A symlink to a regular file is written through: the file it points to is
/// replaced, in its own directory, and the link is kept. A character device
/// or FIFO (`/dev/stdout`) is written into directly; a directory, block
/// device or socket is refused. Nothing but a regular file is ever renamed
/// over.
pub fn write_private(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    write_file(path, bytes, overwrite, false)
}

/// [`write_private`], and with `keep` an existing file keeps its owner and
/// mode when that mode gives nothing to group or others (it is never
/// widened: otherwise the new file has mode 0600).
fn write_file(path: &Path, bytes: &[u8], overwrite: Overwrite, keep: bool) -> Result<()> {
    let (path, old) = match target(path)? {
        Target::Into(p) => return write_into(&p, bytes),
        Target::File(_, _) if overwrite == Overwrite::Refuse => return Err(exists(path)),
        Target::File(real, meta) => (real, Some(meta)),
        Target::Missing => (path.to_path_buf(), None),
    };
    let path = path.as_path();
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let mode = match &old {
        Some(m) if keep && m.mode() & 0o077 == 0 => m.mode() & 0o700,
        _ => 0o600,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".handoff-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(|e| Error::io("cannot create a temporary file in", &dir, e))?;
    if let Some(m) = old.as_ref().filter(|m| keep && m.mode() & 0o077 == 0) {
        // Only root can give a file away; for anyone else the owner is
        // already theirs, or the file keeps the writer's.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(m.uid()), Some(m.gid()));
    }
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

/// Writes into a device or FIFO as it is, without creating or renaming.
fn write_into(path: &Path, bytes: &[u8]) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()))
        .map_err(|e| Error::io("cannot write", path, e))
}

/// A one-line warning when the secret key file at `path` (an identity or a
/// signing key) can be read by its group or by others, naming the file and
/// its mode. OpenSSH refuses such keys; age uses them: handoff uses them and
/// says so.
pub fn readable_by_others(path: &Path, what: &str) -> Option<String> {
    let mode = fs::metadata(path).ok()?.mode() & 0o7777;
    let who = if mode & 0o007 != 0 {
        "other users"
    } else {
        "its group"
    };
    (mode & 0o077 != 0).then(|| {
        format!(
            "warning: {what} {} has mode {mode:04o}: {who} can access it (chmod 600 it)",
            path.display()
        )
    })
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

/// How long `write_profile` waits for another writer's lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Puts the token's credentials into profile `name` of the credentials file
/// at `path`, leaving every other line, comment and profile byte for byte as
/// it was. Concurrent writers are serialised by a lock file beside it
/// (`PATH.lock`, never followed if it is a symlink), waited for at most
/// [`LOCK_WAIT`].
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
    if matches!(target(path)?, Target::Into(_)) {
        return Err(Error::Other(format!(
            "{} is not a regular file; not writing a profile into it",
            path.display()
        )));
    }
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
    let existing = existing.strip_prefix('\u{feff}').unwrap_or(existing);
    let section = render(token, OutputFormat::Ini, name)?;
    let updated = replace_section(existing, name, &section);
    let result = write_file(path, updated.as_bytes(), Overwrite::Replace, true);
    drop(lock);
    result
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

/// Takes the lock file beside `path`: `PATH.lock` (the path's bytes plus
/// `.lock`, mode 0600, never followed when it is a symlink), creating the
/// directory (0700) when missing, waiting at most [`LOCK_WAIT`] and saying
/// so on stderr while it waits. The lock lasts until the returned file is
/// dropped. The credentials file and the ledger are written under it.
pub(crate) fn lock_beside(path: &Path) -> Result<File> {
    create_private_dir(&parent_dir(path))?;
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&lock_path)
        .map_err(|e| {
            if fs::symlink_metadata(&lock_path).is_ok_and(|m| m.file_type().is_symlink()) {
                Error::Other(format!(
                    "the lock file {} is a symlink; not following it",
                    lock_path.display()
                ))
            } else {
                Error::io("cannot open lock file", &lock_path, e)
            }
        })?;
    let start = std::time::Instant::now();
    let mut said = false;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(lock),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("cannot lock", &lock_path, e)),
        }
        if start.elapsed() >= LOCK_WAIT {
            return Err(Error::Other(format!(
                "{} is still locked by another process after {} s; giving up",
                lock_path.display(),
                LOCK_WAIT.as_secs()
            )));
        }
        if !said {
            eprintln!(
                "handoff: waiting for the lock {} (another process is writing beside it)",
                lock_path.display()
            );
            said = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
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

/// Which lines of an INI text open a section, as configparser sees them: a
/// bracketed line indented deeper than the value before it continues that
/// value instead.
fn headers(lines: &[&str]) -> Vec<bool> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut value_indent: Option<usize> = None;
    lines
        .iter()
        .map(|l| {
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
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
            while end > start + 1 {
                let t = lines[end - 1].trim();
                if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                    end -= 1;
                } else {
                    break;
                }
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

    #[test]
    fn outputs_that_are_not_files_are_written_into_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        // a symlink to /dev/null: written into, the link stays
        let null = dir.path().join("null");
        std::os::unix::fs::symlink("/dev/null", &null).unwrap();
        check_writable(&null, Overwrite::Refuse).unwrap();
        write_private(&null, b"x", Overwrite::Replace).unwrap();
        assert!(fs::symlink_metadata(&null)
            .unwrap()
            .file_type()
            .is_symlink());
        // a FIFO: written into, still a FIFO
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        write_private(&fifo, b"token", Overwrite::Replace).unwrap();
        assert_eq!(reader.join().unwrap(), b"token");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        // a directory, a socket: refused
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        for (p, what) in [(dir.path(), "a directory"), (sock.as_path(), "a socket")] {
            let e = write_private(p, b"x", Overwrite::Replace).unwrap_err();
            assert!(e.to_string().contains(what), "{e}");
        }
        // a symlink to a regular file, with --force: the target is replaced
        let real = dir.path().join("real");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(write_private(&link, b"new", Overwrite::Refuse).is_err());
        write_private(&link, b"new", Overwrite::Replace).unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
