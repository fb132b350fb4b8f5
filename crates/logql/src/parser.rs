//! The recursive-descent parser: log queries (selector and pipeline, in
//! [`pipeline`]) and metric queries (range and vector aggregations,
//! binary operators by PromQL's precedence, `label_replace`, `vector`).
//! Errors name the line and column of the token where the query went
//! wrong and what was expected there.

mod pipeline;

use crate::ast::*;
use crate::error::{ParseError, Result};
use crate::lexer::{lex, Tok, Token};

/// Parses a LogQL query.
pub fn parse(src: &str) -> Result<Expr> {
    let mut p = QueryParser {
        src,
        toks: lex(src)?,
        i: 0,
    };
    if p.peek() == &Tok::Eof {
        return Err(ParseError::at(src, 0, "syntax error: empty query"));
    }
    let e = p.expr()?;
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected("the end of the query"));
    }
    Ok(e)
}

pub(crate) struct QueryParser<'a> {
    pub(crate) src: &'a str,
    toks: Vec<Token>,
    i: usize,
}

impl<'a> QueryParser<'a> {
    pub(crate) fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }
    pub(crate) fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }
    pub(crate) fn at(&self) -> usize {
        self.toks[self.i].at
    }
    pub(crate) fn next(&mut self) -> Tok {
        let t = self.toks[self.i].tok.clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }
    pub(crate) fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    pub(crate) fn is_ident(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == name)
    }
    pub(crate) fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.next();
            true
        } else {
            false
        }
    }
    pub(crate) fn expect(&mut self, p: &str) -> Result<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("{p:?}")))
        }
    }
    pub(crate) fn ident(&mut self, what: &str) -> Result<String> {
        match self.peek() {
            Tok::Ident(s) => {
                let s = s.clone();
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected(what)),
        }
    }
    pub(crate) fn string(&mut self, what: &str) -> Result<String> {
        match self.peek() {
            Tok::Str(s) => {
                let s = s.clone();
                self.next();
                Ok(s)
            }
            _ => Err(self.unexpected(what)),
        }
    }
    pub(crate) fn unexpected(&self, expecting: &str) -> ParseError {
        ParseError::at(
            self.src,
            self.at(),
            format!(
                "syntax error: unexpected {}, expecting {expecting}",
                self.peek().kind()
            ),
        )
    }
    pub(crate) fn error_at(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.src, at, msg)
    }

    /// A whole expression: a log query alone, or metric queries joined by
    /// binary operators.
    fn expr(&mut self) -> Result<Expr> {
        if self.is("{") || (self.is("(") && self.paren_holds_log()) {
            let log = self.log_expr()?;
            if self.binop().is_some() {
                return Err(self.error_at(
                    self.at(),
                    "syntax error: binary operators apply to metric queries, not to log queries",
                ));
            }
            return Ok(Expr::Log(log));
        }
        Ok(Expr::Metric(self.binary(0)?))
    }

    /// Whether a `(` opens a parenthesised log query (`({a="b"} |= "x")`).
    fn paren_holds_log(&self) -> bool {
        let mut n = 0;
        while matches!(self.peek_at(n), Tok::Punct("(")) {
            n += 1;
        }
        matches!(self.peek_at(n), Tok::Punct("{"))
    }

    pub(crate) fn log_expr(&mut self) -> Result<LogExpr> {
        if self.eat("(") {
            let e = self.log_expr()?;
            self.expect(")")?;
            return Ok(e);
        }
        let at = self.at();
        let matchers = self.selector()?;
        let stages = self.stages()?;
        Ok(LogExpr {
            matchers,
            stages,
            at,
        })
    }

    fn binop(&self) -> Option<(BinOp, u8)> {
        let op = match self.peek() {
            Tok::Ident(s) if s == "or" => (BinOp::Or, 1),
            Tok::Ident(s) if s == "and" => (BinOp::And, 2),
            Tok::Ident(s) if s == "unless" => (BinOp::Unless, 2),
            Tok::Punct("==") => (BinOp::Eq, 3),
            Tok::Punct("!=") => (BinOp::Ne, 3),
            Tok::Punct(">") => (BinOp::Gt, 3),
            Tok::Punct(">=") => (BinOp::Ge, 3),
            Tok::Punct("<") => (BinOp::Lt, 3),
            Tok::Punct("<=") => (BinOp::Le, 3),
            Tok::Punct("+") => (BinOp::Add, 4),
            Tok::Punct("-") => (BinOp::Sub, 4),
            Tok::Punct("*") => (BinOp::Mul, 5),
            Tok::Punct("/") => (BinOp::Div, 5),
            Tok::Punct("%") => (BinOp::Mod, 5),
            Tok::Punct("^") => (BinOp::Pow, 6),
            _ => return None,
        };
        Some(op)
    }

    /// Precedence climbing; `^` is right-associative, the rest left.
    fn binary(&mut self, min: u8) -> Result<MetricExpr> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = self.binop() {
            if prec < min {
                break;
            }
            let at = self.at();
            self.next();
            let mut return_bool = false;
            if self.is_ident("bool") {
                if !op.is_comparison() {
                    return Err(self.error_at(
                        self.at(),
                        "syntax error: bool modifier can only be used on comparison operators",
                    ));
                }
                self.next();
                return_bool = true;
            }
            let matching = self.matching()?;
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let rhs = self.binary(next_min)?;
            if op.is_set()
                && (matches!(lhs, MetricExpr::Number(_)) || matches!(rhs, MetricExpr::Number(_)))
            {
                return Err(self.error_at(
                    at,
                    "syntax error: set operators (or, and, unless) are not allowed between a scalar and a vector",
                ));
            }
            lhs = MetricExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                return_bool,
                matching,
                at,
            };
        }
        Ok(lhs)
    }

    fn matching(&mut self) -> Result<VectorMatching> {
        let mut m = VectorMatching::default();
        if self.is_ident("on") || self.is_ident("ignoring") {
            m.on = Some(self.is_ident("on"));
            self.next();
            m.labels = self.label_list()?;
        }
        if self.is_ident("group_left") || self.is_ident("group_right") {
            m.group_left = Some(self.is_ident("group_left"));
            self.next();
            if self.is("(") {
                m.include = self.label_list()?;
            }
        }
        Ok(m)
    }

    /// `(a, b, c)`, possibly empty.
    pub(crate) fn label_list(&mut self) -> Result<Vec<String>> {
        self.expect("(")?;
        let mut out = Vec::new();
        while !self.is(")") {
            out.push(self.ident("a label name")?);
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")")?;
        Ok(out)
    }

    fn grouping(&mut self) -> Result<Option<Grouping>> {
        if self.is_ident("by") || self.is_ident("without") {
            let without = self.is_ident("without");
            self.next();
            let labels = self.label_list()?;
            return Ok(Some(Grouping { without, labels }));
        }
        Ok(None)
    }

    fn unary(&mut self) -> Result<MetricExpr> {
        if self.is("-") || self.is("+") {
            let neg = self.is("-");
            let at = self.at();
            self.next();
            let e = self.unary()?;
            return Ok(match (neg, e) {
                (false, e) => e,
                (true, MetricExpr::Number(n)) => MetricExpr::Number(-n),
                (true, e) => MetricExpr::Binary {
                    op: BinOp::Mul,
                    lhs: Box::new(MetricExpr::Number(-1.0)),
                    rhs: Box::new(e),
                    return_bool: false,
                    matching: VectorMatching::default(),
                    at,
                },
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<MetricExpr> {
        let at = self.at();
        match self.peek().clone() {
            Tok::Num(n) => {
                self.next();
                Ok(MetricExpr::Number(n))
            }
            Tok::Punct("(") => {
                self.next();
                let e = self.binary(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Punct("{") => Err(self.error_at(
                at,
                "syntax error: a log query cannot be combined with other expressions; wrap it in a range aggregation such as count_over_time({...}[5m])",
            )),
            Tok::Ident(name) => {
                if let Some(op) = RangeOp::ALL.iter().find(|(n, _)| *n == name).map(|x| x.1) {
                    self.next();
                    return self.range_agg(op, at);
                }
                if let Some(op) = VectorOp::ALL.iter().find(|(n, _)| *n == name).map(|x| x.1) {
                    self.next();
                    return self.vector_agg(op, at);
                }
                match name.as_str() {
                    "vector" => {
                        self.next();
                        self.expect("(")?;
                        let n = self.number("a number")?;
                        self.expect(")")?;
                        Ok(MetricExpr::Vector1(n))
                    }
                    "label_replace" => {
                        self.next();
                        self.expect("(")?;
                        let expr = self.binary(0)?;
                        let mut args = Vec::new();
                        for what in ["the destination label", "the replacement", "the source label", "the regular expression"] {
                            self.expect(",")?;
                            args.push(self.string(&format!("{what} (a string)"))?);
                        }
                        self.expect(")")?;
                        let [dst, replacement, src, regex]: [String; 4] =
                            args.try_into().map_err(|_| self.error_at(at, "label_replace takes five arguments"))?;
                        if let Err(e) = sightline_core::goregex::compile(&regex, sightline_core::goregex::Anchor::WholeDotAll) {
                            return Err(self.error_at(at, format!("invalid regular expression in label_replace: {e}")));
                        }
                        Ok(MetricExpr::LabelReplace {
                            expr: Box::new(expr),
                            dst,
                            replacement,
                            src,
                            regex,
                            at,
                        })
                    }
                    _ => Err(self.error_at(
                        at,
                        format!("syntax error: unexpected IDENTIFIER {name:?}: not a LogQL function or aggregation"),
                    )),
                }
            }
            _ => Err(self.unexpected("a metric query")),
        }
    }

    fn number(&mut self, what: &str) -> Result<f64> {
        let neg = self.eat("-");
        match self.peek() {
            Tok::Num(n) => {
                let n = *n;
                self.next();
                Ok(if neg { -n } else { n })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// `op([param,] log-range) [by|without (...)]`, the range written
    /// after the selector or after the pipeline.
    fn range_agg(&mut self, op: RangeOp, at: usize) -> Result<MetricExpr> {
        let mut grouping = self.grouping()?;
        self.expect("(")?;
        let param = if op == RangeOp::QuantileOverTime {
            let q = self.number("the quantile (a number)")?;
            self.expect(",")?;
            Some(q)
        } else {
            None
        };
        let paren = self.eat("(");
        let log_at = self.at();
        let matchers = self.selector()?;
        let mut range = None;
        if self.is("[") {
            range = Some(self.range()?);
        }
        let stages = self.stages()?;
        if paren {
            self.expect(")")?;
        }
        if self.is("[") {
            if range.is_some() {
                return Err(self.error_at(self.at(), "syntax error: a range is given twice"));
            }
            range = Some(self.range()?);
        }
        let Some(range) = range else {
            return Err(self.unexpected("a range such as [5m]"));
        };
        let offset = if self.is_ident("offset") {
            self.next();
            match self.next() {
                Tok::Duration(d) => d,
                t => {
                    return Err(self.error_at(
                        self.toks[self.i - 1].at,
                        format!(
                            "syntax error: unexpected {}, expecting a duration",
                            t.kind()
                        ),
                    ))
                }
            }
        } else {
            0
        };
        self.expect(")")?;
        if grouping.is_none() {
            grouping = self.grouping()?;
        }
        let unwrap = stages.iter().any(|s| matches!(s, Stage::Unwrap(_)));
        if op.needs_unwrap() && !unwrap {
            return Err(self.error_at(
                at,
                format!("invalid aggregation {} without unwrap", op.name()),
            ));
        }
        // `rate` takes either: of lines, or of unwrapped values (Loki's
        // `rate(unwrapped-range)`, the values' sum per second; issue 15).
        if !op.needs_unwrap() && op != RangeOp::Rate && unwrap {
            return Err(self.error_at(at, format!("invalid aggregation {} with unwrap", op.name())));
        }
        if grouping.is_some() && !unwrap {
            return Err(self.error_at(
                at,
                format!("grouping not allowed for {} aggregation", op.name()),
            ));
        }
        Ok(MetricExpr::Range {
            op,
            param,
            log: LogExpr {
                matchers,
                stages,
                at: log_at,
            },
            range,
            offset,
            grouping,
            at,
        })
    }

    fn range(&mut self) -> Result<i64> {
        self.expect("[")?;
        let d = match self.next() {
            Tok::Duration(d) if d > 0 => d,
            t => {
                return Err(self.error_at(
                    self.toks[self.i - 1].at,
                    format!(
                        "syntax error: unexpected {}, expecting a range duration such as 5m",
                        t.kind()
                    ),
                ))
            }
        };
        self.expect("]")?;
        Ok(d)
    }

    /// `op [by (...)] ([param,] expr) [by (...)]`
    fn vector_agg(&mut self, op: VectorOp, at: usize) -> Result<MetricExpr> {
        let mut grouping = self.grouping()?;
        self.expect("(")?;
        let param = if matches!(op, VectorOp::Topk | VectorOp::Bottomk) {
            let k = self.number("k (a number)")?;
            self.expect(",")?;
            Some(k)
        } else {
            None
        };
        let expr = self.binary(0)?;
        self.expect(")")?;
        if grouping.is_none() {
            grouping = self.grouping()?;
        }
        if matches!(op, VectorOp::Sort | VectorOp::SortDesc) && grouping.is_some() {
            return Err(self.error_at(at, "sort and sort_desc take no grouping"));
        }
        Ok(MetricExpr::Vector {
            op,
            param,
            grouping,
            expr: Box::new(expr),
            at,
        })
    }
}
