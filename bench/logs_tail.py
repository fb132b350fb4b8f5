"""File tailing in `serve` (issue 15, item 2): MB of raw log lines per
CPU-second of the server, from files on disk to the log store (read,
split, pipeline, validation, the store's append and its WAL).

Generates a corpus with bench/logcorpus.py (four services, one file each),
starts `sightline serve` with `logs.scrape_configs` over it (with a
`regex` + `labels` pipeline, as a typical Promtail job has), waits until
`promtail_sent_bytes_total` on /metrics covers every line, and reads the
server's CPU time from /proc.

The peer would be Promtail + Loki; neither is packaged for Debian or PyPI
on these machines, so the yardstick printed beside ours in the same run is
`wc -l` over the same files (the cost of just reading them), as ripgrep is
the yardstick for search.

    python3 bench/logs_tail.py [--mb 200] [--bin target/release/sightline]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import logcorpus  # noqa: E402


def metric(url, name):
    text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--bin", default="target/release/sightline")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="logs_tail_")
    try:
        corpus = os.path.join(work, "corpus")
        stats = logcorpus.generate(corpus, a.mb)
        lines = sum(n for n, _ in stats.values())
        raw = sum(b for _, b in stats.values())
        # What the tailer counts as sent: line text without the newline.
        text_bytes = raw - lines

        t0 = time.time()
        c0 = os.times()
        subprocess.run(["sh", "-c", f"cat {corpus}/*.log | wc -l"], check=True, capture_output=True)
        c1 = os.times()
        wc_cpu = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
        wc_wall = time.time() - t0

        port = benchlib.free_port()
        cfg = os.path.join(work, "sightline.yml")
        with open(cfg, "w") as f:
            f.write(f"""logs:
  scrape_configs:
  - job_name: bench
    static_configs:
    - labels: {{job: bench, __path__: "{corpus}/*.log"}}
    pipeline_stages:
    - regex:
        source: filename
        expression: '__(?P<service>\\w+)\\.log$'
    - labels: {{service: }}
""")
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([a.bin, "serve", "--config", cfg, "--data-dir", os.path.join(work, "data"),
                                 "--listen", f"127.0.0.1:{port}", "--otlp.grpc.listen", "0"],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))
        try:
            benchlib.wait_http(url + "/-/ready")
            cpu0 = benchlib.proc_cpu_seconds(proc.pid)
            t0 = time.time()
            while metric(url, "promtail_sent_bytes_total") < text_bytes:
                if time.time() - t0 > 600:
                    raise SystemExit("timed out; see " + os.path.join(work, "serve.log"))
                time.sleep(0.2)
            wall = time.time() - t0
            cpu = benchlib.proc_cpu_seconds(proc.pid) - cpu0
            rss = benchlib.proc_status_kb(proc.pid, "VmHWM") / 1024
        finally:
            proc.terminate()
            proc.wait()
        mb = raw / 1e6
        ours = mb / max(cpu, 1e-9)
        yard = mb / max(wc_cpu, 1e-9)
        print(f"corpus: {mb:.0f} MB, {lines} lines in {len(stats)} files")
        print(f"sightline serve (tail -> store): {ours:8.1f} MB/s per CPU-second "
              f"({cpu:.1f} CPU s, {wall:.1f} s wall, {lines / wall:,.0f} lines/s, peak RSS {rss:.0f} MB)")
        print(f"yardstick cat | wc -l:           {yard:8.1f} MB/s per CPU-second ({wc_cpu:.2f} CPU s, {wc_wall:.2f} s wall)")
        print(f"ratio ours / yardstick: {ours / yard:.3f}")
        print("peer Promtail + Loki: not installable here (no Debian or PyPI package)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
