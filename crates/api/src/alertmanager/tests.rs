//! The API v2 routes over a real embedded Alertmanager (temp data dir).

use super::routes;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use sightline_alertmanager::config::Config;
use sightline_alertmanager::manager::{Alertmanager, AlertmanagerOptions};
use sightline_core::time;
use std::sync::Arc;
use tower::ServiceExt;

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

const CONFIG: &str = "route:\n  receiver: team\n  group_by: [alertname]\n  routes:\n    - matchers: ['severity=\"page\"']\n      receiver: pager\nreceivers:\n  - name: team\n  - name: pager\n";

fn start(dir: &std::path::Path) -> Arc<Alertmanager> {
    let cfg = Config::load_str(CONFIG, "alertmanager.yml").unwrap();
    Alertmanager::start(cfg, AlertmanagerOptions::new(dir)).unwrap()
}

async fn call(app: &axum::Router, req: Request<Body>) -> (u16, serde_json::Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()))
    };
    (status, v)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn alerts_silences_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let am = start(dir.path());
    let app = routes(am.clone());

    let (code, _) = call(
        &app,
        post(
            "/api/v2/alerts",
            serde_json::json!([
                {"labels": {"alertname": "Down", "severity": "page", "instance": "a"}},
                {"labels": {"alertname": "Slow", "severity": "ticket"}, "annotations": {"summary": "s"}}
            ]),
        ),
    )
    .await;
    assert_eq!(code, 200);
    let (code, alerts) = call(&app, get("/api/v2/alerts")).await;
    assert_eq!(code, 200);
    assert_eq!(alerts.as_array().unwrap().len(), 2, "{alerts}");
    // Routed by the tree: the page goes to the pager, the rest to the team.
    let (_, pages) = call(&app, get("/api/v2/alerts?filter=severity%3D%22page%22")).await;
    assert_eq!(pages.as_array().unwrap().len(), 1);
    assert_eq!(pages[0]["receivers"][0]["name"], "pager");
    assert_eq!(pages[0]["status"]["state"], "active");

    // A silence suppresses the page.
    let now = time::now();
    let (code, created) = call(
        &app,
        post(
            "/api/v2/silences",
            serde_json::json!({
                "matchers": [{"name": "alertname", "value": "Down", "isRegex": false, "isEqual": true}],
                "startsAt": time::rfc3339_nano(&now),
                "endsAt": time::rfc3339_nano(&(now + HOUR)),
                "createdBy": "test", "comment": "maintenance"
            }),
        ),
    )
    .await;
    assert_eq!(code, 200, "{created}");
    let id = created["silenceID"].as_str().unwrap().to_owned();
    let (_, pages) = call(&app, get("/api/v2/alerts?filter=alertname%3DDown")).await;
    assert_eq!(pages[0]["status"]["state"], "suppressed", "{pages}");
    assert_eq!(pages[0]["status"]["silencedBy"][0], id.as_str());
    // ... and `silenced=false` hides it.
    let (_, shown) = call(&app, get("/api/v2/alerts?silenced=false")).await;
    assert_eq!(shown.as_array().unwrap().len(), 1);

    let (code, s) = call(&app, get(&format!("/api/v2/silence/{id}"))).await;
    assert_eq!((code, s["status"]["state"].as_str()), (200, Some("active")));
    let (code, _) = call(
        &app,
        Request::delete(format!("/api/v2/silence/{id}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    let (_, s) = call(&app, get(&format!("/api/v2/silence/{id}"))).await;
    assert_eq!(s["status"]["state"], "expired");
    let (code, _) = call(
        &app,
        get("/api/v2/silence/00000000-0000-0000-0000-000000000000"),
    )
    .await;
    assert_eq!(code, 404);

    // The dispatcher takes alerts into groups on its own task.
    let mut groups = serde_json::Value::Null;
    for _ in 0..50 {
        groups = call(&app, get("/api/v2/alerts/groups")).await.1;
        if groups.as_array().is_some_and(|g| g.len() == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(groups.as_array().unwrap().len(), 2, "{groups}");
    let (_, receivers) = call(&app, get("/api/v2/receivers")).await;
    assert_eq!(
        receivers,
        serde_json::json!([{"name": "team"}, {"name": "pager"}])
    );
    let (_, status) = call(&app, get("/api/v2/status")).await;
    assert_eq!(status["cluster"]["status"], "disabled");
    assert_eq!(status["config"]["original"], CONFIG);
    am.shutdown().unwrap();
}

#[tokio::test]
async fn bad_input_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let am = start(dir.path());
    let app = routes(am.clone());
    let (code, msg) = call(&app, get("/api/v2/alerts?filter=%7B%7B")).await;
    assert_eq!(code, 400, "{msg}");
    let (code, msg) = call(&app, get("/api/v2/alerts?active=maybe")).await;
    assert_eq!(code, 400);
    assert!(msg.as_str().unwrap().contains("active"), "{msg}");
    let (code, msg) = call(
        &app,
        post("/api/v2/alerts", serde_json::json!({"labels": {}})),
    )
    .await;
    assert_eq!(code, 400, "{msg}");
    // A silence that ends before it starts.
    let now = time::now();
    let (code, msg) = call(
        &app,
        post(
            "/api/v2/silences",
            serde_json::json!({
                "matchers": [{"name": "a", "value": "b", "isRegex": false}],
                "startsAt": time::rfc3339_nano(&now),
                "endsAt": time::rfc3339_nano(&(now - HOUR)),
                "createdBy": "t", "comment": "c"
            }),
        ),
    )
    .await;
    assert_eq!(code, 400, "{msg}");
    // Nothing was stored by the refused requests.
    let (_, alerts) = call(&app, get("/api/v2/alerts")).await;
    assert_eq!(alerts, serde_json::json!([]));
    let (_, sil) = call(&app, get("/api/v2/silences")).await;
    assert_eq!(sil, serde_json::json!([]));
    am.shutdown().unwrap();
}

/// Issue 14: the web UI's Inhibitions view reads the running config's
/// inhibit rules as JSON; legacy `source_match`/`_re` come out as matchers.
#[tokio::test]
async fn issue_14_inhibit_rules_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{CONFIG}inhibit_rules:\n  - source_matchers: [severity=\"page\"]\n    target_matchers: ['severity=~\"ticket|info\"']\n    equal: [job, instance]\n  - source_match: {{alertname: Down}}\n    target_match_re: {{service: 'a.*'}}\n"
    );
    let cfg = Config::load_str(&text, "alertmanager.yml").unwrap();
    let am = Alertmanager::start(cfg, AlertmanagerOptions::new(dir.path())).unwrap();
    let app = routes(am);
    let (code, v) = call(&app, get("/api/v1/inhibit_rules")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "success");
    assert_eq!(
        v["data"],
        serde_json::json!([
            {
                "sourceMatchers": ["severity=\"page\""],
                "targetMatchers": ["severity=~\"ticket|info\""],
                "equal": ["job", "instance"]
            },
            {
                "sourceMatchers": ["alertname=\"Down\""],
                // Legacy `_re` values come out anchored, as the
                // alertmanager crate converts them (a matcher's regex
                // matches the whole value either way).
                "targetMatchers": ["service=~\"^(?:a.*)$\""],
                "equal": []
            }
        ])
    );

    // No inhibit rules: an empty list, not null.
    let dir = tempfile::tempdir().unwrap();
    let app = routes(start(dir.path()));
    let (code, v) = call(&app, get("/api/v1/inhibit_rules")).await;
    assert_eq!((code, &v["data"]), (200, &serde_json::json!([])));
}
