//! The crate's one error type.

/// A query that could not be parsed: where, and what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parse error at line {line}, col {col}: {message}")]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub col: usize,
    /// Byte offset of the offending token.
    pub offset: usize,
    /// What was wrong, e.g. `syntax error: unexpected IDENTIFIER, expecting STRING`.
    pub message: String,
}

impl ParseError {
    /// An error at byte `offset` of `src`.
    pub fn at(src: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ParseError {
            line,
            col,
            offset,
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ParseError>;
