#!/usr/bin/env python3
"""DAU, WAU and MAU over 90 days of 10M events: Sightline's
`POST /api/v1/events/active_users` against ClickHouse in-process (PyPI
`chdb`) on the same events, from the same run, as a ratio (issue 19: "DAU
over 90 days of 10M events in under 200 ms").

The events (track calls: ~40 names, 200k people with a skewed activity,
a few properties) go through Sightline's intake (`/v1/batch`, Segment's
shape, write key as HTTP Basic user) and into a chdb MergeTree table
(timestamp, person, event) from a CSV of the same rows. Both answer DAU,
WAU and MAU for every day; the answers must agree, then each is timed
(median of --runs).

Not a test: run on purpose, on a quiet machine if you can:

    python3 -m pip install chdb==4.4.0
    cargo build --release -p sightline
    python3 bench/events_dau.py                      # 10M events, 90 days
    python3 bench/events_dau.py --events 1000000     # a quicker look
    python3 bench/events_dau.py --url http://127.0.0.1:9090 --write-key KEY
        (a running Sightline whose config has that key; its events must
        be only these)

Started by the script, Sightline gets a config with one events source
`bench` whose write key is `bench-key`.
"""
import argparse
import base64
import csv
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, free_port, wait_http  # noqa: E402

DAY_MS = 86_400_000
# Monday 2026-01-05T00:00:00Z.
T0_MS = 1_767_571_200_000
CONFIG = """events:
  sources:
    - name: bench
      write_keys: [bench-key]
"""


def generate(n, days, people, seed=19):
    """(ts_ms, person, event, properties) in time order, deterministic."""
    rng = random.Random(seed)
    names = [f"event_{i:02d}" for i in range(40)]
    weights = [1 / (i + 1) for i in range(40)]
    per_day = n // days
    out = []
    for d in range(days):
        base = T0_MS + d * DAY_MS
        ts = sorted(rng.randrange(DAY_MS) for _ in range(per_day))
        for t in ts:
            # A third of the events from the most active tenth of people.
            p = rng.randrange(people // 10) if rng.random() < 1 / 3 else rng.randrange(people)
            name = rng.choices(names, weights)[0]
            out.append((base + t, f"user-{p}", name, {"plan": ("free", "pro", "team")[p % 3], "n": p % 17}))
    return out


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def send(url, key, events, threads=4, batch=500):
    """Posts the events to /v1/batch from `threads` connections."""
    u = urllib.parse.urlparse(url)
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    chunks = [events[i:i + batch] for i in range(0, len(events), batch)]
    errors = []

    def worker(mine):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        for chunk in mine:
            body = json.dumps({"batch": [
                {"type": "track", "event": name, "userId": who, "timestamp": iso(ts),
                 "messageId": f"m-{ts}-{who}-{i}", "properties": props}
                for i, (ts, who, name, props) in enumerate(chunk)]})
            conn.request("POST", "/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth})
            r = conn.getresponse()
            data = r.read()
            if r.status != 200:
                errors.append(f"{r.status}: {data[:300]!r}")
                return

    ts = [threading.Thread(target=worker, args=(chunks[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit(f"intake refused a batch: {errors[0]}")


def ours(url, start_ms, end_ms):
    body = json.dumps({"start": start_ms / 1000, "end": end_ms / 1000}).encode()
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    t = time.perf_counter()
    conn.request("POST", "/api/v1/events/active_users", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = json.loads(r.read())
    el = time.perf_counter() - t
    if data.get("status") != "success":
        raise SystemExit(f"active_users: {data}")
    return el, [(d["day_ms"], d["dau"], d["wau"], d["mau"]) for d in data["data"]["days"]]


CHDB_SQL = """
WITH pd AS (SELECT DISTINCT intDiv(ts, 86400000) AS d, person FROM events
            WHERE ts >= {scan_from} AND ts < {end})
SELECT d2 * 86400000 AS day_ms,
       uniqExactIf(person, d2 = d) AS dau,
       uniqExactIf(person, d2 - d < 7) AS wau,
       uniqExact(person) AS mau
FROM pd ARRAY JOIN arrayMap(i -> d + i, range(30)) AS d2
WHERE d2 >= intDiv({start}, 86400000) AND d2 < intDiv({end}, 86400000)
GROUP BY d2 ORDER BY d2
"""


def theirs(s, start_ms, end_ms):
    sql = CHDB_SQL.format(scan_from=start_ms - 29 * DAY_MS, start=start_ms, end=end_ms)
    t = time.perf_counter()
    out = s.query(sql, "CSV")
    el = time.perf_counter() - t
    rows = [tuple(int(x) for x in line.split(",")) for line in str(out).strip().splitlines()]
    return el, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--people", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sightline", default=os.path.join(ROOT, "target/release/sightline"))
    ap.add_argument("--url", help="a running Sightline instead of starting one")
    ap.add_argument("--write-key", default="bench-key")
    a = ap.parse_args()
    try:
        from chdb import session
    except ImportError:
        raise SystemExit("chdb is not installed: python3 -m pip install chdb==4.4.0")

    work = tempfile.mkdtemp(prefix="events-dau-")
    t = time.time()
    events = generate(a.events, a.days, a.people)
    print(f"generated {len(events)} events over {a.days} days in {time.time() - t:.0f} s", flush=True)

    proc = None
    url = a.url
    if not url:
        cfg = os.path.join(work, "sightline.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        addr = f"127.0.0.1:{free_port()}"
        proc = subprocess.Popen([a.sightline, "serve", "--config", cfg, "--data-dir", f"{work}/sightline",
                                 "--listen", addr], stdout=subprocess.DEVNULL, stderr=open(f"{work}/sightline.log", "w"))
        url = f"http://{addr}"
        wait_http(f"{url}/-/ready")
    try:
        t = time.time()
        send(url, a.write_key, events)
        print(f"sent to Sightline in {time.time() - t:.0f} s", flush=True)

        t = time.time()
        csv_path = os.path.join(work, "events.csv")
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            for ts, who, name, _ in events:
                w.writerow([ts, who, name])
        s = session.Session(os.path.join(work, "chdb"))
        s.query("CREATE TABLE events (ts Int64, person String, event LowCardinality(String)) "
                "ENGINE = MergeTree ORDER BY (event, ts)")
        s.query(f"INSERT INTO events SELECT * FROM file('{csv_path}', 'CSV', 'ts Int64, person String, event String')")
        s.query("OPTIMIZE TABLE events FINAL")
        print(f"loaded into chdb in {time.time() - t:.0f} s", flush=True)

        start, end = T0_MS, T0_MS + a.days * DAY_MS
        # Warm both (page cache, first-query setup), check they agree.
        _, mine = ours(url, start, end)
        _, peer = theirs(s, start, end)
        if mine != peer:
            diff = next((m, p) for m, p in zip(mine + [None] * len(peer), peer + [None] * len(mine)) if m != p)
            raise SystemExit(f"answers differ (day_ms, dau, wau, mau): ours {diff[0]}, chdb {diff[1]}")
        ours_t = statistics.median(ours(url, start, end)[0] for _ in range(a.runs))
        theirs_t = statistics.median(theirs(s, start, end)[0] for _ in range(a.runs))
        print(f"DAU/WAU/MAU for {len(mine)} days over {len(events)} events (median of {a.runs}):")
        print(f"  Sightline (HTTP API):   {ours_t * 1000:8.1f} ms")
        print(f"  chdb (SQL, in-process): {theirs_t * 1000:8.1f} ms")
        print(f"  ratio ours/chdb:        {ours_t / theirs_t:8.2f}  (target: ours under 200 ms)")
    finally:
        if proc:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
