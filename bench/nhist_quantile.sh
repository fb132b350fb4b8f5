#!/usr/bin/env bash
# Issue 12: histogram_quantile over native histograms, ours against Debian's
# Prometheus 2.42 (--enable-feature=native-histograms) on the same data, in
# the same run: crates/server/benches/nhist_quantile.rs remote-writes
# SERIES (default 10,000) schema 3 request-latency histograms, one sample
# every 15 s for 3.25 h (both cut the oldest aligned 2 h into a block, the
# rest stays in their heads), into both servers; checks both hold the same
# data; then times instant and 1h@60s range queries of
#   histogram_quantile(0.9, rate(m[5m]))                 (every series)
#   histogram_quantile(0.99, sum by (job) (rate(m[5m]))) (10 jobs)
# over the head and over the block, after checking both return the same
# result. Prints each peer's median of REPEAT (default 3) runs and the ratio
# sightline / prometheus (the issue asks for at most 0.5).
#
# Usage: bench/nhist_quantile.sh [--series=N] [--hours=H] [--interval=MS]
#          [--repeat=N] [--work=DIR [--reuse]] [--only=TEXT]
# --work keeps the data in DIR; with --reuse a later run queries it again
# without loading (both servers restart on it).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q -p sightline --bin sightline --bench nhist_quantile
BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/nhist_quantile-* | grep -v '\.d$' | head -1)
prometheus --version 2>&1 | head -1
"$BIN" --sightline="$CARGO_TARGET_DIR/release/sightline" "$@"
