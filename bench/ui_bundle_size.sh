#!/usr/bin/env bash
# Issue 14 figures: what a browser downloads on the UI's first load (the
# JavaScript and CSS, plain, gzip and brotli as served), against Debian's
# Prometheus 2.42 UI (its /graph page's scripts and stylesheets, fetched
# from a running peer and gzip -9'd here, since it serves them plain), and
# what the UI adds to the binary.
#
# usage: bench/ui_bundle_size.sh [BASELINE_BINARY]
#   BASELINE_BINARY: a release `sightline` built without the UI (e.g. main
#   before the UI merge), to print the binary's growth.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=crates/ui/dist
plain=0 gz=0 br=0
for f in "$dist"/assets/*.js "$dist"/assets/*.css; do
  plain=$((plain + $(stat -c %s "$f")))
  gz=$((gz + $(stat -c %s "$f.gz")))
  br=$((br + $(stat -c %s "$f.br")))
done
embedded=$(du -cb "$dist" | tail -1 | cut -f1)
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
echo "sightline UI first load (JS+CSS): plain $(kb $plain), gzip $(kb $gz), brotli $(kb $br) (target: under 400 KB compressed)"

if command -v prometheus >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  tmp=$(mktemp -d)
  printf 'global:\n  scrape_interval: 1m\n' >"$tmp/p.yml"
  prometheus --config.file="$tmp/p.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$port" >"$tmp/log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
  ppl=0 pgz=0
  for u in $(curl -sfL "http://127.0.0.1:$port/graph" | grep -oE '(src|href)="[^"]+\.(js|css)([?][^"]*)?"' | cut -d'"' -f2); do
    case "$u" in http*) continue ;; /*) ;; *) u="/$u" ;; esac
    curl -sf "http://127.0.0.1:$port$u" -o "$tmp/a" || continue
    ppl=$((ppl + $(stat -c %s "$tmp/a")))
    pgz=$((pgz + $(gzip -9c "$tmp/a" | wc -c)))
  done
  echo "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') /graph first load (JS+CSS): plain $(kb $ppl), gzip -9 $(kb $pgz)"
  awk -v a=$gz -v b=$pgz 'BEGIN { if (b > 0) printf "ratio sightline/prometheus, gzip: %.2f\n", a / b }'
else
  echo "prometheus not installed: no peer figure"
fi

echo "embedded in the binary: $(kb $embedded) (dist/ with its .gz and .br forms)"
bin=${CARGO_TARGET_DIR:-target}/release/sightline
if [ -n "${1:-}" ] && [ -x "$bin" ]; then
  a=$(stat -c %s "$bin") b=$(stat -c %s "$1")
  echo "binary: $(kb $a) with the UI, $(kb $b) baseline: +$(kb $((a - b))) (target: at most 5 MB)"
fi
