//! What Sightline's stores share on disk, with no knowledge of what they
//! store: metrics today (`sightline-tsdb`), logs and traces next.
//!
//! - [`wal`]: the segmented write-ahead log ([`wal::Wal`]): numbered
//!   segments of checksummed records, an fsync policy
//!   ([`wal::SyncPolicy`]), torn-tail repair when opened, checkpoints, and a
//!   read-only [`wal::replay`].
//! - [`record`]: the record framing (type, length, CRC-32, body) of WAL
//!   segments and checkpoints.
//! - [`dir`]: immutable directories ([`dir::PendingDir`]): written under a
//!   temporary name, the meta file last, fsynced, renamed into place;
//!   leftovers of a crash removed at open, damaged ones set aside.
//! - [`retention`]: which directories to delete by age and by total size.
//! - [`mmap`]: read-only mappings of immutable files ([`mmap::ReadOnlyMap`])
//!   and of files filled front to back ([`mmap::AppendOnlyFile`]).
//! - [`layout`]: the names of everything above as relative `/`-separated
//!   paths ([`layout::RelPath`]), which an `object_store` backend can use as
//!   object keys unchanged.
//! - [`Error`]: the one error type; [`Error::kind`] maps it onto
//!   [`sightline_core::ErrorKind`].
//!
//! What each store owns: its record types and their bodies, the files inside
//! its immutable directories and its meta file's contents. The metrics TSDB
//! numbers its WAL records 1-10 and writes blocks of `chunks/000001`,
//! `index` and `meta.json`. The log and trace stores will reuse the WAL
//! (their own record types for pushed entries and spans), immutable
//! directories and retention (one directory per time-bounded chunk or
//! block), the mappings (read-only column and index files) and the layout
//! (so that their blocks can move to object storage); the byte formats are
//! in `docs/format/`.
//!
//! ```
//! use sightline_storage::{record, wal};
//! # let dir = std::env::temp_dir().join(format!("storage-doc-{}", std::process::id()));
//! let opts = wal::WalOptions { segment_size: 1 << 20, sync: wal::SyncPolicy::Periodic };
//! let log = wal::Wal::open(&dir, opts, Default::default(), |_, _| true)?;
//! log.log_with(|buf, _scratch| record::frame(buf, 1, b"hello"))?;
//! log.sync()?;
//! drop(log);
//! let mut seen = Vec::new();
//! wal::replay(&dir, |typ, body| { seen.push((typ, body.to_vec())); true })?;
//! assert_eq!(seen, vec![(1, b"hello".to_vec())]);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), sightline_storage::Error>(())
//! ```

pub mod dir;
mod error;
pub mod layout;
pub mod mmap;
pub mod record;
pub mod retention;
pub mod wal;

pub use error::{Error, Result};
