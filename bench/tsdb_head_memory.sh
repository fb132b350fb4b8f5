#!/usr/bin/env bash
# Head memory: RSS growth per active series with 1M series in the head
# (crates/tsdb/benches/head_memory.rs). The Prometheus baseline from
# shared/ARCHITECTURE.md is about 5.4 KB per series when scraping.
#
# Usage: bench/tsdb_head_memory.sh [SERIES] [SCRAPES]   (default 1000000 10)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/h-tsdb}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cargo build --release -q -p sightline-tsdb --bench head_memory
BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/head_memory-* | grep -v '\.d$' | head -1)
/usr/bin/time -v "$BIN" --out="$TMP/db" --series="${1:-1000000}" --scrapes="${2:-10}" 2>&1 \
  | grep -E 'series|rss|Maximum resident'
