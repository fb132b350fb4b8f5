//! The SLO model every spec format is read into, and the alert windows of
//! the SRE workbook's multi-window, multi-burn-rate alerts.

use sightline_core::duration::format_prometheus;
use std::collections::BTreeMap;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The windows recorded straight from the SLI's own queries. Everything
/// longer is built from the 5m recordings, so a 30d window never makes the
/// engine read 30 days of raw counters.
pub const SHORT_WINDOWS_MS: [i64; 5] = [5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR];

/// The long alert windows, built from the 5m recordings.
pub const LONG_WINDOWS_MS: [i64; 2] = [DAY, 3 * DAY];

/// The failure guard of uptime SLOs unless their spec sets `min_failures`:
/// three failed probes in the alert's short window. One failed probe is a
/// blip; three in a row is an outage of at least two probe intervals (30 s
/// at blackbox_exporter's usual 15 s), which still pages within a minute.
pub const DEFAULT_UPTIME_MIN_FAILURES: u64 = 3;

/// The shortest SLO window accepted: below a day the workbook's 1d and 3d
/// alert windows would be longer than the SLO itself.
pub const MIN_WINDOW_MS: i64 = DAY;

/// One SLO, whatever format it was written in.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The service it belongs to (`sloth_service`).
    pub service: String,
    /// Its name within the service (`sloth_slo`).
    pub name: String,
    /// `{service}-{name}`, as Sloth builds it (`sloth_id`).
    pub id: String,
    /// Free text.
    pub description: String,
    /// The objective in percent (99.9), as Sloth writes it.
    pub objective: f64,
    /// The window the objective holds over.
    pub window: Window,
    /// Service labels merged with the SLO's labels (the SLO's win); put on
    /// every generated series and alert.
    pub labels: BTreeMap<String, String>,
    /// What is measured.
    pub sli: Sli,
    /// The burn-rate alerts.
    pub alerting: Alerting,
    /// Traffic guard: the least number of events an alert's long window
    /// must hold before the alert may fire. `None` picks, per alert, the
    /// smallest count at which one failed event alone stays under the
    /// alert's threshold; `Some(0)` turns the guard off.
    pub min_events: Option<u64>,
    /// Failure guard: the least number of failed events (probes) an
    /// alert's short window must hold before the alert may fire, so one
    /// failed probe never pages. `None` or `Some(0)`: no such guard.
    /// Uptime short forms default to [`DEFAULT_UPTIME_MIN_FAILURES`].
    pub min_failures: Option<u64>,
    /// The spec format (`prometheus/v1`, `openslo/v1`, `sightline/v1`).
    pub spec_format: String,
    /// Where it was defined: `file:line:col`.
    pub source: String,
}

/// The service level indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// Bad and total events; both queries contain `{{.window}}` (and may
    /// contain `{{.window_seconds}}`).
    Events {
        /// Bad events over the window.
        error_query: String,
        /// All events over the window.
        total_query: String,
        /// Whether an empty error query means "no errors" (true for
        /// selector-style queries whose error series only exist once an
        /// error happened) rather than "broken SLI" (a latency SLI whose
        /// bucket does not exist).
        errors_absent_means_zero: bool,
    },
    /// A ready error ratio; contains `{{.window}}`.
    Raw {
        /// The error ratio (0..1) over the window.
        error_ratio_query: String,
    },
}

/// The window the objective holds over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `ms` milliseconds, whenever you look.
    Rolling(i64),
    /// The current calendar month (UTC), from its first day.
    CalendarMonth,
}

impl Window {
    /// The name used in series names and `sloth_window`: `30d`, `4w`,
    /// `month`.
    pub fn name(&self) -> String {
        match self {
            Window::Rolling(ms) => format_prometheus(*ms),
            Window::CalendarMonth => "month".into(),
        }
    }

    /// The length used to scale burn-rate factors: a calendar month
    /// counts as 30 days, as the workbook's figures assume.
    pub fn nominal_ms(&self) -> i64 {
        match self {
            Window::Rolling(ms) => *ms,
            Window::CalendarMonth => 30 * DAY,
        }
    }
}

/// The alerting part of an SLO.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alerting {
    /// The alert name shared by the page and the ticket alert (they differ
    /// by `sloth_severity`).
    pub name: String,
    /// Labels on both alerts.
    pub labels: BTreeMap<String, String>,
    /// Annotations on both alerts.
    pub annotations: BTreeMap<String, String>,
    /// The fast-burn alert.
    pub page: AlertSpec,
    /// The slow-burn alert.
    pub ticket: AlertSpec,
}

/// One of the two burn-rate alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSpec {
    /// False when the spec disables it.
    pub enabled: bool,
    /// Extra labels (win over [`Alerting::labels`]).
    pub labels: BTreeMap<String, String>,
    /// Extra annotations (win over [`Alerting::annotations`]).
    pub annotations: BTreeMap<String, String>,
}

impl Default for AlertSpec {
    fn default() -> Self {
        AlertSpec {
            enabled: true,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }
}

/// Page or ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Wake someone up.
    Page,
    /// Look at it during working hours.
    Ticket,
}

impl Severity {
    /// `page` or `ticket`, the `sloth_severity` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// One window pair of a multi-window, multi-burn-rate alert: it fires when
/// both windows burn faster than `factor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnWindow {
    /// Page or ticket.
    pub severity: Severity,
    /// The short window, which makes the alert stop soon after the
    /// problem does.
    pub short_ms: i64,
    /// The long window, which holds the budget spent.
    pub long_ms: i64,
    /// The burn-rate threshold.
    pub factor: f64,
}

/// The SRE workbook's four window pairs for an SLO window. The workbook
/// states them as "this share of a 30-day budget spent within the long
/// window" (2% in 1h, 5% in 6h, 10% in 1d, 10% in 3d); the factor is that
/// share times the SLO window over the long window, which gives 14.4, 6, 3
/// and 1 for 30 days and scales with other windows exactly as Sloth does
/// (28 days: 13.44, 5.6, 2.8, 0.933...).
pub fn burn_windows(window: Window) -> [BurnWindow; 4] {
    let period = window.nominal_ms() as f64;
    let pair = |severity, short_ms: i64, long_ms: i64, budget_share: f64| BurnWindow {
        severity,
        short_ms,
        long_ms,
        factor: budget_share * period / long_ms as f64,
    };
    [
        pair(Severity::Page, 5 * MINUTE, HOUR, 0.02),
        pair(Severity::Page, 30 * MINUTE, 6 * HOUR, 0.05),
        pair(Severity::Ticket, 2 * HOUR, DAY, 0.10),
        pair(Severity::Ticket, 6 * HOUR, 3 * DAY, 0.10),
    ]
}

impl Slo {
    /// The objective as a ratio (0.999), read from [`Slo::objective_text`]
    /// so it is the very number the generated rules hold (99.9 / 100 in
    /// binary floating point would be 0.9990000000000001).
    pub fn objective_ratio(&self) -> f64 {
        self.objective_text()
            .parse()
            .unwrap_or(self.objective / 100.0)
    }

    /// The objective as a ratio in decimal text: 99.9 gives `0.999`.
    pub fn objective_text(&self) -> String {
        percent_to_ratio_text(self.objective)
    }

    /// The error budget as a ratio (0.001 for 99.9%).
    pub fn error_budget(&self) -> f64 {
        1.0 - self.objective_ratio()
    }

    /// The identifying labels every generated series carries.
    pub fn sloth_labels(&self) -> [(&'static str, &str); 3] {
        [
            ("sloth_id", self.id.as_str()),
            ("sloth_service", self.service.as_str()),
            ("sloth_slo", self.name.as_str()),
        ]
    }

    /// The failure guard of one window pair: how many failed events its
    /// short window must hold, or `None` without one.
    pub fn guard_failures(&self) -> Option<u64> {
        match (&self.sli, self.min_failures) {
            (Sli::Events { .. }, Some(n)) if n > 0 => Some(n),
            _ => None,
        }
    }

    /// The traffic guard of one window pair: how many events its long
    /// window must hold, or `None` when there is no guard (turned off, or
    /// a raw ratio SLI which has no event counts).
    pub fn guard_events(&self, bw: &BurnWindow) -> Option<u64> {
        if !matches!(self.sli, Sli::Events { .. }) {
            return None;
        }
        match self.min_events {
            Some(0) => None,
            Some(n) => Some(n),
            None => {
                // One failure among n events is a ratio of 1/n; it stays
                // at or under the threshold t once n >= 1/t.
                let t = bw.factor * self.error_budget();
                (t > 0.0).then(|| (1.0 / t).ceil() as u64)
            }
        }
    }
}

/// Moves the decimal point of a percentage's shortest decimal form two
/// places left: 99.95 gives `0.9995`, 99 gives `0.99`.
pub fn percent_to_ratio_text(p: f64) -> String {
    let t = format!("{p}");
    if t.contains('e') || t.starts_with('-') {
        return format!("{}", p / 100.0);
    }
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    let int = format!("{int:0>3}");
    let (hi, lo) = int.split_at(int.len() - 2);
    let hi = hi.trim_start_matches('0');
    let digits = format!("{lo}{frac}");
    let digits = digits.trim_end_matches('0');
    match (hi.is_empty(), digits.is_empty()) {
        (true, true) => "0".into(),
        (true, false) => format!("0.{digits}"),
        (false, true) => hi.into(),
        (false, false) => format!("{hi}.{digits}"),
    }
}

/// Every window the SLI is recorded over, shortest first: the short ones,
/// the long ones and the SLO window (once).
pub fn recorded_windows(window: Window) -> Vec<Window> {
    let mut out: Vec<Window> = SHORT_WINDOWS_MS
        .iter()
        .chain(LONG_WINDOWS_MS.iter())
        .map(|ms| Window::Rolling(*ms))
        .collect();
    if !out.contains(&window) {
        out.push(window);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workbook_factors_for_30_days() {
        let f: Vec<f64> = burn_windows(Window::Rolling(30 * DAY))
            .iter()
            .map(|b| b.factor)
            .collect();
        // 2% of 720h in 1h, 5% in 6h, 10% in 24h, 10% in 72h.
        assert_eq!(f, [14.4, 6.0, 3.0, 1.0]);
    }

    #[test]
    fn factors_scale_with_the_window() {
        let f: Vec<f64> = burn_windows(Window::Rolling(28 * DAY))
            .iter()
            .map(|b| b.factor)
            .collect();
        // 0.02 * 672 = 13.44; 0.05 * 672 / 6 = 5.6; 0.1 * 672 / 24 = 2.8.
        assert!((f[0] - 13.44).abs() < 1e-12);
        assert!((f[1] - 5.6).abs() < 1e-12);
        assert!((f[2] - 2.8).abs() < 1e-12);
        assert!((f[3] - 67.2 / 72.0).abs() < 1e-12);
        let m: Vec<f64> = burn_windows(Window::CalendarMonth)
            .iter()
            .map(|b| b.factor)
            .collect();
        assert_eq!(m, [14.4, 6.0, 3.0, 1.0]);
    }

    #[test]
    fn objective_texts() {
        assert_eq!(percent_to_ratio_text(99.9), "0.999");
        assert_eq!(percent_to_ratio_text(99.95), "0.9995");
        assert_eq!(percent_to_ratio_text(99.0), "0.99");
        assert_eq!(percent_to_ratio_text(5.0), "0.05");
        assert_eq!(percent_to_ratio_text(0.5), "0.005");
        assert_eq!(percent_to_ratio_text(99.999), "0.99999");
    }

    #[test]
    fn window_names() {
        assert_eq!(Window::Rolling(30 * DAY).name(), "30d");
        assert_eq!(Window::Rolling(28 * DAY).name(), "4w");
        assert_eq!(Window::CalendarMonth.name(), "month");
        let w = recorded_windows(Window::Rolling(3 * DAY));
        assert_eq!(w.len(), 7);
        assert_eq!(recorded_windows(Window::Rolling(7 * DAY)).len(), 8);
    }
}
