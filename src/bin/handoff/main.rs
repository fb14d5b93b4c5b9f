//! The `handoff` binary: parse, check flag combinations, call the library,
//! map errors to the contract's exit statuses.

#![forbid(unsafe_code)]

/// `eprintln!` that never panics (std's panics when stderr is a closed
/// pipe): a message that cannot be written is lost, and the command goes on
/// to its own exit status.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!`, the same way (the prompts of the issuer's side use it, so a
/// build without feature aws has none).
#[cfg_attr(not(feature = "aws"), allow(unused_macros))]
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;
mod errors;
mod hints;
#[cfg(feature = "aws")]
mod issuer;
#[cfg(not(feature = "aws"))]
#[path = "no_aws.rs"]
mod issuer;
#[cfg(feature = "aws")]
mod ledger;
#[cfg(not(feature = "aws"))]
use issuer as ledger;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::FromArgMatches;
use handoff::cli_common::{self, write_stdout as print};
use handoff::documents::credentials_file;
use handoff::files;
use handoff::issuer::issue::{Hooks, SealRequest, Sealed, Signer, Source, To};
use handoff::secrecy::SecretString;
use handoff::shown;
use handoff::{Error, ErrorKind, Form, Identities, Policy, Prompt, Recipients, Result, Token};

use cli::{Cli, Command};

/// Every heap block is wiped when freed, so the copies that libraries leave in
/// freed memory (age's chunk buffers, serde's temporaries, growing Vecs) do
/// not outlive their use.
#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() -> ExitCode {
    cli_common::standard_streams_open();
    cli_common::no_core_dumps();
    cli_common::open_closed_stdio();
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return cli::usage_error(e),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Messages quote what others wrote (an AWS answer, a file name):
            // their escape sequences are shown, not obeyed. A closed or
            // broken stderr is no reason to panic on the way out.
            for (n, line) in errors::lines(&e).iter().enumerate() {
                let line = shown(line);
                cli_common::eprint_line(&if n == 0 {
                    format!("handoff: {line}")
                } else {
                    line
                });
            }
            ExitCode::from(errors::exit_status(e.kind()))
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Keygen(a) => keygen(a),
        Command::Policy(a) => {
            print(format!("{}\n", build_policy(&a)?).as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Seal(a) => seal(*a, cli.verbose),
        Command::Open(a) => open(a, cli.verbose),
        Command::Show(a) => show(a),
        Command::Exec(a) => exec(a, cli.verbose),
        Command::Ec2(a) => issuer::ec2(a, cli.verbose),
        Command::Issued(a) => issued(a, cli.verbose),
        Command::Ledger(c) => ledger::ledger(c, cli.verbose),
        Command::Revoke(a) => issuer::revoke(a, cli.verbose),
        Command::Console(a) => issuer::console(a, cli.verbose),
        Command::Completions { shell } => {
            print(&cli::completions(shell))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn keygen(a: cli::KeygenArgs) -> Result<ExitCode> {
    if let Some(file) = a.public {
        if file.is_some() && a.file.is_some() {
            return Err(Error::usage(
                "give the file of -y once: keygen -y FILE or keygen -y -- FILE",
            ));
        }
        // keygen -y -- FILE: the file comes after --
        let path = match file.or(a.file) {
            Some(p) => p,
            None => handoff::paths::default_identity_path()?,
        };
        let keys = handoff::seal::keys::public_keys(&path)?;
        print(format!("{}\n", keys.join("\n")).as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = match a.output {
        Some(p) => p,
        None => handoff::paths::default_identity_path()?,
    };
    let public = handoff::seal::keys::keygen(&path, cli::overwrite(a.force))?;
    // as age-keygen does: the file on stderr, the public key on stdout
    eprintln!("Wrote the identity to {} (mode 0600)", path.display());
    print(format!("{public}\n").as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn build_policy(a: &cli::PolicyArgs) -> Result<Policy> {
    Policy::from_actions(&a.allow, &a.deny, a.unknown_actions())
}

fn seal(a: cli::SealArgs, verbose: bool) -> Result<ExitCode> {
    // A team ledger left out is said out loud.
    if a.no_ledger {
        if let Ok(handoff::issuer::ledger::Location::Table(url)) =
            handoff::issuer::ledger::Location::default_location()
        {
            eprintln!(
                "handoff: --no-ledger: not recorded in the team ledger {}",
                shown(&url)
            );
        }
    }
    if a.each.is_some() {
        return issuer::seal_each(a, verbose);
    }
    // Everything that can be refused is refused before any STS call.
    let mut recipients = Recipients::new();
    // age plugins ask on /dev/tty; without a terminal their questions fail.
    recipients.set_prompt(Prompt::Terminal);
    for r in &a.to {
        recipients
            .add(r)
            .map_err(|e| errors::recipient_error(r, e))?;
    }
    if a.to_file.iter().any(|f| f == Path::new("-"))
        && a.federation.is_none()
        && !a.session
        && a.role.is_none()
        && a.input.as_deref().is_none_or(|i| i == Path::new("-"))
    {
        return Err(Error::usage(
            "-R - reads the recipients from stdin, which already carries the credential document: give --input FILE"
                ,
        ));
    }
    for f in &a.to_file {
        for warning in recipients.add_file(f)? {
            eprintln!("handoff: warning: {}", shown(&warning));
        }
    }
    let minting = a.federation.is_some() || a.session || a.role.is_some();
    // A document to seal is read before anything is asked on the terminal
    // (a passphrase, twice, or the signing key's): a missing or bad input
    // is said at once.
    let mut document = None;
    if !minting && (a.passphrase || a.sign.is_some()) {
        document = Some(read_document(a.input.as_deref())?);
    }
    if let Some(f) = &a.passphrase_file {
        recipients.set_passphrase(cli_common::read_passphrase_file(f)?);
    } else if a.passphrase {
        recipients.set_passphrase(ask_new_passphrase()?);
    }
    if recipients.is_empty() {
        return Err(Error::usage(
            "no recipients: give -r/--to RECIPIENT, -R/--to-file FILE, or -p/--passphrase",
        ));
    }
    let form = a.form();
    match &a.output {
        Some(path) => files::check_writable(path, cli::overwrite(a.force))?,
        None if form == Form::Binary && std::io::stdout().is_terminal() => {
            return Err(Error::usage(
                "refusing to write a binary token to the terminal: use -a/--armor, --base64, or -o FILE"
                    ,
            ))
        }
        None => {}
    }
    if !minting {
        let stray = [
            (a.duration.is_some(), "--duration"),
            (!a.policy.allow.is_empty(), "--allow"),
            (!a.policy.deny.is_empty(), "--deny"),
            (a.policy_file.is_some(), "--policy-file"),
            (a.policy.allow_unknown_actions, "--allow-unknown-actions"),
            (a.aws.profile.is_some(), "--profile"),
            (a.aws.endpoint_url.is_some(), "--endpoint-url"),
        ];
        if let Some((_, flag)) = stray.iter().find(|(set, _)| *set) {
            return Err(Error::usage(format!(
                "{flag} applies only when minting (--federation, --session or --role)"
            )));
        }
    }
    let source = if minting {
        issuer::mint_source(&a, verbose)?
    } else {
        Source::Token(match document {
            Some(t) => t,
            None => read_document(a.input.as_deref())?,
        })
    };
    // One request, one library call: the signing key, the ledger check,
    // the mint and who minted, the seal, the record and the file.
    let request = SealRequest {
        to: To::Recipients(&recipients),
        form,
        signer: a.sign.as_deref().map(Signer::File),
        source,
        label: a.label.clone(),
        region: a.aws.region.clone(),
        allow_expired: a.allow_expired,
        output: a.output.as_deref(),
        overwrite: cli::overwrite(a.force),
        record: !a.no_ledger,
        jobs: 1,
    };
    #[cfg(feature = "aws")]
    let stop = std::sync::atomic::AtomicBool::new(false);
    let hooks = Hooks {
        warn: &|w| cli_common::eprint_line(&format!("handoff: {w}")),
        passphrase: &|path| a.signing_key_passphrase(path),
        #[cfg(feature = "aws")]
        mfa_code: &issuer::ask_mfa_code,
        #[cfg(feature = "aws")]
        on_event: &|_| {},
        #[cfg(feature = "aws")]
        stop: &stop,
    };
    if let Sealed::Bytes(sealed) =
        handoff::issuer::issue::seal(request, &hooks).map_err(issuer::in_cli_words)?
    {
        print(&sealed)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `handoff issued`: the ledger, as a table or JSON lines.
fn issued(a: cli::IssuedArgs, verbose: bool) -> Result<ExitCode> {
    // One read: its warnings said once, its emptiness noted.
    let ledger = handoff::issuer::ledger::Ledger::open_default()?;
    let reading = ledger.read()?;
    for w in &reading.warnings {
        cli_common::eprint_line(&format!("handoff: warning: {}", shown(w)));
    }
    let empty = reading.records.is_empty();
    let mut records = reading.records;
    if a.mine {
        let me = ledger::caller_arn(&ledger, verbose)?;
        records.retain(|r| r.minted_by.as_deref() == Some(me.as_str()));
    }
    // A team ledger shows who minted each.
    let out = if ledger.is_table() && !a.json {
        handoff::issuer::ledger::render_team(records, a.all, SystemTime::now())
    } else {
        handoff::issuer::ledger::render(records, a.all, a.json, SystemTime::now())?
    };
    print(out.as_bytes())?;
    if empty {
        match ledger.path() {
            Some(p) => empty_ledger_note(p),
            None => eprintln!(
                "handoff: the team ledger {} holds no handoff yet",
                shown(&ledger.describe())
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `issued` with nothing in the ledger says where the ledger is (or would
/// be), and that it is empty, on stderr.
fn empty_ledger_note(path: &std::path::Path) {
    let state = if path.exists() {
        "is empty"
    } else {
        "does not exist yet"
    };
    eprintln!(
        "handoff: the ledger {} {state}: nothing sealed by this user is recorded (every seal without --no-ledger adds a line)",
        shown(&path.display().to_string())
    );
}

fn ask_new_passphrase() -> Result<SecretString> {
    use handoff::secrecy::ExposeSecret;
    let no_tty =
        || Error::usage("no terminal to ask for the passphrase: use --passphrase-file FILE");
    let first = cli_common::prompt_passphrase("Passphrase: ").ok_or_else(no_tty)?;
    let again = cli_common::prompt_passphrase("Confirm passphrase: ").ok_or_else(no_tty)?;
    if first.expose_secret() != again.expose_secret() {
        return Err(Error::usage("the passphrases do not match"));
    }
    if first.expose_secret().is_empty() {
        return Err(Error::usage("the passphrase is empty"));
    }
    Ok(first)
}

/// Reads a credential document from a file or stdin, bounded.
fn read_document(path: Option<&Path>) -> Result<Token> {
    match path {
        Some(p) if p != Path::new("-") => handoff::read_document_file(p),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Error::usage(
                    "no credential document: pipe one in, give --input FILE, or mint with --federation, --session or --role"
                        ,
                ));
            }
            handoff::read_document(stdin.lock(), "stdin")
        }
    }
}

/// Reads and decrypts the token named on the command line.
fn open_token(file: Option<&Path>, ids: &cli::IdentityArgs) -> Result<Token> {
    let sealed = match file {
        Some(p) if p != Path::new("-") => handoff::read_sealed_file(p)
            .map_err(errors::unreadable_token)
            .map_err(|e| errors::unexpanded_tilde(p, e))?,
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Error::usage("no token: give FILE, or pipe one in"));
            }
            handoff::read_sealed(stdin.lock(), "stdin").map_err(errors::unreadable_token)?
        }
    };
    let mut identities = Identities::new();
    if std::io::stdin().is_terminal() || Path::new("/dev/tty").exists() {
        identities.set_prompt(Prompt::Terminal);
    }
    if let Some(f) = &ids.passphrase_file {
        identities.set_passphrase(cli_common::read_passphrase_file(f)?);
    }
    add_identities(&mut identities, &ids.identity)?;
    let signers = handoff::seal::signing::Signers::choose(ids.signers.as_deref())?;
    let name = file.map_or("stdin".into(), |p| p.display().to_string());
    handoff::open_with(&sealed, &identities, signers.as_ref()).map_err(|e| match e.kind() {
        ErrorKind::Unsigned => errors::unsigned(e),
        ErrorKind::NoIdentity => errors::no_identity(e),
        _ => errors::token_error(&name, &sealed, e),
    })
}

/// The `-i` files, one at a time so that a file of the wrong kind is named
/// as such; none: the default identity file, when there is one.
fn add_identities(identities: &mut Identities, paths: &[std::path::PathBuf]) -> Result<()> {
    let warn = |w: &str| eprintln!("handoff: {}", shown(w));
    if paths.is_empty() {
        return identities.add_files_or_default(&[], warn).map_err(|e| {
            match handoff::paths::default_identity_path() {
                Ok(p) => errors::identity_error(&p, e),
                Err(_) => e,
            }
        });
    }
    for p in paths {
        identities
            .add_files_or_default(std::slice::from_ref(p), warn)
            .map_err(|e| errors::identity_error(p, e))?;
    }
    Ok(())
}

/// Opens a token that is about to be used: decrypted, trusted, not
/// expired (unless allowed), and of the expected account.
fn use_token(
    file: Option<&Path>,
    ids: &cli::IdentityArgs,
    checks: &cli::UseArgs,
    verbose: bool,
) -> Result<Token> {
    use_token_in(file, ids, checks, verbose, |_| None)
}

/// [`use_token`], with the account check's STS call in the region
/// `region_for` gives for the token (`ec2`: its `--region`, else the
/// token's), else the environment's, else the token's.
fn use_token_in(
    file: Option<&Path>,
    ids: &cli::IdentityArgs,
    checks: &cli::UseArgs,
    verbose: bool,
    region_for: impl Fn(&Token) -> Option<String>,
) -> Result<Token> {
    use_token_checked(file, ids, checks, verbose, region_for, |_| Ok(()))
}

/// [`use_token_in`], with `first` run on the decrypted token before the
/// checks that may make a request (`console`: a token kind AWS refuses is
/// refused with no network call at all).
fn use_token_checked(
    file: Option<&Path>,
    ids: &cli::IdentityArgs,
    checks: &cli::UseArgs,
    verbose: bool,
    region_for: impl Fn(&Token) -> Option<String>,
    first: impl Fn(&Token) -> Result<()>,
) -> Result<Token> {
    let token = open_token(file, ids)?;
    first(&token)?;
    let expect = checks.expect_account.as_deref();
    let region = region_for(&token);
    handoff::recipient::account::check_usable(
        &token,
        checks.allow_expired,
        expect,
        verbose,
        region.as_deref(),
    )?;
    Ok(token)
}

fn open(a: cli::OpenArgs, verbose: bool) -> Result<ExitCode> {
    let token = use_token(a.file.as_deref(), &a.ids, &a.checks, verbose)?;
    if let Some(name) = &a.write_profile {
        let path = handoff::paths::shared_credentials_file()?;
        // the config file the region would go into is checked first: a
        // broken one stops here, before the credentials file is touched
        let config = match token.region() {
            Some(_) => Some(handoff::paths::aws_config_file()?),
            None => None,
        };
        if let Some(c) = &config {
            credentials_file::check_config(c)?;
        }
        let replaced = credentials_file::write_profile(&path, name, &token, a.force)?;
        let done = if replaced { "Replaced" } else { "Added" };
        eprintln!("{done} profile [{name}] in {}", path.display());
        // the AWS CLI and SDKs read a profile's region from the config file
        if let (Some(region), Some(config)) = (token.region(), config) {
            if credentials_file::set_region(&config, name, region)? {
                eprintln!(
                    "Set region {region} for profile {name} in {}",
                    config.display()
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = handoff::render(&token, a.format.into(), cli_common::DEFAULT_INI_SECTION)?;
    print(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn show(a: cli::ShowArgs) -> Result<ExitCode> {
    let token = open_token(a.file.as_deref(), &a.ids)?;
    let out = handoff::describe(&token, SystemTime::now());
    print(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn exec(a: cli::ExecArgs, verbose: bool) -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let token = use_token(Some(&a.file), &a.ids, &a.checks, verbose)?;
    let (program, args) = a
        .command
        .split_first()
        .ok_or_else(|| Error::usage("no command to run after --"))?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    if a.server {
        return exec_server(token, cmd, verbose);
    }
    // The child uses these credentials and no others (the rule of
    // handoff::documents::environment, which the shell formats of open follow too).
    handoff::environment(&token).apply(&mut cmd)?;
    drop(token);
    // exec replaces this process: the child's exit status is ours, and no
    // copy of the credentials stays behind in a waiting parent.
    let err = cmd.exec();
    let code = if err.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    eprintln!("handoff: cannot run {}: {err}", program.to_string_lossy());
    Ok(ExitCode::from(code))
}

/// `exec --server`: the library runs CMD beside the credential server.
fn exec_server(token: Token, cmd: std::process::Command, verbose: bool) -> Result<ExitCode> {
    hints::exec_server_token(&token)?;
    let outcome = handoff::recipient::exec::exec(token, cmd, |n| {
        eprintln!(
            "handoff: the command has ended, and {n} process(es) it started still run: \
             the credential server answers them 410 until they end (a signal to handoff stops it)"
        );
    })?;
    for line in outcome.report(verbose) {
        eprintln!("handoff: {}", shown(&line));
    }
    Ok(ExitCode::from(outcome.status))
}
