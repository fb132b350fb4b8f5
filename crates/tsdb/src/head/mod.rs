//! The in-memory head: the newest samples of every active series.
//!
//! Series live in lock stripes keyed by id so appenders on different series
//! rarely contend; a second set of stripes maps label hashes to ids. Lock
//! order, everywhere: hash stripe, then symbols, then series stripe, then the
//! index. Modules: [`series`] (one series and its chunks), [`index`]
//! (symbols and postings), [`chunk_file`] (closed chunks in mapped files),
//! `query` (matching series, label names and values), `truncate`
//! (dropping old data, checkpoint records).

pub(crate) mod chunk_file;
pub(crate) mod histograms;
pub(crate) mod index;
mod query;
pub(crate) mod series;
mod truncate;

use chunk_file::{ChunkData, ChunkFiles};
use foldhash::{HashMap, HashMapExt};
use histograms::HistSeries;
use index::{HeadIndex, Symbols};
use parking_lot::{MappedMutexGuard, Mutex, MutexGuard, RwLock};
use series::{Appended, MemSeries};
use sightline_core::{FloatHistogram, HistogramSample, Labels, Sample};
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};

const STRIPES: usize = 1024;

/// Series per segment of a stripe's slot storage.
const SEG: usize = 64;

/// Consecutive ids that share a stripe. A scrape or a remote-write batch
/// appends to series created together, so runs of neighbouring ids keep
/// consecutive appends on one stripe lock and on adjacent slots (memory
/// read in order), instead of a new lock and a new cache line per sample.
const RUN: usize = 64;

/// The stripe holding series `id`.
fn stripe_of(id: u32) -> usize {
    (id as usize / RUN) % STRIPES
}

/// The slot of series `id` inside its stripe.
fn slot_of(id: u32) -> usize {
    id as usize / (RUN * STRIPES) * RUN + id as usize % RUN
}

/// The id in `slot` of `stripe`: the inverse of [`stripe_of`] and [`slot_of`].
fn id_of(stripe: usize, slot: usize) -> u32 {
    (slot / RUN * RUN * STRIPES + stripe * RUN + slot % RUN) as u32
}

/// The series of one stripe, stored inline and indexed by [`slot_of`]:
/// ids are dense and never reused, so slots beat a hash map (no hashing, no
/// probing), and keeping series inline under the stripe's lock means an
/// append costs one lock and no reference counting. Segments of 64 slots
/// keep growth from copying or over-allocating series. A vacant slot is a
/// [`MemSeries::vacant`] (its `live` flag, in the first cache line, rather
/// than an `Option` whose tag the compiler may put anywhere in the slot).
struct Slots {
    stripe: usize,
    segs: Vec<Box<[MemSeries]>>,
    /// Native histogram halves of this stripe's series that have one
    /// (their slot's `hist` flag is set): kept out of the slots so the
    /// float path's 128-byte series does not grow (see `histograms.rs`).
    hist: HashMap<u32, HistSeries>,
}

impl Slots {
    fn get(&self, id: &u32) -> Option<&MemSeries> {
        let slot = slot_of(*id);
        let s = &self.segs.get(slot / SEG)?[slot % SEG];
        s.live.then_some(s)
    }

    fn get_mut(&mut self, id: &u32) -> Option<&mut MemSeries> {
        let slot = slot_of(*id);
        let s = &mut self.segs.get_mut(slot / SEG)?[slot % SEG];
        s.live.then_some(s)
    }

    /// Series `id` and the stripe's histogram table, borrowed together.
    fn pair(&mut self, id: u32) -> Option<(&mut MemSeries, &mut HashMap<u32, HistSeries>)> {
        let slot = slot_of(id);
        let s = &mut self.segs.get_mut(slot / SEG)?[slot % SEG];
        s.live.then_some((s, &mut self.hist))
    }

    /// Oldest and newest timestamps of series `s` (id `id`), floats and
    /// histograms together.
    fn time_range(&self, id: u32, s: &MemSeries) -> (Option<i64>, Option<i64>) {
        let (lo, hi) = (s.min_time(), s.max_time());
        if !s.hist {
            return (lo, hi);
        }
        let Some(h) = self.hist.get(&id) else {
            return (lo, hi);
        };
        let pick = |a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64| match (a, b) {
            (Some(a), Some(b)) => Some(f(a, b)),
            (a, b) => a.or(b),
        };
        (
            pick(lo, h.min_time(), i64::min),
            pick(hi, h.max_time(), i64::max),
        )
    }

    fn insert(&mut self, id: u32, s: MemSeries) {
        let slot = slot_of(id);
        while self.segs.len() <= slot / SEG {
            self.segs
                .push((0..SEG).map(|_| MemSeries::vacant()).collect());
        }
        self.segs[slot / SEG][slot % SEG] = s;
    }

    fn remove(&mut self, id: &u32) {
        let slot = slot_of(*id);
        if let Some(seg) = self.segs.get_mut(slot / SEG) {
            seg[slot % SEG] = MemSeries::vacant();
        }
        self.hist.remove(id);
    }

    fn iter(&self) -> impl Iterator<Item = (u32, &MemSeries)> {
        let stripe = self.stripe;
        self.segs
            .iter()
            .flat_map(|seg| seg.iter())
            .enumerate()
            .filter(|(_, s)| s.live)
            .map(move |(slot, s)| (id_of(stripe, slot), s))
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut MemSeries)> {
        let stripe = self.stripe;
        self.segs
            .iter_mut()
            .flat_map(|seg| seg.iter_mut())
            .enumerate()
            .filter(|(_, s)| s.live)
            .map(move |(slot, s)| (id_of(stripe, slot), s))
    }

    fn values(&self) -> impl Iterator<Item = &MemSeries> {
        self.segs
            .iter()
            .flat_map(|seg| seg.iter())
            .filter(|s| s.live)
    }
}

/// Label hash to series id, for one stripe of hashes.
type HashStripe = Padded<Mutex<HashMap<u64, u32>>>;

/// Keeps each stripe on its own cache line so two threads locking
/// neighbouring stripes do not fight over one line.
#[repr(align(64))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Why the head refused a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    NotFound,
    OutOfOrder,
    OutOfBounds(i64),
    Duplicate,
}

/// One selected head series: labels, in-order chunks, out-of-order samples
/// and native histogram samples (decoded).
pub(crate) struct HeadSeriesData {
    pub(crate) labels: Labels,
    pub(crate) chunks: Vec<ChunkData>,
    pub(crate) ooo: Vec<Sample>,
    pub(crate) hists: Vec<HistogramSample>,
}

/// A float sample at `t` must be newer than the series' newest histogram
/// (a timestamp holds one or the other).
fn after_hist(hist: &HashMap<u32, HistSeries>, id: u32, t: i64) -> Result<(), Reject> {
    match hist.get(&id).and_then(|h| h.max_time()) {
        Some(ht) if t == ht => Err(Reject::Duplicate),
        Some(ht) if t < ht => Err(Reject::OutOfOrder),
        _ => Ok(()),
    }
}

/// Equal histograms, the stored counter-reset hint aside (the head
/// normalises it).
fn same_histogram(a: &FloatHistogram, b: &FloatHistogram) -> bool {
    let strip = |h: &FloatHistogram| FloatHistogram {
        counter_reset_hint: Default::default(),
        ..h.clone()
    };
    strip(a) == strip(b)
}

pub(crate) struct Head {
    block_range: i64,
    ooo_window: i64,
    series: Box<[Padded<Mutex<Slots>>]>,
    hashes: Box<[HashStripe]>,
    /// Ids whose label hash collided with another series' (vanishingly rare).
    collisions: Mutex<Vec<(u64, u32)>>,
    symbols: RwLock<Symbols>,
    index: RwLock<HeadIndex>,
    next_id: AtomicU32,
    min_time: AtomicI64,
    max_time: AtomicI64,
    /// Everything before this has been cut into blocks.
    truncated_upto: AtomicI64,
    num_series: AtomicU64,
    num_chunks: AtomicU64,
    chunk_files: ChunkFiles,
}

impl Head {
    /// A head whose closed chunks go to `chunk_files`.
    pub(crate) fn new(block_range: i64, ooo_window: i64, chunk_files: ChunkFiles) -> Self {
        Head {
            block_range,
            ooo_window,
            chunk_files,
            series: (0..STRIPES)
                .map(|stripe| {
                    Padded(Mutex::new(Slots {
                        stripe,
                        segs: Vec::new(),
                        hist: HashMap::new(),
                    }))
                })
                .collect(),
            hashes: (0..STRIPES)
                .map(|_| Padded(Mutex::new(HashMap::new())))
                .collect(),
            collisions: Mutex::new(Vec::new()),
            symbols: RwLock::new(Symbols::default()),
            index: RwLock::new(HeadIndex::default()),
            next_id: AtomicU32::new(1),
            min_time: AtomicI64::new(i64::MAX),
            max_time: AtomicI64::new(i64::MIN),
            truncated_upto: AtomicI64::new(i64::MIN),
            num_series: AtomicU64::new(0),
            num_chunks: AtomicU64::new(0),
        }
    }

    fn stripe(&self, id: u32) -> &Mutex<Slots> {
        &self.series[stripe_of(id)]
    }

    /// Series `id` with its stripe locked, for as long as the guard lives.
    /// Never call another method that locks series while holding it.
    fn get(&self, id: u32) -> Option<MappedMutexGuard<'_, MemSeries>> {
        MutexGuard::try_map(self.stripe(id).lock(), |st| st.get_mut(&id)).ok()
    }

    pub(crate) fn min_time(&self) -> i64 {
        self.min_time.load(Relaxed)
    }

    pub(crate) fn max_time(&self) -> i64 {
        self.max_time.load(Relaxed)
    }

    pub(crate) fn num_series(&self) -> u64 {
        self.num_series.load(Relaxed)
    }

    pub(crate) fn num_chunks(&self) -> u64 {
        self.num_chunks.load(Relaxed)
    }

    pub(crate) fn num_symbols(&self) -> usize {
        self.symbols.read().len()
    }

    /// Whether samples older than the in-order floor may still be taken
    /// (an out-of-order window is set).
    pub(crate) fn takes_out_of_order(&self) -> bool {
        self.ooo_window > 0
    }

    pub(crate) fn truncated_upto(&self) -> i64 {
        self.truncated_upto.load(Relaxed)
    }

    /// Raises the point before which in-order samples are refused (blocks
    /// already hold that time).
    pub(crate) fn set_truncated_upto(&self, t: i64) {
        self.truncated_upto.fetch_max(t, Relaxed);
    }

    /// The oldest timestamp an in-order append may have now.
    pub(crate) fn min_valid_time(&self) -> i64 {
        let max = self.max_time();
        let trunc = self.truncated_upto();
        if max == i64::MIN {
            trunc
        } else {
            trunc.max(max.saturating_sub(self.block_range / 2))
        }
    }

    fn decide(&self, s: &MemSeries, t: i64, v: f64) -> Result<Appended, Reject> {
        let head_max = self.max_time();
        let ooo_ok = self.ooo_window > 0 && t >= head_max.saturating_sub(self.ooo_window);
        let min_valid = self.min_valid_time();
        if t < min_valid {
            return if ooo_ok {
                Ok(Appended::OutOfOrder)
            } else {
                Err(Reject::OutOfBounds(min_valid))
            };
        }
        let (max_t, last_v) = s.newest();
        if max_t == i64::MIN || t > max_t {
            return Ok(Appended::InOrder(false));
        }
        if t == max_t {
            return if v.to_bits() == last_v {
                Ok(Appended::Duplicate)
            } else {
                Err(Reject::Duplicate)
            };
        }
        if ooo_ok {
            Ok(Appended::OutOfOrder)
        } else {
            Err(Reject::OutOfOrder)
        }
    }

    /// Checks a sample against series `id` without storing it. Returns
    /// whether the series' labels are already in the WAL.
    /// On success the sample counts as pending on the series until
    /// [`Head::apply`] or [`Head::release`].
    pub(crate) fn check(&self, id: u32, t: i64, v: f64) -> Result<bool, Reject> {
        let mut st = self.stripe(id).lock();
        let (s, hist) = st.pair(id).ok_or(Reject::NotFound)?;
        let d = self.decide(s, t, v)?;
        if s.hist && matches!(d, Appended::InOrder(_)) {
            after_hist(hist, id, t)?;
        }
        s.pending += 1;
        Ok(s.logged)
    }

    /// Whether a histogram sample at `t` may be appended to `s`: newer than
    /// every float and histogram sample of the series (out-of-order
    /// histograms are refused, whatever the out-of-order window), or the
    /// same histogram again at the newest timestamp.
    fn decide_hist(
        &self,
        s: &MemSeries,
        hs: Option<&HistSeries>,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<Appended, Reject> {
        let min_valid = self.min_valid_time();
        if t < min_valid {
            return Err(Reject::OutOfBounds(min_valid));
        }
        let (ft, _) = s.newest();
        if ft != i64::MIN && t <= ft {
            return Err(if t == ft {
                Reject::Duplicate
            } else {
                Reject::OutOfOrder
            });
        }
        if let Some(ht) = hs.and_then(|x| x.max_time()) {
            if t < ht {
                return Err(Reject::OutOfOrder);
            }
            if t == ht {
                return match hs.and_then(|x| x.newest()) {
                    Some(n) if n.t == t && same_histogram(&n.h, h) => Ok(Appended::Duplicate),
                    _ => Err(Reject::Duplicate),
                };
            }
        }
        Ok(Appended::InOrder(false))
    }

    /// [`Head::check`] for a native histogram sample.
    pub(crate) fn check_histogram(
        &self,
        id: u32,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<bool, Reject> {
        let mut st = self.stripe(id).lock();
        let (s, hist) = st.pair(id).ok_or(Reject::NotFound)?;
        self.decide_hist(s, hist.get(&id), t, h)?;
        s.pending += 1;
        Ok(s.logged)
    }

    /// Stores committed histogram samples, re-checking each as
    /// [`Head::apply_all`] does, and reports each outcome to `each`.
    pub(crate) fn apply_histograms(
        &self,
        samples: Vec<(u64, i64, FloatHistogram)>,
        mut each: impl FnMut(Result<Appended, Reject>),
    ) {
        for (id, t, h) in samples {
            let id = id as u32;
            let mut st = self.stripe(id).lock();
            let r = match st.pair(id) {
                None => Err(Reject::NotFound),
                Some((s, hist)) => {
                    s.pending = s.pending.saturating_sub(1);
                    match self.decide_hist(s, hist.get(&id), t, &h) {
                        Ok(Appended::InOrder(_)) => {
                            s.hist = true;
                            let cut = hist.entry(id).or_default().append(t, h, self.block_range);
                            if cut {
                                self.num_chunks.fetch_add(1, Relaxed);
                            }
                            Ok(Appended::InOrder(cut))
                        }
                        r => r,
                    }
                }
            };
            drop(st);
            if r.is_ok() {
                self.note_time(t, t);
            }
            each(r);
        }
    }

    /// Replays a histogram sample from the WAL. Samples before the
    /// truncation point are in blocks; one not newer than the series'
    /// newest histogram lost a race between two writers of the series (see
    /// `appender.rs`) and is dropped: histograms have no out-of-order
    /// buffer.
    pub(crate) fn replay_histogram(&self, id: u32, t: i64, h: FloatHistogram) -> bool {
        let mut st = self.stripe(id).lock();
        let Some((s, hist)) = st.pair(id) else {
            return false;
        };
        if t < self.truncated_upto() {
            return true;
        }
        let hs = hist.entry(id).or_default();
        if hs.max_time().is_some_and(|m| t <= m) {
            return true;
        }
        s.hist = true;
        if hs.append(t, h, self.block_range) {
            self.num_chunks.fetch_add(1, Relaxed);
        }
        drop(st);
        self.note_time(t, t);
        true
    }

    /// Drops a pending sample that will not be applied (rollback).
    pub(crate) fn release(&self, id: u32) {
        if let Some(mut s) = self.get(id) {
            s.pending = s.pending.saturating_sub(1);
        }
    }

    /// Stores committed samples, re-checking each (another transaction may
    /// have written to its series since [`Head::check`]), and reports each
    /// outcome to `each` in order. Samples of a run on one stripe share one
    /// lock: a scrape's or a remote-write batch's series were created
    /// together and sit in runs of [`RUN`] ids, and a lock round trip per
    /// sample was a fifth of the append cost.
    pub(crate) fn apply_all(
        &self,
        samples: &[(u64, i64, f64)],
        mut each: impl FnMut(Result<Appended, Reject>),
    ) {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut rest = samples;
        while let Some(&(first, ..)) = rest.first() {
            let stripe = stripe_of(first as u32);
            let n = rest
                .iter()
                .position(|s| stripe_of(s.0 as u32) != stripe)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(n);
            rest = tail;
            let mut st = self.series[stripe].lock();
            for &(id, t, v) in run {
                let r = match st.pair(id as u32) {
                    None => Err(Reject::NotFound),
                    Some((s, hist)) => {
                        s.pending = s.pending.saturating_sub(1);
                        self.decide(s, t, v).and_then(|d| {
                            if s.hist && matches!(d, Appended::InOrder(_)) {
                                after_hist(hist, id as u32, t)?;
                            }
                            self.store(s, d, t, v)
                        })
                    }
                };
                if r.is_ok() {
                    lo = lo.min(t);
                    hi = hi.max(t);
                }
                each(r);
            }
        }
        if lo <= hi {
            self.note_time(lo, hi);
        }
    }

    fn store(&self, s: &mut MemSeries, d: Appended, t: i64, v: f64) -> Result<Appended, Reject> {
        match d {
            Appended::InOrder(_) => {
                let cut = s.append_in_order(t, v, self.block_range, &self.chunk_files);
                if cut {
                    self.num_chunks.fetch_add(1, Relaxed);
                }
                Ok(Appended::InOrder(cut))
            }
            Appended::OutOfOrder => s.insert_ooo(t, v).ok_or(Reject::Duplicate),
            Appended::Duplicate => Ok(d),
        }
    }

    /// Widens the head's time range to cover `[lo, hi]`.
    fn note_time(&self, lo: i64, hi: i64) {
        if hi > self.max_time.load(Relaxed) {
            self.max_time.fetch_max(hi, Relaxed);
        }
        if lo < self.min_time.load(Relaxed) {
            self.min_time.fetch_min(lo, Relaxed);
        }
    }

    /// Replays a sample from the WAL: in-order samples are appended; older
    /// ones go to the out-of-order buffer whatever the window, because a
    /// commit that won a race on a series may have written its WAL record
    /// after the loser's (see `appender.rs`), and an acknowledged sample must
    /// come back. Samples a checkpoint repeats land there too; queries and
    /// block cuts drop the duplicates. Samples before the truncation point
    /// are in blocks already and are skipped unless the window is on.
    pub(crate) fn replay_sample(&self, id: u32, t: i64, v: f64) -> bool {
        let Some(mut s) = self.get(id) else {
            return false;
        };
        let old = t < self.truncated_upto();
        if old && self.ooo_window == 0 {
            return true;
        }
        let (max_t, _) = s.newest();
        let d = if t > max_t || max_t == i64::MIN {
            if old {
                Appended::OutOfOrder
            } else {
                Appended::InOrder(false)
            }
        } else if t < max_t {
            Appended::OutOfOrder
        } else {
            return true;
        };
        let _ = self.store(&mut s, d, t, v);
        drop(s);
        self.note_time(t, t);
        true
    }

    /// Marks a series' labels as written to the WAL; returns false when it
    /// already was (so the caller must not write them again).
    pub(crate) fn mark_logged(&self, id: u32) -> bool {
        let Some(mut s) = self.get(id) else {
            return false;
        };
        match Some(&mut *s) {
            Some(s) if !s.logged => {
                s.logged = true;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn labels_of(&self, id: u32) -> Option<Labels> {
        let syms = self.get(id)?.labels.clone();
        Some(self.symbols.read().labels(&syms))
    }

    fn same_labels(&self, id: u32, labels: &Labels) -> bool {
        let syms = self.symbols.read();
        self.get(id).is_some_and(|s| syms.equal(&s.labels, labels))
    }

    /// The id of `labels`, creating the series when new. `id` forces the id
    /// (WAL replay); otherwise a fresh one is taken.
    pub(crate) fn get_or_create(&self, labels: &Labels, id: Option<u32>) -> (u32, bool) {
        let h = labels.stable_hash();
        let mut hs = self.hashes[(h as usize) % STRIPES].lock();
        let mut collided = false;
        if let Some(&found) = hs.get(&h) {
            if self.same_labels(found, labels) {
                return (found, false);
            }
            collided = true;
            for &(ch, cid) in self.collisions.lock().iter() {
                if ch == h && self.same_labels(cid, labels) {
                    return (cid, false);
                }
            }
        }
        let syms: Box<[u32]> = {
            let mut s = self.symbols.write();
            labels
                .iter()
                .flat_map(|l| [s.intern(&l.name), s.intern(&l.value)])
                .collect()
        };
        let id = match id {
            Some(id) => {
                self.next_id.fetch_max(id + 1, Relaxed);
                id
            }
            None => self.next_id.fetch_add(1, Relaxed),
        };
        self.stripe(id)
            .lock()
            .insert(id, MemSeries::new(syms.clone()));
        self.index.write().add(id, &syms);
        if collided {
            self.collisions.lock().push((h, id));
        } else {
            hs.insert(h, id);
        }
        self.num_series.fetch_add(1, Relaxed);
        (id, true)
    }

    /// Samples of series `id` with `t < before` (in order and out of order,
    /// merged), for writing a block. The out-of-order ones are taken out of
    /// the head: the block will hold them.
    pub(crate) fn take_block_samples(&self, id: u32, before: i64, out: &mut Vec<Sample>) {
        out.clear();
        let Some(mut s) = self.get(id) else { return };
        s.samples_in(i64::MIN, before - 1, &self.chunk_files.reader(), out);
        if let Some(o) = &mut s.ooo {
            let n = o.partition_point(|x| x.t < before);
            if n > 0 {
                let old: Vec<Sample> = o.drain(..n).collect();
                drop(s);
                *out = crate::querier::merge_sorted(std::mem::take(out), old);
            }
        }
    }

    /// Histogram samples of series `id` with `t < before`, for writing a
    /// block.
    pub(crate) fn block_histograms(&self, id: u32, before: i64, out: &mut Vec<HistogramSample>) {
        out.clear();
        let st = self.stripe(id).lock();
        if let Some(h) = st.hist.get(&id) {
            h.samples_in(i64::MIN, before - 1, out);
        }
    }

    /// Rough heap bytes of series data (chunks, labels), for benchmarks.
    pub(crate) fn series_heap_bytes(&self) -> usize {
        self.series
            .iter()
            .map(|st| st.lock().values().map(|s| s.heap_bytes()).sum::<usize>())
            .sum::<usize>()
            + self.chunk_files.heap_bytes()
    }
}

#[cfg(test)]
mod tests;
