//! Getting rule alerts out: the notify callback the rule manager calls
//! after each group evaluation, feeding the alert sender (external
//! Alertmanagers from `alerting.alertmanagers`) and the built-in
//! Alertmanager (`--alertmanager.config.file`); and the `/metrics`
//! collectors for rules, notifications and the Alertmanager, named after
//! Prometheus's `prometheus_rule_*`, `prometheus_notifications_*` and
//! Alertmanager's `alertmanager_*`.

use crate::telemetry::{encode_counter, encode_gauge};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use sightline_alertmanager::config::Config as AmConfig;
use sightline_alertmanager::dispatch::NotifyCounts;
use sightline_alertmanager::manager::{
    Alertmanager, AlertmanagerOptions, PostableAlert as AmPostable,
};
use sightline_core::time;
use sightline_ingest::alert_sender::{AlertSender, PostableAlert, DEFAULT_QUEUE_CAPACITY};
use sightline_rules::{NotifyFn, OutgoingAlert, RuleManager};
use std::sync::atomic::Ordering;
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

/// `sightline_notifications_*` from the alert sender.
#[derive(Clone)]
pub struct SenderCollector(pub Arc<AlertSender>);

impl std::fmt::Debug for SenderCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SenderCollector")
    }
}

impl Collector for SenderCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &self.0.metrics;
        let e = &mut encoder;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed) as f64;
        encode_counter(
            e,
            "sightline_notifications_sent",
            "Alerts sent to Alertmanagers (summed over Alertmanagers).",
            load(&m.sent),
        )?;
        encode_counter(
            e,
            "sightline_notifications_errors",
            "Alerts whose sending to an Alertmanager failed.",
            load(&m.errors),
        )?;
        encode_counter(
            e,
            "sightline_notifications_dropped",
            "Alerts dropped: queue full, or no Alertmanager accepted them.",
            load(&m.dropped),
        )?;
        encode_gauge(
            e,
            "sightline_notifications_queue_length",
            "Alerts waiting to be sent.",
            self.0.queue_length() as f64,
        )?;
        encode_gauge(
            e,
            "sightline_notifications_queue_capacity",
            "Capacity of the alert queue.",
            DEFAULT_QUEUE_CAPACITY as f64,
        )?;
        encode_gauge(
            e,
            "sightline_notifications_alertmanagers_discovered",
            "Alertmanagers alerts are sent to.",
            self.0.active_alertmanagers().len() as f64,
        )
    }
}

/// `sightline_rule_*` per rule group, labeled `rule_group="file;name"` as
/// Prometheus labels its own.
#[derive(Clone)]
pub struct RuleCollector(pub Arc<RuleManager>);

impl std::fmt::Debug for RuleCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuleCollector")
    }
}

impl Collector for RuleCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        struct Row {
            group: String,
            interval: f64,
            rules: f64,
            last_duration: f64,
            last_eval: f64,
            iterations: f64,
            missed: f64,
            evaluations: f64,
            failures: f64,
        }
        let rows: Vec<Row> = self
            .0
            .groups()
            .iter()
            .map(|g| {
                let g = g.lock().unwrap_or_else(|e| e.into_inner());
                Row {
                    group: format!("{};{}", g.file, g.name),
                    interval: g.interval_ms as f64 / 1000.0,
                    rules: g.rules.len() as f64,
                    last_duration: g.eval_duration.as_secs_f64(),
                    last_eval: g.last_eval.map_or(0.0, |t| t as f64 / 1000.0),
                    iterations: g.evaluations as f64,
                    missed: g.iterations_missed as f64,
                    evaluations: g.rule_evaluations as f64,
                    failures: g.rule_failures as f64,
                }
            })
            .collect();
        type Pick = fn(&Row) -> f64;
        let gauges: [(&str, &str, Pick); 4] = [
            (
                "sightline_rule_group_interval_seconds",
                "The interval of a rule group.",
                |r| r.interval,
            ),
            (
                "sightline_rule_group_rules",
                "The number of rules in a group.",
                |r| r.rules,
            ),
            (
                "sightline_rule_group_last_duration_seconds",
                "How long the last evaluation of a group took.",
                |r| r.last_duration,
            ),
            (
                "sightline_rule_group_last_evaluation_timestamp_seconds",
                "When a group was last evaluated.",
                |r| r.last_eval,
            ),
        ];
        for (name, help, pick) in gauges {
            let g0 = ConstGauge::new(0.0);
            let mut fam = encoder.encode_descriptor(name, help, None, g0.metric_type())?;
            for r in &rows {
                let labels = [("rule_group", r.group.as_str())];
                ConstGauge::new(pick(r)).encode(fam.encode_family(&labels)?)?;
            }
        }
        let counters: [(&str, &str, Pick); 4] = [
            (
                "sightline_rule_group_iterations",
                "Scheduled evaluations of a group.",
                |r| r.iterations + r.missed,
            ),
            (
                "sightline_rule_group_iterations_missed",
                "Evaluations skipped because the previous one ran late.",
                |r| r.missed,
            ),
            ("sightline_rule_evaluations", "Rule evaluations.", |r| {
                r.evaluations
            }),
            (
                "sightline_rule_evaluation_failures",
                "Rule evaluations that failed.",
                |r| r.failures,
            ),
        ];
        for (name, help, pick) in counters {
            let c0 = ConstCounter::new(0.0);
            let mut fam = encoder.encode_descriptor(name, help, None, c0.metric_type())?;
            for r in &rows {
                let labels = [("rule_group", r.group.as_str())];
                ConstCounter::new(pick(r)).encode(fam.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The built-in Alertmanager of `--alertmanager.config.file`, started on
/// the current runtime with its state under `<data-dir>/alertmanager`.
pub fn start_alertmanager(
    path: &std::path::Path,
    data_dir: &std::path::Path,
    external_url: &str,
) -> anyhow::Result<Arc<Alertmanager>> {
    let cfg = AmConfig::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut opts = AlertmanagerOptions::new(data_dir.join("alertmanager"));
    opts.external_url = external_url.to_owned();
    opts.config_base_dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    std::fs::create_dir_all(&opts.data_dir)?;
    Alertmanager::start(cfg, opts).map_err(|e| anyhow::anyhow!("starting the Alertmanager: {e}"))
}

/// Re-reads the Alertmanager's config file and applies it; a bad file
/// leaves the running config in force.
pub fn reload_alertmanager(am: &Alertmanager, path: &std::path::Path) -> Result<(), String> {
    let cfg = AmConfig::load_file(path).map_err(|e| e.to_string())?;
    am.apply_config(cfg)
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

/// `sightline_alertmanager_*` from the built-in Alertmanager, named after
/// Alertmanager's own `alertmanager_*` metrics.
#[derive(Clone)]
pub struct AlertmanagerCollector(pub Arc<Alertmanager>);

impl std::fmt::Debug for AlertmanagerCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlertmanagerCollector")
    }
}

impl Collector for AlertmanagerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.stats();
        let g0 = ConstGauge::new(0.0);
        {
            let mut fam = encoder.encode_descriptor(
                "sightline_alertmanager_alerts",
                "Alerts held, by state.",
                None,
                g0.metric_type(),
            )?;
            for (state, n) in [
                ("active", s.alerts_active),
                ("suppressed", s.alerts_suppressed),
                ("unprocessed", s.alerts_unprocessed),
            ] {
                ConstGauge::new(n as f64).encode(fam.encode_family(&[("state", state)])?)?;
            }
        }
        {
            let mut fam = encoder.encode_descriptor(
                "sightline_alertmanager_silences",
                "Silences, by state.",
                None,
                g0.metric_type(),
            )?;
            for (state, n) in [
                ("active", s.silences_active),
                ("pending", s.silences_pending),
                ("expired", s.silences_expired),
            ] {
                ConstGauge::new(n as f64).encode(fam.encode_family(&[("state", state)])?)?;
            }
        }
        encode_gauge(
            &mut encoder,
            "sightline_alertmanager_aggregation_groups",
            "Aggregation groups.",
            s.aggregation_groups as f64,
        )?;
        encode_gauge(
            &mut encoder,
            "sightline_alertmanager_notification_history_attempts",
            "Notification attempts kept in the history.",
            s.history_attempts as f64,
        )?;
        type Pick = fn(&NotifyCounts) -> u64;
        let counters: [(&str, &str, Pick); 4] = [
            (
                "sightline_alertmanager_notifications",
                "Notifications attempted, by integration.",
                |c| c.notifications,
            ),
            (
                "sightline_alertmanager_notifications_failed",
                "Notifications that failed, by integration.",
                |c| c.notifications_failed,
            ),
            (
                "sightline_alertmanager_notification_requests",
                "Requests to integrations, by integration.",
                |c| c.requests,
            ),
            (
                "sightline_alertmanager_notification_requests_failed",
                "Requests to integrations that failed, by integration.",
                |c| c.requests_failed,
            ),
        ];
        for (name, help, pick) in counters {
            let c0 = ConstCounter::new(0u64);
            let mut fam = encoder.encode_descriptor(name, help, None, c0.metric_type())?;
            for (kind, c) in &s.notifications {
                ConstCounter::new(pick(c))
                    .encode(fam.encode_family(&[("integration", kind.as_str())])?)?;
            }
        }
        Ok(())
    }
}
