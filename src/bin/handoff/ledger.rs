//! `handoff ledger init|import|check`: the team ledger's commands (a
//! DynamoDB table, see handoff::issuer::ledger::table), and who the caller is for
//! `issued --mine`.

use std::process::ExitCode;

use handoff::aws::{Service, Settings, Sts};
use handoff::issuer::ledger::table::{TableLedger, TableUrl, INIT_WAIT};
use handoff::issuer::ledger::{Ledger, LedgerFile};
use handoff::{shown, Error, Result};

use crate::cli::{self, LedgerCommand};

fn table(url: &str, endpoint_url: Option<String>, verbose: bool) -> Result<TableLedger> {
    TableLedger::open(&TableUrl::parse(url)?, endpoint_url, verbose)
}

/// `handoff ledger ...`.
pub fn ledger(c: LedgerCommand, verbose: bool) -> Result<ExitCode> {
    match c {
        LedgerCommand::Init(a) => {
            let t = table(&a.url, a.endpoint_url, verbose)?;
            let created = t.init(INIT_WAIT)?;
            if created {
                println!("created {} (on-demand capacity); it is active", t.url());
            } else {
                println!("{} is there and active; nothing to do", t.url());
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Import(a) => import(a, verbose),
        LedgerCommand::Check(a) => {
            let t = table(&a.url, a.endpoint_url, verbose)?;
            let lines = t.check()?;
            let mut all = true;
            for l in &lines {
                all &= l.ok;
                let mark = if l.ok { "ok" } else { "NO" };
                println!(
                    "{:<10} {mark:<3} {}",
                    format!("{}:", l.what),
                    shown(&l.detail)
                );
            }
            Ok(if all && lines.len() > 1 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// `handoff ledger import FILE --to URL`: each record put only if its
/// token id is absent; the counts on stdout.
fn import(a: cli::LedgerImportArgs, verbose: bool) -> Result<ExitCode> {
    if std::fs::symlink_metadata(&a.file).is_err() {
        return Err(Error::usage(format!(
            "no ledger file {}",
            shown(&a.file.display().to_string())
        )));
    }
    let reading = LedgerFile::new(&a.file).read()?;
    for w in &reading.warnings {
        eprintln!("handoff: warning: {}", shown(w));
    }
    let t = table(&a.to, a.endpoint_url, verbose)?;
    t.check_writable()?;
    let (mut copied, mut there) = (0usize, 0usize);
    for r in &reading.records {
        match t.put_if_absent(r) {
            Ok(true) => copied += 1,
            Ok(false) => there += 1,
            Err(e) => {
                println!(
                    "copied {copied}, already there {there}, stopped at {}",
                    r.token_id
                );
                return Err(e);
            }
        }
    }
    println!("copied {copied}, already there {there}");
    Ok(ExitCode::SUCCESS)
}

/// The ARN of the caller, for `issued --mine`: the table's signer for a
/// team ledger, the credential chain's otherwise.
pub fn caller_arn(ledger: &Ledger, verbose: bool) -> Result<String> {
    match ledger {
        Ledger::Table(t) => t.caller_arn(),
        _ => {
            let settings = Settings {
                verbose,
                ..Settings::default()
            };
            Ok(Sts::new(settings.resolve(Service::Sts)?)?
                .get_caller_identity()?
                .arn)
        }
    }
}
