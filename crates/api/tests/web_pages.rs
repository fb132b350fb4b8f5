//! Issue 12, item 6: the links Sightline emits lead to real pages. Rule
//! alerts carry `generatorURL` `<external>/graph?g0.expr=...&g0.tab=1`
//! (built by `sightline_rules::template::expr_link`), Alertmanager's
//! templates link to `<external>/#/alerts?receiver=...`: `/`, `/graph` and
//! `/alerts` answer 200 with the content the link promises.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use sightline_api::prometheus::QueryEngine;
use sightline_core::{Labels, MemStore};
use std::sync::Arc;
use tower::ServiceExt;

/// One firing and one pending alert, shaped as `/api/v1/alerts` data.
struct TwoAlerts;
impl sightline_api::RulesSource for TwoAlerts {
    fn rules(&self) -> serde_json::Value {
        serde_json::json!({"groups": []})
    }
    fn alerts(&self) -> serde_json::Value {
        serde_json::json!({"alerts": [
            {"labels": {"alertname": "SlowDisk", "instance": "b"}, "annotations": {},
             "state": "pending", "activeAt": "2026-12-06T21:00:00Z", "value": "3e+00"},
            {"labels": {"alertname": "InstanceDown", "instance": "a<1>"},
             "annotations": {"summary": "a is down"},
             "state": "firing", "activeAt": "2026-12-06T20:00:00Z", "value": "0e+00"},
        ]})
    }
}

fn app() -> axum::Router {
    let now = sightline_core::time::now_ms();
    let s = MemStore::new();
    for (inst, v) in [("a", 0.0), ("b", 1.0)] {
        s.add(
            Labels::from_pairs([("__name__", "up"), ("job", "api"), ("instance", inst)]),
            now - 5_000,
            v,
        );
    }
    sightline_api::router(common::api_state(
        Arc::new(s),
        Arc::new(TwoAlerts),
        Arc::new(common::NoStatus),
        QueryEngine::default(),
    ))
}

async fn get(uri: &str) -> (StatusCode, String, String) {
    let resp = app()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn issue_12_generator_url_shows_the_expression_evaluated_now() {
    // The link exactly as the rule manager builds it.
    let link = sightline_rules::template::expr_link("up == 0", 1);
    assert_eq!(link, "/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
    let (status, ct, body) = get(&link).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ct, "text/html; charset=utf-8");
    // The expression is in the form, and its one result row in the table.
    assert!(body.contains("value=\"up == 0\""), "{body}");
    assert!(
        body.contains("<td>up{instance=&quot;a&quot;, job=&quot;api&quot;}</td><td>0</td>"),
        "{body}"
    );
    assert!(!body.contains("instance=&quot;b&quot;"), "{body}");
    // Issue 14: and a link to the same expression graphed in the web UI.
    assert!(
        body.contains("href=\"./#/explore?expr=up+%3D%3D+0&amp;from=now-1h&amp;to=now\""),
        "{body}"
    );
    // The graph-tab link (tab 0) leads to the same page.
    let (status, _, _) = get(&sightline_rules::template::expr_link("up", 0)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn issue_12_graph_shows_errors_and_an_empty_form() {
    let (status, _, body) = get("/graph?g0.expr=sum(up&g0.tab=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("class=\"error\">Error: invalid parameter &quot;query&quot;: "),
        "{body}"
    );
    let (status, _, body) = get("/graph").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<form"), "{body}");
    let (status, _, body) = get("/graph?g0.expr=vector(1)").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<td>{}</td><td>1</td>"), "{body}");
}

#[tokio::test]
async fn issue_12_alerts_page_lists_firing_then_pending() {
    // Where the landing page's script sends `#/alerts?receiver=team`.
    let (status, _, body) = get("/alerts?receiver=team").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("1 firing, 1 pending."), "{body}");
    let firing = body.find("InstanceDown").expect("firing alert listed");
    let pending = body.find("SlowDisk").expect("pending alert listed");
    assert!(firing < pending, "firing first: {body}");
    assert!(body.contains("instance=a&lt;1&gt;"), "escaped: {body}");
    assert!(body.contains("summary=a is down"), "{body}");
    assert!(body.contains("filters of Alertmanager"), "{body}");
}

#[tokio::test]
async fn issue_12_landing_page_links_are_served() {
    // `/` itself is the web UI's (crates/ui, issue 14; its tests check the
    // links and the mapping of Alertmanager's fragments).
    // Every relative link of the landing page that the API itself serves
    // answers 200 (silences need the built-in Alertmanager, merged by the
    // server, and are checked end to end there).
    for href in [
        "graph",
        "alerts",
        "api/v1/targets",
        "api/v1/rules",
        "metrics",
    ] {
        let (status, _, _) = get(&format!("/{href}")).await;
        assert_eq!(status, StatusCode::OK, "{href}");
    }
}
