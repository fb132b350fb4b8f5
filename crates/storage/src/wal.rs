//! The segmented write-ahead log: numbered segment files of checksummed
//! records ([`crate::record`]), an fsync policy, torn-tail repair when
//! opened, and checkpoints that let old segments go.
//!
//! The log knows framing, not contents: its owner frames records with
//! [`crate::record::frame`] and decodes their bodies when they are replayed.
//!
//! - Every [`Wal::log_with`] is one `write(2)` of whole records, so an
//!   acknowledged write survives the death of the process; [`Wal::sync`]
//!   (on a timer, [`SyncPolicy::Periodic`]) or every write
//!   ([`SyncPolicy::EveryWrite`]) makes it survive the machine.
//! - A segment is closed (and fsynced) before it would grow past the segment
//!   size; segments are `wal/00000001`, `wal/00000002`, ... ([`crate::layout`]).
//! - [`Wal::open`] replays the newest checkpoint, then the segments after
//!   it. A record that fails its length or checksum check, or that the
//!   owner cannot decode, is where the log ends: the segment is truncated
//!   there and later segments are set aside, because anything after a hole
//!   could refer to things the owner never saw; what is cut off is kept as
//!   `<segment>.corrupted` files (the tail from the damage on, later
//!   segments whole) for the operator. Writing resumes in a new segment.
//! - [`Wal::checkpoint`] writes the owner's snapshot of what segments up to
//!   `upto` held as `checkpoint.<upto>/00000000` (a [`crate::dir::PendingDir`]:
//!   temporary name, fsync, rename), then deletes those segments and older
//!   checkpoints.
//!
//! `docs/format/wal.md` describes the bytes.

use crate::dir::{dir_size, sync_dir, write_synced, PendingDir};
use crate::layout::{
    checkpoint_name, parse_checkpoint_name, parse_segment_name, segment_name, CHECKPOINT_PREFIX,
    CORRUPTED_SUFFIX, TMP_SUFFIX,
};
use crate::record::{self, Damage};
use crate::{Error, Result};
use parking_lot::Mutex;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

/// When the log fsyncs what it wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncPolicy {
    /// When the owner calls [`Wal::sync`] (the metrics TSDB does every
    /// second from a thread) and when a segment is closed: a machine crash
    /// loses at most one interval, a process crash nothing.
    #[default]
    Periodic,
    /// After every write: nothing acknowledged is lost to a machine crash,
    /// at the price of an fsync per write.
    EveryWrite,
}

/// How a log is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is closed before a write would take it past this size
    /// (a single larger write still goes whole into a fresh segment).
    pub segment_size: u64,
    /// When to fsync.
    pub sync: SyncPolicy,
}

/// The log's counters, for its owner's self-telemetry. Shared so that an
/// owner can hold them before the log is open (replay counts into them).
#[derive(Debug, Default)]
pub struct WalStats {
    fsyncs: AtomicU64,
    fsync_nanos: AtomicU64,
    corruptions: AtomicU64,
    replayed_records: AtomicU64,
}

impl WalStats {
    /// fsync calls.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Relaxed)
    }

    /// Nanoseconds spent in fsync, summed.
    pub fn fsync_nanos(&self) -> u64 {
        self.fsync_nanos.load(Relaxed)
    }

    /// Damaged records found (and cut off, in segments) at replay.
    pub fn corruptions(&self) -> u64 {
        self.corruptions.load(Relaxed)
    }

    /// Records replayed at open.
    pub fn replayed_records(&self) -> u64 {
        self.replayed_records.load(Relaxed)
    }
}

/// What the writing side holds behind its lock.
struct Writer {
    file: File,
    seq: u32,
    size: u64,
    dirty: bool,
    /// A failed write left bytes past `size` that could not be cut off:
    /// nothing is written until they are.
    torn: bool,
    /// Reused between writes: a commit frames its records here.
    buf: Vec<u8>,
    scratch: Vec<u8>,
}

/// An open log. Writes from many threads are serialised by one lock.
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    w: Mutex<Writer>,
    stats: Arc<WalStats>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

/// Segment numbers in `dir`, sorted.
pub fn list_segments(dir: &Path) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        if let Some(n) = parse_segment_name(&e.file_name().to_string_lossy()) {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Makes sure segments up to `upto` (whose records a store already holds
/// in a committed block) are not replayed: when a crash came between the
/// block's commit and the checkpoint that follows it, writes the (empty)
/// checkpoint the flush would have written and removes those segments.
/// Shared by the log and trace stores.
pub fn finish_checkpoint(wal_dir: &Path, upto: u32) -> Result<()> {
    if upto == 0 || !wal_dir.exists() {
        return Ok(());
    }
    let have = fs::read_dir(wal_dir)
        .map_err(|e| Error::io("read dir", wal_dir, e))?
        .flatten()
        .filter_map(|e| parse_checkpoint_name(&e.file_name().to_string_lossy()))
        .max()
        .unwrap_or(0);
    if have >= upto {
        return Ok(());
    }
    let p = PendingDir::create(wal_dir, &checkpoint_name(upto), &[])?;
    p.write_file(&segment_name(0), &[])?;
    p.commit(None)?;
    for seq in list_segments(wal_dir)? {
        if seq <= upto {
            let f = wal_dir.join(segment_name(seq));
            fs::remove_file(&f).map_err(|e| Error::io("remove", &f, e))?;
        }
    }
    Ok(())
}

/// The newest complete checkpoint in `dir`: its path and the last segment
/// it covers. Checkpoints a crash interrupted (`checkpoint.N.tmp`) are
/// removed when `clean` is set: the segments they would replace are there.
fn last_checkpoint(dir: &Path, clean: bool) -> Result<Option<(PathBuf, u32)>> {
    let mut best: Option<(PathBuf, u32)> = None;
    for e in fs::read_dir(dir).map_err(|e| Error::io("read dir", dir, e))? {
        let e = e.map_err(|e| Error::io("read dir", dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = parse_checkpoint_name(&name) {
            if best.as_ref().is_none_or(|b| n > b.1) {
                best = Some((e.path(), n));
            }
        } else if clean && name.starts_with(CHECKPOINT_PREFIX) && name.ends_with(TMP_SUFFIX) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
    Ok(best)
}

/// What [`replay`] read.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Records handed to the callback.
    pub records: u64,
    /// The last segment read (0 when there was none).
    pub last_segment: u32,
    /// The segment that ends in damage, with where and why; segments after
    /// it were not read.
    pub damage: Option<(PathBuf, Damage)>,
}

/// Reads the log in `dir` without changing it: the newest checkpoint's
/// records, then those of the segments after it, in order, up to the first
/// damaged record. `f(type, body)` returns false for a body it cannot
/// decode, which counts as damage. For tools and tests; [`Wal::open`]
/// replays and repairs.
pub fn replay(dir: &Path, f: impl FnMut(u8, &[u8]) -> bool) -> Result<Replayed> {
    read_log(dir, false, &WalStats::default(), f)
}

fn read_log(
    dir: &Path,
    repair: bool,
    stats: &WalStats,
    mut f: impl FnMut(u8, &[u8]) -> bool,
) -> Result<Replayed> {
    let mut out = Replayed::default();
    let mut count = |typ: u8, body: &[u8]| {
        let ok = f(typ, body);
        if ok {
            out.records += 1;
        }
        ok
    };
    let checkpoint = last_checkpoint(dir, repair)?;
    let mut after = 0u32;
    if let Some((cp, n)) = &checkpoint {
        after = *n;
        for seq in list_segments(cp)? {
            let path = cp.join(segment_name(seq));
            let buf = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
            if let Some(d) = record::for_each(&buf, &mut count) {
                // A checkpoint is written to a temporary name and fsynced
                // before it is renamed, so damage here is the disk's doing;
                // keep what we could read.
                stats.corruptions.fetch_add(1, Relaxed);
                log::error!(
                    "wal checkpoint {} damaged at offset {}: {}",
                    path.display(),
                    d.offset,
                    d.reason
                );
            }
        }
    }
    let segs: Vec<u32> = list_segments(dir)?
        .into_iter()
        .filter(|s| *s > after)
        .collect();
    let mut last = after;
    for (i, &seq) in segs.iter().enumerate() {
        let path = dir.join(segment_name(seq));
        let buf = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let damage = record::for_each(&buf, &mut count);
        last = seq;
        if let Some(d) = damage {
            stats.corruptions.fetch_add(1, Relaxed);
            if repair {
                log::warn!(
                    "wal segment {} damaged at offset {} ({}); truncating there and dropping {} later segments",
                    path.display(),
                    d.offset,
                    d.reason,
                    segs.len() - i - 1
                );
                // What is cut off is kept for the operator as
                // `<segment>.corrupted` (the scheme of every store's
                // damaged files, docs/format/corrupted.md): the bytes from
                // the damage on, then each later segment whole.
                let cut = &buf[d.offset.min(buf.len())..];
                if !cut.is_empty() {
                    let aside =
                        path.with_file_name(format!("{}{CORRUPTED_SUFFIX}", segment_name(seq)));
                    // Best effort: a full disk must not stop the start.
                    if let Err(e) = write_synced(&aside, cut) {
                        log::error!("cannot set the damaged tail aside: {e}");
                    }
                }
                truncate_at(&path, d.offset as u64)?;
                for &later in &segs[i + 1..] {
                    let p = dir.join(segment_name(later));
                    crate::dir::quarantine(&p, &"it follows a damaged segment");
                }
            }
            out.damage = Some((path, d));
            break;
        }
    }
    out.last_segment = last;
    stats.replayed_records.fetch_add(out.records, Relaxed);
    Ok(out)
}

fn truncate_at(path: &Path, len: u64) -> Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    file.set_len(len)
        .map_err(|e| Error::io("truncate", path, e))?;
    file.sync_all().map_err(|e| Error::io("fsync", path, e))
}

impl Wal {
    /// Opens (creating) the log in `dir`, replaying it into `f` as
    /// [`replay`] does and repairing a damaged tail (module docs); writing
    /// continues in a new segment. Replay counts into `stats`.
    pub fn open(
        dir: &Path,
        opts: WalOptions,
        stats: Arc<WalStats>,
        f: impl FnMut(u8, &[u8]) -> bool,
    ) -> Result<Wal> {
        if opts.segment_size == 0 {
            return Err(Error::BadInput("wal segment size must be positive".into()));
        }
        fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        let replayed = read_log(dir, true, &stats, f)?;
        let seq = replayed.last_segment + 1;
        let file = create_segment(dir, seq)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            opts,
            w: Mutex::new(Writer {
                file,
                seq,
                size: 0,
                dirty: false,
                torn: false,
                buf: Vec::new(),
                scratch: Vec::new(),
            }),
            stats,
        })
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's counters.
    pub fn stats(&self) -> &Arc<WalStats> {
        &self.stats
    }

    /// Writes framed records with one `write(2)`, closing the segment first
    /// when this one would grow past the segment size.
    pub fn log(&self, buf: &[u8]) -> Result<()> {
        let mut w = self.w.lock();
        self.write_locked(&mut w, buf)
    }

    /// Lets `fill(buf, scratch)` frame records into reused buffers while
    /// the log is locked, then writes `buf`: records from concurrent
    /// callers never interleave and appear in the order `fill` ran (which
    /// is what lets an owner number things in `fill`).
    pub fn log_with(&self, fill: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>)) -> Result<()> {
        let mut w = self.w.lock();
        let mut buf = std::mem::take(&mut w.buf);
        let mut scratch = std::mem::take(&mut w.scratch);
        buf.clear();
        fill(&mut buf, &mut scratch);
        let res = self.write_locked(&mut w, &buf);
        // One huge commit must not pin its buffer for the life of the log.
        if buf.capacity() > 16 << 20 {
            buf = Vec::new();
        }
        w.buf = buf;
        w.scratch = scratch;
        res
    }

    fn write_locked(&self, w: &mut Writer, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if w.torn {
            let path = self.dir.join(segment_name(w.seq));
            w.file
                .set_len(w.size)
                .map_err(|e| Error::io("truncate", path, e))?;
            w.torn = false;
        }
        if w.size > 0 && w.size + buf.len() as u64 > self.opts.segment_size {
            self.rotate(w)?;
        }
        let seq = w.seq;
        if let Err(e) = w.file.write_all(buf) {
            // A full disk (or any error) can leave part of `buf` written.
            // Cut it off again: the next write appends after it, and a
            // half record in the middle of a segment would end the log
            // there at replay, losing every later acknowledged record.
            let path = self.dir.join(segment_name(seq));
            if let Err(t) = w.file.set_len(w.size) {
                // Nothing may follow the torn bytes (replay would end the
                // log at them): writes are refused until the cut succeeds.
                log::error!("cannot cut a failed write off {}: {t}", path.display());
                w.torn = true;
            }
            return Err(Error::io("write", path, e));
        }
        w.size += buf.len() as u64;
        w.dirty = true;
        if self.opts.sync == SyncPolicy::EveryWrite {
            self.sync_locked(w)?;
        }
        Ok(())
    }

    fn rotate(&self, w: &mut Writer) -> Result<()> {
        let old = self.dir.join(segment_name(w.seq));
        let t0 = Instant::now();
        w.file
            .sync_data()
            .map_err(|e| Error::io("fsync", &old, e))?;
        self.count_fsync(t0);
        w.seq += 1;
        w.file = create_segment(&self.dir, w.seq)?;
        w.size = 0;
        w.dirty = false;
        Ok(())
    }

    fn count_fsync(&self, t0: Instant) {
        self.stats.fsyncs.fetch_add(1, Relaxed);
        self.stats
            .fsync_nanos
            .fetch_add(t0.elapsed().as_nanos() as u64, Relaxed);
    }

    fn sync_locked(&self, w: &mut Writer) -> Result<()> {
        if !w.dirty {
            return Ok(());
        }
        let t0 = Instant::now();
        let seq = w.seq;
        w.file
            .sync_data()
            .map_err(|e| Error::io("fsync", self.dir.join(segment_name(seq)), e))?;
        w.dirty = false;
        self.count_fsync(t0);
        Ok(())
    }

    /// fsyncs the current segment if anything was written since the last one.
    pub fn sync(&self) -> Result<()> {
        let mut w = self.w.lock();
        self.sync_locked(&mut w)
    }

    /// Closes the current segment and starts the next; returns the number of
    /// the closed one, which a checkpoint can then cover.
    pub fn cut(&self) -> Result<u32> {
        let mut w = self.w.lock();
        let closed = w.seq;
        self.rotate(&mut w)?;
        Ok(closed)
    }

    /// Writes `records` (already framed) as `checkpoint.<upto>`, then
    /// deletes segments up to `upto` and older checkpoints. A crash leaves
    /// either the old state or the new one.
    pub fn checkpoint(&self, upto: u32, records: &[u8]) -> Result<()> {
        let name = checkpoint_name(upto);
        let pending = PendingDir::create(&self.dir, &name, &[])?;
        pending.write_file(&segment_name(0), records)?;
        pending.commit(None)?;
        for seq in list_segments(&self.dir)? {
            if seq <= upto {
                let p = self.dir.join(segment_name(seq));
                fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
            }
        }
        for e in fs::read_dir(&self.dir).map_err(|e| Error::io("read dir", &self.dir, e))? {
            let e = e.map_err(|e| Error::io("read dir", &self.dir, e))?;
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(CHECKPOINT_PREFIX) && n != name {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        Ok(())
    }

    /// Bytes of segments and checkpoints on disk.
    pub fn size_bytes(&self) -> u64 {
        dir_size(&self.dir)
    }
}

fn create_segment(dir: &Path, seq: u32) -> Result<File> {
    let path = dir.join(segment_name(seq));
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    sync_dir(dir)?;
    Ok(f)
}

#[cfg(test)]
mod tests;
