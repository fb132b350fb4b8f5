//! The routes over a real Alertmanager with incidents on, through
//! `Router::oneshot` (no socket).

use super::*;
use axum::body::Body;
use axum::http::Request;
use sightline_alertmanager::config::Config;
use sightline_alertmanager::incident::IncidentsConfig;
use sightline_alertmanager::manager::AlertmanagerOptions;
use tower::ServiceExt;

async fn call(r: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn declare_acknowledge_comment_resolve_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg =
        Config::load_str("route:\n  receiver: r\nreceivers:\n  - name: r\n", "am.yml").unwrap();
    let mut opts = AlertmanagerOptions::new(dir.path());
    opts.external_url = "http://s.example".into();
    opts.incidents = Some(IncidentsConfig::default());
    let am = Alertmanager::start(cfg, opts).unwrap();
    let r = routes(am.clone());

    let (s, b) = call(&r, "POST", "/api/v1/incidents", r#"{"name":""}"#).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("name: must not be empty"), "{b}");
    let (s, b) = call(
        &r,
        "POST",
        "/api/v1/incidents",
        r#"{"name":"x","sevrity":"high"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("unknown field `sevrity`"), "{b}");
    let (s, b) = call(
        &r,
        "POST",
        "/api/v1/incidents",
        r#"{"name":"Checkout down","severity":"High","by":"alice"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["data"]["id"], 1);
    assert_eq!(v["data"]["status"], "open");

    let (s, _) = call(
        &r,
        "POST",
        "/api/v1/incidents/1/acknowledge",
        r#"{"by":"bob"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &r,
        "POST",
        "/api/v1/incidents/1/comments",
        r#"{"text":"on it","by":"bob"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = call(
        &r,
        "PATCH",
        "/api/v1/incidents/1",
        r#"{"subject":"payments fail"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, _) = call(&r, "POST", "/api/v1/incidents/1/resolve", "").await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = call(&r, "POST", "/api/v1/incidents/1/acknowledge", "").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(b.contains("incident 1 is resolved"), "{b}");
    let (s, _) = call(&r, "GET", "/api/v1/incidents/9", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = call(&r, "GET", "/api/v1/incidents/x", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("invalid incident id"), "{b}");
    let (s, b) = call(&r, "GET", "/api/v1/incidents?status=closed", "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("\\\"status\\\""), "{b}");

    let (s, b) = call(&r, "GET", "/api/v1/incidents/1", "").await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let kinds: Vec<&str> = v["data"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["declared", "acknowledged", "comment", "edited", "resolved"]
    );
    let (s, b) = call(
        &r,
        "GET",
        "/api/v1/incidents?status=resolved&severity=high",
        "",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let (s, b) = call(&r, "GET", "/api/v1/incidents/1/ticket.md", "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        b.starts_with("### TROUBLE TICKET\n\nName: Checkout down\n\n"),
        "{b}"
    );
    assert!(b.contains("\nSubject: payments fail\n"), "{b}");

    // A forged acknowledge link answers 403 with a page saying why.
    let (s, b) = call(&r, "GET", "/api/v1/incidents/ack/1.99999999999.00", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(b.contains("signature does not match"), "{b}");
    am.shutdown().unwrap();
}
