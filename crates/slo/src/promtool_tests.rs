//! The generated rules proven on scenarios: each test writes the rules of
//! a spec and a `promtool test rules` file into a temporary directory and
//! runs it through Debian's promtool (the peer) and through our
//! [`sightline_rules::run_test_files`]. Both must agree with the expected
//! alerts, which come from working the burn-rate arithmetic by hand (see
//! the comment on each scenario), not from either tool's output.
//!
//! Without promtool the peer half is skipped with a message, except under
//! `CI=true`, where a missing peer fails the test.

use crate::{generate_rule_file, parse_specs, LoadOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static DIRS: AtomicU32 = AtomicU32::new(0);

fn temp_dir(name: &str) -> PathBuf {
    let n = DIRS.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("sightline-slo-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `rules.yml` from the spec and `test.yml`, returns the test path.
fn write_case(name: &str, spec: &str, test: &str) -> PathBuf {
    let dir = temp_dir(name);
    let slos = parse_specs("spec.yml", spec, &LoadOptions::default()).unwrap();
    std::fs::write(dir.join("rules.yml"), generate_rule_file(&slos)).unwrap();
    let t = dir.join("test.yml");
    std::fs::write(
        &t,
        format!("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n{test}"),
    )
    .unwrap();
    t
}

/// Runs promtool on the files: `Some((passed, output))`, or `None` when
/// promtool is missing outside CI.
#[track_caller]
pub(crate) fn promtool(args: &[&str], files: &[&Path]) -> Option<(bool, String)> {
    let bin = sightline_testkit::peer("promtool", "apt-get install prometheus")?;
    match Command::new(bin).args(args).args(files).output() {
        Ok(o) => Some((
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )),
        Err(e) => panic!("promtool could not be started: {e}"),
    }
}

fn ours(file: &Path) -> (bool, String) {
    let r = sightline_rules::run_test_files(&[file.to_path_buf()]);
    (r.exit_code() == 0, format!("{}{}", r.stdout(), r.stderr()))
}

fn assert_both_pass(name: &str, spec: &str, test: &str) {
    let f = write_case(name, spec, test);
    if let Some((ok, out)) = promtool(&["test", "rules"], &[&f]) {
        assert!(ok, "promtool failed on {}:\n{out}", f.display());
    }
    let (ok, out) = ours(&f);
    assert!(ok, "sightline failed on {}:\n{out}", f.display());
}

/// 99.9% over 30 days on `http_requests_total{job="checkout"}`; tickets
/// can be turned off for scenarios about paging alone.
fn checkout_spec(ticket: bool) -> String {
    format!(
        "version: sightline/v1\nservice: checkout\nlabels: {{team: shop}}\nslos:\n  - name: availability\n    objective: 99.9\n    availability: {{metric: http_requests_total, selector: 'job=\"checkout\"', errors: 'code=~\"5..\"'}}\n    alerting:\n      ticket_alert: {{disable: {}}}\n",
        !ticket
    )
}

const ALERT: &str = "CheckoutAvailabilityBudgetBurn";

fn series(code: u16, values: &str) -> String {
    format!(
        "      - series: 'http_requests_total{{job=\"checkout\", code=\"{code}\"}}'\n        values: '{values}'\n"
    )
}

/// An `alert_rule_test` entry expecting exactly the burn alerts of
/// `severities`.
fn expect(eval: &str, severities: &[&str]) -> String {
    let mut s =
        format!("      - eval_time: {eval}\n        alertname: {ALERT}\n        exp_alerts:");
    if severities.is_empty() {
        s.push_str(" []\n");
        return s;
    }
    s.push('\n');
    for sev in severities {
        s.push_str(&format!(
            "          - exp_labels: {{sloth_id: checkout-availability, sloth_service: checkout, sloth_slo: availability, sloth_severity: {sev}, team: shop}}\n            exp_annotations:\n              title: \"({sev}) checkout availability: error budget burning too fast\"\n              summary: \"The availability SLO of checkout is spending its error budget faster than it can last the SLO window.\"\n"
        ));
    }
    s
}

fn group(inputs: &[String], alerts: &[String], exprs: &str) -> String {
    format!(
        "  - interval: 1m\n    input_series:\n{}    alert_rule_test:\n{}{exprs}",
        inputs.concat(),
        alerts.concat()
    )
}

/// Full outage after an hour of 100 requests a minute. At 62m the 5m
/// window holds 200 errors against 300 successes (40%) and the 1h window
/// 200 errors in about 6,000 requests (3.3%): both over 14.4 x 0.1% =
/// 1.44%, with far more than the 70 requests the guard wants. The 2h and
/// 1d windows are over 3 x 0.1% as well, so the ticket opens too.
#[test]
fn full_outage_pages_within_minutes() {
    let t = group(
        &[
            series(200, "0+100x60 6000x30"),
            series(500, "0x60 100+100x29"),
        ],
        &[
            expect("60m", &[]),
            expect("63m", &["page", "ticket"]),
            expect("90m", &["page", "ticket"]),
        ],
        "",
    );
    assert_both_pass("outage", &checkout_spec(true), &t);
}

/// 1% errors: a burn rate of 10. Under the 14.4 of the 1h/5m pair, over
/// the 6 of the 6h/30m pair, so it pages (through the slow page pair),
/// and over the ticket's 3 and 1.
#[test]
fn one_percent_errors_page() {
    let t = group(
        &[series(200, "0+99x120"), series(500, "0+1x120")],
        &[expect("30m", &["page", "ticket"]), expect("120m", &["page", "ticket"])],
        // Budget arithmetic on the same data: 99.9% over 30d is 43.2
        // minutes; a 1% error ratio burns 10 budgets per window, which
        // leaves 1 - 10 = -9 of it. As in Sloth, the burn and remaining
        // series keep the `sloth_window` of the ratio they divide.
        "    promql_expr_test:\n      - expr: round(slo:error_budget:seconds / 60, 0.001)\n        eval_time: 10m\n        exp_samples:\n          - labels: '{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", team=\"shop\"}'\n            value: 43.2\n      - expr: round(slo:current_burn_rate:ratio, 0.001)\n        eval_time: 60m\n        exp_samples:\n          - labels: '{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", sloth_window=\"5m\", team=\"shop\"}'\n            value: 10\n      - expr: round(slo:period_error_budget_remaining:ratio, 0.001)\n        eval_time: 60m\n        exp_samples:\n          - labels: '{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", sloth_window=\"30d\", team=\"shop\"}'\n            value: -9\n",
    );
    assert_both_pass("one-percent", &checkout_spec(true), &t);
}

/// 0.2% errors: a burn rate of 2. Only the 6h/3d ticket pair (factor 1)
/// is exceeded; pages need 14.4 or 6, the fast ticket 3.
#[test]
fn slow_leak_opens_only_a_ticket() {
    let t = group(
        &[series(200, "0+998x120"), series(500, "0+2x120")],
        &[expect("30m", &["ticket"]), expect("120m", &["ticket"])],
        "",
    );
    assert_both_pass("slow-leak", &checkout_spec(true), &t);
}

/// Half the budget: 1 error in 2,000 requests is a burn rate of 0.5; the
/// period's budget left is 1 - 0.5 = 0.5 and nothing alerts.
#[test]
fn budget_remaining_is_arithmetic() {
    let t = group(
        &[series(200, "0+1999x60"), series(500, "0+1x60")],
        &[expect("60m", &[])],
        "    promql_expr_test:\n      - expr: round(slo:period_error_budget_remaining:ratio, 0.0001)\n        eval_time: 60m\n        exp_samples:\n          - labels: '{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", sloth_window=\"30d\", team=\"shop\"}'\n            value: 0.5\n      - expr: slo:error_budget:ratio\n        eval_time: 60m\n        exp_samples:\n          - labels: 'slo:error_budget:ratio{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", team=\"shop\"}'\n            value: 0.0010000000000000009\n",
    );
    assert_both_pass("budget", &checkout_spec(true), &t);
}

/// One request a minute and one failure at 181m. At 190m the 1h window
/// has 1 error in 60 requests (1.7%, over 1.44%) but the guard wants 70
/// requests; the 6h window has 1 in about 190 (0.53%, under 6 x 0.1%).
/// No page. A full outage at the same traffic does page: at 190m the 30m
/// window is a third errors and the 6h window 10 in 190 (5%), with the
/// 167 requests its guard wants.
#[test]
fn quiet_service_does_not_page_on_one_error() {
    let blip = group(
        &[series(200, "0+1x240"), series(500, "0x180 1x60")],
        &[
            expect("182m", &[]),
            expect("190m", &[]),
            expect("240m", &[]),
        ],
        "",
    );
    let outage = group(
        &[series(200, "0+1x180 180x60"), series(500, "0x180 1+1x59")],
        &[expect("180m", &[]), expect("190m", &["page"])],
        "",
    );
    assert_both_pass("quiet", &checkout_spec(false), &format!("{blip}{outage}"));
}

/// The counters stop at 30m: rate() over 5m runs dry at 35m, the 5m
/// ratio is gone and `SLOMetricsAbsent` fires after its 10 minutes.
#[test]
fn missing_metrics_alert() {
    let labels = "{sloth_id: checkout-availability, sloth_service: checkout, sloth_slo: availability, sloth_severity: ticket, team: shop}";
    let absent = |eval: &str, firing: bool| {
        let mut s = format!(
            "      - eval_time: {eval}\n        alertname: SLOMetricsAbsent\n        exp_alerts:"
        );
        if firing {
            s.push_str(&format!("\n          - exp_labels: {labels}\n            exp_annotations:\n              summary: \"The availability SLO of checkout has had no SLI data for 10m: its metrics are missing or its queries match nothing.\"\n"));
        } else {
            s.push_str(" []\n");
        }
        s
    };
    let t = group(
        &[series(200, "0+100x30"), series(500, "0x30")],
        &[
            absent("30m", false),
            absent("40m", false),
            absent("50m", true),
            expect("50m", &[]),
        ],
        "",
    );
    assert_both_pass("absent", &checkout_spec(true), &t);
}

/// 2% of requests slower than 0.5s against "99% faster than 0.5s": a burn
/// rate of 2, so a ticket (factor 1) and no page (6 and 14.4).
#[test]
fn latency_slo_from_histogram_buckets() {
    let spec = "version: sightline/v1\nservice: api\nslos:\n  - name: latency\n    objective: 99\n    latency: {metric: http_request_duration_seconds, selector: 'job=\"api\"', threshold: 500ms}\n    alerting: {name: ApiSlow}\n";
    let h = |le: &str, v: &str| {
        format!("      - series: 'http_request_duration_seconds_bucket{{job=\"api\", le=\"{le}\"}}'\n        values: '{v}'\n")
    };
    let count = "      - series: 'http_request_duration_seconds_count{job=\"api\"}'\n        values: '0+100x120'\n".to_owned();
    let exp = |eval: &str| {
        format!("      - eval_time: {eval}\n        alertname: ApiSlow\n        exp_alerts:\n          - exp_labels: {{sloth_id: api-latency, sloth_service: api, sloth_slo: latency, sloth_severity: ticket}}\n            exp_annotations:\n              title: \"(ticket) api latency: error budget burning too fast\"\n              summary: \"The latency SLO of api is spending its error budget faster than it can last the SLO window.\"\n")
    };
    let t = group(
        &[
            h("0.1", "0+50x120"),
            h("0.5", "0+98x120"),
            h("+Inf", "0+100x120"),
            count,
        ],
        &[exp("30m"), exp("120m")],
        "",
    );
    assert_both_pass("latency", spec, &t);
}

/// A blackbox probe every minute against 99.95%, down from 61m. At 64m
/// the 5m window holds 4 failed probes and the 1h window 4 of 61 (6.6%),
/// both over 14.4 x 0.05% = 0.72%. Uptime SLOs have no traffic guard by
/// default: probes are few by design (61 an hour, under the 139 the guard
/// would want). Their failure guard wants 3 failed probes in the short
/// window; promtool may evaluate the alert group before the recordings of
/// the same minute, so the alert can see 63m's 3 failures at 64m at the
/// latest.
#[test]
fn uptime_from_probes_pages_when_down() {
    let spec = "version: sightline/v1\nservice: shop\nslos:\n  - name: uptime\n    objective: 99.95\n    uptime: {selector: 'instance=\"https://shop.example\"'}\n    alerting: {name: ShopDown, ticket_alert: {disable: true}}\n";
    let t = group(
        &["      - series: 'probe_success{instance=\"https://shop.example\"}'\n        values: '1x60 0x30'\n".to_owned()],
        &[
            "      - eval_time: 60m\n        alertname: ShopDown\n        exp_alerts: []\n".to_owned(),
            "      - eval_time: 64m\n        alertname: ShopDown\n        exp_alerts:\n          - exp_labels: {sloth_id: shop-uptime, sloth_service: shop, sloth_slo: uptime, sloth_severity: page}\n            exp_annotations:\n              title: \"(page) shop uptime: error budget burning too fast\"\n              summary: \"The uptime SLO of shop is spending its error budget faster than it can last the SLO window.\"\n".to_owned(),
        ],
        "",
    );
    assert_both_pass("uptime", spec, &t);
}

/// Issue 12: an uptime SLO right after start, probed every 15 s from 0,
/// against 99.95% (page threshold 14.4 x 0.05% = 0.72%). One failed probe
/// at 2m: the 5m, 30m and 1h windows all hold the same 9 probes (0 to 2m),
/// 1 failed, 11%, far over the page thresholds (0.72%, and 6 x 0.05% for
/// 6h/30m), so without a guard the page fired at once. The default guard
/// wants 3 failed probes in the short window: 1 < 3, no page, then or
/// later. A sustained outage from 2m has failed at 2m, 2m15s, 2m30s,
/// 2m45s and 3m by the 3m recordings: 5 >= 3, and it pages by 4m (promtool
/// may run the alert group before the same minute's recordings).
#[test]
fn issue_12_one_failed_probe_does_not_page_a_sustained_outage_does() {
    let spec = "version: sightline/v1\nservice: shop\nslos:\n  - name: uptime\n    objective: 99.95\n    uptime: {selector: 'instance=\"https://shop.example\"'}\n    alerting: {name: ShopDown, ticket_alert: {disable: true}}\n";
    let probe = |values: &str| {
        format!("      - series: 'probe_success{{instance=\"https://shop.example\"}}'\n        values: '{values}'\n")
    };
    let none = |eval: &str| {
        format!("      - eval_time: {eval}\n        alertname: ShopDown\n        exp_alerts: []\n")
    };
    let page = |eval: &str| {
        format!("      - eval_time: {eval}\n        alertname: ShopDown\n        exp_alerts:\n          - exp_labels: {{sloth_id: shop-uptime, sloth_service: shop, sloth_slo: uptime, sloth_severity: page}}\n            exp_annotations:\n              title: \"(page) shop uptime: error budget burning too fast\"\n              summary: \"The uptime SLO of shop is spending its error budget faster than it can last the SLO window.\"\n")
    };
    let fast = |inputs: String, alerts: &[String]| {
        format!(
            "  - interval: 15s\n    input_series:\n{inputs}    alert_rule_test:\n{}",
            alerts.concat()
        )
    };
    // Probes 0..7 (0 to 1m45s) succeed, probe 8 (2m) fails.
    let blip = fast(
        probe("1x7 0 1x40"),
        &[none("2m"), none("3m"), none("5m"), none("10m")],
    );
    let outage = fast(probe("1x7 0x40"), &[none("2m"), page("4m"), page("10m")]);
    assert_both_pass("uptime-guard", spec, &format!("{blip}{outage}"));
}

/// The harness can fail: a test expecting silence during a full outage
/// must be reported as failed by both tools.
#[test]
fn a_wrong_expectation_fails_in_both_tools() {
    let t = group(
        &[
            series(200, "0+100x60 6000x30"),
            series(500, "0x60 100+100x29"),
        ],
        &[expect("70m", &[])],
        "",
    );
    let f = write_case("must-fail", &checkout_spec(true), &t);
    if let Some((ok, out)) = promtool(&["test", "rules"], &[&f]) {
        assert!(!ok, "promtool passed a wrong test:\n{out}");
        assert!(out.contains(ALERT), "{out}");
    }
    let (ok, out) = ours(&f);
    assert!(!ok, "sightline passed a wrong test:\n{out}");
    assert!(out.contains(ALERT), "{out}");
}

/// Every spec form's rules pass `promtool check rules` and our own check.
#[test]
fn generated_rules_pass_promtool_check() {
    let specs = [
        crate::spec::tests::SLOTH,
        crate::spec::tests::SHORT,
        crate::spec::tests::OPENSLO,
    ];
    let dir = temp_dir("check");
    let mut files = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let slos = parse_specs("spec.yml", s, &LoadOptions::default()).unwrap();
        let p = dir.join(format!("rules{i}.yml"));
        let text = generate_rule_file(&slos);
        crate::rule_file(&slos, "x.yml").unwrap();
        std::fs::write(&p, text).unwrap();
        files.push(p);
    }
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    if let Some((ok, out)) = promtool(&["check", "rules"], &refs) {
        assert!(ok, "{out}");
        assert!(!out.contains("FAILED"), "{out}");
    }
    let rep = sightline_rules::check_rules(&files);
    assert_eq!(rep.exit_code, 0, "{}", rep.stderr);
}

/// Long windows weigh by traffic. A busy clean hour (100 requests a
/// minute) then a quiet bad one (1 a minute, half failing): about 30 bad
/// of 6,060, 0.5%, over the day. Averaging the 5m ratios, as Sloth does,
/// would say about 25%. `< bool 0.01` and `> bool 0.002` pin it between.
#[test]
fn long_windows_weigh_by_traffic() {
    let sel = "{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", sloth_window=\"1d\", team=\"shop\"}";
    let t = group(
        &[series(200, "0+100x60 6000.5+0.5x59"), series(500, "0x60 0.5+0.5x59")],
        &[],
        &format!("    promql_expr_test:\n      - expr: slo:sli_error:ratio_rate1d < bool 0.01\n        eval_time: 120m\n        exp_samples:\n          - labels: '{sel}'\n            value: 1\n      - expr: slo:sli_error:ratio_rate1d > bool 0.002\n        eval_time: 120m\n        exp_samples:\n          - labels: '{sel}'\n            value: 1\n"),
    );
    assert_both_pass("weighted", &checkout_spec(true), &t);
}

/// A calendar-month SLO over a raw ratio, evaluated hourly across the
/// end of January 1970: 1% bad all January, 3% from February 1st. At
/// noon on February 1st the month so far is all 3%, while the days
/// before still count in a rolling window; `slo:time_period:days` is
/// January's 31 before the turn and February's 28 after.
#[test]
fn calendar_month_starts_over_on_the_first() {
    let spec = "version: sightline/v1\nservice: batch\nwindow: month\nslos:\n  - name: jobs\n    objective: 99\n    uptime: {}\n";
    // The uptime form is only the vehicle; the rules are replaced by a
    // raw SLI below so that hourly samples suffice.
    let mut slos = parse_specs("spec.yml", spec, &LoadOptions::default()).unwrap();
    slos[0].sli = crate::Sli::Raw {
        error_ratio_query: "avg_over_time(job_error_ratio[{{.window}}])".into(),
    };
    let dir = temp_dir("month");
    std::fs::write(dir.join("rules.yml"), generate_rule_file(&slos)).unwrap();
    let labels = |w: &str| {
        format!("{{sloth_id=\"batch-jobs\", sloth_service=\"batch\", sloth_slo=\"jobs\", sloth_window=\"{w}\"}}")
    };
    let plain = "{sloth_id=\"batch-jobs\", sloth_service=\"batch\", sloth_slo=\"jobs\"}";
    let test = format!(
        "rule_files: [rules.yml]\nevaluation_interval: 1h\ntests:\n  - interval: 1h\n    input_series:\n      - series: 'job_error_ratio'\n        values: '0.01x743 0.03x24'\n    promql_expr_test:\n      - expr: round(slo:sli_error:ratio_rate_month, 0.0001)\n        eval_time: 743h\n        exp_samples:\n          - labels: '{jan}'\n            value: 0.01\n      - expr: round(slo:sli_error:ratio_rate_month, 0.0001)\n        eval_time: 756h\n        exp_samples:\n          - labels: '{feb}'\n            value: 0.03\n      - expr: slo:sli_error:ratio_rate3d < bool 0.03\n        eval_time: 756h\n        exp_samples:\n          - labels: '{rolling}'\n            value: 1\n      - expr: slo:time_period:days\n        eval_time: 743h\n        exp_samples:\n          - labels: 'slo:time_period:days{plain}'\n            value: 31\n      - expr: slo:time_period:days\n        eval_time: 756h\n        exp_samples:\n          - labels: 'slo:time_period:days{plain}'\n            value: 28\n",
        jan = labels("month"),
        feb = labels("month"),
        rolling = labels("3d"),
    );
    let f = dir.join("test.yml");
    std::fs::write(&f, test).unwrap();
    if let Some((ok, out)) = promtool(&["test", "rules"], &[&f]) {
        assert!(ok, "promtool failed on {}:\n{out}", f.display());
    }
    let (ok, out) = ours(&f);
    assert!(ok, "sightline failed on {}:\n{out}", f.display());
}

/// A healthy service whose 5xx series never existed: the error query
/// matches nothing, yet the SLI reads 0 and nothing alerts.
#[test]
fn no_error_series_reads_as_zero_errors() {
    let t = group(
        &[series(200, "0+100x30")],
        &["      - eval_time: 30m\n        alertname: SLOMetricsAbsent\n        exp_alerts: []\n".to_owned(), expect("30m", &[])],
        "    promql_expr_test:\n      - expr: slo:sli_error:ratio_rate5m\n        eval_time: 30m\n        exp_samples:\n          - labels: 'slo:sli_error:ratio_rate5m{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\", sloth_window=\"5m\", team=\"shop\"}'\n            value: 0\n",
    );
    assert_both_pass("no-errors", &checkout_spec(true), &t);
}

/// A latency threshold of 0.3s on a histogram whose buckets are 0.1 and
/// 0.5: there is no `le="0.3"` series, so the SLI goes missing and
/// `SLOMetricsAbsent` fires after its 10 minutes instead of the SLO
/// silently reading 100% fast.
#[test]
fn latency_threshold_off_the_buckets_alerts_absent() {
    let spec = "version: sightline/v1\nservice: api\nslos:\n  - name: latency\n    objective: 99\n    latency: {metric: h, threshold: 0.3}\n";
    let b = |le: &str| {
        format!("      - series: 'h_bucket{{le=\"{le}\"}}'\n        values: '0+10x30'\n")
    };
    let t = group(
        &[b("0.1"), b("0.5"), b("+Inf"), "      - series: 'h_count'\n        values: '0+10x30'\n".to_owned()],
        &["      - eval_time: 20m\n        alertname: SLOMetricsAbsent\n        exp_alerts:\n          - exp_labels: {sloth_id: api-latency, sloth_service: api, sloth_slo: latency, sloth_severity: ticket}\n            exp_annotations:\n              summary: \"The latency SLO of api has had no SLI data for 10m: its metrics are missing or its queries match nothing.\"\n".to_owned()],
        "",
    );
    assert_both_pass("latency-off-bucket", spec, &t);
}
