#!/usr/bin/env python3
"""Side-by-side SLO benchmark (issue 5): 100 SLOs over 50,000 scraped series.
Sightline evaluates them from `slos:` in its config; Debian's Prometheus
evaluates the rule file `sightline slo generate` prints for the same specs.
Both scrape the same synthetic targets (bench/fake_targets.py).

CPU is measured over equal windows before and after a SIGHUP that adds the
SLOs / rule file; the SLOs' cost is the difference. Prints both figures and
the ratio Sightline/Prometheus (target: <= 0.5). Not a test.

Usage: bench/slo_compare.py [--slos 100] [--series 50000] [--warmup 60] [--duration 120]
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


def slo_specs(n):
    """n SLOs in Sightline's short form, one per route of the synthetic
    targets: 70% availability (5xx over all requests), 30% latency (share of
    requests under 0.5 s, a bucket boundary of the targets' histograms)."""
    out = ["version: sightline/v1", "service: bench", "slos:"]
    for i in range(n):
        route = f"/api/v{i % 3}/resource{(i // 3) % 200}"
        if i % 10 < 7:
            out += [f"  - name: availability-{i}", "    objective: 99.9",
                    f"    availability: {{metric: http_requests_total, selector: 'route=\"{route}\"', "
                    "errors: 'code=~\"5..\"'}"]
        else:
            out += [f"  - name: latency-{i}", "    objective: 99",
                    f"    latency: {{metric: http_request_duration_seconds, selector: 'route=\"{route}\"', "
                    "threshold: 500ms}"]
    return "\n".join(out) + "\n"


def main():
    ap = peer_arguments(interval="15s", warmup=60)
    ap.add_argument("--slos", type=int, default=100)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="slo-bench-")
    procs = []
    try:
        spec = os.path.join(work, "slos.yml")
        with open(spec, "w") as f:
            f.write(slo_specs(args.slos))
        rules = os.path.join(work, "slo-rules.yml")
        with open(rules, "w") as f:
            subprocess.run([args.sightline, "slo", "generate", spec], stdout=f, check=True)
        check = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"promtool rejects the generated rules:\n{check.stdout}{check.stderr}")
        print(check.stdout.strip().splitlines()[-1], flush=True)

        targets = ", ".join(f"'{a}'" for a in start_fake_targets(procs, args.targets, args.series))
        prom_cfg = os.path.join(work, "prometheus.yml")
        sl_cfg = os.path.join(work, "sightline.yml")

        def write_cfgs(loaded):
            head = f"global:\n  scrape_interval: {args.interval}\n  evaluation_interval: 1m\n"
            scrape = f"scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{targets}]\n"
            with open(prom_cfg, "w") as f:
                f.write(head + ("rule_files: ['slo-rules.yml']\n" if loaded else "") + scrape)
            with open(sl_cfg, "w") as f:
                f.write(head + ("slos: ['slos.yml']\n" if loaded else "") + scrape)

        write_cfgs(False)
        peers = start_peers(procs, args, work, prom_cfg, sl_cfg)
        print(f"warming up {args.warmup}s + 300s of history...", flush=True)
        time.sleep(args.warmup + 300)
        base = cpu_over(peers, args.duration)
        write_cfgs(True)
        reload_all(peers)
        print(f"{args.slos} SLOs loaded; warming up {args.warmup}s...", flush=True)
        time.sleep(args.warmup)
        loaded = cpu_over(peers, args.duration)

        print(f"\n{'':12} {'scrape only':>12} {'with SLOs':>10} {'SLOs':>8}  (CPU cores)")
        cost = {}
        for k in peers:
            cost[k] = loaded[k] - base[k]
            print(f"{k:12} {base[k]:12.3f} {loaded[k]:10.3f} {cost[k]:8.3f}")
        print(f"{'ratio s/p':12} {'':12} {'':10} {cost['sightline'] / max(cost['prometheus'], 1e-9):8.3f}")
        print(f"(target: <= 0.5; {args.slos} SLOs, {args.series} series, {args.duration}s windows)")
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
