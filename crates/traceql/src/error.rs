//! The crate's one error type.

/// What went wrong: a query that did not parse (with where), or a store
/// that failed while a query read it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Worded as Tempo's parser words it:
    /// `parse error at line 1, col 12: syntax error: unexpected ...`.
    #[error("parse error at line {line}, col {col}: {message}")]
    Parse {
        /// 1-based line of the offending token.
        line: usize,
        /// 1-based column (in characters) of the offending token.
        col: usize,
        /// Byte offset of the offending token.
        offset: usize,
        message: String,
    },
    /// A query that parsed but cannot run where it was sent (a metrics
    /// query to search, a search query to query_range, a bad step).
    #[error("{0}")]
    Invalid(String),
    /// The trace store failed.
    #[error(transparent)]
    Store(#[from] sightline_core::Error),
}

impl Error {
    /// A parse error at byte `offset` of `src`.
    pub fn parse_at(src: &str, offset: usize, message: impl Into<String>) -> Error {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Error::Parse {
            line,
            col,
            offset,
            message: message.into(),
        }
    }

    /// The HTTP status an API answers this error with: 400 for the
    /// caller's mistakes, the store's own status otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Parse { .. } | Error::Invalid(_) => 400,
            Error::Store(e) => e.kind().http_status(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
