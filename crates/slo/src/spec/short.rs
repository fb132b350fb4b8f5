//! Sightline's short forms (`version: sightline/v1`): the three SLOs most
//! web services want, each in a few lines, turned into event queries.
//!
//! ```yaml
//! version: sightline/v1
//! service: checkout
//! window: 30d                       # default 30d; or "month"
//! slos:
//!   - name: availability
//!     objective: 99.9
//!     availability: {metric: http_requests_total, selector: 'job="checkout"', errors: 'code=~"5.."'}
//!   - name: latency                 # 99% of requests faster than 0.5s
//!     objective: 99
//!     latency: {metric: http_request_duration_seconds, selector: 'job="checkout"', threshold: 0.5}
//!   - name: uptime
//!     objective: 99.95
//!     uptime: {selector: 'job="blackbox", instance="https://shop.example"'}
//! ```

use super::sloth::{alerting, RawAlerting};
use super::{merged, pos, texts, Cx, Scalar};
use crate::model::{Sli, Slo};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sightline_core::duration::parse_prometheus;
use sightline_rules::gofmt::format_shortest_g;
use std::collections::BTreeMap;

const W: &str = "{{.window}}";
const WS: &str = "{{.window_seconds}}";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[allow(dead_code)]
    version: String,
    service: Spanned<String>,
    #[serde(default)]
    labels: Option<Spanned<BTreeMap<String, Scalar>>>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    min_events: Option<u64>,
    #[serde(default)]
    min_failures: Option<u64>,
    #[serde(default)]
    slos: Vec<Spanned<RawSlo>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    name: Spanned<String>,
    objective: Spanned<f64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    window: Option<Spanned<String>>,
    #[serde(default)]
    labels: Option<Spanned<BTreeMap<String, Scalar>>>,
    #[serde(default)]
    min_events: Option<u64>,
    #[serde(default)]
    min_failures: Option<u64>,
    #[serde(default)]
    availability: Option<Spanned<Availability>>,
    #[serde(default)]
    latency: Option<Spanned<Latency>>,
    #[serde(default)]
    uptime: Option<Spanned<Uptime>>,
    #[serde(default)]
    alerting: Option<Spanned<RawAlerting>>,
}

/// Requests counted by a counter, the failed ones picked by a matcher.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Availability {
    metric: String,
    #[serde(default)]
    selector: String,
    errors: String,
}

/// "P% of requests faster than `threshold` seconds" from a histogram.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Latency {
    metric: String,
    #[serde(default)]
    selector: String,
    threshold: Spanned<Scalar>,
}

/// Probe results (1 up, 0 down), blackbox_exporter's `probe_success`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Uptime {
    #[serde(default = "default_probe_metric")]
    metric: String,
    #[serde(default)]
    selector: String,
}

fn default_probe_metric() -> String {
    "probe_success".into()
}

/// `metric{a, b}` from selector parts, skipping empty ones and braces the
/// user may have written around the selector.
fn selector(metric: &str, parts: &[&str]) -> String {
    let inner: Vec<&str> = parts
        .iter()
        .map(|p| {
            p.trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .trim()
        })
        .filter(|p| !p.is_empty())
        .collect();
    format!("{metric}{{{}}}", inner.join(", "))
}

pub(super) fn read(cx: &mut Cx, doc: &str) -> Vec<Slo> {
    let Some(spec) = cx.parse::<RawSpec>(doc) else {
        return Vec::new();
    };
    let service = spec.service.value.clone();
    cx.check_name(pos(&spec.service), "service", &service);
    let svc_labels = match spec.labels {
        Some(l) => {
            let t = texts(Some(l.value.clone()));
            cx.check_labels(pos(&l), "labels", &t);
            t
        }
        None => BTreeMap::new(),
    };
    let default_window = match &spec.window {
        Some(w) => cx.window(pos(w), "window", &w.value),
        None => Some(cx.default_window()),
    };
    let mut out = Vec::new();
    for (i, s) in spec.slos.into_iter().enumerate() {
        let at = pos(&s);
        let s = s.value;
        let f = |x: &str| format!("slos[{i}].{x}");
        let name = s.name.value.clone();
        cx.check_name(pos(&s.name), &f("name"), &name);
        cx.check_objective(pos(&s.objective), &f("objective"), s.objective.value);
        let id = format!("{service}-{name}");
        let window = match &s.window {
            Some(w) => cx.window(pos(w), &f("window"), &w.value),
            None => default_window,
        };
        let labels = match s.labels {
            Some(l) => {
                let t = texts(Some(l.value.clone()));
                cx.check_labels(pos(&l), &f("labels"), &t);
                t
            }
            None => BTreeMap::new(),
        };
        let kinds = [
            s.availability.is_some(),
            s.latency.is_some(),
            s.uptime.is_some(),
        ];
        if kinds.iter().filter(|x| **x).count() != 1 {
            cx.err(
                Some(at),
                &f("availability"),
                "exactly one of availability, latency and uptime must be set",
            );
            continue;
        }
        // Probes are few by design (one a minute is 60 an hour) and a
        // failed probe is no noise, so uptime SLOs go unguarded unless
        // the spec asks for a guard.
        let unguarded = s.uptime.is_some().then_some(0);
        // Instead, one failed probe must not page (issue 12): the short
        // window must hold a few failures first.
        let failures = s
            .uptime
            .is_some()
            .then_some(crate::model::DEFAULT_UPTIME_MIN_FAILURES);
        let sli = if let Some(a) = s.availability {
            let p = pos(&a);
            let a = a.value;
            events(
                cx,
                p,
                &f("availability"),
                format!(
                    "sum(rate({}[{W}]))",
                    selector(&a.metric, &[&a.selector, &a.errors])
                ),
                format!("sum(rate({}[{W}]))", selector(&a.metric, &[&a.selector])),
                true,
            )
        } else if let Some(l) = s.latency {
            let p = pos(&l);
            let l = l.value;
            let le = match threshold(&l.threshold.value) {
                Some(v) => format_shortest_g(v),
                None => {
                    cx.err(
                        Some(pos(&l.threshold)),
                        &f("latency.threshold"),
                        format!(
                            "{:?} is not a number of seconds or a duration (0.5, 500ms)",
                            l.threshold.value.text()
                        ),
                    );
                    continue;
                }
            };
            let count = format!("{}_count", l.metric);
            let bucket = format!("{}_bucket", l.metric);
            let le_matcher = format!("le=\"{le}\"");
            let total = format!("sum(rate({}[{W}]))", selector(&count, &[&l.selector]));
            // Slow requests are all requests minus those in the bucket at
            // the threshold. A threshold that is not a bucket boundary
            // leaves the subtraction empty, the SLI goes missing and the
            // absent alert says so, instead of reporting zero errors.
            let errors = format!(
                "{total} - sum(rate({}[{W}]))",
                selector(&bucket, &[&l.selector, &le_matcher])
            );
            events(cx, p, &f("latency"), errors, total, false)
        } else if let Some(u) = s.uptime {
            let p = pos(&u);
            let u = u.value;
            let sel = selector(&u.metric, &[&u.selector]);
            // Per second, like the rate() of the other forms, so the
            // traffic guard counts probes the same way it counts requests.
            let total = format!("sum(count_over_time({sel}[{W}])) / {WS}");
            let errors = format!(
                "(sum(count_over_time({sel}[{W}])) - sum(sum_over_time({sel}[{W}]))) / {WS}"
            );
            events(cx, p, &f("uptime"), errors, total, false)
        } else {
            None
        };
        let alerting = alerting(cx, s.alerting, &id, &f("alerting"));
        let (Some(sli), Some(window)) = (sli, window) else {
            continue;
        };
        out.push(Slo {
            service: service.clone(),
            name,
            id,
            description: s.description.unwrap_or_default(),
            objective: s.objective.value,
            window,
            labels: merged(&svc_labels, &labels),
            sli,
            alerting,
            min_events: s.min_events.or(spec.min_events).or(unguarded),
            min_failures: s.min_failures.or(spec.min_failures).or(failures),
            spec_format: "sightline/v1".into(),
            source: cx.at(at),
        });
    }
    out
}

fn events(
    cx: &mut Cx,
    p: super::Pos,
    field: &str,
    error_query: String,
    total_query: String,
    errors_absent_means_zero: bool,
) -> Option<Sli> {
    let ok = cx.check_query(p, field, &error_query) && cx.check_query(p, field, &total_query);
    ok.then_some(Sli::Events {
        error_query,
        total_query,
        errors_absent_means_zero,
    })
}

/// Seconds from a number or a duration string.
fn threshold(s: &Scalar) -> Option<f64> {
    match s {
        Scalar::Int(i) if *i > 0 => Some(*i as f64),
        Scalar::Float(f) if *f > 0.0 && f.is_finite() => Some(*f),
        Scalar::Str(t) => match t.parse::<f64>() {
            Ok(f) if f > 0.0 && f.is_finite() => Some(f),
            Ok(_) => None,
            Err(_) => parse_prometheus(t)
                .ok()
                .filter(|ms| *ms > 0)
                .map(|ms| ms as f64 / 1000.0),
        },
        _ => None,
    }
}
