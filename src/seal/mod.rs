//! Sealing tokens to age recipients and opening them with age identities.
//!
//! ```
//! use handoff::{seal, open, Credentials, Form, Identities, Kind, Recipients, Token};
//! let key = age::x25519::Identity::generate();
//! let token = Token::new(Kind::Static, Credentials::new("AKIAIOSFODNN7EXAMPLE", "secret".into(), None, None));
//! let mut to = Recipients::new();
//! to.add(&key.to_public().to_string())?;
//! let sealed = seal(&token, &to, Form::Armor)?;
//! let mut ids = Identities::new();
//! ids.add_text(&secrecy::ExposeSecret::expose_secret(&key.to_string()), "key")?;
//! assert_eq!(open(&sealed, &ids)?.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
//! # Ok::<(), handoff::Error>(())
//! ```

use std::borrow::Cow;

use zeroize::Zeroizing;

use crate::credentials::Token;
use crate::seal::prompt::{prompt_passphrase, Prompt};
use crate::{envelope, Error, ErrorKind, Result};

mod age_file;
mod identities;
pub mod keys;
pub mod mistakes;
pub(crate) mod pem_rsa;
pub(crate) mod plugin;
pub(crate) mod prompt;
mod recipients;
pub(crate) mod recipients_file;
pub mod signing;
pub(crate) mod ssh_wire;

pub(crate) use age_file::*;
pub use age_file::{read_sealed, read_sealed_file, MAX_HEADER_BYTES};
pub(crate) use identities::*;
pub use identities::{read_passphrase_file, Identities};
pub use recipients::Recipients;
pub(crate) use recipients::*;

/// Sealed input larger than this is refused before it is read whole. A token
/// is a few KB.
pub const MAX_SEALED_SIZE: usize = 1 << 20;

/// The form of a sealed file. `open` recognises all three by itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Form {
    /// The binary age file.
    #[default]
    Binary,
    /// ASCII armor (`-----BEGIN AGE ENCRYPTED FILE-----`).
    Armor,
    /// The binary file as one line of standard base64, for channels that
    /// mangle line breaks.
    Base64,
}

/// Seals a token to `recipients`, in the given form. The envelope says when
/// it was issued: the token's `IssuedAt`, else now.
pub fn seal(token: &Token, recipients: &Recipients, form: Form) -> Result<Vec<u8>> {
    let plaintext = envelope::encode(&stamped(token));
    seal_bytes(&plaintext, recipients, form)
}

/// The token with its `IssuedAt`: its own (a token minted by STS carries
/// the time of the mint), else now. The one place a seal, signed or not,
/// gets its time.
pub(crate) fn stamped(token: &Token) -> Cow<'_, Token> {
    match token.issued_at() {
        Some(_) => Cow::Borrowed(token),
        None => Cow::Owned(token.clone().with_issued_at(crate::clock::now())),
    }
}

/// Seals a token signed with the sender's SSH key: the plaintext is the
/// signed envelope, whose inner envelope names `recipients` (`SealedTo`),
/// carries a random `TokenId` and says when it was issued.
pub fn seal_signed(
    token: &Token,
    recipients: &Recipients,
    form: Form,
    key: &crate::seal::signing::SigningKey,
) -> Result<Vec<u8>> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)
        .map_err(|e| Error::other(format!("no randomness for the token id: {e}")))?;
    seal_signed_with_id(token, recipients, form, key, &id)
}

/// [`seal_signed`] with the `TokenId` given: the issuer's ledger records
/// the same id the recipient's `show` prints.
pub(crate) fn seal_signed_with_id(
    token: &Token,
    recipients: &Recipients,
    form: Form,
    key: &crate::seal::signing::SigningKey,
    id: &[u8],
) -> Result<Vec<u8>> {
    let token = stamped(token);
    let inner = envelope::encode_inner(&token, &recipients.names(), id);
    let signature = key.sign(&inner)?;
    let outer = envelope::encode_signed(&inner, &signature);
    seal_bytes(&outer, recipients, form)
}

/// The token as it is sealed: `label` set, `region` recorded when it has
/// none, `IssuedAt` stamped ([`seal()`] stamps the same way, so a
/// token prepared here keeps the time the ledger records), and a fresh
/// random token id, which a signed handoff carries as its `TokenId` and the
/// ledger records, so the id `show` prints is the one `issued` lists.
pub fn prepare(token: Token, label: Option<String>, region: Option<&str>) -> Result<Token> {
    let mut token = stamped(&token).into_owned();
    if let Some(label) = label {
        token = token.with_label(label);
    }
    if let (Some(region), None) = (region, token.region()) {
        token = token.with_region(region.to_string());
    }
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)
        .map_err(|e| crate::Error::other(format!("no randomness for the token id: {e}")))?;
    Ok(token.with_token_id(id.to_vec()))
}

/// Seals `token` to `recipients`, signed with `key` when there is one (with
/// the token's own id, set by [`prepare`], as its `TokenId`).
pub fn seal_token(
    token: &Token,
    recipients: &Recipients,
    form: Form,
    key: Option<&crate::seal::signing::SigningKey>,
) -> Result<Vec<u8>> {
    match (key, token.token_id()) {
        (Some(key), Some(id)) => seal_signed_with_id(token, recipients, form, key, id),
        (Some(key), None) => seal_signed(token, recipients, form, key),
        (None, _) => seal(token, recipients, form),
    }
}

/// Opens a sealed token (binary, armored or one-line base64) with
/// `identities`. A signed token's signature must verify and the token must
/// name the identity that opened it; its signer is reported unverified (see
/// [`open_with`] to check it against a signers file).
pub fn open(sealed: &[u8], identities: &Identities) -> Result<Token> {
    open_with(sealed, identities, None)
}

/// Opens a sealed token and, with `signers`, requires it to be signed by a
/// key the signers file lists ([`ErrorKind::Unsigned`] when it is not signed,
/// [`ErrorKind::UnknownSigner`], [`ErrorKind::BadSignature`] or [`ErrorKind::ReAddressed`] when the signature is not good enough; exit 7).
pub fn open_with(
    sealed: &[u8],
    identities: &Identities,
    signers: Option<&crate::seal::signing::Signers>,
) -> Result<Token> {
    let (plaintext, opened_by) = open_bytes(sealed, identities)?;
    // Who opened it matters only for a signed token: worked out there.
    crate::seal::signing::trust(envelope::decode_any(&plaintext)?, signers, |r| {
        opened_by.answers_to(identities, r)
    })
}

/// Decrypts a sealed file (any of the three forms) to its plaintext without
/// reading it as an envelope: `open` without the last step, with the same
/// bounds and errors. For checking the age layer on its own (the C2SP age
/// test vectors in tests/age_vectors.rs) and for tools that inspect a token.
pub fn decrypt(sealed: &[u8], identities: &Identities) -> Result<Zeroizing<Vec<u8>>> {
    open_bytes(sealed, identities).map(|(plaintext, _)| plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, Kind};
    use secrecy::ExposeSecret;
    use std::io::Read;

    fn token() -> Token {
        Token::new(
            Kind::Static,
            Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrEXAMPLEKEY".into(), None, None),
        )
    }

    fn pair() -> (Recipients, Identities) {
        let key = age::x25519::Identity::generate();
        let mut r = Recipients::new();
        r.add(&key.to_public().to_string()).unwrap();
        let mut i = Identities::new();
        i.add_text(key.to_string().expose_secret(), "test").unwrap();
        (r, i)
    }

    #[test]
    fn every_seal_says_when_it_was_issued() {
        let (r, i) = pair();
        let before = crate::clock::now() - std::time::Duration::from_secs(1);
        let t = open(&seal(&token(), &r, Form::Binary).unwrap(), &i).unwrap();
        assert!(t.issued_at().is_some_and(|at| at >= before));
        let at = crate::clock::parse_rfc3339("2026-11-26T12:00:00Z").unwrap();
        let given = token().with_issued_at(at);
        let t = open(&seal(&given, &r, Form::Binary).unwrap(), &i).unwrap();
        assert_eq!(t.issued_at(), Some(at));
    }

    #[test]
    fn every_form_round_trips() {
        let (r, i) = pair();
        for form in [Form::Binary, Form::Armor, Form::Base64] {
            let sealed = seal(&token(), &r, form).unwrap();
            match form {
                Form::Binary => assert!(sealed.starts_with(AGE_MAGIC)),
                Form::Armor => assert!(sealed.starts_with(ARMOR_BEGIN)),
                Form::Base64 => {
                    assert!(sealed.starts_with(AGE_MAGIC_B64));
                    assert_eq!(sealed.iter().filter(|&&c| c == b'\n').count(), 1);
                }
            }
            assert_eq!(
                open(&sealed, &i).unwrap().access_key_id(),
                "AKIAIOSFODNN7EXAMPLE"
            );
        }
    }

    #[test]
    fn decrypt_gives_the_envelope_itself() {
        let (r, i) = pair();
        let t =
            token().with_issued_at(crate::clock::parse_rfc3339("2026-11-26T12:00:00Z").unwrap());
        let sealed = seal(&t, &r, Form::Armor).unwrap();
        assert_eq!(
            &decrypt(&sealed, &i).unwrap()[..],
            &envelope::encode(&t)[..]
        );
        let (_, other) = pair();
        assert_eq!(
            decrypt(&sealed, &other).unwrap_err().kind(),
            &crate::ErrorKind::NoMatchingIdentity
        );
    }

    #[test]
    fn passphrase_round_trip_and_wrong_passphrase() {
        let mut r = Recipients::new();
        r.set_passphrase("correct horse".into());
        assert_eq!(r.names(), ["scrypt"]);
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let mut i = Identities::new();
        assert_eq!(
            open(&sealed, &i).unwrap_err().kind(),
            &crate::ErrorKind::NoPassphrase
        );
        i.set_passphrase("wrong".into());
        assert_eq!(
            open(&sealed, &i).unwrap_err().kind(),
            &crate::ErrorKind::WrongPassphrase
        );
        i.set_passphrase("correct horse".into());
        assert!(open(&sealed, &i).is_ok());
    }

    #[test]
    fn other_recipient_and_damage() {
        let (r, _) = pair();
        let (_, other) = pair();
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let e = open(&sealed, &other).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::NoMatchingIdentity);
        assert!(e.to_string().contains("no identity matches"), "{e}");
        // cut: empty, not yet an age file, in its header, then after a
        // whole header that names someone else
        use crate::ErrorKind as K;
        let kinds: Vec<K> = [0, 10, sealed.len() / 2, sealed.len() - 1]
            .iter()
            .map(|&cut| open(&sealed[..cut], &other).unwrap_err().kind().clone())
            .collect();
        assert_eq!(
            kinds,
            [K::Damaged, K::NotAToken, K::Damaged, K::NoMatchingIdentity]
        );
    }

    #[test]
    fn bad_recipients_are_usage_errors() {
        let mut r = Recipients::new();
        for bad in ["age1nope", "bob@example.com", "ssh-dss AAAA", ""] {
            assert_eq!(
                r.add(bad).unwrap_err().kind(),
                &crate::ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
        let key = age::x25519::Identity::generate();
        let secret = key.to_string();
        let e = r.add(secret.expose_secret()).unwrap_err().to_string();
        assert!(
            e.contains("secret key") && !e.contains(&secret.expose_secret()[..20]),
            "{e}"
        );
        assert!(r.is_empty());
        let e = seal(&token(), &r, Form::Binary).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
    }

    #[test]
    fn x25519_keys_starting_pq_are_not_post_quantum() {
        // Post-quantum recipients have the HRP "age1pq" and so start
        // "age1pq1"; an X25519 key may start "age1pq" followed by data.
        loop {
            let k = age::x25519::Identity::generate().to_public().to_string();
            if k.starts_with("age1pq") {
                assert!(Recipients::new().add(&k).is_ok(), "{k}");
                break;
            }
        }
    }

    #[test]
    fn passphrase_is_alone() {
        let (mut r, _) = pair();
        r.set_passphrase("x".into());
        assert_eq!(
            seal(&token(), &r, Form::Binary).unwrap_err().kind(),
            &crate::ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn encrypted_pkcs8_keys_are_named() {
        let pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = Identities::new().add_text(pem, "k").unwrap_err();
        assert!(e.to_string().contains("encrypted PKCS#8"), "{e}");
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = std::io::repeat(b'a').take(3 * MAX_SEALED_SIZE as u64);
        assert_eq!(
            read_sealed(big, "stdin").unwrap_err().kind(),
            &crate::ErrorKind::NotAToken
        );
    }
}

#[cfg(test)]
mod signed_tests {
    use super::*;
    use crate::seal::signing::{Signers, SigningKey};
    use crate::{Credentials, Kind};
    use secrecy::ExposeSecret;

    fn key() -> SigningKey {
        use ssh_key::{Algorithm, LineEnding, PrivateKey};
        let k = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519).unwrap();
        SigningKey::from_openssh(&k.to_openssh(LineEnding::LF).unwrap(), "k", || None).unwrap()
    }

    fn token() -> Token {
        Token::new(
            Kind::Static,
            Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrEXAMPLEKEY".into(), None, None),
        )
    }

    fn pair() -> (Recipients, Identities, String) {
        let k = age::x25519::Identity::generate();
        let public = k.to_public().to_string();
        let mut r = Recipients::new();
        r.add(&public).unwrap();
        let mut i = Identities::new();
        i.add_text(k.to_string().expose_secret(), "test").unwrap();
        (r, i, public)
    }

    #[test]
    fn signed_round_trip_and_signer() {
        let (r, i, public) = pair();
        let k = key();
        let sealed = seal_signed(&token(), &r, Form::Armor, &k).unwrap();
        let t = open(&sealed, &i).unwrap();
        let s = t.signer().unwrap();
        assert_eq!(s.fingerprint, k.fingerprint());
        assert!(!s.verified && s.principal.is_none());
        assert_eq!(t.sealed_to(), [public]);
        assert_eq!(t.token_id().map(<[u8]>::len), Some(16));
        assert!(t.issued_at().is_some());
        let signers =
            Signers::parse(&format!("alice@example.com {}", k.public_key()), "f").unwrap();
        let t = open_with(&sealed, &i, Some(&signers)).unwrap();
        assert_eq!(
            t.signer().unwrap().principal.as_deref(),
            Some("alice@example.com")
        );
        assert!(t.signer().unwrap().verified);
        // another signer's file
        let other = Signers::parse(&format!("bob {}", key().public_key()), "f").unwrap();
        assert_eq!(
            open_with(&sealed, &i, Some(&other)).unwrap_err().kind(),
            &crate::ErrorKind::UnknownSigner
        );
        // unsigned with signers
        let plain = seal(&token(), &r, Form::Binary).unwrap();
        assert_eq!(
            open_with(&plain, &i, Some(&signers)).unwrap_err().kind(),
            &crate::ErrorKind::Unsigned
        );
        assert!(open(&plain, &i).unwrap().signer().is_none());
    }

    #[test]
    fn re_addressed_and_tampered_tokens_are_refused() {
        let (r, i, _) = pair();
        let k = key();
        let sealed = seal_signed(&token(), &r, Form::Binary, &k).unwrap();
        // Re-encrypt the same signed plaintext to someone else.
        let (plaintext, _) = open_bytes(&sealed, &i).unwrap();
        let (r2, i2, _) = pair();
        let readdressed = seal_bytes(&plaintext, &r2, Form::Binary).unwrap();
        let e = open(&readdressed, &i2).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::ReAddressed);
        assert!(e.to_string().contains("re-addressed"), "{e}");
        // Change one byte inside Envelope, keep the signature.
        let mut v: ciborium::Value = ciborium::from_reader(&plaintext[..]).unwrap();
        for (key, value) in v.as_map_mut().unwrap() {
            if key.as_text() == Some("Envelope") {
                let b = value.as_bytes_mut().unwrap();
                let n = b.len() - 3;
                b[n] ^= 1;
            }
        }
        let mut changed = vec![];
        ciborium::into_writer(&v, &mut changed).unwrap();
        let tampered = seal_bytes(&changed, &r, Form::Binary).unwrap();
        let e = open(&tampered, &i).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::BadSignature, "{e}");
    }

    #[test]
    fn passphrase_and_ssh_recipients_are_named() {
        let k = key();
        let mut r = Recipients::new();
        r.set_passphrase("pw".into());
        let sealed = seal_signed(&token(), &r, Form::Binary, &k).unwrap();
        let mut i = Identities::new();
        i.set_passphrase("pw".into());
        assert_eq!(open(&sealed, &i).unwrap().sealed_to(), ["scrypt"]);

        use ssh_key::{Algorithm, LineEnding, PrivateKey};
        let ssh = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519).unwrap();
        let public = format!(
            "{} someone@example.com",
            ssh.public_key().to_openssh().unwrap()
        );
        let mut r = Recipients::new();
        r.add(&public).unwrap();
        let sealed = seal_signed(&token(), &r, Form::Binary, &k).unwrap();
        let mut i = Identities::new();
        i.add_text(&ssh.to_openssh(LineEnding::LF).unwrap(), "ssh")
            .unwrap();
        assert_eq!(open(&sealed, &i).unwrap().sealed_to(), [public]);
    }
}
