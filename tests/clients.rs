//! handoff's outputs fed to clients the other tests do not use, each making
//! a real call to moto in IAM mode (so every signature is checked): the
//! JavaScript SDK v3 under node (env after eval with AWS_PROFILE set,
//! credential_process through fromProcess and fromIni, --write-profile, and
//! `-f imds` served as AWS_CONTAINER_CREDENTIALS_FULL_URI), fish sourcing
//! `-f fish`, Perl's VM::EC2::Security::Credentials reading `-f imds`; and
//! `seal -R` with a GitHub-style keys file, opened by Go age.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::moto::Moto;
use common::*;

const ROLE_ARN: &str = "assumed-role/limited/handoff-test";

/// A home with the recipient's default identity, a role token minted from
/// moto by alice, and nothing else of AWS's.
struct World {
    moto: Moto,
    dir: tempfile::TempDir,
    token: PathBuf,
}

impl World {
    fn new() -> World {
        let moto = Moto::start_iam(5);
        let dir = tempfile::tempdir().unwrap();
        let (id, secret) = moto.create_alice(dir.path());
        let public = default_identity(dir.path());
        let token = dir.path().join("t.age");
        let creds = dir.path().join("alice-credentials");
        std::fs::write(
            &creds,
            format!("[alice]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        )
        .unwrap();
        ok(&run(handoff(dir.path())
            .env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .args([
                "seal",
                "--profile",
                "alice",
                "--region",
                "us-east-1",
                "-r",
                &public,
                "-o",
            ])
            .arg(&token)
            .args([
                "--role",
                "arn:aws:iam::123456789012:role/limited",
                "--session-name",
                "handoff-test",
            ])));
        World { moto, dir, token }
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn open(&self, format: &str) -> String {
        ok(&run(handoff(self.home())
            .arg("open")
            .arg(&self.token)
            .args(["-f", format])))
    }
}

/// The JavaScript SDK v3 that scripts/setup installs into target/node.
fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/node/node_modules");
    assert!(
        dir.join("@aws-sdk/client-sts").is_dir() && dir.join("@aws-sdk/credential-providers").is_dir(),
        "the JavaScript SDK v3 is missing from {}: run scripts/setup (npm install --prefix target/node @aws-sdk/client-sts @aws-sdk/credential-providers)",
        dir.display()
    );
    dir
}

/// Calls STS GetCallerIdentity with the JavaScript SDK; `mode` picks the
/// credentials: `chain` (the SDK's default chain), `process` or `ini` (with
/// the profile named).
const JS: &str = r#"
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const providers = require("@aws-sdk/credential-providers");
const [mode, profile] = process.argv.slice(2);
const credentials = mode === "process" ? providers.fromProcess({ profile })
  : mode === "ini" ? providers.fromIni({ profile })
  : undefined;
const client = new STSClient({ region: "us-east-1", endpoint: process.env.HANDOFF_TEST_ENDPOINT, credentials });
client.send(new GetCallerIdentityCommand({})).then(
  (r) => console.log(r.Arn),
  (e) => { console.error(String(e)); process.exit(1); });
"#;

impl World {
    /// `sh -c PRELUDE; exec node JS MODE [PROFILE]` in the isolated home;
    /// returns the ARN printed, after checking that the SDK did not warn.
    fn js(&self, prelude: &str, mode: &str, profile: &str, extra: &[(&str, &str)]) -> String {
        let script = self.home().join("sts.js");
        std::fs::write(&script, JS).unwrap();
        let mut c = Command::new(system_tool("sh"));
        isolate(&mut c, self.home());
        c.env("NODE_PATH", node_modules())
            .env("HANDOFF_TEST_ENDPOINT", &self.moto.url)
            .env("PATH", path_with_handoff())
            .envs(extra.iter().copied())
            .arg("-c")
            .arg(format!(
                "{prelude}\nexec {} \"$@\"",
                system_tool("node").display()
            ))
            .arg("sh")
            .arg(&script)
            .args([mode, profile]);
        let o = run(&mut c);
        let out = ok(&o);
        assert!(
            !stderr(&o).contains("AWS_PROFILE"),
            "the SDK warned: {}",
            stderr(&o)
        );
        out.trim().to_string()
    }
}

/// PATH with the handoff binary's directory first, for credential_process.
fn path_with_handoff() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_handoff"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn javascript_sdk_takes_every_output() {
    let w = World::new();
    let t = w.token.display().to_string();

    // env after eval, in a shell where AWS_PROFILE names a profile that
    // does not exist: the SDK would use it (and fail) if it were left set
    let arn = w.js(
        &format!("export AWS_PROFILE=nosuch AWS_REGION=us-east-1\neval \"$(handoff open '{t}')\""),
        "chain",
        "",
        &[],
    );
    assert!(arn.ends_with(ROLE_ARN), "{arn}");

    // credential_process, through fromProcess and fromIni
    let config = w.home().join(".aws/config");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!("[profile handed]\ncredential_process = handoff open {t} --format process\n"),
    )
    .unwrap();
    for mode in ["process", "ini"] {
        let arn = w.js("", mode, "handed", &[]);
        assert!(arn.ends_with(ROLE_ARN), "{mode}: {arn}");
    }

    // --write-profile, read by fromIni
    ok(&run(handoff(w.home())
        .arg("open")
        .arg(&w.token)
        .args(["--write-profile", "written"])));
    let arn = w.js("", "ini", "written", &[]);
    assert!(arn.ends_with(ROLE_ARN), "{arn}");

    // imds, served on loopback as the container credentials endpoint
    std::fs::remove_file(&config).unwrap();
    std::fs::remove_file(w.home().join(".aws/credentials")).unwrap();
    let (url, server) = serve_once(w.open("imds"));
    let arn = w.js(
        "",
        "chain",
        "",
        &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url)],
    );
    assert!(arn.ends_with(ROLE_ARN), "{arn}");
    assert!(server.join().unwrap(), "the SDK never asked the server");
}

/// Serves `body` as JSON to the first GET on a loopback port; returns the
/// URL and a handle that says whether it was asked.
fn serve_once(body: String) -> (String, std::thread::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/creds",
        listener.local_addr().unwrap().port()
    );
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let Ok((mut s, _)) = listener.accept() else {
            return false;
        };
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        let asked = buf[..n].starts_with(b"GET /creds");
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        asked
    });
    (url, handle)
}

#[test]
fn fish_sources_the_fish_format() {
    let w = World::new();
    let mut c = Command::new(system_tool("fish"));
    isolate(&mut c, w.home());
    c.env("PATH", path_with_handoff())
        .env("AWS_PROFILE", "nosuch")
        .env("AWS_REGION", "us-east-1")
        .env("VENV_AWS", venv_bin("aws"))
        .env("AWS_ENDPOINT_URL", &w.moto.url)
        .args(["--no-config", "-c"])
        .arg(format!(
            "handoff open {} -f fish | source; and set -q AWS_PROFILE; or $VENV_AWS sts get-caller-identity --query Arn --output text",
            w.token.display()
        ));
    let arn = ok(&run(&mut c));
    assert!(arn.trim().ends_with(ROLE_ARN), "{arn}");
}

#[test]
fn perl_vm_ec2_reads_the_imds_format() {
    let w = World::new();
    let doc = w.open("imds");
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let mut c = Command::new(system_tool("perl"));
    isolate(&mut c, w.home());
    c.args([
        "-MVM::EC2::Security::Credentials",
        "-e",
        r#"local $/; my $c = VM::EC2::Security::Credentials->new_from_json(<STDIN>);
           print join("\n", $c->access_key_id, $c->secret_access_key, $c->session_token, $c->expiration), "\n";"#,
    ]);
    let o = run_with_input(&mut c, doc.as_bytes());
    assert!(
        o.status.success(),
        "perl: {} (scripts/setup installs libvm-ec2-perl)",
        stderr(&o)
    );
    let got = stdout(&o);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(
        lines,
        [
            v["AccessKeyId"].as_str().unwrap(),
            v["SecretAccessKey"].as_str().unwrap(),
            v["Token"].as_str().unwrap(),
            v["Expiration"].as_str().unwrap(),
        ]
    );
}

/// An `sk-ssh-ed25519@openssh.com` public key line, as a security key
/// would make it (no hardware here to make one).
fn sk_line() -> String {
    use base64::Engine;
    let mut blob = Vec::new();
    for field in [&b"sk-ssh-ed25519@openssh.com"[..], &[7u8; 32], b"ssh:"] {
        blob.extend((field.len() as u32).to_be_bytes());
        blob.extend(field);
    }
    format!(
        "sk-ssh-ed25519@openssh.com {}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

#[test]
fn recipients_file_as_github_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let keygen = |name: &str, kind: &[&str]| {
        let key = home.join(name);
        ok(&run(Command::new(system_tool("ssh-keygen"))
            .args(kind)
            .args(["-N", "", "-q", "-C", "", "-f"])
            .arg(&key)));
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        (key, public.trim().to_string())
    };
    let (ed, ed_pub) = keygen("ed", &["-t", "ed25519"]);
    let (rsa, rsa_pub) = keygen("rsa", &["-t", "rsa", "-b", "2048"]);
    let (_, ecdsa_pub) = keygen("ecdsa", &["-t", "ecdsa"]);
    // as https://github.com/USER.keys serves it: no comments, CRLF, no
    // final line break
    let keys = home.join("user.keys");
    std::fs::write(
        &keys,
        format!("{ed_pub}\r\n{ecdsa_pub}\r\n{}\r\n{rsa_pub}", sk_line()),
    )
    .unwrap();
    let doc = home.join("doc.json");
    std::fs::write(&doc, sts_document()).unwrap();
    let token = home.join("t.age");
    let o = run(handoff(home)
        .args(["seal", "-R"])
        .arg(&keys)
        .arg("--input")
        .arg(&doc)
        .arg("-o")
        .arg(&token));
    ok(&o);
    let warnings = stderr(&o);
    let lines: Vec<&str> = warnings.lines().collect();
    assert_eq!(lines.len(), 2, "{warnings}");
    let name = keys.display();
    assert!(
        lines[0].contains(&format!("{name} line 2")) && lines[0].contains("ecdsa-sha2-nistp256"),
        "{warnings}"
    );
    assert!(
        lines[1].contains(&format!("{name} line 3"))
            && lines[1].contains("sk-ssh-ed25519@openssh.com"),
        "{warnings}"
    );
    // Go age opens it with either key, and reads the same file the same way
    for key in [&ed, &rsa] {
        let o = run(Command::new(system_tool("age"))
            .arg("-d")
            .arg("-i")
            .arg(key)
            .arg(&token));
        let plain = &o.stdout;
        assert!(
            o.status.success() && !plain.is_empty(),
            "age -d -i {}: {}",
            key.display(),
            stderr(&o)
        );
    }
    // rage too
    for key in [&ed, &rsa] {
        let o = run(Command::new(rage())
            .arg("-d")
            .arg("-i")
            .arg(key)
            .arg(&token));
        assert!(
            o.status.success() && !o.stdout.is_empty(),
            "rage -d -i {}: {}",
            key.display(),
            stderr(&o)
        );
    }
    let o = run(Command::new(system_tool("age"))
        .arg("-R")
        .arg(&keys)
        .arg("-o")
        .arg(home.join("go.age"))
        .arg(&doc));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).lines().count(),
        2,
        "Go age skips the same two lines: {}",
        stderr(&o)
    );

    // -R - reads stdin (the document then comes from --input)
    let o = run_with_input(
        handoff(home)
            .args(["seal", "-R", "-", "--input"])
            .arg(&doc)
            .args(["-a"]),
        std::fs::read(&keys).unwrap().as_slice(),
    );
    assert!(ok(&o).starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    // ... and not when stdin is the document
    let o = run_with_input(handoff(home).args(["seal", "-R", "-", "-a"]), b"{}");
    fails(&o, 2, &[]);

    // nothing left to seal to
    std::fs::write(&keys, format!("{ecdsa_pub}\n{}\n", sk_line())).unwrap();
    let o = run(handoff(home)
        .args(["seal", "-R"])
        .arg(&keys)
        .arg("--input")
        .arg(&doc)
        .arg("-a"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("lists no recipients"), "{}", stderr(&o));
}
