//! `seal --each` under faults, against moto: batches killed with SIGKILL at
//! random moments and rerun, two batches into one folder at once, a 64 KiB
//! tmpfs (mounted here) as the output folder and as the ledger's home, an
//! STS that does not answer, things that are not token files at
//! `DIR/NAME.age`, and a stderr that is closed or broken. Afterwards every
//! person with a file has exactly one live record that names it, every
//! record whose file never arrived is marked undelivered, and no temp file
//! is left.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::moto::Moto;
use common::*;
use sha2::{Digest, Sha256};

/// A home with one key, and a roster of `n` people (`p000`…) all sealed to
/// it (one key is enough: the batch's work per person is the same).
fn roster(home: &Path, n: usize) -> PathBuf {
    let key = home.join("k.txt");
    let public = ok(&run(handoff(home).args(["keygen", "-o"]).arg(&key)));
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("p{i:03} {}\n", public.trim()));
    }
    let path = home.join("roster.txt");
    fs::write(&path, text).unwrap();
    path
}

/// `seal --federation 'ws-{name}' --each ROSTER -o OUT` (4 jobs, the
/// default) at `endpoint`, the ledger at `ledger`.
fn batch(home: &Path, endpoint: &str, roster: &Path, out: &Path, ledger: &Path) -> Command {
    let mut c = handoff(home);
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("HANDOFF_LEDGER", ledger)
        .args(["seal", "--federation", "ws-{name}", "--each"])
        .arg(roster)
        .arg("-o")
        .arg(out);
    c
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The ledger's lines, each of which must be a JSON record.
fn records(ledger: &Path) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(ledger).unwrap_or_default();
    text.lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("garbled ledger line {l:?}: {e}"))
        })
        .collect()
}

fn temps(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with(".handoff-"))
                .collect()
        })
        .unwrap_or_default()
}

/// The invariants after any number of batches into `out`: no record is
/// garbled; every file in `out` has exactly one live, delivered record, whose
/// hash is the file's; every other record of `out` is marked undelivered.
/// (Records of other folders are not looked at.)
/// Returns (files, undelivered records).
#[track_caller]
fn check(out: &Path, ledger: &Path) -> (usize, usize) {
    let records: Vec<_> = records(ledger)
        .into_iter()
        .filter(|r| r["file"].as_str().map(|f| Path::new(f).parent()) == Some(Some(out)))
        .collect();
    let mut files = BTreeMap::new();
    for e in fs::read_dir(out).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(person) = name.strip_suffix(".age") {
            files.insert(person.to_string(), sha256(&fs::read(e.path()).unwrap()));
        }
    }
    let mut undelivered = 0;
    for r in &records {
        let name = r["name"].as_str().unwrap();
        assert!(r["revoked_at"].is_null());
        if r["delivered"] == serde_json::json!(false) {
            undelivered += 1;
            continue;
        }
        assert!(r["delivered"].is_null(), "{r}");
        assert_eq!(
            files.get(name),
            r["file_sha256"].as_str().map(str::to_string).as_ref(),
            "{name}: a record not marked undelivered, whose file is not its own: {r}"
        );
    }
    for (name, hash) in &files {
        let live: Vec<_> = records
            .iter()
            .filter(|r| r["name"] == name.as_str() && r["delivered"].is_null())
            .collect();
        assert_eq!(live.len(), 1, "{name}: {live:?}");
        assert_eq!(live[0]["file_sha256"], hash.as_str());
        assert_eq!(
            live[0]["file"].as_str().map(Path::new),
            Some(out.join(format!("{name}.age")).as_path())
        );
    }
    (files.len(), undelivered)
}

#[test]
fn batches_killed_at_random_moments_then_rerun_leave_one_live_record_per_file() {
    const PEOPLE: usize = 200;
    const KILLS: usize = 15;
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let roster = roster(home.path(), PEOPLE);
    let out = home.path().join("out");
    let ledger = home.path().join("issued.jsonl");

    // SIGKILL at random moments while minting: once the run has recorded
    // 1 to 8 more people (counted in the ledger, so that neither a loaded
    // machine's slow start nor a quiet machine's speed decides how far a
    // run gets), then 0 to 20 ms later. 15 kills then leave most of the
    // 200 to the rerun, whatever the load.
    let mut seed = std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    let records = || {
        fs::read(&ledger)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0)
    };
    for _ in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let target = records() + 1 + (seed % 8) as usize;
        let mut child = batch(home.path(), &moto.url, &roster, &out, &ledger)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while records() < target
            && start.elapsed() < Duration::from_secs(20)
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis((seed >> 8) % 20));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let (files, undelivered) = check(&out, &ledger);
    eprintln!("after {KILLS} kills: {files} of {PEOPLE} files, {undelivered} undelivered");
    assert!(files < PEOPLE, "the kills came too late to test anything");

    // Then one crash exactly between a record and the move into place (the
    // window a random kill rarely hits).
    if cfg!(debug_assertions) {
        let o = run(batch(home.path(), &moto.url, &roster, &out, &ledger)
            .env("HANDOFF_FAIL_POINT", "batch-before-rename"));
        assert_eq!(o.status.signal(), Some(libc::SIGABRT), "{}", stderr(&o));
        assert!(!temps(&out).is_empty(), "the crash left no temp file");
    }

    let o = run(&mut batch(home.path(), &moto.url, &roster, &out, &ledger));
    let err = ok(&o) + &stderr(&o);
    assert!(temps(&out).is_empty(), "{:?}", temps(&out));
    let (files, undelivered) = check(&out, &ledger);
    assert_eq!(files, PEOPLE, "{err}");
    if cfg!(debug_assertions) {
        assert!(undelivered >= 1, "the crash's record was not marked: {err}");
        assert!(
            err.contains("of an earlier batch into this folder marked undelivered"),
            "the rerun did not say so: {err}"
        );
    }
    assert!(!err.contains("another process"), "{err}");
    // `issued` shows them, and `revoke` can take them.
    let listed = ok(&run(handoff(home.path())
        .env("HANDOFF_LEDGER", &ledger)
        .args(["issued"])));
    assert_eq!(
        listed.lines().filter(|l| l.contains("undelivered")).count(),
        undelivered,
        "{listed}"
    );
}

#[test]
fn two_batches_into_one_folder_mint_nobody_twice() {
    const PEOPLE: usize = 40;
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let roster = roster(home.path(), PEOPLE);
    let out = home.path().join("out");
    let ledger = home.path().join("issued.jsonl");
    let spawn = || {
        batch(home.path(), &moto.url, &roster, &out, &ledger)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        ok(o);
    }
    let both = stderr(&a) + &stderr(&b);
    assert_eq!(both.matches(": made ").count(), PEOPLE, "{both}");
    assert_eq!(both.matches(": skipped").count(), PEOPLE, "{both}");
    assert!(both.contains("waiting for another batch into"), "{both}");
    assert_eq!(records(&ledger).len(), PEOPLE);
    assert_eq!(check(&out, &ledger), (PEOPLE, 0));
}

/// A tmpfs of `size` mounted at `dir` by this test (it runs as root, as the
/// suite does in CI), unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(dir).unwrap();
        let o = run(Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir));
        assert!(
            o.status.success(),
            "this test mounts a {size} tmpfs to fill a disk for real and needs root (or CAP_SYS_ADMIN): mount said {}",
            stderr(&o)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[track_caller]
fn stopped_for_space(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let summary = err.lines().last().unwrap();
    assert!(
        summary.contains("(no space left)")
            && summary.contains("stopped: no space left")
            && summary.contains("not started (rerun to finish)"),
        "{err}"
    );
    err
}

#[test]
fn a_full_disk_for_the_folder_or_the_ledger_stops_the_batch_and_loses_no_record() {
    const PEOPLE: usize = 60;
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let roster = roster(home.path(), PEOPLE);

    // The folder fills: about 16 files of 4 KiB pages.
    let out = home.path().join("small-out");
    let _fs = Tmpfs::mount(&out, "64k");
    let ledger = home.path().join("issued.jsonl");
    let o = run(batch(home.path(), &moto.url, &roster, &out, &ledger).env("RUST_BACKTRACE", "0"));
    stopped_for_space(&o);
    let (files, undelivered) = check(&out, &ledger);
    assert!(files > 0 && files < PEOPLE, "{files}");
    assert!(temps(&out).is_empty(), "{:?}", temps(&out));
    // Those that did not fit: at most one per worker was minted, and each
    // of those is recorded undelivered.
    assert!(undelivered <= 4, "{undelivered}");
    assert_eq!(records(&ledger).len(), files + undelivered);

    // The ledger's home fills: nearly full from the start.
    let state = home.path().join("small-state");
    let _fs2 = Tmpfs::mount(&state, "64k");
    fs::write(state.join("filler"), vec![0u8; 56 * 1024]).unwrap();
    let ledger = state.join("issued.jsonl");
    let out = home.path().join("out");
    let o = run(&mut batch(home.path(), &moto.url, &roster, &out, &ledger));
    let err = stopped_for_space(&o);
    assert!(err.contains("cannot write the ledger"), "{err}");
    // No half line in the ledger; every file there has its record.
    let (files, _) = check(&out, &ledger);
    assert!(files > 0 && files < PEOPLE, "{files}: {err}");
    assert!(temps(&out).is_empty(), "{:?}", temps(&out));

    // A read-only folder: refused before anything is minted.
    let ro = home.path().join("read-only");
    let _fs3 = Tmpfs::mount(&ro, "64k,ro");
    let before = moto.requests();
    let ledger = home.path().join("issued-ro.jsonl");
    let o = run(&mut batch(home.path(), &moto.url, &roster, &ro, &ledger));
    let err = fails(&o, 1, &[]);
    assert!(err.contains("Read-only file system"), "{err}");
    // GetCallerIdentity at most, no mint
    assert!(
        moto.requests() <= before + 1,
        "minted for a folder that takes no file"
    );
    assert!(!ledger.exists() || records(&ledger).is_empty());
}

#[test]
fn an_sts_that_does_not_answer_stops_new_mints() {
    let home = tempfile::tempdir().unwrap();
    let roster = roster(home.path(), 12);
    let nobody = format!("http://127.0.0.1:{}", common::moto::free_port());
    let out = home.path().join("out");
    let o = run(
        batch(home.path(), &nobody, &roster, &out, &home.path().join("l")).args(["--jobs", "1"]),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let summary = err.lines().last().unwrap();
    assert!(
        summary.starts_with("made 0, skipped 0, failed 3:")
            && summary.contains("stopped: STS did not answer 3 times in a row")
            && summary.ends_with("9 not started (rerun to finish)"),
        "{err}"
    );
}

#[test]
fn only_a_regular_file_counts_as_there_and_force_never_writes_through_a_link() {
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let roster = roster(home.path(), 4);
    let out = home.path().join("out");
    let ledger = home.path().join("issued.jsonl");
    fs::create_dir_all(out.join("p000.age")).unwrap();
    let outside = home.path().join("outside.txt");
    fs::write(&outside, "keep me").unwrap();
    std::os::unix::fs::symlink(&outside, out.join("p001.age")).unwrap();
    std::os::unix::fs::symlink("/dev/null", out.join("p002.age")).unwrap();
    for force in [false, true] {
        let mut c = batch(home.path(), &moto.url, &roster, &out, &ledger);
        if force {
            c.arg("--force");
        }
        let o = run(&mut c);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        for (p, what) in [
            ("p000", "a directory"),
            ("p001", "a symlink"),
            ("p002", "a symlink"),
        ] {
            assert!(
                err.contains(&format!(
                    "{p}: failed: {}",
                    out.join(format!("{p}.age")).display()
                )) && err.contains(&format!("is {what}, not a token file")),
                "{err}"
            );
        }
        assert!(
            err.contains("failed 3: p000 (error), p001 (error), p002 (error)"),
            "{err}"
        );
    }
    assert_eq!(fs::read_to_string(&outside).unwrap(), "keep me");
    // Only p003 was minted (once, then replaced with --force).
    let names: Vec<String> = records(&ledger)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["p003", "p003"]);
}

#[test]
fn a_closed_or_broken_stderr_costs_nobody_their_token() {
    const PEOPLE: usize = 12;
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let roster = roster(home.path(), PEOPLE);
    let ledger = home.path().join("issued.jsonl");

    // closed: 2>&-
    let out = home.path().join("closed");
    let c = batch(home.path(), &moto.url, &roster, &out, &ledger);
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("exec \"$0\" \"$@\" 2>&-")
        .arg(c.get_program())
        .args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    let o = run(&mut sh);
    assert!(o.status.success(), "{:?} {}", o.status, stdout(&o));
    everyone_once(&out, &ledger, PEOPLE);

    // broken: the reader of stderr is gone before the first line
    let out2 = home.path().join("broken");
    let mut child = batch(home.path(), &moto.url, &roster, &out2, &ledger)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    everyone_once(&out2, &ledger, PEOPLE);
    assert_eq!(records(&ledger).len(), 2 * PEOPLE);
    check(&out, &ledger);
    check(&out2, &ledger);
}

/// Each of the `n` people has a file in `out` and one record naming it.
#[track_caller]
fn everyone_once(out: &Path, ledger: &Path, n: usize) {
    let records = records(ledger);
    for i in 0..n {
        let file = out.join(format!("p{i:03}.age"));
        assert!(file.is_file(), "{} is missing", file.display());
        let named = records
            .iter()
            .filter(|r| r["file"].as_str().map(Path::new) == Some(file.as_path()))
            .count();
        assert_eq!(named, 1, "{}", file.display());
    }
}

#[test]
fn a_seal_asks_who_mints_once_per_access_key() {
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let key = ok(&run(handoff(home.path())
        .args(["keygen", "-o"])
        .arg(home.path().join("k.txt"))));
    let seal = |n: &str| {
        let o = run(handoff(home.path())
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .args(["seal", "--federation", n, "-r", key.trim(), "-o"])
            .arg(home.path().join(format!("{n}.age"))));
        ok(&o);
        moto.requests()
    };
    assert_eq!(seal("first"), 2, "a mint and GetCallerIdentity");
    assert_eq!(seal("second"), 3, "the mint alone: {}", moto.log_text());
    let path = home.path().join(".cache/handoff/minters.json");
    let cache = fs::read_to_string(&path).unwrap();
    assert!(
        cache.contains("AKIAIOSFODNN7EXAMPLE") && !cache.contains(SECRET),
        "{cache}"
    );
    // STS answers for another account than the cache says: asked again,
    // and the cache mended.
    fs::write(&path, cache.replace("123456789012", "999999999999")).unwrap();
    assert_eq!(seal("third"), 5, "{}", moto.log_text());
    assert_eq!(fs::read_to_string(&path).unwrap(), cache);
    assert_eq!(seal("fourth"), 6);
    let listed = ok(&run(handoff(home.path()).args(["issued", "--json"])));
    assert_eq!(listed.lines().count(), 4);
    let by: Vec<serde_json::Value> = listed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["minted_by"].clone())
        .collect();
    // moto's answer for any key
    assert_eq!(by[0], "arn:aws:sts::123456789012:user/moto");
    assert!(by.iter().all(|b| *b == by[0]), "{by:?}");
}
