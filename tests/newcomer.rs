//! A newcomer's first ten minutes (issue 23), from a clone: the demo
//! builds and runs from a fresh clone with an empty target directory and
//! installs only what it runs; scripts/audit passes in a clone with no
//! ../shared beside it; man finds the pages where the README puts them;
//! and the story's path from keygen to the AWS CLI reading a written
//! profile, against moto.
//!
//! The clones are `git clone`s of this repository's committed HEAD.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::moto::Moto;
use common::*;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A `git clone` of this repository into `dir/handoff`; `dir` holds
/// nothing else (no ../shared beside the clone).
fn clone_into(dir: &Path) -> PathBuf {
    let to = dir.join("handoff");
    let o = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(repo())
        .arg(&to)
        .stdin(Stdio::null())
        .output()
        .expect("git");
    assert!(o.status.success(), "git clone: {}", stderr(&o));
    to
}

/// Programs that must not run, on PATH before the real ones: each notes
/// its name and arguments in `calls` and fails.
fn forbidden(dir: &Path, calls: &Path, names: &[&str]) -> PathBuf {
    let bin = dir.join("forbidden");
    fs::create_dir_all(&bin).unwrap();
    for name in names {
        let p = bin.join(name);
        fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{}'\nexit 1\n",
                calls.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

fn path_with(first: &[&Path]) -> std::ffi::OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(
        first
            .iter()
            .map(|p| p.to_path_buf())
            .chain(std::env::split_paths(&rest)),
    )
    .unwrap()
}

/// A command with no AWS or handoff variables of the caller's.
fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if k.starts_with("AWS_")
            || k.starts_with("HANDOFF_")
            || k == "CARGO_TARGET_DIR"
            || k == "CARGO_BUILD_TARGET_DIR"
        {
            c.env_remove(&k);
        }
    }
    c.stdin(Stdio::null());
    c
}

fn both(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o))
}

/// scripts/demo from a fresh clone with an empty target directory: it
/// builds handoff (cargo's own progress shown), says each phase before it
/// starts, tells the story, and runs none of the test tools' installers
/// (apt-get, sudo, npm: they fail here and note that they ran; nothing
/// lands in target/tools or target/node). The venv is the one scripts/setup
/// made (HANDOFF_VENV), as on a machine that ran the demo once. Then
/// scripts/setup --demo on a machine with no venv: python3's venv is
/// replaced by one whose pip notes what it is asked to install, which must
/// be moto[server] and awscli alone. (This test builds handoff from
/// scratch once: a few minutes on 2 cores; the bench times the demo.)
#[test]
fn the_demo_runs_from_a_fresh_clone_and_installs_only_what_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clone = clone_into(dir.path());
    let calls = dir.path().join("calls.txt");
    let shims = forbidden(dir.path(), &calls, &["apt-get", "sudo", "npm", "rage"]);
    let target = dir.path().join("target");
    let o = clean(clone.join("scripts/demo"))
        .current_dir(&clone)
        .env("PATH", path_with(&[&shims]))
        .env("CARGO_TARGET_DIR", &target)
        .env("HANDOFF_VENV", venv())
        .output()
        .unwrap();
    let out = both(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        !calls.exists(),
        "{}\n{out}",
        fs::read_to_string(&calls).unwrap()
    );
    let err = stderr(&o);
    let mut at = 0;
    for phase in [
        "== demo 1/4: installing what the demo runs (scripts/setup --demo: moto[server] and the AWS CLI)",
        "== demo 2/4: building handoff (cargo build --profile demo",
        "Compiling handoff",
        "== demo 3/4: starting moto",
        "== demo 4/4: the story",
    ] {
        let i = err[at..]
            .find(phase)
            .unwrap_or_else(|| panic!("no {phase:?} (in order) in\n{out}"));
        at += i;
    }
    assert!(!err.contains("setup: installing"), "{out}");
    assert!(target.join("demo/handoff").is_file(), "{out}");
    for built in ["target/tools", "target/node", "target/venv"] {
        assert!(!clone.join(built).exists(), "{built}\n{out}");
    }
    let story = stdout(&o);
    for step in [
        "recipient$ handoff keygen",
        "holder$ handoff seal --federation TemporaryUser",
        "recipient$ handoff open token.age --write-profile contractor",
        "recipient$ handoff ec2 token.age DescribeAvailabilityZones",
    ] {
        assert!(story.contains(step), "{step}\n{out}");
    }

    // scripts/setup --demo on a machine with no venv
    let log = dir.path().join("pip.txt");
    let fake = dir.path().join("fake-python");
    fs::create_dir_all(&fake).unwrap();
    fs::write(
        fake.join("python3"),
        format!(
            "#!/bin/sh\n[ \"$1 $2\" = '-m venv' ] || exit 1\nmkdir -p \"$3/bin\"\nprintf '#!/bin/sh\\necho \"pip $*\" >> {}\\n' > \"$3/bin/pip\"\nchmod +x \"$3/bin/pip\"\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(fake.join("python3"), fs::Permissions::from_mode(0o755)).unwrap();
    let fresh = dir.path().join("fresh-venv");
    let o = clean(clone.join("scripts/setup"))
        .arg("--demo")
        .env("PATH", path_with(&[&shims, &fake]))
        .env("HANDOFF_VENV", &fresh)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", both(&o));
    assert!(!calls.exists(), "{}", fs::read_to_string(&calls).unwrap());
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        "pip --disable-pip-version-check install --progress-bar off moto[server] awscli\n"
    );
    assert_eq!(
        stderr(&o),
        format!(
            "setup: creating {} with moto[server] and awscli (pip)\n",
            fresh.display()
        )
    );
    // a second run installs nothing and says nothing
    let o = clean(clone.join("scripts/setup"))
        .arg("--demo")
        .env("PATH", path_with(&[&shims, &fake]))
        .env("HANDOFF_VENV", &fresh)
        .output()
        .unwrap();
    assert!(o.status.success() && o.stderr.is_empty(), "{}", both(&o));
}

/// cargo-audit as scripts/audit installed it (on PATH, else this checkout's
/// target/tools); scripts/test runs scripts/audit before the tests.
fn cargo_audit() -> PathBuf {
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if d.join("cargo-audit").is_file() {
            return d.join("cargo-audit");
        }
    }
    let built = repo().join("target/tools/bin/cargo-audit");
    assert!(
        built.is_file(),
        "cargo-audit is neither on PATH nor in target/tools/bin: run scripts/audit once, which installs it"
    );
    built
}

/// The advisory database this checkout audits with: HANDOFF_ADVISORY_DB,
/// else ../shared/advisory-db.
fn advisory_db() -> PathBuf {
    let db = std::env::var_os("HANDOFF_ADVISORY_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/advisory-db"));
    assert!(
        db.join("crates").is_dir(),
        "no advisory database at {}: set HANDOFF_ADVISORY_DB to a copy of the RustSec advisory-db",
        db.display()
    );
    db
}

/// scripts/audit in a clone with no ../shared beside it passes with a
/// local copy of the database given by HANDOFF_ADVISORY_DB, and with a
/// directory that is no database fails naming the three ways to give one.
#[test]
fn audit_runs_in_a_clone_with_no_shared_database() {
    let dir = tempfile::tempdir().unwrap();
    let clone = clone_into(dir.path());
    assert!(!dir.path().join("shared").exists());
    let db = dir.path().join("advisory-db");
    let o = Command::new("cp")
        .arg("-R")
        .arg(advisory_db())
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let audit = cargo_audit();
    let tools = audit.parent().unwrap();
    let run_audit = |db: &Path| {
        clean(clone.join("scripts/audit"))
            .env("PATH", path_with(&[tools]))
            .env("HANDOFF_ADVISORY_DB", db)
            .output()
            .unwrap()
    };
    let o = run_audit(&db);
    assert!(o.status.success(), "{}", both(&o));
    assert!(
        stderr(&o).starts_with(&format!("audit: the advisory database at {}", db.display())),
        "{}",
        both(&o)
    );
    assert!(
        !clone.join("target/tools").exists(),
        "cargo-audit was installed again"
    );

    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let o = run_audit(&empty);
    assert_eq!(o.status.code(), Some(1), "{}", both(&o));
    let err = stderr(&o);
    for way in [
        "audit: no advisory database (HANDOFF_ADVISORY_DB=",
        "  - HANDOFF_ADVISORY_DB=DIR, a copy of https://github.com/rustsec/advisory-db",
        "  - ../shared/advisory-db beside this checkout",
        "  - network access to github.com, for cargo audit's own fetch",
    ] {
        assert!(err.contains(way), "{way}\n{err}");
    }
}

/// The README's steps for the man pages: after them, `man -w` finds every
/// page from PATH alone (man-db looks in ../share/man beside each PATH
/// directory; no MANPATH), and the page shows its EXIT STATUS.
#[test]
fn man_finds_the_pages_where_the_readme_puts_them() {
    let man = PathBuf::from("/usr/bin/man");
    assert!(
        man.is_file(),
        "man is missing: run scripts/setup (apt-get install man-db)"
    );
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let step = readme
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("install -Dm644 docs/man/"))
        .expect("the README's install line for the man pages");
    let step = step.split("  #").next().unwrap().trim();
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join(".cargo/bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(handoff_bin(), bin.join("handoff")).unwrap();
    let o = clean("sh")
        .args(["-c", step])
        .current_dir(repo())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{step}: {}", both(&o));
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    for page in ["handoff", "handoff-seal", "handoff-revoke"] {
        let o = clean(&man)
            .args(["-w", page])
            .env("HOME", home.path())
            .env("PATH", &path)
            .env_remove("MANPATH")
            .output()
            .unwrap();
        assert!(o.status.success(), "man -w {page}: {}", both(&o));
        assert_eq!(
            stdout(&o).trim(),
            home.path()
                .join(format!(".cargo/share/man/man1/{page}.1"))
                .display()
                .to_string()
        );
    }
    let o = clean(&man)
        .arg("handoff")
        .env("HOME", home.path())
        .env("PATH", &path)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .env_remove("MANPATH")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", both(&o));
    assert!(stdout(&o).contains("EXIT STATUS"), "{}", both(&o));
}

/// The story's path as a newcomer walks it: the recipient makes a key, the
/// holder mints and seals with the example keys against moto, the
/// recipient writes the token into a profile, and the AWS CLI signs with
/// that profile (the recipient has no other credentials). The region comes
/// from AWS_DEFAULT_REGION: `--write-profile` writes no region into
/// ~/.aws/config yet.
#[test]
fn a_newcomer_s_path_from_keygen_to_the_aws_cli() {
    let moto = Moto::start();
    let work = tempfile::tempdir().unwrap();
    let recipient = work.path().join("recipient");
    let holder = work.path().join("holder");
    fs::create_dir_all(&recipient).unwrap();
    fs::create_dir_all(&holder).unwrap();
    let public = ok(&run(handoff(&recipient).arg("keygen")));
    let token = work.path().join("token.age");
    let o = run(handoff(&holder)
        .args([
            "seal",
            "--federation",
            "Newcomer",
            "--allow",
            "DescribeImages",
        ])
        .args(["--duration", "1h", "-r", public.trim(), "-o"])
        .arg(&token)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_ENDPOINT_URL", &moto.url));
    ok(&o);
    let o = run(handoff(&recipient)
        .arg("open")
        .arg(&token)
        .args(["--write-profile", "newcomer"]));
    ok(&o);
    assert!(
        stderr(&o).starts_with("Added profile [newcomer] in "),
        "{}",
        stderr(&o)
    );
    let aws = |profile: &str| {
        let mut c = Command::new(venv_bin("aws"));
        isolate(&mut c, &recipient);
        c.args(["--profile", profile, "sts", "get-caller-identity"])
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_PAGER", "");
        run(&mut c)
    };
    let o = aws("newcomer");
    assert!(o.status.success(), "{}", both(&o));
    assert!(
        stdout(&o).contains("\"Account\": \"123456789012\""),
        "{}",
        both(&o)
    );
    // the profile is what signed: another name finds nothing
    let o = aws("nobody");
    assert!(!o.status.success(), "{}", both(&o));
}
