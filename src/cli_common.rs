//! What only a command-line program needs, apart from what an embedder
//! wants (age's `cli_common` is the model): asking for a passphrase on the
//! terminal, reading one from a file, the section name `open -f ini`
//! writes, keeping secrets out of core dumps, and writing to stdout without
//! a buffer that keeps a copy.

use std::io::Write;

use crate::{Error, Result};

pub use crate::documents::DEFAULT_INI_SECTION;
pub use crate::seal::prompt::prompt_passphrase;
pub use crate::seal::read_passphrase_file;

/// No core dump while secrets are in memory. The soft RLIMIT_CORE goes to 0,
/// which exec keeps: a command run by `handoff exec` starts without core
/// dumps too (the hard limit stays, so a program that wants them can raise
/// it again). Not dumpable also keeps other processes of the same user from
/// attaching or reading /proc/PID/mem; exec of an ordinary program resets
/// it. Both are best effort: if the kernel refuses, the program runs as
/// before.
pub fn no_core_dumps() {
    use rustix::process::{
        getrlimit, set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit,
    };
    let hard = getrlimit(Resource::Core).maximum;
    let _ = setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: hard,
        },
    );
    let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
}

/// Opens `/dev/null` on each of stdin, stdout and stderr that is closed
/// (`2>&-`), as OpenSSH does: otherwise the next file opened would get that
/// number, and a message meant for stderr could land in a credentials file
/// or a token. Best effort.
pub fn standard_streams_open() {
    use std::os::fd::{AsFd, IntoRawFd};
    let closed = |fd: std::os::fd::BorrowedFd<'_>| {
        rustix::io::fcntl_getfd(fd).is_err_and(|e| e == rustix::io::Errno::BADF)
    };
    for is_closed in [
        closed(std::io::stdin().as_fd()),
        closed(std::io::stdout().as_fd()),
        closed(std::io::stderr().as_fd()),
    ] {
        // the lowest free number is the closed one (those below are open)
        if is_closed {
            if let Ok(null) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                let _ = null.into_raw_fd();
            }
        }
    }
}

/// Writes to stdout straight through a duplicate of fd 1: no buffer in
/// between keeps a copy of what was written. A closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(stdout_error)?;
    let mut out = std::fs::File::from(fd);
    match out.write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(stdout_error(e)),
        _ => Ok(()),
    }
}

/// Writing to stdout failed.
fn stdout_error(e: std::io::Error) -> Error {
    let kind = crate::ErrorKind::Io {
        path: "stdout".into(),
    };
    Error::new(kind, format!("cannot write to stdout: {e}")).with_source(e)
}

/// Writes one line to stderr and ignores a failure: a closed stderr or a
/// broken pipe never panics (as `eprintln!` does) and never stops the work
/// the line was about.
pub fn eprint_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(line.as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

/// Opens /dev/null on any of stdin, stdout and stderr that is closed
/// (`2>&-`), so no file handoff opens later (a ledger, a token, a socket)
/// takes descriptor 0, 1 or 2 and receives what was meant for the
/// terminal.
pub fn open_closed_stdio() {
    use std::os::fd::{AsRawFd, IntoRawFd};
    // open() takes the lowest free descriptor: as long as it is one of the
    // three, one of them was closed; keep it open for the process's life.
    while let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        if f.as_raw_fd() > 2 {
            break;
        }
        let _ = f.into_raw_fd();
    }
}
