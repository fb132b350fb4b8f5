//! The scrape cache: what each raw series text of a target became.
//!
//! Steady-state scraping sees the same series texts every time, so the loop
//! looks each one up here by its raw bytes and appends with the cached
//! [`SeriesRef`] and labels: no label parsing, relabeling or allocation.
//! The cache also remembers which series the last successful scrape wrote,
//! to put staleness markers on those that disappear.
//!
//! Keys: a text is known by its 128-bit XXH3 hash, not by its bytes. At
//! 50,000 series the texts were 3.5 MB of the cache's 12; two different
//! texts of one target sharing a 128-bit hash takes about 2^64 texts, and a
//! target that crafted such a pair could only confuse its own series, which
//! it can write under any name anyway. Prometheus keys by the text itself.
//!
//! Speed: a target lists its series in the same order scrape after
//! scrape, so the cache first checks the series that followed the previous
//! line last time (one key comparison); only when that guess fails does it
//! probe the index, which maps the key's first 64 bits to a slot. Keys that
//! share those 64 bits with another live in a small overflow map.
//!
//! Memory: an entry is 40 bytes and keeps no labels once a successful
//! scrape has committed the store's handle for them. Until then the labels
//! wait in a side map; from then on appends go by handle alone and the
//! labels live once, in the store. Should the store forget a handle (its
//! head dropped an idle series), the scrape loop labels the series again
//! from the line being parsed.
//!
//! Validity: a text gets an entry only once the parser has lexed and
//! validated its label set, and the parser does not lex the label sets of
//! texts the loop finds here (see [`crate::exposition`]), so a hit stands
//! for a validated label set. Only under the format it was validated in,
//! though: text 0.0.4 accepts label sets that OpenMetrics refuses (blanks,
//! a trailing comma, unknown escapes). Each entry remembers that format,
//! and a hit in the other one has to be validated again. Per entry, not
//! per cache: after a target switches formats, texts that its first scrape
//! in the new format did not contain stay cached for a while, and could
//! come back unchecked.

use crate::exposition::Format;
use sightline_core::{Labels, SeriesRef};
use std::collections::HashMap;

/// A series text's 128-bit hash.
type Key = [u64; 2];

fn key(raw: &[u8]) -> Key {
    let h = xxhash_rust::xxh3::xxh3_128(raw);
    [h as u64, (h >> 64) as u64]
}

/// What a series text became after target labels and metric relabeling.
#[derive(Debug)]
pub(crate) struct Entry {
    key: Key,
    /// The store's handle for the labels (0 until known).
    pub series_ref: SeriesRef,
    /// The scrape iteration that last saw the series (wrapping).
    seen: u32,
    /// Position of the entry in the body of the scrape that saw it last.
    pos: u32,
    /// False when metric relabeling drops the series.
    pub kept: bool,
    /// Whether the cache's side map holds labels for this entry.
    has_labels: bool,
    /// The format whose label grammar the text was validated in.
    pub format: Format,
}

/// Slot-indexed entries with a map from series text keys to slot.
#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    /// First half of the key to slot.
    index: HashMap<u64, u32, foldhash::fast::RandomState>,
    /// Keys whose first half another key already holds in `index`.
    collided: HashMap<Key, u32, foldhash::fast::RandomState>,
    /// Labels after target labels and metric relabeling of entries without
    /// a committed store handle (see the module docs).
    labels: HashMap<u32, Labels, foldhash::fast::RandomState>,
    /// Slots in body order of the previous scrape, the guesses for this one.
    order: Vec<u32>,
    /// Slots in body order of the scrape in progress.
    next_order: Vec<u32>,
    /// Position in `order` of the next guess.
    cursor: usize,
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
    /// Counts scrapes (wrapping); entries remember when they were last seen.
    iter: u32,
}

/// Entries unseen for this many scrapes are forgotten.
const EVICT_AFTER: u32 = 10;

impl ScrapeCache {
    #[cfg(test)]
    pub fn new() -> Self {
        ScrapeCache::default()
    }

    /// Number of cached series texts (dropped ones included).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.index.len() + self.collided.len()
    }

    /// Starts a scrape.
    pub fn begin(&mut self) {
        self.iter = self.iter.wrapping_add(1);
        self.cur.clear();
        self.fresh.clear();
        // An empty body (a failed scrape) keeps the last good order.
        if !self.next_order.is_empty() {
            std::mem::swap(&mut self.order, &mut self.next_order);
            self.next_order.clear();
        }
        self.cursor = 0;
    }

    /// The slot of `raw`, marking it seen in this scrape.
    pub fn get(&mut self, raw: &[u8]) -> Option<u32> {
        let k = key(raw);
        // Guesses may name slots evicted (or trimmed) since.
        let holds = |slots: &[Option<Entry>], s: u32| {
            slots
                .get(s as usize)
                .and_then(Option::as_ref)
                .is_some_and(|e| e.key == k)
        };
        let slot = match self.order.get(self.cursor).copied() {
            Some(g) if holds(&self.slots, g) => g,
            _ => {
                let s = match self.index.get(&k[0]) {
                    Some(&s) if holds(&self.slots, s) => s,
                    Some(_) => *self.collided.get(&k)?,
                    None => return None,
                };
                // Guess the series that followed this one last time.
                self.cursor = self.slots[s as usize]
                    .as_ref()
                    .map_or(0, |e| e.pos as usize);
                s
            }
        };
        self.cursor += 1;
        let pos = self.next_order.len() as u32;
        self.next_order.push(slot);
        if let Some(e) = &mut self.slots[slot as usize] {
            e.seen = self.iter;
            e.pos = pos;
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

    /// Records that the label set of `slot`'s text is valid in `format` too
    /// (its entry keeps only the last format it was checked in).
    pub fn set_format(&mut self, slot: u32, format: Format) {
        if let Some(e) = &mut self.slots[slot as usize] {
            e.format = format;
        }
    }

    /// The labels of `slot`, held while it has no committed store handle.
    pub fn labels(&self, slot: u32) -> Option<&Labels> {
        let e = self.slots[slot as usize].as_ref()?;
        if e.has_labels {
            self.labels.get(&slot)
        } else {
            None
        }
    }

    /// Gives `slot` its labels back after the store forgot its handle.
    pub fn set_labels(&mut self, slot: u32, labels: Labels) {
        if let Some(e) = &mut self.slots[slot as usize] {
            e.has_labels = true;
            e.series_ref = 0;
            self.labels.insert(slot, labels);
        }
    }

    fn drop_labels(&mut self, slot: u32) {
        if let Some(e) = &mut self.slots[slot as usize] {
            if e.has_labels {
                e.has_labels = false;
                self.labels.remove(&slot);
            }
        }
    }

    /// Adds a new series text, whose label set was validated in `format`.
    pub fn insert(
        &mut self,
        raw: &[u8],
        labels: Option<Labels>,
        series_ref: SeriesRef,
        format: Format,
    ) -> u32 {
        let k = key(raw);
        let entry = Entry {
            key: k,
            series_ref,
            seen: self.iter,
            pos: self.next_order.len() as u32,
            kept: labels.is_some(),
            has_labels: labels.is_some(),
            format,
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
        if let Some(l) = labels {
            self.labels.insert(slot, l);
        }
        self.next_order.push(slot);
        match self.index.entry(k[0]) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(slot);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(k, slot);
            }
        }
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
                    stale(self.labels(slot).unwrap_or(&empty), e.series_ref);
                }
            }
        }
        let fresh = std::mem::take(&mut self.fresh);
        for &slot in &fresh {
            if self.slots[slot as usize]
                .as_ref()
                .is_some_and(|e| e.series_ref != 0)
            {
                self.drop_labels(slot);
            }
        }
        self.fresh = fresh;
        self.fresh.clear();
        // The side map held a first scrape's labels; keep not its buckets.
        if self.labels.capacity() > 64 && self.labels.len() < self.labels.capacity() / 4 {
            self.labels.shrink_to_fit();
        }
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
                if e.kept && (e.has_labels || e.series_ref != 0) {
                    stale(self.labels(slot).unwrap_or(&empty), e.series_ref);
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
        // most, so the age test never evicts a staleness candidate. Slot
        // numbers left in `order` are harmless: a guess is always checked
        // against the key.
        for i in 0..self.slots.len() {
            let Some(e) = &self.slots[i] else { continue };
            if iter.wrapping_sub(e.seen) < EVICT_AFTER {
                continue;
            }
            let slot = i as u32;
            let k = e.key;
            if self.index.get(&k[0]) == Some(&slot) {
                self.index.remove(&k[0]);
                // Promote a key that shared the first half, if any.
                if let Some(other) = self.collided.keys().find(|o| o[0] == k[0]).copied() {
                    if let Some(s) = self.collided.remove(&other) {
                        self.index.insert(k[0], s);
                    }
                }
            } else {
                self.collided.remove(&k);
            }
            self.drop_labels(slot);
            self.slots[i] = None;
            self.free.push(slot);
        }
        // Trailing free slots go, and the vectors give back what a bigger
        // target left behind: the slots vector grows by doubling.
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        let n = self.slots.len() as u32;
        self.free.retain(|&s| s < n);
        let want = self.slots.len() + self.slots.len() / 16;
        if self.slots.capacity() > want + want / 8 {
            self.slots.shrink_to(want);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: Format = Format::PrometheusText;

    fn l(v: &str) -> Labels {
        Labels::from_pairs([("__name__", v)])
    }

    #[test]
    fn disappearing_series_are_reported_stale_once() {
        let mut c = ScrapeCache::new();
        c.begin();
        let a = c.insert(b"a", Some(l("a")), 1, TEXT);
        let b = c.insert(b"b", Some(l("b")), 2, TEXT);
        let _dropped = c.insert(b"d", None, 0, TEXT);
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
        let a = c.insert(b"a", Some(l("a")), 1, TEXT);
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
        c.insert(b"gone", Some(l("g")), 1, TEXT);
        c.finish_success(|_, _| {});
        for _ in 0..2 * EVICT_AFTER {
            c.begin();
            c.finish_success(|_, _| {});
        }
        assert_eq!(c.len(), 0);
        c.begin();
        assert_eq!(c.insert(b"new", None, 0, TEXT), 0);
    }

    #[test]
    fn guesses_by_order_never_return_the_wrong_slot() {
        // Scrape bodies whose series come in changing orders, with series
        // added and removed: every lookup must find the slot of its own text.
        let bodies: [&[&str]; 5] = [
            &["a", "b", "c", "d"],
            &["a", "b", "c", "d"],
            &["a", "x", "b", "d"],      // c gone, x inserted
            &["d", "b", "a", "x", "c"], // reordered, c back
            &["c", "c", "a"],           // a duplicate line
        ];
        let mut c = ScrapeCache::new();
        let mut slot_of: std::collections::HashMap<&str, u32> = Default::default();
        for body in bodies {
            c.begin();
            for &name in body {
                let slot = match c.get(name.as_bytes()) {
                    Some(s) => s,
                    None => c.insert(name.as_bytes(), Some(l(name)), 0, TEXT),
                };
                let want = *slot_of.entry(name).or_insert(slot);
                assert_eq!(slot, want, "{name} moved slots");
                assert_eq!(c.labels(slot), Some(&l(name)));
            }
            c.finish_success(|_, _| {});
        }
        // Evicted slots are reused by new texts; stale guesses must not match.
        for _ in 0..2 * EVICT_AFTER {
            c.begin();
            c.get(b"a");
            c.finish_success(|_, _| {});
        }
        c.begin();
        assert_eq!(c.get(b"b"), None);
        let s = c.insert(b"new", Some(l("new")), 0, TEXT);
        assert_eq!(c.labels(s), Some(&l("new")));
        assert_eq!(
            c.get(b"a").map(|s| c.labels(s).cloned()),
            Some(Some(l("a")))
        );
    }

    #[test]
    fn entries_are_forty_bytes() {
        assert_eq!(std::mem::size_of::<Option<Entry>>(), 40);
    }

    #[test]
    fn committed_labels_go_and_a_shrunken_target_gives_memory_back() {
        let names: Vec<String> = (0..1000).map(|i| format!("s{i}")).collect();
        let mut c = ScrapeCache::new();
        c.begin();
        for (i, n) in names.iter().enumerate() {
            let s = c.insert(n.as_bytes(), Some(l(n)), 0, TEXT);
            c.set_ref(s, i as u64 + 1);
            c.track(s);
        }
        c.finish_success(|_, _| {});
        assert!(c.labels.is_empty());
        assert!(c.labels.capacity() <= 64, "{}", c.labels.capacity());
        // The target now lists 10 series; then its scrapes fail, so the last
        // order (which names slots that go away) stays the guess list.
        for _ in 0..2 * EVICT_AFTER {
            c.begin();
            for n in &names[..10] {
                let s = c.get(n.as_bytes()).unwrap();
                c.track(s);
            }
            c.finish_success(|_, _| {});
        }
        assert_eq!(c.slots.len(), 10);
        assert!(c.slots.capacity() < 20, "{}", c.slots.capacity());
        c.begin();
        for n in &names {
            c.get(n.as_bytes());
        }
        c.finish_failure(|_, _| {});
        for _ in 0..2 * EVICT_AFTER {
            c.begin();
            c.finish_failure(|_, _| {});
        }
        assert_eq!(c.slots.len(), 0);
        c.begin();
        assert_eq!(c.get(b"s5"), None);
        assert_eq!(c.get(b"s999"), None);
        let s = c.insert(b"s5", Some(l("s5")), 0, TEXT);
        assert_eq!(c.labels(s), Some(&l("s5")));
    }
}
