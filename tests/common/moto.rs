//! A moto server (the AWS emulator, from the venv scripts/setup makes) on a
//! free loopback port, stopped by its PID on drop.
//!
//! ```ignore
//! let moto = Moto::start();            // every request accepted
//! let moto = Moto::start_iam(5);       // 5 unchecked requests, then IAM
//!                                      // signature and policy checks
//! // point clients at moto.url
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::venv_bin;

/// How long moto may take to answer after it is started (it imports a lot
/// of Python on a cold cache).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto_server. Dropping it kills the process.
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Moto {
    /// moto with no authentication: every request is accepted.
    pub fn start() -> Moto {
        Self::spawn(None)
    }

    /// moto in IAM mode: the first `unchecked` requests are accepted as they
    /// come (to create users, keys and roles), every later one must be
    /// signed with keys IAM knows and be allowed by their policies
    /// (`INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_iam(unchecked: u32) -> Moto {
        Self::spawn(Some(unchecked))
    }

    /// [`Moto::start_iam`], with moto answering one request at a time.
    /// moto's conditional writes (DynamoDB's `attribute_not_exists` puts)
    /// check and then store in two steps, so two requests on two of its
    /// threads can both pass one condition; DynamoDB's are atomic. Tests of
    /// what concurrent conditional writes exclude use this.
    pub fn start_iam_serial(unchecked: u32) -> Moto {
        Self::spawn_with(Some(unchecked), true)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn spawn(iam: Option<u32>) -> Moto {
        Self::spawn_with(iam, false)
    }

    fn spawn_with(iam: Option<u32>, serial: bool) -> Moto {
        let mut last = String::new();
        // A port found free can be taken before moto binds it; try a few.
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir for moto");
            let port = free_port();
            let log = dir.path().join(format!("moto-{port}.log"));
            let out = std::fs::File::create(&log).expect("moto log file");
            let err = out.try_clone().expect("moto log file");
            let mut cmd = if serial {
                let mut c = Command::new(venv_bin("python"));
                c.args(["-c", SERIAL_MOTO_SERVER]);
                c
            } else {
                Command::new(venv_bin("moto_server"))
            };
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .env("NO_PROXY", "127.0.0.1,localhost");
            for (k, _) in std::env::vars_os() {
                let k = k.to_string_lossy().to_string();
                if k.starts_with("AWS_") || k.starts_with("MOTO_") || k.ends_with("_PROXY") {
                    cmd.env_remove(&k);
                }
            }
            cmd.env("NO_PROXY", "127.0.0.1,localhost");
            match iam {
                Some(n) => cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string()),
                None => cmd.env_remove("INITIAL_NO_AUTH_ACTION_COUNT"),
            };
            let child = cmd.spawn().expect("spawn moto_server");
            let mut moto = Moto {
                url: format!("http://127.0.0.1:{port}"),
                port,
                child,
                log,
                _dir: dir,
            };
            match moto.wait_ready() {
                Ok(()) => return moto,
                Err(e) => last = e,
            }
        }
        panic!("moto_server did not start: {last}");
    }

    /// Waits until moto answers an HTTP request on its port, or fails with
    /// its log. The probe is moto's own dashboard path, which IAM mode does
    /// not count as an action.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto_server exited with {status} before answering; its log:\n{}",
                    self.log_text()
                ));
            }
            if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let probe = format!(
                    "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                    self.port
                );
                let mut head = [0u8; 12];
                if s.write_all(probe.as_bytes()).is_ok()
                    && s.read_exact(&mut head).is_ok()
                    && head.starts_with(b"HTTP/1.")
                {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto_server (pid {}) did not answer on {} within {} s; its log:\n{}",
                    self.child.id(),
                    self.url,
                    START_TIMEOUT.as_secs(),
                    self.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What moto printed so far (its request log).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many requests moto has logged for `path_and_action` so far
    /// (werkzeug's access log lines contain the method and path).
    pub fn requests(&self) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains("\"POST /") || l.contains("\"GET /"))
            .filter(|l| !l.contains("/moto-api/"))
            .count()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // By PID: this process's own child, nothing else.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto_server with werkzeug's `threaded=False`: one request at a time
/// (and HTTP/1.0, so no idle connection holds the server).
const SERIAL_MOTO_SERVER: &str = r#"
import sys
import moto.server as server
run_simple = server.run_simple
def one_at_a_time(*args, **kwargs):
    kwargs["threaded"] = False
    return run_simple(*args, **kwargs)
server.run_simple = one_at_a_time
sys.argv[0] = "moto_server"
server.main()
"#;

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    l.local_addr().expect("local addr").port()
}

/// Creates IAM user alice (allowed sts:*) with an access key, and role
/// `limited` (assumable by alice) that may only DescribeAvailabilityZones
/// and GetCallerIdentity: five requests, all made while moto in IAM mode
/// (`Moto::start_iam(5)`) still accepts unsigned ones.
const IAM_SETUP: &str = r#"
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
doc = lambda *s: json.dumps({"Version": "2012-10-17", "Statement": list(s)})
iam.create_user(UserName="alice")
iam.put_user_policy(UserName="alice", PolicyName="mint",
                    PolicyDocument=doc({"Effect": "Allow", "Action": "sts:*", "Resource": "*"}))
key = iam.create_access_key(UserName="alice")["AccessKey"]
iam.create_role(RoleName="limited", AssumeRolePolicyDocument=doc(
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"}, "Action": "sts:AssumeRole"}))
iam.put_role_policy(RoleName="limited", PolicyName="zones-only",
                    PolicyDocument=doc({"Effect": "Allow", "Action": ["ec2:DescribeAvailabilityZones", "sts:GetCallerIdentity"], "Resource": "*"}))
print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
"#;

impl Moto {
    /// Sets up alice and role `limited` (see `IAM_SETUP`) and returns
    /// alice's access key id and secret.
    pub fn create_alice(&self, home: &std::path::Path) -> (String, String) {
        let mut py = Command::new(venv_bin("python"));
        super::isolate(&mut py, home);
        py.args(["-c", IAM_SETUP, &self.url]);
        let out = super::ok(&super::run(&mut py));
        let key: serde_json::Value = serde_json::from_str(out.trim()).expect("alice's key as JSON");
        let field = |k: &str| key[k].as_str().expect("a key field").to_string();
        (field("id"), field("secret"))
    }
}
