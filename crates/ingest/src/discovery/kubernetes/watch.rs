//! Informers: one task per list+watch query keeping a local copy of the
//! objects (a store shared with the group builder), as client-go's
//! informers do for Prometheus.
//!
//! A watch that the server ends normally resumes from the last version
//! seen; 410 Gone (the version was compacted away) lists again at once; a
//! refused request or broken stream lists again after a backoff that
//! doubles up to [`MAX_BACKOFF`], so that an unreachable API server is not
//! hammered.

use super::client::{ApiClient, Event, Query, WatchEnd};
use super::types::Object;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Objects by `namespace/name`, shared by the informers of one kind.
pub type Store<T> = Arc<Mutex<BTreeMap<String, T>>>;

/// First wait after a failure.
pub const MIN_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait after repeated failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the informers tell the builder.
pub struct Signal {
    /// Poked after every change to a store.
    pub changed: Notify,
    /// How many informers have finished their first list.
    pub synced: AtomicUsize,
    /// The last error of each failing informer, by query.
    pub errors: Mutex<BTreeMap<String, String>>,
}

impl Signal {
    pub fn new() -> Arc<Signal> {
        Arc::new(Signal {
            changed: Notify::new(),
            synced: AtomicUsize::new(0),
            errors: Mutex::new(BTreeMap::new()),
        })
    }

    fn set_error(&self, query: &Query, e: Option<String>) {
        let mut errs = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Some(e) => errs.insert(query.describe(), e),
            None => errs.remove(&query.describe()),
        };
    }
}

/// How long the server keeps a watch open before we watch again
/// (client-go picks 5-10 minutes).
const WATCH_TIMEOUT_SECS: u64 = 300;

/// Runs one informer until `cancel`.
pub async fn run<T: Object>(
    client: Arc<ApiClient>,
    query: Query,
    store: Store<T>,
    signal: Arc<Signal>,
    cancel: CancellationToken,
) {
    let mut backoff = MIN_BACKOFF;
    let mut synced = false;
    loop {
        let listed = tokio::select! {
            _ = cancel.cancelled() => return,
            r = client.list::<T>(&query) => r,
        };
        let mut version = match listed {
            Ok((items, version)) => {
                replace(&store, &query, items);
                signal.set_error(&query, None);
                if !synced {
                    synced = true;
                    signal.synced.fetch_add(1, Ordering::SeqCst);
                }
                signal.changed.notify_one();
                backoff = MIN_BACKOFF;
                version
            }
            Err(e) => {
                tracing::warn!(error = %e, "kubernetes discovery: list failed; retrying");
                signal.set_error(&query, Some(e));
                signal.changed.notify_one();
                if sleep_or_cancel(backoff, &cancel).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        // Watch until the version expires or the stream breaks.
        loop {
            let on = |ev: Event<T>| {
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                match ev {
                    Event::Applied(o) => {
                        s.insert(o.key(), o);
                    }
                    Event::Deleted(o) => {
                        s.remove(&o.key());
                    }
                }
                drop(s);
                signal.changed.notify_one();
            };
            let r = tokio::select! {
                _ = cancel.cancelled() => return,
                r = client.watch::<T>(&query, &mut version, WATCH_TIMEOUT_SECS, on) => r,
            };
            match r {
                Ok(WatchEnd::Closed) => continue,
                Ok(WatchEnd::Expired) => {
                    tracing::debug!(what = %query.describe(), "kubernetes watch expired; listing again");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "kubernetes discovery: watch failed; listing again");
                    if sleep_or_cancel(backoff, &cancel).await {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    break;
                }
            }
        }
    }
}

/// Replaces what `query` covers in the store with a fresh list: the
/// query's namespace only, when the store is shared across namespaces.
fn replace<T: Object>(store: &Store<T>, query: &Query, items: Vec<T>) {
    let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
    match (&query.namespace, query.resource.namespaced) {
        (Some(ns), true) => s.retain(|_, o| &o.meta().namespace != ns),
        _ => s.clear(),
    }
    for o in items {
        s.insert(o.key(), o);
    }
}

/// Sleeps `d`; true when cancelled meanwhile.
async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = cancel.cancelled() => true,
        _ = tokio::time::sleep(d) => false,
    }
}
