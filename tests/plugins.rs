//! age plugins, against a real plugin: examples/age-plugin-handofftest.rs,
//! built on the `age-plugin` crate (the reference implementation of the
//! plugin side), and Go age and rage as the other clients. The tests build
//! the example themselves (`cargo build --example age-plugin-handofftest`,
//! tests/common/plugin.rs): `cargo test` builds examples only as test
//! harnesses.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::plugin::*;
use common::*;

type World = PluginHome;

fn age(w: &World) -> Command {
    w.command(system_tool("age"))
}

fn seal_to(w: &World, recipient: &str, name: &str, extra: &[&str]) -> PathBuf {
    let out = w.file(name);
    let mut c = w.handoff();
    c.args(["seal", "-r", recipient, "-o"])
        .arg(&out)
        .args(extra);
    ok(&run_with_input(&mut c, sts_document().as_bytes()));
    out
}

fn opens(o: &Output) {
    assert!(ok(o).contains(AKID), "{}", stdout(o));
}

#[test]
fn seal_to_a_plugin_recipient_and_open_with_its_identity() {
    let w = World::new();
    let t = seal_to(&w, &w.recipient, "t.age", &[]);
    assert_eq!(w.unwraps(), 0);
    opens(&run(w
        .handoff()
        .arg("open")
        .arg(&t)
        .arg("-i")
        .arg(&w.identity)));
    assert_eq!(w.unwraps(), 1);
    // keygen -y prints the recipient the plugin's identity file names
    let y = ok(&run(w.handoff().arg("keygen").arg("-y").arg(&w.identity)));
    assert_eq!(y.trim(), w.recipient);
    // beside an X25519 identity in the same file, and through -R
    let x = ok(&run(handoff(w.home())
        .args(["keygen", "-o"])
        .arg(w.file("x.txt"))));
    let mut both = fs::read_to_string(w.file("x.txt")).unwrap();
    both.push_str(&fs::read_to_string(&w.identity).unwrap());
    fs::write(w.file("both.txt"), both).unwrap();
    fs::write(w.file("to.txt"), format!("# plugin\n{}\n", w.recipient)).unwrap();
    let t2 = w.file("t2.age");
    let mut c = w.handoff();
    c.args(["seal", "-R"])
        .arg(w.file("to.txt"))
        .arg("-o")
        .arg(&t2);
    ok(&run_with_input(&mut c, sts_document().as_bytes()));
    opens(&run(w
        .handoff()
        .arg("open")
        .arg(&t2)
        .arg("-i")
        .arg(w.file("both.txt"))));
    // the X25519 key is tried first: a token sealed to it never runs the plugin
    let t3 = seal_to(&w, x.trim(), "t3.age", &[]);
    let before = w.unwraps();
    opens(&run(w
        .handoff()
        .arg("open")
        .arg(&t3)
        .arg("-i")
        .arg(w.file("both.txt"))));
    assert_eq!(w.unwraps(), before);
    // another plugin identity does not open it
    let (other, _) = new_identity(w.home(), "other.txt");
    let e = fails(
        &run(w.handoff().arg("open").arg(&t).arg("-i").arg(&other)),
        3,
        &[SECRET],
    );
    assert!(e.contains("no identity matches"), "{e}");
}

/// Another age client (`client` is its binary) opens what handoff sealed to
/// the plugin, through the same plugin; it seals the envelope back to the
/// plugin recipient, and handoff opens that.
fn other_client_both_ways(client: PathBuf) {
    let w = World::new();
    let t = seal_to(&w, &w.recipient, "t.age", &[]);
    let o = run(w
        .command(&client)
        .arg("-d")
        .arg("-i")
        .arg(&w.identity)
        .arg(&t));
    let envelope = o.stdout.clone();
    ok(&o);
    assert!(!envelope.is_empty());
    let plain = w.file("envelope.cbor");
    fs::write(&plain, &envelope).unwrap();
    let back = w.file("back.age");
    ok(&run(w
        .command(&client)
        .args(["-r", &w.recipient, "-o"])
        .arg(&back)
        .arg(&plain)));
    opens(&run(w
        .handoff()
        .arg("open")
        .arg(&back)
        .arg("-i")
        .arg(&w.identity)));
}

#[test]
fn go_age_opens_what_handoff_sealed_to_a_plugin_and_the_reverse() {
    other_client_both_ways(system_tool("age"));
}

#[test]
fn rage_opens_what_handoff_sealed_to_a_plugin_and_the_reverse() {
    other_client_both_ways(rage());
}

#[test]
fn signed_handoffs_name_the_plugin_recipient_and_catch_re_addressing() {
    let w = World::new();
    let key = w.file("signer");
    ok(&run(Command::new(system_tool("ssh-keygen"))
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f"])
        .arg(&key)));
    let t = seal_to(
        &w,
        &w.recipient,
        "signed.age",
        &["--sign", key.to_str().unwrap()],
    );
    let shown = ok(&run(w
        .handoff()
        .arg("show")
        .arg(&t)
        .arg("-i")
        .arg(&w.identity)));
    assert!(shown.contains(&w.recipient), "{shown}");
    // re-addressed: Go age decrypts the signed plaintext and seals it to
    // another plugin identity's recipient
    let o = run(age(&w).arg("-d").arg("-i").arg(&w.identity).arg(&t));
    let plain = w.file("signed.cbor");
    fs::write(&plain, &o.stdout).unwrap();
    ok(&o);
    let (other, other_recipient) = new_identity(w.home(), "other.txt");
    let moved = w.file("moved.age");
    ok(&run(age(&w)
        .args(["-r", &other_recipient, "-o"])
        .arg(&moved)
        .arg(&plain)));
    let e = fails(
        &run(w.handoff().arg("open").arg(&moved).arg("-i").arg(&other)),
        7,
        &[SECRET],
    );
    assert!(e.contains("re-addressed"), "{e}");
    // an identity file without the recipient comment: the plugin name is
    // all it tells, so a token signed for that plugin opens...
    let bare = w.file("bare.txt");
    let text = fs::read_to_string(&w.identity).unwrap();
    fs::write(
        &bare,
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    opens(&run(w.handoff().arg("open").arg(&t).arg("-i").arg(&bare)));
    // ...and one signed for an X25519 key, re-sealed to the plugin, does not
    let x = ok(&run(handoff(w.home())
        .args(["keygen", "-o"])
        .arg(w.file("x.txt"))));
    let tx = seal_to(&w, x.trim(), "tx.age", &["--sign", key.to_str().unwrap()]);
    let o = run(age(&w).arg("-d").arg("-i").arg(w.file("x.txt")).arg(&tx));
    fs::write(&plain, &o.stdout).unwrap();
    ok(&o);
    ok(&run(age(&w)
        .args(["-r", &w.recipient, "-o"])
        .arg(&moved)
        .arg(&plain)));
    let e = fails(
        &run(w.handoff().arg("open").arg(&moved).arg("-i").arg(&bare)),
        7,
        &[SECRET],
    );
    assert!(e.contains("re-addressed"), "{e}");
}

#[test]
fn a_missing_plugin_is_named_exit_2_on_seal_and_3_on_open() {
    let w = World::new();
    let t = seal_to(&w, &w.recipient, "t.age", &[]);
    let mut c = w.handoff();
    c.env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["seal", "-a", "-r", &w.recipient]);
    let e = fails(
        &run_with_input(&mut c, sts_document().as_bytes()),
        2,
        &[SECRET],
    );
    assert!(e.contains(PLUGIN) && e.contains("install"), "{e}");
    let mut c = w.handoff();
    c.env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("open")
        .arg(&t)
        .arg("-i")
        .arg(&w.identity);
    let e = fails(&run(&mut c), 3, &[SECRET]);
    assert!(e.contains(PLUGIN) && e.contains("install"), "{e}");
    // an X25519 key beside the plugin identity still opens what is sealed
    // to it, without the plugin
    let x = ok(&run(handoff(w.home())
        .args(["keygen", "-o"])
        .arg(w.file("x.txt"))));
    let mut both = fs::read_to_string(&w.identity).unwrap();
    both.push_str(&fs::read_to_string(w.file("x.txt")).unwrap());
    fs::write(w.file("both.txt"), both).unwrap();
    let tx = seal_to(&w, x.trim(), "tx.age", &[]);
    let mut c = w.handoff();
    c.env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("open")
        .arg(&tx)
        .arg("-i")
        .arg(w.file("both.txt"));
    opens(&run(&mut c));
}

/// Runs handoff with the plugin misbehaving as `mode`; returns the output
/// and how long it took.
fn misbehaving(w: &World, mode: &str, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut c = w.handoff();
    c.env("HANDOFF_TEST_PLUGIN", mode)
        .env("HANDOFF_PLUGIN_TIMEOUT", "2")
        .args(args)
        .stdin(Stdio::piped());
    let o = run_with_input(&mut c, sts_document().as_bytes());
    (o, start.elapsed())
}

#[test]
fn misbehaving_plugins_give_clear_errors_never_a_hang() {
    let w = World::new();
    let t = seal_to(&w, &w.recipient, "t.age", &[]);
    let id = w.identity.to_str().unwrap();
    let token = t.to_str().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("exit", &["stopped before it answered", PLUGIN]),
        ("garbage", &["broke the age plugin protocol", PLUGIN]),
        ("hang", &["did not answer for 2 s", PLUGIN]),
        ("flood", &["wrote more than 1 MiB", PLUGIN]),
        ("pin", &["secret", "no terminal"]),
        ("confirm", &["confirmation", "no terminal"]),
        ("public", &["answer", "no terminal"]),
    ];
    for (mode, says) in cases {
        let (o, took) = misbehaving(&w, mode, &["open", token, "-i", id]);
        let e = fails(&o, 3, &[SECRET, AKID]);
        for s in *says {
            assert!(e.contains(s), "{mode}: {e}");
        }
        assert!(took < Duration::from_secs(10), "{mode} took {took:?}");
        let (o, took) = misbehaving(&w, mode, &["seal", "-a", "-r", &w.recipient]);
        assert!(!o.status.success(), "{mode}: seal succeeded");
        let e = stderr(&o);
        assert!(
            e.starts_with("handoff: ") && e.lines().count() <= 2,
            "{mode}: {e}"
        );
        assert!(!e.contains("panicked"), "{mode}: {e}");
        assert!(took < Duration::from_secs(10), "{mode} seal took {took:?}");
    }
    // the hung plugin was stopped, not left behind
    std::thread::sleep(Duration::from_millis(200));
    // (found by the unwrap-count file in its environment, unique to this test)
    let mark = w.count.to_string_lossy().into_owned();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let environ = fs::read(entry.path().join("environ")).unwrap_or_default();
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        assert!(
            !(String::from_utf8_lossy(&environ).contains(&mark)
                && String::from_utf8_lossy(&cmdline).contains(PLUGIN)),
            "a plugin process is still running: {}",
            String::from_utf8_lossy(&cmdline)
        );
    }
    // a plugin message reaches stderr, and the token opens
    let (o, _) = misbehaving(&w, "message", &["open", token, "-i", id]);
    opens(&o);
    assert!(stderr(&o).contains("touch the test key"), "{}", stderr(&o));
}

/// Runs handoff on a terminal (a pty from script(1)) whose user types
/// `answer` after `delay` seconds.
fn on_terminal(w: &World, mode: &str, args: &str, answer: &str, delay: &str) -> Output {
    let mut c = w.command("sh");
    let handoff = env!("CARGO_BIN_EXE_handoff");
    c.env("HANDOFF_TEST_PLUGIN", mode)
        .env("HANDOFF_PLUGIN_TIMEOUT", "1")
        .arg("-c")
        .arg(format!(
            "(sleep {delay}; echo {answer}; sleep 2) | script -qec '{handoff} {args}' /dev/null"
        ));
    run(&mut c)
}

#[test]
fn plugin_questions_reach_the_terminal_and_the_users_time_does_not_count() {
    let w = World::new();
    let t = seal_to(&w, &w.recipient, "t.age", &[]);
    let args = format!("open {} -i {}", t.display(), w.identity.display());
    // the answer comes after 2 s, beyond the plugin's 1 s bound: the time
    // the user takes is not the plugin's
    let o = on_terminal(&w, "pin", &args, "123456", "2");
    let out = ok(&o);
    assert!(out.contains("Enter the PIN for test key:"), "{out}");
    assert!(!out.contains("123456"), "the PIN was echoed: {out}");
    assert!(out.contains(AKID), "{out}");
    let out = ok(&on_terminal(&w, "confirm", &args, "yes", "0.5"));
    assert!(
        out.contains("Use the test key? [yes/no]") && out.contains(AKID),
        "{out}"
    );
    let out = stdout(&on_terminal(&w, "pin", &args, "000000", "0.5"));
    assert!(out.contains("wrong PIN") && !out.contains(AKID), "{out}");
}
