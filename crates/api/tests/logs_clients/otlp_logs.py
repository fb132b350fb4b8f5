"""OTLP logs from the OpenTelemetry Python SDK's exporters (HTTP with gzip,
or gRPC with gzip), sent through Python's logging with a LoggingHandler,
inside a span so the record carries trace and span ids.
Usage: otlp_logs.py http|grpc ENDPOINT SERVICE. Prints the trace id and
span id (hex)."""
import logging
import sys

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

protocol, endpoint, service = sys.argv[1:4]
if protocol == "http":
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=endpoint, compression=Compression.Gzip)
else:
    import grpc
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=endpoint, insecure=True,
                               compression=grpc.Compression.Gzip)

resource = Resource.create({
    "service.name": service, "service.instance.id": "inst-1",
    "deployment.environment": "test", "host.name": "h1"})
provider = LoggerProvider(resource=resource)
provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
tracer = TracerProvider(resource=resource).get_tracer("shop")

log = logging.getLogger("shop.checkout")
log.setLevel(logging.INFO)
log.propagate = False
log.addHandler(LoggingHandler(level=logging.NOTSET, logger_provider=provider))
with tracer.start_as_current_span("checkout") as span:
    log.warning("payment failed", extra={"order_id": "o-1"})
    ctx = span.get_span_context()
log.info("order placed")
provider.force_flush()
provider.shutdown()
print(format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"))
