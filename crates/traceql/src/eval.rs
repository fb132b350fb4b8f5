//! Evaluating a query over the spans of one trace.
//!
//! A pipeline works on spansets: the first stage sees one spanset holding
//! every span of the trace; a spanset expression keeps, for each incoming
//! spanset, the spans its filters match (structural operators look at the
//! whole trace's tree); aggregates drop spansets; `by()` splits them;
//! `coalesce()` merges them. A trace matches when spansets remain.

use crate::ast::*;
use crate::value::{arithmetic, compare, exists_test, Value};
use sightline_core::traces::{attr, Span, SpanEvent, SpanLink};
use std::cell::OnceCell;
use std::collections::HashMap;

/// One trace's spans with what queries ask of the whole trace: the root,
/// the time span, and the tree. Each is computed when first asked for, so a
/// filter that reads none of them costs nothing per trace.
pub struct TraceView<'a> {
    pub spans: &'a [Span],
    root: OnceCell<Option<usize>>,
    bounds: OnceCell<(i64, i64)>,
    parents: OnceCell<Vec<Option<u32>>>,
    child_counts: OnceCell<Vec<u32>>,
}

impl<'a> TraceView<'a> {
    pub fn new(spans: &'a [Span]) -> TraceView<'a> {
        TraceView {
            spans,
            root: OnceCell::new(),
            bounds: OnceCell::new(),
            parents: OnceCell::new(),
            child_counts: OnceCell::new(),
        }
    }

    /// The span without a parent id (the earliest, if several); `None`
    /// when the root has not arrived.
    pub fn root(&self) -> Option<usize> {
        *self.root.get_or_init(|| {
            let mut root: Option<usize> = None;
            for (i, s) in self.spans.iter().enumerate() {
                if s.parent_span_id.is_none_or(|p| p.is_zero()) {
                    let better = root.is_none_or(|r| {
                        let r = &self.spans[r];
                        (s.start_ns, s.span_id) < (r.start_ns, r.span_id)
                    });
                    if better {
                        root = Some(i);
                    }
                }
            }
            root
        })
    }

    /// The earliest span start and the latest span end (0, 0 when empty).
    pub fn bounds(&self) -> (i64, i64) {
        *self.bounds.get_or_init(|| {
            if self.spans.is_empty() {
                return (0, 0);
            }
            self.spans.iter().fold((i64::MAX, i64::MIN), |(a, b), s| {
                (a.min(s.start_ns), b.max(s.end_ns))
            })
        })
    }

    pub fn start_ns(&self) -> i64 {
        self.bounds().0
    }

    pub fn end_ns(&self) -> i64 {
        self.bounds().1
    }

    /// How many direct children each span has (in this trace).
    pub fn child_counts(&self) -> &[u32] {
        self.child_counts.get_or_init(|| {
            let mut n = vec![0u32; self.spans.len()];
            for p in self.parents().iter().flatten() {
                n[*p as usize] += 1;
            }
            n
        })
    }

    /// Each span's parent's index; `None` for roots and for spans whose
    /// parent is not in the trace (they are extra roots).
    pub fn parents(&self) -> &[Option<u32>] {
        self.parents.get_or_init(|| {
            let mut by_id = HashMap::with_capacity(self.spans.len());
            for (i, s) in self.spans.iter().enumerate() {
                by_id.entry(s.span_id).or_insert(i as u32);
            }
            self.spans
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let p = *by_id.get(&s.parent_span_id?)?;
                    (p as usize != i).then_some(p)
                })
                .collect()
        })
    }
}

/// A set of spans of one trace, with what the pipeline attached to it.
#[derive(Debug, Clone, Default)]
pub struct Spanset<'q> {
    /// Indexes into the trace's spans, ascending.
    pub spans: Vec<u32>,
    /// `by()` values: (field as written, value).
    pub by: Vec<(String, Static)>,
    /// The aggregate that kept this spanset: (`count()`, value).
    pub scalar: Option<(String, Static)>,
    /// Fields `select()` asked for.
    pub select: Vec<&'q FieldExpr>,
}

struct Ctx<'a> {
    trace: &'a TraceView<'a>,
    span: &'a Span,
    /// The span's index in the trace.
    index: usize,
    event: Option<&'a SpanEvent>,
    link: Option<&'a SpanLink>,
}

/// Evaluates `e` for one span (and the event and link in context).
fn eval<'a>(e: &'a FieldExpr, c: &Ctx<'a>) -> Value<'a> {
    match e {
        FieldExpr::Static(s) => Value::from_static(s),
        FieldExpr::Attr(a) => attribute(a, c),
        FieldExpr::Intrinsic(i) => intrinsic(*i, c),
        FieldExpr::Binary {
            op,
            lhs,
            rhs,
            regex,
        } => match op {
            BinOp::And => Value::Bool(eval(lhs, c).is_true() && eval(rhs, c).is_true()),
            BinOp::Or => Value::Bool(eval(lhs, c).is_true() || eval(rhs, c).is_true()),
            op if op.is_comparison() => Value::Bool(match (&**lhs, &**rhs) {
                (FieldExpr::Static(Static::Nil), x) | (x, FieldExpr::Static(Static::Nil)) => {
                    exists_test(*op, eval(x, c))
                }
                _ => compare(*op, eval(lhs, c), eval(rhs, c), regex.as_deref()),
            }),
            op => arithmetic(*op, eval(lhs, c), eval(rhs, c)),
        },
        FieldExpr::Not(x) => match eval(x, c) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Nil,
        },
        FieldExpr::Neg(x) => match eval(x, c) {
            Value::Int(i) => Value::Int(i.wrapping_neg()),
            Value::Float(f) => Value::Float(-f),
            Value::Duration(d) => Value::Duration(-d),
            _ => Value::Nil,
        },
    }
}

fn attribute<'a>(a: &'a Attr, c: &Ctx<'a>) -> Value<'a> {
    let s = c.span;
    let found = match a.scope {
        AttrScope::Span => attr(&s.attributes, &a.name),
        AttrScope::Resource => attr(&s.resource.attributes, &a.name),
        AttrScope::Unscoped => {
            attr(&s.attributes, &a.name).or_else(|| attr(&s.resource.attributes, &a.name))
        }
        AttrScope::Instrumentation => attr(&s.scope.attributes, &a.name),
        AttrScope::Event => c.event.and_then(|e| attr(&e.attributes, &a.name)),
        AttrScope::Link => c.link.and_then(|l| attr(&l.attributes, &a.name)),
    };
    found.map_or(Value::Nil, Value::from_any)
}

fn intrinsic<'a>(i: Intrinsic, c: &Ctx<'a>) -> Value<'a> {
    let s = c.span;
    let t = c.trace;
    match i {
        Intrinsic::Name => Value::Str(&s.name),
        Intrinsic::Status => Value::Status(s.status_code),
        Intrinsic::StatusMessage => Value::Str(&s.status_message),
        Intrinsic::Kind => Value::Kind(s.kind),
        Intrinsic::Duration => Value::Duration(s.duration_ns()),
        Intrinsic::RootName => t
            .root()
            .map_or(Value::Nil, |r| Value::Str(&t.spans[r].name)),
        Intrinsic::RootServiceName => t
            .root()
            .and_then(|r| t.spans[r].resource.service_name())
            .map_or(Value::Nil, Value::Str),
        Intrinsic::TraceDuration => Value::Duration(t.end_ns() - t.start_ns()),
        Intrinsic::SpanId => Value::Id(&s.span_id.0),
        Intrinsic::TraceId => Value::Id(&s.trace_id.0),
        Intrinsic::ParentId => match &s.parent_span_id {
            Some(p) if !p.is_zero() => Value::Id(&p.0),
            _ => Value::Nil,
        },
        Intrinsic::ChildCount => Value::Int(i64::from(t.child_counts()[c.index])),
        Intrinsic::EventName => c.event.map_or(Value::Nil, |e| Value::Str(&e.name)),
        Intrinsic::EventTimeSinceStart => c
            .event
            .map_or(Value::Nil, |e| Value::Duration(e.time_ns - s.start_ns)),
        Intrinsic::LinkTraceId => c.link.map_or(Value::Nil, |l| Value::Id(&l.trace_id.0)),
        Intrinsic::LinkSpanId => c.link.map_or(Value::Nil, |l| Value::Id(&l.span_id.0)),
        Intrinsic::InstrumentationName => Value::Str(&s.scope.name),
        Intrinsic::InstrumentationVersion => Value::Str(&s.scope.version),
    }
}

/// Whether `e` reads events / links (then it is evaluated per event / link).
fn uses(e: &FieldExpr) -> (bool, bool) {
    match e {
        FieldExpr::Attr(a) => (a.scope == AttrScope::Event, a.scope == AttrScope::Link),
        FieldExpr::Intrinsic(i) => (
            matches!(i, Intrinsic::EventName | Intrinsic::EventTimeSinceStart),
            matches!(i, Intrinsic::LinkTraceId | Intrinsic::LinkSpanId),
        ),
        FieldExpr::Binary { lhs, rhs, .. } => {
            let (a, b) = uses(lhs);
            let (c, d) = uses(rhs);
            (a || c, b || d)
        }
        FieldExpr::Not(x) | FieldExpr::Neg(x) => uses(x),
        FieldExpr::Static(_) => (false, false),
    }
}

/// A compiled filter condition: the expression and whether it iterates
/// events and links.
struct Cond<'q> {
    e: &'q FieldExpr,
    events: bool,
    links: bool,
}

impl<'q> Cond<'q> {
    fn new(e: &'q FieldExpr) -> Self {
        let (events, links) = uses(e);
        Cond { e, events, links }
    }

    /// A span matches when the condition is true for it; conditions on
    /// events (links) must hold for one and the same event (link).
    fn matches<'a>(&self, trace: &'a TraceView<'a>, index: usize) -> bool
    where
        'q: 'a,
    {
        let span = &trace.spans[index];
        let mut c = Ctx {
            trace,
            span,
            index,
            event: None,
            link: None,
        };
        if !self.events && !self.links {
            return eval(self.e, &c).is_true();
        }
        // Each event (link) in turn; one pass with none when there are none.
        let n_ev = if self.events {
            span.events.len().max(1)
        } else {
            1
        };
        let n_lk = if self.links {
            span.links.len().max(1)
        } else {
            1
        };
        for ei in 0..n_ev {
            c.event = if self.events {
                span.events.get(ei)
            } else {
                None
            };
            for li in 0..n_lk {
                c.link = if self.links { span.links.get(li) } else { None };
                if eval(self.e, &c).is_true() {
                    return true;
                }
            }
        }
        false
    }
}

/// The value of `e` for a span outside any filter (`by()`, `select()`,
/// aggregates, metrics): events and links read from the first one.
pub fn field_value<'a>(e: &'a FieldExpr, trace: &'a TraceView<'a>, index: usize) -> Value<'a> {
    let span = &trace.spans[index];
    let c = Ctx {
        trace,
        span,
        index,
        event: span.events.first(),
        link: span.links.first(),
    };
    eval(e, &c)
}

/// Evaluates a query's pipeline over one trace.
pub fn eval_trace<'q, 'a>(p: &'q Pipeline, trace: &'a TraceView<'a>) -> Vec<Spanset<'q>>
where
    'q: 'a,
{
    // The common start, a filter over every span, straight from the
    // spans: a trace that does not match allocates nothing.
    if let Some(Stage::Spanset(SpansetExpr::Filter(Some(f)))) = p.stages.first() {
        let cond = Cond::new(f);
        let spans: Vec<u32> = (0..trace.spans.len())
            .filter(|&i| cond.matches(trace, i))
            .map(|i| i as u32)
            .collect();
        if spans.is_empty() {
            return Vec::new();
        }
        let first = Spanset {
            spans,
            ..Default::default()
        };
        return eval_stages(&p.stages[1..], trace, vec![first]);
    }
    let all = Spanset {
        spans: (0..trace.spans.len() as u32).collect(),
        ..Default::default()
    };
    eval_pipeline(p, trace, vec![all])
}

fn eval_pipeline<'q, 'a>(
    p: &'q Pipeline,
    trace: &'a TraceView<'a>,
    sets: Vec<Spanset<'q>>,
) -> Vec<Spanset<'q>>
where
    'q: 'a,
{
    eval_stages(&p.stages, trace, sets)
}

fn eval_stages<'q, 'a>(
    stages: &'q [Stage],
    trace: &'a TraceView<'a>,
    mut sets: Vec<Spanset<'q>>,
) -> Vec<Spanset<'q>>
where
    'q: 'a,
{
    for stage in stages {
        if sets.is_empty() {
            break;
        }
        sets = match stage {
            Stage::Spanset(e) => sets
                .iter()
                .flat_map(|s| eval_spanset(e, trace, s))
                .collect(),
            Stage::Aggregate { agg, op, value } => sets
                .into_iter()
                .filter_map(|mut s| {
                    let v = aggregate(agg, trace, &s.spans);
                    if compare(*op, Value::from_static(&v), Value::from_static(value), None) {
                        s.scalar = Some((agg.to_string(), v));
                        Some(s)
                    } else {
                        None
                    }
                })
                .collect(),
            Stage::By(fields) => sets
                .into_iter()
                .flat_map(|s| group_by(fields, trace, s))
                .collect(),
            Stage::Select(fields) => sets
                .into_iter()
                .map(|mut s| {
                    s.select.extend(fields.iter());
                    s
                })
                .collect(),
            Stage::Coalesce => {
                let mut merged = Spanset::default();
                for s in sets {
                    merged.spans = union(&merged.spans, &s.spans);
                    for f in s.select {
                        if !merged.select.iter().any(|x| std::ptr::eq(*x, f)) {
                            merged.select.push(f);
                        }
                    }
                }
                vec![merged]
            }
        };
    }
    sets.retain(|s| !s.spans.is_empty());
    sets
}

fn eval_spanset<'q, 'a>(
    e: &'q SpansetExpr,
    trace: &'a TraceView<'a>,
    input: &Spanset<'q>,
) -> Vec<Spanset<'q>>
where
    'q: 'a,
{
    match e {
        SpansetExpr::Filter(None) => vec![input.clone()],
        SpansetExpr::Filter(Some(f)) => {
            let cond = Cond::new(f);
            let spans: Vec<u32> = input
                .spans
                .iter()
                .copied()
                .filter(|&i| cond.matches(trace, i as usize))
                .collect();
            if spans.is_empty() {
                return Vec::new();
            }
            vec![Spanset {
                spans,
                by: input.by.clone(),
                scalar: None,
                select: input.select.clone(),
            }]
        }
        SpansetExpr::Pipeline(p) => eval_pipeline(p, trace, vec![input.clone()]),
        SpansetExpr::Binary { op, lhs, rhs } => {
            // As Tempo: each side's spansets are taken together (Tempo
            // refuses several spansets under a structural operator and
            // asks for coalesce(); merging them is what coalesce() does),
            // and the result is one spanset carrying the input's by().
            let ls = eval_spanset(lhs, trace, input);
            let rs = eval_spanset(rhs, trace, input);
            let merge = |sets: &[Spanset<'q>]| -> Vec<u32> {
                match sets {
                    [] => Vec::new(),
                    [one] => one.spans.clone(),
                    many => many.iter().fold(Vec::new(), |acc, s| union(&acc, &s.spans)),
                }
            };
            let spans = match op {
                SpansetOp::And if ls.is_empty() || rs.is_empty() => return Vec::new(),
                SpansetOp::And | SpansetOp::Or => union(&merge(&ls), &merge(&rs)),
                _ if rs.is_empty() => return Vec::new(),
                op => crate::structural::apply(*op, trace, &merge(&ls), &merge(&rs)),
            };
            if spans.is_empty() {
                return Vec::new();
            }
            let mut select = input.select.clone();
            for f in ls.iter().chain(&rs).flat_map(|s| s.select.iter()) {
                if !select.iter().any(|x| std::ptr::eq(*x, *f)) {
                    select.push(f);
                }
            }
            vec![Spanset {
                spans,
                by: input.by.clone(),
                scalar: None,
                select,
            }]
        }
    }
}

/// The union of two ascending index lists, ascending.
pub(crate) fn union(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// `count()`, `avg(f)`, ... over the spans: ints stay ints (sum, min,
/// max), durations stay durations, anything else is a float; spans
/// without a numeric value are skipped; nil when none has one.
fn aggregate<'a>(agg: &'a Aggregate, trace: &'a TraceView<'a>, spans: &[u32]) -> Static {
    let Some(field) = &agg.field else {
        return Static::Int(spans.len() as i64);
    };
    let mut n = 0usize;
    let (mut all_int, mut all_dur) = (true, true);
    let (mut sum, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    let mut isum: i64 = 0;
    for &i in spans {
        let v = field_value(field, trace, i as usize);
        let Some(x) = v.as_f64() else { continue };
        all_int &= matches!(v, Value::Int(_));
        all_dur &= matches!(v, Value::Duration(_));
        if let Value::Int(k) | Value::Duration(k) = v {
            isum = isum.wrapping_add(k);
        }
        n += 1;
        sum += x;
        min = min.min(x);
        max = max.max(x);
    }
    if n == 0 {
        return Static::Nil;
    }
    let typed = |x: f64, exact: i64| {
        if all_int {
            Static::Int(exact)
        } else if all_dur {
            Static::Duration(exact)
        } else {
            Static::Float(x)
        }
    };
    match agg.func {
        AggFunc::Count => Static::Int(spans.len() as i64),
        AggFunc::Sum => typed(sum, isum),
        AggFunc::Min => typed(min, min as i64),
        AggFunc::Max => typed(max, max as i64),
        AggFunc::Avg => {
            let avg = sum / n as f64;
            if all_dur {
                Static::Duration(avg.round() as i64)
            } else {
                Static::Float(avg)
            }
        }
    }
}

/// Splits a spanset by the values of `fields` (spans without a value
/// form the group of nil), groups in the order they first appear.
fn group_by<'q, 'a>(
    fields: &'q [FieldExpr],
    trace: &'a TraceView<'a>,
    s: Spanset<'q>,
) -> Vec<Spanset<'q>>
where
    'q: 'a,
{
    let mut groups: Vec<(Vec<Static>, Vec<u32>)> = Vec::new();
    for &i in &s.spans {
        let key: Vec<Static> = fields
            .iter()
            .map(|f| field_value(f, trace, i as usize).to_static())
            .collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(key, spans)| {
            let mut by = s.by.clone();
            for (f, v) in fields.iter().zip(key) {
                let name = f.to_string();
                by.retain(|(k, _)| *k != name);
                by.push((name, v));
            }
            Spanset {
                spans,
                by,
                scalar: None,
                select: s.select.clone(),
            }
        })
        .collect()
}
