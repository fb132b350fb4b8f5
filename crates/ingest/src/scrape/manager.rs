//! The scrape manager: one pool per job, reloads, the targets API.

use super::api::{self, ActiveTarget, DroppedTarget, TargetMetadata, TargetState, TargetsSnapshot};
use super::http::HttpClient;
use super::metadata::MetricMetadata;
use super::metrics::ScrapeMetrics;
use super::pool::{PoolEnv, ScrapePool};
use crate::config::{PrometheusConfig, ScrapeConfig};
use crate::discovery::FILE_POLL_INTERVAL;
use crate::{Error, Result};
use sightline_core::{matches_all, Matcher, MetricAppender};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Scrapes every job of a [`PrometheusConfig`] into a [`MetricAppender`].
///
/// ```no_run
/// # async fn f(store: std::sync::Arc<dyn sightline_core::MetricAppender>) -> sightline_ingest::Result<()> {
/// use sightline_ingest::{config, scrape::ScrapeManager};
/// let manager = ScrapeManager::new(store, config::load_file("prometheus.yml")?);
/// let shutdown = tokio_util::sync::CancellationToken::new();
/// let m = manager.clone();
/// tokio::spawn(async move { m.run(shutdown).await });
/// // On SIGHUP / POST /-/reload:
/// manager.apply_config(config::load_file("prometheus.yml")?)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ScrapeManager {
    inner: Arc<Inner>,
}

struct Inner {
    appender: Arc<dyn MetricAppender>,
    metrics: Arc<ScrapeMetrics>,
    tracker: TaskTracker,
    file_poll: std::time::Duration,
    state: Mutex<State>,
}

struct State {
    config: PrometheusConfig,
    /// Set while [`ScrapeManager::run`] runs.
    shutdown: Option<CancellationToken>,
    /// The runtime `run` was called on; pools spawn their tasks there even
    /// when `apply_config` is called from another thread.
    runtime: Option<tokio::runtime::Handle>,
    pools: BTreeMap<String, ScrapePool>,
}

/// A scrape configuration [`ScrapeManager::prepare`] has checked: every
/// job's HTTP client is built, so applying it cannot fail.
pub struct PreparedConfig {
    config: PrometheusConfig,
    clients: BTreeMap<String, HttpClient>,
}

impl ScrapeManager {
    /// A manager for `config`; nothing is scraped until [`ScrapeManager::run`].
    pub fn new(appender: Arc<dyn MetricAppender>, config: PrometheusConfig) -> Self {
        ScrapeManager::with_file_poll(appender, config, FILE_POLL_INTERVAL)
    }

    /// Like [`ScrapeManager::new`] with a custom period for checking
    /// file_sd files for changes (tests use a short one).
    pub fn with_file_poll(
        appender: Arc<dyn MetricAppender>,
        config: PrometheusConfig,
        file_poll: std::time::Duration,
    ) -> Self {
        ScrapeManager {
            inner: Arc::new(Inner {
                appender,
                metrics: Arc::new(ScrapeMetrics::default()),
                tracker: TaskTracker::new(),
                file_poll,
                state: Mutex::new(State {
                    config,
                    shutdown: None,
                    runtime: None,
                    pools: BTreeMap::new(),
                }),
            }),
        }
    }

    /// Scrapes until `shutdown` is cancelled, then stops every loop without
    /// staleness markers (a restarted server carries on the series) and
    /// waits for them. A job whose HTTP client cannot be built (unreadable
    /// TLS files, bad proxy URL) is logged and skipped, as Prometheus skips
    /// it; the other jobs run. Fails only if already running.
    pub async fn run(&self, shutdown: CancellationToken) -> Result<()> {
        {
            let mut st = self.lock();
            if st.shutdown.is_some() {
                return Err(Error::Scrape("scrape manager is already running".into()));
            }
            st.shutdown = Some(shutdown.clone());
            st.runtime = Some(tokio::runtime::Handle::current());
            let config = st.config.clone();
            if let Err(e) = self.sync_pools(&mut st, &config, BTreeMap::new()) {
                tracing::error!(error = %e, "some scrape pools could not start");
            }
        }
        shutdown.cancelled().await;
        {
            let mut st = self.lock();
            st.shutdown = None;
            Self::stop_all(&mut st, &self.inner.metrics);
        }
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        Ok(())
    }

    /// Starts scraping under `ctx.cancel` and registers the
    /// `sightline_scrape_*` report. A manager that cannot run cancels the
    /// shared token, which stops the server: without scraping it would
    /// serve stale data silently.
    pub fn start(
        &self,
        ctx: &sightline_core::lifecycle::StartContext,
    ) -> Box<dyn sightline_core::lifecycle::Running> {
        ctx.telemetry.register(self.metrics());
        let (me, cancel) = (self.clone(), ctx.cancel.clone());
        Box::new(sightline_core::lifecycle::Task::spawn(
            "scrape",
            async move {
                if let Err(e) = me.run(cancel.clone()).await {
                    tracing::error!(error = %e, "scrape manager stopped");
                    cancel.cancel();
                }
            },
        ))
    }

    /// Applies a reloaded configuration: jobs whose scrape config is
    /// unchanged keep their pool and loops untouched; changed jobs restart
    /// their loops (targets that remain keep their series without markers);
    /// removed jobs stop with staleness markers; new jobs start. A job whose
    /// HTTP client cannot be built is left out (its old pool, if any, is
    /// stopped) and named in the returned error; every other job is applied.
    /// A reload that must apply all or nothing calls [`ScrapeManager::prepare`]
    /// and [`ScrapeManager::apply_prepared`] instead.
    pub fn apply_config(&self, config: PrometheusConfig) -> Result<()> {
        self.apply(config, BTreeMap::new())
    }

    /// Checks `config` without applying it: builds every job's HTTP client
    /// (TLS files, proxy URLs), so that [`ScrapeManager::apply_prepared`]
    /// cannot fail. Every failing job is named in the error.
    pub fn prepare(&self, config: PrometheusConfig) -> Result<PreparedConfig> {
        let mut clients = BTreeMap::new();
        let mut failed = Vec::new();
        for cfg in &config.scrape_configs {
            match HttpClient::new(cfg) {
                Ok(c) => {
                    clients.insert(cfg.job_name.clone(), c);
                }
                Err(e) => failed.push(e),
            }
        }
        if !failed.is_empty() {
            return Err(Error::Scrape(failed.join("; ")));
        }
        Ok(PreparedConfig { config, clients })
    }

    /// Applies a configuration [`ScrapeManager::prepare`] checked, as
    /// [`ScrapeManager::apply_config`] does; no job can fail.
    pub fn apply_prepared(&self, prepared: PreparedConfig) {
        if let Err(e) = self.apply(prepared.config, prepared.clients) {
            // Only reachable if a job's client was missing from the map,
            // which `prepare` rules out; say so rather than hide it.
            tracing::error!(error = %e, "applying a prepared scrape configuration");
        }
    }

    fn apply(&self, config: PrometheusConfig, clients: BTreeMap<String, HttpClient>) -> Result<()> {
        let mut st = self.lock();
        ScrapeMetrics::add(&self.inner.metrics.reloads, 1);
        if st.shutdown.is_none() {
            st.config = config;
            return Ok(());
        }
        let res = self.sync_pools(&mut st, &config, clients);
        st.config = config;
        res
    }

    /// Brings the running pools in line with `config`, with the HTTP
    /// clients in `clients` (by job) or, for jobs without one, new ones.
    fn sync_pools(
        &self,
        st: &mut State,
        config: &PrometheusConfig,
        mut clients: BTreeMap<String, HttpClient>,
    ) -> Result<()> {
        let shutdown = st
            .shutdown
            .clone()
            .expect("sync_pools is only called while running");
        let _runtime = st.runtime.as_ref().map(|h| h.enter());
        let env = PoolEnv {
            appender: self.inner.appender.clone(),
            metrics: self.inner.metrics.clone(),
            tracker: self.inner.tracker.clone(),
            offset_seed: offset_seed(config),
            file_poll: self.inner.file_poll,
        };
        let wanted: BTreeMap<&str, &ScrapeConfig> = config
            .scrape_configs
            .iter()
            .map(|c| (c.job_name.as_str(), c))
            .collect();
        let removed: Vec<String> = st
            .pools
            .keys()
            .filter(|j| !wanted.contains_key(j.as_str()))
            .cloned()
            .collect();
        for job in removed {
            if let Some(p) = st.pools.remove(&job) {
                p.stop(true, &self.inner.metrics);
            }
        }
        let mut failed = Vec::new();
        for (job, cfg) in wanted {
            let previous = match st.pools.get(job) {
                Some(p) if *p.config == *cfg => continue,
                Some(_) => st
                    .pools
                    .remove(job)
                    .map(|p| p.stop(false, &self.inner.metrics))
                    .unwrap_or_default(),
                None => Default::default(),
            };
            let client = match clients.remove(job) {
                Some(c) => Ok(c),
                None => HttpClient::new(cfg),
            };
            match client {
                Ok(client) => {
                    let pool = ScrapePool::start(cfg.clone(), client, &env, &shutdown, previous);
                    st.pools.insert(job.to_owned(), pool);
                }
                Err(e) => {
                    // The replaced loops were handed over to nobody.
                    for (_, l) in previous {
                        l.stop(true);
                    }
                    failed.push(e);
                }
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(Error::Scrape(failed.join("; ")))
        }
    }

    fn stop_all(st: &mut State, metrics: &ScrapeMetrics) {
        for (_, p) in std::mem::take(&mut st.pools) {
            // The shutdown token is cancelled (or the run failed): loops end
            // without markers either way.
            for (_, l) in p.stop(false, metrics) {
                l.stop(false);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The targets as `/api/v1/targets` shows them, optionally filtered by
    /// state and by pool (`scrapePool=`), pools in name order.
    pub fn targets(&self, state: TargetState, pool: Option<&str>) -> TargetsSnapshot {
        let st = self.lock();
        let host = api::hostname();
        let mut snap = TargetsSnapshot::default();
        for (job, p) in &st.pools {
            if pool.is_some_and(|want| want != job) {
                continue;
            }
            let ps = p.state.lock().unwrap_or_else(|e| e.into_inner());
            if state != TargetState::Dropped {
                for t in &ps.active {
                    let last = t.last();
                    snap.active_targets.push(ActiveTarget {
                        discovered_labels: api::label_map(&t.discovered),
                        labels: api::label_map(&t.labels),
                        scrape_pool: job.clone(),
                        scrape_url: t.url.clone(),
                        global_url: api::global_url(&t.url, host.as_deref()),
                        last_error: last.error,
                        last_scrape: api::rfc3339_nanos(last.at),
                        last_scrape_duration: last.duration_secs,
                        health: last.health.as_str().to_owned(),
                        scrape_interval: t.interval.to_string(),
                        scrape_timeout: t.timeout.to_string(),
                    });
                }
            }
            if state != TargetState::Active {
                for d in &ps.dropped {
                    snap.dropped_targets.push(DroppedTarget {
                        discovered_labels: api::label_map(d),
                    });
                }
            }
        }
        snap
    }

    /// `/api/v1/metadata`: each metric family's distinct metadata across all
    /// targets, optionally for one `metric` (a family name, exactly), with
    /// what remote write senders sent (`remote`) after the targets'.
    /// `limit` caps the number of families and `limit_per_metric` the
    /// entries of each (`None`: no cap; `Some(0)` of families: none, as
    /// Prometheus answers `limit=0`).
    pub fn metadata(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
        remote: Option<&crate::remote_metadata::RemoteMetadata>,
    ) -> BTreeMap<String, Vec<MetricMetadata>> {
        let mut out: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
        let mut add = |name: &str, m: MetricMetadata| {
            let list = match out.get_mut(name) {
                Some(l) => l,
                None => out.entry(name.to_owned()).or_default(),
            };
            if !list.contains(&m) {
                list.push(m);
            }
        };
        for t in self.active_targets() {
            match metric {
                Some(want) => {
                    if let Some(m) = t.metadata_of(want) {
                        add(want, m);
                    }
                }
                None => {
                    for (name, m) in t.metadata() {
                        add(&name, m);
                    }
                }
            }
        }
        if let Some(r) = remote {
            for (name, list) in r.snapshot() {
                if metric.is_none_or(|want| want == name) {
                    list.into_iter().for_each(|m| add(&name, m));
                }
            }
        }
        if let Some(limit) = limit {
            out = out.into_iter().take(limit).collect();
        }
        if let Some(n) = limit_per_metric.filter(|n| *n > 0) {
            for list in out.values_mut() {
                list.truncate(n);
            }
        }
        out
    }

    /// `/api/v1/targets/metadata`: metadata per target whose labels match
    /// every matcher of `match_target`, optionally for one `metric`.
    /// `limit` is checked before each target, as Prometheus 2.42 checks it,
    /// so the last target's entries all come even past the limit.
    pub fn targets_metadata(
        &self,
        match_target: &[Matcher],
        metric: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<TargetMetadata> {
        let mut out = Vec::new();
        for t in self.active_targets() {
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            if !matches_all(match_target, &t.labels) {
                continue;
            }
            let target = api::label_map(&t.labels);
            let entry = |metric: String, m: MetricMetadata| TargetMetadata {
                target: target.clone(),
                metric,
                kind: m.kind,
                help: m.help,
                unit: m.unit,
            };
            match metric {
                Some(want) => out.extend(t.metadata_of(want).map(|m| entry(String::new(), m))),
                None => out.extend(t.metadata().into_iter().map(|(n, m)| entry(n, m))),
            }
        }
        out
    }

    fn active_targets(&self) -> Vec<Arc<super::Target>> {
        let st = self.lock();
        st.pools
            .values()
            .flat_map(|p| {
                p.state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .active
                    .clone()
            })
            .collect()
    }

    /// Job names, for `/api/v1/scrape_pools`.
    pub fn scrape_pools(&self) -> Vec<String> {
        self.lock().pools.keys().cloned().collect()
    }

    /// File-discovery errors per job (last read), for diagnostics.
    pub fn discovery_errors(&self) -> BTreeMap<String, Vec<String>> {
        let st = self.lock();
        st.pools
            .iter()
            .map(|(job, p)| {
                let ps = p.state.lock().unwrap_or_else(|e| e.into_inner());
                (job.clone(), ps.discovery_errors.clone())
            })
            .filter(|(_, e)| !e.is_empty())
            .collect()
    }

    /// Self-metrics; [`ScrapeMetrics::render`] prints them.
    pub fn metrics(&self) -> Arc<ScrapeMetrics> {
        self.inner.metrics.clone()
    }

    /// The configuration in force.
    pub fn config(&self) -> PrometheusConfig {
        self.lock().config.clone()
    }
}

/// Spreads this server's scrape slots differently from another server
/// scraping the same targets (Prometheus seeds with its external labels).
fn offset_seed(config: &PrometheusConfig) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (k, v) in &config.global.external_labels {
        h.update(k.as_bytes());
        h.update(&[0xff]);
        h.update(v.as_bytes());
        h.update(&[0xff]);
    }
    h.digest()
}
