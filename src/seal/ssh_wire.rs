//! A look at SSH keys before the `age` crate parses them.
//!
//! age 0.12.1 reads an RSA key's integers (`mpint`s) by stripping leading
//! zero bytes and indexes past the end when an integer is nothing but zero
//! bytes: a panic, not an error, for a public key line, a recipients file,
//! a roster, or an OpenSSH private key. Such an integer is zero, which no
//! RSA key has, so these keys are refused here, where they are read, in
//! words. Only what age would read is walked: the `ssh-rsa` public key
//! blob (`string "ssh-rsa", mpint e, mpint n`), and in an OpenSSH private
//! key its public key and, when not encrypted, its private part
//! (`uint32 check, uint32 check, string "ssh-rsa", mpint n, e, d, iqmp, p,
//! q`). Everything else is left to age, which refuses it with an error.
//!
//! Leaf module: uses nothing of the crate's.

use base64::Engine;

const RSA: &[u8] = b"ssh-rsa";
const WHY: &str = "an RSA key with an integer of zero bytes only, which is not a key";

/// Why the `ssh-rsa` public key line `line` (`ssh-rsa BASE64 [comment]`)
/// must not reach age, if it must not. Read as age reads it: `ssh-rsa`, one
/// space, then the longest run of base64 characters (no padding), decoded.
pub(crate) fn check_public_line(line: &str) -> Result<(), &'static str> {
    let Some(rest) = line.strip_prefix("ssh-rsa ") else {
        return Ok(());
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/'))
        .unwrap_or(rest.len());
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    match STANDARD_NO_PAD.decode(&rest[..end]) {
        Ok(blob) => check_public_blob(&blob),
        Err(_) => Ok(()),
    }
}

/// Why the OpenSSH private key `text` (`-----BEGIN OPENSSH PRIVATE
/// KEY-----`) must not reach age, if it must not.
pub(crate) fn check_private_key(text: &str) -> Result<(), &'static str> {
    const BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
    const END: &str = "-----END OPENSSH PRIVATE KEY-----";
    let Some(start) = text.find(BEGIN) else {
        return Ok(());
    };
    let body = &text[start + BEGIN.len()..];
    let body = body.find(END).map_or(body, |end| &body[..end]);
    let joined: String = body.split_whitespace().collect();
    let Some(key) = decode(&joined) else {
        return Ok(());
    };
    let Some(rest) = key.strip_prefix(b"openssh-key-v1\0") else {
        return Ok(());
    };
    let mut r = Reader(rest);
    let (Some(cipher), Some(_kdf), Some(_options), Some(_count)) =
        (r.string(), r.string(), r.string(), r.u32())
    else {
        return Ok(());
    };
    if let Some(public) = r.string() {
        check_public_blob(public)?;
    }
    if cipher != b"none" {
        return Ok(());
    }
    let Some(private) = r.string() else {
        return Ok(());
    };
    let mut p = Reader(private);
    if p.u32().is_none() || p.u32().is_none() || p.string() != Some(RSA) {
        return Ok(());
    }
    for _ in 0..6 {
        match p.string() {
            Some(n) => check_integer(n)?,
            None => return Ok(()),
        }
    }
    Ok(())
}

fn check_public_blob(blob: &[u8]) -> Result<(), &'static str> {
    let mut r = Reader(blob);
    if r.string() != Some(RSA) {
        return Ok(());
    }
    for _ in 0..2 {
        match r.string() {
            Some(n) => check_integer(n)?,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// An `mpint` of one or more zero bytes and nothing else.
fn check_integer(n: &[u8]) -> Result<(), &'static str> {
    if !n.is_empty() && n.iter().all(|&b| b == 0) {
        return Err(WHY);
    }
    Ok(())
}

/// Base64 as age reads an OpenSSH private key: standard, padded.
fn decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// SSH wire format: big-endian `uint32`s and length-prefixed strings.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        if len > self.0.len() {
            return None;
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn string(s: &[u8]) -> Vec<u8> {
        let mut v = (s.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(s);
        v
    }

    fn rsa_blob(e: &[u8], n: &[u8]) -> Vec<u8> {
        [string(RSA), string(e), string(n)].concat()
    }

    fn line(blob: &[u8]) -> String {
        format!("ssh-rsa {} someone", STANDARD.encode(blob))
    }

    fn private(public: &[u8], cipher: &str, ints: &[&[u8]]) -> String {
        let mut inner = [1u32.to_be_bytes(), 1u32.to_be_bytes()].concat();
        inner.extend(string(RSA));
        for i in ints {
            inner.extend(string(i));
        }
        inner.extend(string(b"comment"));
        let key = [
            b"openssh-key-v1\0".to_vec(),
            string(cipher.as_bytes()),
            string(b"none"),
            string(b""),
            1u32.to_be_bytes().to_vec(),
            string(public),
            string(&inner),
        ]
        .concat();
        let b64 = STANDARD.encode(key);
        let body: Vec<&str> = b64
            .as_bytes()
            .chunks(70)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            body.join("\n")
        )
    }

    #[test]
    fn zero_only_integers_are_refused_in_either_place_of_a_public_key() {
        for zeros in [&[0u8][..], &[0, 0, 0], &[0; 300]] {
            assert_eq!(
                check_public_line(&line(&rsa_blob(zeros, &[0x7f; 3]))),
                Err(WHY)
            );
            assert_eq!(
                check_public_line(&line(&rsa_blob(&[1, 0, 1], zeros))),
                Err(WHY)
            );
        }
    }

    #[test]
    fn other_keys_are_left_to_age() {
        // the value zero as the RFC writes it, a canonical integer, a
        // leading zero before a high bit: age reads these without panicking
        for ok in [&[][..], &[1, 0, 1], &[0, 0x80, 1]] {
            assert_eq!(check_public_line(&line(&rsa_blob(ok, ok))), Ok(()));
        }
        // padding that does not fit the length, as the fuzzer found it: age
        // reads up to the first `=`
        let blob = rsa_blob(&[0, 0, 0], &[0x7f; 5]);
        let b64 = STANDARD.encode(&blob);
        let odd = format!("ssh-rsa {}== x", b64.trim_end_matches('='));
        assert_eq!(check_public_line(&odd), Err(WHY));
        assert_eq!(check_public_line(&format!("ssh-rsa {b64}")), Err(WHY));
        // two spaces: age does not read the key at all
        assert_eq!(check_public_line(&format!("ssh-rsa  {b64}")), Ok(()));
        let unpadded = line(&rsa_blob(&[0, 0], &[1]));
        assert_eq!(
            check_public_line(unpadded.trim_end_matches(" someone").trim_end_matches('=')),
            Err(WHY)
        );
        for other in [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPV0l3dJDSF2xNDFhm/RUdQoAuDptkI6fMC5g5CMyKUI",
            "ssh-rsa",
            "ssh-rsa !!!",
            "ssh-rsa AAAA",
            "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
        ] {
            assert_eq!(check_public_line(other), Ok(()), "{other}");
        }
        // a truncated blob: the first integer read, the second missing
        let mut cut = rsa_blob(&[1, 0, 1], &[0x7f; 8]);
        cut.truncate(cut.len() - 2);
        assert_eq!(check_public_line(&line(&cut)), Ok(()));
        // an ed25519 blob that declares itself ssh-rsa elsewhere is not read as RSA
        let ed = [string(b"ssh-ed25519"), string(&[0; 32])].concat();
        assert_eq!(check_public_line(&line(&ed)), Ok(()));
    }

    #[test]
    fn private_keys_are_walked_in_their_public_and_unencrypted_parts() {
        let good = rsa_blob(&[1, 0, 1], &[0x7f; 8]);
        let ints: [&[u8]; 6] = [&[0x7f; 8], &[1, 0, 1], &[5], &[6], &[7], &[11]];
        assert_eq!(check_private_key(&private(&good, "none", &ints)), Ok(()));
        for i in 0..6 {
            let mut bad = ints;
            bad[i] = &[0, 0];
            assert_eq!(
                check_private_key(&private(&good, "none", &bad)),
                Err(WHY),
                "{i}"
            );
            // encrypted: the private part is not readable, so not walked
            assert_eq!(
                check_private_key(&private(&good, "aes256-ctr", &bad)),
                Ok(())
            );
        }
        let bad_public = rsa_blob(&[0], &[0x7f; 8]);
        assert_eq!(
            check_private_key(&private(&bad_public, "none", &ints)),
            Err(WHY)
        );
        assert_eq!(
            check_private_key(&private(&bad_public, "aes256-ctr", &ints)),
            Err(WHY)
        );
        for other in [
            "",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        ] {
            assert_eq!(check_private_key(other), Ok(()), "{other}");
        }
    }
}
