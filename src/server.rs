//! `handoff exec --server`: the token is decrypted once, and the command gets
//! its credentials from a credential server on loopback, the way SDKs get
//! them in an ECS container (`AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`), instead of from its environment.
//!
//! The server is a blocking loop on one thread over `std::net`: it listens
//! on `127.0.0.1` on a port the kernel picks, and answers a `GET` that
//! carries the authorization token (256 random bits, compared in constant
//! time) with the container-credentials document (`AccessKeyId`,
//! `SecretAccessKey`, `Token`, `Expiration`). Any other request gets 403 and
//! is counted. After the token's expiration it answers 410 with a message
//! the SDKs print. It logs nothing: no request line, header or body.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{Error, Result, Token};

/// The most bytes of request head read (request line and headers).
const MAX_REQUEST: usize = 16 << 10;

/// How long one connection may take to send its request, and to read the
/// answer: a client that stalls or trickles holds the loop no longer.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Variables the command must not inherit: credentials or settings that
/// the SDKs would use before the credential server (environment
/// credentials, profiles, other container or web-identity settings).
pub const REMOVED_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
];

/// A running credential server. Stops when dropped.
pub struct CredentialServer {
    addr: SocketAddr,
    authorization: SecretString,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

struct State {
    token: Token,
    authorization: SecretString,
    stop: AtomicBool,
    refused: AtomicU64,
    served: AtomicU64,
}

impl CredentialServer {
    /// Starts serving `token`'s credentials on a random loopback port.
    /// Refuses a token of long-term keys: the container-credentials
    /// document needs a session token and an expiration.
    pub fn start(token: Token) -> Result<Self> {
        let c = token.credentials();
        if c.session_token().is_none() || c.expiration().is_none() {
            return Err(Error::usage(
                "exec --server serves temporary credentials, and this token holds long-term keys \
                 (no session token or expiration): use handoff exec without --server",
            ));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())
            .map_err(|e| Error::Other(format!("no randomness for the server token: {e}")))?;
        let mut hex = String::with_capacity(64);
        for b in bytes.iter() {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        let authorization = crate::credentials::into_secret(hex);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| Error::Other(format!("cannot start the credential server: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Other(format!("cannot start the credential server: {e}")))?;
        let state = Arc::new(State {
            token,
            authorization: authorization.clone(),
            stop: AtomicBool::new(false),
            refused: AtomicU64::new(0),
            served: AtomicU64::new(0),
        });
        let serving = state.clone();
        let thread = std::thread::Builder::new()
            .name("credential-server".into())
            .spawn(move || serve(listener, &serving))
            .map_err(|e| Error::Other(format!("cannot start the credential server: {e}")))?;
        Ok(CredentialServer {
            addr,
            authorization,
            state,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/`, for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The token a request must carry in its `Authorization` header, for
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    pub fn authorization(&self) -> &SecretString {
        &self.authorization
    }

    /// How many requests were refused for a missing or wrong token.
    pub fn refused(&self) -> u64 {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// How many requests got the credentials.
    pub fn served(&self) -> u64 {
        self.state.served.load(Ordering::SeqCst)
    }

    /// Stops the server and waits for its thread.
    pub fn stop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // wake the blocking accept
        let _ = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for CredentialServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(listener: TcpListener, state: &State) {
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            break;
        }
        if let Ok(stream) = stream {
            let _ = answer(stream, state);
        }
    }
}

/// Reads one request and answers it; the connection is then closed.
fn answer(mut stream: TcpStream, state: &State) -> std::io::Result<()> {
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    let mut buf = Zeroizing::new(vec![0u8; MAX_REQUEST]);
    let (mut n, mut searched) = (0usize, 0usize);
    let end = loop {
        // only what was read since, and 3 bytes before, can end the head
        let from = searched.saturating_sub(3);
        if let Some(i) = buf[from..n].windows(4).position(|w| w == b"\r\n\r\n") {
            break Some(from + i);
        }
        searched = n;
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if n == buf.len() || left.is_zero() {
            break None;
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf[n..]) {
            Ok(0) => break None,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break None,
        }
    };
    let Some(end) = end else {
        return respond(
            &mut stream,
            400,
            "Bad Request",
            br#"{"Message":"bad request"}"#,
        );
    };
    let (get, presented) = read_head(&buf[..end]);
    let authorized =
        presented.is_some_and(|v| same(v, state.authorization.expose_secret().as_bytes()));
    if !authorized {
        state.refused.fetch_add(1, Ordering::SeqCst);
        return respond(
            &mut stream,
            403,
            "Forbidden",
            br#"{"Message":"missing or wrong authorization token"}"#,
        );
    }
    if !get {
        return respond(
            &mut stream,
            405,
            "Method Not Allowed",
            br#"{"Message":"use GET"}"#,
        );
    }
    let c = state.token.credentials();
    if let Some(at) = c.expiration() {
        if at <= crate::clock::now() {
            let body = format!(
                r#"{{"Code":"ExpiredToken","Message":"the handoff token expired at {}: ask its sender for a new one"}}"#,
                crate::clock::format_rfc3339(at)
            );
            return respond(&mut stream, 410, "Gone", body.as_bytes());
        }
    }
    let doc = Document {
        access_key_id: c.access_key_id(),
        secret_access_key: c.secret_access_key().expose_secret(),
        token: c.session_token().map(|t| t.expose_secret()),
        expiration: c.expiration().map(crate::clock::format_rfc3339),
    };
    // Sized so that it never grows (escapes are at most 6 bytes a
    // character): no copy is left behind in a reallocation.
    let size = 6
        * (doc.access_key_id.len() + doc.secret_access_key.len() + doc.token.map_or(0, str::len))
        + 256;
    let mut body = Zeroizing::new(Vec::with_capacity(size));
    if serde_json::to_writer(&mut *body, &doc).is_err() {
        return respond(&mut stream, 500, "Internal Server Error", b"{}");
    }
    state.served.fetch_add(1, Ordering::SeqCst);
    respond(&mut stream, 200, "OK", &body)
}

/// The container-credentials document: no copy of a secret but the one
/// written into the zeroizing answer.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: Option<&'a str>,
    expiration: Option<String>,
}

/// Reads a request head (request line and headers, without the blank
/// line): whether it is a GET, and the value of its one `Authorization`
/// header (none when there are two).
fn read_head(head: &[u8]) -> (bool, Option<&[u8]>) {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let get = lines.next().is_some_and(|l| l.starts_with(b"GET "));
    let authorization = lines
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            let (name, value) = l.split_at(colon);
            name.eq_ignore_ascii_case(b"authorization")
                .then(|| value[1..].trim_ascii())
        })
        .fold(None, |seen, v| match seen {
            None => Some(Some(v)),
            Some(_) => Some(None),
        })
        .flatten();
    (get, authorization)
}

/// Constant-time comparison of the presented token with ours.
fn same(presented: &[u8], ours: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    presented.len() == ours.len() && bool::from(presented.ct_eq(ours))
}

fn respond(stream: &mut TcpStream, code: u16, reason: &str, body: &[u8]) -> std::io::Result<()> {
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() + 200));
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

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
/// authorization token in its environment and no credentials: the
/// variables of [`REMOVED_VARIABLES`] are removed, the shared credentials
/// file is hidden (`AWS_SHARED_CREDENTIALS_FILE=/dev/null`, whose profiles
/// the SDKs would use first), and the region follows the rule of
/// [`crate::environment()`] (the caller's wins, the token's fills in).
/// Signals that handoff receives are passed on to the command; when it
/// exits, the server stops.
pub fn exec(token: Token, mut cmd: Command) -> Result<Outcome> {
    // The region rule of crate::environment, worked out before the token
    // moves into the server (regions are not secrets).
    let caller = crate::environment::caller_regions()?;
    let regions: Vec<(&str, String)> = crate::environment::environment(&token)
        .regions(caller[0].as_deref(), caller[1].as_deref())
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let mut server = CredentialServer::start(token)?;
    for var in REMOVED_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url());
    cmd.env(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        server.authorization().expose_secret(),
    );
    for (k, v) in &regions {
        cmd.env(k, v);
    }
    // Registered before the command starts, so that no signal in between
    // ends handoff and leaves the command running without its server.
    let mut signals = signal_hook::iterator::SignalsInfo::<
        signal_hook::iterator::exfiltrator::WithOrigin,
    >::new(FORWARDED)
    .map_err(|e| Error::Other(format!("cannot forward signals: {e}")))?;
    let handle = signals.handle();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = match cmd.spawn() {
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
    let forwarder = std::thread::spawn(move || {
        for origin in signals.forever() {
            // The kernel sends a terminal's signals (Ctrl-C, hangup, resize)
            // to the whole foreground process group, the command included:
            // passing those on would deliver them twice.
            if origin.cause == signal_hook::low_level::siginfo::Cause::Kernel {
                continue;
            }
            let sig = rustix::process::Signal::from_named_raw(origin.signal);
            if let (Some(pid), Some(sig)) = (pid, sig) {
                let _ = rustix::process::kill_process(pid, sig);
            }
        }
    });
    let status = child.wait();
    handle.close();
    let _ = forwarder.join();
    server.stop();
    let status = status.map_err(|e| Error::Other(format!("cannot wait for {program}: {e}")))?;
    let code = match status.code() {
        Some(c) => (c & 0xff) as u8,
        None => {
            use std::os::unix::process::ExitStatusExt;
            128u8.saturating_add(status.signal().unwrap_or(0) as u8)
        }
    };
    Ok(Outcome {
        status: code,
        refused: server.refused(),
        served: server.served(),
        not_started: None,
    })
}

#[cfg(test)]
mod tests {
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

    use super::*;

    #[test]
    fn request_heads() {
        let (get, auth) =
            read_head(b"GET / HTTP/1.1\r\nHost: x\r\nauthorization:  abc \r\nAccept: */*");
        assert!(get);
        assert_eq!(auth, Some(&b"abc"[..]));
        let (get, auth) = read_head(b"POST / HTTP/1.1\r\nAuthorization: a\r\nAUTHORIZATION: a");
        assert!(!get);
        assert_eq!(auth, None, "two Authorization headers");
        assert_eq!(read_head(b""), (false, None));
        assert_eq!(read_head(b"GET /\nAuthorization:"), (true, Some(&b""[..])));
        assert!(!same(b"", b"abc") && !same(b"abd", b"abc") && same(b"abc", b"abc"));
    }

    #[test]
    fn a_trickling_client_is_cut_off_and_the_next_one_served() {
        use crate::{Credentials, Kind};
        let creds = Credentials::new(
            "ASIAIOSFODNN7EXAMPLE",
            "wJalrEXAMPLEKEY".into(),
            Some("session".into()),
            Some(crate::clock::now() + Duration::from_secs(3600)),
        );
        let server = CredentialServer::start(Token::new(Kind::Session, creds)).unwrap();
        let addr = server.addr;
        let slow = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            let start = std::time::Instant::now();
            for b in b"GET / HTTP/1.1\r\nAuthorization: x\r\n" {
                if s.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            start.elapsed()
        });
        std::thread::sleep(Duration::from_millis(100));
        let start = std::time::Instant::now();
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET / HTTP/1.1\r\nAuthorization: {}\r\n\r\n",
            server.authorization().expose_secret()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.contains("wJalrEXAMPLEKEY"));
        let waited = start.elapsed();
        assert!(
            waited < Duration::from_secs(3),
            "waited {waited:?} behind a trickling client"
        );
        let _ = slow.join();
        assert_eq!(server.served(), 1);
        assert_eq!(server.refused(), 0);
    }

    proptest::proptest! {
        #[test]
        fn any_head_is_read_without_panic(head in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = read_head(&head);
        }
    }
}
