//! Tempo's API against hand-written answers in Tempo's shapes (issue 16).

use crate::trace_fixture::{store, T0, TRACE};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn get_raw(path: &str, accept: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let res = super::query_routes(store())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

async fn get(path: &str) -> Value {
    let (st, body) = get_raw(path, None).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn trace_by_id_json_as_tempo_prints_it() {
    let v = get(&format!("/api/traces/{TRACE}")).await;
    let batches = v["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 2, "one per resource: frontend, api");
    assert_eq!(
        batches[0]["resource"],
        json!({"attributes": [
            {"key": "service.name", "value": {"stringValue": "frontend"}},
            {"key": "host.name", "value": {"stringValue": "fe-1"}},
        ]})
    );
    assert_eq!(
        batches[0]["scopeSpans"][0]["scope"],
        json!({"name": "io.opentelemetry.flask", "version": "0.42"})
    );
    let api = &batches[1];
    assert_eq!(
        api["resource"]["attributes"][1],
        json!({"key": "k8s.pod.uid", "value": {"intValue": "7"}})
    );
    let spans = api["scopeSpans"][0]["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 3);
    assert_eq!(
        spans[0],
        json!({
            "traceId": "CvdlGRbNQ92ESOshHIAxnA==",
            "spanId": "AAAAAAAAAAM=",
            "parentSpanId": "AAAAAAAAAAI=",
            "name": "POST /api/orders",
            "kind": "SPAN_KIND_SERVER",
            "startTimeUnixNano": (T0 + 15_000_000).to_string(),
            "endTimeUnixNano": (T0 + 85_000_000).to_string(),
            "attributes": [{"key": "ratio", "value": {"doubleValue": 0.25}}],
            "events": [{
                "timeUnixNano": (T0 + 50_000_000).to_string(),
                "name": "exception",
                "attributes": [{"key": "exception.message", "value": {"stringValue": "out of stock"}}],
            }],
            "status": {"message": "order rejected", "code": "STATUS_CODE_ERROR"},
        })
    );
    assert_eq!(
        spans[2]["links"],
        json!([{"traceId": "AAAAAAAAAAAAAAAAAAAKvA==", "spanId": "AAAAAAAADe8="}])
    );
    assert_eq!(spans[2]["kind"], "SPAN_KIND_INTERNAL");
    assert_eq!(
        spans[1]["status"],
        json!({}),
        "an unset status prints empty"
    );
    let v2 = get(&format!("/api/v2/traces/{TRACE}")).await;
    assert_eq!(v2["trace"]["resourceSpans"], v["batches"]);
}

#[tokio::test]
async fn trace_by_id_protobuf_decodes_as_otlp() {
    let (st, body) = get_raw(
        &format!("/api/traces/{TRACE}"),
        Some("application/protobuf"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let td = TracesData::decode(body.as_slice()).unwrap();
    let spans: Vec<_> = td
        .resource_spans
        .iter()
        .flat_map(|r| r.scope_spans.iter().flat_map(|s| s.spans.iter()))
        .collect();
    assert_eq!(spans.len(), 5);
    let handler = spans
        .iter()
        .find(|s| s.span_id == [0, 0, 0, 0, 0, 0, 0, 3])
        .unwrap();
    assert_eq!(hex(&handler.trace_id), TRACE);
    assert_eq!(handler.parent_span_id, vec![0, 0, 0, 0, 0, 0, 0, 2]);
    assert_eq!(handler.kind, 2);
    assert_eq!(handler.start_time_unix_nano, (T0 + 15_000_000) as u64);
    assert_eq!(handler.status.as_ref().unwrap().code, 2);
    assert_eq!(handler.events[0].name, "exception");
    // v2 wraps the same message as field 1 of TraceByIDResponse.
    let (_, v2) = get_raw(
        &format!("/api/v2/traces/{TRACE}"),
        Some("application/protobuf"),
    )
    .await;
    assert_eq!(v2[0], 0x0a, "field 1, length-delimited");
    let (len, used) = varint(&v2[1..]);
    assert_eq!(&v2[1 + used..], body.as_slice());
    assert_eq!(len as usize, body.len());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn varint(b: &[u8]) -> (u64, usize) {
    let (mut v, mut i) = (0u64, 0);
    loop {
        v |= u64::from(b[i] & 0x7f) << (7 * i);
        i += 1;
        if b[i - 1] & 0x80 == 0 {
            return (v, i);
        }
    }
}

#[tokio::test]
async fn missing_and_malformed_traces() {
    let (st, body) = get_raw("/api/traces/123", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("trace not found"));
    let (st, body) = get_raw("/api/traces/nothex", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("invalid trace id"));
    let (st, _) = get_raw(&format!("/api/traces/{TRACE}?start=abc&end=1"), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // A range that misses every span of the trace.
    let (st, _) = get_raw(&format!("/api/traces/{TRACE}?start=1&end=2"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tags_and_values() {
    let v = get("/api/search/tags").await;
    assert_eq!(
        v["tagNames"],
        json!([
            "db.ok",
            "host.name",
            "http.method",
            "http.status_code",
            "k8s.pod.uid",
            "peer.service",
            "ratio",
            "service.name"
        ])
    );
    let v = get("/api/v2/search/tags?scope=resource").await;
    assert_eq!(
        v["scopes"],
        json!([{"name": "resource", "tags": ["host.name", "k8s.pod.uid", "service.name"]}])
    );
    let v = get("/api/v2/search/tags").await;
    let names: Vec<&str> = v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["resource", "span", "event", "intrinsic"]);
    assert_eq!(v["scopes"][2]["tags"], json!(["exception.message"]));
    let (st, _) = get_raw("/api/v2/search/tags?scope=nope", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let v = get("/api/search/tag/service.name/values").await;
    assert_eq!(v["tagValues"], json!(["api", "batch", "frontend"]));
    let v = get("/api/v2/search/tag/resource.k8s.pod.uid/values").await;
    assert_eq!(v["tagValues"], json!([{"type": "int", "value": "7"}]));
    let v = get("/api/v2/search/tag/span.db.ok/values").await;
    assert_eq!(v["tagValues"], json!([{"type": "bool", "value": "false"}]));
    let v = get("/api/v2/search/tag/.ratio/values").await;
    assert_eq!(v["tagValues"], json!([{"type": "float", "value": "0.25"}]));
    let v = get("/api/v2/search/tag/status/values").await;
    assert_eq!(
        v["tagValues"],
        json!([{"type": "keyword", "value": "error"}, {"type": "keyword", "value": "ok"}, {"type": "keyword", "value": "unset"}])
    );
    let v = get("/api/v2/search/tag/rootServiceName/values").await;
    assert_eq!(v["tagValues"].as_array().unwrap().len(), 3);
    let v = get("/api/v2/search/tag/name/values").await;
    assert_eq!(v["tagValues"].as_array().unwrap().len(), 5, "{v}");
    // The batch trace is an hour in: a window before it leaves it out.
    let end_s = T0 / 1_000_000_000 + 600;
    let v = get(&format!(
        "/api/search/tag/service.name/values?start={}&end={end_s}",
        T0 / 1_000_000_000
    ))
    .await;
    assert_eq!(v["tagValues"], json!(["api", "frontend"]));
    let (st, _) = get_raw("/api/v2/search/tag/bogus/values", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn echo_and_buildinfo() {
    let (st, body) = get_raw("/api/echo", None).await;
    assert_eq!((st, body.as_slice()), (StatusCode::OK, b"echo".as_slice()));
    let v = get("/api/status/buildinfo").await;
    assert!(v["version"].as_str().unwrap().starts_with("2."));
}

async fn search(q: &str) -> (StatusCode, Value) {
    let app = super::search_route(store()).merge(super::query_routes(store()));
    let res = app
        .oneshot(Request::get(q).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn traceql_search_and_the_tags_form() {
    let (s0, s1) = (T0 / 1_000_000_000 - 60, T0 / 1_000_000_000 + 7200);
    let (st, v) = search(&format!(
        "/api/search?q={}&start={s0}&end={s1}",
        enc("{ status = error }")
    ))
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let traces = v["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 1, "{v}");
    assert_eq!(traces[0]["traceID"], TRACE);
    assert_eq!(traces[0]["rootServiceName"], "frontend");
    assert_eq!(traces[0]["rootTraceName"], "GET /checkout");
    assert_eq!(traces[0]["durationMs"], 100);
    assert_eq!(traces[0]["startTimeUnixNano"], T0.to_string());
    // The tags form: an int attribute given as text still matches.
    let (_, v) = search(&format!(
        "/api/search?tags={}&start={s0}&end={s1}",
        enc("http.status_code=500")
    ))
    .await;
    assert_eq!(v["traces"].as_array().unwrap().len(), 1, "{v}");
    let (_, v) = search(&format!(
        "/api/search?tags={}&minDuration=2s&start={s0}&end={s1}",
        enc("service.name=batch")
    ))
    .await;
    assert_eq!(
        v["traces"].as_array().unwrap().len(),
        0,
        "the batch span lasts 1 s: {v}"
    );
    let (_, v) = search(&format!(
        "/api/search?tags={}&minDuration=1s&start={s0}&end={s1}",
        enc("service.name=batch")
    ))
    .await;
    assert_eq!(
        v["traces"][0]["traceID"], "00000000000000000000000000000002",
        "{v}"
    );
    // A parse error names its place, 400.
    let (st, _) = search(&format!(
        "/api/search?q={}&start={s0}&end={s1}",
        enc("{ status = }")
    ))
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, body) = get_raw(
        &format!(
            "/api/metrics/query_range?q={}&start={s0}&end={s1}&step=60s",
            enc("{ status = error }")
        ),
        None,
    )
    .await;
    assert_eq!(
        st,
        StatusCode::BAD_REQUEST,
        "a search query is not a metrics query: {}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn traceql_metrics_count_spans_per_step() {
    let s0 = T0 / 1_000_000_000;
    // Five spans of the checkout trace start in the first minute.
    let v = get(&format!(
        "/api/metrics/query_range?q={}&start={s0}&end={}&step=60s",
        enc("{ } | count_over_time() by (resource.service.name)"),
        s0 + 120
    ))
    .await;
    let series = v["series"].as_array().unwrap();
    let total: f64 = series
        .iter()
        .flat_map(|s| s["samples"].as_array().unwrap().iter())
        .map(|p| p["value"].as_f64().unwrap())
        .sum();
    assert_eq!(total, 5.0, "{v}");
    assert_eq!(series.len(), 2, "frontend and api: {v}");
}
