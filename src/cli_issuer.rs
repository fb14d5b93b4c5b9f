//! The command line's AWS side (feature `aws`): minting for `seal`,
//! `seal --each`, `revoke` and `ec2`. Flag checks, one library call each,
//! and what is printed; the work is in handoff::aws, handoff::batch,
//! handoff::ledger and handoff::revoke.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use handoff::aws::{
    self, AssumeRoleRequest, CallerIdentity, Iam, Mfa, MintRequest, Principal, Service, Settings,
    Sts,
};
use handoff::batch::{self, Batch, Event, Mint, Outcome};
use handoff::ledger::Ledger;
use handoff::roster::{self, PLACEHOLDER};
use handoff::{revoke as rv, Error, Policy, Result, Token};

use crate::cli;

fn settings(a: &cli::AwsArgs, verbose: bool) -> Settings {
    Settings {
        profile: a.profile.clone(),
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
        verbose,
    }
}

/// The settings of revoke's IAM calls.
fn iam_settings(a: &cli::IamArgs, verbose: bool) -> Settings {
    Settings {
        profile: a.profile.clone(),
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
        verbose,
    }
}

/// Who minted `token`, just minted, as the ledger names them (ARN and
/// user id), with [`report_identity`]'s warnings; without a second round
/// trip when it can: GetCallerIdentity's answer for a long-term access key id
/// is kept in the [minter cache](MinterCache) and used again while STS
/// answers for the same account (the token's ARN names it).
pub fn minted_by_token(a: &cli::AwsArgs, verbose: bool, token: &Token) -> Option<(String, String)> {
    let key = Settings::resolve(&settings(a, verbose), Service::Sts)
        .ok()
        .and_then(|c| MinterCache::key(c.credentials().access_key_id(), c.endpoint()));
    let account = token.arn().and_then(arn_account);
    if let (Some(key), Some(account)) = (&key, account) {
        if let Some(c) = MinterCache::get(key).filter(|c| c.account == account) {
            return report_identity(Ok(c)).map(|c| (c.arn, c.user_id));
        }
    }
    let who = caller_identity(a, verbose);
    if let (Some(key), Ok(c)) = (&key, &who) {
        MinterCache::put(key, c);
    }
    report_identity(who).map(|c| (c.arn, c.user_id))
}

/// The account of an ARN (its fifth field), when it is 12 digits.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// Who each long-term access key id belongs to, as GetCallerIdentity said:
/// `$XDG_CACHE_HOME/handoff/minters.json` (mode 0600), keyed by the access
/// key id and the STS endpoint. It holds no secret (an access key id, an
/// ARN, a user id, an account); deleting it costs one GetCallerIdentity on
/// the next seal. Only long-term keys (`AKIA…`) are kept: temporary ones
/// change with every session.
struct MinterCache;

/// The most entries kept; the oldest go first.
const MAX_MINTERS: usize = 64;

impl MinterCache {
    fn path() -> Option<std::path::PathBuf> {
        handoff::paths::cache_dir()
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
            let _ = handoff::files::write_private(
                &path,
                text.as_bytes(),
                handoff::files::Overwrite::Replace,
            );
        }
    }
}

/// GetCallerIdentity with the minting credentials.
fn caller_identity(a: &cli::AwsArgs, verbose: bool) -> Result<CallerIdentity> {
    Settings::resolve(&settings(a, verbose), Service::Sts)
        .and_then(Sts::new)
        .and_then(|sts| sts.get_caller_identity())
}

/// One line on stderr; a closed or broken stderr is no reason to stop (or
/// to panic mid-batch, after a person's token was minted).
fn say(line: &str) {
    handoff::cli_common::eprint_line(line);
}

/// The warnings for what GetCallerIdentity said: when the minting
/// credentials are the account's root, whose tokens IAM cannot restrict;
/// `None`, with a warning, when STS does not say.
fn report_identity(who: Result<CallerIdentity>) -> Option<CallerIdentity> {
    match who {
        Ok(c) => {
            if c.is_root() {
                say("handoff: warning: minting with the account's root credentials: IAM cannot restrict what root mints, so `handoff revoke` will not be able to stop these tokens");
            }
            Some(c)
        }
        Err(e) => {
            say(&format!("handoff: warning: cannot tell who is minting ({}); the ledger will not name the minting user", crate::shown(&e.to_string())));
            None
        }
    }
}

/// `seal --each ROSTER -o DIR`.
pub fn seal_each(a: cli::SealArgs, verbose: bool) -> Result<ExitCode> {
    let Some(roster_path) = a.each.clone() else {
        return Err(Error::usage("--each needs a roster"));
    };
    if !a.to.is_empty() || !a.to_file.is_empty() || a.passphrase || a.passphrase_file.is_some() {
        return Err(Error::usage(
            "--each seals each token to its person's key from the roster; -r, -R and -p do not apply",
        ));
    }
    let Some(dir) = a.output.clone() else {
        return Err(Error::usage(
            "--each needs -o DIR: each person's token goes to DIR/NAME.age",
        ));
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Error::usage(format!(
            "with --each, -o names a directory; {} is not one",
            dir.display()
        )));
    }
    let (duration, policy) = duration_and_policy(&a)?;
    let mint = if let Some(name) = &a.federation {
        if !name.contains(PLACEHOLDER) {
            return Err(Error::usage(format!(
                "--each needs {PLACEHOLDER} in --federation (say 'ws-{PLACEHOLDER}'): each person's session must be their own, to be revoked and attributed on its own"
            )));
        }
        if let Some(d) = duration {
            aws::check_duration(d, aws::MIN_DURATION, aws::MAX_TOKEN_DURATION, "--duration")?;
        }
        Mint::Federation {
            name: name.clone(),
            policy: policy.unwrap_or_default(),
            duration,
        }
    } else if let Some(role) = &a.role {
        aws::check_role_arn(role)?;
        let session = a.session_name.clone().unwrap_or_default();
        if !session.contains(PLACEHOLDER) {
            return Err(Error::usage(format!(
                "--each with --role needs {PLACEHOLDER} in --session-name: each person's session must be their own, to be revoked and attributed on its own"
            )));
        }
        if let Some(x) = &a.external_id {
            aws::check_external_id(x)?;
        }
        if let Some(d) = duration {
            aws::check_duration(d, aws::MIN_DURATION, aws::MAX_ROLE_DURATION, "--duration")?;
        }
        Mint::Role(AssumeRoleRequest {
            role_arn: role.clone(),
            session_name: Some(session),
            external_id: a.external_id.clone(),
            policy,
            duration,
        })
    } else {
        return Err(Error::usage(
            "--each mints one token per person: give --federation 'PREFIX{name}' or --role ARN --session-name '{name}'",
        ));
    };
    // Every roster error, one a line, then one line that sums them up.
    let people = match roster::read(&roster_path, &|p| mint.check_person(p)) {
        Err(e) if !e.related().is_empty() => {
            for each in e.related() {
                say(&format!("handoff: {}", crate::shown(&each.to_string())));
            }
            return Err(Error::usage(format!(
                "{} errors in the roster; nothing was minted",
                e.related().len()
            )));
        }
        r => r?,
    };
    let form = a.form();
    let signing_key = crate::signing_key(&a)?;
    let ledger = if a.no_ledger {
        None
    } else {
        Some(Ledger::open_default()?)
    };
    let sts = Sts::new(settings(&a.aws, verbose).resolve(Service::Sts)?)?;
    // The ledger is checked before anything is minted, and again by the
    // batch itself (the directory lock is its own).
    if let Some(ledger) = &ledger {
        ledger.check_writable()?;
    }
    // Asked once for the whole batch, and kept for later seals.
    let who = caller_identity(&a.aws, verbose);
    if let Ok(c) = &who {
        if let Some(key) = MinterCache::key(
            sts.config().credentials().access_key_id(),
            sts.config().endpoint(),
        ) {
            MinterCache::put(&key, c);
        }
    }
    let minted_by = report_identity(who);
    let job = Batch {
        mint,
        dir,
        label: a.label.clone(),
        region: a.aws.region.clone(),
        overwrite: cli::overwrite(a.force),
        form,
        signing_key: signing_key.as_ref(),
        jobs: usize::from(a.jobs),
        ledger,
        minted_by,
    };

    // Ctrl-C (or TERM) stops new mints; a second one ends the process.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone());
        let _ = signal_hook::flag::register(sig, stop.clone());
    }

    let total = people.len();
    let failures = AtomicUsize::new(0);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let current: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let on_event = |e: Event<'_>| {
        let (person, started) = match &e {
            Event::Started(p) => (*p, true),
            Event::Finished(p, _) => (*p, false),
            Event::Recovered(n) => {
                let (s, it) = if *n == 1 { ("", "it") } else { ("s", "them") };
                let line = format!(
                    "handoff: {n} record{s} of an earlier batch into this folder marked undelivered (the files were never put in place; `handoff issued` lists {it}, `handoff revoke` can stop {it})"
                );
                match &bar {
                    Some(bar) => bar.println(line),
                    None => say(&line),
                }
                return;
            }
        };
        if let Ok(mut cur) = current.lock() {
            if started {
                cur.push(person.name.clone());
            } else {
                cur.retain(|n| n != &person.name);
            }
        }
        if let Event::Finished(p, outcome) = &e {
            if matches!(outcome, Outcome::Failed(_)) {
                failures.fetch_add(1, Ordering::SeqCst);
            }
            match &bar {
                Some(bar) => {
                    if let Outcome::Failed(err) = outcome {
                        bar.println(crate::shown(&format!("{}: failed: {err}", p.name)));
                    }
                    bar.inc(1);
                }
                None => say(&crate::shown(&outcome.line(p))),
            }
        }
        if let Some(bar) = &bar {
            let now = current.lock().map(|c| c.join(", ")).unwrap_or_default();
            bar.set_message(format!(
                "{now}  failed: {}",
                failures.load(Ordering::SeqCst)
            ));
        }
    };
    let report = batch::run(&sts, &people, &job, &stop, &on_event)?;
    if let Some(bar) = &bar {
        bar.set_message(format!("failed: {}", failures.load(Ordering::SeqCst)));
        bar.finish();
    }
    let summary = report.summary();
    say(&crate::shown(&summary));
    let _ = std::io::stderr().flush();
    Ok(if report.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `handoff revoke`.
pub fn revoke(a: cli::RevokeArgs, verbose: bool) -> Result<ExitCode> {
    let ledger = Ledger::open_default()?;
    let records = ledger.records()?;
    let targets = match (&a.selector, &a.userid) {
        (Some(sel), None) => match rv::targets(&records, sel, a.all_sessions) {
            // An ambiguous selector: each candidate on its own line, then
            // the error.
            Err(e) if !e.related().is_empty() => {
                for each in e.related() {
                    eprintln!("handoff: {}", crate::shown(&each.to_string()));
                }
                return Err(Error::usage(e.to_string()));
            }
            r => r.map_err(|e| crate::cli_hints::revoke_targets(e, sel, &records))?,
        },
        (None, Some(id)) => {
            let principal = match (&a.user, &a.role) {
                (Some(u), None) => Principal::User(u.clone()),
                (None, Some(r)) => Principal::Role(r.clone()),
                _ => {
                    return Err(Error::usage(
                        "--userid needs --user NAME (federation or session tokens) or --role NAME (role sessions)",
                    ))
                }
            };
            vec![rv::Target {
                principal,
                sessions: vec![rv::Session {
                    userid: id.clone(),
                    issued: None,
                }],
            }]
        }
        _ => return Err(Error::usage("give a SELECTOR or --userid ID")),
    };
    let iam = Iam::new(iam_settings(&a.aws, verbose).resolve(Service::Iam)?)?;
    if !a.dry_run && !a.yes {
        let what: Vec<String> = targets
            .iter()
            .map(|t| format!("{} on {}", t.userids().join(", "), t.principal))
            .collect();
        if !std::io::stdin().is_terminal() {
            return Err(Error::usage(format!(
                "revoke would deny {}; confirm with --yes",
                what.join("; ")
            )));
        }
        eprint!("Deny {}? [y/N] ", crate::shown(&what.join("; ")));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("handoff: nothing revoked");
            return Ok(ExitCode::from(1));
        }
    }
    // The per-principal locks live beside the ledger.
    let lock_dir = ledger
        .path()
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let mut failed: Option<Error> = None;
    let mut wrote = false;
    let mut held_only = true;
    for t in &targets {
        let mut warn = |w: &str| eprintln!("handoff: {}", crate::shown(w));
        let out = match rv::revoke(&iam, t, a.dry_run, Some(&lock_dir), &mut warn) {
            Ok(o) => o,
            Err(e) => {
                // Other principals still get their revocation; the first
                // failure is the answer.
                if targets.len() > 1 {
                    eprintln!("handoff: {}", crate::shown(&e.to_string()));
                }
                failed.get_or_insert(e);
                held_only = false;
                continue;
            }
        };
        let who = crate::shown(&t.principal.to_string());
        if !out.already.is_empty() {
            let list: Vec<String> = out
                .already
                .iter()
                .map(|(u, at)| format!("{u} (cut-off {})", handoff::clock::format_rfc3339(*at)))
                .collect();
            eprintln!(
                "handoff: already revoked on {who}, as IAM holds it: {}",
                crate::shown(&list.join(", "))
            );
        }
        if a.dry_run {
            match (&out.place, &out.plan) {
                (Some(place), Some(plan)) => {
                    crate::print(format!("{}\n", plan.document).as_bytes())?;
                    eprintln!(
                        "handoff: dry run: would revoke {} on {who} in the {place} ({} of {} characters{}); nothing written",
                        crate::shown(&out.revoked.join(", ")),
                        plan.size,
                        out.limit,
                        if matches!(place, rv::Place::Inline) && out.others > 0 {
                            format!(", with {} in other inline policies", out.others)
                        } else {
                            String::new()
                        }
                    );
                }
                _ => eprintln!("handoff: dry run: nothing to write on {who}"),
            }
            held_only = false;
            continue;
        }
        // Only what IAM was read back holding is recorded.
        let mut confirmed: Vec<(String, std::time::SystemTime)> = out.already.clone();
        confirmed.extend(out.revoked.iter().map(|u| (u.clone(), out.at)));
        let n = rv::record(&ledger, &confirmed)?;
        if let (Some(place), Some(plan)) = (&out.place, &out.plan) {
            wrote = true;
            held_only = false;
            eprintln!(
                "handoff: revoked {} on {who}: cut-off {}, read back from the {place} ({} characters; {} ledger record{} marked{})",
                crate::shown(&out.revoked.join(", ")),
                handoff::clock::format_rfc3339(out.at),
                plan.size,
                n,
                if n == 1 { "" } else { "s" },
                if out.lost_writes > 0 {
                    format!(
                        "; {} write{} lost to another writer and made again",
                        out.lost_writes,
                        if out.lost_writes == 1 { " was" } else { "s were" }
                    )
                } else {
                    String::new()
                }
            );
            if !plan.pruned.is_empty() {
                eprintln!(
                    "handoff: pruned revocations whose tokens have all ended: {}",
                    crate::shown(&plan.pruned.join(", "))
                );
            }
        } else if n > 0 {
            eprintln!(
                "handoff: {n} ledger record{} marked revoked",
                if n == 1 { "" } else { "s" }
            );
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if wrote {
        eprintln!("handoff: IAM changes take effect within seconds to a few minutes");
    }
    if held_only && !a.dry_run {
        let what = a.selector.as_deref().or(a.userid.as_deref()).unwrap_or("");
        return Err(Error::other(format!(
            "every handoff {} names is already revoked; nothing written",
            crate::shown(&format!("{what:?}"))
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// The duration and policy the seal arguments ask for, checked.
pub fn duration_and_policy(
    a: &cli::SealArgs,
) -> Result<(Option<std::time::Duration>, Option<Policy>)> {
    let duration = a
        .duration
        .as_deref()
        .map(|d| {
            handoff::parse_duration(d).ok_or_else(|| {
                Error::usage(format!(
                    "--duration {d:?} is not a duration: give seconds, or 90m, 3h, 1h30m"
                ))
            })
        })
        .transpose()?;
    let policy = Policy::from_file_or_actions(
        a.policy_file.as_deref(),
        &a.policy.allow,
        &a.policy.deny,
        a.policy.unknown_actions(),
    )?;
    if let Some(p) = &policy {
        aws::check_policy(p)?;
        if p.denies_only() {
            eprintln!("handoff: warning: the policy only denies, so these credentials can do nothing; add --allow ACTION");
        }
    }
    Ok((duration, policy))
}

/// Mints with STS. Every argument is checked before the request.
pub fn mint(a: &cli::SealArgs, verbose: bool) -> Result<Token> {
    let (duration, policy) = duration_and_policy(a)?;
    if a.mfa_serial.is_some() && !a.session {
        return Err(Error::usage(
            "--mfa-serial and --token-code apply to --session",
        ));
    }
    let mfa = match (&a.mfa_serial, &a.token_code) {
        (Some(serial), Some(code)) => Some(Mfa {
            serial: serial.clone(),
            code: code.clone(),
        }),
        (Some(serial), None) => Some(Mfa {
            serial: serial.clone(),
            code: ask_mfa_code(serial)?,
        }),
        _ => None,
    };
    let req = if let Some(name) = &a.federation {
        // Without --allow/--deny the federated user gets the empty
        // policy, which denies ec2:* (the contract's Policy rule).
        MintRequest::Federation {
            name: name.clone(),
            policy,
            duration,
        }
    } else if a.session {
        if policy.is_some() {
            return Err(Error::usage(
                "--session takes no policy (GetSessionToken has none); use --federation or --role",
            ));
        }
        MintRequest::Session { duration, mfa }
    } else if let Some(role) = &a.role {
        MintRequest::Role(AssumeRoleRequest {
            role_arn: role.clone(),
            session_name: a.session_name.clone(),
            external_id: a.external_id.clone(),
            policy,
            duration,
        })
    } else {
        return Err(Error::usage(
            "give --federation NAME, --session or --role ARN",
        ));
    };
    req.validate("--duration")?;
    let settings = Settings {
        profile: a.aws.profile.clone(),
        region: a.aws.region.clone(),
        endpoint_url: a.aws.endpoint_url.clone(),
        verbose,
    };
    Sts::new(settings.resolve(Service::Sts)?)?.mint(&req)
}

/// The MFA code for `serial`, asked on the terminal (as aws-vault does),
/// once the serial itself has been checked.
fn ask_mfa_code(serial: &str) -> Result<String> {
    aws::check_mfa(&Mfa {
        serial: serial.to_string(),
        code: "000000".into(),
    })?;
    let no_terminal = || {
        Error::usage("--mfa-serial needs --token-code CODE: there is no terminal to ask for it on")
    };
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal());
    }
    eprint!("MFA code for {}: ", crate::shown(serial));
    let _ = std::io::stderr().flush();
    let mut code = String::new();
    std::io::stdin()
        .read_line(&mut code)
        .map_err(|_| no_terminal())?;
    Ok(code.trim().to_string())
}

/// One EC2 action with the token's credentials; the answer as JSON.
pub fn ec2(a: cli::Ec2Args, verbose: bool) -> Result<ExitCode> {
    let params = aws::ec2::parse_params(&a.params)?;
    let action = &a.action;
    aws::ec2::check_action_name(action)?;
    let settings = Settings {
        profile: None,
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
        verbose,
    };
    // Bad flags are refused before the account check's request.
    settings.check()?;
    // The check is made in the region the EC2 call is.
    let token = crate::use_token_in(Some(&a.file), &a.ids, &a.checks, verbose, |t| {
        a.region.clone().or_else(|| t.region().map(str::to_string))
    })?;
    let answer = crate::cli_hints::ec2_client(&token, &settings)?.call(action, &params)?;
    let mut out = serde_json::to_string_pretty(&answer)
        .map_err(|e| Error::other(format!("cannot print the answer: {e}")))?;
    out.push('\n');
    crate::print(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `handoff console`: the token's console sign-in URL, to a browser, stdout
/// or a file. Every flag is checked, and the output file found writable,
/// before the token is opened; a token AWS would refuse is refused before
/// any request.
pub fn console(a: cli::ConsoleArgs, verbose: bool) -> Result<ExitCode> {
    use handoff::console::{self as hc, Options};
    use handoff::secrecy::ExposeSecret;
    let requested = a
        .session_duration
        .as_deref()
        .map(|d| {
            handoff::parse_duration(d).ok_or_else(|| {
                Error::usage(format!(
                    "--session-duration {d:?} is not a duration: give seconds, or 90m, 3h, 1h30m"
                ))
            })
        })
        .transpose()?;
    let options = Options {
        region: a.region.clone(),
        destination: a.destination.clone(),
        service: a.service.clone(),
        session_duration: requested,
        signin_endpoint: a.signin_endpoint.clone(),
        verbose,
    };
    crate::cli_hints::console_options(&options)?;
    if let Some(path) = &a.output {
        handoff::files::check_writable(path, cli::overwrite(a.force))?;
    }
    let token = crate::use_token_checked(
        Some(&a.file),
        &a.ids,
        &a.checks,
        verbose,
        |_| None,
        |t| hc::check_token(t).map_err(crate::cli_hints::console_token),
    )?;
    let got = hc::session_duration(&token, requested)
        .map_err(crate::cli_hints::console_session_duration)?;
    if let (Some(want), Some(got)) = (requested, got) {
        if got < want {
            eprintln!(
                "handoff: the console session is cut to {}, when the credentials expire",
                handoff::clock::human(got)
            );
        }
    }
    let url = hc::signin_url(&token, &options).map_err(crate::cli_hints::console_signin)?;
    drop(token);
    let line = || {
        let mut line =
            zeroize::Zeroizing::new(String::with_capacity(url.expose_secret().len() + 1));
        line.push_str(url.expose_secret());
        line.push('\n');
        line
    };
    if a.print {
        crate::print(line().as_bytes())?;
    } else if let Some(path) = &a.output {
        handoff::files::write_private(path, line().as_bytes(), cli::overwrite(a.force))?;
        eprintln!(
            "Wrote the console sign-in URL to {} (mode 0600); it signs in once, within 15 minutes",
            path.display()
        );
    } else {
        let used = hc::open_in_browser(&url).map_err(crate::cli_hints::console_browser)?;
        eprintln!(
            "handoff: opened the console sign-in with {}; the link works once, within 15 minutes",
            crate::shown(&used)
        );
    }
    Ok(ExitCode::SUCCESS)
}
