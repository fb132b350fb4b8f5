//! Unit tests per construct: parsing (and its errors), search answers and
//! metrics, with expected values worked out by hand. The language's
//! semantics are checked at length against the reference evaluator in
//! `tests/reference.rs`.

use crate::ast::*;
use crate::{parse, query_range, search, Error, SearchQuery};
use sightline_core::traces::{
    AnyValue, MemTraceStore, Resource, Span, SpanId, SpanKind, SpanPredicate, StatusCode, TagScope,
    TraceAppender, TraceId,
};
use std::sync::Arc;

fn parse_err(q: &str) -> (usize, String) {
    match parse(q) {
        Err(Error::Parse { col, message, .. }) => (col, message),
        other => panic!("{q}: expected a parse error, got {other:?}"),
    }
}

#[test]
fn every_construct_parses() {
    for q in [
        "{}",
        "{ }",
        r#"{ name = "a" && status = error || kind = server }"#,
        r#"{ span.http.status_code >= 200 && span.http.status_code < 300 }"#,
        r#"{ resource.service.name =~ "a.*" && .x !~ "b" }"#,
        r#"{ span."a b" = 1 && event."x y" = nil }"#,
        "{ duration > 1ms && duration < 1.5s && traceDuration >= 2m && span:duration <= 1h }",
        "{ duration > 10ns && duration < 5us && duration < 5µs && duration < 1h30m }",
        "{ span:status = ok && span:kind = client && span:statusMessage = \"x\" }",
        "{ trace:rootName = \"a\" && trace:rootService = \"b\" && trace:duration > 1s }",
        "{ rootName = \"a\" && rootServiceName = \"b\" }",
        "{ span:id = \"01\" && trace:id = \"02\" && span:parentID = nil }",
        "{ event:name = \"e\" && event:timeSinceStart > 1ms && event.a = 1 }",
        "{ link:traceID = \"a\" && link:spanID = \"b\" && link.a = true }",
        "{ instrumentation:name = \"a\" && instrumentation:version = \"1\" && instrumentation.x = 1 }",
        "{ kind = unspecified || kind = internal || kind = producer || kind = consumer }",
        "{ status = unset }",
        "{ span.a + 1 * 2 - 3 / 4 % 5 ^ 6 > -1.5 }",
        "{ !(span.a = 1) && -span.b < 0 }",
        "{ span.a = false || span.b = true || span.c = 1.5e3 }",
        "{ a } > { b }".replace("a", "name=\"a\"").replace("b", "name=\"b\"").as_str(),
        "{} >> {} && {} < {} || {} << {} && {} ~ {}",
        "{} !> {} && {} !>> {} && {} !< {} && {} !<< {} && {} !~ {}",
        "{} &> {} && {} &>> {} && {} &< {} && {} &<< {} && {} &~ {}",
        "({} | count() > 1) && {}",
        "{} | count() > 2",
        "{} | avg(duration) > 1s | min(duration) < 1ms | max(span.a) >= 2 | sum(span.b) = 3",
        "{} | by(resource.service.name, name) | select(span.a, duration) | coalesce()",
        "{} | { status = error } | count() != 0",
        "{} | rate()",
        "{} | count_over_time() by (resource.service.name)",
        "{} | quantile_over_time(duration, .5, .9, .99) by (name)",
        "{} | histogram_over_time(duration)",
        "{} | min_over_time(duration)",
        "{} | max_over_time(span.a) by (kind)",
        "{} | avg_over_time(duration)",
        "{} | sum_over_time(span.bytes)",
        "{ span.a = `raw\\string` }",
    ] {
        if let Err(e) = parse(q) {
            panic!("{q}: {e}");
        }
    }
}

#[test]
fn the_tree_is_as_written() {
    let q = parse(
        r#"{ a = 1 } && { b = 2 } > { c = 3 } || { d = 4 }"#
            .replace(['a', 'b', 'c', 'd'], ".x")
            .as_str(),
    )
    .unwrap();
    // `||` loosest, then `&&`, then the structural operators.
    let Stage::Spanset(SpansetExpr::Binary { op, lhs, .. }) = &q.pipeline.stages[0] else {
        panic!()
    };
    assert_eq!(*op, SpansetOp::Or);
    let SpansetExpr::Binary { op, rhs, .. } = &**lhs else {
        panic!()
    };
    assert_eq!(*op, SpansetOp::And);
    assert!(matches!(
        &**rhs,
        SpansetExpr::Binary {
            op: SpansetOp::Child,
            ..
        }
    ));

    let q = parse("{ span.a + 2 * 3 ^ 2 = 1 || .b = 2 && .c = 3 }").unwrap();
    let Stage::Spanset(SpansetExpr::Filter(Some(f))) = &q.pipeline.stages[0] else {
        panic!()
    };
    assert_eq!(
        f.to_string(),
        "(((span.a + (2 * (3 ^ 2))) = 1) || ((.b = 2) && (.c = 3)))"
    );
}

#[test]
fn literals_and_durations() {
    let lit = |q: &str| match parse(&format!("{{ span.x = {q} }}"))
        .unwrap()
        .pipeline
        .stages[0]
    {
        Stage::Spanset(SpansetExpr::Filter(Some(FieldExpr::Binary { ref rhs, .. }))) => {
            match &**rhs {
                FieldExpr::Static(s) => s.clone(),
                other => panic!("{other:?}"),
            }
        }
        _ => panic!(),
    };
    assert_eq!(lit("1ms"), Static::Duration(1_000_000));
    assert_eq!(lit("1.5s"), Static::Duration(1_500_000_000));
    assert_eq!(lit("2m"), Static::Duration(120_000_000_000));
    assert_eq!(lit("1h"), Static::Duration(3_600_000_000_000));
    assert_eq!(lit("1h30m"), Static::Duration(5_400_000_000_000));
    assert_eq!(lit("7ns"), Static::Duration(7));
    assert_eq!(lit("3us"), Static::Duration(3_000));
    assert_eq!(lit("3µs"), Static::Duration(3_000));
    assert_eq!(lit("42"), Static::Int(42));
    assert_eq!(lit("-42"), Static::Int(-42));
    assert_eq!(lit("4.25"), Static::Float(4.25));
    assert_eq!(lit(".5"), Static::Float(0.5));
    assert_eq!(lit("\"a\\\"b\""), Static::Str("a\"b".into()));
    assert_eq!(lit("true"), Static::Bool(true));
    assert_eq!(lit("nil"), Static::Nil);
    assert_eq!(lit("error"), Static::Status(StatusCode::Error));
    assert_eq!(lit("server"), Static::Kind(SpanKind::Server));
    assert_eq!(format_duration(1_500_000_000), "1.5s");
    assert_eq!(format_duration(5_400_000_000_000), "1h30m0s");
    assert_eq!(format_duration(250_000), "250µs");
}

#[test]
fn errors_say_what_and_where() {
    // Tempo's wording: `parse error at line 1, col N: syntax error: ...`.
    let e = parse("{ .a = }").unwrap_err().to_string();
    assert!(
        e.starts_with("parse error at line 1, col 8: syntax error: unexpected }, expecting"),
        "{e}"
    );
    assert_eq!(parse_err("{ name = \"a\" ").0, 14);
    assert!(parse_err("{ name = \"a\" ").1.contains("end of input"));
    assert_eq!(parse_err("{ name = \"abc }").0, 10);
    assert!(parse_err("{ name = \"abc }")
        .1
        .contains("unterminated string"));
    let (col, msg) = parse_err(r#"{ name =~ "(" }"#);
    assert_eq!(col, 11);
    assert!(msg.contains("invalid regexp"), "{msg}");
    let (col, msg) = parse_err("{ foo.bar = 1 }");
    assert_eq!(col, 3);
    assert!(msg.contains("unknown scope \"foo\""), "{msg}");
    let (col, msg) = parse_err("{ duration > 5min }");
    assert_eq!(col, 15);
    assert!(msg.contains("5min"), "{msg}");
    assert_eq!(parse_err("{} | count() >").0, 15);
    assert_eq!(parse_err("{} | frobnicate()").0, 6);
    assert_eq!(parse_err("{} | rate() | count() > 1").0, 13);
    assert!(parse_err("{} | quantile_over_time(duration, 1.5)")
        .1
        .contains("outside [0, 1]"));
    // Bad input never exhausts the stack: nesting and size are bounded.
    let deep = format!(
        "{{ {}span.a = 1{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(parse_err(&deep).1.contains("too deeply nested"));
    let long = format!("{{ {} }}", vec!["span.a = 1"; 100_000].join(" && "));
    assert!(parse_err(&long).1.contains("too large"));
    let ok = format!("{{ {} }}", vec!["span.a = 1"; 300].join(" && "));
    assert!(parse(&ok).is_ok());
    let e = parse("{}\n{ name = }").unwrap_err();
    assert!(
        e.to_string().starts_with("parse error at line 2, col 1:"),
        "{e}"
    );
    assert_eq!(e.http_status(), 400);
}

#[test]
fn search_refuses_metrics_and_metrics_refuse_searches() {
    let store = MemTraceStore::new();
    assert!(matches!(
        search(&store, "t", "{} | rate()", 0, 1, 10, 3),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        query_range(&store, "t", "{}", 0, 10, 1),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        query_range(&store, "t", "{} | rate()", 0, 10, 0),
        Err(Error::Invalid(_))
    ));
}

fn res(service: &str) -> Arc<Resource> {
    Arc::new(Resource {
        attributes: vec![("service.name".into(), AnyValue::Str(service.into()))],
        dropped_attributes_count: 0,
    })
}

#[allow(clippy::too_many_arguments)]
fn span(
    trace: u64,
    id: u64,
    parent: Option<u64>,
    name: &str,
    service: &str,
    start_ms: i64,
    dur_ms: i64,
    attrs: Vec<(&str, AnyValue)>,
) -> Span {
    Span {
        trace_id: TraceId::from_halves(0, trace),
        span_id: SpanId::from_u64(id),
        parent_span_id: parent.map(SpanId::from_u64),
        name: name.into(),
        kind: if parent.is_none() {
            SpanKind::Server
        } else {
            SpanKind::Client
        },
        start_ns: start_ms * 1_000_000,
        end_ns: (start_ms + dur_ms) * 1_000_000,
        attributes: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        resource: res(service),
        ..Default::default()
    }
}

fn store() -> MemTraceStore {
    let s = MemTraceStore::new();
    // Trace 1 at t=1s: api root (300ms) with two db children.
    s.append(
        "t",
        vec![
            span(
                1,
                11,
                None,
                "GET /",
                "api",
                1000,
                300,
                vec![("http.method", AnyValue::Str("GET".into()))],
            ),
            span(
                1,
                12,
                Some(11),
                "q1",
                "db",
                1010,
                20,
                vec![("rows", AnyValue::Int(3))],
            ),
            span(
                1,
                13,
                Some(11),
                "q2",
                "db",
                1040,
                100,
                vec![("rows", AnyValue::Int(5))],
            ),
        ],
    )
    .unwrap();
    // Trace 2 at t=5s: no root (its parent is missing).
    s.append(
        "t",
        vec![span(2, 21, Some(99), "job", "worker", 5000, 2000, vec![])],
    )
    .unwrap();
    // Trace 3 at t=12s: api root with one db child.
    s.append(
        "t",
        vec![
            span(3, 31, None, "POST /", "api", 12000, 50, vec![]),
            span(
                3,
                32,
                Some(31),
                "q1",
                "db",
                12010,
                40,
                vec![("rows", AnyValue::Int(7))],
            ),
        ],
    )
    .unwrap();
    s
}

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
fn the_largest_queries_evaluate_on_a_small_stack() {
    // 999 operators, the most a query may hold, on a 1 MiB thread (half
    // what tokio gives a worker): no stack overflow.
    let field = format!("{{ {} }}", vec!["span.rows = 3"; 500].join(" && "));
    let spanset = vec!["{ span.rows = 3 }"; 500].join(" >> ");
    // And the deepest nesting allowed.
    let nested = format!(
        "{}{{ {}span.rows = 3{} }}{}",
        "(".repeat(31),
        "(".repeat(31),
        ")".repeat(31),
        ")".repeat(31)
    );
    let s = store();
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            for (q, want) in [(field, 1), (spanset, 0), (nested, 1)] {
                let r = search(&s, "t", &q, 0, i64::MAX, 10, 3).unwrap();
                assert_eq!(r.traces.len(), want, "{q}");
            }
        })
        .unwrap()
        .join()
        .unwrap();
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
    assert_eq!(
        got["series"][0]["samples"],
        serde_json::json!([
            {"timestampMs": "0", "value": 0.0},
            {"timestampMs": "10000", "value": 1.0},
        ])
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
