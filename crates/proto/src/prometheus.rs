//! Remote write 1.0 (`package prometheus`).

/// `prometheus.WriteRequest`: the body of a remote write 1.0 request
/// (snappy-compressed on the wire). Field 2 is reserved upstream.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series with their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Metric metadata, sent in separate requests by Prometheus.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`: one series and its samples.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// The series' labels, sorted by name, `__name__` included.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars of this series.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histogram samples.
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Label {
    /// Label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// The exemplar's own labels (e.g. `trace_id`).
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The exemplar's value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// A [`metric_metadata::MetricType`] as its number.
    #[prost(enumeration = "metric_metadata::MetricType", tag = "1")]
    pub r#type: i32,
    /// The metric family name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// HELP text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// UNIT.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// Nested types of [`MetricMetadata`].
pub mod metric_metadata {
    /// `prometheus.MetricMetadata.MetricType`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum MetricType {
        /// UNKNOWN
        Unknown = 0,
        /// COUNTER
        Counter = 1,
        /// GAUGE
        Gauge = 2,
        /// HISTOGRAM
        Histogram = 3,
        /// GAUGEHISTOGRAM
        Gaugehistogram = 4,
        /// SUMMARY
        Summary = 5,
        /// INFO
        Info = 6,
        /// STATESET
        Stateset = 7,
    }
}

/// `prometheus.Histogram`: a native histogram sample, integer or float.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Count of observations.
    #[prost(oneof = "histogram::Count", tags = "1, 2")]
    pub count: Option<histogram::Count>,
    /// Sum of observations.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Bucket schema.
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// Breadth of the zero bucket.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Count in the zero bucket.
    #[prost(oneof = "histogram::ZeroCount", tags = "6, 7")]
    pub zero_count: Option<histogram::ZeroCount>,
    /// Negative bucket spans.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Negative bucket count deltas (integer histograms).
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Negative bucket counts (float histograms).
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    /// Positive bucket spans.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Positive bucket count deltas (integer histograms).
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Positive bucket counts (float histograms).
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    /// A [`histogram::ResetHint`] as its number.
    #[prost(enumeration = "histogram::ResetHint", tag = "14")]
    pub reset_hint: i32,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
    /// Bucket bounds for custom-bucket histograms (schema -53).
    #[prost(double, repeated, tag = "16")]
    pub custom_values: Vec<f64>,
}

/// Nested types of [`Histogram`].
pub mod histogram {
    /// `oneof count`.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Count {
        /// Integer histogram count.
        #[prost(uint64, tag = "1")]
        CountInt(u64),
        /// Float histogram count.
        #[prost(double, tag = "2")]
        CountFloat(f64),
    }

    /// `oneof zero_count`.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum ZeroCount {
        /// Integer histogram zero bucket.
        #[prost(uint64, tag = "6")]
        ZeroCountInt(u64),
        /// Float histogram zero bucket.
        #[prost(double, tag = "7")]
        ZeroCountFloat(f64),
    }

    /// `prometheus.Histogram.ResetHint`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum ResetHint {
        /// Test for a counter reset explicitly.
        Unknown = 0,
        /// First histogram after a counter reset.
        Yes = 1,
        /// No counter reset since the previous histogram.
        No = 2,
        /// A gauge histogram: resets do not apply.
        Gauge = 3,
    }
}

/// `prometheus.BucketSpan`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct BucketSpan {
    /// Gap to the previous span, or start of the first.
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Number of consecutive buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn one_series() -> WriteRequest {
        WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label {
                    name: "a".into(),
                    value: "b".into(),
                }],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 2,
                }],
                ..Default::default()
            }],
            metadata: vec![],
        }
    }

    /// Bytes written out by hand from the .proto field numbers.
    const ONE_SERIES: &[u8] = &[
        0x0a, 21, // WriteRequest.timeseries (1, LEN)
        0x0a, 6, // TimeSeries.labels (1, LEN)
        0x0a, 1, b'a', // Label.name (1)
        0x12, 1, b'b', // Label.value (2)
        0x12, 11, // TimeSeries.samples (2, LEN)
        0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // Sample.value (1, I64) = 1.0
        0x10, 2, // Sample.timestamp (2, VARINT) = 2
    ];

    #[test]
    fn encodes_known_bytes() {
        assert_eq!(one_series().encode_to_vec(), ONE_SERIES);
    }

    #[test]
    fn decodes_hand_written_bytes_with_every_field() {
        assert_eq!(WriteRequest::decode(ONE_SERIES).unwrap(), one_series());
        let bytes: &[u8] = &[
            0x1a, 12, // WriteRequest.metadata (3)
            0x08, 1, // type (1) = COUNTER
            0x12, 1, b'm', // metric_family_name (2)
            0x22, 2, b'h', b'i', // help (4)
            0x2a, 1, b's', // unit (5)
            0x0a, 23, // WriteRequest.timeseries (1)
            0x1a, 19, // TimeSeries.exemplars (3)
            0x0a, 6, 0x0a, 1, b't', 0x12, 1, b'x', // Exemplar.labels (1)
            0x11, 0, 0, 0, 0, 0, 0, 0, 0x40, // Exemplar.value (2) = 2.0
            0x18, 42, // Exemplar.timestamp (3)
            0x22, 0, // TimeSeries.histograms (4): one empty histogram
        ];
        let r = WriteRequest::decode(bytes).unwrap();
        assert_eq!(r.metadata.len(), 1);
        let m = &r.metadata[0];
        assert_eq!(m.r#type(), metric_metadata::MetricType::Counter);
        assert_eq!(
            (
                m.metric_family_name.as_str(),
                m.help.as_str(),
                m.unit.as_str()
            ),
            ("m", "hi", "s")
        );
        let ts = &r.timeseries[0];
        assert_eq!(ts.exemplars[0].labels[0].name, "t");
        assert_eq!(ts.exemplars[0].value, 2.0);
        assert_eq!(ts.exemplars[0].timestamp, 42);
        assert_eq!(ts.histograms.len(), 1);
    }

    #[test]
    fn histogram_fields_round_trip_and_use_zigzag() {
        let h = Histogram {
            count: Some(histogram::Count::CountInt(5)),
            sum: 1.5,
            schema: -1,
            zero_threshold: 0.001,
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(1)),
            positive_spans: vec![BucketSpan {
                offset: -2,
                length: 2,
            }],
            positive_deltas: vec![3, -1],
            reset_hint: histogram::ResetHint::No as i32,
            timestamp: 7,
            ..Default::default()
        };
        let b = h.encode_to_vec();
        // count_int (1, VARINT) = 5, then sum (3, I64), then schema (4, sint32 -1 = zigzag 1).
        assert_eq!(&b[..2], &[0x08, 5]);
        assert_eq!(b[2], 0x19);
        assert_eq!(&b[11..13], &[0x20, 1]);
        assert_eq!(Histogram::decode(&b[..]).unwrap(), h);
    }
}
