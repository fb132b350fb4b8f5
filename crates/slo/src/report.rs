//! Error budget reports: where each SLO stands now, from instant queries.
//!
//! [`report`] asks a [`SloQuerier`] (the server implements it over the
//! PromQL engine) and returns one [`SloStatus`] per SLO, the body of
//! `/api/v1/slos`; [`render_table`] prints them for `sightline slo report`.
//!
//! When the generated rules run (`sloth_slo_info` exists for the SLO) the
//! report reads their recordings and the `ALERTS` series; otherwise it runs
//! the SLI's own queries over every window and works out the alert state
//! itself, so a report also works before the rules have been loaded.

use crate::generate::{fill_window, selector, series};
use crate::model::{burn_windows, recorded_windows, Severity, Sli, Slo, Window};
use crate::Result;
use serde::Serialize;
use sightline_core::duration::format_prometheus;
use sightline_core::Labels;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Instant queries, as the PromQL engine answers them.
pub trait SloQuerier {
    /// Evaluates `expr` at `ts_ms`; a scalar result comes back as one
    /// sample with no labels.
    fn instant(&self, expr: &str, ts_ms: i64) -> Result<Vec<(Labels, f64)>>;
}

/// The burn rate over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowBurn {
    /// `5m`, `1h`, ..., or the SLO window.
    pub window: String,
    /// Error ratio over the window; `None` without data or traffic.
    pub error_ratio: Option<f64>,
    /// Error ratio divided by the error budget: 1 spends the budget exactly
    /// over the SLO window.
    pub burn_rate: Option<f64>,
    /// True when less data exists than the window is long (right after
    /// start): the figures are over the data that exists.
    pub partial: bool,
}

/// The state of one burn-rate alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertStatus {
    /// Page or ticket.
    pub severity: Severity,
    /// `firing`, `pending` or `inactive`.
    pub state: String,
}

/// One SLO's standing, the element of `/api/v1/slos`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloStatus {
    /// `sloth_id`.
    pub id: String,
    /// `sloth_service`.
    pub service: String,
    /// `sloth_slo`.
    pub name: String,
    /// Free text from the spec.
    pub description: String,
    /// The objective as a ratio (0.999).
    pub objective: f64,
    /// `30d`, `4w` or `month`.
    pub window: String,
    /// The SLO's labels.
    pub labels: BTreeMap<String, String>,
    /// `rules` when read from the generated recordings, `queries` when
    /// computed from the SLI's own queries.
    pub source: String,
    /// Share of good events over the last 5 minutes.
    pub sli_now: Option<f64>,
    /// Share of good events over the SLO window.
    pub sli_window: Option<f64>,
    /// The error budget as a ratio (0.001).
    pub error_budget: f64,
    /// The whole window's budget as time: how long a full outage may last
    /// (99.9% over 30d: 2592 s, 43.2 minutes).
    pub budget_total_seconds: f64,
    /// How much of the SLO window has SLI data, in seconds (to the
    /// minute); `None` when it could not be measured.
    pub data_seconds: Option<f64>,
    /// `data_seconds` as a share of the whole window (0.002 is 0.2%).
    pub data_coverage: Option<f64>,
    /// Share of the whole window's budget spent by the errors in the data
    /// that exists: 100 s of outage is 3.9% of a 43.2 min budget however
    /// little of the window has passed.
    pub budget_spent: Option<f64>,
    /// Share of the budget left, `1 - budget_spent` (negative once
    /// overspent).
    pub budget_remaining: Option<f64>,
    /// The budget left as time of full outage.
    pub budget_remaining_seconds: Option<f64>,
    /// Burn rate per window, shortest first.
    pub burn_rates: Vec<WindowBurn>,
    /// Page and ticket alerts (the enabled ones).
    pub alerts: Vec<AlertStatus>,
    /// Seconds until the budget is gone at the current (5m) burn rate;
    /// 0 when already gone, `None` when nothing burns.
    pub exhaustion_seconds: Option<f64>,
    /// Things that look wrong (a latency threshold that is no bucket).
    pub warnings: Vec<String>,
}

const DAY_MS: i64 = 86_400_000;

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The UTC year and month of a timestamp.
fn civil_month(ts_ms: i64) -> (i64, i64) {
    let z = ts_ms.div_euclid(DAY_MS) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m)
}

/// Start of the UTC month holding `ts_ms`, and that month's length.
pub fn month_bounds(ts_ms: i64) -> (i64, i64) {
    let (y, m) = civil_month(ts_ms);
    let start = days_from_civil(y, m, 1) * DAY_MS;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let end = days_from_civil(ny, nm, 1) * DAY_MS;
    (start, end - start)
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

struct Reader<'a> {
    q: &'a dyn SloQuerier,
    ts: i64,
    slo: &'a Slo,
    sel: String,
    rules: bool,
}

impl Reader<'_> {
    fn values(&self, expr: &str) -> Result<Vec<f64>> {
        Ok(self
            .q
            .instant(expr, self.ts)?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// The range a window covers at this time (a calendar month so far).
    fn range_ms(&self, w: Window) -> i64 {
        match w {
            Window::Rolling(ms) => ms,
            Window::CalendarMonth => (self.ts - month_bounds(self.ts).0).max(60_000),
        }
    }

    /// Seconds of the window with SLI data: the minutes at which the 5m
    /// SLI had a value (`count_over_time` of a 1m subquery), so a gap while
    /// nothing was scraped counts as no data. The largest over the SLI's
    /// series; `None` when the query answers nothing.
    fn data_seconds(&self, w: Window) -> Result<Option<f64>> {
        let five = 300_000;
        let expr = if self.rules {
            format!("{}{}", series("sli_error", Window::Rolling(five)), self.sel)
        } else {
            match &self.slo.sli {
                Sli::Raw { error_ratio_query } => fill_window(error_ratio_query, five),
                Sli::Events { total_query, .. } => fill_window(total_query, five),
            }
        };
        let ms = self.range_ms(w);
        let q = format!(
            "count_over_time(timestamp({})[{}:1m])",
            expr.trim(),
            format_prometheus(ms)
        );
        let minutes = self.values(&q)?.into_iter().reduce(f64::max);
        Ok(minutes.map(|m| (m * 60.0).min(ms as f64 / 1000.0)))
    }

    /// Error ratio (the worst series when the SLI is split by labels) and
    /// event rate (summed) over a window.
    fn window(&self, w: Window, warnings: &mut Vec<String>) -> Result<(Option<f64>, Option<f64>)> {
        let worst = |v: Vec<f64>| v.into_iter().filter(|x| !x.is_nan()).reduce(f64::max);
        let sum = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>());
        if self.rules {
            let ratio = worst(self.values(&format!("{}{}", series("sli_error", w), self.sel))?);
            let events = match self.slo.sli {
                Sli::Events { .. } => {
                    sum(self.values(&format!("{}{}", series("sli_events", w), self.sel))?)
                }
                Sli::Raw { .. } => None,
            };
            if ratio.is_none() && events.is_some_and(|e| e > 0.0) {
                warnings.push(format!(
                    "over {} there is traffic but no error series: a latency threshold must be one of the histogram's le bucket boundaries",
                    w.name()
                ));
            }
            return Ok((ratio, events));
        }
        let ms = self.range_ms(w);
        match &self.slo.sli {
            Sli::Raw { error_ratio_query } => Ok((
                worst(self.values(&fill_window(error_ratio_query, ms))?),
                None,
            )),
            Sli::Events {
                error_query,
                total_query,
                errors_absent_means_zero,
            } => {
                let total = sum(self.values(&fill_window(total_query, ms))?);
                let mut errors = sum(self.values(&fill_window(error_query, ms))?);
                if errors.is_none() && total.is_some() {
                    if *errors_absent_means_zero {
                        errors = Some(0.0);
                    } else if total.is_some_and(|t| t > 0.0) {
                        warnings.push(format!(
                            "over {} the error query matches nothing while there is traffic: a latency threshold must be one of the histogram's le bucket boundaries",
                            w.name()
                        ));
                    }
                }
                let ratio = match (errors, total) {
                    (Some(e), Some(t)) if t > 0.0 => Some(e / t),
                    _ => None,
                };
                Ok((ratio, total))
            }
        }
    }
}

/// Where every SLO stands at `ts_ms`.
pub fn report(slos: &[Slo], q: &dyn SloQuerier, ts_ms: i64) -> Result<Vec<SloStatus>> {
    slos.iter().map(|s| status(s, q, ts_ms)).collect()
}

fn status(slo: &Slo, q: &dyn SloQuerier, ts: i64) -> Result<SloStatus> {
    let sel = selector(slo);
    let rules = !q.instant(&format!("sloth_slo_info{sel}"), ts)?.is_empty();
    let r = Reader {
        q,
        ts,
        slo,
        sel: sel.clone(),
        rules,
    };
    let budget = 1.0 - slo.objective_ratio();
    let mut warnings = Vec::new();
    let data_seconds = r.data_seconds(slo.window)?;
    let mut by_window: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
    let mut burn_rates = Vec::new();
    for w in recorded_windows(slo.window) {
        let (ratio, events) = r.window(w, &mut warnings)?;
        by_window.insert(w.name(), (ratio, events));
        // One subquery step of slack: the data is counted by the minute.
        let partial = data_seconds.is_some_and(|d| d + 60.0 < r.range_ms(w) as f64 / 1000.0);
        burn_rates.push(WindowBurn {
            window: w.name(),
            error_ratio: ratio.and_then(finite),
            burn_rate: ratio.map(|x| x / budget).and_then(finite),
            partial,
        });
    }
    warnings.dedup();
    warnings.truncate(1);
    if by_window
        .get("5m")
        .is_some_and(|(r, e)| r.is_none() && e.is_none())
    {
        warnings.push(
            "no SLI data over the last 5m: the metrics are missing or the queries match nothing"
                .into(),
        );
    }
    let now = by_window.get("5m").and_then(|x| x.0);
    let period = by_window.get(&slo.window.name()).and_then(|x| x.0);
    let period_s = match slo.window {
        Window::Rolling(ms) => ms as f64 / 1000.0,
        Window::CalendarMonth => month_bounds(ts).1 as f64 / 1000.0,
    };
    let budget_total_seconds = budget * period_s;
    // The window's error ratio is over the data that exists. Its errors,
    // as time of full outage, are ratio x data seconds; they spend that
    // much of the whole window's budget. Without a measure of the data
    // the ratio is taken to cover the whole window (Sloth's figure).
    let data = data_seconds.unwrap_or(period_s).min(period_s);
    let budget_spent = match period {
        Some(p) if data > 0.0 => finite(p * data / budget_total_seconds),
        _ => None,
    };
    let budget_remaining = budget_spent.map(|s| 1.0 - s);
    let burn_now = now.map(|x| x / budget).and_then(finite);
    let exhaustion_seconds = match (budget_remaining, burn_now) {
        (Some(left), _) if left <= 0.0 => Some(0.0),
        // Spending `burn` budgets per window, the share `left` lasts
        // left / burn windows. In a rolling window old errors also age
        // out, so this is the pessimistic figure.
        (Some(left), Some(b)) if b > 0.0 => Some(left * period_s / b),
        _ => None,
    };
    let alerts = alert_states(slo, &r, &by_window)?;
    Ok(SloStatus {
        id: slo.id.clone(),
        service: slo.service.clone(),
        name: slo.name.clone(),
        description: slo.description.clone(),
        objective: slo.objective_ratio(),
        window: slo.window.name(),
        labels: slo.labels.clone(),
        source: if rules { "rules" } else { "queries" }.into(),
        sli_now: now.map(|x| 1.0 - x).and_then(finite),
        sli_window: period.map(|x| 1.0 - x).and_then(finite),
        error_budget: budget,
        budget_total_seconds,
        data_seconds,
        data_coverage: data_seconds.map(|d| (d / period_s).min(1.0)),
        budget_spent,
        budget_remaining,
        budget_remaining_seconds: budget_remaining.map(|b| b * budget_total_seconds),
        burn_rates,
        alerts,
        exhaustion_seconds,
        warnings,
    })
}

fn alert_states(
    slo: &Slo,
    r: &Reader<'_>,
    by_window: &BTreeMap<String, (Option<f64>, Option<f64>)>,
) -> Result<Vec<AlertStatus>> {
    let mut out = Vec::new();
    for (sev, spec) in [
        (Severity::Page, &slo.alerting.page),
        (Severity::Ticket, &slo.alerting.ticket),
    ] {
        if !spec.enabled {
            continue;
        }
        let state = if r.rules {
            let expr = format!(
                "ALERTS{{alertname=\"{}\", sloth_id=\"{}\", sloth_severity=\"{}\"}}",
                slo.alerting.name,
                slo.id.replace('\\', "\\\\").replace('"', "\\\""),
                sev.as_str()
            );
            let got = r.q.instant(&expr, r.ts)?;
            let has = |s: &str| got.iter().any(|(l, _)| l.get("alertstate") == Some(s));
            if has("firing") {
                "firing"
            } else if has("pending") {
                "pending"
            } else {
                "inactive"
            }
        } else {
            // The conditions the alert rule evaluates (see
            // `generate::window_condition`), on the figures fetched above.
            let firing = burn_windows(slo.window)
                .iter()
                .filter(|b| b.severity == sev)
                .any(|b| {
                    let get = |ms: i64| {
                        by_window
                            .get(&Window::Rolling(ms).name())
                            .copied()
                            .unwrap_or((None, None))
                    };
                    let thr = b.factor * (1.0 - slo.objective_ratio());
                    let (short, _) = get(b.short_ms);
                    let (long, events) = get(b.long_ms);
                    let guard = match slo.guard_events(b) {
                        None => true,
                        Some(n) => {
                            events.is_some_and(|e| e * (b.long_ms / 1000) as f64 >= n as f64)
                        }
                    };
                    let (_, short_events) = get(b.short_ms);
                    let failures = match slo.guard_failures() {
                        None => true,
                        Some(n) => match (short, short_events) {
                            (Some(r), Some(e)) => {
                                (r * e * (b.short_ms / 1000) as f64).round() >= n as f64
                            }
                            _ => false,
                        },
                    };
                    short.is_some_and(|x| x > thr)
                        && long.is_some_and(|x| x > thr)
                        && guard
                        && failures
                });
            if firing {
                "firing"
            } else {
                "inactive"
            }
        };
        out.push(AlertStatus {
            severity: sev,
            state: state.into(),
        });
    }
    Ok(out)
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{:.3}%", v * 100.0),
        None => "-".into(),
    }
}

/// An objective ratio as a percentage without binary noise: 0.9995 gives
/// `99.95%`, not `99.94999999999999%`.
fn objective_percent(ratio: f64) -> String {
    let t = format!("{:.6}", ratio * 100.0);
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("{t}%")
}

/// How much of the window has data: `100%`, `0.2% of 30d`.
fn coverage_cell(s: &SloStatus) -> String {
    match s.data_coverage {
        None => "-".into(),
        Some(c) if c >= 0.9995 => "100%".into(),
        Some(c) => {
            let p = c * 100.0;
            let t = if p >= 10.0 {
                format!("{p:.0}")
            } else if p >= 0.1 {
                format!("{p:.1}")
            } else {
                format!("{p:.2}")
            };
            format!("{t}% of {}", s.window)
        }
    }
}

/// A duration for people: the two largest units (`3d4h`, `12m5s`).
pub fn human_duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".into();
    }
    let mut s = secs.round().max(0.0) as u64;
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut used = 0;
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= n && used < 2 {
            let _ = write!(out, "{}{unit}", s / n);
            s %= n;
            used += 1;
        } else if used > 0 {
            used = 2;
        }
    }
    out
}

/// The plain-text table of `sightline slo report`.
pub fn render_table(statuses: &[SloStatus]) -> String {
    let header = [
        "SLO",
        "OBJECTIVE",
        "WINDOW",
        "DATA",
        "SLI 5M",
        "SLI WINDOW",
        "BUDGET LEFT",
        "BURN 1H",
        "ALERTS",
        "EXHAUSTED IN",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for s in statuses {
        let left = match (s.budget_remaining, s.budget_remaining_seconds) {
            (Some(r), Some(t)) => format!(
                "{:.1}% ({}{})",
                r * 100.0,
                if t < 0.0 { "-" } else { "" },
                human_duration(t.abs())
            ),
            _ => "-".into(),
        };
        // A 1h burn from less than an hour of data says over how much.
        let burn = match s.burn_rates.iter().find(|b| b.window == "1h") {
            Some(WindowBurn {
                burn_rate: Some(b),
                partial,
                ..
            }) => match (partial, s.data_seconds) {
                (true, Some(d)) => format!("{b:.2}x ({} data)", human_duration(d)),
                _ => format!("{b:.2}x"),
            },
            _ => "-".into(),
        };
        let alerts: Vec<&str> = s
            .alerts
            .iter()
            .filter(|a| a.state != "inactive")
            .map(|a| a.severity.as_str())
            .collect();
        rows.push(vec![
            s.id.clone(),
            objective_percent(s.objective),
            s.window.clone(),
            coverage_cell(s),
            pct(s.sli_now),
            pct(s.sli_window),
            left,
            burn,
            if alerts.is_empty() {
                "-".into()
            } else {
                alerts.join(",")
            },
            match s.exhaustion_seconds {
                Some(x) => human_duration(x),
                None => "-".into(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for s in statuses {
        for w in &s.warnings {
            let _ = writeln!(out, "warning: {}: {w}", s.id);
        }
    }
    out
}

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod tests;
