//! The store's self-telemetry, reported through
//! [`sightline_core::telemetry`] as `sightline_eventstore_*`.

use sightline_core::telemetry::Report;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters the store bumps as it works.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events written.
    pub events_appended: AtomicU64,
    /// Events dropped as retries of stored (source, messageId)s.
    pub duplicates: AtomicU64,
    /// Events handed to scan callbacks.
    pub events_scanned: AtomicU64,
    /// Row groups decompressed by scans.
    pub row_groups_read: AtomicU64,
    /// Row groups scans skipped by time, name or person.
    pub row_groups_skipped: AtomicU64,
    /// Head cuts into day blocks.
    pub head_cuts: AtomicU64,
    /// Merges of a day's blocks into one.
    pub compactions: AtomicU64,
    /// Blocks found damaged and set aside.
    pub blocks_corrupted: AtomicU64,
    /// Blocks deleted by retention.
    pub blocks_deleted: AtomicU64,
    /// Events exported.
    pub events_exported: AtomicU64,
}

/// Gauges computed at collection time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Gauges {
    pub head_events: u64,
    pub blocks: u64,
    pub block_events: u64,
    pub block_bytes: u64,
    pub wal_bytes: u64,
    pub wal_corruptions: u64,
    pub dedupe_keys: u64,
}

pub(crate) fn report(c: &Counters, g: Gauges, out: &mut Report) {
    let n = |a: &AtomicU64| a.load(Relaxed) as f64;
    let counters = [
        (
            "sightline_eventstore_events_appended",
            "Events written to the event store.",
            &c.events_appended,
        ),
        (
            "sightline_eventstore_duplicate_events",
            "Events dropped as retries of a stored (source, messageId).",
            &c.duplicates,
        ),
        (
            "sightline_eventstore_events_scanned",
            "Events handed to analytics by scans.",
            &c.events_scanned,
        ),
        (
            "sightline_eventstore_row_groups_read",
            "Row groups decompressed by scans.",
            &c.row_groups_read,
        ),
        (
            "sightline_eventstore_row_groups_skipped",
            "Row groups scans skipped by time, name or person without reading them.",
            &c.row_groups_skipped,
        ),
        (
            "sightline_eventstore_head_cuts",
            "Cuts of the head into day blocks.",
            &c.head_cuts,
        ),
        (
            "sightline_eventstore_compactions",
            "Merges of a day's blocks into one.",
            &c.compactions,
        ),
        (
            "sightline_eventstore_blocks_corrupted",
            "Blocks found damaged and set aside as <id>.corrupted.",
            &c.blocks_corrupted,
        ),
        (
            "sightline_eventstore_blocks_deleted",
            "Day blocks deleted by retention.",
            &c.blocks_deleted,
        ),
        (
            "sightline_eventstore_events_exported",
            "Events written by exports.",
            &c.events_exported,
        ),
    ];
    for (name, help, v) in counters {
        out.counter(name, help, n(v));
    }
    out.counter(
        "sightline_eventstore_wal_corruptions",
        "Damaged WAL records found at open; what followed each is set aside as <segment>.corrupted.",
        g.wal_corruptions as f64,
    );
    let gauges = [
        (
            "sightline_eventstore_head_events",
            "Events in the head, not yet in a block.",
            g.head_events,
        ),
        (
            "sightline_eventstore_blocks",
            "Day blocks on disk.",
            g.blocks,
        ),
        (
            "sightline_eventstore_block_events",
            "Events held in blocks.",
            g.block_events,
        ),
        (
            "sightline_eventstore_block_bytes",
            "Bytes of block files on disk.",
            g.block_bytes,
        ),
        (
            "sightline_eventstore_wal_bytes",
            "Bytes of WAL segments and checkpoints on disk.",
            g.wal_bytes,
        ),
        (
            "sightline_eventstore_dedupe_keys",
            "(source, messageId) keys held for de-duplication.",
            g.dedupe_keys,
        ),
    ];
    for (name, help, v) in gauges {
        out.gauge(name, help, v as f64);
    }
}
