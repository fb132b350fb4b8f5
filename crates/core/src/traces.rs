//! The trace storage seams, as [`crate::logs`] is for lines: what ingestion
//! (OTLP, Zipkin, Jaeger) writes spans through, and what TraceQL and the
//! Tempo, Jaeger and Zipkin APIs read through. The trace store implements
//! both; [`MemTraceStore`] does too, for tests of the query engine and the
//! receivers.
//!
//! The span model is OpenTelemetry's (every other format maps onto it, as
//! Tempo and Jaeger v2 map them): ids as bytes, times in nanoseconds since
//! the Unix epoch, typed attribute values, resource and instrumentation
//! scope shared by the spans of one batch. Every call names its tenant
//! (`X-Scope-OrgID`; [`crate::logs::DEFAULT_TENANT`] when multi-tenancy is
//! off).

mod mem;
mod model;

pub use mem::MemTraceStore;
pub use model::{
    attr, AnyValue, Attributes, IdError, Resource, Scope, Span, SpanEvent, SpanId, SpanKind,
    SpanLink, StatusCode, TraceId,
};

use crate::Result;

/// Why spans of an append were not kept, in terms the receivers turn into
/// each protocol's answer (OTLP: `partial_success` or 429/`RESOURCE_EXHAUSTED`;
/// Zipkin and Jaeger: 429 or 400).
#[derive(Debug, Clone, PartialEq)]
pub enum SpanRefusal {
    /// The tenant's ingestion rate (bytes per second) is exceeded; retryable.
    RateLimited {
        spans: usize,
        limit_bytes_per_s: u64,
    },
    /// The tenant's new-traces-per-second limit is exceeded; retryable.
    TraceRateLimited {
        spans: usize,
        limit_traces_per_s: u64,
    },
    /// One span larger than `max_span_bytes`; permanent.
    SpanTooLarge {
        trace_id: TraceId,
        span_id: SpanId,
        bytes: usize,
        limit: usize,
    },
    /// The trace would grow past `max_bytes_per_trace` (Tempo's limit of
    /// that name); permanent for these spans.
    TraceTooLarge {
        trace_id: TraceId,
        spans: usize,
        limit: usize,
    },
    /// Ends before the retention window; permanent.
    TooOld { spans: usize },
}

impl SpanRefusal {
    /// How many spans this refusal covers.
    pub fn spans(&self) -> usize {
        match self {
            SpanRefusal::RateLimited { spans, .. }
            | SpanRefusal::TraceRateLimited { spans, .. }
            | SpanRefusal::TraceTooLarge { spans, .. }
            | SpanRefusal::TooOld { spans } => *spans,
            SpanRefusal::SpanTooLarge { .. } => 1,
        }
    }

    /// Whether a client may send the same spans again later (OTLP's
    /// retryable errors).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            SpanRefusal::RateLimited { .. } | SpanRefusal::TraceRateLimited { .. }
        )
    }
}

/// What an append kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceAppendReport {
    /// Spans written (durably, before the call returns).
    pub accepted: usize,
    pub refused: Vec<SpanRefusal>,
}

impl TraceAppendReport {
    pub fn rejected(&self) -> usize {
        self.refused.iter().map(SpanRefusal::spans).sum()
    }
}

/// Writes spans. An `Ok` return means every accepted span is durable (in
/// the WAL): it survives `kill -9`.
pub trait TraceAppender: Send + Sync {
    fn append(&self, tenant: &str, spans: Vec<Span>) -> Result<TraceAppendReport>;
}

/// A condition the store may use to skip blocks and traces: a trace can
/// only be wanted if at least one of its spans satisfies it. The store may
/// check it loosely (per block, through dictionaries and min/max values),
/// and must never drop a trace that satisfies it.
#[derive(Debug, Clone, PartialEq)]
pub enum SpanPredicate {
    /// The resource's `service.name` equals this.
    ServiceName(String),
    /// The span's name equals this.
    SpanName(String),
    /// A string attribute equals `value`, or an array attribute holds a
    /// string element equal to it (TraceQL's `=` on arrays); span or
    /// resource attribute when `scope` is [`TagScope::Any`].
    AttrEquals {
        scope: TagScope,
        key: String,
        value: String,
    },
    /// The attribute exists, with any value.
    AttrExists {
        scope: TagScope,
        key: String,
    },
    /// `duration >= ns`.
    MinDuration(i64),
    /// `duration <= ns`.
    MaxDuration(i64),
    Status(StatusCode),
    Kind(SpanKind),
}

/// What a trace scan reads: the time range and what the caller will
/// filter on (so the store reads less).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceHints {
    /// Traces with a span overlapping `[start_ns, end_ns]` (both inclusive).
    pub start_ns: i64,
    pub end_ns: i64,
    /// Each must hold for at least one span of a wanted trace (a conjunction
    /// across the trace, not necessarily the same span).
    pub required: Vec<SpanPredicate>,
}

impl TraceHints {
    pub fn range(start_ns: i64, end_ns: i64) -> Self {
        TraceHints {
            start_ns,
            end_ns,
            required: Vec::new(),
        }
    }

    /// Whether `spans` (one trace) may satisfy the hints: some span in range
    /// and each predicate held by some span. Stores use this for the final
    /// check; it is exact, not loose.
    pub fn admits(&self, spans: &[Span]) -> bool {
        spans
            .iter()
            .any(|s| s.start_ns <= self.end_ns && s.end_ns >= self.start_ns)
            && self
                .required
                .iter()
                .all(|p| spans.iter().any(|s| s.satisfies(p)))
    }
}

/// Where an attribute lives: TraceQL's scopes and Tempo's tag scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagScope {
    Resource,
    Span,
    Event,
    Link,
    Instrumentation,
    /// Span or resource (TraceQL's unscoped `.name`).
    Any,
}

/// Reads spans back.
pub trait TraceQuerier: Send + Sync {
    /// Every span of trace `id`, merged from wherever they were written
    /// (late spans included), in no particular order; empty when unknown.
    /// `range` narrows the blocks searched (Tempo's `start`/`end` on trace
    /// by id); `None` searches everything.
    fn trace(&self, tenant: &str, id: TraceId, range: Option<(i64, i64)>) -> Result<Vec<Span>>;

    /// Calls `visit` with the spans of each trace that may satisfy `hints`
    /// (see [`TraceHints::admits`]), until it returns `false`. Traces come
    /// newest first where the store can tell cheaply; a trace whose spans
    /// were written far apart in time may come in parts restricted to the
    /// blocks overlapping the range.
    fn scan(
        &self,
        tenant: &str,
        hints: &TraceHints,
        visit: &mut dyn FnMut(Vec<Span>) -> bool,
    ) -> Result<()>;

    /// Attribute names in `scope` seen in range, sorted, at most `limit`.
    fn tag_names(
        &self,
        tenant: &str,
        scope: TagScope,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<String>>;

    /// Distinct values of attribute `key` in `scope` seen in range (arrays and
    /// maps left out, as Tempo leaves them), at most `limit`.
    fn tag_values(
        &self,
        tenant: &str,
        scope: TagScope,
        key: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<AnyValue>>;

    /// Services (resource `service.name`) seen in range, sorted.
    fn services(&self, tenant: &str, start_ns: i64, end_ns: i64) -> Result<Vec<String>>;

    /// Span names with their kinds, of `service` (all services when `None`),
    /// seen in range, sorted.
    fn operations(
        &self,
        tenant: &str,
        service: Option<&str>,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<(String, SpanKind)>>;
}
