//! Issue 15, item 7: Grafana's Loki data source works against `sightline
//! serve`. One test per call Grafana 11/12 makes to a Loki data source
//! (listed in docs/grafana.md, "Loki"): "Save & test", the query editor's
//! label browser, Explore's logs and metric queries, logs volume, stats,
//! Logs Drilldown's detected labels, fields and patterns, the query
//! formatter, live tail, and the alerting pages' ruler calls. Each call is
//! made as Grafana makes it (its headers, nanosecond, float-second and
//! RFC 3339 times, Go duration steps), and the answer is checked field for
//! field against the shape Loki documents, with values counted by hand
//! from the fixture lines below. No Loki runs here (no Debian package), so
//! the answers are checked against Loki's documentation, not a peer.

mod common;
mod grafana;

use common::{http, Server};
use grafana::{encode, time_rfc3339, USER_AGENT};
use serde_json::{json, Value};
use std::io::{Read, Write};

/// A stream's labels.
type Stream = &'static [(&'static str, &'static str)];

/// The fixture's streams and lines: (stream labels, seconds after `base`,
/// line).
const LINES: &[(Stream, i64, &str)] = &[
    (
        SHOP_ERR,
        10,
        "level=error msg=\"payment failed\" duration=120ms status=500",
    ),
    (
        SHOP_ERR,
        20,
        "level=error msg=\"payment failed\" duration=340ms status=502",
    ),
    (
        SHOP_ERR,
        30,
        "level=error msg=\"card declined\" duration=15ms status=500",
    ),
    (
        SHOP_INFO,
        15,
        "level=info msg=\"order placed\" duration=20ms status=200",
    ),
    (
        SHOP_INFO,
        25,
        "level=info msg=\"order placed\" duration=21ms status=200",
    ),
    (
        SHOP_INFO,
        35,
        "level=info msg=\"order placed\" duration=22ms status=200",
    ),
    (
        SHOP_INFO,
        45,
        "level=info msg=\"order placed\" duration=23ms status=200",
    ),
    (
        SHOP_INFO,
        55,
        "level=info msg=\"order placed\" duration=24ms status=200",
    ),
    (
        AUTH,
        12,
        "{\"level\":\"info\",\"user\":\"ann\",\"latency\":0.5}",
    ),
    (
        AUTH,
        40,
        "{\"level\":\"info\",\"user\":\"bob\",\"latency\":1.25}",
    ),
];
const SHOP_ERR: Stream = &[("env", "prod"), ("job", "shop"), ("level", "error")];
const SHOP_INFO: Stream = &[("env", "prod"), ("job", "shop"), ("level", "info")];
const AUTH: Stream = &[("env", "dev"), ("job", "auth"), ("level", "info")];

const RULES: &str = r#"groups:
  - name: shop-errors
    interval: 1s
    rules:
      - alert: ShopErrors
        expr: sum by (job) (count_over_time({job="shop", level="error"}[1h])) > 2
        labels: {severity: page}
        annotations: {summary: 'errors in {{ $labels.job }}'}
      - record: job:log_lines:count1h
        expr: sum by (job) (count_over_time({job=~".+"}[1h]))
"#;

/// A server holding the fixture lines, `base` seconds being ten minutes
/// ago, whole.
struct Fixture {
    server: Server,
    base: i64,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("log-rules.yml"), RULES).unwrap();
        let cfg = dir.path().join("sightline.yml");
        std::fs::write(&cfg, "logs:\n  rule_files: [log-rules.yml]\n").unwrap();
        let server = Server::start(
            &dir.path().join("data"),
            &["--config.file", cfg.to_str().unwrap()],
        );
        let base = grafana::now_s() as i64 - 600;
        let mut streams: Vec<Value> = Vec::new();
        for labels in [SHOP_ERR, SHOP_INFO, AUTH] {
            let values: Vec<Value> = LINES
                .iter()
                .filter(|(l, _, _)| *l == labels)
                .map(|(_, s, line)| json!([ns(base + s), line]))
                .collect();
            let stream: serde_json::Map<String, Value> = labels
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            streams.push(json!({"stream": stream, "values": values}));
        }
        let r = http()
            .post(format!("{}/loki/api/v1/push", server.url()))
            .json(&json!({ "streams": streams }))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        Fixture {
            server,
            base,
            _dir: dir,
        }
    }

    /// A GET as Grafana's Loki data source makes it (the backend's calls
    /// and the frontend's resource calls, which the backend forwards).
    fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let (status, text) = self.get_text(path, query);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn get_text(&self, path: &str, query: &[(&str, &str)]) -> (u16, String) {
        let mut url = format!("{}{path}", self.server.url());
        if !query.is_empty() {
            url.push('?');
            url.push_str(&encode(query));
        }
        let r = http()
            .get(&url)
            .header("User-Agent", USER_AGENT)
            .header("X-Grafana-Org-Id", "1")
            .header("X-Query-Tags", "Source=grafana")
            .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
            .header("Accept", "application/json, text/plain, */*")
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        (r.status().as_u16(), r.text().unwrap_or_default())
    }

    fn start_ns(&self) -> String {
        ns(self.base)
    }
    fn end_ns(&self) -> String {
        ns(self.base + 600)
    }
}

fn ns(s: i64) -> String {
    (s as i128 * 1_000_000_000).to_string()
}

fn line(stream: &[(&str, &str)], at: i64) -> &'static str {
    LINES
        .iter()
        .find(|(l, s, _)| *l == stream && *s == at)
        .map(|(_, _, line)| *line)
        .unwrap()
}

fn bytes_of(pred: impl Fn(&[(&str, &str)]) -> bool) -> u64 {
    LINES
        .iter()
        .filter(|(l, _, _)| pred(l))
        .map(|(_, _, line)| line.len() as u64)
        .sum()
}

fn ok(r: (u16, Value)) -> Value {
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1["status"], "success", "{}", r.1);
    r.1["data"].clone()
}

/// "Save & test" (Grafana 10.2+): the backend runs `vector(1)+vector(1)`
/// as an instant query and expects 2.
#[test]
fn save_and_test_instant_query() {
    let f = Fixture::start();
    let now = ns(grafana::now_s() as i64);
    let data = ok(f.get(
        "/loki/api/v1/query",
        &[
            ("direction", "backward"),
            ("limit", "10"),
            ("query", "vector(1)+vector(1)"),
            ("time", &now),
        ],
    ));
    assert_eq!(data["resultType"], "vector");
    let result = data["result"].as_array().unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0]["metric"], json!({}));
    assert_eq!(result[0]["value"][1], "2");
    assert_eq!(
        result[0]["value"][0].as_f64().unwrap() as i64,
        now.parse::<i64>().unwrap() / 1_000_000_000
    );
    assert!(data["stats"].is_object(), "{data}");
}

/// "Save & test" before 10.2, and the label browser: label names in a
/// range given in nanoseconds.
#[test]
fn labels_in_range() {
    let f = Fixture::start();
    let (s, e) = (f.start_ns(), f.end_ns());
    let data = ok(f.get("/loki/api/v1/labels", &[("start", &s), ("end", &e)]));
    assert_eq!(data, json!(["env", "job", "level"]));
    // With a stream selector (the label browser once a label is picked).
    let data = ok(f.get(
        "/loki/api/v1/labels",
        &[("query", "{env=\"dev\"}"), ("start", &s), ("end", &e)],
    ));
    assert_eq!(data, json!(["env", "job", "level"]));
    // A range before every line has no labels.
    let early = ns(f.base - 3600);
    let data = ok(f.get(
        "/loki/api/v1/labels",
        &[("start", &early), ("end", &ns(f.base - 1800))],
    ));
    assert_eq!(data, json!([]));
}

/// The label browser's values, with and without a selector.
#[test]
fn label_values() {
    let f = Fixture::start();
    let (s, e) = (f.start_ns(), f.end_ns());
    let data = ok(f.get(
        "/loki/api/v1/label/job/values",
        &[("start", &s), ("end", &e)],
    ));
    assert_eq!(data, json!(["auth", "shop"]));
    let data = ok(f.get(
        "/loki/api/v1/label/level/values",
        &[("query", "{job=\"auth\"}"), ("start", &s), ("end", &e)],
    ));
    assert_eq!(data, json!(["info"]));
}

/// The language provider's series call (`match[]`).
#[test]
fn series() {
    let f = Fixture::start();
    let mut data = ok(f.get(
        "/loki/api/v1/series",
        &[
            ("match[]", "{job=\"shop\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
        ],
    ));
    let list = data.as_array_mut().unwrap();
    list.sort_by_key(|v| v.to_string());
    assert_eq!(
        data,
        json!([
            {"env": "prod", "job": "shop", "level": "error"},
            {"env": "prod", "job": "shop", "level": "info"}
        ])
    );
}

/// Explore's logs query: newest first, `limit` lines, a line filter.
/// Grafana asks for categorized labels; the answer is Loki's plain form
/// (no `encodingFlags`), which Grafana reads as well.
#[test]
fn query_range_logs_backward() {
    let f = Fixture::start();
    let data = ok(f.get(
        "/loki/api/v1/query_range",
        &[
            ("direction", "backward"),
            ("end", &f.end_ns()),
            ("limit", "3"),
            ("query", "{job=\"shop\"} |= \"order\""),
            ("start", &f.start_ns()),
            ("step", "1s"),
        ],
    ));
    assert_eq!(data["resultType"], "streams");
    assert!(data.get("encodingFlags").is_none());
    assert!(data["stats"].is_object());
    let result = data["result"].as_array().unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(
        result[0]["stream"],
        json!({"env": "prod", "job": "shop", "level": "info"})
    );
    assert_eq!(
        result[0]["values"],
        json!([
            [ns(f.base + 55), line(SHOP_INFO, 55)],
            [ns(f.base + 45), line(SHOP_INFO, 45)],
            [ns(f.base + 35), line(SHOP_INFO, 35)]
        ])
    );
}

/// Explore's "oldest first": the two oldest lines over all streams.
#[test]
fn query_range_logs_forward() {
    let f = Fixture::start();
    let data = ok(f.get(
        "/loki/api/v1/query_range",
        &[
            ("direction", "forward"),
            ("end", &f.end_ns()),
            ("limit", "2"),
            ("query", "{job=~\"shop|auth\"}"),
            ("start", &f.start_ns()),
        ],
    ));
    let mut result = data["result"].as_array().unwrap().clone();
    result.sort_by_key(|s| s["stream"]["job"].as_str().unwrap().to_owned());
    assert_eq!(
        Value::Array(result),
        json!([
            {"stream": {"env": "dev", "job": "auth", "level": "info"},
             "values": [[ns(f.base + 12), line(AUTH, 12)]]},
            {"stream": {"env": "prod", "job": "shop", "level": "error"},
             "values": [[ns(f.base + 10), line(SHOP_ERR, 10)]]}
        ])
    );
}

/// A metric query in a panel: the backend sends `step` as a Go duration
/// (`1m0s`); float seconds mean the same.
#[test]
fn query_range_metric_with_step() {
    let f = Fixture::start();
    for step in ["1m0s", "60"] {
        let data = ok(f.get(
            "/loki/api/v1/query_range",
            &[
                ("direction", "backward"),
                ("end", &ns(f.base + 120)),
                ("limit", "1000"),
                (
                    "query",
                    "sum by (level) (count_over_time({job=\"shop\"}[1m]))",
                ),
                ("start", &ns(f.base + 60)),
                ("step", step),
            ],
        ));
        assert_eq!(data["resultType"], "matrix");
        let mut result = data["result"].as_array().unwrap().clone();
        result.sort_by_key(|s| s["metric"]["level"].as_str().unwrap().to_owned());
        // At base+60 the window (base, base+60] holds 3 errors and 5 infos;
        // at base+120 it holds nothing, so there is no point. Times are
        // seconds, written without a fraction when whole, as Loki does.
        let t = f.base + 60;
        assert_eq!(result.len(), 2, "{data}");
        assert_eq!(result[0]["metric"], json!({"level": "error"}));
        assert_eq!(result[0]["values"], json!([[t, "3"]]));
        assert_eq!(result[1]["metric"], json!({"level": "info"}));
        assert_eq!(result[1]["values"], json!([[t, "5"]]));
    }
}

/// An instant metric query ("Instant" in the query options) with the time
/// in RFC 3339.
#[test]
fn query_instant_metric_rfc3339() {
    let f = Fixture::start();
    let time = time_rfc3339((f.base + 60) as f64);
    let data = ok(f.get(
        "/loki/api/v1/query",
        &[
            ("query", "sum(count_over_time({job=~\".+\"}[10m]))"),
            ("time", &time),
        ],
    ));
    assert_eq!(data["resultType"], "vector");
    // Every line lies in (base-540, base+60]: 8 shop and 2 auth lines.
    assert_eq!(data["result"][0]["metric"], json!({}));
    assert_eq!(data["result"][0]["value"][1], "10");
    assert_eq!(
        data["result"][0]["value"][0].as_f64(),
        Some((f.base + 60) as f64)
    );
}

/// The query editor's size estimate (`index/stats`): Loki's bare object,
/// no status wrapper.
#[test]
fn index_stats() {
    let f = Fixture::start();
    let (status, v) = f.get(
        "/loki/api/v1/index/stats",
        &[
            ("query", "{job=\"shop\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
        ],
    );
    assert_eq!(status, 200);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["bytes", "chunks", "entries", "streams"]);
    assert_eq!(v["streams"], 2);
    assert_eq!(v["entries"], 8);
    assert_eq!(v["bytes"], bytes_of(|l| l[1].1 == "shop"));
    assert!(v["chunks"].as_u64().unwrap() >= 1);
}

/// The logs volume (`index/volume`, Logs Drilldown's service list):
/// bytes by the selector's labels, largest first.
#[test]
fn index_volume() {
    let f = Fixture::start();
    let data = ok(f.get(
        "/loki/api/v1/index/volume",
        &[
            ("query", "{job=~\".+\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
            ("limit", "5000"),
            ("aggregateBy", "series"),
        ],
    ));
    assert_eq!(data["resultType"], "vector");
    let result = data["result"].as_array().unwrap();
    assert_eq!(result.len(), 2);
    assert_eq!(result[0]["metric"], json!({"job": "shop"}));
    assert_eq!(
        result[0]["value"][1],
        bytes_of(|l| l[1].1 == "shop").to_string()
    );
    assert!(result[0]["value"][0].is_number());
    assert_eq!(result[1]["metric"], json!({"job": "auth"}));
    assert_eq!(
        result[1]["value"][1],
        bytes_of(|l| l[1].1 == "auth").to_string()
    );
    // `targetLabels` groups by other labels.
    let data = ok(f.get(
        "/loki/api/v1/index/volume",
        &[
            ("query", "{job=\"shop\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
            ("targetLabels", "level"),
        ],
    ));
    let result = data["result"].as_array().unwrap();
    assert_eq!(result[0]["metric"], json!({"level": "info"}));
    assert_eq!(
        result[0]["value"][1],
        bytes_of(|l| l == SHOP_INFO).to_string()
    );
}

/// The logs volume histogram over time (`index/volume_range`).
#[test]
fn index_volume_range() {
    let f = Fixture::start();
    let data = ok(f.get(
        "/loki/api/v1/index/volume_range",
        &[
            ("query", "{job=\"auth\"}"),
            ("start", &ns(f.base)),
            ("end", &ns(f.base + 120)),
            ("step", "1m0s"),
        ],
    ));
    assert_eq!(data["resultType"], "matrix");
    let result = data["result"].as_array().unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0]["metric"], json!({"job": "auth"}));
    // Both auth lines (at +12 s and +40 s) fall in the first minute.
    assert_eq!(
        result[0]["values"],
        json!([[f.base, bytes_of(|l| l == AUTH).to_string()]])
    );
}

/// Logs Drilldown's label list.
#[test]
fn detected_labels() {
    let f = Fixture::start();
    let (status, v) = f.get(
        "/loki/api/v1/detected_labels",
        &[
            ("query", "{job=~\".+\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
        ],
    );
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"detectedLabels": [
            {"label": "env", "cardinality": 2},
            {"label": "job", "cardinality": 2},
            {"label": "level", "cardinality": 2}
        ]})
    );
}

/// Logs Drilldown's fields: parsed from the lines, typed by their values.
#[test]
fn detected_fields() {
    let f = Fixture::start();
    let (status, v) = f.get(
        "/loki/api/v1/detected_fields",
        &[
            ("query", "{job=\"shop\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
            ("line_limit", "1000"),
            ("field_limit", "1000"),
        ],
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["limit"], 1000);
    let fields = v["fields"].as_array().unwrap();
    let field = |name: &str| {
        fields
            .iter()
            .find(|x| x["label"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no field {name} in {v}"))
    };
    // 8 durations (120, 340, 15, 20..24 ms), 3 messages, 3 statuses.
    assert_eq!(
        field("duration"),
        json!({"label": "duration", "type": "duration", "cardinality": 8, "parsers": ["logfmt"]})
    );
    assert_eq!(
        field("msg"),
        json!({"label": "msg", "type": "string", "cardinality": 3, "parsers": ["logfmt"]})
    );
    assert_eq!(
        field("status"),
        json!({"label": "status", "type": "int", "cardinality": 3, "parsers": ["logfmt"]})
    );
    // The JSON lines of auth give json fields.
    let (_, v) = f.get(
        "/loki/api/v1/detected_fields",
        &[
            ("query", "{job=\"auth\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
        ],
    );
    let latency = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["label"] == "latency")
        .cloned()
        .unwrap();
    assert_eq!(
        latency,
        json!({"label": "latency", "type": "float", "cardinality": 2, "parsers": ["json"]})
    );
}

/// Logs Drilldown's patterns: every line of the range counted once.
#[test]
fn patterns() {
    let f = Fixture::start();
    let data = ok(f.get(
        "/loki/api/v1/patterns",
        &[
            ("query", "{job=\"shop\"}"),
            ("start", &f.start_ns()),
            ("end", &f.end_ns()),
            ("step", "1m0s"),
        ],
    ));
    let list = data.as_array().unwrap();
    assert!(!list.is_empty());
    let mut total = 0;
    for p in list {
        assert!(p["pattern"].is_string(), "{p}");
        for s in p["samples"].as_array().unwrap() {
            assert!(s[0].is_number(), "{s}");
            total += s[1].as_u64().unwrap();
        }
    }
    assert_eq!(total, 8, "{data}");
}

/// The query editor's "Format query" button.
#[test]
fn format_query() {
    let f = Fixture::start();
    let data = ok(f.get(
        "/loki/api/v1/format_query",
        &[("query", "{job=\"shop\"}|=\"order\"")],
    ));
    assert_eq!(data, json!("{job=\"shop\"} |= \"order\""));
}

/// The build info Grafana reads to pick features.
#[test]
fn buildinfo() {
    let f = Fixture::start();
    let (status, v) = f.get("/loki/api/v1/status/buildinfo", &[]);
    assert_eq!(status, 200);
    assert!(v["version"].is_string());
}

/// Explore's live tail: a websocket whose first message holds the lines
/// since `start`.
#[test]
fn tail_websocket() {
    let f = Fixture::start();
    let q = encode(&[
        ("query", "{job=\"auth\"}"),
        ("start", &f.start_ns()),
        ("limit", "10"),
    ]);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", f.server.port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET /loki/api/v1/tail?{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {USER_AGENT}\r\n\
         Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // RFC 6455's example key gives this accept value.
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    let mut hdr = [0u8; 2];
    s.read_exact(&mut hdr).unwrap();
    assert_eq!(hdr[0], 0x81, "a final text frame");
    let len = match hdr[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            s.read_exact(&mut l).unwrap();
            u16::from_be_bytes(l) as usize
        }
        127 => panic!("unexpectedly large frame"),
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).unwrap();
    let v: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        v,
        json!({"streams": [{"stream": {"env": "dev", "job": "auth", "level": "info"},
            "values": [[ns(f.base + 12), line(AUTH, 12)], [ns(f.base + 40), line(AUTH, 40)]]}],
            "dropped_entries": null})
    );
}

/// The alerting pages' rule list for a Loki data source:
/// `/prometheus/api/v1/rules`, Prometheus's shape.
#[test]
fn ruler_prometheus_rules() {
    let f = Fixture::start();
    let data = common::eventually(std::time::Duration::from_secs(20), || {
        let d = ok(f.get("/prometheus/api/v1/rules", &[]));
        (d["groups"][0]["rules"][0]["state"] == "firing").then_some(d)
    })
    .expect("ShopErrors fires (3 errors > 2)");
    let g = &data["groups"][0];
    assert_eq!(g["name"], "shop-errors");
    assert!(g["file"].as_str().unwrap().ends_with("log-rules.yml"));
    assert_eq!(g["interval"], 1);
    assert!(g["lastEvaluation"].is_string());
    assert!(g["evaluationTime"].is_number());
    let alert = &g["rules"][0];
    assert_eq!(alert["type"], "alerting");
    assert_eq!(alert["name"], "ShopErrors");
    assert_eq!(
        alert["query"],
        "sum by (job) (count_over_time({job=\"shop\", level=\"error\"}[1h])) > 2"
    );
    assert_eq!(alert["health"], "ok");
    assert_eq!(alert["duration"], 0);
    assert_eq!(alert["labels"], json!({"severity": "page"}));
    assert_eq!(alert["alerts"][0]["labels"]["job"], "shop");
    assert_eq!(alert["alerts"][0]["value"], "3e+00");
    let rec = &g["rules"][1];
    assert_eq!(rec["type"], "recording");
    assert_eq!(rec["name"], "job:log_lines:count1h");
    // The alerts list.
    let alerts = ok(f.get("/prometheus/api/v1/alerts", &[]));
    assert_eq!(alerts["alerts"][0]["labels"]["alertname"], "ShopErrors");
    assert_eq!(
        alerts["alerts"][0]["annotations"]["summary"],
        "errors in shop"
    );
    assert_eq!(alerts["alerts"][0]["state"], "firing");
}

/// The ruler's YAML listing (data-source-managed rules), and its refusal
/// of writes.
#[test]
fn ruler_rules_yaml() {
    let f = Fixture::start();
    let (status, yaml) = f.get_text("/loki/api/v1/rules", &[]);
    assert_eq!(status, 200);
    assert!(
        yaml.starts_with("log-rules.yml:\n  - name: \"shop-errors\"\n    interval: \"1s\"\n    rules:\n      - alert: \"ShopErrors\"\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("      - record: \"job:log_lines:count1h\"\n        expr: \"sum by (job) (count_over_time({job=~\\\".+\\\"}[1h]))\"\n"),
        "{yaml}"
    );
    let (status, _) = f.get_text("/api/prom/rules/log-rules.yml", &[]);
    assert_eq!(status, 200);
    let r = http()
        .delete(format!(
            "{}/loki/api/v1/rules/log-rules.yml/shop-errors",
            f.server.url()
        ))
        .header("User-Agent", USER_AGENT)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
}
