"""Search speed: `{job="x"} |= "rare-token"` over a generated corpus
(bench/logcorpus.py, one line carrying the token), through the log store's
select with hints (token filters skip chunks) against ripgrep over the
same lines as plain files, in the same run; then a full scan with a
substring filter (no hints, so every chunk is decompressed and every line
tested) against `rg -j1`, as GB/s of raw lines per core.

Both sides run warm (files and store in the page cache, best of N runs),
single-threaded. The corpus size is printed: the issue asks for 10 GB, this
machine's free disk decides (default 500 MB).

Usage: python3 bench/logstore_search.py [MEGABYTES] [RUNS]
Needs: ripgrep (apt-get install ripgrep). Run on purpose, not in CI.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logcorpus  # noqa: E402
from logstore_common import logbench, run_json  # noqa: E402

NEEDLE = "rare-token"


def best_of(runs, f):
    best = None
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = f()
        el = time.perf_counter() - t0
        best = el if best is None else min(best, el)
    return best, out


def rg(args, corpus):
    p = subprocess.run(["rg", *args, "-c", "-F", NEEDLE, corpus], capture_output=True, text=True)
    return sum(int(l.rsplit(":", 1)[1]) for l in p.stdout.split())


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if not shutil.which("rg"):
        sys.exit("ripgrep (rg) is not installed: apt-get install ripgrep")
    tmp = tempfile.mkdtemp(prefix="logstore-search-")
    try:
        corpus = os.path.join(tmp, "corpus")
        logcorpus.generate(corpus, mb, rare=NEEDLE)
        bench = logbench()
        store = os.path.join(tmp, "ours")
        ing = run_json([bench, "ingest", corpus, store])
        raw = ing["raw_bytes"]
        file_bytes = sum(os.path.getsize(os.path.join(corpus, f)) for f in os.listdir(corpus))
        hinted = run_json([bench, "search", store, "x", NEEDLE, "--repeat", str(runs)])
        # Hints on (the line filter runs inside the store, as for a LogQL
        # `|=`), token filters off: every chunk is decompressed and scanned.
        full = run_json([bench, "search", store, "x", NEEDLE, "--repeat", str(runs)],
                        env=dict(os.environ, LOGBENCH_NO_FILTERS="1"))
        nohint = run_json([bench, "search", store, "x", NEEDLE, "--no-hints", "--repeat", str(runs)])
        rg_t, rg_n = best_of(runs, lambda: rg([], corpus))
        rg1_t, rg1_n = best_of(runs, lambda: rg(["-j1"], corpus))
        print(f"corpus: {raw / 1e6:.0f} MB of line text ({file_bytes / 1e6:.0f} MB of files with timestamps), "
              f"{ing['lines']} lines, {hinted['chunks']} chunks; store {ing['store_bytes'] / 1e6:.1f} MB")
        print(f'{{job="x"}} |= "{NEEDLE}":')
        print(f"  ours (select with hints): {hinted['best_secs'] * 1e3:8.1f} ms  matches {hinted['matches']}, "
              f"chunks skipped {hinted['chunks_skipped_per_run']} read {hinted['chunks_read_per_run']}")
        print(f"  rg (all cores):           {rg_t * 1e3:8.1f} ms  matches {rg_n}")
        print(f"  ratio rg/ours:            {rg_t / hinted['best_secs']:8.2f}x")
        print("full scan, substring filter, one core:")
        print(f"  ours (filters off):          {full['best_secs'] * 1e3:8.1f} ms  {raw / full['best_secs'] / 1e9:.2f} GB/s of lines "
              f"(matches {full['matches']})")
        print(f"  ours (no hints at all):   {nohint['best_secs'] * 1e3:8.1f} ms  {raw / nohint['best_secs'] / 1e9:.2f} GB/s "
              f"(every line copied out, filtered by the caller)")
        print(f"  rg -j1:                   {rg1_t * 1e3:8.1f} ms  {file_bytes / rg1_t / 1e9:.2f} GB/s of files "
              f"(matches {rg1_n})")
        print(f"  ratio ours/rg (GB/s):     {(raw / full['best_secs']) / (file_bytes / rg1_t):8.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
