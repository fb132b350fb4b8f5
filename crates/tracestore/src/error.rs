//! The crate's one error type.

use sightline_core::ErrorKind;
use std::path::PathBuf;

/// What can go wrong in the trace store. Messages name the file and, for
/// damage, the byte offset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The shared storage primitives (WAL, directories) failed.
    #[error(transparent)]
    Storage(#[from] sightline_storage::Error),
    /// An I/O call failed on `path`.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Bytes on disk (or in a WAL record) that do not decode.
    #[error("corrupt {what} at offset {offset}: {reason}")]
    Corrupt {
        /// The file or structure.
        what: String,
        /// Byte offset of the damage.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// An option the store cannot use.
    #[error("invalid trace store option {field}: {reason}")]
    BadOption {
        /// The option's config name.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// Coarse classification for HTTP statuses.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Storage(e) => e.kind(),
            Error::Io { .. } | Error::Corrupt { .. } => ErrorKind::Internal,
            Error::BadOption { .. } => ErrorKind::BadData,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            what: what.into(),
            offset,
            reason: reason.into(),
        }
    }
}

impl From<Error> for sightline_core::Error {
    fn from(e: Error) -> Self {
        sightline_core::Error::new(e.kind(), e.to_string())
    }
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
