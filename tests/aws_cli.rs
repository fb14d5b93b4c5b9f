//! The command line against moto and the real AWS clients: minting and
//! sealing in one process, `handoff ec2`, `--expect-account`, and the AWS
//! CLI and boto3 consuming `credential_process`, `exec`, `env` and
//! `--write-profile` output, with moto's IAM mode checking every signature.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::moto::Moto;
use common::*;

const ACCOUNT: &str = "123456789012";

/// A home with a recipient identity, alice's keys in its shared credentials
/// file as profile `alice`, and everything pointed at moto.
struct World {
    moto: Moto,
    dir: tempfile::TempDir,
    public: String,
    secret: String,
}

impl World {
    fn iam() -> World {
        let moto = Moto::start_iam(5);
        let dir = tempfile::tempdir().unwrap();
        let (id, secret) = moto.create_alice(dir.path());
        Self::with_keys(moto, dir, &id, &secret)
    }

    fn plain() -> World {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        Self::with_keys(moto, dir, "AKIAIOSFODNN7EXAMPLE", SECRET)
    }

    fn with_keys(moto: Moto, dir: tempfile::TempDir, id: &str, secret: &str) -> World {
        let aws = dir.path().join(".aws");
        fs::create_dir_all(&aws).unwrap();
        fs::write(
            aws.join("credentials"),
            format!("[alice]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        )
        .unwrap();
        fs::write(aws.join("config"), "[profile alice]\nregion = us-east-1\n").unwrap();
        let public = default_identity(dir.path());
        World {
            moto,
            dir,
            public,
            secret: secret.to_string(),
        }
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// handoff with AWS_ENDPOINT_URL at moto.
    fn handoff(&self) -> Command {
        let mut c = handoff(self.home());
        c.env("AWS_ENDPOINT_URL", &self.moto.url);
        c
    }

    /// A program from the venv, isolated the same way.
    fn venv(&self, name: &str) -> Command {
        let mut c = Command::new(venv_bin(name));
        isolate(&mut c, self.home());
        c.env("AWS_ENDPOINT_URL", &self.moto.url);
        c
    }

    fn mint(&self, args: &[&str], name: &str) -> PathBuf {
        let out = self.path(name);
        let o = run(self
            .handoff()
            .args(["seal", "--profile", "alice", "-r", &self.public, "-o"])
            .arg(&out)
            .args(args));
        ok(&o);
        out
    }

    fn role_token(&self) -> PathBuf {
        self.mint(
            &[
                "--role",
                &format!("arn:aws:iam::{ACCOUNT}:role/limited"),
                "--session-name",
                "handoff-test",
            ],
            "role.age",
        )
    }
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn federation_minted_and_sealed_in_one_process() {
    let w = World::plain();
    // to stdout, armored: only ciphertext leaves the process
    let o = run(w.handoff().args([
        "seal",
        "--profile",
        "alice",
        "-r",
        &w.public,
        "-a",
        "--federation",
        "TemporaryUser",
        "--allow",
        "DescribeImages",
        "--allow",
        "RunInstances",
        "--duration",
        "3h",
        "--label",
        "for the synopsis",
    ]));
    let sealed = ok(&o);
    assert!(sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!sealed.contains("ASIA") && !stderr(&o).contains("ASIA"));
    let o = run_with_input(
        w.handoff().args(["open", "--format", "json"]),
        sealed.as_bytes(),
    );
    let v = json(&o);
    assert_eq!(
        v["FederatedUser"]["Arn"],
        format!("arn:aws:sts::{ACCOUNT}:federated-user/TemporaryUser")
    );
    assert!(v["PackedPolicySize"].as_u64().unwrap() > 0);
    let policy = v["Policy"].as_str().unwrap();
    assert!(policy.contains("ec2:DescribeImages") && policy.contains("ec2:RunInstances"));
    let o = run_with_input(w.handoff().arg("show"), sealed.as_bytes());
    let shown = ok(&o);
    assert!(
        shown.contains("for the synopsis") && shown.contains("(in 2h 59m)"),
        "{shown}"
    );

    // session and role
    for (i, (args, kind)) in [
        (vec!["--session", "--duration", "1h"], "session"),
        (
            vec![
                "--session",
                "--mfa-serial",
                "arn:aws:iam::123456789012:mfa/alice",
                "--token-code",
                "123456",
            ],
            "session",
        ),
        (
            vec![
                "--role",
                "arn:aws:iam::123456789012:role/demo",
                "--external-id",
                "x-123",
                "--allow",
                "DescribeImages",
            ],
            "role",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let t = w.mint(&args, &format!("{kind}-{i}.age"));
        let shown = ok(&run(w.handoff().arg("show").arg(&t)));
        assert!(
            shown.starts_with(&format!("kind:               {kind}\n")),
            "{shown}"
        );
    }
}

#[test]
fn ec2_command_answers_in_json_and_reports_aws_errors() {
    let w = World::iam();
    let t = w.role_token();
    let v = json(&run(w
        .handoff()
        .arg("ec2")
        .arg(&t)
        .arg("DescribeAvailabilityZones")));
    let zones = v["AvailabilityZoneInfo"].as_array().unwrap();
    assert!(zones.iter().any(|z| z["ZoneName"] == "us-east-1a"), "{v}");
    let o = run(w
        .handoff()
        .arg("ec2")
        .arg(&t)
        .args(["DescribeImages", "Owner.1=self"]));
    let err = fails(&o, 5, &[&w.secret]);
    assert!(
        err.contains("AccessDenied") || err.contains("UnauthorizedOperation"),
        "{err}"
    );
    let o = run(w
        .handoff()
        .arg("ec2")
        .arg(&t)
        .args(["DescribeImages", "Owner.1"]));
    fails(&o, 2, &[]);
}

#[test]
fn wrong_secret_is_signature_does_not_match() {
    let w = World::iam();
    let mut wrong = w.secret.clone();
    wrong.replace_range(..1, if wrong.starts_with('A') { "B" } else { "A" });
    let o = run(w
        .handoff()
        .args([
            "seal",
            "-r",
            &w.public,
            "-a",
            "--federation",
            "TemporaryUser",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", &wrong));
    let err = fails(&o, 5, &[&wrong, &w.secret]);
    assert!(
        err.contains("InvalidClientTokenId") || err.contains("SignatureDoesNotMatch"),
        "{err}"
    );
    // with alice's real key id but a wrong secret: SignatureDoesNotMatch
    let creds = fs::read_to_string(w.path(".aws/credentials")).unwrap();
    let id = creds
        .lines()
        .nth(1)
        .unwrap()
        .split(" = ")
        .nth(1)
        .unwrap()
        .to_string();
    let o = run(w
        .handoff()
        .args([
            "seal",
            "-r",
            &w.public,
            "-a",
            "--federation",
            "TemporaryUser",
        ])
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &wrong));
    assert!(fails(&o, 5, &[&wrong, &w.secret]).contains("SignatureDoesNotMatch"));
}

#[test]
fn aws_cli_uses_credential_process() {
    let w = World::iam();
    let t = w.role_token();
    let config = w.path("aws-config");
    fs::write(
        &config,
        format!(
            "[profile recv]\nregion = us-east-1\ncredential_process = {} open {} --format credential-process\n",
            handoff_bin().display(),
            t.display()
        ),
    )
    .unwrap();
    let aws = |args: &[&str]| {
        let mut c = w.venv("aws");
        c.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", w.path("none"))
            .args(["--profile", "recv", "--output", "json"])
            .args(args);
        run(&mut c)
    };
    let me = json(&aws(&["sts", "get-caller-identity"]));
    assert_eq!(me["Account"], ACCOUNT);
    assert!(
        me["Arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/limited/handoff-test"),
        "{me}"
    );
    let zones = json(&aws(&["ec2", "describe-availability-zones"]));
    assert!(!zones["AvailabilityZones"].as_array().unwrap().is_empty());
    let denied = aws(&["ec2", "describe-images", "--owners", "self"]);
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains("AccessDenied")
            || stderr(&denied).contains("UnauthorizedOperation")
    );
}

#[test]
fn exec_eval_and_write_profile_feed_the_aws_cli_and_boto3() {
    let w = World::iam();
    let t = w.role_token();
    // exec
    let o = run(w
        .handoff()
        .arg("exec")
        .arg(&t)
        .arg("--")
        .arg(venv_bin("aws"))
        .args([
            "ec2",
            "describe-availability-zones",
            "--region",
            "us-east-1",
            "--output",
            "json",
        ]));
    let v = json(&o);
    assert!(!v["AvailabilityZones"].as_array().unwrap().is_empty());
    // eval "$(handoff open t.age)" then boto3
    let script = format!(
        "eval \"$({} open {})\" && {} -c 'import boto3; print(boto3.client(\"sts\", region_name=\"us-east-1\").get_caller_identity()[\"Account\"])'",
        handoff_bin().display(),
        t.display(),
        venv_bin("python").display()
    );
    let mut sh = Command::new("sh");
    isolate(&mut sh, w.home());
    sh.env("AWS_ENDPOINT_URL", &w.moto.url)
        .args(["-c", &script]);
    assert_eq!(ok(&run(&mut sh)).trim(), ACCOUNT);
    // --write-profile then aws --profile
    let creds = w.path("shared-credentials");
    fs::write(
        &creds,
        "# kept\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n",
    )
    .unwrap();
    ok(&run(w
        .handoff()
        .arg("open")
        .arg(&t)
        .args(["--write-profile", "contractor"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)));
    let mut aws = w.venv("aws");
    aws.env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_CONFIG_FILE", w.path("none"))
        .args([
            "--profile",
            "contractor",
            "--region",
            "us-east-1",
            "--output",
            "json",
            "sts",
            "get-caller-identity",
        ]);
    assert_eq!(json(&run(&mut aws))["Account"], ACCOUNT);
    assert!(fs::read_to_string(&creds)
        .unwrap()
        .starts_with("# kept\n[other]\n"));
}

#[test]
fn expect_account_is_checked_before_anything_is_used() {
    let w = World::iam();
    let t = w.role_token();
    let out = ok(&run(w
        .handoff()
        .arg("open")
        .arg(&t)
        .args(["--expect-account", ACCOUNT])));
    assert!(out.contains("AWS_SECRET_ACCESS_KEY"));
    let o = run(w
        .handoff()
        .arg("open")
        .arg(&t)
        .args(["--expect-account", "210987654321"]));
    assert!(fails(&o, 7, &[]).contains("210987654321"));
    let marker = w.path("ran");
    let o = run(w
        .handoff()
        .arg("exec")
        .arg(&t)
        .args(["--expect-account", "210987654321", "--", "touch"])
        .arg(&marker));
    fails(&o, 7, &[]);
    assert!(!marker.exists(), "the command ran");
    let o = run(w.handoff().arg("ec2").arg(&t).args([
        "--expect-account",
        "210987654321",
        "DescribeAvailabilityZones",
    ]));
    fails(&o, 7, &[]);
    // from the config file
    let cfg = w.path(".config/handoff/config");
    fs::write(&cfg, "expect-account = 210987654321\n").unwrap();
    fails(&run(w.handoff().arg("open").arg(&t)), 7, &[]);
    fs::write(&cfg, format!("expect-account = {ACCOUNT}\n")).unwrap();
    ok(&run(w.handoff().arg("open").arg(&t)));
    fails(
        &run(w
            .handoff()
            .arg("open")
            .arg(&t)
            .args(["--expect-account", "12"])),
        2,
        &[],
    );
}

#[test]
fn bad_arguments_are_refused_before_any_request() {
    // A closed port: a request would be exit 6, so exit 2 proves none was made.
    let (dir, public) = home_with_identity();
    let closed = format!("http://127.0.0.1:{}", common::moto::free_port());
    let cases: &[&[&str]] = &[
        &["--federation", "x"],
        &["--federation", "has space"],
        &["--federation", "a-name-that-is-far-too-long-for-sts-rules"],
        &["--federation", "ok", "--duration", "10m"],
        &["--federation", "ok", "--duration", "37h"],
        &["--federation", "ok", "--duration", "soon"],
        &["--session", "--duration", "1m"],
        &["--session", "--allow", "DescribeImages"],
        &[
            "--session",
            "--mfa-serial",
            "arn:aws:iam::123456789012:mfa/a",
            "--token-code",
            "12345",
        ],
        &["--role", "not-an-arn"],
        &[
            "--role",
            "arn:aws:iam::123456789012:role/r",
            "--duration",
            "13h",
        ],
        &[
            "--role",
            "arn:aws:iam::123456789012:role/r",
            "--session-name",
            "x",
        ],
        &["--federation", "ok", "--allow", "DescribeImagess"],
    ];
    let seal = |args: &[&str]| {
        run(handoff(dir.path())
            .args(["seal", "-r", &public, "-a", "--endpoint-url", &closed])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .args(args))
    };
    for args in cases {
        fails(&seal(args), 2, &[SECRET]);
    }
    // the combinations clap refuses, with its whole message
    let cases: &[&[&str]] = &[
        &[
            "--federation",
            "ok",
            "--role",
            "arn:aws:iam::123456789012:role/r",
        ],
        &["--federation", "ok", "--input", "doc.json"],
    ];
    for args in cases {
        assert!(!usage_fails(&seal(args)).contains(SECRET));
    }
    // a huge policy is refused before the call
    let many: Vec<String> = (0..200)
        .map(|i| format!("--allow=Action{i:04}WithALongName"))
        .collect();
    let o = run(handoff(dir.path())
        .args([
            "seal",
            "-r",
            &public,
            "-a",
            "--endpoint-url",
            &closed,
            "--federation",
            "ok",
            "--allow-unknown-actions",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args(&many));
    assert!(fails(&o, 2, &[SECRET]).contains("policy"));
    // the network failure itself: exit 6, naming the endpoint
    let o = run(handoff(dir.path())
        .args([
            "seal",
            "-r",
            &public,
            "-a",
            "--endpoint-url",
            &closed,
            "--federation",
            "ok",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET));
    assert!(fails(&o, 6, &[SECRET]).contains(&closed));
    // no credentials anywhere: exit 1 naming what was searched
    let o = run(handoff(dir.path()).args([
        "seal",
        "-r",
        &public,
        "-a",
        "--endpoint-url",
        &closed,
        "--federation",
        "ok",
    ]));
    fails(&o, 1, &[]);
}
