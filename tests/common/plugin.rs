//! The test age plugin (examples/age-plugin-handofftest.rs, built on the
//! `age-plugin` crate): its binary, a PATH that has it, and identities.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PLUGIN: &str = "age-plugin-handofftest";

/// The test plugin's binary, built by cargo beside the handoff binary:
/// `cargo test` builds examples only as test harnesses, so the plain binary
/// is built here, once per test process (as tests/aws.rs runs
/// `cargo run --example synopsis`; a no-op when it is up to date).
pub fn plugin_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let built = *BUILT.get_or_init(|| {
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", PLUGIN])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .is_ok_and(|s| s.success())
    });
    let bin = Path::new(env!("CARGO_BIN_EXE_handoff"));
    let p = bin.parent().unwrap().join("examples").join(PLUGIN);
    assert!(
        built,
        "cargo build --example {PLUGIN} failed: run it by hand to see why"
    );
    assert!(
        p.is_file(),
        "{} is missing after `cargo build --example {PLUGIN}`",
        p.display()
    );
    p
}

/// Puts the plugin in `dir/bin` and returns a PATH with it first.
pub fn path_with_plugin(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(plugin_binary(), bin.join(PLUGIN)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs the plugin to make an identity file `dir/name`; returns it and the
/// recipient its `# recipient:` comment names.
pub fn new_identity(dir: &Path, name: &str) -> (PathBuf, String) {
    let text = super::ok(&Command::new(plugin_binary()).output().unwrap());
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .expect("a recipient comment")
        .to_string();
    assert!(recipient.starts_with("age1handofftest1"), "{recipient}");
    let path = dir.join(name);
    std::fs::write(&path, &text).unwrap();
    (path, recipient)
}

/// Runs the command in a session of its own: no controlling terminal, so
/// no prompt can wait.
pub fn no_terminal(c: &mut Command) {
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        c.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// How many file keys the plugin unwrapped (HANDOFF_TEST_PLUGIN_COUNT).
pub fn unwraps(count: &Path) -> usize {
    std::fs::read_to_string(count).map_or(0, |s| s.lines().count())
}

/// A home with the plugin on PATH, an identity for it, its recipient, and
/// a file where the plugin counts its unwraps.
pub struct PluginHome {
    pub dir: tempfile::TempDir,
    pub path: String,
    pub identity: PathBuf,
    pub recipient: String,
    pub count: PathBuf,
}

impl PluginHome {
    pub fn new() -> PluginHome {
        let dir = tempfile::tempdir().unwrap();
        let path = path_with_plugin(dir.path());
        let (identity, recipient) = new_identity(dir.path(), "id.txt");
        PluginHome {
            count: dir.path().join("unwraps"),
            dir,
            path,
            identity,
            recipient,
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `cmd` isolated in this home, with the plugin on PATH, counting its
    /// unwraps, and no controlling terminal.
    pub fn command(&self, cmd: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(cmd);
        super::isolate(&mut c, self.home());
        c.env("PATH", &self.path)
            .env("HANDOFF_TEST_PLUGIN_COUNT", &self.count);
        no_terminal(&mut c);
        c
    }

    /// handoff, as [`PluginHome::command`] runs it.
    pub fn handoff(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_handoff"))
    }

    pub fn unwraps(&self) -> usize {
        unwraps(&self.count)
    }
}
