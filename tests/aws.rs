//! The `aws` module against real parts: moto (the AWS emulator) for STS and
//! EC2, moto's IAM mode for signatures and policies, and tiny loopback
//! servers for the faults moto cannot produce. Nothing here leaves the
//! loopback interface; AWS settings are passed through `Settings` or set on
//! child processes only, never read from the developer's own files.
#![cfg(feature = "aws")]

mod common;
#[path = "../src/bin/handoff/errors.rs"]
#[allow(dead_code)]
mod errors;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime};

use common::moto::{free_port, Moto};
use handoff::aws::{AssumeRoleRequest, DescribeImages, Ec2, Mfa, Service, Settings, Sts};
use handoff::secrecy::ExposeSecret;
use handoff::{
    open, seal, Credentials, Error, ErrorKind, Form, Identities, Kind, Policy, Recipients, Token,
};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

/// Loopback never goes through a proxy the developer may have configured.
/// Set once, before any test builds a client (every test calls this first,
/// so no test thread reads the environment while it changes).
fn loopback_only() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut np = std::env::var("NO_PROXY").unwrap_or_default();
        if !np.is_empty() {
            np.push(',');
        }
        np.push_str("127.0.0.1,localhost");
        std::env::set_var("NO_PROXY", np);
    });
}

fn settings(url: &str) -> Settings {
    Settings {
        endpoint_url: Some(url.to_string()),
        region: Some(REGION.to_string()),
        ..Settings::default()
    }
}

fn keys(akid: &str, secret: &str) -> Credentials {
    Credentials::new(akid, secret.into(), None, None)
}

fn sts_at(url: &str, creds: Credentials) -> Sts {
    Sts::new(settings(url).resolve_with(Service::Sts, creds).unwrap()).unwrap()
}

fn within(t: Option<SystemTime>, from_now: Duration) {
    let t = t.expect("an expiration");
    let want = SystemTime::now() + from_now;
    let diff = match t.duration_since(want) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(
        diff < Duration::from_secs(120),
        "expiration off by {diff:?}"
    );
}

#[track_caller]
fn aws_error(e: &Error) -> (&str, &str) {
    match e.kind() {
        ErrorKind::Aws { code, message, .. } => (code.as_str(), message.as_str()),
        other => panic!("expected an AWS error, got {other:?}"),
    }
}

#[track_caller]
fn transport_error(e: &Error) -> &str {
    match e {
        _ if e.is_transport() => e.message(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn policy() -> Policy {
    Policy::new().allow("DescribeImages").allow("RunInstances")
}

// ---------------------------------------------------------------------------
// STS against moto

#[test]
fn sts_calls_against_moto() {
    loopback_only();
    let moto = Moto::start();
    let sts = sts_at(&moto.url, keys(AKID, SECRET));

    // GetFederationToken with a policy.
    let p = policy();
    let t = sts
        .get_federation_token(
            "TemporaryUser",
            Some(&p),
            Some(Duration::from_secs(3 * 3600)),
        )
        .unwrap();
    assert_eq!(t.kind(), Kind::Federation);
    let u = t.federated_user().unwrap();
    assert_eq!(
        u.arn,
        format!("arn:aws:sts::{ACCOUNT}:federated-user/TemporaryUser")
    );
    assert_eq!(u.federated_user_id, format!("{ACCOUNT}:TemporaryUser"));
    assert!(t.packed_policy_size().unwrap() > 0);
    within(t.expiration(), Duration::from_secs(3 * 3600));
    assert_eq!(t.policy(), Some(p.to_string().as_str()));
    assert_eq!(t.region(), Some(REGION));
    assert!(t.issued_at().is_some());
    assert!(!t.secret_access_key().expose_secret().is_empty());
    assert!(t.session_token().is_some());

    // GetSessionToken with MFA.
    let mfa = Mfa {
        serial: format!("arn:aws:iam::{ACCOUNT}:mfa/alice"),
        code: "123456".into(),
    };
    let t = sts
        .get_session_token(Some(Duration::from_secs(900)), Some(&mfa))
        .unwrap();
    assert_eq!(t.kind(), Kind::Session);
    assert!(t.federated_user().is_none() && t.assumed_role_user().is_none());
    within(t.expiration(), Duration::from_secs(900));
    assert!(t.session_token().is_some());

    // AssumeRole, with and without a session name.
    let mut req = AssumeRoleRequest::new(format!("arn:aws:iam::{ACCOUNT}:role/demo"));
    req.session_name = Some("handoff-test".into());
    req.external_id = Some("shared-secret-id".into());
    req.policy = Some(Policy::new().allow("DescribeImages"));
    req.duration = Some(Duration::from_secs(1800));
    let t = sts.assume_role(&req).unwrap();
    assert_eq!(t.kind(), Kind::Role);
    let u = t.assumed_role_user().unwrap();
    assert_eq!(
        u.arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/demo/handoff-test")
    );
    assert!(
        u.assumed_role_id.ends_with(":handoff-test"),
        "{}",
        u.assumed_role_id
    );
    within(t.expiration(), Duration::from_secs(1800));
    assert!(t.policy().is_some());

    let t = sts
        .assume_role(&AssumeRoleRequest::new(format!(
            "arn:aws:iam::{ACCOUNT}:role/demo"
        )))
        .unwrap();
    let arn = &t.assumed_role_user().unwrap().arn;
    assert!(arn.contains(":assumed-role/demo/handoff-"), "{arn}");

    // GetCallerIdentity.
    let me = sts.get_caller_identity().unwrap();
    assert_eq!(me.account, ACCOUNT);
    assert!(me.arn.starts_with("arn:aws:"), "{}", me.arn);
}

// ---------------------------------------------------------------------------
// EC2 against moto, with a token that went through seal and open

#[test]
fn ec2_calls_with_an_opened_token() {
    loopback_only();
    let moto = Moto::start();
    let sts = sts_at(&moto.url, keys(AKID, SECRET));
    let minted = sts
        .get_federation_token("TemporaryUser", Some(&policy()), None)
        .unwrap();

    // Seal to a fresh key and open as the recipient.
    let key = handoff::age::x25519::Identity::generate();
    let mut to = Recipients::new();
    to.add(&key.to_public().to_string()).unwrap();
    let sealed = seal(&minted, &to, Form::Armor).unwrap();
    let mut ids = Identities::new();
    ids.add_text(key.to_string().expose_secret(), "test key")
        .unwrap();
    let token = open(&sealed, &ids).unwrap();
    assert_eq!(token.access_key_id(), minted.access_key_id());
    assert_eq!(token.region(), Some(REGION));

    let ec2 = token
        .new_ec2_with(&Settings {
            endpoint_url: Some(moto.url.clone()),
            ..Settings::default()
        })
        .unwrap();
    assert_eq!(ec2.config().region(), Some(REGION), "region from the token");

    let zones = ec2.describe_availability_zones().unwrap();
    assert!(zones.len() >= 3, "{zones:?}");
    assert!(zones
        .iter()
        .all(|z| z.region_name == REGION && z.state == "available"));
    assert!(zones.iter().any(|z| z.zone_name == "us-east-1a"));

    let regions = ec2.describe_regions().unwrap();
    assert!(regions
        .iter()
        .any(|r| r.region_name == "eu-west-1" && r.endpoint == "ec2.eu-west-1.amazonaws.com"));

    // Nothing of our own yet.
    assert!(ec2
        .describe_images(&DescribeImages::owned_by("self"))
        .unwrap()
        .is_empty());

    // Make an image with the generic call, then find it the typed way.
    let params = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let amazon = ec2
        .describe_images(&DescribeImages::owned_by("amazon"))
        .unwrap();
    let base = &amazon.first().expect("moto has Amazon images").image_id;
    let run = ec2
        .call(
            "RunInstances",
            &params(&[("ImageId", base), ("MinCount", "1"), ("MaxCount", "1")]),
        )
        .unwrap();
    let instance = run["InstancesSet"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(instance.starts_with("i-"), "{run}");
    let made = ec2
        .call(
            "CreateImage",
            &params(&[
                ("InstanceId", &instance),
                ("Name", "handoff-test-image"),
                ("Description", "made by tests/aws.rs"),
            ]),
        )
        .unwrap();
    let image_id = made["ImageId"].as_str().unwrap().to_string();

    let mine = ec2
        .describe_images(&DescribeImages::owned_by("self"))
        .unwrap();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].image_id, image_id);
    assert_eq!(mine[0].name.as_deref(), Some("handoff-test-image"));
    assert_eq!(mine[0].owner_id, ACCOUNT);
    let by_filter = ec2
        .describe_images(&DescribeImages {
            owners: vec!["self".into()],
            image_ids: vec![image_id.clone()],
            filters: vec![("name".into(), vec!["handoff-test-*".into(), "other".into()])],
        })
        .unwrap();
    assert_eq!(by_filter.len(), 1);

    // The generic call, as JSON.
    let json = ec2
        .call("DescribeImages", &params(&[("Owner.1", "self")]))
        .unwrap();
    assert!(json["RequestId"].is_string(), "{json}");
    assert_eq!(json["ImagesSet"][0]["ImageId"], image_id.as_str());
    assert!(!json.to_string().contains("xmlns"));

    // An AWS error through the generic call: exit 5, code and message kept.
    let e = ec2
        .call(
            "DescribeImages",
            &params(&[("ImageId.1", "ami-00000000000000000")]),
        )
        .unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5);
    assert_eq!(aws_error(&e).0, "InvalidAMIID.NotFound");

    // Bad action names and reserved parameters are refused before any request.
    for (action, p) in [
        ("", vec![]),
        ("Describe Images", vec![]),
        ("DescribeImages", params(&[("Action", "RunInstances")])),
        ("DescribeImages", params(&[("Version", "2010-01-01")])),
    ] {
        assert_eq!(
            errors::exit_status(ec2.call(action, &p).unwrap_err().kind()),
            2,
            "{action} {p:?}"
        );
    }
}

#[test]
fn new_ec2_takes_region_from_settings_over_the_token() {
    loopback_only();
    let creds = Credentials::new(AKID, SECRET.into(), Some("token".into()), None);
    let token = Token::new(Kind::Session, creds.clone()).with_region("eu-west-1");
    let s = Settings {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        ..Settings::default()
    };
    assert_eq!(
        token.new_ec2_with(&s).unwrap().config().region(),
        Some("eu-west-1")
    );
    let s2 = Settings {
        region: Some("ap-southeast-2".into()),
        ..s.clone()
    };
    let ec2 = token.new_ec2_with(&s2).unwrap();
    assert_eq!(ec2.config().region(), Some("ap-southeast-2"));
    assert_eq!(ec2.config().signing_region(), "ap-southeast-2");
    let ec2 = creds.new_ec2(&s2).unwrap();
    assert_eq!(ec2.config().endpoint(), "http://127.0.0.1:9/");
    // Debug shows who, never the secrets.
    let d = format!("{ec2:?}");
    assert!(
        d.contains(AKID) && !d.contains("EXAMPLEKEY") && !d.contains("\"token\""),
        "{d}"
    );
    // A configuration for one service does not make a client for the other.
    let sts_config = s2.resolve_with(Service::Sts, creds.clone()).unwrap();
    assert_eq!(
        errors::exit_status(Ec2::new(sts_config).unwrap_err().kind()),
        2
    );
    let ec2_config = s2.resolve_with(Service::Ec2, creds).unwrap();
    assert_eq!(
        errors::exit_status(Sts::new(ec2_config).unwrap_err().kind()),
        2
    );
}

// ---------------------------------------------------------------------------
// Argument rules: refused with exit 2 before any request

#[test]
fn bad_arguments_are_refused_before_any_request() {
    loopback_only();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sts = sts_at(&url, keys(AKID, SECRET));
    let d = Duration::from_secs;
    let role = |arn: &str| AssumeRoleRequest::new(arn);
    let good_role = format!("arn:aws:iam::{ACCOUNT}:role/demo");
    let huge = (0..120).fold(Policy::new(), |p, i| {
        p.allow(&format!("s3:GetObjectNumber{i}"))
    });

    let cases: Vec<(&str, Error, &str)> = vec![
        (
            "short name",
            sts.get_federation_token("a", None, None).unwrap_err(),
            "2 to 32",
        ),
        (
            "name with a space",
            sts.get_federation_token("Temporary User", None, None)
                .unwrap_err(),
            "2 to 32",
        ),
        (
            "long name",
            sts.get_federation_token(&"x".repeat(33), None, None)
                .unwrap_err(),
            "2 to 32",
        ),
        (
            "federation too short",
            sts.get_federation_token("TemporaryUser", None, Some(d(899)))
                .unwrap_err(),
            "900 to 129600",
        ),
        (
            "federation too long",
            sts.get_federation_token("TemporaryUser", None, Some(d(129_601)))
                .unwrap_err(),
            "900 to 129600",
        ),
        (
            "policy too large",
            sts.get_federation_token("TemporaryUser", Some(&huge), None)
                .unwrap_err(),
            "at most 2048",
        ),
        (
            "session too long",
            sts.get_session_token(Some(d(200_000)), None).unwrap_err(),
            "900 to 129600",
        ),
        (
            "mfa code",
            sts.get_session_token(
                None,
                Some(&Mfa {
                    serial: format!("arn:aws:iam::{ACCOUNT}:mfa/alice"),
                    code: "97531".into(),
                }),
            )
            .unwrap_err(),
            "6 digits",
        ),
        (
            "mfa serial",
            sts.get_session_token(
                None,
                Some(&Mfa {
                    serial: "x".into(),
                    code: "123456".into(),
                }),
            )
            .unwrap_err(),
            "MFA serial",
        ),
        (
            "role arn",
            sts.assume_role(&role("demo")).unwrap_err(),
            "not a role ARN",
        ),
        (
            "user arn",
            sts.assume_role(&role(&format!("arn:aws:iam::{ACCOUNT}:user/alice")))
                .unwrap_err(),
            "not a role ARN",
        ),
        (
            "session name",
            sts.assume_role(&AssumeRoleRequest {
                session_name: Some("x".into()),
                ..role(&good_role)
            })
            .unwrap_err(),
            "2 to 64",
        ),
        (
            "external id",
            sts.assume_role(&AssumeRoleRequest {
                external_id: Some("has space".into()),
                ..role(&good_role)
            })
            .unwrap_err(),
            "external id",
        ),
        (
            "role too long",
            sts.assume_role(&AssumeRoleRequest {
                duration: Some(d(43_201)),
                ..role(&good_role)
            })
            .unwrap_err(),
            "900 to 43200",
        ),
        (
            "role policy too large",
            sts.assume_role(&AssumeRoleRequest {
                policy: Some(huge.clone()),
                ..role(&good_role)
            })
            .unwrap_err(),
            "at most 2048",
        ),
    ];
    for (what, e, rule) in cases {
        assert_eq!(errors::exit_status(e.kind()), 2, "{what}: {e}");
        assert!(
            e.to_string().contains(rule),
            "{what}: {e:?} should name {rule:?}"
        );
        assert!(
            !e.to_string().contains("97531"),
            "{what}: the MFA code is repeated: {e}"
        );
    }
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a request was made: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// moto's IAM mode: real signature and policy checks

#[test]
fn iam_mode_checks_signatures_and_policies() {
    loopback_only();
    let moto = Moto::start_iam(5);
    let home = tempfile::tempdir().unwrap();
    let (id, secret) = moto.create_alice(home.path());
    let (id, secret) = (id.as_str(), secret.as_str());

    // alice's keys mint.
    let sts = sts_at(&moto.url, keys(id, secret));
    let me = sts.get_caller_identity().unwrap();
    assert_eq!(me.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    let t = sts
        .get_federation_token(
            "TemporaryUser",
            Some(&policy()),
            Some(Duration::from_secs(3600)),
        )
        .unwrap();
    assert!(t.federated_user().is_some());

    // A wrong secret is refused by the signature check: exit 5.
    let mut wrong = secret.to_string();
    wrong.replace_range(..1, if wrong.starts_with('A') { "B" } else { "A" });
    let e = sts_at(&moto.url, keys(id, &wrong))
        .get_federation_token("TemporaryUser", Some(&policy()), None)
        .unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5, "{e}");
    assert_eq!(aws_error(&e).0, "SignatureDoesNotMatch");
    assert!(!e.to_string().contains(&wrong) && !e.to_string().contains(secret));

    // An assumed-role token: its session token is signed along, and the
    // role's policy is enforced per action.
    let role = sts
        .assume_role(&AssumeRoleRequest::new(format!(
            "arn:aws:iam::{ACCOUNT}:role/limited"
        )))
        .unwrap();
    let ec2 = role
        .new_ec2_with(&Settings {
            endpoint_url: Some(moto.url.clone()),
            ..Settings::default()
        })
        .unwrap();
    let zones = ec2.describe_availability_zones().unwrap();
    assert!(!zones.is_empty());
    let e = ec2
        .describe_images(&DescribeImages::owned_by("self"))
        .unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5, "{e}");
    let (code, message) = aws_error(&e);
    assert!(
        code == "AccessDenied" || code == "UnauthorizedOperation",
        "{code}: {message}"
    );
    assert!(message.contains("ec2:DescribeImages"), "{message}");

    // The same role credentials without their session token are not valid.
    let bare = Credentials::new(
        role.access_key_id(),
        role.secret_access_key().clone(),
        None,
        None,
    );
    let e = bare
        .new_ec2(&settings(&moto.url))
        .unwrap()
        .describe_availability_zones()
        .unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5, "{e}");
}

// ---------------------------------------------------------------------------
// Faults, from tiny loopback servers

/// What a fake server does with one connection.
#[derive(Clone)]
enum Reply {
    /// Answers with this status and body.
    Http(u16, Vec<u8>),
    /// Reads the request and says nothing for this long.
    Silent(Duration),
    /// Reads the request and closes the connection without a word.
    Hangup,
    /// Answers 200 with a body of this many bytes, streamed.
    Huge(usize),
    /// Answers 200 with a head that promises 2 GiB, then sends a byte every
    /// 50 ms for up to this long.
    Drip(Duration),
    /// Answers 200 with a head that promises 1000 bytes, sends 10 and
    /// closes the connection.
    Cut,
    /// Answers 200 with a head that promises 1000 bytes, sends 10, then
    /// says nothing more for this long.
    Stall(Duration),
}

/// A server on a loopback port that plays `replies`, one per connection,
/// and keeps the requests it got.
struct Fake {
    url: String,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn fake(replies: Vec<Reply>) -> Fake {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (h, r) = (hits.clone(), requests.clone());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut replies = replies.into_iter();
        while Instant::now() < deadline {
            let (mut s, _) = match listener.accept() {
                Ok(c) => c,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
            };
            let Some(reply) = replies.next() else { break };
            let (h, r) = (h.clone(), r.clone());
            // One thread per connection: a silent one must not hold up the next.
            std::thread::spawn(move || {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let request = read_request(&mut s);
                h.fetch_add(1, Ordering::SeqCst);
                r.lock().unwrap().push(request);
                let _ = match reply {
                    Reply::Http(status, body) => respond(&mut s, status, &body),
                    Reply::Silent(d) => {
                        std::thread::sleep(d);
                        Ok(())
                    }
                    Reply::Hangup => Ok(()),
                    Reply::Huge(n) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n"
                        );
                        let chunk = vec![b'x'; 64 << 10];
                        let mut sent = 0;
                        let mut res = s.write_all(head.as_bytes());
                        while res.is_ok() && sent < n {
                            let k = chunk.len().min(n - sent);
                            res = s.write_all(&chunk[..k]);
                            sent += k;
                        }
                        res
                    }
                    Reply::Drip(d) => {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 2147483648\r\n\r\n<";
                        let until = Instant::now() + d;
                        let mut res = s.write_all(head.as_bytes());
                        while res.is_ok() && Instant::now() < until {
                            std::thread::sleep(Duration::from_millis(50));
                            res = s.write_all(b"x");
                        }
                        res
                    }
                    Reply::Cut => s.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n<Response",
                    ),
                    Reply::Stall(d) => {
                        let res = s.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<Response",
                        );
                        std::thread::sleep(d);
                        res
                    }
                };
            });
        }
    });
    Fake {
        url,
        hits,
        requests,
    }
}

fn read_request(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = s.read_exact(&mut body);
    head + &String::from_utf8_lossy(&body)
}

fn respond(s: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nx-amzn-RequestId: hdr-request-id\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)
}

const IDENTITY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDACKCEVSQ6C2EXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

fn sts_error(code: &str, message: &str) -> Vec<u8> {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-{code}</RequestId></ErrorResponse>"
    )
    .into_bytes()
}

fn ok_identity() -> Reply {
    Reply::Http(200, IDENTITY.as_bytes().to_vec())
}

fn quick(url: &str) -> Sts {
    let config = settings(url)
        .resolve_with(Service::Sts, keys(AKID, SECRET))
        .unwrap()
        .with_read_timeout(Duration::from_millis(500));
    Sts::new(config).unwrap()
}

#[test]
fn requests_are_signed_form_posts() {
    loopback_only();
    let f = fake(vec![ok_identity(), ok_identity()]);
    let me = quick(&f.url).get_caller_identity().unwrap();
    assert_eq!(me.account, ACCOUNT);
    let temporary = Credentials::new(
        "ASIAIOSFODNN7EXAMPLE",
        SECRET.into(),
        Some("SESSIONTOKENEXAMPLE".into()),
        None,
    );
    sts_at(&f.url, temporary).get_caller_identity().unwrap();
    let reqs = f.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        let lower = r.to_ascii_lowercase();
        assert!(r.starts_with("POST / HTTP/1.1\r\n"), "{r}");
        assert!(
            lower.contains("content-type: application/x-www-form-urlencoded\r\n"),
            "{r}"
        );
        assert!(lower.contains("\r\nx-amz-date: "), "{r}");
        assert!(
            r.ends_with("\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15"),
            "{r}"
        );
        assert!(!r.contains(SECRET), "the secret went on the wire: {r}");
    }
    let auth = |r: &str| {
        r.lines()
            .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
            .unwrap()
            .to_string()
    };
    let a0 = auth(&reqs[0]);
    assert!(
        a0.contains("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/")
            && a0.contains("/us-east-1/sts/aws4_request")
            && a0.contains("SignedHeaders=content-type;host;x-amz-date,"),
        "{a0}"
    );
    let a1 = auth(&reqs[1]);
    assert!(
        a1.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"),
        "{a1}"
    );
    assert!(reqs[1]
        .to_ascii_lowercase()
        .contains("\r\nx-amz-security-token: sessiontokenexample\r\n"));
    assert!(!reqs[0]
        .to_ascii_lowercase()
        .contains("x-amz-security-token"));
}

#[test]
fn a_500_is_retried_and_then_succeeds() {
    loopback_only();
    let f = fake(vec![
        Reply::Http(500, sts_error("InternalError", "try again")),
        Reply::Http(503, b"<html>Service Unavailable</html>".to_vec()),
        ok_identity(),
    ]);
    let me = quick(&f.url).get_caller_identity().unwrap();
    assert_eq!(me.arn, format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
}

#[test]
fn retries_stop_after_three_attempts() {
    loopback_only();
    let f = fake(vec![
        Reply::Http(500, sts_error("InternalError", "down"));
        5
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5, "{e}");
    assert_eq!(aws_error(&e), ("InternalError", "down"));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);

    // 5xx without an AWS error in it: a transport failure, exit 6.
    let f = fake(vec![
        Reply::Http(502, b"<html>Bad Gateway</html>".to_vec());
        5
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Malformed, "{e:?}");
    assert!(transport_error(&e).contains("HTTP 502"), "{e}");
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
}

#[test]
fn throttling_is_retried() {
    loopback_only();
    let f = fake(vec![
        Reply::Http(400, sts_error("Throttling", "Rate exceeded")),
        ok_identity(),
    ]);
    quick(&f.url).get_caller_identity().unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);

    let f = fake(vec![
        Reply::Http(
            400,
            sts_error("Throttling", "Rate exceeded")
        );
        4
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(aws_error(&e), ("Throttling", "Rate exceeded"));
    assert_eq!(errors::exit_status(e.kind()), 5);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
}

#[test]
fn other_4xx_errors_are_not_retried() {
    loopback_only();
    let f = fake(vec![
        Reply::Http(403, sts_error("AccessDenied", "not allowed")),
        ok_identity(),
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5);
    match e.kind() {
        ErrorKind::Aws {
            code,
            message,
            request_id,
        } => {
            assert_eq!(
                (code.as_str(), message.as_str()),
                ("AccessDenied", "not allowed")
            );
            assert_eq!(request_id.as_deref(), Some("req-AccessDenied"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "AWS error AccessDenied: not allowed (request id req-AccessDenied)"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);

    // A 404 with no AWS error in it: the endpoint does not know the
    // action, an AWS answer (exit 5), not retried.
    let f = fake(vec![
        Reply::Http(404, b"nothing here".to_vec()),
        ok_identity(),
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5, "{e}");
    assert!(
        e.to_string()
            .starts_with("AWS error HTTP 404: the endpoint does not know this action ("),
        "{e}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
    // Another 4xx with no AWS error in it is a transport failure, also not
    // retried.
    let f = fake(vec![
        Reply::Http(400, b"nothing here".to_vec()),
        ok_identity(),
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Malformed, "{e:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn malformed_answers_are_transport_failures() {
    loopback_only();
    let token_answer = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/aws/moto-get-federation-token.xml"),
    )
    .unwrap();
    let cases = [
        b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>x".to_vec(),
        b"not xml".to_vec(),
        b"".to_vec(),
        token_answer
            .replace(
                "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>",
                "",
            )
            .into_bytes(),
    ];
    for body in cases {
        let f = fake(vec![Reply::Http(200, body.clone())]);
        let sts = quick(&f.url);
        let e = if body.starts_with(b"<GetFederationTokenResponse") {
            sts.get_federation_token("TemporaryUser", None, None)
                .unwrap_err()
        } else {
            sts.get_caller_identity().unwrap_err()
        };
        assert_eq!(errors::exit_status(e.kind()), 6, "{e}");
        let msg = e.to_string();
        assert!(msg.contains("malformed response"), "{msg}");
        assert!(msg.contains(&f.url), "{msg}");
        assert!(
            !msg.contains("EXAMPLEKEY") && !msg.contains("AQoDYXdz"),
            "{msg}"
        );
    }
}

#[test]
fn connection_refused_is_exit_6() {
    loopback_only();
    let url = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let e = quick(&url).get_caller_identity().unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 6, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("cannot connect"), "{msg}");
    assert!(
        msg.contains(&url) && msg.contains("after 3 attempts"),
        "{msg}"
    );
    // Told from the types, the cause kept: reqwest's error.
    assert_eq!(e.kind(), &ErrorKind::Connect, "{e:?}");
    let cause = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<reqwest::Error>());
    assert!(cause.is_some_and(reqwest::Error::is_connect), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_silent_server_times_out() {
    loopback_only();
    let f = fake(vec![Reply::Silent(Duration::from_secs(3)); 3]);
    let started = Instant::now();
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), &ErrorKind::Timeout, "{e:?}");
    assert!(
        transport_error(&e).contains("no answer within 500 ms"),
        "{e}"
    );
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// An answer that stops mid-body is a timeout, told from reqwest's and
/// io's error types (the read timeout's error says "error decoding response
/// body", not "timed out"): not a cut-off answer.
#[test]
fn an_answer_that_stalls_times_out() {
    loopback_only();
    let f = fake(vec![Reply::Stall(Duration::from_secs(3)); 3]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Timeout, "{e:?}");
    assert!(
        transport_error(&e).starts_with("no more of the response within 500 ms"),
        "{e}"
    );
    // The cause is kept: reqwest's error, inside the read's io::Error.
    let cause = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert!(cause.is_some(), "{e:?}");
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
}

#[test]
fn a_hangup_is_retried_then_exit_6() {
    loopback_only();
    let f = fake(vec![Reply::Hangup, ok_identity()]);
    quick(&f.url).get_caller_identity().unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);

    let f = fake(vec![Reply::Hangup; 3]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::CutOff, "{e:?}");
}

#[test]
fn a_huge_answer_is_refused() {
    loopback_only();
    let f = fake(vec![Reply::Huge(3 << 20), ok_identity()]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TooLarge, "{e:?}");
    assert!(transport_error(&e).contains("larger than 1 MiB"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 1, "not retried");
}

/// What a hostile or broken endpoint says reaches the terminal as plain
/// text: `handoff seal --federation` against it ends with the contract's
/// status and a short message, its escape sequences shown, not obeyed, and
/// a long answer in any script cut between characters, never a panic.
#[test]
fn hostile_answers_reach_the_terminal_as_plain_text() {
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let seal = |url: &str| {
        let mut c = common::handoff(home.path());
        c.args([
            "seal",
            "--federation",
            "TemporaryUser",
            "-r",
            recipient,
            "-a",
        ])
        .args(["--endpoint-url", url])
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", REGION);
        common::run(&mut c)
    };
    let raw = "\x1b]0;owned\x07\x1b[2J\x1b[31m";
    let referenced = "&#x1b;]0;owned&#7;&#x1b;[2J&#x1b;[31m";
    for message in [raw, referenced] {
        let f = fake(vec![Reply::Http(
            403,
            sts_error("AccessDenied", &format!("no{message}\nsecond\nthird")),
        )]);
        let err = common::fails(&seal(&f.url), 5, &[SECRET]);
        assert!(err.contains("AccessDenied"), "{err}");
        assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    }
    for n in 100..104 {
        let name = "é".repeat(n);
        let f = fake(vec![Reply::Http(
            200,
            format!("<GetFederationTokenResponse><{name}></x></GetFederationTokenResponse>")
                .into_bytes(),
        )]);
        let err = common::fails(&seal(&f.url), 6, &[SECRET]);
        assert!(err.contains("malformed response"), "{err}");
    }
}

// ---------------------------------------------------------------------------
// The proxy and the example, in child processes (their environment is theirs)

/// `HTTPS_PROXY` is honoured: an https endpoint is reached through a
/// CONNECT to the proxy (here a loopback server that refuses it, so nothing
/// goes further).
#[test]
fn https_proxy_is_used() {
    loopback_only();
    let f = fake(vec![Reply::Http(403, b"no".to_vec()); 3]);
    let home = tempfile::tempdir().unwrap();
    let mut c = example(home.path());
    c.env("AWS_ENDPOINT_URL", "https://sts.example.com")
        .env("HTTPS_PROXY", &f.url)
        .env_remove("NO_PROXY");
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let reqs = f.requests.lock().unwrap().clone();
    assert!(
        !reqs.is_empty(),
        "the proxy was not used: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        reqs[0].starts_with("CONNECT sts.example.com:443 "),
        "{}",
        reqs[0]
    );
}

/// `cargo run --example synopsis` with AWS settings for moto in its
/// environment.
fn example(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO"));
    c.args(["run", "--quiet", "--example", "synopsis"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    common::isolate(&mut c, home);
    c.env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", REGION);
    c
}

#[test]
fn the_synopsis_example_runs_against_moto() {
    loopback_only();
    let moto = Moto::start();
    let home = tempfile::tempdir().unwrap();
    let mut c = example(home.path());
    c.env("AWS_ENDPOINT_URL", &moto.url);
    let output = common::run(&mut c);
    let out = common::ok(&output);
    let all = format!("{out}{}", common::stderr(&output));
    for want in [
        "access key id: ",
        "federated user: arn:aws:sts::123456789012:federated-user/TemporaryUser",
        "packed policy size: ",
        "expires: ",
        "sealed to age1",
        "opened as the recipient",
        "images owned by self: ",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(
        !all.contains("EXAMPLEKEY") && !all.contains("AQoDYXdz"),
        "a secret was printed:\n{all}"
    );
}

/// A TLS server with a self-signed certificate for 127.0.0.1, made by the
/// venv's Python; prints its port, then reports each handshake.
const TLS_SERVER: &str = r#"
import datetime, ipaddress, os, socket, ssl, sys, tempfile
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "handoff test")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256()))
d = tempfile.mkdtemp()
cf, kf = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
open(cf, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(kf, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cf, kf)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
print("cert", cf, flush=True)
while True:
    c, _ = s.accept()
    try:
        ctx.wrap_socket(c, server_side=True).close()
        print("handshake completed", flush=True)
    except (ssl.SSLError, OSError) as e:
        print("handshake failed:", e, flush=True)
"#;

/// https endpoints speak TLS through rustls with the ring provider (no
/// network: a loopback server with a self-signed certificate), and a
/// certificate no trusted authority signed is refused: exit 6.
#[test]
fn https_is_tls_and_checks_the_certificate() {
    use std::io::BufRead;
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let mut py = Command::new(common::venv_bin("python"));
    common::isolate(&mut py, home.path());
    let mut server = py
        .args(["-c", TLS_SERVER])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let port: u16 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    // The server's reports, as they come: it may finish its side of the
    // handshake after the client has given up.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let e = quick(&format!("https://127.0.0.1:{port}"))
        .get_caller_identity()
        .unwrap_err();
    let mut seen: Vec<String> = Vec::new();
    if let Ok(l) = rx.recv_timeout(Duration::from_secs(10)) {
        seen.push(l);
    }
    // a retried handshake would be reported within this
    std::thread::sleep(Duration::from_millis(500));
    seen.extend(rx.try_iter());
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(e.kind(), &ErrorKind::Certificate, "{e:?}");
    // the cause kept: reqwest's error, rustls's inside it
    let cause = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<reqwest::Error>());
    assert!(cause.is_some(), "{e:?}");
    let msg = transport_error(&e);
    assert!(msg.contains("certificate"), "{msg}");
    // In words, not rustls's Debug output (`Other(OtherError(CaUsedAsEndEntity))`).
    assert!(
        msg.starts_with("cannot connect: the server's certificate "),
        "{msg}"
    );
    assert!(
        !msg.contains('(') && !msg.contains("Error") && !msg.contains("CaUsedAsEndEntity"),
        "{msg}"
    );
    let failed = seen
        .iter()
        .filter(|l| l.starts_with("handshake failed"))
        .count();
    assert_eq!(failed, 1, "one handshake, not retried: {seen:?}");

    // Other TLS failures in words too: plain HTTP at an https:// URL (a
    // server that answers every connection at once, as plain HTTP servers
    // answer a TLS hello).
    let plain = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = format!("https://{}", plain.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in plain.incoming().take(3).map_while(Result::ok) {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        }
    });
    let e = quick(&url).get_caller_identity().unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 6, "{e}");
    let msg = transport_error(&e);
    assert!(msg.contains("does not speak TLS"), "{msg}");
    assert!(
        !msg.contains("InvalidContentType") && !msg.contains("corrupt"),
        "{msg}"
    );
}

/// `AWS_CA_BUNDLE`, and `ca_bundle` in the profile, make the certificates
/// of that file the roots handoff trusts, as the AWS CLI does: the
/// self-signed loopback server's handshake then completes (the server says
/// so), where without them it is refused for its certificate.
#[test]
fn aws_ca_bundle_and_the_profiles_ca_bundle_are_trusted() {
    use std::io::BufRead;
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let mut py = Command::new(common::venv_bin("python"));
    common::isolate(&mut py, home.path());
    let mut server = py
        .args(["-c", TLS_SERVER])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let port: u16 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    let cert = lines.next().unwrap().unwrap();
    let cert = cert.strip_prefix("cert ").unwrap().to_string();
    let url = format!("https://127.0.0.1:{port}");
    let mut attempt = |c: &mut Command| {
        let o = common::run(c.env("HANDOFF_READ_TIMEOUT_MS", "500"));
        let report = lines.next().unwrap().unwrap();
        (o, report)
    };
    // without: refused for its certificate
    let (o, report) = attempt(&mut seal_against(home.path(), &url));
    assert!(
        common::stderr(&o).contains("certificate"),
        "{}",
        common::stderr(&o)
    );
    assert!(report.starts_with("handshake failed"), "{report}");
    // AWS_CA_BUNDLE
    let (o, report) = attempt(seal_against(home.path(), &url).env("AWS_CA_BUNDLE", &cert));
    assert_eq!(report, "handshake completed", "{}", common::stderr(&o));
    assert!(
        !common::stderr(&o).contains("certificate"),
        "{}",
        common::stderr(&o)
    );
    // the profile's ca_bundle
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[default]\nca_bundle = {cert}\n"),
    )
    .unwrap();
    let (o, report) = attempt(&mut seal_against(home.path(), &url));
    assert_eq!(report, "handshake completed", "{}", common::stderr(&o));
    // a bundle that is not one is said to be wrong, before any request
    let (o, _) = {
        let o = common::run(seal_against(home.path(), &url).env("AWS_CA_BUNDLE", "/dev/null"));
        (o, ())
    };
    assert!(
        common::stderr(&o).contains("the CA bundle /dev/null"),
        "{}",
        common::stderr(&o)
    );
    let _ = server.kill();
    let _ = server.wait();
}

// ---------------------------------------------------------------------------
// What a hostile endpoint and a careless environment still get (issue 17)

const RECIPIENT: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
/// The caller's own session token, in the environment of `seal_against`.
const CALLER_TOKEN: &str = "FwoGZXIvYXdzCALLERSESSIONTOKENEXAMPLE0123456789";

/// `handoff seal --federation TemporaryUser -o out.age` against `url`,
/// signing with AKID/SECRET/CALLER_TOKEN from the environment.
fn seal_against(home: &std::path::Path, url: &str) -> Command {
    let mut c = common::handoff(home);
    c.args([
        "seal",
        "--federation",
        "TemporaryUser",
        "-r",
        RECIPIENT,
        "-o",
    ])
    .arg(home.join("out.age"))
    .args(["--endpoint-url", url])
    .env("AWS_ACCESS_KEY_ID", AKID)
    .env("AWS_SECRET_ACCESS_KEY", SECRET)
    .env("AWS_SESSION_TOKEN", CALLER_TOKEN)
    .env("AWS_REGION", REGION);
    c
}

/// moto's GetFederationToken answer, expiring in 2099, with `from`
/// replaced by `to`.
fn federation_answer(from: &str, to: &str) -> Vec<u8> {
    let good = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/aws/moto-get-federation-token.xml"),
    )
    .unwrap()
    .replace("2026-11-26T18:58:16.304733Z", "2099-01-01T00:00:00Z");
    assert!(good.contains(from), "{from}");
    good.replace(from, to).into_bytes()
}

const MINTED_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const MINTED_TOKEN_PART: &str = "AQoDYXdzEPT";

/// A 200 answer that is not the XML expected says what is wrong and never
/// quotes the body: in a credentials answer the body holds the secrets.
#[test]
fn credentials_answers_that_are_not_xml_are_never_quoted() {
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let json_secret = "JSONSECRETjsonsecret0123456789abcdefABCD";
    let json_token = "JSONTOKENjsontoken0123456789abcdefABCDEF";
    let entity = "&secretentityname;";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            format!(r#"{{"SecretAccessKey":"{json_secret}","SessionToken":"{json_token}"}}"#)
                .into_bytes(),
            "expected XML, got JSON",
        ),
        (
            format!(r#"  [{{"SecretAccessKey":"{json_secret}"}}]"#).into_bytes(),
            "expected XML, got JSON",
        ),
        (
            format!("SecretAccessKey={json_secret}").into_bytes(),
            "expected XML, got something else",
        ),
        (
            federation_answer(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                &format!("wJalrXUtnFEMI/K7MDENG{entity}bPxRfiCYEXAMPLEKEY"),
            ),
            "ill-formed XML",
        ),
        (
            federation_answer("</AccessKeyId>", &format!("</AccessKeyId><{json_secret}>")),
            "malformed response",
        ),
        (
            federation_answer(
                "<SessionToken>",
                &format!("<SessionToken><{json_secret} a=>"),
            ),
            "malformed response",
        ),
    ];
    for (body, want) in cases {
        let f = fake(vec![Reply::Http(200, body)]);
        let o = common::run(&mut seal_against(home.path(), &f.url));
        let err = common::fails(
            &o,
            6,
            &[
                json_secret,
                json_token,
                "secretentityname",
                "wJalrXUtnFEMI",
                "bPxRfiCY",
                MINTED_TOKEN_PART,
                SECRET,
                CALLER_TOKEN,
            ],
        );
        assert!(err.contains(want), "{err}");
        assert!(err.contains("malformed response"), "{err}");
        assert!(!home.path().join("out.age").exists());
    }
}

/// An AWS error whose message repeats a secret of the call (the caller's
/// secret key or session token, the recipient's, an MFA code) is printed
/// with every one of them redacted.
#[test]
fn aws_error_messages_never_repeat_a_secret() {
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let echo = format!("The security token {CALLER_TOKEN} signed with {SECRET} is invalid");
    let f = fake(vec![Reply::Http(
        403,
        sts_error("InvalidClientTokenId", &echo),
    )]);
    let err = common::fails(
        &common::run(&mut seal_against(home.path(), &f.url)),
        5,
        &[SECRET, CALLER_TOKEN],
    );
    assert!(err.contains("InvalidClientTokenId"), "{err}");
    assert!(err.contains("[redacted]"), "{err}");

    // Retried (with -v, each retry says why), then given up: redacted in
    // every line.
    let f = fake(vec![
        Reply::Http(500, sts_error(CALLER_TOKEN, &echo)),
        Reply::Http(500, sts_error("InternalError", &echo)),
        Reply::Http(500, sts_error("InternalError", &echo)),
    ]);
    let o = common::run(seal_against(home.path(), &f.url).arg("-v"));
    assert_eq!(o.status.code(), Some(5));
    let err = common::stderr(&o);
    assert!(err.contains("retrying"), "{err}");
    assert!(
        !err.contains(SECRET) && !err.contains(CALLER_TOKEN),
        "{err}"
    );

    // The MFA code of GetSessionToken.
    let f = fake(vec![Reply::Http(
        403,
        sts_error(
            "AccessDenied",
            "MultiFactorAuthentication failed with code 654321",
        ),
    )]);
    let mfa = Mfa {
        serial: "arn:aws:iam::123456789012:mfa/alice".into(),
        code: "654321".into(),
    };
    let e = quick(&f.url)
        .get_session_token(None, Some(&mfa))
        .unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5);
    assert!(!e.to_string().contains("654321"), "{e}");
    assert!(!format!("{e:?}").contains("654321"), "{e:?}");

    // The recipient's credentials, in an EC2 call made with them.
    let recipient_secret = "RECIPIENTsecretKEY0123456789abcdefghijklm";
    let recipient_token = "RECIPIENTsessionTOKEN0123456789abcdefghij";
    let f = fake(vec![Reply::Http(
        401,
        format!(
            "<Response><Errors><Error><Code>AuthFailure</Code><Message>{recipient_token} / {recipient_secret}</Message></Error></Errors><RequestID>r</RequestID></Response>"
        )
        .into_bytes(),
    )]);
    let creds = Credentials::new(
        "ASIAIOSFODNN7EXAMPLE",
        recipient_secret.into(),
        Some(recipient_token.into()),
        None,
    );
    let e = creds
        .new_ec2(&settings(&f.url))
        .unwrap()
        .describe_regions()
        .unwrap_err();
    assert_eq!(aws_error(&e).0, "AuthFailure");
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(
            !shown.contains(recipient_secret) && !shown.contains(recipient_token),
            "{shown}"
        );
    }
}

/// A server that sends a valid head promising 2 GiB and then drips a byte
/// at a time never lets the read timeout fire; the call's deadline ends it.
#[test]
fn a_dripping_answer_ends_at_the_deadline() {
    loopback_only();
    let f = fake(vec![Reply::Drip(Duration::from_secs(30)); 3]);
    let config = settings(&f.url)
        .resolve_with(Service::Sts, keys(AKID, SECRET))
        .unwrap()
        .with_read_timeout(Duration::from_millis(500))
        .with_deadline(Duration::from_millis(1500));
    assert_eq!(config.deadline(), Duration::from_millis(1500));
    let started = Instant::now();
    let e = Sts::new(config).unwrap().get_caller_identity().unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), &ErrorKind::Deadline, "{e:?}");
    assert!(
        transport_error(&e).contains("within the call's deadline of 1500 ms"),
        "{e}"
    );
    // Bounded: without the deadline it runs as long as the server drips.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(f.hits.load(Ordering::SeqCst), 1, "not retried");

    // The same from the command line, the deadline set for the process.
    let home = tempfile::tempdir().unwrap();
    let f = fake(vec![Reply::Drip(Duration::from_secs(30)); 3]);
    let mut c = seal_against(home.path(), &f.url);
    c.env("HANDOFF_DEADLINE_MS", "1500")
        .env("HANDOFF_READ_TIMEOUT_MS", "500");
    let err = common::fails(&common::run(&mut c), 6, &[SECRET, CALLER_TOKEN]);
    assert!(err.contains("deadline of 1500 ms"), "{err}");

    // Silent servers: retries stop at the deadline too.
    let f = fake(vec![Reply::Silent(Duration::from_secs(5)); 3]);
    let config = settings(&f.url)
        .resolve_with(Service::Sts, keys(AKID, SECRET))
        .unwrap()
        .with_read_timeout(Duration::from_millis(500))
        .with_deadline(Duration::from_millis(700));
    let e = Sts::new(config).unwrap().get_caller_identity().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Deadline, "{e:?}");
    assert!(transport_error(&e).contains("deadline of 700 ms"), "{e}");
    assert!(f.hits.load(Ordering::SeqCst) <= 2);
}

fn ec2_at(url: &str) -> Ec2 {
    Ec2::new(
        settings(url)
            .resolve_with(Service::Ec2, keys(AKID, SECRET))
            .unwrap()
            .with_read_timeout(Duration::from_millis(500)),
    )
    .unwrap()
}

fn ec2_error(code: &str) -> Vec<u8> {
    format!("<Response><Errors><Error><Code>{code}</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>").into_bytes()
}

/// The ClientToken values in the requests a fake got.
fn client_tokens(f: &Fake) -> Vec<String> {
    f.requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let body = r.split("\r\n\r\n").nth(1).unwrap_or("");
            let tokens: Vec<&str> = body
                .split('&')
                .filter_map(|kv| kv.strip_prefix("ClientToken="))
                .collect();
            assert_eq!(tokens.len(), 1, "one ClientToken in {body}");
            tokens[0].to_string()
        })
        .collect()
}

/// RunInstances against an endpoint that fails (500, or a body cut off):
/// every retry carries the same ClientToken, a fresh one per call, so EC2
/// launches once; an action that is not idempotent and takes no
/// ClientToken is not sent again once it may have been carried out.
#[test]
fn retried_launches_carry_one_client_token() {
    loopback_only();
    let run = |f: &Fake, extra: &[(&str, &str)]| {
        let mut p = vec![
            ("ImageId".to_string(), "ami-12345678".to_string()),
            ("MinCount".to_string(), "1".to_string()),
            ("MaxCount".to_string(), "1".to_string()),
        ];
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ec2_at(&f.url).call("RunInstances", &p)
    };
    let f = fake(vec![Reply::Http(500, ec2_error("InternalError")); 3]);
    let e = run(&f, &[]).unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 5, "{e}");
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
    let first = client_tokens(&f);
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|t| t == &first[0]), "{first:?}");
    let t = &first[0];
    assert!(
        t.len() == 36 && t.bytes().filter(|&b| b == b'-').count() == 4,
        "{t}"
    );

    let f = fake(vec![Reply::Cut; 3]);
    let e = run(&f, &[]).unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 6, "{e}");
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
    let second = client_tokens(&f);
    assert!(second.iter().all(|t| t == &second[0]), "{second:?}");
    assert_ne!(second[0], first[0], "a fresh token per call");

    // The user's own is kept, and no other added.
    let f = fake(vec![Reply::Http(500, ec2_error("InternalError")); 3]);
    run(&f, &[("ClientToken", "mine-1")]).unwrap_err();
    assert_eq!(client_tokens(&f), vec!["mine-1"; 3]);

    // No ClientToken, not read-only: a cut-off answer is not retried...
    let terminate = |f: &Fake| {
        ec2_at(&f.url).call(
            "TerminateInstances",
            &[(
                "InstanceId.1".to_string(),
                "i-1234567890abcdef0".to_string(),
            )],
        )
    };
    let f = fake(vec![Reply::Cut, Reply::Cut, Reply::Cut]);
    let e = terminate(&f).unwrap_err();
    assert_eq!(errors::exit_status(e.kind()), 6, "{e}");
    assert!(transport_error(&e).contains("not retried"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
    // ...nor a silence after sending...
    let f = fake(vec![Reply::Silent(Duration::from_secs(2)); 3]);
    terminate(&f).unwrap_err();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 1);
    // ...but an error answer (nothing was done) is.
    let f = fake(vec![Reply::Http(503, ec2_error("Unavailable")); 3]);
    terminate(&f).unwrap_err();
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
    // And a read-only action is retried after a cut-off answer.
    let f = fake(vec![Reply::Cut, Reply::Cut, Reply::Cut]);
    ec2_at(&f.url).describe_regions().unwrap_err();
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
}

const REGIONS: &str = "<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><regionInfo><item><regionName>eu-west-2</regionName><regionEndpoint>ec2.eu-west-2.amazonaws.com</regionEndpoint></item></regionInfo></DescribeRegionsResponse>";

/// A home with a default identity, and two tokens sealed to it (offline,
/// from a document): one without a region, one for eu-west-1.
fn sealed_tokens(home: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let public = common::default_identity(home);
    let seal = |name: &str, extra: &[&str]| {
        let t = home.join(name);
        common::seal_document(home, &public, &t, extra);
        t
    };
    (
        seal("t.age", &[]),
        seal("eu.age", &["--region", "eu-west-1"]),
    )
}

/// The credentials' access key id, signing region and service, from the
/// Authorization header of `request`.
fn credential_scope(request: &str) -> String {
    let line = request
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .unwrap_or_else(|| panic!("no authorization in {request}"));
    let scope = line.split("Credential=").nth(1).unwrap();
    scope.split(',').next().unwrap().to_string()
}

/// `--expect-account` sends GetCallerIdentity where the contract says:
/// AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional endpoint
/// for the region in effect (`ec2 --region`), signed for that region; `-v`
/// says which. The same for open and exec.
#[test]
fn the_account_check_calls_the_sts_endpoint_the_user_set() {
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let (t, eu) = sealed_tokens(home.path());
    let ec2 = |extra: &[(&str, &str)], endpoint: Option<&str>| {
        let mut c = common::handoff(home.path());
        for (k, v) in extra {
            c.env(k, v);
        }
        c.args(["-v", "ec2"])
            .arg(&t)
            .args(["--region", "eu-west-2", "--expect-account", ACCOUNT]);
        if let Some(e) = endpoint {
            c.args(["--endpoint-url", e]);
        }
        c.arg("DescribeRegions");
        common::run(&mut c)
    };

    // AWS_ENDPOINT_URL_STS: the check goes there, the EC2 call to
    // --endpoint-url.
    let sts = fake(vec![ok_identity()]);
    let ec2_endpoint = fake(vec![Reply::Http(200, REGIONS.as_bytes().to_vec())]);
    let o = ec2(
        &[("AWS_ENDPOINT_URL_STS", &sts.url)],
        Some(&ec2_endpoint.url),
    );
    let out = common::ok(&o);
    assert!(out.contains("eu-west-2"), "{out}");
    let err = common::stderr(&o);
    let reqs = sts.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1, "{err}");
    assert!(reqs[0].ends_with("Action=GetCallerIdentity&Version=2011-06-15"));
    assert!(
        credential_scope(&reqs[0]).ends_with("/eu-west-2/sts/aws4_request"),
        "{}",
        reqs[0]
    );
    assert!(
        err.contains("sts GetCallerIdentity -> ")
            && err.contains("(endpoint from AWS_ENDPOINT_URL_STS, signed for eu-west-2"),
        "{err}"
    );
    let ec2_reqs = ec2_endpoint.requests.lock().unwrap().clone();
    assert_eq!(ec2_reqs.len(), 1);
    assert!(ec2_reqs[0].contains("Action=DescribeRegions"));

    // --region and AWS_ENDPOINT_URL: both calls there, the check first,
    // signed for the region given.
    let both = fake(vec![
        ok_identity(),
        Reply::Http(200, REGIONS.as_bytes().to_vec()),
    ]);
    let o = ec2(&[("AWS_ENDPOINT_URL", &both.url)], None);
    common::ok(&o);
    let err = common::stderr(&o);
    let reqs = both.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].contains("Action=GetCallerIdentity"), "{}", reqs[0]);
    assert!(credential_scope(&reqs[0]).ends_with("/eu-west-2/sts/aws4_request"));
    assert!(reqs[1].contains("Action=DescribeRegions"));
    assert!(
        err.contains("(endpoint from AWS_ENDPOINT_URL, signed for eu-west-2"),
        "{err}"
    );

    // Bad EC2 flags are refused before the check's request.
    let sts = fake(vec![ok_identity(); 4]);
    for bad in ["", "http://127.0.0.1:70000", "ftp://x"] {
        let o = ec2(&[("AWS_ENDPOINT_URL_STS", &sts.url)], Some(bad));
        common::fails(&o, 2, &[]);
    }
    let mut c = common::handoff(home.path());
    c.env("AWS_ENDPOINT_URL_STS", &sts.url)
        .arg("ec2")
        .arg(&t)
        .args([
            "--region",
            "",
            "--expect-account",
            ACCOUNT,
            "DescribeRegions",
        ]);
    common::fails(&common::run(&mut c), 2, &[]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sts.hits.load(Ordering::SeqCst), 0, "a request was made");

    // Without --region, the token's region, as the EC2 call has it.
    let both = fake(vec![
        ok_identity(),
        Reply::Http(200, REGIONS.as_bytes().to_vec()),
    ]);
    let mut c = common::handoff(home.path());
    c.env("AWS_ENDPOINT_URL", &both.url)
        .env("AWS_REGION", "ap-southeast-2")
        .arg("ec2")
        .arg(&eu)
        .args(["--expect-account", ACCOUNT, "DescribeRegions"]);
    common::ok(&common::run(&mut c));
    let reqs = both.requests.lock().unwrap().clone();
    assert!(credential_scope(&reqs[0]).ends_with("/eu-west-1/sts/aws4_request"));
    assert!(credential_scope(&reqs[1]).ends_with("/eu-west-1/ec2/aws4_request"));

    // open and exec: AWS_ENDPOINT_URL_STS, with the environment's region
    // (the caller's wins, as in the environment they make), else the
    // token's.
    for (args, token, region, want) in [
        ("open", &t, Some("ap-southeast-2"), "ap-southeast-2"),
        ("exec", &t, Some("ap-southeast-2"), "ap-southeast-2"),
        ("open", &eu, Some("ap-southeast-2"), "ap-southeast-2"),
        ("exec", &eu, None, "eu-west-1"),
    ] {
        let sts = fake(vec![ok_identity()]);
        let mut c = common::handoff(home.path());
        c.env("AWS_ENDPOINT_URL_STS", &sts.url);
        if let Some(r) = region {
            c.env("AWS_REGION", r);
        }
        c.arg("-v")
            .arg(args)
            .arg(token)
            .args(["--expect-account", ACCOUNT]);
        if args == "exec" {
            c.args(["--", "true"]);
        }
        let o = common::run(&mut c);
        common::ok(&o);
        let reqs = sts.requests.lock().unwrap().clone();
        assert_eq!(reqs.len(), 1, "{args:?}");
        assert!(
            credential_scope(&reqs[0]).ends_with(&format!("/{want}/sts/aws4_request")),
            "{args} {token:?}: {}",
            reqs[0]
        );
        assert!(
            common::stderr(&o).contains("endpoint from AWS_ENDPOINT_URL_STS"),
            "{}",
            common::stderr(&o)
        );
    }
}

/// Credentials STS minted are checked with open's own rules before they
/// are sealed: what open would refuse is exit 6 and no file.
#[test]
fn malformed_minted_credentials_are_not_sealed() {
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let cases = [
        federation_answer("<AccessKeyId>ASIA", "<AccessKeyId>AS&#10;IA"),
        federation_answer("<AccessKeyId>ASIA", "<AccessKeyId>AS&#x1b;[31mIA"),
        federation_answer("<AccessKeyId>ASIA", "<AccessKeyId>AS\u{1b}]0;x\u{7}IA"),
        federation_answer("<SessionToken>AQoD", "<SessionToken>AQ&#x1b;oD"),
        federation_answer("<SecretAccessKey>wJal", "<SecretAccessKey>wJ&#x7f;al"),
    ];
    for body in cases {
        let f = fake(vec![Reply::Http(200, body)]);
        let o = common::run(&mut seal_against(home.path(), &f.url));
        let err = common::fails(&o, 6, &[MINTED_SECRET, MINTED_TOKEN_PART, SECRET]);
        assert!(
            err.contains("malformed response to GetFederationToken")
                && err.contains("holds a control character"),
            "{err}"
        );
        assert!(!home.path().join("out.age").exists(), "a file was written");
    }
    // Times outside what open accepts (1970 to 9999, UTC after the offset)
    // are refused by the same parser, before anything is sealed.
    for expiration in [
        "9999-12-31T23:59:59-23:59",
        "1969-12-31T23:59:59Z",
        "2099-13-01T00:00:00Z",
    ] {
        let body = federation_answer("2099-01-01T00:00:00Z", expiration);
        let f = fake(vec![Reply::Http(200, body)]);
        let o = common::run(&mut seal_against(home.path(), &f.url));
        let err = common::fails(&o, 6, &[MINTED_SECRET, MINTED_TOKEN_PART, SECRET]);
        assert!(err.contains("GetFederationToken"), "{expiration}: {err}");
        assert!(!home.path().join("out.age").exists(), "a file was written");
    }
    // The good answer is sealed (the cases above differ from it only where
    // they are malformed).
    let f = fake(vec![Reply::Http(
        200,
        federation_answer("<AccessKeyId>", "<AccessKeyId>"),
    )]);
    common::ok(&common::run(&mut seal_against(home.path(), &f.url)));
    assert!(home.path().join("out.age").exists());
}

/// A variable that is set but not UTF-8 is an error naming it (exit 2),
/// never "unset"; empty or impossible flags and proxies are refused before
/// any request; `NO_PROXY=*` bypasses the proxy for IP endpoints too.
#[test]
fn the_environment_is_read_carefully() {
    use std::os::unix::ffi::OsStrExt;
    loopback_only();
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!("[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    // A request would reach this server; exit 2 and no hit prove none was made.
    let f = fake(vec![Reply::Http(500, b"no".to_vec()); 30]);
    let bad = std::ffi::OsStr::from_bytes(b"\xffnot-utf-8");
    let seal = |vars: &[(&str, &std::ffi::OsStr)], args: &[&str]| {
        let mut c = common::handoff(home.path());
        c.args(["seal", "--federation", "TemporaryUser", "-r", RECIPIENT])
            .args(args)
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL_STS", &f.url);
        for (k, v) in vars {
            c.env(k, v);
        }
        common::run(&mut c)
    };
    for var in [
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "HANDOFF_DEADLINE_MS",
    ] {
        let err = common::fails(&seal(&[(var, bad)], &[]), 2, &[SECRET]);
        assert!(
            err.contains(&format!("{var} is set but is not UTF-8")),
            "{err}"
        );
    }
    for args in [
        &["--endpoint-url", ""][..],
        &["--endpoint-url", " "],
        &["--region", ""],
        &["--profile", ""],
        &["--endpoint-url", "http://127.0.0.1:0"],
        &["--endpoint-url", "http://127.0.0.1:65536"],
        &["--endpoint-url", "http://127.0.0.1:99999999999"],
        &["--endpoint-url", "http://127.0.0.1:/"],
    ] {
        let err = common::fails(&seal(&[], args), 2, &[SECRET]);
        assert!(
            err.contains("empty") || err.contains("port"),
            "{args:?}: {err}"
        );
    }
    let port = std::ffi::OsStr::new("http://127.0.0.1:70000");
    let err = common::fails(&seal(&[("AWS_ENDPOINT_URL_STS", port)], &[]), 2, &[]);
    assert!(err.contains("outside 1-65535"), "{err}");
    for proxy in [
        "http://user:hunter2@[::1",
        "http://proxy.example:99999",
        "ftp://proxy.example",
        "http://",
        "::::",
    ] {
        for var in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy"] {
            let err = common::fails(
                &seal(&[(var, std::ffi::OsStr::new(proxy))], &[]),
                2,
                &["hunter2"],
            );
            assert!(err.contains(&format!("{var} is not a proxy URL")), "{err}");
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 0, "a request was made");

    // NO_PROXY=* and an IP endpoint: straight there, not through the proxy.
    let answer = || Reply::Http(200, federation_answer("<AccessKeyId>", "<AccessKeyId>"));
    let proxy = fake(vec![answer()]);
    let endpoint = fake(vec![answer()]);
    let mut c = common::handoff(home.path());
    c.args(["seal", "--federation", "TemporaryUser", "-r", RECIPIENT])
        .env("AWS_REGION", REGION)
        .env("AWS_ENDPOINT_URL", &endpoint.url)
        .env("HTTP_PROXY", &proxy.url)
        .env("NO_PROXY", "example.com, *");
    common::ok(&common::run(&mut c));
    assert_eq!(endpoint.hits.load(Ordering::SeqCst), 1);
    assert_eq!(proxy.hits.load(Ordering::SeqCst), 0);
    // Without it, the proxy is used (the test's own check).
    let proxy = fake(vec![answer()]);
    let endpoint = fake(vec![answer()]);
    c.env("AWS_ENDPOINT_URL", &endpoint.url)
        .env("HTTP_PROXY", &proxy.url)
        .env("NO_PROXY", "example.com");
    common::ok(&common::run(&mut c));
    assert_eq!(proxy.hits.load(Ordering::SeqCst), 1);
    assert_eq!(endpoint.hits.load(Ordering::SeqCst), 0);
}
