"""What the side-by-side benchmarks share: /proc readings, waiting for HTTP
endpoints, free ports, and starting Debian's Prometheus and Sightline (with
bench/fake_targets.py as their scrape targets) and stopping them again.

Not a test and not a benchmark of its own: imported by the bench/*.py
scripts, which are run on purpose (see each script's docstring).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROM_ADDR = "127.0.0.1:19090"
SIGHTLINE_ADDR = "127.0.0.1:19091"
TARGETS_BASE_PORT = 19100


def proc_cpu_seconds(pid):
    """User plus system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kb(pid, field):
    """A `kB` field of /proc/PID/status (`VmRSS`, `VmHWM`), 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def proc_rss_bytes(pid):
    return proc_status_kb(pid, "VmRSS") * 1024


def cpu_over(peers, seconds):
    """CPU cores each of `peers` (name -> pid) used over the next `seconds`."""
    c0 = {k: proc_cpu_seconds(p) for k, p in peers.items()}
    t0 = time.time()
    time.sleep(seconds)
    el = time.time() - t0
    return {k: (proc_cpu_seconds(p) - c0[k]) / el for k, p in peers.items()}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {url}")


def start_fake_targets(procs, targets, series):
    """Starts `targets` synthetic targets serving `series` series in all;
    returns their `host:port` list once every one answers."""
    procs.append(subprocess.Popen([sys.executable, os.path.join(ROOT, "bench/fake_targets.py"),
                                   "--base-port", str(TARGETS_BASE_PORT), "--targets", str(targets),
                                   "--series-per-target", str(series // targets)]))
    addrs = [f"127.0.0.1:{TARGETS_BASE_PORT + i}" for i in range(targets)]
    for a in addrs:
        wait_http(f"http://{a}/metrics")
    return addrs


def start_peers(procs, args, work, prom_cfg, sightline_cfg):
    """Starts Prometheus (`args.prometheus`) and Sightline (`args.sightline`)
    on their configs, waits until both are ready, and returns their pids by
    name."""
    prom = subprocess.Popen([args.prometheus, f"--config.file={prom_cfg}",
                             f"--storage.tsdb.path={work}/prom", f"--web.listen-address={PROM_ADDR}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(prom)
    sl = subprocess.Popen([args.sightline, "serve", "--config", sightline_cfg, "--data-dir",
                           f"{work}/sightline", "--listen", SIGHTLINE_ADDR],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(sl)
    wait_http(f"http://{PROM_ADDR}/-/ready")
    wait_http(f"http://{SIGHTLINE_ADDR}/-/ready")
    return {"prometheus": prom.pid, "sightline": sl.pid}


def stop_all(procs):
    """SIGTERM in reverse start order, then wait (SIGKILL after 20 s)."""
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def reload_all(peers):
    """SIGHUP to every peer (both reload their configuration on it)."""
    for pid in peers.values():
        os.kill(pid, signal.SIGHUP)


def peer_arguments(interval, warmup):
    """The command line every side-by-side script takes: the workload
    (`--series`, `--targets`, `--interval`), the windows (`--warmup`,
    `--duration`) and the two binaries. Scripts add their own."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=50000)
    ap.add_argument("--targets", type=int, default=10)
    ap.add_argument("--interval", default=interval)
    ap.add_argument("--warmup", type=int, default=warmup)
    ap.add_argument("--duration", type=int, default=120)
    ap.add_argument("--sightline", default=os.path.join(ROOT, "target/release/sightline"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    return ap
