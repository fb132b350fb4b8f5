//! Tests of LogQL rule groups (Loki's ruler, issue 15): alerts on log
//! lines go pending then firing on Prometheus's schedule, recordings land
//! in the metric store, log queries are refused at load, and the manager
//! keeps PromQL and LogQL groups apart. Expected values are counted by
//! hand from the lines each test writes.

use crate::file::{parse_rule_file, parse_rule_file_as, QueryLang};
use crate::ruler::ruler_namespaces;
use crate::{AlertState, Health, ManagerOptions, RuleBody, RuleContext, RuleGroup, RuleManager};
use sightline_core::logs::{LogAppender, LogEntry, LogQuerier, LogStream, MemLogStore};
use sightline_core::{Labels, Matcher, MemStore, MetricAppender, MetricQuerier, Sample};
use sightline_promql::Engine;
use std::sync::Arc;

const M: i64 = 60_000;
/// A realistic epoch (2023-11-14), in ms.
const T0: i64 = 1_700_000_000_000;

fn ctx(metrics: &MemStore, logs: Option<Arc<MemLogStore>>) -> RuleContext {
    RuleContext {
        querier: Arc::new(metrics.clone()) as Arc<dyn MetricQuerier>,
        appender: Arc::new(metrics.clone()) as Arc<dyn MetricAppender>,
        engine: Engine::default(),
        external_labels: Labels::empty(),
        external_url: "http://sightline:9090".into(),
        logs: logs.map(|l| l as Arc<dyn LogQuerier>),
    }
}

fn log_group(yaml: &str) -> RuleGroup {
    let f = parse_rule_file_as("logs.yml", yaml, QueryLang::LogQL).unwrap();
    RuleGroup::new(&f.groups[0], M, 0).with_lang(QueryLang::LogQL)
}

/// Writes `n` copies of `line` to stream `{job=job}`, 30 s before minute
/// `minute` (after T0), a nanosecond apart so none is a duplicate.
fn push(store: &MemLogStore, job: &str, minute: i64, n: usize, line: &str) {
    let base_ns = (T0 + minute * M - 30_000) * 1_000_000;
    let entries = (0..n)
        .map(|i| LogEntry {
            ts_ns: base_ns + i as i64,
            line: line.to_owned(),
            metadata: Vec::new(),
        })
        .collect();
    store
        .append(
            sightline_core::logs::DEFAULT_TENANT,
            vec![LogStream {
                labels: Labels::from_pairs([("job", job)]),
                entries,
            }],
        )
        .unwrap();
}

fn samples(store: &MemStore, name: &str) -> Vec<(Labels, Vec<Sample>)> {
    store
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[Matcher::equal("__name__", name)],
        )
        .unwrap()
        .into_vec()
        .unwrap()
        .into_iter()
        .map(|s| (s.labels, s.samples.collect()))
        .collect()
}

const ALERT: &str = r#"groups:
- name: errors
  rules:
  - alert: ErrorBurst
    expr: count_over_time({job="x"} |= "error" [1m]) > 5
    for: 2m
    labels: {severity: page}
    annotations: {summary: '{{ $value }} errors in {{ $labels.job }}'}
"#;

#[test]
fn log_alert_goes_pending_then_firing_then_resolves() {
    let logs = Arc::new(MemLogStore::new());
    // Errors per minute window: 3, 6, 7, 8, 0 (plus lines without "error"
    // and another job's errors, which the rule must not count).
    for (minute, errors) in [(1, 3), (2, 6), (3, 7), (4, 8), (5, 0)] {
        push(&logs, "x", minute, errors, "level=error msg=\"db down\"");
        push(&logs, "x", minute, 10, "level=info msg=ok");
        push(&logs, "y", minute, 9, "level=error msg=other");
    }
    let metrics = MemStore::new();
    let c = ctx(&metrics, Some(logs));
    let mut g = log_group(ALERT);
    g.set_restored();
    let state = |g: &RuleGroup| match &g.rules[0].body {
        RuleBody::Alerting(a) => a.state(),
        RuleBody::Recording(_) => unreachable!(),
    };
    // Minute 1: 3 errors, not above 5.
    assert!(g.eval(&c, T0 + M, M).is_empty());
    assert_eq!(g.rules[0].health, Health::Ok, "{:?}", g.rules[0].last_error);
    assert_eq!(state(&g), AlertState::Inactive);
    // Minute 2: 6 errors: pending from here (`for: 2m`), nothing sent.
    assert!(g.eval(&c, T0 + 2 * M, M).is_empty());
    assert_eq!(state(&g), AlertState::Pending);
    // Minute 3: pending for 1m < 2m.
    assert!(g.eval(&c, T0 + 3 * M, M).is_empty());
    assert_eq!(state(&g), AlertState::Pending);
    // Minute 4: active for 2m: firing, and sent with 8 as its value.
    let sent = g.eval(&c, T0 + 4 * M, M);
    assert_eq!(state(&g), AlertState::Firing);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].labels,
        Labels::from_pairs([
            ("alertname", "ErrorBurst"),
            ("job", "x"),
            ("severity", "page")
        ])
    );
    assert_eq!(sent[0].annotations["summary"], "8 errors in x");
    // Sent alerts start when they began firing, as Prometheus sends them.
    assert_eq!(sent[0].starts_at, T0 + 4 * M);
    // Minute 5: no errors: resolved, sent once more with its end.
    let sent = g.eval(&c, T0 + 5 * M, M);
    assert_eq!(state(&g), AlertState::Inactive);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].ends_at, T0 + 5 * M);

    // ALERTS in the metric store: pending at minutes 2 and 3, firing at 4,
    // then a stale marker for the firing series at 5.
    let alerts = samples(&metrics, "ALERTS");
    let by_state = |st: &str| {
        alerts
            .iter()
            .find(|(l, _)| l.get("alertstate") == Some(st))
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    let pending = by_state("pending");
    assert_eq!(
        pending[..2],
        [Sample::new(T0 + 2 * M, 1.0), Sample::new(T0 + 3 * M, 1.0)]
    );
    let firing = by_state("firing");
    assert_eq!(firing[0], Sample::new(T0 + 4 * M, 1.0));
    assert!(sightline_core::is_stale_nan(firing[1].v));
}

#[test]
fn log_recording_rule_writes_samples_into_the_metric_store() {
    let logs = Arc::new(MemLogStore::new());
    // Minute 1: x has 3 error + 2 info lines, y has 4 lines.
    push(&logs, "x", 1, 3, "level=error");
    push(&logs, "x", 1, 2, "level=info");
    push(&logs, "y", 1, 4, "level=info");
    // Minute 2: x has 6 error lines, y none.
    push(&logs, "x", 2, 6, "level=error");
    let metrics = MemStore::new();
    let c = ctx(&metrics, Some(logs));
    let mut g = log_group(
        r#"groups:
- name: rec
  interval: 1m
  rules:
  - record: job:log_lines:count1m
    expr: sum by (job) (count_over_time({job=~"x|y"}[1m]))
    labels: {source: logs}
  - record: job:log_errors:rate1m
    expr: sum by (job) (rate({job="x"} |= "error" [1m]))
"#,
    );
    g.eval(&c, T0 + M, M);
    g.eval(&c, T0 + 2 * M, M);
    assert!(g.rules.iter().all(|r| r.health == Health::Ok));
    let lines = samples(&metrics, "job:log_lines:count1m");
    let x = Labels::from_pairs([
        ("__name__", "job:log_lines:count1m"),
        ("job", "x"),
        ("source", "logs"),
    ]);
    let y = Labels::from_pairs([
        ("__name__", "job:log_lines:count1m"),
        ("job", "y"),
        ("source", "logs"),
    ]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].0, x);
    assert_eq!(
        lines[0].1,
        [Sample::new(T0 + M, 5.0), Sample::new(T0 + 2 * M, 6.0)]
    );
    // y had no lines in minute 2: its recording goes stale, as a
    // Prometheus recording of a vanished series does.
    assert_eq!(lines[1].0, y);
    assert_eq!(lines[1].1[0], Sample::new(T0 + M, 4.0));
    assert!(sightline_core::is_stale_nan(lines[1].1[1].v));
    // rate = errors / 60 s: 3/60 = 0.05, then 6/60 = 0.1.
    let rate = samples(&metrics, "job:log_errors:rate1m");
    assert_eq!(
        rate[0].1,
        [Sample::new(T0 + M, 0.05), Sample::new(T0 + 2 * M, 0.1)]
    );
}

#[test]
fn log_queries_and_bad_logql_are_refused_with_file_group_rule_and_position() {
    let errs = parse_rule_file_as(
        "logs.yml",
        "groups:\n- name: g\n  rules:\n  - alert: Lines\n    expr: '{job=\"x\"} |= \"error\"'\n  - record: r\n    expr: rate({job=\"x\"}[1m]) >\n",
        QueryLang::LogQL,
    )
    .unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].starts_with("logs.yml: 5:11: group \"g\", rule 1, \"Lines\": could not parse expression: only sample expression supported"),
        "{errs:?}"
    );
    // `rate({job="x"}[1m]) >` ends after the operator at column 22.
    assert!(
        errs[1].starts_with("logs.yml: 7:11: group \"g\", rule 2, \"r\": could not parse expression: parse error at line 1, col 22"),
        "{errs:?}"
    );
    // What the parser leaves to evaluation (a `line_format` template) is
    // checked at load.
    let errs = parse_rule_file_as(
        "logs.yml",
        "groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(count_over_time({job=\"x\"} | line_format \"{{ .a \" [1m]))\n",
        QueryLang::LogQL,
    )
    .unwrap_err();
    // The selector starts at column 21 of the expression.
    assert!(
        errs[0].starts_with("logs.yml: 5:11: group \"g\", rule 1, \"r\": could not parse expression: in the log query at col 21: "),
        "{errs:?}"
    );
    // The same file read as Prometheus's refuses the LogQL as PromQL.
    let ok = "groups:\n- name: g\n  rules:\n  - record: r\n    expr: count_over_time({job=\"x\"} |= \"e\" [1m])\n";
    assert!(parse_rule_file_as("l.yml", ok, QueryLang::LogQL).is_ok());
    assert!(parse_rule_file("p.yml", ok).is_err());
}

#[test]
fn log_rule_without_a_log_store_fails_its_evaluation() {
    let metrics = MemStore::new();
    let mut g = log_group(ALERT);
    g.eval(&ctx(&metrics, None), T0, M);
    assert_eq!(g.rules[0].health, Health::Err);
    assert_eq!(
        g.rules[0].last_error.as_deref(),
        Some("no log store to evaluate a LogQL rule against")
    );
}

#[test]
fn manager_keeps_promql_and_logql_groups_apart() {
    let metrics = MemStore::new();
    let m = RuleManager::new(ManagerOptions::new(ctx(
        &metrics,
        Some(Arc::new(MemLogStore::new())),
    )));
    let prom = parse_rule_file(
        "/etc/p/rules.yml",
        "groups:\n- name: p\n  rules:\n  - record: r\n    expr: vector(1)\n",
    )
    .unwrap();
    let logs = parse_rule_file_as("/etc/l/errors.yml", ALERT, QueryLang::LogQL).unwrap();
    m.set_files(std::slice::from_ref(&prom));
    m.set_log_files(std::slice::from_ref(&logs));
    // Reloading one kind keeps the other.
    m.set_files(std::slice::from_ref(&prom));
    let names = |d: crate::RulesData| d.groups.into_iter().map(|g| g.name).collect::<Vec<_>>();
    assert_eq!(names(m.rules_snapshot()), ["p", "errors"]);
    assert_eq!(
        names(m.rules_snapshot_of(Some(QueryLang::LogQL))),
        ["errors"]
    );
    assert_eq!(names(m.rules_snapshot_of(Some(QueryLang::PromQL))), ["p"]);
    m.set_log_files(&[]);
    assert_eq!(names(m.rules_snapshot()), ["p"]);
    m.set_log_files(std::slice::from_ref(&logs));
    let ns = ruler_namespaces(&m, QueryLang::LogQL);
    assert_eq!(ns.keys().collect::<Vec<_>>(), ["errors.yml"]);
    let g = &ns["errors.yml"][0];
    assert_eq!(g.name, "errors");
    assert_eq!(g.interval, "1m");
    assert_eq!(g.rules[0].alert.as_deref(), Some("ErrorBurst"));
    assert_eq!(g.rules[0].for_.as_deref(), Some("2m"));
    assert_eq!(
        g.rules[0].expr,
        r#"count_over_time({job="x"} |= "error" [1m]) > 5"#
    );
}
