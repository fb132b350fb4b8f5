#!/usr/bin/env python3
"""Side-by-side rule evaluation benchmark (issue 4): Debian's Prometheus and
Sightline scrape the same synthetic targets (50,000 series by default) and
evaluate the same 1,000 recording and alerting rules every 15 s.

Each process's CPU is measured twice over equal windows: first scraping
only, then (after a SIGHUP that adds `rule_files`) scraping and evaluating
rules. The rules' cost is the difference. Prints both processes' figures
and the ratio Sightline/Prometheus (target: <= 0.5). Not a test.

Usage: bench/rules_compare.py [--series 50000] [--rules 1000] [--interval 15s]
                              [--warmup 60] [--duration 120]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (cpu_over, peer_arguments, reload_all, start_fake_targets, start_peers,  # noqa: E402
                      stop_all)


def rule_file(n_rules, interval, per_group=20):
    """n_rules rules in groups of per_group: a mix of recording rules
    (per-route rates, latency quantiles, a few fleet-wide sums) and alerting
    rules (error ratio, latency, queue depth), the shapes the seeds use."""
    rules = []
    for i in range(n_rules):
        route = f"/api/v{i % 3}/resource{(i // 3) % 200}"
        kind = i % 10
        if kind in (0, 1, 2):
            rules.append(("record", f"route:http_requests:rate5m_{i}",
                          f'sum by (code) (rate(http_requests_total{{route="{route}"}}[5m]))'))
        elif kind in (3, 4):
            rules.append(("record", f"route:latency:p95_{i}",
                          f'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{route="{route}"}}[5m])))'))
        elif kind == 5:
            if i % 100 == 5:
                rules.append(("record", f"code:http_requests:rate5m_{i}",
                              "sum by (code) (rate(http_requests_total[5m]))"))
            else:
                rules.append(("record", f"pool:open_connections:avg_{i}",
                              f'avg by (route) (process_open_connections{{route="{route}"}})'))
        elif kind in (6, 7):
            rules.append(("alert", f"HighErrorRate{i}",
                          f'sum(rate(http_requests_total{{route="{route}",code=~"5.."}}[5m])) '
                          f'/ sum(rate(http_requests_total{{route="{route}"}}[5m])) > 0.05'))
        elif kind == 8:
            rules.append(("alert", f"HighLatency{i}",
                          f'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{route="{route}"}}[5m]))) > 0.5'))
        else:
            rules.append(("alert", f"QueueBacklog{i}",
                          f'queue_depth_items{{shard="{i % 16}"}} > 900'))
    out = ["groups:"]
    for g in range(0, len(rules), per_group):
        out.append(f"  - name: bench{g // per_group}")
        out.append(f"    interval: {interval}")
        out.append("    rules:")
        for kind, name, expr in rules[g:g + per_group]:
            out.append(f"      - {kind}: {name}")
            out.append(f"        expr: '{expr}'")
            if kind == "alert":
                out.append("        for: 5m")
                out.append("        labels: {severity: page}")
                out.append("        annotations: {summary: '{{ $labels.route }} is at {{ $value }}'}")
    return "\n".join(out) + "\n"


def main():
    ap = peer_arguments(interval="15s", warmup=60)
    ap.add_argument("--rules", type=int, default=1000)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="rules-bench-")
    procs = []
    try:
        with open(os.path.join(work, "rules.yml"), "w") as f:
            f.write(rule_file(args.rules, args.interval))
        check = subprocess.run(["promtool", "check", "rules", os.path.join(work, "rules.yml")],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"promtool rejects the generated rules:\n{check.stdout}{check.stderr}")
        targets = ", ".join(f"'{a}'" for a in start_fake_targets(procs, args.targets, args.series))
        cfg = os.path.join(work, "prometheus.yml")

        def write_cfg(with_rules):
            with open(cfg, "w") as f:
                f.write(f"global:\n  scrape_interval: {args.interval}\n  evaluation_interval: {args.interval}\n")
                if with_rules:
                    f.write("rule_files: ['rules.yml']\n")
                f.write(f"scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{targets}]\n")

        write_cfg(False)
        peers = start_peers(procs, args, work, cfg, cfg)
        # The rules read 5m rates: let 5 minutes of data build up first, or
        # the first evaluations are cheaper than the steady state.
        print(f"warming up {args.warmup}s + 300s of history, {args.series} series every {args.interval}...",
              flush=True)
        time.sleep(args.warmup + 300)
        base = cpu_over(peers, args.duration)
        write_cfg(True)
        reload_all(peers)
        print(f"rules loaded ({args.rules}); warming up {args.warmup}s...", flush=True)
        time.sleep(args.warmup)
        loaded = cpu_over(peers, args.duration)

        print(f"\n{'':12} {'scrape only':>12} {'with rules':>11} {'rules':>8}  (CPU cores)")
        rules_cpu = {}
        for k in peers:
            rules_cpu[k] = loaded[k] - base[k]
            print(f"{k:12} {base[k]:12.3f} {loaded[k]:11.3f} {rules_cpu[k]:8.3f}")
        ratio = rules_cpu["sightline"] / max(rules_cpu["prometheus"], 1e-9)
        print(f"{'ratio s/p':12} {'':12} {loaded['sightline'] / max(loaded['prometheus'], 1e-9):11.3f} {ratio:8.3f}")
        print(f"(target: rules CPU ratio <= 0.5; {args.rules} rules, {args.series} series, "
              f"{args.interval} interval, {args.duration}s windows)")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
