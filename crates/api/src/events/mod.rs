//! The event intake: Segment's HTTP tracking API (`/v1/track`,
//! `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`,
//! `/v1/batch`, `/v1/import`) and Sightline's own `POST /v1/events` (one
//! message, `{"batch": [...]}` or an array), writing through an
//! [`EventAppender`] after the source's [`Scrubber`] has run. Segment's and
//! RudderStack's client libraries work with only their endpoint changed.
//!
//! - [`parse`]: one message to an [`sightline_eventstore::model::Event`],
//!   with Segment's field rules;
//! - [`http`]: the routes ([`routes`]): write keys, gzip, size limits,
//!   CORS, Segment's answers, and the browser snippet `GET /v1/analytics.js`;
//! - [`EventCounts`]: events taken per (event, source, type), which the
//!   server writes into the metrics store as `sightline_events_total`, and
//!   the intake's own counters for `/metrics`.
//!
//! A request is taken whole or refused whole (400 naming the message and
//! field): a batch with one bad message stores nothing, so a client that
//! fixes and resends it does not store the good ones twice (they would be
//! dropped as duplicates by `messageId` anyway).

pub mod http;
pub mod parse;
#[cfg(test)]
mod tests;

pub use http::routes;

use serde::Deserialize;
use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use sightline_eventstore::model::{EventAppender, EventKind};
use sightline_eventstore::scrub::Scrubber;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a request may carry (Segment's limits by default).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeLimits {
    /// Largest message, in bytes of JSON (Segment: 32 KB).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Largest request body once decompressed (Segment: 500 KB).
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
}

fn default_max_message_bytes() -> usize {
    32 * 1024
}

fn default_max_batch_bytes() -> usize {
    500 * 1024
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_message_bytes: default_max_message_bytes(),
            max_batch_bytes: default_max_batch_bytes(),
        }
    }
}

/// A source: the name events are stored under, the write keys that name
/// it, and its scrubbing rules.
pub struct Source {
    /// The source's name (the event's `source`).
    pub name: String,
    /// Its write keys.
    pub write_keys: Vec<String>,
    /// Its scrubbing rules.
    pub scrubber: Arc<Scrubber>,
}

/// What the routes share.
pub struct Intake {
    appender: Arc<dyn EventAppender>,
    sources: Vec<Source>,
    by_key: HashMap<String, usize>,
    /// No source configured: every request goes to the first (and only)
    /// source whatever its key.
    open: bool,
    limits: IntakeLimits,
    counts: Arc<EventCounts>,
    ids: parse::MessageIds,
}

impl Intake {
    /// The intake over `appender` for `sources`. With `open`, `sources`
    /// holds one source that takes every request, key or none (the
    /// server's `default` when no source is configured).
    pub fn new(
        appender: Arc<dyn EventAppender>,
        sources: Vec<Source>,
        open: bool,
        limits: IntakeLimits,
        counts: Arc<EventCounts>,
    ) -> Intake {
        let mut by_key = HashMap::new();
        for (i, s) in sources.iter().enumerate() {
            for k in &s.write_keys {
                by_key.insert(k.clone(), i);
            }
        }
        Intake {
            appender,
            sources,
            by_key,
            open,
            limits,
            counts,
            ids: parse::MessageIds::default(),
        }
    }

    /// The source `key` names (any key, or none, when open).
    fn source(&self, key: Option<&str>) -> Option<&Source> {
        if self.open {
            return self.sources.first();
        }
        key.and_then(|k| self.by_key.get(k))
            .map(|&i| &self.sources[i])
    }
}

/// Most (event, source, type) series kept; past it, new names count as
/// `event="__other__"` (an unbounded event name must not make the metrics
/// store unbounded).
pub const MAX_EVENT_SERIES: usize = 2000;

/// Events taken, per (event, source, type), and the intake's counters.
#[derive(Default)]
pub struct EventCounts {
    by_name: Mutex<HashMap<(String, String, &'static str), f64>>,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
    unauthorized: AtomicU64,
}

impl EventCounts {
    /// Counts a stored batch: each event once, scaled by the share the
    /// store kept when it dropped some as duplicates (it does not say
    /// which), so the totals stay exact.
    pub fn record(
        &self,
        source: &str,
        events: &[(String, EventKind)],
        accepted: usize,
        duplicates: usize,
    ) {
        self.accepted.fetch_add(accepted as u64, Ordering::Relaxed);
        self.duplicates
            .fetch_add(duplicates as u64, Ordering::Relaxed);
        if events.is_empty() || accepted == 0 {
            return;
        }
        let weight = accepted as f64 / events.len() as f64;
        let mut m = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        for (name, kind) in events {
            let key = (name.clone(), source.to_owned(), kind.as_str());
            if m.len() < MAX_EVENT_SERIES || m.contains_key(&key) {
                *m.entry(key).or_default() += weight;
            } else {
                *m.entry(("__other__".into(), key.1, key.2)).or_default() += weight;
            }
        }
    }

    fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    fn unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
    }

    /// The cumulative counts per (event, source, type).
    pub fn snapshot(&self) -> Vec<((String, String, &'static str), f64)> {
        let m = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

impl Telemetry for EventCounts {
    fn report(&self, out: &mut Report) {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        out.counter(
            "sightline_events_accepted",
            "Events stored by the intake.",
            n(&self.accepted),
        );
        out.counter(
            "sightline_events_duplicates",
            "Events dropped as already stored (same source and messageId).",
            n(&self.duplicates),
        );
        out.family(
            "sightline_events_requests_refused",
            "Intake requests refused, by reason.",
            MetricKind::Counter,
        )
        .point(&[("reason", "bad_request")], n(&self.refused))
        .point(&[("reason", "unauthorized")], n(&self.unauthorized));
    }
}
