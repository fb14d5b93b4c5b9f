//! The second line of defence that needs no sender key: before credentials
//! are used, ask STS which account they belong to and refuse them unless it
//! is the expected one.
//!
//! The expected account comes from `--expect-account ID`, or from handoff's
//! config file (`$XDG_CONFIG_HOME/handoff/config`):
//!
//! ```text
//! # every token must belong to this account
//! expect-account = 123456789012
//! # tokens signed by this principal (allowed_signers) must belong to this one
//! expect-account.alice@example.com = 210987654321
//! ```

use std::path::Path;

use crate::files::read_small_file;
use crate::{Error, Result, Token};

/// The accounts tokens are expected to belong to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectedAccounts {
    any: Option<String>,
    by_principal: Vec<(String, String)>,
}

impl ExpectedAccounts {
    /// One account for every token (`--expect-account ID`).
    pub fn exactly(account: &str) -> Result<Self> {
        check_account_id(account)?;
        Ok(ExpectedAccounts {
            any: Some(account.to_string()),
            by_principal: Vec::new(),
        })
    }

    /// Reads a config file; a missing file expects nothing.
    pub fn from_config(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = read_small_file(path, "config file")?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the config file's text; `source` names it in messages.
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let mut out = Self::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| Error::usage(format!("{source} line {}: {why}", n + 1));
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| bad("expected key = value"))?;
            let (key, value) = (key.trim(), value.trim());
            // Where the ledger lives (crate::issuer::ledger::Location).
            if key == "ledger" {
                continue;
            }
            check_account_id(value).map_err(|_| bad("not a 12-digit AWS account id"))?;
            match key.strip_prefix("expect-account") {
                Some("") => out.any = Some(value.to_string()),
                Some(rest) if rest.starts_with('.') && rest.len() > 1 => out
                    .by_principal
                    .push((rest[1..].to_string(), value.to_string())),
                _ => return Err(bad(&format!("unknown setting {key:?}"))),
            }
        }
        Ok(out)
    }

    /// The account `token` must belong to: the one for its verified signer's
    /// principal, else the one for every token, else none.
    pub fn for_token(&self, token: &Token) -> Option<&str> {
        let principals = token
            .signer()
            .filter(|s| s.verified)
            .and_then(|s| s.principal.as_deref())
            .unwrap_or("");
        self.by_principal
            .iter()
            .find(|(p, _)| principals.split(',').any(|q| q == p))
            .map(|(_, a)| a.as_str())
            .or(self.any.as_deref())
    }
}

fn check_account_id(id: &str) -> Result<()> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{:?} is not an AWS account id (12 digits)",
            id.chars().take(20).collect::<String>()
        )))
    }
}

/// Asks STS (GetCallerIdentity, signed with the token's own credentials)
/// which account the token belongs to, and refuses it with
/// [`ErrorKind::WrongAccount`](crate::ErrorKind::WrongAccount) unless that is `expected`.
///
/// The region is `settings.region`, else the environment's (the caller's
/// region wins, as in the environment `open` and `exec` make), else the
/// token's; the STS endpoint is `settings.endpoint_url`, else
/// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the regional
/// endpoint for that region (`https://sts.REGION.amazonaws.com/`), as for
/// minting. With `settings.verbose` the request line names the endpoint
/// and where it came from.
#[cfg(feature = "aws")]
pub fn check_account(token: &Token, expected: &str, settings: &crate::aws::Settings) -> Result<()> {
    use crate::aws::{Service, Sts};
    let mut config = settings.resolve_with(Service::Sts, token.credentials().clone())?;
    if let (None, Some(region)) = (config.region(), token.region()) {
        // The token's fields are input, not arguments: exit 3, not 2.
        crate::aws::config::check_region(region).map_err(|_| {
            Error::not_a_token(format!(
                "the token's Region {:?} is not a region name (like us-east-1)",
                region.chars().take(40).collect::<String>()
            ))
        })?;
        let mut settings = settings.clone();
        settings.region = Some(region.to_string());
        config = settings.resolve_with(Service::Sts, token.credentials().clone())?;
    }
    let who = Sts::new(config)?.get_caller_identity()?;
    if who.account != expected {
        return Err(Error::new(
            crate::ErrorKind::WrongAccount {
                found: Some(who.account.clone()),
                expected: expected.to_string(),
            },
            format!(
                "the credentials belong to account {}, not the expected {expected}",
                who.account
            ),
        ));
    }
    Ok(())
}

/// Checks a token that is about to be used: not expired (unless
/// `allow_expired`), and of the account expected of it
/// ([`check_expected_account`], with `expect`, `verbose` and `region`).
pub fn check_usable(
    token: &Token,
    allow_expired: bool,
    expect: Option<&str>,
    verbose: bool,
    region: Option<&str>,
) -> Result<()> {
    if !allow_expired {
        token.check_not_expired()?;
    }
    check_expected_account(token, expect, verbose, region)
}

/// Refuses `token` unless STS says it belongs to the account expected of
/// it: `expect` (`--expect-account`), else the one the config file
/// ([`crate::paths::config_file`]) gives for it ([`ExpectedAccounts::for_token`]).
/// When no account is expected, nothing is asked. The STS call is made in
/// `region`, else as [`check_account`] says.
pub fn check_expected_account(
    token: &Token,
    expect: Option<&str>,
    verbose: bool,
    region: Option<&str>,
) -> Result<()> {
    let expected = match expect {
        Some(id) => ExpectedAccounts::exactly(id)?,
        None => ExpectedAccounts::from_config(&crate::paths::config_file()?)?,
    };
    let Some(account) = expected.for_token(token) else {
        return Ok(());
    };
    #[cfg(feature = "aws")]
    {
        let settings = crate::aws::Settings {
            verbose,
            region: region.map(str::to_string),
            ..Default::default()
        };
        check_account(token, account, &settings)
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (verbose, region);
        Err(Error::new(
            crate::ErrorKind::WrongAccount {
                found: None,
                expected: account.to_string(),
            },
            format!(
                "cannot check that the token belongs to account {account}: this build has no AWS support"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file() {
        let c = ExpectedAccounts::parse(
            "# x\nexpect-account = 123456789012\nexpect-account.alice@example.com=210987654321\n",
            "cfg",
        )
        .unwrap();
        let t = Token::new(
            crate::Kind::Static,
            crate::Credentials::new("A", "s".into(), None, None),
        );
        assert_eq!(c.for_token(&t), Some("123456789012"));
        assert!(ExpectedAccounts::parse("expect-account = 12", "cfg").is_err());
        assert!(ExpectedAccounts::parse("colour = blue", "cfg").is_err());
        assert_eq!(ExpectedAccounts::default().for_token(&t), None);
        assert_eq!(
            ExpectedAccounts::exactly("abc").unwrap_err().kind(),
            &crate::ErrorKind::InvalidArgument
        );
    }
}
