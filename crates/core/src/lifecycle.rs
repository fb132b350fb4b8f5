//! How a subsystem starts itself and stops.
//!
//! The server opens the store, then hands each subsystem (scraping, the
//! alert sender, the rule evaluator, the Alertmanager, probes, and the log
//! and trace stores to come) a [`StartContext`]: the one cancellation token
//! every task runs under, the telemetry registry the subsystem adds its own
//! `/metrics` report to, and the data directory. Each crate's `start`
//! spawns its tasks and returns a [`Running`] handle; on shutdown the
//! server cancels the token and stops the handles in reverse start order,
//! each flushing what it holds (uptime state, silences, the WAL last).

use crate::telemetry::TelemetryRegistry;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What every subsystem starts with.
#[derive(Debug, Clone)]
pub struct StartContext {
    /// Cancelled when the server shuts down; every task selects on it.
    pub cancel: CancellationToken,
    /// Where the subsystem registers its self-telemetry.
    pub telemetry: Arc<TelemetryRegistry>,
    /// The server's data directory; a subsystem keeps its state in a
    /// folder of its own below it.
    pub data_dir: PathBuf,
    /// The memory limit: a subsystem registers what it can give back
    /// under pressure, and intakes ask it before taking more.
    pub memory: Arc<crate::memory::MemoryGovernor>,
}

/// A future that completes when a subsystem has stopped and flushed.
pub type StopFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A started subsystem.
pub trait Running: Send {
    /// The subsystem's name, for the log.
    fn name(&self) -> &'static str;

    /// Stops the subsystem's tasks (the shared token is already cancelled
    /// when the server calls this) and flushes its state.
    fn stop(self: Box<Self>) -> StopFuture;
}

/// A subsystem that is one spawned task which ends when the shared token
/// is cancelled (and flushes before it returns).
#[derive(Debug)]
pub struct Task {
    name: &'static str,
    handle: tokio::task::JoinHandle<()>,
}

impl Task {
    /// Spawns `fut` on the current runtime as subsystem `name`.
    pub fn spawn(name: &'static str, fut: impl Future<Output = ()> + Send + 'static) -> Task {
        Task {
            name,
            handle: tokio::spawn(fut),
        }
    }
}

impl Running for Task {
    fn name(&self) -> &'static str {
        self.name
    }

    fn stop(self: Box<Self>) -> StopFuture {
        Box::pin(async move {
            if let Err(e) = self.handle.await {
                report_abnormal_end(self.name, &e);
            }
        })
    }
}

/// A task that panicked is reported on stderr: core has no logger, and a
/// panic during shutdown must not pass silently.
fn report_abnormal_end(name: &str, e: &tokio::task::JoinError) {
    eprintln!("subsystem {name} ended abnormally: {e}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_stops_when_the_token_is_cancelled() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let cancel = CancellationToken::new();
            let flushed = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (c, f) = (cancel.clone(), flushed.clone());
            let task: Box<dyn Running> = Box::new(Task::spawn("t", async move {
                c.cancelled().await;
                f.store(true, std::sync::atomic::Ordering::SeqCst);
            }));
            assert_eq!(task.name(), "t");
            cancel.cancel();
            task.stop().await;
            assert!(flushed.load(std::sync::atomic::Ordering::SeqCst));
        });
    }
}
