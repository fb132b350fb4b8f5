//! The head: per tenant, the streams written since the last flush, each
//! with an open chunk of plain lines and the closed (compressed) chunks cut
//! from it. Everything here is also in the WAL.

use crate::chunk::{self, Chunk};
use crate::Result;
use sightline_core::logs::LogEntry;
use sightline_core::Labels;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// A token bucket of bytes: `rate` per second, holding at most
/// `max(burst, rate)`, full when first used.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    tokens: f64,
    refilled: Option<Instant>,
}

impl Bucket {
    /// Takes `bytes`; false (taking nothing) when the bucket holds less.
    /// A rate of 0 allows everything.
    pub fn allow(&mut self, bytes: u64, rate: u64, burst: u64) -> bool {
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
        if bytes as f64 > self.tokens {
            return false;
        }
        self.tokens -= bytes as f64;
        true
    }
}

/// One stream's unflushed lines.
pub(crate) struct StreamHead {
    pub labels: Labels,
    /// Newest line accepted (survives flushes: the out-of-order window
    /// counts back from it).
    pub max_ts: i64,
    /// Lines not yet compressed, sorted by time (equal times in arrival
    /// order).
    pub open: Vec<LogEntry>,
    pub open_bytes: u64,
    /// When the open chunk got its first line (wall clock).
    pub open_since: Option<Instant>,
    /// Compressed chunks not yet in a block, in the order cut.
    pub closed: Vec<Arc<Chunk>>,
    /// Open chunks a flush took and is compressing into a block (still
    /// read from here until the block is in place).
    pub frozen: Vec<Arc<Vec<LogEntry>>>,
    /// When a line was last added (idle streams leave the head).
    pub last_insert: Instant,
    /// The per-stream rate limit.
    pub rate: Bucket,
}

impl StreamHead {
    fn new(labels: Labels) -> Self {
        StreamHead {
            labels,
            max_ts: i64::MIN,
            open: Vec::new(),
            open_bytes: 0,
            open_since: None,
            closed: Vec::new(),
            frozen: Vec::new(),
            last_insert: Instant::now(),
            rate: Bucket::default(),
        }
    }

    /// Whether the open chunk already holds a line with this time and text.
    pub fn is_duplicate(&self, e: &LogEntry) -> bool {
        let Some(last) = self.open.last() else {
            return false;
        };
        if e.ts_ns > last.ts_ns {
            return false;
        }
        let from = self.open.partition_point(|x| x.ts_ns < e.ts_ns);
        self.open[from..]
            .iter()
            .take_while(|x| x.ts_ns == e.ts_ns)
            .any(|x| x.line == e.line)
    }

    /// Adds a line (not a duplicate: callers check) in time order.
    pub fn insert(&mut self, e: LogEntry) {
        self.open_bytes += e.line.len() as u64;
        self.max_ts = self.max_ts.max(e.ts_ns);
        let now = Instant::now();
        if self.open_since.is_none() {
            self.open_since = Some(now);
        }
        self.last_insert = now;
        if self.open.last().is_none_or(|l| l.ts_ns <= e.ts_ns) {
            self.open.push(e);
        } else {
            let at = self.open.partition_point(|x| x.ts_ns <= e.ts_ns);
            self.open.insert(at, e);
        }
    }

    /// Compresses the open chunk into a closed one.
    pub fn cut(&mut self, level: i32) -> Result<Option<Arc<Chunk>>> {
        if self.open.is_empty() {
            return Ok(None);
        }
        let c = Arc::new(chunk::build(&self.open, level)?);
        self.open.clear();
        self.open_bytes = 0;
        self.open_since = None;
        self.closed.push(c.clone());
        Ok(Some(c))
    }

    /// Hands the open chunk to a flush (see `frozen`).
    pub fn freeze(&mut self) {
        if !self.open.is_empty() {
            self.frozen.push(Arc::new(std::mem::take(&mut self.open)));
            self.open_bytes = 0;
            self.open_since = None;
        }
    }

    /// Whether the stream holds no line.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty() && self.closed.is_empty() && self.frozen.is_empty()
    }

    /// Oldest and newest line held (open, frozen and closed), if any.
    pub fn bounds(&self) -> Option<(i64, i64)> {
        let mut b: Option<(i64, i64)> = None;
        let mut add = |lo: i64, hi: i64| {
            b = Some(b.map_or((lo, hi), |(a, z)| (a.min(lo), z.max(hi))));
        };
        if let (Some(f), Some(l)) = (self.open.first(), self.open.last()) {
            add(f.ts_ns, l.ts_ns);
        }
        for c in &self.closed {
            add(c.meta.min_ts, c.meta.max_ts);
        }
        for f in &self.frozen {
            if let (Some(a), Some(z)) = (f.first(), f.last()) {
                add(a.ts_ns, z.ts_ns);
            }
        }
        b
    }
}

/// A tenant's streams by stream id ([`Labels::stable_hash`]; a colliding
/// label set takes the next free id).
#[derive(Default)]
pub(crate) struct TenantHead {
    pub streams: HashMap<u64, StreamHead>,
    /// The tenant's ingestion rate limit.
    pub rate: Bucket,
}

impl TenantHead {
    /// The id of `labels`, if the stream exists.
    pub fn find(&self, labels: &Labels) -> Option<u64> {
        let mut id = labels.stable_hash();
        loop {
            match self.streams.get(&id) {
                None => return None,
                Some(s) if s.labels == *labels => return Some(id),
                Some(_) => id = id.wrapping_add(1),
            }
        }
    }

    /// The id of `labels`, creating the stream.
    pub fn get_or_create(&mut self, labels: &Labels) -> u64 {
        let mut id = labels.stable_hash();
        loop {
            match self.streams.get(&id) {
                None => {
                    self.streams.insert(id, StreamHead::new(labels.clone()));
                    return id;
                }
                Some(s) if s.labels == *labels => return id,
                Some(_) => id = id.wrapping_add(1),
            }
        }
    }
}

/// All tenants' heads.
#[derive(Default)]
pub(crate) struct Head {
    pub tenants: HashMap<String, TenantHead>,
}

impl Head {
    /// Counts for telemetry: streams, closed chunks, open bytes, closed
    /// raw and compressed bytes.
    pub fn counts(&self) -> (u64, u64, u64, u64, u64) {
        let (mut s, mut c, mut open, mut raw, mut comp) = (0, 0, 0, 0, 0);
        for t in self.tenants.values() {
            for st in t.streams.values() {
                s += 1;
                open += st.open_bytes;
                open += st
                    .frozen
                    .iter()
                    .flat_map(|f| f.iter())
                    .map(|e| e.line.len() as u64)
                    .sum::<u64>();
                for ch in &st.closed {
                    c += 1;
                    raw += ch.meta.raw_bytes;
                    comp += ch.data.len() as u64;
                }
            }
        }
        (s, c, open, raw, comp)
    }

    /// The newest line in the head, over all tenants.
    pub fn newest(&self) -> Option<i64> {
        self.tenants
            .values()
            .flat_map(|t| t.streams.values())
            .filter_map(|s| s.bounds().map(|b| b.1))
            .max()
    }
}
