//! The [`Alertmanager`] facade: what the HTTP API (Alertmanager's API v2)
//! and the server call. It owns the alert store, silences, marker,
//! notification log and history, and the dispatcher of the current config,
//! and runs the periodic garbage collection.

mod telemetry;
mod views;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use regex::Regex;
use tokio::task::JoinHandle;

use crate::alert::{Alert, LabelSet};
use crate::config::Config;
use crate::dispatch::{
    alert_order, Clock, Deps, Dispatcher, NotifyCounters, NotifyCounts, Pipeline,
};
use crate::history::{self, Attempt, History, HistoryFilter};
use crate::marker::{AlertState, Marker};
use crate::matcher::{Matcher, Matchers};
use crate::nflog::Nflog;
use crate::notify::Notifier;
use crate::silence::{self, filter_labels_match, Silence, SilenceQuery, SilenceState, Silences};
use crate::store::AlertStore;
use crate::{Error, Result};

pub use views::{
    api_time, AlertFilter, AlertView, ClusterStatus, ConfigView, GroupView, PostableAlert,
    ReceiverName, SilenceInput, SilenceStatusView, SilenceView, StatusView, VersionInfo,
};

/// The Alertmanager release whose API v2 we answer as (`versionInfo.version`).
pub const ALERTMANAGER_API_VERSION: &str = "0.25.0";

/// How often resolved alerts leave the store (Alertmanager's `--alerts.gc-interval`).
const ALERT_GC_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// How often expired silences, nflog entries and old history are dropped
/// (Alertmanager's maintenance interval).
const STATE_GC_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// A config [`Alertmanager::prepare_config`] checked: its pipeline is
/// built, so putting it in force cannot fail.
pub struct PreparedConfig {
    config: Config,
    pipeline: Arc<Pipeline>,
}

/// The handle [`Alertmanager::start_in`] returns.
struct RunningAlertmanager(Arc<Alertmanager>);

impl sightline_core::lifecycle::Running for RunningAlertmanager {
    fn name(&self) -> &'static str {
        "alertmanager"
    }

    fn stop(self: Box<Self>) -> sightline_core::lifecycle::StopFuture {
        Box::pin(async move {
            if let Err(e) = self.0.shutdown() {
                tracing::error!(error = %e, "stopping the Alertmanager");
            }
        })
    }
}

/// Where state lives and what the Alertmanager is called from outside.
#[derive(Debug, Clone)]
pub struct AlertmanagerOptions {
    /// Directory of `silences.json`, `nflog.jsonl`, `history.jsonl`.
    pub data_dir: PathBuf,
    /// `--web.external-url`: links in notifications point here.
    pub external_url: String,
    /// Directory relative template paths resolve against (the config file's).
    pub config_base_dir: PathBuf,
    /// How long notification attempts are kept (default 30 days).
    pub history_retention: Duration,
    /// How long expired silences and notification log entries are kept
    /// (Alertmanager's `--data.retention`, default 120 h).
    pub silence_retention: Duration,
    /// Incident records (`None`: off). Relative runbook folders resolve
    /// against `config_base_dir`.
    pub incidents: Option<crate::incident::IncidentsConfig>,
}

impl AlertmanagerOptions {
    /// Options with the default retentions and an empty external URL.
    pub fn new(data_dir: impl Into<PathBuf>) -> AlertmanagerOptions {
        AlertmanagerOptions {
            data_dir: data_dir.into(),
            external_url: String::new(),
            config_base_dir: PathBuf::from("."),
            history_retention: history::DEFAULT_RETENTION,
            silence_retention: silence::DEFAULT_RETENTION,
            incidents: None,
        }
    }
}

/// Counts for self-metrics (`sightline_alertmanager_*`), with the meaning of
/// Alertmanager's own `alertmanager_alerts{state}`, `alertmanager_silences{state}`,
/// `alertmanager_notifications_total{integration}` and so on.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Unresolved alerts by marker state.
    pub alerts_active: usize,
    pub alerts_suppressed: usize,
    pub alerts_unprocessed: usize,
    pub silences_active: usize,
    pub silences_pending: usize,
    pub silences_expired: usize,
    pub aggregation_groups: usize,
    pub nflog_entries: usize,
    pub history_attempts: usize,
    /// By integration kind.
    pub notifications: std::collections::BTreeMap<String, NotifyCounts>,
}

struct Running {
    config: Config,
    pipeline: Arc<Pipeline>,
    dispatcher: Dispatcher,
}

/// A running Alertmanager.
pub struct Alertmanager {
    pub(crate) deps: Arc<Deps>,
    opts: AlertmanagerOptions,
    started: DateTime<Utc>,
    running: Mutex<Running>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Replaces `build_integrations` in tests.
    notifiers: Option<HashMap<String, Vec<Arc<dyn Notifier>>>>,
}

impl std::fmt::Debug for Alertmanager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanager")
            .field("data_dir", &self.opts.data_dir)
            .finish_non_exhaustive()
    }
}

impl Alertmanager {
    /// Loads the state in `opts.data_dir`, builds the config's pipeline and
    /// starts the dispatcher and maintenance tasks on the current runtime.
    pub fn start(config: Config, opts: AlertmanagerOptions) -> Result<Arc<Alertmanager>> {
        Alertmanager::start_inner(config, opts, Clock::System, None)
    }

    /// [`Alertmanager::start`] as a subsystem of the server: registers the
    /// `sightline_alertmanager_*` report, and returns the handle that on
    /// shutdown stops the dispatcher and writes silences, the notification
    /// log and history.
    pub fn start_in(
        config: Config,
        opts: AlertmanagerOptions,
        ctx: &sightline_core::lifecycle::StartContext,
    ) -> Result<(
        Arc<Alertmanager>,
        Box<dyn sightline_core::lifecycle::Running>,
    )> {
        let am = Alertmanager::start(config, opts)?;
        ctx.telemetry.register(am.clone());
        if let Some(inc) = am.incidents() {
            ctx.telemetry.register(inc.clone());
        }
        Ok((am.clone(), Box::new(RunningAlertmanager(am))))
    }

    pub(crate) fn start_inner(
        config: Config,
        opts: AlertmanagerOptions,
        clock: Clock,
        notifiers: Option<HashMap<String, Vec<Arc<dyn Notifier>>>>,
    ) -> Result<Arc<Alertmanager>> {
        let now = clock.now();
        let incidents = match &opts.incidents {
            Some(c) => Some(Arc::new(crate::incident::Incidents::open(
                &opts.data_dir,
                c.clone(),
                &opts.config_base_dir,
                &opts.external_url,
                now,
            )?)),
            None => None,
        };
        let deps = Arc::new(Deps {
            store: Arc::new(AlertStore::new()),
            silences: Arc::new(Silences::open(&opts.data_dir, opts.silence_retention)?),
            marker: Arc::new(Marker::new()),
            nflog: Arc::new(Nflog::open(&opts.data_dir, opts.silence_retention, now)?),
            history: Arc::new(History::open(&opts.data_dir, opts.history_retention, now)?),
            clock,
            external_url: opts.external_url.clone(),
            counters: NotifyCounters::default(),
            incidents,
        });
        let pipeline = Arc::new(build_pipeline(&config, &opts, notifiers.as_ref())?);
        let dispatcher = Dispatcher::start(Arc::clone(&deps), Arc::clone(&pipeline));
        let am = Arc::new(Alertmanager {
            deps: Arc::clone(&deps),
            opts,
            started: now,
            running: Mutex::new(Running {
                config,
                pipeline,
                dispatcher,
            }),
            tasks: Mutex::new(Vec::new()),
            notifiers,
        });
        let gc = tokio::spawn(gc_loop(deps));
        am.tasks.lock().expect("tasks lock").push(gc);
        Ok(am)
    }

    /// Switches to a new config: builds its pipeline first (a bad config
    /// leaves the old one running), then replaces the dispatcher; groups are
    /// rebuilt from the stored alerts.
    pub fn apply_config(&self, config: Config) -> Result<()> {
        let prepared = self.prepare_config(config)?;
        self.apply_prepared(prepared);
        Ok(())
    }

    /// Checks `config` without applying it: builds its notification
    /// pipeline (receivers, templates), so that
    /// [`Alertmanager::apply_prepared`] cannot fail.
    pub fn prepare_config(&self, config: Config) -> Result<PreparedConfig> {
        let pipeline = Arc::new(build_pipeline(
            &config,
            &self.opts,
            self.notifiers.as_ref(),
        )?);
        Ok(PreparedConfig { config, pipeline })
    }

    /// Puts a config [`Alertmanager::prepare_config`] checked in force.
    pub fn apply_prepared(&self, prepared: PreparedConfig) {
        let PreparedConfig { config, pipeline } = prepared;
        let mut run = self.running.lock().expect("running lock");
        run.dispatcher.stop();
        run.dispatcher = Dispatcher::start(Arc::clone(&self.deps), Arc::clone(&pipeline));
        run.pipeline = pipeline;
        run.config = config;
    }

    /// Takes alerts as `POST /api/v2/alerts` does: fills missing times
    /// (start = now, or the end when only that is given; end = now +
    /// `resolve_timeout`, flagged as a timeout), drops empty label values,
    /// stores every valid alert and reports the invalid ones together.
    pub fn put_alerts(&self, alerts: Vec<PostableAlert>) -> Result<()> {
        let now = self.deps.clock.now();
        let resolve_timeout = {
            let run = self.running.lock().expect("running lock");
            chrono::Duration::from_std(run.config.global.resolve_timeout())
                .unwrap_or(chrono::Duration::MAX)
        };
        let mut valid = Vec::with_capacity(alerts.len());
        let mut errors = Vec::new();
        for p in alerts {
            let starts_at = p.starts_at.or(p.ends_at).unwrap_or(now);
            let (ends_at, timeout) = match p.ends_at {
                Some(e) => (e, false),
                None => (now + resolve_timeout, true),
            };
            let labels: LabelSet = p
                .labels
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let annotations: LabelSet = p.annotations;
            if let Err(e) = validate_alert(&labels, &annotations, starts_at, p.ends_at) {
                errors.push(e);
                continue;
            }
            valid.push(Alert {
                labels,
                annotations,
                starts_at,
                ends_at,
                generator_url: p.generator_url,
                updated_at: now,
                timeout,
            });
        }
        self.deps.store.put(valid, now);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::BadInput(errors.join("; ")))
        }
    }

    /// `GET /api/v2/alerts`: unresolved alerts passing `filter`, by fingerprint.
    pub fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertView>> {
        let receiver_re = receiver_regex(filter.receiver.as_deref())?;
        let pipeline = self.pipeline();
        let now = self.deps.clock.now();
        let all = self.deps.store.list();
        let sources = pipeline.inhibition_sources(&self.deps.store);
        let sources: Vec<&Alert> = sources.iter().collect();
        let mut out = Vec::new();
        for a in all {
            let receivers: Vec<String> = pipeline
                .route
                .match_labels(&a.labels)
                .iter()
                .map(|r| r.receiver.clone())
                .collect();
            if let Some(re) = &receiver_re {
                if !receivers.iter().any(|r| re.is_match(r)) {
                    continue;
                }
            }
            if !self.passes(&pipeline, &sources, &a, filter, true, now) {
                continue;
            }
            out.push(self.view(&a, receivers));
        }
        out.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        Ok(out)
    }

    /// `GET /api/v2/alerts/groups`: the dispatcher's groups with their
    /// alerts passing `filter`; groups left empty are not listed.
    pub fn alert_groups(&self, filter: &AlertFilter) -> Result<Vec<GroupView>> {
        let receiver_re = receiver_regex(filter.receiver.as_deref())?;
        let (pipeline, groups) = {
            let run = self.running.lock().expect("running lock");
            (Arc::clone(&run.pipeline), run.dispatcher.groups())
        };
        let now = self.deps.clock.now();
        let sources = pipeline.inhibition_sources(&self.deps.store);
        let sources: Vec<&Alert> = sources.iter().collect();
        // Every receiver an alert is grouped for, across all groups.
        let mut receivers: HashMap<u64, BTreeSet<String>> = HashMap::new();
        for g in &groups {
            for a in &g.alerts {
                receivers
                    .entry(a.fingerprint())
                    .or_default()
                    .insert(g.receiver.clone());
            }
        }
        let mut out: Vec<(LabelSet, String, Vec<Alert>)> = Vec::new();
        for g in groups {
            if let Some(re) = &receiver_re {
                if !re.is_match(&g.receiver) {
                    continue;
                }
            }
            let alerts: Vec<Alert> = g
                .alerts
                .into_iter()
                .filter(|a| self.passes(&pipeline, &sources, a, filter, false, now))
                .collect();
            if !alerts.is_empty() {
                out.push((g.labels, g.receiver, alerts));
            }
        }
        out.sort_by(|a, b| {
            if a.0 == b.0 {
                a.1.cmp(&b.1)
            } else {
                crate::dispatch::group::labelset_order(&a.0, &b.0)
            }
        });
        Ok(out
            .into_iter()
            .map(|(labels, receiver, mut alerts)| {
                alerts.sort_by(alert_order);
                GroupView {
                    alerts: alerts
                        .iter()
                        .map(|a| {
                            let rs = receivers
                                .get(&a.fingerprint())
                                .map(|s| s.iter().cloned().collect())
                                .unwrap_or_default();
                            self.view(a, rs)
                        })
                        .collect(),
                    labels,
                    receiver: ReceiverName { name: receiver },
                }
            })
            .collect())
    }

    /// `GET /api/v2/silences`: silences whose matchers pass `filter`, active
    /// ones first (soonest end first), then pending (soonest start first),
    /// then expired (latest end first).
    pub fn silences(&self, filter: &[Matcher]) -> Vec<SilenceView> {
        let now = self.deps.clock.now();
        let q = SilenceQuery {
            filter: filter.to_vec(),
            ..Default::default()
        };
        let mut sils = self.deps.silences.query(&q, now);
        sils.sort_by(|a, b| {
            let rank = |s: &Silence| match s.state(now) {
                SilenceState::Active => 0,
                SilenceState::Pending => 1,
                SilenceState::Expired => 2,
            };
            rank(a).cmp(&rank(b)).then_with(|| match a.state(now) {
                SilenceState::Active => a.ends_at.cmp(&b.ends_at),
                SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
                SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
            })
        });
        sils.iter().map(|s| SilenceView::new(s, now)).collect()
    }

    /// `GET /api/v2/silence/{id}`.
    pub fn get_silence(&self, id: &str) -> Result<SilenceView> {
        let now = self.deps.clock.now();
        self.deps
            .silences
            .get(id)
            .map(|s| SilenceView::new(&s, now))
            .ok_or_else(|| Error::NotFound(format!("silence {id} not found")))
    }

    /// `POST /api/v2/silences`: creates or updates; returns the silence's id
    /// (a new one when the update had to replace the silence).
    pub fn put_silence(&self, input: SilenceInput) -> Result<String> {
        let now = self.deps.clock.now();
        let matchers = input
            .matchers
            .iter()
            .map(Matcher::try_from)
            .collect::<Result<Vec<_>>>()?;
        let s = Silence {
            id: input.id.unwrap_or_default(),
            matchers: Matchers(matchers),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            updated_at: now,
            created_by: input.created_by,
            comment: input.comment,
        };
        self.deps.silences.set(s, now)
    }

    /// `DELETE /api/v2/silence/{id}`.
    pub fn expire_silence(&self, id: &str) -> Result<()> {
        self.deps.silences.expire(id, self.deps.clock.now())
    }

    /// `GET /api/v2/receivers`: the config's receiver names in file order.
    pub fn receivers(&self) -> Vec<String> {
        let run = self.running.lock().expect("running lock");
        run.config
            .receivers
            .iter()
            .map(|r| r.name.clone())
            .collect()
    }

    /// `GET /api/v2/status`, as a single Alertmanager with clustering off answers.
    pub fn status(&self) -> StatusView {
        let original = self
            .running
            .lock()
            .expect("running lock")
            .config
            .original()
            .to_string();
        StatusView {
            cluster: ClusterStatus {
                peers: Vec::new(),
                status: "disabled".into(),
            },
            config: ConfigView { original },
            uptime: self.started,
            version_info: VersionInfo {
                // amtool compares `version` with its own and warns on
                // every command when they differ; we report the
                // Alertmanager API we implement and name ourselves in the
                // other fields, as `/api/v1/status/buildinfo` does.
                branch: "sightline".to_string(),
                build_date: String::new(),
                build_user: "sightline".to_string(),
                go_version: String::new(),
                revision: concat!("sightline-", env!("CARGO_PKG_VERSION")).to_string(),
                version: ALERTMANAGER_API_VERSION.to_string(),
            },
        }
    }

    /// Counts for self-metrics.
    pub fn stats(&self) -> Stats {
        let now = self.deps.clock.now();
        let mut st = Stats {
            aggregation_groups: self
                .running
                .lock()
                .expect("running lock")
                .dispatcher
                .groups()
                .len(),
            nflog_entries: self.deps.nflog.len(),
            history_attempts: self.deps.history.len(),
            notifications: self.deps.counters.snapshot(),
            ..Stats::default()
        };
        for a in self.deps.store.list() {
            if a.resolved_at(now) {
                continue;
            }
            match self.deps.marker.status(a.fingerprint()).state {
                AlertState::Active => st.alerts_active += 1,
                AlertState::Suppressed => st.alerts_suppressed += 1,
                AlertState::Unprocessed => st.alerts_unprocessed += 1,
            }
        }
        for s in self.deps.silences.query(&SilenceQuery::default(), now) {
            match s.state(now) {
                SilenceState::Active => st.silences_active += 1,
                SilenceState::Pending => st.silences_pending += 1,
                SilenceState::Expired => st.silences_expired += 1,
            }
        }
        st
    }

    /// Notification attempts passing `filter`, newest first.
    pub fn history(&self, filter: &HistoryFilter) -> Vec<Attempt> {
        self.deps.history.query(filter)
    }

    /// Stops the dispatcher and maintenance. Silences, the notification log
    /// and the history are written as they change, so nothing is left to
    /// flush but a last garbage collection.
    pub fn shutdown(&self) -> Result<()> {
        self.running.lock().expect("running lock").dispatcher.stop();
        for t in self.tasks.lock().expect("tasks lock").drain(..) {
            t.abort();
        }
        let now = self.deps.clock.now();
        self.deps.silences.gc(now)?;
        self.deps.nflog.gc(now)?;
        self.deps.history.gc(now)?;
        Ok(())
    }

    fn pipeline(&self) -> Arc<Pipeline> {
        Arc::clone(&self.running.lock().expect("running lock").pipeline)
    }

    /// Alertmanager's API alert filter; it re-checks silences and inhibition
    /// first, so the status shown is current even between flushes.
    fn passes(
        &self,
        pipeline: &Pipeline,
        sources: &[&Alert],
        a: &Alert,
        f: &AlertFilter,
        check_unprocessed: bool,
        now: DateTime<Utc>,
    ) -> bool {
        if a.resolved_at(now) {
            return false;
        }
        let fp = a.fingerprint();
        self.deps
            .marker
            .set_inhibited(fp, pipeline.inhibited_by(sources, &a.labels, now));
        self.deps
            .marker
            .set_silenced(fp, self.deps.silences.mutes(&a.labels, now));
        let st = self.deps.marker.status(fp);
        if !f.active && st.state == AlertState::Active {
            return false;
        }
        if check_unprocessed && !f.unprocessed && st.state == AlertState::Unprocessed {
            return false;
        }
        if !f.silenced && !st.silenced_by.is_empty() {
            return false;
        }
        if !f.inhibited && !st.inhibited_by.is_empty() {
            return false;
        }
        filter_labels_match(&f.matchers, |n| a.labels.get(n).map(String::as_str))
    }

    fn view(&self, a: &Alert, receivers: Vec<String>) -> AlertView {
        AlertView {
            annotations: a.annotations.clone(),
            ends_at: a.ends_at,
            fingerprint: format!("{:016x}", a.fingerprint()),
            receivers: receivers
                .into_iter()
                .map(|name| ReceiverName { name })
                .collect(),
            starts_at: a.starts_at,
            status: self.deps.marker.status(a.fingerprint()),
            updated_at: a.updated_at,
            generator_url: a.generator_url.clone(),
            labels: a.labels.clone(),
        }
    }
}

fn build_pipeline(
    config: &Config,
    opts: &AlertmanagerOptions,
    notifiers: Option<&HashMap<String, Vec<Arc<dyn Notifier>>>>,
) -> Result<Pipeline> {
    let receivers = match notifiers {
        Some(n) => n.clone(),
        None => {
            let templates = Arc::new(crate::template::Templates::load(
                &config.templates,
                &opts.config_base_dir,
            )?);
            let mut m = HashMap::new();
            for r in &config.receivers {
                m.insert(
                    r.name.clone(),
                    crate::notify::build_integrations(r, &config.global, Arc::clone(&templates))?,
                );
            }
            m
        }
    };
    Pipeline::new(config, receivers)
}

/// Alertmanager's `receiver` filter of the alerts API: a Go regexp, anchored.
fn receiver_regex(re: Option<&str>) -> Result<Option<Regex>> {
    re.map(|r| {
        sightline_core::goregex::compile(r, sightline_core::goregex::Anchor::Whole)
            .map_err(|e| Error::BadInput(format!("failed to parse receiver param: {e}")))
    })
    .transpose()
}

/// Alertmanager's `Alert.Validate` messages.
fn validate_alert(
    labels: &LabelSet,
    annotations: &LabelSet,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
) -> std::result::Result<(), String> {
    if ends_at.is_some_and(|e| e < starts_at) {
        return Err("start time must be before end time".into());
    }
    if labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    for name in labels.keys() {
        if !valid_label_name(name) {
            return Err(format!("invalid label set: invalid name {name:?}"));
        }
    }
    for name in annotations.keys() {
        if !valid_label_name(name) {
            return Err(format!("invalid annotations: invalid name {name:?}"));
        }
    }
    Ok(())
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, Prometheus's label name rule.
fn valid_label_name(n: &str) -> bool {
    let mut bytes = n.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn gc_loop(deps: Arc<Deps>) {
    let mut alert_tick = tokio::time::interval(ALERT_GC_INTERVAL);
    let mut state_tick = tokio::time::interval(STATE_GC_INTERVAL);
    for t in [&mut alert_tick, &mut state_tick] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = alert_tick.tick() => {
                for fp in deps.store.gc(deps.clock.now()) {
                    deps.marker.delete(fp);
                }
            }
            _ = state_tick.tick() => {
                let now = deps.clock.now();
                if let Err(e) = deps.silences.gc(now) {
                    tracing::error!("silences gc: {e}");
                }
                if let Err(e) = deps.nflog.gc(now) {
                    tracing::error!("notification log gc: {e}");
                }
                if let Err(e) = deps.history.gc(now) {
                    tracing::error!("notification history gc: {e}");
                }
                if let Some(inc) = &deps.incidents {
                    if let Err(e) = inc.gc(now) {
                        tracing::error!("incidents gc: {e}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod e2e_tests;
#[cfg(test)]
mod tests;
