#!/usr/bin/env bash
# Append throughput: promtool's `tsdb bench write` against our equivalent
# (crates/tsdb/benches/write.rs: same label sets, same scrape count, same
# timestamps and values, same 1000-series-per-thread batching, compaction
# off in both), run back to back on this machine. Prints both samples/s and
# the ratio. Machines are noisy: compare within one run, and run it twice.
#
# Usage: bench/tsdb_write.sh [METRICS] [SCRAPES]   (default 20000 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
METRICS=${1:-20000}
SCRAPES=${2:-3000}
DATA=/work/shared/peer-tests/promql/tsdb-testdata/20kseries.json
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/h-tsdb}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cargo build --release -q -p sightline-tsdb --bench write
BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/write-* | grep -v '\.d$' | head -1)

echo "== promtool tsdb bench write --metrics=$METRICS --scrapes=$SCRAPES"
promtool tsdb bench write --out="$TMP/prom" --metrics="$METRICS" --scrapes="$SCRAPES" "$DATA" \
  2>&1 | grep -v '^level=' | tee "$TMP/prom.log"
echo "== sightline-tsdb (benches/write.rs)"
"$BIN" --out="$TMP/ours" --metrics="$METRICS" --scrapes="$SCRAPES" "$DATA" | tee "$TMP/ours.log"

PROM=$(grep 'samples/sec' "$TMP/prom.log" | awk '{print $NF}')
OURS=$(grep 'samples/sec' "$TMP/ours.log" | awk '{print $NF}')
python3 - "$PROM" "$OURS" <<'PY'
import sys
prom, ours = float(sys.argv[1]), float(sys.argv[2])
print(f"promtool:  {prom:,.0f} samples/s")
print(f"sightline: {ours:,.0f} samples/s")
print(f"ratio sightline/promtool: {ours / prom:.2f}x")
PY
