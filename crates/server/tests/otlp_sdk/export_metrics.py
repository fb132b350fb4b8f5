"""Exports a fixed set of metrics with the OpenTelemetry Python SDK.

Used by crates/server/tests/otlp_sdk.rs (issue 12). Two rounds of
measurements, each followed by an explicit flush, so that delta temporality
sends each round's increments and cumulative sends running totals:

  counter          shop.orders {orders}     +3 then +4 (method=card)
  up-down counter  shop.queue.size {items}  +5 then -2
  gauge            shop.temperature Cel     21.5 then 22.5
  histogram        shop.request.duration s  0.05 0.3 0.7 2.0 then 0.2,
                                             buckets [0.1, 0.5, 1]
  exponential hist shop.payload.size By     100 200 400 then 800

Usage: export_metrics.py http|grpc delta|cumulative ENDPOINT SERVICE
"""

import sys

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource


def main():
    protocol, temporality, endpoint, service = sys.argv[1:5]
    t = (
        AggregationTemporality.DELTA
        if temporality == "delta"
        else AggregationTemporality.CUMULATIVE
    )
    # Every instrument kind gets the chosen temporality (the SDK's "delta"
    # preset would keep up-down counters cumulative; we want both paths).
    preferred = {
        Counter: t,
        UpDownCounter: t,
        Histogram: t,
        ObservableCounter: t,
        ObservableUpDownCounter: t,
        ObservableGauge: AggregationTemporality.CUMULATIVE,
    }
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.http import Compression

        exporter = OTLPMetricExporter(
            endpoint=endpoint,
            preferred_temporality=preferred,
            compression=Compression.Gzip,
        )
    else:
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter,
        )

        exporter = OTLPMetricExporter(
            endpoint=endpoint,
            insecure=True,
            preferred_temporality=preferred,
            compression=grpc.Compression.Gzip,
        )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create(
        {
            "service.name": service,
            "service.namespace": "test",
            "service.instance.id": "inst-1",
            "deployment.environment": "ci",
        }
    )
    views = [
        View(
            instrument_name="shop.request.duration",
            aggregation=ExplicitBucketHistogramAggregation(boundaries=[0.1, 0.5, 1.0]),
        ),
        View(
            instrument_name="shop.payload.size",
            aggregation=ExponentialBucketHistogramAggregation(),
        ),
    ]
    provider = MeterProvider(metric_readers=[reader], resource=resource, views=views)
    meter = provider.get_meter("shop.instrumentation", "0.1")
    orders = meter.create_counter("shop.orders", unit="{orders}")
    queue = meter.create_up_down_counter("shop.queue.size", unit="{items}")
    temp = meter.create_gauge("shop.temperature", unit="Cel")
    duration = meter.create_histogram("shop.request.duration", unit="s")
    payload = meter.create_histogram("shop.payload.size", unit="By")

    attrs = {"method": "card"}
    orders.add(3, attrs)
    queue.add(5)
    temp.set(21.5)
    for v in (0.05, 0.3, 0.7, 2.0):
        duration.record(v)
    for v in (100, 200, 400):
        payload.record(v)
    if not provider.force_flush(30_000):
        sys.exit("first flush failed")

    orders.add(4, attrs)
    queue.add(-2)
    temp.set(22.5)
    duration.record(0.2)
    payload.record(800)
    if not provider.force_flush(30_000):
        sys.exit("second flush failed")
    provider.shutdown()


if __name__ == "__main__":
    main()
