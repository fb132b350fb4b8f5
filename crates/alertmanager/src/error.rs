//! The crate's one error type.

/// What went wrong in the Alertmanager; messages are lowercase without a final period.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `alertmanager.yml` (or a template file) is invalid; the message names file, line and field.
    #[error("{0}")]
    Config(String),
    /// A request carried bad input (an alert, a silence, a matcher).
    #[error("{0}")]
    BadInput(String),
    /// A silence or alert that was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the current state (acknowledging a resolved
    /// incident).
    #[error("{0}")]
    Conflict(String),
    /// A credential carried in the request itself (a signed link) is not
    /// valid.
    #[error("{0}")]
    Forbidden(String),
    /// Reading or writing the data directory failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Reading or writing one of the state files (silences, notification log,
    /// history) failed; names the operation and the file.
    #[error("{op} {}: {source}", path.display())]
    State {
        op: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A template failed to parse or execute.
    #[error("template: {0}")]
    Template(String),
}

/// Shorthand for results with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
