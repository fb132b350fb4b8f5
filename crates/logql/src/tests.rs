//! Parser tests: each case written from Loki's documentation of the
//! syntax, the expected tree or error worked out by hand.

use crate::ast::*;
use crate::parse;
use sightline_core::MatchOp;

fn log(q: &str) -> LogExpr {
    match parse(q).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Expr::Log(l) => l,
        e => panic!("{q}: not a log query: {e:?}"),
    }
}

fn metric(q: &str) -> MetricExpr {
    match parse(q).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Expr::Metric(m) => m,
        e => panic!("{q}: not a metric query: {e:?}"),
    }
}

fn err(q: &str) -> String {
    parse(q)
        .map(|e| panic!("{q}: parsed as {e:?}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn selectors() {
    let l = log(r#"{app="api", env=~"prod|staging", level!="debug", host!~"db.*"}"#);
    let ops: Vec<_> = l
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.op, m.value.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("app", MatchOp::Equal, "api"),
            ("env", MatchOp::Regex, "prod|staging"),
            ("level", MatchOp::NotEqual, "debug"),
            ("host", MatchOp::NotRegex, "db.*"),
        ]
    );
    assert!(l.stages.is_empty());
    // Parenthesised log queries are log queries.
    assert_eq!(log(r#"({app="a"} |= "x")"#).stages.len(), 1);
}

#[test]
fn selectors_that_match_everything_are_refused() {
    assert!(err(r#"{app=~".*"}"#).contains("at least one regexp or equality matcher"));
    assert!(err(r#"{app=""}"#).contains("empty-compatible"));
    assert!(err("{}").contains("needs at least one matcher"));
}

#[test]
fn line_filters() {
    let l = log(
        r#"{a="b"} |= "error" != "timeout" |~ "5\\d\\d" !~ "GET /health" |> "<_> 500 <_>" !> "<_> 200 <_>""#,
    );
    let ops: Vec<_> = l
        .stages
        .iter()
        .map(|s| match s {
            Stage::Line(f) => (f.op, f.values.clone()),
            s => panic!("{s:?}"),
        })
        .collect();
    assert_eq!(
        ops[0],
        (LineOp::Contains, vec![FilterValue::Text("error".into())])
    );
    assert_eq!(ops[1].0, LineOp::NotContains);
    assert_eq!(
        ops[2],
        (LineOp::Match, vec![FilterValue::Text("5\\d\\d".into())])
    );
    assert_eq!(ops[3].0, LineOp::NotMatch);
    assert_eq!(ops[4].0, LineOp::Pattern);
    assert_eq!(ops[5].0, LineOp::NotPattern);
}

#[test]
fn line_filter_alternatives_and_ip() {
    let l = log(r#"{a="b"} |= "foo" or "bar" or ip("10.0.0.0/8") != ip("192.168.1.1")"#);
    match &l.stages[..] {
        [Stage::Line(a), Stage::Line(b)] => {
            assert_eq!(
                a.values,
                vec![
                    FilterValue::Text("foo".into()),
                    FilterValue::Text("bar".into()),
                    FilterValue::Ip("10.0.0.0/8".into())
                ]
            );
            assert_eq!(b.op, LineOp::NotContains);
            assert_eq!(b.values, vec![FilterValue::Ip("192.168.1.1".into())]);
        }
        s => panic!("{s:?}"),
    }
    // `or` after a line filter in a metric query is the set operator.
    match metric(r#"count_over_time({a="b"} |= "x" [1m]) or vector(0)"#) {
        MetricExpr::Binary { op: BinOp::Or, .. } => {}
        m => panic!("{m:?}"),
    }
}

#[test]
fn parsers() {
    let l = log(
        r#"{a="b"} | json | json first="servers[0]", ua="request.headers[\"User-Agent\"]", status | logfmt --strict --keep-empty | logfmt x="y" | regexp "(?P<method>\\w+) (?P<path>\\S+)" | pattern "<ip> - - <_> \"<method> <uri> <_>\" <status>" | unpack"#,
    );
    let parsers: Vec<_> = l
        .stages
        .iter()
        .map(|s| match s {
            Stage::Parser(p, _) => p.clone(),
            s => panic!("{s:?}"),
        })
        .collect();
    assert_eq!(parsers[0], Parser::Json(vec![]));
    assert_eq!(
        parsers[1],
        Parser::Json(vec![
            ("first".into(), "servers[0]".into()),
            ("ua".into(), "request.headers[\"User-Agent\"]".into()),
            ("status".into(), "status".into()),
        ])
    );
    assert_eq!(
        parsers[2],
        Parser::Logfmt {
            strict: true,
            keep_empty: true,
            params: vec![]
        }
    );
    assert_eq!(
        parsers[3],
        Parser::Logfmt {
            strict: false,
            keep_empty: false,
            params: vec![("x".into(), "y".into())]
        }
    );
    assert_eq!(
        parsers[4],
        Parser::Regexp("(?P<method>\\w+) (?P<path>\\S+)".into())
    );
    assert!(matches!(&parsers[5], Parser::Pattern(p) if p.starts_with("<ip>")));
    assert_eq!(parsers[6], Parser::Unpack);
}

#[test]
fn parser_errors() {
    assert!(err(r#"{a="b"} | regexp "(\\w+)""#).contains("no named capture group"));
    assert!(err(r#"{a="b"} | regexp "(?P<x>[""#).contains("invalid regexp parser"));
    assert!(err(r#"{a="b"} | pattern "no fields""#).contains("captures nothing"));
    assert!(err(r#"{a="b"} | logfmt --loose"#).contains("unknown logfmt flag --loose"));
    assert!(err(r#"{a="b"} | jsonn"#).contains("\"jsonn\""));
}

#[test]
fn label_filters() {
    let l = log(
        r#"{a="b"} | logfmt | status >= 400 and method = "GET" or latency > 250ms, size <= 20MB | level=~"warn|error" | (x == 1 or y != -2.5) | addr = ip("10.0.0.0/8")"#,
    );
    match &l.stages[1] {
        Stage::Label(LabelFilter::Or(lhs, rhs)) => {
            assert!(matches!(&**lhs, LabelFilter::And(a, b)
                if matches!(&**a, LabelFilter::Cmp { label, op: CmpOp::Ge, value: FilterLit::Num(n), .. } if label == "status" && *n == 400.0)
                && matches!(&**b, LabelFilter::Cmp { op: CmpOp::Eq, value: FilterLit::Str(s), .. } if s == "GET")));
            assert!(matches!(&**rhs, LabelFilter::And(a, b)
                if matches!(&**a, LabelFilter::Cmp { value: FilterLit::Duration(250_000_000), .. })
                && matches!(&**b, LabelFilter::Cmp { op: CmpOp::Le, value: FilterLit::Bytes(20_000_000), .. })));
        }
        s => panic!("{s:?}"),
    }
    assert!(matches!(
        &l.stages[2],
        Stage::Label(LabelFilter::Cmp { op: CmpOp::Re, .. })
    ));
    assert!(matches!(&l.stages[3], Stage::Label(LabelFilter::Or(_, b))
        if matches!(&**b, LabelFilter::Cmp { op: CmpOp::Ne, value: FilterLit::Num(n), .. } if *n == -2.5)));
    assert!(matches!(
        &l.stages[4],
        Stage::Label(LabelFilter::Ip { negated: false, .. })
    ));
    // Two filters side by side are an "and".
    assert!(matches!(
        &log(r#"{a="b"} | x="1" y="2""#).stages[0],
        Stage::Label(LabelFilter::And(..))
    ));
}

#[test]
fn label_filter_errors() {
    assert!(err(r#"{a="b"} | status > "400""#).contains("without quotes"));
    assert!(err(r#"{a="b"} | status =~ 4"#).contains("quoted regular expression"));
    assert!(err(r#"{a="b"} | level =~ "(""#).contains("invalid regular expression"));
}

#[test]
fn formatting_stages() {
    let l = log(
        r#"{a="b"} | line_format "{{.status}} {{.path | upper}}" | label_format dst="{{.src}}-x", renamed=orig | drop level, method="GET" | keep status, path=~"/api.*" | decolorize"#,
    );
    assert!(
        matches!(&l.stages[0], Stage::LineFormat(t, _) if t == "{{.status}} {{.path | upper}}")
    );
    assert_eq!(
        l.stages[1],
        Stage::LabelFormat(
            vec![
                LabelFmt::Template {
                    dst: "dst".into(),
                    template: "{{.src}}-x".into()
                },
                LabelFmt::Rename {
                    dst: "renamed".into(),
                    src: "orig".into()
                },
            ],
            l.stages
                .iter()
                .find_map(|s| match s {
                    Stage::LabelFormat(_, at) => Some(*at),
                    _ => None,
                })
                .unwrap()
        )
    );
    assert!(
        matches!(&l.stages[2], Stage::Drop(s) if s.len() == 2 && s[0].matcher.is_none() && s[1].matcher.is_some())
    );
    assert!(
        matches!(&l.stages[3], Stage::Keep(s) if s[1].matcher.as_ref().unwrap().op == MatchOp::Regex)
    );
    assert_eq!(l.stages[4], Stage::Decolorize);
}

#[test]
fn range_aggregations() {
    for (name, op) in RangeOp::ALL {
        let q = if op.needs_unwrap() {
            let param = if op == RangeOp::QuantileOverTime {
                "0.99, "
            } else {
                ""
            };
            format!(r#"{name}({param}{{app="a"}} | logfmt | unwrap latency [5m])"#)
        } else {
            format!(r#"{name}({{app="a"}} |= "x" [5m])"#)
        };
        match metric(&q) {
            MetricExpr::Range { op: got, range, .. } => {
                assert_eq!(got, op, "{q}");
                assert_eq!(range, 300_000_000_000, "{q}");
            }
            m => panic!("{q}: {m:?}"),
        }
    }
}

#[test]
fn range_forms() {
    // The range may come right after the selector, before the pipeline.
    match metric(r#"rate({app="a"}[1m] |= "x" | json)"#) {
        MetricExpr::Range { log, range, .. } => {
            assert_eq!(range, 60_000_000_000);
            assert_eq!(log.stages.len(), 2);
        }
        m => panic!("{m:?}"),
    }
    match metric(
        r#"quantile_over_time(0.95, {app="a"} | json | unwrap duration(took) | __error__="" [10m] offset 1h) by (route)"#,
    ) {
        MetricExpr::Range {
            param,
            offset,
            grouping,
            log,
            ..
        } => {
            assert_eq!(param, Some(0.95));
            assert_eq!(offset, 3_600_000_000_000);
            assert_eq!(
                grouping,
                Some(Grouping {
                    without: false,
                    labels: vec!["route".into()]
                })
            );
            match log.stages.last() {
                Some(Stage::Unwrap(u)) => {
                    assert_eq!(u.label, "took");
                    assert_eq!(u.conversion, Conversion::Duration);
                    assert_eq!(u.filters.len(), 1);
                }
                s => panic!("{s:?}"),
            }
        }
        m => panic!("{m:?}"),
    }
    match metric(r#"sum_over_time({app="a"} | logfmt | unwrap bytes(size) [1m])"#) {
        MetricExpr::Range { log, .. } => assert!(
            matches!(log.stages.last(), Some(Stage::Unwrap(u)) if u.conversion == Conversion::Bytes)
        ),
        m => panic!("{m:?}"),
    }
}

#[test]
fn range_aggregation_errors() {
    assert!(err(r#"sum_over_time({a="b"}[5m])"#)
        .contains("invalid aggregation sum_over_time without unwrap"));
    // `rate` takes unwrapped values too (Loki's `rate(unwrapped-range)`,
    // issue 15); `count_over_time` does not.
    assert!(err(r#"count_over_time({a="b"} | unwrap x [5m])"#)
        .contains("invalid aggregation count_over_time with unwrap"));
    assert!(err(r#"count_over_time({a="b"})"#).contains("expecting a range such as [5m]"));
    assert!(err(r#"count_over_time({a="b"}[5m]) by (x)"#)
        .contains("grouping not allowed for count_over_time"));
    assert!(err(r#"rate({a="b"}[5m] [1m])"#).contains("range is given twice"));
}

#[test]
fn vector_aggregations_and_binaries() {
    match metric(
        r#"sum by (status) (rate({app="a"} | json [5m])) / ignoring (status) group_left sum(rate({app="a"}[5m]))"#,
    ) {
        MetricExpr::Binary {
            op: BinOp::Div,
            lhs,
            matching,
            ..
        } => {
            assert_eq!(matching.on, Some(false));
            assert_eq!(matching.labels, vec!["status".to_string()]);
            assert_eq!(matching.group_left, Some(true));
            assert!(
                matches!(*lhs, MetricExpr::Vector { op: VectorOp::Sum, grouping: Some(ref g), .. } if g.labels == ["status"])
            );
        }
        m => panic!("{m:?}"),
    }
    // The grouping may follow the parentheses.
    assert!(matches!(
        metric(r#"topk(3, sum(count_over_time({a="b"}[1m])) without (pod))"#),
        MetricExpr::Vector { op: VectorOp::Topk, param: Some(k), .. } if k == 3.0
    ));
    assert!(matches!(
        metric(r#"sort_desc(count_over_time({a="b"}[1m]))"#),
        MetricExpr::Vector {
            op: VectorOp::SortDesc,
            ..
        }
    ));
    assert!(err(r#"sort by (x) (count_over_time({a="b"}[1m]))"#)
        .contains("sort and sort_desc take no grouping"));
}

#[test]
fn precedence_and_bool() {
    // 1 + 2 * 3 ^ 2 ^ 1 > bool 10 or vector(1): or binds loosest, ^ is
    // right-associative.
    match metric("vector(1) + 2 * 3 ^ 2 ^ 1 > bool 10 or vector(1)") {
        MetricExpr::Binary {
            op: BinOp::Or, lhs, ..
        } => match *lhs {
            MetricExpr::Binary {
                op: BinOp::Gt,
                return_bool: true,
                lhs,
                ..
            } => match *lhs {
                MetricExpr::Binary {
                    op: BinOp::Add,
                    rhs,
                    ..
                } => match *rhs {
                    MetricExpr::Binary {
                        op: BinOp::Mul,
                        rhs,
                        ..
                    } => match *rhs {
                        MetricExpr::Binary {
                            op: BinOp::Pow,
                            rhs,
                            ..
                        } => {
                            assert!(matches!(*rhs, MetricExpr::Binary { op: BinOp::Pow, .. }))
                        }
                        m => panic!("{m:?}"),
                    },
                    m => panic!("{m:?}"),
                },
                m => panic!("{m:?}"),
            },
            m => panic!("{m:?}"),
        },
        m => panic!("{m:?}"),
    }
    assert!(err(r#"count_over_time({a="b"}[1m]) + bool 1"#)
        .contains("bool modifier can only be used on comparison"));
    assert!(err(r#"1 and count_over_time({a="b"}[1m])"#).contains("set operators"));
    assert_eq!(metric("-2"), MetricExpr::Number(-2.0));
}

#[test]
fn label_replace_and_vector() {
    match metric(r#"label_replace(rate({job="a"}[1m]), "svc", "$1", "job", "(.*)-app")"#) {
        MetricExpr::LabelReplace {
            dst,
            replacement,
            src,
            regex,
            ..
        } => {
            assert_eq!(
                (
                    dst.as_str(),
                    replacement.as_str(),
                    src.as_str(),
                    regex.as_str()
                ),
                ("svc", "$1", "job", "(.*)-app")
            );
        }
        m => panic!("{m:?}"),
    }
    assert_eq!(metric("vector(0)"), MetricExpr::Vector1(0.0));
    assert!(
        err(r#"label_replace(rate({job="a"}[1m]), "svc", "$1", "job", "(")"#)
            .contains("invalid regular expression")
    );
}

#[test]
fn errors_name_line_and_column() {
    let e = parse("sum(rate({app=\"a\"}[5m]))\n  by x").unwrap_err();
    assert_eq!((e.line, e.col), (2, 6), "{e}");
    assert!(
        e.message
            .contains("unexpected IDENTIFIER \"x\", expecting \"(\""),
        "{e}"
    );
    let e = parse(r#"{app="a"} | json | line_format"#).unwrap_err();
    assert_eq!(e.col, 31, "{e}");
    assert!(e.message.contains("end of query"), "{e}");
    let e = parse(r#"{app="a"} + 1"#).unwrap_err();
    assert!(
        e.message
            .contains("binary operators apply to metric queries"),
        "{e}"
    );
    let e = parse(r#"rat({app="a"}[1m])"#).unwrap_err();
    assert!(e.message.contains("\"rat\""), "{e}");
    assert_eq!(e.col, 1);
    assert!(err("").contains("empty query"));
}

#[test]
fn comments_are_skipped() {
    let l = log("{app=\"a\"} # the app\n|= \"x\" # errors only");
    assert_eq!(l.stages.len(), 1);
}

#[test]
fn formatting_round_trips() {
    let queries = [
        r#"{app="a", env=~"prod|dev"} |= "x" or "y" != ip("10.0.0.0/8") |~ "a\\d" | json a="b.c", d | logfmt --strict --keep-empty | status >= 400 and (method = "GET" or latency > 250ms) | line_format "{{.a}}" | label_format x="{{.y}}", z=w | drop a, b="c" | keep d | decolorize"#,
        r#"sum by (status) (rate({app="a"} | json [5m] offset 1h)) / ignoring (status) group_left sum(rate({app="a"}[5m]))"#,
        r#"quantile_over_time(0.99, {app="a"} | logfmt | unwrap duration(took) | __error__="" [1m]) by (route)"#,
        r#"topk(3, sum without (pod) (count_over_time({a="b"}[1m]))) > bool 2 or vector(1)"#,
        r#"label_replace(rate({job="a"}[1m]), "svc", "$1", "job", "(.*)")"#,
        "(vector(1) + vector(2)) * vector(3) ^ vector(2) ^ vector(1) - -1",
        r#"sum_over_time({a="b"} | logfmt | size > 20MB | unwrap bytes(size) [1h])"#,
    ];
    for q in queries {
        let once = parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).to_string();
        let twice = parse(&once)
            .unwrap_or_else(|e| panic!("{once}: {e}"))
            .to_string();
        assert_eq!(once, twice, "{q}");
    }
    // Parentheses that change the meaning are kept.
    assert_eq!(
        parse("(vector(1) + vector(2)) * vector(3)")
            .unwrap()
            .to_string(),
        "(vector(1) + vector(2)) * vector(3)"
    );
    assert_eq!(
        parse(r#"rate({a="b"}[90s])"#).unwrap().to_string(),
        r#"rate({a="b"} [1m30s])"#
    );
}
