//! `/metrics` of one service, with the `prometheus-client` crate as users
//! instrument theirs: the seeds' HTTP families plus the process's own.

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::model::BUCKETS;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub method: &'static str,
    pub route: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The registry and the families a service updates on every request.
pub(crate) struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RouteLabels, Counter>,
    duration: HistogramFamily,
}

fn new_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl HttpMetrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<RouteLabels, Counter>::default();
        let duration: HistogramFamily = Family::new_with_constructor(new_histogram);
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_errors",
            "HTTP requests answered with a 5xx status",
            errors.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration in seconds",
            duration.clone(),
        );
        registry.register_collector(Box::new(ProcessCollector));
        HttpMetrics {
            registry,
            requests,
            errors,
            duration,
        }
    }

    pub(crate) fn observe(
        &self,
        method: &'static str,
        route: &'static str,
        status: u16,
        seconds: f64,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        let rl = RouteLabels { method, route };
        if status >= 500 {
            self.errors.get_or_create(&rl).inc();
        }
        self.duration.get_or_create(&rl).observe(seconds);
    }

    /// The text exposition (OpenMetrics, as the crate writes it).
    pub(crate) fn encode(&self) -> String {
        let mut out = String::with_capacity(8192);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The `process_*` families, read from `/proc/self` (Linux; elsewhere they
/// are left out). Every service of the shop runs in one process, so they all
/// show the same values, as four threads of one binary would.
#[derive(Debug)]
struct ProcessCollector;

/// USER_HZ and the page size on every Linux this demo targets.
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_SIZE: f64 = 4096.0;

impl prometheus_client::collector::Collector for ProcessCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        let Some(p) = read_proc() else { return Ok(()) };
        let mut metric =
            |name: &str,
             help: &str,
             kind: MetricType,
             f: &dyn Fn(MetricEncoder) -> Result<(), std::fmt::Error>| {
                let e = encoder.encode_descriptor(name, help, None, kind)?;
                f(e)
            };
        metric(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            MetricType::Counter,
            &|e| ConstCounter::new(p.cpu_seconds).encode(e),
        )?;
        metric(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            MetricType::Gauge,
            &|e| ConstGauge::new(p.rss_bytes).encode(e),
        )?;
        metric(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds",
            MetricType::Gauge,
            &|e| ConstGauge::new(p.start_time_seconds).encode(e),
        )?;
        metric(
            "process_threads",
            "Number of OS threads in the process",
            MetricType::Gauge,
            &|e| ConstGauge::new(p.threads).encode(e),
        )?;
        Ok(())
    }
}

struct Proc {
    cpu_seconds: f64,
    rss_bytes: f64,
    start_time_seconds: f64,
    threads: f64,
}

fn read_proc() -> Option<Proc> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: fields count from after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    // Field numbers of proc(5) minus 3 (pid, comm and state come first).
    let cpu_seconds = (num(11)? + num(12)?) / TICKS_PER_SECOND;
    let threads = num(17)?;
    let start_ticks = num(19)?;
    let rss_bytes = num(21)? * PAGE_SIZE;
    let btime = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| {
            l.strip_prefix("btime ")
                .and_then(|v| v.trim().parse::<f64>().ok())
        })?;
    Some(Proc {
        cpu_seconds,
        rss_bytes,
        start_time_seconds: btime + start_ticks / TICKS_PER_SECOND,
        threads,
    })
}
