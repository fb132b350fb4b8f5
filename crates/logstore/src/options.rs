//! The store's options: [`LogStoreOptions`], which is also the `logs:`
//! section of the server's config file. Defaults follow Loki's where Loki
//! has one (named in each field's docs).

use serde::{Deserialize, Serialize};
use sightline_core::duration::Duration;
use sightline_storage::wal::SyncPolicy;

/// How the store keeps and limits lines. Every field has a default; a
/// config file names only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogStoreOptions {
    /// Blocks whose newest line is older than this, counted back from the
    /// newest line stored, are deleted (Loki: `retention_period`, 0 =
    /// keep forever; ours defaults to 31 days as Loki's compactor examples
    /// do). `0s` turns time retention off.
    pub retention_time: Duration,
    /// When blocks plus WAL exceed this many bytes, the oldest blocks are
    /// deleted (`512MB`, `10GiB`); 0 turns size retention off.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub retention_size: u64,
    /// A line older than its stream's newest line by more than this is
    /// refused ("entry too far behind"). Loki accepts any order within
    /// `max_chunk_age / 2` of the newest line: 1h.
    pub out_of_order_window: Duration,
    /// Lines older than this before now are refused (Loki:
    /// `reject_old_samples_max_age`, 1 week). `0s` turns it off.
    pub reject_old_samples_max_age: Duration,
    /// Longest line accepted, in bytes (Loki: `max_line_size`, 256KB);
    /// 0 = no limit.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub max_line_size: u64,
    /// Per-stream ingestion rate in bytes/s (Loki: `per_stream_rate_limit`,
    /// 3MB); 0 = no limit.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub per_stream_rate_limit: u64,
    /// Per-stream burst in bytes (Loki: `per_stream_rate_limit_burst`,
    /// 15MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub per_stream_rate_limit_burst: u64,
    /// Per-tenant ingestion rate in bytes/s, over all its streams (Loki:
    /// `ingestion_rate_mb`, 4MB there; ours defaults to 0, no limit, since
    /// one process serving its own machine's logs should not drop them by
    /// surprise).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub ingestion_rate_limit: u64,
    /// Per-tenant burst in bytes (Loki: `ingestion_burst_size_mb`, 6MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub ingestion_burst_size: u64,
    /// Streams a tenant may have in the head; 0 = no limit. (Loki's
    /// `max_global_streams_per_user` is 5000; we default to no limit since
    /// one process holds all streams.)
    pub max_streams_per_tenant: usize,
    /// `periodic` (fsync every `wal_sync_interval`; a pushed line survives
    /// `kill -9` at once, a machine crash after the interval) or
    /// `every_write` (fsync before each push is acknowledged).
    pub wal_sync: WalSync,
    /// How often a periodic WAL is fsynced (1s).
    pub wal_sync_interval: Duration,
    /// WAL segment size (128MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub wal_segment_size: u64,
    /// A chunk is cut (compressed) once it holds this many bytes of lines
    /// (Loki: `chunk_target_size`, 1.5MB of compressed data; ours counts
    /// raw bytes, so 4MB gives chunks of a similar compressed size).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub chunk_target_size: u64,
    /// A chunk is cut once its first line was appended this long ago
    /// (Loki: `max_chunk_age`, 2h).
    pub max_chunk_age: Duration,
    /// The head is flushed into a block when the WAL reaches this size
    /// (checked every `wal_sync_interval`) or the oldest unflushed line is
    /// `max_chunk_age` old (32MB): this bounds the head's memory, about
    /// twice this at most, and the replay at open; compaction merges the
    /// blocks it makes. bench/logs_memory.py: at 10 MB/s over 10,000
    /// streams, RSS median 247 MB with 128MB and 168 MB with 32MB before
    /// compaction ran in the background; with it, merges dominate (170 MB
    /// median, 600 MB peaks) and 16MB no longer helps.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub flush_wal_size: u64,
    /// zstd level of chunks cut in the head (3: fast enough for ingest).
    pub compression_level: i32,
    /// zstd level of the chunks compaction writes into a block that will
    /// not be merged again (9; merges into blocks still under half of
    /// `compact_block_size` use `compression_level`, so data is compressed
    /// hard once, not at every merge). Data at rest can take more CPU for
    /// less disk: on bench/logcorpus.py's mix, level 3 stores 5.25x
    /// smaller than the raw lines, level 9 6.04x, for about 1 s of CPU
    /// more per 100 MB.
    pub compaction_level: i32,
    /// How often the background thread syncs, cuts, flushes, compacts and
    /// applies retention (10s).
    pub maintenance_interval: Duration,
    /// Blocks smaller than half this are merged, oldest first, into blocks
    /// of up to this size once four or more of them exist, re-cutting each
    /// stream's small chunks into full ones (64MB: a merge holds its output
    /// in memory until it is written, so this bounds compaction's memory);
    /// 0 turns compaction off.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub compact_block_size: u64,
    /// Whether selects skip chunks by their token filters (true). Off, every
    /// chunk in range is read: for measuring scans and for ruling the
    /// filters out when a result looks wrong.
    pub token_filters: bool,
}

/// When the WAL is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WalSync {
    #[default]
    Periodic,
    EveryWrite,
}

impl WalSync {
    pub(crate) fn policy(self) -> SyncPolicy {
        match self {
            WalSync::Periodic => SyncPolicy::Periodic,
            WalSync::EveryWrite => SyncPolicy::EveryWrite,
        }
    }
}

impl Default for LogStoreOptions {
    fn default() -> Self {
        LogStoreOptions {
            retention_time: Duration::from_secs(31 * 24 * 3600),
            retention_size: 0,
            out_of_order_window: Duration::from_secs(3600),
            reject_old_samples_max_age: Duration::from_secs(7 * 24 * 3600),
            max_line_size: 256 << 10,
            per_stream_rate_limit: 3 << 20,
            per_stream_rate_limit_burst: 15 << 20,
            ingestion_rate_limit: 0,
            ingestion_burst_size: 6 << 20,
            max_streams_per_tenant: 0,
            wal_sync: WalSync::Periodic,
            wal_sync_interval: Duration::from_secs(1),
            wal_segment_size: 128 << 20,
            chunk_target_size: 4 << 20,
            max_chunk_age: Duration::from_secs(2 * 3600),
            flush_wal_size: 32 << 20,
            compression_level: 3,
            compaction_level: 9,
            maintenance_interval: Duration::from_secs(10),
            token_filters: true,
            compact_block_size: 64 << 20,
        }
    }
}

impl LogStoreOptions {
    /// Checks values the store cannot work with.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, reason: &str| {
            Err(crate::Error::BadOption {
                field,
                reason: reason.into(),
            })
        };
        if self.chunk_target_size == 0 {
            return bad("chunk_target_size", "must be positive");
        }
        if self.wal_segment_size == 0 {
            return bad("wal_segment_size", "must be positive");
        }
        if !(1..=22).contains(&self.compression_level) {
            return bad("compression_level", "must be between 1 and 22");
        }
        if !(1..=22).contains(&self.compaction_level) {
            return bad("compaction_level", "must be between 1 and 22");
        }
        if self.maintenance_interval.is_zero() {
            return bad("maintenance_interval", "must be positive");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_sizes_and_refuses_unknown_keys() {
        let o: LogStoreOptions = serde_json::from_str(
            r#"{"max_line_size": "1MB", "retention_time": "7d", "wal_sync": "every_write",
                "per_stream_rate_limit": 1024}"#,
        )
        .unwrap();
        assert_eq!(o.max_line_size, 1 << 20);
        assert_eq!(o.per_stream_rate_limit, 1024);
        assert_eq!(o.retention_time, Duration::from_secs(7 * 86400));
        assert_eq!(o.wal_sync, WalSync::EveryWrite);
        assert_eq!(
            o.chunk_target_size,
            LogStoreOptions::default().chunk_target_size
        );
        let e = serde_json::from_str::<LogStoreOptions>(r#"{"max_line_sise": 1}"#).unwrap_err();
        assert!(
            e.to_string().contains("unknown field `max_line_sise`"),
            "{e}"
        );
        let e = serde_json::from_str::<LogStoreOptions>(r#"{"max_line_size": "1K"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown unit"), "{e}");
    }
}
