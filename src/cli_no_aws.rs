//! The command line without feature `aws`: the commands and flags that need
//! AWS say so (exit status 2).

use std::process::ExitCode;

use handoff::{Error, Result, Token};

use crate::cli;

fn no_aws<T>() -> Result<T> {
    Err(Error::Usage(
        "this build of handoff has no AWS support (feature aws)".into(),
    ))
}

pub fn mint(_: &cli::SealArgs, _: bool) -> Result<Token> {
    no_aws()
}

pub fn minted_by_token(_: &cli::AwsArgs, _: bool, _: &Token) -> Option<(String, String)> {
    None
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

pub fn caller_arn(_: &handoff::ledger::Ledger, _: bool) -> Result<String> {
    no_aws()
}
