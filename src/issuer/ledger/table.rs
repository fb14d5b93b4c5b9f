//! The team ledger: the ledger's records in a DynamoDB table that several
//! issuers share (`HANDOFF_LEDGER=dynamodb://TABLE?region=R&profile=P`).
//!
//! The table's key is one string attribute, `id`. Every item has a `type`:
//!
//! - `record`: one handoff. `id` is `record#TOKEN_ID`; `record` holds the
//!   same secret-free JSON record as a line of the file ledger
//!   ([`Record`]); `token_id`, `minted_by` (the issuer's principal ARN)
//!   and `issued_at` repeat its fields for filters; `revision` (a number)
//!   starts at 1 and grows by one with each change. A record is created
//!   only if its `id` is absent; every change is a put conditional on the
//!   revision it was read at, so two writers never overwrite each other
//!   silently (see [`TableLedger::update`]).
//! - `lease`: reserved for revocation leases, `id` = `lease#…`
//!   (docs/TEAM.md). Reading records skips every item that is not a
//!   record; `probe#…` ids are used by the checks and never written.
//!
//! Reads are strongly consistent Scans followed through every page.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use crate::aws::dynamodb::{
    is_access_denied, is_condition_failed, Attr, Condition, Dynamodb, Item, Read, TableDescription,
};
use crate::aws::{Service, Settings, Sts};
use crate::issuer::ledger::{Reading, Record, TABLE_SCHEME};
use crate::{clock, Error, Result};

/// The key attribute.
pub const KEY: &str = "id";
/// The prefix of a record's key.
pub const RECORD_PREFIX: &str = "record#";
/// The prefix reserved for revocation leases.
pub const LEASE_PREFIX: &str = "lease#";
/// The key the checks write to (conditions that never hold: nothing is
/// ever written there).
const PROBE_KEY: &str = "probe#check";
/// How often a change is tried again after another writer got there first.
const MAX_TRIES: usize = 8;
/// How long `ledger init` waits for a new table to become active.
pub const INIT_WAIT: Duration = Duration::from_secs(120);

/// A `dynamodb://TABLE` URL, with `?region=R` and `?profile=P`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableUrl {
    /// The table's name.
    pub table: String,
    /// The region (else the credential chain's).
    pub region: Option<String>,
    /// The profile (else the credential chain's).
    pub profile: Option<String>,
}

impl TableUrl {
    /// Parses `dynamodb://TABLE[?region=R][&profile=P]`. A table name is
    /// 3–255 characters of letters, digits, `_`, `-` and `.`.
    pub fn parse(url: &str) -> Result<TableUrl> {
        let bad = |why: &str| {
            url_error(format!(
                "{}: {why} (a team ledger is dynamodb://TABLE, with ?region=R and &profile=P allowed)",
                crate::describe::shown(url)
            ))
        };
        let rest = url
            .strip_prefix(TABLE_SCHEME)
            .ok_or_else(|| bad("not a dynamodb:// URL"))?;
        let (table, query) = rest.split_once('?').unwrap_or((rest, ""));
        let table = table.strip_suffix('/').unwrap_or(table);
        let ok = (3..=255).contains(&table.len())
            && table
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !ok {
            return Err(bad(
                "the table name must be 3 to 255 letters, digits, '_', '-' or '.'",
            ));
        }
        let mut out = TableUrl {
            table: table.to_string(),
            region: None,
            profile: None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if v.is_empty() {
                return Err(bad(&format!("{k} has no value")));
            }
            let slot = match k {
                "region" => &mut out.region,
                "profile" => &mut out.profile,
                _ => return Err(bad(&format!("unknown parameter {k:?}"))),
            };
            if slot.replace(v.to_string()).is_some() {
                return Err(bad(&format!("{k} is given twice")));
            }
        }
        Ok(out)
    }
}

impl std::fmt::Display for TableUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{TABLE_SCHEME}{}", self.table)?;
        let mut sep = '?';
        for (k, v) in [("region", &self.region), ("profile", &self.profile)] {
            if let Some(v) = v {
                write!(f, "{sep}{k}={v}")?;
                sep = '&';
            }
        }
        Ok(())
    }
}

// The errors this module makes, each in one place.

fn url_error(message: String) -> Error {
    Error::usage(message)
}

fn table_error(message: String) -> Error {
    Error::other(message)
}

/// One line of `ledger check`: what was tried, whether it worked, and what
/// came of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckLine {
    /// `reachable`, `shape`, `read`, `write`, ...
    pub what: &'static str,
    /// Whether it worked.
    pub ok: bool,
    /// What came of it, in words.
    pub detail: String,
}

/// A team ledger in a DynamoDB table.
#[derive(Debug)]
pub struct TableLedger {
    db: Dynamodb,
    url: TableUrl,
    settings: Settings,
    /// The ARN of the credentials that sign for the table, once asked.
    caller: OnceLock<std::result::Result<String, String>>,
}

impl TableLedger {
    /// The table `url` names, signed by the credential chain (the URL's
    /// profile and region first), at `endpoint_url` else
    /// `AWS_ENDPOINT_URL_DYNAMODB` else `AWS_ENDPOINT_URL` else AWS's.
    /// Nothing is asked of DynamoDB yet.
    pub fn open(
        url: &TableUrl,
        endpoint_url: Option<String>,
        verbose: bool,
    ) -> Result<TableLedger> {
        let settings = Settings {
            profile: url.profile.clone(),
            region: url.region.clone(),
            endpoint_url,
            verbose,
        };
        let db = Dynamodb::new(settings.resolve(Service::Dynamodb)?)?;
        Ok(TableLedger {
            db,
            url: url.clone(),
            settings: Settings {
                endpoint_url: None,
                ..settings
            },
            caller: OnceLock::new(),
        })
    }

    /// The URL, for messages.
    pub fn url(&self) -> String {
        self.url.to_string()
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.url.table
    }

    /// The DynamoDB client (revocation leases, [`crate::issuer::lease`], use it).
    pub fn client(&self) -> &Dynamodb {
        &self.db
    }

    /// The ARN of the credentials that sign for the table (STS
    /// GetCallerIdentity, asked once).
    pub fn caller_arn(&self) -> Result<String> {
        self.caller
            .get_or_init(|| {
                self.settings
                    .resolve(Service::Sts)
                    .and_then(Sts::new)
                    .and_then(|s| s.get_caller_identity())
                    .map(|c| c.arn)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| table_error(format!("cannot tell who signs for {}: {e}", self.url())))
    }

    /// Creates the table if it is missing (on-demand capacity, key `id`)
    /// and waits until it is active. Returns whether it was created here.
    pub fn init(&self, wait: Duration) -> Result<bool> {
        let created = match self.describe()? {
            Some(t) => {
                self.check_shape(&t)?;
                false
            }
            None => match self.db.create_table(self.table(), KEY, &[]) {
                Ok(_) => true,
                // Made by another issuer in the meantime.
                Err(e) if e.is_aws("ResourceInUseException") => false,
                Err(e) => return Err(e.within(&format!("cannot create {}", self.url()))),
            },
        };
        let until = Instant::now() + wait;
        loop {
            let t = self.describe()?.ok_or_else(|| {
                table_error(format!("{} vanished while it was being made", self.url()))
            })?;
            if t.status == "ACTIVE" {
                self.check_shape(&t)?;
                return Ok(created);
            }
            if Instant::now() >= until {
                return Err(table_error(format!(
                    "{} is still {} after {} s; run handoff ledger init again later",
                    self.url(),
                    t.status,
                    wait.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn describe(&self) -> Result<Option<TableDescription>> {
        self.db
            .describe_table(self.table())
            .map_err(|e| e.within(&format!("cannot reach the team ledger {}", self.url())))
    }

    fn check_shape(&self, t: &TableDescription) -> Result<()> {
        let key_ok = t.key_schema == [(KEY.to_string(), "HASH".to_string())]
            && t.attributes.iter().any(|(n, ty)| n == KEY && ty == "S");
        if key_ok {
            Ok(())
        } else {
            Err(table_error(format!(
                "{} is not a handoff ledger: its key is {:?}, not one string attribute {KEY:?}",
                self.url(),
                t.key_schema
            )))
        }
    }

    /// The table, there and of the expected shape.
    fn check_there(&self) -> Result<()> {
        match self.describe()? {
            Some(t) => self.check_shape(&t),
            None => Err(table_error(format!(
                "the team ledger {} does not exist; create it with handoff ledger init {}",
                self.url(),
                self.url()
            ))),
        }
    }

    /// A put that cannot succeed (its condition never holds): DynamoDB
    /// checks the permission first, so a failed condition means this
    /// caller may write.
    fn probe_write(&self) -> Result<()> {
        let never =
            Condition::new("attribute_exists(#id) AND attribute_not_exists(#id)").name("#id", KEY);
        let mut item = key(PROBE_KEY);
        item.insert("type".into(), Attr::s("probe"));
        match self.db.put_item(self.table(), &item, Some(&never)) {
            Err(e) if is_condition_failed(&e) => Ok(()),
            Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Checks, before anything is minted, that the table is reachable, of
    /// the expected shape, and takes writes from this caller.
    pub fn check_writable(&self) -> Result<()> {
        self.check_there()?;
        self.probe_write()
            .map_err(|e| e.within(&format!("cannot write to the team ledger {}", self.url())))
    }

    /// What `ledger check` says: reachable, shape, and each action this
    /// caller may take. An unreachable table is an error.
    pub fn check(&self) -> Result<Vec<CheckLine>> {
        let mut out = Vec::new();
        let t = self.describe()?;
        let Some(t) = t else {
            out.push(CheckLine {
                what: "reachable",
                ok: true,
                detail: format!(
                    "yes; the table {} does not exist (handoff ledger init creates it)",
                    self.table()
                ),
            });
            return Ok(out);
        };
        out.push(CheckLine {
            what: "reachable",
            ok: true,
            detail: format!(
                "yes; table {} is {}{}",
                t.name,
                t.status,
                t.billing_mode
                    .as_deref()
                    .map(|b| format!(", {b}"))
                    .unwrap_or_default()
            ),
        });
        let shape = self.check_shape(&t);
        out.push(CheckLine {
            what: "shape",
            ok: shape.is_ok(),
            detail: match shape {
                Ok(()) => format!("key {KEY} (string)"),
                Err(e) => e.to_string(),
            },
        });
        let said = |r: Result<()>, yes: &str| match r {
            Ok(()) => (true, yes.to_string()),
            Err(e) if is_access_denied(&e) => (false, format!("denied ({e})")),
            Err(e) => (false, e.to_string()),
        };
        let who = self.caller_arn();
        out.push(CheckLine {
            what: "caller",
            ok: who.is_ok(),
            detail: match who {
                Ok(a) => a,
                Err(e) => e.to_string(),
            },
        });
        let (ok, detail) = said(
            self.db
                .get_item(self.table(), &key(PROBE_KEY), true)
                .map(drop),
            "allowed (GetItem)",
        );
        out.push(CheckLine {
            what: "read",
            ok,
            detail,
        });
        let list = Read {
            table: self.table().into(),
            page_limit: Some(1),
            ..Read::default()
        };
        let (ok, detail) = said(
            self.db.scan_each(&list, &mut |_| Ok(())),
            "allowed (Scan: issued lists every issuer's records)",
        );
        out.push(CheckLine {
            what: "list",
            ok,
            detail,
        });
        let (ok, detail) = said(
            self.probe_write(),
            "allowed (PutItem: seal records handoffs)",
        );
        out.push(CheckLine {
            what: "write",
            ok,
            detail,
        });
        let never =
            Condition::new("attribute_exists(#id) AND attribute_not_exists(#id)").name("#id", KEY);
        let set = Condition::new("SET #t = :t")
            .name("#t", "type")
            .value(":t", Attr::s("probe"));
        let update = match self
            .db
            .update_item(self.table(), &key(PROBE_KEY), &set, Some(&never))
        {
            Err(e) if is_condition_failed(&e) => Ok(()),
            r => r.map(drop),
        };
        let (ok, detail) = said(update, "allowed (UpdateItem: revocations and leases)");
        out.push(CheckLine {
            what: "update",
            ok,
            detail,
        });
        let delete = match self
            .db
            .delete_item(self.table(), &key(PROBE_KEY), Some(&never))
        {
            Err(e) if is_condition_failed(&e) => Ok(()),
            r => r,
        };
        let (ok, detail) = said(delete, "allowed (DeleteItem: releasing leases)");
        out.push(CheckLine {
            what: "delete",
            ok,
            detail,
        });
        Ok(out)
    }

    /// Records handoffs, each created only if its token id is not there.
    /// A record that cannot be written is an error naming its token id:
    /// the credentials were minted, and can be revoked by it.
    pub fn append(&self, records: &[Record]) -> Result<()> {
        for r in records {
            let mut r = r.clone();
            if r.minted_by.is_none() {
                r.minted_by = self.caller_arn().ok();
            }
            let written = self.put_if_absent(&r).and_then(|new| {
                if new {
                    Ok(())
                } else {
                    Err(table_error(
                        "a record with this token id is already there".into(),
                    ))
                }
            });
            written.map_err(|e| {
                e.within(&format!(
                        "token {} was minted but its record could not be written to {}; revoke it (handoff revoke {}) or record it",
                        r.token_id,
                        self.url(),
                        r.token_id
                    ))
            })?;
        }
        Ok(())
    }

    /// Puts `record` unless a record with its token id is there. Returns
    /// whether it was put.
    pub fn put_if_absent(&self, record: &Record) -> Result<bool> {
        let absent = Condition::new("attribute_not_exists(#id)").name("#id", KEY);
        match self
            .db
            .put_item(self.table(), &to_item(record, 1)?, Some(&absent))
        {
            Ok(()) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every record with its revision (0 unless `revisions`), and a warning
    /// for each record item that cannot be read. Only the attributes needed
    /// come back (fewer attributes, a quicker answer).
    fn read_items(&self, revisions: bool) -> Result<(Revisioned, Vec<String>)> {
        let projection = if revisions {
            Condition::new("#id, #rec, #rev")
                .name("#rev", "revision")
                .name("#id", KEY)
        } else {
            Condition::new("#rec")
        };
        let read = Read {
            table: self.table().into(),
            filter: Some(
                Condition::new("#t = :r")
                    .name("#t", "type")
                    .value(":r", Attr::s("record")),
            ),
            projection: Some(projection.name("#rec", "record")),
            consistent: true,
            ..Read::default()
        };
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        self.db
            .scan_each(&read, &mut |items| {
                for item in items {
                    match from_item(&item, revisions) {
                        Ok(r) => out.push(r),
                        Err(why) => warnings.push(format!(
                            "ledger {} item {}: {why}; skipped",
                            self.url(),
                            item.get(KEY).and_then(Attr::as_s).unwrap_or("?")
                        )),
                    }
                }
                Ok(())
            })
            .map_err(|e| e.within(&format!("cannot read the team ledger {}", self.url())))?;
        out.sort_by(|(a, _), (b, _)| {
            (a.issued(), &a.issued_at, &a.token_id).cmp(&(b.issued(), &b.issued_at, &b.token_id))
        });
        Ok((out, warnings))
    }

    /// Every record, oldest first (by issue time), and a warning for each
    /// item that is not a readable record.
    pub fn read(&self) -> Result<Reading> {
        let (items, warnings) = self.read_items(false)?;
        Ok(Reading {
            records: items.into_iter().map(|(r, _)| r).collect(),
            warnings,
        })
    }

    /// One record and its revision, read strongly consistent.
    pub fn get(&self, token_id: &str) -> Result<Option<(Record, u64)>> {
        match self
            .db
            .get_item(self.table(), &key(&record_key(token_id)), true)?
        {
            None => Ok(None),
            Some(item) => from_item(&item, true).map(Some).map_err(|why| {
                table_error(format!("the record {token_id} in {}: {why}", self.url()))
            }),
        }
    }

    /// Writes `record` as revision `revision + 1`, only if the table still
    /// holds it at `revision` (a failed condition otherwise).
    pub fn put_at(&self, record: &Record, revision: u64) -> Result<()> {
        let at = Condition::new("#rev = :rev")
            .name("#rev", "revision")
            .value(":rev", Attr::n(revision));
        self.db
            .put_item(self.table(), &to_item(record, revision + 1)?, Some(&at))
    }

    /// Changes records: `f` changes them as read, and each it changed is
    /// written conditionally on its revision. When another writer changed
    /// it since, it is read again and `f`'s changes are applied to the
    /// fresh copy field by field; a field the other writer set to something
    /// else is reported (an error naming the record and the field), never
    /// overwritten.
    pub fn update<T>(&self, f: impl FnOnce(&mut [Record]) -> Result<T>) -> Result<T> {
        let (items, _) = self.read_items(true)?;
        let mut after: Vec<Record> = items.iter().map(|(r, _)| r.clone()).collect();
        let out = f(&mut after)?;
        for ((old, rev), new) in items.iter().zip(&after) {
            if old != new {
                self.change(old, new, *rev)?;
            }
        }
        Ok(out)
    }

    /// Writes the change `old` → `new` of a record read at `revision`,
    /// merging it into fresher copies as [`TableLedger::update`] says.
    fn change(&self, old: &Record, new: &Record, revision: u64) -> Result<()> {
        let (mut target, mut at) = (new.clone(), revision);
        for _ in 0..MAX_TRIES {
            match self.put_at(&target, at) {
                Ok(()) => return Ok(()),
                Err(e) if is_condition_failed(&e) => {
                    let (fresh, fresh_at) = self.get(&old.token_id)?.ok_or_else(|| {
                        table_error(format!(
                            "the record {} was deleted from {} by another writer; not written again",
                            old.token_id,
                            self.url()
                        ))
                    })?;
                    target = merge(old, new, &fresh).map_err(|field| {
                        table_error(format!(
                            "the record {} in {} was changed by another writer ({field} is now {}); not overwritten",
                            old.token_id,
                            self.url(),
                            field_value(&fresh, &field)
                        ))
                    })?;
                    if target == fresh {
                        return Ok(());
                    }
                    at = fresh_at;
                }
                Err(e) => return Err(e),
            }
        }
        Err(table_error(format!(
            "the record {} in {} kept changing under {MAX_TRIES} tries; not written",
            old.token_id,
            self.url()
        )))
    }

    /// Every record with the revision it was read at, oldest first, and a
    /// warning for each item that is not a readable record (what
    /// [`TableLedger::read`] reads).
    pub fn read_revisions(&self) -> Result<(Revisioned, Vec<String>)> {
        self.read_items(true)
    }

    /// [`TableLedger::mark_revoked`] for a record already read at
    /// `revision`: written at once, conditional on that revision; read
    /// again and retried as `mark_revoked` does only when another writer
    /// changed it since.
    pub fn mark_revoked_read(
        &self,
        record: &Record,
        revision: u64,
        at: SystemTime,
        by: Option<&str>,
    ) -> Result<bool> {
        if record.revoked_at.is_some() {
            return Ok(false);
        }
        let mut new = record.clone();
        new.revoked_at = Some(clock::format_rfc3339(at));
        new.revoked_by = by.map(str::to_string);
        match self.put_at(&new, revision) {
            Ok(()) => Ok(true),
            Err(e) if is_condition_failed(&e) => self.mark_revoked(&record.token_id, at, by),
            Err(e) => Err(e),
        }
    }

    /// Marks the records with these token ids undelivered, each
    /// conditional on its revision (read again and retried when another
    /// writer changed it first). Returns how many were marked.
    pub fn mark_undelivered(&self, token_ids: &[String]) -> Result<usize> {
        let mut n = 0;
        for id in token_ids {
            n += usize::from(self.change_one(id, |r| {
                if r.is_undelivered() {
                    return false;
                }
                r.delivered = Some(false);
                true
            })?);
        }
        Ok(n)
    }

    /// Reads the record `token_id`, lets `f` change it (`f` says whether
    /// it did), and writes it conditional on the revision read; on a
    /// failed condition, all over again. Returns whether `f` changed it.
    fn change_one(&self, token_id: &str, mut f: impl FnMut(&mut Record) -> bool) -> Result<bool> {
        for _ in 0..MAX_TRIES {
            let (mut record, revision) = self
                .get(token_id)?
                .ok_or_else(|| table_error(format!("{} has no record {token_id}", self.url())))?;
            if !f(&mut record) {
                return Ok(false);
            }
            match self.put_at(&record, revision) {
                Ok(()) => return Ok(true),
                Err(e) if is_condition_failed(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(table_error(format!(
            "the record {token_id} in {} kept changing under {MAX_TRIES} tries; not written",
            self.url()
        )))
    }

    /// Marks the record `token_id` revoked at `at` by `by`, conditional on
    /// its revision, read again and retried when another writer changed it
    /// first. Returns whether this call marked it (false: it was already
    /// revoked, by whoever did).
    pub fn mark_revoked(&self, token_id: &str, at: SystemTime, by: Option<&str>) -> Result<bool> {
        let at = clock::format_rfc3339(at);
        self.change_one(token_id, |r| {
            if r.revoked_at.is_some() {
                return false;
            }
            r.revoked_at = Some(at.clone());
            r.revoked_by = by.map(str::to_string);
            true
        })
    }
}

/// Records with the revision each was read at.
pub type Revisioned = Vec<(Record, u64)>;

fn key(id: &str) -> Item {
    Item::from([(KEY.to_string(), Attr::s(id))])
}

fn record_key(token_id: &str) -> String {
    format!("{RECORD_PREFIX}{token_id}")
}

/// A record's item at `revision`.
fn to_item(r: &Record, revision: u64) -> Result<Item> {
    let json = serde_json::to_string(r)
        .map_err(|e| table_error(format!("cannot write a ledger record: {e}")))?;
    let mut item = key(&record_key(&r.token_id));
    item.insert("type".into(), Attr::s("record"));
    item.insert("token_id".into(), Attr::s(&r.token_id));
    item.insert("revision".into(), Attr::n(revision));
    item.insert("issued_at".into(), Attr::s(&r.issued_at));
    if let Some(by) = &r.minted_by {
        item.insert("minted_by".into(), Attr::s(by));
    }
    item.insert("record".into(), Attr::S(json));
    Ok(item)
}

/// The record and revision an item holds (0 without `revision`), or why
/// it holds none.
fn from_item(item: &Item, revision: bool) -> std::result::Result<(Record, u64), String> {
    let json = item
        .get("record")
        .and_then(Attr::as_s)
        .ok_or("no record attribute")?;
    let record: Record = serde_json::from_str(json).map_err(|_| "not a ledger record")?;
    if record.token_id.is_empty() {
        return Err("its record has no token id".into());
    }
    let revision = match revision {
        true => item
            .get("revision")
            .and_then(Attr::as_u64)
            .ok_or("no revision")?,
        false => 0,
    };
    // (A listing reads the record alone: its key is checked when read.)
    if item
        .get(KEY)
        .is_some_and(|k| k.as_s() != Some(record_key(&record.token_id).as_str()))
    {
        return Err("its key is not its token id".into());
    }
    Ok((record, revision))
}

fn fields(r: &Record) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn field_value(r: &Record, field: &str) -> String {
    fields(r)
        .get(field)
        .map_or("absent".into(), |v| crate::describe::shown(&v.to_string()))
}

/// `fresh` with the changes `old` → `new` applied, field by field: a field
/// `new` changed that `fresh` still has as in `old` takes `new`'s value;
/// one `fresh` already has as in `new` stays; one `fresh` changed to
/// something else is a conflict (its name is the error).
fn merge(old: &Record, new: &Record, fresh: &Record) -> std::result::Result<Record, String> {
    let (o, n, mut f) = (fields(old), fields(new), fields(fresh));
    let mut names: Vec<&String> = o.keys().chain(n.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (ov, nv, fv) = (o.get(name), n.get(name), f.get(name));
        if ov == nv || fv == nv {
            continue;
        }
        if fv != ov {
            return Err(name.clone());
        }
        match nv {
            Some(v) => f.insert(name.clone(), v.clone()),
            None => f.remove(name),
        };
    }
    serde_json::from_value(serde_json::Value::Object(f)).map_err(|_| "the record".to_string())
}

/// The item decoding, opened for the fuzz target `dynamodb` (feature
/// `fuzzing`). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use super::{Item, Record};

    /// The record and revision a table item holds (0 without `revision`),
    /// or why it holds none.
    pub fn from_item(item: &Item, revision: bool) -> Result<(Record, u64), String> {
        super::from_item(item, revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        Record {
            token_id: id.into(),
            kind: "federation".into(),
            access_key_id: "ASIAEXAMPLE".into(),
            userid: Some("123456789012:ws-a".into()),
            arn: None,
            minted_by: Some("arn:aws:iam::123456789012:user/alice".into()),
            name: None,
            recipients: vec!["age1x".into()],
            recipients_fingerprint: "abc".into(),
            label: None,
            policy_sha256: None,
            issued_at: "2026-12-07T04:00:00Z".into(),
            expires_at: None,
            file: None,
            revoked_at: None,
            revoked_by: None,
            file_sha256: None,
            delivered: None,
        }
    }

    #[test]
    fn urls() {
        let u = TableUrl::parse("dynamodb://team-ledger?region=eu-west-1&profile=ops").unwrap();
        assert_eq!(u.table, "team-ledger");
        assert_eq!(u.region.as_deref(), Some("eu-west-1"));
        assert_eq!(u.profile.as_deref(), Some("ops"));
        assert_eq!(
            u.to_string(),
            "dynamodb://team-ledger?region=eu-west-1&profile=ops"
        );
        assert_eq!(
            TableUrl::parse("dynamodb://abc").unwrap().to_string(),
            "dynamodb://abc"
        );
        for bad in [
            "dynamodb://",
            "dynamodb://ab",
            "dynamodb://a b c",
            "dynamodb://t/x",
            "dynamodb://tab?color=red",
            "dynamodb://tab?region=",
            "dynamodb://tab?region=a&region=b",
            "s3://tab",
        ] {
            let e = TableUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument, "{bad}: {e}");
        }
    }

    #[test]
    fn items_round_trip_and_are_keyed_by_token_id() {
        let r = record("0123abcd");
        let item = to_item(&r, 4).unwrap();
        assert_eq!(item["id"].as_s(), Some("record#0123abcd"));
        assert_eq!(item["type"].as_s(), Some("record"));
        assert_eq!(item["minted_by"].as_s(), r.minted_by.as_deref());
        assert_eq!(from_item(&item, true).unwrap(), (r.clone(), 4));
        assert_eq!(from_item(&item, false).unwrap(), (r.clone(), 0));
        let mut moved = item.clone();
        moved.insert("id".into(), Attr::s("record#other"));
        assert!(from_item(&moved, true).is_err());
        assert!(from_item(&moved, false).is_err());
    }

    #[test]
    fn records_without_a_token_id_are_not_read() {
        // Its key `record#` matches its empty token id, and a listing
        // reads no key at all: the record itself is refused.
        let item = to_item(&record(""), 1).unwrap();
        assert_eq!(item["id"].as_s(), Some("record#"));
        for revision in [true, false] {
            assert_eq!(
                from_item(&item, revision).unwrap_err(),
                "its record has no token id"
            );
        }
    }

    #[test]
    fn merges_apply_changes_field_by_field_and_never_overwrite() {
        let old = record("a");
        let mut mine = old.clone();
        mine.delivered = Some(false);
        // Another writer revoked it meanwhile: both changes kept.
        let mut theirs = old.clone();
        theirs.revoked_at = Some("2026-12-07T05:00:00Z".into());
        let merged = merge(&old, &mine, &theirs).unwrap();
        assert_eq!(merged.delivered, Some(false));
        assert_eq!(merged.revoked_at, theirs.revoked_at);
        // Both revoked it, at different times: a conflict, named.
        let mut mine = old.clone();
        mine.revoked_at = Some("2026-12-07T05:30:00Z".into());
        assert_eq!(merge(&old, &mine, &theirs).unwrap_err(), "revoked_at");
        // The same change already there: nothing to do.
        assert_eq!(merge(&old, &theirs, &theirs).unwrap(), theirs);
    }
}
