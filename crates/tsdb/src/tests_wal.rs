//! Engine tests of the write-ahead log and the head's life cycle: torn
//! tails, truncation with open transactions, mapped head chunks, older
//! checkpoints and exemplars across reopen.

use crate::tests::{append_all, dump, lbl, opts};
use crate::testutil::TempDir;
use crate::Db;
use sightline_core::{ErrorKind, Labels, Matcher, MemStore, MetricAppender, MetricQuerier};
use std::sync::Arc;

#[test]
fn torn_wal_tail_is_repaired_on_open() {
    let d = TempDir::new("db-torn");
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    for t in 0..10 {
        append_all(&db, &[(lbl("m", 0), t * 1000, t as f64)]);
    }
    std::mem::forget(db);
    // Half a record at the end, as a kill -9 during write(2) would leave.
    let seg = d.path().join("wal").join("00000001");
    let mut b = std::fs::read(&seg).unwrap();
    let n = b.len();
    b.extend_from_within(n - 20..n - 5);
    std::fs::write(&seg, &b).unwrap();
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    assert_eq!(db.stats().wal_corruptions_total, 1);
    assert_eq!(dump(&*db, 0, i64::MAX, &[])[0].1.len(), 10);
    append_all(&db, &[(lbl("m", 0), 20_000, 1.0)]);
    drop(db);
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    assert_eq!(db.stats().wal_corruptions_total, 0);
    assert_eq!(dump(&*db, 0, i64::MAX, &[])[0].1.len(), 11);
}

#[test]
fn head_truncation_keeps_series_of_open_transactions() {
    let d = TempDir::new("db-pending");
    let db = Db::open(d.path(), opts(10_000)).unwrap();
    append_all(&db, &[(lbl("a", 0), 0, 1.0)]);
    append_all(&db, &[(lbl("a", 0), 20_000, 1.0)]);
    let mut app = db.appender();
    app.append(0, &lbl("b", 0), 20_001, 2.0).unwrap();
    // The new series holds no sample yet; the cut must not drop it.
    db.run_maintenance_once().unwrap();
    assert_eq!(db.stats().head_truncations_total, 1);
    app.commit().unwrap();
    let got = dump(&*db, 0, i64::MAX, &[Matcher::equal("__name__", "b")]);
    assert_eq!(got.len(), 1);
    drop(db);
    let db = Db::open(d.path(), opts(10_000)).unwrap();
    assert_eq!(
        dump(&*db, 0, i64::MAX, &[Matcher::equal("__name__", "b")]),
        got
    );
    // A rolled-back creation is released and collected at the next cut.
    let mut app = db.appender();
    app.append(0, &lbl("c", 0), 20_002, 2.0).unwrap();
    app.rollback();
    append_all(&db, &[(lbl("a", 0), 40_000, 1.0)]);
    db.run_maintenance_once().unwrap();
    assert!(db
        .series(
            &sightline_core::QueryContext::new(),
            0,
            i64::MAX,
            &[Matcher::equal("__name__", "c")]
        )
        .unwrap()
        .collect::<sightline_core::Result<Vec<_>>>()
        .unwrap()
        .is_empty());
    // `b` moved to a block with that cut; only `a` is left in the head.
    assert_eq!(db.stats().head_series, 1);
    assert_eq!(
        dump(&*db, 0, i64::MAX, &[Matcher::equal("__name__", "b")]),
        got
    );
}

#[test]
fn closed_head_chunks_live_in_mapped_files_and_come_back_after_reopen() {
    let d = TempDir::new("db-chunk-files");
    let o = opts(7_200_000);
    let db = Db::open(d.path(), o.clone()).unwrap();
    let reference = MemStore::new();
    let series: Vec<Labels> = (0..20).map(|i| lbl("m", i)).collect();
    // 500 samples a series: four closed chunks of 120 and an open one.
    for k in 0..500i64 {
        let mut app = db.appender();
        let mut ref_app = reference.appender();
        for (i, l) in series.iter().enumerate() {
            let v = (k * (i as i64 + 1)) as f64 / 3.0;
            app.append(0, l, 1_000_000 + k * 1000, v).unwrap();
            ref_app.append(0, l, 1_000_000 + k * 1000, v).unwrap();
        }
        app.commit().unwrap();
        ref_app.commit().unwrap();
    }
    let dir = d.path().join("chunks_head");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // Sparse: the file's blocks hold only what was written.
    let meta = std::fs::metadata(dir.join("000001")).unwrap();
    let on_disk = std::os::unix::fs::MetadataExt::blocks(&meta) as usize * 512;
    assert!(on_disk > 0 && on_disk < 1 << 20, "{on_disk}");
    // Closed chunks cost no heap: what is left (open chunks, 20 samples
    // each, and labels) is well under the four closed chunks per series.
    let heap = db.head_heap_estimate().0;
    assert!(
        heap * 2 < on_disk,
        "{heap} heap bytes, {on_disk} in the file"
    );
    assert_eq!(
        dump(&*db, 0, i64::MAX, &[]),
        dump(&reference, 0, i64::MAX, &[])
    );
    drop(db);
    // The files are rebuilt from the WAL, not trusted: a stale one is ignored.
    std::fs::write(d.path().join("chunks_head").join("000009"), b"junk").unwrap();
    let db = Db::open(d.path(), o).unwrap();
    assert!(!d.path().join("chunks_head").join("000009").exists());
    assert_eq!(
        dump(&*db, 0, i64::MAX, &[]),
        dump(&reference, 0, i64::MAX, &[])
    );
}

/// Checkpoints written before the head moved to encoding 3 hold XOR chunks
/// (record type 4); a data directory with one must open with every sample.
#[test]
fn xor_chunks_in_an_older_checkpoint_are_replayed() {
    let d = TempDir::new("db-xor-wal");
    let l = lbl("m", 1);
    let samples: Vec<(i64, f64)> = (0..130)
        .map(|k| (1_000 + k * 1000, k as f64 / 3.0))
        .collect();
    {
        let wal = crate::wal::open(&d.path().join("wal"), 1 << 20, Arc::default(), |_| {}).unwrap();
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        crate::wal::encode_series(&mut out, &mut scratch, [(7, &l)]);
        // Two chunks, as a cut head would have: 120 samples, then 10.
        let chunks: Vec<Vec<u8>> = samples
            .chunks(120)
            .map(|part| {
                let mut a = crate::chunk::xor::XorAppender::new();
                for (t, v) in part {
                    a.append(*t, *v);
                }
                a.bytes().to_vec()
            })
            .collect();
        crate::wal::encode_xor_chunks_for_test(&mut out, &[(7, &chunks[0]), (7, &chunks[1])]);
        wal.log(&out).unwrap();
    }
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    let got = dump(&*db, 0, i64::MAX, &[]);
    let want: Vec<(i64, u64)> = samples.iter().map(|(t, v)| (*t, v.to_bits())).collect();
    assert_eq!(got, vec![(l, want)]);
}

#[test]
fn exemplars_are_kept_through_reopen_and_checkpoints() {
    // issue 12: exemplars in the ring, through the WAL and its checkpoints.
    use sightline_core::Exemplar;
    let d = TempDir::new("db-exemplars");
    let range = 10_000;
    let db = Db::open(d.path(), opts(range)).unwrap();
    let a = lbl("a", 1);
    let ex = |trace: &str, v: f64, t: Option<i64>| Exemplar {
        labels: Labels::from_pairs([("trace_id", trace), ("empty", "")]),
        value: v,
        timestamp: t,
    };
    let mut t = 1_000_000i64;
    for i in 0..60 {
        t += 1000;
        let mut app = db.appender();
        let r = app.append(0, &a, t, i as f64).unwrap();
        // Without a timestamp: the sample's. Repeated unchanged: stored once.
        app.append_exemplar(r, &a, &ex("same", 1.0, None)).unwrap();
        if i % 10 == 0 {
            app.append_exemplar(r, &a, &ex(&i.to_string(), i as f64, Some(t)))
                .unwrap();
        }
        app.commit().unwrap();
        if i == 30 {
            db.run_maintenance_once().unwrap();
        }
    }
    // Older than the newest: refused at append.
    let mut app = db.appender();
    let r = app.append(0, &a, t + 1000, 0.0).unwrap();
    let e = app
        .append_exemplar(r, &a, &ex("old", 9.0, Some(1)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfOrder);
    let long = "x".repeat(130);
    let e = app
        .append_exemplar(r, &a, &ex(&long, 9.0, Some(t + 1000)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadData);
    app.commit().unwrap();
    db.run_maintenance_once().unwrap();
    assert!(db.stats().head_truncations_total > 0);

    let all = vec![Matcher::equal("__name__", "a")];
    let got = db
        .select_exemplars(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            std::slice::from_ref(&all),
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    let traces: Vec<&str> = got[0]
        .exemplars
        .iter()
        .map(|e| e.labels.get("trace_id").unwrap())
        .collect();
    // As in Prometheus, only the newest exemplar is compared with: "same"
    // is stored again after each other one, and "0", at the same time as
    // the "same" before it, was out of order.
    assert_eq!(
        traces,
        ["same", "10", "same", "20", "same", "30", "same", "40", "same", "50", "same"]
    );
    // The empty label went, as Prometheus drops empty labels.
    assert_eq!(got[0].exemplars[0].labels.len(), 1);
    assert_eq!(got[0].exemplars[0].timestamp, Some(1_001_000));
    assert_eq!(db.exemplar_stats().in_storage, 11);
    drop(db);
    let db = Db::open(d.path(), opts(range)).unwrap();
    assert_eq!(
        db.select_exemplars(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            std::slice::from_ref(&all)
        )
        .unwrap(),
        got
    );
    // A smaller ring keeps the newest.
    db.set_max_exemplars(2);
    let kept = db
        .select_exemplars(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[all],
        )
        .unwrap();
    assert_eq!(kept[0].exemplars, got[0].exemplars[9..]);
}
