//! [`Db`]'s read side: the [`MetricQuerier`] implementation.
//!
//! `select` streams. Each source (the head, then every block overlapping the
//! range) lists its series in label order, and [`MergeByLabels`] joins them
//! as the consumer pulls: a block's postings are walked one series at a time
//! (its index entry is read when the merge reaches it), and no chunk is
//! decoded before the consumer reads that series' samples. Every decoded
//! chunk is charged to the [`QueryContext`]; the [`SeriesSet`] checks it
//! before each series.
//!
//! The head is the exception that keeps a query consistent: its matching
//! series are listed with their chunk references (shared buffers, not
//! copies, and not decoded) when `select` is called, together with the
//! list of blocks. A head cut moves old chunks into a new block and then
//! truncates the head; a query that looked up head series lazily could
//! find them truncated while its block list predates the new block, and
//! would miss those samples. The references taken up front keep the
//! chunks readable for as long as the query holds them.

use crate::block::index::ChunkMeta;
use crate::block::{Block, BlockSeriesIter};
use crate::db::Db;
use crate::head::chunk_file::ChunkData;
use crate::querier::{self, ChunkIter, ChunkSlice, MergeByLabels, SeriesIters, Source};
use sightline_core::{
    HistogramIter, HistogramSample, Labels, LabelsSet, Matcher, MetricQuerier, QueryContext,
    Sample, SampleIter, Series, SeriesExemplars, SeriesSet,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// What an out-of-order sample held in memory is charged, in bytes: its
/// timestamp and value.
const OOO_SAMPLE_BYTES: u64 = 16;

fn head_iter(
    chunks: Vec<ChunkData>,
    ooo: Vec<Sample>,
    mint: i64,
    maxt: i64,
    ctx: &QueryContext,
) -> SampleIter {
    let slices = chunks
        .into_iter()
        .map(|c| ChunkSlice {
            encoding: crate::head::series::HEAD_ENCODING,
            end: c.len() as u32,
            data: c,
            start: 0,
        })
        .collect();
    let main: SampleIter = Box::new(ChunkIter::new(slices, mint, maxt, ctx.clone()));
    if ooo.is_empty() {
        main
    } else {
        querier::merge(vec![main, Box::new(ooo.into_iter())])
    }
}

/// The head's histogram samples of a series as an iterator, or `None`.
fn head_hists(hists: Vec<HistogramSample>) -> Option<HistogramIter> {
    (!hists.is_empty()).then(|| Box::new(hists.into_iter()) as HistogramIter)
}

/// A [`Series`] from merged iterators, or `None` when neither floats nor
/// histograms have a sample in range (a chunk can overlap the range without
/// one inside it). Looking costs the series' first chunk, decoded now
/// rather than later: the set must not hand out empty series.
fn series_of(
    labels: Labels,
    mut samples: SampleIter,
    hists: Option<HistogramIter>,
) -> Option<Series> {
    let first = samples.next();
    let hists = match hists {
        Some(mut h) => h
            .next()
            .map(|f| Box::new(std::iter::once(f).chain(h)) as HistogramIter),
        None => None,
    };
    if first.is_none() && hists.is_none() {
        return None;
    }
    Some(Series {
        labels,
        samples: Box::new(first.into_iter().chain(samples)),
        histograms: hists,
    })
}

impl Db {
    fn blocks_in(&self, mint: i64, maxt: i64) -> Vec<Arc<Block>> {
        self.inner.sweep_damaged();
        self.inner
            .blocks
            .read()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .cloned()
            .collect()
    }

    fn head_overlaps(&self, mint: i64, maxt: i64) -> bool {
        let h = &self.inner.head;
        h.min_time() <= maxt && h.max_time() >= mint
    }

    /// The head's matching series, listed now (see the module docs), read
    /// as the merge reaches them.
    fn head_source(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Source<SeriesIters> {
        let ctx = ctx.clone();
        let picked = self.inner.head.select(mint, maxt, ms);
        Box::new(picked.into_iter().map_while(move |s| {
            // Out-of-order samples and head histograms are already
            // decoded: charged when handed out.
            let held = s.ooo.len() + s.hists.len();
            if held > 0 && !ctx.charge(held as u64, OOO_SAMPLE_BYTES * s.ooo.len() as u64) {
                return None;
            }
            let it = SeriesIters {
                samples: head_iter(s.chunks, s.ooo, mint, maxt, &ctx),
                hists: head_hists(s.hists),
            };
            Some((s.labels, it))
        }))
    }

    /// A block's matching series `(labels, float chunks, histogram chunks)`
    /// as its postings are walked. A read error sets the block aside (as at
    /// open) and ends its part of the answer.
    #[allow(clippy::type_complexity)]
    fn block_postings(
        &self,
        b: Arc<Block>,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> impl Iterator<Item = (Labels, Vec<ChunkMeta>, Vec<ChunkMeta>)> + Send + 'static {
        let inner = self.inner.clone();
        let ids = b.postings(ms);
        ids.into_iter()
            .map_while(move |id| match b.read_series(id, mint, maxt) {
                Ok(s) => Some(s),
                Err(e) => {
                    inner.set_aside(&b, &e);
                    None
                }
            })
            .flatten()
    }

    fn block_source(
        &self,
        ctx: &QueryContext,
        b: Arc<Block>,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Source<SeriesIters> {
        let ctx = ctx.clone();
        let block = b.clone();
        Box::new(
            self.block_postings(b, mint, maxt, ms)
                .map(move |(labels, metas, hmetas)| {
                    let samples: SampleIter = Box::new(BlockSeriesIter::new(
                        block.clone(),
                        metas,
                        mint,
                        maxt,
                        ctx.clone(),
                    ));
                    let hists = (!hmetas.is_empty())
                        .then(|| block.histograms(hmetas, mint, maxt, ctx.clone()));
                    (labels, SeriesIters { samples, hists })
                }),
        )
    }
}

impl MetricQuerier for Db {
    fn select(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> sightline_core::Result<SeriesSet> {
        ctx.check()?;
        let blocks = self.blocks_in(mint, maxt);
        let mut sources = Vec::with_capacity(blocks.len() + 1);
        if self.head_overlaps(mint, maxt) {
            sources.push(self.head_source(ctx, mint, maxt, matchers));
        }
        for b in blocks {
            sources.push(self.block_source(ctx, b, mint, maxt, matchers));
        }
        if sources.is_empty() {
            return Ok(SeriesSet::empty());
        }
        let stop = ctx.clone();
        let series = MergeByLabels::new(sources).filter_map(move |(labels, iters)| {
            let s = if let [_] = iters.as_slice() {
                let i = iters.into_iter().next().expect("one");
                series_of(labels, i.samples, i.hists)
            } else {
                let mut floats = Vec::with_capacity(iters.len());
                let mut hists = Vec::new();
                for i in iters {
                    floats.push(i.samples);
                    hists.extend(i.hists);
                }
                series_of(labels, querier::merge(floats), querier::merge_hists(hists))
            };
            match s {
                Some(s) => Some(Ok(s)),
                // Empty because the context stopped its read, not because
                // it has nothing in range: end the set with the reason.
                None => stop.check_stopped().err().map(Err),
            }
        });
        Ok(SeriesSet::new(ctx, series))
    }

    fn select_exemplars(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        selectors: &[Vec<Matcher>],
    ) -> sightline_core::Result<Vec<SeriesExemplars>> {
        ctx.check()?;
        Ok(self.inner.exemplars.select(mint, maxt, selectors))
    }

    fn series(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> sightline_core::Result<LabelsSet> {
        ctx.check()?;
        let mut sources: Vec<Source<()>> = Vec::new();
        if self.head_overlaps(mint, maxt) {
            // Labels only: no chunk is touched, so nothing can be lost to
            // a head cut (a series is listed whole or not at all).
            let mut labels = self.inner.head.series_labels(mint, maxt, matchers);
            labels.sort_unstable();
            sources.push(Box::new(labels.into_iter().map(|l| (l, ()))));
        }
        for b in self.blocks_in(mint, maxt) {
            sources.push(Box::new(
                self.block_postings(b, mint, maxt, matchers)
                    .map(|(l, _, _)| (l, ())),
            ));
        }
        let ctx = ctx.clone();
        let mut stopped = false;
        Ok(Box::new(MergeByLabels::new(sources).map_while(
            move |(labels, _)| {
                if stopped {
                    return None;
                }
                match ctx.check() {
                    Ok(()) => Some(Ok(labels)),
                    Err(e) => {
                        stopped = true;
                        Some(Err(e))
                    }
                }
            },
        )))
    }

    fn label_names(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> sightline_core::Result<Vec<String>> {
        ctx.check()?;
        let mut set = BTreeSet::new();
        if !matchers.is_empty() {
            for l in self.series(ctx, mint, maxt, matchers)? {
                set.extend(l?.iter().map(|l| l.name.clone()));
            }
            return Ok(set.into_iter().collect());
        }
        if self.head_overlaps(mint, maxt) {
            set.extend(self.inner.head.label_names(&[]));
        }
        for b in self.blocks_in(mint, maxt) {
            set.extend(b.label_names());
        }
        Ok(set.into_iter().collect())
    }

    fn label_values(
        &self,
        ctx: &QueryContext,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> sightline_core::Result<Vec<String>> {
        ctx.check()?;
        let mut set = BTreeSet::new();
        if !matchers.is_empty() {
            for l in self.series(ctx, mint, maxt, matchers)? {
                if let Some(v) = l?.get(name) {
                    set.insert(v.to_owned());
                }
            }
            return Ok(set.into_iter().collect());
        }
        if self.head_overlaps(mint, maxt) {
            set.extend(self.inner.head.label_values(name, &[]));
        }
        for b in self.blocks_in(mint, maxt) {
            set.extend(b.label_values(name));
        }
        Ok(set.into_iter().collect())
    }
}
