"""Loki push ingestion: MB of raw log lines per CPU-second of the server
(issue 15, "at least 100 MB/s of raw log lines per core through the push
API (protobuf), WAL on").

Sends snappy-compressed protobuf pushes (Loki's push.proto, built with
protobuf's descriptor API) of mixed JSON, logfmt and access-log lines to a
running `sightline serve` (and, when given, to a peer speaking Loki's push
API, such as Loki itself, in the same run), one request after another
from --clients threads, and reads each server's CPU time from /proc: the
decode, validation, the store's append and its WAL all count. Prints MB/s
of raw lines per CPU-second ("per core") and lines/s for each, and the
ratio ours/peer.

Needs `pip install protobuf python-snappy requests` and a server already
running (the lead wires the log store into `serve`):

    python3 bench/logs_push.py --url http://127.0.0.1:9090 --pid $(pidof sightline) \
        [--peer-url http://127.0.0.1:3100 --peer-pid $(pidof loki)] [--seconds 20]
"""
import argparse
import os
import sys
import threading
import time

import requests
import snappy
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

F = descriptor_pb2.FieldDescriptorProto


def push_request_class():
    fd = descriptor_pb2.FileDescriptorProto(
        name="push.proto", package="logproto", syntax="proto3",
        dependency=["google/protobuf/timestamp.proto"])
    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    for name, fields in [
        ("PushRequest", [("streams", 1, F.TYPE_MESSAGE, rep, ".logproto.StreamAdapter")]),
        ("StreamAdapter", [("labels", 1, F.TYPE_STRING, opt, None),
                           ("entries", 2, F.TYPE_MESSAGE, rep, ".logproto.EntryAdapter"),
                           ("hash", 3, F.TYPE_UINT64, opt, None)]),
        ("EntryAdapter", [("timestamp", 1, F.TYPE_MESSAGE, opt, ".google.protobuf.Timestamp"),
                          ("line", 2, F.TYPE_STRING, opt, None)]),
    ]:
        m = fd.message_type.add(name=name)
        for fname, num, typ, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=typ, label=label)
            if tname:
                f.type_name = tname
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("logproto.PushRequest"))


def line(i):
    """The same mix as crates/ingest/benches/logs_push.rs."""
    if i % 3 == 0:
        return ('{"ts":"2023-11-14T22:13:%02d.%03dZ","level":"info","msg":"request served",'
                '"method":"GET","path":"/api/v1/items/%d","status":200,"duration_ms":%d,'
                '"trace_id":"%032x"}' % (i % 60, i % 1000, i % 97, i % 250, i * 7919))
    if i % 3 == 1:
        return ('ts=2023-11-14T22:13:%02dZ level=warn caller=cache.go:%d msg="cache miss" '
                'key=user:%d shard=%d latency=%dus' % (i % 60, i % 400, i * 13, i % 16, i % 900))
    return ('10.0.%d.%d - - [14/Nov/2023:22:13:%02d +0000] "POST /checkout/%d HTTP/1.1" %d %d "-" '
            '"Mozilla/5.0 (X11; Linux x86_64)"' % (i % 256, (i * 7) % 256, i % 60, i % 31,
                                                   200 + (i % 4) * 100, 512 + i % 4096))


def bodies(cls, n, streams, lines_per_stream, client):
    """`n` pushes with fresh, increasing timestamps; (body, raw bytes, lines)."""
    out = []
    t0 = time.time_ns()
    for r in range(n):
        req = cls()
        raw = 0
        for s in range(streams):
            st = req.streams.add(
                labels='{job="bench/logs", client="%d", pod="pod-%05d", container="app"}' % (client, s))
            for i in range(lines_per_stream):
                text = line((r * streams + s) * lines_per_stream + i)
                raw += len(text)
                e = st.entries.add(line=text)
                ts = t0 + (r * lines_per_stream + i) * 1000
                e.timestamp.seconds, e.timestamp.nanos = divmod(ts, 10**9)
        out.append((snappy.compress(req.SerializeToString()), raw, streams * lines_per_stream))
    return out


def run(url, pid, pushes, clients, seconds):
    """Sends for `seconds`; returns (raw MB/s per server CPU-second, lines/s, failures)."""
    stop = time.time() + seconds
    totals = {"raw": 0, "lines": 0, "failed": 0}
    lock = threading.Lock()

    def client(k):
        s = requests.Session()
        i = 0
        while time.time() < stop:
            body, raw, n = pushes[k][i % len(pushes[k])]
            i += 1
            r = s.post(url + "/loki/api/v1/push", data=body,
                       headers={"Content-Type": "application/x-protobuf"}, timeout=30)
            with lock:
                if r.status_code == 204:
                    totals["raw"] += raw
                    totals["lines"] += n
                else:
                    totals["failed"] += 1

    cpu0, t0 = benchlib.proc_cpu_seconds(pid), time.time()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu, wall = benchlib.proc_cpu_seconds(pid) - cpu0, time.time() - t0
    return totals["raw"] / 1e6 / max(cpu, 1e-9), totals["lines"] / wall, cpu / wall, totals["failed"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="sightline's base URL")
    ap.add_argument("--pid", type=int, required=True, help="sightline's process id")
    ap.add_argument("--peer-url", help="a peer's base URL (Loki)")
    ap.add_argument("--peer-pid", type=int, help="the peer's process id")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--streams", type=int, default=50)
    ap.add_argument("--lines", type=int, default=200, help="lines per stream per push")
    ap.add_argument("--pushes", type=int, default=20, help="distinct bodies per client")
    a = ap.parse_args()
    cls = push_request_class()
    servers = [("sightline", a.url, a.pid)]
    if a.peer_url and a.peer_pid:
        servers.append(("peer", a.peer_url, a.peer_pid))
    results = {}
    for name, url, pid in servers:
        # Fresh timestamps per server, so no line is out of order or a duplicate.
        pushes = [bodies(cls, a.pushes, a.streams, a.lines, k) for k in range(a.clients)]
        mbps, lps, cores, failed = run(url, pid, pushes, a.clients, a.seconds)
        results[name] = mbps
        print(f"{name}: {mbps:.1f} MB/s of raw lines per core, {lps / 1e3:.0f}k lines/s, "
              f"{cores:.2f} cores busy, {failed} failed pushes")
    if "peer" in results:
        print(f"ratio sightline/peer (MB/s per core): {results['sightline'] / results['peer']:.2f}")


if __name__ == "__main__":
    main()
