//! The ingest crate's one error enum.

/// Everything that can go wrong while ingesting. Messages are lowercase,
/// without a final period, and say what and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed exposition (scrape body or import file).
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number in the body.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A configuration file that cannot be used.
    #[error("{0}")]
    Config(String),
    /// A malformed remote_write request.
    #[error("{0}")]
    RemoteWrite(String),
    /// A malformed OTLP request (body, encoding, JSON).
    #[error("{0}")]
    Otlp(String),
    /// A malformed Loki push body (encoding, protobuf, JSON).
    #[error("{0}")]
    LokiPush(String),
    /// A malformed span batch (Zipkin, Jaeger).
    #[error("{0}")]
    Traces(String),
    /// A malformed syslog message or a syslog listener that cannot start.
    #[error("{0}")]
    Syslog(String),
    /// A scrape that failed (HTTP, timeout, limits).
    #[error("{0}")]
    Scrape(String),
    /// An error from the store.
    #[error(transparent)]
    Storage(#[from] sightline_core::Error),
    /// I/O (reading files for discovery or config).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A request body in a media type or encoding we do not read (remote
    /// write with another Content-Type or Content-Encoding): HTTP 415, which
    /// [`sightline_core::ErrorKind`] has no kind for, so the API matches
    /// this variant itself.
    #[error("{0}")]
    UnsupportedMediaType(String),
}

impl Error {
    /// The coarse kind, for HTTP status mapping.
    pub fn kind(&self) -> sightline_core::ErrorKind {
        use sightline_core::ErrorKind;
        match self {
            Error::Parse { .. }
            | Error::Config(_)
            | Error::RemoteWrite(_)
            | Error::Otlp(_)
            | Error::LokiPush(_)
            | Error::Traces(_)
            | Error::Syslog(_)
            | Error::UnsupportedMediaType(_) => ErrorKind::BadData,
            Error::Scrape(_) => ErrorKind::Unavailable,
            Error::Storage(e) => e.kind(),
            Error::Io(_) => ErrorKind::Internal,
        }
    }
}

/// Result with the ingest [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
