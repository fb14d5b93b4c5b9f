//! `handoff exec --server`'s command: run with the credential server's
//! address and authorization token in its environment and nothing that
//! ranks above them in the SDKs' chains, signals passed on to it, and the
//! server kept answering 410 while anything it left behind runs (feature
//! `cli`: it forwards signals with signal-hook).

use std::io::Write;

use secrecy::ExposeSecret;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::server::{CredentialServer, EMPTIED_FILES, REMOVED_PREFIXES, REMOVED_VARIABLES};
use crate::{Error, Result, Token};

/// The end of a command run with [`exec`].
pub struct Outcome {
    /// The command's exit status, or 128 + the signal that ended it.
    pub status: u8,
    /// Requests refused for a missing or wrong token.
    pub refused: u64,
    /// Requests answered with the credentials.
    pub served: u64,
    /// Why the command could not be started (status 127 when it was not
    /// found, else 126).
    pub not_started: Option<String>,
}

impl Outcome {
    /// What is worth saying about the run, a line each: the requests
    /// answered (only when `verbose`), why the command did not start, the
    /// requests refused.
    pub fn report(&self, verbose: bool) -> Vec<String> {
        let mut lines = Vec::new();
        if verbose {
            lines.push(format!(
                "the credential server answered {} request(s)",
                self.served
            ));
        }
        if let Some(why) = &self.not_started {
            lines.push(why.clone());
        }
        if self.refused > 0 {
            lines.push(format!(
                "the credential server refused {} request(s) without the right authorization token",
                self.refused
            ));
        }
        lines
    }
}

/// Signals handoff passes on to the command while it waits for it.
const FORWARDED: &[i32] = &[
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGQUIT,
    signal_hook::consts::SIGUSR1,
    signal_hook::consts::SIGUSR2,
    signal_hook::consts::SIGWINCH,
];

/// Serves `token` and runs `cmd` with the server's address and
/// authorization token in its environment and nothing that ranks above
/// them in the SDKs' chains: the variables of [`REMOVED_VARIABLES`] and
/// [`REMOVED_PREFIXES`] are removed, those of [`EMPTIED_FILES`] point at
/// `/dev/null`, and `AWS_CONFIG_FILE` at a private file (mode 0600,
/// removed afterwards) that holds only `[default]` and the region. The
/// region follows the rule of [`crate::environment()`] (the caller's wins,
/// the token's fills in).
///
/// Signals that handoff receives are passed on to the command. When it
/// exits, the credentials are wiped; on Linux, while a process it left in
/// its process group still runs, the port stays held and answers 410 (and
/// `lingering` is called once with how many such processes there are), and
/// a signal to handoff ends that wait. Then the server stops.
pub fn exec(token: Token, mut cmd: Command, lingering: impl FnOnce(usize)) -> Result<Outcome> {
    // The region rule of crate::documents::environment, worked out before the token
    // moves into the server (regions are not secrets).
    let caller = crate::documents::environment::caller_regions()?;
    let regions: Vec<(&str, String)> = crate::documents::environment::environment(&token)
        .regions(caller[0].as_deref(), caller[1].as_deref())
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let config = private_config(regions.first().map(|(_, r)| r.as_str()))?;
    let mut server = CredentialServer::start(token)?;
    for var in REMOVED_VARIABLES {
        cmd.env_remove(var);
    }
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if REMOVED_PREFIXES.iter().any(|p| name.starts_with(p)) {
            cmd.env_remove(&var);
        }
    }
    for var in EMPTIED_FILES {
        cmd.env(var, "/dev/null");
    }
    cmd.env("AWS_CONFIG_FILE", config.path());
    cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url());
    cmd.env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        server.authorization().expose_secret(),
    );
    for (k, v) in &regions {
        cmd.env(k, v);
    }
    // Orphans of the command become handoff's children rather than init's,
    // so that the processes it leaves behind can be told from others of
    // the same process group (the caller's shell, a pipeline's other side).
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    // Registered before the command starts, so that no signal in between
    // ends handoff and leaves the command running without its server.
    let mut signals = signal_hook::iterator::SignalsInfo::<
        signal_hook::iterator::exfiltrator::WithOrigin,
    >::new(FORWARDED)
    .map_err(|e| Error::other(format!("cannot forward signals: {e}")).with_source(e))?;
    let handle = signals.handle();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            handle.close();
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Ok(Outcome {
                status: code,
                refused: 0,
                served: 0,
                not_started: Some(format!("cannot run {program}: {e}")),
            });
        }
    };
    let pid = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    // Set once the command has ended: a signal then ends the wait for the
    // processes it left, instead of going to a pid that may be reused.
    let ended = Arc::new(AtomicBool::new(false));
    let signalled = Arc::new(AtomicBool::new(false));
    let forwarder = {
        let (ended, signalled) = (ended.clone(), signalled.clone());
        std::thread::spawn(move || {
            for origin in signals.forever() {
                if ended.load(Ordering::SeqCst) {
                    signalled.store(true, Ordering::SeqCst);
                    continue;
                }
                // The kernel sends a terminal's signals (Ctrl-C, hangup,
                // resize) to the whole foreground process group, the
                // command included: passing those on would deliver them
                // twice.
                if origin.cause == signal_hook::low_level::siginfo::Cause::Kernel {
                    continue;
                }
                let sig = rustix::process::Signal::from_named_raw(origin.signal);
                if let (Some(pid), Some(sig)) = (pid, sig) {
                    let _ = rustix::process::kill_process(pid, sig);
                }
            }
        })
    };
    let status = wait_for(pid, child);
    ended.store(true, Ordering::SeqCst);
    server.retire();
    let status = status
        .map_err(|e| Error::other(format!("cannot wait for {program}: {e}")).with_source(e))?;
    #[cfg(target_os = "linux")]
    {
        let left = left_behind();
        if left > 0 {
            lingering(left);
            while !signalled.load(Ordering::SeqCst) && left_behind() > 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (lingering, &signalled);
    handle.close();
    let _ = forwarder.join();
    server.stop();
    drop(config);
    Ok(Outcome {
        status,
        refused: server.refused(),
        served: server.served(),
        not_started: None,
    })
}

/// The private `AWS_CONFIG_FILE` of [`exec`]: `[default]` and the region,
/// mode 0600 (as a new temporary file is), removed when dropped. A region
/// that is not a plain AWS region name is left out of it (it is still in
/// `AWS_REGION`): written into an INI file, a line break in it would add
/// settings of the sender's choosing, `credential_process` among them.
fn private_config(region: Option<&str>) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("handoff-config-")
        .tempfile()
        .map_err(|e| {
            Error::other(format!("cannot write the command's AWS config file: {e}")).with_source(e)
        })?;
    let mut text = String::from("[default]\n");
    if let Some(r) = region.filter(|r| is_region_name(r)) {
        text.push_str(&format!("region = {r}\n"));
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| {
            Error::other(format!("cannot write the command's AWS config file: {e}")).with_source(e)
        })?;
    Ok(file)
}

/// Whether `r` looks like an AWS region name (`us-east-1`,
/// `us-gov-west-1`, `cn-north-1`): lowercase letters, digits and dashes.
fn is_region_name(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 64
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Waits for the command and returns its status (128 + the signal that
/// ended it), reaping on the way the orphans handed to handoff as their
/// subreaper.
fn wait_for(
    pid: Option<rustix::process::Pid>,
    mut child: std::process::Child,
) -> std::io::Result<u8> {
    let Some(pid) = pid else {
        return child.wait().map(|s| {
            code_of(s.code(), {
                use std::os::unix::process::ExitStatusExt;
                s.signal()
            })
        });
    };
    loop {
        match rustix::process::wait(rustix::process::WaitOptions::empty()) {
            Ok(Some((p, s))) if p == pid => {
                return Ok(code_of(s.exit_status(), s.terminating_signal()))
            }
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn code_of(exit: Option<i32>, signal: Option<i32>) -> u8 {
    match exit {
        Some(c) => (c & 0xff) as u8,
        None => 128u8.saturating_add(signal.unwrap_or(0) as u8),
    }
}

/// How many processes of handoff's process group, other than handoff,
/// descend from it (the command ran in that group, and as their subreaper
/// handoff is the ancestor of whatever it left), reaping any that have
/// already ended. Zombies do not count.
#[cfg(target_os = "linux")]
fn left_behind() -> usize {
    use rustix::process::WaitOptions;
    while let Ok(Some(_)) = rustix::process::wait(WaitOptions::NOHANG) {}
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let group = rustix::process::getpgrp().as_raw_nonzero().get();
    let mut procs = std::collections::HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| proc_stat(&s))
        {
            procs.insert(pid, stat);
        }
    }
    procs
        .iter()
        .filter(|(&pid, st)| pid != me && st.pgrp == group && !st.dead)
        .filter(|(&pid, _)| {
            let mut at = pid;
            // bounded: a pid cycle cannot happen, but the table is a snapshot
            for _ in 0..procs.len() {
                match procs.get(&at) {
                    Some(st) if st.ppid == me => return true,
                    Some(st) if st.ppid > 1 => at = st.ppid,
                    _ => return false,
                }
            }
            false
        })
        .count()
}

/// What [`left_behind`] reads of `/proc/PID/stat`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct ProcStat {
    ppid: i32,
    pgrp: i32,
    dead: bool,
}

/// Parses `/proc/PID/stat`: `pid (comm) state ppid pgrp ...`, where comm
/// may hold spaces and parentheses (so the last `)` ends it).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn proc_stat(s: &str) -> Option<ProcStat> {
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_ascii_whitespace();
    let state = f.next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    Some(ProcStat {
        ppid,
        pgrp,
        dead: matches!(state, "Z" | "X" | "x"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_says_what_happened() {
        let quiet = Outcome {
            status: 0,
            refused: 0,
            served: 2,
            not_started: None,
        };
        assert!(quiet.report(false).is_empty());
        assert_eq!(
            quiet.report(true),
            ["the credential server answered 2 request(s)"]
        );
        let bad = Outcome {
            status: 127,
            refused: 1,
            served: 0,
            not_started: Some("cannot run x".into()),
        };
        assert_eq!(
            bad.report(false),
            [
                "cannot run x",
                "the credential server refused 1 request(s) without the right authorization token"
            ]
        );
    }

    #[test]
    fn the_private_config_holds_only_a_plain_region() {
        use std::os::unix::fs::PermissionsExt;
        let f = private_config(Some("eu-west-1")).unwrap();
        assert_eq!(
            std::fs::read_to_string(f.path()).unwrap(),
            "[default]\nregion = eu-west-1\n"
        );
        let mode = std::fs::metadata(f.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let path = f.path().to_path_buf();
        drop(f);
        assert!(!path.exists(), "removed afterwards");
        for evil in [
            "us-east-1\ncredential_process = touch pwned",
            "",
            "EU-WEST-1",
            "a b",
        ] {
            let f = private_config(Some(evil)).unwrap();
            assert_eq!(
                std::fs::read_to_string(f.path()).unwrap(),
                "[default]\n",
                "{evil:?}"
            );
        }
    }

    #[test]
    fn proc_stat_lines() {
        let st = proc_stat("42 (a (b) c) S 7 9 9 0 -1").unwrap();
        assert_eq!((st.ppid, st.pgrp, st.dead), (7, 9, false));
        assert!(proc_stat("1 (x) Z 0 1 1").unwrap().dead);
        assert!(proc_stat("1 (x) S").is_none());
        assert!(proc_stat("garbage").is_none());
    }
}
