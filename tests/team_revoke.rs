//! Revocations on a team ledger (issue 25, item 4) against real parts:
//! moto in IAM mode with two IAM users of one account, alice (A) and bob
//! (B), each in a HOME of their own, sharing one `dynamodb://` URL. Every
//! revoke on one IAM user takes a lease item in the table, so revokes from
//! two machines (two HOMEs share no lock file) serialise; a lease whose
//! holder was killed is taken over once it expires.
#![cfg(feature = "aws")]

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant, SystemTime};

use common::moto::Moto;
use common::{handoff, home_with_identity, isolate, ok, run, stderr, venv_bin};
use handoff::aws::dynamodb::{Attr, Dynamodb, Item};
use handoff::aws::{Iam, Principal, Service, Settings};
use handoff::issuer::lease::Lease;
use handoff::issuer::ledger::table::{TableLedger, TableUrl, INIT_WAIT};
use handoff::issuer::revoke::{self as rv, Serial, Session, Target};
use handoff::Credentials;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";
const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const URL: &str = "dynamodb://team-ledger?region=us-east-1";

/// Users alice and bob, each with what an issuer on a team ledger needs to
/// revoke (STS, the table's items, the revoke policy's user actions), and
/// an access key; then `targets` IAM users without keys, whose sessions
/// are revoked. 6 + `targets` requests, made while moto in IAM mode still
/// accepts unsigned ones. Prints the keys.
const SETUP: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
doc = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "sts:GetFederationToken",
        "dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:Scan",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "iam:GetUserPolicy", "iam:PutUserPolicy", "iam:ListUserPolicies",
        "iam:ListAttachedUserPolicies", "iam:GetPolicy", "iam:GetPolicyVersion",
        "iam:ListPolicyVersions", "iam:CreatePolicy", "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion", "iam:AttachUserPolicy", "iam:ListPolicies"],
     "Resource": "*"}]})
out = {}
for user in ["alice", "bob"]:
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="issuer", PolicyDocument=doc)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    out[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
for i in range(int(sys.argv[2])):
    iam.create_user(UserName="workshop-%d" % i)
print(json.dumps(out))
"#;

/// One issuer: a HOME with an identity, and IAM user keys.
struct Issuer {
    home: tempfile::TempDir,
    public: String,
    key: (String, String),
    user: &'static str,
}

impl Issuer {
    /// handoff in this issuer's HOME, signed with its keys, at `moto`,
    /// the ledger the team's table.
    fn handoff(&self, moto: &str) -> Command {
        let mut c = handoff(self.home.path());
        c.env("AWS_ENDPOINT_URL", moto)
            .env("AWS_ACCESS_KEY_ID", &self.key.0)
            .env("AWS_SECRET_ACCESS_KEY", &self.key.1)
            .env("AWS_REGION", "us-east-1")
            .env("HANDOFF_LEDGER", URL);
        c
    }

    fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user)
    }

    /// The AWS CLI in this HOME, signed with this issuer's keys.
    fn aws(&self, moto: &str) -> Command {
        let mut c = Command::new(venv_bin("aws"));
        isolate(&mut c, self.home.path());
        c.env("AWS_ACCESS_KEY_ID", &self.key.0)
            .env("AWS_SECRET_ACCESS_KEY", &self.key.1)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(["--endpoint-url", moto, "--output", "json"]);
        c
    }
}

/// Starts moto in IAM mode with alice, bob and `targets` workshop users,
/// and makes the team's table (as alice).
fn team(targets: u32) -> (Moto, Issuer, Issuer) {
    let moto = Moto::start_iam_serial(6 + targets);
    let dir = tempfile::tempdir().unwrap();
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, dir.path());
    py.args(["-c", SETUP, &moto.url, &targets.to_string()]);
    let keys: Value = serde_json::from_str(ok(&run(&mut py)).trim()).unwrap();
    let issuer = |user: &'static str| {
        let (home, public) = home_with_identity();
        Issuer {
            home,
            public,
            key: (
                keys[user][0].as_str().unwrap().to_string(),
                keys[user][1].as_str().unwrap().to_string(),
            ),
            user,
        }
    };
    let (a, b) = (issuer("alice"), issuer("bob"));
    ok(&run(a.handoff(&moto.url).args(["ledger", "init", URL])));
    (moto, a, b)
}

/// `issued --all --json` as records.
fn issued(i: &Issuer, moto: &str) -> Vec<Value> {
    ok(&run(i.handoff(moto).args(["issued", "--all", "--json"])))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every `aws:userid` handoff's statements deny in a document.
fn denied(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in doc["Statement"].as_array().into_iter().flatten() {
        if s["Sid"]
            .as_str()
            .is_some_and(|x| x.starts_with("HandoffRevoked"))
        {
            for id in s["Condition"]["StringEquals"]["aws:userid"]
                .as_array()
                .unwrap()
            {
                out.push(id.as_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out
}

/// What IAM denies on `user`, read with the AWS CLI: the inline
/// handoff-revoked policy, and handoff's managed fallback when attached.
fn denied_on(i: &Issuer, moto: &str, user: &str) -> Vec<String> {
    let inline: Value = serde_json::from_str(&ok(&run(i.aws(moto).args([
        "iam",
        "get-user-policy",
        "--user-name",
        user,
        "--policy-name",
        "handoff-revoked",
    ]))))
    .unwrap();
    let mut out = denied(&inline["PolicyDocument"]);
    let attached: Value = serde_json::from_str(&ok(&run(i.aws(moto).args([
        "iam",
        "list-attached-user-policies",
        "--user-name",
        user,
    ]))))
    .unwrap();
    for p in attached["AttachedPolicies"].as_array().unwrap() {
        let arn = p["PolicyArn"].as_str().unwrap();
        let meta: Value = serde_json::from_str(&ok(&run(i.aws(moto).args([
            "iam",
            "get-policy",
            "--policy-arn",
            arn,
        ]))))
        .unwrap();
        let version = meta["Policy"]["DefaultVersionId"].as_str().unwrap();
        let doc: Value = serde_json::from_str(&ok(&run(i.aws(moto).args([
            "iam",
            "get-policy-version",
            "--policy-arn",
            arn,
            "--version-id",
            version,
        ]))))
        .unwrap();
        out.extend(denied(&doc["PolicyVersion"]["Document"]));
    }
    out.sort();
    out.dedup();
    out
}

/// B revokes one of A's handoffs: the deny lands on A's IAM user (read
/// with the AWS CLI's get-user-policy), holding that session's
/// aws:userid; the record says when and that B revoked it (B's ARN), and
/// A's other handoff is untouched; no lease is left in the table.
#[test]
fn b_revokes_one_of_as_handoffs() {
    let (moto, a, b) = team(0);
    for n in ["ws-ann", "ws-ben"] {
        let out = a.home.path().join(format!("{n}.age"));
        ok(&run(a
            .handoff(&moto.url)
            .args(["seal", "--federation", n, "-r", &a.public, "-o"])
            .arg(&out)));
    }
    let o = run(b.handoff(&moto.url).args(["revoke", "ws-ann", "--yes"]));
    ok(&o);
    assert!(
        stderr(&o).contains("revoked 123456789012:ws-ann on IAM user alice"),
        "{}",
        stderr(&o)
    );
    let inline: Value = serde_json::from_str(&ok(&run(b.aws(&moto.url).args([
        "iam",
        "get-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "handoff-revoked",
    ]))))
    .unwrap();
    assert_eq!(
        denied(&inline["PolicyDocument"]),
        [format!("{ACCOUNT}:ws-ann")]
    );
    // (moto does not evaluate conditions: the deny on alice now denies
    // alice's own keys too, so only bob reads on.)
    {
        let records = issued(&b, &moto.url);
        assert_eq!(records.len(), 2);
        for r in &records {
            assert_eq!(r["minted_by"], a.arn().as_str());
            if r["userid"] == format!("{ACCOUNT}:ws-ann").as_str() {
                assert!(r["revoked_at"].is_string(), "{r}");
                assert_eq!(r["revoked_by"], b.arn().as_str(), "{r}");
            } else {
                assert!(r["revoked_at"].is_null(), "{r}");
                assert!(r.get("revoked_by").is_none(), "{r}");
            }
        }
    }
    let leases = ok(&run(b.aws(&moto.url).args([
        "dynamodb",
        "scan",
        "--table-name",
        "team-ledger",
        "--filter-expression",
        "#t = :l",
        "--expression-attribute-names",
        r##"{"#t": "type"}"##,
        "--expression-attribute-values",
        r#"{":l": {"S": "lease"}}"#,
    ])));
    let leases: Value = serde_json::from_str(&leases).unwrap();
    assert_eq!(leases["Count"], 0, "{leases}");
}

/// A ledger file of `n` federation tokens of IAM user `user`, sessions
/// `ws-{round}-{i}`, roster names `p{round}-{i}`, issued a minute ago.
fn records_file(dir: &Path, round: usize, user: &str, n: usize) -> std::path::PathBuf {
    let now = SystemTime::now();
    let mut text = String::new();
    for i in 0..n {
        let session = format!("ws-{round}-{i:02}");
        text.push_str(
            &json!({
                "token_id": format!("{:08x}{:024x}", round, i + 1),
                "kind": "federation",
                "access_key_id": format!("ASIAEXAMPLE{round}{i:04}"),
                "userid": format!("{ACCOUNT}:{session}"),
                "arn": format!("arn:aws:sts::{ACCOUNT}:federated-user/{session}"),
                "minted_by": format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
                "name": format!("p{round}-{i:02}"),
                "recipients": [],
                "recipients_fingerprint": "",
                "issued_at": handoff::clock::format_rfc3339(now - Duration::from_secs(60)),
                "expires_at": handoff::clock::format_rfc3339(now + Duration::from_secs(3600)),
            })
            .to_string(),
        );
        text.push('\n');
    }
    let path = dir.join(format!("round-{round}.jsonl"));
    std::fs::write(&path, text).unwrap();
    path
}

/// 20 revocations of 20 different sessions of one IAM user at the same
/// time, 10 from A's HOME and 10 from B's (two machines: no lock file in
/// common), five rounds (a user each, so each round starts from an empty
/// policy). Afterwards all 20 are in IAM (AWS CLI), all 20 records are
/// revoked, and no revoke lost a write to another: the lease serialised
/// them (without it, the read-back catches lost writes and makes them
/// again, or runs out of tries).
#[test]
fn twenty_concurrent_revokes_from_two_homes_serialise() {
    const ROUNDS: usize = 5;
    const N: usize = 20;
    let (moto, a, b) = team(ROUNDS as u32);
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for round in 0..ROUNDS {
        let file = records_file(dir.path(), round, &format!("workshop-{round}"), N);
        all.push_str(&std::fs::read_to_string(file).unwrap());
    }
    let file = dir.path().join("all.jsonl");
    std::fs::write(&file, all).unwrap();
    ok(&run(a
        .handoff(&moto.url)
        .args(["ledger", "import"])
        .arg(&file)
        .args(["--to", URL])));
    for round in 0..ROUNDS {
        let started = Instant::now();
        let children: Vec<_> = (0..N)
            .map(|i| {
                let who = if i.is_multiple_of(2) { &a } else { &b };
                who.handoff(&moto.url)
                    .args(["revoke", &format!("name:p{round}-{i:02}"), "--yes"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            ok(&o);
            let s = stderr(&o);
            assert!(s.contains("read back"), "{s}");
            assert!(!s.contains("lost to another writer"), "round {round}: {s}");
        }
        eprintln!("round {round}: {} ms", started.elapsed().as_millis());
    }
    // IAM holds all 20 of each round (one boto3 process reads every
    // user's inline policy and handoff's managed fallback, if attached).
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, b.home.path());
    py.env("AWS_ACCESS_KEY_ID", &b.key.0)
        .env("AWS_SECRET_ACCESS_KEY", &b.key.1)
        .args(["-c", READ_DENIES, &moto.url, &ROUNDS.to_string()]);
    let docs: Value = serde_json::from_str(ok(&run(&mut py)).trim()).unwrap();
    for round in 0..ROUNDS {
        let mut got: Vec<String> = docs[round]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(denied)
            .collect();
        got.sort();
        got.dedup();
        let want: Vec<String> = (0..N)
            .map(|i| format!("{ACCOUNT}:ws-{round}-{i:02}"))
            .collect();
        assert_eq!(got, want, "round {round}");
    }
    // And every record is revoked, by whoever revoked it.
    let records = issued(&a, &moto.url);
    assert_eq!(records.len(), ROUNDS * N);
    for r in &records {
        let name = r["name"].as_str().unwrap();
        let i: usize = name.rsplit('-').next().unwrap().parse().unwrap();
        let by = if i.is_multiple_of(2) {
            a.arn()
        } else {
            b.arn()
        };
        assert!(r["revoked_at"].is_string(), "{r}");
        assert_eq!(r["revoked_by"], by.as_str(), "{r}");
    }
}

/// Every workshop user's handoff documents (argv[2] users): a list per
/// user of the inline handoff-revoked document and the managed fallback's,
/// if attached.
const READ_DENIES: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
out = []
for i in range(int(sys.argv[2])):
    user = "workshop-%d" % i
    docs = [iam.get_user_policy(UserName=user, PolicyName="handoff-revoked")["PolicyDocument"]]
    for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
        v = iam.get_policy(PolicyArn=p["PolicyArn"])["Policy"]["DefaultVersionId"]
        docs.append(iam.get_policy_version(PolicyArn=p["PolicyArn"], VersionId=v)["PolicyVersion"]["Document"])
    out.append(docs)
print(json.dumps(out))
"#;

fn db(moto: &str, key: &(String, String)) -> Dynamodb {
    let settings = Settings {
        endpoint_url: Some(moto.to_string()),
        region: Some("us-east-1".into()),
        ..Settings::default()
    };
    let creds = Credentials::new(&key.0, key.1.clone().into(), None, None);
    Dynamodb::new(settings.resolve_with(Service::Dynamodb, creds).unwrap()).unwrap()
}

fn lease_item(db: &Dynamodb, user: &str) -> Option<Item> {
    db.get_item(
        "team-ledger",
        &Item::from([("id".to_string(), Attr::s(format!("lease#user/{user}")))]),
        true,
    )
    .unwrap()
}

/// `kill -9` a revoke while it holds the lease: its IAM endpoint is a
/// loopback port that accepts and never answers, so it is killed once it
/// has connected there (the lease is taken before any IAM call), with the
/// lease in the table in its name. The next revoke, from the other HOME,
/// waits, says who holds it, takes it over once it has expired (naming the
/// dead owner), revokes, and releases it.
#[test]
fn a_killed_holders_lease_is_taken_over_after_it_expires() {
    let (moto, a, b) = team(1);
    let file = records_file(a.home.path(), 0, "workshop-0", 2);
    ok(&run(a
        .handoff(&moto.url)
        .args(["ledger", "import"])
        .arg(&file)
        .args(["--to", URL])));
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    hole.set_nonblocking(true).unwrap();
    let mut child = a
        .handoff(&moto.url)
        .env(
            "AWS_ENDPOINT_URL_IAM",
            format!("http://{}", hole.local_addr().unwrap()),
        )
        .args(["revoke", "name:p0-00", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let _held = loop {
        match hole.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "the revoke ended before it called IAM: {}",
                    stderr(&child.wait_with_output().unwrap())
                );
                assert!(Instant::now() < deadline, "the revoke never called IAM");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    let table = db(&moto.url, &b.key);
    let item = lease_item(&table, "workshop-0").expect("the lease, while IAM is called");
    let owner = item["owner"].as_s().unwrap().to_string();
    assert!(
        owner.contains(&format!(":{}:", child.id())),
        "{owner} is not the revoke's"
    );
    assert_eq!(item["holder"].as_s(), Some(a.arn().as_str()));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(lease_item(&table, "workshop-0").is_some());

    let o = run(b.handoff(&moto.url).args(["revoke", "name:p0-00", "--yes"]));
    ok(&o);
    let err = stderr(&o);
    assert!(
        err.contains("waiting for the revocation lease on IAM user workshop-0"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "took over the revocation lease on IAM user workshop-0 in {URL} from {} ({owner})",
            a.arn()
        )),
        "{err}"
    );
    assert!(err.contains("read back"), "{err}");
    assert_eq!(
        denied_on(&b, &moto.url, "workshop-0"),
        [format!("{ACCOUNT}:ws-0-00")]
    );
    assert!(lease_item(&table, "workshop-0").is_none());
}

/// The library's side, against moto without IAM checks: a lease held by
/// another revoke (alive, renewing) makes a revoke that may wait one
/// second fail, exit 1, naming the holder, with nothing written to IAM; a
/// lease taken from under a revoke while it waits on IAM (a slow proxy)
/// is found lost by its renewal, and the revoke stops before its IAM
/// write, exit 1, leaving the other owner's lease in place.
#[test]
fn a_held_lease_is_waited_for_then_refused_and_a_lost_one_stops_the_work() {
    static ENV: Once = Once::new();
    ENV.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", AKID);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET);
        std::env::remove_var("AWS_PROFILE");
    });
    let moto = Moto::start();
    let url = TableUrl::parse("dynamodb://leases?region=us-east-1").unwrap();
    let table = Arc::new(TableLedger::open(&url, Some(moto.url.clone()), false).unwrap());
    table.init(INIT_WAIT).unwrap();
    let settings = Settings {
        endpoint_url: Some(moto.url.clone()),
        region: Some("us-east-1".into()),
        ..Settings::default()
    };
    let creds = || Credentials::new(AKID, SECRET.into(), None, None);
    let iam = Iam::new(settings.resolve_with(Service::Iam, creds()).unwrap()).unwrap();
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, Path::new("/nonexistent"));
    py.args([
        "-c",
        "import sys, boto3; boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='AKIAIOSFODNN7EXAMPLE', aws_secret_access_key='x').create_user(UserName='carol')",
        &moto.url,
    ]);
    ok(&run(&mut py));
    let carol = Principal::User("carol".into());
    let mut said = Vec::new();
    let first = Lease::acquire(&table, &carol, "arn:first", Duration::ZERO, &mut |m| {
        said.push(m.to_string())
    })
    .unwrap();
    first.check().unwrap();
    let target = Target {
        principal: carol.clone(),
        sessions: vec![Session {
            userid: format!("{ACCOUNT}:ws-c"),
            issued: None,
        }],
    };
    let serial = Serial::Lease {
        lock_dir: None,
        table: &table,
        holder: "arn:second",
        wait: Duration::from_secs(1),
    };
    let e = rv::revoke(&iam, &target, false, &serial, &mut |m| {
        said.push(m.to_string())
    })
    .unwrap_err();
    assert_eq!(e.kind(), &handoff::ErrorKind::Other, "{e}");
    let m = e.to_string();
    assert!(
        m.starts_with("NOT revoked: the revocation lease on IAM user carol"),
        "{m}"
    );
    assert!(m.contains("held by arn:first"), "{m}");
    assert!(m.contains("nothing written to IAM"), "{m}");
    assert!(said.iter().any(|s| s.contains("waiting for")), "{said:?}");
    assert_eq!(iam.get_policy(&carol, rv::POLICY_NAME).unwrap(), None);

    assert_eq!(first.release().unwrap(), None);

    // A lease taken from under a revoke while it waits on IAM (a loopback
    // proxy holds its GetUserPolicy 2.6 s, after another owner's lease
    // was put in its place): the renewal finds it lost, and the revoke
    // stops before it writes to IAM, saying so.
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("http://{}", hole.local_addr().unwrap());
    let (thief, upstream) = (table.clone(), moto.port);
    std::thread::spawn(move || {
        for conn in hole.incoming() {
            let Ok(conn) = conn else { break };
            let thief = thief.clone();
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                while let Some((head, body)) = common::read_message(&mut reader) {
                    if String::from_utf8_lossy(&body).contains("Action=GetUserPolicy") {
                        let mut theirs =
                            Item::from([("id".to_string(), Attr::s("lease#user/carol"))]);
                        theirs.insert("owner".into(), Attr::s("elsewhere:1:00"));
                        theirs.insert("expires_at".into(), Attr::n(u64::MAX / 2));
                        thief.client().put_item("leases", &theirs, None).unwrap();
                        std::thread::sleep(Duration::from_millis(2600));
                    }
                    let mut up = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                    let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                    up.write_all(head.as_bytes()).unwrap();
                    up.write_all(&body).unwrap();
                    let (rhead, rbody) =
                        common::read_message(&mut std::io::BufReader::new(up)).unwrap();
                    if conn.write_all(rhead.as_bytes()).is_err() || conn.write_all(&rbody).is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    let slow = Settings {
        endpoint_url: Some(proxy),
        ..settings.clone()
    };
    let slow_iam = Iam::new(slow.resolve_with(Service::Iam, creds()).unwrap()).unwrap();
    said.clear();
    let e = rv::revoke(&slow_iam, &target, false, &serial, &mut |m| {
        said.push(m.to_string())
    })
    .unwrap_err();
    assert_eq!(e.kind(), &handoff::ErrorKind::Other, "{e}");
    let m = e.to_string();
    assert!(
        m.contains("lost the revocation lease on IAM user carol"),
        "{m}"
    );
    assert!(m.contains("stopped before writing to IAM"), "{m}");
    assert!(
        said.iter().any(|s| s.contains("taken by another revoke")),
        "{said:?}"
    );
    assert_eq!(iam.get_policy(&carol, rv::POLICY_NAME).unwrap(), None);
    // Theirs is not released by the revoke that lost it.
    let left = table
        .client()
        .get_item(
            "leases",
            &Item::from([("id".to_string(), Attr::s("lease#user/carol"))]),
            true,
        )
        .unwrap()
        .unwrap();
    assert_eq!(left["owner"].as_s(), Some("elsewhere:1:00"));
}
