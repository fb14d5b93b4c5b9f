//! Signed handoffs, checked by OpenSSH itself in both directions, and every
//! refusal (exit 7, nothing on stdout).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

struct Setup {
    dir: tempfile::TempDir,
    public: String,
    sender: PathBuf,
    signers: PathBuf,
}

/// An ed25519 key of the sender's, with `passphrase` (empty for none).
fn sender_key(dir: &Path, name: &str, passphrase: &str) -> PathBuf {
    ssh_keygen(dir, name, &["ed25519"], passphrase, "sender@example.com").0
}

fn setup() -> Setup {
    let (dir, public) = home_with_identity();
    let sender = sender_key(dir.path(), "sender", "");
    let signers = dir.path().join("allowed_signers");
    let pubkey = fs::read_to_string(sender.with_extension("pub")).unwrap();
    fs::write(
        &signers,
        format!("sender@example.com namespaces=\"handoff\" {pubkey}"),
    )
    .unwrap();
    Setup {
        dir,
        public,
        sender,
        signers,
    }
}

impl Setup {
    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn seal_signed(&self, name: &str) -> PathBuf {
        let out = self.path(name);
        let o = run_with_input(
            handoff(self.home())
                .args(["seal", "-r", &self.public, "--sign"])
                .arg(&self.sender)
                .arg("-o")
                .arg(&out),
            sts_document().as_bytes(),
        );
        ok(&o);
        out
    }

    fn identity(&self) -> PathBuf {
        self.path(".config/handoff/identity.txt")
    }

    /// `age -d` then cbor2: the signed envelope's Envelope bytes and Signature.
    fn unwrap(&self, token: &Path) -> (Vec<u8>, String) {
        let plain = self.path("plain.cbor");
        ok(&Command::new(system_tool("age"))
            .arg("-d")
            .arg("-i")
            .arg(self.identity())
            .arg("-o")
            .arg(&plain)
            .arg(token)
            .output()
            .unwrap());
        let env = self.path("envelope.bin");
        let sig = self.path("signature.txt");
        let py = format!(
            "import cbor2; v = cbor2.loads(open({p:?}, 'rb').read()); assert v['Kind'] == 'signed' and v['Version'] == 1, v.keys(); \
             open({e:?}, 'wb').write(v['Envelope']); open({s:?}, 'w').write(v['Signature'])",
            p = plain.to_str().unwrap(),
            e = env.to_str().unwrap(),
            s = sig.to_str().unwrap()
        );
        ok(&Command::new(venv_bin("python"))
            .arg("-c")
            .arg(py)
            .output()
            .unwrap());
        (fs::read(env).unwrap(), fs::read_to_string(sig).unwrap())
    }

    /// cbor2 builds a signed envelope from parts, and `age -e` seals it.
    fn assemble(&self, envelope: &[u8], signature: &str, to: &str, name: &str) -> PathBuf {
        let env = self.path("asm-envelope.bin");
        let sig = self.path("asm-signature.txt");
        let plain = self.path("asm.cbor");
        fs::write(&env, envelope).unwrap();
        fs::write(&sig, signature).unwrap();
        let py = format!(
            "import cbor2; open({p:?}, 'wb').write(cbor2.dumps({{'Version': 1, 'Kind': 'signed', \
             'Envelope': open({e:?}, 'rb').read(), 'Signature': open({s:?}).read()}}))",
            p = plain.to_str().unwrap(),
            e = env.to_str().unwrap(),
            s = sig.to_str().unwrap()
        );
        ok(&Command::new(venv_bin("python"))
            .arg("-c")
            .arg(py)
            .output()
            .unwrap());
        let out = self.path(name);
        ok(&Command::new(system_tool("age"))
            .args(["-e", "-r", to, "-o"])
            .arg(&out)
            .arg(&plain)
            .output()
            .unwrap());
        out
    }

    /// The inner envelope, made by cbor2 with SealedTo, TokenId, IssuedAt.
    fn inner_envelope(&self, sealed_to: &str) -> Vec<u8> {
        let out = self.path("inner.cbor");
        let py = format!(
            "import cbor2, os; open({o:?}, 'wb').write(cbor2.dumps({{'Version': 1, 'Kind': 'session', \
             'Credentials': {{'AccessKeyId': {AKID:?}, 'SecretAccessKey': {SECRET:?}, 'SessionToken': {SESSION:?}, \
             'Expiration': '2099-01-01T00:00:00Z'}}, 'SealedTo': [{sealed_to:?}], 'TokenId': os.urandom(16), \
             'IssuedAt': '2026-11-26T12:00:00Z'}}))",
            o = out.to_str().unwrap()
        );
        ok(&Command::new(venv_bin("python"))
            .arg("-c")
            .arg(py)
            .output()
            .unwrap());
        fs::read(out).unwrap()
    }

    fn ssh_sign(&self, data: &[u8], namespace: &str) -> String {
        let f = self.path("to-sign.bin");
        fs::write(&f, data).unwrap();
        let o = Command::new(system_tool("ssh-keygen"))
            .args(["-Y", "sign", "-n", namespace, "-f"])
            .arg(&self.sender)
            .arg(&f)
            .output()
            .unwrap();
        ok(&o);
        fs::read_to_string(self.path("to-sign.bin.sig")).unwrap()
    }

    fn open(&self, token: &Path, signers: bool) -> std::process::Output {
        let mut c = handoff(self.home());
        c.arg("open").arg(token).args(["--format", "json"]);
        if signers {
            c.arg("--signers").arg(&self.signers);
        }
        run(&mut c)
    }
}

#[test]
fn openssh_verifies_what_handoff_signs() {
    let s = setup();
    let t = s.seal_signed("t.age");
    let (envelope, signature) = s.unwrap(&t);
    let sig = s.path("sig");
    fs::write(&sig, &signature).unwrap();
    let o = run_with_input(
        Command::new(system_tool("ssh-keygen"))
            .args([
                "-Y",
                "verify",
                "-n",
                "handoff",
                "-I",
                "sender@example.com",
                "-f",
            ])
            .arg(&s.signers)
            .arg("-s")
            .arg(&sig),
        &envelope,
    );
    assert!(
        stdout(&o).contains("Good \"handoff\" signature"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    ok(&o);
    // and handoff accepts it with the same signers file
    let json = ok(&s.open(&t, true));
    assert!(json.contains(AKID));
    let shown = ok(&run(handoff(s.home())
        .arg("show")
        .arg(&t)
        .arg("--signers")
        .arg(&s.signers)));
    assert!(
        shown.contains("sender@example.com") && shown.contains("(verified)"),
        "{shown}"
    );
    assert!(shown.contains(&s.public), "sealed to: {shown}");
    // without a signers file: opens, and show says unverified
    ok(&s.open(&t, false));
    let shown = ok(&run(handoff(s.home()).arg("show").arg(&t)));
    assert!(
        shown.contains("UNVERIFIED") && shown.contains("SHA256:"),
        "{shown}"
    );
}

#[test]
fn handoff_accepts_what_openssh_signs() {
    let s = setup();
    let inner = s.inner_envelope(&s.public);
    let signature = s.ssh_sign(&inner, "handoff");
    let t = s.assemble(&inner, &signature, &s.public, "ssh-signed.age");
    let json = ok(&s.open(&t, true));
    assert!(json.contains(SECRET));
    // the default signers path is used when it exists: what it lists
    // opens, and an unsigned token no longer does
    let plain = s.path("plain.age");
    seal_document(s.home(), &s.public, &plain, &[]);
    ok(&s.open(&plain, false));
    let default = s.path(".config/handoff/allowed_signers");
    fs::copy(&s.signers, &default).unwrap();
    ok(&s.open(&t, false));
    let err = fails(&s.open(&plain, false), 7, &[SECRET]);
    assert!(
        err.contains("not signed") && err.contains("allowed_signers"),
        "{err}"
    );
}

#[test]
fn refusals_are_status_7_with_nothing_on_stdout() {
    let s = setup();
    let t = s.seal_signed("t.age");
    let (envelope, signature) = s.unwrap(&t);

    // unsigned, with a signers file
    let plain = s.path("plain.age");
    seal_document(s.home(), &s.public, &plain, &[]);
    let err = fails(&s.open(&plain, true), 7, &[SECRET]);
    assert!(err.contains("not signed"), "{err}");

    // an unlisted signer
    let stranger = sender_key(s.home(), "stranger", "");
    let other = s.path("stranger.age");
    ok(&run_with_input(
        handoff(s.home())
            .args(["seal", "-r", &s.public, "--sign"])
            .arg(&stranger)
            .arg("-o")
            .arg(&other),
        sts_document().as_bytes(),
    ));
    assert!(fails(&s.open(&other, true), 7, &[SECRET]).contains("does not list"));

    // one byte changed inside Envelope, old signature kept
    let mut changed = envelope.clone();
    let n = changed.len() - 10;
    changed[n] ^= 0x01;
    let tampered = s.assemble(&changed, &signature, &s.public, "tampered.age");
    fails(&s.open(&tampered, true), 7, &[SECRET]);
    fails(&s.open(&tampered, false), 7, &[SECRET]);

    // the signed plaintext re-encrypted to a different recipient
    let other_id = s.path("other-id.txt");
    let other_pk = ok(&run(handoff(s.home())
        .args(["keygen", "-o"])
        .arg(&other_id)))
    .trim()
    .to_string();
    let readdressed = s.assemble(&envelope, &signature, &other_pk, "readdressed.age");
    let o = run(handoff(s.home())
        .arg("open")
        .arg(&readdressed)
        .arg("-i")
        .arg(&other_id)
        .arg("--signers")
        .arg(&s.signers));
    assert!(fails(&o, 7, &[SECRET]).contains("re-addressed"));

    // a signature for another namespace
    let inner = s.inner_envelope(&s.public);
    let git_sig = s.ssh_sign(&inner, "git");
    let wrong_ns = s.assemble(&inner, &git_sig, &s.public, "git-ns.age");
    assert!(fails(&s.open(&wrong_ns, true), 7, &[SECRET]).contains("namespace"));

    // a signers file that restricts the key to other namespaces
    let pubkey = fs::read_to_string(s.sender.with_extension("pub")).unwrap();
    fs::write(
        &s.signers,
        format!("sender@example.com namespaces=\"git\" {pubkey}"),
    )
    .unwrap();
    fails(&s.open(&t, true), 7, &[SECRET]);

    // exec refuses before running anything
    let marker = s.path("ran");
    let o = run(handoff(s.home())
        .arg("exec")
        .arg(&plain)
        .arg("--signers")
        .arg(&s.signers)
        .args(["--", "touch"])
        .arg(&marker));
    fails(&o, 7, &[SECRET]);
    assert!(!marker.exists());
}

#[test]
fn passphrase_protected_signing_key() {
    let s = setup();
    let key = sender_key(s.home(), "locked", "correct horse");
    let pass = s.path("pass.txt");
    fs::write(&pass, "correct horse\n").unwrap();
    let out = s.path("t.age");
    ok(&run_with_input(
        handoff(s.home())
            .args(["seal", "-r", &s.public, "--sign"])
            .arg(&key)
            .arg("--sign-passphrase-file")
            .arg(&pass)
            .arg("-o")
            .arg(&out),
        sts_document().as_bytes(),
    ));
    let shown = ok(&run(handoff(s.home()).arg("show").arg(&out)));
    assert!(shown.contains("signed by"), "{shown}");
    fs::write(&pass, "wrong\n").unwrap();
    let o = run_with_input(
        handoff(s.home())
            .args(["seal", "-r", &s.public, "--sign"])
            .arg(&key)
            .arg("--sign-passphrase-file")
            .arg(&pass)
            .arg("-o")
            .arg(s.path("t2.age")),
        sts_document().as_bytes(),
    );
    assert!(fails(&o, 2, &[]).contains("wrong passphrase"));
}

#[test]
fn signed_round_trips_with_ssh_and_passphrase_recipients() {
    let s = setup();
    // SSH recipient
    let rk = sender_key(s.home(), "recipient", "");
    let rpub = fs::read_to_string(rk.with_extension("pub")).unwrap();
    let out = s.path("ssh.age");
    ok(&run_with_input(
        handoff(s.home())
            .args(["seal", "-r", rpub.trim(), "--sign"])
            .arg(&s.sender)
            .arg("-o")
            .arg(&out),
        sts_document().as_bytes(),
    ));
    let o = run(handoff(s.home())
        .arg("open")
        .arg(&out)
        .arg("-i")
        .arg(&rk)
        .arg("--signers")
        .arg(&s.signers));
    assert!(ok(&o).contains(AKID));
    // passphrase
    let pass = s.path("pass.txt");
    fs::write(&pass, "a long passphrase\n").unwrap();
    let out = s.path("pw.age");
    ok(&run_with_input(
        handoff(s.home())
            .args(["seal", "--passphrase-file"])
            .arg(&pass)
            .arg("--sign")
            .arg(&s.sender)
            .arg("-o")
            .arg(&out),
        sts_document().as_bytes(),
    ));
    let o = run(handoff(s.home())
        .arg("show")
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .arg("--signers")
        .arg(&s.signers));
    let shown = ok(&o);
    assert!(
        shown.contains("sealed to:") && shown.contains("scrypt"),
        "{shown}"
    );
}

#[test]
fn a_shared_allowed_signers_file_with_other_key_types() {
    let s = setup();
    let t = s.seal_signed("t.age");
    let ecdsa = ssh_keygen(s.home(), "ecdsa", &["ecdsa"], "", "other@example.com").0;
    let rsa = ssh_keygen(
        s.home(),
        "rsa",
        &["rsa", "-b", "2048"],
        "",
        "other@example.com",
    )
    .0;
    let pub_of = |k: &Path| fs::read_to_string(k.with_extension("pub")).unwrap();
    let sender = pub_of(&s.sender);
    // lines OpenSSH reads, for git and ssh, before and after handoff's own
    fs::write(
        &s.signers,
        format!(
            "git@example.com {}ca@example.com cert-authority {}rsa@example.com namespaces=\"git\" {}\
             sender@example.com namespaces=\"handoff\" {sender}",
            pub_of(&ecdsa),
            pub_of(&ecdsa),
            pub_of(&rsa)
        ),
    )
    .unwrap();
    let signers = handoff::seal::signing::Signers::from_file(&s.signers).unwrap();
    assert_eq!(signers.skipped().len(), 3, "{:?}", signers.skipped());
    let json = ok(&s.open(&t, true));
    assert!(json.contains(SECRET));
    // a token signed (by OpenSSH) with the ecdsa key: refused as a key type
    // handoff does not use, listed or not, not as a changed token
    let inner = s.inner_envelope(&s.public);
    let f = s.path("to-sign-ecdsa.bin");
    fs::write(&f, &inner).unwrap();
    ok(&Command::new(system_tool("ssh-keygen"))
        .args(["-Y", "sign", "-n", "handoff", "-f"])
        .arg(&ecdsa)
        .arg(&f)
        .output()
        .unwrap());
    let signature = fs::read_to_string(s.path("to-sign-ecdsa.bin.sig")).unwrap();
    let by_ecdsa = s.assemble(&inner, &signature, &s.public, "ecdsa-signed.age");
    for signers in [true, false] {
        let err = fails(&s.open(&by_ecdsa, signers), 7, &[SECRET]);
        assert!(err.contains("key type"), "{err}");
        assert!(!err.contains("changed after signing"), "{err}");
    }
}

#[test]
fn every_rsa_identity_form_knows_who_opened_a_signed_token() {
    let s = setup();
    let rsa = ssh_keygen(
        s.home(),
        "rsa-pem",
        &["rsa", "-b", "2048", "-m", "PEM"],
        "",
        "other@example.com",
    )
    .0;
    assert!(fs::read_to_string(&rsa)
        .unwrap()
        .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let public = fs::read_to_string(rsa.with_extension("pub")).unwrap();
    let token = s.path("to-rsa.age");
    ok(&run_with_input(
        handoff(s.home())
            .args(["seal", "-r", public.trim(), "--sign"])
            .arg(&s.sender)
            .arg("-o")
            .arg(&token),
        sts_document().as_bytes(),
    ));
    // the same key as PEM (PKCS#1), PKCS#8 and OpenSSH
    let pkcs8 = s.path("rsa-pkcs8");
    let openssh = s.path("rsa-openssh");
    for (copy, format, begin) in [
        (&pkcs8, "PKCS8", "-----BEGIN PRIVATE KEY-----"),
        (&openssh, "RFC4716", "-----BEGIN OPENSSH PRIVATE KEY-----"),
    ] {
        fs::copy(&rsa, copy).unwrap();
        ok(&Command::new(system_tool("ssh-keygen"))
            .args(["-q", "-p", "-N", "", "-P", "", "-m", format, "-f"])
            .arg(copy)
            .output()
            .unwrap());
        assert!(fs::read_to_string(copy).unwrap().starts_with(begin));
    }
    for key in [&rsa, &pkcs8, &openssh] {
        let o = run(handoff(s.home())
            .arg("open")
            .arg(&token)
            .arg("-i")
            .arg(key)
            .arg("--signers")
            .arg(&s.signers));
        assert!(ok(&o).contains(AKID), "{}", key.display());
    }
}

/// allowed_signers principals fields, each on a line of the sender's key:
/// the field as written, and (for `principals_match`) as OpenSSH unquotes it.
const PRINCIPALS: &[(&str, &str)] = &[
    ("sender@example.com", "sender@example.com"),
    ("!sender@example.com", "!sender@example.com"),
    ("\"\"", ""),
    ("*", "*"),
    ("!*", "!*"),
    ("*,!sender@example.com", "*,!sender@example.com"),
    (
        "sender@example.com,!sender@example.com",
        "sender@example.com,!sender@example.com",
    ),
    (
        "!sender@example.com,sender@example.com",
        "!sender@example.com,sender@example.com",
    ),
    ("*@example.com", "*@example.com"),
    ("s?nder@example.com", "s?nder@example.com"),
    (
        "bob@example.com,sender@example.com",
        "bob@example.com,sender@example.com",
    ),
    (
        "\"bob@example.com,sender@example.com\"",
        "bob@example.com,sender@example.com",
    ),
    ("!*@example.com,*", "!*@example.com,*"),
    ("*,!*", "*,!*"),
    ("SENDER@example.com", "SENDER@example.com"),
    ("se*er@ex*", "se*er@ex*"),
    ("!bob@example.com", "!bob@example.com"),
    ("bob@example.com,", "bob@example.com,"),
    ("!x,!handoff,*", "!x,!handoff,*"),
    ("?", "?"),
];

/// The identities each line is checked for with `ssh-keygen -Y verify -I`.
const WHO: &[&str] = &[
    "sender@example.com",
    "bob@example.com",
    "x",
    "handoff",
    "SENDER@example.com",
];

#[test]
fn principals_match_as_openssh_matches_them() {
    let s = setup();
    let t = s.seal_signed("t.age");
    let (envelope, signature) = s.unwrap(&t);
    let sig = s.path("sig");
    fs::write(&sig, &signature).unwrap();
    let key = fs::read_to_string(s.sender.with_extension("pub")).unwrap();
    let file = s.path("signers-case");
    for (field, unquoted) in PRINCIPALS {
        fs::write(&file, format!("{field} namespaces=\"handoff\" {key}")).unwrap();
        // ssh-keygen -Y verify, for each identity
        let mut accepted = Vec::new();
        for who in WHO {
            let o = run_with_input(
                Command::new(system_tool("ssh-keygen"))
                    .args(["-Y", "verify", "-n", "handoff", "-I", who, "-f"])
                    .arg(&file)
                    .arg("-s")
                    .arg(&sig),
                &envelope,
            );
            let openssh = o.status.success();
            assert_eq!(
                handoff::seal::signing::principals_match(unquoted, who),
                openssh,
                "{field} for {who}: OpenSSH says {openssh}"
            );
            if openssh {
                accepted.push(*who);
            }
        }
        // handoff has no identity to check: the line vouches when OpenSSH
        // accepts it for someone
        let o = run(handoff(s.home())
            .arg("show")
            .arg(&t)
            .arg("--signers")
            .arg(&file));
        // find-principals prints the field of every line with the key,
        // whoever it matches; handoff shows it only when it matches someone
        let found = run(Command::new(system_tool("ssh-keygen"))
            .args(["-Y", "find-principals", "-f"])
            .arg(&file)
            .arg("-s")
            .arg(&sig));
        if accepted.is_empty() {
            fails(&o, 7, &[SECRET]);
        } else {
            assert!(o.status.success(), "{field}: {}", stderr(&o));
            let shown = ok(&o);
            // one a line, as OpenSSH prints them
            let printed: Vec<String> = stdout(&found)
                .lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            let listed: Vec<String> = unquoted
                .split(',')
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect();
            assert_eq!(printed, listed, "{field}");
            assert!(
                shown.contains(&format!("{unquoted} SHA256:")) && shown.contains("(verified)"),
                "{field}: {shown}"
            );
        }
    }
}
