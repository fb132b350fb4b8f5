"""Log ingestion memory: resident memory of `sightline serve` holding
10,000 active streams while 10 MB/s of raw lines arrive through Loki's
push API (issue 15, "10,000 active streams at 10 MB/s total ingest under
150 MB RSS").

Starts its own `sightline serve` on a temporary data dir, then pushes
snappy-compressed protobuf (bench/logs_push.py's encoder and line mix) at
a paced rate: every push carries lines for a slice of the streams, so all
of them stay active (each gets lines every few seconds). Samples the
server's RSS every second and prints the median and the peak after a
warm-up, with the achieved ingest rate.

The peer is ClickHouse in-process (PyPI `chdb`), in a child process that
inserts the same lines at the same rate into the OpenTelemetry exporter's
logs table (bench/logstore_common.py), its RSS sampled the same way.
Loki itself does not run on this machine; its seeds ran it with a 512 MB
limit.

    cargo build --release -p sightline
    python3 bench/logs_memory.py [--seconds 60] [--streams 10000] [--mbps 10] [--no-peer]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
import snappy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from logs_push import line, push_request_class  # noqa: E402

PEER_SCRIPT = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from logs_push import line
from logstore_common import OTEL_LOGS_DDL
from chdb import session
s = session.Session(sys.argv[2])
s.query(OTEL_LOGS_DDL)
streams, per_push, pushes_per_s, seconds = map(float, sys.argv[3:7])
streams, per_push = int(streams), int(per_push)
t_end = time.time() + seconds
i = 0
next_t = time.time()
while time.time() < t_end:
    rows = []
    base = time.time_ns()
    for k in range(per_push):
        s_idx = (i * per_push + k) % streams
        text = line(i * per_push + k).replace("\\", "\\\\").replace("'", "\\'")
        rows.append("(fromUnixTimestamp64Nano(toInt64(%d)), 'svc-%d', '%s', map('pod', 'pod-%05d'))"
                    % (base + k, s_idx % 50, text, s_idx))
    s.query("INSERT INTO otel_logs (Timestamp, ServiceName, Body, ResourceAttributes) VALUES "
            + ",".join(rows))
    i += 1
    next_t += 1.0 / pushes_per_s
    d = next_t - time.time()
    if d > 0:
        time.sleep(d)
print("done", i, flush=True)
"""


def sample_rss(pid, stop, out):
    while not stop.is_set():
        try:
            out.append(benchlib.proc_rss_bytes(pid))
            if os.environ.get("RSS_DETAIL"):
                print({k: benchlib.proc_status_kb(pid, k) // 1024 for k in ("RssAnon", "RssFile", "RssShmem")}, flush=True)
        except FileNotFoundError:
            return
        stop.wait(1.0)


def drive_sightline(url, streams, lines_per_stream, streams_per_push, pushes_per_s, seconds):
    """Paced pushes; returns (raw bytes sent, pushes refused)."""
    cls = push_request_class()
    sess = requests.Session()
    sent, refused = 0, 0
    i = 0
    t_end = time.time() + seconds
    next_t = time.time()
    while time.time() < t_end:
        req = cls()
        base = time.time_ns()
        first = (i * streams_per_push) % streams
        for j in range(streams_per_push):
            s_idx = (first + j) % streams
            st = req.streams.add(labels='{job="bench/memory", pod="pod-%05d", service="svc-%d"}'
                                 % (s_idx, s_idx % 50))
            for k in range(lines_per_stream):
                n = (i * streams_per_push + j) * lines_per_stream + k
                text = line(n)
                sent += len(text)
                e = st.entries.add(line=text)
                e.timestamp.seconds, e.timestamp.nanos = divmod(base + k, 10**9)
        r = sess.post(url + "/loki/api/v1/push", data=snappy.compress(req.SerializeToString()),
                      headers={"Content-Type": "application/x-protobuf"}, timeout=30)
        if r.status_code != 204:
            refused += 1
        i += 1
        next_t += 1.0 / pushes_per_s
        d = next_t - time.time()
        if d > 0:
            time.sleep(d)
    return sent, refused


def summary(name, samples, warm):
    print(f"{name}: RSS MB over time: {[round(x / 2**20) for x in samples[::3]]}")
    steady = samples[warm:] or samples
    med, peak = statistics.median(steady), max(steady)
    print(f"{name}: RSS median {med / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB "
          f"({len(steady)} samples after {warm} s warm-up)")
    return med


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sightline", default=os.path.join(benchlib.ROOT, "target/release/sightline"))
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--streams", type=int, default=10000)
    ap.add_argument("--mbps", type=float, default=10.0, help="raw MB/s of lines to send")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--config", help="a sightline.yml for the server (e.g. to try logs.store settings)")
    a = ap.parse_args()

    # ~190-byte lines on average; 2 lines per stream per push, 500 streams
    # a push: each push ~190 KB, so 10 MB/s is ~50 pushes/s and every one
    # of 10,000 streams gets lines every 20 pushes (0.4 s).
    lines_per_stream, streams_per_push = 2, 500
    avg = statistics.mean(len(line(n)) for n in range(3000))
    pushes_per_s = a.mbps * 1e6 / (avg * lines_per_stream * streams_per_push)

    work = tempfile.mkdtemp(prefix="sightline-logmem-")
    port = benchlib.free_port()
    url = f"http://127.0.0.1:{port}"
    sl = subprocess.Popen([a.sightline, "serve", "--data-dir", f"{work}/sightline",
                           "--listen", f"127.0.0.1:{port}"] + (["--config", a.config] if a.config else []),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    try:
        benchlib.wait_http(url + "/-/ready")
        stop, samples = threading.Event(), []
        th = threading.Thread(target=sample_rss, args=(sl.pid, stop, samples))
        th.start()
        t0, cpu0 = time.time(), benchlib.proc_cpu_seconds(sl.pid)
        sent, refused = drive_sightline(url, a.streams, lines_per_stream, streams_per_push,
                                        pushes_per_s, a.seconds)
        wall = time.time() - t0
        cores = (benchlib.proc_cpu_seconds(sl.pid) - cpu0) / wall
        stop.set()
        th.join()
        print(f"sightline: {sent / 1e6 / wall:.1f} MB/s of raw lines sent for {wall:.0f} s "
              f"over {a.streams} streams, {refused} pushes refused, server {cores:.2f} cores busy "
              "(decode, append, WAL, flushes and compaction)")
        results["sightline"] = summary("sightline", samples, a.warmup)
    finally:
        sl.terminate()
        sl.wait(timeout=30)

    if not a.no_peer:
        try:
            import chdb  # noqa: F401
        except ImportError:
            raise SystemExit("chdb is not installed: pip install chdb (or --no-peer)")
        here = os.path.dirname(os.path.abspath(__file__))
        # The same number of lines a second as the Sightline run, in one
        # INSERT per push.
        peer = subprocess.Popen([sys.executable, "-c", PEER_SCRIPT, here, f"{work}/chdb",
                                 str(a.streams), str(lines_per_stream * streams_per_push),
                                 str(pushes_per_s), str(a.seconds)])
        stop, samples = threading.Event(), []
        th = threading.Thread(target=sample_rss, args=(peer.pid, stop, samples))
        th.start()
        peer.wait()
        stop.set()
        th.join()
        results["chdb"] = summary("chdb (peer)", samples, a.warmup)
        print(f"ratio sightline/chdb (median RSS): {results['sightline'] / results['chdb']:.2f}")
    print(f"target: under 150 MB for sightline: {'met' if results['sightline'] < 150 * 2**20 else 'MISSED'}")


if __name__ == "__main__":
    main()
