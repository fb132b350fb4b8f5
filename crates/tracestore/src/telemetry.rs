//! The store's self-telemetry, reported through
//! [`sightline_core::telemetry`] as `sightline_tracestore_*`.

use sightline_core::telemetry::{MetricKind, Report};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters the store bumps as it works.
#[derive(Debug, Default)]
pub struct Counters {
    pub spans_appended: AtomicU64,
    pub bytes_appended: AtomicU64,
    pub refused_rate_limited: AtomicU64,
    pub refused_trace_rate_limited: AtomicU64,
    pub refused_span_too_large: AtomicU64,
    pub refused_trace_too_large: AtomicU64,
    pub refused_too_old: AtomicU64,
    pub flushes: AtomicU64,
    pub compactions: AtomicU64,
    pub blocks_corrupted: AtomicU64,
    pub blocks_deleted: AtomicU64,
    /// Blocks a scan passed over by their meta and tag table.
    pub blocks_skipped: AtomicU64,
    /// Blocks a scan read column groups of.
    pub blocks_scanned: AtomicU64,
    /// Blocks a trace-by-id lookup ruled out by their bloom filter.
    pub bloom_skips: AtomicU64,
    /// Column groups decompressed by trace-by-id lookups.
    pub trace_lookups_read: AtomicU64,
}

/// Gauges computed at collection time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Gauges {
    pub head_traces: u64,
    pub head_spans: u64,
    pub head_bytes: u64,
    pub blocks: u64,
    pub block_spans: u64,
    pub block_bytes: u64,
    pub wal_bytes: u64,
    /// Damaged WAL records found at open (the tail from each set aside).
    pub wal_corruptions: u64,
}

pub(crate) fn report(c: &Counters, g: Gauges, out: &mut Report) {
    let n = |a: &AtomicU64| a.load(Relaxed) as f64;
    out.counter(
        "sightline_tracestore_spans_appended",
        "Spans written to the trace store.",
        n(&c.spans_appended),
    );
    out.counter(
        "sightline_tracestore_bytes_appended",
        "Bytes of spans (as their size limits count them) written to the trace store.",
        n(&c.bytes_appended),
    );
    let f = out.family(
        "sightline_tracestore_spans_refused",
        "Spans refused, by reason.",
        MetricKind::Counter,
    );
    for (reason, v) in [
        ("rate_limited", &c.refused_rate_limited),
        ("trace_rate_limited", &c.refused_trace_rate_limited),
        ("span_too_large", &c.refused_span_too_large),
        ("trace_too_large", &c.refused_trace_too_large),
        ("too_old", &c.refused_too_old),
    ] {
        f.point(&[("reason", reason)], n(v));
    }
    for (name, help, v) in [
        (
            "sightline_tracestore_flushes",
            "Head cuts into blocks.",
            &c.flushes,
        ),
        (
            "sightline_tracestore_compactions",
            "Runs of small blocks merged into one.",
            &c.compactions,
        ),
        (
            "sightline_tracestore_blocks_corrupted",
            "Blocks found damaged and set aside.",
            &c.blocks_corrupted,
        ),
        (
            "sightline_tracestore_blocks_deleted",
            "Blocks deleted by retention.",
            &c.blocks_deleted,
        ),
        (
            "sightline_tracestore_blocks_skipped",
            "Blocks a search passed over by their time range, dictionaries and tag table.",
            &c.blocks_skipped,
        ),
        (
            "sightline_tracestore_blocks_scanned",
            "Blocks a search read column groups of.",
            &c.blocks_scanned,
        ),
        (
            "sightline_tracestore_bloom_skips",
            "Blocks a trace-by-id lookup ruled out by their bloom filter.",
            &c.bloom_skips,
        ),
        (
            "sightline_tracestore_trace_lookup_groups_read",
            "Column groups decompressed by trace-by-id lookups.",
            &c.trace_lookups_read,
        ),
    ] {
        out.counter(name, help, n(v));
    }
    for (name, help, v) in [
        (
            "sightline_tracestore_head_traces",
            "Traces in the head.",
            g.head_traces,
        ),
        (
            "sightline_tracestore_head_spans",
            "Spans in the head.",
            g.head_spans,
        ),
        (
            "sightline_tracestore_head_bytes",
            "Bytes of encoded spans in the head.",
            g.head_bytes,
        ),
        ("sightline_tracestore_blocks", "Blocks on disk.", g.blocks),
        (
            "sightline_tracestore_block_spans",
            "Spans in blocks.",
            g.block_spans,
        ),
        (
            "sightline_tracestore_block_bytes",
            "Bytes of block files on disk.",
            g.block_bytes,
        ),
        (
            "sightline_tracestore_wal_bytes",
            "Bytes of WAL segments and checkpoints on disk.",
            g.wal_bytes,
        ),
    ] {
        out.gauge(name, help, v as f64);
    }
    out.counter(
        "sightline_tracestore_wal_corruptions",
        "Damaged WAL records found at open; what followed each is set aside as <segment>.corrupted.",
        g.wal_corruptions as f64,
    );
}
