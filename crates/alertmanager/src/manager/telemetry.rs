//! The Alertmanager's self-telemetry: `sightline_alertmanager_*`, named
//! after Alertmanager's own `alertmanager_*` metrics.

use super::Alertmanager;
use crate::dispatch::NotifyCounts;
use sightline_core::telemetry::{MetricKind, Report, Telemetry};

type Pick = fn(&NotifyCounts) -> u64;

const NOTIFY_COUNTERS: [(&str, &str, Pick); 4] = [
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

impl Telemetry for Alertmanager {
    fn report(&self, out: &mut Report) {
        let s = self.stats();
        out.family(
            "sightline_alertmanager_alerts",
            "Alerts held, by state.",
            MetricKind::Gauge,
        )
        .point(&[("state", "active")], s.alerts_active as f64)
        .point(&[("state", "suppressed")], s.alerts_suppressed as f64)
        .point(&[("state", "unprocessed")], s.alerts_unprocessed as f64);
        out.family(
            "sightline_alertmanager_silences",
            "Silences, by state.",
            MetricKind::Gauge,
        )
        .point(&[("state", "active")], s.silences_active as f64)
        .point(&[("state", "pending")], s.silences_pending as f64)
        .point(&[("state", "expired")], s.silences_expired as f64);
        out.gauge(
            "sightline_alertmanager_aggregation_groups",
            "Aggregation groups.",
            s.aggregation_groups as f64,
        );
        out.gauge(
            "sightline_alertmanager_notification_history_attempts",
            "Notification attempts kept in the history.",
            s.history_attempts as f64,
        );
        out.counter(
            "sightline_alertmanager_state_files_corrupted",
            "State files (silences, notification log, history) found damaged and set aside.",
            crate::statefile::CORRUPTED.load(std::sync::atomic::Ordering::Relaxed) as f64,
        );
        for (name, help, pick) in NOTIFY_COUNTERS {
            let fam = out.family(name, help, MetricKind::Counter);
            for (kind, c) in &s.notifications {
                fam.point(&[("integration", kind.as_str())], pick(c) as f64);
            }
        }
    }
}
