//! Tests of the read side's contract (issue 13): `select` streams, and the
//! query context's deadline, cancellation and limits stop it early.

use crate::testutil::TempDir;
use crate::{Db, Options};
use sightline_core::{
    ErrorKind, Labels, Matcher, MetricAppender, MetricQuerier, QueryContext, QueryLimits,
};
use std::time::Instant;

const SERIES: usize = 300;
/// Samples per series: two full head chunks and a partial one, and (after
/// the cut) a block chunk.
const PER_SERIES: i64 = 300;
/// One sample every 10s; blocks are 1000s wide.
const STEP: i64 = 10_000;
const BLOCK: i64 = 1_000_000;

fn lbl(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m".to_string()), ("id", format!("{i:04}"))])
}

/// A db with `SERIES` series of `PER_SERIES` samples; the oldest part is
/// cut into a block, so a select merges the head and a block.
fn db(dir: &TempDir) -> std::sync::Arc<Db> {
    let o = Options {
        block_range_ms: BLOCK,
        retention_time_ms: 0,
        maintenance_interval_ms: 0,
        ..Options::default()
    };
    let db = Db::open(dir.path(), o).unwrap();
    for k in 0..PER_SERIES {
        let mut app = db.appender();
        for i in 0..SERIES {
            app.append(0, &lbl(i), k * STEP, k as f64).unwrap();
        }
        app.commit().unwrap();
    }
    db.run_maintenance_once().unwrap();
    assert!(
        !db.blocks().is_empty(),
        "the test wants a block and the head"
    );
    db
}

fn all() -> Vec<Matcher> {
    vec![Matcher::equal("__name__", "m")]
}

#[test]
fn select_yields_its_first_series_before_decoding_the_last() {
    let d = TempDir::new("q-stream");
    let db = db(&d);
    let ctx = QueryContext::new();
    let mut set = db.select(&ctx, 0, i64::MAX, &all()).unwrap();
    assert_eq!(
        ctx.samples_read(),
        0,
        "nothing decoded before the first pull"
    );
    let first = set.next().unwrap().unwrap();
    assert_eq!(first.labels, lbl(0));
    let after_first = ctx.samples_read();
    // The first series' first chunk (head or block): at most a few
    // hundred samples, far from all of them.
    assert!(
        after_first > 0 && after_first <= PER_SERIES as u64,
        "{after_first}"
    );
    let n = first.samples.count() as i64;
    assert_eq!(n, PER_SERIES);
    let one_series = ctx.samples_read();
    assert!(one_series < 2 * PER_SERIES as u64, "{one_series}");
    // Reading the rest charges the rest.
    let mut seen = 1;
    for s in set {
        let s = s.unwrap();
        assert_eq!(s.samples.count() as i64, PER_SERIES);
        seen += 1;
    }
    assert_eq!(seen, SERIES);
    assert!(ctx.samples_read() >= (SERIES as u64) * PER_SERIES as u64);
    assert!(ctx.bytes_read() > 0);
    ctx.check().unwrap();
}

#[test]
fn a_sample_limit_stops_the_read_with_prometheus_text() {
    let d = TempDir::new("q-limit");
    let db = db(&d);
    let limit = 10 * PER_SERIES as u64;
    let ctx = QueryContext::new().with_limits(QueryLimits {
        max_samples: limit,
        max_bytes: 0,
    });
    let mut err = None;
    let mut series = 0;
    for s in db.select(&ctx, 0, i64::MAX, &all()).unwrap() {
        match s {
            Ok(s) => {
                series += 1;
                s.samples.for_each(drop);
            }
            Err(e) => err = Some(e),
        }
    }
    let e = err.expect("the set ends with the limit error");
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    assert_eq!(
        e.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    assert!(
        series <= 11,
        "stopped after about ten series, read {series}"
    );
    // It stopped within a chunk or so of the limit, not after everything.
    assert!(ctx.samples_read() < limit + 2 * PER_SERIES as u64);
}

#[test]
fn a_byte_limit_stops_the_read() {
    let d = TempDir::new("q-bytes");
    let db = db(&d);
    let ctx = QueryContext::new().with_limits(QueryLimits {
        max_samples: 0,
        max_bytes: 1000,
    });
    let r: sightline_core::Result<Vec<usize>> = db
        .select(&ctx, 0, i64::MAX, &all())
        .unwrap()
        .map(|s| s.map(|s| s.samples.count()))
        .collect();
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    assert!(e.to_string().contains("too many bytes"), "{e}");
}

#[test]
fn cancel_stops_a_select_between_series() {
    let d = TempDir::new("q-cancel");
    let db = db(&d);
    let ctx = QueryContext::new();
    let mut set = db.select(&ctx, 0, i64::MAX, &all()).unwrap();
    for _ in 0..5 {
        set.next().unwrap().unwrap();
    }
    ctx.cancel();
    let read = ctx.samples_read();
    let e = set.next().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Canceled);
    assert_eq!(e.to_string(), "query was canceled in query execution");
    assert!(set.next().is_none());
    assert_eq!(ctx.samples_read(), read, "nothing read after the cancel");
}

#[test]
fn a_passed_deadline_reads_nothing() {
    let d = TempDir::new("q-deadline");
    let db = db(&d);
    let ctx = QueryContext::new().with_deadline(Instant::now());
    let e = db.select(&ctx, 0, i64::MAX, &all()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.to_string(), "query timed out in query execution");
    assert_eq!(ctx.samples_read(), 0);
    let e = db.label_names(&ctx, 0, i64::MAX, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
}

#[test]
fn series_streams_sorted_unique_labels_of_head_and_blocks() {
    let d = TempDir::new("q-series");
    let db = db(&d);
    let ctx = QueryContext::new();
    let got: Vec<Labels> = db
        .series(&ctx, 0, i64::MAX, &all())
        .unwrap()
        .collect::<sightline_core::Result<_>>()
        .unwrap();
    let want: Vec<Labels> = (0..SERIES).map(lbl).collect();
    assert_eq!(got, want);
    assert_eq!(ctx.samples_read(), 0, "series reads no samples");
}
