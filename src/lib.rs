//! Hand temporary AWS credentials to someone safely, with no secure channel
//! between you.
//!
//! The account holder mints temporary credentials from AWS STS (feature
//! `aws`, on by default), wraps them in a CBOR [envelope] and [`seal`]s them
//! with age to the recipient's public key. The recipient [`open`]s the file
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
//! Arrows point one way: each module uses only modules listed above it
//! (`scripts/import-graph` prints the graph and fails on a circle).
//!
//! - [`files`]: the one bounded reader (`read_capped`), small key files,
//!   atomic 0600 writes, the lock beside a file. A leaf: it uses only
//!   [`Error`]. [`paths`]: where the default identity, signers, config,
//!   ledger and shared credentials files are. A leaf. [`ini`]: the AWS
//!   shared files read as botocore reads them (over [`files`]), for the
//!   profile chain and for `credentials_file`.
//! - `credentials` ([`Token`], [`Credentials`], [`Provenance`]) and
//!   [`clock`]: the data. [`envelope`] writes and reads it as CBOR;
//!   `documents` reads STS / AWS CLI / `credential_process` documents
//!   ([`read_document`]) and [`render`]s the output formats, with
//!   [`environment()`] and the shell quoting.
//! - [`signing`]: SSH signing keys, the signers file, and the signed-open
//!   policy (`trust`: listed signer, not re-addressed).
//! - `seal` ([`seal()`], [`open()`]): age around the envelope, in
//!   `seal/recipients` ([`Recipients`]), `seal/identities` ([`Identities`])
//!   and `seal/age_file` (forms, header bounds, decryption); it uses
//!   `signing`, `plugin`, `prompt`, `recipients_file`, `ssh_wire` (SSH
//!   keys the age crate would panic on, refused first). Its `stamped` is
//!   the one place a seal, signed or not, gets its `IssuedAt`.
//! - [`describe()`]: what `show` prints. [`credentials_file`]: one profile of
//!   `~/.aws/credentials` (and its region in `~/.aws/config`), written over
//!   `documents`, [`ini`] and [`files`]. [`keys`]:
//!   new identities. [`ledger`]: the issuer's record of what was sealed.
//! - [`cli_common`]: what only a command-line program needs (passphrase
//!   prompts and files, the `open -f ini` section name, no core dumps,
//!   unbuffered stdout).
//! - [`aws`] (feature `aws`): `config` (settings, profiles) → `sigv4`,
//!   `tls`, `retry` → `transport` → `xml` → `types`; [`aws::sts`],
//!   [`aws::ec2`] and [`aws::iam`] on top. [`account`], [`server`],
//!   [`roster`], [`batch`] (per-person mints, sealed as `seal` prepares
//!   each token) and [`revoke`] use them with a [`Token`]. [`console`]
//!   signs a browser in to the AWS console with a token (one unsigned
//!   request on the same transport).
//! - [`issue`]: `handoff seal` as one request ([`issue::SealRequest`]:
//!   recipients or a roster, form, signer, where the credentials come
//!   from, label, output, ledger) and one call ([`issue::seal()`]) for a
//!   single handoff (expiry, label, region, seal signed or not, ledger,
//!   file) and a roster's batch (over [`batch`], feature `aws`) alike.
//! - The `handoff` binary (`src/main.rs`, `src/cli.rs`, `src/cli_errors.rs`,
//!   `src/cli_issuer.rs`, `src/cli_no_aws.rs`) parses the command line,
//!   checks the flag combinations clap cannot, sets up prompts and the
//!   terminal, calls the library, maps each [`ErrorKind`] to the exit status
//!   and adds the flag hints no library message names; nothing here uses it.
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

pub mod account;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod batch;
pub mod cli_common;
pub mod clock;
#[cfg(feature = "aws")]
pub mod console;
mod credentials;
pub mod credentials_file;
mod describe;
mod documents;
pub mod envelope;
pub mod environment;
mod error;
// The binary's map of kinds to exit statuses, for the unit tests (it names
// the crate `handoff`, as the binary does).
pub mod files;
pub mod ini;
pub mod issue;
pub mod keys;
#[cfg(feature = "aws")]
pub mod lease;
pub mod ledger;
#[cfg(feature = "aws")]
pub mod ledger_table;
pub mod mistakes;
pub mod paths;
mod pem_rsa;
mod plugin;
mod policy;
mod prompt;
mod recipients_file;
pub mod revoke;
pub mod roster;
#[cfg(feature = "aws")]
pub mod sdk;
mod seal;
pub mod server;
mod shells;
pub mod signing;
mod ssh_wire;

pub use age;
pub use secrecy;

pub use clock::parse_duration;
pub use credentials::{AssumedRoleUser, Credentials, FederatedUser, Kind, Provenance, Token};
pub use describe::{describe, shown};
pub use documents::{
    parse_document, read_document, read_document_file, render, OutputFormat, MAX_DOCUMENT_SIZE,
};
pub use environment::{environment, Environment};
pub use error::{Error, ErrorKind, Result};
pub use policy::{check_action, iam_actions_source, Policy, UnknownActions};
pub use prompt::Prompt;
pub use seal::{
    decrypt, open, open_with, read_sealed, read_sealed_file, seal, seal_signed, Form, Identities,
    Recipients, MAX_HEADER_BYTES, MAX_SEALED_SIZE,
};
