//! Zipkin's read API against hand-written answers in Zipkin's v2 shapes
//! (issue 16).

use crate::trace_fixture::{store, T0, TRACE};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

async fn get_raw(path: &str) -> (StatusCode, Vec<u8>) {
    let res = super::query_routes(store())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

async fn get(path: &str) -> Value {
    let (st, body) = get_raw(path).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

const US0: i64 = T0 / 1000;
const END_MS: i64 = T0 / 1_000_000 + 7_200_000;

#[tokio::test]
async fn trace_in_zipkins_model() {
    let v = get(&format!("/api/v2/trace/{TRACE}")).await;
    let spans = v.as_array().unwrap();
    assert_eq!(spans.len(), 5);
    assert_eq!(
        spans[0],
        json!({
            "traceId": TRACE, "id": "0000000000000001", "kind": "SERVER", "name": "get /checkout",
            "timestamp": US0, "duration": 100_000, "localEndpoint": {"serviceName": "frontend"},
            "tags": {"host.name": "fe-1", "http.method": "GET", "http.status_code": "500",
                     "otel.scope.name": "io.opentelemetry.flask", "otel.scope.version": "0.42"},
        })
    );
    assert_eq!(
        spans[2],
        json!({
            "traceId": TRACE, "parentId": "0000000000000002", "id": "0000000000000003",
            "kind": "SERVER", "name": "post /api/orders",
            "timestamp": US0 + 15_000, "duration": 70_000, "localEndpoint": {"serviceName": "api"},
            "annotations": [{"timestamp": US0 + 50_000,
                             "value": "{\"exception\":{\"exception.message\":\"out of stock\"}}"}],
            "tags": {"k8s.pod.uid": "7", "ratio": "0.25", "otel.status_code": "ERROR", "error": "order rejected"},
        })
    );
    assert_eq!(
        spans[3],
        json!({
            "traceId": TRACE, "parentId": "0000000000000003", "id": "0000000000000004",
            "kind": "CLIENT", "name": "insert", "timestamp": US0 + 20_000, "duration": 30_000,
            "localEndpoint": {"serviceName": "api"}, "remoteEndpoint": {"serviceName": "db"},
            "tags": {"k8s.pod.uid": "7", "peer.service": "db", "db.ok": "false"},
        })
    );
    assert!(
        spans[4].get("kind").is_none(),
        "internal spans have no kind"
    );
    let (st, body) = get_raw("/api/v2/trace/00000000000000ff").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(String::from_utf8_lossy(&body), "00000000000000ff not found");
    let v = get(&format!("/api/v2/traceMany?traceIds={TRACE},2,ff")).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1][0]["traceId"], "0000000000000002");
}

#[tokio::test]
async fn names() {
    assert_eq!(
        get("/api/v2/services").await,
        json!(["api", "batch", "frontend"])
    );
    assert_eq!(
        get("/api/v2/spans?serviceName=API").await,
        json!(["audit", "insert", "post /api/orders"])
    );
    assert_eq!(
        get(&format!(
            "/api/v2/remoteServices?serviceName=api&endTs={END_MS}"
        ))
        .await,
        json!(["db"])
    );
    let (st, body) = get_raw("/api/v2/spans").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(String::from_utf8_lossy(&body), "serviceName is required");
}

async fn ids(q: &str) -> Vec<String> {
    get(&format!(
        "/api/v2/traces?endTs={END_MS}&lookback=86400000&{q}"
    ))
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|t| t[0]["traceId"].as_str().unwrap().to_owned())
    .collect()
}

#[tokio::test]
async fn trace_search_tests_spans_of_the_service() {
    assert_eq!(ids("").await.len(), 2);
    assert_eq!(ids("serviceName=api").await, vec![TRACE]);
    assert_eq!(ids("serviceName=api&spanName=insert").await, vec![TRACE]);
    assert!(ids("serviceName=frontend&spanName=insert").await.is_empty());
    assert_eq!(
        ids("serviceName=api&remoteServiceName=db").await,
        vec![TRACE]
    );
    let aq = |q: &str| {
        format!(
            "annotationQuery={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        )
    };
    // Terms may be met by different spans of the service.
    assert_eq!(
        ids(&format!("serviceName=api&{}", aq("error and db.ok=false"))).await,
        vec![TRACE]
    );
    assert!(ids(&format!("serviceName=frontend&{}", aq("error")))
        .await
        .is_empty());
    assert_eq!(
        ids(&format!("serviceName=frontend&{}", aq("http.method=GET"))).await,
        vec![TRACE]
    );
    assert!(
        ids(&format!("serviceName=frontend&{}", aq("http.method=POST")))
            .await
            .is_empty()
    );
    assert_eq!(ids("serviceName=api&minDuration=70000").await, vec![TRACE]);
    assert!(ids("serviceName=api&minDuration=70001").await.is_empty());
    assert_eq!(
        ids("serviceName=api&minDuration=1&maxDuration=5000").await,
        vec![TRACE]
    );
    assert_eq!(ids("limit=1").await.len(), 1);
    // The batch trace is an hour after T0: a window ending before it misses it.
    let v = get(&format!(
        "/api/v2/traces?endTs={}&lookback=60000",
        T0 / 1_000_000 + 1_800_000
    ))
    .await;
    assert_eq!(v, json!([]));
    for (q, want) in [
        ("maxDuration=5", "minDuration is required"),
        (
            "minDuration=9&maxDuration=5",
            "maxDuration should be >= minDuration",
        ),
        ("limit=0", "limit should be positive"),
        ("endTs=soon", "endTs should be an integer"),
    ] {
        let (st, body) = get_raw(&format!("/api/v2/traces?{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}");
        assert!(String::from_utf8_lossy(&body).contains(want), "{q}");
    }
}

#[tokio::test]
async fn dependencies_with_error_counts() {
    let v = get(&format!(
        "/api/v2/dependencies?endTs={END_MS}&lookback=86400000"
    ))
    .await;
    assert_eq!(
        v,
        json!([
            {"parent": "api", "child": "db", "callCount": 1},
            {"parent": "frontend", "child": "api", "callCount": 1, "errorCount": 1},
        ])
    );
    let (st, _) = get_raw("/api/v2/dependencies").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
