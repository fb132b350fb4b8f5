//! Alerting rules: Prometheus's state machine (inactive → pending → firing
//! → resolved), `for`, `keep_firing_for`, `limit`, the `ALERTS` and
//! `ALERTS_FOR_STATE` samples, and which alerts need (re)sending.

use crate::file::RuleSpec;
use crate::template::{alert_data, expand_alert, expr_link, TemplateEnv};
use serde::Serialize;
use sightline_core::{Labels, METRIC_NAME};
use std::collections::{BTreeMap, HashMap};

/// How long a resolved alert is kept so that it is sent as resolved.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertState {
    /// Resolved (kept for sending) or never active.
    Inactive,
    /// Active, waiting out `for`.
    Pending,
    /// Active for at least `for`.
    Firing,
}

impl AlertState {
    /// `inactive`, `pending` or `firing`, as in the API and `alertstate`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

impl Serialize for AlertState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One alert instance of a rule. Times are ms since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The alert's labels (series labels without `__name__`, rule labels, `alertname`).
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// Current state.
    pub state: AlertState,
    /// The expression's value at the last evaluation that returned it.
    pub value: f64,
    /// When it became active (pending).
    pub active_at: i64,
    /// When it started firing.
    pub fired_at: Option<i64>,
    /// When it was resolved.
    pub resolved_at: Option<i64>,
    /// When it was last handed out for sending.
    pub last_sent_at: Option<i64>,
    /// `endsAt` to send while firing.
    pub valid_until: i64,
    /// Since when `keep_firing_for` has kept it firing.
    pub keep_firing_since: Option<i64>,
}

/// An alert as it goes to an Alertmanager (API v2 `postableAlert`).
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingAlert {
    /// Labels (external labels are added by whoever sends).
    pub labels: Labels,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// `startsAt` in ms.
    pub starts_at: i64,
    /// `endsAt` in ms.
    pub ends_at: i64,
    /// Link back to the expression.
    pub generator_url: String,
}

/// An alerting rule and its alerts.
#[derive(Debug, Clone)]
pub struct AlertingRule {
    /// The rule as written, group labels merged in.
    pub spec: RuleSpec,
    /// Active (and recently resolved) alerts by label set.
    pub active: HashMap<Labels, Alert>,
    /// False until `for` state was restored; no `ALERTS` written until then.
    pub restored: bool,
}

/// The series an evaluation writes: labels, value.
pub(crate) type Out = Vec<(Labels, f64)>;

impl AlertingRule {
    /// A rule with no alerts yet.
    pub fn new(spec: RuleSpec) -> Self {
        AlertingRule {
            spec,
            active: HashMap::new(),
            restored: false,
        }
    }

    /// Applies one evaluation's query result at `ts`, returning the
    /// `ALERTS`/`ALERTS_FOR_STATE` samples to write (at `ts - offset`).
    pub(crate) fn apply(
        &mut self,
        res: Vec<(Labels, f64)>,
        ts: i64,
        limit: usize,
        external: &Labels,
        env: &TemplateEnv,
    ) -> Result<Out, String> {
        let tname = format!("__alert_{}", self.spec.name);
        let mut fresh: HashMap<Labels, Alert> = HashMap::new();
        for (lset, v) in res {
            let data = alert_data(&lset, external, &env.external_url, v);
            let mut b = lset.to_builder();
            b.del(METRIC_NAME);
            for (k, t) in &self.spec.labels {
                b.set(k.clone(), expand_alert(&tname, t, &data, env));
            }
            b.set("alertname", self.spec.name.clone());
            let annotations: BTreeMap<String, String> = self
                .spec
                .annotations
                .iter()
                .map(|(k, t)| (k.clone(), expand_alert(&tname, t, &data, env)))
                .collect();
            let labels = b.into_labels();
            if fresh.contains_key(&labels) {
                return Err(
                    "vector contains metrics with the same labelset after applying alert labels"
                        .into(),
                );
            }
            fresh.insert(
                labels.clone(),
                Alert {
                    labels,
                    annotations,
                    state: AlertState::Pending,
                    value: v,
                    active_at: ts,
                    fired_at: None,
                    resolved_at: None,
                    last_sent_at: None,
                    valid_until: 0,
                    keep_firing_since: None,
                },
            );
        }
        for (k, a) in fresh.iter() {
            match self.active.get_mut(k) {
                Some(old) if old.state != AlertState::Inactive => {
                    old.value = a.value;
                    old.annotations = a.annotations.clone();
                }
                _ => {
                    self.active.insert(k.clone(), a.clone());
                }
            }
        }
        let mut out = Vec::new();
        let mut num_active = 0;
        let keep_for = self.spec.keep_firing_for_ms;
        let hold = self.spec.for_ms;
        // In label order, moved out and back rather than cloning every
        // key to sort it.
        let mut entries: Vec<(Labels, Alert, bool)> =
            self.active.drain().map(|(k, a)| (k, a, false)).collect();
        entries.sort_unstable_by(|x, y| x.0.cmp(&y.0));
        for (k, a, removed) in &mut entries {
            if !fresh.contains_key(k) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && keep_for > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = ts - since < keep_for;
                }
                if a.state == AlertState::Pending
                    || a.resolved_at
                        .is_some_and(|r| ts - r > RESOLVED_RETENTION_MS)
                {
                    *removed = true;
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            } else {
                a.keep_firing_since = None;
            }
            num_active += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= hold {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
            if self.restored {
                let mut b = a.labels.to_builder();
                b.set(METRIC_NAME, "ALERTS");
                b.set("alertstate", a.state.as_str());
                out.push((b.into_labels(), 1.0));
                let mut b = a.labels.to_builder();
                b.set(METRIC_NAME, "ALERTS_FOR_STATE");
                out.push((b.into_labels(), (a.active_at.div_euclid(1000)) as f64));
            }
        }
        self.active = entries
            .into_iter()
            .filter(|(_, _, removed)| !removed)
            .map(|(k, a, _)| (k, a))
            .collect();
        if limit > 0 && num_active > limit {
            self.active.clear();
            return Err(format!(
                "exceeded limit of {limit} with {num_active} alerts"
            ));
        }
        Ok(out)
    }

    /// Alerts due for (re)sending at `ts`, marking them sent, as
    /// Prometheus's `sendAlerts`: firing alerts every `resend_delay`, a
    /// resolved one once more after it resolved; `endsAt` is the resolution
    /// time or `ts + 4 * max(interval, resend_delay)`.
    pub(crate) fn alerts_to_send(
        &mut self,
        ts: i64,
        resend_delay: i64,
        interval: i64,
        external_url: &str,
    ) -> Vec<OutgoingAlert> {
        let mut out = Vec::new();
        // Pending alerts are never sent: with only those, nothing is due.
        if self.active.values().all(|a| a.state == AlertState::Pending) {
            return out;
        }
        let url = format!("{external_url}{}", expr_link(&self.spec.expr, 1));
        let mut keys: Vec<Labels> = self.active.keys().cloned().collect();
        keys.sort();
        for k in keys {
            let Some(a) = self.active.get_mut(&k) else {
                continue;
            };
            if a.state == AlertState::Pending {
                continue;
            }
            let due = match (a.resolved_at, a.last_sent_at) {
                (Some(r), Some(s)) if r > s => true,
                (Some(_), None) => true,
                (_, Some(s)) => s + resend_delay < ts,
                (None, None) => true,
            };
            if !due {
                continue;
            }
            a.last_sent_at = Some(ts);
            a.valid_until = ts + 4 * interval.max(resend_delay);
            out.push(OutgoingAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: a.fired_at.unwrap_or(a.active_at),
                ends_at: a.resolved_at.unwrap_or(a.valid_until),
                generator_url: url.clone(),
            });
        }
        out
    }

    /// The rule's state: the highest of its alerts'.
    pub fn state(&self) -> AlertState {
        self.active
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }

    /// Pending and firing alerts (not the resolved ones kept for sending),
    /// sorted by labels.
    pub fn active_alerts(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self
            .active
            .values()
            .filter(|a| a.resolved_at.is_none())
            .collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v
    }
}
