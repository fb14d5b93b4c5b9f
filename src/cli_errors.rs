//! The command line's side of errors: the contract's exit statuses, and the
//! status each kind of [`handoff::Error`] exits with.

use handoff::ErrorKind;

/// The exit statuses of the command line and what each means, as the
/// contract gives them: `handoff --help` and the man pages print this list.
/// [`exit_status`] maps every error to one of them.
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

/// The exit status the command-line contract gives an error of `kind`:
/// 1 other, 2 usage, 3 cannot decrypt, 4 expired, 5 AWS error,
/// 6 transport, 7 not trusted.
pub fn exit_status(kind: &ErrorKind) -> u8 {
    use ErrorKind as K;
    match kind {
        K::InvalidArgument => 2,
        K::NoIdentity
        | K::BadIdentity
        | K::NoMatchingIdentity
        | K::WrongPassphrase
        | K::Damaged
        | K::NotAToken
        | K::UnsupportedVersion { .. }
        | K::ExcessiveWork { .. } => 3,
        K::Expired { .. } => 4,
        K::Aws { .. } => 5,
        K::Connect
        | K::Timeout
        | K::Deadline
        | K::Certificate
        | K::TooLarge
        | K::CutOff
        | K::Malformed => 6,
        K::Unsigned
        | K::UnknownSigner
        | K::BadSignature
        | K::ReAddressed
        | K::WrongAccount { .. } => 7,
        // Document, Io, Other, and kinds a newer library may add
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_status_is_listed_once_in_order() {
        let listed: Vec<u8> = EXIT_STATUSES.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed, (0..=7).collect::<Vec<u8>>());
    }

    #[test]
    fn kinds_exit_as_the_contract_says() {
        use ErrorKind as K;
        let cases = [
            (K::InvalidArgument, 2),
            (K::Document { line: Some(3) }, 1),
            (K::Io { path: "f".into() }, 1),
            (K::Other, 1),
            (K::NoIdentity, 3),
            (K::BadIdentity, 3),
            (K::NoMatchingIdentity, 3),
            (K::WrongPassphrase, 3),
            (K::Damaged, 3),
            (K::NotAToken, 3),
            (K::UnsupportedVersion { found: 2, known: 1 }, 3),
            (
                K::ExcessiveWork {
                    required: 30,
                    target: 18,
                },
                3,
            ),
            (K::Expired { at: "t".into() }, 4),
            (
                K::Aws {
                    code: "AccessDenied".into(),
                    message: "no".into(),
                    request_id: None,
                },
                5,
            ),
            (K::Connect, 6),
            (K::Timeout, 6),
            (K::Deadline, 6),
            (K::Certificate, 6),
            (K::TooLarge, 6),
            (K::CutOff, 6),
            (K::Malformed, 6),
            (K::Unsigned, 7),
            (K::UnknownSigner, 7),
            (K::BadSignature, 7),
            (K::ReAddressed, 7),
            (
                K::WrongAccount {
                    found: Some("1".into()),
                    expected: "2".into(),
                },
                7,
            ),
        ];
        for (kind, status) in cases {
            assert_eq!(exit_status(&kind), status, "{kind:?}");
            assert!(EXIT_STATUSES.iter().any(|(n, _)| *n == status));
        }
    }
}
