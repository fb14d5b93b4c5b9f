//! The issuer's side against moto: a roster of 25 people sealed in one
//! command, the ledger, and revocation checked with the AWS CLI; a batch
//! through a proxy that throttles; roster errors before any call.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::moto::Moto;
use common::*;

const ACCOUNT: &str = "123456789012";

/// An IAM user `issuer` that may call STS, and `admin` that may call IAM
/// (moto does not evaluate conditions, so once `issuer` carries a
/// `handoff-revoked` deny, moto denies it everything: the revocations are
/// written with admin's keys). Six requests, made while moto in IAM mode
/// still takes unsigned ones.
const SETUP: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
doc = lambda a: json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": a, "Resource": "*"}]})
keys = {}
for user, action in (("issuer", "sts:*"), ("admin", "iam:*")):
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=doc(action))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
print(json.dumps(keys))
"#;

struct World {
    moto: Moto,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let moto = Moto::start_iam(6);
        let dir = tempfile::tempdir().unwrap();
        let mut py = Command::new(venv_bin("python"));
        isolate(&mut py, dir.path());
        py.args(["-c", SETUP, &moto.url]);
        let keys: serde_json::Value = serde_json::from_str(ok(&run(&mut py)).trim()).unwrap();
        let aws = dir.path().join(".aws");
        fs::create_dir_all(&aws).unwrap();
        let mut creds = String::new();
        for user in ["issuer", "admin"] {
            creds.push_str(&format!(
                "[{user}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                keys[user][0].as_str().unwrap(),
                keys[user][1].as_str().unwrap()
            ));
        }
        fs::write(aws.join("credentials"), creds).unwrap();
        fs::write(
            aws.join("config"),
            "[profile issuer]\nregion = us-east-1\n[profile admin]\nregion = us-east-1\n",
        )
        .unwrap();
        World { moto, dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn handoff(&self) -> Command {
        let mut c = handoff(self.dir.path());
        c.env("AWS_ENDPOINT_URL", &self.moto.url);
        c
    }

    fn aws(&self) -> Command {
        let mut c = Command::new(venv_bin("aws"));
        isolate(&mut c, self.dir.path());
        c.env("AWS_ENDPOINT_URL", &self.moto.url)
            .env("AWS_PROFILE", "admin");
        c
    }

    /// The userids in issuer's handoff-revoked policy, as the AWS CLI reads it.
    fn revoked(&self) -> (Vec<String>, serde_json::Value) {
        let out = ok(&run(self.aws().args([
            "iam",
            "get-user-policy",
            "--user-name",
            "issuer",
            "--policy-name",
            "handoff-revoked",
        ])));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let doc = v["PolicyDocument"].clone();
        let mut ids = Vec::new();
        for s in doc["Statement"].as_array().unwrap() {
            assert_eq!(s["Effect"], "Deny");
            assert_eq!(s["Action"], "*");
            assert_eq!(s["Resource"], "*");
            assert!(s["Condition"]["DateLessThan"]["aws:TokenIssueTime"].is_string());
            for id in s["Condition"]["StringEquals"]["aws:userid"]
                .as_array()
                .unwrap()
            {
                ids.push(id.as_str().unwrap().to_string());
            }
        }
        ids.sort();
        (ids, doc)
    }
}

/// `n` people with fresh keys: (name, identity file, public key), and the
/// roster file listing them.
fn people(home: &Path, n: usize) -> (Vec<(String, PathBuf, String)>, PathBuf) {
    let mut out = Vec::new();
    let mut roster = String::from("# workshop\n\n");
    for i in 0..n {
        let name = format!("p{i:02}");
        let key = home.join("keys").join(format!("{name}.txt"));
        let public = ok(&run(handoff(home).args(["keygen", "-o"]).arg(&key)))
            .trim()
            .to_string();
        roster.push_str(&format!("{name} {public}\n"));
        out.push((name, key, public));
    }
    let path = home.join("roster.txt");
    fs::write(&path, roster).unwrap();
    (out, path)
}

/// A temporary home and a fresh key's public half.
fn home_with_key() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = ok(&run(handoff(dir.path())
        .args(["keygen", "-o"])
        .arg(dir.path().join("k.txt"))));
    (dir, key.trim().to_string())
}

/// `seal --federation 'ws-{name}' --each ROSTER -o HOME/out` at `endpoint`,
/// with example keys.
fn batch(home: &Path, endpoint: &str, roster: &Path, jobs: &str) -> Command {
    let mut c = handoff(home);
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .args([
            "seal",
            "--federation",
            "ws-{name}",
            "--jobs",
            jobs,
            "--each",
        ])
        .arg(roster)
        .arg("-o")
        .arg(home.join("out"));
    c
}

/// parliament (the IAM policy linter) finds nothing in `policy`.
fn lint(policy: &str) {
    let o = run(Command::new(venv_bin("parliament")).args(["--string", policy]));
    assert!(
        o.status.success() && o.stdout.is_empty(),
        "parliament on {policy}:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_roster_of_25_sealed_listed_and_revoked() {
    let w = World::new();
    let (people, roster) = people(w.dir.path(), 25);
    let out_dir = w.path("out");
    let seal = || {
        let mut c = w.handoff();
        c.args([
            "seal",
            "--profile",
            "issuer",
            "--federation",
            "ws-{name}",
            "--each",
        ])
        .arg(&roster);
        c
    };
    let o = run(seal()
        .args([
            "--label",
            "workshop for {name}",
            "--allow",
            "DescribeImages",
            "-o",
        ])
        .arg(&out_dir));
    ok(&o);
    let err = stderr(&o);
    assert!(err.contains("made 25, skipped 0, failed 0"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains(": made ")).count(),
        25,
        "{err}"
    );
    assert_eq!(mode(&out_dir), 0o700);

    // Each file opens with its own key, and no other.
    let mut users = BTreeSet::new();
    for (i, (name, key, _)) in people.iter().enumerate() {
        let file = out_dir.join(format!("{name}.age"));
        assert_eq!(mode(&file), 0o600, "{name}");
        let doc = ok(&run(w
            .handoff()
            .args(["open", "--format", "json", "-i"])
            .arg(key)
            .arg(&file)));
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let id = v["FederatedUser"]["FederatedUserId"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(id, format!("{ACCOUNT}:ws-{name}"));
        users.insert(id);
        let shown = ok(&run(w.handoff().args(["show", "-i"]).arg(key).arg(&file)));
        assert!(shown.contains(&format!("workshop for {name}")), "{shown}");
        let (_, other, _) = &people[(i + 1) % people.len()];
        let o = run(w.handoff().args(["open", "-i"]).arg(other).arg(&file));
        assert_eq!(o.status.code(), Some(3), "{name} opened by another key");
    }
    assert_eq!(users.len(), 25);

    // The ledger: 25 live handoffs, no secret.
    let ledger = w.path(".local/state/handoff/issued.jsonl");
    assert_eq!(mode(&ledger), 0o600);
    let text = fs::read_to_string(&ledger).unwrap();
    assert!(!text.contains("SecretAccessKey") && !text.contains("SessionToken"));
    let listed = ok(&run(w.handoff().args(["issued", "--json"])));
    assert_eq!(listed.lines().count(), 25);
    let first: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["minted_by"],
        format!("arn:aws:iam::{ACCOUNT}:user/issuer")
    );
    assert_eq!(first["kind"], "federation");
    let table = ok(&run(w.handoff().arg("issued")));
    assert_eq!(table.lines().count(), 26, "{table}");

    // A rerun skips everyone.
    let o = run(seal().arg("-o").arg(&out_dir));
    ok(&o);
    assert!(
        stderr(&o).contains("made 0, skipped 25, failed 0"),
        "{}",
        stderr(&o)
    );

    // Revoke one: exactly that session's aws:userid.
    let dry = ok(&run(w.handoff().args([
        "revoke",
        "p00",
        "--dry-run",
        "--profile",
        "admin",
    ])));
    assert!(dry.contains(&format!("\"{ACCOUNT}:ws-p00\"")), "{dry}");
    let o = run(w
        .handoff()
        .args(["revoke", "p00", "--yes", "--profile", "admin"]));
    ok(&o);
    assert!(
        stderr(&o).contains("seconds to a few minutes"),
        "{}",
        stderr(&o)
    );
    let (ids, doc) = w.revoked();
    assert_eq!(ids, vec![format!("{ACCOUNT}:ws-p00")]);
    lint(&doc.to_string());
    lint(dry.trim());
    let live = ok(&run(w.handoff().args(["issued", "--json"])));
    assert_eq!(live.lines().count(), 24);
    let all = ok(&run(w.handoff().args(["issued", "--all"])));
    assert!(all.contains("revoked"), "{all}");
    // Already revoked: nothing to do.
    let o = run(w
        .handoff()
        .args(["revoke", "p00", "--yes", "--profile", "admin"]));
    fails(&o, 1, &[]);
    // Without --yes and no terminal: asks for it.
    let o = run(w.handoff().args(["revoke", "p01", "--profile", "admin"]));
    assert!(fails(&o, 2, &[]).contains("--yes"));

    // 7 more, one at a time (by roster name, session name, token id;
    // moto gives every federation token the same access key id, so that
    // selector would name them all here). Each has its own cut-off and its
    // own statement: eight fit in a user's 2,048 characters beside its own
    // policy (tests/revoke.rs goes on into the managed fallback).
    let records: Vec<serde_json::Value> = live
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for i in 1..=7 {
        let name = format!("p{i:02}");
        let selector = match i % 3 {
            0 => name.clone(),
            1 => format!("ws-{name}"),
            _ => records.iter().find(|r| r["name"] == name.as_str()).unwrap()["token_id"]
                .as_str()
                .unwrap()
                .to_string(),
        };
        ok(&run(w.handoff().args([
            "revoke",
            &selector,
            "--yes",
            "--profile",
            "admin",
        ])));
    }
    let (ids, doc) = w.revoked();
    lint(&doc.to_string());
    let want: Vec<String> = (0..=7).map(|i| format!("{ACCOUNT}:ws-p{i:02}")).collect();
    assert_eq!(ids, want);
    let size = doc
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count();
    assert!(size <= 2048 - 100, "{size} characters: {doc}");
    let live = ok(&run(w.handoff().args(["issued", "--json"])));
    assert_eq!(live.lines().count(), 17);
}

#[test]
fn roster_errors_come_before_any_call() {
    let (dir, key) = home_with_key();
    let roster = dir.path().join("r.txt");
    fs::write(
        &roster,
        format!(
            "ok {key}\nbad/name {key}\nok {key}\nnokey age1nope\n{} {key}\n",
            "x".repeat(30)
        ),
    )
    .unwrap();
    // Nothing listens at the endpoint: any call would be exit 6.
    let port = common::moto::free_port();
    let seal = |args: &[&str]| {
        let mut c = handoff(dir.path());
        c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .args(["seal", "--each"])
            .arg(&roster)
            .arg("-o")
            .arg(dir.path().join("out"))
            .args(args);
        run(&mut c)
    };
    let o = seal(&["--federation", "ws-{name}"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for line in [
        "line 2:",
        "line 3: ok is already on line 1",
        "line 4:",
        "line 5:",
    ] {
        assert!(err.contains(line), "{line}: {err}");
    }
    // Line 5's name fits the roster but not STS once filled (35 > 32).
    assert!(err.contains("2 to 32"), "{err}");
    assert!(!dir.path().join("out").exists());

    // `-` reads the roster from stdin.
    let mut c = handoff(dir.path());
    c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .args(["seal", "--federation", "ws-{name}", "--each", "-", "-o"])
        .arg(dir.path().join("out"));
    let o = run_with_input(
        &mut c,
        format!("# from a pipe\nbad/name {key}\n").as_bytes(),
    );
    assert!(fails(&o, 2, &[]).contains("stdin line 2: name"));
    let o = seal(&["--federation", "workshop"]);
    assert!(fails(&o, 2, &[]).contains("{name}"));
    let o = seal(&["--role", &format!("arn:aws:iam::{ACCOUNT}:role/r")]);
    assert!(fails(&o, 2, &[]).contains("--session-name"));
    let o = seal(&["--session"]);
    assert_eq!(o.status.code(), Some(2));
    let o = seal(&["--federation", "ws-{name}", "-r", &key]);
    assert!(fails(&o, 2, &[]).contains("roster"));
}

/// Issue 24: `seal` and `seal --each` are one request with one check. For
/// every STS rule (the duration of each kind, the role ARN, the external
/// id, MFA, the federated user and role session names, the policy's size),
/// the same bad input is refused by both with the same words and exit 2,
/// before any call (nothing listens at the endpoint) and before any file or
/// ledger line is made; a name is refused on the roster line of the person
/// whose filled-in name it is.
#[test]
fn seal_and_seal_each_refuse_a_bad_mint_alike() {
    let (dir, key) = home_with_key();
    let roster = dir.path().join("r.txt");
    fs::write(&roster, format!("alice {key}\n")).unwrap();
    let port = common::moto::free_port();
    let out = dir.path().join("out");
    let seal = |each: bool, args: &[String]| {
        let mut c = handoff(dir.path());
        c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .arg("seal")
            .args(args);
        if each {
            c.arg("--each").arg(&roster).arg("-o").arg(&out);
        } else {
            c.args(["-r", &key, "-o"]).arg(out.join("one.age"));
        }
        let o = run(&mut c);
        assert_eq!(
            o.status.code(),
            Some(2),
            "each={each} {args:?}: {}",
            stderr(&o)
        );
        stderr(&o)
    };
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/r");
    let many: Vec<String> = (0..100)
        .flat_map(|i| ["--allow".to_string(), format!("s3:GetObjectNumber{i}")])
        .chain(["--allow-unknown-actions".to_string()])
        .collect();
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    // (what, the flags of `seal`, those of `seal --each` when they differ
    // only by {name}, a phrase of the refusal)
    let fed = |extra: &[&str]| {
        let mut one = args(&["--federation", "ws-alice"]);
        let mut each = args(&["--federation", "ws-{name}"]);
        one.extend(args(extra));
        each.extend(args(extra));
        (one, each)
    };
    let role = |extra: &[&str]| {
        let mut one = args(&["--role", &arn, "--session-name", "s-alice"]);
        let mut each = args(&["--role", &arn, "--session-name", "s-{name}"]);
        one.extend(args(extra));
        each.extend(args(extra));
        (one, each)
    };
    let mut policy = fed(&[]);
    policy.0.extend(many.clone());
    policy.1.extend(many.clone());
    let bad_arn = (
        args(&[
            "--role",
            "arn:aws:iam::1234:role/r",
            "--session-name",
            "s-alice",
        ]),
        args(&[
            "--role",
            "arn:aws:iam::1234:role/r",
            "--session-name",
            "s-{name}",
        ]),
    );
    let cases = [
        (
            "federation duration, long",
            fed(&["--duration", "37h"]),
            "--duration must be 900 to 129600 seconds",
        ),
        (
            "federation duration, short",
            fed(&["--duration", "10m"]),
            "--duration must be 900 to 129600 seconds",
        ),
        (
            "role duration",
            role(&["--duration", "13h"]),
            "--duration must be 900 to 43200 seconds",
        ),
        ("role ARN", bad_arn, "is not a role ARN"),
        (
            "external id",
            role(&["--external-id", "x"]),
            "the external id must be 2 to 1224",
        ),
        (
            "MFA",
            fed(&[
                "--mfa-serial",
                "arn:aws:iam::123456789012:mfa/me",
                "--token-code",
                "123456",
            ]),
            "--mfa-serial and --token-code apply to --session",
        ),
        ("policy size", policy, "STS takes at most 2048"),
    ];
    for (what, (one, each), phrase) in cases {
        let a = seal(false, &one);
        let b = seal(true, &each);
        assert!(a.contains(phrase), "{what}: {a}");
        assert_eq!(a, b, "{what}");
    }
    // A name is checked once filled in: on the roster line of its person.
    for (what, one, each, phrase) in [
        (
            "federated user name",
            fed(&[]).0,
            fed(&[]).1,
            "federated user name",
        ),
        (
            "role session name",
            role(&[]).0,
            role(&[]).1,
            "role session name",
        ),
    ] {
        let bad = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.replace("ws-", "ws/").replace("s-", "s/"))
                .collect()
        };
        let a = seal(false, &bad(one));
        let b = seal(true, &bad(each));
        assert!(a.contains(phrase), "{what}: {a}");
        let rule = a.strip_prefix("handoff: ").unwrap();
        assert_eq!(
            b,
            format!("handoff: {} line 1: {rule}", roster.display()),
            "{what}"
        );
    }
    assert!(!out.exists());
    assert!(!dir
        .path()
        .join(".local/state/handoff/issued.jsonl")
        .exists());
}

/// A loopback proxy in front of moto that answers `Throttling` for the
/// requests `throttle` picks (by their body) and forwards the rest.
struct Proxy {
    url: String,
    throttled: Arc<AtomicUsize>,
    on: Arc<AtomicBool>,
}

const THROTTLING: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>";

impl Proxy {
    fn start(upstream: u16, throttle: fn(&str, usize) -> bool) -> Proxy {
        Self::slow(upstream, throttle, std::time::Duration::ZERO)
    }

    /// Also waits `delay` before answering each request.
    fn slow(upstream: u16, throttle: fn(&str, usize) -> bool, delay: std::time::Duration) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let throttled = Arc::new(AtomicUsize::new(0));
        let on = Arc::new(AtomicBool::new(true));
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (t, o) = (throttled.clone(), on.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { break };
                let (t, o, seen) = (t.clone(), o.clone(), seen.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut conn = conn;
                    while let Some((head, body)) = read_message(&mut reader) {
                        std::thread::sleep(delay);
                        let text = String::from_utf8_lossy(&body).to_string();
                        let n = {
                            let mut s = seen.lock().unwrap();
                            s.push(text.clone());
                            s.iter().filter(|b| **b == text).count()
                        };
                        if o.load(Ordering::SeqCst) && throttle(&text, n) {
                            t.fetch_add(1, Ordering::SeqCst);
                            let _ = write!(
                                conn,
                                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{THROTTLING}",
                                THROTTLING.len()
                            );
                            continue;
                        }
                        let mut up = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                        let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                        up.write_all(head.as_bytes()).unwrap();
                        up.write_all(&body).unwrap();
                        let mut r = BufReader::new(up);
                        let Some((rhead, rbody)) = read_message(&mut r) else {
                            break;
                        };
                        let _ = conn.write_all(rhead.as_bytes());
                        let _ = conn.write_all(&rbody);
                    }
                });
            }
        });
        Proxy { url, throttled, on }
    }
}

#[test]
fn a_throttled_batch_retries_reports_and_a_rerun_completes() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (_, roster) = people(dir.path(), 10);
    // p03 and p07 are throttled on every attempt; p05 on its first only.
    let proxy = Proxy::start(moto.port, |body, n| {
        body.contains("ws-p03") || body.contains("ws-p07") || (body.contains("ws-p05") && n == 1)
    });
    let seal = || run(&mut batch(dir.path(), &proxy.url, &roster, "3"));
    let o = seal();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("made 8, skipped 0, failed 2: p03 (Throttling), p07 (Throttling)"),
        "{err}"
    );
    assert!(err.contains("p05: made"), "{err}");
    // Three attempts each for p03 and p07, one for p05.
    assert_eq!(proxy.throttled.load(Ordering::SeqCst), 7);
    assert!(!dir.path().join("out/p03.age").exists());
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.ends_with(".age"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    proxy.on.store(false, Ordering::SeqCst);
    let o = seal();
    ok(&o);
    assert!(
        stderr(&o).contains("made 2, skipped 8, failed 0"),
        "{}",
        stderr(&o)
    );
    let listed = ok(&run(handoff(dir.path()).args(["issued", "--json"])));
    assert_eq!(listed.lines().count(), 10);
}

#[test]
fn the_progress_bar_under_a_real_terminal() {
    let tmux = system_tool("tmux");
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (_, roster) = people(dir.path(), 6);
    let sock = dir.path().join("tmux.sock");
    let script = dir.path().join("run.sh");
    fs::write(
        &script,
        format!(
            "cd {home}; export HOME={home} AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY={SECRET}\n\
             {bin} seal --federation 'ws-{{name}}' --each {roster} -o out; echo \"exit=$?\"; sleep 60\n",
            home = dir.path().display(),
            url = moto.url,
            bin = env!("CARGO_BIN_EXE_handoff"),
            roster = roster.display(),
        ),
    )
    .unwrap();
    let tmux_cmd = |args: &[&str]| {
        let mut c = Command::new(&tmux);
        c.arg("-S").arg(&sock).args(args).env_remove("TMUX");
        run(&mut c)
    };
    let shell = format!("bash {}", script.display());
    ok(&tmux_cmd(&[
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "20",
        &shell,
    ]));
    let mut pane = String::new();
    for _ in 0..300 {
        pane = stdout(&tmux_cmd(&["capture-pane", "-p"]));
        if pane.contains("exit=") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = tmux_cmd(&["kill-server"]);
    assert!(pane.contains("exit=0"), "{pane}");
    assert!(pane.contains("made 6, skipped 0, failed 0"), "{pane}");
    // The bar, at its end: full, 6/6, no failures; and no plain lines.
    assert!(pane.contains("6/6 failed: 0"), "{pane}");
    assert!(pane.contains("\u{2588}"), "{pane}");
    assert!(!pane.contains("p00: made"), "{pane}");
}

#[test]
fn ctrl_c_stops_new_mints_and_leaves_no_partial_file() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (people, roster) = people(dir.path(), 8);
    let proxy = Proxy::slow(
        moto.port,
        |_, _| false,
        std::time::Duration::from_millis(400),
    );
    let mut child = batch(dir.path(), &proxy.url, &roster, "2")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "no progress: {seen}");
        seen.push_str(&line);
        if line.contains(": made ") {
            break;
        }
    }
    ok(&run(
        Command::new("kill").args(["-INT", &child.id().to_string()])
    ));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    seen.push_str(&rest);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(seen.contains("not started (rerun to finish)"), "{seen}");
    let names: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(!names.is_empty() && names.len() < 8, "{names:?}");
    // Every file there is whole: it opens with its person's key.
    for n in &names {
        let name = n
            .strip_suffix(".age")
            .unwrap_or_else(|| panic!("stray file {n}"));
        let (_, key, _) = people.iter().find(|(p, _, _)| p == name).unwrap();
        ok(&run(handoff(dir.path())
            .args(["show", "-i"])
            .arg(key)
            .arg(dir.path().join("out").join(n))));
    }
}

#[test]
fn role_sessions_per_person_and_revoked_on_the_role() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (_, roster) = people(dir.path(), 3);
    let aws = |args: &[&str]| {
        let mut c = Command::new(venv_bin("aws"));
        isolate(&mut c, dir.path());
        c.env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(args);
        ok(&run(&mut c))
    };
    aws(&[
        "iam",
        "create-role",
        "--role-name",
        "workshop",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
    ]);
    let h = || {
        let mut c = handoff(dir.path());
        c.env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET);
        c
    };
    let role_policy = || {
        aws(&[
            "iam",
            "get-role-policy",
            "--role-name",
            "workshop",
            "--policy-name",
            "handoff-revoked",
        ])
    };
    let role = format!("arn:aws:iam::{ACCOUNT}:role/workshop");
    let o = run(h()
        .args([
            "seal",
            "--role",
            &role,
            "--session-name",
            "ws-{name}",
            "--each",
        ])
        .arg(&roster)
        .arg("-o")
        .arg(dir.path().join("out")));
    ok(&o);
    assert!(
        stderr(&o).contains("made 3, skipped 0, failed 0"),
        "{}",
        stderr(&o)
    );
    let listed = ok(&run(h().args(["issued", "--json"])));
    let p01: serde_json::Value = listed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["name"] == "p01")
        .unwrap();
    let userid = p01["userid"].as_str().unwrap().to_string();
    assert!(userid.ends_with(":ws-p01"), "{userid}");
    ok(&run(h().args(["revoke", "p01", "--yes"])));
    let got = role_policy();
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    let s = &v["PolicyDocument"]["Statement"][0];
    assert_eq!(
        s["Condition"]["StringEquals"]["aws:userid"],
        serde_json::json!([userid])
    );
    // Without a ledger entry: --userid on the role.
    ok(&run(h().args([
        "revoke",
        "--userid",
        "AROAEXAMPLE:other",
        "--role",
        "workshop",
        "--yes",
    ])));
    let got = role_policy();
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    lint(&v["PolicyDocument"].to_string());
    assert!(
        got.contains("AROAEXAMPLE:other") && got.contains(&userid),
        "{got}"
    );
}

#[test]
fn every_seal_is_recorded_unless_asked_not_to() {
    let (dir, key) = home_with_key();
    let doc = dir.path().join("doc.json");
    fs::write(&doc, sts_document()).unwrap();
    let ledger = dir.path().join("elsewhere/ledger.jsonl");
    // Eight seals at once, from a document: eight records, none lost.
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = handoff(dir.path());
            c.env("HANDOFF_LEDGER", &ledger)
                .args(["seal", "-r", &key, "--label", &format!("n{i}"), "--input"])
                .arg(&doc)
                .arg("-o")
                .arg(dir.path().join(format!("t{i}.age")));
            c.spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = fs::read_to_string(&ledger).unwrap();
    assert_eq!(text.lines().count(), 8, "{text}");
    assert_eq!(mode(&ledger), 0o600);
    let r: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(r["kind"], "federation");
    assert_eq!(r["access_key_id"], AKID);
    assert_eq!(r["userid"], "123456789012:TestUser");
    assert_eq!(r["recipients"], serde_json::json!([key]));
    assert_eq!(r["recipients_fingerprint"].as_str().unwrap().len(), 12);
    assert!(r["minted_by"].is_null());
    assert!(!text.contains(SECRET) && !text.contains(SESSION));
    // --no-ledger: nothing written; XDG_STATE_HOME moves the default.
    let state = dir.path().join("state");
    ok(&run(handoff(dir.path())
        .env("XDG_STATE_HOME", &state)
        .args(["seal", "--no-ledger", "-r", &key, "--input"])
        .arg(&doc)
        .arg("-o")
        .arg(dir.path().join("none.age"))));
    assert!(!state.exists());
    ok(&run(handoff(dir.path())
        .env("XDG_STATE_HOME", &state)
        .args(["seal", "-r", &key, "--input"])
        .arg(&doc)
        .arg("-o")
        .arg(dir.path().join("one.age"))));
    let listed = ok(&run(handoff(dir.path())
        .env("XDG_STATE_HOME", &state)
        .args(["issued", "--all"])));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("TestUser"), "{listed}");
}

/// A loopback STS that answers GetCallerIdentity as the account's root and
/// everything else with a recorded federation token.
fn root_sts() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let token = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/aws/moto-get-federation-token.xml"),
    )
    .unwrap()
    // the recorded token expired long ago, and seal refuses expired credentials
    .replace("2026-11-26T18:58:16.304733Z", "2099-01-01T00:00:00Z");
    assert!(token.contains("2099-01-01T00:00:00Z"));
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { break };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            while let Some((_, body)) = read_message(&mut reader) {
                let answer = if String::from_utf8_lossy(&body).contains("GetCallerIdentity") {
                    format!("<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:root</Arn><UserId>{ACCOUNT}</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
                } else {
                    token.clone()
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{answer}",
                    answer.len()
                );
            }
        }
    });
    url
}

#[test]
fn root_credentials_seal_with_a_warning_and_cannot_be_revoked() {
    let (dir, key) = home_with_key();
    let url = root_sts();
    let h = || {
        let mut c = handoff(dir.path());
        c.env("AWS_ENDPOINT_URL", &url)
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET);
        c
    };
    let o = run(h()
        .args(["seal", "--federation", "TemporaryUser", "-r", &key, "-o"])
        .arg(dir.path().join("t.age")));
    ok(&o);
    assert!(stderr(&o).contains("root credentials"), "{}", stderr(&o));
    // (The recorded answer's token has expired since: --all.)
    let listed = ok(&run(h().args(["issued", "--all", "--json"])));
    assert!(
        listed.contains(&format!("arn:aws:iam::{ACCOUNT}:root")),
        "{listed}"
    );
    let o = run(h().args(["revoke", "TemporaryUser", "--yes"]));
    assert!(fails(&o, 1, &[]).contains("root credentials"));
}
