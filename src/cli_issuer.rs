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

/// Who minted, as the ledger names them (ARN and user id), with
/// [`minting_identity`]'s warnings.
pub fn minted_by(a: &cli::AwsArgs, verbose: bool) -> Option<(String, String)> {
    minting_identity(a, verbose).map(|c| (c.arn, c.user_id))
}

/// Who the minting credentials belong to (GetCallerIdentity), for the
/// ledger; warns when they are the account's root, whose tokens IAM cannot
/// restrict. `None`, with a warning, when STS does not say.
fn minting_identity(a: &cli::AwsArgs, verbose: bool) -> Option<CallerIdentity> {
    report_identity(caller_identity(a, verbose))
}

/// GetCallerIdentity with the minting credentials.
fn caller_identity(a: &cli::AwsArgs, verbose: bool) -> Result<CallerIdentity> {
    Settings::resolve(&settings(a, verbose), Service::Sts)
        .and_then(Sts::new)
        .and_then(|sts| sts.get_caller_identity())
}

/// The warnings for what GetCallerIdentity said.
fn report_identity(who: Result<CallerIdentity>) -> Option<CallerIdentity> {
    match who {
        Ok(c) => {
            if c.is_root() {
                eprintln!("handoff: warning: minting with the account's root credentials: IAM cannot restrict what root mints, so `handoff revoke` will not be able to stop these tokens");
            }
            Some(c)
        }
        Err(e) => {
            eprintln!("handoff: warning: cannot tell who is minting ({e}); the ledger will not name the minting user");
            None
        }
    }
}

/// `seal --each ROSTER -o DIR`.
pub fn seal_each(a: cli::SealArgs, verbose: bool) -> Result<ExitCode> {
    let Some(roster_path) = a.each.clone() else {
        return Err(Error::Usage("--each needs a roster".into()));
    };
    if !a.to.is_empty() || !a.to_file.is_empty() || a.passphrase || a.passphrase_file.is_some() {
        return Err(Error::Usage(
            "--each seals each token to its person's key from the roster; -r, -R and -p do not apply".into(),
        ));
    }
    let Some(dir) = a.output.clone() else {
        return Err(Error::Usage(
            "--each needs -o DIR: each person's token goes to DIR/NAME.age".into(),
        ));
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "with --each, -o names a directory; {} is not one",
            dir.display()
        )));
    }
    let (duration, policy) = duration_and_policy(&a)?;
    let mint = if let Some(name) = &a.federation {
        if !name.contains(PLACEHOLDER) {
            return Err(Error::Usage(format!(
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
            return Err(Error::Usage(format!(
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
        return Err(Error::Usage(
            "--each mints one token per person: give --federation 'PREFIX{name}' or --role ARN --session-name '{name}'".into(),
        ));
    };
    // Every roster error, one a line, then one line that sums them up.
    let people = match roster::read(&roster_path, &|p| mint.check_person(p)) {
        Err(Error::Usage(m)) if m.lines().count() > 1 => {
            for l in m.lines() {
                eprintln!("handoff: {}", crate::shown(l));
            }
            return Err(Error::Usage(format!(
                "{} errors in the roster; nothing was minted",
                m.lines().count()
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
    let minted_by = minting_identity(&a.aws, verbose);
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
                None => eprintln!("{}", crate::shown(&outcome.line(p))),
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
    eprintln!("{}", crate::shown(&summary));
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
        (Some(sel), None) => rv::targets(&records, sel, a.all_sessions)?,
        (None, Some(id)) => {
            let principal = match (&a.user, &a.role) {
                (Some(u), None) => Principal::User(u.clone()),
                (None, Some(r)) => Principal::Role(r.clone()),
                _ => {
                    return Err(Error::Usage(
                        "--userid needs --user NAME (federation or session tokens) or --role NAME (role sessions)".into(),
                    ))
                }
            };
            vec![rv::Target {
                principal,
                userids: vec![id.clone()],
            }]
        }
        _ => return Err(Error::Usage("give a SELECTOR or --userid ID".into())),
    };
    let iam = Iam::new(iam_settings(&a.aws, verbose).resolve(Service::Iam)?)?;
    if !a.dry_run && !a.yes {
        let what: Vec<String> = targets
            .iter()
            .map(|t| format!("{} on {}", t.userids.join(", "), t.principal))
            .collect();
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
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
    for t in &targets {
        let plan = rv::revoke(&iam, t, &records, a.dry_run)?;
        if a.dry_run {
            crate::print(format!("{}\n", plan.document).as_bytes())?;
            eprintln!(
                "handoff: dry run: {} {} on {} ({} of IAM's characters); nothing written",
                rv::POLICY_NAME,
                if plan.size > 0 { "would be" } else { "is" },
                t.principal,
                plan.size
            );
            continue;
        }
        let n = rv::record(&ledger, &t.userids, plan.at)?;
        eprintln!(
            "handoff: revoked {} on {} (policy {}, {} characters; {} ledger record{} marked)",
            crate::shown(&t.userids.join(", ")),
            crate::shown(&t.principal.to_string()),
            rv::POLICY_NAME,
            plan.size,
            n,
            if n == 1 { "" } else { "s" }
        );
        if !plan.pruned.is_empty() {
            eprintln!(
                "handoff: pruned expired revocations: {}",
                crate::shown(&plan.pruned.join(", "))
            );
        }
    }
    if !a.dry_run {
        eprintln!("handoff: IAM changes take effect within seconds to a few minutes");
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
                Error::Usage(format!(
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
        return Err(Error::Usage(
            "--mfa-serial and --token-code apply to --session".into(),
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
            return Err(Error::Usage(
                "--session takes no policy (GetSessionToken has none); use --federation or --role"
                    .into(),
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
        return Err(Error::Usage(
            "give --federation NAME, --session or --role ARN".into(),
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
        Error::Usage(
            "--mfa-serial needs --token-code CODE: there is no terminal to ask for it on".into(),
        )
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
    let answer = token.new_ec2_with(&settings)?.call(action, &params)?;
    let mut out = serde_json::to_string_pretty(&answer)
        .map_err(|e| Error::Other(format!("cannot print the answer: {e}")))?;
    out.push('\n');
    crate::print(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
