//! The one rule for putting a token's credentials into an environment,
//! shared by every shell format of `open` and by `exec`:
//!
//! - set `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, and
//!   `AWS_SESSION_TOKEN` and `AWS_CREDENTIAL_EXPIRATION` where the token has
//!   them;
//! - unset what would outrank those keys or travel with them in the SDKs'
//!   chains (botocore's `create_credential_resolver` and `EnvProvider`, the
//!   JavaScript SDK v3's `defaultProvider` and `fromEnv`): `AWS_PROFILE` and
//!   `AWS_DEFAULT_PROFILE` (an SDK that finds a profile uses it instead of
//!   the keys: the JavaScript SDK v3 skips `fromEnv` then),
//!   `AWS_SECURITY_TOKEN` (the old name of the session token, which botocore
//!   reads before `AWS_SESSION_TOKEN` and handoff never sets, so whatever it
//!   holds is someone else's), `AWS_ACCOUNT_ID` and `AWS_CREDENTIAL_SCOPE`
//!   (both SDKs attach them to the keys from the environment: another
//!   identity's account would route account-based endpoints elsewhere), and
//!   `AWS_SESSION_TOKEN` / `AWS_CREDENTIAL_EXPIRATION` where the token has
//!   none. Nothing else in either chain ranks above the environment's keys;
//!   `exec --server` removes more (see [`crate::recipient::server`]);
//! - the region: the caller's wins when set (`AWS_REGION`, else
//!   `AWS_DEFAULT_REGION`, an empty value counting as unset); the token's
//!   fills in when not. Both variables end up set, to the same region where
//!   the caller set only one.
//!
//! ```
//! use handoff::{environment, Credentials, Kind, Token};
//! let token = Token::new(Kind::Static, Credentials::new("AKIAIOSFODNN7EXAMPLE", "secret".into(), None, None))
//!     .with_region("eu-west-1");
//! let env = environment(&token);
//! assert_eq!(env.set().next(), Some(("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")));
//! assert!(env.unset().contains(&"AWS_PROFILE"));
//! assert_eq!(env.regions(Some("us-east-1"), None), [("AWS_REGION", "us-east-1"), ("AWS_DEFAULT_REGION", "us-east-1")]);
//! assert_eq!(env.regions(None, None), [("AWS_REGION", "eu-west-1"), ("AWS_DEFAULT_REGION", "eu-west-1")]);
//! ```

use std::borrow::Cow;

use crate::clock;
use crate::credentials::{reveal, Token};
use crate::{Error, Result};

/// The region variables, in the order they are resolved.
pub const REGION_VARS: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];

/// Variables every shell format and `exec` unset, whatever the token holds:
/// a profile that the SDKs would take instead of the keys, and the
/// account and scope they would attach to them (see the [module](self)).
pub const OUTRANKING: [&str; 4] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCOUNT_ID",
    "AWS_CREDENTIAL_SCOPE",
];

/// The profile variable the AWS settings read when no profile is given.
pub const PROFILE_VAR: &str = "AWS_PROFILE";

/// The keys the AWS settings read before any profile's.
pub const KEY_VARS: [&str; 2] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// The endpoint variable of every service, read after the service's own.
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";

/// STS's own endpoint variable.
pub const ENDPOINT_VAR_STS: &str = "AWS_ENDPOINT_URL_STS";

/// EC2's own endpoint variable.
pub const ENDPOINT_VAR_EC2: &str = "AWS_ENDPOINT_URL_EC2";

/// IAM's own endpoint variable.
pub const ENDPOINT_VAR_IAM: &str = "AWS_ENDPOINT_URL_IAM";

/// DynamoDB's own endpoint variable (the team ledger's table).
pub const ENDPOINT_VAR_DYNAMODB: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// What a token puts into an environment; see the [module](self) for the rule.
pub struct Environment<'a> {
    set: Vec<(&'static str, Cow<'a, str>)>,
    unset: Vec<&'static str>,
    region: Option<&'a str>,
}

/// The environment `token` asks for, by the one rule of this module.
pub fn environment(token: &Token) -> Environment<'_> {
    let c = token.credentials();
    let mut set = vec![
        ("AWS_ACCESS_KEY_ID", Cow::Borrowed(c.access_key_id())),
        (
            "AWS_SECRET_ACCESS_KEY",
            Cow::Borrowed(reveal(c.secret_access_key())),
        ),
    ];
    let mut unset = Vec::with_capacity(3 + OUTRANKING.len());
    match c.session_token() {
        Some(t) => set.push(("AWS_SESSION_TOKEN", Cow::Borrowed(reveal(t)))),
        None => unset.push("AWS_SESSION_TOKEN"),
    }
    unset.push("AWS_SECURITY_TOKEN");
    match c.expiration() {
        Some(at) => set.push((
            "AWS_CREDENTIAL_EXPIRATION",
            Cow::Owned(clock::format_rfc3339(at)),
        )),
        None => unset.push("AWS_CREDENTIAL_EXPIRATION"),
    }
    unset.extend(OUTRANKING);
    Environment {
        set,
        unset,
        region: token.region(),
    }
}

impl<'a> Environment<'a> {
    /// The variables to set, with their values (secrets among them).
    pub fn set(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.set.iter().map(|(k, v)| (*k, v.as_ref()))
    }

    /// The variables to unset.
    pub fn unset(&self) -> &[&'static str] {
        &self.unset
    }

    /// The token's region, which fills in `AWS_REGION` and
    /// `AWS_DEFAULT_REGION` where the caller has none.
    pub fn token_region(&self) -> Option<&'a str> {
        self.region
    }

    /// The region variables to set, given the caller's `AWS_REGION` and
    /// `AWS_DEFAULT_REGION` (empty counts as unset): nothing when the token
    /// has no region, else both variables.
    pub fn regions<'b>(
        &self,
        caller_region: Option<&'b str>,
        caller_default: Option<&'b str>,
    ) -> Vec<(&'static str, &'b str)>
    where
        'a: 'b,
    {
        let Some(token) = self.region else {
            return Vec::new();
        };
        let caller_region = caller_region.filter(|r| !r.is_empty());
        let caller_default = caller_default.filter(|r| !r.is_empty());
        let region = caller_region.or(caller_default).unwrap_or(token);
        vec![
            (REGION_VARS[0], region),
            (REGION_VARS[1], caller_default.unwrap_or(region)),
        ]
    }

    /// Applies the rule to a command about to run, reading the caller's
    /// region from this process's environment; a region variable that is
    /// set but not UTF-8 is an error naming it (see [`env_var`]).
    pub fn apply(&self, cmd: &mut std::process::Command) -> Result<()> {
        let caller = caller_regions()?;
        for var in &self.unset {
            cmd.env_remove(var);
        }
        for (k, v) in self.set() {
            cmd.env(k, v);
        }
        for (k, v) in self.regions(caller[0].as_deref(), caller[1].as_deref()) {
            cmd.env(k, v);
        }
        Ok(())
    }
}

/// The caller's `AWS_REGION` and `AWS_DEFAULT_REGION`, read by [`env_var`].
pub fn caller_regions() -> Result<[Option<String>; 2]> {
    Ok([env_var(REGION_VARS[0])?, env_var(REGION_VARS[1])?])
}

/// A variable of the process's environment, with empty treated as unset. A
/// variable that is set but not UTF-8 is a usage error naming it, never
/// "unset": taking it for unset would sign with another profile's keys,
/// send a call to another endpoint, or give a command another region.
pub fn env_var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::usage(format!(
            "{name} is set but is not UTF-8 text; correct it or unset it"
        ))),
    }
}
