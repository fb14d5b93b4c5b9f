//! PEM RSA private keys (`ssh-keygen -m PEM` writes PKCS#1, `-m PKCS8`
//! writes PKCS#8): their public key as an OpenSSH line, so that a signed
//! token's `SealedTo` can be checked against the key that opened it, and
//! PKCS#8 re-encoded as the PKCS#1 PEM that age reads.

use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use zeroize::Zeroizing;

/// An unencrypted PEM RSA key, ready for age.
pub(crate) struct PemRsa {
    /// The key as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`).
    pub(crate) pkcs1_pem: Zeroizing<String>,
    /// Its public key, `ssh-rsa AAAA...`.
    pub(crate) public: String,
}

const PKCS1: &str = "RSA PRIVATE KEY";
const PKCS8: &str = "PRIVATE KEY";

/// Reads `text` as an unencrypted PKCS#1 or PKCS#8 PEM RSA private key;
/// `None` for anything else (OpenSSH keys, encrypted PEM, other key types).
pub(crate) fn read(text: &str) -> Option<PemRsa> {
    let (label, der) = pem_body(text)?;
    let key = match label {
        PKCS1 => rsa::RsaPrivateKey::from_pkcs1_der(&der).ok()?,
        PKCS8 => rsa::RsaPrivateKey::from_pkcs8_der(&der).ok()?,
        _ => return None,
    };
    let pkcs1 = key.to_pkcs1_der().ok()?;
    let body = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pkcs1.as_bytes()));
    let mut pem = Zeroizing::new(String::with_capacity(body.len() + body.len() / 64 + 80));
    pem.push_str("-----BEGIN RSA PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).ok()?);
        pem.push('\n');
    }
    pem.push_str("-----END RSA PRIVATE KEY-----\n");
    let public = ssh_key::public::RsaPublicKey {
        e: ssh_key::Mpint::from_positive_bytes(&key.e().to_bytes_be()).ok()?,
        n: ssh_key::Mpint::from_positive_bytes(&key.n().to_bytes_be()).ok()?,
    };
    let public = ssh_key::PublicKey::from(ssh_key::public::KeyData::Rsa(public))
        .to_openssh()
        .ok()?;
    Some(PemRsa {
        pkcs1_pem: pem,
        public,
    })
}

/// The label and decoded body of the one PEM block in `text`, unencrypted
/// (no `Proc-Type` header).
fn pem_body(text: &str) -> Option<(&str, Zeroizing<Vec<u8>>)> {
    let text = text.trim();
    let first = text.lines().next()?;
    let label = first.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
    let end = format!("-----END {label}-----");
    let body = text
        .strip_prefix(first)?
        .trim()
        .strip_suffix(end.as_str())?;
    if body.contains(':') {
        return None;
    }
    let b64: Zeroizing<String> =
        Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
    let der = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .ok()?,
    );
    Some((label, der))
}
