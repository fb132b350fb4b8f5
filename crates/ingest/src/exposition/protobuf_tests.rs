use super::*;
use sightline_core::histogram::CounterResetHint;
use sightline_testkit::protobuf::{
    classic_histogram, counter, delimited as body, family, gauge, histogram, span, Metric,
};

fn native(count: u64) -> cm::Histogram {
    cm::Histogram {
        schema: 0,
        zero_threshold: 0.001,
        zero_count: 1,
        positive_span: vec![span(0, 2)],
        positive_delta: vec![1, 1],
        // Classic buckets beside native ones are ignored, as in 2.42.
        ..classic_histogram(count, 4.5, &[(1.0, 3)])
    }
}

#[test]
fn families_split_into_text_samples_and_native_histograms() {
    // Issue 12.
    let b = body(&[
        family(
            "req_total",
            "Requests.\nAll of them.",
            MetricType::Counter,
            counter(&[("code", "200"), ("path", "/a\"b")], 1027.0),
        ),
        family(
            "temp",
            "",
            MetricType::Gauge,
            Metric {
                timestamp_ms: 1_700_000_000_123,
                ..gauge(-0.5)
            },
        ),
        family(
            "rpc",
            "",
            MetricType::Summary,
            sightline_testkit::protobuf::summary(7, 1.25, &[(0.5, 0.1), (1.0, 0.9)]),
        ),
        family(
            "classic",
            "",
            MetricType::Histogram,
            histogram(&[], classic_histogram(5, 2.0, &[(0.25, 2), (1.0, 4)])),
        ),
        family(
            "lat",
            "",
            MetricType::Histogram,
            histogram(&[("h", "x")], native(4)),
        ),
        family(
            "queue",
            "",
            MetricType::GaugeHistogram,
            histogram(&[], native(4)),
        ),
    ]);
    let got = decode(&b).unwrap();
    let text = String::from_utf8(got.text).unwrap();
    assert_eq!(
        text,
        "# HELP req_total Requests.\\nAll of them.\n# TYPE req_total counter\n\
         req_total{code=\"200\",path=\"/a\\\"b\"} 1027.0\n\
         # TYPE temp gauge\ntemp -0.5 1700000000123\n\
         # TYPE rpc summary\nrpc_count 7.0\nrpc_sum 1.25\nrpc{quantile=\"0.5\"} 0.1\nrpc{quantile=\"1.0\"} 0.9\n\
         # TYPE classic histogram\nclassic_count 5.0\nclassic_sum 2.0\n\
         classic_bucket{le=\"0.25\"} 2.0\nclassic_bucket{le=\"1.0\"} 4.0\nclassic_bucket{le=\"+Inf\"} 5.0\n\
         # TYPE lat histogram\n# TYPE queue histogram\n"
    );
    // The text goes through the ordinary parser.
    let mut p =
        crate::exposition::Parser::new(text.as_bytes(), crate::exposition::Format::PrometheusText);
    let mut n = 0;
    while let Some(e) = p.next_entry().unwrap() {
        if let crate::exposition::Entry::Sample { .. } = e {
            p.labels().unwrap();
            n += 1;
        }
    }
    assert_eq!(n, 11);
    assert_eq!(got.histograms.len(), 2);
    let h = &got.histograms[0];
    assert_eq!(h.series, b"lat{h=\"x\"}");
    assert_eq!(h.labels.to_string(), "lat{h=\"x\"}");
    assert_eq!(h.histogram.positive_buckets, vec![1.0, 2.0]);
    assert_eq!((h.histogram.count, h.histogram.zero_count), (4.0, 1.0));
    assert_eq!(
        got.histograms[1].histogram.counter_reset_hint,
        CounterResetHint::Gauge
    );
}

#[test]
fn bad_bodies_and_invalid_histograms_are_named() {
    let e = decode(&[0x05, 0x0a, 0x09]).unwrap_err().to_string();
    assert!(e.contains("metric family at byte 0 does not decode"), "{e}");
    let mut bad = native(2);
    bad.positive_delta = vec![1];
    let b = body(&[family(
        "lat",
        "",
        MetricType::Histogram,
        histogram(&[], bad),
    )]);
    let e = decode(&b).unwrap_err().to_string();
    assert!(
        e.contains("native histogram lat: positive side: spans need 2 buckets, have 1 buckets"),
        "{e}"
    );
}

#[test]
fn content_types_are_recognised() {
    assert!(is_protobuf(PROTOBUF_CONTENT_TYPE));
    assert!(is_protobuf(
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
    ));
    assert!(!is_protobuf("application/vnd.google.protobuf"));
    assert!(!is_protobuf("text/plain; version=0.0.4"));
}
