//! `handoff console` (issue 26) against a loopback emulator of AWS's
//! federation endpoint, written here from the IAM User Guide's "Enable
//! custom identity broker access to the AWS console":
//!
//! - `GET /federation?Action=getSigninToken&Session=<JSON>[&SessionDuration=N]`,
//!   where the JSON is exactly `{"sessionId", "sessionKey", "sessionToken"}`
//!   and N is 900 to 43200, answers `{"SigninToken": "..."}`;
//! - `GET /federation?Action=login&Issuer=...&Destination=...&SigninToken=...`
//!   signs a browser in (a redirect to the destination), once.
//!
//! The tokens are minted from moto (federation, role, session) or sealed from
//! a document (static). Without an endpoint override, the partition's host is
//! seen by a loopback HTTPS proxy that records the CONNECT and refuses the
//! tunnel, so nothing leaves the machine.

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::moto::Moto;
use common::{
    fails, handoff, ok, run, run_with_input, stderr, stdout, SealedHome, SECRET, SESSION,
};

// ---------------------------------------------------------------------------
// The emulator

/// What the emulator saw of one getSigninToken request.
#[derive(Clone, Debug)]
struct SigninRequest {
    /// The Session parameter, as JSON.
    session: serde_json::Map<String, serde_json::Value>,
    /// SessionDuration, as sent.
    duration: Option<String>,
    /// Every parameter name, in order.
    names: Vec<String>,
}

#[derive(Default)]
struct State {
    /// Every request line, in order.
    lines: Vec<String>,
    signin: Vec<SigninRequest>,
    /// Sign-in tokens issued and not yet redeemed.
    live: HashSet<String>,
    /// Every sign-in token issued.
    issued: Vec<String>,
    /// An answer to give the next getSigninToken instead of a token.
    canned: Option<(u16, Vec<u8>)>,
}

struct Emulator {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Emulator {
    fn start() -> Emulator {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Emulator { url, state }
    }

    fn requests(&self) -> usize {
        self.state.lock().unwrap().lines.len()
    }

    fn last_signin(&self) -> SigninRequest {
        self.state
            .lock()
            .unwrap()
            .signin
            .last()
            .cloned()
            .expect("a getSigninToken request")
    }

    fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }

    fn answer_next(&self, status: u16, body: &[u8]) {
        self.state.lock().unwrap().canned = Some((status, body.to_vec()));
    }
}

/// The request head, bounded.
fn read_head(conn: &mut TcpStream) -> String {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 << 10 {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn respond(conn: &mut TcpStream, status: u16, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 3 <= b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("percent escape"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

fn query(target: &str) -> (String, Vec<(String, String)>) {
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let params = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    (path.to_string(), params)
}

/// The federation endpoint, as documented.
fn serve(mut conn: TcpStream, state: &Mutex<State>) {
    let head = read_head(&mut conn);
    let line = head.lines().next().unwrap_or("").to_string();
    let target = line.split(' ').nth(1).unwrap_or("").to_string();
    let mut st = state.lock().unwrap();
    st.lines.push(line.clone());
    let (path, params) = query(&target);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if !line.starts_with("GET ") || path != "/federation" {
        drop(st);
        return respond(&mut conn, 404, "", b"");
    }
    match get("Action").as_deref() {
        Some("getSigninToken") => {
            let session: Option<serde_json::Map<String, serde_json::Value>> =
                get("Session").and_then(|s| serde_json::from_str(&s).ok());
            let Some(session) = session else {
                drop(st);
                return respond(&mut conn, 400, "", b"<html>bad Session</html>");
            };
            let duration = get("SessionDuration");
            st.signin.push(SigninRequest {
                session: session.clone(),
                duration: duration.clone(),
                names: params.iter().map(|(k, _)| k.clone()).collect(),
            });
            if let Some((status, body)) = st.canned.take() {
                drop(st);
                return respond(&mut conn, status, "", &body);
            }
            let keys: HashSet<&str> = session.keys().map(String::as_str).collect();
            let three: HashSet<&str> = ["sessionId", "sessionKey", "sessionToken"].into();
            let duration_ok = duration
                .as_deref()
                .is_none_or(|d| d.parse::<u32>().is_ok_and(|n| (900..=43200).contains(&n)));
            if keys != three || !duration_ok {
                drop(st);
                return respond(&mut conn, 400, "", b"<html>Bad Request</html>");
            }
            // AWS's tokens are long and URL-unsafe in places: so is this one.
            let n = st.issued.len();
            let token = format!("EmUlAtEd+SiGnIn/{n}/{}=", "x".repeat(400 + n));
            st.issued.push(token.clone());
            st.live.insert(token.clone());
            drop(st);
            let body = serde_json::json!({ "SigninToken": token }).to_string();
            respond(
                &mut conn,
                200,
                "Content-Type: application/json\r\n",
                body.as_bytes(),
            )
        }
        Some("login") => {
            let token = get("SigninToken").unwrap_or_default();
            let good = get("Issuer").as_deref() == Some("handoff")
                && get("Destination").is_some_and(|d| d.starts_with("https://"))
                && st.live.remove(&token);
            drop(st);
            if good {
                let location = format!("Location: {}\r\n", get("Destination").unwrap_or_default());
                respond(&mut conn, 302, &location, b"")
            } else {
                respond(
                    &mut conn,
                    400,
                    "",
                    b"<html>Sign-in token expired or used</html>",
                )
            }
        }
        _ => {
            drop(st);
            respond(&mut conn, 400, "", b"")
        }
    }
}

/// A browser following a sign-in URL on the emulator: the status it gets.
fn redeem(url: &str) -> u16 {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, target) = rest.split_once('/').expect("a path");
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /{target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

// ---------------------------------------------------------------------------
// Tokens

struct World {
    home: tempfile::TempDir,
    public: String,
}

impl World {
    fn new() -> World {
        let (home, public) = common::home_with_identity();
        World { home, public }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    fn handoff(&self) -> Command {
        handoff(self.home.path())
    }

    /// `handoff seal ARGS -r KEY -o NAME` against moto.
    fn mint(&self, moto: &Moto, name: &str, args: &[&str]) -> PathBuf {
        let out = self.path(name);
        ok(&run(self
            .handoff()
            .args(["seal", "-r", &self.public, "-o"])
            .arg(&out)
            .args(args)
            .args(["--endpoint-url", &moto.url])
            .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")));
        out
    }

    /// `handoff seal` of a credential document.
    fn seal_document(&self, name: &str, doc: &str, args: &[&str]) -> PathBuf {
        let out = self.path(name);
        ok(&run_with_input(
            self.handoff()
                .args(["seal", "-r", &self.public, "-o"])
                .arg(&out)
                .args(args),
            doc.as_bytes(),
        ));
        out
    }

    /// The sealed credentials, as `handoff open -f json` prints them.
    fn credentials(&self, token: &Path) -> (String, String, String) {
        let o = run(self.handoff().arg("open").arg(token).args(["-f", "json"]));
        let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
        let c = &v["Credentials"];
        let s = |k: &str| c[k].as_str().expect(k).to_string();
        (s("AccessKeyId"), s("SecretAccessKey"), s("SessionToken"))
    }

    fn console(&self, token: &Path) -> Command {
        let mut c = self.handoff();
        c.arg("console").arg(token);
        c
    }
}

/// The Session the emulator saw is exactly the sealed credentials.
#[track_caller]
fn assert_session(seen: &SigninRequest, creds: &(String, String, String)) {
    let keys: Vec<&str> = seen.session.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(seen.session["sessionId"], creds.0.as_str());
    assert_eq!(seen.session["sessionKey"], creds.1.as_str());
    assert_eq!(seen.session["sessionToken"], creds.2.as_str());
}

/// The sign-in URL on stdout, for `emulator`, with its Destination.
#[track_caller]
fn login_url(o: &Output, emulator: &Emulator) -> (String, String) {
    let out = ok(o);
    let url = out.trim_end().to_string();
    assert_eq!(out, format!("{url}\n"));
    let prefix = format!(
        "{}/federation?Action=login&Issuer=handoff&Destination=",
        emulator.url
    );
    assert!(url.starts_with(&prefix), "{url}");
    let (_, params) = query(url.strip_prefix(&emulator.url).unwrap());
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["Action", "Issuer", "Destination", "SigninToken"]);
    (url, params[2].1.clone())
}

/// Every file under `dir` (the home: ledger, config, tokens), as text.
fn all_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all_files(&p, out);
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, String::from_utf8_lossy(&b).into_owned()));
        }
    }
}

// ---------------------------------------------------------------------------
// The tests

/// Federation and role tokens minted by moto sign in through the emulator:
/// the Session is exactly the sealed credentials, SessionDuration is sent
/// for the role only (1 h, or what was asked, cut to the expiry), the URL
/// signs in once; `$BROWSER` gets the URL; `-o` writes it 0600 and does not
/// clobber; `-v` says where the request went and nothing secret; session and
/// static tokens are refused with no request.
#[test]
fn federation_and_role_tokens_sign_in_once() {
    let moto = Moto::start();
    let w = World::new();
    let emu = Emulator::start();
    let fed = w.mint(
        &moto,
        "fed.age",
        &[
            "--federation",
            "contractor",
            "--allow",
            "DescribeImages",
            "--region",
            "eu-west-1",
        ],
    );
    let role = w.mint(
        &moto,
        "role.age",
        &[
            "--role",
            "arn:aws:iam::123456789012:role/auditor",
            "--duration",
            "3h",
        ],
    );
    let session = w.mint(&moto, "session.age", &["--session"]);
    let static_doc = format!(
        r#"{{"Version": 1, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "{SECRET}"}}"#
    );
    let static_key = w.seal_document("static.age", &static_doc, &[]);
    let fed_creds = w.credentials(&fed);
    let role_creds = w.credentials(&role);

    // federation: no SessionDuration; the token's region picks the console
    let o = run(w
        .console(&fed)
        .args(["--print", "--signin-endpoint", &emu.url]));
    let (url, destination) = login_url(&o, &emu);
    assert_eq!(
        destination,
        "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
    );
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let seen = emu.last_signin();
    assert_session(&seen, &fed_creds);
    assert_eq!(seen.duration, None);
    assert_eq!(seen.names, ["Action", "Session"]);
    assert_eq!(emu.requests(), 1);
    assert_eq!(redeem(&url), 302, "the first redemption signs in");
    assert_eq!(
        redeem(&url),
        400,
        "a second redemption of the same URL fails"
    );

    // a federation token takes no session duration: refused, no request
    let before = emu.requests();
    let o = run(w.console(&fed).args([
        "--print",
        "--session-duration",
        "2h",
        "--signin-endpoint",
        &emu.url,
    ]));
    let err = fails(&o, 2, &[SECRET]);
    assert!(err.contains("lasts as long as the token"), "{err}");
    assert_eq!(emu.requests(), before);

    // role, endpoint from the environment, -v, -o: SessionDuration 1 h
    let file = w.path("url.txt");
    let o = run(w
        .console(&role)
        .args(["-v", "--service", "ec2", "--region", "us-east-1", "-o"])
        .arg(&file)
        .env("HANDOFF_SIGNIN_ENDPOINT", &emu.url));
    ok(&o);
    assert!(stdout(&o).is_empty());
    let seen = emu.last_signin();
    assert_session(&seen, &role_creds);
    assert_eq!(seen.duration.as_deref(), Some("3600"));
    assert_eq!(seen.names, ["Action", "Session", "SessionDuration"]);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let written = std::fs::read_to_string(&file).unwrap();
    let url = written.trim_end();
    let (_, params) = query(url.strip_prefix(&emu.url).unwrap());
    assert_eq!(
        params[2].1,
        "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
    );
    let verbose = stderr(&o);
    assert!(
        verbose.contains(&format!("getSigninToken -> {}/federation", emu.url)),
        "{verbose}"
    );
    assert!(
        verbose.contains("HANDOFF_SIGNIN_ENDPOINT") && verbose.contains("SessionDuration 3600 s"),
        "{verbose}"
    );
    let signin_token = emu.issued().last().unwrap().clone();
    for secret in [
        url,
        signin_token.as_str(),
        &role_creds.1,
        &role_creds.2,
        "SigninToken=",
        "Session=",
    ] {
        assert!(
            !verbose.contains(secret),
            "{secret} in -v output: {verbose}"
        );
    }
    assert_eq!(redeem(url), 302);

    // -o does not clobber, and is refused before any request
    let before = emu.requests();
    let o = run(w
        .console(&role)
        .args(["--signin-endpoint", &emu.url, "-o"])
        .arg(&file));
    let err = fails(&o, 1, &[SECRET, &role_creds.1]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(emu.requests(), before);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);

    // a longer session than the credentials have left is cut to their expiry
    let o = run(w.console(&role).args([
        "--print",
        "--session-duration",
        "12h",
        "--signin-endpoint",
        &emu.url,
    ]));
    login_url(&o, &emu);
    let sent: u32 = emu.last_signin().duration.unwrap().parse().unwrap();
    assert!((10_700..=10_800).contains(&sent), "{sent}");
    assert!(stderr(&o).contains("cut to 2h 59m"), "{}", stderr(&o));

    // $BROWSER is given the URL, and it signs in
    let record = w.path("browser.txt");
    let script = w.path("browser.sh");
    std::fs::write(&script, "#!/bin/sh\nprintf '%s\\n' \"$1\" > \"$RECORD\"\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
    let o = run(w
        .console(&fed)
        .args(["--signin-endpoint", &emu.url])
        .env("BROWSER", &script)
        .env("RECORD", &record));
    assert!(ok(&o).is_empty());
    assert!(
        stderr(&o).contains("opened the console sign-in with"),
        "{}",
        stderr(&o)
    );
    let given = std::fs::read_to_string(&record).unwrap();
    let given = given.trim_end();
    assert!(
        given.starts_with(&format!(
            "{}/federation?Action=login&Issuer=handoff&",
            emu.url
        )),
        "{given}"
    );
    assert!(!stderr(&o).contains(given));
    assert_eq!(redeem(given), 302);

    // a browser command that fails, and none to be found: said, exit 1,
    // and the URL is in neither message
    let failing = w.path("failing.sh");
    std::fs::write(&failing, "#!/bin/sh\nexit 3\n").unwrap();
    std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o700)).unwrap();
    let empty = tempfile::tempdir().unwrap();
    for (browser, words) in [
        (
            failing.to_str().unwrap(),
            "failed (exit status: 3); --print writes the URL instead",
        ),
        (
            "/nonexistent/browser",
            "no browser to open the console in (tried /nonexistent/browser, xdg-open, open)",
        ),
    ] {
        let o = run(w
            .console(&fed)
            .args(["--signin-endpoint", &emu.url])
            .env("BROWSER", browser)
            .env("PATH", empty.path()));
        let err = fails(
            &o,
            1,
            &[
                SECRET,
                &fed_creds.1,
                &fed_creds.2,
                "SigninToken=",
                "EmUlAtEd",
            ],
        );
        assert!(err.contains(words), "{err}");
    }

    // session and static tokens: refused, saying what to ask for, with no
    // request at all: not to the sign-in endpoint, nor the account check's
    // to STS (sent to the emulator too, which would see its POST)
    let before = emu.requests();
    for (token, what) in [
        (&session, "session token"),
        (&static_key, "long-term access keys"),
    ] {
        let o = run(w
            .console(token)
            .args(["--print", "-v", "--signin-endpoint", &emu.url])
            .args(["--expect-account", "123456789012"])
            .env("AWS_ENDPOINT_URL_STS", &emu.url));
        let err = fails(&o, 1, &[SECRET, SESSION]);
        assert!(
            err.starts_with("handoff: handoff console needs a federation or role token"),
            "{err}"
        );
        assert!(
            err.contains(what) && err.contains("--federation NAME"),
            "{err}"
        );
    }
    assert_eq!(
        emu.requests(),
        before,
        "the emulator saw a request for a refused token"
    );

    // no sign-in token is kept anywhere in the home but the -o file
    let mut files = Vec::new();
    all_files(w.home.path(), &mut files);
    for (path, text) in &files {
        if *path == file || *path == record {
            continue;
        }
        for t in emu.issued() {
            assert!(!text.contains(&t), "a sign-in token in {}", path.display());
        }
    }
}

/// What the endpoint answers other than a token is said in handoff's words,
/// with the contract's exit statuses, and quotes none of it; an expired
/// token is refused (exit 4) before any request.
#[test]
fn answers_other_than_a_token() {
    let h = SealedHome::new();
    let emu = Emulator::start();
    let console = || {
        let mut c = handoff(h.path());
        c.arg("console")
            .arg(&h.token)
            .args(["--print", "--signin-endpoint", &emu.url]);
        c
    };
    let huge = format!(r#"{{"SigninToken": "{}"}}"#, "a".repeat(70 << 10)).into_bytes();
    let echo = format!(r#"{{"Message": "bad {SECRET} {SESSION}"}}"#);
    for (status, body, code, words) in [
        (
            400,
            echo.as_bytes(),
            5,
            "AWS error HTTP 400: the sign-in endpoint refused",
        ),
        (403, b"".as_slice(), 5, "AWS error HTTP 403"),
        (
            500,
            echo.as_bytes(),
            6,
            "unexpected HTTP 500 answer to getSigninToken",
        ),
        (302, b"".as_slice(), 6, "unexpected HTTP 302"),
        (
            200,
            echo.as_bytes(),
            6,
            "malformed answer to getSigninToken",
        ),
        (
            200,
            br#"{"SigninToken": "with space"}"#.as_slice(),
            6,
            "printable ASCII",
        ),
        (
            200,
            huge.as_slice(),
            6,
            "the response is larger than 64 KiB; refused",
        ),
    ] {
        emu.answer_next(status, body);
        let o = run(&mut console());
        let err = fails(&o, code, &[SECRET, SESSION, "with space", "Session="]);
        assert!(err.contains(words), "{status}: {err}");
    }
    // nothing listening: exit 6, no secret in the message
    let port = common::moto::free_port();
    let o = run(handoff(h.path()).arg("console").arg(&h.token).args([
        "--print",
        "--signin-endpoint",
        &format!("http://127.0.0.1:{port}"),
    ]));
    let err = fails(&o, 6, &[SECRET, SESSION, "Session="]);
    assert!(err.contains("cannot connect"), "{err}");

    // expired: exit 4, no request
    let before = emu.requests();
    let expired = common::sts_document().replace("2099-01-01", "2001-01-01");
    let old = h.path().join("old.age");
    ok(&run_with_input(
        handoff(h.path())
            .args(["seal", "--allow-expired", "-r", &h.public, "-o"])
            .arg(&old),
        expired.as_bytes(),
    ));
    let o = run(handoff(h.path()).arg("console").arg(&old).args([
        "--print",
        "--signin-endpoint",
        &emu.url,
    ]));
    fails(&o, 4, &[SECRET]);
    assert_eq!(emu.requests(), before);
}

/// A loopback HTTPS proxy that records each CONNECT line and refuses the
/// tunnel.
fn refusing_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let head = read_head(&mut conn);
            s.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or("").to_string());
            respond(&mut conn, 403, "", b"");
        }
    });
    (url, seen)
}

/// Without an endpoint override, the sign-in host follows the partition:
/// the request goes to the proxy as a CONNECT to that host, and no further.
#[test]
fn sign_in_hosts_follow_the_partition() {
    let h = SealedHome::new();
    let (proxy, seen) = refusing_proxy();
    let console = |token: &Path, args: &[&str]| {
        let mut c = handoff(h.path());
        c.arg("console")
            .arg(token)
            .arg("--print")
            .args(args)
            .env("HTTPS_PROXY", &proxy)
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy");
        run(&mut c)
    };
    for (region, host) in [
        ("us-east-1", "signin.aws.amazon.com"),
        ("eu-west-1", "eu-west-1.signin.aws.amazon.com"),
        ("cn-north-1", "signin.amazonaws.cn"),
        ("us-gov-west-1", "signin.amazonaws-us-gov.com"),
    ] {
        let o = console(&h.token, &["--region", region]);
        fails(&o, 6, &[SECRET, SESSION, "Session="]);
        let last = seen.lock().unwrap().last().cloned().unwrap_or_default();
        assert_eq!(last, format!("CONNECT {host}:443 HTTP/1.1"), "{region}");
    }
    // the token's own region, when no --region is given
    let cn = h.path().join("cn.age");
    common::seal_document(h.path(), &h.public, &cn, &["--region", "cn-northwest-1"]);
    let o = console(&cn, &[]);
    fails(&o, 6, &[SECRET]);
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        "CONNECT signin.amazonaws.cn:443 HTTP/1.1"
    );
    assert_eq!(seen.lock().unwrap().len(), 5);
}
