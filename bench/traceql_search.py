"""TraceQL search over 1 h of 10M spans: `/api/search` of a `sightline
serve` holding the spans (what Grafana's Tempo data source calls), against
ClickHouse (in-process, PyPI `chdb`, the OpenTelemetry exporter's
`otel_traces` table) answering the same question in SQL, in the same run.

The 10M spans are one generated file of 1M spread over 6 minutes
(bench/tracegen.py) stored ten times, each round with its own trace ids and
six minutes earlier (tracebench's `load ... ROUNDS`, as
bench/tracestore_byid.py), so the hour searched holds all 10M. chdb gets the
same rows with the same transformation.

Each query runs twice: with Grafana's limit of 20 traces (timed, median of
RUNS), and with no practical limit, whose set of trace ids must equal chdb's
(printed as "answers equal").

Usage: python3 bench/traceql_search.py [--spans 1000000] [--rounds 10] [--runs 5]
Needs: pip install chdb. Run on purpose, not in CI.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from tracestore_common import chdb_insert, chdb_session, run_json, spans_file, tracebench  # noqa: E402

# TraceQL, and the SQL selecting the trace ids that hold a matching span.
QUERIES = [
    ('{ status = error }', "StatusCode = 'STATUS_CODE_ERROR'"),
    ('{ span.enduser.id = "user-4242" }', "SpanAttributes['enduser.id'] = 'user-4242'"),
    ('{ resource.service.name = "payment" && duration > 40ms }',
     "ServiceName = 'payment' AND Duration > 40000000"),
    ('{ span.http.route = "/charge" && span.http.user_agent =~ "okhttp.*" && kind = server }',
     "SpanAttributes['http.route'] = '/charge' AND match(SpanAttributes['http.user_agent'], '^okhttp.*$') "
     "AND SpanKind = 'SPAN_KIND_SERVER'"),
]
# Structural: timed for us only (no SQL written for it).
STRUCTURAL = '{ resource.service.name = "frontend" } >> { resource.service.name = "payment" && status = error }'


def search(url, q, start_s, end_s, limit):
    qs = urllib.parse.urlencode({"q": q, "start": start_s, "end": end_s, "limit": limit, "spss": 1})
    # tracebench stores its spans as tenant "bench".
    req = urllib.request.Request(f"{url}/api/search?{qs}", headers={"X-Scope-OrgID": "bench"})
    with urllib.request.urlopen(req, timeout=600) as r:
        body = json.load(r)
    return {t["traceID"].rjust(32, "0") for t in body.get("traces", [])}


def sql_ids(s, cond, start_s, end_s, limit=None):
    lim = f" LIMIT {limit}" if limit else ""
    out = s.query(f"SELECT DISTINCT TraceId FROM otel_traces WHERE Timestamp >= fromUnixTimestamp({start_s}) "
                  f"AND Timestamp < fromUnixTimestamp({end_s}) AND {cond}{lim}", "CSV")
    return {line.strip().strip('"').rjust(32, "0") for line in str(out).splitlines() if line.strip()}


def timed(runs, f):
    times = []
    res = None
    for _ in range(runs):
        t0 = time.perf_counter()
        res = f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sightline", default=os.path.join(benchlib.ROOT, "target/release/sightline"))
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    spans = spans_file(a.spans, minutes=6)
    work = tempfile.mkdtemp(prefix="traceql-search-")
    sl = None
    try:
        bench = tracebench()
        t = time.time()
        load = run_json([bench, "load", spans, os.path.join(work, "data", "traces"), str(a.rounds)])
        print(f"ours: loaded {load['spans']:,} spans in {time.time() - t:.0f} s ({load['blocks']} blocks)")
        port = benchlib.free_port()
        url = f"http://127.0.0.1:{port}"
        sl = subprocess.Popen([a.sightline, "serve", "--data-dir", os.path.join(work, "data"), "--listen",
                               f"127.0.0.1:{port}", "--otlp.grpc.listen", ""],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        benchlib.wait_http(url + "/-/ready")

        s = chdb_session(os.path.join(work, "chdb"))
        lo_ns, hi_ns = (int(x) for x in str(s.query(
            f"SELECT min(start_ns), max(start_ns) FROM file('{spans}', 'JSONEachRow', "
            "'start_ns Int64')", "CSV")).strip().split(","))
        width = hi_ns - lo_ns + 1_000_000_000
        t = time.time()
        for r in range(a.rounds):
            chdb_insert(s, spans, r, (r - a.rounds + 1) * width)
        print(f"chdb: loaded {a.rounds} rounds in {time.time() - t:.0f} s")
        # Round r is moved (r - rounds + 1) file widths back: the hour that
        # ends with the file's last span holds (nearly) all ten rounds.
        end_s = hi_ns // 1_000_000_000 + 1
        start_s = end_s - 3600
        n = int(str(s.query(f"SELECT count() FROM otel_traces WHERE Timestamp >= fromUnixTimestamp({start_s}) "
                            f"AND Timestamp < fromUnixTimestamp({end_s})", "CSV")).strip())
        print(f"spans in the hour searched: {n:,}")
        print(f"\nsearch over [{start_s}, {end_s}) (1 h), limit 20, median of {a.runs}:")
        ratios = []
        for q, cond in QUERIES:
            ours_t, _ = timed(a.runs, lambda: search(url, q, start_s, end_s, 20))
            theirs_t, _ = timed(a.runs, lambda: sql_ids(s, cond, start_s, end_s, 20))
            full_ours = search(url, q, start_s, end_s, 10_000_000)
            full_theirs = sql_ids(s, cond, start_s, end_s)
            same = "equal" if full_ours == full_theirs else (
                f"DIFFER (ours {len(full_ours)}, chdb {len(full_theirs)}, "
                f"{len(full_ours ^ full_theirs)} not in both)")
            full_t, _ = timed(1, lambda: search(url, q, start_s, end_s, 10_000_000))
            ratios.append(ours_t / theirs_t)
            print(f"  {q}\n    ours {ours_t * 1000:8.1f} ms   chdb {theirs_t * 1000:8.1f} ms   "
                  f"ratio {ours_t / theirs_t:.2f}   all {len(full_ours)} traces: ours {full_t * 1000:.0f} ms, "
                  f"answers {same}")
        st, res = timed(a.runs, lambda: search(url, STRUCTURAL, start_s, end_s, 20))
        print(f"  {STRUCTURAL}\n    ours {st * 1000:8.1f} ms ({len(res)} traces; no SQL peer)")
        print(f"\nmedian ratio ours/chdb: {statistics.median(ratios):.2f} (target: every search under 1 s)")
    finally:
        if sl:
            sl.terminate()
            sl.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
