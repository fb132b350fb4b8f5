//! The store's options: [`TraceStoreOptions`], which is also the
//! `traces.store` section of the server's config file. Defaults follow
//! Tempo's where Tempo has one (named in each field's docs).

use serde::{Deserialize, Serialize};
use sightline_core::duration::Duration;
use sightline_storage::wal::SyncPolicy;

/// How the store keeps and limits spans. Every field has a default; a
/// config file names only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceStoreOptions {
    /// Blocks whose newest span is older than this, counted back from the
    /// newest span stored, are deleted; spans ending before now minus this
    /// are refused (Tempo: `block_retention`, 14 days). `0s` turns both off.
    pub retention_time: Duration,
    /// When blocks plus WAL exceed this many bytes, the oldest blocks are
    /// deleted; 0 turns size retention off.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub retention_size: u64,
    /// Bytes a trace may grow to in the head before its further spans are
    /// refused (Tempo: `max_bytes_per_trace`, 5MB); 0 = no limit.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub max_bytes_per_trace: u64,
    /// Largest span accepted, in bytes as [`sightline_core::traces::Span::size_bytes`]
    /// counts them (1MB); 0 = no limit.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub max_span_bytes: u64,
    /// Per-tenant ingestion rate in bytes/s (Tempo: `ingestion_rate_limit_bytes`,
    /// 15MB); 0 = no limit.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub ingestion_rate_bytes: u64,
    /// Per-tenant burst in bytes (Tempo: `ingestion_burst_size_bytes`, 20MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub ingestion_burst_bytes: u64,
    /// New traces a tenant may start per second (bursts of one second's
    /// worth); 0 = no limit. Tempo limits live traces instead
    /// (`max_traces_per_user`).
    pub max_traces_per_second: u64,
    /// The head is cut into a block once its oldest span arrived this long
    /// ago (Tempo: `max_block_duration`, 30m; ours 5m, since our head is
    /// memory, not a WAL-backed block).
    pub max_block_duration: Duration,
    /// The head is cut into a block once it holds this many bytes of
    /// encoded spans (16MB: about 40,000 spans of 400 bytes; bounds the
    /// head's memory and the replay at open).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub max_block_bytes: u64,
    /// Blocks smaller than half this are merged once four of one level
    /// exist, oldest first, at most eight and this many bytes at a time,
    /// into a block one level up (joining the parts of traces written far
    /// apart); 0 turns compaction off (256MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub compact_block_size: u64,
    /// `periodic` (fsync every `wal_sync_interval`; an acknowledged span
    /// survives `kill -9` at once, a machine crash after the interval) or
    /// `every_write`.
    pub wal_sync: WalSync,
    /// How often a periodic WAL is fsynced (1s).
    pub wal_sync_interval: Duration,
    /// WAL segment size (128MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub wal_segment_size: u64,
    /// zstd level of blocks cut from the head (3: fast enough for ingest).
    pub compression_level: i32,
    /// zstd level of blocks written by compaction (9: data at rest is
    /// compressed hard once).
    pub compaction_level: i32,
    /// Spans per column group in a block: the unit decompressed to read one
    /// trace (4096).
    pub group_spans: usize,
    /// How often the background thread syncs, cuts, compacts and applies
    /// retention (10s).
    pub maintenance_interval: Duration,
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

impl Default for TraceStoreOptions {
    fn default() -> Self {
        TraceStoreOptions {
            retention_time: Duration::from_secs(14 * 24 * 3600),
            retention_size: 0,
            max_bytes_per_trace: 5_000_000,
            max_span_bytes: 1 << 20,
            ingestion_rate_bytes: 15_000_000,
            ingestion_burst_bytes: 20_000_000,
            max_traces_per_second: 0,
            max_block_duration: Duration::from_secs(300),
            max_block_bytes: 16 << 20,
            compact_block_size: 256 << 20,
            wal_sync: WalSync::Periodic,
            wal_sync_interval: Duration::from_secs(1),
            wal_segment_size: 128 << 20,
            compression_level: 3,
            compaction_level: 9,
            group_spans: 4096,
            maintenance_interval: Duration::from_secs(10),
        }
    }
}

impl TraceStoreOptions {
    /// Checks values the store cannot work with.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field, reason: &str| {
            Err(crate::Error::BadOption {
                field,
                reason: reason.into(),
            })
        };
        if self.max_block_bytes == 0 {
            return bad("max_block_bytes", "must be positive");
        }
        if self.max_block_duration.is_zero() {
            return bad("max_block_duration", "must be positive");
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
        if self.group_spans == 0 {
            return bad("group_spans", "must be positive");
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
        let o: TraceStoreOptions = serde_json::from_str(
            r#"{"max_bytes_per_trace": "1MB", "retention_time": "7d", "wal_sync": "every_write",
                "max_traces_per_second": 100}"#,
        )
        .unwrap();
        assert_eq!(o.max_bytes_per_trace, 1 << 20);
        assert_eq!(o.max_traces_per_second, 100);
        assert_eq!(o.retention_time, Duration::from_secs(7 * 86400));
        assert_eq!(o.wal_sync, WalSync::EveryWrite);
        assert_eq!(
            o.max_block_bytes,
            TraceStoreOptions::default().max_block_bytes
        );
        let e = serde_json::from_str::<TraceStoreOptions>(r#"{"max_span_byte": 1}"#).unwrap_err();
        assert!(
            e.to_string().contains("unknown field `max_span_byte`"),
            "{e}"
        );
        let bad = TraceStoreOptions {
            group_spans: 0,
            ..TraceStoreOptions::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("group_spans"));
    }
}
