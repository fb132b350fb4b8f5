//! Sample iterators: lazy decoding of chunk lists and the k-way merge that
//! joins the head and blocks (which may overlap) into one time-ordered,
//! de-duplicated stream per series.

use crate::chunk;
use sightline_core::{HistogramIter, HistogramSample, Labels, QueryContext, Sample, SampleIter};

/// A sample of either kind, as the merges see it: its timestamp.
pub(crate) trait Timed {
    fn t(&self) -> i64;
}

impl Timed for Sample {
    #[inline]
    fn t(&self) -> i64 {
        self.t
    }
}

impl Timed for HistogramSample {
    #[inline]
    fn t(&self) -> i64 {
        self.t
    }
}

/// One encoded chunk inside a shared buffer (a head chunk, heap or mapped,
/// or a block page).
#[derive(Clone)]
pub(crate) struct ChunkSlice {
    pub(crate) encoding: u8,
    pub(crate) data: crate::head::chunk_file::ChunkData,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// One decoded chunk's samples, handed out while they lie in
/// `[mint, maxt]`: the part every chunk-by-chunk iterator shares.
pub(crate) struct RangeBuf {
    buf: Vec<Sample>,
    pos: usize,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
}

/// What [`RangeBuf::next`] found.
pub(crate) enum RangeStep {
    Sample(Sample),
    /// Every decoded sample was handed out: decode the next chunk.
    Empty,
    /// A sample after `maxt`: nothing later in this chunk is wanted.
    Past,
}

impl RangeBuf {
    pub(crate) fn new(mint: i64, maxt: i64) -> Self {
        RangeBuf {
            buf: Vec::new(),
            pos: 0,
            mint,
            maxt,
        }
    }

    /// The next sample in range, skipping those before `mint`.
    #[inline]
    pub(crate) fn next(&mut self) -> RangeStep {
        while let Some(&s) = self.buf.get(self.pos) {
            self.pos += 1;
            if s.t > self.maxt {
                return RangeStep::Past;
            }
            if s.t >= self.mint {
                return RangeStep::Sample(s);
            }
        }
        RangeStep::Empty
    }

    /// How many samples the last refill decoded.
    pub(crate) fn decoded(&self) -> usize {
        self.buf.len()
    }

    /// Empties the buffer for the next chunk's samples.
    pub(crate) fn refill(&mut self) -> &mut Vec<Sample> {
        self.buf.clear();
        self.pos = 0;
        &mut self.buf
    }
}

/// Decodes chunks one at a time, yielding samples in `[mint, maxt]`. A chunk
/// that fails to decode ends the series early and is logged: a query shows
/// what is readable rather than failing as a whole. Each decoded chunk is
/// charged to the query's context; when that says stop, the series ends
/// and the context holds the reason.
pub(crate) struct ChunkIter {
    chunks: std::vec::IntoIter<ChunkSlice>,
    range: RangeBuf,
    ctx: QueryContext,
}

impl ChunkIter {
    pub(crate) fn new(chunks: Vec<ChunkSlice>, mint: i64, maxt: i64, ctx: QueryContext) -> Self {
        ChunkIter {
            chunks: chunks.into_iter(),
            range: RangeBuf::new(mint, maxt),
            ctx,
        }
    }
}

impl Iterator for ChunkIter {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        loop {
            // Past the range in one chunk: the next may still hold samples.
            if let RangeStep::Sample(s) = self.range.next() {
                return Some(s);
            }
            let c = self.chunks.next()?;
            let bytes = &c.data[c.start as usize..c.end as usize];
            let buf = self.range.refill();
            if chunk::decode_into(c.encoding, bytes, buf).is_none() {
                log::error!(
                    "undecodable chunk of encoding {} ({} bytes) skipped",
                    c.encoding,
                    bytes.len()
                );
                buf.clear();
            }
            if !self.ctx.charge(buf.len() as u64, bytes.len() as u64) {
                buf.clear();
                self.chunks = Vec::new().into_iter();
                return None;
            }
        }
    }
}

/// Merges time-ordered iterators (of floats or of histograms); on equal
/// timestamps the earliest source in the list wins and the others' samples
/// are dropped.
pub(crate) struct MergeIter<T> {
    heads: Vec<Option<T>>,
    iters: Vec<Box<dyn Iterator<Item = T> + Send>>,
}

impl<T> MergeIter<T> {
    pub(crate) fn new(mut iters: Vec<Box<dyn Iterator<Item = T> + Send>>) -> Self {
        let heads = iters.iter_mut().map(|i| i.next()).collect();
        MergeIter { heads, iters }
    }
}

impl<T: Timed> Iterator for MergeIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let mut best: Option<(usize, i64)> = None;
        for (i, h) in self.heads.iter().enumerate() {
            if let Some(s) = h {
                if best.is_none_or(|(_, t)| s.t() < t) {
                    best = Some((i, s.t()));
                }
            }
        }
        let (i, t) = best?;
        let out = self.heads[i].take();
        self.heads[i] = self.iters[i].next();
        for j in 0..self.heads.len() {
            while self.heads[j].as_ref().is_some_and(|s| s.t() == t) {
                self.heads[j] = self.iters[j].next();
            }
        }
        out
    }
}

/// Joins iterators into one [`SampleIter`], skipping the merge for one.
pub(crate) fn merge(mut iters: Vec<SampleIter>) -> SampleIter {
    if iters.len() == 1 {
        return iters.pop().expect("one element");
    }
    Box::new(MergeIter::new(iters))
}

/// Joins histogram iterators; `None` when there are none.
pub(crate) fn merge_hists(mut iters: Vec<HistogramIter>) -> Option<HistogramIter> {
    match iters.len() {
        0 => None,
        1 => iters.pop(),
        _ => Some(Box::new(MergeIter::new(iters))),
    }
}

/// The iterators of one series from one source: floats, and histograms
/// when the source has any for it.
pub(crate) struct SeriesIters {
    pub(crate) samples: SampleIter,
    pub(crate) hists: Option<HistogramIter>,
}

/// Decodes histogram chunks one at a time, yielding samples in
/// `[mint, maxt]`; a damaged chunk is logged and skipped.
pub(crate) struct HistChunkIter {
    chunks: std::vec::IntoIter<ChunkSlice>,
    buf: std::vec::IntoIter<HistogramSample>,
    mint: i64,
    maxt: i64,
    ctx: QueryContext,
}

impl HistChunkIter {
    pub(crate) fn new(chunks: Vec<ChunkSlice>, mint: i64, maxt: i64, ctx: QueryContext) -> Self {
        HistChunkIter {
            chunks: chunks.into_iter(),
            buf: Vec::new().into_iter(),
            mint,
            maxt,
            ctx,
        }
    }
}

impl Iterator for HistChunkIter {
    type Item = HistogramSample;

    fn next(&mut self) -> Option<HistogramSample> {
        loop {
            for s in self.buf.by_ref() {
                if s.t > self.maxt {
                    break;
                }
                if s.t >= self.mint {
                    return Some(s);
                }
            }
            let c = self.chunks.next()?;
            let bytes = &c.data[c.start as usize..c.end as usize];
            let mut v = Vec::new();
            if chunk::histogram::decode_into(c.encoding, bytes, &mut v).is_none() {
                log::error!(
                    "undecodable histogram chunk of encoding {} ({} bytes) skipped",
                    c.encoding,
                    bytes.len()
                );
                v.clear();
            }
            if !self.ctx.charge(v.len() as u64, bytes.len() as u64) {
                self.chunks = Vec::new().into_iter();
                return None;
            }
            self.buf = v.into_iter();
        }
    }
}

/// One source's series in label order, each once: the head's or a block's.
pub(crate) type Source<T> = Box<dyn Iterator<Item = (Labels, T)> + Send>;

/// Joins sources, each sorted by labels, into one sorted stream: each label
/// set comes once, with the items of every source that has it, in source
/// order (so [`merge`] prefers the first source). One source passes
/// straight through; more are merged by picking the smallest head each
/// time, which for the few sources a query has (the head and a handful of
/// blocks) is cheaper than a map of every series. Sources are pulled only
/// as the merge needs their next series.
pub(crate) struct MergeByLabels<T> {
    iters: Vec<Source<T>>,
    /// Each source's next series; filled on the first call.
    heads: Vec<Option<(Labels, T)>>,
}

impl<T> MergeByLabels<T> {
    pub(crate) fn new(iters: Vec<Source<T>>) -> Self {
        MergeByLabels {
            iters,
            heads: Vec::new(),
        }
    }
}

impl<T> Iterator for MergeByLabels<T> {
    type Item = (Labels, Vec<T>);

    fn next(&mut self) -> Option<(Labels, Vec<T>)> {
        if self.iters.len() == 1 {
            let (labels, it) = self.iters[0].next()?;
            return Some((labels, vec![it]));
        }
        if self.heads.len() != self.iters.len() {
            self.heads = self.iters.iter_mut().map(|i| i.next()).collect();
        }
        let heads = &mut self.heads;
        let mut min: Option<usize> = None;
        for (i, h) in heads.iter().enumerate() {
            if let Some((l, _)) = h {
                if min.is_none_or(|m| heads[m].as_ref().is_some_and(|(ml, _)| l < ml)) {
                    min = Some(i);
                }
            }
        }
        let m = min?;
        let (labels, first) = heads[m].take().expect("picked a present head");
        heads[m] = self.iters[m].next();
        let mut group = vec![first];
        // `m` is the first source holding the smallest label set, so any
        // other holder comes after it: the group stays in source order.
        for (i, h) in heads.iter_mut().enumerate().skip(m + 1) {
            if h.as_ref().is_some_and(|(l, _)| *l == labels) {
                let (_, it) = h.take().expect("checked");
                group.push(it);
                *h = self.iters[i].next();
            }
        }
        Some((labels, group))
    }
}

/// Merges two sorted sample vectors, dropping the second's duplicates.
pub(crate) fn merge_sorted<T: Timed + Send + 'static>(a: Vec<T>, b: Vec<T>) -> Vec<T> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b;
    }
    MergeIter::new(vec![Box::new(a.into_iter()), Box::new(b.into_iter())]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::chunk_file::ChunkData;
    use std::sync::Arc;

    fn s(ts: &[i64], v: f64) -> SampleIter {
        let v: Vec<Sample> = ts.iter().map(|t| Sample::new(*t, v)).collect();
        Box::new(v.into_iter())
    }

    #[test]
    fn merge_dedupes_preferring_first_source() {
        let got: Vec<Sample> =
            MergeIter::new(vec![s(&[1, 3, 5], 1.0), s(&[2, 3, 6], 2.0), s(&[], 0.0)]).collect();
        let ts: Vec<i64> = got.iter().map(|x| x.t).collect();
        assert_eq!(ts, vec![1, 2, 3, 5, 6]);
        assert_eq!(got[2].v, 1.0);
    }

    #[test]
    fn merge_by_labels_joins_sorted_sources_in_source_order() {
        let l = |x: &str| Labels::from_pairs([("a", x.to_string())]);
        let src = |names: &[(&str, f64)]| -> Source<SampleIter> {
            let v: Vec<(Labels, SampleIter)> =
                names.iter().map(|(n, v)| (l(n), s(&[1], *v))).collect();
            Box::new(v.into_iter())
        };
        let sources = vec![
            src(&[("b", 1.0), ("d", 1.0)]),
            src(&[]),
            src(&[("a", 2.0), ("b", 2.0), ("c", 2.0)]),
            src(&[("b", 3.0), ("d", 3.0), ("e", 3.0)]),
        ];
        let mut got = Vec::new();
        for (labels, iters) in MergeByLabels::new(sources) {
            let firsts: Vec<f64> = iters.into_iter().map(|mut i| i.next().unwrap().v).collect();
            got.push((labels.get("a").unwrap().to_string(), firsts));
        }
        let want: Vec<(String, Vec<f64>)> = vec![
            ("a".into(), vec![2.0]),
            ("b".into(), vec![1.0, 2.0, 3.0]),
            ("c".into(), vec![2.0]),
            ("d".into(), vec![1.0, 3.0]),
            ("e".into(), vec![3.0]),
        ];
        assert_eq!(got, want);
        let one: Vec<(Labels, usize)> = MergeByLabels::new(vec![src(&[("x", 1.0), ("y", 1.0)])])
            .map(|(l, i)| (l, i.len()))
            .collect();
        assert_eq!(one, vec![(l("x"), 1), (l("y"), 1)]);
    }

    #[test]
    fn chunk_iter_filters_range_across_chunks() {
        let mut chunks = Vec::new();
        for base in [0i64, 100] {
            let samples: Vec<Sample> = (0..10)
                .map(|i| Sample::new(base + i * 10, i as f64))
                .collect();
            let mut buf = Vec::new();
            chunk::packed::encode(&samples, &mut buf);
            let len = buf.len() as u32;
            chunks.push(ChunkSlice {
                encoding: chunk::ENC_PACKED,
                data: ChunkData::Heap(Arc::from(buf)),
                start: 0,
                end: len,
            });
        }
        let got: Vec<i64> = ChunkIter::new(chunks, 50, 120, QueryContext::new())
            .map(|x| x.t)
            .collect();
        assert_eq!(got, vec![50, 60, 70, 80, 90, 100, 110, 120]);
    }
}
