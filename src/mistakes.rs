//! Mistakes recognised for what they are: a file of the wrong kind given in
//! the wrong place gets a message that names the right place, instead of a
//! parser's complaint about the wrong kind of file.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::{Error, ErrorKind};

/// Whether `bytes` begin like an age file: binary, armored, or the binary
/// file as one line of base64 (`seal --base64`).
pub fn looks_like_token(bytes: &[u8]) -> bool {
    let b = bytes.trim_ascii_start();
    b.starts_with(b"age-encryption.org/v1")
        || b.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        || b.starts_with(b"YWdlLWVuY3J5cHRpb24ub3JnL3Yx")
}

/// Whether `bytes` look like a credential document that `seal` reads (STS or
/// credential_process JSON, a credentials-file section, export lines) rather
/// than a sealed token.
pub fn looks_like_credential_document(bytes: &[u8]) -> bool {
    let b = bytes.trim_ascii_start();
    let has = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    (b.starts_with(b"{") && (has(b"\"AccessKeyId\"") || has(b"\"Credentials\"")))
        || has(b"aws_access_key_id")
        || has(b"AWS_ACCESS_KEY_ID=")
}

/// Whether `bytes` begin like a public key rather than an identity: the
/// first line that is not blank or a comment is an age recipient or an
/// OpenSSH public key line.
pub fn looks_like_public_key(bytes: &[u8]) -> bool {
    let first = bytes
        .split(|&c| c == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    first.is_some_and(|l| {
        [
            &b"age1"[..],
            b"ssh-ed25519 ",
            b"ssh-rsa ",
            b"ecdsa-sha2-",
            b"sk-ssh-ed25519@",
            b"sk-ecdsa-sha2-",
        ]
        .iter()
        .any(|p| l.starts_with(p))
    })
}

/// Whether the file at `path` begins like a public key
/// ([`looks_like_public_key`]).
pub fn is_public_key_file(path: &Path) -> bool {
    looks_like_public_key(&head(path))
}

/// The error for an identity file that could not be used: if it is a token
/// or a public key, says so and where it goes (exit status 2); a path that
/// begins with ~ gets [`unexpanded_tilde`]'s line; else `e` as it was.
pub fn identity_error(path: &Path, e: Error) -> Error {
    let head = head(path);
    if looks_like_token(&head) {
        return Error::usage(format!(
            "{} looks like a handoff token, not an identity: give it as the FILE argument, not with -i",
            path.display()
        ));
    }
    if looks_like_public_key(&head) {
        return Error::usage(format!(
            "{} is a public key, not an identity: -i takes the private key (for an SSH key, the file without .pub); a public key is for seal -r or -R",
            path.display()
        ));
    }
    unexpanded_tilde(path, e)
}

/// The error for a file that could not be read, when its path begins with
/// `~` and no such file exists: a second line says that `~` was not
/// expanded, since no shell ran the command (botocore runs
/// `credential_process` without one), and to give the full path. The exit
/// status stays `e`'s. Else `e` as it was.
pub fn unexpanded_tilde(path: &Path, e: Error) -> Error {
    if !path.to_string_lossy().starts_with('~') || path.exists() {
        return e;
    }
    let hint = "~ is not expanded here: no shell ran this command (botocore runs credential_process without one); give the full path, as in /home/NAME/token.age";
    match e.kind() {
        ErrorKind::Damaged | ErrorKind::InvalidArgument => {
            Error::new(e.kind().clone(), format!("{e}\n{hint}")).with_source(e)
        }
        ErrorKind::Io { .. } | ErrorKind::Other | ErrorKind::Document { .. } => {
            Error::other(format!("{e}\n{hint}")).with_source(e)
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
    if looks_like_credential_document(bytes) {
        return Error::damaged(format!(
            "{name} is a credential document, not a sealed token: seal it with handoff seal"
        ));
    }
    e
}

/// The first KiB of a file, zeroized when dropped (it may be a key).
fn head(path: &Path) -> Zeroizing<Vec<u8>> {
    let mut buf = Zeroizing::new(vec![0u8; 1024]);
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut buf))
        .unwrap_or(0);
    buf.truncate(n);
    buf
}

/// The first 24 characters of what someone typed, quoted, for a message.
pub(crate) fn short(s: &str) -> String {
    let s: String = s.chars().take(24).collect();
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_documents_are_told_apart() {
        assert!(looks_like_token(b"age-encryption.org/v1\n-> X25519"));
        assert!(looks_like_token(b"\n-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(looks_like_token(b"YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+"));
        assert!(!looks_like_token(b"AGE-SECRET-KEY-1..."));
        assert!(!looks_like_token(b"# created: 2026\nAGE-SECRET-KEY-1"));
        assert!(looks_like_credential_document(
            br#" {"Credentials": {"AccessKeyId": "ASIA"}}"#
        ));
        assert!(looks_like_credential_document(
            br#"{"Version": 1, "AccessKeyId": "A"}"#
        ));
        assert!(looks_like_credential_document(
            b"[default]\naws_access_key_id = A\n"
        ));
        assert!(looks_like_credential_document(
            b"export AWS_ACCESS_KEY_ID=A\n"
        ));
        assert!(!looks_like_credential_document(b"age-encryption.org/v1\n"));
        assert!(!looks_like_credential_document(b"{\"Version\": 1}"));
    }

    #[test]
    fn public_keys_are_told_from_identities() {
        assert!(looks_like_public_key(
            b"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
        ));
        assert!(looks_like_public_key(
            b"# team\n\nssh-ed25519 AAAAC3Nz a@b\n"
        ));
        assert!(looks_like_public_key(b"ssh-rsa AAAAB3Nza a@b"));
        assert!(!looks_like_public_key(
            b"# created: 2026\n# public key: age1ql3z\nAGE-SECRET-KEY-1QQQ\n"
        ));
        assert!(!looks_like_public_key(
            b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
        ));
        assert!(!looks_like_public_key(b"AGE-PLUGIN-YUBIKEY-1QQQ\n"));
        assert!(!looks_like_public_key(b""));
    }

    #[test]
    fn an_unexpanded_tilde_is_named_and_keeps_the_exit_status() {
        let missing = Path::new("~/no-such-handoff-token.age");
        let io = Error::io("cannot read", missing, std::io::ErrorKind::NotFound.into());
        let e = unexpanded_tilde(missing, io);
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("\n~ is not expanded here"), "{e}");
        let e = unexpanded_tilde(missing, Error::damaged("cannot read"));
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("botocore"), "{e}");
        // a path without ~ is left alone
        let e = unexpanded_tilde(Path::new("/nonexistent/t.age"), Error::damaged("x"));
        assert_eq!(e.to_string(), "x");
    }
}
