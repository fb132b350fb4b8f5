//! Sloth's `prometheus/v1` spec, read as Sloth reads it.

use super::{check_alert_name, default_alert_name, merged, pos, texts, Cx, Scalar};
use crate::model::{AlertSpec, Alerting, Sli, Slo};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

type Map = BTreeMap<String, Scalar>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[allow(dead_code)]
    version: String,
    service: Spanned<String>,
    #[serde(default)]
    labels: Option<Spanned<Map>>,
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
    labels: Option<Spanned<Map>>,
    sli: Spanned<RawSli>,
    #[serde(default)]
    alerting: Option<Spanned<RawAlerting>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSli {
    #[serde(default)]
    events: Option<Spanned<RawEvents>>,
    #[serde(default)]
    raw: Option<Spanned<RawRatio>>,
    #[serde(default)]
    plugin: Option<Spanned<serde::de::IgnoredAny>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    error_query: Spanned<String>,
    total_query: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRatio {
    // Sloth's generated API reference spells it errorRatioQuery; files
    // written from it should load too.
    #[serde(alias = "errorRatioQuery")]
    error_ratio_query: Spanned<String>,
}

/// Sloth's `alerting:` block; the short forms take it too.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerting {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    labels: Option<Spanned<Map>>,
    #[serde(default)]
    annotations: Option<Map>,
    #[serde(default)]
    page_alert: Option<Spanned<RawAlert>>,
    #[serde(default)]
    ticket_alert: Option<Spanned<RawAlert>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    #[serde(default)]
    disable: bool,
    #[serde(default)]
    labels: Option<Spanned<Map>>,
    #[serde(default)]
    annotations: Option<Map>,
}

fn labels_of(cx: &mut Cx, m: Option<Spanned<Map>>, field: &str) -> BTreeMap<String, String> {
    let Some(m) = m else {
        return BTreeMap::new();
    };
    let p = pos(&m);
    let t = texts(Some(m.value));
    cx.check_labels(p, field, &t);
    t
}

/// Turns an `alerting:` block into the model; `field` prefixes messages.
pub(crate) fn alerting(
    cx: &mut Cx,
    a: Option<Spanned<RawAlerting>>,
    id: &str,
    field: &str,
) -> Alerting {
    let a = a.map(|a| a.value).unwrap_or_default();
    let name = match &a.name {
        Some(n) => {
            check_alert_name(cx, pos(n), &format!("{field}.name"), &n.value);
            n.value.clone()
        }
        None => default_alert_name(id),
    };
    let mut one = |r: Option<Spanned<RawAlert>>, f: &str| -> AlertSpec {
        match r {
            None => AlertSpec::default(),
            Some(r) => AlertSpec {
                enabled: !r.value.disable,
                labels: labels_of(cx, r.value.labels, &format!("{field}.{f}.labels")),
                annotations: texts(r.value.annotations),
            },
        }
    };
    let page = one(a.page_alert, "page_alert");
    let ticket = one(a.ticket_alert, "ticket_alert");
    Alerting {
        name,
        labels: labels_of(cx, a.labels, &format!("{field}.labels")),
        annotations: texts(a.annotations),
        page,
        ticket,
    }
}

pub(super) fn read(cx: &mut Cx, doc: &str) -> Vec<Slo> {
    let Some(spec) = cx.parse::<RawSpec>(doc) else {
        return Vec::new();
    };
    let service = spec.service.value.clone();
    cx.check_name(pos(&spec.service), "service", &service);
    let svc_labels = labels_of(cx, spec.labels, "labels");
    let mut out = Vec::new();
    for (i, s) in spec.slos.into_iter().enumerate() {
        let at = pos(&s);
        let s = s.value;
        let f = |x: &str| format!("slos[{i}].{x}");
        let name = s.name.value.clone();
        cx.check_name(pos(&s.name), &f("name"), &name);
        cx.check_objective(pos(&s.objective), &f("objective"), s.objective.value);
        let id = format!("{service}-{name}");
        let slo_labels = labels_of(cx, s.labels, &f("labels"));
        let sli = sli(cx, s.sli, &f("sli"));
        let alerting = alerting(cx, s.alerting, &id, &f("alerting"));
        let Some(sli) = sli else { continue };
        out.push(Slo {
            service: service.clone(),
            name,
            id,
            description: s.description.unwrap_or_default(),
            objective: s.objective.value,
            window: cx.default_window(),
            labels: merged(&svc_labels, &slo_labels),
            sli,
            alerting,
            min_events: None,
            min_failures: None,
            spec_format: "prometheus/v1".into(),
            source: cx.at(at),
        });
    }
    out
}

fn sli(cx: &mut Cx, s: Spanned<RawSli>, field: &str) -> Option<Sli> {
    let at = pos(&s);
    let s = s.value;
    let set = [s.events.is_some(), s.raw.is_some(), s.plugin.is_some()];
    if set.iter().filter(|x| **x).count() != 1 {
        cx.err(
            Some(at),
            field,
            "exactly one of events, raw and plugin must be set",
        );
        return None;
    }
    if let Some(p) = s.plugin {
        cx.err(
            Some(pos(&p)),
            &format!("{field}.plugin"),
            "SLI plugins are not supported; write the queries as sli.events or sli.raw",
        );
        return None;
    }
    if let Some(e) = s.events {
        let e = e.value;
        let ok1 = cx.check_query(
            pos(&e.error_query),
            &format!("{field}.events.error_query"),
            &e.error_query.value,
        );
        let ok2 = cx.check_query(
            pos(&e.total_query),
            &format!("{field}.events.total_query"),
            &e.total_query.value,
        );
        return (ok1 && ok2).then_some(Sli::Events {
            error_query: e.error_query.value,
            total_query: e.total_query.value,
            errors_absent_means_zero: true,
        });
    }
    let r = s.raw?.value;
    cx.check_query(
        pos(&r.error_ratio_query),
        &format!("{field}.raw.error_ratio_query"),
        &r.error_ratio_query.value,
    )
    .then_some(Sli::Raw {
        error_ratio_query: r.error_ratio_query.value,
    })
}
