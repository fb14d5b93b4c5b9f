//! The response parsers, opened for the fuzz targets in fuzz/ (feature
//! `fuzzing`, off by default). Not a stable API. This is the fuzzer's
//! oracle: it panics, on purpose, when a parser breaks a promise, and no
//! other build compiles it.

use super::xml;
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

/// A refusal is a message of its own: not empty, and short enough to print.
fn short(e: &str) {
    assert!(!e.is_empty() && e.len() <= 256, "{e:?}");
}
