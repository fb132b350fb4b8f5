//! The probe crate's one error enum.

/// Everything that can go wrong outside a probe itself (a probe that fails
/// is not an error: it is a [`crate::ProbeResult`] with `probe_success 0`).
/// Messages are lowercase, without a final period, and say what and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A modules file or `probes:` section that cannot be used, with
    /// `file:line:col: field.path: reason`.
    #[error("{0}")]
    Config(String),
    /// I/O (reading a CA file, the uptime state file).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A corrupt uptime state file.
    #[error("uptime state {file}: line {line}: {message}")]
    State {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What was wrong.
        message: String,
    },
}

impl Error {
    /// The coarse kind, for HTTP status mapping.
    pub fn kind(&self) -> sightline_core::ErrorKind {
        use sightline_core::ErrorKind;
        match self {
            Error::Config(_) => ErrorKind::BadData,
            Error::Io(_) | Error::State { .. } => ErrorKind::Internal,
        }
    }
}

/// Result with the probe [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
