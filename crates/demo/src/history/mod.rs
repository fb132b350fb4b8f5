//! The shop's past, simulated for backfill: [`generate`] runs the live shop's
//! traffic model ([`crate::model`]: the same request mix, latencies, error
//! rates and built-in fault schedule) over a time range and returns what the
//! shop would have left behind:
//!
//! - `openmetrics`: the four services' `/metrics` as a scrape every 15 s of
//!   the provisioned config would have stored them (`job` = service,
//!   `instance` = `127.0.0.1:<default port>`, plus `up`); a service that is
//!   down at a scrape has `up` 0 and no other samples there. Counters start at
//!   0 at `start_ms` (the simulated process start) and only grow; histogram
//!   buckets are cumulative. Timestamps are whole seconds; the text ends with
//!   `# EOF`, ready for `sightline import openmetrics` or
//!   `promtool tsdb create-blocks-from openmetrics`.
//! - `log_lines` and `spans`: a sample of requests (one frontend request in
//!   200, and one in 30 of those that failed), each traced across the services
//!   it reached, with one JSON log line per service it crossed, the same JSON
//!   as the live `<service>.log` files.

mod openmetrics;
mod spans;

use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

use crate::fault::scheduled;
use crate::model::{self, Route};
use crate::Fault;

/// One log line of the history: the same JSON as the live files.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub service: &'static str,
    pub ts_ms: i64,
    pub line: String,
}

/// A simulated past.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// OpenMetrics text, timestamps in seconds, ending with `# EOF`.
    pub openmetrics: String,
    /// Log lines, in time order.
    pub log_lines: Vec<LogLine>,
    /// Spans, one `ResourceSpans` per service per 5-minute batch, ready to
    /// send as an `ExportTraceServiceRequest` to `/v1/traces`.
    pub spans: Vec<ResourceSpans>,
}

/// The scrape interval the history is sampled at.
pub const SCRAPE_INTERVAL_MS: i64 = 15_000;

/// The load the history simulates at the frontend (the live default).
const REQUESTS_PER_SECOND: f64 = 20.0;

/// One request in two hundred is traced (and logged) in the history, and
/// one failed request in thirty.
const TRACE_ONE_IN: u32 = 200;
const TRACE_FAILED_ONE_IN: u32 = 30;

/// The same traffic model as the live shop, simulated over
/// `[start_ms, end_ms)` with the built-in fault schedule, for backfill.
/// Deterministic for a seed.
pub fn generate(start_ms: i64, end_ms: i64, seed: u64) -> History {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut om = openmetrics::Writer::new(start_ms);
    let mut traces = spans::Collector::default();
    let mut log_lines = Vec::new();
    let mut hops: Vec<Hop> = Vec::with_capacity(16);
    // Scrapes at every multiple of the interval in [start_ms, end_ms), as a
    // scrape loop aligned on them; the first finds fresh counters.
    let mut scrape =
        (start_ms + SCRAPE_INTERVAL_MS - 1).div_euclid(SCRAPE_INTERVAL_MS) * SCRAPE_INTERVAL_MS;
    let mut from = start_ms;
    let mut arrivals = 0.0_f64;
    while scrape < end_ms {
        // The requests that arrived since the last scrape, evenly spread.
        arrivals += (scrape - from) as f64 / 1000.0 * REQUESTS_PER_SECOND;
        let n = arrivals.floor() as i64;
        arrivals -= n as f64;
        for k in 0..n {
            let t = from as f64 + (k as f64 + rng.f64()) * (scrape - from) as f64 / n as f64;
            hops.clear();
            let entry = model::pick_entry(&mut rng);
            simulate(entry, t, &mut rng, &mut hops, None);
            for h in hops.iter().filter(|h| !h.down) {
                om.observe(h.route, h.status, h.server_ms / 1000.0);
            }
            let failed = hops[0].status >= 500;
            if rng.u32(0..TRACE_ONE_IN) == 0 || (failed && rng.u32(0..TRACE_FAILED_ONE_IN) == 0) {
                traces.add(&hops, &mut rng, &mut log_lines);
            }
        }
        om.scrape(scrape, &mut rng);
        from = scrape;
        scrape += SCRAPE_INTERVAL_MS;
    }
    log_lines.sort_by_key(|l| l.ts_ms);
    History {
        openmetrics: om.finish(),
        log_lines,
        spans: traces.finish(),
    }
}

/// One service's part of a simulated request.
#[derive(Clone, Debug)]
pub(crate) struct Hop {
    pub(crate) route: Route,
    /// The caller's hop, if any.
    pub(crate) parent: Option<usize>,
    /// When the caller's client call started (the entry: the request's arrival).
    pub(crate) call_start_ms: f64,
    /// The caller's client span's length (the callee's time plus the network).
    pub(crate) call_ms: f64,
    /// The callee's server span's length.
    pub(crate) server_ms: f64,
    pub(crate) status: u16,
    /// Why it failed, for the span status and the log line.
    pub(crate) why: Why,
    /// The service was down: no server span, no metrics, no log.
    pub(crate) down: bool,
    pub(crate) slow_query: bool,
}

/// Network time of one call on top of the callee's own (a loopback round trip).
const NETWORK_MS: f64 = 0.3;

/// Simulates `route` called at `t_ms`, pushing its hop and its callees'.
fn simulate(
    route: Route,
    t_ms: f64,
    rng: &mut fastrand::Rng,
    hops: &mut Vec<Hop>,
    parent: Option<usize>,
) -> usize {
    let fault = scheduled(route.service(), t_ms as i64);
    let own = model::own(route, &fault, rng);
    let idx = hops.len();
    hops.push(Hop {
        route,
        parent,
        call_start_ms: t_ms,
        call_ms: 0.0,
        server_ms: 0.0,
        status: 200,
        why: Why::Ok,
        down: fault == Fault::Down,
        slow_query: own.slow_query,
    });
    let mut elapsed = own.ms;
    let (status, why) = match own.fail {
        Some(503) => (503, Why::Down),
        Some(500) if matches!(fault, Fault::Errors { .. }) => (500, Why::Injected),
        Some(402) => (402, Why::Declined),
        Some(s) => (s, Why::Provider),
        None => {
            let mut out = (200, Why::Ok);
            for &call in route.calls() {
                let c = simulate(call, t_ms + elapsed, rng, hops, Some(idx));
                elapsed += hops[c].call_ms;
                let got = hops[c].status;
                if got != 200 {
                    out = (
                        model::upstream_status(got),
                        Why::Answered(call.service(), got),
                    );
                    break;
                }
            }
            out
        }
    };
    let h = &mut hops[idx];
    h.status = status;
    h.why = why;
    h.server_ms = elapsed;
    h.call_ms = elapsed + NETWORK_MS;
    idx
}

/// Why a hop answered what it did (the live services' messages).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Why {
    Ok,
    Down,
    Injected,
    Declined,
    Provider,
    /// A downstream service (index) answered this status.
    Answered(usize, u16),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Why::Ok => Ok(()),
            Why::Down => f.write_str("service down"),
            Why::Injected => f.write_str("injected error"),
            Why::Declined => f.write_str("card declined"),
            Why::Provider => f.write_str("payment provider failed"),
            Why::Answered(s, status) => write!(f, "{} answered {status}", crate::SERVICES[*s]),
        }
    }
}

#[cfg(test)]
mod tests;
