//! Reading one stream: a lazy merge over its sources (the head's open
//! lines, its closed chunks, and chunks in blocks), which may overlap in
//! time when late lines arrived after a chunk was cut or flushed.
//!
//! A chunk is decompressed only when the merge reaches its bound: the next
//! chunk to open is the one with the smallest oldest line (forward) or the
//! largest newest line (backward), and it is opened once no open chunk has
//! a line that comes before that bound. A backward query with a limit that
//! stops after the newest lines never decompresses the older chunks.

use crate::block::{Block, ChunkRef};
use crate::chunk::{self, Chunk};
use crate::filter::LineFilter;
use crate::telemetry::Counters;
use crate::Result;
use sightline_core::logs::LogEntry;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Where a run of lines comes from.
pub(crate) enum Source {
    /// Lines already in range and through the line filter, ascending (the
    /// head's open chunk, copied).
    Lines(Vec<LogEntry>),
    Mem(Arc<Chunk>),
    Block(Arc<Block>, ChunkRef),
}

/// A source with its time bounds.
pub(crate) struct Pending {
    pub lo: i64,
    pub hi: i64,
    pub src: Source,
}

/// The merged lines of one stream in `[start, end]`, in the asked order.
pub(crate) struct Merge {
    /// The next source to open is last.
    pending: Vec<Pending>,
    /// Decoded sources, each in reverse iteration order (the next line is
    /// last), in the order opened.
    open: Vec<Vec<LogEntry>>,
    backward: bool,
    start: i64,
    end: i64,
    failed: bool,
    keep: Option<Arc<LineFilter>>,
    counters: Arc<Counters>,
}

impl Merge {
    pub(crate) fn new(
        mut pending: Vec<Pending>,
        backward: bool,
        start: i64,
        end: i64,
        keep: Option<Arc<LineFilter>>,
        counters: Arc<Counters>,
    ) -> Merge {
        if backward {
            pending.sort_by_key(|p| p.hi);
        } else {
            pending.sort_by_key(|p| std::cmp::Reverse(p.lo));
        }
        Merge {
            pending,
            open: Vec::new(),
            backward,
            start,
            end,
            failed: false,
            keep,
            counters,
        }
    }

    fn decode(&self, p: Pending) -> Result<Vec<LogEntry>> {
        let keep = self.keep.as_deref();
        let mut v = match p.src {
            Source::Lines(v) => v,
            Source::Mem(c) => {
                self.counters.chunks_read.fetch_add(1, Relaxed);
                chunk::decode(&c.data, &c.meta, self.start, self.end, keep, "head chunk")?
            }
            Source::Block(b, r) => {
                self.counters.chunks_read.fetch_add(1, Relaxed);
                let (_, data) = b.chunk_parts(&r, true)?;
                let what = b.dir.join("chunks").display().to_string();
                chunk::decode(data, &r.meta, self.start, self.end, keep, &what)?
            }
        };
        if !self.backward {
            v.reverse();
        }
        Ok(v)
    }

    /// Index of the open source whose next line comes first.
    fn best(&self) -> Option<usize> {
        let mut best: Option<(usize, i64)> = None;
        for (i, c) in self.open.iter().enumerate() {
            let t = c.last().expect("open sources are not empty").ts_ns;
            let better = match best {
                None => true,
                Some((_, b)) if self.backward => t > b,
                Some((_, b)) => t < b,
            };
            if better {
                best = Some((i, t));
            }
        }
        best.map(|b| b.0)
    }
}

impl Iterator for Merge {
    type Item = sightline_core::Result<LogEntry>;

    fn next(&mut self) -> Option<sightline_core::Result<LogEntry>> {
        if self.failed {
            return None;
        }
        loop {
            let best = self.best();
            if let Some(p) = self.pending.last() {
                let must_open = match best {
                    None => true,
                    Some(i) => {
                        let t = self.open[i].last().expect("not empty").ts_ns;
                        if self.backward {
                            p.hi >= t
                        } else {
                            p.lo <= t
                        }
                    }
                };
                if must_open {
                    let p = self.pending.pop().expect("checked");
                    match self.decode(p) {
                        Ok(v) if v.is_empty() => {}
                        Ok(v) => self.open.push(v),
                        Err(e) => {
                            self.failed = true;
                            return Some(Err(e.into()));
                        }
                    }
                    continue;
                }
            }
            let i = best?;
            let e = self.open[i].pop().expect("not empty");
            if self.open[i].is_empty() {
                // `remove`, not `swap_remove`: ties go to the source opened
                // first, whatever was removed before.
                self.open.remove(i);
            }
            return Some(Ok(e));
        }
    }
}
