//! The OTLP/HTTP logs endpoints through `Router::oneshot` (issue 15).

use super::*;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use sightline_core::logs::{LogHints, LogQuerier, MemLogStore};
use sightline_core::Matcher;
use tower::ServiceExt;

async fn post(app: &Router, path: &str, tenant: Option<&str>, body: String) -> (u16, String) {
    let mut b = Request::post(path).header("content-type", "application/json");
    if let Some(t) = tenant {
        b = b.header("x-scope-orgid", t);
    }
    let r = app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn json_logs_to_both_paths() {
    let store = Arc::new(MemLogStore::new());
    let app = logs_router(OtlpLogsState::new(
        store.clone(),
        PushLimits::default(),
        Default::default(),
    ));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let body = |line: &str| {
        format!(
            r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{now}","body":{{"stringValue":"{line}"}}}}]}}]}}]}}"#
        )
    };
    assert_eq!(
        post(&app, "/v1/logs", None, body("a")).await,
        (200, "{}".into())
    );
    assert_eq!(
        post(&app, "/otlp/v1/logs", Some("t2"), body("b")).await,
        (200, "{}".into())
    );
    let lines = |tenant: &str| -> Vec<String> {
        store
            .select(
                tenant,
                &[Matcher::equal("service_name", "svc")],
                0,
                i64::MAX,
                &LogHints::default(),
            )
            .unwrap()
            .into_iter()
            .flat_map(|s| s.entries.map(|e| e.unwrap().line).collect::<Vec<_>>())
            .collect()
    };
    assert_eq!(lines("fake"), ["a"]);
    assert_eq!(lines("t2"), ["b"]);
    let (status, msg) = post(&app, "/v1/logs", None, "[".into()).await;
    assert_eq!(status, 400);
    assert!(
        msg.starts_with(r#"{"code":3,"message":"decoding OTLP/JSON logs request: invalid JSON: "#),
        "{msg}"
    );
}
