//! `sightline serve`: opens the store, starts one task per subsystem under
//! one cancellation token, serves HTTP, and on SIGTERM/SIGINT stops the
//! tasks and flushes the WAL.

use crate::cli::ServeArgs;
use crate::telemetry::ProcessTelemetry;
use anyhow::Context;
use sightline_api::{ApiState, BoxFuture, HeadStats, Reloader, StatusSource, TargetsSource};
use sightline_core::lifecycle::{Running, StartContext};
use sightline_core::telemetry::{Report, Telemetry, TelemetryRegistry};
use sightline_core::{bytesize, duration, time};
use sightline_ingest::config::PrometheusConfig;
use sightline_ingest::scrape::{ScrapeManager, TargetState};
use sightline_tsdb::{Db, Options};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs the server until a termination signal.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let rt = runtime()?;
    rt.block_on(serve(args, Embedding::default()))
}

/// What a caller running `serve` inside its own process may hand it
/// (`sightline demo` does): a listener it bound already, so it knows the
/// port before `serve` starts (port 0 in tests), and the token that stops
/// the server along with the caller's own tasks.
#[derive(Default)]
pub struct Embedding {
    /// Serve on this listener instead of binding `--listen`.
    pub listener: Option<tokio::net::TcpListener>,
    /// Cancelled to stop the server (SIGINT and SIGTERM still cancel it).
    pub cancel: Option<CancellationToken>,
}

/// The runtime `serve` runs on, for a caller that runs more beside it.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // Two workers: the machines we target have two cores, and scraping,
    // HTTP and the TSDB's own threads share them.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("sightline")
        .build()
        .context("starting the async runtime")
}

/// The configuration in force: the user's file (a prometheus.yml or a
/// sightline.yml, see [`crate::config`]), or a self-scrape.
fn load_config(path: Option<&Path>, listen: &str) -> anyhow::Result<crate::config::Loaded> {
    let loaded = crate::config::load(path, listen)?;
    // Parts of a prometheus.yml we accept but do not act on (discovery
    // kinds we lack, say) are worth a line each, not a refusal.
    for w in &loaded.prometheus.warnings {
        tracing::warn!("{w}");
    }
    for h in &loaded.hints {
        tracing::warn!("{h}");
    }
    Ok(loaded)
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
        block_range_ms: duration::parse_prometheus(&args.min_block_duration)
            .context("--storage.tsdb.min-block-duration")?,
        maintenance_interval_ms: duration::parse_prometheus(&args.tsdb_maintenance_interval)
            .context("--storage.tsdb.maintenance-interval")?
            .max(0) as u64,
        ..Options::default()
    })
}

/// The rule evaluator over the store, with the query engine's limits and
/// the config's external labels. Alerts due for sending go to `notify`.
fn rule_manager(
    db: &Arc<Db>,
    config: &PrometheusConfig,
    promql: &sightline_api::prometheus::QueryEngine,
    args: &ServeArgs,
    logs: Arc<dyn sightline_core::logs::LogQuerier>,
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
        logs: Some(logs),
    };
    let mut opts = sightline_rules::ManagerOptions::new(ctx);
    opts.notify = Some(notify);
    if let Some(i) = config_eval_interval(config) {
        opts.default_interval = i;
    }
    Ok(sightline_rules::RuleManager::new(opts))
}

/// Rule files and the SLOs' generated rule groups, read and checked but
/// not yet in force.
struct PreparedRules {
    files: Vec<sightline_rules::RuleFile>,
    /// `logs.rule_files`: Loki ruler files, LogQL.
    log_files: Vec<sightline_rules::RuleFile>,
    slos: Vec<sightline_slo::Slo>,
}

/// Loads the rule files and the rule groups generated from the `slos:`
/// specs, all or nothing, without touching the rule manager. The paths are
/// already anchored at the folder of the file naming them (the config
/// loaders do that, as Prometheus's `SetDirectory`), so they are used as
/// they stand: joining the folder again found `newcomer/newcomer/rules.yml`.
fn prepare_rules(config: &crate::config::Loaded) -> anyhow::Result<PreparedRules> {
    let rule_files = &config.prometheus.rule_files;
    warn_unmatched("rule_files", rule_files);
    warn_unmatched("slos", &config.slos);
    let mut files = sightline_rules::load_rule_files(rule_files, Path::new(""))
        .map_err(|e| anyhow::anyhow!("loading rule files: {e}"))?;
    let (slos, generated) = crate::slo::load_config_slos(&config.slos, Path::new(""))?;
    files.extend(generated);
    let log_globs = &config.logs.rule_files;
    warn_unmatched("logs.rule_files", log_globs);
    let log_files = sightline_rules::load_rule_files_as(
        log_globs,
        Path::new(""),
        sightline_rules::QueryLang::LogQL,
    )
    .map_err(|e| anyhow::anyhow!("loading logs.rule_files: {e}"))?;
    Ok(PreparedRules {
        files,
        log_files,
        slos,
    })
}

/// A pattern that matches no file loads nothing and is no error (as in
/// Prometheus), so it is worth a line in the log: it is most often a path
/// written relative to the wrong folder.
fn warn_unmatched(section: &str, patterns: &[String]) {
    for p in patterns {
        let matched = sightline_rules::file::resolve_globs(std::slice::from_ref(p), Path::new(""))
            .is_ok_and(|f| !f.is_empty());
        if !matched {
            tracing::warn!(pattern = %p, "no file matches this {section} pattern");
        }
    }
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

pub async fn serve(args: ServeArgs, embedding: Embedding) -> anyhow::Result<()> {
    let mut loaded = load_config(args.config.as_deref(), &args.listen.to_string())?;
    // The web config and tokens are checked before anything starts.
    let gate = args
        .web
        .gate(std::mem::take(&mut loaded.tokens), &args.route_prefix())?;
    // Checked before anything starts, so a bad section refuses the start.
    let probe_limits = args.probe.limits()?;
    let probe_setup =
        crate::probes::load_setup(loaded.probes.as_ref(), args.probe.modules_file.as_deref())?;
    let provisioned =
        crate::dashboards::load(loaded.dashboards.as_ref(), args.dashboards_dir.as_deref())?;
    let mut opts = tsdb_options(&args)?;
    opts.max_exemplars = loaded.prometheus.max_exemplars();
    let promql = Arc::new(query_engine(&args)?);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating data directory {}", args.data_dir.display()))?;
    let dashboards = Arc::new(
        sightline_ui::dashboards::DashboardStore::open(&args.data_dir)
            .context("opening the dashboards store")?,
    );
    dashboards.set_provisioned(provisioned);
    let dashboard_watch = Arc::new(crate::dashboards::Watch {
        store: dashboards.clone(),
        section: Mutex::new(loaded.dashboards.clone()),
        dir: args.dashboards_dir.clone(),
    });
    tracing::info!(dir = %args.data_dir.display(), "opening TSDB (replaying the WAL)");
    let db = Db::open(&args.data_dir, opts)
        .with_context(|| format!("opening the TSDB in {}", args.data_dir.display()))?;
    tracing::info!(head_series = db.stats().head_series, "TSDB open");
    // Every subsystem starts under one token, registers its own report
    // and is stopped, in reverse start order, before the store closes.
    let registry = TelemetryRegistry::new();
    let memory = crate::memory::governor(&args.memory_limit)?;
    registry.register(memory.clone());
    let ctx = StartContext {
        cancel: embedding.cancel.unwrap_or_default(),
        telemetry: registry.clone(),
        data_dir: args.data_dir.clone(),
        memory: memory.clone(),
    };
    let cancel = ctx.cancel.clone();
    let mut running: Vec<Box<dyn Running>> = Vec::new();
    registry.register(Arc::new(ProcessTelemetry::new()));
    registry.register(db.clone());
    let (logs, handles) = crate::logs::Logs::start(&loaded.logs, &ctx)?;
    running.extend(handles);
    let (mut traces, handles) =
        crate::traces::TracesSubsystem::start(&loaded.traces, &ctx, db.clone())?;
    running.extend(handles);
    let (events, handles) = crate::events::Events::start(&loaded.events, &ctx, db.clone())?;
    running.extend(handles);
    let (probes, handle) = sightline_probe::service::Probes::start(probe_setup, db.clone(), &ctx)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    running.push(handle);

    let sender = crate::alerting::new_sender();
    sender
        .apply_config(&loaded.prometheus.alerting)
        .map_err(|e| anyhow::anyhow!("alerting: {e}"))?;
    let alertmanager = match &args.alertmanager_config {
        Some(path) => {
            let (am, handle) = crate::alerting::start_alertmanager(
                path,
                &args.data_dir,
                &args.external_url(),
                &loaded.incidents,
                &ctx,
            )?;
            running.push(handle);
            Some(am)
        }
        None => None,
    };
    let mut sinks = vec![crate::alerting::external_sink(sender.clone())];
    if let Some(am) = &alertmanager {
        sinks.push(crate::alerting::internal_sink(am.clone()));
    }
    let notify = crate::alerting::notify_fn(sinks);
    let rules = Arc::new(rule_manager(
        &db,
        &loaded.prometheus,
        &promql,
        &args,
        logs.store.clone(),
        notify,
    )?);
    let prepared = prepare_rules(&loaded)?;
    rules.set_files(&prepared.files);
    rules.set_log_files(&prepared.log_files);
    let slo_state = Arc::new(crate::slo::SloState {
        slos: Mutex::new(prepared.slos),
        querier: crate::slo::StoreQuerier {
            engine: sightline_promql::Engine::new(promql.options().clone()),
            querier: db.clone(),
        },
    });

    let config_yaml = loaded.prometheus_text;
    let lookback_ms = promql.options().lookback_delta.as_millis() as i64;
    let tenancy = crate::tenants::setup(args.multitenancy_enabled, &loaded.tenants, &registry)?;
    traces.tenant_limits = Some(tenancy.limits.clone());
    let otlp = crate::otlp::state(
        &loaded.prometheus.otlp,
        lookback_ms,
        db.clone(),
        &registry,
        &tenancy,
    );
    // Scrapes pass the memory limit, then the default tenant's series limit.
    let scrape_store = Arc::new(crate::memory::AdmittingAppender {
        inner: crate::tenants::scrape_appender(db.clone(), &tenancy),
        governor: memory.clone(),
    });
    let scrape = ScrapeManager::new(scrape_store, loaded.prometheus);
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
        dashboards: dashboard_watch.clone(),
        last_success: AtomicBool::new(true),
        serial: Mutex::new(()),
        last_success_time: AtomicU64::new(now_secs()),
        yaml: Mutex::new(config_yaml),
        otlp: otlp.receiver.clone(),
        db: db.clone(),
        gate: gate.clone(),
    });

    registry.register(reloader.clone());
    let remote_write = Arc::new(sightline_api::prometheus::RemoteWriteCounters::default());
    registry.register(remote_write.clone());

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
        registry: registry.clone(),
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

    let listener = match embedding.listener {
        Some(l) => l,
        None => tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?,
    };
    tracing::info!(addr = %listener.local_addr().unwrap_or(args.listen), "listening");

    running.push(Box::new(crate::memory::spawn_watch(
        memory.clone(),
        cancel.clone(),
    )));
    running.push(sender.start(&ctx));
    running.push(rules.start(&ctx).context("starting the rule evaluator")?);
    running.push(scrape.start(&ctx));
    if let Some(t) = crate::otlp::spawn_grpc(
        args.otlp_grpc_listen.as_deref(),
        otlp.clone(),
        Some(logs.otlp_state()),
        Some(traces.state()),
        cancel.clone(),
        gate.clone(),
        memory.clone(),
    )
    .await?
    {
        running.push(Box::new(sightline_core::lifecycle::Task::spawn(
            "otlp grpc",
            async move {
                let _ = t.await;
            },
        )));
    }
    running.push(Box::new(sightline_core::lifecycle::Task::spawn(
        "dashboards watch",
        crate::dashboards::watch(dashboard_watch, cancel.clone()),
    )));
    spawn_signal_handlers(cancel.clone(), reloader.clone());
    ready.store(true, Ordering::Release);

    let prefix = args.route_prefix();
    if !prefix.is_empty() {
        tracing::info!(prefix = %prefix, "serving under a route prefix");
    }
    let mut app = sightline_api::router(state)
        .merge(sightline_api::native::slo_routes(slo_state))
        .merge(sightline_api::native::probe_routes(probes.clone()).layer(
            axum::middleware::from_fn_with_state(probe_limits, crate::probes::limits::check),
        ))
        .merge(sightline_api::otlp::router(otlp))
        .merge(logs.routes())
        .merge(traces.routes())
        .merge(events.routes())
        .merge(crate::logs::ruler_routes(rules.clone()))
        .merge(traces.search_route(sightline_ui::dashboards::search_route(
            dashboards.clone(),
            &prefix,
        )))
        .merge(sightline_ui::dashboards::routes_except_search(
            dashboards, &prefix,
        ))
        .merge(sightline_ui::router())
        .merge(crate::web::quit_route(cancel.clone()));
    if let Some(am) = &alertmanager {
        app = app.merge(sightline_api::alertmanager::routes(am.clone()));
        app = app.merge(crate::incidents::routes(am));
    }
    app = app.layer(axum::middleware::from_fn_with_state(
        memory.clone(),
        crate::memory::refuse_intake_at_limit,
    ));
    app = tenancy.layer(app);
    if !prefix.is_empty() {
        app = crate::prefix::wrap(app, &prefix);
    }
    let app = sightline_auth::gate::wrap(app, gate.clone());
    let served = sightline_auth::listen::serve(
        listener,
        app,
        gate.web().clone(),
        cancel.clone().cancelled_owned(),
    )
    .await;
    cancel.cancel();
    for r in running.into_iter().rev() {
        let name = r.name();
        r.stop().await;
        tracing::debug!(subsystem = name, "stopped");
    }
    tracing::info!("flushing the TSDB");
    db.close().context("closing the TSDB")?;
    served.context("HTTP server")?;
    Ok(())
}

/// SIGTERM or SIGINT cancels `cancel` (graceful shutdown); shared by
/// `serve` and `agent`.
pub(crate) fn spawn_shutdown_on_signals(cancel: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
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
            _ = cancel.cancelled() => {}
        }
        cancel.cancel();
    });
}

fn spawn_signal_handlers(cancel: CancellationToken, reloader: Arc<ConfigReloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    spawn_shutdown_on_signals(cancel.clone());
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
    probes: Arc<sightline_probe::service::Probes>,
    /// `--probe.modules-file`, re-read on reload as blackbox re-reads its file.
    probe_modules: Option<PathBuf>,
    /// Dashboards, whose providers are re-read with the rest.
    dashboards: Arc<crate::dashboards::Watch>,
    last_success: AtomicBool,
    last_success_time: AtomicU64,
    /// Held for the whole of a reload.
    serial: Mutex<()>,
    /// The text of the configuration in force, for `/api/v1/status/config`.
    yaml: Mutex<String>,
    /// The OTLP receiver, whose `otlp:` settings follow the file.
    otlp: Arc<sightline_ingest::otlp::Receiver>,
    /// For `storage.exemplars.max_exemplars`, which a reload resizes.
    db: Arc<Db>,
    /// Takes the `auth:` tokens of a reloaded file.
    gate: Arc<sightline_auth::Gate>,
}

/// Every section of a reloaded configuration, checked and built, waiting
/// to be put in force together.
struct PreparedReload {
    loaded: crate::config::Loaded,
    probes: sightline_probe::service::ProbeSetup,
    rules: PreparedRules,
    alertmanager: Option<sightline_alertmanager::manager::PreparedConfig>,
    alerting: sightline_ingest::alert_sender::PreparedAlerting,
    scrape: sightline_ingest::scrape::PreparedConfig,
    dashboards: sightline_ui::dashboards::store::ProvisionedSet,
}

impl ConfigReloader {
    fn reload_now(&self) -> Result<(), String> {
        // One reload at a time: SIGHUP and `POST /-/reload` may race, and
        // two interleaved prepare/commit runs could mix their sections.
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        let result = self.prepare().map(|p| self.commit(p));
        match &result {
            Ok(()) => {
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

    /// Reads every file and checks every section (rule files and SLO specs
    /// parsed, HTTP clients and TLS settings built, the Alertmanager's
    /// receivers and templates assembled) without changing anything: a
    /// fault in any section refuses the whole reload.
    fn prepare(&self) -> Result<PreparedReload, String> {
        let err = |e: anyhow::Error| format!("{e:#}");
        let loaded = crate::config::load(self.path.as_deref(), &self.listen).map_err(err)?;
        for h in &loaded.hints {
            tracing::warn!("{h}");
        }
        let probes =
            crate::probes::load_setup(loaded.probes.as_ref(), self.probe_modules.as_deref())
                .map_err(err)?;
        let rules = prepare_rules(&loaded).map_err(err)?;
        let dashboards =
            crate::dashboards::load(loaded.dashboards.as_ref(), self.dashboards.dir.as_deref())
                .map_err(err)?;
        let alertmanager = match &self.alertmanager {
            Some((am, path)) => Some(crate::alerting::prepare_alertmanager(am, path)?),
            None => None,
        };
        let alerting =
            sightline_ingest::alert_sender::AlertSender::prepare(&loaded.prometheus.alerting)
                .map_err(|e| format!("alerting: {e}"))?;
        let scrape = self
            .scrape
            .prepare(loaded.prometheus.clone())
            .map_err(|e| e.to_string())?;
        Ok(PreparedReload {
            loaded,
            probes,
            rules,
            alertmanager,
            alerting,
            scrape,
            dashboards,
        })
    }

    /// Puts a prepared reload in force; nothing here can fail.
    fn commit(&self, p: PreparedReload) {
        let PreparedReload {
            loaded,
            probes,
            rules,
            alertmanager,
            alerting,
            scrape,
            dashboards,
        } = p;
        if let Some(i) = config_eval_interval(&loaded.prometheus) {
            self.rules.set_default_interval(i);
        }
        self.rules.set_files(&rules.files);
        self.rules.set_log_files(&rules.log_files);
        *self.slos.slos.lock().unwrap_or_else(|e| e.into_inner()) = rules.slos;
        if let (Some((am, _)), Some(prepared)) = (&self.alertmanager, alertmanager) {
            am.apply_prepared(prepared);
        }
        self.sender.apply_prepared(alerting);
        self.otlp.set_config(loaded.prometheus.otlp.clone());
        self.db.set_max_exemplars(loaded.prometheus.max_exemplars());
        self.gate.set_tokens(loaded.tokens.clone());
        self.scrape.apply_prepared(scrape);
        self.probes.apply(probes);
        self.dashboards.store.set_provisioned(dashboards);
        *self
            .dashboards
            .section
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = loaded.dashboards.clone();
        *self.yaml.lock().unwrap_or_else(|e| e.into_inner()) = loaded.prometheus_text;
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
impl Telemetry for ConfigReloader {
    fn report(&self, out: &mut Report) {
        let ok = self.last_success.load(Ordering::Acquire);
        let at = self.last_success_time.load(Ordering::Acquire);
        out.gauge(
            "sightline_config_last_reload_successful",
            "Whether the last configuration reload attempt was successful.",
            if ok { 1.0 } else { 0.0 },
        );
        out.gauge(
            "sightline_config_last_reload_success_timestamp_seconds",
            "Timestamp of the last successful configuration reload.",
            at as f64,
        );
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

/// As Prometheus's status JSON prints a `time.Time`.
fn rfc3339(t: std::time::SystemTime) -> String {
    time::rfc3339_nano(&time::from_system_time(t))
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
