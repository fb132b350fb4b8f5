//! TraceQL, Grafana Tempo's trace query language, written here from its
//! documentation: the lexer ([`lexer`]), the syntax tree ([`ast`]), the
//! parser ([`parse`]), the evaluator over one trace ([`eval`], with the
//! structural operators in `structural`), search over a trace store
//! ([`search()`]) and TraceQL metrics over it ([`query_range`]), and both
//! answers in the JSON of Tempo's API ([`json`]).
//!
//! Errors say where the query went wrong, as Tempo's do:
//! `parse error at line 1, col 12: syntax error: unexpected ...`.
//!
//! Semantics follow Tempo's: a comparison with a missing attribute, or
//! between mismatched types, is false (`!=` too); `nil` tests existence;
//! regexps are fully anchored; `A && B` between spansets keeps a trace
//! when both match and yields both's spans; `A > B` yields the spans of
//! `B` whose parent is in `A`, and so on (see `docs/traceql.md`).

pub mod ast;
mod error;
pub mod eval;
pub mod json;
pub mod lexer;
mod matcher;
pub mod metrics;
mod parser;
pub mod search;
mod structural;
pub mod value;

pub use error::{Error, Result};
pub use eval::{eval_trace, Spanset, TraceView};
pub use metrics::{query_range, MetricsResult, Series};
pub use parser::parse;
pub use search::{search, SearchQuery, SearchResult, SpanResult, SpansetResult, TraceResult};

#[cfg(test)]
mod tests;
