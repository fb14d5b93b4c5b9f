//! Shared test helpers: the handoff binary, the external tools the tests use
//! (installed by scripts/setup, never skipped), and temporary homes.
#![allow(dead_code)]

pub mod leakcheck;
pub mod moto;
pub mod plugin;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The venv scripts/setup makes: moto_server, aws, python with boto3 and cbor2.
pub fn venv() -> PathBuf {
    std::env::var_os("HANDOFF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv"))
}

/// A program from the test venv; fails the test with how to get it.
pub fn venv_bin(name: &str) -> PathBuf {
    let p = venv().join("bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (or scripts/test), which installs moto[server], awscli, boto3 and cbor2 into {}",
        p.display(),
        venv().display()
    );
    p
}

/// A program on PATH (age, age-keygen, ssh-keygen); fails the test with how
/// to get it.
pub fn system_tool(name: &str) -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not on PATH: run scripts/setup (apt-get install age openssh-client)");
}

/// rage, the Rust age CLI: on PATH, else where scripts/setup builds it
/// (target/tools/bin); fails the test with how to get it.
pub fn rage() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/rage");
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = dir.join("rage");
        if p.is_file() {
            return p;
        }
    }
    assert!(
        built.is_file(),
        "rage is not on PATH nor in target/tools/bin: run scripts/setup (cargo install --locked --root target/tools rage)"
    );
    built
}

/// The handoff binary, with a clean environment rooted at `home`.
pub fn handoff(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_handoff"));
    isolate(&mut c, home);
    c
}

/// Clears AWS and handoff variables and points HOME and XDG_CONFIG_HOME into
/// `home`, so no test reads the developer's own files.
pub fn isolate(c: &mut Command, home: &Path) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if k.starts_with("AWS_")
            || k.starts_with("HANDOFF_")
            || k == "XDG_CONFIG_HOME"
            || k == "XDG_STATE_HOME"
            || k == "XDG_CACHE_HOME"
        {
            c.env_remove(&k);
        }
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdin(Stdio::null());
}

/// Runs a command with `input` on stdin.
pub fn run_with_input(c: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    let _ = writer.join();
    out
}

/// Runs a command and returns its output.
pub fn run(c: &mut Command) -> Output {
    c.output().expect("spawn")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Asserts a failure with `code`: a message on stderr of one or two lines
/// starting `handoff: `, nothing on stdout, and none of `secrets` anywhere.
#[track_caller]
pub fn fails(o: &Output, code: i32, secrets: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit {code}\nstdout: {}\nstderr: {err}",
        stdout(o)
    );
    assert!(
        o.stdout.is_empty(),
        "stdout not empty on failure: {}",
        stdout(o)
    );
    assert!(err.starts_with("handoff: "), "stderr: {err}");
    let lines = err.trim_end().lines().count();
    assert!((1..=2).contains(&lines), "{lines} lines of error: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    for s in secrets {
        assert!(!err.contains(s), "secret in stderr: {err}");
    }
    err
}

/// AWS's documented example values, never real-looking keys.
pub const AKID: &str = "ASIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const SESSION: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW";

/// An STS get-federation-token document with the example values, expiring
/// far in the future.
pub fn sts_document() -> String {
    format!(
        r#"{{"Credentials": {{"AccessKeyId": "{AKID}", "SecretAccessKey": "{SECRET}", "SessionToken": "{SESSION}", "Expiration": "2099-01-01T00:00:00+00:00"}},
  "FederatedUser": {{"FederatedUserId": "123456789012:TestUser", "Arn": "arn:aws:sts::123456789012:federated-user/TestUser"}},
  "PackedPolicySize": 6}}"#
    )
}

/// Asserts a usage error as clap reports it (exit 2): clap's whole message
/// on stderr, `error: ` first and the pointer to --help last, nothing on
/// stdout, plain text when stderr is not a terminal. Returns stderr.
#[track_caller]
pub fn usage_fails(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "expected exit 2\nstderr: {err}");
    assert!(o.stdout.is_empty(), "stdout not empty: {}", stdout(o));
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(
        err.trim_end()
            .ends_with("For more information, try '--help'."),
        "{err}"
    );
    assert!(
        !err.contains('\x1b'),
        "styled though not a terminal: {err:?}"
    );
    err
}

/// The handoff binary cargo built for the tests.
pub fn handoff_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_handoff"))
}

/// Makes the default identity in `home` (`handoff keygen`) and returns its
/// public key.
pub fn default_identity(home: &Path) -> String {
    ok(&run(handoff(home).arg("keygen"))).trim().to_string()
}

/// Seals the example STS document ([`sts_document`]) to `public` into
/// `token`, with `extra` arguments.
pub fn seal_document(home: &Path, public: &str, token: &Path, extra: &[&str]) {
    ok(&run_with_input(
        handoff(home)
            .args(["seal", "-r", public, "-o"])
            .arg(token)
            .args(extra),
        sts_document().as_bytes(),
    ));
}

/// A temporary home with a default identity (`handoff keygen`), and its
/// public key.
pub fn home_with_identity() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let public = default_identity(dir.path());
    (dir, public)
}

/// A temporary home with a default identity and a token sealed to it from
/// the example STS document, `t.age` in the home.
pub struct SealedHome {
    /// The home.
    pub dir: tempfile::TempDir,
    /// The default identity's public key.
    pub public: String,
    /// The sealed token.
    pub token: PathBuf,
}

impl SealedHome {
    pub fn new() -> SealedHome {
        let (dir, public) = home_with_identity();
        let token = dir.path().join("t.age");
        seal_document(dir.path(), &public, &token, &[]);
        SealedHome { dir, public, token }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// `ssh-keygen -q -t ...` into `dir/name`: `args` after `-t` (`["ed25519"]`,
/// `["rsa", "-b", "3072"]`), `passphrase` (empty for none) and `comment`.
/// Returns the private key file and the public key line.
pub fn ssh_keygen(
    dir: &Path,
    name: &str,
    args: &[&str],
    passphrase: &str,
    comment: &str,
) -> (PathBuf, String) {
    let key = dir.join(name);
    ok(&run(Command::new(system_tool("ssh-keygen"))
        .args(["-q", "-t"])
        .args(args)
        .args(["-N", passphrase, "-C", comment, "-f"])
        .arg(&key)
        .stdin(Stdio::null())));
    let public = std::fs::read_to_string(format!("{}.pub", key.display()))
        .expect("ssh public key")
        .trim()
        .to_string();
    (key, public)
}

/// One HTTP/1.1 message (head and Content-Length body) from a loopback
/// proxy's connection, or None at the end of the stream.
pub fn read_message(s: &mut impl std::io::BufRead) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    std::io::Read::read_exact(s, &mut body).ok()?;
    Some((head, body))
}
