//! Evaluation over an in-memory store: two services' lines at known
//! times, each expected answer counted by hand.

use super::*;
use crate::parse;
use sightline_core::logs::{LogAppender, LogEntry, LogStream, MemLogStore};
use sightline_core::Labels;

const S: i64 = 1_000_000_000;

/// `api`: one line every 10 s from t=10s to t=120s (12 lines): status 200,
/// except every third line (t=30,60,90,120) a 500; latency = t/10 ms.
/// `web`: logfmt lines at t=5s,15s,...,115s (12 lines), level=error at
/// t=5,55,105.
fn store() -> MemLogStore {
    let s = MemLogStore::new();
    let api = (1..=12)
        .map(|i| {
            let t = i * 10;
            let status = if i % 3 == 0 { 500 } else { 200 };
            LogEntry {
                ts_ns: t * S,
                line: format!(
                    r#"{{"status":{status},"path":"/p{}","latency_ms":{}}}"#,
                    i % 2,
                    t / 10
                ),
                metadata: vec![],
            }
        })
        .collect();
    let web = (0..12)
        .map(|i| {
            let t = 5 + i * 10;
            let level = if i % 5 == 0 { "error" } else { "info" };
            LogEntry {
                ts_ns: t * S,
                line: format!("level={level} msg=\"req {i}\" bytes={}", 100 * (i + 1)),
                metadata: vec![("trace_id".into(), format!("t{i}"))],
            }
        })
        .collect();
    s.append(
        "fake",
        vec![
            LogStream {
                labels: Labels::from_pairs([("job", "api"), ("env", "prod")]),
                entries: api,
            },
            LogStream {
                labels: Labels::from_pairs([("job", "web"), ("env", "prod")]),
                entries: web,
            },
        ],
    )
    .unwrap();
    s
}

fn range(q: &str, start: i64, end: i64, step: i64) -> QueryResult {
    let p = Params {
        start_ns: start * S,
        end_ns: end * S,
        step_ns: step * S,
        backward: true,
        limit: 100,
    };
    evaluate(&store(), "fake", &parse(q).unwrap(), &p, false)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .0
}

fn instant(q: &str, at: i64) -> Vec<(LabelSet, f64)> {
    let p = Params {
        start_ns: at * S,
        end_ns: at * S,
        step_ns: S,
        backward: true,
        limit: 100,
    };
    match evaluate(&store(), "fake", &parse(q).unwrap(), &p, true)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .0
    {
        QueryResult::Vector(v) => v.into_iter().map(|s| (s.labels, s.points[0].1)).collect(),
        r => panic!("{q}: {r:?}"),
    }
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn log_query_merges_streams_by_time_and_limits() {
    let p = Params {
        start_ns: 0,
        end_ns: 200 * S,
        step_ns: S,
        backward: true,
        limit: 5,
    };
    let (r, stats) = evaluate(
        &store(),
        "fake",
        &parse(r#"{env="prod"}"#).unwrap(),
        &p,
        false,
    )
    .unwrap();
    let QueryResult::Streams(streams) = r else {
        panic!()
    };
    // The five newest lines: api 120, web 115, api 110, web 105, api 100.
    let mut all: Vec<i64> = streams
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.0 / S))
        .collect();
    all.sort();
    assert_eq!(all, vec![100, 105, 110, 115, 120]);
    assert_eq!(stats.lines_returned, 5);
    // Forward: the five oldest.
    let p = Params {
        backward: false,
        ..p
    };
    let QueryResult::Streams(streams) = evaluate(
        &store(),
        "fake",
        &parse(r#"{env="prod"}"#).unwrap(),
        &p,
        false,
    )
    .unwrap()
    .0
    else {
        panic!()
    };
    let mut all: Vec<i64> = streams
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.0 / S))
        .collect();
    all.sort();
    assert_eq!(all, vec![5, 10, 15, 20, 25]);
    // `[start, end)`: a line at `end` is not returned.
    let p = Params {
        start_ns: 10 * S,
        end_ns: 20 * S,
        step_ns: S,
        backward: true,
        limit: 100,
    };
    let QueryResult::Streams(streams) = evaluate(
        &store(),
        "fake",
        &parse(r#"{job="api"}"#).unwrap(),
        &p,
        false,
    )
    .unwrap()
    .0
    else {
        panic!()
    };
    assert_eq!(
        streams[0]
            .entries
            .iter()
            .map(|e| e.0 / S)
            .collect::<Vec<_>>(),
        vec![10]
    );
}

#[test]
fn log_query_groups_by_labels_after_the_pipeline() {
    let r = range(
        r#"{job="api"} | json | status >= 500 | line_format "{{.path}}""#,
        0,
        200,
        1,
    );
    let QueryResult::Streams(streams) = r else {
        panic!()
    };
    // 500s at t=30,60,90,120: paths /p1,/p0,/p1,/p0 (i%2 for i=3,6,9,12);
    // each line has its own latency_ms label, so four streams.
    assert_eq!(streams.len(), 4);
    let lines: Vec<&str> = streams
        .iter()
        .flat_map(|s| s.entries.iter().map(|e| e.1.as_str()))
        .collect();
    assert_eq!(lines.iter().filter(|l| **l == "/p0").count(), 2);
    assert!(streams
        .iter()
        .all(|s| s.labels.get("status").map(String::as_str) == Some("500")));
    // Structured metadata is a label.
    let QueryResult::Streams(s) = range(r#"{job="web"} | trace_id="t3""#, 0, 200, 1) else {
        panic!()
    };
    assert_eq!(s[0].entries.len(), 1);
    assert_eq!(s[0].entries[0].0, 35 * S);
}

#[test]
fn count_and_rate() {
    // At t=60: window (0s, 60s]: api lines at 10..60 = 6.
    assert_eq!(
        instant(r#"count_over_time({job="api"}[1m])"#, 60),
        vec![(ls(&[("env", "prod"), ("job", "api")]), 6.0)]
    );
    // rate = 6 / 60 s.
    assert_eq!(instant(r#"rate({job="api"}[1m])"#, 60)[0].1, 0.1);
    // Only the 500s: t=30,60 in (0,60].
    assert_eq!(
        instant(
            r#"sum(count_over_time({job="api"} | json | status="500" [1m]))"#,
            60
        ),
        vec![(ls(&[]), 2.0)]
    );
    // By status, over the whole 2 minutes at t=120: 8 x 200, 4 x 500.
    let mut by = instant(
        r#"sum by (status) (count_over_time({job="api"} | json [2m]))"#,
        120,
    );
    by.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        by,
        vec![
            (ls(&[("status", "200")]), 8.0),
            (ls(&[("status", "500")]), 4.0)
        ]
    );
    // bytes_over_time: the web lines at 5,15,25 in (0,30]: lengths by hand.
    // (Each web line has its own trace_id in structured metadata, a label
    // of its own series as in Loki: sum them.)
    let lines = [
        "level=error msg=\"req 0\" bytes=100",
        "level=info msg=\"req 1\" bytes=200",
        "level=info msg=\"req 2\" bytes=300",
    ];
    let want: usize = lines.iter().map(|l| l.len()).sum();
    assert_eq!(
        instant(r#"sum(bytes_over_time({job="web"}[30s]))"#, 30)[0].1,
        want as f64
    );
}

#[test]
fn range_query_steps() {
    // count_over_time over 30 s windows at 30, 60, 90, 120: 3 api lines each.
    let QueryResult::Matrix(m) = range(r#"count_over_time({job="api"}[30s])"#, 30, 120, 30) else {
        panic!()
    };
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].points,
        vec![(30 * S, 3.0), (60 * S, 3.0), (90 * S, 3.0), (120 * S, 3.0)]
    );
    // offset 30s at step 60: window (0,30]: 3.
    assert_eq!(
        instant(r#"count_over_time({job="api"}[30s] offset 30s)"#, 60)[0].1,
        3.0
    );
}

#[test]
fn unwrapped_aggregations() {
    // latency_ms = t/10 for t=10..60 in (0,60]: 1..6.
    // (Grouped by job: the json parser's path and status labels would
    // otherwise split the samples into series.)
    let q = |f: &str| {
        instant(
            &format!(r#"{f}({{job="api"}} | json | unwrap latency_ms [1m]) by (job)"#),
            60,
        )[0]
        .1
    };
    assert_eq!(q("sum_over_time"), 21.0);
    assert_eq!(q("avg_over_time"), 3.5);
    assert_eq!(q("min_over_time"), 1.0);
    assert_eq!(q("max_over_time"), 6.0);
    assert_eq!(q("first_over_time"), 1.0);
    assert_eq!(q("last_over_time"), 6.0);
    // Population variance of 1..6: 35/12.
    assert!((q("stdvar_over_time") - 35.0 / 12.0).abs() < 1e-12);
    // quantile 0.5 of 1..6: rank 2.5 -> 3.5.
    assert_eq!(
        instant(
            r#"quantile_over_time(0.5, {job="api"} | json | unwrap latency_ms [1m]) by (job)"#,
            60
        )[0]
        .1,
        3.5
    );
    // Grouped by path: /p1 at t=10,30,50 (1,3,5) and /p0 at 20,40,60 (2,4,6).
    let mut g = instant(
        r#"sum_over_time({job="api"} | json | unwrap latency_ms [1m]) by (path)"#,
        60,
    );
    g.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        g,
        vec![
            (ls(&[("path", "/p0")]), 12.0),
            (ls(&[("path", "/p1")]), 9.0)
        ]
    );
    // A line whose unwrapped label is not a number is an error unless filtered.
    let p = Params {
        start_ns: 60 * S,
        end_ns: 60 * S,
        step_ns: S,
        backward: true,
        limit: 10,
    };
    let e = evaluate(
        &store(),
        "fake",
        &parse(r#"sum_over_time({job="api"} | json | unwrap path [1m])"#).unwrap(),
        &p,
        true,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("pipeline error: 'SampleExtractionErr'"),
        "{e}"
    );
    assert!(instant(
        r#"sum_over_time({job="api"} | json | unwrap path | __error__="" [1m])"#,
        60
    )
    .is_empty());
}

#[test]
fn vector_aggregations_and_binaries() {
    // At t=60: api 6 lines, web 6 lines (5..55) in (0,60].
    let by_job = r#"sum by (job) (count_over_time({env="prod"}[1m]))"#;
    assert_eq!(instant(&format!("topk(1, {by_job})"), 60).len(), 1);
    assert_eq!(instant(&format!("count({by_job})"), 60)[0].1, 2.0);
    // Errors over all, per job: web errors at 5, 55 -> 2/6; api 500s at 30,60 -> 2/6.
    let ratio = r#"sum by (job) (count_over_time({env="prod"} |~ "error|\"status\":500" [1m])) / sum by (job) (count_over_time({env="prod"}[1m]))"#;
    let mut r = instant(ratio, 60);
    r.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        r.iter().map(|x| x.1).collect::<Vec<_>>(),
        vec![2.0 / 6.0, 2.0 / 6.0]
    );
    // Comparison filters; bool gives 0/1.
    assert_eq!(instant(&format!("{by_job} > 5"), 60).len(), 2);
    assert!(instant(&format!("{by_job} > 6"), 60).is_empty());
    assert_eq!(
        instant(&format!("{by_job} > bool 6"), 60)
            .iter()
            .map(|x| x.1)
            .sum::<f64>(),
        0.0
    );
    // Arithmetic with a scalar, and precedence.
    assert_eq!(
        instant(r#"sum(count_over_time({job="api"}[1m])) * 2 + 1"#, 60)[0].1,
        13.0
    );
    // or / and / unless.
    assert_eq!(
        instant(
            r#"sum(count_over_time({job="nothing"}[1m])) or vector(0)"#,
            60
        ),
        vec![(ls(&[]), 0.0)]
    );
    assert_eq!(
        instant(
            &format!(r#"{by_job} and on (job) sum by (job) (count_over_time({{job="api"}}[1m]))"#),
            60
        )
        .len(),
        1
    );
    assert_eq!(
        instant(
            &format!(
                r#"{by_job} unless on (job) sum by (job) (count_over_time({{job="api"}}[1m]))"#
            ),
            60
        )[0]
        .0,
        ls(&[("job", "web")])
    );
    // label_replace.
    let r = instant(
        &format!(r#"label_replace({by_job}, "service", "svc-$1", "job", "(a.*)")"#),
        60,
    );
    assert!(r
        .iter()
        .any(|x| x.0.get("service").map(String::as_str) == Some("svc-api")));
    assert!(
        r.iter()
            .any(|x| x.0.get("job").map(String::as_str) == Some("web")
                && !x.0.contains_key("service"))
    );
}

#[test]
fn absent_and_sort() {
    assert_eq!(
        instant(r#"absent_over_time({job="nothing"}[1m])"#, 60),
        vec![(ls(&[("job", "nothing")]), 1.0)]
    );
    assert!(instant(r#"absent_over_time({job="api"}[1m])"#, 60).is_empty());
    let r = instant(
        r#"sort_desc(sum by (job) (count_over_time({env="prod"} | logfmt | level="error" or job="api" [2m])))"#,
        120,
    );
    // api: 12 lines; web errors at 5, 55, 105: 3.
    assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![12.0, 3.0]);
}

#[test]
fn log_queries_are_not_instant() {
    let p = Params {
        start_ns: 0,
        end_ns: S,
        step_ns: S,
        backward: true,
        limit: 10,
    };
    let e = evaluate(
        &store(),
        "fake",
        &parse(r#"{job="api"}"#).unwrap(),
        &p,
        true,
    )
    .unwrap_err();
    assert!(e.to_string().contains("not supported as an instant query"));
}

/// 600 JSON lines at t = 1..=600 s, each with its own `id` (so `| json`
/// makes a series per line) and status 500 for every fourth line.
fn wide_store() -> MemLogStore {
    let s = MemLogStore::new();
    let entries = (1..=600)
        .map(|i: i64| LogEntry {
            ts_ns: i * S,
            line: format!(
                r#"{{"id":"r{i}","status":{}}}"#,
                if i % 4 == 0 { 500 } else { 200 }
            ),
            metadata: vec![],
        })
        .collect();
    s.append(
        "fake",
        vec![LogStream {
            labels: Labels::from_pairs([("job", "wide")]),
            entries,
        }],
    )
    .unwrap();
    s
}

#[test]
fn sum_by_over_a_parser_counts_the_answer_s_series_not_the_lines() {
    // Issue 15: `sum by (status) (count_over_time({..} | json [..]))` over
    // lines that each carry their own id answers two series, as Loki does
    // (its max_query_series limit counts the answer).
    let p = Params {
        start_ns: 100 * S,
        end_ns: 600 * S,
        step_ns: 100 * S,
        backward: true,
        limit: 100,
    };
    let q = r#"sum by (status) (count_over_time({job="wide"} | json [100s]))"#;
    let (r, _) = evaluate(&wide_store(), "fake", &parse(q).unwrap(), &p, false).unwrap();
    let QueryResult::Matrix(m) = r else {
        panic!("{r:?}")
    };
    // By hand: every window (t-100s, t] holds 100 lines, 25 of them a 500.
    assert_eq!(m.len(), 2);
    for s in &m {
        let want = if s.labels["status"] == "500" {
            25.0
        } else {
            75.0
        };
        assert_eq!(s.points.len(), 6, "{:?}", s.labels);
        assert!(s.points.iter().all(|&(_, v)| v == want), "{s:?}");
    }
    // The same sum over rate: count / 100 s.
    let q = r#"sum by (status) (rate({job="wide"} | json [100s]))"#;
    let (r, _) = evaluate(&wide_store(), "fake", &parse(q).unwrap(), &p, false).unwrap();
    let QueryResult::Matrix(m) = r else {
        panic!("{r:?}")
    };
    let five = m.iter().find(|s| s.labels["status"] == "500").unwrap();
    assert!(five.points.iter().all(|&(_, v)| (v - 0.25).abs() < 1e-12));
    // A label filter after the parser reads a label the grouping drops
    // (`id`): it is still extracted. By hand: (0,100] holds r1, r10..r19,
    // r100 (12 lines; 500s at 12, 16, 100); (100,200] holds r101..r199
    // (99 lines; 500s at 104..196, 24 of them); later windows none.
    let q = r#"sum by (status) (count_over_time({job="wide"} | json | id =~ "r1.*" [100s]))"#;
    let (r, _) = evaluate(&wide_store(), "fake", &parse(q).unwrap(), &p, false).unwrap();
    let QueryResult::Matrix(m) = r else {
        panic!("{r:?}")
    };
    let pts = |st: &str| {
        m.iter()
            .find(|s| s.labels["status"] == st)
            .map(|s| s.points.clone())
            .unwrap_or_default()
    };
    assert_eq!(pts("500"), vec![(100 * S, 3.0), (200 * S, 24.0)]);
    assert_eq!(pts("200"), vec![(100 * S, 9.0), (200 * S, 75.0)]);
    // Without the sum the answer itself has 600 series: refused.
    let q = r#"count_over_time({job="wide"} | json [100s])"#;
    let e = evaluate(&wide_store(), "fake", &parse(q).unwrap(), &p, false).unwrap_err();
    assert!(matches!(e, EvalError::TooManySeries), "{e}");
    // `without` groups the same way: dropping id leaves job and status.
    let q = r#"sum without (id) (count_over_time({job="wide"} | json [100s]))"#;
    let (r, _) = evaluate(&wide_store(), "fake", &parse(q).unwrap(), &p, false).unwrap();
    let QueryResult::Matrix(m) = r else {
        panic!("{r:?}")
    };
    assert_eq!(m.len(), 2);
    assert!(m
        .iter()
        .all(|s| s.labels.get("job").map(String::as_str) == Some("wide")));
}

/// Issue 15: the store may stop at `limit` lines per stream only when the
/// hinted `|=` filters are the whole pipeline; `{job="billing"} |~ "x"`
/// with limit 40 answered 7 lines because the store handed over only the
/// newest 40 lines of each stream, before the regex threw most away.
#[test]
fn issue_15_store_limit_only_when_the_store_decides_every_line() {
    let hints = |q: &str| match parse(q).unwrap() {
        Expr::Log(l) => hints_for(&l, true, Some(40)),
        Expr::Metric(_) => unreachable!(),
    };
    assert_eq!(hints(r#"{job="a"}"#).limit, Some(40));
    assert_eq!(hints(r#"{job="a"} |= "x" |= "y" or "z""#).limit, Some(40));
    for q in [
        r#"{job="a"} |~ "x""#,
        r#"{job="a"} |= "x" |~ "y""#,
        r#"{job="a"} != "x""#,
        r#"{job="a"} |= "x" | json"#,
        r#"{job="a"} | logfmt | level="error""#,
        r#"{job="a"} |= ip("10.0.0.0/8")"#,
    ] {
        assert_eq!(hints(q).limit, None, "{q}");
    }
    // The `|=` strings still let the store skip chunks.
    assert_eq!(
        hints(r#"{job="a"} |= "x" | json"#).required,
        vec![vec!["x".to_owned()]]
    );
}

/// Issue 15: `rate_counter` as Loki answers it (its range_vector.go): the
/// window runs from `range` before the first sample to the last one, in
/// Loki's mixed units. web's bytes in (30s, 60s]: 400, 500, 600 at 35, 45
/// and 55 s. Increase 200; spans in ns/1000: sampled 2e7, to the start
/// 30000 ms / 1000 = 30 (under 1.1 × the 1e7 average, so added), to the
/// end 0; 200 × (2e7 + 30) / 2e7 over 30 s.
#[test]
fn issue_15_rate_counter_extrapolates_as_loki() {
    let r = instant(
        r#"rate_counter({job="web"} | logfmt | unwrap bytes [30s]) by (job)"#,
        60,
    );
    let want = 200.0 * (20_000_030.0 / 20_000_000.0) / 30.0;
    assert_eq!(r.len(), 1);
    assert!((r[0].1 - want).abs() < 1e-12, "{} != {want}", r[0].1);
    // One sample in the window: 0, as Loki, not "no value".
    let r = instant(
        r#"rate_counter({job="web"} | logfmt | unwrap bytes [10s]) by (job)"#,
        60,
    );
    assert_eq!(r.iter().map(|x| x.1).collect::<Vec<_>>(), vec![0.0]);
}

/// Issue 15: the series limit is on the answer, as Loki's
/// `max_query_series`: 12 web lines with a trace_id each make 12 series
/// inside, summed into one; the answer is refused only when it has more
/// than MAX_SERIES series itself.
#[test]
fn issue_15_series_limit_applies_to_the_answer() {
    let r = instant(r#"sum(count_over_time({job="web"}[2m]))"#, 120);
    assert_eq!(r, vec![(LabelSet::new(), 12.0)]);
    let web = instant(r#"count_over_time({job="web"}[2m])"#, 120);
    assert_eq!(web.len(), 12);
}

/// Issue 15: Loki's `rate(unwrapped-range)`, the unwrapped values' sum per
/// second, was refused as "rate with unwrap". web's bytes in (30s, 60s]:
/// 400 + 500 + 600 over 30 s.
#[test]
fn issue_15_rate_of_unwrapped_values() {
    let r = instant(
        r#"rate({job="web"} | logfmt | unwrap bytes [30s]) by (job)"#,
        60,
    );
    assert_eq!(r, vec![(ls(&[("job", "web")]), 50.0)]);
    // Without unwrap, still lines per second (12 api lines over 2 minutes).
    let r = instant(r#"rate({job="api"}[2m])"#, 120);
    assert_eq!(r.iter().map(|x| x.1).sum::<f64>(), 0.1);
}
