//! The hostile-input corpus (fixtures/hostile/, made by
//! scripts/make-hostile-corpus and described by its MANIFEST), plus the cases
//! too large to commit, made here on the fly: a 200 MB stdin to `open` and
//! `seal`, 200 MB (sparse) token, identity, recipients and passphrase files,
//! 100 000-deep CBOR nesting, a header of 9 000 stanzas and a 1 MB header
//! line.
//!
//! Every case runs the real binary and must end with the contract's exit
//! status, a one- or two-line `handoff: ` message, nothing on stdout, no
//! secret anywhere in the message, under a second of CPU time, and a peak
//! resident set far below the input's size. Peak RSS and CPU time are the
//! kernel's accounting of each run, reported by GNU time, so they do not
//! depend on how busy the machine is.

mod common;

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{AKID, SECRET, SESSION};

/// CPU time (user + system) any single run may take.
const CPU_LIMIT: Duration = Duration::from_secs(1);
/// Peak resident set any single run may reach. The binary itself, debug
/// build, starts around 5 MB; inputs are at most 1 MiB by design.
const RSS_LIMIT_KB: u64 = 48 * 1024;
/// A run taking longer than this on the wall clock is hung.
const WALL_LIMIT: Duration = Duration::from_secs(30);

const PASSPHRASE: &str = "correct horse battery staple";

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile")
}

/// What goes to the child's stdin.
#[derive(Clone)]
enum Input {
    Null,
    Bytes(Vec<u8>),
    /// `prefix`, then `fill` repeated up to `total` bytes, written in chunks
    /// (the test itself never holds it whole).
    Stream {
        prefix: Vec<u8>,
        fill: u8,
        total: u64,
    },
}

struct Job {
    label: String,
    args: Vec<OsString>,
    input: Input,
    status: i32,
    want: String,
}

struct Outcome {
    /// The exit status; 128 + N when handoff died of signal N.
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    cpu: Duration,
    wall: Duration,
    max_rss_kb: u64,
}

/// Runs handoff with `args` and `input` under GNU time, in a new session (no
/// controlling terminal, so nothing can stop to ask for a passphrase).
///
/// Why GNU time: the kernel's peak-RSS figure of a child includes the memory
/// of the process that forked it (Linux carries the pre-exec high-water mark
/// across exec), so `wait4` from this big test process would report the
/// test's own size. time's own process is tiny, so the figure it reports for
/// handoff is handoff's.
fn run_measured(home: &Path, args: &[OsString], input: &Input) -> Outcome {
    let stats = tempfile::NamedTempFile::new().expect("a temp file");
    let mut cmd = Command::new(common::system_tool("time"));
    common::isolate(&mut cmd, home);
    cmd.arg("-q")
        .args(["-f", "%M %U %S", "-o"])
        .arg(stats.path())
        .arg(env!("CARGO_BIN_EXE_handoff"))
        .args(args)
        .current_dir(corpus())
        .stdin(match input {
            Input::Null => Stdio::null(),
            _ => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn handoff under time");
    let writer = child.stdin.take().map(|mut stdin| {
        let input = input.clone();
        std::thread::spawn(move || match input {
            Input::Null => {}
            Input::Bytes(b) => {
                let _ = stdin.write_all(&b);
            }
            Input::Stream {
                prefix,
                fill,
                total,
            } => {
                if stdin.write_all(&prefix).is_err() {
                    return;
                }
                let chunk = vec![fill; 1 << 16];
                let mut left = total.saturating_sub(prefix.len() as u64);
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    if stdin.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                    left -= n as u64;
                }
            }
        })
    });
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read_all(Box::new(child.stdout.take().expect("stdout")));
    let err = read_all(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > WALL_LIMIT {
            // time is the session leader: end handoff with it
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("handoff hung for {WALL_LIMIT:?}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = start.elapsed();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let figures = fs::read_to_string(stats.path()).unwrap_or_default();
    let f: Vec<&str> = figures.split_whitespace().collect();
    let [rss, user, sys] = f[..] else {
        panic!("no figures from time ({figures:?}), status {status}");
    };
    let secs = |x: &str| Duration::from_secs_f64(x.parse().expect("seconds"));
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        cpu: secs(user) + secs(sys),
        wall,
        max_rss_kb: rss.parse().expect("KiB"),
    }
}

/// Everything that must never appear in a message.
fn secrets() -> Vec<String> {
    let identity = fs::read_to_string(corpus().join("identity.txt")).expect("identity.txt");
    let key = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("a key in identity.txt")
        .to_string();
    vec![
        SECRET.into(),
        SESSION.into(),
        PASSPHRASE.into(),
        key.clone(),
        key.to_lowercase(),
        // halves too: a message that cuts a secret short still leaks it
        SECRET[..20].into(),
        SECRET[20..].into(),
        SESSION[..30].into(),
    ]
}

/// Checks one outcome against the contract; returns what is wrong.
fn check(job: &Job, o: &Outcome, secrets: &[String]) -> Vec<String> {
    let mut wrong = Vec::new();
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    if o.code != job.status {
        wrong.push(format!("exit {}, expected {}", o.code, job.status));
    }
    if job.status == 0 {
        let printed = out.contains("export AWS_ACCESS_KEY_ID=")
            || out.contains("access key id:")
            || out.starts_with("-----BEGIN AGE ENCRYPTED FILE-----");
        if !printed {
            wrong.push(format!("success without the credentials on stdout: {out}"));
        }
    } else {
        if !o.stdout.is_empty() {
            wrong.push(format!("stdout not empty: {out}"));
        }
        if !err.starts_with("handoff: ") {
            wrong.push("stderr does not start with 'handoff: '".into());
        }
        let lines = err.trim_end().lines().count();
        if !(1..=2).contains(&lines) {
            wrong.push(format!("{lines} lines of message"));
        }
        if !job.want.is_empty() && !err.contains(&job.want) {
            wrong.push(format!("message lacks {:?}", job.want));
        }
    }
    // whatever the sender wrote, no escape sequence reaches a terminal
    if let Some(c) = o
        .stdout
        .iter()
        .chain(&o.stderr)
        .find(|&&c| c < 0x20 && c != b'\n' && c != b'\t')
    {
        wrong.push(format!("control character {c:#04x} in the output"));
    }
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        wrong.push("panic".into());
    }
    for s in secrets {
        if err.contains(s.as_str()) {
            wrong.push(format!("secret {}... in stderr", &s[..8]));
        }
    }
    if o.cpu > CPU_LIMIT {
        wrong.push(format!("{:?} of CPU time", o.cpu));
    }
    if o.max_rss_kb > RSS_LIMIT_KB {
        wrong.push(format!("peak RSS {} KiB", o.max_rss_kb));
    }
    if wrong.is_empty() {
        return wrong;
    }
    vec![format!(
        "{}: {}\n    stderr: {}",
        job.label,
        wrong.join("; "),
        err.trim_end()
    )]
}

#[derive(Default)]
struct Stats {
    runs: usize,
    max_rss_kb: u64,
    max_rss_case: String,
    max_cpu: Duration,
    max_cpu_case: String,
    max_wall: Duration,
}

/// Runs every job on two threads (the machine's cores are shared) and
/// asserts that none went wrong, listing all that did.
fn run_jobs(home: &Path, jobs: Vec<Job>) -> Stats {
    let secrets = secrets();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let stats = Mutex::new(Stats::default());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let o = run_measured(home, &job.args, &job.input);
                let wrong = check(job, &o, &secrets);
                failures.lock().unwrap().extend(wrong);
                let mut st = stats.lock().unwrap();
                st.runs += 1;
                if o.max_rss_kb > st.max_rss_kb {
                    st.max_rss_kb = o.max_rss_kb;
                    st.max_rss_case = job.label.clone();
                }
                if o.cpu > st.max_cpu {
                    st.max_cpu = o.cpu;
                    st.max_cpu_case = job.label.clone();
                }
                st.max_wall = st.max_wall.max(o.wall);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} runs broke the contract:\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n")
    );
    stats.into_inner().unwrap()
}

fn report(what: &str, st: &Stats) {
    eprintln!(
        "{what}: {} runs; peak RSS {} KiB ({}); most CPU {:?} ({}); longest wall {:?}",
        st.runs, st.max_rss_kb, st.max_rss_case, st.max_cpu, st.max_cpu_case, st.max_wall
    );
}

fn os(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

/// The manifest, expanded into runs.
fn manifest_jobs() -> (Vec<Job>, usize) {
    let text = fs::read_to_string(corpus().join("MANIFEST")).expect("fixtures/hostile/MANIFEST");
    let mut jobs = Vec::new();
    let mut cases = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        cases += 1;
        let (spec, want) = match line.split_once(" | ") {
            Some((s, w)) => (s, w.trim().to_string()),
            None => (line, String::new()),
        };
        let f: Vec<&str> = spec.split_whitespace().collect();
        let [status, how, file] = f[..] else {
            panic!("MANIFEST line {}: {line}", n + 1)
        };
        let status: i32 = status.parse().expect("a status");
        let label = format!("{how} {file}");
        let job = |args: Vec<OsString>, input: Input, label: String| Job {
            label,
            args,
            input,
            status,
            want: want.clone(),
        };
        let bytes = || fs::read(corpus().join(file)).expect(file);
        match how {
            "open" => {
                for cmd in ["open", "show"] {
                    jobs.push(job(
                        os(&[cmd, "-i", "identity.txt", file]),
                        Input::Null,
                        format!("{cmd} {file}"),
                    ));
                }
            }
            "stdin" => jobs.push(job(
                os(&["open", "-i", "identity.txt", "-"]),
                Input::Bytes(bytes()),
                label,
            )),
            "passphrase" => jobs.push(job(
                os(&["open", "--passphrase-file", "passphrase.txt", file]),
                Input::Null,
                label,
            )),
            "identity" => jobs.push(job(
                os(&["open", "-i", file, "token.age"]),
                Input::Null,
                label,
            )),
            "seal" => {
                jobs.push(job(
                    os(&["seal", "-R", "recipient.txt", "-a", "--input", file]),
                    Input::Null,
                    label.clone(),
                ));
                jobs.push(job(
                    os(&["seal", "-R", "recipient.txt", "-a"]),
                    Input::Bytes(bytes()),
                    format!("{label} (stdin)"),
                ));
            }
            "truncations" => {
                let whole = bytes();
                let trimmed = whole.trim_ascii_end();
                for cut in 0..whole.len() {
                    let prefix = &whole[..cut];
                    let mut j = job(
                        os(&["open", "-i", "identity.txt", "-"]),
                        Input::Bytes(prefix.to_vec()),
                        format!("{file} cut to {cut} bytes"),
                    );
                    if prefix.trim_ascii_end() == trimmed {
                        j.status = 0;
                    }
                    jobs.push(j);
                }
            }
            "bitflips" => {
                let whole = bytes();
                for at in 0..whole.len() {
                    let mut b = whole.clone();
                    b[at] ^= 1 << (at % 8);
                    jobs.push(job(
                        os(&["open", "-i", "identity.txt", "-"]),
                        Input::Bytes(b),
                        format!("{file} with bit {} of byte {at} flipped", at % 8),
                    ));
                }
            }
            other => panic!("MANIFEST line {}: unknown HOW {other}", n + 1),
        }
    }
    (jobs, cases)
}

#[test]
fn the_corpus() {
    let home = tempfile::tempdir().unwrap();
    let (jobs, cases) = manifest_jobs();
    assert!(cases > 150, "only {cases} cases in the MANIFEST");
    let st = run_jobs(home.path(), jobs);
    report(&format!("hostile corpus: {cases} manifest cases"), &st);
}

/// The recipient of the corpus identity, for tokens made here.
fn recipient() -> handoff::age::x25519::Recipient {
    fs::read_to_string(corpus().join("recipient.txt"))
        .expect("recipient.txt")
        .trim()
        .parse()
        .expect("an age recipient")
}

fn age_seal(plaintext: &[u8]) -> Vec<u8> {
    let r = recipient();
    let enc = handoff::age::Encryptor::with_recipients(std::iter::once(
        &r as &dyn handoff::age::Recipient,
    ))
    .unwrap();
    let mut out = vec![];
    let mut w = enc.wrap_output(&mut out).unwrap();
    w.write_all(plaintext).unwrap();
    w.finish().unwrap();
    out
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

#[test]
fn cases_too_large_to_commit() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    const BIG: u64 = 200 * 1000 * 1000;
    // sparse files: 200 MB long, no disk used
    let sparse = |name: &str| {
        let p = dir.join(name);
        fs::File::create(&p).unwrap().set_len(BIG).unwrap();
        p.into_os_string()
    };
    let big_token = sparse("big.age");
    let big_id = sparse("big-identity.txt");
    let big_doc = sparse("big.json");
    let big_recipients = sparse("big-recipients.txt");
    let big_pass = sparse("big-passphrase.txt");
    let token = fs::read(corpus().join("token.age")).unwrap();

    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        fs::write(&p, bytes).unwrap();
        p.into_os_string()
    };
    let mut deep = vec![0x81u8; 100_000];
    deep.push(0x01);
    let deep = write("deep.age", &age_seal(&deep));
    // 100 000 nested maps inside the Credentials of an otherwise good envelope
    let mut deep_maps = vec![0xa3];
    for (k, v) in [("Version", &b"\x01"[..]), ("Kind", b"\x66static")] {
        deep_maps.push(0x60 + k.len() as u8);
        deep_maps.extend_from_slice(k.as_bytes());
        deep_maps.extend_from_slice(v);
    }
    deep_maps.extend_from_slice(b"\x6bCredentials");
    for _ in 0..100_000 {
        deep_maps.extend_from_slice(b"\xa1\x61k");
    }
    deep_maps.push(0x01);
    let deep_maps = write("deep-maps.age", &age_seal(&deep_maps));
    // a header of 9 000 X25519 stanzas (just under 1 MiB): each one costs the
    // opener a Diffie-Hellman
    let mut stanzas = b"age-encryption.org/v1\n".to_vec();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut random32 = || {
        let mut b = [0u8; 32];
        for x in b.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *x = seed as u8;
        }
        b
    };
    for _ in 0..9_000 {
        stanzas.extend_from_slice(
            format!("-> X25519 {}\n{}\n", b64(&random32()), b64(&random32())).as_bytes(),
        );
    }
    stanzas.extend_from_slice(format!("--- {}\n", b64(&random32())).as_bytes());
    stanzas.extend_from_slice(&[0u8; 64]);
    assert!(stanzas.len() < handoff::MAX_SEALED_SIZE);
    let stanzas = write("stanzas.age", &stanzas);
    // one header line of 1 000 000 bytes
    let mut long_line = b"age-encryption.org/v1\n-> X25519 ".to_vec();
    long_line.resize(1_000_000, b'A');
    long_line.extend_from_slice(b"\n\n--- AAAA\n");
    let long_line = write("long-line.age", &long_line);
    // a wide header of the kind the old 16 KiB / 128-line bound was made
    // for (age re-parses its header once per line, str4d/rage#368; handoff
    // now hands it over whole): an 8 000-byte line and 120 more
    // (rfc3339_edge_times_byte_keys_non_regions_expiry_and_header_sizes has
    // the largest header handoff opens)
    let mut widest = b"age-encryption.org/v1\n-> X25519 ".to_vec();
    widest.resize(8000, b'A');
    widest.push(b'\n');
    for _ in 0..120 {
        widest.extend_from_slice(&[b'A'; 64]);
        widest.push(b'\n');
    }
    widest.extend_from_slice(b"\n--- AAAA\n");
    let widest = write("widest-header.age", &widest);
    // passphrase tokens made with the age crate at a small work factor
    let scrypt = {
        let mut r = handoff::age::scrypt::Recipient::new(PASSPHRASE.to_string().into());
        r.set_work_factor(10);
        let enc = handoff::age::Encryptor::with_recipients(std::iter::once(
            &r as &dyn handoff::age::Recipient,
        ))
        .unwrap();
        let mut out = vec![];
        let mut w = enc.wrap_output(&mut out).unwrap();
        let mut doc = vec![];
        ciborium::into_writer(
            &ciborium::Value::Map(vec![
                ("Version".into(), 1.into()),
                ("Kind".into(), "static".into()),
                (
                    "Credentials".into(),
                    ciborium::Value::Map(vec![
                        ("AccessKeyId".into(), AKID.into()),
                        ("SecretAccessKey".into(), SECRET.into()),
                    ]),
                ),
            ]),
            &mut doc,
        )
        .unwrap();
        w.write_all(&doc).unwrap();
        w.finish().unwrap();
        write("scrypt.age", &out)
    };
    let wrong_pass = write("wrong-passphrase.txt", b"Tr0ub4dor&3\n");
    let pass = corpus().join("passphrase.txt").into_os_string();
    let id = || corpus().join("identity.txt").into_os_string();
    let args = |v: Vec<OsString>| v;
    let s = |x: &str| OsString::from(x);
    let job = |label: &str, args: Vec<OsString>, input: Input, status: i32, want: &str| Job {
        label: label.into(),
        args,
        input,
        status,
        want: want.into(),
    };
    let jobs = vec![
        job(
            "200 MB stdin to open, starting with a real token",
            args(vec![s("open"), s("-i"), id(), s("-")]),
            Input::Stream {
                prefix: token.clone(),
                fill: 0,
                total: BIG,
            },
            3,
            "larger than",
        ),
        job(
            "200 MB stdin to show, armor-looking",
            args(vec![s("show"), s("-i"), id(), s("-")]),
            Input::Stream {
                prefix: b"-----BEGIN AGE ENCRYPTED FILE-----\n".to_vec(),
                fill: b'A',
                total: BIG,
            },
            3,
            "larger than",
        ),
        job(
            "200 MB stdin to seal, a JSON document that never ends",
            args(vec![s("seal"), s("-R"), s("recipient.txt"), s("-a")]),
            Input::Stream {
                prefix: format!("{{\"AccessKeyId\": \"{AKID}\", \"SecretAccessKey\": \"{SECRET}")
                    .into_bytes(),
                fill: b'A',
                total: BIG,
            },
            1,
            "larger than",
        ),
        job(
            "200 MB token file",
            args(vec![s("open"), s("-i"), id(), big_token]),
            Input::Null,
            3,
            "larger than",
        ),
        job(
            "200 MB identity file",
            args(vec![s("open"), s("-i"), big_id, s("token.age")]),
            Input::Null,
            3,
            "too large",
        ),
        job(
            "200 MB --input document",
            args(vec![
                s("seal"),
                s("-R"),
                s("recipient.txt"),
                s("-a"),
                s("--input"),
                big_doc,
            ]),
            Input::Null,
            1,
            "larger than",
        ),
        job(
            "200 MB recipients file",
            args(vec![
                s("seal"),
                s("-R"),
                big_recipients,
                s("-a"),
                s("--input"),
                s("doc-sts.json"),
            ]),
            Input::Null,
            2,
            "too large",
        ),
        job(
            "200 MB passphrase file",
            args(vec![
                s("open"),
                s("--passphrase-file"),
                big_pass,
                s("token.age"),
            ]),
            Input::Null,
            2,
            "too large",
        ),
        job(
            "100 000 nested arrays in an age file",
            args(vec![s("open"), s("-i"), id(), deep]),
            Input::Null,
            3,
            "not a handoff token",
        ),
        job(
            "100 000 nested maps inside Credentials",
            args(vec![s("open"), s("-i"), id(), deep_maps]),
            Input::Null,
            3,
            "nests too deeply",
        ),
        job(
            "9 000 X25519 stanzas",
            args(vec![s("open"), s("-i"), id(), stanzas]),
            Input::Null,
            3,
            "longer than handoff reads",
        ),
        job(
            "a 1 MB header line",
            args(vec![s("open"), s("-i"), id(), long_line]),
            Input::Null,
            3,
            "longer than handoff reads",
        ),
        job(
            "the widest header age is given",
            args(vec![s("open"), s("-i"), id(), widest]),
            Input::Null,
            3,
            "",
        ),
        job(
            "passphrase token, right passphrase (control)",
            args(vec![
                s("open"),
                s("--passphrase-file"),
                pass.clone(),
                scrypt.clone(),
            ]),
            Input::Null,
            0,
            "",
        ),
        job(
            "passphrase token, wrong passphrase",
            args(vec![
                s("open"),
                s("--passphrase-file"),
                wrong_pass,
                scrypt.clone(),
            ]),
            Input::Null,
            3,
            "wrong passphrase",
        ),
        job(
            "passphrase token, no passphrase",
            args(vec![s("open"), s("-i"), id(), scrypt]),
            Input::Null,
            3,
            "sealed with a passphrase",
        ),
    ];
    let n = jobs.len();
    let st = run_jobs(dir, jobs);
    report(&format!("hostile inputs made on the fly: {n} cases"), &st);
}

/// An envelope for the corpus recipient, as CBOR: `creds` and `top` are
/// extra (or replacing) entries of the Credentials map and the envelope.
fn envelope_with(
    creds: Vec<(ciborium::Value, ciborium::Value)>,
    top: Vec<(ciborium::Value, ciborium::Value)>,
) -> Vec<u8> {
    use ciborium::Value;
    let merge = |mut base: Vec<(Value, Value)>, extra: Vec<(Value, Value)>| {
        for (k, v) in extra {
            base.retain(|(b, _)| b.as_text().is_none() || b.as_text() != k.as_text());
            base.push((k, v));
        }
        Value::Map(base)
    };
    let credentials = merge(
        vec![
            ("AccessKeyId".into(), AKID.into()),
            ("SecretAccessKey".into(), SECRET.into()),
            ("SessionToken".into(), SESSION.into()),
            ("Expiration".into(), "2099-01-01T00:00:00Z".into()),
        ],
        creds,
    );
    let env = merge(
        vec![
            ("Version".into(), 1.into()),
            ("Kind".into(), "session".into()),
            ("Credentials".into(), credentials),
        ],
        top,
    );
    let mut out = vec![];
    ciborium::into_writer(&env, &mut out).unwrap();
    out
}

/// What the second outside review broke (issue 10), as families: times at
/// the edges of RFC 3339 in every field and input, keys that are not text,
/// a Region that is not one, expired documents, and age headers from one
/// recipient to the largest handoff opens.
#[test]
fn rfc3339_edge_times_byte_keys_non_regions_expiry_and_header_sizes() {
    use ciborium::Value;
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        fs::write(&p, bytes).unwrap();
        p.into_os_string()
    };
    let s = |x: &str| OsString::from(x);
    let id = || corpus().join("identity.txt").into_os_string();
    let mut jobs = Vec::new();
    let mut job = |label: String, args: Vec<OsString>, status: i32, want: &str| {
        jobs.push(Job {
            label,
            args,
            input: Input::Null,
            status,
            want: want.into(),
        })
    };
    // Times outside 1970-9999 UTC once the offset is applied: refused by
    // every command that reads a token, in both date fields, as text and
    // as a tag-0 date; never a panic.
    let edges = [
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59.999999999-00:01",
        "0000-01-01T00:00:00+23:59",
        "1969-12-31T23:59:59Z",
    ];
    for (n, edge) in edges.iter().enumerate() {
        for tagged in [false, true] {
            let v = || {
                if tagged {
                    Value::Tag(0, Box::new((*edge).into()))
                } else {
                    (*edge).into()
                }
            };
            for field in ["Expiration", "IssuedAt"] {
                let bytes = if field == "Expiration" {
                    envelope_with(vec![(field.into(), v())], vec![])
                } else {
                    envelope_with(vec![], vec![(field.into(), v())])
                };
                let file = write(&format!("edge-{n}-{tagged}-{field}.age"), &age_seal(&bytes));
                let want = format!("{field} is not an RFC 3339 date");
                for cmd in [
                    vec![s("open"), s("-i"), id(), file.clone()],
                    vec![s("open"), s("--allow-expired"), s("-i"), id(), file.clone()],
                    vec![s("show"), s("-i"), id(), file.clone()],
                    vec![s("exec"), s("-i"), id(), file.clone(), s("--"), s("true")],
                ] {
                    job(
                        format!("{edge} as {field} (tag 0: {tagged}), {:?}", cmd[0]),
                        cmd,
                        3,
                        &want,
                    );
                }
            }
        }
        // the same in a credential document given to seal
        let doc = common::sts_document().replace("2099-01-01T00:00:00+00:00", edge);
        let doc = write(&format!("edge-{n}.json"), doc.as_bytes());
        job(
            format!("{edge} in a document to seal"),
            vec![
                s("seal"),
                s("-R"),
                s("recipient.txt"),
                s("-a"),
                s("--input"),
                doc,
            ],
            1,
            "not an ISO 8601 date",
        );
    }
    // the last second handoff accepts opens and shows
    let latest = write(
        "latest.age",
        &age_seal(&envelope_with(
            vec![("Expiration".into(), "9999-12-31T23:59:59Z".into())],
            vec![("IssuedAt".into(), "1970-01-01T00:00:00Z".into())],
        )),
    );
    job(
        "9999-12-31T23:59:59Z opens".into(),
        vec![s("open"), s("-i"), id(), latest.clone()],
        0,
        "",
    );
    job(
        "9999-12-31T23:59:59Z shows".into(),
        vec![s("show"), s("-i"), id(), latest],
        0,
        "",
    );
    // Map keys that are byte strings, at the top and inside Credentials.
    let bytes_keys = |inner: bool| {
        let mut v: Value = ciborium::from_reader(&envelope_with(vec![], vec![])[..]).unwrap();
        let map = v.as_map_mut().unwrap();
        let map = if inner {
            map[2].1.as_map_mut().unwrap()
        } else {
            map
        };
        let key = if inner { "AccessKeyId" } else { "Kind" };
        for (k, _) in map.iter_mut() {
            if k.as_text() == Some(key) {
                *k = Value::Bytes(key.as_bytes().to_vec());
            }
        }
        let mut out = vec![];
        ciborium::into_writer(&v, &mut out).unwrap();
        out
    };
    for inner in [false, true] {
        let file = write(
            &format!("bytes-keys-{inner}.age"),
            &age_seal(&bytes_keys(inner)),
        );
        job(
            format!("byte-string map keys (inside Credentials: {inner})"),
            vec![s("open"), s("-i"), id(), file],
            3,
            "not a text string",
        );
    }
    // A Region that is not a region name is the token's fault, not the
    // command line's: exit 3 before any request is made.
    for region in ["not a region!", "US-EAST-1", "us-east-1.evil.example/"] {
        let file = write(
            &format!("region-{}.age", region.len()),
            &age_seal(&envelope_with(
                vec![],
                vec![("Region".into(), region.into())],
            )),
        );
        // refused whether or not this run uses it: with AWS_REGION set,
        // and by show
        for cmd in ["open", "show"] {
            job(
                format!("Region {region:?} with {cmd}"),
                vec![s(cmd), s("-i"), id(), file.clone()],
                3,
                "the token's Region",
            );
        }
        job(
            format!("Region {region:?} with --expect-account"),
            vec![
                s("open"),
                s("-i"),
                id(),
                s("--expect-account"),
                s("123456789012"),
                file,
            ],
            3,
            "the token's Region",
        );
    }
    // An expired document: seal refuses it (exit 4) unless --allow-expired.
    let expired =
        common::sts_document().replace("2099-01-01T00:00:00+00:00", "2020-01-01T00:00:00Z");
    let expired = write("expired.json", expired.as_bytes());
    let seal_args = |extra: &[&str]| {
        let mut v = vec![s("seal"), s("-R"), s("recipient.txt"), s("-a")];
        v.extend(extra.iter().map(|x| s(x)));
        v.push(s("--input"));
        v.push(expired.clone());
        v
    };
    job(
        "sealing an expired document".into(),
        seal_args(&[]),
        4,
        "expired at 2020-01-01T00:00:00Z",
    );
    job(
        "sealing an expired document, --allow-expired".into(),
        seal_args(&["--allow-expired"]),
        0,
        "",
    );
    // Headers: a 1000-recipient token opens with its first and last keys;
    // the largest header handoff opens costs a fraction of a second; seal
    // refuses a recipient list whose header open would refuse.
    let keys: Vec<_> = (0..1400)
        .map(|_| handoff::age::x25519::Identity::generate())
        .collect();
    let recipients_file = |name: &str, n: usize| {
        let text: String = keys[..n]
            .iter()
            .map(|k| format!("{}\n", k.to_public()))
            .collect();
        write(name, text.as_bytes())
    };
    let mut recipients = handoff::Recipients::new();
    for k in &keys[..1000] {
        recipients.add(&k.to_public().to_string()).unwrap();
    }
    let doc = handoff::parse_document(&common::sts_document()).unwrap();
    let team = write(
        "team-1000.age",
        &handoff::seal(&doc, &recipients, handoff::Form::Binary).unwrap(),
    );
    for (which, k) in [("first", &keys[0]), ("last", &keys[999])] {
        let idf = write(
            &format!("{which}.txt"),
            format!(
                "{}\n",
                handoff::secrecy::ExposeSecret::expose_secret(&k.to_string())
            )
            .as_bytes(),
        );
        job(
            format!("a 1000-recipient token, opened with its {which} key"),
            vec![s("open"), s("-i"), idf, team.clone()],
            0,
            "",
        );
    }
    let many = recipients_file("recipients-1400.txt", 1400);
    job(
        "seal to 1400 recipients".into(),
        vec![
            s("seal"),
            s("-R"),
            many,
            s("-a"),
            s("--input"),
            s("doc-sts.json"),
        ],
        2,
        "too many recipients",
    );
    let mut worst = b"age-encryption.org/v1\n".to_vec();
    let mut n = 0u8;
    loop {
        let mut share = [0u8; 32];
        share[..8].copy_from_slice(&(worst.len() as u64).to_le_bytes());
        share[31] = n;
        n = n.wrapping_add(1);
        let stanza = format!("-> X25519 {}\n{}\n", b64(&share), b64(&[n; 32]));
        if worst.len() + stanza.len() + 48 > handoff::MAX_HEADER_BYTES {
            break;
        }
        worst.extend_from_slice(stanza.as_bytes());
    }
    worst.extend_from_slice(format!("--- {}\n", b64(&[7; 32])).as_bytes());
    worst.extend_from_slice(&[0u8; 64]);
    let worst = write("worst-header.age", &worst);
    job(
        "the largest header handoff opens, all X25519 stanzas".into(),
        vec![s("open"), s("-i"), id(), worst],
        3,
        "no identity matches",
    );
    let n = jobs.len();
    let st = run_jobs(dir, jobs);
    report(&format!("review round two: {n} cases"), &st);
}

/// `show` escapes what a terminal would act on or hide (control and format
/// characters, bidirectional overrides among them), and the signer line
/// comes before anything the sender wrote, so a label cannot fake one.
#[test]
fn show_cannot_be_spoofed_by_a_label() {
    let home = tempfile::tempdir().unwrap();
    let fake = format!(
        "x{}signed by:          alice SHA256:AAAA (verified)",
        " ".repeat(200)
    );
    let mut jobs = Vec::new();
    for (n, label) in [
        "\u{202e}lebal desrever".to_string(),
        "a\u{2066}b\u{2069}c\u{200b}d\u{feff}e\u{2028}f\u{e0041}".to_string(),
        fake.clone(),
    ]
    .iter()
    .enumerate()
    {
        let bytes = envelope_with(vec![], vec![("Label".into(), label.as_str().into())]);
        let file = home.path().join(format!("label-{n}.age"));
        fs::write(&file, age_seal(&bytes)).unwrap();
        jobs.push(file);
    }
    for file in &jobs {
        let o = common::run(
            common::handoff(home.path())
                .arg("show")
                .arg("-i")
                .arg(corpus().join("identity.txt"))
                .arg(file),
        );
        let out = common::ok(&o);
        for c in [
            '\u{202e}',
            '\u{2066}',
            '\u{2069}',
            '\u{200b}',
            '\u{feff}',
            '\u{2028}',
            '\u{e0041}',
        ] {
            assert!(!out.contains(c), "{c:?} unescaped in {out}");
        }
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("kind:"), "{out}");
        assert_eq!(lines[1], "signed by:          nobody (unsigned)", "{out}");
        assert_eq!(
            out.matches("signed by:").count(),
            1 + usize::from(out.contains("(verified)"))
        );
    }
    let out = common::stdout(&common::run(
        common::handoff(home.path())
            .arg("show")
            .arg("-i")
            .arg(corpus().join("identity.txt"))
            .arg(&jobs[0]),
    ));
    assert!(out.contains("\\u{202e}lebal desrever"), "{out}");
}

/// An `ssh-rsa` key whose integer is one or more zero bytes and nothing else
/// made the age crate (0.12.1) panic wherever it read one: a recipient, a
/// recipients file, a roster, an identity file. Each place refuses it, for
/// each integer of the key, with a message and the contract's status.
#[test]
fn rsa_keys_with_an_integer_of_zero_bytes_are_refused_wherever_a_key_is_read() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    fn string(s: &[u8]) -> Vec<u8> {
        [&(s.len() as u32).to_be_bytes()[..], s].concat()
    }
    let public = |e: &[u8], n: &[u8]| [string(b"ssh-rsa"), string(e), string(n)].concat();
    let good_n = [0x7fu8; 256];
    let zeros: [&[u8]; 3] = [&[0], &[0, 0, 0], &[0; 257]];
    let mut lines = Vec::new();
    for z in zeros {
        lines.push(format!("ssh-rsa {} someone", b64(&public(z, &good_n))));
        lines.push(format!("ssh-rsa {} someone", b64(&public(&[1, 0, 1], z))));
        // unpadded base64, as age also reads it
        lines.push(format!(
            "ssh-rsa {}",
            b64(&public(z, &good_n)).trim_end_matches('=')
        ));
    }
    let (home, age_key) = common::home_with_identity();
    let dir = home.path();
    for (i, line) in lines.iter().enumerate() {
        let mut c = common::handoff(dir);
        c.args(["seal", "-r", line]);
        let err = common::fails(
            &common::run_with_input(&mut c, common::sts_document().as_bytes()),
            2,
            &[SECRET],
        );
        assert!(err.contains("invalid SSH recipient"), "{i}: {err}");

        let file = dir.join(format!("recipients-{i}"));
        fs::write(&file, format!("{age_key}\n# a comment\n{line}\n")).unwrap();
        let mut c = common::handoff(dir);
        c.args(["seal", "-R"]).arg(&file);
        let err = common::fails(
            &common::run_with_input(&mut c, common::sts_document().as_bytes()),
            2,
            &[SECRET],
        );
        assert!(err.contains("line 3"), "{i}: {err}");

        let roster = dir.join(format!("roster-{i}"));
        fs::write(&roster, format!("alice {age_key}\nbob {line}\n")).unwrap();
        let mut c = common::handoff(dir);
        c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", AKID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .args(["seal", "--federation", "ws-{name}", "--each"])
            .arg(&roster)
            .arg("-o")
            .arg(dir.join("out"));
        let err = common::fails(&common::run(&mut c), 2, &[SECRET]);
        assert!(err.contains("line 2"), "{i}: {err}");
        assert!(!dir.join("out").exists());
    }

    // OpenSSH private keys: the public key in the file, or any of the six
    // integers of its unencrypted private part.
    let sealed = dir.join("token.age");
    let mut c = common::handoff(dir);
    c.args(["seal", "-r", &age_key, "-o"]).arg(&sealed);
    common::ok(&common::run_with_input(
        &mut c,
        common::sts_document().as_bytes(),
    ));
    let good_public = public(&[1, 0, 1], &good_n);
    let ints: [&[u8]; 6] = [&good_n, &[1, 0, 1], &[5], &[6], &[7], &[11]];
    let key_file = |public: &[u8], ints: &[&[u8]]| {
        let mut private = [1u32.to_be_bytes(), 1u32.to_be_bytes()].concat();
        private.extend(string(b"ssh-rsa"));
        for n in ints {
            private.extend(string(n));
        }
        private.extend(string(b"comment"));
        private.extend([1, 2, 3]);
        let key = [
            b"openssh-key-v1\0".to_vec(),
            string(b"none"),
            string(b"none"),
            string(b""),
            1u32.to_be_bytes().to_vec(),
            string(public),
            string(&private),
        ]
        .concat();
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            b64(&key)
        )
    };
    let mut keys = vec![key_file(&public(&[0], &good_n), &ints)];
    for i in 0..6 {
        for z in zeros {
            let mut bad = ints;
            bad[i] = z;
            keys.push(key_file(&good_public, &bad));
        }
    }
    for (i, key) in keys.iter().enumerate() {
        let path = dir.join(format!("id_rsa_{i}"));
        fs::write(&path, key).unwrap();
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        for cmd in ["open", "show"] {
            let o = common::run(
                common::handoff(dir)
                    .args([cmd, "-i"])
                    .arg(&path)
                    .arg(&sealed),
            );
            let err = common::fails(&o, 3, &[SECRET]);
            assert!(err.contains("integer of zero bytes"), "{i} {cmd}: {err}");
        }
    }
}
