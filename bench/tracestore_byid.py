"""Trace by id with 10M spans stored: latency percentiles of our store and
of ClickHouse (in-process, PyPI `chdb`, the OpenTelemetry exporter's
`otel_traces` table with its bloom filter index on TraceId) holding the
same spans, looked up by the same random trace ids.

The 10M spans are one generated file of 1M (bench/tracegen.py) stored ten
times with the round number in the top byte of the trace ids and times moved
one file-width later per round (tracebench's `load ... ROUNDS`); chdb gets
the same rows by copying its first round with the same transformation.

Usage: python3 bench/tracestore_byid.py [SPANS_PER_ROUND] [ROUNDS] [LOOKUPS]
       (defaults 1000000 10 2000; chdb does a tenth of the lookups)
Needs: pip install chdb. Run on purpose, not in CI.
"""
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracestore_common import (  # noqa: E402
    chdb_insert, chdb_rows, chdb_session, run_json, spans_file, tracebench)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    lookups = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    spans = spans_file(n)
    tmp = tempfile.mkdtemp(prefix="tracestore-byid-")
    try:
        bench = tracebench()
        t = time.time()
        load = run_json([bench, "load", spans, os.path.join(tmp, "ours"), str(rounds)])
        print(f"ours: loaded {load['spans']} spans in {time.time() - t:.0f} s "
              f"({load['bytes_per_span']:.1f} bytes/span, {load['blocks']} blocks, "
              f"append {load['spans_per_second']:,.0f} spans/s)")
        ours = run_json([bench, "byid", os.path.join(tmp, "ours"), spans, str(rounds), str(lookups)])
        print(f"ours: {ours['lookups']} lookups, {ours['spans_per_trace']:.1f} spans/trace: "
              f"p50 {ours['p50_ms']:.2f} ms, p90 {ours['p90_ms']:.2f} ms, p99 {ours['p99_ms']:.2f} ms, "
              f"max {ours['max_ms']:.2f} ms (open {ours['open_seconds']:.2f} s)")
        shutil.rmtree(os.path.join(tmp, "ours"), ignore_errors=True)

        s = chdb_session(os.path.join(tmp, "chdb"))
        t = time.time()
        chdb_insert(s, spans)
        lo, hi = (int(x) for x in str(s.query(
            "SELECT toUnixTimestamp64Nano(min(Timestamp)), toUnixTimestamp64Nano(max(Timestamp)) "
            "FROM otel_traces", "CSV")).strip().split(","))
        width = hi - lo + 1_000_000_000
        s.query("RENAME TABLE otel_traces TO otel_traces_r0")
        s.query("CREATE TABLE otel_traces AS otel_traces_r0")
        for r in range(rounds):
            shift = (r - rounds + 1) * width
            tid = "TraceId" if r == 0 else (
                f"concat(leftPad(lower(hex(bitXor(reinterpretAsUInt64(reverse(unhex(substring(TraceId, 1, 16)))), "
                f"bitShiftLeft(toUInt64({r}), 56)))), 16, '0'), substring(TraceId, 17))")
            s.query(f"""INSERT INTO otel_traces SELECT
                fromUnixTimestamp64Nano(toUnixTimestamp64Nano(Timestamp) + {shift}), {tid},
                SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes,
                ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
                `Events.Timestamp`, `Events.Name`, `Events.Attributes`, `Links.TraceId`,
                `Links.SpanId`, `Links.TraceState`, `Links.Attributes` FROM otel_traces_r0""")
        s.query("DROP TABLE otel_traces_r0")
        s.query("OPTIMIZE TABLE otel_traces FINAL")
        rows = chdb_rows(s)
        print(f"chdb: loaded {rows} rows in {time.time() - t:.0f} s")
        ids = []
        with open(spans) as f:
            for line in f:
                i = line.index('"trace_id":"') + 12
                ids.append(line[i:i + 32])
        ids = sorted(set(ids))
        rng = random.Random(7)
        lat = []
        for _ in range(max(20, lookups // 10)):
            tid = rng.choice(ids)
            r = rng.randrange(rounds)
            hi64 = int(tid[:16], 16) ^ (r << 56)
            want = "%016x%s" % (hi64, tid[16:])
            t = time.perf_counter()
            out = s.query(f"SELECT * FROM otel_traces WHERE TraceId = '{want}'", "JSONCompact")
            lat.append((time.perf_counter() - t) * 1000)
            assert json.loads(str(out))["rows"] > 0, want
        print(f"chdb: {len(lat)} lookups: p50 {statistics.median(lat):.2f} ms, p90 {pct(lat, 0.9):.2f} ms, "
              f"p99 {pct(lat, 0.99):.2f} ms, max {max(lat):.2f} ms")
        print(f"ratio ours/chdb p99: {ours['p99_ms'] / pct(lat, 0.99):.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
