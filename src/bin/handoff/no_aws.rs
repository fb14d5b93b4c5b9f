//! The command line without feature `aws`: the commands and flags that need
//! AWS say so (exit status 2).

use std::process::ExitCode;

use handoff::issuer::issue::Source;
use handoff::{Error, Result};

use crate::cli;

fn no_aws<T>() -> Result<T> {
    Err(Error::usage(
        "this build of handoff has no AWS support (feature aws)",
    ))
}

pub fn mint_source(_: &cli::SealArgs, _: bool) -> Result<Source> {
    no_aws()
}

/// The signing key's passphrase is `--sign-passphrase-file`'s.
pub fn in_cli_words(e: Error) -> Error {
    crate::errors::signing_key_error(e)
}

pub fn seal_each(_: cli::SealArgs, _: bool) -> Result<ExitCode> {
    no_aws()
}

pub fn revoke(_: cli::RevokeArgs, _: bool) -> Result<ExitCode> {
    no_aws()
}

pub fn ec2(_: cli::Ec2Args, _: bool) -> Result<ExitCode> {
    no_aws()
}

pub fn console(_: cli::ConsoleArgs, _: bool) -> Result<ExitCode> {
    no_aws()
}

pub fn ledger(_: cli::LedgerCommand, _: bool) -> Result<ExitCode> {
    no_aws()
}

pub fn caller_arn(_: &handoff::issuer::ledger::Ledger, _: bool) -> Result<String> {
    no_aws()
}
