//! `handoff revoke` against moto: revocations that are read back before they
//! are reported, under any number of concurrent processes on one machine and
//! a loopback proxy that loses writes; statements handoff did not write kept
//! exactly (checked with the AWS CLI); the cut-off on AWS's clock with the
//! local one skewed by libfaketime; the managed-policy fallback when a user's
//! inline budget is full.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use common::moto::Moto;
use common::*;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";
const ADMIN_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

/// boto3 IAM calls: argv[2] is a JSON list of `[method, kwargs]`; prints
/// the answers (without their metadata) as a JSON list. One Python start
/// for many calls.
const BOTO: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
out = []
for op, kw in json.loads(sys.argv[2]):
    r = getattr(iam, op)(**kw)
    r.pop("ResponseMetadata", None)
    out.append(r)
print(json.dumps(out, default=str))
"#;

fn boto(url: &str, home: &Path, ops: Value) -> Vec<Value> {
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, home);
    py.args(["-c", BOTO, url, &ops.to_string()]);
    let out = ok(&run(&mut py));
    serde_json::from_str::<Vec<Value>>(out.trim()).unwrap()
}

/// handoff in `home`, at `url`, with the example admin keys.
fn handoff_at(home: &Path, url: &str) -> Command {
    let mut c = handoff(home);
    c.env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", ADMIN_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET);
    c
}

/// The ledger of `home`.
fn ledger(home: &Path) -> PathBuf {
    home.join(".local/state/handoff/issued.jsonl")
}

/// Writes a ledger in `home` of federation tokens minted by IAM user `user`,
/// one per (roster name, session name), issued a minute ago.
fn write_ledger(home: &Path, user: &str, people: &[(String, String)]) {
    let now = SystemTime::now();
    let mut text = String::new();
    for (i, (name, session)) in people.iter().enumerate() {
        text.push_str(
            &json!({
                "token_id": format!("{:032x}", (i as u128 + 1) * 0x1000_0000_0000_0001 + name.len() as u128),
                "kind": "federation",
                "access_key_id": format!("ASIAEXAMPLE{i:05}"),
                "userid": format!("{ACCOUNT}:{session}"),
                "arn": format!("arn:aws:sts::{ACCOUNT}:federated-user/{session}"),
                "minted_by": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
                "name": name,
                "recipients": [],
                "recipients_fingerprint": "",
                "issued_at": handoff::clock::format_rfc3339(now - Duration::from_secs(60)),
                "expires_at": handoff::clock::format_rfc3339(now + Duration::from_secs(3600)),
            })
            .to_string(),
        );
        text.push('\n');
    }
    let path = ledger(home);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
}

/// The ledger's records, by roster name: its revoked_at.
fn ledger_revoked(home: &Path) -> Vec<(String, Option<String>)> {
    fs::read_to_string(ledger(home))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap_or("").to_string(),
                v["revoked_at"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Every aws:userid handoff's own statements deny, and their cut-offs.
fn handoff_entries(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in doc["Statement"].as_array().into_iter().flatten() {
        if !s["Sid"]
            .as_str()
            .is_some_and(|x| x.starts_with("HandoffRevoked"))
        {
            continue;
        }
        let at = s["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
            .as_str()
            .unwrap()
            .to_string();
        for id in s["Condition"]["StringEquals"]["aws:userid"]
            .as_array()
            .unwrap()
        {
            out.push((id.as_str().unwrap().to_string(), at.clone()));
        }
    }
    out.sort();
    out
}

fn ids(doc: &Value) -> BTreeSet<String> {
    handoff_entries(doc).into_iter().map(|(u, _)| u).collect()
}

/// The inline handoff-revoked document of `user`, through boto3.
fn inline_doc(url: &str, home: &Path, user: &str) -> Value {
    boto(
        url,
        home,
        json!([["get_user_policy", {"UserName": user, "PolicyName": "handoff-revoked"}]]),
    )[0]["PolicyDocument"]
        .clone()
}

#[test]
fn concurrent_revokes_on_one_user_lose_nothing() {
    // 2, 5 and 20 processes at once, five times each (the old code lost a
    // write in every run of two).
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let rounds: Vec<(usize, usize)> = [2, 5, 20]
        .into_iter()
        .flat_map(|n| (0..5).map(move |r| (n, r)))
        .collect();
    let users: Vec<Value> = rounds
        .iter()
        .map(|(n, r)| json!(["create_user", {"UserName": format!("issuer-{n}-{r}")}]))
        .collect();
    boto(&moto.url, dir.path(), Value::Array(users));
    for &(n, r) in &rounds {
        let home = dir.path().join(format!("h-{n}-{r}"));
        let user = format!("issuer-{n}-{r}");
        let people: Vec<(String, String)> = (0..n)
            .map(|i| (format!("p{i:02}"), format!("ws-{n}-{r}-p{i:02}")))
            .collect();
        write_ledger(&home, &user, &people);
        let children: Vec<_> = (0..n)
            .map(|i| {
                handoff_at(&home, &moto.url)
                    .args(["revoke", &format!("p{i:02}"), "--yes"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let said: Vec<String> = children
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                ok(&o);
                stderr(&o)
            })
            .collect();
        let doc = inline_doc(&moto.url, dir.path(), &user);
        let want: BTreeSet<String> = people
            .iter()
            .map(|(_, s)| format!("{ACCOUNT}:{s}"))
            .collect();
        assert_eq!(ids(&doc), want, "{n} processes, round {r}: {doc}");
        // The ledger agrees: every record marked, at its IAM cut-off.
        let entries = handoff_entries(&doc);
        for (name, revoked) in ledger_revoked(&home) {
            let at = revoked.unwrap_or_else(|| panic!("{name} not marked ({n}, {r})"));
            let (_, session) = people.iter().find(|(p, _)| *p == name).unwrap();
            let id = format!("{ACCOUNT}:{session}");
            assert!(
                entries.contains(&(id, at.clone())),
                "{name} at {at}: {entries:?}"
            );
        }
        for s in said {
            assert!(s.contains("read back"), "{s}");
        }
    }
}

/// A loopback proxy in front of moto: `rule` gets each request's body and a
/// way to forward it upstream, and returns the answer to send back (so it
/// may hold a request, forward it, or answer for moto).
struct Proxy {
    url: String,
}

type Rule = dyn Fn(&str, &dyn Fn() -> Vec<u8>) -> Vec<u8> + Send + Sync;

impl Proxy {
    fn start(upstream: u16, rule: Arc<Rule>) -> Proxy {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { break };
                let rule = rule.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut conn = conn;
                    while let Some((head, body)) = read_message(&mut reader) {
                        let forward = || {
                            let mut up = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                            let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                            up.write_all(head.as_bytes()).unwrap();
                            up.write_all(&body).unwrap();
                            let mut r = BufReader::new(up);
                            let (rhead, rbody) = read_message(&mut r).unwrap();
                            let mut out = rhead.into_bytes();
                            out.extend(rbody);
                            out
                        };
                        let text = String::from_utf8_lossy(&body).to_string();
                        let answer = rule(&text, &forward);
                        if conn.write_all(&answer).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Proxy { url }
    }
}

/// What IAM answers to a PutUserPolicy, made up: the write is lost.
fn fake_put_answer() -> Vec<u8> {
    let body = "<PutUserPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>lost-0000</RequestId></ResponseMetadata></PutUserPolicyResponse>";
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn a_lost_write_is_detected_retried_and_reported() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    boto(
        &moto.url,
        dir.path(),
        json!([["create_user", {"UserName": "racer"}], ["create_user", {"UserName": "lossy"}]]),
    );

    // Two machines (two homes, so no shared lock) revoke on one user at
    // once. The proxy lets both read the empty policy, then both write:
    // the first write is replaced by the second (planned without it), and
    // neither answer goes back before both writes are in.
    #[derive(Default)]
    struct Race {
        gets: usize,
        puts: usize,
        turn: usize,
    }
    let race = Arc::new((Mutex::new(Race::default()), Condvar::new()));
    let r2 = race.clone();
    let rule: Arc<Rule> = Arc::new(move |body: &str, forward: &dyn Fn() -> Vec<u8>| {
        let (m, cv) = &*r2;
        let wait = |ok: &dyn Fn(&Race) -> bool| {
            let g = m.lock().unwrap();
            let _ = cv
                .wait_timeout_while(g, Duration::from_secs(20), |s| !ok(s))
                .unwrap();
        };
        let first_read = body.contains("Action=GetUserPolicy")
            && body.contains("PolicyName=handoff-revoked")
            && m.lock().unwrap().gets < 2;
        if first_read {
            m.lock().unwrap().gets += 1;
            cv.notify_all();
            wait(&|s| s.gets >= 2);
            return forward();
        }
        let mine = if body.contains("Action=PutUserPolicy") {
            let mut s = m.lock().unwrap();
            (s.puts < 2).then(|| {
                s.puts += 1;
                s.puts - 1
            })
        } else {
            None
        };
        let Some(i) = mine else {
            return forward();
        };
        cv.notify_all();
        wait(&|s| s.puts >= 2 && s.turn == i);
        let answer = forward();
        m.lock().unwrap().turn += 1;
        cv.notify_all();
        wait(&|s| s.turn >= 2);
        answer
    });
    let proxy = Proxy::start(moto.port, rule);
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|m| {
            let home = dir.path().join(format!("machine-{m}"));
            fs::create_dir_all(&home).unwrap();
            handoff_at(&home, &proxy.url)
                .args([
                    "revoke",
                    "--userid",
                    &format!("{ACCOUNT}:ws-{m}"),
                    "--user",
                    "racer",
                    "--yes",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut said = String::new();
    for c in children {
        let o = c.wait_with_output().unwrap();
        ok(&o);
        said.push_str(&stderr(&o));
    }
    assert_eq!(
        said.matches("1 write was lost to another writer and made again")
            .count(),
        1,
        "{said}"
    );
    let doc = inline_doc(&moto.url, dir.path(), "racer");
    let want: BTreeSet<String> = [format!("{ACCOUNT}:ws-a"), format!("{ACCOUNT}:ws-b")].into();
    assert_eq!(ids(&doc), want, "{doc}");

    // A writer that wins every time (here: the proxy drops every write on
    // user lossy): after its bounded retries, revoke fails naming what is
    // NOT revoked, and the ledger does not say revoked.
    let home = dir.path().join("lossy");
    write_ledger(&home, "lossy", &[("carol".into(), "ws-carol".into())]);
    let dropped = Arc::new(AtomicUsize::new(0));
    let (d2, keep) = (dropped.clone(), Arc::new(AtomicUsize::new(usize::MAX)));
    let k2 = keep.clone();
    let lossy: Arc<Rule> = Arc::new(move |body: &str, forward: &dyn Fn() -> Vec<u8>| {
        if body.contains("Action=PutUserPolicy")
            && body.contains("UserName=lossy")
            && d2.fetch_add(1, Ordering::SeqCst) < k2.load(Ordering::SeqCst)
        {
            return fake_put_answer();
        }
        forward()
    });
    let proxy = Proxy::start(moto.port, lossy);
    let o = run(handoff_at(&home, &proxy.url).args(["revoke", "carol", "--yes"]));
    let err = fails(&o, 1, &[]);
    assert!(
        err.contains(&format!(
            "NOT revoked: {ACCOUNT}:ws-carol on IAM user lossy"
        )),
        "{err}"
    );
    assert_eq!(dropped.load(Ordering::SeqCst), 4, "bounded: {err}");
    assert_eq!(ledger_revoked(&home), vec![("carol".to_string(), None)]);

    // Only the first write lost: detected, made again, reported, recorded.
    dropped.store(0, Ordering::SeqCst);
    keep.store(1, Ordering::SeqCst);
    let o = run(handoff_at(&home, &proxy.url).args(["revoke", "carol", "--yes"]));
    ok(&o);
    assert!(
        stderr(&o).contains("1 write was lost to another writer and made again"),
        "{}",
        stderr(&o)
    );
    let doc = inline_doc(&moto.url, dir.path(), "lossy");
    assert_eq!(ids(&doc), [format!("{ACCOUNT}:ws-carol")].into());
    assert!(ledger_revoked(&home)[0].1.is_some());
    // And now IAM holds it: already revoked, nothing written.
    let o = run(handoff_at(&home, &moto.url).args(["revoke", "carol", "--yes"]));
    assert!(fails(&o, 1, &[]).contains("already revoked"));
}

#[test]
fn a_revocation_the_ledger_has_but_iam_lost_is_made_again_by_name() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    boto(
        &moto.url,
        dir.path(),
        json!([["create_user", {"UserName": "issuer"}]]),
    );
    let home = dir.path().join("h");
    write_ledger(&home, "issuer", &[("dave".into(), "ws-dave".into())]);
    // The ledger says revoked (an older handoff wrote it after a write
    // that was lost); IAM holds nothing.
    let text = fs::read_to_string(ledger(&home)).unwrap().replace(
        "\"recipients\"",
        "\"revoked_at\":\"2026-01-01T00:00:00Z\",\"recipients\"",
    );
    fs::write(ledger(&home), text).unwrap();
    let o = run(handoff_at(&home, &moto.url).args(["revoke", "dave", "--yes"]));
    ok(&o);
    let doc = inline_doc(&moto.url, dir.path(), "issuer");
    assert_eq!(ids(&doc), [format!("{ACCOUNT}:ws-dave")].into());

    // A selector that names the roster person ws-bob and bob, whose
    // session is ws-bob: ambiguous, nothing revoked; a qualifier is exact.
    let home = dir.path().join("bobs");
    write_ledger(
        &home,
        "issuer",
        &[
            ("ws-bob".into(), "ws-x".into()),
            ("bob".into(), "ws-bob".into()),
        ],
    );
    let o = run(handoff_at(&home, &moto.url).args(["revoke", "ws-bob", "--yes"]));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("(ws-bob, ws-x) matched by name"), "{err}");
    assert!(err.contains("(bob, ws-bob) matched by session"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("say which with name:, session:, id: or key:"),
        "{err}"
    );
    assert_eq!(ids(&inline_doc(&moto.url, dir.path(), "issuer")).len(), 1);
    ok(&run(handoff_at(&home, &moto.url).args([
        "revoke",
        "session:ws-bob",
        "--yes",
    ])));
    let want: BTreeSet<String> = [format!("{ACCOUNT}:ws-dave"), format!("{ACCOUNT}:ws-bob")].into();
    assert_eq!(ids(&inline_doc(&moto.url, dir.path(), "issuer")), want);
}

#[test]
fn an_administrators_statement_survives_a_revoke_unchanged() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    // A security team's deny of handoff's very shape, with a Sid and a
    // cut-off in 2030, in the handoff-revoked policy itself.
    let admin = json!({"Sid": "SecurityTeamUntil2030", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:userid": [format!("{ACCOUNT}:ws-erin")]},
                      "DateLessThan": {"aws:TokenIssueTime": "2030-01-01T00:00:00Z"}}});
    let other = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Other", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]});
    boto(
        &moto.url,
        dir.path(),
        json!([
            ["create_user", {"UserName": "issuer"}],
            ["put_user_policy", {"UserName": "issuer", "PolicyName": "handoff-revoked",
                "PolicyDocument": json!({"Version": "2012-10-17", "Statement": [admin.clone()]}).to_string()}],
            ["put_user_policy", {"UserName": "issuer", "PolicyName": "other", "PolicyDocument": other.to_string()}],
        ]),
    );
    let home = dir.path().join("h");
    fs::create_dir_all(&home).unwrap();
    for who in ["ws-erin", "ws-frank"] {
        ok(&run(handoff_at(&home, &moto.url).args([
            "revoke",
            "--userid",
            &format!("{ACCOUNT}:{who}"),
            "--user",
            "issuer",
            "--yes",
        ])));
    }
    let aws = |args: &[&str]| {
        let mut c = Command::new(venv_bin("aws"));
        isolate(&mut c, dir.path());
        c.env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", ADMIN_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(args);
        serde_json::from_str::<Value>(&ok(&run(&mut c))).unwrap()
    };
    let got = aws(&[
        "iam",
        "get-user-policy",
        "--user-name",
        "issuer",
        "--policy-name",
        "handoff-revoked",
    ]);
    let statements = got["PolicyDocument"]["Statement"].as_array().unwrap();
    assert_eq!(statements[0], admin, "{got}");
    // Then handoff's own (one, or two when the runs straddled a second).
    assert!(
        statements[1..]
            .iter()
            .all(|s| s["Sid"].as_str().unwrap().starts_with("HandoffRevoked")),
        "{got}"
    );
    let want: BTreeSet<String> =
        [format!("{ACCOUNT}:ws-erin"), format!("{ACCOUNT}:ws-frank")].into();
    assert_eq!(ids(&got["PolicyDocument"]), want);
    // Other policies are never touched.
    let o = aws(&[
        "iam",
        "get-user-policy",
        "--user-name",
        "issuer",
        "--policy-name",
        "other",
    ]);
    assert_eq!(o["PolicyDocument"], other);
}

#[test]
fn a_slow_clock_still_cuts_off_at_aws_time() {
    // Debian's libfaketime, wherever its multiarch folder is.
    let lib = fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("faketime/libfaketime.so.1"))
        .find(|p| p.exists())
        .expect("libfaketime is missing: run scripts/setup (Debian package faketime)");
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    boto(
        &moto.url,
        dir.path(),
        json!([["create_user", {"UserName": "issuer"}]]),
    );
    let home = dir.path().join("h");
    write_ledger(&home, "issuer", &[("gina".into(), "ws-gina".into())]);
    let before = SystemTime::now();
    // handoff's clock four minutes slow; moto's (AWS's) right.
    let o = run(handoff_at(&home, &moto.url)
        .env("LD_PRELOAD", &lib)
        .env("FAKETIME", "-240")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .args(["revoke", "gina", "--yes"]));
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("s behind AWS's; the cut-off is AWS's time"),
        "{err}"
    );
    let doc = inline_doc(&moto.url, dir.path(), "issuer");
    let entries = handoff_entries(&doc);
    assert_eq!(entries.len(), 1, "{doc}");
    let cut = handoff::clock::parse_rfc3339(&entries[0].1).unwrap();
    assert!(
        cut >= before,
        "cut-off {} before AWS's time {}",
        entries[0].1,
        handoff::clock::format_rfc3339(before)
    );
    assert_eq!(
        ledger_revoked(&home)[0].1.as_deref(),
        Some(entries[0].1.as_str())
    );
}

/// An allow of many actions: `n` characters or so of someone's own inline
/// policy.
fn big_policy(n: usize) -> String {
    let mut actions = Vec::new();
    let mut doc = String::new();
    for i in 0.. {
        actions.push(format!("s3:GetObjectVersion{i:04}"));
        let next = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Big", "Effect": "Allow", "Action": actions, "Resource": "*"}]}).to_string();
        if next.len() > n {
            break;
        }
        doc = next;
    }
    doc
}

#[test]
fn the_managed_fallback_when_the_inline_budget_is_full() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let big = big_policy(1900);
    let stuffed = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Filler", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:userid": (0..295).map(|i| format!("{ACCOUNT}:x{i:03}")).collect::<Vec<_>>()}}}]})
    .to_string();
    let r = boto(
        &moto.url,
        dir.path(),
        json!([
            ["create_user", {"UserName": "full"}],
            ["put_user_policy", {"UserName": "full", "PolicyName": "big", "PolicyDocument": big}],
            ["create_user", {"UserName": "stuffed"}],
            ["put_user_policy", {"UserName": "stuffed", "PolicyName": "big", "PolicyDocument": big}],
            ["create_policy", {"PolicyName": "handoff-revoked-user-stuffed", "Path": "/handoff/", "PolicyDocument": stuffed}],
        ]),
    );
    let stuffed_arn = r[4]["Policy"]["Arn"].as_str().unwrap().to_string();
    boto(
        &moto.url,
        dir.path(),
        json!([["attach_user_policy", {"UserName": "stuffed", "PolicyArn": stuffed_arn}]]),
    );
    let home = dir.path().join("h");
    fs::create_dir_all(&home).unwrap();
    let revoke = |user: &str, who: &str, extra: &[&str]| {
        run(handoff_at(&home, &moto.url)
            .args([
                "revoke",
                "--userid",
                &format!("{ACCOUNT}:{who}"),
                "--user",
                user,
            ])
            .args(extra))
    };
    // --dry-run says where it would go.
    let o = revoke("full", "ws-m0", &["--dry-run"]);
    let dry = ok(&o);
    assert!(dry.contains("ws-m0"), "{dry}");
    assert!(
        stderr(&o).contains("in the managed policy /handoff/handoff-revoked-user-full"),
        "{}",
        stderr(&o)
    );
    // Seven revocations, each its own cut-off: the managed policy holds
    // them all, in at most five versions.
    for i in 0..7 {
        let o = revoke("full", &format!("ws-m{i}"), &["--yes"]);
        ok(&o);
        assert!(
            stderr(&o)
                .contains("read back from the managed policy /handoff/handoff-revoked-user-full"),
            "{}",
            stderr(&o)
        );
    }
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/handoff/handoff-revoked-user-full");
    let r = boto(
        &moto.url,
        dir.path(),
        json!([
            ["list_attached_user_policies", {"UserName": "full"}],
            ["get_policy", {"PolicyArn": arn}],
            ["list_policy_versions", {"PolicyArn": arn}],
            ["list_user_policies", {"UserName": "full"}],
        ]),
    );
    assert_eq!(r[0]["AttachedPolicies"][0]["PolicyArn"], arn.as_str());
    let version = r[1]["Policy"]["DefaultVersionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(r[2]["Versions"].as_array().unwrap().len() <= 5, "{}", r[2]);
    assert_eq!(r[3]["PolicyNames"], json!(["big"]), "inline untouched");
    let doc = boto(
        &moto.url,
        dir.path(),
        json!([["get_policy_version", {"PolicyArn": arn, "VersionId": version}]]),
    )[0]["PolicyVersion"]["Document"]
        .clone();
    let want: BTreeSet<String> = (0..7).map(|i| format!("{ACCOUNT}:ws-m{i}")).collect();
    assert_eq!(ids(&doc), want, "{doc}");

    // Neither fits: nothing written, and the message says what would help.
    let o = revoke("stuffed", "ws-n0", &["--yes"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("nothing written"), "{err}");
    assert!(
        err.contains("move IAM user stuffed's other inline policies (big:"),
        "{err}"
    );
    assert!(err.contains("revoke active sessions"), "{err}");
}

/// The policy under `<!-- policy: NAME -->` in docs/PERMISSIONS.md, with
/// the placeholders filled in.
fn documented_policy(name: &str, issuer: &str, role: &str) -> Value {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/PERMISSIONS.md"))
            .unwrap();
    let marker = format!("<!-- policy: {name} -->");
    let after = &text[text.find(&marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len()..];
    let start = after.find("```json").unwrap() + "```json".len();
    let end = start + after[start..].find("```").unwrap();
    let doc = after[start..end]
        .replace("ACCOUNT", ACCOUNT)
        .replace("ISSUER", issuer)
        .replace("ROLE", role);
    serde_json::from_str(&doc).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The same policy as moto can check it: every Resource `*`, no Condition
/// (see docs/PERMISSIONS.md, "What the test changes").
fn for_moto(policy: &Value) -> String {
    let mut p = policy.clone();
    for s in p["Statement"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.insert("Resource".into(), json!("*"));
        s.remove("Condition");
    }
    p.to_string()
}

/// IAM users and a role made while moto in IAM mode still takes unsigned
/// requests (`UNCHECKED` of them); prints each user's keys.
const PERMISSIONS_SETUP: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
users = json.loads(sys.argv[2])
keys = {}
for user, policy in users.items():
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="exactly", PolicyDocument=policy)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    keys[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
iam.create_role(RoleName="workshop", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/minter"}, "Action": "sts:AssumeRole"}]}))
print(json.dumps(keys))
"#;

#[test]
fn each_command_runs_with_exactly_its_documented_policy() {
    let federation = documented_policy("seal-federation", "minter", "workshop");
    let session = documented_policy("seal-session", "minter", "workshop");
    let role = documented_policy("seal-role", "minter", "workshop");
    let revoke = documented_policy("revoke", "minter", "workshop");
    for p in [&federation, &session, &role, &revoke] {
        let o = run(Command::new(venv_bin("parliament")).args(["--string", &p.to_string()]));
        assert!(
            o.status.success() && o.stdout.is_empty(),
            "parliament on {p}:\n{}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    // The minter holds the three seal policies together (one user for the
    // ledger's sake; each policy is exercised by its own command); the
    // revoker only the revoke policy; `partial` the revoke policy less
    // iam:ListUserPolicies and iam:ListAttachedUserPolicies; `admin` everything, to fill the minter's
    // inline budget halfway through.
    let mut minter = federation.clone();
    for p in [&session, &role] {
        let more = p["Statement"].as_array().unwrap().clone();
        minter["Statement"].as_array_mut().unwrap().extend(more);
    }
    let mut partial = revoke.clone();
    let actions = partial["Statement"][0]["Action"].as_array_mut().unwrap();
    actions.retain(|a| a != "iam:ListUserPolicies" && a != "iam:ListAttachedUserPolicies");
    let users = json!({
        "minter": for_moto(&minter),
        "revoker": for_moto(&revoke),
        "partial": for_moto(&partial),
        "admin": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}).to_string(),
    });
    // Four users of three requests, and the role.
    let moto = Moto::start_iam(13);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, home);
    py.args(["-c", PERMISSIONS_SETUP, &moto.url, &users.to_string()]);
    let keys: Value = serde_json::from_str(ok(&run(&mut py)).trim()).unwrap();
    let aws_dir = home.join(".aws");
    fs::create_dir_all(&aws_dir).unwrap();
    let mut creds = String::new();
    let mut config = String::new();
    for user in ["minter", "revoker", "partial", "admin"] {
        creds.push_str(&format!(
            "[{user}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys[user][0].as_str().unwrap(),
            keys[user][1].as_str().unwrap()
        ));
        config.push_str(&format!("[profile {user}]\nregion = us-east-1\n"));
    }
    fs::write(aws_dir.join("credentials"), creds).unwrap();
    fs::write(aws_dir.join("config"), config).unwrap();
    let h = |profile: &str| {
        let mut c = handoff(home);
        c.env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_PROFILE", profile);
        c
    };
    let key = ok(&run(handoff(home).arg("keygen"))).trim().to_string();
    let roster = home.join("roster.txt");
    fs::write(&roster, format!("ann {key}\nben {key}\n")).unwrap();

    // seal, each way, as the minter.
    let seal = |args: &[&str], out: &str| {
        let o = run(h("minter")
            .arg("seal")
            .args(args)
            .arg("-o")
            .arg(home.join(out)));
        ok(&o);
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    };
    seal(
        &[
            "--federation",
            "ws-one",
            "--allow",
            "DescribeImages",
            "-r",
            &key,
        ],
        "one.age",
    );
    seal(&["--session", "-r", &key], "session.age");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/workshop");
    seal(
        &["--role", &role_arn, "--session-name", "ws-two", "-r", &key],
        "two.age",
    );
    seal(
        &[
            "--federation",
            "ws-{name}",
            "--allow",
            "DescribeImages",
            "--each",
            roster.to_str().unwrap(),
        ],
        "fed",
    );
    seal(
        &[
            "--role",
            &role_arn,
            "--session-name",
            "ws-r-{name}",
            "--each",
            roster.to_str().unwrap(),
        ],
        "roles",
    );

    // A missing action is named.
    let o = run(h("partial").args([
        "revoke",
        "--userid",
        &format!("{ACCOUNT}:ws-x"),
        "--user",
        "minter",
        "--dry-run",
    ]));
    // (and one that is optional is said, not fatal).
    let err = fails(&o, 5, &[]);
    assert!(err.contains("needs iam:ListUserPolicies"), "{err}");
    assert!(
        err.contains("warning: cannot see the managed policies attached to IAM user minter (needs iam:ListAttachedUserPolicies"),
        "{err}"
    );

    // revoke as the revoker: inline on the user, then (its budget filled
    // by an administrator) the managed fallback, created and then given a
    // new version; inline on the role.
    let revoke_as = |sel: &str| {
        let o = run(h("revoker").args(["revoke", sel, "--yes"]));
        ok(&o);
        stderr(&o)
    };
    assert!(revoke_as("session:ws-one").contains("inline policy handoff-revoked"));
    ok(&run(h("revoker").args(["revoke", "name:ann", "--dry-run"])));
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, home);
    py.env("AWS_PROFILE", "admin").args([
        "-c",
        "import boto3, sys; boto3.client('iam', endpoint_url=sys.argv[1]).put_user_policy(UserName='minter', PolicyName='filler', PolicyDocument=sys.argv[2])",
        &moto.url,
        &big_policy(1900),
    ]);
    ok(&run(&mut py));
    assert!(revoke_as("session:ws-ann").contains("managed policy"));
    assert!(revoke_as("session:ws-ben").contains("managed policy"));
    assert!(revoke_as("session:ws-two").contains("on role workshop"));
}
