//! The command line's AWS side (feature `aws`): minting for `seal`,
//! `seal --each`, `revoke` and `ec2`. Flag checks, one library call each,
//! and what is printed; the work is in handoff::aws, handoff::issuer::batch,
//! handoff::issuer::ledger and handoff::issuer::revoke.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use handoff::aws::{self, AssumeRoleRequest, Iam, Mfa, MintRequest, Principal, Service, Settings};
use handoff::issuer::batch::{self, Event, Outcome};
use handoff::issuer::issue::{Hooks, Mint, SealRequest, Sealed, Signer, Source, To};
use handoff::issuer::ledger::Ledger;
use handoff::issuer::roster::PLACEHOLDER;
use handoff::{issuer::revoke as rv, shown, Error, ErrorKind, Policy, Result};

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

/// One line on stderr; a closed or broken stderr is no reason to stop (or
/// to panic mid-batch, after a person's token was minted).
fn say(line: &str) {
    handoff::cli_common::eprint_line(line);
}

/// `seal --each ROSTER -o DIR`: the flags that only apply to one seal
/// refused, then one library call ([`handoff::issuer::issue::seal`], whose roster
/// glue is handoff::issuer::batch) with the progress on stderr: a bar on a
/// terminal, one line per person otherwise, and the summary.
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
    let request = SealRequest {
        to: To::Roster(&roster_path),
        form: a.form(),
        signer: a.sign.as_deref().map(Signer::File),
        source: mint_source(&a, verbose)?,
        label: a.label.clone(),
        region: a.aws.region.clone(),
        allow_expired: a.allow_expired,
        output: Some(&dir),
        overwrite: cli::overwrite(a.force),
        record: !a.no_ledger,
        jobs: usize::from(a.jobs),
    };

    let progress = Progress::default();
    let on_event = |e: Event<'_>| progress.event(e);
    let hooks = Hooks {
        warn: &|w| say(&format!("handoff: {w}")),
        passphrase: &|path| a.signing_key_passphrase(path),
        mfa_code: &ask_mfa_code,
        on_event: &on_event,
        stop: &progress.stop,
    };
    let report = match handoff::issuer::issue::seal(request, &hooks) {
        Ok(Sealed::Batch(report)) => report,
        // Every roster error, one a line, then one line that sums them up.
        Err(e) if !e.related().is_empty() => {
            for each in e.related() {
                say(&format!("handoff: {}", shown(&each.to_string())));
            }
            return Err(Error::usage(format!(
                "{} errors in the roster; nothing was minted",
                e.related().len()
            )));
        }
        Err(e) => return Err(in_cli_words(e)),
        Ok(_) => return Err(Error::other("the roster's batch did not run")),
    };
    progress.finish();
    let summary = report.summary();
    say(&shown(&summary));
    let _ = std::io::stderr().flush();
    Ok(if report.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `seal --each`'s progress on stderr: a bar on a terminal (who is being
/// minted, how many failed), one line per person otherwise; and Ctrl-C.
#[derive(Default)]
struct Progress {
    /// Set by Ctrl-C (or TERM) once the batch has begun: no new mint starts.
    stop: Arc<AtomicBool>,
    bar: OnceLock<Option<indicatif::ProgressBar>>,
    failures: AtomicUsize,
    current: Mutex<Vec<String>>,
}

impl Progress {
    fn bar(&self) -> Option<&indicatif::ProgressBar> {
        self.bar.get().and_then(Option::as_ref)
    }

    fn event(&self, e: Event<'_>) {
        let (person, started) = match &e {
            // Every check has passed: Ctrl-C (or TERM) now stops new mints,
            // a second one ends the process, and the bar appears.
            Event::Begin(total) => {
                for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                    let _ = signal_hook::flag::register_conditional_shutdown(
                        sig,
                        130,
                        self.stop.clone(),
                    );
                    let _ = signal_hook::flag::register(sig, self.stop.clone());
                }
                self.bar.get_or_init(|| progress_bar(*total));
                return;
            }
            Event::Waiting(dir) => {
                say(&format!(
                    "handoff: waiting for another batch into {} to finish",
                    shown(&dir.display().to_string())
                ));
                return;
            }
            Event::Started(p) => (*p, true),
            Event::Finished(p, _) => (*p, false),
            Event::Recovered(n) => {
                let (s, it) = if *n == 1 { ("", "it") } else { ("s", "them") };
                let line = format!(
                    "handoff: {n} record{s} of an earlier batch into this folder marked undelivered (the files were never put in place; `handoff issued` lists {it}, `handoff revoke` can stop {it})"
                );
                match self.bar() {
                    Some(bar) => bar.println(line),
                    None => say(&line),
                }
                return;
            }
            _ => return,
        };
        if let Ok(mut cur) = self.current.lock() {
            if started {
                cur.push(person.name.clone());
            } else {
                cur.retain(|n| n != &person.name);
            }
        }
        if let Event::Finished(p, outcome) = &e {
            if matches!(outcome, Outcome::Failed(_)) {
                self.failures.fetch_add(1, Ordering::SeqCst);
            }
            match self.bar() {
                Some(bar) => {
                    if let Outcome::Failed(err) = outcome {
                        bar.println(shown(&format!("{}: failed: {err}", p.name)));
                    }
                    bar.inc(1);
                }
                None => say(&shown(&outcome.line(p))),
            }
        }
        if let Some(bar) = self.bar() {
            let now = self
                .current
                .lock()
                .map(|c| c.join(", "))
                .unwrap_or_default();
            bar.set_message(format!(
                "{now}  failed: {}",
                self.failures.load(Ordering::SeqCst)
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar() {
            bar.set_message(format!("failed: {}", self.failures.load(Ordering::SeqCst)));
            bar.finish();
        }
    }
}

/// A bar for `total` people when stderr is a terminal.
fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// The library's refusals of a seal request in the command line's words,
/// from their typed causes: a duration STS does not grant is
/// `--duration`'s, and a batch's names are `--federation`'s and
/// `--session-name`'s; the signing key's passphrase is
/// `--sign-passphrase-file`'s.
pub fn in_cli_words(e: Error) -> Error {
    let e = crate::errors::signing_key_error(e);
    if e.kind() != &ErrorKind::InvalidArgument {
        return e;
    }
    let cause = std::error::Error::source(&e);
    if let Some(out) = cause.and_then(|c| c.downcast_ref::<aws::sts::DurationOutOfRange>()) {
        return Error::usage(format!("--duration {out}"));
    }
    let words = match cause.and_then(|c| c.downcast_ref::<batch::NotPerPerson>()) {
        Some(batch::NotPerPerson::FederationName) => format!(
            "--each needs {PLACEHOLDER} in --federation (say 'ws-{PLACEHOLDER}'): each person's session must be their own, to be revoked and attributed on its own"
        ),
        Some(batch::NotPerPerson::SessionName) => format!(
            "--each with --role needs {PLACEHOLDER} in --session-name: each person's session must be their own, to be revoked and attributed on its own"
        ),
        _ => return e,
    };
    Error::usage(words)
}

/// `handoff revoke`.
pub fn revoke(a: cli::RevokeArgs, verbose: bool) -> Result<ExitCode> {
    let ledger = Ledger::open_default()?;
    // A team ledger: its records with their revisions (the revocation is
    // a write conditional on them), and, meanwhile, who revokes (the lease
    // and the records name them).
    let (read, revoker) = std::thread::scope(|s| {
        let who = s.spawn(|| match (&ledger, a.dry_run) {
            (Ledger::Table(_), false) => Some(
                iam_settings(&a.aws, verbose)
                    .resolve(Service::Sts)
                    .and_then(aws::Sts::new)
                    .and_then(|s| s.get_caller_identity())
                    .map(|c| c.arn),
            ),
            _ => None,
        });
        let read = match &ledger {
            Ledger::Table(t) => t.read_revisions().map(|(items, warnings)| {
                for w in &warnings {
                    eprintln!("handoff: warning: {}", crate::shown(w));
                }
                items
            }),
            _ => ledger
                .records()
                .map(|r| r.into_iter().map(|r| (r, 0)).collect()),
        };
        (read, who.join())
    });
    let revisions: Vec<(handoff::issuer::ledger::Record, u64)> = read?;
    let revoker = revoker
        .map_err(|_| Error::other("the caller identity lookup failed"))?
        .transpose()?;
    let records: Vec<handoff::issuer::ledger::Record> =
        revisions.iter().map(|(r, _)| r.clone()).collect();
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
            r => r.map_err(|e| crate::hints::revoke_targets(e, sel, &records))?,
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
    // The per-principal locks live beside a file ledger (else in the
    // default ledger's folder). A team ledger: this machine's revokes queue
    // on that lock, then take a lease per principal in the table, in the
    // name of the revoking credentials.
    let lock_dir = ledger
        .path()
        .map_or(Ledger::default_path()?, |p| p.to_path_buf());
    let lock_dir = lock_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let serial = match (&ledger, &revoker) {
        (Ledger::Table(table), Some(holder)) => rv::Serial::Lease {
            lock_dir: Some(&lock_dir),
            table,
            holder,
            wait: handoff::issuer::lease::WAIT,
        },
        _ => rv::Serial::LockFile(&lock_dir),
    };
    let mut failed: Option<Error> = None;
    let mut wrote = false;
    let mut held_only = true;
    for t in &targets {
        let mut warn = |w: &str| eprintln!("handoff: {}", crate::shown(w));
        let out = match rv::revoke(&iam, t, a.dry_run, &serial, &mut warn) {
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
        let n = match &ledger {
            Ledger::Table(table) => {
                rv::record_in_table(table, &revisions, &confirmed, revoker.as_deref())?
            }
            _ => rv::record(&ledger, &confirmed)?,
        };
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

/// The mint `--federation`, `--session` or `--role` and their options ask
/// for, as the library takes it ([`handoff::issuer::issue::Source::Mint`]): the
/// flags parsed and their combinations checked here; every STS rule is the
/// library's ([`MintRequest::validate`]), applied by the one seal call, for
/// `seal` and `seal --each` alike.
pub fn mint_source(a: &cli::SealArgs, verbose: bool) -> Result<Source> {
    let (duration, policy) = duration_and_policy(a)?;
    if a.mfa_serial.is_some() && !a.session {
        return Err(Error::usage(
            "--mfa-serial and --token-code apply to --session",
        ));
    }
    let mfa = a.mfa_serial.as_ref().map(|serial| Mfa {
        serial: serial.clone(),
        code: a.token_code.clone().unwrap_or_default(),
    });
    let request = if let Some(name) = &a.federation {
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
    } else if a.each.is_some() {
        return Err(Error::usage(
            "--each mints one token per person: give --federation 'PREFIX{name}' or --role ARN --session-name '{name}'",
        ));
    } else {
        return Err(Error::usage(
            "give --federation NAME, --session or --role ARN",
        ));
    };
    Ok(Source::Mint(Mint {
        request,
        settings: settings(&a.aws, verbose),
        ask_mfa_code: a.mfa_serial.is_some() && a.token_code.is_none(),
    }))
}

/// The MFA code for `serial`, asked on the terminal (as aws-vault does);
/// the library asks once the serial itself has been checked.
pub fn ask_mfa_code(serial: &str) -> Result<String> {
    let no_terminal = || {
        Error::usage("--mfa-serial needs --token-code CODE: there is no terminal to ask for it on")
    };
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal());
    }
    eprint!("MFA code for {}: ", shown(serial));
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
    let answer = crate::hints::ec2_client(&token, &settings)?.call(action, &params)?;
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
    use handoff::recipient::console::{self as hc, Options};
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
    crate::hints::console_options(&options)?;
    if let Some(path) = &a.output {
        handoff::files::check_writable(path, cli::overwrite(a.force))?;
    }
    let token = crate::use_token_checked(
        Some(&a.file),
        &a.ids,
        &a.checks,
        verbose,
        |_| None,
        |t| hc::check_token(t).map_err(crate::hints::console_token),
    )?;
    let got =
        hc::session_duration(&token, requested).map_err(crate::hints::console_session_duration)?;
    if let (Some(want), Some(got)) = (requested, got) {
        if got < want {
            eprintln!(
                "handoff: the console session is cut to {}, when the credentials expire",
                handoff::clock::human(got)
            );
        }
    }
    let url = hc::signin_url(&token, &options).map_err(crate::hints::console_signin)?;
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
        let used = hc::open_in_browser(&url).map_err(crate::hints::console_browser)?;
        eprintln!(
            "handoff: opened the console sign-in with {}; the link works once, within 15 minutes",
            crate::shown(&used)
        );
    }
    Ok(ExitCode::SUCCESS)
}
