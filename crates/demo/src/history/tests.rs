//! The history's OpenMetrics text, determinism, fault windows, spans and logs.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::*;
use crate::fault::CYCLE_MS;

/// A start on a schedule cycle boundary (2027-01-15T08:00:00Z).
const START: i64 = 1_800_000_000_000 - 1_800_000_000_000 % CYCLE_MS;
const HOUR: i64 = 3_600_000;

/// Samples by series (`name{labels}` as written): (ts seconds, value).
type Series = BTreeMap<String, Vec<(i64, f64)>>;

/// The series and the families (TYPE lines) in order.
fn parse(text: &str) -> (Series, Vec<String>) {
    let mut series = Series::new();
    let mut families = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            families.push(rest.split(' ').next().unwrap().to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, rest) = line
            .rsplit_once("} ")
            .unwrap_or_else(|| panic!("line {n}: {line}"));
        let mut w = rest.split(' ');
        let v: f64 = w
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("line {n}: {line}"));
        let t: i64 = w
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("line {n}: {line}"));
        assert!(w.next().is_none(), "line {n}: {line}");
        series.entry(format!("{name}}}")).or_default().push((t, v));
    }
    (series, families)
}

fn value_at(series: &Series, key: &str, t_s: i64) -> f64 {
    series
        .get(key)
        .and_then(|pts| pts.iter().rev().find(|(t, _)| *t <= t_s))
        .map_or(0.0, |(_, v)| *v)
}

#[test]
fn openmetrics_is_valid_counters_grow_and_buckets_are_cumulative() {
    let h = generate(START + 7_000, START + HOUR, 1);
    let om = &h.openmetrics;
    assert!(om.ends_with("\n# EOF\n"));
    assert_eq!(om.matches("# EOF").count(), 1);
    let (series, families) = parse(om);
    let unique: HashSet<_> = families.iter().collect();
    assert_eq!(
        unique.len(),
        families.len(),
        "each family once: {families:?}"
    );
    for f in [
        "up",
        "http_requests",
        "http_errors",
        "http_request_duration_seconds",
        "process_cpu_seconds",
    ] {
        assert!(families.iter().any(|x| x == f), "{f}");
    }
    // Each family's samples are contiguous, after its TYPE line.
    let mut seen_families = Vec::new();
    for line in om.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split('{').next().unwrap();
        let fam = families
            .iter()
            .filter(|f| name.starts_with(f.as_str()))
            .max_by_key(|f| f.len())
            .unwrap();
        if seen_families.last() != Some(fam) {
            assert!(!seen_families.contains(fam), "{fam} is split");
            seen_families.push(fam.clone());
        }
    }
    for (key, pts) in &series {
        assert!(
            pts.windows(2).all(|w| w[0].0 < w[1].0),
            "{key}: timestamps must increase"
        );
        assert!(pts.iter().all(|(t, _)| t % 15 == 0), "{key}: every 15 s");
        assert!(key.contains("instance=\"127.0.0.1:918"), "{key}");
        if key.contains("_total{")
            || key.contains("_bucket{")
            || key.contains("_count{")
            || key.contains("_sum{")
        {
            assert!(
                pts.windows(2).all(|w| w[0].1 <= w[1].1),
                "{key}: a counter only grows"
            );
        }
    }
    // Buckets: cumulative in le, +Inf equals _count, at every point.
    let mut checked = 0;
    for (key, count) in series
        .iter()
        .filter(|(k, _)| k.starts_with("http_request_duration_seconds_count{"))
    {
        let labels = &key["http_request_duration_seconds_count{".len()..key.len() - 1];
        let mut les: Vec<(f64, &Vec<(i64, f64)>)> = series
            .iter()
            .filter_map(|(k, v)| {
                let rest = k
                    .strip_prefix("http_request_duration_seconds_bucket{")?
                    .strip_prefix(labels)?;
                let le = rest.strip_prefix(",le=\"")?.strip_suffix("\"}")?;
                Some((
                    if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().unwrap()
                    },
                    v,
                ))
            })
            .collect();
        les.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(les.len(), 12, "{labels}");
        for (i, (t, c)) in count.iter().enumerate() {
            let vals: Vec<f64> = les.iter().map(|(_, v)| v[i].1).collect();
            assert!(les.iter().all(|(_, v)| v[i].0 == *t));
            assert!(
                vals.windows(2).all(|w| w[0] <= w[1]),
                "{labels} at {t}: {vals:?}"
            );
            assert_eq!(vals[11], *c);
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked}");
    // The live services' bucket bounds, as prometheus-client writes them.
    assert!(om.contains(r#"route="/",le="1.0"}"#) && om.contains(r#"route="/",le="0.005"}"#));
}

#[test]
fn deterministic_for_a_seed() {
    let a = generate(START, START + HOUR / 2, 3);
    let b = generate(START, START + HOUR / 2, 3);
    assert_eq!(a.openmetrics, b.openmetrics);
    assert_eq!(a.log_lines, b.log_lines);
    assert_eq!(a.spans, b.spans);
    let c = generate(START, START + HOUR / 2, 4);
    assert_ne!(a.openmetrics, c.openmetrics);
}

/// Over six cycles: checkout's error ratio in minutes 2-5 is the schedule's
/// 25% (plus the payment provider's 0.2%), about 0 in minutes 0-2; payments
/// are 900 ms slower in minutes 5-8; db is down (up 0) in 8:00-9:30.
#[test]
fn the_fault_schedule_shows_in_the_metrics() {
    let h = generate(START, START + HOUR, 5);
    let (series, _) = parse(&h.openmetrics);
    let target = |job: &str, port: u16| format!("job=\"{job}\",instance=\"127.0.0.1:{port}\"");
    let co = target("checkout", 9182);
    let err_key = format!("http_errors_total{{{co},method=\"POST\",route=\"/orders\"}}");
    let requests = |t: i64| -> f64 {
        series
            .iter()
            .filter(|(k, _)| {
                k.starts_with(&format!(
                    "http_requests_total{{{co},method=\"POST\",route=\"/orders\""
                ))
            })
            .map(|(k, _)| value_at(&series, k, t))
            .sum()
    };
    let ratio = |from_min: i64, to_min: i64| {
        let (mut e, mut r) = (0.0, 0.0);
        for cycle in 0..6 {
            let a = (START + cycle * CYCLE_MS + from_min * 60_000) / 1000;
            let b = (START + cycle * CYCLE_MS + to_min * 60_000) / 1000;
            e += value_at(&series, &err_key, b) - value_at(&series, &err_key, a);
            r += requests(b) - requests(a);
        }
        assert!(r > 1000.0, "{r} requests");
        e / r
    };
    let during = ratio(2, 5);
    assert!(
        (0.23..=0.28).contains(&during),
        "checkout error ratio in its fault window: {during}"
    );
    let before = ratio(0, 2);
    assert!(
        before < 0.01,
        "checkout error ratio with no fault: {before}"
    );

    let pay = target("payments", 9183);
    let sum_key =
        format!("http_request_duration_seconds_sum{{{pay},method=\"POST\",route=\"/charge\"}}");
    let count_key =
        format!("http_request_duration_seconds_count{{{pay},method=\"POST\",route=\"/charge\"}}");
    let mean = |from_min: i64, to_min: i64| {
        let a = (START + from_min * 60_000) / 1000;
        let b = (START + to_min * 60_000) / 1000;
        (value_at(&series, &sum_key, b) - value_at(&series, &sum_key, a))
            / (value_at(&series, &count_key, b) - value_at(&series, &count_key, a))
    };
    let (slow, normal) = (mean(5, 8), mean(0, 5));
    assert!(
        slow > 0.9 && normal < 0.2,
        "payments mean latency {slow} s slow, {normal} s normal"
    );

    let up = &series[&format!("up{{{}}}", target("db", 9184))];
    for (t, v) in up {
        let in_cycle = (t * 1000 - START).rem_euclid(CYCLE_MS);
        let down = (8 * 60_000..9 * 60_000 + 30_000).contains(&in_cycle);
        assert_eq!(
            *v,
            if down { 0.0 } else { 1.0 },
            "db up at {in_cycle} ms into the cycle"
        );
    }
    assert_eq!(up.len(), 240, "a point per scrape");
    // A down target's scrape stores nothing but up.
    let db_requests = series
        .iter()
        .find(|(k, _)| k.starts_with("http_requests_total{job=\"db\""))
        .unwrap()
        .1;
    assert!(db_requests.len() < 240 - 6 * 5, "{}", db_requests.len());
}

#[test]
fn spans_form_traces_and_logs_point_at_them() {
    let h = generate(START, START + HOUR, 9);
    let mut spans = HashMap::new();
    let mut services_per_trace: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
    for rs in &h.spans {
        let attrs = &rs.resource.as_ref().unwrap().attributes;
        let svc = match attrs[0].value.as_ref().unwrap().value.as_ref().unwrap() {
            Value::StringValue(s) => s.clone(),
            v => panic!("{v:?}"),
        };
        assert!(crate::SERVICES.contains(&svc.as_str()));
        for s in &rs.scope_spans[0].spans {
            assert!(s.end_time_unix_nano >= s.start_time_unix_nano);
            assert!(s.start_time_unix_nano >= START as u64 * 1_000_000);
            services_per_trace
                .entry(s.trace_id.clone())
                .or_default()
                .insert(svc.clone());
            spans.insert((s.trace_id.clone(), s.span_id.clone()), s.clone());
        }
    }
    let roots = spans
        .values()
        .filter(|s| s.parent_span_id.is_empty())
        .count();
    // 20 requests/s for an hour, one in 200 traced, plus some failures.
    assert!((300..=700).contains(&roots), "{roots} traces");
    for s in spans.values().filter(|s| !s.parent_span_id.is_empty()) {
        assert!(
            spans.contains_key(&(s.trace_id.clone(), s.parent_span_id.clone())),
            "orphan {}",
            s.name
        );
    }
    assert!(
        services_per_trace.values().any(|s| s.len() == 4),
        "a checkout crosses the four services"
    );
    assert!(!h.log_lines.is_empty());
    assert!(h.log_lines.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
    for l in &h.log_lines {
        let v: serde_json::Value = serde_json::from_str(&l.line).unwrap();
        for k in [
            "ts",
            "level",
            "service",
            "msg",
            "route",
            "status",
            "duration_ms",
            "trace_id",
            "span_id",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {}", l.line);
        }
        assert_eq!(v["service"], l.service);
        let id = |k: &str| -> Vec<u8> {
            let s = v[k].as_str().unwrap();
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        assert!(
            spans.contains_key(&(id("trace_id"), id("span_id"))),
            "{}",
            l.line
        );
    }
    assert!(h
        .log_lines
        .iter()
        .any(|l| l.line.contains("\"level\":\"error\"")));
}

/// The peer reads our text: promtool builds blocks from an hour of it.
#[test]
fn promtool_accepts_the_openmetrics() {
    let Ok(promtool) = which("promtool") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "promtool is missing under CI"
        );
        eprintln!("skipped: promtool not found on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.om");
    std::fs::write(&file, generate(START, START + HOUR, 1).openmetrics).unwrap();
    let out = std::process::Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(dir.path().join("blocks"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("NUM SAMPLES"), "{listing}");
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .ok_or(())
}

use opentelemetry_proto::tonic::common::v1::any_value::Value;
