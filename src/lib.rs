//! Hand temporary AWS credentials to someone safely, with no secure channel
//! between you.
//!
//! The account holder mints temporary credentials from AWS STS (feature
//! `aws`, on by default), wraps them in a CBOR [envelope] and [`seal()`]s them
//! with age to the recipient's public key. The recipient [`open()`]s the file
//! with no network and hands the credentials to the AWS CLI, an SDK, a shell,
//! or builds an EC2 client from them.
//!
//! ```
//! use handoff::{open, seal, Credentials, Form, Identities, Kind, Recipients, Token};
//! use secrecy::ExposeSecret;
//!
//! // The recipient makes a key and sends its public half.
//! let key = age::x25519::Identity::generate();
//!
//! // The sender seals credentials to it.
//! let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), None, None);
//! let mut to = Recipients::new();
//! to.add(&key.to_public().to_string())?;
//! let sealed = seal(&Token::new(Kind::Static, creds), &to, Form::Armor)?;
//!
//! // The recipient opens it, offline.
//! let mut ids = Identities::new();
//! ids.add_text(key.to_string().expose_secret(), "my key")?;
//! let token = open(&sealed, &ids)?;
//! assert_eq!(token.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
//! # Ok::<(), handoff::Error>(())
//! ```
//!
//! # Module map
//!
//! The folders show the sides. The offline core sits at the root; the
//! rest is grouped by who uses it. Arrows point one way: each group uses
//! only what is listed above it (`scripts/import-graph` prints the graph
//! and fails on a circle; `scripts/test` runs it).
//!
//! - The core, at the root: `error` ([`Error`] and its [`ErrorKind`]),
//!   [`files`] (the one bounded reader, small key files, atomic 0600
//!   writes, the lock beside a file), [`paths`] (where the default
//!   identity, signers, config, ledger and shared credentials files are),
//!   `credentials` ([`Token`], [`Credentials`], [`Provenance`]), [`clock`],
//!   [`envelope`] (the token as CBOR), `policy` ([`Policy`]) and
//!   [`describe()`] (what `show` prints).
//! - [`documents`]: what comes in and goes out as text. Reading STS / AWS
//!   CLI / `credential_process` documents ([`read_document`]), [`render`]ing
//!   the output formats with `documents::shells`' quoting and
//!   [`environment()`], [`documents::ini`] (the AWS shared files read as
//!   botocore reads them) and [`documents::credentials_file`] (one profile
//!   of `~/.aws/credentials`, and its region in `~/.aws/config`).
//! - [`mod@seal`] ([`seal()`], [`open()`]): age around the envelope:
//!   `recipients` ([`Recipients`]), `identities` ([`Identities`]),
//!   `age_file` (forms, header bounds, decryption), [`seal::signing`] (SSH
//!   signing keys, the signers file, the signed-open policy), `plugin`,
//!   [`Prompt`], `recipients_file`, `ssh_wire` and `pem_rsa` (key
//!   parsing: SSH keys the age crate would panic on, refused first) and
//!   [`seal::keys`] (new identities). Its `stamped` is the one place a seal,
//!   signed or not, gets its `IssuedAt`.
//! - [`aws`] (feature `aws`): `config` (settings, profiles) → `sigv4`,
//!   `tls`, `retry` → `transport` → `xml` → `types`; [`aws::sts`],
//!   [`aws::ec2`], [`aws::iam`] and [`aws::dynamodb`] on top.
//! - [`recipient`]: the recipient's side once a token is open:
//!   [`recipient::account`] (expiry and the expected account),
//!   [`recipient::server`] (`exec --server`'s credential server),
//!   `recipient::sdk` (the SDK for Rust's credentials provider) and
//!   `recipient::console` (a browser signed in to the AWS console).
//! - [`issuer`]: the issuer's side: [`issuer::issue`] (one request, one
//!   call, for a single seal and for a batch), [`issuer::ledger`] (the
//!   record of what was sealed: a file, or a DynamoDB table a team
//!   shares: `issuer::ledger::table`), [`issuer::roster`], `issuer::batch`
//!   and `issuer::revoke`, which serialises on one IAM principal with a
//!   lock file, or across machines with `issuer::lease` (an item in the
//!   team's table).
//! - [`cli_common`] (feature `cli`): what only a command-line program
//!   needs (age's `cli_common` is the model): passphrase prompts and
//!   files, no core dumps, unbuffered stdout.
//! - The `handoff` binary (`src/bin/handoff/`, feature `cli`) parses the
//!   command line, checks the flag combinations clap cannot, sets up
//!   prompts and the terminal, calls the library and maps each
//!   [`ErrorKind`] to the contract's exit status and words; nothing here
//!   uses it.
//!
//! # Secrets in memory
//!
//! Secrets are held in [`secrecy::SecretString`] and zeroizing buffers, and
//! redacted in `Debug`. Libraries underneath (age's chunk buffers, serde's
//! temporaries) can still leave copies in freed memory that no wrapper type
//! reaches; the `handoff` binary closes those with a zeroizing global
//! allocator, and programs that embed this crate should do the same:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> = zeroizing_alloc::ZeroAlloc(std::alloc::System);
//! # fn main() {}
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// `eprintln!` that never panics (std's panics when stderr is a closed
/// pipe): a message that cannot be written is lost, and the command goes on
/// to its own exit status.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "cli")]
pub mod cli_common;
pub mod clock;
mod credentials;
mod describe;
pub mod documents;
pub mod envelope;
mod error;
// The binary's map of kinds to exit statuses, for the unit tests (it names
// the crate `handoff`, as the binary does).
pub mod files;
pub mod issuer;
pub mod paths;
mod policy;
pub mod recipient;
pub mod seal;

pub use age;
pub use secrecy;

pub use clock::parse_duration;
pub use credentials::{AssumedRoleUser, Credentials, FederatedUser, Kind, Provenance, Token};
pub use describe::{describe, shown};
pub use documents::environment::{environment, Environment};
pub use documents::{
    parse_document, read_document, read_document_file, render, OutputFormat, MAX_DOCUMENT_SIZE,
};
pub use error::{Error, ErrorKind, Result};
pub use policy::{check_action, iam_actions_source, Policy, UnknownActions};
pub use seal::prompt::Prompt;
pub use seal::{
    decrypt, open, open_with, read_sealed, read_sealed_file, seal, seal_signed, Form, Identities,
    Recipients, MAX_HEADER_BYTES, MAX_SEALED_SIZE,
};
