//! `--web.route-prefix`: every route (UI, APIs, `/metrics`, `/-/healthy`,
//! ...) is served under the prefix, as Prometheus does, so a reverse proxy
//! can forward `https://example.com/sl/...` unchanged. The prefix is taken
//! off the path before routing, so no router knows about it; `/` and the
//! bare prefix redirect to `<prefix>/`, where the UI's relative links work.

use axum::extract::Request;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;
use tower::ServiceExt;

/// `app` served under `prefix` (`/sl`: leading slash, none trailing).
pub fn wrap(app: Router, prefix: &str) -> Router {
    let prefix: Arc<str> = prefix.into();
    Router::new().fallback(move |req: Request| route(app.clone(), prefix.clone(), req))
}

async fn route(app: Router, prefix: Arc<str>, mut req: Request) -> Response {
    let path = req.uri().path();
    let rest = match path.strip_prefix(&*prefix) {
        Some(r) if r.starts_with('/') => r.to_owned(),
        // As Prometheus: the bare prefix is a permanent redirect to the
        // folder, `/` a temporary one (Prometheus goes `/` → `/sl` → `/sl/`;
        // one hop is enough).
        Some("") => {
            return redirect(
                StatusCode::MOVED_PERMANENTLY,
                &format!("{prefix}/"),
                req.uri(),
            )
        }
        _ if path == "/" => return redirect(StatusCode::FOUND, &format!("{prefix}/"), req.uri()),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                format!("not found: this server serves its pages and APIs under {prefix}/\n"),
            )
                .into_response()
        }
    };
    let pq = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = pq.parse().ok();
    match Uri::from_parts(parts) {
        Ok(u) => *req.uri_mut() = u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad request path\n").into_response(),
    }
    match app.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

fn redirect(status: StatusCode, to: &str, uri: &Uri) -> Response {
    let to = match uri.query() {
        Some(q) => format!("{to}?{q}"),
        None => to.to_owned(),
    };
    (status, [(header::LOCATION, to)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;

    async fn call(app: &Router, path: &str) -> (StatusCode, String, String) {
        let r = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let loc = r
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let status = r.status();
        let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, loc, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn issue_14_routes_live_under_the_prefix() {
        let inner = Router::new().route("/", get(|| async { "index" })).route(
            "/api/v1/query",
            get(|uri: Uri| async move { uri.to_string() }),
        );
        let app = wrap(inner, "/sl");
        assert_eq!(call(&app, "/sl/").await.2, "index");
        assert_eq!(
            call(&app, "/sl/api/v1/query?query=up").await.2,
            "/api/v1/query?query=up"
        );
        let (s, loc, _) = call(&app, "/").await;
        assert_eq!((s, loc.as_str()), (StatusCode::FOUND, "/sl/"));
        let (s, loc, _) = call(&app, "/sl").await;
        assert_eq!((s, loc.as_str()), (StatusCode::MOVED_PERMANENTLY, "/sl/"));
        assert_eq!(call(&app, "/api/v1/query").await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            call(&app, "/slx/api/v1/query").await.0,
            StatusCode::NOT_FOUND
        );
    }
}
