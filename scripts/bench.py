"""handoff against the tools a user would run instead, side by side.

Run by scripts/bench (which builds, installs, starts moto and stops it); not
meant to be run by hand. Each pair of commands runs interleaved, A B A B ...,
so that whatever else the machine is doing falls on both alike, and the
figure quoted is the median of the per-pair ratios A/B, with the 25th and
75th percentiles beside it.

Timing is wall time from spawn to exit (posix_spawn, wait4), output to
/dev/null. Peak memory is GNU time's "Maximum resident set size" (time -v).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def spawn_wait(argv, env, stdin_path=None, quiet=False):
    """Runs argv once (stderr to /dev/null too when quiet); returns
    (seconds, exit status, rusage)."""
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    if quiet:
        actions.append((os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0))
    if stdin_path:
        actions.append((os.POSIX_SPAWN_OPEN, 0, str(stdin_path), os.O_RDONLY, 0))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, os.waitstatus_to_exitcode(status), usage


class Case:
    def __init__(self, argv, env, stdin=None, quiet=False):
        self.argv = [shutil.which(argv[0], path=env.get("PATH")) or argv[0]] + list(argv[1:])
        self.env = env
        self.stdin = stdin
        self.quiet = quiet

    def run(self):
        t, code, _ = spawn_wait(self.argv, self.env, self.stdin, self.quiet)
        if code != 0:
            check = subprocess.run(self.argv, env=self.env, capture_output=True,
                                   stdin=open(self.stdin or os.devnull, "rb"))
            sys.exit(f"bench: {' '.join(self.argv)} exited {code}: "
                     f"{check.stderr.decode(errors='replace').strip()[:400]}")
        return t


def quartiles(xs):
    if len(xs) < 4:
        m = statistics.median(xs)
        return m, m, m
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[1], q[2]


def pair(a, b, n, warmup=2):
    """Interleaved A B A B ...; returns (ratios, a times, b times)."""
    for _ in range(warmup):
        a.run()
        b.run()
    ra, rb, ratios = [], [], []
    for _ in range(n):
        ta = a.run()
        tb = b.run()
        ra.append(ta)
        rb.append(tb)
        ratios.append(ta / tb)
    return ratios, ra, rb


def peak_rss(case, n):
    """Peak RSS (KiB) per run, from GNU time -v."""
    out = []
    argv = ["/usr/bin/time", "-v"] + case.argv
    for _ in range(n):
        p = subprocess.run(argv, env=case.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE,
                           stdin=open(case.stdin or os.devnull, "rb"))
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(case.argv)} failed under time -v")
        for line in p.stderr.decode().splitlines():
            if "Maximum resident set size" in line:
                out.append(int(line.rsplit(":", 1)[1]))
    return out


def ms(x):
    return f"{x * 1000:.1f} ms" if x < 10 else f"{x:.2f} s"


ROWS = []


def row(name, goal, ratios, a, b, unit=ms, note=""):
    q1, med, q3 = quartiles(ratios)
    met = "" if goal is None else ("yes" if med <= goal else "NO")
    ROWS.append((name, unit(statistics.median(a)), unit(statistics.median(b)),
                 f"{med:.3f}x", f"{q1:.2f}-{q3:.2f}", "" if goal is None else f"<= {goal}x",
                 met, str(len(ratios)), note))
    print(f"  {name}: {med:.3f}x ({q1:.2f}-{q3:.2f}, n={len(ratios)})", file=sys.stderr, flush=True)


def print_table(a="handoff", b="other"):
    head = ("measurement", a, b, "ratio (median)", "p25-p75", "goal", "met", "pairs", "other tool")
    widths = [max(len(r[i]) for r in ROWS + [head]) for i in range(len(head))]
    fmt = "| " + " | ".join("{:<%d}" % w for w in widths) + " |"
    print(fmt.format(*head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in ROWS:
        print(fmt.format(*r))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--handoff", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--venv", required=True)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "60")))
    ap.add_argument("--only", choices=["server", "team", "revoke"],
                    help="run only this row: server (exec --server under load), team (issued over a 10,000-record table), revoke (the team ledger's lease)")
    ap.add_argument("--old", help="compare this handoff binary (A = --handoff, B = --old) instead of the other tools")
    args = ap.parse_args()
    work = Path(args.work)
    n = args.runs
    h = args.handoff

    env = {
        "PATH": f"{args.venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work / "home"),
        "XDG_CONFIG_HOME": str(work / "home/.config"),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1",
        "AWS_PAGER": "",
    }
    (work / "home/.config").mkdir(parents=True, exist_ok=True)
    ident = work / "identity.txt"
    pub = (work / "recipient.txt").read_text().strip()
    doc = work / "document.json"
    token = work / "token.age"
    envelope = work / "envelope.cbor"
    many = work / "recipients-1000.txt"
    policy_json = subprocess.run([h, "policy", "--allow", "DescribeImages", "--allow", "RunInstances"],
                                 env=env, capture_output=True, check=True).stdout.decode().strip()

    if args.old:
        return compare(args, env, n)
    if args.only == "server":
        print(server_load(h, env, args))
        return
    if args.only == "team":
        team_issued(h, env, args, max(5, n // 12))
        print_table()
        return
    if args.only == "revoke":
        revoke_table_vs_file(h, env, args, max(8, n // 6))
        print_table("table", "file")
        return

    print(f"bench: {n} interleaved pairs per row (fewer where the other tool is slow)", file=sys.stderr)
    r = pair(Case([h, "open", str(token), "-i", str(ident), "--format", "credential-process"], env),
             Case(["age", "-d", "-i", str(ident), str(token)], env), n)
    row("open (credential-process) vs age -d", 0.8, *r, note="age -d -i ID TOKEN")

    r = pair(Case([h, "seal", "-r", pub, "--input", str(doc)], env),
             Case(["age", "-e", "-r", pub, str(envelope)], env), n)
    row("seal a JSON document vs age -e", 0.8, *r, note="age -e -r KEY ENVELOPE")

    r = pair(Case([h, "seal", "-R", str(many), "--input", str(doc)], env),
             Case(["age", "-e", "-R", str(many), str(envelope)], env), max(10, n // 3))
    row("seal to 1000 recipients vs age -R", 0.9, *r, note="age -e -R FILE ENVELOPE")

    mint = Case([h, "seal", "--federation", "BenchUser", "--allow", "DescribeImages", "--allow",
                 "RunInstances", "--duration", "3h", "--endpoint-url", args.endpoint, "-r", pub], env)
    r = pair(mint, Case(["aws", "sts", "get-federation-token", "--name", "BenchUser", "--policy",
                         policy_json, "--duration-seconds", "10800", "--endpoint-url", args.endpoint], env),
             max(8, n // 6), warmup=1)
    row("mint+seal vs aws sts get-federation-token", 0.05, *r, note="aws sts get-federation-token")

    a = Case([h, "open", str(token), "-i", str(ident), "--format", "credential-process"], env)
    b = Case(["age", "-d", "-i", str(ident), str(token)], env)
    ra, rb = [], []
    for _ in range(max(10, n // 4)):
        ra += peak_rss(a, 1)
        rb += peak_rss(b, 1)
    row("peak RSS, open vs age -d", 1.0, [x / y for x, y in zip(ra, rb)], ra, rb,
        unit=lambda k: f"{k / 1024:.1f} MiB", note="GNU time -v, max RSS")

    story(h, env, args, pub, policy_json, max(5, n // 12))
    batch(h, env, args, policy_json, max(3, n // 20))
    team_issued(h, env, args, max(5, n // 12))
    revoke_table_vs_file(h, env, args, max(8, n // 6))
    load = server_load(h, env, args)
    print_table()
    print()
    print("| load | answered | p50 | p99 | max | goal | met |")
    print("|---|---|---|---|---|---|---|")
    print(load)


def story(h, env, args, pub, policy_json, n):
    """The whole story: policy, mint and seal, one EC2 call with the token.
    Against the same story told with the AWS CLI and age."""
    work = Path(args.work)
    ident = work / "identity.txt"
    tok = work / "story.age"
    pol = work / "story-policy.json"
    raw = work / "story-raw.json"
    ep = args.endpoint

    def ours():
        start = time.perf_counter()
        with open(pol, "wb") as f:
            subprocess.run([h, "policy", "--allow", "DescribeImages", "--allow", "DescribeAvailabilityZones"],
                           env=env, stdout=f, check=True)
        subprocess.run([h, "seal", "--federation", "StoryUser", "--policy-file", str(pol), "--duration", "3h",
                        "--endpoint-url", ep, "-r", pub, "-o", str(tok), "--force"], env=env, check=True)
        subprocess.run([h, "ec2", str(tok), "-i", str(ident), "--endpoint-url", ep, "--region", "us-east-1",
                        "DescribeAvailabilityZones"], env=env, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    def theirs():
        start = time.perf_counter()
        with open(raw, "wb") as f:
            subprocess.run(["aws", "sts", "get-federation-token", "--name", "StoryUser", "--policy", policy_json,
                            "--duration-seconds", "10800", "--endpoint-url", ep], env=env, stdout=f, check=True)
        enc = subprocess.run(["age", "-e", "-r", pub, str(raw)], env=env, capture_output=True, check=True).stdout
        plain = subprocess.run(["age", "-d", "-i", str(ident)], input=enc, env=env, capture_output=True,
                               check=True).stdout
        import json
        c = json.loads(plain)["Credentials"]
        e2 = dict(env, AWS_ACCESS_KEY_ID=c["AccessKeyId"], AWS_SECRET_ACCESS_KEY=c["SecretAccessKey"],
                  AWS_SESSION_TOKEN=c["SessionToken"])
        subprocess.run(["aws", "ec2", "describe-availability-zones", "--endpoint-url", ep,
                        "--region", "us-east-1"], env=e2, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start

    ours(), theirs()
    ra, rb = [], []
    for _ in range(n):
        ra.append(ours())
        rb.append(theirs())
    row("whole story: policy, mint+seal, ec2 call", None, [x / y for x, y in zip(ra, rb)], ra, rb,
        note="aws sts + age -e + age -d + aws ec2")


def batch(h, env, args, policy_json, n, people=40):
    """The issuer's side: one token for each of 40 people, with --each (four
    mints at a time), against 40 sequential handoff runs, and against the
    AWS CLI and age run per person."""
    work = Path(args.work)
    ep = args.endpoint
    roster = work / "roster.txt"
    lines = []
    for i in range(people):
        key = subprocess.run(["age-keygen"], env=env, capture_output=True, check=True).stdout.decode()
        pub = next(l.split(": ", 1)[1] for l in key.splitlines() if l.startswith("# public key: "))
        lines.append((f"p{i:02}", pub))
    roster.write_text("".join(f"{name} {pub}\n" for name, pub in lines))
    out = work / "batch"
    each = Case([h, "seal", "--federation", "ws-{name}", "--each", str(roster), "--allow", "DescribeImages",
                 "--endpoint-url", ep, "-o", str(out), "--force"], env)

    def ours():
        return each.run()

    def sequential():
        start = time.perf_counter()
        for name, pub in lines:
            subprocess.run([h, "seal", "--federation", f"ws-{name}", "--allow", "DescribeImages",
                            "--endpoint-url", ep, "-r", pub, "-o", str(out / f"{name}.age"), "--force"],
                           env=env, check=True)
        return time.perf_counter() - start

    def aws_and_age():
        start = time.perf_counter()
        raw = work / "batch-raw.json"
        for name, pub in lines:
            with open(raw, "wb") as f:
                subprocess.run(["aws", "sts", "get-federation-token", "--name", f"ws-{name}", "--policy",
                                policy_json, "--endpoint-url", ep], env=env, stdout=f, check=True)
            subprocess.run(["age", "-e", "-r", pub, "-o", str(out / f"{name}.age"), str(raw)], env=env,
                           check=True)
        return time.perf_counter() - start

    for other, goal, name, note in ((sequential, 0.7, "40-person --each vs 40 handoff seal runs",
                                     "40 x handoff seal --federation"),
                                    (aws_and_age, 0.05, "40-person --each vs aws sts + age per person",
                                     "40 x (aws sts get-federation-token; age -e)")):
        ours(), other()
        ra, rb = [], []
        for _ in range(n):
            ra.append(ours())
            rb.append(other())
        row(name, goal, [x / y for x, y in zip(ra, rb)], ra, rb, note=note)


# IAM users made in moto for the revoke row: one per revoke, so that every
# revoke starts from an empty policy on either side.
REVOKE_SETUP = r"""
import boto3, sys
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
for name in sys.argv[2:]:
    iam.create_user(UserName=name)
"""


def revoke_table_vs_file(h, env, args, n):
    """handoff revoke with a team ledger (dynamodb://, against moto's
    DynamoDB: GetCallerIdentity, the lease taken, renewed and released, the
    record marked with a conditional update) against handoff revoke with
    the local file ledger (a lock file), interleaved. Each revoke denies
    one federated session on an IAM user of its own (an empty policy to
    start from); both read the IAM policies, write, and read back."""
    work = Path(args.work)
    ep = args.endpoint
    runs = n + 1
    users = [f"rv-{side}-{i}" for side in ("table", "file") for i in range(runs)]
    subprocess.run([f"{args.venv}/bin/python", "-c", REVOKE_SETUP, ep] + users, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    now = time.time()
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    def records(side):
        out = []
        for i in range(runs):
            out.append(json.dumps({
                "token_id": "%032x" % (0xbe0c000000 + i + (0x1000 if side == "table" else 0)),
                "kind": "federation", "access_key_id": f"ASIABENCH{i:06}",
                "userid": f"123456789012:rv-{side}-{i}",
                "arn": f"arn:aws:sts::123456789012:federated-user/rv-{side}-{i}",
                "minted_by": f"arn:aws:iam::123456789012:user/rv-{side}-{i}",
                "name": f"rv-{side}-{i}", "recipients": [], "recipients_fingerprint": "",
                "issued_at": stamp(now - 60), "expires_at": stamp(now + 3600)}))
        return "".join(l + "\n" for l in out)

    ledger = work / "revoke-ledger.jsonl"
    ledger.write_text(records("file"))
    table = "dynamodb://bench-ledger?region=us-east-1"
    file_env = dict(env, HANDOFF_LEDGER=str(ledger))
    table_env = dict(env, HANDOFF_LEDGER=table, AWS_ENDPOINT_URL=ep)
    imported = work / "revoke-table.jsonl"
    imported.write_text(records("table"))
    for argv in (["ledger", "init", table], ["ledger", "import", str(imported), "--to", table]):
        subprocess.run([h] + argv, env=table_env, check=True, stdout=subprocess.DEVNULL)

    def revoke(side, i):
        e = table_env if side == "table" else file_env
        return Case([h, "revoke", f"name:rv-{side}-{i}", "--yes", "--endpoint-url", ep], e, quiet=True).run()

    revoke("table", 0), revoke("file", 0)
    ra, rb = [], []
    for i in range(1, runs):
        ra.append(revoke("table", i))
        rb.append(revoke("file", i))
    row("revoke, team ledger (lease) vs file ledger", 2.0, [x / y for x, y in zip(ra, rb)], ra, rb,
        note="handoff revoke, HANDOFF_LEDGER=FILE")


# The command that exec --server runs for the load row: keeps IDLE
# connections open that send nothing (reopening any the server cuts off),
# forks CLIENTS processes, and in each of PER rounds has all of them make an
# authorised request at once (as the SDKs of 50 processes started together
# would); prints the latencies as JSON.
SERVER_LOAD = r"""
import json, os, select, socket, sys, threading, time
url = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
host, port = url.split("/")[2].split(":")
port = int(port)
idle_n, clients, per = (int(a) for a in sys.argv[1:4])
stop = False
def hold_idle():
    conns = [socket.create_connection((host, port)) for _ in range(idle_n)]
    while not stop:
        ready, _, _ = select.select(conns, [], [], 0.05)
        for s in ready:
            s.close()
            conns[conns.index(s)] = socket.create_connection((host, port))
threading.Thread(target=hold_idle, daemon=True).start()
time.sleep(0.2)
req = ("GET / HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n\r\n" % (host, token)).encode()
go_r, go_w = os.pipe()
out_r, out_w = os.pipe()
pids = []
for _ in range(clients):
    pid = os.fork()
    if pid == 0:
        for _ in range(per):
            os.read(go_r, 1)
            t = time.perf_counter()
            try:
                s = socket.create_connection((host, port), timeout=10)
                s.sendall(req)
                buf = b""
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    buf += b
                s.close()
                good = buf.startswith(b"HTTP/1.1 200")
            except OSError:
                good = False
            os.write(out_w, ("%s %.6f\n" % ("ok" if good else "err", time.perf_counter() - t)).encode())
        os._exit(0)
    pids.append(pid)
os.close(out_w)
data = b""
# PER rounds: all CLIENTS ask at once, and the next round waits for every answer
for _ in range(per):
    os.write(go_w, b"x" * clients)
    while data.count(b"\n") < len(pids) * (_ + 1):
        data += os.read(out_r, 65536)
for pid in pids:
    os.waitpid(pid, 0)
stop = True
ok = sorted(float(l.split()[1]) for l in data.decode().splitlines() if l.startswith("ok "))
errors = sum(1 for l in data.decode().splitlines() if l.startswith("err "))
pick = lambda q: ok[min(len(ok) - 1, int(q * len(ok)))]
print(json.dumps({"requests": len(ok) + errors, "errors": errors, "p50": pick(0.5), "p99": pick(0.99), "max": ok[-1]}))
"""


def server_load(h, env, args, idle=20, clients=50, per=20):
    """exec --server under load: IDLE connections that send nothing, and
    CLIENTS processes making authorised requests at once. The goal: p99 at
    most 20 ms, and every request answered the first time (an SDK would
    retry a failure)."""
    work = Path(args.work)
    script = work / "server-load.py"
    script.write_text(SERVER_LOAD)
    python = shutil.which("python3", path=env.get("PATH")) or sys.executable
    out = subprocess.run([h, "exec", "--server", str(work / "token.age"), "-i", str(work / "identity.txt"),
                          "--", python, str(script), str(idle), str(clients), str(per)],
                         env=env, capture_output=True, check=True).stdout.decode()
    r = json.loads(out)
    met = "yes" if r["p99"] <= 0.020 and r["errors"] == 0 else "NO"
    line = (f"| exec --server: {idle} idle connections + {clients} concurrent clients | "
            f"{r['requests']} requests, {r['errors']} failed | p50 {ms(r['p50'])} | p99 {ms(r['p99'])} | "
            f"max {ms(r['max'])} | p99 <= 20 ms, none failed | {met} |")
    print(f"  {line}", file=sys.stderr, flush=True)
    return line


def team_issued(h, env, args, n, records=10_000):
    """issued --all over a team ledger of 10,000 records in moto's DynamoDB
    (filled with boto3 batch_write_item) against the same 10,000 records in
    a file ledger: every page of the table read, sorted, printed."""
    import boto3
    work = Path(args.work)
    url = "dynamodb://bench-ledger?region=us-east-1"
    subprocess.run([h, "ledger", "init", url, "--endpoint-url", args.endpoint], env=env,
                   check=True, capture_output=True)
    db = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name="us-east-1",
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    lines, batch_items = [], []
    for i in range(records):
        who = ["alice", "bob", "carol"][i % 3]
        r = {"token_id": f"{i:032x}", "kind": "federation", "access_key_id": f"ASIABENCH{i:011d}",
             "userid": f"123456789012:ws-{i}", "arn": f"arn:aws:sts::123456789012:federated-user/ws-{i}",
             "minted_by": f"arn:aws:iam::123456789012:user/{who}", "name": f"person-{i}",
             "recipients": ["age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"],
             "recipients_fingerprint": "0123456789ab", "label": None,
             "policy_sha256": "0" * 64, "issued_at": f"2026-12-07T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
             "expires_at": "2099-01-01T00:00:00Z", "file": f"/home/issuer/out/person-{i}.age", "revoked_at": None}
        text = json.dumps(r)
        lines.append(text)
        batch_items.append({"PutRequest": {"Item": {
            "id": {"S": f"record#{r['token_id']}"}, "type": {"S": "record"},
            "token_id": {"S": r["token_id"]}, "revision": {"N": "1"}, "issued_at": {"S": r["issued_at"]},
            "minted_by": {"S": r["minted_by"]}, "record": {"S": text}}}})
        if len(batch_items) == 25:
            db.batch_write_item(RequestItems={"bench-ledger": batch_items})
            batch_items = []
    if batch_items:
        db.batch_write_item(RequestItems={"bench-ledger": batch_items})
    ledger = work / "issued-10k.jsonl"
    ledger.write_text("\n".join(lines) + "\n")
    table_env = dict(env, HANDOFF_LEDGER=url, AWS_ENDPOINT_URL=args.endpoint)
    file_env = dict(env, HANDOFF_LEDGER=str(ledger))
    out = subprocess.run([h, "issued", "--all"], env=table_env, capture_output=True, check=True).stdout
    assert out.count(b"\n") == records + 1, out[:200]
    r = pair(Case([h, "issued", "--all"], table_env), Case([h, "issued", "--all"], file_env), n, warmup=1)
    took = statistics.median(r[1])
    # The floor: the same Scans (filter, projection, consistent) from boto3,
    # which spends nothing on the records: what moto takes by itself.
    floor = []
    for _ in range(3):
        t0 = time.perf_counter()
        kw = dict(TableName="bench-ledger", ConsistentRead=True, FilterExpression="#t = :r",
                  ProjectionExpression="#rec", ExpressionAttributeNames={"#t": "type", "#rec": "record"},
                  ExpressionAttributeValues={":r": {"S": "record"}})
        seen = 0
        while True:
            page = db.scan(**kw)
            seen += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        assert seen == records
        floor.append(time.perf_counter() - t0)
    row(f"issued, {records} records: table vs file", None, *r,
        note=f"issued over a {records}-line file; table goal <= 3 s: {'met' if took <= 3.0 else 'NOT met'}; "
             f"moto alone (boto3, same Scans): {ms(statistics.median(floor))}")


def compare(args, env, n):
    """A/B of two handoff builds on the same cases: ratio new/old."""
    work = Path(args.work)
    ident, doc, token, many = (work / "identity.txt", work / "document.json", work / "token.age",
                               work / "recipients-1000.txt")
    pub = (work / "recipient.txt").read_text().strip()
    cases = [
        ("open (credential-process)", ["open", str(token), "-i", str(ident), "--format", "credential-process"], n),
        ("seal a JSON document", ["seal", "-r", pub, "--input", str(doc)], n),
        ("seal to 1000 recipients", ["seal", "-R", str(many), "--input", str(doc)], max(10, n // 3)),
        ("mint+seal (moto)", ["seal", "--federation", "BenchUser", "--allow", "DescribeImages",
                              "--endpoint-url", args.endpoint, "-r", pub], max(10, n // 2)),
        ("--version (start-up)", ["--version"], n),
    ]
    for name, argv, runs in cases:
        r = pair(Case([args.handoff] + argv, env), Case([args.old] + argv, env), runs)
        row(name, None, *r, note="old build")
    a = Case([args.handoff, "open", str(token), "-i", str(ident), "--format", "credential-process"], env)
    b = Case([args.old, "open", str(token), "-i", str(ident), "--format", "credential-process"], env)
    ra, rb = [], []
    for _ in range(10):
        ra += peak_rss(a, 1)
        rb += peak_rss(b, 1)
    row("peak RSS, open", None, [x / y for x, y in zip(ra, rb)], ra, rb,
        unit=lambda k: f"{k / 1024:.1f} MiB", note="old build")
    print_table("new", "old")


if __name__ == "__main__":
    main()
