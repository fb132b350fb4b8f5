//! Prometheus's protobuf exposition for tests: the `MetricFamily` messages a
//! target serves under `application/vnd.google.protobuf; ...; encoding=delimited`,
//! each built in a line, and the delimited body itself. The ingest parser's
//! unit tests and the server's scrape test against Prometheus use the same
//! builders, so both read the same shapes.

use prost::Message;
pub use sightline_proto::client_model::{
    Bucket, BucketSpan, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};
use sightline_proto::client_model::{Counter, Gauge, Quantile, Summary};

/// One label pair.
pub fn label(name: &str, value: &str) -> LabelPair {
    LabelPair {
        name: name.into(),
        value: value.into(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    pairs.iter().map(|(n, v)| label(n, v)).collect()
}

/// A family of one metric (`help` may be empty: no `# HELP`).
pub fn family(name: &str, help: &str, kind: MetricType, metric: Metric) -> MetricFamily {
    MetricFamily {
        name: name.into(),
        help: help.into(),
        r#type: kind as i32,
        metric: vec![metric],
        ..Default::default()
    }
}

/// A counter with labels.
pub fn counter(pairs: &[(&str, &str)], value: f64) -> Metric {
    Metric {
        label: labels(pairs),
        counter: Some(Counter {
            value,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An unlabelled gauge.
pub fn gauge(value: f64) -> Metric {
    Metric {
        gauge: Some(Gauge { value }),
        ..Default::default()
    }
}

/// An unlabelled summary with `(quantile, value)` pairs.
pub fn summary(count: u64, sum: f64, quantiles: &[(f64, f64)]) -> Metric {
    Metric {
        summary: Some(Summary {
            sample_count: count,
            sample_sum: sum,
            quantile: quantiles
                .iter()
                .map(|&(quantile, value)| Quantile { quantile, value })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A histogram metric with labels; build the histogram with
/// [`classic_histogram`] or as a struct for native buckets.
pub fn histogram(pairs: &[(&str, &str)], h: Histogram) -> Metric {
    Metric {
        label: labels(pairs),
        histogram: Some(h),
        ..Default::default()
    }
}

/// Classic buckets as `(upper_bound, cumulative_count)`; `+Inf` is implied.
pub fn classic_histogram(count: u64, sum: f64, buckets: &[(f64, u64)]) -> Histogram {
    Histogram {
        sample_count: count,
        sample_sum: sum,
        bucket: buckets
            .iter()
            .map(|&(upper_bound, cumulative_count)| Bucket {
                cumulative_count,
                upper_bound,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

/// A native histogram's bucket span.
pub fn span(offset: i32, length: u32) -> BucketSpan {
    BucketSpan { offset, length }
}

/// The delimited body: each family prefixed with its length, as
/// client_golang writes it.
pub fn delimited(families: &[MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in families {
        f.encode_length_delimited(&mut out)
            .expect("a Vec grows as needed");
    }
    out
}
