//! The STS client: GetFederationToken, GetSessionToken, AssumeRole and
//! GetCallerIdentity, and the argument rules STS enforces, checked before
//! any request.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use super::config::{ClientConfig, Service};
use super::transport::Transport;
pub use super::types::CallerIdentity;
use super::xml;
use crate::clock;
use crate::credentials::{Kind, Token};
use crate::policy::Policy;
use crate::{Error, Result};

/// The shortest duration STS grants: 900 seconds (15 minutes).
pub const MIN_DURATION: u64 = 900;
/// The longest federation or session token: 129600 seconds (36 hours).
pub const MAX_TOKEN_DURATION: u64 = 129_600;
/// The longest AssumeRole session STS allows at all: 43200 seconds (12
/// hours; a role's own maximum may be lower, which STS then reports).
pub const MAX_ROLE_DURATION: u64 = 43_200;
/// The longest policy STS takes, in characters, not counting whitespace.
pub const MAX_POLICY_CHARS: usize = 2048;

/// An STS client. Each method makes one call (with retries) and returns
/// what STS said.
///
/// ```no_run
/// use handoff::aws::{Service, Settings, Sts};
/// use handoff::Policy;
/// use std::time::Duration;
///
/// let sts = Sts::new(Settings::default().resolve(Service::Sts)?)?;
/// let policy = Policy::new().allow("DescribeImages");
/// let token = sts.get_federation_token("TemporaryUser", Some(&policy), Some(Duration::from_secs(3 * 3600)))?;
/// println!("{}", token.access_key_id());
/// # Ok::<(), handoff::Error>(())
/// ```
pub struct Sts {
    transport: Transport,
}

impl fmt::Debug for Sts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sts")
            .field("config", self.transport.config())
            .finish()
    }
}

/// A multi-factor device and its current code, for GetSessionToken.
#[derive(Clone)]
pub struct Mfa {
    /// The device: an ARN (`arn:aws:iam::123456789012:mfa/user`) or a
    /// hardware device's serial number.
    pub serial: String,
    /// The six-digit code the device shows now.
    pub code: String,
}

impl fmt::Debug for Mfa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mfa")
            .field("serial", &self.serial)
            .field("code", &"** redacted **")
            .finish()
    }
}

/// What to ask STS AssumeRole for.
#[derive(Clone, Debug, Default)]
pub struct AssumeRoleRequest {
    /// The role: `arn:aws:iam::123456789012:role/name`.
    pub role_arn: String,
    /// The session name (2–64 characters of `[\w+=,.@-]`); default
    /// `handoff-<unix time>`.
    pub session_name: Option<String>,
    /// The external id the role's trust policy asks for.
    pub external_id: Option<String>,
    /// A session policy that limits the role further.
    pub policy: Option<Policy>,
    /// How long the credentials last: 900–43200 seconds (STS's default is
    /// one hour).
    pub duration: Option<Duration>,
}

impl AssumeRoleRequest {
    /// A request for `role_arn` with everything else left to defaults.
    pub fn new(role_arn: impl Into<String>) -> Self {
        AssumeRoleRequest {
            role_arn: role_arn.into(),
            ..Self::default()
        }
    }
}

/// What to mint: one of STS's three calls and its arguments.
#[derive(Clone, Debug)]
pub enum MintRequest {
    /// GetFederationToken for user `name`, limited by `policy` (the empty
    /// policy, which allows nothing but what it names, when none is given).
    Federation {
        /// The federated user's name.
        name: String,
        /// The policy; `None` mints with the empty policy.
        policy: Option<Policy>,
        /// How long the credentials last.
        duration: Option<Duration>,
    },
    /// GetSessionToken, MFA-backed when `mfa` is given.
    Session {
        /// How long the credentials last.
        duration: Option<Duration>,
        /// The MFA device and code.
        mfa: Option<Mfa>,
    },
    /// AssumeRole.
    Role(AssumeRoleRequest),
}

impl MintRequest {
    /// Checks every argument as STS would, before any request: the names,
    /// the duration for the call's kind, the MFA device and code, the role
    /// ARN, the external id and the policy's size. `seal` and `seal --each`
    /// (per person, through [`MintRequest::with_names`]) apply this one
    /// check.
    pub fn validate(&self) -> Result<()> {
        self.check(true)
    }

    /// [`MintRequest::validate`] but for the federated user or role session
    /// name: for a request whose names are templates, each filled in and
    /// checked on its own ([`MintRequest::validate_names`]).
    pub fn validate_but_names(&self) -> Result<()> {
        self.check(false)
    }

    /// Checks the federated user or role session name alone.
    pub fn validate_names(&self) -> Result<()> {
        match self {
            MintRequest::Federation { name, .. } => check_federation_name(name),
            MintRequest::Role(AssumeRoleRequest {
                session_name: Some(n),
                ..
            }) => check_session_name(n),
            _ => Ok(()),
        }
    }

    /// The federated user name or role session name, when the request has
    /// one.
    pub fn name(&self) -> Option<&str> {
        match self {
            MintRequest::Federation { name, .. } => Some(name),
            MintRequest::Role(r) => r.session_name.as_deref(),
            MintRequest::Session { .. } => None,
        }
    }

    /// The request with its federated user or role session name mapped by
    /// `f` (a template filled for one person).
    pub fn with_names(&self, f: impl Fn(&str) -> String) -> MintRequest {
        let mut req = self.clone();
        match &mut req {
            MintRequest::Federation { name, .. } => *name = f(name),
            MintRequest::Role(r) => r.session_name = r.session_name.as_deref().map(f),
            MintRequest::Session { .. } => {}
        }
        req
    }

    fn check(&self, names: bool) -> Result<()> {
        match self {
            MintRequest::Federation {
                name,
                duration,
                policy,
            } => {
                if names {
                    check_federation_name(name)?;
                }
                if let Some(d) = duration {
                    check_duration(*d, MIN_DURATION, MAX_TOKEN_DURATION, FEDERATION_DURATION)?;
                }
                if let Some(p) = policy {
                    check_policy(p)?;
                }
            }
            MintRequest::Session { duration, mfa } => {
                if let Some(d) = duration {
                    check_duration(*d, MIN_DURATION, MAX_TOKEN_DURATION, SESSION_DURATION)?;
                }
                if let Some(m) = mfa {
                    check_mfa(m)?;
                }
            }
            MintRequest::Role(req) => {
                check_role_arn(&req.role_arn)?;
                if let (true, Some(n)) = (names, &req.session_name) {
                    check_session_name(n)?;
                }
                if let Some(x) = &req.external_id {
                    check_external_id(x)?;
                }
                if let Some(d) = req.duration {
                    check_duration(d, MIN_DURATION, MAX_ROLE_DURATION, ROLE_DURATION)?;
                }
                if let Some(p) = &req.policy {
                    check_policy(p)?;
                }
            }
        }
        Ok(())
    }
}

/// How [`check_duration`] names each kind's duration.
pub const FEDERATION_DURATION: &str = "the federation token duration";
/// See [`FEDERATION_DURATION`].
pub const SESSION_DURATION: &str = "the session token duration";
/// See [`FEDERATION_DURATION`].
pub const ROLE_DURATION: &str = "the role session duration";

impl Sts {
    /// A client for the endpoint, region and credentials in `config`
    /// (which must have been resolved for [`Service::Sts`]).
    pub fn new(config: ClientConfig) -> Result<Sts> {
        if config.service() != Service::Sts {
            return Err(Error::usage(format!(
                "an STS client needs a configuration resolved for sts, not {}",
                config.service()
            )));
        }
        Ok(Sts {
            transport: Transport::new(config)?,
        })
    }

    /// The configuration the client uses.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    /// STS GetFederationToken: credentials for federated user `name`,
    /// limited by `policy` (without one the federated user can do nothing)
    /// for `duration` (900–129600 s; STS's default is 12 hours). Must be
    /// called with an IAM user's long-term keys.
    pub fn get_federation_token(
        &self,
        name: &str,
        policy: Option<&Policy>,
        duration: Option<Duration>,
    ) -> Result<Token> {
        check_federation_name(name)?;
        if let Some(d) = duration {
            check_duration(d, MIN_DURATION, MAX_TOKEN_DURATION, FEDERATION_DURATION)?;
        }
        let policy_json = policy.map(|p| p.to_string());
        if let Some(p) = &policy_json {
            check_policy_text(p)?;
        }
        let secs = duration.map(|d| d.as_secs().to_string());
        let mut params = vec![("Name", name)];
        if let Some(p) = &policy_json {
            params.push(("Policy", p));
        }
        if let Some(s) = &secs {
            params.push(("DurationSeconds", s));
        }
        self.token(
            "GetFederationToken",
            Kind::Federation,
            &params,
            policy_json.as_deref(),
        )
    }

    /// Mints what `req` asks for, with the call it names.
    pub fn mint(&self, req: &MintRequest) -> Result<Token> {
        match req {
            MintRequest::Federation {
                name,
                policy,
                duration,
            } => {
                let empty = Policy::default();
                let policy = policy.as_ref().unwrap_or(&empty);
                self.get_federation_token(name, Some(policy), *duration)
            }
            MintRequest::Session { duration, mfa } => {
                self.get_session_token(*duration, mfa.as_ref())
            }
            MintRequest::Role(req) => self.assume_role(req),
        }
    }

    /// STS GetSessionToken: temporary credentials with the caller's own
    /// rights, for `duration` (900–129600 s; STS's default is 12 hours),
    /// MFA-backed when `mfa` is given.
    pub fn get_session_token(
        &self,
        duration: Option<Duration>,
        mfa: Option<&Mfa>,
    ) -> Result<Token> {
        if let Some(d) = duration {
            check_duration(d, MIN_DURATION, MAX_TOKEN_DURATION, SESSION_DURATION)?;
        }
        if let Some(m) = mfa {
            check_mfa(m)?;
        }
        let secs = duration.map(|d| d.as_secs().to_string());
        let mut params = Vec::new();
        if let Some(s) = &secs {
            params.push(("DurationSeconds", s.as_str()));
        }
        if let Some(m) = mfa {
            params.push(("SerialNumber", m.serial.as_str()));
            params.push(("TokenCode", m.code.as_str()));
        }
        self.token("GetSessionToken", Kind::Session, &params, None)
    }

    /// STS AssumeRole.
    pub fn assume_role(&self, req: &AssumeRoleRequest) -> Result<Token> {
        check_role_arn(&req.role_arn)?;
        let session_name = match &req.session_name {
            Some(s) => s.clone(),
            None => {
                let secs = clock::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                format!("handoff-{secs}")
            }
        };
        check_session_name(&session_name)?;
        if let Some(x) = &req.external_id {
            check_external_id(x)?;
        }
        if let Some(d) = req.duration {
            check_duration(d, MIN_DURATION, MAX_ROLE_DURATION, ROLE_DURATION)?;
        }
        let policy_json = req.policy.as_ref().map(|p| p.to_string());
        if let Some(p) = &policy_json {
            check_policy_text(p)?;
        }
        let secs = req.duration.map(|d| d.as_secs().to_string());
        let mut params = vec![
            ("RoleArn", req.role_arn.as_str()),
            ("RoleSessionName", session_name.as_str()),
        ];
        if let Some(x) = &req.external_id {
            params.push(("ExternalId", x));
        }
        if let Some(p) = &policy_json {
            params.push(("Policy", p));
        }
        if let Some(s) = &secs {
            params.push(("DurationSeconds", s));
        }
        self.token("AssumeRole", Kind::Role, &params, policy_json.as_deref())
    }

    /// STS GetCallerIdentity: whose credentials these are. Needs no
    /// permission; works with any valid credentials.
    pub fn get_caller_identity(&self) -> Result<CallerIdentity> {
        let body = self.transport.call("GetCallerIdentity", &[])?;
        xml::caller_identity(&body).map_err(|e| self.transport.malformed("GetCallerIdentity", e))
    }

    fn token(
        &self,
        action: &str,
        kind: Kind,
        params: &[(&str, &str)],
        policy: Option<&str>,
    ) -> Result<Token> {
        let body = self.transport.call(action, params)?;
        let mut token =
            xml::sts_token(kind, &body).map_err(|e| self.transport.malformed(action, e))?;
        drop(body);
        if let Some(p) = policy {
            token = token.with_policy(p);
        }
        if let Some(r) = self.config().region() {
            token = token.with_region(r);
        }
        // AWS's time when the answer's Date is later than the local clock
        // (a slow clock would make the ledger's issue time too early, and a
        // revocation's cut-off seem to cover a token it does not).
        let now = clock::now();
        let issued = self.transport.server_date().map_or(now, |d| d.max(now));
        let token = token.with_issued_at(issued);
        // What open will refuse is not sealed: the token goes through the
        // very encoding and checks open applies (control characters in a
        // credential, an Expiration out of range, ...).
        crate::envelope::decode(&crate::envelope::encode(&token)).map_err(|e| match e.kind() {
            crate::ErrorKind::NotAToken => {
                self.transport.malformed(action, e.message().to_string())
            }
            _ => e,
        })?;
        Ok(token)
    }
}

/// `\w` and the extra characters STS allows in names.
fn name_chars_ok(s: &str, extra: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c))
}

/// The federated user's name: 2–32 characters of `[\w+=,.@-]`.
pub fn check_federation_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if !(2..=32).contains(&n) || !name_chars_ok(name, "+=,.@-") {
        return Err(Error::usage(format!(
            "federated user name {name:?} must be 2 to 32 characters of letters, digits and _+=,.@-"
        )));
    }
    Ok(())
}

/// A duration STS accepts: `min`–`max` whole seconds. `what` names it in
/// the message ("the federation token duration"); the refusal is an
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) whose
/// [`source`](std::error::Error::source) is the [`DurationOutOfRange`], so
/// a caller can name the duration in its own words.
pub fn check_duration(d: Duration, min: u64, max: u64, what: &str) -> Result<()> {
    if d.subsec_nanos() != 0 || d.as_secs() < min || d.as_secs() > max {
        let out = DurationOutOfRange { min, max, given: d };
        return Err(Error::usage(format!("{what} {out}")).with_source(out));
    }
    Ok(())
}

/// A duration STS does not grant: the cause of [`check_duration`]'s (and
/// so [`MintRequest::validate`]'s) refusal. Its `Display` is the rule
/// without the duration's name: `must be 900 to 129600 seconds (15m to
/// 36h), not 60 s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationOutOfRange {
    /// The shortest duration of the call, in seconds.
    pub min: u64,
    /// The longest duration of the call, in seconds.
    pub max: u64,
    /// The duration asked for.
    pub given: Duration,
}

impl fmt::Display for DurationOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max, d) = (self.min, self.max, self.given);
        write!(
            f,
            "must be {min} to {max} seconds ({} to {}), not ",
            human(min),
            human(max)
        )?;
        if d.subsec_nanos() != 0 {
            write!(f, "{:.3} s", d.as_secs_f64())
        } else {
            write!(f, "{} s", d.as_secs())
        }
    }
}

impl std::error::Error for DurationOutOfRange {}

fn human(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// A role ARN: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`, with a
/// 12-digit account and a name of `[\w+=,.@-]`, at most 2048 characters.
pub fn check_role_arn(arn: &str) -> Result<()> {
    let bad = || {
        Error::usage(format!(
            "{arn:?} is not a role ARN (arn:aws:iam::123456789012:role/NAME)"
        ))
    };
    if arn.len() < 20 || arn.len() > 2048 {
        return Err(bad());
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(bad());
    };
    let partition_ok = partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return Err(bad());
    };
    let name = path_and_name.rsplit('/').next().unwrap_or("");
    let path_ok = name_chars_ok(path_and_name, "+=,.@-/");
    if prefix != "arn"
        || !partition_ok
        || service != "iam"
        || !region.is_empty()
        || !account_ok
        || name.is_empty()
        || name.len() > 64
        || !path_ok
    {
        return Err(bad());
    }
    Ok(())
}

/// A role session name: 2–64 characters of `[\w+=,.@-]`.
pub fn check_session_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if !(2..=64).contains(&n) || !name_chars_ok(name, "+=,.@-") {
        return Err(Error::usage(format!(
            "role session name {name:?} must be 2 to 64 characters of letters, digits and _+=,.@-"
        )));
    }
    Ok(())
}

/// An external id: 2–1224 characters of `[\w+=,.@:/-]`.
pub fn check_external_id(id: &str) -> Result<()> {
    let n = id.chars().count();
    if !(2..=1224).contains(&n) || !name_chars_ok(id, "+=,.@:/-") {
        return Err(Error::usage(
            "the external id must be 2 to 1224 characters of letters, digits and _+=,.@:/-",
        ));
    }
    Ok(())
}

/// An MFA device and code: the code is six digits; the serial is an ARN or
/// a hardware serial number, 9–256 characters of `[\w+=/:,.@-]`.
pub fn check_mfa(mfa: &Mfa) -> Result<()> {
    let n = mfa.serial.chars().count();
    if !(9..=256).contains(&n) || !name_chars_ok(&mfa.serial, "+=/:,.@-") {
        return Err(Error::usage(format!(
            "MFA serial {:?} must be a device ARN (arn:aws:iam::123456789012:mfa/NAME) or a hardware serial number: 9 to 256 characters of letters, digits and _+=/:,.@-",
            mfa.serial
        )));
    }
    if mfa.code.len() != 6 || !mfa.code.bytes().all(|b| b.is_ascii_digit()) {
        // The code itself is not repeated: it is a one-time secret.
        return Err(Error::usage("the MFA token code must be exactly 6 digits"));
    }
    Ok(())
}

/// A policy STS will take: at most [`MAX_POLICY_CHARS`] characters not
/// counting whitespace. (STS also limits the packed binary form, which only
/// it can measure; it reports that as `PackedPolicyTooLarge`.)
pub fn check_policy(policy: &Policy) -> Result<()> {
    check_policy_text(&policy.to_string())
}

fn check_policy_text(json: &str) -> Result<()> {
    let n = json.chars().filter(|c| !c.is_whitespace()).count();
    if n > MAX_POLICY_CHARS {
        return Err(Error::usage(format!(
            "the policy is {n} characters long (not counting whitespace); STS takes at most {MAX_POLICY_CHARS}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federation_names() {
        for ok in ["ab", "TemporaryUser", "a_b+c=d,e.f@g-h", &"x".repeat(32)] {
            check_federation_name(ok).unwrap();
        }
        for bad in ["a", "", "has space", "slash/", &"x".repeat(33), "ünï"] {
            let e = check_federation_name(bad).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
            assert!(e.to_string().contains("2 to 32"), "{e}");
        }
    }

    #[test]
    fn durations() {
        let s = Duration::from_secs;
        check_duration(s(900), 900, 129_600, "x").unwrap();
        check_duration(s(129_600), 900, 129_600, "x").unwrap();
        for bad in [s(899), s(129_601), s(0), Duration::from_millis(900_500)] {
            let e = check_duration(bad, 900, 129_600, "the federation token duration").unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
            assert!(
                e.to_string().starts_with(
                    "the federation token duration must be 900 to 129600 seconds (15m to 36h)"
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn role_arns() {
        for ok in [
            "arn:aws:iam::123456789012:role/demo",
            "arn:aws:iam::123456789012:role/path/to/my-role.x@y",
            "arn:aws-cn:iam::123456789012:role/demo",
            "arn:aws-us-gov:iam::123456789012:role/demo",
        ] {
            check_role_arn(ok).unwrap();
        }
        for bad in [
            "",
            "demo",
            "arn:aws:iam::12345678901:role/demo",
            "arn:aws:iam::123456789012:user/demo",
            "arn:aws:iam:us-east-1:123456789012:role/demo",
            "arn:aws:sts::123456789012:role/demo",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
            "arn:gcp:iam::123456789012:role/demo",
        ] {
            let e = check_role_arn(bad).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument, "{bad}");
            assert!(e.to_string().contains("not a role ARN"), "{e}");
        }
    }

    #[test]
    fn session_names_and_external_ids() {
        check_session_name("handoff-1767225600").unwrap();
        check_session_name(&"s".repeat(64)).unwrap();
        assert!(check_session_name("s").is_err());
        assert!(check_session_name(&"s".repeat(65)).is_err());
        assert!(check_session_name("a/b").is_err());
        check_external_id("urn:x/y-1").unwrap();
        assert!(check_external_id("x").is_err());
        assert!(check_external_id("has space").is_err());
    }

    #[test]
    fn mfa() {
        let m = |serial: &str, code: &str| Mfa {
            serial: serial.into(),
            code: code.into(),
        };
        check_mfa(&m("arn:aws:iam::123456789012:mfa/alice", "123456")).unwrap();
        check_mfa(&m("GAHT12345678", "000000")).unwrap();
        for (serial, code, rule) in [
            ("arn:aws:iam::123456789012:mfa/alice", "12345", "6 digits"),
            ("arn:aws:iam::123456789012:mfa/alice", "1234567", "6 digits"),
            ("arn:aws:iam::123456789012:mfa/alice", "12345a", "6 digits"),
            ("short", "654321", "9 to 256"),
            ("has spaces in it", "654321", "9 to 256"),
        ] {
            let e = check_mfa(&m(serial, code)).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
            assert!(e.to_string().contains(rule), "{e}");
            assert!(!e.to_string().contains(code), "{e}");
        }
        let d = format!("{:?}", m("GAHT12345678", "654321"));
        assert!(!d.contains("654321"), "{d}");
    }

    #[test]
    fn validate_applies_every_rule_of_the_calls_kind() {
        let s = Duration::from_secs;
        let mfa = |code: &str| Mfa {
            serial: "arn:aws:iam::123456789012:mfa/alice".into(),
            code: code.into(),
        };
        let big = (0..100).fold(Policy::new(), |p, i| {
            p.allow(&format!("s3:GetObjectNumber{i}"))
        });
        for (req, phrase) in [
            (
                MintRequest::Session {
                    duration: Some(s(129_601)),
                    mfa: None,
                },
                "the session token duration must be 900 to 129600",
            ),
            (
                MintRequest::Session {
                    duration: None,
                    mfa: Some(mfa("12345")),
                },
                "exactly 6 digits",
            ),
            (
                MintRequest::Federation {
                    name: "ws-alice".into(),
                    policy: Some(big),
                    duration: None,
                },
                "at most 2048",
            ),
            (
                MintRequest::Role(AssumeRoleRequest {
                    duration: Some(s(43_201)),
                    ..AssumeRoleRequest::new("arn:aws:iam::123456789012:role/r")
                }),
                "the role session duration must be 900 to 43200",
            ),
        ] {
            let e = req.validate().unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
            assert!(e.to_string().contains(phrase), "{e}");
            // A duration's refusal carries the rule, for a caller's words.
            let out =
                std::error::Error::source(&e).and_then(|c| c.downcast_ref::<DurationOutOfRange>());
            if phrase.contains("duration") {
                let out = out.unwrap();
                assert!(e.to_string().ends_with(&out.to_string()), "{e}");
                assert!(out.to_string().starts_with("must be 900 to "), "{out}");
            } else {
                assert!(out.is_none(), "{e}");
            }
        }
        MintRequest::Session {
            duration: Some(s(900)),
            mfa: Some(mfa("123456")),
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn policy_size() {
        let mut p = Policy::new();
        check_policy(&p).unwrap();
        for i in 0..100 {
            p = p.allow(&format!("s3:GetObjectNumber{i}"));
        }
        let e = check_policy(&p).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("at most 2048"), "{e}");
        // Whitespace does not count.
        let spaced = format!("{{{}\"Version\":\"2012-10-17\"}}", " ".repeat(5000));
        check_policy_text(&spaced).unwrap();
    }
}
