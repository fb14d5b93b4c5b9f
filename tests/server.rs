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

/// The JavaScript SDK v3's default chain, once: STS says who called.
const JS_ONCE: &str = r#"
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
new STSClient({ region: "us-east-1", endpoint: process.env.AWS_ENDPOINT_URL })
  .send(new GetCallerIdentityCommand({}))
  .then((r) => console.log(r.Arn), (e) => { console.error(`${e.name}: ${e.message}`); process.exit(1); });
"#;

/// A shell script that asks STS who it is with the AWS CLI v1, boto3 and
/// the JavaScript SDK v3, each through its default chain: one line each,
/// `NAME ARN`, or an exit status of 1.
fn three_clients(w: &World) -> String {
    let js = w.file("once.js");
    fs::write(&js, JS_ONCE).unwrap();
    format!(
        "printf 'aws '; {aws} sts get-caller-identity --region us-east-1 --query Arn --output text || exit 1\n\
         printf 'boto3 '; {py} -c 'import boto3; print(boto3.client(\"sts\", region_name=\"us-east-1\").get_caller_identity()[\"Arn\"])' || exit 1\n\
         printf 'js '; NODE_PATH={node} node {js} || exit 1\n",
        aws = venv_bin("aws").display(),
        py = venv_bin("python").display(),
        node = node_modules().display(),
        js = js.display(),
    )
}

/// A shell script that prints the access key id each client would sign
/// with, found through its own default chain, without a call to moto: the
/// AWS CLI's `Credential=` in the Authorization header it sends (to a port
/// where nothing listens), boto3's and the JavaScript SDK's resolved
/// credentials. One line each, `NAME KEYID`.
fn three_key_ids(w: &World) -> String {
    let js = w.file("key-id.js");
    fs::write(
        &js,
        r#"require("@aws-sdk/credential-providers").fromNodeProviderChain()().then(
  (c) => console.log(c.accessKeyId), (e) => { console.error(String(e)); process.exit(1); });
"#,
    )
    .unwrap();
    format!(
        "printf 'aws '; AWS_MAX_ATTEMPTS=1 {aws} sts get-caller-identity --region us-east-1 --debug 2>&1 | sed -n 's/.*Credential=\\([A-Z0-9]*\\).*/\\1/p' | head -n 1\n\
         printf 'boto3 '; {py} -c 'import boto3; print(boto3.Session().get_credentials().get_frozen_credentials().access_key)' || exit 1\n\
         printf 'js '; NODE_PATH={node} node {js} || exit 1\n",
        aws = venv_bin("aws").display(),
        py = venv_bin("python").display(),
        node = node_modules().display(),
        js = js.display(),
    )
}

/// A config file's `[default]` that would make the SDKs run as someone else
/// (alice, or a session of a role she assumes), one of each kind botocore
/// and the JavaScript SDK read.
fn other_defaults(w: &World) -> Vec<(&'static str, String)> {
    let creds = fs::read_to_string(w.p.home().join(".aws/credentials")).unwrap();
    let key = |name: &str| {
        creds
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_prefix('=')
                    .map(str::trim)
            })
            .unwrap()
            .to_string()
    };
    let (id, secret) = (key("aws_access_key_id"), key("aws_secret_access_key"));
    let process = w.file("other-process.sh");
    fs::write(
        &process,
        format!("printf '{{\"Version\": 1, \"AccessKeyId\": \"{id}\", \"SecretAccessKey\": \"{secret}\"}}'\n"),
    )
    .unwrap();
    let alice =
        format!("[profile alice]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
    vec![
        (
            "static keys",
            format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        ),
        (
            "credential_process",
            format!("[default]\ncredential_process = sh {}\n", process.display()),
        ),
        (
            "role_arn",
            format!("[default]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/limited\nsource_profile = alice\n{alice}"),
        ),
        (
            "sso_session",
            format!(
                "[default]\nsso_session = corp\nsso_account_id = {ACCOUNT}\nsso_role_name = Admin\n\
                 [sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n{alice}"
            ),
        ),
    ]
}

/// `[default]` of each kind in someone else's config file, under `exec`
/// and `exec --server`: every client signs with the token's key.
fn no_default_profile_outranks_the_token(w: &World, t: &Path, akid: &str) {
    let script = three_key_ids(w);
    let config = w.file("someone-elses-config");
    for (kind, text) in other_defaults(w) {
        fs::write(&config, text).unwrap();
        for server in [true, false] {
            let mut c = w.handoff();
            c.arg("exec");
            if server {
                c.arg("--server");
            }
            c.arg(t)
                .arg("-i")
                .arg(&w.p.identity)
                .args(["--", "sh", "-c", &script])
                .env("AWS_CONFIG_FILE", &config)
                // nothing listens there: no call leaves the machine
                .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
            let o = run(&mut c);
            let mode = if server { "exec --server" } else { "exec" };
            let out = stdout(&o);
            assert!(
                o.status.success(),
                "{mode}, [default] with {kind}: {out}{}",
                stderr(&o)
            );
            for client in ["aws", "boto3", "js"] {
                let id = out
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{client} ")))
                    .unwrap_or_default();
                assert_eq!(id, akid, "{mode}, [default] with {kind}: {client}\n{out}");
            }
        }
    }
}

/// Every variable that ranks above container credentials in either chain,
/// set to someone else's settings.
fn outranking_variables(w: &World) -> Vec<(String, String)> {
    let creds = fs::read_to_string(w.p.home().join(".aws/credentials")).unwrap();
    let web = w.file("web-identity-token");
    fs::write(&web, "eyJhbGciOiJub25lIn0.e30.").unwrap();
    let ec2 = w.file("ec2-credential-file");
    let boto = w.file("boto.cfg");
    let line = |name: &str| {
        creds
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_prefix('=')
                    .map(str::trim)
            })
            .unwrap()
            .to_string()
    };
    let (id, secret) = (line("aws_access_key_id"), line("aws_secret_access_key"));
    fs::write(
        &ec2,
        format!("AWSAccessKeyId={id}\nAWSSecretKey={secret}\n"),
    )
    .unwrap();
    fs::write(
        &boto,
        format!("[Credentials]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ("AWS_SESSION_TOKEN", "stale"),
        ("AWS_SECURITY_TOKEN", "stale"),
        ("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z"),
        ("AWS_ACCOUNT_ID", "999999999999"),
        ("AWS_CREDENTIAL_SCOPE", "elsewhere"),
        ("AWS_PROFILE", "alice"),
        ("AWS_DEFAULT_PROFILE", "alice"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", web.to_str().unwrap()),
        (
            "AWS_ROLE_ARN",
            &format!("arn:aws:iam::{ACCOUNT}:role/limited"),
        ),
        ("AWS_ROLE_SESSION_NAME", "web-identity"),
        (
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "/v2/credentials/x",
        ),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            web.to_str().unwrap(),
        ),
        ("AWS_CREDENTIAL_FILE", ec2.to_str().unwrap()),
        ("BOTO_CONFIG", boto.to_str().unwrap()),
        ("AWS_SSO_SESSION", "corp"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            &w.p.home().join(".aws/credentials").display().to_string(),
        ),
        (
            "AWS_CONFIG_FILE",
            &w.p.home().join(".aws/config").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Nothing in a config file or the environment makes the AWS CLI, boto3 or
/// the JavaScript SDK v3 run as anyone but the token, under `exec` or
/// `exec --server`; and the server answers them with idle connections open.
#[test]
fn nothing_outranks_the_token_under_exec_and_exec_server() {
    let w = World::new();
    let t = w.role_token();
    let json: serde_json::Value = serde_json::from_str(&ok(&run(w
        .handoff()
        .arg("open")
        .arg(&t)
        .arg("-i")
        .arg(&w.p.identity)
        .args(["--format", "json"]))))
    .unwrap();
    let akid = json["Credentials"]["AccessKeyId"].as_str().unwrap();
    no_default_profile_outranks_the_token(&w, &t, akid);
    let vars = outranking_variables(&w);
    // what the command sees: none of them, a private config of the region
    let print = "env; printf 'config %s\\n' \"$AWS_CONFIG_FILE\"; stat -c 'mode %a' \"$AWS_CONFIG_FILE\"; cat \"$AWS_CONFIG_FILE\"";
    let mut c = w.exec(&t, &["sh", "-c", print]);
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    let out = ok(&run(&mut c));
    let env: std::collections::BTreeMap<&str, &str> =
        out.lines().filter_map(|l| l.split_once('=')).collect();
    for (k, v) in &vars {
        match k.as_str() {
            "AWS_SHARED_CREDENTIALS_FILE" | "BOTO_CONFIG" => {
                assert_eq!(env.get(k.as_str()), Some(&"/dev/null"), "{k}")
            }
            "AWS_CONFIG_FILE" => assert_ne!(env.get(k.as_str()), Some(&v.as_str()), "{k}"),
            _ => assert!(!env.contains_key(k.as_str()), "{k} reached the command"),
        }
    }
    let private = out
        .lines()
        .find_map(|l| l.strip_prefix("config "))
        .unwrap()
        .to_string();
    assert!(out.contains("mode 600\n"), "{out}");
    assert!(
        out.ends_with("[default]\nregion = us-east-1\n"),
        "the private config holds only the region:\n{out}"
    );
    assert!(!Path::new(&private).exists(), "{private} was left behind");
    // and the three clients, with all of them set, get the token's identity,
    // while 20 connections that send nothing stay open
    let idle = format!(
        "{} -c 'import os, socket, time; u = os.environ[\"AWS_CONTAINER_CREDENTIALS_FULL_URI\"].split(\"/\")[2].split(\":\"); s = [socket.create_connection((u[0], int(u[1]))) for _ in range(20)]; open(\"idle-ready\", \"w\").close(); time.sleep(60)' &\n\
         idle=$!; while [ ! -e idle-ready ]; do sleep 0.05; done\n{}kill $idle; wait $idle 2>/dev/null; true\n",
        venv_bin("python").display(),
        three_clients(&w)
    );
    let mut c = w.exec(&t, &["sh", "-c", &idle]);
    c.current_dir(w.p.home());
    c.envs(vars.iter().map(|(k, v)| (k, v)));
    let o = run(&mut c);
    let out = ok(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines()
            .all(|l| l.ends_with("assumed-role/limited/served")),
        "{out}"
    );
    // no client was answered 410 (the retired server): the number alone,
    // not inside a longer one (Node's warnings carry its PID, "(node:14102)")
    let gone = stderr(&o).lines().any(|l| {
        !l.starts_with("(node:") && l.split(|c: char| !c.is_ascii_digit()).any(|n| n == "410")
    });
    assert!(!gone, "{}", stderr(&o));
}

/// Binds 127.0.0.1:PORT as soon as it can within 1.5 s; if it does, hands
/// the first client credentials of its own. Prints `bound` or `in use`.
const SQUATTER: &str = r#"
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket()
deadline = time.time() + 1.5
while True:
    try:
        s.bind(("127.0.0.1", port))
        break
    except OSError:
        if time.time() > deadline:
            print("in use", flush=True)
            sys.exit(0)
        time.sleep(0.02)
s.listen(1)
print("bound", flush=True)
s.settimeout(20)
c, _ = s.accept()
c.recv(4096)
body = b'{"AccessKeyId": "AKIDSOMEONEELSE", "SecretAccessKey": "x", "Token": "y", "Expiration": "2099-01-01T00:00:00Z"}'
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
"#;

/// What a job left behind does with the server's address: one GET with the
/// token; prints the status and the body.
const JOB: &str = r#"
import os, urllib.request, urllib.error
req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
    headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
"#;

/// Another user to bind the port as, made when the tests run as root:
/// `(uid, gid)`, or why there is none.
fn other_user() -> Result<(u32, u32), String> {
    let id = |args: &[&str]| {
        let o = Command::new("id").args(args).output().ok()?;
        String::from_utf8(o.stdout).ok()?.trim().parse::<u32>().ok()
    };
    if id(&["-u"]) != Some(0) {
        return Err(
            "not root, so no other user can be made: the squatter runs as this user".into(),
        );
    }
    let name = "handoff-squatter";
    if id(&["-u", name]).is_none() {
        let o = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ])
            .output()
            .map_err(|e| format!("useradd: {e}"))?;
        // another test binary may have made it meanwhile
        if !o.status.success() && id(&["-u", name]).is_none() {
            return Err(format!(
                "useradd failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    match (id(&["-u", name]), id(&["-g", name])) {
        (Some(u), Some(g)) => Ok((u, g)),
        _ => Err(format!("{name} has no uid")),
    }
}

#[test]
fn a_job_left_behind_gets_410_and_no_one_else_can_take_the_port() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let public = default_identity(dir);
    let t = dir.join("t.age");
    seal_document(dir, &public, &t, &[]);
    let python = Path::new("/usr/bin/python3");
    let python = if python.exists() {
        python.to_path_buf()
    } else {
        venv_bin("python")
    };
    fs::write(dir.join("job.py"), JOB).unwrap();
    // the command leaves a job that waits for "go", then exits
    let script = format!(
        "printf %s \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > url.tmp && mv url.tmp url\n\
         (while [ ! -e go ]; do sleep 0.05; done; {} job.py > answer) &\n\
         touch exited\n",
        python.display()
    );
    let mut c = handoff(dir);
    c.current_dir(dir)
        .args(["exec", "--server"])
        .arg(&t)
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let handoff = c.spawn().unwrap();
    let start = Instant::now();
    while !dir.join("exited").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the command never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = fs::read_to_string(dir.join("url")).unwrap();
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    // another user tries to take the port once the command has exited
    let mut squatter = Command::new(&python);
    squatter
        .args(["-c", SQUATTER, &port])
        .stdout(Stdio::piped());
    match other_user() {
        Ok((uid, gid)) => {
            use std::os::unix::process::CommandExt;
            squatter.uid(uid).gid(gid);
        }
        Err(why) => eprintln!("the squatter runs as this test's user: {why}"),
    }
    let mut squatter = squatter.spawn().unwrap();
    let mut said = String::new();
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(squatter.stdout.as_mut().unwrap());
        lines.read_line(&mut said).unwrap();
    }
    fs::write(dir.join("go"), "").unwrap();
    let o = handoff.wait_with_output().unwrap();
    let _ = squatter.kill();
    let _ = squatter.wait();
    let answer = fs::read_to_string(dir.join("answer")).unwrap_or_default();
    assert_eq!(
        said.trim(),
        "in use",
        "the port was free while the job ran; it got {answer}"
    );
    assert!(answer.starts_with("410 "), "{answer}");
    assert!(
        !answer.contains("AKID") && !answer.contains(SECRET),
        "{answer}"
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("answers them 410"), "{err}");
    // then closed: the port is free once the job is gone
    std::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().unwrap()))
        .expect("the port is freed once the job has ended");
}

/// The `AWS_*` names (and `BOTO_CONFIG`) quoted in `text`.
fn quoted_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for quote in ['\'', '"'] {
        for piece in text.split(quote).skip(1).step_by(2) {
            let is_name = |s: &str| {
                s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            };
            if (piece.starts_with("AWS_") || piece == "BOTO_CONFIG") && is_name(piece) {
                names.insert(piece.to_string());
            }
        }
    }
    names
}

/// botocore, in the venv the tests use.
fn botocore() -> PathBuf {
    let lib = venv().join("lib");
    fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().path().join("site-packages/botocore"))
        .find(|p| p.join("credentials.py").exists())
        .unwrap_or_else(|| panic!("no botocore under {}: run scripts/setup", lib.display()))
}

/// The variables the SDKs' credential chains read, taken from their own
/// source: botocore's credentials.py and the session variables `profile`,
/// `config_file` and `credentials_file`; the JavaScript SDK v3's providers
/// and the shared-ini loader's `ENV_*` names. Each is classified: removed
/// from `exec --server`'s command, pointed at an empty or private file, set
/// to the server's own, or ranked below the container (the instance
/// metadata service). A name an SDK upgrade adds fails here until it is
/// placed. Then the same for the environment rule of `exec` and the shell
/// formats: every variable the environment providers read is set or unset.
#[test]
fn the_removed_variables_are_those_of_the_sdks_own_chains() {
    use handoff::recipient::server::{EMPTIED_FILES, REMOVED_PREFIXES, REMOVED_VARIABLES};
    let bc = botocore();
    let mut botocore_names = quoted_names(&fs::read_to_string(bc.join("credentials.py")).unwrap());
    let session = fs::read_to_string(bc.join("configprovider.py")).unwrap();
    for key in ["'profile':", "'config_file':", "'credentials_file':"] {
        let at = session
            .find(key)
            .unwrap_or_else(|| panic!("botocore has no {key}"));
        let entry = &session[at..at + session[at..].find("),").unwrap()];
        botocore_names.extend(quoted_names(entry));
    }
    let node = node_modules();
    let mut js_names = std::collections::BTreeSet::new();
    for provider in [
        "env",
        "ini",
        "process",
        "sso",
        "web-identity",
        "node",
        "http",
    ] {
        let f = node.join(format!(
            "@aws-sdk/credential-provider-{provider}/dist-cjs/index.js"
        ));
        js_names.extend(quoted_names(&fs::read_to_string(&f).unwrap()));
    }
    js_names.extend(quoted_names(
        &fs::read_to_string(node.join("@smithy/credential-provider-imds/dist-cjs/index.js"))
            .unwrap(),
    ));
    let config =
        fs::read_to_string(node.join("@smithy/core/dist-cjs/submodules/config/index.js")).unwrap();
    // the names of the profile and the two shared files
    for line in config.lines().filter(|l| {
        [
            "const ENV_PROFILE =",
            "const ENV_CONFIG_PATH =",
            "const ENV_CREDENTIALS_PATH =",
        ]
        .iter()
        .any(|p| l.starts_with(p))
    }) {
        js_names.extend(quoted_names(line));
    }
    for must in [
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ACCESS_KEY_ID",
    ] {
        assert!(
            botocore_names.contains(must) && js_names.contains(must),
            "the scan missed {must}"
        );
    }
    let served = [
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ];
    // the instance metadata service ranks below the container in both chains
    let below = [
        "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "AWS_EC2_METADATA_V1_DISABLED",
    ];
    for name in botocore_names.iter().chain(&js_names) {
        let placed = REMOVED_VARIABLES.contains(&name.as_str())
            || REMOVED_PREFIXES.iter().any(|p| name.starts_with(p))
            || EMPTIED_FILES.contains(&name.as_str())
            || name == "AWS_CONFIG_FILE"
            || served.contains(&name.as_str())
            || below.contains(&name.as_str());
        assert!(
            placed,
            "{name}, read by an SDK's credential chain, is not placed by exec --server"
        );
    }
    // exec and the shell formats: what the environment providers read
    // (botocore's EnvProvider, the JavaScript SDK's fromEnv) and the profile
    // that would outrank it are all either set from the token or unset
    let token = handoff::Token::new(
        handoff::Kind::Static,
        handoff::Credentials::new(AKID, SECRET.to_string().into(), None, None),
    );
    let env = handoff::environment(&token);
    let handled: Vec<&str> = env
        .set()
        .map(|(k, _)| k)
        .chain(env.unset().iter().copied())
        .collect();
    let env_provider = fs::read_to_string(bc.join("credentials.py")).unwrap();
    let at = env_provider.find("class EnvProvider").unwrap();
    let end = at + env_provider[at..].find("\nclass ").unwrap();
    let mut readers = quoted_names(&env_provider[at..end]);
    readers.extend(quoted_names(
        &fs::read_to_string(node.join("@aws-sdk/credential-provider-env/dist-cjs/index.js"))
            .unwrap(),
    ));
    readers.extend(["AWS_PROFILE".to_string(), "AWS_DEFAULT_PROFILE".to_string()]);
    for name in &readers {
        assert!(
            handled.contains(&name.as_str()),
            "{name} is neither set nor unset by exec and the shell formats"
        );
    }
}
