"""Realistic spans for the trace store's figures, written once as JSON lines.

Six services (frontend, cart, checkout, payment, inventory, users) answer
requests as trees of 5 to 30 spans: a server span per hop, client spans to
the next service, database and cache calls. Every span carries 10
attributes in OpenTelemetry's semantic conventions (method, route, target
with an id, status code, peer name and port, user agent, user id, thread
id, response size), repeated service, route and host names, a resource of
five attributes and an instrumentation scope; 2% of requests fail with an
exception event. Times are nanoseconds, spread over `--minutes` ending now.

One JSON object per line, read both by our loader
(crates/tracestore/examples/tracebench.rs) and by ClickHouse (chdb) in
bench/tracestore_disk.py:

    trace_id, span_id, parent_span_id ("" for roots): hex
    name, kind (OTLP number), start_ns, end_ns, status_code (OTLP number),
    status_message, service, resource {str: str}, scope_name,
    scope_version, attributes {str: str|int}, event_times [ns],
    event_names [str], event_attrs [{str: str}]

Usage: python3 bench/tracegen.py OUT.jsonl SPANS [--minutes M] [--seed S]
"""
import argparse
import json
import random
import time

SERVICES = {
    "frontend": ["GET /", "GET /product/{id}", "POST /cart", "GET /cart", "POST /checkout"],
    "cart": ["GET /cart/{id}", "POST /cart/{id}/items", "DELETE /cart/{id}"],
    "checkout": ["POST /checkout/{id}", "GET /orders/{id}"],
    "payment": ["POST /charge", "POST /refund"],
    "inventory": ["GET /stock/{id}", "POST /reserve/{id}"],
    "users": ["GET /users/{id}", "GET /session/{id}"],
}
CALLS = {
    "frontend": ["cart", "checkout", "users", "inventory"],
    "cart": ["inventory", "users"],
    "checkout": ["payment", "inventory", "cart"],
    "payment": ["users"],
    "inventory": [],
    "users": [],
}
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
]


def hexid(rng, nbytes):
    return "%0*x" % (nbytes * 2, rng.getrandbits(nbytes * 8))


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.resources = {}
        for s in SERVICES:
            self.resources[s] = [{
                "service.name": s,
                "service.version": "1.%d.0" % (len(s) % 4),
                "host.name": "%s-%d" % (s, h),
                "k8s.pod.name": "%s-7d9f%04x" % (s, h * 4099 % 65536),
                "telemetry.sdk.language": "python" if len(s) % 2 else "java",
            } for h in range(3)]

    def attrs(self, service, route, status, peer):
        r = self.rng
        oid = r.randrange(100000)
        return {
            "http.method": route.split(" ")[0] if " " in route else "GET",
            "http.route": route.split(" ")[-1],
            "http.target": route.split(" ")[-1].replace("{id}", str(oid)),
            "http.status_code": status,
            "net.peer.name": peer,
            "net.peer.port": 8080 if peer != "postgres" else 5432,
            "http.user_agent": r.choice(AGENTS),
            "enduser.id": "user-%d" % r.randrange(5000),
            "thread.id": r.randrange(1, 65),
            "http.response_content_length": r.randrange(100, 50000),
        }

    def span(self, trace_id, parent, service, name, kind, start, dur, status, peer, route, host):
        err = status >= 500
        ev_t, ev_n, ev_a = [], [], []
        if err and kind == 2:
            ev_t.append(start + dur // 2)
            ev_n.append("exception")
            ev_a.append({"exception.type": "TimeoutError", "exception.message": "upstream timed out"})
        return {
            "trace_id": trace_id,
            "span_id": hexid(self.rng, 8),
            "parent_span_id": parent,
            "name": name,
            "kind": kind,
            "start_ns": start,
            "end_ns": start + dur,
            "status_code": 2 if err else 0,
            "status_message": "upstream timed out" if err else "",
            "service": service,
            "resource": host,
            "scope_name": "opentelemetry.instrumentation.flask" if host["telemetry.sdk.language"] == "python" else "io.opentelemetry.spring-webmvc-6.0",
            "scope_version": "0.43b0" if host["telemetry.sdk.language"] == "python" else "2.1.0",
            "attributes": self.attrs(service, route, status, peer),
            "event_times": ev_t,
            "event_names": ev_n,
            "event_attrs": ev_a,
        }

    def trace(self, start):
        """One request: 5 to 30 spans."""
        r = self.rng
        tid = hexid(r, 16)
        fail = r.random() < 0.02
        want = r.randint(5, 30)
        out = []

        def serve(service, parent, t0, budget, depth):
            route = r.choice(SERVICES[service])
            host = r.choice(self.resources[service])
            status = 500 if fail and depth == 0 else 200
            s = self.span(tid, parent, service, route, 2, t0, budget, status, "frontend" if depth == 0 else service, route, host)
            out.append(s)
            t = t0 + r.randrange(10_000, 200_000)
            while len(out) < want and t < t0 + budget:
                callee = CALLS[service]
                if callee and depth < 4 and r.random() < 0.6:
                    c = r.choice(callee)
                    d = r.randrange(200_000, max(300_000, budget // 3))
                    route_c = r.choice(SERVICES[c])
                    cs = self.span(tid, s["span_id"], service, route_c, 3, t, d, 200, c, route_c, host)
                    out.append(cs)
                    if len(out) < want:
                        serve(c, cs["span_id"], t + 50_000, max(100_000, d - 100_000), depth + 1)
                    t += d + r.randrange(1000, 50_000)
                else:
                    d = r.randrange(50_000, 2_000_000)
                    db = r.random() < 0.7
                    name = r.choice(["SELECT orders", "SELECT users", "UPDATE stock", "INSERT events"]) if db else r.choice(["GET", "SET"])
                    out.append(self.span(tid, s["span_id"], service, name, 3, t, d, 200, "postgres" if db else "redis", name, host))
                    t += d + r.randrange(1000, 20_000)
                if t >= t0 + budget:
                    break

        serve("frontend", "", start, r.randrange(20_000_000, 400_000_000), 0)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("spans", type=int)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    g = Gen(a.seed)
    end = time.time_ns()
    begin = end - int(a.minutes * 60e9)
    n = 0
    traces = 0
    with open(a.out, "w") as f:
        while n < a.spans:
            start = begin + (end - begin) * n // a.spans
            for s in g.trace(start):
                f.write(json.dumps(s, separators=(",", ":")))
                f.write("\n")
                n += 1
            traces += 1
    print(json.dumps({"spans": n, "traces": traces}))


if __name__ == "__main__":
    main()
