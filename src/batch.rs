//! One token per person: mint with STS, seal to that person alone, write
//! `DIR/NAME.age`, for every person of a [roster](crate::roster), a few at a
//! time.
//!
//! Each person gets their own STS call (so their own session, which can be
//! revoked and attributed on its own) and their own file, written
//! atomically with mode 0600. A person whose file exists is skipped unless
//! asked to replace it, so a rerun after failures finishes the job. Every
//! token minted is recorded in the [ledger](crate::ledger) before its file
//! is written. Progress is reported through a callback, from the worker
//! threads; a stop flag (set on Ctrl-C) keeps new mints from starting while
//! those in flight finish.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::aws::{AssumeRoleRequest, CallerIdentity, Sts};
use crate::files::{self, Overwrite};
use crate::ledger::{Ledger, Record};
use crate::policy::Policy;
use crate::roster::{fill, Person};
use crate::seal::Form;
use crate::signing::SigningKey;
use crate::{Error, Result, Token};

/// How each person's token is minted; `{name}` in the names is theirs.
#[derive(Clone, Debug)]
pub enum Mint {
    /// STS GetFederationToken for the federated user `name` (a template).
    Federation {
        /// The federated user name, with `{name}`.
        name: String,
        /// The policy.
        policy: Policy,
        /// How long the tokens last.
        duration: Option<Duration>,
    },
    /// STS AssumeRole, with `session_name` a template.
    Role(AssumeRoleRequest),
}

impl Mint {
    /// The federated user name or role session name for `person`.
    pub fn session_name(&self, person: &str) -> Option<String> {
        match self {
            Mint::Federation { name, .. } => Some(fill(name, person)),
            Mint::Role(r) => r.session_name.as_deref().map(|s| fill(s, person)),
        }
    }

    /// Checks the name `person` would mint under as STS would (federated
    /// user or role session name), for [`crate::roster::read`].
    pub fn check_person(&self, person: &Person) -> Result<()> {
        match (self, self.session_name(&person.name)) {
            (Mint::Federation { .. }, Some(n)) => crate::aws::check_federation_name(&n),
            (Mint::Role(_), Some(n)) => crate::aws::check_session_name(&n),
            _ => Ok(()),
        }
    }

    /// Mints `person`'s token.
    pub fn mint(&self, sts: &Sts, person: &str) -> Result<Token> {
        match self {
            Mint::Federation {
                name,
                policy,
                duration,
            } => sts.get_federation_token(&fill(name, person), Some(policy), *duration),
            Mint::Role(r) => {
                let mut req = r.clone();
                req.session_name = r.session_name.as_deref().map(|s| fill(s, person));
                sts.assume_role(&req)
            }
        }
    }
}

/// Everything about a batch but the people.
pub struct Batch<'a> {
    /// How tokens are minted.
    pub mint: Mint,
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
pub enum Event<'a> {
    /// Minting for this person has started.
    Started(&'a Person),
    /// This person is done: made, skipped, or failed.
    Finished(&'a Person, &'a Outcome),
}

/// Every person's outcome, in roster order.
#[derive(Debug)]
pub struct Report {
    /// The people and what happened for each.
    pub results: Vec<(Person, Outcome)>,
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
        if self.not_started() > 0 {
            summary.push_str(&format!(
                "; stopped, {} not started (rerun to finish)",
                self.not_started()
            ));
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
    match e {
        Error::Aws { code, .. } => code.clone(),
        Error::Transport { .. } => "network".into(),
        Error::Usage(_) => "usage".into(),
        _ => "error".into(),
    }
}

/// Runs the batch for `people` with `sts`. `stop` is checked before each
/// person starts; `on_event` is called from the worker threads.
///
/// ```no_run
/// use handoff::aws::{Service, Settings, Sts};
/// use handoff::batch::{self, Batch, Event, Mint, Outcome};
/// use handoff::files::Overwrite;
/// use handoff::{ledger::Ledger, roster, Form, Policy};
/// use std::sync::atomic::AtomicBool;
///
/// let people = roster::read("roster.txt".as_ref(), &|_| Ok(()))?;
/// let sts = Sts::new(Settings::default().resolve(Service::Sts)?)?;
/// let job = Batch {
///     mint: Mint::Federation { name: "ws-{name}".into(), policy: Policy::new().allow("DescribeImages"), duration: None },
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
    files::create_private_dir(&batch.dir)?;
    let next = AtomicUsize::new(0);
    let outcomes: Vec<Mutex<Outcome>> = people
        .iter()
        .map(|_| Mutex::new(Outcome::NotStarted))
        .collect();
    let jobs = batch.jobs.clamp(1, people.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(person) = people.get(i) else { break };
                on_event(Event::Started(person));
                let outcome = one(sts, person, batch);
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
    Ok(Report { results })
}

/// One person: skip, or mint, record, seal and write.
fn one(sts: &Sts, person: &Person, batch: &Batch<'_>) -> Outcome {
    let path = batch.dir.join(format!("{}.age", person.name));
    if batch.overwrite == Overwrite::Refuse && std::fs::symlink_metadata(&path).is_ok() {
        return Outcome::Skipped(path);
    }
    match make(sts, person, batch, &path) {
        Ok(()) => Outcome::Made(path),
        Err(e) => Outcome::Failed(e),
    }
}

fn make(sts: &Sts, person: &Person, batch: &Batch<'_>, path: &std::path::Path) -> Result<()> {
    let recipients = person.recipients()?;
    let token = batch.mint.mint(sts, &person.name)?;
    let label = batch.label.as_deref().map(|l| fill(l, &person.name));
    let token = crate::issue::prepare(token, label, batch.region.as_deref());
    let sealed = crate::issue::seal_token(&token, &recipients, batch.form, batch.signing_key)?;
    // Recorded before the file is written: every token minted is in the
    // ledger, even one whose file could not be written.
    if let Some(ledger) = &batch.ledger {
        let by = batch
            .minted_by
            .as_ref()
            .map(|c| (c.arn.as_str(), c.user_id.as_str()));
        let record =
            Record::new(&token, recipients.names(), Some(path), by)?.with_name(&person.name);
        ledger.append(&[record])?;
    }
    files::write_private(path, &sealed, batch.overwrite)
}

#[cfg(test)]
mod tests {
    use super::*;

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
                (person("carol"), Outcome::Failed(Error::Usage("bad".into()))),
                (person("dave"), Outcome::NotStarted),
            ],
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
        let mint = Mint::Federation {
            name: "ws-{name}".into(),
            policy: Policy::new(),
            duration: None,
        };
        assert!(mint.check_person(&person("alice")).is_ok());
        assert!(mint.check_person(&person(&"x".repeat(40))).is_err());
    }
}
