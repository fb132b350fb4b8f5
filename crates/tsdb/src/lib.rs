//! Sightline's metrics storage engine: a Prometheus-style TSDB written for
//! Sightline.
//!
//! The one type callers need is [`Db`]:
//!
//! ```no_run
//! use sightline_core::{Labels, MetricAppender, MetricQuerier, Matcher, QueryContext};
//! use sightline_tsdb::{Db, Options};
//!
//! let db = Db::open(std::path::Path::new("data"), Options::default())?;
//! let mut app = db.appender();
//! app.append(0, &Labels::from_pairs([("__name__", "up")]), 1_000, 1.0)?;
//! app.commit()?;
//! let ctx = QueryContext::new();
//! let series = db.select(&ctx, 0, 2_000, &[Matcher::equal("__name__", "up")])?.into_vec()?;
//! println!("{} series, {} head series", series.len(), db.stats().head_series);
//! db.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`Db::open`] replays the write-ahead log, loads blocks and starts two
//!   threads: a WAL fsync timer and maintenance (cut the head into blocks,
//!   compact, retention). [`Db::run_maintenance_once`] runs maintenance now.
//! - `Db` implements [`sightline_core::MetricAppender`] (transactions that
//!   are written to the WAL with one `write(2)` on commit) and
//!   [`sightline_core::MetricQuerier`] (head and blocks merged, streamed
//!   series by series and charged to the query's context: `select.rs`).
//! - [`Db::stats`] returns [`DbStats`] for self-telemetry; [`Db::close`]
//!   flushes and fsyncs.
//! - Exemplars go to a bounded in-memory ring (`exemplars.rs`, Prometheus's
//!   circular exemplar storage) through the WAL; [`Db::exemplar_stats`] and
//!   [`Db::set_max_exemplars`] report and resize it.
//! - [`BlockWriter`] writes aligned blocks from samples in any order, for
//!   `sightline import`; a running `Db` picks them up at its next
//!   maintenance, a closed one at open.
//! - [`Options`] holds the knobs; [`Error`] the failures, with
//!   [`Error::kind`] mapping onto [`sightline_core::ErrorKind`].
//!
//! Inside, one module per concern: `head/` (series with Gorilla chunks,
//! interned labels, postings), `wal.rs` (the TSDB's WAL record types),
//! `chunk/` (codecs), `block/` (immutable blocks: chunk pages, index, meta),
//! `compact.rs` (compaction and retention), `querier.rs` (merging head and
//! blocks), `appender.rs` (transactions). Every file format is described byte
//! by byte in `docs/format/`.
//!
//! What is not about metrics lives in `sightline-storage`, shared with the
//! other stores: the WAL's segments, framing, fsync, checkpoints and repair;
//! blocks as immutable directories (temporary name, `meta.json` last,
//! rename); the retention policy; the read-only mappings of `chunks_head/`;
//! the names of it all.
//!
//! Known limits: head symbols are only dropped at restart (WAL replay); a
//! block is one chunk file (no 512 MiB split); series ids are `u32`, so a
//! process can create about four billion series before it must restart;
//! `select` lists the head's matching series (chunk references, sorted by
//! labels) when called, for a view consistent with its list of blocks;
//! blocks are walked series by series and chunks decoded as read.

mod appender;
mod backfill;
mod block;
mod chunk;
mod compact;
mod db;
mod encoding;
mod error;
mod exemplars;
mod head;
mod options;
mod postings;
mod querier;
mod select;
mod stats;
mod telemetry;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_histograms;
#[cfg(test)]
mod tests_query;
#[cfg(test)]
mod tests_wal;
#[cfg(test)]
mod testutil;
mod wal;
mod wal_histograms;

pub use backfill::BlockWriter;
pub use block::meta::{BlockMeta, BlockStats, Compaction};
pub use db::Db;
pub use error::{Error, Result};
pub use exemplars::ExemplarStats;
pub use options::{
    default_block_range_ms, default_maintenance_interval_ms, default_max_exemplars,
    default_retention_time_ms, default_wal_fsync_interval_ms, default_wal_segment_size, Options,
};
pub use stats::DbStats;
