//! OpenMetrics 1.0: cases written from the spec's ABNF and its rules on
//! metric families, suffixes, exemplars and `# EOF`.

use super::*;
use crate::Error;

type Samples = Vec<(String, Option<i64>, f64)>;

fn om(body: &str) -> Result<Samples, (usize, String)> {
    match parse_all(body.as_bytes(), Format::OpenMetrics) {
        Ok(v) => Ok(v
            .into_iter()
            .map(|(l, t, v)| (l.to_string(), t, v))
            .collect()),
        Err(Error::Parse { line, message }) => Err((line, message)),
        Err(e) => panic!("{e}"),
    }
}

fn ok(body: &str) -> Samples {
    om(body).unwrap_or_else(|(l, m)| panic!("{body:?}: line {l}: {m}"))
}

fn bad(body: &str, line: usize, want: &str) {
    match om(body) {
        Ok(v) => panic!("{body:?}: expected an error, got {v:?}"),
        Err((l, m)) => {
            assert!(m.contains(want), "{body:?}:\n got  {m}\n want {want}");
            assert_eq!(l, line, "{body:?}: {m}");
        }
    }
}

/// The example of the spec's "Overall Structure" section, extended with
/// every type.
const FULL: &str = r#"# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
acme_http_router_request_seconds_sum{path="/api/v2",method="POST"} 479.3
acme_http_router_request_seconds_count{path="/api/v2",method="POST"} 34.0
acme_http_router_request_seconds_created{path="/api/v2",method="POST"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06
# TYPE foo histogram
foo_bucket{le="0.0"} 0
foo_bucket{le="1e-05"} 0 # {trace_id="KOO5S4vxi0o"} 0.67
foo_bucket{le="+Inf"} 17 # {trace_id="oHg5SJYRHA0"} 9.8 1520879607.789
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE bar gaugehistogram
bar_bucket{le="+Inf"} 3
bar_gcount 3
bar_gsum 2
# TYPE build info
build_info{version="1.2"} 1
# TYPE feature stateset
feature{feature="a"} 1
feature{feature="b"} 0
# TYPE other unknown
other 1 1520879607
# EOF
"#;

#[test]
fn full_example() {
    let s = ok(FULL);
    assert_eq!(s.len(), 21);
    assert_eq!(
        s[0],
        (
            r#"acme_http_router_request_seconds_sum{method="GET", path="/api/v1"}"#.into(),
            None,
            9036.32
        )
    );
    assert_eq!(s[7].0, "process_cpu_seconds_total");
    assert_eq!(s[7].2, 4.20072246e6);
    assert_eq!(
        s.last().unwrap(),
        &("other".into(), Some(1_520_879_607_000), 1.0)
    );
}

#[test]
fn metadata_entries() {
    let mut p = Parser::new(FULL.as_bytes(), Format::OpenMetrics);
    let mut meta = Vec::new();
    while let Some(e) = p.next_entry().unwrap() {
        match e {
            Entry::Sample { .. } => {}
            other => meta.push((p.line(), other)),
        }
    }
    assert_eq!(
        meta[0],
        (
            1,
            Entry::Type {
                name: "acme_http_router_request_seconds",
                kind: MetricType::Summary
            }
        )
    );
    assert_eq!(
        meta[1],
        (
            2,
            Entry::Unit {
                name: "acme_http_router_request_seconds",
                unit: "seconds"
            }
        )
    );
    let kinds: Vec<MetricType> = meta
        .iter()
        .filter_map(|(_, e)| match e {
            Entry::Type { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    use MetricType::*;
    assert_eq!(
        kinds,
        [
            Summary,
            Gauge,
            Counter,
            Histogram,
            GaugeHistogram,
            Info,
            StateSet,
            Unknown
        ]
    );
}

#[test]
fn exemplars() {
    let body = "# TYPE foo histogram\nfoo_bucket{le=\"1\"} 0 # {trace_id=\"KOO5S4vxi0o\",span=\"a\\\"b\"} 0.67\nfoo_bucket{le=\"+Inf\"} 17 1520879607.789 # {} 9.8 1520879607.789\nfoo_count 17\n# TYPE c counter\nc_total 1 # {a=\"\"} 1.5e0 -1\nc_created 1.5\n# EOF";
    let mut p = Parser::new(body.as_bytes(), Format::OpenMetrics);
    p.next_entry().unwrap();
    p.next_entry().unwrap();
    let e = p.exemplar().unwrap();
    assert_eq!(e.value, 0.67);
    assert_eq!(e.timestamp, None);
    assert_eq!(e.labels.get("trace_id"), Some("KOO5S4vxi0o"));
    assert_eq!(e.labels.get("span"), Some("a\"b"));
    assert_eq!(p.labels().unwrap().to_string(), r#"foo_bucket{le="1"}"#);

    let Some(Entry::Sample { timestamp, .. }) = p.next_entry().unwrap() else {
        panic!()
    };
    assert_eq!(timestamp, Some(1_520_879_607_789));
    let e = p.exemplar().unwrap();
    assert!(e.labels.is_empty());
    assert_eq!((e.value, e.timestamp), (9.8, Some(1_520_879_607_789)));

    p.next_entry().unwrap();
    assert_eq!(
        p.exemplar(),
        None,
        "exemplars do not leak to the next sample"
    );
    p.next_entry().unwrap(); // TYPE
    p.next_entry().unwrap();
    let e = p.exemplar().unwrap();
    assert_eq!((e.value, e.timestamp), (1.5, Some(-1000)));
    assert!(e.labels.is_empty(), "empty values are absent labels");
    assert_eq!(p.created_timestamp(), None);
    p.next_entry().unwrap();
    assert_eq!(p.created_timestamp(), Some(1500));
    assert_eq!(p.labels().unwrap().to_string(), "c_created");
    assert_eq!(p.next_entry().unwrap(), None);
    assert_eq!(p.next_entry().unwrap(), None);
}

#[test]
fn created_series_are_normal_samples_with_a_created_timestamp() {
    let mut p = Parser::new(FULL.as_bytes(), Format::OpenMetrics);
    let mut created = Vec::new();
    while let Some(e) = p.next_entry().unwrap() {
        if let Entry::Sample { series, value, .. } = e {
            if let Some(ct) = p.created_timestamp() {
                created.push((String::from_utf8_lossy(series).into_owned(), value, ct));
            }
        }
    }
    assert_eq!(created.len(), 3);
    assert_eq!(created[0].2, 1_605_281_325_000);
    assert_eq!(
        created[2],
        ("foo_created".into(), 1520430000.123, 1_520_430_000_123)
    );
}

#[test]
fn timestamps_are_float_seconds() {
    let s = ok("a 1 1.5\nb 1 -2\nc 1 1.001\nd 1 1e3\ne 1 0\n# EOF\n");
    let ts: Vec<Option<i64>> = s.iter().map(|x| x.1).collect();
    assert_eq!(
        ts,
        [
            Some(1500),
            Some(-2000),
            Some(1001),
            Some(1_000_000),
            Some(0)
        ]
    );
    bad("a 1 NaN\n# EOF\n", 1, "invalid timestamp \"NaN\"");
    bad("a 1 +Inf\n# EOF\n", 1, "invalid timestamp \"+Inf\"");
    bad("a 1 x\n# EOF\n", 1, "invalid timestamp \"x\"");
}

#[test]
fn values() {
    let s = ok("a NaN\nb +Inf\nc -Inf\nd 1.5e-3\ne -0.0\nf 17\n# EOF");
    assert!(s[0].2.is_nan());
    assert_eq!(s[1].2, f64::INFINITY);
    assert_eq!(s[2].2, f64::NEG_INFINITY);
    assert_eq!(s[3].2, 1.5e-3);
    assert_eq!(s[5].2, 17.0);
    bad("a 0x1\n# EOF\n", 1, "invalid value \"0x1\" for \"a\"");
    bad("a -NaN\n# EOF\n", 1, "invalid value \"-NaN\"");
}

#[test]
fn eof_rules() {
    assert!(ok("# EOF").is_empty());
    assert!(ok("# EOF\n").is_empty());
    bad("", 1, "must end with \"# EOF\"");
    bad("a 1\n", 2, "must end with \"# EOF\"");
    bad("a 1\n# EOF\n\n", 3, "unexpected data after \"# EOF\"");
    bad("# EOF\na 1\n", 2, "unexpected data after \"# EOF\"");
    bad("# EOF \n", 1, "unexpected \" \" after \"# EOF\"");
    bad("# EOFX\n", 1, "found \"# EOFX\"");
}

#[test]
fn strict_syntax() {
    bad("a  1\n# EOF\n", 1, r#"invalid value "" for "a""#);
    bad(" a 1\n# EOF\n", 1, "expected a metric name or \"#\"");
    bad(
        "a\t1\n# EOF\n",
        1,
        r#"expected a space and a value after "a", found "\t1""#,
    );
    bad("a 1 \n# EOF\n", 1, "invalid timestamp \"\"");
    bad("a 1 2 3\n# EOF\n", 1, "expected end of line or an exemplar");
    bad("a{b=\"c\",} 1\n# EOF\n", 1, "trailing comma in label set");
    bad(
        "a{b=\"c\", d=\"e\"} 1\n# EOF\n",
        1,
        "expected a label name, found \" d=",
    );
    bad(
        "a{b = \"c\"} 1\n# EOF\n",
        1,
        r#"expected "=" after label name "b", found " =""#,
    );
    bad(
        "a{b=\"c\"d=\"e\"} 1\n# EOF\n",
        1,
        r#"expected "," or "}" after the value of label "b""#,
    );
    bad("a 1\n\n# EOF\n", 2, "empty line");
    bad(
        "a\n# EOF\n",
        1,
        "expected a value after \"a\", found end of line",
    );
    bad(
        "# some comment\n# EOF\n",
        1,
        "OpenMetrics has no other comments",
    );
    bad("#\n# EOF\n", 1, "OpenMetrics has no other comments");
    bad(
        "# TYPE a\tgauge\n# EOF\n",
        1,
        "expected a space after the metric name",
    );
    bad(
        "# TYPE a untyped\n# EOF\n",
        1,
        "invalid metric type \"untyped\"",
    );
    bad(
        "# TYPE  a gauge\n# EOF\n",
        1,
        "expected a metric name after \"# TYPE \"",
    );
    bad(
        "a{b=\"c\\t\"} 1\n# EOF\n",
        1,
        "invalid escape sequence \"\\\\t\" in value of label \"b\"",
    );
    bad(
        "# HELP a x\\ty\n# EOF\n",
        1,
        "invalid escape sequence \"\\\\t\" in help text of \"a\"",
    );
    bad(
        "a{b=\"c\",b=\"d\"} 1\n# EOF\n",
        1,
        "duplicate label name \"b\"",
    );
    bad("a 1\r\n# EOF\n", 1, "invalid value \"1\\r\"");
}

#[test]
fn help_escapes_and_empty_help() {
    let mut p = Parser::new(
        b"# HELP a x\\\\y\\nz \\\"q\\\"\n# HELP b \n# HELP c\n# EOF\n",
        Format::OpenMetrics,
    );
    let mut helps = Vec::new();
    while let Some(e) = p.next_entry().unwrap() {
        if let Entry::Help { text, .. } = e {
            helps.push(text);
        }
    }
    assert_eq!(helps, ["x\\y\nz \"q\"", "", ""]);
}

#[test]
fn utf8_is_validated() {
    assert_eq!(
        ok("a{b=\"ünïcødé ✓\"} 1\n# EOF\n")[0].0,
        "a{b=\"ünïcødé ✓\"}"
    );
    match parse_all(b"a{b=\"\xc3\x28\"} 1\n# EOF\n", Format::OpenMetrics) {
        Err(Error::Parse { line: 1, message }) => {
            assert!(message.contains("not valid UTF-8"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    match parse_all(b"# HELP a \xff\n# EOF\n", Format::OpenMetrics) {
        Err(Error::Parse { line: 1, message }) => {
            assert!(message.contains("not valid UTF-8"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn family_order_rules() {
    // Metadata after samples of the same family.
    bad(
        "# TYPE a gauge\na 1\n# HELP a x\n# EOF\n",
        3,
        "\"# HELP\" for metric family \"a\" after its samples",
    );
    // Repeated metadata.
    bad(
        "# TYPE a gauge\n# TYPE a gauge\n# EOF\n",
        2,
        "second \"# TYPE\" line for metric family \"a\"",
    );
    bad("# HELP a x\n# HELP a y\n# EOF\n", 2, "second \"# HELP\"");
    // Interleaving, by metadata or by samples.
    bad(
        "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n",
        5,
        "metric family \"a\" appears again after other families",
    );
    bad(
        "a 1\nb 1\na 2\n# EOF\n",
        3,
        "metric family \"a\" appears again",
    );
    // Samples of one family under its metadata, in any label order.
    assert_eq!(
        ok("# TYPE a gauge\n# HELP a h\na{x=\"1\"} 1\na{x=\"2\"} 1\nb 1\nb{y=\"1\"} 2\n# EOF\n")
            .len(),
        4
    );
    // Metadata without samples is fine, and so is a family without metadata.
    assert_eq!(
        ok("# TYPE a gauge\n# TYPE b counter\nc 1\n# EOF\n").len(),
        1
    );
}

#[test]
fn suffixes_must_fit_the_type() {
    bad(
        "# TYPE a counter\na 1\n# EOF\n",
        2,
        "sample \"a\" of counter family \"a\" needs a suffix: _total or _created",
    );
    bad(
        "# TYPE h histogram\nh 1\n# EOF\n",
        2,
        "_bucket, _count, _sum or _created",
    );
    bad(
        "# TYPE g gaugehistogram\ng 1\n# EOF\n",
        2,
        "_bucket, _gcount or _gsum",
    );
    bad("# TYPE i info\ni 1\n# EOF\n", 2, "needs a suffix: _info");
    // A suffix the type does not know starts a new (unknown) family.
    let s = ok("# TYPE a gauge\na 1\na_total 2\n# EOF\n");
    assert_eq!(s[1].0, "a_total");
    // A family's samples cannot come back after another family, even by a
    // suffixed name.
    bad(
        "# TYPE a counter\na_total 1\na_foo 1\na_created 2\n# EOF\n",
        4,
        "sample \"a_created\" belongs to metric family \"a\", which appears again",
    );
    // But a name that only looks suffixed is its own family.
    assert_eq!(ok("# TYPE a gauge\na 1\nb 1\na_count 2\n# EOF\n").len(), 3);
}

#[test]
fn exemplar_rules() {
    bad(
        "# TYPE a gauge\na 1 # {t=\"x\"} 1\n# EOF\n",
        2,
        "exemplar on \"a\": OpenMetrics allows exemplars only on counter _total and histogram _bucket samples",
    );
    bad(
        "# TYPE h histogram\nh_count 1 # {t=\"x\"} 1\n# EOF\n",
        2,
        "exemplars only on",
    );
    bad("a 1 # {t=\"x\"} 1\n# EOF\n", 1, "exemplars only on");
    // Too long for OpenMetrics, but the store refuses it, not the parser:
    // Prometheus 2.42 scrapes such a body (issue 12).
    let long = "x".repeat(121);
    assert_eq!(
        ok(&format!(
            "# TYPE c counter\nc_total 1 # {{trace_id=\"{long}\"}} 1\n# EOF\n"
        ))
        .len(),
        1
    );
    // Exactly 128 characters (names and values, escapes counted once) pass.
    let v = "é".repeat(120);
    assert_eq!(
        ok(&format!(
            "# TYPE c counter\nc_total 1 # {{trace_id=\"{v}\"}} 1\n# EOF\n"
        ))
        .len(),
        1
    );
    bad(
        "# TYPE c counter\nc_total 1 #{t=\"x\"} 1\n# EOF\n",
        2,
        "expected \"# {\" to start the exemplar",
    );
    bad(
        "# TYPE c counter\nc_total 1 # t 1\n# EOF\n",
        2,
        "expected \"# {\" to start the exemplar",
    );
    bad(
        "# TYPE c counter\nc_total 1 # {t=\"x\"}\n# EOF\n",
        2,
        "expected a space and a value after the exemplar labels",
    );
    bad(
        "# TYPE c counter\nc_total 1 # {t=\"x\"} y\n# EOF\n",
        2,
        "invalid exemplar value \"y\"",
    );
    bad(
        "# TYPE c counter\nc_total 1 # {t=\"x\"} 1 2 3\n# EOF\n",
        2,
        "expected end of line after \"c_total\"",
    );
    bad(
        "# TYPE c counter\nc_total 1 # {t=\"x\",t=\"y\"} 1\n# EOF\n",
        2,
        "duplicate label name \"t\"",
    );
}

#[test]
fn unit_must_be_a_name_suffix() {
    assert_eq!(
        ok("# TYPE a_seconds gauge\n# UNIT a_seconds seconds\na_seconds 1\n# EOF\n").len(),
        1
    );
    assert!(ok("# UNIT a \n# EOF\n").is_empty());
    bad(
        "# UNIT a_bytes seconds\n# EOF\n",
        1,
        "unit \"seconds\" is not a suffix of metric family \"a_bytes\" (the name must end in \"_seconds\")",
    );
    bad("# UNIT seconds seconds\n# EOF\n", 1, "is not a suffix");
    bad("# UNIT xseconds seconds\n# EOF\n", 1, "is not a suffix");
    bad("# UNIT a_s s-1\n# EOF\n", 1, "invalid unit \"s-1\"");
    bad("# UNIT a s\n# UNIT a s\n# EOF\n", 1, "is not a suffix");
}

#[test]
fn series_bytes_and_line_numbers() {
    let body =
        b"# TYPE a_total counter\n# TYPE a counter\na_total{x=\"1\"} 1 # {t=\"1\"} 2\n# EOF\n";
    let mut p = Parser::new(body, Format::OpenMetrics);
    p.next_entry().unwrap();
    p.next_entry().unwrap();
    let Some(Entry::Sample { series, .. }) = p.next_entry().unwrap() else {
        panic!()
    };
    assert_eq!(series, b"a_total{x=\"1\"}");
    assert_eq!(p.line(), 3);
    assert_eq!(p.metric_name(), "a_total");
}

#[test]
fn exemplar_labels_may_use_any_name() {
    let body = "# TYPE c counter\nc_total 1 # {__name__=\"x\",trace_id=\"t\"} 1\n# EOF\n";
    let mut p = Parser::new(body.as_bytes(), Format::OpenMetrics);
    p.next_entry().unwrap();
    p.next_entry().unwrap();
    assert_eq!(p.exemplar().unwrap().labels.get("__name__"), Some("x"));
}

/// No input may panic the parser: mutate valid bodies at random (a fixed
/// seed, so failures reproduce) and parse them in both formats.
#[test]
fn random_mutations_never_panic() {
    let seeds = [FULL.as_bytes(), super::text_tests::DOCS_BODY.as_bytes()];
    let alphabet = b" \t\n#{}=\",\\.-+_:aZ09eEIn\xc3\xa9\xff";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..4000 {
        let mut b = seeds[i % 2].to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() % (b.len() as u64 + 1)) as usize;
            let c = alphabet[(next() % alphabet.len() as u64) as usize];
            match next() % 3 {
                0 if at < b.len() => b[at] = c,
                1 if at < b.len() => {
                    b.remove(at);
                }
                _ => b.insert(at, c),
            }
        }
        for format in [Format::PrometheusText, Format::OpenMetrics] {
            let mut p = Parser::new(&b, format);
            while let Ok(Some(e)) = p.next_entry() {
                if matches!(e, Entry::Sample { .. }) {
                    let _ = (p.labels(), p.exemplar(), p.created_timestamp());
                }
            }
        }
    }
}

#[test]
fn remaining_error_paths() {
    bad(
        "# HELP\n# EOF\n",
        1,
        "expected a space and a metric name after \"# HELP\", found end of line",
    );
    bad("# UNIT\n# EOF\n", 1, "after \"# UNIT\"");
    bad(
        "a{b=c} 1\n# EOF\n",
        1,
        "expected a quoted value for label \"b\", found \"c}",
    );
    bad(
        "a{b=\"c} 1\n# EOF\n",
        1,
        "value of label \"b\" has no closing quote before the end of the line",
    );
    bad("a{b=\"c\\", 1, "no closing quote");
    bad("a{", 1, "expected a label name, found end of line");
    bad(
        "# TYPE c counter\nc_total 1 # {t=\"x\"} 1 abc\n# EOF\n",
        2,
        "invalid timestamp \"abc\" for \"c_total\": expected seconds since the epoch",
    );
    bad(
        "# TYPE c counter\nc_total 1 # {t=\"x\"} 1 NaN\n# EOF\n",
        2,
        "invalid timestamp \"NaN\"",
    );
    bad(
        "# TYPE c counter\nc_total 1 # {t=x} 1\n# EOF\n",
        2,
        "expected a quoted value for label \"t\"",
    );
    // Empty braces and an empty HELP are fine.
    assert_eq!(ok("a{} 1\n# HELP b\n# EOF\n")[0].0, "a");
}

#[test]
fn malformed_label_sets_fail_in_labels_naming_the_line() {
    // OpenMetrics refuses what text 0.0.4 takes; the parser finds out when
    // the labels are asked for (parse_all asks for every sample).
    for (body, want) in [
        ("a 1\nb{c=\"1\",} 1\n# EOF\n", "trailing comma in label set"),
        (
            "a 1\nb{c=\"1\", d=\"2\"} 1\n# EOF\n",
            "expected a label name",
        ),
        ("a 1\nb{c=\"\\t\"} 1\n# EOF\n", "invalid escape sequence"),
        (
            "a 1\nb{c=\"1\",c=\"2\"} 1\n# EOF\n",
            "duplicate label name \"c\"",
        ),
    ] {
        bad(body, 2, want);
        let mut p = Parser::new(body.as_bytes(), Format::OpenMetrics);
        p.next_entry().unwrap();
        assert!(matches!(p.next_entry(), Ok(Some(Entry::Sample { .. }))));
        match p.labels() {
            Err(Error::Parse { line: 2, message }) => {
                assert!(message.contains(want), "{body:?}: {message}")
            }
            other => panic!("{body:?}: {other:?}"),
        }
    }
    // No `}` on the line: the lexer runs at once and says why.
    let mut p = Parser::new(b"a{b=\"c\"\n# EOF\n", Format::OpenMetrics);
    match p.next_entry() {
        Err(Error::Parse { line: 1, message }) => assert!(
            message.starts_with("expected \",\" or \"}\" after the value of label \"b\""),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn exemplars_and_family_checks_do_not_wait_for_labels() {
    let body = "# TYPE c counter\nc_total{a=\"1\"} 1 # {t=\"x\"} 2 3\n# EOF\n";
    let mut p = Parser::new(body.as_bytes(), Format::OpenMetrics);
    p.next_entry().unwrap();
    p.next_entry().unwrap();
    let e = p.exemplar().unwrap();
    assert_eq!((e.value, e.timestamp), (2.0, Some(3000)));
    assert_eq!(p.labels().unwrap().to_string(), r#"c_total{a="1"}"#);
    // A bad exemplar or a family violation is an error from next_entry,
    // whatever the label set.
    let mut p = Parser::new(
        b"# TYPE c counter\nc_total{a=\"1\",} 1 # {t=x} 1\n# EOF\n",
        Format::OpenMetrics,
    );
    p.next_entry().unwrap();
    assert!(matches!(p.next_entry(), Err(Error::Parse { line: 2, .. })));
    let mut p = Parser::new(
        b"# TYPE c counter\nc{a=\"1\",} 1\n# EOF\n",
        Format::OpenMetrics,
    );
    p.next_entry().unwrap();
    match p.next_entry() {
        Err(Error::Parse { line: 2, message }) => assert!(message.contains("needs a suffix")),
        other => panic!("{other:?}"),
    }
}
