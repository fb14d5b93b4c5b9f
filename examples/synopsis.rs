//! The SYNOPSIS of Perl's VM::EC2::Security::Token, step for step, with
//! handoff's public API:
//!
//! ```perl
//! my $policy = VM::EC2::Security::Policy->new;
//! $policy->allow('DescribeImages','RunInstances');
//! my $token = $ec2->get_federation_token(-name     => 'TemporaryUser',
//!                                        -duration => 60*60*3, # 3 hrs
//!                                        -policy   => $policy);
//! my $serialized = $token->serialize;
//! send_data_to_user_somehow($serialized);
//!
//! # then, on the user's side:
//! my $token = VM::EC2::Security::Token->new_from_serialized($serialized);
//! my $ec2   = $token->new_ec2;
//! ```
//!
//! Minting signs with your long-term keys from the standard chain
//! (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or a profile), in
//! `AWS_REGION`; `AWS_ENDPOINT_URL` points it elsewhere than AWS, e.g. at a
//! local moto server:
//!
//! ```sh
//! AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_REGION=us-east-1 \
//! AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
//!   cargo run --example synopsis
//! ```
//!
//! Nothing secret is printed: not the secret key, not the session token,
//! not the recipient's private key.

#[cfg(feature = "aws")]
fn main() -> std::process::ExitCode {
    match synopsis() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synopsis: {e}");
            // An embedder picks its own statuses from the kind.
            let status = match e.kind() {
                handoff::ErrorKind::Aws { .. } => 5,
                _ if e.is_transport() => 6,
                _ => 1,
            };
            std::process::ExitCode::from(status)
        }
    }
}

#[cfg(not(feature = "aws"))]
fn main() {
    eprintln!("synopsis: build with the `aws` feature (on by default)");
    std::process::exit(2);
}

#[cfg(feature = "aws")]
fn synopsis() -> handoff::Result<()> {
    use std::time::{Duration, SystemTime};

    use handoff::aws::{DescribeImages, Service, Settings, Sts};
    use handoff::secrecy::ExposeSecret;
    use handoff::{clock, open, seal, Form, Identities, Policy, Recipients};

    // Under your account: a policy, and a federation token limited by it.
    let policy = Policy::new().allow("DescribeImages").allow("RunInstances");
    println!("policy: {policy}");
    let sts = Sts::new(Settings::default().resolve(Service::Sts)?)?;
    let token = sts.get_federation_token(
        "TemporaryUser",
        Some(&policy),
        Some(Duration::from_secs(60 * 60 * 3)),
    )?;

    // The token's parts (never its secrets).
    println!("access key id: {}", token.access_key_id());
    if let Some(user) = token.federated_user() {
        println!("federated user: {}", user.arn);
    }
    if let Some(size) = token.packed_policy_size() {
        println!("packed policy size: {size}%");
    }
    if let Some(at) = token.expiration() {
        let left = at.duration_since(SystemTime::now()).unwrap_or_default();
        println!(
            "expires: {} (in {})",
            clock::format_rfc3339(at),
            clock::human(left)
        );
    }

    // The recipient makes a key and sends you its public half; you seal the
    // token to it. (Perl's `serialize`, but encrypted.)
    let recipient_key = handoff::age::x25519::Identity::generate();
    let public = recipient_key.to_public().to_string();
    let mut to = Recipients::new();
    to.add(&public)?;
    let sealed = seal(&token, &to, Form::Armor)?;
    println!("sealed to {public}: {} bytes of armor", sealed.len());

    // send_data_to_user_somehow(sealed) ... then, on the user's side, offline:
    let mut identities = Identities::new();
    identities.add_text(recipient_key.to_string().expose_secret(), "recipient key")?;
    let token = open(&sealed, &identities)?;
    println!(
        "opened as the recipient: {} credentials, access key id {}",
        token.kind(),
        token.access_key_id()
    );

    // my $ec2 = $token->new_ec2;
    let ec2 = token.new_ec2()?;
    let images = ec2.describe_images(&DescribeImages::owned_by("self"))?;
    println!("images owned by self: {}", images.len());
    for image in &images {
        println!(
            "  {} {} {}",
            image.image_id,
            image.state,
            image.name.as_deref().unwrap_or("(no name)")
        );
    }
    Ok(())
}
