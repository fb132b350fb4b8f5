//! Operations endpoints: health, readiness, reload, self-telemetry.

use crate::ApiState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use sightline_core::telemetry::{MetricKind, Report};
use std::sync::atomic::Ordering;

/// Routes of the operations family.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
        .route("/-/reload", post(reload).put(reload))
        .route("/metrics", get(metrics))
}

async fn healthy() -> &'static str {
    "Sightline is Healthy.\n"
}

async fn ready(State(state): State<ApiState>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "Sightline is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

/// As Prometheus: 200 with an empty body, or 500 with the reason; the
/// running configuration stays in force when the new one is refused.
async fn reload(State(state): State<ApiState>) -> Response {
    match state.reloader.clone().reload().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    metrics_response(state.registry.collect())
}

/// A `/metrics` answer for `report` in OpenMetrics (also served by
/// `sightline agent`).
pub fn metrics_response(report: Report) -> Response {
    let mut body = String::new();
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(Collected(report)));
    if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &registry) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}\n"),
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// One collection of the subsystems' [`Report`]s, in OpenMetrics through
/// `prometheus_client`'s encoder (which appends counters' `_total`).
#[derive(Debug)]
struct Collected(Report);

impl Collector for Collected {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for fam in self.0.families() {
            let labeled = fam.points.iter().any(|p| !p.labels.is_empty());
            match fam.kind {
                MetricKind::Counter => {
                    let proto = ConstCounter::new(0.0);
                    let mut enc =
                        encoder.encode_descriptor(fam.name, fam.help, None, proto.metric_type())?;
                    for p in &fam.points {
                        let c = ConstCounter::new(p.value);
                        if labeled {
                            c.encode(enc.encode_family(&p.labels)?)?;
                        } else {
                            c.encode(enc)?;
                            break;
                        }
                    }
                }
                MetricKind::Histogram => {
                    let mut enc = encoder.encode_descriptor(
                        fam.name,
                        fam.help,
                        None,
                        prometheus_client::metrics::MetricType::Histogram,
                    )?;
                    for p in &fam.points {
                        let Some(h) = &p.histogram else { continue };
                        let buckets: Vec<(f64, u64)> = h
                            .buckets
                            .iter()
                            .copied()
                            // prometheus_client prints f64::MAX as `+Inf`.
                            .chain([(f64::MAX, h.count)])
                            .collect();
                        let counts = per_bucket(&buckets);
                        if labeled {
                            enc.encode_family(&p.labels)?
                                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                                    h.sum, h.count, &counts, None,
                                )?;
                        } else {
                            enc.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                                h.sum, h.count, &counts, None,
                            )?;
                            break;
                        }
                    }
                }
                MetricKind::Gauge => {
                    let proto = ConstGauge::new(0.0);
                    let mut enc =
                        encoder.encode_descriptor(fam.name, fam.help, None, proto.metric_type())?;
                    for p in &fam.points {
                        let g = ConstGauge::new(p.value);
                        if labeled {
                            g.encode(enc.encode_family(&p.labels)?)?;
                        } else {
                            g.encode(enc)?;
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `prometheus_client` takes each bucket's own count and accumulates it
/// while encoding; a [`sightline_core::telemetry::HistogramValue`] holds
/// cumulative counts, as the exposition prints them.
fn per_bucket(cumulative: &[(f64, u64)]) -> Vec<(f64, u64)> {
    let mut prev = 0;
    cumulative
        .iter()
        .map(|&(le, c)| {
            let own = c.saturating_sub(prev);
            prev = c;
            (le, own)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::telemetry::MetricKind;

    /// A histogram as OpenMetrics writes one, by hand: `_sum`, `_count`,
    /// then cumulative buckets ending with `+Inf` = count.
    #[test]
    fn a_histogram_encodes_with_cumulative_buckets() {
        let mut r = Report::default();
        r.histogram(
            "wait_seconds",
            "Waits.",
            sightline_core::telemetry::HistogramValue {
                buckets: vec![(1.0, 1), (10.0, 3)],
                sum: 17.5,
                count: 4,
            },
        );
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(Collected(r)));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert_eq!(
            text,
            "# HELP wait_seconds Waits.\n\
             # TYPE wait_seconds histogram\n\
             wait_seconds_sum 17.5\n\
             wait_seconds_count 4\n\
             wait_seconds_bucket{le=\"1.0\"} 1\n\
             wait_seconds_bucket{le=\"10.0\"} 3\n\
             wait_seconds_bucket{le=\"+Inf\"} 4\n\
             # EOF\n"
        );
    }

    /// The exposition written by hand from the OpenMetrics text format:
    /// counters get `_total`, labeled points one line each, an unlabeled
    /// family one line, and the `# EOF` terminator.
    #[test]
    fn a_report_encodes_as_openmetrics() {
        let mut r = Report::default();
        r.counter("things_done", "Things done.", 3.0);
        r.family("things_by_state", "Things by state.", MetricKind::Gauge)
            .point(&[("state", "a")], 1.0)
            .point(&[("state", "b")], 2.5);
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register_collector(Box::new(Collected(r)));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert_eq!(
            text,
            "# HELP things_done Things done.\n\
             # TYPE things_done counter\n\
             things_done_total 3.0\n\
             # HELP things_by_state Things by state.\n\
             # TYPE things_by_state gauge\n\
             things_by_state{state=\"a\"} 1.0\n\
             things_by_state{state=\"b\"} 2.5\n\
             # EOF\n"
        );
    }
}
