//! `--memory.limit`: the watcher that measures the process against its
//! limit, and the two places ingestion asks it before taking more (pushes
//! over HTTP, series created by scrapes). The levels and what they mean are
//! `sightline_core::memory`'s.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sightline_core::lifecycle::Task;
use sightline_core::memory::{self, MemoryGovernor, Pressure};
use sightline_core::{Appender, Error, Labels, MetricAppender, Result, SeriesRef};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the process's memory is measured: a push of a few MB lands
/// between two checks, so the overshoot past the hard mark stays small.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// The governor for `--memory.limit` (`""`: the cgroup's limit, `0`: none).
pub fn governor(flag: &str) -> anyhow::Result<Arc<MemoryGovernor>> {
    let limit = memory::resolve_limit(flag).map_err(|e| anyhow::anyhow!("{e}"))?;
    if limit > 0 {
        tracing::info!(limit_mib = limit >> 20, "memory limit in force");
    }
    let g = MemoryGovernor::new(limit);
    // Free pages mimalloc keeps for reuse are memory the kernel counts.
    g.on_pressure("allocator", crate::release_free_memory);
    Ok(g)
}

/// Measures the process every [`WATCH_EVERY`] until `cancel`; the reliefs
/// run on a blocking thread (they flush stores).
pub fn spawn_watch(g: Arc<MemoryGovernor>, cancel: CancellationToken) -> Task {
    Task::spawn("memory watch", async move {
        if g.limit() == 0 {
            return;
        }
        let mut tick = tokio::time::interval(WATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Some(used) = memory::anon_rss() else {
                return;
            };
            let gov = g.clone();
            let Ok(seen) = tokio::task::spawn_blocking(move || gov.observe(used)).await else {
                continue;
            };
            if seen.from != seen.to {
                let (used_mib, limit_mib) = (used >> 20, g.limit() >> 20);
                match seen.to {
                    Pressure::Critical => {
                        tracing::warn!(used_mib, limit_mib, "memory limit: refusing ingestion")
                    }
                    Pressure::High => tracing::info!(
                        used_mib,
                        limit_mib,
                        "memory pressure: flushing and freeing caches"
                    ),
                    Pressure::Normal => tracing::info!(used_mib, limit_mib, "memory pressure over"),
                }
            }
        }
    })
}

/// Whether a push may be taken now: measured here too, since a reading of
/// /proc costs microseconds and a push megabytes (the watcher's tick alone
/// let a burst overshoot the limit on a busy machine).
fn admit_push(g: &MemoryGovernor) -> std::result::Result<(), memory::MemoryRefusal> {
    match memory::anon_rss() {
        Some(used) if g.limit() > 0 => g.admit_at(used),
        _ => g.admit(),
    }
}

/// Middleware: a push to one of [`sightline_auth::scope::INTAKE_PATHS`] while the
/// level is critical gets 503 with `Retry-After`, which every sender
/// (Prometheus, Promtail, OTel SDKs, Zipkin reporters) retries, so nothing
/// is lost; everything else passes.
pub async fn refuse_intake_at_limit(
    State(g): State<Arc<MemoryGovernor>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::POST
        && sightline_auth::scope::INTAKE_PATHS.contains(&req.uri().path())
    {
        if let Err(refusal) = admit_push(&g) {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [("Retry-After", "5")],
                refusal.to_string(),
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Middleware of the OTLP gRPC port, where every call is a push: while the
/// level is critical a call gets gRPC's UNAVAILABLE (14), which the OTLP
/// exporters retry with backoff, as a trailers-only response naming the
/// limit.
pub async fn refuse_grpc_at_limit(
    State(g): State<Arc<MemoryGovernor>>,
    req: Request,
    next: Next,
) -> Response {
    if let Err(refusal) = admit_push(&g) {
        let message: String =
            form_urlencoded::byte_serialize(refusal.to_string().as_bytes()).collect();
        return (
            StatusCode::OK,
            [
                ("content-type", "application/grpc".to_owned()),
                ("grpc-status", "14".to_owned()),
                // gRPC's percent-encoding; `+` would be read as itself.
                ("grpc-message", message.replace('+', "%20")),
            ],
        )
            .into_response();
    }
    next.run(req).await
}

/// A store whose appenders refuse to create series while the level is
/// critical (appends by handle, to series the store has, go on): scrapes of
/// a target that keeps growing fail with the reason, stable ones continue.
pub struct AdmittingAppender {
    pub inner: Arc<dyn MetricAppender>,
    pub governor: Arc<MemoryGovernor>,
}

impl MetricAppender for AdmittingAppender {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(AdmittingTx {
            inner: self.inner.appender(),
            governor: self.governor.clone(),
        })
    }
}

struct AdmittingTx {
    inner: Box<dyn Appender>,
    governor: Arc<MemoryGovernor>,
}

impl AdmittingTx {
    fn admit(&self, series_ref: SeriesRef) -> Result<()> {
        if series_ref != 0 {
            return Ok(());
        }
        self.governor
            .admit()
            .map_err(|r| Error::new(sightline_core::ErrorKind::Unavailable, r.to_string()))
    }
}

impl Appender for AdmittingTx {
    fn append(&mut self, r: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        self.admit(r)?;
        self.inner.append(r, labels, t, v)
    }
    fn append_histogram(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        t: i64,
        h: &sightline_core::FloatHistogram,
    ) -> Result<SeriesRef> {
        self.admit(r)?;
        self.inner.append_histogram(r, labels, t, h)
    }
    fn append_exemplar(
        &mut self,
        r: SeriesRef,
        labels: &Labels,
        e: &sightline_core::Exemplar,
    ) -> Result<()> {
        self.inner.append_exemplar(r, labels, e)
    }
    fn commit(self: Box<Self>) -> Result<sightline_core::AppendStats> {
        self.inner.commit()
    }
    fn rollback(self: Box<Self>) {
        self.inner.rollback()
    }
}
