//! The issuer's ledger: one JSON line per sealed handoff, never a secret.
//!
//! Every `seal` appends a [`Record`] to `$XDG_STATE_HOME/handoff/issued.jsonl`
//! (default `~/.local/state/handoff/issued.jsonl`; `HANDOFF_LEDGER=PATH`
//! moves it). The file is mode 0600; every change happens under a lock file
//! beside it (`issued.jsonl.lock`), so concurrent seals lose nothing.
//! Appends are appends; a revocation rewrites the file atomically.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::credentials::{Kind, Token};
use crate::files::{self, Overwrite};
use crate::{clock, Error, Result};

/// One handoff, as the ledger keeps it. Times are RFC 3339 UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// A random id for this handoff (32 hex digits); the envelope's
    /// `TokenId` for signed handoffs.
    pub token_id: String,
    /// `federation`, `session`, `role` or `static`.
    pub kind: String,
    /// The access key id of the credentials handed off.
    pub access_key_id: String,
    /// The session's `aws:userid`: `ACCOUNT:NAME` for a federation token,
    /// `AROA…:SESSION` for a role session, the IAM user's id for a session
    /// token.
    #[serde(default)]
    pub userid: Option<String>,
    /// The federated user's or assumed-role user's ARN.
    #[serde(default)]
    pub arn: Option<String>,
    /// Who minted it: the ARN GetCallerIdentity gave for the minting
    /// credentials.
    #[serde(default)]
    pub minted_by: Option<String>,
    /// The roster name, for a batch.
    #[serde(default)]
    pub name: Option<String>,
    /// The recipients, as given (`scrypt` for a passphrase).
    pub recipients: Vec<String>,
    /// A short fingerprint of the recipients: the first 12 hex digits of
    /// the SHA-256 of their lines joined by newlines.
    pub recipients_fingerprint: String,
    /// The label sealed with it.
    #[serde(default)]
    pub label: Option<String>,
    /// The SHA-256 (hex) of the policy the credentials were limited by.
    #[serde(default)]
    pub policy_sha256: Option<String>,
    /// When it was issued.
    pub issued_at: String,
    /// When the credentials expire.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The file it was written to (absolute when it could be made so).
    #[serde(default)]
    pub file: Option<String>,
    /// When it was revoked.
    #[serde(default)]
    pub revoked_at: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random token id: 16 bytes as 32 hex digits.
pub fn new_token_id() -> Result<String> {
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)
        .map_err(|e| Error::Other(format!("no randomness for the token id: {e}")))?;
    Ok(id.iter().map(|b| format!("{b:02x}")).collect())
}

/// The short fingerprint of a list of recipients.
pub fn fingerprint(recipients: &[String]) -> String {
    let mut h = sha256_hex(recipients.join("\n").as_bytes());
    h.truncate(12);
    h
}

impl Record {
    /// The record of `token` sealed to `recipients` (as given), written to
    /// `file`, minted by `minted_by` (ARN and user id from
    /// GetCallerIdentity, when known).
    pub fn new(
        token: &Token,
        recipients: Vec<String>,
        file: Option<&Path>,
        minted_by: Option<(&str, &str)>,
    ) -> Result<Record> {
        let token_id = match token.token_id() {
            Some(id) => id.iter().map(|b| format!("{b:02x}")).collect(),
            None => new_token_id()?,
        };
        let (userid, arn) = if let Some(u) = token.federated_user() {
            (Some(u.federated_user_id.clone()), Some(u.arn.clone()))
        } else if let Some(u) = token.assumed_role_user() {
            (Some(u.assumed_role_id.clone()), Some(u.arn.clone()))
        } else if token.kind() == Kind::Session {
            // A session token's aws:userid is its IAM user's own id.
            (minted_by.map(|(_, id)| id.to_string()), None)
        } else {
            (None, None)
        };
        let file = file.map(|f| {
            std::path::absolute(f)
                .unwrap_or_else(|_| f.to_path_buf())
                .display()
                .to_string()
        });
        Ok(Record {
            token_id,
            kind: token.kind().to_string(),
            access_key_id: token.access_key_id().to_string(),
            userid,
            arn,
            minted_by: minted_by.map(|(arn, _)| arn.to_string()),
            name: None,
            recipients_fingerprint: fingerprint(&recipients),
            recipients,
            label: token.label().map(str::to_string),
            policy_sha256: token.policy().map(|p| sha256_hex(p.as_bytes())),
            issued_at: clock::format_rfc3339(token.issued_at().unwrap_or_else(clock::now)),
            expires_at: token.expiration().map(clock::format_rfc3339),
            file,
            revoked_at: None,
        })
    }

    /// Sets the roster name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// When the credentials expire, if known.
    pub fn expires(&self) -> Option<SystemTime> {
        self.expires_at.as_deref().and_then(clock::parse_rfc3339)
    }

    /// When it was issued, if readable.
    pub fn issued(&self) -> Option<SystemTime> {
        clock::parse_rfc3339(&self.issued_at)
    }

    /// Live at `now`: not revoked and not expired.
    pub fn is_live_at(&self, now: SystemTime) -> bool {
        self.revoked_at.is_none() && self.expires().is_none_or(|e| e > now)
    }

    /// The federated user name or role session name: what follows the
    /// last `:` of the `aws:userid`.
    pub fn session_name(&self) -> Option<&str> {
        match self.kind.as_str() {
            "federation" | "role" => self
                .userid
                .as_deref()
                .and_then(|u| u.rsplit_once(':'))
                .map(|(_, n)| n),
            _ => None,
        }
    }

    /// Whether `selector` names this record: its token id (or the first 8
    /// or more of its digits, as `issued` shows 12), roster name, federated
    /// user / role session name, access key id, or `aws:userid`.
    pub fn matches(&self, selector: &str) -> bool {
        self.token_id == selector
            || (selector.len() >= 8 && self.token_id.starts_with(selector))
            || self.access_key_id == selector
            || self.name.as_deref() == Some(selector)
            || self.session_name() == Some(selector)
            || self.userid.as_deref() == Some(selector)
    }
}

/// The ledger file.
#[derive(Clone, Debug)]
pub struct Ledger {
    path: PathBuf,
}

impl Ledger {
    /// The ledger at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Ledger {
        Ledger { path: path.into() }
    }

    /// The default ledger: `$HANDOFF_LEDGER`, else
    /// `$XDG_STATE_HOME/handoff/issued.jsonl`, else
    /// `~/.local/state/handoff/issued.jsonl`.
    pub fn default_path() -> Result<PathBuf> {
        crate::paths::ledger_file()
    }

    /// The default ledger.
    pub fn open_default() -> Result<Ledger> {
        Ok(Ledger::new(Self::default_path()?))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<File> {
        files::lock_beside(&self.path)
    }

    fn check_regular(&self) -> Result<()> {
        match fs::symlink_metadata(&self.path) {
            Ok(m) if !m.is_file() => Err(Error::Other(format!(
                "the ledger {} is not a regular file; not touching it",
                self.path.display()
            ))),
            _ => Ok(()),
        }
    }

    /// Appends records, under the lock, in one write.
    pub fn append(&self, records: &[Record]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for r in records {
            text.push_str(&to_line(r)?);
        }
        let _lock = self.lock()?;
        self.check_regular()?;
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| Error::io("cannot open the ledger", &self.path, e))?;
        // One write of whole lines to a file opened for appending: a crash
        // loses at most this record, never garbles an earlier one.
        f.write_all(text.as_bytes())
            .map_err(|e| Error::io("cannot write the ledger", &self.path, e))
    }

    /// Every record, oldest first; no ledger yet is none. Lines that are
    /// not records are skipped.
    pub fn records(&self) -> Result<Vec<Record>> {
        Ok(self
            .read_lines()?
            .into_iter()
            .filter_map(|l| l.ok())
            .collect())
    }

    fn read_lines(&self) -> Result<Vec<std::result::Result<Record, String>>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot read the ledger", &self.path, e)),
        };
        Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|_| l.to_string()))
            .collect())
    }

    /// Changes records under the lock and rewrites the ledger atomically;
    /// lines that are not records are kept as they were. Returns what `f`
    /// returned.
    pub fn update<T>(&self, f: impl FnOnce(&mut [Record]) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        self.check_regular()?;
        let lines = self.read_lines()?;
        let mut records: Vec<Record> = lines.iter().filter_map(|l| l.clone().ok()).collect();
        let out = f(&mut records)?;
        let mut text = String::new();
        let mut next = records.iter();
        for line in &lines {
            match line {
                Ok(_) => {
                    if let Some(r) = next.next() {
                        text.push_str(&to_line(r)?);
                    }
                }
                Err(raw) => {
                    text.push_str(raw);
                    text.push('\n');
                }
            }
        }
        files::write_private(&self.path, text.as_bytes(), Overwrite::Replace)?;
        Ok(out)
    }
}

/// Records one seal in the default ledger ([`crate::paths::ledger_file`]).
/// No place for a ledger (no HOME) does not stop a seal: that comes back as
/// a warning to show; a ledger that cannot be written is an error.
pub fn record_seal(
    token: &Token,
    recipients: Vec<String>,
    file: Option<&Path>,
    minted_by: Option<(&str, &str)>,
) -> Result<Option<String>> {
    let record = Record::new(token, recipients, file, minted_by)?;
    match Ledger::open_default() {
        Ok(ledger) => ledger.append(&[record]).map(|()| None),
        Err(e) => Ok(Some(format!("warning: not recorded in the ledger: {e}"))),
    }
}

/// What `handoff issued` prints: the default ledger's records (only those
/// live at `now` unless `all`), as a table or, with `json`, JSON lines.
pub fn report(all: bool, json: bool, now: SystemTime) -> Result<String> {
    let records: Vec<_> = Ledger::open_default()?
        .records()?
        .into_iter()
        .filter(|r| all || r.is_live_at(now))
        .collect();
    if json {
        json_lines(&records)
    } else {
        Ok(table(&records, now))
    }
}

/// Records as JSON, one object a line.
pub fn json_lines(records: &[Record]) -> Result<String> {
    let mut out = String::new();
    for r in records {
        out.push_str(&to_line(r)?);
    }
    Ok(out)
}

/// Records as a table for people: token id (short), name, session, kind,
/// issued, expires, state, file. Control characters in what others wrote
/// (labels, names) are shown as escapes.
pub fn table(records: &[Record], now: SystemTime) -> String {
    let header = [
        "TOKEN", "NAME", "SESSION", "KIND", "ISSUED", "EXPIRES", "STATE", "FILE",
    ];
    let mut rows: Vec<[String; 8]> = vec![header.map(str::to_string)];
    for r in records {
        let state = if let Some(at) = &r.revoked_at {
            format!("revoked {at}")
        } else if r.is_live_at(now) {
            "live".to_string()
        } else {
            "expired".to_string()
        };
        rows.push(
            [
                r.token_id.chars().take(12).collect(),
                r.name.clone().unwrap_or_else(|| "-".into()),
                r.session_name().unwrap_or("-").to_string(),
                r.kind.clone(),
                r.issued_at.clone(),
                r.expires_at.clone().unwrap_or_else(|| "-".into()),
                state,
                r.file.clone().unwrap_or_else(|| "-".into()),
            ]
            .map(|c| escaped(&c)),
        );
    }
    let mut widths = [0usize; 8];
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn escaped(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let e: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            e
        })
        .collect()
}

fn to_line(r: &Record) -> Result<String> {
    let mut line = serde_json::to_string(r)
        .map_err(|e| Error::Other(format!("cannot write a ledger record: {e}")))?;
    line.push('\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{Credentials, FederatedUser};
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn token(name: &str) -> Token {
        let creds = Credentials::new(
            format!("ASIA{name}"),
            "secretEXAMPLEKEY".into(),
            Some("sessiontokenEXAMPLE".into()),
            Some(clock::now() + Duration::from_secs(3600)),
        );
        Token::new(Kind::Federation, creds)
            .with_federated_user(FederatedUser {
                federated_user_id: format!("123456789012:ws-{name}"),
                arn: format!("arn:aws:sts::123456789012:federated-user/ws-{name}"),
            })
            .with_policy("{}")
            .with_issued_at(clock::now())
    }

    #[test]
    fn records_hold_no_secret_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::new(dir.path().join("state/handoff/issued.jsonl"));
        assert!(ledger.records().unwrap().is_empty());
        let r = Record::new(
            &token("alice"),
            vec!["age1xyz".into()],
            Some(Path::new("out/alice.age")),
            Some(("arn:aws:iam::123456789012:user/issuer", "AIDAEXAMPLE")),
        )
        .unwrap()
        .with_name("alice");
        assert_eq!(r.userid.as_deref(), Some("123456789012:ws-alice"));
        assert_eq!(r.session_name(), Some("ws-alice"));
        assert!(r.matches("alice") && r.matches("ws-alice") && r.matches("ASIAalice"));
        assert!(r.matches(&r.token_id.clone()));
        assert!(r.matches(&r.token_id[..12]) && !r.matches(&r.token_id[..7]));
        assert!(!r.matches("bob"));
        ledger.append(std::slice::from_ref(&r)).unwrap();
        ledger
            .append(&[Record::new(&token("bob"), vec!["age1b".into()], None, None).unwrap()])
            .unwrap();
        let text = fs::read_to_string(ledger.path()).unwrap();
        assert!(!text.contains("secretEXAMPLEKEY") && !text.contains("sessiontokenEXAMPLE"));
        assert_eq!(text.lines().count(), 2);
        let mode = fs::metadata(ledger.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let back = ledger.records().unwrap();
        assert_eq!(back[0], r);
        assert!(back[0].is_live_at(clock::now()));

        // A revocation rewrites the record and keeps foreign lines.
        fs::OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .unwrap()
            .write_all(b"not a record\n")
            .unwrap();
        ledger
            .update(|rs| {
                rs[0].revoked_at = Some("2026-01-01T00:00:00Z".into());
                Ok(())
            })
            .unwrap();
        let back = ledger.records().unwrap();
        assert_eq!(back.len(), 2);
        assert!(!back[0].is_live_at(clock::now()));
        assert!(fs::read_to_string(ledger.path())
            .unwrap()
            .ends_with("not a record\n"));
    }

    #[test]
    fn concurrent_appends_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::new(dir.path().join("issued.jsonl"));
        std::thread::scope(|s| {
            for i in 0..8 {
                let ledger = ledger.clone();
                s.spawn(move || {
                    for j in 0..10 {
                        let r =
                            Record::new(&token(&format!("p{i}x{j}")), vec![], None, None).unwrap();
                        ledger.append(&[r]).unwrap();
                    }
                });
            }
        });
        assert_eq!(ledger.records().unwrap().len(), 80);
    }
}
