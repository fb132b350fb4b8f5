"""Sends one known multi-service trace with a real tracing client.

Used by crates/server/tests/traces_clients.rs (issue 16). Every client
builds the same shape, in two batches:

  batch 1  frontend  GET /checkout (server, root)
           frontend  call cart (client), child of the root
           cart      POST /cart (server), child of "call cart", with an
                     event "added" (item=book)
           cart      db query (client), child of POST /cart, status
                     error "boom", an exception event
           jobs      nightly (another trace; OTel: POST /cart links to it)
  batch 2  frontend  late render, child of the root, sent after batch 1
                     was flushed (a late span of the same trace)

Six spans in all. The script prints the trace id and exits non-zero when
any export was not answered with success (the exporters' own result, or
py-zipkin's HTTP status).

Usage: send_traces.py otlp-http|otlp-grpc|zipkin-json|py-zipkin-json|py-zipkin-proto3 ENDPOINT
"""

import sys


def otel(mode, endpoint):
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode

    results = []

    class Checking(SpanExporter):
        def __init__(self, inner):
            self.inner = inner

        def export(self, spans):
            r = self.inner.export(spans)
            results.append((len(spans), r))
            return r

        def shutdown(self):
            self.inner.shutdown()

    def exporter():
        if mode == "otlp-http":
            from opentelemetry.exporter.otlp.proto.http import Compression
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )

            return OTLPSpanExporter(
                endpoint=endpoint + "/v1/traces", compression=Compression.Gzip
            )
        if mode == "otlp-grpc":
            from grpc import Compression
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter,
            )

            return OTLPSpanExporter(
                endpoint=endpoint, insecure=True, compression=Compression.Gzip
            )
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        return ZipkinExporter(endpoint=endpoint + "/api/v2/spans")

    providers = {}
    for service in ["frontend", "cart", "jobs"]:
        p = TracerProvider(resource=Resource.create({"service.name": service}))
        p.add_span_processor(BatchSpanProcessor(Checking(exporter())))
        providers[service] = p
    tracer = {s: p.get_tracer("shop") for s, p in providers.items()}

    def flush():
        for p in providers.values():
            p.force_flush()

    with tracer["jobs"].start_as_current_span("nightly") as job:
        job_ctx = job.get_span_context()
    with tracer["frontend"].start_as_current_span(
        "GET /checkout", kind=SpanKind.SERVER
    ) as root:
        root.set_attribute("http.route", "/checkout")
        with tracer["frontend"].start_as_current_span(
            "call cart", kind=SpanKind.CLIENT
        ) as call:
            ctx = trace.set_span_in_context(call)
            with tracer["cart"].start_as_current_span(
                "POST /cart",
                context=ctx,
                kind=SpanKind.SERVER,
                links=[Link(job_ctx, {"why": "batch"})],
            ) as cart:
                cart.add_event("added", {"item": "book"})
                with tracer["cart"].start_as_current_span(
                    "db query", kind=SpanKind.CLIENT
                ) as db:
                    db.record_exception(ValueError("boom"))
                    db.set_status(Status(StatusCode.ERROR, "boom"))
        root_ctx = trace.set_span_in_context(root)
    flush()
    late = tracer["frontend"].start_span("late render", context=root_ctx)
    late.end()
    flush()
    for p in providers.values():
        p.shutdown()
    print(format(root.get_span_context().trace_id, "032x"))
    sent = sum(n for n, _ in results)
    bad = [r for _, r in results if r != SpanExportResult.SUCCESS]
    if bad or sent != 6:
        print(f"exports: {results}", file=sys.stderr)
        sys.exit(1)


def pyzipkin(mode, endpoint):
    from urllib.parse import urlparse

    from py_zipkin import Encoding, Kind
    from py_zipkin.transport import SimpleHTTPTransport
    from py_zipkin.util import generate_random_64bit_string
    from py_zipkin.zipkin import ZipkinAttrs, zipkin_span

    u = urlparse(endpoint)
    answers = []

    class Recording(SimpleHTTPTransport):
        def send(self, payload):
            try:
                super().send(payload)
                answers.append(202)
            except Exception as e:  # an HTTPError or the 202 assertion
                answers.append(repr(e))

    transport = Recording(u.hostname, u.port)
    encoding = Encoding.V2_PROTO3 if mode == "py-zipkin-proto3" else Encoding.V2_JSON
    common = dict(transport_handler=transport, encoding=encoding)

    with zipkin_span(
        service_name="jobs", span_name="nightly", sample_rate=100.0, **common
    ):
        pass
    with zipkin_span(
        service_name="frontend",
        span_name="GET /checkout",
        sample_rate=100.0,
        kind=Kind.SERVER,
        use_128bit_trace_id=True,
        **common,
    ) as root:
        root.update_binary_annotations({"http.route": "/checkout"})
        with zipkin_span(
            service_name="frontend", span_name="call cart", kind=Kind.CLIENT
        ):
            with zipkin_span(
                service_name="cart", span_name="POST /cart", kind=Kind.SERVER
            ) as cart:
                cart.add_annotation("added")
                with zipkin_span(
                    service_name="cart", span_name="db query", kind=Kind.CLIENT
                ) as db:
                    db.add_annotation("exception")
                    db.update_binary_annotations({"error": "boom"})
        attrs = root.zipkin_attrs
    # The late span: a new local root inside the same trace.
    with zipkin_span(
        service_name="frontend",
        span_name="late render",
        zipkin_attrs=ZipkinAttrs(
            trace_id=attrs.trace_id,
            span_id=generate_random_64bit_string(),
            parent_span_id=attrs.span_id,
            flags="0",
            is_sampled=True,
        ),
        **common,
    ):
        pass
    print(attrs.trace_id)
    if not answers or any(a != 202 for a in answers):
        print(f"answers: {answers}", file=sys.stderr)
        sys.exit(1)


def main():
    mode, endpoint = sys.argv[1], sys.argv[2]
    if mode.startswith("py-zipkin"):
        pyzipkin(mode, endpoint)
    else:
        otel(mode, endpoint)


if __name__ == "__main__":
    main()
