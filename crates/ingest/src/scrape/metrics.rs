//! Self-metrics of scraping, for the server's `/metrics`.

use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters and gauges about scraping. Cheap to update (relaxed atomics);
/// they reach `/metrics` through their [`Telemetry`] report.
#[derive(Debug, Default)]
pub struct ScrapeMetrics {
    /// Scrape pools (jobs) running.
    pub pools: AtomicU64,
    /// Targets being scraped.
    pub active_targets: AtomicU64,
    /// Targets dropped by relabeling or invalid.
    pub dropped_targets: AtomicU64,
    /// Configuration reloads applied.
    pub reloads: AtomicU64,
    /// Scrapes done.
    pub scrapes: AtomicU64,
    /// Scrapes that failed (HTTP, parse, limits, storage).
    pub scrape_failures: AtomicU64,
    /// Sum of scrape durations in microseconds.
    pub scrape_duration_micros: AtomicU64,
    /// Samples stored by scrapes.
    pub samples_appended: AtomicU64,
    /// Samples refused by the store as out of order, out of bounds or duplicate.
    pub samples_rejected: AtomicU64,
    /// Scrapes failed for exceeding `sample_limit`.
    pub sample_limit_exceeded: AtomicU64,
    /// Scrapes failed for exceeding a label limit.
    pub label_limit_exceeded: AtomicU64,
    /// Scrapes failed for exceeding `body_size_limit`.
    pub body_size_limit_exceeded: AtomicU64,
    /// Pools failing all their targets for exceeding `target_limit`.
    pub target_limit_exceeded: AtomicU64,
    /// Staleness markers written.
    pub stale_markers: AtomicU64,
    /// Failed reads of file_sd files.
    pub file_sd_read_errors: AtomicU64,
}

impl ScrapeMetrics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}

fn load(c: &AtomicU64) -> f64 {
    c.load(Relaxed) as f64
}

/// `sightline_scrape_*`, as `/metrics` shows them.
impl Telemetry for ScrapeMetrics {
    fn report(&self, out: &mut Report) {
        use MetricKind::{Counter, Gauge};
        let rows = [
            (
                Gauge,
                "sightline_scrape_pools",
                "Scrape pools (jobs) running.",
                load(&self.pools),
            ),
            (
                Gauge,
                "sightline_scrape_active_targets",
                "Targets being scraped.",
                load(&self.active_targets),
            ),
            (
                Gauge,
                "sightline_scrape_dropped_targets",
                "Targets dropped by relabeling.",
                load(&self.dropped_targets),
            ),
            (
                Counter,
                "sightline_scrape_config_applies",
                "Configurations applied to the scrape manager.",
                load(&self.reloads),
            ),
            (
                Counter,
                "sightline_scrapes",
                "Scrapes done.",
                load(&self.scrapes),
            ),
            (
                Counter,
                "sightline_scrape_failures",
                "Scrapes that failed.",
                load(&self.scrape_failures),
            ),
            (
                Counter,
                "sightline_scrape_duration_seconds",
                "Time spent scraping (sum over all scrapes).",
                load(&self.scrape_duration_micros) / 1e6,
            ),
            (
                Counter,
                "sightline_scrape_samples_appended",
                "Samples appended by scrapes.",
                load(&self.samples_appended),
            ),
            (
                Counter,
                "sightline_scrape_samples_rejected",
                "Scraped samples the store refused.",
                load(&self.samples_rejected),
            ),
            (
                Counter,
                "sightline_scrape_sample_limit_exceeded",
                "Scrapes failed by sample_limit.",
                load(&self.sample_limit_exceeded),
            ),
            (
                Counter,
                "sightline_scrape_label_limit_exceeded",
                "Scrapes failed by label limits.",
                load(&self.label_limit_exceeded),
            ),
            (
                Counter,
                "sightline_scrape_body_size_limit_exceeded",
                "Scrapes failed by body_size_limit.",
                load(&self.body_size_limit_exceeded),
            ),
            (
                Counter,
                "sightline_scrape_target_limit_exceeded",
                "Pools over target_limit.",
                load(&self.target_limit_exceeded),
            ),
            (
                Counter,
                "sightline_scrape_stale_markers",
                "Staleness markers written.",
                load(&self.stale_markers),
            ),
            (
                Counter,
                "sightline_scrape_file_sd_read_errors",
                "file_sd files that could not be read.",
                load(&self.file_sd_read_errors),
            ),
        ];
        for (kind, name, help, value) in rows {
            out.family(name, help, kind).point(&[], value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_every_counter_once() {
        let m = ScrapeMetrics::default();
        ScrapeMetrics::add(&m.scrapes, 3);
        ScrapeMetrics::add(&m.scrape_duration_micros, 1_500_000);
        let mut r = Report::default();
        m.report(&mut r);
        assert_eq!(r.value("sightline_scrapes"), Some(3.0));
        assert_eq!(r.value("sightline_scrape_duration_seconds"), Some(1.5));
        let mut names: Vec<&str> = r.families().iter().map(|f| f.name).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a family written twice");
    }
}
