//! Sightline's trace store: OpenTelemetry's span model
//! ([`sightline_core::traces`]) in an engine of our own, after Tempo's
//! design (blocks of traces sorted by id, a bloom filter per block,
//! columnar attributes) but in a process of its own and without Parquet.
//!
//! - [`TraceStore`] opens a directory and implements
//!   [`sightline_core::traces::TraceAppender`] and
//!   [`sightline_core::traces::TraceQuerier`], per tenant;
//!   [`TraceStoreOptions`] is its config section (`traces.store`).
//! - Every append is written to the shared WAL
//!   ([`sightline_storage::wal`]) before it is acknowledged, and the
//!   **head** (spans grouped by trace, kept as encoded rows) is rebuilt
//!   from the WAL at open.
//! - The head is cut by size or age into **blocks** ([`block`]), one per
//!   tenant: traces sorted by id in column groups compressed with zstd,
//!   strings dictionary-coded, resources and scopes kept once; an index of
//!   sorted trace ids with a bloom filter; per-block time bounds, services,
//!   operations and a tag table that let searches skip blocks. A late span
//!   lands in a later block; reads merge a trace's parts.
//! - Compaction merges small blocks (joining traces' parts); retention
//!   deletes whole blocks by age and total size; a damaged block is set
//!   aside as `<id>.corrupted` and the rest keeps serving.
//! - [`telemetry`]: the store's own metrics.
//!
//! `docs/format/tracestore.md` describes every file; `docs/traces-store.md`
//! the options and what differs from Tempo.

mod append;
pub mod block;
mod codec;
mod compact;
mod error;
mod group;
mod head;
mod options;
mod prefilter;
mod query;
mod store;
pub mod telemetry;
mod write;

pub use error::{Error, Result};
pub use options::{TraceStoreOptions, WalSync};
pub use store::TraceStore;

#[cfg(test)]
mod tests;
