//! A recognizer for PromQL's grammar over [`super::lex`] tokens that builds
//! a tree of byte ranges (no values) and stops at the first token
//! Prometheus's yacc parser would refuse, with the message its error rules
//! give there (`unexpected <token> in <context>, expected <what>`).
//!
//! Errors Prometheus raises while it reduces (unknown function, wrong
//! number of aggregation arguments, trailing commas, ranges on
//! non-selectors, misplaced `offset`/`@`, bad durations) are collected in
//! the order the parser would raise them; the first one wins, as
//! `ParseErrors.Error()` prints only the first.

use super::lex::{describe, quote_str, Agg, Kind, Kw, Op, Punct, Tok};

/// One expression of the tree: what it is and where (byte range).
#[derive(Debug)]
pub(super) struct Node {
    pub kind: N,
    pub start: usize,
    pub end: usize,
    pub kids: Vec<Node>,
}

#[derive(Debug)]
pub(super) enum N {
    Number,
    Str,
    /// A vector selector; `named` when a metric name precedes the braces.
    Selector {
        named: bool,
        matchers: Vec<Matcher>,
    },
    /// `kids[0]` with a range; `bracket` is where `[` is.
    Matrix,
    Subquery,
    Paren,
    Unary,
    /// `kids[0] offset ...` / `kids[0] @ ...`.
    Offset,
    At,
    Call {
        name: String,
    },
    /// An aggregation; `kids` are its arguments (parameter first).
    Agg {
        op: String,
        param: bool,
    },
    Binary {
        op: Op,
        op_pos: usize,
        bool_mod: bool,
        /// Labels of `on(...)`/`ignoring(...)`: `Some` when present.
        matching: Option<Vec<String>>,
        on: bool,
        /// Labels of `group_left(...)`/`group_right(...)`: `Some` when present.
        group: Option<Vec<String>>,
    },
}

/// One label matcher of a selector, as written.
#[derive(Debug, Clone)]
pub(super) struct Matcher {
    /// Where the label name starts.
    pub pos: usize,
    pub name: String,
    /// The operator's text (`=`, `!=`, `=~`, `!~`); `=` for a quoted
    /// metric name written alone.
    pub op: String,
    /// The value's source text, quotes included.
    pub value: String,
}

/// A position (byte offset) and Prometheus's message.
pub(super) type PErr = (usize, String);

pub(super) struct Parser<'a> {
    q: &'a str,
    toks: &'a [Tok],
    lex_err: Option<&'a PErr>,
    i: usize,
    /// Errors raised while reducing, in order.
    pub errs: Vec<PErr>,
    /// Whether a function name exists (asked of `promql-parser`).
    known_fn: &'a dyn Fn(&str) -> bool,
}

type R<T> = Result<T, PErr>;

impl<'a> Parser<'a> {
    pub fn new(
        q: &'a str,
        toks: &'a [Tok],
        lex_err: Option<&'a PErr>,
        known_fn: &'a dyn Fn(&str) -> bool,
    ) -> Self {
        Parser {
            q,
            toks,
            lex_err,
            i: 0,
            errs: Vec::new(),
            known_fn,
        }
    }

    /// The next token, or the lexer's error when scanning stopped there.
    fn peek(&self) -> R<Tok> {
        match self.toks.get(self.i) {
            Some(t) => Ok(*t),
            None => Err(self
                .lex_err
                .cloned()
                .unwrap_or((self.q.len(), "unexpected end of input".into()))),
        }
    }

    fn peek2(&self) -> Option<Tok> {
        self.toks.get(self.i + 1).copied()
    }

    fn bump(&mut self) -> R<Tok> {
        let t = self.peek()?;
        self.i += 1;
        Ok(t)
    }

    fn text(&self, t: &Tok) -> &'a str {
        &self.q[t.pos..t.end]
    }

    /// `unexpected <token>[ in <context>][, expected <what>]` at the token.
    fn unexpected(&self, t: &Tok, context: &str, expected: &str) -> PErr {
        let mut m = format!("unexpected {}", describe(self.q, t));
        if !context.is_empty() {
            m.push_str(" in ");
            m.push_str(context);
        }
        if !expected.is_empty() {
            m.push_str(", expected ");
            m.push_str(expected);
        }
        (t.pos, m)
    }

    /// The whole query; `Ok` when Prometheus's grammar accepts it.
    pub fn parse_query(&mut self) -> R<Node> {
        let t = self.peek()?;
        if t.kind == Kind::Eof {
            return Err((0, "no expression found in input".into()));
        }
        let e = self.expr(0)?;
        let t = self.peek()?;
        if t.kind != Kind::Eof {
            return Err(self.unexpected(&t, "", ""));
        }
        Ok(e)
    }

    fn expr(&mut self, min_prec: u8) -> R<Node> {
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek()?;
            let Kind::Op(op) = t.kind else { break };
            let Some(prec) = op.precedence() else { break };
            if prec < min_prec {
                break;
            }
            self.bump()?;
            let (bool_mod, matching, on, group) = self.bin_modifiers()?;
            // `^` is right-associative, the others left-associative.
            let next = if op == Op::Pow { prec } else { prec + 1 };
            let rhs = self.expr(next)?;
            lhs = Node {
                start: lhs.start,
                end: rhs.end,
                kind: N::Binary {
                    op,
                    op_pos: t.pos,
                    bool_mod,
                    matching,
                    on,
                    group,
                },
                kids: vec![lhs, rhs],
            };
        }
        Ok(lhs)
    }

    #[allow(clippy::type_complexity)]
    fn bin_modifiers(&mut self) -> R<(bool, Option<Vec<String>>, bool, Option<Vec<String>>)> {
        let mut bool_mod = false;
        if self.peek()?.kind == Kind::Kw(Kw::Bool) {
            self.bump()?;
            bool_mod = true;
        }
        let mut matching = None;
        let mut on = false;
        let mut group = None;
        if let Kind::Kw(k @ (Kw::On | Kw::Ignoring)) = self.peek()?.kind {
            self.bump()?;
            on = k == Kw::On;
            matching = Some(self.grouping_labels()?);
            if let Kind::Kw(Kw::GroupLeft | Kw::GroupRight) = self.peek()?.kind {
                self.bump()?;
                group = Some(if self.peek()?.kind == Kind::Punct(Punct::LParen) {
                    self.grouping_labels()?
                } else {
                    Vec::new()
                });
            }
        }
        Ok((bool_mod, matching, on, group))
    }

    fn unary(&mut self) -> R<Node> {
        let t = self.peek()?;
        if let Kind::Op(Op::Add | Op::Sub) = t.kind {
            self.bump()?;
            // Unary operators bind tighter than `*` and looser than `^`.
            let e = self.expr(6)?;
            return Ok(Node {
                start: t.pos,
                end: e.end,
                kind: N::Unary,
                kids: vec![e],
            });
        }
        let p = self.primary()?;
        self.postfix(p)
    }

    fn postfix(&mut self, mut e: Node) -> R<Node> {
        loop {
            let t = self.peek()?;
            match t.kind {
                Kind::Punct(Punct::LBracket) => e = self.range(e)?,
                Kind::Kw(Kw::Offset) => e = self.offset(e)?,
                Kind::Op(Op::At) => e = self.at(e)?,
                _ => return Ok(e),
            }
        }
    }

    fn is_metric_identifier(k: Kind) -> bool {
        matches!(
            k,
            Kind::Ident
                | Kind::MetricIdent
                | Kind::Agg(_)
                | Kind::Op(Op::And | Op::Or | Op::Unless)
                | Kind::Kw(
                    Kw::By
                        | Kw::Without
                        | Kw::Offset
                        | Kw::Start
                        | Kw::End
                        | Kw::Step
                        | Kw::Anchored
                        | Kw::Smoothed
                )
        )
    }

    fn primary(&mut self) -> R<Node> {
        let t = self.peek()?;
        let next = self.peek2().map(|n| n.kind);
        match t.kind {
            Kind::Number | Kind::Duration => {
                self.bump()?;
                Ok(leaf(N::Number, &t))
            }
            Kind::Str => {
                self.bump()?;
                Ok(leaf(N::Str, &t))
            }
            Kind::Punct(Punct::LParen) => {
                self.bump()?;
                let e = self.expr(0)?;
                let close = self.peek()?;
                if close.kind != Kind::Punct(Punct::RParen) {
                    return Err(self.unexpected(&close, "", ""));
                }
                self.bump()?;
                Ok(Node {
                    start: t.pos,
                    end: close.end,
                    kind: N::Paren,
                    kids: vec![e],
                })
            }
            Kind::Punct(Punct::LBrace) => self.selector(None),
            Kind::Agg(agg)
                if matches!(
                    next,
                    Some(Kind::Punct(Punct::LParen) | Kind::Kw(Kw::By | Kw::Without))
                ) =>
            {
                self.aggregate(agg)
            }
            Kind::Ident | Kind::Kw(Kw::Start | Kw::End)
                if next == Some(Kind::Punct(Punct::LParen)) =>
            {
                self.call()
            }
            k if Self::is_metric_identifier(k) => {
                self.bump()?;
                if self.peek()?.kind == Kind::Punct(Punct::LBrace) {
                    self.selector(Some(t))
                } else {
                    Ok(Node {
                        start: t.pos,
                        end: t.end,
                        kind: N::Selector {
                            named: true,
                            matchers: Vec::new(),
                        },
                        kids: Vec::new(),
                    })
                }
            }
            _ => Err(self.unexpected(&t, "", "")),
        }
    }

    /// Label matchers in braces, after an optional metric name.
    fn selector(&mut self, name: Option<Tok>) -> R<Node> {
        let open = self.bump()?;
        let mut matchers = Vec::new();
        let ops = |k: Kind| {
            matches!(
                k,
                Kind::Punct(Punct::Eql) | Kind::Op(Op::Neq | Op::EqlRegex | Op::NeqRegex)
            )
        };
        let close = loop {
            let t = self.bump()?;
            match t.kind {
                Kind::Punct(Punct::RBrace) => break t,
                Kind::Ident | Kind::Str => {
                    let op = self.peek()?;
                    if ops(op.kind) {
                        self.bump()?;
                        let v = self.peek()?;
                        if v.kind != Kind::Str {
                            return Err(self.unexpected(&v, "label matching", "string"));
                        }
                        self.bump()?;
                        matchers.push(Matcher {
                            pos: t.pos,
                            name: self.text(&t).to_owned(),
                            op: self.text(&op).to_owned(),
                            value: self.text(&v).to_owned(),
                        });
                    } else if t.kind == Kind::Ident {
                        return Err(self.unexpected(
                            &op,
                            "label matching",
                            "label matching operator",
                        ));
                    } else {
                        matchers.push(Matcher {
                            pos: t.pos,
                            name: "__name__".into(),
                            op: "=".into(),
                            value: self.text(&t).to_owned(),
                        });
                    }
                    let sep = self.peek()?;
                    match sep.kind {
                        Kind::Punct(Punct::Comma) => {
                            self.bump()?;
                        }
                        Kind::Punct(Punct::RBrace) => {}
                        _ => return Err(self.unexpected(&sep, "label matching", "\",\" or \"}\"")),
                    }
                }
                _ => return Err(self.unexpected(&t, "label matching", "identifier or \"}\"")),
            }
        };
        Ok(Node {
            start: name.map_or(open.pos, |n| n.pos),
            end: close.end,
            kind: N::Selector {
                named: name.is_some(),
                matchers,
            },
            kids: Vec::new(),
        })
    }

    /// `(label, ...)` after `by`, `without`, `on`, `ignoring`, `group_x`.
    fn grouping_labels(&mut self) -> R<Vec<String>> {
        let open = self.peek()?;
        if open.kind != Kind::Punct(Punct::LParen) {
            return Err(self.unexpected(&open, "grouping opts", "\"(\""));
        }
        self.bump()?;
        let mut labels = Vec::new();
        loop {
            let t = self.bump()?;
            match t.kind {
                Kind::Punct(Punct::RParen) => return Ok(labels),
                Kind::Ident
                | Kind::MetricIdent
                | Kind::Str
                | Kind::Agg(_)
                | Kind::Kw(_)
                | Kind::Op(Op::And | Op::Or | Op::Unless | Op::Atan2) => {
                    labels.push(self.text(&t).to_owned());
                    let sep = self.peek()?;
                    match sep.kind {
                        Kind::Punct(Punct::Comma) => {
                            self.bump()?;
                        }
                        Kind::Punct(Punct::RParen) => {}
                        _ => return Err(self.unexpected(&sep, "grouping opts", "\",\" or \")\"")),
                    }
                }
                _ => return Err(self.unexpected(&t, "grouping opts", "label")),
            }
        }
    }

    /// `(arg, ...)` of a call or aggregation; the tokens' `)` end.
    fn args(&mut self) -> R<(Vec<Node>, usize)> {
        self.bump()?; // `(`
        let mut args = Vec::new();
        if self.peek()?.kind == Kind::Punct(Punct::RParen) {
            return Ok((args, self.bump()?.end));
        }
        loop {
            args.push(self.expr(0)?);
            let t = self.peek()?;
            match t.kind {
                Kind::Punct(Punct::Comma) => {
                    self.bump()?;
                    if self.peek()?.kind == Kind::Punct(Punct::RParen) {
                        self.errs.push((
                            t.pos,
                            "trailing commas not allowed in function call args".into(),
                        ));
                        return Ok((args, self.bump()?.end));
                    }
                }
                Kind::Punct(Punct::RParen) => return Ok((args, self.bump()?.end)),
                _ => return Err(self.unexpected(&t, "", "")),
            }
        }
    }

    fn call(&mut self) -> R<Node> {
        let name = self.bump()?;
        let (args, end) = self.args()?;
        let fname = self.text(&name).to_owned();
        if !(self.known_fn)(&fname) {
            self.errs.push((
                name.pos,
                format!("unknown function with name {}", quote_str(&fname)),
            ));
        }
        Ok(Node {
            start: name.pos,
            end,
            kind: N::Call { name: fname },
            kids: args,
        })
    }

    fn aggregate(&mut self, agg: Agg) -> R<Node> {
        let op = self.bump()?;
        let mut modifier = false;
        if let Kind::Kw(Kw::By | Kw::Without) = self.peek()?.kind {
            self.bump()?;
            self.grouping_labels()?;
            modifier = true;
        }
        let open = self.peek()?;
        if open.kind != Kind::Punct(Punct::LParen) {
            return Err(self.unexpected(&open, "", ""));
        }
        let (args, mut end) = self.args()?;
        if !modifier {
            if let Kind::Kw(Kw::By | Kw::Without) = self.peek()?.kind {
                self.bump()?;
                self.grouping_labels()?;
                end = self.toks[self.i - 1].end;
            }
        }
        let param = agg == Agg::WithParam;
        let want = if param { 2 } else { 1 };
        if args.is_empty() {
            self.errs.push((
                op.pos,
                "no arguments for aggregate expression provided".into(),
            ));
        } else if args.len() != want {
            self.errs.push((
                op.pos,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                    args.len()
                ),
            ));
        }
        Ok(Node {
            start: op.pos,
            end,
            kind: N::Agg {
                op: self.text(&op).to_ascii_lowercase(),
                param,
            },
            kids: args,
        })
    }

    /// `[range]` or `[range:step]` after an expression.
    fn range(&mut self, e: Node) -> R<Node> {
        let open = self.bump()?;
        let want = "number, duration, step(), or range()";
        let t = self.peek()?;
        if !matches!(t.kind, Kind::Number | Kind::Duration) {
            return Err(self.unexpected(&t, "subquery or range selector", want));
        }
        self.bump()?;
        self.check_duration(&t, true);
        let t2 = self.bump()?;
        match t2.kind {
            Kind::Punct(Punct::RBracket) => {
                // Prometheus checks what the range applies to when it
                // reduces the matrix selector, at the brackets.
                let msg = match &e.kind {
                    N::Selector { .. } => None,
                    N::Offset => Some("no offset modifiers allowed before range"),
                    N::At => Some("no @ modifiers allowed before range"),
                    _ => Some("ranges only allowed for vector selectors"),
                };
                if let Some(m) = msg {
                    self.errs.push((open.pos, m.into()));
                }
                Ok(Node {
                    start: e.start,
                    end: t2.end,
                    kind: N::Matrix,
                    kids: vec![e],
                })
            }
            Kind::Punct(Punct::Colon) => {
                let mut t3 = self.bump()?;
                if matches!(t3.kind, Kind::Number | Kind::Duration) {
                    self.check_duration(&t3, true);
                    t3 = self.bump()?;
                }
                if t3.kind != Kind::Punct(Punct::RBracket) {
                    return Err(self.unexpected(&t3, "subquery selector", "\"]\""));
                }
                Ok(Node {
                    start: e.start,
                    end: t3.end,
                    kind: N::Subquery,
                    kids: vec![e],
                })
            }
            _ => Err(self.unexpected(&t2, "subquery selector", "\":\" or \"]\"")),
        }
    }

    /// A duration literal: valid unit order, and above zero where it must be.
    fn check_duration(&mut self, t: &Tok, positive: bool) {
        let text = self.text(t);
        if t.kind == Kind::Duration {
            match sightline_core::duration::parse_prometheus(text) {
                Err(_) => {
                    self.errs.push((
                        t.pos,
                        format!("not a valid duration string: {}", quote_str(text)),
                    ));
                    if positive {
                        self.errs
                            .push((t.pos, "duration must be greater than 0".into()));
                    }
                }
                Ok(0) if positive => self
                    .errs
                    .push((t.pos, "duration must be greater than 0".into())),
                Ok(_) => {}
            }
        } else if positive && text.parse::<f64>().is_ok_and(|v| v <= 0.0) {
            self.errs
                .push((t.pos, "duration must be greater than 0".into()));
        }
    }

    /// Where `offset`/`@` may go (Prometheus's `addOffset`/`setTimestamp`).
    fn modifier_target(&mut self, e: &Node, at: bool) {
        let (kind, noun) = if at {
            (
                "@ <timestamp> may not be set multiple times",
                "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            )
        } else {
            (
                "offset may not be set multiple times",
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            )
        };
        let mut inner = e;
        let mut twice = false;
        loop {
            match (&inner.kind, at) {
                (N::Offset, false) | (N::At, true) => {
                    twice = true;
                    break;
                }
                (N::Offset | N::At | N::Matrix, _) => inner = &inner.kids[0],
                _ => break,
            }
        }
        let ok = matches!(
            e.kind,
            N::Selector { .. } | N::Matrix | N::Subquery | N::Offset | N::At
        );
        if !ok {
            self.errs.push((e.start, noun.into()));
        } else if twice {
            self.errs.push((e.start, kind.into()));
        }
    }

    fn offset(&mut self, e: Node) -> R<Node> {
        self.bump()?;
        let mut t = self.peek()?;
        if let Kind::Op(Op::Add | Op::Sub) = t.kind {
            self.bump()?;
            t = self.peek()?;
        }
        if !matches!(t.kind, Kind::Number | Kind::Duration) {
            return Err(self.unexpected(&t, "offset", "number, duration, step(), or range()"));
        }
        self.bump()?;
        self.check_duration(&t, false);
        self.modifier_target(&e, false);
        Ok(Node {
            start: e.start,
            end: t.end,
            kind: N::Offset,
            kids: vec![e],
        })
    }

    fn at(&mut self, e: Node) -> R<Node> {
        self.bump()?;
        let mut t = self.peek()?;
        if let Kind::Op(Op::Add | Op::Sub) = t.kind {
            self.bump()?;
            t = self.peek()?;
        }
        let end = match t.kind {
            Kind::Number => {
                self.bump()?;
                t.end
            }
            Kind::Kw(Kw::Start | Kw::End)
                if self.peek2().map(|k| k.kind) == Some(Kind::Punct(Punct::LParen)) =>
            {
                self.bump()?;
                self.bump()?;
                let close = self.peek()?;
                if close.kind != Kind::Punct(Punct::RParen) {
                    return Err(self.unexpected(&close, "", ""));
                }
                self.bump()?;
                close.end
            }
            _ => return Err(self.unexpected(&t, "@", "timestamp")),
        };
        self.modifier_target(&e, true);
        Ok(Node {
            start: e.start,
            end,
            kind: N::At,
            kids: vec![e],
        })
    }
}

fn leaf(kind: N, t: &Tok) -> Node {
    Node {
        kind,
        start: t.pos,
        end: t.end,
        kids: Vec::new(),
    }
}
