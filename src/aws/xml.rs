//! Every XML document AWS sends us, read in one place.
//!
//! Responses are parsed with quick-xml's serde support into the private
//! structs below and turned into the library's own types here: STS XML
//! becomes a [`Token`] in exactly one function, [`sts_token`]. quick-xml
//! types never leave this module. Errors returned from here are short
//! descriptions that never carry a value from the document (so never a
//! secret); callers wrap them into a transport error ([`Error::is_transport`](crate::Error::is_transport)).

use serde::Deserialize;
use serde_json::{Map, Value};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::types::{AvailabilityZone, CallerIdentity, Image, Region};
use crate::clock;
use crate::credentials::{AssumedRoleUser, Credentials, FederatedUser, Kind, Token};

/// How deep the generic XML-to-JSON conversion goes before giving up. EC2
/// responses nest a dozen levels at most.
const MAX_DEPTH: usize = 64;

fn utf8(body: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(body).map_err(|_| "the response is not UTF-8".to_string())
}

fn parse<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, String> {
    let text = xml_text(body)?;
    quick_xml::de::from_str(text).map_err(|e| de_error(&e))
}

/// The body as text, when it can be XML at all: not empty, UTF-8, and
/// starting with `<`. Says what it is instead (JSON, text) without quoting
/// it: an answer to a credentials call holds secrets wherever it is wrong.
fn xml_text(body: &[u8]) -> Result<&str, String> {
    let text = utf8(body)?;
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    match start.chars().next() {
        None => Err("the response is empty".into()),
        Some('<') => Ok(text),
        Some('{') | Some('[') => Err("expected XML, got JSON".into()),
        Some(_) => Err("expected XML, got something else".into()),
    }
}

/// What was wrong with a document quick-xml refused, in words of our own:
/// quick-xml's messages quote the document (names, entities, text), and
/// the document may hold a secret.
fn de_error(e: &quick_xml::DeError) -> String {
    use quick_xml::DeError;
    match e {
        // serde's "missing field `Credentials`" and "duplicate field `Arn`"
        // name one of our fields; anything else may quote a value.
        DeError::Custom(s)
            if (s.starts_with("missing field `") || s.starts_with("duplicate field `"))
                && s.ends_with('`')
                && s.len() <= 64 =>
        {
            s.clone()
        }
        DeError::InvalidXml(e) => xml_error(e),
        DeError::UnexpectedEof => "ill-formed XML: the document ends early".into(),
        DeError::TooDeeplyNested(_) => "the response nests too deeply".into(),
        _ => "not the expected document".into(),
    }
}

/// A quick-xml reader error, without the document's content.
fn xml_error(e: &quick_xml::Error) -> String {
    use quick_xml::Error;
    match e {
        Error::Escape(_) => "ill-formed XML: an unknown entity or a bad character reference".into(),
        Error::Encoding(_) => "ill-formed XML: not UTF-8".into(),
        Error::Io(_) => "cannot read the response".into(),
        Error::InvalidAttr(_) => "ill-formed XML: a bad attribute".into(),
        Error::Namespace(_) => "ill-formed XML: a bad namespace".into(),
        Error::Syntax(_) | Error::IllFormed(_) => "ill-formed XML".into(),
    }
}

/// `s` cut to at most `max` bytes, between characters: the messages quote
/// the answer, which may be any UTF-8.
pub(super) fn cut(mut s: String, max: usize) -> String {
    s.truncate(s.floor_char_boundary(max));
    s
}

// ---------------------------------------------------------------------------
// Errors

/// An error document: STS's `<ErrorResponse><Error>..</Error><RequestId/>`,
/// EC2's `<Response><Errors><Error>..</Error></Errors><RequestID/>`, or a
/// bare `<Error>` as S3-style services send.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct AwsError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
struct ErrorDocument {
    #[serde(rename = "Error", default)]
    error: Option<ErrorBody>,
    #[serde(rename = "Errors", default)]
    errors: Option<ErrorList>,
    #[serde(rename = "RequestId", alias = "RequestID", default)]
    request_id: Option<String>,
    // A bare <Error> root: its children are ours.
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct ErrorList {
    #[serde(rename = "Error", default)]
    error: Vec<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
    #[serde(rename = "RequestId", alias = "RequestID", default)]
    request_id: Option<String>,
}

/// The longest error code and message kept from an answer, in bytes: AWS's
/// own run to a few hundred; a longer one is cut, not printed whole.
pub(super) const MAX_CODE: usize = 128;
pub(super) const MAX_MESSAGE: usize = 2048;

/// An error code as kept: trimmed, cut at [`MAX_CODE`] bytes, and trimmed
/// again (a cut may end on a space).
pub(super) fn error_code(code: &str) -> String {
    cut(code.trim().to_string(), MAX_CODE)
        .trim_end()
        .to_string()
}

/// Reads an AWS error document; `None` when the body is not one.
pub(super) fn aws_error(body: &[u8]) -> Option<AwsError> {
    let doc: ErrorDocument = parse(body).ok()?;
    let first = doc
        .error
        .or_else(|| doc.errors.and_then(|l| l.error.into_iter().next()));
    let (code, message, inner_id) = match first {
        Some(b) => (b.code, b.message, b.request_id),
        None => (doc.code, doc.message, None),
    };
    let code = code.map(|c| error_code(&c)).filter(|c| !c.is_empty())?;
    Some(AwsError {
        code,
        message: message
            .map(|m| cut(m.trim().to_string(), MAX_MESSAGE))
            .unwrap_or_default(),
        request_id: doc
            .request_id
            .or(inner_id)
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
    })
}

// ---------------------------------------------------------------------------
// STS

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(
        rename = "GetFederationTokenResult",
        alias = "GetSessionTokenResult",
        alias = "AssumeRoleResult"
    )]
    result: TokenResult,
}

#[derive(Deserialize)]
struct TokenResult {
    #[serde(rename = "Credentials")]
    credentials: XmlCredentials,
    #[serde(rename = "FederatedUser", default)]
    federated_user: Option<XmlFederatedUser>,
    #[serde(rename = "AssumedRoleUser", default)]
    assumed_role_user: Option<XmlAssumedRoleUser>,
    // Read as text and parsed here, so a bad value never reaches an error
    // message through serde.
    #[serde(rename = "PackedPolicySize", default)]
    packed_policy_size: Option<String>,
}

#[derive(Deserialize)]
struct XmlCredentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: SecretString,
    #[serde(rename = "SessionToken")]
    session_token: SecretString,
    #[serde(rename = "Expiration")]
    expiration: String,
}

#[derive(Deserialize)]
struct XmlFederatedUser {
    #[serde(rename = "FederatedUserId")]
    federated_user_id: String,
    #[serde(rename = "Arn")]
    arn: String,
}

#[derive(Deserialize)]
struct XmlAssumedRoleUser {
    #[serde(rename = "AssumedRoleId")]
    assumed_role_id: String,
    #[serde(rename = "Arn")]
    arn: String,
}

/// The one function that turns an STS GetFederationToken, GetSessionToken
/// or AssumeRole response into a [`Token`] of `kind`: credentials (the
/// secrets go straight from the response buffer into `SecretString`s),
/// federated or assumed-role user, and packed policy size. The caller adds
/// what the request knew (policy, region, issue time).
pub(super) fn sts_token(kind: Kind, body: &[u8]) -> Result<Token, String> {
    let doc: TokenResponse = parse(body)?;
    let r = doc.result;
    let c = r.credentials;
    let access_key_id = c.access_key_id.trim().to_string();
    if access_key_id.is_empty() {
        return Err("the credentials have an empty AccessKeyId".into());
    }
    if c.secret_access_key.expose_secret().trim().is_empty() {
        return Err("the credentials have an empty SecretAccessKey".into());
    }
    let expiration = clock::parse_rfc3339(&c.expiration).ok_or_else(|| {
        "the credentials' Expiration is not an RFC 3339 time from 1970 to 9999 UTC".to_string()
    })?;
    let credentials = Credentials::new(
        access_key_id,
        compact(c.secret_access_key),
        Some(compact(c.session_token)),
        Some(expiration),
    );
    let mut token = Token::new(kind, credentials);
    if let Some(u) = r.federated_user {
        token = token.with_federated_user(FederatedUser {
            federated_user_id: u.federated_user_id.trim().to_string(),
            arn: u.arn.trim().to_string(),
        });
    }
    if let Some(u) = r.assumed_role_user {
        token = token.with_assumed_role_user(AssumedRoleUser {
            assumed_role_id: u.assumed_role_id.trim().to_string(),
            arn: u.arn.trim().to_string(),
        });
    }
    if let Some(size) = r.packed_policy_size {
        let size = size
            .trim()
            .parse()
            .map_err(|_| "PackedPolicySize is not a number".to_string())?;
        token = token.with_packed_policy_size(size);
    }
    Ok(token)
}

/// Secret keys and session tokens are base64 and never hold whitespace;
/// documents pretty-printed for people (AWS's own examples) wrap them.
/// Removes it, copying through a zeroizing buffer.
fn compact(secret: SecretString) -> SecretString {
    let s = secret.expose_secret();
    if !s.chars().any(char::is_whitespace) {
        return secret;
    }
    let mut out = Zeroizing::new(String::with_capacity(s.len()));
    out.extend(s.chars().filter(|c| !c.is_whitespace()));
    SecretString::from(out.as_str())
}

#[derive(Deserialize)]
struct CallerIdentityResponse {
    #[serde(rename = "GetCallerIdentityResult")]
    result: CallerIdentityResult,
}

#[derive(Deserialize)]
struct CallerIdentityResult {
    #[serde(rename = "Account")]
    account: String,
    #[serde(rename = "Arn")]
    arn: String,
    #[serde(rename = "UserId")]
    user_id: String,
}

/// Reads an STS GetCallerIdentity response.
pub(super) fn caller_identity(body: &[u8]) -> Result<CallerIdentity, String> {
    let doc: CallerIdentityResponse = parse(body)?;
    let r = doc.result;
    Ok(CallerIdentity {
        account: r.account.trim().to_string(),
        arn: r.arn.trim().to_string(),
        user_id: r.user_id.trim().to_string(),
    })
}

// ---------------------------------------------------------------------------
// EC2

/// `<xxxSet><item>..</item>...</xxxSet>`
#[derive(Deserialize)]
struct Items<T> {
    #[serde(rename = "item", default = "Vec::new")]
    item: Vec<T>,
}

impl<T> Default for Items<T> {
    fn default() -> Self {
        Items { item: Vec::new() }
    }
}

#[derive(Deserialize)]
struct DescribeImagesResponse {
    #[serde(rename = "imagesSet", default)]
    images: Items<XmlImage>,
}

#[derive(Deserialize)]
struct XmlImage {
    #[serde(rename = "imageId")]
    image_id: String,
    #[serde(rename = "imageLocation", default)]
    image_location: Option<String>,
    #[serde(rename = "imageState", default)]
    state: Option<String>,
    #[serde(rename = "imageOwnerId", default)]
    owner_id: Option<String>,
    #[serde(rename = "imageOwnerAlias", default)]
    owner_alias: Option<String>,
    #[serde(rename = "isPublic", default)]
    is_public: Option<String>,
    #[serde(rename = "architecture", default)]
    architecture: Option<String>,
    #[serde(rename = "imageType", default)]
    image_type: Option<String>,
    #[serde(rename = "platform", default)]
    platform: Option<String>,
    #[serde(rename = "name", default)]
    name: Option<String>,
    #[serde(rename = "description", default)]
    description: Option<String>,
    #[serde(rename = "rootDeviceType", default)]
    root_device_type: Option<String>,
    #[serde(rename = "rootDeviceName", default)]
    root_device_name: Option<String>,
    #[serde(rename = "virtualizationType", default)]
    virtualization_type: Option<String>,
    #[serde(rename = "creationDate", default)]
    creation_date: Option<String>,
    #[serde(rename = "tagSet", default)]
    tags: Items<XmlTag>,
}

#[derive(Deserialize)]
struct XmlTag {
    #[serde(rename = "key", default)]
    key: String,
    #[serde(rename = "value", default)]
    value: String,
}

fn text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Reads an EC2 DescribeImages response.
pub(super) fn images(body: &[u8]) -> Result<Vec<Image>, String> {
    let doc: DescribeImagesResponse = parse(body)?;
    Ok(doc
        .images
        .item
        .into_iter()
        .map(|i| Image {
            image_id: i.image_id.trim().to_string(),
            name: text(i.name),
            description: text(i.description),
            owner_id: text(i.owner_id).unwrap_or_default(),
            owner_alias: text(i.owner_alias),
            state: text(i.state).unwrap_or_default(),
            image_location: text(i.image_location),
            architecture: text(i.architecture),
            image_type: text(i.image_type),
            platform: text(i.platform),
            root_device_type: text(i.root_device_type),
            root_device_name: text(i.root_device_name),
            virtualization_type: text(i.virtualization_type),
            creation_date: text(i.creation_date),
            public: text(i.is_public).is_some_and(|p| p == "true"),
            tags: i.tags.item.into_iter().map(|t| (t.key, t.value)).collect(),
        })
        .collect())
}

#[derive(Deserialize)]
struct DescribeAvailabilityZonesResponse {
    #[serde(rename = "availabilityZoneInfo", default)]
    zones: Items<XmlZone>,
}

#[derive(Deserialize)]
struct XmlZone {
    #[serde(rename = "zoneName")]
    zone_name: String,
    #[serde(rename = "zoneState", default)]
    state: Option<String>,
    #[serde(rename = "regionName", default)]
    region_name: Option<String>,
    #[serde(rename = "zoneId", default)]
    zone_id: Option<String>,
    #[serde(rename = "zoneType", default)]
    zone_type: Option<String>,
}

/// Reads an EC2 DescribeAvailabilityZones response.
pub(super) fn availability_zones(body: &[u8]) -> Result<Vec<AvailabilityZone>, String> {
    let doc: DescribeAvailabilityZonesResponse = parse(body)?;
    Ok(doc
        .zones
        .item
        .into_iter()
        .map(|z| AvailabilityZone {
            zone_name: z.zone_name.trim().to_string(),
            state: text(z.state).unwrap_or_default(),
            region_name: text(z.region_name).unwrap_or_default(),
            zone_id: text(z.zone_id),
            zone_type: text(z.zone_type),
        })
        .collect())
}

#[derive(Deserialize)]
struct DescribeRegionsResponse {
    #[serde(rename = "regionInfo", default)]
    regions: Items<XmlRegion>,
}

#[derive(Deserialize)]
struct XmlRegion {
    #[serde(rename = "regionName")]
    region_name: String,
    #[serde(rename = "regionEndpoint", default)]
    endpoint: Option<String>,
    #[serde(rename = "optInStatus", default)]
    opt_in_status: Option<String>,
}

/// Reads an EC2 DescribeRegions response.
pub(super) fn regions(body: &[u8]) -> Result<Vec<Region>, String> {
    let doc: DescribeRegionsResponse = parse(body)?;
    Ok(doc
        .regions
        .item
        .into_iter()
        .map(|r| Region {
            region_name: r.region_name.trim().to_string(),
            endpoint: text(r.endpoint).unwrap_or_default(),
            opt_in_status: text(r.opt_in_status),
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Any EC2 response as JSON

/// An element of the generic tree.
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn new(name: &str) -> Result<Node, String> {
        Ok(Node {
            name: name.to_string(),
            text: String::new(),
            children: Vec::new(),
        })
    }
}

/// Any EC2 Query API response as JSON, the way the AWS CLI prints one:
///
/// - the root element (`DescribeImagesResponse`) is dropped and its children
///   become the top-level object;
/// - element names get an upper-case first letter (`requestId` →
///   `RequestId`, `imagesSet` → `ImagesSet`, `imageId` → `ImageId`);
/// - an element whose children are all `<item>` is an array of them, and so
///   is an empty element whose name ends in `Set`;
/// - an element with no children is its text, as a string (the XML carries
///   no types: `"true"`, `"8"` stay strings); repeated elements of one name
///   become an array;
/// - namespaces, attributes, comments and the XML declaration are dropped.
pub(super) fn to_json(body: &[u8]) -> Result<Value, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml_text(body)?);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let err = |e: quick_xml::Error| xml_error(&e);
    loop {
        match reader.read_event().map_err(err)? {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("the response nests too deeply".into());
                }
                stack.push(Node::new(e.local_name().as_ref())?);
            }
            Event::Empty(e) => {
                let node = Node::new(e.local_name().as_ref())?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err("the response has more than one root element".into()),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err("the response has more than one root element".into()),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or("the response uses an unknown XML entity")?
                        .to_string(),
                    Err(_) => return Err("the response has a bad character reference".into()),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the response ends inside an element".into());
    }
    let root = root.ok_or("the response is empty")?;
    Ok(match node_value(root) {
        Value::String(s) if s.trim().is_empty() => Value::Object(Map::new()),
        v => v,
    })
}

fn node_value(node: Node) -> Value {
    if node.children.is_empty() {
        if node.name.ends_with("Set") && node.text.trim().is_empty() {
            return Value::Array(Vec::new());
        }
        return Value::String(node.text);
    }
    if node.children.iter().all(|c| c.name == "item") {
        return Value::Array(node.children.into_iter().map(node_value).collect());
    }
    let mut map = Map::new();
    // Keys whose value is already an array of repeated elements (as opposed
    // to an array made from `<item>`s, which a repeat must not extend).
    let mut repeated: Vec<String> = Vec::new();
    for child in node.children {
        let key = pascal(&child.name);
        let value = node_value(child);
        match map.get_mut(&key) {
            Some(Value::Array(list)) if repeated.contains(&key) => list.push(value),
            Some(existing) => {
                let first = std::mem::take(existing);
                *existing = Value::Array(vec![first, value]);
                repeated.push(key);
            }
            None => {
                map.insert(key, value);
            }
        }
    }
    Value::Object(map)
}

fn pascal(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// IAM

#[derive(Deserialize)]
struct InlinePolicyResponse {
    #[serde(rename = "GetUserPolicyResult", alias = "GetRolePolicyResult")]
    result: InlinePolicyResult,
}

#[derive(Deserialize)]
struct InlinePolicyResult {
    #[serde(rename = "PolicyDocument")]
    document: String,
}

/// Reads an IAM GetUserPolicy or GetRolePolicy response: the policy
/// document, which IAM sends URL-encoded (RFC 3986), decoded.
pub(super) fn inline_policy(body: &[u8]) -> Result<String, String> {
    let doc: InlinePolicyResponse = parse(body)?;
    percent_decode(doc.result.document.trim())
}

#[derive(Deserialize)]
struct PolicyNamesResponse {
    #[serde(rename = "ListUserPoliciesResult", alias = "ListRolePoliciesResult")]
    result: PolicyNamesResult,
}

#[derive(Deserialize)]
struct PolicyNamesResult {
    #[serde(rename = "PolicyNames", default)]
    names: Option<PolicyNameList>,
    #[serde(rename = "IsTruncated", default)]
    truncated: Option<String>,
    #[serde(rename = "Marker", default)]
    marker: Option<String>,
}

#[derive(Deserialize)]
struct PolicyNameList {
    #[serde(rename = "member", default)]
    member: Vec<String>,
}

/// Reads an IAM ListUserPolicies or ListRolePolicies response: the names,
/// and the marker for the next page when the list is truncated.
pub(super) fn policy_names(body: &[u8]) -> Result<(Vec<String>, Option<String>), String> {
    let doc: PolicyNamesResponse = parse(body)?;
    let r = doc.result;
    let names = r
        .names
        .map(|l| l.member.into_iter().map(|n| n.trim().to_string()).collect())
        .unwrap_or_default();
    let more = r.truncated.is_some_and(|t| t.trim() == "true");
    Ok((
        names,
        r.marker.filter(|_| more).map(|m| m.trim().to_string()),
    ))
}

/// `%XX` escapes decoded (a `+` stays a `+`: IAM encodes a space as `%20`).
pub(super) fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "the policy document has a bad %-escape".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the policy document is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/aws")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn federation_token() {
        let t = sts_token(Kind::Federation, &fixture("moto-get-federation-token.xml")).unwrap();
        assert_eq!(t.kind(), Kind::Federation);
        assert_eq!(t.access_key_id(), "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(t.secret_access_key().expose_secret(), SECRET);
        assert!(t
            .session_token()
            .unwrap()
            .expose_secret()
            .starts_with("AQoDYXdzEPT//////////wEXAMPLE"));
        assert_eq!(
            t.expiration(),
            clock::parse_rfc3339("2026-11-26T18:58:16.304733Z")
        );
        let u = t.federated_user().unwrap();
        assert_eq!(
            u.arn,
            "arn:aws:sts::123456789012:federated-user/TemporaryUser"
        );
        assert_eq!(u.federated_user_id, "123456789012:TemporaryUser");
        assert_eq!(t.packed_policy_size(), Some(6));
        assert!(t.assumed_role_user().is_none());
        let d = format!("{t:?}");
        assert!(!d.contains("EXAMPLEKEY") && !d.contains("AQoDYXdz"), "{d}");
    }

    #[test]
    fn aws_documentation_example_with_wrapped_secrets() {
        let t = sts_token(
            Kind::Federation,
            &fixture("aws-doc-get-federation-token.xml"),
        )
        .unwrap();
        assert_eq!(t.secret_access_key().expose_secret(), SECRET);
        let token = t.session_token().unwrap().expose_secret();
        assert!(!token.contains(char::is_whitespace), "{}", token.len());
        assert!(token.ends_with("CEXAMPLE=="));
        assert_eq!(
            t.arn(),
            Some("arn:aws:sts::123456789012:federated-user/Bob")
        );
        assert_eq!(
            t.expiration(),
            clock::parse_rfc3339("2011-07-15T23:28:33.359Z")
        );
    }

    #[test]
    fn session_and_role_tokens() {
        let t = sts_token(Kind::Session, &fixture("moto-get-session-token.xml")).unwrap();
        assert_eq!(t.kind(), Kind::Session);
        assert!(t.federated_user().is_none() && t.packed_policy_size().is_none());
        assert!(t.expiration().is_some());

        let t = sts_token(Kind::Role, &fixture("moto-assume-role.xml")).unwrap();
        let u = t.assumed_role_user().unwrap();
        assert_eq!(
            u.arn,
            "arn:aws:sts::123456789012:assumed-role/demo/handoff-test"
        );
        assert_eq!(u.assumed_role_id, "AROA3X42LBCDO84VJ6ZTJ:handoff-test");
        assert_eq!(t.packed_policy_size(), Some(6));
    }

    #[test]
    fn malformed_sts_answers_say_what_is_wrong_without_values() {
        let good = String::from_utf8(fixture("moto-get-federation-token.xml")).unwrap();
        let cases = [
            ("", "empty"),
            ("<html>nope</html>", "missing"),
            (
                "<GetFederationTokenResponse><GetFederationTokenResult>",
                "ill-formed",
            ),
            (
                &good.replace("<PackedPolicySize>6<", "<PackedPolicySize>six<"),
                "PackedPolicySize is not a number",
            ),
            (
                &good.replace("2026-11-26T18:58:16.304733Z", "tomorrow"),
                "Expiration",
            ),
            (
                &good.replace("2026-11-26T18:58:16.304733Z", "9999-12-31T23:59:59-23:59"),
                "from 1970 to 9999 UTC",
            ),
            (
                &good.replace(
                    "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>",
                    "",
                ),
                "SecretAccessKey",
            ),
            (
                &good.replace(
                    "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>",
                    "<SecretAccessKey></SecretAccessKey>",
                ),
                "SecretAccessKey",
            ),
            (&good.replace("</Credentials>", ""), ""),
        ];
        for (body, want) in cases {
            let e = sts_token(Kind::Federation, body.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(!e.contains("EXAMPLEKEY") && !e.contains("AQoDYXdz"), "{e}");
        }
        assert!(sts_token(Kind::Federation, b"\xff\xfe").is_err());
    }

    #[test]
    fn answers_that_are_not_the_xml_expected_are_described_not_quoted() {
        let good = String::from_utf8(fixture("moto-get-federation-token.xml")).unwrap();
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let cases = [
            (
                format!(r#"{{"SecretAccessKey":"{secret}"}}"#),
                "expected XML, got JSON",
            ),
            (
                format!("\u{feff}\n [\"{secret}\"]"),
                "expected XML, got JSON",
            ),
            (
                format!("SecretAccessKey={secret}"),
                "expected XML, got something else",
            ),
            (
                good.replace(secret, "wJalrXUtnFEMI&secretentity;EXAMPLEKEY"),
                "ill-formed XML: an unknown entity",
            ),
            (
                good.replace(secret, "wJalrXUtnFEMI&#xZZ;EXAMPLEKEY"),
                "ill-formed XML",
            ),
            (
                good.replace(
                    "</AccessKeyId>",
                    &format!("</AccessKeyId><{}>", "K".repeat(30)),
                ),
                "",
            ),
            (
                good.replace("<SessionToken>", "<SessionToken><AQoDYXdzEPTsecret a=>"),
                "",
            ),
        ];
        for (body, want) in cases {
            for e in [
                sts_token(Kind::Federation, body.as_bytes()).unwrap_err(),
                caller_identity(body.as_bytes()).unwrap_err(),
                // to_json takes any well-formed XML.
                to_json(body.as_bytes()).err().unwrap_or_default(),
            ] {
                for leaked in [
                    "wJalrXUtnFEMI",
                    "EXAMPLEKEY",
                    "secretentity",
                    "AQoDYXdz",
                    "KKKK",
                ] {
                    assert!(!e.contains(leaked), "{e:?} quotes {leaked}");
                }
            }
            let e = sts_token(Kind::Federation, body.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        }
    }

    #[test]
    fn caller_identity_answer() {
        let c = caller_identity(&fixture("moto-get-caller-identity.xml")).unwrap();
        assert_eq!(
            c,
            CallerIdentity {
                account: "123456789012".into(),
                arn: "arn:aws:sts::123456789012:user/moto".into(),
                user_id: "AIDACKCEVSQ6C2EXAMPLE".into(),
            }
        );
    }

    #[test]
    fn error_documents() {
        let cases = [
            (
                "aws-doc-error-sts.xml",
                "ExpiredToken",
                "The security token included in the request is expired",
                Some("4c8f4d52-4aee-11e9-9d4d-0b2e1a0EXAMPLE"),
            ),
            (
                "moto-error-ec2-invalid-ami.xml",
                "InvalidAMIID.NotFound",
                "The image id '[ami-nosuch]' does not exist",
                Some("request-id"),
            ),
            (
                "moto-error-signature.xml",
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match",
                None,
            ),
            (
                "moto-error-invalid-client-token.xml",
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
                None,
            ),
            (
                "moto-error-ec2-unauthorized.xml",
                "AccessDenied",
                "is not authorized to perform: ec2:DescribeImages",
                None,
            ),
        ];
        for (file, code, message, request_id) in cases {
            let e = aws_error(&fixture(file)).unwrap_or_else(|| panic!("{file}"));
            assert_eq!(e.code, code, "{file}");
            assert!(e.message.contains(message), "{file}: {}", e.message);
            assert_eq!(e.request_id.as_deref(), request_id, "{file}");
        }
        let s3 = b"<Error><Code>SlowDown</Code><Message>Reduce your rate</Message><RequestId>r1</RequestId></Error>";
        let e = aws_error(s3).unwrap();
        assert_eq!(
            (e.code.as_str(), e.request_id.as_deref()),
            ("SlowDown", Some("r1"))
        );
        for not in [
            &b""[..],
            b"<html><body>502 Bad Gateway</body></html>",
            b"not xml at all",
            &fixture("moto-get-caller-identity.xml"),
        ] {
            assert_eq!(aws_error(not), None);
        }
    }

    #[test]
    fn ec2_typed_answers() {
        let images = images(&fixture("moto-describe-images-self.xml")).unwrap();
        assert_eq!(images.len(), 1);
        let i = &images[0];
        assert_eq!(i.image_id, "ami-2b4ebaa503f43e864");
        assert_eq!(i.name.as_deref(), Some("handoff-test-image"));
        assert_eq!(i.description.as_deref(), Some("made by the test"));
        assert_eq!(i.owner_id, "123456789012");
        assert_eq!(i.state, "available");
        assert_eq!(i.architecture.as_deref(), Some("x86_64"));
        assert!(!i.public);
        assert!(i.tags.is_empty());

        let zones = availability_zones(&fixture("moto-describe-availability-zones.xml")).unwrap();
        assert_eq!(zones.len(), 6);
        assert_eq!(zones[0].zone_name, "us-east-1a");
        assert_eq!(zones[0].state, "available");
        assert_eq!(zones[0].region_name, "us-east-1");
        assert_eq!(zones[0].zone_id.as_deref(), Some("use1-az6"));

        let regions = regions(&fixture("moto-describe-regions.xml")).unwrap();
        assert!(regions.len() > 10);
        let r = regions
            .iter()
            .find(|r| r.region_name == "eu-west-1")
            .unwrap();
        assert_eq!(r.endpoint, "ec2.eu-west-1.amazonaws.com");

        let empty = b"<DescribeImagesResponse><requestId>r</requestId><imagesSet/></DescribeImagesResponse>";
        assert!(super::images(empty).unwrap().is_empty());
        let none = b"<DescribeImagesResponse><requestId>r</requestId></DescribeImagesResponse>";
        assert!(super::images(none).unwrap().is_empty());
        assert!(super::images(b"<DescribeImagesResponse><imagesSet><item>").is_err());
    }

    #[test]
    fn any_answer_as_json() {
        let v = to_json(&fixture("moto-describe-images-self.xml")).unwrap();
        assert_eq!(v["RequestId"], "request-id");
        let images = v["ImagesSet"].as_array().unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0]["ImageId"], "ami-2b4ebaa503f43e864");
        assert_eq!(images[0]["IsPublic"], "false");
        assert_eq!(images[0]["TagSet"], serde_json::json!([]));
        assert_eq!(images[0]["ProductCodes"], "");
        assert_eq!(
            images[0]["BlockDeviceMapping"][0]["Ebs"]["VolumeSize"],
            "15"
        );
        let text = v.to_string();
        assert!(
            !text.contains("xmlns") && !text.contains("\"item\""),
            "{text}"
        );

        let v = to_json(&fixture("moto-describe-availability-zones.xml")).unwrap();
        let zones = v["AvailabilityZoneInfo"].as_array().unwrap();
        assert_eq!(zones.len(), 6);
        assert_eq!(zones[5]["ZoneName"], "us-east-1f");
        assert_eq!(zones[5]["MessageSet"], serde_json::json!([]));

        // Entities, CDATA, comments, repeated elements.
        let v = to_json(
            b"<?xml version=\"1.0\"?><R xmlns=\"x\"><!-- c --><a>&lt;b&gt; &amp; &#65;&#x42;</a>\
              <c><![CDATA[<raw>]]></c><d>1</d><d>2</d><d>3</d><e><item><f>x</f></item></e></R>",
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"A": "<b> & AB", "C": "<raw>", "D": ["1", "2", "3"], "E": [{"F": "x"}]})
        );
        assert_eq!(
            to_json(b"<R><e><item>1</item></e><e><item>2</item></e></R>").unwrap(),
            serde_json::json!({"E": [["1"], ["2"]]})
        );
        assert_eq!(to_json(b"<R/>").unwrap(), serde_json::json!({}));

        for bad in [
            &b""[..],
            b"<a><b></a>",
            b"<a>",
            b"<a/><b/>",
            b"<a>&nosuch;</a>",
            b"\xff",
        ] {
            assert!(to_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(to_json(deep.as_bytes()).unwrap_err().contains("deeply"));
    }

    #[test]
    fn to_json_roots() {
        // One root, given either as an empty element or as start and end;
        // a second root of either kind is refused, not put in its place.
        for two in [
            &b"<a/><b/>"[..],
            b"<a></a><b/>",
            b"<a/><b></b>",
            b"<a></a><b></b>",
        ] {
            assert_eq!(
                to_json(two).unwrap_err(),
                "the response has more than one root element",
                "{}",
                String::from_utf8_lossy(two)
            );
        }
        // A root with nothing in it is an empty object; a root of text is
        // that text.
        for empty in [&b"<R/>"[..], b"<R></R>", b"<R> \n </R>"] {
            assert_eq!(to_json(empty).unwrap(), serde_json::json!({}));
        }
        assert_eq!(to_json(b"<R>ok</R>").unwrap(), serde_json::json!("ok"));
    }

    #[test]
    fn deserializer_errors_in_our_words() {
        use quick_xml::DeError;
        let custom = |s: &str| de_error(&DeError::Custom(s.into()));
        // serde's own messages naming one of our fields pass through.
        assert_eq!(custom("missing field `Arn`"), "missing field `Arn`");
        assert_eq!(custom("duplicate field `Arn`"), "duplicate field `Arn`");
        // Up to 64 bytes, no further.
        let at_64 = format!("missing field `{}`", "A".repeat(64 - 16));
        assert_eq!(at_64.len(), 64);
        assert_eq!(custom(&at_64), at_64);
        let at_65 = format!("missing field `{}`", "A".repeat(65 - 16));
        assert_eq!(custom(&at_65), "not the expected document");
        // Anything else may quote a value.
        for other in [
            "missing field `Arn` near SECRET",
            "invalid value: `SECRET`",
            "missing field SECRET",
            "unknown variant `SECRET`",
        ] {
            assert_eq!(custom(other), "not the expected document", "{other}");
        }
        assert_eq!(
            de_error(&DeError::UnexpectedEof),
            "ill-formed XML: the document ends early"
        );
        assert_eq!(
            de_error(&DeError::TooDeeplyNested(3)),
            "the response nests too deeply"
        );
    }

    #[test]
    fn iam_answers() {
        // IAM's documented GetUserPolicy example answer.
        let body = br#"<GetUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetUserPolicyResult>
    <UserName>Bob</UserName>
    <PolicyName>AllAccessPolicy</PolicyName>
    <PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D</PolicyDocument>
  </GetUserPolicyResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</GetUserPolicyResponse>"#;
        assert_eq!(
            inline_policy(body).unwrap(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        );
        let role = b"<GetRolePolicyResponse><GetRolePolicyResult><PolicyDocument>a%20b+c</PolicyDocument></GetRolePolicyResult></GetRolePolicyResponse>";
        assert_eq!(inline_policy(role).unwrap(), "a b+c");
        let bad = b"<GetRolePolicyResponse><GetRolePolicyResult><PolicyDocument>%zz</PolicyDocument></GetRolePolicyResult></GetRolePolicyResponse>";
        assert!(inline_policy(bad).is_err());
        let list = b"<ListUserPoliciesResponse><ListUserPoliciesResult><PolicyNames><member>a</member><member>b</member></PolicyNames><IsTruncated>true</IsTruncated><Marker>m1</Marker></ListUserPoliciesResult></ListUserPoliciesResponse>";
        assert_eq!(
            policy_names(list).unwrap(),
            (
                vec!["a".to_string(), "b".to_string()],
                Some("m1".to_string())
            )
        );
        let doc = inline_policy(&fixture("iam-get-user-policy.xml")).unwrap();
        assert!(doc.starts_with(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny""#));
        assert!(
            doc.contains(r#""aws:userid":["123456789012:ws-alice"]"#),
            "{doc}"
        );
        assert_eq!(
            policy_names(&fixture("iam-list-user-policies.xml")).unwrap(),
            (
                vec!["handoff-revoked".to_string(), "mint".to_string()],
                None
            )
        );
        let empty = b"<ListRolePoliciesResponse><ListRolePoliciesResult><PolicyNames/><IsTruncated>false</IsTruncated></ListRolePoliciesResult></ListRolePoliciesResponse>";
        assert_eq!(policy_names(empty).unwrap(), (vec![], None));
    }

    #[test]
    fn long_messages_are_cut_between_characters() {
        // quick-xml quotes element names in its messages: multi-byte names
        // put every byte offset around the cut inside some character.
        for n in 60..70 {
            let name = "é".repeat(n);
            let body =
                format!("<GetCallerIdentityResponse><{name}></x></GetCallerIdentityResponse>");
            assert!(caller_identity(body.as_bytes()).is_err());
            assert!(to_json(body.as_bytes()).is_err());
            let body =
                format!("<GetCallerIdentityResponse><{name} a=></GetCallerIdentityResponse>");
            assert!(caller_identity(body.as_bytes()).is_err());
            assert!(to_json(body.as_bytes()).is_err());
        }
    }

    #[test]
    fn error_codes_and_messages_are_bounded() {
        let body = format!(
            "<ErrorResponse><Error><Code>{}</Code><Message>{}</Message></Error></ErrorResponse>",
            "C".repeat(1000),
            "ü".repeat(5000)
        );
        let e = aws_error(body.as_bytes()).unwrap();
        assert_eq!(e.code.len(), MAX_CODE);
        assert_eq!(e.message.len(), MAX_MESSAGE);
        // A cut that ends on a space leaves no space at the end.
        let body = format!(
            "<Response><Errors><Error><Code>{} y</Code></Error></Errors></Response>",
            "C".repeat(127)
        );
        assert_eq!(aws_error(body.as_bytes()).unwrap().code, "C".repeat(127));
    }
}
