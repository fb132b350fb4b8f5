//! One series in the head: interned labels, closed chunks, the open chunk
//! and an optional buffer of out-of-order samples.

use super::chunk_file::{ChunkData, ChunkFiles, ChunkLoc, ChunkReader};
use crate::chunk::scaled::{ScaledAppender, ScaledIter};
use sightline_core::Sample;
use std::sync::Arc;

/// Samples per head chunk before a new one is started (as Prometheus).
pub(crate) const CHUNK_SAMPLES: usize = 120;

/// How head chunks are encoded (in memory, in `chunks_head/` and in WAL
/// checkpoints).
pub(crate) const HEAD_ENCODING: u8 = crate::chunk::ENC_SCALED;

/// A full head chunk, in 20 bytes: a series has up to 90 of them at 1 s
/// scrapes, so this is the head's largest per-series cost after a few
/// hours (see `chunk_file.rs`). Packed to 4-byte alignment, which saves the
/// 4 bytes of padding; fields are only ever copied out.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
pub(crate) struct HeadChunk {
    /// In a mapped chunk file when the head has a directory, else on the
    /// heap.
    loc: ChunkLoc,
    mint: i64,
    /// `maxt - mint`; chunks are cut before it would overflow.
    span: u32,
}

impl HeadChunk {
    pub(crate) fn mint(&self) -> i64 {
        self.mint
    }

    pub(crate) fn maxt(&self) -> i64 {
        self.mint + i64::from(self.span)
    }
}

/// What [`MemSeries::append`] did with a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Appended {
    /// Added in order; `true` when a new chunk was started.
    InOrder(bool),
    /// Added to the out-of-order buffer.
    OutOfOrder,
    /// Same timestamp and value as a stored sample: nothing to do.
    Duplicate,
}

/// One series in 128 bytes, aligned to 128: an append (the check, then the
/// apply at commit) touches one aligned pair of cache lines, which the
/// hardware fetches together, plus the open chunk's tail. Appends were
/// bound by cache misses on the series slots; the 152-byte unaligned slot
/// this replaced spread each series over three or four lines. Field order is
/// deliberate (`repr(C)`): what appends read and write (the flags and the
/// open chunk) comes first; closed chunks, labels and the out-of-order
/// buffer, rarely touched by appends, last. The newest timestamp and value
/// are the open chunk's: a series without one holds nothing newer than the
/// last head truncation, so any sample appendable now is newer anyway.
#[repr(C, align(128))]
pub(crate) struct MemSeries {
    /// Samples validated by open transactions and not yet applied or
    /// rolled back: head truncation must not drop a series that is about to
    /// receive samples, even if it holds none yet.
    pub(crate) pending: u32,
    /// Whether the WAL holds this series' labels (see `appender.rs`).
    pub(crate) logged: bool,
    /// Whether this slot holds a series (the head's slots are allocated in
    /// segments, vacant ones included; see `head/mod.rs`).
    pub(crate) live: bool,
    /// Whether the stripe's histogram table holds native histogram samples
    /// of this series (see `histograms.rs`). Lives in what was padding.
    pub(crate) hist: bool,
    /// Inline rather than boxed: every active series has one, and appends
    /// then touch one less cache line.
    pub(crate) open: Option<OpenChunk>,
    pub(crate) chunks: Vec<HeadChunk>,
    /// `[name, value, name, value, ...]` symbol ids, sorted by name.
    pub(crate) labels: Box<[u32]>,
    // Boxed on purpose: 8 bytes per series instead of 24 while empty,
    // which is almost always.
    #[allow(clippy::box_collection)]
    pub(crate) ooo: Option<Box<Vec<Sample>>>,
}

pub(crate) struct OpenChunk {
    pub(crate) app: ScaledAppender,
    /// The chunk is closed before a sample at or after this: the next
    /// block boundary, or sooner if the chunk's span would overflow the
    /// 32 bits [`HeadChunk`] keeps it in. (Its first timestamp is read back
    /// from the bytes when needed.)
    pub(crate) end: i64,
}

impl MemSeries {
    pub(crate) fn new(labels: Box<[u32]>) -> Self {
        MemSeries {
            labels,
            live: true,
            ..Self::vacant()
        }
    }

    /// An empty slot. Allocates nothing.
    pub(crate) fn vacant() -> Self {
        MemSeries {
            labels: Box::new([]),
            chunks: Vec::new(),
            open: None,
            ooo: None,
            logged: false,
            live: false,
            hist: false,
            pending: 0,
        }
    }

    /// Newest in-order timestamp and its value's bits; `i64::MIN` when none.
    #[inline]
    pub(crate) fn newest(&self) -> (i64, u64) {
        match &self.open {
            Some(o) => (o.app.last_t(), o.app.last_bits()),
            None => (i64::MIN, 0),
        }
    }

    /// Appends an in-order sample (newer than [`MemSeries::newest`]);
    /// starts a new chunk when the open one is full or `t` crosses a block
    /// boundary, so that every chunk lies inside one block range and head
    /// truncation never splits one.
    pub(crate) fn append_in_order(
        &mut self,
        t: i64,
        v: f64,
        block_range: i64,
        files: &ChunkFiles,
    ) -> bool {
        let mut cut = false;
        if let Some(open) = &self.open {
            if open.app.len() >= CHUNK_SAMPLES || t >= open.end {
                let mut open = self.open.take().expect("checked above");
                let maxt = open.app.last_t();
                let mint = open.app.first_t().unwrap_or(maxt);
                // Grow by a quarter, not by doubling: the vector lives as
                // long as the series and holds up to 90 chunks.
                if self.chunks.len() == self.chunks.capacity() {
                    self.chunks.reserve_exact((self.chunks.len() / 4).max(2));
                }
                self.chunks.push(HeadChunk {
                    loc: files.store(open.app.finish(), maxt),
                    mint,
                    span: (maxt - mint) as u32,
                });
                cut = true;
            }
        }
        let open = self.open.get_or_insert_with(|| {
            cut = true;
            let boundary = (t.div_euclid(block_range) + 1).saturating_mul(block_range);
            OpenChunk {
                // Not sized like the previous chunk, though that would save
                // the regrowth copies: a buffer that grows holds about half
                // as much on average, and open chunks are most of the
                // head's memory at short scrape intervals (measured:
                // 85 -> 100 MB RSS at 50k series, 1 s).
                app: ScaledAppender::new(),
                end: boundary.min(t.saturating_add(i64::from(u32::MAX))),
            }
        });
        open.app.append(t, v);
        cut
    }

    /// Inserts into the out-of-order buffer, keeping it sorted. Returns false
    /// when a sample with the same timestamp and a different value is there.
    pub(crate) fn insert_ooo(&mut self, t: i64, v: f64) -> Option<Appended> {
        let buf = self.ooo.get_or_insert_with(Default::default);
        match buf.binary_search_by_key(&t, |s| s.t) {
            Ok(i) if buf[i].v.to_bits() == v.to_bits() => Some(Appended::Duplicate),
            Ok(_) => None,
            Err(i) => {
                buf.insert(i, Sample::new(t, v));
                Some(Appended::OutOfOrder)
            }
        }
    }

    /// Oldest timestamp held, in order or not.
    pub(crate) fn min_time(&self) -> Option<i64> {
        let a = self
            .chunks
            .first()
            .map(HeadChunk::mint)
            .or(self.open.as_ref().and_then(|o| o.app.first_t()));
        let b = self.ooo.as_ref().and_then(|o| o.first()).map(|s| s.t);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Newest timestamp held, in order or not.
    pub(crate) fn max_time(&self) -> Option<i64> {
        let a = self.open.as_ref().map(|o| o.app.last_t());
        let b = self.ooo.as_ref().and_then(|o| o.last()).map(|s| s.t);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Empty and not about to receive samples: safe to drop.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending == 0
            && self.chunks.is_empty()
            && self.open.is_none()
            && self.ooo.as_ref().is_none_or(|o| o.is_empty())
    }

    /// In-order chunks overlapping `[mint, maxt]` as shareable byte slices;
    /// the open chunk is copied.
    pub(crate) fn chunks_in(&self, mint: i64, maxt: i64, r: &ChunkReader) -> Vec<ChunkData> {
        let mut out: Vec<ChunkData> = self
            .chunks
            .iter()
            .filter(|c| c.maxt() >= mint && c.mint() <= maxt)
            .filter_map(|c| r.get(c.loc))
            .collect();
        if let Some(o) = &self.open {
            if o.app.last_t() >= mint && o.app.first_t().is_some_and(|t| t <= maxt) {
                out.push(ChunkData::Heap(Arc::from(o.app.snapshot())));
            }
        }
        out
    }

    /// Every in-order sample in `[mint, maxt]`, decoded.
    pub(crate) fn samples_in(&self, mint: i64, maxt: i64, r: &ChunkReader, out: &mut Vec<Sample>) {
        for c in self.chunks_in(mint, maxt, r) {
            if let Some(it) = ScaledIter::new(&c[..]) {
                out.extend(it.filter(|s| s.t >= mint && s.t <= maxt));
            }
        }
    }

    /// Drops chunks entirely before `boundary`. Out-of-order samples are
    /// left alone: the block cut took those it wrote, and any still here
    /// arrived after it and go into the next cut. Returns how many chunks
    /// were dropped.
    pub(crate) fn truncate(&mut self, boundary: i64, files: &ChunkFiles) -> usize {
        // Chunks are in time order: the dropped ones are a prefix.
        let n = self.chunks.partition_point(|c| c.maxt() < boundary);
        files.release(self.chunks.drain(..n).map(|c| c.loc));
        let want = self.chunks.len() + self.chunks.len() / 4;
        if self.chunks.capacity() > want.max(4) {
            self.chunks.shrink_to(want);
        }
        let mut dropped = n;
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.app.last_t() < boundary)
        {
            self.open = None;
            dropped += 1;
        }
        if self.ooo.as_ref().is_some_and(|o| o.is_empty()) {
            self.ooo = None;
        }
        dropped
    }

    /// Approximate heap bytes, for the memory benchmark's sanity checks
    /// (heap chunks' bytes are counted by `ChunkFiles::heap_bytes`).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.labels.len() * 4
            + self.chunks.capacity() * std::mem::size_of::<HeadChunk>()
            + self
                .open
                .as_ref()
                .map_or(0, |o| std::mem::size_of::<OpenChunk>() + o.app.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cut_at_size_and_block_boundary() {
        let mut s = MemSeries::new(Box::new([]));
        let files = ChunkFiles::in_memory();
        let range = 10_000;
        for t in 0..130 {
            s.append_in_order(t, t as f64, range, &files);
        }
        assert_eq!(s.chunks.len(), 1);
        assert_eq!(s.open.as_ref().unwrap().app.len(), 10);
        s.append_in_order(10_000, 1.0, range, &files);
        assert_eq!(s.chunks.len(), 2);
        assert_eq!(s.chunks[1].maxt(), 129);
        let mut out = Vec::new();
        s.samples_in(100, 10_000, &files.reader(), &mut out);
        assert_eq!(out.len(), 31);
        assert_eq!(s.truncate(10_000, &files), 2);
        assert_eq!(s.min_time(), Some(10_000));
        // The heap chunks were released (each would count 300-odd bytes;
        // what is left is the table's four empty entries).
        assert_eq!(
            files.heap_bytes(),
            4 * std::mem::size_of::<Option<Arc<[u8]>>>()
        );
    }

    #[test]
    fn closed_chunks_cost_twenty_bytes() {
        assert_eq!(std::mem::size_of::<HeadChunk>(), 20);
    }

    #[test]
    fn a_series_is_one_aligned_pair_of_cache_lines() {
        assert_eq!(std::mem::size_of::<MemSeries>(), 128);
        assert_eq!(std::mem::align_of::<MemSeries>(), 128);
    }

    #[test]
    fn chunks_never_span_more_than_32_bits_of_milliseconds() {
        let mut s = MemSeries::new(Box::new([]));
        let files = ChunkFiles::in_memory();
        let range = i64::MAX / 4;
        let step = i64::from(u32::MAX) / 3 + 1;
        for i in 0..10 {
            s.append_in_order(i * step, i as f64, range, &files);
        }
        assert!(s.chunks.len() >= 3, "{} chunks", s.chunks.len());
        for c in &s.chunks {
            assert!(c.maxt() - c.mint() <= i64::from(u32::MAX));
        }
        let mut out = Vec::new();
        s.samples_in(i64::MIN, i64::MAX, &files.reader(), &mut out);
        let got: Vec<i64> = out.iter().map(|x| x.t).collect();
        assert_eq!(got, (0..10).map(|i| i * step).collect::<Vec<_>>());
    }
}
