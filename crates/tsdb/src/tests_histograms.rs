//! Native histograms through the whole engine (issue 12): appends, the
//! WAL, head chunks, blocks, compaction and the merged querier.

use crate::chunk::histogram::tests::latency_series;
use crate::testutil::TempDir;
use crate::{Db, Options};
use sightline_core::histogram::{CounterResetHint, Span};
use sightline_core::{
    ErrorKind, FloatHistogram, HistogramSample, Labels, Matcher, MetricAppender, MetricQuerier,
};

fn opts(range: i64) -> Options {
    Options {
        block_range_ms: range,
        retention_time_ms: 0,
        maintenance_interval_ms: 0,
        ..Options::default()
    }
}

fn name(n: &str, i: usize) -> Labels {
    Labels::from_pairs([("__name__", n.to_string()), ("id", i.to_string())])
}

/// What a histogram means, whatever bucket layout a chunk gave it: the
/// non-empty buckets by index, the totals and the hint.
type Canon = (i64, u64, u64, u64, i32, Vec<(i32, u64)>, CounterResetHint);

fn canon(s: &HistogramSample) -> Canon {
    let h = &s.h;
    let buckets = h
        .positive_buckets()
        .filter(|b| b.count != 0.0)
        .map(|b| (b.index, b.count.to_bits()))
        .chain(
            h.negative_buckets()
                .filter(|b| b.count != 0.0)
                .map(|b| (-1000 - b.index, b.count.to_bits())),
        )
        .collect();
    (
        s.t,
        h.count.to_bits(),
        h.sum.to_bits(),
        h.zero_count.to_bits(),
        h.schema,
        buckets,
        h.counter_reset_hint,
    )
}

/// Every series of `db` in range: floats and canonical histograms.
#[allow(clippy::type_complexity)]
fn dump(db: &Db, mint: i64, maxt: i64) -> Vec<(Labels, Vec<(i64, u64)>, Vec<Canon>)> {
    db.select(
        &sightline_core::QueryContext::new(),
        mint,
        maxt,
        &[Matcher::new(sightline_core::MatchOp::Regex, "__name__", ".+").unwrap()],
    )
    .unwrap()
    .into_vec()
    .unwrap()
    .into_iter()
    .map(|s| {
        let f = s.samples.map(|x| (x.t, x.v.to_bits())).collect();
        let h = s
            .histograms
            .map(|h| h.map(|x| canon(&x)).collect())
            .unwrap_or_default();
        (s.labels, f, h)
    })
    .collect()
}

#[test]
fn histograms_survive_wal_replay_head_cuts_compaction_and_reopen() {
    let d = TempDir::new("db-hist");
    let range = 600_000;
    let o = opts(range);
    let db = Db::open(d.path(), o.clone()).unwrap();
    let series: Vec<Vec<HistogramSample>> = (0..3).map(|i| latency_series(i, 400)).collect();
    let t0 = series[0][0].t;
    let mut want: Vec<Vec<Canon>> = vec![Vec::new(); 4];
    let mut floats = Vec::new();
    for step in 0..400 {
        let mut app = db.appender();
        for (i, s) in series.iter().enumerate() {
            let mut x = s[step].clone();
            x.t = t0 + step as i64 * 15_000;
            app.append_histogram(0, &name("lat", i), x.t, &x.h).unwrap();
            x.h.counter_reset_hint = if step == 0 {
                CounterResetHint::Unknown
            } else {
                CounterResetHint::NotCounterReset
            };
            want[i].push(canon(&x));
        }
        // A series that switches from floats to histograms and back.
        let t = t0 + step as i64 * 15_000;
        if (100..200).contains(&step) {
            let mut x = series[0][step].clone();
            x.t = t;
            app.append_histogram(0, &name("switch", 9), t, &x.h)
                .unwrap();
            x.h.counter_reset_hint = if step == 100 {
                CounterResetHint::Unknown
            } else {
                CounterResetHint::NotCounterReset
            };
            want[3].push(canon(&x));
        } else {
            app.append(0, &name("switch", 9), t, step as f64).unwrap();
            floats.push((t, (step as f64).to_bits()));
        }
        app.commit().unwrap();
    }
    let check = |db: &Db, what: &str| {
        let got = dump(db, i64::MIN, i64::MAX);
        assert_eq!(got.len(), 4, "{what}");
        for i in 0..3 {
            assert!(got[i].1.is_empty(), "{what}");
            // Chunks cut at block boundaries restart hints as "not a reset".
            let g: Vec<Canon> = got[i].2.clone();
            assert_eq!(g.len(), want[i].len(), "{what}");
            for (a, b) in g.iter().zip(&want[i]) {
                assert_eq!(a, b, "{what} series {i}");
            }
        }
        assert_eq!(got[3].1, floats, "{what}");
        assert_eq!(got[3].2, want[3], "{what}");
        // A range inside the data.
        let lo = t0 + 150 * 15_000;
        let part = dump(db, lo, lo + 10 * 15_000);
        assert_eq!(part[0].2.len(), 11, "{what}");
        assert_eq!(part[3].2.len(), 11, "{what}");
        assert!(part[3].1.is_empty(), "{what}");
    };
    check(&db, "head");
    std::mem::forget(db);
    let db = Db::open(d.path(), o.clone()).unwrap();
    check(&db, "after WAL replay");
    db.run_maintenance_once().unwrap();
    let s = db.stats();
    assert!(s.head_truncations_total >= 3, "{s:?}");
    assert!(db.blocks().iter().any(|b| b.compaction.level > 1));
    check(&db, "blocks and head");
    drop(db);
    let db = Db::open(d.path(), o).unwrap();
    check(&db, "reopened after cuts");
    assert_eq!(db.stats().wal_corruptions_total, 0);
}

fn hist(count: f64) -> FloatHistogram {
    FloatHistogram {
        count,
        sum: count * 0.5,
        schema: 0,
        positive_spans: vec![Span {
            offset: 1,
            length: 1,
        }],
        positive_buckets: vec![count],
        ..Default::default()
    }
}

#[test]
fn out_of_order_duplicate_and_invalid_histograms_are_refused() {
    let d = TempDir::new("db-hist-rules");
    let db = Db::open(
        d.path(),
        Options {
            out_of_order_time_window_ms: 3_600_000,
            ..opts(7_200_000)
        },
    )
    .unwrap();
    let l = name("h", 1);
    let mut app = db.appender();
    app.append_histogram(0, &l, 10_000, &hist(1.0)).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    let e = app.append_histogram(0, &l, 5_000, &hist(1.0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfOrder);
    assert!(e.message().contains("not supported"), "{e}");
    // The same histogram again is fine; another one at that time is not.
    app.append_histogram(0, &l, 10_000, &hist(1.0)).unwrap();
    let e = app.append_histogram(0, &l, 10_000, &hist(2.0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DuplicateSample);
    // A float at the histogram's time is a duplicate; after it, fine.
    let e = app.append(0, &l, 10_000, 1.0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DuplicateSample);
    app.append(0, &l, 20_000, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    // A histogram older than the newest float: out of order.
    let e = app.append_histogram(0, &l, 15_000, &hist(3.0)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OutOfOrder);
    // Invalid histograms name what is wrong and the series.
    let bad = FloatHistogram {
        positive_buckets: vec![1.0, 2.0],
        ..hist(1.0)
    };
    let e = app.append_histogram(0, &l, 30_000, &bad).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadData);
    assert!(
        e.message()
            .contains("positive spans need 1 buckets, have 2"),
        "{e}"
    );
    assert!(e.message().contains("id=\"1\""), "{e}");
    // Staleness markers are stored and come back.
    app.append_histogram(0, &l, 30_000, &FloatHistogram::stale_marker())
        .unwrap();
    app.append_histogram(0, &l, 45_000, &hist(4.0)).unwrap();
    app.commit().unwrap();
    let s = db
        .select(
            &sightline_core::QueryContext::new(),
            0,
            100_000,
            &[Matcher::equal("__name__", "h")],
        )
        .unwrap()
        .into_vec()
        .unwrap();
    let s = s.into_iter().next().unwrap();
    let hs: Vec<HistogramSample> = s.histograms.unwrap().collect();
    assert_eq!(hs.len(), 3);
    assert!(hs[1].h.is_stale());
    assert_eq!(hs[2].h.count, 4.0);
    let fl: Vec<i64> = s.samples.map(|x| x.t).collect();
    assert_eq!(fl, vec![20_000]);
}

#[test]
fn float_only_series_carry_no_histogram_iterator() {
    let d = TempDir::new("db-hist-none");
    let db = Db::open(d.path(), opts(7_200_000)).unwrap();
    let mut app = db.appender();
    app.append(0, &name("f", 1), 1000, 1.0).unwrap();
    app.commit().unwrap();
    let s = db
        .select(&sightline_core::QueryContext::new(), 0, 2000, &[])
        .unwrap()
        .into_vec()
        .unwrap();
    assert!(s[0].histograms.is_none());
}
