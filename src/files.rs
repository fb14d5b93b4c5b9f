//! Reading and writing the files handoff touches. A leaf: it uses nothing of
//! the crate but its error type. Reads are bounded and land in zeroizing
//! buffers ([`read_capped`](crate::files) is the one bounded reader); files
//! that hold keys or secrets are written mode 0600, atomically (a temp file
//! in the same directory, fsync, rename), never replacing a file unless asked
//! to.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

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
    // A device or FIFO (Target::Into) is written into, so it is never in
    // the way.
    match target(path)? {
        Target::File(..) if overwrite == Overwrite::Refuse => Err(exists(path)),
        Target::Missing if overwrite == Overwrite::Refuse && fs::symlink_metadata(path).is_ok() => {
            Err(exists(path))
        }
        _ => Ok(()),
    }
}

fn exists(path: &Path) -> Error {
    Error::new(
        crate::ErrorKind::Exists {
            path: path.to_path_buf(),
        },
        format!("{} already exists", path.display()),
    )
}

/// What an output path is, after following symlinks.
pub(crate) enum Target {
    /// Nothing there (or a dangling symlink): a new file is made at the path.
    Missing,
    /// A regular file, reached through any symlinks: the real path, and the
    /// file's metadata.
    File(PathBuf, fs::Metadata),
    /// A character device or a FIFO (`/dev/null`, `/dev/stdout`, a pipe):
    /// written into, as `age -o` does; never renamed over.
    Into(PathBuf),
}

pub(crate) fn target(path: &Path) -> Result<Target> {
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
    Err(Error::new(
        crate::ErrorKind::Io {
            path: path.to_path_buf(),
        },
        format!("{} is {what}; not writing into it", path.display()),
    ))
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
pub(crate) fn write_file(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
    keep: bool,
) -> Result<()> {
    let keep = if keep { Keep::Private } else { Keep::No };
    write_keeping(path, bytes, overwrite, keep)
}

/// [`write_file`] for a file that holds no secret (the AWS config file): an
/// existing file keeps its owner and mode whatever the mode (0644 stays
/// 0644); a new one is 0600.
pub(crate) fn write_file_keeping_mode(path: &Path, bytes: &[u8]) -> Result<()> {
    write_keeping(path, bytes, Overwrite::Replace, Keep::Any)
}

/// What an existing file's mode and owner become.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// 0600, the writer's.
    No,
    /// Kept when group and others have no access, else 0600.
    Private,
    /// Kept.
    Any,
}

fn write_keeping(path: &Path, bytes: &[u8], overwrite: Overwrite, keep: Keep) -> Result<()> {
    let (path, old) = match target(path)? {
        Target::Into(p) => return write_into(&p, bytes),
        Target::File(_, _) if overwrite == Overwrite::Refuse => return Err(exists(path)),
        Target::File(real, meta) => (real, Some(meta)),
        Target::Missing => (path.to_path_buf(), None),
    };
    let path = path.as_path();
    let dir = parent_dir(path);
    create_private_dir(&dir)?;
    let kept = |m: &fs::Metadata| match keep {
        Keep::No => false,
        Keep::Private => m.mode() & 0o077 == 0,
        Keep::Any => true,
    };
    let mode = match &old {
        Some(m) if kept(m) => m.mode() & 0o777,
        _ => 0o600,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".handoff-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(&dir)
        .map_err(|e| Error::io("cannot create a temporary file in", &dir, e))?;
    if let Some(m) = old.as_ref().filter(|m| kept(m)) {
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
pub(crate) fn fail_point(name: &str) {
    if cfg!(debug_assertions) && std::env::var("HANDOFF_FAIL_POINT").is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

pub(crate) fn parent_dir(path: &Path) -> PathBuf {
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

/// How long `write_profile` waits for another writer's lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Takes the lock file beside `path`: `PATH.lock` (the path's bytes plus
/// `.lock`, mode 0600, never followed when it is a symlink), creating the
/// directory (0700) when missing, waiting at most [`LOCK_WAIT`] and saying
/// so on stderr while it waits. The lock lasts until the returned file is
/// dropped. The credentials file and the ledger are written under it.
pub(crate) fn lock_beside(path: &Path) -> Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    lock_file(
        &PathBuf::from(name),
        LOCK_WAIT,
        "another process is writing beside it",
    )
}

/// Takes the lock file `lock_path` itself (mode 0600, never followed when
/// it is a symlink, its directory made 0700 when missing), waiting at most
/// `wait` and saying once on stderr what it waits for (`why`). The lock
/// lasts until the returned file is dropped. `revoke` holds one per IAM
/// principal across its whole read, plan, write and read-back.
pub(crate) fn lock_file(lock_path: &Path, wait: std::time::Duration, why: &str) -> Result<File> {
    create_private_dir(&parent_dir(lock_path))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(lock_path)
        .map_err(|e| {
            if fs::symlink_metadata(lock_path).is_ok_and(|m| m.file_type().is_symlink()) {
                Error::other(format!(
                    "the lock file {} is a symlink; not following it",
                    lock_path.display()
                ))
            } else {
                Error::io("cannot open lock file", lock_path, e)
            }
        })?;
    let start = std::time::Instant::now();
    let mut said = false;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(lock),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("cannot lock", lock_path, e)),
        }
        if start.elapsed() >= wait {
            return Err(Error::other(format!(
                "{} is still locked after {} s ({why}); giving up",
                lock_path.display(),
                wait.as_secs()
            )));
        }
        if !said {
            eprintln!(
                "handoff: waiting for the lock {} ({why})",
                lock_path.display()
            );
            said = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// What a path that is not a regular file is, in words: "a symlink", "a
/// directory", "a FIFO", "a device", "a socket" (or "not a regular file").
pub(crate) fn kind_of(m: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_symlink() {
        "a symlink"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Identity and key files (and the signers, passphrase and config files) larger
/// than this are refused.
const MAX_KEY_FILE_SIZE: usize = 1 << 20;

/// Reads a small file (an identity or recipients file) into a zeroizing
/// string.
pub(crate) fn read_small_file(path: &Path, what: &'static str) -> Result<Zeroizing<String>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > MAX_KEY_FILE_SIZE as u64 {
        return Err(Error::usage(format!(
            "{what} {} is too large",
            path.display()
        )));
    }
    // a pipe or device longer than the bound is cut at it
    let bytes = read_capped(
        &mut file.take(MAX_KEY_FILE_SIZE as u64),
        MAX_KEY_FILE_SIZE,
        Some(len),
    )
    .map_err(|e| Error::io("cannot read", path, e))?
    .ok_or_else(|| Error::usage(format!("{what} {} is too large", path.display())))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        let e = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        );
        Error::io("cannot read", path, e)
    })?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Reads all of `r` into a zeroizing buffer, growing it by copying into new
/// zeroizing buffers (never by reallocating, which would leave unwiped
/// copies). `Ok(None)` when there is more than `cap` bytes.
pub(crate) fn read_capped(
    r: &mut impl Read,
    cap: usize,
    hint: Option<u64>,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    let initial = hint
        .map(|h| usize::try_from(h).unwrap_or(usize::MAX))
        .unwrap_or(16 << 10)
        .max(1024)
        .min(cap.saturating_add(1));
    let mut buf = Zeroizing::new(Vec::with_capacity(initial));
    loop {
        if buf.len() == buf.capacity() {
            if buf.len() > cap {
                return Ok(None);
            }
            // At least one more: the capacity is at least 1 and at most cap.
            let bigger = buf.capacity().saturating_mul(2).min(cap.saturating_add(1));
            let mut next = Zeroizing::new(Vec::with_capacity(bigger));
            next.extend_from_slice(&buf);
            buf = next;
        }
        let len = buf.len();
        let room = buf.capacity() - len;
        buf.resize(len + room, 0);
        match r.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                break;
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => return Err(e),
        }
        if buf.len() > cap {
            return Ok(None);
        }
    }
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(e.kind(), &crate::ErrorKind::Exists { path: p.clone() });
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
        // The reader waits for a writer; a bounded wait, so a write that
        // never comes fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let fifo = fifo.clone();
            std::thread::spawn(move || tx.send(fs::read(fifo).unwrap()));
        }
        write_private(&fifo, b"token", Overwrite::Replace).unwrap();
        let got = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(got.expect("nothing was written into the FIFO"), b"token");
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
        let e = write_private(&link, b"new", Overwrite::Refuse).unwrap_err();
        // named as given, not as the file the link reaches
        assert_eq!(e.to_string(), format!("{} already exists", link.display()));
        assert_eq!(e.kind(), &crate::ErrorKind::Exists { path: link.clone() });
        assert_eq!(fs::read(&real).unwrap(), b"old");
        write_private(&link, b"new", Overwrite::Replace).unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn a_dangling_symlink_is_not_clobbered_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let e = check_writable(&link, Overwrite::Refuse).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::Exists { path: link.clone() });
        check_writable(&link, Overwrite::Replace).unwrap();
        // and the final write, should it come to that, refuses it too
        let e = write_private(&link, b"x", Overwrite::Refuse).unwrap_err();
        assert_eq!(e.to_string(), format!("{} already exists", link.display()));
        assert_eq!(e.kind(), &crate::ErrorKind::Exists { path: link.clone() });
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        check_writable(&dir.path().join("new"), Overwrite::Refuse).unwrap();
        // a path through a regular file is an error, not a missing file
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        for overwrite in [Overwrite::Refuse, Overwrite::Replace] {
            let e = check_writable(&file.join("x"), overwrite).unwrap_err();
            assert!(e.to_string().starts_with("cannot write"), "{e}");
            assert_eq!(
                e.kind(),
                &crate::ErrorKind::Io {
                    path: file.join("x")
                }
            );
        }
    }

    #[test]
    fn keeping_a_mode_that_gives_nothing_away() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("credentials");
        for (old, keep, new) in [
            (0o400, true, 0o400),
            (0o700, true, 0o700),
            (0o640, true, 0o600),
            (0o604, true, 0o600),
            (0o400, false, 0o600),
        ] {
            fs::write(&p, "old").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(old)).unwrap();
            write_file(&p, b"new", Overwrite::Replace, keep).unwrap();
            assert_eq!(fs::read(&p).unwrap(), b"new");
            let mode = fs::metadata(&p).unwrap().mode() & 0o777;
            assert_eq!(mode, new, "{old:o} keep={keep}");
        }
        // The owner is kept too, where the writer may give a file away
        // (root); anyone else's new file is their own.
        let me = rustix::process::geteuid().as_raw();
        let other = if me == 0 { 4242 } else { me };
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let _ = std::os::unix::fs::chown(&p, Some(other), Some(other));
        write_file(&p, b"new", Overwrite::Replace, true).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().uid(), other);
        write_file(&p, b"new", Overwrite::Replace, false).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().uid(), me);
    }

    #[test]
    fn key_files_others_can_read_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        fs::write(&p, "k").unwrap();
        for (mode, who) in [
            (0o600, None),
            (0o400, None),
            (0o640, Some("its group")),
            (0o610, Some("its group")),
            (0o644, Some("other users")),
            (0o601, Some("other users")),
        ] {
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
            let w = readable_by_others(&p, "identity file");
            match who {
                None => assert_eq!(w, None, "{mode:o}"),
                Some(who) => assert_eq!(
                    w.unwrap(),
                    format!(
                        "warning: identity file {} has mode {mode:04o}: {who} can access it (chmod 600 it)",
                        p.display()
                    )
                ),
            }
        }
        assert_eq!(readable_by_others(&dir.path().join("none"), "x"), None);
    }

    #[test]
    fn parent_directories() {
        assert_eq!(parent_dir(Path::new("key.txt")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("a/key.txt")), PathBuf::from("a"));
        assert_eq!(parent_dir(Path::new("/")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("/k")), PathBuf::from("/"));
    }

    #[test]
    fn a_lock_is_waited_for_and_a_symlinked_lock_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/credentials");
        let held = lock_beside(&p).unwrap();
        assert!(dir.path().join("sub/credentials.lock").is_file());
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        let start = std::time::Instant::now();
        let second = lock_beside(&p).unwrap();
        assert!(start.elapsed() >= std::time::Duration::from_millis(250));
        releaser.join().unwrap();
        drop(second);

        let q = dir.path().join("ledger");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("ledger.lock"))
            .unwrap();
        let e = lock_beside(&q).unwrap_err();
        assert!(e.to_string().contains("is a symlink"), "{e}");
        assert!(!dir.path().join("elsewhere").exists());
    }

    #[test]
    fn small_files_are_bounded_and_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("identity");
        fs::write(&p, "AGE-SECRET-KEY-1X\n").unwrap();
        assert_eq!(
            read_small_file(&p, "identity file").unwrap().as_str(),
            "AGE-SECRET-KEY-1X\n"
        );
        fs::write(&p, vec![b'#'; MAX_KEY_FILE_SIZE]).unwrap();
        assert_eq!(
            read_small_file(&p, "identity file").unwrap().len(),
            MAX_KEY_FILE_SIZE
        );
        fs::write(&p, vec![b'#'; MAX_KEY_FILE_SIZE + 1]).unwrap();
        let e = read_small_file(&p, "identity file").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("identity file {} is too large", p.display())
        );
        fs::write(&p, b"\xff\xfe").unwrap();
        let e = read_small_file(&p, "identity file").unwrap_err();
        assert!(e.to_string().contains("valid UTF-8"), "{e}");
    }

    #[test]
    fn capped_reads_grow_by_copying_from_a_small_start() {
        // From the smallest start, through every doubling, to the cap.
        for len in [0, 1, 1023, 1024, 1025, 5000] {
            let data = vec![3u8; len];
            let got = read_capped(&mut &data[..], 5000, Some(0)).unwrap().unwrap();
            assert_eq!(got.len(), len);
            assert!(read_capped(&mut &data[..], len.saturating_sub(1), Some(0))
                .unwrap()
                .map_or(len > 0, |g| len == 0 && g.is_empty()));
        }
        // Each buffer is the size it was made: 16 KiB with no hint, then
        // doubled by copying, never grown in place (a reallocation would
        // leave an unwiped copy).
        let got = read_capped(&mut &[1u8; 10][..], 1 << 20, None)
            .unwrap()
            .unwrap();
        assert_eq!(got.capacity(), 16 << 10);
        let got = read_capped(&mut &[1u8; 1500][..], 5000, Some(0))
            .unwrap()
            .unwrap();
        assert_eq!((got.len(), got.capacity()), (1500, 2048));
        let got = read_capped(&mut &[1u8; 4097][..], 5000, Some(0))
            .unwrap()
            .unwrap();
        assert_eq!((got.len(), got.capacity()), (4097, 5001));
        // A reader interrupted once still gives everything.
        struct Interrupting(bool, &'static [u8]);
        impl Read for Interrupting {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if !self.0 {
                    self.0 = true;
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                self.1.read(buf)
            }
        }
        let got = read_capped(&mut Interrupting(false, b"abc"), 10, None)
            .unwrap()
            .unwrap();
        assert_eq!(&got[..], b"abc");
        // An error is returned (once, then an end: a retry would see a
        // short, "complete" read).
        struct FailingOnce(bool);
        impl Read for FailingOnce {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Ok(0);
                }
                Err(std::io::ErrorKind::PermissionDenied.into())
            }
        }
        let e = read_capped(&mut FailingOnce(false), 10, None).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn reads_up_to_the_cap() {
        let data = vec![7u8; 100_000];
        let got = read_capped(&mut &data[..], 100_000, None).unwrap().unwrap();
        assert_eq!(&got[..], &data[..]);
        let got = read_capped(&mut &data[..], 100_000, Some(10))
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 100_000);
        assert!(read_capped(&mut &data[..], 99_999, None).unwrap().is_none());
        assert!(read_capped(&mut &data[..], 99_999, Some(100_000))
            .unwrap()
            .is_none());
        let got = read_capped(&mut &b""[..], 10, Some(0)).unwrap().unwrap();
        assert!(got.is_empty());
    }
}
