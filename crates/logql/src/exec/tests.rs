//! Pipeline tests: lines and expected outputs worked out by hand from
//! Loki's documentation of each stage.

use super::*;
use crate::ast::Expr;

fn pipeline(q: &str) -> Pipeline {
    match crate::parse(q).unwrap_or_else(|e| panic!("{q}: {e}")) {
        Expr::Log(l) => Pipeline::new(&l.stages).unwrap(),
        Expr::Metric(crate::ast::MetricExpr::Range { log, .. }) => {
            Pipeline::new(&log.stages).unwrap()
        }
        e => panic!("{e:?}"),
    }
}

fn stream() -> LabelSet {
    [
        ("app".to_string(), "api".to_string()),
        ("level".to_string(), "info".to_string()),
    ]
    .into()
}

fn run(q: &str, line: &str) -> Option<Output> {
    pipeline(q).process(1_700_000_000_000_000_000, line, &stream())
}

fn labels(o: &Output) -> Vec<(String, String)> {
    o.labels
        .iter()
        .filter(|(k, _)| k.as_str() != "app")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn line_filters() {
    let q = r#"{app="api"} |= "error" != "timeout""#;
    assert!(run(q, "an error occurred").is_some());
    assert!(run(q, "an error: timeout").is_none());
    assert!(run(q, "all fine").is_none());
    let alt = r#"{app="api"} |= "GET" or "POST""#;
    assert!(run(alt, "POST /x").is_some());
    assert!(run(alt, "PUT /x").is_none());
    // A negative filter with alternatives drops lines holding any of them.
    let neg = r#"{app="api"} != "GET" or "POST""#;
    assert!(run(neg, "PUT /x").is_some());
    assert!(run(neg, "GET /x").is_none());
    let re = r#"{app="api"} |~ "status=5\\d\\d""#;
    assert!(run(re, "x status=503 y").is_some());
    assert!(run(re, "x status=404 y").is_none());
    let pat = r#"{app="api"} |> "<_> GET <_> 500""#;
    assert!(run(pat, "10.0.0.1 GET /a 500").is_some());
    assert!(run(pat, "10.0.0.1 GET /a 200").is_none());
    let ip = r#"{app="api"} |= ip("10.0.0.0/8")"#;
    assert!(run(ip, "from 10.1.2.3:8080 ok").is_some());
    assert!(run(ip, "from 192.168.1.1 ok").is_none());
}

#[test]
fn json() {
    let o = run(r#"{app="api"} | json"#, r#"{"app":"web","status":500,"ok":false,"req":{"method":"GET","headers":{"ua":"curl"}},"tags":["a"],"n":null}"#).unwrap();
    assert_eq!(
        labels(&o),
        vec![
            ("app_extracted".into(), "web".into()),
            ("level".into(), "info".into()),
            ("n".into(), "".into()),
            ("ok".into(), "false".into()),
            ("req_headers_ua".into(), "curl".into()),
            ("req_method".into(), "GET".into()),
            ("status".into(), "500".into()),
        ]
    );
    let o = run(
        r#"{app="api"} | json first="tags[0]", m="req.method", ua=`req["headers"]["ua"]`"#,
        r#"{"tags":["x","y"],"req":{"method":"PUT","headers":{"ua":"go"}}}"#,
    )
    .unwrap();
    assert_eq!(
        labels(&o),
        vec![
            ("first".into(), "x".into()),
            ("level".into(), "info".into()),
            ("m".into(), "PUT".into()),
            ("ua".into(), "go".into())
        ]
    );
    let o = run(r#"{app="api"} | json"#, "not json").unwrap();
    assert_eq!(o.labels.get(ERROR).map(String::as_str), Some(errors::JSON));
    assert!(run(r#"{app="api"} | json | __error__="""#, "not json").is_none());
}

#[test]
fn logfmt() {
    let o = run(
        r#"{app="api"} | logfmt"#,
        r#"ts=1 msg="hello \"world\"" lvl=warn empty= bare"#,
    )
    .unwrap();
    assert_eq!(
        labels(&o),
        vec![
            ("level".into(), "info".into()),
            ("lvl".into(), "warn".into()),
            ("msg".into(), "hello \"world\"".into()),
            ("ts".into(), "1".into()),
        ]
    );
    let o = run(r#"{app="api"} | logfmt --keep-empty"#, "a=1 empty= bare").unwrap();
    assert_eq!(o.labels.get("empty").map(String::as_str), Some(""));
    assert_eq!(o.labels.get("bare").map(String::as_str), Some(""));
    let o = run(r#"{app="api"} | logfmt --strict"#, r#"a=1 b="unterminated"#).unwrap();
    assert_eq!(
        o.labels.get(ERROR).map(String::as_str),
        Some(errors::LOGFMT)
    );
    let o = run(r#"{app="api"} | logfmt x="a""#, "a=1 b=2").unwrap();
    assert_eq!(
        labels(&o),
        vec![("level".into(), "info".into()), ("x".into(), "1".into())]
    );
}

#[test]
fn regexp_and_pattern() {
    let o = run(
        r#"{app="api"} | regexp "(?P<method>\\w+) (?P<path>\\S+) (?P<status>\\d+)""#,
        "GET /a/b 404 12ms",
    )
    .unwrap();
    assert_eq!(
        labels(&o),
        vec![
            ("level".into(), "info".into()),
            ("method".into(), "GET".into()),
            ("path".into(), "/a/b".into()),
            ("status".into(), "404".into())
        ]
    );
    let o = run(
        r#"{app="api"} | pattern "<ip> - - [<_>] \"<method> <uri> <_>\" <status> <size>""#,
        r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache.gif HTTP/1.0" 200 2326"#,
    )
    .unwrap();
    assert_eq!(
        labels(&o),
        vec![
            ("ip".into(), "127.0.0.1".into()),
            ("level".into(), "info".into()),
            ("method".into(), "GET".into()),
            ("size".into(), "2326".into()),
            ("status".into(), "200".into()),
            ("uri".into(), "/apache.gif".into()),
        ]
    );
    // A line the pattern does not fit adds nothing.
    let o = run(r#"{app="api"} | pattern "<a> -> <b>""#, "no arrow here").unwrap();
    assert_eq!(labels(&o), vec![("level".into(), "info".into())]);
}

#[test]
fn label_filters_numbers_durations_bytes() {
    let q = r#"{app="api"} | logfmt | status >= 400 and latency > 250ms or size > 1KB"#;
    assert!(run(q, "status=500 latency=300ms size=10").is_some());
    assert!(run(q, "status=500 latency=200ms size=10").is_none());
    assert!(run(q, "status=200 latency=1s size=2KB").is_some());
    // A value that is not a number keeps the line and says why.
    let o = run(r#"{app="api"} | logfmt | status > 400"#, "status=abc").unwrap();
    assert_eq!(
        o.labels.get(ERROR).map(String::as_str),
        Some(errors::LABEL_FILTER)
    );
    assert!(run(
        r#"{app="api"} | logfmt | status > 400 | __error__="""#,
        "status=abc"
    )
    .is_none());
    // Strings and regexes; a missing label is "".
    assert!(run(r#"{app="api"} | level="info""#, "x").is_some());
    assert!(run(r#"{app="api"} | level=~"warn|error""#, "x").is_none());
    assert!(run(r#"{app="api"} | missing="""#, "x").is_some());
    assert!(run(
        r#"{app="api"} | logfmt | addr = ip("10.0.0.0/8")"#,
        "addr=10.2.3.4"
    )
    .is_some());
}

#[test]
fn formatting() {
    let o = run(
        r#"{app="api"} | logfmt | line_format "{{.method | ToUpper}} {{.path}} took {{.ms}}""#,
        "method=get path=/x ms=5",
    )
    .unwrap();
    assert_eq!(o.line, "GET /x took 5");
    let o = run(
        r#"{app="api"} | line_format "{{ __line__ | upper }} at {{ __timestamp__ | unixEpoch }}""#,
        "hi",
    )
    .unwrap();
    assert_eq!(o.line, "HI at 1700000000");
    let o = run(
        r#"{app="api"} | logfmt | label_format dur="{{.ms}}ms", lvl=level"#,
        "ms=7",
    )
    .unwrap();
    assert_eq!(o.labels.get("dur").map(String::as_str), Some("7ms"));
    assert_eq!(o.labels.get("lvl").map(String::as_str), Some("info"));
    assert!(!o.labels.contains_key("level"));
    let o = run(
        r#"{app="api"} | logfmt | drop ms, level="info""#,
        "ms=7 x=1",
    )
    .unwrap();
    assert_eq!(labels(&o), vec![("x".into(), "1".into())]);
    let o = run(r#"{app="api"} | logfmt | keep x"#, "ms=7 x=1").unwrap();
    assert_eq!(
        o.labels.into_iter().collect::<Vec<_>>(),
        vec![("x".to_string(), "1".to_string())]
    );
    let o = run(r#"{app="api"} | decolorize"#, "\u{1b}[31mred\u{1b}[0m text").unwrap();
    assert_eq!(o.line, "red text");
    let o = run(
        r#"{app="api"} | unpack"#,
        r#"{"_entry":"the line","pod":"p1"}"#,
    )
    .unwrap();
    assert_eq!(o.line, "the line");
    assert_eq!(o.labels.get("pod").map(String::as_str), Some("p1"));
}

#[test]
fn unwrap() {
    let p = pipeline(
        r#"sum_over_time({app="api"} | logfmt | unwrap duration(took) | __error__="" [1m])"#,
    );
    let (v, l) = p.sample(0, "took=1.5s x=1", &stream()).unwrap();
    assert_eq!(v, Some(1.5));
    assert!(!l.contains_key("took"));
    // Not a duration: the error filter after unwrap drops it.
    assert!(p.sample(0, "took=soon", &stream()).is_none());
    let p = pipeline(r#"sum_over_time({app="api"} | logfmt | unwrap bytes(size) [1m])"#);
    assert_eq!(p.sample(0, "size=2KiB", &stream()).unwrap().0, Some(2048.0));
    let p = pipeline(r#"sum_over_time({app="api"} | json | unwrap n [1m])"#);
    assert_eq!(
        p.sample(0, r#"{"n": 42.5}"#, &stream()).unwrap().0,
        Some(42.5)
    );
    let (v, l) = p.sample(0, r#"{"m": 1}"#, &stream()).unwrap();
    assert_eq!(v, None);
    assert_eq!(l.get(ERROR).map(String::as_str), Some(errors::SAMPLE));
}

/// Issue 15: found by the reference test (crates/server/tests/
/// logql_reference.rs). `--strict` keeps the pairs before the malformed
/// one (Loki stops parsing there); without it an unterminated quoted value
/// is an invalid token, skipped rather than made a label.
#[test]
fn issue_15_logfmt_strict_keeps_earlier_pairs_and_lenient_skips_bad_tokens() {
    let line = r#"a=1 msg="ok" note="unterminated"#;
    let o = run(r#"{app="api"} | logfmt --strict"#, line).unwrap();
    assert_eq!(o.labels.get("a").map(String::as_str), Some("1"));
    assert_eq!(o.labels.get("msg").map(String::as_str), Some("ok"));
    assert_eq!(o.labels.get("note"), None);
    assert_eq!(
        o.labels.get(ERROR).map(String::as_str),
        Some(errors::LOGFMT)
    );
    let o = run(r#"{app="api"} | logfmt"#, line).unwrap();
    assert_eq!(o.labels.get("note"), None);
    assert_eq!(o.labels.get(ERROR), None);
    assert_eq!(o.labels.get("msg").map(String::as_str), Some("ok"));
}

/// Issue 15: a json parameter naming an object, an array or a number gets
/// the text of the line itself (order, spacing and escapes kept), as
/// Loki's; a missing one is empty.
#[test]
fn issue_15_json_parameters_are_the_raw_text() {
    let line = r#"{"req": {"method": "GET", "h": {"ua": "x\u00e9"}}, "n": 1.50, "tags": ["a", "b"], "s": "caf\u00e9"}"#;
    let o = run(
        r#"{app="api"} | json req="req", n="n", t="tags", t1="tags[1]", s="s", ua="req.h.ua", none="zz""#,
        line,
    )
    .unwrap();
    let get = |k: &str| o.labels.get(k).cloned().unwrap_or_else(|| panic!("{k}"));
    assert_eq!(get("req"), r#"{"method": "GET", "h": {"ua": "x\u00e9"}}"#);
    assert_eq!(get("n"), "1.50");
    assert_eq!(get("t"), r#"["a", "b"]"#);
    assert_eq!(get("t1"), "b");
    assert_eq!(get("s"), "café");
    assert_eq!(get("ua"), "xé");
    assert_eq!(get("none"), "");
}

/// Issue 15: as Loki's label filters, a number, duration, bytes or ip
/// filter keeps a line that already carries `__error__` (only string
/// matchers drop it) and drops a line without the label, `!=` too.
#[test]
fn issue_15_numeric_filters_keep_error_lines_and_drop_missing_labels() {
    let o = run(r#"{app="api"} | json | status >= 500"#, "not json").unwrap();
    assert_eq!(o.labels.get(ERROR).map(String::as_str), Some(errors::JSON));
    assert!(run(r#"{app="api"} | json | d > 1s"#, "not json").is_some());
    assert!(run(r#"{app="api"} | json | ip = ip("10.0.0.0/8")"#, "x").is_some());
    assert!(run(r#"{app="api"} | logfmt | x != 5"#, "a=1").is_none());
    assert!(run(r#"{app="api"} | logfmt | x != 10KB"#, "a=1").is_none());
    assert!(run(r#"{app="api"} | logfmt | x = ip("1.2.3.4")"#, "a=1").is_none());
    // After `a` fails to convert, `b > 5` no longer drops the line.
    let o = run(r#"{app="api"} | logfmt | a > 1 and b > 5"#, "a=x b=1").unwrap();
    assert_eq!(
        o.labels.get(ERROR).map(String::as_str),
        Some(errors::LABEL_FILTER)
    );
    // String matchers still drop it.
    assert!(run(r#"{app="api"} | json | status >= 500 | __error__="""#, "x").is_none());
}

/// Issue 15: `json` without parameters hands out numbers as the line
/// writes them (Loki keeps the raw text): `1.50` stays `1.50`, `1e3`
/// `1e3`; strings are unquoted, `null` empty, arrays skipped.
#[test]
fn issue_15_json_numbers_keep_their_text() {
    let o = run(
        r#"{app="api"} | json"#,
        r#"{"a": 1.50, "b": {"c": 1e3, "d": "x\u00e9"}, "n": null, "arr": [1], "t": true, "i": -0}"#,
    )
    .unwrap();
    assert_eq!(
        labels(&o),
        vec![
            ("a".into(), "1.50".into()),
            ("b_c".into(), "1e3".into()),
            ("b_d".into(), "xé".into()),
            ("i".into(), "-0".into()),
            ("level".into(), "info".into()),
            ("n".into(), "".into()),
            ("t".into(), "true".into()),
        ]
    );
    let o = run(r#"{app="api"} | json"#, "[1, 2]").unwrap();
    assert_eq!(o.labels.get(ERROR).map(String::as_str), Some(errors::JSON));
}
