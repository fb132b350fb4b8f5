//! [`TraceStore`]: opening (blocks, then WAL replay into the head),
//! cutting the head into blocks, compaction, retention, and the
//! maintenance thread.

use crate::block::Block;
use crate::head::{self, Head, TenantHead};
use crate::telemetry::{self, Counters, Gauges};
use crate::write::BlockWriter;
use crate::{Error, Result, TraceStoreOptions};
use parking_lot::{Mutex, RwLock};
use sightline_core::telemetry::{Report, Telemetry};
use sightline_core::traces::Span;
use sightline_storage::{dir, layout, retention, wal};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar};
use std::time::{Duration, Instant};

/// A token bucket; a rate of 0 allows everything.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    tokens: f64,
    refilled: Option<Instant>,
}

impl Bucket {
    /// Takes `n`; false (taking nothing) when the bucket holds less.
    pub fn allow(&mut self, n: u64, rate: u64, burst: u64) -> bool {
        if rate == 0 {
            return true;
        }
        let now = Instant::now();
        let cap = burst.max(rate) as f64;
        self.tokens = match self.refilled {
            None => cap,
            Some(t) => (self.tokens + now.duration_since(t).as_secs_f64() * rate as f64).min(cap),
        };
        self.refilled = Some(now);
        if n as f64 > self.tokens {
            return false;
        }
        self.tokens -= n as f64;
        true
    }
}

/// A tenant's rate limiters (kept across head cuts).
#[derive(Debug, Default)]
pub(crate) struct Limits {
    pub bytes: Bucket,
    pub traces: Bucket,
}

/// What appends change: the head and the limiters, under one lock so
/// the WAL holds appends in the order the head applied them.
#[derive(Default)]
pub(crate) struct State {
    pub head: Head,
    pub limits: HashMap<String, Limits>,
}

/// A head being written into blocks: still read by queries until the
/// blocks replace it.
pub(crate) type Frozen = Arc<HashMap<String, TenantHead>>;

/// The shared state behind a [`TraceStore`] and its maintenance thread.
pub(crate) struct Inner {
    pub root: PathBuf,
    pub opts: TraceStoreOptions,
    pub wal: wal::Wal,
    pub state: RwLock<State>,
    pub frozen: RwLock<Vec<Frozen>>,
    pub blocks: RwLock<Vec<Arc<Block>>>,
    pub counters: Arc<Counters>,
    /// One head cut at a time.
    pub flush_lock: Mutex<()>,
    /// One compaction at a time.
    pub compact_lock: Mutex<()>,
    pub corrupted: Mutex<Vec<String>>,
}

/// The trace store: implements [`sightline_core::traces::TraceAppender`]
/// and [`sightline_core::traces::TraceQuerier`]. Dropping it stops its
/// maintenance thread and fsyncs the WAL; the head is rebuilt from the WAL
/// at the next open.
pub struct TraceStore {
    pub(crate) inner: Arc<Inner>,
    stop: Arc<(std::sync::Mutex<bool>, Condvar)>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for TraceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceStore")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl TraceStore {
    /// Opens (creating) the store in `root`: removes what a crash left
    /// half written, opens the blocks (setting damaged ones aside as
    /// `<id>.corrupted`), replays the WAL into the head and starts the
    /// maintenance thread.
    pub fn open(root: &Path, opts: TraceStoreOptions) -> Result<TraceStore> {
        Ok(Self::open_without_maintenance(root, opts)?.start_maintenance())
    }

    /// [`TraceStore::open`] without the background thread: the caller
    /// calls [`TraceStore::sync`], [`TraceStore::flush`] and
    /// [`TraceStore::maintain`] itself (tests, tools, the server's own
    /// scheduler).
    pub fn open_without_maintenance(root: &Path, opts: TraceStoreOptions) -> Result<TraceStore> {
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
        // beside the block that holds their spans.
        let superseded: std::collections::HashSet<String> = blocks
            .iter()
            .flat_map(|b| b.meta.compacted_from.iter().cloned())
            .collect();
        let (gone, blocks): (Vec<_>, Vec<_>) = blocks
            .into_iter()
            .partition(|b| superseded.contains(&b.name()));
        for b in gone {
            log::warn!("removing {}: compacted into another block", b.dir.display());
            dir::remove(&b.dir)?;
        }
        let wal_dir = root.join(layout::WAL_DIR);
        let upto = blocks.iter().map(|b| b.meta.wal_upto).max().unwrap_or(0);
        wal::finish_checkpoint(&wal_dir, upto)?;
        let mut st = State::default();
        let mut replay_err = None;
        let w = wal::Wal::open(
            &wal_dir,
            wal::WalOptions {
                segment_size: opts.wal_segment_size,
                sync: opts.wal_sync.policy(),
            },
            Default::default(),
            |typ, body| {
                if typ != head::REC_SPANS {
                    log::warn!("trace store wal: skipping a record of unknown type {typ}");
                    return true;
                }
                let Ok(rec) = head::decode_record(body) else {
                    return false;
                };
                if let Err(e) = st.head.insert(&rec) {
                    replay_err = Some(e);
                }
                true
            },
        )?;
        if let Some(e) = replay_err {
            return Err(e);
        }
        Ok(TraceStore {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                opts,
                wal: w,
                state: RwLock::new(st),
                frozen: RwLock::new(Vec::new()),
                blocks: RwLock::new(blocks),
                counters,
                flush_lock: Mutex::new(()),
                compact_lock: Mutex::new(()),
                corrupted: Mutex::new(corrupted),
            }),
            stop: Arc::new((std::sync::Mutex::new(false), Condvar::new())),
            threads: Vec::new(),
        })
    }

    /// Two threads: one fsyncs the WAL and cuts the head when due (every
    /// `wal_sync_interval`), the other compacts and applies retention
    /// (every `maintenance_interval`), so that a long merge never delays a
    /// cut and the head's memory stays bounded.
    fn start_maintenance(mut self) -> TraceStore {
        let tick = self
            .inner
            .opts
            .wal_sync_interval
            .std()
            .max(Duration::from_millis(10));
        let every = self.inner.opts.maintenance_interval.std();
        self.spawn("tracestore-cut", tick, |inner| {
            if let Err(e) = inner.wal.sync() {
                log::error!("trace store wal sync: {e}");
            }
            if inner.head_due() {
                if let Err(e) = inner.flush() {
                    log::error!("trace store head cut: {e}");
                }
            }
        });
        self.spawn("tracestore-compact", every, |inner| {
            if let Err(e) = inner.compact_and_expire() {
                log::error!("trace store maintenance: {e}");
            }
        });
        self
    }

    fn spawn(&mut self, name: &str, every: Duration, work: fn(&Inner)) {
        let inner = self.inner.clone();
        let stop = self.stop.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || loop {
                let (lock, cv) = &*stop;
                let g = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (g, _) = cv
                    .wait_timeout_while(g, every, |stopped| !*stopped)
                    .unwrap_or_else(|p| p.into_inner());
                if *g {
                    return;
                }
                drop(g);
                work(&inner);
            });
        match spawned {
            Ok(t) => self.threads.push(t),
            Err(e) => log::error!("cannot start the trace store thread {name}: {e}"),
        }
    }

    /// fsyncs the WAL.
    pub fn sync(&self) -> Result<()> {
        Ok(self.inner.wal.sync()?)
    }

    /// Writes every span in the head into blocks (one per tenant) and
    /// checkpoints the WAL.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }

    /// One maintenance round: cut the head when due, compact, apply
    /// retention.
    pub fn maintain(&self) -> Result<()> {
        self.inner.maintain()
    }

    /// Merges small blocks as maintenance does (four or more of one
    /// level); false when there was nothing to merge.
    pub fn compact(&self) -> Result<bool> {
        self.inner.compact()
    }

    /// Merges any two or more small blocks of a tenant, whatever their
    /// level (after a bulk load, in tools and tests); false when there was
    /// nothing to merge.
    pub fn compact_all(&self) -> Result<bool> {
        self.inner.compact_with(true)
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

    /// Bytes of blocks and WAL on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.inner
            .blocks
            .read()
            .iter()
            .map(|b| b.size_bytes)
            .sum::<u64>()
            + self.inner.wal.size_bytes()
    }
}

impl Drop for TraceStore {
    fn drop(&mut self) {
        let (lock, cv) = &*self.stop;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Err(e) = self.inner.wal.sync() {
            log::error!("trace store wal sync at close: {e}");
        }
    }
}

/// Spans of one trace gathered from several places, each span once (a
/// crash between two tenants' blocks of one cut replays spans a block
/// already holds).
pub(crate) fn dedup(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|a| (a.span_id, a.start_ns, a.end_ns));
    spans.dedup_by(|a, b| {
        a.span_id == b.span_id && a.start_ns == b.start_ns && a.end_ns == b.end_ns
    });
    spans
}

impl Inner {
    pub(crate) fn head_due(&self) -> bool {
        if !self.frozen.read().is_empty() {
            // A cut that failed is retried.
            return true;
        }
        let st = self.state.read();
        st.head.bytes() >= self.opts.max_block_bytes
            || st
                .head
                .since
                .is_some_and(|i| i.elapsed() >= self.opts.max_block_duration.std())
    }

    /// Cuts the head into blocks, one per tenant, then checkpoints the WAL.
    /// A head whose blocks failed to be written (a full disk) stays frozen,
    /// still read by queries and still covered by the WAL (no checkpoint is
    /// written past it), and is written again by the next cut.
    pub(crate) fn flush(&self) -> Result<()> {
        let _one = self.flush_lock.lock();
        let upto = {
            let mut st = self.state.write();
            if st.head.tenants.is_empty() && self.frozen.read().is_empty() {
                return Ok(());
            }
            // Under the head lock, with the WAL cut: every span in segments
            // up to `upto` is in the head taken here or in a frozen one.
            let upto = self.wal.cut()?;
            if !st.head.tenants.is_empty() {
                let tenants = std::mem::take(&mut st.head.tenants);
                st.head.since = None;
                self.frozen.write().push(Arc::new(tenants));
            }
            upto
        };
        let pending: Vec<Frozen> = self.frozen.read().clone();
        let mut made = Vec::new();
        for (k, frozen) in pending.iter().enumerate() {
            let mut names: Vec<&String> = frozen.keys().collect();
            names.sort();
            for (i, tenant) in names.iter().enumerate() {
                let th = &frozen[*tenant];
                let mut ids: Vec<_> = th.traces.keys().copied().collect();
                ids.sort_unstable();
                let mut w = BlockWriter::create(
                    &self.root,
                    tenant,
                    self.opts.compression_level,
                    self.opts.group_spans,
                )?;
                for id in ids {
                    w.add_trace(id, th.decode(&th.traces[&id])?)?;
                }
                // Only the last block of a cut names the WAL segment: a
                // crash before it replays the whole cut (duplicates are
                // dropped on read) rather than losing a tenant's spans.
                let last = k + 1 == pending.len() && i + 1 == names.len();
                if let Some(p) = w.finish(if last { upto } else { 0 }, Vec::new(), 0)? {
                    made.push(Arc::new(Block::open(&p)?));
                }
            }
        }
        {
            let mut fz = self.frozen.write();
            let mut blocks = self.blocks.write();
            blocks.extend(made);
            fz.retain(|f| !pending.iter().any(|p| Arc::ptr_eq(f, p)));
        }
        self.wal.checkpoint(upto, &[])?;
        self.counters.flushes.fetch_add(1, Relaxed);
        Ok(())
    }

    pub(crate) fn maintain(&self) -> Result<()> {
        if self.head_due() {
            self.flush()?;
        }
        self.compact_and_expire()
    }

    pub(crate) fn compact_and_expire(&self) -> Result<()> {
        for _ in 0..4 {
            if !self.compact()? {
                break;
            }
        }
        self.apply_retention()
    }

    /// Sets a block found damaged while reading aside.
    pub(crate) fn set_aside(&self, b: &Arc<Block>, e: &Error) {
        let mut blocks = self.blocks.write();
        let before = blocks.len();
        blocks.retain(|x| !Arc::ptr_eq(x, b));
        if blocks.len() < before {
            self.counters.blocks_corrupted.fetch_add(1, Relaxed);
            self.corrupted.lock().push(dir::quarantine(&b.dir, e));
        }
    }

    pub(crate) fn apply_retention(&self) -> Result<()> {
        let policy = retention::Policy {
            time_ms: self.opts.retention_time.as_millis() as i64,
            size_bytes: self.opts.retention_size,
        };
        let newest_ms = self
            .state
            .read()
            .head
            .newest_ns
            .map_or(i64::MIN, |ns| ns.div_euclid(1_000_000) + 1);
        let doomed: Vec<Arc<Block>> = {
            let mut blocks = self.blocks.write();
            let items: Vec<retention::Item> = blocks
                .iter()
                .map(|b| retention::Item {
                    max_time: b.meta.max_ns.div_euclid(1_000_000) + 1,
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
        let mut g = Gauges {
            wal_bytes: self.wal.size_bytes(),
            wal_corruptions: self.wal.stats().corruptions(),
            ..Gauges::default()
        };
        {
            let st = self.state.read();
            for t in st.head.tenants.values() {
                g.head_traces += t.traces.len() as u64;
                g.head_spans += t.spans;
                g.head_bytes += t.bytes;
            }
        }
        for b in self.blocks.read().iter() {
            g.blocks += 1;
            g.block_spans += b.meta.spans;
            g.block_bytes += b.size_bytes;
        }
        g
    }
}

impl Telemetry for TraceStore {
    fn report(&self, out: &mut Report) {
        telemetry::report(&self.inner.counters, self.inner.gauges(), out);
    }
}
