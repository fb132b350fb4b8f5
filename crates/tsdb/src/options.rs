//! Tuning knobs, with named default functions so config files can omit them.

use serde::{Deserialize, Serialize};

/// Options for [`crate::Db::open`]. Every field has a default; a config file
/// may name only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Width of a level-1 block in ms (2h). The head is cut into a block when
    /// it spans more than 1.5 times this.
    #[serde(default = "default_block_range_ms")]
    pub block_range_ms: i64,
    /// Blocks whose newest sample is older than this, counted back from the
    /// newest data, are deleted (15 days). 0 turns time retention off.
    #[serde(default = "default_retention_time_ms")]
    pub retention_time_ms: i64,
    /// When blocks plus WAL exceed this many bytes, the oldest blocks are
    /// deleted. 0 turns size retention off.
    #[serde(default)]
    pub retention_size_bytes: u64,
    /// Samples up to this much older than the newest sample in the head are
    /// accepted even when they are out of order. 0 keeps Prometheus's rules.
    #[serde(default)]
    pub out_of_order_time_window_ms: i64,
    /// How often the background thread fsyncs the WAL, in ms. Writes reach the
    /// OS on every commit regardless, so only a machine crash can lose up to
    /// this much.
    #[serde(default = "default_wal_fsync_interval_ms")]
    pub wal_fsync_interval_ms: u64,
    /// Size at which a WAL segment is closed and a new one started.
    #[serde(default = "default_wal_segment_size")]
    pub wal_segment_size: u64,
    /// How often the maintenance thread looks for head cutting, compaction and
    /// retention work, in ms.
    #[serde(default = "default_maintenance_interval_ms")]
    pub maintenance_interval_ms: u64,
    /// Exemplars the in-memory ring holds across all series (Prometheus's
    /// `storage.exemplars.max_exemplars`); 0 turns exemplar storage off.
    #[serde(default = "default_max_exemplars")]
    pub max_exemplars: usize,
}

/// 2 hours.
pub fn default_block_range_ms() -> i64 {
    2 * 3600 * 1000
}

/// 15 days.
pub fn default_retention_time_ms() -> i64 {
    15 * 24 * 3600 * 1000
}

/// 1 second.
pub fn default_wal_fsync_interval_ms() -> u64 {
    1000
}

/// 128 MiB.
pub fn default_wal_segment_size() -> u64 {
    128 << 20
}

/// 1 minute.
pub fn default_maintenance_interval_ms() -> u64 {
    60_000
}

/// 100,000, as Prometheus.
pub fn default_max_exemplars() -> usize {
    100_000
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_range_ms: default_block_range_ms(),
            retention_time_ms: default_retention_time_ms(),
            retention_size_bytes: 0,
            out_of_order_time_window_ms: 0,
            wal_fsync_interval_ms: default_wal_fsync_interval_ms(),
            wal_segment_size: default_wal_segment_size(),
            maintenance_interval_ms: default_maintenance_interval_ms(),
            max_exemplars: default_max_exemplars(),
        }
    }
}

impl Options {
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if self.block_range_ms <= 0 {
            return Err(crate::Error::BadData(format!(
                "block_range_ms must be positive, got {}",
                self.block_range_ms
            )));
        }
        if self.out_of_order_time_window_ms < 0 || self.retention_time_ms < 0 {
            return Err(crate::Error::BadData(
                "out_of_order_time_window_ms and retention_time_ms must not be negative".into(),
            ));
        }
        if self.wal_segment_size < 64 << 10 {
            return Err(crate::Error::BadData(format!(
                "wal_segment_size must be at least 64 KiB, got {}",
                self.wal_segment_size
            )));
        }
        Ok(())
    }

    /// Block widths compaction builds: the block range times 3, 9, 27, ...
    /// capped at a tenth of the retention time (or 31 days when retention is off).
    pub(crate) fn compaction_ranges(&self) -> Vec<i64> {
        let cap = if self.retention_time_ms > 0 {
            self.retention_time_ms / 10
        } else {
            31 * 24 * 3600 * 1000
        };
        let mut out = vec![self.block_range_ms];
        let mut r = self.block_range_ms;
        while r.saturating_mul(3) <= cap && out.len() < 10 {
            r *= 3;
            out.push(r);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        let o = Options::default();
        o.validate().unwrap();
        let h = 3600 * 1000;
        assert_eq!(o.compaction_ranges(), vec![2 * h, 6 * h, 18 * h]);
        let parsed: Options = serde_json::from_str(r#"{"retention_size_bytes": 5}"#).unwrap();
        assert_eq!(parsed.retention_size_bytes, 5);
        assert_eq!(parsed.block_range_ms, 2 * h);
        assert!(serde_json::from_str::<Options>(r#"{"nope": 1}"#).is_err());
    }
}
