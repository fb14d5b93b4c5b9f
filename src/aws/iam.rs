//! The IAM client: the calls `revoke` needs, through the same signing and
//! transport as STS and EC2: the inline-policy calls (PutUserPolicy,
//! GetUserPolicy, ListUserPolicies and their role twins) and, for the
//! fallback when a principal's inline budget is full, the customer-managed
//! policy calls (CreatePolicy, CreatePolicyVersion, GetPolicy,
//! GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion, ListPolicies,
//! AttachUserPolicy / AttachRolePolicy, ListAttachedUserPolicies /
//! ListAttachedRolePolicies). IAM is global: its endpoint is
//! `https://iam.amazonaws.com`, signed for `us-east-1`.
//!
//! An `AccessDenied` answer names the action that was refused
//! (docs/PERMISSIONS.md lists what each command needs).

use std::fmt;
use std::time::SystemTime;

use serde_json::Value;

use super::config::{ClientConfig, Service};
use super::transport::Transport;
use super::xml;
use crate::{Error, ErrorKind, Result};

/// Who an inline policy belongs to: an IAM user or a role, by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// An IAM user (`UserName`).
    User(String),
    /// A role (`RoleName`).
    Role(String),
}

impl Principal {
    /// The name.
    pub fn name(&self) -> &str {
        match self {
            Principal::User(n) | Principal::Role(n) => n,
        }
    }

    fn param(&self) -> &'static str {
        match self {
            Principal::User(_) => "UserName",
            Principal::Role(_) => "RoleName",
        }
    }

    /// `user` or `role`.
    pub fn kind(&self) -> &'static str {
        match self {
            Principal::User(_) => "user",
            Principal::Role(_) => "role",
        }
    }

    fn noun(&self) -> &'static str {
        match self {
            Principal::User(_) => "User",
            Principal::Role(_) => "Role",
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(n) => write!(f, "IAM user {n}"),
            Principal::Role(n) => write!(f, "role {n}"),
        }
    }
}

/// An IAM client. Each method makes one call (with the transport's retries)
/// and returns what IAM said.
///
/// ```no_run
/// use handoff::aws::{Iam, Principal, Service, Settings};
///
/// let iam = Iam::new(Settings::default().resolve(Service::Iam)?)?;
/// let bob = Principal::User("Bob".into());
/// iam.put_policy(&bob, "deny-all", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#)?;
/// assert!(iam.get_policy(&bob, "deny-all")?.is_some());
/// # Ok::<(), handoff::Error>(())
/// ```
pub struct Iam {
    transport: Transport,
}

impl fmt::Debug for Iam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iam")
            .field("config", self.transport.config())
            .finish()
    }
}

impl Iam {
    /// A client for the endpoint and credentials in `config` (which must
    /// have been resolved for [`Service::Iam`]).
    pub fn new(config: ClientConfig) -> Result<Iam> {
        if config.service() != Service::Iam {
            return Err(Error::usage(format!(
                "an IAM client needs a configuration resolved for iam, not {}",
                config.service()
            )));
        }
        Ok(Iam {
            transport: Transport::new(config)?,
        })
    }

    /// The configuration the client uses.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    /// AWS's time as the last answer's `Date` header gave it.
    pub fn server_date(&self) -> Option<SystemTime> {
        self.transport.server_date()
    }

    /// The later of the local clock and AWS's (the last answer's `Date`),
    /// rounded up to the next whole second; and how many seconds the local
    /// clock is behind AWS's (negative: ahead), when an answer said.
    pub fn aws_now(&self) -> (SystemTime, Option<i64>) {
        self.transport.aws_now()
    }

    /// One call; an `AccessDenied` names the action.
    fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.transport
            .call(action, params)
            .map_err(|e| needs(e, action))
    }

    fn json(&self, action: &str, params: &[(&str, &str)]) -> Result<Value> {
        let body = self.call(action, params)?;
        let v = xml::to_json(&body).map_err(|e| self.transport.malformed(action, e))?;
        Ok(v.get(format!("{action}Result"))
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// PutUserPolicy / PutRolePolicy: creates or replaces the inline policy
    /// `name` of `who`.
    pub fn put_policy(&self, who: &Principal, name: &str, document: &str) -> Result<()> {
        let action = format!("Put{}Policy", who.noun());
        self.call(
            &action,
            &[
                (who.param(), who.name()),
                ("PolicyName", name),
                ("PolicyDocument", document),
            ],
        )?;
        Ok(())
    }

    /// GetUserPolicy / GetRolePolicy: the inline policy `name` of `who`,
    /// decoded; `None` when there is none (`NoSuchEntity`).
    pub fn get_policy(&self, who: &Principal, name: &str) -> Result<Option<String>> {
        let action = format!("Get{}Policy", who.noun());
        match self.call(&action, &[(who.param(), who.name()), ("PolicyName", name)]) {
            Ok(body) => xml::inline_policy(&body)
                .map(Some)
                .map_err(|e| self.transport.malformed(&action, e)),
            Err(e) if e.is_aws("NoSuchEntity") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// ListUserPolicies / ListRolePolicies: the names of every inline policy
    /// of `who`, all pages.
    pub fn list_policies(&self, who: &Principal) -> Result<Vec<String>> {
        let action = format!("List{}Policies", who.noun());
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        // IAM pages by 100 by default; a user or role has at most a few
        // dozen inline policies, so a handful of pages is plenty.
        for _ in 0..100 {
            let mut params = vec![(who.param(), who.name())];
            if let Some(m) = &marker {
                params.push(("Marker", m.as_str()));
            }
            let body = self.call(&action, &params)?;
            let (page, next) =
                xml::policy_names(&body).map_err(|e| self.transport.malformed(&action, e))?;
            names.extend(page);
            match next {
                Some(m) => marker = Some(m),
                None => return Ok(names),
            }
        }
        Err(self
            .transport
            .malformed(&action, "the list never ends".into()))
    }

    /// ListAttachedUserPolicies / ListAttachedRolePolicies: the managed
    /// policies attached to `who`, as (name, ARN), all pages.
    pub fn attached_policies(&self, who: &Principal) -> Result<Vec<(String, String)>> {
        let action = format!("ListAttached{}Policies", who.noun());
        self.named_arns(
            &action,
            &[(who.param(), who.name())],
            "AttachedPolicies",
            "PolicyArn",
        )
    }

    /// ListPolicies of this account's own policies under `path` (such as
    /// `/handoff/`): (name, ARN).
    pub fn local_policies(&self, path: &str) -> Result<Vec<(String, String)>> {
        self.named_arns(
            "ListPolicies",
            &[("Scope", "Local"), ("PathPrefix", path)],
            "Policies",
            "Arn",
        )
    }

    /// Every page of a JSON list `action` answers: each member of `list`
    /// as (its `PolicyName`, its `arn_key`), following `Marker`s (at most
    /// 100 pages).
    fn named_arns(
        &self,
        action: &str,
        params: &[(&str, &str)],
        list: &str,
        arn_key: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..100 {
            let mut params = params.to_vec();
            if let Some(m) = &marker {
                params.push(("Marker", m.as_str()));
            }
            let r = self.json(action, &params)?;
            for m in members(&r[list]) {
                if let (Some(n), Some(a)) = (m["PolicyName"].as_str(), m[arn_key].as_str()) {
                    out.push((n.trim().to_string(), a.trim().to_string()));
                }
            }
            match next_marker(&r) {
                Some(m) => marker = Some(m),
                None => return Ok(out),
            }
        }
        Err(self
            .transport
            .malformed(action, "the list never ends".into()))
    }

    /// The default version's document of the managed policy `arn`
    /// (GetPolicy, then GetPolicyVersion), decoded; `None` when there is
    /// no such policy.
    pub fn managed_document(&self, arn: &str) -> Result<Option<String>> {
        let r = match self.json("GetPolicy", &[("PolicyArn", arn)]) {
            Ok(r) => r,
            Err(e) if e.is_aws("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(e),
        };
        let version = r["Policy"]["DefaultVersionId"]
            .as_str()
            .map(str::trim)
            .ok_or_else(|| {
                self.transport
                    .malformed("GetPolicy", "no DefaultVersionId".into())
            })?
            .to_string();
        let r = self.json(
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", &version)],
        )?;
        let doc = r["PolicyVersion"]["Document"].as_str().ok_or_else(|| {
            self.transport
                .malformed("GetPolicyVersion", "no Document".into())
        })?;
        xml::percent_decode(doc.trim())
            .map(Some)
            .map_err(|e| self.transport.malformed("GetPolicyVersion", e))
    }

    /// CreatePolicy: a customer-managed policy `name` under `path`; its ARN.
    pub fn create_policy(&self, name: &str, path: &str, document: &str) -> Result<String> {
        let r = self.json(
            "CreatePolicy",
            &[
                ("PolicyName", name),
                ("Path", path),
                ("PolicyDocument", document),
            ],
        )?;
        r["Policy"]["Arn"]
            .as_str()
            .map(|a| a.trim().to_string())
            .ok_or_else(|| self.transport.malformed("CreatePolicy", "no Arn".into()))
    }

    /// ListPolicyVersions: (version id, is the default) of `arn`, oldest
    /// first (IAM numbers them v1, v2, …).
    pub fn policy_versions(&self, arn: &str) -> Result<Vec<(String, bool)>> {
        let r = self.json("ListPolicyVersions", &[("PolicyArn", arn)])?;
        let mut out: Vec<(String, bool)> = members(&r["Versions"])
            .iter()
            .filter_map(|m| {
                let id = m["VersionId"].as_str()?.trim().to_string();
                let default = m["IsDefaultVersion"].as_str().map(str::trim) == Some("true");
                Some((id, default))
            })
            .collect();
        out.sort_by_key(|(id, _)| {
            id.trim_start_matches('v')
                .parse::<u64>()
                .unwrap_or(u64::MAX)
        });
        Ok(out)
    }

    /// DeletePolicyVersion.
    pub fn delete_policy_version(&self, arn: &str, version: &str) -> Result<()> {
        self.call(
            "DeletePolicyVersion",
            &[("PolicyArn", arn), ("VersionId", version)],
        )?;
        Ok(())
    }

    /// CreatePolicyVersion with SetAsDefault: `document` becomes what the
    /// managed policy `arn` says.
    pub fn create_policy_version(&self, arn: &str, document: &str) -> Result<()> {
        self.call(
            "CreatePolicyVersion",
            &[
                ("PolicyArn", arn),
                ("PolicyDocument", document),
                ("SetAsDefault", "true"),
            ],
        )?;
        Ok(())
    }

    /// AttachUserPolicy / AttachRolePolicy.
    pub fn attach_policy(&self, who: &Principal, arn: &str) -> Result<()> {
        let action = format!("Attach{}Policy", who.noun());
        self.call(&action, &[(who.param(), who.name()), ("PolicyArn", arn)])?;
        Ok(())
    }

    /// PutUserPolicy.
    pub fn put_user_policy(&self, user: &str, name: &str, document: &str) -> Result<()> {
        self.put_policy(&Principal::User(user.into()), name, document)
    }

    /// GetUserPolicy; `None` when there is no such policy.
    pub fn get_user_policy(&self, user: &str, name: &str) -> Result<Option<String>> {
        self.get_policy(&Principal::User(user.into()), name)
    }

    /// PutRolePolicy.
    pub fn put_role_policy(&self, role: &str, name: &str, document: &str) -> Result<()> {
        self.put_policy(&Principal::Role(role.into()), name, document)
    }

    /// GetRolePolicy; `None` when there is no such policy.
    pub fn get_role_policy(&self, role: &str, name: &str) -> Result<Option<String>> {
        self.get_policy(&Principal::Role(role.into()), name)
    }
}

/// The items of an IAM list (`<member>`s): none, one, or many.
fn members(list: &Value) -> Vec<Value> {
    match list.get("Member") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

/// The marker of the next page, when the list is truncated.
fn next_marker(result: &Value) -> Option<String> {
    (result["IsTruncated"].as_str().map(str::trim) == Some("true"))
        .then(|| result["Marker"].as_str().map(|m| m.trim().to_string()))
        .flatten()
}

/// An `AccessDenied` (or `UnauthorizedOperation`) from `action`, with the
/// IAM action it needs named in the message: AWS's own message names it
/// only sometimes, and docs/PERMISSIONS.md lists them all.
fn needs(e: Error, action: &str) -> Error {
    match e.kind().clone() {
        ErrorKind::Aws {
            code,
            message,
            request_id,
        } if code == "AccessDenied" || code == "UnauthorizedOperation" => Error::aws(
            code,
            format!("{message} [needs iam:{action}; docs/PERMISSIONS.md lists what revoke needs]"),
            request_id,
        ),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_action() {
        let e = needs(
            Error::aws("AccessDenied", "not authorized", None),
            "ListUserPolicies",
        );
        assert!(e.is_aws("AccessDenied"), "{e:?}");
        assert!(e.to_string().contains("needs iam:ListUserPolicies"), "{e}");
        let other = needs(Error::aws("NoSuchEntity", "x", None), "GetUserPolicy");
        assert!(!other.to_string().contains("needs"), "{other}");
    }

    #[test]
    fn lists_of_one_and_of_many() {
        let one = serde_json::json!({"Member": {"PolicyName": "a"}});
        assert_eq!(members(&one).len(), 1);
        let many = serde_json::json!({"Member": [{"PolicyName": "a"}, {"PolicyName": "b"}]});
        assert_eq!(members(&many).len(), 2);
        assert!(members(&serde_json::json!("")).is_empty());
        let page = serde_json::json!({"IsTruncated": "true", "Marker": " m "});
        assert_eq!(next_marker(&page).as_deref(), Some("m"));
        assert_eq!(
            next_marker(&serde_json::json!({"IsTruncated": "false"})),
            None
        );
    }
}
