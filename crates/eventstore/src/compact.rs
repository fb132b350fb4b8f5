//! Compaction: the blocks of one UTC day (one per head cut that held
//! events of that day) merged into one, so a day ends as a single block
//! of full row groups, compressed at `compaction_level`.
//!
//! A past day is merged as soon as it has two blocks; the newest day, still
//! filling, once it has four (merging it at every cut would rewrite it
//! again and again). The merged block is committed first, naming its
//! sources in its meta (`compacted_from`); the sources are removed after
//! it is in the block list. A crash between the two leaves both on disk;
//! the next open removes the sources the merged block names.

use crate::block::{self, Block, Provenance};
use crate::store::Inner;
use crate::Result;
use sightline_storage::dir;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Blocks the newest day may have before it is merged.
const NEWEST_DAY_BLOCKS: usize = 4;

impl Inner {
    /// Merges one day's blocks; false when no day needed it. `all` merges
    /// the newest day too once it has two.
    pub(crate) fn compact(&self, all: bool) -> Result<bool> {
        let _one = self.flush_lock.lock();
        let chosen: Vec<Arc<Block>> = {
            let blocks = self.blocks.read();
            let mut by_day: BTreeMap<i64, Vec<Arc<Block>>> = BTreeMap::new();
            for b in blocks.iter() {
                by_day.entry(b.meta.day).or_default().push(b.clone());
            }
            let newest = by_day.keys().next_back().copied();
            let head_newest = self.head.read().newest().map(crate::props::day_of);
            let newest = newest.max(head_newest);
            match by_day.into_iter().find(|(d, v)| {
                v.len() >= 2 && (all || Some(*d) != newest || v.len() >= NEWEST_DAY_BLOCKS)
            }) {
                Some((_, v)) => v,
                None => return Ok(false),
            }
        };
        let day = chosen[0].meta.day;
        let mut events = Vec::new();
        for b in &chosen {
            for g in 0..b.groups.len() {
                events.extend(b.read_events(g)?);
            }
        }
        let from = Provenance {
            wal_upto: chosen.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0),
            compacted_from: chosen.iter().map(|b| b.name()).collect(),
            ..Default::default()
        };
        let opts = self.write_opts(self.opts.compaction_level);
        let path = block::write(&self.root, day, events, &opts, from)?;
        let merged = Arc::new(Block::open(&path)?);
        {
            let mut blocks = self.blocks.write();
            blocks.retain(|b| !chosen.iter().any(|c| Arc::ptr_eq(b, c)));
            blocks.push(merged);
            blocks.sort_by_key(|b| (b.meta.day, b.meta.min_ts_ms, b.name()));
        }
        for b in &chosen {
            dir::remove(&b.dir)?;
        }
        self.counters.compactions.fetch_add(1, Relaxed);
        Ok(true)
    }
}
