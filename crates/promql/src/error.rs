//! The engine's error type.

use sightline_core::ErrorKind;

/// Why a query failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The query text did not parse; the message names the position when the
    /// parser reports one.
    #[error("{0}")]
    Parse(String),
    /// Evaluation failed (bad argument, many-to-many matching, ...).
    #[error("{0}")]
    Execution(String),
    /// The query ran longer than the engine's timeout.
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The caller canceled the query ([`crate::EngineOptions::cancel`], or
    /// the [`sightline_core::QueryContext`] it passed).
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// The query would hold more samples in memory than allowed.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// The store failed (or stopped for the query's context with a limit
    /// of its own).
    #[error("{0}")]
    Storage(sightline_core::Error),
}

/// A store's error; its timeouts and cancellations (the query's context
/// stopping it) become the engine's own, so they read the same wherever
/// they were noticed.
impl From<sightline_core::Error> for Error {
    fn from(e: sightline_core::Error) -> Self {
        match e.kind() {
            ErrorKind::Timeout => Error::Timeout("query execution"),
            ErrorKind::Canceled => Error::Canceled("query execution"),
            _ => Error::Storage(e),
        }
    }
}

impl Error {
    /// The coarse kind, for HTTP statuses and Prometheus's `errorType`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse(_) => ErrorKind::BadData,
            Error::Execution(_) => ErrorKind::Execution,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Canceled(_) => ErrorKind::Canceled,
            Error::TooManySamples(_) => ErrorKind::LimitExceeded,
            Error::Storage(e) => e.kind(),
        }
    }

    pub(crate) fn exec(msg: impl Into<String>) -> Self {
        Error::Execution(msg.into())
    }
}

impl From<Error> for sightline_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Storage(e) => e,
            other => sightline_core::Error::new(other.kind(), other.to_string()),
        }
    }
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
