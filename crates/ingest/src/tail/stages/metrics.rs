//! The `metrics` stage and the tailer's own telemetry ([`TailMetrics`]).
//!
//! Custom metrics are named `<prefix><name>` (prefix `promtail_custom_`
//! as in Promtail) and labeled with the line's labels at that stage.
//! Counters and gauges are exposed as such; a histogram as its
//! `_bucket`/`_sum`/`_count` series (typed gauge, since the telemetry
//! registry has no histogram kind; `histogram_quantile` reads them alike).

use super::Entry;
use serde::Deserialize;
use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One metric of a `metrics` stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricConfig {
    /// `Counter`, `Gauge` or `Histogram` (any case).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The extracted value read (default: the metric's name).
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    /// Accepted; series are kept while the process runs.
    #[serde(default)]
    pub max_idle_duration: Option<String>,
    #[serde(default)]
    pub config: MetricOptions,
}

/// A metric's `config:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricOptions {
    /// Only lines whose source equals this count.
    #[serde(default)]
    pub value: Option<String>,
    /// Counter: `inc` or `add`; gauge: `set`, `inc`, `dec`, `add`, `sub`.
    #[serde(default)]
    pub action: Option<String>,
    /// Counter: count every line, whatever the extracted map holds.
    #[serde(default)]
    pub match_all: Option<bool>,
    /// Counter with `match_all`: add the line's bytes rather than 1.
    #[serde(default)]
    pub count_entry_bytes: Option<bool>,
    /// Histogram bucket bounds.
    #[serde(default)]
    pub buckets: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

type Series = BTreeMap<Vec<(String, String)>, Value>;

#[derive(Debug, Clone, Default)]
struct Value {
    v: f64,
    buckets: Vec<u64>,
    count: u64,
}

struct Custom {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    buckets: Vec<f64>,
    series: Mutex<Series>,
    /// Family names of a histogram's parts.
    parts: [&'static str; 3],
}

/// The tailer's own series: (family, labels) -> value.
type Own = BTreeMap<(&'static str, Vec<(String, String)>), f64>;

/// Counters of the tailer and the custom metrics of every `metrics`
/// stage; registered once with the server's telemetry.
#[derive(Default)]
pub struct TailMetrics {
    custom: Mutex<Vec<Arc<Custom>>>,
    counters: Mutex<Own>,
    gauges: Mutex<Own>,
}

const HELP: &[(&str, &str)] = &[
    ("promtail_read_bytes", "Number of bytes read."),
    ("promtail_read_lines", "Number of lines read."),
    (
        "promtail_dropped_entries",
        "Lines dropped by pipeline stages or refused by the receiver.",
    ),
    (
        "promtail_sent_entries",
        "Lines acknowledged by the receiver.",
    ),
    (
        "promtail_sent_bytes",
        "Bytes of lines acknowledged by the receiver.",
    ),
    (
        "promtail_batch_retries",
        "Batches sent again after a failure.",
    ),
    ("promtail_files_active", "Files being tailed."),
    ("promtail_file_bytes", "Size of each tailed file."),
];

fn help(name: &str) -> &'static str {
    HELP.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, h)| *h)
        .unwrap_or("")
}

impl TailMetrics {
    pub fn new() -> Arc<TailMetrics> {
        Arc::new(TailMetrics::default())
    }

    /// Adds to a tailer counter (`promtail_read_bytes`...).
    pub fn add(&self, name: &'static str, labels: &[(&str, &str)], v: f64) {
        let key = (name, own(labels));
        *self
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default() += v;
    }

    /// Sets a tailer gauge; `None` removes the series.
    pub fn set(&self, name: &'static str, labels: &[(&str, &str)], v: Option<f64>) {
        let mut g = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        let key = (name, own(labels));
        match v {
            Some(v) => {
                g.insert(key, v);
            }
            None => {
                g.remove(&key);
            }
        }
    }

    /// A counter's current value, for tests.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        c.iter()
            .filter(|((n, l), _)| {
                *n == name && labels.iter().all(|p| l.contains(&(p.0.into(), p.1.into())))
            })
            .map(|(_, v)| *v)
            .sum()
    }

    /// A custom metric's value for the series with `labels`, for tests
    /// (a histogram's count).
    pub fn custom_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let custom = self.custom.lock().unwrap_or_else(|p| p.into_inner());
        let m = custom
            .iter()
            .find(|m| m.name == name || m.parts[0] == name)?;
        let s = m.series.lock().unwrap_or_else(|p| p.into_inner());
        let v = s.get(&own(labels))?;
        Some(if m.kind == Kind::Histogram {
            v.count as f64
        } else {
            v.v
        })
    }

    fn metric(
        &self,
        name: String,
        help: String,
        kind: Kind,
        buckets: Vec<f64>,
    ) -> Result<Arc<Custom>, String> {
        let mut custom = self.custom.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = custom.iter().find(|m| m.name == name) {
            if m.kind != kind {
                return Err(format!(
                    "metric {name:?} is defined twice with different types"
                ));
            }
            return Ok(m.clone());
        }
        // Names live as long as the process: leaked once per configured
        // metric, as the registry's families take `&'static str`.
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let parts = if kind == Kind::Histogram {
            [
                leak(format!("{name}_bucket")),
                leak(format!("{name}_sum")),
                leak(format!("{name}_count")),
            ]
        } else {
            ["", "", ""]
        };
        let m = Arc::new(Custom {
            name: leak(name),
            help: leak(help),
            kind,
            buckets,
            series: Mutex::new(BTreeMap::new()),
            parts,
        });
        custom.push(m.clone());
        Ok(m)
    }
}

fn own(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn pts(s: &[(String, String)]) -> Vec<(&str, &str)> {
    s.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn fmt_le(b: f64) -> String {
    if b == f64::INFINITY {
        "+Inf".into()
    } else {
        sightline_core::gofmt::shortest_g(b)
    }
}

impl Telemetry for TailMetrics {
    fn report(&self, out: &mut Report) {
        let counters = self
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let gauges = self
            .gauges
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (map, kind) in [(counters, MetricKind::Counter), (gauges, MetricKind::Gauge)] {
            let mut names: Vec<&'static str> = map.keys().map(|k| k.0).collect();
            names.dedup();
            for n in names {
                let fam = out.family(n, help(n), kind);
                for ((_, l), v) in map.iter().filter(|(k, _)| k.0 == n) {
                    let l: Vec<(&str, &str)> =
                        l.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                    fam.point(&l, *v);
                }
            }
        }
        let custom = self
            .custom
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for m in custom {
            let series = m.series.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match m.kind {
                Kind::Counter | Kind::Gauge => {
                    let kind = if m.kind == Kind::Counter {
                        MetricKind::Counter
                    } else {
                        MetricKind::Gauge
                    };
                    let fam = out.family(m.name, m.help, kind);
                    for (l, v) in &series {
                        fam.point(&pts(l), v.v);
                    }
                }
                Kind::Histogram => {
                    let fam = out.family(m.parts[0], m.help, MetricKind::Gauge);
                    for (l, v) in &series {
                        let mut cum = 0;
                        for (i, b) in m.buckets.iter().chain([f64::INFINITY].iter()).enumerate() {
                            cum += v.buckets.get(i).copied().unwrap_or(0);
                            let le = fmt_le(*b);
                            let mut ls = pts(l);
                            ls.push(("le", &le));
                            fam.point(&ls, cum as f64);
                        }
                    }
                    let fam = out.family(m.parts[1], m.help, MetricKind::Gauge);
                    for (l, v) in &series {
                        fam.point(&pts(l), v.v);
                    }
                    let fam = out.family(m.parts[2], m.help, MetricKind::Gauge);
                    for (l, v) in &series {
                        fam.point(&pts(l), v.count as f64);
                    }
                }
            }
        }
    }
}

struct One {
    metric: Arc<Custom>,
    source: String,
    opts: MetricOptions,
    action: String,
}

/// A compiled `metrics` stage.
pub struct MetricsStage(Vec<One>);

impl MetricsStage {
    pub fn new(
        cfg: &BTreeMap<String, MetricConfig>,
        reg: &Arc<TailMetrics>,
    ) -> Result<MetricsStage, String> {
        let mut out = Vec::new();
        for (name, c) in cfg {
            let kind = match c.kind.to_ascii_lowercase().as_str() {
                "counter" => Kind::Counter,
                "gauge" => Kind::Gauge,
                "histogram" => Kind::Histogram,
                o => {
                    return Err(format!(
                        "metric {name:?}: type {o:?} must be Counter, Gauge or Histogram"
                    ))
                }
            };
            let action = c
                .opts_action(kind)
                .map_err(|e| format!("metric {name:?}: {e}"))?;
            let mut full = format!(
                "{}{name}",
                c.prefix.as_deref().unwrap_or("promtail_custom_")
            );
            if kind == Kind::Counter {
                // The encoder appends `_total` to counters.
                if let Some(s) = full.strip_suffix("_total") {
                    full = s.to_owned();
                }
            }
            if !crate::relabel::is_valid_label_name(&full.replace(':', "_")) {
                return Err(format!("metric name {full:?} is not valid"));
            }
            let mut buckets = c.config.buckets.clone().unwrap_or_default();
            if kind == Kind::Histogram && buckets.is_empty() {
                // Prometheus's default buckets, as Promtail uses them.
                buckets = vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ];
            }
            buckets.sort_by(f64::total_cmp);
            let metric = reg.metric(
                full,
                c.description.clone().unwrap_or_default(),
                kind,
                buckets,
            )?;
            out.push(One {
                metric,
                source: c.source.clone().unwrap_or_else(|| name.clone()),
                opts: c.config.clone(),
                action,
            });
        }
        Ok(MetricsStage(out))
    }

    pub fn apply(&self, e: &Entry) {
        for m in &self.0 {
            let labels: Vec<(String, String)> = e
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let src = e.extracted.get(&m.source);
            let all = m.metric.kind == Kind::Counter && m.opts.match_all == Some(true);
            if !all {
                let Some(v) = src else { continue };
                if m.opts.value.as_ref().is_some_and(|want| want != v) {
                    continue;
                }
            }
            let num = || src.and_then(|s| s.trim().parse::<f64>().ok());
            let mut series = m.metric.series.lock().unwrap_or_else(|p| p.into_inner());
            let val = series.entry(labels).or_default();
            match (m.metric.kind, m.action.as_str()) {
                (Kind::Counter, _) if all => {
                    val.v += if m.opts.count_entry_bytes == Some(true) {
                        e.line.len() as f64
                    } else {
                        1.0
                    }
                }
                (Kind::Counter | Kind::Gauge, "inc") => val.v += 1.0,
                (Kind::Gauge, "dec") => val.v -= 1.0,
                (Kind::Counter | Kind::Gauge, "add") => {
                    if let Some(n) = num().filter(|n| m.metric.kind == Kind::Gauge || *n >= 0.0) {
                        val.v += n
                    }
                }
                (Kind::Gauge, "sub") => {
                    if let Some(n) = num() {
                        val.v -= n
                    }
                }
                (Kind::Gauge, "set") => {
                    if let Some(n) = num() {
                        val.v = n
                    }
                }
                (Kind::Histogram, _) => {
                    if let Some(n) = num() {
                        if val.buckets.is_empty() {
                            val.buckets = vec![0; m.metric.buckets.len() + 1];
                        }
                        let i = m
                            .metric
                            .buckets
                            .iter()
                            .position(|b| n <= *b)
                            .unwrap_or(m.metric.buckets.len());
                        val.buckets[i] += 1;
                        val.v += n;
                        val.count += 1;
                    }
                }
                _ => {}
            }
        }
    }
}

impl MetricConfig {
    fn opts_action(&self, kind: Kind) -> Result<String, String> {
        let a = self.config.action.clone().map(|a| a.to_ascii_lowercase());
        match kind {
            Kind::Counter => {
                if self.config.match_all == Some(true) {
                    return Ok("inc".into());
                }
                match a.as_deref() {
                    Some(a @ ("inc" | "add")) => Ok(a.into()),
                    Some(o) => Err(format!("counter action {o:?} must be inc or add")),
                    None => Err("counter needs an action (inc or add)".into()),
                }
            }
            Kind::Gauge => match a.as_deref() {
                Some(a @ ("set" | "inc" | "dec" | "add" | "sub")) => Ok(a.into()),
                Some(o) => Err(format!(
                    "gauge action {o:?} must be set, inc, dec, add or sub"
                )),
                None => Err("gauge needs an action".into()),
            },
            Kind::Histogram => Ok(String::new()),
        }
    }
}
