//! `sightline serve`: opens the store, starts one task per subsystem under
//! one cancellation token, serves HTTP, and on SIGTERM/SIGINT stops the
//! tasks and flushes the WAL.

use crate::cli::ServeArgs;
use crate::telemetry::{ProcessCollector, ScrapeCollector, TsdbCollector};
use anyhow::Context;
use prometheus_client::registry::Registry;
use sightline_api::{ApiState, BoxFuture, HeadStats, Reloader, StatusSource, TargetsSource};
use sightline_core::{bytesize, duration};
use sightline_ingest::config::{self, PrometheusConfig};
use sightline_ingest::scrape::{ScrapeManager, TargetState};
use sightline_tsdb::{Db, Options};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs the server until a termination signal.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Two workers: the machines we target have two cores, and scraping,
    // HTTP and the TSDB's own threads share them.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("sightline")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(serve(args))
}

/// The configuration in force: the user's file, or a self-scrape.
fn load_config(args: &ServeArgs) -> anyhow::Result<PrometheusConfig> {
    let cfg = match &args.config {
        Some(path) => config::load_file(path)?,
        None => config::load_str(
            &default_config_yaml(&args.listen.to_string()),
            "<built-in default configuration>",
        )?,
    };
    // Parts of a prometheus.yml we accept but do not act on (discovery
    // kinds we lack, say) are worth a line each, not a refusal.
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
    Ok(cfg)
}

/// Without a config file Sightline scrapes itself, so a fresh install has
/// data to look at and proves the scrape path works.
fn default_config_yaml(listen: &str) -> String {
    format!(
        "global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n\
         scrape_configs:\n  - job_name: sightline\n    static_configs:\n      - targets: ['{listen}']\n"
    )
}

fn tsdb_options(args: &ServeArgs) -> anyhow::Result<Options> {
    Ok(Options {
        retention_time_ms: duration::parse_prometheus(&args.retention_time)
            .context("--retention.time")?,
        // Prometheus's TSDB reads a negative size as 0, "no limit".
        retention_size_bytes: bytesize::parse_base2(&args.retention_size)
            .context("--retention.size")?
            .max(0) as u64,
        out_of_order_time_window_ms: duration::parse_prometheus(&args.out_of_order_window)
            .context("--storage.tsdb.out-of-order-time-window")?,
        ..Options::default()
    })
}

/// The `probes:` section of the config file's `text` with the
/// `--probe.modules-file` modules; paths in it are relative to the file.
fn probe_setup(
    path: Option<&std::path::Path>,
    text: &str,
    modules_flag: Option<&std::path::Path>,
) -> anyhow::Result<crate::probes::ProbeSetup> {
    let file = path.map_or_else(
        || "<built-in default configuration>".to_string(),
        |p| p.display().to_string(),
    );
    crate::probes::load_setup(text, &file, &config_dir(path), modules_flag)
}

/// The directory rule file globs are relative to: the config file's.
fn config_dir(path: Option<&std::path::Path>) -> PathBuf {
    path.and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The rule evaluator over the store, with the query engine's limits and
/// the config's external labels. Alerts due for sending go to `notify`.
fn rule_manager(
    db: &Arc<Db>,
    config: &PrometheusConfig,
    promql: &sightline_api::prometheus::QueryEngine,
    args: &ServeArgs,
    notify: sightline_rules::NotifyFn,
) -> anyhow::Result<sightline_rules::RuleManager> {
    let ctx = sightline_rules::RuleContext {
        querier: db.clone(),
        appender: db.clone(),
        engine: sightline_promql::Engine::new(promql.options().clone()),
        external_labels: sightline_core::Labels::from_pairs(
            config
                .global
                .external_labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        ),
        external_url: args.external_url(),
    };
    let mut opts = sightline_rules::ManagerOptions::new(ctx);
    opts.notify = Some(notify);
    if let Some(i) = config_eval_interval(config) {
        opts.default_interval = i;
    }
    Ok(sightline_rules::RuleManager::new(opts))
}

/// Loads the rule files and the rule groups generated from the `slos:`
/// specs into the rule manager, all or nothing; returns the SLOs.
fn load_rules(
    rules: &sightline_rules::RuleManager,
    config: &PrometheusConfig,
    base: &std::path::Path,
) -> anyhow::Result<Vec<sightline_slo::Slo>> {
    let mut files = sightline_rules::load_rule_files(&config.rule_files, base)
        .map_err(|e| anyhow::anyhow!("loading rule files: {e}"))?;
    let (slos, generated) = crate::slo::load_config_slos(&config.slos, base)?;
    files.extend(generated);
    rules.set_files(&files);
    Ok(slos)
}

/// `global.evaluation_interval`, the default interval of rule groups.
fn config_eval_interval(config: &PrometheusConfig) -> Option<Duration> {
    let d = config.global.evaluation_interval.0;
    (!d.is_zero()).then_some(d)
}

/// The PromQL engine with the `--query.*` limits.
fn query_engine(args: &ServeArgs) -> anyhow::Result<sightline_api::prometheus::QueryEngine> {
    let ms = |flag: &str, v: &str| -> anyhow::Result<Duration> {
        let ms = duration::parse_prometheus(v).with_context(|| format!("--{flag}"))?;
        Ok(Duration::from_millis(ms.max(0) as u64))
    };
    let timeout = ms("query.timeout", &args.query_timeout)?;
    let opts = sightline_promql::EngineOptions {
        lookback_delta: ms("query.lookback-delta", &args.query_lookback_delta)?,
        max_samples: args.query_max_samples,
        // Prometheus reads a zero timeout as "none".
        timeout: (!timeout.is_zero()).then_some(timeout),
        // Prometheus serves with `promql-delayed-name-removal` off unless
        // the feature flag is given; dashboards expect its default.
        delayed_name_removal: false,
        ..sightline_promql::EngineOptions::default()
    };
    if opts.lookback_delta.is_zero() {
        anyhow::bail!("--query.lookback-delta must be greater than zero");
    }
    Ok(sightline_api::prometheus::QueryEngine::new(
        opts,
        args.query_max_concurrency,
    ))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = load_config(&args)?;
    let config_yaml = config_text(args.config.as_deref(), &args.listen.to_string());
    // Checked before anything starts, so a bad section refuses the start.
    let probe_setup = probe_setup(
        args.config.as_deref(),
        &config_yaml,
        args.probe.modules_file.as_deref(),
    )?;
    let mut opts = tsdb_options(&args)?;
    opts.max_exemplars = config.max_exemplars();
    let promql = Arc::new(query_engine(&args)?);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    tracing::info!(dir = %args.data_dir.display(), "opening TSDB (replaying the WAL)");
    let db = Db::open(&args.data_dir, opts)
        .with_context(|| format!("opening the TSDB in {}", args.data_dir.display()))?;
    tracing::info!(head_series = db.stats().head_series, "TSDB open");
    let probes = crate::probes::Probes::start(probe_setup, db.clone(), &args.data_dir)?;

    let sender = crate::alerting::new_sender();
    sender
        .apply_config(&config.alerting)
        .map_err(|e| anyhow::anyhow!("alerting: {e}"))?;
    let alertmanager = match &args.alertmanager_config {
        Some(path) => Some(crate::alerting::start_alertmanager(
            path,
            &args.data_dir,
            &args.external_url(),
        )?),
        None => None,
    };
    let mut sinks = vec![crate::alerting::external_sink(sender.clone())];
    if let Some(am) = &alertmanager {
        sinks.push(crate::alerting::internal_sink(am.clone()));
    }
    let notify = crate::alerting::notify_fn(sinks);
    let rules = Arc::new(rule_manager(&db, &config, &promql, &args, notify)?);
    let rule_base = config_dir(args.config.as_deref());
    let slos = load_rules(&rules, &config, &rule_base)?;
    let slo_state = Arc::new(crate::slo::SloState {
        slos: Mutex::new(slos),
        querier: crate::slo::StoreQuerier {
            engine: sightline_promql::Engine::new(promql.options().clone()),
            querier: db.clone(),
        },
    });

    let cancel = CancellationToken::new();
    let scrape = ScrapeManager::new(db.clone(), config);
    let reloader = Arc::new(ConfigReloader {
        path: args.config.clone(),
        listen: args.listen.to_string(),
        scrape: scrape.clone(),
        rules: rules.clone(),
        slos: slo_state.clone(),
        sender: sender.clone(),
        alertmanager: alertmanager.clone().zip(args.alertmanager_config.clone()),
        probes: probes.clone(),
        probe_modules: args.probe.modules_file.clone(),
        last_success: AtomicBool::new(true),
        last_success_time: AtomicU64::new(now_secs()),
        yaml: Mutex::new(config_yaml),
        db: db.clone(),
    });

    let mut registry = Registry::default();
    registry.register_collector(Box::new(ProcessCollector::new()));
    registry.register_collector(Box::new(TsdbCollector::new(db.clone())));
    registry.register_collector(Box::new(ScrapeCollector::new(scrape.metrics())));
    registry.register_collector(Box::new(reloader.clone()));
    registry.register_collector(Box::new(crate::alerting::RuleCollector(rules.clone())));
    registry.register_collector(Box::new(crate::alerting::SenderCollector(sender.clone())));
    if let Some(am) = &alertmanager {
        registry.register_collector(Box::new(crate::alerting::AlertmanagerCollector(am.clone())));
    }
    registry.register_collector(Box::new(probes.collector()));
    let remote_write = Arc::new(sightline_api::prometheus::RemoteWriteCounters::default());
    registry.register_collector(Box::new(remote_write.clone()));

    let ready = Arc::new(AtomicBool::new(false));
    let state = ApiState {
        appendable: db.clone(),
        querier: db.clone(),
        targets: Arc::new(ScrapeTargets(scrape.clone())),
        metadata: Arc::new(ScrapeMetadata {
            scrape: scrape.clone(),
            remote: Arc::default(),
        }),
        rules: Arc::new(RuleSnapshots(rules.clone())),
        reloader: reloader.clone(),
        registry: Arc::new(registry),
        ready: ready.clone(),
        remote_write,
        promql,
        status: Arc::new(ServerStatus {
            flags: {
                let mut flags = args.flag_map();
                let modules = args.probe.modules_file.as_ref();
                flags.insert(
                    "probe.modules-file".into(),
                    modules.map(|p| p.display().to_string()).unwrap_or_default(),
                );
                flags
            },
            retention: args.retention_time.clone(),
            started: std::time::SystemTime::now(),
            db: db.clone(),
            reloader: reloader.clone(),
        }),
    };

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(addr = %args.listen, "listening");

    let scrape_task = {
        let scrape = scrape.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if let Err(e) = scrape.run(cancel.clone()).await {
                tracing::error!(error = %e, "scrape manager stopped");
                cancel.cancel();
            }
        })
    };
    let sender_task = tokio::spawn(sender.clone().run(cancel.clone()));
    let uptime_saver = probes.spawn_saver(cancel.clone());
    // Rule evaluation blocks (queries, appends), so it has a thread of its own.
    let rules_stop = Arc::new(AtomicBool::new(false));
    let rules_thread = {
        let (rules, stop) = (rules.clone(), rules_stop.clone());
        std::thread::Builder::new()
            .name("sightline-rules".into())
            .spawn(move || rules.run(&stop))
            .context("starting the rule evaluator")?
    };
    spawn_signal_handlers(cancel.clone(), reloader.clone());
    ready.store(true, Ordering::Release);

    let mut app = sightline_api::router(state)
        .merge(sightline_api::native::slo_routes(slo_state))
        .merge(sightline_api::native::probe_routes(probes.clone()));
    if let Some(am) = &alertmanager {
        app = app.merge(sightline_api::alertmanager::routes(am.clone()));
    }
    let server =
        axum::serve(listener, app).with_graceful_shutdown(cancel.clone().cancelled_owned());
    let served = server.await;
    cancel.cancel();
    let _ = scrape_task.await;
    rules_stop.store(true, Ordering::Release);
    let _ = tokio::task::spawn_blocking(move || rules_thread.join()).await;
    let _ = sender_task.await;
    probes.shutdown().await;
    let _ = uptime_saver.await;
    if let Some(am) = &alertmanager {
        if let Err(e) = am.shutdown() {
            tracing::error!(error = %e, "stopping the Alertmanager");
        }
    }
    tracing::info!("flushing the TSDB");
    db.close().context("closing the TSDB")?;
    served.context("HTTP server")?;
    Ok(())
}

fn spawn_signal_handlers(cancel: CancellationToken, reloader: Arc<ConfigReloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let c = cancel.clone();
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("received SIGTERM, shutting down"),
            _ = int.recv() => tracing::info!("received SIGINT, shutting down"),
            _ = c.cancelled() => {}
        }
        c.cancel();
    });
    tokio::spawn(async move {
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    if let Err(e) = reloader.clone().reload().await {
                        tracing::error!(error = %e, "reload on SIGHUP failed; the running configuration stays in force");
                    }
                }
                _ = cancel.cancelled() => return,
            }
        }
    });
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Re-reads the config file and applies it to every subsystem. A file
/// that does not load is refused as a whole: nothing changes.
pub struct ConfigReloader {
    path: Option<PathBuf>,
    listen: String,
    scrape: ScrapeManager,
    rules: Arc<sightline_rules::RuleManager>,
    slos: Arc<crate::slo::SloState>,
    sender: Arc<sightline_ingest::alert_sender::AlertSender>,
    /// The built-in Alertmanager and its config file, reloaded with the rest.
    alertmanager: Option<(Arc<sightline_alertmanager::manager::Alertmanager>, PathBuf)>,
    /// Probe monitors and `/probe` modules, replaced with the rest.
    probes: Arc<crate::probes::Probes>,
    /// `--probe.modules-file`, re-read on reload as blackbox re-reads its file.
    probe_modules: Option<PathBuf>,
    last_success: AtomicBool,
    last_success_time: AtomicU64,
    /// The text of the configuration in force, for `/api/v1/status/config`.
    yaml: Mutex<String>,
    /// For `storage.exemplars.max_exemplars`, which a reload resizes.
    db: Arc<Db>,
}

/// The text of the configuration file, or of the built-in default.
fn config_text(path: Option<&std::path::Path>, listen: &str) -> String {
    match path {
        Some(p) => std::fs::read_to_string(p).unwrap_or_default(),
        None => default_config_yaml(listen),
    }
}

impl ConfigReloader {
    fn reload_now(&self) -> Result<(), String> {
        let loaded = match &self.path {
            Some(p) => config::load_file(p),
            None => config::load_str(
                &default_config_yaml(&self.listen),
                "<built-in default configuration>",
            ),
        };
        // Rule files first: a file that does not load refuses the whole
        // reload before anything changes.
        let base = config_dir(self.path.as_deref());
        let text = config_text(self.path.as_deref(), &self.listen);
        let result = loaded.map_err(|e| e.to_string()).and_then(|cfg| {
            let probe_setup =
                probe_setup(self.path.as_deref(), &text, self.probe_modules.as_deref())
                    .map_err(|e| format!("{e:#}"))?;
            if let Some(i) = config_eval_interval(&cfg) {
                self.rules.set_default_interval(i);
            }
            let slos = load_rules(&self.rules, &cfg, &base).map_err(|e| format!("{e:#}"))?;
            *self.slos.slos.lock().unwrap_or_else(|e| e.into_inner()) = slos;
            if let Some((am, path)) = &self.alertmanager {
                crate::alerting::reload_alertmanager(am, path)?;
            }
            self.sender
                .apply_config(&cfg.alerting)
                .map_err(|e| format!("alerting: {e}"))?;
            self.db.set_max_exemplars(cfg.max_exemplars());
            self.scrape.apply_config(cfg).map_err(|e| e.to_string())?;
            self.probes.apply(probe_setup);
            Ok(())
        });
        match &result {
            Ok(()) => {
                if let Ok(mut y) = self.yaml.lock() {
                    *y = text;
                }
                self.last_success.store(true, Ordering::Release);
                self.last_success_time.store(now_secs(), Ordering::Release);
                tracing::info!("configuration reloaded");
            }
            Err(e) => {
                self.last_success.store(false, Ordering::Release);
                tracing::error!(error = %e, "configuration reload failed");
            }
        }
        result
    }
}

impl std::fmt::Debug for ConfigReloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigReloader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// `sightline_config_last_reload_successful` and its timestamp, named as
/// Prometheus's own so the usual "config reload failed" alert ports over.
impl prometheus_client::collector::Collector for ConfigReloader {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        let ok = self.last_success.load(Ordering::Acquire);
        let at = self.last_success_time.load(Ordering::Acquire);
        crate::telemetry::encode_gauge(
            &mut encoder,
            "sightline_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            if ok { 1.0 } else { 0.0 },
        )?;
        crate::telemetry::encode_gauge(
            &mut encoder,
            "sightline_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            at as f64,
        )
    }
}

impl Reloader for ConfigReloader {
    fn reload(self: Arc<Self>) -> BoxFuture<Result<(), String>> {
        let me = self;
        // Reading files and building HTTP clients blocks; keep it off the
        // async workers.
        Box::pin(async move {
            tokio::task::spawn_blocking(move || me.reload_now())
                .await
                .map_err(|e| format!("reload task failed: {e}"))?
        })
    }
}

struct RuleSnapshots(Arc<sightline_rules::RuleManager>);

impl sightline_api::RulesSource for RuleSnapshots {
    fn rules(&self) -> serde_json::Value {
        serde_json::to_value(self.0.rules_snapshot()).unwrap_or(serde_json::Value::Null)
    }
    fn alerts(&self) -> serde_json::Value {
        serde_json::to_value(self.0.alerts_snapshot()).unwrap_or(serde_json::Value::Null)
    }
}

struct ScrapeTargets(ScrapeManager);

impl TargetsSource for ScrapeTargets {
    fn targets(&self, state: &str) -> serde_json::Value {
        let state = match state {
            "active" => TargetState::Active,
            "dropped" => TargetState::Dropped,
            _ => TargetState::Any,
        };
        serde_json::to_value(self.0.targets(state, None)).unwrap_or(serde_json::Value::Null)
    }
}

/// Metadata from the targets' scrapes and from remote write senders.
struct ScrapeMetadata {
    scrape: ScrapeManager,
    remote: Arc<sightline_ingest::remote_metadata::RemoteMetadata>,
}

impl sightline_api::MetadataSource for ScrapeMetadata {
    fn metadata(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
    ) -> std::collections::BTreeMap<String, Vec<sightline_ingest::scrape::MetricMetadata>> {
        self.scrape
            .metadata(metric, limit, limit_per_metric, Some(&self.remote))
    }
    fn targets_metadata(
        &self,
        match_target: &[sightline_core::Matcher],
        metric: Option<&str>,
        limit: Option<usize>,
    ) -> Vec<sightline_ingest::scrape::TargetMetadata> {
        self.scrape.targets_metadata(match_target, metric, limit)
    }
    fn record_remote_write(&self, items: Vec<(String, sightline_ingest::scrape::MetricMetadata)>) {
        self.remote.record(items);
    }
}

/// What `/api/v1/status/*` reports.
struct ServerStatus {
    flags: std::collections::BTreeMap<String, String>,
    retention: String,
    started: std::time::SystemTime,
    db: Arc<Db>,
    reloader: Arc<ConfigReloader>,
}

fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    chrono::DateTime::from_timestamp(d.as_secs() as i64, d.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

impl StatusSource for ServerStatus {
    fn config_yaml(&self) -> String {
        self.reloader
            .yaml
            .lock()
            .map(|y| y.clone())
            .unwrap_or_default()
    }

    fn flags(&self) -> std::collections::BTreeMap<String, String> {
        self.flags.clone()
    }

    fn runtime_info(&self) -> serde_json::Value {
        let last = self.reloader.last_success_time.load(Ordering::Acquire);
        let stats = self.db.stats();
        // Go-runtime fields keep their names (clients index them) with
        // the nearest Rust meaning: worker threads for GOMAXPROCS.
        serde_json::json!({
            "startTime": rfc3339(self.started),
            "CWD": std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default(),
            "reloadConfigSuccess": self.reloader.last_success.load(Ordering::Acquire),
            "lastConfigTime": rfc3339(std::time::UNIX_EPOCH + Duration::from_secs(last)),
            "corruptionCount": stats.wal_corruptions_total,
            "goroutineCount": 0,
            "GOMAXPROCS": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "GOMEMLIMIT": i64::MAX,
            "GOGC": "",
            "GODEBUG": "",
            "storageRetention": self.retention,
        })
    }

    fn head_stats(&self) -> HeadStats {
        let s = self.db.stats();
        HeadStats {
            num_series: s.head_series,
            chunk_count: s.head_chunks,
            min_time: s.head_min_time,
            max_time: s.head_max_time,
        }
    }
}
