//! Issue 19, item 1: real Segment-protocol clients against the event
//! intake, with only their endpoint changed: PyPI's
//! `segment-analytics-python` (batches as JSON, write key as the Basic
//! user), `rudder-sdk-python` (gzip batches) and npm's
//! `@segment/analytics-node` (tests/events_clients/, `npm ci` there). Each sends identify,
//! track, page, screen, group and alias with fixed message ids and
//! timestamps; the stored events (the store's NDJSON export once the
//! server stopped) are checked field by field against what the script
//! sent. The same run checks write key refusal, Segment's 32 KB limit,
//! malformed JSON, messageId de-duplication (the whole script run twice
//! stores once), that refused requests leave accepted events as they
//! were, and `sightline_events_total` through PromQL.

mod common;
#[path = "common/events.rs"]
mod events_common;

use common::{eventually, http, json_or_null, Server};
use serde_json::{json, Value};
use std::time::Duration;

/// The client script: `module write_key host prefix`. Timestamps are
/// fixed (2030-01-0{1..6}T00:00:00Z, one per call) and message ids are
/// `<prefix>-<call>`.
const SCRIPT: &str = r#"
import sys, datetime, importlib
mod, key, host, prefix = sys.argv[1:5]
Client = importlib.import_module(mod).Client
errors = []
c = Client(key, host=host, on_error=lambda e, batch: errors.append(repr(e)), max_retries=1)
t = lambda d: datetime.datetime(2030, 1, d, tzinfo=datetime.timezone.utc)
c.identify("u-1", {"plan": "pro", "name": "Ada"}, timestamp=t(1), message_id=prefix + "-identify")
c.track("u-1", "Order Completed", {"revenue": 42.5, "currency": "EUR"}, timestamp=t(2), message_id=prefix + "-track")
c.page("u-1", None, "Pricing", {"path": "/pricing"}, timestamp=t(3), message_id=prefix + "-page")
c.screen("u-1", None, "Home", {"tab": 2}, timestamp=t(4), message_id=prefix + "-screen")
c.group("u-1", "g-1", {"employees": 12}, timestamp=t(5), message_id=prefix + "-group")
c.alias("anon-9", "u-1", timestamp=t(6), message_id=prefix + "-alias")
c.flush()
c.join()
if errors:
    sys.exit("client errors: " + "; ".join(errors))
"#;

const CLIENTS: [(&str, &str, &str, &str); 2] = [
    // (python module, pip pin, source, write key)
    (
        "segment.analytics.client",
        "segment-analytics-python==2.4.0",
        "segment",
        "wk-segment",
    ),
    (
        "rudderstack.analytics.client",
        "rudder-sdk-python==2.1.9",
        "rudder",
        "wk-rudder",
    ),
];

/// 2030-01-01T00:00:00Z in milliseconds (date -d ... +%s).
const T0_MS: i64 = 1_893_456_000_000;
const DAY_MS: i64 = 86_400_000;

fn post(url: &str, auth: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut r = http().post(url).body(body);
    if let Some(k) = auth {
        r = r.basic_auth(k, Some(""));
    }
    let r = r.send().unwrap();
    let s = r.status().as_u16();
    (s, r.json().unwrap_or(Value::Null))
}

#[test]
fn issue_19_segment_rudder_and_analytics_node_clients() {
    let tmp = sightline_testkit::TempDir::new("events-clients");
    let mut have = Vec::new();
    for c in CLIENTS {
        if events_common::have_python_module(c.0, c.1) {
            have.push(c);
        }
    }
    let args = events_common::config(
        tmp.path(),
        "  metrics_interval: 1s\n  sources:\n    - {name: segment, write_keys: [wk-segment]}\n    \
         - {name: rudder, write_keys: [wk-rudder]}\n    - {name: curl, write_keys: [wk-curl]}\n    \
         - {name: node, write_keys: [wk-node]}\n",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &args);
    let url = server.url();
    for (module, _, source, key) in &have {
        let m = module.trim_end_matches(".client");
        // Twice: the second run's messages are retries of stored ones.
        for _ in 0..2 {
            events_common::python(SCRIPT, &[m, key, &url, source]);
        }
    }
    let node_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events_clients");
    let node = sightline_testkit::find_on_path("node");
    let have_node = match &node {
        Some(_)
            if node_dir
                .join("node_modules/@segment/analytics-node")
                .exists() =>
        {
            true
        }
        _ => {
            sightline_testkit::skip(
                "no node or no tests/events_clients/node_modules (npm ci there; .ci/run does)",
            );
            false
        }
    };
    if let (true, Some(node)) = (have_node, &node) {
        for _ in 0..2 {
            let out = std::process::Command::new(node)
                .current_dir(&node_dir)
                .args(["send.mjs", "wk-node", &url, "node"])
                .output()
                .expect("run node");
            assert!(
                out.status.success(),
                "analytics-node failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // Refusals through HTTP, none of which may disturb what is stored.
    let batch = |msgs: Value| json!({"batch": msgs}).to_string().into_bytes();
    let ok_msg = json!({"type": "track", "userId": "u-2", "event": "Kept", "messageId": "curl-1"});
    let (s, b) = post(
        &format!("{url}/v1/batch"),
        Some("wk-curl"),
        batch(json!([ok_msg])),
    );
    assert_eq!((s, b), (200, json!({"success": true})));
    let (s, b) = post(
        &format!("{url}/v1/batch"),
        Some("wrong"),
        batch(json!([ok_msg])),
    );
    assert_eq!(s, 401, "{b}");
    assert_eq!(b["message"], json!("unknown write key"));
    let big = json!({"type": "track", "userId": "u-2", "event": "Big", "messageId": "curl-big",
                     "properties": {"blob": "x".repeat(40_000)}});
    let (s, b) = post(
        &format!("{url}/v1/batch"),
        Some("wk-curl"),
        batch(
            json!([{"type": "track", "userId": "u-2", "event": "Lost", "messageId": "curl-2"}, big]),
        ),
    );
    assert_eq!(s, 400, "{b}");
    let m = b["message"].as_str().unwrap();
    assert!(
        m.starts_with("batch[1]: the message is 400") && m.contains("32768"),
        "{m}"
    );
    let (s, b) = post(
        &format!("{url}/v1/batch"),
        Some("wk-curl"),
        b"{\"batch\": [\n  {\"type\": }\n]}".to_vec(),
    );
    assert_eq!(s, 400, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("line 2 column 12"),
        "{b}"
    );

    // Events as metrics: one of each call per client, counted once.
    if let Some((_, _, source, _)) = have.first() {
        let q =
            format!("{url}/api/v1/query?query=sightline_events_total%7Bsource%3D%22{source}%22%7D");
        let series = eventually(Duration::from_secs(30), || {
            let v = json_or_null(&q);
            let r = v["data"]["result"].as_array().cloned().unwrap_or_default();
            (r.len() == 6).then_some(r)
        })
        .unwrap_or_else(|| panic!("sightline_events_total: {}", json_or_null(&q)));
        let mut got: Vec<(String, String, String)> = series
            .iter()
            .map(|s| {
                assert_eq!(s["value"][1], json!("1"), "{s}");
                let m = &s["metric"];
                let f = |k: &str| m[k].as_str().unwrap().to_owned();
                (f("type"), f("event"), f("source"))
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String, String)> = [
            ("alias", "alias"),
            ("group", "group"),
            ("identify", "identify"),
            ("page", "Pricing"),
            ("screen", "Home"),
            ("track", "Order Completed"),
        ]
        .iter()
        .map(|(t, e)| (t.to_string(), e.to_string(), source.to_string()))
        .collect();
        want.sort();
        assert_eq!(got, want);
    }
    server.stop();

    let stored = events_common::stored(&data);
    let curl: Vec<&Value> = stored.iter().filter(|e| e["source"] == "curl").collect();
    assert_eq!(curl.len(), 1, "{curl:?}");
    assert_eq!(curl[0]["messageId"], "curl-1");
    assert_eq!(curl[0]["event"], "Kept");
    let mut sources: Vec<&str> = have.iter().map(|c| c.2).collect();
    if have_node {
        sources.push("node");
    }
    for source in sources {
        let mine: Vec<&Value> = stored.iter().filter(|e| e["source"] == source).collect();
        check_client_events(source, &mine);
    }
}

/// The six calls of [`SCRIPT`] as `source` sent them, once each.
fn check_client_events(source: &str, got: &[&Value]) {
    assert_eq!(got.len(), 6, "{source}: {got:#?}");
    let by_id = |call: &str| -> &Value {
        let id = format!("{source}-{call}");
        got.iter()
            .find(|e| e["messageId"] == json!(id))
            .unwrap_or_else(|| panic!("{source}: no {id} in {got:#?}"))
    };
    // (call, day of its timestamp, its fields beyond the common ones)
    let calls: [(&str, i64, Value); 6] = [
        (
            "identify",
            1,
            json!({"type": "identify", "traits": {"plan": "pro", "name": "Ada"}}),
        ),
        (
            "track",
            2,
            json!({"type": "track", "event": "Order Completed",
                            "properties": {"revenue": 42.5, "currency": "EUR"}}),
        ),
        (
            "page",
            3,
            json!({"type": "page", "name": "Pricing", "properties": {"path": "/pricing"}}),
        ),
        (
            "screen",
            4,
            json!({"type": "screen", "name": "Home", "properties": {"tab": 2}}),
        ),
        (
            "group",
            5,
            json!({"type": "group", "groupId": "g-1", "traits": {"employees": 12}}),
        ),
        ("alias", 6, json!({"type": "alias", "previousId": "anon-9"})),
    ];
    for (call, day, fields) in calls {
        let e = by_id(call);
        assert_eq!(e["userId"], "u-1", "{source} {call}: {e}");
        assert!(
            e.get("anonymousId").is_none() || e["anonymousId"].is_null(),
            "{e}"
        );
        for (k, v) in fields.as_object().unwrap() {
            assert_eq!(&e[k], v, "{source} {call}.{k}: {e}");
        }
        // The client's timestamp, moved by the clock correction
        // (receivedAt - sentAt: the request's time in flight, >= 0 and far
        // below a day on one machine).
        let ts = ms(&e["timestamp"]);
        let sent = T0_MS + (day - 1) * DAY_MS;
        assert!(
            (sent..sent + DAY_MS).contains(&ts),
            "{source} {call}: timestamp {} is not the client's {sent} corrected",
            e["timestamp"]
        );
        // Segment's libraries say who they are in context.library.
        assert!(e["context"]["library"]["name"].is_string(), "{e}");
    }
}

/// An RFC 3339 time as milliseconds since the epoch.
fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    // YYYY-MM-DDTHH:MM:SS(.fff)Z, computed by hand rather than with the
    // server's own parser.
    let (date, rest) = s.split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let time = rest.trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    let frac_ms: i64 = format!("{frac:0<3}")[..3].parse().unwrap();
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + t[0]) * 60 + t[1]) * 60_000 + t[2] * 1000 + frac_ms
}
