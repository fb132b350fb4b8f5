//! The history's metrics: counters kept as the services' `prometheus-client`
//! families would keep them, sampled at every scrape, written as OpenMetrics.

use std::fmt::Write as _;

use crate::fault::scheduled;
use crate::model::{Route, BUCKETS};
use crate::{Fault, DEFAULT_SERVICE_PORTS, SERVICES};

/// The routes as series: (method, route) per slot, and the slot's service.
const SLOTS: [(Route, usize); 6] = [
    (Route::Index, 0),
    (Route::Products, 0),
    (Route::Checkout, 0),
    (Route::Orders, 1),
    (Route::Charge, 2),
    (Route::SelectProducts, 3),
];
const STATUSES: [u16; 5] = [200, 402, 500, 502, 503];

fn slot(route: Route) -> usize {
    match route {
        Route::Index => 0,
        Route::Products => 1,
        Route::Checkout => 2,
        Route::Orders => 3,
        Route::Charge => 4,
        _ => 5,
    }
}

/// Families in output order, with their type and help.
const FAMILIES: [(&str, &str, &str); 8] = [
    (
        "up",
        "gauge",
        "1 if the scrape of the target succeeded, 0 if it failed",
    ),
    (
        "http_requests",
        "counter",
        "HTTP requests by method, route and status",
    ),
    (
        "http_errors",
        "counter",
        "HTTP requests answered with a 5xx status",
    ),
    (
        "http_request_duration_seconds",
        "histogram",
        "HTTP request duration in seconds",
    ),
    (
        "process_cpu_seconds",
        "counter",
        "Total user and system CPU time spent in seconds",
    ),
    (
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes",
    ),
    (
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds",
    ),
    (
        "process_threads",
        "gauge",
        "Number of OS threads in the process",
    ),
];

/// One metric (a family and a label set) and its points over time.
struct Metric {
    family: usize,
    /// `job="…",instance="…"` and the metric's own labels, without braces.
    labels: String,
    /// Values per point: 1, or for a histogram the buckets, +Inf, count, sum.
    stride: usize,
    ts: Vec<i64>,
    vals: Vec<f64>,
}

#[derive(Clone, Copy, Default)]
struct Hist {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

pub(crate) struct Writer {
    start_s: f64,
    requests: [[u64; STATUSES.len()]; SLOTS.len()],
    errors: [u64; SLOTS.len()],
    hists: [Hist; SLOTS.len()],
    cpu: [f64; 4],
    metrics: Vec<Metric>,
    /// Index in `metrics` of each series once it exists (prometheus-client
    /// shows a label set from its first use on).
    req_idx: [[Option<usize>; STATUSES.len()]; SLOTS.len()],
    err_idx: [Option<usize>; SLOTS.len()],
    hist_idx: [Option<usize>; SLOTS.len()],
    /// up, then the four process families, per service.
    fixed_idx: [[usize; 5]; 4],
}

fn target(service: usize) -> String {
    format!(
        "job=\"{}\",instance=\"127.0.0.1:{}\"",
        SERVICES[service], DEFAULT_SERVICE_PORTS[service]
    )
}

impl Writer {
    pub(crate) fn new(start_ms: i64) -> Self {
        let mut metrics = Vec::new();
        let mut fixed_idx = [[0; 5]; 4];
        for (svc, idx) in fixed_idx.iter_mut().enumerate() {
            for (k, family) in [0, 4, 5, 6, 7].into_iter().enumerate() {
                idx[k] = metrics.len();
                metrics.push(Metric {
                    family,
                    labels: target(svc),
                    stride: 1,
                    ts: Vec::new(),
                    vals: Vec::new(),
                });
            }
        }
        Writer {
            start_s: (start_ms / 1000) as f64,
            requests: [[0; STATUSES.len()]; SLOTS.len()],
            errors: [0; SLOTS.len()],
            hists: [Hist::default(); SLOTS.len()],
            cpu: [0.0; 4],
            metrics,
            req_idx: [[None; STATUSES.len()]; SLOTS.len()],
            err_idx: [None; SLOTS.len()],
            hist_idx: [None; SLOTS.len()],
            fixed_idx,
        }
    }

    /// Counts one request a service answered.
    pub(crate) fn observe(&mut self, route: Route, status: u16, seconds: f64) {
        let s = slot(route);
        let st = STATUSES.iter().position(|x| *x == status).unwrap_or(2);
        self.requests[s][st] += 1;
        if status >= 500 {
            self.errors[s] += 1;
        }
        let h = &mut self.hists[s];
        for (b, le) in h.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= le {
                *b += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    fn new_metric(&mut self, family: usize, svc: usize, labels: &str, stride: usize) -> usize {
        self.metrics.push(Metric {
            family,
            labels: format!("{},{labels}", target(svc)),
            stride,
            ts: Vec::new(),
            vals: Vec::new(),
        });
        self.metrics.len() - 1
    }

    /// Records what a scrape at `t_ms` would have stored.
    pub(crate) fn scrape(&mut self, t_ms: i64, rng: &mut fastrand::Rng) {
        let t = t_ms / 1000;
        // Series born since the last scrape.
        for (s, &(route, svc)) in SLOTS.iter().enumerate() {
            let rl = format!("method=\"{}\",route=\"{}\"", route.method(), route.path());
            for (st, status) in STATUSES.iter().enumerate() {
                if self.requests[s][st] > 0 && self.req_idx[s][st].is_none() {
                    self.req_idx[s][st] =
                        Some(self.new_metric(1, svc, &format!("{rl},status=\"{status}\""), 1));
                }
            }
            if self.errors[s] > 0 && self.err_idx[s].is_none() {
                self.err_idx[s] = Some(self.new_metric(2, svc, &rl, 1));
            }
            if self.hists[s].count > 0 && self.hist_idx[s].is_none() {
                self.hist_idx[s] = Some(self.new_metric(3, svc, &rl, BUCKETS.len() + 3));
            }
        }
        for svc in 0..4 {
            // Every service runs in one process: a few percent of a core, ~30 MB.
            self.cpu[svc] += 15.0 * (0.01 + 0.01 * rng.f64());
            let down = scheduled(svc, t_ms) == Fault::Down;
            let [up, cpu, rss, start, threads] = self.fixed_idx[svc];
            self.push(up, t, &[if down { 0.0 } else { 1.0 }]);
            if down {
                continue;
            }
            self.push(cpu, t, &[(self.cpu[svc] * 100.0).round() / 100.0]);
            self.push(
                rss,
                t,
                &[(28_000_000 + rng.u64(0..4_000_000) / 4096 * 4096) as f64],
            );
            self.push(start, t, &[self.start_s]);
            self.push(threads, t, &[4.0]);
        }
        for (s, &(_, svc)) in SLOTS.iter().enumerate() {
            if scheduled(svc, t_ms) == Fault::Down {
                continue;
            }
            for st in 0..STATUSES.len() {
                if let Some(i) = self.req_idx[s][st] {
                    self.push(i, t, &[self.requests[s][st] as f64]);
                }
            }
            if let Some(i) = self.err_idx[s] {
                self.push(i, t, &[self.errors[s] as f64]);
            }
            if let Some(i) = self.hist_idx[s] {
                let h = self.hists[s];
                let mut v = [0.0; BUCKETS.len() + 3];
                for (o, b) in v.iter_mut().zip(h.buckets) {
                    *o = b as f64;
                }
                v[BUCKETS.len()] = h.count as f64;
                v[BUCKETS.len() + 1] = h.count as f64;
                // Microseconds are all a sum of request times needs.
                v[BUCKETS.len() + 2] = (h.sum * 1e6).round() / 1e6;
                self.push(i, t, &v);
            }
        }
    }

    fn push(&mut self, i: usize, t: i64, v: &[f64]) {
        let m = &mut self.metrics[i];
        m.ts.push(t);
        m.vals.extend_from_slice(v);
    }

    /// The OpenMetrics text: each family once, each metric's points in time
    /// order, `# EOF` last.
    pub(crate) fn finish(mut self) -> String {
        let points: usize = self.metrics.iter().map(|m| m.vals.len()).sum();
        let mut out = String::with_capacity(points * 110 + 4096);
        self.metrics
            .sort_by(|a, b| (a.family, &a.labels).cmp(&(b.family, &b.labels)));
        let mut i = 0;
        for (f, (name, kind, help)) in FAMILIES.iter().enumerate() {
            let _ = writeln!(out, "# HELP {name} {help}.\n# TYPE {name} {kind}");
            while i < self.metrics.len() && self.metrics[i].family == f {
                write_metric(&mut out, name, kind, &self.metrics[i]);
                i += 1;
            }
        }
        out.push_str("# EOF\n");
        out
    }
}

fn write_metric(out: &mut String, name: &str, kind: &str, m: &Metric) {
    let l = &m.labels;
    for (p, t) in m.ts.iter().enumerate() {
        let v = &m.vals[p * m.stride..(p + 1) * m.stride];
        match kind {
            "counter" => {
                let _ = writeln!(out, "{name}_total{{{l}}} {} {t}", v[0]);
            }
            "gauge" => {
                let _ = writeln!(out, "{name}{{{l}}} {} {t}", v[0]);
            }
            _ => {
                for (le, b) in BUCKETS.iter().zip(v) {
                    let _ = writeln!(out, "{name}_bucket{{{l},le=\"{}\"}} {b} {t}", Le(*le));
                }
                let n = BUCKETS.len();
                let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {} {t}", v[n]);
                let _ = writeln!(out, "{name}_count{{{l}}} {} {t}", v[n + 1]);
                let _ = writeln!(out, "{name}_sum{{{l}}} {} {t}", v[n + 2]);
            }
        }
    }
}

/// A bucket bound as prometheus-client writes it (`1.0`, `0.005`): the
/// history's `le` labels must equal the live ones, or the live series would
/// not continue the backfilled ones.
struct Le(f64);

impl std::fmt::Display for Le {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.fract() == 0.0 {
            write!(f, "{:.1}", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}
