//! Self-telemetry: counters updated by the engine and the public snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A point-in-time view of the database for `/metrics` and status pages.
/// Counters (`*_total`) only grow while the process lives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbStats {
    /// Series currently in the head.
    pub head_series: u64,
    /// Chunks in the head, open ones included.
    pub head_chunks: u64,
    /// Oldest timestamp in the head (`i64::MAX` when empty).
    pub head_min_time: i64,
    /// Newest timestamp in the head (`i64::MIN` when empty).
    pub head_max_time: i64,
    /// Samples accepted by commits.
    pub samples_appended_total: u64,
    /// Samples rejected as out of order.
    pub out_of_order_samples_total: u64,
    /// Samples rejected as out of bounds.
    pub out_of_bounds_samples_total: u64,
    /// Samples rejected as duplicates with a different value.
    pub duplicate_samples_total: u64,
    /// Samples accepted through the out-of-order window.
    pub out_of_order_accepted_total: u64,
    /// WAL fsync calls.
    pub wal_fsyncs_total: u64,
    /// Seconds spent in WAL fsyncs, summed.
    pub wal_fsync_duration_seconds_sum: f64,
    /// Bytes in WAL segments and checkpoints.
    pub wal_size_bytes: u64,
    /// Torn or corrupt WAL records found (and cut off) at replay.
    pub wal_corruptions_total: u64,
    /// Records replayed from the WAL at open.
    pub wal_replayed_records: u64,
    /// Compactions (head cuts included) that finished.
    pub compactions_total: u64,
    /// Compactions that failed.
    pub compaction_failures_total: u64,
    /// Head cuts into blocks.
    pub head_truncations_total: u64,
    /// Blocks currently loaded.
    pub blocks_loaded: u64,
    /// Blocks deleted by retention.
    pub retention_deleted_blocks_total: u64,
    /// Blocks found corrupt and moved aside (directory names).
    pub corrupted_blocks: Vec<String>,
    /// Bytes of loaded blocks on disk.
    pub blocks_size_bytes: u64,
    /// Blocks plus WAL bytes.
    pub storage_size_bytes: u64,
}

/// The engine's live counters; the WAL's are its own
/// (`sightline_storage::wal::WalStats`).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub samples_appended: AtomicU64,
    pub out_of_order: AtomicU64,
    pub out_of_bounds: AtomicU64,
    pub duplicate: AtomicU64,
    pub ooo_accepted: AtomicU64,
    pub compactions: AtomicU64,
    pub compaction_failures: AtomicU64,
    pub head_truncations: AtomicU64,
    pub retention_deleted: AtomicU64,
}

impl Counters {
    pub(crate) fn inc(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(c: &AtomicU64) -> u64 {
        c.load(Relaxed)
    }
}
