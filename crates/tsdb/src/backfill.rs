//! [`BlockWriter`]: backfill historical samples straight into blocks.

use crate::block::meta::BlockMeta;
use crate::block::writer::Writer;
use crate::{Error, Result};
use foldhash::{HashMap, HashMapExt};
use sightline_core::{Labels, Sample};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Writes blocks aligned to the block range from samples given in any order,
/// for many series, into a database directory (`sightline import
/// openmetrics FILE`, like `promtool tsdb create-blocks-from openmetrics`).
///
/// Samples are buffered in memory; when more than
/// [`BlockWriter::with_max_buffered_samples`] are held, what is buffered is
/// written out and buffering starts again. Several flushes may so produce
/// blocks for the same window; the database merges overlapping blocks at its
/// next compaction. A running [`crate::Db`] picks new blocks up at its next
/// maintenance run, a closed one when it opens. For one series and timestamp
/// the last value added wins.
///
/// ```no_run
/// # use sightline_tsdb::BlockWriter;
/// # use sightline_core::Labels;
/// let mut w = BlockWriter::new(std::path::Path::new("data"), 2 * 3600 * 1000)?;
/// w.add(&Labels::from_pairs([("__name__", "up")]), 1_700_000_000_000, 1.0)?;
/// let blocks = w.finish()?;
/// # Ok::<(), sightline_tsdb::Error>(())
/// ```
pub struct BlockWriter {
    dir: PathBuf,
    block_range: i64,
    buf: HashMap<Labels, Vec<(i64, u64, f64)>>,
    seq: u64,
    buffered: usize,
    max_buffered: usize,
    written: Vec<BlockMeta>,
}

impl std::fmt::Debug for BlockWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockWriter")
            .field("dir", &self.dir)
            .field("buffered", &self.buffered)
            .finish_non_exhaustive()
    }
}

impl BlockWriter {
    /// A writer into the database directory `dir` (created if missing),
    /// with blocks `block_range_ms` wide (use the database's block range).
    pub fn new(dir: &Path, block_range_ms: i64) -> Result<BlockWriter> {
        if block_range_ms <= 0 {
            return Err(Error::BadData(format!(
                "block range must be positive, got {block_range_ms}"
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        Ok(BlockWriter {
            dir: dir.to_path_buf(),
            block_range: block_range_ms,
            buf: HashMap::new(),
            seq: 0,
            buffered: 0,
            max_buffered: 20_000_000,
            written: Vec::new(),
        })
    }

    /// Samples held in memory before an automatic flush (20 million by default).
    pub fn with_max_buffered_samples(mut self, n: usize) -> Self {
        self.max_buffered = n.max(1);
        self
    }

    /// Adds one sample.
    pub fn add(&mut self, labels: &Labels, t: i64, v: f64) -> Result<()> {
        if labels.is_empty() {
            return Err(Error::BadData(format!(
                "empty label set for sample at t={t}"
            )));
        }
        self.seq += 1;
        match self.buf.get_mut(labels) {
            Some(list) => list.push((t, self.seq, v)),
            None => {
                self.buf.insert(labels.clone(), vec![(t, self.seq, v)]);
            }
        }
        self.buffered += 1;
        if self.buffered >= self.max_buffered {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes everything buffered, one block per aligned window.
    pub fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut series: Vec<(Labels, Vec<Sample>)> = self
            .buf
            .drain()
            .map(|(l, mut v)| {
                v.sort_by_key(|x| (x.0, x.1));
                // Keep the last value written for each timestamp.
                let mut out: Vec<Sample> = Vec::with_capacity(v.len());
                for (t, _, val) in v {
                    match out.last_mut() {
                        Some(s) if s.t == t => s.v = val,
                        _ => out.push(Sample::new(t, val)),
                    }
                }
                (l, out)
            })
            .collect();
        self.buffered = 0;
        series.sort_by(|a, b| a.0.cmp(&b.0));
        let windows: BTreeSet<i64> = series
            .iter()
            .flat_map(|(_, s)| s.iter().map(|x| x.t.div_euclid(self.block_range)))
            .collect();
        for w in windows {
            let (lo, hi) = (
                w * self.block_range,
                w * self.block_range + self.block_range,
            );
            let mut bw = Writer::new(&self.dir, false)?;
            for (labels, samples) in &series {
                let a = samples.partition_point(|s| s.t < lo);
                let b = samples.partition_point(|s| s.t < hi);
                bw.add_series(labels, &samples[a..b], &[])?;
            }
            if let Some(meta) = bw.finish(1, Vec::new(), Some((lo, hi)))? {
                self.written.push(meta);
            }
        }
        Ok(())
    }

    /// Flushes and returns the metadata of every block written.
    pub fn finish(mut self) -> Result<Vec<BlockMeta>> {
        self.flush()?;
        Ok(std::mem::take(&mut self.written))
    }
}
