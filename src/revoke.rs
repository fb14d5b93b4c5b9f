//! Revocation: making the sessions of handed-off tokens stop working before
//! they expire.
//!
//! STS tokens cannot be deleted, but IAM can make them useless: an explicit
//! deny in the policy of the IAM user that minted a federation token (or of
//! the role a session assumed), on the session's `aws:userid`, stops exactly
//! that session. The deny also carries `DateLessThan aws:TokenIssueTime` at
//! the revocation time, so a new handoff to the same person afterwards
//! works; long-term keys carry no `aws:TokenIssueTime` and are never denied.
//!
//! Everything handoff revokes on one user or role lives in one inline
//! policy, [`POLICY_NAME`], one statement per revocation time:
//!
//! ```json
//! {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
//!   "Condition":{"StringEquals":{"aws:userid":["123456789012:ws-alice"]},
//!                "DateLessThan":{"aws:TokenIssueTime":"2026-12-02T15:00:00Z"}}}]}
//! ```
//!
//! Revoking merges with what is there: entries whose tokens have all
//! expired are pruned, and earlier entries move to the newest statement
//! unless the ledger shows a live handoff to that session name issued after
//! them (which the later time would deny too). A statement costs about 150
//! characters and each session name about 25, so a user's 2,048-character
//! budget for all its inline policies holds some 70 revocations made one at
//! a time; a document that would not fit is refused before anything is
//! written.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::ledger::Record;
use crate::{clock, Error, Result};

/// The inline policy handoff writes its denies into.
pub const POLICY_NAME: &str = "handoff-revoked";

/// IAM's limit on all of a user's inline policies together, in characters
/// not counting whitespace.
pub const USER_INLINE_LIMIT: usize = 2048;
/// IAM's limit on all of a role's inline policies together.
pub const ROLE_INLINE_LIMIT: usize = 10_240;

/// The longest a federation or session token lives (36 hours): a deny on a
/// user is useless this long after its time.
pub const USER_TOKEN_LIFETIME: Duration = Duration::from_secs(129_600);
/// The longest a role session lives (12 hours).
pub const ROLE_TOKEN_LIFETIME: Duration = Duration::from_secs(43_200);

/// One revoked session: requests by `userid` with credentials issued before
/// `before` are denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The session's `aws:userid`.
    pub userid: String,
    /// The revocation time.
    pub before: SystemTime,
}

/// The `handoff-revoked` document: its entries, and any statement in it
/// handoff did not write (kept as it was).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RevocationPolicy {
    /// The revoked sessions.
    pub entries: Vec<Entry>,
    /// Statements that are not handoff's, kept verbatim.
    pub foreign: Vec<Value>,
}

/// Seconds precision: IAM's dates are whole seconds.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

impl RevocationPolicy {
    /// Reads a document handoff wrote (or one edited by hand: statements it
    /// does not recognise are kept).
    pub fn parse(document: &str) -> Result<RevocationPolicy> {
        let bad = |why: &str| {
            Error::Other(format!(
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

    /// The entries of a statement of handoff's shape, or `None`.
    fn ours(s: &Value) -> Option<Vec<Entry>> {
        let obj = s.as_object()?;
        let star = |k: &str| match obj.get(k) {
            Some(Value::String(x)) => x == "*",
            Some(Value::Array(a)) => a.len() == 1 && a[0] == "*",
            _ => false,
        };
        if obj.get("Effect")? != "Deny" || !star("Action") || !star("Resource") {
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
        let before = clock::parse_rfc3339(dates.get("aws:TokenIssueTime")?.as_str()?)?;
        let userids: Vec<String> = match ids.get("aws:userid")? {
            Value::String(u) => vec![u.clone()],
            Value::Array(a) => a
                .iter()
                .map(|u| u.as_str().map(str::to_string))
                .collect::<Option<_>>()?,
            _ => return None,
        };
        Some(
            userids
                .into_iter()
                .map(|userid| Entry { userid, before })
                .collect(),
        )
    }

    /// The document: compact JSON, one statement per revocation time
    /// (oldest first), session ids in order, after any foreign statements.
    pub fn to_json(&self) -> String {
        let mut by_time: BTreeMap<SystemTime, Vec<&str>> = BTreeMap::new();
        for e in &self.entries {
            let ids = by_time.entry(whole_seconds(e.before)).or_default();
            if !ids.contains(&e.userid.as_str()) {
                ids.push(&e.userid);
            }
        }
        let mut statements = self.foreign.clone();
        for (before, mut ids) in by_time {
            ids.sort_unstable();
            statements.push(json!({
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
        let body = serde_json::to_string(&statements).unwrap_or_else(|_| "[]".into());
        format!("{{\"Version\":\"2012-10-17\",\"Statement\":{body}}}")
    }
}

/// What a revocation comes to.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The document to write (or that was written).
    pub document: String,
    /// Its size as IAM counts it (no whitespace).
    pub size: usize,
    /// The revocation time.
    pub at: SystemTime,
    /// Session ids whose entries were pruned (all their tokens expired).
    pub pruned: Vec<String>,
}

/// Characters IAM counts: everything but whitespace.
pub fn iam_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// Plans the revocation of `userids` at `now`, merged into `existing` (the
/// current `handoff-revoked` document, if any). `lifetime` is how long a
/// token of this principal can live ([`USER_TOKEN_LIFETIME`] or
/// [`ROLE_TOKEN_LIFETIME`]); `others` is the size of the principal's other
/// inline policies and `limit` IAM's limit for it; `ledger` is what the
/// ledger knows (for pruning and for keeping entries apart).
pub fn plan(
    existing: Option<&str>,
    userids: &[String],
    now: SystemTime,
    lifetime: Duration,
    others: usize,
    limit: usize,
    ledger: &[Record],
) -> Result<Plan> {
    let now = whole_seconds(now);
    let mut policy = match existing {
        Some(d) => RevocationPolicy::parse(d)?,
        None => RevocationPolicy::default(),
    };
    let mut pruned = Vec::new();
    policy.entries.retain(|e| {
        let keep = !userids.contains(&e.userid) && !all_expired(e, now, lifetime, ledger);
        if !keep && !userids.contains(&e.userid) {
            pruned.push(e.userid.clone());
        }
        keep
    });
    // Earlier entries join the newest statement unless that would deny a
    // live handoff issued to the same session after them.
    for e in &mut policy.entries {
        let reissued = ledger.iter().any(|r| {
            r.userid.as_deref() == Some(e.userid.as_str())
                && r.is_live_at(now)
                && r.issued().is_some_and(|t| t >= e.before)
        });
        if !reissued {
            e.before = now;
        }
    }
    for u in userids {
        policy.entries.push(Entry {
            userid: u.clone(),
            before: now,
        });
    }
    let document = policy.to_json();
    let size = iam_size(&document);
    if size + others > limit {
        return Err(Error::Other(format!(
            "the {POLICY_NAME} policy would be {size} characters, and with the other inline policies ({others}) more than IAM's {limit}; nothing written\nrevoke fewer sessions, or wait until older revocations expire"
        )));
    }
    Ok(Plan {
        document,
        size,
        at: now,
        pruned,
    })
}

/// Whether every token an entry denies has expired: its time is more than
/// a token's lifetime ago, or the ledger knows the tokens of that session
/// issued before it and all of them have expired.
fn all_expired(e: &Entry, now: SystemTime, lifetime: Duration, ledger: &[Record]) -> bool {
    if e.before + lifetime <= now {
        return true;
    }
    let known: Vec<&Record> = ledger
        .iter()
        .filter(|r| r.userid.as_deref() == Some(e.userid.as_str()))
        .filter(|r| r.issued().is_some_and(|t| t < e.before))
        .collect();
    !known.is_empty() && known.iter().all(|r| r.expires().is_some_and(|x| x <= now))
}

/// Who minted a record: `None` for root, an error when unknown.
#[cfg(feature = "aws")]
fn minting_user(r: &Record) -> Result<Option<String>> {
    let arn = r.minted_by.as_deref().ok_or_else(|| {
        Error::Other(format!(
            "the ledger does not say who minted {}; give --userid {} --user NAME",
            r.token_id,
            r.userid.as_deref().unwrap_or("ID")
        ))
    })?;
    if arn.ends_with(":root") {
        return Ok(None);
    }
    match arn.split_once(":user/") {
        Some((_, path_and_name)) => Ok(path_and_name.rsplit('/').next().map(str::to_string)),
        None => Err(Error::Other(format!(
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

/// What to revoke on one user or role.
#[cfg(feature = "aws")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Where the deny goes.
    pub principal: crate::aws::Principal,
    /// The sessions' `aws:userid`s.
    pub userids: Vec<String>,
}

/// The targets for the ledger records `selector` names (a token id, roster
/// name, federated user / role session name, access key id or
/// `aws:userid`) that are not yet revoked. Session tokens need
/// `all_sessions`: their `aws:userid` is their IAM user's own, so only
/// every session token of that user can be revoked. Tokens minted with
/// root credentials cannot be restricted and are refused.
#[cfg(feature = "aws")]
pub fn targets(records: &[Record], selector: &str, all_sessions: bool) -> Result<Vec<Target>> {
    use crate::aws::Principal;
    let chosen: Vec<&Record> = records
        .iter()
        .filter(|r| r.revoked_at.is_none() && r.matches(selector))
        .collect();
    if chosen.is_empty() {
        let revoked = records.iter().any(|r| r.matches(selector));
        return Err(Error::Other(if revoked {
            format!("every handoff {selector:?} names is already revoked")
        } else {
            format!("nothing in the ledger is {selector:?}: give a token id, roster name, session name or access key id (handoff issued --all lists them), or --userid ID with --user NAME or --role NAME")
        }));
    }
    let mut out: Vec<Target> = Vec::new();
    for r in chosen {
        let userid = r.userid.clone().ok_or_else(|| {
            Error::Other(format!("the ledger has no aws:userid for {}", r.token_id))
        })?;
        let principal = match r.kind.as_str() {
            "federation" | "session" => {
                if r.kind == "session" && !all_sessions {
                    return Err(Error::Usage(format!(
                        "{} is a session token: its aws:userid is its IAM user's own, so only every session token of that user issued before now can be revoked; --all-sessions does that",
                        r.token_id
                    )));
                }
                match minting_user(r)? {
                    Some(u) => Principal::User(u),
                    None => {
                        return Err(Error::Other(format!(
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
                    .ok_or_else(|| Error::Other(format!("the ledger has no role for {}", r.token_id)))?,
            ),
            other => {
                return Err(Error::Other(format!(
                    "{} holds {other} credentials handoff did not mint; revoke those where they came from",
                    r.token_id
                )))
            }
        };
        match out.iter_mut().find(|t| t.principal == principal) {
            Some(t) if !t.userids.contains(&userid) => t.userids.push(userid),
            Some(_) => {}
            None => out.push(Target {
                principal,
                userids: vec![userid],
            }),
        }
    }
    Ok(out)
}

/// Revokes `target`'s sessions: reads the current `handoff-revoked` policy
/// (and, to stay within IAM's limit, the principal's other inline
/// policies), plans the merged document and, unless `dry_run`, writes it.
/// Returns the plan, whose document is what was (or would be) written.
#[cfg(feature = "aws")]
pub fn revoke(
    iam: &crate::aws::Iam,
    target: &Target,
    ledger: &[Record],
    dry_run: bool,
) -> Result<Plan> {
    use crate::aws::Principal;
    let who = &target.principal;
    let existing = iam.get_policy(who, POLICY_NAME)?;
    let mut others = 0;
    for name in iam.list_policies(who)? {
        if name != POLICY_NAME {
            if let Some(doc) = iam.get_policy(who, &name)? {
                others += iam_size(&doc);
            }
        }
    }
    let (lifetime, limit) = match who {
        Principal::User(_) => (USER_TOKEN_LIFETIME, USER_INLINE_LIMIT),
        Principal::Role(_) => (ROLE_TOKEN_LIFETIME, ROLE_INLINE_LIMIT),
    };
    let plan = plan(
        existing.as_deref(),
        &target.userids,
        clock::now(),
        lifetime,
        others,
        limit,
        ledger,
    )?;
    if !dry_run {
        iam.put_policy(who, POLICY_NAME, &plan.document)?;
    }
    Ok(plan)
}

/// Marks the revoked records in the ledger: those of `userids` issued
/// before `at` and not yet revoked. Returns how many.
pub fn record(ledger: &crate::ledger::Ledger, userids: &[String], at: SystemTime) -> Result<usize> {
    let stamp = clock::format_rfc3339(at);
    ledger.update(|records| {
        let mut n = 0;
        for r in records.iter_mut() {
            let hit = r.revoked_at.is_none()
                && r.userid.as_ref().is_some_and(|u| userids.contains(u))
                && r.issued().is_none_or(|t| t <= at);
            if hit {
                r.revoked_at = Some(stamp.clone());
                n += 1;
            }
        }
        Ok(n)
    })
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
        let p = plan(
            None,
            &ids(&["123456789012:ws-alice"]),
            t("2026-12-02T15:00:00.700Z"),
            USER_TOKEN_LIFETIME,
            0,
            USER_INLINE_LIMIT,
            &[],
        )
        .unwrap();
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
        assert_eq!(s.as_object().unwrap().len(), 4);
        // And it reads back.
        let back = RevocationPolicy::parse(&p.document).unwrap();
        assert_eq!(back.entries.len(), 1);
        assert!(back.foreign.is_empty());
        // AWS's own role document is not ours and is kept as it is.
        let kept = RevocationPolicy::parse(AWS_REVOKE_OLDER_SESSIONS).unwrap();
        assert!(kept.entries.is_empty());
        assert_eq!(kept.foreign.len(), 1);
    }

    #[test]
    fn twenty_one_at_a_time_fit_a_user() {
        let mut doc: Option<String> = None;
        let start = t("2026-12-02T15:00:00Z");
        for i in 0..40 {
            let now = start + Duration::from_secs(60 * i);
            let id = format!("123456789012:workshop-person-{i:02}");
            let p = plan(
                doc.as_deref(),
                &[id],
                now,
                USER_TOKEN_LIFETIME,
                0,
                USER_INLINE_LIMIT,
                &[],
            )
            .unwrap();
            assert!(p.size <= USER_INLINE_LIMIT, "{i}: {}", p.size);
            doc = Some(p.document);
        }
        let back = RevocationPolicy::parse(doc.as_deref().unwrap()).unwrap();
        assert_eq!(back.entries.len(), 40);
        // Without a ledger saying otherwise, everything is one statement.
        let v: Value = serde_json::from_str(doc.as_deref().unwrap()).unwrap();
        assert_eq!(v["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn reissued_sessions_keep_their_own_time_and_expired_ones_go() {
        let t0 = t("2026-12-02T15:00:00Z");
        let first = plan(
            None,
            &ids(&["1:ws-a"]),
            t0,
            USER_TOKEN_LIFETIME,
            0,
            2048,
            &[],
        )
        .unwrap();
        // A new token to ws-a after its revocation, live, in the ledger.
        let mut reissue = record("federation", "1:ws-a", None, None);
        reissue.issued_at = "2026-12-02T15:10:00Z".into();
        reissue.expires_at = Some("2026-12-03T15:10:00Z".into());
        let t1 = t0 + Duration::from_secs(1800);
        let second = plan(
            Some(&first.document),
            &ids(&["1:ws-b"]),
            t1,
            USER_TOKEN_LIFETIME,
            0,
            2048,
            std::slice::from_ref(&reissue),
        )
        .unwrap();
        let back = RevocationPolicy::parse(&second.document).unwrap();
        assert_eq!(
            back.entries,
            vec![
                Entry {
                    userid: "1:ws-a".into(),
                    before: t0
                },
                Entry {
                    userid: "1:ws-b".into(),
                    before: t1
                },
            ]
        );
        // 36 hours later ws-a's entry is pruned; ws-b's too at 36 h after
        // its own time.
        let later = t0 + USER_TOKEN_LIFETIME + Duration::from_secs(1);
        let third = plan(
            Some(&second.document),
            &ids(&["1:ws-c"]),
            later,
            USER_TOKEN_LIFETIME,
            0,
            2048,
            &[reissue],
        )
        .unwrap();
        assert_eq!(third.pruned, ids(&["1:ws-a"]));
        let back = RevocationPolicy::parse(&third.document).unwrap();
        let left: Vec<&str> = back.entries.iter().map(|e| e.userid.as_str()).collect();
        assert_eq!(left, ["1:ws-b", "1:ws-c"]);
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
            file_sha256: None,
            delivered: None,
        }
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
                userids: vec!["123456789012:ws-a".into()]
            }]
        );
        let t = targets(&records, "ws-c", false).unwrap();
        assert_eq!(t[0].principal, Principal::Role("workshop".into()));
        assert_eq!(t[0].userids, vec!["AROAEXAMPLE:ws-c".to_string()]);
        // Session tokens only with --all-sessions.
        let e = targets(&records, "AIDAEXAMPLE", false).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--all-sessions"), "{e}");
        let t = targets(&records, "AIDAEXAMPLE", true).unwrap();
        assert_eq!(t[0].principal, Principal::User("issuer".into()));
        // Root's tokens cannot be restricted; static ones were not minted.
        let e = targets(&records, "ws-root", false).unwrap_err();
        assert!(e.to_string().contains("root credentials"), "{e}");
        let e = targets(&records, "id-x", false).unwrap_err();
        assert!(e.to_string().contains("did not mint"), "{e}");
        let e = targets(&records, "nobody", false).unwrap_err();
        assert!(e.to_string().contains("nothing in the ledger"), "{e}");
        // One selector naming two sessions of one user: one target.
        let mut two = records.clone();
        two[1].name = Some("ws-a".into());
        let t = targets(&two, "ws-a", false).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].userids.len(), 2);
    }

    #[test]
    fn too_large_is_refused_before_writing() {
        let many: Vec<String> = (0..200)
            .map(|i| format!("123456789012:person-{i:03}"))
            .collect();
        let e = plan(
            None,
            &many,
            clock::now(),
            USER_TOKEN_LIFETIME,
            0,
            USER_INLINE_LIMIT,
            &[],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("more than IAM's 2048; nothing written"),
            "{e}"
        );
        // Other inline policies count against the same budget.
        let one = ids(&["123456789012:ws-a"]);
        plan(
            None,
            &one,
            clock::now(),
            USER_TOKEN_LIFETIME,
            1800,
            USER_INLINE_LIMIT,
            &[],
        )
        .unwrap();
        assert!(plan(
            None,
            &one,
            clock::now(),
            USER_TOKEN_LIFETIME,
            1950,
            USER_INLINE_LIMIT,
            &[]
        )
        .is_err());
        // A role has five times the room.
        plan(
            None,
            &many,
            clock::now(),
            ROLE_TOKEN_LIFETIME,
            0,
            ROLE_INLINE_LIMIT,
            &[],
        )
        .unwrap();
    }
}
