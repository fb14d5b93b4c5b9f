//! Mistakes recognised for what they are: a file of the wrong kind given in
//! the wrong place gets a message that names the right place, instead of a
//! parser's complaint about the wrong kind of file.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::Error;

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

/// The error for an identity file that could not be used: if it is a token,
/// says so and where a token goes (exit status 2); else `e` as it was.
pub fn identity_error(path: &Path, e: Error) -> Error {
    if looks_like_token(&head(path)) {
        return Error::Usage(format!(
            "{} looks like a handoff token, not an identity: give it as the FILE argument, not with -i",
            path.display()
        ));
    }
    e
}

/// The error for a `-r` recipient that is not one: if it names a file, asks
/// whether it is a recipients file, which goes with `-R`; else `e`.
pub fn recipient_error(recipient: &str, e: Error) -> Error {
    let path = Path::new(recipient.trim());
    if !recipient.trim().is_empty() && path.is_file() {
        return Error::Usage(format!(
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
        return Error::Decrypt(format!(
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
}
