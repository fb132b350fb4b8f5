#!/usr/bin/env python3
"""1,000 http probes every 10 s on one core, with known injected delays.

Builds crates/probe's probe_1000 bench in release mode, starts its target
server pinned to core 1 and the prober (Sightline's ProbeScheduler with
1,000 monitors) pinned to core 0, and prints the prober's CPU use and the
error of each probe's `processing` phase against the delay the target
injected (1-100 ms). Usage: bench/probe_1000.py [--seconds 60] [--n 1000]
"""
import argparse
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--n", type=int, default=1000)
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
    server = subprocess.Popen(["taskset", "-c", "1", exe, "serve", str(port)])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        print(f"prober: taskset -c 0, {args.n} http monitors every 10 s for {args.seconds} s")
        subprocess.run(["taskset", "-c", "0", exe, "probe", str(port), str(args.seconds), str(args.n)],
                       check=True)
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
