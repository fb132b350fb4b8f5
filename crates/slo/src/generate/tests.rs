use super::*;
use crate::spec::{parse_specs, LoadOptions};

fn slos(text: &str) -> Vec<Slo> {
    parse_specs("s.yml", text, &LoadOptions::default()).unwrap()
}

#[test]
fn window_placeholders_are_filled() {
    assert_eq!(fill_window("rate(x[{{.window}}])", 300_000), "rate(x[5m])");
    assert_eq!(
        fill_window("rate(x[{{ .window }}]) / {{.window_seconds}}", 3_600_000),
        "rate(x[1h]) / 3600"
    );
    assert_eq!(fill_window("{{.other}} {{", 60_000), "{{.other}} {{");
    assert!(!has_window_placeholder("rate(x[5m])"));
}

#[test]
fn guard_defaults_to_one_error_under_the_threshold() {
    let s = &slos(crate::spec::tests::SHORT)[0];
    assert_eq!(s.min_events, Some(50));
    let mut s = s.clone();
    s.min_events = None;
    s.window = Window::Rolling(30 * 86_400_000);
    let g: Vec<Option<u64>> = burn_windows(s.window)
        .iter()
        .map(|b| s.guard_events(b))
        .collect();
    // 1 / (14.4 * 0.001) = 69.4, 1 / 0.006 = 166.7, 1 / 0.003 = 333.3, and
    // 1 / 0.001 is a hair under 1000 (0.001 is 1 - 0.999 in binary).
    assert_eq!(g, [Some(70), Some(167), Some(334), Some(1000)]);
    s.min_events = Some(0);
    assert!(burn_windows(s.window)
        .iter()
        .all(|b| s.guard_events(b).is_none()));
}

#[test]
fn long_windows_are_ratios_of_averaged_rates() {
    let text = generate_rule_file(&slos(crate::spec::tests::SHORT)[..1]);
    // 28d SLO: the period ratio is built from the 5m event rates, not
    // from averaged 5m ratios.
    assert!(text.contains("  - record: \"slo:sli_errors:rate4w\"\n    expr: \"avg_over_time(slo:sli_errors:rate5m{sloth_id=\\\"checkout-availability\\\", sloth_service=\\\"checkout\\\", sloth_slo=\\\"availability\\\"}[4w])\""), "{text}");
    assert!(text.contains("slo:sli_errors:rate4w{sloth_id=\"checkout-availability\", sloth_service=\"checkout\", sloth_slo=\"availability\"}\n      /\n      slo:sli_events:rate4w{"), "{text}");
    // 28d scales the page factor to 13.44 and the guard is the spec's 50.
    assert!(text.contains("> (13.44 * (1 - 0.999))"), "{text}");
    assert!(
        text.contains("* 3600 >= 50) without (sloth_window)"),
        "{text}"
    );
}

#[test]
fn calendar_months_sum_the_current_month_series() {
    let s = slos(crate::spec::tests::SHORT);
    let text = generate_rule_file(&s[1..2]);
    assert!(
        text.contains("record: \"slo:sli_errors:rate5m_by_month\""),
        "{text}"
    );
    assert!(text.contains("* on() group_left(sightline_month)\n      count_values(\"sightline_month\", year() * 100 + month())"), "{text}");
    assert!(
        text.contains("record: \"slo:sli_error:ratio_rate_month\""),
        "{text}"
    );
    assert!(
        text.contains("expr: \"(1 - 0.99) * 86400 * days_in_month()\""),
        "{text}"
    );
    assert!(text.contains("sightline_window: \"month\""), "{text}");
}

#[test]
fn raw_slis_average_ratios_and_have_no_guard() {
    let s = slos(crate::spec::tests::SLOTH);
    let groups = rule_groups(&s[1..]);
    let names: Vec<&str> = groups[0].rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "slo:sli_error:ratio_rate5m",
            "slo:sli_error:ratio_rate30m",
            "slo:sli_error:ratio_rate1h",
            "slo:sli_error:ratio_rate2h",
            "slo:sli_error:ratio_rate6h",
            "slo:sli_error:ratio_rate1d",
            "slo:sli_error:ratio_rate3d",
            "slo:sli_error:ratio_rate30d",
        ]
    );
    assert!(groups[0].rules[0]
        .expr
        .starts_with("sum(rate(errors_total[5m]))\n/\n"));
    assert!(!groups[2].rules[0].expr.contains("sli_events"));
}

#[test]
fn disabled_alerts_are_not_generated_and_the_file_parses() {
    let s = slos(crate::spec::tests::SLOTH);
    let f = rule_file(&s, "slo.yml").unwrap();
    assert_eq!(f.groups.len(), 6);
    let alerts = &f.groups[2].rules;
    assert_eq!(
        alerts.len(),
        2,
        "page and absent only: the ticket is disabled"
    );
    assert_eq!(alerts[0].name, "MyServiceHighErrorRate");
    assert_eq!(alerts[0].labels["severity"], "pageteam");
    assert_eq!(alerts[0].labels["sloth_severity"], "page");
    assert_eq!(alerts[0].labels["category"], "availability");
    assert_eq!(
        alerts[0].annotations["runbook"],
        "https://example.com/runbook"
    );
    assert_eq!(alerts[1].name, ABSENT_ALERT);
    assert_eq!(alerts[1].for_ms, 600_000);
    assert_eq!(
        f.groups[0].name,
        "sloth-slo-sli-recordings-myservice-requests-availability"
    );
}

/// Issue 12: uptime SLOs get a failure guard (3 failed probes in the
/// alert's short window) unless `min_failures` says otherwise; the other
/// forms have none.
#[test]
fn uptime_alerts_wait_for_three_failed_probes() {
    let spec = |extra: &str| {
        format!("version: sightline/v1\nservice: shop\nslos:\n  - name: up\n    objective: 99.95\n{extra}    uptime: {{}}\n  - name: api\n    objective: 99.9\n    availability: {{metric: r, errors: 'code=\"500\"'}}\n")
    };
    let s = slos(&spec(""));
    assert_eq!(s[0].min_failures, Some(3));
    assert_eq!(s[1].min_failures, None);
    let sel = selector(&s[0]);
    let cond = window_condition(&s[0], &burn_windows(s[0].window)[0]);
    assert!(
        cond.contains(&format!(
            "max(round(slo:sli_errors:rate5m{sel} * 300) >= 3) without (sloth_window)"
        )),
        "{cond}"
    );
    assert!(!window_condition(&s[1], &burn_windows(s[1].window)[0]).contains("round("));
    let off = slos(&spec("    min_failures: 0\n"));
    assert_eq!(off[0].guard_failures(), None);
    let five = slos(&spec("    min_failures: 5\n"));
    assert!(window_condition(&five[0], &burn_windows(five[0].window)[1])
        .contains("slo:sli_errors:rate30m{sloth_id=\"shop-up\", sloth_service=\"shop\", sloth_slo=\"up\"} * 1800) >= 5)"));
}
