"""What bench/tracestore_*.py share: generating spans once
(bench/tracegen.py), building and running the store's bench driver
(crates/tracestore/examples/tracebench.rs), and holding the same spans in
ClickHouse in-process (PyPI `chdb`) with the OpenTelemetry ClickHouse
exporter's traces schema."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The exporter's traces DDL (opentelemetry-collector-contrib
# exporter/clickhouseexporter, sql templates traces_table.sql): its codecs,
# skip indexes (a bloom filter on TraceId among them), partitioning and
# sort key, with the MergeTree engine it defaults to.
OTEL_TRACES_DDL = """
CREATE TABLE otel_traces (
  Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  ParentSpanId String CODEC(ZSTD(1)),
  TraceState String CODEC(ZSTD(1)),
  SpanName LowCardinality(String) CODEC(ZSTD(1)),
  SpanKind LowCardinality(String) CODEC(ZSTD(1)),
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion String CODEC(ZSTD(1)),
  SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  Duration UInt64 CODEC(ZSTD(1)),
  StatusCode LowCardinality(String) CODEC(ZSTD(1)),
  StatusMessage String CODEC(ZSTD(1)),
  Events Nested (
    Timestamp DateTime64(9),
    Name LowCardinality(String),
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  Links Nested (
    TraceId String,
    SpanId String,
    TraceState String,
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""

SPAN_STRUCTURE = (
    "trace_id String, span_id String, parent_span_id String, name String, kind UInt8, "
    "start_ns Int64, end_ns Int64, status_code UInt8, status_message String, service String, "
    "resource Map(String, String), scope_name String, scope_version String, "
    "attributes Map(String, String), event_times Array(Int64), event_names Array(String), "
    "event_attrs Array(Map(String, String))"
)


def spans_file(n, path=None, minutes=None):
    """Generates `n` spans as JSON lines under /tmp once (kept between runs
    of the scripts; delete /tmp/tracebench-*.jsonl when done), spread over
    `minutes` (tracegen's default, 10, when None)."""
    path = path or (f"/tmp/tracebench-{n}.jsonl" if minutes is None
                    else f"/tmp/tracebench-{n}-{minutes}m.jsonl")
    if not os.path.exists(path):
        extra = [] if minutes is None else ["--minutes", str(minutes)]
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tracegen.py"), path + ".part", str(n)]
                       + extra, check=True, stdout=subprocess.DEVNULL)
        os.rename(path + ".part", path)
    return path


def tracebench():
    """Builds the driver (release) and returns its path."""
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sightline-tracestore",
                    "--example", "tracebench"], cwd=ROOT, env=env, check=True)
    return os.path.join(env["CARGO_TARGET_DIR"], "release", "examples", "tracebench")


def run_json(args):
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def chdb_session(path):
    try:
        from chdb import session
    except ImportError:
        raise SystemExit("chdb is not installed: pip install chdb")
    s = session.Session(path)
    s.query(OTEL_TRACES_DDL)
    return s


def chdb_insert(s, spans, round_=0, shift_ns=0):
    """Inserts the JSON spans as the exporter writes rows: attribute values
    as strings, kinds and status codes by their OTLP names. Round `r` gets
    trace ids with `r` xored into their top byte, as tracebench's rounds do."""
    tid = "trace_id" if round_ == 0 else (
        f"concat(leftPad(lower(hex(bitXor(reinterpretAsUInt64(reverse(unhex(substring(trace_id, 1, 16)))), "
        f"bitShiftLeft(toUInt64({round_}), 56)))), 16, '0'), substring(trace_id, 17))")
    s.query(f"""
        INSERT INTO otel_traces
          (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
           ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode,
           StatusMessage, `Events.Timestamp`, `Events.Name`, `Events.Attributes`,
           `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
        SELECT fromUnixTimestamp64Nano(start_ns + {shift_ns}), {tid}, span_id, parent_span_id, '', name,
               ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT',
                'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'][kind + 1],
               service, resource, scope_name, scope_version, attributes, toUInt64(end_ns - start_ns),
               ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'][status_code + 1],
               status_message, arrayMap(t -> fromUnixTimestamp64Nano(t + {shift_ns}), event_times),
               event_names, event_attrs, [], [], [], []
        FROM file('{spans}', 'JSONEachRow', '{SPAN_STRUCTURE}')
        SETTINGS input_format_json_read_numbers_as_strings = 1
    """)


def chdb_bytes(s):
    out = s.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND table = 'otel_traces'", "CSV")
    return int(str(out).strip())


def chdb_rows(s):
    return int(str(s.query("SELECT count() FROM otel_traces", "CSV")).strip())
