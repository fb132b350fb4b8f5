//! The routes over a vector of events, answers worked out by hand.

use super::*;
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sightline_eventstore::analytics::testing::{track, wanted, VecScan};
use sightline_eventstore::model::EventBatch;
use std::ops::ControlFlow;
use tower::ServiceExt;

const H: i64 = 3_600_000;
const D: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

struct TestSource(VecScan);

impl EventScan for TestSource {
    fn scan(
        &self,
        req: &ScanRequest,
        f: &mut dyn FnMut(&EventBatch) -> ControlFlow<()>,
    ) -> sightline_eventstore::Result<()> {
        self.0.scan(req, f)
    }
}

impl EventsSource for TestSource {
    fn recent(&self, req: &ScanRequest, limit: usize) -> sightline_eventstore::Result<Vec<Event>> {
        Ok(self
            .0
            .events()
            .iter()
            .rev()
            .filter(|e| wanted(req, e))
            .take(limit)
            .cloned()
            .collect())
    }

    fn export(
        &self,
        req: &ScanRequest,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> sightline_eventstore::Result<()> {
        if format == ExportFormat::Parquet {
            return Err(sightline_eventstore::Error::BadInput {
                field: "format".into(),
                reason: "the test source writes no parquet".into(),
            });
        }
        for e in self.0.events().iter().filter(|e| wanted(req, e)) {
            let line = serde_json::to_string(e).expect("events serialize");
            writeln!(out, "{line}").map_err(|source| sightline_eventstore::Error::Io {
                op: "write",
                path: "export".into(),
                source,
            })?;
        }
        Ok(())
    }
}

fn app() -> Router {
    let mut ev = vec![
        track(
            T0 + H,
            "signup",
            "u1",
            json!({"plan": "pro", "variant": "a"}),
        ),
        track(
            T0 + 2 * H,
            "signup",
            "u2",
            json!({"plan": "free", "variant": "b"}),
        ),
        track(T0 + 3 * H, "buy", "u1", json!({"amount": 30})),
        track(T0 + D + H, "buy", "u2", json!({"amount": 5})),
        track(T0 + D + 2 * H, "login", "u1", json!({})),
    ];
    ev[0].context = json!({"page": {"path": "/"}}).as_object().unwrap().clone();
    analytics_routes(Arc::new(TestSource(VecScan::new(ev))))
}

async fn call(method: &str, uri: &str, body: Value) -> (u16, Value, String) {
    let req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(if body.is_null() {
            Body::empty()
        } else {
            Body::from(body.to_string())
        })
        .unwrap();
    let resp = app().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, v, text)
}

const RANGE: &str = "start=2026-01-01T00:00:00Z&end=2026-01-03T00:00:00Z";

#[tokio::test]
async fn names_properties_values() {
    let (code, v, _) = call("GET", &format!("/api/v1/events/names?{RANGE}"), Value::Null).await;
    assert_eq!(code, 200);
    assert_eq!(
        v["data"],
        json!([{"name": "buy", "count": 2}, {"name": "signup", "count": 2}, {"name": "login", "count": 1}])
    );
    let uri = format!("/api/v1/events/properties?{RANGE}&event=signup");
    let (_, v, _) = call("GET", &uri, Value::Null).await;
    assert_eq!(
        v["data"],
        json!([
            {"key": "properties.plan", "count": 2},
            {"key": "properties.variant", "count": 2},
            {"key": "context.page.path", "count": 1},
        ])
    );
    let uri = format!("/api/v1/events/values?{RANGE}&key=properties.plan");
    let (_, v, _) = call("GET", &uri, Value::Null).await;
    assert_eq!(
        v["data"],
        json!([{"value": "free", "count": 1}, {"value": "pro", "count": 1}])
    );
    let (code, _, text) = call(
        "GET",
        &format!("/api/v1/events/values?{RANGE}"),
        Value::Null,
    )
    .await;
    assert_eq!(code, 400);
    assert!(text.contains("\"key: required"), "{text}");
    let (code, _, text) = call("GET", "/api/v1/events/names?start=yesterday", Value::Null).await;
    assert_eq!(code, 400);
    assert!(text.contains("start: cannot parse"), "{text}");
}

#[tokio::test]
async fn trends_and_active_users() {
    let body = json!({
        "start": "2026-01-01T00:00:00Z", "end": T0 as f64 / 1000.0 + 2.0 * 86400.0,
        "step": "day", "events": ["buy"], "breakdown": "properties.amount"
    });
    let (code, v, text) = call("POST", "/api/v1/events/query", body).await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(v["data"]["buckets"], json!([T0, T0 + D]));
    assert_eq!(v["data"]["series"][0]["breakdown"], json!("30"));
    assert_eq!(v["data"]["series"][0]["counts"], json!([1, 0]));
    assert_eq!(v["data"]["series"][1]["counts"], json!([0, 1]));
    let body = json!({"start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z"});
    let (code, v, _) = call("POST", "/api/v1/events/active_users", body).await;
    assert_eq!(code, 200);
    let days: Vec<(u64, u64)> = v["data"]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["dau"].as_u64().unwrap(), d["mau"].as_u64().unwrap()))
        .collect();
    assert_eq!(days, vec![(2, 2), (2, 2)]);
}

#[tokio::test]
async fn funnel_retention_abtest() {
    let body = json!({
        "start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z", "window": "1h",
        "steps": [{"event": "signup"}, {"event": "buy", "filters": [{"key": "properties.amount", "op": {"gt": 10}}]}]
    });
    let (code, v, text) = call("POST", "/api/v1/events/funnel", body).await;
    assert_eq!(code, 200, "{text}");
    // u1: signup +1h, buy (30) +3h: 2h later, past a 1h window.
    assert_eq!(v["data"]["steps"][1]["people"], json!(0));
    let body = json!({
        "start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z", "window": "3h",
        "steps": [{"event": "signup"}, {"event": "buy"}]
    });
    let (_, v, _) = call("POST", "/api/v1/events/funnel", body).await;
    assert_eq!(v["data"]["steps"][1]["people"], json!(1));
    assert_eq!(
        v["data"]["steps"][1]["median_seconds_from_previous"],
        json!(7200.0)
    );
    let body = json!({
        "start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z", "period": "day",
        "cohort_event": "signup", "return_event": "buy"
    });
    let (_, v, _) = call("POST", "/api/v1/events/retention", body).await;
    assert_eq!(v["data"]["cohorts"][0]["retained"], json!([2, 1]));
    let body = json!({
        "start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z", "window": 86400 * 2,
        "exposure_event": "signup", "variant_property": "properties.variant",
        "conversion_event": "buy", "control": "b"
    });
    let (code, v, text) = call("POST", "/api/v1/events/abtest", body).await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(v["data"]["control"], json!("b"));
    assert_eq!(v["data"]["variants"][1]["variant"], json!("a"));
    assert_eq!(v["data"]["variants"][1]["converted"], json!(1));
}

#[tokio::test]
async fn bad_bodies_name_the_field() {
    for (uri, body, want) in [
        (
            "/api/v1/events/query",
            json!({"step": "fortnight"}),
            "body: unknown variant `fortnight`",
        ),
        (
            "/api/v1/events/query",
            json!({"colour": 1}),
            "body: unknown field `colour`",
        ),
        (
            "/api/v1/events/query",
            json!({"breakdown": "plan"}),
            "breakdown: property key",
        ),
        (
            "/api/v1/events/funnel",
            json!({"steps": []}),
            "steps: a funnel has",
        ),
        (
            "/api/v1/events/funnel",
            json!({"steps": [{"event": "a"}], "window": "soon"}),
            "window: cannot parse",
        ),
        (
            "/api/v1/events/retention",
            json!({"cohort_event": "a"}),
            "body: missing field `return_event`",
        ),
        (
            "/api/v1/events/abtest",
            json!({"start": "x"}),
            "start: cannot parse",
        ),
        (
            "/api/v1/events/query",
            json!([1]),
            "body: must be a JSON object",
        ),
    ] {
        let (code, _, text) = call("POST", uri, body).await;
        assert_eq!(code, 400, "{uri}: {text}");
        assert!(text.contains(want), "{uri}: want {want:?} in {text}");
    }
    let req = axum::http::Request::post("/api/v1/events/query")
        .body(Body::from("{"))
        .unwrap();
    let resp = app().oneshot(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn list_pages_and_export_streams() {
    let uri = format!("/api/v1/events/list?{RANGE}&limit=2");
    let (code, v, _) = call("GET", &uri, Value::Null).await;
    assert_eq!(code, 200);
    let names: Vec<&str> = v["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["login", "buy"]);
    assert_eq!(v["data"]["next_end"], json!(T0 + D + H));
    let uri = format!(
        "/api/v1/events/list?start=2026-01-01T00:00:00Z&end={}&person=u1",
        (T0 + D + H) / 1000
    );
    let (_, v, _) = call("GET", &uri, Value::Null).await;
    assert_eq!(v["data"]["events"].as_array().unwrap().len(), 2);
    assert_eq!(v["data"]["next_end"], Value::Null);
    let (code, _, text) = call(
        "GET",
        &format!("/api/v1/events/export?{RANGE}&event=buy"),
        Value::Null,
    )
    .await;
    assert_eq!(code, 200);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["properties"]["amount"], json!(5));
    let (code, _, text) = call(
        "GET",
        &format!("/api/v1/events/export?{RANGE}&format=csv"),
        Value::Null,
    )
    .await;
    assert_eq!(code, 400);
    assert!(text.contains("format: \\\"csv\\\" is not"), "{text}");
}
