//! Asking the person at the terminal: whether an identity may ask for a
//! passphrase, and asking for one. A leaf.

use secrecy::SecretString;

/// How an identity may ask for a passphrase when it needs one (an encrypted
/// SSH key, a passphrase-sealed token).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Prompt {
    /// Never ask; fail with a message saying what is needed.
    #[default]
    Never,
    /// Ask on the controlling terminal.
    Terminal,
}

/// Asks for a passphrase on the controlling terminal, without echo. `None`
/// when there is no terminal, and always without feature `cli` (a
/// [`Prompt::Terminal`] then fails as [`Prompt::Never`] does).
#[cfg(feature = "cli")]
pub fn prompt_passphrase(prompt: &str) -> Option<SecretString> {
    rpassword::prompt_password(prompt)
        .ok()
        .map(crate::credentials::into_secret)
}

/// Without feature `cli` there is no terminal prompt: `None`.
#[cfg(not(feature = "cli"))]
pub fn prompt_passphrase(_prompt: &str) -> Option<SecretString> {
    None
}
