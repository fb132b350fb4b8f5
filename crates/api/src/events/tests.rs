//! The intake over an in-memory appender, through `Router::oneshot`.
//! Expected events are written out by hand from the request bodies.

use super::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sightline_eventstore::model::{AppendReport, Event, EventKind};
use sightline_eventstore::scrub::{ScrubConfig, Scrubber};
use std::collections::HashSet;
use tower::ServiceExt;

/// Keeps events, dropping a repeated (source, messageId) as the store does.
#[derive(Default)]
struct Mem {
    events: Mutex<Vec<Event>>,
}

impl EventAppender for Mem {
    fn append(&self, events: Vec<Event>) -> sightline_eventstore::Result<AppendReport> {
        let mut all = self.events.lock().unwrap();
        let mut seen: HashSet<(String, String)> = all
            .iter()
            .map(|e| (e.source.clone(), e.message_id.clone()))
            .collect();
        let mut r = AppendReport::default();
        for e in events {
            if seen.insert((e.source.clone(), e.message_id.clone())) {
                all.push(e);
                r.accepted += 1;
            } else {
                r.duplicates += 1;
            }
        }
        Ok(r)
    }
}

const KEY: &[u8] = b"0123456789abcdef-test-key";

fn setup(open: bool) -> (Router, Arc<Mem>, Arc<EventCounts>) {
    let mem = Arc::new(Mem::default());
    let counts = Arc::new(EventCounts::default());
    let sources = vec![Source {
        name: "web".into(),
        write_keys: vec!["wk-web".into()],
        scrubber: Arc::new(Scrubber::new("web", &ScrubConfig::default(), KEY)),
    }];
    let intake = Intake::new(
        mem.clone(),
        sources,
        open,
        IntakeLimits::default(),
        counts.clone(),
    );
    (routes(Arc::new(intake)), mem, counts)
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

use base64::Engine as _;

async fn post(
    app: &Router,
    path: &str,
    auth: Option<&str>,
    body: Vec<u8>,
    gzip: bool,
) -> (StatusCode, Value) {
    let mut req = Request::post(path);
    if let Some(a) = auth {
        req = req.header("Authorization", basic(a));
    }
    if gzip {
        req = req.header("Content-Encoding", "gzip");
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn post_json(
    app: &Router,
    path: &str,
    auth: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    post(app, path, auth, body.to_string().into_bytes(), false).await
}

#[tokio::test]
async fn track_is_stored_with_segment_fields_and_clock_correction() {
    let (app, mem, _) = setup(false);
    let (s, b) = post_json(
        &app,
        "/v1/track",
        Some("wk-web"),
        json!({
            "userId": "u-1", "event": "Signed Up", "messageId": "m-1",
            "properties": {"plan": "pro"}, "context": {"locale": "en-US"},
            "integrations": {"All": false},
            // The client's clock is 10 s ahead: the event happened 2 s
            // before it was sent.
            "timestamp": "2030-01-01T00:00:08Z", "sentAt": "2030-01-01T00:00:10Z"
        }),
    )
    .await;
    assert_eq!((s, b), (StatusCode::OK, json!({"success": true})));
    let e = mem.events.lock().unwrap()[0].clone();
    assert_eq!(e.kind, EventKind::Track);
    assert_eq!(e.name, "Signed Up");
    assert_eq!(e.user_id.as_deref(), Some("u-1"));
    assert_eq!(e.anonymous_id, None);
    assert_eq!(e.message_id, "m-1");
    assert_eq!(e.source, "web");
    assert_eq!(Value::Object(e.properties), json!({"plan": "pro"}));
    assert_eq!(Value::Object(e.context), json!({"locale": "en-US"}));
    assert_eq!(e.received_at_ms - e.timestamp_ms, 2000);
}

#[tokio::test]
async fn every_call_type_and_the_events_shapes() {
    let (app, mem, counts) = setup(false);
    let batch = json!({
        "writeKey": "wk-web",
        "batch": [
            {"type": "identify", "userId": 7, "traits": {"plan": "pro"}, "timestamp": "2030-01-01T00:00:00Z"},
            {"type": "page", "anonymousId": "a-1", "name": "Home", "timestamp": "2030-01-01T00:00:01Z"},
            {"type": "screen", "anonymousId": "a-1", "timestamp": "2030-01-01T00:00:02Z"},
            {"type": "group", "userId": "u-1", "groupId": "g-1", "timestamp": "2030-01-01T00:00:03Z"},
            {"type": "alias", "userId": "u-1", "previousId": "a-1", "timestamp": "2030-01-01T00:00:04Z"}
        ]
    });
    assert_eq!(
        post_json(&app, "/v1/batch", None, batch).await.0,
        StatusCode::OK
    );
    // /v1/events: an array, and one object.
    let arr = json!([{"type": "track", "anonymousId": "a-2", "event": "Click", "timestamp": "2030-01-01T00:00:05Z"}]);
    assert_eq!(
        post_json(&app, "/v1/events", Some("wk-web"), arr).await.0,
        StatusCode::OK
    );
    let one =
        json!({"type": "track", "anonymousId": "a-2", "event": "Click", "writeKey": "wk-web"});
    assert_eq!(
        post_json(&app, "/v1/events", None, one).await.0,
        StatusCode::OK
    );
    let ev = mem.events.lock().unwrap().clone();
    let got: Vec<(EventKind, &str, i64)> = ev
        .iter()
        .take(6)
        .map(|e| (e.kind, e.name.as_str(), e.timestamp_ms))
        .collect();
    let t0 = 1_893_456_000_000; // 2030-01-01T00:00:00Z
    assert_eq!(
        got,
        [
            (EventKind::Identify, "identify", t0),
            (EventKind::Page, "Home", t0 + 1000),
            (EventKind::Screen, "", t0 + 2000),
            (EventKind::Group, "group", t0 + 3000),
            (EventKind::Alias, "alias", t0 + 4000),
            (EventKind::Track, "Click", t0 + 5000),
        ]
    );
    assert_eq!(ev[0].user_id.as_deref(), Some("7"));
    assert_eq!(ev[3].group_id.as_deref(), Some("g-1"));
    assert_eq!(ev[4].previous_id.as_deref(), Some("a-1"));
    // Generated message ids are distinct.
    assert_ne!(ev[5].message_id, ev[6].message_id);
    let snap = counts.snapshot();
    assert!(
        snap.contains(&(("Click".into(), "web".into(), "track"), 2.0)),
        "{snap:?}"
    );
}

#[tokio::test]
async fn a_bad_message_refuses_the_whole_batch_naming_it() {
    let (app, mem, _) = setup(false);
    let good = json!({"type": "track", "userId": "u", "event": "A", "messageId": "ok-1"});
    post_json(&app, "/v1/batch", Some("wk-web"), json!({"batch": [good]})).await;
    for (msg, want) in [
        (
            json!({"type": "track", "userId": "u"}),
            "batch[1].event: missing",
        ),
        (
            json!({"type": "track", "event": "A"}),
            "batch[1]: userId or anonymousId is required",
        ),
        (
            json!({"type": "click", "userId": "u"}),
            "batch[1].type: unknown type \"click\"",
        ),
        (json!({"userId": "u"}), "batch[1].type: missing"),
        (
            json!({"type": "group", "userId": "u"}),
            "batch[1].groupId: missing",
        ),
        (
            json!({"type": "alias", "userId": "u"}),
            "batch[1].previousId: missing",
        ),
        (
            json!({"type": "track", "userId": "u", "event": "A", "timestamp": "yesterday"}),
            "batch[1].timestamp: cannot parse",
        ),
        (
            json!({"type": "track", "userId": "u", "event": "A", "properties": [1]}),
            "batch[1].properties: must be an object",
        ),
        (
            json!({"type": "track", "userId": ["u"], "event": "A"}),
            "batch[1].userId: must be a string",
        ),
        (json!("text"), "batch[1]: a message must be a JSON object"),
    ] {
        let body = json!({"batch": [{"type": "track", "userId": "u", "event": "B", "messageId": "new"}, msg]});
        let (s, b) = post_json(&app, "/v1/batch", Some("wk-web"), body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(b["success"], json!(false));
        assert_eq!(b["code"], json!("invalid_request"));
        let m = b["message"].as_str().unwrap();
        assert!(m.starts_with(want), "{m} / {want}");
    }
    // Only the first good batch is there.
    let ev = mem.events.lock().unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].message_id, "ok-1");
}

#[tokio::test]
async fn write_keys_are_checked_unless_open() {
    let (app, mem, _) = setup(false);
    let msg = json!({"userId": "u", "event": "A"});
    let (s, b) = post_json(&app, "/v1/track", Some("nope"), msg.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        b,
        json!({"success": false, "code": "unauthorized", "message": "unknown write key"})
    );
    let (s, b) = post_json(&app, "/v1/track", None, msg.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b["message"].as_str().unwrap().starts_with("no write key"));
    // ?writeKey= in the URL.
    assert_eq!(
        post_json(&app, "/v1/track?writeKey=wk-web", None, msg.clone())
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(mem.events.lock().unwrap().len(), 1);
    let (open, mem, _) = setup(true);
    assert_eq!(
        post_json(&open, "/v1/track", Some("anything"), msg).await.0,
        StatusCode::OK
    );
    assert_eq!(mem.events.lock().unwrap()[0].source, "web");
}

#[tokio::test]
async fn size_limits_follow_segment() {
    let (app, mem, _) = setup(false);
    let big = "x".repeat(33 * 1024);
    let small = json!({"type": "track", "userId": "u", "event": "A"});
    let large = json!({"type": "track", "userId": "u", "event": "A", "properties": {"blob": big}});
    let body = json!({"batch": [small.clone(), large.clone()]});
    let (s, b) = post_json(&app, "/v1/batch", Some("wk-web"), body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m = b["message"].as_str().unwrap();
    assert!(
        m.starts_with("batch[1]: the message is 338")
            && m.ends_with("the limit is 32768 bytes per message"),
        "{m}"
    );
    // A single call over 32 KB, and a batch over 500 KB.
    let (s, b) = post_json(&app, "/v1/track", Some("wk-web"), large).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("over the limit of 32768 bytes"));
    let many: Vec<Value> = (0..40).map(|_| json!({"type": "track", "userId": "u", "event": "A", "properties": {"p": "y".repeat(16 * 1024)}})).collect();
    let (s, b) = post_json(&app, "/v1/batch", Some("wk-web"), json!({"batch": many})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("over the limit of 512000 bytes"));
    assert!(mem.events.lock().unwrap().is_empty());
}

#[tokio::test]
async fn gzip_malformed_json_and_duplicates() {
    use std::io::Write;
    let (app, mem, counts) = setup(false);
    let body = json!({"batch": [
        {"type": "track", "userId": "u", "event": "A", "messageId": "d-1"},
        {"type": "track", "userId": "u", "event": "B", "messageId": "d-2"}
    ]})
    .to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(
        post(&app, "/v1/batch", Some("wk-web"), gz.clone(), true)
            .await
            .0,
        StatusCode::OK
    );
    // The same batch again stores nothing new.
    assert_eq!(
        post(&app, "/v1/batch", Some("wk-web"), gz, true).await.0,
        StatusCode::OK
    );
    assert_eq!(mem.events.lock().unwrap().len(), 2);
    let snap = counts.snapshot();
    assert_eq!(snap.iter().map(|x| x.1).sum::<f64>(), 2.0);
    let (s, b) = post(
        &app,
        "/v1/batch",
        Some("wk-web"),
        b"{\"batch\": [\n  {\"type\": \"track\",}\n]}".to_vec(),
        false,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m = b["message"].as_str().unwrap();
    assert!(
        m.starts_with("body: invalid JSON") && m.contains("line 2 column"),
        "{m}"
    );
    let (s, b) = post(
        &app,
        "/v1/batch",
        Some("wk-web"),
        b"not gzip".to_vec(),
        true,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["message"]
        .as_str()
        .unwrap()
        .starts_with("body: not valid gzip"));
}

#[tokio::test]
async fn scrubbing_runs_before_the_store() {
    let (app, mem, _) = setup(false);
    let msg = json!({"userId": "u", "event": "Contact", "properties": {"note": "mail jane@example.com"},
                     "context": {"ip": "203.0.113.42"}});
    assert_eq!(
        post_json(&app, "/v1/track", Some("wk-web"), msg).await.0,
        StatusCode::OK
    );
    let e = mem.events.lock().unwrap()[0].clone();
    assert_eq!(e.properties["note"], json!("mail [email]"));
    assert_eq!(e.context["ip"], json!("203.0.113.0"));
}

#[tokio::test]
async fn cors_and_the_snippet() {
    let (app, _, _) = setup(false);
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .method("OPTIONS")
                .uri("/v1/batch")
                .header("Origin", "https://shop.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["access-control-allow-methods"], "POST, OPTIONS");
    assert_eq!(h["access-control-allow-headers"], "content-type");
    let resp = app
        .oneshot(
            Request::get("/v1/analytics.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let js = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(std::str::from_utf8(&js).unwrap().contains("/v1/batch"));
}
