//! Where handoff writes and what it reads as a secret key file: `-o` onto
//! things that are not regular files, `--write-profile` through symlinks,
//! with botocore's header rules and a bounded lock wait, and warnings for
//! identity and signing key files others can read.

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct Env {
    dir: tempfile::TempDir,
    public: String,
}

impl Env {
    fn new() -> Env {
        let (dir, public) = home_with_identity();
        Env { dir, public }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self) -> Command {
        handoff(self.dir.path())
    }

    fn seal(&self, extra: &[&str]) -> Command {
        let doc = self.path("doc.json");
        fs::write(&doc, sts_document()).unwrap();
        let mut c = self.cmd();
        c.args(["seal", "-r", &self.public, "--input"])
            .arg(doc)
            .args(extra);
        c
    }

    fn token(&self) -> PathBuf {
        let t = self.path("t.age");
        ok(&run(self.seal(&["-o"]).arg(&t)));
        t
    }
}

#[test]
fn output_onto_devices_fifos_and_links_is_written_into() {
    let e = Env::new();
    // a device (/dev/null, through a link of ours so that a regression
    // replaces the link, not the machine's /dev/null), with and without
    // --force: written into, still there afterwards
    let null = e.path("null");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    for force in [true, false] {
        let mut c = e.seal(&["-o"]);
        c.arg(&null);
        if force {
            c.arg("--force");
        }
        ok(&run(&mut c));
        assert!(fs::symlink_metadata(&null)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
    }
    // a link to /dev/stdout: the token comes out on stdout, the link stays
    let link = e.path("out");
    std::os::unix::fs::symlink("/dev/stdout", &link).unwrap();
    let o = run(e.seal(&["-a", "--force", "-o"]).arg(&link));
    assert!(
        ok(&o).starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "nothing on stdout"
    );
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // keygen -o the same way: the identity goes to stdout, nothing replaced
    let o = run(e.cmd().args(["keygen", "--force", "-o"]).arg(&link));
    assert!(ok(&o).contains("AGE-SECRET-KEY-1"), "{}", stdout(&o));
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // a FIFO: written into, still a FIFO
    let fifo = e.path("fifo");
    ok(&Command::new("mkfifo").arg(&fifo).output().unwrap());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let o = run(e.seal(&["--force", "-o"]).arg(&fifo));
    // if handoff never opened the FIFO, the reader still waits: end it
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
    }
    ok(&o);
    assert!(reader
        .join()
        .unwrap()
        .starts_with(b"age-encryption.org/v1\n"));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    // a directory: refused, exit 1
    let err = fails(
        &run(e.seal(&["--force", "-o"]).arg(e.path(""))),
        1,
        &[SECRET],
    );
    assert!(err.contains("is a directory"), "{err}");
}

fn configparser(path: &Path, profile: &str, key: &str) -> String {
    let o = Command::new(venv_bin("python"))
        .arg("-c")
        .arg(
            "import configparser, sys; c = configparser.RawConfigParser(); c.read(sys.argv[1]); \
             print(c[sys.argv[2]][sys.argv[3]])",
        )
        .arg(path)
        .args([profile, key])
        .output()
        .unwrap();
    ok(&o).trim().to_string()
}

fn aws_get(home: &Path, credentials: &Path, profile: &str, key: &str) -> String {
    let mut c = Command::new(venv_bin("aws"));
    isolate(&mut c, home);
    c.env("AWS_SHARED_CREDENTIALS_FILE", credentials)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .args(["configure", "get", key, "--profile", profile]);
    ok(&run(&mut c)).trim().to_string()
}

#[test]
fn write_profile_through_a_symlink_with_botocores_headers() {
    let e = Env::new();
    let t = e.token();
    let real = e.path("dotfiles/aws-credentials");
    fs::create_dir_all(real.parent().unwrap()).unwrap();
    // a BOM, a header with an inline comment, an indented bracket line that
    // continues a value, and the profile twice
    fs::write(
        &real,
        "\u{feff}[default]\naws_access_key_id = AKIADEFAULT\nnote = a\n  [work]\n\
         [work] ; mine\naws_access_key_id = OLD\n\n[other]\naws_access_key_id = AKIAOTHER\n\
         [work]\naws_access_key_id = OLDER\n",
    )
    .unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = e.path("credentials");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run(e
        .cmd()
        .env("AWS_SHARED_CREDENTIALS_FILE", &link)
        .arg("open")
        .arg(&t)
        .args(["--write-profile", "work"]));
    ok(&o);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let text = fs::read_to_string(&real).unwrap();
    assert_eq!(text.matches("\n[work]").count(), 1, "{text}");
    assert!(!text.contains("OLD") && text.contains("  [work]"), "{text}");
    // group-readable before: 0600 after, never wider
    assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o600);
    for (profile, want) in [
        ("work", AKID),
        ("default", "AKIADEFAULT"),
        ("other", "AKIAOTHER"),
    ] {
        assert_eq!(configparser(&real, profile, "aws_access_key_id"), want);
        assert_eq!(
            aws_get(e.dir.path(), &link, profile, "aws_access_key_id"),
            want
        );
    }
    assert_eq!(configparser(&real, "default", "note"), "a\n[work]");
    // an owner-only mode is kept
    fs::set_permissions(&real, fs::Permissions::from_mode(0o400)).unwrap();
    ok(&run(e
        .cmd()
        .env("AWS_SHARED_CREDENTIALS_FILE", &link)
        .arg("open")
        .arg(&t)
        .args(["--write-profile", "work"])));
    assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o400);
}

#[test]
fn a_held_credentials_lock_is_waited_for_a_bounded_time() {
    let e = Env::new();
    let t = e.token();
    let creds = e.path("credentials");
    let lock = e.path("credentials.lock");
    fs::write(&lock, "").unwrap();
    let mut holder = Command::new(system_tool("flock"))
        .arg(&lock)
        .args(["sleep", "60"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // flock has the lock once the file is locked: wait for that
    let held = Instant::now();
    while Command::new(system_tool("flock"))
        .args(["-n"])
        .arg(&lock)
        .arg("true")
        .status()
        .unwrap()
        .success()
    {
        assert!(
            held.elapsed() < Duration::from_secs(10),
            "flock never held the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let start = Instant::now();
    let o = run(e
        .cmd()
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .arg("open")
        .arg(&t)
        .args(["--write-profile", "work"]));
    let took = start.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("waiting for the lock") && err.contains("credentials.lock"),
        "{err}"
    );
    assert!(err.contains("still locked"), "{err}");
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(30),
        "{took:?}"
    );
    assert!(!creds.exists());
}

#[test]
fn key_files_others_can_read_are_used_with_a_warning() {
    let e = Env::new();
    let t = e.token();
    let id = e.path(".config/handoff/identity.txt");
    let quiet = run(e.cmd().arg("open").arg(&t).arg("-i").arg(&id));
    ok(&quiet);
    assert_eq!(stderr(&quiet), "", "a 0600 identity file needs no warning");
    fs::set_permissions(&id, fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(e.cmd().arg("open").arg(&t).arg("-i").arg(&id));
    ok(&o);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("identity.txt") && err.contains("0644"),
        "{err}"
    );
    // the default identity, found without -i, the same
    let err = stderr(&run(e.cmd().arg("open").arg(&t)));
    assert!(err.contains("0644"), "{err}");
    // a signing key
    let key = e.path("sign");
    ok(&Command::new(system_tool("ssh-keygen"))
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .unwrap());
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
    let o = run(e.seal(&["-a", "--sign"]).arg(&key));
    ok(&o);
    let err = stderr(&o);
    assert!(err.contains("signing key") && err.contains("0640"), "{err}");
}
