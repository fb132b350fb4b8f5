//! LogQL, Loki's query language, written here from its documentation:
//! the lexer ([`lexer`]), the syntax tree ([`ast`]) and the parser
//! ([`parse`]). Errors say where the query went wrong, as Loki's do:
//! `parse error at line 1, col 12: syntax error: unexpected ...`.
//!
//! What the parser accepts: stream selectors; line filters (`|=`, `!=`,
//! `|~`, `!~`, `|>`, `!>`, `or` alternatives, `ip()`); parsers `json`
//! and `logfmt` (with extraction parameters; `--strict`, `--keep-empty`),
//! `regexp`, `pattern`, `unpack`; label filters over strings, numbers,
//! durations and byte sizes joined by `and`, `,`, `or` and parentheses;
//! `line_format`, `label_format`, `drop`, `keep`, `decolorize`; `unwrap`
//! with `duration()`/`bytes()` and label filters after it; every range
//! aggregation with `offset`; vector aggregations with `by`/`without`,
//! `topk`, `bottomk`, `sort`, `sort_desc`; binary operators with `bool`,
//! `on`/`ignoring` and `group_left`/`group_right`; `label_replace`;
//! `vector()`.

pub mod ast;
mod error;
pub mod eval;
pub mod exec;
pub mod format;
pub mod lexer;
mod parser;
pub mod patterns;

pub use error::{ParseError, Result};
pub use parser::parse;

#[cfg(test)]
mod tests;
