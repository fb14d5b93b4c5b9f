//! handoff's reader of the AWS shared files (src/documents/ini.rs) against botocore's
//! own (`raw_config_parse`, `build_profile_map`) on the corpus in
//! fixtures/ini/ (made by scripts/make-ini-corpus): the same sections, keys
//! and values, the same config-file profiles, and the same refusals.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};

use common::{ok, run, venv_bin};
use handoff::documents::ini;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ini");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ini"))
        .collect();
    files.sort();
    // every case is in the manifest, and the manifest names no other
    let manifest = std::fs::read_to_string(dir.join("MANIFEST")).unwrap();
    let listed: Vec<&str> = manifest
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(listed.len(), files.len());
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(listed.contains(&name), "{name} is not in MANIFEST");
    }
    files
}

/// What handoff reads, in the shape botocore_ini.py prints.
fn handoff_reads(bytes: &[u8]) -> Value {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return json!({ "error": "not UTF-8" });
    };
    let parsed = match ini::parse(text) {
        Ok(p) => p,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    let mut raw = Map::new();
    let mut profiles = Vec::new();
    for s in parsed.sections() {
        let mut keys = Map::new();
        for (k, v) in s.pairs() {
            let v = match v {
                ini::Value::Text(t) => json!(t.as_str()),
                ini::Value::Nested(n) => Value::Object(
                    n.iter()
                        .map(|(k, v)| (k.clone(), json!(v.as_str())))
                        .collect(),
                ),
            };
            keys.insert(k.clone(), v);
        }
        raw.insert(s.name().to_string(), Value::Object(keys));
        if let Some(p) = ini::config_profile_name(s.name()) {
            // the profile botocore takes is the later section naming it
            assert_eq!(
                parsed.config_profile(&p).map(ini::Section::name),
                parsed
                    .sections()
                    .iter()
                    .rev()
                    .find(|t| ini::config_profile_name(t.name()).as_deref() == Some(&p))
                    .map(ini::Section::name)
            );
            profiles.push(p);
        }
    }
    profiles.sort();
    profiles.dedup();
    json!({ "raw": raw, "profiles": profiles })
}

#[test]
fn botocore_and_handoff_read_the_corpus_alike() {
    let files = corpus();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/interop/botocore_ini.py");
    let out = ok(&run(Command::new(venv_bin("python"))
        .env("PYTHONUTF8", "1")
        .arg(&script)
        .args(&files)));
    let answers: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), files.len());
    let mut refused = 0;
    for (file, botocore) in files.iter().zip(&answers) {
        let name = file.file_name().unwrap().to_string_lossy();
        let ours = handoff_reads(&std::fs::read(file).unwrap());
        match (botocore.get("error"), ours.get("error")) {
            (Some(_), Some(why)) => {
                refused += 1;
                // the refusal names a line, except for text that is not UTF-8
                let why = why.as_str().unwrap();
                assert!(
                    why.starts_with("line ") || why == "not UTF-8",
                    "{name}: {why}"
                );
            }
            (None, None) => assert_eq!(&ours, botocore, "{name}"),
            _ => panic!("{name}: botocore read {botocore}, handoff read {ours}"),
        }
    }
    // the corpus holds both kinds
    assert!(refused >= 10 && files.len() - refused >= 20, "{refused}");
}

#[test]
fn the_issuer_side_cases_give_default_its_own_keys() {
    // the corpus's cases where handoff once signed with the wrong keys
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ini");
    for case in [
        "comment-after-header-hash.ini",
        "comment-after-header-semicolon.ini",
    ] {
        let text = std::fs::read_to_string(dir.join(case)).unwrap();
        let parsed = ini::parse(&text).unwrap();
        let default = parsed.section("default").unwrap();
        assert_eq!(
            default.get("aws_access_key_id"),
            Some("AKIDDEFAULT"),
            "{case}"
        );
        assert_eq!(
            parsed.section("work").unwrap().get("aws_access_key_id"),
            Some("AKIDWORK"),
            "{case}"
        );
    }
}

/// End to end, against moto checking every signature: alice's keys under
/// `[default]`, keys IAM does not know under `[work] # another account`.
/// `seal` signs with default's keys, as botocore would (handoff once signed
/// with work's, which moto refuses).
#[test]
fn seal_signs_with_the_keys_botocore_picks() {
    let moto = common::moto::Moto::start_iam(5);
    let home = tempfile::tempdir().unwrap();
    let (id, secret) = moto.create_alice(home.path());
    let public = common::default_identity(home.path());
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    for header in ["[work] # another account", "[work] ; another account"] {
        std::fs::write(
            aws.join("credentials"),
            format!(
                "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\
                 {header}\naws_access_key_id = AKIAWORKEXAMPLE\naws_secret_access_key = notIAMs\n"
            ),
        )
        .unwrap();
        let o = run(common::handoff(home.path())
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_REGION", "us-east-1")
            .args(["seal", "--federation", "TemporaryUser", "-a", "-r", &public]));
        let sealed = ok(&o);
        assert!(
            sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
            "{header}"
        );
    }
}
