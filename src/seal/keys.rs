//! age X25519 identities: generating them in `age-keygen`'s file format,
//! and the public keys of an identity file.

use std::path::Path;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::files::{read_small_file, write_private, Overwrite};
use crate::{clock, Error, Result};

/// A new X25519 identity, as the text of an identity file in `age-keygen`'s
/// format, and its public key.
pub fn generate() -> (Zeroizing<String>, String) {
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let secret = identity.to_string();
    let mut text = Zeroizing::new(String::with_capacity(256));
    text.push_str("# created: ");
    text.push_str(&clock::format_rfc3339(clock::now()));
    text.push_str("\n# public key: ");
    text.push_str(&public);
    text.push('\n');
    text.push_str(secret.expose_secret());
    text.push('\n');
    (text, public)
}

/// Generates an identity into `path` (mode 0600, atomically; refuses to
/// replace a file unless `overwrite` says so) and returns its public key.
pub fn keygen(path: &Path, overwrite: Overwrite) -> Result<String> {
    crate::files::check_writable(path, overwrite)?;
    let (text, public) = generate();
    write_private(path, text.as_bytes(), overwrite)?;
    Ok(public)
}

/// The public keys (`age1...`) of the identities in an identity file.
pub fn public_keys(path: &Path) -> Result<Vec<String>> {
    let text = read_small_file(path, "identity file")?;
    let file = age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| {
        Error::new(
            crate::ErrorKind::Document { line: None },
            format!("{}: not an age identity file ({e})", path.display()),
        )
    })?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .enumerate()
        .filter_map(|(n, l)| {
            if l.starts_with("AGE-PLUGIN-") {
                // a plugin identity's recipient, where its file names it
                return crate::seal::plugin_recipient_comment(&text, n);
            }
            l.starts_with("AGE-SECRET-KEY-1")
                .then(|| l.parse::<age::x25519::Identity>().ok())
                .flatten()
                .map(|i| i.to_public().to_string())
        })
        .collect();
    drop(file);
    if keys.is_empty() {
        return Err(Error::document(format!(
            "{} holds no age X25519 identity",
            path.display()
        )));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_then_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id.txt");
        let public = keygen(&p, Overwrite::Refuse).unwrap();
        assert!(public.starts_with("age1"));
        assert_eq!(public_keys(&p).unwrap(), std::slice::from_ref(&public));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# created: "));
        assert!(text.contains(&format!("# public key: {public}\n")));
        assert!(keygen(&p, Overwrite::Refuse).is_err());
        assert_ne!(keygen(&p, Overwrite::Replace).unwrap(), public);
    }
}
