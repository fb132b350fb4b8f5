//! Stream selectors and the stages of a log pipeline: line filters,
//! parsers, label filters, formatting, drop/keep, decolorize, unwrap.

use super::QueryParser;
use crate::ast::*;
use crate::error::Result;
use crate::lexer::Tok;
use sightline_core::{MatchOp, Matcher};

impl<'a> QueryParser<'a> {
    /// `{name="value", ...}`: at least one matcher, and at least one that
    /// does not match the empty string (as Loki requires).
    pub(crate) fn selector(&mut self) -> Result<Vec<Matcher>> {
        let at = self.at();
        self.expect("{")?;
        let mut out = Vec::new();
        while !self.is("}") {
            out.push(self.matcher()?);
            if !self.eat(",") {
                break;
            }
        }
        self.expect("}")?;
        if out.is_empty() {
            return Err(self.error_at(
                at,
                "syntax error: a stream selector needs at least one matcher, e.g. {job=\"app\"}",
            ));
        }
        if out.iter().all(|m| m.matches("")) {
            return Err(self.error_at(
                at,
                "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
            ));
        }
        Ok(out)
    }

    fn matcher(&mut self) -> Result<Matcher> {
        let at = self.at();
        let name = self.ident("a label name")?;
        let op = self.match_op()?;
        let value = self.string("a quoted label value")?;
        Matcher::new(op, name, value).map_err(|e| self.error_at(at, e.to_string()))
    }

    fn match_op(&mut self) -> Result<MatchOp> {
        let op = match self.peek() {
            Tok::Punct("=") => MatchOp::Equal,
            Tok::Punct("!=") => MatchOp::NotEqual,
            Tok::Punct("=~") => MatchOp::Regex,
            Tok::Punct("!~") => MatchOp::NotRegex,
            _ => return Err(self.unexpected("=, !=, =~ or !~")),
        };
        self.next();
        Ok(op)
    }

    pub(crate) fn stages(&mut self) -> Result<Vec<Stage>> {
        let mut out = Vec::new();
        loop {
            let at = self.at();
            let line_op = match self.peek() {
                Tok::Punct("|=") => Some(LineOp::Contains),
                Tok::Punct("!=") => Some(LineOp::NotContains),
                Tok::Punct("|~") => Some(LineOp::Match),
                Tok::Punct("!~") => Some(LineOp::NotMatch),
                Tok::Punct("|>") => Some(LineOp::Pattern),
                Tok::Punct("!>") => Some(LineOp::NotPattern),
                _ => None,
            };
            if let Some(op) = line_op {
                self.next();
                out.push(Stage::Line(self.line_filter(op, at)?));
                continue;
            }
            if !self.is("|") {
                break;
            }
            // `| unwrap` ends the pipeline except for label filters.
            if out.iter().any(|s| matches!(s, Stage::Unwrap(_))) {
                let f = {
                    self.next();
                    self.label_filter()?
                };
                if let Some(Stage::Unwrap(u)) =
                    out.iter_mut().rev().find(|s| matches!(s, Stage::Unwrap(_)))
                {
                    u.filters.push(f);
                }
                continue;
            }
            self.next();
            out.push(self.stage()?);
        }
        Ok(out)
    }

    fn line_filter(&mut self, op: LineOp, at: usize) -> Result<LineFilter> {
        let mut values = vec![self.filter_value(op)?];
        while self.is_ident("or") && matches!(self.peek_at(1), Tok::Str(_) | Tok::Ident(_)) {
            // `or` followed by a string (or `ip(`) continues the filter; any
            // other `or` is the binary operator of a metric query.
            if let Tok::Ident(s) = self.peek_at(1) {
                if s != "ip" {
                    break;
                }
            }
            self.next();
            values.push(self.filter_value(op)?);
        }
        Ok(LineFilter { op, values, at })
    }

    fn filter_value(&mut self, op: LineOp) -> Result<FilterValue> {
        if self.is_ident("ip") {
            if !matches!(op, LineOp::Contains | LineOp::NotContains) {
                return Err(self.error_at(self.at(), "ip() line filters take |= or != only"));
            }
            self.next();
            self.expect("(")?;
            let s = self.string("an address, range or CIDR (a string)")?;
            self.expect(")")?;
            return Ok(FilterValue::Ip(s));
        }
        let at = self.at();
        let s = self.string("a quoted string")?;
        if matches!(op, LineOp::Match | LineOp::NotMatch) {
            if let Err(e) =
                sightline_core::goregex::compile(&s, sightline_core::goregex::Anchor::None)
            {
                return Err(self.error_at(at, format!("invalid regular expression {s:?}: {e}")));
            }
        }
        Ok(FilterValue::Text(s))
    }

    fn stage(&mut self) -> Result<Stage> {
        let at = self.at();
        let word = match self.peek() {
            Tok::Ident(s) => s.clone(),
            Tok::Punct("(") => return Ok(Stage::Label(self.label_filter()?)),
            _ => {
                return Err(
                    self.unexpected("a parser, a label filter or a formatting stage after |")
                )
            }
        };
        // A label filter starts with a label and an operator; the stage
        // keywords are followed by something else.
        let next_is_op = matches!(
            self.peek_at(1),
            Tok::Punct("=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<=")
        );
        if next_is_op {
            return Ok(Stage::Label(self.label_filter()?));
        }
        self.next();
        Ok(match word.as_str() {
            "json" => Stage::Parser(Parser::Json(self.extraction_params()?), at),
            "logfmt" => {
                let (mut strict, mut keep_empty) = (false, false);
                while self.is("-") && self.peek_at(1) == &Tok::Punct("-") {
                    self.next();
                    self.next();
                    match self.ident("strict or keep-empty")?.as_str() {
                        "strict" => strict = true,
                        "keep" if self.eat("-") && self.is_ident("empty") => {
                            self.next();
                            keep_empty = true
                        }
                        f => return Err(self.error_at(at, format!("unknown logfmt flag --{f}; logfmt takes --strict and --keep-empty"))),
                    }
                }
                Stage::Parser(
                    Parser::Logfmt {
                        strict,
                        keep_empty,
                        params: self.extraction_params()?,
                    },
                    at,
                )
            }
            "regexp" => {
                let s = self.string("a regular expression with named groups (a string)")?;
                match sightline_core::goregex::compile(&s, sightline_core::goregex::Anchor::None) {
                    Err(e) => return Err(self.error_at(at, format!("invalid regexp parser {s:?}: {e}"))),
                    Ok(re) if re.capture_names().flatten().next().is_none() => {
                        return Err(self.error_at(at, format!("regexp parser {s:?} has no named capture group, e.g. (?P<name>...)")))
                    }
                    Ok(_) => {}
                }
                Stage::Parser(Parser::Regexp(s), at)
            }
            "pattern" => {
                let s = self.string("a pattern (a string)")?;
                if !s.contains('<') {
                    return Err(self.error_at(at, format!("pattern {s:?} captures nothing: name fields as <name>")));
                }
                Stage::Parser(Parser::Pattern(s), at)
            }
            "unpack" => Stage::Parser(Parser::Unpack, at),
            "line_format" => Stage::LineFormat(self.string("a template (a string)")?, at),
            "label_format" => {
                let mut fmts = Vec::new();
                loop {
                    let dst = self.ident("a label name")?;
                    self.expect("=")?;
                    match self.next() {
                        Tok::Str(template) => fmts.push(LabelFmt::Template { dst, template }),
                        Tok::Ident(src) => fmts.push(LabelFmt::Rename { dst, src }),
                        t => {
                            return Err(self.error_at(
                                self.at(),
                                format!("syntax error: unexpected {}, expecting a template string or a label name", t.kind()),
                            ))
                        }
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
                Stage::LabelFormat(fmts, at)
            }
            "drop" => Stage::Drop(self.label_sels()?),
            "keep" => Stage::Keep(self.label_sels()?),
            "decolorize" => Stage::Decolorize,
            "unwrap" => {
                let (label, conversion) = match (self.peek().clone(), self.peek_at(1).clone()) {
                    (Tok::Ident(f), Tok::Punct("(")) if matches!(f.as_str(), "duration" | "duration_seconds" | "bytes") => {
                        self.next();
                        self.next();
                        let l = self.ident("a label name")?;
                        self.expect(")")?;
                        (l, if f == "bytes" { Conversion::Bytes } else { Conversion::Duration })
                    }
                    _ => (self.ident("a label name")?, Conversion::None),
                };
                Stage::Unwrap(Unwrap {
                    label,
                    conversion,
                    filters: Vec::new(),
                    at,
                })
            }
            other => {
                return Err(self.error_at(
                    at,
                    format!("syntax error: unexpected IDENTIFIER {other:?} after |: expecting json, logfmt, regexp, pattern, unpack, line_format, label_format, drop, keep, decolorize, unwrap or a label filter"),
                ))
            }
        })
    }

    /// `a="expr", b` after `json`/`logfmt` (a bare name extracts itself).
    fn extraction_params(&mut self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        while let Tok::Ident(name) = self.peek().clone() {
            // A keyword of the query, not a parameter.
            if matches!(
                name.as_str(),
                "or" | "and" | "unless" | "by" | "without" | "offset"
            ) {
                break;
            }
            self.next();
            if self.eat("=") {
                out.push((name, self.string("an extraction expression (a string)")?));
            } else {
                out.push((name.clone(), name));
            }
            if !self.eat(",") {
                break;
            }
        }
        Ok(out)
    }

    fn label_sels(&mut self) -> Result<Vec<LabelSel>> {
        let mut out = Vec::new();
        loop {
            let at = self.at();
            let name = self.ident("a label name")?;
            let matcher = if matches!(self.peek(), Tok::Punct("=" | "!=" | "=~" | "!~")) {
                let op = self.match_op()?;
                let v = self.string("a quoted value")?;
                Some(
                    Matcher::new(op, name.clone(), v)
                        .map_err(|e| self.error_at(at, e.to_string()))?,
                )
            } else {
                None
            };
            out.push(LabelSel { name, matcher });
            if !self.eat(",") {
                break;
            }
        }
        Ok(out)
    }

    /// `a or b`, `a and b`, `a, b` and `a b` (both "and"), parentheses.
    pub(crate) fn label_filter(&mut self) -> Result<LabelFilter> {
        let mut lhs = self.label_and()?;
        while self.is_ident("or") {
            self.next();
            let rhs = self.label_and()?;
            lhs = LabelFilter::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_and(&mut self) -> Result<LabelFilter> {
        let mut lhs = self.label_term()?;
        loop {
            if self.is_ident("and") || self.is(",") {
                self.next();
            } else if !(matches!(self.peek(), Tok::Ident(s) if s != "or" && s != "by" && s != "without" && s != "offset" && s != "unless")
                && matches!(
                    self.peek_at(1),
                    Tok::Punct("=" | "!=" | "=~" | "!~" | "==" | ">" | ">=" | "<" | "<=")
                ))
            {
                break;
            }
            let rhs = self.label_term()?;
            lhs = LabelFilter::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn label_term(&mut self) -> Result<LabelFilter> {
        if self.eat("(") {
            let f = self.label_filter()?;
            self.expect(")")?;
            return Ok(f);
        }
        let at = self.at();
        let label = self.ident("a label name")?;
        let op = match self.peek() {
            Tok::Punct("=") => CmpOp::Eq,
            Tok::Punct("==") => CmpOp::EqEq,
            Tok::Punct("!=") => CmpOp::Ne,
            Tok::Punct("=~") => CmpOp::Re,
            Tok::Punct("!~") => CmpOp::NotRe,
            Tok::Punct(">") => CmpOp::Gt,
            Tok::Punct(">=") => CmpOp::Ge,
            Tok::Punct("<") => CmpOp::Lt,
            Tok::Punct("<=") => CmpOp::Le,
            _ => return Err(self.unexpected("a comparison operator")),
        };
        self.next();
        let vat = self.at();
        let value = match self.next() {
            Tok::Str(s) => {
                if matches!(op, CmpOp::Re | CmpOp::NotRe) {
                    if let Err(e) = sightline_core::goregex::compile(&s, sightline_core::goregex::Anchor::WholeDotAll) {
                        return Err(self.error_at(vat, format!("invalid regular expression {s:?}: {e}")));
                    }
                }
                FilterLit::Str(s)
            }
            Tok::Ident(f) if f == "ip" => {
                if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return Err(self.error_at(vat, "ip() label filters take = or != only"));
                }
                self.expect("(")?;
                let pattern = self.string("an address, range or CIDR (a string)")?;
                self.expect(")")?;
                return Ok(LabelFilter::Ip {
                    label,
                    negated: op == CmpOp::Ne,
                    pattern,
                    at,
                });
            }
            Tok::Num(n) => FilterLit::Num(n),
            Tok::Punct("-") => match self.next() {
                Tok::Num(n) => FilterLit::Num(-n),
                Tok::Duration(d) => FilterLit::Duration(-d),
                t => return Err(self.error_at(vat, format!("syntax error: unexpected {} after -", t.kind()))),
            },
            Tok::Duration(d) => FilterLit::Duration(d),
            Tok::Bytes(b) => FilterLit::Bytes(b),
            t => {
                return Err(self.error_at(
                    vat,
                    format!("syntax error: unexpected {}, expecting a string, number, duration or byte size", t.kind()),
                ))
            }
        };
        let string_value = matches!(value, FilterLit::Str(_));
        let string_op = matches!(op, CmpOp::Eq | CmpOp::Ne | CmpOp::Re | CmpOp::NotRe);
        if matches!(op, CmpOp::Re | CmpOp::NotRe) && !string_value {
            return Err(self.error_at(vat, "=~ and !~ compare with a quoted regular expression"));
        }
        if string_value && !string_op {
            return Err(self.error_at(vat, "a string compares with =, !=, =~ or !~ only; to compare numbers, write the number without quotes"));
        }
        Ok(LabelFilter::Cmp {
            label,
            op,
            value,
            at,
        })
    }
}
