//! The age file itself: encrypting a plaintext in one of the three forms,
//! and recognising, bounding and decrypting a sealed token.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use base64::Engine;
use zeroize::Zeroizing;

use super::*;

/// The largest scrypt work factor (log2 N) accepted when opening.
const MAX_WORK_FACTOR: u8 = 20;

/// The scrypt work factor (log2 N) of a passphrase seal: Go age's fixed
/// choice (256 MiB, about a second). The age crate's own choice is timed
/// on the sealing machine to take a second there, and on a fast machine
/// can pass [`MAX_WORK_FACTOR`], making a token handoff itself would
/// refuse to open.
const SEAL_WORK_FACTOR: u8 = 18;
const _: () = assert!(SEAL_WORK_FACTOR <= MAX_WORK_FACTOR);

pub(super) const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// `age-encryption.org/v1` in base64: how a one-line base64 token starts.
pub(super) const AGE_MAGIC_B64: &[u8] = b"YWdlLWVuY3J5cHRpb24ub3JnL3Yx";
pub(super) const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Seals already-encoded envelope bytes.
pub(crate) fn seal_bytes(plaintext: &[u8], recipients: &Recipients, form: Form) -> Result<Vec<u8>> {
    // The combination first, before any plugin is started.
    let alone = recipients.keys.is_empty() && recipients.plugins.is_empty();
    let plugin_failure = crate::seal::plugin::Failure::default();
    // Refused before any key is wrapped when even the smallest stanzas (an
    // X25519 one each) cannot fit: 1400 recipients cost a second of CPU to
    // wrap in a debug build only to be refused afterwards.
    let least = HEADER_FIXED_BYTES + recipients.keys.len() * X25519_STANZA_BYTES + GREASE_BYTES;
    if least > MAX_HEADER_BYTES {
        return Err(too_many_recipients(least, "at least "));
    }
    let encryptor =
        match &recipients.passphrase {
            Some(_) if !alone => return Err(Error::usage(
                "a passphrase cannot be combined with other recipients (age allows it only alone)",
            )),
            Some(p) => {
                let mut scrypt = age::scrypt::Recipient::new(p.clone());
                scrypt.set_work_factor(SEAL_WORK_FACTOR);
                age::Encryptor::with_recipients(std::iter::once(&scrypt as &dyn age::Recipient))
                    .map_err(|e| Error::other(format!("sealing failed: {e}")))?
            }
            None if alone => return Err(Error::usage("no recipients: give -r, -R or -p")),
            None => {
                let plugins = crate::seal::plugin::recipients(
                    &recipients.plugins,
                    recipients.prompt,
                    &plugin_failure,
                )?;
                age::Encryptor::with_recipients(
                    recipients
                        .keys
                        .iter()
                        .chain(&plugins)
                        .map(|k| k.as_ref() as &dyn age::Recipient),
                )
                .map_err(|e| match plugin_failure.get() {
                    Some(m) => Error::other(m),
                    None => Error::usage(format!("cannot seal to these recipients: {e}")),
                })?
            }
        };
    let mut out = Vec::with_capacity(plaintext.len() + 1024);
    let fail = |e: io::Error| match plugin_failure.get() {
        Some(m) => Error::other(m),
        None => Error::other(format!("sealing failed: {e}")),
    };
    {
        let mut w = encryptor.wrap_output(&mut out).map_err(fail)?;
        w.write_all(plaintext).map_err(fail)?;
        w.finish().map_err(fail)?;
    }
    // Never write what open refuses, whatever size age's grease stanza takes.
    // The size said is with that room: a header of 127.9 KiB is refused,
    // and "would take 128 KiB" would not say why.
    let header = header_len_without_grease(&out) + GREASE_BYTES;
    if header > MAX_HEADER_BYTES {
        return Err(too_many_recipients(header, ""));
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
            _ => crate::seal::signing::same_recipient(recipient, &self.recipient(identities)),
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
            .map_err(|e| {
                Error::damaged(format!("the armored token is damaged: {e}")).with_source(e)
            })?;
        decoded = binary;
        &decoded
    } else if let Some(text) = base64_text(start) {
        decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| {
                Error::damaged("the base64 token is damaged (invalid base64)").with_source(e)
            })?;
        &decoded
    } else if sealed.is_empty() {
        return Err(Error::damaged("the token is empty"));
    } else {
        return Err(Error::not_a_token(
            "not an age file (binary, armored or base64)",
        ));
    };
    check_header(input)?;
    let decryptor = age::Decryptor::new_buffered(WholeHeader::new(input)).map_err(|e| match e {
        // age reports a v1 header it cannot parse as an unknown format
        age::DecryptError::UnknownFormat if input.starts_with(b"age-encryption.org/v1\n") => {
            Error::damaged("the token is damaged: invalid age header").with_source(e)
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
            return Err(Error::no_identity());
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
                _ if identities.plugin_failure.get().is_some() => Error::new(
                    ErrorKind::BadIdentity,
                    identities.plugin_failure.get().unwrap_or_default(),
                )
                .with_source(e),
                age::DecryptError::NoMatchingKeys if identities.locked.load(Ordering::SeqCst) => {
                    Error::new(
                        ErrorKind::BadIdentity,
                        format!(
                            "an SSH key in {} is passphrase-protected and there is no terminal to ask on; \
                             run on a terminal, or remove the passphrase (ssh-keygen -p)",
                            identities.sources.join(", ")
                        ),
                    )
                    .with_source(e)
                }
                age::DecryptError::NoMatchingKeys => Error::new(
                    ErrorKind::NoMatchingIdentity,
                    format!(
                        "no identity matches this token (tried {}); it was sealed to someone else",
                        identities.sources.join(", ")
                    ),
                )
                .with_source(e),
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
/// `age-encryption.org/v1` and the `---` MAC line: the header without stanzas.
const HEADER_FIXED_BYTES: usize = 22 + 48;
/// An X25519 stanza (`-> X25519 ` and 43 characters of share, then 43 of
/// wrapped key): the smallest a native recipient writes.
const X25519_STANZA_BYTES: usize = 10 + 43 + 1 + 43 + 1;

/// The refusal of a header over [`MAX_HEADER_BYTES`]; `bytes` with the
/// room for grease, `how` "at least " when it is a lower bound.
fn too_many_recipients(bytes: usize, how: &str) -> Error {
    Error::usage(format!(
        "too many recipients: their age header would take {how}{} KiB, and handoff opens at most {} KiB \
         (about 1300 X25519 recipients); split them across several tokens",
        bytes.div_ceil(1024),
        MAX_HEADER_BYTES >> 10
    ))
}

/// Refuses an age header (everything before and including the `---` MAC
/// line) longer than [`MAX_HEADER_BYTES`], without parsing it.
fn check_header(binary: &[u8]) -> Result<()> {
    if header_len(binary) > MAX_HEADER_BYTES {
        return Err(Error::damaged(format!(
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
            // The tag is the second word, the last one when the stanza has
            // no arguments (age's grease has none one time in five).
            in_grease = line
                .strip_suffix(b"\n")
                .unwrap_or(line)
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

/// age's error, kept as the source, as the cause it is: `scrypt` when the
/// token is sealed with a passphrase (age cannot tell a wrong passphrase
/// from a damaged file then, and neither can handoff).
fn decrypt_error(e: age::DecryptError, scrypt: bool) -> Error {
    use age::DecryptError as D;
    use ErrorKind as K;
    let (kind, message) = match &e {
        D::DecryptionFailed | D::NoMatchingKeys if scrypt => (
            K::WrongPassphrase,
            "wrong passphrase, or the token is damaged".to_string(),
        ),
        D::DecryptionFailed => (
            K::Damaged,
            "the token is damaged: decryption failed".to_string(),
        ),
        D::InvalidMac => (
            K::Damaged,
            "the token's header is damaged or was tampered with (bad MAC)".to_string(),
        ),
        D::InvalidHeader => (
            K::Damaged,
            "the token is damaged: invalid age header".to_string(),
        ),
        D::UnknownFormat => (
            K::Damaged,
            "the token uses an age format this handoff does not know; upgrade handoff".to_string(),
        ),
        D::KeyDecryptionFailed => (
            K::WrongPassphrase,
            "cannot unlock the SSH key: wrong passphrase?".to_string(),
        ),
        D::NoMatchingKeys => (
            K::NoMatchingIdentity,
            "no identity matches this token".to_string(),
        ),
        D::ExcessiveWork { required, target } => (
            K::ExcessiveWork {
                required: *required,
                target: *target,
            },
            format!(
                "the passphrase work factor (2^{required}) is far above this machine's (2^{target}); refusing"
            ),
        ),
        D::Io(io) => (K::Damaged, payload_message(io)),
        #[allow(unreachable_patterns)]
        _ => (K::Damaged, "the token cannot be decrypted".to_string()),
    };
    Error::new(kind, message).with_source(e)
}

/// The words for an age payload that cannot be read to its end.
fn payload_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "the token is truncated".to_string(),
        _ => format!("the token is damaged or truncated: {e}"),
    }
}

fn payload_error(e: io::Error) -> Error {
    Error::damaged(payload_message(&e)).with_source(e)
}

fn too_large() -> Error {
    Error::not_a_token(format!(
        "larger than {} KiB; a token is a few KB",
        MAX_SEALED_SIZE / 1024
    ))
}

/// Reads the sealed token in the file at `path`, as [`read_sealed`].
pub fn read_sealed_file(path: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io("cannot read token", path, e))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::new(
            ErrorKind::Io {
                path: path.to_path_buf(),
            },
            format!("cannot read token {}: it is a directory", path.display()),
        ));
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
        .map_err(|e| {
            Error::new(
                ErrorKind::Io { path: name.into() },
                format!("cannot read {name}: {e}"),
            )
            .with_source(e)
        })?;
    if buf.len() > MAX_SEALED_SIZE {
        return Err(too_large());
    }
    Ok(buf)
}

/// The text of a base64 token with every blank and line break taken out
/// (a mail client wraps long lines, at 76 columns or wherever, and may add
/// spaces: the base64 form is for channels that do that), when it is one:
/// when it starts with `age-encryption.org/v1` in base64.
fn base64_text(b: &[u8]) -> Option<Vec<u8>> {
    // a quick look at the start first: anything else is not copied
    let mut head = b
        .iter()
        .filter(|c| !c.is_ascii_whitespace())
        .take(AGE_MAGIC_B64.len());
    if !AGE_MAGIC_B64.iter().all(|m| head.next() == Some(m)) {
        return None;
    }
    Some(
        b.iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    #[test]
    fn decryption_errors_in_our_words() {
        use age::DecryptError as D;
        let say = |e, scrypt| decrypt_error(e, scrypt).to_string();
        for (e, want) in [
            (
                D::DecryptionFailed,
                "the token is damaged: decryption failed",
            ),
            (
                D::InvalidMac,
                "the token's header is damaged or was tampered with (bad MAC)",
            ),
            (D::InvalidHeader, "the token is damaged: invalid age header"),
            (
                D::UnknownFormat,
                "the token uses an age format this handoff does not know; upgrade handoff",
            ),
            (
                D::KeyDecryptionFailed,
                "cannot unlock the SSH key: wrong passphrase?",
            ),
            (D::NoMatchingKeys, "no identity matches this token"),
            (
                D::ExcessiveWork {
                    required: 30,
                    target: 20,
                },
                "the passphrase work factor (2^30) is far above this machine's (2^20); refusing",
            ),
            (
                D::Io(io::ErrorKind::UnexpectedEof.into()),
                "the token is truncated",
            ),
        ] {
            assert!(say(e, false).ends_with(want), "{want}");
        }
        for e in [D::DecryptionFailed, D::NoMatchingKeys] {
            assert!(say(e, true).ends_with("wrong passphrase, or the token is damaged"));
        }
        assert!(say(D::InvalidMac, true).ends_with("(bad MAC)"));
        // each of age's errors is the cause it is, and stays the source
        use crate::ErrorKind as K;
        let kind = |e, scrypt| decrypt_error(e, scrypt).kind().clone();
        assert_eq!(kind(D::InvalidMac, false), K::Damaged);
        assert_eq!(kind(D::InvalidHeader, false), K::Damaged);
        assert_eq!(kind(D::UnknownFormat, false), K::Damaged);
        assert_eq!(kind(D::DecryptionFailed, false), K::Damaged);
        assert_eq!(kind(D::DecryptionFailed, true), K::WrongPassphrase);
        assert_eq!(kind(D::NoMatchingKeys, true), K::WrongPassphrase);
        assert_eq!(kind(D::NoMatchingKeys, false), K::NoMatchingIdentity);
        assert_eq!(kind(D::KeyDecryptionFailed, false), K::WrongPassphrase);
        assert_eq!(
            kind(D::Io(io::ErrorKind::UnexpectedEof.into()), false),
            K::Damaged
        );
        let work = decrypt_error(
            D::ExcessiveWork {
                required: 30,
                target: 18,
            },
            true,
        );
        assert_eq!(
            work.kind(),
            &K::ExcessiveWork {
                required: 30,
                target: 18
            }
        );
        let source = std::error::Error::source(&work).and_then(|s| s.downcast_ref::<D>());
        assert!(
            matches!(
                source,
                Some(D::ExcessiveWork {
                    required: 30,
                    target: 18
                })
            ),
            "{work:?}"
        );
        let e = payload_error(io::Error::other("bad chunk"));
        assert!(
            e.to_string()
                .ends_with("the token is damaged or truncated: bad chunk"),
            "{e}"
        );
    }

    #[test]
    fn header_lengths() {
        let file = b"age-encryption.org/v1\n-> X25519 abc\nbody\n--- mac\npayload\n---x";
        assert_eq!(header_len(file), file.len() - "payload\n---x".len());
        assert_eq!(header_len(b"no mac line\nat all"), 18);
        assert_eq!(header_len(b"---"), 3);
        assert_eq!(header_len(b""), 0);
        let greased = b"age-encryption.org/v1\n-> X25519 abc\nbody\n-> x-grease 1 2\ngrease body\nmore\n-> ssh-ed25519 k\nb\n--- mac\npayload";
        let grease = "-> x-grease 1 2\ngrease body\nmore\n".len();
        assert_eq!(
            header_len_without_grease(greased),
            header_len(greased) - grease
        );
        assert_eq!(header_len_without_grease(file), header_len(file));
        // grease with no arguments: its tag ends the line
        let bare =
            b"age-encryption.org/v1\n-> X25519 abc\nbody\n-> %('c-grease\ngrease body\n--- mac\n";
        assert_eq!(
            header_len_without_grease(bare),
            bare.len() - "-> %('c-grease\ngrease body\n".len()
        );
        // a tag that only contains "-grease" is not grease
        let not = b"age-encryption.org/v1\n-> x-greasy 1\nb\n--- mac\n";
        assert_eq!(header_len_without_grease(not), not.len());
    }

    #[test]
    fn headers_up_to_the_bound() {
        let header = |len: usize| {
            let mut h = b"age-encryption.org/v1\n".to_vec();
            h.resize(len - b"\n--- mac\n".len(), b'a');
            h.extend_from_slice(b"\n--- mac\npayload");
            assert_eq!(header_len(&h), len);
            h
        };
        assert!(check_header(&header(MAX_HEADER_BYTES)).is_ok());
        let e = check_header(&header(MAX_HEADER_BYTES + 1)).unwrap_err();
        assert!(
            e.to_string()
                .contains("longer than handoff reads (128 KiB)"),
            "{e}"
        );
    }

    #[test]
    fn the_whole_header_is_handed_over_at_once() {
        let input = b"age-encryption.org/v1\n-> X25519 a\nb\n--- mac\npayload";
        let mut r = WholeHeader::new(input);
        assert_eq!(r.fill_buf().unwrap(), input);
        let mut buf = Vec::new();
        assert_eq!(r.read_until(b'\n', &mut buf).unwrap(), header_len(input));
        assert_eq!(buf, &input[..header_len(input)]);
        // then everything left
        let mut rest = Vec::new();
        assert_eq!(r.read_until(b'\n', &mut rest).unwrap(), 7);
        assert_eq!(rest, b"payload");
        let mut r = WholeHeader::new(b"abc");
        r.consume(1);
        assert_eq!(r.fill_buf().unwrap(), b"bc");
        r.consume(10);
        assert_eq!(r.fill_buf().unwrap(), b"");
        let mut r = WholeHeader::new(b"abc");
        let mut two = [0; 2];
        assert_eq!(r.read(&mut two).unwrap(), 2);
        assert_eq!(&two, b"ab");
    }

    #[test]
    fn reading_sealed_input() {
        let big = vec![b'a'; MAX_SEALED_SIZE];
        assert_eq!(read_sealed(&big[..], "x").unwrap().len(), MAX_SEALED_SIZE);
        let bigger = vec![b'a'; MAX_SEALED_SIZE + 1];
        let e = read_sealed(&bigger[..], "x").unwrap_err();
        assert_eq!(e.to_string(), too_large().to_string());
        assert!(e.to_string().contains("larger than 1024 KiB"), "{e}");
        assert_eq!(e.kind(), &crate::ErrorKind::NotAToken);
        let dir = tempfile::tempdir().unwrap();
        let e = read_sealed_file(dir.path()).unwrap_err();
        assert!(e.to_string().ends_with("it is a directory"), "{e}");
        let io = |p: &Path| crate::ErrorKind::Io { path: p.into() };
        assert_eq!(e.kind(), &io(dir.path()));
        let none = dir.path().join("none");
        let e = read_sealed_file(&none).unwrap_err();
        assert!(e.to_string().starts_with("cannot read token"), "{e}");
        assert_eq!(e.kind(), &io(&none));
        let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<io::Error>());
        assert_eq!(cause.map(io::Error::kind), Some(io::ErrorKind::NotFound));
        assert_eq!(trim_start(b" \n\tx y \n"), b"x y \n");
        assert_eq!(trim_end(b" \n\tx y \n"), b" \n\tx y");
        assert_eq!(trim_start(b" \n"), b"");
        assert_eq!(trim_end(b" \n"), b"");
    }

    fn token() -> crate::Token {
        crate::Token::new(
            crate::Kind::Static,
            crate::Credentials::new("AKIAIOSFODNN7EXAMPLE", "secret".into(), None, None),
        )
    }

    fn pair() -> (Recipients, Identities, String) {
        use secrecy::ExposeSecret;
        let key = age::x25519::Identity::generate();
        let mut r = Recipients::new();
        r.add(&key.to_public().to_string()).unwrap();
        let mut i = Identities::new();
        i.add_text(key.to_string().expose_secret(), "test").unwrap();
        (r, i, key.to_public().to_string())
    }

    /// 1287 X25519 and 42 ssh-ed25519 recipients make a header that, with
    /// room for the grease stanza, is exactly MAX_HEADER_BYTES (98 and 110
    /// bytes a stanza, 70 for the first and last lines): that seals, and
    /// opens; one more recipient does not seal.
    #[test]
    fn the_most_recipients_a_header_holds() {
        let mut r = Recipients::new();
        for _ in 0..1287 {
            r.add(&age::x25519::Identity::generate().to_public().to_string())
                .unwrap();
        }
        for _ in 0..42 {
            let k = ssh_key::PrivateKey::random(
                &mut ssh_key::rand_core::OsRng,
                ssh_key::Algorithm::Ed25519,
            )
            .unwrap();
            r.add(&k.public_key().to_openssh().unwrap()).unwrap();
        }
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        assert_eq!(
            header_len_without_grease(&sealed) + GREASE_BYTES,
            MAX_HEADER_BYTES
        );
        let (_, i, last) = pair();
        r.add(&last).unwrap();
        let e = seal(&token(), &r, Form::Binary).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert_eq!(
            e.to_string(),
            "too many recipients: their age header would take 129 KiB, and handoff opens at most 128 KiB \
             (about 1300 X25519 recipients); split them across several tokens"
        );
        drop(i);
    }

    #[test]
    fn a_header_that_cannot_fit_is_refused_before_any_key_is_wrapped() {
        // the constants are what age writes: one X25519 recipient's header
        let k = age::x25519::Identity::generate();
        let mut one = Recipients::new();
        one.add(&k.to_public().to_string()).unwrap();
        let sealed = seal(&token(), &one, Form::Binary).unwrap();
        assert_eq!(
            header_len_without_grease(&sealed),
            HEADER_FIXED_BYTES + X25519_STANZA_BYTES
        );
        // 1400 cannot fit even at that size: refused as a lower bound
        let mut many = Recipients::new();
        for _ in 0..1400 {
            many.add(&age::x25519::Identity::generate().to_public().to_string())
                .unwrap();
        }
        let e = seal(&token(), &many, Form::Binary).unwrap_err();
        assert_eq!(
            e.to_string(),
            "too many recipients: their age header would take at least 135 KiB, and handoff opens at most 128 KiB \
             (about 1300 X25519 recipients); split them across several tokens"
        );
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
    }

    #[test]
    fn no_recipients_at_all() {
        let e = seal(&token(), &Recipients::new(), Form::Binary).unwrap_err();
        assert_eq!(e.to_string(), "no recipients: give -r, -R or -p");
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
    }

    #[test]
    fn sealed_input_at_the_size_bound() {
        let (_, i, _) = pair();
        let e = open(&vec![b'x'; MAX_SEALED_SIZE], &i).unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::not_a_token("not an age file (binary, armored or base64)").to_string()
        );
        let e = open(&vec![b'x'; MAX_SEALED_SIZE + 1], &i).unwrap_err();
        assert_eq!(e.to_string(), too_large().to_string());
    }

    #[test]
    fn unknown_versions_and_damaged_headers() {
        let (r, i, _) = pair();
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let mut v2 = sealed.clone();
        v2[20] = b'2';
        assert!(v2.starts_with(b"age-encryption.org/v2\n"));
        let e = open(&v2, &i).unwrap_err();
        assert!(
            e.to_string().ends_with(
                "the token uses an age format this handoff does not know; upgrade handoff"
            ),
            "{e}"
        );
        let mut damaged = b"age-encryption.org/v1\n-> \n".to_vec();
        damaged.extend_from_slice(&sealed[22..]);
        let e = open(&damaged, &i).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("the token is damaged: invalid age header"),
            "{e}"
        );
    }

    #[test]
    fn no_identity_matches_names_what_was_tried() {
        let (r, _, _) = pair();
        let (_, other, _) = pair();
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let e = open(&sealed, &other).unwrap_err();
        assert!(
            e.to_string().ends_with(
                "no identity matches this token (tried test); it was sealed to someone else"
            ),
            "{e}"
        );
    }

    #[test]
    fn base64_tokens_open_however_they_were_wrapped() {
        let (r, i, _) = pair();
        let sealed = seal(&token(), &r, Form::Base64).unwrap();
        let text = String::from_utf8(sealed).unwrap();
        let text = text.trim();
        let chunks = |n: usize, sep: &str| -> String {
            text.as_bytes()
                .chunks(n)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep)
        };
        for wrapped in [
            chunks(76, "\n"),
            chunks(76, "\r\n"),
            chunks(64, "\n  "),
            format!("  {}\n\n", chunks(7, " \t")),
            // inside the first 28 characters too
            chunks(3, "\n"),
        ] {
            let t = open(wrapped.as_bytes(), &i).unwrap();
            assert_eq!(t.access_key_id(), "AKIAIOSFODNN7EXAMPLE", "{wrapped:?}");
        }
        // what is not base64 still is not
        let e = open(format!("{} !", chunks(76, "\n")).as_bytes(), &i).unwrap_err();
        assert!(e.to_string().contains("invalid base64"), "{e}");
        assert_eq!(e.kind(), &crate::ErrorKind::Damaged);
        assert!(base64_text(b"YWdl LWVu").is_none());
    }

    #[test]
    fn a_damaged_payload_is_said_to_be_damaged() {
        let (r, i, _) = pair();
        let mut sealed = seal(&token(), &r, Form::Binary).unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let e = open(&sealed, &i).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::Damaged);
        assert!(
            e.to_string().contains("the token is damaged or truncated"),
            "{e}"
        );
        sealed.truncate(last - 20);
        let e = open(&sealed, &i).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        assert_eq!(e.kind(), &crate::ErrorKind::Damaged);
    }

    #[test]
    fn an_encrypted_ssh_key_with_no_terminal_says_so() {
        let k = ssh_key::PrivateKey::random(
            &mut ssh_key::rand_core::OsRng,
            ssh_key::Algorithm::Ed25519,
        )
        .unwrap();
        let mut r = Recipients::new();
        r.add(&k.public_key().to_openssh().unwrap()).unwrap();
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let locked = k
            .encrypt(&mut ssh_key::rand_core::OsRng, "pw")
            .unwrap()
            .to_openssh(ssh_key::LineEnding::LF)
            .unwrap();
        let mut i = Identities::new();
        i.add_text(&locked, "id_ed25519").unwrap();
        let e = open(&sealed, &i).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::BadIdentity);
        assert_eq!(
            e.to_string(),
            Error::damaged(
                "an SSH key in id_ed25519 is passphrase-protected and there is no terminal to ask on; \
                 run on a terminal, or remove the passphrase (ssh-keygen -p)"
            )
            .to_string()
        );
    }

    #[test]
    fn passphrase_seals_use_go_ages_work_factor() {
        let mut r = Recipients::new();
        r.set_passphrase("p".to_string().into());
        let sealed = seal(&token(), &r, Form::Binary).unwrap();
        let stanza = sealed
            .split(|&b| b == b'\n')
            .find(|l| l.starts_with(b"-> scrypt "))
            .expect("an scrypt stanza");
        let factor = std::str::from_utf8(stanza)
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap();
        assert_eq!(factor, SEAL_WORK_FACTOR.to_string());
    }

    #[test]
    fn a_passphrase_is_alone_and_checked_before_any_plugin_runs() {
        let plugin: age::plugin::Recipient = "age1handofftest1qqqqqqqqalqhva".parse().unwrap();
        let mut r = Recipients::new();
        r.set_passphrase("p".to_string().into());
        r.plugins.push(plugin.clone());
        let e = seal(&token(), &r, Form::Binary).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a passphrase cannot be combined with other recipients (age allows it only alone)"
        );
        let (mut r, _, _) = pair();
        r.set_passphrase("p".to_string().into());
        assert_eq!(
            seal(&token(), &r, Form::Binary).unwrap_err().to_string(),
            "a passphrase cannot be combined with other recipients (age allows it only alone)"
        );
        // a plugin recipient alone is a recipient: its plugin is run (the
        // unit tests do not put it on PATH; tests/plugins.rs does)
        let mut r = Recipients::new();
        r.plugins.push(plugin);
        if let Err(e) = seal(&token(), &r, Form::Binary) {
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
            assert!(e.to_string().contains("age-plugin-handofftest"), "{e}");
        }
    }

    #[test]
    fn a_tracked_identity_notes_the_key_that_unwraps() {
        use age::Identity as _;
        let key = age::x25519::Identity::generate();
        let stanza = age::Recipient::wrap_file_key(
            &key.to_public(),
            &age_core::format::FileKey::new(Box::new([7; 16])),
        )
        .unwrap()
        .0
        .remove(0);
        let hit = std::cell::Cell::new(None);
        let tracked = Tracked {
            inner: &key,
            index: 3,
            hit: &hit,
        };
        assert!(matches!(tracked.unwrap_stanza(&stanza), Some(Ok(_))));
        assert_eq!(hit.get(), Some(3));
        let other = age::x25519::Identity::generate();
        let hit = std::cell::Cell::new(None);
        let tracked = Tracked {
            inner: &other,
            index: 1,
            hit: &hit,
        };
        assert!(tracked.unwrap_stanza(&stanza).is_none());
        assert!(tracked
            .unwrap_stanzas(std::slice::from_ref(&stanza))
            .is_none());
        assert_eq!(hit.get(), None);
    }
}
