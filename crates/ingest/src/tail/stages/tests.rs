//! Each stage with Promtail's documented examples (docs "Promtail pipeline
//! stages"); expected values are written by hand from those pages, times
//! computed with `date -u -d ... +%s`.

use super::*;
use std::time::Instant;

fn pipeline(yaml: &str) -> (Pipeline, Arc<TailMetrics>) {
    let stages: Vec<StageConfig> = sightline_config::yaml::from_str(yaml, "stages.yml").unwrap();
    let m = TailMetrics::new();
    (Pipeline::new(&stages, "job", &m).unwrap(), m)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

/// Runs lines through; returns what came out and the drop reasons.
fn run(p: &mut Pipeline, lines: &[&str], l: &[(&str, &str)]) -> (Vec<Entry>, Vec<String>) {
    let (mut out, mut dropped) = (Vec::new(), Vec::new());
    for line in lines {
        p.process(
            Entry::new((*line).into(), 7, labels(l)),
            &mut out,
            &mut dropped,
        );
    }
    (out, dropped)
}

const DOCKER_LINE: &str =
    r#"{"log":"log message\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}"#;

#[test]
fn docker_stage_sets_line_stream_and_time() {
    let (mut p, _) = pipeline("- docker: {}\n");
    let (out, _) = run(&mut p, &[DOCKER_LINE], &[("job", "x")]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].line, "log message\n");
    assert_eq!(out[0].labels, labels(&[("job", "x"), ("stream", "stderr")]));
    assert_eq!(out[0].ts_ns, 1_556_590_361_844_351_500);
}

#[test]
fn cri_stage_reads_cri_lines_and_joins_partial_ones() {
    let (mut p, _) = pipeline("- cri: {}\n");
    let (out, _) = run(
        &mut p,
        &[
            "2019-04-30T02:12:41.8443515Z stdout F message",
            "2019-04-30T02:12:41.8443515Z stderr P part one, ",
            "2019-04-30T02:12:41.8443515Z stderr F part two",
        ],
        &[],
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].line, "message");
    assert_eq!(out[0].labels, labels(&[("stream", "stdout")]));
    assert_eq!(out[0].ts_ns, 1_556_590_361_844_351_500);
    assert_eq!(out[1].line, "part one, part two");
    assert_eq!(out[1].labels, labels(&[("stream", "stderr")]));
}

#[test]
fn json_stage_extracts_expressions_nested_sources_and_paths() {
    let (mut p, _) = pipeline(
        r#"
- json:
    expressions:
      output: log
      stream: stream
      timestamp: time
      extra:
- json:
    expressions:
      user:
      first: items[0]
      last: items[-1]
      deep: a.b."c-d"
    source: extra
- labels:
    user:
    first:
    last:
    deep:
- output:
    source: output
"#,
    );
    let line = r#"{"log":"log message\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z","extra":{"user":"marco","items":[1,2.5,true],"a":{"b":{"c-d":"x"}}}}"#;
    let (out, _) = run(&mut p, &[line, "not json"], &[]);
    assert_eq!(out[0].line, "log message\n");
    assert_eq!(out[0].extracted["stream"], "stderr");
    assert_eq!(
        out[0].labels,
        labels(&[
            ("user", "marco"),
            ("first", "1"),
            ("last", "true"),
            ("deep", "x")
        ])
    );
    // Not JSON: the line goes on untouched (drop_malformed is off).
    assert_eq!(out[1].line, "not json");
    assert!(out[1].labels.is_empty());
}

#[test]
fn json_stage_refuses_unsupported_jmespath_and_drops_malformed_when_asked() {
    let stages: Vec<StageConfig> = sightline_config::yaml::from_str(
        "- json:\n    expressions:\n      a: \"items[*].name\"\n",
        "s.yml",
    )
    .unwrap();
    let err = Pipeline::new(&stages, "j", &TailMetrics::new())
        .err()
        .unwrap();
    assert!(
        err.contains("pipeline_stages[0]") && err.contains("items[*].name"),
        "{err}"
    );
    let (mut p, _) = pipeline("- json:\n    expressions: {a:}\n    drop_malformed: true\n");
    let (out, dropped) = run(&mut p, &["{", r#"{"a":1}"#], &[]);
    assert_eq!(out.len(), 1);
    assert_eq!(dropped, vec!["malformed_json".to_string()]);
}

#[test]
fn logfmt_stage_maps_keys() {
    let (mut p, _) = pipeline(
        "- logfmt:\n    mapping:\n      timestamp: time\n      app:\n      duration:\n      unknown:\n",
    );
    let line = r#"time=2012-11-01T22:08:41+00:00 app=loki level=WARN duration=125 message="this is a log line" extra="user=foo""#;
    let (out, _) = run(&mut p, &[line], &[]);
    let x = &out[0].extracted;
    assert_eq!(x["timestamp"], "2012-11-01T22:08:41+00:00");
    assert_eq!(x["app"], "loki");
    assert_eq!(x["duration"], "125");
    assert!(!x.contains_key("unknown"));
    let pairs = parse::logfmt_pairs(line);
    assert!(pairs.contains(&("message".into(), "this is a log line".into())));
    assert!(pairs.contains(&("extra".into(), "user=foo".into())));
}

#[test]
fn regex_stage_extracts_named_groups() {
    let (mut p, _) = pipeline(
        "- regex:\n    expression: \"^(?s)(?P<time>\\\\S+?) (?P<stream>stdout|stderr) (?P<flags>\\\\S+?) (?P<content>.*)$\"\n",
    );
    let (out, _) = run(
        &mut p,
        &["2019-01-01T01:00:00.000000001Z stderr P i'm a log message!"],
        &[],
    );
    let x = &out[0].extracted;
    assert_eq!(x["time"], "2019-01-01T01:00:00.000000001Z");
    assert_eq!(x["stream"], "stderr");
    assert_eq!(x["flags"], "P");
    assert_eq!(x["content"], "i'm a log message!");
}

#[test]
fn timestamp_layouts_named_and_unix() {
    use timefmt::{compile, parse};
    let utc = jiff::tz::TimeZone::UTC;
    let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let s = 1_562_694_516i64; // 2019-07-09T17:48:36Z
    let cases: &[(&str, &str, &jiff::tz::TimeZone, i64)] = &[
        ("RFC3339", "2019-07-09T17:48:36Z", &utc, s * 1_000_000_000),
        (
            "RFC3339",
            "2019-07-09T13:48:36-04:00",
            &utc,
            s * 1_000_000_000,
        ),
        (
            "RFC3339Nano",
            "2019-07-09T17:48:36.414123456Z",
            &utc,
            s * 1_000_000_000 + 414_123_456,
        ),
        ("Unix", "1562694516", &utc, s * 1_000_000_000),
        (
            "Unix",
            "1562694516.5",
            &utc,
            s * 1_000_000_000 + 500_000_000,
        ),
        (
            "UnixMs",
            "1562694516414",
            &utc,
            s * 1_000_000_000 + 414_000_000,
        ),
        (
            "UnixUs",
            "1562694516414123",
            &utc,
            s * 1_000_000_000 + 414_123_000,
        ),
        (
            "UnixNs",
            "1562694516414123456",
            &utc,
            s * 1_000_000_000 + 414_123_456,
        ),
        // A layout without an offset is read in `location` (EDT, -4h).
        (
            "2006-01-02 15:04:05.000",
            "2019-07-09 13:48:36.414",
            &ny,
            s * 1_000_000_000 + 414_000_000,
        ),
        ("ANSIC", "Tue Jul  9 17:48:36 2019", &utc, s * 1_000_000_000),
        (
            "RFC1123Z",
            "Tue, 09 Jul 2019 19:48:36 +0200",
            &utc,
            s * 1_000_000_000,
        ),
        (
            "02/Jan/2006:15:04:05 -0700",
            "09/Jul/2019:17:48:36 +0000",
            &utc,
            s * 1_000_000_000,
        ),
        ("Kitchen", "5:48PM", &utc, {
            // 2019-01-01T17:48:00Z: the year given, January 1st.
            1_546_364_880 * 1_000_000_000
        }),
        // Go reads a fraction after seconds the layout does not show.
        (
            "2006-01-02T15:04:05Z07:00",
            "2019-07-09T17:48:36.25Z",
            &utc,
            s * 1_000_000_000 + 250_000_000,
        ),
    ];
    for (layout, input, tz, want) in cases {
        assert_eq!(
            parse(&compile(layout), input, tz, 2019),
            Ok(*want),
            "{layout} {input}"
        );
    }
    assert!(parse(&compile("RFC3339"), "2019-07-09 17:48:36", &utc, 2019).is_err());
    // Stamp has no year: the current one is used.
    assert_eq!(
        parse(&compile("Stamp"), "Jul  9 17:48:36", &utc, 2019),
        Ok(s * 1_000_000_000)
    );
}

#[test]
fn timestamp_stage_uses_fallbacks_and_fudges_failures() {
    let (mut p, _) = pipeline(
        "- regex:\n    expression: '^(?P<t>\\S+)'\n- timestamp:\n    source: t\n    format: RFC3339\n    fallback_formats: [UnixMs]\n",
    );
    let (out, _) = run(
        &mut p,
        &["2019-07-09T17:48:36Z a", "1562694516414 b", "garbage c"],
        &[],
    );
    assert_eq!(out[0].ts_ns, 1_562_694_516_000_000_000);
    assert_eq!(out[1].ts_ns, 1_562_694_516_414_000_000);
    // Fudged: one nanosecond after the previous line.
    assert_eq!(out[2].ts_ns, 1_562_694_516_414_000_001);
}

#[test]
fn match_runs_stages_on_matching_streams_and_drops_with_action_drop() {
    let (mut p, _) = pipeline(
        r#"
- json:
    expressions:
      app:
- labels:
    app:
- match:
    selector: '{app="loki"}'
    stages:
    - json:
        expressions:
          msg: message
- match:
    selector: '{app="pokey"}'
    action: drop
    drop_counter_reason: pokey
- match:
    selector: '{app="other"} |= "secret"'
    action: drop
- output:
    source: msg
"#,
    );
    let (out, dropped) = run(
        &mut p,
        &[
            r#"{ "time":"2012-11-01T22:08:41+00:00", "app":"loki", "component": ["parser","type"], "level" : "WARN", "message" : "app1 log line" }"#,
            r#"{ "app":"pokey", "message" : "app2 log line" }"#,
            r#"{ "app":"other", "message" : "a secret line" }"#,
            r#"{ "app":"other", "message" : "public line" }"#,
        ],
        &[],
    );
    assert_eq!(
        dropped,
        vec!["pokey".to_string(), "match_stage".to_string()]
    );
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].line, "app1 log line");
    assert_eq!(out[0].labels, labels(&[("app", "loki")]));
    // No msg extracted: the line stays as read.
    assert_eq!(
        out[1].line,
        r#"{ "app":"other", "message" : "public line" }"#
    );
}

#[test]
fn drop_stage_options_all_must_hold() {
    let (mut p, _) = pipeline(
        r#"
- regex:
    expression: 'level=(?P<level>\w+)'
- drop:
    source: level
    value: debug
- drop:
    expression: ".*healthcheck.*"
    drop_counter_reason: health
- drop:
    longer_than: 30
"#,
    );
    let (out, dropped) = run(
        &mut p,
        &[
            "level=debug a",
            "level=info GET /healthcheck",
            "level=info this line is longer than thirty bytes",
            "level=info kept",
            "no level here",
        ],
        &[],
    );
    let lines: Vec<&str> = out.iter().map(|e| e.line.as_str()).collect();
    assert_eq!(lines, vec!["level=info kept", "no level here"]);
    assert_eq!(dropped, vec!["drop_stage", "health", "drop_stage"]);
    // older_than: a line stamped 2019 is older than 24h.
    let (mut p, _) = pipeline("- docker: {}\n- drop:\n    older_than: 24h\n");
    let (out, dropped) = run(&mut p, &[DOCKER_LINE], &[]);
    assert!(out.is_empty());
    assert_eq!(dropped.len(), 1);
}

#[test]
fn multiline_joins_blocks_and_flushes_the_last_one() {
    let (mut p, _) = pipeline(
        "- multiline:\n    firstline: '^\\[\\d{4}-\\d{2}-\\d{2}'\n    max_wait_time: 3s\n",
    );
    let (mut out, mut dropped) = (Vec::new(), Vec::new());
    let lines = [
        "[2020-12-03 11:36:20] info: first",
        "[2020-12-03 11:36:21] error: boom",
        "Traceback:",
        "  at x",
        "[2020-12-03 11:36:22] info: next",
    ];
    for (i, l) in lines.iter().enumerate() {
        let mut e = Entry::new((*l).into(), i as i64, BTreeMap::new());
        e.start = i as u64 * 100;
        e.end = e.start + 100;
        p.process(e, &mut out, &mut dropped);
    }
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].line, lines[0]);
    assert_eq!(
        out[1].line,
        "[2020-12-03 11:36:21] error: boom\nTraceback:\n  at x"
    );
    assert_eq!((out[1].start, out[1].end), (100, 400));
    assert_eq!(p.held_from(), Some(400));
    // Not yet waited long enough; then flushed.
    p.flush(Instant::now(), false, &mut out, &mut dropped);
    assert_eq!(out.len(), 2);
    p.flush(
        Instant::now() + Duration::from_secs(4),
        false,
        &mut out,
        &mut dropped,
    );
    assert_eq!(out.len(), 3);
    assert_eq!(out[2].line, lines[4]);
    assert_eq!(p.held_from(), None);
}

#[test]
fn template_stage_renders_with_value_and_extracted_data() {
    let (mut p, _) = pipeline(
        r#"
- regex:
    expression: '^(?P<app>\w+) (?P<level>\w+)'
- template:
    source: new_key
    template: 'hello world!'
- template:
    source: app
    template: '{{ ToUpper .Value }}-{{ .level }}'
- labels:
    app:
    new_key:
"#,
    );
    let (out, _) = run(&mut p, &["loki warn x"], &[]);
    assert_eq!(
        out[0].labels,
        labels(&[("app", "LOKI-warn"), ("new_key", "hello world!")])
    );
}

#[test]
fn label_stages_static_drop_allow_tenant_and_pack() {
    let (mut p, _) = pipeline(
        r#"
- static_labels:
    env: prod
    team: a
- labeldrop: [team]
- regex:
    expression: 'user=(?P<user>\w+)'
- tenant:
    source: user
- labelallow: [env, filename]
- pack:
    labels: [env]
    ingest_timestamp: false
"#,
    );
    let (out, _) = run(
        &mut p,
        &["user=alice hi"],
        &[("filename", "/f"), ("job", "j")],
    );
    assert_eq!(out[0].labels, labels(&[("filename", "/f")]));
    assert_eq!(out[0].tenant.as_deref(), Some("alice"));
    assert_eq!(out[0].line, r#"{"_entry":"user=alice hi","env":"prod"}"#);
    assert_eq!(out[0].ts_ns, 7);
}

#[test]
fn metrics_stage_counts_gauges_and_histograms() {
    let (mut p, m) = pipeline(
        r#"
- regex:
    expression: 'status=(?P<status>\d+) took=(?P<took>[\d.]+) queue=(?P<queue>\d+)'
- metrics:
    log_lines_total:
      type: Counter
      description: "total number of log lines"
      config:
        match_all: true
        action: inc
    log_bytes_total:
      type: Counter
      config:
        match_all: true
        count_entry_bytes: true
        action: add
    errors_total:
      type: Counter
      source: status
      config:
        value: "500"
        action: inc
    queue_elements:
      type: Gauge
      source: queue
      config:
        action: set
    response_seconds:
      type: Histogram
      source: took
      config:
        buckets: [0.1, 1]
"#,
    );
    run(
        &mut p,
        &[
            "status=200 took=0.05 queue=3",
            "status=500 took=0.5 queue=7",
            "status=200 took=2 queue=1",
        ],
        &[("job", "j")],
    );
    let l = &[("job", "j")];
    assert_eq!(m.custom_value("promtail_custom_log_lines", l), Some(3.0));
    let bytes = (28 + 27 + 25) as f64;
    assert_eq!(m.custom_value("promtail_custom_log_bytes", l), Some(bytes));
    assert_eq!(m.custom_value("promtail_custom_errors", l), Some(1.0));
    assert_eq!(
        m.custom_value("promtail_custom_queue_elements", l),
        Some(1.0)
    );
    assert_eq!(
        m.custom_value("promtail_custom_response_seconds", l),
        Some(3.0)
    );
    let mut r = sightline_core::telemetry::Report::default();
    sightline_core::telemetry::Telemetry::report(&*m, &mut r);
    let buckets = r
        .families()
        .iter()
        .find(|f| f.name == "promtail_custom_response_seconds_bucket")
        .unwrap();
    let counts: Vec<(String, f64)> = buckets
        .points
        .iter()
        .map(|p| (p.labels.last().unwrap().1.clone(), p.value))
        .collect();
    assert_eq!(
        counts,
        vec![("0.1".into(), 1.0), ("1".into(), 2.0), ("+Inf".into(), 3.0)]
    );
}

#[test]
fn unknown_and_unsupported_stages_are_refused_by_name() {
    let err =
        sightline_config::yaml::from_str::<Vec<StageConfig>>("- geoip:\n    db: x\n", "s.yml")
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("geoip") && err.contains("not support"),
        "{err}"
    );
    let err = sightline_config::yaml::from_str::<Vec<StageConfig>>("- jsonn: {}\n", "s.yml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("jsonn"), "{err}");
}

#[test]
fn decolorize_strips_ansi_sequences() {
    assert_eq!(
        flow::decolorize("\u{1b}[31merror\u{1b}[0m done"),
        "error done"
    );
}
