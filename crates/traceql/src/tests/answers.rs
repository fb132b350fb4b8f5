//! Search answers, pushdown hints, metrics and their JSON, by hand.

use super::{span, store};
use crate::ast::*;
use crate::{query_range, search, SearchQuery};
use sightline_core::traces::{
    MemTraceStore, Span, SpanKind, SpanPredicate, StatusCode, TagScope, TraceAppender, TraceId,
};

#[test]
fn search_answers_as_tempo_does() {
    let s = store();
    let r = search(
        &s,
        "t",
        "{ resource.service.name = \"db\" } | select(span.rows)",
        0,
        i64::MAX,
        10,
        1,
    )
    .unwrap();
    // Newest first.
    assert_eq!(r.traces.len(), 2);
    let t = &r.traces[0];
    assert_eq!(t.trace_id, TraceId::from_halves(0, 3));
    assert_eq!(t.root_service_name, "api");
    assert_eq!(t.root_trace_name, "POST /");
    assert_eq!(t.start_ns, 12_000_000_000);
    assert_eq!(t.duration_ms, 50);
    let t = &r.traces[1];
    assert_eq!(t.duration_ms, 300);
    assert_eq!(t.span_sets.len(), 1);
    let ss = &t.span_sets[0];
    // Two matched, one listed (spans_per_spanset = 1), the earliest.
    assert_eq!(ss.matched, 2);
    assert_eq!(ss.spans.len(), 1);
    let sp = &ss.spans[0];
    assert_eq!(sp.span_id, "000000000000000c");
    assert_eq!(sp.name, "q1");
    assert_eq!(sp.start_ns, 1_010_000_000);
    assert_eq!(sp.duration_ns, 20_000_000);
    assert_eq!(
        sp.attributes,
        vec![
            ("service.name".to_string(), Static::Str("db".into())),
            ("rows".to_string(), Static::Int(3)),
        ]
    );
    assert_eq!(
        r.inspected_traces, 2,
        "the service hint skipped the worker trace"
    );

    // A missing root, by() and an aggregate on the spanset.
    let r = search(
        &s,
        "t",
        "{ } | by(resource.service.name) | count() >= 1",
        4_000_000_000,
        8_000_000_000,
        10,
        3,
    )
    .unwrap();
    assert_eq!(r.traces.len(), 1);
    assert_eq!(
        r.traces[0].root_service_name,
        "<root span not yet received>"
    );
    assert_eq!(r.traces[0].root_trace_name, "");
    assert_eq!(
        r.traces[0].span_sets[0].attributes,
        vec![
            (
                "by(resource.service.name)".to_string(),
                Static::Str("worker".into())
            ),
            ("count()".to_string(), Static::Int(1)),
        ]
    );

    // The limit stops the scan.
    let r = search(&s, "t", "{}", 0, i64::MAX, 1, 3).unwrap();
    assert_eq!(r.traces.len(), 1);
    assert_eq!(r.inspected_traces, 1);
}

#[test]
fn hints_take_only_what_every_match_requires() {
    let h = |q: &str| SearchQuery::parse(q).unwrap().hints(0, 10).required;
    assert_eq!(
        h(r#"{ resource.service.name = "a" && span.x = "b" && duration > 1ms && status = error }"#),
        vec![
            SpanPredicate::ServiceName("a".into()),
            SpanPredicate::AttrEquals {
                scope: TagScope::Span,
                key: "x".into(),
                value: "b".into()
            },
            SpanPredicate::MinDuration(1_000_001),
            SpanPredicate::Status(StatusCode::Error),
        ]
    );
    assert_eq!(
        h(r#"{ name = "a" } > { kind = client && .k != nil && duration <= 2s }"#),
        vec![
            SpanPredicate::SpanName("a".into()),
            SpanPredicate::Kind(SpanKind::Client),
            SpanPredicate::AttrExists {
                scope: TagScope::Any,
                key: "k".into()
            },
            SpanPredicate::MaxDuration(2_000_000_000),
        ]
    );
    // Nothing under `||`, negation, negated structure's left side, events.
    assert!(h(r#"{ name = "a" || name = "b" }"#).is_empty());
    assert!(h(r#"{ name = "a" } || { name = "b" }"#).is_empty());
    assert!(h(r#"{ !(name = "a") }"#).is_empty());
    assert!(h(r#"{ name != "a" && span.x = 1 && event.e = "x" }"#).is_empty());
    assert_eq!(
        h(r#"{ name = "a" } !> { name = "b" }"#),
        vec![SpanPredicate::SpanName("b".into())]
    );
    // Later filter stages are required too.
    assert_eq!(
        h(r#"{ } | count() > 1 | { name = "a" }"#),
        vec![SpanPredicate::SpanName("a".into())]
    );
}

#[test]
fn metrics_per_step_as_tempo_reports_them() {
    let s = store();
    let sec = 1_000_000_000i64;
    // Steps of 10s over [0, 20s]: points at 0, 10s and 20s, each counting
    // the spans that started in the 10s up to it (Tempo's intervals):
    // traces 1 and 2 at 10s, trace 3 at 20s.
    let r = query_range(&s, "t", "{ } | rate()", 0, 20 * sec, 10 * sec).unwrap();
    assert_eq!(r.series.len(), 1);
    assert_eq!(
        r.series[0].labels,
        vec![("__name__".to_string(), Static::Str("rate".into()))]
    );
    assert_eq!(
        r.series[0].samples,
        vec![(0, 0.0), (10_000, 0.4), (20_000, 0.2)]
    );

    let r = query_range(
        &s,
        "t",
        "{ } | count_over_time() by (resource.service.name)",
        0,
        20 * sec,
        10 * sec,
    )
    .unwrap();
    let got: Vec<(String, Vec<(i64, f64)>)> = r
        .series
        .iter()
        .map(|x| (x.labels[0].1.to_string(), x.samples.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "\"api\"".to_string(),
                vec![(0, 0.0), (10_000, 1.0), (20_000, 1.0)]
            ),
            (
                "\"db\"".to_string(),
                vec![(0, 0.0), (10_000, 2.0), (20_000, 1.0)]
            ),
            (
                "\"worker\"".to_string(),
                vec![(0, 0.0), (10_000, 1.0), (20_000, 0.0)]
            ),
        ]
    );
    assert_eq!(r.series[0].labels[0].0, "resource.service.name");

    // db durations: 20ms, 100ms at 10s; 40ms at 20s (seconds).
    let q = |f: &str| {
        query_range(
            &s,
            "t",
            &format!("{{ resource.service.name = \"db\" }} | {f}"),
            0,
            20 * sec,
            10 * sec,
        )
        .unwrap()
        .series
    };
    assert_eq!(
        q("min_over_time(duration)")[0].samples,
        vec![(10_000, 0.02), (20_000, 0.04)]
    );
    assert_eq!(
        q("max_over_time(duration)")[0].samples,
        vec![(10_000, 0.1), (20_000, 0.04)]
    );
    assert_eq!(
        q("sum_over_time(span.rows)")[0].samples,
        vec![(10_000, 8.0), (20_000, 7.0)]
    );
    assert_eq!(
        q("avg_over_time(span.rows)")[0].samples,
        vec![(10_000, 4.0), (20_000, 7.0)]
    );
    let qs = q("quantile_over_time(duration, .5, 1)");
    assert_eq!(qs.len(), 2);
    assert_eq!(
        qs[0].labels.last().unwrap(),
        &("p".to_string(), Static::Float(0.5))
    );
    // Median of 20ms and 100ms by linear interpolation: 60ms.
    assert!((qs[0].samples[0].1 - 0.06).abs() < 1e-12);
    assert_eq!(qs[1].samples, vec![(10_000, 0.1), (20_000, 0.04)]);
    // Power-of-two buckets in nanoseconds, reported in seconds:
    // 20ms -> 2^25ns, 40ms -> 2^26ns, 100ms -> 2^27ns.
    let h = q("histogram_over_time(duration)");
    let buckets: Vec<(f64, Vec<(i64, f64)>)> = h
        .iter()
        .map(|x| match &x.labels[0] {
            (k, Static::Float(b)) if k == "__bucket" => (*b, x.samples.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let b = |p: i32| 2f64.powi(p) / 1e9;
    assert_eq!(
        buckets,
        vec![
            (b(25), vec![(0, 0.0), (10_000, 1.0), (20_000, 0.0)]),
            (b(26), vec![(0, 0.0), (10_000, 0.0), (20_000, 1.0)]),
            (b(27), vec![(0, 0.0), (10_000, 1.0), (20_000, 0.0)]),
        ]
    );
    // A span starting exactly at a point's time counts in that point;
    // one a nanosecond later in the next.
    let edge = MemTraceStore::new();
    edge.append(
        "t",
        vec![
            span(7, 1, None, "a", "x", 10_000, 1, vec![]),
            Span {
                start_ns: 10_000_000_001,
                ..span(8, 2, None, "b", "x", 0, 1, vec![])
            },
        ],
    )
    .unwrap();
    let r = query_range(
        &edge,
        "t",
        "{} | count_over_time()",
        5 * sec,
        20 * sec,
        10 * sec,
    )
    .unwrap();
    assert_eq!(
        r.series[0].samples,
        vec![(0, 0.0), (10_000, 1.0), (20_000, 1.0)]
    );
}

#[test]
fn metrics_labels_drop_nils_as_tempo_does() {
    let s = store();
    let sec = 1_000_000_000i64;
    // `rows` is missing on api and worker spans, `nope` everywhere: nils
    // are left out, and when all are nil the first label stays, nil.
    let r = query_range(
        &s,
        "t",
        "{ } | count_over_time() by (span.rows, span.nope)",
        0,
        20 * sec,
        10 * sec,
    )
    .unwrap();
    let labels: Vec<Vec<(String, Static)>> = r.series.iter().map(|x| x.labels.clone()).collect();
    assert_eq!(
        labels,
        vec![
            vec![("span.rows".to_string(), Static::Nil)],
            vec![("span.rows".to_string(), Static::Int(3))],
            vec![("span.rows".to_string(), Static::Int(5))],
            vec![("span.rows".to_string(), Static::Int(7))],
        ]
    );
    let r = query_range(
        &s,
        "t",
        "{ } | quantile_over_time(duration, .9)",
        0,
        20 * sec,
        10 * sec,
    )
    .unwrap();
    assert_eq!(
        r.series[0].labels,
        vec![("p".to_string(), Static::Float(0.9))]
    );
}

#[test]
fn answers_in_tempo_json() {
    let s = store();
    let r = search(
        &s,
        "t",
        "{ resource.service.name = \"db\" && status = unset } | by(name) | count() > 0",
        10_000_000_000,
        20_000_000_000,
        10,
        3,
    )
    .unwrap();
    let got = crate::json::search_response(&r);
    let want = serde_json::json!({
        "traces": [{
            "traceID": "00000000000000000000000000000003",
            "rootServiceName": "api",
            "rootTraceName": "POST /",
            "startTimeUnixNano": "12000000000",
            "durationMs": 50,
            "spanSet": {
                "spans": [{
                    "spanID": "0000000000000020",
                    "name": "q1",
                    "startTimeUnixNano": "12010000000",
                    "durationNanos": "40000000",
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "db"}},
                        {"key": "status", "value": {"stringValue": "unset"}},
                    ],
                }],
                "matched": 1,
                "attributes": [
                    {"key": "by(name)", "value": {"stringValue": "q1"}},
                    {"key": "count()", "value": {"intValue": "1"}},
                ],
            },
            "spanSets": [{
                "spans": [{
                    "spanID": "0000000000000020",
                    "name": "q1",
                    "startTimeUnixNano": "12010000000",
                    "durationNanos": "40000000",
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": "db"}},
                        {"key": "status", "value": {"stringValue": "unset"}},
                    ],
                }],
                "matched": 1,
                "attributes": [
                    {"key": "by(name)", "value": {"stringValue": "q1"}},
                    {"key": "count()", "value": {"intValue": "1"}},
                ],
            }],
        }],
        "metrics": {"inspectedTraces": 1, "inspectedSpans": "2"},
    });
    assert_eq!(got, want);

    let sec = 1_000_000_000i64;
    let r = query_range(
        &s,
        "t",
        "{ } | count_over_time() by (resource.service.name, span.nope)",
        0,
        10 * sec,
        10 * sec,
    )
    .unwrap();
    let got = crate::json::query_range_response(&r);
    assert_eq!(
        got["series"][0]["labels"],
        serde_json::json!([
            {"key": "resource.service.name", "value": {"stringValue": "api"}}
        ])
    );
    assert_eq!(
        got["series"][0]["promLabels"],
        "{resource.service.name=\"api\"}"
    );
    // An instant query (end - start = step): one point, at end.
    assert_eq!(
        got["series"][0]["samples"],
        serde_json::json!([{"timestampMs": "10000", "value": 1.0}])
    );
    assert_eq!(got["metrics"]["inspectedTraces"], 2);
    assert_eq!(
        crate::json::prom_labels(&[
            ("b".into(), Static::Nil),
            ("a".into(), Static::Str(String::new())),
            ("__name__".into(), Static::Str("rate".into())),
        ]),
        "{__name__=\"rate\", a=\"<empty>\", b=\"<nil>\"}"
    );
}
