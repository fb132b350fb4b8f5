//! Issue 14, item 8: Grafana still works. Each test replays the HTTP calls
//! Grafana 11/12 makes through its Prometheus and Alertmanager data sources
//! (listed in docs/grafana.md: "Save & test", Explore's language provider
//! and metrics browser, a dashboard panel and its template variables, the
//! alerting pages over an external Alertmanager), with Grafana's methods,
//! headers, form bodies and parameters, against a real `sightline serve`
//! and against Debian's Prometheus 2.42 / Alertmanager 0.25 fed the same
//! data. The fields Grafana reads are checked, and the answers compared:
//! equal where the data is the same, equal in shape otherwise.

mod common;

use common::{eventually, free_port, http, peer, start_prometheus_with, Proc, Server};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Grafana's backend names itself so; the frontend's resource calls go
/// through the same backend, which forwards them.
const USER_AGENT: &str = "Grafana/12.0.0";

/// The target both servers scrape: OpenMetrics with metadata and an
/// exemplar, so every call has something to answer.
const TARGET: &str = "# TYPE app_requests counter
# HELP app_requests Requests served.
app_requests_total{code=\"200\",path=\"/\"} 10 # {trace_id=\"abc123\"} 1.0 1700000000.000
app_requests_total{code=\"500\",path=\"/\"} 2
# TYPE app_temperature_celsius gauge
# HELP app_temperature_celsius Room temperature.
app_temperature_celsius 21.5
# EOF
";

fn serve_target() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{TARGET}",
                TARGET.len()
            );
        }
    });
    port
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// One call as Grafana makes it: `query` on the URL, `form` (if any) as a
/// form-encoded POST body. Returns the status and the JSON body (`null`
/// when it is not JSON).
fn call(
    base: &str,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
) -> (u16, Value) {
    let mut url = format!("{base}{path}");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&encode(query));
    }
    let client = http();
    let mut req = match method {
        "GET" => client.get(&url),
        "POST" => client.post(&url),
        "DELETE" => client.delete(&url),
        m => panic!("method {m}"),
    }
    .header("User-Agent", USER_AGENT)
    .header("X-Grafana-Org-Id", "1")
    .header("Accept", "application/json, text/plain, */*");
    if let Some(f) = form {
        req = req
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(encode(f));
    }
    let r = req.send().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn post_json(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = http()
        .post(format!("{base}{path}"))
        .header("User-Agent", USER_AGENT)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().unwrap_or_default()).unwrap_or(Value::Null),
    )
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut u = reqwest::Url::parse("http://x/").unwrap();
    u.query_pairs_mut().extend_pairs(pairs);
    u.query().unwrap_or("").to_owned()
}

/// The shape of a JSON value: every path with the type found there (array
/// elements share the path `[]`).
fn shape(v: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, path: &str, out: &mut BTreeSet<String>) {
        let t = match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(a) => {
                for x in a {
                    walk(x, &format!("{path}[]"), out);
                }
                "array"
            }
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, &format!("{path}.{k}"), out);
                }
                "object"
            }
        };
        out.insert(format!("{path}: {t}"));
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out
}

/// Sorts a list of JSON values by their text (Prometheus orders some lists
/// by Go map iteration, so at random).
fn sorted(v: &Value) -> Value {
    let mut list = v.as_array().cloned().unwrap_or_default();
    list.sort_by_key(|x| x.to_string());
    Value::Array(list)
}

/// The servers a test compares: ours always, the peer when it runs here.
struct Both {
    ours: Server,
    peer: Option<(Proc, String)>,
}

impl Both {
    fn ours(&self) -> String {
        self.ours.url()
    }
    /// The same call to both: ours, and the peer's answer when it runs.
    fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        form: Option<&[(&str, &str)]>,
    ) -> ((u16, Value), Option<(u16, Value)>) {
        let ours = call(&self.ours(), method, path, query, form);
        let theirs = self
            .peer
            .as_ref()
            .map(|(_, base)| call(base, method, path, query, form));
        (ours, theirs)
    }
}

/// Sightline and Prometheus scraping the same target every second, each
/// once it has the target's series.
fn prometheus_pair(dir: &Path) -> Both {
    prometheus_pair_with_rules(dir, None)
}

/// As [`prometheus_pair`], both also running the rule file `rules`.
fn prometheus_pair_with_rules(dir: &Path, rules: Option<&str>) -> Both {
    let target = serve_target();
    let mut config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
    );
    if let Some(r) = rules {
        config.push_str("rule_files: [rules.yml]\n");
        std::fs::write(dir.join("rules.yml"), r).unwrap();
    }
    let cfg = dir.join("sightline.yml");
    std::fs::write(&cfg, &config).unwrap();
    let ours = Server::start(&dir.join("data"), &["--config.file", cfg.to_str().unwrap()]);
    let peer = peer("prometheus").map(|bin| {
        let pdir = dir.join("prom");
        std::fs::create_dir_all(&pdir).unwrap();
        if let Some(r) = rules {
            std::fs::write(pdir.join("rules.yml"), r).unwrap();
        }
        start_prometheus_with(
            &bin,
            &pdir,
            |_| config.clone(),
            &["--enable-feature=exemplar-storage"],
        )
    });
    let both = Both { ours, peer };
    let has_data = |base: &str| {
        eventually(Duration::from_secs(30), || {
            let (_, v) = call(
                base,
                "GET",
                "/api/v1/query",
                &[("query", "app_requests_total")],
                None,
            );
            (v["data"]["result"].as_array()?.len() == 2).then_some(())
        })
        .unwrap_or_else(|| panic!("{base} never scraped the target"));
    };
    has_data(&both.ours());
    if let Some((_, base)) = &both.peer {
        has_data(base);
    }
    both
}

#[test]
fn issue_14_prometheus_save_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let both = prometheus_pair(dir.path());

    // Grafana's backend health check: the instant query `1+1` with
    // refId __healthcheck__, over a time range of 1 s to 4 s, sent as
    // a form POST (the data source's default HTTP method) with `time` the
    // range's end.
    let form = [("query", "1+1"), ("time", "4")];
    let (ours, theirs) = both.call("POST", "/api/v1/query", &[], Some(&form));
    assert_eq!(ours.0, 200, "{}", ours.1);
    assert_eq!(ours.1["status"], "success");
    assert_eq!(
        ours.1["data"],
        json!({"resultType": "scalar", "result": [4, "2"]})
    );
    if let Some(t) = theirs {
        assert_eq!(ours, t, "1+1 as Prometheus answers it");
    }
    // The same with the data source set to GET.
    let (ours, _) = both.call("GET", "/api/v1/query", &form, None);
    assert_eq!(ours.1["data"]["result"], json!([4, "2"]));

    // Then the heuristics: buildinfo. No `features` means "Prometheus"
    // (with features Grafana takes the server for Mimir and offers a
    // ruler API we do not have); `version` picks the API features Grafana
    // uses (labels match[] needs >= 2.24).
    let (ours, theirs) = both.call("GET", "/api/v1/status/buildinfo", &[], None);
    assert_eq!(ours.0, 200);
    let data = &ours.1["data"];
    assert!(
        data.get("features").is_none(),
        "features make Grafana think Mimir: {data}"
    );
    assert!(data.get("application").is_none(), "{data}");
    let version = data["version"].as_str().expect("version");
    let major_minor: Vec<u32> = version
        .split('.')
        .take(2)
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(
        major_minor >= vec![2, 24],
        "version {version} hides the labels match[] API"
    );
    if let Some(t) = theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "buildinfo shape");
    }
    // Grafana's alerting pages also ask /api/v1/status/flags (Thanos
    // detection): Prometheus answers, and so do we.
    let (ours, theirs) = both.call("GET", "/api/v1/status/flags", &[], None);
    assert_eq!(ours.0, 200);
    if let Some(t) = theirs {
        assert_eq!(t.0, 200);
    }
    // And a bad query shows Prometheus's error type and a message.
    let (ours, theirs) = both.call(
        "POST",
        "/api/v1/query",
        &[],
        Some(&[("query", "sum("), ("time", "4")]),
    );
    assert_eq!(ours.0, 400);
    assert_eq!(ours.1["errorType"], "bad_data");
    assert!(ours.1["error"].as_str().is_some_and(|e| !e.is_empty()));
    if let Some(t) = theirs {
        assert_eq!((t.0, &t.1["errorType"]), (400, &json!("bad_data")));
    }
}

#[test]
fn issue_14_prometheus_explore_language_provider() {
    let dir = tempfile::tempdir().unwrap();
    let both = prometheus_pair(dir.path());
    let now = now_s() as i64;
    // The language provider snaps the range to whole minutes and sends
    // seconds.
    let (start, end) = ((now - 3600).to_string(), (now + 60).to_string());
    let range = [("start", start.as_str()), ("end", end.as_str())];
    let compare_lists = |what: &str, ours: &(u16, Value), theirs: &Option<(u16, Value)>| {
        assert_eq!(ours.0, 200, "{what}: {}", ours.1);
        assert_eq!(ours.1["status"], "success", "{what}");
        assert!(
            ours.1["data"].as_array().is_some_and(|a| !a.is_empty()),
            "{what}: {}",
            ours.1
        );
        if let Some(t) = theirs {
            assert_eq!(sorted(&ours.1["data"]), sorted(&t.1["data"]), "{what}");
        }
    };

    // start(): metric names (GET only: Grafana never POSTs label values),
    // with `limit` (Prometheus 2.42 ignores it; so do we, see docs).
    let q = [range[0], range[1], ("limit", "40000")];
    let (ours, theirs) = both.call("GET", "/api/v1/label/__name__/values", &q, None);
    compare_lists("metric names", &ours, &theirs);
    let names = ours.1["data"].as_array().unwrap();
    for n in [
        "app_requests_total",
        "app_temperature_celsius",
        "up",
        "scrape_duration_seconds",
    ] {
        assert!(names.contains(&json!(n)), "{n} missing from {names:?}");
    }
    // ... label keys: a resource call POSTed as a form.
    let (ours, theirs) = both.call("POST", "/api/v1/labels", &[], Some(&q));
    compare_lists("label names", &ours, &theirs);
    // ... metadata, GET, read as {metric: [{type, help, unit}]}.
    let (ours, theirs) = both.call("GET", "/api/v1/metadata", &[], None);
    assert_eq!(ours.0, 200);
    let ours_meta = &ours.1["data"]["app_requests"];
    assert_eq!(ours_meta[0]["type"], "counter", "{}", ours.1);
    assert_eq!(ours_meta[0]["help"], "Requests served.");
    if let Some(t) = &theirs {
        for m in ["app_requests", "app_temperature_celsius"] {
            assert_eq!(ours.1["data"][m], t.1["data"][m], "metadata of {m}");
        }
    }
    // Without a configured version Grafana falls back to the series API.
    let q = [
        ("match[]", "{__name__!=\"\"}"),
        range[0],
        range[1],
        ("limit", "40000"),
    ];
    let (ours, theirs) = both.call("POST", "/api/v1/series", &[], Some(&q));
    compare_lists("series", &ours, &theirs);

    // The metrics browser: labels of the chosen metric, values of a label
    // under a selector (match[] with a selector, and with a bare name).
    let q = [
        ("match[]", "app_requests_total"),
        range[0],
        range[1],
        ("limit", "40000"),
    ];
    let (ours, theirs) = both.call("POST", "/api/v1/labels", &[], Some(&q));
    compare_lists("labels of a metric", &ours, &theirs);
    assert_eq!(
        sorted(&ours.1["data"]),
        json!(["__name__", "code", "instance", "job", "path"])
    );
    // One match[] per metric of the queries on the page (GET, with the
    // data source's method set to GET).
    let q = [
        ("match[]", "app_requests_total"),
        ("match[]", "app_temperature_celsius"),
        range[0],
        range[1],
    ];
    let (ours, theirs) = both.call("GET", "/api/v1/labels", &q, None);
    compare_lists("labels of two metrics", &ours, &theirs);
    for m in [
        "app_requests_total",
        "{__name__=\"app_requests_total\",code=~\"5..\"}",
    ] {
        let q = [("match[]", m), range[0], range[1]];
        let (ours, theirs) = both.call("GET", "/api/v1/label/code/values", &q, None);
        compare_lists(m, &ours, &theirs);
    }
    // Template variables: label_values(up, job), label_names(),
    // metrics(app_.*) run the same calls; query_result(...) an instant query.
    let (ours, theirs) = both.call(
        "POST",
        "/api/v1/query",
        &[],
        Some(&[
            ("query", "count by (code) (app_requests_total)"),
            ("time", &end),
        ]),
    );
    assert_eq!(ours.0, 200);
    if let Some(t) = theirs {
        assert_eq!(
            sorted(&ours.1["data"]["result"]),
            sorted(&t.1["data"]["result"])
        );
    }
    // The "Format query" button of the code editor (Prometheus >= 2.40).
    let q = [(
        "query",
        "sum(rate(app_requests_total{code=~\"5..\"}[5m]))by(path)",
    )];
    let (ours, theirs) = both.call("GET", "/api/v1/format_query", &q, None);
    assert_eq!(ours.0, 200, "{}", ours.1);
    if let Some(t) = theirs {
        assert_eq!(ours.1, t.1, "format_query");
    }
}

#[test]
fn issue_14_prometheus_panel_queries() {
    let dir = tempfile::tempdir().unwrap();
    let both = prometheus_pair(dir.path());
    // Both have scraped the constant target: from now on every step of a
    // range has a sample in the lookback in both, with the same values.
    let t0 = now_s();
    std::thread::sleep(Duration::from_millis(2500));
    // The backend's range query: a form POST, times as seconds with a
    // fraction, `step` as a float number of seconds.
    let (start, end) = (format!("{:.3}", t0), format!("{:.3}", t0 + 2.0));
    for (expr, step) in [
        ("sum by (code) (app_requests_total)", "0.5"),
        ("app_temperature_celsius * 2", "1"),
    ] {
        let form = [
            ("query", expr),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", step),
            // The data source's "Query timeout" setting.
            ("timeout", "30s"),
        ];
        let (ours, theirs) = both.call("POST", "/api/v1/query_range", &[], Some(&form));
        assert_eq!(ours.0, 200, "{expr}: {}", ours.1);
        assert_eq!(ours.1["data"]["resultType"], "matrix");
        let result = ours.1["data"]["result"].as_array().unwrap();
        assert!(
            !result.is_empty() && result[0]["values"].as_array().is_some_and(|v| v.len() >= 3),
            "{expr}: {}",
            ours.1
        );
        if let Some(t) = theirs {
            assert_eq!(
                sorted(&ours.1["data"]["result"]),
                sorted(&t.1["data"]["result"]),
                "{expr}"
            );
        }
    }
    // An instant panel ("Instant" or a table): `time` is the range's end.
    let form = [("query", "app_requests_total"), ("time", end.as_str())];
    let (ours, theirs) = both.call("POST", "/api/v1/query", &[], Some(&form));
    assert_eq!(ours.1["data"]["resultType"], "vector");
    if let Some(t) = theirs {
        assert_eq!(
            sorted(&ours.1["data"]["result"]),
            sorted(&t.1["data"]["result"])
        );
    }
    // Exemplars ("Exemplars" switch on a panel): start/end without step.
    let (xs, xe) = ("1699999000", format!("{:.3}", t0 + 2.0));
    let form = [
        ("query", "app_requests_total"),
        ("start", xs),
        ("end", xe.as_str()),
    ];
    let (ours, theirs) = both.call("POST", "/api/v1/query_exemplars", &[], Some(&form));
    assert_eq!(ours.0, 200, "{}", ours.1);
    let got = &ours.1["data"];
    assert_eq!(
        got[0]["exemplars"][0]["labels"]["trace_id"], "abc123",
        "{got}"
    );
    assert_eq!(got[0]["seriesLabels"]["code"], "200");
    if let Some(t) = theirs {
        assert_eq!(sorted(got), sorted(&t.1["data"]), "exemplars");
    }
    // Annotations from a query run as range queries with the panel's step;
    // a step too fine for the range is refused as Prometheus refuses it
    // (Grafana shows the message).
    let form = [
        ("query", "up"),
        ("start", "0"),
        ("end", "100000000"),
        ("step", "1"),
    ];
    let (ours, theirs) = both.call("POST", "/api/v1/query_range", &[], Some(&form));
    assert_eq!(ours.0, 400, "{}", ours.1);
    if let Some(t) = theirs {
        assert_eq!((ours.0, &ours.1["errorType"]), (t.0, &t.1["errorType"]));
    }
}

#[test]
fn issue_14_prometheus_alert_rules() {
    // Grafana's alert list shows a Prometheus data source's rules
    // (data-source-managed): /api/v1/rules, with the paging and filter
    // parameters Grafana 12 sends, which Prometheus 2.42 ignores (so do we).
    let rules = "groups:\n  - name: app\n    rules:\n\
                 \x20     - record: job:app_requests:sum\n        expr: sum by (job) (app_requests_total)\n\
                 \x20     - alert: AppErrors\n        expr: app_requests_total{code=\"500\"} > 1\n\
                 \x20       labels: {severity: page}\n        annotations: {summary: errors}\n";
    let dir = tempfile::tempdir().unwrap();
    let both = prometheus_pair_with_rules(dir.path(), Some(rules));
    let firing = |base: &str| {
        eventually(Duration::from_secs(30), || {
            let (_, v) = call(base, "GET", "/api/v1/alerts", &[], None);
            (v["data"]["alerts"][0]["state"] == "firing").then_some(v)
        })
        .unwrap_or_else(|| panic!("{base}: AppErrors never fired"))
    };
    let ours_alerts = firing(&both.ours());
    let peer_alerts = both.peer.as_ref().map(|(_, base)| firing(base));
    let q = [
        ("group_limit", "100"),
        ("exclude_alerts", "false"),
        ("rule_group[]", "app"),
    ];
    let (ours, theirs) = both.call("GET", "/api/v1/rules", &q, None);
    assert_eq!(ours.0, 200);
    let group = &ours.1["data"]["groups"][0];
    assert_eq!(group["name"], "app");
    let alerting = &group["rules"][1];
    for f in ["name", "query", "state", "health", "type"] {
        assert!(alerting[f].is_string(), "{f} of {alerting}");
    }
    assert_eq!(alerting["alerts"][0]["labels"]["severity"], "page");
    if let (Some(t), Some(peer_alerts)) = (theirs, peer_alerts) {
        assert_eq!(shape(&ours.1), shape(&t.1), "rules shape");
        assert_eq!(shape(&ours_alerts), shape(&peer_alerts), "alerts shape");
    }
}

// ---------------------------------------------------------------------
// Alertmanager data source

const AM_CONFIG: &str =
    "route:\n  receiver: team\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 5s\n\
receivers:\n  - name: team\n  - name: other\n";

fn start_alertmanager(bin: &Path, dir: &Path) -> (Proc, String) {
    let port = free_port();
    std::fs::create_dir_all(dir).unwrap();
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, AM_CONFIG).unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start alertmanager");
    let proc = Proc(child);
    let base = format!("http://127.0.0.1:{port}");
    eventually(Duration::from_secs(30), || {
        http()
            .get(format!("{base}/-/ready"))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
    })
    .expect("alertmanager ready");
    (proc, base)
}

fn alertmanager_pair(dir: &Path) -> Both {
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, AM_CONFIG).unwrap();
    let ours = Server::start(
        &dir.join("data"),
        &["--alertmanager.config.file", cfg.to_str().unwrap()],
    );
    let peer = peer("prometheus-alertmanager").map(|bin| start_alertmanager(&bin, &dir.join("am")));
    let both = Both { ours, peer };
    // The same alerts to both, as a Prometheus would post them.
    let starts = time_rfc3339(now_s() - 60.0);
    let alerts = json!([
        {"labels": {"alertname": "HighLatency", "severity": "page", "job": "app"},
         "annotations": {"summary": "p95 over 1s"}, "startsAt": starts,
         "generatorURL": "http://prometheus/graph?g0.expr=x"},
        {"labels": {"alertname": "DiskFull", "severity": "ticket", "job": "db"},
         "annotations": {"summary": "disk at 95%"}, "startsAt": starts,
         "generatorURL": "http://prometheus/graph?g0.expr=y"}
    ]);
    for base in both.bases() {
        let (code, body) = post_json(&base, "/api/v2/alerts", &alerts);
        assert_eq!(code, 200, "{base}: {body}");
        eventually(Duration::from_secs(30), || {
            let (_, v) = call(&base, "GET", "/api/v2/alerts/groups", &[], None);
            (v.as_array()?.len() == 2).then_some(())
        })
        .unwrap_or_else(|| panic!("{base}: alerts never grouped"));
    }
    both
}

impl Both {
    fn bases(&self) -> Vec<String> {
        let mut v = vec![self.ours()];
        v.extend(self.peer.as_ref().map(|(_, b)| b.clone()));
        v
    }
}

/// Seconds since the epoch as Alertmanager writes times (UTC, millis).
fn time_rfc3339(s: f64) -> String {
    let ms = (s * 1000.0) as i64;
    let t = sightline_core::time::from_ms(ms).unwrap();
    sightline_core::time::rfc3339_millis(&t)
}

#[test]
fn issue_14_alertmanager_save_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let both = alertmanager_pair(dir.path());
    // Implementation "Prometheus": Grafana first asks the Mimir/Cortex
    // path and refuses the data source if it answers 200, then asks
    // /api/v2/status and wants a 200.
    let (ours, theirs) = both.call("GET", "/alertmanager/api/v2/status", &[], None);
    assert_ne!(
        ours.0, 200,
        "a 200 here makes Grafana say Mimir/Cortex: {}",
        ours.1
    );
    if let Some(t) = theirs {
        assert_ne!(t.0, 200);
    }
    let (ours, theirs) = both.call("GET", "/api/v2/status", &[], None);
    assert_eq!(ours.0, 200);
    // Read by the alerting pages: config.original (parsed as YAML for the
    // contact points and policies of an external Alertmanager), cluster
    // status, versionInfo, uptime.
    let original = ours.1["config"]["original"]
        .as_str()
        .expect("config.original");
    assert!(original.contains("receiver: team"), "{original}");
    // No gossip: "disabled", as Alertmanager says without a cluster.
    assert_eq!(ours.1["cluster"]["status"], "disabled");
    if let Some(t) = theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "status shape");
    }
    // Feature discovery asks buildinfo on the Alertmanager URL: only
    // `application: "Grafana Mimir"` changes anything. Alertmanager
    // answers 404 there; we answer Prometheus's buildinfo (same port),
    // which Grafana reads the same way.
    let (ours, _) = both.call("GET", "/api/v1/status/buildinfo", &[], None);
    assert_ne!(ours.1["data"]["application"], "Grafana Mimir");
}

#[test]
fn issue_14_alertmanager_alert_list_and_silences() {
    let dir = tempfile::tempdir().unwrap();
    let both = alertmanager_pair(dir.path());

    // The alert list groups by the Alertmanager's own groups, with the
    // filters Grafana sends.
    let q = [
        ("silenced", "false"),
        ("inhibited", "false"),
        ("active", "true"),
    ];
    let (ours, theirs) = both.call("GET", "/api/v2/alerts/groups", &q, None);
    assert_eq!(ours.0, 200);
    let groups = sorted(&ours.1);
    assert_eq!(groups.as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["receiver"]["name"], "team");
    assert_eq!(groups[0]["labels"], json!({"alertname": "DiskFull"}));
    let alert = &groups[0]["alerts"][0];
    for f in [
        "fingerprint",
        "startsAt",
        "endsAt",
        "updatedAt",
        "generatorURL",
    ] {
        assert!(alert[f].is_string(), "{f} in {alert}");
    }
    assert_eq!(alert["status"]["state"], "active");
    if let Some(t) = &theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "groups shape");
        let labels = |v: &Value| {
            sorted(&Value::Array(
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|g| g["labels"].clone())
                    .collect(),
            ))
        };
        assert_eq!(labels(&ours.1), labels(&t.1));
    }
    let q = [
        ("filter", "severity=\"page\""),
        ("silenced", "false"),
        ("inhibited", "false"),
        ("active", "true"),
    ];
    let (ours, theirs) = both.call("GET", "/api/v2/alerts", &q, None);
    assert_eq!(ours.1.as_array().map(Vec::len), Some(1), "{}", ours.1);
    assert_eq!(ours.1[0]["labels"]["alertname"], "HighLatency");
    if let Some(t) = &theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "alerts shape");
        assert_eq!(
            ours.1[0]["fingerprint"], t.1[0]["fingerprint"],
            "fingerprints"
        );
    }

    // A silence as Grafana's silence editor posts it (JSON, matchers with
    // isEqual), then the list, one silence, and expiry.
    let (s, e) = (time_rfc3339(now_s()), time_rfc3339(now_s() + 7200.0));
    let silence = json!({
        "matchers": [{"name": "alertname", "value": "HighLatency", "isRegex": false, "isEqual": true}],
        "startsAt": s, "endsAt": e, "createdBy": "grafana-admin", "comment": "deploying"
    });
    let mut ids = Vec::new();
    for base in both.bases() {
        let (code, body) = post_json(&base, "/api/v2/silences", &silence);
        assert_eq!(code, 200, "{base}: {body}");
        ids.push(body["silenceID"].as_str().expect("silenceID").to_owned());
    }
    let (ours, theirs) = both.call("GET", "/api/v2/silences", &[], None);
    let ours_sil = &ours.1[0];
    assert_eq!(ours_sil["id"], json!(ids[0]));
    assert_eq!(ours_sil["status"]["state"], "active");
    assert_eq!(ours_sil["matchers"], silence["matchers"]);
    if let Some(t) = &theirs {
        assert_eq!(shape(&ours.1), shape(&t.1), "silences shape");
    }
    // The silenced alert, as the list shows it once silenced.
    let silenced = |base: &str| {
        eventually(Duration::from_secs(15), || {
            let (_, v) = call(
                base,
                "GET",
                "/api/v2/alerts",
                &[("filter", "alertname=\"HighLatency\"")],
                None,
            );
            (v[0]["status"]["state"] == "suppressed").then(|| v[0]["status"].clone())
        })
        .unwrap_or_else(|| panic!("{base}: alert never silenced"))
    };
    let st = silenced(&both.ours());
    assert_eq!(st["silencedBy"], json!([ids[0]]));
    for (base, id) in both.bases().iter().zip(&ids) {
        let (code, one) = call(base, "GET", &format!("/api/v2/silence/{id}"), &[], None);
        assert_eq!((code, &one["id"]), (200, &json!(id)));
        let (code, _) = call(base, "DELETE", &format!("/api/v2/silence/{id}"), &[], None);
        assert_eq!(code, 200, "{base}: expire");
        let (_, one) = call(base, "GET", &format!("/api/v2/silence/{id}"), &[], None);
        assert_eq!(one["status"]["state"], "expired", "{base}");
    }
    // An unknown silence: 404 from us; Alertmanager 0.25 answers 500
    // `"silence not found"` (later versions 404). Grafana shows either as
    // an error.
    let (ours, theirs) = both.call(
        "DELETE",
        "/api/v2/silence/00000000-0000-0000-0000-000000000000",
        &[],
        None,
    );
    assert_eq!(ours.0, 404);
    if let Some(t) = theirs {
        assert_eq!((t.0, t.1), (500, json!("silence not found")));
    }
    // Contact points of an external Alertmanager.
    let (ours, theirs) = both.call("GET", "/api/v2/receivers", &[], None);
    assert_eq!(
        sorted(&ours.1),
        json!([{"name": "other"}, {"name": "team"}])
    );
    if let Some(t) = theirs {
        assert_eq!(sorted(&ours.1), sorted(&t.1));
    }
}
