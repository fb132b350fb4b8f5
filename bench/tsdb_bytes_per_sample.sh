#!/usr/bin/env bash
# Bytes per sample on disk after compaction, ours against Prometheus on the
# same samples: crates/tsdb/benches/bytes_per_sample.rs appends scrape-like
# data through the head, head cuts and compaction, and writes the samples
# that ended up in blocks as OpenMetrics; `promtool tsdb create-blocks-from
# openmetrics` turns that file into Prometheus blocks. Prints both figures.
#
# Usage: bench/tsdb_bytes_per_sample.sh [SERIES] [INTERVAL_MS] [HOURS] [MIX] [JITTER_MS]
#   defaults 1000 15000 24 realistic 3; MIX is `realistic` or `noisy`.
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-1000}
INTERVAL=${2:-15000}
HOURS=${3:-24}
MIX=${4:-realistic}
JITTER=${5:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/h-tsdb}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cargo build --release -q -p sightline-tsdb --bench bytes_per_sample
BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/bytes_per_sample-* | grep -v '\.d$' | head -1)

"$BIN" --series="$SERIES" --interval="$INTERVAL" --hours="$HOURS" --mix="$MIX" --jitter="$JITTER" \
  --openmetrics="$TMP/data.om" --out="$TMP/ours" | grep -v '^  block' | tee "$TMP/ours.log"
N=$(grep 'openmetrics samples written' "$TMP/ours.log" | awk '{print $NF}')
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/prom" >"$TMP/prom.log" 2>&1 \
  || { tail -5 "$TMP/prom.log"; exit 1; }
PROM_BYTES=$(find "$TMP/prom" -mindepth 2 \( -path '*/wal*' -o -path '*/chunks_head*' \) -prune -o -type f -print0 \
  | xargs -0 stat -c %s | awk '{s+=$1} END {print s}')
OURS=$(grep '^bytes/sample' "$TMP/ours.log" | awk '{print $NF}')
python3 - "$PROM_BYTES" "$N" "$OURS" <<'PY'
import sys
pb, n, ours = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
prom = pb / n
print(f"prometheus (promtool create-blocks-from, 2h blocks): {prom:.3f} bytes/sample ({pb} bytes, {n} samples)")
print(f"sightline (after compaction):                         {ours:.3f} bytes/sample")
print(f"ratio sightline/prometheus: {ours / prom:.2f}")
PY
