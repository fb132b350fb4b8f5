//! [`LogStore`]: opening (blocks, then WAL replay into the head), flushing
//! the head into blocks, retention, and the maintenance thread.

use crate::block::{self, Block, FlushSet};
use crate::head::Head;
use crate::telemetry::{self, Counters, Gauges};
use crate::walrec;
use crate::{Error, LogStoreOptions, Result};
use parking_lot::{Mutex, RwLock};
use sightline_core::telemetry::{Report, Telemetry};
use sightline_storage::{dir, layout, retention, wal};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar};
use std::time::{Duration, Instant};

/// The shared state behind a [`LogStore`] and its maintenance thread.
pub(crate) struct Inner {
    pub root: PathBuf,
    pub opts: LogStoreOptions,
    pub wal: wal::Wal,
    pub head: RwLock<Head>,
    /// When the oldest line not yet in a block was appended.
    pub head_since: Mutex<Option<Instant>>,
    pub blocks: RwLock<Vec<Arc<Block>>>,
    pub counters: Arc<Counters>,
    /// One flush or compaction at a time.
    pub flush_lock: Mutex<()>,
    /// Names of blocks set aside as damaged since open.
    pub corrupted: Mutex<Vec<String>>,
}

/// The log store: implements [`sightline_core::logs::LogAppender`] and
/// [`sightline_core::logs::LogQuerier`]. Dropping it stops its maintenance
/// thread and fsyncs the WAL; the head is rebuilt from the WAL at the next
/// open.
pub struct LogStore {
    pub(crate) inner: Arc<Inner>,
    stop: Arc<(std::sync::Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl LogStore {
    /// Opens (creating) the store in `root`: removes what a crash left
    /// half written, opens the blocks (setting damaged ones aside as
    /// `<id>.corrupted`), replays the WAL into the head and starts the
    /// maintenance thread.
    pub fn open(root: &Path, opts: LogStoreOptions) -> Result<LogStore> {
        let store = Self::open_without_maintenance(root, opts)?;
        Ok(store.start_maintenance())
    }

    /// [`LogStore::open`] without the background thread: the caller calls
    /// [`LogStore::sync`], [`LogStore::flush`] and [`LogStore::maintain`]
    /// itself (tests, tools).
    pub fn open_without_maintenance(root: &Path, opts: LogStoreOptions) -> Result<LogStore> {
        opts.validate()?;
        std::fs::create_dir_all(root).map_err(|e| Error::io("create dir", root, e))?;
        dir::cleanup_leftovers(root)?;
        let counters = Arc::new(Counters::default());
        let mut blocks = Vec::new();
        let mut corrupted = Vec::new();
        let mut names: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(|e| Error::io("read dir", root, e))?
            .flatten()
            .filter(|e| layout::is_dir_id(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        names.sort();
        for p in names {
            match Block::open(&p) {
                Ok(b) => blocks.push(Arc::new(b)),
                Err(e) => {
                    counters.blocks_corrupted.fetch_add(1, Relaxed);
                    corrupted.push(dir::quarantine(&p, &e));
                }
            }
        }
        // A compaction that died before removing its sources left them
        // beside the block that holds their lines.
        let superseded: std::collections::HashSet<String> = blocks
            .iter()
            .flat_map(|b| b.meta.compacted_from.iter().cloned())
            .collect();
        let (gone, kept): (Vec<_>, Vec<_>) = blocks
            .into_iter()
            .partition(|b| superseded.contains(&b.name()));
        let blocks = kept;
        for b in gone {
            log::warn!("removing {}: compacted into another block", b.dir.display());
            dir::remove(&b.dir)?;
        }
        let wal_dir = root.join(layout::WAL_DIR);
        let upto = blocks.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0);
        wal::finish_checkpoint(&wal_dir, upto)?;
        let mut head = Head::default();
        let mut replay_err = None;
        let level = opts.compression_level;
        let target = opts.chunk_target_size;
        let w = wal::Wal::open(
            &wal_dir,
            wal::WalOptions {
                segment_size: opts.wal_segment_size,
                sync: opts.wal_sync.policy(),
            },
            Default::default(),
            |typ, body| {
                if typ != walrec::PUSH {
                    log::warn!("log store wal: skipping a record of unknown type {typ}");
                    return true;
                }
                let Ok(p) = walrec::decode_push(body) else {
                    return false;
                };
                let t = head.tenants.entry(p.tenant).or_default();
                for (labels, entries) in p.streams {
                    let id = t.get_or_create(&labels);
                    let s = t.streams.get_mut(&id).expect("just made");
                    for e in entries {
                        if !s.is_duplicate(&e) {
                            s.insert(e);
                        }
                        if s.open_bytes >= target {
                            if let Err(e) = s.cut(level) {
                                replay_err = Some(e);
                            }
                        }
                    }
                }
                true
            },
        )?;
        if let Some(e) = replay_err {
            return Err(e);
        }
        let has_lines = head.newest().is_some();
        Ok(LogStore {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                opts,
                wal: w,
                head: RwLock::new(head),
                head_since: Mutex::new(has_lines.then(Instant::now)),
                blocks: RwLock::new(blocks),
                counters,
                flush_lock: Mutex::new(()),
                corrupted: Mutex::new(corrupted),
            }),
            stop: Arc::new((std::sync::Mutex::new(false), Condvar::new())),
            thread: None,
        })
    }

    fn start_maintenance(mut self) -> LogStore {
        let inner = self.inner.clone();
        let stop = self.stop.clone();
        let every = inner.opts.maintenance_interval.std();
        let sync_every = inner
            .opts
            .wal_sync_interval
            .std()
            .max(Duration::from_millis(10));
        let spawned = std::thread::Builder::new()
            .name("logstore-maint".into())
            .spawn(move || {
                let mut last = Instant::now();
                loop {
                    let (lock, cv) = &*stop;
                    let g = lock.lock().unwrap_or_else(|p| p.into_inner());
                    let (g, _) = cv
                        .wait_timeout(g, sync_every.min(every))
                        .unwrap_or_else(|p| p.into_inner());
                    if *g {
                        return;
                    }
                    drop(g);
                    if let Err(e) = inner.wal.sync() {
                        log::error!("log store wal sync: {e}");
                    }
                    // A full WAL is flushed at the next tick, not at the
                    // next maintenance round: at 10 MB/s a 10 s round
                    // would let the head grow far past `flush_wal_size`.
                    if last.elapsed() >= every
                        || inner.wal.size_bytes() >= inner.opts.flush_wal_size
                    {
                        last = Instant::now();
                        if let Err(e) = inner.maintain() {
                            log::error!("log store maintenance: {e}");
                        }
                    }
                }
            });
        match spawned {
            Ok(t) => self.thread = Some(t),
            Err(e) => log::error!("cannot start the log store maintenance thread: {e}"),
        }
        self
    }

    /// fsyncs the WAL.
    pub fn sync(&self) -> Result<()> {
        Ok(self.inner.wal.sync()?)
    }

    /// Writes every line in the head into a new block and checkpoints the
    /// WAL.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }

    /// One maintenance round: cut old chunks, flush when due, apply
    /// retention.
    pub fn maintain(&self) -> Result<()> {
        self.inner.maintain()
    }

    /// Merges small blocks (see [`crate::LogStoreOptions::compact_block_size`]);
    /// false when there was nothing to merge.
    pub fn compact(&self) -> Result<bool> {
        self.inner.compact()
    }

    /// Blocks set aside as damaged since open (their new names).
    pub fn corrupted_blocks(&self) -> Vec<String> {
        self.inner.corrupted.lock().clone()
    }

    /// The store's counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.inner.counters
    }

    /// The number of blocks open.
    pub fn block_count(&self) -> usize {
        self.inner.blocks.read().len()
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        let (lock, cv) = &*self.stop;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Err(e) = self.inner.wal.sync() {
            log::error!("log store wal sync at close: {e}");
        }
    }
}

impl Inner {
    pub(crate) fn flush(&self) -> Result<()> {
        let _one = self.flush_lock.lock();
        let level = self.opts.compression_level;
        /// What a flush took from one stream.
        struct Taken {
            tenant: String,
            id: u64,
            labels: sightline_core::Labels,
            closed: Vec<Arc<crate::chunk::Chunk>>,
            frozen: Vec<Arc<Vec<sightline_core::logs::LogEntry>>>,
        }
        let mut taken: Vec<Taken> = Vec::new();
        let upto = {
            let mut head = self.head.write();
            // Under the head lock, together with the WAL cut: every line in
            // segments up to `upto` is in a closed chunk or a frozen open
            // chunk taken here. Freezing moves a vector; compressing it
            // happens below, without the lock, so appends do not wait.
            let upto = self.wal.cut()?;
            for (tenant, t) in head.tenants.iter_mut() {
                for (&id, s) in t.streams.iter_mut() {
                    s.freeze();
                    if s.closed.is_empty() && s.frozen.is_empty() {
                        continue;
                    }
                    taken.push(Taken {
                        tenant: tenant.clone(),
                        id,
                        labels: s.labels.clone(),
                        closed: s.closed.clone(),
                        frozen: s.frozen.clone(),
                    });
                }
            }
            *self.head_since.lock() = None;
            upto
        };
        if !taken.is_empty() {
            let mut set: FlushSet = FlushSet::new();
            for t in &taken {
                let mut chunks = t.closed.clone();
                for f in &t.frozen {
                    chunks.push(Arc::new(crate::chunk::build(f, level)?));
                    self.counters.chunks_cut.fetch_add(1, Relaxed);
                }
                set.entry(t.tenant.clone())
                    .or_default()
                    .push((t.labels.clone(), chunks));
            }
            let path = block::write(&self.root, &set, upto, Vec::new())?;
            let b = Arc::new(Block::open(&path)?);
            // Readers take the head lock before the block list, so they see
            // the lines either in the head or in the block, never both or
            // neither.
            let mut head = self.head.write();
            for t in taken {
                if let Some(s) = head
                    .tenants
                    .get_mut(&t.tenant)
                    .and_then(|x| x.streams.get_mut(&t.id))
                {
                    s.closed.drain(..t.closed.len());
                    s.frozen
                        .retain(|f| !t.frozen.iter().any(|g| Arc::ptr_eq(f, g)));
                }
            }
            // Streams with nothing left and no line for `max_chunk_age`
            // leave the head (their out-of-order and duplicate state with
            // them, as Loki drops idle streams after flushing them).
            let idle = self.opts.max_chunk_age.std();
            for t in head.tenants.values_mut() {
                t.streams
                    .retain(|_, s| !(s.is_empty() && s.last_insert.elapsed() >= idle));
            }
            head.tenants.retain(|_, t| !t.streams.is_empty());
            self.blocks.write().push(b);
        }
        self.wal.checkpoint(upto, &[])?;
        self.counters.flushes.fetch_add(1, Relaxed);
        Ok(())
    }

    pub(crate) fn maintain(&self) -> Result<()> {
        let max_age = self.opts.max_chunk_age.std();
        {
            let mut head = self.head.write();
            for t in head.tenants.values_mut() {
                for s in t.streams.values_mut() {
                    if s.open_since.is_some_and(|i| i.elapsed() >= max_age)
                        && s.cut(self.opts.compression_level)?.is_some()
                    {
                        self.counters.chunks_cut.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        let old = self
            .head_since
            .lock()
            .is_some_and(|i| i.elapsed() >= max_age);
        if old || self.wal.size_bytes() >= self.opts.flush_wal_size {
            self.flush()?;
        }
        self.apply_retention()?;
        for _ in 0..crate::compact::MAX_PER_ROUND {
            if !self.compact()? {
                break;
            }
        }
        Ok(())
    }

    pub(crate) fn apply_retention(&self) -> Result<()> {
        let policy = retention::Policy {
            time_ms: self.opts.retention_time.as_millis() as i64,
            size_bytes: self.opts.retention_size,
        };
        let newest_ms = self
            .head
            .read()
            .newest()
            .map_or(i64::MIN, |ns| ns.div_euclid(1_000_000) + 1);
        let doomed: Vec<Arc<Block>> = {
            let mut blocks = self.blocks.write();
            let items: Vec<retention::Item> = blocks
                .iter()
                .map(|b| retention::Item {
                    max_time: b.meta.max_ts_ns.div_euclid(1_000_000) + 1,
                    size_bytes: b.size_bytes,
                })
                .collect();
            let mut idx = retention::select(&items, policy, newest_ms, self.wal.size_bytes());
            idx.sort_unstable_by(|a, b| b.cmp(a));
            idx.into_iter().map(|i| blocks.remove(i)).collect()
        };
        for b in doomed {
            self.counters.blocks_deleted.fetch_add(1, Relaxed);
            dir::remove(&b.dir)?;
        }
        Ok(())
    }

    fn gauges(&self) -> Gauges {
        let (s, c, open, raw, comp) = self.head.read().counts();
        let mut g = Gauges {
            head_streams: s,
            head_chunks: c,
            head_open_bytes: open,
            head_chunk_raw_bytes: raw,
            head_chunk_compressed_bytes: comp,
            wal_bytes: self.wal.size_bytes(),
            wal_corruptions: self.wal.stats().corruptions(),
            ..Gauges::default()
        };
        for b in self.blocks.read().iter() {
            g.blocks += 1;
            g.block_chunks += b.meta.chunks;
            g.block_raw_bytes += b.meta.raw_bytes;
            g.block_bytes += b.size_bytes;
        }
        g
    }
}

impl Telemetry for LogStore {
    fn report(&self, out: &mut Report) {
        telemetry::report(&self.inner.counters, self.inner.gauges(), out);
    }
}
