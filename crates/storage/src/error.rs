//! The crate's one error type.

use sightline_core::ErrorKind;
use std::path::PathBuf;

/// What can go wrong in the storage primitives. Messages name the file and
/// the byte offset so an operator can find the damage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O call failed on `path`.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing (`open`, `write`, `fsync`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file's bytes do not match their framing or checksum.
    #[error("corrupt {path} at offset {offset}: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the damaged record or section.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A caller passed a name or option the primitives cannot use.
    #[error("{0}")]
    BadInput(String),
}

impl Error {
    /// Coarse classification for HTTP statuses: damage and I/O are the
    /// server's problem, bad names the caller's.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } | Error::Corrupt { .. } => ErrorKind::Internal,
            Error::BadInput(_) => ErrorKind::BadData,
        }
    }

    /// An [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Corrupt`].
    pub fn corrupt(path: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_offset_and_kinds_map_to_core() {
        let e = Error::corrupt("/data/wal/00000003", 120, "checksum mismatch");
        assert_eq!(
            e.to_string(),
            "corrupt /data/wal/00000003 at offset 120: checksum mismatch"
        );
        assert_eq!(e.kind(), ErrorKind::Internal);
        let io = Error::io(
            "fsync",
            "/data/wal",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(io.to_string().starts_with("fsync /data/wal: "), "{io}");
        let c: sightline_core::Error =
            Error::BadInput("wal segment size must be positive".into()).into();
        assert_eq!(c.kind(), ErrorKind::BadData);
    }
}
