//! [`Receiver`]: the configuration and delta state shared by the HTTP and
//! gRPC endpoints, and one transaction per request.
//!
//! A request goes into one appender. Points the translation or the store
//! refuses (out of order, too old, invalid names, refused deltas) are
//! counted and reported as a partial success while the rest is committed,
//! as the OTLP specification asks (a sender must not retry them). A store
//! failure (anything else) rolls the whole request back and is answered
//! with a retryable status when the store says it is unavailable or over a
//! limit (503, 429), 500 otherwise.

use super::cache::RefCache;
use super::config::OtlpConfig;
use super::delta::DeltaState;
use super::translate::{Converter, Outcome};
use super::wire::Request;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use sightline_core::{ErrorKind, MetricAppender};
use std::sync::{Arc, Mutex, RwLock};

/// Prometheus's default lookback delta; `target_info` gets a sample every
/// half of it so that joins find it between points.
pub const DEFAULT_LOOKBACK_MS: i64 = 5 * 60 * 1000;

/// The OTLP metrics receiver.
pub struct Receiver {
    config: RwLock<Arc<OtlpConfig>>,
    delta: Mutex<DeltaState>,
    refs: Mutex<RefCache>,
    lookback_ms: i64,
}

impl Receiver {
    /// A receiver with `config`; `lookback_ms` is the query lookback delta.
    pub fn new(config: OtlpConfig, lookback_ms: i64) -> Self {
        Receiver {
            config: RwLock::new(Arc::new(config)),
            delta: Mutex::new(DeltaState::default()),
            refs: Mutex::new(RefCache::default()),
            lookback_ms,
        }
    }

    /// Replaces the configuration (on reload); the delta state stays.
    pub fn set_config(&self, config: OtlpConfig) {
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        // The mapping may have changed: cached handles name old series.
        self.refs.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<OtlpConfig> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Delta streams tracked for conversion to cumulative.
    pub fn delta_streams(&self) -> usize {
        self.delta.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Translates and appends `req` in one transaction of `store`,
    /// committed unless the store failed.
    pub fn write(&self, req: &ExportMetricsServiceRequest, store: &dyn MetricAppender) -> Outcome {
        self.write_request(&Request::from(req.clone()), store)
    }

    /// [`Self::write`] for a request as [`super::http::decode`] gives it
    /// (or converted from the generated types). A request whose encoded
    /// attributes do not decode changes nothing and gets
    /// [`Outcome::decode_error`].
    pub fn write_request(&self, req: &Request, store: &dyn MetricAppender) -> Outcome {
        // Delta totals change as points are translated, and cannot be
        // rolled back: check the whole request first.
        if req.has_delta() {
            if let Err(e) = req.validate() {
                return Outcome {
                    decode_error: Some(e),
                    ..Outcome::default()
                };
            }
        }
        let cfg = self.config();
        let now_ms = sightline_core::time::now_ms();
        let mut app = store.appender();
        let mut conv = Converter::new(
            &cfg,
            &self.delta,
            &self.refs,
            app.as_mut(),
            now_ms,
            self.lookback_ms,
        );
        conv.request(req);
        let mut out = std::mem::take(&mut conv.out);
        if out.store_error.is_some() || out.decode_error.is_some() {
            app.rollback();
        } else if let Err(e) = app.commit() {
            out.store_error = Some(e);
        }
        if out.store_error.is_some() && out.decode_error.is_none() {
            // The translation stopped early: a malformed request is
            // answered as malformed whatever the store said.
            if let Err(e) = req.validate() {
                out.decode_error = Some(e);
            }
        }
        if let Some(e) = out.decode_error.take() {
            return Outcome {
                decode_error: Some(e),
                ..Outcome::default()
            };
        }
        if out.store_error.is_some() {
            out.samples_appended = 0;
            out.histograms_appended = 0;
            out.exemplars_appended = 0;
        }
        out
    }
}

impl Outcome {
    /// The HTTP status to answer: 200 (also for a partial success), 400
    /// for a malformed request, or for a store failure 503 (unavailable,
    /// timed out), 429 (over a limit) or 500.
    pub fn http_status(&self) -> u16 {
        if self.decode_error.is_some() {
            return 400;
        }
        match &self.store_error {
            None => 200,
            Some(e) => match e.kind() {
                ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Canceled => 503,
                ErrorKind::LimitExceeded => 429,
                _ => 500,
            },
        }
    }
}
