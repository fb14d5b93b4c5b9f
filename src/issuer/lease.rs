//! Revocation leases: `handoff revoke` on a team ledger (a DynamoDB table,
//! [`mod@crate::issuer::ledger::table`]) serialises its IAM read, plan, write and
//! read-back on one IAM user or role across machines with a lease item in
//! the same table.
//!
//! The item, `id` = `lease#user/NAME` or `lease#role/NAME`:
//!
//! - `type` = `lease`;
//! - `owner`: who holds it, unique per process (`HOST:PID:RANDOM`);
//! - `holder`: the ARN of the revoking credentials, for messages;
//! - `expires_at`: milliseconds since 1970 on the holder's clock, [`TTL`]
//!   ahead, moved on every [`RENEW_EVERY`] by a thread while the work runs;
//! - `taken_at`: when it was taken (RFC 3339).
//!
//! Taking it is a conditional put: only if no lease is there
//! (`attribute_not_exists(id)`), or the one there has expired on the
//! taker's clock and is still the one read (`owner = :old AND expires_at <
//! :now`): a takeover, said on stderr with the old owner's name. A renewal
//! is an update conditional on the owner; a release, a delete conditional
//! on the owner. A lease that is held is waited for, polling with backoff,
//! at most [`WAIT`] in all; then the revoke fails (exit 1) having written
//! nothing to IAM.
//!
//! Clocks: DynamoDB has no clock a client can read, so an expiry is the
//! holder's clock and a taker compares it with its own. The holder goes on
//! to an IAM write only while at least [`MIN_LEFT`] of its lease remains
//! (and never once a renewal found the lease taken), so a taker whose clock
//! is up to [`MIN_LEFT`] ahead of the holder's (less the time an IAM write
//! takes) still cannot take a lease whose holder may write. docs/TEAM.md
//! says this.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::aws::dynamodb::{is_condition_failed, Attr, Condition, Item};
use crate::aws::Principal;
use crate::issuer::ledger::table::{TableLedger, KEY, LEASE_PREFIX};
use crate::{clock, Error, Result};

/// The most of a holder's ARN or owner a message quotes.
const MAX_SHOWN: usize = 200;

/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(10);
/// How often the holder renews it.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);
/// The holder writes to IAM only with at least this much of its lease left
/// (on its clock): the clock difference between issuers that a lease
/// tolerates.
pub const MIN_LEFT: Duration = Duration::from_secs(5);
/// How long a revoke waits for a lease another revoke holds, in all.
pub const WAIT: Duration = Duration::from_secs(120);
/// The first pause between two tries at a held lease; it doubles up to
/// [`MAX_POLL`], with jitter.
const FIRST_POLL: Duration = Duration::from_millis(40);
const MAX_POLL: Duration = Duration::from_millis(800);

// The errors this module makes, each in one place (the crate's Error is
// being redesigned; these are the only constructors used here).

/// A lease that could not be had or kept: the revocation did not happen
/// (exit 1).
fn lease_error(message: String) -> Error {
    Error::other(message)
}

/// The key of the lease on `who`.
pub fn lease_key(who: &Principal) -> String {
    format!("{LEASE_PREFIX}{}/{}", who.kind(), who.name())
}

/// An owner name unique to this process and lease: the host, the process
/// id and 8 random bytes.
pub fn new_owner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut r = [0u8; 8];
    // Without randomness the host and pid still tell processes apart on
    // one machine, and the time apart across restarts.
    if getrandom::getrandom(&mut r).is_err() {
        let t = clock::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        r = (t as u64).to_be_bytes();
    }
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}:{}:{hex}", std::process::id())
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

fn from_millis(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

/// A lease as read from the table.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Held {
    owner: String,
    holder: String,
    expires: SystemTime,
    expires_ms: u64,
}

impl Held {
    fn from_item(item: &Item) -> Option<Held> {
        let expires_ms = item.get("expires_at").and_then(Attr::as_u64)?;
        Some(Held {
            owner: item.get("owner").and_then(Attr::as_s)?.to_string(),
            holder: item
                .get("holder")
                .and_then(Attr::as_s)
                .unwrap_or("an unknown issuer")
                .to_string(),
            expires: from_millis(expires_ms),
            expires_ms,
        })
    }

    /// Who holds it, as the table says: another issuer's words, so escaped
    /// (no control or format character reaches the terminal) and capped.
    fn describe(&self) -> String {
        fn field(v: &str) -> String {
            let v: String = v.chars().take(MAX_SHOWN).collect();
            crate::describe::shown(&v)
        }
        format!("{} ({})", field(&self.holder), field(&self.owner))
    }
}

/// What the renewing thread and the work share.
#[derive(Debug)]
struct State {
    /// The expiry the table last confirmed (this process's clock).
    expires: SystemTime,
    /// Why the lease is lost, once it is.
    lost: Option<String>,
    /// The last renewal error that left the lease as it was.
    trouble: Option<String>,
    /// Set when the work is done.
    stop: bool,
}

/// A lease held on one IAM principal; renewed by a thread until
/// [`Lease::release`] (or drop).
#[derive(Debug)]
pub struct Lease {
    table: Arc<TableLedger>,
    key: String,
    what: String,
    owner: String,
    shared: Arc<(Mutex<State>, Condvar)>,
    renewer: Option<JoinHandle<()>>,
    released: bool,
}

impl Lease {
    /// Takes the lease on `who` in `table` for `holder` (the revoking
    /// credentials' ARN), waiting at most `wait` for another holder;
    /// `say` gets what stderr should show (who holds it, a takeover).
    pub fn acquire(
        table: &Arc<TableLedger>,
        who: &Principal,
        holder: &str,
        wait: Duration,
        say: &mut dyn FnMut(&str),
    ) -> Result<Lease> {
        let key = lease_key(who);
        let what = format!("the revocation lease on {who} in {}", table.url());
        let owner = new_owner();
        let deadline = Instant::now() + wait;
        let mut pause = FIRST_POLL;
        let mut said = false;
        // The lease as last read when it was not ours to take: an expired
        // one is taken over only if it is still exactly that one.
        let mut expected: Option<Held> = None;
        let mut holding: Option<String> = None;
        // After a put that found the lease held, waiters poll with reads
        // (one request each) and put again only once it is gone or expired.
        let mut look_first = false;
        loop {
            if look_first {
                let read = table
                    .client()
                    .get_item(
                        table.table(),
                        &Item::from([(KEY.to_string(), Attr::s(&key))]),
                        true,
                    )
                    .map_err(|e| e.within(&format!("cannot read {what}")))?;
                expected = None;
                if let Some(item) = read {
                    let current = Held::from_item(&item).ok_or_else(|| {
                        lease_error(format!(
                            "{what}: the item {key} is not a lease handoff wrote; delete it if nothing else uses it"
                        ))
                    })?;
                    if current.owner == owner {
                        // Our own put went through though its answer was lost.
                        return Ok(Lease::start(table, key, what, owner, current.expires));
                    }
                    holding = Some(current.describe());
                    if current.expires < clock::now() {
                        expected = Some(current);
                    } else {
                        if !said {
                            say(&format!(
                                "waiting for {what}: held by {} until {} (renewed while its revoke runs)",
                                current.describe(),
                                clock::format_rfc3339(current.expires)
                            ));
                            said = true;
                        }
                        if Instant::now() + pause > deadline {
                            return Err(lease_error(format!(
                                "NOT revoked: {what} is held by {} and was not released within {} s; nothing written to IAM\nrun the same revoke again once theirs has finished",
                                current.describe(),
                                wait.as_secs()
                            )));
                        }
                        std::thread::sleep(jitter(pause));
                        pause = (pause * 2).min(MAX_POLL);
                        continue;
                    }
                }
            }
            if look_first && Instant::now() > deadline {
                return Err(lease_error(format!(
                    "NOT revoked: {what} was not to be had within {} s (last held by {}); nothing written to IAM\nrun the same revoke again",
                    wait.as_secs(),
                    holding.as_deref().unwrap_or("another revoke")
                )));
            }
            let now = clock::now();
            let expires = now + TTL;
            let mut item = Item::from([(KEY.to_string(), Attr::s(&key))]);
            item.insert("type".into(), Attr::s("lease"));
            item.insert("owner".into(), Attr::s(&owner));
            item.insert("holder".into(), Attr::s(holder));
            item.insert("expires_at".into(), Attr::n(millis(expires)));
            item.insert("taken_at".into(), Attr::s(clock::format_rfc3339(now)));
            let condition = match &expected {
                None => Condition::new("attribute_not_exists(#id)").name("#id", KEY),
                Some(old) => Condition::new("#o = :o AND #e = :e AND #e < :now")
                    .name("#o", "owner")
                    .name("#e", "expires_at")
                    .value(":o", Attr::s(&old.owner))
                    .value(":e", Attr::n(old.expires_ms))
                    .value(":now", Attr::n(millis(now))),
            };
            match table
                .client()
                .put_item(table.table(), &item, Some(&condition))
            {
                Ok(()) => {
                    if let Some(old) = &expected {
                        say(&format!(
                            "took over {what} from {}: it expired at {} and was not released (its revoke died or hung)",
                            old.describe(),
                            clock::format_rfc3339(old.expires)
                        ));
                    }
                    return Ok(Lease::start(table, key, what, owner, expires));
                }
                // Held (or taken first by another waiter): read who.
                Err(e) if is_condition_failed(&e) => look_first = true,
                Err(e) => {
                    // The put may have been stored though its answer was
                    // lost: a lease left behind would hold others up until
                    // it expires. Read whose it is.
                    let ours = table
                        .client()
                        .get_item(
                            table.table(),
                            &Item::from([(KEY.to_string(), Attr::s(&key))]),
                            true,
                        )
                        .ok()
                        .flatten()
                        .and_then(|item| Held::from_item(&item))
                        .filter(|h| h.owner == owner);
                    return match ours {
                        Some(h) => Ok(Lease::start(table, key, what, owner, h.expires)),
                        None => Err(e.within(&format!("cannot take {what}"))),
                    };
                }
            }
        }
    }

    fn start(
        table: &Arc<TableLedger>,
        key: String,
        what: String,
        owner: String,
        expires: SystemTime,
    ) -> Lease {
        let shared = Arc::new((
            Mutex::new(State {
                expires,
                lost: None,
                trouble: None,
                stop: false,
            }),
            Condvar::new(),
        ));
        let renewer = {
            let (table, key, owner, shared) =
                (table.clone(), key.clone(), owner.clone(), shared.clone());
            std::thread::Builder::new()
                .name("lease-renewer".into())
                .spawn(move || renew(&table, &key, &owner, &shared))
                .ok()
        };
        Lease {
            table: table.clone(),
            key,
            what,
            owner,
            shared,
            renewer,
            released: false,
        }
    }

    /// Whether the work may write to IAM now: the lease is still this
    /// process's, with at least [`MIN_LEFT`] left. Otherwise an error that
    /// says why: nothing more is to be written.
    pub fn check(&self) -> Result<()> {
        let (lock, _) = &*self.shared;
        let state = match lock.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if let Some(why) = &state.lost {
            return Err(lease_error(format!(
                "lost {}: {why}; stopped before writing to IAM",
                self.what
            )));
        }
        let left = state
            .expires
            .duration_since(clock::now())
            .unwrap_or_default();
        if left < MIN_LEFT {
            return Err(lease_error(format!(
                "{} could not be renewed ({}); stopped before writing to IAM with {} ms of it left",
                self.what,
                state.trouble.as_deref().unwrap_or("no answer in time"),
                left.as_millis()
            )));
        }
        Ok(())
    }

    /// Stops renewing and deletes the lease (only if it is still this
    /// process's). Returns a warning when it was not: another revoke took
    /// it over meanwhile.
    pub fn release(mut self) -> Result<Option<String>> {
        self.stop();
        self.released = true;
        let mine = Condition::new("#o = :o")
            .name("#o", "owner")
            .value(":o", Attr::s(&self.owner));
        match self.table.client().delete_item(
            self.table.table(),
            &Item::from([(KEY.to_string(), Attr::s(&self.key))]),
            Some(&mine),
        ) {
            Ok(()) => Ok(None),
            Err(e) if is_condition_failed(&e) => Ok(Some(format!(
                "warning: {} had been taken by another revoke before this one released it",
                self.what
            ))),
            Err(e) => Err(e.within(&format!(
                "cannot release {} (it expires by itself within {} s)",
                self.what,
                TTL.as_secs()
            ))),
        }
    }

    fn stop(&mut self) {
        {
            let (lock, cv) = &*self.shared;
            let mut state = match lock.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            state.stop = true;
            cv.notify_all();
        }
        if let Some(t) = self.renewer.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            self.stop();
            let mine = Condition::new("#o = :o")
                .name("#o", "owner")
                .value(":o", Attr::s(&self.owner));
            // Best effort: an error path; a lease left behind expires.
            let _ = self.table.client().delete_item(
                self.table.table(),
                &Item::from([(KEY.to_string(), Attr::s(&self.key))]),
                Some(&mine),
            );
        }
    }
}

/// `d` give or take a quarter, so waiters do not poll in step.
fn jitter(d: Duration) -> Duration {
    let mut b = [0u8; 1];
    let r = if getrandom::getrandom(&mut b).is_ok() {
        f64::from(b[0]) / 255.0
    } else {
        0.5
    };
    d.mul_f64(0.75 + r / 2.0)
}

/// The renewing thread: every [`RENEW_EVERY`], moves the expiry to
/// [`TTL`] ahead, only if the lease is still `owner`'s. A lease found
/// taken or gone is lost (and renewal stops); other errors are kept to be
/// told and tried again next time.
fn renew(table: &TableLedger, key: &str, owner: &str, shared: &(Mutex<State>, Condvar)) {
    let (lock, cv) = shared;
    let mut state = match lock.lock() {
        Ok(s) => s,
        Err(p) => p.into_inner(),
    };
    loop {
        let next = Instant::now() + RENEW_EVERY;
        while !state.stop {
            let now = Instant::now();
            if now >= next {
                break;
            }
            state = match cv.wait_timeout(state, next - now) {
                Ok((s, _)) => s,
                Err(p) => p.into_inner().0,
            };
        }
        if state.stop {
            return;
        }
        drop(state);
        let expires = clock::now() + TTL;
        let set = Condition::new("SET #e = :e")
            .name("#e", "expires_at")
            .value(":e", Attr::n(millis(expires)));
        let mine = Condition::new("#o = :o")
            .name("#o", "owner")
            .value(":o", Attr::s(owner));
        let r = table.client().update_item(
            table.table(),
            &Item::from([(KEY.to_string(), Attr::s(key))]),
            &set,
            Some(&mine),
        );
        state = match lock.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        match r {
            Ok(_) => {
                state.expires = expires;
                state.trouble = None;
            }
            Err(e) if is_condition_failed(&e) => {
                state.lost = Some(
                    "it expired and another revoke took it over, or it was deleted".to_string(),
                );
                return;
            }
            Err(e) => state.trouble = Some(e.to_string()),
        }
    }
}

/// The lease items' decoding, opened for the fuzz target `dynamodb`
/// (feature `fuzzing`). Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use super::{Held, Item};
    use std::time::SystemTime;

    /// A lease item as the waiting revoke reads it: who holds it, in the
    /// words stderr shows, and until when; `None` when it is not a lease.
    pub fn held(item: &Item) -> Option<(String, SystemTime)> {
        Held::from_item(item).map(|h| (h.describe(), h.expires))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_holder_from_the_table_is_shown_escaped_and_capped() {
        let held = super::Held {
            owner: "host:1:\u{1b}[31mred".into(),
            holder: "x".repeat(5000),
            expires: std::time::SystemTime::UNIX_EPOCH,
            expires_ms: 0,
        };
        let d = held.describe();
        assert!(!d.contains('\u{1b}'), "{d}");
        assert!(d.len() < 600, "{}", d.len());
    }

    use super::*;

    #[test]
    fn keys_and_owners() {
        assert_eq!(
            lease_key(&Principal::User("alice".into())),
            "lease#user/alice"
        );
        assert_eq!(lease_key(&Principal::Role("ops".into())), "lease#role/ops");
        let (a, b) = (new_owner(), new_owner());
        assert_ne!(a, b);
        assert!(a.contains(&format!(":{}:", std::process::id())), "{a}");
        // The timing the guarantee rests on: renewals keep more than
        // MIN_LEFT of the lease even when one of them is missed.
        assert!(TTL > MIN_LEFT + RENEW_EVERY * 2);
        let j = jitter(Duration::from_millis(400));
        assert!(j >= Duration::from_millis(300) && j <= Duration::from_millis(500));
    }

    #[test]
    fn leases_read_from_items() {
        let mut item = Item::from([(KEY.to_string(), Attr::s("lease#user/a"))]);
        assert_eq!(Held::from_item(&item), None);
        item.insert("owner".into(), Attr::s("h:1:ab"));
        item.insert("expires_at".into(), Attr::n(1_800_000_000_000));
        let h = Held::from_item(&item).unwrap();
        assert_eq!(h.holder, "an unknown issuer");
        assert_eq!(clock::format_rfc3339(h.expires), "2027-01-15T08:00:00Z");
    }
}
