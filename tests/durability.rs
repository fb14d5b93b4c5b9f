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

/// The default ledger of a test home (`$HOME/.local/state/handoff`).
fn ledger_of(home: &Path) -> std::path::PathBuf {
    home.join(".local/state/handoff/issued.jsonl")
}

/// Waits at most 20 s for `c`: a FIFO ledger must not hang `issued`.
fn run_bounded(c: &mut Command) -> Output {
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    let o = child.wait_with_output().unwrap();
    panic!("still running after 20 s; stderr: {}", stderr(&o));
}

#[test]
fn a_torn_ledger_line_then_a_seal_is_listed_and_every_bad_line_named() {
    let h = home();
    let ledger = ledger_of(h.path());
    let first = fs::read_to_string(&ledger).unwrap();
    assert_eq!(first.lines().count(), 1);
    // a byte that is not UTF-8, then a record cut short by a crash
    let mut f = fs::OpenOptions::new().append(true).open(&ledger).unwrap();
    std::io::Write::write_all(&mut f, b"\xff\xfe\n").unwrap();
    std::io::Write::write_all(&mut f, &first.as_bytes()[..60]).unwrap();
    drop(f);
    seal_document(h.path(), &h.public, &h.path().join("second.age"), &[]);
    let o = run(handoff(h.path()).args(["issued", "--all", "--json"]));
    let listed = ok(&o);
    let files: Vec<String> = listed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["file"].to_string())
        .collect();
    assert_eq!(files.len(), 2, "{listed}");
    assert!(files[1].ends_with("second.age\""), "{files:?}");
    let err = stderr(&o);
    let warned: Vec<&str> = err.lines().collect();
    assert_eq!(warned.len(), 2, "{err}");
    assert!(
        warned[0].starts_with("handoff: warning: ledger ")
            && warned[0].ends_with("line 2: not UTF-8 (byte 1); not a record, skipped"),
        "{err}"
    );
    assert!(
        warned[1].ends_with("line 3: not a ledger record (cut short); skipped"),
        "{err}"
    );
}

#[test]
fn issued_caps_and_escapes_any_field_and_reads_only_a_regular_file() {
    let h = home();
    let ledger = ledger_of(h.path());
    let line = fs::read_to_string(&ledger).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&line).unwrap();
    v["userid"] = format!("123456789012:{}", "x".repeat(70_000)).into();
    v["name"] = "bob\u{202e}gpj.exe\u{2066}".into();
    fs::write(&ledger, format!("{v}\n")).unwrap();
    let out = ok(&run(handoff(h.path()).arg("issued")));
    let row = out.lines().nth(1).unwrap();
    assert!(row.chars().count() < 600, "{}", row.len());
    assert!(row.contains("xxxxxxxx…"), "{row}");
    assert!(row.contains(r"bob\u{202e}gpj.exe\u{2066}"), "{row}");
    assert!(!row.contains('\u{202e}'));

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    ok(&run(Command::new("mkfifo").arg(&fifo)));
    for (path, what) in [
        (Path::new("/dev/zero"), "a device"),
        (fifo.as_path(), "a FIFO"),
    ] {
        let o = run_bounded(handoff(h.path()).arg("issued").env("HANDOFF_LEDGER", path));
        let err = fails(&o, 1, &[]);
        assert!(
            err.contains(&format!("is not a regular file ({what})")),
            "{err}"
        );
    }
}

#[test]
fn a_ledger_that_cannot_take_the_record_is_refused_before_any_mint() {
    let h = home();
    let real = h.path().join("real.jsonl");
    fs::write(&real, "").unwrap();
    let link = h.path().join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let roster = h.path().join("roster.txt");
    fs::write(&roster, format!("alice {}\n", h.public)).unwrap();
    // nothing listens there: a mint attempted first would fail otherwise
    let nobody = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let each: &[&str] = &["--each", roster.to_str().unwrap(), "-o", "out"];
    let one: &[&str] = &["-r", &h.public, "-o", "one.age"];
    for args in [each, one] {
        let o = run(handoff(h.path())
            .env("HANDOFF_LEDGER", &link)
            .env("AWS_ENDPOINT_URL", &nobody)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .args(["seal", "--federation", "ws-{name}"])
            .args(args));
        let err = fails(&o, 1, &[]);
        assert!(err.contains("is not a regular file (a symlink)"), "{err}");
    }
    assert_eq!(fs::read_to_string(&real).unwrap(), "");
}

#[test]
fn show_prints_the_token_id_issued_lists() {
    let h = home();
    let (key, _) = ssh_keygen(h.path(), "sender", &["ed25519"], "", "sender");
    let token = h.path().join("signed.age");
    seal_document(
        h.path(),
        &h.public,
        &token,
        &["--sign", key.to_str().unwrap()],
    );
    let shown = ok(&run(handoff(h.path()).arg("show").arg(&token)));
    let id = shown
        .lines()
        .find_map(|l| l.strip_prefix("token id:"))
        .unwrap_or_else(|| panic!("{shown}"))
        .trim()
        .to_string();
    assert_eq!(id.len(), 32, "{shown}");
    let listed = ok(&run(handoff(h.path()).args(["issued", "--json"])));
    let last: serde_json::Value = serde_json::from_str(listed.lines().last().unwrap()).unwrap();
    assert_eq!(last["token_id"], id.as_str(), "{listed}");
    let table = ok(&run(handoff(h.path()).arg("issued")));
    assert!(
        table.lines().last().unwrap().starts_with(&id[..12]),
        "{table}"
    );
}
