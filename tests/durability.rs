//! No data lost: a writer killed between writing its temp file and renaming
//! it over the target leaves the original intact, and concurrent
//! `--write-profile` runs on one credentials file lose no profile.
//!
//! The crash is real: with `HANDOFF_FAIL_POINT=before-rename` a debug build
//! of handoff calls `abort()` right after the temp file is written and
//! fsynced, before the rename (src/files.rs).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

fn require_debug_build() {
    if !cfg!(debug_assertions) {
        panic!("these tests crash handoff through a fail point that only debug builds have: run them without --release");
    }
}

/// Runs `c` with the fail point armed and checks that it died of SIGABRT.
#[track_caller]
fn crash(c: &mut Command, input: &[u8]) -> Output {
    let o = run_with_input(c.env("HANDOFF_FAIL_POINT", "before-rename"), input);
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGABRT),
        "expected an abort at the fail point, got {:?}; stderr: {}",
        o.status,
        stderr(&o)
    );
    o
}

/// The temp files a crashed writer left in `dir`: hidden, named
/// `.handoff-*.tmp`, mode 0600. Returns their names.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(".handoff-") {
            assert!(name.ends_with(".tmp"), "{name}");
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name} is readable by others");
            names.push(name);
        }
    }
    names
}

fn home() -> SealedHome {
    SealedHome::new()
}

#[test]
fn keygen_killed_before_rename_keeps_the_old_identity() {
    require_debug_build();
    let h = home();
    let dir = h.dir.path().join("keys");
    let id = dir.join("id.txt");
    let public = ok(&run(handoff(h.dir.path()).args(["keygen", "-o"]).arg(&id)));
    let before = fs::read(&id).unwrap();
    crash(
        handoff(h.dir.path())
            .args(["keygen", "--force", "-o"])
            .arg(&id),
        b"",
    );
    assert_eq!(fs::read(&id).unwrap(), before, "the identity was damaged");
    assert_eq!(
        ok(&run(handoff(h.dir.path()).args(["keygen", "-y"]).arg(&id))),
        public
    );
    // the crashed writer's temp file stays behind, hidden and private, and
    // holds the new (never used) key; a later write is unaffected by it
    let left = leftovers(&dir);
    assert_eq!(left.len(), 1, "{left:?}");
    ok(&run(handoff(h.dir.path())
        .args(["keygen", "--force", "-o"])
        .arg(&id)));
    assert_eq!(leftovers(&dir), left, "a clean write leaves nothing new");
}

#[test]
fn seal_killed_before_rename_keeps_the_old_token() {
    require_debug_build();
    let h = home();
    let before = fs::read(&h.token).unwrap();
    crash(
        handoff(h.dir.path())
            .args(["seal", "--force", "-r", &h.public, "-o"])
            .arg(&h.token),
        sts_document().as_bytes(),
    );
    assert_eq!(fs::read(&h.token).unwrap(), before, "the token was damaged");
    let out = ok(&run(handoff(h.dir.path()).arg("open").arg(&h.token)));
    assert!(out.contains(AKID));
    assert_eq!(leftovers(h.dir.path()).len(), 1);
}

#[test]
fn write_profile_killed_before_rename_keeps_the_credentials_file() {
    require_debug_build();
    let h = home();
    let creds = h.dir.path().join("aws/credentials");
    fs::create_dir_all(creds.parent().unwrap()).unwrap();
    let original = "# mine\n[default]\naws_access_key_id = AKIADEFAULTEXAMPLE\naws_secret_access_key = d\n\n[work]\naws_access_key_id = AKIAWORKEXAMPLE\naws_secret_access_key = w\n";
    fs::write(&creds, original).unwrap();
    for profile in ["work", "new"] {
        crash(
            handoff(h.dir.path())
                .arg("open")
                .arg(&h.token)
                .args(["--write-profile", profile, "--force"])
                .env("AWS_SHARED_CREDENTIALS_FILE", &creds),
            b"",
        );
        assert_eq!(fs::read_to_string(&creds).unwrap(), original);
    }
    // two crashed writers, two temp files; the lock file is by design
    assert_eq!(leftovers(creds.parent().unwrap()).len(), 2);
    assert!(creds.with_file_name("credentials.lock").exists());
    // the lock died with its holder: the next writer is not blocked
    ok(&run(handoff(h.dir.path())
        .arg("open")
        .arg(&h.token)
        .args(["--write-profile", "work", "--force"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)));
    let after = fs::read_to_string(&creds).unwrap();
    assert!(after.starts_with("# mine\n[default]\n") && after.contains(SECRET));
}

#[test]
fn twenty_concurrent_write_profiles_lose_nothing() {
    let h = home();
    let creds = h.dir.path().join("aws/credentials");
    fs::create_dir_all(creds.parent().unwrap()).unwrap();
    let original = "[default]\naws_access_key_id = AKIADEFAULTEXAMPLE\naws_secret_access_key = d\n";
    fs::write(&creds, original).unwrap();
    let children: Vec<_> = (0..20)
        .map(|n| {
            handoff(h.dir.path())
                .arg("open")
                .arg(&h.token)
                .args(["--write-profile", &format!("p{n}")])
                .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    let after = fs::read_to_string(&creds).unwrap();
    assert!(after.starts_with(original), "{after}");
    for n in 0..20 {
        let header = format!("[p{n}]\n");
        assert_eq!(after.matches(&header).count(), 1, "p{n}: {after}");
        let section = after.split(&header).nth(1).unwrap();
        assert!(
            section.contains(&format!("aws_secret_access_key = {SECRET}\n")),
            "p{n}"
        );
    }
    assert_eq!(after.matches('[').count(), 21, "{after}");
    assert!(leftovers(creds.parent().unwrap()).is_empty());
    assert_eq!(
        fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
