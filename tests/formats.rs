//! The shell formats of `open` against the shells themselves: golden files
//! for PowerShell and cmd.exe (which cannot run here), and hostile values
//! through every format's quoting rules: bash, dash, zsh, ksh, mksh,
//! busybox sh and fish evaluate the output, run nothing and get every value
//! byte for byte; PowerShell's lines are checked against its
//! single-quote grammar; cmd.exe refuses what it cannot take.
//!
//! To write the golden files again: `HANDOFF_WRITE_GOLDEN=1 cargo test --test formats`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use handoff::{render, Credentials, ErrorKind, Kind, OutputFormat, Token};

fn token(secret: &str, session: &str, region: &str) -> Token {
    Token::new(
        Kind::Federation,
        Credentials::new(
            AKID,
            secret.to_string().into(),
            Some(session.to_string().into()),
            handoff::clock::parse_rfc3339("2099-01-01T00:00:00Z"),
        ),
    )
    .with_region(region)
}

fn out(t: &Token, f: OutputFormat) -> String {
    render(t, f, "handoff")
        .unwrap_or_else(|e| panic!("{f:?}: {e}"))
        .to_string()
}

#[test]
fn golden_files_for_the_windows_shells() {
    let t = token(SECRET, SESSION, "eu-west-1");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats");
    for (f, name) in [
        (OutputFormat::PowerShell, "powershell.ps1"),
        (OutputFormat::WindowsCmd, "windows-cmd.cmd"),
        (OutputFormat::Fish, "fish.fish"),
        (OutputFormat::Env, "env.sh"),
        (OutputFormat::EnvNoExport, "env-no-export.sh"),
    ] {
        let got = out(&t, f);
        let path = dir.join(name);
        if std::env::var_os("HANDOFF_WRITE_GOLDEN").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            got, want,
            "{name} differs: HANDOFF_WRITE_GOLDEN=1 rewrites it"
        );
    }
}

/// Values a hostile sender could put in a token: every shell's quote and
/// expansion characters, line breaks, PowerShell's typographic quotes.
const HOSTILE: &[&str] = &[
    "a'b",
    "it's $(touch pwned) `touch pwned` \"q\" \\ ; | & > <",
    "x'; touch pwned; echo '",
    "line\nbreak'\n touch pwned\n'",
    "back\\slash\\' ; touch pwned #",
    "%PATH% !x! ^& touch pwned",
    "\u{2018}; touch pwned; \u{2019}\u{201A}\u{201B}",
    "$Env:PATH $(touch pwned) @(1)",
    "}; touch pwned; echo ${HOME}",
    // zsh: a bare word that starts with = is a command's path, and an
    // unknown command stops the eval halfway; ~ after = or :, globs
    "=nonexistent",
    "=ls",
    "~",
    "~root/x:~/y",
    "a:=b",
    "x=~/y",
    "*",
    "[a]?{b,c}",
    "^x~y#",
    "!! !$ !#",
    "tab\there\r\n",
];

/// The POSIX shells and zsh, each evaluating the sh formats.
const SH_FAMILY: &[(&str, &[&str])] = &[
    ("bash", &[]),
    ("dash", &[]),
    ("zsh", &[]),
    ("ksh", &[]),
    ("mksh", &[]),
    ("busybox", &["sh"]),
];

/// Evaluates `script` (the output then a printf of the variables) in a
/// shell in an empty directory; returns the printed values and checks that
/// nothing was created.
fn eval_in(shell: &str, args: &[&str], script: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("creds");
    std::fs::write(&file, script).unwrap();
    let mut c = Command::new(system_tool(shell));
    isolate(&mut c, home.path());
    c.current_dir(dir.path())
        .env("AWS_PROFILE", "someone-else")
        .env("AWS_SECURITY_TOKEN", "stale")
        .env("AWS_DEFAULT_PROFILE", "someone-else")
        .env("AWS_ACCOUNT_ID", "999999999999")
        .env("AWS_CREDENTIAL_SCOPE", "elsewhere")
        .args(args)
        .arg(&file);
    let o = run(&mut c);
    assert!(o.status.success(), "{shell}: {}\n{script}", stderr(&o));
    let created: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        created.is_empty(),
        "{shell} ran something: {created:?}\n{script}"
    );
    // values are NUL-separated: they may hold line breaks
    stdout(&o).split('\0').map(str::to_string).collect()
}

const SH_PRINT: &str = r#"printf '%s\0' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_REGION" "$AWS_DEFAULT_REGION" "${AWS_PROFILE-unset}" "${AWS_SECURITY_TOKEN-unset}" "${AWS_DEFAULT_PROFILE-unset}" "${AWS_ACCOUNT_ID-unset}" "${AWS_CREDENTIAL_SCOPE-unset}""#;
const FISH_PRINT: &str = r#"printf '%s\0' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_REGION" "$AWS_DEFAULT_REGION"; set -q AWS_PROFILE; and printf '%s\0' $AWS_PROFILE; or printf 'unset\0'; set -q AWS_SECURITY_TOKEN; and printf '%s\0' $AWS_SECURITY_TOKEN; or printf 'unset\0'; for v in AWS_DEFAULT_PROFILE AWS_ACCOUNT_ID AWS_CREDENTIAL_SCOPE; set -q $v; and printf '%s\0' $$v; or printf 'unset\0'; end"#;

#[test]
fn hostile_values_run_nothing_in_sh_and_fish() {
    for v in HOSTILE {
        let t = token(v, v, v);
        let want = [
            AKID, v, v, v, v, "unset", "unset", "unset", "unset", "unset",
        ];
        let mut shells: Vec<(&str, &[&str], OutputFormat, &str)> = Vec::new();
        for &(shell, args) in SH_FAMILY {
            shells.push((shell, args, OutputFormat::Env, SH_PRINT));
            shells.push((shell, args, OutputFormat::EnvNoExport, SH_PRINT));
        }
        shells.push(("fish", &["--no-config"], OutputFormat::Fish, FISH_PRINT));
        for (shell, args, format, print) in shells {
            // set -e: the eval must never stop halfway
            let stop = if shell == "fish" { "" } else { "set -e\n" };
            let script = format!("{stop}{}{print}\n", out(&t, format));
            let got = eval_in(shell, args, &script);
            assert_eq!(&got[..10], &want, "{shell} {format:?}\n{script}");
        }
    }
}

#[test]
fn a_nul_byte_no_shell_can_hold_is_refused_not_cut_short() {
    for f in [
        OutputFormat::Env,
        OutputFormat::EnvNoExport,
        OutputFormat::Fish,
        OutputFormat::PowerShell,
        OutputFormat::WindowsCmd,
    ] {
        let e = render(&token("a\0b", SESSION, "eu-west-1"), f, "x").unwrap_err();
        assert!(
            e.to_string().contains("AWS_SECRET_ACCESS_KEY"),
            "{f:?}: {e}"
        );
    }
}

#[test]
fn the_callers_region_wins_in_every_shell() {
    let t = token(SECRET, SESSION, "eu-west-1");
    let mut shells: Vec<(&str, &[&str], OutputFormat, &str)> = SH_FAMILY
        .iter()
        .map(|&(shell, args)| (shell, args, OutputFormat::Env, SH_PRINT))
        .collect();
    shells.push(("fish", &["--no-config"], OutputFormat::Fish, FISH_PRINT));
    for (shell, args, format, print) in shells {
        for (caller, want) in [
            ("", ["eu-west-1", "eu-west-1"]),
            ("AWS_REGION=us-east-2", ["us-east-2", "us-east-2"]),
            (
                "AWS_DEFAULT_REGION=ap-south-1",
                ["ap-south-1", "ap-south-1"],
            ),
        ] {
            let set = match (caller.split_once('='), format) {
                (Some((k, v)), OutputFormat::Fish) => format!("set -gx {k} {v}\n"),
                (Some((k, v)), _) => format!("export {k}={v}\n"),
                (None, _) => String::new(),
            };
            let script = format!("{set}{}{print}\n", out(&t, format));
            let got = eval_in(shell, args, &script);
            assert_eq!(&got[3..5], &want, "{shell} with {caller:?}\n{script}");
        }
    }
    // a token without a region leaves the caller's variables alone
    let no_region = Token::new(
        Kind::Federation,
        Credentials::new(AKID, SECRET.to_string().into(), None, None),
    );
    let script = format!(
        "export AWS_REGION=us-west-1\n{}{SH_PRINT}\n",
        out(&no_region, OutputFormat::Env)
    );
    assert_eq!(eval_in("sh", &[], &script)[3..5], ["us-west-1", ""]);
}

/// PowerShell's grammar for a single-quoted string: any of the four quote
/// characters ends it unless doubled.
fn powershell_single_quoted(body: &str) -> Option<String> {
    let is_quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let mut chars = body.chars().peekable();
    if !chars.next().is_some_and(is_quote) {
        return None;
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if is_quote(c) {
            if chars.peek().copied().is_some_and(is_quote) {
                value.push(chars.next().unwrap());
            } else {
                // the closing quote must end the line
                return chars.next().is_none().then_some(value);
            }
        } else {
            value.push(c);
        }
    }
    None
}

#[test]
fn powershell_quotes_every_hostile_value_or_refuses_it() {
    for v in HOSTILE {
        let t = token(v, v, v);
        match render(&t, OutputFormat::PowerShell, "x") {
            Ok(text) => {
                assert!(!v.chars().any(char::is_control), "{v:?} was not refused");
                let mut values = Vec::new();
                for line in text.lines() {
                    if let Some(rest) = line.strip_prefix("$Env:") {
                        let (_, quoted) = rest.split_once(" = ").unwrap();
                        values.push(
                            powershell_single_quoted(quoted)
                                .unwrap_or_else(|| panic!("unsafe line: {line}")),
                        );
                    } else if line == "if (-not $Env:AWS_DEFAULT_REGION) { $Env:AWS_DEFAULT_REGION = $Env:AWS_REGION }" {
                    } else if line.starts_with("if ") {
                        // the region line: the token's value appears once, quoted
                        let (_, tail) = line.split_once("else { $Env:AWS_REGION = ").unwrap();
                        let quoted = tail.strip_suffix(" } }").unwrap();
                        assert_eq!(powershell_single_quoted(quoted).as_deref(), Some(*v), "{line}");
                    } else {
                        assert!(line.starts_with("Remove-Item Env:"), "{line}");
                    }
                }
                assert_eq!(values[1], *v);
                assert_eq!(values[2], *v);
            }
            Err(e) => {
                assert!(v.chars().any(char::is_control), "{v:?}: {e}");
                assert_eq!(e.kind(), &ErrorKind::Unrepresentable);
                assert!(!e.to_string().contains("pwned"), "{e}");
            }
        }
    }
}

#[test]
fn windows_cmd_refuses_what_it_cannot_quote() {
    for v in HOSTILE {
        // AWS's own alphabet, which cmd.exe takes as it is (a leading = too:
        // set splits at the first one)
        if v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=._:-".contains(&b))
        {
            let text = out(&token(v, SESSION, v), OutputFormat::WindowsCmd);
            assert!(
                text.contains(&format!("set AWS_SECRET_ACCESS_KEY={v}\n")),
                "{text}"
            );
            continue;
        }
        let e = render(
            &token(v, SESSION, "eu-west-1"),
            OutputFormat::WindowsCmd,
            "x",
        )
        .unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Unrepresentable);
        assert!(
            e.to_string().contains("AWS_SECRET_ACCESS_KEY") && !e.to_string().contains("pwned"),
            "{e}"
        );
        // the region too
        assert!(render(&token(SECRET, SESSION, v), OutputFormat::WindowsCmd, "x").is_err());
    }
    // AWS's own alphabet goes through untouched
    let ok = out(
        &token(SECRET, SESSION, "eu-west-1"),
        OutputFormat::WindowsCmd,
    );
    assert!(
        ok.contains(&format!("set AWS_SECRET_ACCESS_KEY={SECRET}\n")),
        "{ok}"
    );
}

#[test]
fn imds_and_process_round_trip_through_seal() {
    let t = token(SECRET, SESSION, "eu-west-1");
    for f in [
        OutputFormat::Imds,
        OutputFormat::CredentialProcess,
        OutputFormat::Json,
    ] {
        let text = out(&t, f);
        let back = handoff::parse_document(&text).unwrap();
        assert_eq!(back.access_key_id(), AKID);
        assert_eq!(
            handoff::secrecy::ExposeSecret::expose_secret(back.secret_access_key()),
            SECRET
        );
        assert_eq!(back.expiration(), t.expiration(), "{f:?}");
    }
    let text = out(&t, OutputFormat::Imds);
    let at: Vec<usize> = [
        "Code",
        "LastUpdated",
        "Type",
        "AccessKeyId",
        "SecretAccessKey",
        "Token",
        "Expiration",
    ]
    .iter()
    .map(|k| {
        text.find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k}: {text}"))
    })
    .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["Code"], "Success");
    assert_eq!(v["Type"], "AWS-HMAC");
    assert_eq!(v["Token"], SESSION);
    assert_eq!(v["Expiration"], "2099-01-01T00:00:00Z");
}

/// `exec` and `eval "$(handoff open)"` leave the same environment, from the
/// same starting one: one rule.
#[test]
fn exec_and_env_apply_the_same_rule() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let public = default_identity(home);
    let session = home.join("session.json");
    std::fs::write(
        &session,
        format!(
            r#"{{"Credentials": {{"AccessKeyId": "{AKID}", "SecretAccessKey": "{SECRET}", "SessionToken": "{SESSION}", "Expiration": "2099-01-01T00:00:00Z"}}, "Region": "eu-west-1"}}"#
        ),
    )
    .unwrap();
    let long_term = home.join("static.json");
    std::fs::write(
        &long_term,
        format!(r#"{{"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "{SECRET}"}}"#),
    )
    .unwrap();
    let print = r#"printf '%s\0' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "${AWS_SESSION_TOKEN-unset}" "${AWS_CREDENTIAL_EXPIRATION-unset}" "${AWS_SECURITY_TOKEN-unset}" "${AWS_PROFILE-unset}" "${AWS_DEFAULT_PROFILE-unset}" "${AWS_REGION-unset}" "${AWS_DEFAULT_REGION-unset}""#;
    let handoff_bin = env!("CARGO_BIN_EXE_handoff");
    for doc in [&session, &long_term] {
        let token = home.join("t.age");
        ok(&run(handoff(home)
            .args(["seal", "--force", "-r", &public, "--input"])
            .arg(doc)
            .arg("-o")
            .arg(&token)));
        for caller in [
            &[][..],
            &[("AWS_REGION", "us-east-2")],
            &[("AWS_DEFAULT_REGION", "ap-south-1")],
            &[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "ap-south-1")],
        ] {
            let start = |c: &mut Command| {
                isolate(c, home);
                c.env("AWS_PROFILE", "someone-else")
                    .env("AWS_DEFAULT_PROFILE", "someone-else")
                    .env("AWS_SECURITY_TOKEN", "stale")
                    .env("AWS_SESSION_TOKEN", "stale")
                    .env("AWS_CREDENTIAL_EXPIRATION", "2000-01-01T00:00:00Z")
                    .envs(caller.iter().copied());
            };
            let mut exec = Command::new(handoff_bin);
            start(&mut exec);
            exec.arg("exec").arg(&token).args(["--", "sh", "-c", print]);
            let by_exec = ok(&run(&mut exec));
            let mut eval = Command::new(system_tool("sh"));
            start(&mut eval);
            eval.arg("-c").arg(format!(
                "eval \"$('{handoff_bin}' open '{}')\" && {print}",
                token.display()
            ));
            let by_env = ok(&run(&mut eval));
            assert_eq!(by_exec, by_env, "{} with {caller:?}", doc.display());
            let got: Vec<&str> = by_env.split('\0').collect();
            assert_eq!(&got[4..7], ["unset", "unset", "unset"], "{caller:?}");
            if doc == &long_term {
                assert_eq!(&got[2..4], ["unset", "unset"]);
                // no region in the token: the caller's stay as they were
                let region = caller
                    .iter()
                    .find(|(k, _)| *k == "AWS_REGION")
                    .map_or("unset", |(_, v)| *v);
                assert_eq!(got[7], region, "{caller:?}");
            } else {
                let want = match caller.iter().find(|(_, v)| !v.is_empty()) {
                    Some((_, v)) => *v,
                    None => "eu-west-1",
                };
                assert_eq!(&got[7..9], [want, want], "{caller:?}");
            }
        }
    }
}

/// `open -f imds|process|credential-process|json` piped back into `seal`
/// gives the same credentials.
#[test]
fn imds_process_and_json_round_trip_through_the_seal_command() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let public = default_identity(home);
    let first = home.join("first.age");
    ok(&run_with_input(
        handoff(home)
            .args(["seal", "-r", &public, "-o"])
            .arg(&first),
        sts_document().as_bytes(),
    ));
    let json = |t: &Path| {
        let out = ok(&run(handoff(home).arg("open").arg(t).args(["-f", "json"])));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["Credentials"].clone()
    };
    let want = json(&first);
    for format in ["imds", "process", "credential-process", "json"] {
        let doc = ok(&run(handoff(home)
            .arg("open")
            .arg(&first)
            .args(["-f", format])));
        let again = home.join(format!("{format}.age"));
        ok(&run_with_input(
            handoff(home)
                .args(["seal", "-r", &public, "-o"])
                .arg(&again),
            doc.as_bytes(),
        ));
        assert_eq!(json(&again), want, "{format}");
    }
}

/// A caller's region variable that is set but not UTF-8 is an error naming
/// it, for exec and exec --server alike: taking it for unset would hand the
/// command the token's region instead of the one the caller set.
#[test]
fn a_callers_region_that_is_not_utf8_is_named_not_ignored() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let public = default_identity(home);
    let doc = home.join("session.json");
    std::fs::write(
        &doc,
        r#"{"Credentials": {"AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SessionToken": "AQoDYXdzEJr-session-token-example", "Expiration": "2099-01-01T00:00:00Z"}, "Region": "eu-west-1"}"#,
    )
    .unwrap();
    let token = home.join("t.age");
    ok(&run(handoff(home)
        .args(["seal", "-r", &public, "--input"])
        .arg(&doc)
        .arg("-o")
        .arg(&token)));
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        for server in [false, true] {
            let mut c = handoff(home);
            c.env(var, std::ffi::OsStr::from_bytes(b"eu-\xffwest-1"))
                .arg("exec")
                .arg(&token);
            if server {
                c.arg("--server");
            }
            c.args(["--", "true"]);
            let err = fails(&run(&mut c), 2, &["wJalrXUtnFEMI"]);
            assert!(
                err.contains(&format!("{var} is set but is not UTF-8 text")),
                "{var} (server: {server}): {err}"
            );
        }
    }
}
