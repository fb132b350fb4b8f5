//! `GET|POST /api/v1/series`: the label sets of series matching any
//! `match[]` selector between `start` and `end`.

use super::api_error;
use super::format::{push_labels, success_body};
use super::params::{invalid_param, limit_param, parse_match_sets, time_param, Form};
use super::params::{MAX_TIME_MS, MIN_TIME_MS};
use super::response::blocking_json;
use crate::tenant::Scoped;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::HeaderMap;
use axum::response::Response;
use sightline_core::{ErrorKind, Labels, QueryContext};
use std::collections::BTreeSet;

/// Prometheus's warning when `limit` cut a list short.
pub(super) const TRUNCATED: &str = "results truncated due to limit";

pub(super) async fn series(
    Scoped(state): Scoped,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::new(raw.as_deref(), &headers, &body);
    let matches = form.values("match[]");
    if matches.is_empty() {
        return api_error(ErrorKind::BadData, "no match[] parameter provided");
    }
    let (start, end, limit, sets) = match (|| {
        let start = time_param(&form, "start", MIN_TIME_MS)?;
        let end = time_param(&form, "end", MAX_TIME_MS)?;
        let limit = limit_param(&form)?;
        let sets = parse_match_sets(&matches).map_err(|e| invalid_param("match[]", e))?;
        Ok::<_, String>((start, end, limit, sets))
    })() {
        Ok(v) => v,
        Err(m) => return api_error(ErrorKind::BadData, &m),
    };
    let querier = state.querier.clone();
    // Index lookups touch disk and can take a while on big stores.
    blocking_json("series", move || {
        let mut all: BTreeSet<Labels> = BTreeSet::new();
        let ctx = QueryContext::new();
        for set in &sets {
            for l in querier.series(&ctx, start, end, set)? {
                all.insert(l?);
            }
        }
        let mut warnings = Vec::new();
        if limit > 0 && all.len() > limit {
            warnings.push(TRUNCATED.to_owned());
        }
        let take = if limit > 0 { limit } else { usize::MAX };
        let mut data = String::from("[");
        for (i, l) in all.iter().take(take).enumerate() {
            if i > 0 {
                data.push(',');
            }
            push_labels(&mut data, l);
        }
        data.push(']');
        Ok(success_body(&data, &warnings, &[]))
    })
    .await
}
