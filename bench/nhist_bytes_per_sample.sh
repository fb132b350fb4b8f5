#!/usr/bin/env bash
# Issue 12: bytes per native histogram sample after compaction, ours
# against Debian's Prometheus 2.42 (--enable-feature=native-histograms) on
# the same data, in the same run: crates/server/benches/nhist_bytes_per_sample.rs
# generates SERIES request-latency histograms (schema 3) scraped every
# INTERVAL_MS for two hours, remote-writes them into Prometheus and appends
# the same wire histograms (converted by our remote write receiver) to our
# TSDB; both cut the two hours into one level-1 block, whose bytes (chunks,
# index, meta) per sample are printed with the ratio.
#
# Usage: bench/nhist_bytes_per_sample.sh [SERIES] [INTERVAL_MS]   (default 1000 15000)
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-1000}
INTERVAL=${2:-15000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q -p sightline --bench nhist_bytes_per_sample
BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/nhist_bytes_per_sample-* | grep -v '\.d$' | head -1)
prometheus --version 2>&1 | head -1
"$BIN" --series="$SERIES" --interval="$INTERVAL" --work="$(mktemp -d)/nhist"
