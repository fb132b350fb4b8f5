//! What the trace read APIs (Tempo, Jaeger, Zipkin) share: the service
//! dependency links derived from parent-child pairs, and how trace ids
//! print.

use sightline_core::traces::{Span, SpanId, SpanKind, StatusCode, TraceId};
use std::collections::{BTreeMap, HashMap};

/// Calls from one service to another, as Jaeger's and Zipkin's
/// dependency endpoints report them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyLink {
    pub parent: String,
    pub child: String,
    pub calls: u64,
    pub errors: u64,
}

/// Links between services over `traces` (each the spans of one trace): a
/// span whose parent belongs to another service is one call from the
/// parent's service to its own; a client or producer span with no child in
/// the trace but a `peer.service` attribute is a call to that peer (an
/// uninstrumented database, say). A call is an error when the called span's
/// status is error. Sorted by parent, then child.
pub fn dependencies<'a>(traces: impl IntoIterator<Item = &'a [Span]>) -> Vec<DependencyLink> {
    let mut links: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for spans in traces {
        let by_id: HashMap<SpanId, &Span> = spans.iter().map(|s| (s.span_id, s)).collect();
        let mut has_child: HashMap<SpanId, bool> = HashMap::new();
        for s in spans {
            let Some(parent) = s.parent_span_id.and_then(|p| by_id.get(&p)) else {
                continue;
            };
            has_child.insert(parent.span_id, true);
            let (from, to) = (parent.service_name(), s.service_name());
            if from != to && !from.is_empty() && !to.is_empty() {
                let e = links.entry((from.to_owned(), to.to_owned())).or_default();
                e.0 += 1;
                e.1 += u64::from(s.status_code == StatusCode::Error);
            }
        }
        for s in spans {
            if !matches!(s.kind, SpanKind::Client | SpanKind::Producer)
                || has_child.contains_key(&s.span_id)
            {
                continue;
            }
            let peer = s
                .attributes
                .iter()
                .find(|(k, _)| k == "peer.service")
                .and_then(|(_, v)| v.as_str());
            if let Some(peer) = peer.filter(|p| !p.is_empty() && *p != s.service_name()) {
                let e = links
                    .entry((s.service_name().to_owned(), peer.to_owned()))
                    .or_default();
                e.0 += 1;
                e.1 += u64::from(s.status_code == StatusCode::Error);
            }
        }
    }
    links
        .into_iter()
        .filter(|((p, _), _)| !p.is_empty())
        .map(|((parent, child), (calls, errors))| DependencyLink {
            parent,
            child,
            calls,
            errors,
        })
        .collect()
}

/// Runs a store call off the async workers (the stores read files); `Err`
/// is the failure's text, which each API answers as a 500 in its own form.
pub async fn off_workers<T: Send + 'static>(
    f: impl FnOnce() -> sightline_core::Result<T> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// A trace id as Jaeger and Zipkin print one: 16 hex digits when the high
/// half is zero (a 64-bit id), else 32.
pub fn short_trace_id(id: &TraceId) -> String {
    if id.high() == 0 {
        format!("{:016x}", id.low())
    } else {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::traces::{AnyValue, Resource};
    use std::sync::Arc;

    fn span(id: u64, parent: Option<u64>, svc: &str, kind: SpanKind) -> Span {
        Span {
            trace_id: TraceId::from_halves(0, 7),
            span_id: SpanId::from_u64(id),
            parent_span_id: parent.map(SpanId::from_u64),
            kind,
            start_ns: id as i64,
            end_ns: id as i64 + 10,
            resource: Arc::new(Resource {
                attributes: vec![("service.name".into(), AnyValue::Str(svc.into()))],
                dropped_attributes_count: 0,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn links_count_cross_service_calls_and_peers() {
        // frontend(server) -> frontend(client) -> api(server, error) -> api(client, peer db)
        let mut spans = vec![
            span(1, None, "frontend", SpanKind::Server),
            span(2, Some(1), "frontend", SpanKind::Client),
            span(3, Some(2), "api", SpanKind::Server),
            span(4, Some(3), "api", SpanKind::Client),
            span(5, Some(2), "api", SpanKind::Server),
        ];
        spans[2].status_code = StatusCode::Error;
        spans[3]
            .attributes
            .push(("peer.service".into(), AnyValue::Str("db".into())));
        let links = dependencies([spans.as_slice(), spans.as_slice()]);
        assert_eq!(
            links,
            vec![
                DependencyLink {
                    parent: "api".into(),
                    child: "db".into(),
                    calls: 2,
                    errors: 0
                },
                DependencyLink {
                    parent: "frontend".into(),
                    child: "api".into(),
                    calls: 4,
                    errors: 2
                },
            ]
        );
        assert_eq!(short_trace_id(&spans[0].trace_id), "0000000000000007");
    }
}
