//! The span intakes through `Router::oneshot` (issue 16): OTLP/HTTP
//! (`/v1/traces`), Zipkin (`/api/v2/spans`) and Jaeger (`/api/traces`),
//! read back through the `MemTraceStore` they write to.

use super::*;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use prost::Message;
use sightline_core::traces::{
    MemTraceStore, SpanKind, SpanRefusal, StatusCode, TraceAppendReport, TraceId, TraceQuerier,
};
use sightline_ingest::otlp::proto::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use sightline_ingest::otlp::proto::trace::v1::{ResourceSpans, ScopeSpans, Span as PSpan};
use std::io::Write;
use tower::ServiceExt;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn app(store: Arc<dyn TraceAppender>) -> (Router, Arc<TraceIngestCounters>) {
    let counters = Arc::new(TraceIngestCounters::default());
    let state = TracesState::new(store, SpanLimits::default(), counters.clone());
    let r = Router::new()
        .merge(traces_router(state.clone()))
        .merge(crate::zipkin::ingest::ingest_router(state.clone()))
        .merge(crate::jaeger::ingest::ingest_router(state));
    (r, counters)
}

async fn post(
    app: &Router,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, HeaderMap, Vec<u8>) {
    let mut b = Request::post(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let r = app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = r.status().as_u16();
    let h = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, h, body)
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn otlp_request(span_ids: &[u8]) -> ExportTraceServiceRequest {
    let tid = TraceId::parse_hex(TRACE).unwrap().0.to_vec();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: span_ids
                    .iter()
                    .map(|&i| PSpan {
                        trace_id: tid.clone(),
                        span_id: vec![0, 0, 0, 0, 0, 0, 0, i],
                        name: format!("s{i}"),
                        kind: 2,
                        start_time_unix_nano: 1_000,
                        end_time_unix_nano: 2_000,
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn tid() -> TraceId {
    TraceId::parse_hex(TRACE).unwrap()
}

#[tokio::test]
async fn otlp_protobuf_json_and_gzip_arrive_per_tenant() {
    let store = Arc::new(MemTraceStore::new());
    let (app, counters) = app(store.clone());
    let pb = otlp_request(&[1, 2]).encode_to_vec();
    let (st, h, body) = post(
        &app,
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        pb.clone(),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(h["content-type"], "application/x-protobuf");
    assert!(ExportTraceServiceResponse::decode(&body[..])
        .unwrap()
        .partial_success
        .is_none());
    let (st, _, _) = post(
        &app,
        "/v1/traces",
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
            ("x-scope-orgid", "team-a"),
        ],
        gzip(&pb),
    )
    .await;
    assert_eq!(st, 200);
    let json = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{TRACE}","spanId":"0000000000000003","name":"j","kind":"SPAN_KIND_CLIENT"}}]}}]}}]}}"#
    );
    let (st, h, body) = post(
        &app,
        "/v1/traces",
        &[("content-type", "application/json")],
        json.into_bytes(),
    )
    .await;
    assert_eq!((st, &body[..]), (200, &b"{}"[..]));
    assert_eq!(h["content-type"], "application/json");
    let fake = store.trace("fake", tid(), None).unwrap();
    assert_eq!(fake.len(), 3);
    assert!(fake
        .iter()
        .any(|s| s.name == "j" && s.kind == SpanKind::Client));
    assert_eq!(store.trace("team-a", tid(), None).unwrap().len(), 2);
    assert_eq!(counters.received(TraceProtocol::Otlp), 5);
}

#[tokio::test]
async fn otlp_errors_as_the_spec_says() {
    let store = Arc::new(MemTraceStore::new());
    let (app, _) = app(store.clone());
    let (st, _, body) = post(
        &app,
        "/v1/traces",
        &[("content-type", "text/plain")],
        vec![],
    )
    .await;
    assert_eq!(st, 415);
    assert!(String::from_utf8_lossy(&body).contains("unsupported Content-Type"));
    let (st, _, body) = post(
        &app,
        "/v1/traces",
        &[("content-type", "application/json")],
        b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":\"zz\"}]}]}]}".to_vec(),
    )
    .await;
    assert_eq!(st, 400);
    let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(j["code"], 3);
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("resourceSpans[0].scopeSpans[0].spans[0].spanId: expected a hex string"),
        "{j}"
    );
    let (st, _, _) = post(
        &app,
        "/v1/traces",
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "zstd"),
        ],
        vec![],
    )
    .await;
    assert_eq!(st, 415);
    let (st, _, body) = post(
        &app,
        "/v1/traces",
        &[
            ("content-type", "application/json"),
            ("x-scope-orgid", "bad/tenant"),
        ],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(st, 400);
    assert!(String::from_utf8_lossy(&body).contains("unsupported character '/'"));
    // A span with a bad id: partial success, the rest kept.
    let mut req = otlp_request(&[1, 2]);
    req.resource_spans[0].scope_spans[0].spans[1].trace_id = vec![1; 3];
    let (st, _, body) = post(
        &app,
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        req.encode_to_vec(),
    )
    .await;
    assert_eq!(st, 200);
    let p = ExportTraceServiceResponse::decode(&body[..])
        .unwrap()
        .partial_success
        .unwrap();
    assert_eq!(p.rejected_spans, 1);
    assert!(
        p.error_message
            .contains("spans[1].traceId: 3 bytes, want 16"),
        "{}",
        p.error_message
    );
    assert_eq!(store.trace("fake", tid(), None).unwrap().len(), 1);
}

struct RateLimited;

impl TraceAppender for RateLimited {
    fn append(&self, _: &str, spans: Vec<Span>) -> sightline_core::Result<TraceAppendReport> {
        Ok(TraceAppendReport {
            accepted: 0,
            refused: vec![SpanRefusal::RateLimited {
                spans: spans.len(),
                limit_bytes_per_s: 10,
            }],
        })
    }
}

#[tokio::test]
async fn store_rate_limits_are_retryable() {
    let (app, counters) = app(Arc::new(RateLimited));
    let (st, h, body) = post(
        &app,
        "/v1/traces",
        &[("content-type", "application/json")],
        serde_json::to_vec(
            &serde_json::json!({"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId": TRACE, "spanId": "0000000000000001"}]}]}]}),
        )
        .unwrap(),
    )
    .await;
    assert_eq!(st, 429);
    assert_eq!(h["retry-after"], "1");
    let j: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(j["code"], 8);
    let (st, h, _) = post(
        &app,
        "/api/v2/spans",
        &[("content-type", "application/json")],
        format!(r#"[{{"traceId":"{TRACE}","id":"0000000000000001"}}]"#).into_bytes(),
    )
    .await;
    assert_eq!(st, 429);
    assert_eq!(h["retry-after"], "1");
    let mut r = sightline_core::telemetry::Report::default();
    sightline_core::telemetry::Telemetry::report(&*counters, &mut r);
    let failed = r
        .families()
        .iter()
        .find(|f| f.name == "sightline_traces_requests_failed")
        .unwrap();
    assert_eq!(
        failed.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![1.0, 1.0, 0.0]
    );
}

#[tokio::test]
async fn zipkin_json_proto_and_errors() {
    let store = Arc::new(MemTraceStore::new());
    let (app, counters) = app(store.clone());
    let body = format!(
        r#"[{{"traceId":"{TRACE}","id":"0000000000000001","name":"get","kind":"SERVER","timestamp":1,"duration":2,
             "localEndpoint":{{"serviceName":"web"}},"tags":{{"error":"boom"}}}}]"#
    );
    let (st, _, resp) = post(&app, "/api/v2/spans", &[], body.clone().into_bytes()).await;
    assert_eq!((st, resp.len()), (202, 0));
    let (st, _, _) = post(
        &app,
        "/api/v2/spans",
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
            ("x-scope-orgid", "z"),
        ],
        gzip(body.as_bytes()),
    )
    .await;
    assert_eq!(st, 202);
    let list = sightline_ingest::zipkin::proto::ListOfSpans {
        spans: vec![sightline_ingest::zipkin::proto::PSpan {
            trace_id: tid().0.to_vec(),
            id: vec![0, 0, 0, 0, 0, 0, 0, 2],
            parent_id: vec![0, 0, 0, 0, 0, 0, 0, 1],
            name: "db".into(),
            kind: 1,
            ..Default::default()
        }],
    };
    let (st, _, _) = post(
        &app,
        "/api/v2/spans",
        &[("content-type", "application/x-protobuf")],
        list.encode_to_vec(),
    )
    .await;
    assert_eq!(st, 202);
    let spans = store.trace("fake", tid(), None).unwrap();
    assert_eq!(spans.len(), 2);
    let root = spans.iter().find(|s| s.is_root()).unwrap();
    assert_eq!(
        (root.service_name(), root.status_code),
        ("web", StatusCode::Error)
    );
    assert_eq!(root.status_message, "boom");
    let child = spans.iter().find(|s| !s.is_root()).unwrap();
    assert_eq!(
        (child.kind, child.parent_span_id),
        (SpanKind::Client, Some(root.span_id))
    );
    assert_eq!(store.trace("z", tid(), None).unwrap().len(), 1);
    assert_eq!(counters.received(TraceProtocol::Zipkin), 3);

    let (st, h, msg) = post(&app, "/api/v2/spans", &[], br#"[{"traceId":"1"}]"#.to_vec()).await;
    assert_eq!(st, 400);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        String::from_utf8_lossy(&msg),
        "decoding Zipkin v2 spans: [0].id: missing"
    );
    let (st, _, _) = post(
        &app,
        "/api/v2/spans",
        &[("content-type", "application/x-thrift")],
        vec![],
    )
    .await;
    assert_eq!(st, 415);
    assert_eq!(store.trace("fake", tid(), None).unwrap().len(), 2);
}

/// A Jaeger `Batch` of service `svc` with one span (trace TRACE, span 5),
/// in Thrift's binary protocol, written byte by byte from jaeger.thrift.
fn jaeger_batch() -> Vec<u8> {
    let t = tid();
    let mut b = vec![12, 0, 1]; // field 1: Process (struct)
    b.extend([11, 0, 1, 0, 0, 0, 3]); // serviceName: string
    b.extend(b"svc");
    b.push(0); // end of Process
    b.extend([15, 0, 2, 12, 0, 0, 0, 1]); // field 2: list<Span>, one
    b.extend([10, 0, 1]);
    b.extend((t.low() as i64).to_be_bytes()); // traceIdLow
    b.extend([10, 0, 2]);
    b.extend((t.high() as i64).to_be_bytes()); // traceIdHigh
    b.extend([10, 0, 3]);
    b.extend(5i64.to_be_bytes()); // spanId
    b.extend([10, 0, 4]);
    b.extend(0i64.to_be_bytes()); // parentSpanId
    b.extend([11, 0, 5, 0, 0, 0, 2]);
    b.extend(b"op"); // operationName
    b.extend([10, 0, 8]);
    b.extend(1_700_000_000_000_000i64.to_be_bytes()); // startTime
    b.extend([10, 0, 9]);
    b.extend(3i64.to_be_bytes()); // duration
    b.push(0); // end of Span
    b.push(0); // end of Batch
    b
}

#[tokio::test]
async fn jaeger_thrift_and_errors() {
    let store = Arc::new(MemTraceStore::new());
    let (app, counters) = app(store.clone());
    let (st, _, resp) = post(
        &app,
        "/api/traces",
        &[
            ("content-type", "application/x-thrift"),
            ("x-scope-orgid", "j"),
        ],
        jaeger_batch(),
    )
    .await;
    assert_eq!((st, resp.len()), (202, 0));
    let spans = store.trace("j", tid(), None).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        (
            spans[0].name.as_str(),
            spans[0].service_name(),
            spans[0].duration_ns()
        ),
        ("op", "svc", 3000)
    );
    assert_eq!(spans[0].span_id.as_u64(), 5);
    assert_eq!(counters.received(TraceProtocol::Jaeger), 1);
    let mut cut = jaeger_batch();
    cut.truncate(30);
    let (st, _, msg) = post(
        &app,
        "/api/traces",
        &[("content-type", "application/x-thrift")],
        cut,
    )
    .await;
    assert_eq!(st, 400);
    let msg = String::from_utf8_lossy(&msg);
    // Process: 14 bytes, list header: 8, field header: 3; the cut leaves
    // 5 of traceIdLow's 8 bytes.
    assert_eq!(
        msg,
        "decoding jaeger.thrift Batch: offset 25: Batch.spans[0].traceIdLow: body ends after 5 bytes, 8 needed"
    );
    let (st, _, _) = post(
        &app,
        "/api/traces",
        &[("content-type", "application/json")],
        vec![],
    )
    .await;
    assert_eq!(st, 415);
    assert_eq!(store.trace("fake", tid(), None).unwrap().len(), 0);
}

/// The read APIs (Jaeger's `GET /api/traces`, Zipkin's `GET
/// /api/v2/spans`) share these paths: routers merged with a GET on the
/// same path must keep both methods.
#[tokio::test]
async fn intakes_merge_with_reads_on_the_same_paths() {
    use axum::routing::get;
    let (intakes, _) = app(Arc::new(MemTraceStore::new()));
    let reads = Router::new()
        .route("/api/traces", get(|| async { "jaeger read" }))
        .route("/api/v2/spans", get(|| async { "zipkin read" }));
    let app = intakes.merge(reads);
    for (path, want) in [
        ("/api/traces", "jaeger read"),
        ("/api/v2/spans", "zipkin read"),
    ] {
        let r = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], want.as_bytes());
    }
    let (st, _, _) = post(
        &app,
        "/api/traces",
        &[("content-type", "application/x-thrift")],
        jaeger_batch(),
    )
    .await;
    assert_eq!(st, 202);
}
