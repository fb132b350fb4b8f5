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
# Engine: cargo-bolero's AFL engine (bolero-afl bundles AFL 2.57b's
# afl-fuzz and runtime, built with the machine's cc; cargo-afl's AFL++ is
# installed for `cargo afl tmin/cmin` on the crashes). The pinned installs:
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
# AFL 2.57b's default memory limit (-m 50, an address-space limit) kills a
# process that maps stores and spawns threads; the test binary's own
# allocator caps single allocations instead (fuzz/tests/targets.rs).

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
    find fuzz -type d -path "*__fuzz__*" -name afl_state -path "*fuzz__${t}/*" -prune -exec rm -rf {} + 2>/dev/null || true
    echo "== $t: ${SECS}s" >&2
    # The first call builds the instrumented test binary (once for all
    # targets); the fuzzing itself is stopped by SIGINT after SECS, which
    # AFL handles by writing its stats and exiting.
    setsid timeout 3600 cargo bolero test --engine afl --sanitizer NONE \
        -p sightline-fuzz --profile release --corpus-dir "$dir/in" "fuzz::$t" \
        --engine-args=-mnone --engine-args=-t5000 >"$dir/log" 2>&1 &
    pid=$!
    until grep -q "All set and ready to roll\|PROGRAM ABORT" "$dir/log" 2>/dev/null || ! kill -0 $pid 2>/dev/null; do
        sleep 2
    done
    began=$(date +%s)
    sleep "$SECS"
    # setsid made the run its own process group: stop exactly it.
    kill -INT -- -"$pid" 2>/dev/null || true
    wait $pid 2>/dev/null || true
    ran=$(($(date +%s) - began))
    state=$(find fuzz -type d -path "*__fuzz__*" -name afl_state -path "*fuzz__${t}/*" | head -n 1)
    stats="$state/fuzzer_stats"
    if [ -z "$state" ] || [ ! -f "$stats" ]; then
        echo "$t: AFL did not start; see $dir/log" >&2
        tail -n 20 "$dir/log" >&2
        printf '%-24s %8s %12s %9s %7s %8s %6s\n' "$t" "$ran" - - - "failed" - >>"$TABLE"
        continue
    fi
    secs=$(($(stat_of "$stats" last_update) - $(stat_of "$stats" start_time)))
    execs=$(stat_of "$stats" execs_done)
    eps=$((execs / (secs > 0 ? secs : 1)))
    corpus=$(stat_of "$stats" paths_total)
    crashes=$(stat_of "$stats" unique_crashes)
    hangs=$(stat_of "$stats" unique_hangs)
    mkdir -p "$dir/crashes" "$dir/hangs"
    cp "$state"/crashes/id* "$dir/crashes/" 2>/dev/null || true
    cp "$state"/hangs/id* "$dir/hangs/" 2>/dev/null || true
    if [ "${SAVE_CORPUS:-0}" = 1 ]; then
        mkdir -p "fuzz/corpus/$t"
        for f in "$state"/queue/id*; do
            [ -f "$f" ] || continue
            cp "$f" "fuzz/corpus/$t/afl-$(sha1sum "$f" | cut -c1-16)"
        done
    fi
    printf '%-24s %8s %12s %9s %7s %8s %6s\n' "$t" "${secs:-$ran}" "${execs:-?}" "${eps:-?}" \
        "${corpus:-?}" "${crashes:-?}" "${hangs:-?}" | tee -a "$TABLE" >&2
done
cat "$TABLE"
