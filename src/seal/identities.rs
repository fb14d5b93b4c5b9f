//! The keys that open a token: [`Identities`] (age identity files, OpenSSH
//! private keys, plugins, a passphrase) and age's callbacks for them.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use secrecy::SecretString;

use super::*;

/// The keys that can open a token: age identity files, OpenSSH private keys,
/// and a passphrase for passphrase-sealed tokens.
#[derive(Default)]
pub struct Identities {
    /// Each key, and through it the recipient it answers to (`age1...`,
    /// `ssh-ed25519 AAAA...`), to check a signed token's `SealedTo`.
    pub(super) keys: Vec<Key>,
    pub(super) sources: Vec<String>,
    pub(super) passphrase: Option<SecretString>,
    pub(super) prompt: Prompt,
    /// Set when an encrypted SSH key asked for its passphrase and got none.
    pub(super) locked: Arc<AtomicBool>,
    /// What a plugin identity's failure was.
    pub(super) plugin_failure: crate::seal::plugin::Failure,
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
    /// used.
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
            // (a public key is no secret: it is refused below, not warned of)
            if let Some(w) = crate::files::readable_by_others(p, "identity file")
                .filter(|_| !crate::seal::mistakes::is_public_key_file(p))
            {
                warn(&w);
            }
            self.add_file(p)?;
        }
        Ok(())
    }

    /// Adds the identities in a file: an age identity file
    /// (`AGE-SECRET-KEY-1...` lines) or an OpenSSH private key.
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let text = crate::files::read_small_file(path, "identity file").map_err(|e| {
            let message = match (e.kind(), std::error::Error::source(&e)) {
                (ErrorKind::Io { path }, Some(source)) => {
                    format!("cannot read identity file {}: {source}", path.display())
                }
                _ => e.to_string(),
            };
            Error::new(ErrorKind::BadIdentity, message).with_source(e)
        })?;
        self.add_text(&text, &path.display().to_string())
    }

    /// Adds the identities in `text`, the contents of an identity file or an
    /// OpenSSH private key; `source` names it in messages.
    pub fn add_text(&mut self, text: &str, source: &str) -> Result<()> {
        let bad =
            |why: String| Error::new(ErrorKind::BadIdentity, format!("identity {source}: {why}"));
        if text.contains("-----BEGIN ") {
            // PEM RSA keys (PKCS#1, or PKCS#8 which age does not read and is
            // given to it as PKCS#1): their public half is worked out here.
            let pem = crate::seal::pem_rsa::read(text);
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
            crate::seal::ssh_wire::check_private_key(age_text).map_err(|why| bad(why.into()))?;
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
                    self.keys
                        .push(Key::Other(Box::new(Unpanicking(Box::new(key))), public));
                }
                age::ssh::Identity::Unencrypted(_) => {
                    self.keys.push(Key::Other(Box::new(identity), public))
                }
            }
        } else {
            let mut found = false;
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
                    let key = crate::seal::plugin::PluginIdentity::parse(
                        line,
                        plugin_recipient_comment(text, n),
                        self.prompt,
                        &self.plugin_failure,
                    )
                    .map_err(|why| bad(format!("line {}: {why}", n + 1)))?;
                    self.keys.push(Key::Plugin(key));
                    found = true;
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
                found = true;
            }
            if !found {
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

    pub(super) fn passphrase(&self) -> Result<SecretString> {
        if let Some(p) = &self.passphrase {
            return Ok(p.clone());
        }
        if self.prompt == Prompt::Terminal {
            if let Some(p) = prompt_passphrase("Passphrase for the token: ") {
                return Ok(p);
            }
        }
        Err(Error::new(
            ErrorKind::NoPassphrase,
            "this token is sealed with a passphrase",
        ))
    }
}

/// One key of [`Identities`]. An X25519 key's public half is worked out only
/// when a signed token asks who opened it: deriving it is a scalar
/// multiplication, a sixth of the work of opening an unsigned token.
pub(super) enum Key {
    X25519(age::x25519::Identity),
    /// An SSH key, with its public key line (stored unencrypted in the file).
    Other(Box<dyn age::Identity>, String),
    /// An age plugin identity (`AGE-PLUGIN-...`).
    Plugin(crate::seal::plugin::PluginIdentity),
}

impl Key {
    pub(super) fn identity(&self) -> &dyn age::Identity {
        match self {
            Key::X25519(k) => k,
            Key::Other(k, _) => k.as_ref(),
            Key::Plugin(k) => k,
        }
    }

    /// The recipient this key answers to.
    pub(super) fn recipient(&self) -> String {
        match self {
            Key::X25519(k) => k.to_public().to_string(),
            Key::Other(_, public) => public.clone(),
            Key::Plugin(k) => k.describe(),
        }
    }

    /// Whether this key answers to `recipient`, a `SealedTo` entry.
    pub(super) fn answers_to(&self, recipient: &str) -> bool {
        match self {
            Key::Plugin(k) => k.answers_to(recipient),
            k => crate::seal::signing::same_recipient(recipient, &k.recipient()),
        }
    }
}

/// An encrypted OpenSSH key, whose private part age parses only once it has
/// decrypted it, where [`ssh_wire`](crate::seal::ssh_wire) cannot look first: a
/// panic in that parser (age 0.12.1 panics on an RSA integer of zero bytes
/// only) is a key that cannot be decrypted, not a crash.
struct Unpanicking(Box<dyn age::Identity>);

impl age::Identity for Unpanicking {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.0.unwrap_stanza(stanza)
        }))
        .unwrap_or(Some(Err(age::DecryptError::KeyDecryptionFailed)))
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
    use age::Identity as _;

    struct Panics;

    impl age::Identity for Panics {
        fn unwrap_stanza(
            &self,
            _: &age_core::format::Stanza,
        ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
            panic!("index out of bounds, as in age's mpint reader")
        }
    }

    struct Declines;

    impl age::Identity for Declines {
        fn unwrap_stanza(
            &self,
            _: &age_core::format::Stanza,
        ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
            None
        }
    }

    #[test]
    fn a_panic_while_unwrapping_is_a_key_that_cannot_be_decrypted() {
        let stanza = age_core::format::Stanza {
            tag: "ssh-rsa".into(),
            args: vec!["abc".into()],
            body: vec![1, 2, 3],
        };
        let r = Unpanicking(Box::new(Panics)).unwrap_stanza(&stanza);
        assert!(matches!(
            r,
            Some(Err(age::DecryptError::KeyDecryptionFailed))
        ));
        // what the key says is passed on as it is
        assert!(Unpanicking(Box::new(Declines))
            .unwrap_stanza(&stanza)
            .is_none());
        let r = age::Identity::unwrap_stanzas(&Unpanicking(Box::new(Panics)), &[stanza]);
        assert!(matches!(
            r,
            Some(Err(age::DecryptError::KeyDecryptionFailed))
        ));
    }

    #[test]
    fn identity_files_added_warned_of_and_named() {
        use secrecy::ExposeSecret;
        use std::os::unix::fs::PermissionsExt;
        let key = age::x25519::Identity::generate();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("identity.txt");
        std::fs::write(&p, format!("# mine\n{}\n", key.to_string().expose_secret())).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut ids = Identities::new();
        assert!(ids.is_empty());
        let mut warnings = Vec::new();
        ids.add_files_or_default(std::slice::from_ref(&p), |w| warnings.push(w.to_string()))
            .unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("identity file") && warnings[0].contains("0644"));
        assert!(!ids.is_empty());
        assert_eq!(ids.sources, [p.display().to_string()]);
        assert_eq!(ids.keys[0].recipient(), key.to_public().to_string());
        assert!(ids.keys[0].answers_to(&key.to_public().to_string()));
        assert!(!ids.keys[0].answers_to("age1other"));

        // a token given as an identity is not one (the command line names
        // it as a token: src/bin/handoff/errors.rs)
        let token = dir.path().join("token.age");
        std::fs::write(&token, "age-encryption.org/v1\n-> X25519 abc\n").unwrap();
        let e = Identities::new()
            .add_files_or_default(std::slice::from_ref(&token), |_| {})
            .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BadIdentity);
        let none = dir.path().join("none");
        let e = Identities::new().add_file(&none).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BadIdentity);
        let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<Error>());
        assert_eq!(
            cause.map(Error::kind),
            Some(&ErrorKind::Io { path: none.clone() })
        );
        assert!(
            e.to_string().starts_with("cannot read identity file"),
            "{e}"
        );
        let e = Identities::new().add_file(&token).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::BadIdentity);
        assert!(
            e.to_string()
                .starts_with(&format!("identity {}: line 1", token.display())),
            "{e}"
        );
    }

    #[test]
    fn identity_texts_refused_by_line() {
        let mut ids = Identities::new();
        for (text, want) in [
            ("# nothing\n\n", "identity t: holds no identities"),
            ("# c\nAGE-SECRET-KEY-1NOPE\n", "identity t: line 2 is not an age identity (AGE-SECRET-KEY-1...)"),
            ("AGE-SECRET-KEY-PQ-1X\n", "identity t: post-quantum (AGE-SECRET-KEY-PQ-1) identities are not supported by this build of handoff"),
        ] {
            let e = ids.add_text(text, "t").unwrap_err();
            assert_eq!(e.to_string(), want);
            assert_eq!(e.kind(), &ErrorKind::BadIdentity);
        }
        assert!(ids.is_empty() && ids.sources.is_empty());
    }

    #[test]
    fn a_passphrase_given_or_asked_for() {
        let mut ids = Identities::new();
        let e = ids.passphrase().unwrap_err();
        assert_eq!(e.to_string(), "this token is sealed with a passphrase");
        assert_eq!(e.kind(), &ErrorKind::NoPassphrase);
        assert_eq!(ids.prompt, Prompt::Never);
        ids.set_prompt(Prompt::Terminal);
        assert_eq!(ids.prompt, Prompt::Terminal);
        ids.set_passphrase("pw".to_string().into());
        use secrecy::ExposeSecret;
        assert_eq!(ids.passphrase().unwrap().expose_secret(), "pw");

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pass");
        std::fs::write(&p, "first line\nsecond\n").unwrap();
        assert_eq!(
            read_passphrase_file(&p).unwrap().expose_secret(),
            "first line"
        );
        for empty in ["", "\n", "\nsecond\n"] {
            std::fs::write(&p, empty).unwrap();
            let e = read_passphrase_file(&p).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("passphrase file {} is empty", p.display())
            );
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn callbacks_never_show_and_note_a_refused_passphrase() {
        use age::Callbacks as _;
        let c = Callbacks {
            prompt: Prompt::Never,
            locked: Arc::new(AtomicBool::new(false)),
        };
        assert_eq!(c.confirm("m", "y", Some("n")), None);
        assert_eq!(c.request_public_string("d"), None);
        c.display_message("m");
        assert!(!c.locked.load(Ordering::SeqCst));
        assert!(c.request_passphrase("key").is_none());
        assert!(c.locked.load(Ordering::SeqCst));
    }

    #[test]
    fn plugin_identities_are_identities() {
        let plugin = age::plugin::Identity::default_for_plugin("handofftest")
            .unwrap()
            .to_string();
        let mut ids = Identities::new();
        ids.add_text(
            &format!("# recipient: age1handofftest1abc\n{plugin}\n"),
            "p",
        )
        .unwrap();
        assert!(!ids.is_empty());
        assert_eq!(ids.keys.len(), 1);
        assert!(matches!(ids.keys[0], Key::Plugin(_)));
        let e = ids.add_text("AGE-PLUGIN-X\n", "p").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("identity p: line 1: not an age plugin identity"),
            "{e}"
        );
    }
}
