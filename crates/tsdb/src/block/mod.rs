//! Immutable on-disk blocks: one directory per time range holding
//! `meta.json` ([`meta`]), `chunks/000001` ([`chunks`]) and `index`
//! ([`index`]). Blocks are written once by [`writer`] and only read after.
//!
//! A block that fails its checks when opened, or whose pages fail their
//! checksum when read, is moved aside to `<id>.corrupted` so the rest of the
//! database keeps serving.

pub(crate) mod chunks;
pub(crate) mod index;
pub(crate) mod meta;
pub(crate) mod writer;

use crate::postings::{postings_for_matchers, IndexLookup};
use crate::querier::ChunkSlice;
use crate::wal::dir_size;
use crate::{Error, Result};
use chunks::ChunkReader;
use index::{ChunkMeta, IndexReader};
use meta::BlockMeta;
use sightline_core::{Labels, Matcher, Sample};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An open block.
pub(crate) struct Block {
    pub(crate) dir: PathBuf,
    pub(crate) meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    pub(crate) size_bytes: u64,
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
        })
    }

    pub(crate) fn id(&self) -> &str {
        &self.meta.ulid
    }

    /// Whether the block may hold samples in `[mint, maxt]`.
    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.meta.min_time <= maxt && self.meta.max_time > mint
    }

    fn load_chunks(
        &self,
        metas: &[ChunkMeta],
        mint: i64,
        maxt: i64,
        cache: &mut Option<(u64, Arc<[u8]>)>,
    ) -> Result<Vec<ChunkSlice>> {
        let mut out = Vec::new();
        for m in metas.iter().filter(|m| m.maxt >= mint && m.mint <= maxt) {
            let (page_off, in_page) = chunks::split_ref(m.r);
            let page = match cache {
                Some((off, p)) if *off == page_off => p.clone(),
                _ => {
                    let p = self.chunks.page(page_off)?;
                    *cache = Some((page_off, p.clone()));
                    p
                }
            };
            let s = chunks::slice_in_page(&page, in_page).ok_or_else(|| {
                Error::corrupt(
                    self.dir.join("chunks/000001"),
                    page_off,
                    format!("bad chunk at page offset {in_page}"),
                )
            })?;
            out.push(s);
        }
        Ok(out)
    }

    /// Matching series with chunks overlapping `[mint, maxt]`, in label order.
    pub(crate) fn select(
        &self,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Result<Vec<(Labels, Vec<ChunkSlice>)>> {
        let mut out = Vec::new();
        let mut cache = None;
        for id in postings_for_matchers(&self.index, ms) {
            let (labels, metas) = self.index.series(id)?;
            let chunks = self.load_chunks(&metas, mint, maxt, &mut cache)?;
            if !chunks.is_empty() {
                out.push((labels, chunks));
            }
        }
        Ok(out)
    }

    /// Label sets of matching series with chunks in range.
    pub(crate) fn series_labels(
        &self,
        mint: i64,
        maxt: i64,
        ms: &[Matcher],
    ) -> Result<Vec<Labels>> {
        let mut out = Vec::new();
        for id in postings_for_matchers(&self.index, ms) {
            let (labels, metas) = self.index.series(id)?;
            if metas.iter().any(|m| m.maxt >= mint && m.mint <= maxt) {
                out.push(labels);
            }
        }
        Ok(out)
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

    /// Labels and every sample of series `id` (for compaction).
    pub(crate) fn series_samples(
        &self,
        id: u32,
        cache: &mut Option<(u64, Arc<[u8]>)>,
    ) -> Result<(Labels, Vec<Sample>)> {
        let (labels, metas) = self.index.series(id)?;
        let mut out = Vec::new();
        for c in self.load_chunks(&metas, i64::MIN, i64::MAX, cache)? {
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
        Ok((labels, out))
    }
}

/// True for names that look like block ids.
pub(crate) fn is_block_name(name: &str) -> bool {
    name.len() == 26
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Opens every block under `dir`, newest data last. Leftover temporary
/// directories are removed; blocks that fail to open are moved aside and
/// their new names returned in the second list.
pub(crate) fn load_all(dir: &Path) -> Result<(Vec<Arc<Block>>, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut corrupted = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.ends_with(".tmp") || name.ends_with(".deleted") {
            let _ = std::fs::remove_dir_all(&path);
            continue;
        }
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
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let to = path.with_file_name(format!("{name}.corrupted"));
    log::error!(
        "block {} is corrupt and is set aside as {}: {why}",
        path.display(),
        to.display()
    );
    if let Err(e) = std::fs::rename(path, &to) {
        log::error!("cannot move corrupt block {} aside: {e}", path.display());
    }
    format!("{name}.corrupted")
}
