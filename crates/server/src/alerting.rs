//! Getting rule alerts out: the notify callback the rule manager calls
//! after each group evaluation, feeding the alert sender (external
//! Alertmanagers from `alerting.alertmanagers`); and the `/metrics`
//! collectors for rules and notifications, named after Prometheus's
//! `prometheus_rule_*` and `prometheus_notifications_*`.

use crate::telemetry::{encode_counter, encode_gauge};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
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
