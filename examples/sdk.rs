//! Opens a sealed token and hands it to the AWS SDK for Rust as its
//! credentials provider: no secret is copied by hand, and the SDK sees the
//! expiry. Calls STS GetCallerIdentity and prints the ARN.
//!
//! ```sh
//! cargo run --example sdk -- t.age ~/.config/handoff/identity.txt
//! ```
//!
//! The region is the token's (else `us-east-1`); `AWS_ENDPOINT_URL` points
//! the client at another endpoint (a local emulator such as moto).

use std::path::PathBuf;

use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

// As the handoff binary does: freed memory is wiped, so the copies the SDK's
// layers leave behind do not outlive their use.
#[global_allocator]
static ALLOC: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [token, identity] = args.as_slice() else {
        return Err("usage: sdk TOKEN IDENTITY".into());
    };
    let sealed = std::fs::read(token)?;
    let mut ids = handoff::Identities::new();
    ids.add_file(identity)?;
    let token = handoff::open(&sealed, &ids)?;
    token.check_not_expired()?;

    let region = Region::new(token.region().unwrap_or("us-east-1").to_string());
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .http_client(http)
        // the token itself is the provider
        .credentials_provider(token);
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    let client = aws_sdk_sts::Client::from_conf(config.build());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let me = runtime.block_on(client.get_caller_identity().send())?;
    println!("{}", me.arn().unwrap_or("(no ARN)"));
    Ok(())
}
