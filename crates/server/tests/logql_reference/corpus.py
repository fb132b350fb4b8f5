"""The reference corpus for crates/server/tests/logql_reference.rs (issue 15,
item 8): a deterministic (fixed seed) mix of the lines services write, over
about 1h50m, as NDJSON records {"labels": {...}, "ts": <ns>, "line": "...",
"metadata": {...}}, in time order.

Every timestamp is distinct across the whole corpus, so the order of a log
query's answer (and where `limit` cuts it) is never a matter of tie-breaking.

Usage: python3 corpus.py OUT.ndjson BASE_NS [--lines N] [--seed S]
"""
import argparse
import json
import random

LEVELS = ["info"] * 7 + ["warn"] * 2 + ["error"]
PATHS = ["/api/v1/users", "/api/v1/orders", "/api/v1/cart", "/healthz", "/api/v1/search",
         "/api/v1/payments", "/static/app.js", "/api/v1/login"]
METHODS = ["GET"] * 6 + ["POST"] * 3 + ["DELETE"]
STATUSES = [200] * 30 + [201, 204, 301, 304, 400, 401, 404, 404, 500, 502, 503]
AGENTS = ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", "python-requests/2.31.0",
          "kube-probe/1.29", "Go-http-client/1.1"]
USERS = ["alice", "bob", "carol", "dmitri", "élodie", "søren", "李雷", "zoë"]
QUEUES = ["emails", "thumbnails", "billing", "exports"]
CALLERS = ["worker.go:88", "worker.go:131", "queue.go:42", "retry.go:19"]
UNITS = ["B", "KB", "MB", "KiB", "MiB"]
MSGS = ["request completed", "cache miss", "user authenticated", "upstream slow",
        "validation failed", "order created", "payment authorized"]
JOB_MSGS = ["job started", "job finished", "retrying job", "fetched batch", "queue drained",
            "job failed: connection reset by peer"]
ANSI = ["\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1;34m"]


def ip(r, private=True):
    if private and r.random() < 0.7:
        return "10.%d.%d.%d" % (r.randint(0, 3), r.randint(0, 20), r.randint(1, 254))
    return "%d.%d.%d.%d" % (r.choice([192, 172, 203, 8]), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))


def dur(r):
    kind = r.random()
    if kind < 0.6:
        return "%dms" % r.randint(1, 900)
    if kind < 0.9:
        return "%.3fs" % r.uniform(0.5, 12)
    return "%dus" % r.randint(5, 999)


def size(r):
    return "%d%s" % (r.randint(1, 900), r.choice(UNITS))


def api_line(r, ts, level):
    status = r.choice(STATUSES)
    obj = {
        "level": level,
        "msg": r.choice(MSGS),
        "req": {"method": r.choice(METHODS), "path": r.choice(PATHS),
                "headers": {"user-agent": r.choice(AGENTS)}},
        "status": status,
        "duration": dur(r),
        "latency_ms": round(r.uniform(0.1, 2500), 3),
        "bytes": r.randint(0, 50000),
        "size": size(r),
        "user": {"id": r.randint(1, 500), "name": r.choice(USERS)},
        "tags": ["a", r.choice(["b", "c"])],
        "client_ip": ip(r),
        "ok": status < 400,
    }
    x = r.random()
    if x < 0.01:
        return "panic: runtime error: invalid memory address or nil pointer dereference"
    if x < 0.02:
        obj["status"] = "n/a"
    if x < 0.03:
        obj["duration"] = "slow"
    text = json.dumps(obj, ensure_ascii=r.random() < 0.5)
    # A price as services print it, trailing zeros and all ("12.50"): a
    # JSON parser must hand the text out unchanged.
    return text[:-1] + ', "price": %d.%02d}' % (r.randint(0, 99), r.choice([0, 5, 10, 50, 99]))


def worker_line(r, ts, queue):
    level = r.choice(LEVELS)
    msg = r.choice(JOB_MSGS)
    parts = ["level=%s" % level, "caller=%s" % r.choice(CALLERS), 'msg="%s"' % msg,
             "job_id=%d" % r.randint(1, 99999), "queue=%s" % queue, "attempt=%d" % r.randint(1, 5),
             "elapsed=%s" % dur(r), "size=%s" % size(r), "ratio=%.4f" % r.uniform(0, 1)]
    x = r.random()
    if x < 0.05:
        parts.append("err=")
    elif x < 0.10:
        parts.append("retry")
    elif x < 0.12:
        parts.append('note="unterminated')
    if r.random() < 0.03:
        parts.append("attempt=abc")
    return " ".join(parts)


def nginx_line(r, ts):
    t = ts // 1_000_000_000
    path = r.choice(PATHS)
    return '%s - %s [%s] "%s %s HTTP/1.1" %d %d "-" "%s"' % (
        ip(r, private=r.random() < 0.5), r.choice(["-", "-", "frank"]),
        "07/Dec/2026:%02d:%02d:%02d +0000" % ((t // 3600) % 24, (t // 60) % 60, t % 60),
        r.choice(METHODS), path, r.choice(STATUSES), r.randint(0, 90000), r.choice(AGENTS))


def app_line(r, ts, level):
    templates = [
        "%s [billing] invoice %d sent to %s total=%d.%02d EUR",
        "%s [billing] retrying charge for %s after %s",
        "%s [billing] export wrote %s to s3://bills/%d",
        "%s [billing] user %s logged in from %s",
    ]
    k = r.randrange(4)
    lv = level.upper()
    if k == 0:
        return templates[0] % (lv, r.randint(1000, 9999), r.choice(USERS), r.randint(1, 999), r.randint(0, 99))
    if k == 1:
        return templates[1] % (lv, r.choice(USERS), dur(r))
    if k == 2:
        return templates[2] % (lv, size(r), r.randint(1, 99))
    return templates[3] % (lv, r.choice(USERS), ip(r, private=r.random() < 0.5))


def java_trace(r):
    exc = r.choice(["java.lang.NullPointerException", "java.lang.IllegalStateException: closed",
                    "java.io.IOException: Broken pipe"])
    frames = ["\tat com.shop.pay.%s.%s(%s.java:%d)" % (c, m, c, r.randint(10, 400))
              for c, m in [("Gateway", "charge"), ("Client", "send"), ("Retry", "run")][: r.randint(1, 3)]]
    return "ERROR Payment failed for order %d\n%s\n%s" % (r.randint(1, 99999), exc, "\n".join(frames))


def python_trace(r):
    return ("Traceback (most recent call last):\n  File \"/srv/ml/predict.py\", line %d, in predict\n"
            "    y = model(x)\nValueError: shapes (%d,) and (%d,) not aligned" % (
                r.randint(1, 300), r.randint(1, 64), r.randint(1, 64)))


def streams():
    out = []
    for env in ["prod", "staging"]:
        for level in ["info", "warn", "error"]:
            out.append(({"job": "shop", "service": "api", "env": env, "level": level}, 6 if env == "prod" else 2))
        for pod in ["w-0", "w-1", "w-2"]:
            out.append(({"job": "shop", "service": "worker", "env": env, "pod": pod}, 4 if env == "prod" else 1))
        for host in ["web-1", "web-2", "web-3"]:
            out.append(({"job": "nginx", "service": "frontend", "env": env, "host": host}, 4 if env == "prod" else 1))
        for region in ["eu", "us"]:
            out.append(({"job": "billing", "service": "billing", "env": env, "region": region}, 2))
        out.append(({"job": "payments", "service": "payments", "env": env}, 1))
    out.append(({"job": "ml", "service": "predict", "env": "prod"}, 1))
    out.append(({"job": "cli", "service": "cli", "env": "prod"}, 1))
    out.append(({"job": "cron", "service": "cron", "env": "prod"}, 3))
    out.append(({"job": "packed", "service": "shipper", "env": "prod"}, 1))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("base_ns", type=int)
    ap.add_argument("--lines", type=int, default=105_000)
    ap.add_argument("--seed", type=int, default=15)
    a = ap.parse_args()
    r = random.Random(a.seed)
    ss = streams()
    weights = [w for _, w in ss]
    # 105k entries 63 ms apart on average: about 1h50m. Each entry gets its
    # own slot of the timeline, so timestamps are distinct.
    slot = 63_000_000
    # Lines on whole minutes (of cron's active minutes) test where windows
    # and ranges start and end: a query's times fall exactly on them.
    cron = {"job": "cron", "service": "cron", "env": "prod"}
    boundaries = [a.base_ns + m * 60_000_000_000 for m in list(range(20, 31)) + list(range(70, 81))]
    last = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for i in range(a.lines):
            ts = a.base_ns + i * slot + r.randrange(slot - 1000)
            while boundaries and boundaries[0] <= ts:
                b = boundaries.pop(0)
                assert last < b < ts, "a boundary line would share its timestamp"
                f.write(json.dumps({"labels": cron, "ts": b, "line": "cron boundary minute=%d" % (
                    (b - a.base_ns) // 60_000_000_000), "metadata": {}}) + "\n")
            last = ts
            minute = (i * slot) // 60_000_000_000
            labels, _ = r.choices(ss, weights)[0]
            svc = labels["service"]
            # cron runs only in minutes 20-29 and 70-79: absent_over_time sees gaps.
            if svc == "cron" and not (20 <= minute < 30 or 70 <= minute < 80):
                labels, svc = ss[0][0], "api"
            md = {}
            if svc == "api":
                line = api_line(r, ts, labels["level"])
                if r.random() < 0.5:
                    md = {"trace_id": "%032x" % r.getrandbits(128)}
            elif svc == "worker":
                line = worker_line(r, ts, r.choice(QUEUES))
                if labels["pod"] == "w-0":
                    md = {"trace_id": "%032x" % r.getrandbits(128), "tenant_tier": r.choice(["gold", "free"])}
            elif svc == "frontend":
                line = nginx_line(r, ts)
            elif svc == "billing":
                line = app_line(r, ts, r.choice(LEVELS))
            elif svc == "payments":
                line = java_trace(r) if r.random() < 0.4 else "INFO charged order %d amount=%d" % (
                    r.randint(1, 99999), r.randint(1, 500))
            elif svc == "predict":
                line = python_trace(r) if r.random() < 0.3 else "predicted %d items in %s" % (r.randint(1, 90), dur(r))
            elif svc == "cli":
                c = r.choice(ANSI)
                line = "%s%s\x1b[0m sync %d files (%s) ✓" % (c, r.choice(["INFO", "WARN", "ERROR"]), r.randint(1, 99), size(r))
            elif svc == "shipper":
                # Promtail's `pack` stage: the line under `_entry`, labels beside it.
                line = json.dumps({"_entry": "%s %s %d" % (r.choice(METHODS), r.choice(PATHS), r.choice(STATUSES)),
                                   "pod": "p-%d" % r.randint(1, 3), "container": r.choice(["app", "sidecar"])},
                                  separators=(",", ":"))
            else:
                line = "cron tick job=%s took=%s" % (r.choice(["backup", "report", "gc"]), dur(r))
            f.write(json.dumps({"labels": labels, "ts": ts, "line": line, "metadata": md}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
