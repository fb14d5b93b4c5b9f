//! Interop with tools nobody here wrote, through the real `handoff` binary:
//! the Go reference `age` and `age-keygen`, OpenSSH's `ssh-keygen`, Python's
//! `cbor2` (fixtures/interop/cbor_tool.py) and botocore.
//!
//! What `handoff seal` writes, `age -d` decrypts to an envelope that `cbor2`
//! reads with exactly the contract's keys; what `age -e` seals around a
//! `cbor2`-written envelope, `handoff open` opens. Both ways for binary and
//! armored files, SSH keys, recipients files, passphrases and identity files.
//!
//! Passphrases and encrypted SSH keys are asked for on a terminal only (by the
//! Go `age` always, by handoff without `--passphrase-file`), so those tests
//! drive a pseudo-terminal with fixtures/interop/pty_answer.py, which bounds
//! every wait with a timeout and kills what it started.
//!
//! Missing tools fail the test with how to get them (scripts/setup); nothing
//! is skipped.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use common::{
    fails, handoff, handoff_bin, isolate, ok, run, run_with_input, stderr, stdout, sts_document,
    system_tool, venv_bin, AKID, SECRET, SESSION,
};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const FED_ID: &str = "123456789012:TestUser";
const FED_ARN: &str = "arn:aws:sts::123456789012:federated-user/TestUser";
const ROLE_ID: &str = "AROA3XFRBF535PLBIFPI4:s3-access-example";
const ROLE_ARN: &str = "arn:aws:sts::123456789012:assumed-role/demo/s3-access-example";
/// The expiration of `sts_document()`, as an instant.
const EXPIRATION: &str = "2099-01-01T00:00:00Z";
/// How long a pty-driven command may take before it is killed. The Go `age`
/// uses scrypt work factor 2^18 (about a second here); this leaves room for a
/// loaded machine.
const PTY_TIMEOUT_SECS: u32 = 90;

// ---------------------------------------------------------------------------
// Scratch space and tools

/// A temporary directory holding keys and tokens, with a HOME inside it.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("home")).expect("home");
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn home(&self) -> PathBuf {
        self.path("home")
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        fs::write(&p, contents).expect("write scratch file");
        p
    }

    /// The STS get-federation-token document of the common helpers.
    fn document(&self) -> PathBuf {
        self.write("document.json", sts_document())
    }

    /// `handoff` with HOME and XDG_CONFIG_HOME inside this scratch space.
    fn handoff(&self) -> Command {
        handoff(&self.home())
    }

    /// `handoff` in a new session with no controlling terminal (via
    /// `setsid`), so it cannot ask anything even when the tests run from a
    /// terminal.
    fn handoff_no_tty(&self) -> Command {
        let mut c = Command::new(system_tool("setsid"));
        c.arg(env!("CARGO_BIN_EXE_handoff"));
        isolate(&mut c, &self.home());
        c
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/interop")
        .join(name)
}

/// A system tool (age, age-keygen, ssh-keygen, sh) with stdin closed.
fn tool(name: &str) -> Command {
    let mut c = Command::new(system_tool(name));
    c.stdin(Stdio::null());
    c
}

/// Runs `c`, which must succeed; returns its output.
#[track_caller]
fn succeed(c: &mut Command) -> Output {
    let o = run(c);
    assert!(
        o.status.success(),
        "{c:?} failed with {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(&o),
        stderr(&o)
    );
    o
}

/// `age-keygen -o NAME`; returns the identity file and its public key (from
/// `age-keygen -y`).
fn age_keygen(s: &Scratch, name: &str) -> (PathBuf, String) {
    let key = s.path(name);
    succeed(tool("age-keygen").arg("-o").arg(&key));
    let public = stdout(&succeed(tool("age-keygen").arg("-y").arg(&key)))
        .trim()
        .to_string();
    assert!(public.starts_with("age1"), "{public}");
    (key, public)
}

/// `ssh-keygen -t ...` into the scratch directory, with the given
/// passphrase (empty for none); returns the private key file and the public
/// key line (with its comment).
fn ssh_keygen(s: &Scratch, name: &str, kind: &[&str], passphrase: &str) -> (PathBuf, String) {
    common::ssh_keygen(s.dir.path(), name, kind, passphrase, "interop test key")
}

/// `age -d -i ID... FILE`, which must succeed; returns the plaintext.
#[track_caller]
fn age_decrypt(ids: &[&Path], file: &Path) -> Vec<u8> {
    let mut c = tool("age");
    c.arg("-d");
    for id in ids {
        c.arg("-i").arg(id);
    }
    succeed(c.arg(file)).stdout
}

/// `age -e [ARGS] -o OUT IN` (ARGS gives the recipients and `-a`).
#[track_caller]
fn age_encrypt<S: AsRef<OsStr>>(args: &[S], input: &Path, out: &Path) {
    succeed(
        tool("age")
            .arg("-e")
            .args(args)
            .arg("-o")
            .arg(out)
            .arg(input),
    );
}

/// Runs `program args` on a pseudo-terminal (fixtures/interop/pty_answer.py),
/// typing each answer after its prompt; the command's stdout goes to
/// `stdout_file`. The environment is isolated in the scratch HOME.
fn on_pty<S: AsRef<OsStr>>(
    s: &Scratch,
    answers: &[(&str, &str)],
    stdout_file: Option<&Path>,
    program: &Path,
    args: &[S],
) -> Output {
    let mut c = Command::new(venv_bin("python"));
    c.arg(fixture("pty_answer.py"))
        .arg("--timeout")
        .arg(PTY_TIMEOUT_SECS.to_string());
    if let Some(f) = stdout_file {
        c.arg("--stdout").arg(f);
    }
    for (expect, send) in answers {
        c.args(["--expect", expect, "--send", send]);
    }
    c.arg("--").arg(program).args(args);
    isolate(&mut c, &s.home());
    run(&mut c)
}

#[track_caller]
fn pty_succeeded(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} on a pty failed with {:?}\n{}",
        o.status.code(),
        stderr(o)
    );
}

// ---------------------------------------------------------------------------
// cbor2: reading and writing envelopes

/// Reads `plaintext` with Python's cbor2 and returns it as typed JSON (see
/// fixtures/interop/cbor_tool.py): exactly one CBOR item, or the test fails.
#[track_caller]
fn cbor2_read(s: &Scratch, plaintext: &[u8]) -> Value {
    let file = tempfile::NamedTempFile::new_in(s.dir.path()).expect("temp file");
    fs::write(file.path(), plaintext).expect("write plaintext");
    let o = succeed(
        Command::new(venv_bin("python"))
            .arg(fixture("cbor_tool.py"))
            .arg("dump")
            .arg(file.path()),
    );
    serde_json::from_slice(&o.stdout).expect("cbor_tool output is JSON")
}

/// Writes typed JSON as CBOR with Python's cbor2.
fn cbor2_write(s: &Scratch, name: &str, typed: &Value) -> PathBuf {
    let path = s.path(name);
    let mut c = Command::new(venv_bin("python"));
    c.arg(fixture("cbor_tool.py")).arg("write").arg(&path);
    let o = run_with_input(&mut c, typed.to_string().as_bytes());
    assert!(o.status.success(), "cbor_tool write: {}", stderr(&o));
    path
}

fn text(s: &str) -> Value {
    json!({ "text": s })
}

fn uint(n: u64) -> Value {
    json!({ "uint": n })
}

/// The entries of a typed CBOR map.
#[track_caller]
fn map<'a>(v: &'a Value, what: &str) -> &'a serde_json::Map<String, Value> {
    v.get("map")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{what} is not a CBOR map with text keys: {v}"))
}

#[track_caller]
fn assert_keys(m: &serde_json::Map<String, Value>, expected: &[&str], what: &str) {
    let got: BTreeSet<&str> = m.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(got, want, "the keys of {what}");
}

/// A date as the contract allows it: RFC 3339 text in UTC, or CBOR tag 0.
#[track_caller]
fn cbor_date(v: &Value, what: &str) -> OffsetDateTime {
    let s = v
        .get("text")
        .or_else(|| v.get("datetime"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{what} is not a date (text or tag 0): {v}"));
    let t = OffsetDateTime::parse(s, &Rfc3339)
        .unwrap_or_else(|e| panic!("{what} {s:?} is not RFC 3339: {e}"));
    assert!(t.offset().is_utc(), "{what} {s:?} is not UTC");
    t
}

fn instant(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &Rfc3339).expect("test date")
}

/// Checks the envelope `handoff seal` made from `sts_document()`: exactly the
/// contract's keys, with the document's values, an IssuedAt within
/// `issued` (to the second) and the label, if one was given.
#[track_caller]
fn check_sealed_envelope(v: &Value, label: Option<&str>, issued: (SystemTime, SystemTime)) {
    let top = map(v, "the envelope");
    let mut keys = vec![
        "Version",
        "Kind",
        "Credentials",
        "FederatedUser",
        "PackedPolicySize",
        "IssuedAt",
    ];
    if label.is_some() {
        keys.push("Label");
    }
    assert_keys(top, &keys, "the envelope");
    assert_eq!(top["Version"], uint(1), "Version");
    assert_eq!(top["Kind"], text("federation"), "Kind");

    let creds = map(&top["Credentials"], "Credentials");
    assert_keys(
        creds,
        &[
            "AccessKeyId",
            "SecretAccessKey",
            "SessionToken",
            "Expiration",
        ],
        "Credentials",
    );
    assert_eq!(creds["AccessKeyId"], text(AKID));
    assert_eq!(creds["SecretAccessKey"], text(SECRET));
    assert_eq!(creds["SessionToken"], text(SESSION));
    assert_eq!(
        cbor_date(&creds["Expiration"], "Expiration"),
        instant(EXPIRATION)
    );

    let user = map(&top["FederatedUser"], "FederatedUser");
    assert_keys(user, &["FederatedUserId", "Arn"], "FederatedUser");
    assert_eq!(user["FederatedUserId"], text(FED_ID));
    assert_eq!(user["Arn"], text(FED_ARN));
    assert_eq!(top["PackedPolicySize"], uint(6), "PackedPolicySize");

    let at = cbor_date(&top["IssuedAt"], "IssuedAt");
    let (before, after) = issued;
    let before = OffsetDateTime::from(before) - Duration::from_secs(1);
    let after = OffsetDateTime::from(after) + Duration::from_secs(1);
    assert!(
        before <= at && at <= after,
        "IssuedAt {at} is not between {before} and {after}"
    );
    if let Some(label) = label {
        assert_eq!(top["Label"], text(label), "Label");
    }
}

/// Who the envelope says the credentials belong to.
#[derive(Clone, Copy)]
enum User {
    Federated,
    Role,
}

/// What `handoff open` should print for a token.
struct Expected<'a> {
    kind: &'a str,
    user: User,
    packed_policy_size: Option<u64>,
    region: Option<&'a str>,
    label: Option<&'a str>,
}

const FROM_STS_DOCUMENT: Expected<'static> = Expected {
    kind: "federation",
    user: User::Federated,
    packed_policy_size: Some(6),
    region: None,
    label: None,
};

/// A federation envelope as a Python program would write it with cbor2,
/// with `expiration` as given, a region, a label, and keys no handoff knows
/// (holding every CBOR type, including an unknown tag), which readers ignore.
fn python_federation_envelope(expiration: Value) -> Value {
    json!({ "map": {
        "Version": uint(1),
        "Kind": text("federation"),
        "Credentials": { "map": {
            "AccessKeyId": text(AKID),
            "SecretAccessKey": text(SECRET),
            "SessionToken": text(SESSION),
            "Expiration": expiration,
        }},
        "FederatedUser": { "map": {
            "FederatedUserId": text(FED_ID),
            "Arn": text(FED_ARN),
        }},
        "PackedPolicySize": uint(6),
        "Region": text("eu-west-1"),
        "IssuedAt": text("2026-01-01T00:00:00Z"),
        "Label": text("from python"),
        "FutureField": { "map": {
            "nested": { "array": [
                uint(1), text("x"), { "bytes": "00ff" }, { "nint": -7 },
                { "float": 1.5 }, { "bool": true }, { "null": null },
                { "tag": 12345, "value": text("unknown tag") },
            ]},
        }},
        "ZZ": { "tag": 1, "value": uint(1_700_000_000) },
    }})
}

/// A role envelope with both dates as CBOR tag 0 (a Python datetime) and an
/// unknown key.
fn python_role_envelope() -> Value {
    json!({ "map": {
        "Version": uint(1),
        "Kind": text("role"),
        "Credentials": { "map": {
            "AccessKeyId": text(AKID),
            "SecretAccessKey": text(SECRET),
            "SessionToken": text(SESSION),
            "Expiration": { "datetime": EXPIRATION },
        }},
        "AssumedRoleUser": { "map": {
            "AssumedRoleId": text(ROLE_ID),
            "Arn": text(ROLE_ARN),
        }},
        "Policy": text(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeImages"],"Resource":"*"}]}"#),
        "IssuedAt": { "datetime": "2026-01-01T00:00:00Z" },
        "SomethingNew": { "array": [text("ignored")] },
    }})
}

const PYTHON_FEDERATION: Expected<'static> = Expected {
    kind: "federation",
    user: User::Federated,
    packed_policy_size: Some(6),
    region: Some("eu-west-1"),
    label: Some("from python"),
};

const PYTHON_ROLE: Expected<'static> = Expected {
    kind: "role",
    user: User::Role,
    packed_policy_size: None,
    region: None,
    label: None,
};

// ---------------------------------------------------------------------------
// Checking what `handoff open` and `handoff show` print

/// `handoff open TOKEN ARGS --format F`, which must succeed.
#[track_caller]
fn open_format<S: AsRef<OsStr>>(s: &Scratch, token: &Path, args: &[S], format: &str) -> String {
    ok(&run(s
        .handoff()
        .arg("open")
        .arg(token)
        .args(args)
        .args(["--format", format])))
}

#[track_caller]
fn check_json(out: &str, e: &Expected) {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|err| panic!("{err}: {out}"));
    let creds = &v["Credentials"];
    assert_eq!(creds["AccessKeyId"], AKID, "{out}");
    assert_eq!(creds["SecretAccessKey"], SECRET, "{out}");
    assert_eq!(creds["SessionToken"], SESSION, "{out}");
    assert_eq!(
        instant(creds["Expiration"].as_str().expect("Expiration")),
        instant(EXPIRATION)
    );
    match e.user {
        User::Federated => {
            assert_eq!(v["FederatedUser"]["FederatedUserId"], FED_ID, "{out}");
            assert_eq!(v["FederatedUser"]["Arn"], FED_ARN, "{out}");
            assert!(v.get("AssumedRoleUser").is_none(), "{out}");
        }
        User::Role => {
            assert_eq!(v["AssumedRoleUser"]["AssumedRoleId"], ROLE_ID, "{out}");
            assert_eq!(v["AssumedRoleUser"]["Arn"], ROLE_ARN, "{out}");
            assert!(v.get("FederatedUser").is_none(), "{out}");
        }
    }
    match e.packed_policy_size {
        Some(n) => assert_eq!(v["PackedPolicySize"], n, "{out}"),
        None => assert!(v.get("PackedPolicySize").is_none(), "{out}"),
    }
    if let Some(r) = e.region {
        assert_eq!(v["Region"], r, "{out}");
    }
    if let Some(l) = e.label {
        assert_eq!(v["Label"], l, "{out}");
    }
}

#[track_caller]
fn check_credential_process(out: &str) {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|err| panic!("{err}: {out}"));
    let keys: BTreeSet<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "Version",
            "AccessKeyId",
            "SecretAccessKey",
            "SessionToken",
            "Expiration"
        ]),
        "{out}"
    );
    assert_eq!(v["Version"], 1, "{out}");
    assert_eq!(v["AccessKeyId"], AKID, "{out}");
    assert_eq!(v["SecretAccessKey"], SECRET, "{out}");
    assert_eq!(v["SessionToken"], SESSION, "{out}");
    assert_eq!(
        instant(v["Expiration"].as_str().expect("Expiration")),
        instant(EXPIRATION)
    );
}

/// Evaluates the `env` output in `sh`, as `eval "$(handoff open t.age)"`
/// would, and checks the variables it sets.
#[track_caller]
fn check_env(out: &str, e: &Expected) {
    let o = run_with_input(
        tool("sh").args([
            "-c",
            r#"eval "$(cat)" && printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION" "${AWS_REGION-unset}""#,
        ]),
        out.as_bytes(),
    );
    assert!(
        o.status.success(),
        "sh could not eval:\n{out}\n{}",
        stderr(&o)
    );
    let got = stdout(&o);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 5, "{got}");
    assert_eq!(lines[0], AKID);
    assert_eq!(lines[1], SECRET);
    assert_eq!(lines[2], SESSION);
    assert_eq!(instant(lines[3]), instant(EXPIRATION));
    assert_eq!(lines[4], e.region.unwrap_or("unset"));
}

/// Parses the `ini` output; returns the section name.
#[track_caller]
fn check_ini(out: &str) -> String {
    let mut lines = out.lines().filter(|l| {
        let l = l.trim();
        !l.is_empty() && !l.starts_with('#') && !l.starts_with(';')
    });
    let header = lines.next().expect("a section header");
    let section = header
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or_else(|| panic!("no [section] header: {out}"))
        .to_string();
    let pairs: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not key = value: {l:?}"));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {k} in {out}"))
    };
    assert_eq!(get("aws_access_key_id"), AKID);
    assert_eq!(get("aws_secret_access_key"), SECRET);
    assert_eq!(get("aws_session_token"), SESSION);
    section
}

/// `handoff show`: the kind and the access key id, never a secret.
#[track_caller]
fn check_show(out: &str, e: &Expected) {
    assert!(out.contains(e.kind), "kind {} not shown:\n{out}", e.kind);
    assert!(out.contains(AKID), "access key id not shown:\n{out}");
    assert!(!out.contains(SECRET), "show printed the secret:\n{out}");
    assert!(
        !out.contains(SESSION),
        "show printed the session token:\n{out}"
    );
    match e.user {
        User::Federated => assert!(out.contains(FED_ARN), "{out}"),
        User::Role => assert!(out.contains(ROLE_ARN), "{out}"),
    }
    if let Some(l) = e.label {
        assert!(out.contains(l), "label not shown:\n{out}");
    }
}

/// Opens `token` with `args` (identities) in every format, and shows it.
#[track_caller]
fn check_every_format<S: AsRef<OsStr>>(s: &Scratch, token: &Path, args: &[S], e: &Expected) {
    check_json(&open_format(s, token, args, "json"), e);
    check_credential_process(&open_format(s, token, args, "credential-process"));
    check_env(&open_format(s, token, args, "env"), e);
    check_ini(&open_format(s, token, args, "ini"));
    let shown = ok(&run(s.handoff().arg("show").arg(token).args(args)));
    check_show(&shown, e);
}

/// Reads credentials the way the AWS SDKs do, with botocore, from the
/// profile `profile` of `config` (a config file) or `credentials` (a shared
/// credentials file). Returns access key id, secret key and token.
fn botocore_credentials(
    s: &Scratch,
    profile: &str,
    config: Option<&Path>,
    credentials: Option<&Path>,
) -> (String, String, String) {
    const SCRIPT: &str = r#"
import json, sys
import botocore.session
c = botocore.session.Session(profile=sys.argv[1]).get_credentials()
if c is None:
    sys.exit("botocore found no credentials")
f = c.get_frozen_credentials()
print(json.dumps([c.method, f.access_key, f.secret_key, f.token]))
"#;
    let nowhere = s.path("no-such-file");
    let mut c = Command::new(venv_bin("python"));
    c.args(["-c", SCRIPT, profile]);
    isolate(&mut c, &s.home());
    c.env("AWS_CONFIG_FILE", config.unwrap_or(&nowhere))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials.unwrap_or(&nowhere),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let o = succeed(&mut c);
    let v: Value = serde_json::from_slice(&o.stdout).expect("botocore output");
    let field = |i: usize| v[i].as_str().unwrap_or_default().to_string();
    (field(1), field(2), field(3))
}

// ---------------------------------------------------------------------------
// 1. handoff seal → age -d → cbor2

/// Seals `sts_document()` with `form_args` to a key made by age-keygen,
/// decrypts with `age -d` (after base64-decoding for `--base64`) and reads
/// the envelope with cbor2.
fn seal_then_go_age_and_cbor2(form_args: &[&str], base64: bool) {
    use base64::Engine;
    let s = Scratch::new();
    let (key, public) = age_keygen(&s, "key.txt");
    let doc = s.document();
    let label = "for the CI job: täglich, 10 €";
    let before = SystemTime::now();
    let o = run(s
        .handoff()
        .args(["seal", "-r", &public, "--label", label])
        .args(form_args)
        .arg("--input")
        .arg(&doc));
    let after = SystemTime::now();
    ok(&o);
    let sealed = s.write("token.age", &o.stdout);
    let plaintext = if base64 {
        let line = String::from_utf8(o.stdout.clone()).expect("base64 output is text");
        assert_eq!(line.trim_end().lines().count(), 1, "not one line: {line}");
        let binary = base64::engine::general_purpose::STANDARD
            .decode(line.trim_end())
            .expect("standard base64");
        let bin = s.write("token.bin.age", binary);
        age_decrypt(&[&key], &bin)
    } else {
        age_decrypt(&[&key], &sealed)
    };
    check_sealed_envelope(&cbor2_read(&s, &plaintext), Some(label), (before, after));
    // And handoff reads its own output in this form.
    let key_arg = [OsStr::new("-i"), key.as_os_str()];
    check_json(
        &open_format(&s, &sealed, &key_arg, "json"),
        &Expected {
            label: Some(label),
            ..FROM_STS_DOCUMENT
        },
    );
}

#[test]
fn seal_binary_decrypts_with_go_age_and_reads_with_cbor2() {
    seal_then_go_age_and_cbor2(&[], false);
}

#[test]
fn seal_armor_decrypts_with_go_age_and_reads_with_cbor2() {
    seal_then_go_age_and_cbor2(&["-a"], false);
}

#[test]
fn seal_base64_decrypts_with_go_age_and_reads_with_cbor2() {
    seal_then_go_age_and_cbor2(&["--base64"], true);
}

#[test]
fn seal_without_label_has_no_label_key() {
    let s = Scratch::new();
    let (key, public) = age_keygen(&s, "key.txt");
    let token = s.path("token.age");
    let before = SystemTime::now();
    ok(&run(s
        .handoff()
        .args(["seal", "-r", &public, "-o"])
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    let after = SystemTime::now();
    let mode = fs::metadata(&token).expect("token").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "sealed file mode {mode:o}");
    let plaintext = age_decrypt(&[&key], &token);
    check_sealed_envelope(&cbor2_read(&s, &plaintext), None, (before, after));
}

// ---------------------------------------------------------------------------
// 2. cbor2 envelope → age -e → handoff open / show

#[test]
fn cbor2_envelope_sealed_by_go_age_opens_in_every_format() {
    let s = Scratch::new();
    let (key, public) = age_keygen(&s, "key.txt");
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("token.age");
    age_encrypt(&["-r", &public], &plain, &token);
    let ids = [OsStr::new("-i"), key.as_os_str()];
    check_every_format(&s, &token, &ids, &PYTHON_FEDERATION);

    // From stdin too.
    let sealed = fs::read(&token).expect("token");
    let o = run_with_input(
        s.handoff()
            .args(["open", "-", "--format", "json", "-i"])
            .arg(&key),
        &sealed,
    );
    check_json(&ok(&o), &PYTHON_FEDERATION);

    // The SDKs read both AWS formats: credential_process through botocore's
    // process provider, and the ini section as a shared credentials file.
    let config = s.write(
        "aws-config",
        format!(
            "[profile interop]\ncredential_process = '{}' open '{}' -i '{}' --format credential-process\n",
            handoff_bin().display(),
            token.display(),
            key.display()
        ),
    );
    assert_eq!(
        botocore_credentials(&s, "interop", Some(&config), None),
        (AKID.into(), SECRET.into(), SESSION.into())
    );
    let ini = open_format(&s, &token, &ids, "ini");
    let section = check_ini(&ini);
    let credentials = s.write("aws-credentials", &ini);
    assert_eq!(
        botocore_credentials(&s, &section, None, Some(&credentials)),
        (AKID.into(), SECRET.into(), SESSION.into())
    );
}

#[test]
fn cbor2_envelope_with_tag0_expiration_sealed_by_go_age_opens() {
    let s = Scratch::new();
    let (key, public) = age_keygen(&s, "key.txt");
    let envelope = python_federation_envelope(json!({ "datetime": EXPIRATION }));
    let plain = cbor2_write(&s, "envelope.cbor", &envelope);
    // cbor2 really wrote tag 0 (0xc0) before the expiration text.
    let bytes = fs::read(&plain).expect("envelope");
    assert!(
        bytes
            .windows(22)
            .any(|w| w == b"\xc0\x742099-01-01T00:00:00Z"),
        "no tag 0 date in {bytes:02x?}"
    );
    for armor in [false, true] {
        let token = s.path(if armor { "token.asc" } else { "token.age" });
        let mut args = vec!["-r", &public];
        if armor {
            args.push("-a");
        }
        age_encrypt(&args, &plain, &token);
        let ids = [OsStr::new("-i"), key.as_os_str()];
        check_every_format(&s, &token, &ids, &PYTHON_FEDERATION);
    }
}

#[test]
fn cbor2_role_envelope_with_tag0_dates_sealed_by_go_age_armor_opens() {
    let s = Scratch::new();
    let (key, public) = age_keygen(&s, "key.txt");
    let plain = cbor2_write(&s, "envelope.cbor", &python_role_envelope());
    let token = s.path("token.asc");
    age_encrypt(&["-a", "-r", &public], &plain, &token);
    assert!(fs::read_to_string(&token)
        .expect("armor")
        .starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let ids = [OsStr::new("-i"), key.as_os_str()];
    check_every_format(&s, &token, &ids, &PYTHON_ROLE);
    let shown = ok(&run(s.handoff().arg("show").arg(&token).args(ids)));
    assert!(shown.contains("2026-01-01T00:00:00Z"), "issued-at: {shown}");
    assert!(shown.contains("ec2:DescribeImages"), "policy: {shown}");
}

// ---------------------------------------------------------------------------
// 3. SSH keys

fn ssh_both_ways(kind: &[&str]) {
    let s = Scratch::new();
    let (key, public) = ssh_keygen(&s, "id_key", kind, "");
    let doc = s.document();

    // handoff seal -r "$(cat key.pub)" → age -d -i key, binary and armored.
    for form in [None, Some("-a")] {
        let token = s.path("from-handoff.age");
        let _ = fs::remove_file(&token);
        let before = SystemTime::now();
        ok(&run(s
            .handoff()
            .args(["seal", "-r", &public])
            .args(form)
            .arg("-o")
            .arg(&token)
            .arg("--input")
            .arg(&doc)));
        let after = SystemTime::now();
        let plaintext = age_decrypt(&[&key], &token);
        check_sealed_envelope(&cbor2_read(&s, &plaintext), None, (before, after));
    }

    // age -e -R key.pub → handoff open -i key.
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("from-go-age.age");
    let pubfile = format!("{}.pub", key.display());
    age_encrypt(&["-R", &pubfile], &plain, &token);
    let ids = [OsStr::new("-i"), key.as_os_str()];
    check_every_format(&s, &token, &ids, &PYTHON_FEDERATION);
    // The public key line as -r, too.
    let token = s.path("from-go-age-r.age");
    age_encrypt(&["-a", "-r", &public], &plain, &token);
    check_json(&open_format(&s, &token, &ids, "json"), &PYTHON_FEDERATION);
}

#[test]
fn ssh_ed25519_key_interoperates_both_ways() {
    ssh_both_ways(&["ed25519"]);
}

#[test]
fn ssh_rsa_3072_key_interoperates_both_ways() {
    ssh_both_ways(&["rsa", "-b", "3072"]);
}

/// A passphrase-protected ed25519 key and a token sealed to it by the Go age.
fn encrypted_ssh_key_and_token(s: &Scratch) -> (PathBuf, String, PathBuf) {
    let (key, public) = ssh_keygen(s, "id_encrypted", &["ed25519"], "key passphrase");
    let plain = cbor2_write(
        s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("token.age");
    age_encrypt(&["-r", &public], &plain, &token);
    (key, public, token)
}

#[test]
fn encrypted_ssh_key_without_a_terminal_is_a_clean_exit_3() {
    let s = Scratch::new();
    let (key, _, token) = encrypted_ssh_key_and_token(&s);
    for command in ["open", "show"] {
        let o = run(s
            .handoff_no_tty()
            .arg(command)
            .arg(&token)
            .arg("-i")
            .arg(&key));
        fails(&o, 3, &[SECRET, SESSION, "key passphrase"]);
    }
}

/// Without a terminal, handoff cannot ask for the key's passphrase; the
/// message should say so rather than blame the recipient list.
#[test]
fn encrypted_ssh_key_without_a_terminal_says_it_needs_the_passphrase() {
    let s = Scratch::new();
    let (key, _, token) = encrypted_ssh_key_and_token(&s);
    let o = run(s
        .handoff_no_tty()
        .arg("open")
        .arg(&token)
        .arg("-i")
        .arg(&key));
    let err = fails(&o, 3, &[SECRET, SESSION]);
    assert!(
        err.contains("passphrase") && !err.contains("sealed to someone else"),
        "an encrypted key that could not be unlocked without a terminal is reported as: {err}"
    );
}

#[test]
fn encrypted_ssh_key_is_unlocked_on_a_terminal() {
    let s = Scratch::new();
    let (key, public, token) = encrypted_ssh_key_and_token(&s);
    let prompt = "passphrase for OpenSSH key";

    // handoff open asks on the terminal and opens the Go age token.
    let out = s.path("open.json");
    let args = [
        OsStr::new("open"),
        token.as_os_str(),
        OsStr::new("-i"),
        key.as_os_str(),
        OsStr::new("--format"),
        OsStr::new("json"),
    ];
    let o = on_pty(
        &s,
        &[(prompt, "key passphrase")],
        Some(&out),
        &handoff_bin(),
        &args,
    );
    pty_succeeded(&o, "handoff open with an encrypted SSH key");
    check_json(
        &fs::read_to_string(&out).expect("open output"),
        &PYTHON_FEDERATION,
    );
    assert!(!stderr(&o).contains(SECRET), "{}", stderr(&o));

    // A wrong passphrase is exit 3, and nothing is printed.
    let out = s.path("wrong.json");
    let o = on_pty(&s, &[(prompt, "not it")], Some(&out), &handoff_bin(), &args);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(fs::read(&out).expect("open output"), b"");
    assert!(stderr(&o).contains("handoff: "), "{}", stderr(&o));
    assert!(!stderr(&o).contains(SECRET), "{}", stderr(&o));

    // What handoff seals to the key's public line, the Go age opens after
    // asking for the key's passphrase.
    let sealed = s.path("from-handoff.age");
    let before = SystemTime::now();
    ok(&run(s
        .handoff()
        .args(["seal", "-r", &public, "-o"])
        .arg(&sealed)
        .arg("--input")
        .arg(s.document())));
    let after = SystemTime::now();
    let plain = s.path("plain.cbor");
    let o = on_pty(
        &s,
        &[("Enter passphrase", "key passphrase")],
        Some(&plain),
        &system_tool("age"),
        &[
            OsStr::new("-d"),
            OsStr::new("-i"),
            key.as_os_str(),
            sealed.as_os_str(),
        ],
    );
    pty_succeeded(&o, "age -d with an encrypted SSH key");
    let plaintext = fs::read(&plain).expect("plaintext");
    check_sealed_envelope(&cbor2_read(&s, &plaintext), None, (before, after));
}

// ---------------------------------------------------------------------------
// 4. Recipients files

#[test]
fn recipients_file_with_several_recipients_works_both_ways() {
    let s = Scratch::new();
    let (alice, alice_pub) = age_keygen(&s, "alice.txt");
    let (bob, bob_pub) = age_keygen(&s, "bob.txt");
    let (carol, carol_pub) = ssh_keygen(&s, "carol_ed25519", &["ed25519"], "");
    // The format both age and handoff read: # comments and blank lines.
    let recipients = s.write(
        "recipients.txt",
        format!(
            "# who may open the CI credentials\n\n# alice\n{alice_pub}\n\n# bob (laptop)\n{bob_pub}\n# carol's ssh key\n{carol_pub}\n\n"
        ),
    );
    let ids: [&Path; 3] = [&alice, &bob, &carol];

    // handoff seal -R → each identity opens it with age -d and handoff open.
    let token = s.path("from-handoff.age");
    let before = SystemTime::now();
    ok(&run(s
        .handoff()
        .arg("seal")
        .arg("-R")
        .arg(&recipients)
        .arg("-o")
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    let after = SystemTime::now();
    let mut plaintexts = Vec::new();
    for id in ids {
        plaintexts.push(age_decrypt(&[id], &token));
        check_credential_process(&open_format(
            &s,
            &token,
            &[OsStr::new("-i"), id.as_os_str()],
            "credential-process",
        ));
    }
    assert!(plaintexts.iter().all(|p| p == &plaintexts[0]));
    check_sealed_envelope(&cbor2_read(&s, &plaintexts[0]), None, (before, after));

    // age -e -R → handoff opens with each.
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("from-go-age.age");
    age_encrypt(&[OsStr::new("-R"), recipients.as_os_str()], &plain, &token);
    for id in ids {
        let args = [OsStr::new("-i"), id.as_os_str()];
        check_json(&open_format(&s, &token, &args, "json"), &PYTHON_FEDERATION);
    }

    // -R together with -r: every recipient can open.
    let (dave, dave_pub) = age_keygen(&s, "dave.txt");
    let token = s.path("mixed.age");
    ok(&run(s
        .handoff()
        .args(["seal", "-r", &dave_pub, "-R"])
        .arg(&recipients)
        .arg("-a")
        .arg("-o")
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    for id in [&dave, &alice, &carol] {
        let plaintext = age_decrypt(&[id.as_path()], &token);
        let envelope = cbor2_read(&s, &plaintext);
        let creds = map(
            &map(&envelope, "the envelope")["Credentials"],
            "Credentials",
        );
        assert_eq!(creds["AccessKeyId"], text(AKID));
        let args = [OsStr::new("-i"), id.as_os_str()];
        check_json(&open_format(&s, &token, &args, "json"), &FROM_STS_DOCUMENT);
    }
}

// ---------------------------------------------------------------------------
// 5. Passphrases

#[test]
fn handoff_passphrase_seal_opens_with_go_age_on_a_terminal() {
    let s = Scratch::new();
    let passphrase = "correct horse battery staple";
    let pass_file = s.write(
        "passphrase.txt",
        format!("{passphrase}\nsecond line is ignored\n"),
    );
    for armor in [false, true] {
        let token = s.path(if armor { "token.asc" } else { "token.age" });
        let before = SystemTime::now();
        let mut c = s.handoff();
        c.arg("seal").arg("--passphrase-file").arg(&pass_file);
        if armor {
            c.arg("-a");
        }
        ok(&run(c
            .arg("-o")
            .arg(&token)
            .arg("--input")
            .arg(s.document())));
        let after = SystemTime::now();
        let header = fs::read(&token).expect("token");
        if !armor {
            assert!(
                header.windows(9).any(|w| w == b"-> scrypt"),
                "not an scrypt stanza"
            );
        }
        let plain = s.path("plain.cbor");
        let o = on_pty(
            &s,
            &[("Enter passphrase", passphrase)],
            Some(&plain),
            &system_tool("age"),
            &[OsStr::new("-d"), token.as_os_str()],
        );
        pty_succeeded(&o, "age -d of a handoff passphrase token");
        let plaintext = fs::read(&plain).expect("plaintext");
        check_sealed_envelope(&cbor2_read(&s, &plaintext), None, (before, after));

        // A wrong passphrase file is a clean exit 3.
        let wrong = s.write("wrong.txt", "not the passphrase\n");
        let o = run(s
            .handoff_no_tty()
            .arg("open")
            .arg(&token)
            .arg("--passphrase-file")
            .arg(&wrong));
        fails(&o, 3, &[SECRET, SESSION, passphrase]);
    }
}

/// `age -e -p` (driven on a pty) → `handoff open --passphrase-file`.
///
/// The Go age always uses scrypt work factor 2^18, so this needs handoff to
/// accept 2^18 on any machine and in test (debug) builds too; the age crate's
/// default limit is its own timing calibration + 4, which an unoptimized
/// scrypt puts at about 2^15-2^17.
#[test]
fn go_age_passphrase_token_opens_with_handoff_passphrase_file() {
    let s = Scratch::new();
    let passphrase = "go age passphrase";
    let pass_file = s.write("passphrase.txt", format!("{passphrase}\n"));
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    for armor in [false, true] {
        let token = s.path(if armor { "token.asc" } else { "token.age" });
        let mut args = vec![OsStr::new("-e"), OsStr::new("-p")];
        if armor {
            args.push(OsStr::new("-a"));
        }
        args.extend([OsStr::new("-o"), token.as_os_str(), plain.as_os_str()]);
        let o = on_pty(
            &s,
            &[
                ("Enter passphrase", passphrase),
                ("Confirm passphrase", passphrase),
            ],
            None,
            &system_tool("age"),
            &args,
        );
        pty_succeeded(&o, "age -e -p");
        let pass_args = [OsStr::new("--passphrase-file"), pass_file.as_os_str()];
        let o = run(s
            .handoff_no_tty()
            .arg("open")
            .arg(&token)
            .args(pass_args)
            .args(["--format", "json"]));
        check_json(&ok(&o), &PYTHON_FEDERATION);
        let o = run(s.handoff_no_tty().arg("show").arg(&token).args(pass_args));
        check_show(&ok(&o), &PYTHON_FEDERATION);

        let wrong = s.write("wrong.txt", "not the passphrase\n");
        let o = run(s
            .handoff_no_tty()
            .arg("open")
            .arg(&token)
            .arg("--passphrase-file")
            .arg(&wrong));
        let err = fails(&o, 3, &[SECRET, SESSION, passphrase]);
        assert!(err.contains("passphrase"), "{err}");
    }
}

/// handoff's own terminal prompts: `seal -p` asks twice, `open` asks for a
/// passphrase token; without a terminal, `open` fails cleanly.
#[test]
fn handoff_asks_for_passphrases_on_a_terminal() {
    let s = Scratch::new();
    let passphrase = "typed on the terminal";
    let token = s.path("token.age");
    let doc = s.document();
    let before = SystemTime::now();
    let o = on_pty(
        &s,
        &[
            ("Passphrase:", passphrase),
            ("Confirm passphrase", passphrase),
        ],
        None,
        &handoff_bin(),
        &[
            OsStr::new("seal"),
            OsStr::new("-p"),
            OsStr::new("-o"),
            token.as_os_str(),
            OsStr::new("--input"),
            doc.as_os_str(),
        ],
    );
    pty_succeeded(&o, "handoff seal -p");
    let after = SystemTime::now();

    // The Go age opens it with the same passphrase.
    let plain = s.path("plain.cbor");
    let o = on_pty(
        &s,
        &[("Enter passphrase", passphrase)],
        Some(&plain),
        &system_tool("age"),
        &[OsStr::new("-d"), token.as_os_str()],
    );
    pty_succeeded(&o, "age -d of a handoff seal -p token");
    let plaintext = fs::read(&plain).expect("plaintext");
    check_sealed_envelope(&cbor2_read(&s, &plaintext), None, (before, after));

    // handoff open asks on the terminal.
    let out = s.path("open.json");
    let o = on_pty(
        &s,
        &[("Passphrase", passphrase)],
        Some(&out),
        &handoff_bin(),
        &[
            OsStr::new("open"),
            token.as_os_str(),
            OsStr::new("--format"),
            OsStr::new("json"),
        ],
    );
    pty_succeeded(&o, "handoff open of a passphrase token");
    check_json(
        &fs::read_to_string(&out).expect("open output"),
        &FROM_STS_DOCUMENT,
    );

    // No terminal and no --passphrase-file: exit 3.
    let o = run(s.handoff_no_tty().arg("open").arg(&token));
    let err = fails(&o, 3, &[SECRET, SESSION]);
    assert!(err.contains("passphrase"), "{err}");
}

// ---------------------------------------------------------------------------
// 6. Identity files

#[test]
fn identity_file_with_several_keys() {
    let s = Scratch::new();
    let (first, first_pub) = age_keygen(&s, "first.txt");
    let (second, second_pub) = age_keygen(&s, "second.txt");
    let mut both = fs::read_to_string(&first).expect("first");
    both.push('\n');
    both.push_str(&fs::read_to_string(&second).expect("second"));
    let both = s.write("keys.txt", both);

    // age-keygen -y and handoff keygen -y agree on every key in the file.
    let go = stdout(&succeed(tool("age-keygen").arg("-y").arg(&both)));
    let ours = ok(&run(s.handoff().arg("keygen").arg("-y").arg(&both)));
    assert_eq!(ours, go);
    assert_eq!(
        go.lines().collect::<Vec<_>>(),
        [first_pub.as_str(), second_pub.as_str()]
    );

    // Sealed to the second key: the file opens it, in both tools.
    let token = s.path("from-handoff.age");
    ok(&run(s
        .handoff()
        .args(["seal", "-r", &second_pub, "-o"])
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    let plaintext = age_decrypt(&[&both], &token);
    assert_eq!(
        map(&cbor2_read(&s, &plaintext), "the envelope")["Kind"],
        text("federation")
    );
    check_json(
        &open_format(&s, &token, &[OsStr::new("-i"), both.as_os_str()], "json"),
        &FROM_STS_DOCUMENT,
    );

    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("from-go-age.age");
    age_encrypt(&["-r", &second_pub], &plain, &token);
    check_json(
        &open_format(&s, &token, &[OsStr::new("-i"), both.as_os_str()], "json"),
        &PYTHON_FEDERATION,
    );
    // Several -i: the one that does not match is passed over.
    let args = [
        OsStr::new("-i"),
        first.as_os_str(),
        OsStr::new("-i"),
        second.as_os_str(),
    ];
    check_json(&open_format(&s, &token, &args, "json"), &PYTHON_FEDERATION);
}

#[test]
fn default_identity_path_is_used_without_i() {
    let s = Scratch::new();
    let dir = s.home().join(".config/handoff");
    fs::create_dir_all(&dir).expect("config dir");
    let default = dir.join("identity.txt");
    succeed(tool("age-keygen").arg("-o").arg(&default));
    let default_pub = stdout(&succeed(tool("age-keygen").arg("-y").arg(&default)))
        .trim()
        .to_string();

    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("token.age");
    age_encrypt(&["-r", &default_pub], &plain, &token);
    check_every_format(&s, &token, &[] as &[&str], &PYTHON_FEDERATION);

    // $HANDOFF_IDENTITY names another file, which then is the default.
    let (other, other_pub) = age_keygen(&s, "other.txt");
    let other_token = s.path("other.age");
    age_encrypt(&["-r", &other_pub], &plain, &other_token);
    let o = run(s
        .handoff()
        .env("HANDOFF_IDENTITY", &other)
        .arg("open")
        .arg(&other_token)
        .args(["--format", "json"]));
    check_json(&ok(&o), &PYTHON_FEDERATION);
    let o = run(s
        .handoff()
        .env("HANDOFF_IDENTITY", &other)
        .arg("open")
        .arg(&token));
    fails(&o, 3, &[SECRET, SESSION]);

    // No identity anywhere: exit 3, saying how to give one.
    fs::remove_file(&default).expect("remove default identity");
    let o = run(s.handoff().arg("open").arg(&token));
    let err = fails(&o, 3, &[SECRET, SESSION]);
    assert!(err.contains("-i"), "{err}");
}

#[test]
fn handoff_keygen_identity_works_with_go_age() {
    let s = Scratch::new();
    let key = s.path("handoff-key.txt");
    let public = ok(&run(s.handoff().arg("keygen").arg("-o").arg(&key)))
        .trim()
        .to_string();
    assert!(public.starts_with("age1"), "{public}");
    let mode = fs::metadata(&key).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "identity file mode {mode:o}");

    // age-keygen's format: "# created:", "# public key:", the secret key.
    let text_of = |p: &Path| fs::read_to_string(p).expect("identity file");
    let (go_key, _) = age_keygen(&s, "go-key.txt");
    let shape = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| l.split(':').next().unwrap_or("").chars().take(16).collect())
            .collect()
    };
    assert_eq!(shape(&text_of(&key)), shape(&text_of(&go_key)));
    assert!(text_of(&key).contains(&format!("# public key: {public}\n")));

    // Both tools derive the same public key from it.
    let go_y = stdout(&succeed(tool("age-keygen").arg("-y").arg(&key)));
    assert_eq!(go_y.trim(), public);
    let our_y = ok(&run(s.handoff().arg("keygen").arg("-y").arg(&key)));
    assert_eq!(our_y.trim(), public);

    // handoff seal → age -d -i; age -e → handoff open -i.
    let token = s.path("from-handoff.age");
    let before = SystemTime::now();
    ok(&run(s
        .handoff()
        .args(["seal", "-r", &public, "-o"])
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    let after = SystemTime::now();
    let plaintext = age_decrypt(&[&key], &token);
    check_sealed_envelope(&cbor2_read(&s, &plaintext), None, (before, after));
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    let token = s.path("from-go-age.age");
    age_encrypt(&["-r", &public], &plain, &token);
    check_json(
        &open_format(&s, &token, &[OsStr::new("-i"), key.as_os_str()], "json"),
        &PYTHON_FEDERATION,
    );

    // handoff keygen with no -o writes the default identity, which age -d
    // reads and handoff open uses.
    let default_pub = ok(&run(s.handoff().arg("keygen"))).trim().to_string();
    let default = s.home().join(".config/handoff/identity.txt");
    let go_y = stdout(&succeed(tool("age-keygen").arg("-y").arg(&default)));
    assert_eq!(go_y.trim(), default_pub);
    let token = s.path("to-default.age");
    age_encrypt(&["-r", &default_pub], &plain, &token);
    assert_eq!(age_decrypt(&[&default], &token), fs::read(&plain).unwrap());
    check_json(
        &open_format(&s, &token, &[] as &[&str], "json"),
        &PYTHON_FEDERATION,
    );
}

// ---------------------------------------------------------------------------
// 7. Wrong identities and things that are not tokens

#[test]
fn wrong_identity_is_exit_3_both_ways() {
    let s = Scratch::new();
    let (_, alice_pub) = age_keygen(&s, "alice.txt");
    let (mallory, _) = age_keygen(&s, "mallory.txt");
    let (mallory_ssh, _) = ssh_keygen(&s, "mallory_ed25519", &["ed25519"], "");
    let (mallory_rsa, _) = ssh_keygen(&s, "mallory_rsa", &["rsa", "-b", "3072"], "");

    // Sealed by the Go age to alice; opened with someone else's key.
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    for armor in [false, true] {
        let token = s.path("to-alice.age");
        let mut args = vec!["-r", &alice_pub];
        if armor {
            args.push("-a");
        }
        age_encrypt(&args, &plain, &token);
        for id in [&mallory, &mallory_ssh, &mallory_rsa] {
            for command in ["open", "show"] {
                let o = run(s
                    .handoff_no_tty()
                    .arg(command)
                    .arg(&token)
                    .arg("-i")
                    .arg(id));
                fails(&o, 3, &[SECRET, SESSION]);
            }
        }
        // Only a passphrase for a token sealed to a key.
        let pass = s.write("pass.txt", "some passphrase\n");
        let o = run(s
            .handoff_no_tty()
            .arg("open")
            .arg(&token)
            .arg("--passphrase-file")
            .arg(&pass));
        fails(&o, 3, &[SECRET, SESSION]);
    }

    // Sealed by handoff to alice; the Go age with mallory's keys refuses too.
    let token = s.path("from-handoff.age");
    ok(&run(s
        .handoff()
        .args(["seal", "-r", &alice_pub, "-o"])
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    for id in [&mallory, &mallory_ssh] {
        let o = run(tool("age").arg("-d").arg("-i").arg(id).arg(&token));
        assert!(!o.status.success(), "age -d with the wrong key succeeded");
        assert!(o.stdout.is_empty());
    }

    // A passphrase token opened with a key only.
    let pass = s.write("pass.txt", "the passphrase\n");
    let token = s.path("passphrase.age");
    ok(&run(s
        .handoff()
        .arg("seal")
        .arg("--passphrase-file")
        .arg(&pass)
        .arg("-o")
        .arg(&token)
        .arg("--input")
        .arg(s.document())));
    let o = run(s
        .handoff_no_tty()
        .arg("open")
        .arg(&token)
        .arg("-i")
        .arg(&mallory));
    fails(&o, 3, &[SECRET, SESSION, "the passphrase"]);
}

#[test]
fn go_age_files_that_are_not_handoff_tokens_are_exit_3() {
    let s = Scratch::new();
    let (key, public) = age_keygen(&s, "key.txt");
    let ids = [OsStr::new("-i"), key.as_os_str()];
    let open = |token: &Path| run(s.handoff_no_tty().arg("open").arg(token).args(ids));

    // Not CBOR; a CBOR map that is not an envelope; a newer envelope version.
    let hello = s.write("hello.txt", format!("hello {SECRET}\n"));
    let not_envelope = cbor2_write(&s, "other.cbor", &json!({ "map": { "a": uint(1) } }));
    let mut v2 = python_federation_envelope(text(EXPIRATION));
    v2["map"]["Version"] = uint(2);
    let v2 = cbor2_write(&s, "v2.cbor", &v2);
    for (plain, must_say) in [
        (&hello, None),
        (&not_envelope, None),
        (&v2, Some(["2", "1"])),
    ] {
        let token = s.path("token.age");
        age_encrypt(&["-r", &public], plain, &token);
        let err = fails(&open(&token), 3, &[SECRET, SESSION]);
        if let Some(versions) = must_say {
            for n in versions {
                assert!(
                    err.contains(n),
                    "the message does not name version {n}: {err}"
                );
            }
        }
    }

    // Truncated and damaged Go age files, binary and armored.
    let plain = cbor2_write(
        &s,
        "envelope.cbor",
        &python_federation_envelope(text(EXPIRATION)),
    );
    for armor in [false, true] {
        let token = s.path("whole.age");
        let mut args = vec!["-r", &public];
        if armor {
            args.push("-a");
        }
        age_encrypt(&args, &plain, &token);
        let whole = fs::read(&token).expect("token");
        let cut = s.write("cut.age", &whole[..whole.len() * 2 / 3]);
        fails(&open(&cut), 3, &[SECRET, SESSION]);
        if !armor {
            let mut flipped = whole.clone();
            let last = flipped.len() - 5;
            flipped[last] ^= 0x01;
            let flipped = s.write("flipped.age", flipped);
            fails(&open(&flipped), 3, &[SECRET, SESSION]);
        }
    }
}

// ---------------------------------------------------------------------------
// rage, the Rust age CLI, both ways

/// handoff seals (binary and armor) to a key rage-keygen made, and rage
/// opens it; rage seals handoff's envelope to a key handoff made, and handoff
/// opens it.
#[test]
fn rage_opens_what_handoff_seals_and_the_reverse() {
    let s = Scratch::new();
    let rage_bin = common::rage();
    let rage_keygen = rage_bin.with_file_name("rage-keygen");
    let key = s.path("rage-key.txt");
    succeed(Command::new(&rage_keygen).arg("-o").arg(&key));
    let public = stdout(&succeed(Command::new(&rage_keygen).arg("-y").arg(&key)))
        .trim()
        .to_string();
    assert!(public.starts_with("age1"), "{public}");
    let doc = s.document();
    let mut envelope = Vec::new();
    for form in [&[][..], &["-a"][..]] {
        let o = run(s
            .handoff()
            .args(["seal", "-r", &public])
            .args(form)
            .arg("--input")
            .arg(&doc));
        ok(&o);
        let sealed = s.write("to-rage.age", &o.stdout);
        envelope = succeed(
            Command::new(&rage_bin)
                .stdin(Stdio::null())
                .arg("-d")
                .arg("-i")
                .arg(&key)
                .arg(&sealed),
        )
        .stdout;
        assert!(!envelope.is_empty());
        let v = cbor2_read(&s, &envelope);
        assert_eq!(map(&v, "envelope")["Kind"], text("federation"), "{v}");
    }
    // the reverse: rage seals the envelope to handoff's own key
    let mine = s.path("mine.txt");
    let mine_public = ok(&run(s.handoff().args(["keygen", "-o"]).arg(&mine)))
        .trim()
        .to_string();
    let plain = s.write("envelope.cbor", &envelope);
    let back = s.path("from-rage.age");
    succeed(
        Command::new(&rage_bin)
            .stdin(Stdio::null())
            .args(["-e", "-a", "-r", &mine_public, "-o"])
            .arg(&back)
            .arg(&plain),
    );
    let key_arg = [OsStr::new("-i"), mine.as_os_str()];
    check_json(
        &open_format(&s, &back, &key_arg, "json"),
        &FROM_STS_DOCUMENT,
    );
}
