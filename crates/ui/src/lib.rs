//! Sightline's web UI, embedded in the binary.
//!
//! The UI is TypeScript under `crates/ui/src/` built by `npm run build`
//! into `crates/ui/dist/`, which is committed: `cargo build` embeds those
//! files and needs no Node.js. The build writes every file with its gzip
//! (`.gz`) and brotli (`.br`) forms, so serving compresses nothing at run
//! time and a server nobody browses holds no extra memory.
//!
//! [`router`] serves:
//! - `/`: `index.html`, `Cache-Control: no-cache` (it names the current
//!   assets, so browsers must revalidate it);
//! - `/status`: the same page, which shows the public status page there;
//! - `/assets/<name>-<hash>.{js,css}`: the bundle, whose names change with
//!   their content, so they are cached for a year as immutable.
//!
//! [`dashboards`] stores dashboards (Grafana's model, one file each under
//! the data dir, and provisioned folders) and serves Grafana's dashboard,
//! search and folder API over them.
//!
//! Client routes live in the URL fragment (`/#/explore?...`), which never
//! reaches the server: `/` is the only page path, and all links and API
//! calls of the UI are relative, so it works under a path prefix.

pub mod dashboards;
mod error;

pub use error::{Error, Result};

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use include_dir::{include_dir, Dir};

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/dist");

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The UI's routes, for any router state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/status", get(index))
        .route("/assets/{*name}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(
        "index.html",
        "text/html; charset=utf-8",
        "no-cache",
        &headers,
    )
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    // Only the bundle's own files: not their .gz/.br forms by name, and
    // nothing outside assets/.
    let ty = if name.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        return not_found(&name);
    };
    if name.contains('/') {
        return not_found(&name);
    }
    serve(&format!("assets/{name}"), ty, IMMUTABLE, &headers)
}

fn not_found(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("no UI asset {name:?}\n"),
    )
        .into_response()
}

fn serve(path: &str, content_type: &'static str, cache: &'static str, h: &HeaderMap) -> Response {
    let Some(plain) = DIST.get_file(path) else {
        return not_found(path);
    };
    let accept = h
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut body = plain.contents();
    let mut encoding = None;
    for (enc, ext) in [("br", "br"), ("gzip", "gz")] {
        if accepts(accept, enc) {
            if let Some(f) = DIST.get_file(format!("{path}.{ext}")) {
                body = f.contents();
                encoding = Some(enc);
                break;
            }
        }
    }
    let mut res = (StatusCode::OK, body).into_response();
    let hs = res.headers_mut();
    hs.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    hs.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    hs.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(enc) = encoding {
        hs.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    res
}

/// Whether an `Accept-Encoding` value allows `enc` (listed, or `*`, with a
/// quality above zero).
fn accepts(accept: &str, enc: &str) -> bool {
    let mut star = false;
    for part in accept.split(',') {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(enc) {
            return q > 0.0;
        }
        if name == "*" {
            star = q > 0.0;
        }
    }
    star
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip, deflate, br", "gzip"));
        assert!(!accepts("gzip", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(!accepts("", "gzip"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
    }
}
