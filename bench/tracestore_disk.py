"""Bytes on disk per span: the trace store against ClickHouse (in-process,
PyPI `chdb`) holding the same spans in the OpenTelemetry ClickHouse
exporter's `otel_traces` table, from one generated file of realistic spans
(bench/tracegen.py: 10 attributes, six services, trees of 5-30 spans).
Also prints our append rate (spans/s on one thread, `append` alone).

Usage: python3 bench/tracestore_disk.py [SPANS]   (default 1000000)
Needs: pip install chdb. Run on purpose, not in CI.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tracestore_common import (  # noqa: E402
    chdb_bytes, chdb_insert, chdb_rows, chdb_session, run_json, spans_file, tracebench)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    spans = spans_file(n)
    tmp = tempfile.mkdtemp(prefix="tracestore-disk-")
    try:
        ours = run_json([tracebench(), "load", spans, os.path.join(tmp, "ours")])
        s = chdb_session(os.path.join(tmp, "chdb"))
        chdb_insert(s, spans)
        s.query("OPTIMIZE TABLE otel_traces FINAL")
        rows = chdb_rows(s)
        ch = chdb_bytes(s)
        print(f"spans: {ours['spans']} (chdb rows {rows}), JSON file {os.path.getsize(spans) / 1e6:.0f} MB")
        print(f"ours:  {ours['store_bytes'] / 1e6:8.2f} MB on disk, {ours['bytes_per_span']:6.1f} bytes/span "
              f"({ours['blocks']} blocks)")
        print(f"chdb:  {ch / 1e6:8.2f} MB in active parts, {ch / rows:6.1f} bytes/span")
        print(f"ratio ours/chdb: {ours['store_bytes'] / ch:.3f}")
        print(f"ours append: {ours['spans_per_cpu_second']:,.0f} spans per CPU second on one thread, "
              f"{ours['spans_per_second']:,.0f} spans/s of wall time (append alone; final cut and "
              f"compaction {ours['final_flush_compact_seconds']:.1f} s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
