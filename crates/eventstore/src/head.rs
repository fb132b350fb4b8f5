//! The head: events appended since the last cut, by UTC day, in runs of
//! at most [`RUN`] events shared with readers by `Arc`, so a scan takes a
//! snapshot (clones a few pointers) and reads it without holding the lock;
//! an append copies at most one run if a reader still holds it.

use crate::model::Event;
use crate::props::day_of;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Events per run.
const RUN: usize = 4096;

/// One day's events: runs in append order (not time order).
pub(crate) type DayRuns = Vec<Arc<Vec<Event>>>;

/// The head's events, by day.
#[derive(Default)]
pub(crate) struct Head {
    /// Appended since the last cut.
    pub live: BTreeMap<i64, DayRuns>,
    /// Taken by a cut in progress, until its blocks are published: readers
    /// see them here or in the blocks, never both or neither.
    pub frozen: Option<Arc<BTreeMap<i64, DayRuns>>>,
    /// Events in `live`.
    pub events: usize,
}

impl Head {
    pub(crate) fn push(&mut self, e: Event) {
        let runs = self.live.entry(day_of(e.timestamp_ms)).or_default();
        match runs.last_mut() {
            Some(r) if r.len() < RUN => Arc::make_mut(r).push(e),
            _ => {
                let mut v = Vec::with_capacity(RUN.min(64));
                v.push(e);
                runs.push(Arc::new(v));
            }
        }
        self.events += 1;
    }

    /// Per day, the runs of both `frozen` and `live`: what a reader scans.
    pub(crate) fn snapshot(&self) -> BTreeMap<i64, DayRuns> {
        let mut out = self.live.clone();
        if let Some(f) = &self.frozen {
            for (d, runs) in f.iter() {
                out.entry(*d).or_default().extend(runs.iter().cloned());
            }
        }
        out
    }

    /// Newest event time in the head, if any.
    pub(crate) fn newest(&self) -> Option<i64> {
        let f = self.frozen.iter().flat_map(|f| f.values());
        self.live
            .values()
            .chain(f)
            .flat_map(|runs| runs.iter())
            .flat_map(|r| r.iter())
            .map(|e| e.timestamp_ms)
            .max()
    }
}

/// The events of `runs` in time order (stable: equal times keep append
/// order).
pub(crate) fn sorted(runs: &[Arc<Vec<Event>>]) -> Vec<&Event> {
    let mut v: Vec<&Event> = runs.iter().flat_map(|r| r.iter()).collect();
    v.sort_by_key(|e| e.timestamp_ms);
    v
}
