//! Blackbox probing for Sightline: blackbox_exporter 0.23's probers,
//! module file and metrics, plus scheduling and uptime.
//!
//! - [`config`]: blackbox's `modules:` file ([`BlackboxConfig`], [`Module`])
//!   read unchanged, and Sightline's own `probes:` section
//!   ([`ProbesConfig`] → [`Monitor`]s).
//! - [`run_probe`]: runs one module against one target and returns a
//!   [`ProbeResult`]: the samples blackbox's `/probe` would return (names,
//!   help texts, labels), a failure cause for outage lists, and log lines.
//!   [`render_exposition`] and [`render_debug`] print it as blackbox does;
//!   [`probe_endpoint`] is the whole `/probe` handler minus the HTTP server.
//! - Probers: http (our own HTTP/1.1 client, so every phase is timed),
//!   tcp (TLS, query/response), dns (UDP, TCP, TLS), grpc (health check over
//!   h2), icmp (ping sockets or raw sockets).
//! - [`ProbeScheduler`]: runs monitors at their interval, spread over it,
//!   and hands each result to a callback.
//! - [`service`]: the subsystem the server runs ([`service::Probes`]):
//!   scheduled monitors whose results are stored through the scrape append
//!   path, uptime kept on disk, `/probe` modules, all replaced on reload.
//! - [`UptimeTracker`]: uptime ratios, outages and certificate expiry per
//!   monitor target, kept in a small text file (`docs/probes.md`).
//!
//! A failed probe is not an [`Error`]: it is a result with
//! `probe_success 0`. [`Error`] is for bad configuration and state files.
//!
//! ```no_run
//! use sightline_probe::{ProbeCallback, ProbeScheduler, ProbesConfig, UptimeTracker};
//! use std::sync::{Arc, Mutex};
//!
//! # async fn wire() -> sightline_probe::Result<()> {
//! let text = "monitors:\n  - name: home\n    module: { prober: http }\n    targets: [http://127.0.0.1:8080/]\n";
//! let monitors = ProbesConfig::parse(text, "sightline.yml")?.monitors(std::path::Path::new("."))?;
//! let uptime = Arc::new(Mutex::new(UptimeTracker::open(std::path::Path::new("data/probes"))?));
//! let u = uptime.clone();
//! let callback: ProbeCallback = Arc::new(move |monitor, result, ts_ms| {
//!     // Store result.families as series here (labels: job = monitor name, instance = target, ...).
//!     u.lock().unwrap().record(&monitor.name, &result.target, monitor.interval, result, ts_ms);
//! });
//! let scheduler = ProbeScheduler::start(monitors, callback);
//! // ... on shutdown:
//! scheduler.stop().await;
//! uptime.lock().unwrap().save()?;
//! # Ok(())
//! # }
//! ```

mod cert;
pub mod config;
mod dns;
mod endpoint;
mod error;
mod grpc;
mod http;
mod icmp;
mod net;
mod result;
mod scheduler;
pub mod service;
mod tcp;
mod tls;
mod uptime;

pub use config::{BlackboxConfig, Module, Monitor, ProbesConfig};
pub use endpoint::{probe_endpoint, ProbeQuery, ProbeResponse, EXPOSITION_CONTENT_TYPE};
pub use error::{Error, Result};
pub use result::{render_debug, render_exposition, LogLine, MetricFamily, ProbeResult};
pub use scheduler::{ProbeCallback, ProbeScheduler};
pub use uptime::{Outage, UptimeReport, UptimeTracker};

use result::Recorder;
use sightline_core::gofmt::shortest_g;
use std::time::{Duration, Instant};

const HELP_SUCCESS: &str = "Displays whether or not the probe was a success";
const HELP_DURATION: &str = "Returns how long the probe took to complete in seconds";

/// blackbox's `getTimeout`: the scrape timeout (Prometheus's
/// `X-Prometheus-Scrape-Timeout-Seconds`, 120 s when absent) minus
/// `offset` (its `--timeout-offset`, 0.5 s by default), or the module's
/// timeout when that is positive and shorter.
pub fn effective_timeout(
    module: &Module,
    scrape_timeout_secs: Option<f64>,
    offset: f64,
) -> Duration {
    let scrape = scrape_timeout_secs.filter(|s| *s > 0.0).unwrap_or(120.0);
    let max = scrape - offset;
    let module_secs = module.timeout.map_or(0.0, |t| t.as_secs_f64());
    let secs = if (module_secs > 0.0 && module_secs < max) || max < 0.0 {
        module_secs
    } else {
        max
    };
    Duration::from_secs_f64(secs.max(0.0))
}

/// Runs `module` against `target`, giving up after `timeout` (whatever the
/// prober recorded until then is kept, and `probe_success` is 0, as in
/// blackbox where the context deadline cuts the probe short).
pub async fn run_probe(module: &Module, target: &str, timeout: Duration) -> ProbeResult {
    let start = Instant::now();
    let mut rec = Recorder::default();
    rec.log(
        "info",
        "Beginning probe",
        &[
            ("probe", &module.prober),
            ("timeout_seconds", &shortest_g(timeout.as_secs_f64())),
        ],
    );
    let run = async {
        match module.prober.as_str() {
            "http" => http::probe(&mut rec, target, &module.http).await,
            "tcp" => tcp::probe(&mut rec, target, &module.tcp).await,
            "dns" => (dns::probe(&mut rec, target, &module.dns).await, None),
            "grpc" => grpc::probe(&mut rec, target, &module.grpc).await,
            "icmp" => (icmp::probe(&mut rec, target, &module.icmp).await, None),
            other => {
                rec.fail("Unknown prober", other);
                (false, None)
            }
        }
    };
    let (success, cert_expiry) = match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => {
            rec.fail(
                "Probe timed out",
                &format!(
                    "context deadline exceeded after {}s",
                    shortest_g(timeout.as_secs_f64())
                ),
            );
            (false, None)
        }
    };
    let duration = start.elapsed().as_secs_f64();
    rec.set(
        "probe_success",
        HELP_SUCCESS,
        if success { 1.0 } else { 0.0 },
    );
    rec.set("probe_duration_seconds", HELP_DURATION, duration);
    if success {
        rec.log(
            "info",
            "Probe succeeded",
            &[("duration_seconds", &shortest_g(duration))],
        );
    } else {
        rec.log(
            "error",
            "Probe failed",
            &[("duration_seconds", &shortest_g(duration))],
        );
    }
    let failure = if success {
        None
    } else {
        Some(rec.failure.take().unwrap_or_else(|| "probe failed".into()))
    };
    ProbeResult {
        prober: module.prober.clone(),
        target: target.to_string(),
        success,
        duration_seconds: duration,
        failure,
        families: rec.families,
        logs: rec.logs,
        cert_expiry,
    }
}
