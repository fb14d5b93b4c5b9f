//! Signing in to the AWS console with a token's credentials (feature `aws`).
//!
//! The IAM User Guide's custom identity broker flow ("Enable custom identity
//! broker access to the AWS console"), made for the person who was handed a
//! token and has no other way in:
//!
//! 1. One GET of the partition's federation endpoint,
//!    `federation?Action=getSigninToken&Session=<JSON>[&SessionDuration=N]`,
//!    where the JSON is exactly `{"sessionId", "sessionKey",
//!    "sessionToken"}` of the credentials. It answers `{"SigninToken":
//!    "..."}`.
//! 2. The sign-in URL, `federation?Action=login&Issuer=handoff&Destination=
//!    <console URL>&SigninToken=...`, signs a browser in, once, within 15
//!    minutes. [`signin_url`] returns it as a [`SecretString`]: it is never
//!    printed, logged or put in an error.
//!
//! Only federation and role tokens can sign in: AWS refuses GetSessionToken
//! credentials, and long-term keys cannot be federated. [`check_token`]
//! refuses the others before any request. `SessionDuration` (15 minutes to
//! 12 hours, default 1 hour, never past the credentials' own expiry) is sent
//! for role tokens only; a federation token's console session lasts as long
//! as the token ([`session_duration`]).
//!
//! The hosts follow the region's partition ([`partition`]): the regional
//! `REGION.signin.aws.amazon.com` (as granted does; `signin.aws.amazon.com`
//! for `us-east-1` and when there is no region), `signin.amazonaws.cn` for
//! `cn-*` and `signin.amazonaws-us-gov.com` for `us-gov-*`; the console
//! `Destination` follows the partition too. [`Options::signin_endpoint`] or
//! `HANDOFF_SIGNIN_ENDPOINT` replaces the host, for tests and private
//! partitions.
//!
//! ```no_run
//! use handoff::recipient::console::{signin_url, Options};
//! # fn token() -> handoff::Token { unimplemented!() }
//! let token = token(); // opened with handoff::open
//! let options = Options { service: Some("ec2".into()), ..Options::default() };
//! let url = signin_url(&token, &options)?;
//! handoff::recipient::console::open_in_browser(&url)?;
//! # Ok::<(), handoff::Error>(())
//! ```

use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::aws::config::{check_endpoint, check_region};
use crate::documents::environment::env_var;
use crate::{clock, Credentials, Error, ErrorKind, Kind, Result, Token};

/// The shortest console session AWS grants a role token: 15 minutes.
pub const MIN_SESSION_DURATION: Duration = Duration::from_secs(900);
/// The longest: 12 hours.
pub const MAX_SESSION_DURATION: Duration = Duration::from_secs(43_200);
/// What a role token's console session lasts unless told: 1 hour (AWS's
/// own default when `SessionDuration` is left out).
pub const DEFAULT_SESSION_DURATION: Duration = Duration::from_secs(3600);
/// The environment variable that replaces the sign-in endpoint.
pub const SIGNIN_ENDPOINT_VARIABLE: &str = "HANDOFF_SIGNIN_ENDPOINT";
/// The `Issuer` of the sign-in URL.
pub const ISSUER: &str = "handoff";
/// The most of an answer to getSigninToken that is read: 64 KiB. AWS's is
/// `{"SigninToken": "..."}` with a token of a kilobyte or two.
pub const MAX_ANSWER: usize = 64 << 10;
/// The longest sign-in token accepted: 16 KiB.
pub const MAX_SIGNIN_TOKEN: usize = 16 << 10;
/// The longest getSigninToken request URL sent: 32 KiB (a session token of
/// a few kilobytes, percent-encoded, fits many times over).
pub const MAX_REQUEST: usize = 32 << 10;
/// The longest `--destination` accepted.
const MAX_DESTINATION: usize = 2048;

/// Region prefixes of partitions with no public console sign-in (the ISO
/// partitions and the European Sovereign Cloud).
const NO_PUBLIC_SIGNIN: &[&str] = &["us-iso-", "us-isob-", "us-isof-", "eu-isoe-", "eusc-"];

/// The hosts of one AWS partition, for one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The partition: `aws`, `aws-cn`, `aws-us-gov`.
    pub name: &'static str,
    /// The host of the federation endpoint.
    pub signin_host: String,
    /// The console's base URL, ending in `/`.
    pub console: String,
}

/// The sign-in host and console of `region`'s partition, or `None` for a
/// partition with no public console sign-in (`us-iso-*`, `us-isob-*`,
/// `us-isof-*`, `eu-isoe-*`, `eusc-*`).
///
/// | region | sign-in host | console |
/// | --- | --- | --- |
/// | none | `signin.aws.amazon.com` | `https://console.aws.amazon.com/` |
/// | `us-east-1` | `signin.aws.amazon.com` | `https://us-east-1.console.aws.amazon.com/` |
/// | `eu-west-1` (any other) | `eu-west-1.signin.aws.amazon.com` | `https://eu-west-1.console.aws.amazon.com/` |
/// | `cn-*` | `signin.amazonaws.cn` | `https://console.amazonaws.cn/` |
/// | `us-gov-*` | `signin.amazonaws-us-gov.com` | `https://console.amazonaws-us-gov.com/` |
///
/// The regional hosts of the `aws` partition are what granted uses (its
/// `partition.go`, with the global host for `us-east-1`); aws-vault sends
/// every commercial sign-in to `us-east-1.signin.aws.amazon.com`. China
/// and GovCloud have one sign-in host each, as both tools use.
pub fn partition(region: Option<&str>) -> Option<Partition> {
    let p = |name, signin_host: String, console: String| {
        Some(Partition {
            name,
            signin_host,
            console,
        })
    };
    match region {
        None => p(
            "aws",
            "signin.aws.amazon.com".into(),
            "https://console.aws.amazon.com/".into(),
        ),
        Some(r) if NO_PUBLIC_SIGNIN.iter().any(|p| r.starts_with(p)) => None,
        Some(r) if r.starts_with("cn-") => p(
            "aws-cn",
            "signin.amazonaws.cn".into(),
            "https://console.amazonaws.cn/".into(),
        ),
        Some(r) if r.starts_with("us-gov-") => p(
            "aws-us-gov",
            "signin.amazonaws-us-gov.com".into(),
            "https://console.amazonaws-us-gov.com/".into(),
        ),
        Some("us-east-1") => p(
            "aws",
            "signin.aws.amazon.com".into(),
            "https://us-east-1.console.aws.amazon.com/".into(),
        ),
        Some(r) => p(
            "aws",
            format!("{r}.signin.aws.amazon.com"),
            format!("https://{r}.console.aws.amazon.com/"),
        ),
    }
}

/// The console pages `--service` names: the name, its path under the
/// console, and whether the page takes the region (global services do not).
const SERVICES: &[(&str, &str, bool)] = &[
    ("apigateway", "apigateway/home", true),
    ("athena", "athena/home", true),
    ("billing", "billing/home", false),
    ("cloudformation", "cloudformation/home", true),
    ("cloudfront", "cloudfront/v4/home", false),
    ("cloudtrail", "cloudtrail/home", true),
    ("cloudwatch", "cloudwatch/home", true),
    ("dynamodb", "dynamodbv2/home", true),
    ("ec2", "ec2/home", true),
    ("ecr", "ecr/home", true),
    ("ecs", "ecs/v2/home", true),
    ("eks", "eks/home", true),
    ("glue", "glue/home", true),
    ("iam", "iam/home", false),
    ("kms", "kms/home", true),
    ("lambda", "lambda/home", true),
    ("organizations", "organizations/v2/home", false),
    ("rds", "rds/home", true),
    ("route53", "route53/v2/home", false),
    ("s3", "s3/home", true),
    ("sagemaker", "sagemaker/home", true),
    ("secretsmanager", "secretsmanager/home", true),
    ("sns", "sns/v3/home", true),
    ("sqs", "sqs/v3/home", true),
    ("ssm", "systems-manager/home", true),
    ("stepfunctions", "states/home", true),
    ("vpc", "vpcconsole/home", true),
];

/// The names `--service` takes.
pub fn services() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|(name, _, _)| *name)
}

/// The console URL a sign-in lands on: `service`'s page (see [`services`])
/// or the console home, in `partition`'s console, with `?region=R` for a
/// regional page when there is a region. An unknown service is
/// [`ErrorKind::InvalidArgument`].
pub fn destination(
    partition: &Partition,
    region: Option<&str>,
    service: Option<&str>,
) -> Result<String> {
    let (path, regional) = match service {
        None => ("console/home", true),
        Some(name) => match SERVICES.iter().find(|(n, _, _)| *n == name) {
            Some((_, path, regional)) => (*path, *regional),
            None => {
                return Err(Error::usage(format!(
                    "{:?} is not a console service handoff knows ({})",
                    name.chars().take(40).collect::<String>(),
                    services().collect::<Vec<_>>().join(", ")
                )))
            }
        },
    };
    Ok(match region {
        Some(r) if regional => format!("{}{path}?region={r}", partition.console),
        _ => format!("{}{path}", partition.console),
    })
}

/// What [`signin_url`] is asked for. Everything left `None` has a default.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The region of the console and of the sign-in host. Else the token's
    /// region, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else none (the
    /// global hosts).
    pub region: Option<String>,
    /// Where the console opens: an `https://` console URL. Else the page of
    /// [`Options::service`], else the console home.
    pub destination: Option<String>,
    /// A console page by name ([`services`]), for the region.
    pub service: Option<String>,
    /// Role tokens only: how long the console session lasts
    /// ([`MIN_SESSION_DURATION`] to [`MAX_SESSION_DURATION`], default
    /// [`DEFAULT_SESSION_DURATION`]), cut to the credentials' own expiry.
    pub session_duration: Option<Duration>,
    /// The federation endpoint, replacing the partition's: `http(s)://HOST
    /// [:PORT][/PATH]`, `/federation` when no path is given. Else
    /// `HANDOFF_SIGNIN_ENDPOINT`, else the partition's.
    pub signin_endpoint: Option<String>,
    /// Say on stderr which endpoint is asked and with what duration (never
    /// the request's query, the answer or the URL).
    pub verbose: bool,
}

impl Options {
    /// Checks what was given, without reading anything: a region that is
    /// not a region name, both a destination and a service, a destination
    /// that is not an `https://` URL, an unknown service, a sign-in endpoint
    /// that is not an http(s) URL, a session duration outside 15 minutes to
    /// 12 hours. Each is [`ErrorKind::InvalidArgument`]. [`signin_url`] checks the same.
    pub fn check(&self) -> Result<()> {
        if let Some(r) = &self.region {
            check_region(r)?;
        }
        if self.destination.is_some() && self.service.is_some() {
            return Err(Error::usage("give a destination or a service, not both"));
        }
        if let Some(d) = &self.destination {
            check_destination(d).map_err(|e| Error::usage(format!("destination {e}")))?;
        }
        if let Some(s) = &self.service {
            let any = partition(None).ok_or_else(|| Error::other("no partition"))?;
            destination(&any, None, Some(s))?;
        }
        if let Some(e) = &self.signin_endpoint {
            check_endpoint(e)?;
        }
        if let Some(d) = self.session_duration {
            check_session_duration(d)?;
        }
        Ok(())
    }
}

fn check_session_duration(d: Duration) -> Result<()> {
    if (MIN_SESSION_DURATION..=MAX_SESSION_DURATION).contains(&d) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "the console session duration must be from 15m to 12h (900 to 43200 seconds), not {} s",
            d.as_secs()
        )))
    }
}

/// A destination is an `https://` URL with a host, no user name or
/// password, and at most 2048 characters. Else [`ErrorKind::InvalidArgument`]
/// saying `"URL" why`.
pub fn check_destination(d: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::usage(format!(
            "{:?} {why}",
            d.chars().take(80).collect::<String>()
        ))
    };
    if d.len() > MAX_DESTINATION {
        return Err(bad(&format!("is longer than {MAX_DESTINATION} characters")));
    }
    let url = reqwest::Url::parse(d).map_err(|_| bad("is not a URL"))?;
    if url.scheme() != "https" {
        return Err(bad("must start with https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    Ok(())
}

/// Refuses, before any request, a token AWS would not sign in with: a
/// `session` token (GetSessionToken credentials; AWS refuses them for
/// console sign-in), a `static` one (long-term keys cannot be federated),
/// and one without a session token: [`ErrorKind::Other`], saying what the
/// token is.
pub fn check_token(token: &Token) -> Result<()> {
    let what = match token.kind() {
        Kind::Federation | Kind::Role if token.session_token().is_some() => return Ok(()),
        Kind::Federation | Kind::Role => "this one has no session token",
        Kind::Session => "this is a session token (GetSessionToken), which AWS does not accept for console sign-in",
        Kind::Static => "this one holds long-term access keys, which cannot sign in to the console",
    };
    Err(Error::other(format!(
        "handoff console needs a federation or role token: {what}"
    )))
}

/// The `SessionDuration` sent for `token`: `None` for a federation token
/// (its console session lasts as long as the token; asking for a duration
/// is [`ErrorKind::InvalidArgument`]), and for a role token `requested` (else 1 hour),
/// cut to the time the credentials have left. A role token with less than
/// 15 minutes left cannot open a console session that ends with it:
/// [`ErrorKind::Other`].
pub fn session_duration(token: &Token, requested: Option<Duration>) -> Result<Option<Duration>> {
    session_duration_at(token, requested, clock::now())
}

fn session_duration_at(
    token: &Token,
    requested: Option<Duration>,
    now: SystemTime,
) -> Result<Option<Duration>> {
    if let Some(d) = requested {
        check_session_duration(d)?;
    }
    if token.kind() != Kind::Role {
        return match requested {
            None => Ok(None),
            Some(_) => Err(Error::usage(
                "a console session duration applies to role tokens only: a federation token's console session lasts as long as the token",
            )),
        };
    }
    let want = requested.unwrap_or(DEFAULT_SESSION_DURATION);
    let Some(expires) = token.expiration() else {
        return Ok(Some(want));
    };
    let left = Duration::from_secs(
        expires
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .as_secs(),
    );
    if left < MIN_SESSION_DURATION {
        let when = if left.is_zero() {
            "have expired".to_string()
        } else {
            format!("expire in {}", clock::human(left))
        };
        return Err(Error::other(format!(
            "the role credentials {when}: a console session lasts at least 15 minutes and would outlive them\nask the sender for a fresh token"
        )));
    }
    Ok(Some(want.min(left)))
}

/// The region a sign-in is for: `options.region`, else the token's, else
/// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
fn region(
    token: &Token,
    options: &Options,
    env: &dyn Fn(&str) -> Result<Option<String>>,
) -> Result<Option<String>> {
    if let Some(r) = &options.region {
        check_region(r)?;
        return Ok(Some(r.clone()));
    }
    if let Some(r) = token.region() {
        // The token's fields are input, not arguments: exit 3, not 2.
        check_region(r).map_err(|_| {
            Error::not_a_token(format!(
                "the token's Region {:?} is not a region name (like us-east-1)",
                r.chars().take(40).collect::<String>()
            ))
        })?;
        return Ok(Some(r.to_string()));
    }
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = env(name)? {
            let r = r.trim().to_string();
            check_region(&r)?;
            return Ok(Some(r));
        }
    }
    Ok(None)
}

/// The cause of the [`ErrorKind::InvalidArgument`] [`signin_url`] gives for
/// a region in a partition with no public console sign-in (and no
/// sign-in endpoint or destination given for it): its
/// [`source`](std::error::Error::source), so that a caller can say how to
/// give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPublicSignin;

impl std::fmt::Display for NoPublicSignin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no public console sign-in")
    }
}

impl std::error::Error for NoPublicSignin {}

/// Everything [`signin_url`] decides before its request.
struct Plan {
    /// The federation endpoint, without a query.
    endpoint: String,
    /// Where it came from, for `verbose`.
    endpoint_source: String,
    destination: String,
    duration: Option<Duration>,
    /// The getSigninToken URL: a secret (its query holds the credentials).
    request: Zeroizing<String>,
}

/// The request's query holds the credentials: left out.
impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("endpoint", &self.endpoint)
            .field("endpoint_source", &self.endpoint_source)
            .field("destination", &self.destination)
            .field("duration", &self.duration)
            .finish_non_exhaustive()
    }
}

fn plan(
    token: &Token,
    options: &Options,
    env: &dyn Fn(&str) -> Result<Option<String>>,
    now: SystemTime,
) -> Result<Plan> {
    options.check()?;
    check_token(token)?;
    let duration = session_duration_at(token, options.session_duration, now)?;
    let region = region(token, options, env)?;
    let part = partition(region.as_deref());
    let no_console = || {
        Error::usage(format!(
            "region {} is in a partition with no public console sign-in",
            region.as_deref().unwrap_or("")
        ))
        .with_source(NoPublicSignin)
    };
    let destination = match (&options.destination, &part) {
        (Some(d), _) => d.clone(),
        (None, Some(p)) => destination(p, region.as_deref(), options.service.as_deref())?,
        (None, None) => return Err(no_console()),
    };
    let (endpoint, endpoint_source) =
        match (&options.signin_endpoint, env(SIGNIN_ENDPOINT_VARIABLE)?) {
            (Some(e), _) => (
                federation_url(&check_endpoint(e)?),
                "--signin-endpoint".to_string(),
            ),
            (None, Some(e)) => (
                federation_url(&check_endpoint(&e)?),
                SIGNIN_ENDPOINT_VARIABLE.to_string(),
            ),
            (None, None) => {
                let p = part.as_ref().ok_or_else(no_console)?;
                let source = match &region {
                    Some(r) => format!("the {} sign-in host for {r}", p.name),
                    None => "the global sign-in host (no region)".to_string(),
                };
                (format!("https://{}/federation", p.signin_host), source)
            }
        };
    let request = request_url(&endpoint, token.credentials(), duration)?;
    Ok(Plan {
        endpoint,
        endpoint_source,
        destination,
        duration,
        request,
    })
}

/// An endpoint as [`check_endpoint`] returns it (with at least `/` as its
/// path), with `federation` added when it names no path of its own.
fn federation_url(endpoint: &str) -> String {
    if endpoint.ends_with('/') {
        format!("{endpoint}federation")
    } else {
        endpoint.to_string()
    }
}

/// The `Session` parameter: exactly these three keys.
#[derive(serde::Serialize)]
struct Session<'a> {
    #[serde(rename = "sessionId")]
    id: &'a str,
    #[serde(rename = "sessionKey")]
    key: &'a str,
    #[serde(rename = "sessionToken")]
    token: &'a str,
}

/// `endpoint?Action=getSigninToken&Session=<JSON>[&SessionDuration=N]`, in
/// a zeroizing buffer; refused past [`MAX_REQUEST`].
fn request_url(
    endpoint: &str,
    credentials: &Credentials,
    duration: Option<Duration>,
) -> Result<Zeroizing<String>> {
    let token = credentials
        .session_token()
        .ok_or_else(|| Error::other("the token has no session token to sign in with"))?;
    let session = Session {
        id: credentials.access_key_id(),
        key: credentials.secret_access_key().expose_secret(),
        token: token.expose_secret(),
    };
    let json = Zeroizing::new(
        serde_json::to_string(&session)
            .map_err(|_| Error::other("cannot write the sign-in request"))?,
    );
    let mut out = Zeroizing::new(Vec::with_capacity(
        endpoint.len() + 80 + json.len().saturating_mul(3),
    ));
    out.extend_from_slice(endpoint.as_bytes());
    out.extend_from_slice(b"?Action=getSigninToken&Session=");
    crate::aws::percent_encode(&json, &mut out);
    if let Some(d) = duration {
        out.extend_from_slice(format!("&SessionDuration={}", d.as_secs()).as_bytes());
    }
    if out.len() > MAX_REQUEST {
        return Err(Error::other(format!(
            "the credentials are too long for a sign-in request ({} bytes; at most {MAX_REQUEST})",
            out.len()
        )));
    }
    ascii(out)
}

/// Bytes made only of ASCII (percent-encoded) as a zeroizing string.
fn ascii(bytes: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>> {
    let mut bytes = bytes;
    if !bytes.is_ascii() {
        return Err(Error::other("cannot write the sign-in URL"));
    }
    let owned = std::mem::take(&mut *bytes);
    String::from_utf8(owned)
        .map(Zeroizing::new)
        .map_err(|_| Error::other("cannot write the sign-in URL"))
}

/// The answer to getSigninToken, read strictly: a JSON object whose
/// `SigninToken` is a string of 1 to [`MAX_SIGNIN_TOKEN`] printable ASCII
/// characters (other keys are ignored; a repeated `SigninToken` is
/// refused). The refusal says what is wrong, never what the answer holds.
fn parse_answer(body: &[u8]) -> std::result::Result<SecretString, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "SigninToken")]
        signin_token: String,
    }
    // serde's derive would also take a one-element array for the struct.
    let first = body.iter().find(|b| !b" \t\r\n".contains(b));
    if first.is_some_and(|b| *b != b'{') {
        return Err("not an object with one SigninToken string".into());
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "not an object with one SigninToken string",
            serde_json::error::Category::Eof => "cut off",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => "not JSON",
        };
        format!("{what} (line {}, column {})", e.line(), e.column())
    })?;
    let token = SecretString::from(answer.signin_token);
    let t = token.expose_secret();
    if t.is_empty() {
        return Err("the SigninToken is empty".into());
    }
    if t.len() > MAX_SIGNIN_TOKEN {
        return Err(format!(
            "the SigninToken is longer than {} KiB",
            MAX_SIGNIN_TOKEN >> 10
        ));
    }
    if !t.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err("the SigninToken holds characters other than printable ASCII".into());
    }
    Ok(token)
}

/// What an answer of `status` with `body` from `endpoint` comes to: the
/// sign-in token for a 200 that reads ([`parse_answer`]); a refusal by AWS
/// ([`ErrorKind::Aws`], exit status 5) for a 4xx; anything else, or a 200 that
/// does not read, a transport error ([`Error::is_transport`](crate::Error::is_transport)) (exit status 6). No message quotes
/// the body.
fn read_answer(status: u16, body: &[u8], endpoint: &str) -> Result<SecretString> {
    let transport = |message: String| Error::transport(ErrorKind::Malformed, endpoint, message);
    match status {
        200 => parse_answer(body)
            .map_err(|why| transport(format!("malformed answer to getSigninToken: {why}"))),
        400..=499 => Err(Error::aws(
            format!("HTTP {status}"),
            "the sign-in endpoint refused these credentials (expired or revoked, not federation or role credentials, or a SessionDuration AWS does not allow for them)",
            None,
        )),
        _ => Err(transport(format!(
            "unexpected HTTP {status} answer to getSigninToken"
        ))),
    }
}

/// `endpoint?Action=login&Issuer=handoff&Destination=...&SigninToken=...`.
fn login_url(endpoint: &str, destination: &str, signin: &SecretString) -> Result<SecretString> {
    let token = signin.expose_secret();
    let mut out = Zeroizing::new(Vec::with_capacity(
        endpoint.len() + 64 + destination.len() * 3 + token.len() * 3,
    ));
    out.extend_from_slice(endpoint.as_bytes());
    out.extend_from_slice(b"?Action=login&Issuer=");
    crate::aws::percent_encode(ISSUER, &mut out);
    out.extend_from_slice(b"&Destination=");
    crate::aws::percent_encode(destination, &mut out);
    out.extend_from_slice(b"&SigninToken=");
    crate::aws::percent_encode(token, &mut out);
    let mut url = ascii(out)?;
    Ok(SecretString::from(std::mem::take(&mut *url)))
}

/// The sign-in URL for `token`: checks the token and `options` (no request
/// for a token AWS would refuse, or a bad option), makes the one
/// getSigninToken request, and builds the login URL. The URL signs anyone
/// in to the console for 15 minutes, once: hold it as the secret it is.
///
/// Errors: a `session` or `static` token, or one without a session token,
/// [`ErrorKind::Other`] (exit status 1) before any request; a bad option
/// [`ErrorKind::InvalidArgument`]; a refusal by AWS (4xx) [`ErrorKind::Aws`]; no answer, an
/// unexpected status or an answer that does not read
/// a transport error ([`Error::is_transport`](crate::Error::is_transport)). None of them holds the URL, the request's query,
/// the answer or a credential.
pub fn signin_url(token: &Token, options: &Options) -> Result<SecretString> {
    let plan = plan(token, options, &env_var, clock::now())?;
    if options.verbose {
        let duration = match plan.duration {
            Some(d) => format!("SessionDuration {} s", d.as_secs()),
            None => "no SessionDuration: the session lasts as long as the token".to_string(),
        };
        eprintln!(
            "handoff: signin getSigninToken -> {} (endpoint from {}; {duration}); destination {}",
            plan.endpoint,
            plan.endpoint_source,
            crate::shown(&plan.destination)
        );
    }
    let answer = crate::aws::get_once(&plan.request, &plan.endpoint, MAX_ANSWER)?;
    drop(plan.request);
    let signin = read_answer(answer.status, &answer.body, &plan.endpoint)?;
    login_url(&plan.endpoint, &plan.destination, &signin)
}

/// Opens `url` in a browser: each command of `BROWSER` (`:`-separated, as
/// Python's `webbrowser` and `xdg-open` read it; a `%s` in it is replaced by
/// the URL, else the URL is the last argument), else `xdg-open`, else
/// `open`. Waits for the command and returns its name.
///
/// The URL is in the command's arguments, which other local users can read
/// in the process list while it runs (docs/SECURITY.md); printing it
/// instead avoids that.
///
/// Errors: a command that fails is [`ErrorKind::Other`]; one that cannot be
/// run, or none found (the cause is then an [`std::io::Error`] of kind
/// `NotFound`), [`ErrorKind::Io`] naming the program.
pub fn open_in_browser(url: &SecretString) -> Result<String> {
    let browser = env_var("BROWSER")?;
    let mut tried = Vec::new();
    let mut not_found = None;
    for command in browser_commands(browser.as_deref()) {
        let Some((program, args)) = command.split_first() else {
            continue;
        };
        let mut c = std::process::Command::new(program);
        let mut placed = false;
        for a in args {
            if a.contains("%s") {
                c.arg(a.replace("%s", url.expose_secret()));
                placed = true;
            } else {
                c.arg(a);
            }
        }
        if !placed {
            c.arg(url.expose_secret());
        }
        match c.status() {
            Ok(s) if s.success() => return Ok(program.clone()),
            Ok(s) => {
                return Err(Error::other(format!(
                    "the browser command {} failed ({s})",
                    crate::shown(program)
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tried.push(program.clone());
                not_found = Some(e);
            }
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Io {
                        path: program.into(),
                    },
                    format!(
                        "cannot run the browser command {}: {e}",
                        crate::shown(program)
                    ),
                )
                .with_source(e))
            }
        }
    }
    let message = format!(
        "no browser to open the console in (tried {})",
        crate::shown(&tried.join(", "))
    );
    let path = tried.last().cloned().unwrap_or_default().into();
    let e = Error::new(ErrorKind::Io { path }, message);
    Err(match not_found {
        Some(cause) => e.with_source(cause),
        None => e,
    })
}

/// The commands [`open_in_browser`] tries, in order: `BROWSER`'s, each
/// split on white space, then `xdg-open` and `open`.
fn browser_commands(browser: Option<&str>) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = browser
        .unwrap_or("")
        .split(':')
        .map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|c| !c.is_empty())
        .collect();
    out.push(vec!["xdg-open".into()]);
    out.push(vec!["open".into()]);
    out
}

/// The console's parsers and request, opened for the fuzz target in fuzz/
/// (feature `fuzzing`). Not a stable API: the fuzzer's oracle, which
/// panics, on purpose, when a promise is broken.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// Reads `data` as an answer to getSigninToken under each status, and
    /// builds a request from credentials cut out of it. An answer reads or
    /// is refused in a short message that quotes nothing of it; a request
    /// is refused or holds, once decoded, exactly the three keys equal to
    /// the credentials, within [`MAX_REQUEST`].
    ///
    /// ```
    /// handoff::recipient::console::fuzzing::signin(br#"{"SigninToken": "abc"}"#);
    /// ```
    pub fn signin(data: &[u8]) {
        for status in [200, 302, 400, 403, 500] {
            match read_answer(status, data, "https://signin.example/federation") {
                Ok(t) => {
                    assert_eq!(status, 200);
                    let t = t.expose_secret();
                    assert!(!t.is_empty() && t.len() <= MAX_SIGNIN_TOKEN);
                    let url = login_url(
                        "https://signin.example/federation",
                        "https://c.example/",
                        &SecretString::from(t.to_string()),
                    )
                    .expect("a login URL from a token that read");
                    assert!(url.expose_secret().is_ascii());
                }
                Err(e) => {
                    let m = e.to_string();
                    // handoff's own words only: nothing quoted from the answer
                    assert!(!m.is_empty() && m.len() <= 400, "{m:?}");
                    assert!(!m.contains('"') && !m.contains('`'), "{m:?}");
                }
            }
        }
        let text = String::from_utf8_lossy(data);
        let mut parts = text.splitn(3, '\u{0}');
        let (id, key, token) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let creds = Credentials::new(id, key.into(), Some(token.into()), None);
        if let Ok(url) = request_url(
            "https://signin.example/federation",
            &creds,
            Some(MIN_SESSION_DURATION),
        ) {
            assert!(url.len() <= MAX_REQUEST);
            let query = url
                .strip_prefix("https://signin.example/federation?Action=getSigninToken&Session=")
                .expect("the request's prefix");
            let (session, rest) = query.split_once('&').expect("SessionDuration follows");
            assert_eq!(rest, "SessionDuration=900");
            let json = percent_decode(session);
            let v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&json).expect("the Session is a JSON object");
            assert_eq!(v.len(), 3);
            assert_eq!(v["sessionId"], id);
            assert_eq!(v["sessionKey"], key);
            assert_eq!(v["sessionToken"], token);
        }
    }

    fn percent_decode(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("two hex digits");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            } else {
                assert!(b[i].is_ascii_alphanumeric() || b"-_.~".contains(&b[i]));
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fuzz target's oracle on arbitrary bytes and on credentials
        /// of any text, in the ordinary test run.
        #[test]
        fn the_fuzz_oracle_holds(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            id in "\\PC{0,40}", key in "\\PC{0,60}", token in "\\PC{0,400}",
        ) {
            fuzzing::signin(&data);
            fuzzing::signin(format!(r#"{{"SigninToken": {}}}"#, serde_json::json!(token)).as_bytes());
            fuzzing::signin(format!("{id}\u{0}{key}\u{0}{token}").as_bytes());
        }
    }

    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EXAMPLE_TOKEN: &str =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW";

    fn token(kind: Kind, session: bool, expires: Option<SystemTime>) -> Token {
        Token::new(
            kind,
            Credentials::new(
                "ASIAIOSFODNN7EXAMPLE",
                EXAMPLE_SECRET.into(),
                session.then(|| EXAMPLE_TOKEN.into()),
                expires,
            ),
        )
    }

    fn now() -> SystemTime {
        clock::parse_rfc3339("2026-12-07T00:00:00Z").unwrap()
    }

    fn no_env(_: &str) -> Result<Option<String>> {
        Ok(None)
    }

    #[test]
    fn partition_table() {
        let host = |r: Option<&str>| partition(r).map(|p| (p.name, p.signin_host, p.console));
        assert_eq!(
            host(None).unwrap(),
            (
                "aws",
                "signin.aws.amazon.com".into(),
                "https://console.aws.amazon.com/".into()
            )
        );
        assert_eq!(
            host(Some("us-east-1")).unwrap(),
            (
                "aws",
                "signin.aws.amazon.com".into(),
                "https://us-east-1.console.aws.amazon.com/".into()
            )
        );
        assert_eq!(
            host(Some("eu-west-1")).unwrap(),
            (
                "aws",
                "eu-west-1.signin.aws.amazon.com".into(),
                "https://eu-west-1.console.aws.amazon.com/".into()
            )
        );
        for r in ["cn-north-1", "cn-northwest-1"] {
            assert_eq!(
                host(Some(r)).unwrap(),
                (
                    "aws-cn",
                    "signin.amazonaws.cn".into(),
                    "https://console.amazonaws.cn/".into()
                )
            );
        }
        for r in ["us-gov-west-1", "us-gov-east-1"] {
            assert_eq!(
                host(Some(r)).unwrap(),
                (
                    "aws-us-gov",
                    "signin.amazonaws-us-gov.com".into(),
                    "https://console.amazonaws-us-gov.com/".into()
                )
            );
        }
        for r in [
            "us-iso-east-1",
            "us-isob-east-1",
            "us-isof-south-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
        ] {
            assert_eq!(partition(Some(r)), None, "{r}");
        }
    }

    #[test]
    fn destinations() {
        let eu = partition(Some("eu-west-1")).unwrap();
        assert_eq!(
            destination(&eu, Some("eu-west-1"), None).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            destination(&eu, Some("eu-west-1"), Some("ec2")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"
        );
        assert_eq!(
            destination(&eu, Some("eu-west-1"), Some("iam")).unwrap(),
            "https://eu-west-1.console.aws.amazon.com/iam/home"
        );
        let cn = partition(Some("cn-north-1")).unwrap();
        assert_eq!(
            destination(&cn, Some("cn-north-1"), Some("s3")).unwrap(),
            "https://console.amazonaws.cn/s3/home?region=cn-north-1"
        );
        let global = partition(None).unwrap();
        assert_eq!(
            destination(&global, None, None).unwrap(),
            "https://console.aws.amazon.com/console/home"
        );
        let e = destination(&global, None, Some("ec3")).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("ec2, ecr"), "{e}");
        assert!(services().count() >= 20);
    }

    #[test]
    fn options_are_checked() {
        let bad = [
            Options {
                region: Some("EU".into()),
                ..Options::default()
            },
            Options {
                destination: Some("http://console.aws.amazon.com/".into()),
                ..Options::default()
            },
            Options {
                destination: Some("https://u:p@console.aws.amazon.com/".into()),
                ..Options::default()
            },
            Options {
                destination: Some("x".into()),
                service: Some("ec2".into()),
                ..Options::default()
            },
            Options {
                service: Some("nope".into()),
                ..Options::default()
            },
            Options {
                signin_endpoint: Some("ftp://x".into()),
                ..Options::default()
            },
            Options {
                session_duration: Some(Duration::from_secs(899)),
                ..Options::default()
            },
            Options {
                session_duration: Some(Duration::from_secs(43_201)),
                ..Options::default()
            },
        ];
        for o in bad {
            assert_eq!(
                o.check().unwrap_err().kind(),
                &crate::ErrorKind::InvalidArgument,
                "{o:?}"
            );
        }
        let good = Options {
            region: Some("eu-west-1".into()),
            destination: Some("https://eu-west-1.console.aws.amazon.com/ec2/home".into()),
            signin_endpoint: Some("http://127.0.0.1:9".into()),
            session_duration: Some(MAX_SESSION_DURATION),
            ..Options::default()
        };
        good.check().unwrap();
    }

    #[test]
    fn only_federation_and_role_tokens_sign_in() {
        check_token(&token(Kind::Federation, true, None)).unwrap();
        check_token(&token(Kind::Role, true, None)).unwrap();
        for (kind, session, words) in [
            (Kind::Session, true, "session token"),
            (Kind::Static, false, "long-term access keys"),
            (Kind::Federation, false, "no session token"),
        ] {
            let e = check_token(&token(kind, session, None)).unwrap_err();
            let m = e.to_string();
            assert_eq!(e.kind(), &crate::ErrorKind::Other);
            assert!(
                m.starts_with("handoff console needs a federation or role token"),
                "{m}"
            );
            assert!(m.contains(words), "{m}");
            assert_eq!(m.lines().count(), 1, "{m}");
        }
    }

    #[test]
    fn session_durations() {
        let hours = |h: u64| Some(now() + Duration::from_secs(h * 3600));
        let fed = token(Kind::Federation, true, hours(12));
        assert_eq!(session_duration_at(&fed, None, now()).unwrap(), None);
        let e = session_duration_at(&fed, Some(DEFAULT_SESSION_DURATION), now()).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        let role = token(Kind::Role, true, hours(12));
        assert_eq!(
            session_duration_at(&role, None, now()).unwrap(),
            Some(DEFAULT_SESSION_DURATION)
        );
        assert_eq!(
            session_duration_at(&role, Some(MAX_SESSION_DURATION), now()).unwrap(),
            Some(MAX_SESSION_DURATION)
        );
        // never past the credentials' own expiry, in whole seconds
        let soon = token(
            Kind::Role,
            true,
            Some(now() + Duration::from_millis(1_200_500)),
        );
        assert_eq!(
            session_duration_at(&soon, None, now()).unwrap(),
            Some(Duration::from_secs(1200))
        );
        let sooner = token(Kind::Role, true, Some(now() + Duration::from_secs(899)));
        let e = session_duration_at(&sooner, None, now()).unwrap_err();
        assert!(e.to_string().contains("expire in 14m 59s"), "{e}");
        let gone = token(Kind::Role, true, Some(now() - Duration::from_secs(1)));
        assert!(session_duration_at(&gone, None, now())
            .unwrap_err()
            .to_string()
            .contains("have expired"));
        let e = session_duration_at(&role, Some(Duration::from_secs(60)), now()).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
    }

    #[test]
    fn the_request_holds_exactly_the_session() {
        let t = token(Kind::Role, true, None).with_region("eu-west-1");
        let p = plan(&t, &Options::default(), &no_env, now()).unwrap();
        assert_eq!(
            p.endpoint,
            "https://eu-west-1.signin.aws.amazon.com/federation"
        );
        assert_eq!(
            p.destination,
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        let want = format!(
            "https://eu-west-1.signin.aws.amazon.com/federation?Action=getSigninToken&Session=%7B%22sessionId%22%3A%22ASIAIOSFODNN7EXAMPLE%22%2C%22sessionKey%22%3A%22wJalrXUtnFEMI%2FK7MDENG%2FbPxRfiCYEXAMPLEKEY%22%2C%22sessionToken%22%3A%22{}%22%7D&SessionDuration=3600",
            EXAMPLE_TOKEN.replace('/', "%2F")
        );
        assert_eq!(p.request.as_str(), want);
        let fed = token(Kind::Federation, true, None);
        let p = plan(&fed, &Options::default(), &no_env, now()).unwrap();
        assert!(!p.request.contains("SessionDuration"));
        assert_eq!(p.endpoint, "https://signin.aws.amazon.com/federation");
        // the endpoint: the option, else the variable, else the partition's
        let env =
            |n: &str| Ok((n == SIGNIN_ENDPOINT_VARIABLE).then(|| "http://127.0.0.1:9".to_string()));
        let p = plan(&fed, &Options::default(), &env, now()).unwrap();
        assert_eq!(
            (p.endpoint.as_str(), p.endpoint_source.as_str()),
            ("http://127.0.0.1:9/federation", SIGNIN_ENDPOINT_VARIABLE)
        );
        let o = Options {
            signin_endpoint: Some("https://signin.example/custom/path".into()),
            ..Options::default()
        };
        let p = plan(&fed, &o, &env, now()).unwrap();
        assert_eq!(p.endpoint, "https://signin.example/custom/path");
        // the region: the option, else the token's, else the environment's
        let env = |n: &str| Ok((n == "AWS_DEFAULT_REGION").then(|| "ap-south-1".to_string()));
        let p = plan(&fed, &Options::default(), &env, now()).unwrap();
        assert_eq!(
            p.endpoint,
            "https://ap-south-1.signin.aws.amazon.com/federation"
        );
        let p = plan(
            &fed.clone().with_region("cn-north-1"),
            &Options::default(),
            &env,
            now(),
        )
        .unwrap();
        assert_eq!(p.endpoint, "https://signin.amazonaws.cn/federation");
        let o = Options {
            region: Some("us-gov-west-1".into()),
            ..Options::default()
        };
        let p = plan(&fed.clone().with_region("cn-north-1"), &o, &env, now()).unwrap();
        assert_eq!(p.endpoint, "https://signin.amazonaws-us-gov.com/federation");
        // a token's bad region is the token's fault (exit 3)
        let e = plan(
            &fed.clone().with_region("Mars/1"),
            &Options::default(),
            &no_env,
            now(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::NotAToken);
        let e = plan(
            &fed.with_region("us-iso-east-1"),
            &Options::default(),
            &no_env,
            now(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        let cause = std::error::Error::source(&e);
        assert!(cause.is_some_and(|c| c.is::<NoPublicSignin>()), "{e:?}");
        // a session token never gets as far as a request
        let s = token(Kind::Session, true, None);
        assert!(plan(&s, &Options::default(), &no_env, now()).is_err());
    }

    #[test]
    fn requests_are_bounded() {
        let long = "A".repeat(MAX_REQUEST);
        let t = Token::new(
            Kind::Federation,
            Credentials::new(
                "ASIAIOSFODNN7EXAMPLE",
                EXAMPLE_SECRET.into(),
                Some(long.into()),
                None,
            ),
        );
        let e = plan(&t, &Options::default(), &no_env, now()).unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
        assert!(!e.to_string().contains(EXAMPLE_SECRET));
    }

    #[test]
    fn answers_are_read_strictly() {
        let ok = parse_answer(br#" {"SigninToken": "AbC-_.~+/=123"} "#).unwrap();
        assert_eq!(ok.expose_secret(), "AbC-_.~+/=123");
        let extra = parse_answer(br#"{"Other": 1, "SigninToken": "x"}"#).unwrap();
        assert_eq!(extra.expose_secret(), "x");
        let long = format!(
            r#"{{"SigninToken": "{}"}}"#,
            "a".repeat(MAX_SIGNIN_TOKEN + 1)
        );
        for (body, why) in [
            (
                &br#"{"SigninToken": "secret-1", "SigninToken": "secret-2"}"#[..],
                "not an object",
            ),
            (br#"{"SigninToken": ""}"#, "empty"),
            (br#"{"SigninToken": "has space"}"#, "printable ASCII"),
            (br#"{"SigninToken": "tab\tsecret"}"#, "printable ASCII"),
            (br#"{"SigninToken": 5}"#, "not an object"),
            (br#"{"signintoken": "secret-3"}"#, "not an object"),
            (br#"["secret-4"]"#, "not an object"),
            (br#""secret-5""#, "not an object"),
            (br#"{"SigninToken": "secret-6"} x"#, "not JSON"),
            (br#"{"SigninToken": "secret-7""#, "cut off"),
            (b"<html>secret-8</html>", "not an object"),
            (b"{<html>secret-9</html>", "not JSON"),
            (b"", "cut off"),
            (long.as_bytes(), "longer than 16 KiB"),
        ] {
            let Err(e) = parse_answer(body) else {
                panic!("read: {}", String::from_utf8_lossy(body));
            };
            assert!(e.contains(why), "{e} for {}", String::from_utf8_lossy(body));
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn statuses() {
        let ep = "https://signin.aws.amazon.com/federation";
        let body = br#"{"SigninToken": "tok"}"#;
        assert_eq!(read_answer(200, body, ep).unwrap().expose_secret(), "tok");
        for (status, aws) in [
            (400, true),
            (403, true),
            (302, false),
            (500, false),
            (503, false),
            (201, false),
        ] {
            let e = read_answer(status, body, ep).unwrap_err();
            if aws {
                assert!(
                    matches!(e.kind(), crate::ErrorKind::Aws { code, .. } if *code == format!("HTTP {status}")),
                    "{status}: {e:?}"
                );
            } else {
                assert_eq!(e.kind(), &crate::ErrorKind::Malformed, "{status}: {e:?}");
            }
            assert!(!e.to_string().contains("tok\""), "{e}");
        }
        assert_eq!(
            read_answer(200, b"{}", ep).unwrap_err().kind(),
            &crate::ErrorKind::Malformed
        );
    }

    #[test]
    fn login_urls() {
        let url = login_url(
            "https://signin.aws.amazon.com/federation",
            "https://console.aws.amazon.com/console/home?region=us-east-1",
            &SecretString::from("ab/c+d=".to_string()),
        )
        .unwrap();
        assert_eq!(
            url.expose_secret(),
            "https://signin.aws.amazon.com/federation?Action=login&Issuer=handoff\
             &Destination=https%3A%2F%2Fconsole.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Dus-east-1\
             &SigninToken=ab%2Fc%2Bd%3D"
        );
        assert!(!format!("{url:?}").contains("ab%2F"));
    }

    #[test]
    fn browser_commands_follow_the_browser_variable() {
        assert_eq!(
            browser_commands(Some("firefox --new-window %s: :w3m")),
            vec![
                vec!["firefox".to_string(), "--new-window".into(), "%s".into()],
                vec!["w3m".into()],
                vec!["xdg-open".into()],
                vec!["open".into()],
            ]
        );
        assert_eq!(
            browser_commands(None),
            vec![vec!["xdg-open".to_string()], vec!["open".into()]]
        );
    }
}
