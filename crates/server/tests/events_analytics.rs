//! Product analytics end to end (issue 19, item 4): a seeded corpus of
//! ~50k events with known structure, every analytics API answer compared
//! with the same question computed independently by a plain Python
//! program (events_analytics/expected.py) from the corpus as NDJSON.
//!
//! The events are served by the analytics routes over the event store
//! (day blocks and head), in-process; the intake and the store behind
//! `sightline serve` are tested by events_clients.rs and events_pii.rs.

mod common;
#[path = "events_analytics/corpus.rs"]
mod corpus;

use corpus::{corpus, serve, source, DAY, DAYS, T0};
use serde_json::{json, Value};
use sightline_eventstore::model::Event;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The questions: one API call each, and the same question for Python.
fn questions() -> Vec<(&'static str, &'static str, Value)> {
    let start = T0 / 1000;
    let end = (T0 + DAYS * DAY) / 1000;
    let amount_gt_50 = json!([{"key": "properties.amount", "op": {"gt": 50}}]);
    vec![
        ("names", "GET", json!({"start": start, "end": end})),
        (
            "values",
            "GET",
            json!({"start": start, "end": end, "key": "properties.path", "event": "page_view"}),
        ),
        (
            "query",
            "POST",
            json!({"start": start, "end": end, "step": "day", "events": ["page_view", "purchase"]}),
        ),
        (
            "query",
            "POST",
            json!({"start": start, "end": end, "step": "week", "events": ["purchase"],
            "breakdown": "properties.plan", "limit": 2}),
        ),
        (
            "query",
            "POST",
            json!({"start": start, "end": end, "step": "month", "events": ["add_to_cart"],
            "filters": [{"key": "properties.plan", "op": {"ne": "free"}}]}),
        ),
        (
            "active_users",
            "POST",
            json!({"start": start + 20 * 86400, "end": end}),
        ),
        (
            "active_users",
            "POST",
            json!({"start": start + 40 * 86400, "end": end, "events": ["purchase"]}),
        ),
        (
            "funnel",
            "POST",
            json!({"start": start, "end": end, "window": "3d",
            "steps": [{"event": "signup"}, {"event": "add_to_cart"}, {"event": "purchase", "filters": amount_gt_50}]}),
        ),
        (
            "funnel",
            "POST",
            json!({"start": start, "end": end, "window": "2h",
            "steps": [{"event": "login"}, {"event": "page_view"}, {"event": "purchase"}], "breakdown": "properties.plan"}),
        ),
        (
            "retention",
            "POST",
            json!({"start": start, "end": end, "period": "week",
            "cohort_event": "signup", "return_event": "login"}),
        ),
        (
            "retention",
            "POST",
            json!({"start": start, "end": start + 14 * 86400, "period": "day",
            "cohort_event": "signup", "return_event": "purchase"}),
        ),
        (
            "abtest",
            "POST",
            json!({"start": start, "end": end, "window": "7d",
            "exposure_event": "experiment_viewed", "variant_property": "properties.variant",
            "conversion_event": "purchase"}),
        ),
    ]
}

fn call(
    client: &reqwest::blocking::Client,
    base: &str,
    path: &str,
    method: &str,
    q: &Value,
) -> Value {
    let url = format!("{base}/{path}");
    let resp = if method == "GET" {
        let pairs: Vec<(String, String)> = q
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or(v.to_string(), str::to_string)))
            .collect();
        client.get(&url).query(&pairs).send()
    } else {
        client.post(&url).json(q).send()
    }
    .expect("request");
    let status = resp.status();
    let body: Value = resp.json().expect("JSON answer");
    assert_eq!(status, 200, "{path} {q}: {body}");
    body["data"].clone()
}

/// Equal as JSON, numbers within a relative 1e-9 (Python and Rust sum
/// floats in other orders).
fn same(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0) {
                Ok(())
            } else {
                Err(format!("{at}: ours {x}, Python {y}"))
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Err(format!(
                    "{at}: ours has {} items, Python {}",
                    x.len(),
                    y.len()
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .try_for_each(|(i, (x, y))| same(x, y, &format!("{at}[{i}]")))
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, yv) in y {
                same(x.get(k).unwrap_or(&Value::Null), yv, &format!("{at}.{k}"))?;
            }
            Ok(())
        }
        _ if a == b => Ok(()),
        _ => Err(format!("{at}: ours {a}, Python {b}")),
    }
}

fn python_answers(dir: &Path, events: &[Event], qs: &[(&str, &str, Value)]) -> Vec<Value> {
    let ndjson = dir.join("events.ndjson");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&ndjson).unwrap());
    for e in events {
        serde_json::to_writer(&mut f, e).unwrap();
        f.write_all(b"\n").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let qfile = dir.join("questions.json");
    let list: Vec<Value> = qs
        .iter()
        .map(|(p, _, q)| json!({"path": p, "q": q}))
        .collect();
    std::fs::write(&qfile, serde_json::to_vec(&list).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events_analytics/expected.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&ndjson)
        .arg(&qfile)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "expected.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("expected.py prints JSON")
}

#[test]
fn every_answer_matches_python() {
    let events = corpus();
    assert!(
        (40_000..70_000).contains(&events.len()),
        "{} events",
        events.len()
    );
    let dir = sightline_testkit::TempDir::new("events-analytics");
    let qs = questions();
    let want = python_answers(dir.path(), &events, &qs);
    let (_rt, base) = serve(source(events), false);
    let base = format!("{base}/api/v1/events");
    let client = common::http();
    let mut failures = Vec::new();
    for ((path, method, q), want) in qs.iter().zip(&want) {
        let got = call(&client, &base, path, method, q);
        if let Err(e) = same(&got, want, path) {
            failures.push(format!("{path} {q}:\n  {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The corpus's known structure shows through: variant b converts more.
    let ab = call(&client, &base, "abtest", "POST", &qs[11].2);
    let (c, b) = (&ab["variants"][0], &ab["variants"][1]);
    assert_eq!(
        (c["variant"].as_str(), b["variant"].as_str()),
        (Some("control"), Some("b"))
    );
    assert!(b["rate"].as_f64() > c["rate"].as_f64(), "{ab}");
    assert_eq!(b["significant"], json!(true), "{ab}");
}
