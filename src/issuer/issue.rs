//! One handoff, as `handoff seal` makes it: the token checked, labelled and
//! stamped, sealed (signed or not), recorded in the issuer's
//! [ledger](crate::issuer::ledger) and written.
//!
//! The token comes from a document ([`crate::read_document`]) or from STS;
//! [`crate::issuer::batch`] makes one per person of a roster with the same steps
//! ([`prepare`], [`seal_token`]). [`seal()`] takes one [`SealRequest`] for
//! both: what `handoff seal` and `handoff seal --each` ask for.
//!
//! ```no_run
//! use handoff::issuer::issue::{issue, Issue};
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
use crate::seal::signing::SigningKey;
use crate::seal::{Form, Recipients};
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
    /// Record it in the default ledger ([`crate::issuer::ledger::record_seal`]).
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

pub use crate::seal::{prepare, seal_token};

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
        let mut record = crate::issuer::ledger::Record::new(&token, names, how.output, by)?;
        if how.output.is_some() {
            record = record.with_sealed(&sealed);
        }
        match crate::issuer::ledger::Ledger::open_default() {
            Ok(ledger) => {
                ledger.append(std::slice::from_ref(&record))?;
                recorded = Some((ledger, record.token_id));
            }
            // A team ledger that cannot be opened is a failure, not a
            // warning: no handoff goes out unrecorded.
            Err(e)
                if matches!(
                    crate::issuer::ledger::Location::default_location(),
                    Ok(crate::issuer::ledger::Location::Table(_))
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
                    if let Err(le) = crate::issuer::ledger::mark_undelivered(&ledger, &[id]) {
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

/// Whom a seal is for.
pub enum To<'a> {
    /// These recipients: one token, one file (or the sealed bytes).
    Recipients(&'a Recipients),
    /// Everyone on the [roster](crate::issuer::roster) at this path (`-`: stdin),
    /// each with a token of their own, minted for them and sealed to them
    /// alone, in `DIR/NAME.age` ([`crate::issuer::batch`]; feature `aws`).
    #[cfg(feature = "aws")]
    Roster(&'a Path),
}

/// Where the credentials come from.
pub enum Source {
    /// These, read from a credential document.
    Token(Token),
    /// Minted with STS (feature `aws`).
    #[cfg(feature = "aws")]
    Mint(Mint),
}

/// A mint: what to ask STS for, and with which settings.
#[cfg(feature = "aws")]
pub struct Mint {
    /// The call and its arguments; for a roster, `{name}` in its names is
    /// each person's ([`crate::issuer::batch::check_request`]).
    pub request: crate::aws::MintRequest,
    /// The profile, region and endpoint of the STS calls.
    pub settings: crate::aws::Settings,
    /// The MFA code is asked through [`Hooks::mfa_code`] once everything
    /// else is checked (the request's code is then ignored).
    pub ask_mfa_code: bool,
}

/// The key a handoff is signed with.
pub enum Signer<'a> {
    /// This key.
    Key(&'a SigningKey),
    /// The OpenSSH ed25519 private key in this file, read when it is needed
    /// (its passphrase, if it has one, asked through [`Hooks::passphrase`]).
    File(&'a Path),
}

/// Everything a seal needs: whom it is for, the form, the signing key,
/// where the credentials come from, the label, the output and the ledger.
/// One request serves one handoff and a roster's batch alike ([`seal()`]).
pub struct SealRequest<'a> {
    /// Whom it is for.
    pub to: To<'a>,
    /// The form of the sealed files.
    pub form: Form,
    /// Sign each handoff with this key.
    pub signer: Option<Signer<'a>>,
    /// Where the credentials come from.
    pub source: Source,
    /// A label sealed with each token; in a roster's batch, `{name}` is
    /// the person's.
    pub label: Option<String>,
    /// A region recorded in each token when it has none.
    pub region: Option<String>,
    /// Seal a credential document even if it has expired.
    pub allow_expired: bool,
    /// The file to write (mode 0600, atomically), or for a roster the
    /// directory; `None` gives the sealed bytes back.
    pub output: Option<&'a Path>,
    /// Whether existing files are replaced (for a roster: instead of
    /// skipping their people).
    pub overwrite: Overwrite,
    /// Record each handoff in the default ledger.
    pub record: bool,
    /// For a roster: how many mints run at once (at least 1).
    pub jobs: usize,
}

/// What [`seal()`] tells and asks its caller as it goes.
pub struct Hooks<'a> {
    /// A warning, as one line (`warning: ...`).
    pub warn: &'a (dyn Fn(&str) + Sync),
    /// The passphrase of the signing key in this file, when it has one.
    pub passphrase: &'a dyn Fn(&Path) -> Option<secrecy::SecretString>,
    /// The current code of this MFA device ([`Mint::ask_mfa_code`]).
    #[cfg(feature = "aws")]
    pub mfa_code: &'a dyn Fn(&str) -> Result<String>,
    /// A roster's progress, from the worker threads.
    #[cfg(feature = "aws")]
    pub on_event: &'a (dyn Fn(crate::issuer::batch::Event<'_>) + Sync),
    /// Set (say, on Ctrl-C) to start no new mint in a roster's batch.
    #[cfg(feature = "aws")]
    pub stop: &'a std::sync::atomic::AtomicBool,
}

/// What [`seal()`] did.
#[derive(Debug)]
pub enum Sealed {
    /// The sealed bytes (no output file was given).
    Bytes(Vec<u8>),
    /// The output file was written.
    Written,
    /// A roster's batch ran; every person's outcome.
    #[cfg(feature = "aws")]
    Batch(crate::issuer::batch::Report),
}

/// Seals as `req` asks: one handoff ([`issue`]) of a document's
/// credentials or of a token just minted, or one per person of a roster
/// ([`crate::issuer::batch`]). Everything that can be refused is refused before any
/// STS call: the signing key is read, the ledger found writable, and the
/// mint request checked ([`crate::aws::MintRequest::validate`], the one
/// check of both paths) first.
///
/// ```no_run
/// use handoff::aws::{MintRequest, Settings};
/// use handoff::issuer::batch::{Event, Outcome};
/// use handoff::files::Overwrite;
/// use handoff::issuer::issue::{seal, Hooks, Mint, SealRequest, Sealed, Source, To};
/// use handoff::Form;
/// use std::sync::atomic::AtomicBool;
///
/// let request = SealRequest {
///     to: To::Roster("roster.txt".as_ref()),
///     form: Form::Binary,
///     signer: None,
///     source: Source::Mint(Mint {
///         request: MintRequest::Federation { name: "ws-{name}".into(), policy: None, duration: None },
///         settings: Settings::default(),
///         ask_mfa_code: false,
///     }),
///     label: Some("workshop, for {name}".into()),
///     region: None,
///     allow_expired: false,
///     output: Some("tokens".as_ref()),
///     overwrite: Overwrite::Refuse,
///     record: true,
///     jobs: 4,
/// };
/// let hooks = Hooks {
///     warn: &|w| eprintln!("{w}"),
///     passphrase: &|_| None,
///     mfa_code: &|_| Err(handoff::Error::usage("no MFA here")),
///     on_event: &|e| {
///         if let Event::Finished(p, Outcome::Failed(err)) = e {
///             eprintln!("{}: {err}", p.name);
///         }
///     },
///     stop: &AtomicBool::new(false),
/// };
/// if let Sealed::Batch(report) = seal(request, &hooks)? {
///     println!("{}", report.summary());
/// }
/// # Ok::<(), handoff::Error>(())
/// ```
// Without feature `aws` there is no roster: one arm.
#[cfg_attr(not(feature = "aws"), allow(clippy::infallible_destructuring_match))]
pub fn seal(req: SealRequest<'_>, hooks: &Hooks<'_>) -> Result<Sealed> {
    let recipients = match req.to {
        To::Recipients(r) => r,
        #[cfg(feature = "aws")]
        To::Roster(roster) => {
            let Source::Mint(mint) = req.source else {
                return Err(crate::Error::usage(
                    "a roster's batch mints each person's token: give a mint request",
                ));
            };
            let Some(dir) = req.output else {
                return Err(crate::Error::usage(
                    "a roster's batch needs a directory for the files",
                ));
            };
            let each = Each {
                roster,
                mint,
                dir,
                signer: req.signer,
                form: req.form,
                label: req.label,
                region: req.region,
                overwrite: req.overwrite,
                record: req.record,
                jobs: req.jobs,
            };
            return seal_roster(each, hooks).map(Sealed::Batch);
        }
    };
    let owned;
    let key = match req.signer {
        None => None,
        Some(Signer::Key(k)) => Some(k),
        Some(Signer::File(path)) => {
            owned = read_key(path, hooks)?;
            Some(&owned)
        }
    };
    // A ledger that cannot take the record is found before anything is
    // minted (no place for one at all is a warning, later).
    // A team ledger: reachable and writable, or nothing is minted.
    if req.record {
        match crate::issuer::ledger::Location::default_location() {
            Ok(table @ crate::issuer::ledger::Location::Table(_)) => {
                crate::issuer::ledger::Ledger::open(&table)?.check_writable()?
            }
            _ => {
                if let Ok(ledger) = crate::issuer::ledger::Ledger::open_default() {
                    ledger.check_writable()?;
                }
            }
        }
    }
    let (token, minted_by) = match req.source {
        Source::Token(t) => (t, None),
        #[cfg(feature = "aws")]
        Source::Mint(mint) => {
            let (sts, token) = who::mint(mint, hooks)?;
            // Who minted, for the ledger (and the root warning): asked once
            // the mint has succeeded, so a failing mint is reported as it
            // always was and an endpoint sees the mint first.
            let by = who::minted_by_token(&sts, &token, hooks.warn);
            (token, by)
        }
    };
    let how = Issue {
        signing_key: key,
        label: req.label,
        region: req.region,
        allow_expired: req.allow_expired,
        record: req.record,
        minted_by,
        output: req.output,
        overwrite: req.overwrite,
        ..Issue::new(recipients, req.form)
    };
    Ok(match issue(token, &how, hooks.warn)? {
        Some(sealed) => Sealed::Bytes(sealed),
        None => Sealed::Written,
    })
}

/// A roster's batch as [`seal()`] was asked for it.
#[cfg(feature = "aws")]
struct Each<'a> {
    roster: &'a Path,
    mint: Mint,
    dir: &'a Path,
    signer: Option<Signer<'a>>,
    form: Form,
    label: Option<String>,
    region: Option<String>,
    overwrite: Overwrite,
    record: bool,
    jobs: usize,
}

/// The roster glue of [`seal()`]: the request checked
/// ([`crate::issuer::batch::check_request`]), the roster read (every person's name
/// checked, [`crate::issuer::batch::check_person`]), the signing key read, the
/// ledger found writable, who mints asked once, then [`crate::issuer::batch::run`].
/// Nothing is minted before all of it passed.
#[cfg(feature = "aws")]
fn seal_roster(each: Each<'_>, hooks: &Hooks<'_>) -> Result<crate::issuer::batch::Report> {
    use crate::issuer::batch::{self, Batch};
    let request = each.mint.request;
    batch::check_request(&request)?;
    let people = crate::issuer::roster::read(each.roster, &|p| batch::check_person(&request, p))?;
    let owned;
    let signing_key = match each.signer {
        None => None,
        Some(Signer::Key(k)) => Some(k),
        Some(Signer::File(path)) => {
            owned = read_key(path, hooks)?;
            Some(&owned)
        }
    };
    let ledger = if each.record {
        Some(crate::issuer::ledger::Ledger::open_default()?)
    } else {
        None
    };
    let sts = crate::aws::Sts::new(each.mint.settings.resolve(crate::aws::Service::Sts)?)?;
    // The ledger is checked before anything is minted, and again by the
    // batch itself (the directory lock is its own).
    if let Some(ledger) = &ledger {
        ledger.check_writable()?;
    }
    let minted_by = who::minted_by(&sts, hooks.warn);
    let job = Batch {
        mint: request,
        dir: each.dir.to_path_buf(),
        label: each.label,
        region: each.region,
        overwrite: each.overwrite,
        form: each.form,
        signing_key,
        jobs: each.jobs,
        ledger,
        minted_by,
    };
    batch::run(&sts, &people, &job, hooks.stop, hooks.on_event)
}

/// The signing key in `path`, read with a warning when others can read
/// its file, and its passphrase asked through `hooks` when it has one.
fn read_key(path: &Path, hooks: &Hooks<'_>) -> Result<SigningKey> {
    if let Some(w) = files::readable_by_others(path, "signing key") {
        (hooks.warn)(&crate::shown(&w));
    }
    SigningKey::from_file(path, || (hooks.passphrase)(path))
}

/// Minting, and who mints: GetCallerIdentity's answer, remembered per
/// long-term access key.
#[cfg(feature = "aws")]
mod who {
    use super::{Hooks, Mint};
    use crate::aws::{check_mfa, CallerIdentity, Mfa, MintRequest, Service, Sts};
    use crate::{Result, Token};

    /// Mints what `mint` asks for, its MFA code asked (once the serial is
    /// checked) when it must be, every argument checked before the request.
    pub(crate) fn mint(mint: Mint, hooks: &Hooks<'_>) -> Result<(Sts, Token)> {
        let mut request = mint.request;
        if let (true, MintRequest::Session { mfa: Some(m), .. }) = (mint.ask_mfa_code, &mut request)
        {
            check_mfa(&Mfa {
                serial: m.serial.clone(),
                code: "000000".into(),
            })?;
            m.code = (hooks.mfa_code)(&m.serial)?;
        }
        request.validate()?;
        let sts = Sts::new(mint.settings.resolve(Service::Sts)?)?;
        let token = sts.mint(&request)?;
        Ok((sts, token))
    }

    /// Who minted `token`, just minted with `sts`, as the ledger names them
    /// (ARN and user id), with [`report_identity`]'s warnings; without a
    /// second round trip when it can: GetCallerIdentity's answer for a
    /// long-term access key id is kept in the [minter cache](MinterCache)
    /// and used again while STS answers for the same account (the token's
    /// ARN names it).
    pub(crate) fn minted_by_token(
        sts: &Sts,
        token: &Token,
        warn: &dyn Fn(&str),
    ) -> Option<(String, String)> {
        let key = cache_key(sts);
        let account = token.arn().and_then(arn_account);
        if let (Some(key), Some(account)) = (&key, account) {
            if let Some(c) = MinterCache::get(key).filter(|c| c.account == account) {
                return report_identity(Ok(c), warn).map(|c| (c.arn, c.user_id));
            }
        }
        let who = sts.get_caller_identity();
        if let (Some(key), Ok(c)) = (&key, &who) {
            MinterCache::put(key, c);
        }
        report_identity(who, warn).map(|c| (c.arn, c.user_id))
    }

    /// Who mints with `sts`, asked once for a whole batch (and kept for
    /// later seals), with [`report_identity`]'s warnings.
    pub(crate) fn minted_by(sts: &Sts, warn: &dyn Fn(&str)) -> Option<CallerIdentity> {
        let who = sts.get_caller_identity();
        if let (Ok(c), Some(key)) = (&who, cache_key(sts)) {
            MinterCache::put(&key, c);
        }
        report_identity(who, warn)
    }

    fn cache_key(sts: &Sts) -> Option<String> {
        MinterCache::key(
            sts.config().credentials().access_key_id(),
            sts.config().endpoint(),
        )
    }

    /// The account of an ARN (its fifth field), when it is 12 digits.
    fn arn_account(arn: &str) -> Option<&str> {
        arn.split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
    }

    /// The warnings for what GetCallerIdentity said: when the minting
    /// credentials are the account's root, whose tokens IAM cannot
    /// restrict; `None`, with a warning, when STS does not say.
    fn report_identity(who: Result<CallerIdentity>, warn: &dyn Fn(&str)) -> Option<CallerIdentity> {
        match who {
            Ok(c) => {
                if c.is_root() {
                    warn("warning: minting with the account's root credentials: IAM cannot restrict what root mints, so `handoff revoke` will not be able to stop these tokens");
                }
                Some(c)
            }
            Err(e) => {
                warn(&format!("warning: cannot tell who is minting ({}); the ledger will not name the minting user", crate::shown(&e.to_string())));
                None
            }
        }
    }

    /// Who each long-term access key id belongs to, as GetCallerIdentity
    /// said: `$XDG_CACHE_HOME/handoff/minters.json` (mode 0600), keyed by
    /// the access key id and the STS endpoint. It holds no secret (an
    /// access key id, an ARN, a user id, an account); deleting it costs one
    /// GetCallerIdentity on the next seal. Only long-term keys (`AKIA…`)
    /// are kept: temporary ones change with every session.
    struct MinterCache;

    /// The most entries kept; the oldest go first.
    const MAX_MINTERS: usize = 64;

    impl MinterCache {
        fn path() -> Option<std::path::PathBuf> {
            crate::paths::cache_dir()
                .ok()
                .map(|d| d.join("minters.json"))
        }

        fn key(access_key_id: &str, endpoint: &str) -> Option<String> {
            access_key_id
                .starts_with("AKIA")
                .then(|| format!("{access_key_id} {endpoint}"))
        }

        fn read() -> Vec<(String, CallerIdentity)> {
            let Some(path) = Self::path() else {
                return Vec::new();
            };
            // A cache that is missing, not ours or not readable is empty.
            let text = match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() && m.len() < 1 << 20 => {
                    std::fs::read_to_string(&path).unwrap_or_default()
                }
                _ => String::new(),
            };
            let Ok(serde_json::Value::Array(entries)) = serde_json::from_str(&text) else {
                return Vec::new();
            };
            entries
                .iter()
                .filter_map(|e| {
                    let field = |k: &str| e.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    Some((
                        field("key")?,
                        CallerIdentity {
                            account: field("account")?,
                            arn: field("arn")?,
                            user_id: field("user_id")?,
                        },
                    ))
                })
                .collect()
        }

        fn get(key: &str) -> Option<CallerIdentity> {
            Self::read()
                .into_iter()
                .find(|(k, _)| k == key)
                .map(|(_, c)| c)
        }

        /// Best effort: a cache that cannot be written is no reason to fail.
        fn put(key: &str, who: &CallerIdentity) {
            let Some(path) = Self::path() else { return };
            let mut entries = Self::read();
            entries.retain(|(k, _)| k != key);
            entries.push((key.to_string(), who.clone()));
            let skip = entries.len().saturating_sub(MAX_MINTERS);
            let json: Vec<serde_json::Value> = entries
                .iter()
                .skip(skip)
                .map(|(k, c)| {
                    serde_json::json!({"key": k, "account": c.account, "arn": c.arn, "user_id": c.user_id})
                })
                .collect();
            if let Ok(text) = serde_json::to_string_pretty(&json) {
                let _ = crate::files::write_private(
                    &path,
                    text.as_bytes(),
                    crate::files::Overwrite::Replace,
                );
            }
        }
    }
}
