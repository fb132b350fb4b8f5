//! Streams series (in label order) into a new block directory.
//!
//! The block is an immutable directory (`sightline_storage::dir`): built
//! under `<id>.tmp`, `meta.json` written last, renamed into place only after
//! every file is fsynced, so readers and a crashed process never see half a
//! block; leftover `.tmp` directories are removed at open.

use super::chunks::{ChunkWriter, BLOCK_ENCODING};
use super::index::{self, ChunkMeta, SeriesEntry};
use super::meta::{BlockMeta, BlockStats, Compaction};
use crate::chunk::packed;
use crate::{Error, Result};
use foldhash::{HashMap, HashMapExt};
use sightline_core::{HistogramSample, Labels, Sample};
use sightline_storage::dir::PendingDir;
use sightline_storage::layout::new_dir_id;
use std::path::Path;

/// Samples per block chunk: longer than head chunks because block chunks are
/// read whole and compressed in pages, so length costs little and saves
/// per-chunk overhead.
pub(crate) const BLOCK_CHUNK_SAMPLES: usize = 480;

pub(crate) struct Writer {
    id: String,
    // Before `dir`: fields drop in order, so an abandoned block's chunk
    // file is closed before its directory is removed.
    chunks: ChunkWriter,
    dir: PendingDir,
    sym_ids: HashMap<String, u32>,
    strs: Vec<String>,
    series: Vec<SeriesEntry>,
    last: Option<Labels>,
    stats: BlockStats,
    mint: i64,
    maxt: i64,
    encoded: Vec<u8>,
}

impl Writer {
    /// A writer for a new block under `parent`; `compacted` selects the
    /// larger page size of merged blocks.
    pub(crate) fn new(parent: &Path, compacted: bool) -> Result<Writer> {
        let id = new_dir_id();
        let dir = PendingDir::create(parent, &id, &["chunks"])?;
        let page = if compacted {
            super::chunks::PAGE_TARGET_COMPACTED
        } else {
            super::chunks::PAGE_TARGET_LEVEL1
        };
        let chunks = ChunkWriter::create(&dir.path().join("chunks").join("000001"), page)?;
        Ok(Writer {
            id,
            dir,
            chunks,
            sym_ids: HashMap::new(),
            strs: Vec::new(),
            series: Vec::new(),
            last: None,
            stats: BlockStats::default(),
            mint: i64::MAX,
            maxt: i64::MIN,
            encoded: Vec::new(),
        })
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.sym_ids.get(s) {
            return id;
        }
        let id = self.strs.len() as u32;
        self.strs.push(s.to_owned());
        self.sym_ids.insert(s.to_owned(), id);
        id
    }

    /// Adds one series. Calls must come in strictly increasing label order;
    /// `samples` and `hists` (native histograms, hints as the head stores
    /// them) must each be sorted by time without duplicates. Empty input is
    /// skipped.
    pub(crate) fn add_series(
        &mut self,
        labels: &Labels,
        samples: &[Sample],
        hists: &[HistogramSample],
    ) -> Result<()> {
        if samples.is_empty() && hists.is_empty() {
            return Ok(());
        }
        if let Some(prev) = &self.last {
            if prev >= labels {
                return Err(Error::Internal(format!(
                    "block series out of order: {labels} after {prev}"
                )));
            }
        }
        let syms: Box<[u32]> = labels
            .iter()
            .flat_map(|l| [l.name.as_str(), l.value.as_str()])
            .map(|s| self.intern(s))
            .collect();
        let mut metas = Vec::with_capacity(samples.len().div_ceil(BLOCK_CHUNK_SAMPLES));
        for part in samples.chunks(BLOCK_CHUNK_SAMPLES) {
            self.encoded.clear();
            packed::encode(part, &mut self.encoded);
            let r = self.chunks.add(BLOCK_ENCODING, &self.encoded)?;
            let (mint, maxt) = (part[0].t, part[part.len() - 1].t);
            metas.push(ChunkMeta { mint, maxt, r });
        }
        let mut hist_metas = Vec::new();
        let mut failed = None;
        crate::chunk::histogram::split_runs(hists, BLOCK_CHUNK_SAMPLES, |run| {
            if failed.is_some() {
                return;
            }
            self.encoded.clear();
            let enc = crate::chunk::histogram::encode(run, &mut self.encoded);
            match self.chunks.add(enc, &self.encoded) {
                Ok(r) => hist_metas.push(ChunkMeta {
                    mint: run[0].t,
                    maxt: run[run.len() - 1].t,
                    r,
                }),
                Err(e) => failed = Some(e),
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        self.stats.num_samples += (samples.len() + hists.len()) as u64;
        self.stats.num_chunks += (metas.len() + hist_metas.len()) as u64;
        self.stats.num_series += 1;
        let firsts = samples.first().map(|s| s.t).into_iter();
        let lasts = samples.last().map(|s| s.t).into_iter();
        for t in firsts.chain(hists.first().map(|s| s.t)) {
            self.mint = self.mint.min(t);
        }
        for t in lasts.chain(hists.last().map(|s| s.t)) {
            self.maxt = self.maxt.max(t);
        }
        self.series.push(SeriesEntry {
            labels: syms,
            chunks: metas,
            hist_chunks: hist_metas,
        });
        self.last = Some(labels.clone());
        Ok(())
    }

    /// Writes the index and meta, fsyncs, and renames the block into place.
    /// `range` widens the recorded time range to the window the block was
    /// cut for; `None` is returned (and nothing kept) when no series was added.
    pub(crate) fn finish(
        self,
        level: u32,
        sources: Vec<String>,
        range: Option<(i64, i64)>,
    ) -> Result<Option<BlockMeta>> {
        if self.series.is_empty() {
            // Dropping the pending directory removes it.
            return Ok(None);
        }
        self.chunks.finish()?;
        let ix = index::build(&self.strs, &self.series);
        self.dir.write_file("index", &ix)?;
        let (mut mint, mut maxt) = (self.mint, self.maxt.saturating_add(1));
        if let Some((lo, hi)) = range {
            mint = mint.min(lo);
            maxt = maxt.max(hi);
        }
        let sources = if sources.is_empty() {
            vec![self.id.clone()]
        } else {
            sources
        };
        let meta = BlockMeta {
            ulid: self.id.clone(),
            min_time: mint,
            max_time: maxt,
            stats: self.stats,
            compaction: Compaction { level, sources },
            version: 1,
        };
        self.dir.commit(Some(("meta.json", &meta.to_json()?)))?;
        Ok(Some(meta))
    }
}
