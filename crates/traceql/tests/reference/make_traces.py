#!/usr/bin/env python3
"""Writes traces.json: the hand-built traces the TraceQL reference test
queries (several services, errors, events, links, a chain of depth 6,
siblings, a trace whose root is missing). Run it after editing; the JSON
is checked in so the test does not depend on this script's run."""
import json

MS = 1_000_000
BASE = 1_700_000_000_000 * MS  # 2023-11-14T22:13:20Z


def span(sid, parent, name, service, kind, start_ms, end_ms, attrs=None,
         resource=None, status="unset", message="", events=None, links=None,
         scope=("io.opentelemetry.flask", "1.2.0")):
    res = {"service.name": service}
    res.update(resource or {})
    return {
        "id": sid, "parent": parent, "name": name, "kind": kind,
        "start": BASE + start_ms * MS, "end": BASE + end_ms * MS,
        "attrs": attrs or {}, "resource": res, "status": status,
        "statusMessage": message, "events": events or [], "links": links or [],
        "scope": {"name": scope[0], "version": scope[1]},
    }


def ev(name, at_ms, attrs=None):
    return {"name": name, "time": BASE + at_ms * MS, "attrs": attrs or {}}


T1 = "0af7651916cd43dd8448eb211c80319c"
T2 = "1b0000000000000000000000000000b2"
T3 = "3c000000000000000000000000000003"
T4 = "4d000000000000000000000000000004"
T5 = "5e000000000000000000000000000005"
T6 = "6f000000000000000000000000000006"

prod = {"deployment.environment": "prod", "host.name": "web-1"}
traces = [
    {"id": T1, "spans": [
        span("a100000000000001", None, "GET /checkout", "frontend", "server", 0, 1000,
             {"http.method": "GET", "http.status_code": 200, "http.route": "/checkout"}, prod),
        span("a100000000000002", "a100000000000001", "checkout-client", "frontend", "client", 10, 900,
             {"http.method": "POST", "peer.service": "checkout"}, prod),
        span("a100000000000003", "a100000000000002", "POST /charge", "checkout", "server", 20, 880,
             {"http.method": "POST", "http.status_code": 402, "http.route": "/charge"},
             {"deployment.environment": "prod"}, scope=("io.opentelemetry.django", "4.0")),
        span("a100000000000004", "a100000000000003", "db query", "checkout", "client", 30, 100,
             {"db.system": "postgres", "db.statement": "SELECT * FROM carts WHERE id = $1", "db.rows": 3},
             {"deployment.environment": "prod"}),
        span("a100000000000005", "a100000000000003", "payment-call", "checkout", "client", 110, 800,
             {"peer.service": "payment", "retry": False}, {"deployment.environment": "prod"}),
        span("a100000000000006", "a100000000000005", "charge", "payment", "server", 120, 790,
             {"amount": 42.5, "currency": "EUR", "card.brand": "visa"},
             {"deployment.environment": "prod", "team": "payments"}, status="error",
             message="card declined",
             events=[ev("exception", 780, {"exception.type": "CardError", "exception.message": "declined"})]),
        span("a100000000000007", "a100000000000006", "fraud-check", "payment", "internal", 130, 200,
             {"score": 0.7, "model": "v2"}, {"deployment.environment": "prod", "team": "payments"}),
        span("a100000000000008", "a100000000000001", "render", "frontend", "internal", 905, 990,
             {"template": "checkout.html"}, prod),
        span("a100000000000009", "a100000000000001", "cache get", "frontend", "client", 901, 903,
             {"db.system": "redis", "cache.hit": True}, prod),
    ]},
    {"id": T2, "spans": [
        span("b200000000000001", None, "GET /health", "api", "server", 5000, 5005,
             {"http.method": "GET", "http.status_code": 200, "http.route": "/health"},
             {"deployment.environment": "staging"}, status="ok"),
        span("b200000000000002", "b200000000000001", "db ping", "api", "client", 5001, 5003,
             {"db.system": "postgres"}, {"deployment.environment": "staging"}),
    ]},
    {"id": T3, "spans": [
        # The root never arrived: both are children of a missing span.
        span("c300000000000001", "c3000000000000ff", "process job", "worker", "consumer", 9000, 9400,
             {"messaging.system": "kafka", "job.id": 77}, {"deployment.environment": "prod"},
             links=[{"traceId": T1, "spanId": "a100000000000001", "attrs": {"link.kind": "follows"}}]),
        span("c300000000000002", "c300000000000001", "db write", "worker", "client", 9100, 9300,
             {"db.system": "postgres", "db.rows": 10}, {"deployment.environment": "prod"}),
        span("c300000000000003", "c3000000000000ee", "retry", "worker", "internal", 9500, 9510,
             {"attempt": 2}, {"deployment.environment": "prod"}, status="error", message="timeout"),
    ]},
    {"id": T4, "spans": [
        span("d400000000000001", None, "GET /api/users", "gateway", "server", 20000, 20300,
             {"http.method": "GET", "http.status_code": 500, "http.route": "/api/users"},
             {"deployment.environment": "prod"}, status="error", message="upstream failed"),
        span("d400000000000002", "d400000000000001", "list users", "users", "server", 20010, 20250,
             {"http.status_code": 500, "user.count": 0}, {"deployment.environment": "prod"},
             status="error", message="db unavailable",
             events=[ev("retry", 20100, {"attempt": 1}), ev("exception", 20240,
                     {"exception.type": "DbError", "exception.message": "connection refused"})]),
        span("d400000000000003", "d400000000000002", "db select", "users", "client", 20020, 20240,
             {"db.system": "mysql", "db.statement": "SELECT id FROM users"},
             {"deployment.environment": "prod"}, status="error"),
        span("d400000000000004", "d400000000000001", "send email", "notification", "producer", 20260, 20270,
             {"messaging.system": "rabbitmq"}, {"deployment.environment": "prod"}),
        span("d400000000000005", "d400000000000004", "consume", "email", "consumer", 20280, 20290,
             {"messaging.system": "rabbitmq", "email.to": "ops@example.com"},
             {"deployment.environment": "prod"},
             events=[ev("queued", 20281, {"queue": "mail"}), ev("sent", 20289, {"smtp.code": 250})],
             links=[{"traceId": T2, "spanId": "b200000000000001", "attrs": {"link.kind": "caused-by"}}]),
        span("d400000000000006", "d400000000000001", "audit", "gateway", "internal", 20295, 20299,
             {"audit": True}, {"deployment.environment": "prod"}, status="ok"),
    ]},
    {"id": T5, "spans": [
        span("e500000000000001", None, "hop-1", "svc-a", "server", 30000, 30600, {"hop": 1},
             {"deployment.environment": "dev"}),
        span("e500000000000002", "e500000000000001", "hop-2", "svc-b", "client", 30010, 30500, {"hop": 2},
             {"deployment.environment": "dev"}),
        span("e500000000000003", "e500000000000002", "hop-3", "svc-c", "server", 30020, 30400, {"hop": 3},
             {"deployment.environment": "dev"}),
        span("e500000000000004", "e500000000000003", "hop-4", "svc-d", "client", 30030, 30300, {"hop": 4},
             {"deployment.environment": "dev"}, status="error"),
        span("e500000000000005", "e500000000000004", "hop-5", "svc-e", "server", 30040, 30200, {"hop": 5},
             {"deployment.environment": "dev"}),
        span("e500000000000006", "e500000000000005", "hop-6", "svc-f", "internal", 30050, 30100,
             {"hop": 6, "leaf": True}, {"deployment.environment": "dev"}),
    ]},
    {"id": T6, "spans": [
        span("f600000000000001", None, "batch", "batcher", "internal", 40000, 43500,
             {"size": 1.5, "flag": True, "tags": ["a", "b"], "team": "span-team"},
             {"team": "data", "deployment.environment": "prod"}, status="ok",
             scope=("batch-lib", "0.9")),
        span("f600000000000002", "f600000000000001", "chunk", "batcher", "internal", 40100, 41000,
             {"size": 3, "flag": False, "chunk.id": "c-1"}, {"team": "data", "deployment.environment": "prod"},
             scope=("batch-lib", "0.9")),
        span("f600000000000003", "f600000000000001", "chunk", "batcher", "internal", 41100, 42500,
             {"size": 4, "chunk.id": "c-2", "weird key": "yes", "chunk.the note": "retried",
              "tags": ["b", "c"]}, {"team": "data", "deployment.environment": "prod"},
             status="error", message="chunk failed", scope=("batch-lib", "0.9")),
        span("f600000000000004", "f600000000000001", "chunk", "batcher", "internal", 42600, 43400,
             {"size": 2, "chunk.id": "c-3"}, {"team": "data", "deployment.environment": "prod"},
             scope=("batch-lib", "0.9")),
    ]},
]

with open("traces.json", "w") as f:
    json.dump({"base_ns": BASE, "traces": traces}, f, indent=1)
    f.write("\n")
