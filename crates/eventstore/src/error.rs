//! The crate's one error type.

use sightline_core::ErrorKind;
use std::path::PathBuf;

/// What can go wrong in the event store. Messages name the file and, for
/// damage, the byte offset; for bad input, the field.
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
    /// An event or a query the store cannot take; says which field and why.
    #[error("{field}: {reason}")]
    BadInput {
        /// The field, as the API names it (`events[3].timestamp`).
        field: String,
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
            Error::BadInput { .. } => ErrorKind::BadData,
        }
    }
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
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

    pub(crate) fn bad(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadInput {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<Error> for sightline_core::Error {
    fn from(e: Error) -> Self {
        sightline_core::Error::new(e.kind(), e.to_string())
    }
}
