//! `handoff exec --server` against the real SDKs: the AWS CLI v1, boto3 and
//! the JavaScript SDK v3 take their credentials from the loopback server and
//! call moto in IAM mode (every signature checked); the token is sealed to
//! the test age plugin, which counts its unwraps, to show one decryption
//! serves every request.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::moto::Moto;
use common::plugin::*;
use common::*;

const ACCOUNT: &str = "123456789012";

struct World {
    moto: Moto,
    p: PluginHome,
}

impl World {
    fn new() -> World {
        let moto = Moto::start_iam(5);
        let p = PluginHome::new();
        let (id, secret) = moto.create_alice(p.home());
        let aws = p.home().join(".aws");
        fs::create_dir_all(&aws).unwrap();
        fs::write(
            aws.join("credentials"),
            format!("[alice]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        )
        .unwrap();
        fs::write(aws.join("config"), "[profile alice]\nregion = us-east-1\n").unwrap();
        World { moto, p }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.p.file(name)
    }

    fn handoff(&self) -> Command {
        let mut c = self.p.handoff();
        c.env("AWS_ENDPOINT_URL", &self.moto.url);
        c
    }

    /// A role token minted from moto, sealed to the plugin recipient.
    fn role_token(&self) -> PathBuf {
        let out = self.file("role.age");
        ok(&run(self
            .handoff()
            .args(["seal", "--profile", "alice", "-r", &self.p.recipient, "-o"])
            .arg(&out)
            .args([
                "--role",
                &format!("arn:aws:iam::{ACCOUNT}:role/limited"),
                "--session-name",
                "served",
            ])));
        out
    }

    /// `handoff exec --server TOKEN -i ID -- CMD...`
    fn exec(&self, token: &Path, cmd: &[&str]) -> Command {
        let mut c = self.handoff();
        c.args(["exec", "--server"])
            .arg(token)
            .arg("-i")
            .arg(&self.p.identity)
            .arg("--")
            .args(cmd);
        c
    }

    fn unwraps(&self) -> usize {
        self.p.unwraps()
    }
}

const BOTO3: &str = r#"
import boto3, sys
for i in range(int(sys.argv[1])):
    # a new session each time: each fetches the credentials again
    s = boto3.session.Session(region_name="us-east-1")
    print(s.client("sts").get_caller_identity()["Arn"])
    s.client("ec2").describe_availability_zones()
"#;

#[test]
fn boto3_and_the_aws_cli_use_the_served_credentials_decrypted_once() {
    let w = World::new();
    let t = w.role_token();
    let python = venv_bin("python");
    let mut c = w.handoff();
    c.args(["exec", "-v", "--server"])
        .arg(&t)
        .arg("-i")
        .arg(&w.p.identity)
        .args(["--", python.to_str().unwrap(), "-c", BOTO3, "5"]);
    let o = run(&mut c);
    let out = ok(&o);
    // five sessions, five fetches from the server, one decryption
    assert!(
        stderr(&o).contains("answered 5 request(s)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(out.lines().count(), 5, "{out}");
    assert!(
        out.lines()
            .all(|l| l.contains("assumed-role/limited/served")),
        "{out}"
    );
    assert_eq!(w.unwraps(), 1, "decrypted more than once");
    // the AWS CLI v1, several calls in one shell
    let aws = venv_bin("aws");
    let script = format!(
        "for i in 1 2 3; do {} sts get-caller-identity --region us-east-1 --output text --query Arn || exit 1; done",
        aws.display()
    );
    let out = ok(&run(&mut w.exec(&t, &["sh", "-c", &script])));
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines()
            .all(|l| l.contains("assumed-role/limited/served")),
        "{out}"
    );
    assert_eq!(w.unwraps(), 2, "one decryption per exec");
    // a denied call is moto's answer, through the CLI
    let o = run(&mut w.exec(
        &t,
        &[
            aws.to_str().unwrap(),
            "ec2",
            "describe-images",
            "--owners",
            "self",
            "--region",
            "us-east-1",
        ],
    ));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("UnauthorizedOperation") || stderr(&o).contains("AccessDenied"),
        "{}",
        stderr(&o)
    );
}

const JS: &str = r#"
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
(async () => {
  for (let i = 0; i < 4; i++) {
    const c = new STSClient({ region: "us-east-1", endpoint: process.env.AWS_ENDPOINT_URL });
    const r = await c.send(new GetCallerIdentityCommand({}));
    console.log(r.Arn);
  }
})().catch((e) => { console.error(`${e.name}: ${e.message}`); process.exit(1); });
"#;

fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/node");
    assert!(
        dir.join(".handoff-node-ready").exists(),
        "the JavaScript SDK v3 is missing from {}: run scripts/setup (npm install @aws-sdk/client-sts @aws-sdk/credential-providers)",
        dir.display()
    );
    dir.join("node_modules")
}

#[test]
fn the_javascript_sdk_v3_uses_the_served_credentials() {
    let w = World::new();
    let t = w.role_token();
    let mut c = w.exec(&t, &["node", "-e", JS]);
    c.env("NODE_PATH", node_modules());
    let out = ok(&run(&mut c));
    assert_eq!(out.lines().count(), 4, "{out}");
    assert!(
        out.lines()
            .all(|l| l.contains("assumed-role/limited/served")),
        "{out}"
    );
    assert_eq!(w.unwraps(), 1);
}

const PROBE: &str = r#"
import os, sys, urllib.request, urllib.error
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
good = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
def get(headers):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
print(get({})[0])
print(get({"Authorization": "0" * len(good)})[0])
print(get({"Authorization": good[:-1]})[0])
code, body = get({"Authorization": good})
print(code)
import json
doc = json.loads(body)
print(",".join(sorted(doc)))
print(doc["AccessKeyId"])
print(url)
print(len(good))
"#;

#[test]
fn requests_without_the_token_get_403_and_are_counted_and_the_environment_holds_no_secret() {
    let w = World::new();
    let t = w.role_token();
    // the credentials, as the token holds them
    let json: serde_json::Value = serde_json::from_str(&ok(&run(w
        .handoff()
        .arg("open")
        .arg(&t)
        .arg("-i")
        .arg(&w.p.identity)
        .args(["--format", "json"]))))
    .unwrap();
    let akid = json["Credentials"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = json["Credentials"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_string();
    let session = json["Credentials"]["SessionToken"]
        .as_str()
        .unwrap()
        .to_string();
    let python = venv_bin("python");
    let o = run(&mut w.exec(&t, &[python.to_str().unwrap(), "-c", PROBE]));
    let out = ok(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..4], ["403", "403", "403", "200"], "{out}");
    assert_eq!(lines[4], "AccessKeyId,Expiration,SecretAccessKey,Token");
    assert_eq!(lines[5], akid);
    assert!(lines[6].starts_with("http://127.0.0.1:"), "{out}");
    assert_eq!(lines[7], "64", "a 256-bit token in hex");
    let err = stderr(&o);
    assert!(err.contains("refused 3 request"), "{err}");
    assert!(!err.contains(&secret) && !err.contains(&session));
    // the child's environment: the server's address and token, no credentials
    let mut c = w.exec(&t, &["env"]);
    c.env("AWS_ACCESS_KEY_ID", "AKIAINHERITED")
        .env("AWS_PROFILE", "alice")
        .env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x");
    let env = ok(&run(&mut c));
    for s in [&akid, &secret, &session] {
        assert!(
            !env.contains(s.as_str()),
            "a credential in the environment:\n{env}"
        );
    }
    for gone in [
        "AWS_ACCESS_KEY_ID=",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
        "AWS_PROFILE=",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
    ] {
        assert!(
            !env.lines().any(|l| l.starts_with(gone)),
            "{gone} in\n{env}"
        );
    }
    assert!(env.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:"));
    assert!(env.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN="));
}

#[test]
fn an_expired_token_gives_the_sdks_own_error_and_the_status_passes_through() {
    let w = World::new();
    let doc = sts_document().replace("2099-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00");
    let t = w.file("expired.age");
    let mut c = w.handoff();
    // seal refuses expired credentials too unless told
    c.args(["seal", "--allow-expired", "-r", &w.p.recipient, "-o"])
        .arg(&t);
    ok(&run_with_input(&mut c, doc.as_bytes()));
    // refused without --allow-expired, as exec does
    fails(&run(&mut w.exec(&t, &["true"])), 4, &[SECRET]);
    let aws = venv_bin("aws");
    let mut c = w.handoff();
    c.args(["exec", "--server", "--allow-expired"])
        .arg(&t)
        .arg("-i")
        .arg(&w.p.identity)
        .arg("--")
        .arg(&aws)
        .args(["sts", "get-caller-identity", "--region", "us-east-1"]);
    let o = run(&mut c);
    assert_eq!(o.status.code(), Some(255), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("container") && e.contains("expired"), "{e}");
    // boto3 and the JavaScript SDK v3: their own errors, with the reason
    let python = venv_bin("python");
    let mut c = w.handoff();
    c.args(["exec", "--server", "--allow-expired"])
        .arg(&t)
        .arg("-i")
        .arg(&w.p.identity)
        .arg("--")
        .arg(&python)
        .args(["-c", BOTO3, "1"]);
    let o = run(&mut c);
    let e = stderr(&o);
    assert!(!o.status.success());
    assert!(
        e.contains("CredentialRetrievalError") && e.contains("expired"),
        "{e}"
    );
    let mut c = w.handoff();
    c.args(["exec", "--server", "--allow-expired"])
        .arg(&t)
        .arg("-i")
        .arg(&w.p.identity)
        .args(["--", "node", "-e", JS])
        .env("NODE_PATH", node_modules());
    let o = run(&mut c);
    let e = stderr(&o);
    // its provider chain reports the 410 as no credentials at all
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("CredentialsProviderError: Could not load credentials from any providers"),
        "{e}"
    );
    // the command's status is handoff's
    let live = w.role_token();
    let o = run(&mut w.exec(&live, &["sh", "-c", "exit 42"]));
    assert_eq!(o.status.code(), Some(42));
    // a command that is not there
    let o = run(&mut w.exec(&live, &["no-such-command-here"]));
    assert_eq!(o.status.code(), Some(127));
}

#[test]
fn signals_to_handoff_reach_the_command() {
    let w = World::new();
    let t = w.role_token();
    let marker = w.file("got-term");
    let script = format!(
        "trap 'touch {}; exit 7' TERM; while :; do sleep 0.1; done",
        marker.display()
    );
    let mut c = w.exec(&t, &["sh", "-c", &script]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    // wait until the command runs (the token decrypted, the server up)
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .output()
        .unwrap();
    assert!(kill.status.success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "handoff did not end"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(marker.exists(), "the command did not get SIGTERM");
    assert_eq!(status.code(), Some(7));
}

#[test]
fn a_ctrl_c_on_the_terminal_reaches_the_command_once() {
    let w = World::new();
    let t = w.role_token();
    let log = w.file("ints");
    let child = w.file("child.sh");
    fs::write(
        &child,
        format!(
            "trap 'echo int >> {}' INT\necho ready\ni=0\nwhile [ $i -lt 40 ]; do sleep 0.1; i=$((i+1)); done\n",
            log.display()
        ),
    )
    .unwrap();
    let inner = format!(
        "{} exec --server {} -i {} -- sh {}",
        env!("CARGO_BIN_EXE_handoff"),
        t.display(),
        w.p.identity.display(),
        child.display()
    );
    // script(1) gives handoff a terminal; a 0x03 typed there is Ctrl-C,
    // which the kernel sends to handoff and the command alike
    let mut sh = w.p.command("sh");
    sh.arg("-c").arg(format!(
        "(sleep 2; printf '\\003'; sleep 3) | script -qec '{inner}' /dev/null"
    ));
    let o = run(&mut sh);
    assert!(stdout(&o).contains("ready"), "{}{}", stdout(&o), stderr(&o));
    let ints = fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        ints.lines().count(),
        1,
        "SIGINT arrived {} times",
        ints.lines().count()
    );
}
