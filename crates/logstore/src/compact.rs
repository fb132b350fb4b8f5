//! Compaction: small blocks (frequent flushes, many quiet streams) merged
//! into larger ones, each stream's chunks decoded and re-cut at the target
//! size, so that chunks compress as well as a busy stream's and a select
//! opens fewer files and chunks.
//!
//! The merged block is committed first, naming its sources in its meta
//! (`compacted_from`); the sources are removed after it is in the block
//! list. A crash between the two leaves both on disk; the next open removes
//! the sources the merged block names, so no line is read twice.

use crate::block::{self, Block, FlushSet};
use crate::chunk;
use crate::read::{Merge, Pending, Source};
use crate::store::Inner;
use crate::Result;
use sightline_core::logs::LogEntry;
use sightline_core::Labels;
use sightline_storage::dir;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Blocks merged at once, at least.
const MIN_BLOCKS: usize = 4;

/// Compactions one maintenance round runs at most, so that a backlog
/// (after a restart, or a burst) is worked off without holding the flush
/// lock for minutes at a time.
pub(crate) const MAX_PER_ROUND: usize = 4;

impl Inner {
    /// Merges the oldest run of small blocks; false when there is none.
    pub(crate) fn compact(&self) -> Result<bool> {
        let limit = self.opts.compact_block_size;
        if limit == 0 {
            return Ok(false);
        }
        let _one = self.flush_lock.lock();
        let small: Vec<Arc<Block>> = self
            .blocks
            .read()
            .iter()
            .filter(|b| b.size_bytes < limit / 2)
            .cloned()
            .collect();
        if small.len() < MIN_BLOCKS {
            return Ok(false);
        }
        let mut chosen = Vec::new();
        let mut total = 0;
        for b in small {
            if chosen.len() >= MIN_BLOCKS && total + b.size_bytes > limit {
                break;
            }
            total += b.size_bytes;
            chosen.push(b);
        }
        // A merge whose inputs already fill half a block makes a block
        // that is not merged again: only that one is compressed hard.
        let level = if total >= limit / 2 {
            self.opts.compaction_level
        } else {
            self.opts.compression_level
        };
        // Per tenant and stream, every chunk of the chosen blocks.
        let mut streams: BTreeMap<(String, Labels), Vec<Pending>> = BTreeMap::new();
        for b in &chosen {
            for (tenant, t) in &b.tenants {
                for s in &t.streams {
                    let e = streams
                        .entry((tenant.clone(), s.labels.clone()))
                        .or_default();
                    e.extend(s.chunks.iter().map(|c| Pending {
                        lo: c.meta.min_ts,
                        hi: c.meta.max_ts,
                        src: Source::Block(b.clone(), *c),
                    }));
                }
            }
        }
        let mut set = FlushSet::new();
        for ((tenant, labels), pending) in streams {
            let merged = Merge::new(
                pending,
                false,
                i64::MIN,
                i64::MAX,
                None,
                // Not a query: keep `chunks_read` about queries.
                Arc::default(),
            );
            let mut chunks = Vec::new();
            let mut cur: Vec<LogEntry> = Vec::new();
            let mut bytes = 0u64;
            for e in merged {
                let e = e.map_err(|e| {
                    crate::Error::corrupt("a block being compacted", 0, e.message())
                })?;
                bytes += e.line.len() as u64;
                cur.push(e);
                if bytes >= self.opts.chunk_target_size {
                    chunks.push(Arc::new(chunk::build(&cur, level)?));
                    cur.clear();
                    bytes = 0;
                }
            }
            if !cur.is_empty() {
                chunks.push(Arc::new(chunk::build(&cur, level)?));
            }
            set.entry(tenant).or_default().push((labels, chunks));
        }
        let upto = chosen.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0);
        let names: Vec<String> = chosen.iter().map(|b| b.name()).collect();
        let path = block::write(&self.root, &set, upto, names)?;
        let merged = Arc::new(Block::open(&path)?);
        {
            let mut blocks = self.blocks.write();
            blocks.retain(|b| !chosen.iter().any(|c| Arc::ptr_eq(b, c)));
            blocks.push(merged);
            // Keep the list in time order of data, as retention and reads
            // like it (the merged block's id is newer than its sources').
            blocks.sort_by_key(|b| (b.meta.min_ts_ns, b.meta.max_ts_ns));
        }
        for b in &chosen {
            dir::remove(&b.dir)?;
        }
        self.counters.compactions.fetch_add(1, Relaxed);
        Ok(true)
    }
}
