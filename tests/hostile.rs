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
    // the worst header handoff still hands to age: just under 16 KiB and
    // 128 lines (age re-parses it once per line, str4d/rage#368)
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
