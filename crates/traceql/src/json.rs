//! Search and metrics answers in the JSON Tempo's HTTP API sends
//! (`/api/search`, `/api/metrics/query_range`): protobuf's JSON mapping of
//! `tempopb.SearchResponse` and `QueryRangeResponse`, where 64-bit
//! integers are strings and attribute values are OTLP `AnyValue`s.

use crate::ast::{format_duration, Static};
use crate::metrics::MetricsResult;
use crate::search::{SearchResult, SpansetResult, TraceResult};
use serde_json::{json, Value as Json};

/// A value as OTLP's JSON `AnyValue` (`{"stringValue": "..."}`), as Tempo
/// reports attributes: statuses, kinds and durations as strings.
pub fn any_value(v: &Static) -> Json {
    match v {
        Static::Nil => json!({}),
        Static::Int(i) => json!({ "intValue": i.to_string() }),
        Static::Float(f) => json!({ "doubleValue": f }),
        Static::Str(s) => json!({ "stringValue": s }),
        Static::Bool(b) => json!({ "boolValue": b }),
        Static::Duration(d) => json!({ "stringValue": format_duration(*d) }),
        Static::Status(s) => json!({ "stringValue": s.name() }),
        Static::Kind(k) => json!({ "stringValue": k.name() }),
    }
}

fn key_values(attrs: &[(String, Static)]) -> Json {
    Json::Array(
        attrs
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": any_value(v) }))
            .collect(),
    )
}

fn spanset(s: &SpansetResult) -> Json {
    let spans: Vec<Json> = s
        .spans
        .iter()
        .map(|sp| {
            let mut o = json!({
                "spanID": sp.span_id,
                "name": sp.name,
                "startTimeUnixNano": sp.start_ns.to_string(),
                "durationNanos": sp.duration_ns.to_string(),
            });
            if !sp.attributes.is_empty() {
                o["attributes"] = key_values(&sp.attributes);
            }
            o
        })
        .collect();
    let mut o = json!({ "spans": spans, "matched": s.matched });
    if !s.attributes.is_empty() {
        o["attributes"] = key_values(&s.attributes);
    }
    o
}

fn trace(t: &TraceResult) -> Json {
    let sets: Vec<Json> = t.span_sets.iter().map(spanset).collect();
    let mut o = json!({
        "traceID": t.trace_id.to_string(),
        "rootServiceName": t.root_service_name,
        "startTimeUnixNano": t.start_ns.to_string(),
        "durationMs": t.duration_ms,
    });
    if !t.root_trace_name.is_empty() {
        o["rootTraceName"] = json!(t.root_trace_name);
    }
    // `spanSet` (the first) is what Grafana before 10 reads.
    if let Some(first) = sets.first() {
        o["spanSet"] = first.clone();
    }
    o["spanSets"] = Json::Array(sets);
    o
}

/// `/api/search`'s body.
pub fn search_response(r: &SearchResult) -> Json {
    json!({
        "traces": r.traces.iter().map(trace).collect::<Vec<_>>(),
        "metrics": {
            "inspectedTraces": r.inspected_traces,
            "inspectedSpans": r.inspected_spans.to_string(),
        },
    })
}

/// A label value as Prometheus-style text, as Tempo's `promLabels` shows it.
fn prom_value(v: &Static) -> String {
    match v {
        Static::Nil => "<nil>".into(),
        Static::Str(s) if s.is_empty() => "<empty>".into(),
        Static::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `{a="x", b="y"}` with names sorted, as Prometheus prints labels.
pub fn prom_labels(labels: &[(String, Static)]) -> String {
    let mut l: Vec<(&str, String)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), prom_value(v)))
        .collect();
    l.sort();
    let inner: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{k}={}", serde_json::to_string(v).unwrap_or_default()))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// `/api/metrics/query_range`'s body.
pub fn query_range_response(r: &MetricsResult) -> Json {
    let series: Vec<Json> = r
        .series
        .iter()
        .map(|s| {
            json!({
                "labels": key_values(&s.labels),
                "samples": s.samples.iter().map(|(t, v)| json!({
                    "timestampMs": t.to_string(),
                    "value": v,
                })).collect::<Vec<_>>(),
                "promLabels": prom_labels(&s.labels),
            })
        })
        .collect();
    json!({
        "series": series,
        "metrics": {
            "inspectedTraces": r.inspected_traces,
            "inspectedSpans": r.inspected_spans.to_string(),
        },
    })
}
