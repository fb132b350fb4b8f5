//! Issue 13: a data directory written by release 0.1 (before the storage
//! primitives moved to `sightline-storage`) opens with this code and reads
//! back exactly the samples, native histograms and exemplars that were sent.
//!
//! `tests/fixtures/data-v0.1/` was made by `tests/fixtures/make_data_v0_1.py`
//! with the 0.1 `sightline` binary (see the fixture's README.md): two
//! imported blocks compacted into one, a head cut into a block with a WAL
//! checkpoint, and WAL segments after it. `expected.json` holds what the
//! script sent, computed from its inputs, never read back from Sightline.

use serde_json::Value;
use sightline_core::{Labels, Matcher, MetricQuerier};
use sightline_testkit::TempDir;
use sightline_tsdb::{Db, Options};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data-v0.1")
}

/// Copies the fixture's data directory to a fresh temporary one: opening
/// writes (a new WAL segment, `chunks_head/`), and the fixture must stay
/// as the old release left it.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn labels(v: &Value) -> Labels {
    let m = v.as_object().expect("labels object");
    Labels::from_pairs(
        m.iter()
            .map(|(k, v)| (k.as_str(), v.as_str().expect("label value"))),
    )
}

fn matchers(l: &Labels) -> Vec<Matcher> {
    l.iter()
        .map(|l| Matcher::equal(l.name.as_str(), l.value.as_str()))
        .collect()
}

/// A float of expected.json: written as text (Python's shortest round-trip
/// form), which `str::parse` reads to the exact double, or an integer.
fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().expect("a float as text"),
        _ => v.as_f64().expect("number"),
    }
}

fn spans(v: &Value) -> Vec<(i32, u32)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_i64().unwrap() as i32, s[1].as_u64().unwrap() as u32))
        .collect()
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

/// The block directories of the fixture with their compaction levels.
fn block_levels(data: &Path) -> Vec<u64> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(data).unwrap() {
        let p = e.unwrap().path().join("meta.json");
        if let Ok(b) = std::fs::read(&p) {
            let m: Value = serde_json::from_slice(&b).unwrap();
            out.push(m["compaction"]["level"].as_u64().unwrap());
        }
    }
    out
}

#[test]
fn data_written_by_release_0_1_reads_back_exactly() {
    let src = fixture();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(src.join("expected.json")).unwrap()).unwrap();

    // The fixture holds what the test claims to cover.
    let levels = block_levels(&src.join("data"));
    assert!(
        levels.iter().any(|&l| l >= 2),
        "a compacted block: {levels:?}"
    );
    let wal: Vec<String> = std::fs::read_dir(src.join("data/wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        wal.iter().any(|n| n.starts_with("checkpoint.")),
        "a checkpoint: {wal:?}"
    );
    assert!(
        wal.iter().any(|n| n.len() == 8),
        "segments after it: {wal:?}"
    );

    let tmp = TempDir::new("tsdb-data-v0.1");
    let data = tmp.path().join("data");
    copy_tree(&src.join("data"), &data);
    let opts = Options {
        maintenance_interval_ms: 0,
        ..Options::default()
    };
    let db = Db::open(&data, opts).unwrap();
    let stats = db.stats();
    assert_eq!(stats.wal_corruptions_total, 0);
    assert!(stats.corrupted_blocks.is_empty(), "{stats:?}");
    assert!(stats.blocks_loaded >= 2, "{stats:?}");

    let (mint, maxt) = (i64::MIN / 2, i64::MAX / 2);
    let mut checked = 0;
    for s in expected["floats"].as_array().unwrap() {
        let l = labels(&s["labels"]);
        let got = db
            .select(
                &sightline_core::QueryContext::new(),
                mint,
                maxt,
                &matchers(&l),
            )
            .unwrap()
            .into_vec()
            .unwrap();
        assert_eq!(got.len(), 1, "{l}");
        let got: Vec<(i64, u64)> = got
            .into_iter()
            .next()
            .unwrap()
            .samples
            .map(|s| (s.t, s.v.to_bits()))
            .collect();
        let want: Vec<(i64, u64)> = s["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_i64().unwrap(), num(&p[1]).to_bits()))
            .collect();
        assert_eq!(got.len(), want.len(), "{l}");
        assert_eq!(got, want, "{l}");
        checked += want.len();
    }

    for s in expected["histograms"].as_array().unwrap() {
        let l = labels(&s["labels"]);
        let got = db
            .select(
                &sightline_core::QueryContext::new(),
                mint,
                maxt,
                &matchers(&l),
            )
            .unwrap()
            .into_vec()
            .unwrap();
        assert_eq!(got.len(), 1, "{l}");
        let series = got.into_iter().next().unwrap();
        let got: Vec<_> = series.histograms.expect("histograms").collect();
        let want = s["samples"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{l}");
        for (g, w) in got.iter().zip(want) {
            let (t, h) = (w[0].as_i64().unwrap(), &w[1]);
            assert_eq!(g.t, t, "{l}");
            let gh = &g.h;
            let at = format!("{l} at {t}");
            assert_eq!(gh.schema as i64, h["schema"].as_i64().unwrap(), "{at}");
            assert_eq!(gh.zero_threshold, num(&h["zero_threshold"]), "{at}");
            assert_eq!(gh.zero_count, num(&h["zero_count"]), "{at}");
            assert_eq!(gh.count, num(&h["count"]), "{at}");
            assert_eq!(gh.sum, num(&h["sum"]), "{at}");
            let ps: Vec<(i32, u32)> = gh
                .positive_spans
                .iter()
                .map(|s| (s.offset, s.length))
                .collect();
            let ns: Vec<(i32, u32)> = gh
                .negative_spans
                .iter()
                .map(|s| (s.offset, s.length))
                .collect();
            assert_eq!(ps, spans(&h["positive_spans"]), "{at}");
            assert_eq!(ns, spans(&h["negative_spans"]), "{at}");
            assert_eq!(gh.positive_buckets, nums(&h["positive_buckets"]), "{at}");
            assert_eq!(gh.negative_buckets, nums(&h["negative_buckets"]), "{at}");
        }
        checked += want.len();
    }

    for s in expected["exemplars"].as_array().unwrap() {
        let l = labels(&s["series"]);
        let got = db
            .select_exemplars(
                &sightline_core::QueryContext::new(),
                mint,
                maxt,
                &[matchers(&l)],
            )
            .unwrap();
        assert_eq!(got.len(), 1, "{l}");
        let got: Vec<(i64, Labels, u64)> = got[0]
            .exemplars
            .iter()
            .map(|e| {
                (
                    e.timestamp.expect("timestamp"),
                    e.labels.clone(),
                    e.value.to_bits(),
                )
            })
            .collect();
        let want: Vec<(i64, Labels, u64)> = s["exemplars"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_i64().unwrap(), labels(&e[1]), num(&e[2]).to_bits()))
            .collect();
        assert_eq!(got, want, "{l}");
        checked += want.len();
    }
    assert!(checked > 2000, "only {checked} points checked");
    db.close().unwrap();
}
