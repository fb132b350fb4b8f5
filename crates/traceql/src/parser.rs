//! A hand-written recursive-descent parser. Precedence, loosest first, as
//! in Tempo's grammar: between spansets `||`, then `&&`, then the
//! structural operators (all left-associative); within a filter `||`, `&&`,
//! comparisons, `+ -`, `* / %`, `^` (right-associative), then `!` and
//! unary `-`.

use crate::ast::*;
use crate::error::{Error, Result};
use crate::lexer::{lex, Tok};
use crate::matcher::Matcher;
use sightline_core::traces::{SpanKind, StatusCode};

/// Parses a TraceQL query (a search or a metrics query).
pub fn parse(src: &str) -> Result<Query> {
    let toks = lex(src)?;
    let mut p = Parser { src, toks, pos: 0 };
    let q = p.query()?;
    p.query_hints()?;
    p.expect_eof()?;
    Ok(q)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].0
    }

    fn offset(&self) -> usize {
        self.toks[self.pos].1
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn err_here(&self, expecting: &str) -> Error {
        let mut msg = format!("syntax error: unexpected {}", self.peek().describe());
        if !expecting.is_empty() {
            msg.push_str(", expecting ");
            msg.push_str(expecting);
        }
        Error::parse_at(self.src, self.offset(), msg)
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<()> {
        if *self.peek() == t {
            self.next();
            Ok(())
        } else {
            Err(self.err_here(what))
        }
    }

    fn expect_eof(&self) -> Result<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.err_here(""))
        }
    }

    /// Tempo's query hints, `with (most_recent=true, sample=0.1)`: read
    /// and ignored (every search here is exact and newest first).
    fn query_hints(&mut self) -> Result<()> {
        if !self.is_ident("with") {
            return Ok(());
        }
        self.next();
        self.expect(Tok::LParen, "(")?;
        loop {
            if !matches!(self.peek(), Tok::Ident(_)) {
                return Err(self.err_here("a hint name"));
            }
            self.next();
            self.expect(Tok::Eq, "=")?;
            match self.peek() {
                Tok::Str(_) | Tok::Int(_) | Tok::Float(_) | Tok::Duration(_) => {}
                Tok::Ident(w) if w == "true" || w == "false" => {}
                _ => return Err(self.err_here("a hint value")),
            }
            self.next();
            if *self.peek() == Tok::Comma {
                self.next();
                continue;
            }
            return self.expect(Tok::RParen, ") or ,");
        }
    }

    fn is_ident(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x == w)
    }

    fn query(&mut self) -> Result<Query> {
        let first = self.spanset_expr()?;
        let mut stages = vec![Stage::Spanset(first)];
        let mut metrics = None;
        while *self.peek() == Tok::Pipe {
            self.next();
            if let Some(m) = self.metrics_stage()? {
                metrics = Some(m);
                if *self.peek() == Tok::Pipe {
                    return Err(self.err_here("end of input after a metrics function"));
                }
                break;
            }
            stages.push(self.stage()?);
        }
        Ok(Query {
            pipeline: Pipeline { stages },
            metrics,
        })
    }

    /// A pipeline inside parentheses (no metrics function there).
    fn pipeline(&mut self) -> Result<Pipeline> {
        let first = self.spanset_expr()?;
        let mut stages = vec![Stage::Spanset(first)];
        while *self.peek() == Tok::Pipe {
            self.next();
            stages.push(self.stage()?);
        }
        Ok(Pipeline { stages })
    }

    fn stage(&mut self) -> Result<Stage> {
        let word = match self.peek() {
            Tok::LBrace | Tok::LParen => return Ok(Stage::Spanset(self.spanset_expr()?)),
            Tok::Ident(w) => w.clone(),
            _ => return Err(self.err_here("a spanset, an aggregate, by, select or coalesce")),
        };
        let func = match word.as_str() {
            "count" => AggFunc::Count,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "sum" => AggFunc::Sum,
            "by" => {
                self.next();
                return Ok(Stage::By(self.field_list()?));
            }
            "select" => {
                self.next();
                return Ok(Stage::Select(self.field_list()?));
            }
            "coalesce" => {
                self.next();
                self.expect(Tok::LParen, "(")?;
                self.expect(Tok::RParen, ")")?;
                return Ok(Stage::Coalesce);
            }
            _ => return Err(self.err_here("a spanset, an aggregate, by, select or coalesce")),
        };
        self.next();
        self.expect(Tok::LParen, "(")?;
        let field = if func == AggFunc::Count {
            None
        } else {
            Some(self.field_expr()?)
        };
        self.expect(Tok::RParen, ")")?;
        let op = match self.next() {
            Tok::Eq => BinOp::Eq,
            Tok::Neq => BinOp::Neq,
            Tok::Gt => BinOp::Gt,
            Tok::Gte => BinOp::Gte,
            Tok::Lt => BinOp::Lt,
            Tok::Lte => BinOp::Lte,
            _ => {
                self.pos -= 1;
                return Err(self.err_here("a comparison after an aggregate"));
            }
        };
        let value = self.number_literal()?;
        Ok(Stage::Aggregate {
            agg: Aggregate { func, field },
            op,
            value,
        })
    }

    fn number_literal(&mut self) -> Result<Static> {
        let neg = if *self.peek() == Tok::Minus {
            self.next();
            true
        } else {
            false
        };
        let v = match self.peek() {
            Tok::Int(i) => Static::Int(if neg { -i } else { *i }),
            Tok::Float(f) => Static::Float(if neg { -f } else { *f }),
            Tok::Duration(d) => Static::Duration(if neg { -d } else { *d }),
            _ => return Err(self.err_here("a number or a duration")),
        };
        self.next();
        Ok(v)
    }

    fn field_list(&mut self) -> Result<Vec<FieldExpr>> {
        self.expect(Tok::LParen, "(")?;
        let mut out = vec![self.field_expr()?];
        while *self.peek() == Tok::Comma {
            self.next();
            out.push(self.field_expr()?);
        }
        self.expect(Tok::RParen, ") or ,")?;
        Ok(out)
    }

    /// A metrics function with its optional `by()`, or `None` when the
    /// stage is not one.
    fn metrics_stage(&mut self) -> Result<Option<MetricsStage>> {
        let Tok::Ident(w) = self.peek() else {
            return Ok(None);
        };
        let w = w.clone();
        let one = |p: &mut Self| -> Result<FieldExpr> {
            let f = p.field_expr()?;
            p.expect(Tok::RParen, ")")?;
            Ok(f)
        };
        let known = [
            "rate",
            "count_over_time",
            "min_over_time",
            "max_over_time",
            "avg_over_time",
            "sum_over_time",
            "quantile_over_time",
            "histogram_over_time",
        ];
        if !known.contains(&w.as_str()) {
            return Ok(None);
        }
        self.next();
        self.expect(Tok::LParen, "(")?;
        let func = match w.as_str() {
            "rate" => {
                self.expect(Tok::RParen, ")")?;
                MetricsFunc::Rate
            }
            "count_over_time" => {
                self.expect(Tok::RParen, ")")?;
                MetricsFunc::CountOverTime
            }
            "min_over_time" => MetricsFunc::MinOverTime(one(self)?),
            "max_over_time" => MetricsFunc::MaxOverTime(one(self)?),
            "avg_over_time" => MetricsFunc::AvgOverTime(one(self)?),
            "sum_over_time" => MetricsFunc::SumOverTime(one(self)?),
            "histogram_over_time" => MetricsFunc::HistogramOverTime(one(self)?),
            _ => {
                let f = self.field_expr()?;
                let mut qs = Vec::new();
                while *self.peek() == Tok::Comma {
                    self.next();
                    let at = self.offset();
                    let q = match self.number_literal()? {
                        Static::Int(i) => i as f64,
                        Static::Float(f) => f,
                        _ => {
                            return Err(Error::parse_at(
                                self.src,
                                at,
                                "syntax error: a quantile must be a number",
                            ))
                        }
                    };
                    if !(0.0..=1.0).contains(&q) {
                        return Err(Error::parse_at(
                            self.src,
                            at,
                            format!("quantile {q} is outside [0, 1]"),
                        ));
                    }
                    qs.push(q);
                }
                if qs.is_empty() {
                    return Err(self.err_here(", and at least one quantile"));
                }
                self.expect(Tok::RParen, ") or ,")?;
                MetricsFunc::QuantileOverTime(f, qs)
            }
        };
        let by = if self.is_ident("by") {
            self.next();
            self.field_list()?
        } else {
            Vec::new()
        };
        Ok(Some(MetricsStage { func, by }))
    }

    fn spanset_expr(&mut self) -> Result<SpansetExpr> {
        let mut lhs = self.spanset_and()?;
        while *self.peek() == Tok::Or {
            self.next();
            let rhs = self.spanset_and()?;
            lhs = bin_spanset(SpansetOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn spanset_and(&mut self) -> Result<SpansetExpr> {
        let mut lhs = self.spanset_structural()?;
        while *self.peek() == Tok::And {
            self.next();
            let rhs = self.spanset_structural()?;
            lhs = bin_spanset(SpansetOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn spanset_structural(&mut self) -> Result<SpansetExpr> {
        let mut lhs = self.spanset_primary()?;
        loop {
            let op = match self.peek() {
                Tok::Gt => SpansetOp::Child,
                Tok::Desc => SpansetOp::Descendant,
                Tok::Lt => SpansetOp::Parent,
                Tok::Anc => SpansetOp::Ancestor,
                Tok::Tilde => SpansetOp::Sibling,
                Tok::NotChild => SpansetOp::NotChild,
                Tok::NotDesc => SpansetOp::NotDescendant,
                Tok::NotParent => SpansetOp::NotParent,
                Tok::NotAnc => SpansetOp::NotAncestor,
                Tok::Nre => SpansetOp::NotSibling,
                Tok::UnionChild => SpansetOp::UnionChild,
                Tok::UnionDesc => SpansetOp::UnionDescendant,
                Tok::UnionParent => SpansetOp::UnionParent,
                Tok::UnionAnc => SpansetOp::UnionAncestor,
                Tok::UnionSibling => SpansetOp::UnionSibling,
                _ => return Ok(lhs),
            };
            self.next();
            let rhs = self.spanset_primary()?;
            lhs = bin_spanset(op, lhs, rhs);
        }
    }

    fn spanset_primary(&mut self) -> Result<SpansetExpr> {
        match self.peek() {
            Tok::LBrace => {
                self.next();
                if *self.peek() == Tok::RBrace {
                    self.next();
                    return Ok(SpansetExpr::Filter(None));
                }
                let e = self.field_expr()?;
                self.expect(Tok::RBrace, "}")?;
                Ok(SpansetExpr::Filter(Some(e)))
            }
            Tok::LParen => {
                self.next();
                let p = self.pipeline()?;
                self.expect(Tok::RParen, ")")?;
                if p.stages.len() == 1 {
                    if let Some(Stage::Spanset(e)) = p.stages.into_iter().next() {
                        return Ok(e);
                    }
                    unreachable!("a pipeline starts with a spanset expression");
                }
                Ok(SpansetExpr::Pipeline(Box::new(p)))
            }
            _ => Err(self.err_here("{ or (")),
        }
    }

    fn field_expr(&mut self) -> Result<FieldExpr> {
        let mut lhs = self.field_and()?;
        while *self.peek() == Tok::Or {
            self.next();
            let rhs = self.field_and()?;
            lhs = bin(BinOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn field_and(&mut self) -> Result<FieldExpr> {
        let mut lhs = self.field_cmp()?;
        while *self.peek() == Tok::And {
            self.next();
            let rhs = self.field_cmp()?;
            lhs = bin(BinOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn field_cmp(&mut self) -> Result<FieldExpr> {
        let lhs = self.field_add()?;
        let op = match self.peek() {
            Tok::Eq => BinOp::Eq,
            Tok::Neq => BinOp::Neq,
            Tok::Gt => BinOp::Gt,
            Tok::Gte => BinOp::Gte,
            Tok::Lt => BinOp::Lt,
            Tok::Lte => BinOp::Lte,
            Tok::Re => BinOp::Re,
            Tok::Nre => BinOp::Nre,
            _ => return Ok(lhs),
        };
        self.next();
        let at = self.offset();
        let rhs = self.field_add()?;
        let mut e = bin(op, lhs, rhs);
        if let FieldExpr::Binary {
            op: BinOp::Re | BinOp::Nre,
            rhs,
            regex,
            ..
        } = &mut e
        {
            match &**rhs {
                FieldExpr::Static(Static::Str(pat)) => {
                    // Fully anchored, as Tempo's (Prometheus's) matcher is.
                    let re = Matcher::new(pat).map_err(|err| {
                        Error::parse_at(self.src, at, format!("invalid regexp {pat:?}: {err}"))
                    })?;
                    *regex = Some(Box::new(re));
                }
                _ => {
                    return Err(Error::parse_at(
                        self.src,
                        at,
                        "a regexp operator needs a string literal on its right",
                    ))
                }
            }
        }
        Ok(e)
    }

    fn field_add(&mut self) -> Result<FieldExpr> {
        let mut lhs = self.field_mul()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.next();
            let rhs = self.field_mul()?;
            lhs = bin(op, lhs, rhs);
        }
    }

    fn field_mul(&mut self) -> Result<FieldExpr> {
        let mut lhs = self.field_pow()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(lhs),
            };
            self.next();
            let rhs = self.field_pow()?;
            lhs = bin(op, lhs, rhs);
        }
    }

    fn field_pow(&mut self) -> Result<FieldExpr> {
        let lhs = self.field_unary()?;
        if *self.peek() == Tok::Caret {
            self.next();
            let rhs = self.field_pow()?;
            return Ok(bin(BinOp::Pow, lhs, rhs));
        }
        Ok(lhs)
    }

    fn field_unary(&mut self) -> Result<FieldExpr> {
        match self.peek() {
            Tok::Not => {
                self.next();
                Ok(FieldExpr::Not(Box::new(self.field_unary()?)))
            }
            Tok::Minus => {
                self.next();
                Ok(match self.field_unary()? {
                    FieldExpr::Static(Static::Int(i)) => FieldExpr::Static(Static::Int(-i)),
                    FieldExpr::Static(Static::Float(f)) => FieldExpr::Static(Static::Float(-f)),
                    FieldExpr::Static(Static::Duration(d)) => {
                        FieldExpr::Static(Static::Duration(-d))
                    }
                    e => FieldExpr::Neg(Box::new(e)),
                })
            }
            _ => self.field_primary(),
        }
    }

    fn field_primary(&mut self) -> Result<FieldExpr> {
        let e = match self.peek().clone() {
            Tok::LParen => {
                self.next();
                let e = self.field_expr()?;
                self.expect(Tok::RParen, ")")?;
                return Ok(e);
            }
            Tok::Str(s) => FieldExpr::Static(Static::Str(s)),
            Tok::Int(i) => FieldExpr::Static(Static::Int(i)),
            Tok::Float(f) => FieldExpr::Static(Static::Float(f)),
            Tok::Duration(d) => FieldExpr::Static(Static::Duration(d)),
            Tok::Attr(scope, name) => FieldExpr::Attr(Attr {
                scope,
                name: name.into(),
            }),
            Tok::Ident(w) => match keyword(&w) {
                Some(e) => e,
                None => {
                    // A word followed by `.` that is no scope (`foo.bar`):
                    // say which scopes exist.
                    let hint = if matches!(self.peek_at(1), Tok::Attr(AttrScope::Unscoped, _)) {
                        format!(
                            "syntax error: unknown scope {w:?} (want span, resource, event, link, instrumentation or a leading '.')"
                        )
                    } else {
                        format!("syntax error: unexpected IDENTIFIER {w:?}, expecting an attribute, an intrinsic or a literal")
                    };
                    return Err(Error::parse_at(self.src, self.offset(), hint));
                }
            },
            _ => return Err(self.err_here("an attribute, an intrinsic or a literal")),
        };
        self.next();
        Ok(e)
    }
}

/// Words that are literals or intrinsics.
fn keyword(w: &str) -> Option<FieldExpr> {
    let s = |v| Some(FieldExpr::Static(v));
    match w {
        "true" => s(Static::Bool(true)),
        "false" => s(Static::Bool(false)),
        "nil" => s(Static::Nil),
        "minInt" => s(Static::Int(i64::MIN)),
        "maxInt" => s(Static::Int(i64::MAX)),
        "error" => s(Static::Status(StatusCode::Error)),
        "ok" => s(Static::Status(StatusCode::Ok)),
        "unset" => s(Static::Status(StatusCode::Unset)),
        "unspecified" => s(Static::Kind(SpanKind::Unspecified)),
        "internal" => s(Static::Kind(SpanKind::Internal)),
        "server" => s(Static::Kind(SpanKind::Server)),
        "client" => s(Static::Kind(SpanKind::Client)),
        "producer" => s(Static::Kind(SpanKind::Producer)),
        "consumer" => s(Static::Kind(SpanKind::Consumer)),
        _ => Intrinsic::from_name(w).map(FieldExpr::Intrinsic),
    }
}

fn bin(op: BinOp, lhs: FieldExpr, rhs: FieldExpr) -> FieldExpr {
    FieldExpr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
        regex: None,
    }
}

fn bin_spanset(op: SpansetOp, lhs: SpansetExpr, rhs: SpansetExpr) -> SpansetExpr {
    SpansetExpr::Binary {
        op,
        lhs: Box::new(lhs),
        rhs: Box::new(rhs),
    }
}
