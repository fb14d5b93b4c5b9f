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
use handoff::{Credentials, Error};

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
        matches!(&again, Error::Aws { code, .. } if code == "ResourceInUseException"),
        "{again}"
    );

    let absent = Condition::new("attribute_not_exists(#id)").name("#id", "id");
    let mut item = key("a");
    item.insert("revision".into(), Attr::n(1));
    item.insert("who".into(), Attr::s("alice"));
    db.put_item("t", &item, Some(&absent)).unwrap();
    let e = db.put_item("t", &item, Some(&absent)).unwrap_err();
    assert!(is_condition_failed(&e), "{e:?}");
    assert_eq!(e.exit_code(), 5);
    assert!(!is_condition_failed(&Error::Other(e.to_string())));

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
