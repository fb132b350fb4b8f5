//! The Jaeger query API against hand-written answers in jaeger-query's
//! shapes (issue 16).

use crate::trace_fixture::{store, T0, TRACE};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, Value) {
    let app = super::query_routes(store());
    let res = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

const US0: i64 = T0 / 1000;

#[tokio::test]
async fn trace_by_id_in_jaegers_model() {
    let (st, v) = get(&format!("/jaeger/api/traces/{TRACE}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["total"], 1);
    assert_eq!(v["errors"], Value::Null);
    let t = &v["data"][0];
    assert_eq!(t["traceID"], TRACE);
    let spans = t["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 5, "the late span is merged in");
    assert_eq!(
        spans[0],
        json!({
            "traceID": TRACE, "spanID": "0000000000000001", "flags": 1,
            "operationName": "GET /checkout", "references": [],
            "startTime": US0, "duration": 100_000,
            "tags": [
                {"key": "http.method", "type": "string", "value": "GET"},
                {"key": "http.status_code", "type": "int64", "value": 500},
                {"key": "otel.scope.name", "type": "string", "value": "io.opentelemetry.flask"},
                {"key": "otel.scope.version", "type": "string", "value": "0.42"},
                {"key": "span.kind", "type": "string", "value": "server"},
            ],
            "logs": [], "processID": "p1", "warnings": null,
        })
    );
    assert_eq!(
        spans[2],
        json!({
            "traceID": TRACE, "spanID": "0000000000000003", "flags": 1,
            "operationName": "POST /api/orders",
            "references": [{"refType": "CHILD_OF", "traceID": TRACE, "spanID": "0000000000000002"}],
            "startTime": US0 + 15_000, "duration": 70_000,
            "tags": [
                {"key": "ratio", "type": "float64", "value": 0.25},
                {"key": "span.kind", "type": "string", "value": "server"},
                {"key": "otel.status_code", "type": "string", "value": "ERROR"},
                {"key": "error", "type": "bool", "value": true},
                {"key": "otel.status_description", "type": "string", "value": "order rejected"},
            ],
            "logs": [{"timestamp": US0 + 50_000, "fields": [
                {"key": "event", "type": "string", "value": "exception"},
                {"key": "exception.message", "type": "string", "value": "out of stock"},
            ]}],
            "processID": "p2", "warnings": null,
        })
    );
    assert_eq!(
        spans[4]["references"],
        json!([
            {"refType": "CHILD_OF", "traceID": TRACE, "spanID": "0000000000000003"},
            {"refType": "FOLLOWS_FROM", "traceID": "0000000000000abc", "spanID": "0000000000000def"},
        ])
    );
    assert_eq!(
        t["processes"],
        json!({
            "p1": {"serviceName": "frontend", "tags": [{"key": "host.name", "type": "string", "value": "fe-1"}]},
            "p2": {"serviceName": "api", "tags": [{"key": "k8s.pod.uid", "type": "int64", "value": 7}]},
        })
    );
    // 64-bit ids print as 16 digits; leading zeros may be left off.
    let (st, v) = get("/jaeger/api/traces/2").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"][0]["traceID"], "0000000000000002");
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let (st, v) = get("/jaeger/api/traces/ffff").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        v["errors"],
        json!([{"code": 404, "msg": "trace not found"}])
    );
    assert_eq!(v["data"], Value::Null);
    let (st, v) = get("/jaeger/api/traces/xyz").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["errors"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("not a hex digit"),
        "{v}"
    );
}

#[tokio::test]
async fn services_and_operations() {
    let (_, v) = get("/jaeger/api/services").await;
    assert_eq!(v["data"], json!(["api", "batch", "frontend"]));
    assert_eq!(v["total"], 3);
    let (_, v) = get("/jaeger/api/services/api/operations").await;
    assert_eq!(v["data"], json!(["INSERT", "POST /api/orders", "audit"]));
    let (_, v) = get("/jaeger/api/operations?service=api&spanKind=server").await;
    assert_eq!(
        v["data"],
        json!([{"name": "POST /api/orders", "spanKind": "server"}])
    );
    let (_, v) = get("/jaeger/api/operations?service=frontend").await;
    assert_eq!(
        v["data"],
        json!([{"name": "GET /checkout", "spanKind": "server"}, {"name": "POST /api/orders", "spanKind": "client"}])
    );
    let (st, _) = get("/jaeger/api/operations").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

fn window() -> String {
    format!("start={}&end={}", US0 - 1_000_000, US0 + 7_200_000_000)
}

async fn found(q: &str) -> Vec<String> {
    let (st, v) = get(&format!("/jaeger/api/traces?{}&{q}", window())).await;
    assert_eq!(st, StatusCode::OK, "{q}: {v}");
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["traceID"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_matches_one_span_on_every_condition() {
    assert_eq!(found("service=api").await, vec![TRACE]);
    assert_eq!(found("service=batch").await, vec!["0000000000000002"]);
    assert_eq!(found("service=api&operation=INSERT").await, vec![TRACE]);
    assert!(found("service=api&operation=GET%20%2Fcheckout")
        .await
        .is_empty());
    // Tags: typed attributes compared as text, the synthesized `error`,
    // process tags, log fields.
    let tags = |t: &str| format!("service=api&tags={}", urlencode(t));
    assert_eq!(found(&tags(r#"{"error":"true"}"#)).await, vec![TRACE]);
    assert_eq!(found(&tags(r#"{"ratio":"0.25"}"#)).await, vec![TRACE]);
    assert_eq!(found(&tags(r#"{"k8s.pod.uid":"7"}"#)).await, vec![TRACE]);
    assert_eq!(
        found(&tags(r#"{"exception.message":"out of stock"}"#)).await,
        vec![TRACE]
    );
    assert_eq!(found("service=api&tag=db.ok:false").await, vec![TRACE]);
    // The error span is not the INSERT span: both on one span fails.
    assert!(
        found(&format!("{}&operation=INSERT", tags(r#"{"error":"true"}"#)))
            .await
            .is_empty()
    );
    assert!(
        found(&tags(r#"{"http.method":"GET"}"#)).await.is_empty(),
        "that tag is frontend's"
    );
    // Durations: the api spans last 70, 30 and 5 ms.
    assert_eq!(found("service=api&minDuration=70ms").await, vec![TRACE]);
    assert!(found("service=api&minDuration=71ms").await.is_empty());
    assert_eq!(
        found("service=api&operation=audit&maxDuration=5ms").await,
        vec![TRACE]
    );
    assert!(found("service=api&operation=INSERT&maxDuration=29ms")
        .await
        .is_empty());
    // Time: the batch trace starts an hour in.
    let (_, v) = get(&format!(
        "/jaeger/api/traces?service=batch&start={}&end={}",
        US0,
        US0 + 3_599_000_000
    ))
    .await;
    assert_eq!(v["data"], json!([]));
    // Limit and ids.
    assert_eq!(
        found(&format!("traceID={TRACE}&traceID=2")).await,
        vec![TRACE.to_string(), "0000000000000002".into()]
    );
}

#[tokio::test]
async fn search_errors_say_which_parameter() {
    for (q, want) in [
        ("", "parameter 'service' is required"),
        ("service=api&minDuration=fast", "'minDuration'"),
        ("service=api&start=yesterday", "'start'"),
        ("service=api&tags=notjson", "'tags'"),
        ("service=api&tag=nocolon", "'tag'"),
        (
            "service=api&minDuration=2s&maxDuration=1s",
            "'maxDuration' should be greater",
        ),
        ("service=api&limit=-1", "'limit'"),
    ] {
        let (st, v) = get(&format!("/jaeger/api/traces?{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}");
        let msg = v["errors"][0]["msg"].as_str().unwrap();
        assert!(msg.contains(want), "{q}: {msg}");
    }
}

#[tokio::test]
async fn dependencies_from_parent_child_pairs() {
    let end_ms = (T0 + 7_200_000_000_000) / 1_000_000;
    let (_, v) = get(&format!(
        "/jaeger/api/dependencies?endTs={end_ms}&lookback=86400000"
    ))
    .await;
    assert_eq!(
        v["data"],
        json!([
            {"parent": "api", "child": "db", "callCount": 1},
            {"parent": "frontend", "child": "api", "callCount": 1},
        ])
    );
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
