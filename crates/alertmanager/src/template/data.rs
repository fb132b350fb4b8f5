//! The data a notification renders: Alertmanager's `template.Data`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use gotmpl::Value;

use super::gotime;
use crate::alert::{Alert, LabelSet};

/// One alert as templates and webhook payloads see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertData {
    /// `firing` or `resolved`.
    pub status: String,
    pub labels: LabelSet,
    pub annotations: LabelSet,
    pub starts_at: DateTime<Utc>,
    /// Go's zero time while the alert fires: Alertmanager does not show an
    /// end that has not been reached.
    pub ends_at: DateTime<Utc>,
    pub generator_url: String,
    /// The label set's fingerprint as 16 hex digits.
    pub fingerprint: String,
}

/// `.Receiver`, `.Status`, `.Alerts`, `.GroupLabels`, `.CommonLabels`,
/// `.CommonAnnotations`, `.ExternalURL`.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The receiver's name with regexp metacharacters escaped, as
    /// Alertmanager passes it (`regexp.QuoteMeta`).
    pub receiver: String,
    /// `firing` when any alert fires, else `resolved`.
    pub status: String,
    pub alerts: Vec<AlertData>,
    pub group_labels: LabelSet,
    /// Labels every alert has with the same value.
    pub common_labels: LabelSet,
    pub common_annotations: LabelSet,
    pub external_url: String,
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn common(sets: impl Iterator<Item = LabelSet>) -> LabelSet {
    let mut acc: Option<LabelSet> = None;
    for s in sets {
        acc = Some(match acc {
            None => s,
            Some(mut a) => {
                a.retain(|k, v| s.get(k) == Some(v));
                a
            }
        });
    }
    acc.unwrap_or_default()
}

impl Data {
    /// Assembles the data for `alerts` sent to `receiver`; alerts whose end
    /// lies at or before `now` are resolved.
    pub fn new(
        receiver: &str,
        group_labels: &LabelSet,
        alerts: &[Alert],
        external_url: &str,
        now: DateTime<Utc>,
    ) -> Data {
        let alerts_data: Vec<AlertData> = alerts
            .iter()
            .map(|a| {
                let resolved = a.resolved_at(now);
                AlertData {
                    status: if resolved { "resolved" } else { "firing" }.into(),
                    labels: a.labels.clone(),
                    annotations: a.annotations.clone(),
                    starts_at: a.starts_at,
                    ends_at: if resolved {
                        a.ends_at
                    } else {
                        gotime::zero_time()
                    },
                    generator_url: a.generator_url.clone(),
                    fingerprint: format!("{:016x}", a.fingerprint()),
                }
            })
            .collect();
        let firing = alerts_data.iter().any(|a| a.status == "firing");
        Data {
            receiver: quote_meta(receiver),
            status: if firing { "firing" } else { "resolved" }.into(),
            group_labels: group_labels.clone(),
            common_labels: common(alerts.iter().map(|a| a.labels.clone())),
            common_annotations: common(alerts.iter().map(|a| a.annotations.clone())),
            alerts: alerts_data,
            external_url: external_url.to_owned(),
        }
    }

    /// The data as a template value: a map with Go's field names.
    pub fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            m.insert(Arc::<str>::from(k), v);
        };
        put("Receiver", str_value(&self.receiver));
        put("Status", str_value(&self.status));
        put(
            "Alerts",
            Value::List(
                self.alerts
                    .iter()
                    .map(AlertData::to_value)
                    .collect::<Vec<_>>()
                    .into(),
            ),
        );
        put("GroupLabels", kv(&self.group_labels));
        put("CommonLabels", kv(&self.common_labels));
        put("CommonAnnotations", kv(&self.common_annotations));
        put("ExternalURL", str_value(&self.external_url));
        Value::Map(Arc::new(m))
    }
}

impl AlertData {
    /// One alert as a template value (times print as Go's `time.Time` does).
    pub fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            m.insert(Arc::<str>::from(k), v);
        };
        put("Status", str_value(&self.status));
        put("Labels", kv(&self.labels));
        put("Annotations", kv(&self.annotations));
        put("StartsAt", str_value(&gotime::go_string(&self.starts_at)));
        put("EndsAt", str_value(&gotime::go_string(&self.ends_at)));
        put("GeneratorURL", str_value(&self.generator_url));
        put("Fingerprint", str_value(&self.fingerprint));
        Value::Map(Arc::new(m))
    }
}

fn str_value(s: &str) -> Value {
    Value::String(s.into())
}

fn kv(l: &LabelSet) -> Value {
    Value::Map(Arc::new(
        l.iter()
            .map(|(k, v)| (Arc::<str>::from(k.as_str()), str_value(v)))
            .collect(),
    ))
}
