//! The syntax tree of a LogQL query. Every node that an error can point at
//! keeps its byte offset in the query (`at`).

use sightline_core::Matcher;

/// A whole query: a log query (lines) or a metric query (samples).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Log(LogExpr),
    Metric(MetricExpr),
}

/// `{selector} | stage | stage ...`
#[derive(Debug, Clone, PartialEq)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
    pub at: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOp {
    /// `|=`
    Contains,
    /// `!=`
    NotContains,
    /// `|~`
    Match,
    /// `!~`
    NotMatch,
    /// `|>` (a pattern: `<_>` matches anything)
    Pattern,
    /// `!>`
    NotPattern,
}

impl LineOp {
    pub fn negated(self) -> bool {
        matches!(
            self,
            LineOp::NotContains | LineOp::NotMatch | LineOp::NotPattern
        )
    }
}

/// One alternative of a line filter.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    /// `ip("192.168.0.0/16")`: lines holding an address in the range.
    Ip(String),
}

/// `|= "a" or "b"`: for a positive operator a line matching any
/// alternative passes; for a negative one, a line matching none.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFilter {
    pub op: LineOp,
    pub values: Vec<FilterValue>,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parser {
    /// `json` or `json a="x.y", b` (label = JMESPath-like expression).
    Json(Vec<(String, String)>),
    Logfmt {
        strict: bool,
        keep_empty: bool,
        params: Vec<(String, String)>,
    },
    Regexp(String),
    Pattern(String),
    Unpack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    /// `==`, same as `=` for numbers.
    EqEq,
    Ne,
    Re,
    NotRe,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterLit {
    Str(String),
    Num(f64),
    /// Nanoseconds.
    Duration(i64),
    Bytes(u64),
}

/// A label filter: `status >= 400 and (method = "GET" or latency > 1s)`.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelFilter {
    Cmp {
        label: String,
        op: CmpOp,
        value: FilterLit,
        at: usize,
    },
    /// `label = ip("...")` or `label != ip("...")`
    Ip {
        label: String,
        negated: bool,
        pattern: String,
        at: usize,
    },
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
}

/// `label_format dst="{{.x}}"` (a template) or `dst=src` (a rename).
#[derive(Debug, Clone, PartialEq)]
pub enum LabelFmt {
    Template { dst: String, template: String },
    Rename { dst: String, src: String },
}

/// `drop a, b="x"` / `keep a, b="x"`: a name, or a name with a matcher.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSel {
    pub name: String,
    pub matcher: Option<Matcher>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The value as a number.
    None,
    /// `duration(x)`/`duration_seconds(x)`: a Go duration, in seconds.
    Duration,
    /// `bytes(x)`: a size, in bytes.
    Bytes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unwrap {
    pub label: String,
    pub conversion: Conversion,
    /// Label filters after the unwrap (`| __error__=""`).
    pub filters: Vec<LabelFilter>,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Line(LineFilter),
    Parser(Parser, usize),
    Label(LabelFilter),
    LineFormat(String, usize),
    LabelFormat(Vec<LabelFmt>, usize),
    Drop(Vec<LabelSel>),
    Keep(Vec<LabelSel>),
    Decolorize,
    Unwrap(Unwrap),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    Rate,
    RateCounter,
    CountOverTime,
    BytesRate,
    BytesOverTime,
    AbsentOverTime,
    SumOverTime,
    AvgOverTime,
    MinOverTime,
    MaxOverTime,
    StddevOverTime,
    StdvarOverTime,
    QuantileOverTime,
    FirstOverTime,
    LastOverTime,
}

impl RangeOp {
    pub const ALL: [(&'static str, RangeOp); 15] = [
        ("rate", RangeOp::Rate),
        ("rate_counter", RangeOp::RateCounter),
        ("count_over_time", RangeOp::CountOverTime),
        ("bytes_rate", RangeOp::BytesRate),
        ("bytes_over_time", RangeOp::BytesOverTime),
        ("absent_over_time", RangeOp::AbsentOverTime),
        ("sum_over_time", RangeOp::SumOverTime),
        ("avg_over_time", RangeOp::AvgOverTime),
        ("min_over_time", RangeOp::MinOverTime),
        ("max_over_time", RangeOp::MaxOverTime),
        ("stddev_over_time", RangeOp::StddevOverTime),
        ("stdvar_over_time", RangeOp::StdvarOverTime),
        ("quantile_over_time", RangeOp::QuantileOverTime),
        ("first_over_time", RangeOp::FirstOverTime),
        ("last_over_time", RangeOp::LastOverTime),
    ];

    pub fn name(self) -> &'static str {
        RangeOp::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("", |(n, _)| n)
    }

    /// Whether a window's value is a sum over its samples (divided by a
    /// constant at most), so that summing series equals aggregating the
    /// union of their samples: what lets `sum by` group lines as they are
    /// read.
    pub fn is_sum_of_samples(self) -> bool {
        matches!(
            self,
            RangeOp::Rate
                | RangeOp::CountOverTime
                | RangeOp::BytesRate
                | RangeOp::BytesOverTime
                | RangeOp::SumOverTime
        )
    }

    /// Whether the operation reads unwrapped values (and needs `| unwrap`).
    pub fn needs_unwrap(self) -> bool {
        !matches!(
            self,
            RangeOp::Rate
                | RangeOp::CountOverTime
                | RangeOp::BytesRate
                | RangeOp::BytesOverTime
                | RangeOp::AbsentOverTime
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    Sort,
    SortDesc,
}

impl VectorOp {
    pub const ALL: [(&'static str, VectorOp); 11] = [
        ("sum", VectorOp::Sum),
        ("avg", VectorOp::Avg),
        ("min", VectorOp::Min),
        ("max", VectorOp::Max),
        ("count", VectorOp::Count),
        ("stddev", VectorOp::Stddev),
        ("stdvar", VectorOp::Stdvar),
        ("topk", VectorOp::Topk),
        ("bottomk", VectorOp::Bottomk),
        ("sort", VectorOp::Sort),
        ("sort_desc", VectorOp::SortDesc),
    ];
}

/// `by (a, b)` or `without (a, b)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Unless,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le
        )
    }
    pub fn is_set(self) -> bool {
        matches!(self, BinOp::Or | BinOp::And | BinOp::Unless)
    }
}

/// `on (a) group_left (b)` and friends.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorMatching {
    /// `on` (true) or `ignoring` (false); `None` when neither is given.
    pub on: Option<bool>,
    pub labels: Vec<String>,
    /// `group_left` (Some(true)) or `group_right` (Some(false)).
    pub group_left: Option<bool>,
    pub include: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetricExpr {
    Range {
        op: RangeOp,
        /// `quantile_over_time`'s φ.
        param: Option<f64>,
        log: LogExpr,
        /// Nanoseconds.
        range: i64,
        offset: i64,
        grouping: Option<Grouping>,
        at: usize,
    },
    Vector {
        op: VectorOp,
        /// `topk`'s and `bottomk`'s k.
        param: Option<f64>,
        grouping: Option<Grouping>,
        expr: Box<MetricExpr>,
        at: usize,
    },
    Binary {
        op: BinOp,
        lhs: Box<MetricExpr>,
        rhs: Box<MetricExpr>,
        return_bool: bool,
        matching: VectorMatching,
        at: usize,
    },
    Number(f64),
    /// `vector(1)`
    Vector1(f64),
    LabelReplace {
        expr: Box<MetricExpr>,
        dst: String,
        replacement: String,
        src: String,
        regex: String,
        at: usize,
    },
}
