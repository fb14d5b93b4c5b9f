//! The offline command line against the contract: every command, every
//! output format's round trip, every exit status with its message, and no
//! secret on any failure.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use handoff::{Credentials, Form, Kind, Recipients, Token};

struct Env {
    dir: tempfile::TempDir,
    public: String,
}

impl Env {
    /// A home with a default identity.
    fn new() -> Env {
        let (dir, public) = home_with_identity();
        Env { dir, public }
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self) -> Command {
        handoff(self.home())
    }

    /// Seals `doc` to the default identity and returns the token's path.
    fn seal_doc(&self, doc: &str, name: &str, extra: &[&str]) -> PathBuf {
        let out = self.path(name);
        let o = run_with_input(
            self.cmd()
                .args(["seal", "-r", &self.public, "-o"])
                .arg(&out)
                .args(extra),
            doc.as_bytes(),
        );
        ok(&o);
        out
    }

    /// Seals a token built with the library.
    fn seal_token(&self, token: &Token, name: &str) -> PathBuf {
        let mut r = Recipients::new();
        r.add(&self.public).unwrap();
        let sealed = handoff::seal(token, &r, Form::Binary).unwrap();
        let p = self.path(name);
        fs::write(&p, sealed).unwrap();
        p
    }

    /// Seals raw plaintext bytes with the age crate.
    fn seal_raw(&self, plaintext: &[u8], name: &str) -> PathBuf {
        use std::io::Write;
        let r: handoff::age::x25519::Recipient = self.public.parse().unwrap();
        let enc = handoff::age::Encryptor::with_recipients(std::iter::once(
            &r as &dyn handoff::age::Recipient,
        ))
        .unwrap();
        let mut out = vec![];
        let mut w = enc.wrap_output(&mut out).unwrap();
        w.write_all(plaintext).unwrap();
        w.finish().unwrap();
        let p = self.path(name);
        fs::write(&p, out).unwrap();
        p
    }
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn expired_token() -> Token {
    Token::new(
        Kind::Session,
        Credentials::new(
            AKID,
            SECRET.into(),
            Some(SESSION.into()),
            handoff::clock::parse_rfc3339("2020-01-01T00:00:00Z"),
        ),
    )
}

#[test]
fn keygen_writes_a_private_identity_and_never_clobbers() {
    let dir = tempfile::tempdir().unwrap();
    let id = dir.path().join("id.txt");
    let pk = ok(&run(handoff(dir.path()).args(["keygen", "-o"]).arg(&id)));
    assert!(pk.starts_with("age1") && pk.ends_with('\n'));
    assert_eq!(mode(&id), 0o600);
    let before = fs::read(&id).unwrap();
    let o = run(handoff(dir.path()).args(["keygen", "-o"]).arg(&id));
    let err = fails(&o, 1, &[]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(fs::read(&id).unwrap(), before);
    assert_eq!(
        ok(&run(handoff(dir.path()).args(["keygen", "-y"]).arg(&id))),
        pk
    );
    let pk2 = ok(&run(handoff(dir.path())
        .args(["keygen", "--force", "-o"])
        .arg(&id)));
    assert_ne!(pk, pk2);
    // the default path and HANDOFF_IDENTITY
    let pk3 = ok(&run(handoff(dir.path()).arg("keygen")));
    assert!(dir.path().join(".config/handoff/identity.txt").exists());
    assert_eq!(ok(&run(handoff(dir.path()).args(["keygen", "-y"]))), pk3);
    let other = dir.path().join("other.txt");
    let pk4 = ok(&run(handoff(dir.path())
        .arg("keygen")
        .env("HANDOFF_IDENTITY", &other)));
    assert_eq!(
        ok(&run(handoff(dir.path())
            .args(["keygen", "-y"])
            .env("HANDOFF_IDENTITY", &other))),
        pk4
    );
    fails(
        &run(handoff(dir.path()).args(["keygen", "-y", "/nonexistent/id"])),
        1,
        &[],
    );
}

#[test]
fn policy_prints_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(handoff(dir.path()).args([
        "policy",
        "--allow",
        "DescribeImages",
        "--allow",
        "run_instances",
        "--deny",
        "s3:*",
    ]));
    assert_eq!(
        ok(&o),
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ec2:DescribeImages\",\"ec2:RunInstances\"],\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":[\"s3:*\"],\"Resource\":\"*\"}]}\n"
    );
    let o = run(handoff(dir.path()).arg("policy"));
    assert!(ok(&o).contains("\"Effect\":\"Deny\",\"Action\":[\"ec2:*\"]"));
}

#[test]
fn every_output_format_round_trips_through_seal() {
    let e = Env::new();
    let t = e.seal_doc(
        &sts_document(),
        "t.age",
        &["--label", "for the build", "--region", "eu-west-1"],
    );
    assert_eq!(mode(&t), 0o600);
    for format in ["env", "json", "credential-process", "ini"] {
        let out = ok(&run(e.cmd().arg("open").arg(&t).args(["--format", format])));
        assert!(
            out.contains(AKID) && out.contains(SECRET) && out.contains(SESSION),
            "{format}: {out}"
        );
        // the output is itself a credential document seal reads
        let again = e.path(&format!("again-{format}.age"));
        ok(&run_with_input(
            e.cmd().args(["seal", "-r", &e.public, "-o"]).arg(&again),
            out.as_bytes(),
        ));
        let json = ok(&run(e
            .cmd()
            .arg("open")
            .arg(&again)
            .args(["--format", "json"])));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["Credentials"]["AccessKeyId"], AKID, "{format}");
        assert_eq!(v["Credentials"]["SecretAccessKey"], SECRET, "{format}");
        assert_eq!(v["Credentials"]["SessionToken"], SESSION, "{format}");
        assert_eq!(
            v["Credentials"]["Expiration"], "2099-01-01T00:00:00Z",
            "{format}"
        );
    }
    let json = ok(&run(e.cmd().arg("open").arg(&t).args(["--format", "json"])));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["FederatedUser"]["Arn"],
        "arn:aws:sts::123456789012:federated-user/TestUser"
    );
    assert_eq!(v["PackedPolicySize"], 6);
    let cp = ok(&run(e
        .cmd()
        .arg("open")
        .arg(&t)
        .args(["--format", "credential-process"])));
    let v: serde_json::Value = serde_json::from_str(&cp).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["Expiration"], "2099-01-01T00:00:00Z");
    let env = ok(&run(e.cmd().arg("open").arg(&t)));
    // the unset line first, then every value quoted (zsh too)
    assert!(
        env.lines().nth(1) == Some(&format!("export AWS_ACCESS_KEY_ID='{AKID}'")),
        "{env}"
    );
    assert!(env.starts_with("unset "), "{env}");
    assert!(env.contains("export AWS_CREDENTIAL_EXPIRATION='2099-01-01T00:00:00Z'\n"));
    // the token's region fills in; the caller's would win (one rule with exec)
    assert!(env.contains("AWS_REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-'eu-west-1'}}\n"));
}

#[test]
fn env_output_is_safe_to_eval() {
    let e = Env::new();
    let doc = r#"{"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "it's $(touch pwned) `x` \"y\""}"#;
    let t = e.seal_doc(doc, "t.age", &[]);
    let env = ok(&run(e.cmd().arg("open").arg(&t)));
    let o = Command::new("sh")
        .current_dir(e.home())
        .arg("-c")
        .arg(format!("{env}\nprintf %s \"$AWS_SECRET_ACCESS_KEY\""))
        .output()
        .unwrap();
    assert_eq!(ok(&o), "it's $(touch pwned) `x` \"y\"");
    assert!(!e.path("pwned").exists());
    assert!(
        env.contains("unset AWS_SESSION_TOKEN"),
        "static keys clear a stale session token"
    );
}

#[test]
fn armor_base64_and_stdin() {
    let e = Env::new();
    for (flag, start) in [
        ("-a", "-----BEGIN AGE ENCRYPTED FILE-----"),
        ("--base64", "YWdlLWVuY3J5cHRpb24ub3JnL3Yx"),
    ] {
        let o = run_with_input(
            e.cmd().args(["seal", "-r", &e.public, flag]),
            sts_document().as_bytes(),
        );
        let sealed = ok(&o);
        assert!(sealed.starts_with(start), "{sealed}");
        let o = run_with_input(
            e.cmd().args(["open", "-", "--format", "json"]),
            sealed.as_bytes(),
        );
        assert!(ok(&o).contains(AKID));
        let o = run_with_input(e.cmd().args(["show"]), sealed.as_bytes());
        assert!(ok(&o).contains("federation"));
    }
}

#[test]
fn show_prints_no_secret() {
    let e = Env::new();
    let t = e.seal_doc(&sts_document(), "t.age", &["--label", "hello"]);
    let out = ok(&run(e.cmd().arg("show").arg(&t)));
    for want in [
        "federation",
        AKID,
        "federated-user/TestUser",
        "6%",
        "hello",
        "2099-01-01T00:00:00Z",
        "issued at",
    ] {
        assert!(out.contains(want), "{want} missing: {out}");
    }
    assert!(!out.contains(SECRET) && !out.contains(SESSION));
    // show reports an expired token instead of refusing it
    let x = e.seal_token(&expired_token(), "x.age");
    let out = ok(&run(e.cmd().arg("show").arg(&x)));
    assert!(out.contains("EXPIRED"), "{out}");
}

#[test]
fn seal_output_files_are_private_and_not_clobbered() {
    let e = Env::new();
    let t = e.seal_doc(&sts_document(), "t.age", &[]);
    let before = fs::read(&t).unwrap();
    let o = run_with_input(
        e.cmd().args(["seal", "-r", &e.public, "-o"]).arg(&t),
        sts_document().as_bytes(),
    );
    assert!(fails(&o, 1, &[SECRET]).contains("--force"));
    assert_eq!(fs::read(&t).unwrap(), before);
    e.seal_doc(&sts_document(), "t.age", &["--force"]);
    assert_ne!(fs::read(&t).unwrap(), before);
    assert_eq!(mode(&t), 0o600);
}

#[test]
fn seal_refuses_bad_arguments_with_status_2() {
    let e = Env::new();
    let doc = sts_document();
    let cases: &[&[&str]] = &[
        &["seal"],
        &["seal", "-r", "age1notakey"],
        &["seal", "-r", "bob@example.com"],
        &["seal", "-r", "ssh-dss AAAAB3NzaC1kc3MAAACBAP"],
        &["seal", "--duration", "3h", "-p"],
        &["seal", "--allow", "DescribeImages", "-p"],
    ];
    for args in cases {
        let o = run_with_input(e.cmd().args(*args), doc.as_bytes());
        fails(&o, 2, &[SECRET]);
    }
    // the ones clap refuses, with clap's whole message
    let cases: &[&[&str]] = &[
        &["seal", "-p", "-r", "age1x"],
        &["seal", "-a", "--base64", "-p"],
        &["seal", "--frobnicate"],
        &["seal", "--token-code", "123456", "--session", "-p"],
        &["open", "--format", "yaml"],
        &["exec", "t.age"],
        &["nonsense"],
    ];
    for args in cases {
        let o = run_with_input(e.cmd().args(*args), doc.as_bytes());
        assert!(!usage_fails(&o).contains(SECRET));
    }
    let rfile = e.path("recipients.txt");
    fs::write(&rfile, "# nobody\n\n").unwrap();
    let o = run_with_input(e.cmd().args(["seal", "-R"]).arg(&rfile), doc.as_bytes());
    assert!(fails(&o, 2, &[]).contains("no recipients"));
    fs::write(&rfile, format!("{}\nnot-a-key\n", e.public)).unwrap();
    let o = run_with_input(e.cmd().args(["seal", "-R"]).arg(&rfile), doc.as_bytes());
    assert!(fails(&o, 2, &[]).contains("line 2"));
}

#[test]
fn seal_refuses_broken_documents_with_status_1() {
    let e = Env::new();
    let marker = "SECRETMARKERwJalrXUtnFEMI";
    let cases = [
        String::new(),
        "not json at all".to_string(),
        format!(r#"{{"Credentials": {{"AccessKeyId": "A", "SecretAccessKey": "{marker}""#),
        format!(
            r#"{{"Credentials": {{"AccessKeyId": "A", "SecretAccessKey": "{marker}", "Expiration": "soon"}}}}"#
        ),
        format!(r#"{{"Credentials": {{"AccessKeyId": "A", "SecretAccessKey": ["{marker}"]}}}}"#),
        format!(r#"{{"AccessKeyId": 5, "SecretAccessKey": "{marker}"}}"#),
        format!(r#"{{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "{marker}"}}"#),
        "\u{0}\u{1}binary".to_string(),
    ];
    for doc in &cases {
        let o = run_with_input(
            e.cmd().args(["seal", "-r", &e.public, "-a"]),
            doc.as_bytes(),
        );
        fails(&o, 1, &[marker]);
    }
    // larger than 1 MiB: refused without reading it whole
    let big = format!("{{\"AccessKeyId\": \"{}\"}}", "A".repeat(2 << 20));
    let o = run_with_input(
        e.cmd().args(["seal", "-r", &e.public, "-a"]),
        big.as_bytes(),
    );
    assert!(fails(&o, 1, &[]).contains("larger than"));
}

#[test]
fn open_refuses_what_it_cannot_decrypt_with_status_3() {
    let e = Env::new();
    let t = e.seal_doc(&sts_document(), "t.age", &[]);
    let sealed = fs::read(&t).unwrap();
    let other = e.path("other.txt");
    ok(&run(e.cmd().args(["keygen", "-o"]).arg(&other)));
    let write = |name: &str, bytes: &[u8]| {
        let p = e.path(name);
        fs::write(&p, bytes).unwrap();
        p
    };
    let truncated = write("truncated.age", &sealed[..sealed.len() - 20]);
    let header_only = write("header.age", &sealed[..100]);
    let mut flipped = sealed.clone();
    let last = flipped.len() - 5;
    flipped[last] ^= 1;
    let flipped = write("flipped.age", &flipped);
    let text = write("text.age", b"hello, world\n");
    let empty = write("empty.age", b"");
    let garbage_id = write("garbage-id.txt", b"AGE-SECRET-KEY-1NOTAKEY\n");
    let dir = e.path("adir");
    fs::create_dir(&dir).unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (vec![truncated.into()], "truncated"),
        (vec![header_only.into()], ""),
        (vec![flipped.into()], "damaged"),
        (vec![text.into()], "not an age file"),
        (vec![empty.into()], "empty"),
        (vec![dir.clone().into()], "directory"),
        (vec![e.path("missing.age").into()], "cannot read token"),
        (
            vec![t.clone().into(), "-i".into(), other.into()],
            "no identity matches",
        ),
        (
            vec![t.clone().into(), "-i".into(), e.path("no-such-id").into()],
            "identity",
        ),
        (
            vec![t.clone().into(), "-i".into(), garbage_id.into()],
            "identity",
        ),
        (vec![t.clone().into(), "-i".into(), dir.into()], "identity"),
    ];
    for (args, want) in cases {
        for cmd in ["open", "show"] {
            let o = run(e.cmd().arg(cmd).args(&args));
            let err = fails(&o, 3, &[SECRET, SESSION]);
            assert!(err.contains(want), "{args:?}: {err}");
        }
    }
    // no default identity and no -i
    let empty_home = tempfile::tempdir().unwrap();
    let o = run(handoff(empty_home.path()).arg("open").arg(&t));
    assert!(fails(&o, 3, &[]).contains("keygen"));
    // oversized input
    let big = write("big.age", &vec![b'a'; 3 << 20]);
    let o = run(e.cmd().arg("open").arg(&big));
    assert!(fails(&o, 3, &[]).contains("larger than"));
}

#[test]
fn open_refuses_envelopes_it_does_not_understand() {
    let e = Env::new();
    let mut newer = vec![];
    ciborium::into_writer(
        &ciborium::Value::Map(vec![
            ("Version".into(), 7.into()),
            ("Everything".into(), "changed".into()),
        ]),
        &mut newer,
    )
    .unwrap();
    let p = e.seal_raw(&newer, "newer.age");
    let err = fails(&run(e.cmd().arg("open").arg(&p)), 3, &[]);
    assert!(
        err.contains('7') && err.contains("version 1") && err.contains("upgrade"),
        "{err}"
    );
    let p = e.seal_raw(b"{\"not\": \"cbor\"}", "json.age");
    assert!(fails(&run(e.cmd().arg("open").arg(&p)), 3, &[]).contains("not a handoff token"));
}

#[test]
fn expired_tokens_are_refused_with_status_4() {
    let e = Env::new();
    let x = e.seal_token(&expired_token(), "x.age");
    let err = fails(&run(e.cmd().arg("open").arg(&x)), 4, &[SECRET, SESSION]);
    assert!(
        err.contains("2020-01-01T00:00:00Z") && err.contains("--allow-expired"),
        "{err}"
    );
    let o = run(e.cmd().args(["exec"]).arg(&x).args(["--", "true"]));
    fails(&o, 4, &[SECRET]);
    let out = ok(&run(e.cmd().arg("open").arg(&x).arg("--allow-expired")));
    assert!(out.contains(AKID));
}

#[test]
fn exec_passes_credentials_and_the_exit_status() {
    let e = Env::new();
    let t = e.seal_doc(&sts_document(), "t.age", &["--region", "eu-west-1"]);
    let o = run(
        e.cmd()
            .arg("exec")
            .arg(&t)
            .env("AWS_PROFILE", "someone-else")
            .args(["--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN ${AWS_PROFILE:-noprofile} $AWS_REGION; exit 42"]),
    );
    assert_eq!(o.status.code(), Some(42));
    assert_eq!(
        stdout(&o),
        format!("{AKID} {SECRET} {SESSION} noprofile eu-west-1\n")
    );
    let o = run(e.cmd().arg("exec").arg(&t).args(["--", "/no/such/program"]));
    assert_eq!(o.status.code(), Some(127));
    assert!(stderr(&o).starts_with("handoff: cannot run"));
}

#[test]
fn write_profile_changes_only_its_section() {
    let e = Env::new();
    let t = e.seal_doc(&sts_document(), "t.age", &[]);
    let creds = e.path("aws/credentials");
    fs::create_dir_all(creds.parent().unwrap()).unwrap();
    let original = "# my keys\n[default]\naws_access_key_id = AKIADEFAULTEXAMPLE\naws_secret_access_key = default\n\n# contractor\n[contractor]\naws_access_key_id = OLD\n\n[other] # trailing\nregion=eu-west-1\n";
    fs::write(&creds, original).unwrap();
    // not handoff's section: --force replaces it
    let o = run(e
        .cmd()
        .arg("open")
        .arg(&t)
        .args(["--write-profile", "contractor", "--force"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds));
    assert!(ok(&o).is_empty());
    let after = fs::read_to_string(&creds).unwrap();
    let (head, rest) = original.split_once("[contractor]").unwrap();
    let tail = &rest[rest.find("\n\n[other]").unwrap()..];
    assert!(
        after.starts_with(&format!("{head}[contractor]\n")),
        "{after}"
    );
    assert!(after.ends_with(tail), "{after}");
    assert!(after.contains(&format!("aws_secret_access_key = {SECRET}\n")));
    assert!(!after.contains("OLD"));
    assert_eq!(mode(&creds), 0o600);
    // a new profile is appended, the rest untouched
    let o = run(e
        .cmd()
        .arg("open")
        .arg(&t)
        .args(["--write-profile", "new"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds));
    ok(&o);
    let after2 = fs::read_to_string(&creds).unwrap();
    assert!(after2.starts_with(&after), "{after2}");
    assert!(after2.ends_with(&format!("aws_session_token = {SESSION}\n")));
}

#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = ok(&run(handoff(dir.path()).args(["completions", shell])));
        assert!(out.contains("handoff"), "{shell}");
    }
}

#[test]
fn help_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&run(handoff(dir.path()).arg("--help")));
    for cmd in [
        "keygen",
        "policy",
        "seal",
        "open",
        "show",
        "exec",
        "ec2",
        "console",
        "completions",
    ] {
        assert!(out.contains(cmd), "{cmd}");
    }
    assert!(ok(&run(handoff(dir.path()).arg("--version"))).starts_with("handoff "));
}
