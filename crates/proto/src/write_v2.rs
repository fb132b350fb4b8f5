//! Remote write 2.0 (`package io.prometheus.write.v2`).
//!
//! Strings (label names and values, help, unit) live once in
//! [`Request::symbols`] and are referenced by index; `symbols[0]` is always
//! the empty string. Histograms and bucket spans share the 1.0 wire layout
//! (same field numbers), so their types are reused from [`crate::prometheus`].

pub use crate::prometheus::{histogram, BucketSpan, Histogram};

/// `io.prometheus.write.v2.Request`. Fields 1 to 3 are reserved so that a
/// 1.0 `WriteRequest` decodes as an empty 2.0 request rather than garbage.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// The symbols table; starts with `""`.
    #[prost(string, repeated, tag = "4")]
    pub symbols: Vec<String>,
    /// The series.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

/// `io.prometheus.write.v2.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Pairs of symbol references: name, value, name, value, ...
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Native histogram samples, oldest first.
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<Histogram>,
    /// Exemplars of this series.
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<Exemplar>,
    /// The series' metadata.
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
    /// When the counter started, in ms; 0 means unset.
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

/// `io.prometheus.write.v2.Exemplar`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Pairs of symbol references.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// The exemplar's value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch; 0 means unset.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `io.prometheus.write.v2.Sample`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `io.prometheus.write.v2.Metadata`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Metadata {
    /// A [`metadata::MetricType`] as its number.
    #[prost(enumeration = "metadata::MetricType", tag = "1")]
    pub r#type: i32,
    /// Symbol reference of the HELP text (0 for none).
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    /// Symbol reference of the unit (0 for none).
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}

/// Nested types of [`Metadata`].
pub mod metadata {
    /// `io.prometheus.write.v2.Metadata.MetricType`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
    #[repr(i32)]
    pub enum MetricType {
        /// METRIC_TYPE_UNSPECIFIED
        Unspecified = 0,
        /// METRIC_TYPE_COUNTER
        Counter = 1,
        /// METRIC_TYPE_GAUGE
        Gauge = 2,
        /// METRIC_TYPE_HISTOGRAM
        Histogram = 3,
        /// METRIC_TYPE_GAUGEHISTOGRAM
        Gaugehistogram = 4,
        /// METRIC_TYPE_SUMMARY
        Summary = 5,
        /// METRIC_TYPE_INFO
        Info = 6,
        /// METRIC_TYPE_STATESET
        Stateset = 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn up() -> Request {
        Request {
            symbols: vec!["".into(), "__name__".into(), "up".into()],
            timeseries: vec![TimeSeries {
                labels_refs: vec![1, 2],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 2,
                }],
                metadata: Some(Metadata {
                    r#type: metadata::MetricType::Gauge as i32,
                    help_ref: 0,
                    unit_ref: 0,
                }),
                ..Default::default()
            }],
        }
    }

    /// Bytes written out by hand from the .proto field numbers.
    const UP: &[u8] = &[
        0x22, 0, // symbols (4): ""
        0x22, 8, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', // "__name__"
        0x22, 2, b'u', b'p', // "up"
        0x2a, 21, // timeseries (5)
        0x0a, 2, 1, 2, // labels_refs (1), packed
        0x12, 11, // samples (2)
        0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // value (1) = 1.0
        0x10, 2, // timestamp (2)
        0x2a, 2, 0x08, 2, // metadata (5): type (1) = GAUGE
    ];

    #[test]
    fn encodes_known_bytes() {
        assert_eq!(up().encode_to_vec(), UP);
    }

    #[test]
    fn decodes_hand_written_bytes() {
        assert_eq!(Request::decode(UP).unwrap(), up());
        // Unpacked repeated refs and a created timestamp decode too.
        let b: &[u8] = &[0x2a, 6, 0x08, 1, 0x08, 2, 0x30, 9];
        let r = Request::decode(b).unwrap();
        assert_eq!(r.timeseries[0].labels_refs, [1, 2]);
        assert_eq!(r.timeseries[0].created_timestamp, 9);
    }

    #[test]
    fn a_v1_request_decodes_as_empty() {
        // prometheus.WriteRequest { timeseries: [{ labels: [a="b"] }] }
        let v1: &[u8] = &[0x0a, 8, 0x0a, 6, 0x0a, 1, b'a', 0x12, 1, b'b'];
        assert_eq!(Request::decode(v1).unwrap(), Request::default());
    }
}
