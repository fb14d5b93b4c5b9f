//! Mistakes recognised for what they are: what a file of the wrong kind
//! looks like (a token, a public key, a credential document), so that the
//! command line can name the right place for it instead of passing on a
//! parser's complaint about the wrong kind of file.

use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

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

/// Whether the file at `path` begins like a sealed token
/// ([`looks_like_token`]).
pub fn file_looks_like_token(path: &Path) -> bool {
    looks_like_token(&head(path))
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
}
