//! Tests of the whole engine through the public API and the core traits,
//! with `sightline_core::MemStore` as the reference for what queries return.

use crate::testutil::{Rng, TempDir};
use crate::{BlockWriter, Db, Options};
use sightline_core::{
    ErrorKind, Labels, MatchOp, Matcher, MemStore, MetricAppender, MetricQuerier, Sample, STALE_NAN,
};
use std::sync::Arc;

pub(crate) fn opts(range: i64) -> Options {
    Options {
        block_range_ms: range,
        retention_time_ms: 0,
        maintenance_interval_ms: 0,
        ..Options::default()
    }
}

pub(crate) fn lbl(name: &str, i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", name.to_string()),
        ("instance", format!("host-{}", i % 7)),
        ("id", i.to_string()),
    ])
}

/// Every series and sample of `q` in `[mint, maxt]`, values as bits so NaNs compare.
pub(crate) fn dump(
    q: &dyn MetricQuerier,
    mint: i64,
    maxt: i64,
    ms: &[Matcher],
) -> Vec<(Labels, Vec<(i64, u64)>)> {
    q.select(&sightline_core::QueryContext::new(), mint, maxt, ms)
        .unwrap()
        .into_vec()
        .unwrap()
        .into_iter()
        .map(|s| (s.labels, s.samples.map(|x| (x.t, x.v.to_bits())).collect()))
        .collect()
}

pub(crate) fn append_all(db: &Db, data: &[(Labels, i64, f64)]) {
    let mut app = db.appender();
    for (l, t, v) in data {
        app.append(0, l, *t, *v).unwrap();
    }
    app.commit().unwrap();
}

#[test]
fn appended_samples_are_queryable_and_survive_reopen() {
    let d = TempDir::new("db-basic");
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    let mut app = db.appender();
    let a = lbl("up", 1);
    let r = app.append(0, &a, 1000, 1.0).unwrap();
    assert_eq!(app.append(r, &a, 2000, STALE_NAN).unwrap(), r);
    app.append(0, &lbl("up", 2), 1500, 3.0).unwrap();
    let st = app.commit().unwrap();
    assert_eq!((st.samples, st.series_created), (3, 2));
    let want = dump(&*db, 0, 10_000, &[Matcher::equal("__name__", "up")]);
    assert_eq!(want.len(), 2);
    assert_eq!(
        want[0].1,
        vec![(1000, 1f64.to_bits()), (2000, STALE_NAN.to_bits())]
    );
    // Simulate kill -9: no close, no fsync; the WAL was written at commit.
    std::mem::forget(db);
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    assert_eq!(
        dump(&*db, 0, 10_000, &[Matcher::equal("__name__", "up")]),
        want
    );
    assert_eq!(db.stats().head_series, 2);
    db.close().unwrap();
}

#[test]
fn prometheus_append_rules() {
    let d = TempDir::new("db-rules");
    let db = Db::open(d.path(), opts(10_000)).unwrap();
    let a = lbl("m", 0);
    append_all(&db, &[(a.clone(), 100_000, 1.0)]);
    let mut app = db.appender();
    assert_eq!(
        app.append(0, &a, 99_000, 1.0).unwrap_err().kind(),
        ErrorKind::OutOfOrder
    );
    assert_eq!(
        app.append(0, &a, 100_000, 2.0).unwrap_err().kind(),
        ErrorKind::DuplicateSample
    );
    app.append(0, &a, 100_000, 1.0).unwrap();
    // Older than max - range/2 is out of bounds, even for a new series.
    assert_eq!(
        app.append(0, &lbl("m", 1), 90_000, 1.0).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        app.append(0, &Labels::empty(), 1, 1.0).unwrap_err().kind(),
        ErrorKind::BadData
    );
    app.append(0, &a, 100_001, 5.0).unwrap();
    app.commit().unwrap();
    let s = db.stats();
    assert_eq!(
        (
            s.out_of_order_samples_total,
            s.duplicate_samples_total,
            s.out_of_bounds_samples_total
        ),
        (1, 1, 1)
    );
    assert_eq!(dump(&*db, 0, i64::MAX, &[]).len(), 1);
    // Rolled back transactions leave no samples.
    let mut app = db.appender();
    app.append(0, &a, 200_000, 1.0).unwrap();
    app.rollback();
    assert_eq!(dump(&*db, 0, i64::MAX, &[])[0].1.len(), 2);
}

#[test]
fn out_of_order_window_accepts_and_persists_old_samples() {
    let d = TempDir::new("db-ooo");
    let o = Options {
        out_of_order_time_window_ms: 60_000,
        ..opts(10_000)
    };
    let db = Db::open(d.path(), o.clone()).unwrap();
    let a = lbl("m", 0);
    append_all(&db, &[(a.clone(), 100_000, 1.0)]);
    append_all(&db, &[(a.clone(), 50_000, 0.5), (a.clone(), 99_000, 0.9)]);
    let mut app = db.appender();
    assert_eq!(
        app.append(0, &a, 30_000, 1.0).unwrap_err().kind(),
        ErrorKind::OutOfBounds
    );
    app.rollback();
    let want = vec![
        (50_000, 0.5f64.to_bits()),
        (99_000, 0.9f64.to_bits()),
        (100_000, 1f64.to_bits()),
    ];
    assert_eq!(dump(&*db, 0, i64::MAX, &[])[0].1, want);
    assert_eq!(db.stats().out_of_order_accepted_total, 2);
    drop(db);
    let db = Db::open(d.path(), o).unwrap();
    assert_eq!(dump(&*db, 0, i64::MAX, &[])[0].1, want);
    // Cutting the head moves them into (overlapping) blocks without loss.
    append_all(&db, &[(a.clone(), 130_000, 2.0)]);
    db.run_maintenance_once().unwrap();
    assert!(!db.blocks().is_empty());
    let got = dump(&*db, 0, i64::MAX, &[]);
    assert_eq!(got[0].1.len(), 4);
}

/// Random scrape-like data through head, blocks, compaction and reopen,
/// compared at every stage against `MemStore`.
#[test]
fn every_sample_survives_cuts_compaction_and_reopen() {
    let d = TempDir::new("db-prop");
    let range = 10_000;
    let o = opts(range);
    let db = Db::open(d.path(), o.clone()).unwrap();
    let reference = MemStore::new();
    let mut rng = Rng::new(42);
    let series: Vec<Labels> = (0..40)
        .map(|i| lbl(if i % 3 == 0 { "a" } else { "b" }, i))
        .collect();
    let mut t = 1_000_000i64;
    for round in 0..300 {
        t += 500 + rng.below(40) as i64;
        let mut app = db.appender();
        let mut ref_app = reference.appender();
        for (i, l) in series.iter().enumerate() {
            if rng.below(10) == 0 {
                continue;
            }
            let v = match i % 4 {
                0 => (round * 10 + i) as f64,
                1 => (rng.below(1000) as f64) / 100.0,
                2 => f64::from_bits(rng.next() >> 2),
                _ => {
                    if rng.below(20) == 0 {
                        STALE_NAN
                    } else {
                        -1.5
                    }
                }
            };
            let ts = t + rng.below(5) as i64;
            app.append(0, l, ts, v).unwrap();
            ref_app.append(0, l, ts, v).unwrap();
        }
        app.commit().unwrap();
        ref_app.commit().unwrap();
        if round % 50 == 49 {
            db.run_maintenance_once().unwrap();
        }
    }
    db.run_maintenance_once().unwrap();
    let s = db.stats();
    assert!(s.head_truncations_total > 5, "{s:?}");
    assert!(s.compactions_total > s.head_truncations_total, "{s:?}");
    assert!(db.blocks().iter().any(|b| b.compaction.level > 1));
    let check = |db: &Db| {
        for ms in [
            vec![],
            vec![Matcher::equal("__name__", "a")],
            vec![Matcher::new(MatchOp::Regex, "id", "1.*|2").unwrap()],
            vec![Matcher::new(MatchOp::NotEqual, "instance", "host-3").unwrap()],
        ] {
            for (lo, hi) in [
                (0, i64::MAX),
                (1_050_000, 1_090_000),
                (1_000_000, 1_010_000),
            ] {
                assert_eq!(
                    dump(db, lo, hi, &ms),
                    dump(&reference, lo, hi, &ms),
                    "{ms:?} [{lo}, {hi}]"
                );
            }
        }
    };
    check(&db);
    drop(db);
    let db = Db::open(d.path(), o).unwrap();
    check(&db);
    assert_eq!(db.stats().wal_corruptions_total, 0);
    // The WAL was truncated by checkpoints: only a few segments remain.
    let segs = std::fs::read_dir(d.path().join("wal")).unwrap().count();
    assert!(segs < 6, "{segs} WAL entries");
}

#[test]
fn label_names_and_values() {
    let d = TempDir::new("db-labels");
    let db = Db::open(d.path(), opts(10_000)).unwrap();
    append_all(
        &db,
        &[
            (lbl("a", 1), 1000, 1.0),
            (lbl("b", 2), 1000, 1.0),
            (
                Labels::from_pairs([("__name__", "c"), ("x", "y")]),
                1000,
                1.0,
            ),
        ],
    );
    append_all(&db, &[(lbl("a", 1), 30_000, 1.0)]);
    db.run_maintenance_once().unwrap();
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(
        db.label_names(&sightline_core::QueryContext::new(), 0, i64::MAX, &[])
            .unwrap(),
        vec!["__name__", "id", "instance", "x"]
    );
    assert_eq!(
        db.label_values(
            &sightline_core::QueryContext::new(),
            "__name__",
            0,
            i64::MAX,
            &[]
        )
        .unwrap(),
        vec!["a", "b", "c"]
    );
    assert_eq!(
        db.label_values(
            &sightline_core::QueryContext::new(),
            "id",
            0,
            i64::MAX,
            &[Matcher::equal("__name__", "b")]
        )
        .unwrap(),
        vec!["2"]
    );
    assert_eq!(
        db.label_names(
            &sightline_core::QueryContext::new(),
            0,
            i64::MAX,
            &[Matcher::equal("x", "y")]
        )
        .unwrap(),
        vec!["__name__", "x"]
    );
    // Only the head holds data after 20s.
    assert_eq!(
        db.label_values(
            &sightline_core::QueryContext::new(),
            "__name__",
            20_000,
            i64::MAX,
            &[]
        )
        .unwrap(),
        vec!["a"]
    );
    // Series lacking `x` match x="".
    let got = db
        .series(
            &sightline_core::QueryContext::new(),
            0,
            i64::MAX,
            &[Matcher::equal("x", "")],
        )
        .unwrap()
        .collect::<sightline_core::Result<Vec<_>>>()
        .unwrap();
    assert_eq!(got, vec![lbl("a", 1), lbl("b", 2)]);
}

#[test]
fn retention_by_time_and_size() {
    let d = TempDir::new("db-retention");
    let mut o = opts(10_000);
    o.retention_time_ms = 35_000;
    let db = Db::open(d.path(), o).unwrap();
    for t in (0..100_000).step_by(1000) {
        append_all(&db, &[(lbl("m", 0), t, t as f64)]);
    }
    db.run_maintenance_once().unwrap();
    let blocks = db.blocks();
    assert!(!blocks.is_empty());
    assert!(
        blocks.iter().all(|b| b.max_time > 99_000 - 35_000),
        "{blocks:?}"
    );
    assert!(db.stats().retention_deleted_blocks_total > 0);
    drop(db);

    let d = TempDir::new("db-retention-size");
    let db = Db::open(
        d.path(),
        Options {
            retention_time_ms: 200_000,
            ..opts(10_000)
        },
    )
    .unwrap();
    for t in (0..100_000).step_by(100) {
        let batch: Vec<_> = (0..20)
            .map(|i| (lbl("m", i), t, (t * i as i64) as f64 * 0.37))
            .collect();
        append_all(&db, &batch);
    }
    db.run_maintenance_once().unwrap();
    let before = db.blocks();
    let sizes = db.stats().blocks_size_bytes;
    drop(db);
    let mut o = opts(10_000);
    // Keeps compaction to 10s blocks (a tenth of retention caps ranges).
    o.retention_time_ms = 200_000;
    o.retention_size_bytes = db_wal_size(d.path()) + sizes / 2;
    let db = Db::open(d.path(), o).unwrap();
    db.run_maintenance_once().unwrap();
    let after = db.blocks();
    assert!(after.len() < before.len());
    assert_eq!(after.last(), before.last(), "the newest block is kept");
    assert!(db.stats().storage_size_bytes <= db_wal_size(d.path()) + sizes / 2 + 1);
}

fn db_wal_size(p: &std::path::Path) -> u64 {
    sightline_storage::dir::dir_size(&p.join("wal"))
}

#[test]
fn corrupted_block_is_set_aside_and_others_keep_serving() {
    let d = TempDir::new("db-corrupt");
    {
        let mut w = BlockWriter::new(d.path(), 10_000).unwrap();
        for t in 0..30_000i64 {
            if t % 100 == 0 {
                w.add(&lbl("m", 0), t, 1.0).unwrap();
            }
        }
        assert_eq!(w.finish().unwrap().len(), 3);
    }
    let mut dirs: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    // Flip a byte in the middle of one index: its checksum no longer matches.
    let ix = dirs[0].join("index");
    let mut b = std::fs::read(&ix).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x55;
    std::fs::write(&ix, b).unwrap();
    // Damage a chunk page of another: found when a query reads it.
    let ck = dirs[1].join("chunks/000001");
    let mut b = std::fs::read(&ck).unwrap();
    let n = b.len();
    b[n - 3] ^= 0xff;
    std::fs::write(&ck, b).unwrap();
    let db = Db::open(d.path(), opts(10_000)).unwrap();
    let s = db.stats();
    assert_eq!(s.blocks_loaded, 2);
    assert_eq!(s.corrupted_blocks.len(), 1);
    assert!(d.path().join(&s.corrupted_blocks[0]).is_dir());
    let got = dump(&*db, 0, i64::MAX, &[]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.len(), 100, "only the intact block's samples");
    let s = db.stats();
    assert_eq!(s.corrupted_blocks.len(), 2);
    assert_eq!(s.blocks_loaded, 1);
}

#[test]
fn backfilled_blocks_are_picked_up_closed_and_open() {
    let d = TempDir::new("db-backfill");
    let mut rng = Rng::new(7);
    let reference = MemStore::new();
    {
        let mut w = BlockWriter::new(d.path(), 10_000)
            .unwrap()
            .with_max_buffered_samples(500);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let (l, t) = (lbl("m", rng.below(10) as usize), rng.below(35_000) as i64);
            // Which of two flushes wins a timestamp is not defined.
            if !seen.insert((l.clone(), t)) {
                continue;
            }
            let v = rng.below(100) as f64;
            w.add(&l, t, v).unwrap();
            reference.add(l, t, v);
        }
        let metas = w.finish().unwrap();
        assert!(metas
            .iter()
            .all(|m| m.min_time % 10_000 == 0 && m.max_time - m.min_time == 10_000));
    }
    let db = Db::open(d.path(), opts(10_000)).unwrap();
    assert_eq!(
        dump(&*db, 0, i64::MAX, &[]),
        dump(&reference, 0, i64::MAX, &[])
    );
    // Overlapping flushes are merged by compaction, then the three 10s
    // blocks of the passed 30s window into one.
    db.run_maintenance_once().unwrap();
    assert_eq!(db.blocks().len(), 2);
    assert_eq!(
        dump(&*db, 0, i64::MAX, &[]),
        dump(&reference, 0, i64::MAX, &[])
    );
    let mut w = BlockWriter::new(d.path(), 10_000).unwrap();
    w.add(&lbl("late", 0), 5, 5.0).unwrap();
    w.finish().unwrap();
    db.run_maintenance_once().unwrap();
    assert_eq!(
        dump(&*db, 0, 10, &[Matcher::equal("__name__", "late")]).len(),
        1
    );
}

#[test]
fn concurrent_appenders_lose_nothing() {
    let d = TempDir::new("db-concurrent");
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    // Series 0..50 are shared by all threads; each thread also owns 20.
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || {
                for t in 0..200 {
                    let mut app = db.appender();
                    for i in 0..50 {
                        app.append(0, &lbl("c", i), t * 10 + k, 1.0).ok();
                    }
                    for i in 0..20 {
                        app.append(0, &lbl("own", 100 * (k as usize + 1) + i), t, k as f64)
                            .unwrap();
                    }
                    app.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let got = dump(&*db, 0, i64::MAX, &[]);
    assert_eq!(got.len(), 50 + 80);
    let s = db.stats();
    let total: usize = got.iter().map(|g| g.1.len()).sum();
    assert_eq!(total as u64, s.samples_appended_total);
    drop(db);
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    let again = dump(&*db, 0, i64::MAX, &[]);
    // Single-writer series replay exactly.
    let own = [Matcher::equal("__name__", "own")];
    assert_eq!(
        dump(&*db, 0, i64::MAX, &own),
        got.iter()
            .filter(|g| g.0.get("__name__") == Some("own"))
            .cloned()
            .collect::<Vec<_>>()
    );
    // Shared series keep every acknowledged sample (a replay may also keep
    // one that lost a race in the live head, as in Prometheus).
    for ((l1, s1), (l2, s2)) in got.iter().zip(&again) {
        assert_eq!(l1, l2);
        assert!(s1.iter().all(|x| s2.contains(x)), "{l1}");
    }
}

#[test]
fn chunks_are_cut_and_samples_decode_lazily() {
    let d = TempDir::new("db-chunks");
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    for t in 0..1000 {
        append_all(&db, &[(lbl("x", 0), t * 15_000 + (t % 5), t as f64)]);
    }
    assert_eq!(db.stats().head_chunks, 9);
    let got = db
        .select(
            &sightline_core::QueryContext::new(),
            15_000 * 500,
            15_000 * 510,
            &[],
        )
        .unwrap()
        .into_vec()
        .unwrap();
    let v: Vec<Sample> = got.into_iter().next().unwrap().samples.collect();
    assert_eq!(v.len(), 11);
    assert_eq!(v[0].v, 500.0);
}

#[test]
fn close_fsyncs_and_stats_report_the_head() {
    let d = TempDir::new("db-stats");
    let o = Options {
        wal_fsync_interval_ms: 3_600_000,
        ..opts(7_200_000)
    };
    let db = Db::open(d.path(), o).unwrap();
    append_all(&db, &[(lbl("a", 1), 5_000, 1.0), (lbl("a", 2), 9_000, 2.0)]);
    let s = db.stats();
    assert_eq!(
        (
            s.head_series,
            s.head_chunks,
            s.head_min_time,
            s.head_max_time
        ),
        (2, 2, 5_000, 9_000)
    );
    assert_eq!(s.samples_appended_total, 2);
    assert_eq!(s.wal_fsyncs_total, 0, "the timer is an hour away");
    assert!(s.wal_size_bytes > 0);
    db.close().unwrap();
    assert_eq!(db.stats().wal_fsyncs_total, 1);
    let mut app = db.appender();
    assert_eq!(
        app.append(0, &lbl("a", 1), 10_000, 1.0).unwrap_err().kind(),
        ErrorKind::Unavailable
    );
}
