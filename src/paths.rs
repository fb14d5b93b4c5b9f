//! Where handoff looks for its files when none is named: the identity, the
//! signers file, the config file, the ledger, and the AWS shared credentials
//! file. A
//! leaf: it reads only the environment.

use std::path::PathBuf;

use crate::{Error, Result};

/// The default identity file: `$HANDOFF_IDENTITY`, else
/// `$XDG_CONFIG_HOME/handoff/identity.txt`, else
/// `~/.config/handoff/identity.txt`.
pub fn default_identity_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("HANDOFF_IDENTITY").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    Ok(config_dir()?.join("identity.txt"))
}

/// handoff's configuration directory: `$XDG_CONFIG_HOME/handoff`, else
/// `~/.config/handoff`.
pub fn config_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => home()?.join(".config"),
    };
    Ok(base.join("handoff"))
}

/// handoff's cache directory: `$XDG_CACHE_HOME/handoff`, else
/// `~/.cache/handoff`. Nothing in it is secret; all of it can be deleted.
pub fn cache_dir() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => home()?.join(".cache"),
    };
    Ok(base.join("handoff"))
}

/// The signers file `open` uses when none is named:
/// `CONFIG_DIR/allowed_signers` (see [`config_dir`]).
pub fn allowed_signers_file() -> Result<PathBuf> {
    Ok(config_dir()?.join("allowed_signers"))
}

/// The config file (`expect-account`): `CONFIG_DIR/config` (see
/// [`config_dir`]).
pub fn config_file() -> Result<PathBuf> {
    Ok(config_dir()?.join("config"))
}

/// The ledger of issued tokens: `$HANDOFF_LEDGER` (unless it is a
/// `dynamodb://` URL, a team ledger), else
/// `$XDG_STATE_HOME/handoff/issued.jsonl`, else
/// `~/.local/state/handoff/issued.jsonl`.
pub fn ledger_file() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("HANDOFF_LEDGER")
        .filter(|p| !p.is_empty() && !p.as_encoded_bytes().starts_with(b"dynamodb://"))
    {
        return Ok(PathBuf::from(p));
    }
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => home()?.join(".local").join("state"),
    };
    Ok(base.join("handoff").join("issued.jsonl"))
}

/// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/credentials`.
pub fn shared_credentials_file() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    Ok(home()?.join(".aws").join("credentials"))
}

/// The AWS config file: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn aws_config_file() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("AWS_CONFIG_FILE").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    Ok(home()?.join(".aws").join("config"))
}

/// The home directory: `$HOME`.
pub(crate) fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| Error::other("HOME is not set"))
}
