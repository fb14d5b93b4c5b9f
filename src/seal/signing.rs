//! Signed handoffs: the sender signs the envelope with an OpenSSH ed25519
//! key (an SSHSIG, namespace `handoff`, SHA-512) and the recipient checks the
//! signature against an OpenSSH `allowed_signers` file.
//!
//! The signature is a standard one: `ssh-keygen -Y verify -n handoff` checks
//! it, and `ssh-keygen -Y sign -n handoff` makes one handoff accepts.

use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

pub use crate::credentials::Signer;
use crate::files::read_small_file;
use crate::{clock, Error, ErrorKind, Result};

/// The SSHSIG namespace of handoff signatures.
pub const NAMESPACE: &str = "handoff";

/// The sender's OpenSSH ed25519 private key, for `seal --sign`.
pub struct SigningKey {
    key: PrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads an OpenSSH ed25519 private key. An encrypted key is unlocked with
    /// the passphrase `passphrase` returns (asked only when needed).
    pub fn from_file(
        path: &Path,
        passphrase: impl FnOnce() -> Option<SecretString>,
    ) -> Result<Self> {
        let text = read_small_file(path, "signing key")?;
        Self::from_openssh(&text, &path.display().to_string(), passphrase)
    }

    /// Parses an OpenSSH ed25519 private key; `source` names it in messages.
    pub fn from_openssh(
        text: &str,
        source: &str,
        passphrase: impl FnOnce() -> Option<SecretString>,
    ) -> Result<Self> {
        let bad = |why: &str| Error::usage(format!("signing key {source}: {why}"));
        let mut key =
            PrivateKey::from_openssh(text.trim()).map_err(|_| bad("not an OpenSSH private key"))?;
        if key.algorithm() != ssh_key::Algorithm::Ed25519 {
            return Err(bad(&format!(
                "a {} key; handoff signs with ssh-ed25519 keys (ssh-keygen -t ed25519)",
                key.algorithm()
            )));
        }
        if key.is_encrypted() {
            let pass = passphrase().ok_or_else(|| {
                Error::new(
                    ErrorKind::NoPassphrase,
                    format!("signing key {source}: the key is encrypted"),
                )
            })?;
            key = key.decrypt(pass.expose_secret().as_bytes()).map_err(|e| {
                Error::new(
                    ErrorKind::WrongPassphrase,
                    format!("signing key {source}: wrong passphrase"),
                )
                .with_source(e)
            })?;
        }
        Ok(SigningKey { key })
    }

    /// The key's SHA-256 fingerprint, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// The public key line (`ssh-ed25519 AAAA...`).
    pub fn public_key(&self) -> String {
        self.key
            .public_key()
            .to_openssh()
            .unwrap_or_else(|_| self.fingerprint())
    }

    /// An armored SSHSIG over `msg`.
    pub(crate) fn sign(&self, msg: &[u8]) -> Result<String> {
        self.key
            .sign(NAMESPACE, HashAlg::Sha512, msg)
            .and_then(|sig| sig.to_pem(LineEnding::LF))
            .map_err(|e| Error::other(format!("signing failed: {e}")))
    }
}

/// The signed-open policy, over a decrypted envelope. With `signers`, the
/// token must be signed ([`ErrorKind::Unsigned`] otherwise) by a key they list
/// for handoff; a signed token must name, among the recipients it was sealed
/// to, one that `opened_by` says is the identity that opened it (else it was
/// re-addressed). The token comes back with its [`Signer`].
pub(crate) fn trust(
    decoded: crate::envelope::Decoded,
    signers: Option<&Signers>,
    opened_by: impl Fn(&str) -> bool,
) -> Result<crate::Token> {
    let (inner, signature) = match decoded {
        crate::envelope::Decoded::Plain(token) => {
            return match signers {
                Some(s) => Err(Error::unsigned(s.source())),
                None => Ok(*token),
            }
        }
        crate::envelope::Decoded::Signed {
            envelope,
            signature,
        } => (envelope, signature),
    };
    let key = verify(&inner, &signature)?;
    let token = crate::envelope::decode_inner(&inner)?;
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    let mut signer = Signer {
        fingerprint: fingerprint.clone(),
        public_key: key.to_openssh().unwrap_or_default(),
        principal: None,
        verified: false,
    };
    if let Some(s) = signers {
        let principal = s.find(&key, crate::clock::now()).ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownSigner,
                format!(
                    "the token is signed by {fingerprint}, which {} does not list for handoff",
                    s.source()
                ),
            )
        })?;
        signer.principal = Some(principal.to_string());
        signer.verified = true;
    }
    if !token.sealed_to().iter().any(|r| opened_by(r)) {
        return Err(Error::new(
            ErrorKind::ReAddressed,
            format!(
            "the token was signed for {}, not for the identity that opened it: it was re-addressed",
            token.sealed_to().join(", ")
        ),
        ));
    }
    Ok(token.with_signer(signer))
}

/// Checks an armored SSHSIG over `msg`: namespace `handoff`, a valid
/// signature by the key it carries. Returns that key.
pub(crate) fn verify(msg: &[u8], armored: &str) -> Result<PublicKey> {
    let sig = SshSig::from_pem(armored.trim()).map_err(|_| {
        Error::new(
            ErrorKind::BadSignature,
            match sshsig_key_type(armored) {
                Some(t) if t != "ssh-ed25519" => unsupported_key_type(&t),
                _ => "the token's signature is not an SSH signature".into(),
            },
        )
    })?;
    if sig.namespace() != NAMESPACE {
        return Err(Error::new(
            ErrorKind::BadSignature,
            format!(
                "the token's signature is for namespace {:?}, not {NAMESPACE:?}",
                sig.namespace().chars().take(40).collect::<String>()
            ),
        ));
    }
    let key = PublicKey::from(sig.public_key().clone());
    if key.algorithm() != ssh_key::Algorithm::Ed25519 {
        return Err(Error::new(
            ErrorKind::BadSignature,
            unsupported_key_type(key.algorithm().as_str()),
        ));
    }
    key.verify(NAMESPACE, msg, &sig).map_err(|_| {
        Error::new(
            ErrorKind::BadSignature,
            format!(
                "the token's signature does not verify (key {}): it was changed after signing",
                key.fingerprint(HashAlg::Sha256)
            ),
        )
    })?;
    Ok(key)
}

fn unsupported_key_type(t: &str) -> String {
    format!(
        "the token is signed with a {} key, a key type not supported for handoff signatures \
         (handoff signs and verifies ssh-ed25519 only)",
        t.chars()
            .take(40)
            .map(|c| if c.is_ascii_graphic() { c } else { '?' })
            .collect::<String>()
    )
}

/// The key type named inside an armored SSHSIG that this build cannot
/// parse (an ecdsa or security-key signature): magic `SSHSIG`, a version,
/// then the public key, which starts with its type.
fn sshsig_key_type(armored: &str) -> Option<String> {
    use base64::Engine;
    let body: String = armored
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.trim().chars())
        .collect();
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    let rest = blob.strip_prefix(b"SSHSIG")?.get(4..)?;
    let u32_at = |b: &[u8]| -> Option<usize> {
        Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize)
    };
    let key = rest.get(4..4 + u32_at(rest)?)?;
    let name = key.get(4..4 + u32_at(key)?)?;
    String::from_utf8(name.to_vec()).ok()
}

/// An OpenSSH `allowed_signers` file: who may sign tokens for this recipient.
///
/// Each line is `principals [options] keytype base64 [comment]`. Honoured
/// options: `namespaces="..."` (the key signs only for the listed namespaces,
/// which must include `handoff`), `valid-after`/`valid-before`
/// (`YYYYMMDD[HHMM[SS]][Z]`, UTC); `cert-authority` lines are skipped
/// (handoff does not take certificates).
#[derive(Clone, Debug, Default)]
pub struct Signers {
    source: String,
    entries: Vec<Entry>,
    skipped: Vec<String>,
}

#[derive(Clone, Debug)]
struct Entry {
    principals: String,
    namespaces: Option<String>,
    valid_after: Option<SystemTime>,
    valid_before: Option<SystemTime>,
    /// Always set for a listed entry.
    key: Option<PublicKey>,
}

impl Signers {
    /// Reads the default signers file
    /// ([`crate::paths::allowed_signers_file`]); `None` when there is none.
    pub fn from_default_file() -> Result<Option<Self>> {
        let path = crate::paths::allowed_signers_file()?;
        if path.exists() {
            Self::from_file(&path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The signers a token is opened against: the file at `path`, none at
    /// all when `path` is `none` (an unsigned token then opens), else the
    /// default file when there is one ([`Signers::from_default_file`]).
    pub fn choose(path: Option<&Path>) -> Result<Option<Self>> {
        match path {
            Some(p) if p == Path::new("none") => Ok(None),
            Some(p) => Self::from_file(p).map(Some),
            None => Self::from_default_file(),
        }
    }

    /// Reads a signers file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = read_small_file(path, "signers file").map_err(|e| match e {
            e if matches!(e.kind(), ErrorKind::Io { .. }) => {
                let why = std::error::Error::source(&e)
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Error::new(
                    ErrorKind::UnknownSigner,
                    format!("cannot read signers file {}: {why}", path.display()),
                )
                .with_source(e)
            }
            e => e,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a signers file; `source` names it in messages.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let mut entries = Vec::new();
        let mut skipped = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| {
                Error::new(
                    ErrorKind::UnknownSigner,
                    format!("signers file {source} line {}: {why}", n + 1),
                )
            };
            let Some((principals, rest)) = principals_field(line) else {
                return Err(bad("a principals field with an unclosed quote"));
            };
            let (second, after) = split_field(rest);
            let (options, key_text) = if is_key_type(second) {
                ("", rest)
            } else {
                (second, after)
            };
            let mut parts = key_text.split_whitespace();
            let (t, k) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if t.is_empty() || k.is_empty() {
                return Err(bad("not a public key"));
            }
            // A key handoff cannot verify (ecdsa, rsa, security keys, types
            // this build does not parse) is kept out: its line never
            // matches, and the rest of a file shared with git and ssh works.
            let key = match PublicKey::from_openssh(&format!("{t} {k}")) {
                Ok(key) if key.algorithm() == ssh_key::Algorithm::Ed25519 => Some(key),
                // a damaged key of the one type handoff verifies is an error
                Err(_) if t == "ssh-ed25519" => return Err(bad("not a public key")),
                _ => None,
            };
            let mut entry = Entry {
                principals: principals.clone(),
                namespaces: None,
                valid_after: None,
                valid_before: None,
                key: None,
            };
            let mut skip = false;
            for opt in split_options(options) {
                let (name, value) = match opt.split_once('=') {
                    Some((n, v)) => (n.to_ascii_lowercase(), Some(v.trim_matches('"'))),
                    None => (opt.to_ascii_lowercase(), None),
                };
                match (name.as_str(), value) {
                    ("cert-authority", None) => skip = true,
                    // a pattern list, matched as OpenSSH matches it
                    ("namespaces", Some(v)) => entry.namespaces = Some(v.to_string()),
                    ("valid-after", Some(v)) => {
                        entry.valid_after =
                            Some(parse_ssh_time(v).ok_or_else(|| bad("bad valid-after time"))?)
                    }
                    ("valid-before", Some(v)) => {
                        entry.valid_before =
                            Some(parse_ssh_time(v).ok_or_else(|| bad("bad valid-before time"))?)
                    }
                    _ => return Err(bad(&format!("unknown option {name:?}"))),
                }
            }
            match key {
                _ if skip => skipped.push(format!("line {}: a cert-authority line", n + 1)),
                Some(_) if principal_witness(&principals).is_none() => skipped.push(format!(
                    "line {}: principals {:?} that match no one (ssh-keygen -Y verify accepts no identity for them)",
                    n + 1,
                    principals.chars().take(80).collect::<String>()
                )),
                None => skipped.push(format!(
                    "line {}: a {} key, which handoff signatures cannot be made with",
                    n + 1,
                    t.chars().take(40).collect::<String>()
                )),
                Some(key) => entries.push(Entry {
                    key: Some(key),
                    ..entry
                }),
            }
        }
        Ok(Signers {
            source: source.to_string(),
            entries,
            skipped,
        })
    }

    /// The lines that can never match, and why: `cert-authority` lines and
    /// keys of types handoff does not sign with.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Where the signers came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The principals of the entry that lets `key` sign handoffs at `now`.
    pub(crate) fn find(&self, key: &PublicKey, now: SystemTime) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| {
                e.key
                    .as_ref()
                    .is_some_and(|k| k.key_data() == key.key_data())
            })
            .filter(|e| {
                e.namespaces
                    .as_ref()
                    .is_none_or(|ns| principals_match(ns, NAMESPACE))
            })
            .filter(|e| e.valid_after.is_none_or(|t| now >= t))
            .filter(|e| e.valid_before.is_none_or(|t| now < t))
            .map(|e| e.principals.as_str())
            .next()
    }
}

fn split_field(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    // A field may hold quoted spaces (options such as namespaces="a b").
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&s[..i], s[i..].trim_start()),
            _ => {}
        }
    }
    (s, "")
}

fn split_options(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|o| !o.is_empty()).collect()
}

fn is_key_type(s: &str) -> bool {
    s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-")
}

/// `YYYYMMDD[HHMM[SS]][Z]`, taken as UTC.
fn parse_ssh_time(v: &str) -> Option<SystemTime> {
    let v = v.strip_suffix('Z').unwrap_or(v);
    if !v.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&v.len()) {
        return None;
    }
    let field = |a: usize, b: usize| v.get(a..b).unwrap_or("00");
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        field(0, 4),
        field(4, 6),
        field(6, 8),
        if v.len() >= 12 { field(8, 10) } else { "00" },
        if v.len() >= 12 { field(10, 12) } else { "00" },
        if v.len() == 14 { field(12, 14) } else { "00" },
    );
    clock::parse_rfc3339(&text)
}

/// The principals field of an allowed_signers line and the rest of the
/// line, split as OpenSSH's `strdelimw` splits it: up to the first blank;
/// or, when a `"` comes first, that quote dropped and the field running to
/// the next `"` (`"alice,bob" ssh-ed25519 ...` is `alice,bob`; `""` is
/// empty). None for an unclosed quote, which OpenSSH refuses.
fn principals_field(line: &str) -> Option<(String, &str)> {
    let blank = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let Some(at) = line.find(|c: char| blank(c) || c == '"') else {
        return Some((line.to_string(), ""));
    };
    if !line[at..].starts_with('"') {
        return Some((line[..at].to_string(), line[at..].trim_start_matches(blank)));
    }
    let close = at + 1 + line[at + 1..].find('"')?;
    let field = format!("{}{}", &line[..at], &line[at + 1..close]);
    Some((field, line[close + 1..].trim_start_matches(blank)))
}

/// Whether `principal` matches an allowed_signers principals field as
/// `ssh-keygen -Y verify -I PRINCIPAL` matches it (OpenSSH's
/// `match_pattern_list`, match.c): a comma-separated list of patterns (`*`
/// any run, `?` any one byte), each negated by a leading `!`. The principal
/// matches when some plain pattern matches it and no negated one does: a
/// negated pattern alone matches nothing, and an empty field nothing. As in
/// OpenSSH, a pattern of 1023 bytes or more makes the whole list match
/// nothing, and case counts.
pub fn principals_match(patterns: &str, principal: &str) -> bool {
    let (p, s) = (patterns.as_bytes(), principal.as_bytes());
    let mut positive = false;
    let mut i = 0;
    while i < p.len() {
        let negated = p[i] == b'!';
        if negated {
            i += 1;
        }
        let start = i;
        while i < p.len() && p[i] != b',' {
            i += 1;
            if i - start >= 1023 {
                return false;
            }
        }
        let sub = &p[start..i];
        if i < p.len() {
            i += 1;
        }
        if glob(sub, s) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// A principal that an allowed_signers principals field matches
/// ([`principals_match`]), if handoff can find one: each plain pattern with
/// its `*` read as `x`, `handoff`, a letter the list does not hold, or
/// nothing, and its `?` as `x`, among the first 256 plain patterns. An
/// empty principal does not count. None means the line vouches for no one:
/// `ssh-keygen -Y verify` accepts it for no identity, so handoff does not
/// either (and where the search misses a principal an odd mix of negated
/// wildcards would let through, handoff is stricter than OpenSSH, never
/// laxer: whatever it finds, OpenSSH accepts).
fn principal_witness(patterns: &str) -> Option<String> {
    // a letter the list does not hold, which only a wildcard can match
    let unused = "xyzqjkwvbmn0123456789"
        .chars()
        .find(|&c| !patterns.contains(c))
        .map(String::from)
        .unwrap_or_default();
    // the first 256 plain patterns: each try reads the whole list, so a
    // line of a million tiny patterns stays linear
    for sub in patterns
        .split(',')
        .filter(|s| !s.starts_with('!'))
        .take(256)
    {
        for fill in ["x", "handoff", &unused, ""] {
            let candidate: String = sub
                .chars()
                .map(|c| match c {
                    '*' => fill.to_string(),
                    '?' => "x".to_string(),
                    c => c.to_string(),
                })
                .collect();
            if !candidate.is_empty() && principals_match(patterns, &candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// OpenSSH pattern matching over bytes: `*` any run, `?` one byte.
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = si;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether two recipient strings name the same key: SSH keys by type and key
/// (comments differ), everything else exactly.
pub(crate) fn same_recipient(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    // Only an SSH key's first word starts `ssh-`, so `b` is one too when
    // the first words agree.
    if a.starts_with("ssh-") {
        a.split_whitespace()
            .take(2)
            .eq(b.split_whitespace().take(2))
    } else {
        a == b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn key() -> SigningKey {
        let k = PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .unwrap();
        let text = k.to_openssh(LineEnding::LF).unwrap();
        SigningKey::from_openssh(&text, "test", || None).unwrap()
    }

    #[test]
    fn sign_then_verify() {
        let k = key();
        let sig = k.sign(b"hello").unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        let pk = verify(b"hello", &sig).unwrap();
        assert_eq!(pk.fingerprint(HashAlg::Sha256).to_string(), k.fingerprint());
        let e = verify(b"hellO", &sig).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::BadSignature);
        assert_eq!(
            verify(b"hello", "junk").unwrap_err().kind(),
            &crate::ErrorKind::BadSignature
        );
        assert!(!format!("{k:?}").contains("PRIVATE"));
        assert_eq!(
            format!("{k:?}"),
            format!("SigningKey {{ fingerprint: {:?}, .. }}", k.fingerprint())
        );
    }

    #[test]
    fn signers_file() {
        let k = key();
        let pk = PublicKey::from_openssh(&k.public_key()).unwrap();
        let now = clock::parse_rfc3339("2026-11-26T00:00:00Z").unwrap();
        let file = |line: &str| Signers::parse(line, "f").unwrap();
        let line = k.public_key();
        assert_eq!(
            file(&format!("alice@example.com {line}")).find(&pk, now),
            Some("alice@example.com")
        );
        assert_eq!(
            file(&format!(
                "# c\n\nbob,alice namespaces=\"git,handoff\" {line} comment"
            ))
            .find(&pk, now),
            Some("bob,alice")
        );
        assert_eq!(
            file(&format!("alice namespaces=\"git\" {line}")).find(&pk, now),
            None
        );
        assert_eq!(
            file(&format!("alice namespaces=\"hand*\" {line}")).find(&pk, now),
            Some("alice")
        );
        assert_eq!(
            file(&format!("alice valid-before=20260101 {line}")).find(&pk, now),
            None
        );
        assert_eq!(
            file(&format!("alice valid-after=20260101Z {line}")).find(&pk, now),
            Some("alice")
        );
        assert_eq!(
            file(&format!("alice cert-authority {line}")).find(&pk, now),
            None
        );
        assert_eq!(
            Signers::parse("alice ssh-ed25519 notbase64", "f")
                .unwrap_err()
                .kind(),
            &crate::ErrorKind::UnknownSigner
        );
        assert!(Signers::parse(&format!("alice frob {line}"), "f").is_err());
        // the edges of the time range: the last second works, year 0 and
        // times that do not exist are refused (exit 7), never a panic
        assert_eq!(
            file(&format!("alice valid-before=99991231235959Z {line}")).find(&pk, now),
            Some("alice")
        );
        for bad in ["00000101", "99991232", "20261301", "99999999999999"] {
            let e = Signers::parse(&format!("alice valid-before={bad} {line}"), "f").unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::UnknownSigner, "{bad}");
        }
    }

    #[test]
    fn recipients_compare_by_key() {
        assert!(same_recipient("ssh-ed25519 AAAA x@y", "ssh-ed25519 AAAA"));
        assert!(!same_recipient("ssh-ed25519 AAAA", "ssh-ed25519 AAAB"));
        assert!(same_recipient("age1abc", " age1abc"));
        assert!(
            glob(b"*", b"handoff") && glob(b"h?ndoff", b"handoff") && !glob(b"git", b"handoff")
        );
    }

    #[test]
    fn signing_keys_encrypted_and_not() {
        let k = PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .unwrap();
        let plain = SigningKey::from_openssh(&k.to_openssh(LineEnding::LF).unwrap(), "k", || {
            panic!("a plain key asks for no passphrase")
        })
        .unwrap();
        let want = k.fingerprint(HashAlg::Sha256).to_string();
        assert_eq!(plain.fingerprint(), want);
        assert_eq!(
            plain.public_key(),
            k.public_key().to_openssh().unwrap(),
            "the public key line"
        );
        assert!(plain.public_key().starts_with("ssh-ed25519 AAAA"));
        let locked = k
            .encrypt(&mut ssh_key::rand_core::OsRng, "pw")
            .unwrap()
            .to_openssh(LineEnding::LF)
            .unwrap();
        let e = SigningKey::from_openssh(&locked, "k", || None).unwrap_err();
        assert_eq!(e.to_string(), "signing key k: the key is encrypted");
        assert_eq!(e.kind(), &ErrorKind::NoPassphrase);
        let e = SigningKey::from_openssh(&locked, "k", || Some("no".into())).unwrap_err();
        assert_eq!(e.to_string(), "signing key k: wrong passphrase");
        assert_eq!(e.kind(), &ErrorKind::WrongPassphrase);
        let k2 = SigningKey::from_openssh(&locked, "k", || Some("pw".into())).unwrap();
        assert_eq!(k2.fingerprint(), want);
        let e = SigningKey::from_openssh("junk", "k", || None).unwrap_err();
        assert_eq!(e.to_string(), "signing key k: not an OpenSSH private key");

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id_ed25519");
        std::fs::write(&p, k.to_openssh(LineEnding::LF).unwrap().as_bytes()).unwrap();
        assert_eq!(
            SigningKey::from_file(&p, || None).unwrap().fingerprint(),
            want
        );
    }

    #[test]
    fn signatures_for_another_namespace_or_of_another_type() {
        let k = key();
        let sig = k
            .key
            .sign("git", HashAlg::Sha512, b"m")
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap();
        let e = verify(b"m", &sig).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token's signature is for namespace \"git\", not \"handoff\""
        );
        let e = verify(b"m", "junk").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token's signature is not an SSH signature"
        );
        let ours = k.sign(b"m").unwrap();
        assert_eq!(sshsig_key_type(&ours).as_deref(), Some("ssh-ed25519"));

        // An ecdsa SSHSIG (which this build does not parse), made by hand.
        fn string(out: &mut Vec<u8>, b: &[u8]) {
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        }
        let mut key_blob = Vec::new();
        string(&mut key_blob, b"ecdsa-sha2-nistp256");
        string(&mut key_blob, b"nistp256");
        string(&mut key_blob, &[4; 65]);
        let mut blob = b"SSHSIG".to_vec();
        blob.extend_from_slice(&1u32.to_be_bytes());
        string(&mut blob, &key_blob);
        for field in [&b"handoff"[..], b"", b"sha512", &[0; 20]] {
            string(&mut blob, field);
        }
        use base64::Engine;
        let armor = |blob: &[u8]| {
            format!(
                "-----BEGIN SSH SIGNATURE-----\n{}\n-----END SSH SIGNATURE-----\n",
                base64::engine::general_purpose::STANDARD.encode(blob)
            )
        };
        assert_eq!(
            sshsig_key_type(&armor(&blob)).as_deref(),
            Some("ecdsa-sha2-nistp256")
        );
        let e = verify(b"m", &armor(&blob)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token is signed with a ecdsa-sha2-nistp256 key, a key type not supported for \
             handoff signatures (handoff signs and verifies ssh-ed25519 only)"
        );
        // A damaged signature of our own type is not an SSH signature, not
        // an unsupported type.
        let mut damaged = b"SSHSIG".to_vec();
        damaged.extend_from_slice(&1u32.to_be_bytes());
        let mut short_key = Vec::new();
        string(&mut short_key, b"ssh-ed25519");
        string(&mut short_key, &[1; 5]);
        string(&mut damaged, &short_key);
        assert_eq!(
            sshsig_key_type(&armor(&damaged)).as_deref(),
            Some("ssh-ed25519")
        );
        let e = verify(b"m", &armor(&damaged)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the token's signature is not an SSH signature"
        );
        // cut anywhere, it names no type
        for cut in [0, 6, 9, 13, 20, 30] {
            assert_eq!(sshsig_key_type(&armor(&blob[..cut])), None, "{cut}");
        }
        let mut other_magic = blob.clone();
        other_magic[0] = b'X';
        assert_eq!(sshsig_key_type(&armor(&other_magic)), None);
        assert_eq!(sshsig_key_type("-----BEGIN-----\n!!\n"), None);
        assert!(unsupported_key_type(&format!("a\u{1}b{}", "x".repeat(50)))
            .contains(&format!(" a a?b{} key,", "x".repeat(37))));
    }

    #[test]
    fn signers_files_read_chosen_and_skipped() {
        let k = key();
        let line = k.public_key();
        let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHFliOyIZs1gxGF3fmDxFykQhE88wy6AKDGFBfn0R6ZuvRmENABZQa9+pj9hMki+LX0qDJbmHTiWDbYv/cmFt/Q=";
        let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC4Plfg36vaSztDfLwK9fwGwwI6y5P1+XsJD7y7fQxJCmgtkc5nMF9Ysw0t2ccxZC69W3yld9s4xi9Fv7/cVyiNrl57I3n1Ag93x6BiMqsmvyM48PoSwDCXmkQtEx6DX2KG/io6P6OJhq/7yNEfSyjW27nj3Lkxa0LrRN6HqiUoPLtHTmbOJeL/Kqb39So5TpaThr+mKOhNyeLQz/4ErOxMD+a8n9cr8U55kChz3hfmbbc9o5SX87/UZImQoGzu014XS2yVHh+rPDeThXbf1elyHNWgEmXGQnFWUih22PFBrucdljVtHxd4OEa7/WYWHmDv8pMaha/JbB2XEN4CyaQn";
        let text = format!(
            "a {ecdsa}\nb sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA== x\nc cert-authority {line}\nd {line}\ne {rsa} r\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("allowed_signers");
        std::fs::write(&p, &text).unwrap();
        let s = Signers::from_file(&p).unwrap();
        assert_eq!(s.source(), p.display().to_string());
        assert_eq!(
            s.skipped(),
            [
                "line 1: a ecdsa-sha2-nistp256 key, which handoff signatures cannot be made with",
                "line 2: a sk-ssh-ed25519@openssh.com key, which handoff signatures cannot be made with",
                "line 3: a cert-authority line",
                "line 5: a ssh-rsa key, which handoff signatures cannot be made with",
            ]
        );
        let pk = PublicKey::from_openssh(&line).unwrap();
        assert_eq!(s.find(&pk, clock::now()), Some("d"));
        let other = PublicKey::from_openssh(&key().public_key()).unwrap();
        assert_eq!(s.find(&other, clock::now()), None);

        assert!(Signers::choose(Some(Path::new("none"))).unwrap().is_none());
        assert_eq!(
            Signers::choose(Some(&p)).unwrap().unwrap().source(),
            p.display().to_string()
        );
        let missing = dir.path().join("missing");
        let e = Signers::from_file(&missing).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::UnknownSigner);
        assert!(
            e.to_string()
                .starts_with(&format!("cannot read signers file {}: ", missing.display())),
            "{e}"
        );
        for no_key in [
            "alice\n",
            "alice ecdsa-sha2-nistp256\n",
            "alice namespaces=\"x\"\n",
        ] {
            let e = Signers::parse(no_key, "f").unwrap_err();
            assert_eq!(
                e.to_string(),
                "signers file f line 1: not a public key",
                "{no_key}"
            );
        }
        let e = Signers::parse(&format!("\n# c\nalice frob=1 {line}\n"), "f").unwrap_err();
        assert_eq!(
            e.to_string(),
            "signers file f line 3: unknown option \"frob\""
        );
        for (opt, what) in [
            ("valid-after", "bad valid-after time"),
            ("valid-before", "bad valid-before time"),
        ] {
            let e = Signers::parse(&format!("alice {opt}=2026 {line}"), "f").unwrap_err();
            assert_eq!(e.to_string(), format!("signers file f line 1: {what}"));
        }
    }

    #[test]
    fn signer_options_and_their_edges() {
        let k = key();
        let pk = PublicKey::from_openssh(&k.public_key()).unwrap();
        let line = k.public_key();
        let at = clock::parse_rfc3339("2026-11-26T12:34:56Z").unwrap();
        let second = std::time::Duration::from_secs(1);
        let find = |opts: &str, now| {
            Signers::parse(&format!("alice {opts} {line}"), "f")
                .unwrap()
                .find(&pk, now)
                .is_some()
        };
        // valid-after is inclusive, valid-before exclusive, in every form
        for t in ["20261126123456", "20261126123456Z"] {
            assert!(!find(&format!("valid-after={t}"), at - second));
            assert!(find(&format!("valid-after={t}"), at));
            assert!(find(&format!("valid-before={t}"), at - second));
            assert!(!find(&format!("valid-before={t}"), at));
        }
        let minute = clock::parse_rfc3339("2026-11-26T12:34:00Z").unwrap();
        assert!(find("valid-after=202611261234", minute));
        assert!(!find("valid-after=202611261234", minute - second));
        let day = clock::parse_rfc3339("2026-11-26T00:00:00Z").unwrap();
        assert!(find("valid-after=20261126", day));
        assert!(!find("valid-after=20261126", day - second));
        for bad in [
            "2026112612",
            "2026112612345",
            "2026-11-26",
            "20261126123456ZZ",
            "",
        ] {
            assert!(parse_ssh_time(bad).is_none(), "{bad}");
        }
        // options: quoted commas, case, several at once, empty ones
        assert!(find("NAMESPACES=\"git,handoff\"", at));
        assert!(find("namespaces=\"git,handoff\",valid-after=20200101", at));
        // a pattern list as OpenSSH reads it: blanks count, ! negates
        assert!(!find("namespaces=\"git, handoff\"", at));
        assert!(!find("namespaces=\"*,!handoff\"", at));
        assert!(!find("namespaces=\"!git\"", at));
        assert!(find("namespaces=\"!git,hand*\"", at));
        assert!(!find("namespaces=\"git,handoff\",valid-after=20300101", at));
        assert!(find(",,namespaces=\"*\",,", at));
        assert!(!find("namespaces=\"handoffs\"", at));
        assert_eq!(split_options("a=\"x,y\",b,,c"), ["a=\"x,y\"", "b", "c"]);
        assert_eq!(split_options(""), Vec::<&str>::new());
        assert_eq!(split_field("  a\"b c\" d e"), ("a\"b c\"", "d e"));
        assert_eq!(split_field("a"), ("a", ""));
        assert!(is_key_type("ssh-ed25519") && is_key_type("ecdsa-sha2-nistp256"));
        assert!(is_key_type("sk-ssh-ed25519@openssh.com") && !is_key_type("namespaces=x"));
    }

    #[test]
    fn principal_lists_as_openssh_matches_them() {
        for (list, who, want) in [
            ("alice", "alice", true),
            ("!alice", "alice", false),
            ("!alice", "bob", false),
            ("", "alice", false),
            ("", "", false),
            (",", "", true),
            ("*,!alice", "bob", true),
            ("*,!alice", "alice", false),
            ("!alice,*", "alice", false),
            ("a?ice", "alice", true),
            ("a?ice", "al\u{e9}ce", false),
            ("a??ce", "a\u{e9}ce", true),
            ("Alice", "alice", false),
        ] {
            assert_eq!(principals_match(list, who), want, "{list:?} {who:?}");
        }
        let long = "a".repeat(1023);
        assert!(!principals_match(&format!("*,{long}"), "b"));
        assert!(principals_match(&format!("*,{}", &long[1..]), "b"));
        for (list, want) in [
            ("alice", Some("alice")),
            ("!alice", None),
            ("", None),
            (",", None),
            ("*", Some("x")),
            ("!x,*", Some("handoff")),
            ("!x,!handoff,*", Some("y")),
            ("*,!*", None),
            ("!*@example.com,*@example.com", None),
            ("bob,!bob,carol", Some("carol")),
            ("?", Some("x")),
        ] {
            assert_eq!(principal_witness(list).as_deref(), want, "{list:?}");
        }
        assert_eq!(
            principals_field("\"a b,c\"  ssh-ed25519 K"),
            Some(("a b,c".to_string(), "ssh-ed25519 K"))
        );
        assert_eq!(principals_field("x\"\" k"), Some(("x".to_string(), "k")));
        assert_eq!(principals_field("\"open k"), None);
        assert_eq!(
            principals_field("alice\tk"),
            Some(("alice".to_string(), "k"))
        );
    }

    #[test]
    fn openssh_patterns() {
        for (p, s, want) in [
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("**", "handoff", true),
            ("*off", "handoff", true),
            ("h*d*f", "handoff", true),
            ("h*d*x", "handoff", false),
            ("*f", "handoff", true),
            ("*o", "handoff", false),
            ("handoff?", "handoff", false),
            ("?andoff", "handoff", true),
            ("hand", "handoff", false),
            ("handoffs", "handoff", false),
            ("*a*a*", "banana", true),
        ] {
            assert_eq!(glob(p.as_bytes(), s.as_bytes()), want, "{p:?} {s:?}");
        }
        assert!(!same_recipient("ssh-rsa AAAA", "ssh-ed25519 AAAA"));
        assert!(!same_recipient("ssh-ed25519 AAAA", "age1AAAA"));
        assert!(!same_recipient("age1a", "age1b"));
        assert!(same_recipient("ssh-ed25519  AAAA", "ssh-ed25519 AAAA c"));
        assert!(same_recipient(" ssh-ed25519 AAAA a", "ssh-ed25519 AAAA b "));
        assert!(!same_recipient("ssh-ed25519 AAAA", "AAAA ssh-ed25519"));
        assert!(!same_recipient("age1 ssh-ed25519 AAAA", "ssh-ed25519 AAAA"));
    }
}
