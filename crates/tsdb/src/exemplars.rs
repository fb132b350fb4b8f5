//! Exemplar storage: one bounded ring of exemplars shared by all series, as
//! Prometheus's `CircularExemplarStorage` (`tsdb/exemplar.go`, 2.42, with
//! `--enable-feature=exemplar-storage`):
//!
//! - The ring holds at most `max_exemplars` exemplars; a new one overwrites
//!   the oldest of all, whichever series it belonged to.
//! - Each series with exemplars has an index entry pointing at its oldest
//!   and newest slot; slots of one series are chained oldest to newest, so
//!   a query walks only the series it selects.
//! - An exemplar equal to its series' newest (same labels and value, and
//!   the same timestamp when either came with one) is a duplicate: accepted
//!   and not stored. One not newer than the series' newest is out of order
//!   and refused. Labels longer than 128 characters in all are refused.
//! - The ring can be resized; it keeps the newest exemplars that fit.
//!
//! The ring lives in memory; the appender writes each committed batch of
//! exemplars to the WAL first (`wal::REC_EXEMPLARS`), and WAL replay and
//! checkpoints bring them back after a restart.

use foldhash::{HashMap, HashMapExt};
use parking_lot::Mutex;
use sightline_core::{matches_all, Exemplar, Labels, Matcher, SeriesExemplars};
use std::sync::Arc;

const NONE: u32 = u32::MAX;

/// An exemplar as the ring keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    pub labels: Labels,
    pub value: f64,
    pub t: i64,
    /// Whether the exemplar came with its own timestamp (it matters for
    /// duplicates, as in Prometheus; not kept across restarts, as there).
    pub has_ts: bool,
}

impl Stored {
    /// Prometheus's `Exemplar.Equals`.
    fn same_as(&self, o: &Stored) -> bool {
        self.labels == o.labels
            && (!(self.has_ts || o.has_ts) || self.t == o.t)
            && self.value == o.value
    }
}

/// Why an exemplar was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Equal to the series' newest: not an error, nothing to store.
    Duplicate,
    /// Not newer than the series' newest.
    OutOfOrder,
    /// Labels over [`sightline_core::EXEMPLAR_MAX_LABEL_RUNES`].
    LabelsTooLong,
}

struct Slot {
    series: Arc<Labels>,
    ex: Stored,
    next: u32,
}

#[derive(Clone, Copy)]
struct SeriesIdx {
    oldest: u32,
    newest: u32,
    /// The head series id last seen with the series, for checkpoints.
    id: u32,
}

struct Ring {
    slots: Vec<Slot>,
    cap: usize,
    /// Where the next exemplar goes once the ring is full.
    next: usize,
    index: HashMap<Arc<Labels>, SeriesIdx>,
}

/// Numbers for self-telemetry.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ExemplarStats {
    /// Exemplars in the ring.
    pub in_storage: u64,
    /// Series with exemplars in the ring.
    pub series: u64,
    /// The ring's size.
    pub max_exemplars: u64,
    /// Timestamp (ms) of the oldest exemplar in the ring, 0 when empty.
    pub oldest_timestamp_ms: i64,
    /// Exemplars stored since start.
    pub appended_total: u64,
    /// Exemplars refused as out of order since start.
    pub out_of_order_total: u64,
}

/// The ring behind one lock: appends come in committed batches, queries
/// are rare.
pub(crate) struct ExemplarStorage {
    ring: Mutex<Ring>,
    appended: std::sync::atomic::AtomicU64,
    out_of_order: std::sync::atomic::AtomicU64,
}

impl ExemplarStorage {
    pub(crate) fn new(cap: usize) -> Self {
        ExemplarStorage {
            ring: Mutex::new(Ring {
                slots: Vec::new(),
                cap: cap.min(NONE as usize - 1),
                next: 0,
                index: HashMap::new(),
            }),
            appended: Default::default(),
            out_of_order: Default::default(),
        }
    }

    /// False when the ring has no room at all (`max_exemplars: 0`).
    pub(crate) fn enabled(&self) -> bool {
        self.ring.lock().cap > 0
    }

    /// Checks `e` against the series' newest exemplar without storing it.
    pub(crate) fn validate(&self, series: &Labels, e: &Stored) -> Result<(), Refusal> {
        check_labels(e)?;
        self.ring.lock().check(series, e)
    }

    /// Stores `e` for `series` (head id `id`) unless refused.
    pub(crate) fn add(&self, series: &Labels, id: u32, e: Stored) -> Result<(), Refusal> {
        check_labels(&e)?;
        let mut r = self.ring.lock();
        if r.cap == 0 {
            return Ok(());
        }
        match r.check(series, &e) {
            Ok(()) => {}
            Err(Refusal::OutOfOrder) => {
                self.out_of_order
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Err(Refusal::OutOfOrder);
            }
            Err(other) => return Err(other),
        }
        r.push(series, id, e);
        self.appended
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Exemplars in `[mint, maxt]` of the series matching any matcher set,
    /// sorted by series labels, each series' oldest first.
    pub(crate) fn select(
        &self,
        mint: i64,
        maxt: i64,
        selectors: &[Vec<Matcher>],
    ) -> Vec<SeriesExemplars> {
        let r = self.ring.lock();
        let mut out = Vec::new();
        for (labels, idx) in &r.index {
            let (oldest, newest) = (&r.slots[idx.oldest as usize], &r.slots[idx.newest as usize]);
            if oldest.ex.t > maxt || newest.ex.t < mint {
                continue;
            }
            if !selectors.iter().any(|m| matches_all(m, labels)) {
                continue;
            }
            let mut exemplars = Vec::new();
            let mut at = idx.oldest;
            while at != NONE {
                let s = &r.slots[at as usize];
                if s.ex.t > maxt {
                    break;
                }
                if s.ex.t >= mint {
                    exemplars.push(Exemplar {
                        labels: s.ex.labels.clone(),
                        value: s.ex.value,
                        timestamp: Some(s.ex.t),
                    });
                }
                at = s.next;
            }
            if !exemplars.is_empty() {
                out.push(SeriesExemplars {
                    series_labels: (**labels).clone(),
                    exemplars,
                });
            }
        }
        out.sort_by(|a, b| a.series_labels.cmp(&b.series_labels));
        out
    }

    /// Every exemplar, oldest first, with its series' head id: what a WAL
    /// checkpoint keeps.
    pub(crate) fn all(&self) -> Vec<(u32, Arc<Labels>, Stored)> {
        let r = self.ring.lock();
        r.in_order()
            .map(|s| {
                let id = r.index.get(&*s.series).map_or(0, |i| i.id);
                (id, s.series.clone(), s.ex.clone())
            })
            .collect()
    }

    /// Changes the ring's size, keeping the newest exemplars that fit.
    pub(crate) fn resize(&self, cap: usize) {
        let mut r = self.ring.lock();
        let cap = cap.min(NONE as usize - 1);
        if cap == r.cap {
            return;
        }
        let old: Vec<(Arc<Labels>, u32, Stored)> = r
            .in_order()
            .map(|s| {
                let id = r.index.get(&*s.series).map_or(0, |i| i.id);
                (s.series.clone(), id, s.ex.clone())
            })
            .collect();
        *r = Ring {
            slots: Vec::new(),
            cap,
            next: 0,
            index: HashMap::new(),
        };
        let skip = old.len().saturating_sub(cap);
        for (series, id, ex) in old.into_iter().skip(skip) {
            r.push(&series, id, ex);
        }
    }

    pub(crate) fn stats(&self) -> ExemplarStats {
        let r = self.ring.lock();
        let oldest = r.in_order().next().map_or(0, |s| s.ex.t);
        ExemplarStats {
            in_storage: r.slots.len() as u64,
            series: r.index.len() as u64,
            max_exemplars: r.cap as u64,
            oldest_timestamp_ms: oldest,
            appended_total: self.appended.load(std::sync::atomic::Ordering::Relaxed),
            out_of_order_total: self.out_of_order.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

fn check_labels(e: &Stored) -> Result<(), Refusal> {
    let mut n = 0;
    for l in &e.labels {
        n += l.name.chars().count() + l.value.chars().count();
        if n > sightline_core::EXEMPLAR_MAX_LABEL_RUNES {
            return Err(Refusal::LabelsTooLong);
        }
    }
    Ok(())
}

impl Ring {
    fn check(&self, series: &Labels, e: &Stored) -> Result<(), Refusal> {
        let Some(idx) = self.index.get(series) else {
            return Ok(());
        };
        let newest = &self.slots[idx.newest as usize].ex;
        if newest.same_as(e) {
            return Err(Refusal::Duplicate);
        }
        if e.t <= newest.t {
            return Err(Refusal::OutOfOrder);
        }
        Ok(())
    }

    /// The slots from oldest to newest.
    fn in_order(&self) -> impl Iterator<Item = &Slot> {
        let split = if self.slots.len() < self.cap {
            0
        } else {
            self.next
        };
        self.slots[split..].iter().chain(self.slots[..split].iter())
    }

    fn push(&mut self, series: &Labels, id: u32, ex: Stored) {
        let key = match self.index.get_key_value(series) {
            Some((k, _)) => k.clone(),
            None => Arc::new(series.clone()),
        };
        let slot = Slot {
            series: key.clone(),
            ex,
            next: NONE,
        };
        let pos = if self.slots.len() < self.cap {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let pos = self.next;
            self.next = (self.next + 1) % self.cap;
            // The slot overwritten is the oldest of its series: the series'
            // chain now starts at the next one, or the series has no
            // exemplars left.
            let evicted = std::mem::replace(&mut self.slots[pos], slot);
            if evicted.next == NONE {
                self.index.remove(&*evicted.series);
            } else if let Some(i) = self.index.get_mut(&*evicted.series) {
                i.oldest = evicted.next;
            }
            pos
        } as u32;
        match self.index.get_mut(series) {
            Some(i) => {
                let prev = i.newest;
                i.newest = pos;
                i.id = id;
                self.slots[prev as usize].next = pos;
            }
            None => {
                self.index.insert(
                    key,
                    SeriesIdx {
                        oldest: pos,
                        newest: pos,
                        id,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::MatchOp;

    fn series(n: &str) -> Labels {
        Labels::from_pairs([("__name__", n)])
    }

    fn ex(trace: &str, v: f64, t: i64) -> Stored {
        Stored {
            labels: Labels::from_pairs([("trace_id", trace)]),
            value: v,
            t,
            has_ts: true,
        }
    }

    fn all_of(s: &ExemplarStorage) -> Vec<(String, Vec<i64>)> {
        let any = vec![Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
        s.select(i64::MIN, i64::MAX, &[any])
            .into_iter()
            .map(|r| {
                (
                    r.series_labels.get("__name__").unwrap().to_owned(),
                    r.exemplars.iter().map(|e| e.timestamp.unwrap()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn the_ring_overwrites_the_oldest_exemplar_of_all_series() {
        let s = ExemplarStorage::new(3);
        s.add(&series("a"), 1, ex("x", 1.0, 10)).unwrap();
        s.add(&series("b"), 2, ex("x", 1.0, 11)).unwrap();
        s.add(&series("a"), 1, ex("y", 2.0, 12)).unwrap();
        s.add(&series("b"), 2, ex("y", 2.0, 13)).unwrap();
        // a's 10 went; b's 11 is next.
        assert_eq!(
            all_of(&s),
            vec![("a".into(), vec![12]), ("b".into(), vec![11, 13])]
        );
        s.add(&series("c"), 3, ex("z", 1.0, 14)).unwrap();
        s.add(&series("c"), 3, ex("z", 2.0, 15)).unwrap();
        // a lost its last exemplar and left the index.
        assert_eq!(
            all_of(&s),
            vec![("b".into(), vec![13]), ("c".into(), vec![14, 15])]
        );
        let st = s.stats();
        assert_eq!(
            (st.in_storage, st.series, st.oldest_timestamp_ms),
            (3, 2, 13)
        );
    }

    #[test]
    fn duplicates_are_dropped_and_older_exemplars_refused() {
        let s = ExemplarStorage::new(10);
        let a = series("a");
        s.add(&a, 1, ex("x", 1.0, 10)).unwrap();
        assert_eq!(s.add(&a, 1, ex("x", 1.0, 10)), Err(Refusal::Duplicate));
        assert_eq!(s.add(&a, 1, ex("x", 2.0, 10)), Err(Refusal::OutOfOrder));
        assert_eq!(s.add(&a, 1, ex("x", 2.0, 9)), Err(Refusal::OutOfOrder));
        // Without timestamps on either side, time is not compared: the same
        // exemplar scraped again is a duplicate, as in Prometheus.
        let mut no_ts = ex("x", 3.0, 20);
        no_ts.has_ts = false;
        s.add(&a, 1, no_ts.clone()).unwrap();
        no_ts.t = 30;
        assert_eq!(s.validate(&a, &no_ts), Err(Refusal::Duplicate));
        let long = Stored {
            labels: Labels::from_pairs([("trace_id", "x".repeat(121).as_str())]),
            ..ex("", 1.0, 40)
        };
        assert_eq!(s.validate(&a, &long), Err(Refusal::LabelsTooLong));
        let fits = Stored {
            labels: Labels::from_pairs([("trace_id", "x".repeat(120).as_str())]),
            ..ex("", 1.0, 40)
        };
        assert_eq!(s.validate(&a, &fits), Ok(()));
        assert_eq!(s.stats().out_of_order_total, 2);
    }

    #[test]
    fn resizing_keeps_the_newest_and_selection_filters() {
        let s = ExemplarStorage::new(4);
        for (i, n) in ["a", "b", "a", "b"].iter().enumerate() {
            s.add(&series(n), 1, ex("x", i as f64, i as i64)).unwrap();
        }
        s.resize(3);
        assert_eq!(
            all_of(&s),
            vec![("a".into(), vec![2]), ("b".into(), vec![1, 3])]
        );
        let only_b = vec![Matcher::equal("__name__", "b")];
        let got = s.select(2, 10, &[only_b]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].exemplars.len(), 1);
        s.resize(0);
        assert!(!s.enabled());
        assert_eq!(s.add(&series("a"), 1, ex("x", 9.0, 99)), Ok(()));
        assert_eq!(s.stats().in_storage, 0);
    }
}
