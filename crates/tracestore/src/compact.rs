//! Compaction: a tenant's small blocks, oldest first, merged into one by a
//! merge of their sorted trace ids, group by group, so that memory is a
//! group per source; the parts of a trace written far apart join.

use crate::block::Block;
use crate::group;
use crate::store::{dedup, Inner};
use crate::write::BlockWriter;
use crate::Result;
use sightline_core::traces::{Span, TraceId};
use sightline_storage::dir;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Blocks merged at most at once: each source holds one decoded group while
/// merging, so this bounds compaction's memory (about 5 MB a source with
/// 4096-span groups); more small blocks are merged over several rounds.
const MAX_SOURCES: usize = 8;

/// Blocks of one level that maintenance waits for before merging them.
const MIN_SOURCES: usize = 4;

/// Reads a block's traces in id order, one group at a time.
struct Cursor<'a> {
    b: &'a Block,
    next_group: usize,
    buf: VecDeque<(TraceId, Vec<Span>)>,
}

impl Cursor<'_> {
    fn peek(&mut self) -> Result<Option<TraceId>> {
        while self.buf.is_empty() && self.next_group < self.b.groups.len() {
            let g = self.b.groups[self.next_group];
            self.next_group += 1;
            let raw = self.b.group_bytes(self.next_group - 1)?;
            let ids = &self.b.ids[g.first_trace as usize..(g.first_trace + g.traces) as usize];
            let traces = group::decode(&raw, ids, &self.b.dict, &mut |_| true)?;
            self.buf = ids.iter().map(|i| TraceId(*i)).zip(traces).collect();
        }
        Ok(self.buf.front().map(|t| t.0))
    }
}

impl Inner {
    /// One round of [`Inner::compact_with`] as maintenance runs it: only
    /// a level with [`MIN_SOURCES`] small blocks is merged.
    pub(crate) fn compact(&self) -> Result<bool> {
        self.compact_with(false)
    }

    /// Merges the oldest two to [`MAX_SOURCES`] small blocks (under half of
    /// `compact_block_size`, together at most that) of one tenant and one
    /// level, the lowest level holding [`MIN_SOURCES`] of them, into a
    /// block one level up: blocks are rewritten about once per level, not
    /// at every round. `force` merges any two or more small blocks, whatever
    /// their level (tools, tests, the end of a bulk load). False when
    /// nothing was merged. Runs beside head cuts: both only add to and
    /// remove from the block list under its lock.
    pub(crate) fn compact_with(&self, force: bool) -> Result<bool> {
        let limit = self.opts.compact_block_size;
        if limit == 0 {
            return Ok(false);
        }
        let _one = self.compact_lock.lock();
        let sources: Vec<Arc<Block>> = {
            let blocks = self.blocks.read();
            let mut by_key: BTreeMap<(&str, u32), Vec<&Arc<Block>>> = BTreeMap::new();
            for b in blocks.iter().filter(|b| b.size_bytes < limit / 2) {
                let level = if force { 0 } else { b.meta.level };
                by_key.entry((&b.meta.tenant, level)).or_default().push(b);
            }
            let need = if force { 2 } else { MIN_SOURCES };
            let mut pick = Vec::new();
            for (_, mut v) in by_key {
                if v.len() < need {
                    continue;
                }
                v.sort_by_key(|b| (b.meta.min_ns, b.meta.max_ns));
                let mut total = 0;
                for b in v {
                    if pick.len() >= MAX_SOURCES
                        || (total + b.size_bytes > limit && pick.len() >= 2)
                    {
                        break;
                    }
                    total += b.size_bytes;
                    pick.push(b.clone());
                }
                if pick.len() >= 2 {
                    break;
                }
                pick.clear();
            }
            pick
        };
        if sources.len() < 2 {
            return Ok(false);
        }
        let tenant = sources[0].meta.tenant.clone();
        let mut w = BlockWriter::create(
            &self.root,
            &tenant,
            self.opts.compaction_level,
            self.opts.group_spans,
        )?;
        let mut cursors: Vec<Cursor> = sources
            .iter()
            .map(|b| Cursor {
                b,
                next_group: 0,
                buf: VecDeque::new(),
            })
            .collect();
        let mut read_err = None;
        loop {
            let mut min: Option<TraceId> = None;
            for (i, c) in cursors.iter_mut().enumerate() {
                match c.peek() {
                    Ok(Some(id)) => min = Some(min.map_or(id, |m| m.min(id))),
                    Ok(None) => {}
                    Err(e) => {
                        read_err = Some((i, e));
                        break;
                    }
                }
            }
            if read_err.is_some() {
                break;
            }
            let Some(id) = min else { break };
            let mut spans = Vec::new();
            for c in cursors.iter_mut() {
                if c.buf.front().is_some_and(|t| t.0 == id) {
                    spans.extend(c.buf.pop_front().expect("front").1);
                }
            }
            w.add_trace(id, dedup(spans))?;
        }
        if let Some((i, e)) = read_err {
            drop(w);
            self.set_aside(&sources[i], &e);
            return Ok(true);
        }
        let names: Vec<String> = sources.iter().map(|b| b.name()).collect();
        let upto = sources.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0);
        let level = sources.iter().map(|b| b.meta.level).max().unwrap_or(0) + 1;
        let Some(p) = w.finish(upto, names, level)? else {
            return Ok(false);
        };
        let merged = Arc::new(Block::open(&p)?);
        {
            let mut blocks = self.blocks.write();
            blocks.retain(|b| !sources.iter().any(|s| Arc::ptr_eq(s, b)));
            blocks.push(merged);
        }
        for s in &sources {
            dir::remove(&s.dir)?;
        }
        self.counters.compactions.fetch_add(1, Relaxed);
        Ok(true)
    }
}
