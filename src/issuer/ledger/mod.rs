//! The issuer's ledger: one JSON line per sealed handoff, never a secret.
//!
//! Every `seal` appends a [`Record`] to `$XDG_STATE_HOME/handoff/issued.jsonl`
//! (default `~/.local/state/handoff/issued.jsonl`; `HANDOFF_LEDGER=PATH`
//! moves it). The file is mode 0600; every change happens under a lock file
//! beside it (`issued.jsonl.lock`), so concurrent seals lose nothing; the
//! threads of one process share that lock through a mutex first.
//! Appends are appends (a final line cut short by a crash or a full disk is
//! ended first, so the next record is never glued to it); a revocation
//! rewrites the file atomically.
//!
//! Reading never hides a line: every line that is not a record (not UTF-8,
//! not JSON, longer than [`MAX_LINE`]) comes back as a warning naming its
//! line number, and the rest are read. Only a regular file of at most
//! [`MAX_LEDGER_SIZE`] bytes is read.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::credentials::{Kind, Token};
use crate::files::{self, Overwrite};
use crate::{clock, Error, ErrorKind, Result};

#[cfg(feature = "aws")]
pub mod table;

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
    /// Who revoked it: the ARN of the revoking credentials, when known (a
    /// team ledger's records; absent, and not written, otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// The SHA-256 (hex) of the sealed file as written, so a rerun can tell
    /// whether the file at `file` is this handoff's. Absent in records made
    /// before it existed and for handoffs given back on stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// `Some(false)`: minted and recorded, but its file was never put in
    /// place (the write failed, or the process died between recording it
    /// and moving the file in). The credentials still work until they
    /// expire or are revoked, and nobody holds them. Absent (the field is
    /// not written) for every other record, including records made before
    /// the field existed: those count as delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<bool>,
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
        .map_err(|e| Error::other(format!("no randomness for the token id: {e}")))?;
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
            revoked_by: None,
            file_sha256: None,
            delivered: None,
        })
    }

    /// Notes the SHA-256 of the sealed bytes written to `file`.
    pub fn with_sealed(mut self, sealed: &[u8]) -> Self {
        self.file_sha256 = Some(sha256_hex(sealed));
        self
    }

    /// Whether it is marked undelivered: minted, but its file never put
    /// in place.
    pub fn is_undelivered(&self) -> bool {
        self.delivered == Some(false)
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

/// The largest ledger read, in bytes: a ledger larger than this is
/// refused with a message naming the limit (move it aside to start a new
/// one).
pub const MAX_LEDGER_SIZE: u64 = 64 << 20;

/// The longest line read as a record, in bytes. Longer lines are reported,
/// not read (and kept as they are when the ledger is rewritten).
pub const MAX_LINE: usize = 1 << 20;

/// What reading a ledger gave: its records, oldest first, and one warning
/// per line that is not one.
#[derive(Debug, Default)]
pub struct Reading {
    /// The records.
    pub records: Vec<Record>,
    /// `line N: why`, for each line that could not be read.
    pub warnings: Vec<String>,
}

/// One line of the ledger: a record, or the raw bytes of a line that is
/// not one and why.
#[derive(Clone, Debug)]
enum Line {
    Record(Box<Record>),
    Unreadable(Vec<u8>, String),
}

/// Parses the bytes of a ledger: every line that is a record, and a
/// warning (`line N: why`) for each non-blank line that is not one (not
/// UTF-8, longer than [`MAX_LINE`], not a JSON record). Never fails.
pub fn parse(bytes: &[u8]) -> Reading {
    let mut reading = Reading::default();
    for (n, line) in parse_lines(bytes) {
        match line {
            Line::Record(r) => reading.records.push(*r),
            Line::Unreadable(_, why) => reading.warnings.push(format!("line {n}: {why}")),
        }
    }
    reading
}

fn parse_lines(bytes: &[u8]) -> Vec<(usize, Line)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut n = 0;
    while !rest.is_empty() {
        n += 1;
        let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = if raw.len() > MAX_LINE {
            Line::Unreadable(
                raw.to_vec(),
                format!(
                    "a line of {} bytes, longer than the {} KiB a record may be; skipped",
                    raw.len(),
                    MAX_LINE / 1024
                ),
            )
        } else {
            match std::str::from_utf8(raw) {
                Err(e) => Line::Unreadable(
                    raw.to_vec(),
                    format!(
                        "not UTF-8 (byte {}); not a record, skipped",
                        e.valid_up_to() + 1
                    ),
                ),
                Ok(text) => match serde_json::from_str::<Record>(text) {
                    Ok(r) => Line::Record(Box::new(r)),
                    Err(e) => Line::Unreadable(
                        raw.to_vec(),
                        format!("not a ledger record ({}); skipped", e.classify_name()),
                    ),
                },
            }
        };
        out.push((n, line));
    }
    out
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "JSON, but not a record",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

/// The ledger file.
#[derive(Clone, Debug)]
pub struct LedgerFile {
    path: PathBuf,
    /// Taken before the lock file: the threads of one process (a batch's
    /// workers) wait for each other here, not on the lock file, where they
    /// would look like another process.
    threads: Arc<Mutex<()>>,
}

/// The ledger's lock: the process's mutex, then the lock file.
struct Locked<'a> {
    _file: File,
    _thread: MutexGuard<'a, ()>,
}

impl LedgerFile {
    /// The ledger at `path`.
    pub fn new(path: impl Into<PathBuf>) -> LedgerFile {
        LedgerFile {
            path: path.into(),
            threads: Arc::new(Mutex::new(())),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<Locked<'_>> {
        // A thread that panicked holding it left nothing half-done that the
        // lock file does not also cover.
        let thread = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        Ok(Locked {
            _file: files::lock_beside(&self.path)?,
            _thread: thread,
        })
    }

    fn check_regular(&self) -> Result<()> {
        match fs::symlink_metadata(&self.path) {
            Ok(m) if !m.is_file() => Err(Error::new(
                ErrorKind::Io {
                    path: self.path.clone(),
                },
                format!(
                    "the ledger {} is not a regular file ({}); not touching it",
                    self.path.display(),
                    crate::files::kind_of(&m)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Checks, before anything is minted, that records can be appended:
    /// the ledger is a regular file (or missing, and its directory can be
    /// made), it can be locked and opened for appending.
    pub fn check_writable(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.check_regular()?;
        if fs::symlink_metadata(&self.path).is_ok() {
            return self.open_append().map(drop);
        }
        // Not made yet: its directory (made by the lock) must take it.
        let dir = files::parent_dir(&self.path);
        rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK)
            .map_err(|e| Error::io("cannot write the ledger in", &dir, e.into()))
    }

    fn open_append(&self) -> Result<File> {
        OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&self.path)
            .map_err(|e| Error::io("cannot open the ledger", &self.path, e))
    }

    /// Appends records, under the lock, in one write. A last line left
    /// without its newline (a crash or a full disk cut it short) is ended
    /// first, so it stays one unreadable line and the new records are
    /// read.
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
        let mut f = self.open_append()?;
        let len = f
            .metadata()
            .map_err(|e| Error::io("cannot read the ledger", &self.path, e))?
            .len();
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1))
                .and_then(|_| f.read_exact(&mut last))
                .map_err(|e| Error::io("cannot read the ledger", &self.path, e))?;
            if last[0] != b'\n' {
                text.insert(0, '\n');
            }
        }
        // One write of whole lines to a file opened for appending: a crash
        // loses at most this record, never garbles an earlier one. A write
        // cut short (a full disk) is taken back, so no half line is left.
        f.write_all(text.as_bytes()).map_err(|e| {
            let _ = f.set_len(len);
            Error::io("cannot write the ledger", &self.path, e)
        })
    }

    /// Every record, oldest first; no ledger yet is none. Each line that is
    /// not a record is reported on stderr (`handoff: warning: ledger …
    /// line N: …`) and the rest are read; [`LedgerFile::read`] gives the
    /// warnings back instead.
    pub fn records(&self) -> Result<Vec<Record>> {
        let reading = self.read()?;
        for w in &reading.warnings {
            eprintln!("handoff: warning: {}", crate::describe::shown(w));
        }
        Ok(reading.records)
    }

    /// Every record, oldest first, and a warning naming the ledger and the
    /// line for each line that is not one.
    pub fn read(&self) -> Result<Reading> {
        let mut reading = parse(&self.read_bytes()?);
        for w in &mut reading.warnings {
            *w = format!("ledger {} {w}", self.path.display());
        }
        Ok(reading)
    }

    fn read_bytes(&self) -> Result<Vec<u8>> {
        // Refused before it is opened: a FIFO would block the open, a
        // device would never end.
        match fs::symlink_metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("cannot read the ledger", &self.path, e)),
            Ok(_) => self.check_regular()?,
        }
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(
                (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
            )
            .open(&self.path)
            .map_err(|e| Error::io("cannot read the ledger", &self.path, e))?;
        let meta = f
            .metadata()
            .map_err(|e| Error::io("cannot read the ledger", &self.path, e))?;
        if !meta.is_file() {
            return Err(Error::new(
                ErrorKind::Io {
                    path: self.path.clone(),
                },
                format!(
                    "the ledger {} is not a regular file ({}); not reading it",
                    self.path.display(),
                    crate::files::kind_of(&meta)
                ),
            ));
        }
        let too_big = || {
            Error::new(
                ErrorKind::Io {
                    path: self.path.clone(),
                },
                format!(
                    "the ledger {} is larger than {} MiB, the most handoff reads; move it aside to start a new one",
                    self.path.display(),
                    MAX_LEDGER_SIZE >> 20
                ),
            )
        };
        if meta.len() > MAX_LEDGER_SIZE {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        f.take(MAX_LEDGER_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io("cannot read the ledger", &self.path, e))?;
        if bytes.len() as u64 > MAX_LEDGER_SIZE {
            return Err(too_big());
        }
        Ok(bytes)
    }

    /// Changes records under the lock and rewrites the ledger atomically;
    /// lines that are not records are kept as they were. Returns what `f`
    /// returned.
    pub fn update<T>(&self, f: impl FnOnce(&mut [Record]) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        self.check_regular()?;
        let lines = parse_lines(&self.read_bytes()?);
        let mut records: Vec<Record> = lines
            .iter()
            .filter_map(|(_, l)| match l {
                Line::Record(r) => Some((**r).clone()),
                Line::Unreadable(..) => None,
            })
            .collect();
        let out = f(&mut records)?;
        let mut text = Vec::new();
        let mut next = records.iter();
        for (_, line) in &lines {
            match line {
                Line::Record(_) => {
                    if let Some(r) = next.next() {
                        text.extend_from_slice(to_line(r)?.as_bytes());
                    }
                }
                Line::Unreadable(raw, _) => {
                    text.extend_from_slice(raw);
                    text.push(b'\n');
                }
            }
        }
        files::write_private(&self.path, &text, Overwrite::Replace)?;
        Ok(out)
    }
}

/// Where a ledger lives: a file, or (feature `aws`) a DynamoDB table, the
/// team ledger (`dynamodb://TABLE`, with `?region=R` and `?profile=P`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A JSONL file.
    File(PathBuf),
    /// A `dynamodb://` URL, as given.
    Table(String),
}

/// The URL scheme of a team ledger.
pub const TABLE_SCHEME: &str = "dynamodb://";

impl Location {
    /// A path, or a `dynamodb://` URL.
    pub fn parse(value: &str) -> Location {
        if value.starts_with(TABLE_SCHEME) {
            Location::Table(value.to_string())
        } else {
            Location::File(PathBuf::from(value))
        }
    }

    /// Where the ledger is when none is named: `$HANDOFF_LEDGER`, else
    /// `ledger = …` in handoff's config file
    /// ([`crate::paths::config_file`]), else
    /// `$XDG_STATE_HOME/handoff/issued.jsonl` (default
    /// `~/.local/state/handoff/issued.jsonl`). Each may be a path or a
    /// `dynamodb://` URL.
    pub fn default_location() -> Result<Location> {
        if let Some(v) = std::env::var_os("HANDOFF_LEDGER").filter(|p| !p.is_empty()) {
            return Ok(match v.to_str() {
                Some(s) => Location::parse(s),
                None => Location::File(PathBuf::from(v)),
            });
        }
        if let Some(v) = configured()? {
            return Ok(Location::parse(&v));
        }
        crate::paths::ledger_file().map(Location::File)
    }
}

/// `ledger = …` in handoff's config file, if it says.
fn configured() -> Result<Option<String>> {
    let Ok(path) = crate::paths::config_file() else {
        return Ok(None);
    };
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read the config file", &path, e)),
    };
    Ok(config_value(&text))
}

/// The value of the last `ledger = …` line of a config file's text.
pub(crate) fn config_value(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.trim().split_once('='))
        .filter(|(k, _)| k.trim() == "ledger")
        .map(|(_, v)| v.trim().to_string())
        .rfind(|v| !v.is_empty())
}

/// A ledger: the local file (the default), or a DynamoDB table a team
/// shares (feature `aws`, see [`mod@crate::issuer::ledger::table`]). The same records
/// either way; a table's updates are conditional on each record's
/// revision.
#[derive(Clone, Debug)]
pub enum Ledger {
    /// A JSONL file on this machine.
    File(LedgerFile),
    /// A DynamoDB table.
    #[cfg(feature = "aws")]
    Table(Arc<crate::issuer::ledger::table::TableLedger>),
}

impl Ledger {
    /// The ledger file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Ledger {
        Ledger::File(LedgerFile::new(path))
    }

    /// The default ledger file: `$HANDOFF_LEDGER` (when it is a path), else
    /// `$XDG_STATE_HOME/handoff/issued.jsonl`, else
    /// `~/.local/state/handoff/issued.jsonl`.
    pub fn default_path() -> Result<PathBuf> {
        crate::paths::ledger_file()
    }

    /// The default ledger ([`Location::default_location`]).
    pub fn open_default() -> Result<Ledger> {
        Ledger::open(&Location::default_location()?)
    }

    /// The ledger at `location`. A table is not contacted yet.
    pub fn open(location: &Location) -> Result<Ledger> {
        match location {
            Location::File(p) => Ok(Ledger::new(p.clone())),
            #[cfg(feature = "aws")]
            Location::Table(url) => {
                let url = crate::issuer::ledger::table::TableUrl::parse(url)?;
                Ok(Ledger::Table(Arc::new(
                    crate::issuer::ledger::table::TableLedger::open(&url, None, false)?,
                )))
            }
            #[cfg(not(feature = "aws"))]
            Location::Table(url) => Err(Error::usage(format!(
                "the ledger {url} is a DynamoDB table, and this build of handoff has no AWS support (feature aws)"
            ))),
        }
    }

    /// The file, for a file ledger.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Ledger::File(f) => Some(f.path()),
            #[cfg(feature = "aws")]
            Ledger::Table(_) => None,
        }
    }

    /// The path or the URL, for messages.
    pub fn describe(&self) -> String {
        match self {
            Ledger::File(f) => f.path().display().to_string(),
            #[cfg(feature = "aws")]
            Ledger::Table(t) => t.url(),
        }
    }

    /// Whether it is a table a team shares.
    pub fn is_table(&self) -> bool {
        !matches!(self, Ledger::File(_))
    }

    /// Checks, before anything is minted, that records can be written
    /// (see [`LedgerFile::check_writable`]; a table: reachable, of the
    /// expected shape, and this caller may write to it).
    pub fn check_writable(&self) -> Result<()> {
        match self {
            Ledger::File(f) => f.check_writable(),
            #[cfg(feature = "aws")]
            Ledger::Table(t) => t.check_writable(),
        }
    }

    /// Adds records (a table: each created only if its token id is not
    /// there yet).
    pub fn append(&self, records: &[Record]) -> Result<()> {
        match self {
            Ledger::File(f) => f.append(records),
            #[cfg(feature = "aws")]
            Ledger::Table(t) => t.append(records),
        }
    }

    /// Every record, oldest first, each unreadable line or item reported
    /// on stderr.
    pub fn records(&self) -> Result<Vec<Record>> {
        match self {
            Ledger::File(f) => f.records(),
            #[cfg(feature = "aws")]
            Ledger::Table(_) => {
                let reading = self.read()?;
                for w in &reading.warnings {
                    eprintln!("handoff: warning: {}", crate::describe::shown(w));
                }
                Ok(reading.records)
            }
        }
    }

    /// Every record, oldest first (a table: by issue time), and a warning
    /// for each line or item that is not one.
    pub fn read(&self) -> Result<Reading> {
        match self {
            Ledger::File(f) => f.read(),
            #[cfg(feature = "aws")]
            Ledger::Table(t) => t.read(),
        }
    }

    /// Changes records. A file: under its lock, rewritten atomically. A
    /// table: each record `f` changed is written conditionally on the
    /// revision it was read at; when another writer got there first, the
    /// record is read again and `f`'s changes are applied to it field by
    /// field, unless the other writer changed the same field differently:
    /// that is reported, never overwritten.
    pub fn update<T>(&self, f: impl FnOnce(&mut [Record]) -> Result<T>) -> Result<T> {
        match self {
            Ledger::File(l) => l.update(f),
            #[cfg(feature = "aws")]
            Ledger::Table(t) => t.update(f),
        }
    }

    /// Marks the record `token_id` revoked at `at` by `by` (the revoking
    /// credentials' ARN), unless it is already revoked. Returns whether
    /// this call marked it; a record that is not there is an error. A
    /// table: conditional on the record's revision, retried after reading
    /// it again.
    pub fn mark_revoked(&self, token_id: &str, at: SystemTime, by: Option<&str>) -> Result<bool> {
        #[cfg(feature = "aws")]
        if let Ledger::Table(t) = self {
            return t.mark_revoked(token_id, at, by);
        }
        let at = clock::format_rfc3339(at);
        self.update(|records| {
            let r = records
                .iter_mut()
                .find(|r| r.token_id == token_id)
                .ok_or_else(|| Error::other(format!("the ledger has no record {token_id}")))?;
            if r.revoked_at.is_some() {
                return Ok(false);
            }
            r.revoked_at = Some(at);
            r.revoked_by = by.map(str::to_string);
            Ok(true)
        })
    }
}

/// Marks the records with these token ids undelivered (one rewrite);
/// returns how many were marked.
pub fn mark_undelivered(ledger: &Ledger, token_ids: &[String]) -> Result<usize> {
    if token_ids.is_empty() {
        return Ok(0);
    }
    // A table: each record on its own, not a read of the whole table.
    #[cfg(feature = "aws")]
    if let Ledger::Table(t) = ledger {
        return t.mark_undelivered(token_ids);
    }
    ledger.update(|records| {
        let mut n = 0;
        for r in records.iter_mut() {
            if token_ids.contains(&r.token_id) && !r.is_undelivered() {
                r.delivered = Some(false);
                n += 1;
            }
        }
        Ok(n)
    })
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
/// live at `now` unless `all`), as a table or, with `json`, JSON lines; and
/// one warning for each line of the ledger that is not a record.
pub fn report(all: bool, json: bool, now: SystemTime) -> Result<(String, Vec<String>)> {
    let reading = Ledger::open_default()?.read()?;
    Ok((render(reading.records, all, json, now)?, reading.warnings))
}

/// What `issued` prints of `records`: the live ones (every one with
/// `all`), as a table or as JSON lines.
pub fn render(records: Vec<Record>, all: bool, json: bool, now: SystemTime) -> Result<String> {
    let records: Vec<_> = records
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

/// The widest a column of the table gets, in characters; a longer value is
/// cut and ends in `…` (`issued --json` gives it whole).
pub const MAX_COLUMN: usize = 48;

/// The widest the last column (the file) gets.
pub const MAX_FILE_COLUMN: usize = 160;

/// Records as a table for people: token id (short), name, session, kind,
/// issued, expires, state, file. What others wrote (labels, names,
/// session names) is escaped as `show` escapes it (control and format
/// characters, bidirectional overrides among them), and every column is
/// capped ([`MAX_COLUMN`]), a long value cut with `…`.
pub fn table(records: &[Record], now: SystemTime) -> String {
    table_with(records, now, false)
}

/// What `issued` prints of a team ledger's records (the live ones, every
/// one with `all`): the table, with a `MINTED BY` column before the file
/// (the issuer's ARN after its account: `user/alice`).
pub fn render_team(records: Vec<Record>, all: bool, now: SystemTime) -> String {
    let records: Vec<_> = records
        .into_iter()
        .filter(|r| all || r.is_live_at(now))
        .collect();
    table_with(&records, now, true)
}

/// The part of an ARN after its account: `user/alice`.
fn principal_of(arn: &str) -> &str {
    arn.splitn(6, ':').nth(5).unwrap_or(arn)
}

fn table_with(records: &[Record], now: SystemTime, minter: bool) -> String {
    let mut header = vec![
        "TOKEN", "NAME", "SESSION", "KIND", "ISSUED", "EXPIRES", "STATE", "FILE",
    ];
    if minter {
        header.insert(7, "MINTED BY");
    }
    let columns = header.len();
    let mut rows: Vec<Vec<String>> = vec![header.into_iter().map(str::to_string).collect()];
    for r in records {
        let mut state = if let Some(at) = &r.revoked_at {
            format!("revoked {at}")
        } else if r.is_live_at(now) {
            "live".to_string()
        } else {
            "expired".to_string()
        };
        if r.is_undelivered() {
            state.push_str(", undelivered");
        }
        let mut row = vec![
            r.token_id.chars().take(12).collect(),
            r.name.clone().unwrap_or_else(|| "-".into()),
            r.session_name().unwrap_or("-").to_string(),
            r.kind.clone(),
            r.issued_at.clone(),
            r.expires_at.clone().unwrap_or_else(|| "-".into()),
            state,
            r.file.clone().unwrap_or_else(|| "-".into()),
        ];
        if minter {
            row.insert(
                7,
                r.minted_by.as_deref().map_or("-", principal_of).to_string(),
            );
        }
        for (i, c) in row.iter_mut().enumerate() {
            let cap = if i + 1 == columns {
                MAX_FILE_COLUMN
            } else {
                MAX_COLUMN
            };
            *c = capped(&crate::describe::shown(c), cap);
        }
        rows.push(row);
    }
    let mut widths = vec![0usize; columns];
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (c, w)) in row.iter().zip(widths.iter().copied()).enumerate() {
            line.push_str(c);
            if i + 1 < row.len() {
                // padded by hand: a width in a format string panics past
                // u16::MAX
                let pad = w.saturating_sub(c.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `s` cut to at most `max` characters, the last of them `…` when cut.
fn capped(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn to_line(r: &Record) -> Result<String> {
    let mut line = serde_json::to_string(r)
        .map_err(|e| Error::other(format!("cannot write a ledger record: {e}")).with_source(e))?;
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
    fn locations_are_paths_or_tables() {
        assert_eq!(
            Location::parse("dynamodb://team?region=eu-west-1"),
            Location::Table("dynamodb://team?region=eu-west-1".into())
        );
        assert_eq!(
            Location::parse("/var/x.jsonl"),
            Location::File(PathBuf::from("/var/x.jsonl"))
        );
        let config = "# x\nexpect-account = 123456789012\nledger = /tmp/a\nledger=dynamodb://t1?region=us-east-1\n";
        assert_eq!(
            config_value(config).as_deref(),
            Some("dynamodb://t1?region=us-east-1")
        );
        assert_eq!(config_value("expect-account = 123456789012\n"), None);
        // The config file's other reader takes the line too.
        assert!(crate::recipient::account::ExpectedAccounts::parse(config, "cfg").is_ok());
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
        let text = fs::read_to_string(ledger.path().unwrap()).unwrap();
        assert!(!text.contains("secretEXAMPLEKEY") && !text.contains("sessiontokenEXAMPLE"));
        assert_eq!(text.lines().count(), 2);
        let mode = fs::metadata(ledger.path().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let back = ledger.records().unwrap();
        assert_eq!(back[0], r);
        assert!(back[0].is_live_at(clock::now()));

        // A revocation rewrites the record and keeps foreign lines.
        fs::OpenOptions::new()
            .append(true)
            .open(ledger.path().unwrap())
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
        assert!(fs::read_to_string(ledger.path().unwrap())
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

    #[test]
    fn a_torn_last_line_is_ended_before_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::new(dir.path().join("issued.jsonl"));
        let first = Record::new(&token("alice"), vec![], None, None).unwrap();
        ledger.append(std::slice::from_ref(&first)).unwrap();
        // a crash cut the second record short
        let whole = to_line(&Record::new(&token("bob"), vec![], None, None).unwrap()).unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(ledger.path().unwrap())
            .unwrap()
            .write_all(&whole.as_bytes()[..40])
            .unwrap();
        let carol = Record::new(&token("carol"), vec![], None, None).unwrap();
        ledger.append(std::slice::from_ref(&carol)).unwrap();
        let reading = ledger.read().unwrap();
        assert_eq!(reading.records, [first, carol]);
        assert_eq!(reading.warnings.len(), 1, "{:?}", reading.warnings);
        assert!(
            reading.warnings[0].ends_with("line 2: not a ledger record (cut short); skipped"),
            "{:?}",
            reading.warnings
        );
    }

    #[test]
    fn every_unreadable_line_is_named_and_the_rest_read() {
        let r = to_line(&Record::new(&token("alice"), vec![], None, None).unwrap()).unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(r.as_bytes());
        bytes.extend_from_slice(b"\xff\xfe not utf-8\n");
        bytes.extend_from_slice(b"\n   \n");
        bytes.extend_from_slice(b"[1, 2]\n");
        bytes.extend_from_slice(b"{\"token_id\": 1}\n");
        bytes.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
        bytes.push(b'\n');
        bytes.extend_from_slice(r.as_bytes());
        let reading = parse(&bytes);
        assert_eq!(reading.records.len(), 2);
        let lines: Vec<&str> = reading.warnings.iter().map(String::as_str).collect();
        assert_eq!(
            lines,
            [
                "line 2: not UTF-8 (byte 1); not a record, skipped",
                "line 5: not a ledger record (JSON, but not a record); skipped",
                "line 6: not a ledger record (JSON, but not a record); skipped",
                "line 7: a line of 1048577 bytes, longer than the 1024 KiB a record may be; skipped",
            ]
        );
        // a rewrite keeps them all, byte for byte
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::new(dir.path().join("issued.jsonl"));
        fs::write(ledger.path().unwrap(), &bytes).unwrap();
        ledger
            .update(|rs| {
                rs[1].revoked_at = Some("2026-01-01T00:00:00Z".into());
                Ok(())
            })
            .unwrap();
        let again = ledger.read().unwrap();
        assert_eq!(again.records.len(), 2);
        assert!(again.records[1].revoked_at.is_some());
        assert_eq!(again.warnings.len(), 4);
    }

    #[test]
    fn only_a_regular_file_of_bounded_size_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for (path, what) in [
            (Path::new("/dev/zero"), "a device"),
            (fifo.as_path(), "a FIFO"),
            (dir.path(), "a directory"),
        ] {
            let ledger = Ledger::new(path);
            let e = ledger.read().unwrap_err().to_string();
            assert!(
                e.contains(&format!("is not a regular file ({what})")),
                "{e}"
            );
            assert!(ledger.check_writable().is_err());
            let r = Record::new(&token("a"), vec![], None, None).unwrap();
            assert!(ledger.append(&[r]).is_err());
        }
        let big = Ledger::new(dir.path().join("big.jsonl"));
        fs::File::create(big.path().unwrap())
            .unwrap()
            .set_len(MAX_LEDGER_SIZE + 1)
            .unwrap();
        let e = big.read().unwrap_err().to_string();
        assert!(e.contains("is larger than 64 MiB"), "{e}");
        // a missing ledger in a place that can take one is writable
        let fresh = Ledger::new(dir.path().join("state/handoff/issued.jsonl"));
        fresh.check_writable().unwrap();
        assert!(!fresh.path().unwrap().exists());
    }

    #[test]
    fn the_table_caps_long_values_and_escapes_format_characters() {
        let mut r = Record::new(&token("alice"), vec![], None, None).unwrap();
        r.userid = Some(format!("123456789012:{}", "x".repeat(70_000)));
        r.name = Some("evil\u{202e}txt.exe\u{200b}\x1b[31m".into());
        r.file = Some("/".repeat(500));
        r.delivered = Some(false);
        let out = table(&[r], clock::now());
        let row = out.lines().nth(1).unwrap();
        assert!(
            row.chars().count() < 8 * (MAX_COLUMN + 2) + MAX_FILE_COLUMN,
            "{row}"
        );
        assert!(
            row.contains(&format!("{}…", "x".repeat(MAX_COLUMN - 1))),
            "{row}"
        );
        assert!(
            row.contains("evil\\u{202e}txt.exe\\u{200b}\\u{1b}[31m"),
            "{row}"
        );
        assert!(!row.contains('\u{202e}') && !row.contains('\x1b'));
        assert!(row.contains("live, undelivered"), "{row}");
    }
}
