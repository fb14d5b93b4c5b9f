//! The secret model: [`Credentials`], [`Token`], [`FederatedUser`] and
//! [`AssumedRoleUser`].
//!
//! Secrets live in [`SecretString`] from the moment they are parsed to the
//! moment they are written out; they are zeroized on drop and redacted in
//! `Debug`. None of these types implements `Display` or `Serialize`.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};

use crate::clock;

/// Stands in for a secret in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

/// A set of AWS credentials: an access key id, its secret, and for temporary
/// credentials a session token and an expiration.
///
/// ```
/// use handoff::Credentials;
/// let c = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), None, None);
/// assert_eq!(c.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
/// assert!(!format!("{c:?}").contains("EXAMPLEKEY"));
/// ```
///
/// A clone shares the secrets (as smithy-rs's `aws-credential-types` does):
/// they are held once, behind an [`Arc`], and wiped when the last clone is
/// dropped.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Arc<SecretString>,
    session_token: Option<Arc<SecretString>>,
    expiration: Option<SystemTime>,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
        expiration: Option<SystemTime>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Arc::new(secret_access_key),
            session_token: session_token.map(Arc::new),
            expiration,
        }
    }

    /// The access key id (`AKIA...` for long-term keys, `ASIA...` for
    /// temporary ones). Not a secret.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &SecretString {
        &self.secret_access_key
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&SecretString> {
        self.session_token.as_deref()
    }

    /// When temporary credentials stop working.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.expiration
    }

    /// Whether the credentials had expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.expiration.is_some_and(|e| e <= now)
    }

    /// Whether the credentials have expired.
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(clock::now())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &Redacted)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| Redacted),
            )
            .field("expiration", &self.expiration.map(clock::format_rfc3339))
            .finish()
    }
}

/// What kind of credentials a token carries, and so where they came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// STS GetFederationToken: a federated user limited by a policy.
    Federation,
    /// STS GetSessionToken: the caller's own rights, possibly MFA-backed.
    Session,
    /// STS AssumeRole: an assumed-role session.
    Role,
    /// Long-term access keys with no session token.
    Static,
}

impl Kind {
    /// The envelope's name for the kind: `federation`, `session`, `role`,
    /// `static`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Federation => "federation",
            Kind::Session => "session",
            Kind::Role => "role",
            Kind::Static => "static",
        }
    }

    /// The kind named by [`Kind::as_str`].
    pub fn from_name(s: &str) -> Option<Kind> {
        Some(match s {
            "federation" => Kind::Federation,
            "session" => Kind::Session,
            "role" => Kind::Role,
            "static" => Kind::Static,
            _ => return None,
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The federated user STS GetFederationToken created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FederatedUser {
    /// `123456789012:TestUser`
    pub federated_user_id: String,
    /// `arn:aws:sts::123456789012:federated-user/TestUser`
    pub arn: String,
}

/// The assumed-role user STS AssumeRole created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumedRoleUser {
    /// `AROA3XFRBF535PLBIFPI4:session-name`
    pub assumed_role_id: String,
    /// `arn:aws:sts::123456789012:assumed-role/demo/session-name`
    pub arn: String,
}

/// What opening a signed token learned about it, beside its credentials:
/// the recipients it was sealed to (`SealedTo`), its `TokenId`, and who
/// signed it. Empty for a token that was not signed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Provenance {
    /// The recipients the sender sealed it to.
    pub sealed_to: Vec<String>,
    /// The random id the sender gave it.
    pub token_id: Option<Vec<u8>>,
    /// Who signed it, and whether a signers file vouched for them.
    pub signer: Option<Signer>,
}

/// Who signed a token, as the recipient learned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// The signing key's SHA-256 fingerprint (`SHA256:...`).
    pub fingerprint: String,
    /// The signing key (`ssh-ed25519 AAAA...`).
    pub public_key: String,
    /// The principals the signers file lists for the key, when one was used.
    pub principal: Option<String>,
    /// Whether a signers file vouched for the key. A signature that verifies
    /// but was not checked against a signers file proves only that the token
    /// is intact, not who made it.
    pub verified: bool,
}

/// Credentials and everything known about them: what the Perl module called
/// `VM::EC2::Security::Token`. This is what `seal` seals and `open` returns.
///
/// ```
/// use handoff::{Credentials, Kind, Token};
/// let creds = Credentials::new("ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
///                              Some("FQoGZXIvYXdzEXAMPLE".into()), None);
/// let token = Token::new(Kind::Session, creds).with_label("for the build");
/// assert_eq!(token.access_key_id(), "ASIAIOSFODNN7EXAMPLE");
/// assert_eq!(token.label(), Some("for the build"));
/// ```
#[derive(Clone, Debug)]
pub struct Token {
    kind: Kind,
    credentials: Credentials,
    federated_user: Option<FederatedUser>,
    assumed_role_user: Option<AssumedRoleUser>,
    packed_policy_size: Option<u32>,
    policy: Option<String>,
    region: Option<String>,
    label: Option<String>,
    issued_at: Option<SystemTime>,
    provenance: Provenance,
}

impl Token {
    /// The bytes of every text field together (keys, ARNs, ids, policy,
    /// region, label): what the buffer sizes of the envelope and the output
    /// formats are made from, so neither grows its buffer.
    pub(crate) fn text_len(&self) -> usize {
        let c = self.credentials();
        c.access_key_id().len()
            + reveal(c.secret_access_key()).len()
            + c.session_token().map_or(0, |t| reveal(t).len())
            + self
                .federated_user()
                .map_or(0, |u| u.arn.len() + u.federated_user_id.len())
            + self
                .assumed_role_user()
                .map_or(0, |u| u.arn.len() + u.assumed_role_id.len())
            + self.policy().map_or(0, str::len)
            + self.region().map_or(0, str::len)
            + self.label().map_or(0, str::len)
    }

    /// A token of `kind` holding `credentials`, with nothing else known.
    pub fn new(kind: Kind, credentials: Credentials) -> Self {
        Token {
            kind,
            credentials,
            federated_user: None,
            assumed_role_user: None,
            packed_policy_size: None,
            policy: None,
            region: None,
            label: None,
            issued_at: None,
            provenance: Provenance::default(),
        }
    }

    /// Sets the federated user.
    pub fn with_federated_user(mut self, user: FederatedUser) -> Self {
        self.federated_user = Some(user);
        self
    }

    /// Sets the assumed-role user.
    pub fn with_assumed_role_user(mut self, user: AssumedRoleUser) -> Self {
        self.assumed_role_user = Some(user);
        self
    }

    /// Sets the packed policy size (percent of the allowed size STS reported).
    pub fn with_packed_policy_size(mut self, size: u32) -> Self {
        self.packed_policy_size = Some(size);
        self
    }

    /// Sets the policy the credentials were limited by (IAM policy JSON).
    pub fn with_policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// Sets the region the credentials are meant for.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets a note for the recipient.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets whichever of the optional details are given (how documents and
    /// envelopes hand them over).
    pub(crate) fn with_details(
        mut self,
        packed_policy_size: Option<u32>,
        policy: Option<String>,
        region: Option<String>,
        label: Option<String>,
    ) -> Self {
        self.packed_policy_size = packed_policy_size.or(self.packed_policy_size);
        self.policy = policy.or(self.policy);
        self.region = region.or(self.region);
        self.label = label.or(self.label);
        self
    }

    /// Sets when the token was issued.
    pub fn with_issued_at(mut self, at: SystemTime) -> Self {
        self.issued_at = Some(at);
        self
    }

    pub(crate) fn with_sealed_to(mut self, sealed_to: Vec<String>) -> Self {
        self.provenance.sealed_to = sealed_to;
        self
    }

    pub(crate) fn with_token_id(mut self, id: Vec<u8>) -> Self {
        self.provenance.token_id = Some(id);
        self
    }

    pub(crate) fn with_signer(mut self, signer: Signer) -> Self {
        self.provenance.signer = Some(signer);
        self
    }

    /// Who signed the token (signed handoffs only), and whether a signers
    /// file vouched for them.
    pub fn signer(&self) -> Option<&Signer> {
        self.provenance.signer.as_ref()
    }

    /// The recipients a signed token says it was sealed to, as the sender
    /// gave them (`scrypt` for a passphrase). Empty for unsigned tokens.
    pub fn sealed_to(&self) -> &[String] {
        &self.provenance.sealed_to
    }

    /// The random id of a signed handoff: a signature covers exactly one.
    pub fn token_id(&self) -> Option<&[u8]> {
        self.provenance.token_id.as_deref()
    }

    /// What opening the token learned about it: who it was sealed to, its
    /// id, who signed it. Empty for a token that was not signed.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The kind of credentials.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The federated user, for a federation token.
    pub fn federated_user(&self) -> Option<&FederatedUser> {
        self.federated_user.as_ref()
    }

    /// The assumed-role user, for a role token.
    pub fn assumed_role_user(&self) -> Option<&AssumedRoleUser> {
        self.assumed_role_user.as_ref()
    }

    /// The packed policy size STS reported, in percent of the limit.
    pub fn packed_policy_size(&self) -> Option<u32> {
        self.packed_policy_size
    }

    /// The IAM policy JSON the credentials were limited by.
    pub fn policy(&self) -> Option<&str> {
        self.policy.as_deref()
    }

    /// The region the credentials are meant for.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The sender's note.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// When the token was issued.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.issued_at
    }

    /// Shorthand for `credentials().access_key_id()`.
    pub fn access_key_id(&self) -> &str {
        self.credentials.access_key_id()
    }

    /// Shorthand for `credentials().secret_access_key()`.
    pub fn secret_access_key(&self) -> &SecretString {
        self.credentials.secret_access_key()
    }

    /// Shorthand for `credentials().session_token()`.
    pub fn session_token(&self) -> Option<&SecretString> {
        self.credentials.session_token()
    }

    /// Shorthand for `credentials().expiration()`.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.credentials.expiration()
    }

    /// The ARN of the federated or assumed-role user, when there is one.
    pub fn arn(&self) -> Option<&str> {
        self.federated_user
            .as_ref()
            .map(|u| u.arn.as_str())
            .or(self.assumed_role_user.as_ref().map(|u| u.arn.as_str()))
    }

    /// Refuses expired credentials with [`ErrorKind::Expired`](crate::ErrorKind::Expired).
    pub fn check_not_expired(&self) -> crate::Result<()> {
        self.check_not_expired_at(clock::now())
    }

    pub(crate) fn check_not_expired_at(&self, now: SystemTime) -> crate::Result<()> {
        match self.expiration() {
            Some(at) if at <= now => Err(crate::Error::expired(clock::format_rfc3339(at))),
            _ => Ok(()),
        }
    }
}

/// Infers the kind of credentials from what a document carries: a federated
/// user means federation, an assumed-role user a role, a session token alone a
/// session, and nothing at all static keys.
pub(crate) fn infer_kind(federated: bool, assumed_role: bool, has_session_token: bool) -> Kind {
    if federated {
        Kind::Federation
    } else if assumed_role {
        Kind::Role
    } else if has_session_token {
        Kind::Session
    } else {
        Kind::Static
    }
}

/// Moves a secret out of a plain `String` into a [`SecretString`]: an exact
/// copy, then the `String` is wiped (converting directly could reallocate and
/// leave the old block unwiped).
pub(crate) fn into_secret(s: String) -> SecretString {
    into_secret_with(s, |s| s)
}

/// [`into_secret`] of the text less its surrounding whitespace.
#[cfg(feature = "aws")]
pub(crate) fn into_trimmed_secret(s: String) -> SecretString {
    into_secret_with(s, str::trim)
}

fn into_secret_with(mut s: String, part: impl Fn(&str) -> &str) -> SecretString {
    use zeroize::Zeroize;
    let secret = SecretString::from(part(&s));
    s.zeroize();
    secret
}

/// Exposes a secret for writing it out. One name for the few places secrets
/// leave their wrappers, so they are easy to find.
pub(crate) fn reveal(s: &SecretString) -> &str {
    s.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_secrets_instead_of_copying_them() {
        let c = Credentials::new(
            "AKID",
            "secret".to_string().into(),
            Some("t".to_string().into()),
            None,
        );
        let d = c.clone();
        assert!(std::ptr::eq(c.secret_access_key(), d.secret_access_key()));
        assert!(std::ptr::eq(
            c.session_token().unwrap(),
            d.session_token().unwrap()
        ));
    }

    #[test]
    fn debug_redacts_exactly() {
        let c = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            Some("SESSIONTOKENEXAMPLE".into()),
            clock::parse_rfc3339("2026-11-26T18:00:00Z"),
        );
        assert_eq!(
            format!("{c:?}"),
            "Credentials { access_key_id: \"AKIAIOSFODNN7EXAMPLE\", secret_access_key: ** redacted **, \
             session_token: Some(** redacted **), expiration: Some(\"2026-11-26T18:00:00Z\") }"
        );
        let t = Token::new(Kind::Session, c);
        let d = format!("{t:?} {t:#?}");
        assert!(
            !d.contains("EXAMPLEKEY") && !d.contains("SESSIONTOKEN"),
            "{d}"
        );
    }

    #[test]
    fn kinds_are_inferred() {
        assert_eq!(infer_kind(true, false, true), Kind::Federation);
        assert_eq!(infer_kind(false, true, true), Kind::Role);
        assert_eq!(infer_kind(false, false, true), Kind::Session);
        assert_eq!(infer_kind(false, false, false), Kind::Static);
        for k in [Kind::Federation, Kind::Session, Kind::Role, Kind::Static] {
            assert_eq!(Kind::from_name(k.as_str()), Some(k));
        }
    }

    #[test]
    fn expiry() {
        let at = clock::parse_rfc3339("2026-11-26T18:00:00Z").unwrap();
        let c = Credentials::new("A", "s".into(), None, Some(at));
        let t = Token::new(Kind::Static, c);
        assert!(t
            .check_not_expired_at(at - std::time::Duration::from_secs(1))
            .is_ok());
        let e = t.check_not_expired_at(at).unwrap_err();
        assert_eq!(
            e.kind(),
            &crate::ErrorKind::Expired {
                at: "2026-11-26T18:00:00Z".into()
            }
        );
        assert!(e.to_string().contains("2026-11-26T18:00:00Z"));
    }

    fn full() -> Token {
        let at = clock::parse_rfc3339("2026-11-26T18:00:00Z").unwrap();
        let issued = clock::parse_rfc3339("2026-11-26T06:00:00Z").unwrap();
        Token::new(
            Kind::Federation,
            Credentials::new("ASIAKEY", "secret".into(), Some("tok".into()), Some(at)),
        )
        .with_federated_user(FederatedUser {
            federated_user_id: "1:u".into(),
            arn: "arn:fed".into(),
        })
        .with_packed_policy_size(7)
        .with_policy("{}")
        .with_region("eu-west-1")
        .with_label("a note")
        .with_issued_at(issued)
        .with_sealed_to(vec!["age1x".into()])
        .with_token_id(vec![1, 2])
        .with_signer(Signer {
            fingerprint: "SHA256:f".into(),
            public_key: "ssh-ed25519 K".into(),
            principal: None,
            verified: true,
        })
    }

    #[test]
    fn every_part_reads_back() {
        let t = full();
        assert_eq!(t.kind(), Kind::Federation);
        assert_eq!(t.access_key_id(), "ASIAKEY");
        assert_eq!(reveal(t.secret_access_key()), "secret");
        assert_eq!(reveal(t.session_token().unwrap()), "tok");
        assert_eq!(t.expiration(), clock::parse_rfc3339("2026-11-26T18:00:00Z"));
        assert_eq!(t.credentials().access_key_id(), "ASIAKEY");
        assert_eq!(t.federated_user().unwrap().federated_user_id, "1:u");
        assert_eq!(t.assumed_role_user(), None);
        assert_eq!(t.arn(), Some("arn:fed"));
        assert_eq!(t.packed_policy_size(), Some(7));
        assert_eq!(t.policy(), Some("{}"));
        assert_eq!(t.region(), Some("eu-west-1"));
        assert_eq!(t.label(), Some("a note"));
        assert_eq!(t.issued_at(), clock::parse_rfc3339("2026-11-26T06:00:00Z"));
        assert_eq!(t.sealed_to(), ["age1x"]);
        assert_eq!(t.token_id(), Some(&[1u8, 2][..]));
        assert_eq!(t.signer().unwrap().fingerprint, "SHA256:f");
        assert_eq!(t.provenance().token_id, Some(vec![1, 2]));
        // every text field counted once: 7+6+3 + 7+3 + 2+9+6
        assert_eq!(t.text_len(), 43);

        let role = Token::new(Kind::Role, Credentials::new("A", "s".into(), None, None))
            .with_assumed_role_user(AssumedRoleUser {
                assumed_role_id: "AROA:s".into(),
                arn: "arn:role".into(),
            });
        assert_eq!(role.arn(), Some("arn:role"));
        assert_eq!(role.assumed_role_user().unwrap().assumed_role_id, "AROA:s");
        assert_eq!(role.text_len(), 1 + 1 + 8 + 6);
        assert_eq!(role.session_token().map(reveal), None);
        assert_eq!(role.provenance(), &Provenance::default());
        let bare = Token::new(Kind::Static, Credentials::new("A", "s".into(), None, None));
        assert_eq!(bare.arn(), None);
        assert_eq!(bare.text_len(), 2);
    }

    #[test]
    fn details_fill_only_what_is_given() {
        let t = full().with_details(None, None, None, None);
        assert_eq!(
            (t.packed_policy_size(), t.policy(), t.region(), t.label()),
            (Some(7), Some("{}"), Some("eu-west-1"), Some("a note"))
        );
        let t = t.with_details(
            Some(9),
            Some("p".into()),
            Some("r".into()),
            Some("l".into()),
        );
        assert_eq!(
            (t.packed_policy_size(), t.policy(), t.region(), t.label()),
            (Some(9), Some("p"), Some("r"), Some("l"))
        );
    }

    #[test]
    fn expired_at_and_after_the_expiration() {
        let at = clock::parse_rfc3339("2026-11-26T18:00:00Z").unwrap();
        let second = std::time::Duration::from_secs(1);
        let c = Credentials::new("A", "s".into(), None, Some(at));
        assert!(!c.is_expired_at(at - second));
        assert!(c.is_expired_at(at));
        assert!(c.is_expired_at(at + second));
        let old = clock::parse_rfc3339("2000-01-01T00:00:00Z");
        assert!(Credentials::new("A", "s".into(), None, old).is_expired());
        let late = clock::parse_rfc3339("9999-01-01T00:00:00Z");
        assert!(!Credentials::new("A", "s".into(), None, late).is_expired());
        assert!(!Credentials::new("A", "s".into(), None, None).is_expired_at(at));
        let t = Token::new(Kind::Static, Credentials::new("A", "s".into(), None, old));
        assert_eq!(
            t.check_not_expired().unwrap_err().kind(),
            &crate::ErrorKind::Expired {
                at: "2000-01-01T00:00:00Z".into()
            }
        );
        let t = Token::new(Kind::Static, Credentials::new("A", "s".into(), None, late));
        assert!(t.check_not_expired().is_ok());
    }

    #[test]
    fn kind_names() {
        assert_eq!(
            [Kind::Federation, Kind::Session, Kind::Role, Kind::Static].map(|k| k.to_string()),
            ["federation", "session", "role", "static"]
        );
        assert_eq!(Kind::from_name("Federation"), None);
        assert_eq!(Kind::from_name(""), None);
    }

    #[test]
    fn secrets_from_strings() {
        assert_eq!(reveal(&into_secret(" s \n".to_string())), " s \n");
        #[cfg(feature = "aws")]
        assert_eq!(reveal(&into_trimmed_secret(" s \n".to_string())), "s");
    }
}
