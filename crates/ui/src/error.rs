//! The crate's one error type.

use axum::http::StatusCode;
use std::path::PathBuf;

/// What can go wrong storing, loading or serving dashboards.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No dashboard has this uid.
    #[error("Dashboard not found")]
    DashboardNotFound,
    /// No folder has this uid.
    #[error("folder not found: {0:?}")]
    FolderNotFound(String),
    /// The request or the dashboard in it is not acceptable; the message
    /// says what and where.
    #[error("{0}")]
    BadRequest(String),
    /// A save based on an older version, without `overwrite`.
    #[error("The dashboard has been changed by someone else")]
    VersionMismatch,
    /// Another dashboard of the folder has the title, without `overwrite`.
    #[error("A dashboard with the same name in the folder already exists")]
    NameExists,
    /// A provisioned dashboard whose provider does not allow UI updates.
    #[error("Cannot save provisioned dashboard")]
    Provisioned,
    /// Deleting a dashboard that a provider owns.
    #[error("provisioned dashboard cannot be deleted")]
    ProvisionedDelete,
    /// A folder of that uid or title exists.
    #[error("{0}")]
    FolderExists(String),
    /// A file could not be read or written.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A durable write failed (temp file, fsync, rename).
    #[error("{0}")]
    Storage(#[from] sightline_storage::Error),
    /// The `dashboards:` section is refused (file:line:column: reason).
    #[error("{0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: &std::path::Path, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }

    /// The HTTP status Grafana answers this error with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::DashboardNotFound | Error::FolderNotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) | Error::Provisioned | Error::ProvisionedDelete => {
                StatusCode::BAD_REQUEST
            }
            Error::VersionMismatch | Error::NameExists => StatusCode::PRECONDITION_FAILED,
            Error::FolderExists(_) => StatusCode::CONFLICT,
            Error::Io { .. } | Error::Storage(_) | Error::Config(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// Grafana's `status` field for the 412 answers of a save.
    pub fn grafana_status(&self) -> Option<&'static str> {
        match self {
            Error::VersionMismatch => Some("version-mismatch"),
            Error::NameExists => Some("name-exists"),
            _ => None,
        }
    }
}

/// The crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
