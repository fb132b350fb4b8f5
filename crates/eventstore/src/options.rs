//! The store's options: [`EventStoreOptions`], also the storage part of
//! the server's `events:` config section (`docs/events-store.md`).

use serde::{Deserialize, Serialize};
use sightline_core::duration::Duration;
use sightline_storage::wal::SyncPolicy;

/// How the store keeps events. Every field has a default; a config file
/// names only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventStoreOptions {
    /// Day blocks whose newest event is older than this, counted back from
    /// the newest event stored, are deleted whole (400d: a year of
    /// year-on-year comparisons; `0s` keeps events forever).
    pub retention_time: Duration,
    /// When blocks plus WAL exceed this many bytes, the oldest day blocks
    /// are deleted (`10GiB`); 0 turns size retention off.
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub retention_size: u64,
    /// `every_write` (fsync before each append is acknowledged: the
    /// default, since the intake answers a client that will not retry) or
    /// `periodic` (fsync every `wal_sync_interval`; an acknowledged event
    /// survives `kill -9` at once and a machine crash after the interval).
    pub wal_sync: WalSync,
    /// How often a periodic WAL is fsynced (1s).
    pub wal_sync_interval: Duration,
    /// WAL segment size (64MB).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub wal_segment_size: u64,
    /// The head is cut into day blocks once the WAL holds this many bytes
    /// (32MB, about 100,000 events: this bounds the head's memory and the
    /// replay at open).
    #[serde(deserialize_with = "sightline_core::bytesize::deserialize_u64")]
    pub head_cut_size: u64,
    /// ... or once the oldest event not in a block was appended this long
    /// ago (15m).
    pub head_cut_age: Duration,
    /// A retry of a (`source`, `messageId`) received within this window is
    /// dropped (24h, as Segment de-duplicates); `0s` turns it off.
    pub dedupe_window: Duration,
    /// Events per row group in a block (131072, a day of ten million
    /// events over 90 days in one): the unit the scan skips by time and
    /// name and decompresses at once, and the scope of the id
    /// dictionaries (bigger groups repeat fewer ids).
    pub row_group_rows: usize,
    /// Property keys kept as their own dictionary column per row group
    /// (128); keys beyond it are read from the JSON documents.
    pub max_prop_columns: usize,
    /// zstd level of blocks cut from the head (3).
    pub compression_level: i32,
    /// zstd level of blocks compaction writes (a day's final block; 9).
    pub compaction_level: i32,
    /// How often the background thread cuts the head, compacts, applies
    /// retention and expires de-duplication keys (10s).
    pub maintenance_interval: Duration,
}

/// When the WAL is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WalSync {
    /// Every `wal_sync_interval`.
    Periodic,
    /// Before each append returns.
    #[default]
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

impl Default for EventStoreOptions {
    fn default() -> Self {
        EventStoreOptions {
            retention_time: Duration::from_secs(400 * 86400),
            retention_size: 0,
            wal_sync: WalSync::EveryWrite,
            wal_sync_interval: Duration::from_secs(1),
            wal_segment_size: 64 << 20,
            head_cut_size: 32 << 20,
            head_cut_age: Duration::from_secs(15 * 60),
            dedupe_window: Duration::from_secs(24 * 3600),
            row_group_rows: 131072,
            max_prop_columns: 128,
            compression_level: 3,
            compaction_level: 9,
            maintenance_interval: Duration::from_secs(10),
        }
    }
}

impl EventStoreOptions {
    /// Checks values the store cannot work with; the error names the key.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |field: &str, reason: &str| Err(crate::Error::bad(field, reason));
        if self.wal_segment_size == 0 {
            return bad("wal_segment_size", "must be positive");
        }
        if self.head_cut_size == 0 {
            return bad("head_cut_size", "must be positive");
        }
        if self.row_group_rows == 0 {
            return bad("row_group_rows", "must be positive");
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
        let o: EventStoreOptions = serde_json::from_str(
            r#"{"retention_size": "1GiB", "dedupe_window": "2h", "wal_sync": "periodic"}"#,
        )
        .unwrap();
        assert_eq!(o.retention_size, 1 << 30);
        assert_eq!(o.dedupe_window, Duration::from_secs(7200));
        assert_eq!(o.wal_sync, WalSync::Periodic);
        assert_eq!(o.head_cut_size, EventStoreOptions::default().head_cut_size);
        let e = serde_json::from_str::<EventStoreOptions>(r#"{"dedup_window": "1h"}"#).unwrap_err();
        assert!(
            e.to_string().contains("unknown field `dedup_window`"),
            "{e}"
        );
        let o = EventStoreOptions {
            row_group_rows: 0,
            ..Default::default()
        };
        assert_eq!(
            o.validate().unwrap_err().to_string(),
            "row_group_rows: must be positive"
        );
    }
}
