use super::*;
use crate::spec::{parse_specs, LoadOptions};
use std::cell::RefCell;
use std::collections::HashMap;

/// Answers the queries it was told about; anything else is empty. It
/// remembers what it was asked, so tests can see which path was taken.
#[derive(Default)]
struct Fake {
    answers: HashMap<String, Vec<(Labels, f64)>>,
    asked: RefCell<Vec<String>>,
}

impl Fake {
    fn set(&mut self, expr: &str, v: f64) {
        self.answers
            .insert(expr.to_owned(), vec![(Labels::empty(), v)]);
    }
    fn set_labels(&mut self, expr: &str, labels: &[(&str, &str)], v: f64) {
        self.answers
            .entry(expr.to_owned())
            .or_default()
            .push((Labels::from_pairs(labels.iter().copied()), v));
    }
}

impl SloQuerier for Fake {
    fn instant(&self, expr: &str, _ts: i64) -> Result<Vec<(Labels, f64)>> {
        self.asked.borrow_mut().push(expr.to_owned());
        Ok(self.answers.get(expr).cloned().unwrap_or_default())
    }
}

const SPEC: &str = "version: sightline/v1\nservice: checkout\nslos:\n  - name: availability\n    objective: 99.9\n    availability: {metric: http_requests_total, selector: 'job=\"c\"', errors: 'code=~\"5..\"'}\n";
const SEL: &str =
    "{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\"}";
const NOW: i64 = 1_700_000_000_000;

fn slo() -> Vec<Slo> {
    parse_specs("s.yml", SPEC, &LoadOptions::default()).unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9 * b.abs().max(1.0))
}

#[test]
fn from_recorded_series_and_alerts() {
    let mut q = Fake::default();
    q.set(&format!("sloth_slo_info{SEL}"), 1.0);
    for (w, r) in [
        ("5m", 0.002),
        ("30m", 0.002),
        ("1h", 0.001),
        ("2h", 0.001),
        ("6h", 0.001),
        ("1d", 0.0008),
        ("3d", 0.0006),
        ("30d", 0.0005),
    ] {
        q.set(&format!("slo:sli_error:ratio_rate{w}{SEL}"), r);
        q.set(&format!("slo:sli_events:rate{w}{SEL}"), 10.0);
    }
    // Data at every minute of the 30 days: 43,200 minutes.
    q.set(
        &format!("count_over_time(timestamp(slo:sli_error:ratio_rate5m{SEL})[30d:1m])"),
        43_200.0,
    );
    q.set_labels(
        "ALERTS{alertname=\"CheckoutAvailabilityBudgetBurn\", sloth_id=\"checkout-availability\", sloth_severity=\"page\"}",
        &[("alertstate", "firing")],
        1.0,
    );
    q.set_labels(
        "ALERTS{alertname=\"CheckoutAvailabilityBudgetBurn\", sloth_id=\"checkout-availability\", sloth_severity=\"ticket\"}",
        &[("alertstate", "pending")],
        1.0,
    );
    let r = report(&slo(), &q, NOW).unwrap();
    let s = &r[0];
    assert_eq!(s.source, "rules");
    assert!(close(s.sli_now, 0.998));
    assert!(close(s.sli_window, 0.9995));
    // 0.1% of 30 days is 2592 s, 43.2 minutes.
    assert!(close(Some(s.budget_total_seconds), 2592.0));
    assert_eq!(s.data_seconds, Some(2_592_000.0));
    // 0.05% spent of 0.1%: half left, 1296 s.
    assert!(close(s.budget_remaining, 0.5));
    assert!(close(s.budget_remaining_seconds, 1296.0));
    // Burning 2 budgets per 30 days, half a budget lasts 7.5 days.
    assert!(close(s.exhaustion_seconds, 7.5 * 86400.0));
    let burns: Vec<(String, Option<f64>)> = s
        .burn_rates
        .iter()
        .map(|b| (b.window.clone(), b.burn_rate))
        .collect();
    assert_eq!(burns.len(), 8);
    assert_eq!(burns[0].0, "5m");
    assert!(close(burns[0].1, 2.0));
    assert_eq!(burns[7].0, "30d");
    assert!(close(burns[7].1, 0.5));
    assert_eq!(
        s.alerts,
        [
            AlertStatus {
                severity: Severity::Page,
                state: "firing".into()
            },
            AlertStatus {
                severity: Severity::Ticket,
                state: "pending".into()
            },
        ]
    );
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["alerts"][0]["severity"], "page");
    assert_eq!(json["window"], "30d");
    assert_eq!(json["objective"], 0.999);

    let table = render_table(&r);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with(
            "SLO                    OBJECTIVE  WINDOW  DATA  SLI 5M   SLI WINDOW  BUDGET LEFT"
        ),
        "{table}"
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        [
            "checkout-availability",
            "99.9%",
            "30d",
            "100%",
            "99.800%",
            "99.950%",
            "50.0%",
            "(21m36s)",
            "1.00x",
            "page,ticket",
            "7d12h"
        ],
        "{table}"
    );
}

#[test]
fn from_the_sli_queries_when_rules_are_not_loaded() {
    let mut q = Fake::default();
    // 2% errors over 5m and 1h with plenty of traffic: the page pair
    // (14.4 x 0.1% = 1.44%) fires; 0.05% elsewhere.
    for (w, errors, total) in [
        ("5m", 0.2, 10.0),
        ("30m", 0.005, 10.0),
        ("1h", 0.2, 10.0),
        ("2h", 0.005, 10.0),
        ("6h", 0.005, 10.0),
        ("1d", 0.005, 10.0),
        ("3d", 0.005, 10.0),
        ("30d", 0.005, 10.0),
    ] {
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\", code=~\"5..\"}}[{w}]))"),
            errors,
        );
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\"}}[{w}]))"),
            total,
        );
    }
    let s = &report(&slo(), &q, NOW).unwrap()[0];
    assert_eq!(s.source, "queries");
    assert!(close(s.sli_now, 0.98));
    assert!(close(s.budget_remaining, 0.5));
    assert_eq!(
        s.alerts[0],
        AlertStatus {
            severity: Severity::Page,
            state: "firing".into()
        }
    );
    assert_eq!(
        s.alerts[1],
        AlertStatus {
            severity: Severity::Ticket,
            state: "inactive".into()
        }
    );
    assert!(q.asked.borrow().iter().all(|e| !e.starts_with("ALERTS")));
}

#[test]
fn the_traffic_guard_holds_back_computed_alerts() {
    let mut q = Fake::default();
    // 1 error in 20 requests in the last hour: 5%, but 20 < 70 requests.
    for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\", code=~\"5..\"}}[{w}]))"),
            1.0 / 3600.0,
        );
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\"}}[{w}]))"),
            20.0 / 3600.0,
        );
    }
    let s = &report(&slo(), &q, NOW).unwrap()[0];
    assert_eq!(s.alerts[0].state, "inactive");
    // The ticket's 1d window holds 480 requests, over its 334.
    assert_eq!(s.alerts[1].state, "firing");
}

#[test]
fn missing_errors_are_zero_or_a_warning() {
    let mut q = Fake::default();
    for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\"}}[{w}]))"),
            5.0,
        );
    }
    let s = &report(&slo(), &q, NOW).unwrap()[0];
    assert_eq!(s.sli_now, Some(1.0));
    assert!(s.warnings.is_empty());
    assert_eq!(s.exhaustion_seconds, None, "nothing burns");

    let spec = "version: sightline/v1\nservice: api\nslos:\n  - name: latency\n    objective: 99\n    latency: {metric: h, threshold: 0.3}\n";
    let slos = parse_specs("s.yml", spec, &LoadOptions::default()).unwrap();
    let mut q = Fake::default();
    q.set("sum(rate(h_count{}[5m]))", 5.0);
    let s = &report(&slos, &q, NOW).unwrap()[0];
    assert_eq!(s.sli_now, None);
    assert_eq!(s.warnings.len(), 1);
    assert!(
        s.warnings[0].contains("le bucket boundaries"),
        "{:?}",
        s.warnings
    );
    assert!(
        render_table(&report(&slos, &q, NOW).unwrap()).contains("warning: api-latency: over 5m")
    );
}

#[test]
fn calendar_months_query_the_month_so_far() {
    let spec = "version: sightline/v1\nservice: s\nwindow: month\nslos:\n  - name: up\n    objective: 99.5\n    uptime: {}\n";
    let slos = parse_specs("s.yml", spec, &LoadOptions::default()).unwrap();
    // 2024-02-03T07:20:00Z: February 2024 began 2 days 7h20m earlier.
    let ts = 1_706_944_800_000;
    let q = Fake::default();
    let s = &report(&slos, &q, ts).unwrap()[0];
    assert!(
        q.asked.borrow().iter().any(|e| e.contains("[2d7h20m]")),
        "{:?}",
        q.asked.borrow()
    );
    // 0.5% of February 2024's 29 days.
    assert!(close(Some(s.budget_total_seconds), 0.005 * 29.0 * 86400.0));
    assert_eq!(s.window, "month");
    assert_eq!(
        s.warnings,
        ["no SLI data over the last 5m: the metrics are missing or the queries match nothing"]
    );
}

#[test]
fn month_bounds_are_utc_calendar_months() {
    // 2024-02-01T00:00:00Z is day 19754 (2024-01-01 is 19723, plus 31).
    assert_eq!(
        month_bounds(1_707_000_000_000),
        (1_706_745_600_000, 29 * DAY_MS)
    );
    assert_eq!(
        month_bounds(1_706_745_600_000),
        (1_706_745_600_000, 29 * DAY_MS)
    );
    assert_eq!(month_bounds(1_706_745_599_999).1, 31 * DAY_MS);
    assert_eq!(month_bounds(0), (0, 31 * DAY_MS));
    // 2023-12-31T23:00:00Z is in December, 31 days, from day 19692.
    assert_eq!(
        month_bounds(1_704_063_600_000),
        (19_692 * DAY_MS, 31 * DAY_MS)
    );
}

#[test]
fn objectives_print_without_binary_noise() {
    assert_eq!(objective_percent(0.9995), "99.95%");
    assert_eq!(objective_percent(0.99), "99%");
    assert_eq!(objective_percent(0.99999), "99.999%");
}

#[test]
fn human_durations() {
    assert_eq!(human_duration(648_000.0), "7d12h");
    assert_eq!(human_duration(1296.0), "21m36s");
    assert_eq!(human_duration(86_400.0 + 5.0), "1d");
    assert_eq!(human_duration(0.2), "0s");
}

#[test]
fn query_errors_pass_through() {
    struct Broken;
    impl SloQuerier for Broken {
        fn instant(&self, expr: &str, _ts: i64) -> Result<Vec<(Labels, f64)>> {
            Err(crate::Error::Query {
                expr: expr.into(),
                message: "boom".into(),
            })
        }
    }
    let e = report(&slo(), &Broken, NOW).unwrap_err();
    assert!(e.to_string().ends_with("failed: boom"), "{e}");
    assert_eq!(e.kind(), sightline_core::ErrorKind::Execution);
}

/// Issue 12: `slo report` a quarter of an hour after start. 15 minutes of
/// data at 10 requests a second (9000 requests), 100 s of them a full
/// outage (1000 failed requests). Every window from 30m up holds the same
/// 15 minutes: error ratio 1000 / 9000 = 0.1111. Against the whole 30d
/// window that is 100 s of bad time of a 2592 s (43.2 min) budget:
/// 100 / 2592 = 3.858% spent, 2492 s (41m32s) left. Taking the 15 minutes
/// for 30 days said 1 - 0.1111 / 0.001 = -11,011% left and "exhausted in
/// 0s". The data covers 900 s of 2,592,000 s: 0.035%.
fn fifteen_minutes_after_start(outage_now: bool) -> Fake {
    let mut q = Fake::default();
    for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
        let secs = sightline_core::duration::parse_prometheus(w).unwrap() as f64 / 1000.0;
        let (errors, total) = match (w, outage_now) {
            // The last 5 minutes: clean, or the outage's 100 s in them.
            ("5m", false) => (0.0, 3000.0),
            ("5m", true) => (1000.0, 3000.0),
            _ => (1000.0, 9000.0),
        };
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\", code=~\"5..\"}}[{w}]))"),
            errors / secs,
        );
        q.set(
            &format!("sum(rate(http_requests_total{{job=\"c\"}}[{w}]))"),
            total / secs,
        );
    }
    q.set(
        "count_over_time(timestamp(sum(rate(http_requests_total{job=\"c\"}[5m])))[30d:1m])",
        15.0,
    );
    q
}

#[test]
fn issue_12_budget_right_after_start_is_spent_against_the_whole_window() {
    let q = fifteen_minutes_after_start(false);
    let s = &report(&slo(), &q, NOW).unwrap()[0];
    assert_eq!(s.data_seconds, Some(900.0));
    assert!(close(s.data_coverage, 900.0 / 2_592_000.0));
    assert!(close(s.budget_spent, 100.0 / 2592.0), "{s:?}");
    assert!(close(s.budget_remaining, 2492.0 / 2592.0), "{s:?}");
    assert!(close(s.budget_remaining_seconds, 2492.0), "{s:?}");
    // Nothing fails in the last 5 minutes: nothing burns, no end in sight.
    assert_eq!(s.exhaustion_seconds, None);
    // 5m is covered; 30m and longer are over the 15 minutes that exist.
    let partial: Vec<(&str, bool)> = s
        .burn_rates
        .iter()
        .map(|b| (b.window.as_str(), b.partial))
        .collect();
    assert_eq!(partial[0], ("5m", false));
    assert!(partial[1..].iter().all(|(_, p)| *p), "{partial:?}");
    // The 1h burn: 0.1111 / 0.001 = 111.11, over 15 minutes of data.
    let table = render_table(&report(&slo(), &q, NOW).unwrap());
    let cells: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap()
        .split("  ")
        .filter(|c| !c.trim().is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        cells,
        [
            "checkout-availability",
            "99.9%",
            "30d",
            "0.03% of 30d",
            "100.000%",
            "88.889%",
            "96.1% (41m32s)",
            "111.11x (15m data)",
            // The 6h/30m and 1d/2h pairs both see 11% errors over
            // 9000 requests, above their guards: page and ticket.
            "page,ticket",
            "-"
        ],
        "{table}"
    );
}

/// The same, with the outage in the last 5 minutes: 100 s bad of 300 s is
/// a burn rate of 333.3, so the 2492 s of budget left last
/// 2492 x 300 / 100 = 7476 s (2h4m) at this pace.
#[test]
fn issue_12_exhaustion_counts_from_the_budget_actually_left() {
    let q = fifteen_minutes_after_start(true);
    let s = &report(&slo(), &q, NOW).unwrap()[0];
    assert!(close(s.exhaustion_seconds, 7476.0), "{s:?}");
    assert_eq!(human_duration(s.exhaustion_seconds.unwrap()), "2h4m");
}

/// A report whose querier cannot tell how much data exists (it answers
/// nothing to the coverage query) takes the window as covered, which is
/// what the recordings alone say.
#[test]
fn unknown_coverage_reads_the_window_as_covered() {
    let mut q = fifteen_minutes_after_start(false);
    q.answers.retain(|k, _| !k.starts_with("count_over_time"));
    let s = &report(&slo(), &q, NOW).unwrap()[0];
    assert_eq!(s.data_seconds, None);
    assert!(
        close(s.budget_remaining, 1.0 - 0.1111111111111111 / 0.001),
        "{s:?}"
    );
}
