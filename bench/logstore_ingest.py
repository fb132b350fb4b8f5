"""Ingest throughput into the log store's `append` (WAL on, periodic
fsync, Loki's limits off so the engine is measured), as MB/s of raw line
text per CPU core: the driver (crates/logstore/examples/logbench.rs)
reports the CPU seconds its appends took, then a final flush. The peer in
the same run is ClickHouse in-process (PyPI `chdb`) inserting the same
lines into the OpenTelemetry exporter's `otel_logs` table (one INSERT of
everything, parsed from the files: the cheapest path ClickHouse has), also
per CPU second of this process.

The push-API figure (protobuf + snappy over HTTP) comes with crates/ingest.

Usage: python3 bench/logstore_ingest.py [MEGABYTES]   (default 200)
Needs: pip install chdb. Run on purpose, not in CI.
"""
import os
import resource
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logcorpus  # noqa: E402
from logstore_common import chdb_load, logbench, run_json  # noqa: E402


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    tmp = tempfile.mkdtemp(prefix="logstore-ingest-")
    try:
        corpus = os.path.join(tmp, "corpus")
        logcorpus.generate(corpus, mb)
        bench = logbench()
        ours = run_json([bench, "ingest", corpus, os.path.join(tmp, "ours")])
        raw = ours["raw_bytes"]
        c0 = cpu()
        chdb_load(corpus, os.path.join(tmp, "chdb"))
        ch_cpu = cpu() - c0
        ours_cpu = ours["append_cpu_secs"] + ours["flush_secs"]
        print(f"corpus: {raw / 1e6:.0f} MB of line text, {ours['lines']} lines")
        print(f"ours: append {ours['append_cpu_secs']:.2f} CPU s ({raw / 1e6 / ours['append_cpu_secs']:.0f} MB/s per core), "
              f"wall {ours['append_secs']:.2f} s; final flush {ours['flush_secs']:.2f} s; "
              f"together {raw / 1e6 / ours_cpu:.0f} MB/s per core")
        print(f"chdb: load + OPTIMIZE FINAL {ch_cpu:.2f} CPU s ({raw / 1e6 / ch_cpu:.0f} MB/s per core)")
        print(f"ratio ours/chdb (MB/s per core, append + flush): {(raw / ours_cpu) / (raw / ch_cpu):.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
