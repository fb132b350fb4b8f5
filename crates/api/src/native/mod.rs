//! Sightline's own endpoints, for what the peers have no API for:
//! `/api/v1/slos` (error budgets) and, in [`probes`], `/api/v1/uptime` with
//! blackbox_exporter's `/probe` beside it. Each family takes its source as a
//! trait object and returns a router the server merges.

mod probes;

pub use probes::{probe_routes, ProbeSource};

use crate::prometheus::{api_error, api_success};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use sightline_core::ErrorKind;
use std::sync::Arc;

/// Error budget status of the SLOs in force.
pub trait SloSource: Send + Sync {
    /// The `data` of `/api/v1/slos`: one object per SLO. Computing it runs
    /// queries, so it is called off the async workers.
    fn slos(&self) -> Result<serde_json::Value, String>;
}

/// `GET /api/v1/slos`.
pub fn slo_routes(source: Arc<dyn SloSource>) -> Router {
    Router::new()
        .route("/api/v1/slos", get(slos))
        .with_state(source)
}

async fn slos(State(source): State<Arc<dyn SloSource>>) -> Response {
    match tokio::task::spawn_blocking(move || source.slos()).await {
        Ok(Ok(data)) => api_success(data),
        Ok(Err(e)) => api_error(ErrorKind::Execution, &e),
        Err(e) => api_error(ErrorKind::Internal, &format!("report task failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct Fixed(Result<serde_json::Value, String>);
    impl SloSource for Fixed {
        fn slos(&self) -> Result<serde_json::Value, String> {
            self.0.clone()
        }
    }

    async fn get_slos(src: Fixed) -> (u16, String) {
        let app = slo_routes(Arc::new(src));
        let resp = app
            .oneshot(
                axum::http::Request::get("/api/v1/slos")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn success_and_error_envelopes() {
        let (code, body) = get_slos(Fixed(Ok(serde_json::json!([{"id": "a"}])))).await;
        assert_eq!(code, 200);
        assert_eq!(body, r#"{"status":"success","data":[{"id":"a"}]}"#);
        let (code, body) = get_slos(Fixed(Err("bad query".into()))).await;
        assert_eq!(code, 422);
        assert!(body.contains(r#""errorType":"execution""#), "{body}");
    }
}
