//! Self-telemetry: how a subsystem reports its own metrics for `/metrics`.
//!
//! Each subsystem (the TSDB, the scrape manager, the rule evaluator, the
//! Alertmanager, probes, the write endpoints) owns its counters and
//! implements [`Telemetry`], which writes their current values into a
//! [`Report`] when `/metrics` is scraped; it registers itself with the
//! server's [`TelemetryRegistry`] when it starts. Nothing here knows the
//! exposition format: the server encodes a [`Report`] once, so subsystems
//! need no exposition library and a value is never kept twice.
//!
//! Names follow Prometheus's conventions: a counter is named without its
//! `_total` suffix, which the encoder appends (as OpenMetrics writes it).

use std::sync::{Arc, Mutex};

/// What a metric family measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A value that only goes up (restarting at zero with the process).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Observations counted into cumulative buckets (each point carries a
    /// [`HistogramValue`]; its `value` is unused).
    Histogram,
}

/// One histogram's state: cumulative counts per upper bound (the `+Inf`
/// bucket is `count`), the sum and count of observations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramValue {
    /// `(upper bound, observations <= bound)`, bounds ascending.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of the observations.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

/// One labeled value of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Label pairs, in the order they are written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// A histogram family's buckets, sum and count.
    pub histogram: Option<HistogramValue>,
}

/// A metric family: a name, its help text, its kind and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The metric name (a counter's without `_total`).
    pub name: &'static str,
    /// One line saying what it measures.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: MetricKind,
    /// Its values; a family without labels has one point.
    pub points: Vec<Point>,
}

/// The families written during one collection, in the order written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    families: Vec<Family>,
}

impl Report {
    /// An unlabeled counter.
    pub fn counter(&mut self, name: &'static str, help: &'static str, value: f64) {
        self.single(name, help, MetricKind::Counter, value);
    }

    /// An unlabeled gauge.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: f64) {
        self.single(name, help, MetricKind::Gauge, value);
    }

    fn single(&mut self, name: &'static str, help: &'static str, kind: MetricKind, value: f64) {
        self.family(name, help, kind).point(&[], value);
    }

    /// A family whose labeled points the caller adds; a family with no
    /// point is still written (its name and help), as client libraries do
    /// for a labeled metric nothing has set yet.
    pub fn family(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: MetricKind,
    ) -> &mut Family {
        self.families.push(Family {
            name,
            help,
            kind,
            points: Vec::new(),
        });
        self.families.last_mut().expect("just pushed")
    }

    /// An unlabeled histogram.
    pub fn histogram(&mut self, name: &'static str, help: &'static str, h: HistogramValue) {
        self.family(name, help, MetricKind::Histogram)
            .points
            .push(Point {
                labels: Vec::new(),
                value: h.sum,
                histogram: Some(h),
            });
    }

    /// The families, in the order written.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The value of the unlabeled family `name`, for tests.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.families
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.points.iter().find(|p| p.labels.is_empty()))
            .map(|p| p.value)
    }
}

impl Family {
    /// Adds a point with `labels`.
    pub fn point(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Family {
        self.points.push(Point {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
            histogram: None,
        });
        self
    }
}

/// A source of self-telemetry: writes its current values on each collection.
pub trait Telemetry: Send + Sync {
    /// Writes this source's families into `out`.
    fn report(&self, out: &mut Report);
}

impl<T: Telemetry + ?Sized> Telemetry for Arc<T> {
    fn report(&self, out: &mut Report) {
        (**self).report(out)
    }
}

/// The sources `/metrics` reads, in registration order.
#[derive(Default)]
pub struct TelemetryRegistry {
    sources: Mutex<Vec<Arc<dyn Telemetry>>>,
}

impl TelemetryRegistry {
    /// An empty registry.
    pub fn new() -> Arc<Self> {
        Arc::new(TelemetryRegistry::default())
    }

    /// Adds a source; it is read on every later collection.
    pub fn register(&self, source: Arc<dyn Telemetry>) {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(source);
    }

    /// Reads every source.
    pub fn collect(&self) -> Report {
        let sources = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = Report::default();
        for s in sources {
            s.report(&mut out);
        }
        out
    }
}

impl std::fmt::Debug for TelemetryRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.sources.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("TelemetryRegistry")
            .field("sources", &n)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(f64);

    impl Telemetry for Fixed {
        fn report(&self, out: &mut Report) {
            out.counter("things", "Things done.", self.0);
            out.family("by_state", "Things by state.", MetricKind::Gauge)
                .point(&[("state", "a")], 1.0)
                .point(&[("state", "b")], 2.0);
        }
    }

    #[test]
    fn sources_are_read_on_each_collection_in_order() {
        let reg = TelemetryRegistry::new();
        reg.register(Arc::new(Fixed(3.0)));
        reg.register(Arc::new(Fixed(4.0)));
        let r = reg.collect();
        let names: Vec<&str> = r.families().iter().map(|f| f.name).collect();
        assert_eq!(names, ["things", "by_state", "things", "by_state"]);
        assert_eq!(r.value("things"), Some(3.0));
        let by_state = &r.families()[1];
        assert_eq!(by_state.kind, MetricKind::Gauge);
        assert_eq!(by_state.points[1].labels, [("state".into(), "b".into())]);
        assert_eq!(by_state.points[1].value, 2.0);
    }
}
