//! Who a token is sealed to: [`Recipients`], parsed from arguments and
//! recipients files.

use std::path::Path;
use std::str::FromStr;

use secrecy::SecretString;

use super::*;

/// Who a token is sealed to: age X25519 recipients, SSH public keys, or one
/// passphrase.
#[derive(Default)]
pub struct Recipients {
    pub(super) keys: Vec<Box<dyn age::Recipient + Send>>,
    pub(super) passphrase: Option<SecretString>,
    pub(super) names: Vec<String>,
    /// Plugin recipients (`age1NAME1...`), run one plugin per name at seal.
    pub(super) plugins: Vec<age::plugin::Recipient>,
    pub(super) prompt: Prompt,
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
        if crate::seal::plugin::recipient_plugin(r).is_some() {
            self.plugins.push(crate::seal::plugin::parse_recipient(r)?);
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
            crate::seal::recipients_file::read(path)?,
            &path.display().to_string(),
        )
    }

    /// [`add_file`](Self::add_file) for a recipients file's text; `name`
    /// names it in messages.
    pub fn add_text(&mut self, text: &str, name: &str) -> Result<Vec<String>> {
        self.add_listing(crate::seal::recipients_file::parse(text, name)?, name)
    }

    fn add_listing(
        &mut self,
        listing: crate::seal::recipients_file::Listing,
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
                    crate::seal::mistakes::short(r)
                ))
            });
    }
    if r.starts_with("ssh-") {
        crate::seal::ssh_wire::check_public_line(r).map_err(|why| {
            Error::usage(format!(
                "invalid SSH recipient {}: {why}",
                crate::seal::mistakes::short(r)
            ))
        })?;
        return age::ssh::Recipient::from_str(r)
            .map(|k| Box::new(k) as _)
            .map_err(|e| {
                Error::usage(format!(
                    "invalid SSH recipient {}: {}",
                    crate::seal::mistakes::short(r),
                    match e {
                        age::ssh::ParseRecipientKeyError::Ignore => "not a public key".to_string(),
                        age::ssh::ParseRecipientKeyError::Invalid(m) => m.to_string(),
                        age::ssh::ParseRecipientKeyError::RsaModulusTooLarge =>
                            "the RSA key is larger than 4096 bits".to_string(),
                        age::ssh::ParseRecipientKeyError::RsaModulusTooSmall =>
                            "the RSA key is smaller than 2048 bits".to_string(),
                        // age names a key of a type it reads whose data it
                        // cannot read, unsupported too
                        age::ssh::ParseRecipientKeyError::Unsupported(t)
                            if t == "ssh-ed25519" || t == "ssh-rsa" =>
                            format!("a malformed {t} key"),
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
        crate::seal::mistakes::short(r)
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
            if crate::seal::plugin::recipient_plugin(r).is_some() {
                return Some(r.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipients_file_adds_its_keys_and_warns_of_what_it_skips() {
        let key = age::x25519::Identity::generate().to_public().to_string();
        let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHFliOyIZs1gxGF3fmDxFykQhE88wy6AKDGFBfn0R6ZuvRmENABZQa9+pj9hMki+LX0qDJbmHTiWDbYv/cmFt/Q=";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("team.txt");
        std::fs::write(&path, format!("# team\n{key}\n{ecdsa}\n")).unwrap();
        let mut r = Recipients::new();
        assert!(r.is_empty());
        let warnings = r.add_file(&path).unwrap();
        assert_eq!(
            warnings,
            [format!(
                "recipients file {} line 3: skipping an SSH key of type \"ecdsa-sha2-nistp256\", which age cannot encrypt to",
                path.display()
            )]
        );
        assert_eq!(r.names(), std::slice::from_ref(&key));
        assert!(!r.is_empty());

        let mut r = Recipients::new();
        assert!(r.add_text(&format!("{key}\n"), "t").unwrap().is_empty());
        assert_eq!(r.names(), [key]);
        let e = r.add_text("age1nope\n", "t").unwrap_err();
        assert!(
            e.to_string().starts_with("t line 1: invalid age recipient"),
            "{e}"
        );
    }

    #[test]
    fn a_passphrase_alone_is_something() {
        let mut r = Recipients::new();
        r.set_passphrase("p".to_string().into());
        assert!(!r.is_empty());
        assert_eq!(r.names(), ["scrypt"]);
        assert_eq!(r.prompt, Prompt::Never);
        r.set_prompt(Prompt::Terminal);
        assert_eq!(r.prompt, Prompt::Terminal);
    }

    #[test]
    fn the_recipient_comment_above_a_plugin_identity() {
        let text = "# created: today\n# recipient: age1yubikey1abc\nAGE-PLUGIN-YUBIKEY-1X\n\
                    #    Recipient: age1yubikey1def\n\n#  other: x\nAGE-PLUGIN-YUBIKEY-1Y\n\
                    AGE-PLUGIN-YUBIKEY-1Z\n# recipient: age1abc\nAGE-PLUGIN-YUBIKEY-1W\n";
        let at = |n| plugin_recipient_comment(text, n);
        assert_eq!(at(2).as_deref(), Some("age1yubikey1abc"));
        // the nearest such comment, case aside, past blank and other comments
        assert_eq!(at(6).as_deref(), Some("age1yubikey1def"));
        // not past an earlier identity
        assert_eq!(at(7), None);
        // a native recipient is not a plugin's
        assert_eq!(at(9), None);
        assert_eq!(at(0), None);
        assert_eq!(
            plugin_recipient_comment("#RECIPIENT:   age1x1y  \nK\n", 1).as_deref(),
            Some("age1x1y")
        );
    }
}
