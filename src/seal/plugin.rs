//! age plugins: recipients `age1NAME1...` and identities
//! `AGE-PLUGIN-NAME-1...` are handled by the program `age-plugin-NAME` found
//! on `PATH`, as age and rage do (the age crate's `plugin` feature speaks the
//! protocol).
//!
//! Two things are added around the age crate here:
//!
//! - The plugin's requests (a message, a PIN, a confirmation) go to the
//!   terminal, `/dev/tty`; with no terminal a request fails and the open or
//!   seal fails saying what the plugin asked for.
//! - A plugin that stops answering is bounded: when it has been silent for
//!   [`timeout`] (30 s, or `HANDOFF_PLUGIN_TIMEOUT` seconds), not counting
//!   the time the user takes to answer its questions, handoff stops waiting,
//!   kills it, and fails.
//! - A plugin that writes too much is bounded too: the age crate reads each
//!   protocol line whole, so a plugin that writes without end (with or
//!   without line breaks) would grow handoff's memory until it aborted.
//!   When a plugin has written more than [`MAX_PLUGIN_OUTPUT`] in one
//!   exchange (its `wchar` in `/proc`), handoff kills it and fails.

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::seal::prompt::Prompt;
use crate::{Error, Result};

/// How long a plugin may stay silent before handoff gives up on it, when
/// `HANDOFF_PLUGIN_TIMEOUT` does not say otherwise. A hardware key's plugin
/// says "touch your key" before it waits for the touch, and YubiKeys stop
/// waiting for a touch after 15 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The plugin silence bound: `HANDOFF_PLUGIN_TIMEOUT` (whole seconds, at
/// least 1), else [`DEFAULT_TIMEOUT`].
pub fn timeout() -> Duration {
    std::env::var("HANDOFF_PLUGIN_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
}

/// The recipient's plugin name, when `r` is a plugin recipient
/// (`age1NAME1...`): its Bech32 HRP is `age1NAME`, where X25519's is `age`.
/// `age1pq` is the post-quantum native type, not a plugin.
pub(crate) fn recipient_plugin(r: &str) -> Option<&str> {
    let hrp = &r[..r.rfind('1')?];
    let name = hrp.strip_prefix("age1")?;
    (!name.is_empty() && name != "pq").then_some(name)
}

/// The binary that serves the plugin `name`.
pub(crate) fn binary_name(name: &str) -> String {
    format!("age-plugin-{name}")
}

/// Whether `age-plugin-NAME` is on `PATH`.
fn installed(name: &str) -> bool {
    let binary = binary_name(name);
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            let p = dir.join(&binary);
            std::fs::metadata(&p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}

fn missing(name: &str) -> String {
    let binary = binary_name(name);
    format!("{binary} is not installed (not found on PATH): install {binary} to use this key")
}

/// Parses a plugin recipient and checks its plugin is installed (a usage
/// error, exit 2, otherwise: nothing has been minted yet).
pub(crate) fn parse_recipient(r: &str) -> Result<age::plugin::Recipient> {
    let parsed: age::plugin::Recipient = r.parse().map_err(|e| {
        Error::usage(format!(
            "invalid age plugin recipient {}: {e}",
            crate::seal::mistakes::short(r)
        ))
    })?;
    if !installed(parsed.plugin()) {
        return Err(Error::usage(missing(parsed.plugin())));
    }
    Ok(parsed)
}

/// The plugin recipients of a seal, one plugin run per plugin name (as rage
/// does), each bounded by the silence [`timeout`].
pub(crate) fn recipients(
    list: &[age::plugin::Recipient],
    prompt: Prompt,
    failure: &Failure,
) -> Result<Vec<Box<dyn age::Recipient + Send>>> {
    let mut names: Vec<&str> = list.iter().map(|r| r.plugin()).collect();
    names.sort_unstable();
    names.dedup();
    let mut out: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
    for name in names {
        let activity = Activity::new();
        let callbacks = Callbacks::new(name, prompt, activity.clone(), failure.clone());
        let plugin = age::plugin::RecipientPluginV1::new(name, list, &[], callbacks)
            .map_err(|_| Error::usage(missing(name)))?;
        out.push(Box::new(BoundedRecipient {
            plugin: Arc::new(plugin),
            name: name.to_string(),
            activity,
            failure: failure.clone(),
        }));
    }
    Ok(out)
}

/// One plugin identity, with the recipient it answers to when its identity
/// file says so (`# recipient: age1...`, as age-plugin and
/// age-plugin-yubikey write it).
pub(crate) struct PluginIdentity {
    /// None when the plugin is not installed: the open fails saying so only
    /// if no other identity opens the token (they are tried first).
    plugin: Option<Arc<age::plugin::IdentityPluginV1<Callbacks>>>,
    name: String,
    recipient: Option<String>,
    activity: Arc<Activity>,
    failure: Failure,
}

impl PluginIdentity {
    /// Reads one `AGE-PLUGIN-...` line.
    pub(crate) fn parse(
        line: &str,
        recipient: Option<String>,
        prompt: Prompt,
        failure: &Failure,
    ) -> std::result::Result<Self, String> {
        let identity: age::plugin::Identity = line
            .parse()
            .map_err(|e| format!("not an age plugin identity: {e}"))?;
        let name = identity.plugin().to_string();
        let activity = Activity::new();
        let callbacks = Callbacks::new(&name, prompt, activity.clone(), failure.clone());
        let plugin = match installed(&name) {
            true => age::plugin::IdentityPluginV1::new(&name, &[identity], callbacks).ok(),
            false => None,
        };
        Ok(PluginIdentity {
            plugin: plugin.map(Arc::new),
            name,
            recipient,
            activity,
            failure: failure.clone(),
        })
    }

    /// The recipient this identity answers to, for a signed token's
    /// `SealedTo` check: the one its file names, else any recipient of the
    /// same plugin (`age1NAME1`), the most a plugin identity tells.
    pub(crate) fn answers_to(&self, sealed_to: &str) -> bool {
        match &self.recipient {
            Some(r) => r == sealed_to.trim(),
            None => recipient_plugin(sealed_to.trim()) == Some(self.name.as_str()),
        }
    }

    /// How the identity is named in messages.
    pub(crate) fn describe(&self) -> String {
        match &self.recipient {
            Some(r) => r.clone(),
            None => format!("an {} identity", binary_name(&self.name)),
        }
    }
}

type Unwrapped = Option<std::result::Result<age_core::format::FileKey, age::DecryptError>>;

impl age::Identity for PluginIdentity {
    fn unwrap_stanza(&self, stanza: &age_core::format::Stanza) -> Unwrapped {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[age_core::format::Stanza]) -> Unwrapped {
        let Some(plugin) = self.plugin.clone() else {
            self.failure.set(missing(&self.name));
            return Some(Err(age::DecryptError::Io(io::Error::other(
                "the plugin is not installed",
            ))));
        };
        let stanzas: Vec<age_core::format::Stanza> = stanzas.iter().map(copy_stanza).collect();
        let result = bounded(&self.activity, move || {
            age::Identity::unwrap_stanzas(plugin.as_ref(), &stanzas)
        });
        match result {
            Ok(Some(Err(e))) => {
                let io = match &e {
                    age::DecryptError::Io(io) => Some(io),
                    _ => None,
                };
                self.failure.set(failed(&self.name, &e, io));
                Some(Err(e))
            }
            Ok(r) => r,
            Err(why) => {
                self.failure.set(why.message(&self.name));
                Some(Err(age::DecryptError::Io(io::Error::other(
                    "the plugin failed",
                ))))
            }
        }
    }
}

struct BoundedRecipient {
    plugin: Arc<age::plugin::RecipientPluginV1<Callbacks>>,
    name: String,
    activity: Arc<Activity>,
    failure: Failure,
}

impl age::Recipient for BoundedRecipient {
    fn wrap_file_key(
        &self,
        file_key: &age_core::format::FileKey,
    ) -> std::result::Result<
        (
            Vec<age_core::format::Stanza>,
            std::collections::HashSet<String>,
        ),
        age::EncryptError,
    > {
        use secrecy::ExposeSecret;
        let key = age_core::format::FileKey::new(Box::new(*file_key.expose_secret()));
        let plugin = self.plugin.clone();
        let result = bounded(&self.activity, move || {
            age::Recipient::wrap_file_key(plugin.as_ref(), &key)
        });
        match result {
            Ok(Err(e)) => {
                let io = match &e {
                    age::EncryptError::Io(io) => Some(io),
                    _ => None,
                };
                self.failure.set(failed(&self.name, &e, io));
                Err(e)
            }
            Ok(r) => r,
            Err(why) => {
                self.failure.set(why.message(&self.name));
                Err(age::EncryptError::Io(io::Error::other("the plugin failed")))
            }
        }
    }
}

/// What a plugin's failure was, in words: a plugin that went away is named
/// as such, whichever end of the pipe noticed first.
fn failed(name: &str, e: &dyn std::fmt::Display, io: Option<&io::Error>) -> String {
    let binary = binary_name(name);
    match io.map(io::Error::kind) {
        Some(
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof,
        ) => format!("{binary} stopped before it answered (it exited or crashed)"),
        Some(io::ErrorKind::InvalidData) => format!(
            "{binary} broke the age plugin protocol (it wrote something that is not the protocol): {}",
            one_line(e)
        ),
        _ => format!("{binary} failed: {}", one_line(e)),
    }
}

fn copy_stanza(s: &age_core::format::Stanza) -> age_core::format::Stanza {
    age_core::format::Stanza {
        tag: s.tag.clone(),
        args: s.args.clone(),
        body: s.body.clone(),
    }
}

/// An error's message on one line, its control characters escaped: it
/// quotes what the plugin wrote.
fn one_line(e: &dyn std::fmt::Display) -> String {
    // age's messages wrap names in Unicode isolation marks (U+2068, U+2069)
    let text = e.to_string().replace(['\u{2068}', '\u{2069}'], "");
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    shown(&joined, 300)
}

/// `s` with control characters escaped, cut at `max` characters.
fn shown(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// What the last plugin failure was, in words, for the error handoff
/// reports (age's own error for it names little).
#[derive(Clone, Default)]
pub(crate) struct Failure(Arc<Mutex<Option<String>>>);

impl Failure {
    fn set(&self, message: String) {
        if let Ok(mut m) = self.0.lock() {
            // The first failure is the cause; later ones follow from it.
            m.get_or_insert(message);
        }
    }

    /// Forgets a failure of an earlier open or seal.
    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            *m = None;
        }
    }

    /// The failure, if a plugin failed.
    pub(crate) fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|m| m.clone())
    }
}

/// When the plugin last did something, and whether it is waiting on the
/// user (whose time does not count).
struct Activity {
    last: Mutex<Instant>,
    asking: AtomicBool,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Activity {
            last: Mutex::new(Instant::now()),
            asking: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        if let Ok(mut t) = self.last.lock() {
            *t = Instant::now();
        }
    }

    fn silent_for(&self) -> Duration {
        if self.asking.load(Ordering::SeqCst) {
            return Duration::ZERO;
        }
        self.last.lock().map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// The most an age plugin may write in one exchange (its whole output,
/// every protocol line included): 1 MiB. A plugin's stanzas and messages
/// take a few hundred bytes.
pub const MAX_PLUGIN_OUTPUT: u64 = 1 << 20;

/// How many bytes the process `pid` has written so far (`wchar` in
/// `/proc/PID/io`).
fn written(pid: i32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|n| n.trim().parse().ok())
}

fn kill(pid: i32) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// Why a bounded plugin run did not finish.
enum Stalled {
    Silent(Duration),
    Flooded,
    Crashed,
}

impl Stalled {
    fn message(&self, name: &str) -> String {
        let binary = binary_name(name);
        match self {
            Stalled::Silent(t) => format!(
                "{binary} did not answer for {} s and was stopped (HANDOFF_PLUGIN_TIMEOUT sets the bound)",
                t.as_secs()
            ),
            Stalled::Flooded => format!(
                "{binary} wrote more than {} MiB in one exchange and was stopped",
                MAX_PLUGIN_OUTPUT >> 20
            ),
            Stalled::Crashed => format!("{binary} failed: the age plugin client stopped"),
        }
    }
}

/// Runs `f` (a plugin exchange) on its own thread, and gives up when the
/// plugin has been silent longer than [`timeout`]: its process is killed,
/// which ends the exchange, and the thread is left to finish on its own.
fn bounded<T: Send + 'static>(
    activity: &Arc<Activity>,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::result::Result<T, Stalled> {
    let limit = timeout();
    activity.touch();
    let (tx, rx) = mpsc::channel();
    let before = plugin_children();
    std::thread::Builder::new()
        .name("age-plugin".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|_| Stalled::Crashed)?;
    // The plugin's own processes, looked for now and then (a scan of
    // /proc), their output checked often: a flood is stopped within a few
    // milliseconds of passing the bound.
    let mut ours: Vec<i32> = Vec::new();
    let mut tick = 0u32;
    loop {
        if tick.is_multiple_of(4) {
            for pid in plugin_children() {
                if !before.contains(&pid) && !ours.contains(&pid) {
                    ours.push(pid);
                }
            }
        }
        tick = tick.wrapping_add(1);
        if ours
            .iter()
            .any(|&pid| written(pid).is_some_and(|n| n > MAX_PLUGIN_OUTPUT))
        {
            ours.iter().copied().for_each(kill);
            return Err(Stalled::Flooded);
        }
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(r) => return Ok(r),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(Stalled::Crashed),
            Err(mpsc::RecvTimeoutError::Timeout) if activity.silent_for() > limit => {
                for pid in plugin_children() {
                    if !before.contains(&pid) {
                        kill(pid);
                    }
                }
                return Err(Stalled::Silent(limit));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}

/// The process ids of this process's children that run an age plugin
/// (`--age-plugin=...` on their command line).
fn plugin_children() -> Vec<i32> {
    let me = rustix::process::getpid().as_raw_nonzero().get();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...: comm may hold spaces and parentheses
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            ppid == Some(me)
                && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                    c.split(|&b| b == 0)
                        .any(|a| a.starts_with(b"--age-plugin="))
                })
        })
        .collect()
}

/// age's callbacks for a plugin: its messages and questions go to the
/// terminal; with no terminal (or [`Prompt::Never`]) a question fails, and
/// the failure says what the plugin wanted.
#[derive(Clone)]
pub(crate) struct Callbacks {
    binary: String,
    prompt: Prompt,
    activity: Arc<Activity>,
    failure: Failure,
}

impl Callbacks {
    fn new(name: &str, prompt: Prompt, activity: Arc<Activity>, failure: Failure) -> Self {
        Callbacks {
            binary: binary_name(name),
            prompt,
            activity,
            failure,
        }
    }

    /// Runs a question to the user, whose time does not count against the
    /// plugin; `None` (and the failure noted) when there is no one to ask.
    fn ask<T>(&self, what: &str, f: impl FnOnce() -> Option<T>) -> Option<T> {
        self.activity.asking.store(true, Ordering::SeqCst);
        let answer = match self.prompt {
            Prompt::Terminal => f(),
            Prompt::Never => None,
        };
        self.activity.touch();
        self.activity.asking.store(false, Ordering::SeqCst);
        if answer.is_none() {
            self.failure.set(format!(
                "{} asked for {what} and there is no terminal to ask on: run handoff on a terminal",
                self.binary
            ));
        }
        answer
    }
}

fn tty() -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

fn read_tty_line(prompt: &str) -> Option<String> {
    let mut t = tty()?;
    t.write_all(prompt.as_bytes()).ok()?;
    let mut line = String::new();
    io::BufReader::new(t).read_line(&mut line).ok()?;
    if line.is_empty() {
        return None;
    }
    Some(line.trim_end_matches(['\r', '\n']).to_string())
}

impl age::Callbacks for Callbacks {
    fn display_message(&self, message: &str) {
        self.activity.touch();
        eprintln!("{}: {}", self.binary, shown(message, 1000));
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let (yes, no) = (shown(yes, 100), no.map(|n| shown(n, 100)));
        let question = match &no {
            Some(no) => format!("{}: {} [{yes}/{no}] ", self.binary, shown(message, 1000)),
            None => format!("{}: {} [{yes}] ", self.binary, shown(message, 1000)),
        };
        self.ask("a confirmation", || {
            let answer = read_tty_line(&question)?;
            if answer == yes {
                Some(true)
            } else if no.as_deref() == Some(answer.as_str()) {
                Some(false)
            } else {
                None
            }
        })
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        let prompt = format!("{}: {} ", self.binary, shown(description, 1000));
        self.ask("an answer", || read_tty_line(&prompt))
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        let prompt = format!("{}: {} ", self.binary, shown(description, 1000));
        self.ask("a secret (a PIN or passphrase)", || {
            crate::seal::prompt::prompt_passphrase(&prompt)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_from_recipients() {
        let x = age::x25519::Identity::generate().to_public().to_string();
        assert_eq!(recipient_plugin(&x), None);
        assert_eq!(recipient_plugin("age1pq1qqqq"), None);
        assert_eq!(recipient_plugin("age1yubikey1qwerty"), Some("yubikey"));
        assert_eq!(recipient_plugin("age1se1qqqq"), Some("se"));
        assert_eq!(recipient_plugin("ssh-ed25519 AAAA"), None);
        assert_eq!(recipient_plugin(""), None);
    }

    #[test]
    fn a_missing_plugin_is_named() {
        let r = age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked("age1nosuchplugin"),
            &[1, 2, 3],
        );
        let e = parse_recipient(&r).err().unwrap();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("age-plugin-nosuchplugin"), "{e}");
        let e = parse_recipient("age1nosuchplugin1qqqq").err().unwrap();
        assert_eq!(e.kind(), &crate::ErrorKind::InvalidArgument);
        assert!(
            e.to_string().contains("invalid age plugin recipient"),
            "{e}"
        );
    }
}
