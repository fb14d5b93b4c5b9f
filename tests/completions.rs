//! `handoff completions` loaded into the real shells: bash (its completion
//! function called as readline would), zsh (an interactive shell under
//! tmux, Tab pressed) and fish (`complete -C`). Each completes
//! `handoff open -f ` with every format, and an empty word with the files
//! of the working directory. A sentinel `handoff` first on PATH and a
//! sentinel `t.age` in the working directory show that loading and
//! completing ran nothing (fish once ran the `$(handoff open t.age)` that a
//! format's help held).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

/// Every value of `open --format`.
const FORMATS: &[&str] = &[
    "env",
    "json",
    "credential-process",
    "ini",
    "env-no-export",
    "fish",
    "powershell",
    "windows-cmd",
    "process",
    "imds",
];

/// A directory with the three scripts, a sentinel `handoff` in `bin/` that
/// leaves `ran` behind if anything runs it, and `cwd/t.age`.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for (shell, name) in [
            ("bash", "handoff.bash"),
            ("zsh", "_handoff"),
            ("fish", "handoff.fish"),
        ] {
            let script = ok(&run(
                Command::new(env!("CARGO_BIN_EXE_handoff")).args(["completions", shell])
            ));
            std::fs::write(p.join(name), script).unwrap();
        }
        std::fs::create_dir_all(p.join("bin")).unwrap();
        std::fs::create_dir_all(p.join("cwd")).unwrap();
        let sentinel = p.join("bin/handoff");
        std::fs::write(
            &sentinel,
            format!("#!/bin/sh\necho \"$@\" >> '{}'\n", p.join("ran").display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sentinel, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(p.join("cwd/t.age"), "sentinel\n").unwrap();
        Place { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// PATH with the sentinel first.
    fn search_path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.path("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        isolate(&mut c, self.dir.path());
        c.current_dir(self.path("cwd"))
            .env("PATH", self.search_path());
        c
    }

    /// Nothing ran the sentinel, and t.age is as it was.
    fn nothing_ran(&self, shell: &str) {
        let ran = std::fs::read_to_string(self.path("ran")).unwrap_or_default();
        assert!(ran.is_empty(), "{shell} ran handoff {ran}");
        assert_eq!(
            std::fs::read_to_string(self.path("cwd/t.age")).unwrap(),
            "sentinel\n"
        );
    }
}

fn offers_every_format(shell: &str, what: &str, got: &str) {
    let words: Vec<&str> = got
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for f in FORMATS {
        assert!(words.contains(f), "{shell}, {what}: no {f} in\n{got}");
    }
}

#[test]
fn fish_completes_every_format_and_files_and_runs_nothing() {
    let p = Place::new();
    let mut c = p.command(&system_tool("fish"));
    c.args(["--no-config", "-c"]).arg(format!(
        "source '{}'; complete -C 'handoff open -f '; echo ---; complete -C 'handoff open --format '; echo ---; complete -C 'handoff open '",
        p.path("handoff.fish").display()
    ));
    let o = run(&mut c);
    let out = ok(&o);
    assert!(stderr(&o).is_empty(), "fish: {}", stderr(&o));
    let parts: Vec<&str> = out.split("---\n").collect();
    offers_every_format("fish", "-f", parts[0]);
    offers_every_format("fish", "--format", parts[1]);
    assert!(
        parts[2].lines().any(|l| l == "t.age"),
        "fish, empty word: {}",
        parts[2]
    );
    p.nothing_ran("fish");
}

/// Calls the function `complete -p handoff` names, as readline would for
/// LINE (completing its last word), and prints what it offers.
const BASH_COMPLETE: &str = r#"
complete_line() {
    COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
    read -ra COMP_WORDS <<< "$COMP_LINE"
    [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    local spec; spec=$(complete -p handoff); spec=${spec#*-F }; spec=${spec%% *}
    "$spec" handoff "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf '%s\n' "${COMPREPLY[@]}"
}
complete_line 'handoff open -f '; echo ---
complete_line 'handoff open --format '; echo ---
complete_line 'handoff open '; echo ---
complete_line 'handoff open --'; echo ---
complete_line 'handoff '
"#;

#[test]
fn bash_completes_every_format_and_files_for_an_empty_word_and_runs_nothing() {
    let p = Place::new();
    let mut c = p.command(&system_tool("bash"));
    c.args(["--norc", "--noprofile", "-c"]).arg(format!(
        "source '{}'\n{BASH_COMPLETE}",
        p.path("handoff.bash").display()
    ));
    let o = run(&mut c);
    let out = ok(&o);
    assert!(stderr(&o).is_empty(), "bash: {}", stderr(&o));
    let parts: Vec<&str> = out.split("---\n").collect();
    offers_every_format("bash", "-f", parts[0]);
    offers_every_format("bash", "--format", parts[1]);
    assert_eq!(parts[2].trim(), "t.age", "bash, an empty word offers files");
    assert!(
        parts[3].lines().any(|l| l == "--format"),
        "bash, --: {}",
        parts[3]
    );
    assert!(
        parts[4].lines().any(|l| l == "open"),
        "bash, a command: {}",
        parts[4]
    );
    p.nothing_ran("bash");
}

/// The screen of a tmux pane.
fn screen(socket: &str) -> String {
    stdout(&run(Command::new(system_tool("tmux")).args([
        "-L",
        socket,
        "capture-pane",
        "-p",
    ])))
}

/// Waits (bounded) until the pane shows `what`; the screen either way.
fn wait_for(socket: &str, what: &str) -> String {
    let start = Instant::now();
    loop {
        let s = screen(socket);
        if s.contains(what) || start.elapsed() > Duration::from_secs(20) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn zsh_completes_every_format_and_files_and_runs_nothing() {
    let p = Place::new();
    let zdot = p.path("zdot");
    std::fs::create_dir_all(&zdot).unwrap();
    std::fs::write(
        zdot.join(".zshrc"),
        format!(
            "autoload -U compinit && compinit -u -D\nsource '{}'\nPS1='ready> '\n",
            p.path("_handoff").display()
        ),
    )
    .unwrap();
    let socket = format!("handoff-completions-{}", std::process::id());
    let tmux = system_tool("tmux");
    let mut c = p.command(&tmux);
    c.env("ZDOTDIR", &zdot).env_remove("TMUX").args([
        "-L",
        &socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "200",
        "-y",
        "50",
    ]);
    c.arg(format!("{} -i", system_tool("zsh").display()));
    ok(&run(&mut c));
    let keys = |k: &[&str]| {
        ok(&run(Command::new(&tmux)
            .args(["-L", &socket, "send-keys"])
            .args(k)));
    };
    let ready = wait_for(&socket, "ready>");
    let result = std::panic::catch_unwind(|| {
        assert!(ready.contains("ready>"), "zsh never started:\n{ready}");
        keys(&["handoff open -f ", "Tab"]);
        let s = wait_for(&socket, "windows-cmd");
        offers_every_format("zsh", "-f", &s);
        assert!(
            !s.contains("unknown file attribute") && !s.contains("command not found"),
            "{s}"
        );
        keys(&["C-u", "clear", "Enter"]);
        std::thread::sleep(Duration::from_millis(200));
        keys(&["handoff open ", "Tab"]);
        let s = wait_for(&socket, "t.age");
        assert!(
            s.contains("handoff open t.age"),
            "zsh, an empty word offers files:\n{s}"
        );
    });
    let _ = run(Command::new(&tmux).args(["-L", &socket, "kill-server"]));
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    p.nothing_ran("zsh");
}
