//! The protobuf exposition format (`package io.prometheus.client`,
//! upstream `client_model`'s `metrics.proto`): what a target serves for
//! `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
//! encoding=delimited`, as a sequence of varint-length-prefixed
//! [`MetricFamily`] messages.

/// `io.prometheus.client.MetricFamily`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricFamily {
    /// Metric name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// HELP text.
    #[prost(string, tag = "2")]
    pub help: String,
    /// A [`MetricType`] as its number.
    #[prost(enumeration = "MetricType", tag = "3")]
    pub r#type: i32,
    /// The family's metrics.
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
    /// UNIT.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// `io.prometheus.client.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    /// COUNTER
    Counter = 0,
    /// GAUGE
    Gauge = 1,
    /// SUMMARY
    Summary = 2,
    /// UNTYPED
    Untyped = 3,
    /// HISTOGRAM
    Histogram = 4,
    /// GAUGE_HISTOGRAM
    GaugeHistogram = 5,
}

/// `io.prometheus.client.LabelPair`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LabelPair {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Timestamp {
    /// Seconds since the epoch.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `io.prometheus.client.Gauge`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Gauge {
    /// Value.
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// `io.prometheus.client.Counter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Counter {
    /// Value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// An exemplar.
    #[prost(message, optional, tag = "2")]
    pub exemplar: Option<Exemplar>,
    /// When the counter started.
    #[prost(message, optional, tag = "3")]
    pub created_timestamp: Option<Timestamp>,
}

/// `io.prometheus.client.Quantile`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Quantile {
    /// The quantile (0..1).
    #[prost(double, tag = "1")]
    pub quantile: f64,
    /// Its value.
    #[prost(double, tag = "2")]
    pub value: f64,
}

/// `io.prometheus.client.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// Observations.
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    /// Sum of observations.
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    /// Quantiles.
    #[prost(message, repeated, tag = "3")]
    pub quantile: Vec<Quantile>,
    /// When the summary started.
    #[prost(message, optional, tag = "4")]
    pub created_timestamp: Option<Timestamp>,
}

/// `io.prometheus.client.Untyped`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Untyped {
    /// Value.
    #[prost(double, tag = "1")]
    pub value: f64,
}

/// `io.prometheus.client.Histogram`: classic buckets, native buckets, or
/// both.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Observations (integer histograms).
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    /// Observations (float histograms; overrides `sample_count`).
    #[prost(double, tag = "4")]
    pub sample_count_float: f64,
    /// Sum of observations.
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    /// Classic buckets, cumulative, ordered by upper bound.
    #[prost(message, repeated, tag = "3")]
    pub bucket: Vec<Bucket>,
    /// When the histogram started.
    #[prost(message, optional, tag = "15")]
    pub created_timestamp: Option<Timestamp>,
    /// Native schema.
    #[prost(sint32, tag = "5")]
    pub schema: i32,
    /// Breadth of the zero bucket.
    #[prost(double, tag = "6")]
    pub zero_threshold: f64,
    /// Zero bucket count (integer histograms).
    #[prost(uint64, tag = "7")]
    pub zero_count: u64,
    /// Zero bucket count (float histograms).
    #[prost(double, tag = "8")]
    pub zero_count_float: f64,
    /// Negative bucket spans.
    #[prost(message, repeated, tag = "9")]
    pub negative_span: Vec<BucketSpan>,
    /// Negative bucket count deltas (integer histograms).
    #[prost(sint64, repeated, tag = "10")]
    pub negative_delta: Vec<i64>,
    /// Negative bucket counts (float histograms).
    #[prost(double, repeated, tag = "11")]
    pub negative_count: Vec<f64>,
    /// Positive bucket spans.
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    /// Positive bucket count deltas (integer histograms).
    #[prost(sint64, repeated, tag = "13")]
    pub positive_delta: Vec<i64>,
    /// Positive bucket counts (float histograms).
    #[prost(double, repeated, tag = "14")]
    pub positive_count: Vec<f64>,
    /// Exemplars of native histograms.
    #[prost(message, repeated, tag = "16")]
    pub exemplars: Vec<Exemplar>,
}

/// `io.prometheus.client.Bucket`: one classic bucket.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Bucket {
    /// Observations at or below `upper_bound` (integer histograms).
    #[prost(uint64, tag = "1")]
    pub cumulative_count: u64,
    /// The same for float histograms.
    #[prost(double, tag = "4")]
    pub cumulative_count_float: f64,
    /// Upper bound, inclusive.
    #[prost(double, tag = "2")]
    pub upper_bound: f64,
    /// An exemplar.
    #[prost(message, optional, tag = "3")]
    pub exemplar: Option<Exemplar>,
}

/// `io.prometheus.client.BucketSpan`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct BucketSpan {
    /// Gap to the previous span, or start of the first.
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Consecutive buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// `io.prometheus.client.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Exemplar labels.
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    /// Observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// When observed.
    #[prost(message, optional, tag = "3")]
    pub timestamp: Option<Timestamp>,
}

/// `io.prometheus.client.Metric`: one labelled metric of a family.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// Labels (without the name).
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    /// Set for gauges.
    #[prost(message, optional, tag = "2")]
    pub gauge: Option<Gauge>,
    /// Set for counters.
    #[prost(message, optional, tag = "3")]
    pub counter: Option<Counter>,
    /// Set for summaries.
    #[prost(message, optional, tag = "4")]
    pub summary: Option<Summary>,
    /// Set for untyped metrics.
    #[prost(message, optional, tag = "5")]
    pub untyped: Option<Untyped>,
    /// Set for histograms.
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
    /// Explicit timestamp, ms (0 = none).
    #[prost(int64, tag = "6")]
    pub timestamp_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn field_numbers_match_metrics_proto() {
        // MetricFamily{name:"a", type:HISTOGRAM, metric:[{histogram:{schema:-1 (sint32 1),
        // positive_delta:[1] (packed sint64 2)}}]}, bytes built by hand.
        let bytes = [
            0x0a, 1, b'a', // name (1)
            0x18, 4, // type (3) = HISTOGRAM
            0x22, 7, // metric (4)
            0x3a, 5, // histogram (7)
            0x28, 1, // schema (5), zig-zag -1
            0x6a, 1, 2, // positive_delta (13), packed, zig-zag 1
        ];
        let mf = MetricFamily::decode(&bytes[..]).unwrap();
        assert_eq!(mf.name, "a");
        assert_eq!(mf.r#type, MetricType::Histogram as i32);
        let h = mf.metric[0].histogram.as_ref().unwrap();
        assert_eq!((h.schema, h.positive_delta.clone()), (-1, vec![1]));
    }
}
