//! Compaction and retention.
//!
//! Planning, in order: (1) blocks whose time ranges overlap (out-of-order
//! data, backfill) are merged together first, so queries touch fewer blocks
//! and every later step sees disjoint ranges; (2) for each wider range
//! (block range × 3, × 9, ..., capped at a tenth of retention) the blocks
//! inside one aligned window are merged once that window has passed.
//! Retention then deletes whole blocks: by age, then oldest-first by size.

use crate::block::{writer::Writer, Block};
use crate::db::Inner;
use crate::querier::merge_sorted;
use crate::stats::Counters;
use crate::Result;
use sightline_core::{HistogramSample, Labels, Sample};
use sightline_storage::retention;
use std::sync::Arc;

/// The next set of blocks to merge, if any.
pub(crate) fn plan(blocks: &[Arc<Block>], ranges: &[i64]) -> Option<Vec<Arc<Block>>> {
    let mut sorted: Vec<Arc<Block>> = blocks.to_vec();
    sorted.sort_by_key(|b| (b.meta.min_time, b.meta.max_time));
    // Overlapping groups first.
    let mut group: Vec<Arc<Block>> = Vec::new();
    let mut group_max = i64::MIN;
    for b in &sorted {
        if !group.is_empty() && b.meta.min_time < group_max {
            group.push(b.clone());
            group_max = group_max.max(b.meta.max_time);
            continue;
        }
        if group.len() > 1 {
            return Some(group);
        }
        group = vec![b.clone()];
        group_max = b.meta.max_time;
    }
    if group.len() > 1 {
        return Some(group);
    }
    let newest = sorted.iter().map(|b| b.meta.max_time).max()?;
    for &r in ranges.iter().skip(1) {
        let mut i = 0;
        while i < sorted.len() {
            let w = sorted[i].meta.min_time.div_euclid(r);
            let (lo, hi) = (w * r, w * r + r);
            let members: Vec<Arc<Block>> = sorted
                .iter()
                .filter(|b| b.meta.min_time >= lo && b.meta.max_time <= hi)
                .cloned()
                .collect();
            let next = sorted
                .iter()
                .position(|b| b.meta.min_time >= hi)
                .unwrap_or(sorted.len());
            if members.len() > 1 && hi <= newest {
                return Some(members);
            }
            i = next.max(i + 1);
        }
    }
    None
}

/// Runs plans until there is nothing left to merge.
pub(crate) fn compact(db: &Inner) -> Result<()> {
    let ranges = db.opts.compaction_ranges();
    for _ in 0..100 {
        let blocks = db.blocks.read().clone();
        let Some(group) = plan(&blocks, &ranges) else {
            return Ok(());
        };
        if let Err(e) = merge_blocks(db, &group) {
            Counters::inc(&db.counters.compaction_failures, 1);
            return Err(e);
        }
        Counters::inc(&db.counters.compactions, 1);
    }
    Ok(())
}

/// Merges `group` into one block, swaps it in and deletes the inputs.
pub(crate) fn merge_blocks(db: &Inner, group: &[Arc<Block>]) -> Result<()> {
    let mut w = Writer::new(&db.dir, true)?;
    // One cursor per block walks its series in label order; at each step the
    // smallest label set is taken from every block that has it.
    let mut cursors: Vec<u32> = vec![0; group.len()];
    #[allow(clippy::type_complexity)]
    let advance =
        |bi: usize, c: &mut u32| -> Result<Option<(Labels, Vec<Sample>, Vec<HistogramSample>)>> {
            let b = &group[bi];
            if *c >= b.num_series() {
                return Ok(None);
            }
            let r = b.series_samples(*c);
            *c += 1;
            r.map(Some).inspect_err(|e| db.set_aside(b, e))
        };
    let mut pending = Vec::with_capacity(group.len());
    for (i, c) in cursors.iter_mut().enumerate() {
        pending.push(advance(i, c)?);
    }
    while let Some(min) = pending.iter().flatten().map(|(l, ..)| l).min().cloned() {
        let mut samples: Vec<Sample> = Vec::new();
        let mut hists: Vec<HistogramSample> = Vec::new();
        for (i, c) in cursors.iter_mut().enumerate() {
            if pending[i].as_ref().is_some_and(|(l, ..)| *l == min) {
                let (_, s, h) = pending[i].take().expect("checked");
                samples = merge_sorted(samples, s);
                hists = merge_sorted(hists, h);
                pending[i] = advance(i, c)?;
            }
        }
        w.add_series(&min, &samples, &hists)?;
    }
    let level = group
        .iter()
        .map(|b| b.meta.compaction.level)
        .max()
        .unwrap_or(1)
        + 1;
    let mut sources: Vec<String> = group
        .iter()
        .flat_map(|b| b.meta.compaction.sources.clone())
        .collect();
    sources.sort();
    sources.dedup();
    let lo = group.iter().map(|b| b.meta.min_time).min().unwrap_or(0);
    let hi = group.iter().map(|b| b.meta.max_time).max().unwrap_or(0);
    let meta = w.finish(level, sources, Some((lo, hi)))?;
    let new = match &meta {
        Some(m) => vec![Arc::new(Block::open(&db.dir.join(&m.ulid))?)],
        None => Vec::new(),
    };
    let gone: Vec<String> = group.iter().map(|b| b.id().to_owned()).collect();
    db.add_blocks(new, &gone);
    for b in group {
        delete_block_dir(b)?;
    }
    log::info!(
        "compacted {} blocks into {} (level {level})",
        group.len(),
        meta.as_ref().map_or("nothing", |m| m.ulid.as_str())
    );
    Ok(())
}

/// Renames a block away (atomically hiding it from a future open) and
/// removes it. Readers holding it keep their open files until they finish.
fn delete_block_dir(b: &Block) -> Result<()> {
    Ok(sightline_storage::dir::remove(&b.dir)?)
}

/// Deletes blocks past `retention_time_ms` (measured back from the newest
/// data) and then, oldest first, while storage exceeds `retention_size_bytes`.
pub(crate) fn apply_retention(db: &Inner) -> Result<()> {
    let blocks = db.blocks.read().clone();
    let items: Vec<retention::Item> = blocks
        .iter()
        .map(|b| retention::Item {
            max_time: b.meta.max_time,
            size_bytes: b.size_bytes,
        })
        .collect();
    let policy = retention::Policy {
        time_ms: db.opts.retention_time_ms,
        size_bytes: db.opts.retention_size_bytes,
    };
    // The WAL counts against the size limit only when there is one: it is
    // measured only then (a directory walk).
    let wal_bytes = if policy.size_bytes > 0 {
        db.wal.size_bytes()
    } else {
        0
    };
    let doomed: Vec<Arc<Block>> = retention::select(&items, policy, db.head.max_time(), wal_bytes)
        .into_iter()
        .map(|i| blocks[i].clone())
        .collect();
    if doomed.is_empty() {
        return Ok(());
    }
    let gone: Vec<String> = doomed.iter().map(|b| b.id().to_owned()).collect();
    db.add_blocks(Vec::new(), &gone);
    for b in &doomed {
        log::info!(
            "retention deletes block {} [{}, {})",
            b.id(),
            b.meta.min_time,
            b.meta.max_time
        );
        delete_block_dir(b)?;
    }
    Counters::inc(&db.counters.retention_deleted, doomed.len() as u64);
    Ok(())
}
