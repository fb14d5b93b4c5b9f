//! The IAM client: the inline-policy calls `revoke` needs (PutUserPolicy,
//! GetUserPolicy, ListUserPolicies and their role twins), through the same
//! signing and transport as STS and EC2. IAM is global: its endpoint is
//! `https://iam.amazonaws.com`, signed for `us-east-1`.

use std::fmt;

use super::config::{ClientConfig, Service};
use super::transport::Transport;
use super::xml;
use crate::{Error, Result};

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

    /// PutUserPolicy / PutRolePolicy: creates or replaces the inline policy
    /// `name` of `who`.
    pub fn put_policy(&self, who: &Principal, name: &str, document: &str) -> Result<()> {
        let action = format!("Put{}Policy", who.noun());
        self.transport.call(
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
        match self
            .transport
            .call(&action, &[(who.param(), who.name()), ("PolicyName", name)])
        {
            Ok(body) => xml::inline_policy(&body)
                .map(Some)
                .map_err(|e| self.transport.malformed(&action, e)),
            Err(Error::Aws { code, .. }) if code == "NoSuchEntity" => Ok(None),
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
            let body = self.transport.call(&action, &params)?;
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
