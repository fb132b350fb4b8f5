//! A Jaeger `Batch` onto the OpenTelemetry model, as the OpenTelemetry
//! Collector's jaeger receiver maps it:
//!
//! - The process's `serviceName` is the resource's `service.name`, its
//!   tags the other resource attributes (types kept); every span of the
//!   batch shares that resource.
//! - Ids: `traceIdHigh`/`traceIdLow` and `spanId` as big-endian bytes.
//! - The parent is `parentSpanId`, or when it is 0 the first `CHILD_OF`
//!   reference within the same trace. The other references are links, with
//!   an `opentracing.ref_type` attribute (`child_of`, `follows_from`).
//! - `startTime` and `duration` (µs) give the start and end.
//! - Tags are attributes with their types, except `span.kind` (the kind),
//!   `otel.status_code`/`otel.status_description` and `error` (the status),
//!   `otel.scope.*`/`otel.library.*` (the scope) and `w3c.tracestate`.
//! - Logs are events at their time, named by their `event` field, the
//!   other fields their attributes.

use super::batch::{Batch, JSpan};
use crate::zipkin::map::{take_special_tags, Interner};
use sightline_core::traces::{
    AnyValue, Resource, Span, SpanEvent, SpanId, SpanKind, SpanLink, TraceId,
};
use std::sync::Arc;

fn kind(tag: Option<&str>) -> SpanKind {
    match tag {
        Some("client") => SpanKind::Client,
        Some("server") => SpanKind::Server,
        Some("producer") => SpanKind::Producer,
        Some("consumer") => SpanKind::Consumer,
        Some("internal") => SpanKind::Internal,
        _ => SpanKind::Unspecified,
    }
}

fn micros_to_ns(us: i64) -> i64 {
    us.saturating_mul(1000)
}

fn span(
    i: usize,
    s: JSpan,
    resource: &Arc<Resource>,
    interner: &mut Interner,
) -> Result<Span, String> {
    let trace_id = TraceId::from_halves(s.trace_id_high as u64, s.trace_id_low as u64);
    if trace_id.is_zero() {
        return Err(format!(
            "spans[{i}].traceIdLow/traceIdHigh: zero, which is invalid"
        ));
    }
    if s.span_id == 0 {
        return Err(format!("spans[{i}].spanId: zero, which is invalid"));
    }
    let mut parent = (s.parent_span_id != 0).then(|| SpanId::from_u64(s.parent_span_id as u64));
    if parent.is_none() {
        parent = s
            .references
            .iter()
            .find(|r| {
                r.ref_type == 0
                    && r.span_id != 0
                    && TraceId::from_halves(r.trace_id_high as u64, r.trace_id_low as u64)
                        == trace_id
            })
            .map(|r| SpanId::from_u64(r.span_id as u64));
    }
    let mut links = Vec::new();
    for r in &s.references {
        let t = TraceId::from_halves(r.trace_id_high as u64, r.trace_id_low as u64);
        let sid = SpanId::from_u64(r.span_id as u64);
        if t == trace_id && Some(sid) == parent {
            continue;
        }
        if t.is_zero() || sid.is_zero() {
            continue;
        }
        let ref_type = if r.ref_type == 1 {
            "follows_from"
        } else {
            "child_of"
        };
        links.push(SpanLink {
            trace_id: t,
            span_id: sid,
            attributes: vec![(
                "opentracing.ref_type".into(),
                AnyValue::Str(ref_type.into()),
            )],
            ..SpanLink::default()
        });
    }
    let mut attributes = s.tags;
    let special = take_special_tags(&mut attributes, false);
    let start_ns = micros_to_ns(s.start_time_us);
    Ok(Span {
        trace_id,
        span_id: SpanId::from_u64(s.span_id as u64),
        parent_span_id: parent,
        trace_state: special.trace_state,
        name: s.operation_name,
        kind: kind(special.kind.as_deref()),
        start_ns,
        end_ns: start_ns.saturating_add(micros_to_ns(s.duration_us)),
        attributes,
        events: s
            .logs
            .into_iter()
            .map(|l| {
                let mut name = String::new();
                let attributes = l
                    .fields
                    .into_iter()
                    .filter_map(|(k, v)| {
                        if k == "event" && name.is_empty() {
                            name = v.to_text();
                            None
                        } else {
                            Some((k, v))
                        }
                    })
                    .collect();
                SpanEvent {
                    time_ns: micros_to_ns(l.timestamp_us),
                    name,
                    attributes,
                    dropped_attributes_count: 0,
                }
            })
            .collect(),
        links,
        status_code: special.status_code,
        status_message: special.status_message,
        resource: resource.clone(),
        scope: interner.scope(special.scope_name, special.scope_version),
        ..Span::default()
    })
}

/// Maps a batch; a span with a zero id refuses it.
pub fn to_spans(b: Batch) -> Result<Vec<Span>, String> {
    let service = if b.process.service_name.is_empty() {
        "unknown_service".to_owned()
    } else {
        b.process.service_name
    };
    let mut attributes = vec![("service.name".to_owned(), AnyValue::Str(service))];
    attributes.extend(
        b.process
            .tags
            .into_iter()
            .filter(|(k, _)| k != "service.name"),
    );
    let resource = Arc::new(Resource {
        attributes,
        dropped_attributes_count: 0,
    });
    let mut interner = Interner::default();
    b.spans
        .into_iter()
        .enumerate()
        .map(|(i, s)| span(i, s, &resource, &mut interner))
        .collect()
}
