//! SLOs to Prometheus rule groups: three groups per SLO, named as Sloth
//! names them, with Sloth's series names and labels so dashboards built
//! for Sloth keep working.
//!
//! - `sloth-slo-sli-recordings-<id>`: per window, the error and total
//!   event rates (`slo:sli_errors:rate<w>`, `slo:sli_events:rate<w>`) and
//!   their ratio (`slo:sli_error:ratio_rate<w>`). The short windows (5m to
//!   6h) run the SLI's own queries; 1d, 3d and the SLO window average the
//!   5m rates, numerator and denominator apart, so their ratio is a ratio
//!   of sums (traffic-weighted). Sloth averages the 5m *ratios* instead,
//!   which lets a quiet night count as much as a busy day.
//! - `sloth-slo-meta-recordings-<id>`: objective, budget, burn rates,
//!   budget remaining, `sloth_slo_info`.
//! - `sloth-slo-alerts-<id>`: the page and ticket burn-rate alerts with
//!   their traffic guard, and `SLOMetricsAbsent`.

use crate::model::{burn_windows, recorded_windows, BurnWindow, Severity, Sli, Slo, Window};
use crate::yaml;
use crate::{Error, Result};
use sightline_core::duration::format_prometheus;
use sightline_rules::{GroupSpec, RuleFile, RuleKind, RuleSpec};
use std::collections::BTreeMap;

/// The alert raised when an SLO's SLI series are missing.
pub const ABSENT_ALERT: &str = "SLOMetricsAbsent";

/// How long the SLI may be missing before [`ABSENT_ALERT`] fires: long
/// enough to ride out a restart or a failed scrape or two.
pub const ABSENT_FOR_MS: i64 = 10 * 60_000;

/// The label that carries the UTC year and month (`202611`) on the
/// series calendar-month SLOs sum over.
pub const MONTH_LABEL: &str = "sightline_month";

/// True when a query template holds `{{.window}}` (spaces allowed).
pub fn has_window_placeholder(q: &str) -> bool {
    fill_window(q, 1) != q
}

/// Fills `{{.window}}` (as `5m`, `1h`) and `{{.window_seconds}}` into a
/// query template; other `{{...}}` stay as they are.
pub fn fill_window(q: &str, window_ms: i64) -> String {
    let mut out = String::with_capacity(q.len());
    let mut rest = q;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        match after[..j].trim() {
            ".window" => out.push_str(&format_prometheus(window_ms)),
            ".window_seconds" => out.push_str(&(window_ms / 1000).to_string()),
            _ => out.push_str(&rest[i..i + 2 + j + 2]),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// The suffix of a window in series names: `5m`, `30d`, `_month`.
pub fn window_suffix(w: Window) -> String {
    match w {
        Window::Rolling(ms) => format_prometheus(ms),
        Window::CalendarMonth => "_month".into(),
    }
}

/// The PromQL selector of an SLO's generated series: `{sloth_id="..."...}`.
pub fn selector(slo: &Slo) -> String {
    let parts: Vec<String> = slo
        .sloth_labels()
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// The name of a recorded series for a window: `slo:sli_error:ratio_rate1h`.
pub fn series(kind: &str, w: Window) -> String {
    let op = if kind == "sli_error" {
        "ratio_rate"
    } else {
        "rate"
    };
    format!("slo:{kind}:{op}{}", window_suffix(w))
}

fn labels(slo: &Slo, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut m = slo.labels.clone();
    for (k, v) in slo.sloth_labels().iter().chain(extra) {
        m.insert((*k).to_owned(), (*v).to_owned());
    }
    m
}

fn sloth_only(slo: &Slo) -> BTreeMap<String, String> {
    slo.sloth_labels()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn record(name: String, expr: String, labels: BTreeMap<String, String>) -> RuleSpec {
    RuleSpec {
        kind: RuleKind::Recording,
        name,
        expr,
        for_ms: 0,
        keep_firing_for_ms: 0,
        labels,
        annotations: BTreeMap::new(),
    }
}

fn group(name: String, rules: Vec<RuleSpec>) -> GroupSpec {
    GroupSpec {
        name,
        file: String::new(),
        interval_ms: None,
        limit: 0,
        query_offset_ms: None,
        labels: BTreeMap::new(),
        rules,
    }
}

/// The `count_values` trick that turns the evaluation time's UTC month
/// into a label, so a month's samples can be told from the last month's.
fn month_now() -> String {
    format!("count_values(\"{MONTH_LABEL}\", year() * 100 + month())")
}

fn sli_group(slo: &Slo) -> GroupSpec {
    let sel = selector(slo);
    let five = Window::Rolling(300_000);
    let mut rules = Vec::new();
    // The kinds recorded per window: the event rates for event SLIs, the
    // ratio itself for raw ones.
    let parts: &[&str] = match slo.sli {
        Sli::Events { .. } => &["sli_errors", "sli_events"],
        Sli::Raw { .. } => &["sli_error"],
    };
    for w in recorded_windows(slo.window) {
        let wname = w.name();
        let lab = labels(slo, &[("sloth_window", wname.as_str())]);
        match (w, &slo.sli) {
            (
                Window::Rolling(ms),
                Sli::Events {
                    error_query,
                    total_query,
                    errors_absent_means_zero,
                },
            ) if ms <= 6 * 3_600_000 => {
                let total = fill_window(total_query.trim(), ms);
                let errors = fill_window(error_query.trim(), ms);
                // An error query over a counter whose error series only
                // appear with the first error would leave the SLI empty
                // on a healthy service; count that as zero errors.
                let errors = if *errors_absent_means_zero {
                    format!("({errors})\nor\n0 * ({total})")
                } else {
                    errors
                };
                rules.push(record(series("sli_errors", w), errors, lab.clone()));
                rules.push(record(series("sli_events", w), total, lab.clone()));
            }
            (Window::Rolling(ms), Sli::Raw { error_ratio_query }) if ms <= 6 * 3_600_000 => {
                rules.push(record(
                    series("sli_error", w),
                    fill_window(error_ratio_query.trim(), ms),
                    lab,
                ));
                continue;
            }
            (Window::Rolling(ms), _) => {
                let range = format_prometheus(ms);
                for k in parts {
                    rules.push(record(
                        series(k, w),
                        format!("avg_over_time({}{sel}[{range}])", series(k, five)),
                        lab.clone(),
                    ));
                }
            }
            (Window::CalendarMonth, _) => {
                // Each 5m sample is copied into a series labelled with its
                // month; summing the series of the current month over the
                // last 31 days covers exactly the month so far.
                for k in parts {
                    let by_month = format!("{}_by_month", series(k, five));
                    rules.push(record(
                        by_month.clone(),
                        format!(
                            "{}{sel}\n* on() group_left({MONTH_LABEL})\n{}",
                            series(k, five),
                            month_now()
                        ),
                        labels(slo, &[("sloth_window", "5m")]),
                    ));
                    rules.push(record(
                        series(k, w),
                        format!(
                            "sum without ({MONTH_LABEL}) (\n  avg_over_time({by_month}{sel}[31d])\n  and on({MONTH_LABEL})\n  {}\n)",
                            month_now()
                        ),
                        lab.clone(),
                    ));
                }
            }
        }
        if let Sli::Events { .. } = slo.sli {
            rules.push(record(
                series("sli_error", w),
                format!(
                    "{}{sel}\n/\n{}{sel}",
                    series("sli_errors", w),
                    series("sli_events", w)
                ),
                lab,
            ));
        }
    }
    group(format!("sloth-slo-sli-recordings-{}", slo.id), rules)
}

fn meta_group(slo: &Slo) -> GroupSpec {
    let sel = selector(slo);
    let obj = slo.objective_text();
    let base = labels(slo, &[]);
    let on = "on(sloth_id, sloth_slo, sloth_service) group_left()";
    let days = match slo.window {
        Window::Rolling(ms) => format!("vector({})", ms as f64 / 86_400_000.0),
        Window::CalendarMonth => "days_in_month()".into(),
    };
    let objective_pct = format!("{}", slo.objective);
    let version = concat!("sightline-", env!("CARGO_PKG_VERSION"));
    let window = slo.window.name();
    let mut info = labels(
        slo,
        &[
            ("sloth_mode", "sightline"),
            ("sloth_objective", objective_pct.as_str()),
            ("sloth_spec", slo.spec_format.as_str()),
            ("sloth_version", version),
            ("sightline_window", window.as_str()),
        ],
    );
    if !slo.description.is_empty() {
        info.insert("sightline_description".into(), slo.description.clone());
    }
    let rules = vec![
        record(
            "slo:objective:ratio".into(),
            format!("vector({obj})"),
            base.clone(),
        ),
        record(
            "slo:error_budget:ratio".into(),
            format!("vector(1 - {obj})"),
            base.clone(),
        ),
        record("slo:time_period:days".into(), days.clone(), base.clone()),
        record(
            "slo:error_budget:seconds".into(),
            format!("(1 - {obj}) * 86400 * {days}"),
            base.clone(),
        ),
        record(
            "slo:current_burn_rate:ratio".into(),
            format!(
                "{}{sel}\n/ {on}\nslo:error_budget:ratio{sel}",
                series("sli_error", Window::Rolling(300_000))
            ),
            base.clone(),
        ),
        record(
            "slo:period_burn_rate:ratio".into(),
            format!(
                "{}{sel}\n/ {on}\nslo:error_budget:ratio{sel}",
                series("sli_error", slo.window)
            ),
            base.clone(),
        ),
        record(
            "slo:period_error_budget_remaining:ratio".into(),
            format!("1 - slo:period_burn_rate:ratio{sel}"),
            base,
        ),
        record("sloth_slo_info".into(), "vector(1)".into(), info),
    ];
    group(format!("sloth-slo-meta-recordings-{}", slo.id), rules)
}

/// The condition of one window pair: both windows over the threshold and,
/// unless turned off, enough events in the long window.
pub fn window_condition(slo: &Slo, bw: &BurnWindow) -> String {
    let sel = selector(slo);
    let thr = format!("({} * (1 - {}))", bw.factor, slo.objective_text());
    let mut terms = vec![
        format!(
            "max({}{sel} > {thr}) without (sloth_window)",
            series("sli_error", Window::Rolling(bw.short_ms))
        ),
        format!(
            "max({}{sel} > {thr}) without (sloth_window)",
            series("sli_error", Window::Rolling(bw.long_ms))
        ),
    ];
    if let Some(n) = slo.guard_events(bw) {
        terms.push(format!(
            "max({}{sel} * {} >= {n}) without (sloth_window)",
            series("sli_events", Window::Rolling(bw.long_ms)),
            bw.long_ms / 1000
        ));
    }
    if let Some(n) = slo.guard_failures() {
        // Failed events in the short window: the error rate times its
        // seconds, rounded because probes are counted whole.
        terms.push(format!(
            "max(round({}{sel} * {}) >= {n}) without (sloth_window)",
            series("sli_errors", Window::Rolling(bw.short_ms)),
            bw.short_ms / 1000
        ));
    }
    format!("(\n  {}\n)", terms.join("\n  and\n  "))
}

fn alert_group(slo: &Slo) -> GroupSpec {
    let a = &slo.alerting;
    let mut rules = Vec::new();
    for (sev, spec) in [(Severity::Page, &a.page), (Severity::Ticket, &a.ticket)] {
        if !spec.enabled {
            continue;
        }
        let conds: Vec<String> = burn_windows(slo.window)
            .iter()
            .filter(|b| b.severity == sev)
            .map(|b| window_condition(slo, b))
            .collect();
        // The sloth labels come out of the expression anyway; written
        // here too they keep two SLOs sharing an alert name from looking
        // like duplicate rules to `promtool check rules`.
        let mut labels = sloth_only(slo);
        labels.extend(a.labels.clone());
        labels.extend(spec.labels.clone());
        labels.insert("sloth_severity".into(), sev.as_str().into());
        let mut annotations = BTreeMap::from([
            (
                "title".to_owned(),
                format!(
                    "({}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}}: error budget burning too fast",
                    sev.as_str()
                ),
            ),
            (
                "summary".to_owned(),
                "The {{$labels.sloth_slo}} SLO of {{$labels.sloth_service}} is spending its error budget faster than it can last the SLO window.".to_owned(),
            ),
        ]);
        annotations.extend(a.annotations.clone());
        annotations.extend(spec.annotations.clone());
        rules.push(RuleSpec {
            kind: RuleKind::Alerting,
            name: a.name.clone(),
            expr: conds.join("\nor\n"),
            for_ms: 0,
            keep_firing_for_ms: 0,
            labels,
            annotations,
        });
    }
    let mut labels = labels(slo, &[]);
    labels.extend(a.labels.clone());
    labels.extend(a.ticket.labels.clone());
    labels.insert("sloth_severity".into(), Severity::Ticket.as_str().into());
    rules.push(RuleSpec {
        kind: RuleKind::Alerting,
        name: ABSENT_ALERT.into(),
        expr: format!(
            "absent({}{})",
            series("sli_error", Window::Rolling(300_000)),
            selector(slo)
        ),
        for_ms: ABSENT_FOR_MS,
        keep_firing_for_ms: 0,
        labels,
        annotations: BTreeMap::from([(
            "summary".to_owned(),
            format!(
                "The {{{{$labels.sloth_slo}}}} SLO of {{{{$labels.sloth_service}}}} has had no SLI data for {}: its metrics are missing or its queries match nothing.",
                format_prometheus(ABSENT_FOR_MS)
            ),
        )]),
    });
    group(format!("sloth-slo-alerts-{}", slo.id), rules)
}

/// The rule groups of some SLOs, three per SLO, in SLO order.
pub fn rule_groups(slos: &[Slo]) -> Vec<GroupSpec> {
    slos.iter()
        .flat_map(|s| [sli_group(s), meta_group(s), alert_group(s)])
        .collect()
}

/// A Prometheus rule file holding every SLO's groups, as YAML that
/// `promtool check rules` accepts.
pub fn generate_rule_file(slos: &[Slo]) -> String {
    yaml::render(&rule_groups(slos))
}

/// The same rules as a parsed [`RuleFile`] for
/// [`sightline_rules::RuleManager::set_files`]; `path` names it in the
/// rules API. The YAML is parsed back with the rules crate's own checks,
/// so what runs is exactly what `generate` prints.
pub fn rule_file(slos: &[Slo], path: &str) -> Result<RuleFile> {
    let text = generate_rule_file(slos);
    sightline_rules::file::parse_rule_file(path, &text).map_err(Error::Generated)
}

#[cfg(test)]
mod tests;
