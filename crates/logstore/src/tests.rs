//! Store tests: round trips through head, blocks and WAL replay, limits,
//! label APIs, tenants, damage and retention. The token filter's random
//! test is in `tests_filter.rs`, the `kill -9` test in `tests_kill.rs`.

use crate::{LogStore, LogStoreOptions};
use sightline_core::duration::Duration;
use sightline_core::logs::{LogAppender, LogEntry, LogHints, LogQuerier, LogRefusal, LogStream};
use sightline_core::{Labels, Matcher};
use sightline_testkit::TempDir;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

mod filter_random;
mod kill;

/// Options for tests: no wall-clock or rate limits, small chunks so a few
/// hundred lines make many of them.
pub(crate) fn opts() -> LogStoreOptions {
    LogStoreOptions {
        reject_old_samples_max_age: Duration::from_secs(0),
        per_stream_rate_limit: 0,
        chunk_target_size: 600,
        ..LogStoreOptions::default()
    }
}

pub(crate) fn open(dir: &Path, o: LogStoreOptions) -> LogStore {
    LogStore::open_without_maintenance(dir, o).unwrap()
}

pub(crate) fn entry(ts: i64, line: impl Into<String>) -> LogEntry {
    LogEntry {
        ts_ns: ts,
        line: line.into(),
        metadata: vec![],
    }
}

pub(crate) fn push(s: &LogStore, tenant: &str, labels: &Labels, entries: Vec<LogEntry>) {
    let r = s
        .append(
            tenant,
            vec![LogStream {
                labels: labels.clone(),
                entries,
            }],
        )
        .unwrap();
    assert!(r.refused.is_empty(), "{:?}", r.refused);
}

pub(crate) fn read(
    s: &LogStore,
    tenant: &str,
    m: &[Matcher],
    start: i64,
    end: i64,
    hints: &LogHints,
) -> Vec<(Labels, Vec<LogEntry>)> {
    s.select(tenant, m, start, end, hints)
        .unwrap()
        .into_iter()
        .map(|x| (x.labels, x.entries.map(|e| e.unwrap()).collect()))
        .collect()
}

fn lines_of(s: &LogStore, start: i64, end: i64, backward: bool) -> Vec<i64> {
    let h = LogHints {
        backward,
        ..LogHints::default()
    };
    let got = read(s, "t", &[Matcher::equal("app", "a")], start, end, &h);
    assert!(got.len() <= 1);
    got.into_iter()
        .flat_map(|(_, e)| e.into_iter().map(|e| e.ts_ns))
        .collect()
}

#[test]
fn lines_come_back_in_order_from_head_blocks_and_late_lines() {
    let d = TempDir::new("logstore-roundtrip");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    // 300 lines 10 ns apart; chunks of ~600 bytes hold ~20 lines each.
    let line = |ts: i64| format!("ts={ts} msg=\"request handled\" status=200");
    let mut want: Vec<i64> = Vec::new();
    for ts in (1..=150).map(|i| i * 10) {
        push(&s, "t", &a, vec![entry(ts, line(ts))]);
        want.push(ts);
    }
    s.flush().unwrap();
    assert_eq!(s.block_count(), 1);
    for ts in (151..=300).map(|i| i * 10) {
        push(&s, "t", &a, vec![entry(ts, line(ts))]);
        want.push(ts);
    }
    // Late lines for the range already in the block.
    for ts in [55, 1005, 1495] {
        push(&s, "t", &a, vec![entry(ts, line(ts))]);
        want.push(ts);
    }
    want.sort();
    let check = |s: &LogStore| {
        for (lo, hi) in [
            (i64::MIN, i64::MAX),
            (10, 10),
            (55, 1500),
            (1495, 1510),
            (200, 200),
            (205, 209),
            (2990, 3000),
            (3001, 4000),
        ] {
            let fw: Vec<i64> = want
                .iter()
                .copied()
                .filter(|t| *t >= lo && *t <= hi)
                .collect();
            assert_eq!(lines_of(s, lo, hi, false), fw, "forward [{lo}, {hi}]");
            let mut bw = fw.clone();
            bw.reverse();
            assert_eq!(lines_of(s, lo, hi, true), bw, "backward [{lo}, {hi}]");
        }
    };
    check(&s);
    // Replay from the WAL gives the same head.
    drop(s);
    let s = open(d.path(), opts());
    check(&s);
    s.flush().unwrap();
    assert_eq!(s.block_count(), 2);
    check(&s);
    drop(s);
    let s = open(d.path(), opts());
    check(&s);
    // Metadata survives blocks.
    let m = Labels::from_pairs([("app", "m")]);
    push(
        &s,
        "t",
        &m,
        vec![LogEntry {
            ts_ns: 7,
            line: "x".into(),
            metadata: vec![("trace_id".into(), "abc".into())],
        }],
    );
    s.flush().unwrap();
    let got = read(
        &s,
        "t",
        &[Matcher::equal("app", "m")],
        0,
        9,
        &LogHints::default(),
    );
    assert_eq!(
        got[0].1[0].metadata,
        vec![("trace_id".into(), "abc".into())]
    );
}

#[test]
fn a_limited_backward_read_decompresses_only_the_newest_chunks() {
    let d = TempDir::new("logstore-lazy");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    for i in 0..2000i64 {
        push(
            &s,
            "t",
            &a,
            vec![entry(i, format!("line number {i} of many"))],
        );
    }
    s.flush().unwrap();
    let before = s.counters().chunks_read.load(Relaxed);
    let h = LogHints {
        backward: true,
        limit: Some(5),
        ..LogHints::default()
    };
    let mut series = s
        .select("t", &[Matcher::equal("app", "a")], 0, i64::MAX, &h)
        .unwrap();
    let got: Vec<i64> = series[0]
        .entries
        .by_ref()
        .take(5)
        .map(|e| e.unwrap().ts_ns)
        .collect();
    assert_eq!(got, [1999, 1998, 1997, 1996, 1995]);
    let read = s.counters().chunks_read.load(Relaxed) - before;
    assert!(read <= 2, "{read} chunks decompressed for 5 lines");
}

#[test]
fn out_of_order_duplicates_and_limits_are_loki_s() {
    let d = TempDir::new("logstore-limits");
    let a = Labels::from_pairs([("app", "a")]);
    let o = LogStoreOptions {
        out_of_order_window: Duration::from_millis(0),
        max_line_size: 10,
        max_streams_per_tenant: 1,
        ..opts()
    };
    let mut o = o;
    // A 1 µs window, in ns: 1000.
    o.out_of_order_window = Duration(std::time::Duration::from_nanos(1000));
    let s = open(d.path(), o.clone());
    let r = s
        .append(
            "t",
            vec![LogStream {
                labels: a.clone(),
                entries: vec![
                    entry(5000, "new"),
                    entry(4500, "late"),
                    entry(3000, "too late"),
                    entry(4500, "late"),
                    entry(4500, "late too"),
                    entry(5000, "new"),
                    entry(6000, "far too long line"),
                ],
            }],
        )
        .unwrap();
    assert_eq!((r.accepted, r.duplicates), (3, 2));
    assert_eq!(
        r.refused,
        vec![
            LogRefusal::TooFarBehind {
                labels: a.clone(),
                ts_ns: 3000
            },
            LogRefusal::LineTooLong {
                labels: a.clone(),
                bytes: 17,
                limit: 10
            },
        ]
    );
    // A duplicate of a line from an earlier push is dropped too.
    let r = s
        .append(
            "t",
            vec![LogStream {
                labels: a.clone(),
                entries: vec![entry(4500, "late")],
            }],
        )
        .unwrap();
    assert_eq!((r.accepted, r.duplicates), (0, 1));
    // A second stream is over the tenant's limit of one.
    let b = Labels::from_pairs([("app", "b")]);
    let r = s
        .append(
            "t",
            vec![LogStream {
                labels: b.clone(),
                entries: vec![entry(1, "x")],
            }],
        )
        .unwrap();
    assert_eq!(
        r.refused,
        vec![LogRefusal::StreamLimit {
            labels: b,
            limit: 1
        }]
    );
    assert_eq!(lines_of(&s, 0, i64::MAX, false), [4500, 4500, 5000]);
    // Rate limit: 100 bytes/s with a burst of 100.
    let o = LogStoreOptions {
        per_stream_rate_limit: 100,
        per_stream_rate_limit_burst: 100,
        max_line_size: 0,
        ..opts()
    };
    let d2 = TempDir::new("logstore-rate");
    let s = open(d2.path(), o);
    push(&s, "t", &a, vec![entry(1, "x".repeat(90))]);
    let r = s
        .append(
            "t",
            vec![LogStream {
                labels: a.clone(),
                entries: vec![entry(2, "y".repeat(90))],
            }],
        )
        .unwrap();
    assert_eq!(
        r.refused,
        vec![LogRefusal::StreamRateLimited { labels: a.clone() }]
    );
    assert_eq!(r.accepted, 0);
    // The tenant's rate: 100 bytes/s with a burst of 100, over all streams.
    let d4 = TempDir::new("logstore-tenant-rate");
    let s = open(
        d4.path(),
        LogStoreOptions {
            ingestion_rate_limit: 100,
            ingestion_burst_size: 100,
            max_line_size: 0,
            ..opts()
        },
    );
    push(&s, "t", &a, vec![entry(1, "x".repeat(60))]);
    let r = s
        .append(
            "t",
            vec![LogStream {
                labels: Labels::from_pairs([("app", "other")]),
                entries: vec![entry(2, "y".repeat(60))],
            }],
        )
        .unwrap();
    assert_eq!(
        r.refused,
        vec![LogRefusal::RateLimited {
            limit_bytes_per_s: 100
        }]
    );
    assert_eq!(r.accepted, 0);
    // Another tenant has its own bucket.
    push(&s, "u", &a, vec![entry(1, "z".repeat(60))]);
    // Too old for `reject_old_samples_max_age` (1 week by default).
    let d3 = TempDir::new("logstore-old");
    let s = open(
        d3.path(),
        LogStoreOptions {
            reject_old_samples_max_age: Duration::from_secs(3600),
            ..opts()
        },
    );
    let r = s
        .append(
            "t",
            vec![LogStream {
                labels: a.clone(),
                entries: vec![entry(1, "ancient")],
            }],
        )
        .unwrap();
    assert_eq!(
        r.refused,
        vec![LogRefusal::TooOld {
            labels: a,
            ts_ns: 1
        }]
    );
}

#[test]
fn label_apis_and_tenants() {
    let d = TempDir::new("logstore-labels");
    let s = open(d.path(), opts());
    let a = Labels::from_pairs([("app", "a"), ("env", "prod")]);
    let b = Labels::from_pairs([("app", "b"), ("level", "error")]);
    let other = Labels::from_pairs([("app", "secret")]);
    push(&s, "t", &a, vec![entry(10, "one"), entry(20, "two")]);
    push(&s, "t", &b, vec![entry(100, "three")]);
    push(&s, "u", &other, vec![entry(10, "hidden")]);
    let check = |s: &LogStore| {
        assert_eq!(
            s.label_names("t", &[], 0, 1000).unwrap(),
            ["app", "env", "level"]
        );
        assert_eq!(s.label_names("t", &[], 0, 50).unwrap(), ["app", "env"]);
        assert_eq!(
            s.label_values("t", "app", &[], 0, 1000).unwrap(),
            ["a", "b"]
        );
        let m = [Matcher::equal("level", "error")];
        assert_eq!(s.label_values("t", "app", &m, 0, 1000).unwrap(), ["b"]);
        assert_eq!(
            s.streams("t", &[], 0, 1000).unwrap(),
            [a.clone(), b.clone()]
        );
        let st = s
            .stats("t", &[Matcher::equal("app", "a")], 0, 1000)
            .unwrap();
        assert_eq!((st.streams, st.entries, st.bytes), (1, 2, 6));
        assert_eq!(
            s.label_values("u", "app", &[], 0, 1000).unwrap(),
            ["secret"]
        );
        assert!(read(
            s,
            "t",
            &[Matcher::equal("app", "secret")],
            0,
            1000,
            &LogHints::default()
        )
        .is_empty());
        assert!(s.streams("nobody", &[], 0, 1000).unwrap().is_empty());
    };
    check(&s);
    s.flush().unwrap();
    check(&s);
}

#[test]
fn a_damaged_block_is_set_aside_and_the_rest_serves() {
    let d = TempDir::new("logstore-damage");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    push(&s, "t", &a, vec![entry(1, "in the first block")]);
    s.flush().unwrap();
    push(&s, "t", &a, vec![entry(2, "in the second block")]);
    s.flush().unwrap();
    drop(s);
    let mut blocks: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    blocks.sort();
    assert_eq!(blocks.len(), 2);
    let chunks = blocks[1].join("chunks");
    let len = std::fs::metadata(&chunks).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&chunks)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let s = open(d.path(), opts());
    let bad = s.corrupted_blocks();
    assert_eq!(bad.len(), 1);
    assert!(bad[0].ends_with(".corrupted"));
    assert!(d.path().join(&bad[0]).exists());
    assert_eq!(s.counters().blocks_corrupted.load(Relaxed), 1);
    assert_eq!(lines_of(&s, 0, 10, false), [1]);
}

#[test]
fn retention_deletes_whole_old_blocks() {
    let d = TempDir::new("logstore-retention");
    let a = Labels::from_pairs([("app", "a")]);
    let hour = 3_600_000_000_000i64;
    let o = LogStoreOptions {
        retention_time: Duration::from_secs(24 * 3600),
        ..opts()
    };
    let s = open(d.path(), o);
    push(&s, "t", &a, vec![entry(hour, "old")]);
    s.flush().unwrap();
    push(&s, "t", &a, vec![entry(20 * hour, "kept")]);
    s.flush().unwrap();
    s.maintain().unwrap();
    assert_eq!(s.block_count(), 2);
    push(&s, "t", &a, vec![entry(26 * hour, "newest, in the head")]);
    s.maintain().unwrap();
    assert_eq!(s.block_count(), 1);
    assert_eq!(lines_of(&s, 0, i64::MAX, false), [20 * hour, 26 * hour]);
    assert_eq!(s.counters().blocks_deleted.load(Relaxed), 1);
}

#[test]
fn telemetry_reports_the_store() {
    use sightline_core::telemetry::{Report, Telemetry};
    let d = TempDir::new("logstore-telemetry");
    let s = open(d.path(), opts());
    push(
        &s,
        "t",
        &Labels::from_pairs([("app", "a")]),
        vec![entry(1, "abc")],
    );
    let mut r = Report::default();
    s.report(&mut r);
    assert_eq!(r.value("sightline_logstore_lines_appended"), Some(1.0));
    assert_eq!(r.value("sightline_logstore_bytes_appended"), Some(3.0));
    assert_eq!(r.value("sightline_logstore_head_streams"), Some(1.0));
    assert!(r.value("sightline_logstore_wal_bytes").unwrap() > 0.0);
}

#[test]
fn a_crash_between_block_commit_and_wal_checkpoint_replays_nothing_twice() {
    let d = TempDir::new("logstore-crash-window");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    for i in 0..100 {
        push(&s, "t", &a, vec![entry(i, format!("line {i}"))]);
    }
    // The WAL as it was before the flush: as if the process died after the
    // block's commit, before the checkpoint deleted these segments.
    let wal = d.path().join("wal");
    let saved = d.path().join("wal-saved");
    std::fs::create_dir(&saved).unwrap();
    for e in std::fs::read_dir(&wal).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), saved.join(e.file_name())).unwrap();
        }
    }
    s.flush().unwrap();
    drop(s);
    std::fs::remove_dir_all(&wal).unwrap();
    std::fs::rename(&saved, &wal).unwrap();
    let s = open(d.path(), opts());
    assert_eq!(lines_of(&s, 0, 1000, false), (0..100).collect::<Vec<_>>());
    // New lines after the reopen are logged and replayed as usual.
    push(&s, "t", &a, vec![entry(100, "after")]);
    drop(s);
    let s = open(d.path(), opts());
    assert_eq!(lines_of(&s, 0, 1000, false), (0..=100).collect::<Vec<_>>());
}

#[test]
fn appends_selects_and_flushes_run_concurrently() {
    let d = TempDir::new("logstore-concurrent");
    let s = std::sync::Arc::new(open(d.path(), opts()));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                let l = Labels::from_pairs([("w", w.to_string())]);
                for i in 0..2000 {
                    push(&s, "t", &l, vec![entry(i, format!("writer {w} line {i}"))]);
                }
            })
        })
        .collect();
    let flusher = {
        let s = s.clone();
        std::thread::spawn(move || {
            for _ in 0..20 {
                s.flush().unwrap();
                // Every stream, read while lines move from head to blocks,
                // is in order without gaps from its first line.
                for (_, es) in read(&s, "t", &[], 0, i64::MAX, &LogHints::default()) {
                    let ts: Vec<i64> = es.iter().map(|e| e.ts_ns).collect();
                    assert_eq!(ts, (0..ts.len() as i64).collect::<Vec<_>>());
                }
            }
        })
    };
    // A reader running beside the flushes: lines being compressed into a
    // block stay visible, so no stream ever shows a gap.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (s, done) = (s.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Relaxed) || reads == 0 {
                for (_, es) in read(&s, "t", &[], 0, i64::MAX, &LogHints::default()) {
                    let ts: Vec<i64> = es.iter().map(|e| e.ts_ns).collect();
                    assert_eq!(ts, (0..ts.len() as i64).collect::<Vec<_>>());
                }
                reads += 1;
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    flusher.join().unwrap();
    done.store(true, Relaxed);
    reader.join().unwrap();
    s.flush().unwrap();
    let got = read(&s, "t", &[], 0, i64::MAX, &LogHints::default());
    assert_eq!(got.len(), 3);
    for (_, es) in got {
        assert_eq!(
            es.iter().map(|e| e.ts_ns).collect::<Vec<_>>(),
            (0..2000).collect::<Vec<_>>()
        );
    }
}

fn block_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    v.sort();
    v
}

#[test]
fn compaction_merges_small_blocks_and_re_cuts_their_chunks() {
    let d = TempDir::new("logstore-compact");
    let o = LogStoreOptions {
        compact_block_size: 1 << 20,
        ..opts()
    };
    let s = open(d.path(), o.clone());
    let a = Labels::from_pairs([("app", "a")]);
    let b = Labels::from_pairs([("app", "b")]);
    let mut want = Vec::new();
    for round in 0..6i64 {
        for i in 0..10 {
            let ts = round * 100 + i;
            push(&s, "t", &a, vec![entry(ts, format!("a line {ts}"))]);
            want.push(ts);
        }
        if round % 2 == 0 {
            push(&s, "u", &b, vec![entry(round, "b line")]);
        }
        s.flush().unwrap();
    }
    // A late line, in a block of its own, inside the others' range.
    push(&s, "t", &a, vec![entry(150, "a late line")]);
    want.push(150);
    want.sort();
    s.flush().unwrap();
    assert_eq!(s.block_count(), 7);
    let chunks_before = s.stats("t", &[], 0, i64::MAX).unwrap().chunks;
    assert_eq!(chunks_before, 7);
    assert!(s.compact().unwrap());
    assert!(!s.compact().unwrap());
    assert_eq!(s.block_count(), 1);
    assert_eq!(block_dirs(d.path()).len(), 1);
    // One chunk now holds what seven did (600 bytes of target: ~25 lines each).
    assert!(s.stats("t", &[], 0, i64::MAX).unwrap().chunks < chunks_before);
    let check = |s: &LogStore| {
        assert_eq!(lines_of(s, 0, i64::MAX, false), want);
        let mut bw = want.clone();
        bw.reverse();
        assert_eq!(lines_of(s, 0, i64::MAX, true), bw);
        let got = read(s, "u", &[], 0, i64::MAX, &LogHints::default());
        assert_eq!(
            got[0].1.iter().map(|e| e.ts_ns).collect::<Vec<_>>(),
            [0, 2, 4]
        );
    };
    check(&s);
    drop(s);
    let s = open(d.path(), o);
    check(&s);
}

#[test]
fn a_crash_before_compaction_removes_its_sources_reads_nothing_twice() {
    let d = TempDir::new("logstore-compact-crash");
    let o = LogStoreOptions {
        compact_block_size: 1 << 20,
        ..opts()
    };
    let s = open(d.path(), o.clone());
    let a = Labels::from_pairs([("app", "a")]);
    for i in 0..4 {
        push(&s, "t", &a, vec![entry(i, format!("line {i}"))]);
        s.flush().unwrap();
    }
    // Keep a copy of one source, as if the process died before removing it.
    let src = block_dirs(d.path())[0].clone();
    let copy = d.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for f in ["chunks", "index", "meta.json"] {
        std::fs::copy(src.join(f), copy.join(f)).unwrap();
    }
    assert!(s.compact().unwrap());
    drop(s);
    std::fs::rename(&copy, &src).unwrap();
    assert_eq!(block_dirs(d.path()).len(), 2);
    let s = open(d.path(), o);
    assert_eq!(s.block_count(), 1);
    assert_eq!(block_dirs(d.path()).len(), 1);
    assert_eq!(lines_of(&s, 0, 10, false), [0, 1, 2, 3]);
}

#[test]
fn a_torn_wal_tail_loses_only_the_torn_push() {
    let d = TempDir::new("logstore-torn-wal");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    for i in 0..10 {
        push(&s, "t", &a, vec![entry(i, format!("line {i}"))]);
    }
    drop(s);
    let mut segs: Vec<_> = std::fs::read_dir(d.path().join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    segs.sort();
    let last = segs.last().unwrap();
    let len = std::fs::metadata(last).unwrap().len();
    // Cut into the last record (the push of line 9).
    std::fs::OpenOptions::new()
        .write(true)
        .open(last)
        .unwrap()
        .set_len(len - 4)
        .unwrap();
    let s = open(d.path(), opts());
    assert_eq!(lines_of(&s, 0, 100, false), (0..9).collect::<Vec<_>>());
    push(&s, "t", &a, vec![entry(9, "line 9 again")]);
    drop(s);
    let s = open(d.path(), opts());
    assert_eq!(lines_of(&s, 0, 100, false), (0..10).collect::<Vec<_>>());
}

#[test]
fn size_retention_deletes_the_oldest_blocks_first() {
    const SEC: i64 = 1_000_000_000;
    let d = TempDir::new("logstore-retention-size");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    for round in 0..3i64 {
        let lines = (0..50)
            .map(|i| entry(round * SEC + i, format!("round {round} line {i} with text")))
            .collect();
        push(&s, "t", &a, lines);
        s.flush().unwrap();
    }
    let sizes: Vec<u64> = block_dirs(d.path())
        .iter()
        .map(|p| sightline_storage::dir::dir_size(p))
        .collect();
    assert_eq!(sizes.len(), 3);
    drop(s);
    // Room for the two newest blocks (and the small WAL), not for three.
    let o = LogStoreOptions {
        retention_size: sizes[1] + sizes[2] + sizes[0] / 2,
        retention_time: Duration::from_secs(0),
        ..opts()
    };
    let s = open(d.path(), o);
    s.maintain().unwrap();
    assert_eq!(s.block_count(), 2);
    let got = lines_of(&s, 0, i64::MAX, false);
    assert_eq!(got.first(), Some(&SEC));
    assert_eq!(got.len(), 100);
}

#[test]
fn limits_take_the_right_lines_from_the_head() {
    let d = TempDir::new("logstore-head-limit");
    let a = Labels::from_pairs([("app", "a")]);
    let s = open(d.path(), opts());
    // Closed chunks for 0..200, then late lines older than all of them in
    // the open chunk, then newer ones.
    for i in 0..200i64 {
        push(
            &s,
            "t",
            &a,
            vec![entry(i * 10, format!("line {i} of the stream"))],
        );
    }
    for ts in [5, 15, 2000, 2010, 2020] {
        push(
            &s,
            "t",
            &a,
            vec![entry(ts, format!("late {ts} of the stream"))],
        );
    }
    let mut all: Vec<i64> = (0..200).map(|i| i * 10).collect();
    all.extend([5, 15, 2000, 2010, 2020]);
    all.sort();
    let m = [Matcher::equal("app", "a")];
    for backward in [false, true] {
        for limit in [1usize, 3, 5, 30] {
            let h = LogHints {
                backward,
                limit: Some(limit),
                ..LogHints::default()
            };
            let mut series = s.select("t", &m, 0, i64::MAX, &h).unwrap();
            let got: Vec<i64> = series[0]
                .entries
                .by_ref()
                .take(limit)
                .map(|e| e.unwrap().ts_ns)
                .collect();
            let want: Vec<i64> = if backward {
                all.iter().rev().take(limit).copied().collect()
            } else {
                all.iter().take(limit).copied().collect()
            };
            assert_eq!(got, want, "backward {backward} limit {limit}");
        }
        // With a line filter, the limit counts lines that pass it.
        let h = LogHints {
            backward,
            limit: Some(2),
            required: vec![vec!["late".into()]],
        };
        let mut series = s.select("t", &m, 0, i64::MAX, &h).unwrap();
        let got: Vec<i64> = series[0]
            .entries
            .by_ref()
            .take(2)
            .map(|e| e.unwrap().ts_ns)
            .collect();
        assert_eq!(
            got,
            if backward {
                vec![2020, 2010]
            } else {
                vec![5, 15]
            }
        );
    }
}

#[test]
fn a_full_wal_is_flushed_before_the_next_maintenance_round() {
    // Issue 15 (memory): the head is bounded by `flush_wal_size`, not by
    // what arrives between two maintenance rounds. The round here is an
    // hour away; the WAL check runs at every sync tick.
    let d = TempDir::new("logstore-prompt-flush");
    let o = LogStoreOptions {
        maintenance_interval: Duration::from_secs(3600),
        wal_sync_interval: Duration::from_millis(20),
        flush_wal_size: 16 << 10,
        ..opts()
    };
    let s = LogStore::open(d.path(), o).unwrap();
    let l = Labels::from_pairs([("job", "x")]);
    let lines: Vec<LogEntry> = (0..400)
        .map(|i| entry(i, format!("line {i} {}", "x".repeat(64))))
        .collect();
    push(&s, "t", &l, lines);
    // Polls for the flush (no timing asserted: the bound is generous).
    let mut waited = 0;
    while s.block_count() == 0 && waited < 20_000 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        waited += 20;
    }
    assert_eq!(
        s.block_count(),
        1,
        "no flush within 20 s of the WAL passing flush_wal_size"
    );
    let got = read(
        &s,
        "t",
        &[Matcher::equal("job", "x")],
        0,
        i64::MAX,
        &LogHints::default(),
    );
    assert_eq!(got[0].1.len(), 400);
}

#[test]
fn maintenance_compacts_small_blocks() {
    // Issue 15: small blocks from frequent flushes are merged by the
    // store's own maintenance, not only when someone calls compact().
    let d = TempDir::new("logstore-maint-compact");
    let s = open(d.path(), opts());
    let l = Labels::from_pairs([("job", "x")]);
    for b in 0..5i64 {
        let lines: Vec<LogEntry> = (0..50)
            .map(|i| entry(b * 100 + i, format!("block {b} line {i}")))
            .collect();
        push(&s, "t", &l, lines);
        s.flush().unwrap();
    }
    assert_eq!(s.block_count(), 5);
    s.maintain().unwrap();
    assert_eq!(
        s.block_count(),
        1,
        "maintenance left the small blocks unmerged"
    );
    let got = read(
        &s,
        "t",
        &[Matcher::equal("job", "x")],
        0,
        i64::MAX,
        &LogHints::default(),
    );
    assert_eq!(got[0].1.len(), 250);
}
