"""Event intake throughput with PII scrubbing on: events/s per CPU core of
the server process, through HTTP `/v1/batch` (Segment's batch shape, 500
events a request, two client connections), against ClickHouse in-process
(PyPI `chdb`) inserting the same events as JSONEachRow into a MergeTree
table, in the same run.

Ours counts the CPU seconds of the `sightline serve` process (user +
system, /proc/PID/stat) while the batches go in: HTTP, JSON parsing,
Segment's field rules, scrubbing every string (listed keys, e-mail, phone,
card, IBAN, IP and JWT detectors, IP truncation), the WAL append with an
fsync per request, and the head. The peer's figure is this process's CPU
seconds for one INSERT of the whole file (no scrubbing, no HTTP: the
cheapest path it has). The target (issue 19) is 50,000 events/s per core.

Usage: python3 bench/events_ingest.py [EVENTS] [--sightline PATH]
       (default 200000; the binary defaults to target/release/sightline)
Needs: pip install chdb. Run on purpose, not in CI.
"""
import argparse
import http.client
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, free_port, proc_cpu_seconds, wait_http  # noqa: E402

NAMES = [f"Event {i:02d}" for i in range(36)] + ["Signed Up", "Order Completed", "Product Viewed", "Logged In"]
PLANS = ["free", "pro", "team", "enterprise"]


def make_events(n, seed=19):
    """`n` Segment track/page/identify messages, a realistic mix: a few
    properties each, about 1 in 20 with an e-mail in free text, 1 in 50
    with a phone number, and context.ip on every one."""
    rnd = random.Random(seed)
    t0 = 1_893_456_000  # 2030-01-01
    out = []
    for i in range(n):
        user = rnd.randrange(200_000)
        kind = rnd.choices(["track", "page", "identify"], [8, 3, 1])[0]
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + i // 10)) + f".{i % 1000:03d}Z"
        m = {
            "type": kind,
            "userId": f"user-{user}",
            "anonymousId": f"anon-{user * 7919 % 1_000_003}",
            "messageId": f"bench-{i}",
            "timestamp": ts,
            "context": {
                "ip": f"{rnd.randrange(1, 223)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}",
                "library": {"name": "analytics-python", "version": "2.4.0"},
                "locale": "en-US",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            },
        }
        note = "clicked the blue button on the pricing page"
        r = rnd.random()
        if r < 0.05:
            note = f"asked for a call back at user{user}@example.com"
        elif r < 0.07:
            note = f"call me on +44 20 7946 {rnd.randrange(1000, 9999)}"
        props = {"plan": rnd.choice(PLANS), "value": rnd.randrange(1000) / 10, "note": note,
                 "path": f"/products/{rnd.randrange(500)}"}
        if kind == "track":
            m["event"] = rnd.choice(NAMES)
            m["properties"] = props
        elif kind == "page":
            m["name"] = rnd.choice(["Home", "Pricing", "Docs", "Checkout"])
            m["properties"] = props
        else:
            m["traits"] = {"plan": rnd.choice(PLANS), "email": f"user{user}@example.com", "company": "Example Ltd"}
        out.append(m)
    return out


def run_ours(binary, events, work, per_batch=500, clients=2):
    cfg = os.path.join(work, "sightline.yml")
    with open(cfg, "w") as f:
        f.write("events:\n  sources:\n    - name: bench\n      write_keys: [wk-bench]\n"
                "      scrub: {drop_keys: [password], hash_keys: [email]}\n")
    port = free_port()
    p = subprocess.Popen([binary, "serve", "--config", cfg, "--data-dir", os.path.join(work, "ours"),
                          "--listen", f"127.0.0.1:{port}", "--otlp.grpc.listen", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/-/ready")
        bodies = [json.dumps({"batch": events[i:i + per_batch], "writeKey": "wk-bench"}).encode()
                  for i in range(0, len(events), per_batch)]
        time.sleep(1)
        c0, t0 = proc_cpu_seconds(p.pid), time.time()
        errors = []

        def client(k):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for b in bodies[k::clients]:
                conn.request("POST", "/v1/batch", body=b, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                if r.status != 200:
                    errors.append(f"{r.status} {data[:200]!r}")
                    return

        ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.time() - t0
        cpu = proc_cpu_seconds(p.pid) - c0
        if errors:
            raise SystemExit(f"intake refused a batch: {errors[0]}")
        metrics = urllib_get(f"http://127.0.0.1:{port}/metrics")
        scrubbed = {}
        for line in metrics.splitlines():
            if line.startswith("sightline_events_scrubbed_total{"):
                rule = line.split('rule="')[1].split('"')[0]
                scrubbed[rule] = float(line.rsplit(" ", 1)[1])
        return cpu, wall, scrubbed
    finally:
        p.terminate()
        p.wait(timeout=30)


def urllib_get(url):
    import urllib.request
    return urllib.request.urlopen(url, timeout=10).read().decode()


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_chdb(events, work):
    try:
        from chdb import session
    except ImportError:
        raise SystemExit("chdb is not installed: pip install chdb")
    path = os.path.join(work, "events.ndjson")
    with open(path, "w") as f:
        for m in events:
            f.write(json.dumps(m) + "\n")
    s = session.Session(os.path.join(work, "chdb"))
    s.query("""CREATE TABLE events (
        type LowCardinality(String), event LowCardinality(String), name LowCardinality(String),
        userId String, anonymousId String, messageId String, timestamp DateTime64(3, 'UTC'),
        properties String, traits String, context String
    ) ENGINE = MergeTree ORDER BY (event, timestamp)""")
    c0 = cpu_self()
    s.query(f"""INSERT INTO events SELECT * FROM file('{path}', 'JSONEachRow',
        'type String, event String, name String, userId String, anonymousId String, messageId String,
         timestamp DateTime64(3, \\'UTC\\'), properties String, traits String, context String')
        SETTINGS input_format_json_read_objects_as_strings = 1, date_time_input_format = 'best_effort'""")
    cpu = cpu_self() - c0
    n = int(str(s.query("SELECT count() FROM events", "CSV")).strip())
    return cpu, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events", nargs="?", type=int, default=200_000)
    ap.add_argument("--sightline", default=os.path.join(ROOT, "target/release/sightline"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="events-ingest-")
    try:
        events = make_events(a.events)
        cpu, wall, scrubbed = run_ours(a.sightline, events, work)
        ch_cpu, ch_n = run_chdb(events, work)
        if ch_n != len(events):
            raise SystemExit(f"chdb holds {ch_n} rows of {len(events)}")
        ours = len(events) / cpu
        theirs = len(events) / ch_cpu
        print(f"events: {len(events)} in batches of 500 through HTTP /v1/batch, scrubbing on")
        print(f"scrubbed: {', '.join(f'{k}={int(v)}' for k, v in sorted(scrubbed.items()) if v)}")
        print(f"ours: {cpu:.2f} CPU s of the server ({wall:.2f} s wall): {ours:,.0f} events/s per core "
              f"(target 50,000)")
        print(f"chdb: {ch_cpu:.2f} CPU s for one JSONEachRow INSERT: {theirs:,.0f} events/s per core")
        print(f"ratio ours/chdb (events/s per core): {ours / theirs:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
