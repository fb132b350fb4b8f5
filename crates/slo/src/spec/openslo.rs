//! OpenSLO v1 `kind: SLO` with an inline ratio indicator over Prometheus
//! queries. Each objective becomes one SLO.

use super::{check_alert_name, default_alert_name, pos, Cx, Scalar};
use crate::model::{Alerting, Sli, Slo, Window};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[allow(dead_code)]
    #[serde(rename = "apiVersion")]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: Spanned<Metadata>,
    spec: Spanned<SloSpec>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Spanned<String>,
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, LabelValue>>,
}

/// OpenSLO label values are a string or a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum LabelValue {
    One(Scalar),
    Many(Vec<Scalar>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SloSpec {
    #[serde(default)]
    description: Option<String>,
    service: Spanned<String>,
    #[serde(default)]
    indicator: Option<Spanned<Indicator>>,
    #[serde(default, rename = "indicatorRef")]
    indicator_ref: Option<Spanned<String>>,
    #[serde(default, rename = "timeWindow")]
    time_window: Vec<Spanned<TimeWindow>>,
    #[serde(default, rename = "budgetingMethod")]
    budgeting_method: Option<Spanned<String>>,
    objectives: Vec<Spanned<Objective>>,
    #[serde(default, rename = "alertPolicies")]
    #[allow(dead_code)]
    alert_policies: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Indicator {
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<IgnoredAny>,
    spec: Spanned<IndicatorSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorSpec {
    #[serde(default, rename = "ratioMetric")]
    ratio_metric: Option<Spanned<RatioMetric>>,
    #[serde(default, rename = "thresholdMetric")]
    threshold_metric: Option<Spanned<IgnoredAny>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatioMetric {
    #[serde(default)]
    #[allow(dead_code)]
    counter: Option<bool>,
    #[serde(default)]
    good: Option<Spanned<MetricHolder>>,
    #[serde(default)]
    bad: Option<Spanned<MetricHolder>>,
    #[serde(default)]
    total: Option<Spanned<MetricHolder>>,
    #[serde(default, rename = "rawType")]
    raw_type: Option<Spanned<String>>,
    #[serde(default)]
    raw: Option<Spanned<MetricHolder>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricHolder {
    #[serde(rename = "metricSource")]
    metric_source: Spanned<MetricSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricSource {
    #[serde(default, rename = "metricSourceRef")]
    #[allow(dead_code)]
    metric_source_ref: Option<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    spec: Spanned<BTreeMap<String, Scalar>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeWindow {
    duration: Spanned<String>,
    #[serde(default, rename = "isRolling")]
    is_rolling: Option<bool>,
    #[serde(default)]
    calendar: Option<Spanned<Calendar>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Calendar {
    #[serde(default, rename = "startTime")]
    #[allow(dead_code)]
    start_time: Option<String>,
    #[serde(default, rename = "timeZone")]
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Objective {
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    #[serde(default)]
    target: Option<Spanned<f64>>,
    #[serde(default, rename = "targetPercent")]
    target_percent: Option<Spanned<f64>>,
    #[serde(default)]
    #[allow(dead_code)]
    op: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    value: Option<IgnoredAny>,
}

pub(super) fn read(cx: &mut Cx, doc: &str) -> Vec<Slo> {
    let Some(raw) = cx.parse::<RawSpec>(doc) else {
        return Vec::new();
    };
    let at = pos(&raw.metadata);
    let meta = raw.metadata.value;
    let spec_at = pos(&raw.spec);
    let spec = raw.spec.value;
    let name = meta.name.value.clone();
    cx.check_name(pos(&meta.name), "metadata.name", &name);
    let service = spec.service.value.clone();
    cx.check_name(pos(&spec.service), "spec.service", &service);
    let mut labels: BTreeMap<String, String> = meta
        .labels
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                LabelValue::One(s) => s.text(),
                LabelValue::Many(v) => v.iter().map(Scalar::text).collect::<Vec<_>>().join(","),
            };
            (k, v)
        })
        .collect();
    labels.retain(|_, v| !v.is_empty());
    cx.check_labels(at, "metadata.labels", &labels);
    if let Some(m) = &spec.budgeting_method {
        if m.value != "Occurrences" {
            cx.err(
                Some(pos(m)),
                "spec.budgetingMethod",
                format!("only Occurrences is supported, not {:?}", m.value),
            );
        }
    }
    let window = match spec.time_window.as_slice() {
        [] => Some(cx.default_window()),
        [w] => time_window(cx, w),
        [_, second, ..] => {
            cx.err(
                Some(pos(second)),
                "spec.timeWindow",
                "only one time window is supported",
            );
            None
        }
    };
    if let Some(r) = &spec.indicator_ref {
        cx.err(
            Some(pos(r)),
            "spec.indicatorRef",
            "indicator references are not resolved; write the SLI inline under spec.indicator",
        );
        return Vec::new();
    }
    let Some(ind) = spec.indicator else {
        cx.err(Some(spec_at), "spec.indicator", "missing indicator");
        return Vec::new();
    };
    let sli = indicator(cx, ind.value.spec);
    let multi = spec.objectives.len() > 1;
    let mut out = Vec::new();
    for (i, o) in spec.objectives.into_iter().enumerate() {
        let op = pos(&o);
        let o = o.value;
        let f = format!("spec.objectives[{i}]");
        let objective = match (&o.target, &o.target_percent) {
            (Some(t), None) => {
                cx.check_objective(pos(t), &format!("{f}.target"), t.value * 100.0);
                t.value * 100.0
            }
            (None, Some(t)) => {
                cx.check_objective(pos(t), &format!("{f}.targetPercent"), t.value);
                t.value
            }
            _ => {
                cx.err(
                    Some(op),
                    &f,
                    "exactly one of target and targetPercent must be set",
                );
                continue;
            }
        };
        let slo_name = if multi {
            let suffix = o
                .display_name
                .as_deref()
                .map(|d| {
                    d.chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() {
                                c.to_ascii_lowercase()
                            } else {
                                '-'
                            }
                        })
                        .collect::<String>()
                })
                .filter(|d| !d.trim_matches('-').is_empty())
                .unwrap_or_else(|| i.to_string());
            format!("{name}-{}", suffix.trim_matches('-'))
        } else {
            name.clone()
        };
        let id = format!("{service}-{slo_name}");
        let alert_name = default_alert_name(&id);
        check_alert_name(cx, op, &f, &alert_name);
        let (Some(sli), Some(window)) = (sli.clone(), window) else {
            continue;
        };
        out.push(Slo {
            service: service.clone(),
            name: slo_name,
            id,
            description: spec
                .description
                .clone()
                .or_else(|| meta.display_name.clone())
                .unwrap_or_default(),
            objective,
            window,
            labels: labels.clone(),
            sli,
            alerting: Alerting {
                name: alert_name,
                ..Alerting::default()
            },
            min_events: None,
            min_failures: None,
            spec_format: "openslo/v1".into(),
            source: cx.at(at),
        });
    }
    out
}

fn time_window(cx: &mut Cx, w: &Spanned<TimeWindow>) -> Option<Window> {
    let d = &w.value.duration;
    let rolling = w.value.is_rolling.unwrap_or(w.value.calendar.is_none());
    if rolling {
        if d.value.ends_with('M') || d.value.ends_with('Q') || d.value.ends_with('Y') {
            cx.err(
                Some(pos(d)),
                "spec.timeWindow[0].duration",
                format!(
                    "a rolling {:?} has no fixed length; use days (30d) or a calendar window",
                    d.value
                ),
            );
            return None;
        }
        return cx.window(pos(d), "spec.timeWindow[0].duration", &d.value);
    }
    if let Some(c) = &w.value.calendar {
        if let Some(tz) = &c.value.time_zone {
            if tz != "UTC" && tz != "Etc/UTC" {
                cx.err(
                    Some(pos(c)),
                    "spec.timeWindow[0].calendar.timeZone",
                    format!("calendar windows are UTC months; {tz:?} is not supported"),
                );
                return None;
            }
        }
    }
    if d.value != "1M" {
        cx.err(
            Some(pos(d)),
            "spec.timeWindow[0].duration",
            format!("calendar windows must be one month (1M), not {:?}", d.value),
        );
        return None;
    }
    Some(Window::CalendarMonth)
}

fn query(cx: &mut Cx, h: &Spanned<MetricHolder>, field: &str) -> Option<String> {
    let src = &h.value.metric_source;
    if !src.value.kind.value.eq_ignore_ascii_case("prometheus") {
        cx.err(
            Some(pos(&src.value.kind)),
            &format!("{field}.metricSource.type"),
            format!(
                "only Prometheus metric sources are supported, not {:?}",
                src.value.kind.value
            ),
        );
        return None;
    }
    let Some(q) = src.value.spec.value.get("query") else {
        cx.err(
            Some(pos(&src.value.spec)),
            &format!("{field}.metricSource.spec"),
            "missing query",
        );
        return None;
    };
    let q = q.text();
    cx.check_query(
        pos(&src.value.spec),
        &format!("{field}.metricSource.spec.query"),
        &q,
    )
    .then_some(q)
}

fn indicator(cx: &mut Cx, s: Spanned<IndicatorSpec>) -> Option<Sli> {
    let base = "spec.indicator.spec";
    if let Some(t) = &s.value.threshold_metric {
        cx.err(
            Some(pos(t)),
            &format!("{base}.thresholdMetric"),
            "threshold metrics need time slices, which are not supported; use ratioMetric",
        );
        return None;
    }
    let Some(r) = s.value.ratio_metric else {
        cx.err(Some(pos(&s)), base, "missing ratioMetric");
        return None;
    };
    let rp = pos(&r);
    let r = r.value;
    let f = format!("{base}.ratioMetric");
    if let Some(raw) = &r.raw {
        let q = query(cx, raw, &format!("{f}.raw"))?;
        let failure = match &r.raw_type {
            Some(t) if t.value == "success" => false,
            Some(t) if t.value == "failure" => true,
            Some(t) => {
                cx.err(
                    Some(pos(t)),
                    &format!("{f}.rawType"),
                    "must be success or failure",
                );
                return None;
            }
            None => true,
        };
        let error_ratio_query = if failure { q } else { format!("1 - ({q})") };
        return Some(Sli::Raw { error_ratio_query });
    }
    let Some(total) = &r.total else {
        cx.err(Some(rp), &f, "missing total");
        return None;
    };
    let total = query(cx, total, &format!("{f}.total"))?;
    match (&r.good, &r.bad) {
        (Some(g), None) => {
            let good = query(cx, g, &format!("{f}.good"))?;
            // No good series at all means no good events, so every event
            // counts as bad rather than the SLI going missing.
            Some(Sli::Events {
                error_query: format!("({total}) - (({good}) or (0 * ({total})))"),
                total_query: total,
                errors_absent_means_zero: false,
            })
        }
        (None, Some(b)) => Some(Sli::Events {
            error_query: query(cx, b, &format!("{f}.bad"))?,
            total_query: total,
            errors_absent_means_zero: true,
        }),
        _ => {
            cx.err(Some(rp), &f, "exactly one of good and bad must be set");
            None
        }
    }
}
