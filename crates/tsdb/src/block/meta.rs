//! `meta.json`: what a block covers and where it came from.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Block metadata, stored as JSON. Times are ms; `maxTime` is exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block's id, also its directory name.
    pub ulid: String,
    /// Oldest sample time.
    pub min_time: i64,
    /// One past the newest sample time.
    pub max_time: i64,
    /// Counts.
    pub stats: BlockStats,
    /// How the block was made.
    pub compaction: Compaction,
    /// Format version; always 1.
    pub version: u32,
}

/// Counts of what a block holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples.
    pub num_samples: u64,
    /// Series.
    pub num_series: u64,
    /// Chunks.
    pub num_chunks: u64,
}

/// Lineage of a block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Compaction {
    /// 1 for blocks cut from the head or written by backfill; one more than
    /// the highest input level for compacted blocks.
    pub level: u32,
    /// Ids of the level-1 blocks whose data this block holds.
    pub sources: Vec<String>,
}

impl BlockMeta {
    pub(crate) fn read(dir: &Path) -> Result<BlockMeta> {
        let p = dir.join("meta.json");
        let b = std::fs::read(&p).map_err(|e| Error::io("read", &p, e))?;
        let m: BlockMeta = serde_json::from_slice(&b).map_err(|e| {
            Error::corrupt(&p, e.column() as u64, format!("invalid meta.json: {e}"))
        })?;
        if m.version != 1 {
            return Err(Error::corrupt(
                &p,
                0,
                format!("unsupported block version {}", m.version),
            ));
        }
        Ok(m)
    }

    /// The bytes of `meta.json`.
    pub(crate) fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self).map_err(|e| Error::Internal(e.to_string()))
    }
}
