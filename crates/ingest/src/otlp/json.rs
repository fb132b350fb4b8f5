//! OTLP/JSON (`application/json`) to the protobuf message types.
//!
//! The OTLP specification's JSON is protobuf's JSON mapping with three
//! changes: trace and span ids are hex strings (not base64), enums are
//! integers, and keys are lowerCamelCase. 64-bit integers (`timeUnixNano`,
//! `asInt`, `count`, `bucketCounts`, ...) come as decimal strings or as
//! numbers; doubles as numbers or `"NaN"`, `"Infinity"`, `"-Infinity"`.
//! Unknown keys are ignored, as the specification asks. We also accept the
//! protobuf field names (`time_unix_nano`), which protobuf JSON parsers do.
//!
//! `opentelemetry-proto`'s own serde support reads neither string
//! `count`s nor string `asInt`s, so the mapping is written here, walking a
//! [`serde_json::Value`] so that every error names its path
//! (`resourceMetrics[0].scopeMetrics[1].metrics[2].sum.dataPoints[0].asInt`).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
    summary_data_point::ValueAtQuantile, Exemplar, ExponentialHistogram,
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::{Map, Value};

pub(crate) type R<T> = Result<T, String>;
pub(crate) type Obj = Map<String, Value>;

/// Parses an OTLP/JSON `ExportMetricsServiceRequest`.
pub fn parse_request(body: &[u8]) -> R<ExportMetricsServiceRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let o = object(&v, "request")?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: list(
            o,
            "resourceMetrics",
            "resource_metrics",
            "",
            resource_metrics,
        )?,
    })
}

pub(crate) fn object<'v>(v: &'v Value, path: &str) -> R<&'v Obj> {
    v.as_object()
        .ok_or_else(|| format!("{path}: expected an object, got {}", kind(v)))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The value of a field by its lowerCamelCase or its protobuf name; JSON
/// null counts as absent.
pub(crate) fn field<'v>(o: &'v Obj, camel: &str, snake: &str) -> Option<&'v Value> {
    o.get(camel)
        .or_else(|| o.get(snake))
        .filter(|v| !v.is_null())
}

pub(crate) fn list<T>(
    o: &Obj,
    camel: &str,
    snake: &str,
    prefix: &str,
    f: impl Fn(&Value, &str) -> R<T>,
) -> R<Vec<T>> {
    let Some(v) = field(o, camel, snake) else {
        return Ok(Vec::new());
    };
    let path = join(prefix, camel);
    let a = v
        .as_array()
        .ok_or_else(|| format!("{path}: expected an array, got {}", kind(v)))?;
    a.iter()
        .enumerate()
        .map(|(i, e)| f(e, &format!("{path}[{i}]")))
        .collect()
}

pub(crate) fn string(o: &Obj, camel: &str, snake: &str, prefix: &str) -> R<String> {
    match field(o, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Err(format!(
            "{}: expected a string, got {}",
            join(prefix, camel),
            kind(v)
        )),
    }
}

fn boolean(o: &Obj, camel: &str, snake: &str, prefix: &str) -> R<bool> {
    match field(o, camel, snake) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!(
            "{}: expected a boolean, got {}",
            join(prefix, camel),
            kind(v)
        )),
    }
}

/// An integer given as a JSON number or a decimal string.
fn int_value<T: std::str::FromStr + TryFrom<i128>>(v: &Value, path: &str) -> R<T> {
    let parsed: Option<T> = match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                // Exponent forms like 1e3 are integers too.
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e38)
                    .map(|f| f as i128)
            })
            .and_then(|i| T::try_from(i).ok()),
        _ => None,
    };
    parsed.ok_or_else(|| {
        format!("{path}: expected an integer (a number or a decimal string) in range, got {v}")
    })
}

pub(crate) fn int<T: std::str::FromStr + TryFrom<i128> + Default>(
    o: &Obj,
    camel: &str,
    snake: &str,
    prefix: &str,
) -> R<T> {
    match field(o, camel, snake) {
        None => Ok(T::default()),
        Some(v) => int_value(v, &join(prefix, camel)),
    }
}

fn double_value(v: &Value, path: &str) -> R<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{path}: invalid number {n}")),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            s => s
                .parse()
                .map_err(|_| format!("{path}: expected a number, got the string {s:?}")),
        },
        v => Err(format!("{path}: expected a number, got {}", kind(v))),
    }
}

fn opt_double(o: &Obj, camel: &str, snake: &str, prefix: &str) -> R<Option<f64>> {
    field(o, camel, snake)
        .map(|v| double_value(v, &join(prefix, camel)))
        .transpose()
}

pub(crate) fn hex_bytes(o: &Obj, camel: &str, snake: &str, prefix: &str) -> R<Vec<u8>> {
    let s = string(o, camel, snake, prefix)?;
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{}: expected a hex string, got {s:?}",
            join(prefix, camel)
        ));
    }
    Ok((0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect())
}

/// Standard or URL-safe base64, padded or not (protobuf JSON accepts both;
/// so do kubeconfig `*-data` fields). `path` names the value in errors.
pub(crate) fn base64(s: &str, path: &str) -> R<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = val(c).ok_or_else(|| format!("{path}: invalid base64"))?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

pub(crate) fn key_values(o: &Obj, camel: &str, prefix: &str) -> R<Vec<KeyValue>> {
    let snake = if camel == "filteredAttributes" {
        "filtered_attributes"
    } else {
        camel
    };
    list(o, camel, snake, prefix, key_value)
}

fn key_value(v: &Value, path: &str) -> R<KeyValue> {
    let o = object(v, path)?;
    Ok(KeyValue {
        key: string(o, "key", "key", path)?,
        value: field(o, "value", "value")
            .map(|v| any_value(v, &join(path, "value")))
            .transpose()?,
    })
}

pub(crate) fn any_value(v: &Value, path: &str) -> R<AnyValue> {
    let o = object(v, path)?;
    let value = if let Some(s) = field(o, "stringValue", "string_value") {
        let s = s
            .as_str()
            .ok_or_else(|| format!("{path}.stringValue: expected a string"))?;
        Some(any_value::Value::StringValue(s.to_owned()))
    } else if field(o, "boolValue", "bool_value").is_some() {
        Some(any_value::Value::BoolValue(boolean(
            o,
            "boolValue",
            "bool_value",
            path,
        )?))
    } else if field(o, "intValue", "int_value").is_some() {
        Some(any_value::Value::IntValue(int(
            o,
            "intValue",
            "int_value",
            path,
        )?))
    } else if let Some(d) = field(o, "doubleValue", "double_value") {
        Some(any_value::Value::DoubleValue(double_value(
            d,
            &join(path, "doubleValue"),
        )?))
    } else if let Some(a) = field(o, "arrayValue", "array_value") {
        let p = join(path, "arrayValue");
        let ao = object(a, &p)?;
        Some(any_value::Value::ArrayValue(ArrayValue {
            values: list(ao, "values", "values", &p, any_value)?,
        }))
    } else if let Some(a) = field(o, "kvlistValue", "kvlist_value") {
        let p = join(path, "kvlistValue");
        let ao = object(a, &p)?;
        Some(any_value::Value::KvlistValue(KeyValueList {
            values: list(ao, "values", "values", &p, key_value)?,
        }))
    } else if let Some(b) = field(o, "bytesValue", "bytes_value") {
        let p = join(path, "bytesValue");
        let s = b
            .as_str()
            .ok_or_else(|| format!("{p}: expected a base64 string"))?;
        Some(any_value::Value::BytesValue(base64(s, &p)?))
    } else {
        None
    };
    Ok(AnyValue { value })
}

/// The `resource` field of a `Resource*` message.
pub(crate) fn resource(o: &Obj, path: &str) -> R<Option<Resource>> {
    Ok(match field(o, "resource", "resource") {
        None => None,
        Some(r) => {
            let p = join(path, "resource");
            let ro = object(r, &p)?;
            Some(Resource {
                attributes: key_values(ro, "attributes", &p)?,
                dropped_attributes_count: int(
                    ro,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                    &p,
                )?,
                entity_refs: Vec::new(),
            })
        }
    })
}

/// The `scope` field of a `Scope*` message.
pub(crate) fn scope(o: &Obj, path: &str) -> R<Option<InstrumentationScope>> {
    Ok(match field(o, "scope", "scope") {
        None => None,
        Some(s) => {
            let p = join(path, "scope");
            let so = object(s, &p)?;
            Some(InstrumentationScope {
                name: string(so, "name", "name", &p)?,
                version: string(so, "version", "version", &p)?,
                attributes: key_values(so, "attributes", &p)?,
                dropped_attributes_count: int(
                    so,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                    &p,
                )?,
            })
        }
    })
}

fn resource_metrics(v: &Value, path: &str) -> R<ResourceMetrics> {
    let o = object(v, path)?;
    let resource = resource(o, path)?;
    Ok(ResourceMetrics {
        resource,
        scope_metrics: list(o, "scopeMetrics", "scope_metrics", path, scope_metrics)?,
        schema_url: string(o, "schemaUrl", "schema_url", path)?,
    })
}

fn scope_metrics(v: &Value, path: &str) -> R<ScopeMetrics> {
    let o = object(v, path)?;
    let scope = scope(o, path)?;
    Ok(ScopeMetrics {
        scope,
        metrics: list(o, "metrics", "metrics", path, metric)?,
        schema_url: string(o, "schemaUrl", "schema_url", path)?,
    })
}

fn metric(v: &Value, path: &str) -> R<Metric> {
    let o = object(v, path)?;
    let temporality = |o: &Obj, p: &str| -> R<i32> {
        match field(o, "aggregationTemporality", "aggregation_temporality") {
            Some(Value::String(s)) if s.starts_with("AGGREGATION_TEMPORALITY_") => {
                Ok(match s.as_str() {
                    "AGGREGATION_TEMPORALITY_DELTA" => 1,
                    "AGGREGATION_TEMPORALITY_CUMULATIVE" => 2,
                    _ => 0,
                })
            }
            _ => int(o, "aggregationTemporality", "aggregation_temporality", p),
        }
    };
    let data = if let Some(g) = field(o, "gauge", "gauge") {
        let p = join(path, "gauge");
        let go = object(g, &p)?;
        Some(Data::Gauge(Gauge {
            data_points: list(go, "dataPoints", "data_points", &p, number_point)?,
        }))
    } else if let Some(s) = field(o, "sum", "sum") {
        let p = join(path, "sum");
        let so = object(s, &p)?;
        Some(Data::Sum(Sum {
            data_points: list(so, "dataPoints", "data_points", &p, number_point)?,
            aggregation_temporality: temporality(so, &p)?,
            is_monotonic: boolean(so, "isMonotonic", "is_monotonic", &p)?,
        }))
    } else if let Some(h) = field(o, "histogram", "histogram") {
        let p = join(path, "histogram");
        let ho = object(h, &p)?;
        Some(Data::Histogram(Histogram {
            data_points: list(ho, "dataPoints", "data_points", &p, histogram_point)?,
            aggregation_temporality: temporality(ho, &p)?,
        }))
    } else if let Some(h) = field(o, "exponentialHistogram", "exponential_histogram") {
        let p = join(path, "exponentialHistogram");
        let ho = object(h, &p)?;
        Some(Data::ExponentialHistogram(ExponentialHistogram {
            data_points: list(ho, "dataPoints", "data_points", &p, exp_point)?,
            aggregation_temporality: temporality(ho, &p)?,
        }))
    } else if let Some(s) = field(o, "summary", "summary") {
        let p = join(path, "summary");
        let so = object(s, &p)?;
        Some(Data::Summary(Summary {
            data_points: list(so, "dataPoints", "data_points", &p, summary_point)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: string(o, "name", "name", path)?,
        description: string(o, "description", "description", path)?,
        unit: string(o, "unit", "unit", path)?,
        metadata: key_values(o, "metadata", path)?,
        data,
    })
}

/// The fields every data point has.
struct Common {
    attributes: Vec<KeyValue>,
    start: u64,
    time: u64,
    flags: u32,
}

fn common(o: &Obj, path: &str) -> R<Common> {
    Ok(Common {
        attributes: key_values(o, "attributes", path)?,
        start: int(o, "startTimeUnixNano", "start_time_unix_nano", path)?,
        time: int(o, "timeUnixNano", "time_unix_nano", path)?,
        flags: int(o, "flags", "flags", path)?,
    })
}

fn number_point(v: &Value, path: &str) -> R<NumberDataPoint> {
    let o = object(v, path)?;
    let c = common(o, path)?;
    let value = if let Some(d) = field(o, "asDouble", "as_double") {
        Some(number_data_point::Value::AsDouble(double_value(
            d,
            &join(path, "asDouble"),
        )?))
    } else if field(o, "asInt", "as_int").is_some() {
        Some(number_data_point::Value::AsInt(int(
            o, "asInt", "as_int", path,
        )?))
    } else {
        None
    };
    Ok(NumberDataPoint {
        attributes: c.attributes,
        start_time_unix_nano: c.start,
        time_unix_nano: c.time,
        exemplars: list(o, "exemplars", "exemplars", path, exemplar)?,
        flags: c.flags,
        value,
    })
}

fn counts(o: &Obj, prefix: &str) -> R<Vec<u64>> {
    list(o, "bucketCounts", "bucket_counts", prefix, |v, p| {
        int_value(v, p)
    })
}

fn histogram_point(v: &Value, path: &str) -> R<HistogramDataPoint> {
    let o = object(v, path)?;
    let c = common(o, path)?;
    Ok(HistogramDataPoint {
        attributes: c.attributes,
        start_time_unix_nano: c.start,
        time_unix_nano: c.time,
        count: int(o, "count", "count", path)?,
        sum: opt_double(o, "sum", "sum", path)?,
        bucket_counts: counts(o, path)?,
        explicit_bounds: list(o, "explicitBounds", "explicit_bounds", path, double_value)?,
        exemplars: list(o, "exemplars", "exemplars", path, exemplar)?,
        flags: c.flags,
        min: opt_double(o, "min", "min", path)?,
        max: opt_double(o, "max", "max", path)?,
    })
}

fn buckets(o: &Obj, camel: &str, prefix: &str) -> R<Option<Buckets>> {
    let Some(b) = field(o, camel, camel) else {
        return Ok(None);
    };
    let p = join(prefix, camel);
    let bo = object(b, &p)?;
    Ok(Some(Buckets {
        offset: int(bo, "offset", "offset", &p)?,
        bucket_counts: counts(bo, &p)?,
    }))
}

fn exp_point(v: &Value, path: &str) -> R<ExponentialHistogramDataPoint> {
    let o = object(v, path)?;
    let c = common(o, path)?;
    Ok(ExponentialHistogramDataPoint {
        attributes: c.attributes,
        start_time_unix_nano: c.start,
        time_unix_nano: c.time,
        count: int(o, "count", "count", path)?,
        sum: opt_double(o, "sum", "sum", path)?,
        scale: int(o, "scale", "scale", path)?,
        zero_count: int(o, "zeroCount", "zero_count", path)?,
        positive: buckets(o, "positive", path)?,
        negative: buckets(o, "negative", path)?,
        flags: c.flags,
        exemplars: list(o, "exemplars", "exemplars", path, exemplar)?,
        min: opt_double(o, "min", "min", path)?,
        max: opt_double(o, "max", "max", path)?,
        zero_threshold: opt_double(o, "zeroThreshold", "zero_threshold", path)?.unwrap_or(0.0),
    })
}

fn summary_point(v: &Value, path: &str) -> R<SummaryDataPoint> {
    let o = object(v, path)?;
    let c = common(o, path)?;
    Ok(SummaryDataPoint {
        attributes: c.attributes,
        start_time_unix_nano: c.start,
        time_unix_nano: c.time,
        count: int(o, "count", "count", path)?,
        sum: opt_double(o, "sum", "sum", path)?.unwrap_or(0.0),
        quantile_values: list(o, "quantileValues", "quantile_values", path, |v, p| {
            let q = object(v, p)?;
            Ok(ValueAtQuantile {
                quantile: opt_double(q, "quantile", "quantile", p)?.unwrap_or(0.0),
                value: opt_double(q, "value", "value", p)?.unwrap_or(0.0),
            })
        })?,
        flags: c.flags,
    })
}

fn exemplar(v: &Value, path: &str) -> R<Exemplar> {
    let o = object(v, path)?;
    let value = if let Some(d) = field(o, "asDouble", "as_double") {
        Some(exemplar::Value::AsDouble(double_value(
            d,
            &join(path, "asDouble"),
        )?))
    } else if field(o, "asInt", "as_int").is_some() {
        Some(exemplar::Value::AsInt(int(o, "asInt", "as_int", path)?))
    } else {
        None
    };
    Ok(Exemplar {
        filtered_attributes: key_values(o, "filteredAttributes", path)?,
        time_unix_nano: int(o, "timeUnixNano", "time_unix_nano", path)?,
        span_id: hex_bytes(o, "spanId", "span_id", path)?,
        trace_id: hex_bytes(o, "traceId", "trace_id", path)?,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_specs_example_shapes() {
        let body = br#"{"resourceMetrics":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"svc"}},
            {"key":"n","value":{"intValue":"42"}},
            {"key":"b","value":{"bytesValue":"aGk="}}]},
          "scopeMetrics":[{"scope":{"name":"lib","version":"1.0"},"metrics":[
            {"name":"c","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
              "dataPoints":[{"asInt":"7","startTimeUnixNano":"1000000","timeUnixNano":"2000000",
                "exemplars":[{"asDouble":1.5,"timeUnixNano":"1500000",
                  "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}},
            {"name":"h","histogram":{"aggregationTemporality":1,"dataPoints":[
              {"count":"3","sum":"NaN","bucketCounts":["1",2],"explicitBounds":[0.5],"timeUnixNano":5}]}},
            {"name":"e","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[
              {"count":"3","scale":-1,"zeroCount":"1","positive":{"offset":-2,"bucketCounts":["1","1"]}}]}},
            {"name":"s","summary":{"dataPoints":[{"count":"2","sum":3,"quantileValues":[{"quantile":0.5,"value":1}]}]}}
          ]}]}]}"#;
        let r = parse_request(body).unwrap();
        let rm = &r.resource_metrics[0];
        let attrs = &rm.resource.as_ref().unwrap().attributes;
        assert_eq!(
            attrs[1].value.as_ref().unwrap().value,
            Some(any_value::Value::IntValue(42))
        );
        assert_eq!(
            attrs[2].value.as_ref().unwrap().value,
            Some(any_value::Value::BytesValue(b"hi".to_vec()))
        );
        let sm = &rm.scope_metrics[0];
        assert_eq!(sm.scope.as_ref().unwrap().version, "1.0");
        let Some(Data::Sum(s)) = &sm.metrics[0].data else {
            panic!()
        };
        assert!(s.is_monotonic);
        assert_eq!(s.aggregation_temporality, 2);
        let p = &s.data_points[0];
        assert_eq!(p.value, Some(number_data_point::Value::AsInt(7)));
        assert_eq!(
            (p.start_time_unix_nano, p.time_unix_nano),
            (1_000_000, 2_000_000)
        );
        assert_eq!(p.exemplars[0].trace_id[0], 0x5b);
        assert_eq!(p.exemplars[0].span_id.len(), 8);
        let Some(Data::Histogram(h)) = &sm.metrics[1].data else {
            panic!()
        };
        assert_eq!(h.data_points[0].bucket_counts, [1, 2]);
        assert!(h.data_points[0].sum.unwrap().is_nan());
        assert_eq!(h.data_points[0].time_unix_nano, 5);
        let Some(Data::ExponentialHistogram(e)) = &sm.metrics[2].data else {
            panic!()
        };
        assert_eq!(e.data_points[0].scale, -1);
        assert_eq!(e.data_points[0].positive.as_ref().unwrap().offset, -2);
        let Some(Data::Summary(s)) = &sm.metrics[3].data else {
            panic!()
        };
        assert_eq!(s.data_points[0].quantile_values[0].value, 1.0);
    }

    #[test]
    fn errors_name_the_path() {
        for (body, want) in [
            (&b"{"[..], "invalid JSON"),
            (b"[]", "request: expected an object, got an array"),
            (b"{\"resourceMetrics\":{}}", "resourceMetrics: expected an array"),
            (
                br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"dataPoints":[{"asInt":"1.5"}]}}]}]}]}"#,
                "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asInt: expected an integer",
            ),
            (
                br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"asDouble":1,"exemplars":[{"traceId":"xyz"}]}]}}]}]}]}"#,
                "dataPoints[0].exemplars[0].traceId: expected a hex string, got \"xyz\"",
            ),
            (
                br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","histogram":{"dataPoints":[{"count":"-1"}]}}]}]}]}"#,
                "histogram.dataPoints[0].count: expected an integer",
            ),
        ] {
            let e = parse_request(body).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
    }
}
