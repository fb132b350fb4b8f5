//! Search: a TraceQL query over a trace store, answered as Tempo's
//! `/api/search` answers (traces newest first, each with its spansets).

use crate::ast::*;
use crate::error::{Error, Result};
use crate::eval::{eval_trace, field_value, Spanset, TraceView};
use crate::value::Value;
use sightline_core::traces::{SpanPredicate, TagScope, TraceHints, TraceId, TraceQuerier};

/// What Tempo reports as `rootServiceName` when the root span is missing.
pub const ROOT_NOT_RECEIVED: &str = "<root span not yet received>";

/// One span of a spanset, as Tempo's search lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanResult {
    /// 16 hex digits.
    pub span_id: String,
    pub name: String,
    pub start_ns: i64,
    pub duration_ns: i64,
    /// The `select()`ed fields and the attributes the filters read, that
    /// the span has: (name, value).
    pub attributes: Vec<(String, Static)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpansetResult {
    /// At most `spans_per_spanset` of the spans, earliest first.
    pub spans: Vec<SpanResult>,
    /// How many spans the spanset holds.
    pub matched: usize,
    /// `by()` values and the aggregate that kept it (`count()`).
    pub attributes: Vec<(String, Static)>,
}

/// One trace of a search answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceResult {
    pub trace_id: TraceId,
    pub root_service_name: String,
    pub root_trace_name: String,
    pub start_ns: i64,
    pub duration_ms: u64,
    pub span_sets: Vec<SpansetResult>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResult {
    /// Newest (latest start) first.
    pub traces: Vec<TraceResult>,
    pub inspected_traces: u64,
    pub inspected_spans: u64,
}

/// A parsed search query with what it reports, ready to run on traces.
pub struct SearchQuery {
    query: Query,
    /// Attributes and intrinsics the filters read, reported on each span.
    reported: Vec<FieldExpr>,
}

impl SearchQuery {
    pub fn parse(src: &str) -> Result<SearchQuery> {
        let query = crate::parse(src)?;
        if query.metrics.is_some() {
            return Err(Error::Invalid(
                "a metrics query (rate(), count_over_time(), ...) cannot be a search; use query_range".into(),
            ));
        }
        let mut reported = Vec::new();
        collect_pipeline(&query.pipeline, &mut reported);
        Ok(SearchQuery { query, reported })
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The store hints every match requires.
    pub fn hints(&self, start_ns: i64, end_ns: i64) -> TraceHints {
        Self::hints_of(&self.query.pipeline, start_ns, end_ns)
    }

    /// The store hints every match of `pipeline` requires.
    pub fn hints_of(pipeline: &Pipeline, start_ns: i64, end_ns: i64) -> TraceHints {
        let mut h = TraceHints::range(start_ns, end_ns);
        pipeline_hints(pipeline, &mut h.required);
        h
    }

    /// The spansets of one trace (empty: the trace does not match).
    pub fn eval<'q, 'a>(&'q self, trace: &'a TraceView<'a>) -> Vec<Spanset<'q>>
    where
        'q: 'a,
    {
        eval_trace(&self.query.pipeline, trace)
    }

    /// The trace's search answer, `None` when it does not match.
    pub fn trace_result(
        &self,
        spans: &[sightline_core::traces::Span],
        spans_per_spanset: usize,
    ) -> Option<TraceResult> {
        let view = TraceView::new(spans);
        let sets = self.eval(&view);
        if sets.is_empty() {
            return None;
        }
        let (root_service_name, root_trace_name) = match view.root() {
            Some(r) => (spans[r].service_name().to_string(), spans[r].name.clone()),
            None => (ROOT_NOT_RECEIVED.to_string(), String::new()),
        };
        let span_sets = sets
            .iter()
            .map(|s| self.spanset_result(&view, s, spans_per_spanset))
            .collect();
        Some(TraceResult {
            trace_id: spans[0].trace_id,
            root_service_name,
            root_trace_name,
            start_ns: view.start_ns(),
            duration_ms: ((view.end_ns() - view.start_ns()).max(0) / 1_000_000) as u64,
            span_sets,
        })
    }

    fn spanset_result(&self, view: &TraceView<'_>, s: &Spanset<'_>, limit: usize) -> SpansetResult {
        let mut order: Vec<u32> = s.spans.clone();
        order.sort_by_key(|&i| (view.spans[i as usize].start_ns, i));
        let spans = order
            .iter()
            .take(limit)
            .map(|&i| {
                let span = &view.spans[i as usize];
                let mut attributes: Vec<(String, Static)> = Vec::new();
                let mut add = |name: String, v: Value<'_>| {
                    if v != Value::Nil && !attributes.iter().any(|(k, _)| *k == name) {
                        attributes.push((name, v.to_static()));
                    }
                };
                for f in &self.reported {
                    add(report_name(f), field_value(f, view, i as usize));
                }
                for f in &s.select {
                    add(report_name(f), field_value(f, view, i as usize));
                }
                SpanResult {
                    span_id: span.span_id.to_string(),
                    name: span.name.clone(),
                    start_ns: span.start_ns,
                    duration_ns: span.duration_ns(),
                    attributes,
                }
            })
            .collect();
        let mut attributes: Vec<(String, Static)> =
            s.by.iter()
                .map(|(k, v)| (format!("by({k})"), v.clone()))
                .collect();
        if let Some((k, v)) = &s.scalar {
            attributes.push((k.clone(), v.clone()));
        }
        SpansetResult {
            spans,
            matched: s.spans.len(),
            attributes,
        }
    }
}

/// The name a field is reported under: an attribute's bare name (as
/// Tempo's search shows `http.method`), otherwise the field as written.
fn report_name(f: &FieldExpr) -> String {
    match f {
        FieldExpr::Attr(a) => a.name.to_string(),
        other => other.to_string(),
    }
}

/// Runs `query` over the traces of `tenant` with a span in
/// `[start_ns, end_ns]`, returning at most `limit` matching traces (newest
/// first) with at most `spans_per_spanset` spans listed per spanset.
pub fn search(
    querier: &dyn TraceQuerier,
    tenant: &str,
    query: &str,
    start_ns: i64,
    end_ns: i64,
    limit: usize,
    spans_per_spanset: usize,
) -> Result<SearchResult> {
    let q = SearchQuery::parse(query)?;
    let hints = q.hints(start_ns, end_ns);
    let mut out = SearchResult::default();
    if limit == 0 {
        return Ok(out);
    }
    querier.scan(tenant, &hints, &mut |spans| {
        out.inspected_traces += 1;
        out.inspected_spans += spans.len() as u64;
        if spans.is_empty() {
            return true;
        }
        if let Some(t) = q.trace_result(&spans, spans_per_spanset) {
            out.traces.push(t);
        }
        out.traces.len() < limit
    })?;
    out.traces.sort_by(|a, b| {
        b.start_ns
            .cmp(&a.start_ns)
            .then(a.trace_id.cmp(&b.trace_id))
    });
    Ok(out)
}

fn collect_pipeline(p: &Pipeline, out: &mut Vec<FieldExpr>) {
    for s in &p.stages {
        if let Stage::Spanset(e) = s {
            collect_spanset(e, out);
        }
    }
}

fn collect_spanset(e: &SpansetExpr, out: &mut Vec<FieldExpr>) {
    match e {
        SpansetExpr::Filter(Some(f)) => collect_field(f, out),
        SpansetExpr::Filter(None) => {}
        SpansetExpr::Binary { lhs, rhs, .. } => {
            collect_spanset(lhs, out);
            collect_spanset(rhs, out);
        }
        SpansetExpr::Pipeline(p) => collect_pipeline(p, out),
    }
}

/// Attributes and the intrinsics that are no top-level field of a span
/// in Tempo's answer (status, kind, statusMessage, ...).
fn collect_field(f: &FieldExpr, out: &mut Vec<FieldExpr>) {
    let wanted = match f {
        FieldExpr::Attr(_) => true,
        FieldExpr::Intrinsic(i) => !matches!(
            i,
            Intrinsic::Name | Intrinsic::Duration | Intrinsic::SpanId | Intrinsic::TraceId
        ),
        FieldExpr::Binary { lhs, rhs, .. } => {
            collect_field(lhs, out);
            collect_field(rhs, out);
            false
        }
        FieldExpr::Not(x) | FieldExpr::Neg(x) => {
            collect_field(x, out);
            false
        }
        FieldExpr::Static(_) => false,
    };
    if wanted && !out.iter().any(|g| g.to_string() == f.to_string()) {
        out.push(f.clone());
    }
}

/// Adds the predicates every match of the pipeline requires: the first
/// stage and later filter stages must each keep a span.
fn pipeline_hints(p: &Pipeline, out: &mut Vec<SpanPredicate>) {
    for s in &p.stages {
        if let Stage::Spanset(e) = s {
            spanset_hints(e, out);
        }
    }
}

fn spanset_hints(e: &SpansetExpr, out: &mut Vec<SpanPredicate>) {
    match e {
        SpansetExpr::Filter(Some(f)) => field_hints(f, out),
        SpansetExpr::Filter(None) => {}
        SpansetExpr::Pipeline(p) => pipeline_hints(p, out),
        SpansetExpr::Binary { op, lhs, rhs } => match op {
            // Nothing is required under `||`.
            SpansetOp::Or => {}
            // `!>` and kin yield spans of the right side whatever the left.
            SpansetOp::NotChild
            | SpansetOp::NotParent
            | SpansetOp::NotDescendant
            | SpansetOp::NotAncestor
            | SpansetOp::NotSibling => spanset_hints(rhs, out),
            _ => {
                spanset_hints(lhs, out);
                spanset_hints(rhs, out);
            }
        },
    }
}

/// The conjuncts of a filter that a store can check: equalities on names,
/// services, string attributes, status and kind; duration bounds; `!= nil`.
fn field_hints(f: &FieldExpr, out: &mut Vec<SpanPredicate>) {
    let FieldExpr::Binary { op, lhs, rhs, .. } = f else {
        return;
    };
    if *op == BinOp::And {
        field_hints(lhs, out);
        field_hints(rhs, out);
        return;
    }
    let p = match (&**lhs, op, &**rhs) {
        (FieldExpr::Intrinsic(Intrinsic::Name), BinOp::Eq, FieldExpr::Static(Static::Str(s))) => {
            SpanPredicate::SpanName(s.clone())
        }
        (
            FieldExpr::Intrinsic(Intrinsic::Status),
            BinOp::Eq,
            FieldExpr::Static(Static::Status(s)),
        ) => SpanPredicate::Status(*s),
        (FieldExpr::Intrinsic(Intrinsic::Kind), BinOp::Eq, FieldExpr::Static(Static::Kind(k))) => {
            SpanPredicate::Kind(*k)
        }
        (FieldExpr::Intrinsic(Intrinsic::Duration), op, FieldExpr::Static(Static::Duration(d))) => {
            match op {
                BinOp::Gt => SpanPredicate::MinDuration(d.saturating_add(1)),
                BinOp::Gte => SpanPredicate::MinDuration(*d),
                BinOp::Lt => SpanPredicate::MaxDuration(d.saturating_sub(1)),
                BinOp::Lte => SpanPredicate::MaxDuration(*d),
                BinOp::Eq => {
                    out.push(SpanPredicate::MinDuration(*d));
                    SpanPredicate::MaxDuration(*d)
                }
                _ => return,
            }
        }
        (FieldExpr::Attr(a), BinOp::Eq, FieldExpr::Static(Static::Str(s))) => {
            let Some(scope) = tag_scope(a.scope) else {
                return;
            };
            if scope == TagScope::Resource && &*a.name == "service.name" {
                SpanPredicate::ServiceName(s.clone())
            } else {
                SpanPredicate::AttrEquals {
                    scope,
                    key: a.name.to_string(),
                    value: s.clone(),
                }
            }
        }
        (FieldExpr::Attr(a), BinOp::Neq, FieldExpr::Static(Static::Nil)) => {
            let Some(scope) = tag_scope(a.scope) else {
                return;
            };
            SpanPredicate::AttrExists {
                scope,
                key: a.name.to_string(),
            }
        }
        _ => return,
    };
    out.push(p);
}

/// Scopes whose hints a span satisfies by itself (events and links are
/// read per event and link, so they give none).
fn tag_scope(s: AttrScope) -> Option<TagScope> {
    match s {
        AttrScope::Span => Some(TagScope::Span),
        AttrScope::Resource => Some(TagScope::Resource),
        AttrScope::Unscoped => Some(TagScope::Any),
        AttrScope::Instrumentation => Some(TagScope::Instrumentation),
        AttrScope::Event | AttrScope::Link => None,
    }
}
