//! [`EventStore`]: opening (blocks, WAL replay into the head, the
//! de-duplication index), appending, cutting the head into day blocks,
//! retention, and the maintenance thread.

use crate::block::{self, Block, Provenance, WriteOpts};
use crate::dedupe::{self, Dedupe};
use crate::head::{DayRuns, Head};
use crate::model::{AppendReport, Event, EventAppender};
use crate::telemetry::{self, Counters, Gauges};
use crate::{walrec, Error, EventStoreOptions, Result};
use parking_lot::{Mutex, RwLock};
use sightline_core::telemetry::{Report, Telemetry};
use sightline_storage::{dir, layout, retention, wal};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar};
use std::time::{Duration, Instant};

/// The shared state behind an [`EventStore`] and its maintenance thread.
pub(crate) struct Inner {
    pub root: PathBuf,
    pub opts: EventStoreOptions,
    pub wal: wal::Wal,
    pub head: RwLock<Head>,
    /// When the oldest event not yet in a block was appended.
    pub head_since: Mutex<Option<Instant>>,
    /// Open blocks, by day then time.
    pub blocks: RwLock<Vec<Arc<Block>>>,
    /// Held across an append's check, WAL write and head insert, so two
    /// concurrent retries of one message cannot both be accepted.
    pub dedupe: Mutex<Dedupe>,
    pub counters: Arc<Counters>,
    /// One cut or compaction at a time.
    pub flush_lock: Mutex<()>,
    /// Names of blocks set aside as damaged since open.
    pub corrupted: Mutex<Vec<String>>,
}

/// The event store: implements [`EventAppender`] and
/// [`crate::model::EventScan`]. Dropping it stops the maintenance thread
/// and fsyncs the WAL; the head is rebuilt from the WAL at the next open.
pub struct EventStore {
    pub(crate) inner: Arc<Inner>,
    stop: Arc<(std::sync::Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

fn block_order(b: &Arc<Block>) -> (i64, i64, String) {
    (b.meta.day, b.meta.min_ts_ms, b.name())
}

impl EventStore {
    /// Opens (creating) the store in `dir`: removes what a crash left half
    /// written, opens the blocks (setting damaged ones aside as
    /// `<id>.corrupted`), replays the WAL into the head, rebuilds the
    /// de-duplication index and starts the maintenance thread.
    pub fn open(dir: &Path, opts: EventStoreOptions) -> Result<EventStore> {
        Ok(Self::open_without_maintenance(dir, opts)?.start_maintenance())
    }

    /// [`EventStore::open`] without the background thread: the caller
    /// calls [`EventStore::cut`], [`EventStore::maintain`] itself (tests,
    /// tools, the bench's loader).
    pub fn open_without_maintenance(root: &Path, opts: EventStoreOptions) -> Result<EventStore> {
        opts.validate()?;
        std::fs::create_dir_all(root).map_err(|e| Error::io("create dir", root, e))?;
        dir::cleanup_leftovers(root)?;
        let counters = Arc::new(Counters::default());
        let mut corrupted = Vec::new();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(|e| Error::io("read dir", root, e))?
            .flatten()
            .filter(|e| layout::is_dir_id(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        paths.sort();
        let mut blocks = Vec::new();
        for p in paths {
            match Block::open(&p) {
                Ok(b) => blocks.push(Arc::new(b)),
                Err(e) => {
                    counters.blocks_corrupted.fetch_add(1, Relaxed);
                    corrupted.push(dir::quarantine(&p, &e));
                }
            }
        }
        let blocks = settle_blocks(root, blocks)?;
        let window_ms = opts.dedupe_window.as_millis() as i64;
        let now = sightline_core::time::now_ms();
        let mut dd = Dedupe::default();
        let mut head = Head::default();
        let w = wal::Wal::open(
            &root.join(layout::WAL_DIR),
            wal::WalOptions {
                segment_size: opts.wal_segment_size,
                sync: opts.wal_sync.policy(),
            },
            Default::default(),
            |typ, body| {
                if typ != walrec::EVENTS {
                    log::warn!("event store wal: skipping a record of unknown type {typ}");
                    return true;
                }
                let Ok(events) = walrec::decode(body) else {
                    return false;
                };
                for e in events {
                    if window_ms > 0 {
                        dd.insert(dedupe::key(&e.source, &e.message_id), e.received_at_ms);
                    }
                    head.push(e);
                }
                true
            },
        )?;
        if window_ms > 0 {
            for b in blocks
                .iter()
                .filter(|b| b.meta.max_received_ms >= now - window_ms)
            {
                if let Err(e) = index_block(&mut dd, b, now - window_ms) {
                    log::error!("cannot read message ids of {}: {e}", b.dir.display());
                }
            }
        }
        let has = head.events > 0;
        Ok(EventStore {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                opts,
                wal: w,
                head: RwLock::new(head),
                head_since: Mutex::new(has.then(Instant::now)),
                blocks: RwLock::new(blocks),
                dedupe: Mutex::new(dd),
                counters,
                flush_lock: Mutex::new(()),
                corrupted: Mutex::new(corrupted),
            }),
            stop: Arc::new((std::sync::Mutex::new(false), Condvar::new())),
            thread: None,
        })
    }

    fn start_maintenance(mut self) -> EventStore {
        let inner = self.inner.clone();
        let stop = self.stop.clone();
        let every = inner.opts.maintenance_interval.std();
        let sync_every = inner
            .opts
            .wal_sync_interval
            .std()
            .max(Duration::from_millis(10));
        let spawned = std::thread::Builder::new()
            .name("eventstore-maint".into())
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
                        log::error!("event store wal sync: {e}");
                    }
                    if last.elapsed() >= every || inner.wal.size_bytes() >= inner.opts.head_cut_size
                    {
                        last = Instant::now();
                        if let Err(e) = inner.maintain() {
                            log::error!("event store maintenance: {e}");
                        }
                    }
                }
            });
        match spawned {
            Ok(t) => self.thread = Some(t),
            Err(e) => log::error!("cannot start the event store maintenance thread: {e}"),
        }
        self
    }

    /// fsyncs the WAL.
    pub fn sync(&self) -> Result<()> {
        Ok(self.inner.wal.sync()?)
    }

    /// Cuts every event in the head into day blocks and checkpoints the WAL.
    pub fn cut(&self) -> Result<()> {
        self.inner.cut()
    }

    /// One maintenance round: cut the head when due, merge days of several
    /// blocks, apply retention, expire de-duplication keys.
    pub fn maintain(&self) -> Result<()> {
        self.inner.maintain()
    }

    /// Merges one day's blocks into one; false when no day needed it.
    /// `all` merges the newest day too, however few blocks it has.
    pub fn compact(&self, all: bool) -> Result<bool> {
        self.inner.compact(all)
    }

    /// Blocks set aside as damaged since open (their new names).
    pub fn corrupted_blocks(&self) -> Vec<String> {
        self.inner.corrupted.lock().clone()
    }

    /// The store's counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.inner.counters
    }

    /// The open blocks' days (days since the epoch), one entry per block.
    pub fn block_days(&self) -> Vec<i64> {
        self.inner
            .blocks
            .read()
            .iter()
            .map(|b| b.meta.day)
            .collect()
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

    /// What a scan reads: the head's events by day and the blocks, taken
    /// together (head first) so no event is seen twice or missed while a
    /// cut publishes its blocks.
    pub(crate) fn snapshot(&self) -> (BTreeMap<i64, DayRuns>, Vec<Arc<Block>>) {
        let head = self.inner.head.read();
        let blocks = self.inner.blocks.read().clone();
        (head.snapshot(), blocks)
    }
}

/// Removes blocks a finished compaction superseded and blocks of a cut a
/// crash interrupted (the WAL still holds their events), and completes the
/// WAL checkpoint of a cut that finished.
fn settle_blocks(root: &Path, blocks: Vec<Arc<Block>>) -> Result<Vec<Arc<Block>>> {
    let superseded: HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.meta.compacted_from.iter().cloned())
        .collect();
    let wal_dir = root.join(layout::WAL_DIR);
    let checkpointed = std::fs::read_dir(&wal_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| layout::parse_checkpoint_name(&e.file_name().to_string_lossy()))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let mut parts: BTreeMap<&str, u32> = BTreeMap::new();
    for b in &blocks {
        if !b.meta.cut_id.is_empty() {
            *parts.entry(b.meta.cut_id.as_str()).or_default() += 1;
        }
    }
    let torn: HashSet<String> = blocks
        .iter()
        .filter(|b| {
            !b.meta.cut_id.is_empty()
                && b.meta.wal_upto > checkpointed
                && parts[b.meta.cut_id.as_str()] < b.meta.cut_parts
        })
        .map(|b| b.meta.cut_id.clone())
        .collect();
    let mut kept = Vec::new();
    for b in blocks {
        if superseded.contains(&b.name()) {
            log::warn!("removing {}: compacted into another block", b.dir.display());
            dir::remove(&b.dir)?;
        } else if torn.contains(&b.meta.cut_id) {
            log::warn!(
                "removing {}: its head cut did not finish; the WAL replays its events",
                b.dir.display()
            );
            dir::remove(&b.dir)?;
        } else {
            kept.push(b);
        }
    }
    let upto = kept
        .iter()
        .filter(|b| !torn.contains(&b.meta.cut_id))
        .map(|b| b.meta.wal_upto)
        .max()
        .unwrap_or(0);
    wal::finish_checkpoint(&wal_dir, upto)?;
    kept.sort_by_key(block_order);
    Ok(kept)
}

/// Adds the keys of `b`'s events received at or after `cutoff_ms`.
fn index_block(dd: &mut Dedupe, b: &Block, cutoff_ms: i64) -> Result<()> {
    let mut buf = Vec::new();
    for g in 0..b.groups.len() {
        let rows = b.groups[g].rows;
        let mut ts = Vec::with_capacity(rows);
        b.need(g, "ts", &mut buf)?;
        crate::codec::get_times(&buf, rows, &mut ts, "ts column")?;
        b.need(g, "received", &mut buf)?;
        let mut r = crate::codec::Reader::new(&buf, "received column");
        let mut received = Vec::with_capacity(rows);
        for t in &ts {
            received.push(t.wrapping_add(r.varint()?));
        }
        let (sdict, scodes) = b
            .dict(g, "source", &mut buf)?
            .ok_or_else(|| Error::corrupt(b.dir.display().to_string(), 0, "no source column"))?;
        let mut i = 0;
        b.ids(g, "message_id", &mut buf, |id| {
            if received[i] >= cutoff_ms {
                let src = match scodes[i] {
                    0 => "",
                    c => sdict[c as usize - 1].as_str(),
                };
                dd.insert(dedupe::key(src, id), received[i]);
            }
            i += 1;
            Ok(())
        })?;
    }
    Ok(())
}

impl Drop for EventStore {
    fn drop(&mut self) {
        let (lock, cv) = &*self.stop;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Err(e) = self.inner.wal.sync() {
            log::error!("event store wal sync at close: {e}");
        }
    }
}

impl EventAppender for EventStore {
    fn append(&self, events: Vec<Event>) -> Result<AppendReport> {
        for (i, e) in events.iter().enumerate() {
            if e.message_id.is_empty() {
                return Err(Error::bad(
                    format!("events[{i}].messageId"),
                    "must not be empty",
                ));
            }
        }
        let inner = &*self.inner;
        let window_ms = inner.opts.dedupe_window.as_millis() as i64;
        let now = sightline_core::time::now_ms();
        let mut report = AppendReport::default();
        let mut dd = inner.dedupe.lock();
        let mut keep = Vec::with_capacity(events.len());
        let mut keys = Vec::with_capacity(events.len());
        let mut in_batch: HashSet<u64> = HashSet::new();
        for e in events {
            if window_ms > 0 {
                let k = dedupe::key(&e.source, &e.message_id);
                if dd.contains(k, now, window_ms) || !in_batch.insert(k) {
                    report.duplicates += 1;
                    continue;
                }
                keys.push((k, e.received_at_ms));
            }
            keep.push(e);
        }
        inner
            .counters
            .duplicates
            .fetch_add(report.duplicates as u64, Relaxed);
        if keep.is_empty() {
            return Ok(report);
        }
        // The head lock is held across the WAL write: a cut (which closes
        // the WAL segment under it) then finds every event of the closed
        // segments in the head.
        let mut head = inner.head.write();
        inner.wal.log_with(|buf, scratch| {
            scratch.clear();
            walrec::encode(scratch, &keep);
            sightline_storage::record::frame(buf, walrec::EVENTS, scratch);
        })?;
        report.accepted = keep.len();
        for e in keep {
            head.push(e);
        }
        drop(head);
        for (k, r) in keys {
            dd.insert(k, r);
        }
        drop(dd);
        let mut since = inner.head_since.lock();
        if since.is_none() {
            *since = Some(Instant::now());
        }
        inner
            .counters
            .events_appended
            .fetch_add(report.accepted as u64, Relaxed);
        Ok(report)
    }
}

impl Inner {
    pub(crate) fn write_opts(&self, level: i32) -> WriteOpts {
        WriteOpts {
            level,
            row_group_rows: self.opts.row_group_rows,
            max_prop_columns: self.opts.max_prop_columns,
        }
    }

    pub(crate) fn cut(&self) -> Result<()> {
        let _one = self.flush_lock.lock();
        let (upto, frozen) = {
            let mut head = self.head.write();
            // A cut that failed earlier left its events frozen: they go
            // into this one.
            if let Some(f) = head.frozen.take() {
                for (d, runs) in f.iter() {
                    head.events += runs.iter().map(|r| r.len()).sum::<usize>();
                    head.live
                        .entry(*d)
                        .or_default()
                        .extend(runs.iter().cloned());
                }
            }
            if head.events == 0 {
                return Ok(());
            }
            let upto = self.wal.cut()?;
            let frozen = Arc::new(std::mem::take(&mut head.live));
            head.frozen = Some(frozen.clone());
            head.events = 0;
            *self.head_since.lock() = None;
            (upto, frozen)
        };
        let cut_id = layout::new_dir_id();
        let mut made = Vec::new();
        let level = self.opts.compression_level;
        for (&day, runs) in frozen.iter() {
            let events: Vec<Event> = runs.iter().flat_map(|r| r.iter().cloned()).collect();
            let from = Provenance {
                wal_upto: upto,
                cut_id: cut_id.clone(),
                cut_parts: frozen.len() as u32,
                compacted_from: Vec::new(),
            };
            let written = block::write(&self.root, day, events, &self.write_opts(level), from)
                .and_then(|path| Block::open(&path));
            match written {
                Ok(b) => made.push(Arc::new(b)),
                Err(e) => {
                    // The next cut takes these events again; blocks of this
                    // one must not stay beside its blocks.
                    for b in &made {
                        let _ = dir::remove(&b.dir);
                    }
                    return Err(e);
                }
            }
        }
        {
            let mut head = self.head.write();
            let mut blocks = self.blocks.write();
            blocks.extend(made);
            blocks.sort_by_key(block_order);
            head.frozen = None;
        }
        self.wal.checkpoint(upto, &[])?;
        self.counters.head_cuts.fetch_add(1, Relaxed);
        Ok(())
    }

    pub(crate) fn maintain(&self) -> Result<()> {
        let old = self
            .head_since
            .lock()
            .is_some_and(|i| i.elapsed() >= self.opts.head_cut_age.std());
        if old || self.wal.size_bytes() >= self.opts.head_cut_size {
            self.cut()?;
        }
        for _ in 0..4 {
            if !self.compact(false)? {
                break;
            }
        }
        self.apply_retention()?;
        let window_ms = self.opts.dedupe_window.as_millis() as i64;
        if window_ms > 0 {
            let cutoff = sightline_core::time::now_ms() - window_ms;
            self.dedupe.lock().expire(cutoff);
        }
        Ok(())
    }

    pub(crate) fn apply_retention(&self) -> Result<()> {
        let policy = retention::Policy {
            time_ms: self.opts.retention_time.as_millis() as i64,
            size_bytes: self.opts.retention_size,
        };
        let newest = self.head.read().newest().map_or(i64::MIN, |t| t + 1);
        let doomed: Vec<Arc<Block>> = {
            let mut blocks = self.blocks.write();
            let items: Vec<retention::Item> = blocks
                .iter()
                .map(|b| retention::Item {
                    max_time: b.meta.max_ts_ms + 1,
                    size_bytes: b.size_bytes,
                })
                .collect();
            let mut idx = retention::select(&items, policy, newest, self.wal.size_bytes());
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
            head_events: self.head.read().events as u64,
            wal_bytes: self.wal.size_bytes(),
            wal_corruptions: self.wal.stats().corruptions(),
            dedupe_keys: self.dedupe.lock().len() as u64,
            ..Gauges::default()
        };
        for b in self.blocks.read().iter() {
            g.blocks += 1;
            g.block_events += b.meta.rows;
            g.block_bytes += b.size_bytes;
        }
        g
    }
}

impl Telemetry for EventStore {
    fn report(&self, out: &mut Report) {
        telemetry::report(&self.inner.counters, self.inner.gauges(), out);
    }
}
