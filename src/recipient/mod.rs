//! The recipient's side, once a token is open: the credential server
//! (`exec --server`), the account check, the SDK's credentials provider and
//! the console sign-in.

pub mod account;
#[cfg(feature = "aws")]
pub mod console;
#[cfg(feature = "cli")]
pub mod exec;
#[cfg(feature = "aws")]
pub mod sdk;
pub mod server;
