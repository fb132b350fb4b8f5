//! The query API's answers, shaped as Loki's (checked field by field
//! against Loki's documented examples), over an in-memory store.

use super::*;
use axum::body::Body;
use http_body_util::BodyExt;
use sightline_core::logs::{LogAppender, LogEntry, LogStream, MemLogStore};
use sightline_core::Labels;
use tower::ServiceExt;

const S: i64 = 1_000_000_000;

fn app() -> Router {
    let store = Arc::new(MemLogStore::new());
    let entries = |job: &str, n: i64| -> LogStream {
        LogStream {
            labels: Labels::from_pairs([("job", job), ("env", "prod")]),
            entries: (1..=n)
                .map(|i| LogEntry {
                    ts_ns: 1_700_000_000 * S + i * S,
                    line: format!("level={} n={i}", if i % 2 == 0 { "error" } else { "info" }),
                    metadata: vec![],
                })
                .collect(),
        }
    };
    store
        .append("fake", vec![entries("api", 10), entries("web", 4)])
        .unwrap();
    store.append("team-b", vec![entries("secret", 3)]).unwrap();
    query_routes(store)
}

async fn get(uri: &str, tenant: Option<&str>) -> (u16, String) {
    let mut req = axum::http::Request::get(uri);
    if let Some(t) = tenant {
        req = req.header("X-Scope-OrgID", t);
    }
    let r = app()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

const RANGE: &str = "start=1700000000000000000&end=1700000100000000000";

#[tokio::test]
async fn query_range_streams() {
    let (st, body) = get(&format!("/loki/api/v1/query_range?query=%7Bjob%3D%22api%22%7D%20%7C%3D%20%22error%22&limit=3&{RANGE}"), None).await;
    assert_eq!(st, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["status"], "success");
    assert_eq!(v["data"]["resultType"], "streams");
    let streams = v["data"]["result"].as_array().unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!(
        streams[0]["stream"],
        serde_json::json!({"env": "prod", "job": "api"})
    );
    // Backward by default: the three newest error lines, n=10, 8, 6.
    let values = streams[0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 3);
    assert_eq!(
        values[0],
        serde_json::json!(["1700000010000000000", "level=error n=10"])
    );
    assert_eq!(values[2][1], "level=error n=6");
    assert_eq!(v["data"]["stats"]["summary"]["totalEntriesReturned"], 3);
}

#[tokio::test]
async fn query_range_matrix_and_instant_vector() {
    // count_over_time over 10s windows at steps 1700000010 and 1700000020:
    // the api lines 1..10 fall in (0,10]: 10 lines; (10,20]: none.
    let q = "sum%20by%20(job)%20(count_over_time(%7Benv%3D%22prod%22%7D%5B10s%5D))";
    let (st, body) = get(
        &format!("/loki/api/v1/query_range?query={q}&start=1700000010&end=1700000020&step=10"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["data"]["resultType"], "matrix");
    let m = v["data"]["result"].as_array().unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0]["metric"], serde_json::json!({"job": "api"}));
    assert_eq!(m[0]["values"], serde_json::json!([[1700000010, "10"]]));
    assert_eq!(m[1]["values"], serde_json::json!([[1700000010, "4"]]));
    let (st, body) = get(
        &format!("/loki/api/v1/query?query={q}&time=1700000010"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(
        v["data"]["result"][0]["value"],
        serde_json::json!([1700000010, "10"])
    );
}

#[tokio::test]
async fn errors_are_plain_text_with_loki_statuses() {
    let (st, body) = get("/loki/api/v1/query_range?query=%7Bjob%3D%22api%22", None).await;
    assert_eq!(st, 400);
    assert!(body.starts_with("parse error at line 1, col 11"), "{body}");
    let (st, body) = get("/loki/api/v1/query?query=%7Bjob%3D%22api%22%7D", None).await;
    assert_eq!(st, 400);
    assert!(
        body.contains("log queries are not supported as an instant query type"),
        "{body}"
    );
    let (st, body) = get(
        &format!("/loki/api/v1/query_range?query=%7Bjob%3D%22api%22%7D&limit=0&{RANGE}"),
        None,
    )
    .await;
    assert_eq!((st, body.trim()), (400, "limit must be a positive value"));
    let (st, _) = get("/loki/api/v1/query_range", None).await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn labels_values_series_stats() {
    let (_, body) = get(&format!("/loki/api/v1/labels?{RANGE}"), None).await;
    assert_eq!(json(&body)["data"], serde_json::json!(["env", "job"]));
    let (_, body) = get(&format!("/loki/api/v1/label/job/values?{RANGE}"), None).await;
    assert_eq!(json(&body)["data"], serde_json::json!(["api", "web"]));
    let (_, body) = get(
        &format!("/loki/api/v1/series?match[]=%7Bjob%3D%22web%22%7D&{RANGE}"),
        None,
    )
    .await;
    assert_eq!(
        json(&body)["data"],
        serde_json::json!([{"env": "prod", "job": "web"}])
    );
    let (st, body) = get(
        &format!("/loki/api/v1/index/stats?query=%7Benv%3D%22prod%22%7D&{RANGE}"),
        None,
    )
    .await;
    assert_eq!(st, 200);
    let v = json(&body);
    assert_eq!(
        (v["streams"].as_u64(), v["entries"].as_u64()),
        (Some(2), Some(14))
    );
    // Bytes: "level=info n=1" is 14 bytes, the "n=10" line one more, ...
    let api: u64 = (1..=10)
        .map(|i: u64| {
            format!(
                "level={} n={i}",
                if i.is_multiple_of(2) { "error" } else { "info" }
            )
            .len() as u64
        })
        .sum();
    let web: u64 = (1..=4)
        .map(|i: u64| {
            format!(
                "level={} n={i}",
                if i.is_multiple_of(2) { "error" } else { "info" }
            )
            .len() as u64
        })
        .sum();
    assert_eq!(v["bytes"].as_u64(), Some(api + web));
    let (_, body) = get(
        &format!("/loki/api/v1/index/volume?query=%7Benv%3D%22prod%22%7D&targetLabels=job&{RANGE}"),
        None,
    )
    .await;
    let v = json(&body);
    assert_eq!(
        v["data"]["result"][0]["metric"],
        serde_json::json!({"job": "api"})
    );
    assert_eq!(v["data"]["result"][0]["value"][1], api.to_string());
}

#[tokio::test]
async fn tenants_see_only_their_own() {
    let (_, body) = get(
        &format!("/loki/api/v1/label/job/values?{RANGE}"),
        Some("team-b"),
    )
    .await;
    assert_eq!(json(&body)["data"], serde_json::json!(["secret"]));
    let (_, body) = get(
        &format!("/loki/api/v1/query_range?query=%7Bjob%3D%22secret%22%7D&{RANGE}"),
        None,
    )
    .await;
    assert_eq!(json(&body)["data"]["result"], serde_json::json!([]));
}

#[tokio::test]
async fn drilldown_and_format() {
    let (_, body) = get(
        &format!("/loki/api/v1/detected_labels?query=%7Benv%3D%22prod%22%7D&{RANGE}"),
        None,
    )
    .await;
    assert_eq!(
        json(&body)["detectedLabels"],
        serde_json::json!([{"label": "env", "cardinality": 1}, {"label": "job", "cardinality": 2}])
    );
    let (_, body) = get(
        &format!("/loki/api/v1/detected_fields?query=%7Bjob%3D%22api%22%7D&{RANGE}"),
        None,
    )
    .await;
    let fields = json(&body)["fields"].clone();
    assert!(fields.as_array().unwrap().contains(&serde_json::json!({"label": "n", "type": "int", "cardinality": 10, "parsers": ["logfmt"]})), "{fields}");
    assert!(fields.as_array().unwrap().contains(&serde_json::json!({"label": "level", "type": "string", "cardinality": 2, "parsers": ["logfmt"]})), "{fields}");
    let (_, body) = get(
        &format!("/loki/api/v1/patterns?query=%7Bjob%3D%22api%22%7D&{RANGE}&step=100s"),
        None,
    )
    .await;
    let v = json(&body);
    assert_eq!(v["data"][0]["pattern"], "level=error <_>");
    let (_, body) = get(
        "/loki/api/v1/format_query?query=%7Bjob%3D%22api%22%7D%7C%3D%22x%22%7Cjson",
        None,
    )
    .await;
    assert_eq!(json(&body)["data"], "{job=\"api\"} |= \"x\" | json");
}
