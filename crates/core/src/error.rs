//! The error type shared by the storage traits.

/// What went wrong, coarsely; decides the HTTP status and Prometheus `errorType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller sent something malformed (HTTP 400, `bad_data`).
    BadData,
    /// A sample is older than the newest one of its series and outside the
    /// out-of-order window (HTTP 400).
    OutOfOrder,
    /// A sample is outside the time range the store accepts (HTTP 400).
    OutOfBounds,
    /// A different value for a timestamp the series already has (HTTP 400).
    DuplicateSample,
    /// A limit was hit (sample limit, label limits, max samples).
    LimitExceeded,
    /// The operation ran out of time (HTTP 503, `timeout`).
    Timeout,
    /// The operation was canceled (HTTP 499/503, `canceled`).
    Canceled,
    /// Something was not found (HTTP 404, `not_found`).
    NotFound,
    /// Query evaluation failed (HTTP 422, `execution`).
    Execution,
    /// The store is not ready, e.g. still replaying its WAL (HTTP 503, `unavailable`).
    Unavailable,
    /// A bug or an I/O failure on our side (HTTP 500, `internal`).
    Internal,
}

impl ErrorKind {
    /// The HTTP status code Prometheus uses for this kind of failure.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadData
            | ErrorKind::OutOfOrder
            | ErrorKind::OutOfBounds
            | ErrorKind::DuplicateSample => 400,
            ErrorKind::LimitExceeded => 422,
            ErrorKind::NotFound => 404,
            ErrorKind::Execution => 422,
            ErrorKind::Timeout | ErrorKind::Unavailable => 503,
            ErrorKind::Canceled => 499,
            ErrorKind::Internal => 500,
        }
    }

    /// The `errorType` field of Prometheus's JSON API.
    pub fn prometheus_error_type(self) -> &'static str {
        match self {
            ErrorKind::BadData
            | ErrorKind::OutOfOrder
            | ErrorKind::OutOfBounds
            | ErrorKind::DuplicateSample => "bad_data",
            ErrorKind::LimitExceeded | ErrorKind::Execution => "execution",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error from a store or an engine: a kind plus a message for humans.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Builds an error of `kind` with a lowercase message without a final period.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// Shorthand for [`ErrorKind::BadData`].
    pub fn bad_data(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::BadData, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message alone.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(e.to_string())
    }
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
