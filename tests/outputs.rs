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

use common::moto::Moto;
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
    // continues a value
    fs::write(
        &real,
        "\u{feff}[default]\naws_access_key_id = AKIADEFAULT\nnote = a\n  [work]\n\
         [work] ; mine\naws_access_key_id = OLD\n\n[other]\naws_access_key_id = AKIAOTHER\n",
    )
    .unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = e.path("credentials");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let write = |force: bool| {
        let mut c = e.cmd();
        c.env("AWS_SHARED_CREDENTIALS_FILE", &link)
            .env("AWS_CONFIG_FILE", e.path("config"))
            .arg("open")
            .arg(&t)
            .args(["--write-profile", "work"]);
        if force {
            c.arg("--force");
        }
        run(&mut c)
    };
    // not handoff's: refused without --force, naming the profile
    let err = fails(&write(false), 1, &[SECRET]);
    assert!(
        err.contains("profile [work]") && err.contains("--force"),
        "{err}"
    );
    assert!(fs::read_to_string(&real).unwrap().contains("OLD"));
    ok(&write(true));
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
    // an owner-only mode is kept; what handoff wrote, it replaces unasked
    fs::set_permissions(&real, fs::Permissions::from_mode(0o400)).unwrap();
    ok(&write(false));
    assert_eq!(fs::metadata(&real).unwrap().mode() & 0o777, 0o400);
}

#[test]
fn write_profile_keeps_line_breaks_refuses_odd_files_and_sets_the_region() {
    let e = Env::new();
    let moto = Moto::start();
    let t = e.path("t.age");
    ok(&run(e.seal(&["--region", "eu-west-2", "-o"]).arg(&t)));
    let creds = e.path("aws/credentials");
    let config = e.path("aws/config");
    fs::create_dir_all(creds.parent().unwrap()).unwrap();
    let open = |creds: &Path| {
        let mut c = e.cmd();
        c.env("AWS_SHARED_CREDENTIALS_FILE", creds)
            .env("AWS_CONFIG_FILE", &config)
            .arg("open")
            .arg(&t)
            .args(["--write-profile", "contractor"]);
        run(&mut c)
    };
    // CR-only line breaks: the section is found, replaced once, in CRs
    let cr = "[default]\raws_access_key_id = AKIADEFAULT\raws_secret_access_key = d\r\
              [contractor]\r# handoff: expires 2020-01-01T00:00:00Z\raws_access_key_id = OLD\r";
    fs::write(&creds, cr).unwrap();
    fs::write(&config, "[profile other]\r\noutput = json\r\n").unwrap();
    let o = open(&creds);
    ok(&o);
    let text = fs::read_to_string(&creds).unwrap();
    assert!(
        !text.contains('\n') && text.matches("[contractor]").count() == 1,
        "{text:?}"
    );
    assert!(text.starts_with("[default]\raws_access_key_id = AKIADEFAULT\r"));
    assert_eq!(
        configparser(&creds, "contractor", "aws_access_key_id"),
        AKID
    );
    // the region, in the config file, in its CRLFs, said on stderr
    assert_eq!(
        fs::read_to_string(&config).unwrap(),
        "[profile other]\r\noutput = json\r\n\r\n[profile contractor]\r\nregion = eu-west-2\r\n"
    );
    let err = stderr(&o);
    assert!(
        err.contains("region eu-west-2") && err.contains("config"),
        "{err}"
    );
    // the AWS CLI needs no other step
    let mut aws = Command::new(venv_bin("aws"));
    isolate(&mut aws, e.dir.path());
    aws.env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .args([
            "--profile",
            "contractor",
            "--output",
            "json",
            "sts",
            "get-caller-identity",
        ]);
    let out = ok(&run(&mut aws));
    assert!(out.contains("Account"), "{out}");
    // a second write leaves the region alone
    let o = open(&creds);
    ok(&o);
    assert!(!stderr(&o).contains("region"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&config)
            .unwrap()
            .matches("region")
            .count(),
        1
    );
    // not regular files: refused before anything is read, nothing beside
    let fifo = e.path("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for odd in [Path::new("/dev/zero"), fifo.as_path()] {
        let err = fails(&open(odd), 1, &[SECRET]);
        assert!(err.contains("is not a regular file"), "{err}");
    }
    assert!(!e.path("fifo.lock").exists());
    // a config file botocore refuses stops it before the credentials file
    // is touched
    let before = fs::read_to_string(&creds).unwrap();
    fs::write(&config, "[profile x]\n[profile x]\n").unwrap();
    let err = fails(&open(&creds), 1, &[SECRET]);
    assert!(err.contains("config line 2"), "{err}");
    assert_eq!(fs::read_to_string(&creds).unwrap(), before);
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

/// Each command once, in a way that writes to stderr: an error of its own
/// (not clap's), or a note. `keygen` writes its note on success.
fn stderr_cases(e: &Env) -> Vec<(Vec<String>, i32)> {
    let t = e.token();
    let missing = e.path("missing.age").display().to_string();
    let existing = e.path(".config/handoff/identity.txt").display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (
            s(&["keygen", "-o", &e.path("new-key").display().to_string()]),
            0,
        ),
        (s(&["keygen", "-o", &existing]), 1),
        (s(&["policy", "--allow", "NoSuchActionAnywhere"]), 2),
        (s(&["seal", "-r", &e.public, "--input", &missing]), 1),
        (s(&["open", &missing]), 3),
        (
            s(&["show", "--signers", &missing, &t.display().to_string()]),
            7,
        ),
        (s(&["exec", &missing, "--", "true"]), 3),
        (s(&["ec2", &missing, "DescribeRegions"]), 3),
        (s(&["issued", "--all"]), 1),
        (s(&["revoke", "nosuch"]), 1),
        (s(&["completions", "nosuch-shell"]), 2),
    ]
}

#[test]
fn a_closed_or_broken_stderr_never_panics() {
    let e = Env::new();
    // a ledger that is a directory: issued says it cannot read it
    let ledger = e.path("ledger");
    fs::create_dir(&ledger).unwrap();
    let mut cases = stderr_cases(&e);
    // every command clap lists is tried: those without a case of their own
    // (a command added later) with a flag they do not have
    let help = stdout(&run(e.cmd().arg("--help")));
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect();
    assert!(commands.len() >= 10, "{help}");
    for c in commands {
        if !cases.iter().any(|(a, _)| a[0] == c) {
            cases.push((vec![c, "--no-such-flag-anywhere".into()], 2));
        }
    }
    let fresh = || {
        let _ = fs::remove_file(e.path("new-key"));
    };
    for (args, want) in &cases {
        fresh();
        let mut c = e.cmd();
        c.env("HANDOFF_LEDGER", &ledger).args(args);
        // what it does with stderr open: the status to expect, and that it
        // wrote there at all
        let o = run(&mut c);
        let status = o.status.code().unwrap();
        assert_eq!(status, *want, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?} wrote nothing to stderr");
        // 2>&-
        fresh();
        let o = Command::new("sh")
            .arg("-c")
            .arg("exec \"$@\" 2>&-")
            .arg("sh")
            .arg(handoff_bin())
            .args(args)
            .env_clear()
            .env("HOME", e.dir.path())
            .env("HANDOFF_LEDGER", &ledger)
            .env("PATH", std::env::var_os("PATH").unwrap())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(status), "2>&- {args:?}");
        // a pipe whose reader is gone
        fresh();
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut c = e.cmd();
        c.env("HANDOFF_LEDGER", &ledger)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(writer);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(status), "broken pipe {args:?}");
    }
}

#[test]
fn seal_reads_its_input_before_asking_for_a_passphrase() {
    let e = Env::new();
    let missing = e.path("missing.json");
    // on a terminal (script(1)'s pty), where a passphrase would be asked
    for flags in ["-p", "-p -a"] {
        let o = run(Command::new("script")
            .arg("-qec")
            .arg(format!(
                "{} seal {flags} --input {}",
                handoff_bin().display(),
                missing.display()
            ))
            .arg("/dev/null")
            .env("HOME", e.dir.path())
            .stdin(Stdio::null()));
        let out = stdout(&o);
        assert!(out.contains("missing.json"), "{out}");
        assert!(
            !out.to_lowercase().contains("passphrase"),
            "asked first: {out}"
        );
    }
}
