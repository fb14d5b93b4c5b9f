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

use std::io::{self, Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use base64::Engine;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::credentials::Token;
use crate::prompt::{prompt_passphrase, Prompt};
use crate::{envelope, Error, Result};

/// Sealed input larger than this is refused before it is read whole. A token
/// is a few KB.
pub const MAX_SEALED_SIZE: usize = 1 << 20;

/// The largest scrypt work factor (log2 N) accepted when opening.
const MAX_WORK_FACTOR: u8 = 20;

const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// `age-encryption.org/v1` in base64: how a one-line base64 token starts.
const AGE_MAGIC_B64: &[u8] = b"YWdlLWVuY3J5cHRpb24ub3JnL3Yx";
const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

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

/// Who a token is sealed to: age X25519 recipients, SSH public keys, or one
/// passphrase.
#[derive(Default)]
pub struct Recipients {
    keys: Vec<Box<dyn age::Recipient + Send>>,
    passphrase: Option<SecretString>,
    names: Vec<String>,
    /// Plugin recipients (`age1NAME1...`), run one plugin per name at seal.
    plugins: Vec<age::plugin::Recipient>,
    prompt: Prompt,
}

impl Recipients {
    /// No recipients yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a recipient: an `age1...` X25519 public key, or an `ssh-ed25519` /
    /// `ssh-rsa` public key line.
    pub fn add(&mut self, recipient: &str) -> Result<()> {
        let r = recipient.trim();
        if crate::plugin::recipient_plugin(r).is_some() {
            self.plugins.push(crate::plugin::parse_recipient(r)?);
        } else {
            self.keys.push(parse_recipient(r)?);
        }
        self.names.push(r.to_string());
        Ok(())
    }

    /// Adds every recipient of an age recipients file (`-`: standard input),
    /// read as age reads it: one a line, `#` comments and blank lines
    /// ignored, SSH keys of types age cannot encrypt to skipped. Returns one
    /// warning per skipped line, naming the file and the line.
    pub fn add_file(&mut self, path: &Path) -> Result<Vec<String>> {
        self.add_listing(
            crate::recipients_file::read(path)?,
            &path.display().to_string(),
        )
    }

    /// [`add_file`](Self::add_file) for a recipients file's text; `name`
    /// names it in messages.
    pub fn add_text(&mut self, text: &str, name: &str) -> Result<Vec<String>> {
        self.add_listing(crate::recipients_file::parse(text, name)?, name)
    }

    fn add_listing(
        &mut self,
        listing: crate::recipients_file::Listing,
        name: &str,
    ) -> Result<Vec<String>> {
        for (n, line) in &listing.recipients {
            self.add(line)
                .map_err(|e| Error::usage(format!("{name} line {n}: {e}")))?;
        }
        Ok(listing.warnings)
    }

    /// Seals with a passphrase (scrypt) instead of keys. age allows a
    /// passphrase only on its own.
    pub fn set_passphrase(&mut self, passphrase: SecretString) {
        self.passphrase = Some(passphrase);
    }

    /// Lets plugin recipients ask their questions on the terminal.
    pub fn set_prompt(&mut self, prompt: Prompt) {
        self.prompt = prompt;
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.plugins.is_empty() && self.passphrase.is_none()
    }

    /// The recipients as given, `scrypt` for a passphrase.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.names.clone();
        if self.passphrase.is_some() {
            names.push("scrypt".into());
        }
        names
    }
}

fn parse_recipient(r: &str) -> Result<Box<dyn age::Recipient + Send>> {
    if r.starts_with("age1") && !r.starts_with("age1pq1") {
        return age::x25519::Recipient::from_str(r)
            .map(|k| Box::new(k) as _)
            .map_err(|e| {
                Error::usage(format!(
                    "invalid age recipient {}: {e}",
                    crate::mistakes::short(r)
                ))
            });
    }
    if r.starts_with("ssh-") {
        return age::ssh::Recipient::from_str(r)
            .map(|k| Box::new(k) as _)
            .map_err(|e| {
                Error::usage(format!(
                    "invalid SSH recipient {}: {}",
                    crate::mistakes::short(r),
                    match e {
                        age::ssh::ParseRecipientKeyError::Ignore => "not a public key".to_string(),
                        age::ssh::ParseRecipientKeyError::Invalid(m) => m.to_string(),
                        age::ssh::ParseRecipientKeyError::RsaModulusTooLarge =>
                            "the RSA key is larger than 4096 bits".to_string(),
                        age::ssh::ParseRecipientKeyError::RsaModulusTooSmall =>
                            "the RSA key is smaller than 2048 bits".to_string(),
                        age::ssh::ParseRecipientKeyError::Unsupported(t) =>
                            format!("unsupported key type {t} (use ssh-ed25519 or ssh-rsa)"),
                        _ => "not a supported public key".to_string(),
                    }
                ))
            });
    }
    if r.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
        // not quoted: that would print part of the key
        return Err(Error::usage(
            "that is a secret key (an identity), not a recipient: give its public key, which handoff keygen -y prints",
        ));
    }
    Err(Error::usage(format!(
        "{} is not a recipient handoff understands: give an age1... public key or an ssh-ed25519/ssh-rsa public key",
        crate::mistakes::short(r)
    )))
}

/// The recipient an age plugin identity file names for the identity on line
/// `n` (0-based): the nearest `# recipient: age1...` (age-plugin) or
/// `#    Recipient: age1...` (age-plugin-yubikey) comment above it, after
/// any earlier identity line.
pub(crate) fn plugin_recipient_comment(text: &str, n: usize) -> Option<String> {
    for line in text.lines().take(n).collect::<Vec<_>>().into_iter().rev() {
        let line = line.trim();
        let Some(comment) = line.strip_prefix('#') else {
            if line.is_empty() {
                continue;
            }
            return None;
        };
        let comment = comment.trim();
        let lower = comment.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("recipient:") {
            let r = comment[comment.len() - rest.len()..].trim();
            if crate::plugin::recipient_plugin(r).is_some() {
                return Some(r.to_string());
            }
        }
    }
    None
}

/// The keys that can open a token: age identity files, OpenSSH private keys,
/// and a passphrase for passphrase-sealed tokens.
#[derive(Default)]
pub struct Identities {
    /// Each key, and through it the recipient it answers to (`age1...`,
    /// `ssh-ed25519 AAAA...`), to check a signed token's `SealedTo`.
    keys: Vec<Key>,
    sources: Vec<String>,
    passphrase: Option<SecretString>,
    prompt: Prompt,
    /// Set when an encrypted SSH key asked for its passphrase and got none.
    locked: Arc<AtomicBool>,
    /// What a plugin identity's failure was.
    plugin_failure: crate::plugin::Failure,
}

impl Identities {
    /// No identities yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets encrypted SSH keys and passphrase-sealed tokens ask on the
    /// terminal.
    pub fn set_prompt(&mut self, prompt: Prompt) {
        self.prompt = prompt;
    }

    /// The passphrase for a passphrase-sealed token.
    pub fn set_passphrase(&mut self, passphrase: SecretString) {
        self.passphrase = Some(passphrase);
    }

    /// Adds the identity files at `paths` or, when there are none, the
    /// default identity ([`crate::paths::default_identity_path`]) if it
    /// exists. `warn` hears of each file other users can read, before it is
    /// used; a file that is a token, not an identity, is named as one.
    pub fn add_files_or_default(
        &mut self,
        paths: &[std::path::PathBuf],
        mut warn: impl FnMut(&str),
    ) -> Result<()> {
        let default;
        let paths = if paths.is_empty() {
            default = [crate::paths::default_identity_path()?];
            if default[0].exists() {
                &default[..]
            } else {
                &[]
            }
        } else {
            paths
        };
        for p in paths {
            if let Some(w) = crate::files::readable_by_others(p, "identity file") {
                warn(&w);
            }
            self.add_file(p)
                .map_err(|e| crate::mistakes::identity_error(p, e))?;
        }
        Ok(())
    }

    /// Adds the identities in a file: an age identity file
    /// (`AGE-SECRET-KEY-1...` lines) or an OpenSSH private key.
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let text = crate::files::read_small_file(path, "identity file").map_err(|e| match e {
            Error::Io { source, path, .. } => Error::Decrypt(format!(
                "cannot read identity file {}: {}",
                path.display(),
                source
            )),
            e => Error::Decrypt(e.to_string()),
        })?;
        self.add_text(&text, &path.display().to_string())
    }

    /// Adds the identities in `text`, the contents of an identity file or an
    /// OpenSSH private key; `source` names it in messages.
    pub fn add_text(&mut self, text: &str, source: &str) -> Result<()> {
        let bad = |why: String| Error::Decrypt(format!("identity {source}: {why}"));
        if text.contains("-----BEGIN ") {
            // PEM RSA keys (PKCS#1, or PKCS#8 which age does not read and is
            // given to it as PKCS#1): their public half is worked out here.
            let pem = crate::pem_rsa::read(text);
            let (age_text, public) = match &pem {
                Some(k) => (k.pkcs1_pem.as_str(), k.public.clone()),
                // The public half is stored unencrypted in OpenSSH keys.
                None => (
                    text,
                    ssh_key::PrivateKey::from_openssh(text.trim())
                        .ok()
                        .and_then(|k| k.public_key().to_openssh().ok())
                        .unwrap_or_default(),
                ),
            };
            if pem.is_none() && text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
                return Err(bad(
                    "an encrypted PKCS#8 key; convert it with ssh-keygen -p -o".into(),
                ));
            }
            let identity =
                age::ssh::Identity::from_buffer(age_text.as_bytes(), Some(source.into()))
                    .map_err(|_| bad("not an OpenSSH private key handoff can use".into()))?;
            match identity {
                age::ssh::Identity::Unsupported(k) => {
                    return Err(bad(match k {
                        age::ssh::UnsupportedKey::EncryptedPem => {
                            "an encrypted PEM key; convert it with ssh-keygen -p -o".into()
                        }
                        age::ssh::UnsupportedKey::EncryptedSsh(c) => {
                            format!("encrypted with unsupported cipher {c}")
                        }
                        age::ssh::UnsupportedKey::Hardware(t)
                        | age::ssh::UnsupportedKey::Type(t) => {
                            format!("unsupported key type {t}")
                        }
                    }))
                }
                age::ssh::Identity::Encrypted(_) => {
                    let key = identity.with_callbacks(Callbacks {
                        prompt: self.prompt,
                        locked: self.locked.clone(),
                    });
                    self.keys.push(Key::Other(Box::new(key), public));
                }
                age::ssh::Identity::Unencrypted(_) => {
                    self.keys.push(Key::Other(Box::new(identity), public))
                }
            }
        } else {
            let mut found = 0;
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if line.starts_with("AGE-SECRET-KEY-PQ-1") {
                    return Err(bad(
                        "post-quantum (AGE-SECRET-KEY-PQ-1) identities are not supported by this build of handoff"
                            .into(),
                    ));
                }
                if line.starts_with("AGE-PLUGIN-") {
                    let key = crate::plugin::PluginIdentity::parse(
                        line,
                        plugin_recipient_comment(text, n),
                        self.prompt,
                        &self.plugin_failure,
                    )
                    .map_err(|why| bad(format!("line {}: {why}", n + 1)))?;
                    self.keys.push(Key::Plugin(key));
                    found += 1;
                    continue;
                }
                // The line is a secret: name it by number only.
                let key = age::x25519::Identity::from_str(line).map_err(|_| {
                    bad(format!(
                        "line {} is not an age identity (AGE-SECRET-KEY-1...)",
                        n + 1
                    ))
                })?;
                self.keys.push(Key::X25519(key));
                found += 1;
            }
            if found == 0 {
                return Err(bad("holds no identities".into()));
            }
        }
        self.sources.push(source.to_string());
        Ok(())
    }

    /// Whether no key has been added (a passphrase alone still opens
    /// passphrase-sealed tokens).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn passphrase(&self) -> Result<SecretString> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        if self.prompt == Prompt::Terminal {
            if let Some(p) = prompt_passphrase("Passphrase for the token: ") {
                return Ok(p);
            }
        }
        Err(Error::Decrypt(
            "this token is sealed with a passphrase: give --passphrase-file, or run on a terminal"
                .into(),
        ))
    }
}

/// One key of [`Identities`]. An X25519 key's public half is worked out only
/// when a signed token asks who opened it: deriving it is a scalar
/// multiplication, a sixth of the work of opening an unsigned token.
enum Key {
    X25519(age::x25519::Identity),
    /// An SSH key, with its public key line (stored unencrypted in the file).
    Other(Box<dyn age::Identity>, String),
    /// An age plugin identity (`AGE-PLUGIN-...`).
    Plugin(crate::plugin::PluginIdentity),
}

impl Key {
    fn identity(&self) -> &dyn age::Identity {
        match self {
            Key::X25519(k) => k,
            Key::Other(k, _) => k.as_ref(),
            Key::Plugin(k) => k,
        }
    }

    /// The recipient this key answers to.
    fn recipient(&self) -> String {
        match self {
            Key::X25519(k) => k.to_public().to_string(),
            Key::Other(_, public) => public.clone(),
            Key::Plugin(k) => k.describe(),
        }
    }

    /// Whether this key answers to `recipient`, a `SealedTo` entry.
    fn answers_to(&self, recipient: &str) -> bool {
        match self {
            Key::Plugin(k) => k.answers_to(recipient),
            k => crate::signing::same_recipient(recipient, &k.recipient()),
        }
    }
}

/// age's callbacks: ask on the terminal when allowed to, never show anything.
#[derive(Clone)]
struct Callbacks {
    prompt: Prompt,
    locked: Arc<AtomicBool>,
}

impl age::Callbacks for Callbacks {
    fn display_message(&self, _: &str) {}
    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }
    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }
    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        let answer = match self.prompt {
            Prompt::Terminal => prompt_passphrase(&format!("{description}: ")),
            Prompt::Never => None,
        };
        if answer.is_none() {
            self.locked.store(true, Ordering::SeqCst);
        }
        answer
    }
}

/// Seals a token to `recipients`, in the given form.
pub fn seal(token: &Token, recipients: &Recipients, form: Form) -> Result<Vec<u8>> {
    let plaintext = envelope::encode(token);
    seal_bytes(&plaintext, recipients, form)
}

/// Seals a token signed with the sender's SSH key: the plaintext is the
/// signed envelope, whose inner envelope names `recipients` (`SealedTo`),
/// carries a random `TokenId` and says when it was issued.
pub fn seal_signed(
    token: &Token,
    recipients: &Recipients,
    form: Form,
    key: &crate::signing::SigningKey,
) -> Result<Vec<u8>> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)
        .map_err(|e| Error::Other(format!("no randomness for the token id: {e}")))?;
    let token = match token.issued_at() {
        Some(_) => token.clone(),
        None => token.clone().with_issued_at(crate::clock::now()),
    };
    let inner = envelope::encode_inner(&token, &recipients.names(), &id);
    let signature = key.sign(&inner)?;
    let outer = envelope::encode_signed(&inner, &signature);
    seal_bytes(&outer, recipients, form)
}

/// Seals already-encoded envelope bytes.
pub(crate) fn seal_bytes(plaintext: &[u8], recipients: &Recipients, form: Form) -> Result<Vec<u8>> {
    let plugin_failure = crate::plugin::Failure::default();
    let plugins =
        crate::plugin::recipients(&recipients.plugins, recipients.prompt, &plugin_failure)?;
    let encryptor = match (&recipients.passphrase, recipients.keys.is_empty()) {
        (Some(p), true) if plugins.is_empty() => age::Encryptor::with_user_passphrase(p.clone()),
        (Some(_), _) => {
            return Err(Error::usage(
                "a passphrase cannot be combined with other recipients (age allows it only alone)",
            ))
        }
        (None, true) if plugins.is_empty() => {
            return Err(Error::usage("no recipients: give -r, -R or -p"))
        }
        (None, _) => age::Encryptor::with_recipients(
            recipients
                .keys
                .iter()
                .chain(&plugins)
                .map(|k| k.as_ref() as &dyn age::Recipient),
        )
        .map_err(|e| match plugin_failure.get() {
            Some(m) => Error::Other(m),
            None => Error::usage(format!("cannot seal to these recipients: {e}")),
        })?,
    };
    let mut out = Vec::with_capacity(plaintext.len() + 1024);
    let fail = |e: io::Error| match plugin_failure.get() {
        Some(m) => Error::Other(m),
        None => Error::Other(format!("sealing failed: {e}")),
    };
    {
        let mut w = encryptor.wrap_output(&mut out).map_err(fail)?;
        w.write_all(plaintext).map_err(fail)?;
        w.finish().map_err(fail)?;
    }
    // Never write what open refuses, whatever size age's grease stanza takes.
    let header = header_len_without_grease(&out);
    if header + GREASE_BYTES > MAX_HEADER_BYTES {
        return Err(Error::usage(format!(
            "too many recipients: their age header would take {} KiB, and handoff opens at most {} KiB \
             (about 1300 X25519 recipients); split them across several tokens",
            header.div_ceil(1024),
            MAX_HEADER_BYTES >> 10
        )));
    }
    if form == Form::Armor {
        let mut armored = Vec::with_capacity(out.len() * 4 / 3 + 128);
        let mut w = ArmoredWriter::wrap_output(&mut armored, Format::AsciiArmor).map_err(fail)?;
        w.write_all(&out).map_err(fail)?;
        w.finish().map_err(fail)?;
        return Ok(armored);
    }
    if form == Form::Base64 {
        let mut line = base64::engine::general_purpose::STANDARD.encode(&out);
        line.push('\n');
        return Ok(line.into_bytes());
    }
    Ok(out)
}

/// Opens a sealed token (binary, armored or one-line base64) with
/// `identities`. A signed token's signature must verify and the token must
/// name the identity that opened it; its signer is reported unverified (see
/// [`open_with`] to check it against a signers file).
pub fn open(sealed: &[u8], identities: &Identities) -> Result<Token> {
    open_with(sealed, identities, None)
}

/// Opens a sealed token and, with `signers`, requires it to be signed by a
/// key the signers file lists ([`Error::Unsigned`] when it is not signed,
/// [`Error::Untrusted`] when the signature is not good enough; exit 7).
pub fn open_with(
    sealed: &[u8],
    identities: &Identities,
    signers: Option<&crate::signing::Signers>,
) -> Result<Token> {
    let (plaintext, opened_by) = open_bytes(sealed, identities)?;
    // Who opened it matters only for a signed token: worked out below.
    let (inner, signature) = match envelope::decode_any(&plaintext)? {
        envelope::Decoded::Plain(token) => {
            return match signers {
                Some(s) => Err(Error::Unsigned {
                    signers: s.source().to_string(),
                }),
                None => Ok(*token),
            }
        }
        envelope::Decoded::Signed {
            envelope,
            signature,
        } => (envelope, signature),
    };
    let key = crate::signing::verify(&inner, &signature)?;
    let token = envelope::decode_inner(&inner)?;
    let fingerprint = key.fingerprint(ssh_key::HashAlg::Sha256).to_string();
    let mut signer = crate::signing::Signer {
        fingerprint: fingerprint.clone(),
        public_key: key.to_openssh().unwrap_or_default(),
        principal: None,
        verified: false,
    };
    if let Some(s) = signers {
        let principal = s.find(&key, crate::clock::now()).ok_or_else(|| {
            Error::Untrusted(format!(
                "the token is signed by {fingerprint}, which {} does not list for handoff",
                s.source()
            ))
        })?;
        signer.principal = Some(principal.to_string());
        signer.verified = true;
    }
    if !token
        .sealed_to()
        .iter()
        .any(|r| opened_by.answers_to(identities, r))
    {
        return Err(Error::Untrusted(format!(
            "the token was signed for {}, not for the identity that opened it: it was re-addressed",
            token.sealed_to().join(", ")
        )));
    }
    Ok(token.with_signer(signer))
}

/// Decrypts a sealed file (any of the three forms) to its plaintext without
/// reading it as an envelope: `open` without the last step, with the same
/// bounds and errors. For checking the age layer on its own (the C2SP age
/// test vectors in tests/age_vectors.rs) and for tools that inspect a token.
pub fn decrypt(sealed: &[u8], identities: &Identities) -> Result<Zeroizing<Vec<u8>>> {
    open_bytes(sealed, identities).map(|(plaintext, _)| plaintext)
}

/// Which of the [`Identities`] opened a token.
#[derive(Clone, Copy)]
pub(crate) enum OpenedBy {
    Passphrase,
    Key(usize),
    Unknown,
}

impl OpenedBy {
    /// The recipient the opening identity answers to (`scrypt` for a
    /// passphrase).
    pub(crate) fn recipient(self, identities: &Identities) -> String {
        match self {
            OpenedBy::Passphrase => "scrypt".to_string(),
            OpenedBy::Key(i) => identities.keys[i].recipient(),
            OpenedBy::Unknown => String::new(),
        }
    }

    /// Whether the opening identity answers to `recipient`, a `SealedTo`
    /// entry.
    pub(crate) fn answers_to(self, identities: &Identities, recipient: &str) -> bool {
        match self {
            OpenedBy::Key(i) => identities.keys[i].answers_to(recipient),
            _ => crate::signing::same_recipient(recipient, &self.recipient(identities)),
        }
    }
}

/// Decrypts a sealed file to its plaintext, in a zeroizing buffer sized up
/// front.
/// Also returns which identity opened it.
pub(crate) fn open_bytes(
    sealed: &[u8],
    identities: &Identities,
) -> Result<(Zeroizing<Vec<u8>>, OpenedBy)> {
    if sealed.len() > MAX_SEALED_SIZE {
        return Err(too_large());
    }
    let decoded;
    let start = trim_start(sealed);
    let input: &[u8] = if start.starts_with(AGE_MAGIC) {
        start
    } else if start.starts_with(ARMOR_BEGIN) {
        // Whitespace around the armor is allowed (C2SP age); the age crate's
        // reader wants the armor alone. The binary inside is read out first
        // so that its header can be checked like the other forms'.
        let mut binary = Vec::with_capacity(start.len());
        ArmoredReader::new(trim_end(start))
            .read_to_end(&mut binary)
            .map_err(|e| Error::Decrypt(format!("the armored token is damaged: {e}")))?;
        decoded = binary;
        &decoded
    } else if start.starts_with(AGE_MAGIC_B64) {
        let text = trim_end(start);
        decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| Error::Decrypt("the base64 token is damaged (invalid base64)".into()))?;
        &decoded
    } else if sealed.is_empty() {
        return Err(Error::Decrypt("the token is empty".into()));
    } else {
        return Err(Error::NotAToken(
            "not an age file (binary, armored or base64)".into(),
        ));
    };
    check_header(input)?;
    let decryptor = age::Decryptor::new_buffered(WholeHeader::new(input)).map_err(|e| match e {
        // age reports a v1 header it cannot parse as an unknown format
        age::DecryptError::UnknownFormat if input.starts_with(b"age-encryption.org/v1\n") => {
            Error::Decrypt("the token is damaged: invalid age header".into())
        }
        e => decrypt_error(e, false),
    })?;
    let scrypt = decryptor.is_scrypt();
    let hit = std::cell::Cell::new(None);
    let mut reader = if scrypt {
        let pass = identities.passphrase()?;
        let mut id = age::scrypt::Identity::new(pass);
        // Accept what age and rage write (2^18 by default) up to 2^20 (1 GiB
        // of scrypt memory), whatever this machine's speed.
        id.set_max_work_factor(MAX_WORK_FACTOR);
        decryptor
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .map_err(|e| decrypt_error(e, true))?
    } else {
        if identities.keys.is_empty() {
            return Err(Error::NoIdentity);
        }
        identities.plugin_failure.clear();
        // Keys in files first, plugins after: a hardware key is asked only
        // when no other key opens the token.
        let mut order: Vec<(usize, &Key)> = identities.keys.iter().enumerate().collect();
        order.sort_by_key(|(_, k)| matches!(k, Key::Plugin(_)));
        let tracked: Vec<Tracked> = order
            .into_iter()
            .map(|(index, key)| Tracked {
                inner: key.identity(),
                index,
                hit: &hit,
            })
            .collect();
        decryptor
            .decrypt(tracked.iter().map(|t| t as &dyn age::Identity))
            .map_err(|e| match e {
                _ if identities.plugin_failure.get().is_some() => Error::Decrypt(
                    identities.plugin_failure.get().unwrap_or_default(),
                ),
                age::DecryptError::NoMatchingKeys if identities.locked.load(Ordering::SeqCst) => {
                    Error::Decrypt(format!(
                        "an SSH key in {} is passphrase-protected and there is no terminal to ask on; \
                         run on a terminal, or remove the passphrase (ssh-keygen -p)",
                        identities.sources.join(", ")
                    ))
                }
                age::DecryptError::NoMatchingKeys => Error::Decrypt(format!(
                    "no identity matches this token (tried {}); it was sealed to someone else",
                    identities.sources.join(", ")
                )),
                e => decrypt_error(e, false),
            })?
    };
    // The plaintext is shorter than the ciphertext: a buffer of that size never grows.
    let mut buf = Zeroizing::new(vec![0u8; input.len()]);
    let mut n = 0;
    loop {
        if n == buf.len() {
            return Err(too_large());
        }
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(payload_error(e)),
        }
    }
    buf.truncate(n);
    let opened_by = match hit.get() {
        _ if scrypt => OpenedBy::Passphrase,
        Some(i) => OpenedBy::Key(i),
        None => OpenedBy::Unknown,
    };
    Ok((buf, opened_by))
}

/// An identity that remembers whether it was the one that unwrapped the file
/// key, so a signed token's `SealedTo` can be checked against it.
struct Tracked<'a> {
    inner: &'a dyn age::Identity,
    index: usize,
    hit: &'a std::cell::Cell<Option<usize>>,
}

impl Tracked<'_> {
    fn note(
        &self,
        r: Option<std::result::Result<age_core::format::FileKey, age::DecryptError>>,
    ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
        if matches!(r, Some(Ok(_))) {
            self.hit.set(Some(self.index));
        }
        r
    }
}

impl age::Identity for Tracked<'_> {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
        self.note(self.inner.unwrap_stanza(stanza))
    }

    fn unwrap_stanzas(
        &self,
        stanzas: &[age_core::format::Stanza],
    ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
        self.note(self.inner.unwrap_stanzas(stanzas))
    }
}

/// The most bytes of age header handoff opens: 1000 X25519 recipients take
/// 98 KB, 1000 ssh-ed25519 ones 110 KB. Every X25519 stanza costs an opener
/// holding an X25519 key a Diffie-Hellman, so this bounds the work a
/// hostile header can ask for (see docs/SECURITY.md for the figures).
/// `seal` refuses to write a header that would not leave room for age's
/// random extra stanza below it.
pub const MAX_HEADER_BYTES: usize = 128 << 10;
/// The most bytes age's random extra ("grease") stanza takes: a first line
/// of at most 66 characters and a body of at most 100 bytes.
const GREASE_BYTES: usize = 256;

/// Refuses an age header (everything before and including the `---` MAC
/// line) longer than [`MAX_HEADER_BYTES`], without parsing it.
fn check_header(binary: &[u8]) -> Result<()> {
    if header_len(binary) > MAX_HEADER_BYTES {
        return Err(Error::Decrypt(format!(
            "the token's age header is longer than handoff reads ({} KiB); \
             a token's header is about 100 bytes per recipient",
            MAX_HEADER_BYTES >> 10
        )));
    }
    Ok(())
}

/// The length of the age header at the start of `binary`: up to and
/// including the first line that starts with `---` (no stanza line can), or
/// all of it when there is none.
fn header_len(binary: &[u8]) -> usize {
    let mut at = 0;
    for line in binary.split_inclusive(|&b| b == b'\n') {
        at += line.len();
        if line.starts_with(b"---") {
            return at;
        }
    }
    binary.len()
}

/// The header of a sealed file less its grease stanza (the one whose tag
/// ends in `-grease`): what a seal to the same recipients always takes.
fn header_len_without_grease(binary: &[u8]) -> usize {
    let header = &binary[..header_len(binary)];
    let mut grease = 0;
    let mut in_grease = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"-> ") || line.starts_with(b"---") {
            in_grease = line
                .split(|&b| b == b' ')
                .nth(1)
                .is_some_and(|tag| tag.ends_with(b"-grease"));
        }
        if in_grease {
            grease += line.len();
        }
    }
    header.len() - grease
}

/// The sealed bytes as age reads them, with the whole header handed over at
/// once. age 0.12 parses its header again from the start after every line
/// it reads (str4d/rage#368), which is quadratic in the number of lines;
/// handing it the header up to the MAC line in one `read_until` makes that
/// one parse (and one more with the rest of the input if the header is
/// damaged).
struct WholeHeader<'a> {
    rest: &'a [u8],
    header_given: bool,
}

impl<'a> WholeHeader<'a> {
    fn new(input: &'a [u8]) -> Self {
        WholeHeader {
            rest: input,
            header_given: false,
        }
    }
}

impl Read for WholeHeader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.rest.read(buf)
    }
}

impl io::BufRead for WholeHeader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.rest)
    }

    fn consume(&mut self, n: usize) {
        self.rest = &self.rest[n.min(self.rest.len())..];
    }

    fn read_until(&mut self, _: u8, buf: &mut Vec<u8>) -> io::Result<usize> {
        // age calls this only while reading the header, and only for
        // newline-terminated lines: the header first, then (a damaged
        // header wants more) everything, so age parses at most twice.
        let n = if self.header_given {
            self.rest.len()
        } else {
            header_len(self.rest)
        };
        self.header_given = true;
        buf.extend_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

fn decrypt_error(e: age::DecryptError, scrypt: bool) -> Error {
    use age::DecryptError as D;
    Error::Decrypt(match e {
        D::DecryptionFailed | D::NoMatchingKeys if scrypt => {
            "wrong passphrase, or the token is damaged".into()
        }
        D::DecryptionFailed => "the token is damaged: decryption failed".into(),
        D::InvalidMac => "the token's header is damaged or was tampered with (bad MAC)".into(),
        D::InvalidHeader => "the token is damaged: invalid age header".into(),
        D::UnknownFormat => "the token uses an age format this handoff does not know; upgrade handoff".into(),
        D::KeyDecryptionFailed => "cannot unlock the SSH key: wrong passphrase?".into(),
        D::NoMatchingKeys => "no identity matches this token".into(),
        D::ExcessiveWork { required, target } => format!(
            "the passphrase work factor (2^{required}) is far above this machine's (2^{target}); refusing"
        ),
        D::Io(e) => return payload_error(e),
        #[allow(unreachable_patterns)]
        _ => "the token cannot be decrypted".into(),
    })
}

fn payload_error(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => Error::Decrypt("the token is truncated".into()),
        _ => Error::Decrypt(format!("the token is damaged or truncated: {e}")),
    }
}

fn too_large() -> Error {
    Error::NotAToken(format!(
        "larger than {} KiB; a token is a few KB",
        MAX_SEALED_SIZE / 1024
    ))
}

/// Reads the sealed token in the file at `path`, as [`read_sealed`].
pub fn read_sealed_file(path: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path)
        .map_err(|e| Error::Decrypt(format!("cannot read token {}: {}", path.display(), e)))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::Decrypt(format!(
            "cannot read token {}: it is a directory",
            path.display()
        )));
    }
    read_sealed(f, &path.display().to_string())
}

/// Reads at most [`MAX_SEALED_SIZE`] bytes of sealed input, refusing anything
/// larger without reading it whole.
pub fn read_sealed(reader: impl Read, name: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader
        .take(MAX_SEALED_SIZE as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::Decrypt(format!("cannot read {name}: {e}")))?;
    if buf.len() > MAX_SEALED_SIZE {
        return Err(too_large());
    }
    Ok(buf)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[i..]
}

fn trim_end(b: &[u8]) -> &[u8] {
    let i = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &b[..i]
}

/// Reads a passphrase from the first line of a file.
pub fn read_passphrase_file(path: &Path) -> Result<SecretString> {
    let text = crate::files::read_small_file(path, "passphrase file")?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(Error::usage(format!(
            "passphrase file {} is empty",
            path.display()
        )));
    }
    Ok(crate::credentials::into_secret(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, Kind};
    use secrecy::ExposeSecret;

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
    fn passphrase_round_trip_and_wrong_passphrase() {
        let mut r = Recipients::new();
        r.set_passphrase("correct horse".into());
        assert_eq!(r.names(), ["scrypt"]);
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let mut i = Identities::new();
        assert_eq!(open(&sealed, &i).unwrap_err().exit_code(), 3);
        i.set_passphrase("wrong".into());
        assert_eq!(open(&sealed, &i).unwrap_err().exit_code(), 3);
        i.set_passphrase("correct horse".into());
        assert!(open(&sealed, &i).is_ok());
    }

    #[test]
    fn other_recipient_and_damage() {
        let (r, _) = pair();
        let (_, other) = pair();
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let e = open(&sealed, &other).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("no identity matches"), "{e}");
        for cut in [0, 10, sealed.len() / 2, sealed.len() - 1] {
            assert_eq!(open(&sealed[..cut], &other).unwrap_err().exit_code(), 3);
        }
    }

    #[test]
    fn bad_recipients_are_usage_errors() {
        let mut r = Recipients::new();
        for bad in ["age1nope", "bob@example.com", "ssh-dss AAAA", ""] {
            assert_eq!(r.add(bad).unwrap_err().exit_code(), 2, "{bad}");
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
        assert_eq!(e.exit_code(), 2);
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
        assert_eq!(seal(&token(), &r, Form::Binary).unwrap_err().exit_code(), 2);
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
        assert_eq!(read_sealed(big, "stdin").unwrap_err().exit_code(), 3);
    }
}

#[cfg(test)]
mod signed_tests {
    use super::*;
    use crate::signing::{Signers, SigningKey};
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
            open_with(&sealed, &i, Some(&other))
                .unwrap_err()
                .exit_code(),
            7
        );
        // unsigned with signers
        let plain = seal(&token(), &r, Form::Binary).unwrap();
        assert_eq!(
            open_with(&plain, &i, Some(&signers))
                .unwrap_err()
                .exit_code(),
            7
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
        assert_eq!(e.exit_code(), 7);
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
        assert_eq!(e.exit_code(), 7, "{e}");
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
