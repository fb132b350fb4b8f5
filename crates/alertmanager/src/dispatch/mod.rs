//! The dispatcher: Alertmanager's grouping and notification timing.
//!
//! Every alert the store takes is routed through the route tree; each
//! matching route puts it into the aggregation group named by the route's
//! key and the alert's `group_by` labels ([`group::AggrGroup`]). A group's
//! task flushes it `group_wait` after the group was created and then every
//! `group_interval`; a flush runs the notification pipeline of
//! [`flush`]. A config reload stops the dispatcher and starts a new one over
//! the same store, as Alertmanager does: groups are rebuilt from the alerts,
//! and the notification log (which outlives both) keeps the new groups from
//! repeating what the old ones sent.

mod flush;
pub mod group;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::alert::{Alert, LabelSet};
use crate::history::History;
use crate::marker::Marker;
use crate::nflog::Nflog;
use crate::notify::Notifier;
use crate::silence::Silences;
use crate::store::AlertStore;

use group::AggrGroup;
pub use group::{alert_order, GroupOpts};

/// How often empty groups are removed (Alertmanager's maintenance interval).
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);

/// Where "now" comes from.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system's wall clock.
    System,
    /// Wall time advanced by tokio's clock from a fixed start, so tests that
    /// pause and advance tokio's time see alert timestamps move with it.
    Tokio {
        wall: DateTime<Utc>,
        at: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock reading `wall` now and following tokio's time from here.
    pub fn tokio_from(wall: DateTime<Utc>) -> Clock {
        Clock::Tokio {
            wall,
            at: tokio::time::Instant::now(),
        }
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { wall, at } => {
                let d = chrono::Duration::from_std(at.elapsed()).unwrap_or(chrono::Duration::MAX);
                *wall + d
            }
        }
    }
}

/// What outlives a config: state the dispatcher reads and writes.
#[derive(Debug)]
pub struct Deps {
    pub store: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub marker: Arc<Marker>,
    pub nflog: Arc<Nflog>,
    pub history: Arc<History>,
    pub clock: Clock,
    /// `--web.external-url`, passed to notifiers.
    pub external_url: String,
    /// Notification counters for self-metrics.
    pub counters: NotifyCounters,
    /// Incident records opened by firing groups, when they are on.
    pub incidents: Option<Arc<crate::incident::Incidents>>,
}

/// Alertmanager's notification counters, by integration kind: notifications
/// (one per flush that had something to send) and the failed ones, send
/// requests (one per attempt) and the failed ones. Served as
/// `sightline_alertmanager_notifications_total{integration}` and friends.
#[derive(Debug, Default)]
pub struct NotifyCounters {
    by_kind: Mutex<std::collections::BTreeMap<String, NotifyCounts>>,
}

/// The counters of one integration kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyCounts {
    pub notifications: u64,
    pub notifications_failed: u64,
    pub requests: u64,
    pub requests_failed: u64,
}

impl NotifyCounters {
    pub(crate) fn add(&self, kind: &str, f: impl FnOnce(&mut NotifyCounts)) {
        let mut m = self.by_kind.lock().expect("counters lock");
        f(m.entry(kind.to_string()).or_default());
    }

    /// A copy of every kind's counts.
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, NotifyCounts> {
        self.by_kind.lock().expect("counters lock").clone()
    }
}

/// What one config decides: the route tree, inhibition, time intervals
/// and the receivers' integrations.
pub struct Pipeline {
    pub route: crate::route::Route,
    pub inhibitor: crate::inhibit::Inhibitor,
    /// `time_intervals` and `mute_time_intervals` by name.
    pub time_intervals: HashMap<String, crate::timeinterval::NamedTimeInterval>,
    /// Each receiver's integrations, by receiver name.
    pub receivers: HashMap<String, Vec<Arc<dyn Notifier>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("receivers", &self.receivers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Builds the route tree, inhibitor and time intervals of `config`;
    /// `receivers` holds each receiver's integrations.
    pub fn new(
        config: &crate::config::Config,
        receivers: HashMap<String, Vec<Arc<dyn Notifier>>>,
    ) -> crate::Result<Pipeline> {
        let route = crate::route::Route::new(&config.route);
        let inhibitor = crate::inhibit::Inhibitor::new(&config.inhibit_rules);
        let time_intervals = config
            .time_intervals
            .iter()
            .chain(&config.mute_time_intervals)
            .map(|ti| (ti.name.clone(), ti.clone()))
            .collect();
        Ok(Pipeline {
            route,
            inhibitor,
            time_intervals,
            receivers,
        })
    }

    /// The alerts that may inhibit others: the whole store, in fingerprint
    /// order so the first inhibiting alert named is stable; nothing when the
    /// config has no inhibit rules.
    pub(crate) fn inhibition_sources(&self, store: &AlertStore) -> Vec<Alert> {
        if self.inhibitor.rules().is_empty() {
            return Vec::new();
        }
        let mut v = store.list();
        v.sort_by_key(Alert::fingerprint);
        v
    }

    /// The inhibiting alert's fingerprint (hex) when one of `sources`
    /// inhibits an alert with `labels`, as the marker records it.
    pub(crate) fn inhibited_by(
        &self,
        sources: &[&Alert],
        labels: &LabelSet,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        self.inhibitor
            .inhibited_by(labels, sources, now)
            .map(|fp| vec![format!("{fp:016x}")])
            .unwrap_or_default()
    }

    /// With `active_time_intervals`, notifications go out only inside one of them.
    pub(crate) fn time_active(&self, names: &[String], now: DateTime<Utc>) -> bool {
        names.is_empty() || self.time_muted(names, now)
    }

    /// Whether one of the named intervals contains `now`.
    pub(crate) fn time_muted(&self, names: &[String], now: DateTime<Utc>) -> bool {
        names.iter().any(|n| {
            self.time_intervals
                .get(n)
                .is_some_and(|ti| ti.contains(now))
        })
    }
}

/// What a group takes from its route.
fn route_opts(route: &crate::route::Route) -> GroupOpts {
    GroupOpts {
        route_key: route.key(),
        receiver: route.receiver.clone(),
        group_wait: route.group_wait,
        group_interval: route.group_interval,
        repeat_interval: route.repeat_interval,
        mute_time_intervals: route.mute_time_intervals.clone(),
        active_time_intervals: route.active_time_intervals.clone(),
    }
}

/// One aggregation group as the API lists it.
#[derive(Debug, Clone)]
pub struct GroupSnapshot {
    pub labels: LabelSet,
    pub receiver: String,
    pub route_key: String,
    pub group_key: String,
    /// In Alertmanager's order ([`alert_order`]).
    pub alerts: Vec<Alert>,
}

type Groups = Arc<Mutex<HashMap<String, (Arc<AggrGroup>, JoinHandle<()>)>>>;

/// A running dispatcher.
#[derive(Debug)]
pub struct Dispatcher {
    groups: Groups,
    tasks: Vec<JoinHandle<()>>,
}

impl Dispatcher {
    /// Starts routing the store's alerts (those held now, then every new
    /// one) on the current tokio runtime.
    pub fn start(deps: Arc<Deps>, pipeline: Arc<Pipeline>) -> Dispatcher {
        let groups: Groups = Arc::default();
        let router = tokio::spawn(route_loop(
            Arc::clone(&deps),
            Arc::clone(&pipeline),
            Arc::clone(&groups),
        ));
        let maintenance = tokio::spawn(maintenance_loop(Arc::clone(&groups)));
        Dispatcher {
            groups,
            tasks: vec![router, maintenance],
        }
    }

    /// The current aggregation groups, sorted by group key.
    pub fn groups(&self) -> Vec<GroupSnapshot> {
        let groups = self.groups.lock().expect("groups lock");
        let mut out: Vec<GroupSnapshot> = groups
            .values()
            .map(|(g, _)| GroupSnapshot {
                labels: g.labels.clone(),
                receiver: g.opts.receiver.clone(),
                route_key: g.opts.route_key.clone(),
                group_key: g.key.clone(),
                alerts: g.alerts(),
            })
            .filter(|g| !g.alerts.is_empty())
            .collect();
        out.sort_by(|a, b| a.group_key.cmp(&b.group_key));
        out
    }

    /// Stops routing and every group's task (a flush in progress is cut off;
    /// what it already sent is in the notification log).
    pub fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        for (_, (_, task)) in self.groups.lock().expect("groups lock").drain() {
            task.abort();
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn route_loop(deps: Arc<Deps>, pipeline: Arc<Pipeline>, groups: Groups) {
    let (snapshot, mut rx) = deps.store.subscribe();
    for a in snapshot {
        route_alert(&deps, &pipeline, &groups, a);
    }
    loop {
        match rx.recv().await {
            Ok(a) => route_alert(&deps, &pipeline, &groups, a),
            Err(RecvError::Lagged(n)) => {
                // Missed alerts: take the whole store again; re-inserting an
                // alert a group already holds changes nothing.
                tracing::warn!("dispatcher lagged {n} alerts behind; resynchronising");
                let (snapshot, new_rx) = deps.store.subscribe();
                rx = new_rx;
                for a in snapshot {
                    route_alert(&deps, &pipeline, &groups, a);
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

fn route_alert(deps: &Arc<Deps>, pipeline: &Arc<Pipeline>, groups: &Groups, alert: Alert) {
    let now = deps.clock.now();
    let mut groups = groups.lock().expect("groups lock");
    for route in pipeline.route.match_labels(&alert.labels) {
        let opts = route_opts(route);
        let labels = route.group_labels(&alert.labels);
        let key = route.group_key(&labels);
        let (g, _) = groups.entry(key.clone()).or_insert_with(|| {
            let g = Arc::new(AggrGroup::new(labels, key, opts));
            let task = tokio::spawn(group_loop(
                Arc::clone(&g),
                Arc::clone(deps),
                Arc::clone(pipeline),
            ));
            (g, task)
        });
        g.insert(alert.clone(), now);
    }
}

async fn group_loop(g: Arc<AggrGroup>, deps: Arc<Deps>, pipeline: Arc<Pipeline>) {
    loop {
        g.wait_for_flush().await;
        flush::flush(&g, &deps, &pipeline).await;
    }
}

async fn maintenance_loop(groups: Groups) {
    let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // Under the groups lock, so no alert is routed into a group while it
        // is being removed.
        let mut groups = groups.lock().expect("groups lock");
        groups.retain(|_, (g, task)| {
            let keep = !g.is_empty();
            if !keep {
                task.abort();
            }
            keep
        });
    }
}

#[cfg(test)]
pub(crate) mod tests;
