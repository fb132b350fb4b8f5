//! `POST /api/v1/write`: the Prometheus remote_write receiver.
//!
//! Decoding and the append semantics (what is refused, what rolls back) live
//! in `sightline_ingest::remote_write`; this module is the HTTP shell: it
//! answers 204 on success and a plain-text reason with 400/415/500
//! otherwise, as Prometheus's handler does, and counts everything.

use crate::tenant::{Scoped, TenantOf};
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_core::telemetry::{Report, Telemetry};
use sightline_ingest::remote_write::{self, DecodedWrite};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the receiver, exported on `/metrics`.
#[derive(Debug, Default)]
pub struct RemoteWriteCounters {
    requests: AtomicU64,
    requests_failed: AtomicU64,
    samples_written: AtomicU64,
    out_of_order: AtomicU64,
    out_of_bounds: AtomicU64,
    duplicate: AtomicU64,
    invalid_labels: AtomicU64,
    histograms_written: AtomicU64,
    histograms_dropped: AtomicU64,
    exemplars_written: AtomicU64,
}

impl RemoteWriteCounters {
    fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

impl Telemetry for RemoteWriteCounters {
    fn report(&self, out: &mut Report) {
        let rows: [(&str, &str, &AtomicU64); 10] = [
            (
                "sightline_remote_write_requests",
                "Remote write requests received.",
                &self.requests,
            ),
            (
                "sightline_remote_write_requests_failed",
                "Remote write requests answered with an error.",
                &self.requests_failed,
            ),
            (
                "sightline_remote_write_samples_written",
                "Samples written by remote write.",
                &self.samples_written,
            ),
            (
                "sightline_remote_write_samples_out_of_order",
                "Remote write samples refused as out of order.",
                &self.out_of_order,
            ),
            (
                "sightline_remote_write_samples_out_of_bounds",
                "Remote write samples refused as outside the accepted time range.",
                &self.out_of_bounds,
            ),
            (
                "sightline_remote_write_samples_duplicate",
                "Remote write samples refused as duplicates with another value.",
                &self.duplicate,
            ),
            (
                "sightline_remote_write_samples_invalid_labels",
                "Remote write samples of series with invalid labels.",
                &self.invalid_labels,
            ),
            (
                "sightline_remote_write_histograms_written",
                "Native histogram samples written by remote write.",
                &self.histograms_written,
            ),
            (
                "sightline_remote_write_histograms_dropped",
                "Native histogram samples received and not stored.",
                &self.histograms_dropped,
            ),
            (
                "sightline_remote_write_exemplars_written",
                "Exemplars written by remote write.",
                &self.exemplars_written,
            ),
        ];
        for (name, help, c) in rows {
            out.counter(name, help, c.load(Ordering::Relaxed) as f64);
        }
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(super) async fn remote_write(
    Scoped(state): Scoped,
    TenantOf(tenant): TenantOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let counters = state.remote_write.clone();
    RemoteWriteCounters::add(&counters.requests, 1);
    let fail = |status: u16, msg: String| {
        RemoteWriteCounters::add(&counters.requests_failed, 1);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, format!("{msg}\n")).into_response()
    };
    let decoded = match remote_write::decode(
        &body,
        header_str(&headers, header::CONTENT_TYPE),
        header_str(&headers, header::CONTENT_ENCODING),
    ) {
        Ok(d) => d,
        Err(e) => return fail(remote_write::http_status(&e), e.to_string()),
    };
    if let Some((t, limits)) = &tenant {
        // Mimir answers a tenant past its rate with 429: the sender retries
        // later, and nothing of the request was written.
        if let Err(m) = limits.allow_samples(&t.0, decoded.sample_count() as u64) {
            return fail(429, m);
        }
    }
    let is_v2 = matches!(decoded, DecodedWrite::V2(_));
    // Metadata is kept whatever becomes of the samples: it describes the
    // families, not this batch (see `sightline_ingest::remote_metadata`).
    state
        .metadata
        .record_remote_write(sightline_ingest::remote_metadata::metadata_of(&decoded));
    // Appending and committing write the WAL: blocking I/O, so not on an
    // async worker. The 2xx below is sent only after commit returned, which
    // is what makes an acknowledged sample survive a kill -9.
    let store = state.appendable.clone();
    let outcome =
        match tokio::task::spawn_blocking(move || remote_write::write(&decoded, store.as_ref()))
            .await
        {
            Ok(o) => o,
            Err(e) => return fail(500, format!("remote write task failed: {e}")),
        };
    let c = &counters;
    RemoteWriteCounters::add(&c.out_of_order, outcome.rejected.out_of_order);
    RemoteWriteCounters::add(&c.out_of_bounds, outcome.rejected.out_of_bounds);
    RemoteWriteCounters::add(&c.duplicate, outcome.rejected.duplicate);
    RemoteWriteCounters::add(&c.invalid_labels, outcome.rejected.invalid_labels);
    RemoteWriteCounters::add(&c.histograms_dropped, outcome.histograms_dropped);
    if !outcome.rollback {
        RemoteWriteCounters::add(&c.samples_written, outcome.samples_appended);
        RemoteWriteCounters::add(&c.exemplars_written, outcome.exemplars_appended);
        RemoteWriteCounters::add(&c.histograms_written, outcome.histograms_appended);
    }
    let mut resp = match &outcome.error {
        // A tenant's series limit is Mimir's 400: retrying cannot help.
        Some(e) if e.kind() == sightline_core::ErrorKind::LimitExceeded => fail(400, e.to_string()),
        Some(e) => fail(remote_write::http_status(e), e.to_string()),
        None => StatusCode::NO_CONTENT.into_response(),
    };
    if is_v2 {
        // Remote write 2.0 tells the sender what was written, even on a
        // partial write.
        let written = if outcome.rollback {
            0
        } else {
            outcome.samples_appended
        };
        let (exemplars, histograms) = if outcome.rollback {
            (0, 0)
        } else {
            (outcome.exemplars_appended, outcome.histograms_appended)
        };
        let h = resp.headers_mut();
        h.insert(
            "X-Prometheus-Remote-Write-Samples-Written",
            HeaderValue::from(written),
        );
        h.insert(
            "X-Prometheus-Remote-Write-Histograms-Written",
            HeaderValue::from(histograms),
        );
        h.insert(
            "X-Prometheus-Remote-Write-Exemplars-Written",
            HeaderValue::from(exemplars),
        );
    }
    resp
}
