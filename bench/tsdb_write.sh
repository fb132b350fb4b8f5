#!/usr/bin/env bash
# Append throughput: promtool's `tsdb bench write` against our equivalent
# (crates/tsdb/benches/write.rs: same label sets, same scrape count, same
# timestamps and values, same 1000-series jobs, one transaction per scrape,
# compaction off in both), alternated ROUNDS times on this machine. Prints
# every pair, both medians and the median of the per-round ratios.
# Machines are shared and noisy (one engine's figure moves by +-30 %
# between runs): compare within one run, never across runs.
#
# Usage: bench/tsdb_write.sh [METRICS] [SCRAPES] [ROUNDS]   (default 20000 3000 5)
# Extra flags for ours go in WRITE_FLAGS (e.g. WRITE_FLAGS=--threads=0).
set -euo pipefail
cd "$(dirname "$0")/.."
METRICS=${1:-20000}
SCRAPES=${2:-3000}
ROUNDS=${3:-5}
DATA=/work/shared/peer-tests/promql/tsdb-testdata/20kseries.json
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/h-tsdb}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cargo build --release -q -p sightline-tsdb --bench write
BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/write-* | grep -v '\.d$' | head -1)
promtool --version 2>&1 | head -1

for i in $(seq "$ROUNDS"); do
  rm -rf "$TMP/prom" "$TMP/ours"
  PROM=$(promtool tsdb bench write --out="$TMP/prom" --metrics="$METRICS" --scrapes="$SCRAPES" "$DATA" \
    2>&1 | grep 'samples/sec' | awk '{print $NF}')
  # shellcheck disable=SC2086
  OURS=$("$BIN" --out="$TMP/ours" --metrics="$METRICS" --scrapes="$SCRAPES" ${WRITE_FLAGS:-} "$DATA" \
    | grep 'samples/sec' | awk '{print $NF}')
  echo "$PROM $OURS" >> "$TMP/pairs"
  python3 -c "import sys; p, o = map(float, sys.argv[1:]); print(f'round $i: promtool {p:,.0f}  sightline {o:,.0f}  ratio {o / p:.2f}x')" "$PROM" "$OURS"
done

python3 - "$TMP/pairs" <<'PY'
import statistics, sys
pairs = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
prom = statistics.median(p for p, _ in pairs)
ours = statistics.median(o for _, o in pairs)
ratio = statistics.median(o / p for p, o in pairs)
print(f"promtool:  {prom:,.0f} samples/s (median of {len(pairs)})")
print(f"sightline: {ours:,.0f} samples/s (median of {len(pairs)})")
print(f"ratio sightline/promtool: {ratio:.2f}x (median of the rounds' ratios)")
PY
