//! The crate's one error type.

use sightline_core::ErrorKind;
use std::path::PathBuf;

/// Everything that can go wrong in the TSDB. Messages name the file, the
/// offset or the series involved so an operator can find the damage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The shared storage primitives' failures, which the TSDB's own files
    /// fail the same way: an I/O call on a path (`fsync /data/wal: ...`), or
    /// bytes that do not match their format or checksum (`corrupt <path> at
    /// offset N: reason`). Kept whole rather than repeated here, so there is
    /// one definition of each.
    #[error(transparent)]
    Storage(#[from] sightline_storage::Error),
    /// A sample is older than the newest sample of its series.
    #[error("out of order sample for {series} at t={t}")]
    OutOfOrder {
        /// The series, as `name{labels}`.
        series: String,
        /// The rejected timestamp.
        t: i64,
    },
    /// A native histogram sample not newer than its series' newest sample:
    /// out-of-order histograms are not stored (as in Prometheus 2.42).
    #[error("out of order native histogram sample for {series} at t={t}: histogram samples must be newer than the series' newest sample (out-of-order native histograms are not supported)")]
    HistogramOutOfOrder {
        /// The series, as `name{labels}`.
        series: String,
        /// The rejected timestamp.
        t: i64,
    },
    /// A sample is older than what the head accepts.
    #[error("out of bounds sample for {series} at t={t} (min valid time {min_valid})")]
    OutOfBounds {
        /// The series, as `name{labels}`.
        series: String,
        /// The rejected timestamp.
        t: i64,
        /// The oldest timestamp the head accepts now.
        min_valid: i64,
    },
    /// A different value for a timestamp the series already has.
    #[error("duplicate sample for {series} at t={t} with a different value")]
    DuplicateSample {
        /// The series, as `name{labels}`.
        series: String,
        /// The timestamp.
        t: i64,
    },
    /// The caller passed something unusable (empty label set, bad option).
    #[error("{0}")]
    BadData(String),
    /// The database was closed.
    #[error("database at {0} is closed")]
    Closed(PathBuf),
    /// A bug or an impossible state; the message says which.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Coarse classification for HTTP statuses and Prometheus `errorType`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Storage(e) => e.kind(),
            Error::Internal(_) => ErrorKind::Internal,
            Error::OutOfOrder { .. } | Error::HistogramOutOfOrder { .. } => ErrorKind::OutOfOrder,
            Error::OutOfBounds { .. } => ErrorKind::OutOfBounds,
            Error::DuplicateSample { .. } => ErrorKind::DuplicateSample,
            Error::BadData(_) => ErrorKind::BadData,
            Error::Closed(_) => ErrorKind::Unavailable,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Storage(sightline_storage::Error::io(op, path, source))
    }

    pub(crate) fn corrupt(
        path: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        Error::Storage(sightline_storage::Error::corrupt(path, offset, reason))
    }
}

impl From<Error> for sightline_core::Error {
    fn from(e: Error) -> Self {
        sightline_core::Error::new(e.kind(), e.to_string())
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_core() {
        let e = Error::OutOfOrder {
            series: "up".into(),
            t: 1,
        };
        assert_eq!(e.kind(), ErrorKind::OutOfOrder);
        let c: sightline_core::Error = Error::corrupt("/x/index", 12, "bad crc").into();
        assert_eq!(c.kind(), ErrorKind::Internal);
        assert_eq!(c.message(), "corrupt /x/index at offset 12: bad crc");
    }
}
