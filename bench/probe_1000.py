#!/usr/bin/env python3
"""1,000 http probes every 10 s on one core, with known injected delays.

Builds crates/probe's probe_1000 bench in release mode, starts its target
server pinned to core 1 and the prober (Sightline's ProbeScheduler with
1,000 monitors) pinned to core 0, and prints the prober's CPU use and the
error of each probe's `processing` phase against the delay the target
injected (1-100 ms). The same load is then run through Debian's
blackbox_exporter (pinned to core 0, driven over /probe from core 1) so the
figures can be read against the peer's on the same, possibly busy, machine.

The target (at real-time priority when run as root) logs each request's
arrival and its response's write, so each probe is also held against the
delay it really met: that separates the prober's error from the target's
own lateness, which a loaded machine or a hypervisor pausing core 1 adds.
Usage: bench/probe_1000.py [--seconds 60] [--n 1000] [--no-peer]
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, proc_cpu_seconds  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target", "probe"))
    subprocess.run(
        ["cargo", "bench", "-p", "sightline-probe", "--bench", "probe_1000", "--no-run"],
        cwd=ROOT, env=env, check=True,
    )
    out = subprocess.run(
        ["cargo", "bench", "-p", "sightline-probe", "--bench", "probe_1000", "--no-run",
         "--message-format=json"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    import json
    exe = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and \
                msg["target"]["name"] == "probe_1000":
            exe = msg["executable"]
    if not exe:
        sys.exit("probe_1000 bench binary not found")
    port = free_port()
    import tempfile
    log = tempfile.NamedTemporaryFile(prefix="probe_1000_target_", suffix=".log", delete=False).name
    # The target is the reference: its delays must be what it claims, so on
    # a machine others load too it runs at real-time priority (root only),
    # where other processes cannot hold its wake-ups back. The prober does not.
    rt = ["chrt", "-f", "50"] if os.geteuid() == 0 and shutil.which("chrt") else []
    server = subprocess.Popen(rt + ["taskset", "-c", "1", exe, "serve", str(port), log])
    print("target: " + " ".join(rt + ["taskset", "-c", "1"]))
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        print(f"prober: taskset -c 0, {args.n} http monitors every 10 s for {args.seconds} s")
        probe_log = log + ".prober"
        subprocess.run(["taskset", "-c", "0", exe, "probe", str(port), str(args.seconds), str(args.n),
                        probe_log], check=True)
        with open(probe_log) as f:
            ours = [(int(us), int(ts) * 1_000_000, float(p)) for us, ts, p in (x.split() for x in f)]
        os.unlink(probe_log)
        peer = [] if args.no_peer else peer_run(port, args.seconds, args.n)
    finally:
        server.kill()
        server.wait()
    with open(log) as f:
        target = read_target_log(f)
    os.unlink(log)
    print("against each response's true delay (request arrival to the middle of the response's write, "
          "from the target's log):")
    for name, probes in [("sightline", ours), ("blackbox", peer)]:
        if probes:
            true_delay_report(name, probes, target)
    print("load average during the run: " + open("/proc/loadavg").read().split()[0]
          + f" on {os.cpu_count()} cores")


PEER = "/usr/bin/prometheus-blackbox-exporter"


def pick(xs, p):
    return xs[min(len(xs) - 1, int(round((len(xs) - 1) * p)))] if xs else float("nan")


def error_line(errors):
    errors = sorted(errors)
    absolute = sorted(abs(e) for e in errors)
    within = sum(1 for e in absolute if e <= 1.0)
    return (f"min={errors[0]:.3f} median={pick(errors, 0.5):.3f} p99={pick(errors, 0.99):.3f} "
            f"max={errors[-1]:.3f}; |error| median={pick(absolute, 0.5):.3f} p99={pick(absolute, 0.99):.3f}; "
            f"within 1 ms: {100.0 * within / max(1, len(absolute)):.1f}%")


def read_target_log(lines):
    """Injected µs -> sorted (arrival, before write, after write) in unix ns."""
    by_us = {}
    for line in lines:
        us, arrival, before, after = map(int, line.split())
        by_us.setdefault(us, []).append((arrival, before, after))
    for v in by_us.values():
        v.sort()
    return by_us


def true_delay_report(name, probes, target):
    """Pairs each probe (µs, unix ns before its request, processing s) with
    the target's record of that request: the first arrival of its path after
    the probe started (each path is probed once per 10 s)."""
    import bisect
    errors, late, spans = [], [], []
    for us, t_ns, processing in probes:
        recs = target.get(us, [])
        i = bisect.bisect_left(recs, (t_ns - 2_000_000,))
        if i == len(recs) or recs[i][0] - t_ns > 5_000_000_000:
            continue
        arrival, before, after = recs[i]
        true_ms = ((before + after) / 2 - arrival) / 1e6
        errors.append(processing * 1e3 - true_ms)
        late.append(true_ms - us / 1e3)
        spans.append((after - before) / 1e6)
    if not errors:
        print(f"  {name}: no probe paired with the target's log")
        return
    late.sort()
    spans.sort()
    print(f"  {name}: {len(errors)} of {len(probes)} probes paired (the target's write, which the "
          f"true end is known within, took p99={pick(spans, 0.99):.3f} max={spans[-1]:.3f} ms)")
    print(f"    processing minus true delay (ms): {error_line(errors)}")
    print(f"    target's lateness (true minus injected delay, ms): median={pick(late, 0.5):.3f} "
          f"p99={pick(late, 0.99):.3f} max={late[-1]:.3f}")


def delay_us(i):
    # The same delays as the Rust bench gives its monitors.
    return 1000 + (i * 997 % 1000) * 99


def peer_run(port, seconds, n):
    """Drives blackbox_exporter with the same targets and rate."""
    import concurrent.futures
    import re
    import tempfile
    import threading
    import urllib.parse
    import urllib.request
    if not os.path.exists(PEER):
        print(f"peer: {PEER} missing, skipped")
        return []
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False)
    cfg.write("modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n")
    cfg.close()
    bport = free_port()
    peer = subprocess.Popen(["taskset", "-c", "0", PEER, f"--config.file={cfg.name}",
                             f"--web.listen-address=127.0.0.1:{bport}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", bport), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        phase = re.compile(r'probe_http_duration_seconds\{phase="processing"\} (\S+)')
        errors, failed, lock = [], [0], threading.Lock()

        probes = []

        def one(i):
            target = f"http://127.0.0.1:{port}/delay/{delay_us(i)}"
            url = f"http://127.0.0.1:{bport}/probe?module=http_2xx&target=" + urllib.parse.quote(target, safe="")
            started = time.time_ns()
            body = urllib.request.urlopen(url, timeout=10).read().decode()
            m = phase.search(body)
            with lock:
                if "probe_success 1" in body and m:
                    errors.append((float(m.group(1)) - delay_us(i) / 1e6) * 1e3)
                    probes.append((delay_us(i), started, float(m.group(1))))
                else:
                    failed[0] += 1

        print(f"peer: blackbox_exporter on taskset -c 0, driven with the same {n} targets on the same schedule")
        cpu0 = proc_cpu_seconds(peer.pid)
        t0 = time.monotonic()
        # The same schedule as Sightline's: each target at a fixed offset in
        # its 10 s interval, FNV-1a of "monitor\0target" (scheduler.rs).
        def offset(i):
            h = 0xCBF29CE484222325
            key = f"m{i}".encode() + b"\0" + f"http://127.0.0.1:{port}/delay/{delay_us(i)}".encode()
            for b in key:
                h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
            return (h % 10_000_000_000) / 1e9
        slots = sorted((offset(i), i) for i in range(n))
        with concurrent.futures.ThreadPoolExecutor(max_workers=128) as pool:
            for rnd in range(int(seconds // 10)):
                for off, i in slots:
                    due = t0 + rnd * 10.0 + off
                    now = time.monotonic()
                    if due > now:
                        time.sleep(due - now)
                    pool.submit(one, i)
        wall = time.monotonic() - t0
        cpu = proc_cpu_seconds(peer.pid) - cpu0
        print(f"probes={len(errors)} failed={failed[0]} wall_s={wall:.1f} cpu_s={cpu:.2f} cpu_cores={cpu / wall:.4f}")
        print(f"processing-phase error vs injected delay (ms): {error_line(errors)}")
        return probes
    finally:
        peer.kill()
        peer.wait()
        os.unlink(cfg.name)


if __name__ == "__main__":
    main()
