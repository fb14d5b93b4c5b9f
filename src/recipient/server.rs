//! `handoff exec --server`: the token is decrypted once, and the command gets
//! its credentials from a credential server on loopback, the way SDKs get
//! them in an ECS container (`AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN`), instead of from its environment.
//!
//! The server listens on `127.0.0.1` on a port the kernel picks, and
//! answers a `GET` that carries the authorization token (256 random bits,
//! compared in constant time) with the container-credentials document
//! (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`). Any other
//! request gets 403 and is counted. After the token's expiration it answers
//! 410 with a message the SDKs print. It logs nothing: no request line,
//! header or body.
//!
//! Each connection is served on a thread of its own, at most
//! [`MAX_CONNECTIONS`] at once, and must send its request within
//! [`READ_DEADLINE`]: idle or trickling connections, which need no token to
//! open, never delay an authorised request.
//!
//! Once the command has exited, the server forgets the credentials and
//! answers 410 for as long as a process the command left behind in its
//! process group still runs (a background job of a script): such a job
//! still holds the server's address and token, and if the port were freed,
//! any local user could bind it and hand the job credentials of their own.
//! See docs/SECURITY.md for what remains (handoff itself killed).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{Error, Result, Token};

/// The most bytes of request head read (request line and headers).
const MAX_REQUEST: usize = 16 << 10;

/// How long one connection may take to send its request, and to read the
/// answer: an SDK sends its request at once, so a connection that stalls
/// or trickles is cut off soon, and holds no more than its own thread.
pub const READ_DEADLINE: Duration = Duration::from_secs(1);

/// The most connections served at once; more are closed at once. Well
/// above what a command's SDK clients open together, and a bound on the
/// threads a local process without the token can make handoff start.
pub const MAX_CONNECTIONS: usize = 256;

/// Variables the command must not inherit: whatever ranks above container
/// credentials in botocore's chain (`create_credential_resolver`: the
/// environment, assume-role and web identity, SSO, the shared files,
/// `credential_process`, `AWS_CREDENTIAL_FILE`, boto's config) or the
/// JavaScript SDK v3's (`defaultProvider`: `fromEnv`, `fromSSO`, `fromIni`,
/// `fromProcess`, `fromTokenFile`), and the container settings that win
/// over the server's (a relative URI, a token file). The shared files are
/// replaced rather than removed (see `exec::exec`, feature `cli`); `AWS_SSO_*` is removed as
/// a family.
pub const REMOVED_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_CREDENTIAL_SCOPE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CREDENTIAL_FILE",
];

/// Prefixes of variable families removed like [`REMOVED_VARIABLES`].
pub const REMOVED_PREFIXES: &[&str] = &["AWS_SSO_"];

/// Variables set to an empty file, so that the SDKs read no one's profiles:
/// the shared credentials file, and boto's config (`BOTO_CONFIG`, else
/// `/etc/boto.cfg` and `~/.boto`, which botocore reads for keys).
/// `AWS_CONFIG_FILE` gets a private file of its own (see `exec::exec`, feature `cli`).
pub const EMPTIED_FILES: &[&str] = &["AWS_SHARED_CREDENTIALS_FILE", "BOTO_CONFIG"];

/// A running credential server. Stops when dropped.
pub struct CredentialServer {
    addr: SocketAddr,
    authorization: SecretString,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

struct State {
    /// The credentials; `None` once the command has ended.
    token: Mutex<Option<Token>>,
    authorization: SecretString,
    stop: AtomicBool,
    refused: AtomicU64,
    served: AtomicU64,
    active: AtomicUsize,
}

impl CredentialServer {
    /// Starts serving `token`'s credentials on a random loopback port.
    /// Refuses a token of long-term keys: the container-credentials
    /// document needs a session token and an expiration.
    pub fn start(token: Token) -> Result<Self> {
        let c = token.credentials();
        if c.session_token().is_none() || c.expiration().is_none() {
            return Err(Error::usage(
                "the credential server serves temporary credentials, and this token holds long-term keys \
                 (no session token or expiration)",
            ));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())
            .map_err(|e| Error::other(format!("no randomness for the server token: {e}")))?;
        let mut hex = String::with_capacity(64);
        for b in bytes.iter() {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        let authorization = crate::credentials::into_secret(hex);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| {
            Error::other(format!("cannot start the credential server: {e}")).with_source(e)
        })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::other(format!("cannot start the credential server: {e}")).with_source(e)
        })?;
        let state = Arc::new(State {
            token: Mutex::new(Some(token)),
            authorization: authorization.clone(),
            stop: AtomicBool::new(false),
            refused: AtomicU64::new(0),
            served: AtomicU64::new(0),
            active: AtomicUsize::new(0),
        });
        let serving = state.clone();
        let thread = std::thread::Builder::new()
            .name("credential-server".into())
            .spawn(move || serve(listener, serving))
            .map_err(|e| {
                Error::other(format!("cannot start the credential server: {e}")).with_source(e)
            })?;
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

    /// Forgets the credentials (they are wiped): from now on an authorised
    /// request gets 410, and the port stays held until [`stop`](Self::stop).
    pub fn retire(&self) {
        let token = self
            .state
            .token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(token);
    }

    /// Stops the server and waits for its accepting thread (connections
    /// being answered end within [`READ_DEADLINE`]).
    pub fn stop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // wake the blocking accept
        let _ = TcpStream::connect_timeout(&self.addr, READ_DEADLINE);
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

fn serve(listener: TcpListener, state: Arc<State>) {
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        if state.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            state.active.fetch_sub(1, Ordering::SeqCst);
            continue; // closed at once
        }
        let serving = state.clone();
        let spawned = std::thread::Builder::new()
            .name("credential-connection".into())
            .spawn(move || {
                let _ = answer(stream, &serving);
                serving.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            state.active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Reads one request and answers it; the connection is then closed.
fn answer(mut stream: TcpStream, state: &State) -> std::io::Result<()> {
    stream.set_write_timeout(Some(READ_DEADLINE))?;
    let deadline = Instant::now() + READ_DEADLINE;
    let mut buf = Zeroizing::new(vec![0u8; MAX_REQUEST]);
    let (mut n, mut searched) = (0usize, 0usize);
    let end = loop {
        // only what was read since, and 3 bytes before, can end the head
        let from = searched.saturating_sub(3);
        if let Some(i) = buf[from..n].windows(4).position(|w| w == b"\r\n\r\n") {
            break Some(from + i);
        }
        searched = n;
        let left = deadline.saturating_duration_since(Instant::now());
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
    let body = {
        let token = state.token.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(token) = token.as_ref() else {
            drop(token);
            return respond(
                &mut stream,
                410,
                "Gone",
                br#"{"Code":"CommandEnded","Message":"the command handoff exec --server ran has ended, and its credentials with it"}"#,
            );
        };
        match document(token) {
            Ok(body) => body,
            Err(gone) => return respond(&mut stream, 410, "Gone", gone.as_bytes()),
        }
    };
    let Some(body) = body else {
        return respond(&mut stream, 500, "Internal Server Error", b"{}");
    };
    state.served.fetch_add(1, Ordering::SeqCst);
    respond(&mut stream, 200, "OK", &body)
}

/// The container-credentials document for `token` (`None` if it cannot be
/// written), or the body of a 410 when it has expired.
fn document(token: &Token) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, String> {
    let c = token.credentials();
    if let Some(at) = c.expiration() {
        if at <= crate::clock::now() {
            return Err(format!(
                r#"{{"Code":"ExpiredToken","Message":"the handoff token expired at {}: ask its sender for a new one"}}"#,
                crate::clock::format_rfc3339(at)
            ));
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
    Ok(serde_json::to_writer(&mut *body, &doc)
        .is_ok()
        .then_some(body))
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

#[cfg(test)]
mod tests {

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

    fn served_token() -> Token {
        use crate::{Credentials, Kind};
        let creds = Credentials::new(
            "ASIAIOSFODNN7EXAMPLE",
            "wJalrEXAMPLEKEY".into(),
            Some("session".into()),
            Some(crate::clock::now() + Duration::from_secs(3600)),
        );
        Token::new(Kind::Session, creds)
    }

    fn get(addr: SocketAddr, authorization: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET / HTTP/1.1\r\nAuthorization: {authorization}\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn idle_connections_do_not_hold_up_an_authorised_request() {
        let server = CredentialServer::start(served_token()).unwrap();
        let idle: Vec<TcpStream> = (0..20)
            .map(|_| TcpStream::connect(server.addr).unwrap())
            .collect();
        let answer = get(server.addr, server.authorization().expose_secret());
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        // answered while every idle connection is still open: none of them
        // was waited for (a server that took them in turn would have cut
        // each off, with a 400, before)
        for mut s in idle {
            s.set_nonblocking(true).unwrap();
            let mut b = [0u8; 1];
            let e = s.read(&mut b).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        }
    }

    #[test]
    fn a_retired_server_answers_410_and_still_refuses_strangers() {
        let server = CredentialServer::start(served_token()).unwrap();
        server.retire();
        let answer = get(server.addr, server.authorization().expose_secret());
        assert!(answer.starts_with("HTTP/1.1 410 Gone"), "{answer}");
        assert!(!answer.contains("wJalrEXAMPLEKEY"));
        assert!(get(server.addr, "wrong").starts_with("HTTP/1.1 403"));
        assert_eq!((server.served(), server.refused()), (0, 1));
    }

    proptest::proptest! {
        #[test]
        fn any_head_is_read_without_panic(head in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = read_head(&head);
        }
    }
}
