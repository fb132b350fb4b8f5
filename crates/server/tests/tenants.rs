//! Multi-tenancy end to end (issue 18, part 2): two tenants write metrics,
//! logs and traces; every read API, asked as one tenant, shows nothing of
//! the other's, and the default tenant sees neither. Plus the limits:
//! a remote_write cardinality bomb refused at the tenant's series limit,
//! the ingestion rate, and the query cut-offs.

mod common;

use common::{http, write_files, Server};
use prost::Message;
use serde_json::Value;
use sightline_proto::prometheus::{Label, Sample, TimeSeries, WriteRequest};
use std::time::{SystemTime, UNIX_EPOCH};

const CONFIG: &str = r#"
prometheus: prometheus.yml
logs:
  store:
    max_streams_per_tenant: 10000
tenants:
  limits:
    max_global_series_per_user: 100000
  overrides:
    bomb:
      max_global_series_per_user: 10000
    slow:
      ingestion_rate: 1
      ingestion_burst_size: 200
    narrow:
      max_fetched_series_per_query: 5
    otlpslow:
      ingestion_rate: 0.001
      ingestion_burst_size: 10
"#;

const PROMETHEUS: &str = "global:\n  scrape_interval: 1h\n";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn series(name: &str, extra: &[(&str, String)], t: i64) -> TimeSeries {
    let mut labels = vec![Label {
        name: "__name__".into(),
        value: name.into(),
    }];
    for (k, v) in extra {
        labels.push(Label {
            name: (*k).into(),
            value: v.clone(),
        });
    }
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    TimeSeries {
        labels,
        samples: vec![Sample {
            timestamp: t,
            value: 1.0,
        }],
        ..Default::default()
    }
}

/// POSTs a remote_write 1.0 request as `tenant` (none: no header).
fn remote_write(s: &Server, tenant: Option<&str>, ts: Vec<TimeSeries>) -> (u16, String) {
    let req = WriteRequest {
        timeseries: ts,
        ..Default::default()
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    let mut r = http()
        .post(format!("{}/api/v1/write", s.url()))
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .timeout(std::time::Duration::from_secs(120))
        .body(body);
    if let Some(t) = tenant {
        r = r.header("X-Scope-OrgID", t);
    }
    let r = r.send().unwrap();
    (r.status().as_u16(), r.text().unwrap_or_default())
}

fn get(s: &Server, tenant: Option<&str>, path: &str) -> (u16, String) {
    let mut r = http().get(format!("{}{path}", s.url()));
    if let Some(t) = tenant {
        r = r.header("X-Scope-OrgID", t);
    }
    let r = r.send().unwrap();
    (r.status().as_u16(), r.text().unwrap_or_default())
}

fn post_json(s: &Server, tenant: &str, path: &str, body: String) -> u16 {
    http()
        .post(format!("{}{path}", s.url()))
        .header("X-Scope-OrgID", tenant)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn start(dir: &std::path::Path) -> Server {
    write_files(
        dir,
        &[("sightline.yml", CONFIG), ("prometheus.yml", PROMETHEUS)],
    );
    let cfg = dir.join("sightline.yml");
    Server::start(
        &dir.join("data"),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--auth.multitenancy-enabled",
            "--otlp.grpc.listen",
            "0",
        ],
    )
}

/// Writes tenant `t`'s metric, log line and span, each naming `t`.
fn write_all(s: &Server, t: &str, now: i64, trace_id: &str) {
    let (st, body) = remote_write(
        s,
        Some(t),
        vec![series(
            &format!("m_{}", t.replace('-', "_")),
            &[("owner", t.to_owned())],
            now,
        )],
    );
    assert_eq!(st, 204, "{body}");
    let push = format!(
        r#"{{"streams":[{{"stream":{{"app":"app_{t}"}},"values":[["{}","line of {t}"]]}}]}}"#,
        now * 1_000_000
    );
    assert_eq!(post_json(s, t, "/loki/api/v1/push", push), 204);
    let span = format!(
        r#"[{{"traceId":"{trace_id}","id":"{}","name":"op_{t}","timestamp":{},"duration":1000,"localEndpoint":{{"serviceName":"svc_{t}"}}}}]"#,
        &trace_id[16..],
        now * 1000
    );
    assert_eq!(post_json(s, t, "/api/v2/spans", span), 202);
}

#[test]
fn each_tenant_sees_only_its_own_data_through_every_api_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let now = now_ms();
    let (ta, tb) = (
        "0000000000000000000000000000000a",
        "0000000000000000000000000000000b",
    );
    write_all(&s, "team-a", now, ta);
    write_all(&s, "team-b", now, tb);

    // Without the header a tenant API is refused as Loki and Mimir do.
    for path in [
        "/api/v1/query?query=up",
        "/api/v1/labels",
        "/loki/api/v1/labels",
        "/api/v2/services",
        "/api/services",
        "/api/search",
    ] {
        let (st, body) = get(&s, None, path);
        assert_eq!((st, body.trim()), (401, "no org id"), "{path}");
    }
    let (st, _) = remote_write(&s, None, vec![series("x", &[], now)]);
    assert_eq!(st, 401);
    // Health and self-metrics are nobody's.
    assert_eq!(get(&s, None, "/-/ready").0, 200);
    assert_eq!(get(&s, None, "/metrics").0, 200);

    let start_s = now / 1000 - 600;
    let end_s = now / 1000 + 60;
    let start_ns = (now - 600_000) * 1_000_000;
    let end_ns = (now + 60_000) * 1_000_000;
    // Every read API, and the strings that would betray each tenant.
    let paths = [
        "/api/v1/query?query={__name__=~\"m_.*\"}".to_owned(),
        format!(
            "/api/v1/query_range?query={{__name__=~\"m_.*\"}}&start={start_s}&end={end_s}&step=15"
        ),
        format!("/api/v1/series?match[]={{owner=~\".%2B\"}}&start={start_s}&end={end_s}"),
        "/api/v1/labels".to_owned(),
        "/api/v1/label/__name__/values".to_owned(),
        "/api/v1/label/owner/values".to_owned(),
        "/api/v1/label/__tenant__/values".to_owned(),
        format!("/api/v1/query_exemplars?query={{owner=~\".%2B\"}}&start={start_s}&end={end_s}"),
        format!("/loki/api/v1/query_range?query={{app=~\".%2B\"}}&start={start_ns}&end={end_ns}"),
        "/loki/api/v1/labels".to_owned(),
        "/loki/api/v1/label/app/values".to_owned(),
        format!("/loki/api/v1/series?match[]={{app=~\".%2B\"}}&start={start_ns}&end={end_ns}"),
        "/api/v2/services".to_owned(),
        "/api/v2/spans?serviceName=svc_team-a".to_owned(),
        "/api/services".to_owned(),
        format!("/api/search?start={start_s}&end={end_s}"),
        "/api/search/tag/service.name/values".to_owned(),
    ];
    let sees = |tenant: &str, who: &str| -> Vec<String> {
        paths
            .iter()
            .filter(|p| {
                let (st, body) = get(&s, Some(tenant), p);
                assert!(st < 500, "{p} as {tenant}: {st} {body}");
                body.contains(who)
            })
            .cloned()
            .collect()
    };
    let a_sees_b = sees("team-a", "team-b");
    assert!(
        a_sees_b.is_empty(),
        "team-a sees team-b's data at {a_sees_b:?}"
    );
    let b_sees_a = sees("team-b", "team-a");
    assert!(
        b_sees_a.is_empty(),
        "team-b sees team-a's data at {b_sees_a:?}"
    );
    let default_sees = [sees("fake", "team-a"), sees("fake", "team-b")].concat();
    assert!(
        default_sees.is_empty(),
        "the default tenant sees {default_sees:?}"
    );
    // And each does see its own (so the walk above could fail).
    let a_sees_a = sees("team-a", "team-a");
    for p in [
        &paths[0], &paths[1], &paths[2], &paths[5], &paths[8], &paths[10], &paths[12],
    ] {
        assert!(
            a_sees_a.contains(p),
            "team-a does not see its own data at {p}"
        );
    }
    // Traces by ID.
    assert_eq!(get(&s, Some("team-a"), &format!("/api/traces/{ta}")).0, 200);
    assert_eq!(get(&s, Some("team-a"), &format!("/api/traces/{tb}")).0, 404);
    assert_eq!(
        get(&s, Some("team-b"), &format!("/api/v2/trace/{ta}")).0,
        404
    );
    // The hidden label never shows.
    let (_, body) = get(&s, Some("team-a"), "/api/v1/labels");
    assert!(!body.contains("__tenant__"), "{body}");
    // Rules and alerts of the default tenant are not a tenant's.
    let (st, body) = get(&s, Some("team-a"), "/api/v1/rules");
    assert_eq!(st, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["groups"], serde_json::json!([]));
    s.stop();
}

#[test]
fn a_remote_write_cardinality_bomb_is_refused_at_the_tenant_series_limit_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let now = now_ms();
    // A bomb of 300k new series against a limit of 10k: refused as a
    // whole (remote write 1.0 rolls back), with Mimir's words and status.
    let bomb: Vec<TimeSeries> = (0..300_000)
        .map(|i| series("bomb_total", &[("i", i.to_string())], now))
        .collect();
    let (st, body) = remote_write(&s, Some("bomb"), bomb);
    assert_eq!(st, 400, "{body}");
    assert!(
        body.contains("per-user series limit of 10000 exceeded"),
        "{body}"
    );
    // Nothing of it was created.
    let (_, body) = get(&s, Some("bomb"), "/api/v1/query?query=count(bomb_total)");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"], serde_json::json!([]), "{body}");
    // Up to the limit goes in; then one more new series is refused while
    // known ones still take samples.
    let ok: Vec<TimeSeries> = (0..10_000)
        .map(|i| series("ok_total", &[("i", i.to_string())], now))
        .collect();
    assert_eq!(remote_write(&s, Some("bomb"), ok).0, 204);
    let (st, _) = remote_write(&s, Some("bomb"), vec![series("new_one", &[], now + 1)]);
    assert_eq!(st, 400);
    let again = vec![series("ok_total", &[("i", "7".to_owned())], now + 1)];
    assert_eq!(remote_write(&s, Some("bomb"), again).0, 204);
    let (_, body) = get(&s, Some("bomb"), "/api/v1/query?query=count(ok_total)");
    assert!(body.contains("\"10000\""), "{body}");
    // Another tenant is not affected by bomb's limit.
    let other: Vec<TimeSeries> = (0..20_000)
        .map(|i| series("other_total", &[("i", i.to_string())], now))
        .collect();
    assert_eq!(remote_write(&s, Some("other"), other).0, 204);
    // Refusals are counted per tenant and reason.
    let metrics = common::get_text(&format!("{}/metrics", s.url()));
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("sightline_discarded_samples_total")
                && l.contains("reason=\"per_user_series_limit\"")
                && l.contains("user=\"bomb\"")
        })
        .unwrap_or_else(|| panic!("no discarded count for bomb in:\n{metrics}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0, "{line}");
    s.stop();
}

#[test]
fn ingestion_rate_and_query_series_limits_refuse_in_mimirs_words_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let now = now_ms();
    let batch = |n: usize, name: &str| -> Vec<TimeSeries> {
        (0..n)
            .map(|i| series(name, &[("i", i.to_string())], now))
            .collect()
    };
    assert_eq!(remote_write(&s, Some("slow"), batch(150, "r_total")).0, 204);
    let (st, body) = remote_write(&s, Some("slow"), batch(150, "r2_total"));
    assert_eq!(st, 429, "{body}");
    assert!(
        body.contains("ingestion rate limit, set to 1 items/s"),
        "{body}"
    );
    // Nothing of the refused request went in.
    let (_, body) = get(&s, Some("slow"), "/api/v1/query?query=count(r2_total)");
    assert!(body.contains("\"result\":[]"), "{body}");

    assert_eq!(
        remote_write(&s, Some("narrow"), batch(10, "n_total")).0,
        204
    );
    let (st, body) = get(&s, Some("narrow"), "/api/v1/query?query=sum(n_total)");
    assert_eq!(st, 422, "{body}");
    assert!(
        body.contains("maximum number of series (limit: 5 series)"),
        "{body}"
    );
    let (st, _) = get(
        &s,
        Some("narrow"),
        "/api/v1/query?query=sum(n_total{i=~\"[0-3]\"})",
    );
    assert_eq!(st, 200);
    s.stop();
}

#[test]
fn a_loki_push_of_300k_streams_is_refused_at_the_stream_limit_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let t = now_ms() * 1_000_000;
    // Before the fix, the answer to this push was built in quadratic time
    // (over two minutes) and ran to tens of MB.
    let streams: Vec<String> = (0..300_000)
        .map(|i| format!(r#"{{"stream":{{"app":"bomb","i":"{i}"}},"values":[["{t}","x"]]}}"#))
        .collect();
    let body = format!(r#"{{"streams":[{}]}}"#, streams.join(","));
    let started = std::time::Instant::now();
    let r = http()
        .post(format!("{}/loki/api/v1/push", s.url()))
        .header("X-Scope-OrgID", "logbomb")
        .header("Content-Type", "application/json")
        .timeout(std::time::Duration::from_secs(120))
        .body(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    eprintln!("300k-stream push answered in {:?}", started.elapsed());
    assert_eq!(status, 429, "{}", &text[..text.len().min(300)]);
    assert!(
        text.contains("Maximum active stream limit exceeded"),
        "{}",
        &text[..300]
    );
    // No more than the limit was created, and another tenant is unaffected.
    let start = t - 60_000_000_000;
    let end = t + 60_000_000_000;
    let (_, body) = get(
        &s,
        Some("logbomb"),
        &format!("/loki/api/v1/series?match[]={{app=\"bomb\"}}&start={start}&end={end}"),
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"].as_array().map(Vec::len), Some(10_000));
    let one = format!(r#"{{"streams":[{{"stream":{{"app":"calm"}},"values":[["{t}","y"]]}}]}}"#);
    assert_eq!(post_json(&s, "calm", "/loki/api/v1/push", one), 204);
    s.stop();
}

/// OTLP metrics count against the same ingestion rate as remote write, in
/// translated samples (a classic histogram point: its buckets with +Inf,
/// plus sum and count), and a refused export writes nothing.
#[test]
fn otlp_metrics_are_held_to_the_tenant_ingestion_rate_issue_18() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    let ns = (now_ms() * 1_000_000).to_string();
    let export = |metric: String| {
        format!(
            r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeMetrics":[{{"metrics":[{metric}]}}]}}]}}"#
        )
    };
    let points: Vec<String> = (0..5)
        .map(|i| {
            format!(
                r#"{{"asDouble":1,"timeUnixNano":"{ns}","attributes":[{{"key":"i","value":{{"stringValue":"{i}"}}}}]}}"#
            )
        })
        .collect();
    let gauge = format!(
        r#"{{"name":"g_otlp","gauge":{{"dataPoints":[{}]}}}}"#,
        points.join(",")
    );
    // 5 samples of a burst of 10.
    assert_eq!(post_json(&s, "otlpslow", "/v1/metrics", export(gauge)), 200);
    // 5 bounds: 6 buckets, plus sum and count: 8 samples, past the 5 left.
    let histogram = format!(
        r#"{{"name":"h_otlp","histogram":{{"aggregationTemporality":2,"dataPoints":[{{"timeUnixNano":"{ns}","count":"6","sum":3,"explicitBounds":[1,2,3,4,5],"bucketCounts":["1","1","1","1","1","1"]}}]}}}}"#
    );
    let r = http()
        .post(format!("{}/v1/metrics", s.url()))
        .header("X-Scope-OrgID", "otlpslow")
        .header("Content-Type", "application/json")
        .body(export(histogram))
        .send()
        .unwrap();
    let st = r.status().as_u16();
    let body = r.text().unwrap();
    assert_eq!(st, 429, "{body}");
    assert!(
        body.contains(
            "ingestion rate limit, set to 0.001 items/s with a maximum allowed burst of 10"
        ),
        "{body}"
    );
    let (_, body) = get(&s, Some("otlpslow"), "/api/v1/query?query=count(g_otlp)");
    assert!(
        body.contains(r#""value":["#) && body.contains(r#""5"]"#),
        "{body}"
    );
    let (_, body) = get(
        &s,
        Some("otlpslow"),
        "/api/v1/query?query=count({__name__=~\"h_otlp.*\"})",
    );
    assert!(body.contains("\"result\":[]"), "{body}");
    s.stop();
}
