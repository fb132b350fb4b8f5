#!/usr/bin/env bash
# Rebuilds the UI bundle from the sources and package-lock.json and fails
# when it differs from the committed dist/ (someone changed the sources
# without rebuilding, or committed a bundle the sources do not make).
# Needs `npm ci` first (.ci/run does it).
set -euo pipefail
cd "$(dirname "$0")"
# The sources type-check (esbuild strips types without checking them).
node_modules/.bin/tsc -p .
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node build.mjs "$tmp/dist"
if ! diff -r "$tmp/dist" dist >/dev/null; then
  echo "crates/ui/dist differs from a rebuild of crates/ui/src (node $(node --version)):" >&2
  diff -rq "$tmp/dist" dist >&2 || true
  echo "run 'npm ci && npm run build' in crates/ui and commit dist/" >&2
  exit 1
fi
echo "crates/ui/dist matches a rebuild from the lock file"
