//! Six hours of the shop's past, written before `serve` opens the data
//! folder, so charts, log searches and trace searches have something to
//! show from the first second.
//!
//! - Metrics take the path `sightline import openmetrics` takes
//!   ([`crate::import::import_openmetrics`]): blocks beside the TSDB's.
//! - Logs and spans go through the log and trace stores' appenders, then a
//!   flush into blocks. Pushing them through serve's Loki and OTLP intakes
//!   instead would race the live lines: a stream refuses lines more than
//!   `out_of_order_window` (1h) older than its newest, so six hours of past
//!   must land before the first tailed line; and the metrics generator
//!   would count six hours of spans as if they had just arrived.

use super::files::Ports;
use anyhow::Context;
use sightline_core::logs::{LogAppender, LogEntry, LogStream, DEFAULT_TENANT};
use sightline_core::traces::TraceAppender;
use sightline_core::Labels;
use sightline_demo::history::History;
use sightline_ingest::otlp::proto::collector::trace::v1::ExportTraceServiceRequest;
use std::path::Path;

/// How far back the history goes.
pub const HISTORY_MS: i64 = 6 * 3600 * 1000;

/// Written into the data folder once its history is in, so a second
/// `sightline demo --data-dir DIR` does not import the same hours again
/// over what the first run stored.
pub const MARKER: &str = "demo-backfilled";

/// What the backfill wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Backfilled {
    pub samples: usize,
    pub log_lines: usize,
    pub spans: usize,
}

/// Generates `[now - 6h, now)` and writes it into `data_dir`. The history
/// labels its series with the default ports (`instance="127.0.0.1:9181"`);
/// they are rewritten to `ports` so backfilled and live series are the
/// same series.
pub fn run(
    data_dir: &Path,
    log_dir: &Path,
    ports: &Ports,
    now_ms: i64,
    seed: u64,
) -> anyhow::Result<Backfilled> {
    let history = sightline_demo::history::generate(now_ms - HISTORY_MS, now_ms, seed);
    let History {
        openmetrics,
        log_lines,
        spans,
    } = history;
    let mut done = Backfilled::default();
    let openmetrics = ports.substitute(&openmetrics);
    // An empty history (no samples) is no reason to refuse the demo.
    if openmetrics.lines().any(|l| !l.starts_with('#')) {
        let imported =
            crate::import::import_openmetrics(openmetrics.as_bytes(), "demo history", data_dir)?;
        done.samples = imported.samples;
    }
    done.log_lines = write_logs(&data_dir.join("logs"), log_dir, log_lines)?;
    done.spans = write_spans(&data_dir.join("traces"), spans)?;
    std::fs::write(data_dir.join(MARKER), format!("{now_ms}\n"))
        .with_context(|| format!("writing {}", data_dir.join(MARKER).display()))?;
    Ok(done)
}

/// The lines as the tailer would have stored them: the labels of the
/// provisioned `logs.scrape_configs` target of their service plus
/// `filename`, so the history and the live lines are one stream.
fn write_logs(
    store_dir: &Path,
    log_dir: &Path,
    lines: Vec<sightline_demo::history::LogLine>,
) -> anyhow::Result<usize> {
    if lines.is_empty() {
        return Ok(0);
    }
    let mut streams: Vec<LogStream> = sightline_demo::SERVICES
        .iter()
        .map(|s| LogStream {
            labels: Labels::from_pairs([
                (
                    "filename",
                    log_dir.join(format!("{s}.log")).display().to_string(),
                ),
                ("job", "shop".to_owned()),
                ("service", (*s).to_owned()),
            ]),
            entries: Vec::new(),
        })
        .collect();
    for l in lines {
        let Some(i) = sightline_demo::SERVICES
            .iter()
            .position(|s| *s == l.service)
        else {
            continue;
        };
        streams[i].entries.push(LogEntry {
            ts_ns: l.ts_ms.saturating_mul(1_000_000),
            line: l.line,
            metadata: Vec::new(),
        });
    }
    for s in &mut streams {
        s.entries.sort_by_key(|e| e.ts_ns);
    }
    // The push limits guard a server against its clients; this is the
    // server writing its own past, all at once.
    let opts = sightline_logstore::LogStoreOptions {
        per_stream_rate_limit: 0,
        ingestion_rate_limit: 0,
        ..Default::default()
    };
    let store = sightline_logstore::LogStore::open_without_maintenance(store_dir, opts)
        .map_err(|e| anyhow::anyhow!("opening the log store in {}: {e}", store_dir.display()))?;
    let report = store
        .append(DEFAULT_TENANT, streams)
        .map_err(|e| anyhow::anyhow!("backfilling logs: {e}"))?;
    if let Some(r) = report.refused.first() {
        tracing::warn!(refused = ?r, "some backfilled log lines were refused");
    }
    store
        .flush()
        .map_err(|e| anyhow::anyhow!("flushing backfilled logs: {e}"))?;
    Ok(report.accepted)
}

fn write_spans(
    store_dir: &Path,
    batches: Vec<sightline_ingest::otlp::proto::trace::v1::ResourceSpans>,
) -> anyhow::Result<usize> {
    if batches.is_empty() {
        return Ok(0);
    }
    let converted = sightline_ingest::otlp::traces::to_spans(ExportTraceServiceRequest {
        resource_spans: batches,
    });
    if converted.invalid > 0 {
        tracing::warn!(invalid = converted.invalid, first = %converted.message, "some backfilled spans were invalid");
    }
    let opts = sightline_tracestore::TraceStoreOptions {
        ingestion_rate_bytes: 0,
        max_traces_per_second: 0,
        ..Default::default()
    };
    let store = sightline_tracestore::TraceStore::open_without_maintenance(store_dir, opts)
        .map_err(|e| anyhow::anyhow!("opening the trace store in {}: {e}", store_dir.display()))?;
    let report = store
        .append(DEFAULT_TENANT, converted.spans)
        .map_err(|e| anyhow::anyhow!("backfilling spans: {e}"))?;
    if let Some(r) = report.refused.first() {
        tracing::warn!(refused = ?r, "some backfilled spans were refused");
    }
    store
        .flush()
        .map_err(|e| anyhow::anyhow!("flushing backfilled spans: {e}"))?;
    Ok(report.accepted)
}
