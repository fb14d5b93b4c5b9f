//! The library's error type.
//!
//! Every error is short, lowercase, names the thing involved (a path, a
//! version, an AWS code) and never carries a secret. [`Error::exit_code`] maps
//! each one to the exit status the command-line contract gives it.

use std::path::{Path, PathBuf};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `handoff`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or option breaks a rule (a name too long, a duration out of
    /// range, a recipient that is not one). Exit status 2.
    #[error("{0}")]
    Usage(String),

    /// A credential document (the input of `seal`) could not be read as one.
    /// Exit status 1.
    #[error("{0}")]
    Document(String),

    /// The sealed file could not be decrypted: no identity matched, the
    /// passphrase was wrong, or the file is damaged or truncated. Exit status 3.
    #[error("{0}")]
    Decrypt(String),

    /// No identity was given to open the token with. Exit status 3.
    #[error("no identity to open the token with: give -i FILE")]
    NoIdentity,

    /// The file decrypted, but its plaintext is not a handoff envelope.
    /// Exit status 3.
    #[error("not a handoff token: {0}")]
    NotAToken(String),

    /// The envelope was written by a newer `handoff`. Exit status 3.
    #[error("token format version {found} is newer than this handoff understands (version {known}); upgrade handoff")]
    UnsupportedVersion {
        /// The version the envelope carries.
        found: u64,
        /// The newest version this build reads.
        known: u64,
    },

    /// The credentials have expired. Exit status 4.
    #[error("the credentials expired at {at}; --allow-expired uses them anyway")]
    Expired {
        /// When they expired, RFC 3339.
        at: String,
    },

    /// AWS answered with an error. Exit status 5.
    #[error("AWS error {code}: {message}{}", request_id.as_deref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Aws {
        /// AWS's error code, e.g. `AccessDenied`.
        code: String,
        /// AWS's message.
        message: String,
        /// The request id, when AWS gave one.
        request_id: Option<String>,
    },

    /// The request did not get an answer: connection refused, timed out,
    /// reset, or the answer could not be read. Exit status 6.
    #[error("{message} ({endpoint})")]
    Transport {
        /// The endpoint that was being called.
        endpoint: String,
        /// What happened.
        message: String,
    },

    /// A trust check failed: a signature is missing or bad, the signer is not
    /// listed, the token was not addressed to this identity, or the account is
    /// not the expected one. Exit status 7.
    #[error("{0}")]
    Untrusted(String),

    /// The token is not signed, but a signers file says who must sign it.
    /// Exit status 7.
    #[error("the token is not signed, and {signers} lists who must sign")]
    Unsigned {
        /// The signers file, as [`crate::signing::Signers::source`] names it.
        signers: String,
    },

    /// Reading or writing a file failed. Exit status 1.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot read", "cannot write", ...).
        what: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },

    /// Anything else. Exit status 1.
    #[error("{0}")]
    Other(String),
}

/// The exit statuses of the command line and what each means, as the
/// contract gives them: `handoff --help` and the man pages print this list.
/// [`Error::exit_code`] maps every error to one of them.
pub const EXIT_STATUSES: &[(u8, &str)] = &[
    (0, "success"),
    (1, "any other failure"),
    (2, "usage error: a flag, an argument or a combination of them is wrong"),
    (
        3,
        "cannot decrypt: no matching identity, a wrong passphrase, a damaged or truncated file, or not a handoff token",
    ),
    (4, "the credentials have expired (--allow-expired uses them anyway)"),
    (5, "AWS answered with an error (its code and message are printed)"),
    (
        6,
        "network or transport failure: no answer from the endpoint, or one that cannot be read",
    ),
    (
        7,
        "not trusted: a signature missing or bad, a signer not listed, a token not addressed to this identity, or not the expected account",
    ),
];

impl Error {
    /// The exit status the command-line contract gives this error:
    /// 1 other, 2 usage, 3 cannot decrypt, 4 expired, 5 AWS error,
    /// 6 transport, 7 not trusted.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Decrypt(_)
            | Error::NoIdentity
            | Error::NotAToken(_)
            | Error::UnsupportedVersion { .. } => 3,
            Error::Expired { .. } => 4,
            Error::Aws { .. } => 5,
            Error::Transport { .. } => 6,
            Error::Untrusted(_) | Error::Unsigned { .. } => 7,
            Error::Document(_) | Error::Io { .. } | Error::Other(_) => 1,
        }
    }

    pub(crate) fn io(what: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    pub(crate) fn document(msg: impl Into<String>) -> Self {
        Error::Document(msg.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(Error::Decrypt("x".into()).exit_code(), 3);
        assert_eq!(
            Error::UnsupportedVersion { found: 2, known: 1 }.exit_code(),
            3
        );
        assert_eq!(Error::Expired { at: "t".into() }.exit_code(), 4);
        let aws = Error::Aws {
            code: "AccessDenied".into(),
            message: "no".into(),
            request_id: Some("r1".into()),
        };
        assert_eq!(aws.exit_code(), 5);
        assert_eq!(
            aws.to_string(),
            "AWS error AccessDenied: no (request id r1)"
        );
        assert_eq!(
            Error::Transport {
                endpoint: "http://127.0.0.1:1".into(),
                message: "connection refused".into()
            }
            .exit_code(),
            6
        );
        assert_eq!(Error::Untrusted("x".into()).exit_code(), 7);
        assert_eq!(Error::NoIdentity.exit_code(), 3);
        let unsigned = Error::Unsigned {
            signers: "signers.txt".into(),
        };
        assert_eq!(unsigned.exit_code(), 7);
    }

    #[test]
    fn every_exit_status_is_listed_once_in_order() {
        let listed: Vec<u8> = EXIT_STATUSES.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed, (0..=7).collect::<Vec<u8>>());
        let io = Error::io(
            "cannot read",
            Path::new("f"),
            std::io::ErrorKind::NotFound.into(),
        );
        for e in [
            Error::usage("x"),
            Error::document("x"),
            Error::Decrypt("x".into()),
            Error::NoIdentity,
            Error::NotAToken("x".into()),
            Error::Expired { at: "t".into() },
            Error::Transport {
                endpoint: "e".into(),
                message: "m".into(),
            },
            Error::Untrusted("x".into()),
            io,
            Error::Other("x".into()),
        ] {
            assert!(listed.contains(&e.exit_code()), "{e:?}");
        }
    }

    #[test]
    fn version_error_names_both_versions() {
        let e = Error::UnsupportedVersion { found: 9, known: 1 };
        let s = e.to_string();
        assert!(s.contains('9') && s.contains("version 1") && s.contains("upgrade"));
    }
}
