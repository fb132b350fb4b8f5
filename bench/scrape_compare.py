#!/usr/bin/env python3
"""Side-by-side scrape benchmark: Debian's Prometheus and Sightline scrape
the same synthetic targets with the same prometheus.yml, in the same run.

Prints each one's RSS (median of samples taken over the measurement window)
and CPU (cores, from /proc utime+stime over the window), and the ratios
Sightline/Prometheus. Not a test: run it on purpose.

Usage: bench/scrape_compare.py [--series 50000] [--targets 10] [--interval 1s]
                               [--warmup 90] [--duration 120]
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (peer_arguments, proc_cpu_seconds, proc_rss_bytes, start_fake_targets,  # noqa: E402
                      start_peers, stop_all)


def main():
    ap = peer_arguments(interval="1s", warmup=90)
    ap.add_argument("--timeline", action="store_true",
                    help="also print both RSS figures every 30 s of the window (head chunks pile up "
                         "with time at a 1 s interval, so short windows flatter whoever keeps them in RAM)")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="scrape-bench-")
    procs = []
    try:
        targets = ", ".join(f"'{a}'" for a in start_fake_targets(procs, args.targets, args.series))
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"global:\n  scrape_interval: {args.interval}\n  scrape_timeout: {args.interval}\n"
                    f"scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{targets}]\n")
        peers = start_peers(procs, args, work, cfg, cfg)
        print(f"warming up {args.warmup}s with {args.series} series every {args.interval}...", flush=True)
        time.sleep(args.warmup)

        cpu0 = {k: proc_cpu_seconds(p) for k, p in peers.items()}
        t0 = time.time()
        rss = {k: [] for k in peers}
        last_line = t0
        while time.time() - t0 < args.duration:
            for k, p in peers.items():
                rss[k].append(proc_rss_bytes(p))
            if args.timeline and time.time() - last_line >= 30:
                last_line = time.time()
                print(f"  t={args.warmup + last_line - t0:6.0f}s  RSS MB: prometheus "
                      f"{rss['prometheus'][-1] / 2**20:7.1f}  sightline {rss['sightline'][-1] / 2**20:7.1f}",
                      flush=True)
            time.sleep(5)
        elapsed = time.time() - t0
        cpu = {k: (proc_cpu_seconds(p) - cpu0[k]) / elapsed for k, p in peers.items()}
        med = {k: statistics.median(v) for k, v in rss.items()}

        print(f"\n{'':12} {'RSS MB (median)':>16} {'CPU cores':>10}")
        for k in peers:
            print(f"{k:12} {med[k] / 2**20:16.1f} {cpu[k]:10.3f}")
        print(f"{'ratio s/p':12} {med['sightline'] / med['prometheus']:16.3f} "
              f"{cpu['sightline'] / max(cpu['prometheus'], 1e-9):10.3f}")
        print(f"(targets: RSS <= 0.333, CPU <= 0.5; {args.series} series, {args.interval} interval, "
              f"{args.duration}s window)")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
