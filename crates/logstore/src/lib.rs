//! Sightline's log store: Loki's data model (streams of timestamped lines
//! identified by label sets, per tenant) in an engine of our own.
//!
//! - [`LogStore`] opens a directory and implements
//!   [`sightline_core::logs::LogAppender`] and [`sightline_core::logs::LogQuerier`];
//!   [`LogStoreOptions`] is its config section (`logs:`).
//! - The **head** keeps, per tenant and stream, an open chunk of plain
//!   lines and the closed chunks cut from it; every push is written to the
//!   shared WAL ([`sightline_storage::wal`]) before it is acknowledged, and
//!   the head is rebuilt from the WAL at open.
//! - **Chunks** ([`chunk`]) hold a stream's lines in columns compressed
//!   with zstd, with their time bounds, counts and a **token filter**
//!   ([`filter`]): a bloom filter of words and 3-grams that lets a search
//!   for `|= "rare-token"` skip chunks without decompressing them.
//! - **Blocks** ([`block`]) are immutable directories the head is flushed
//!   into: chunks, stream label sets and label postings, meta last.
//!   Compaction ([`compact`](LogStore::compact)) merges small blocks and
//!   re-cuts their chunks; retention deletes whole blocks by age and total
//!   size; a damaged block is set aside as `<id>.corrupted` and the rest
//!   keeps serving.
//! - Reads merge head and blocks per stream lazily ([`read`]), forwards or
//!   backwards, decompressing a chunk only when the merge reaches it.
//! - [`telemetry`]: the store's own metrics.
//!
//! `docs/format/logstore.md` describes every file.

mod append;
pub mod block;
pub mod chunk;
mod codec;
mod compact;
mod error;
pub mod filter;
mod head;
mod options;
mod query;
pub mod read;
mod store;
pub mod telemetry;
mod walrec;

pub use error::{Error, Result};
pub use options::{LogStoreOptions, WalSync};
pub use store::LogStore;

#[cfg(test)]
mod tests;
