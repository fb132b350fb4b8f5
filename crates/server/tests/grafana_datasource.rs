//! Issue 14, item 8: Grafana still works, its Prometheus data source. Each
//! test replays the HTTP calls Grafana 11/12 makes (listed in
//! docs/grafana.md: "Save & test", Explore's language provider and metrics
//! browser, a dashboard panel and its template variables, the alert list
//! of data-source-managed rules), with Grafana's methods, headers, form
//! bodies and parameters, against a real `sightline serve` and against
//! Debian's Prometheus 2.42 scraping the same target. The fields Grafana
//! reads are checked, and the answers compared: equal where the data is
//! the same, equal in shape otherwise.

mod common;
mod grafana;

use common::{eventually, peer, start_prometheus_with, Server};
use grafana::{call, now_s, shape, sorted, Both};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

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
