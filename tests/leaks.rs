//! Where secrets must not go: the argument lists of running processes,
//! error messages on any failure path, and core dumps.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A home with a default identity and a token sealed to it from the
/// example STS document.
type Home = SealedHome;

/// Lets the child's soft core-size limit up to its hard limit before it
/// runs handoff, so that a 0 seen afterwards is handoff's doing (test
/// runners often start with a soft limit of 0 already).
fn allow_core_dumps(c: &mut Command) -> &mut Command {
    // SAFETY: getrlimit/setrlimit are async-signal-safe and write only the
    // local struct.
    unsafe {
        c.pre_exec(|| {
            let mut l: libc::rlimit = std::mem::zeroed();
            if libc::getrlimit(libc::RLIMIT_CORE, &mut l) == 0 {
                l.rlim_cur = l.rlim_max;
                libc::setrlimit(libc::RLIMIT_CORE, &l);
            }
            Ok(())
        })
    }
}

/// The soft "Max core file size" of a running process, from /proc.
fn soft_core_limit(pid: u32) -> String {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("a core size line");
    line["Max core file size".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Waits until `pid` runs `want` (its argv[0]), i.e. handoff has exec'd.
fn wait_for_exec(pid: u32, want: &str) {
    let start = Instant::now();
    loop {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.split(|&b| b == 0).next() == Some(want.as_bytes()) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "process {pid} never ran {want}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn exec_puts_no_secret_in_any_argv_and_no_core_dumps() {
    let h = Home::new();
    let child = allow_core_dumps(
        handoff(h.path())
            .arg("exec")
            .arg(&h.token)
            .args(["--", "sleep", "30"])
            .stdout(Stdio::null()),
    )
    .spawn()
    .unwrap();
    let pid = child.id();
    wait_for_exec(pid, "sleep");
    // the credentials are where exec puts them, in the environment (readable
    // by the same user only) ...
    let environ = fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        String::from_utf8_lossy(&environ).contains(SECRET),
        "exec must pass the secret in the environment"
    );
    // ... and in no process's argument list on this machine
    let mut scanned = 0;
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        scanned += 1;
        let text = String::from_utf8_lossy(&cmdline);
        for s in [SECRET, SESSION] {
            assert!(
                !text.contains(s),
                "a secret in the argv of {:?}: {text}",
                entry.file_name()
            );
        }
    }
    assert!(scanned > 1, "scanned no processes");
    // RLIMIT_CORE survives exec: the command runs with core dumps off
    assert_eq!(soft_core_limit(pid), "0");
    kill(child);
}

#[test]
fn handoff_itself_runs_with_core_dumps_off() {
    let h = Home::new();
    // open - waits for its token on stdin: a handoff process to look at
    let mut child = allow_core_dumps(
        handoff(h.path())
            .args(["open", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .spawn()
    .unwrap();
    let pid = child.id();
    // the limit is set first thing in main; wait for it (the process may
    // still be starting)
    let start = Instant::now();
    while soft_core_limit(pid) != "0" {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "handoff kept core dumps on: {}",
            soft_core_limit(pid)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(child.stdin.take());
    let _ = child.wait();

    // the same sequence without handoff leaves the limit raised: the test
    // sees handoff's doing, not the runner's
    let child = allow_core_dumps(Command::new("sleep").arg("30"))
        .spawn()
        .unwrap();
    wait_for_exec(child.id(), "sleep");
    let raised = soft_core_limit(child.id());
    kill(child);
    let mut hard: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: writes only the local struct.
    unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut hard) };
    if hard.rlim_max != 0 {
        assert_ne!(raised, "0", "the control process could not raise its limit");
    }
}

/// Failure paths not covered by tests/cli.rs and tests/hostile.rs, each with
/// the example secrets in play: none appears in the message.
#[test]
fn failures_with_secrets_in_play_never_echo_them() {
    let h = Home::new();
    let identity = fs::read_to_string(h.path().join(".config/handoff/identity.txt")).unwrap();
    let key = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    // the key's data part, past the fixed prefix
    let key_data = &key["AGE-SECRET-KEY-1".len()..][..8];
    let secrets = [SECRET, SESSION, key_data];
    let cmd = || handoff(h.path());
    // output that cannot be written
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [&["open"][..], &["open", "--format", "json"], &["show"]] {
        let o = cmd()
            .args(args)
            .arg(&h.token)
            .stdout(full())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("handoff: cannot write to stdout"), "{err}");
        for s in secrets {
            assert!(!err.contains(s), "{err}");
        }
    }
    // an identity file given as recipients, a secret key as a recipient
    let o = run_with_input(
        cmd()
            .args(["seal", "-R"])
            .arg(h.path().join(".config/handoff/identity.txt"))
            .args(["-a"]),
        sts_document().as_bytes(),
    );
    assert!(fails(&o, 2, &secrets).contains("secret key"));
    let o = run_with_input(
        cmd().args(["seal", "-a", "-r", &key.to_lowercase()]),
        sts_document().as_bytes(),
    );
    assert!(fails(&o, 2, &[&key_data.to_lowercase()]).contains("secret key"));
    // a credentials file that cannot be written or read
    let dir_as_file = h.path().join("adir");
    fs::create_dir(&dir_as_file).unwrap();
    let not_utf8 = h.path().join("creds-latin1");
    fs::write(&not_utf8, b"[default]\naws_secret_access_key = caf\xe9\n").unwrap();
    for (file, code) in [
        (dir_as_file.clone(), 1),
        (h.path().join("t.age/credentials"), 1),
        (not_utf8, 1),
    ] {
        let o = run(cmd()
            .arg("open")
            .arg(&h.token)
            .args(["--write-profile", "p"])
            .env("AWS_SHARED_CREDENTIALS_FILE", &file));
        fails(&o, code, &secrets);
    }
    for name in ["[x]", "a\nb", " spaced", ""] {
        let o = run(cmd()
            .arg("open")
            .arg(&h.token)
            .args(["--write-profile", name])
            .env("AWS_SHARED_CREDENTIALS_FILE", h.path().join("c")));
        fails(&o, 2, &secrets);
    }
    // seal to a place that cannot be written
    for out in [dir_as_file.join("x/../../t.age"), h.path().join("t.age/x")] {
        let o = run_with_input(
            cmd().args(["seal", "-r", &h.public, "-o"]).arg(&out),
            sts_document().as_bytes(),
        );
        assert_ne!(o.status.code(), Some(0), "{out:?}");
        fails(&o, o.status.code().unwrap(), &secrets);
    }
    // exec that cannot run its command
    let not_executable = h.path().join("notes.txt");
    fs::write(&not_executable, "not a program\n").unwrap();
    for program in [
        Path::new("/no/such/program"),
        &not_executable,
        Path::new("/"),
    ] {
        let o = run(cmd().arg("exec").arg(&h.token).arg("--").arg(program));
        assert!(matches!(o.status.code(), Some(126 | 127)), "{program:?}");
        let err = stderr(&o);
        assert!(err.starts_with("handoff: cannot run"), "{err}");
        for s in secrets {
            assert!(!err.contains(s), "{err}");
        }
    }
}

#[test]
fn secrets_are_redacted_in_debug() {
    let token = handoff::parse_document(&sts_document()).unwrap();
    for shown in [
        format!("{token:?}"),
        format!("{token:#?}"),
        format!("{:?}", token.credentials()),
    ] {
        assert!(shown.contains(AKID), "{shown}");
        assert!(
            !shown.contains(SECRET) && !shown.contains(SESSION),
            "{shown}"
        );
    }
}
