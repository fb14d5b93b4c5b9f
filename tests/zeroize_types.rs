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
/// binary installs a zeroizing allocator (see zeroize_alloc.rs). What is
/// ours is everything around them, so a seal and open through handoff leave
/// no more copies than age leaves sealing and opening the same envelope
/// itself, each buffer sized as handoff sizes it. (An age release that
/// wipes its buffers makes both counts 0, and this still holds.)
#[test]
fn seal_and_open_leave_no_copy_beyond_ages_own() {
    use handoff::age::{self, Decryptor, Encryptor};
    use std::io::{Read, Write};
    let doc = document();
    let key = age::x25519::Identity::generate();
    let mut to = Recipients::new();
    to.add(&key.to_public().to_string()).unwrap();
    let mut ids = handoff::Identities::new();
    ids.add_text(
        handoff::secrecy::ExposeSecret::expose_secret(&key.to_string()),
        "k",
    )
    .unwrap();
    let token = parse_document(&doc).unwrap();
    let ours = count_leaks(|| {
        let sealed = handoff::seal(&token, &to, handoff::Form::Binary).unwrap();
        let back = handoff::open(&sealed, &ids).unwrap();
        drop((sealed, back));
    });
    let recipient = key.to_public();
    let ages = count_leaks(|| {
        let plaintext = envelope::encode(&token);
        let mut sealed = Vec::with_capacity(plaintext.len() + 1024);
        let encryptor =
            Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient)).unwrap();
        let mut w = encryptor.wrap_output(&mut sealed).unwrap();
        w.write_all(&plaintext).unwrap();
        w.finish().unwrap();
        let decryptor = Decryptor::new_buffered(&sealed[..]).unwrap();
        let mut r = decryptor
            .decrypt(std::iter::once(&key as &dyn age::Identity))
            .unwrap();
        let mut buf = Zeroizing::new(vec![0u8; sealed.len()]);
        let mut n = 0;
        loop {
            match r.read(&mut buf[n..]).unwrap() {
                0 => break,
                k => n += k,
            }
        }
        buf.truncate(n);
        let back = envelope::decode(&buf).unwrap();
        drop((plaintext, sealed, back));
    });
    assert!(
        ours <= ages,
        "seal + open left {ours} freed blocks holding the secret, age alone {ages}: handoff made a copy it did not wipe"
    );
}
