//! `GET /api/v1/targets`.

use super::{api_error, api_success};
use crate::ApiState;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use sightline_core::ErrorKind;

#[derive(Deserialize)]
pub(super) struct TargetsParams {
    state: Option<String>,
}

/// Lists scrape targets; `state` filters as in Prometheus (`active`,
/// `dropped`, `any`; anything else is refused).
pub(super) async fn targets(
    State(state): State<ApiState>,
    Query(params): Query<TargetsParams>,
) -> Response {
    let filter = params
        .state
        .as_deref()
        .unwrap_or("any")
        .to_ascii_lowercase();
    match filter.as_str() {
        "active" | "dropped" | "any" | "" => {}
        other => {
            return api_error(
                ErrorKind::BadData,
                &format!("invalid state {other:?}: expected active, dropped or any"),
            )
        }
    }
    let filter = if filter.is_empty() {
        "any".to_owned()
    } else {
        filter
    };
    api_success(state.targets.targets(&filter))
}
