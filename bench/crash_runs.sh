#!/usr/bin/env bash
# Issue 18, part 5: the kill -9 loop of each store, N runs, outside the
# test command. Each store's test (crates/server/tests/fault_<store>.rs)
# starts `sightline serve` on one data directory, drives three clients of
# writes, kills the server with SIGKILL at a random point (seeded; the seed
# is printed and FAULT_SEED=<seed> replays it), restarts it and checks
# every acknowledged write, N times; this prints its result line per store:
#
#   metrics: 20/20 runs with nothing lost (...)
#
# No peer runs a comparable test (Prometheus has no kill -9 suite to run
# against), so there is no ratio: the figure is X/N.
#
# Usage: bench/crash_runs.sh [N] [STORE...]   (default 20; all five stores)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
shift || true
STORES=${*:-metrics logs traces silences nflog}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
for s in $STORES; do
  cargo build --release -q -p sightline --test "fault_$s"
done
status=0
for s in $STORES; do
  BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/fault_"$s"-* | grep -v '\.d$' | head -1)
  # Every kill -9 test has "kill_9" in its name; the full-disk ones do not.
  out=$(FAULT_RUNS=$N "$BIN" kill_9 --include-ignored --nocapture 2>&1) || status=1
  echo "$out" | grep -E "^$s: [0-9]+/[0-9]+ runs with nothing lost" \
    || { echo "$s: no result line; the test said:"; echo "$out" | tail -20; status=1; }
done
exit $status
