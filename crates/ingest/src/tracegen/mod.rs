//! Metrics derived from spans, named as Tempo's metrics-generator names
//! them so that dashboards built on Tempo work unchanged: span metrics
//! ([`spanmetrics`]: `traces_spanmetrics_calls_total`,
//! `traces_spanmetrics_latency_{bucket,sum,count}`) and the service graph
//! ([`servicegraph`]: `traces_service_graph_request_total`,
//! `..._request_failed_total`, `..._request_server_seconds` and
//! `..._request_client_seconds` histograms, `..._unpaired_spans_total`).
//!
//! [`MetricsGenerator::observe`] takes the spans a receiver accepted;
//! [`MetricsGenerator::collect`] writes every live series into the TSDB
//! at one timestamp, as a scrape of Tempo's generator would, with the
//! newest trace id of each series as its exemplar (`traceID`, the label
//! Tempo's exemplars carry). Series not updated for `stale_after` stop
//! being written. Tenants other than the default one get a `tenant` label
//! (the TSDB is one store; Tempo writes each tenant to its own).

pub mod servicegraph;
pub mod spanmetrics;

use serde::Deserialize;
use sightline_core::duration::Duration;
use sightline_core::logs::DEFAULT_TENANT;
use sightline_core::traces::{attr, AnyValue, Span};
use sightline_core::{Exemplar, Label, Labels, MetricAppender};
use std::collections::HashMap;
use std::sync::Mutex;

/// `traces.metrics_generator`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Which processors run: `span-metrics`, `service-graphs` (Tempo's names).
    pub processors: Vec<String>,
    /// How often series are written to the TSDB.
    pub collection_interval: Duration,
    /// Series not updated for this long are no longer written.
    pub stale_after: Duration,
    pub span_metrics: spanmetrics::SpanMetricsConfig,
    pub service_graphs: servicegraph::ServiceGraphConfig,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            processors: vec!["span-metrics".into(), "service-graphs".into()],
            collection_interval: Duration::from_millis(15_000),
            stale_after: Duration::from_millis(15 * 60_000),
            span_metrics: Default::default(),
            service_graphs: Default::default(),
        }
    }
}

impl GeneratorConfig {
    /// Refuses unknown processor names, and buckets not increasing.
    pub fn validate(&self) -> Result<(), String> {
        for p in &self.processors {
            if p != "span-metrics" && p != "service-graphs" {
                return Err(format!(
                    "metrics_generator.processors: unknown processor {p:?} (want span-metrics or service-graphs)"
                ));
            }
        }
        for (what, b) in [
            ("span_metrics", &self.span_metrics.histogram_buckets),
            ("service_graphs", &self.service_graphs.histogram_buckets),
        ] {
            if b.windows(2).any(|w| w[0] >= w[1]) || b.iter().any(|x| !x.is_finite()) {
                return Err(format!(
                    "metrics_generator.{what}.histogram_buckets must be finite and increasing"
                ));
            }
        }
        Ok(())
    }
}

/// A cumulative histogram in seconds, with its newest exemplar.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(buckets: usize) -> Histogram {
        Histogram {
            counts: vec![0; buckets],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, bounds: &[f64], v: f64) {
        // Cumulative buckets are made at write time; count per bucket here.
        let i = bounds.partition_point(|b| *b < v);
        if i < self.counts.len() {
            self.counts[i] += 1;
        }
        self.sum += v;
        self.count += 1;
    }
}

/// The newest span seen for a series, for its exemplar.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seen {
    pub trace_id: [u8; 16],
    pub value: f64,
    pub at_ms: i64,
}

impl Seen {
    fn exemplar(&self) -> Exemplar {
        Exemplar {
            labels: Labels::from_pairs([(
                "traceID",
                sightline_core::traces::TraceId(self.trace_id).to_string(),
            )]),
            value: self.value,
            timestamp: Some(self.at_ms),
        }
    }
}

/// Writes series into a transaction, with the zero sample a new counter
/// needs so that `rate()` sees its first increase (Tempo does the same).
pub(crate) struct Writer<'a> {
    app: Box<dyn sightline_core::Appender>,
    now_ms: i64,
    tenant: Option<&'a str>,
    pub samples: u64,
}

impl Writer<'_> {
    fn labels(&self, name: &str, pairs: &[(&str, &str)]) -> Labels {
        let mut v: Vec<Label> = Vec::with_capacity(pairs.len() + 2);
        v.push(Label::new("__name__", name));
        for (k, val) in pairs {
            v.push(Label::new(*k, *val));
        }
        if let Some(t) = self.tenant {
            v.push(Label::new("tenant", t));
        }
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Labels::from_sorted(v)
    }

    /// One sample; `first` also writes a zero just before it.
    pub fn sample(
        &mut self,
        name: &str,
        pairs: &[(&str, &str)],
        v: f64,
        first: bool,
        exemplar: Option<&Seen>,
    ) {
        let labels = self.labels(name, pairs);
        if first {
            // A failure here (out of order after a restart) only loses the
            // zero; the value below still lands.
            let _ = self.app.append(0, &labels, self.now_ms - 1, 0.0);
        }
        match self.app.append(0, &labels, self.now_ms, v) {
            Ok(r) => {
                self.samples += 1;
                if let Some(e) = exemplar {
                    let _ = self.app.append_exemplar(r, &labels, &e.exemplar());
                }
            }
            Err(e) => tracing::debug!(series = %labels, error = %e, "generated sample refused"),
        }
    }

    /// A histogram's `_bucket` (cumulative, with `+Inf`), `_sum` and
    /// `_count` series.
    pub fn histogram(
        &mut self,
        name: &str,
        pairs: &[(&str, &str)],
        bounds: &[f64],
        h: &Histogram,
        first: bool,
        exemplar: Option<&Seen>,
    ) {
        let mut with_le: Vec<(&str, &str)> = pairs.to_vec();
        let mut cum = 0u64;
        let les: Vec<String> = bounds
            .iter()
            .map(|b| sightline_core::gofmt::shortest_g(*b))
            .chain(std::iter::once("+Inf".to_owned()))
            .collect();
        let bucket = format!("{name}_bucket");
        // The exemplar goes on the bucket its value falls in.
        let ex_bucket = exemplar.map(|e| bounds.partition_point(|b| *b < e.value));
        for (i, le) in les.iter().enumerate() {
            cum += h.counts.get(i).copied().unwrap_or(0);
            let total = if i == bounds.len() { h.count } else { cum };
            with_le.push(("le", le));
            let ex = exemplar.filter(|_| ex_bucket == Some(i));
            self.sample(&bucket, &with_le, total as f64, first, ex);
            with_le.pop();
        }
        self.sample(&format!("{name}_sum"), pairs, h.sum, first, None);
        self.sample(&format!("{name}_count"), pairs, h.count as f64, first, None);
    }
}

/// The generator: both processors' state per tenant.
pub struct MetricsGenerator {
    config: GeneratorConfig,
    span_metrics: Option<Mutex<HashMap<String, spanmetrics::SpanMetrics>>>,
    service_graphs: Option<Mutex<HashMap<String, servicegraph::ServiceGraph>>>,
}

impl MetricsGenerator {
    pub fn new(config: GeneratorConfig) -> MetricsGenerator {
        let has = |p: &str| config.processors.iter().any(|x| x == p);
        MetricsGenerator {
            span_metrics: has("span-metrics").then(Default::default),
            service_graphs: has("service-graphs").then(Default::default),
            config,
        }
    }

    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }

    /// Counts accepted spans; `now_ms` stamps their exemplars and edges.
    pub fn observe(&self, tenant: &str, spans: &[Span], now_ms: i64) {
        if let Some(sm) = &self.span_metrics {
            let mut all = sm.lock().unwrap_or_else(|p| p.into_inner());
            let m = all.entry(tenant.to_owned()).or_default();
            for s in spans {
                m.observe(&self.config.span_metrics, s, now_ms);
            }
        }
        if let Some(sg) = &self.service_graphs {
            let mut all = sg.lock().unwrap_or_else(|p| p.into_inner());
            let g = all.entry(tenant.to_owned()).or_default();
            for s in spans {
                g.observe(&self.config.service_graphs, s, now_ms);
            }
        }
    }

    /// Writes every live series at `now_ms` in one transaction; returns the
    /// samples written.
    pub fn collect(&self, store: &dyn MetricAppender, now_ms: i64) -> sightline_core::Result<u64> {
        let stale_before = now_ms - self.config.stale_after.as_millis() as i64;
        let mut samples = 0;
        let tenants: Vec<String> = {
            let mut t: Vec<String> = Vec::new();
            if let Some(sm) = &self.span_metrics {
                t.extend(sm.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned());
            }
            if let Some(sg) = &self.service_graphs {
                t.extend(sg.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned());
            }
            t.sort();
            t.dedup();
            t
        };
        for tenant in tenants {
            let mut w = Writer {
                app: store.appender(),
                now_ms,
                tenant: (tenant != DEFAULT_TENANT).then_some(tenant.as_str()),
                samples: 0,
            };
            if let Some(sm) = &self.span_metrics {
                let mut all = sm.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(m) = all.get_mut(&tenant) {
                    m.write(&self.config.span_metrics, &mut w, stale_before);
                }
            }
            if let Some(sg) = &self.service_graphs {
                let mut all = sg.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(g) = all.get_mut(&tenant) {
                    g.expire(&self.config.service_graphs, now_ms);
                    g.write(&self.config.service_graphs, &mut w, stale_before);
                }
            }
            samples += w.samples;
            w.app.commit()?;
        }
        Ok(samples)
    }
}

/// A dimension's label name: the attribute key with what a label name
/// cannot hold made `_` (`http.method` -> `http_method`), as Tempo names
/// them.
pub(crate) fn dimension_label(key: &str) -> String {
    crate::otlp::names::label_name(key, Default::default()).unwrap_or_else(|| "_".into())
}

/// A dimension's value: the span's attribute, else the resource's; `""`
/// (no label) when neither has it.
pub(crate) fn dimension_value(s: &Span, key: &str) -> String {
    attr(&s.attributes, key)
        .or_else(|| attr(&s.resource.attributes, key))
        .map(AnyValue::to_text)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
