//! Issue 3: the Prometheus HTTP API's metadata endpoints, the requests
//! Grafana's data source sends, and `promtool query`, against the real
//! Prometheus 2.42 on the same data (see `promql_peers`).

mod common;
mod promql_peers;

use promql_peers::{compare, outcome, secs, setup};
use serde_json::Value as Json;
use std::process::Command;

/// One request: method, path, parameters (query string for GET, form
/// body for POST).
struct Req {
    post: bool,
    path: &'static str,
    params: Vec<(&'static str, String)>,
}

fn get(path: &'static str, params: Vec<(&'static str, String)>) -> Req {
    Req {
        post: false,
        path,
        params,
    }
}

fn post(path: &'static str, params: Vec<(&'static str, String)>) -> Req {
    Req {
        post: true,
        path,
        params,
    }
}

/// Status code and parsed body (`Null` for an empty one).
fn send(url: &str, r: &Req) -> (u16, Json) {
    let c = common::http();
    let b = if r.post {
        c.post(format!("{url}{}", r.path)).form(&r.params)
    } else {
        c.get(format!("{url}{}", r.path)).query(&r.params)
    };
    let resp = b.send().unwrap_or_else(|e| panic!("{url}{}: {e}", r.path));
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    if text.is_empty() {
        return (status, Json::Null);
    }
    let body =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: bad JSON {e}: {text}", r.path));
    (status, body)
}

/// The requests Grafana's Prometheus data source sends (health check,
/// panels, the query editor's metric and label browsers, exemplars,
/// version detection, the query formatter), plus parameter errors whose
/// messages must be Prometheus's own. Status and `data` (or `errorType`
/// and `error`) must be equal on both servers.
#[test]
fn metadata_endpoints_and_grafana_requests_match_prometheus() {
    let Some(s) = setup() else {
        return;
    };
    let w = s.window;
    // Grafana sends whole unix seconds.
    let (from, to) = ((w.start / 1000).to_string(), (w.end / 1000).to_string());
    let last_hour = ((w.end / 1000) - 3600).to_string();
    let p = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    };
    let equal_data = vec![
        // "Save & test" runs 1+1 as an instant query.
        post("/api/v1/query", p(&[("query", "1+1"), ("time", &to)])),
        get("/api/v1/labels", vec![]),
        get("/api/v1/labels", p(&[("start", &from), ("end", &to)])),
        post(
            "/api/v1/labels",
            p(&[
                ("match[]", "http_requests_total"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get(
            "/api/v1/label/__name__/values",
            p(&[("start", &from), ("end", &to)]),
        ),
        get(
            "/api/v1/label/instance/values",
            p(&[
                ("match[]", "http_requests_total{job=\"api\"}"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get(
            "/api/v1/label/le/values",
            p(&[("match[]", "request_duration_seconds_bucket")]),
        ),
        get(
            "/api/v1/label/instance/values",
            p(&[
                ("match[]", "build_info"),
                ("match[]", "queue_depth"),
                ("start", &last_hour),
                ("end", &to),
            ]),
        ),
        get("/api/v1/label/nosuchlabel/values", vec![]),
        get(
            "/api/v1/series",
            p(&[
                ("match[]", "request_duration_seconds_bucket{instance=\"i1\"}"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        post(
            "/api/v1/series",
            p(&[
                ("match[]", "queue_depth"),
                ("match[]", "{__name__=~\"build_.*\", version!=\"1.2.0\"}"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get("/api/v1/series", p(&[("match[]", "nonexistent_metric")])),
        get("/api/v1/metadata", vec![]),
        get(
            "/api/v1/metadata",
            p(&[("metric", "http_requests_total"), ("limit", "1")]),
        ),
        post(
            "/api/v1/query_exemplars",
            p(&[
                ("query", "histogram_quantile(0.9, rate(request_duration_seconds_bucket[5m]))"),
                ("start", &from),
                ("end", &to),
            ]),
        ),
        get("/api/v1/query_exemplars", p(&[("query", "1")])),
        get(
            "/api/v1/format_query",
            p(&[(
                "query",
                "sum(rate(http_requests_total{job=\"api\"}[5m]))by(instance)/on(instance)group_left sum by(instance)(rate(http_requests_total[5m]))",
            )]),
        ),
        get("/api/v1/format_query", p(&[("query", "foo offset 5m + bar @ 100")])),
        // Parameter errors: same errorType and message.
        get("/api/v1/series", vec![]),
        get("/api/v1/series", p(&[("match[]", "{job=~\".*\"}")])),
        get("/api/v1/label/1bad/values", vec![]),
        get("/api/v1/query", p(&[("query", "1"), ("time", "yesterday")])),
        get("/api/v1/query", p(&[("query", "1"), ("timeout", "soon")])),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "20"), ("end", "10"), ("step", "1")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "0"), ("end", "10"), ("step", "0")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "0"), ("end", "11001"), ("step", "1")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "x"), ("end", "10"), ("step", "1")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[("query", "1"), ("start", "0"), ("end", "10"), ("step", "-5s")]),
        ),
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "1"),
                ("start", "2023-11-14T22:13:20Z"),
                ("end", "2023-11-14T22:13:20.5Z"),
                ("step", "250ms"),
            ]),
        ),
    ];
    // PromQL errors: 2.42 prints them bare where 3.x (and we) prefix
    // `invalid parameter "query": `, so only status and errorType compare.
    let same_error_type = vec![
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "queue_depth[5m]"),
                ("start", "0"),
                ("end", "10"),
                ("step", "1"),
            ]),
        ),
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "\"str\""),
                ("start", "0"),
                ("end", "10"),
                ("step", "1"),
            ]),
        ),
        post("/api/v1/query", p(&[("query", "sum(")])),
        post("/api/v1/query", vec![]),
        get(
            "/api/v1/query_range",
            p(&[
                ("query", "rate(x)"),
                ("start", "0"),
                ("end", "10"),
                ("step", "1"),
            ]),
        ),
    ];
    let mut failures = Vec::new();
    for r in &equal_data {
        let (ps, pb) = send(&s.prom.url, r);
        let (os, ob) = send(&s.ours.url(), r);
        let same = ps == os
            && pb.get("status") == ob.get("status")
            && pb.get("data") == ob.get("data")
            && pb.get("errorType") == ob.get("errorType")
            && pb.get("error") == ob.get("error");
        if !same {
            failures.push(format!(
                "{} {} {:?}:\n  prometheus {ps} {pb}\n  ours       {os} {ob}",
                if r.post { "POST" } else { "GET" },
                r.path,
                r.params
            ));
        }
    }

    for r in &same_error_type {
        let (ps, pb) = send(&s.prom.url, r);
        let (os, ob) = send(&s.ours.url(), r);
        if ps != os || pb.get("errorType") != ob.get("errorType") {
            failures.push(format!(
                "{} {:?}:\n  prometheus {ps} {pb}\n  ours       {os} {ob}",
                r.path, r.params
            ));
        }
    }

    // Panels: range queries as Grafana shapes them (integer seconds, step
    // in seconds, POST), compared like the PromQL suite.
    let panels = [
        "sum by (instance) (rate(http_requests_total[1m0s]))",
        "histogram_quantile(0.95, sum by (le) (rate(request_duration_seconds_bucket[2m])))",
        "topk(5, sum by (instance, code) (increase(http_requests_total[5m])))",
    ];
    for q in panels {
        let r = post(
            "/api/v1/query_range",
            p(&[
                ("query", q),
                ("start", &last_hour),
                ("end", &to),
                ("step", "15"),
            ]),
        );
        let run = |url: &str| {
            let c = common::http();
            outcome(
                c.post(format!("{url}{}", r.path))
                    .form(&r.params)
                    .send()
                    .unwrap(),
            )
        };
        if let Err(e) = compare(&run(&s.prom.url), &run(&s.ours.url()), false) {
            failures.push(format!("panel {q}: {e}"));
        }
    }

    // Shapes that cannot be equal (versions, paths, clocks), checked for
    // what clients read from them.
    for path in [
        "/api/v1/status/buildinfo",
        "/api/v1/status/runtimeinfo",
        "/api/v1/status/flags",
        "/api/v1/status/config",
        "/api/v1/status/tsdb",
    ] {
        let (ps, pb) = send(&s.prom.url, &get(path, vec![]));
        let (os, ob) = send(&s.ours.url(), &get(path, vec![]));
        assert_eq!((ps, os), (200, 200), "{path}: {pb} / {ob}");
        assert_eq!(ob["status"], "success", "{path}: {ob}");
        for key in [
            "version",
            "startTime",
            "storageRetention",
            "yaml",
            "headStats",
        ] {
            if pb["data"].get(key).is_some() {
                assert!(ob["data"].get(key).is_some(), "{path}: no {key}: {ob}");
            }
        }
    }
    let (_, ob) = send(&s.ours.url(), &get("/api/v1/status/buildinfo", vec![]));
    let version = ob["data"]["version"].as_str().unwrap_or_default();
    assert!(
        version
            .split('.')
            .filter_map(|x| x.parse::<u32>().ok())
            .count()
            == 3,
        "Grafana parses buildinfo's version as semver: {version:?}"
    );
    let (_, ob) = send(&s.ours.url(), &get("/api/v1/status/flags", vec![]));
    assert_eq!(ob["data"]["query.max-concurrency"], "20", "{ob}");

    for f in &failures {
        println!("MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "{} endpoint responses differ from Prometheus's (see above)",
        failures.len()
    );
}

/// `promtool query` prints the same against both servers. Queries avoid
/// sums of fractional values: the last digit of a float sum depends on
/// the order of its terms, which PromQL leaves open.
#[test]
fn promtool_query_prints_the_same_for_both_servers() {
    let Some(s) = setup() else {
        return;
    };
    let w = s.window;
    let t = secs(w.end - 20 * 60_000 + 7);
    let (start, end) = (
        secs(w.start + 65 * 60_000 + 7),
        secs(w.end - 5 * 60_000 + 7),
    );
    let cases: Vec<Vec<String>> = [
        vec!["instant", "{url}", "queue_depth", "--time", &t],
        vec![
            "instant",
            "{url}",
            "sort_desc(rate(http_requests_total[5m]))",
            "--time",
            &t,
        ],
        vec!["instant", "{url}", "scalar(sum(queue_depth))", "--time", &t],
        vec!["instant", "{url}", "\"hello\"", "--time", &t],
        vec!["instant", "{url}", "odd_values", "--time", &t],
        vec![
            "instant",
            "-o",
            "json",
            "{url}",
            "sort(node_temperature_celsius)",
            "--time",
            &t,
        ],
        vec!["instant", "{url}", "sum(", "--time", &t],
        vec![
            "instant",
            "{url}",
            "http_requests_total * on(instance) build_info",
            "--time",
            &t,
        ],
        vec![
            "range",
            "{url}",
            "max by (zone) (node_temperature_celsius)",
            "--start",
            &start,
            "--end",
            &end,
            "--step",
            "5m",
        ],
        vec![
            "range",
            "-o",
            "json",
            "{url}",
            "rate(http_requests_total{code=\"500\"}[5m])",
            "--start",
            &start,
            "--end",
            &end,
            "--step",
            "10m",
        ],
        vec![
            "series",
            "{url}",
            "--match",
            "queue_depth",
            "--match",
            "build_info{version=\"1.3.0\"}",
        ],
        vec![
            "series",
            "{url}",
            "--match",
            "request_duration_seconds_count",
            "--start",
            &start,
            "--end",
            &end,
        ],
        vec!["labels", "{url}", "instance"],
        vec!["labels", "{url}", "__name__"],
        vec![
            "labels",
            "{url}",
            "le",
            "--match",
            "request_duration_seconds_bucket",
        ],
    ]
    .iter()
    .map(|c| c.iter().map(|x| x.to_string()).collect())
    .collect();
    let run = |args: &[String], url: &str| {
        let out = Command::new(&s.promtool)
            .arg("query")
            .args(args.iter().map(|a| a.replace("{url}", url)))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let mut failures = Vec::new();
    for args in &cases {
        let (pc, pout) = run(args, &s.prom.url);
        let (oc, oout) = run(args, &s.ours.url());
        if pc != oc || pout != oout {
            failures.push(format!(
                "promtool query {args:?}:\n--- prometheus (exit {pc:?})\n{pout}\n--- ours (exit {oc:?})\n{oout}"
            ));
        }
    }
    println!(
        "promtool query: {} commands, {} differ",
        cases.len(),
        failures.len()
    );
    for f in &failures {
        println!("MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "promtool prints differently (see above)"
    );
}
