"""Exports one counter (`tlsprobe`, +1) over OTLP/gRPC with TLS and a bearer
token, with the OpenTelemetry Python SDK.

Used by crates/server/tests/web_config_differential.rs (issue 18).

Usage: export_grpc_tls.py HOST:PORT CA_FILE TOKEN
"""

import sys

import grpc
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader


def main():
    endpoint, ca_file, token = sys.argv[1:4]
    with open(ca_file, "rb") as f:
        creds = grpc.ssl_channel_credentials(root_certificates=f.read())
    exporter = OTLPMetricExporter(
        endpoint=endpoint,
        credentials=creds,
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader])
    provider.get_meter("tls").create_counter("tlsprobe").add(1)
    provider.force_flush(20_000)
    provider.shutdown()


if __name__ == "__main__":
    main()
