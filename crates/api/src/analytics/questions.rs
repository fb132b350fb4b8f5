//! The questions: trends, active users, funnels, retention, A/B tests.
//! Each takes a JSON body (the engine's question with `start`, `end` and
//! `window` as the API writes times) and runs off the async workers.

use super::params::{bad_request, question, WEEK_MS};
use super::EventsSource;
use crate::prometheus::{api_error, api_success};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sightline_core::ErrorKind;
use sightline_eventstore::analytics as engine;
use sightline_eventstore::model::EventScan;
use std::sync::Arc;

/// Reads the question, answers it with `answer` on the blocking pool.
async fn run<Q, A>(
    source: Arc<dyn EventsSource>,
    body: &[u8],
    default_range_ms: i64,
    answer: fn(&dyn EventScan, &Q) -> sightline_eventstore::Result<A>,
) -> Response
where
    Q: DeserializeOwned + Send + 'static,
    A: Serialize + Send + 'static,
{
    let q: Q = match question(body, default_range_ms) {
        Ok(q) => q,
        Err(e) => return bad_request(&e),
    };
    let task = tokio::task::spawn_blocking(move || {
        let scan: &dyn EventScan = &*source;
        answer(scan, &q)
    });
    match task.await {
        Ok(Ok(a)) => match serde_json::to_value(a) {
            Ok(v) => api_success(v),
            Err(e) => api_error(ErrorKind::Internal, &format!("encoding the answer: {e}")),
        },
        Ok(Err(e)) => api_error(e.kind(), &e.to_string()),
        Err(e) => api_error(ErrorKind::Internal, &format!("analytics task failed: {e}")),
    }
}

/// `POST /api/v1/events/query`: counts and people over time.
pub(super) async fn trends(State(s): State<Arc<dyn EventsSource>>, body: Bytes) -> Response {
    run(s, &body, WEEK_MS, engine::trends).await
}

/// `POST /api/v1/events/active_users`: DAU, WAU, MAU, stickiness.
pub(super) async fn active_users(State(s): State<Arc<dyn EventsSource>>, body: Bytes) -> Response {
    run(s, &body, 30 * 86_400_000, engine::active_users).await
}

/// `POST /api/v1/events/funnel`.
pub(super) async fn funnel(State(s): State<Arc<dyn EventsSource>>, body: Bytes) -> Response {
    run(s, &body, WEEK_MS, engine::funnel).await
}

/// `POST /api/v1/events/retention`.
pub(super) async fn retention(State(s): State<Arc<dyn EventsSource>>, body: Bytes) -> Response {
    run(s, &body, 8 * WEEK_MS, engine::retention).await
}

/// `POST /api/v1/events/abtest`.
pub(super) async fn abtest(State(s): State<Arc<dyn EventsSource>>, body: Bytes) -> Response {
    run(s, &body, 2 * WEEK_MS, engine::abtest).await
}
