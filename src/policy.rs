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
        assert_eq!(Policy::from_json("[1]").unwrap_err().exit_code(), 2);
        assert_eq!(Policy::from_json("{").unwrap_err().exit_code(), 2);
    }
}
