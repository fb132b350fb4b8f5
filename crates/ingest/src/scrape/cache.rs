//! The scrape cache: what each raw series text of a target became.
//!
//! Steady-state scraping sees the same series texts every time, so the loop
//! looks each one up here by its raw bytes and appends with the cached
//! [`SeriesRef`] and labels: no label parsing, relabeling or allocation.
//! The cache also remembers which series the last successful scrape wrote,
//! to put staleness markers on those that disappear.
//!
//! Memory: an entry keeps its labels only until a successful scrape has
//! committed the store's handle for them. From then on appends go by
//! handle alone and the labels live once, in the store: at 50,000 series
//! that is most of the scrape path's memory. Should the store forget a
//! handle (its head dropped an idle series), the scrape loop labels the
//! series again from the line being parsed.

use sightline_core::{Labels, SeriesRef};
use std::collections::HashMap;

/// What a series text became after target labels and metric relabeling.
#[derive(Debug)]
pub(crate) struct Entry {
    /// False when metric relabeling drops the series.
    pub kept: bool,
    /// The labels after target labels and metric relabeling, held only
    /// while no committed store handle exists (see the module docs).
    pub labels: Option<Labels>,
    /// The store's handle for the labels (0 until known).
    pub series_ref: SeriesRef,
    /// The scrape iteration that last saw the series.
    pub seen: u64,
}

/// Slot-indexed entries with a map from raw series bytes to slot.
#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    index: HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>,
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    /// Slots written (not dropped, without explicit timestamps) by the last
    /// successful scrape: the candidates for staleness markers.
    prev: Vec<u32>,
    /// The same for the scrape in progress.
    cur: Vec<u32>,
    /// Slots that got their store handle in the scrape in progress: their
    /// labels go once the scrape succeeds, their handles if it is rolled back.
    fresh: Vec<u32>,
    /// Counts scrapes; entries remember when they were last seen.
    iter: u64,
}

/// Entries unseen for this many scrapes are forgotten.
const EVICT_AFTER: u64 = 10;

impl ScrapeCache {
    #[cfg(test)]
    pub fn new() -> Self {
        ScrapeCache::default()
    }

    /// Number of cached series texts (dropped ones included).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Starts a scrape.
    pub fn begin(&mut self) {
        self.iter += 1;
        self.cur.clear();
        self.fresh.clear();
    }

    /// The slot of `raw`, marking it seen in this scrape.
    pub fn get(&mut self, raw: &[u8]) -> Option<u32> {
        let slot = *self.index.get(raw)?;
        if let Some(e) = &mut self.slots[slot as usize] {
            e.seen = self.iter;
        }
        Some(slot)
    }

    /// The entry in `slot`.
    pub fn entry(&self, slot: u32) -> &Entry {
        self.slots[slot as usize]
            .as_ref()
            .expect("cache slot in use")
    }

    /// Updates the store handle of `slot`.
    pub fn set_ref(&mut self, slot: u32, r: SeriesRef) {
        if let Some(e) = &mut self.slots[slot as usize] {
            e.series_ref = r;
            if r != 0 {
                self.fresh.push(slot);
            }
        }
    }

    /// Gives `slot` its labels back after the store forgot its handle.
    pub fn set_labels(&mut self, slot: u32, labels: Labels) {
        if let Some(e) = &mut self.slots[slot as usize] {
            e.labels = Some(labels);
            e.series_ref = 0;
        }
    }

    /// Adds a new series text.
    pub fn insert(&mut self, raw: &[u8], labels: Option<Labels>, series_ref: SeriesRef) -> u32 {
        let entry = Entry {
            kept: labels.is_some(),
            labels,
            series_ref,
            seen: self.iter,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(entry);
                s
            }
            None => {
                self.slots.push(Some(entry));
                (self.slots.len() - 1) as u32
            }
        };
        // The map owns the only copy of the series text.
        self.index.insert(raw.into(), slot);
        slot
    }

    /// Forgets the store handles handed out in the scrape in progress,
    /// after its transaction was rolled back: the store need not keep them.
    /// Handles committed by earlier scrapes stay valid, and entries that got
    /// a handle in this scrape still hold their labels.
    pub fn reset_refs(&mut self) {
        for &slot in &self.fresh {
            if let Some(e) = &mut self.slots[slot as usize] {
                e.series_ref = 0;
            }
        }
        self.fresh.clear();
    }

    /// Records that this scrape wrote `slot` without an explicit timestamp.
    pub fn track(&mut self, slot: u32) {
        self.cur.push(slot);
    }

    /// Finishes a successful scrape: calls `stale` for each series the
    /// previous successful scrape wrote and this one did not.
    /// Entries whose labels were dropped are passed empty labels and
    /// their committed handle. Afterwards, the handles this scrape got are
    /// committed (the caller commits right after), so their labels go.
    pub fn finish_success(&mut self, mut stale: impl FnMut(&Labels, SeriesRef)) {
        let empty = Labels::empty();
        for &slot in &self.prev {
            if let Some(e) = &self.slots[slot as usize] {
                if e.seen != self.iter && e.kept {
                    stale(e.labels.as_ref().unwrap_or(&empty), e.series_ref);
                }
            }
        }
        for &slot in &self.fresh {
            if let Some(e) = &mut self.slots[slot as usize] {
                if e.series_ref != 0 {
                    e.labels = None;
                }
            }
        }
        self.fresh.clear();
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur.clear();
        self.evict();
    }

    /// Finishes a failed scrape (nothing of it was stored): every series of
    /// the previous successful scrape goes stale, as Prometheus does.
    pub fn finish_failure(&mut self, stale: impl FnMut(&Labels, SeriesRef)) {
        self.mark_all_stale(stale);
        self.cur.clear();
        self.evict();
    }

    /// Calls `stale` for every series of the last successful scrape and
    /// forgets them (used when the target goes away, too).
    pub fn mark_all_stale(&mut self, mut stale: impl FnMut(&Labels, SeriesRef)) {
        let empty = Labels::empty();
        for &slot in &self.prev {
            if let Some(e) = &self.slots[slot as usize] {
                // A kept entry has its labels or a committed handle.
                if e.kept && (e.labels.is_some() || e.series_ref != 0) {
                    stale(e.labels.as_ref().unwrap_or(&empty), e.series_ref);
                }
            }
        }
        self.prev.clear();
    }

    /// True when the last successful scrape wrote series that could go stale.
    #[cfg(test)]
    pub fn has_previous(&self) -> bool {
        !self.prev.is_empty()
    }

    fn evict(&mut self) {
        // Only every few scrapes: a full pass costs as much as a scrape's lookups.
        if !self.iter.is_multiple_of(EVICT_AFTER) {
            return;
        }
        let iter = self.iter;
        // Entries of the last successful scrape were seen one scrape ago at
        // most, so the age test never evicts a staleness candidate.
        let (slots, free) = (&mut self.slots, &mut self.free);
        self.index.retain(|_, slot| {
            let i = *slot as usize;
            let old = slots[i]
                .as_ref()
                .is_some_and(|e| iter - e.seen >= EVICT_AFTER);
            if old {
                slots[i] = None;
                free.push(*slot);
            }
            !old
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &str) -> Labels {
        Labels::from_pairs([("__name__", v)])
    }

    #[test]
    fn disappearing_series_are_reported_stale_once() {
        let mut c = ScrapeCache::new();
        c.begin();
        let a = c.insert(b"a", Some(l("a")), 1);
        let b = c.insert(b"b", Some(l("b")), 2);
        let _dropped = c.insert(b"d", None, 0);
        c.track(a);
        c.track(b);
        c.finish_success(|_, _| panic!("nothing stale yet"));

        c.begin();
        let a2 = c.get(b"a").unwrap();
        assert_eq!(a2, a);
        c.track(a2);
        let mut stale = Vec::new();
        c.finish_success(|l, r| stale.push((l.clone(), r)));
        assert_eq!(stale, vec![(l("b"), 2)]);

        c.begin();
        let a3 = c.get(b"a").unwrap();
        c.track(a3);
        c.finish_success(|_, _| panic!("b was already marked"));
    }

    #[test]
    fn failure_marks_everything_of_the_last_success() {
        let mut c = ScrapeCache::new();
        c.begin();
        let a = c.insert(b"a", Some(l("a")), 1);
        c.track(a);
        c.finish_success(|_, _| {});
        c.begin();
        c.get(b"a");
        let mut n = 0;
        c.finish_failure(|_, _| n += 1);
        assert_eq!(n, 1);
        assert!(!c.has_previous());
    }

    #[test]
    fn unseen_entries_are_evicted_and_slots_reused() {
        let mut c = ScrapeCache::new();
        c.begin();
        c.insert(b"gone", Some(l("g")), 1);
        c.finish_success(|_, _| {});
        for _ in 0..2 * EVICT_AFTER {
            c.begin();
            c.finish_success(|_, _| {});
        }
        assert_eq!(c.len(), 0);
        c.begin();
        assert_eq!(c.insert(b"new", None, 0), 0);
    }
}
