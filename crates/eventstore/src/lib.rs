//! Sightline's user event store: product events (sign-ups, logins, clicks,
//! purchases, feedback, errors, sessions) in Segment's data model, kept
//! columnar on the shared storage primitives, scrubbed of personal data
//! before anything is stored, and queried for product analytics.
//!
//! - [`model`]: the event ([`model::Event`], Segment's `track`, `identify`,
//!   `page`, `screen`, `group` and `alias` calls) and the columnar batches
//!   the analytics read ([`model::EventBatch`], through [`model::EventScan`]).
//! - [`EventStore`] opens a directory and implements
//!   [`model::EventAppender`] and [`model::EventScan`];
//!   [`EventStoreOptions`] is its config. Every append is written to the
//!   shared WAL ([`sightline_storage::wal`]) before it is acknowledged and
//!   kept in the **head**, rebuilt from the WAL at open; retries of a
//!   stored (`source`, `messageId`) are dropped within a window.
//! - The head is cut into immutable **day blocks** (`block`): the events
//!   of one UTC day in row groups of columns (times, names and people as
//!   dictionary codes, ids, one dictionary column per property key, and the
//!   JSON documents), so a scan decompresses only the columns it needs and
//!   skips row groups by time and name. Compaction merges a day's blocks
//!   into one; retention deletes whole days by age and total size; a
//!   damaged block is set aside as `<id>.corrupted`.
//! - [`export`](EventStore::export): NDJSON in Segment's field names, or
//!   Parquet.
//! - [`telemetry`]: the store's own metrics.
//! - [`scrub`]: PII scrubbing applied by the intake before append
//!   ([`scrub::Scrubber`], per source).
//! - [`Error`]: the crate's one error type.
//!
//! `docs/format/eventstore.md` describes every file; `docs/events.md` is the
//! user's page.

pub mod analytics;
mod block;
mod codec;
mod compact;
mod dedupe;
mod docs;
mod error;
mod export;
mod head;
pub mod model;
mod options;
pub mod props;
mod scan;
pub mod scrub;
mod store;
pub mod telemetry;
mod walrec;

pub use error::{Error, Result};
pub use export::{segment_message, ExportFormat, PARQUET_SCHEMA};
pub use options::{EventStoreOptions, WalSync};
pub use store::EventStore;

#[cfg(test)]
mod tests;
