//! The library's error type: [`Error`], whose [`kind`](Error::kind) says the
//! cause a caller acts on.
//!
//! Every error is short, lowercase, names the thing involved (a path, a
//! version, an AWS code) and never carries a secret. Its `Display` is that
//! message; what it comes from (age's `DecryptError`, an `io::Error`, an
//! HTTP or TLS error) stays reachable through
//! [`source`](std::error::Error::source). Several errors found at once (the
//! lines of a roster) are one error whose [`related`](Error::related) list
//! holds each.
//!
//! The exit statuses of the command line, and the flags a message could
//! suggest, are the binary's business: it maps kinds to them. No message
//! here names a command-line flag.
//!
//! An embedder tells the causes apart by kind, not by words:
//!
//! ```
//! use handoff::{open, seal, Credentials, ErrorKind, Form, Identities, Kind, Recipients, Token};
//!
//! // a token sealed to one identity
//! let (ours_text, ours_public) = handoff::seal::keys::generate();
//! let mut to = Recipients::new();
//! to.add(&ours_public)?;
//! let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), None, None);
//! let sealed = seal(&Token::new(Kind::Static, creds), &to, Form::Binary)?;
//! let mut ours = Identities::new();
//! ours.add_text(&ours_text, "ours")?;
//!
//! // someone else's identity: no matching identity
//! let (theirs_text, _) = handoff::seal::keys::generate();
//! let mut theirs = Identities::new();
//! theirs.add_text(&theirs_text, "theirs")?;
//! let e = open(&sealed, &theirs).unwrap_err();
//! assert_eq!(e.kind(), &ErrorKind::NoMatchingIdentity);
//!
//! // the right identity, but a damaged file: another cause
//! let mut damaged = sealed.to_vec();
//! let last = damaged.len() - 1;
//! damaged[last] ^= 1;
//! let e = open(&damaged, &ours).unwrap_err();
//! assert_eq!(e.kind(), &ErrorKind::Damaged);
//! // what age or the reader said is kept as the cause
//! assert!(std::error::Error::source(&e).is_some());
//!
//! match e.kind() {
//!     ErrorKind::NoMatchingIdentity => println!("ask the sender to seal it to you"),
//!     ErrorKind::Damaged => println!("ask the sender to send it again"),
//!     _ => println!("{e}"),
//! }
//! # Ok::<(), handoff::Error>(())
//! ```

use std::path::{Path, PathBuf};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The boxed cause an [`Error`] keeps.
type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in `handoff`: a [`kind`](Error::kind) to match
/// on, a message, and the cause when there is one.
///
/// One pointer wide: the parts live in a box, so a `Result` stays small.
pub struct Error {
    inner: Box<Inner>,
}

/// What an [`Error`] holds.
struct Inner {
    kind: ErrorKind,
    message: String,
    /// Shown before the message (`not a handoff token: `).
    prefix: &'static str,
    /// Shown after the message in parentheses (the endpoint a transport
    /// error happened on).
    context: Option<String>,
    source: Option<Source>,
    related: Vec<Error>,
}

/// Why an [`Error`] happened: the causes a caller acts on. More may be
/// added; match with a `_` arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    // ---- opening a token ----
    /// No identity was given to open the token with (none named, no
    /// default identity file).
    NoIdentity,
    /// An identity given cannot be used: its file cannot be read, is not an
    /// identity handoff reads, is locked with no terminal to ask on, or its
    /// plugin failed.
    BadIdentity,
    /// A passphrase is needed (the token is sealed with one, or a key is
    /// encrypted) and there is none: none given, and no terminal to ask on.
    NoPassphrase,
    /// The identities given are not ones the token was sealed to.
    NoMatchingIdentity,
    /// The passphrase is wrong: the token's (age cannot tell that from a
    /// damaged passphrase-sealed file), or an encrypted key's.
    WrongPassphrase,
    /// The sealed file (or an identity file) is damaged or truncated: its
    /// bytes are not what age wrote.
    Damaged,
    /// The file decrypted, but its plaintext is not a handoff envelope; or
    /// the input is not a sealed token at all.
    NotAToken,
    /// The envelope was written by a newer `handoff`.
    UnsupportedVersion {
        /// The version the envelope carries.
        found: u64,
        /// The newest version this build reads.
        known: u64,
    },
    /// The token's passphrase encryption asks for more work than this
    /// machine does in about a second (age's `ExcessiveWork`): log2 of the
    /// scrypt work factor.
    ExcessiveWork {
        /// The work factor the file asks for.
        required: u8,
        /// The work factor this machine does in about a second.
        target: u8,
    },

    // ---- using credentials ----
    /// The credentials have expired.
    Expired {
        /// When they expired, RFC 3339.
        at: String,
    },

    // ---- trust ----
    /// The token is not signed, but a signers file says who must sign it.
    Unsigned,
    /// The token is signed by a key the signers file does not list, or the
    /// signers file cannot be read, so no signer can be trusted.
    UnknownSigner,
    /// The token's signature is missing, malformed, of a refused key type,
    /// or does not verify.
    BadSignature,
    /// The token was signed for other recipients than the identity that
    /// opened it: it was re-addressed.
    ReAddressed,
    /// The credentials belong to another account than the expected one.
    WrongAccount {
        /// The account they belong to, when it could be asked.
        found: Option<String>,
        /// The account expected.
        expected: String,
    },

    // ---- AWS ----
    /// AWS answered with an error.
    Aws {
        /// AWS's error code, e.g. `AccessDenied`.
        code: String,
        /// AWS's message.
        message: String,
        /// The request id, when AWS gave one.
        request_id: Option<String>,
    },

    // ---- transport: no answer, or none that can be read ----
    /// The connection could not be made (refused, unreachable, no such
    /// host, a proxy that failed).
    Connect,
    /// No answer (or no next part of one) within the read timeout.
    Timeout,
    /// The call, retries included, did not finish within its deadline.
    Deadline,
    /// The TLS handshake failed: the server's certificate is not trusted,
    /// has expired, or names another host.
    Certificate,
    /// The answer is larger than handoff reads.
    TooLarge,
    /// The answer was cut off (the connection closed or reset mid-way).
    CutOff,
    /// An answer came, but it cannot be read (not the XML or JSON expected,
    /// a status with no error in it).
    Malformed,

    // ---- the caller's input ----
    /// An argument or option breaks a rule (a name too long, a duration out
    /// of range, a recipient that is not one).
    InvalidArgument,
    /// An IAM action that is not in the list of known actions (a typo,
    /// most likely; the message suggests the nearest).
    UnknownAction {
        /// The action, as `service:Action`.
        action: String,
    },
    /// A file (or a profile in one) is already there, and replacing it was
    /// not allowed.
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The token holds a value the chosen output format cannot carry safely
    /// (a control character, for a shell's syntax).
    Unrepresentable,
    /// A document (a credential document, a policy, a config file) could
    /// not be read as one.
    Document {
        /// The line, counted from 1, when one is to blame.
        line: Option<usize>,
    },
    /// Reading or writing a file failed.
    Io {
        /// The file involved.
        path: PathBuf,
    },
    /// Anything else.
    Other,
}

impl Error {
    /// An error of `kind`, saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                prefix: "",
                context: None,
                source: None,
                related: Vec::new(),
            }),
        }
    }

    /// This error with `source` as its cause.
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// This error with `related` as the several errors it stands for.
    pub fn with_related(mut self, related: Vec<Error>) -> Self {
        self.inner.related = related;
        self
    }

    /// The cause a caller acts on.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// When this error stands for several found at once (the lines of a
    /// roster), each of them; else nothing.
    pub fn related(&self) -> &[Error] {
        &self.inner.related
    }

    /// The message in its own words, without what `Display` adds around it
    /// (`AWS error CODE: `, `not a handoff token: `, the endpoint).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// An argument or option that breaks a rule.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, msg)
    }

    /// Anything else.
    pub fn other(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Other, msg)
    }

    /// A document that cannot be read as one, no line named.
    pub(crate) fn document(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Document { line: None }, msg)
    }

    /// Reading or writing `path` failed: "`what` `path`: `source`".
    pub(crate) fn io(what: &str, path: &Path, source: std::io::Error) -> Self {
        Error::new(
            ErrorKind::Io {
                path: path.to_path_buf(),
            },
            format!("{what} {}: {source}", path.display()),
        )
        .with_source(source)
    }

    /// Not a handoff token: `why`.
    pub(crate) fn not_a_token(why: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::NotAToken, why);
        e.inner.prefix = "not a handoff token: ";
        e
    }

    /// The token or a file it needs is damaged or truncated.
    pub(crate) fn damaged(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Damaged, msg)
    }

    /// A token of a newer format version.
    pub(crate) fn unsupported_version(found: u64, known: u64) -> Self {
        Error::new(
            ErrorKind::UnsupportedVersion { found, known },
            format!("token format version {found} is newer than this handoff understands (version {known}); upgrade handoff"),
        )
    }

    /// Expired credentials.
    pub(crate) fn expired(at: impl Into<String>) -> Self {
        let at = at.into();
        let message = format!("the credentials expired at {at}");
        Error::new(ErrorKind::Expired { at }, message)
    }

    /// A token that is not signed, though `signers` says who must sign.
    pub(crate) fn unsigned(signers: &str) -> Self {
        Error::new(
            ErrorKind::Unsigned,
            format!("the token is not signed, and {signers} lists who must sign"),
        )
    }

    /// No identity to open the token with.
    pub(crate) fn no_identity() -> Self {
        Error::new(ErrorKind::NoIdentity, "no identity to open the token with")
    }

    /// An answer of AWS's that is an error.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn aws(
        code: impl Into<String>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        let message = message.into();
        Error::new(
            ErrorKind::Aws {
                code: code.into(),
                message: message.clone(),
                request_id,
            },
            message,
        )
    }

    /// A transport failure of `kind` on `endpoint`.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn transport(
        kind: ErrorKind,
        endpoint: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let mut e = Error::new(kind, message);
        e.inner.context = Some(endpoint.into());
        e
    }

    /// Whether AWS answered with the error `code`.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn is_aws(&self, code: &str) -> bool {
        matches!(&self.inner.kind, ErrorKind::Aws { code: c, .. } if c == code)
    }

    /// Whether this is a transport failure: no answer, or none that can be
    /// read.
    pub fn is_transport(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Connect
                | ErrorKind::Timeout
                | ErrorKind::Deadline
                | ErrorKind::Certificate
                | ErrorKind::TooLarge
                | ErrorKind::CutOff
                | ErrorKind::Malformed
        )
    }

    /// This error with its message rewritten by `f` (a note added, secrets
    /// redacted); AWS's message in the kind too.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn map_message(mut self, f: impl Fn(String) -> String) -> Self {
        self.inner.message = f(std::mem::take(&mut self.inner.message));
        if let ErrorKind::Aws {
            code,
            message,
            request_id,
        } = &mut self.inner.kind
        {
            *code = f(std::mem::take(code));
            *message = f(std::mem::take(message));
            *request_id = request_id.take().map(&f);
        }
        self
    }
}

impl Error {
    /// This error with `context` (what was being done) put before its
    /// message; its kind, cause and AWS's own words in the kind are kept.
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    pub(crate) fn within(mut self, context: &str) -> Self {
        self.inner.message = format!("{context}: {}", self.inner.message);
        self
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        f.write_str(inner.prefix)?;
        match &inner.kind {
            ErrorKind::Aws {
                code, request_id, ..
            } => {
                write!(f, "AWS error {code}: {}", inner.message)?;
                if let Some(r) = request_id {
                    write!(f, " (request id {r})")?;
                }
            }
            _ => f.write_str(&inner.message)?,
        }
        if let Some(c) = &inner.context {
            write!(f, " ({c})")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &inner.kind)
            .field("message", &inner.message);
        if let Some(c) = &inner.context {
            d.field("context", c);
        }
        if let Some(s) = &inner.source {
            d.field("source", s);
        }
        if !inner.related.is_empty() {
            d.field("related", &inner.related);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_error_crosses_threads_and_boxes_into_others() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<Error>();
        // one pointer: a Result<T, Error> stays small
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn several_errors_are_one_with_a_list() {
        let e = Error::usage("2 errors in roster r").with_related(vec![
            Error::usage("r line 1: x"),
            Error::usage("r line 2: y"),
        ]);
        assert_eq!(e.to_string(), "2 errors in roster r");
        let each: Vec<String> = e.related().iter().map(ToString::to_string).collect();
        assert_eq!(each, ["r line 1: x", "r line 2: y"]);
    }

    #[test]
    fn debug_shows_kind_message_and_the_list_only_when_there_is_one() {
        // what `unwrap()` and `fn main() -> Result<(), Error>` print
        let one = format!("{:?}", Error::usage("x"));
        assert!(one.contains("kind: InvalidArgument"), "{one}");
        assert!(one.contains("message: \"x\""), "{one}");
        assert!(!one.contains("related"), "{one}");
        let several = Error::usage("2 errors in roster r")
            .with_related(vec![Error::new(ErrorKind::Document { line: Some(1) }, "y")]);
        let several = format!("{several:?}");
        assert!(several.contains("related: ["), "{several}");
        assert!(
            several.contains("kind: Document { line: Some(1) }"),
            "{several}"
        );
    }

    #[test]
    fn aws_error_names_code_and_request_id() {
        let aws = Error::aws("AccessDenied", "no", Some("r1".into()));
        assert_eq!(
            aws.to_string(),
            "AWS error AccessDenied: no (request id r1)"
        );
        assert!(matches!(aws.kind(), ErrorKind::Aws { code, .. } if code == "AccessDenied"));
    }

    #[test]
    fn io_error_keeps_its_cause() {
        let io = Error::io(
            "cannot read",
            Path::new("f"),
            std::io::ErrorKind::NotFound.into(),
        );
        assert_eq!(
            io.kind(),
            &ErrorKind::Io {
                path: PathBuf::from("f")
            }
        );
        let cause = io.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(cause.map(|c| c.kind()), Some(std::io::ErrorKind::NotFound));
    }

    #[test]
    fn transport_error_names_the_endpoint() {
        let e = Error::transport(
            ErrorKind::Connect,
            "http://127.0.0.1:1",
            "connection refused",
        );
        assert_eq!(e.to_string(), "connection refused (http://127.0.0.1:1)");
        assert!(e.is_transport());
        let e = e.map_message(|m| format!("{m} (after 3 attempts)"));
        assert_eq!(
            e.to_string(),
            "connection refused (after 3 attempts) (http://127.0.0.1:1)"
        );
    }

    #[test]
    fn version_error_names_both_versions() {
        let e = Error::unsupported_version(9, 1);
        let s = e.to_string();
        assert!(s.contains('9') && s.contains("version 1") && s.contains("upgrade"));
        assert_eq!(
            e.kind(),
            &ErrorKind::UnsupportedVersion { found: 9, known: 1 }
        );
    }
}
