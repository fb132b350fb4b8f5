//! Immutable on-disk blocks: one directory per time range holding
//! `meta.json` ([`meta`]), `chunks/000001` ([`chunks`]) and `index`
//! ([`index`]). Blocks are written once by [`writer`] and only read after.
//!
//! A block that fails its checks when opened, or whose pages fail their
//! checksum when read, is moved aside to `<id>.corrupted` so the rest of the
//! database keeps serving. Blocks are immutable directories of
//! `sightline_storage::dir` (written meta-last, renamed into place), named
//! by `sightline_storage::layout`.

pub(crate) mod chunks;
pub(crate) mod index;
pub(crate) mod meta;
pub(crate) mod writer;

use crate::postings::{postings_for_matchers, IndexLookup};
use crate::querier::{ChunkSlice, HistChunkIter, RangeBuf, RangeStep};
use crate::{Error, Result};
use chunks::ChunkReader;
use index::{ChunkMeta, IndexReader};
use meta::BlockMeta;
use parking_lot::Mutex;
use sightline_core::{HistogramIter, HistogramSample, Labels, Matcher, QueryContext, Sample};
use sightline_storage::dir::dir_size;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// An open block.
pub(crate) struct Block {
    pub(crate) dir: PathBuf,
    pub(crate) meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    pub(crate) size_bytes: u64,
    pages: Mutex<VecDeque<(u64, Arc<[u8]>)>>,
    damaged: AtomicBool,
}

/// Decompressed pages a block keeps: queries walk series in label order, so
/// neighbouring series hit the same few pages.
const PAGE_CACHE: usize = 8;

/// Samples of one series in one block, decoded chunk by chunk as the
/// caller iterates. A damaged page ends the series early, is logged, and
/// flags the block so the database sets it aside.
pub(crate) struct BlockSeriesIter {
    block: Arc<Block>,
    metas: std::vec::IntoIter<ChunkMeta>,
    range: RangeBuf,
    ctx: QueryContext,
}

impl BlockSeriesIter {
    pub(crate) fn new(
        block: Arc<Block>,
        metas: Vec<ChunkMeta>,
        mint: i64,
        maxt: i64,
        ctx: QueryContext,
    ) -> Self {
        BlockSeriesIter {
            block,
            metas: metas.into_iter(),
            range: RangeBuf::new(mint, maxt),
            ctx,
        }
    }
}

impl Iterator for BlockSeriesIter {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        loop {
            match self.range.next() {
                RangeStep::Sample(s) => return Some(s),
                // A block's chunks of a series are in time order.
                RangeStep::Past => {
                    self.metas = Vec::new().into_iter();
                    return None;
                }
                RangeStep::Empty => {}
            }
            let m = self.metas.next()?;
            let (mint, maxt) = (self.range.mint, self.range.maxt);
            let mut charged = 0;
            let buf = self.range.refill();
            let decoded = self.block.chunk(&m).and_then(|c| {
                let bytes = &c.data[c.start as usize..c.end as usize];
                charged = bytes.len() as u64;
                // Block chunks are packed; only the query's range of them
                // is decoded (a chunk spans up to the whole block).
                if c.encoding == crate::chunk::ENC_PACKED {
                    crate::chunk::packed::decode_range_into(bytes, mint, maxt, buf)
                } else {
                    crate::chunk::decode_into(c.encoding, bytes, buf)
                }
                .ok_or_else(|| {
                    Error::corrupt(
                        self.block.dir.join("chunks/000001"),
                        m.r >> 20,
                        "undecodable chunk",
                    )
                })
            });
            if let Err(e) = decoded {
                self.block.damaged.store(true, Ordering::Relaxed);
                log::error!("reading block {}: {e}", self.block.id());
                self.metas = Vec::new().into_iter();
                return None;
            }
            if !self.ctx.charge(self.range.decoded() as u64, charged) {
                // Nothing of this chunk is handed out: the context stopped.
                self.range.refill();
                self.metas = Vec::new().into_iter();
                return None;
            }
        }
    }
}

impl Block {
    pub(crate) fn open(dir: &Path) -> Result<Block> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexReader::open(&dir.join("index"))?;
        let chunks = ChunkReader::open(&dir.join("chunks").join("000001"))?;
        if index.num_series() as u64 != meta.stats.num_series {
            return Err(Error::corrupt(
                dir.join("index"),
                0,
                format!(
                    "index has {} series, meta.json says {}",
                    index.num_series(),
                    meta.stats.num_series
                ),
            ));
        }
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            size_bytes: dir_size(dir),
            pages: Mutex::new(VecDeque::new()),
            damaged: AtomicBool::new(false),
        })
    }

    pub(crate) fn id(&self) -> &str {
        &self.meta.ulid
    }

    /// Whether the block may hold samples in `[mint, maxt]`.
    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && self.meta.max_time > mint
    }

    /// The uncompressed page at `off`, from the block's small page cache
    /// when a recent read (a neighbouring series, usually) already has it.
    fn page(&self, off: u64) -> Result<Arc<[u8]>> {
        if let Some(p) = self.pages.lock().iter().find(|p| p.0 == off) {
            return Ok(p.1.clone());
        }
        let p = self
            .chunks
            .page(off)
            .inspect_err(|_| self.damaged.store(true, Ordering::Relaxed))?;
        let mut cache = self.pages.lock();
        if cache.len() >= PAGE_CACHE {
            cache.pop_front();
        }
        cache.push_back((off, p.clone()));
        Ok(p)
    }

    /// The chunk `m` as a slice of its page.
    pub(crate) fn chunk(&self, m: &ChunkMeta) -> Result<ChunkSlice> {
        let (page_off, in_page) = chunks::split_ref(m.r);
        let page = self.page(page_off)?;
        chunks::slice_in_page(&page, in_page).ok_or_else(|| {
            self.damaged.store(true, Ordering::Relaxed);
            Error::corrupt(
                self.dir.join("chunks/000001"),
                page_off,
                format!("bad chunk at page offset {in_page}"),
            )
        })
    }

    /// Whether a read found damage since the block was opened.
    pub(crate) fn is_damaged(&self) -> bool {
        self.damaged.load(Ordering::Relaxed)
    }

    /// Ids of the series matching `ms`, in label order (block series ids
    /// are assigned in label order).
    pub(crate) fn postings(&self, ms: &[Matcher]) -> Vec<u32> {
        postings_for_matchers(&self.index, ms)
    }

    /// Series `id` if it has chunks overlapping `[mint, maxt]`: labels,
    /// float chunks, histogram chunks. Only the index is read here; pages
    /// are read as samples are.
    #[allow(clippy::type_complexity)]
    pub(crate) fn read_series(
        &self,
        id: u32,
        mint: i64,
        maxt: i64,
    ) -> Result<Option<(Labels, Vec<ChunkMeta>, Vec<ChunkMeta>)>> {
        let mut s = self.index.series(id)?;
        s.chunks.retain(|m| m.maxt >= mint && m.mint <= maxt);
        s.hist_chunks.retain(|m| m.maxt >= mint && m.mint <= maxt);
        if s.chunks.is_empty() && s.hist_chunks.is_empty() {
            return Ok(None);
        }
        Ok(Some((s.labels, s.chunks, s.hist_chunks)))
    }

    /// Histogram samples in `[mint, maxt]` of the chunks `metas`, decoded
    /// chunk by chunk as the caller iterates and charged to `ctx`. A page
    /// that cannot be read flags the block and ends the series.
    pub(crate) fn histograms(
        self: &Arc<Self>,
        metas: Vec<ChunkMeta>,
        mint: i64,
        maxt: i64,
        ctx: QueryContext,
    ) -> HistogramIter {
        let mut slices = Vec::with_capacity(metas.len());
        for m in &metas {
            match self.chunk(m) {
                Ok(c) => slices.push(c),
                Err(e) => {
                    log::error!("reading block {}: {e}", self.id());
                    break;
                }
            }
        }
        Box::new(HistChunkIter::new(slices, mint, maxt, ctx))
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        self.index.label_names()
    }

    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        let mut v = self.index.label_values(name);
        v.sort();
        v
    }

    pub(crate) fn num_series(&self) -> u32 {
        self.index.num_series() as u32
    }

    /// Labels, every float sample and every histogram sample of series
    /// `id` (for compaction).
    pub(crate) fn series_samples(
        &self,
        id: u32,
    ) -> Result<(Labels, Vec<Sample>, Vec<HistogramSample>)> {
        let crate::block::index::SeriesRead {
            labels,
            chunks: metas,
            hist_chunks,
        } = self.index.series(id)?;
        let mut hists = Vec::new();
        for m in &hist_chunks {
            let c = self.chunk(m)?;
            crate::chunk::histogram::decode_into(
                c.encoding,
                &c.data[c.start as usize..c.end as usize],
                &mut hists,
            )
            .ok_or_else(|| {
                Error::corrupt(
                    self.dir.join("chunks/000001"),
                    0,
                    format!("undecodable histogram chunk of series {labels}"),
                )
            })?;
        }
        let mut out = Vec::new();
        for m in &metas {
            let c = self.chunk(m)?;
            crate::chunk::decode_into(
                c.encoding,
                &c.data[c.start as usize..c.end as usize],
                &mut out,
            )
            .ok_or_else(|| {
                Error::corrupt(
                    self.dir.join("chunks/000001"),
                    0,
                    format!("undecodable chunk of series {labels}"),
                )
            })?;
        }
        Ok((labels, out, hists))
    }
}

/// True for names that look like block ids.
pub(crate) fn is_block_name(name: &str) -> bool {
    sightline_storage::layout::is_dir_id(name)
}

/// Opens every block under `dir`, newest data last. Leftover temporary
/// directories are removed; blocks that fail to open are moved aside and
/// their new names returned in the second list.
pub(crate) fn load_all(dir: &Path) -> Result<(Vec<Arc<Block>>, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut corrupted = Vec::new();
    sightline_storage::dir::cleanup_leftovers(dir)?;
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if !is_block_name(&name) || !path.is_dir() {
            continue;
        }
        match Block::open(&path) {
            Ok(b) => blocks.push(Arc::new(b)),
            Err(err) => corrupted.push(quarantine(&path, &err)),
        }
    }
    blocks.sort_by(|a, b| {
        (a.meta.min_time, a.meta.max_time).cmp(&(b.meta.min_time, b.meta.max_time))
    });
    Ok((blocks, corrupted))
}

/// Renames a damaged block to `<id>.corrupted` and logs why. Returns the new
/// directory name.
pub(crate) fn quarantine(path: &Path, why: &Error) -> String {
    sightline_storage::dir::quarantine(path, why)
}
