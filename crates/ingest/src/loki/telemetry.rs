//! Self-telemetry of log ingestion, shared by Loki push, OTLP logs and
//! syslog: one [`LogIngestCounters`] registered on `/metrics`, each family
//! labeled by `protocol` (`loki`, `otlp`, `syslog`).

use super::push::PushOutcome;
use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where lines came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Loki = 0,
    Otlp = 1,
    Syslog = 2,
}

const NAMES: [&str; 3] = ["loki", "otlp", "syslog"];

/// A family's name, help and field.
type Column = (&'static str, &'static str, fn(&Row) -> &AtomicU64);

#[derive(Debug, Default)]
struct Row {
    requests: AtomicU64,
    requests_failed: AtomicU64,
    lines: AtomicU64,
    bytes: AtomicU64,
    duplicates: AtomicU64,
    invalid: AtomicU64,
    refused: AtomicU64,
}

/// Counters of every log receiver.
#[derive(Debug, Default)]
pub struct LogIngestCounters {
    rows: [Row; 3],
}

impl LogIngestCounters {
    /// Counts one push (a request, or a syslog batch) and what became of it.
    pub fn record(&self, protocol: Protocol, out: &PushOutcome) {
        let r = &self.rows[protocol as usize];
        let add = |c: &AtomicU64, n: usize| {
            c.fetch_add(n as u64, Ordering::Relaxed);
        };
        add(&r.requests, 1);
        add(&r.requests_failed, usize::from(out.status != 204));
        add(&r.lines, out.report.accepted);
        add(&r.bytes, out.report.accepted_bytes);
        add(&r.duplicates, out.report.duplicates);
        add(&r.invalid, out.invalid_lines);
        add(&r.refused, out.report.refused.len());
    }

    /// Counts a request refused before it could be read (bad body, tenant).
    pub fn record_unreadable(&self, protocol: Protocol) {
        let r = &self.rows[protocol as usize];
        r.requests.fetch_add(1, Ordering::Relaxed);
        r.requests_failed.fetch_add(1, Ordering::Relaxed);
    }
}

impl Telemetry for LogIngestCounters {
    fn report(&self, out: &mut Report) {
        let families: [Column; 7] = [
            (
                "sightline_log_ingest_requests",
                "Log pushes received (Loki push and OTLP requests, syslog batches).",
                |r| &r.requests,
            ),
            (
                "sightline_log_ingest_requests_failed",
                "Log pushes answered with an error (some or all lines not kept).",
                |r| &r.requests_failed,
            ),
            (
                "sightline_log_ingest_lines",
                "Log lines written to the store.",
                |r| &r.lines,
            ),
            (
                "sightline_log_ingest_bytes",
                "Bytes of log line text written to the store.",
                |r| &r.bytes,
            ),
            (
                "sightline_log_ingest_lines_duplicate",
                "Log lines dropped as exact duplicates (same stream, time and text).",
                |r| &r.duplicates,
            ),
            (
                "sightline_log_ingest_lines_invalid",
                "Log lines refused by validation (labels, timestamps).",
                |r| &r.invalid,
            ),
            (
                "sightline_log_ingest_lines_refused",
                "Log lines refused by the store (line size, rate and stream limits, order).",
                |r| &r.refused,
            ),
        ];
        for (name, help, get) in families {
            let f = out.family(name, help, MetricKind::Counter);
            for (i, p) in NAMES.iter().enumerate() {
                f.point(
                    &[("protocol", p)],
                    get(&self.rows[i]).load(Ordering::Relaxed) as f64,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::logs::LogAppendReport;

    #[test]
    fn counts_by_protocol() {
        let c = LogIngestCounters::default();
        c.record(
            Protocol::Otlp,
            &PushOutcome {
                status: 400,
                report: LogAppendReport {
                    accepted: 3,
                    accepted_bytes: 30,
                    duplicates: 1,
                    refused: vec![],
                },
                invalid_lines: 2,
                ..PushOutcome::default()
            },
        );
        c.record_unreadable(Protocol::Loki);
        let mut r = Report::default();
        c.report(&mut r);
        let get = |name: &str, proto: &str| {
            r.families()
                .iter()
                .find(|f| f.name == name)
                .unwrap()
                .points
                .iter()
                .find(|p| p.labels[0].1 == proto)
                .unwrap()
                .value
        };
        assert_eq!(get("sightline_log_ingest_lines", "otlp"), 3.0);
        assert_eq!(get("sightline_log_ingest_bytes", "otlp"), 30.0);
        assert_eq!(get("sightline_log_ingest_lines_invalid", "otlp"), 2.0);
        assert_eq!(get("sightline_log_ingest_lines_duplicate", "otlp"), 1.0);
        assert_eq!(get("sightline_log_ingest_requests_failed", "otlp"), 1.0);
        assert_eq!(get("sightline_log_ingest_requests", "loki"), 1.0);
        assert_eq!(get("sightline_log_ingest_requests_failed", "loki"), 1.0);
        assert_eq!(get("sightline_log_ingest_lines", "syslog"), 0.0);
    }
}
