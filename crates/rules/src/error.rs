//! The crate's error type.

use sightline_core::ErrorKind;

/// Why loading rule files failed. (Evaluation errors are per rule, in
/// [`crate::Rule::last_error`], as the API reports them.)
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A rule file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        message: String,
    },
    /// A rule file is not valid YAML or not a valid rule file; one entry per
    /// problem, each already prefixed with the file name and position.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

impl Error {
    /// The coarse kind, for HTTP statuses.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Internal,
            Error::Invalid(_) => ErrorKind::BadData,
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
