//! The C2SP CCTV age test vectors (fixtures/age-cctv/, copied verbatim; see
//! its PROVENANCE.txt) through handoff's own open path: `handoff::decrypt`
//! (open without the envelope step, same bounds and errors) and then
//! `handoff::open`.
//!
//! - A vector that must decrypt gives exactly the payload whose SHA-256 the
//!   vector names, and `open` then refuses it as not a handoff token (its
//!   payload is no envelope), exit status 3.
//! - A vector that must fail gives an exit-status-3 error whose message says
//!   what kind of failure it is (armor, header, payload, no matching key).
//! - Where handoff differs, the vector is listed in `DEVIATIONS` with the
//!   reason; a difference not listed fails the test, and so does a listed
//!   one that no longer happens.

#[path = "../src/bin/handoff/errors.rs"]
#[allow(dead_code)]
mod errors;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use handoff::{Error, Identities};
use sha2::{Digest, Sha256};

/// Vectors where handoff's result differs from the vector's `expect`, and
/// why: (vector, what handoff does instead, reason). Post-quantum and
/// oversized vectors are not listed: they follow the two rules in
/// `every_vector`.
const DEVIATIONS: &[(&str, &str, &str)] = &[
    (
        "stanza_missing_body",
        "decrypts",
        "the age crate (0.12) accepts a stanza without its final short body line",
    ),
    (
        "stanza_missing_final_line",
        "decrypts",
        "the age crate (0.12) accepts a stanza without its final short body line",
    ),
    (
        "armor_garbage_leading",
        "not an age file",
        "handoff recognises armor by its exact BEGIN line; anything else before it is no age file",
    ),
    (
        "armor_lowercase",
        "not an age file",
        "a lowercase BEGIN line is not recognised as armor at all",
    ),
    (
        "armor_whitespace_begin",
        "not an age file",
        "a BEGIN line with trailing whitespace is not recognised as armor at all",
    ),
    (
        "armor_wrong_type",
        "not an age file",
        "a BEGIN line of another type is not recognised as armor at all",
    ),
];

struct Vector {
    name: String,
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    passphrases: Vec<String>,
    comment: Option<String>,
    file: Vec<u8>,
}

fn vectors() -> Vec<Vector> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/age-cctv");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).expect("fixtures/age-cctv") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "PROVENANCE.txt" {
            continue;
        }
        let raw = fs::read(&path).unwrap();
        let split = raw
            .windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or_else(|| panic!("{name}: no blank line after the header"));
        let header = std::str::from_utf8(&raw[..split]).expect("a text header");
        let mut fields: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for line in header.lines() {
            let (k, v) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("{name}: bad header line {line:?}"));
            fields.entry(k).or_default().push(v.to_string());
        }
        let one = |k: &str| fields.get(k).and_then(|v| v.first().cloned());
        let mut file = raw[split + 2..].to_vec();
        if one("compressed").as_deref() == Some("zlib") {
            let mut plain = Vec::new();
            flate2::read::ZlibDecoder::new(&file[..])
                .read_to_end(&mut plain)
                .unwrap_or_else(|e| panic!("{name}: zlib: {e}"));
            file = plain;
        }
        out.push(Vector {
            expect: one("expect").unwrap_or_else(|| panic!("{name}: no expect")),
            payload: one("payload"),
            identities: fields.get("identity").cloned().unwrap_or_default(),
            passphrases: fields.get("passphrase").cloned().unwrap_or_default(),
            comment: one("comment"),
            name,
            file,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// What handoff did with a vector.
fn outcome(v: &Vector) -> Result<Vec<u8>, Error> {
    let mut ids = Identities::new();
    for (i, id) in v.identities.iter().enumerate() {
        ids.add_text(id, &format!("{}#{i}", v.name))?;
    }
    if let Some(p) = v.passphrases.first() {
        ids.set_passphrase(p.clone().into());
    }
    handoff::decrypt(&v.file, &ids).map(|p| p.to_vec())
}

/// The failure classes of the vectors (their `expect` values) a handoff
/// message is consistent with, plus handoff's own "not an age file" and
/// "post-quantum".
fn classes(message: &str) -> Vec<&'static str> {
    let has = |w: &str| message.contains(w);
    let mut c = Vec::new();
    if has("post-quantum") {
        c.push("post-quantum");
    }
    if has("not an age file") {
        c.push("not an age file");
    }
    if has("armored token is damaged") {
        c.push("armor failure");
    }
    if has("bad MAC") {
        c.push("HMAC failure");
    }
    if has("no identity matches") || has("wrong passphrase") || has("no identity to open") {
        c.push("no match");
    }
    if has("invalid age header")
        || has("upgrade handoff")
        || has("work factor")
        || has("the token is empty")
        || has("header is longer")
    {
        c.push("header failure");
    }
    if has("the token is truncated") {
        // the file ends early: in the header or in the payload
        c.extend(["header failure", "payload failure"]);
    }
    if has("damaged or truncated") || has("decryption failed") {
        c.push("payload failure");
    }
    c
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn is_pq(v: &Vector) -> bool {
    v.identities
        .iter()
        .any(|i| i.starts_with("AGE-SECRET-KEY-PQ-1"))
}

/// The payload of an oversized vector, decrypted with the age crate itself:
/// handoff refuses the file, but the vector is still checked.
fn age_crate_payload(v: &Vector) -> Vec<u8> {
    let ids: Vec<handoff::age::x25519::Identity> =
        v.identities.iter().map(|i| i.parse().unwrap()).collect();
    let d = handoff::age::Decryptor::new_buffered(&v.file[..]).unwrap();
    let mut r = d
        .decrypt(ids.iter().map(|i| i as &dyn handoff::age::Identity))
        .unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn every_vector() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 143, "fixtures/age-cctv holds 143 vectors");
    let mut wrong = Vec::new();
    let mut seen_deviations = Vec::new();
    let (mut decrypted, mut refused, mut pq, mut oversized) = (0, 0, 0, 0);
    for v in &vectors {
        let deviation = DEVIATIONS.iter().find(|d| d.0 == v.name);
        let result = outcome(v);
        let name = &v.name;
        // every error, wherever it comes from: exit 3, one short line
        if let Err(e) = &result {
            let m = e.to_string();
            if errors::exit_status(e.kind()) != 3 || m.is_empty() || m.lines().count() > 1 {
                wrong.push(format!(
                    "{name}: exit {} with {m:?}",
                    errors::exit_status(e.kind())
                ));
            }
        }
        // rule 1: post-quantum identities are refused, saying so
        if is_pq(v) {
            pq += 1;
            match &result {
                Err(e) if e.to_string().contains("post-quantum") => {}
                other => wrong.push(format!(
                    "{name}: a post-quantum identity must be refused, got {:?}",
                    other.as_ref().map(|p| p.len()).map_err(|e| e.to_string())
                )),
            }
            continue;
        }
        // rule 2: files over handoff's 1 MiB bound are refused unread
        if v.file.len() > handoff::MAX_SEALED_SIZE {
            oversized += 1;
            match &result {
                Err(e) if e.to_string().contains("larger than") => {}
                other => wrong.push(format!(
                    "{name}: over 1 MiB must be refused, got {:?}",
                    other.as_ref().map(|p| p.len()).map_err(|e| e.to_string())
                )),
            }
            if v.expect == "success" {
                let p = age_crate_payload(v);
                assert_eq!(Some(hex(&Sha256::digest(&p))), v.payload, "{name}");
            }
            continue;
        }
        let got = match &result {
            Ok(_) => "decrypts".to_string(),
            Err(e) => {
                let m = e.to_string();
                let c = classes(&m);
                if c.is_empty() {
                    wrong.push(format!("{name}: a message of no known class: {m}"));
                }
                if c.contains(&v.expect.as_str()) {
                    v.expect.clone()
                } else {
                    c.first().map_or(m, |c| c.to_string())
                }
            }
        };
        let expected = if v.expect == "success" {
            "decrypts"
        } else {
            v.expect.as_str()
        };
        if got != expected {
            match deviation {
                Some(d) if d.1 == got => seen_deviations.push(d.0),
                Some(d) => wrong.push(format!(
                    "{name}: listed as a deviation ({}), but handoff now gives {got}",
                    d.1
                )),
                None => wrong.push(format!(
                    "{name}: expected {expected}, handoff gives {got} ({:?}; the vector says: {})",
                    result.as_ref().err().map(|e| e.to_string()),
                    v.comment.as_deref().unwrap_or("-")
                )),
            }
            continue;
        }
        if let Some(d) = deviation {
            wrong.push(format!(
                "{name}: listed as a deviation ({}), but handoff now agrees with the vector",
                d.1
            ));
        }
        match result {
            Ok(plaintext) => {
                decrypted += 1;
                if Some(hex(&Sha256::digest(&plaintext))) != v.payload {
                    wrong.push(format!("{name}: wrong payload"));
                }
                // the age layer is fine; the payload is no envelope
                let mut ids = Identities::new();
                for id in &v.identities {
                    ids.add_text(id, name).unwrap();
                }
                if let Some(p) = v.passphrases.first() {
                    ids.set_passphrase(p.clone().into());
                }
                match handoff::open(&v.file, &ids) {
                    Err(e)
                        if errors::exit_status(e.kind()) == 3
                            && e.to_string().contains("not a handoff token") => {}
                    other => wrong.push(format!(
                        "{name}: open must say not a handoff token, got {:?}",
                        other
                            .map(|t| t.access_key_id().to_string())
                            .map_err(|e| e.to_string())
                    )),
                }
            }
            Err(_) => refused += 1,
        }
    }
    assert!(
        wrong.is_empty(),
        "{} vectors wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(seen_deviations.len(), DEVIATIONS.len());
    eprintln!(
        "age vectors: {} in all; {decrypted} decrypted to the expected payload then refused as no envelope; \
         {refused} refused as expected; {pq} post-quantum refused; {oversized} over 1 MiB refused; \
         {} listed deviations",
        vectors.len(),
        DEVIATIONS.len()
    );
}
