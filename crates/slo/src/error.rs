//! The crate's error type.

use sightline_core::ErrorKind;

/// Why loading specs, generating rules or building a report failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A spec file could not be read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        message: String,
    },
    /// A spec file is not valid YAML or not a valid spec; one entry per
    /// problem, each already prefixed with `file:line:col: field:`.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The generated rules did not pass the rule file checks (a bug here,
    /// or a query that only fails once its window is filled in).
    #[error("generated rules are invalid: {}", .0.join("; "))]
    Generated(Vec<String>),
    /// The querier behind a report failed.
    #[error("query {expr:?} failed: {message}")]
    Query {
        /// The PromQL expression.
        expr: String,
        /// What the engine said.
        message: String,
    },
}

impl Error {
    /// The coarse kind, for HTTP statuses.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } | Error::Generated(_) => ErrorKind::Internal,
            Error::Invalid(_) => ErrorKind::BadData,
            Error::Query { .. } => ErrorKind::Execution,
        }
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
