//! The command line's side of errors: the contract's exit statuses, the
//! status each kind of [`handoff::Error`] exits with, and the words that
//! name the command line (a flag to give, a file in the wrong place), which
//! the library's messages leave out.

use std::path::Path;

use handoff::{Error, ErrorKind};

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
        K::InvalidArgument | K::UnknownAction { .. } => 2,
        K::NoIdentity
        | K::BadIdentity
        | K::NoPassphrase
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
        // Document, Io, Exists, Unrepresentable, Other, and kinds a newer
        // library may add
        _ => 1,
    }
}

/// What the command line adds to a message of `kind`: the flag that gets
/// past it.
fn hint(kind: &ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::Expired { .. } => "; --allow-expired uses them anyway",
        ErrorKind::Exists { .. } => "; --force replaces it",
        ErrorKind::NoPassphrase => ": give --passphrase-file, or run on a terminal",
        ErrorKind::UnknownAction { .. } => "\n--allow-unknown-actions uses it anyway",
        ErrorKind::Unrepresentable => "; use another --format (env, fish, powershell, json)",
        _ => return None,
    })
}

/// The lines `handoff: ` prints for `e`: its message with the command
/// line's hint, at most two lines (the second one a hint, or the second
/// line of a message that quotes someone else's words).
pub fn lines(e: &Error) -> Vec<String> {
    let mut text = e.to_string();
    if let Some(h) = hint(e.kind()) {
        text.push_str(h);
    }
    let mut lines = text.lines().map(str::to_string);
    let first = lines.next().unwrap_or_else(|| "failed".to_string());
    std::iter::once(first).chain(lines.next()).collect()
}

/// `e` with `more` after its message, the kind kept.
fn with_words(e: Error, more: &str) -> Error {
    let message = format!("{e}{more}");
    Error::new(e.kind().clone(), message).with_source(e)
}

/// An encrypted `--sign` key with no passphrase, or a wrong one: a usage
/// error (exit 2) that names the flag.
pub fn signing_key_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::NoPassphrase => {
            let message = format!("{e}: give --sign-passphrase-file, or run on a terminal");
            Error::usage(message).with_source(e)
        }
        ErrorKind::WrongPassphrase => Error::usage(e.to_string()).with_source(e),
        _ => e,
    }
}

/// A token that cannot be read (missing, a directory, unreadable) cannot be
/// decrypted: exit 3, as the contract says.
pub fn unreadable_token(e: Error) -> Error {
    match e.kind() {
        ErrorKind::Io { .. } => Error::new(ErrorKind::Damaged, e.to_string()).with_source(e),
        _ => e,
    }
}

/// No identity: name `-i` and the default identity file.
pub fn no_identity(e: Error) -> Error {
    let default = handoff::paths::default_identity_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "an identity".into());
    with_words(
        e,
        &format!(": give -i FILE, or create {default} with handoff keygen"),
    )
}

/// A token that is not signed, though a signers file says who signs:
/// name `--signers none`.
pub fn unsigned(e: Error) -> Error {
    with_words(e, "\nto open it without that check, give --signers none")
}

/// The error for an identity file that could not be used: if it is a token
/// or a public key, says so and where it goes (exit status 2); a path that
/// begins with ~ gets [`unexpanded_tilde`]'s line; else `e` as it was.
pub fn identity_error(path: &Path, e: Error) -> Error {
    if handoff::seal::mistakes::file_looks_like_token(path) {
        return Error::usage(format!(
            "{} looks like a handoff token, not an identity: give it as the FILE argument, not with -i",
            path.display()
        ));
    }
    if handoff::seal::mistakes::is_public_key_file(path) {
        return Error::usage(format!(
            "{} is a public key, not an identity: -i takes the private key (for an SSH key, the file without .pub); a public key is for seal -r or -R",
            path.display()
        ));
    }
    unexpanded_tilde(path, e)
}

/// The error for a file that could not be read, when its path begins with
/// `~` and no such file exists: no shell expanded the `~` (botocore runs
/// `credential_process` without one), so the message says so. The exit
/// status stays what it was.
pub fn unexpanded_tilde(path: &Path, e: Error) -> Error {
    if !path.to_string_lossy().starts_with('~') || path.exists() {
        return e;
    }
    let hint = "\n~ is not expanded here: no shell ran this command (botocore runs credential_process without one); give the full path, as in /home/NAME/token.age";
    match e.kind() {
        ErrorKind::Damaged | ErrorKind::BadIdentity | ErrorKind::InvalidArgument => {
            with_words(e, hint)
        }
        ErrorKind::Io { .. } | ErrorKind::Other | ErrorKind::Document { .. } => {
            let message = format!("{e}{hint}");
            Error::other(message).with_source(e)
        }
        _ => e,
    }
}

/// The error for a `-r` recipient that is not one: if it names a file, asks
/// whether it is a recipients file, which goes with `-R`; else `e`.
pub fn recipient_error(recipient: &str, e: Error) -> Error {
    let path = Path::new(recipient.trim());
    if !recipient.trim().is_empty() && path.is_file() {
        return Error::usage(format!(
            "{} is a file, not a recipient: is this a recipients file? use -R {}",
            path.display(),
            path.display()
        ));
    }
    e
}

/// The error for a token that could not be opened: if it is a credential
/// document, says to seal it first (exit status 3); else `e`.
pub fn token_error(name: &str, bytes: &[u8], e: Error) -> Error {
    if handoff::seal::mistakes::looks_like_credential_document(bytes) {
        return Error::new(
            ErrorKind::NotAToken,
            format!(
                "{name} is a credential document, not a sealed token: seal it with handoff seal"
            ),
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_adds_the_flag_that_gets_past_a_kind() {
        let say = |kind: ErrorKind, message: &str| lines(&Error::new(kind, message));
        assert_eq!(
            say(
                ErrorKind::Expired {
                    at: "2026-01-01T00:00:00Z".into()
                },
                "the credentials expired at 2026-01-01T00:00:00Z"
            ),
            ["the credentials expired at 2026-01-01T00:00:00Z; --allow-expired uses them anyway"]
        );
        assert_eq!(
            say(
                ErrorKind::Exists {
                    path: "t.age".into()
                },
                "t.age already exists"
            ),
            ["t.age already exists; --force replaces it"]
        );
        assert_eq!(
            say(ErrorKind::NoPassphrase, "this token is sealed with a passphrase"),
            ["this token is sealed with a passphrase: give --passphrase-file, or run on a terminal"]
        );
        assert_eq!(
            say(
                ErrorKind::UnknownAction {
                    action: "ec2:X".into()
                },
                "unknown action ec2:X"
            ),
            [
                "unknown action ec2:X",
                "--allow-unknown-actions uses it anyway"
            ]
        );
        // no more than two lines, whatever the message holds
        assert_eq!(say(ErrorKind::Other, "a\nb\nc"), ["a", "b"]);
        assert_eq!(say(ErrorKind::Other, ""), ["failed"]);
        // an encrypted --sign key is a usage error that names its flag
        let e = signing_key_error(Error::new(
            ErrorKind::NoPassphrase,
            "signing key k: the key is encrypted",
        ));
        assert_eq!(e.kind(), &ErrorKind::InvalidArgument);
        assert_eq!(
            e.to_string(),
            "signing key k: the key is encrypted: give --sign-passphrase-file, or run on a terminal"
        );
        let e = signing_key_error(Error::new(ErrorKind::WrongPassphrase, "wrong"));
        assert_eq!(exit_status(e.kind()), 2);
    }

    #[test]
    fn an_unexpanded_tilde_is_named_and_keeps_the_exit_status() {
        let missing = Path::new("~/no-such-handoff-token.age");
        let io = Error::new(
            ErrorKind::Io {
                path: missing.into(),
            },
            "cannot read ~/no-such-handoff-token.age",
        );
        let e = unexpanded_tilde(missing, io);
        assert_eq!(exit_status(e.kind()), 1);
        assert!(e.to_string().contains("\n~ is not expanded here"), "{e}");
        let e = unexpanded_tilde(missing, Error::new(ErrorKind::Damaged, "cannot read"));
        assert_eq!(e.kind(), &ErrorKind::Damaged);
        assert!(e.to_string().contains("botocore"), "{e}");
        // a path without ~ is left alone
        let e = unexpanded_tilde(
            Path::new("/nonexistent/t.age"),
            Error::new(ErrorKind::Damaged, "x"),
        );
        assert_eq!(e.to_string(), "x");
    }

    #[test]
    fn a_token_or_a_public_key_given_as_an_identity_is_named() {
        let dir = std::env::temp_dir().join(format!("handoff-cli-errors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token.age");
        std::fs::write(&token, "age-encryption.org/v1\n-> X25519 abc\n").unwrap();
        let public = dir.join("id.pub");
        std::fs::write(&public, "ssh-ed25519 AAAAC3Nz a@b\n").unwrap();
        let bad = || Error::new(ErrorKind::BadIdentity, "x");
        let e = identity_error(&token, bad());
        assert!(e.to_string().contains("looks like a handoff token"), "{e}");
        assert_eq!(exit_status(e.kind()), 2);
        let e = identity_error(&public, bad());
        assert!(e.to_string().contains("is a public key"), "{e}");
        let e = identity_error(&dir.join("none"), bad());
        assert_eq!(e.to_string(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
