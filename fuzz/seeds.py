#!/usr/bin/env python3
"""Seeds the text targets' corpora under fuzz/corpus/<target>/ from the
repository's own inputs: fixture configs, rule files, promtool test files,
and the queries the crates' tests parse. Binary and store seeds come from
`SIGHTLINE_FUZZ_WRITE_SEEDS=1 cargo test -p sightline-fuzz --test targets
write_store_seeds -- --ignored` (real encoders and stores).

Usage: python3 fuzz/seeds.py   (from the repository root; idempotent)
"""
import glob
import hashlib
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
MAX_PER_TARGET = 120
MAX_FILE = 64 * 1024


def put(target, data, limit=MAX_PER_TARGET):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX_FILE:
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if len([f for f in os.listdir(d) if f.startswith("fx-")]) >= limit:
        return
    name = "fx-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def files(*patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(os.path.join(ROOT, p), recursive=True))
    return [f for f in out if "/node_modules/" not in f and "/target/" not in f]


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


STR = re.compile(r'r(#+)"(.*?)"\1|"((?:[^"\\\n]|\\.)*)"', re.S)


def literals(path):
    for m in STR.finditer(read(path)):
        if m.group(2) is not None:
            yield m.group(2)
        else:
            s = m.group(3)
            yield (s.replace("\\n", "\n").replace("\\t", "\t")
                    .replace('\\"', '"').replace("\\\\", "\\"))


def main():
    # Configs, by what they are.
    for f in files("tests/fixtures/seeds/**/prometheus*.yml", "crates/ingest/src/config/testdata/*.yml",
                   "crates/server/demo/prometheus.yml", "crates/ui/tests/fixture/prometheus.yml",
                   "crates/ingest/src/scrape/testdata/*.yml"):
        put("config_prometheus", read(f))
    for f in files("tests/fixtures/seeds/**/alertmanager*.y*ml", "crates/alertmanager/tests/testdata/**/*.yml",
                   "crates/server/demo/alertmanager.yml", "crates/ui/tests/fixture/alertmanager.yml"):
        put("config_alertmanager", read(f))
    for f in files("tests/fixtures/seeds/**/*alerts*.yaml", "crates/server/demo/rules/*.yml",
                   "crates/ui/tests/fixture/rules.yml", "crates/rules/tests/**/*.yml",
                   "crates/promql/tests/**/*.yml"):
        put("config_rules", read(f))
    for f in files("crates/server/demo/slos/*.yml", "crates/ui/tests/fixture/slos.yml",
                   "crates/slo/tests/**/*.y*ml", "crates/slo/testdata/**/*.y*ml"):
        put("config_slo", read(f))
    for f in files("tests/fixtures/seeds/**/promtail*.yml", "crates/ingest/src/tail/**/*.yml"):
        put("config_promtail", read(f))
    for f in files("crates/probe/**/*.yml", "crates/server/demo/sightline.yml"):
        put("config_blackbox", read(f))
    # Config snippets the crates' tests parse (YAML literals).
    for target, pattern in [
        ("config_slo", "crates/slo/src/**/*.rs"),
        ("config_promtail", "crates/ingest/src/tail/**/*.rs"),
        ("config_blackbox", "crates/probe/src/config/**/*.rs"),
        ("config_probes", "crates/probe/src/config/**/*.rs"),
        ("config_rules", "crates/rules/src/**/*.rs"),
    ]:
        for f in files(pattern):
            for s in literals(f):
                if "\n" in s and ":" in s:
                    put(target, s, 60)
    # Queries.
    for f in files("crates/promql/tests/testdata/*.test"):
        for line in read(f).splitlines():
            m = re.match(r"\s*eval(?:_\w+)?\s+(?:instant at \S+|range from \S+ to \S+ step \S+)\s+(.*)", line)
            if m:
                put("promql", m.group(1))
    for f in files("tests/fixtures/seeds/**/*.promql"):
        for line in read(f).splitlines():
            if line.strip() and not line.startswith("#"):
                put("promql", line.strip())
    for f in files("crates/logql/src/**/*.rs"):
        for s in literals(f):
            if "{" in s and "}" in s and "=" in s and len(s) < 400:
                put("logql", s)
    for f in files("crates/traceql/src/**/*.rs"):
        for s in literals(f):
            if s.lstrip().startswith("{") and len(s) < 400:
                put("traceql", s)
    for s in ['{alertname="X",env=~"prod|dev"}', 'alertname!="X", job!~"a.*"', '{foo="bar\\"baz"}',
              'a=b', '{"quoted name"="v"}']:
        put("am_matchers", b"\x00" + s.encode())
        put("am_matchers", b"\x01" + s.encode())
    # Exposition bodies from the scrape tests' fixtures and literals.
    for f in files("crates/ingest/src/exposition/**/*.rs", "crates/ingest/src/scrape/**/*.rs"):
        for s in literals(f):
            if "# TYPE" in s or "# HELP" in s:
                put("exposition_text", s, 60)
                put("exposition_openmetrics", s, 60)
    for f in files("fuzz/seed-inputs/*.prom"):
        put("exposition_text", read(f))
    for f in files("fuzz/seed-inputs/*.om"):
        put("exposition_openmetrics", read(f))
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))))


if __name__ == "__main__":
    main()
