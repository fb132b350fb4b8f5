//! What the three span receivers (OTLP, Zipkin, Jaeger) share once their
//! bodies are decoded into [`Span`]s: the receiver's limits on attributes
//! (applied as the OpenTelemetry SDK applies its span limits), the append
//! through a [`TraceAppender`], the outcome in terms each protocol answers
//! with, and the `/metrics` counters.

use serde::Deserialize;
use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use sightline_core::traces::{AnyValue, Attributes, Span, SpanRefusal, TraceAppender};
use std::sync::atomic::{AtomicU64, Ordering};

/// Limits applied to each span at the receiver (`traces.limits`), with the
/// OpenTelemetry SDK's names and defaults. Attributes past a count limit are
/// dropped (the first ones kept) and counted in the span's, event's or
/// link's `dropped_attributes_count`; string values longer than
/// `max_attribute_value_length` characters are cut to it (elements of
/// arrays too), as the SDK does. `0` turns a limit off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpanLimits {
    pub max_attributes_per_span: usize,
    pub max_attribute_value_length: usize,
    pub max_events_per_span: usize,
    pub max_links_per_span: usize,
    pub max_attributes_per_event: usize,
    pub max_attributes_per_link: usize,
}

impl Default for SpanLimits {
    /// The SDK's defaults: 128 of each, values of any length.
    fn default() -> Self {
        SpanLimits {
            max_attributes_per_span: 128,
            max_attribute_value_length: 0,
            max_events_per_span: 128,
            max_links_per_span: 128,
            max_attributes_per_event: 128,
            max_attributes_per_link: 128,
        }
    }
}

fn truncate_str(s: &mut String, max_chars: usize) {
    if s.len() <= max_chars {
        return;
    }
    if let Some((i, _)) = s.char_indices().nth(max_chars) {
        s.truncate(i);
    }
}

fn truncate_value(v: &mut AnyValue, max_chars: usize) {
    match v {
        AnyValue::Str(s) => truncate_str(s, max_chars),
        AnyValue::Array(a) => a.iter_mut().for_each(|e| truncate_value(e, max_chars)),
        _ => {}
    }
}

/// Cuts `attrs` to `max` entries (0: no limit) and long values; returns
/// how many entries were dropped.
fn limit_attributes(attrs: &mut Attributes, max: usize, max_len: usize) -> u32 {
    let mut dropped = 0;
    if max > 0 && attrs.len() > max {
        dropped = (attrs.len() - max) as u32;
        attrs.truncate(max);
    }
    if max_len > 0 {
        for (_, v) in attrs.iter_mut() {
            truncate_value(v, max_len);
        }
    }
    dropped
}

impl SpanLimits {
    /// Applies the limits to `span`.
    pub fn apply(&self, span: &mut Span) {
        let len = self.max_attribute_value_length;
        span.dropped_attributes_count +=
            limit_attributes(&mut span.attributes, self.max_attributes_per_span, len);
        if self.max_events_per_span > 0 && span.events.len() > self.max_events_per_span {
            span.dropped_events_count += (span.events.len() - self.max_events_per_span) as u32;
            span.events.truncate(self.max_events_per_span);
        }
        if self.max_links_per_span > 0 && span.links.len() > self.max_links_per_span {
            span.dropped_links_count += (span.links.len() - self.max_links_per_span) as u32;
            span.links.truncate(self.max_links_per_span);
        }
        for e in &mut span.events {
            e.dropped_attributes_count +=
                limit_attributes(&mut e.attributes, self.max_attributes_per_event, len);
        }
        for l in &mut span.links {
            l.dropped_attributes_count +=
                limit_attributes(&mut l.attributes, self.max_attributes_per_link, len);
        }
    }
}

/// The protocol a span batch came in, for counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceProtocol {
    Otlp = 0,
    Zipkin = 1,
    Jaeger = 2,
}

const PROTOCOLS: [&str; 3] = ["otlp", "zipkin", "jaeger"];

/// What became of a batch, in the terms the receivers answer with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceOutcome {
    /// 200 (all or part kept; `rejected` says how many were not), 429 or
    /// 503 (retryable: nothing was kept, send it all again), 400 (the whole
    /// batch is permanently refused), 500 (the store failed).
    pub status: u16,
    /// Spans written.
    pub accepted: usize,
    /// Spans not written (invalid or refused by the store), for OTLP's
    /// `partial_success.rejected_spans`.
    pub rejected: usize,
    /// Why spans were not written; empty when all were.
    pub message: String,
}

impl TraceOutcome {
    /// Whether the client should send the batch again later.
    pub fn retryable(&self) -> bool {
        self.status == 429 || self.status == 503
    }
}

fn refusal_text(r: &SpanRefusal) -> String {
    match r {
        SpanRefusal::RateLimited {
            spans,
            limit_bytes_per_s,
        } => format!(
            "{spans} spans refused: ingestion rate limit ({limit_bytes_per_s} bytes/s) exceeded"
        ),
        SpanRefusal::TraceRateLimited {
            spans,
            limit_traces_per_s,
        } => format!(
            "{spans} spans refused: new traces rate limit ({limit_traces_per_s} traces/s) exceeded"
        ),
        SpanRefusal::SpanTooLarge {
            trace_id,
            span_id,
            bytes,
            limit,
        } => format!(
            "span {span_id} of trace {trace_id} refused: {bytes} bytes, larger than max_span_bytes ({limit})"
        ),
        SpanRefusal::TraceTooLarge {
            trace_id,
            spans,
            limit,
        } => format!(
            "{spans} spans of trace {trace_id} refused: the trace would exceed max_bytes_per_trace ({limit})"
        ),
        SpanRefusal::TooOld { spans } => {
            format!("{spans} spans refused: they end before the retention window")
        }
    }
}

/// Applies `limits` and appends `spans` for `tenant`. `invalid` spans were
/// already dropped by the decoder (OTLP: bad ids), with `invalid_message`
/// saying why; they count as rejected.
pub fn write_spans(
    mut spans: Vec<Span>,
    invalid: usize,
    invalid_message: &str,
    tenant: &str,
    limits: &SpanLimits,
    appender: &dyn TraceAppender,
) -> TraceOutcome {
    let mut message = invalid_message.to_owned();
    if spans.is_empty() {
        return TraceOutcome {
            status: 200,
            accepted: 0,
            rejected: invalid,
            message,
        };
    }
    for s in &mut spans {
        limits.apply(s);
    }
    let total = spans.len();
    let report = match appender.append(tenant, spans) {
        Ok(r) => r,
        Err(e) => {
            let status = match e.kind() {
                sightline_core::ErrorKind::Unavailable
                | sightline_core::ErrorKind::Timeout
                | sightline_core::ErrorKind::Canceled => 503,
                _ => 500,
            };
            return TraceOutcome {
                status,
                accepted: 0,
                rejected: total + invalid,
                message: format!("writing spans: {e}"),
            };
        }
    };
    let texts: Vec<String> = report.refused.iter().map(refusal_text).collect();
    if !texts.is_empty() {
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(&texts.join("; "));
    }
    // OTLP's partial success is for data the client must not send again;
    // a retryable refusal of the whole batch is a 429 so the client retries
    // it all. When part was kept, retrying would duplicate it: the
    // retryable rest is reported as rejected instead.
    let status = if report.accepted == 0
        && invalid == 0
        && !report.refused.is_empty()
        && report.refused.iter().all(SpanRefusal::retryable)
    {
        429
    } else {
        200
    };
    TraceOutcome {
        status,
        accepted: report.accepted,
        rejected: report.rejected() + invalid,
        message,
    }
}

#[derive(Debug, Default)]
struct Row {
    requests: AtomicU64,
    requests_failed: AtomicU64,
    received: AtomicU64,
    rejected: AtomicU64,
}

/// Counters of the span receivers, by protocol, for `/metrics`.
#[derive(Debug, Default)]
pub struct TraceIngestCounters {
    rows: [Row; 3],
}

impl TraceIngestCounters {
    /// Counts one request and what became of its spans.
    pub fn record(&self, protocol: TraceProtocol, out: &TraceOutcome) {
        let r = &self.rows[protocol as usize];
        r.requests.fetch_add(1, Ordering::Relaxed);
        if out.status != 200 {
            r.requests_failed.fetch_add(1, Ordering::Relaxed);
        }
        r.received.fetch_add(out.accepted as u64, Ordering::Relaxed);
        r.rejected.fetch_add(out.rejected as u64, Ordering::Relaxed);
    }

    /// Counts a request refused before its spans could be read.
    pub fn record_unreadable(&self, protocol: TraceProtocol) {
        let r = &self.rows[protocol as usize];
        r.requests.fetch_add(1, Ordering::Relaxed);
        r.requests_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Spans written so far over `protocol`, for tests.
    pub fn received(&self, protocol: TraceProtocol) -> u64 {
        self.rows[protocol as usize]
            .received
            .load(Ordering::Relaxed)
    }
}

type Column = (&'static str, &'static str, fn(&Row) -> &AtomicU64);

impl Telemetry for TraceIngestCounters {
    fn report(&self, out: &mut Report) {
        let families: [Column; 4] = [
            (
                "sightline_traces_requests",
                "Span batches received (OTLP, Zipkin and Jaeger requests).",
                |r| &r.requests,
            ),
            (
                "sightline_traces_requests_failed",
                "Span batches answered with an error (nothing kept).",
                |r| &r.requests_failed,
            ),
            (
                "sightline_traces_received_spans",
                "Spans written to the trace store.",
                |r| &r.received,
            ),
            (
                "sightline_traces_rejected_spans",
                "Spans not written (invalid, or refused by the store's limits).",
                |r| &r.rejected,
            ),
        ];
        for (name, help, get) in families {
            let f = out.family(name, help, MetricKind::Counter);
            for (i, p) in PROTOCOLS.iter().enumerate() {
                f.point(
                    &[("protocol", p)],
                    get(&self.rows[i]).load(Ordering::Relaxed) as f64,
                );
            }
        }
    }
}
