//! A scrape pool: one job's targets and their loops, kept in step with the
//! job's discovery.

use super::append::AppendSettings;
use super::http::HttpClient;
use super::metrics::ScrapeMetrics;
use super::scrape_loop::{spawn_loop, LoopHandle, LoopParams};
use super::target::{targets_from_groups, Populated, Target};
use crate::config::ScrapeConfig;
use crate::discovery::{run_job_discovery, DiscoveryState};
use sightline_core::{Labels, MetricAppender};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Shared by every pool of a manager.
#[derive(Clone)]
pub(crate) struct PoolEnv {
    pub appender: Arc<dyn MetricAppender>,
    pub metrics: Arc<ScrapeMetrics>,
    pub tracker: TaskTracker,
    pub offset_seed: u64,
    pub file_poll: std::time::Duration,
}

/// What the pool shows and owns; behind a mutex shared with its sync task.
pub(crate) struct PoolState {
    pub active: Vec<Arc<Target>>,
    pub dropped: Vec<Labels>,
    loops: HashMap<u64, LoopHandle>,
    /// Loops of the pool this one replaces (config reload), handed over at
    /// the first sync: same target, so no staleness markers.
    inherited: HashMap<u64, LoopHandle>,
    pub discovery_errors: Vec<String>,
    /// Set by [`ScrapePool::stop`]; a sync racing with it does nothing.
    stopped: bool,
}

/// One job.
pub(crate) struct ScrapePool {
    pub config: Arc<ScrapeConfig>,
    pub state: Arc<Mutex<PoolState>>,
    cancel: CancellationToken,
}

impl ScrapePool {
    /// Starts discovery and loops for `cfg`. `previous` are the loops of the
    /// pool being replaced on reload.
    pub fn start(
        cfg: ScrapeConfig,
        client: HttpClient,
        env: &PoolEnv,
        shutdown: &CancellationToken,
        previous: HashMap<u64, LoopHandle>,
    ) -> ScrapePool {
        let config = Arc::new(cfg);
        let cancel = shutdown.child_token();
        let state = Arc::new(Mutex::new(PoolState {
            active: Vec::new(),
            dropped: Vec::new(),
            loops: HashMap::new(),
            inherited: previous,
            discovery_errors: Vec::new(),
            stopped: false,
        }));
        let metrics = env.metrics.clone();
        let job = config.job_name.clone();
        let on_error: Arc<dyn Fn(&str) + Send + Sync> = Arc::new(move |e: &str| {
            ScrapeMetrics::add(&metrics.file_sd_read_errors, 1);
            tracing::warn!(job = %job, error = %e, "file discovery failed; keeping last good targets");
        });
        let mut rx = run_job_discovery(&config, env.file_poll, cancel.clone(), on_error);
        let forced_error = Arc::new(RwLock::new(None));
        let syncer = Syncer {
            config: config.clone(),
            client,
            env: env.clone(),
            state: state.clone(),
            forced_error,
            loop_shutdown: shutdown.clone(),
        };
        // The first sync happens now, so targets show up before this returns.
        syncer.sync(&rx.borrow_and_update());
        let watch_cancel = cancel.clone();
        env.tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = watch_cancel.cancelled() => return,
                    changed = rx.changed() => if changed.is_err() { return },
                }
                let snapshot: DiscoveryState = rx.borrow_and_update().clone();
                syncer.sync(&snapshot);
            }
        });
        ScrapeMetrics::add(&env.metrics.pools, 1);
        ScrapePool {
            config,
            state,
            cancel,
        }
    }

    /// Stops the pool. With `stale`, loops write staleness markers for their
    /// series (the job was removed) and nothing is returned; without, the
    /// running loops are returned for the pool that replaces this one.
    pub fn stop(self, stale: bool, metrics: &ScrapeMetrics) -> HashMap<u64, LoopHandle> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.stopped = true;
        // Discovery and the sync task end; loops get their own stop below.
        let loops = std::mem::take(&mut st.loops);
        for (_, l) in st.inherited.drain() {
            l.stop(true);
        }
        metrics
            .pools
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        sub_gauge(&metrics.active_targets, st.active.len());
        sub_gauge(&metrics.dropped_targets, st.dropped.len());
        st.active.clear();
        st.dropped.clear();
        drop(st);
        self.cancel.cancel();
        if stale {
            for (_, l) in loops {
                l.stop(true);
            }
            HashMap::new()
        } else {
            loops
        }
    }
}

fn sub_gauge(g: &std::sync::atomic::AtomicU64, n: usize) {
    g.fetch_sub(n as u64, std::sync::atomic::Ordering::Relaxed);
}

/// Applies discovery results to a pool.
struct Syncer {
    config: Arc<ScrapeConfig>,
    client: HttpClient,
    env: PoolEnv,
    state: Arc<Mutex<PoolState>>,
    forced_error: Arc<RwLock<Option<String>>>,
    /// Loops hang off the manager's shutdown token, not the pool's, so that
    /// a stopped pool's loops can still write staleness markers or be
    /// handed over alive to the pool replacing it.
    loop_shutdown: CancellationToken,
}

impl Syncer {
    fn sync(&self, ds: &DiscoveryState) {
        let cfg = &self.config;
        let mut active: Vec<Target> = Vec::new();
        let mut dropped = Vec::new();
        for p in targets_from_groups(cfg, &ds.groups) {
            match p {
                Populated::Active(t) => active.push(t),
                Populated::Dropped(l) => dropped.push(l),
                Populated::Invalid(l, e) => {
                    tracing::warn!(job = %cfg.job_name, target = %l, error = %e, "invalid target");
                }
            }
        }
        // Identical targets (same labels and URL) are scraped once.
        let mut seen = std::collections::HashSet::new();
        active.retain(|t| seen.insert(t.hash()));

        let limit_error =
            (cfg.target_limit > 0 && active.len() as u64 > cfg.target_limit).then(|| {
                format!(
                    "target_limit exceeded (number of targets: {}, limit: {})",
                    active.len(),
                    cfg.target_limit
                )
            });
        if limit_error.is_some() {
            ScrapeMetrics::add(&self.env.metrics.target_limit_exceeded, 1);
        }
        *self.forced_error.write().unwrap_or_else(|e| e.into_inner()) = limit_error;

        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.stopped {
            return;
        }
        let mut loops = std::mem::take(&mut st.loops);
        let mut next_loops = HashMap::with_capacity(active.len());
        let mut next_active = Vec::with_capacity(active.len());
        for t in active {
            let h = t.hash();
            if let Some(l) = loops.remove(&h) {
                // Unchanged target: keep its loop and its health.
                next_active.push(l.target.clone());
                next_loops.insert(h, l);
                continue;
            }
            let target = Arc::new(t);
            let settings = AppendSettings {
                target_labels: target.labels.clone(),
                honor_labels: cfg.honor_labels,
                honor_timestamps: cfg.honor_timestamps,
                metric_relabel: Arc::new(cfg.metric_relabel_configs.clone()),
                sample_limit: cfg.sample_limit,
                label_limit: cfg.label_limit,
                label_name_length_limit: cfg.label_name_length_limit,
                label_value_length_limit: cfg.label_value_length_limit,
            };
            // The loop this target had before a reload: its cache carries
            // over when samples are labeled the same way.
            let handover_in = st.inherited.remove(&h).map(|old| {
                let cell = old.stop_for_handover();
                (old.settings == settings).then_some(cell)
            });
            let params = LoopParams {
                target: target.clone(),
                client: self.client.clone(),
                settings,
                body_size_limit: cfg.body_size_limit.0,
                appender: self.env.appender.clone(),
                metrics: self.env.metrics.clone(),
                forced_error: self.forced_error.clone(),
                offset_seed: self.env.offset_seed,
                handover_in: handover_in.flatten(),
            };
            next_active.push(target);
            next_loops.insert(
                h,
                spawn_loop(params, &self.loop_shutdown, &self.env.tracker),
            );
        }
        // Targets that went away: their series go stale.
        for (_, l) in loops {
            l.stop(true);
        }
        for (_, l) in st.inherited.drain() {
            l.stop(true);
        }
        let m = &self.env.metrics;
        sub_gauge(&m.active_targets, st.active.len());
        sub_gauge(&m.dropped_targets, st.dropped.len());
        ScrapeMetrics::add(&m.active_targets, next_active.len() as u64);
        ScrapeMetrics::add(&m.dropped_targets, dropped.len() as u64);
        st.active = next_active;
        st.dropped = dropped;
        st.loops = next_loops;
        st.discovery_errors = ds.errors.clone();
    }
}
