use super::*;
use crate::model::{Sli, Window};

const DAY: i64 = 86_400_000;

fn parse(text: &str) -> Result<Vec<Slo>> {
    parse_specs("s.yml", text, &LoadOptions::default())
}

fn errors(text: &str) -> Vec<String> {
    match parse(text) {
        Err(Error::Invalid(e)) => e,
        other => panic!("expected errors, got {other:?}"),
    }
}

pub(crate) const SLOTH: &str = r#"version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  tier: 2
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    labels:
      category: availability
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        runbook: "https://example.com/runbook"
      page_alert:
        labels:
          severity: pageteam
      ticket_alert:
        disable: true
  - name: "raw"
    objective: 99
    sli:
      raw:
        error_ratio_query: |
          sum(rate(errors_total[{{ .window }}]))
          /
          sum(rate(requests_total[{{ .window }}]))
"#;

#[test]
fn sloth_spec_reads_unchanged() {
    let slos = parse(SLOTH).unwrap();
    assert_eq!(slos.len(), 2);
    let s = &slos[0];
    assert_eq!(s.id, "myservice-requests-availability");
    assert_eq!(s.objective, 99.9);
    assert_eq!(s.window, Window::Rolling(30 * DAY));
    assert_eq!(s.labels["owner"], "myteam");
    assert_eq!(s.labels["tier"], "2");
    assert_eq!(s.labels["category"], "availability");
    assert_eq!(s.alerting.name, "MyServiceHighErrorRate");
    assert!(s.alerting.page.enabled);
    assert!(!s.alerting.ticket.enabled);
    assert_eq!(s.alerting.page.labels["severity"], "pageteam");
    assert_eq!(
        s.alerting.annotations["runbook"],
        "https://example.com/runbook"
    );
    assert_eq!(s.source, "s.yml:7:5");
    assert!(matches!(&s.sli, Sli::Events { error_query, .. } if error_query.contains("429")));
    assert!(matches!(&slos[1].sli, Sli::Raw { .. }));
    assert_eq!(slos[1].alerting.name, "MyserviceRawBudgetBurn");
}

#[test]
fn sloth_raw_ratio_in_either_spelling() {
    let text = "version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli:\n      raw:\n        errorRatioQuery: avg_over_time(r[{{.window}}])\n";
    let s = parse(text).unwrap();
    assert_eq!(
        s[0].sli,
        Sli::Raw {
            error_ratio_query: "avg_over_time(r[{{.window}}])".into()
        }
    );
}

#[test]
fn sloth_plugin_and_bad_fields_are_named_with_positions() {
    let e = errors(
        "version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99.9\n    sli:\n      plugin:\n        id: x\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("s.yml:8:9: slos[0].sli.plugin: SLI plugins are not supported"),
        "{e:?}"
    );

    let e = errors(
        "version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 100\n    sli:\n      events:\n        error_query: sum(rate(x[5m]))\n        total_query: sum(rate(x[{{.window}}])\n",
    );
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].starts_with("s.yml:5:16: slos[0].objective: objective 100 must be above 0"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with(
            "s.yml:8:22: slos[0].sli.events.error_query: query has no {{.window}} placeholder"
        ),
        "{e:?}"
    );
    assert!(
        e[2].starts_with("s.yml:9:22: slos[0].sli.events.total_query: invalid PromQL: "),
        "{e:?}"
    );

    let e = errors(
        "version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: high\n    sli: {raw: {error_ratio_query: 'x[{{.window}}]'}}\n",
    );
    assert_eq!(e, ["s.yml:5:16: objective: invalid floating point"]);
    let e = errors("version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objectiv: 9\n");
    assert!(e[0].starts_with("s.yml:5:"), "{e:?}");
    assert!(e[0].contains("objectiv"), "{e:?}");
}

#[test]
fn documents_keep_their_line_numbers() {
    let text = "version: sightline/v1\nservice: a\nslos: []\n---\n# second\nversion: sightline/v1\nservice: b\nslos:\n  - name: x\n    objective: 99\n    window: 2h\n    uptime: {}\n";
    let e = errors(text);
    assert_eq!(
        e,
        ["s.yml:11:13: slos[0].window: window \"2h\" is shorter than 1d"]
    );
    let e = errors("version: nope/v2\n");
    assert!(
        e[0].starts_with("s.yml:1:1: version: unknown spec format \"nope/v2\""),
        "{e:?}"
    );
}

pub(crate) const SHORT: &str = r#"version: sightline/v1
service: checkout
labels: {team: shop}
window: 28d
min_events: 50
slos:
  - name: availability
    objective: 99.9
    availability:
      metric: http_requests_total
      selector: 'job="checkout"'
      errors: 'code=~"5.."'
  - name: latency
    objective: 99
    window: month
    latency:
      metric: http_request_duration_seconds
      selector: '{job="checkout"}'
      threshold: 500ms
  - name: uptime
    objective: 99.95
    window: 7d
    min_events: 0
    uptime:
      selector: 'instance="https://shop.example"'
"#;

#[test]
fn short_forms_become_event_queries() {
    let slos = parse(SHORT).unwrap();
    let q = |i: usize| match &slos[i].sli {
        Sli::Events {
            error_query,
            total_query,
            errors_absent_means_zero,
        } => (
            error_query.clone(),
            total_query.clone(),
            *errors_absent_means_zero,
        ),
        Sli::Raw { .. } => panic!("raw"),
    };
    assert_eq!(
        q(0),
        (
            "sum(rate(http_requests_total{job=\"checkout\", code=~\"5..\"}[{{.window}}]))".into(),
            "sum(rate(http_requests_total{job=\"checkout\"}[{{.window}}]))".into(),
            true
        )
    );
    assert_eq!(slos[0].window, Window::Rolling(28 * DAY));
    assert_eq!(slos[0].min_events, Some(50));
    assert_eq!(slos[0].labels["team"], "shop");
    assert_eq!(slos[0].alerting.name, "CheckoutAvailabilityBudgetBurn");
    let (e, t, z) = q(1);
    assert_eq!(
        t,
        "sum(rate(http_request_duration_seconds_count{job=\"checkout\"}[{{.window}}]))"
    );
    assert_eq!(
        e,
        format!("{t} - sum(rate(http_request_duration_seconds_bucket{{job=\"checkout\", le=\"0.5\"}}[{{{{.window}}}}]))")
    );
    assert!(!z);
    assert_eq!(slos[1].window, Window::CalendarMonth);
    let (e, t, _) = q(2);
    assert_eq!(t, "sum(count_over_time(probe_success{instance=\"https://shop.example\"}[{{.window}}])) / {{.window_seconds}}");
    assert!(e.contains("sum(sum_over_time(probe_success{"), "{e}");
    assert_eq!(slos[2].min_events, Some(0));
    assert_eq!(slos[2].window, Window::Rolling(7 * DAY));
}

#[test]
fn short_form_errors() {
    let e = errors(
        "version: sightline/v1\nservice: c\nslos:\n  - name: l\n    objective: 99\n    latency: {metric: h, threshold: fast}\n  - name: two\n    objective: 99\n    uptime: {}\n    latency: {metric: h, threshold: 1}\n  - name: bad sel\n    objective: 99\n    availability: {metric: m, errors: 'code=~5..'}\n",
    );
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(
        e[0].starts_with(
            "s.yml:6:37: slos[0].latency.threshold: \"fast\" is not a number of seconds"
        ),
        "{e:?}"
    );
    assert!(
        e[1].starts_with(
            "s.yml:7:5: slos[1].availability: exactly one of availability, latency and uptime"
        ),
        "{e:?}"
    );
    assert!(
        e[2].starts_with("s.yml:11:11: slos[2].name: \"bad sel\" must be non-empty"),
        "{e:?}"
    );
    assert!(
        e[3].starts_with("s.yml:13:19: slos[2].availability: invalid PromQL: "),
        "{e:?}"
    );
}

pub(crate) const OPENSLO: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-availability
  displayName: Web availability
  labels:
    team: [web, platform]
spec:
  description: 99.5% of requests succeed
  service: web
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar:
        startTime: "2022-01-01 00:00:00"
        timeZone: UTC
  indicator:
    metadata:
      name: web-good
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total[{{.window}}]))
  objectives:
    - displayName: Strict
      target: 0.995
    - displayName: Loose
      targetPercent: 99
"#;

#[test]
fn openslo_ratio_metric_per_objective() {
    let slos = parse(OPENSLO).unwrap();
    assert_eq!(slos.len(), 2);
    assert_eq!(slos[0].id, "web-web-availability-strict");
    assert_eq!(slos[1].id, "web-web-availability-loose");
    assert!((slos[0].objective - 99.5).abs() < 1e-9);
    assert_eq!(slos[1].objective, 99.0);
    assert_eq!(slos[0].window, Window::CalendarMonth);
    assert_eq!(slos[0].labels["team"], "web,platform");
    assert_eq!(slos[0].description, "99.5% of requests succeed");
    match &slos[0].sli {
        Sli::Events {
            error_query,
            errors_absent_means_zero,
            ..
        } => {
            assert_eq!(
                error_query,
                "(sum(rate(http_requests_total[{{.window}}]))) - ((sum(rate(http_requests_total{code!~\"5..\"}[{{.window}}]))) or (0 * (sum(rate(http_requests_total[{{.window}}])))))"
            );
            assert!(!errors_absent_means_zero);
        }
        Sli::Raw { .. } => panic!("raw"),
    }
}

#[test]
fn openslo_errors() {
    let rolling_month = OPENSLO.replace("isRolling: false", "isRolling: true");
    let e = errors(&rolling_month);
    assert!(
        e[0].starts_with(
            "s.yml:13:17: spec.timeWindow[0].duration: a rolling \"1M\" has no fixed length"
        ),
        "{e:?}"
    );
    let e = errors(&OPENSLO.replace(
        "type: Prometheus\n            spec:\n              query: sum(rate(http_requests_total{",
        "type: Datadog\n            spec:\n              query: sum(rate(http_requests_total{",
    ));
    assert!(
        e[0].starts_with(
            "s.yml:26:19: spec.indicator.spec.ratioMetric.good.metricSource.type: only Prometheus"
        ),
        "{e:?}"
    );
    let e = errors("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: x}\n");
    assert!(e[0].contains("only kind SLO is read"), "{e:?}");
}

#[test]
fn duplicate_ids_are_refused() {
    let text = "version: sightline/v1\nservice: a\nslos:\n  - {name: x, objective: 99, uptime: {}}\n  - {name: x, objective: 98, uptime: {}}\n";
    let e = errors(text);
    assert_eq!(e, ["s.yml:5:5: slos: SLO id \"a-x\" is defined twice"]);
}

#[test]
fn globs_load_every_file_and_refuse_ids_defined_twice() {
    let dir = std::env::temp_dir().join(format!("sightline-slo-globs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("slos")).unwrap();
    std::fs::write(dir.join("slos/a.yml"), SHORT).unwrap();
    std::fs::write(dir.join("slos/b.yml"), SLOTH).unwrap();
    let slos = load_spec_globs(&["slos/*.yml".into()], &dir, &LoadOptions::default()).unwrap();
    assert_eq!(slos.len(), 5);
    assert!(
        slos[0].source.ends_with("slos/a.yml:7:5"),
        "{}",
        slos[0].source
    );
    std::fs::write(dir.join("slos/c.yml"), SHORT).unwrap();
    let e = load_spec_globs(&["slos/*.yml".into()], &dir, &LoadOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("SLO id \"checkout-availability\" is already defined at"),
        "{e}"
    );
    assert_eq!(e.kind(), sightline_core::ErrorKind::BadData);
    let e = load_specs(&dir.join("none.yml")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: ", dir.join("none.yml").display())),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
