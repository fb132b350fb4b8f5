//! Probes in the server: the config file's `probes:` section and the
//! `--probe.modules-file` flag become a running [`ProbeScheduler`] whose
//! results go to the TSDB (as Prometheus would store a scrape of blackbox's
//! `/probe`) and to an [`UptimeTracker`] kept in `<data dir>/probes/`; the
//! same modules answer blackbox's `/probe` and `/api/v1/uptime` (the routes
//! live in `sightline_api::native`).

use crate::config::ProbesSection;
use anyhow::Context;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use sightline_core::{Labels, LabelsBuilder, MetricAppender, STALE_NAN};
use sightline_probe::{
    probe_endpoint, BlackboxConfig, Module, Monitor, ProbeCallback, ProbeQuery, ProbeResponse,
    ProbeResult, ProbeScheduler, UptimeReport, UptimeTracker,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the uptime state is written while running; a crash loses at
/// most this much uptime history, and the file is small.
const SAVE_EVERY: Duration = Duration::from_secs(60);

/// The `--probe.*` flags of `sightline serve`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ProbeArgs {
    /// A blackbox_exporter configuration file (`modules:`): its modules
    /// answer `/probe?module=...`, and `probes:` monitors may name them
    /// (unless the section sets its own `modules_file`).
    #[arg(long = "probe.modules-file")]
    pub modules_file: Option<PathBuf>,
}

/// What a configuration gives the probe subsystem.
#[derive(Debug, Default)]
pub struct ProbeSetup {
    /// The monitors to schedule.
    pub monitors: Vec<Monitor>,
    /// The modules `/probe` serves, by name.
    pub endpoint_modules: BTreeMap<String, Module>,
}

/// Reads the modules file of `--probe.modules-file` and the config's
/// `probes:` section (read by the config root, [`crate::config`]); paths in
/// the section are relative to the folder of the file it is written in.
/// Errors carry file:line:col.
pub fn load_setup(
    section: Option<&ProbesSection>,
    modules_flag: Option<&Path>,
) -> anyhow::Result<ProbeSetup> {
    let mut endpoint_modules = match modules_flag {
        Some(p) => {
            BlackboxConfig::load(p)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .modules
        }
        None => BTreeMap::new(),
    };
    let Some(section) = section else {
        return Ok(ProbeSetup {
            monitors: Vec::new(),
            endpoint_modules,
        });
    };
    let mut cfg = section.config.clone();
    if let Some(f) = &cfg.modules_file {
        endpoint_modules.extend(
            BlackboxConfig::load(&section.base.join(f))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .modules,
        );
    } else if let Some(p) = modules_flag {
        // Monitors may name the flag's modules: hand the file to the section
        // as its own (absolute, so joining it to `base` leaves it alone).
        let abs = std::path::absolute(p).with_context(|| format!("{}", p.display()))?;
        cfg.modules_file = Some(abs.display().to_string());
    }
    endpoint_modules.extend(cfg.modules.clone());
    let monitors = cfg
        .monitors(&section.base)
        .map_err(|e| anyhow::anyhow!("{}", locate_error(section, &e.to_string())))?;
    Ok(ProbeSetup {
        monitors,
        endpoint_modules,
    })
}

/// Adds `file:line:col` to an error of the checks done after parsing, which
/// name only a field path (`probes.monitors[1].module: unknown module ...`).
fn locate_error(section: &ProbesSection, msg: &str) -> String {
    match msg.split_once(": ") {
        Some((path, rest)) if path.starts_with("probes.") => {
            sightline_config::yaml::locate(&section.text, &section.file, path, rest)
        }
        // Already located (a modules file's error names that file).
        _ => msg.to_string(),
    }
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
type LastSeries = Arc<Mutex<HashMap<(String, String), Vec<Labels>>>>;

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
    /// Opens the uptime state in `<data_dir>/probes/` and starts the
    /// monitors of `setup` on the current runtime.
    pub fn start(
        setup: ProbeSetup,
        appender: Arc<dyn MetricAppender>,
        data_dir: &Path,
    ) -> anyhow::Result<Arc<Probes>> {
        let dir = data_dir.join("probes");
        let uptime = UptimeTracker::open(&dir)
            .map_err(|e| anyhow::anyhow!("opening the uptime state in {}: {e}", dir.display()))?;
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
        let gone: Vec<Vec<Labels>> = {
            let mut last = self.last_series.lock().unwrap_or_else(|e| e.into_inner());
            let keys: Vec<_> = last.keys().filter(|k| !keep.contains(k)).cloned().collect();
            keys.iter().filter_map(|k| last.remove(k)).collect()
        };
        if !gone.is_empty() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            mark_stale(self.appender.as_ref(), gone.iter().flatten(), now);
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
            let mut last = last_series
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key)
                .unwrap_or_default();
            store_result(appender.as_ref(), m, r, ts_ms, &mut last);
            last_series
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, last);
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
    pub fn spawn_saver(self: &Arc<Self>, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
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
    pub async fn shutdown(self: &Arc<Self>) {
        self.stopped.store(true, Ordering::Release);
        let old = self.lock_scheduler().take();
        if let Some(old) = old {
            old.stop().await;
        }
        let me = self.clone();
        let _ = tokio::task::spawn_blocking(move || me.save()).await;
    }

    /// The `/metrics` collector for this subsystem.
    pub fn collector(&self) -> ProbeCollector {
        ProbeCollector(self.counters.clone())
    }
}

/// Appends a result's samples with the labels Prometheus gives a scrape of
/// blackbox's `/probe`: `job` (the monitor) and `instance` (the target) and
/// the monitor's labels, which win over a sample's own label of the same
/// name (kept as `exported_<name>`, as `honor_labels: false` does).
/// Prometheus would also write `up` and `scrape_*` series; in-process there
/// is no scrape, so `up` would always be 1 and is left out.
///
/// `last` holds the series the previous result of this monitor and target
/// wrote; those this result lacks (a failed probe writes fewer series than
/// a successful one) get a staleness marker, and `last` becomes this
/// result's series.
fn store_result(
    appender: &dyn MetricAppender,
    m: &Monitor,
    r: &ProbeResult,
    ts_ms: i64,
    last: &mut Vec<Labels>,
) {
    let mut target: Vec<(&str, &str)> =
        vec![("job", m.name.as_str()), ("instance", r.target.as_str())];
    target.retain(|(k, _)| !m.labels.contains_key(*k));
    target.extend(m.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut now = Vec::new();
    let mut app = appender.appender();
    for family in &r.families {
        for sample in &family.samples {
            let mut b = LabelsBuilder::new();
            for (k, v) in &sample.labels {
                b.set(k.as_str(), v.as_str());
            }
            for (k, v) in &target {
                if let Some(own) = b.get(k).map(str::to_owned) {
                    b.set(format!("exported_{k}"), own);
                }
                b.set(*k, *v);
            }
            b.set("__name__", family.name);
            let labels = b.into_labels();
            if let Err(e) = app.append(0, &labels, ts_ms, sample.value) {
                tracing::debug!(monitor = %m.name, target = %r.target, series = family.name, error = %e, "probe sample not stored");
            }
            now.push(labels);
        }
    }
    now.sort_unstable();
    for gone in last.iter().filter(|l| now.binary_search(l).is_err()) {
        // Refused only when a newer sample exists, which makes it moot.
        let _ = app.append(0, gone, ts_ms, STALE_NAN);
    }
    if let Err(e) = app.commit() {
        tracing::warn!(monitor = %m.name, target = %r.target, error = %e, "storing probe results");
    }
    *last = now;
}

/// Writes a staleness marker at `ts_ms` for each of `series`.
fn mark_stale<'a>(
    appender: &dyn MetricAppender,
    series: impl Iterator<Item = &'a Labels>,
    ts_ms: i64,
) {
    let mut app = appender.appender();
    for l in series {
        let _ = app.append(0, l, ts_ms, STALE_NAN);
    }
    if let Err(e) = app.commit() {
        tracing::warn!(error = %e, "marking removed probe series stale");
    }
}

impl sightline_api::native::ProbeSource for Probes {
    fn probe(&self, query: ProbeQuery) -> sightline_api::BoxFuture<ProbeResponse> {
        let modules = self
            .endpoint_modules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Box::pin(async move { probe_endpoint(&modules, &query).await })
    }

    fn uptime(&self) -> Vec<UptimeReport> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.lock_uptime().reports(now)
    }
}

/// `sightline_probe_runs_total`, `sightline_probe_failures_total` and
/// `sightline_probe_targets`.
#[derive(Debug)]
pub struct ProbeCollector(Arc<ProbeCounters>);

impl Collector for ProbeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use crate::telemetry::{encode_counter, encode_gauge};
        let c = &self.0;
        encode_counter(
            &mut encoder,
            "sightline_probe_runs",
            "Probes run by the scheduled monitors.",
            c.runs.load(Ordering::Relaxed) as f64,
        )?;
        encode_counter(
            &mut encoder,
            "sightline_probe_failures",
            "Probes of the scheduled monitors that failed (probe_success 0).",
            c.failures.load(Ordering::Relaxed) as f64,
        )?;
        encode_gauge(
            &mut encoder,
            "sightline_probe_targets",
            "Monitor targets being probed.",
            c.targets.load(Ordering::Relaxed) as f64,
        )
    }
}

#[cfg(test)]
mod tests;
