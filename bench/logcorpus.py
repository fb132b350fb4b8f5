"""A realistic generated log corpus for the log store's benchmarks
(bench/logstore_*.py): several services of one job, each its own stream,
in the shapes web services write:

- `api`:     JSON lines (level, msg, method, path, status, duration, user
             id, a random 32-hex trace id);
- `worker`:  logfmt lines (ts, level, caller, msg, job id, queue, attempt,
             elapsed) with an occasional error;
- `nginx`:   combined access logs (client IP from a pool, path, status,
             bytes, referrer, user agent);
- `db`:      plain text lines (statement durations, checkpoints, occasional
             multi-line-looking error details flattened onto one line).

Tokens repeat as they do in real logs (paths, user agents, users, IPs
from pools) while trace ids, request ids, byte counts and durations stay
random, so compression is neither trivial nor hopeless.

Files: `<job>__<service>.log`, one line per entry: `<ts_ns> <text>`.
Usage: python3 bench/logcorpus.py OUT_DIR MEGABYTES [--job x] [--seed 1] [--rare TOKEN]
"""
import argparse
import json
import os
import random

PATHS = ["/api/v1/users", "/api/v1/users/{id}", "/api/v1/orders", "/api/v1/orders/{id}/items",
         "/api/v1/cart", "/api/v1/search", "/healthz", "/metrics", "/api/v1/login", "/api/v1/logout",
         "/static/app.js", "/static/app.css", "/api/v2/recommendations", "/api/v1/payments"]
METHODS = ["GET"] * 8 + ["POST"] * 3 + ["PUT", "DELETE"]
STATUSES = [200] * 40 + [201] * 4 + [204] * 2 + [301, 302, 304] + [400, 401, 403] + [404] * 3 + [500, 502, 503]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
          "curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "kube-probe/1.29",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"]
API_MSGS = ["request completed", "request completed", "request completed", "cache miss", "user authenticated",
            "rate limit close", "upstream slow", "validation failed", "order created", "payment authorized"]
WORKER_MSGS = ["job started", "job finished", "job finished", "retrying job", "fetched batch",
               "committed offsets", "job failed: connection reset by peer", "queue drained"]
DB_MSGS = ["duration: {d} ms  statement: SELECT * FROM orders WHERE user_id = {u} AND status = 'open'",
           "duration: {d} ms  statement: UPDATE carts SET updated_at = now() WHERE id = {u}",
           "checkpoint starting: time", "checkpoint complete: wrote {d} buffers (0.{u}%); 0 WAL file(s) added",
           "automatic vacuum of table \"shop.public.sessions\": index scans: 1 pages: 0 removed, {d} remain",
           "ERROR:  duplicate key value violates unique constraint \"orders_pkey\" DETAIL:  Key (id)=({u}) already exists.",
           "connection received: host=10.0.{h}.{u2} port={p}", "connection authorized: user=app database=shop"]
CALLERS = ["worker.go:88", "worker.go:131", "queue.go:42", "batch.go:210", "retry.go:19"]
QUEUES = ["emails", "thumbnails", "billing", "exports", "webhooks"]


def hexid(r, n):
    return "%0*x" % (n, r.getrandbits(4 * n))


def gen_api(r, ts, users):
    m = r.choice(METHODS)
    p = r.choice(PATHS).replace("{id}", str(r.randint(1, 50000)))
    st = r.choice(STATUSES)
    lvl = "error" if st >= 500 else ("warn" if st >= 400 else "info")
    return json.dumps({"ts": ts // 1_000_000_000, "level": lvl, "msg": r.choice(API_MSGS), "method": m,
                       "path": p, "status": st, "duration_ms": round(r.expovariate(1 / 40), 3),
                       "user_id": r.choice(users), "trace_id": hexid(r, 32)}, separators=(",", ":"))


def gen_worker(r, ts, users):
    msg = r.choice(WORKER_MSGS)
    lvl = "error" if "failed" in msg else ("warn" if "retry" in msg else "info")
    return (f'ts={ts // 1_000_000} level={lvl} caller={r.choice(CALLERS)} msg="{msg}" '
            f'job_id={hexid(r, 12)} queue={r.choice(QUEUES)} attempt={r.randint(1, 3)} '
            f'elapsed={r.randint(1, 5000)}ms')


def gen_nginx(r, ts, ips):
    m = r.choice(METHODS)
    p = r.choice(PATHS).replace("{id}", str(r.randint(1, 50000)))
    return (f'{r.choice(ips)} - - [07/Dec/2026:06:{(ts // 60_000_000_000) % 60:02d}:{(ts // 1_000_000_000) % 60:02d} +0000] '
            f'"{m} {p} HTTP/1.1" {r.choice(STATUSES)} {r.randint(200, 90000)} '
            f'"https://shop.example.com{r.choice(PATHS).replace("{id}", "1")}" "{r.choice(AGENTS)}"')


def gen_db(r, ts, users):
    t = r.choice(DB_MSGS)
    return "LOG:  " + t.format(d=r.randint(1, 900), u=r.randint(1, 99999), u2=r.randint(1, 254),
                               h=r.randint(0, 3), p=r.randint(30000, 60000))


SERVICES = [("api", gen_api, 4), ("worker", gen_worker, 3), ("nginx", gen_nginx, 4), ("db", gen_db, 2)]


def generate(out, megabytes, job="x", seed=1, rare=None, start_ns=1_765_000_000_000_000_000):
    """Writes about `megabytes` MB of lines; returns {file: (lines, bytes)}.
    With `rare`, one line in the middle of the api stream carries it."""
    os.makedirs(out, exist_ok=True)
    r = random.Random(seed)
    users = [f"u{r.randint(1, 10**6)}" for _ in range(2000)]
    ips = [f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}" for _ in range(500)]
    target = megabytes * 1_000_000
    weights = sum(w for _, _, w in SERVICES)
    stats = {}
    files = {name: open(os.path.join(out, f"{job}__{name}.log"), "w") for name, _, _ in SERVICES}
    ts = {name: start_ns for name, _, _ in SERVICES}
    written = 0
    rare_at = target // 2 if rare else -1
    while written < target:
        for name, fn, w in SERVICES:
            buf = []
            for _ in range(w * 50):
                ts[name] += r.randint(1_000_000, 20_000_000)
                line = fn(r, ts[name], ips if name == "nginx" else users)
                if name == "api" and rare_at >= 0 and written >= rare_at:
                    line = line[:-1] + f',"note":"{rare}"}}'
                    rare_at = -1
                buf.append(f"{ts[name]} {line}\n")
                written += len(line)
            files[name].write("".join(buf))
            n, b = stats.get(name, (0, 0))
            stats[name] = (n + len(buf), b + sum(len(x) for x in buf))
    for f in files.values():
        f.close()
    return stats


def read_lines(out):
    """(service, ts_ns, text) of every line of a corpus, stream by stream."""
    for fn in sorted(os.listdir(out)):
        if not fn.endswith(".log"):
            continue
        service = fn[:-4].split("__", 1)[1]
        with open(os.path.join(out, fn)) as f:
            for l in f:
                ts, text = l.rstrip("\n").split(" ", 1)
                yield service, int(ts), text


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("megabytes", type=int)
    ap.add_argument("--job", default="x")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rare")
    a = ap.parse_args()
    print(json.dumps(generate(a.out, a.megabytes, a.job, a.seed, a.rare)))
