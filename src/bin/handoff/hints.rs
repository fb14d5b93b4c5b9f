//! The command line's words for the errors of the issuer's and the
//! recipient's side (revoke, console, exec --server): the flags that get
//! past an error, which the library's messages leave out. Each is added at
//! the call that can return the error, from its kind and the facts the
//! command line holds, so that what is printed stays as it was.

use handoff::Error;
#[cfg(feature = "aws")]
use handoff::ErrorKind;

/// `e` with `more` after its message, the kind kept and `e` as the cause.
#[cfg(feature = "aws")]
fn with_words(e: Error, more: &str) -> Error {
    let message = format!("{e}{more}");
    Error::new(e.kind().clone(), message).with_source(e)
}

/// An error of `handoff::issuer::revoke::targets` for `selector`: a session token
/// without `--all-sessions` names the flag; a selector that names nothing
/// says what a selector can be; a token whose minter the ledger does not
/// know names `--userid` and `--user`.
#[cfg(feature = "aws")]
pub fn revoke_targets(
    e: Error,
    selector: &str,
    records: &[handoff::issuer::ledger::Record],
) -> Error {
    match e.kind() {
        ErrorKind::InvalidArgument if e.related().is_empty() => {
            with_words(e, "; --all-sessions does that")
        }
        ErrorKind::Other
            if handoff::issuer::revoke::select(records, selector).is_ok_and(|s| s.is_empty()) =>
        {
            with_words(
                e,
                ": give a token id, roster name, session name or access key id (handoff issued --all lists them), or --userid ID with --user NAME or --role NAME",
            )
        }
        ErrorKind::Document { .. } => {
            // the first record targets() refused for it: every one before
            // it passed
            let unknown = handoff::issuer::revoke::select(records, selector)
                .ok()
                .into_iter()
                .flatten()
                .find(|r| {
                    matches!(r.kind.as_str(), "federation" | "session")
                        && r.userid.is_some()
                        && r.minted_by.is_none()
                })
                .map(|r| r.userid.clone().unwrap_or_default());
            match unknown {
                Some(userid) => with_words(e, &format!("; give --userid {userid} --user NAME")),
                None => e,
            }
        }
        _ => e,
    }
}

/// The EC2 client `ec2` calls with: when there is no region to call in
/// (the error's cause is [`NoRegion`](handoff::aws::config::NoRegion)),
/// says how to give one with the flag.
#[cfg(feature = "aws")]
pub fn ec2_client(
    token: &handoff::Token,
    settings: &handoff::aws::Settings,
) -> handoff::Result<handoff::aws::Ec2> {
    token.new_ec2_with(settings).map_err(|e| {
        let no_region =
            std::error::Error::source(&e).is_some_and(|c| c.is::<handoff::aws::config::NoRegion>());
        if e.kind() == &ErrorKind::InvalidArgument && no_region {
            Error::usage(
                "EC2 needs a region: give one with --region, AWS_REGION or AWS_DEFAULT_REGION, \
                 or set region in the profile's section of ~/.aws/config",
            )
            .with_source(e)
        } else {
            e
        }
    })
}

/// `console`'s options, checked as the library checks them
/// ([`Options::check`](handoff::recipient::console::Options::check)), in the same
/// order, with the flags named: `--destination`, `--service`.
#[cfg(feature = "aws")]
pub fn console_options(o: &handoff::recipient::console::Options) -> handoff::Result<()> {
    use handoff::recipient::console as hc;
    // the region first, as the library does
    hc::Options {
        region: o.region.clone(),
        ..Default::default()
    }
    .check()?;
    if o.destination.is_some() && o.service.is_some() {
        return Err(Error::usage(
            "give --destination URL or --service NAME, not both",
        ));
    }
    if let Some(d) = &o.destination {
        hc::check_destination(d).map_err(|e| {
            let message = format!("--destination {e}");
            Error::new(e.kind().clone(), message).with_source(e)
        })?;
    }
    if let Some(s) = &o.service {
        if let Some(any) = hc::partition(None) {
            hc::destination(&any, None, Some(s)).map_err(|e| match e.kind() {
                ErrorKind::InvalidArgument => {
                    with_words(e, "; give --destination URL for any other page")
                }
                _ => e,
            })?;
        }
    }
    o.check()
}

/// A token `console` cannot sign in with: what to ask the sender for.
#[cfg(feature = "aws")]
pub fn console_token(e: Error) -> Error {
    match e.kind() {
        ErrorKind::Other => with_words(
            e,
            "\nask the sender for a token minted with `handoff seal --federation NAME` or `handoff seal --role ARN`",
        ),
        _ => e,
    }
}

/// `console --session-duration` for a token that is not a role's (the
/// duration's range was checked with the options: the only usage error
/// left here).
#[cfg(feature = "aws")]
pub fn console_session_duration(e: Error) -> Error {
    match e.kind() {
        ErrorKind::InvalidArgument => Error::usage(
            "--session-duration applies to role tokens only: a federation token's console session lasts as long as the token",
        )
        .with_source(e),
        _ => e,
    }
}

/// `console`'s sign-in, in a region whose partition has no public console
/// sign-in: name the flags that give one.
#[cfg(feature = "aws")]
pub fn console_signin(e: Error) -> Error {
    let no_public = std::error::Error::source(&e)
        .is_some_and(|c| c.is::<handoff::recipient::console::NoPublicSignin>());
    if e.kind() == &ErrorKind::InvalidArgument && no_public {
        with_words(e, ": give --signin-endpoint URL and --destination URL")
    } else {
        e
    }
}

/// A browser that could not open the console: `--print` and `-o FILE`
/// instead.
#[cfg(feature = "aws")]
pub fn console_browser(e: Error) -> Error {
    let none_found = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound);
    match e.kind() {
        ErrorKind::Other => with_words(e, "; --print writes the URL instead"),
        ErrorKind::Io { .. } if none_found => {
            with_words(e, ": set BROWSER, or use --print or -o FILE")
        }
        _ => e,
    }
}

/// `exec --server` with a token of long-term keys, which the credential
/// server cannot serve (it needs a session token and an expiration):
/// checked before the library is asked, to name the flag.
pub fn exec_server_token(token: &handoff::Token) -> handoff::Result<()> {
    // what the library checks before the token, first, as it does
    handoff::documents::environment::caller_regions()?;
    let c = token.credentials();
    if c.session_token().is_none() || c.expiration().is_none() {
        return Err(Error::usage(
            "exec --server serves temporary credentials, and this token holds long-term keys \
             (no session token or expiration): use handoff exec without --server",
        ));
    }
    Ok(())
}
