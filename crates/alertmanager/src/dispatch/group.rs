//! One aggregation group: the alerts one route collected under one set of
//! group labels, and the task that flushes them after `group_wait` and then
//! every `group_interval`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::alert::{Alert, LabelSet};

/// What a group takes from its route.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupOpts {
    /// The route's key (`{}/{env="prod"}`).
    pub route_key: String,
    pub receiver: String,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
}

/// An aggregation group.
#[derive(Debug)]
pub(crate) struct AggrGroup {
    pub(crate) labels: LabelSet,
    /// `<route key>:<group labels>`, as Alertmanager prints it.
    pub(crate) key: String,
    pub(crate) opts: GroupOpts,
    pub(crate) state: Mutex<GroupState>,
    /// Wakes the group's task when its next flush moved earlier.
    pub(crate) wake: Notify,
}

#[derive(Debug)]
pub(crate) struct GroupState {
    pub(crate) alerts: HashMap<u64, Alert>,
    pub(crate) next_flush: Instant,
    pub(crate) has_flushed: bool,
}

impl AggrGroup {
    pub(crate) fn new(labels: LabelSet, key: String, opts: GroupOpts) -> AggrGroup {
        let next_flush = Instant::now() + opts.group_wait;
        AggrGroup {
            labels,
            key,
            opts,
            state: Mutex::new(GroupState {
                alerts: HashMap::new(),
                next_flush,
                has_flushed: false,
            }),
            wake: Notify::new(),
        }
    }

    /// Adds or replaces an alert. An alert that started longer than
    /// `group_wait` ago (Prometheus re-sending after a restart of ours, or a
    /// config reload rebuilding the groups) does not wait again: the first
    /// flush happens at once.
    pub(crate) fn insert(&self, alert: Alert, now: chrono::DateTime<chrono::Utc>) {
        let wait =
            chrono::Duration::from_std(self.opts.group_wait).unwrap_or(chrono::Duration::MAX);
        let overdue = alert
            .starts_at
            .checked_add_signed(wait)
            .is_some_and(|t| t < now);
        let mut st = self.state.lock().expect("group lock");
        st.alerts.insert(alert.fingerprint(), alert);
        if !st.has_flushed && overdue {
            st.next_flush = Instant::now();
            drop(st);
            self.wake.notify_one();
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.state.lock().expect("group lock").alerts.is_empty()
    }

    /// The group's alerts in Alertmanager's order (see [`alert_order`]).
    pub(crate) fn alerts(&self) -> Vec<Alert> {
        let mut v: Vec<Alert> = self
            .state
            .lock()
            .expect("group lock")
            .alerts
            .values()
            .cloned()
            .collect();
        v.sort_by(alert_order);
        v
    }

    /// Drops the resolved alerts a successful notification reported, unless
    /// they changed meanwhile (an alert that fired again during the flush
    /// must stay).
    pub(crate) fn delete_if_not_modified(&self, sent: &[Alert]) {
        let mut st = self.state.lock().expect("group lock");
        for a in sent {
            let fp = a.fingerprint();
            if st
                .alerts
                .get(&fp)
                .is_some_and(|cur| cur.updated_at == a.updated_at)
            {
                st.alerts.remove(&fp);
            }
        }
    }

    /// Waits until the next flush is due and schedules the one after it,
    /// `group_interval` later (from when this flush was due, not from when
    /// it ends, so a slow receiver does not shift the schedule).
    pub(crate) async fn wait_for_flush(&self) {
        loop {
            let next = self.state.lock().expect("group lock").next_flush;
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = self.wake.notified() => continue,
            }
            let mut st = self.state.lock().expect("group lock");
            if Instant::now() < st.next_flush {
                continue;
            }
            st.next_flush = Instant::now() + self.opts.group_interval;
            st.has_flushed = true;
            return;
        }
    }
}

/// Alertmanager's `AlertSlice` order: by `job`, then `instance` (an alert
/// with the label sorts before one without), then by label set, where a
/// smaller set sorts first and equal sizes compare value by value over the
/// union of names.
pub fn alert_order(a: &Alert, b: &Alert) -> Ordering {
    for key in ["job", "instance"] {
        match (a.labels.get(key), b.labels.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    labelset_order(&a.labels, &b.labels)
}

pub(crate) fn labelset_order(a: &LabelSet, b: &LabelSet) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    for n in names {
        match (a.get(n), b.get(n)) {
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::label_set_string;

    fn ls(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn alert(pairs: &[(&str, &str)]) -> Alert {
        let t = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Alert {
            labels: ls(pairs),
            annotations: LabelSet::new(),
            starts_at: t,
            ends_at: t,
            generator_url: String::new(),
            updated_at: t,
            timeout: false,
        }
    }

    #[test]
    fn order_is_job_instance_then_labels() {
        let mut v = [
            alert(&[("a", "2")]),
            alert(&[("job", "b")]),
            alert(&[("a", "1"), ("z", "0")]),
            alert(&[("job", "a"), ("instance", "y")]),
            alert(&[("job", "a"), ("instance", "x")]),
            alert(&[("a", "1")]),
        ];
        v.sort_by(alert_order);
        let got: Vec<String> = v.iter().map(|a| label_set_string(&a.labels)).collect();
        assert_eq!(
            got,
            vec![
                r#"{instance="x", job="a"}"#,
                r#"{instance="y", job="a"}"#,
                r#"{job="b"}"#,
                r#"{a="1"}"#,
                r#"{a="2"}"#,
                r#"{a="1", z="0"}"#,
            ]
        );
    }
}
