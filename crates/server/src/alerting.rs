//! Getting rule alerts out: the notify callback the rule manager calls
//! after each group evaluation, feeding the alert sender (external
//! Alertmanagers from `alerting.alertmanagers`) and the built-in
//! Alertmanager (`--alertmanager.config.file`). Each of them reports its
//! own `/metrics` (`sightline_core::telemetry`).

use sightline_alertmanager::config::Config as AmConfig;
use sightline_alertmanager::manager::{
    Alertmanager, AlertmanagerOptions, PostableAlert as AmPostable,
};
use sightline_core::lifecycle::{Running, StartContext};
use sightline_core::time;
use sightline_ingest::alert_sender::{AlertSender, PostableAlert, DEFAULT_QUEUE_CAPACITY};
use sightline_rules::{NotifyFn, OutgoingAlert};
use std::sync::Arc;

/// Where the rule manager's due alerts go: every sink in turn.
pub type AlertSink = Arc<dyn Fn(&[OutgoingAlert]) + Send + Sync>;

/// The notify callback for the rule manager: hands due alerts to each sink.
pub fn notify_fn(sinks: Vec<AlertSink>) -> NotifyFn {
    Arc::new(move |alerts: Vec<OutgoingAlert>| {
        for s in &sinks {
            s(&alerts);
        }
    })
}

/// A sink that queues alerts for the external Alertmanagers.
pub fn external_sink(sender: Arc<AlertSender>) -> AlertSink {
    Arc::new(move |alerts: &[OutgoingAlert]| {
        sender.send(alerts.iter().map(postable).collect());
    })
}

/// A new sender with Prometheus's queue capacity.
pub fn new_sender() -> Arc<AlertSender> {
    AlertSender::new(DEFAULT_QUEUE_CAPACITY)
}

fn postable(a: &OutgoingAlert) -> PostableAlert {
    PostableAlert {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        generator_url: a.generator_url.clone(),
    }
}

/// The built-in Alertmanager of `--alertmanager.config.file`, started on
/// the current runtime with its state under `<data-dir>/alertmanager`.
pub fn start_alertmanager(
    path: &std::path::Path,
    data_dir: &std::path::Path,
    external_url: &str,
    incidents: &sightline_alertmanager::incident::IncidentsConfig,
    ctx: &StartContext,
) -> anyhow::Result<(Arc<Alertmanager>, Box<dyn Running>)> {
    let cfg = AmConfig::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut opts = AlertmanagerOptions::new(data_dir.join("alertmanager"));
    opts.external_url = external_url.to_owned();
    opts.config_base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    crate::incidents::enable(&mut opts, incidents);
    std::fs::create_dir_all(&opts.data_dir)?;
    Alertmanager::start_in(cfg, opts, ctx)
        .map_err(|e| anyhow::anyhow!("starting the Alertmanager: {e}"))
}

/// Reads and checks the Alertmanager config at `path` for a reload,
/// without applying it.
pub fn prepare_alertmanager(
    am: &Alertmanager,
    path: &std::path::Path,
) -> Result<sightline_alertmanager::manager::PreparedConfig, String> {
    let cfg = AmConfig::load_file(path).map_err(|e| e.to_string())?;
    am.prepare_config(cfg)
        .map_err(|e| format!("alertmanager config: {e}"))
}

/// A sink that hands alerts straight to the built-in Alertmanager, as
/// Prometheus would post them to `/api/v2/alerts`.
pub fn internal_sink(am: Arc<Alertmanager>) -> AlertSink {
    Arc::new(move |alerts: &[OutgoingAlert]| {
        let posted = alerts
            .iter()
            .map(|a| AmPostable {
                labels: a
                    .labels
                    .iter()
                    .map(|l| (l.name.clone(), l.value.clone()))
                    .collect(),
                annotations: a.annotations.clone(),
                starts_at: time::from_ms(a.starts_at),
                ends_at: time::from_ms(a.ends_at),
                generator_url: a.generator_url.clone(),
            })
            .collect();
        if let Err(e) = am.put_alerts(posted) {
            tracing::warn!("built-in Alertmanager refused alerts: {e}");
        }
    })
}
