//! Sightline's user event store: product events (sign-ups, logins, clicks,
//! purchases, feedback, errors, sessions) in Segment's data model, kept
//! columnar on the shared storage primitives, scrubbed of personal data
//! before anything is stored, and queried for product analytics.
//!
//! - [`model`]: the event ([`model::Event`], Segment's `track`, `identify`,
//!   `page`, `screen`, `group` and `alias` calls) and the columnar batches
//!   the analytics read ([`model::EventBatch`], through [`model::EventScan`]).
//! - [`Error`]: the crate's one error type.
//!
//! `docs/format/eventstore.md` describes every file; `docs/events.md` is the
//! user's page.

pub mod analytics;
mod error;
pub mod model;

pub use error::{Error, Result};
