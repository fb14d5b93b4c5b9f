//! The envelope: the CBOR map sealed inside the age file.
//!
//! Text keys with AWS's own field names; see docs/FORMAT.md for the CDDL.
//! Encoding goes from borrowed secrets straight into a pre-sized zeroizing
//! buffer; decoding reads from the (zeroizing) plaintext through a scratch
//! buffer that is wiped afterwards.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::clock;
use crate::credentials::{reveal, AssumedRoleUser, Credentials, FederatedUser, Kind, Token};
use crate::{Error, ErrorKind, Result};

/// The envelope format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u64 = 1;

#[derive(Serialize)]
struct WireOut<'a> {
    #[serde(rename = "Version")]
    version: u64,
    #[serde(rename = "Kind")]
    kind: &'a str,
    #[serde(rename = "Credentials")]
    credentials: CredentialsOut<'a>,
    #[serde(rename = "FederatedUser", skip_serializing_if = "Option::is_none")]
    federated_user: Option<FederatedUserWire<&'a str>>,
    #[serde(rename = "AssumedRoleUser", skip_serializing_if = "Option::is_none")]
    assumed_role_user: Option<AssumedRoleUserWire<&'a str>>,
    #[serde(rename = "PackedPolicySize", skip_serializing_if = "Option::is_none")]
    packed_policy_size: Option<u32>,
    #[serde(rename = "Policy", skip_serializing_if = "Option::is_none")]
    policy: Option<&'a str>,
    #[serde(rename = "Region", skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(rename = "IssuedAt", skip_serializing_if = "Option::is_none")]
    issued_at: Option<String>,
    #[serde(rename = "Label", skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(rename = "SealedTo", skip_serializing_if = "Option::is_none")]
    sealed_to: Option<&'a [String]>,
    #[serde(rename = "TokenId", skip_serializing_if = "Option::is_none")]
    token_id: Option<BytesOut<'a>>,
}

/// The outer envelope of a signed handoff.
#[derive(Serialize)]
struct SignedOut<'a> {
    #[serde(rename = "Version")]
    version: u64,
    #[serde(rename = "Kind")]
    kind: &'a str,
    #[serde(rename = "Envelope")]
    envelope: BytesOut<'a>,
    #[serde(rename = "Signature")]
    signature: &'a str,
}

#[derive(Deserialize)]
struct SignedIn {
    #[serde(rename = "Envelope")]
    envelope: BytesIn,
    #[serde(rename = "Signature")]
    signature: String,
}

/// Only the kind, to tell a signed envelope from a plain one.
#[derive(Deserialize)]
struct KindProbe {
    #[serde(rename = "Kind")]
    kind: Option<String>,
}

/// A CBOR byte string, written from a borrowed slice.
struct BytesOut<'a>(&'a [u8]);

impl Serialize for BytesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A CBOR byte string, read into a zeroizing buffer (a signed envelope's
/// inner bytes hold the secrets).
struct BytesIn(Zeroizing<Vec<u8>>);

impl<'de> Deserialize<'de> for BytesIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = BytesIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<BytesIn, E> {
                Ok(BytesIn(Zeroizing::new(v.to_vec())))
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> std::result::Result<BytesIn, E> {
                Ok(BytesIn(Zeroizing::new(v)))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

/// What a plaintext holds: a plain envelope, or a signed one still to be
/// verified.
pub(crate) enum Decoded {
    Plain(Box<Token>),
    Signed {
        envelope: Zeroizing<Vec<u8>>,
        signature: String,
    },
}

#[derive(Serialize)]
struct CredentialsOut<'a> {
    #[serde(rename = "AccessKeyId")]
    access_key_id: &'a str,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: &'a str,
    #[serde(rename = "SessionToken", skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
    #[serde(rename = "Expiration", skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

/// `{FederatedUserId, Arn}`, shared with the JSON documents.
#[derive(Serialize, Deserialize)]
pub(crate) struct FederatedUserWire<S> {
    #[serde(rename = "FederatedUserId")]
    pub(crate) federated_user_id: S,
    #[serde(rename = "Arn")]
    pub(crate) arn: S,
}

/// `{AssumedRoleId, Arn}`, shared with the JSON documents.
#[derive(Serialize, Deserialize)]
pub(crate) struct AssumedRoleUserWire<S> {
    #[serde(rename = "AssumedRoleId")]
    pub(crate) assumed_role_id: S,
    #[serde(rename = "Arn")]
    pub(crate) arn: S,
}

/// Only the version, read first so a newer format is named as such even when
/// the rest of its shape has changed.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "Version")]
    version: Option<u64>,
}

#[derive(Deserialize)]
struct WireIn {
    #[serde(rename = "Kind")]
    kind: String,
    #[serde(rename = "Credentials")]
    credentials: CredentialsIn,
    #[serde(rename = "FederatedUser")]
    federated_user: Option<FederatedUserWire<String>>,
    #[serde(rename = "AssumedRoleUser")]
    assumed_role_user: Option<AssumedRoleUserWire<String>>,
    #[serde(rename = "PackedPolicySize")]
    packed_policy_size: Option<u32>,
    #[serde(rename = "Policy")]
    policy: Option<String>,
    #[serde(rename = "Region")]
    region: Option<String>,
    #[serde(rename = "IssuedAt")]
    issued_at: Option<String>,
    #[serde(rename = "Label")]
    label: Option<String>,
    #[serde(rename = "SealedTo")]
    sealed_to: Option<Vec<String>>,
    #[serde(rename = "TokenId")]
    token_id: Option<BytesIn>,
}

#[derive(Deserialize)]
struct CredentialsIn {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: SecretString,
    #[serde(rename = "SessionToken")]
    session_token: Option<SecretString>,
    #[serde(rename = "Expiration")]
    expiration: Option<String>,
}

/// Encodes a token as an envelope, into a zeroizing buffer sized up front so
/// that it never reallocates (a reallocation would leave a copy behind).
pub fn encode(token: &Token) -> Zeroizing<Vec<u8>> {
    encode_with(token, None)
}

/// Encodes the inner envelope of a signed handoff: the token plus the
/// recipients it is sealed to and its random id.
pub(crate) fn encode_inner(
    token: &Token,
    sealed_to: &[String],
    token_id: &[u8],
) -> Zeroizing<Vec<u8>> {
    encode_with(token, Some((sealed_to, token_id)))
}

/// Encodes the outer envelope of a signed handoff.
pub(crate) fn encode_signed(inner: &[u8], signature: &str) -> Zeroizing<Vec<u8>> {
    let wire = SignedOut {
        version: FORMAT_VERSION,
        kind: "signed",
        envelope: BytesOut(inner),
        signature,
    };
    let mut out = Zeroizing::new(Vec::with_capacity(signed_capacity(inner, signature)));
    if ciborium::into_writer(&wire, &mut *out).is_err() {
        out.clear();
    }
    out
}

/// Room for what an envelope holds besides its variable-length fields: the
/// keys, the CBOR heads, the version, the kind, the dates and the policy size.
const FIXED: usize = 512;

/// The buffer an envelope of `token` is encoded into: [`FIXED`] plus every
/// variable-length field, each recipient with room for its CBOR head. Too
/// small and the buffer grows, leaving an unwiped copy of the secrets.
fn capacity_for(token: &Token, signed: Option<(&[String], &[u8])>) -> usize {
    FIXED
        + signed.map_or(0, |(to, id)| {
            id.len() + to.iter().map(|r| r.len() + 9).sum::<usize>()
        })
        + token.text_len()
}

/// The buffer of an outer envelope: the inner one and the signature, and 128
/// bytes for the keys, the heads, the version and the kind.
fn signed_capacity(inner: &[u8], signature: &str) -> usize {
    inner.len() + signature.len() + 128
}

fn encode_with(token: &Token, signed: Option<(&[String], &[u8])>) -> Zeroizing<Vec<u8>> {
    let c = token.credentials();
    let wire = WireOut {
        version: FORMAT_VERSION,
        kind: token.kind().as_str(),
        credentials: CredentialsOut {
            access_key_id: c.access_key_id(),
            secret_access_key: reveal(c.secret_access_key()),
            session_token: c.session_token().map(reveal),
            expiration: c.expiration().map(clock::format_rfc3339),
        },
        federated_user: token.federated_user().map(|u| FederatedUserWire {
            federated_user_id: u.federated_user_id.as_str(),
            arn: u.arn.as_str(),
        }),
        assumed_role_user: token.assumed_role_user().map(|u| AssumedRoleUserWire {
            assumed_role_id: u.assumed_role_id.as_str(),
            arn: u.arn.as_str(),
        }),
        packed_policy_size: token.packed_policy_size(),
        policy: token.policy(),
        region: token.region(),
        issued_at: token.issued_at().map(clock::format_rfc3339),
        label: token.label(),
        sealed_to: signed.map(|(to, _)| to),
        token_id: signed.map(|(_, id)| BytesOut(id)),
    };
    let mut out = Zeroizing::new(Vec::with_capacity(capacity_for(token, signed)));
    // Writing CBOR into a Vec cannot fail: the only errors are the writer's.
    if ciborium::into_writer(&wire, &mut *out).is_err() {
        out.clear();
    }
    out
}

/// Decodes a plain envelope. Unknown keys are ignored; a newer `Version` is
/// refused with [`ErrorKind::UnsupportedVersion`]; anything that is not an
/// envelope is [`ErrorKind::NotAToken`]. A signed envelope is refused here: only
/// [`open`](crate::open) verifies and unwraps it.
pub fn decode(bytes: &[u8]) -> Result<Token> {
    match decode_any(bytes)? {
        Decoded::Plain(t) => Ok(*t),
        Decoded::Signed { .. } => Err(Error::not_a_token(
            "a signed envelope: open it with handoff::open, which verifies it",
        )),
    }
}

/// Decodes a plaintext that is either a plain or a signed envelope.
pub(crate) fn decode_any(bytes: &[u8]) -> Result<Decoded> {
    // Scratch as large as the input: every string fits, none is assembled in
    // a growing buffer.
    let mut scratch = Zeroizing::new(vec![0u8; bytes.len().max(4096)]);
    check_version(bytes, &mut scratch)?;
    check_text_keys(bytes)?;
    let probe: KindProbe = from_slice(bytes, &mut scratch)?;
    if probe.kind.as_deref() == Some("signed") {
        let s: SignedIn = from_slice(bytes, &mut scratch)?;
        return Ok(Decoded::Signed {
            envelope: s.envelope.0,
            signature: s.signature,
        });
    }
    decode_with(bytes, &mut scratch).map(|t| Decoded::Plain(Box::new(t)))
}

/// Decodes the inner envelope of a verified signed handoff. It must name
/// its recipients, carry a token id and say when it was issued.
pub(crate) fn decode_inner(bytes: &[u8]) -> Result<Token> {
    let mut scratch = Zeroizing::new(vec![0u8; bytes.len().max(4096)]);
    check_version(bytes, &mut scratch)?;
    check_text_keys(bytes)?;
    let token = decode_with(bytes, &mut scratch)?;
    if token.sealed_to().is_empty() || token.token_id().is_none() || token.issued_at().is_none() {
        return Err(Error::new(
            ErrorKind::BadSignature,
            "the signed envelope lacks SealedTo, TokenId or IssuedAt",
        ));
    }
    Ok(token)
}

fn check_version(bytes: &[u8], scratch: &mut [u8]) -> Result<()> {
    let probe: VersionProbe = from_slice(bytes, scratch)?;
    match probe.version {
        None => Err(Error::not_a_token("the envelope has no Version")),
        Some(FORMAT_VERSION) => Ok(()),
        Some(found) if found > FORMAT_VERSION => {
            Err(Error::unsupported_version(found, FORMAT_VERSION))
        }
        Some(found) => Err(Error::not_a_token(format!(
            "unknown envelope version {found}"
        ))),
    }
}

fn decode_with(bytes: &[u8], scratch: &mut [u8]) -> Result<Token> {
    let wire: WireIn = from_slice(bytes, scratch)?;
    if wire.kind == "signed" {
        return Err(Error::not_a_token(
            "a signed envelope inside a signed envelope",
        ));
    }
    let kind = Kind::from_name(&wire.kind)
        .ok_or_else(|| Error::not_a_token(format!("unknown kind {:?}", truncate(&wire.kind))))?;
    let date = |field: &str, s: Option<String>| -> Result<_> {
        s.map(|s| {
            clock::parse_rfc3339(&s).ok_or_else(|| {
                // The value is not quoted: a misplaced secret must not be echoed.
                Error::not_a_token(format!(
                    "{field} is not an RFC 3339 date from 1970 to 9999 UTC (like 2026-11-26T18:00:00Z)"
                ))
            })
        })
        .transpose()
    };
    let c = wire.credentials;
    if c.access_key_id.is_empty() {
        return Err(Error::not_a_token("the AccessKeyId is empty"));
    }
    if reveal(&c.secret_access_key).is_empty() {
        return Err(Error::not_a_token("the SecretAccessKey is empty"));
    }
    // These end up in shell exports, credentials files and environments: a
    // line break or escape sequence from a hostile sender must not.
    let printed = [
        ("AccessKeyId", Some(c.access_key_id.as_str())),
        ("SecretAccessKey", Some(reveal(&c.secret_access_key))),
        ("SessionToken", c.session_token.as_ref().map(reveal)),
        ("Region", wire.region.as_deref()),
    ];
    if let Some((field, _)) = printed
        .iter()
        .find(|(_, v)| v.is_some_and(|v| v.chars().any(char::is_control)))
    {
        return Err(Error::not_a_token(format!(
            "the {field} holds a control character"
        )));
    }
    // A region goes into host names and the AWS config file: it is refused
    // here, whether or not this run uses it (the caller's AWS_REGION may
    // win today, and `show` prints it).
    if let Some(r) = wire.region.as_deref() {
        let ok = !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(Error::not_a_token(format!(
                "the token's Region {:?} is not a region name (like us-east-1)",
                r.chars().take(40).collect::<String>()
            )));
        }
    }
    let credentials = Credentials::new(
        c.access_key_id,
        c.secret_access_key,
        c.session_token,
        date("Expiration", c.expiration)?,
    );
    let mut token = Token::new(kind, credentials);
    if let Some(u) = wire.federated_user {
        token = token.with_federated_user(FederatedUser {
            federated_user_id: u.federated_user_id,
            arn: u.arn,
        });
    }
    if let Some(u) = wire.assumed_role_user {
        token = token.with_assumed_role_user(AssumedRoleUser {
            assumed_role_id: u.assumed_role_id,
            arn: u.arn,
        });
    }
    token = token.with_details(
        wire.packed_policy_size,
        wire.policy,
        wire.region,
        wire.label,
    );
    if let Some(at) = date("IssuedAt", wire.issued_at)? {
        token = token.with_issued_at(at);
    }
    if let Some(to) = wire.sealed_to {
        token = token.with_sealed_to(to);
    }
    if let Some(id) = wire.token_id {
        token = token.with_token_id(id.0.to_vec());
    }
    Ok(token)
}

/// Exactly one CBOR item, nothing after it, nesting bounded (ciborium
/// refuses more than 256 levels).
fn from_slice<T: serde::de::DeserializeOwned>(bytes: &[u8], scratch: &mut [u8]) -> Result<T> {
    let mut reader = bytes;
    let value =
        ciborium::de::from_reader_with_buffer::<T, _>(&mut reader, scratch).map_err(|e| {
            Error::not_a_token(match e {
                ciborium::de::Error::RecursionLimitExceeded => "the CBOR nests too deeply".into(),
                ciborium::de::Error::Io(_) => "the CBOR ends early".into(),
                ciborium::de::Error::Syntax(at) => format!("invalid CBOR at byte {at}"),
                ciborium::de::Error::Semantic(_, msg) => {
                    format!("unexpected envelope shape: {msg}")
                }
            })
        })?;
    if !reader.is_empty() {
        let n = reader.len();
        return Err(Error::not_a_token(format!(
            "{n} {} the envelope",
            if n == 1 {
                "byte follows"
            } else {
                "bytes follow"
            }
        )));
    }
    Ok(value)
}

/// Whether `c` is a Unicode format character (category Cf) or a line or
/// paragraph separator: invisible, or reordering what follows it on a
/// terminal (U+202A-U+202E, U+2066-U+2069 bidirectional controls, zero-width
/// characters, the byte order mark, tag characters). Shown escaped, like
/// control characters.
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// Refuses a map key that is not a CBOR text string, at any depth: the
/// format says text keys, and serde would match a byte string `b"Kind"` to
/// the field `Kind`, so other CBOR readers would see different fields than
/// handoff. Walks the item without copying anything out of it.
fn check_text_keys(bytes: &[u8]) -> Result<()> {
    let mut at = 0;
    walk(bytes, &mut at, 0, false)
}

const MAX_DEPTH: usize = 256;

/// Reads one item at `*at` (after its head byte) and moves past it; `key`
/// says the item is a map key.
fn walk(bytes: &[u8], at: &mut usize, depth: usize, key: bool) -> Result<()> {
    let bad = |why: &str| Error::not_a_token(why.to_string());
    if depth > MAX_DEPTH {
        return Err(bad("the CBOR nests too deeply"));
    }
    let head = *bytes.get(*at).ok_or_else(|| bad("the CBOR ends early"))?;
    *at += 1;
    let (major, info) = (head >> 5, head & 0x1f);
    if key && major != 3 {
        return Err(bad(
            "a map key of the envelope is not a text string (the format has text keys only)",
        ));
    }
    // The argument: a length, a count or a value, or None when indefinite.
    let arg = match info {
        0..=23 => Some(u64::from(info)),
        24..=27 => {
            let n = 1usize << (info - 24);
            let field = bytes
                .get(*at..*at + n)
                .ok_or_else(|| bad("the CBOR ends early"))?;
            *at += n;
            let mut be = [0u8; 8];
            be[8 - n..].copy_from_slice(field);
            Some(u64::from_be_bytes(be))
        }
        31 if (2..=5).contains(&major) => None,
        // 28 to 30 are reserved, and a break (31 of major 7) belongs only
        // at the end of an indefinite item, where it is read below.
        _ => return Err(bad("invalid CBOR")),
    };
    let skip = |at: &mut usize, n: u64| -> Result<()> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| at.checked_add(n))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| bad("the CBOR ends early"))?;
        *at = end;
        Ok(())
    };
    let is_break = |at: &mut usize| {
        if bytes.get(*at) == Some(&0xff) {
            *at += 1;
            true
        } else {
            false
        }
    };
    match (major, arg) {
        (2 | 3, Some(n)) => skip(at, n),
        // Indefinite strings: definite chunks of the same type up to a
        // break (nothing nests, so the depth stays).
        (2 | 3, None) => loop {
            if is_break(at) {
                return Ok(());
            }
            match bytes.get(*at) {
                Some(&h) if h >> 5 == major && h & 0x1f != 31 => walk(bytes, at, depth, false)?,
                Some(_) => return Err(bad("invalid CBOR")),
                None => return Err(bad("the CBOR ends early")),
            }
        },
        (4 | 5, Some(n)) => {
            let per = if major == 5 { 2 } else { 1 };
            for i in 0..n.saturating_mul(per) {
                // Each item takes at least one byte: a count beyond the
                // input ends early instead of looping long.
                if *at >= bytes.len() {
                    return Err(bad("the CBOR ends early"));
                }
                walk(bytes, at, depth + 1, major == 5 && i.is_multiple_of(2))?;
            }
            Ok(())
        }
        (4 | 5, None) => {
            let mut i = 0u64;
            loop {
                if is_break(at) {
                    return Ok(());
                }
                walk(bytes, at, depth + 1, major == 5 && i.is_multiple_of(2))?;
                i += 1;
            }
        }
        (6, _) => walk(bytes, at, depth + 1, false),
        _ => Ok(()),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn example() -> Token {
        let exp = clock::parse_rfc3339("2030-01-01T00:00:00Z");
        Token::new(
            Kind::Federation,
            Credentials::new(
                "ASIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
                Some("AQoDYXdzEPT//////////wEXAMPLE".into()),
                exp,
            ),
        )
        .with_federated_user(FederatedUser {
            federated_user_id: "123456789012:TestUser".into(),
            arn: "arn:aws:sts::123456789012:federated-user/TestUser".into(),
        })
        .with_packed_policy_size(6)
        .with_policy(crate::Policy::new().allow("DescribeImages").to_string())
        .with_region("us-east-1")
        .with_label("for the build")
        .with_issued_at(clock::parse_rfc3339("2026-11-26T12:00:00Z").unwrap())
    }

    fn value(bytes: &[u8]) -> ciborium::Value {
        ciborium::from_reader(bytes).unwrap()
    }

    fn to_bytes(v: &ciborium::Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).unwrap();
        out
    }

    fn set(v: &mut ciborium::Value, key: &str, new: ciborium::Value) {
        let map = v.as_map_mut().unwrap();
        map.retain(|(k, _)| k.as_text() != Some(key));
        map.push((key.into(), new));
    }

    #[test]
    fn round_trip() {
        let t = example();
        let bytes = encode(&t);
        let back = decode(&bytes).unwrap();
        assert_eq!(format!("{t:?}"), format!("{back:?}"));
        assert_eq!(back.federated_user(), t.federated_user());
        assert_eq!(
            reveal(back.secret_access_key()),
            reveal(t.secret_access_key())
        );
        assert_eq!(
            back.session_token().map(reveal),
            t.session_token().map(reveal)
        );
    }

    #[test]
    fn keys_are_aws_names() {
        let v = value(&encode(&example()));
        let keys: Vec<_> = v
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_text().unwrap().to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "Version",
                "Kind",
                "Credentials",
                "FederatedUser",
                "PackedPolicySize",
                "Policy",
                "Region",
                "IssuedAt",
                "Label"
            ]
        );
        let creds = &v.as_map().unwrap()[2].1;
        let keys: Vec<_> = creds
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_text().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "AccessKeyId",
                "SecretAccessKey",
                "SessionToken",
                "Expiration"
            ]
        );
    }

    #[test]
    fn unknown_keys_are_ignored_and_tag0_dates_accepted() {
        let mut v = value(&encode(&example()));
        set(
            &mut v,
            "FutureThing",
            ciborium::Value::Array(vec![1.into(), "x".into()]),
        );
        set(
            &mut v,
            "IssuedAt",
            ciborium::Value::Tag(0, Box::new("2026-11-26T12:00:00Z".into())),
        );
        let t = decode(&to_bytes(&v)).unwrap();
        assert_eq!(t.issued_at(), clock::parse_rfc3339("2026-11-26T12:00:00Z"));
    }

    #[test]
    fn newer_version_is_refused_naming_both() {
        let mut v = value(&encode(&example()));
        set(&mut v, "Version", 2.into());
        set(&mut v, "Credentials", "a different shape".into());
        let e = decode(&to_bytes(&v)).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::UnsupportedVersion { found: 2, known: 1 }
            ),
            "{e}"
        );
        assert_eq!(
            e.kind(),
            &crate::ErrorKind::UnsupportedVersion { found: 2, known: 1 }
        );
    }

    #[test]
    fn wrong_shapes_are_not_tokens() {
        let deep = {
            let mut b = vec![0x81u8; 100_000];
            b.push(0x01);
            b
        };
        let mut bad_date = value(&encode(&example()));
        set(&mut bad_date, "IssuedAt", "yesterday".into());
        let mut bad_kind = value(&encode(&example()));
        set(&mut bad_kind, "Kind", "admin".into());
        let mut trailing = encode(&example()).to_vec();
        trailing.push(0);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("not cbor", b"hello world".to_vec()),
            ("an integer", vec![0x01]),
            ("an empty map", vec![0xa0]),
            ("deep nesting", deep),
            (
                "huge text length",
                vec![0xa1, 0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                "huge array length",
                vec![
                    0xa1, 0x61, b'x', 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                ],
            ),
            ("bad date", to_bytes(&bad_date)),
            ("bad kind", to_bytes(&bad_kind)),
            ("trailing bytes", trailing),
            ("truncated", encode(&example())[..40].to_vec()),
        ];
        for (name, bytes) in cases {
            let e = decode(&bytes).unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::NotAToken), "{name}: {e}");
            assert!(!e.to_string().contains("EXAMPLEKEY"), "{name}: {e}");
        }
    }

    #[test]
    fn hostile_fields_are_refused_and_never_quoted() {
        let with = |field: &str, new: ciborium::Value| {
            let mut v = value(&encode(&example()));
            let creds = v.as_map_mut().unwrap()[2].1.as_map_mut().unwrap();
            creds.retain(|(k, _)| k.as_text() != Some(field));
            creds.push((field.into(), new));
            to_bytes(&v)
        };
        let mut region = value(&encode(&example()));
        set(&mut region, "Region", "us-east-1\nexport X=1".into());
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let cases = [
            (
                "SecretAccessKey is empty",
                with("SecretAccessKey", "".into()),
            ),
            (
                "AccessKeyId holds a control character",
                with("AccessKeyId", "AKIA\n[default]".into()),
            ),
            (
                "SecretAccessKey holds a control character",
                with("SecretAccessKey", format!("{secret}\n").into()),
            ),
            (
                "SessionToken holds a control character",
                with("SessionToken", "t\u{1b}]0;x\u{7}".into()),
            ),
            ("Region holds a control character", to_bytes(&region)),
            ("Region \"us-east-1 [evil]\" is not a region name", {
                let mut r = value(&encode(&example()));
                set(&mut r, "Region", "us-east-1 [evil]".into());
                to_bytes(&r)
            }),
            ("Region \"\" is not a region name", {
                let mut r = value(&encode(&example()));
                set(&mut r, "Region", "".into());
                to_bytes(&r)
            }),
            (
                "Expiration is not an RFC 3339 date",
                with("Expiration", secret.into()),
            ),
        ];
        for (want, bytes) in cases {
            let e = decode(&bytes).unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::NotAToken), "{want}: {e}");
            assert!(e.to_string().contains(want), "{want}: {e}");
            assert!(!e.to_string().contains("EXAMPLEKEY"), "{e}");
        }
    }

    #[test]
    fn byte_string_keys_are_refused_at_any_depth() {
        let bytes_key = |v: &mut ciborium::Value, key: &str| {
            for (k, _) in v.as_map_mut().unwrap() {
                if k.as_text() == Some(key) {
                    *k = ciborium::Value::Bytes(key.as_bytes().to_vec());
                }
            }
        };
        let mut top = value(&encode(&example()));
        bytes_key(&mut top, "Kind");
        let mut inner = value(&encode(&example()));
        bytes_key(&mut inner.as_map_mut().unwrap()[2].1, "AccessKeyId");
        let mut unknown = value(&encode(&example()));
        unknown
            .as_map_mut()
            .unwrap()
            .push((ciborium::Value::Integer(7.into()), "x".into()));
        // Integer keys were refused before (serde wants a str or bytes).
        assert!(matches!(
            decode(&to_bytes(&unknown)),
            Err(e) if e.kind() == &ErrorKind::NotAToken
        ));
        for v in [top, inner] {
            let e = decode(&to_bytes(&v)).unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::NotAToken), "{e}");
            assert!(e.to_string().contains("not a text string"), "{e}");
        }
        // Indefinite-length maps and strings with text keys still decode.
        let mut v = value(&encode(&example()));
        set(
            &mut v,
            "Extra",
            ciborium::Value::Array(vec![1.into(), "a".into()]),
        );
        assert!(decode(&to_bytes(&v)).is_ok());
    }

    #[test]
    fn one_trailing_byte_is_singular() {
        let mut bytes = encode(&example()).to_vec();
        bytes.push(0);
        let e = decode(&bytes).unwrap_err();
        assert!(e.to_string().contains("1 byte follows the envelope"), "{e}");
        bytes.push(0);
        let e = decode(&bytes).unwrap_err();
        assert!(e.to_string().contains("2 bytes follow the envelope"), "{e}");
    }

    /// `out` is still the buffer it was made with (`made_with` bytes): it
    /// never grew, so no reallocation left a copy of the secrets behind; and
    /// it was not made much larger than needed (`slack` over its length).
    fn assert_never_grew(what: &str, out: &Zeroizing<Vec<u8>>, made_with: usize, slack: usize) {
        let capacity = out.capacity();
        assert_eq!(
            capacity, made_with,
            "{what}: the buffer grew from {made_with} to {capacity}"
        );
        assert!(
            made_with <= out.len() + slack,
            "{what}: made with {made_with} bytes for {} (slack {slack})",
            out.len()
        );
    }

    /// Tokens each of whose variable-length fields, one at a time, is far
    /// longer than the fixed room: leaving any out of the size arithmetic
    /// makes the buffer too small.
    fn long_fields() -> Vec<(&'static str, Token)> {
        let long = |c: char| c.to_string().repeat(5000);
        let creds = |ak: String, sk: String, st: Option<String>| {
            Credentials::new(ak, sk.into(), st.map(Into::into), None)
        };
        let plain = || creds("AKIAIOSFODNN7EXAMPLE".into(), "s".into(), None);
        vec![
            ("example", example()),
            ("minimal", Token::new(Kind::Static, plain())),
            (
                "AccessKeyId",
                Token::new(Kind::Static, creds(long('A'), "s".into(), None)),
            ),
            (
                "SecretAccessKey",
                Token::new(Kind::Static, creds("A".into(), long('s'), None)),
            ),
            (
                "SessionToken",
                Token::new(
                    Kind::Session,
                    creds("A".into(), "s".into(), Some(long('t'))),
                ),
            ),
            (
                "FederatedUser.Arn",
                Token::new(Kind::Federation, plain()).with_federated_user(FederatedUser {
                    federated_user_id: "1:u".into(),
                    arn: long('a'),
                }),
            ),
            (
                "FederatedUser.FederatedUserId",
                Token::new(Kind::Federation, plain()).with_federated_user(FederatedUser {
                    federated_user_id: long('f'),
                    arn: "arn".into(),
                }),
            ),
            (
                "AssumedRoleUser.Arn",
                Token::new(Kind::Role, plain()).with_assumed_role_user(AssumedRoleUser {
                    assumed_role_id: "AROA:s".into(),
                    arn: long('a'),
                }),
            ),
            (
                "AssumedRoleUser.AssumedRoleId",
                Token::new(Kind::Role, plain()).with_assumed_role_user(AssumedRoleUser {
                    assumed_role_id: long('r'),
                    arn: "arn".into(),
                }),
            ),
            (
                "Policy",
                Token::new(Kind::Static, plain()).with_policy(long('p')),
            ),
            (
                "Region",
                Token::new(Kind::Static, plain()).with_region(long('r')),
            ),
            (
                "Label",
                Token::new(Kind::Static, plain()).with_label(long('l')),
            ),
        ]
    }

    #[test]
    fn encoding_never_grows_its_buffer() {
        for (field, t) in long_fields() {
            let out = encode(&t);
            assert_eq!(decode(&out).unwrap().access_key_id(), t.access_key_id());
            assert_never_grew(field, &out, capacity_for(&t, None), FIXED);
        }
    }

    #[test]
    fn signed_encodings_never_grow_their_buffers() {
        let t = example();
        let one =
            vec!["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".to_string()];
        let many: Vec<String> = (0..300).map(|i| format!("{}{i}", one[0])).collect();
        let long_id = vec![7u8; 5000];
        for (to, id) in [
            (&one, &[1u8; 16][..]),
            (&many, &[1u8; 16][..]),
            (&one, &long_id[..]),
        ] {
            let signed = Some((to.as_slice(), id));
            let inner = encode_inner(&t, to, id);
            let back = decode_inner(&inner).unwrap();
            assert_eq!(back.sealed_to(), to.as_slice());
            // each recipient is given 9 bytes for its head, more than it needs
            assert_never_grew(
                "inner",
                &inner,
                capacity_for(&t, signed),
                FIXED + 9 * to.len(),
            );
            let signature = "-----BEGIN SSH SIGNATURE-----\n".to_string() + &"x".repeat(5000);
            let outer = encode_signed(&inner, &signature);
            assert_never_grew("outer", &outer, signed_capacity(&inner, &signature), 128);
            assert!(matches!(decode_any(&outer), Ok(Decoded::Signed { .. })));
        }
    }

    fn not_a_token(bytes: &[u8]) -> String {
        match decode(bytes) {
            Err(e) if e.kind() == &ErrorKind::NotAToken => e.message().to_string(),
            Err(e) => panic!("not NotAToken: {e}"),
            Ok(_) => panic!("decoded"),
        }
    }

    #[test]
    fn versions_older_than_1_or_missing_are_not_tokens() {
        let mut v = value(&encode(&example()));
        set(&mut v, "Version", 0.into());
        assert_eq!(not_a_token(&to_bytes(&v)), "unknown envelope version 0");
        let mut v = value(&encode(&example()));
        v.as_map_mut()
            .unwrap()
            .retain(|(k, _)| k.as_text() != Some("Version"));
        assert_eq!(not_a_token(&to_bytes(&v)), "the envelope has no Version");
        let mut v = value(&encode(&example()));
        set(&mut v, "Version", 1.into());
        assert!(decode(&to_bytes(&v)).is_ok());
    }

    /// An inner envelope as `encode_inner` writes it, less `drop`.
    fn inner_without(drop: &str) -> Vec<u8> {
        let to = vec!["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".to_string()];
        let mut v = value(&encode_inner(&example(), &to, &[9; 16]));
        v.as_map_mut()
            .unwrap()
            .retain(|(k, _)| k.as_text() != Some(drop));
        to_bytes(&v)
    }

    #[test]
    fn an_inner_envelope_needs_each_of_sealed_to_token_id_and_issued_at() {
        let whole = decode_inner(&inner_without("nothing")).unwrap();
        assert_eq!(whole.token_id(), Some(&[9u8; 16][..]));
        assert_eq!(whole.sealed_to().len(), 1);
        for field in ["SealedTo", "TokenId", "IssuedAt"] {
            let e = decode_inner(&inner_without(field)).unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::BadSignature), "{field}: {e}");
            assert!(
                e.to_string()
                    .contains("lacks SealedTo, TokenId or IssuedAt"),
                "{e}"
            );
        }
        // an empty list of recipients is as good as none
        let mut v = value(&inner_without("nothing"));
        set(&mut v, "SealedTo", ciborium::Value::Array(vec![]));
        assert!(matches!(
            decode_inner(&to_bytes(&v)),
            Err(e) if e.kind() == &ErrorKind::BadSignature
        ));
        // the version and the keys are checked first, as for a plain one
        let mut v = value(&inner_without("nothing"));
        set(&mut v, "Version", 0.into());
        assert!(matches!(
            decode_inner(&to_bytes(&v)),
            Err(e) if e.kind() == &ErrorKind::NotAToken
        ));
        let mut v = value(&inner_without("nothing"));
        v.as_map_mut()
            .unwrap()
            .push((ciborium::Value::Bytes(b"X".to_vec()), 1.into()));
        assert!(matches!(
            decode_inner(&to_bytes(&v)),
            Err(e) if e.kind() == &ErrorKind::NotAToken
        ));
    }

    #[test]
    fn a_token_id_must_be_a_byte_string() {
        let mut v = value(&inner_without("nothing"));
        set(&mut v, "TokenId", "0123456789abcdef".into());
        let e = decode_inner(&to_bytes(&v)).unwrap_err();
        // ciborium names what it expected itself ("byte buffer"), not
        // through the visitor's `expecting`
        assert!(matches!(e.kind(), ErrorKind::NotAToken), "{e}");
        assert!(e.to_string().contains("invalid type: string"), "{e}");
    }

    #[test]
    fn signed_envelopes_are_told_apart() {
        let inner = encode_inner(&example(), &["age1x".to_string()], &[1; 16]);
        let outer = encode_signed(&inner, "SIG");
        match decode_any(&outer) {
            Ok(Decoded::Signed {
                envelope,
                signature,
            }) => {
                assert_eq!(&envelope[..], &inner[..]);
                assert_eq!(signature, "SIG");
            }
            _ => panic!("not a signed envelope"),
        }
        assert!(matches!(
            decode_any(&encode(&example())),
            Ok(Decoded::Plain(_))
        ));
        let e = decode(&outer)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("a signed envelope: open it with handoff::open"),
            "{e}"
        );
        // a signed envelope is not a kind of token inside one
        let mut v = value(&inner);
        set(&mut v, "Kind", "signed".into());
        let e = decode_inner(&to_bytes(&v)).unwrap_err();
        assert!(
            e.to_string()
                .contains("a signed envelope inside a signed envelope"),
            "{e}"
        );
        // the outer envelope is version-checked too
        let mut v = value(&outer);
        set(&mut v, "Version", 7.into());
        assert!(matches!(
            decode_any(&to_bytes(&v)),
            Err(e) if matches!(e.kind(), ErrorKind::UnsupportedVersion { found: 7, .. })
        ));
    }

    #[test]
    fn unknown_kinds_are_named_at_most_40_characters_long() {
        let mut v = value(&encode(&example()));
        let long = format!("{}{}", "k".repeat(40), "TAIL");
        set(&mut v, "Kind", long.as_str().into());
        assert_eq!(
            not_a_token(&to_bytes(&v)),
            format!("unknown kind {:?}", "k".repeat(40))
        );
        assert_eq!(truncate("short"), "short");
        assert_eq!(truncate(&"é".repeat(50)), "é".repeat(40));
    }

    #[test]
    fn empty_access_key_ids_are_refused() {
        let mut v = value(&encode(&example()));
        let creds = v.as_map_mut().unwrap()[2].1.as_map_mut().unwrap();
        creds.retain(|(k, _)| k.as_text() != Some("AccessKeyId"));
        creds.push(("AccessKeyId".into(), "".into()));
        assert_eq!(not_a_token(&to_bytes(&v)), "the AccessKeyId is empty");
    }

    #[test]
    fn cbor_errors_say_what_went_wrong() {
        assert_eq!(not_a_token(&[]), "the CBOR ends early");
        assert_eq!(
            not_a_token(&encode(&example())[..40]),
            "the CBOR ends early"
        );
        assert!(not_a_token(&[0xa1, 0x1c]).starts_with("invalid CBOR"));
        let deep = {
            let mut b = vec![0xa1, 0x61, b'V'];
            b.extend(vec![0x81u8; 300]);
            b.push(0x01);
            b
        };
        assert_eq!(not_a_token(&deep), "the CBOR nests too deeply");
        assert!(not_a_token(&[0x01]).starts_with("unexpected envelope shape"));
    }

    #[test]
    fn format_characters() {
        for c in [
            '\u{ad}',
            '\u{200b}',
            '\u{202e}',
            '\u{2066}',
            '\u{feff}',
            '\u{e0041}',
        ] {
            assert!(is_format_char(c), "{c:?}");
        }
        for c in ['a', ' ', '\u{e9}', '\u{2070}', '\u{1f600}'] {
            assert!(!is_format_char(c), "{c:?}");
        }
    }

    #[test]
    fn minimal_static_envelope() {
        let t = Token::new(
            Kind::Static,
            Credentials::new("AKIAIOSFODNN7EXAMPLE", "secret".into(), None, None),
        );
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(back.kind(), Kind::Static);
        assert!(back.session_token().is_none() && back.expiration().is_none());
    }

    /// The walker alone, on CBOR made by hand: every head form, every
    /// container, at the depth bound.
    #[test]
    fn the_key_walker_reads_every_head_and_container() {
        let why = |e: Error| match e.kind() {
            ErrorKind::NotAToken => e.message().to_string(),
            _ => panic!("{e}"),
        };
        let ok = |b: &[u8]| check_text_keys(b).map_err(why);
        let refused = |b: &[u8]| why(check_text_keys(b).unwrap_err());
        const NOT_TEXT: &str =
            "a map key of the envelope is not a text string (the format has text keys only)";
        // A map whose values use each argument size, then a byte-string key:
        // any misstep in skipping reads the wrong byte as the next key.
        let mut m = vec![0xa6];
        m.extend([0x61, b'a', 0x18, 200]); // 1-byte argument
        m.extend([0x61, b'b', 0x19, 1, 0]); // 2-byte
        m.extend([0x61, b'c', 0x1a, 0, 0, 1, 0]); // 4-byte
        m.extend([0x61, b'd', 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]); // f64
        m.extend([0x61, b'e', 0x59, 0, 3, b'x', b'y', b'z']); // text, 2-byte length
        m.extend([0x61, b'f', 0xf9, 0x3c, 0x00]); // f16
        assert_eq!(ok(&m), Ok(()));
        let mut long = vec![0xa1, 0x79, 1, 44];
        long.extend(vec![b'k'; 300]);
        long.push(0xf6);
        assert_eq!(ok(&long), Ok(()));
        let mut eight = vec![0xa1, 0x61, b'a', 0x1b];
        eight.extend([0, 0, 0, 0, 0, 0, 0, 9]);
        assert_eq!(ok(&eight), Ok(()));
        for bad_key in [
            &[0xa1, 0x41, b'a', 0x01][..],                     // bytes
            &[0xa1, 0x01, 0x01],                               // integer
            &[0xa1, 0x80, 0x01],                               // array
            &[0xa1, 0xc0, 0x61, b'a', 0x01],                   // a tagged text
            &[0xbf, 0x61, b'a', 0x01, 0x41, b'b', 0x01, 0xff], // second key of an indefinite map
            &[0xa2, 0x61, b'a', 0x01, 0x41, b'b', 0x01],       // second key
            &[0x81, 0xa1, 0x41, b'a', 0x01],                   // in an array
            &[0xc1, 0xa1, 0x41, b'a', 0x01],                   // in a tag
            &[0x9f, 0xa1, 0x41, b'a', 0x01, 0xff],             // in an indefinite array
            &[0xa1, 0x61, b'a', 0xa1, 0x41, b'b', 0x01],       // in a map's value
        ] {
            assert_eq!(refused(bad_key), NOT_TEXT, "{bad_key:02x?}");
        }
        // Values may be anything, keys of maps inside arrays too.
        for good in [
            &[0xa1, 0x61, b'a', 0x41, b'b'][..],
            &[0xa1, 0x7f, 0x61, b'a', 0x61, b'b', 0xff, 0x01], // indefinite text key
            &[0xa1, 0x61, b'a', 0x5f, 0x41, b'x', 0x40, 0xff], // indefinite bytes value
            &[0xa1, 0x61, b'a', 0x9f, 0x01, 0x41, b'x', 0xff],
            &[0xbf, 0x61, b'a', 0x01, 0x61, b'b', 0x41, b'x', 0xff],
            &[0x82, 0xa1, 0x61, b'a', 0x01, 0x41, b'x'],
            &[0xa1, 0x61, b'a', 0xc1, 0x1a, 0, 0, 0, 0],
            &[0xa1, 0x61, b'a', 0xf5],
            &[0xa1, 0x61, b'a', 0xf8, 0x20], // simple value, 1-byte argument
            &[0x20],                         // a negative integer alone
        ] {
            assert_eq!(ok(good), Ok(()), "{good:02x?}");
        }
        for (cut, why) in [
            (&[][..], "the CBOR ends early"),
            (&[0xa1][..], "the CBOR ends early"),
            (&[0xa1, 0x61][..], "the CBOR ends early"),
            (&[0xa1, 0x61, b'a', 0x19, 1][..], "the CBOR ends early"),
            (&[0xa1, 0x78, 5, b'a'][..], "the CBOR ends early"),
            (
                &[0xa1, 0x61, b'a', 0x7f, 0x61, b'x'][..],
                "the CBOR ends early",
            ),
            (&[0xbf, 0x61, b'a', 0x01][..], "the CBOR ends early"),
            (
                &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
                "the CBOR ends early",
            ),
            (
                &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
                "the CBOR ends early",
            ),
            (&[0x1c][..], "invalid CBOR"),
            (&[0x1f][..], "invalid CBOR"),
            (&[0xdf, 0x01][..], "invalid CBOR"),
        ] {
            assert_eq!(refused(cut), why, "{cut:02x?}");
        }
        // 256 nested arrays hold an item at depth 256; 257 do not.
        let nested = |n: usize| {
            let mut b = vec![0x81; n];
            b.push(0x01);
            b
        };
        assert_eq!(ok(&nested(MAX_DEPTH)), Ok(()));
        assert_eq!(refused(&nested(MAX_DEPTH + 1)), "the CBOR nests too deeply");
        let tags = |n: usize| {
            let mut b = vec![0xc1; n];
            b.push(0x01);
            b
        };
        assert_eq!(ok(&tags(MAX_DEPTH)), Ok(()));
        assert_eq!(refused(&tags(MAX_DEPTH + 1)), "the CBOR nests too deeply");
        let indefinite = |n: usize| {
            let mut b = vec![0x9f; n];
            b.push(0x01);
            b.extend(vec![0xff; n]);
            b
        };
        assert_eq!(ok(&indefinite(MAX_DEPTH)), Ok(()));
        assert_eq!(
            refused(&indefinite(MAX_DEPTH + 1)),
            "the CBOR nests too deeply"
        );
        let indefinite_maps = |n: usize| {
            let mut b = vec![];
            for _ in 0..n {
                b.extend([0xbf, 0x61, b'k']);
            }
            b.push(0x01);
            b.extend(vec![0xff; n]);
            b
        };
        assert_eq!(ok(&indefinite_maps(MAX_DEPTH)), Ok(()));
        assert_eq!(
            refused(&indefinite_maps(MAX_DEPTH + 1)),
            "the CBOR nests too deeply"
        );
        // After an indefinite item, the walk goes on just past its break.
        for after in [
            &[0xa2, 0x61, b'a', 0x9f, 0x01, 0xff, 0x61, b'b', 0x01][..],
            &[0xa2, 0x61, b'a', 0xbf, 0xff, 0x61, b'b', 0x01],
            &[0xa2, 0x61, b'a', 0x5f, 0x41, b'x', 0xff, 0x61, b'b', 0x01],
            &[0xa2, 0x7f, 0x61, b'a', 0xff, 0x01, 0x61, b'b', 0x01],
        ] {
            assert_eq!(ok(after), Ok(()), "{after:02x?}");
        }
        // An indefinite string's chunks are definite strings of its type.
        for bad_chunk in [
            &[0x7f, 0x41, b'x', 0xff][..],
            &[0x5f, 0x61, b'x', 0xff],
            &[0x5f, 0x01, 0xff],
            &[0x5f, 0x81, 0x41, b'x', 0xff],
            &[0x5f, 0x5f, 0xff, 0xff],
            &[0x7f, 0x7f, 0xff, 0xff],
        ] {
            assert_eq!(refused(bad_chunk), "invalid CBOR", "{bad_chunk:02x?}");
        }
        assert_eq!(refused(&[0x5f, 0x41, b'x']), "the CBOR ends early");
        // Reserved and stray heads of major type 7.
        for bad in [&[0xfc][..], &[0xfd], &[0xfe], &[0xff], &[0x81, 0xff]] {
            assert_eq!(refused(bad), "invalid CBOR", "{bad:02x?}");
        }
    }

    #[test]
    fn decoded_fields_land_where_they_belong() {
        let t = example()
            .with_assumed_role_user(AssumedRoleUser {
                assumed_role_id: "AROA:s".into(),
                arn: "arn:role".into(),
            })
            .with_packed_policy_size(9);
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(back.assumed_role_user().unwrap().assumed_role_id, "AROA:s");
        assert_eq!(back.assumed_role_user().unwrap().arn, "arn:role");
        assert_eq!(back.federated_user(), t.federated_user());
        assert_eq!(back.packed_policy_size(), Some(9));
        assert_eq!(back.policy(), t.policy());
        assert_eq!(back.region(), Some("us-east-1"));
        assert_eq!(back.label(), Some("for the build"));
        assert_eq!(back.issued_at(), t.issued_at());
        assert_eq!(back.expiration(), t.expiration());
        assert_eq!(
            reveal(back.session_token().unwrap()),
            "AQoDYXdzEPT//////////wEXAMPLE"
        );
        assert_eq!(back.sealed_to(), &[] as &[String]);
        assert_eq!(back.token_id(), None);
        let inner = encode_inner(&t, &["age1x".to_string()], &[7; 16]);
        let back = decode_inner(&inner).unwrap();
        assert_eq!(back.sealed_to(), ["age1x"]);
        assert_eq!(back.token_id(), Some(&[7u8; 16][..]));
        // a signed envelope is not a plain one
        let outer = encode_signed(&inner, "sig");
        let e = decode(&outer).unwrap_err();
        assert!(e.to_string().contains("open it with handoff::open"), "{e}");
        match decode_any(&outer).unwrap() {
            Decoded::Signed {
                envelope,
                signature,
            } => {
                assert_eq!(&envelope[..], &inner[..]);
                assert_eq!(signature, "sig");
            }
            Decoded::Plain(_) => panic!("a signed envelope decoded as plain"),
        }
    }
}
