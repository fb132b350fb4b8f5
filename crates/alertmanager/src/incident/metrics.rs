//! The incidents' self-telemetry: how long incidents wait for an
//! acknowledgement and for their resolution, and how many there are.
//!
//! The durations count from process start, as every counter on `/metrics`
//! does: the records on disk keep the times, so nothing is lost by
//! starting the histograms empty.

use std::sync::Mutex;

use sightline_core::telemetry::{HistogramValue, MetricKind, Report, Telemetry};

use super::store::Incidents;

/// Upper bounds in seconds: one minute to one day, the range paging
/// targets are written in.
pub const BUCKETS: [f64; 10] = [
    60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0,
];

/// One histogram over [`BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram(Mutex<HistogramValue>);

impl Histogram {
    /// Counts one observation of `v` seconds.
    pub fn observe(&self, v: f64) {
        let mut h = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if h.buckets.is_empty() {
            h.buckets = BUCKETS.iter().map(|&b| (b, 0)).collect();
        }
        for (le, c) in &mut h.buckets {
            if v <= *le {
                *c += 1;
            }
        }
        h.sum += v;
        h.count += 1;
    }

    /// The current state, with every bucket listed even before the first
    /// observation.
    pub fn snapshot(&self) -> HistogramValue {
        let mut h = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if h.buckets.is_empty() {
            h.buckets = BUCKETS.iter().map(|&b| (b, 0)).collect();
        }
        h
    }
}

/// Time to acknowledge and time to resolve.
#[derive(Debug, Default)]
pub struct Durations {
    pub acknowledge: Histogram,
    pub resolve: Histogram,
}

impl Telemetry for Incidents {
    fn report(&self, out: &mut Report) {
        let fam = out.family(
            "sightline_incidents",
            "Incidents kept, by status.",
            MetricKind::Gauge,
        );
        for (status, n) in self.counts() {
            fam.point(&[("status", status.as_str())], n as f64);
        }
        out.histogram(
            "sightline_incident_time_to_acknowledge_seconds",
            "Time from an incident's opening to its acknowledgement.",
            self.durations.acknowledge.snapshot(),
        );
        out.histogram(
            "sightline_incident_time_to_resolve_seconds",
            "Time from an incident's opening to its resolution.",
            self.durations.resolve.snapshot(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(30.0);
        h.observe(300.0);
        h.observe(100_000.0);
        let v = h.snapshot();
        assert_eq!(v.count, 3);
        assert_eq!(v.sum, 100_330.0);
        assert_eq!(v.buckets[0], (60.0, 1));
        // 300 is inside the 300 s bucket (le is inclusive).
        assert_eq!(v.buckets[1], (300.0, 2));
        assert_eq!(v.buckets[9], (86400.0, 2));
    }
}
