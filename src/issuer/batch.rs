//! One token per person: mint with STS, seal to that person alone, write
//! `DIR/NAME.age`, for every person of a [roster](crate::issuer::roster), a few at a
//! time.
//!
//! Each person gets their own STS call (so their own session, which can be
//! revoked and attributed on its own) and their own file, written
//! atomically with mode 0600. A person whose file exists (a regular file;
//! anything else there is a failure for them) is skipped unless asked to
//! replace it, so a rerun after failures finishes the job. Progress is
//! reported through a callback, from the worker threads; a stop flag (set
//! on Ctrl-C) keeps new mints from starting while those in flight finish.
//!
//! Nothing is minted for a file the batch will not write, and nobody is
//! minted twice:
//!
//! - the batch holds a lock on DIR (on the directory itself) from start to
//!   end: a second batch into DIR waits for the first, then skips those who
//!   have their file;
//! - the ledger is checked writable before the first mint;
//! - each person's sealed file is written to a temp file in DIR and synced,
//!   then recorded in the [ledger](crate::issuer::ledger) (with the SHA-256 of the
//!   file), then moved into place. A file is never in place without its
//!   record. A process that dies between the record and the move leaves the
//!   temp file: the next batch into DIR finds it, marks the record whose
//!   hash it carries undelivered, and removes it. A write that fails after
//!   the mint records the token undelivered too;
//! - a full disk, a quota or a read-only file system (for DIR or the
//!   ledger) stops new mints as Ctrl-C does, and so do
//!   [`MAX_SILENT_STS`] transport failures in a row (an STS that does not
//!   answer), each with the reason in the summary.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::aws::{check_role_arn, CallerIdentity, MintRequest, Sts};
use crate::files::{self, Overwrite};
use crate::issuer::ledger::{Ledger, Record};
use crate::issuer::roster::{fill, Person, PLACEHOLDER};
use crate::seal::signing::SigningKey;
use crate::seal::Form;
use crate::{Error, Result};

/// Checks `req` as the request of a batch, before the roster is read:
/// its federated user name (or role session name) holds [`PLACEHOLDER`],
/// so each person's session is their own, and every other argument passes
/// [`MintRequest::validate_but_names`]. Each person's filled-in name is
/// checked by [`check_person`] as the roster is read. A request that does
/// not mint per person is an
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) whose
/// [`source`](std::error::Error::source) is the [`NotPerPerson`].
pub fn check_request(req: &MintRequest) -> Result<()> {
    let not = |why: NotPerPerson| Err(Error::usage(why.to_string()).with_source(why));
    match req {
        MintRequest::Federation { name, .. } if !name.contains(PLACEHOLDER) => {
            return not(NotPerPerson::FederationName);
        }
        MintRequest::Role(r)
            if !r
                .session_name
                .as_deref()
                .is_some_and(|n| n.contains(PLACEHOLDER)) =>
        {
            check_role_arn(&r.role_arn)?;
            return not(NotPerPerson::SessionName);
        }
        MintRequest::Session { .. } => return not(NotPerPerson::SessionToken),
        _ => {}
    }
    req.validate_but_names()
}

/// Why a request cannot serve a batch: each person's session must be their
/// own, to be revoked and attributed on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotPerPerson {
    /// The federated user name has no [`PLACEHOLDER`].
    FederationName,
    /// The role session name has no [`PLACEHOLDER`] (or there is none).
    SessionName,
    /// GetSessionToken names no one.
    SessionToken,
}

impl std::fmt::Display for NotPerPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const OWN: &str =
            "each person's session must be their own, to be revoked and attributed on its own";
        match self {
            NotPerPerson::FederationName => write!(
                f,
                "a batch needs {PLACEHOLDER} in the federated user name (say 'ws-{PLACEHOLDER}'): {OWN}"
            ),
            NotPerPerson::SessionName => write!(
                f,
                "a batch of role sessions needs {PLACEHOLDER} in the session name: {OWN}"
            ),
            NotPerPerson::SessionToken => write!(
                f,
                "a batch mints a federation token or a role session per person, not a session token: {OWN}"
            ),
        }
    }
}

impl std::error::Error for NotPerPerson {}

/// `req` as minted for `person`: `{name}` in its names is theirs.
pub fn for_person(req: &MintRequest, person: &str) -> MintRequest {
    req.with_names(|t| fill(t, person))
}

/// Checks the name `person` would mint under as STS would (federated user
/// or role session name), for [`crate::issuer::roster::read`].
pub fn check_person(req: &MintRequest, person: &Person) -> Result<()> {
    for_person(req, &person.name).validate_names()
}

/// Everything about a batch but the people.
pub struct Batch<'a> {
    /// How tokens are minted; `{name}` in its names is each person's
    /// ([`check_request`]).
    pub mint: MintRequest,
    /// The directory the files go to (created, 0700, when missing).
    pub dir: PathBuf,
    /// A label sealed with each token; `{name}` is the person's.
    pub label: Option<String>,
    /// A region recorded in each token when STS did not set one.
    pub region: Option<String>,
    /// Replace existing files instead of skipping their people.
    pub overwrite: Overwrite,
    /// The form of the files.
    pub form: Form,
    /// Sign each handoff with this key.
    pub signing_key: Option<&'a SigningKey>,
    /// How many mints run at once (at least 1).
    pub jobs: usize,
    /// The ledger to record each handoff in.
    pub ledger: Option<Ledger>,
    /// Who mints (GetCallerIdentity of the minting credentials), for the
    /// ledger.
    pub minted_by: Option<CallerIdentity>,
}

/// What happened for one person.
#[derive(Debug)]
pub enum Outcome {
    /// Their token was written to this file.
    Made(PathBuf),
    /// Their file already existed.
    Skipped(PathBuf),
    /// Minting, sealing or writing failed.
    Failed(Error),
    /// Not started: the batch was stopped first.
    NotStarted,
}

impl Outcome {
    /// What happened for `person`, as one line (`alice: made DIR/alice.age`).
    pub fn line(&self, person: &Person) -> String {
        let name = &person.name;
        match self {
            Outcome::Made(path) => format!("{name}: made {}", path.display()),
            Outcome::Skipped(path) => format!("{name}: skipped, {} exists", path.display()),
            Outcome::Failed(e) => format!("{name}: failed: {e}"),
            Outcome::NotStarted => format!("{name}: not started"),
        }
    }
}

/// A progress report from the batch, from the worker that did it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The batch begins, for this many people: every check has passed, and
    /// the folder is about to be made and locked.
    Begin(usize),
    /// Another batch into the folder holds its lock: this one waits for it
    /// to finish (said once), then skips those who have their file.
    Waiting(&'a Path),
    /// Minting for this person has started.
    Started(&'a Person),
    /// This person is done: made, skipped, or failed.
    Finished(&'a Person, &'a Outcome),
    /// Before the first mint: this many records of an earlier batch into
    /// the folder were found undelivered (the process died before their
    /// files were in place) and marked so.
    Recovered(usize),
}

/// Every person's outcome, in roster order.
#[derive(Debug)]
pub struct Report {
    /// The people and what happened for each.
    pub results: Vec<(Person, Outcome)>,
    /// Why the batch stopped starting new mints on its own (a full disk, an
    /// STS that does not answer); `None` when it did not, or when it was
    /// stopped from outside (Ctrl-C).
    pub halted: Option<String>,
    /// Records of earlier batches into DIR found undelivered (their temp
    /// file was left by a process that died) and marked so.
    pub marked_undelivered: usize,
}

impl Report {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|(_, o)| f(o)).count()
    }

    /// How many tokens were made.
    pub fn made(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Made(_)))
    }

    /// How many people were skipped (file already there).
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }

    /// How many failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    /// How many were never started (the batch was stopped).
    pub fn not_started(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted))
    }

    /// The line that sums the batch up: `made M, skipped S, failed F`, the
    /// people who failed and why in short ([`failure_code`]), and how many
    /// were not started when the batch was stopped.
    pub fn summary(&self) -> String {
        let mut summary = format!(
            "made {}, skipped {}, failed {}",
            self.made(),
            self.skipped(),
            self.failed()
        );
        let failed: Vec<String> = self
            .results
            .iter()
            .filter_map(|(p, o)| match o {
                Outcome::Failed(e) => Some(format!("{} ({})", p.name, failure_code(e))),
                _ => None,
            })
            .collect();
        if !failed.is_empty() {
            summary.push_str(&format!(": {}", failed.join(", ")));
        }
        match (&self.halted, self.not_started()) {
            (Some(why), n) => summary.push_str(&format!(
                "; stopped: {why}; {n} not started (rerun to finish)"
            )),
            (None, 0) => {}
            (None, n) => summary.push_str(&format!("; stopped, {n} not started (rerun to finish)")),
        }
        summary
    }

    /// Whether every person has a token (made now or before).
    pub fn complete(&self) -> bool {
        self.made() + self.skipped() == self.results.len()
    }
}

/// The short reason of a failure: the AWS error code when there is one.
pub fn failure_code(e: &Error) -> String {
    match e.kind() {
        crate::ErrorKind::Aws { code, .. } => code.clone(),
        _ if e.is_transport() => "network".into(),
        crate::ErrorKind::InvalidArgument => "usage".into(),
        _ => match out_of_room(e) {
            Some(why) => why.into(),
            None => "error".into(),
        },
    }
}

/// How many STS calls in a row may fail without an answer (refused, timed
/// out, reset) before no new mint starts.
pub const MAX_SILENT_STS: usize = 3;

/// `Some` short reason when `e` says the disk cannot take more: no space,
/// over quota, or a read-only file system.
fn out_of_room(e: &Error) -> Option<&'static str> {
    if !matches!(e.kind(), crate::ErrorKind::Io { .. }) {
        return None;
    }
    let source = std::error::Error::source(e)?.downcast_ref::<std::io::Error>()?;
    use std::io::ErrorKind;
    match source.kind() {
        ErrorKind::StorageFull => Some("no space left"),
        ErrorKind::QuotaExceeded => Some("over quota"),
        ErrorKind::ReadOnlyFilesystem => Some("read-only file system"),
        _ => None,
    }
}

/// Takes the lock on `dir` for the batch (a lock on the directory itself,
/// so nothing is added to it), waiting (and saying so once, with
/// [`Event::Waiting`]) for another batch into it; `None` when `stop` is set
/// while waiting.
fn lock_dir(
    dir: &Path,
    stop: &AtomicBool,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Option<fs::File>> {
    let file = fs::File::open(dir).map_err(|e| Error::io("cannot open", dir, e))?;
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::io("cannot lock", dir, e));
            }
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        if !said {
            on_event(Event::Waiting(dir));
            said = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The largest temp file read back when recovering (a sealed token is a
/// few KiB).
const MAX_STALE_TEMP: u64 = 1 << 20;

/// With the lock on `dir` held: the temp files an earlier batch left
/// there (`.handoff-*.tmp`, regular files) are removed, and each ledger
/// record whose sealed file one of them holds, and whose own file does
/// not, is marked undelivered. Returns how many records were marked.
fn recover(dir: &Path, ledger: Option<&Ledger>) -> Result<usize> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("cannot read", dir, e))?;
    let mut stale = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".handoff-") && name.ends_with(".tmp")) {
            continue;
        }
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let hash = hash_file(&entry.path());
        stale.push((entry.path(), hash));
    }
    let hashes: Vec<&String> = stale.iter().filter_map(|(_, h)| h.as_ref()).collect();
    let mut marked = 0;
    if let (Some(ledger), false) = (ledger, hashes.is_empty()) {
        let undelivered = |r: &Record| {
            !r.is_undelivered()
                && r.file_sha256.as_ref().is_some_and(|h| hashes.contains(&h))
                && r.file.as_deref().map(Path::new).and_then(hash_file) != r.file_sha256
        };
        if ledger.read()?.records.iter().any(undelivered) {
            marked = ledger.update(|records| {
                let mut n = 0;
                for r in records.iter_mut().filter(|r| undelivered(r)) {
                    r.delivered = Some(false);
                    n += 1;
                }
                Ok(n)
            })?;
        }
    }
    for (path, _) in &stale {
        fs::remove_file(path).map_err(|e| Error::io("cannot remove the stale", path, e))?;
    }
    Ok(marked)
}

/// The SHA-256 (hex) of a regular file of at most [`MAX_STALE_TEMP`]
/// bytes, not following a symlink.
fn hash_file(path: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_STALE_TEMP {
        return None;
    }
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(MAX_STALE_TEMP)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// Runs the batch for `people` with `sts`. `stop` is checked before each
/// person starts; `on_event` is called from the worker threads.
///
/// ```no_run
/// use handoff::aws::{Service, Settings, Sts};
/// use handoff::aws::MintRequest;
/// use handoff::issuer::batch::{self, Batch, Event, Outcome};
/// use handoff::files::Overwrite;
/// use handoff::issuer::{ledger::Ledger, roster};
/// use handoff::{Form, Policy};
/// use std::sync::atomic::AtomicBool;
///
/// let mint = MintRequest::Federation { name: "ws-{name}".into(), policy: Some(Policy::new().allow("DescribeImages")), duration: None };
/// batch::check_request(&mint)?;
/// let people = roster::read("roster.txt".as_ref(), &|p| batch::check_person(&mint, p))?;
/// let sts = Sts::new(Settings::default().resolve(Service::Sts)?)?;
/// let job = Batch {
///     mint,
///     dir: "tokens".into(),
///     label: None,
///     region: None,
///     overwrite: Overwrite::Refuse,
///     form: Form::Binary,
///     signing_key: None,
///     jobs: 4,
///     ledger: Some(Ledger::open_default()?),
///     minted_by: Some(sts.get_caller_identity()?),
/// };
/// let report = batch::run(&sts, &people, &job, &AtomicBool::new(false), &|e| {
///     if let Event::Finished(p, Outcome::Failed(err)) = e {
///         eprintln!("{}: {err}", p.name);
///     }
/// })?;
/// println!("made {}, skipped {}, failed {}", report.made(), report.skipped(), report.failed());
/// # Ok::<(), handoff::Error>(())
/// ```
pub fn run(
    sts: &Sts,
    people: &[Person],
    batch: &Batch<'_>,
    stop: &AtomicBool,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<Report> {
    on_event(Event::Begin(people.len()));
    files::create_private_dir(&batch.dir)?;
    if let Some(ledger) = &batch.ledger {
        ledger.check_writable()?;
    }
    let not_started = || Report {
        results: people
            .iter()
            .cloned()
            .map(|p| (p, Outcome::NotStarted))
            .collect(),
        halted: None,
        marked_undelivered: 0,
    };
    // Held to the end of the batch.
    let Some(_dir_lock) = lock_dir(&batch.dir, stop, on_event)? else {
        return Ok(not_started());
    };
    let marked_undelivered = recover(&batch.dir, batch.ledger.as_ref())?;
    // A folder that cannot take a file (read-only, not ours) is found
    // before anything is minted.
    drop(stage(&batch.dir, b"")?);
    if marked_undelivered > 0 {
        on_event(Event::Recovered(marked_undelivered));
    }
    let next = AtomicUsize::new(0);
    let silent = AtomicUsize::new(0);
    let halted: Mutex<Option<String>> = Mutex::new(None);
    let is_halted = || halted.lock().map(|h| h.is_some()).unwrap_or(true);
    let outcomes: Vec<Mutex<Outcome>> = people
        .iter()
        .map(|_| Mutex::new(Outcome::NotStarted))
        .collect();
    let jobs = batch.jobs.clamp(1, people.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                if stop.load(Ordering::SeqCst) || is_halted() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(person) = people.get(i) else { break };
                on_event(Event::Started(person));
                let outcome = one(sts, person, batch, &silent);
                if let Outcome::Failed(e) = &outcome {
                    let why = match out_of_room(e) {
                        Some(why) => Some(format!("{why} ({e})")),
                        None if silent.load(Ordering::SeqCst) >= MAX_SILENT_STS => Some(format!(
                            "STS did not answer {MAX_SILENT_STS} times in a row ({e})"
                        )),
                        None => None,
                    };
                    if let (Some(why), Ok(mut h)) = (why, halted.lock()) {
                        h.get_or_insert(why);
                    }
                }
                on_event(Event::Finished(person, &outcome));
                if let Ok(mut slot) = outcomes[i].lock() {
                    *slot = outcome;
                }
            });
        }
    });
    let results = people
        .iter()
        .cloned()
        .zip(
            outcomes
                .into_iter()
                .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner())),
        )
        .collect();
    Ok(Report {
        results,
        halted: halted.into_inner().unwrap_or_else(|p| p.into_inner()),
        marked_undelivered,
    })
}

/// What is at `DIR/NAME.age` before a mint.
fn existing(path: &Path) -> Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("cannot look at", path, e)),
    };
    let t = meta.file_type();
    if t.is_file() {
        return Ok(true);
    }
    let what = crate::files::kind_of(&meta);
    Err(Error::other(format!(
        "{} is {what}, not a token file; not writing there (remove it to make this person's token)",
        path.display()
    )))
}

/// One person: skip, or mint, seal, stage, record and move into place.
/// `silent` counts STS calls in a row that got no answer.
fn one(sts: &Sts, person: &Person, batch: &Batch<'_>, silent: &AtomicUsize) -> Outcome {
    let path = batch.dir.join(format!("{}.age", person.name));
    match existing(&path) {
        Ok(true) if batch.overwrite == Overwrite::Refuse => return Outcome::Skipped(path),
        Ok(_) => {}
        Err(e) => return Outcome::Failed(e),
    }
    match make(sts, person, batch, &path, silent) {
        Ok(()) => Outcome::Made(path),
        Err(e) => Outcome::Failed(e),
    }
}

fn make(
    sts: &Sts,
    person: &Person,
    batch: &Batch<'_>,
    path: &Path,
    silent: &AtomicUsize,
) -> Result<()> {
    let recipients = person.recipients()?;
    let token = match sts.mint(&for_person(&batch.mint, &person.name)) {
        Err(e) if e.is_transport() => {
            silent.fetch_add(1, Ordering::SeqCst);
            return Err(e);
        }
        other => {
            silent.store(0, Ordering::SeqCst);
            other?
        }
    };
    let label = batch.label.as_deref().map(|l| fill(l, &person.name));
    let token = crate::seal::prepare(token, label, batch.region.as_deref())?;
    let sealed = crate::seal::seal_token(&token, &recipients, batch.form, batch.signing_key)?;
    let record = match &batch.ledger {
        Some(_) => {
            let by = batch
                .minted_by
                .as_ref()
                .map(|c| (c.arn.as_str(), c.user_id.as_str()));
            Some(
                Record::new(&token, recipients.names(), Some(path), by)?
                    .with_name(&person.name)
                    .with_sealed(&sealed),
            )
        }
        None => None,
    };
    // Staged first; a stage that fails leaves the token minted and held by
    // nobody: it is recorded so, to be revoked.
    let staged = match stage(&batch.dir, &sealed) {
        Ok(t) => t,
        Err(e) => {
            if let (Some(ledger), Some(mut r)) = (&batch.ledger, record) {
                r.delivered = Some(false);
                let _ = ledger.append(&[r]);
            }
            return Err(e);
        }
    };
    // Recorded before it is in place: a file is never there without its
    // record. Should the ledger refuse, the temp file goes with `staged`.
    if let (Some(ledger), Some(r)) = (&batch.ledger, &record) {
        ledger.append(std::slice::from_ref(r))?;
    }
    crate::files::fail_point("batch-before-rename");
    if let Err(e) = put_in_place(staged, path, batch.overwrite) {
        if let (Some(ledger), Some(r)) = (&batch.ledger, &record) {
            let _ =
                crate::issuer::ledger::mark_undelivered(ledger, std::slice::from_ref(&r.token_id));
        }
        return Err(e);
    }
    Ok(())
}

/// The sealed bytes in a new temp file in `dir` (`.handoff-*.tmp`, mode
/// 0600), synced.
fn stage(dir: &Path, sealed: &[u8]) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".handoff-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    let file = tmp.as_file_mut();
    file.write_all(sealed)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("cannot write", tmp.path(), e))?;
    Ok(tmp)
}

/// Moves the staged file to `path`: a new name only, or with
/// [`Overwrite::Replace`] over a regular file (the rename replaces the
/// entry itself; a symlink is never written through).
fn put_in_place(tmp: tempfile::NamedTempFile, path: &Path, overwrite: Overwrite) -> Result<()> {
    let done = match overwrite {
        Overwrite::Refuse => tmp.persist_noclobber(path),
        Overwrite::Replace => {
            existing(path)?;
            tmp.persist(path)
        }
    };
    done.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::other(format!(
                "{} appeared while its token was being made; not replacing it",
                path.display()
            ))
        } else {
            Error::io("cannot write", path, e.error)
        }
    })?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::Token;

    fn person(name: &str) -> Person {
        Person {
            name: name.into(),
            recipient: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".into(),
            line: 1,
        }
    }

    #[test]
    fn the_summary_names_who_failed_and_what_was_not_started() {
        let report = Report {
            results: vec![
                (person("alice"), Outcome::Made("t/alice.age".into())),
                (person("bob"), Outcome::Skipped("t/bob.age".into())),
                (person("carol"), Outcome::Failed(Error::usage("bad"))),
                (person("dave"), Outcome::NotStarted),
            ],
            halted: None,
            marked_undelivered: 0,
        };
        assert_eq!(
            report.summary(),
            "made 1, skipped 1, failed 1: carol (usage); stopped, 1 not started (rerun to finish)"
        );
        let lines: Vec<String> = report.results.iter().map(|(p, o)| o.line(p)).collect();
        assert_eq!(
            lines,
            [
                "alice: made t/alice.age",
                "bob: skipped, t/bob.age exists",
                "carol: failed: bad",
                "dave: not started"
            ]
        );
    }

    #[test]
    fn each_person_mints_under_a_name_sts_takes() {
        let mint = MintRequest::Federation {
            name: "ws-{name}".into(),
            policy: Some(Policy::new()),
            duration: None,
        };
        check_request(&mint).unwrap();
        assert!(check_person(&mint, &person("alice")).is_ok());
        assert!(check_person(&mint, &person(&"x".repeat(40))).is_err());
        match for_person(&mint, "alice") {
            MintRequest::Federation { name, .. } => assert_eq!(name, "ws-alice"),
            other => panic!("{other:?}"),
        }
    }

    /// Issue 24: a batch's request and one seal's go through the one
    /// check: for every rule, the template (checked before the roster,
    /// then per person) is refused with the words one person's request is.
    #[test]
    fn a_batch_and_one_seal_apply_the_same_check() {
        use crate::aws::AssumeRoleRequest;
        use std::time::Duration;
        let alice = person("alice");
        let arn = "arn:aws:iam::123456789012:role/r";
        let role = |f: &dyn Fn(&mut AssumeRoleRequest)| {
            let mut r = AssumeRoleRequest::new(arn);
            r.session_name = Some("s-{name}".into());
            f(&mut r);
            MintRequest::Role(r)
        };
        let fed = |name: &str, secs: Option<u64>, policy: Option<Policy>| MintRequest::Federation {
            name: name.into(),
            policy,
            duration: secs.map(Duration::from_secs),
        };
        let big = (0..100).fold(Policy::new(), |p, i| {
            p.allow(&format!("s3:GetObjectNumber{i}"))
        });
        let cases = [
            ("federation duration", fed("ws-{name}", Some(899), None)),
            ("federation duration", fed("ws-{name}", Some(129_601), None)),
            ("federation name", fed("ws/{name}", None, None)),
            (
                "federation name",
                fed(&format!("{}{{name}}", "x".repeat(30)), None, None),
            ),
            ("policy", fed("ws-{name}", None, Some(big.clone()))),
            (
                "role duration",
                role(&|r| r.duration = Some(Duration::from_secs(43_201))),
            ),
            (
                "role ARN",
                role(&|r| r.role_arn = "arn:aws:iam::1234:role/r".into()),
            ),
            (
                "session name",
                role(&|r| r.session_name = Some("s/{name}".into())),
            ),
            ("external id", role(&|r| r.external_id = Some("x".into()))),
            ("role policy", role(&|r| r.policy = Some(big.clone()))),
        ];
        for (what, req) in cases {
            let one = for_person(&req, "alice").validate().unwrap_err();
            let each = check_request(&req)
                .and_then(|()| check_person(&req, &alice))
                .unwrap_err();
            assert_eq!(one.to_string(), each.to_string(), "{what}");
            for e in [&one, &each] {
                assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument, "{what}");
            }
        }
        for good in [fed("ws-{name}", Some(900), None), role(&|_| {})] {
            check_request(&good).unwrap();
            check_person(&good, &alice).unwrap();
            for_person(&good, "alice").validate().unwrap();
        }
        // A batch's names must make each person's session their own.
        for (req, want) in [
            (fed("workshop", None, None), NotPerPerson::FederationName),
            (role(&|r| r.session_name = None), NotPerPerson::SessionName),
            (
                MintRequest::Session {
                    duration: None,
                    mfa: None,
                },
                NotPerPerson::SessionToken,
            ),
        ] {
            let e = check_request(&req).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
            let why = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<NotPerPerson>());
            assert_eq!(why, Some(&want));
        }
    }

    #[test]
    fn a_full_disk_a_quota_or_a_read_only_file_system_stop_the_batch() {
        use rustix::io::Errno;
        for (errno, why) in [
            (Errno::NOSPC, "no space left"),
            (Errno::DQUOT, "over quota"),
            (Errno::ROFS, "read-only file system"),
        ] {
            let e = Error::io(
                "cannot write",
                "d/x".as_ref(),
                std::io::Error::from_raw_os_error(errno.raw_os_error()),
            );
            assert_eq!(out_of_room(&e), Some(why));
            assert_eq!(failure_code(&e), why);
        }
        let other = Error::io(
            "cannot write",
            "d/x".as_ref(),
            std::io::Error::from_raw_os_error(Errno::ACCESS.raw_os_error()),
        );
        assert_eq!(out_of_room(&other), None);
        assert_eq!(failure_code(&other), "error");
    }

    #[test]
    fn only_a_regular_file_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(p("file.age"), "x").unwrap();
        std::fs::create_dir(p("dir.age")).unwrap();
        std::os::unix::fs::symlink(p("file.age"), p("link.age")).unwrap();
        assert!(!existing(&p("none.age")).unwrap());
        assert!(existing(&p("file.age")).unwrap());
        for (n, what) in [("dir.age", "a directory"), ("link.age", "a symlink")] {
            let e = existing(&p(n)).unwrap_err().to_string();
            assert!(e.contains(&format!("is {what}, not a token file")), "{e}");
        }
        assert!(existing(Path::new("/dev/null"))
            .unwrap_err()
            .to_string()
            .contains("is a device"));
    }

    #[test]
    fn a_rerun_marks_the_record_of_a_stale_temp_file_and_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let ledger = Ledger::new(dir.path().join("issued.jsonl"));
        let record = |name: &str, sealed: &[u8]| {
            let creds = crate::Credentials::new(format!("ASIA{name}"), "secret".into(), None, None);
            Record::new(
                &Token::new(crate::Kind::Static, creds),
                vec![],
                Some(&out.join(format!("{name}.age"))),
                None,
            )
            .unwrap()
            .with_name(name)
            .with_sealed(sealed)
        };
        // alice's file arrived (and a copy of it lingers), bob's did not
        std::fs::write(out.join("alice.age"), b"alice").unwrap();
        std::fs::write(out.join(".handoff-a.tmp"), b"alice").unwrap();
        std::fs::write(out.join(".handoff-b.tmp"), b"bob").unwrap();
        std::fs::write(out.join(".handoff-c.tmp"), b"nobody's").unwrap();
        std::fs::write(out.join("keep.tmp"), b"bob").unwrap();
        ledger
            .append(&[record("alice", b"alice"), record("bob", b"bob")])
            .unwrap();
        assert_eq!(recover(&out, Some(&ledger)).unwrap(), 1);
        let back = ledger.records().unwrap();
        assert!(!back[0].is_undelivered() && back[1].is_undelivered());
        let mut left: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["alice.age", "keep.tmp"]);
        // nothing more to do the second time
        assert_eq!(recover(&out, Some(&ledger)).unwrap(), 0);
    }
}
