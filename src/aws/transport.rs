//! Signing and sending Query API requests, with timeouts, retries and a cap
//! on what is read back.
//!
//! - Requests are form-encoded POSTs (`Action=...&Version=...&...`), signed
//!   with SigV4 by the `aws-sigv4` crate. [`sign`] is a pure function of the
//!   request, the credentials, the region, the service and an explicit time;
//!   the time comes from [`clock::now`], the crate's one clock.
//! - Timeouts: [`CONNECT_TIMEOUT`](super::config::CONNECT_TIMEOUT) and
//!   [`READ_TIMEOUT`](super::config::READ_TIMEOUT).
//! - Retries as the AWS SDKs' standard mode: at most [`MAX_ATTEMPTS`]
//!   attempts, with jittered exponential backoff, for throttling errors,
//!   5xx answers, and connections that fail, reset or time out. Never for
//!   other 4xx answers.
//! - Bodies are read into zeroizing buffers (STS bodies hold secrets), up to
//!   a cap per service. Bodies, `authorization` and `x-amz-security-token`
//!   are never logged; with `verbose`, one line per request and per retry
//!   names the endpoint and the reason.

use std::io::Read;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::config::{ClientConfig, Service};
use super::retry::*;
use super::sigv4::*;
use super::tls::*;
use super::xml;
use crate::clock;
use crate::{Error, ErrorKind, Result};

/// STS answers are a few KB; 1 MiB is far beyond any real one.
pub(crate) const STS_BODY_CAP: usize = 1 << 20;
/// EC2 answers can be large (DescribeImages of public images runs to
/// megabytes); 16 MiB.
pub(crate) const EC2_BODY_CAP: usize = 16 << 20;
/// A DynamoDB page is at most 1 MB of items, more as JSON; 16 MiB.
pub(crate) const DYNAMODB_BODY_CAP: usize = 16 << 20;

/// A client for one service at one endpoint.
pub(crate) struct Transport {
    http: reqwest::blocking::Client,
    config: ClientConfig,
    cap: usize,
    /// The `Date` header of the last answer that had one: AWS's clock, for
    /// the callers that compare times with AWS's (see [`Transport::aws_now`]).
    last_date: std::sync::Mutex<Option<std::time::SystemTime>>,
}

/// What one attempt came to.
enum Outcome {
    Done(Zeroizing<Vec<u8>>),
    Retry {
        reason: String,
        throttled: bool,
        error: Error,
        /// The request went out and may have been carried out (no answer,
        /// or one cut off): only a call that may repeat is sent again.
        sent: bool,
    },
    Fail(Error),
}

/// Parameters whose values are secrets, redacted from messages like the
/// credentials: the MFA code of GetSessionToken.
const SECRET_PARAMS: &[&str] = &["TokenCode"];

/// Secrets shorter than this are not looked for in messages (a real secret
/// key is 40 characters, a session token hundreds, an MFA code 6).
const MIN_REDACTED: usize = 6;

/// What a redacted secret is replaced with.
const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of each of `secrets` replaced by
/// [`REDACTED`]; the original is wiped.
fn redact(text: String, secrets: &[&str]) -> String {
    let mut text = Zeroizing::new(text);
    for s in secrets.iter().filter(|s| s.len() >= MIN_REDACTED) {
        if text.contains(*s) {
            text = Zeroizing::new(text.replace(*s, REDACTED));
        }
    }
    std::mem::take(&mut *text)
}

/// `e` with every secret of the call redacted from its text: an AWS error
/// message may repeat what the request carried.
fn redact_error(e: Error, secrets: &[&str]) -> Error {
    if matches!(e.kind(), ErrorKind::Aws { .. }) || e.is_transport() {
        e.map_message(|m| redact(m, secrets))
    } else {
        e
    }
}

/// `e` with `note` added to a transport error's message.
fn with_note(e: Error, note: &str) -> Error {
    if e.is_transport() {
        e.map_message(|m| format!("{m} ({note})"))
    } else {
        e
    }
}

impl Transport {
    /// Builds the HTTP client, with rustls (ring) for https endpoints. Only
    /// AWS paths get here; opening a token never does.
    pub(crate) fn new(config: ClientConfig) -> Result<Transport> {
        let http = http_client(
            config.endpoint(),
            config.connect_timeout(),
            config.read_timeout(),
            config.ca_bundle(),
        )?;
        let cap = match config.service() {
            // IAM answers (policies of at most 10 KB, lists) are small.
            Service::Sts | Service::Iam => STS_BODY_CAP,
            Service::Ec2 => EC2_BODY_CAP,
            Service::Dynamodb => DYNAMODB_BODY_CAP,
        };
        Ok(Transport {
            http,
            config,
            cap,
            last_date: std::sync::Mutex::new(None),
        })
    }

    /// AWS's time as the last answer's `Date` header gave it, if any.
    pub(crate) fn server_date(&self) -> Option<std::time::SystemTime> {
        self.last_date.lock().ok().and_then(|d| *d)
    }

    /// The time to compare with AWS's: the later of the local clock and the
    /// last answer's `Date` (whole seconds, so one second is added), rounded
    /// up to the next whole second; and how far the local clock is behind
    /// (negative: ahead of) AWS's, in seconds, when an answer said.
    pub(crate) fn aws_now(&self) -> (std::time::SystemTime, Option<i64>) {
        aws_now(clock::now(), self.server_date())
    }

    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Calls `action` with `params` (without `Action` and `Version`, which
    /// are added), retrying as the module says. Returns the body of a 2xx
    /// answer; AWS errors become [`ErrorKind::Aws`], everything else
    /// a transport error ([`Error::is_transport`](crate::Error::is_transport)).
    pub(crate) fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Zeroizing<Vec<u8>>> {
        self.call_with(action, params, true)
    }

    /// Like [`Transport::call`]; `may_repeat` says whether the call may be
    /// sent again once a request may have been carried out (sent, then no
    /// answer or one cut off). Without it, only failures that prove the
    /// request was not carried out (no connection, an error answer) are
    /// retried.
    ///
    /// The whole call, retries included, keeps to the configuration's
    /// deadline ([`ClientConfig::deadline`]): no attempt starts, no backoff
    /// waits and no read of an answer begins after it. Every secret the call
    /// holds (the signing credentials' secret key and session token, and
    /// [`SECRET_PARAMS`]) is redacted from the error and the `verbose` lines.
    pub(crate) fn call_with(
        &self,
        action: &str,
        params: &[(&str, &str)],
        may_repeat: bool,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let service = self.config.service();
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 2);
        all.push(("Action", action));
        all.push(("Version", service.api_version()));
        all.extend_from_slice(params);
        let request = form_request(self.config.endpoint(), &all);
        let secret_params: Vec<&str> = params
            .iter()
            .filter(|(k, _)| SECRET_PARAMS.contains(k))
            .map(|(_, v)| *v)
            .collect();
        self.send(&request, action, &secret_params, may_repeat)
    }

    /// A JSON-protocol call (DynamoDB's): a POST of `body` with
    /// `X-Amz-Target: target` (`DynamoDB_20120810.PutItem`) and
    /// `Content-Type: application/x-amz-json-1.0`, signed, retried and
    /// bounded as [`Transport::call_with`]. An error answer is the JSON
    /// `{"__type": "...#Code", "message": ...}`, read into
    /// [`Error::Aws`] with the short code.
    pub(crate) fn call_json(
        &self,
        target: &'static str,
        body: Vec<u8>,
        may_repeat: bool,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let request = FormRequest {
            url: self.config.endpoint().to_string(),
            headers: vec![
                ("content-type", JSON_CONTENT_TYPE),
                ("x-amz-target", target),
            ],
            body,
        };
        let action = target.rsplit_once('.').map_or(target, |(_, a)| a);
        self.send(&request, action, &[], may_repeat)
    }

    /// Sends `request` as [`Transport::call_with`] says; `secret_params`
    /// are redacted from what is said, with the credentials' secrets.
    fn send(
        &self,
        request: &FormRequest,
        action: &str,
        secret_params: &[&str],
        may_repeat: bool,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let credentials = self.config.credentials();
        let mut secrets: Vec<&str> = vec![credentials.secret_access_key().expose_secret()];
        if let Some(t) = credentials.session_token() {
            secrets.push(t.expose_secret());
        }
        secrets.extend_from_slice(secret_params);
        if self.config.verbose() {
            eprintln!("{}", request_line(&self.config, action));
        }
        let deadline = Instant::now() + self.config.deadline();
        let mut attempt = 1;
        loop {
            match self.attempt(request, deadline) {
                Outcome::Done(body) => return Ok(body),
                Outcome::Fail(e) => return Err(redact_error(e, &secrets)),
                Outcome::Retry {
                    reason,
                    throttled,
                    error,
                    sent,
                } => {
                    let error = redact_error(error, &secrets);
                    if sent && !may_repeat {
                        return Err(with_note(
                            error,
                            &format!("not retried: {action} may have been carried out"),
                        ));
                    }
                    if attempt >= MAX_ATTEMPTS {
                        return Err(with_note(error, &format!("after {MAX_ATTEMPTS} attempts")));
                    }
                    let delay = backoff(attempt, throttled);
                    if Instant::now() + delay >= deadline {
                        return Err(with_note(
                            error,
                            &format!(
                                "the call's deadline of {} passed after {attempt} attempts",
                                seconds(self.config.deadline())
                            ),
                        ));
                    }
                    if self.config.verbose() {
                        eprintln!(
                            "{}",
                            retry_line(
                                self.config.endpoint(),
                                &redact(reason, &secrets),
                                delay,
                                attempt + 1
                            )
                        );
                    }
                    std::thread::sleep(delay);
                    attempt += 1;
                }
            }
        }
    }

    fn transport_error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::transport(kind, self.config.endpoint(), message)
    }

    fn attempt(&self, request: &FormRequest, deadline: Instant) -> Outcome {
        let c = &self.config;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Outcome::Fail(self.deadline_error());
        }
        let signed = match sign(
            "POST",
            &request.url,
            &request.headers,
            &request.body,
            c.credentials(),
            c.signing_region(),
            c.service().name(),
            clock::now(),
        ) {
            Ok(s) => s,
            Err(e) => return Outcome::Fail(e),
        };
        let mut builder = self.http.post(&request.url).body(request.body.clone());
        // Closer to the deadline than a read timeout: the rest of the time
        // bounds this attempt as a whole (head and body).
        let bounded = remaining < c.read_timeout();
        if bounded {
            builder = builder.timeout(remaining);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, *value);
        }
        for h in &signed {
            let mut value = match reqwest::header::HeaderValue::from_str(&h.value) {
                Ok(v) => v,
                Err(_) => {
                    return Outcome::Fail(Error::other(format!(
                        "the credentials cannot be sent: the {} header would hold characters HTTP does not allow",
                        h.name
                    )))
                }
            };
            value.set_sensitive(h.sensitive);
            builder = builder.header(h.name, value);
        }
        let mut response = match builder.send() {
            Ok(r) => r,
            Err(e) => {
                if let Some(words) = certificate_error(&e) {
                    // Not transient: asking again gets the same certificate.
                    return Outcome::Fail(
                        self.transport_error(
                            ErrorKind::Certificate,
                            format!("cannot connect: {words}"),
                        )
                        .with_source(e),
                    );
                }
                let kind = send_error_kind(&e);
                if bounded && kind == ErrorKind::Timeout {
                    return Outcome::Fail(self.deadline_error().with_source(e));
                }
                let message = describe_send_error(&e, &kind, c.read_timeout());
                let sent = kind != ErrorKind::Connect;
                return Outcome::Retry {
                    reason: message.clone(),
                    throttled: false,
                    error: self.transport_error(kind, message).with_source(e),
                    sent,
                };
            }
        };
        let status = response.status();
        if let Some(d) = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(http_date)
        {
            if let Ok(mut last) = self.last_date.lock() {
                *last = Some(d);
            }
        }
        let header_request_id = ["x-amzn-requestid", "x-amz-request-id"]
            .iter()
            .find_map(|h| response.headers().get(*h))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let hint = response.content_length();
        let mut reader = DeadlineReader {
            inner: &mut response,
            deadline,
        };
        let body = match crate::files::read_capped(&mut reader, self.cap, hint) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Outcome::Fail(self.transport_error(
                    ErrorKind::TooLarge,
                    format!(
                        "the response is larger than {} MiB; refused",
                        self.cap >> 20
                    ),
                ))
            }
            Err(e) => {
                if Instant::now() >= deadline || deadline_passed(&e) {
                    return Outcome::Fail(self.deadline_error().with_source(e));
                }
                let (kind, message) = if timed_out(&e) {
                    (
                        ErrorKind::Timeout,
                        format!(
                            "no more of the response within {}",
                            seconds(c.read_timeout())
                        ),
                    )
                } else {
                    (
                        ErrorKind::CutOff,
                        format!("the response was cut off: {}", io_cause(&e)),
                    )
                };
                return Outcome::Retry {
                    reason: message.clone(),
                    throttled: false,
                    error: self.transport_error(kind, message).with_source(e),
                    sent: true,
                };
            }
        };
        if status.is_success() {
            return Outcome::Done(body);
        }
        match xml::aws_error(&body).or_else(|| json_error(&body)) {
            Some(err) => {
                let throttled =
                    THROTTLING_CODES.contains(&err.code.as_str()) || status.as_u16() == 429;
                let transient =
                    status.is_server_error() || TRANSIENT_CODES.contains(&err.code.as_str());
                let reason = format!("HTTP {} {}", status.as_u16(), err.code);
                let error = Error::aws(err.code, err.message, err.request_id.or(header_request_id));
                if throttled || transient {
                    Outcome::Retry {
                        reason,
                        throttled,
                        error,
                        sent: false,
                    }
                } else {
                    Outcome::Fail(error)
                }
            }
            None => {
                let message = format!(
                    "unexpected HTTP {} answer with no AWS error in it",
                    status.as_u16()
                );
                if status.is_server_error() || status.as_u16() == 429 {
                    Outcome::Retry {
                        reason: format!("HTTP {}", status.as_u16()),
                        throttled: status.as_u16() == 429,
                        error: self.transport_error(ErrorKind::Malformed, message),
                        sent: false,
                    }
                } else if status.as_u16() == 404 {
                    // The endpoint answered, and has nothing at this
                    // action: an answer (exit 5), not a network failure.
                    Outcome::Fail(Error::aws(
                        "HTTP 404",
                        format!(
                            "the endpoint does not know this action ({}; its answer holds no AWS error)",
                            self.config.endpoint()
                        ),
                        header_request_id,
                    ))
                } else {
                    Outcome::Fail(self.transport_error(ErrorKind::Malformed, message))
                }
            }
        }
    }

    /// The call ran out of time: exit 6.
    fn deadline_error(&self) -> Error {
        self.transport_error(
            ErrorKind::Deadline,
            format!(
                "no complete answer within the call's deadline of {}",
                seconds(self.config.deadline())
            ),
        )
    }

    /// A malformed answer: exit 6, naming the endpoint.
    pub(crate) fn malformed(&self, action: &str, why: String) -> Error {
        self.transport_error(
            ErrorKind::Malformed,
            format!("malformed response to {action}: {why}"),
        )
    }
}

/// The content type of a JSON-protocol request (DynamoDB's).
const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Reads a JSON-protocol error answer: `{"__type": "NAMESPACE#Code",
/// "message": "..."}` (or `Message`); the code is what follows the last
/// `#`. `None` when the body is not one.
pub(super) fn json_error(body: &[u8]) -> Option<xml::AwsError> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let kind = v.get("__type")?.as_str()?;
    let code = kind.rsplit_once('#').map_or(kind, |(_, c)| c).trim();
    if code.is_empty() {
        return None;
    }
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default();
    Some(xml::AwsError {
        code: xml::error_code(code),
        message: xml::cut(message.trim().to_string(), xml::MAX_MESSAGE),
        request_id: None,
    })
}

/// The HTTP client every request goes out on: rustls (ring) trusting
/// `ca_bundle` alone when there is one, the proxy
/// variables checked and honoured, the connect and read timeouts, no
/// redirects followed, no retries of reqwest's own. `endpoint` names the
/// endpoint in the error.
fn http_client(
    endpoint: &str,
    connect_timeout: Duration,
    read_timeout: Duration,
    ca_bundle: Option<&std::path::Path>,
) -> Result<reqwest::blocking::Client> {
    let tls = tls_config(ca_bundle).map_err(|e| {
        Error::transport(
            ErrorKind::Certificate,
            endpoint,
            format!("cannot set up the HTTP client: {e}"),
        )
    })?;
    let bypass_proxy = super::config::proxy_env()?;
    let mut builder = reqwest::blocking::Client::builder();
    if bypass_proxy {
        builder = builder.no_proxy();
    }
    builder
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        // The blocking client applies this to getting the response head
        // and to each read of the body: a read timeout.
        .timeout(read_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .user_agent(concat!("handoff/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            let message = format!("cannot set up the HTTP client: {}", root_cause(&e));
            Error::transport(ErrorKind::Connect, endpoint, message).with_source(e)
        })
}

/// What an unsigned GET ([`get_once`]) was answered: the status and the
/// body, read into a zeroizing buffer.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
}

/// One unsigned GET of `url` on the client every AWS request uses
/// ([`http_client`]: rustls, the proxy variables, [`CONNECT_TIMEOUT`],
/// [`READ_TIMEOUT`], no redirects), its answer read up to `cap` bytes and
/// within [`CALL_DEADLINE`]. For endpoints that take no signature (the
/// console's federation endpoint, whose query carries the credentials).
///
/// `url` is a secret: it appears in no message. Errors name `endpoint`
/// (the URL without its query) and say what happened in handoff's words
/// (a transport error ([`Error::is_transport`](crate::Error::is_transport)), exit status 6); any answer, whatever its status,
/// is returned for the caller to judge. Sent once, never retried: each
/// request mints something new, and a person is waiting to try again.
///
/// [`CONNECT_TIMEOUT`]: super::config::CONNECT_TIMEOUT
/// [`READ_TIMEOUT`]: super::config::READ_TIMEOUT
/// [`CALL_DEADLINE`]: super::config::CALL_DEADLINE
pub(crate) fn get_once(url: &str, endpoint: &str, cap: usize) -> Result<Answer> {
    use super::config::{CALL_DEADLINE, CONNECT_TIMEOUT, READ_TIMEOUT};
    // No message is expected to hold the query; should a cause quote the
    // URL all the same, its query is cut out.
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let failed = |kind: ErrorKind, message: String| {
        let message = if query.is_empty() {
            message
        } else {
            redact(message, &[query])
        };
        Error::transport(kind, endpoint, message)
    };
    let deadline_error = || {
        failed(
            ErrorKind::Deadline,
            format!(
                "no complete answer within the call's deadline of {}",
                seconds(CALL_DEADLINE)
            ),
        )
    };
    // AWS_CA_BUNDLE, as for every other AWS call; there is no profile here
    // whose ca_bundle could apply.
    let ca_bundle = std::env::var_os("AWS_CA_BUNDLE")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from);
    let http = http_client(
        endpoint,
        CONNECT_TIMEOUT,
        READ_TIMEOUT,
        ca_bundle.as_deref(),
    )?;
    let deadline = Instant::now() + CALL_DEADLINE;
    let mut response = match http.get(url).send() {
        Ok(r) => r,
        // without_url: reqwest's errors carry the URL, and this one holds
        // the credentials.
        Err(e) => {
            let e = e.without_url();
            if let Some(words) = certificate_error(&e) {
                return Err(
                    failed(ErrorKind::Certificate, format!("cannot connect: {words}"))
                        .with_source(e),
                );
            }
            let kind = send_error_kind(&e);
            let message = describe_send_error(&e, &kind, READ_TIMEOUT);
            return Err(failed(kind, message).with_source(e));
        }
    };
    let status = response.status().as_u16();
    let hint = response.content_length();
    let mut reader = DeadlineReader {
        inner: &mut response,
        deadline,
    };
    match crate::files::read_capped(&mut reader, cap, hint) {
        Ok(Some(body)) => Ok(Answer { status, body }),
        Ok(None) => Err(failed(
            ErrorKind::TooLarge,
            format!("the response is larger than {} KiB; refused", cap >> 10),
        )),
        Err(e) if Instant::now() >= deadline || deadline_passed(&e) => {
            Err(deadline_error().with_source(e))
        }
        Err(e) => Err(failed(
            ErrorKind::CutOff,
            format!("the response was cut off: {}", io_cause(&e)),
        )
        .with_source(e)),
    }
}

/// An HTTP `Date` (RFC 9110's IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(s: &str) -> Option<std::time::SystemTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(s.trim(), &format)
        .ok()?
        .assume_utc();
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    std::time::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// [`Transport::aws_now`] for a given local time and `Date`. A `Date` is
/// whole seconds, floored: AWS's time was somewhere in `[date, date + 1 s)`,
/// so `date + 1 s` is the earliest time certainly not before it.
pub(crate) fn aws_now(
    local: std::time::SystemTime,
    date: Option<std::time::SystemTime>,
) -> (std::time::SystemTime, Option<i64>) {
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let aws = date.map(|d| d + Duration::from_secs(1));
    let later = match aws {
        Some(a) if a > local => a,
        _ => local,
    };
    let d = later
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let up = if d.subsec_nanos() == 0 {
        d.as_secs()
    } else {
        d.as_secs() + 1
    };
    // The skew: how far the local clock is behind the middle of AWS's second.
    let skew = date.map(|d| (secs(d) + 0.5 - secs(local)).round() as i64);
    (std::time::UNIX_EPOCH + Duration::from_secs(up), skew)
}

/// The `verbose` line for a request: service, action, endpoint, signing
/// region, where the credentials came from. Never a body or a header.
fn request_line(c: &ClientConfig, action: &str) -> String {
    format!(
        "handoff: {} {action} -> {} (endpoint from {}, signed for {}, credentials from {})",
        c.service(),
        c.endpoint(),
        c.endpoint_source(),
        c.signing_region(),
        c.credentials_source()
    )
}

/// The `verbose` line for a retry.
fn retry_line(endpoint: &str, reason: &str, delay: Duration, next: u32) -> String {
    format!(
        "handoff: {endpoint}: {reason}; retrying in {} ms (attempt {next} of {MAX_ATTEMPTS})",
        delay.as_millis()
    )
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The kind of transport failure a request that got no answer is, from
/// reqwest's own classification and the I/O errors in its chain: a
/// connection that was never made is [`ErrorKind::Connect`] (even when it
/// timed out: nothing was sent), no answer in time [`ErrorKind::Timeout`],
/// anything else (reset, closed) [`ErrorKind::CutOff`].
fn send_error_kind(e: &reqwest::Error) -> ErrorKind {
    if e.is_connect() {
        ErrorKind::Connect
    } else if timed_out(e) {
        ErrorKind::Timeout
    } else {
        ErrorKind::CutOff
    }
}

/// A short description of why a request got no answer (its `kind`, from
/// [`send_error_kind`]), without the URL (the error adds the endpoint) and
/// without anything from the request.
fn describe_send_error(e: &reqwest::Error, kind: &ErrorKind, read_timeout: Duration) -> String {
    let cause = || match find_tls(e) {
        Some(tls) => tls_words(tls).to_string(),
        None => root_cause(e),
    };
    match kind {
        ErrorKind::Connect if timed_out(e) => "cannot connect: timed out".to_string(),
        ErrorKind::Connect => format!("cannot connect: {}", cause()),
        ErrorKind::Timeout => format!("no answer within {}", seconds(read_timeout)),
        _ => format!("the request failed: {}", cause()),
    }
}

/// Every error in `e`'s chain, `e` first, with the errors an
/// [`std::io::Error`] wraps (which its `source()` skips).
fn chain<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> Vec<&'e (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(err) = stack.pop() {
        out.push(err);
        if let Some(next) = err.source() {
            stack.push(next);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            stack.push(inner);
        }
    }
    out
}

/// Whether `e` is, or was caused by, a timeout: reqwest's (its own timer,
/// or hyper's), or an I/O error of kind `TimedOut` (the system's connect or
/// read timeout). Told from the types in the chain, never from their text.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    chain(e).into_iter().any(|err| {
        err.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
            || err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}

/// Whether a read of an answer stopped because [`DeadlineReader`] found
/// the call's deadline passed.
fn deadline_passed(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<DeadlinePassed>())
}

/// Stops reading an answer once the call's deadline has passed: a server
/// that drips a byte at a time never lets the read timeout fire.
struct DeadlineReader<'r, R> {
    inner: &'r mut R,
    deadline: Instant,
}

/// The error [`DeadlineReader`] returns.
#[derive(Debug)]
struct DeadlinePassed;

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call's deadline passed")
    }
}

impl std::error::Error for DeadlinePassed {}

impl<R: Read> Read for DeadlineReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() >= self.deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                DeadlinePassed,
            ));
        }
        self.inner.read(buf)
    }
}

/// The innermost cause's message: "Connection refused (os error 111)".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    super::xml::cut(cur.to_string(), 200)
}

fn io_cause(e: &std::io::Error) -> String {
    match e.get_ref() {
        Some(inner) => root_cause(inner),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Credentials;
    use std::time::SystemTime;

    #[test]
    fn backoff_is_bounded_and_grows() {
        for n in 1..=5 {
            for throttled in [false, true] {
                let d = backoff(n, throttled);
                assert!(d <= BACKOFF_CAP, "{d:?}");
            }
        }
        assert!(backoff(1, false) <= Duration::from_millis(100));
        assert!(backoff(2, false) <= Duration::from_millis(200));
        assert!(backoff(1, true) <= Duration::from_millis(500));
        let j: Vec<f64> = (0..20).map(|_| jitter()).collect();
        assert!(j.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(j.windows(2).any(|w| w[0] != w[1]), "jitter is constant");
    }

    #[test]
    fn verbose_lines_name_the_endpoint_and_nothing_secret() {
        let creds = Credentials::new(
            "ASIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            Some("SESSIONTOKENEXAMPLE".into()),
            None,
        );
        let settings = super::super::config::Settings {
            endpoint_url: Some("http://127.0.0.1:9".into()),
            region: Some("eu-west-1".into()),
            verbose: true,
            ..Default::default()
        };
        let c = settings.resolve_with(Service::Sts, creds).unwrap();
        let line = request_line(&c, "GetFederationToken");
        assert_eq!(
            line,
            "handoff: sts GetFederationToken -> http://127.0.0.1:9/ (endpoint from --endpoint-url, signed for eu-west-1, credentials from given)"
        );
        let line = retry_line(
            c.endpoint(),
            "HTTP 503 ServiceUnavailable",
            Duration::from_millis(87),
            2,
        );
        assert_eq!(
            line,
            "handoff: http://127.0.0.1:9/: HTTP 503 ServiceUnavailable; retrying in 87 ms (attempt 2 of 3)"
        );
    }

    #[test]
    fn aws_time_is_the_later_clock_rounded_up() {
        let t = |s: &str| clock::parse_rfc3339(s).unwrap();
        let date = http_date("Wed, 02 Dec 2026 15:00:00 GMT").unwrap();
        assert_eq!(date, t("2026-12-02T15:00:00Z"));
        assert_eq!(http_date("Wed, 02 Dec 2026 15:00:00 UTC"), None);
        assert_eq!(http_date("yesterday"), None);
        // A local clock four minutes slow: AWS's time, plus the second
        // the Date header floors away.
        let (at, skew) = aws_now(t("2026-12-02T14:56:00.250Z"), Some(date));
        assert_eq!(at, t("2026-12-02T15:00:01Z"));
        assert_eq!(skew, Some(240));
        // A local clock ahead: the local time, rounded up.
        let (at, skew) = aws_now(t("2026-12-02T15:01:00.001Z"), Some(date));
        assert_eq!(at, t("2026-12-02T15:01:01Z"));
        assert_eq!(skew, Some(-60));
        // No Date: the local clock, rounded up; a whole second stays.
        let (at, skew) = aws_now(t("2026-12-02T15:00:00Z"), None);
        assert_eq!((at, skew), (t("2026-12-02T15:00:00Z"), None));
    }

    #[test]
    fn certificate_errors_are_said_in_words() {
        use rustls::CertificateError as C;
        for (e, want) in [
            (
                C::UnknownIssuer,
                "is not signed by an authority this system trusts",
            ),
            (C::Expired, "has expired"),
            (C::NotValidForName, "is not valid for this host name"),
            (C::BadEncoding, "is malformed"),
            (C::Revoked, "has been revoked"),
        ] {
            let words = certificate_error(&rustls::Error::InvalidCertificate(e)).unwrap();
            assert!(words.starts_with("the server's certificate "), "{words}");
            assert!(words.ends_with(want), "{words}");
        }
        // webpki's error inside rustls's, told by its type.
        let ca = rustls::Error::InvalidCertificate(C::Other(rustls::OtherError(
            std::sync::Arc::new(webpki::Error::CaUsedAsEndEntity),
        )));
        assert_eq!(
            certificate_error(&ca).as_deref(),
            Some("the server's certificate is a certificate authority's, not a server's")
        );
        let other = rustls::Error::InvalidCertificate(C::Other(rustls::OtherError(
            std::sync::Arc::new(webpki::Error::BadDer),
        )));
        assert_eq!(
            certificate_error(&other).as_deref(),
            Some("the server's certificate was refused")
        );
        let wrapped = std::io::Error::other(rustls::Error::NoCertificatesPresented);
        assert_eq!(
            certificate_error(&wrapped).as_deref(),
            Some("the server presented no certificate")
        );
        assert_eq!(certificate_error(&rustls::Error::DecryptError), None);
    }

    #[test]
    fn secrets_are_redacted_wherever_they_appear() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let text = format!("{secret} and again {secret}; code 654321, key s");
        let out = redact(text, &[secret, "654321", "s"]);
        assert_eq!(
            out,
            "[redacted] and again [redacted]; code [redacted], key s"
        );
        let e = redact_error(Error::aws("X", format!("token {secret}"), None), &[secret]);
        assert!(!e.to_string().contains(secret), "{e}");
    }

    #[test]
    fn json_errors_give_the_short_code() {
        let e = json_error(
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
        )
        .unwrap();
        assert_eq!(e.code, "ConditionalCheckFailedException");
        assert_eq!(e.message, "The conditional request failed");
        let e = json_error(br#"{"__type":"ValidationException","Message":"bad"}"#).unwrap();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ValidationException", "bad")
        );
        // A long code is cut, and what is left trimmed again.
        let long = format!(r#"{{"__type":"x#{} y","message":"m"}}"#, "A".repeat(127));
        let e = json_error(long.as_bytes()).unwrap();
        assert_eq!(e.code, "A".repeat(127));
        assert!(json_error(b"{}").is_none());
        assert!(json_error(b"<Error/>").is_none());
    }

    #[test]
    fn form_requests_put_action_and_version_first() {
        let r = form_request(
            "https://sts.amazonaws.com/",
            &[
                ("Action", "GetFederationToken"),
                ("Version", "2011-06-15"),
                ("Name", "Bob Smith"),
                ("Policy", r#"{"a":"b/c*"}"#),
                ("Tag.1.Value", "é~-_."),
            ],
        );
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "Action=GetFederationToken&Version=2011-06-15&Name=Bob%20Smith\
             &Policy=%7B%22a%22%3A%22b%2Fc%2A%22%7D&Tag.1.Value=%C3%A9~-_."
        );
        assert_eq!(r.headers, vec![("content-type", FORM_CONTENT_TYPE)]);
    }

    /// The AWS SigV4 suite cases in fixtures/aws/sigv4 (see its
    /// PROVENANCE.txt), through our signing function: the Authorization
    /// header must be the suite's, byte for byte.
    mod sigv4_suite {
        use super::*;
        use std::path::PathBuf;

        const AKID: &str = "AKIDEXAMPLE";
        const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

        fn dir() -> PathBuf {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/aws/sigv4")
        }

        fn read(case: &str, ext: &str) -> String {
            let p = dir().join(case).join(format!("{case}.{ext}"));
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        }

        fn time() -> SystemTime {
            clock::parse_rfc3339("2015-08-30T12:36:00Z").unwrap()
        }

        fn credentials(token: Option<&str>) -> Credentials {
            Credentials::new(AKID, SECRET.into(), token.map(Into::into), None)
        }

        /// `METHOD PATH HTTP/1.1`, `Name:value` lines, a blank line, the body.
        /// `X-Amz-Date` and `X-Amz-Security-Token` are left out: the signer
        /// adds them from the time and the credentials.
        fn parse_req(text: &str) -> (String, String, Vec<(String, String)>, Vec<u8>) {
            let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
            let mut lines = head.lines();
            let first = lines.next().unwrap();
            let mut parts = first.split(' ');
            let method = parts.next().unwrap().to_string();
            let path = parts.next().unwrap().to_string();
            let headers = lines
                .map(|l| l.split_once(':').unwrap())
                .filter(|(k, _)| {
                    !k.eq_ignore_ascii_case("x-amz-date")
                        && !k.eq_ignore_ascii_case("x-amz-security-token")
                })
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (method, path, headers, body.as_bytes().to_vec())
        }

        fn authorization(signed: &[SignedHeader]) -> String {
            let names: Vec<&str> = signed.iter().map(|h| h.name).collect();
            signed
                .iter()
                .find(|h| h.name == "authorization")
                .map(|h| h.value.to_string())
                .unwrap_or_else(|| panic!("no authorization header among {names:?}"))
        }

        fn run(case: &str, token: Option<&str>) {
            let (method, path, headers, body) = parse_req(&read(case, "req"));
            let url = format!("https://example.amazonaws.com{path}");
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let signed = sign(
                &method,
                &url,
                &headers,
                &body,
                &credentials(token),
                "us-east-1",
                "service",
                time(),
            )
            .unwrap();
            assert_eq!(authorization(&signed), read(case, "authz").trim(), "{case}");
            let date = signed.iter().find(|h| h.name == "x-amz-date").unwrap();
            assert_eq!(date.value.as_str(), "20150830T123600Z");
            let token_header = signed.iter().find(|h| h.name == "x-amz-security-token");
            assert_eq!(token_header.map(|h| h.value.as_str()), token, "{case}");
            if let Some(h) = token_header {
                assert!(h.sensitive);
            }
        }

        #[test]
        fn plain_requests() {
            for case in [
                "get-vanilla",
                "post-vanilla",
                "get-vanilla-query-order-key-case",
                "get-vanilla-query-unreserved",
                "get-vanilla-utf8-query",
                "post-vanilla-query",
                "post-header-key-sort",
                "post-header-value-case",
                "post-x-www-form-urlencoded",
                "post-x-www-form-urlencoded-parameters",
            ] {
                run(case, None);
            }
        }

        #[test]
        fn requests_with_a_session_token() {
            let readme =
                std::fs::read_to_string(dir().join("post-sts-header-before/readme.txt")).unwrap();
            let token = readme.trim().lines().last().unwrap().trim();
            assert!(token.starts_with("AQoDYXdzEPT") && token.ends_with("=="));
            run("post-sts-header-before", Some(token));
            run(
                "get-vanilla-with-session-token",
                Some("6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"),
            );
        }

        /// Our own Query API request building (form body, content type) for
        /// the suite's form POST, then signing: the glue end to end.
        #[test]
        fn our_form_request() {
            let r = form_request("https://example.amazonaws.com/", &[("Param1", "value1")]);
            assert_eq!(
                r.body,
                read("post-x-www-form-urlencoded", "req")
                    .split_once("\n\n")
                    .unwrap()
                    .1
                    .as_bytes()
            );
            let signed = sign(
                "POST",
                &r.url,
                &r.headers,
                &r.body,
                &credentials(None),
                "us-east-1",
                "service",
                time(),
            )
            .unwrap();
            assert_eq!(
                authorization(&signed),
                read("post-x-www-form-urlencoded", "authz").trim()
            );
            assert!(signed.iter().all(|h| h.name != "x-amz-security-token"));
        }

        /// Signing is a pure function: same inputs, same headers; any input
        /// changed, a different signature.
        #[test]
        fn signing_is_pure() {
            let r = form_request(
                "https://sts.amazonaws.com/",
                &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
            );
            let go = |body: &[u8], t: SystemTime, region: &str, token: Option<&str>| {
                authorization(
                    &sign(
                        "POST",
                        &r.url,
                        &r.headers,
                        body,
                        &credentials(token),
                        region,
                        "sts",
                        t,
                    )
                    .unwrap(),
                )
            };
            let base = go(&r.body, time(), "us-east-1", None);
            assert_eq!(base, go(&r.body, time(), "us-east-1", None));
            assert_ne!(
                base,
                go(b"Action=GetCallerIdentity", time(), "us-east-1", None)
            );
            assert_ne!(
                base,
                go(&r.body, time() + Duration::from_secs(1), "us-east-1", None)
            );
            assert_ne!(base, go(&r.body, time(), "eu-west-1", None));
            assert_ne!(base, go(&r.body, time(), "us-east-1", Some("tok")));
        }
    }
}
