//! The syntax tree of a TraceQL query. It is also the compiled form the
//! evaluator walks: attribute names are parsed once, regexps compiled once.

use crate::matcher::Matcher;
use sightline_core::traces::{SpanKind, StatusCode};
use std::fmt;

/// A whole query: a spanset pipeline, optionally ended by a metrics
/// function (which makes it a TraceQL metrics query).
#[derive(Debug, Clone)]
pub struct Query {
    pub pipeline: Pipeline,
    pub metrics: Option<MetricsStage>,
}

/// Stages joined by `|`; the first is always a spanset expression.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone)]
pub enum Stage {
    /// A spanset expression, applied to each incoming spanset.
    Spanset(SpansetExpr),
    /// `count() > 2`, `avg(duration) >= 1s`: keeps the spansets whose
    /// aggregate compares true, recording the value.
    Aggregate {
        agg: Aggregate,
        op: BinOp,
        value: Static,
    },
    /// `by(f, ...)`: splits each spanset by the values of the fields.
    By(Vec<FieldExpr>),
    /// `select(f, ...)`: reports these fields on each span.
    Select(Vec<FieldExpr>),
    /// `coalesce()`: merges every spanset of the trace into one.
    Coalesce,
}

#[derive(Debug, Clone)]
pub struct Aggregate {
    pub func: AggFunc,
    /// `None` for `count()`.
    pub field: Option<FieldExpr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    Avg,
    Min,
    Max,
    Sum,
}

impl AggFunc {
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Sum => "sum",
        }
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}({field})", self.func.name()),
            None => write!(f, "{}()", self.func.name()),
        }
    }
}

/// Spanset expressions: filters joined by `&&`, `||` and the structural
/// operators.
#[derive(Debug, Clone)]
pub enum SpansetExpr {
    /// `{ cond }`; `None` for `{}`, which matches every span.
    Filter(Option<FieldExpr>),
    Binary {
        op: SpansetOp,
        lhs: Box<SpansetExpr>,
        rhs: Box<SpansetExpr>,
    },
    /// `( pipeline )` used as an operand.
    Pipeline(Box<Pipeline>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpansetOp {
    And,
    Or,
    Child,
    Descendant,
    Parent,
    Ancestor,
    Sibling,
    NotChild,
    NotDescendant,
    NotParent,
    NotAncestor,
    NotSibling,
    UnionChild,
    UnionDescendant,
    UnionParent,
    UnionAncestor,
    UnionSibling,
}

/// A metrics function ending a query, with its `by()`.
#[derive(Debug, Clone)]
pub struct MetricsStage {
    pub func: MetricsFunc,
    pub by: Vec<FieldExpr>,
}

#[derive(Debug, Clone)]
pub enum MetricsFunc {
    Rate,
    CountOverTime,
    MinOverTime(FieldExpr),
    MaxOverTime(FieldExpr),
    AvgOverTime(FieldExpr),
    SumOverTime(FieldExpr),
    QuantileOverTime(FieldExpr, Vec<f64>),
    HistogramOverTime(FieldExpr),
}

impl MetricsFunc {
    /// The function's name, as Tempo labels a series without `by()`.
    pub fn name(&self) -> &'static str {
        match self {
            MetricsFunc::Rate => "rate",
            MetricsFunc::CountOverTime => "count_over_time",
            MetricsFunc::MinOverTime(_) => "min_over_time",
            MetricsFunc::MaxOverTime(_) => "max_over_time",
            MetricsFunc::AvgOverTime(_) => "avg_over_time",
            MetricsFunc::SumOverTime(_) => "sum_over_time",
            MetricsFunc::QuantileOverTime(..) => "quantile_over_time",
            MetricsFunc::HistogramOverTime(_) => "histogram_over_time",
        }
    }
}

/// Expressions over one span's fields.
#[derive(Debug, Clone)]
pub enum FieldExpr {
    Static(Static),
    Attr(Attr),
    Intrinsic(Intrinsic),
    Binary {
        op: BinOp,
        lhs: Box<FieldExpr>,
        rhs: Box<FieldExpr>,
        /// Compiled once for `=~`/`!~` with a literal pattern.
        regex: Option<Box<Matcher>>,
    },
    Not(Box<FieldExpr>),
    Neg(Box<FieldExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Re,
    Nre,
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "=",
            BinOp::Neq => "!=",
            BinOp::Gt => ">",
            BinOp::Gte => ">=",
            BinOp::Lt => "<",
            BinOp::Lte => "<=",
            BinOp::Re => "=~",
            BinOp::Nre => "!~",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq
                | BinOp::Neq
                | BinOp::Gt
                | BinOp::Gte
                | BinOp::Lt
                | BinOp::Lte
                | BinOp::Re
                | BinOp::Nre
        )
    }
}

/// Where an attribute is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrScope {
    Span,
    Resource,
    /// `.x`: the span's attribute, else the resource's.
    Unscoped,
    Event,
    Link,
    Instrumentation,
}

impl AttrScope {
    fn prefix(self) -> &'static str {
        match self {
            AttrScope::Span => "span.",
            AttrScope::Resource => "resource.",
            AttrScope::Unscoped => ".",
            AttrScope::Event => "event.",
            AttrScope::Link => "link.",
            AttrScope::Instrumentation => "instrumentation.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub scope: AttrScope,
    pub name: Box<str>,
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| !c.is_whitespace() && !"{}()=~!<>&|^,\"".contains(c));
        if plain {
            write!(f, "{}{}", self.scope.prefix(), self.name)
        } else {
            write!(f, "{}{:?}", self.scope.prefix(), &*self.name)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intrinsic {
    Name,
    Status,
    StatusMessage,
    Kind,
    Duration,
    RootName,
    RootServiceName,
    TraceDuration,
    SpanId,
    TraceId,
    ParentId,
    ChildCount,
    EventName,
    EventTimeSinceStart,
    LinkTraceId,
    LinkSpanId,
    InstrumentationName,
    InstrumentationVersion,
}

impl Intrinsic {
    /// The intrinsic a word names (plain and scoped spellings).
    pub fn from_name(s: &str) -> Option<Intrinsic> {
        Some(match s {
            "name" | "span:name" => Intrinsic::Name,
            "status" | "span:status" => Intrinsic::Status,
            "statusMessage" | "span:statusMessage" => Intrinsic::StatusMessage,
            "kind" | "span:kind" => Intrinsic::Kind,
            "duration" | "span:duration" => Intrinsic::Duration,
            "rootName" | "trace:rootName" => Intrinsic::RootName,
            "rootServiceName" | "trace:rootService" => Intrinsic::RootServiceName,
            "traceDuration" | "trace:duration" => Intrinsic::TraceDuration,
            "span:id" => Intrinsic::SpanId,
            "trace:id" => Intrinsic::TraceId,
            "span:parentID" => Intrinsic::ParentId,
            "span:childCount" => Intrinsic::ChildCount,
            "event:name" => Intrinsic::EventName,
            "event:timeSinceStart" => Intrinsic::EventTimeSinceStart,
            "link:traceID" => Intrinsic::LinkTraceId,
            "link:spanID" => Intrinsic::LinkSpanId,
            "instrumentation:name" => Intrinsic::InstrumentationName,
            "instrumentation:version" => Intrinsic::InstrumentationVersion,
            _ => return None,
        })
    }

    /// The spelling Tempo reports (the plain one where there is one).
    pub fn name(self) -> &'static str {
        match self {
            Intrinsic::Name => "name",
            Intrinsic::Status => "status",
            Intrinsic::StatusMessage => "statusMessage",
            Intrinsic::Kind => "kind",
            Intrinsic::Duration => "duration",
            Intrinsic::RootName => "rootName",
            Intrinsic::RootServiceName => "rootServiceName",
            Intrinsic::TraceDuration => "traceDuration",
            Intrinsic::SpanId => "span:id",
            Intrinsic::TraceId => "trace:id",
            Intrinsic::ParentId => "span:parentID",
            Intrinsic::ChildCount => "span:childCount",
            Intrinsic::EventName => "event:name",
            Intrinsic::EventTimeSinceStart => "event:timeSinceStart",
            Intrinsic::LinkTraceId => "link:traceID",
            Intrinsic::LinkSpanId => "link:spanID",
            Intrinsic::InstrumentationName => "instrumentation:name",
            Intrinsic::InstrumentationVersion => "instrumentation:version",
        }
    }
}

/// A literal, and the owned form of a field's value (what `by()` and
/// `select()` report).
#[derive(Debug, Clone, PartialEq)]
pub enum Static {
    Nil,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    /// Nanoseconds.
    Duration(i64),
    Status(StatusCode),
    Kind(SpanKind),
}

impl fmt::Display for Static {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Static::Nil => f.write_str("nil"),
            Static::Int(i) => write!(f, "{i}"),
            Static::Float(x) => f.write_str(&sightline_core::gofmt::shortest_g(*x)),
            Static::Str(s) => write!(f, "{s:?}"),
            Static::Bool(b) => write!(f, "{b}"),
            Static::Duration(ns) => f.write_str(&format_duration(*ns)),
            Static::Status(s) => f.write_str(s.name()),
            Static::Kind(k) => f.write_str(k.name()),
        }
    }
}

/// Nanoseconds as Go prints a `time.Duration` (`1.5s`, `250ms`, `1h2m3s`).
pub fn format_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let u = ns.unsigned_abs();
    let trim = |whole: u64, frac: u64, digits: usize| -> String {
        let mut s = whole.to_string();
        if frac > 0 {
            let f = format!("{frac:0digits$}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s
    };
    if u < 1_000 {
        return format!("{sign}{u}ns");
    }
    if u < 1_000_000 {
        return format!("{sign}{}µs", trim(u / 1_000, u % 1_000, 3));
    }
    if u < 1_000_000_000 {
        return format!("{sign}{}ms", trim(u / 1_000_000, u % 1_000_000, 6));
    }
    let secs = u / 1_000_000_000;
    let frac = u % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = sign.to_string();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s, frac, 9)));
    out
}

impl fmt::Display for FieldExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldExpr::Static(s) => write!(f, "{s}"),
            FieldExpr::Attr(a) => write!(f, "{a}"),
            FieldExpr::Intrinsic(i) => f.write_str(i.name()),
            FieldExpr::Binary { op, lhs, rhs, .. } => {
                write!(f, "({lhs} {} {rhs})", op.symbol())
            }
            FieldExpr::Not(e) => write!(f, "!{e}"),
            FieldExpr::Neg(e) => write!(f, "-{e}"),
        }
    }
}
