//! Every policy handoff writes passes parliament (PyPI, installed by
//! scripts/setup) with no finding of severity medium or higher: the examples
//! of README.md and `--help` built by `handoff policy`, documents given to
//! --policy-file as re-encoded, and a few hundred generated from the IAM
//! action list, in every form --allow/--deny take.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use handoff::{Policy, UnknownActions};

/// A small deterministic generator (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The services of the generated action list: prefix, actions.
fn services() -> Vec<(String, Vec<String>)> {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/iam_actions.txt");
    fs::read_to_string(list)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split(' ').map(String::from);
            (w.next().unwrap(), w.collect())
        })
        .collect()
}

/// `DescribeImages` → `describe_images`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// One --allow/--deny argument in one of the forms users write.
fn action(rng: &mut Rng, services: &[(String, Vec<String>)]) -> String {
    let (prefix, actions) = if rng.below(2) == 0 {
        services.iter().find(|(p, _)| p == "ec2").unwrap()
    } else {
        &services[rng.below(services.len())]
    };
    let name = &actions[rng.below(actions.len())];
    let verb_end = name[1..]
        .find(|c: char| c.is_ascii_uppercase())
        .map_or(name.len(), |i| i + 1);
    match rng.below(6) {
        0 if prefix == "ec2" => name.clone(),
        1 if prefix == "ec2" && !name.contains('-') => snake(name),
        2 => format!("{prefix}:{}", name.to_lowercase()),
        3 => format!("{prefix}:{}*", &name[..verb_end]),
        _ => format!("{prefix}:{name}"),
    }
}

/// The --allow/--deny arguments of every `handoff policy` and `handoff seal`
/// example in `text` (README.md, --help), one list per example.
fn examples(text: &str) -> Vec<Vec<String>> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .filter(|l| l.contains("handoff policy") || l.contains("handoff seal"))
        .map(|l| {
            let words: Vec<String> = l
                .split_whitespace()
                .map(|w| w.trim_matches('\'').to_string())
                .collect();
            words
                .windows(2)
                .filter(|w| w[0] == "--allow" || w[0] == "--deny")
                .flat_map(|w| w.to_vec())
                .collect()
        })
        .collect()
}

#[test]
fn every_policy_handoff_writes_passes_parliament() {
    let parliament = venv_bin("parliament");
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    fs::create_dir(&corpus).unwrap();
    let mut n = 0;
    let mut keep = |json: &str| {
        fs::write(corpus.join(format!("p{n:04}.json")), json).unwrap();
        n += 1;
    };
    // the examples, built by the command line
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut texts = vec![readme];
    for cmd in ["policy", "seal"] {
        texts.push(ok(&run(handoff(dir.path()).args([cmd, "--help"]))));
    }
    let mut from_examples = 0;
    for text in &texts {
        for args in examples(text) {
            keep(&ok(&run(handoff(dir.path()).arg("policy").args(&args))));
            from_examples += 1;
        }
    }
    assert!(from_examples >= 6, "only {from_examples} examples found");
    // a --policy-file document, as it is re-encoded
    keep(
        &Policy::from_json(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": ["ec2:DescribeImages", "ec2:DescribeInstances"], "Resource": "*"}]}"#,
        )
        .unwrap()
        .to_string(),
    );
    // generated: 1 to 6 allowed, 0 to 2 denied, in every form
    let services = services();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for _ in 0..300 {
        let mut p = Policy::new();
        for _ in 0..1 + rng.below(6) {
            p = p
                .allow_checked(&action(&mut rng, &services), UnknownActions::Refuse)
                .unwrap();
        }
        for _ in 0..rng.below(3) {
            p = p
                .deny_checked(&action(&mut rng, &services), UnknownActions::Refuse)
                .unwrap();
        }
        keep(&p.to_string());
    }
    let audit = |dir: &Path| {
        run(std::process::Command::new(&parliament)
            .args(["--json", "--minimum_severity", "MEDIUM"])
            .args(["--include_policy_extension", ".json", "--directory"])
            .arg(dir))
    };
    let o = audit(&corpus);
    assert!(
        o.status.success() && o.stdout.is_empty(),
        "parliament found something of medium or higher:\n{}{}",
        stdout(&o),
        stderr(&o)
    );
    // and it finds what it should, the same way: the check is not vacuous
    let bad = dir.path().join("bad");
    fs::create_dir(&bad).unwrap();
    fs::write(
        bad.join("bad.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:GetObject","Resource":"*"}]}"#,
    )
    .unwrap();
    let o = audit(&bad);
    assert!(
        stdout(&o).contains("\"MEDIUM\""),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(n > 300, "{n}");
}
