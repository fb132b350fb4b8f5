//! The probe subsystem as the server runs it: a [`ProbeScheduler`] whose
//! results go to the store through the scrape append path (as Prometheus
//! would store a scrape of blackbox's `/probe`, see
//! `sightline_ingest::scrape::LocalTarget`) and to an [`UptimeTracker`]
//! kept in `<data dir>/probes/`; the same modules answer blackbox's
//! `/probe` and `/api/v1/uptime` (routes in `sightline_api::native`).
//! [`Probes::start`] starts it under the server's
//! [`StartContext`]; reloads hand it a new [`ProbeSetup`].

use crate::{
    probe_endpoint, render_exposition, Module, Monitor, ProbeCallback, ProbeQuery, ProbeResponse,
    ProbeResult, ProbeScheduler, UptimeReport, UptimeTracker,
};
use sightline_core::lifecycle::{Running, StartContext, StopFuture};
use sightline_core::telemetry::{Report, Telemetry};
use sightline_core::{Labels, LabelsBuilder, MetricAppender};
use sightline_ingest::scrape::LocalTarget;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the uptime state is written while running; a crash loses at
/// most this much uptime history, and the file is small.
const SAVE_EVERY: Duration = Duration::from_secs(60);

/// What a configuration gives the probe subsystem.
#[derive(Debug, Default)]
pub struct ProbeSetup {
    /// The monitors to schedule.
    pub monitors: Vec<Monitor>,
    /// The modules `/probe` serves, by name.
    pub endpoint_modules: BTreeMap<String, Module>,
}

/// `sightline_probe_*` counters, bumped by the result callback.
#[derive(Debug, Default)]
pub struct ProbeCounters {
    runs: AtomicU64,
    failures: AtomicU64,
    targets: AtomicU64,
}

/// The series each (monitor, target) wrote with its last result: those
/// missing from the next result, or whose monitor goes away on reload, get
/// a staleness marker, as Prometheus writes for a scrape of blackbox.
/// Each (monitor, target)'s in-process scrape target, which remembers the
/// series its last result wrote.
type LastSeries = Arc<Mutex<HashMap<(String, String), LocalTarget>>>;

/// The running probe subsystem: scheduler, uptime and `/probe` modules,
/// all replaced together on reload.
pub struct Probes {
    appender: Arc<dyn MetricAppender>,
    last_series: LastSeries,
    uptime: Arc<Mutex<UptimeTracker>>,
    counters: Arc<ProbeCounters>,
    endpoint_modules: RwLock<Arc<BTreeMap<String, Module>>>,
    scheduler: Mutex<Option<ProbeScheduler>>,
    /// Serialises reloads with each other and with shutdown, so two never
    /// start a scheduler each.
    apply_lock: Mutex<()>,
    stopped: AtomicBool,
    handle: tokio::runtime::Handle,
}

impl Probes {
    /// Opens the uptime state in `<data dir>/probes/`, starts the monitors
    /// of `setup` on the current runtime and the periodic save of the
    /// uptime state under `ctx.cancel`, and registers the
    /// `sightline_probe_*` report. The handle stops the monitors and
    /// writes the uptime state.
    pub fn start(
        setup: ProbeSetup,
        appender: Arc<dyn MetricAppender>,
        ctx: &StartContext,
    ) -> crate::Result<(Arc<Probes>, Box<dyn Running>)> {
        let probes = Probes::open(setup, appender, &ctx.data_dir)?;
        ctx.telemetry.register(probes.counters.clone());
        let saver = probes.spawn_saver(ctx.cancel.clone());
        let running = RunningProbes {
            probes: probes.clone(),
            saver,
        };
        Ok((probes, Box::new(running)))
    }

    /// Opens the uptime state in `<data_dir>/probes/` and starts the
    /// monitors of `setup` on the current runtime.
    fn open(
        setup: ProbeSetup,
        appender: Arc<dyn MetricAppender>,
        data_dir: &Path,
    ) -> crate::Result<Arc<Probes>> {
        let dir = data_dir.join("probes");
        let uptime = UptimeTracker::open(&dir).map_err(|e| match e {
            crate::Error::Io(io) => crate::Error::Io(std::io::Error::new(
                io.kind(),
                format!("opening the uptime state in {}: {io}", dir.display()),
            )),
            other => other,
        })?;
        let probes = Arc::new(Probes {
            appender,
            last_series: LastSeries::default(),
            uptime: Arc::new(Mutex::new(uptime)),
            counters: Arc::new(ProbeCounters::default()),
            endpoint_modules: RwLock::new(Arc::new(BTreeMap::new())),
            scheduler: Mutex::new(None),
            apply_lock: Mutex::new(()),
            stopped: AtomicBool::new(false),
            handle: tokio::runtime::Handle::current(),
        });
        probes.install(setup);
        Ok(probes)
    }

    /// Swaps in a new setup: stops the old monitors, starts the new ones
    /// (each target keeps its phase: it is derived from names, not from
    /// start time). Blocks while the old loops end, so call it off the
    /// async workers (the reloader runs on the blocking pool).
    pub fn apply(&self, setup: ProbeSetup) {
        let _serial = self.apply_lock.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.lock_scheduler().take();
        if let Some(old) = old {
            self.handle.block_on(old.stop());
        }
        if !self.stopped.load(Ordering::Acquire) {
            self.install(setup);
        }
    }

    fn install(&self, setup: ProbeSetup) {
        let keep: HashSet<(String, String)> = setup
            .monitors
            .iter()
            .flat_map(|m| m.targets.iter().map(|t| (m.name.clone(), t.clone())))
            .collect();
        // Uptime of targets no longer configured is forgotten, so the
        // uptime list shows what runs.
        self.lock_uptime()
            .retain(|m, t| keep.contains(&(m.to_string(), t.to_string())));
        // Their series end now, as a scrape target's do when it goes away.
        let gone: Vec<LocalTarget> = {
            let mut last = self.last_series.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<_> = last.keys().filter(|k| !keep.contains(k)).cloned().collect();
            keys.iter().filter_map(|k| last.remove(k)).collect()
        };
        if !gone.is_empty() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            for mut t in gone {
                t.mark_stale(self.appender.as_ref(), now);
            }
        }
        *self
            .endpoint_modules
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(setup.endpoint_modules);
        let _rt = self.handle.enter();
        let scheduler = ProbeScheduler::start(setup.monitors, self.callback());
        self.counters
            .targets
            .store(scheduler.len() as u64, Ordering::Relaxed);
        tracing::info!(targets = scheduler.len(), "probe monitors started");
        *self.lock_scheduler() = Some(scheduler);
    }

    fn callback(&self) -> ProbeCallback {
        let (appender, uptime, counters, last_series) = (
            self.appender.clone(),
            self.uptime.clone(),
            self.counters.clone(),
            self.last_series.clone(),
        );
        // Runs on the probing task: appends go to the in-memory head and
        // the uptime lock is held for a few map operations, so neither
        // delays other probes noticeably.
        Arc::new(move |m: &Monitor, r: &ProbeResult, ts_ms: i64| {
            counters.runs.fetch_add(1, Ordering::Relaxed);
            if !r.success {
                counters.failures.fetch_add(1, Ordering::Relaxed);
            }
            let key = (m.name.clone(), r.target.clone());
            let mut target = last_series
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
            store_result(appender.as_ref(), m, r, ts_ms, &mut target);
            if let Some(t) = target {
                last_series
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, t);
            }
            uptime
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(&m.name, &r.target, m.interval, r, ts_ms);
        })
    }

    fn lock_scheduler(&self) -> std::sync::MutexGuard<'_, Option<ProbeScheduler>> {
        self.scheduler.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_uptime(&self) -> std::sync::MutexGuard<'_, UptimeTracker> {
        self.uptime.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn save(&self) {
        if let Err(e) = self.lock_uptime().save() {
            tracing::error!(error = %e, "saving the uptime state");
        }
    }

    /// Saves the uptime state every [`SAVE_EVERY`] until `cancel`.
    fn spawn_saver(self: &Arc<Self>, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAVE_EVERY);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let me = me.clone();
                        let _ = tokio::task::spawn_blocking(move || me.save()).await;
                    }
                    _ = cancel.cancelled() => return,
                }
            }
        })
    }

    /// Stops the monitors and writes the uptime state.
    async fn shutdown(self: &Arc<Self>) {
        self.stopped.store(true, Ordering::Release);
        let old = self.lock_scheduler().take();
        if let Some(old) = old {
            old.stop().await;
        }
        let me = self.clone();
        let _ = tokio::task::spawn_blocking(move || me.save()).await;
    }
}

/// The handle [`Probes::start`] returns.
struct RunningProbes {
    probes: Arc<Probes>,
    saver: tokio::task::JoinHandle<()>,
}

impl Running for RunningProbes {
    fn name(&self) -> &'static str {
        "probes"
    }

    fn stop(self: Box<Self>) -> StopFuture {
        Box::pin(async move {
            self.probes.shutdown().await;
            let _ = self.saver.await;
        })
    }
}

/// The target labels Prometheus gives a scrape of blackbox's `/probe`:
/// `job` (the monitor) and `instance` (the target), then the monitor's
/// labels, which may replace either.
fn target_labels(m: &Monitor, target: &str) -> Labels {
    let mut b = LabelsBuilder::new();
    b.set("job", m.name.as_str());
    b.set("instance", target);
    for (k, v) in &m.labels {
        b.set(k.as_str(), v.as_str());
    }
    b.into_labels()
}

/// Stores a result as Prometheus stores a scrape of blackbox's `/probe`:
/// its exposition goes through the scrape append path ([`LocalTarget`]),
/// so a sample's own label that a target label replaces is kept as
/// `exported_<name>` (`honor_labels: false`), and series the previous
/// result wrote and this one lacks (a failed probe writes fewer) get
/// staleness markers. Prometheus would also write `up` and `scrape_*`
/// series; in-process there is no scrape, so they are left out.
///
/// `slot` holds this monitor and target's [`LocalTarget`]; a monitor whose
/// labels changed (a reload) ends its old series and starts anew.
fn store_result(
    appender: &dyn MetricAppender,
    m: &Monitor,
    r: &ProbeResult,
    ts_ms: i64,
    slot: &mut Option<LocalTarget>,
) {
    let labels = target_labels(m, &r.target);
    if slot.as_ref().is_some_and(|t| *t.labels() != labels) {
        if let Some(mut old) = slot.take() {
            old.mark_stale(appender, ts_ms);
        }
    }
    let target = slot.get_or_insert_with(|| LocalTarget::new(labels));
    let body = render_exposition(r);
    if let Err(e) = target.append(appender, body.as_bytes(), ts_ms) {
        tracing::warn!(monitor = %m.name, target = %r.target, error = %e, "storing probe results");
    }
}

/// `sightline_probe_runs_total`, `sightline_probe_failures_total` and
/// `sightline_probe_targets`.
impl Telemetry for ProbeCounters {
    fn report(&self, out: &mut Report) {
        out.counter(
            "sightline_probe_runs",
            "Probes run by the scheduled monitors.",
            self.runs.load(Ordering::Relaxed) as f64,
        );
        out.counter(
            "sightline_probe_failures",
            "Probes of the scheduled monitors that failed (probe_success 0).",
            self.failures.load(Ordering::Relaxed) as f64,
        );
        out.gauge(
            "sightline_probe_targets",
            "Monitor targets being probed.",
            self.targets.load(Ordering::Relaxed) as f64,
        );
    }
}

impl Probes {
    /// Answers one `/probe` request with the modules in force.
    pub fn probe(
        &self,
        query: ProbeQuery,
    ) -> impl std::future::Future<Output = ProbeResponse> + Send + 'static {
        let modules = self
            .endpoint_modules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        async move { probe_endpoint(&modules, &query).await }
    }

    /// Uptime of every monitor target, ordered by monitor and target.
    pub fn uptime(&self) -> Vec<UptimeReport> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.lock_uptime().reports(now)
    }
}

#[cfg(test)]
mod tests;
