//! Span metrics: a call counter and a latency histogram per service, span
//! name, kind, status and configured dimensions.

use super::{dimension_label, dimension_value, Histogram, Seen, Writer};
use serde::Deserialize;
use sightline_core::traces::Span;
use std::collections::HashMap;

/// `traces.metrics_generator.span_metrics`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanMetricsConfig {
    /// Attributes (span, else resource) added as labels, their names
    /// sanitized (`http.method` -> `http_method`).
    pub dimensions: Vec<String>,
    /// Latency bucket bounds in seconds.
    pub histogram_buckets: Vec<f64>,
}

impl Default for SpanMetricsConfig {
    fn default() -> Self {
        SpanMetricsConfig {
            dimensions: Vec::new(),
            // Tempo's default: 2 ms doubling to 4.096 s.
            histogram_buckets: (0..12).map(|i| 0.002 * f64::powi(2.0, i)).collect(),
        }
    }
}

struct Series {
    calls: u64,
    latency: Histogram,
    seen: Seen,
    updated_ms: i64,
    written: bool,
}

/// One tenant's span metrics.
#[derive(Default)]
pub struct SpanMetrics {
    /// Keyed by service, span name, kind, status, then the dimensions'
    /// values in configured order.
    series: HashMap<Vec<String>, Series>,
}

impl SpanMetrics {
    pub fn observe(&mut self, cfg: &SpanMetricsConfig, s: &Span, now_ms: i64) {
        let mut key = Vec::with_capacity(4 + cfg.dimensions.len());
        key.push(s.service_name().to_owned());
        key.push(s.name.clone());
        key.push(s.kind.otlp_name().to_owned());
        key.push(s.status_code.otlp_name().to_owned());
        for d in &cfg.dimensions {
            key.push(dimension_value(s, d));
        }
        let secs = s.duration_ns() as f64 / 1e9;
        let e = self.series.entry(key).or_insert_with(|| Series {
            calls: 0,
            latency: Histogram::new(cfg.histogram_buckets.len()),
            seen: Seen::default(),
            updated_ms: now_ms,
            written: false,
        });
        e.calls += 1;
        e.latency.observe(&cfg.histogram_buckets, secs);
        e.seen = Seen {
            trace_id: s.trace_id.0,
            value: secs,
            at_ms: now_ms,
        };
        e.updated_ms = now_ms;
    }

    /// Writes the live series and forgets the stale ones.
    pub(crate) fn write(&mut self, cfg: &SpanMetricsConfig, w: &mut Writer, stale_before: i64) {
        self.series.retain(|_, s| s.updated_ms >= stale_before);
        let dims: Vec<String> = cfg.dimensions.iter().map(|d| dimension_label(d)).collect();
        for (key, s) in self.series.iter_mut() {
            let mut pairs: Vec<(&str, &str)> = vec![
                ("service", &key[0]),
                ("span_name", &key[1]),
                ("span_kind", &key[2]),
                ("status_code", &key[3]),
            ];
            for (name, v) in dims.iter().zip(&key[4..]) {
                if !v.is_empty() {
                    pairs.push((name, v));
                }
            }
            let first = !s.written;
            w.sample(
                "traces_spanmetrics_calls_total",
                &pairs,
                s.calls as f64,
                first,
                Some(&s.seen),
            );
            w.histogram(
                "traces_spanmetrics_latency",
                &pairs,
                &cfg.histogram_buckets,
                &s.latency,
                first,
                Some(&s.seen),
            );
            s.written = true;
        }
    }
}
