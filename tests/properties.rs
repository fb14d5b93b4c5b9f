//! Property tests (proptest) for the round trips the format depends on:
//! every token the library can build encodes to an envelope that decodes to
//! the same token, sealing and opening give it back in every form, and every
//! output format of `open` reads back through `seal`'s document parser with
//! the same credentials.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use handoff::secrecy::ExposeSecret;
use handoff::{
    envelope, parse_document, render, AssumedRoleUser, Credentials, ErrorKind, FederatedUser, Form,
    Identities, Kind, OutputFormat, Recipients, Token,
};
use proptest::prelude::*;

/// Whole seconds from 2000 to 2100: the envelope and every output format
/// carry dates to the second.
fn date() -> impl Strategy<Value = SystemTime> {
    (946_684_800u64..4_102_444_800).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Federation),
        Just(Kind::Session),
        Just(Kind::Role),
        Just(Kind::Static)
    ]
}

/// Printable ASCII without surrounding spaces: what a secret or session
/// token can be, including every character a shell or INI file treats
/// specially (quotes, `$`, backticks, `#`, `;`, `=`, `[`).
const PRINTABLE: &str = "[!-~]([ -~]{0,62}[!-~])?";

/// Any text, control characters included, for fields that are never printed
/// into shell or INI output (policy, label, ARNs).
const ANY_TEXT: &str = "\\PC{0,40}|[\\x00-\\x7f]{0,40}";

prop_compose! {
    fn credentials()(
        akid in "[A-Z0-9]{1,32}",
        secret in PRINTABLE,
        session in proptest::option::of(PRINTABLE),
        expiration in proptest::option::of(date()),
    ) -> Credentials {
        Credentials::new(akid, secret.into(), session.map(Into::into), expiration)
    }
}

prop_compose! {
    fn token()(
        kind in kind(),
        credentials in credentials(),
        federated in proptest::option::of((ANY_TEXT, ANY_TEXT)),
        role in proptest::option::of((ANY_TEXT, ANY_TEXT)),
        packed in proptest::option::of(any::<u32>()),
        policy in proptest::option::of(ANY_TEXT),
        region in proptest::option::of("[a-z]{2}-[a-z]{4,9}-[0-9]"),
        label in proptest::option::of(ANY_TEXT),
        issued_at in proptest::option::of(date()),
    ) -> Token {
        let mut t = Token::new(kind, credentials);
        if let Some((id, arn)) = federated {
            t = t.with_federated_user(FederatedUser { federated_user_id: id, arn });
        }
        if let Some((id, arn)) = role {
            t = t.with_assumed_role_user(AssumedRoleUser { assumed_role_id: id, arn });
        }
        if let Some(n) = packed {
            t = t.with_packed_policy_size(n);
        }
        if let Some(p) = policy {
            t = t.with_policy(p);
        }
        if let Some(r) = region {
            t = t.with_region(r);
        }
        if let Some(l) = label {
            t = t.with_label(l);
        }
        if let Some(at) = issued_at {
            t = t.with_issued_at(at);
        }
        t
    }
}

/// Everything a token holds, secrets included, for comparing two.
fn everything(t: &Token) -> String {
    format!(
        "{t:?} secret={} session={:?}",
        t.secret_access_key().expose_secret(),
        t.session_token().map(|s| s.expose_secret().to_string())
    )
}

fn same_credentials(a: &Token, b: &Token) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.access_key_id(), b.access_key_id());
    prop_assert_eq!(
        a.secret_access_key().expose_secret(),
        b.secret_access_key().expose_secret()
    );
    prop_assert_eq!(
        a.session_token().map(|s| s.expose_secret().to_string()),
        b.session_token().map(|s| s.expose_secret().to_string())
    );
    prop_assert_eq!(a.expiration(), b.expiration());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn envelope_round_trips(t in token()) {
        let bytes = envelope::encode(&t);
        let back = envelope::decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(everything(&t), everything(&back));
    }

    #[test]
    fn envelope_decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = envelope::decode(&bytes);
    }

    #[test]
    fn damaged_envelopes_are_refused_or_still_tokens(t in token(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = envelope::encode(&t).to_vec();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        if let Err(e) = envelope::decode(&bytes) {
            prop_assert!(
                matches!(e.kind(), ErrorKind::NotAToken | ErrorKind::UnsupportedVersion { .. }),
                "{:?}",
                e
            );
            // (a secret of a few characters may occur in any message)
            let secret = t.secret_access_key().expose_secret();
            prop_assert!(secret.len() < 8 || !e.to_string().contains(secret));
        }
    }

    #[test]
    fn every_output_format_reads_back(t in token()) {
        for format in [OutputFormat::Env, OutputFormat::EnvNoExport, OutputFormat::Json, OutputFormat::CredentialProcess, OutputFormat::Ini, OutputFormat::Imds] {
            let out = render(&t, format, "profile")
                .map_err(|e| TestCaseError::fail(format!("{format:?}: {e}")))?;
            let back = parse_document(&out)
                .map_err(|e| TestCaseError::fail(format!("{format:?}: {e}\n{}", *out)))?;
            same_credentials(&t, &back)?;
            if matches!(format, OutputFormat::Env | OutputFormat::EnvNoExport | OutputFormat::Json) {
                prop_assert_eq!(t.region(), back.region());
            }
        }
    }
}

proptest! {
    // sealing costs an X25519 key agreement each way: fewer cases
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn seal_and_open_round_trip_in_every_form(t in token(), form in prop_oneof![Just(Form::Binary), Just(Form::Armor), Just(Form::Base64)]) {
        let key = handoff::age::x25519::Identity::generate();
        let mut to = Recipients::new();
        to.add(&key.to_public().to_string()).unwrap();
        let mut ids = Identities::new();
        ids.add_text(key.to_string().expose_secret(), "key").unwrap();
        let sealed = handoff::seal(&t, &to, form).unwrap();
        let back = handoff::open(&sealed, &ids).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Every seal says when it was issued: the token's IssuedAt, else the
        // time of the seal.
        let issued = back.issued_at();
        prop_assert!(issued.is_some());
        prop_assert!(t.issued_at().is_none() || t.issued_at() == issued);
        let expected = match (t.issued_at(), issued) {
            (None, Some(at)) => t.clone().with_issued_at(at),
            _ => t.clone(),
        };
        prop_assert_eq!(everything(&expected), everything(&back));
    }
}
