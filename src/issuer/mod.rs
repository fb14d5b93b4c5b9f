//! The issuer's side: one handoff as `seal` makes it ([`issue`]), the
//! record of what was sealed ([`ledger`]), rosters and batches, and
//! revocation.

#[cfg(feature = "aws")]
pub mod batch;
pub mod issue;
#[cfg(feature = "aws")]
pub mod lease;
pub mod ledger;
pub mod revoke;
pub mod roster;
