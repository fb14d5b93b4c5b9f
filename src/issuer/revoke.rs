//! Revocation: making the sessions of handed-off tokens stop working before
//! they expire.
//!
//! STS tokens cannot be deleted, but IAM can make them useless: an explicit
//! deny in the policy of the IAM user that minted a federation token (or of
//! the role a session assumed), on the session's `aws:userid`, stops exactly
//! that session. The deny also carries `DateLessThan aws:TokenIssueTime` at
//! the revocation time (the cut-off), so a new handoff to the same person
//! afterwards works; long-term keys carry no `aws:TokenIssueTime` and are
//! never denied.
//!
//! Everything handoff revokes on one user or role lives in one inline
//! policy, [`POLICY_NAME`], one statement per cut-off, each with a `Sid` of
//! [`SID_PREFIX`] and its time:
//!
//! ```json
//! {"Version":"2012-10-17","Statement":[{"Sid":"HandoffRevoked20261202T150000Z",
//!   "Effect":"Deny","Action":"*","Resource":"*",
//!   "Condition":{"StringEquals":{"aws:userid":["123456789012:ws-alice"]},
//!                "DateLessThan":{"aws:TokenIssueTime":"2026-12-02T15:00:00Z"}}}]}
//! ```
//!
//! The rules that make "revoked" mean revoked:
//!
//! - Only statements handoff provably wrote (that `Sid` and exactly that
//!   shape) are ever merged or pruned; every other statement is kept exactly
//!   as it is, however similar. Policies other than [`POLICY_NAME`] (and
//!   handoff's managed fallback) are never written.
//! - A cut-off only ever moves later, and only for a session being revoked
//!   now; other sessions keep theirs (moving one later would deny a token
//!   reissued to that session since, which no local ledger can rule out).
//!   Entries are pruned by time alone, once the longest token they can deny
//!   has ended (36 h after the cut-off on a user, 12 h on a role).
//! - The cut-off is AWS's time: the later of the local clock and the `Date`
//!   of the IAM answer just received, rounded up to the next second.
//! - One machine: a lock per IAM principal (beside the ledger) is held across
//!   the whole read, plan, write and read-back. A team ledger (a DynamoDB
//!   table) holds a lease item per IAM principal instead, which serialises
//!   revokes across machines ([`crate::issuer::lease`], docs/TEAM.md). Besides, IAM
//!   has no conditional write: after writing, the document is read back, and every
//!   session this run revoked must be there with a cut-off at or after this
//!   run's; if not, it is merged again and written again, [`MAX_ROUNDS`]
//!   times at most, then the run fails naming what is NOT revoked. The ledger
//!   records a revocation only once IAM has been read back holding it.
//! - Whether a session is already revoked is read from IAM, not the ledger.
//! - When the principal's inline budget (2,048 characters for a user, 10,240
//!   for a role, its other inline policies included) cannot take the entry,
//!   a customer-managed policy ([`managed_name`], path `/handoff/`, 6,144
//!   characters) attached to the principal carries it instead.
//!
//! A statement costs about 190 characters and each further session in it
//! about 25.

use std::collections::BTreeMap;
#[cfg(feature = "aws")]
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::issuer::ledger::Record;
use crate::{clock, Error, Result};

/// The inline policy handoff writes its denies into.
pub const POLICY_NAME: &str = "handoff-revoked";

/// Every statement handoff writes has a `Sid` starting with this, followed
/// by its cut-off (`HandoffRevoked20261202T150000Z`).
pub const SID_PREFIX: &str = "HandoffRevoked";

/// The path of handoff's customer-managed fallback policies.
pub const MANAGED_PATH: &str = "/handoff/";

/// IAM's limit on all of a user's inline policies together, in characters
/// not counting whitespace.
pub const USER_INLINE_LIMIT: usize = 2048;
/// IAM's limit on all of a role's inline policies together.
pub const ROLE_INLINE_LIMIT: usize = 10_240;
/// IAM's limit on one customer-managed policy (a version's document).
pub const MANAGED_LIMIT: usize = 6144;
/// IAM keeps at most this many versions of a managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

/// The longest a federation or session token lives (36 hours): a deny on a
/// user is useless this long after its time.
pub const USER_TOKEN_LIFETIME: Duration = Duration::from_secs(129_600);
/// The longest a role session lives (12 hours).
pub const ROLE_TOKEN_LIFETIME: Duration = Duration::from_secs(43_200);

/// Writes (each followed by a read-back) before a revocation that IAM does
/// not hold is reported as failed.
pub const MAX_ROUNDS: u32 = 4;

/// A local clock further than this from AWS's is warned about.
pub const SKEW_WARNING: Duration = Duration::from_secs(30);

/// One revoked session: requests by `userid` with credentials issued before
/// `before` are denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The session's `aws:userid`.
    pub userid: String,
    /// The cut-off.
    pub before: SystemTime,
}

/// A revocation document (`handoff-revoked`, or the managed fallback): its
/// entries, and every statement handoff did not write, kept exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RevocationPolicy {
    /// The revoked sessions, from handoff's own statements.
    pub entries: Vec<Entry>,
    /// Statements that are not provably handoff's, kept verbatim.
    pub foreign: Vec<Value>,
}

/// The `Sid` of handoff's statement for a cut-off.
pub fn sid_for(before: SystemTime) -> String {
    let t = clock::format_rfc3339(before);
    let digits: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{SID_PREFIX}{digits}")
}

/// Rounds up to a whole second: IAM's dates are whole seconds, and a
/// cut-off must never be earlier than the time it stands for.
fn whole_seconds_up(t: SystemTime) -> SystemTime {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

impl RevocationPolicy {
    /// Reads a revocation document. Statements handoff did not provably
    /// write are kept as they are.
    pub fn parse(document: &str) -> Result<RevocationPolicy> {
        let bad = |why: &str| {
            Error::document(format!(
                "the existing {POLICY_NAME} policy cannot be read ({why}); fix or delete it first"
            ))
        };
        let v: Value = serde_json::from_str(document).map_err(|_| bad("not JSON"))?;
        let statements = match v.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(s @ Value::Object(_)) => vec![s.clone()],
            None => Vec::new(),
            Some(_) => return Err(bad("Statement is neither a list nor an object")),
        };
        let mut out = RevocationPolicy::default();
        for s in statements {
            match Self::ours(&s) {
                Some(entries) => out.entries.extend(entries),
                None => out.foreign.push(s),
            }
        }
        Ok(out)
    }

    /// The entries of a statement handoff wrote, or `None`: a `Sid` that
    /// starts with [`SID_PREFIX`] and exactly the shape [`to_json`] writes
    /// (string `Action` and `Resource` of `*`, a list of ids, whole seconds).
    ///
    /// [`to_json`]: RevocationPolicy::to_json
    fn ours(s: &Value) -> Option<Vec<Entry>> {
        let obj = s.as_object()?;
        if obj.len() != 5 || !obj.get("Sid")?.as_str()?.starts_with(SID_PREFIX) {
            return None;
        }
        if obj.get("Effect")? != "Deny" || obj.get("Action")? != "*" || obj.get("Resource")? != "*"
        {
            return None;
        }
        let cond = obj.get("Condition")?.as_object()?;
        if cond.len() != 2 {
            return None;
        }
        let ids = cond.get("StringEquals")?.as_object()?;
        let dates = cond.get("DateLessThan")?.as_object()?;
        if ids.len() != 1 || dates.len() != 1 {
            return None;
        }
        let text = dates.get("aws:TokenIssueTime")?.as_str()?;
        let before = clock::parse_rfc3339(text)?;
        if clock::format_rfc3339(before) != text {
            return None;
        }
        let userids: Vec<String> = ids
            .get("aws:userid")?
            .as_array()?
            .iter()
            .map(|u| u.as_str().map(str::to_string))
            .collect::<Option<_>>()?;
        if userids.is_empty() {
            return None;
        }
        Some(
            userids
                .into_iter()
                .map(|userid| Entry { userid, before })
                .collect(),
        )
    }

    /// The latest cut-off the document holds for `userid` in handoff's own
    /// statements.
    pub fn cut_off(&self, userid: &str) -> Option<SystemTime> {
        self.entries
            .iter()
            .filter(|e| e.userid == userid)
            .map(|e| e.before)
            .max()
    }

    /// The document: compact JSON, the foreign statements as they were,
    /// then one statement of handoff's per cut-off (oldest first), session
    /// ids in order.
    pub fn to_json(&self) -> String {
        let mut by_time: BTreeMap<SystemTime, Vec<&str>> = BTreeMap::new();
        for e in &self.entries {
            let ids = by_time.entry(whole_seconds_up(e.before)).or_default();
            if !ids.contains(&e.userid.as_str()) {
                ids.push(&e.userid);
            }
        }
        let taken: Vec<&str> = self
            .foreign
            .iter()
            .filter_map(|s| s.get("Sid").and_then(Value::as_str))
            .collect();
        let mut statements = self.foreign.clone();
        for (before, mut ids) in by_time {
            ids.sort_unstable();
            // Sids are unique in a policy: one a foreign statement already
            // has gets a letter (still alphanumeric, still handoff's prefix).
            let mut sid = sid_for(before);
            while taken.contains(&sid.as_str()) {
                sid.push('X');
            }
            statements.push(json!({
                "Sid": sid,
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:userid": ids},
                    "DateLessThan": {"aws:TokenIssueTime": clock::format_rfc3339(before)},
                },
            }));
        }
        // serde_json keeps insertion order only with preserve_order; write
        // the top level by hand so Version comes first, as AWS's own do.
        // (A statement's keys come out sorted: Action, Condition, Effect,
        // Resource, Sid.)
        let body = serde_json::to_string(&statements).unwrap_or_else(|_| "[]".into());
        format!("{{\"Version\":\"2012-10-17\",\"Statement\":{body}}}")
    }
}

/// What a revocation comes to in one document.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The document to write (or that was written).
    pub document: String,
    /// Its size as IAM counts it (no whitespace).
    pub size: usize,
    /// The cut-off.
    pub at: SystemTime,
    /// Session ids whose entries were pruned (their cut-off is a whole
    /// token lifetime ago).
    pub pruned: Vec<String>,
}

/// Characters IAM counts: everything but whitespace.
pub fn iam_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// Plans the revocation of `userids` with cut-off `at` (AWS's time, see
/// [`crate::aws::Iam::aws_now`]), merged into `existing` (the document as
/// IAM holds it now, if any). A session that already has a cut-off at or
/// after `at` keeps it; one with an earlier cut-off gets `at` (a cut-off
/// never moves earlier); every other entry keeps its own. Entries whose
/// cut-off is `lifetime` ([`USER_TOKEN_LIFETIME`] or
/// [`ROLE_TOKEN_LIFETIME`]) or more before `at` are pruned: every token
/// they could deny has expired. Foreign statements are kept exactly.
pub fn plan(
    existing: Option<&str>,
    userids: &[String],
    at: SystemTime,
    lifetime: Duration,
) -> Result<Plan> {
    let at = whole_seconds_up(at);
    let mut policy = match existing {
        Some(d) => RevocationPolicy::parse(d)?,
        None => RevocationPolicy::default(),
    };
    let mut pruned = Vec::new();
    policy.entries.retain(|e| {
        let keep = e.before + lifetime > at || userids.contains(&e.userid);
        if !keep && !pruned.contains(&e.userid) {
            pruned.push(e.userid.clone());
        }
        keep
    });
    for u in userids {
        if policy.cut_off(u).is_some_and(|b| b >= at) {
            continue;
        }
        policy.entries.retain(|e| &e.userid != u);
        policy.entries.push(Entry {
            userid: u.clone(),
            before: at,
        });
    }
    let document = policy.to_json();
    let size = iam_size(&document);
    Ok(Plan {
        document,
        size,
        at,
        pruned,
    })
}

/// The field through which a selector matched a record.
fn matched_fields(r: &Record, selector: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if r.token_id == selector || (selector.len() >= 8 && r.token_id.starts_with(selector)) {
        out.push("id");
    }
    if r.access_key_id == selector {
        out.push("key");
    }
    if r.name.as_deref() == Some(selector) {
        out.push("name");
    }
    if r.session_name() == Some(selector) || r.userid.as_deref() == Some(selector) {
        out.push("session");
    }
    out
}

/// The records `selector` names: a token id (or 8 or more of its first
/// digits), an access key id, a roster name, or a session name /
/// `aws:userid`. `id:`, `key:`, `name:` and `session:` select through that
/// field alone. A bare selector that names different records through
/// different fields (the person `ws-bob`, and bob whose session is `ws-bob`)
/// is ambiguous: an [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument)
/// whose [`related`](Error::related) list holds each candidate with the
/// field it matched.
pub fn select<'r>(records: &'r [Record], selector: &str) -> Result<Vec<&'r Record>> {
    let qualified = ["id", "key", "name", "session"].into_iter().find_map(|q| {
        selector
            .strip_prefix(&format!("{q}:"))
            .map(|rest| (q, rest))
    });
    if let Some((field, value)) = qualified {
        return Ok(records
            .iter()
            .filter(|r| matched_fields(r, value).contains(&field))
            .collect());
    }
    let hits: Vec<(&Record, Vec<&'static str>)> = records
        .iter()
        .map(|r| (r, matched_fields(r, selector)))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    // One field that every hit matched through: not ambiguous.
    let common = ["id", "key", "name", "session"]
        .into_iter()
        .any(|f| hits.iter().all(|(_, fs)| fs.contains(&f)));
    if !hits.is_empty() && !common {
        let mut candidates = Vec::new();
        for (r, fields) in &hits {
            candidates.push(Error::usage(format!(
                "  {} ({}{}) matched by {}",
                r.token_id.chars().take(12).collect::<String>(),
                r.name
                    .as_deref()
                    .map(|n| format!("{n}, "))
                    .unwrap_or_default(),
                r.session_name().or(r.userid.as_deref()).unwrap_or(&r.kind),
                fields.join(" and ")
            )));
        }
        return Err(Error::usage(format!(
            "{selector:?} names different handoffs through different fields; say which with name:, session:, id: or key:"
        ))
        .with_related(candidates));
    }
    Ok(hits.into_iter().map(|(r, _)| r).collect())
}

/// Who minted a record: `None` for root, an error when unknown (the record
/// lacks `minted_by`: [`ErrorKind::Document`](crate::ErrorKind::Document)).
#[cfg(feature = "aws")]
fn minting_user(r: &Record) -> Result<Option<String>> {
    let arn = r.minted_by.as_deref().ok_or_else(|| {
        Error::document(format!("the ledger does not say who minted {}", r.token_id))
    })?;
    if arn.ends_with(":root") {
        return Ok(None);
    }
    match arn.split_once(":user/") {
        Some((_, path_and_name)) => Ok(path_and_name.rsplit('/').next().map(str::to_string)),
        None => Err(Error::other(format!(
            "{} was minted by {arn}, not an IAM user; IAM can only restrict what users and roles mint",
            r.token_id
        ))),
    }
}

/// The role of an assumed-role ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
#[cfg(feature = "aws")]
fn role_of(arn: &str) -> Option<String> {
    let rest = arn.split_once(":assumed-role/")?.1;
    let (role, _session) = rest.rsplit_once('/')?;
    Some(role.rsplit('/').next().unwrap_or(role).to_string())
}

/// One session to revoke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its `aws:userid`.
    pub userid: String,
    /// When the newest of its selected tokens was issued, when known: a
    /// cut-off after it means IAM already holds the revocation.
    pub issued: Option<SystemTime>,
}

/// What to revoke on one user or role.
#[cfg(feature = "aws")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Where the deny goes.
    pub principal: crate::aws::Principal,
    /// The sessions.
    pub sessions: Vec<Session>,
}

#[cfg(feature = "aws")]
impl Target {
    /// The sessions' `aws:userid`s.
    pub fn userids(&self) -> Vec<String> {
        self.sessions.iter().map(|s| s.userid.clone()).collect()
    }
}

/// The targets for the ledger records `selector` names ([`select`]),
/// revoked in the ledger or not: whether IAM holds a revocation is read
/// from IAM by [`revoke`], so a revocation whose write was lost can be
/// made again by name. Session tokens need `all_sessions`: their
/// `aws:userid` is their IAM user's own, so only every session token of
/// that user can be revoked. Tokens minted with root credentials cannot be
/// restricted and are refused.
///
/// Errors: a selector that names nothing is [`ErrorKind::Other`]; an
/// ambiguous one is [`ErrorKind::InvalidArgument`] with the candidates in
/// [`related`](Error::related) ([`select`]); a session token without
/// `all_sessions` is [`ErrorKind::InvalidArgument`] with none; a federation
/// or session token whose record does not say who minted it is
/// [`ErrorKind::Document`].
///
/// [`ErrorKind::Other`]: crate::ErrorKind::Other
/// [`ErrorKind::InvalidArgument`]: crate::ErrorKind::InvalidArgument
/// [`ErrorKind::Document`]: crate::ErrorKind::Document
#[cfg(feature = "aws")]
pub fn targets(records: &[Record], selector: &str, all_sessions: bool) -> Result<Vec<Target>> {
    use crate::aws::Principal;
    let chosen = select(records, selector)?;
    if chosen.is_empty() {
        return Err(Error::other(format!(
            "nothing in the ledger is {selector:?}"
        )));
    }
    let mut out: Vec<Target> = Vec::new();
    for r in chosen {
        let userid = r.userid.clone().ok_or_else(|| {
            Error::other(format!("the ledger has no aws:userid for {}", r.token_id))
        })?;
        let principal = match r.kind.as_str() {
            "federation" | "session" => {
                if r.kind == "session" && !all_sessions {
                    return Err(Error::usage(format!(
                        "{} is a session token: its aws:userid is its IAM user's own, so only every session token of that user issued before now can be revoked",
                        r.token_id
                    )));
                }
                match minting_user(r)? {
                    Some(u) => Principal::User(u),
                    None => {
                        return Err(Error::other(format!(
                            "{} was minted with root credentials, which IAM cannot restrict; it lasts until it expires ({})",
                            r.token_id,
                            r.expires_at.as_deref().unwrap_or("unknown")
                        )))
                    }
                }
            }
            "role" => Principal::Role(
                r.arn
                    .as_deref()
                    .and_then(role_of)
                    .ok_or_else(|| Error::other(format!("the ledger has no role for {}", r.token_id)))?,
            ),
            other => {
                return Err(Error::other(format!(
                    "{} holds {other} credentials handoff did not mint; revoke those where they came from",
                    r.token_id
                )))
            }
        };
        let issued = r.issued();
        let t = match out.iter_mut().position(|t| t.principal == principal) {
            Some(i) => &mut out[i],
            None => {
                out.push(Target {
                    principal,
                    sessions: Vec::new(),
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        match t.sessions.iter_mut().find(|s| s.userid == userid) {
            // The newest token of the session decides whether IAM holds it.
            Some(s) => {
                s.issued = match (s.issued, issued) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                }
            }
            None => t.sessions.push(Session { userid, issued }),
        }
    }
    Ok(out)
}

/// Where a revocation went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The inline policy [`POLICY_NAME`].
    Inline,
    /// The customer-managed policy of this name ([`managed_name`]),
    /// attached to the principal.
    Managed(String),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Inline => write!(f, "inline policy {POLICY_NAME}"),
            Place::Managed(n) => write!(f, "managed policy {MANAGED_PATH}{n}"),
        }
    }
}

/// The name of handoff's customer-managed fallback policy for a principal
/// (`handoff-revoked-user-NAME`, `handoff-revoked-role-NAME`; managed
/// policy names are unique in an account).
#[cfg(feature = "aws")]
pub fn managed_name(who: &crate::aws::Principal) -> String {
    format!("{POLICY_NAME}-{}-{}", who.kind(), who.name())
}

/// What [`revoke`] did (or, in a dry run, would do) on one principal.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The sessions this run revoked, each held by IAM, read back (in a dry
    /// run: would revoke).
    pub revoked: Vec<String>,
    /// Sessions IAM already held with a cut-off after their newest token,
    /// with that cut-off: nothing written for them.
    pub already: Vec<(String, SystemTime)>,
    /// Where the deny went (would go); `None` when nothing was written.
    pub place: Option<Place>,
    /// The document written (would be written) there.
    pub plan: Option<Plan>,
    /// The limit that applies there, and what else counts against it (the
    /// principal's other inline policies, for the inline policy).
    pub limit: usize,
    /// The other inline policies' size, counted against an inline limit.
    pub others: usize,
    /// The cut-off: AWS's time, rounded up.
    pub at: SystemTime,
    /// Writes whose read-back did not show this run's sessions (another
    /// writer's document replaced ours) before one did.
    pub lost_writes: u32,
}

/// The lock file for revocations on `who`, in `dir` (the ledger's folder):
/// `revoke-user-NAME.lock` / `revoke-role-NAME.lock`, with any character IAM
/// names do not use written as `%XX`.
#[cfg(feature = "aws")]
pub fn lock_path(dir: &Path, who: &crate::aws::Principal) -> std::path::PathBuf {
    let mut name = format!("revoke-{}-", who.kind());
    for b in who.name().bytes() {
        if b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b) {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    name.push_str(".lock");
    dir.join(name)
}

/// How long a revoke waits for another revoke of the same principal on this
/// machine: each holds the lock for a few IAM round trips.
pub const LOCK_WAIT: Duration = Duration::from_secs(300);

/// Takes the lock for revocations on `who` ([`lock_path`]); it lasts until
/// the file is dropped.
#[cfg(feature = "aws")]
pub fn lock(dir: &Path, who: &crate::aws::Principal) -> Result<std::fs::File> {
    crate::files::lock_file(
        &lock_path(dir, who),
        LOCK_WAIT,
        &format!("another handoff revoke on {who}"),
    )
}

/// A local clock further than this from AWS's is warned about when a
/// revocation lease is held: leases assume the clocks of the issuers
/// sharing a table agree within [`crate::issuer::lease::MIN_LEFT`].
pub const LEASE_SKEW_WARNING: Duration = Duration::from_secs(2);

/// The warning for a local clock `skew` seconds off AWS's, when it is more
/// than [`LEASE_SKEW_WARNING`] and a lease is held.
#[cfg(feature = "aws")]
pub fn lease_skew_warning(skew: Option<i64>) -> Option<String> {
    let s = skew?;
    (s.unsigned_abs() > LEASE_SKEW_WARNING.as_secs()).then(|| {
        format!(
            "warning: this machine's clock is {} s {} AWS's; revocation leases on a team ledger assume the issuers' clocks agree within {} s (docs/TEAM.md)",
            s.unsigned_abs(),
            if s > 0 { "behind" } else { "ahead of" },
            crate::issuer::lease::MIN_LEFT.as_secs()
        )
    })
}

/// The warning for a local clock `skew` seconds behind AWS's (negative:
/// ahead), when it is more than [`SKEW_WARNING`].
pub fn skew_warning(skew: Option<i64>) -> Option<String> {
    let s = skew?;
    (s.unsigned_abs() > SKEW_WARNING.as_secs()).then(|| {
        format!(
            "warning: this machine's clock is {} s {} AWS's; the cut-off is AWS's time",
            s.unsigned_abs(),
            if s > 0 { "behind" } else { "ahead of" }
        )
    })
}

/// How a revoke keeps other revokes of the same IAM principal out while it
/// reads, plans, writes and reads back.
#[cfg(feature = "aws")]
#[derive(Debug)]
pub enum Serial<'a> {
    /// Nothing (what a dry run does anyway).
    Nothing,
    /// The lock file for the principal ([`lock`]) in this folder (beside a
    /// file ledger): revokes on this machine.
    LockFile(&'a Path),
    /// A lease item in the team ledger's table ([`crate::issuer::lease`]): revokes
    /// on every machine that shares the table; with `lock_dir`, the lock
    /// file there first, so that the revokes of one machine queue there
    /// rather than poll the table.
    Lease {
        /// Where the lock file goes, if any.
        lock_dir: Option<&'a Path>,
        /// The team ledger.
        table: &'a std::sync::Arc<crate::issuer::ledger::table::TableLedger>,
        /// The ARN of the revoking credentials, named in the lease.
        holder: &'a str,
        /// How long to wait for another revoke's lease, in all.
        wait: Duration,
    },
}

/// What is held while a revoke works.
#[cfg(feature = "aws")]
enum Held {
    Nothing,
    LockFile(#[allow(dead_code)] std::fs::File),
    Lease(
        crate::issuer::lease::Lease,
        #[allow(dead_code)] Option<std::fs::File>,
    ),
}

#[cfg(feature = "aws")]
impl Held {
    /// Before every IAM write: a lease lost or not renewed stops the work.
    fn check(&self) -> Result<()> {
        match self {
            Held::Lease(l, _) => l.check(),
            _ => Ok(()),
        }
    }
}

/// Revokes `target`'s sessions, holding what `serial` says (unless a dry
/// run) across everything below: a lease that cannot be had within its
/// wait is an error before anything is read from or written to IAM, and
/// one lost meanwhile stops the work before the next IAM write.
///
/// Reads what IAM holds (the inline [`POLICY_NAME`] and, when attached, the
/// managed fallback); sessions it already holds with a cut-off after their
/// newest token are left alone. The rest are planned into the inline policy
/// when the principal's inline budget takes them, else into the managed
/// fallback, else refused with what would help. Unless `dry_run`, the
/// document is written and read back until IAM holds every session this run
/// revokes ([`MAX_ROUNDS`] writes at most; then an error that names the
/// sessions NOT revoked, exit 1). Warnings (a clock far from AWS's, the
/// fallback taken, a list it may not read, a lease waited for or taken
/// over) go to `warn` as they arise.
#[cfg(feature = "aws")]
pub fn revoke(
    iam: &crate::aws::Iam,
    target: &Target,
    dry_run: bool,
    serial: &Serial<'_>,
    warn: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    let who = &target.principal;
    let held = match serial {
        _ if dry_run => Held::Nothing,
        Serial::Nothing => Held::Nothing,
        Serial::LockFile(d) => Held::LockFile(lock(d, who)?),
        Serial::Lease {
            lock_dir,
            table,
            holder,
            wait,
        } => {
            let local = match lock_dir {
                Some(d) => Some(lock(d, who)?),
                None => None,
            };
            let lease = crate::issuer::lease::Lease::acquire(table, who, holder, *wait, warn)?;
            Held::Lease(lease, local)
        }
    };
    let out = revoke_held(iam, target, dry_run, &held, warn);
    if let Held::Lease(l, local) = held {
        let released = l.release();
        drop(local);
        match released {
            Ok(None) => {}
            Ok(Some(w)) => warn(&w),
            // The work is done either way; the lease expires by itself.
            Err(e) => warn(&format!("warning: {e}")),
        }
    }
    out
}

#[cfg(feature = "aws")]
fn revoke_held(
    iam: &crate::aws::Iam,
    target: &Target,
    dry_run: bool,
    held: &Held,
    warn: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    use crate::aws::Principal;
    let who = &target.principal;
    let inline = iam.get_policy(who, POLICY_NAME)?;
    let (at, skew) = iam.aws_now();
    if let Some(w) = skew_warning(skew) {
        warn(&w);
    } else if let (Held::Lease(..), Some(w)) = (held, lease_skew_warning(skew)) {
        warn(&w);
    }
    let name = managed_name(who);
    // Without iam:ListAttached*Policies (a revoker set up for handoff
    // before the managed fallback existed) the inline policy still works:
    // say what is not seen, and go on.
    let attached = match iam.attached_policies(who) {
        Err(e) if e.is_aws("AccessDenied") => {
            warn(&format!(
                "warning: cannot see the managed policies attached to {who} (needs iam:ListAttached{}Policies; docs/PERMISSIONS.md): revocations in handoff's managed fallback are not read",
                if matches!(who, Principal::User(_)) { "User" } else { "Role" }
            ));
            Vec::new()
        }
        r => r?,
    };
    let mut managed_arn = attached
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| a);
    let managed = match &managed_arn {
        Some(arn) => iam.managed_document(arn)?,
        None => None,
    };
    let held_inline = match &inline {
        Some(d) => RevocationPolicy::parse(d)?,
        None => RevocationPolicy::default(),
    };
    let held_managed = match &managed {
        Some(d) => RevocationPolicy::parse(d)?,
        None => RevocationPolicy::default(),
    };
    let mut already = Vec::new();
    let mut todo = Vec::new();
    for s in &target.sessions {
        let held = held_inline
            .cut_off(&s.userid)
            .max(held_managed.cut_off(&s.userid));
        match (held, s.issued) {
            (Some(b), Some(issued)) if b > issued => already.push((s.userid.clone(), b)),
            _ => todo.push(s.userid.clone()),
        }
    }
    let (lifetime, limit) = match who {
        Principal::User(_) => (USER_TOKEN_LIFETIME, USER_INLINE_LIMIT),
        Principal::Role(_) => (ROLE_TOKEN_LIFETIME, ROLE_INLINE_LIMIT),
    };
    let mut out = Outcome {
        revoked: Vec::new(),
        already,
        place: None,
        plan: None,
        limit,
        others: 0,
        at,
        lost_writes: 0,
    };
    if todo.is_empty() {
        return Ok(out);
    }
    let mut others = 0;
    let mut other_names = Vec::new();
    for n in iam.list_policies(who)? {
        if n != POLICY_NAME {
            if let Some(doc) = iam.get_policy(who, &n)? {
                others += iam_size(&doc);
                other_names.push(n);
            }
        }
    }
    out.others = others;
    let inline_plan = plan(inline.as_deref(), &todo, at, lifetime)?;
    let (place, first) = if inline_plan.size + others <= limit {
        (Place::Inline, inline_plan)
    } else {
        let p = plan(managed.as_deref(), &todo, at, lifetime)?;
        if p.size > MANAGED_LIMIT {
            return Err(full(
                who,
                &inline_plan,
                others,
                &other_names,
                limit,
                &p,
                lifetime,
            ));
        }
        out.limit = MANAGED_LIMIT;
        warn(&format!(
            "the inline budget of {who} is full ({} of {limit} characters with {POLICY_NAME}); the deny goes into the managed policy {MANAGED_PATH}{name}",
            inline_plan.size + others
        ));
        (Place::Managed(name.clone()), p)
    };
    out.place = Some(place.clone());
    if dry_run {
        out.revoked = todo;
        out.plan = Some(first);
        return Ok(out);
    }
    let mut doc = first;
    let mut round = 0;
    loop {
        round += 1;
        held.check()?;
        let back = match &place {
            Place::Inline => {
                iam.put_policy(who, POLICY_NAME, &doc.document)?;
                iam.get_policy(who, POLICY_NAME)?
            }
            Place::Managed(n) => {
                let arn = write_managed(iam, who, n, &mut managed_arn, &doc, &todo, lifetime)?;
                iam.managed_document(&arn)?
            }
        };
        let held = match &back {
            Some(d) => RevocationPolicy::parse(d)?,
            None => RevocationPolicy::default(),
        };
        let missing: Vec<String> = todo
            .iter()
            .filter(|u| held.cut_off(u).is_none_or(|b| b < doc.at))
            .cloned()
            .collect();
        if missing.is_empty() {
            out.revoked = todo;
            out.plan = Some(doc);
            return Ok(out);
        }
        out.lost_writes += 1;
        if round == MAX_ROUNDS {
            return Err(Error::other(format!(
                "NOT revoked: {} on {who}: after {MAX_ROUNDS} writes, IAM read back still does not hold {} (another writer keeps replacing the {place}); nothing recorded for {}\nrun the same revoke again; if it keeps failing, find who else writes that policy",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
                if missing.len() == 1 { "it" } else { "them" },
            )));
        }
        // Merge again into what IAM holds now, and write that.
        doc = plan(back.as_deref(), &todo, at, lifetime)?;
        let room = match &place {
            Place::Inline => limit.saturating_sub(others),
            Place::Managed(_) => MANAGED_LIMIT,
        };
        if doc.size > room {
            return Err(Error::other(format!(
                "NOT revoked: {} on {who}: another writer filled the {place} meanwhile ({} characters would be more than {room}); run the same revoke again",
                missing.join(", "),
                doc.size
            )));
        }
    }
}

/// Writes `doc` as the default version of the managed policy `name`,
/// creating and attaching it when needed; returns its ARN.
#[cfg(feature = "aws")]
fn write_managed(
    iam: &crate::aws::Iam,
    who: &crate::aws::Principal,
    name: &str,
    arn: &mut Option<String>,
    doc: &Plan,
    todo: &[String],
    lifetime: Duration,
) -> Result<String> {
    let (a, attached) = match arn.clone() {
        Some(a) => {
            // IAM keeps five versions: make room, oldest first, never the
            // default.
            let versions = iam.policy_versions(&a)?;
            let mut count = versions.len();
            for (id, default) in versions {
                if count < MAX_POLICY_VERSIONS {
                    break;
                }
                if !default {
                    iam.delete_policy_version(&a, &id)?;
                    count -= 1;
                }
            }
            iam.create_policy_version(&a, &doc.document)?;
            (a, true)
        }
        None => match iam.create_policy(name, MANAGED_PATH, &doc.document) {
            Ok(a) => (a, false),
            Err(e) if e.is_aws("EntityAlreadyExists") => {
                // Made earlier but not attached (a run stopped between the
                // two calls): find it, merge into it, write a version.
                let a = iam
                    .local_policies(MANAGED_PATH)?
                    .into_iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, a)| a)
                    .ok_or_else(|| {
                        Error::other(format!(
                            "IAM says the policy {name} exists, but it is not under {MANAGED_PATH}; rename or delete it"
                        ))
                    })?;
                let existing = iam.managed_document(&a)?;
                let merged = plan(existing.as_deref(), todo, doc.at, lifetime)?;
                iam.create_policy_version(&a, &merged.document)?;
                (a, false)
            }
            Err(e) => return Err(e),
        },
    };
    if !attached {
        iam.attach_policy(who, &a)?;
    }
    *arn = Some(a.clone());
    Ok(a)
}

/// The error when neither the inline budget nor the managed policy can take
/// the entry: what each holds, and what would actually help.
#[cfg(feature = "aws")]
fn full(
    who: &crate::aws::Principal,
    inline: &Plan,
    others: usize,
    other_names: &[String],
    limit: usize,
    managed: &Plan,
    lifetime: Duration,
) -> Error {
    let oldest = RevocationPolicy::parse(&managed.document)
        .ok()
        .and_then(|p| p.entries.iter().map(|e| e.before).min())
        .map(|t| clock::format_rfc3339(t + lifetime));
    let mut help = Vec::new();
    if others > 0 {
        help.push(format!(
            "move {who}'s other inline policies ({}: {others} characters) into managed policies",
            other_names.join(", ")
        ));
    }
    if let Some(t) = oldest {
        help.push(format!(
            "wait until {t}, when the oldest revocation here expires"
        ));
    }
    help.push(format!(
        "or stop every token {who} issued before now with one statement without aws:userid (AWS's \"revoke active sessions\"; docs/SECURITY.md shows it)"
    ));
    Error::other(format!(
        "nothing written: the {POLICY_NAME} policy would be {} characters, more than {who}'s inline budget ({limit}, of which other inline policies take {others}), and the managed fallback {} characters, more than IAM's {MANAGED_LIMIT}\nto revoke it: {}",
        inline.size,
        managed.size,
        help.join("; ")
    ))
}

/// Marks the revoked records in the ledger: for each (userid, cut-off),
/// the records of that session issued before the cut-off and not yet
/// marked. Call only once IAM has been read back holding them. Returns how
/// many.
pub fn record(
    ledger: &crate::issuer::ledger::Ledger,
    revoked: &[(String, SystemTime)],
) -> Result<usize> {
    if revoked.is_empty() {
        return Ok(0);
    }
    ledger.update(|records| {
        let mut n = 0;
        for r in records.iter_mut() {
            let Some(u) = r.userid.as_deref() else {
                continue;
            };
            let Some((_, at)) = revoked.iter().find(|(id, _)| id == u) else {
                continue;
            };
            if r.revoked_at.is_none() && r.issued().is_none_or(|t| t < *at) {
                r.revoked_at = Some(clock::format_rfc3339(*at));
                n += 1;
            }
        }
        Ok(n)
    })
}

/// Marks the revoked records in a team ledger, as [`record`] does in a
/// file: for each (userid, cut-off), the records (as read before the
/// revocation, with their revisions) of that session issued before the
/// cut-off and not marked then. Each is a write conditional on the
/// record's revision
/// ([`crate::issuer::ledger::table::TableLedger::mark_revoked_read`]), read again
/// and retried when another writer changed it first, and keeps `by` (the
/// revoking credentials' ARN). Call only once IAM has been read back
/// holding them. Returns how many this call marked.
#[cfg(feature = "aws")]
pub fn record_in_table(
    table: &crate::issuer::ledger::table::TableLedger,
    records: &[(Record, u64)],
    revoked: &[(String, SystemTime)],
    by: Option<&str>,
) -> Result<usize> {
    let mut n = 0;
    for (r, revision) in records {
        let Some(u) = r.userid.as_deref() else {
            continue;
        };
        let Some((_, at)) = revoked.iter().find(|(id, _)| id == u) else {
            continue;
        };
        if r.revoked_at.is_none()
            && r.issued().is_none_or(|t| t < *at)
            && table.mark_revoked_read(r, *revision, *at, by)?
        {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> SystemTime {
        clock::parse_rfc3339(s).unwrap()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// AWS's "Revoking IAM role temporary security credentials"
    /// (AWSRevokeOlderSessions) and "Disabling permissions for temporary
    /// security credentials" (deny on a federated user's / role session's
    /// aws:userid) examples, as the IAM User Guide prints them.
    const AWS_REVOKE_OLDER_SESSIONS: &str = r#"{
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-02T15:00:00Z"}}
        }
    }"#;
    const AWS_DENY_FEDERATED_USER: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:userid": "123456789012:ws-alice"}}
        }]
    }"#;

    #[test]
    fn documents_match_aws_examples_field_by_field() {
        // 14:59:59.3 rounds up to AWS's example time: a cut-off is never
        // earlier than the time it stands for.
        let p = plan(
            None,
            &ids(&["123456789012:ws-alice"]),
            t("2026-12-02T14:59:59.300Z"),
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        assert_eq!(p.at, t("2026-12-02T15:00:00Z"));
        let ours: Value = serde_json::from_str(&p.document).unwrap();
        let older: Value = serde_json::from_str(AWS_REVOKE_OLDER_SESSIONS).unwrap();
        let fed: Value = serde_json::from_str(AWS_DENY_FEDERATED_USER).unwrap();
        assert_eq!(ours["Version"], older["Version"]);
        assert_eq!(ours["Version"], fed["Version"]);
        let s = &ours["Statement"][0];
        assert_eq!(ours["Statement"].as_array().unwrap().len(), 1);
        // Effect, Action and Resource: AWS's, in the string form of the
        // federated-user example (the role example's one-element lists
        // mean the same).
        for k in ["Effect", "Action", "Resource"] {
            assert_eq!(s[k], fed["Statement"][0][k], "{k}");
        }
        assert_eq!(s["Effect"], older["Statement"]["Effect"]);
        for k in ["Action", "Resource"] {
            assert_eq!(older["Statement"][k], json!([s[k].clone()]), "{k}");
        }
        // The date condition: the role example's operator, key and time
        // format (whole seconds, Z).
        assert_eq!(
            s["Condition"]["DateLessThan"],
            older["Statement"]["Condition"]["DateLessThan"]
        );
        // The session condition: the federated-user example's key and
        // value; StringEquals rather than its StringLike, since the ids
        // are exact and must not act as patterns.
        let ours_ids = &s["Condition"]["StringEquals"]["aws:userid"];
        let theirs = &fed["Statement"][0]["Condition"]["StringLike"]["aws:userid"];
        assert_eq!(ours_ids.as_array().unwrap(), &vec![theirs.clone()]);
        assert_eq!(s["Condition"].as_object().unwrap().len(), 2);
        // The one key AWS's examples do not have: the Sid that says the
        // statement is handoff's (IAM allows only letters and digits).
        assert_eq!(s.as_object().unwrap().len(), 5);
        assert_eq!(s["Sid"], "HandoffRevoked20261202T150000Z");
        // And it reads back.
        let back = RevocationPolicy::parse(&p.document).unwrap();
        assert_eq!(back.entries.len(), 1);
        assert!(back.foreign.is_empty());
        // AWS's own documents are not handoff's and are kept as they are.
        for theirs in [AWS_REVOKE_OLDER_SESSIONS, AWS_DENY_FEDERATED_USER] {
            let kept = RevocationPolicy::parse(theirs).unwrap();
            assert!(kept.entries.is_empty());
            assert_eq!(kept.foreign.len(), 1);
        }
    }

    #[test]
    fn statements_handoff_did_not_write_are_kept_exactly() {
        // A security team's statement of handoff's very shape, with its
        // own Sid and a cut-off in 2030; the same shape without a Sid (as
        // handoff 0.x wrote); handoff's Sid on a different shape.
        let admin = json!({"Sid": "SecurityTeamLockout", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:userid": ["1:ws-a", "1:ws-b"]},
                          "DateLessThan": {"aws:TokenIssueTime": "2030-01-01T00:00:00Z"}}});
        let unsigned = json!({"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:userid": ["1:ws-c"]},
                          "DateLessThan": {"aws:TokenIssueTime": "2026-12-01T00:00:00Z"}}});
        let lookalike = json!({"Sid": "HandoffRevokedByHand", "Effect": "Deny", "Action": ["*"], "Resource": "*",
            "Condition": {"StringLike": {"aws:userid": ["1:ws-*"]},
                          "DateLessThan": {"aws:TokenIssueTime": "2026-12-01T00:00:00Z"}}});
        let doc =
            json!({"Version": "2012-10-17", "Statement": [admin, unsigned, lookalike]}).to_string();
        let now = t("2026-12-02T15:00:00Z");
        // Revoking the very sessions they name, and far later (pruning).
        for at in [now, now + USER_TOKEN_LIFETIME * 3] {
            let p = plan(
                Some(&doc),
                &ids(&["1:ws-a", "1:ws-c"]),
                at,
                USER_TOKEN_LIFETIME,
            )
            .unwrap();
            let v: Value = serde_json::from_str(&p.document).unwrap();
            let st = v["Statement"].as_array().unwrap();
            assert_eq!(st.len(), 4, "{}", p.document);
            assert_eq!(st[0], admin);
            assert_eq!(st[1], unsigned);
            assert_eq!(st[2], lookalike);
            assert!(p.pruned.is_empty());
            let back = RevocationPolicy::parse(&p.document).unwrap();
            assert_eq!(
                back.foreign,
                vec![admin.clone(), unsigned.clone(), lookalike.clone()]
            );
            assert_eq!(back.entries.len(), 2);
        }
        // A Sid a foreign statement holds is not reused.
        let taken = json!({"Version": "2012-10-17", "Statement": [{"Sid": sid_for(now), "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}).to_string();
        let p = plan(Some(&taken), &ids(&["1:ws-d"]), now, USER_TOKEN_LIFETIME).unwrap();
        let v: Value = serde_json::from_str(&p.document).unwrap();
        assert_ne!(v["Statement"][0]["Sid"], v["Statement"][1]["Sid"]);
        assert_eq!(
            RevocationPolicy::parse(&p.document).unwrap().entries.len(),
            1
        );
    }

    #[test]
    fn a_cut_off_never_moves_earlier_and_others_keep_theirs() {
        let t0 = t("2026-12-02T15:00:00Z");
        let first = plan(None, &ids(&["1:ws-a"]), t0, USER_TOKEN_LIFETIME).unwrap();
        // Another issuer revoked ws-b with a later cut-off (their clock,
        // or simply later).
        let later = t0 + Duration::from_secs(600);
        let second = plan(
            Some(&first.document),
            &ids(&["1:ws-b"]),
            later,
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        // Now a run whose cut-off is earlier than that revokes ws-b again
        // and ws-c: ws-b keeps the later one; ws-a keeps its own (moving it
        // later would deny a token reissued to ws-a since).
        let t1 = t0 + Duration::from_secs(300);
        let third = plan(
            Some(&second.document),
            &ids(&["1:ws-b", "1:ws-c"]),
            t1,
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        let back = RevocationPolicy::parse(&third.document).unwrap();
        assert_eq!(back.cut_off("1:ws-a"), Some(t0));
        assert_eq!(back.cut_off("1:ws-b"), Some(later));
        assert_eq!(back.cut_off("1:ws-c"), Some(t1));
        // Revoking ws-a again later moves its cut-off later, never earlier.
        let fourth = plan(
            Some(&third.document),
            &ids(&["1:ws-a"]),
            later,
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        let back = RevocationPolicy::parse(&fourth.document).unwrap();
        assert_eq!(back.cut_off("1:ws-a"), Some(later));
        assert_eq!(back.entries.len(), 3);
        let v: Value = serde_json::from_str(&fourth.document).unwrap();
        assert_eq!(v["Statement"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn entries_are_pruned_by_time_alone() {
        let t0 = t("2026-12-02T15:00:00Z");
        let first = plan(None, &ids(&["1:ws-a"]), t0, USER_TOKEN_LIFETIME).unwrap();
        let t1 = t0 + Duration::from_secs(5);
        let second = plan(
            Some(&first.document),
            &ids(&["1:ws-b"]),
            t1,
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        // One second short of 36 h after ws-a's cut-off: both stay.
        let almost = t0 + USER_TOKEN_LIFETIME - Duration::from_secs(1);
        let p = plan(
            Some(&second.document),
            &ids(&["1:ws-c"]),
            almost,
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        assert!(p.pruned.is_empty());
        // At 36 h, ws-a goes; ws-b (five seconds younger) stays.
        let p = plan(
            Some(&p.document),
            &ids(&["1:ws-d"]),
            t0 + USER_TOKEN_LIFETIME,
            USER_TOKEN_LIFETIME,
        )
        .unwrap();
        assert_eq!(p.pruned, ids(&["1:ws-a"]));
        let left: Vec<String> = RevocationPolicy::parse(&p.document)
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.userid)
            .collect();
        assert_eq!(left, ids(&["1:ws-b", "1:ws-c", "1:ws-d"]));
        // A role's sessions last 12 h.
        let p = plan(
            Some(&first.document),
            &ids(&["1:x"]),
            t0 + ROLE_TOKEN_LIFETIME,
            ROLE_TOKEN_LIFETIME,
        )
        .unwrap();
        assert_eq!(p.pruned, ids(&["1:ws-a"]));
    }

    #[test]
    fn one_statement_per_cut_off_and_what_fits() {
        let mut doc: Option<String> = None;
        let start = t("2026-12-02T15:00:00Z");
        let mut fit = 0;
        for i in 0..40 {
            let now = start + Duration::from_secs(60 * i);
            let id = format!("123456789012:workshop-person-{i:02}");
            let p = plan(doc.as_deref(), &[id], now, USER_TOKEN_LIFETIME).unwrap();
            if p.size <= USER_INLINE_LIMIT {
                fit += 1;
            }
            doc = Some(p.document);
        }
        let back = RevocationPolicy::parse(doc.as_deref().unwrap()).unwrap();
        assert_eq!(back.entries.len(), 40);
        let v: Value = serde_json::from_str(doc.as_deref().unwrap()).unwrap();
        assert_eq!(v["Statement"].as_array().unwrap().len(), 40);
        // A user's inline budget holds some eight to ten cut-offs one at a
        // time (by the length of the ids); the managed fallback some thirty.
        assert_eq!(fit, 8);
        // Many sessions at one cut-off share a statement: 70 fit.
        let many: Vec<String> = (0..70).map(|i| format!("123456789012:p-{i:02}")).collect();
        assert!(plan(None, &many, start, USER_TOKEN_LIFETIME).unwrap().size <= USER_INLINE_LIMIT);
    }

    fn record(kind: &str, userid: &str, arn: Option<&str>, by: Option<&str>) -> Record {
        Record {
            token_id: format!("id-{userid}"),
            kind: kind.into(),
            access_key_id: "ASIAEXAMPLE".into(),
            userid: Some(userid.into()),
            arn: arn.map(str::to_string),
            minted_by: by.map(str::to_string),
            name: None,
            recipients: vec![],
            recipients_fingerprint: String::new(),
            label: None,
            policy_sha256: None,
            issued_at: "2026-12-02T15:00:00Z".into(),
            expires_at: Some("2099-01-01T00:00:00Z".into()),
            file: None,
            revoked_at: None,
            revoked_by: None,
            file_sha256: None,
            delivered: None,
        }
    }

    #[test]
    fn a_selector_through_two_fields_is_ambiguous_and_qualifiers_are_exact() {
        // The roster person ws-bob, and bob whose session name is ws-bob.
        let mut person = record("federation", "1:ws-x", None, None);
        person.name = Some("ws-bob".into());
        person.token_id = "aaaaaaaaaaaaaaaa".into();
        let mut bob = record("federation", "1:ws-bob", None, None);
        bob.name = Some("bob".into());
        bob.token_id = "bbbbbbbbbbbbbbbb".into();
        let records = vec![person, bob];
        let e = select(&records, "ws-bob").unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        let each: Vec<String> = e.related().iter().map(ToString::to_string).collect();
        assert_eq!(
            each,
            [
                "  aaaaaaaaaaaa (ws-bob, ws-x) matched by name",
                "  bbbbbbbbbbbb (bob, ws-bob) matched by session"
            ],
            "{e:?}"
        );
        let one = |s: &str| -> Vec<String> {
            select(&records, s)
                .unwrap()
                .iter()
                .map(|r| r.token_id.clone())
                .collect()
        };
        assert_eq!(one("name:ws-bob"), ["aaaaaaaaaaaaaaaa"]);
        assert_eq!(one("session:ws-bob"), ["bbbbbbbbbbbbbbbb"]);
        assert_eq!(one("session:1:ws-bob"), ["bbbbbbbbbbbbbbbb"]);
        assert_eq!(one("id:bbbbbbbb"), ["bbbbbbbbbbbbbbbb"]);
        assert!(one("name:1:ws-bob").is_empty());
        assert_eq!(one("key:ASIAEXAMPLE").len(), 2);
        // One field for all: not ambiguous (every token of one key).
        assert_eq!(one("ASIAEXAMPLE").len(), 2);
        assert_eq!(one("bob"), ["bbbbbbbbbbbbbbbb"]);
        // One record through two fields is one match.
        let mut same = record("federation", "1:carol", None, None);
        same.name = Some("carol".into());
        assert_eq!(
            select(std::slice::from_ref(&same), "carol").unwrap().len(),
            1
        );
    }

    #[cfg(feature = "aws")]
    #[test]
    fn targets_by_kind() {
        use crate::aws::Principal;
        let issuer = Some("arn:aws:iam::123456789012:user/team/issuer");
        let records = vec![
            record("federation", "123456789012:ws-a", None, issuer),
            record("federation", "123456789012:ws-b", None, issuer),
            record(
                "role",
                "AROAEXAMPLE:ws-c",
                Some("arn:aws:sts::123456789012:assumed-role/workshop/ws-c"),
                issuer,
            ),
            record("session", "AIDAEXAMPLE", None, issuer),
            record(
                "federation",
                "123456789012:ws-root",
                None,
                Some("arn:aws:iam::123456789012:root"),
            ),
            record("static", "x", None, None),
        ];
        let t = targets(&records, "ws-a", false).unwrap();
        assert_eq!(
            t,
            vec![Target {
                principal: Principal::User("issuer".into()),
                sessions: vec![Session {
                    userid: "123456789012:ws-a".into(),
                    issued: records[0].issued()
                }]
            }]
        );
        let t = targets(&records, "ws-c", false).unwrap();
        assert_eq!(t[0].principal, Principal::Role("workshop".into()));
        assert_eq!(t[0].userids(), vec!["AROAEXAMPLE:ws-c".to_string()]);
        // Session tokens only with --all-sessions.
        let e = targets(&records, "AIDAEXAMPLE", false).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(e.related().is_empty(), "{e:?}");
        assert!(e.to_string().contains("is a session token"), "{e}");
        let t = targets(&records, "AIDAEXAMPLE", true).unwrap();
        assert_eq!(t[0].principal, Principal::User("issuer".into()));
        // Root's tokens cannot be restricted; static ones were not minted.
        let e = targets(&records, "ws-root", false).unwrap_err();
        assert!(e.to_string().contains("root credentials"), "{e}");
        let e = targets(&records, "id-x", false).unwrap_err();
        assert!(e.to_string().contains("did not mint"), "{e}");
        let e = targets(&records, "nobody", false).unwrap_err();
        assert_eq!(e.kind(), &crate::ErrorKind::Other);
        assert_eq!(e.to_string(), "nothing in the ledger is \"nobody\"");
        // A record the ledger says is revoked is still a target: IAM says
        // whether it holds the revocation.
        let mut revoked = records.clone();
        revoked[0].revoked_at = Some("2026-12-02T15:00:01Z".into());
        assert_eq!(targets(&revoked, "ws-a", false).unwrap().len(), 1);
        // Two tokens of one session: one session, the newer's issue time.
        let mut two = records.clone();
        two[1].userid = two[0].userid.clone();
        two[1].issued_at = "2026-12-02T16:00:00Z".into();
        let t = targets(&two, "ws-a", false).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].sessions.len(), 1);
        assert_eq!(t[0].sessions[0].issued, two[1].issued());
    }

    #[cfg(feature = "aws")]
    #[test]
    fn lock_files_are_per_principal_and_safe_names() {
        use crate::aws::Principal;
        let d = Path::new("/s");
        assert_eq!(
            lock_path(d, &Principal::User("bob".into())),
            Path::new("/s/revoke-user-bob.lock")
        );
        assert_eq!(
            lock_path(d, &Principal::Role("bob".into())),
            Path::new("/s/revoke-role-bob.lock")
        );
        assert_eq!(
            lock_path(d, &Principal::User("../x y".into())),
            Path::new("/s/revoke-user-..%2Fx%20y.lock")
        );
    }

    #[cfg(feature = "aws")]
    #[test]
    fn the_lease_clock_warning() {
        assert_eq!(lease_skew_warning(None), None);
        assert_eq!(lease_skew_warning(Some(2)), None);
        assert_eq!(lease_skew_warning(Some(-2)), None);
        let w = lease_skew_warning(Some(-3)).unwrap();
        assert!(w.contains("3 s ahead of AWS's"), "{w}");
        assert!(w.contains("agree within 5 s"), "{w}");
    }

    #[test]
    fn the_clock_warning() {
        assert_eq!(skew_warning(None), None);
        assert_eq!(skew_warning(Some(30)), None);
        assert_eq!(skew_warning(Some(-30)), None);
        let w = skew_warning(Some(240)).unwrap();
        assert!(w.contains("240 s behind AWS's"), "{w}");
        let w = skew_warning(Some(-31)).unwrap();
        assert!(w.contains("31 s ahead of AWS's"), "{w}");
    }
}
