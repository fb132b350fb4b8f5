//! `GET /api/v1/rules` and `GET /api/v1/alerts`.

use super::{api_error, api_success};
use crate::tenant::TenantOf;
use crate::ApiState;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use sightline_core::ErrorKind;

#[derive(Deserialize)]
pub(super) struct RulesParams {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Rule groups with their rules' health and state. `type=alert|record`
/// keeps only rules of that kind, as Prometheus does.
pub(super) async fn rules(
    State(state): State<ApiState>,
    tenant: TenantOf,
    Query(p): Query<RulesParams>,
) -> Response {
    // The rule files are the default tenant's.
    if !tenant.is_default() {
        return api_success(serde_json::json!({"groups": []}));
    }
    rules_answer(state.rules.rules(), p.kind.as_deref())
}

/// The `/api/v1/rules` answer for `data`, with the `type` filter applied
/// (Loki's `/prometheus/api/v1/rules` answers the same way).
pub(crate) fn rules_answer(mut data: serde_json::Value, kind: Option<&str>) -> Response {
    let keep = match kind.unwrap_or("") {
        "" => None,
        "alert" => Some("alerting"),
        "record" => Some("recording"),
        other => {
            return api_error(
                ErrorKind::BadData,
                &format!(
                "invalid parameter \"type\": unknown rule type {other:?}: expected alert or record"
            ),
            )
        }
    };
    if let (Some(keep), Some(groups)) =
        (keep, data.get_mut("groups").and_then(|g| g.as_array_mut()))
    {
        for g in groups.iter_mut() {
            if let Some(rules) = g.get_mut("rules").and_then(|r| r.as_array_mut()) {
                rules.retain(|r| r.get("type").and_then(|t| t.as_str()) == Some(keep));
            }
        }
        groups.retain(|g| {
            g.get("rules")
                .and_then(|r| r.as_array())
                .is_some_and(|r| !r.is_empty())
        });
    }
    api_success(data)
}

/// Active (pending and firing) alerts.
pub(super) async fn alerts(State(state): State<ApiState>, tenant: TenantOf) -> Response {
    if !tenant.is_default() {
        return api_success(serde_json::json!({"alerts": []}));
    }
    api_success(state.rules.alerts())
}
