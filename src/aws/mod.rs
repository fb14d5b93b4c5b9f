//! Talking to AWS (feature `aws`, on by default): minting credentials with
//! STS and calling EC2 with them.
//!
//! - [`Settings`] → [`ClientConfig`]: who signs (the standard credential
//!   chain, or given credentials), in which region, at which endpoint.
//! - [`Sts`]: `get_federation_token`, `get_session_token`, `assume_role`,
//!   `get_caller_identity`, each returning what STS said. Arguments are
//!   checked against STS's rules before any request
//!   ([`check_federation_name`], [`check_duration`], ...).
//! - [`Service::Iam`]: the IAM entry (global endpoint, signed for
//!   `us-east-1`) for an IAM client on the same transport.
//! - [`Dynamodb`]: the JSON protocol's CreateTable, DescribeTable,
//!   PutItem, GetItem, UpdateItem, DeleteItem, Query and Scan (every page),
//!   for the team ledger ([`is_condition_failed`] tells a failed condition).
//! - [`Ec2`]: typed `describe_images`, `describe_availability_zones`,
//!   `describe_regions`, and [`Ec2::call`] for any action. A
//!   [`Token`](crate::Token) makes one with `new_ec2()`.
//!
//! Requests are Query API form POSTs signed with SigV4 (the `aws-sigv4`
//! crate), sent with reqwest and rustls (ring). Connect timeout
//! [`CONNECT_TIMEOUT`] (3 s), read timeout [`READ_TIMEOUT`] (20 s), and an
//! overall deadline per call, retries included, [`CALL_DEADLINE`] (60 s);
//! up to 3 attempts with jittered exponential backoff (100 ms base, 500 ms
//! after throttling, 2 s cap) for throttling, 5xx answers and failed
//! connections (a call that is not idempotent is not sent again once it may
//! have been carried out; EC2 actions that take a `ClientToken` get one);
//! `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured
//! (one that is not a URL is an error; `NO_PROXY=*` covers IP addresses
//! too). Every secret of a call is redacted from what it prints.
//! An AWS error is [`ErrorKind::Aws`](crate::ErrorKind::Aws) (exit status 5); no
//! answer, or one that cannot be read, is
//! a transport error ([`Error::is_transport`](crate::Error::is_transport)) (exit status 6).
//!
//! ```no_run
//! use handoff::aws::{DescribeImages, Service, Settings, Sts};
//! use handoff::Policy;
//! use std::time::Duration;
//!
//! let sts = Sts::new(Settings::default().resolve(Service::Sts)?)?;
//! let policy = Policy::new().allow("DescribeImages").allow("RunInstances");
//! let token = sts.get_federation_token("TemporaryUser", Some(&policy), Some(Duration::from_secs(3 * 3600)))?;
//! let ec2 = token.new_ec2()?;
//! let images = ec2.describe_images(&DescribeImages::owned_by("self"))?;
//! # Ok::<(), handoff::Error>(())
//! ```

mod client_token;
pub mod config;
pub mod dynamodb;
pub mod ec2;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod iam;
mod retry;
mod sigv4;
pub mod sts;
mod tls;
mod transport;
mod types;
mod xml;

// The console's sign-in request (crate::recipient::console): an unsigned GET on the
// same client, its query encoded as the Query API's bodies are.
pub(crate) use sigv4::percent_encode;
pub(crate) use transport::get_once;

pub use config::{ClientConfig, Service, Settings, CALL_DEADLINE, CONNECT_TIMEOUT, READ_TIMEOUT};
pub use dynamodb::{is_condition_failed, Dynamodb};
pub use ec2::{AvailabilityZone, DescribeImages, Ec2, Image, Region};
pub use iam::{Iam, Principal};
pub use sts::{
    check_duration, check_external_id, check_federation_name, check_mfa, check_policy,
    check_role_arn, check_session_name, AssumeRoleRequest, CallerIdentity, Mfa, MintRequest, Sts,
    MAX_POLICY_CHARS, MAX_ROLE_DURATION, MAX_TOKEN_DURATION, MIN_DURATION,
};
