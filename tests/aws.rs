//! The `aws` module against real parts: moto (the AWS emulator) for STS and
//! EC2, moto's IAM mode for signatures and policies, and tiny loopback
//! servers for the faults moto cannot produce. Nothing here leaves the
//! loopback interface; AWS settings are passed through `Settings` or set on
//! child processes only, never read from the developer's own files.
#![cfg(feature = "aws")]

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime};

use common::moto::{free_port, Moto};
use handoff::aws::{AssumeRoleRequest, DescribeImages, Ec2, Mfa, Service, Settings, Sts};
use handoff::secrecy::ExposeSecret;
use handoff::{open, seal, Credentials, Error, Form, Identities, Kind, Policy, Recipients, Token};

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
    match e {
        Error::Aws { code, message, .. } => (code.as_str(), message.as_str()),
        other => panic!("expected an AWS error, got {other:?}"),
    }
}

#[track_caller]
fn transport_error(e: &Error) -> &str {
    match e {
        Error::Transport { message, .. } => message.as_str(),
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
    assert_eq!(e.exit_code(), 5);
    assert_eq!(aws_error(&e).0, "InvalidAMIID.NotFound");

    // Bad action names and reserved parameters are refused before any request.
    for (action, p) in [
        ("", vec![]),
        ("Describe Images", vec![]),
        ("DescribeImages", params(&[("Action", "RunInstances")])),
        ("DescribeImages", params(&[("Version", "2010-01-01")])),
    ] {
        assert_eq!(
            ec2.call(action, &p).unwrap_err().exit_code(),
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
    assert_eq!(Ec2::new(sts_config).unwrap_err().exit_code(), 2);
    let ec2_config = s2.resolve_with(Service::Ec2, creds).unwrap();
    assert_eq!(Sts::new(ec2_config).unwrap_err().exit_code(), 2);
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
        assert_eq!(e.exit_code(), 2, "{what}: {e}");
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
    assert_eq!(e.exit_code(), 5, "{e}");
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
    assert_eq!(e.exit_code(), 5, "{e}");
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
    assert_eq!(e.exit_code(), 5, "{e}");
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
    assert_eq!(e.exit_code(), 5, "{e}");
    assert_eq!(aws_error(&e), ("InternalError", "down"));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);

    // 5xx without an AWS error in it: a transport failure, exit 6.
    let f = fake(vec![
        Reply::Http(502, b"<html>Bad Gateway</html>".to_vec());
        5
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.exit_code(), 6, "{e}");
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
    assert_eq!(e.exit_code(), 5);
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
    assert_eq!(e.exit_code(), 5);
    match &e {
        Error::Aws {
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

    // A 4xx with no AWS error in it is a transport failure, also not retried.
    let f = fake(vec![
        Reply::Http(404, b"nothing here".to_vec()),
        ok_identity(),
    ]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.exit_code(), 6);
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
        assert_eq!(e.exit_code(), 6, "{e}");
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
    assert_eq!(e.exit_code(), 6, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("cannot connect"), "{msg}");
    assert!(
        msg.contains(&url) && msg.contains("after 3 attempts"),
        "{msg}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_silent_server_times_out() {
    loopback_only();
    let f = fake(vec![Reply::Silent(Duration::from_secs(3)); 3]);
    let started = Instant::now();
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.exit_code(), 6, "{e}");
    assert!(
        transport_error(&e).contains("no answer within 500 ms"),
        "{e}"
    );
    assert_eq!(f.hits.load(Ordering::SeqCst), 3);
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_hangup_is_retried_then_exit_6() {
    loopback_only();
    let f = fake(vec![Reply::Hangup, ok_identity()]);
    quick(&f.url).get_caller_identity().unwrap();
    assert_eq!(f.hits.load(Ordering::SeqCst), 2);

    let f = fake(vec![Reply::Hangup; 3]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.exit_code(), 6, "{e}");
}

#[test]
fn a_huge_answer_is_refused() {
    loopback_only();
    let f = fake(vec![Reply::Huge(3 << 20), ok_identity()]);
    let e = quick(&f.url).get_caller_identity().unwrap_err();
    assert_eq!(e.exit_code(), 6, "{e}");
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
    assert_eq!(e.exit_code(), 6, "{e}");
    let msg = transport_error(&e);
    assert!(msg.contains("certificate"), "{msg}");
    let failed = seen
        .iter()
        .filter(|l| l.starts_with("handshake failed"))
        .count();
    assert_eq!(failed, 1, "one handshake, not retried: {seen:?}");
}
