#![cfg(feature = "aws")]
//! The AWS SDK for Rust (aws-sdk-sts) with an opened token as its
//! credentials provider, calling moto in IAM mode, which checks the
//! signature against the keys it minted; and examples/sdk.rs doing the same
//! from a sealed file.

mod common;

use std::process::Command;

use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use common::moto::Moto;
use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/limited";

/// Alice (IAM mode) mints a role token from moto and seals it to a fresh
/// identity; returns the home, the token file and the identity file.
fn minted(moto: &Moto) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (id, secret) = moto.create_alice(home);
    let identity = home.join("id.txt");
    let public = ok(&run(handoff(home).arg("keygen").arg("-o").arg(&identity)))
        .trim()
        .to_string();
    let creds = home.join("alice");
    std::fs::write(
        &creds,
        format!("[alice]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    let token = home.join("t.age");
    ok(&run(handoff(home)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .args(["seal", "--profile", "alice", "--region", "us-east-1"])
        .args(["-r", &public, "-o"])
        .arg(&token)
        .args(["--role", ROLE, "--session-name", "sdk"])));
    (dir, token, identity)
}

/// An STS client at moto whose credentials provider is `provider`.
fn sts_client(
    moto: &Moto,
    provider: impl aws_credential_types::provider::ProvideCredentials + 'static,
) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        )
        .credentials_provider(provider)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

#[test]
fn sdk_client_takes_the_token_as_its_provider() {
    let moto = Moto::start_iam(5);
    let (_dir, token, identity) = minted(&moto);
    let mut ids = handoff::Identities::new();
    ids.add_file(&identity).unwrap();
    let token = handoff::open(&std::fs::read(&token).unwrap(), &ids).unwrap();
    let expiry = token.expiration();
    assert!(expiry.is_some());

    let client = sts_client(&moto, token);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let me = runtime
        .block_on(client.get_caller_identity().send())
        .expect("GetCallerIdentity through the SDK");
    assert!(
        me.arn().unwrap().ends_with("assumed-role/limited/sdk"),
        "{me:?}"
    );

    // a token whose keys moto does not know is refused by moto: the
    // answer above came from the token's own keys
    let stranger = handoff::Token::new(
        handoff::Kind::Static,
        handoff::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            SECRET.to_string().into(),
            None,
            None,
        ),
    );
    let refused = runtime.block_on(sts_client(&moto, stranger).get_caller_identity().send());
    assert!(refused.is_err(), "{refused:?}");

    // the provider carries the expiry into the SDK's credentials
    let sdk = aws_credential_types::Credentials::from(
        handoff::open(&std::fs::read(_dir.path().join("t.age")).unwrap(), &ids)
            .unwrap()
            .credentials(),
    );
    assert_eq!(sdk.expiry(), expiry);
}

#[test]
fn the_sdk_example_runs() {
    let moto = Moto::start_iam(5);
    let (dir, token, identity) = minted(&moto);
    // as tests/aws.rs runs examples/synopsis.rs
    let mut c = Command::new(env!("CARGO"));
    c.args(["run", "--quiet", "--example", "sdk", "--"])
        .arg(&token)
        .arg(&identity)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    isolate(&mut c, dir.path());
    c.env("AWS_ENDPOINT_URL", &moto.url);
    let arn = ok(&run(&mut c));
    assert!(arn.trim().ends_with("assumed-role/limited/sdk"), "{arn}");
}
