//! The push endpoints through `Router::oneshot` (issue 15).

use super::*;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use sightline_core::logs::{LogHints, LogQuerier, MemLogStore};
use sightline_core::Matcher;
use tower::ServiceExt;

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

async fn send(app: &Router, path: &str, tenant: Option<&str>, body: String) -> (u16, String) {
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

fn count(store: &MemLogStore, tenant: &str) -> usize {
    store
        .select(
            tenant,
            &[Matcher::equal("job", "a")],
            i64::MIN,
            i64::MAX,
            &LogHints::default(),
        )
        .unwrap()
        .into_iter()
        .map(|s| s.entries.count())
        .sum()
}

#[tokio::test]
async fn push_json_to_both_paths_with_tenants() {
    let store = Arc::new(MemLogStore::new());
    let app = push_routes(store.clone(), PushLimits::default(), Default::default());
    let t = now_ns();
    let body = format!(r#"{{"streams":[{{"stream":{{"job":"a"}},"values":[["{t}","x"]]}}]}}"#);
    assert_eq!(
        send(&app, "/loki/api/v1/push", None, body.clone()).await,
        (204, String::new())
    );
    assert_eq!(count(&store, "fake"), 1);
    let legacy = format!(
        r#"{{"streams":[{{"labels":"{{job=\"a\"}}","values":[["{}","y"]]}}]}}"#,
        t + 1
    );
    assert_eq!(
        send(&app, "/api/prom/push", Some("team-1"), legacy).await.0,
        204
    );
    assert_eq!(count(&store, "team-1"), 1);
    assert_eq!(count(&store, "fake"), 1);
    // A bad tenant ID writes nothing.
    let (status, msg) = send(&app, "/loki/api/v1/push", Some("a/b"), body).await;
    assert_eq!(status, 400);
    assert_eq!(msg, "tenant ID 'a/b' contains unsupported character '/'\n");
}

#[tokio::test]
async fn bad_pushes_answer_lokis_status_and_text() {
    let store = Arc::new(MemLogStore::new());
    let app = push_routes(store.clone(), PushLimits::default(), Default::default());
    let t = now_ns();
    let (status, msg) = send(
        &app,
        "/loki/api/v1/push",
        None,
        format!(r#"{{"streams":[{{"stream":{{"job":"a"}},"values":[["{t}","kept"]]}},{{"labels":"{{job=\"a\"","values":[["{t}","lost"]]}}]}}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        msg,
        "Error parsing labels '{job=\"a\"' with error: parse error at byte 8: expected \",\" or \"}\", found the end\n"
    );
    // Partial success: the valid stream was written.
    assert_eq!(count(&store, "fake"), 1);
    let r = app
        .clone()
        .oneshot(
            Request::post("/loki/api/v1/push")
                .header("content-type", "application/json")
                .header("content-encoding", "zstd")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
}
