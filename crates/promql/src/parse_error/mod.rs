//! Parse errors with the position and message Prometheus 3 prints
//! (`1:16: parse error: unclosed left parenthesis`).
//!
//! `promql-parser` decides whether a query parses, but its errors carry no
//! position and often another text (`invalid promql query` for every
//! syntax error). When it refuses a query, the query is looked at again
//! the way Prometheus reads it, to find Prometheus's first error:
//!
//! 1. [`lex`] scans it with the states and messages of Prometheus's lexer;
//! 2. [`syntax`] follows the grammar over those tokens and stops where
//!    Prometheus's parser would, with its "unexpected ..." message, and
//!    collects the errors Prometheus raises while reducing;
//! 3. [`check`] runs Prometheus's type checks over the resulting tree.
//!
//! This runs only on the error path; accepted queries never pay for it.
//! What still differs is listed in docs/prometheus-api.md.

mod check;
mod lex;
mod literal;
mod syntax;

pub(crate) use literal::{go_quoted_literal, quote_bytes};

/// Prometheus's error text for `query`, which `promql-parser` refused
/// with `crate_msg`.
pub(crate) fn prometheus_message(query: &str, crate_msg: &str) -> String {
    let (pos, msg) = locate(query, crate_msg);
    format!("{}: parse error: {msg}", position(query, pos))
}

/// Prometheus's `PositionRange.StartPosInput`: 1-based line and byte
/// column of `pos`.
fn position(query: &str, pos: usize) -> String {
    if query.is_empty() {
        return "unknown position".into();
    }
    let pos = pos.min(query.len());
    let before = &query.as_bytes()[..pos];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let last_break = before.iter().rposition(|b| *b == b'\n');
    let col = match last_break {
        Some(i) => pos - i,
        None => pos + 1,
    };
    format!("{line}:{col}")
}

fn crate_parse(q: &str) -> Result<promql_parser::parser::Expr, String> {
    promql_parser::parser::parse(q)
}

fn locate(q: &str, crate_msg: &str) -> (usize, String) {
    let scan = lex::scan(q);
    let known_fn = |name: &str| !matches!(crate_parse(&format!("{name}()")), Err(e) if e.contains("unknown function"));
    let mut p = syntax::Parser::new(q, &scan.toks, scan.err.as_ref(), &known_fn);
    let tree = p.parse_query();
    if let Some(first) = p.errs.first() {
        return first.clone();
    }
    let tree = match tree {
        Err(e) => return e,
        Ok(t) => t,
    };
    let all_empty = |sel: &str| matches!(crate_parse(sel), Err(e) if e.contains("at least one non-empty matcher"));
    let type_of = |s: &str| crate_parse(s).ok().map(|e| e.value_type());
    let mut c = check::Checker::new(q, crate_msg, &all_empty, &type_of);
    c.check(&tree);
    if let Some(e) = c.first {
        return e;
    }
    fallback(q, crate_msg, &tree)
}

/// Errors Prometheus's grammar and type checks do not explain (regexps
/// the `regex` crate refuses, ...): the crate's message, at the first
/// place it plausibly belongs.
fn fallback(q: &str, crate_msg: &str, tree: &syntax::Node) -> (usize, String) {
    if let Some(re) = crate_msg.strip_prefix("illegal regex for ") {
        if let Some(pos) = find_matcher(tree, re) {
            return (pos, format!("error parsing regexp: {crate_msg}"));
        }
    }
    (prefix_position(q), crate_msg.to_owned())
}

fn find_matcher(n: &syntax::Node, re: &str) -> Option<usize> {
    if let syntax::N::Selector { matchers, .. } = &n.kind {
        for m in matchers {
            let inner = m.value.get(1..m.value.len().saturating_sub(1));
            if m.op.contains('~') && inner == Some(re) {
                return Some(m.pos);
            }
        }
    }
    n.kids.iter().find_map(|k| find_matcher(k, re))
}

/// Just past the longest prefix that parses: where a query stops making
/// sense when nothing better is known.
fn prefix_position(q: &str) -> usize {
    if q.len() <= 4096 {
        for (i, _) in q.char_indices().rev() {
            if i > 0 && crate_parse(&q[..i]).is_ok() {
                let rest = &q[i..];
                return i + (rest.len() - rest.trim_start().len());
            }
        }
    }
    0
}

#[cfg(test)]
mod tests;
