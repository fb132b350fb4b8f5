//! The service graph: requests between services, found by pairing a
//! client (or producer) span with the server (or consumer) span whose
//! parent it is, as Tempo's service-graphs processor pairs them. Pairs may
//! arrive in different batches: one side waits up to `wait` for the other.
//! An unpaired client span naming its peer (`peer.service`, `db.name`,
//! `db.system`) becomes an edge to that peer (a virtual node: a database,
//! an uninstrumented service); a server span with no parent is an edge
//! from the virtual node `user`. Other unpaired spans are counted.

use super::{dimension_label, dimension_value, Histogram, Seen, Writer};
use serde::Deserialize;
use sightline_core::duration::Duration;
use sightline_core::traces::{attr, AnyValue, Span, SpanId, SpanKind, StatusCode, TraceId};
use std::collections::HashMap;

/// `traces.metrics_generator.service_graphs`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceGraphConfig {
    /// How long one side of a request waits for the other.
    pub wait: Duration,
    /// The most requests waiting for their other side; beyond it spans
    /// are dropped (and counted).
    pub max_items: usize,
    /// Attributes added as `client_<name>` and `server_<name>` labels.
    pub dimensions: Vec<String>,
    /// Latency bucket bounds in seconds.
    pub histogram_buckets: Vec<f64>,
    /// Attributes of a client span naming the service it calls, tried in
    /// order, for requests whose server side never reports.
    pub peer_attributes: Vec<String>,
}

impl Default for ServiceGraphConfig {
    fn default() -> Self {
        ServiceGraphConfig {
            wait: Duration::from_millis(10_000),
            max_items: 10_000,
            dimensions: Vec::new(),
            // Tempo's default: 0.1 s doubling to 12.8 s.
            histogram_buckets: (0..8).map(|i| 0.1 * f64::powi(2.0, i)).collect(),
            peer_attributes: vec!["peer.service".into(), "db.name".into(), "db.system".into()],
        }
    }
}

/// One request seen from one or both sides.
#[derive(Default)]
struct Edge {
    client: Option<String>,
    server: Option<String>,
    client_secs: Option<f64>,
    server_secs: Option<f64>,
    client_dims: Vec<String>,
    server_dims: Vec<String>,
    failed: bool,
    connection_type: &'static str,
    peer: Option<String>,
    trace_id: [u8; 16],
    expires_ms: i64,
}

struct EdgeSeries {
    total: u64,
    failed: u64,
    server: Histogram,
    client: Histogram,
    seen: Seen,
    updated_ms: i64,
    written: bool,
}

/// One tenant's service graph.
#[derive(Default)]
pub struct ServiceGraph {
    pending: HashMap<(TraceId, SpanId), Edge>,
    /// Keyed by client, server, connection type, then the client's and the
    /// server's dimension values.
    series: HashMap<Vec<String>, EdgeSeries>,
    /// Unpaired spans by side (`client`/`server`) and service.
    unpaired: HashMap<(&'static str, String), u64>,
    dropped: u64,
}

fn dims(cfg: &ServiceGraphConfig, s: &Span) -> Vec<String> {
    cfg.dimensions
        .iter()
        .map(|d| dimension_value(s, d))
        .collect()
}

impl ServiceGraph {
    pub fn observe(&mut self, cfg: &ServiceGraphConfig, s: &Span, now_ms: i64) {
        let secs = s.duration_ns() as f64 / 1e9;
        let failed = s.status_code == StatusCode::Error;
        let (key, client_side) = match s.kind {
            SpanKind::Client | SpanKind::Producer => ((s.trace_id, s.span_id), true),
            SpanKind::Server | SpanKind::Consumer => match s.parent_span_id {
                Some(p) => ((s.trace_id, p), false),
                None => {
                    // A request from outside: the virtual client `user`.
                    let edge = Edge {
                        client: Some("user".into()),
                        server: Some(s.service_name().to_owned()),
                        server_secs: Some(secs),
                        server_dims: dims(cfg, s),
                        client_dims: vec![String::new(); cfg.dimensions.len()],
                        failed,
                        trace_id: s.trace_id.0,
                        ..Default::default()
                    };
                    self.complete(cfg, edge, now_ms);
                    return;
                }
            },
            _ => return,
        };
        if !self.pending.contains_key(&key) && self.pending.len() >= cfg.max_items {
            self.dropped += 1;
            return;
        }
        let e = self.pending.entry(key).or_insert_with(|| Edge {
            expires_ms: now_ms + cfg.wait.as_millis() as i64,
            trace_id: s.trace_id.0,
            client_dims: vec![String::new(); cfg.dimensions.len()],
            server_dims: vec![String::new(); cfg.dimensions.len()],
            ..Default::default()
        });
        e.failed |= failed;
        if matches!(s.kind, SpanKind::Producer | SpanKind::Consumer) {
            e.connection_type = "messaging_system";
        }
        if client_side {
            e.client = Some(s.service_name().to_owned());
            e.client_secs = Some(secs);
            e.client_dims = dims(cfg, s);
            e.peer = cfg.peer_attributes.iter().find_map(|k| {
                attr(&s.attributes, k)
                    .map(AnyValue::to_text)
                    .filter(|v| !v.is_empty())
            });
            if attr(&s.attributes, "db.system").is_some() {
                e.connection_type = "database";
            }
        } else {
            e.server = Some(s.service_name().to_owned());
            e.server_secs = Some(secs);
            e.server_dims = dims(cfg, s);
        }
        if e.client.is_some() && e.server.is_some() {
            let e = self.pending.remove(&key).expect("present");
            self.complete(cfg, e, now_ms);
        }
    }

    fn complete(&mut self, cfg: &ServiceGraphConfig, e: Edge, now_ms: i64) {
        let (Some(client), Some(server)) = (e.client, e.server) else {
            return;
        };
        let mut key = vec![client, server, e.connection_type.to_owned()];
        key.extend(e.client_dims);
        key.extend(e.server_dims);
        let n = cfg.histogram_buckets.len();
        let s = self.series.entry(key).or_insert_with(|| EdgeSeries {
            total: 0,
            failed: 0,
            server: Histogram::new(n),
            client: Histogram::new(n),
            seen: Seen::default(),
            updated_ms: now_ms,
            written: false,
        });
        s.total += 1;
        s.failed += u64::from(e.failed);
        if let Some(v) = e.server_secs {
            s.server.observe(&cfg.histogram_buckets, v);
        }
        if let Some(v) = e.client_secs {
            s.client.observe(&cfg.histogram_buckets, v);
        }
        s.seen = Seen {
            trace_id: e.trace_id,
            value: e.server_secs.or(e.client_secs).unwrap_or(0.0),
            at_ms: now_ms,
        };
        s.updated_ms = now_ms;
    }

    /// Ends the wait of requests past their time: a client side naming its
    /// peer becomes an edge to it; the rest are counted unpaired.
    pub fn expire(&mut self, cfg: &ServiceGraphConfig, now_ms: i64) {
        let due: Vec<(TraceId, SpanId)> = self
            .pending
            .iter()
            .filter(|(_, e)| e.expires_ms <= now_ms)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            let mut e = self.pending.remove(&k).expect("present");
            match (&e.client, &e.server, e.peer.take()) {
                (Some(_), None, Some(peer)) => {
                    e.server = Some(peer);
                    self.complete(cfg, e, now_ms);
                }
                (Some(c), None, None) => {
                    *self.unpaired.entry(("client", c.clone())).or_default() += 1
                }
                (None, Some(s), _) => *self.unpaired.entry(("server", s.clone())).or_default() += 1,
                _ => {}
            }
        }
    }

    pub(crate) fn write(&mut self, cfg: &ServiceGraphConfig, w: &mut Writer, stale_before: i64) {
        self.series.retain(|_, s| s.updated_ms >= stale_before);
        let n = cfg.dimensions.len();
        let client_dims: Vec<String> = cfg
            .dimensions
            .iter()
            .map(|d| format!("client_{}", dimension_label(d)))
            .collect();
        let server_dims: Vec<String> = cfg
            .dimensions
            .iter()
            .map(|d| format!("server_{}", dimension_label(d)))
            .collect();
        for (key, s) in self.series.iter_mut() {
            let mut pairs: Vec<(&str, &str)> = vec![("client", &key[0]), ("server", &key[1])];
            if !key[2].is_empty() {
                pairs.push(("connection_type", &key[2]));
            }
            for (name, v) in client_dims.iter().zip(&key[3..3 + n]) {
                if !v.is_empty() {
                    pairs.push((name, v));
                }
            }
            for (name, v) in server_dims.iter().zip(&key[3 + n..]) {
                if !v.is_empty() {
                    pairs.push((name, v));
                }
            }
            let first = !s.written;
            w.sample(
                "traces_service_graph_request_total",
                &pairs,
                s.total as f64,
                first,
                Some(&s.seen),
            );
            w.sample(
                "traces_service_graph_request_failed_total",
                &pairs,
                s.failed as f64,
                first,
                None,
            );
            w.histogram(
                "traces_service_graph_request_server_seconds",
                &pairs,
                &cfg.histogram_buckets,
                &s.server,
                first,
                Some(&s.seen),
            );
            w.histogram(
                "traces_service_graph_request_client_seconds",
                &pairs,
                &cfg.histogram_buckets,
                &s.client,
                first,
                None,
            );
            s.written = true;
        }
        for ((side, service), n) in &self.unpaired {
            w.sample(
                "traces_service_graph_unpaired_spans_total",
                &[(side, service)],
                *n as f64,
                false,
                None,
            );
        }
        if self.dropped > 0 {
            w.sample(
                "traces_service_graph_dropped_spans_total",
                &[],
                self.dropped as f64,
                false,
                None,
            );
        }
    }
}
