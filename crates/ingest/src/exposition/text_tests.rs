//! Text format 0.0.4: cases from the exposition format docs and from what
//! Prometheus 2.42's `promparse` accepts and rejects.

use super::*;
use crate::Error;

fn parse(body: &str) -> Vec<(String, Option<i64>, f64)> {
    parse_all(body.as_bytes(), Format::PrometheusText)
        .unwrap_or_else(|e| panic!("{body:?}: {e}"))
        .into_iter()
        .map(|(l, t, v)| (l.to_string(), t, v))
        .collect()
}

fn err(body: &str) -> (usize, String) {
    match parse_all(body.as_bytes(), Format::PrometheusText) {
        Err(Error::Parse { line, message }) => (line, message),
        other => panic!("{body:?}: expected a parse error, got {other:?}"),
    }
}

fn entries(body: &str) -> Vec<String> {
    let mut p = Parser::new(body.as_bytes(), Format::PrometheusText);
    let mut out = Vec::new();
    while let Some(e) = p.next_entry().unwrap() {
        out.push(match e {
            Entry::Sample {
                series,
                timestamp,
                value,
            } => format!(
                "{}:sample {} {value} {timestamp:?}",
                p.line(),
                String::from_utf8_lossy(series)
            ),
            Entry::Type { name, kind } => format!("{}:type {name} {kind:?}", p.line()),
            Entry::Help { name, text } => format!("{}:help {name} {text:?}", p.line()),
            Entry::Unit { name, unit } => format!("{}:unit {name} {unit}", p.line()),
            Entry::Comment => format!("{}:comment", p.line()),
        });
    }
    out
}

#[test]
fn content_type_negotiation() {
    use Format::*;
    for ct in [
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        "application/openmetrics-text;version=0.0.1",
        "application/openmetrics-text",
        "Application/OpenMetrics-Text ; version=2.0",
        "application/openmetrics-text;",
    ] {
        assert_eq!(Format::from_content_type(ct), OpenMetrics, "{ct}");
    }
    for ct in [
        "text/plain; version=0.0.4; charset=utf-8",
        "text/plain",
        "",
        "application/json",
        "garbage;;",
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily",
        "application/openmetrics-text; version",
        "application/openmetrics-text; =1",
    ] {
        assert_eq!(Format::from_content_type(ct), PrometheusText, "{ct}");
    }
}

/// The example from the "Text format example" section of the docs.
pub(super) const DOCS_BODY: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
"#;

#[test]
fn docs_example() {
    let body = DOCS_BODY;
    let s = parse(body);
    assert_eq!(s.len(), 12);
    assert_eq!(
        s[0],
        (
            r#"http_requests_total{code="200", method="post"}"#.to_owned(),
            Some(1395066363000),
            1027.0
        )
    );
    assert_eq!(s[1].2, 3.0);
    let mut p = Parser::new(body.as_bytes(), Format::PrometheusText);
    let mut labels = Vec::new();
    while let Some(e) = p.next_entry().unwrap() {
        if matches!(e, Entry::Sample { .. }) {
            labels.push(p.labels().unwrap());
        }
    }
    assert_eq!(labels[2].get("path"), Some(r"C:\DIR\FILE.TXT"));
    assert_eq!(
        labels[2].get("error"),
        Some("Cannot find file:\n\"FILE.TXT\"")
    );
    assert_eq!(s[2].2, 1.458255915e9);
    assert_eq!(
        s[3],
        ("metric_without_timestamp_and_labels".into(), None, 12.47)
    );
    assert_eq!(s[4].1, Some(-3982045));
    assert_eq!(s[4].2, f64::INFINITY);
    assert_eq!(s[10].2, 1.7560473e7);

    let e = entries(body);
    assert_eq!(
        e[0],
        "1:help http_requests_total \"The total number of HTTP requests.\""
    );
    assert_eq!(e[1], "2:type http_requests_total Counter");
    assert_eq!(
        e[2],
        "3:sample http_requests_total{method=\"post\",code=\"200\"} 1027 Some(1395066363000)"
    );
    assert_eq!(e[4], "6:comment");
    assert!(e.contains(&"17:type http_request_duration_seconds Histogram".to_owned()));
    assert!(e.contains(&"25:type rpc_duration_seconds Summary".to_owned()));
}

#[test]
fn series_bytes_are_raw_and_stable_cache_keys() {
    let body = b"a{x=\"1\", y=\"2\"} 1\n  a {x=\"1\",y=\"2\",} 2\n";
    let mut p = Parser::new(body, Format::PrometheusText);
    let Some(Entry::Sample { series, .. }) = p.next_entry().unwrap() else {
        panic!()
    };
    assert_eq!(series, b"a{x=\"1\", y=\"2\"}");
    let first = p.labels().unwrap();
    let Some(Entry::Sample { series, .. }) = p.next_entry().unwrap() else {
        panic!()
    };
    assert_eq!(series, b"a {x=\"1\",y=\"2\",}");
    assert_eq!(p.labels().unwrap(), first);
    assert_eq!(p.metric_name(), "a");
}

#[test]
fn whitespace_rules() {
    let s = parse("\t foo \t{ a = \"b\" , c=\"d\" , }\t 1 \t 2 \t\n\n   \n\t\nbar 3");
    assert_eq!(
        s,
        vec![
            (r#"foo{a="b", c="d"}"#.into(), Some(2), 1.0),
            ("bar".into(), None, 3.0)
        ]
    );
}

#[test]
fn missing_final_newline_and_empty_bodies() {
    assert_eq!(parse("a 1").len(), 1);
    assert_eq!(parse("a{} 1")[0].0, "a");
    assert!(parse("").is_empty());
    assert!(parse("\n\n").is_empty());
    assert!(parse("# only a comment").is_empty());
}

#[test]
fn special_values() {
    let s = parse("a NaN\nb +Inf\nc -Inf\nd inf\ne -0\nf 1e-3\ng .5\nh 0.1E+2\n");
    assert!(s[0].2.is_nan());
    assert_eq!(s[1].2, f64::INFINITY);
    assert_eq!(s[2].2, f64::NEG_INFINITY);
    assert_eq!(s[3].2, f64::INFINITY);
    assert!(s[4].2 == 0.0 && s[4].2.is_sign_negative());
    assert_eq!(s[5].2, 0.001);
    assert_eq!(s[6].2, 0.5);
    assert_eq!(s[7].2, 10.0);
}

#[test]
fn empty_label_values_are_absent_labels() {
    let s = parse("a{x=\"\",y=\"1\"} 1\nb{x=\"\"} 2\n");
    assert_eq!(s[0].0, r#"a{y="1"}"#);
    assert_eq!(s[1].0, "b");
}

#[test]
fn names_with_colons_and_underscores() {
    let s = parse("job:rate5m{_l1=\"v\"} 1\n_x 2\n:y 3\n");
    assert_eq!(s[0].0, r#"job:rate5m{_l1="v"}"#);
    assert_eq!(s.len(), 3);
}

#[test]
fn utf8_label_values() {
    let s = parse("a{x=\"häßlich ✓ 日本\"} 1\n");
    assert_eq!(s[0].0, "a{x=\"häßlich ✓ 日本\"}");
}

#[test]
fn invalid_utf8_is_rejected() {
    let body = b"a 1\nb{x=\"\xff\xfe\"} 1\n";
    match parse_all(body, Format::PrometheusText) {
        Err(Error::Parse { line, message }) => {
            assert_eq!(line, 2);
            assert!(message.contains("not valid UTF-8"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let body = b"# HELP a bad \xc3\x28\na 1\n";
    match parse_all(body, Format::PrometheusText) {
        Err(Error::Parse { line: 1, message }) => assert!(message.contains("UTF-8"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_and_type_lines() {
    let e = entries(
        "# HELP a one\\\\two\\nthree \\\"q\\\" \\t\n# HELP b\n# HELP c \n#HELP d x\n# HELP\n# TYPE e gauge  \n# TYPE f untyped\n# TYPE g_total counter\n# some comment\n#\n# UNIT h seconds\n",
    );
    assert_eq!(
        e,
        vec![
            "1:help a \"one\\\\two\\nthree \\\\\\\"q\\\\\\\" \\\\t\"",
            "2:help b \"\"",
            "3:help c \"\"",
            "4:comment",
            "5:comment",
            "6:type e Gauge",
            "7:type f Unknown",
            "8:type g_total Counter",
            "9:comment",
            "10:comment",
            "11:comment",
        ]
    );
}

#[test]
fn unknown_escapes_in_label_values_stay_verbatim() {
    let body = b"a{x=\"a\\tb\\\\c\"} 1\n";
    let mut p = Parser::new(body, Format::PrometheusText);
    p.next_entry().unwrap();
    assert_eq!(p.labels().unwrap().get("x"), Some("a\\tb\\c"));
}

#[test]
fn exemplars_and_created_are_openmetrics_only() {
    let mut p = Parser::new(b"a_created 5\n", Format::PrometheusText);
    p.next_entry().unwrap();
    assert_eq!(p.created_timestamp(), None);
    assert_eq!(p.exemplar(), None);
    let (line, msg) = err("a_total 1 # {t=\"x\"} 1\n");
    assert_eq!(line, 1);
    assert!(msg.contains("invalid timestamp \"#\""), "{msg}");
}

#[test]
fn errors_name_line_and_reason() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "a 1\nb{c INVALID} 1\n",
            2,
            r#"expected "=" after label name "c", found "INVALID}""#,
        ),
        (
            "a{c=d} 1",
            1,
            r#"expected a quoted value for label "c", found "d}""#,
        ),
        (
            "a{c=\"d} 1\n",
            1,
            r#"value of label "c" has no closing quote"#,
        ),
        ("a{c=\"d\\", 1, "no closing quote"),
        (
            "a{c=\"d\" e=\"f\"} 1",
            1,
            r#"expected "," or "}" after the value of label "c", found "e=\"f\"}""#,
        ),
        ("a{,} 1", 1, r#"expected a label name or "}", found ",}""#),
        (
            "a{1x=\"y\"} 1",
            1,
            r#"expected a label name or "}", found "1x=\"y\"}""#,
        ),
        (
            "a{c:d=\"y\"} 1",
            1,
            r#"expected "=" after label name "c", found ":d=\"y\"}""#,
        ),
        ("a{c=\"1\",c=\"2\"} 1", 1, r#"duplicate label name "c""#),
        ("a{__name__=\"b\"} 1", 1, "__name__"),
        ("a\n", 1, r#"expected a value after "a", found end of line"#),
        (
            "a{b=\"c\"}\n",
            1,
            r#"expected a value after "a{b=\"c\"}", found end of line"#,
        ),
        (
            "a{b=\"c\"}1\n",
            1,
            r#"expected a blank and a value after "a{b=\"c\"}", found "1""#,
        ),
        (
            "a-b 1\n",
            1,
            r#"expected a blank and a value after "a", found "-b""#,
        ),
        (
            "a{b=\"c\"\n",
            1,
            r#"expected "," or "}" after the value of label "b", found end of line"#,
        ),
        ("a abc\n", 1, r#"invalid value "abc" for "a""#),
        ("a 0x10\n", 1, "invalid value \"0x10\""),
        ("a 1_000\n", 1, "invalid value \"1_000\""),
        ("a +NaN\n", 1, "invalid value \"+NaN\""),
        ("a 1e999\n", 1, "invalid value \"1e999\""),
        ("a 1\r\n", 1, "invalid value \"1\\r\""),
        (
            "a 1 1.5\n",
            1,
            r#"invalid timestamp "1.5" for "a": expected integer milliseconds"#,
        ),
        (
            "a 1 2 3\n",
            1,
            r#"expected end of line after the timestamp of "a", found "3""#,
        ),
        (
            "\n\n{a=\"b\"} 1\n",
            3,
            r##"expected a metric name or "#" at the start of the line, found "{a=\"b\"}""##,
        ),
        ("1a 1\n", 1, "expected a metric name"),
        (
            "# TYPE a gauges\n",
            1,
            r#"invalid metric type "gauges" for "a": expected counter, gauge, histogram, summary or untyped"#,
        ),
        ("# TYPE a unknown\n", 1, "invalid metric type \"unknown\""),
        ("# TYPE a\n", 1, "invalid metric type \"\""),
        (
            "# TYPE 1a gauge\n",
            1,
            r##"expected a metric name after "# TYPE", found "1a""##,
        ),
        (
            "# HELP a{b} x\n",
            1,
            r##"expected a blank after the metric name in "# HELP a", found "{b}""##,
        ),
    ];
    for (body, line, want) in cases {
        let (l, m) = err(body);
        assert_eq!(l, *line, "{body:?}: {m}");
        assert!(m.contains(want), "{body:?}:\n got  {m}\n want {want}");
    }
    // The Display form is what users see.
    let e = parse_all(b"a 1\nb{c INVALID} 1\n", Format::PrometheusText).unwrap_err();
    assert!(e.to_string().starts_with("line 2: expected \"=\""), "{e}");
}

#[test]
fn parser_is_fused_after_an_error() {
    let mut p = Parser::new(b"a x\nb 1\n", Format::PrometheusText);
    assert!(p.next_entry().is_err());
    assert_eq!(p.next_entry().unwrap(), None);
}

#[test]
fn labels_are_sorted_with_name() {
    let mut p = Parser::new(b"m{z=\"1\",a=\"2\",_b=\"3\"} 1\n", Format::PrometheusText);
    p.next_entry().unwrap();
    let l = p.labels().unwrap();
    let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["__name__", "_b", "a", "z"]);
}

#[test]
fn duplicate_detection_survives_bitmask_collisions() {
    // "ab" and "ac" share length and first byte, so they share a bit.
    assert_eq!(
        parse("a{ab=\"1\",ac=\"2\"} 1\n")[0].0,
        r#"a{ab="1", ac="2"}"#
    );
    let (_, m) = err("a{ab=\"1\",ac=\"2\",ab=\"3\"} 1\n");
    assert!(m.contains("duplicate label name \"ab\""), "{m}");
    let (_, m) = err("a{x=\"1\",__name__=\"b\"} 1\n");
    assert!(m.contains("__name__"), "{m}");
}

#[test]
fn label_sets_are_validated_by_labels_not_by_next_entry() {
    // The series text is cut out without lexing the labels, so a label set
    // the lexer refuses only fails when the caller asks for the labels: a
    // caller that knows the text from an earlier scrape never pays for it.
    let body = b"a 1\nb{c=\"1\",c=\"2\"} 1\nd 1\n";
    let mut p = Parser::new(body, Format::PrometheusText);
    p.next_entry().unwrap();
    let Some(Entry::Sample { series, value, .. }) = p.next_entry().unwrap() else {
        panic!()
    };
    assert_eq!((series, value), (&b"b{c=\"1\",c=\"2\"}"[..], 1.0));
    match p.labels() {
        Err(Error::Parse { line: 2, message }) => {
            assert_eq!(message, "duplicate label name \"c\"")
        }
        other => panic!("{other:?}"),
    }
    // Asked again, the same error, never half the labels.
    assert!(p.labels().is_err());
    // The parser is finished, as after any error.
    assert_eq!(p.next_entry().unwrap(), None);

    // Eager validation reports it from next_entry, as parse_all does.
    let mut p = Parser::new(body, Format::PrometheusText);
    p.validate_all_labels(true);
    p.next_entry().unwrap();
    match p.next_entry() {
        Err(Error::Parse { line: 2, message }) => {
            assert_eq!(message, "duplicate label name \"c\"")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err("a 1\nb{c=\"1\",c=\"2\"} 1\n"),
        (2, "duplicate label name \"c\"".to_owned())
    );
}

#[test]
fn malformed_label_sets_of_new_series_are_errors_naming_the_line() {
    // Each kind of label error, found lazily, still names its line; the
    // rest of the line is checked by next_entry either way.
    for (body, want) in [
        (
            &b"a 1\nb{c=d} 1\n"[..],
            "expected a quoted value for label \"c\"",
        ),
        (
            b"a 1\nb{c=\"\xff\"} 1\n",
            "value of label \"c\" is not valid UTF-8",
        ),
        (b"a 1\nb{__name__=\"x\"} 1\n", "__name__"),
        (b"a 1\nb{c=\"1\" d=\"2\"} 1\n", "expected \",\" or \"}\""),
    ] {
        let mut p = Parser::new(body, Format::PrometheusText);
        p.next_entry().unwrap();
        assert!(matches!(p.next_entry(), Ok(Some(Entry::Sample { .. }))));
        match p.labels() {
            Err(Error::Parse { line: 2, message }) => assert!(message.contains(want), "{message}"),
            other => panic!("{body:?}: {other:?}"),
        }
    }
    // What follows the label set is validated without asking for labels.
    let mut p = Parser::new(b"b{c=\"1\",c=\"2\"} x\n", Format::PrometheusText);
    match p.next_entry() {
        Err(Error::Parse { line: 1, message }) => {
            assert!(message.starts_with("invalid value \"x\""), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn label_set_end_skips_braces_quotes_and_backslashes_in_values() {
    let body = br#"a{x="}",y="q\"} 1",z="c:\\"} 7 5
"#;
    let mut p = Parser::new(body, Format::PrometheusText);
    let Some(Entry::Sample {
        series,
        value,
        timestamp,
    }) = p.next_entry().unwrap()
    else {
        panic!()
    };
    assert_eq!(series, &br#"a{x="}",y="q\"} 1",z="c:\\"}"#[..]);
    assert_eq!((value, timestamp), (7.0, Some(5)));
    let l = p.labels().unwrap();
    assert_eq!(
        (l.get("x"), l.get("y"), l.get("z")),
        (Some("}"), Some("q\"} 1"), Some("c:\\"))
    );
}
