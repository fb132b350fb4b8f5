//! Tempo's streaming search over gRPC (`tempopb.StreamingQuerier/Search`),
//! which Grafana's Tempo data source calls on the HTTP port (HTTP/2 without
//! TLS, "h2c") when its "Streaming" setting is on for search.
//!
//! The messages are written here with the field numbers of Tempo's
//! `tempo.proto` (read from its documentation; no code taken): one
//! `SearchRequest` in, a stream of `SearchResponse` out. We answer with one
//! message holding every trace and then end the stream: Grafana shows the
//! traces gathered when the stream ends, whether it adds messages together
//! (Tempo 2.5 and later send the new traces in each) or keeps the last.
//!
//! The tenant is the `x-scope-orgid` metadata, as Tempo reads it.

use super::TempoState;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use sightline_traceql::ast::{format_duration, Static};
use sightline_traceql::{SearchResult, SpansetResult, TraceResult};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codegen::{http, BoxFuture, Service};
use tonic::{Request, Response, Status};

/// `tempopb.SearchRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchRequest {
    /// The older tag search (`key=value`), used when `query` is empty.
    #[prost(map = "string, string", tag = "1")]
    pub tags: HashMap<String, String>,
    #[prost(uint32, tag = "2")]
    pub min_duration_ms: u32,
    #[prost(uint32, tag = "3")]
    pub max_duration_ms: u32,
    #[prost(uint32, tag = "4")]
    pub limit: u32,
    /// Unix seconds.
    #[prost(uint32, tag = "5")]
    pub start: u32,
    #[prost(uint32, tag = "6")]
    pub end: u32,
    /// TraceQL.
    #[prost(string, tag = "8")]
    pub query: String,
    #[prost(uint32, tag = "9")]
    pub spans_per_span_set: u32,
}

/// `tempopb.SearchResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchResponse {
    #[prost(message, repeated, tag = "1")]
    pub traces: Vec<TraceSearchMetadata>,
    #[prost(message, optional, tag = "2")]
    pub metrics: Option<SearchMetrics>,
}

/// `tempopb.TraceSearchMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TraceSearchMetadata {
    /// Hex, leading zeros left off as Tempo prints them.
    #[prost(string, tag = "1")]
    pub trace_id: String,
    #[prost(string, tag = "2")]
    pub root_service_name: String,
    #[prost(string, tag = "3")]
    pub root_trace_name: String,
    #[prost(uint64, tag = "4")]
    pub start_time_unix_nano: u64,
    #[prost(uint32, tag = "5")]
    pub duration_ms: u32,
    /// The first spanset, for clients before `span_sets` existed.
    #[prost(message, optional, tag = "6")]
    pub span_set: Option<SpanSet>,
    #[prost(message, repeated, tag = "7")]
    pub span_sets: Vec<SpanSet>,
}

/// `tempopb.SpanSet`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SpanSet {
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<Span>,
    #[prost(uint32, tag = "2")]
    pub matched: u32,
    #[prost(message, repeated, tag = "3")]
    pub attributes: Vec<KeyValue>,
}

/// `tempopb.Span` (a search result's span, not OTLP's).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Span {
    #[prost(string, tag = "1")]
    pub span_id: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(uint64, tag = "3")]
    pub start_time_unix_nano: u64,
    #[prost(uint64, tag = "4")]
    pub duration_nanos: u64,
    #[prost(message, repeated, tag = "5")]
    pub attributes: Vec<KeyValue>,
}

/// `tempopb.SearchMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchMetrics {
    #[prost(uint32, tag = "1")]
    pub inspected_traces: u32,
    #[prost(uint64, tag = "2")]
    pub inspected_bytes: u64,
    #[prost(uint32, tag = "3")]
    pub total_blocks: u32,
    #[prost(uint32, tag = "4")]
    pub completed_jobs: u32,
    #[prost(uint32, tag = "5")]
    pub total_jobs: u32,
    #[prost(uint64, tag = "6")]
    pub total_block_bytes: u64,
    #[prost(uint64, tag = "7")]
    pub inspected_spans: u64,
}

/// The gRPC path Grafana calls.
pub const SEARCH_PATH: &str = "/tempopb.StreamingQuerier/Search";

fn value(v: &Static) -> AnyValue {
    use any_value::Value as V;
    let v = match v {
        Static::Nil => None,
        Static::Int(i) => Some(V::IntValue(*i)),
        Static::Float(f) => Some(V::DoubleValue(*f)),
        Static::Str(s) => Some(V::StringValue(s.clone())),
        Static::Bool(b) => Some(V::BoolValue(*b)),
        // As the JSON answer: durations, statuses and kinds as text.
        Static::Duration(d) => Some(V::StringValue(format_duration(*d))),
        Static::Status(s) => Some(V::StringValue(s.name().to_owned())),
        Static::Kind(k) => Some(V::StringValue(k.name().to_owned())),
    };
    AnyValue { value: v }
}

fn key_values(attrs: &[(String, Static)]) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(value(v)),
        })
        .collect()
}

fn span_set(s: &SpansetResult) -> SpanSet {
    SpanSet {
        spans: s
            .spans
            .iter()
            .map(|sp| Span {
                span_id: sp.span_id.clone(),
                name: sp.name.clone(),
                start_time_unix_nano: sp.start_ns.max(0) as u64,
                duration_nanos: sp.duration_ns.max(0) as u64,
                attributes: key_values(&sp.attributes),
            })
            .collect(),
        matched: s.matched.min(u32::MAX as usize) as u32,
        attributes: key_values(&s.attributes),
    }
}

fn trace(t: &TraceResult) -> TraceSearchMetadata {
    let sets: Vec<SpanSet> = t.span_sets.iter().map(span_set).collect();
    TraceSearchMetadata {
        trace_id: t.trace_id.to_string(),
        root_service_name: t.root_service_name.clone(),
        root_trace_name: t.root_trace_name.clone(),
        start_time_unix_nano: t.start_ns.max(0) as u64,
        duration_ms: t.duration_ms.min(u32::MAX as u64) as u32,
        span_set: sets.first().cloned(),
        span_sets: sets,
    }
}

/// A search answer as `tempopb.SearchResponse`.
pub fn search_response(r: &SearchResult) -> SearchResponse {
    SearchResponse {
        traces: r.traces.iter().map(trace).collect(),
        metrics: Some(SearchMetrics {
            inspected_traces: r.inspected_traces.min(u32::MAX as u64) as u32,
            inspected_spans: r.inspected_spans,
            completed_jobs: 1,
            total_jobs: 1,
            ..Default::default()
        }),
    }
}

/// The request as the HTTP search's parameters: (TraceQL, start ns, end
/// ns, limit, spans per spanset).
fn plan(req: &SearchRequest) -> Result<(String, i64, i64, usize, usize), String> {
    let query = if !req.query.trim().is_empty() {
        req.query.clone()
    } else {
        let mut pairs: Vec<(String, String)> = req
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        let ms = |m: u32| (m > 0).then(|| format!("{m}ms"));
        super::search::pairs_to_traceql(
            pairs,
            ms(req.min_duration_ms).as_deref(),
            ms(req.max_duration_ms).as_deref(),
        )?
    };
    let now = crate::loki::now_ns();
    let end = if req.end > 0 {
        req.end as i64 * 1_000_000_000
    } else {
        now
    };
    let start = if req.start > 0 {
        req.start as i64 * 1_000_000_000
    } else {
        end - 3600 * 1_000_000_000
    };
    if start > end {
        return Err("invalid start: start must not be after end".into());
    }
    let limit = match req.limit {
        0 => super::search::DEFAULT_LIMIT,
        n => n as usize,
    };
    let spss = match req.spans_per_span_set {
        0 => super::search::DEFAULT_SPSS,
        n => n as usize,
    };
    Ok((query, start, end, limit, spss))
}

type ResponseStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<SearchResponse, Status>> + Send>>;

#[derive(Clone)]
struct SearchCall(TempoState);

impl tonic::server::ServerStreamingService<SearchRequest> for SearchCall {
    type Response = SearchResponse;
    type ResponseStream = ResponseStream;
    type Future = BoxFuture<Response<ResponseStream>, Status>;

    fn call(&mut self, request: Request<SearchRequest>) -> Self::Future {
        let st = self.0.clone();
        Box::pin(async move {
            let tenant = crate::tenant::tenant_of_metadata(request.metadata())
                .map_err(Status::invalid_argument)?;
            let (query, start, end, limit, spss) =
                plan(request.get_ref()).map_err(Status::invalid_argument)?;
            let res = tokio::task::spawn_blocking(move || {
                sightline_traceql::search(
                    st.querier.as_ref(),
                    &tenant,
                    &query,
                    start,
                    end,
                    limit,
                    spss,
                )
            })
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
            let r = res.map_err(|e| match e.http_status() {
                400 => Status::invalid_argument(e.to_string()),
                _ => Status::internal(e.to_string()),
            })?;
            let one = search_response(&r);
            let stream: ResponseStream = Box::pin(tokio_stream::once(Ok(one)));
            Ok(Response::new(stream))
        })
    }
}

/// The `tempopb.StreamingQuerier` service (its `Search` method; the
/// others answer `UNIMPLEMENTED`).
#[derive(Clone)]
pub struct StreamingQuerier {
    state: TempoState,
}

impl tonic::server::NamedService for StreamingQuerier {
    const NAME: &'static str = "tempopb.StreamingQuerier";
}

impl<B> Service<http::Request<B>> for StreamingQuerier
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() == SEARCH_PATH {
            let call = SearchCall(self.state.clone());
            let fut = async move {
                let mut grpc = tonic::server::Grpc::new(tonic::codec::ProstCodec::default());
                Ok(grpc.server_streaming(call, req).await)
            };
            return Box::pin(fut) as Pin<Box<dyn Future<Output = _> + Send>>;
        }
        let path = req.uri().path().to_owned();
        Box::pin(async move {
            Ok(
                Status::unimplemented(format!("{path} is not served: only Search streams"))
                    .into_http(),
            )
        })
    }
}

/// The streaming querier as routes to merge into the HTTP router (gRPC
/// needs HTTP/2, which the server's listener accepts without TLS). Only
/// the service's own paths are routed: tonic's `Routes` would add a
/// fallback answering every unknown path with a gRPC status and HTTP 200.
pub fn streaming_routes(querier: Arc<dyn sightline_core::traces::TraceQuerier>) -> axum::Router {
    let svc = StreamingQuerier {
        state: TempoState { querier },
    };
    axum::Router::new().route_service("/tempopb.StreamingQuerier/{*method}", svc)
}
