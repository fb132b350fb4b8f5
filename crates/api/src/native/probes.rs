//! Probes over HTTP: blackbox_exporter's `GET /probe`, so a Prometheus scrape
//! config written for blackbox works against Sightline unchanged, and
//! Sightline's own `GET /api/v1/uptime` for the scheduled monitors.

use crate::prometheus::api_success;
use crate::BoxFuture;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sightline_core::time;
use sightline_probe::{ProbeQuery, ProbeResponse, UptimeReport};
use std::sync::Arc;

/// The header Prometheus sends with its scrape timeout, read as blackbox does.
const SCRAPE_TIMEOUT_HEADER: &str = "X-Prometheus-Scrape-Timeout-Seconds";
/// blackbox's `--timeout-offset` default: room left for the scrape itself.
const TIMEOUT_OFFSET_SECS: f64 = 0.5;

/// What the probe routes need from the server.
pub trait ProbeSource: Send + Sync {
    /// Answers one `/probe` request with the modules in force.
    fn probe(&self, query: ProbeQuery) -> BoxFuture<ProbeResponse>;
    /// Uptime of every monitor target, ordered by monitor and target.
    fn uptime(&self) -> Vec<UptimeReport>;
}

impl ProbeSource for sightline_probe::service::Probes {
    fn probe(&self, query: ProbeQuery) -> BoxFuture<ProbeResponse> {
        Box::pin(sightline_probe::service::Probes::probe(self, query))
    }
    fn uptime(&self) -> Vec<UptimeReport> {
        sightline_probe::service::Probes::uptime(self)
    }
}

/// `GET /probe` and `GET /api/v1/uptime`.
pub fn probe_routes(source: Arc<dyn ProbeSource>) -> Router {
    Router::new()
        // blackbox answers /probe whatever the method; scrapers use GET.
        .route("/probe", get(probe).post(probe))
        .route("/api/v1/uptime", get(uptime))
        .with_state(source)
}

/// The request as blackbox reads it: `module`, `target`, `debug` and
/// `hostname` from the
/// URL's query string (first value wins, as Go's `Query().Get`), the scrape
/// timeout from Prometheus's header.
fn probe_query(raw: Option<&str>, headers: &HeaderMap) -> ProbeQuery {
    let mut q = ProbeQuery {
        timeout_offset: TIMEOUT_OFFSET_SECS,
        ..ProbeQuery::default()
    };
    let mut debug = None;
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "module" if q.module.is_none() => q.module = Some(v.into_owned()),
            "target" if q.target.is_none() => q.target = Some(v.into_owned()),
            "debug" if debug.is_none() => debug = Some(v == "true"),
            "hostname" if q.hostname.is_none() => q.hostname = Some(v.into_owned()),
            _ => {}
        }
    }
    q.debug = debug.unwrap_or(false);
    q.scrape_timeout_header = headers
        .get(SCRAPE_TIMEOUT_HEADER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    q
}

async fn probe(
    State(source): State<Arc<dyn ProbeSource>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let r = source.probe(probe_query(raw.as_deref(), &headers)).await;
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, r.content_type)], r.body).into_response()
}

fn rfc3339_ms(ms: i64) -> serde_json::Value {
    time::from_ms(ms)
        .map(|t| time::rfc3339_millis(&t).into())
        .unwrap_or(serde_json::Value::Null)
}

/// One report as `/api/v1/uptime` shows it: times as RFC 3339 (as
/// `/api/v1/targets` shows `lastScrape`), ratios by window name.
fn report_json(r: &UptimeReport) -> serde_json::Value {
    let windows = ["24h", "7d", "30d", "90d"];
    let ratios: serde_json::Map<String, serde_json::Value> = windows
        .iter()
        .zip(r.ratios)
        .map(|(w, v)| ((*w).to_owned(), v.into()))
        .collect();
    let outages: Vec<serde_json::Value> = r
        .outages
        .iter()
        .map(|o| {
            serde_json::json!({
                "start": rfc3339_ms(o.start_ms),
                "end": o.end_ms.map_or(serde_json::Value::Null, rfc3339_ms),
                "cause": o.cause,
            })
        })
        .collect();
    serde_json::json!({
        "monitor": r.monitor,
        "target": r.target,
        "up": r.up,
        "uptime": ratios,
        "outages": outages,
        "certDaysLeft": r.cert_days_left,
    })
}

async fn uptime(State(source): State<Arc<dyn ProbeSource>>) -> Response {
    let data: Vec<serde_json::Value> = source.uptime().iter().map(report_json).collect();
    api_success(serde_json::Value::Array(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use sightline_probe::Outage;
    use std::sync::Mutex;
    use tower::ServiceExt;

    /// Remembers the last query and answers with a fixed response.
    struct Fake {
        seen: Mutex<Option<ProbeQuery>>,
    }

    impl ProbeSource for Fake {
        fn probe(&self, query: ProbeQuery) -> BoxFuture<ProbeResponse> {
            *self.seen.lock().unwrap() = Some(query);
            Box::pin(async {
                ProbeResponse {
                    status: 400,
                    content_type: "text/plain; charset=utf-8",
                    body: "Unknown module \"x\"\n".into(),
                    result: None,
                }
            })
        }
        fn uptime(&self) -> Vec<UptimeReport> {
            vec![UptimeReport {
                monitor: "web".into(),
                target: "http://a/".into(),
                up: false,
                ratios: [Some(0.5), Some(0.75), None, None],
                outages: vec![Outage {
                    start_ms: 1_700_000_000_000,
                    end_ms: None,
                    cause: "refused".into(),
                }],
                cert_days_left: Some(3.5),
            }]
        }
    }

    async fn send(app: Router, req: axum::http::Request<Body>) -> (u16, String, String) {
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, ct, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn probe_passes_query_and_header_through() {
        let fake = Arc::new(Fake {
            seen: Mutex::new(None),
        });
        let req = axum::http::Request::get(
            "/probe?module=x&target=http%3A%2F%2Fa%2F%3Fq%3D1&debug=true&module=y",
        )
        .header(SCRAPE_TIMEOUT_HEADER, "4.5")
        .body(Body::empty())
        .unwrap();
        let (code, ct, body) = send(probe_routes(fake.clone()), req).await;
        assert_eq!(
            (code, ct.as_str(), body.as_str()),
            (400, "text/plain; charset=utf-8", "Unknown module \"x\"\n")
        );
        let q = fake.seen.lock().unwrap().take().unwrap();
        assert_eq!(q.module.as_deref(), Some("x"));
        assert_eq!(q.target.as_deref(), Some("http://a/?q=1"));
        assert!(q.debug);
        assert_eq!(q.scrape_timeout_header.as_deref(), Some("4.5"));
        assert_eq!(q.timeout_offset, 0.5);
        // blackbox's debug is on for exactly "true".
        let req = axum::http::Request::get("/probe?target=t&debug=1")
            .body(Body::empty())
            .unwrap();
        send(probe_routes(fake.clone()), req).await;
        let q = fake.seen.lock().unwrap().take().unwrap();
        assert!(!q.debug && q.module.is_none() && q.scrape_timeout_header.is_none());
    }

    #[tokio::test]
    async fn uptime_envelope() {
        let fake = Arc::new(Fake {
            seen: Mutex::new(None),
        });
        let req = axum::http::Request::get("/api/v1/uptime")
            .body(Body::empty())
            .unwrap();
        let (code, _, body) = send(probe_routes(fake), req).await;
        assert_eq!(code, 200);
        assert_eq!(
            body,
            r#"{"status":"success","data":[{"certDaysLeft":3.5,"monitor":"web","outages":[{"cause":"refused","end":null,"start":"2023-11-14T22:13:20.000Z"}],"target":"http://a/","up":false,"uptime":{"24h":0.5,"30d":null,"7d":0.75,"90d":null}}]}"#
        );
    }
}
