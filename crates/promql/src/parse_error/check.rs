//! Prometheus's type checks (`checkAST`) over the [`super::syntax`] tree,
//! in its order, for the first error and where it is.
//!
//! Function signatures are `promql-parser`'s, which is not asked for
//! them directly: its message for the refused query names the function
//! and what was wrong (`expected type matrix in call to function 'rate',
//! got vector`), and the check places that message at the first call and
//! argument it fits. Everything else is checked here from the tree.

use super::lex::{quote_str, Op};
use super::syntax::{Node, PErr, N};
use promql_parser::parser::value::ValueType;

/// What `promql-parser` said about a function call, parsed from its message.
enum CallErr {
    /// Prometheus's message for a call with this many arguments.
    Arity {
        name: String,
        got: usize,
        msg: String,
    },
    /// Prometheus's message for an argument of type `got`.
    ArgType {
        name: String,
        got: ValueType,
        msg: String,
    },
}

/// Prometheus's `DocumentedType`.
fn documented(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
    }
}

fn value_type(s: &str) -> Option<ValueType> {
    Some(match s {
        "vector" => ValueType::Vector,
        "matrix" => ValueType::Matrix,
        "scalar" => ValueType::Scalar,
        "string" => ValueType::String,
        _ => return None,
    })
}

fn call_err(crate_msg: &str) -> Option<CallErr> {
    // "expected type matrix in call to function 'rate', got vector"
    if let Some(rest) = crate_msg.strip_prefix("expected type ") {
        let (want, rest) = rest.split_once(" in call to function '")?;
        let (name, got) = rest.split_once("', got ")?;
        let (want, got) = (value_type(want)?, value_type(got)?);
        return Some(CallErr::ArgType {
            name: name.to_owned(),
            got,
            msg: format!(
                "expected type {} in call to function {}, got {}",
                documented(want),
                quote_str(name),
                documented(got)
            ),
        });
    }
    // "expected [at least |at most ]1 argument(s) in call to 'floor', got 0"
    let rest = crate_msg.strip_prefix("expected ")?;
    let (head, rest) = rest.split_once(" argument(s) in call to '")?;
    let (name, got) = rest.split_once("', got ")?;
    Some(CallErr::Arity {
        name: name.to_owned(),
        got: got.parse().ok()?,
        msg: format!(
            "expected {head} argument(s) in call to {}, got {got}",
            quote_str(name)
        ),
    })
}

pub(super) struct Checker<'a> {
    q: &'a str,
    call: Option<CallErr>,
    /// Whether a selector's matchers all match the empty string.
    all_empty: &'a dyn Fn(&str) -> bool,
    /// The type `promql-parser` gives a well-formed expression.
    type_of: &'a dyn Fn(&str) -> Option<ValueType>,
    pub first: Option<PErr>,
}

impl<'a> Checker<'a> {
    pub fn new(
        q: &'a str,
        crate_msg: &str,
        all_empty: &'a dyn Fn(&str) -> bool,
        type_of: &'a dyn Fn(&str) -> Option<ValueType>,
    ) -> Self {
        Checker {
            q,
            call: call_err(crate_msg),
            all_empty,
            type_of,
            first: None,
        }
    }

    fn err(&mut self, pos: usize, msg: impl Into<String>) {
        if self.first.is_none() {
            self.first = Some((pos, msg.into()));
        }
    }

    /// The type of an expression as Prometheus computes it.
    pub fn ty(&self, n: &Node) -> ValueType {
        match &n.kind {
            N::Number => ValueType::Scalar,
            N::Str => ValueType::String,
            N::Selector { .. } | N::Agg { .. } => ValueType::Vector,
            N::Matrix | N::Subquery => ValueType::Matrix,
            N::Paren | N::Unary | N::Offset | N::At => self.ty(&n.kids[0]),
            N::Binary { .. } => {
                if self.ty(&n.kids[0]) == ValueType::Scalar
                    && self.ty(&n.kids[1]) == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            // Only `time()`, `pi()` and `scalar()` return scalars; asking
            // the parser about the call covers them without a list here.
            N::Call { .. } => (self.type_of)(&self.q[n.start..n.end]).unwrap_or(ValueType::Vector),
        }
    }

    fn expect(&mut self, n: &Node, want: ValueType, context: &str) {
        let t = self.check(n);
        if t != want {
            self.err(
                n.start,
                format!(
                    "expected type {} in {context}, got {}",
                    documented(want),
                    documented(t)
                ),
            );
        }
    }

    /// Checks `n` and its children; returns its type.
    pub fn check(&mut self, n: &Node) -> ValueType {
        let ty = self.ty(n);
        match &n.kind {
            N::Agg { op, param } => {
                let Some(expr) = n.kids.last() else { return ty };
                self.expect(expr, ValueType::Vector, "aggregation expression");
                if *param && n.kids.len() == 2 {
                    let want = if op == "count_values" {
                        ValueType::String
                    } else {
                        ValueType::Scalar
                    };
                    self.expect(&n.kids[0], want, "aggregation parameter");
                }
            }
            N::Binary {
                op,
                op_pos,
                bool_mod,
                matching,
                on,
                group,
            } => self.binary(n, *op, *op_pos, *bool_mod, matching, *on, group),
            N::Call { name } => {
                if let Some(CallErr::Arity { name: f, got, msg }) = &self.call {
                    if f == name && *got == n.kids.len() {
                        let msg = msg.clone();
                        self.err(n.start, msg);
                    }
                }
                for arg in &n.kids {
                    let t = self.check(arg);
                    if let Some(CallErr::ArgType { name: f, got, msg }) = &self.call {
                        if f == name && *got == t {
                            let msg = msg.clone();
                            self.err(arg.start, msg);
                        }
                    }
                }
            }
            N::Paren | N::Offset | N::At => {
                self.check(&n.kids[0]);
            }
            N::Matrix => {
                self.check(&n.kids[0]);
            }
            N::Unary => {
                let t = self.check(&n.kids[0]);
                if t != ValueType::Scalar && t != ValueType::Vector {
                    self.err(
                        n.start,
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                            quote_str(documented(t))
                        ),
                    );
                }
            }
            N::Subquery => {
                let t = self.check(&n.kids[0]);
                if t != ValueType::Vector {
                    self.err(
                        n.start,
                        format!("subquery is only allowed on instant vector, got {t} instead"),
                    );
                }
            }
            N::Selector { named, matchers } => {
                if *named {
                    if let Some(m) = matchers.iter().find(|m| m.name == "__name__") {
                        let name = self.q[n.start..].split(['{', ' ']).next().unwrap_or("");
                        let value = m.value.get(1..m.value.len().saturating_sub(1));
                        self.err(
                            n.start,
                            format!(
                                "metric name must not be set twice: {} or {}",
                                quote_str(name),
                                quote_str(value.unwrap_or(""))
                            ),
                        );
                    }
                } else if (self.all_empty)(&self.q[n.start..n.end]) {
                    self.err(
                        n.start,
                        "vector selector must contain at least one non-empty matcher",
                    );
                }
            }
            N::Number | N::Str => {}
        }
        ty
    }

    #[allow(clippy::too_many_arguments)]
    fn binary(
        &mut self,
        n: &Node,
        op: Op,
        op_pos: usize,
        bool_mod: bool,
        matching: &Option<Vec<String>>,
        on: bool,
        group: &Option<Vec<String>>,
    ) {
        let lt = self.check(&n.kids[0]);
        let rt = self.check(&n.kids[1]);
        let op_text = self.q[op_pos..]
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if bool_mod && !op.is_comparison() {
            self.err(
                op_pos,
                "bool modifier can only be used on comparison operators",
            );
        }
        if op.is_comparison() && !bool_mod && lt == ValueType::Scalar && rt == ValueType::Scalar {
            self.err(op_pos, "comparisons between scalars must use BOOL modifier");
        }
        if on {
            if let (Some(m), Some(g)) = (matching, group) {
                if let Some(l) = m.iter().find(|l| g.contains(l)) {
                    self.err(
                        op_pos,
                        format!(
                            "label {} must not occur in ON and GROUP clause at once",
                            quote_str(l)
                        ),
                    );
                }
            }
        }
        let instant = |t: ValueType| t == ValueType::Scalar || t == ValueType::Vector;
        if !instant(lt) {
            self.err(
                n.kids[0].start,
                "binary expression must contain only scalar and instant vector types",
            );
        }
        if !instant(rt) {
            self.err(
                n.kids[1].start,
                "binary expression must contain only scalar and instant vector types",
            );
        }
        let vectors = lt == ValueType::Vector && rt == ValueType::Vector;
        if !vectors {
            if matching.as_ref().is_some_and(|m| !m.is_empty()) {
                self.err(
                    n.start,
                    "vector matching only allowed between instant vectors",
                );
            }
        } else if op.is_set() && group.is_some() {
            self.err(
                n.start,
                format!("no grouping allowed for {} operation", quote_str(&op_text)),
            );
            self.err(n.start, "set operations must always be many-to-many");
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && op.is_set() {
            self.err(
                n.start,
                format!(
                    "set operator {} not allowed in binary scalar expression",
                    quote_str(&op_text)
                ),
            );
        }
    }
}
