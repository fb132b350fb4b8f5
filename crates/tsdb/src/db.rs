//! [`Db`]: the head, the WAL and the blocks behind the storage traits, plus
//! the threads that fsync the WAL and run maintenance.

use crate::appender::DbAppender;
use crate::block::{self, Block};
use crate::exemplars::{ExemplarStats, ExemplarStorage, Stored};
use crate::head::Head;
use crate::stats::{Counters, DbStats};
use crate::wal::Record;
use crate::{Error, Options, Result};
use foldhash::{HashMap, HashMapExt};
use parking_lot::{Condvar, Mutex, RwLock};
use sightline_core::{Appender, MetricAppender};
use sightline_storage::layout::WAL_DIR;
use sightline_storage::wal::Wal;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// State shared by the [`Db`] handle, its appenders and its threads.
pub(crate) struct Inner {
    pub(crate) dir: PathBuf,
    pub(crate) opts: Options,
    pub(crate) head: Head,
    pub(crate) wal: Wal,
    pub(crate) exemplars: ExemplarStorage,
    /// Sorted by `(min_time, max_time)`.
    pub(crate) blocks: RwLock<Vec<Arc<Block>>>,
    pub(crate) counters: Arc<Counters>,
    /// Commits hold it shared from WAL write to head apply; cutting the WAL
    /// for a checkpoint holds it exclusively, so every record in the segments
    /// a checkpoint replaces is already in the head it snapshots.
    pub(crate) commit_lock: RwLock<()>,
    pub(crate) maintenance: Mutex<()>,
    pub(crate) corrupted: Mutex<Vec<String>>,
    pub(crate) closed: AtomicBool,
    stop: Mutex<bool>,
    stop_cv: Condvar,
}

/// An open database directory. Cheap to share as `Arc<Db>`; implements
/// [`MetricAppender`] and [`MetricQuerier`].
pub struct Db {
    pub(crate) inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: loads blocks (moving
    /// corrupt ones aside), replays the WAL (repairing a torn tail), and
    /// starts the WAL fsync thread and, unless `maintenance_interval_ms` is
    /// 0, the maintenance thread.
    pub fn open(dir: &Path, opts: Options) -> Result<Arc<Db>> {
        opts.validate()?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
        let counters = Arc::new(Counters::default());
        let (blocks, corrupted) = block::load_all(dir)?;
        let head = Head::new(
            opts.block_range_ms,
            opts.out_of_order_time_window_ms,
            crate::head::chunk_file::ChunkFiles::open(&dir.join("chunks_head")),
        );
        let mut remap: HashMap<u64, u32> = HashMap::new();
        let mut unknown = 0u64;
        let exemplars = ExemplarStorage::new(opts.max_exemplars);
        let wal = crate::wal::open(
            &dir.join(WAL_DIR),
            opts.wal_segment_size,
            Arc::default(),
            |rec| match rec {
                Record::Truncated(t) => head.set_truncated_upto(t),
                Record::Series(list) => {
                    for (r, labels) in list {
                        let want = u32::try_from(r).ok().filter(|x| *x != 0);
                        let (id, _) = head.get_or_create(&labels, want);
                        head.mark_logged(id);
                        remap.insert(r, id);
                    }
                }
                Record::Chunks(encoding, list) => {
                    let mut samples = Vec::new();
                    for (r, bytes) in list {
                        let Some(&id) = remap.get(&r) else {
                            unknown += 1;
                            continue;
                        };
                        // A damaged chunk gives what decoded before the
                        // damage: the record's checksum passed, so this is
                        // a bug, not a torn write, and partial is the most
                        // that can be kept.
                        samples.clear();
                        let _ = crate::chunk::decode_into(encoding, &bytes, &mut samples);
                        for s in &samples {
                            head.replay_sample(id, s.t, s.v);
                        }
                    }
                }
                Record::Histograms(list) => {
                    for (r, t, h) in list {
                        match remap.get(&r) {
                            Some(&id) if head.replay_histogram(id, t, h) => {}
                            _ => unknown += 1,
                        }
                    }
                }
                Record::Samples(list) => {
                    for (r, t, v) in list {
                        match remap.get(&r) {
                            Some(&id) if head.replay_sample(id, t, v) => {}
                            _ => unknown += 1,
                        }
                    }
                }
                Record::Exemplars(list) => {
                    for (r, t, value, labels) in list {
                        let Some((id, series)) = remap
                            .get(&r)
                            .and_then(|&id| Some((id, head.labels_of(id)?)))
                        else {
                            unknown += 1;
                            continue;
                        };
                        // Duplicates and older ones (a checkpoint and the
                        // segments after it may both hold an exemplar) are
                        // refused here as they were when first appended.
                        let ex = Stored {
                            labels,
                            value,
                            t,
                            has_ts: false,
                        };
                        let _ = exemplars.add(&series, id, ex);
                    }
                }
            },
        )?;
        if unknown > 0 {
            log::warn!(
                "wal replay in {}: {unknown} samples or exemplars referred to unknown series and were dropped",
                dir.display()
            );
        }
        log::info!(
            "opened tsdb at {}: {} blocks, {} head series, {} corrupt blocks set aside",
            dir.display(),
            blocks.len(),
            head.num_series(),
            corrupted.len()
        );
        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            opts,
            head,
            wal,
            exemplars,
            blocks: RwLock::new(blocks),
            counters,
            commit_lock: RwLock::new(()),
            maintenance: Mutex::new(()),
            corrupted: Mutex::new(corrupted),
            closed: AtomicBool::new(false),
            stop: Mutex::new(false),
            stop_cv: Condvar::new(),
        });
        let db = Arc::new(Db {
            inner: inner.clone(),
            threads: Mutex::new(Vec::new()),
        });
        db.spawn_threads();
        Ok(db)
    }

    fn spawn_threads(&self) {
        let mut threads = self.threads.lock();
        let fsync_every = Duration::from_millis(self.inner.opts.wal_fsync_interval_ms.max(1));
        let inner = self.inner.clone();
        threads.push(
            std::thread::Builder::new()
                .name("tsdb-wal-fsync".into())
                .spawn(move || {
                    while inner.sleep(fsync_every) {
                        if let Err(e) = inner.wal.sync() {
                            log::error!("wal fsync failed: {e}");
                        }
                    }
                })
                .expect("spawning a thread"),
        );
        if self.inner.opts.maintenance_interval_ms > 0 {
            let every = Duration::from_millis(self.inner.opts.maintenance_interval_ms);
            let inner = self.inner.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("tsdb-maintenance".into())
                    .spawn(move || {
                        while inner.sleep(every) {
                            if let Err(e) = inner.maintain() {
                                log::error!("tsdb maintenance failed: {e}");
                            }
                        }
                    })
                    .expect("spawning a thread"),
            );
        }
    }

    /// One round of maintenance, now: picks up blocks written into the
    /// directory by backfill, cuts the head into blocks while it spans more
    /// than 1.5 block ranges, compacts, and applies retention.
    pub fn run_maintenance_once(&self) -> Result<()> {
        self.inner.maintain()
    }

    /// Stops the background threads, fsyncs the WAL and refuses further
    /// appends. Idempotent; also runs on drop.
    pub fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        *self.inner.stop.lock() = true;
        self.inner.stop_cv.notify_all();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
        // Wait for in-flight commits before the final fsync.
        let _g = self.inner.commit_lock.write();
        Ok(self.inner.wal.sync()?)
    }

    /// The exemplar ring's numbers, for self-telemetry.
    pub fn exemplar_stats(&self) -> ExemplarStats {
        self.inner.exemplars.stats()
    }

    /// Resizes the exemplar ring (config reload), keeping the newest
    /// exemplars that fit; 0 turns exemplar storage off.
    pub fn set_max_exemplars(&self, n: usize) {
        self.inner.exemplars.resize(n);
    }

    /// The database directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// A snapshot of the engine's counters and sizes.
    pub fn stats(&self) -> DbStats {
        let i = &self.inner;
        i.sweep_damaged();
        let c = &i.counters;
        let blocks = i.blocks.read();
        let blocks_size: u64 = blocks.iter().map(|b| b.size_bytes).sum();
        let wal_size = i.wal.size_bytes();
        let w = i.wal.stats();
        DbStats {
            head_series: i.head.num_series(),
            head_chunks: i.head.num_chunks(),
            head_min_time: i.head.min_time(),
            head_max_time: i.head.max_time(),
            samples_appended_total: Counters::get(&c.samples_appended),
            out_of_order_samples_total: Counters::get(&c.out_of_order),
            out_of_bounds_samples_total: Counters::get(&c.out_of_bounds),
            duplicate_samples_total: Counters::get(&c.duplicate),
            out_of_order_accepted_total: Counters::get(&c.ooo_accepted),
            wal_fsyncs_total: w.fsyncs(),
            wal_fsync_duration_seconds_sum: w.fsync_nanos() as f64 / 1e9,
            wal_size_bytes: wal_size,
            wal_corruptions_total: w.corruptions(),
            wal_replayed_records: w.replayed_records(),
            compactions_total: Counters::get(&c.compactions),
            compaction_failures_total: Counters::get(&c.compaction_failures),
            head_truncations_total: Counters::get(&c.head_truncations),
            blocks_loaded: blocks.len() as u64,
            retention_deleted_blocks_total: Counters::get(&c.retention_deleted),
            corrupted_blocks: i.corrupted.lock().clone(),
            blocks_size_bytes: blocks_size,
            storage_size_bytes: blocks_size + wal_size,
        }
    }

    /// Approximate bytes held by head series data and symbols; used by the
    /// memory benchmark next to RSS.
    #[doc(hidden)]
    pub fn head_heap_estimate(&self) -> (usize, usize) {
        (
            self.inner.head.series_heap_bytes(),
            self.inner.head.num_symbols(),
        )
    }

    /// Metadata of the loaded blocks, oldest first.
    pub fn blocks(&self) -> Vec<crate::BlockMeta> {
        self.inner
            .blocks
            .read()
            .iter()
            .map(|b| b.meta.clone())
            .collect()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            log::error!("closing tsdb at {}: {e}", self.inner.dir.display());
        }
    }
}

impl Inner {
    /// Sleeps up to `d`; false when the database is stopping.
    fn sleep(&self, d: Duration) -> bool {
        let mut stop = self.stop.lock();
        if !*stop {
            self.stop_cv.wait_for(&mut stop, d);
        }
        !*stop
    }

    fn maintain(self: &Arc<Self>) -> Result<()> {
        let _m = self.maintenance.lock();
        self.sweep_damaged();
        self.reload_blocks()?;
        let mut guard = 0;
        while self.head_needs_cut() && guard < 1000 && !self.closed.load(Ordering::Relaxed) {
            guard += 1;
            if let Err(e) = self.cut_head() {
                Counters::inc(&self.counters.compaction_failures, 1);
                return Err(e);
            }
        }
        crate::compact::compact(self)?;
        crate::compact::apply_retention(self)
    }

    /// Opens block directories that appeared since the last look (backfill).
    fn reload_blocks(&self) -> Result<()> {
        let known: BTreeSet<String> = self
            .blocks
            .read()
            .iter()
            .map(|b| b.id().to_owned())
            .collect();
        let rd = std::fs::read_dir(&self.dir).map_err(|e| Error::io("read dir", &self.dir, e))?;
        let mut new = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if block::is_block_name(&name) && !known.contains(&name) && e.path().is_dir() {
                match Block::open(&e.path()) {
                    Ok(b) => new.push(Arc::new(b)),
                    Err(err) => self
                        .corrupted
                        .lock()
                        .push(block::quarantine(&e.path(), &err)),
                }
            }
        }
        if !new.is_empty() {
            self.add_blocks(new, &[]);
        }
        Ok(())
    }

    /// Swaps blocks in the list: adds `new`, drops those with ids in `gone`.
    pub(crate) fn add_blocks(&self, new: Vec<Arc<Block>>, gone: &[String]) {
        let mut blocks = self.blocks.write();
        blocks.retain(|b| !gone.iter().any(|g| g == b.id()));
        blocks.extend(new);
        blocks.sort_by(|a, b| {
            (a.meta.min_time, a.meta.max_time).cmp(&(b.meta.min_time, b.meta.max_time))
        });
    }

    /// Sets aside blocks that a lazy sample iterator found damaged.
    pub(crate) fn sweep_damaged(&self) {
        let damaged: Vec<Arc<Block>> = self
            .blocks
            .read()
            .iter()
            .filter(|b| b.is_damaged())
            .cloned()
            .collect();
        for b in damaged {
            let e = Error::corrupt(
                b.dir.join("chunks/000001"),
                0,
                "a chunk page failed its checks during a query",
            );
            self.set_aside(&b, &e);
        }
    }

    /// Removes a block that failed a read from service and moves it aside.
    pub(crate) fn set_aside(&self, b: &Block, err: &Error) {
        let mut blocks = self.blocks.write();
        let before = blocks.len();
        blocks.retain(|x| x.id() != b.id());
        if blocks.len() != before {
            drop(blocks);
            let name = block::quarantine(&b.dir, err);
            self.corrupted.lock().push(name);
        }
    }

    fn head_needs_cut(&self) -> bool {
        let (lo, hi) = (self.head.min_time(), self.head.max_time());
        lo != i64::MAX && hi != i64::MIN && hi.saturating_sub(lo) > self.opts.block_range_ms / 2 * 3
    }

    /// Writes the oldest block range of the head into a block, truncates the
    /// head, and checkpoints the WAL.
    fn cut_head(&self) -> Result<()> {
        let range = self.opts.block_range_ms;
        let start = self.head.min_time().div_euclid(range) * range;
        let end = start + range;
        {
            // The barrier first: once no commit is in flight, samples before
            // `end` are refused, so every sample acknowledged before `end`
            // is in the head when it is collected below. Without it a commit
            // landing between the collection and `truncate(end)` was
            // answered 2xx and then dropped with the head's old range (the
            // kill -9 fault test found it, issue 18).
            let _g = self.commit_lock.write();
            self.head.set_truncated_upto(end);
        }
        let mut w = block::writer::Writer::new(&self.dir, false)?;
        let mut buf = Vec::new();
        let mut hbuf = Vec::new();
        for (id, syms) in self.head.sorted_ids() {
            self.head.take_block_samples(id, end, &mut buf);
            self.head.block_histograms(id, end, &mut hbuf);
            if !buf.is_empty() || !hbuf.is_empty() {
                w.add_series(&self.head.labels_from_syms(&syms), &buf, &hbuf)?;
            }
        }
        if let Some(meta) = w.finish(1, Vec::new(), Some((start, end)))? {
            let b = Block::open(&self.dir.join(&meta.ulid))?;
            self.add_blocks(vec![Arc::new(b)], &[]);
            log::info!(
                "cut head [{start}, {end}) into block {} ({} series)",
                meta.ulid,
                meta.stats.num_series
            );
        }
        let upto = {
            let _g = self.commit_lock.write();
            self.wal.cut()?
        };
        self.head.truncate(end);
        let mut records = Vec::new();
        crate::wal::encode_truncated(&mut records, end);
        records.extend_from_slice(&self.head.checkpoint_records());
        self.checkpoint_exemplars(&mut records);
        self.wal.checkpoint(upto, &records)?;
        Counters::inc(&self.counters.head_truncations, 1);
        Counters::inc(&self.counters.compactions, 1);
        Ok(())
    }
}

impl Inner {
    /// Frames the exemplars of series still in the head, oldest first, for
    /// a checkpoint (those of series that left the head are not kept, as in
    /// Prometheus: their exemplars stay in memory until overwritten).
    fn checkpoint_exemplars(&self, out: &mut Vec<u8>) {
        let all = self.exemplars.all();
        let mut alive: HashMap<u32, bool> = HashMap::new();
        let mut scratch = Vec::new();
        let kept: Vec<_> = all
            .iter()
            .filter(|(id, series, _)| {
                *alive
                    .entry(*id)
                    .or_insert_with(|| self.head.labels_of(*id).as_ref() == Some(&**series))
            })
            .collect();
        for batch in kept.chunks(10_000) {
            crate::wal::encode_exemplars(
                out,
                &mut scratch,
                batch
                    .iter()
                    .map(|(id, _, e)| (u64::from(*id), e.t, e.value, &e.labels)),
            );
        }
    }
}

impl MetricAppender for Db {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(DbAppender::new(self.inner.clone()))
    }
}
