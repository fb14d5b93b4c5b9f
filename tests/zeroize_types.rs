//! What our own types leave in freed memory: nothing. Every freed heap block
//! is searched for a planted secret while a token is parsed, encoded,
//! decoded, printed and dropped, with the plain system allocator underneath
//! (no zeroizing allocator to hide a mistake).

mod common;

use common::leakcheck::{count_leaks, Checking, MARKER};
use handoff::{envelope, parse_document, render, OutputFormat, Recipients};
use zeroize::Zeroizing;

#[global_allocator]
static ALLOC: Checking = Checking;

fn document() -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(512));
    s.push_str(r#"{"Credentials": {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "SecretAccessKey": ""#);
    s.push_str(MARKER);
    s.push_str(r#"", "SessionToken": "S"#);
    s.push_str(MARKER);
    s.push_str(r#"", "Expiration": "2099-01-01T00:00:00Z"}, "FederatedUser": {"FederatedUserId": "1:u", "Arn": "arn:aws:sts::1:federated-user/u"}}"#);
    s
}

#[test]
fn the_checker_sees_a_plain_string() {
    let n = count_leaks(|| {
        let s = format!("x{MARKER}");
        drop(std::hint::black_box(s));
    });
    assert!(n >= 1, "the checker must notice an unwiped copy");
}

#[test]
fn parsing_and_dropping_a_token_leaves_no_copy() {
    let doc = document();
    let n = count_leaks(|| {
        let token = parse_document(&doc).unwrap();
        drop(token);
    });
    assert_eq!(n, 0);
}

#[test]
fn encoding_and_decoding_the_envelope_leaves_no_copy() {
    let doc = document();
    let n = count_leaks(|| {
        let token = parse_document(&doc).unwrap();
        let bytes = envelope::encode(&token);
        let back = envelope::decode(&bytes).unwrap();
        drop((token, bytes, back));
    });
    assert_eq!(n, 0);
}

#[test]
fn every_output_format_leaves_no_copy() {
    let doc = document();
    for format in [
        OutputFormat::Env,
        OutputFormat::Json,
        OutputFormat::CredentialProcess,
        OutputFormat::Ini,
        OutputFormat::EnvNoExport,
        OutputFormat::Fish,
        OutputFormat::PowerShell,
        OutputFormat::WindowsCmd,
        OutputFormat::Imds,
    ] {
        let n = count_leaks(|| {
            let token = parse_document(&doc).unwrap();
            let out = render(&token, format, "p").unwrap();
            // fish, powershell and windows-cmd do not read back into seal
            let again = parse_document(&out).ok();
            drop((token, out, again));
        });
        assert_eq!(n, 0, "{format:?}");
    }
}

/// The age crate's stream buffers are not ours to wipe: this is why the
/// binary installs a zeroizing allocator (see zeroize_alloc.rs). The count is
/// printed, not asserted, so an age release that wipes them is no failure.
#[test]
fn age_internals_without_the_zeroizing_allocator() {
    let doc = document();
    let key = handoff::age::x25519::Identity::generate();
    let mut to = Recipients::new();
    to.add(&key.to_public().to_string()).unwrap();
    let mut ids = handoff::Identities::new();
    ids.add_text(
        handoff::secrecy::ExposeSecret::expose_secret(&key.to_string()),
        "k",
    )
    .unwrap();
    let n = count_leaks(|| {
        let token = parse_document(&doc).unwrap();
        let sealed = handoff::seal(&token, &to, handoff::Form::Binary).unwrap();
        let back = handoff::open(&sealed, &ids).unwrap();
        drop((token, back));
    });
    eprintln!("seal + open with the plain allocator: {n} freed blocks still held the secret (age's buffers)");
}
