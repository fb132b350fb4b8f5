"""Cardinality bombs against a series limit (issue 18, part 3).

Runs the full-size bombs the tests only run small:
  1. a scrape target exposing `--series` (default 5M) new series, scraped by
     Sightline with `max_global_series_per_user: --limit` and by Debian's
     Prometheus with `sample_limit: --limit` (its nearest guard);
  2. a Loki push of `--streams` (default 1M) streams to Sightline with
     `logs.store.max_streams_per_tenant: --limit`.
Prints each side's peak RSS (VmHWM), the series each ended with, and
Sightline's refusals, and the RSS ratio from the same run.

    python3 bench/cardinality_bomb.py [--series 5000000] [--streams 1000000] [--limit 100000]

Run on purpose, not in CI: it takes minutes and a few GB of RAM for the
target's text.
"""
import json
import os
import sys
import tempfile
import time
import shutil
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ap = benchlib.peer_arguments("10s", 30)
ap.add_argument("--streams", type=int, default=1_000_000)
ap.add_argument("--limit", type=int, default=100_000)
ap.set_defaults(series=5_000_000, targets=1, duration=60)
args = ap.parse_args()


def get(url):
    return urllib.request.urlopen(url, timeout=120).read().decode()


def query(addr, q, headers=None):
    req = urllib.request.Request(f"http://{addr}/api/v1/query?query={urllib.parse.quote(q)}",
                                 headers=headers or {})
    res = json.loads(urllib.request.urlopen(req, timeout=120).read())["data"]["result"]
    return int(float(res[0]["value"][1])) if res else 0


def discarded(addr):
    lines = [line for line in get(f"http://{addr}/metrics").splitlines()
             if line.startswith("sightline_discarded_samples_total{")
             or line.startswith("sightline_tenant_series{")
             or line.startswith("sightline_logs_discarded")]
    return lines


def main():
    work = tempfile.mkdtemp(prefix="bomb-")
    procs = []
    try:
        addrs = benchlib.start_fake_targets(procs, args.targets, args.series)
        targets = ", ".join(f"'{a}'" for a in addrs)
        prom_cfg = os.path.join(work, "prometheus.yml")
        with open(prom_cfg, "w") as f:
            f.write(f"global:\n  scrape_interval: {args.interval}\n  scrape_timeout: {args.interval}\n"
                    f"scrape_configs:\n  - job_name: bomb\n    sample_limit: {args.limit}\n"
                    f"    static_configs:\n      - targets: [{targets}]\n")
        sl_prom = os.path.join(work, "sightline-prometheus.yml")
        with open(sl_prom, "w") as f:
            f.write(f"global:\n  scrape_interval: {args.interval}\n  scrape_timeout: {args.interval}\n"
                    f"scrape_configs:\n  - job_name: bomb\n"
                    f"    static_configs:\n      - targets: [{targets}]\n")
        sl_cfg = os.path.join(work, "sightline.yml")
        with open(sl_cfg, "w") as f:
            f.write(f"prometheus: sightline-prometheus.yml\n"
                    f"tenants:\n  limits:\n    max_global_series_per_user: {args.limit}\n"
                    f"logs:\n  store:\n    max_streams_per_tenant: {args.limit}\n")
        peers = benchlib.start_peers(procs, args, work, prom_cfg, sl_cfg)
        time.sleep(args.warmup + args.duration)
        prom_series = query(benchlib.PROM_ADDR, "count({job='bomb'})")
        sl_series = query(benchlib.SIGHTLINE_ADDR, "count({job='bomb'})")

        # The Loki push bomb: `--streams` streams in pushes of 100k.
        refused = 0
        last = ""
        t = time.time_ns()
        for start in range(0, args.streams, 100_000):
            streams = [{"stream": {"app": "bomb", "i": str(i)}, "values": [[str(t), "x"]]}
                       for i in range(start, min(start + 100_000, args.streams))]
            req = urllib.request.Request(f"http://{benchlib.SIGHTLINE_ADDR}/loki/api/v1/push",
                                         data=json.dumps({"streams": streams}).encode(),
                                         headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=300).read()
            except urllib.error.HTTPError as e:
                refused += 1
                last = e.read().decode()[:200]
        prom_kb = benchlib.proc_status_kb(peers["prometheus"], "VmHWM")
        sl_kb = benchlib.proc_status_kb(peers["sightline"], "VmHWM")
        print(f"scrape bomb: {args.series} series, limit {args.limit}")
        print(f"  prometheus: {prom_series} series stored (sample_limit refuses whole scrapes)")
        print(f"  sightline:  {sl_series} series stored")
        print(f"loki push bomb: {args.streams} streams, {refused} pushes refused"
              + (f" ({last.strip()})" if refused else ""))
        for line in discarded(benchlib.SIGHTLINE_ADDR):
            print("  " + line)
        print(f"peak RSS: prometheus {prom_kb / 1024:.0f} MiB, sightline {sl_kb / 1024:.0f} MiB, "
              f"ratio sightline/prometheus {sl_kb / max(prom_kb, 1):.2f}")
    finally:
        benchlib.stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
