"""What bench/logstore_*.py share: building the store's bench driver
(crates/logstore/examples/logbench.rs), running it, and holding a
generated corpus in ClickHouse in-process (PyPI `chdb`) with the
OpenTelemetry ClickHouse exporter's logs schema."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The exporter's default logs DDL (opentelemetry-collector-contrib
# exporter/clickhouseexporter): codecs, skip indexes (a tokenbf_v1 on Body,
# ClickHouse's own token filter), partitioning and sort key as it creates them.
OTEL_LOGS_DDL = """
CREATE TABLE otel_logs (
  Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
  TimestampTime DateTime DEFAULT toDateTime(Timestamp),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  TraceFlags UInt8,
  SeverityText LowCardinality(String) CODEC(ZSTD(1)),
  SeverityNumber UInt8,
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  Body String CODEC(ZSTD(1)),
  ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
  ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = MergeTree()
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""


def logbench():
    """Builds the driver (release) and returns its path."""
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sightline-logstore",
                    "--example", "logbench"], cwd=ROOT, env=env, check=True)
    return os.path.join(env["CARGO_TARGET_DIR"], "release", "examples", "logbench")


def run_json(args, env=None):
    out = subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def chdb_load(corpus, path):
    """Loads every `<job>__<service>.log` of `corpus` into otel_logs in a
    chdb session at `path`, merged into final parts; returns the session."""
    try:
        from chdb import session
    except ImportError:
        raise SystemExit("chdb is not installed: pip install chdb")
    s = session.Session(path)
    s.query(OTEL_LOGS_DDL)
    # Each line is `<ts_ns> <text>`; the file name gives job and service,
    # kept as resource attributes as the collector's filelog receiver would.
    s.query(f"""
        INSERT INTO otel_logs (Timestamp, ServiceName, Body, ResourceAttributes)
        SELECT fromUnixTimestamp64Nano(toInt64(substring(line, 1, position(line, ' ') - 1))),
               splitByString('__', replaceOne(_file, '.log', ''))[2],
               substring(line, position(line, ' ') + 1),
               map('service.name', splitByString('__', replaceOne(_file, '.log', ''))[2],
                   'job', splitByString('__', _file)[1])
        FROM file('{corpus}/*.log', 'LineAsString')
    """)
    s.query("OPTIMIZE TABLE otel_logs FINAL")
    return s


def chdb_bytes(s):
    out = s.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND table = 'otel_logs'", "CSV")
    return int(str(out).strip())


def dir_bytes(p):
    n = 0
    for d, _, files in os.walk(p):
        for f in files:
            try:
                n += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return n
