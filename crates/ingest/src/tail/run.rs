//! Driving a [`Tailer`]: poll every 250 ms, expand globs every
//! `sync_period`, cut batches by size or age, hand them to a [`LogSink`]
//! and advance positions only for what the sink acknowledged; write the
//! positions file after every acknowledged batch, every
//! `positions.sync_period` and on shutdown.
//!
//! Batches go out one at a time and the tailer waits for each: a receiver
//! that refuses or is down holds the tailer back (nothing is read ahead of
//! what can be delivered), so memory stays bounded and no line is skipped.

use super::stages::{Entry, TailMetrics};
use super::tailer::Tailer;
use crate::loki::decode::StreamLabels;
use crate::loki::{push_streams, PushLimits, RawStream};
use sightline_core::logs::{LogAppender, LogEntry, DEFAULT_TENANT};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The lines of one stream in a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct TailStream {
    /// Set by a `tenant` stage; else the sink's default.
    pub tenant: Option<String>,
    pub labels: Vec<(String, String)>,
    pub entries: Vec<LogEntry>,
}

/// Where batches go. `send` returns true once the batch is acknowledged
/// (kept, or refused for good as invalid); false only when `cancel` fired
/// before that, and then positions stay where they were.
pub trait LogSink: Send + Sync {
    fn send<'a>(
        &'a self,
        batch: &'a [TailStream],
        cancel: &'a CancellationToken,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>>;
}

/// Timing of the tailer.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// How often files are looked at (250 ms).
    pub poll_interval: Duration,
    /// How often globs are expanded again (`target_config.sync_period`).
    pub target_sync: Duration,
    /// How often the positions file is written (`positions.sync_period`).
    pub positions_sync: Duration,
    /// The longest a line waits for its batch (`batchwait`).
    pub batch_wait: Duration,
    /// Bytes of lines that make a batch full (`batchsize`).
    pub batch_bytes: usize,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            poll_interval: Duration::from_millis(250),
            target_sync: Duration::from_secs(10),
            positions_sync: Duration::from_secs(10),
            batch_wait: Duration::from_millis(250),
            batch_bytes: 1 << 20,
        }
    }
}

/// A stream in a batch: tenant and labels.
type StreamKey = (Option<String>, Vec<(String, String)>);

/// Groups entries into streams by tenant and labels, keeping line order.
pub fn group(entries: Vec<Entry>) -> Vec<TailStream> {
    let mut idx: BTreeMap<StreamKey, usize> = BTreeMap::new();
    let mut out: Vec<TailStream> = Vec::new();
    for e in entries {
        let labels: Vec<(String, String)> = e.labels.into_iter().collect();
        let key = (e.tenant.clone(), labels);
        let i = *idx.entry(key.clone()).or_insert_with(|| {
            out.push(TailStream {
                tenant: key.0.clone(),
                labels: key.1.clone(),
                entries: Vec::new(),
            });
            out.len() - 1
        });
        out[i].entries.push(LogEntry {
            ts_ns: e.ts_ns,
            line: e.line,
            metadata: e.metadata,
        });
    }
    out
}

/// Cuts `entries` into batches of about `max_bytes` of lines (a line
/// longer than that is a batch of its own).
pub fn split(entries: Vec<Entry>, max_bytes: usize) -> Vec<Vec<Entry>> {
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let mut cur: Vec<Entry> = Vec::new();
    let mut bytes = 0;
    for e in entries {
        if !cur.is_empty() && bytes + e.line.len() > max_bytes {
            out.push(std::mem::take(&mut cur));
            bytes = 0;
        }
        bytes += e.line.len();
        cur.push(e);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Runs `tailer` until `cancel`, then sends what is left once and writes
/// the positions file.
pub async fn run(
    tailer: Tailer,
    opts: TailOptions,
    sink: Arc<dyn LogSink>,
    metrics: Arc<TailMetrics>,
    cancel: CancellationToken,
) {
    let mut tailer = Some(tailer);
    let mut pending: Vec<Entry> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut marks: Vec<(PathBuf, Option<u64>)> = Vec::new();
    let mut first_at: Option<Instant> = None;
    let mut last_sync: Option<Instant> = None;
    let mut last_save = Instant::now();
    loop {
        let mut save_now = false;
        let stopping = cancel.is_cancelled();
        let now = Instant::now();
        let sync = last_sync.is_none_or(|t| now.duration_since(t) >= opts.target_sync);
        if sync {
            last_sync = Some(now);
        }
        let Some(mut t) = tailer.take() else { return };
        let (t, polled) = match tokio::task::spawn_blocking(move || {
            if sync {
                t.sync_targets();
            }
            let p = t.poll(Instant::now(), stopping);
            (t, p)
        })
        .await
        {
            Ok(x) => x,
            Err(e) => {
                tracing::error!("tailer poll failed: {e}");
                return;
            }
        };
        tailer = Some(t);
        let Some(t) = tailer.as_mut() else { return };
        if !polled.entries.is_empty() && first_at.is_none() {
            first_at = Some(now);
        }
        pending_bytes += polled.entries.iter().map(|e| e.line.len()).sum::<usize>();
        pending.extend(polled.entries);
        marks.extend(polled.marks);
        let due = first_at.is_some_and(|f| now.duration_since(f) >= opts.batch_wait);
        if pending.is_empty() {
            // Everything before these marks is acknowledged already.
            t.acknowledge(&marks);
            marks.clear();
        } else if stopping || due || pending_bytes >= opts.batch_bytes {
            let n = pending.len();
            let bytes = pending_bytes;
            let batches = split(std::mem::take(&mut pending), opts.batch_bytes);
            pending_bytes = 0;
            first_at = None;
            let mut ok = true;
            for b in batches {
                if !sink.send(&group(b), &cancel).await {
                    ok = false;
                    break;
                }
            }
            if ok {
                t.acknowledge(&marks);
                // Written at once, not at the next sync_period: a kill -9
                // then repeats at most the batch in flight.
                save_now = true;
                metrics.add("promtail_sent_entries", &[], n as f64);
                metrics.add("promtail_sent_bytes", &[], bytes as f64);
            } else {
                tracing::warn!(
                    lines = n,
                    "shutting down with an unacknowledged batch: its lines will be read again"
                );
            }
            marks.clear();
        }
        if save_now || stopping || last_save.elapsed() >= opts.positions_sync {
            last_save = Instant::now();
            let Some(mut t) = tailer.take() else { return };
            let t = tokio::task::spawn_blocking(move || {
                if let Err(e) = t.positions.save() {
                    tracing::error!("writing the positions file: {e}");
                }
                t
            })
            .await;
            match t {
                Ok(t) => tailer = Some(t),
                Err(_) => return,
            }
        }
        if stopping {
            return;
        }
        if !polled.more {
            tokio::select! {
                _ = tokio::time::sleep(opts.poll_interval) => {}
                _ = cancel.cancelled() => {}
            }
        }
    }
}

/// Appends straight into a store (`serve`), validated as a push is: a
/// batch refused for a limit (429) or a store failure is retried until
/// it is kept or the server stops; lines refused as invalid are dropped
/// (and counted), as Promtail drops a batch Loki answers 400.
pub struct AppenderSink {
    pub appender: Arc<dyn LogAppender>,
    pub limits: PushLimits,
    pub metrics: Arc<TailMetrics>,
}

impl LogSink for AppenderSink {
    fn send<'a>(
        &'a self,
        batch: &'a [TailStream],
        cancel: &'a CancellationToken,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(async move {
            let mut tenants: BTreeMap<String, Vec<RawStream>> = BTreeMap::new();
            for s in batch {
                tenants
                    .entry(s.tenant.clone().unwrap_or_else(|| DEFAULT_TENANT.into()))
                    .or_default()
                    .push(RawStream {
                        labels: StreamLabels::Pairs(s.labels.clone()),
                        entries: s.entries.clone(),
                    });
            }
            for (tenant, streams) in tenants {
                let mut wait = Duration::from_millis(250);
                loop {
                    let (a, l, tn, st) = (
                        self.appender.clone(),
                        self.limits.clone(),
                        tenant.clone(),
                        streams.clone(),
                    );
                    let out = tokio::task::spawn_blocking(move || {
                        push_streams(st, &tn, &l, super::tailer::now_ns(), a.as_ref())
                    })
                    .await;
                    let status = out.as_ref().map(|o| o.status).unwrap_or(500);
                    if let Ok(o) = &out {
                        if o.invalid_lines > 0 {
                            self.metrics.add(
                                "promtail_dropped_entries",
                                &[("reason", "invalid")],
                                o.invalid_lines as f64,
                            );
                            tracing::warn!(status, "tailed lines refused: {}", o.message);
                        }
                    }
                    if status < 300 || status == 400 {
                        break;
                    }
                    tracing::warn!(
                        status,
                        "the log store did not keep a batch; retrying in {wait:?}"
                    );
                    self.metrics.add("promtail_batch_retries", &[], 1.0);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => return false,
                    }
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
            true
        })
    }
}
