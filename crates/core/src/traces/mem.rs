//! [`MemTraceStore`]: every span kept in memory, nothing on disk. For tests
//! of TraceQL and the receivers, and the reference the trace store's tests
//! compare with.

use super::{
    AnyValue, Span, SpanKind, TagScope, TraceAppendReport, TraceAppender, TraceHints, TraceId,
    TraceQuerier,
};
use crate::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// Spans by tenant and trace id.
#[derive(Default)]
pub struct MemTraceStore {
    traces: Mutex<BTreeMap<(String, TraceId), Vec<Span>>>,
}

impl MemTraceStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, TraceId), Vec<Span>>> {
        self.traces.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every span of `tenant` overlapping the range.
    fn each_span(&self, tenant: &str, start_ns: i64, end_ns: i64, mut f: impl FnMut(&Span)) {
        for ((t, _), spans) in self.lock().iter() {
            if t != tenant {
                continue;
            }
            for s in spans {
                if s.start_ns <= end_ns && s.end_ns >= start_ns {
                    f(s);
                }
            }
        }
    }
}

impl TraceAppender for MemTraceStore {
    fn append(&self, tenant: &str, spans: Vec<Span>) -> Result<TraceAppendReport> {
        let mut traces = self.lock();
        let accepted = spans.len();
        for s in spans {
            traces
                .entry((tenant.to_string(), s.trace_id))
                .or_default()
                .push(s);
        }
        Ok(TraceAppendReport {
            accepted,
            refused: Vec::new(),
        })
    }
}

impl TraceQuerier for MemTraceStore {
    fn trace(&self, tenant: &str, id: TraceId, range: Option<(i64, i64)>) -> Result<Vec<Span>> {
        let spans = self
            .lock()
            .get(&(tenant.to_string(), id))
            .cloned()
            .unwrap_or_default();
        Ok(match range {
            Some((start, end)) if !spans.iter().any(|s| s.start_ns <= end && s.end_ns >= start) => {
                Vec::new()
            }
            _ => spans,
        })
    }

    fn scan(
        &self,
        tenant: &str,
        hints: &TraceHints,
        visit: &mut dyn FnMut(Vec<Span>) -> bool,
    ) -> Result<()> {
        // Newest first, by each trace's latest span start.
        let mut found: Vec<(i64, Vec<Span>)> = self
            .lock()
            .iter()
            .filter(|((t, _), spans)| t == tenant && hints.admits(spans))
            .map(|(_, spans)| {
                let newest = spans.iter().map(|s| s.start_ns).max().unwrap_or(0);
                (newest, spans.clone())
            })
            .collect();
        found.sort_by_key(|t| std::cmp::Reverse(t.0));
        for (_, spans) in found {
            if !visit(spans) {
                break;
            }
        }
        Ok(())
    }

    fn tag_names(
        &self,
        tenant: &str,
        scope: TagScope,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<String>> {
        let mut names = BTreeSet::new();
        self.each_span(tenant, start_ns, end_ns, |s| {
            for (k, _) in s.attributes_in(scope) {
                names.insert(k.clone());
            }
        });
        Ok(names.into_iter().take(limit).collect())
    }

    fn tag_values(
        &self,
        tenant: &str,
        scope: TagScope,
        key: &str,
        start_ns: i64,
        end_ns: i64,
        limit: usize,
    ) -> Result<Vec<AnyValue>> {
        let mut values: Vec<AnyValue> = Vec::new();
        self.each_span(tenant, start_ns, end_ns, |s| {
            for (k, v) in s.attributes_in(scope) {
                if k == key
                    && !matches!(v, AnyValue::Array(_) | AnyValue::Map(_))
                    && !values.contains(v)
                {
                    values.push(v.clone());
                }
            }
        });
        values.truncate(limit);
        Ok(values)
    }

    fn services(&self, tenant: &str, start_ns: i64, end_ns: i64) -> Result<Vec<String>> {
        let mut out = BTreeSet::new();
        self.each_span(tenant, start_ns, end_ns, |s| {
            if let Some(n) = s.resource.service_name() {
                out.insert(n.to_string());
            }
        });
        Ok(out.into_iter().collect())
    }

    fn operations(
        &self,
        tenant: &str,
        service: Option<&str>,
        start_ns: i64,
        end_ns: i64,
    ) -> Result<Vec<(String, SpanKind)>> {
        let mut out = BTreeSet::new();
        self.each_span(tenant, start_ns, end_ns, |s| {
            if service.is_none_or(|want| s.service_name() == want) {
                out.insert((s.name.clone(), s.kind));
            }
        });
        Ok(out.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::{Resource, SpanId, SpanPredicate};
    use std::sync::Arc;

    fn span(trace: u64, id: u64, service: &str, name: &str, start: i64, end: i64) -> Span {
        Span {
            trace_id: TraceId::from_halves(0, trace),
            span_id: SpanId::from_u64(id),
            name: name.into(),
            kind: SpanKind::Server,
            start_ns: start,
            end_ns: end,
            resource: Arc::new(Resource {
                attributes: vec![("service.name".into(), AnyValue::Str(service.into()))],
                dropped_attributes_count: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn late_spans_join_their_trace_and_scan_honours_hints() {
        let st = MemTraceStore::new();
        st.append("t", vec![span(1, 1, "api", "GET", 100, 200)])
            .unwrap();
        st.append("t", vec![span(2, 2, "db", "SELECT", 300, 310)])
            .unwrap();
        st.append("t", vec![span(1, 3, "db", "SELECT", 120, 150)])
            .unwrap();
        st.append("u", vec![span(1, 9, "x", "y", 0, 1)]).unwrap();
        let t1 = st.trace("t", TraceId::from_halves(0, 1), None).unwrap();
        assert_eq!(t1.len(), 2);
        assert!(st
            .trace("t", TraceId::from_halves(0, 1), Some((400, 500)))
            .unwrap()
            .is_empty());

        let mut hints = TraceHints::range(0, 1000);
        hints
            .required
            .push(SpanPredicate::ServiceName("api".into()));
        hints
            .required
            .push(SpanPredicate::SpanName("SELECT".into()));
        let mut got = Vec::new();
        st.scan("t", &hints, &mut |spans| {
            got.push(spans[0].trace_id);
            true
        })
        .unwrap();
        assert_eq!(got, vec![TraceId::from_halves(0, 1)]);

        let mut all = Vec::new();
        st.scan("t", &TraceHints::range(0, 1000), &mut |spans| {
            all.push(spans[0].trace_id);
            false
        })
        .unwrap();
        assert_eq!(all, vec![TraceId::from_halves(0, 2)], "newest first, stops");

        assert_eq!(st.services("t", 0, 1000).unwrap(), vec!["api", "db"]);
        assert_eq!(
            st.operations("t", Some("db"), 0, 1000).unwrap(),
            vec![("SELECT".to_string(), SpanKind::Server)]
        );
        assert_eq!(
            st.tag_values("t", TagScope::Resource, "service.name", 0, 1000, 10)
                .unwrap()
                .len(),
            2
        );
    }
}
