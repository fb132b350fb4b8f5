//! Self-telemetry collectors for `/metrics`.
//!
//! - [`ProcessCollector`]: the standard `process_*` metrics, as Prometheus's
//!   client libraries export them, so existing dashboards work.
//! - [`TsdbCollector`]: `sightline_tsdb_*` from [`sightline_tsdb::DbStats`].
//! - [`ScrapeCollector`]: `sightline_scrape_*` from the scrape manager.
//!
//! Each reads its source when `/metrics` is scraped, so nothing is kept twice.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use sightline_ingest::scrape::ScrapeMetrics;
use sightline_tsdb::Db;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes one gauge.
pub fn encode_gauge(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    g.encode(enc.encode_descriptor(name, help, None, g.metric_type())?)
}

/// Writes one counter; the encoder appends `_total`.
pub fn encode_counter(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(value);
    c.encode(enc.encode_descriptor(name, help, None, c.metric_type())?)
}

fn load(c: &AtomicU64) -> f64 {
    c.load(Ordering::Relaxed) as f64
}

/// Reads `/proc/self` on each scrape of `/metrics`.
#[derive(Debug)]
pub struct ProcessCollector {
    start_time_seconds: f64,
}

impl ProcessCollector {
    /// A collector that reports `now` as the process start time.
    pub fn new() -> Self {
        ProcessCollector {
            start_time_seconds: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        }
    }
}

/// Resident memory and CPU seconds of this process, from /proc (Linux only;
/// elsewhere the metrics are simply absent).
fn read_proc_self() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may itself contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ is 100 on every Linux platform we run on.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((rss_kb * 1024.0, (utime + stime) / ticks))
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let enc = &mut encoder;
        if let Some((rss, cpu)) = read_proc_self() {
            encode_gauge(
                enc,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                rss,
            )?;
            encode_counter(
                enc,
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                cpu,
            )?;
        }
        if let Some(fds) = open_fds() {
            encode_gauge(
                enc,
                "process_open_fds",
                "Number of open file descriptors.",
                fds,
            )?;
        }
        encode_gauge(
            enc,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            self.start_time_seconds,
        )
    }
}

/// `sightline_tsdb_*` from the store's statistics.
pub struct TsdbCollector {
    db: Arc<Db>,
}

impl TsdbCollector {
    /// Reports on `db`.
    pub fn new(db: Arc<Db>) -> Self {
        TsdbCollector { db }
    }
}

impl std::fmt::Debug for TsdbCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TsdbCollector")
    }
}

impl Collector for TsdbCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.db.stats();
        let e = &mut encoder;
        encode_gauge(
            e,
            "sightline_tsdb_head_series",
            "Series in the in-memory head.",
            s.head_series as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_head_chunks",
            "Chunks in the in-memory head.",
            s.head_chunks as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_head_min_time",
            "Lowest timestamp in the head (ms).",
            s.head_min_time as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_head_max_time",
            "Highest timestamp in the head (ms).",
            s.head_max_time as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_head_samples_appended",
            "Samples appended to the head.",
            s.samples_appended_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_out_of_order_samples",
            "Samples refused as out of order.",
            s.out_of_order_samples_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_out_of_bounds_samples",
            "Samples refused as outside the accepted time range.",
            s.out_of_bounds_samples_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_duplicate_samples",
            "Samples refused as a different value for an existing timestamp.",
            s.duplicate_samples_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_out_of_order_accepted_samples",
            "Out-of-order samples accepted within the window.",
            s.out_of_order_accepted_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_wal_fsyncs",
            "fsync calls on the write-ahead log.",
            s.wal_fsyncs_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_wal_fsync_duration_seconds",
            "Time spent in WAL fsync.",
            s.wal_fsync_duration_seconds_sum,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_wal_size_bytes",
            "Bytes of WAL segments and checkpoints on disk.",
            s.wal_size_bytes as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_wal_corruptions",
            "Torn or corrupt WAL tails repaired.",
            s.wal_corruptions_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_compactions",
            "Compactions (head cuts and block merges) done.",
            s.compactions_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_compaction_failures",
            "Compactions that failed.",
            s.compaction_failures_total as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_blocks_loaded",
            "Blocks being served.",
            s.blocks_loaded as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_corrupted_blocks",
            "Blocks set aside as corrupted.",
            s.corrupted_blocks.len() as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_retention_deleted_blocks",
            "Blocks deleted by retention.",
            s.retention_deleted_blocks_total as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_blocks_size_bytes",
            "Bytes of blocks on disk.",
            s.blocks_size_bytes as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_storage_size_bytes",
            "Bytes of blocks and WAL on disk.",
            s.storage_size_bytes as f64,
        )?;
        let x = self.db.exemplar_stats();
        encode_gauge(
            e,
            "sightline_tsdb_exemplar_exemplars_in_storage",
            "Exemplars currently in the exemplar ring.",
            x.in_storage as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_exemplar_series_with_exemplars_in_storage",
            "Series with exemplars currently in the exemplar ring.",
            x.series as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_exemplar_max_exemplars",
            "Exemplars the ring can hold (storage.exemplars.max_exemplars).",
            x.max_exemplars as f64,
        )?;
        encode_gauge(
            e,
            "sightline_tsdb_exemplar_last_exemplars_timestamp_seconds",
            "Timestamp of the oldest exemplar in the ring: how far back the ring reaches.",
            x.oldest_timestamp_ms as f64 / 1000.0,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_exemplar_exemplars_appended",
            "Exemplars added to the ring.",
            x.appended_total as f64,
        )?;
        encode_counter(
            e,
            "sightline_tsdb_exemplar_out_of_order_exemplars",
            "Exemplars refused as older than their series' newest.",
            x.out_of_order_total as f64,
        )
    }
}

/// `sightline_scrape_*` from the scrape manager's counters.
pub struct ScrapeCollector {
    m: Arc<ScrapeMetrics>,
}

impl ScrapeCollector {
    /// Reports on `m`.
    pub fn new(m: Arc<ScrapeMetrics>) -> Self {
        ScrapeCollector { m }
    }
}

impl std::fmt::Debug for ScrapeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScrapeCollector")
    }
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &self.m;
        let e = &mut encoder;
        encode_gauge(
            e,
            "sightline_scrape_pools",
            "Scrape pools (jobs) running.",
            load(&m.pools),
        )?;
        encode_gauge(
            e,
            "sightline_scrape_active_targets",
            "Targets being scraped.",
            load(&m.active_targets),
        )?;
        encode_gauge(
            e,
            "sightline_scrape_dropped_targets",
            "Targets dropped by relabeling.",
            load(&m.dropped_targets),
        )?;
        encode_counter(
            e,
            "sightline_scrape_config_applies",
            "Configurations applied to the scrape manager.",
            load(&m.reloads),
        )?;
        encode_counter(e, "sightline_scrapes", "Scrapes done.", load(&m.scrapes))?;
        encode_counter(
            e,
            "sightline_scrape_failures",
            "Scrapes that failed.",
            load(&m.scrape_failures),
        )?;
        encode_counter(
            e,
            "sightline_scrape_duration_seconds",
            "Time spent scraping (sum over all scrapes).",
            load(&m.scrape_duration_micros) / 1e6,
        )?;
        encode_counter(
            e,
            "sightline_scrape_samples_appended",
            "Samples appended by scrapes.",
            load(&m.samples_appended),
        )?;
        encode_counter(
            e,
            "sightline_scrape_samples_rejected",
            "Scraped samples the store refused.",
            load(&m.samples_rejected),
        )?;
        encode_counter(
            e,
            "sightline_scrape_sample_limit_exceeded",
            "Scrapes failed by sample_limit.",
            load(&m.sample_limit_exceeded),
        )?;
        encode_counter(
            e,
            "sightline_scrape_label_limit_exceeded",
            "Scrapes failed by label limits.",
            load(&m.label_limit_exceeded),
        )?;
        encode_counter(
            e,
            "sightline_scrape_body_size_limit_exceeded",
            "Scrapes failed by body_size_limit.",
            load(&m.body_size_limit_exceeded),
        )?;
        encode_counter(
            e,
            "sightline_scrape_target_limit_exceeded",
            "Pools over target_limit.",
            load(&m.target_limit_exceeded),
        )?;
        encode_counter(
            e,
            "sightline_scrape_stale_markers",
            "Staleness markers written.",
            load(&m.stale_markers),
        )?;
        encode_counter(
            e,
            "sightline_scrape_file_sd_read_errors",
            "file_sd files that could not be read.",
            load(&m.file_sd_read_errors),
        )
    }
}
