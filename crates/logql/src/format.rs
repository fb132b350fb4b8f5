//! Queries written back as text, in one canonical form (`format_query`,
//! and error messages naming a series' selector). Parsing the output gives
//! the same tree: a test checks it for every query of the parser tests.

use crate::ast::*;
use std::fmt::{self, Display, Formatter, Write};

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A duration in nanoseconds as LogQL writes it (`1h30m`, `250ms`).
pub fn duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let mut n = ns.unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    for (unit, size) in [
        ("d", 86_400_000_000_000u64),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        if n >= size {
            let _ = write!(out, "{}{unit}", n / size);
            n %= size;
        }
    }
    out
}

fn number(n: f64) -> String {
    if n.is_infinite() {
        return if n > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    format!("{n}")
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => l.fmt(f),
            Expr::Metric(m) => m.fmt(f),
        }
    }
}

impl Display for LogExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}{}{}", m.name, m.op, quote(&m.value))?;
        }
        f.write_str("}")?;
        for s in &self.stages {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

impl Display for LabelFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LabelFilter::Cmp {
                label, op, value, ..
            } => {
                let op = match op {
                    CmpOp::Eq => "=",
                    CmpOp::EqEq => "==",
                    CmpOp::Ne => "!=",
                    CmpOp::Re => "=~",
                    CmpOp::NotRe => "!~",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                };
                let v = match value {
                    FilterLit::Str(s) => quote(s),
                    FilterLit::Num(n) => number(*n),
                    FilterLit::Duration(d) => duration(*d),
                    FilterLit::Bytes(b) => format!("{b}B"),
                };
                write!(f, "{label}{op}{v}")
            }
            LabelFilter::Ip {
                label,
                negated,
                pattern,
                ..
            } => write!(
                f,
                "{label}{}ip({})",
                if *negated { "!=" } else { "=" },
                quote(pattern)
            ),
            LabelFilter::And(a, b) => write!(f, "{} and {}", paren(a), paren(b)),
            LabelFilter::Or(a, b) => write!(f, "{} or {}", a, b),
        }
    }
}

/// An `or` inside an `and` keeps its parentheses.
fn paren(l: &LabelFilter) -> String {
    match l {
        LabelFilter::Or(..) => format!("({l})"),
        _ => l.to_string(),
    }
}

fn params(p: &[(String, String)]) -> String {
    p.iter()
        .map(|(l, e)| {
            if l == e {
                l.clone()
            } else {
                format!("{l}={}", quote(e))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sels(s: &[LabelSel]) -> String {
    s.iter()
        .map(|x| match &x.matcher {
            Some(m) => format!("{}{}{}", m.name, m.op, quote(&m.value)),
            None => x.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Display for Stage {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Line(lf) => {
                let op = match lf.op {
                    LineOp::Contains => "|=",
                    LineOp::NotContains => "!=",
                    LineOp::Match => "|~",
                    LineOp::NotMatch => "!~",
                    LineOp::Pattern => "|>",
                    LineOp::NotPattern => "!>",
                };
                let vals: Vec<String> = lf
                    .values
                    .iter()
                    .map(|v| match v {
                        FilterValue::Text(s) => quote(s),
                        FilterValue::Ip(s) => format!("ip({})", quote(s)),
                    })
                    .collect();
                write!(f, "{op} {}", vals.join(" or "))
            }
            Stage::Parser(p, _) => match p {
                Parser::Json(ps) if ps.is_empty() => f.write_str("| json"),
                Parser::Json(ps) => write!(f, "| json {}", params(ps)),
                Parser::Logfmt {
                    strict,
                    keep_empty,
                    params: ps,
                } => {
                    f.write_str("| logfmt")?;
                    if *strict {
                        f.write_str(" --strict")?;
                    }
                    if *keep_empty {
                        f.write_str(" --keep-empty")?;
                    }
                    if !ps.is_empty() {
                        write!(f, " {}", params(ps))?;
                    }
                    Ok(())
                }
                Parser::Regexp(r) => write!(f, "| regexp {}", quote(r)),
                Parser::Pattern(p) => write!(f, "| pattern {}", quote(p)),
                Parser::Unpack => f.write_str("| unpack"),
            },
            Stage::Label(l) => write!(f, "| {l}"),
            Stage::LineFormat(t, _) => write!(f, "| line_format {}", quote(t)),
            Stage::LabelFormat(fmts, _) => {
                let parts: Vec<String> = fmts
                    .iter()
                    .map(|x| match x {
                        LabelFmt::Template { dst, template } => {
                            format!("{dst}={}", quote(template))
                        }
                        LabelFmt::Rename { dst, src } => format!("{dst}={src}"),
                    })
                    .collect();
                write!(f, "| label_format {}", parts.join(", "))
            }
            Stage::Drop(s) => write!(f, "| drop {}", sels(s)),
            Stage::Keep(s) => write!(f, "| keep {}", sels(s)),
            Stage::Decolorize => f.write_str("| decolorize"),
            Stage::Unwrap(u) => {
                match u.conversion {
                    Conversion::None => write!(f, "| unwrap {}", u.label)?,
                    Conversion::Duration => write!(f, "| unwrap duration({})", u.label)?,
                    Conversion::Bytes => write!(f, "| unwrap bytes({})", u.label)?,
                }
                for l in &u.filters {
                    write!(f, " | {l}")?;
                }
                Ok(())
            }
        }
    }
}

fn grouping(g: &Option<Grouping>) -> String {
    match g {
        None => String::new(),
        Some(g) => format!(
            " {} ({})",
            if g.without { "without" } else { "by" },
            g.labels.join(", ")
        ),
    }
}

fn prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And | BinOp::Unless => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => 3,
        BinOp::Add | BinOp::Sub => 4,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
        BinOp::Pow => 6,
    }
}

impl Display for MetricExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpr::Number(n) => f.write_str(&number(*n)),
            MetricExpr::Vector1(n) => write!(f, "vector({})", number(*n)),
            MetricExpr::Range {
                op,
                param,
                log,
                range,
                offset,
                grouping: g,
                ..
            } => {
                write!(f, "{}(", op.name())?;
                if let Some(p) = param {
                    write!(f, "{}, ", number(*p))?;
                }
                write!(f, "{log} [{}]", duration(*range))?;
                if *offset != 0 {
                    write!(f, " offset {}", duration(*offset))?;
                }
                write!(f, "){}", grouping(g))
            }
            MetricExpr::Vector {
                op,
                param,
                grouping: g,
                expr,
                ..
            } => {
                let name = VectorOp::ALL
                    .iter()
                    .find(|(_, o)| o == op)
                    .map_or("", |x| x.0);
                write!(f, "{name}{} (", grouping(g))?;
                if let Some(p) = param {
                    write!(f, "{}, ", number(*p))?;
                }
                write!(f, "{expr})")
            }
            MetricExpr::Binary {
                op,
                lhs,
                rhs,
                return_bool,
                matching,
                ..
            } => {
                let sym = match op {
                    BinOp::Or => "or",
                    BinOp::And => "and",
                    BinOp::Unless => "unless",
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Mod => "%",
                    BinOp::Pow => "^",
                    BinOp::Eq => "==",
                    BinOp::Ne => "!=",
                    BinOp::Gt => ">",
                    BinOp::Ge => ">=",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                };
                let side = |e: &MetricExpr, right: bool| match e {
                    MetricExpr::Binary { op: inner, .. }
                        if prec(*inner) < prec(*op)
                            || (prec(*inner) == prec(*op) && (right != (*op == BinOp::Pow))) =>
                    {
                        format!("({e})")
                    }
                    _ => e.to_string(),
                };
                write!(f, "{} {sym}", side(lhs, false))?;
                if *return_bool {
                    f.write_str(" bool")?;
                }
                if let Some(on) = matching.on {
                    write!(
                        f,
                        " {} ({})",
                        if on { "on" } else { "ignoring" },
                        matching.labels.join(", ")
                    )?;
                }
                if let Some(left) = matching.group_left {
                    write!(
                        f,
                        " {} ({})",
                        if left { "group_left" } else { "group_right" },
                        matching.include.join(", ")
                    )?;
                }
                write!(f, " {}", side(rhs, true))
            }
            MetricExpr::LabelReplace {
                expr,
                dst,
                replacement,
                src,
                regex,
                ..
            } => write!(
                f,
                "label_replace({expr}, {}, {}, {}, {})",
                quote(dst),
                quote(replacement),
                quote(src),
                quote(regex)
            ),
        }
    }
}
