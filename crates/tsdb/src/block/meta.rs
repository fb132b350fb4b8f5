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

    pub(crate) fn write(&self, dir: &Path) -> Result<()> {
        let p = dir.join("meta.json");
        let b = serde_json::to_vec_pretty(self).map_err(|e| Error::Internal(e.to_string()))?;
        let mut f = std::fs::File::create(&p).map_err(|e| Error::io("create", &p, e))?;
        std::io::Write::write_all(&mut f, &b).map_err(|e| Error::io("write", &p, e))?;
        f.sync_all().map_err(|e| Error::io("fsync", &p, e))
    }
}

/// A new sortable id: 48 bits of milliseconds and 80 bits of randomness in
/// Crockford base32, 26 characters, like a ULID.
pub(crate) fn new_block_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    let r1 = h.finish();
    h.write_u64(r1);
    let r2 = h.finish();
    let v: u128 = (u128::from(ms & 0xffff_ffff_ffff) << 80)
        | (u128::from(r1) << 16)
        | u128::from(r2 & 0xffff);
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..26)
        .rev()
        .map(|i| ALPHABET[((v >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sortable_by_time() {
        let a = new_block_id();
        let b = new_block_id();
        assert_eq!(a.len(), 26);
        assert_ne!(a, b);
        assert_eq!(a[..8], b[..8]);
    }
}
