//! A batching log processor on the caller's tokio runtime.
//!
//! Why not the SDK's: its thread-based `BatchLogProcessor` runs the exporter
//! outside tokio, where the async reqwest client cannot run, and its
//! `log_processor_with_async_runtime` variant (0.30, experimental) never
//! handed our records to the exporter in our tests. This one is the same
//! idea in a few lines: a bounded queue (records beyond it are dropped, as the
//! SDK does), a task that exports every 2 s or every 256 records, and a
//! shutdown that flushes.

use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, LogProcessor, SdkLogRecord};
use opentelemetry_sdk::Resource;
use std::sync::mpsc as reply;

use tokio::sync::mpsc;

const QUEUE: usize = 1024;
const BATCH: usize = 256;
const DELAY: Duration = Duration::from_secs(2);
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

enum Msg {
    Record(Box<(SdkLogRecord, InstrumentationScope)>),
    Resource(Resource),
    Flush(reply::SyncSender<OTelSdkResult>),
    Shutdown(reply::SyncSender<OTelSdkResult>),
}

#[derive(Debug)]
pub(crate) struct TokioBatchLogs {
    tx: mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl TokioBatchLogs {
    /// Spawns the export task on the current runtime.
    pub(crate) fn new<E: LogExporter + 'static>(mut exporter: E) -> Self {
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
        tokio::spawn(async move {
            let mut buf: Vec<(SdkLogRecord, InstrumentationScope)> = Vec::with_capacity(BATCH);
            let mut tick = tokio::time::interval(DELAY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let msg = tokio::select! {
                    m = rx.recv() => m,
                    _ = tick.tick() => {
                        let _ = export(&exporter, &mut buf).await;
                        continue;
                    }
                };
                match msg {
                    Some(Msg::Record(r)) => {
                        buf.push(*r);
                        if buf.len() >= BATCH {
                            let _ = export(&exporter, &mut buf).await;
                        }
                    }
                    Some(Msg::Resource(r)) => exporter.set_resource(&r),
                    Some(Msg::Flush(done)) => {
                        let _ = done.send(export(&exporter, &mut buf).await);
                    }
                    Some(Msg::Shutdown(done)) => {
                        let r = export(&exporter, &mut buf).await;
                        let _ = exporter.shutdown();
                        let _ = done.send(r);
                        return;
                    }
                    None => return,
                }
            }
        });
        TokioBatchLogs { tx }
    }

    /// Sends a message that answers, and waits for the answer (blocking:
    /// the SDK calls flush and shutdown synchronously; call them off the
    /// runtime threads). The wait is bounded, so a call on a runtime thread
    /// (a drop in async code) delays, and cannot hang, that thread.
    fn ask(&self, make: impl FnOnce(reply::SyncSender<OTelSdkResult>) -> Msg) -> OTelSdkResult {
        let (done, wait) = reply::sync_channel(1);
        self.tx
            .try_send(make(done))
            .map_err(|e| OTelSdkError::InternalFailure(format!("log queue: {e}")))?;
        wait.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| OTelSdkError::Timeout(REPLY_TIMEOUT))?
    }
}

async fn export<E: LogExporter>(
    exporter: &E,
    buf: &mut Vec<(SdkLogRecord, InstrumentationScope)>,
) -> OTelSdkResult {
    if buf.is_empty() {
        return Ok(());
    }
    let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
        buf.iter().map(|(r, s)| (r, s)).collect();
    let r = exporter.export(LogBatch::new(&refs)).await;
    drop(refs);
    buf.clear();
    r
}

impl LogProcessor for TokioBatchLogs {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        // A full queue drops the record: the demo must not grow without bound.
        let _ = self
            .tx
            .try_send(Msg::Record(Box::new((record.clone(), scope.clone()))));
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Msg::Flush)
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.ask(Msg::Shutdown)
    }

    fn set_resource(&mut self, resource: &Resource) {
        let _ = self.tx.try_send(Msg::Resource(resource.clone()));
    }
}
