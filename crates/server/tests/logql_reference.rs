//! Issue 15, item 8: LogQL proven against an independent reference.
//!
//! `logql_reference/corpus.py` writes a deterministic corpus of 105,022
//! entries (JSON, logfmt, access-log, plain, multi-line stack traces, ANSI
//! colours, unicode, structured metadata, packed lines, lines on whole
//! minutes) over about 1h50m; the test pushes
//! it to `serve` through Loki's push API. `logql_reference/reference.py`, a
//! small LogQL evaluator written from Loki's documentation and sharing
//! nothing with `crates/logql`, answers every query of
//! `logql_reference/queries.txt`; the same queries go to our
//! `/loki/api/v1/query` and `/query_range`, and every answer that differs
//! is reported before the test fails.
//!
//! Logs are compared as (labels, timestamp, line) in answer order (every
//! timestamp of the corpus is distinct, so the order is total); vectors
//! and matrices by labels, values within 1e-9 relative. A query the
//! reference refuses must be refused with a 4xx.

mod common;

use common::{http, Server};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/logql_reference")
}

fn python_ok() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pushes the corpus in batches, each stream's entries in time order.
fn push_corpus(server: &Server, corpus: &Path) -> usize {
    let f = std::io::BufReader::new(std::fs::File::open(corpus).unwrap());
    let client = http();
    let mut batch: BTreeMap<String, (Value, Vec<Value>)> = BTreeMap::new();
    let mut in_batch = 0;
    let mut total = 0;
    let flush = |batch: &mut BTreeMap<String, (Value, Vec<Value>)>| {
        let streams: Vec<Value> = std::mem::take(batch)
            .into_values()
            .map(|(labels, values)| serde_json::json!({"stream": labels, "values": values}))
            .collect();
        let r = client
            .post(format!("{}/loki/api/v1/push", server.url()))
            .json(&serde_json::json!({ "streams": streams }))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        assert_eq!(
            status,
            204,
            "push refused: {}",
            r.text().unwrap_or_default()
        );
    };
    for line in f.lines() {
        let e: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let key = e["labels"].to_string();
        let mut value = vec![
            Value::String(e["ts"].as_i64().unwrap().to_string()),
            e["line"].clone(),
        ];
        if e["metadata"].as_object().is_some_and(|m| !m.is_empty()) {
            value.push(e["metadata"].clone());
        }
        batch
            .entry(key)
            .or_insert_with(|| (e["labels"].clone(), Vec::new()))
            .1
            .push(Value::Array(value));
        in_batch += 1;
        total += 1;
        if in_batch == 5000 {
            flush(&mut batch);
            in_batch = 0;
        }
    }
    if in_batch > 0 {
        flush(&mut batch);
    }
    total
}

fn client_get_json(url: &str) -> Value {
    http().get(url).send().unwrap().json().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "+Inf" | "Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or(f64::NAN),
        },
        v => v.as_f64().unwrap_or(f64::NAN),
    }
}

/// Labels equal, `"*"` in the expected ones standing for any value (the
/// text of `__error_details__` is the implementation's own).
fn labels_match(want: &Value, got: &Value) -> bool {
    let (Some(w), Some(g)) = (want.as_object(), got.as_object()) else {
        return false;
    };
    w.len() == g.len()
        && w.iter()
            .all(|(k, v)| g.get(k).is_some_and(|x| v == "*" || v == x))
}

/// The answer's lines as (labels, ts, line), in the asked direction.
fn flat_lines(data: &Value, backward: bool) -> Vec<(Value, String, String)> {
    let mut out = Vec::new();
    for s in data["result"].as_array().into_iter().flatten() {
        for v in s["values"].as_array().into_iter().flatten() {
            out.push((
                s["stream"].clone(),
                v[0].as_str().unwrap_or_default().to_owned(),
                v[1].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    out.sort_by_key(|x| x.1.parse::<i128>().unwrap_or(0));
    if backward {
        out.reverse();
    }
    out
}

fn compare_lines(want: &[Value], data: &Value, backward: bool) -> Option<String> {
    let got = flat_lines(data, backward);
    if data["resultType"] != "streams" {
        return Some(format!("resultType {} (want streams)", data["resultType"]));
    }
    for (i, w) in want.iter().enumerate() {
        let Some(g) = got.get(i) else {
            return Some(format!(
                "{} lines, want {}; first missing: {w}",
                got.len(),
                want.len()
            ));
        };
        if !labels_match(&w[0], &g.0) || w[1] != g.1.as_str() || w[2] != g.2.as_str() {
            return Some(format!(
                "line {i} of {}: want {w}\n      got [{}, {:?}, {:?}]",
                want.len(),
                g.0,
                g.1,
                g.2
            ));
        }
    }
    (got.len() > want.len()).then(|| {
        format!(
            "{} lines, want {}; first extra: {:?}",
            got.len(),
            want.len(),
            got[want.len()]
        )
    })
}

fn compare_series(want: &[Value], data: &Value, kind: &str, ordered: bool) -> Option<String> {
    if data["resultType"] != kind {
        return Some(format!("resultType {} (want {kind})", data["resultType"]));
    }
    let got = data["result"].as_array().cloned().unwrap_or_default();
    if got.len() != want.len() {
        let names = |v: &[Value]| {
            v.iter()
                .map(|s| s["metric"].to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Some(format!(
            "{} series, want {}\n      got:  {}\n      want: {}",
            got.len(),
            want.len(),
            names(&got),
            names(want)
        ));
    }
    for (i, w) in want.iter().enumerate() {
        let g = if ordered {
            Some(&got[i])
        } else {
            got.iter().find(|g| g["metric"] == w["metric"])
        };
        let Some(g) = g.filter(|g| g["metric"] == w["metric"]) else {
            return Some(format!("no series {} (at {i})", w["metric"]));
        };
        let points = |s: &Value| -> Vec<(f64, f64)> {
            if kind == "vector" {
                vec![(num(&s["value"][0]), num(&s["value"][1]))]
            } else {
                s["values"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| (num(&p[0]), num(&p[1])))
                    .collect()
            }
        };
        let (wp, gp) = (points(w), points(g));
        let same = wp.len() == gp.len()
            && wp
                .iter()
                .zip(&gp)
                .all(|(a, b)| (a.0 - b.0).abs() < 1e-3 && close(a.1, b.1));
        if !same {
            return Some(format!(
                "series {}: want {wp:?}\n      got {gp:?}",
                w["metric"]
            ));
        }
    }
    None
}

#[test]
fn issue_15_logql_matches_the_reference_evaluator() {
    if !python_ok() {
        sightline_testkit::skip("python3 is not installed (apt-get install python3)");
        return;
    }
    let began = std::time::Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    // The corpus spans 1h50m and must end before now (Loki refuses lines
    // from the future): it starts on a whole minute 2h ago.
    let minute = 60_000_000_000i64;
    let base = (now / minute) * minute - 120 * minute;
    let corpus = tmp.path().join("corpus.ndjson");
    let st = Command::new("python3")
        .arg(dir().join("corpus.py"))
        .arg(&corpus)
        .arg(base.to_string())
        .status()
        .unwrap();
    assert!(st.success(), "corpus.py failed");

    // The reference answers while the server starts and takes the pushes.
    let expected_path = tmp.path().join("expected.json");
    let mut reference = Command::new("python3")
        .arg(dir().join("reference.py"))
        .arg(&corpus)
        .arg(base.to_string())
        .arg(dir().join("queries.txt"))
        .stdout(std::fs::File::create(&expected_path).unwrap())
        .spawn()
        .unwrap();

    let server = Server::start(&tmp.path().join("data"), &[]);
    let pushed = push_corpus(&server, &corpus);
    assert!(pushed >= 100_000, "{pushed} entries");
    eprintln!("pushed {pushed} entries at {:?}", began.elapsed());

    // A count known without either evaluator: every pushed line is there.
    let all = client_get_json(&format!(
        "{}/loki/api/v1/query?query={}&time={}",
        server.url(),
        urlencode(r#"sum(count_over_time({job=~".+"} | drop trace_id, tenant_tier [3h]))"#),
        base + 120 * minute
    ));
    assert_eq!(
        num(&all["data"]["result"][0]["value"][1]),
        pushed as f64,
        "{all}"
    );

    assert!(reference.wait().unwrap().success(), "reference.py failed");
    let items: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&expected_path).unwrap()).unwrap();
    assert!(items.len() >= 150, "{} queries", items.len());
    eprintln!("reference answered at {:?}", began.elapsed());

    let client = http();
    let mut failures = Vec::new();
    for item in &items {
        let q = item["query"].as_str().unwrap();
        let kind = item["kind"].as_str().unwrap();
        let endpoint = if kind == "instant" {
            "query"
        } else {
            "query_range"
        };
        let mut url = format!(
            "{}/loki/api/v1/{endpoint}?query={}",
            server.url(),
            urlencode(q)
        );
        for (k, v) in item["params"].as_object().unwrap() {
            url.push_str(&format!("&{k}={}", v.as_str().unwrap()));
        }
        let r = client.get(&url).send().unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().unwrap_or(Value::Null);
        let want = &item["expected"];
        let problem = if let Some(e) = want.get("error") {
            (!(400..500).contains(&status))
                .then(|| format!("status {status}, want a 4xx refusal ({e})"))
        } else if status != 200 {
            Some(format!("status {status}: {body}"))
        } else if let Some(lines) = want["streams"].as_array() {
            let backward = item["params"]["direction"] != "forward";
            compare_lines(lines, &body["data"], backward)
        } else if let Some(v) = want["vector"].as_array() {
            let ordered = item["ordered"].as_bool().unwrap_or(false);
            compare_series(v, &body["data"], "vector", ordered)
        } else if let Some(m) = want["matrix"].as_array() {
            compare_series(m, &body["data"], "matrix", false)
        } else if let Some(s) = want["scalar"].as_array() {
            let got = &body["data"];
            (got["resultType"] != "scalar" || !close(num(&s[1]), num(&got["result"][1])))
                .then(|| format!("got {got}, want scalar {}", s[1]))
        } else {
            Some(format!("unknown expectation {want}"))
        };
        if let Some(p) = problem {
            failures.push(format!(
                "queries.txt:{} {kind} {q}\n      {p}",
                item["line"]
            ));
        }
    }
    eprintln!("{} queries compared at {:?}", items.len(), began.elapsed());
    let mut err = std::io::stderr().lock();
    for f in &failures {
        let _ = writeln!(err, "MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries differ from the reference (listed above)",
        failures.len(),
        items.len()
    );
}
