//! The rule manager: loads rule files into groups, evaluates each group on
//! its interval, and serves snapshots for `/api/v1/rules` and
//! `/api/v1/alerts`.

use crate::alerting::{AlertState, OutgoingAlert};
use crate::file::{load_rule_files, load_rule_files_as, QueryLang, RuleFile};
use crate::gofmt::{format_rfc3339, format_shortest_e};
use crate::group::{RuleBody, RuleContext, RuleGroup};
use crate::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Receives alerts due for sending after each group evaluation.
pub type NotifyFn = Arc<dyn Fn(Vec<OutgoingAlert>) + Send + Sync>;

/// Manager settings; defaults are Prometheus's.
#[derive(Clone)]
pub struct ManagerOptions {
    /// What groups read and write.
    pub context: RuleContext,
    /// `global.evaluation_interval` (default 1m).
    pub default_interval: Duration,
    /// `global.rule_query_offset` (default 0).
    pub default_query_offset: Duration,
    /// `--rules.alert.resend-delay` (default 1m).
    pub resend_delay: Duration,
    /// `--rules.alert.for-grace-period` (default 10m).
    pub for_grace_period: Duration,
    /// `--rules.alert.for-outage-tolerance` (default 1h).
    pub outage_tolerance: Duration,
    /// Where alerts due for sending go; `None` drops them.
    pub notify: Option<NotifyFn>,
}

impl ManagerOptions {
    /// Options with Prometheus's defaults around `context`.
    pub fn new(context: RuleContext) -> Self {
        ManagerOptions {
            context,
            default_interval: Duration::from_secs(60),
            default_query_offset: Duration::ZERO,
            resend_delay: Duration::from_secs(60),
            for_grace_period: Duration::from_secs(600),
            outage_tolerance: Duration::from_secs(3600),
            notify: None,
        }
    }
}

/// Loads and runs rule groups. Cheap to share behind an `Arc`.
pub struct RuleManager {
    opts: ManagerOptions,
    groups: Mutex<Vec<Arc<Mutex<RuleGroup>>>>,
    /// Set after the first load: only the groups of the first load (the
    /// process start) restore `for` state, as in Prometheus; groups added
    /// by a reload start restored.
    loaded_once: AtomicBool,
    /// The same for the log rule groups.
    log_loaded_once: AtomicBool,
    /// `global.evaluation_interval` in ms; a reload may change it.
    default_interval_ms: AtomicU64,
}

use sightline_core::time::now_ms;

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

impl RuleManager {
    /// A manager with no groups.
    pub fn new(opts: ManagerOptions) -> Self {
        RuleManager {
            default_interval_ms: AtomicU64::new(ms(opts.default_interval) as u64),
            opts,
            groups: Mutex::new(Vec::new()),
            loaded_once: AtomicBool::new(false),
            log_loaded_once: AtomicBool::new(false),
        }
    }

    /// Sets the interval of groups without their own (`global.evaluation_interval`);
    /// takes effect at the next [`RuleManager::load`], as a reload does in Prometheus.
    pub fn set_default_interval(&self, d: Duration) {
        if !d.is_zero() {
            self.default_interval_ms
                .store(ms(d) as u64, Ordering::Relaxed);
        }
    }

    /// Loads `rule_files:` patterns (relative to `base_dir`) and replaces
    /// the running groups. Groups that stay (same file and name) keep their
    /// alert state; groups that go away get staleness markers. On error
    /// the old groups stay.
    pub fn load(&self, globs: &[String], base_dir: &Path) -> Result<()> {
        let files = load_rule_files(globs, base_dir)?;
        self.set_files(&files);
        Ok(())
    }

    /// Loads `logs.rule_files` patterns (Loki ruler files, LogQL) and
    /// replaces the running log rule groups, as [`RuleManager::load`] does
    /// for Prometheus's.
    pub fn load_log_rules(&self, globs: &[String], base_dir: &Path) -> Result<()> {
        let files = load_rule_files_as(globs, base_dir, QueryLang::LogQL)?;
        self.set_log_files(&files);
        Ok(())
    }

    /// Replaces the PromQL groups with those of already parsed files (the
    /// LogQL groups stay).
    pub fn set_files(&self, files: &[RuleFile]) {
        self.replace(QueryLang::PromQL, files);
    }

    /// Replaces the LogQL groups with those of already parsed Loki ruler
    /// files (the PromQL groups stay).
    pub fn set_log_files(&self, files: &[RuleFile]) {
        self.replace(QueryLang::LogQL, files);
    }

    /// Replaces the groups in `lang`. Both kinds share one list, so one
    /// evaluator thread, one `/api/v1/rules` and one set of
    /// `sightline_rule_*` series cover them.
    fn replace(&self, lang: QueryLang, files: &[RuleFile]) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let mut new = Vec::new();
        // Only the first PromQL load is the start-up one (the log rules
        // load right after it at start): groups of later loads start
        // restored, as in Prometheus.
        let first = match lang {
            QueryLang::PromQL => !self.loaded_once.swap(true, Ordering::SeqCst),
            QueryLang::LogQL => !self.log_loaded_once.swap(true, Ordering::SeqCst),
        };
        let (old, keep): (Vec<_>, Vec<_>) = groups
            .drain(..)
            .partition(|g| g.lock().unwrap_or_else(|e| e.into_inner()).lang == lang);
        let mut old: Vec<Option<Arc<Mutex<RuleGroup>>>> = old.into_iter().map(Some).collect();
        for f in files {
            for spec in &f.groups {
                let mut g = RuleGroup::new(
                    spec,
                    self.default_interval_ms.load(Ordering::Relaxed) as i64,
                    ms(self.opts.default_query_offset),
                )
                .with_lang(lang);
                if !first {
                    g.set_restored();
                }
                for slot in old.iter_mut() {
                    let Some(o) = slot else { continue };
                    let same = {
                        let o = o.lock().unwrap_or_else(|e| e.into_inner());
                        if o.file == g.file && o.name == g.name {
                            g.copy_state(&o);
                            true
                        } else {
                            false
                        }
                    };
                    if same {
                        *slot = None;
                        break;
                    }
                }
                new.push(Arc::new(Mutex::new(g)));
            }
        }
        for o in old.into_iter().flatten() {
            o.lock()
                .unwrap_or_else(|e| e.into_inner())
                .mark_stale(&self.opts.context, now_ms());
        }
        // Prometheus's groups first, then the log groups, whichever changed.
        *groups = match lang {
            QueryLang::PromQL => new.into_iter().chain(keep).collect(),
            QueryLang::LogQL => keep.into_iter().chain(new).collect(),
        };
    }

    /// The current groups.
    pub fn groups(&self) -> Vec<Arc<Mutex<RuleGroup>>> {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Evaluates one group at `ts` (ms): rules run, results and `ALERTS`
    /// are written, `for` state is restored after the second evaluation
    /// (as Prometheus waits one more interval so that recording rules the
    /// alerts depend on have run), and due alerts, with the external labels
    /// they lack added as Prometheus's notifier adds them, go to the notify
    /// callback (and are returned).
    pub fn eval_group_at(&self, group: &Mutex<RuleGroup>, ts: i64) -> Vec<OutgoingAlert> {
        let mut g = group.lock().unwrap_or_else(|e| e.into_inner());
        let mut alerts = g.eval(&self.opts.context, ts, ms(self.opts.resend_delay));
        let ext = &self.opts.context.external_labels;
        if !ext.is_empty() {
            for a in &mut alerts {
                let mut b = a.labels.to_builder();
                for l in ext {
                    if a.labels.get(&l.name).is_none() {
                        b.set(l.name.clone(), l.value.clone());
                    }
                }
                a.labels = b.into_labels();
            }
        }
        if g.should_restore && g.evaluations >= 2 {
            g.restore_for_state(
                &self.opts.context,
                ts,
                ms(self.opts.for_grace_period),
                ms(self.opts.outage_tolerance),
            );
        }
        if let Some(n) = &self.opts.notify {
            if !alerts.is_empty() {
                n(alerts.clone());
            }
        }
        alerts
    }

    /// Evaluates every group whose next aligned slot has come, until
    /// `cancel` is set. Slots are aligned as Prometheus aligns them (by a
    /// hash of the group), so restarts keep the same phase. Blocks: run it
    /// on its own thread (or `spawn_blocking`).
    pub fn run(&self, cancel: &AtomicBool) {
        let mut next: BTreeMap<(String, String), i64> = BTreeMap::new();
        while !cancel.load(Ordering::Relaxed) {
            let now = now_ms();
            let mut sleep_until = now + 1000;
            for g in self.groups() {
                let (key, interval) = {
                    let gg = g.lock().unwrap_or_else(|e| e.into_inner());
                    ((gg.file.clone(), gg.name.clone()), gg.interval_ms)
                };
                let offset =
                    (xxhash_rust::xxh64::xxh64(format!("{}\u{ff}{}", key.0, key.1).as_bytes(), 0)
                        % interval as u64) as i64;
                let due = *next.entry(key.clone()).or_insert_with(|| {
                    let base = now - now.rem_euclid(interval) + offset;
                    if base < now {
                        base + interval
                    } else {
                        base
                    }
                });
                if due <= now {
                    self.eval_group_at(&g, due);
                    let mut n = due + interval;
                    let mut missed = 0;
                    while n <= now_ms() {
                        n += interval;
                        missed += 1;
                    }
                    if missed > 0 {
                        g.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .iterations_missed += missed;
                    }
                    next.insert(key, n);
                    sleep_until = sleep_until.min(n);
                } else {
                    sleep_until = sleep_until.min(due);
                }
            }
            let wait = (sleep_until - now_ms()).clamp(1, 1000);
            std::thread::sleep(Duration::from_millis(wait as u64));
        }
    }

    /// The `data` of `/api/v1/rules`: every group, PromQL and LogQL.
    pub fn rules_snapshot(&self) -> RulesData {
        self.rules_snapshot_of(None)
    }

    /// The `data` of `/api/v1/alerts`: pending and firing alerts of every
    /// group.
    pub fn alerts_snapshot(&self) -> AlertsData {
        self.alerts_snapshot_of(None)
    }

    /// The groups in `lang` (all with `None`), as `/api/v1/rules` shows
    /// them; Loki's `/prometheus/api/v1/rules` is the LogQL ones.
    pub fn rules_snapshot_of(&self, lang: Option<QueryLang>) -> RulesData {
        let groups = self
            .groups()
            .iter()
            .filter_map(|g| {
                let g = g.lock().unwrap_or_else(|e| e.into_inner());
                lang.is_none_or(|l| l == g.lang).then(|| group_snapshot(&g))
            })
            .collect();
        RulesData { groups }
    }

    /// The pending and firing alerts of the groups in `lang` (all with
    /// `None`).
    pub fn alerts_snapshot_of(&self, lang: Option<QueryLang>) -> AlertsData {
        let mut alerts = Vec::new();
        for g in self.groups() {
            let g = g.lock().unwrap_or_else(|e| e.into_inner());
            if lang.is_some_and(|l| l != g.lang) {
                continue;
            }
            for r in &g.rules {
                if let RuleBody::Alerting(a) = &r.body {
                    alerts.extend(a.active_alerts().into_iter().map(alert_json));
                }
            }
        }
        AlertsData { alerts }
    }
}

/// `/api/v1/rules` data.
#[derive(Debug, Clone, Serialize)]
pub struct RulesData {
    /// Rule groups.
    pub groups: Vec<GroupJson>,
}

/// `/api/v1/alerts` data.
#[derive(Debug, Clone, Serialize)]
pub struct AlertsData {
    /// Active alerts.
    pub alerts: Vec<AlertJson>,
}

/// A group as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupJson {
    /// Group name.
    pub name: String,
    /// Source file.
    pub file: String,
    /// Rules.
    pub rules: Vec<RuleJson>,
    /// Interval in seconds.
    #[serde(serialize_with = "go_number")]
    pub interval: f64,
    /// Alert/series limit.
    pub limit: usize,
    /// Seconds the last evaluation took.
    #[serde(rename = "evaluationTime", serialize_with = "go_number")]
    pub evaluation_time: f64,
    /// RFC 3339 time of the last evaluation.
    #[serde(rename = "lastEvaluation")]
    pub last_evaluation: String,
}

/// Writes a float as Go's encoding/json does, which is what Prometheus's
/// API clients see: integral values without a fraction (`5`, not serde's
/// `5.0`, issue 12), others in the shortest form that reads back (`0.5`).
fn go_number<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Below 2^53 an integral f64 is exactly an i64; above, Go switches to
    // exponent notation at 1e21 while serde keeps digits: the group
    // intervals and durations written here never come near either.
    if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// A rule as the API shows it; fields depend on `type`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RuleJson {
    /// An alerting rule.
    Alerting {
        /// `firing`, `pending` or `inactive`.
        state: AlertState,
        /// Alert name.
        name: String,
        /// Expression.
        query: String,
        /// `for` in seconds.
        #[serde(serialize_with = "go_number")]
        duration: f64,
        /// `keep_firing_for` in seconds.
        #[serde(rename = "keepFiringFor", serialize_with = "go_number")]
        keep_firing_for: f64,
        /// Label templates.
        labels: BTreeMap<String, String>,
        /// Annotation templates.
        annotations: BTreeMap<String, String>,
        /// Active alerts.
        alerts: Vec<AlertJson>,
        /// `ok`, `err` or `unknown`.
        health: String,
        /// Last error.
        #[serde(rename = "lastError", skip_serializing_if = "String::is_empty")]
        last_error: String,
        /// Seconds the last evaluation took.
        #[serde(rename = "evaluationTime", serialize_with = "go_number")]
        evaluation_time: f64,
        /// RFC 3339.
        #[serde(rename = "lastEvaluation")]
        last_evaluation: String,
        /// Always `alerting`.
        #[serde(rename = "type")]
        kind: &'static str,
    },
    /// A recording rule.
    Recording {
        /// Record name.
        name: String,
        /// Expression.
        query: String,
        /// Labels.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        labels: BTreeMap<String, String>,
        /// Health.
        health: String,
        /// Last error.
        #[serde(rename = "lastError", skip_serializing_if = "String::is_empty")]
        last_error: String,
        /// Seconds the last evaluation took.
        #[serde(rename = "evaluationTime", serialize_with = "go_number")]
        evaluation_time: f64,
        /// RFC 3339.
        #[serde(rename = "lastEvaluation")]
        last_evaluation: String,
        /// Always `recording`.
        #[serde(rename = "type")]
        kind: &'static str,
    },
}

/// An alert as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertJson {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// State.
    pub state: AlertState,
    /// RFC 3339 time it became active.
    #[serde(rename = "activeAt")]
    pub active_at: String,
    /// RFC 3339 time `keep_firing_for` started holding it.
    #[serde(rename = "keepFiringSince", skip_serializing_if = "Option::is_none")]
    pub keep_firing_since: Option<String>,
    /// The value as Go's `%e` prints it.
    pub value: String,
}

fn alert_json(a: &crate::alerting::Alert) -> AlertJson {
    AlertJson {
        labels: a
            .labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect(),
        annotations: a.annotations.clone(),
        state: a.state,
        active_at: format_rfc3339(a.active_at),
        keep_firing_since: a.keep_firing_since.map(format_rfc3339),
        value: format_shortest_e(a.value, false),
    }
}

fn last_eval(t: Option<i64>) -> String {
    t.map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), format_rfc3339)
}

/// A group's API snapshot.
pub fn group_snapshot(g: &RuleGroup) -> GroupJson {
    let rules = g
        .rules
        .iter()
        .map(|r| {
            let spec = r.spec();
            match &r.body {
                RuleBody::Alerting(a) => RuleJson::Alerting {
                    state: a.state(),
                    name: spec.name.clone(),
                    query: spec.expr.clone(),
                    duration: spec.for_ms as f64 / 1000.0,
                    keep_firing_for: spec.keep_firing_for_ms as f64 / 1000.0,
                    labels: spec.labels.clone(),
                    annotations: spec.annotations.clone(),
                    alerts: a.active_alerts().into_iter().map(alert_json).collect(),
                    health: r.health.as_str().into(),
                    last_error: r.last_error.clone().unwrap_or_default(),
                    evaluation_time: r.eval_duration.as_secs_f64(),
                    last_evaluation: last_eval(r.last_eval),
                    kind: "alerting",
                },
                RuleBody::Recording(_) => RuleJson::Recording {
                    name: spec.name.clone(),
                    query: spec.expr.clone(),
                    labels: spec.labels.clone(),
                    health: r.health.as_str().into(),
                    last_error: r.last_error.clone().unwrap_or_default(),
                    evaluation_time: r.eval_duration.as_secs_f64(),
                    last_evaluation: last_eval(r.last_eval),
                    kind: "recording",
                },
            }
        })
        .collect();
    GroupJson {
        name: g.name.clone(),
        file: g.file.clone(),
        rules,
        interval: g.interval_ms as f64 / 1000.0,
        limit: g.limit,
        evaluation_time: g.eval_duration.as_secs_f64(),
        last_evaluation: last_eval(g.last_eval),
    }
}

/// The rule evaluator running on its own thread (evaluation blocks on
/// queries and appends, so it stays off the async workers).
struct RunningRules {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl RuleManager {
    /// Starts evaluating on a thread of its own and registers the
    /// `sightline_rule_*` report; the thread ends when `ctx.cancel` is
    /// cancelled (checked at least once a second).
    pub fn start(
        self: &Arc<Self>,
        ctx: &sightline_core::lifecycle::StartContext,
    ) -> std::io::Result<Box<dyn sightline_core::lifecycle::Running>> {
        ctx.telemetry.register(self.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let (me, flag) = (self.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("sightline-rules".into())
            .spawn(move || me.run(&flag))?;
        // The thread polls a flag, so the token's cancellation is relayed.
        let (cancel, flag) = (ctx.cancel.clone(), stop.clone());
        tokio::spawn(async move {
            cancel.cancelled().await;
            flag.store(true, Ordering::Release);
        });
        Ok(Box::new(RunningRules { stop, thread }))
    }
}

impl sightline_core::lifecycle::Running for RunningRules {
    fn name(&self) -> &'static str {
        "rules"
    }

    fn stop(self: Box<Self>) -> sightline_core::lifecycle::StopFuture {
        self.stop.store(true, Ordering::Release);
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
        })
    }
}
