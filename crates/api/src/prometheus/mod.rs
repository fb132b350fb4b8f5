//! The Prometheus HTTP API (`/api/v1/...`), JSON shaped exactly as
//! Prometheus returns it: `{"status":"success","data":...}` or
//! `{"status":"error","errorType":...,"error":...}`.

mod response;
mod targets;
mod write;

pub use response::{api_error, api_success};
pub use write::RemoteWriteCounters;

use crate::ApiState;
use axum::routing::{get, post};
use axum::Router;

/// Routes of the Prometheus API family.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/write", post(write::remote_write))
        .route("/api/v1/targets", get(targets::targets))
}
