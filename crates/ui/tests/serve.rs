//! The embedded bundle as the server answers it (issue 14): index.html at
//! `/` with the links that users without JavaScript rely
//! on, hashed assets cached as immutable, compressed forms picked by
//! `Accept-Encoding`.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use std::io::Read;
use tower::ServiceExt;

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn get(uri: &str, accept_encoding: Option<&str>) -> Got {
    let mut req = Request::get(uri);
    if let Some(a) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    let app: axum::Router = sightline_ui::router();
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Got {
        status,
        headers,
        body,
    }
}

fn h(g: &Got, name: header::HeaderName) -> &str {
    g.headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// The script and stylesheet index.html loads.
fn assets(index: &str) -> Vec<String> {
    index
        .split('"')
        .filter(|s| s.starts_with("assets/") && (s.ends_with(".js") || s.ends_with(".css")))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn issue_14_index_links_without_javascript() {
    let g = get("/", None).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(h(&g, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(h(&g, header::CACHE_CONTROL), "no-cache");
    let body = String::from_utf8(g.body).unwrap();
    // Without JavaScript, the page still leads to what the server serves.
    for href in [
        "graph",
        "alerts",
        "api/v1/targets",
        "api/v1/rules",
        "api/v2/silences",
        "metrics",
    ] {
        assert!(body.contains(&format!("href=\"{href}\"")), "{href}: {body}");
    }
    // Alertmanager's client-side routes (`#/alerts`, `#/silences/...`)
    // are the UI's own: its Alerts page (checked in the browser test).
    // Relative asset links: the UI works under a path prefix.
    let a = assets(&body);
    assert_eq!(a.len(), 2, "one script, one stylesheet: {a:?}");
}

#[tokio::test]
async fn issue_14_assets_are_immutable_and_compressed() {
    let index = String::from_utf8(get("/", None).await.body).unwrap();
    for path in assets(&index) {
        let plain = get(&format!("/{path}"), None).await;
        assert_eq!(plain.status, StatusCode::OK, "{path}");
        assert_eq!(
            h(&plain, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(h(&plain, header::CONTENT_ENCODING), "");
        assert_eq!(h(&plain, header::VARY), "Accept-Encoding");
        let ty = h(&plain, header::CONTENT_TYPE);
        assert!(
            ty.starts_with(if path.ends_with(".js") {
                "text/javascript"
            } else {
                "text/css"
            }),
            "{path}: {ty}"
        );

        let gz = get(&format!("/{path}"), Some("gzip, deflate")).await;
        assert_eq!(h(&gz, header::CONTENT_ENCODING), "gzip");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, plain.body, "{path}: gzip form is the same file");
        assert!(gz.body.len() < plain.body.len());

        let br = get(&format!("/{path}"), Some("gzip, deflate, br")).await;
        assert_eq!(h(&br, header::CONTENT_ENCODING), "br");
        assert!(br.body.len() < gz.body.len(), "{path}");
        let no_br = get(&format!("/{path}"), Some("br;q=0, gzip")).await;
        assert_eq!(h(&no_br, header::CONTENT_ENCODING), "gzip");
    }
}

#[tokio::test]
async fn issue_14_unknown_assets_are_404() {
    let index = String::from_utf8(get("/", None).await.body).unwrap();
    let js = assets(&index)
        .into_iter()
        .find(|a| a.ends_with(".js"))
        .unwrap();
    for uri in [
        "/assets/app-000000000000.js".to_string(),
        format!("/{js}.gz"),
        "/assets/../index.html".to_string(),
        "/assets/x.png".to_string(),
    ] {
        let g = get(&uri, None).await;
        assert_eq!(g.status, StatusCode::NOT_FOUND, "{uri}");
    }
}
