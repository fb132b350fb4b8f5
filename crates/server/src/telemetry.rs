//! The process's own self-telemetry (`process_*`, as Prometheus's client
//! libraries export them, so existing dashboards work). Every subsystem
//! reports its own metrics (`sightline_core::telemetry`); this is what
//! belongs to no subsystem.

use sightline_core::telemetry::{Report, Telemetry};
use std::time::{SystemTime, UNIX_EPOCH};

/// Reads `/proc/self` on each scrape of `/metrics`.
#[derive(Debug)]
pub struct ProcessTelemetry {
    start_time_seconds: f64,
}

impl ProcessTelemetry {
    /// A collector that reports `now` as the process start time.
    pub fn new() -> Self {
        ProcessTelemetry {
            start_time_seconds: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
        }
    }
}

/// Resident memory and CPU seconds of this process, from /proc (Linux only;
/// elsewhere the metrics are simply absent).
fn read_proc_self() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may itself contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = 100.0; // USER_HZ is 100 on every Linux platform we run on.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kb = sightline_core::memory::status_kb(&status, "VmRSS:")? as f64;
    Some((rss_kb * 1024.0, (utime + stime) / ticks))
}

fn open_fds() -> Option<f64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as f64)
}

impl Telemetry for ProcessTelemetry {
    fn report(&self, out: &mut Report) {
        if let Some((rss, cpu)) = read_proc_self() {
            out.gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                rss,
            );
            out.counter(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                cpu,
            );
        }
        if let Some(fds) = open_fds() {
            out.gauge("process_open_fds", "Number of open file descriptors.", fds);
        }
        out.gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            self.start_time_seconds,
        );
    }
}
