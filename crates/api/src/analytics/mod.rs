//! The product analytics API, JSON under `/api/v1/events/`:
//!
//! - `GET names`, `GET properties?event=`, `GET values?key=`: what there
//!   is to ask about (in [`browse`]);
//! - `POST query` (trends), `POST active_users`, `POST funnel`,
//!   `POST retention`, `POST abtest`: the questions of
//!   [`sightline_eventstore::analytics`], a JSON body each (in [`questions`]);
//! - `GET list` (recent events, paged) and `GET export?format=ndjson|parquet`
//!   (streamed), in [`browse`].
//!
//! Times (`start`, `end`, `before`) are taken as the Prometheus API takes
//! them: RFC 3339 or unix seconds; windows (`window`) as Prometheus
//! durations (`7d`, `90m`) or seconds. Answers use Prometheus's envelope
//! (`{"status":"success","data":...}`); bad input is a 400 whose message
//! names the field. The store is reached through [`EventsSource`].

mod browse;
mod params;
mod questions;
#[cfg(test)]
mod tests;

use axum::routing::{get, post};
use axum::Router;
use sightline_eventstore::model::{Event, EventScan, ScanRequest};
use std::io::Write;
use std::sync::Arc;

pub use sightline_eventstore::ExportFormat;

/// What the analytics API reads events through: the store's scan, plus
/// whole events for the event list and the export.
pub trait EventsSource: EventScan {
    /// The newest events of `req` (its `columns` unused), newest first, at
    /// most `limit`.
    fn recent(&self, req: &ScanRequest, limit: usize) -> sightline_eventstore::Result<Vec<Event>>;

    /// Writes the events of `req` to `out` as `format`.
    fn export(
        &self,
        req: &ScanRequest,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> sightline_eventstore::Result<()>;
}

impl EventsSource for sightline_eventstore::EventStore {
    fn recent(&self, req: &ScanRequest, limit: usize) -> sightline_eventstore::Result<Vec<Event>> {
        sightline_eventstore::EventStore::recent(self, req, limit)
    }

    fn export(
        &self,
        req: &ScanRequest,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> sightline_eventstore::Result<()> {
        sightline_eventstore::EventStore::export(self, req, format, out).map(|_| ())
    }
}

/// The routes, over `source`.
pub fn analytics_routes(source: Arc<dyn EventsSource>) -> Router {
    Router::new()
        .route("/api/v1/events/names", get(browse::names))
        .route("/api/v1/events/properties", get(browse::properties))
        .route("/api/v1/events/values", get(browse::values))
        .route("/api/v1/events/list", get(browse::list))
        .route("/api/v1/events/export", get(browse::export))
        .route("/api/v1/events/query", post(questions::trends))
        .route("/api/v1/events/active_users", post(questions::active_users))
        .route("/api/v1/events/funnel", post(questions::funnel))
        .route("/api/v1/events/retention", post(questions::retention))
        .route("/api/v1/events/abtest", post(questions::abtest))
        .with_state(source)
}
