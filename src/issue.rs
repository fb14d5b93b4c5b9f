//! One handoff, as `handoff seal` makes it: the token checked, labelled and
//! stamped, sealed (signed or not), recorded in the issuer's
//! [ledger](crate::ledger) and written.
//!
//! The token comes from a document ([`crate::read_document`]) or from STS;
//! [`crate::batch`] makes one per person of a roster with the same steps
//! ([`prepare`], [`seal_token`]).
//!
//! ```no_run
//! use handoff::issue::{issue, Issue};
//! use handoff::files::Overwrite;
//! use handoff::{read_document_file, Form, Recipients};
//!
//! let mut to = Recipients::new();
//! to.add("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")?;
//! let token = read_document_file("credentials.json".as_ref())?;
//! let how = Issue {
//!     output: Some("token.age".as_ref()),
//!     ..Issue::new(&to, Form::Armor)
//! };
//! issue(token, &how, &|warning| eprintln!("{warning}"))?;
//! # Ok::<(), handoff::Error>(())
//! ```

use std::path::Path;

use crate::files::{self, Overwrite};
use crate::seal::{Form, Recipients};
use crate::signing::SigningKey;
use crate::{Result, Token};

/// How one token is handed off.
#[derive(Clone)]
pub struct Issue<'a> {
    /// Whom it is sealed to.
    pub recipients: &'a Recipients,
    /// The form of the sealed file.
    pub form: Form,
    /// Sign it with this key ([`crate::seal_signed`]).
    pub signing_key: Option<&'a SigningKey>,
    /// A label sealed with it.
    pub label: Option<String>,
    /// A region recorded in it when it has none.
    pub region: Option<String>,
    /// Seal it even if it has expired.
    pub allow_expired: bool,
    /// Record it in the default ledger ([`crate::ledger::record_seal`]).
    pub record: bool,
    /// Who minted it (ARN and user id from GetCallerIdentity), for the
    /// ledger.
    pub minted_by: Option<(String, String)>,
    /// The file to write (mode 0600, atomically); `None` gives the sealed
    /// bytes back.
    pub output: Option<&'a Path>,
    /// Whether an existing `output` is replaced.
    pub overwrite: Overwrite,
}

impl<'a> Issue<'a> {
    /// A handoff to `recipients` in `form`: unsigned, no label or region,
    /// expired tokens refused, recorded in the ledger, the bytes given back.
    pub fn new(recipients: &'a Recipients, form: Form) -> Self {
        Issue {
            recipients,
            form,
            signing_key: None,
            label: None,
            region: None,
            allow_expired: false,
            record: true,
            minted_by: None,
            output: None,
            overwrite: Overwrite::Refuse,
        }
    }
}

/// The token as it is sealed: `label` set, `region` recorded when it has
/// none, `IssuedAt` stamped ([`crate::seal()`] stamps the same way, so a
/// token prepared here keeps the time the ledger records), and a fresh
/// random token id, which a signed handoff carries as its `TokenId` and the
/// ledger records, so the id `show` prints is the one `issued` lists.
pub fn prepare(token: Token, label: Option<String>, region: Option<&str>) -> Result<Token> {
    let mut token = crate::seal::stamped(&token).into_owned();
    if let Some(label) = label {
        token = token.with_label(label);
    }
    if let (Some(region), None) = (region, token.region()) {
        token = token.with_region(region.to_string());
    }
    let mut id = [0u8; 16];
    getrandom::getrandom(&mut id)
        .map_err(|e| crate::Error::Other(format!("no randomness for the token id: {e}")))?;
    Ok(token.with_token_id(id.to_vec()))
}

/// Seals `token` to `recipients`, signed with `key` when there is one (with
/// the token's own id, set by [`prepare`], as its `TokenId`).
pub fn seal_token(
    token: &Token,
    recipients: &Recipients,
    form: Form,
    key: Option<&SigningKey>,
) -> Result<Vec<u8>> {
    match (key, token.token_id()) {
        (Some(key), Some(id)) => crate::seal::seal_signed_with_id(token, recipients, form, key, id),
        (Some(key), None) => crate::seal::seal_signed(token, recipients, form, key),
        (None, _) => crate::seal::seal(token, recipients, form),
    }
}

/// Hands off `token` as `how` says: refuses it expired (unless allowed),
/// [`prepare`]s and seals it, records it in the ledger, and writes it to
/// `how.output`, or gives the sealed bytes back when there is none. When
/// the file cannot be written, the record is marked undelivered (the
/// credentials were minted; nobody holds them). Warnings (no place for a
/// ledger) go to `warn` as they arise.
pub fn issue(token: Token, how: &Issue<'_>, warn: &dyn Fn(&str)) -> Result<Option<Vec<u8>>> {
    if !how.allow_expired {
        token.check_not_expired()?;
    }
    let token = prepare(token, how.label.clone(), how.region.as_deref())?;
    let sealed = seal_token(&token, how.recipients, how.form, how.signing_key)?;
    let mut recorded = None;
    if how.record {
        let by = how
            .minted_by
            .as_ref()
            .map(|(arn, id)| (arn.as_str(), id.as_str()));
        let names = how.recipients.names();
        let mut record = crate::ledger::Record::new(&token, names, how.output, by)?;
        if how.output.is_some() {
            record = record.with_sealed(&sealed);
        }
        match crate::ledger::Ledger::open_default() {
            Ok(ledger) => {
                ledger.append(std::slice::from_ref(&record))?;
                recorded = Some((ledger, record.token_id));
            }
            // A team ledger that cannot be opened is a failure, not a
            // warning: no handoff goes out unrecorded.
            Err(e)
                if matches!(
                    crate::ledger::Location::default_location(),
                    Ok(crate::ledger::Location::Table(_))
                ) =>
            {
                return Err(e)
            }
            Err(e) => warn(&format!("warning: not recorded in the ledger: {e}")),
        }
    }
    match how.output {
        Some(path) => match files::write_private(path, &sealed, how.overwrite) {
            Ok(()) => Ok(None),
            Err(e) => {
                if let Some((ledger, id)) = recorded {
                    if let Err(le) = crate::ledger::mark_undelivered(&ledger, &[id]) {
                        warn(&format!(
                            "warning: the ledger still lists it as delivered: {le}"
                        ));
                    }
                }
                Err(e)
            }
        },
        None => Ok(Some(sealed)),
    }
}
