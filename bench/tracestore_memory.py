"""Memory while spans arrive steadily: our store (tracebench `steady`: its
maintenance thread cutting, compacting and fsyncing as in the server)
against ClickHouse in-process (PyPI `chdb`, the OpenTelemetry exporter's
`otel_traces` table) taking the same spans at the same rate, in batches of
a tenth of a second as an exporter sends them. Prints each process's RSS,
median and peak of one sample a second.

Usage: python3 bench/tracestore_memory.py [RATE] [SECONDS]   (default 10000 120)
Needs: pip install chdb. Run on purpose, not in CI.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import proc_rss_bytes  # noqa: E402
from tracestore_common import SPAN_STRUCTURE, chdb_rows, chdb_session, run_json, spans_file, tracebench  # noqa: E402


def chdb_steady(spans, path, rate, seconds):
    s = chdb_session(path)
    batch_path = path + ".batch.jsonl"
    per = rate // 10
    lines = open(spans)
    start = time.time()
    samples = []
    for tick in range(seconds * 10):
        batch = []
        while len(batch) < per:
            line = lines.readline()
            if not line:
                lines = open(spans)
                continue
            batch.append(line)
        # Through a file: a batch is larger than a query may be.
        with open(batch_path, "w") as f:
            f.writelines(batch)
        s.query(f"""
            INSERT INTO otel_traces
              (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
               ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode,
               StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`)
            SELECT fromUnixTimestamp64Nano(start_ns), trace_id, span_id, parent_span_id, name,
                   toString(kind), service, resource, scope_name, scope_version, attributes,
                   toUInt64(end_ns - start_ns), toString(status_code), status_message,
                   arrayMap(t -> fromUnixTimestamp64Nano(t), event_times), event_names, event_attrs
            FROM file('{batch_path}', 'JSONEachRow', '{SPAN_STRUCTURE}')
            SETTINGS input_format_json_read_numbers_as_strings = 1""")
        if tick % 10 == 9:
            samples.append(proc_rss_bytes(os.getpid()))
        wait = start + (tick + 1) / 10 - time.time()
        if wait > 0:
            time.sleep(wait)
    behind = time.time() - start - seconds
    return samples, behind, chdb_rows(s)


def main():
    rate = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 120
    spans = spans_file(1_000_000)
    tmp = tempfile.mkdtemp(prefix="tracestore-mem-")
    try:
        ours = run_json([tracebench(), "steady", spans, os.path.join(tmp, "ours"), str(rate), str(seconds)])
        mb = 1 << 20
        print(f"ours: {ours['spans']} spans at {rate}/s for {seconds} s "
              f"({ours['seconds_behind_schedule']:.1f} s behind): RSS median "
              f"{ours['rss_median_bytes'] / mb:.0f} MB, peak {ours['rss_max_bytes'] / mb:.0f} MB "
              f"({ours['blocks']} blocks)")
        shutil.rmtree(os.path.join(tmp, "ours"), ignore_errors=True)
        samples, behind, rows = chdb_steady(spans, os.path.join(tmp, "chdb"), rate, seconds)
        print(f"chdb: {rows} rows at {rate}/s for {seconds} s ({behind:.1f} s behind): RSS median "
              f"{statistics.median(samples) / mb:.0f} MB, peak {max(samples) / mb:.0f} MB "
              f"(Python process with chdb)")
        print(f"ratio ours/chdb median RSS: {ours['rss_median_bytes'] / statistics.median(samples):.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
