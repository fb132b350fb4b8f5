"""The application of deploy/docker-compose.yml: a Flask web app
instrumented the way the seeds instrument theirs (seed 004's golden
signals), so the stack shows data as soon as it starts.

- Prometheus metrics on /metrics (prometheus_client):
  http_requests_total{method,endpoint,status}, http_errors_total{method,endpoint},
  http_request_duration_seconds{method,endpoint} (histogram; 0.5 is a bucket
  boundary, which the latency SLO needs);
- /healthz answers "ok" (the probe of deploy/compose/sightline.yml);
- traces over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set and the
  OpenTelemetry SDK is installed;
- POST /alerts takes Alertmanager's webhook (deploy/compose/alertmanager.yml)
  and logs each alert, so notifications show in the app's log.

Logs go to stdout as JSON lines, which Docker's json-file driver keeps and
Sightline tails. Run alone: `PORT=8000 python app.py`.
"""

import json
import logging
import os
import random
import sys
import time

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
ERRORS = Counter("http_errors_total", "HTTP requests answered 5xx", ["method", "endpoint"])
DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration",
    ["method", "endpoint"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

app = Flask(__name__)
log = logging.getLogger("app")


def setup_tracing():
    """OTLP/HTTP traces, configured by the standard OTEL_* variables."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OpenTelemetry SDK not installed: no traces")
        return None
    provider = TracerProvider(resource=Resource.create({}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return trace.get_tracer("app")


tracer = setup_tracing()


@app.before_request
def start_timer():
    request.start_time = time.monotonic()


@app.after_request
def record(response):
    endpoint = request.url_rule.rule if request.url_rule else "unknown"
    if endpoint not in ("/metrics", "/healthz"):
        elapsed = time.monotonic() - request.start_time
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if response.status_code >= 500:
            ERRORS.labels(request.method, endpoint).inc()
        DURATION.labels(request.method, endpoint).observe(elapsed)
        print(
            json.dumps(
                {
                    "level": "error" if response.status_code >= 500 else "info",
                    "method": request.method,
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                }
            ),
            flush=True,
        )
    return response


def work(name):
    """A little latency, and an error now and then."""
    if tracer is None:
        time.sleep(random.uniform(0.005, 0.05))
        return random.random() >= 0.02
    with tracer.start_as_current_span(name) as span:
        time.sleep(random.uniform(0.005, 0.05))
        ok = random.random() >= 0.02
        span.set_attribute("app.ok", ok)
        return ok


@app.route("/")
def index():
    return ("hello\n", 200) if work("index") else ("failed\n", 500)


@app.route("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@app.route("/healthz")
def healthz():
    return "ok\n"


@app.route("/alerts", methods=["POST"])
def alerts():
    body = request.get_json(force=True, silent=True) or {}
    for a in body.get("alerts", []):
        print(json.dumps({"level": "warn", "alert": a.get("labels", {}), "status": a.get("status")}), flush=True)
    return "", 200


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")))
