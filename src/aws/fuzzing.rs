//! The response parsers, opened for the fuzz targets in fuzz/ (feature
//! `fuzzing`, off by default). Not a stable API. This is the fuzzer's
//! oracle: it panics, on purpose, when a parser breaks a promise, and no
//! other build compiles it.

use super::dynamodb::{self, Item};
use super::{transport, xml};
use crate::Kind;

/// Runs every STS, EC2 and IAM response parser over `body` as if an endpoint had
/// answered with it, and checks what each promises: it reads the answer or
/// refuses it with a short message, and never panics. An error document
/// gives a code and a message no longer than AWS's own; a token read from
/// an answer has the kind asked for and an access key id; a generic answer
/// becomes JSON.
///
/// ```
/// handoff::aws::fuzzing::parse_responses(b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>");
/// ```
pub fn parse_responses(body: &[u8]) {
    if let Some(e) = xml::aws_error(body) {
        assert!(!e.code.is_empty() && e.code.trim() == e.code, "{e:?}");
        assert!(e.code.len() <= xml::MAX_CODE, "{e:?}");
        assert!(e.message.len() <= xml::MAX_MESSAGE, "{e:?}");
    }
    for kind in [Kind::Federation, Kind::Session, Kind::Role] {
        match xml::sts_token(kind, body) {
            Ok(t) => {
                assert_eq!(t.kind(), kind);
                assert!(!t.access_key_id().is_empty());
            }
            Err(e) => short(&e),
        }
    }
    if let Err(e) = xml::caller_identity(body) {
        short(&e);
    }
    if let Err(e) = xml::images(body) {
        short(&e);
    }
    if let Err(e) = xml::availability_zones(body) {
        short(&e);
    }
    if let Err(e) = xml::regions(body) {
        short(&e);
    }
    // IAM: an inline policy (read back as handoff's revocation document,
    // which must refuse what it cannot read, never panic) and policy names.
    match xml::inline_policy(body) {
        Ok(doc) => {
            if let Ok(p) = crate::issuer::revoke::RevocationPolicy::parse(&doc) {
                assert!(serde_json::from_str::<serde_json::Value>(&p.to_json()).is_ok());
            }
        }
        Err(e) => short(&e),
    }
    if let Err(e) = xml::policy_names(body) {
        short(&e);
    }
    match xml::to_json(body) {
        Ok(v) => assert!(serde_json::to_string(&v).is_ok()),
        Err(e) => short(&e),
    }
}

/// Runs every DynamoDB answer parser over `body` as if the endpoint had
/// answered with it, and checks what each promises: it reads the answer or
/// refuses it with a short message, and never panics. A JSON error body
/// gives a code (not empty, trimmed, no longer than AWS's own) and a
/// bounded message; the typed answers (DescribeTable's and CreateTable's
/// table, GetItem's item, UpdateItem's attributes, a Query or Scan page)
/// read or are refused; and every item read, and `body` read as an item
/// itself, goes through the team ledger's record decoding (a record read
/// has a token id) and the revocation lease's.
///
/// ```
/// handoff::aws::fuzzing::parse_dynamodb(br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#);
/// handoff::aws::fuzzing::parse_dynamodb(br#"{"Items":[{"id":{"S":"lease#user/a"},"owner":{"S":"h:1:ab"},"expires_at":{"N":"1800000000000"}}]}"#);
/// ```
pub fn parse_dynamodb(body: &[u8]) {
    if let Some(e) = transport::json_error(body) {
        assert!(!e.code.is_empty() && e.code.trim() == e.code, "{e:?}");
        assert!(e.code.len() <= xml::MAX_CODE, "{e:?}");
        assert!(e.message.len() <= xml::MAX_MESSAGE, "{e:?}");
    }
    // An item on its own, so the fuzzer reaches the decoders directly.
    if let Ok(item) = serde_json::from_slice::<Item>(body) {
        items(&item);
    }
    let v = match dynamodb::answer_value(body) {
        Ok(v) => v,
        Err(e) => return short(&e),
    };
    for field in ["Table", "TableDescription"] {
        if let Err(e) = dynamodb::table_in(v.clone(), field) {
            short(&e);
        }
    }
    for field in ["Item", "Attributes"] {
        match dynamodb::item_in(v.clone(), field) {
            Ok(Some(item)) => items(&item),
            Ok(None) => {}
            Err(e) => short(&e),
        }
    }
    match dynamodb::page_of(v) {
        Ok(page) => {
            page.items.iter().for_each(items);
            page.last_evaluated_key.iter().for_each(items);
        }
        Err(e) => short(&e),
    }
}

/// An item read from the table, as the team ledger and the revocation
/// lease decode it.
fn items(item: &Item) {
    for revision in [false, true] {
        match crate::issuer::ledger::table::fuzzing::from_item(item, revision) {
            Ok((r, rev)) => {
                assert!(!r.token_id.is_empty(), "{r:?}");
                assert!(revision || rev == 0);
            }
            Err(e) => short(&e),
        }
    }
    if let Some((holder, expires)) = crate::issuer::lease::fuzzing::held(item) {
        assert!(!holder.is_empty());
        assert!(!crate::clock::format_rfc3339(expires).is_empty());
    }
}

/// A refusal is a message of its own: not empty, and short enough to print.
fn short(e: &str) {
    assert!(!e.is_empty() && e.len() <= 256, "{e:?}");
}
