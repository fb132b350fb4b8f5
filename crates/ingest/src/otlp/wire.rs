//! The request as the receiver reads it: the OTLP message types, except
//! that gauge and sum points keep their attributes as the encoded
//! `KeyValue` bytes when decoded from protobuf.
//!
//! Why: a large export carries a few attribute sets repeated on every
//! point, and decoding each of them into owned strings (and freeing them
//! again) was most of the cost of an OTLP/HTTP request. Here the bytes are
//! slices of the request body (no copy); the receiver keys its series
//! cache by them ([`Attributes::cache_key`]) and decodes them only for a
//! series it does not know yet ([`Attributes::decode`]). A cache entry is
//! only made after its bytes decoded, so bytes skipped this way are bytes
//! that decoded before, and a request with malformed attributes is still
//! refused as a whole (see [`Request::validate`] and the receiver).
//!
//! Everything else (resources, scopes, exemplars, histograms, summaries)
//! is decoded into the generated types as before. Requests decoded by
//! tonic (gRPC) or from JSON convert with `From`, keeping their decoded
//! attributes.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1 as pb;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::bytes::{Buf, BufMut, Bytes};
use prost::encoding::{self, DecodeContext, WireType};
use prost::{DecodeError, Message};
use std::borrow::Cow;
use xxhash_rust::xxh3::Xxh3;

/// `ExportMetricsServiceRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct Request {
    /// See the OTLP message.
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// `ResourceMetrics`.
#[derive(Clone, PartialEq, Message)]
pub struct ResourceMetrics {
    /// See the OTLP message.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// See the OTLP message.
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
    /// See the OTLP message.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `ScopeMetrics`.
#[derive(Clone, PartialEq, Message)]
pub struct ScopeMetrics {
    /// See the OTLP message.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// See the OTLP message.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// See the OTLP message.
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `Metric`.
#[derive(Clone, PartialEq, Message)]
pub struct Metric {
    /// See the OTLP message.
    #[prost(string, tag = "1")]
    pub name: String,
    /// See the OTLP message.
    #[prost(string, tag = "2")]
    pub description: String,
    /// See the OTLP message.
    #[prost(string, tag = "3")]
    pub unit: String,
    /// See the OTLP message.
    #[prost(message, repeated, tag = "12")]
    pub metadata: Vec<KeyValue>,
    /// See the OTLP message.
    #[prost(oneof = "Data", tags = "5, 7, 9, 10, 11")]
    pub data: Option<Data>,
}

/// `Metric.data`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Data {
    /// See the OTLP message.
    #[prost(message, tag = "5")]
    Gauge(Gauge),
    /// See the OTLP message.
    #[prost(message, tag = "7")]
    Sum(Sum),
    /// See the OTLP message.
    #[prost(message, tag = "9")]
    Histogram(pb::Histogram),
    /// See the OTLP message.
    #[prost(message, tag = "10")]
    ExponentialHistogram(pb::ExponentialHistogram),
    /// See the OTLP message.
    #[prost(message, tag = "11")]
    Summary(pb::Summary),
}

/// `Gauge`.
#[derive(Clone, PartialEq, Message)]
pub struct Gauge {
    /// See the OTLP message.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

/// `Sum`.
#[derive(Clone, PartialEq, Message)]
pub struct Sum {
    /// See the OTLP message.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// See the OTLP message.
    #[prost(enumeration = "pb::AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
    /// See the OTLP message.
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

/// A point's attributes: encoded (from a protobuf body) or decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Attributes {
    /// Each `KeyValue` as encoded, slices of the request body.
    Raw(Vec<Bytes>),
    /// Decoded by tonic or from JSON.
    Decoded(Vec<KeyValue>),
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes::Raw(Vec::new())
    }
}

/// Seeds the hash of encoded attributes, so that a key over encoded bytes
/// is independent of any key over decoded attributes.
const RAW_SEED: u64 = 0x6f74_6c70_7261_7721;

impl Attributes {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        match self {
            Attributes::Raw(v) => v.is_empty(),
            Attributes::Decoded(v) => v.is_empty(),
        }
    }

    /// The attributes decoded. Errors name what did not decode.
    pub fn decode(&self) -> Result<Cow<'_, [KeyValue]>, DecodeError> {
        match self {
            Attributes::Decoded(v) => Ok(Cow::Borrowed(v)),
            Attributes::Raw(v) => v
                .iter()
                .map(|b| {
                    KeyValue::decode(&b[..]).map_err(|mut e| {
                        e.push("NumberDataPoint", "attributes");
                        e
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Cow::Owned),
        }
    }

    /// The series cache key of a point of the metric keyed `metric` with
    /// these attributes: over the decoded attributes as
    /// [`super::cache::point_key`] computes it, or over the encoded bytes
    /// (each with its length, in the order sent). Equal bytes decode to
    /// equal attributes, so equal keys name one series; two encodings of
    /// the same attributes get two entries for that series.
    pub fn cache_key(&self, metric: u128) -> Option<u128> {
        match self {
            Attributes::Decoded(v) => super::cache::point_key(metric, v),
            Attributes::Raw(v) => {
                let mut h = Xxh3::with_seed(RAW_SEED);
                h.update(&metric.to_le_bytes());
                for b in v {
                    h.update(&(b.len() as u64).to_le_bytes());
                    h.update(b);
                }
                Some(h.digest128())
            }
        }
    }
}

/// `NumberDataPoint`, attributes left encoded when decoded from protobuf
/// (the message is implemented by hand for that one field).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumberDataPoint {
    /// See [`Attributes`].
    pub attributes: Attributes,
    /// See the OTLP message.
    pub start_time_unix_nano: u64,
    /// See the OTLP message.
    pub time_unix_nano: u64,
    /// See the OTLP message.
    pub exemplars: Vec<pb::Exemplar>,
    /// See the OTLP message.
    pub flags: u32,
    /// See the OTLP message.
    pub value: Option<number_data_point::Value>,
}

impl Message for NumberDataPoint {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if self.start_time_unix_nano != 0 {
            encoding::fixed64::encode(2, &self.start_time_unix_nano, buf);
        }
        if self.time_unix_nano != 0 {
            encoding::fixed64::encode(3, &self.time_unix_nano, buf);
        }
        if let Some(v) = &self.value {
            v.encode(buf);
        }
        encoding::message::encode_repeated(5, &self.exemplars, buf);
        match &self.attributes {
            Attributes::Raw(v) => encoding::bytes::encode_repeated(7, v, buf),
            Attributes::Decoded(v) => encoding::message::encode_repeated(7, v, buf),
        }
        if self.flags != 0 {
            encoding::uint32::encode(8, &self.flags, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let at = |field: &'static str| {
            move |mut e: DecodeError| {
                e.push("NumberDataPoint", field);
                e
            }
        };
        match tag {
            2 => encoding::fixed64::merge(wire_type, &mut self.start_time_unix_nano, buf, ctx)
                .map_err(at("start_time_unix_nano")),
            3 => encoding::fixed64::merge(wire_type, &mut self.time_unix_nano, buf, ctx)
                .map_err(at("time_unix_nano")),
            4 | 6 => number_data_point::Value::merge(&mut self.value, tag, wire_type, buf, ctx)
                .map_err(at("value")),
            5 => encoding::message::merge_repeated(wire_type, &mut self.exemplars, buf, ctx)
                .map_err(at("exemplars")),
            7 => match &mut self.attributes {
                Attributes::Raw(v) => encoding::bytes::merge_repeated(wire_type, v, buf, ctx),
                Attributes::Decoded(v) => encoding::message::merge_repeated(wire_type, v, buf, ctx),
            }
            .map_err(at("attributes")),
            8 => encoding::uint32::merge(wire_type, &mut self.flags, buf, ctx).map_err(at("flags")),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let mut n = 0;
        if self.start_time_unix_nano != 0 {
            n += encoding::fixed64::encoded_len(2, &self.start_time_unix_nano);
        }
        if self.time_unix_nano != 0 {
            n += encoding::fixed64::encoded_len(3, &self.time_unix_nano);
        }
        if let Some(v) = &self.value {
            n += v.encoded_len();
        }
        n += encoding::message::encoded_len_repeated(5, &self.exemplars);
        n += match &self.attributes {
            Attributes::Raw(v) => encoding::bytes::encoded_len_repeated(7, v),
            Attributes::Decoded(v) => encoding::message::encoded_len_repeated(7, v),
        };
        if self.flags != 0 {
            n += encoding::uint32::encoded_len(8, &self.flags);
        }
        n
    }

    fn clear(&mut self) {
        *self = NumberDataPoint::default();
    }
}

impl Request {
    /// The samples this request becomes once translated (what Mimir's
    /// ingestion rate counts): one per number point, a classic histogram
    /// point's buckets (with +Inf) plus its sum and count, a summary's
    /// quantiles plus its sum and count, and one native histogram per
    /// exponential histogram point.
    pub fn sample_count(&self) -> u64 {
        let mut n = 0u64;
        for m in self
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            n += match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len() as u64,
                Some(Data::Sum(s)) => s.data_points.len() as u64,
                Some(Data::Histogram(h)) => h
                    .data_points
                    .iter()
                    .map(|p| p.bucket_counts.len().max(1) as u64 + 2)
                    .sum(),
                Some(Data::ExponentialHistogram(h)) => h.data_points.len() as u64,
                Some(Data::Summary(s)) => s
                    .data_points
                    .iter()
                    .map(|p| p.quantile_values.len() as u64 + 2)
                    .sum(),
                None => 0,
            };
        }
        n
    }

    /// Decodes every encoded attribute: the check a protobuf decode into
    /// the generated types makes, for when the receiver must know a
    /// request is well formed before it changes any state (delta totals).
    pub fn validate(&self) -> Result<(), DecodeError> {
        for rm in &self.resource_metrics {
            for sm in &rm.scope_metrics {
                for m in &sm.metrics {
                    m.validate()?;
                }
            }
        }
        Ok(())
    }

    /// Whether any sum or histogram has delta temporality.
    pub fn has_delta(&self) -> bool {
        let delta = pb::AggregationTemporality::Delta as i32;
        self.resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .any(|m| match &m.data {
                Some(Data::Sum(s)) => s.aggregation_temporality == delta,
                Some(Data::Histogram(h)) => h.aggregation_temporality == delta,
                Some(Data::ExponentialHistogram(h)) => h.aggregation_temporality == delta,
                _ => false,
            })
    }
}

impl Metric {
    /// Decodes every encoded attribute of the metric's points.
    pub fn validate(&self) -> Result<(), DecodeError> {
        let points = match &self.data {
            Some(Data::Gauge(g)) => &g.data_points,
            Some(Data::Sum(s)) => &s.data_points,
            _ => return Ok(()),
        };
        for p in points {
            if let Attributes::Raw(_) = &p.attributes {
                p.attributes.decode()?;
            }
        }
        Ok(())
    }
}

impl From<ExportMetricsServiceRequest> for Request {
    fn from(r: ExportMetricsServiceRequest) -> Self {
        Request {
            resource_metrics: r
                .resource_metrics
                .into_iter()
                .map(|rm| ResourceMetrics {
                    resource: rm.resource,
                    scope_metrics: rm
                        .scope_metrics
                        .into_iter()
                        .map(|sm| ScopeMetrics {
                            scope: sm.scope,
                            metrics: sm.metrics.into_iter().map(Metric::from).collect(),
                            schema_url: sm.schema_url,
                        })
                        .collect(),
                    schema_url: rm.schema_url,
                })
                .collect(),
        }
    }
}

impl From<pb::Metric> for Metric {
    fn from(m: pb::Metric) -> Self {
        let points = |v: Vec<pb::NumberDataPoint>| {
            v.into_iter()
                .map(|p| NumberDataPoint {
                    attributes: Attributes::Decoded(p.attributes),
                    start_time_unix_nano: p.start_time_unix_nano,
                    time_unix_nano: p.time_unix_nano,
                    exemplars: p.exemplars,
                    flags: p.flags,
                    value: p.value,
                })
                .collect()
        };
        use pb::metric::Data as D;
        Metric {
            name: m.name,
            description: m.description,
            unit: m.unit,
            metadata: m.metadata,
            data: m.data.map(|d| match d {
                D::Gauge(g) => Data::Gauge(Gauge {
                    data_points: points(g.data_points),
                }),
                D::Sum(s) => Data::Sum(Sum {
                    data_points: points(s.data_points),
                    aggregation_temporality: s.aggregation_temporality,
                    is_monotonic: s.is_monotonic,
                }),
                D::Histogram(h) => Data::Histogram(h),
                D::ExponentialHistogram(h) => Data::ExponentialHistogram(h),
                D::Summary(s) => Data::Summary(s),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};

    fn s(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(v.into())),
            }),
        }
    }

    fn request(attrs: Vec<KeyValue>) -> ExportMetricsServiceRequest {
        let p = pb::NumberDataPoint {
            attributes: attrs,
            time_unix_nano: 5_000_000,
            value: Some(number_data_point::Value::AsDouble(2.5)),
            ..Default::default()
        };
        ExportMetricsServiceRequest {
            resource_metrics: vec![pb::ResourceMetrics {
                scope_metrics: vec![pb::ScopeMetrics {
                    metrics: vec![pb::Metric {
                        name: "m".into(),
                        data: Some(pb::metric::Data::Gauge(pb::Gauge {
                            data_points: vec![p],
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn point(r: &Request) -> &NumberDataPoint {
        match &r.resource_metrics[0].scope_metrics[0].metrics[0].data {
            Some(Data::Gauge(g)) => &g.data_points[0],
            _ => unreachable!(),
        }
    }

    /// issue 12: the protobuf decode keeps the encoded attributes, which
    /// decode to what the generated types hold, and encodes back the same.
    #[test]
    fn raw_attributes_decode_to_the_generated_types() {
        let req = request(vec![s("a", "1"), s("b", "2")]);
        let body = Bytes::from(req.encode_to_vec());
        let wire = Request::decode(body.clone()).unwrap();
        let p = point(&wire);
        assert!(matches!(&p.attributes, Attributes::Raw(v) if v.len() == 2));
        assert_eq!(
            p.attributes.decode().unwrap().as_ref(),
            &[s("a", "1"), s("b", "2")]
        );
        assert_eq!(p.value, Some(number_data_point::Value::AsDouble(2.5)));
        assert_eq!(p.time_unix_nano, 5_000_000);
        assert_eq!(wire.encode_to_vec(), body);
        let from_tonic = Request::from(req);
        assert_eq!(from_tonic.encode_to_vec(), body);
        assert!(wire.validate().is_ok() && !wire.has_delta());
    }

    /// issue 12: keys over encoded attributes tell one value apart, and
    /// never equal the key of decoded attributes.
    #[test]
    fn raw_keys_tell_values_apart() {
        let key = |attrs| {
            let w = Request::decode(Bytes::from(request(attrs).encode_to_vec())).unwrap();
            point(&w).attributes.cache_key(7).unwrap()
        };
        let a = key(vec![s("a", "1"), s("b", "2")]);
        assert_eq!(a, key(vec![s("a", "1"), s("b", "2")]));
        assert_ne!(a, key(vec![s("a", "1"), s("b", "3")]));
        assert_ne!(a, key(vec![s("a", "12"), s("b", "")]));
        assert_ne!(a, key(vec![s("b", "2"), s("a", "1")]));
        let decoded = Attributes::Decoded(vec![s("a", "1"), s("b", "2")]);
        assert_ne!(a, decoded.cache_key(7).unwrap());
        let raw = Request::decode(Bytes::from(request(vec![s("a", "1")]).encode_to_vec())).unwrap();
        assert_ne!(
            point(&raw).attributes.cache_key(7),
            point(&raw).attributes.cache_key(8)
        );
    }

    /// issue 12: attributes that do not decode are found by `decode` and
    /// `validate`, with the field named.
    #[test]
    fn malformed_attributes_are_errors() {
        let mut body = request(vec![s("a", "ok")]).encode_to_vec();
        let at = body.windows(2).position(|w| w == b"ok").unwrap();
        body[at] = 0xff; // not UTF-8
        let wire = Request::decode(Bytes::from(body)).unwrap();
        let e = point(&wire).attributes.decode().unwrap_err().to_string();
        assert!(e.contains("NumberDataPoint.attributes"), "{e}");
        assert!(wire.validate().is_err());
    }
}
