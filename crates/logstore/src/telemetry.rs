//! The store's self-telemetry, reported through
//! [`sightline_core::telemetry`] as `sightline_logstore_*`.

use sightline_core::telemetry::{MetricKind, Report};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters the store bumps as it works.
#[derive(Debug, Default)]
pub struct Counters {
    pub lines_appended: AtomicU64,
    pub bytes_appended: AtomicU64,
    pub duplicates: AtomicU64,
    pub refused_too_far_behind: AtomicU64,
    pub refused_too_old: AtomicU64,
    pub refused_line_too_long: AtomicU64,
    pub refused_rate_limited: AtomicU64,
    pub refused_tenant_rate_limited: AtomicU64,
    pub refused_stream_limit: AtomicU64,
    /// Chunks a select passed over because their token filter ruled the
    /// searched strings out.
    pub chunks_skipped: AtomicU64,
    /// Chunks a select decompressed.
    pub chunks_read: AtomicU64,
    pub chunks_cut: AtomicU64,
    pub flushes: AtomicU64,
    pub compactions: AtomicU64,
    pub blocks_corrupted: AtomicU64,
    pub blocks_deleted: AtomicU64,
}

/// Gauges computed at collection time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Gauges {
    pub head_streams: u64,
    pub head_chunks: u64,
    pub head_open_bytes: u64,
    pub head_chunk_raw_bytes: u64,
    pub head_chunk_compressed_bytes: u64,
    pub blocks: u64,
    pub block_chunks: u64,
    pub block_raw_bytes: u64,
    pub block_bytes: u64,
    pub wal_bytes: u64,
    /// Damaged WAL records found at open (the tail from each set aside).
    pub wal_corruptions: u64,
}

pub(crate) fn report(c: &Counters, g: Gauges, out: &mut Report) {
    let n = |a: &AtomicU64| a.load(Relaxed) as f64;
    out.counter(
        "sightline_logstore_lines_appended",
        "Log lines written to the store.",
        n(&c.lines_appended),
    );
    out.counter(
        "sightline_logstore_bytes_appended",
        "Bytes of log line text written to the store.",
        n(&c.bytes_appended),
    );
    out.counter(
        "sightline_logstore_duplicate_lines",
        "Lines dropped as exact duplicates (same stream, time and text).",
        n(&c.duplicates),
    );
    let f = out.family(
        "sightline_logstore_lines_refused",
        "Lines refused, by reason.",
        MetricKind::Counter,
    );
    for (reason, v) in [
        ("too_far_behind", &c.refused_too_far_behind),
        ("too_old", &c.refused_too_old),
        ("line_too_long", &c.refused_line_too_long),
        ("stream_rate_limited", &c.refused_rate_limited),
        ("rate_limited", &c.refused_tenant_rate_limited),
        ("stream_limit", &c.refused_stream_limit),
    ] {
        f.point(&[("reason", reason)], n(v));
    }
    out.counter(
        "sightline_logstore_chunks_skipped_by_filter",
        "Chunks a query did not read because their token filter ruled the searched strings out.",
        n(&c.chunks_skipped),
    );
    out.counter(
        "sightline_logstore_chunks_read",
        "Chunks decompressed by queries.",
        n(&c.chunks_read),
    );
    out.counter(
        "sightline_logstore_chunks_cut",
        "Chunks compressed in the head.",
        n(&c.chunks_cut),
    );
    out.counter(
        "sightline_logstore_flushes",
        "Head flushes into blocks.",
        n(&c.flushes),
    );
    out.counter(
        "sightline_logstore_compactions",
        "Runs of small blocks merged into one.",
        n(&c.compactions),
    );
    out.counter(
        "sightline_logstore_blocks_corrupted",
        "Blocks found damaged and set aside.",
        n(&c.blocks_corrupted),
    );
    out.counter(
        "sightline_logstore_blocks_deleted",
        "Blocks deleted by retention.",
        n(&c.blocks_deleted),
    );
    let gauges = [
        (
            "sightline_logstore_head_streams",
            "Streams in the head.",
            g.head_streams,
        ),
        (
            "sightline_logstore_head_chunks",
            "Compressed chunks in the head, not yet in a block.",
            g.head_chunks,
        ),
        (
            "sightline_logstore_head_open_bytes",
            "Bytes of lines in the head's open (uncompressed) chunks.",
            g.head_open_bytes,
        ),
        (
            "sightline_logstore_head_chunk_raw_bytes",
            "Bytes of lines in the head's compressed chunks.",
            g.head_chunk_raw_bytes,
        ),
        (
            "sightline_logstore_head_chunk_compressed_bytes",
            "Compressed bytes of the head's chunks.",
            g.head_chunk_compressed_bytes,
        ),
        ("sightline_logstore_blocks", "Blocks on disk.", g.blocks),
        (
            "sightline_logstore_block_chunks",
            "Chunks in blocks.",
            g.block_chunks,
        ),
        (
            "sightline_logstore_block_raw_bytes",
            "Bytes of lines held in blocks.",
            g.block_raw_bytes,
        ),
        (
            "sightline_logstore_block_bytes",
            "Bytes of block files on disk.",
            g.block_bytes,
        ),
        (
            "sightline_logstore_wal_bytes",
            "Bytes of WAL segments and checkpoints on disk.",
            g.wal_bytes,
        ),
    ];
    out.counter(
        "sightline_logstore_wal_corruptions",
        "Damaged WAL records found at open; what followed each is set aside as <segment>.corrupted.",
        g.wal_corruptions as f64,
    );
    for (name, help, v) in gauges {
        out.gauge(name, help, v as f64);
    }
}
