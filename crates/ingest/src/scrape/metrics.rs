//! Self-metrics of scraping, for the server's `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters and gauges about scraping. Cheap to update (relaxed atomics);
/// [`ScrapeMetrics::render`] prints them in the text exposition format.
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

    /// The metrics in Prometheus text format, names prefixed `sightline_scrape_`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Relaxed);
        let rows: [(&str, &str, &str, String); 15] = [
            (
                "pools",
                "gauge",
                "Scrape pools (jobs) running.",
                get(&self.pools).to_string(),
            ),
            (
                "targets_active",
                "gauge",
                "Targets being scraped.",
                get(&self.active_targets).to_string(),
            ),
            (
                "targets_dropped",
                "gauge",
                "Discovered targets dropped by relabeling or invalid.",
                get(&self.dropped_targets).to_string(),
            ),
            (
                "reloads_total",
                "counter",
                "Scrape configuration reloads applied.",
                get(&self.reloads).to_string(),
            ),
            (
                "scrapes_total",
                "counter",
                "Scrapes done.",
                get(&self.scrapes).to_string(),
            ),
            (
                "failures_total",
                "counter",
                "Scrapes that failed.",
                get(&self.scrape_failures).to_string(),
            ),
            (
                "duration_seconds_sum",
                "counter",
                "Total time spent scraping.",
                format!("{}", get(&self.scrape_duration_micros) as f64 / 1e6),
            ),
            (
                "duration_seconds_count",
                "counter",
                "Scrapes timed.",
                get(&self.scrapes).to_string(),
            ),
            (
                "samples_appended_total",
                "counter",
                "Samples stored by scrapes.",
                get(&self.samples_appended).to_string(),
            ),
            (
                "samples_rejected_total",
                "counter",
                "Samples the store refused (out of order, out of bounds, duplicate).",
                get(&self.samples_rejected).to_string(),
            ),
            (
                "sample_limit_exceeded_total",
                "counter",
                "Scrapes failed by sample_limit.",
                get(&self.sample_limit_exceeded).to_string(),
            ),
            (
                "label_limit_exceeded_total",
                "counter",
                "Scrapes failed by a label limit.",
                get(&self.label_limit_exceeded).to_string(),
            ),
            (
                "body_size_limit_exceeded_total",
                "counter",
                "Scrapes failed by body_size_limit.",
                get(&self.body_size_limit_exceeded).to_string(),
            ),
            (
                "stale_markers_total",
                "counter",
                "Staleness markers written.",
                get(&self.stale_markers).to_string(),
            ),
            (
                "file_sd_read_errors_total",
                "counter",
                "Failed reads of file_sd files.",
                get(&self.file_sd_read_errors).to_string(),
            ),
        ];
        for (name, kind, help, value) in rows {
            let full = format!("sightline_scrape_{name}");
            // The _sum/_count pair is one summary family.
            if name == "duration_seconds_sum" {
                let _ = writeln!(out, "# HELP sightline_scrape_duration_seconds {help}");
                let _ = writeln!(out, "# TYPE sightline_scrape_duration_seconds summary");
            } else if name != "duration_seconds_count" {
                let _ = writeln!(out, "# HELP {full} {help}");
                let _ = writeln!(out, "# TYPE {full} {kind}");
            }
            let _ = writeln!(out, "{full} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP sightline_scrape_target_limit_exceeded_total Times a pool's targets exceeded target_limit.\n# TYPE sightline_scrape_target_limit_exceeded_total counter\nsightline_scrape_target_limit_exceeded_total {}",
            get(&self.target_limit_exceeded)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_prints_every_family_once() {
        let m = ScrapeMetrics::default();
        ScrapeMetrics::add(&m.scrapes, 3);
        ScrapeMetrics::add(&m.scrape_duration_micros, 1_500_000);
        let text = m.render();
        assert!(text.contains("sightline_scrape_scrapes_total 3\n"));
        assert!(text.contains("sightline_scrape_duration_seconds_sum 1.5\n"));
        assert!(text.contains("sightline_scrape_duration_seconds_count 3\n"));
        assert_eq!(
            text.matches("# TYPE sightline_scrape_duration_seconds summary")
                .count(),
            1
        );
    }
}
