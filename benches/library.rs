//! The library's hot paths, without the CLI: the envelope (CBOR encode and
//! decode), sealing and opening in memory, reading a credential document,
//! and the policy JSON. `cargo bench --bench library`; `cargo test` runs
//! each once as a smoke test. scripts/bench measures the binary against age
//! and the AWS CLI.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use handoff::secrecy::ExposeSecret;
use handoff::{
    envelope, Credentials, Form, Identities, Kind, OutputFormat, Policy, Recipients, Token,
};

const DOCUMENT: &str = r#"{"Credentials": {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "SessionToken": "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
  "Expiration": "2099-01-01T00:00:00Z"},
 "FederatedUser": {"FederatedUserId": "123456789012:BenchUser",
  "Arn": "arn:aws:sts::123456789012:federated-user/BenchUser"},
 "PackedPolicySize": 6}"#;

fn token() -> Token {
    handoff::parse_document(DOCUMENT)
        .expect("the bench document parses")
        .with_policy(policy().to_string())
        .with_region("us-east-1")
        .with_label("bench")
}

fn policy() -> Policy {
    Policy::new()
        .allow("DescribeImages")
        .allow("describe_availability_zones")
        .allow("RunInstances")
        .allow("s3:GetObject")
        .deny("TerminateInstances")
}

fn bench_envelope(c: &mut Criterion) {
    let t = token();
    let bytes = envelope::encode(&t);
    let mut g = c.benchmark_group("envelope");
    g.bench_function("encode", |b| b.iter(|| envelope::encode(black_box(&t))));
    g.bench_function("decode", |b| {
        b.iter(|| envelope::decode(black_box(&bytes)).expect("decodes"))
    });
    g.finish();
}

fn bench_seal_open(c: &mut Criterion) {
    let t = token();
    let key = handoff::age::x25519::Identity::generate();
    let mut to = Recipients::new();
    to.add(&key.to_public().to_string()).expect("recipient");
    let mut ids = Identities::new();
    ids.add_text(key.to_string().expose_secret(), "bench key")
        .expect("identity");
    let binary = handoff::seal(&t, &to, Form::Binary).expect("seals");
    let armored = handoff::seal(&t, &to, Form::Armor).expect("seals");

    let mut g = c.benchmark_group("seal");
    g.bench_function("seal binary", |b| {
        b.iter(|| handoff::seal(black_box(&t), &to, Form::Binary).expect("seals"))
    });
    g.bench_function("seal armor", |b| {
        b.iter(|| handoff::seal(black_box(&t), &to, Form::Armor).expect("seals"))
    });
    g.bench_function("open binary", |b| {
        b.iter(|| handoff::open(black_box(&binary), &ids).expect("opens"))
    });
    g.bench_function("open armor", |b| {
        b.iter(|| handoff::open(black_box(&armored), &ids).expect("opens"))
    });
    g.bench_function("open and render credential-process", |b| {
        b.iter(|| {
            let t = handoff::open(black_box(&binary), &ids).expect("opens");
            handoff::render(&t, OutputFormat::CredentialProcess, "handoff").expect("renders")
        })
    });
    g.finish();
}

fn bench_documents(c: &mut Criterion) {
    let t = token();
    let mut g = c.benchmark_group("documents");
    g.bench_function("parse STS JSON", |b| {
        b.iter(|| handoff::parse_document(black_box(DOCUMENT)).expect("parses"))
    });
    g.bench_function("render json", |b| {
        b.iter(|| handoff::render(black_box(&t), OutputFormat::Json, "handoff").expect("renders"))
    });
    g.bench_function("static token", |b| {
        b.iter(|| {
            Token::new(
                Kind::Static,
                Credentials::new("AKIAIOSFODNN7EXAMPLE", "secret".into(), None, None),
            )
        })
    });
    g.finish();
}

fn bench_policy(c: &mut Criterion) {
    let json = policy().to_string();
    let mut g = c.benchmark_group("policy");
    g.bench_function("build and print", |b| b.iter(|| policy().to_string()));
    g.bench_function("from_json", |b| {
        b.iter(|| Policy::from_json(black_box(&json)).expect("parses"))
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_envelope,
    bench_seal_open,
    bench_documents,
    bench_policy
);
criterion_main!(benches);
