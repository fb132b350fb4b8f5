"""Bytes on disk for the same log lines: the log store against ClickHouse
(in-process, PyPI `chdb`) holding them in the OpenTelemetry exporter's
`otel_logs` MergeTree table, from one generated corpus (bench/logcorpus.py:
JSON, logfmt, access and plain-text lines). Prints both sizes, the
compression ratio of each against the raw line bytes, and ours/chdb.

Usage: python3 bench/logstore_disk.py [MEGABYTES]   (default 200)
Needs: pip install chdb. Run on purpose, not in CI.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logcorpus  # noqa: E402
from logstore_common import chdb_bytes, chdb_load, dir_bytes, logbench, run_json  # noqa: E402


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    tmp = tempfile.mkdtemp(prefix="logstore-disk-")
    try:
        corpus = os.path.join(tmp, "corpus")
        stats = logcorpus.generate(corpus, mb)
        bench = logbench()
        ours = run_json([bench, "ingest", corpus, os.path.join(tmp, "ours")])
        raw = ours["raw_bytes"]
        s = chdb_load(corpus, os.path.join(tmp, "chdb"))
        rows = int(str(s.query("SELECT count() FROM otel_logs", "CSV")).strip())
        ch = chdb_bytes(s)
        ch_dir = dir_bytes(os.path.join(tmp, "chdb"))
        print(f"corpus: {sum(n for n, _ in stats.values())} lines, {raw / 1e6:.1f} MB of line text "
              f"({', '.join(f'{k} {n}' for k, (n, _) in stats.items())})")
        print(f"ours:  {ours['store_bytes'] / 1e6:8.2f} MB on disk  ({raw / ours['store_bytes']:.2f}x smaller than raw)")
        print(f"chdb:  {ch / 1e6:8.2f} MB in active parts, {ch_dir / 1e6:.2f} MB in its directory "
              f"({raw / ch:.2f}x smaller than raw; {rows} rows)")
        print(f"ratio ours/chdb (parts): {ours['store_bytes'] / ch:.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
