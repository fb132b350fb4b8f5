//! The TSDB's self-telemetry: `sightline_tsdb_*`, read from [`Db::stats`]
//! and [`Db::exemplar_stats`] on each collection.

use crate::Db;
use sightline_core::telemetry::{Report, Telemetry};

impl Telemetry for Db {
    fn report(&self, out: &mut Report) {
        let s = self.stats();
        out.gauge(
            "sightline_tsdb_head_series",
            "Series in the in-memory head.",
            s.head_series as f64,
        );
        out.gauge(
            "sightline_tsdb_head_chunks",
            "Chunks in the in-memory head.",
            s.head_chunks as f64,
        );
        out.gauge(
            "sightline_tsdb_head_min_time",
            "Lowest timestamp in the head (ms).",
            s.head_min_time as f64,
        );
        out.gauge(
            "sightline_tsdb_head_max_time",
            "Highest timestamp in the head (ms).",
            s.head_max_time as f64,
        );
        out.counter(
            "sightline_tsdb_head_samples_appended",
            "Samples appended to the head.",
            s.samples_appended_total as f64,
        );
        out.counter(
            "sightline_tsdb_out_of_order_samples",
            "Samples refused as out of order.",
            s.out_of_order_samples_total as f64,
        );
        out.counter(
            "sightline_tsdb_out_of_bounds_samples",
            "Samples refused as outside the accepted time range.",
            s.out_of_bounds_samples_total as f64,
        );
        out.counter(
            "sightline_tsdb_duplicate_samples",
            "Samples refused as a different value for an existing timestamp.",
            s.duplicate_samples_total as f64,
        );
        out.counter(
            "sightline_tsdb_out_of_order_accepted_samples",
            "Out-of-order samples accepted within the window.",
            s.out_of_order_accepted_total as f64,
        );
        out.counter(
            "sightline_tsdb_wal_fsyncs",
            "fsync calls on the write-ahead log.",
            s.wal_fsyncs_total as f64,
        );
        out.counter(
            "sightline_tsdb_wal_fsync_duration_seconds",
            "Time spent in WAL fsync.",
            s.wal_fsync_duration_seconds_sum,
        );
        out.gauge(
            "sightline_tsdb_wal_size_bytes",
            "Bytes of WAL segments and checkpoints on disk.",
            s.wal_size_bytes as f64,
        );
        out.counter(
            "sightline_tsdb_wal_corruptions",
            "Torn or corrupt WAL tails repaired.",
            s.wal_corruptions_total as f64,
        );
        out.counter(
            "sightline_tsdb_compactions",
            "Compactions (head cuts and block merges) done.",
            s.compactions_total as f64,
        );
        out.counter(
            "sightline_tsdb_compaction_failures",
            "Compactions that failed.",
            s.compaction_failures_total as f64,
        );
        out.gauge(
            "sightline_tsdb_blocks_loaded",
            "Blocks being served.",
            s.blocks_loaded as f64,
        );
        out.gauge(
            "sightline_tsdb_corrupted_blocks",
            "Blocks set aside as corrupted.",
            s.corrupted_blocks.len() as f64,
        );
        out.counter(
            "sightline_tsdb_retention_deleted_blocks",
            "Blocks deleted by retention.",
            s.retention_deleted_blocks_total as f64,
        );
        out.gauge(
            "sightline_tsdb_blocks_size_bytes",
            "Bytes of blocks on disk.",
            s.blocks_size_bytes as f64,
        );
        out.gauge(
            "sightline_tsdb_storage_size_bytes",
            "Bytes of blocks and WAL on disk.",
            s.storage_size_bytes as f64,
        );
        let x = self.exemplar_stats();
        out.gauge(
            "sightline_tsdb_exemplar_exemplars_in_storage",
            "Exemplars currently in the exemplar ring.",
            x.in_storage as f64,
        );
        out.gauge(
            "sightline_tsdb_exemplar_series_with_exemplars_in_storage",
            "Series with exemplars currently in the exemplar ring.",
            x.series as f64,
        );
        out.gauge(
            "sightline_tsdb_exemplar_max_exemplars",
            "Exemplars the ring can hold (storage.exemplars.max_exemplars).",
            x.max_exemplars as f64,
        );
        out.gauge(
            "sightline_tsdb_exemplar_last_exemplars_timestamp_seconds",
            "Timestamp of the oldest exemplar in the ring: how far back the ring reaches.",
            x.oldest_timestamp_ms as f64 / 1000.0,
        );
        out.counter(
            "sightline_tsdb_exemplar_exemplars_appended",
            "Exemplars added to the ring.",
            x.appended_total as f64,
        );
        out.counter(
            "sightline_tsdb_exemplar_out_of_order_exemplars",
            "Exemplars refused as older than their series' newest.",
            x.out_of_order_total as f64,
        );
    }
}
