//! The team ledger (issue 25) against real parts: the DynamoDB client over
//! moto's DynamoDB (conditional writes, Query and Scan pages), and the
//! `dynamodb://` ledger through the binary, with two IAM users of one
//! account in moto's IAM mode, each in a HOME of their own.
#![cfg(feature = "aws")]

mod common;

use std::sync::Once;

use common::moto::Moto;
use handoff::aws::dynamodb::{is_condition_failed, Attr, Condition, Dynamodb, Item, Read};
use handoff::aws::{Service, Settings};
use handoff::issuer::ledger::table::{TableLedger, TableUrl, INIT_WAIT};
use handoff::issuer::ledger::Record;
use handoff::{Credentials, Error, ErrorKind};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn loopback_only() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut np = std::env::var("NO_PROXY").unwrap_or_default();
        if !np.is_empty() {
            np.push(',');
        }
        np.push_str("127.0.0.1,localhost");
        std::env::set_var("NO_PROXY", np);
        // The table ledgers opened in this process sign with these (the
        // chain, as the binary's do); set once, before any test reads them.
        std::env::set_var("AWS_ACCESS_KEY_ID", AKID);
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET);
        std::env::remove_var("AWS_PROFILE");
    });
}

fn client(url: &str) -> Dynamodb {
    loopback_only();
    let settings = Settings {
        endpoint_url: Some(url.to_string()),
        region: Some("us-east-1".into()),
        ..Settings::default()
    };
    let creds = Credentials::new(AKID, SECRET.into(), None, None);
    Dynamodb::new(settings.resolve_with(Service::Dynamodb, creds).unwrap()).unwrap()
}

fn key(id: &str) -> Item {
    Item::from([("id".to_string(), Attr::s(id))])
}

/// The client against moto: a table made and described, a put only if
/// absent (the second is a condition failure, told by code), a put and an
/// update conditional on a revision (a stale one fails and changes
/// nothing), a delete, and Query and Scan followed through every page.
#[test]
fn dynamodb_client_against_moto() {
    let moto = Moto::start();
    let db = client(&moto.url);
    assert_eq!(db.describe_table("t").unwrap(), None);
    let made = db.create_table("t", "id", &[]).unwrap();
    assert_eq!(made.name, "t");
    let t = db.describe_table("t").unwrap().unwrap();
    assert_eq!(t.key_schema, vec![("id".to_string(), "HASH".to_string())]);
    assert_eq!(t.billing_mode.as_deref(), Some("PAY_PER_REQUEST"));
    let again = db.create_table("t", "id", &[]).unwrap_err();
    assert!(
        matches!(again.kind(), ErrorKind::Aws { code, .. } if code == "ResourceInUseException"),
        "{again}"
    );

    let absent = Condition::new("attribute_not_exists(#id)").name("#id", "id");
    let mut item = key("a");
    item.insert("revision".into(), Attr::n(1));
    item.insert("who".into(), Attr::s("alice"));
    db.put_item("t", &item, Some(&absent)).unwrap();
    let e = db.put_item("t", &item, Some(&absent)).unwrap_err();
    assert!(is_condition_failed(&e), "{e:?}");
    assert!(matches!(e.kind(), ErrorKind::Aws { .. }), "{e:?}");
    assert!(!is_condition_failed(&Error::other(e.to_string())));

    // Conditional on the revision: 1 → 2 works, a second writer still at 1 fails.
    let at = |rev: u64| {
        Condition::new("#r = :r")
            .name("#r", "revision")
            .value(":r", Attr::n(rev))
    };
    let set = Condition::new("SET #r = :n, #w = :w")
        .name("#r", "revision")
        .name("#w", "who")
        .value(":n", Attr::n(2))
        .value(":w", Attr::s("bob"));
    let new = db.update_item("t", &key("a"), &set, Some(&at(1))).unwrap();
    assert_eq!(new["who"].as_s(), Some("bob"));
    let stale = Condition::new("SET #w = :w")
        .name("#w", "who")
        .value(":w", Attr::s("carol"));
    let e = db
        .update_item("t", &key("a"), &stale, Some(&at(1)))
        .unwrap_err();
    assert!(is_condition_failed(&e), "{e:?}");
    let mut replaced = item.clone();
    replaced.insert("who".into(), Attr::s("dave"));
    assert!(is_condition_failed(
        &db.put_item("t", &replaced, Some(&at(1))).unwrap_err()
    ));
    let got = db.get_item("t", &key("a"), true).unwrap().unwrap();
    assert_eq!(got["who"].as_s(), Some("bob"));
    assert_eq!(got["revision"].as_u64(), Some(2));
    assert_eq!(db.get_item("t", &key("nobody"), true).unwrap(), None);
    assert!(is_condition_failed(
        &db.delete_item("t", &key("a"), Some(&at(1))).unwrap_err()
    ));
    db.delete_item("t", &key("a"), Some(&at(2))).unwrap();
    assert_eq!(db.get_item("t", &key("a"), true).unwrap(), None);

    // 25 items, read 4 a page: every one, once.
    for i in 0..25 {
        let mut it = key(&format!("k{i:02}"));
        it.insert(
            "kind".into(),
            Attr::s(if i % 5 == 0 { "lease" } else { "record" }),
        );
        db.put_item("t", &it, None).unwrap();
    }
    let read = Read {
        table: "t".into(),
        page_limit: Some(4),
        ..Read::default()
    };
    let mut ids: Vec<String> = db
        .scan(&read)
        .unwrap()
        .iter()
        .map(|i| i["id"].as_s().unwrap().to_string())
        .collect();
    ids.sort();
    let want: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
    assert_eq!(ids, want);
    let mut pages = 0;
    db.scan_each(&read, &mut |items| {
        pages += 1;
        assert!(items.len() <= 4);
        Ok(())
    })
    .unwrap();
    assert!(pages >= 7, "{pages} pages");
    let filtered = Read {
        filter: Some(
            Condition::new("#k = :k")
                .name("#k", "kind")
                .value(":k", Attr::s("record")),
        ),
        ..read.clone()
    };
    assert_eq!(db.scan(&filtered).unwrap().len(), 20);
    let q = Read {
        key_condition: Some(
            Condition::new("#id = :id")
                .name("#id", "id")
                .value(":id", Attr::s("k07")),
        ),
        ..read
    };
    let found = db.query(&q).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["kind"].as_s(), Some("record"));
}

// ---------------------------------------------------------------------------
// The team ledger through the binary: two IAM users, two HOMEs, one table.

use std::process::Command;

use common::{
    fails, handoff, home_with_identity, isolate, ok, run, run_with_input, stderr, venv_bin,
};
use serde_json::Value;

const ACCOUNT: &str = "123456789012";

/// Creates IAM users alice and bob, each holding exactly the team-ledger
/// policy of docs/TEAM.md (argv[2]) and sts:GetFederationToken, alice also
/// dynamodb:CreateTable (for `ledger init`), with an access key each: nine
/// requests, made while moto in IAM mode still accepts unsigned ones
/// (`Moto::start_iam(9)`). Prints their keys.
const TEAM_SETUP: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
doc = lambda *s: json.dumps({"Version": "2012-10-17", "Statement": list(s)})
out = {}
for user in ["alice", "bob"]:
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="team-ledger", PolicyDocument=sys.argv[2])
    iam.put_user_policy(UserName=user, PolicyName="mint", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"}))
    if user == "alice":
        iam.put_user_policy(UserName=user, PolicyName="init", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "dynamodb:CreateTable", "Resource": "*"}))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    out[user] = [k["AccessKeyId"], k["SecretAccessKey"]]
print(json.dumps(out))
"#;

/// The team-ledger policy of docs/TEAM.md, for table `table` in us-east-1,
/// as moto can check it.
fn documented_policy(table: &str) -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/TEAM.md")).unwrap();
    let (_, rest) = text
        .split_once("<!-- policy: team-ledger -->\n```json\n")
        .expect("the policy in docs/TEAM.md");
    let (json, _) = rest.split_once("```").unwrap();
    let doc = json
        .replace("REGION", "us-east-1")
        .replace("ACCOUNT", ACCOUNT)
        .replace("TABLE", table);
    // As moto can check it: every Resource `*` (moto matches no resource
    // ARN but `*`; docs/PERMISSIONS.md, "What the test changes").
    let mut doc: Value = serde_json::from_str(&doc).expect("the documented policy is JSON");
    for st in doc["Statement"].as_array_mut().unwrap() {
        assert!(st["Resource"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":table/{table}")));
        st["Resource"] = Value::String("*".into());
    }
    doc.to_string()
}

/// One issuer: a HOME with an identity, and IAM user keys.
struct Issuer {
    home: tempfile::TempDir,
    public: String,
    key: (String, String),
    user: &'static str,
}

impl Issuer {
    /// handoff in this issuer's HOME, signed with its keys, at `moto`, the
    /// ledger `url`.
    fn handoff(&self, moto: &str, url: &str) -> Command {
        let mut c = handoff(self.home.path());
        c.env("AWS_ENDPOINT_URL", moto)
            .env("AWS_ACCESS_KEY_ID", &self.key.0)
            .env("AWS_SECRET_ACCESS_KEY", &self.key.1)
            .env("AWS_REGION", "us-east-1");
        if self.user == "bob" {
            // bob names the ledger in handoff's config file, beside the
            // setting already there.
            let dir = self.home.path().join(".config/handoff");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("config"),
                format!("expect-account = {ACCOUNT}\nledger = {url}\n"),
            )
            .unwrap();
        } else {
            c.env("HANDOFF_LEDGER", url);
        }
        c
    }

    fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user)
    }

    /// Seals a federation token for `name` into the HOME.
    fn seal(&self, moto: &str, url: &str, name: &str) {
        let out = self.home.path().join(format!("{name}.age"));
        ok(&run(self
            .handoff(moto, url)
            .args(["seal", "--federation", name, "-r", &self.public, "-o"])
            .arg(&out)));
    }
}

fn team(moto: &Moto, table: &str) -> (Issuer, Issuer) {
    let dir = tempfile::tempdir().unwrap();
    let mut py = Command::new(venv_bin("python"));
    isolate(&mut py, dir.path());
    py.args(["-c", TEAM_SETUP, &moto.url, &documented_policy(table)]);
    let keys: Value = serde_json::from_str(ok(&run(&mut py)).trim()).unwrap();
    let key = |u: &str| {
        (
            keys[u][0].as_str().unwrap().to_string(),
            keys[u][1].as_str().unwrap().to_string(),
        )
    };
    let issuer = |user: &'static str| {
        let (home, public) = home_with_identity();
        Issuer {
            home,
            public,
            key: key(user),
            user,
        }
    };
    (issuer("alice"), issuer("bob"))
}

/// `issued --all --json` as records.
fn issued_json(c: &mut Command) -> Vec<Value> {
    ok(&run(c.args(["issued", "--all", "--json"])))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn minters(records: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["name"].as_str().map_or_else(
                    || {
                        r["arn"]
                            .as_str()
                            .unwrap()
                            .rsplit('/')
                            .next()
                            .unwrap()
                            .to_string()
                    },
                    str::to_string,
                ),
                r["minted_by"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Two issuers, one table: `ledger init` (twice, idempotent) and `check`;
/// A seals 3 and B seals 2; `issued` by either lists all 5 with the right
/// minter (a column in the table, `minted_by` in `--json`), `--mine` each
/// one's own; `ledger import` twice copies each record once.
#[test]
fn two_issuers_share_one_table() {
    let moto = Moto::start_iam(9);
    let (a, b) = team(&moto, "team-ledger");
    let url = "dynamodb://team-ledger?region=us-east-1";
    let init = ok(&run(a
        .handoff(&moto.url, url)
        .args(["ledger", "init", url])));
    assert!(init.starts_with("created dynamodb://team-ledger"), "{init}");
    let again = ok(&run(b
        .handoff(&moto.url, url)
        .args(["ledger", "init", url])));
    assert!(
        again.contains("is there and active; nothing to do"),
        "{again}"
    );
    // moto checks DynamoDB actions against IAM: bob may not create tables.
    let other = "dynamodb://other-ledger?region=us-east-1";
    let denied = fails(
        &run(b.handoff(&moto.url, other).args(["ledger", "init", other])),
        5,
        &[&b.key.1],
    );
    assert!(denied.contains("AccessDenied"), "{denied}");
    let check = ok(&run(b
        .handoff(&moto.url, url)
        .args(["ledger", "check", url])));
    for what in [
        "reachable:",
        "shape:",
        "read:",
        "list:",
        "write:",
        "update:",
        "delete:",
    ] {
        let line = check
            .lines()
            .find(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("{what} in {check}"));
        assert!(line.contains(" ok "), "{line}");
    }
    assert!(check.contains(&b.arn()), "{check}");

    for n in ["a1", "a2", "a3"] {
        a.seal(&moto.url, url, n);
    }
    for n in ["b1", "b2"] {
        b.seal(&moto.url, url, n);
    }
    let want: Vec<(String, String)> = [("a1", &a), ("a2", &a), ("a3", &a), ("b1", &b), ("b2", &b)]
        .iter()
        .map(|(n, i)| (n.to_string(), i.arn()))
        .collect();
    for i in [&a, &b] {
        let records = issued_json(&mut i.handoff(&moto.url, url));
        assert_eq!(minters(&records), want, "issued run by {}", i.user);
        // Nothing local was written.
        assert!(!i
            .home
            .path()
            .join(".local/state/handoff/issued.jsonl")
            .exists());
    }
    let table = ok(&run(b.handoff(&moto.url, url).args(["issued"])));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].contains("MINTED BY"), "{table}");
    assert_eq!(lines.len(), 6, "{table}");
    for l in &lines[1..] {
        // the label column, not a token id that happens to hold "a1"
        let label = l
            .split_whitespace()
            .find(|f| f.len() == 2)
            .unwrap_or_default();
        assert!(!label.is_empty(), "{l}");
        let who = if ["a1", "a2", "a3"].contains(&label) {
            "user/alice"
        } else {
            "user/bob"
        };
        assert!(l.contains(who), "{l}");
    }
    let mine: Vec<Value> = ok(&run(b
        .handoff(&moto.url, url)
        .args(["issued", "--mine", "--json"])))
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(minters(&mine), want[3..].to_vec());
    let mine: Vec<Value> = ok(&run(a
        .handoff(&moto.url, url)
        .args(["issued", "--mine", "--json"])))
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(minters(&mine), want[..3].to_vec());

    // A file ledger of 3 (one of them already in the table), imported twice.
    let file = a.home.path().join("old.jsonl");
    let mut text = String::new();
    let existing = &issued_json(&mut a.handoff(&moto.url, url))[0];
    text.push_str(&format!("{existing}\n"));
    for i in 0..2 {
        let mut r = existing.clone();
        r["token_id"] = Value::String(format!("{:032x}", 0xfeed_0000u64 + i));
        r["name"] = Value::String(format!("old{i}"));
        text.push_str(&format!("{r}\n"));
    }
    std::fs::write(&file, text).unwrap();
    let import = |i: &Issuer| {
        ok(&run(i
            .handoff(&moto.url, url)
            .args(["ledger", "import"])
            .arg(&file)
            .args(["--to", url])))
    };
    assert_eq!(import(&a).trim(), "copied 2, already there 1");
    assert_eq!(import(&b).trim(), "copied 0, already there 3");
    let all = issued_json(&mut b.handoff(&moto.url, url));
    assert_eq!(all.len(), 7);
    let names: Vec<&str> = all.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names.iter().filter(|n| n.starts_with("old")).count(), 2);
}

/// A table ledger opened in this process at `endpoint`.
fn table_at(endpoint: &str, table: &str) -> TableLedger {
    loopback_only();
    let url = TableUrl::parse(&format!("dynamodb://{table}?region=us-east-1")).unwrap();
    TableLedger::open(&url, Some(endpoint.to_string()), false).unwrap()
}

fn a_record(id: &str, user: &str) -> Record {
    serde_json::from_value(serde_json::json!({
        "token_id": id,
        "kind": "federation",
        "access_key_id": "ASIAEXAMPLE",
        "userid": format!("{ACCOUNT}:{user}"),
        "minted_by": format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        "recipients": ["age1x"],
        "recipients_fingerprint": "abc",
        "issued_at": "2026-12-07T04:00:00Z",
    }))
    .unwrap()
}

/// A stale conditional update, forced by a second writer between the
/// first one's read and its write: a change to another field is merged
/// into the fresh copy (both kept, the revision moved twice); a change to
/// the same field is reported naming it, and the second writer's value
/// stays. A record's revocation is marked once, with who revoked it.
#[test]
fn a_stale_update_is_merged_or_reported_never_overwritten() {
    let moto = Moto::start();
    let one = table_at(&moto.url, "stale");
    let two = table_at(&moto.url, "stale");
    assert!(one.init(INIT_WAIT).unwrap());
    assert!(!two.init(INIT_WAIT).unwrap());
    let (x, y) = ("0".repeat(31) + "1", "0".repeat(31) + "2");
    one.append(&[a_record(&x, "ws-x"), a_record(&y, "ws-y")])
        .unwrap();
    // Appending the same token id again is refused, naming it.
    let e = two.append(&[a_record(&x, "ws-x")]).unwrap_err();
    assert!(e.to_string().contains(&x), "{e}");
    let t1 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    let t2 = t1 + std::time::Duration::from_secs(60);

    // Another field: merged.
    one.update(|records| {
        assert!(two
            .mark_revoked(&x, t1, Some("arn:aws:iam::123456789012:user/bob"))
            .unwrap());
        let r = records.iter_mut().find(|r| r.token_id == x).unwrap();
        r.delivered = Some(false);
        Ok(())
    })
    .unwrap();
    let (r, rev) = one.get(&x).unwrap().unwrap();
    assert_eq!(r.delivered, Some(false));
    assert_eq!(r.revoked_at.as_deref(), Some("2027-01-15T08:00:00Z"));
    assert_eq!(
        r.revoked_by.as_deref(),
        Some("arn:aws:iam::123456789012:user/bob")
    );
    assert_eq!(rev, 3);

    // The same field: reported, not overwritten.
    let e = one
        .update(|records| {
            assert!(two.mark_revoked(&y, t1, Some("bob")).unwrap());
            let r = records.iter_mut().find(|r| r.token_id == y).unwrap();
            r.revoked_at = Some("2027-01-15T08:01:00Z".into());
            r.revoked_by = Some("alice".into());
            Ok(())
        })
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&y) && msg.contains("revoked_at") && msg.contains("not overwritten"),
        "{msg}"
    );
    let (r, rev) = one.get(&y).unwrap().unwrap();
    assert_eq!(r.revoked_by.as_deref(), Some("bob"));
    assert_eq!(rev, 2);
    // Already revoked: not marked again, by anyone.
    assert!(!one.mark_revoked(&y, t2, Some("alice")).unwrap());
    assert_eq!(one.get(&y).unwrap().unwrap().1, 2);
    // Undelivered, through the library's entry: once.
    let shared = handoff::issuer::ledger::Ledger::Table(std::sync::Arc::new(two));
    let ids = [y.clone()];
    assert_eq!(
        handoff::issuer::ledger::mark_undelivered(&shared, &ids).unwrap(),
        1
    );
    assert_eq!(
        handoff::issuer::ledger::mark_undelivered(&shared, &ids).unwrap(),
        0
    );
    let (r, rev) = one.get(&y).unwrap().unwrap();
    assert_eq!(
        (r.delivered, r.revoked_by.as_deref(), rev),
        (Some(false), Some("bob"), 3)
    );
}

/// With the table unreachable: a record that cannot be written is an error
/// naming its token id (exit 6), `seal` and `seal --each` refuse before
/// minting (exit 6; the STS endpoint, alive, was never called), `--no-ledger`
/// says it on stderr; and the local file default works with no network.
#[test]
fn an_unreachable_table_refuses_before_minting() {
    let dead = format!("http://127.0.0.1:{}", common::moto::free_port());
    let e = table_at(&dead, "gone")
        .append(&[a_record(&"ab".repeat(16), "ws")])
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert!(e.to_string().contains(&"ab".repeat(16)), "{e}");

    let sts = Moto::start();
    let (home, public) = home_with_identity();
    let url = "dynamodb://team-ledger?region=us-east-1";
    let with_table = || {
        let mut c = handoff(home.path());
        c.env("AWS_ENDPOINT_URL_STS", &sts.url)
            .env("AWS_ENDPOINT_URL_DYNAMODB", &dead)
            .env("AWS_ACCESS_KEY_ID", AKID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("HANDOFF_LEDGER", url);
        c
    };
    let out = home.path().join("t.age");
    let err = fails(
        &run(with_table()
            .args(["seal", "--federation", "ws-1", "-r", &public, "-o"])
            .arg(&out)),
        6,
        &[SECRET],
    );
    assert!(err.contains("team ledger"), "{err}");
    assert!(!out.exists());
    let roster = home.path().join("roster.txt");
    std::fs::write(&roster, format!("ann {public}\n")).unwrap();
    fails(
        &run(with_table()
            .args(["seal", "--federation", "ws-{name}", "--each"])
            .arg(&roster)
            .arg("-o")
            .arg(home.path().join("out"))),
        6,
        &[SECRET],
    );
    assert_eq!(sts.requests(), 0, "STS was called: {}", sts.log_text());
    // --no-ledger mints and says so.
    let o = run(with_table()
        .args([
            "seal",
            "--no-ledger",
            "--federation",
            "ws-2",
            "-r",
            &public,
            "-o",
        ])
        .arg(&out));
    ok(&o);
    assert!(
        stderr(&o).contains("--no-ledger: not recorded in the team ledger dynamodb://team-ledger"),
        "{}",
        stderr(&o)
    );
    drop(sts);

    // The file default: no AWS variable, no network, recorded locally.
    let doc = common::sts_document();
    let o = run_with_input(
        handoff(home.path())
            .args(["seal", "-r", &public, "--force", "-o"])
            .arg(&out),
        doc.as_bytes(),
    );
    ok(&o);
    assert!(!stderr(&o).contains("no-ledger"), "{}", stderr(&o));
    let listed = ok(&run(
        handoff(home.path()).args(["issued", "--all", "--json"])
    ));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let table = ok(&run(handoff(home.path()).args(["issued", "--all"])));
    assert!(!table.contains("MINTED BY"), "{table}");
}
