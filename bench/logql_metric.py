"""A LogQL metric query against ClickHouse: `sum by (status) (rate({job="x",
service="api"} | json [5m]))` over one hour at a 60 s step (issue 15,
"over 1 h faster than chdb on the same data").

Generates a corpus (bench/logcorpus.py), pushes it into a `sightline
serve` of its own through Loki's push API (protobuf + snappy), and loads
the same files into ClickHouse in-process (PyPI `chdb`, the OpenTelemetry
exporter's `otel_logs` table, bench/logstore_common.py). Then, warm, runs
the query through `/loki/api/v1/query_range` and its SQL equivalent (each
line counted in the five 60 s steps whose 5 m window (t-5m, t] holds it,
JSON status extracted from the body, count / 300) several times each and
prints the medians, the ratio, and whether the two answers agree.

    cargo build --release -p sightline
    python3 bench/logql_metric.py [--megabytes 200] [--runs 7]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests
import snappy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import logcorpus  # noqa: E402
from logs_push import push_request_class  # noqa: E402
from logstore_common import chdb_load  # noqa: E402

QUERY = 'sum by (status) (rate({job="x", service="api"} | json [5m]))'
STEP_S = 60
WINDOW_S = 300
CONFIG = """logs:
  limits:
    reject_old_samples: false
  store:
    reject_old_samples_max_age: 0s
    per_stream_rate_limit: 0
    retention_time: 0s
"""


def push_corpus(url, corpus):
    """Pushes every `<job>__<service>.log` as the stream {job, service}."""
    cls = push_request_class()
    sess = requests.Session()
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".log"):
            continue
        job, service = name[:-4].split("__")
        with open(os.path.join(corpus, name)) as f:
            batch = []
            for line in f:
                ts, text = line.rstrip("\n").split(" ", 1)
                batch.append((int(ts), text))
                if len(batch) == 5000:
                    send(sess, url, cls, job, service, batch)
                    batch = []
            if batch:
                send(sess, url, cls, job, service, batch)


def send(sess, url, cls, job, service, batch):
    req = cls()
    st = req.streams.add(labels='{job="%s", service="%s"}' % (job, service))
    for ts, text in batch:
        e = st.entries.add(line=text)
        e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 10**9)
    r = sess.post(url + "/loki/api/v1/push", data=snappy.compress(req.SerializeToString()),
                  headers={"Content-Type": "application/x-protobuf"}, timeout=60)
    if r.status_code != 204:
        raise SystemExit(f"push refused: {r.status_code} {r.text[:300]}")


def ours(url, start_s, end_s):
    r = requests.get(url + "/loki/api/v1/query_range",
                     params={"query": QUERY, "start": f"{start_s}000000000", "end": f"{end_s}000000000",
                             "step": f"{STEP_S}s"}, timeout=300)
    if r.status_code != 200:
        raise SystemExit(f"query_range: {r.status_code} {r.text[:500]}")
    out = {}
    for s in r.json()["data"]["result"]:
        for t, v in s["values"]:
            out[(s["metric"].get("status", ""), int(float(t)))] = float(v)
    return out


def sql(start_s, end_s):
    """Steps t = start + k*60 for k in 0..n; a line at ts is in the window of
    step t when t - 300 < ts <= t, i.e. for the five steps from ceil((ts -
    start) / 60)."""
    n = (end_s - start_s) // STEP_S
    return f"""
        SELECT status, {start_s} + k * {STEP_S} AS t, count() / {WINDOW_S} AS v
        FROM (
            SELECT toString(JSONExtractInt(Body, 'status')) AS status,
                   toUnixTimestamp64Nano(Timestamp) AS ns,
                   intDiv(ns - {start_s}000000000 + {STEP_S}000000000 - 1, {STEP_S}000000000) AS first_k
            FROM otel_logs
            WHERE ServiceName = 'api'
              AND Timestamp > fromUnixTimestamp64Nano(toInt64({start_s - WINDOW_S}000000000))
              AND Timestamp <= fromUnixTimestamp64Nano(toInt64({end_s}000000000))
        )
        ARRAY JOIN arrayFilter(x -> x >= 0 AND x <= {n}, range(toInt64(first_k), toInt64(first_k) + {WINDOW_S // STEP_S})) AS k
        GROUP BY status, t
        ORDER BY status, t
    """


def theirs(s, start_s, end_s, threads=0):
    out = {}
    q = sql(start_s, end_s) + (f" SETTINGS max_threads = {threads}" if threads else "")
    for row in str(s.query(q, "TSV")).strip().splitlines():
        status, t, v = row.split("\t")
        out[(status, int(t))] = float(v)
    return out


def timed(runs, f):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sightline", default=os.path.join(benchlib.ROOT, "target/release/sightline"))
    ap.add_argument("--megabytes", type=int, default=200)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="logql-metric-")
    sl = None
    try:
        corpus = os.path.join(work, "corpus")
        logcorpus.generate(corpus, a.megabytes)
        with open(os.path.join(work, "sightline.yml"), "w") as f:
            f.write(CONFIG)
        port = benchlib.free_port()
        url = f"http://127.0.0.1:{port}"
        sl = subprocess.Popen([a.sightline, "serve", "--data-dir", f"{work}/sightline", "--listen",
                               f"127.0.0.1:{port}", "--config", f"{work}/sightline.yml"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        benchlib.wait_http(url + "/-/ready")
        t0 = time.time()
        push_corpus(url, corpus)
        print(f"pushed {a.megabytes} MB in {time.time() - t0:.0f} s")
        # Timed at rest: the store's background compaction of the blocks
        # the push made is done (the server idles) before the first query.
        settle = time.time()
        while time.time() - settle < 300 and benchlib.cpu_over({"s": sl.pid}, 2)["s"] > 0.05:
            pass
        print(f"store settled (compaction done) after {time.time() - settle:.0f} s")
        s = chdb_load(corpus, os.path.join(work, "chdb"))
        # The first hour of the api stream (logcorpus starts every stream here).
        start_s = logcorpus_start_s()
        end_s = start_s + 3600
        ours_t, ours_res = timed(a.runs, lambda: ours(url, start_s, end_s))
        theirs_t, theirs_res = timed(a.runs, lambda: theirs(s, start_s, end_s))
        one_t, _ = timed(a.runs, lambda: theirs(s, start_s, end_s, threads=1))
        keys = set(ours_res) | set(theirs_res)
        diff = [k for k in keys if abs(ours_res.get(k, 0) - theirs_res.get(k, 0)) > 1e-9]
        print(f"query: {QUERY}, 1 h at {STEP_S} s steps, {len(ours_res)} points")
        print(f"  ours (query_range, median of {a.runs}): {ours_t * 1000:8.1f} ms")
        print(f"  chdb (SQL, median of {a.runs}):        {theirs_t * 1000:8.1f} ms")
        print(f"  chdb, max_threads = 1:             {one_t * 1000:8.1f} ms (ours uses every core)")
        print(f"  ratio ours/chdb: {ours_t / theirs_t:.2f} (against one chdb thread: {ours_t / one_t:.2f})")
        print(f"  answers: {'equal' if not diff else f'{len(diff)} of {len(keys)} points differ, e.g. {sorted(diff)[:3]}'}")
    finally:
        if sl:
            sl.terminate()
            sl.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def logcorpus_start_s():
    import inspect
    return inspect.signature(logcorpus.generate).parameters["start_ns"].default // 10**9


if __name__ == "__main__":
    main()
