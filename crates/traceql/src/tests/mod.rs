//! Unit tests per construct, with expected values worked out by hand:
//! parsing and its errors here; search, hints, metrics and their JSON in
//! [`answers`]; limits and random input in [`robust`]. The language's
//! semantics are checked at length against the reference evaluator in
//! `tests/reference.rs`.

mod answers;
mod robust;

use crate::ast::*;
use crate::{parse, query_range, search, Error};
use sightline_core::traces::{
    AnyValue, MemTraceStore, Resource, Span, SpanId, SpanKind, StatusCode, TraceAppender, TraceId,
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
pub(super) fn span(
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

pub(super) fn store() -> MemTraceStore {
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
