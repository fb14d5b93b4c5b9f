//! Handing an opened token to the AWS SDK for Rust (feature `aws`).
//!
//! [`Token`] and [`Credentials`] are credential providers of
//! `aws-credential-types`, so a client is built from a token with no secret
//! copied by hand:
//!
//! ```no_run
//! # fn client(token: handoff::Token) {
//! // with aws-sdk-sts (any SDK client takes a provider the same way)
//! // let config = aws_sdk_sts::Config::builder()
//! //     .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
//! //     .region(aws_sdk_sts::config::Region::new("us-east-1"))
//! //     .credentials_provider(token)
//! //     .build();
//! let creds = aws_credential_types::Credentials::from(token.credentials());
//! assert_eq!(creds.access_key_id(), token.access_key_id());
//! # }
//! ```
//!
//! The SDK keeps the keys in its own zeroizing buffers; the conversion moves
//! each secret into one of them, leaving no plain copy behind. The expiry
//! goes along, so the SDK stops using the credentials when they expire.

use aws_credential_types::provider::{future, ProvideCredentials};
use secrecy::ExposeSecret;

use crate::credentials::{Credentials, Token};

/// The provider name the SDK records for credentials from handoff.
pub const PROVIDER_NAME: &str = "handoff";

impl From<&Credentials> for aws_credential_types::Credentials {
    fn from(c: &Credentials) -> Self {
        aws_credential_types::Credentials::new(
            c.access_key_id(),
            // moved into the SDK's Zeroizing<String>: no copy stays behind
            c.secret_access_key().expose_secret().to_owned(),
            c.session_token().map(|t| t.expose_secret().to_owned()),
            c.expiration(),
            PROVIDER_NAME,
        )
    }
}

impl From<&Token> for aws_credential_types::Credentials {
    fn from(t: &Token) -> Self {
        t.credentials().into()
    }
}

impl ProvideCredentials for Credentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Ok(self.into()))
    }
}

impl ProvideCredentials for Token {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Ok(self.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;

    #[test]
    fn carries_every_field_and_the_expiry() {
        let at = clock::parse_rfc3339("2030-01-01T00:00:00Z");
        let c = Credentials::new(
            "ASIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            Some("session".into()),
            at,
        );
        let sdk = aws_credential_types::Credentials::from(&c);
        assert_eq!(sdk.access_key_id(), "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(
            sdk.secret_access_key(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(sdk.session_token(), Some("session"));
        assert_eq!(sdk.expiry(), at);
        // the SDK's Debug redacts too
        assert!(!format!("{sdk:?}").contains("EXAMPLEKEY"));
    }

    #[test]
    fn a_token_provides_its_credentials() {
        let token = Token::new(
            crate::Kind::Static,
            Credentials::new("AKIA1", "s".into(), None, None),
        );
        let fut = token.provide_credentials();
        // a ready future: polled once with a no-op waker
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(fut);
        match std::future::Future::poll(fut.as_mut(), &mut cx) {
            std::task::Poll::Ready(Ok(c)) => {
                assert_eq!(c.access_key_id(), "AKIA1");
                assert_eq!(c.expiry(), None);
            }
            other => panic!("not ready with credentials: {other:?}"),
        }
    }
}
