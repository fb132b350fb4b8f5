#!/usr/bin/env bash
# Fuzzes Sightline's parsers, decoders and store readers with AFL++ on the
# stable toolchain (issue 18, part 4), one target at a time.
#
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 600; TARGETs default to every target in
# fuzz/src/lib.rs (`TARGETS`). For each target it prints execs, execs/s,
# corpus size (AFL's queue), crashes and hangs, then a table of all of them.
# Crash and hang inputs are copied to $FUZZ_WORK/<target>/ (default
# /tmp/sightline-fuzz-work); add a crash to fuzz/crashes/<target>/ once it
# is fixed, so `cargo test` replays it forever. SAVE_CORPUS=1 copies AFL's
# new queue entries into fuzz/corpus/<target>/ (review the size first).
#
# Engine: cargo-bolero drives AFL++ from cargo-afl (which builds AFL++ with
# the machine's gcc when installed). The pinned installs:
#   cargo install cargo-afl --version 0.18.2 --locked
#   cargo install cargo-bolero --version 0.13.5 --locked
#   cargo afl config --build     # no-op when the install already built it
# `--sanitizer NONE` keeps bolero off `-Zsanitizer`, which needs nightly.
set -euo pipefail

SECS=${1:-600}
shift || true
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${FUZZ_WORK:-/tmp/sightline-fuzz-work}
AFL_VERSION=0.18.2
BOLERO_VERSION=0.13.5

if ! cargo afl --version >/dev/null 2>&1; then
    cargo install cargo-afl --version "$AFL_VERSION" --locked
fi
if ! cargo bolero --version >/dev/null 2>&1; then
    cargo install cargo-bolero --version "$BOLERO_VERSION" --locked
fi
cargo afl config --build >/dev/null 2>&1 || true  # "already built" is fine

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(grep -oE '^    \("[a-z0-9_]+", ' fuzz/src/lib.rs | grep -oE '[a-z0-9_]+')
fi

# AFL refuses to start when the kernel sends core dumps to a helper or the
# CPU governor is not "performance"; neither matters for finding crashes.
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1
export AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1

stat_of() { # file key
    awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null | head -n 1
}

mkdir -p "$WORK"
TABLE="$WORK/table.txt"
printf '%-24s %8s %12s %9s %7s %8s %6s\n' target seconds execs execs/s corpus crashes hangs >"$TABLE"
for t in "${TARGETS[@]}"; do
    dir="$WORK/$t"
    rm -rf "$dir"
    mkdir -p "$dir/in"
    if compgen -G "fuzz/corpus/$t/*" >/dev/null; then
        cp fuzz/corpus/"$t"/* "$dir/in/"
    fi
    # bolero keeps AFL's state beside the test (fuzz/tests/__fuzz__/...);
    # start each run from the committed corpus, not the last run's queue.
    find fuzz -type d -path "*__fuzz__*" -name afl_state -path "*$t*" -prune -exec rm -rf {} + 2>/dev/null || true
    echo "== $t: ${SECS}s" >&2
    began=$(date +%s)
    timeout $((SECS + 900)) cargo bolero test --engine afl --sanitizer NONE \
        -p sightline-fuzz --profile release --corpus-dir "$dir/in" "fuzz::$t" \
        "--engine-args=-V $SECS -t 5000" >"$dir/log" 2>&1 || true
    ran=$(($(date +%s) - began))
    state=$(find fuzz -type d -path "*__fuzz__*" -name afl_state -path "*$t*" | head -n 1)
    stats="$state/default/fuzzer_stats"
    if [ -z "$state" ] || [ ! -f "$stats" ]; then
        echo "$t: AFL did not start; see $dir/log" >&2
        tail -n 20 "$dir/log" >&2
        printf '%-24s %8s %12s %9s %7s %8s %6s\n' "$t" "$ran" - - - "failed" - >>"$TABLE"
        continue
    fi
    secs=$(stat_of "$stats" run_time)
    execs=$(stat_of "$stats" execs_done)
    eps=$(stat_of "$stats" execs_per_sec)
    corpus=$(stat_of "$stats" corpus_count)
    crashes=$(stat_of "$stats" saved_crashes)
    hangs=$(stat_of "$stats" saved_hangs)
    mkdir -p "$dir/crashes" "$dir/hangs"
    cp "$state"/default/crashes/id* "$dir/crashes/" 2>/dev/null || true
    cp "$state"/default/hangs/id* "$dir/hangs/" 2>/dev/null || true
    if [ "${SAVE_CORPUS:-0}" = 1 ]; then
        mkdir -p "fuzz/corpus/$t"
        for f in "$state"/default/queue/id*; do
            [ -f "$f" ] || continue
            cp "$f" "fuzz/corpus/$t/afl-$(sha1sum "$f" | cut -c1-16)"
        done
    fi
    printf '%-24s %8s %12s %9s %7s %8s %6s\n' "$t" "${secs:-$ran}" "${execs:-?}" "${eps:-?}" \
        "${corpus:-?}" "${crashes:-?}" "${hangs:-?}" | tee -a "$TABLE" >&2
done
cat "$TABLE"
