//! Store tests (issue 16, the trace store): every field round-trips
//! through head, WAL replay, blocks and compaction with [`MemTraceStore`] as the reference (same appends,
//! same queries, answers compared); late spans, block skipping, trace by
//! id across blocks, retention, damage and limits. The `kill -9` test is
//! in `tests/kill.rs`.

use crate::{TraceStore, TraceStoreOptions};
use sightline_core::duration::Duration;
use sightline_core::traces::{
    AnyValue, MemTraceStore, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink,
    SpanPredicate, SpanRefusal, StatusCode, TagScope, TraceAppender, TraceHints, TraceId,
    TraceQuerier,
};
use sightline_testkit::TempDir;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

mod kill;

/// Options for tests: no wall-clock or rate limits, small groups so a few
/// hundred spans make several of them.
pub(crate) fn opts() -> TraceStoreOptions {
    TraceStoreOptions {
        retention_time: Duration::from_secs(0),
        ingestion_rate_bytes: 0,
        group_spans: 16,
        ..TraceStoreOptions::default()
    }
}

pub(crate) fn open(dir: &Path, o: TraceStoreOptions) -> TraceStore {
    TraceStore::open_without_maintenance(dir, o).unwrap()
}

/// A small deterministic generator.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 17
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn resource(service: &str, extra: i64) -> Arc<Resource> {
    Arc::new(Resource {
        attributes: vec![
            ("service.name".into(), AnyValue::Str(service.into())),
            ("host.id".into(), AnyValue::Int(extra)),
        ],
        dropped_attributes_count: (extra % 2) as u32,
    })
}

fn scope(v: &str) -> Arc<Scope> {
    Arc::new(Scope {
        name: "io.opentelemetry.test".into(),
        version: v.into(),
        attributes: vec![("lib.flag".into(), AnyValue::Bool(true))],
    })
}

/// Spans of `traces` traces with every kind of field, start times from
/// `t0`; trace ids from `first`.
pub(crate) fn spans(r: &mut Rng, first: u64, traces: u64, t0: i64) -> Vec<Span> {
    let services = ["api", "db", "cache", "auth"];
    let res: Vec<_> = services
        .iter()
        .enumerate()
        .map(|(i, s)| resource(s, i as i64))
        .collect();
    let scopes = [scope("1.0"), scope("2.0")];
    let mut out = Vec::new();
    for t in first..first + traces {
        let tid = TraceId::from_halves(r.next(), t);
        let n = 1 + r.below(6);
        for i in 0..n {
            let start = t0 + (t as i64) * 1_000_000 + (i as i64) * 1000 + r.below(500) as i64;
            let mut attributes = vec![
                (
                    "http.route".into(),
                    AnyValue::Str(format!("/r/{}", r.below(4))),
                ),
                (
                    "http.status_code".into(),
                    AnyValue::Int(200 + r.below(3) as i64 * 100),
                ),
                ("ratio".into(), AnyValue::Float(r.below(1000) as f64 / 7.0)),
                ("ok".into(), AnyValue::Bool(r.below(2) == 0)),
            ];
            if r.below(5) == 0 {
                attributes.push((
                    "blob".into(),
                    AnyValue::Bytes(vec![1, 2, r.below(255) as u8]),
                ));
                attributes.push((
                    "list".into(),
                    AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Str("x".into())]),
                ));
                attributes.push((
                    "map".into(),
                    AnyValue::Map(vec![("k".into(), AnyValue::Float(-0.5))]),
                ));
            }
            let mut s = Span {
                trace_id: tid,
                span_id: SpanId::from_u64(r.next() | 1),
                parent_span_id: (i > 0).then(|| SpanId::from_u64(r.next())),
                name: format!("op{}", r.below(5)),
                kind: SpanKind::from_i32(r.below(6) as i32),
                start_ns: start,
                end_ns: start + r.below(100_000) as i64,
                attributes,
                status_code: StatusCode::from_i32(r.below(3) as i32),
                resource: res[r.below(4) as usize].clone(),
                scope: scopes[r.below(2) as usize].clone(),
                ..Default::default()
            };
            if r.below(4) == 0 {
                s.trace_state = "k=v".into();
                s.status_message = "boom".into();
                s.dropped_attributes_count = 2;
                s.dropped_events_count = 1;
                s.dropped_links_count = 3;
                s.events.push(SpanEvent {
                    time_ns: start + 5,
                    name: "exception".into(),
                    attributes: vec![("exception.type".into(), AnyValue::Str("E".into()))],
                    dropped_attributes_count: 1,
                });
                s.links.push(SpanLink {
                    trace_id: TraceId::from_halves(7, 7),
                    span_id: SpanId::from_u64(9),
                    trace_state: "a=b".into(),
                    attributes: vec![("link.kind".into(), AnyValue::Str("follows".into()))],
                    dropped_attributes_count: 4,
                });
            }
            out.push(s);
        }
    }
    out
}

fn sorted(mut v: Vec<Span>) -> Vec<Span> {
    v.sort_by_key(|s| (s.span_id, s.start_ns));
    v
}

fn scan_all(q: &dyn TraceQuerier, tenant: &str, hints: &TraceHints) -> Vec<Vec<Span>> {
    let mut out = Vec::new();
    q.scan(tenant, hints, &mut |s| {
        out.push(sorted(s));
        true
    })
    .unwrap();
    out.sort_by_key(|t| t[0].trace_id);
    out
}

fn value_set(mut v: Vec<AnyValue>) -> Vec<String> {
    let mut s: Vec<String> = v.drain(..).map(|x| format!("{x:?}")).collect();
    s.sort();
    s
}

/// Every query answered as the reference answers it.
fn assert_same(ours: &TraceStore, mem: &MemTraceStore, tenant: &str, ids: &[TraceId]) {
    for id in ids {
        assert_eq!(
            sorted(ours.trace(tenant, *id, None).unwrap()),
            sorted(mem.trace(tenant, *id, None).unwrap()),
            "trace {id}"
        );
    }
    let all = TraceHints::range(i64::MIN, i64::MAX);
    let mut hints = vec![all.clone(), TraceHints::range(2_000_000_000, 2_010_000_000)];
    for p in [
        SpanPredicate::ServiceName("db".into()),
        SpanPredicate::SpanName("op3".into()),
        SpanPredicate::AttrEquals {
            scope: TagScope::Any,
            key: "http.route".into(),
            value: "/r/1".into(),
        },
        SpanPredicate::AttrExists {
            scope: TagScope::Event,
            key: "exception.type".into(),
        },
        SpanPredicate::MinDuration(90_000),
        SpanPredicate::MaxDuration(1_000),
        SpanPredicate::Status(StatusCode::Error),
        SpanPredicate::Kind(SpanKind::Consumer),
        SpanPredicate::ServiceName("nosuch".into()),
    ] {
        let mut h = all.clone();
        h.required.push(p);
        hints.push(h);
    }
    // Checked on the blocks' columns before traces are built (the
    // prefilter): each scope, array values, keys and values absent from
    // the dictionary, and conjunctions held by different spans of a trace,
    // also when the trace's parts are in different blocks.
    let attr = |scope, key: &str, value: &str| SpanPredicate::AttrEquals {
        scope,
        key: key.into(),
        value: value.into(),
    };
    for preds in [
        vec![attr(TagScope::Span, "http.route", "/r/2")],
        vec![attr(TagScope::Resource, "service.name", "cache")],
        vec![attr(TagScope::Any, "service.name", "auth")],
        vec![attr(TagScope::Span, "list", "x")],
        vec![attr(TagScope::Span, "list", "y")],
        vec![attr(TagScope::Span, "nosuch", "x")],
        vec![attr(TagScope::Span, "http.route", "/nosuch")],
        vec![attr(TagScope::Link, "link.kind", "follows")],
        vec![SpanPredicate::AttrExists {
            scope: TagScope::Instrumentation,
            key: "lib.flag".into(),
        }],
        vec![SpanPredicate::AttrExists {
            scope: TagScope::Span,
            key: "blob".into(),
        }],
        vec![
            SpanPredicate::ServiceName("db".into()),
            SpanPredicate::Status(StatusCode::Error),
            SpanPredicate::SpanName("op1".into()),
        ],
        vec![
            SpanPredicate::ServiceName("api".into()),
            SpanPredicate::ServiceName("auth".into()),
            SpanPredicate::MinDuration(50_000),
        ],
        vec![
            SpanPredicate::Kind(SpanKind::Server),
            SpanPredicate::MaxDuration(20_000),
            attr(TagScope::Any, "http.route", "/r/0"),
        ],
    ] {
        for range in [(i64::MIN, i64::MAX), (2_000_000_000, 2_010_000_000)] {
            let mut h = TraceHints::range(range.0, range.1);
            h.required = preds.clone();
            hints.push(h);
        }
    }
    for h in &hints {
        let got = scan_all(ours, tenant, h);
        assert_eq!(got, scan_all(mem, tenant, h), "{h:?}");
    }
    for scope in [
        TagScope::Span,
        TagScope::Resource,
        TagScope::Event,
        TagScope::Link,
        TagScope::Instrumentation,
        TagScope::Any,
    ] {
        assert_eq!(
            ours.tag_names(tenant, scope, i64::MIN, i64::MAX, 100)
                .unwrap(),
            mem.tag_names(tenant, scope, i64::MIN, i64::MAX, 100)
                .unwrap(),
            "{scope:?}"
        );
        for key in [
            "http.route",
            "http.status_code",
            "ratio",
            "ok",
            "blob",
            "list",
            "service.name",
            "host.id",
            "lib.flag",
            "exception.type",
            "link.kind",
        ] {
            assert_eq!(
                value_set(
                    ours.tag_values(tenant, scope, key, i64::MIN, i64::MAX, 10_000)
                        .unwrap()
                ),
                value_set(
                    mem.tag_values(tenant, scope, key, i64::MIN, i64::MAX, 10_000)
                        .unwrap()
                ),
                "{scope:?} {key}"
            );
        }
    }
    assert_eq!(
        ours.services(tenant, i64::MIN, i64::MAX).unwrap(),
        mem.services(tenant, i64::MIN, i64::MAX).unwrap()
    );
    for svc in [None, Some("db"), Some("nosuch")] {
        assert_eq!(
            ours.operations(tenant, svc, i64::MIN, i64::MAX).unwrap(),
            mem.operations(tenant, svc, i64::MIN, i64::MAX).unwrap()
        );
    }
}

#[test]
fn every_field_round_trips_as_the_reference_answers() {
    let d = TempDir::new("tracestore-roundtrip");
    let ours = open(d.path(), opts());
    let mem = MemTraceStore::new();
    let mut r = Rng(1);
    let t0 = 2_000_000_000;
    let mut ids = Vec::new();
    for (batch, tenant) in [(0u64, "t"), (1, "t"), (2, "u"), (3, "t")] {
        let s = spans(&mut r, batch * 40, 40, t0);
        ids.extend(s.iter().map(|x| x.trace_id));
        assert_eq!(ours.append(tenant, s.clone()).unwrap().accepted, s.len());
        mem.append(tenant, s).unwrap();
        if batch == 1 {
            ours.flush().unwrap();
        }
    }
    // Late spans of traces already in a block.
    let mut late = spans(&mut r, 0, 40, t0);
    for (i, s) in late.iter_mut().enumerate() {
        s.trace_id = ids[i % 40];
    }
    ours.append("t", late.clone()).unwrap();
    mem.append("t", late).unwrap();
    ids.sort();
    ids.dedup();
    // Head and a block.
    assert_same(&ours, &mem, "t", &ids);
    assert_same(&ours, &mem, "u", &ids);
    // After WAL replay.
    drop(ours);
    let ours = open(d.path(), opts());
    assert_same(&ours, &mem, "t", &ids);
    // All in blocks: the late spans in a later one.
    ours.flush().unwrap();
    assert!(ours.block_count() >= 3, "{}", ours.block_count());
    assert_same(&ours, &mem, "t", &ids);
    assert_same(&ours, &mem, "u", &ids);
    // Compacted: a trace's parts joined into one block.
    assert!(
        !ours.compact().unwrap(),
        "fewer than four blocks of a level wait"
    );
    while ours.compact_all().unwrap() {}
    assert_eq!(ours.block_count(), 2, "one block per tenant");
    assert_same(&ours, &mem, "t", &ids);
    drop(ours);
    let ours = open(d.path(), opts());
    assert_same(&ours, &mem, "t", &ids);
    assert_same(&ours, &mem, "u", &ids);
}

#[test]
fn a_trace_is_found_across_blocks_through_the_bloom_filters() {
    let d = TempDir::new("tracestore-byid");
    let s = open(d.path(), opts());
    let mut r = Rng(2);
    let target = TraceId::from_halves(42, 42);
    for b in 0..6 {
        let mut batch = spans(&mut r, b * 100, 100, 1_000_000_000);
        if b % 2 == 0 {
            batch[0].trace_id = target;
        }
        s.append("t", batch).unwrap();
        s.flush().unwrap();
    }
    assert_eq!(s.block_count(), 6);
    let before = s.counters().bloom_skips.load(Relaxed);
    let got = s.trace("t", target, None).unwrap();
    assert_eq!(got.len(), 3, "one span from each of three blocks");
    let skipped = s.counters().bloom_skips.load(Relaxed) - before;
    assert!(
        skipped >= 2,
        "the blocks without it skipped by their filter: {skipped}"
    );
    assert!(s
        .trace("t", TraceId::from_halves(1, 1), None)
        .unwrap()
        .is_empty());
    assert!(s.trace("other", target, None).unwrap().is_empty());
}

#[test]
fn scans_skip_blocks_that_cannot_match_and_count_them() {
    let d = TempDir::new("tracestore-skip");
    let s = open(d.path(), opts());
    let mut r = Rng(3);
    for b in 0..4u64 {
        let mut batch = spans(&mut r, b * 50, 50, 1_000_000_000);
        let res = resource(&format!("svc{b}"), 0);
        for x in &mut batch {
            x.resource = res.clone();
        }
        s.append("t", batch).unwrap();
        s.flush().unwrap();
    }
    let mut h = TraceHints::range(i64::MIN, i64::MAX);
    h.required.push(SpanPredicate::ServiceName("svc2".into()));
    let got = scan_all(&s, "t", &h);
    assert_eq!(got.len(), 50);
    assert!(got
        .iter()
        .all(|t| t.iter().all(|x| x.service_name() == "svc2")));
    assert_eq!(s.counters().blocks_skipped.load(Relaxed), 3);
    assert_eq!(s.counters().blocks_scanned.load(Relaxed), 1);
    // A block of spans that are all `ok` is skipped for `status = unset`.
    let mut ok = spans(&mut r, 900, 50, 1_000_000_000);
    for x in &mut ok {
        x.status_code = StatusCode::Ok;
    }
    s.append("t", ok).unwrap();
    s.flush().unwrap();
    let mut h = TraceHints::range(i64::MIN, i64::MAX);
    h.required.push(SpanPredicate::Status(StatusCode::Unset));
    let want: Vec<_> = scan_all(&s, "t", &TraceHints::range(i64::MIN, i64::MAX))
        .into_iter()
        .filter(|t| h.admits(t))
        .collect();
    let skipped = s.counters().blocks_skipped.load(Relaxed);
    assert_eq!(scan_all(&s, "t", &h), want);
    assert_eq!(
        s.counters().blocks_skipped.load(Relaxed) - skipped,
        1,
        "the all-ok block"
    );
    // A time range outside every block reads none.
    let scanned = s.counters().blocks_scanned.load(Relaxed);
    assert!(scan_all(&s, "t", &TraceHints::range(0, 10)).is_empty());
    assert_eq!(s.counters().blocks_scanned.load(Relaxed), scanned);
}

/// issue 16: `=` on an array attribute holds when the array holds the
/// value; the block holding it must not be skipped by its tag table.
#[test]
fn an_array_attribute_keeps_its_block_for_an_equality() {
    let d = TempDir::new("tracestore-array");
    let s = open(d.path(), opts());
    let mut r = Rng(5);
    let mut batch = spans(&mut r, 0, 1, 1_000_000_000);
    batch[0].attributes.push((
        "roles".into(),
        AnyValue::Array(vec![AnyValue::Str("a".into()), AnyValue::Str("b".into())]),
    ));
    s.append("t", batch).unwrap();
    s.flush().unwrap();
    let mut h = TraceHints::range(i64::MIN, i64::MAX);
    h.required.push(SpanPredicate::AttrEquals {
        scope: TagScope::Span,
        key: "roles".into(),
        value: "b".into(),
    });
    assert_eq!(scan_all(&s, "t", &h).len(), 1);
    let mut h = TraceHints::range(i64::MIN, i64::MAX);
    h.required.push(SpanPredicate::AttrEquals {
        scope: TagScope::Span,
        key: "roles".into(),
        value: "c".into(),
    });
    assert!(scan_all(&s, "t", &h).is_empty());
}

#[test]
fn retention_deletes_old_blocks_by_time_and_size() {
    let d = TempDir::new("tracestore-retention");
    let o = TraceStoreOptions {
        retention_time: Duration::from_secs(3600),
        compact_block_size: 0,
        ..opts()
    };
    let s = open(d.path(), o.clone());
    let now = sightline_core::time::now_ms() * 1_000_000;
    let mut r = Rng(4);
    // Three blocks, one of them two hours older than the others.
    let old = spans(&mut r, 0, 10, now - 7200 * 1_000_000_000);
    let old_id = old[0].trace_id;
    // Older than retention: refused at the door.
    let rep = s.append("t", old.clone()).unwrap();
    assert_eq!(rep.accepted, 0);
    assert_eq!(rep.refused, vec![SpanRefusal::TooOld { spans: old.len() }]);
    drop(s);
    let s = open(
        d.path(),
        TraceStoreOptions {
            retention_time: Duration::from_secs(0),
            ..o.clone()
        },
    );
    s.append("t", old).unwrap();
    s.flush().unwrap();
    drop(s);
    let s = open(d.path(), o.clone());
    for b in 1..3 {
        s.append("t", spans(&mut r, b * 10, 10, now - 60 * 1_000_000_000))
            .unwrap();
        s.flush().unwrap();
    }
    assert_eq!(s.block_count(), 3);
    s.maintain().unwrap();
    assert_eq!(s.block_count(), 2);
    assert_eq!(s.counters().blocks_deleted.load(Relaxed), 1);
    assert!(s.trace("t", old_id, None).unwrap().is_empty());
    drop(s);
    // Size: keep under one block's worth plus the WAL.
    let s = open(
        d.path(),
        TraceStoreOptions {
            retention_size: 1,
            ..o
        },
    );
    s.maintain().unwrap();
    assert_eq!(s.block_count(), 0);
}

#[test]
fn a_corrupt_block_is_set_aside_and_the_rest_serves() {
    let d = TempDir::new("tracestore-corrupt");
    let s = open(d.path(), opts());
    let mut r = Rng(5);
    let a = spans(&mut r, 0, 30, 1_000_000_000);
    let b = spans(&mut r, 100, 30, 1_000_000_000);
    let c = spans(&mut r, 200, 30, 1_000_000_000);
    for batch in [&a, &b, &c] {
        s.append("t", batch.clone()).unwrap();
        s.flush().unwrap();
    }
    let mut dirs: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    dirs.sort();
    drop(s);
    // Damage one block's index (found at open) and another's first group
    // (found when read).
    let find = |spans: &[Span]| {
        dirs.iter()
            .find(|p| {
                let b = crate::block::Block::open(p).unwrap();
                !b.find(&spans[0].trace_id).unwrap().is_empty()
            })
            .unwrap()
            .clone()
    };
    let (da, db) = (find(&a), find(&b));
    let mut ix = std::fs::read(da.join("index")).unwrap();
    ix[20] ^= 0xff;
    std::fs::write(da.join("index"), ix).unwrap();
    let mut data = std::fs::read(db.join("data")).unwrap();
    for g in &crate::block::Block::open(&db).unwrap().groups {
        data[g.offset as usize + 5] ^= 0xff;
    }
    std::fs::write(db.join("data"), data).unwrap();
    let s = open(d.path(), opts());
    assert_eq!(s.block_count(), 2);
    assert_eq!(s.corrupted_blocks().len(), 1);
    assert!(s.trace("t", b[0].trace_id, None).unwrap().is_empty());
    assert_eq!(s.block_count(), 1, "the damaged group set its block aside");
    assert_eq!(s.counters().blocks_corrupted.load(Relaxed), 2);
    assert_eq!(
        sorted(s.trace("t", c[0].trace_id, None).unwrap()),
        sorted(
            c.iter()
                .filter(|x| x.trace_id == c[0].trace_id)
                .cloned()
                .collect()
        )
    );
    let report = {
        let mut rep = sightline_core::telemetry::Report::default();
        sightline_core::telemetry::Telemetry::report(&s, &mut rep);
        rep
    };
    assert_eq!(
        report.value("sightline_tracestore_blocks_corrupted"),
        Some(2.0)
    );
    assert!(d
        .path()
        .join(format!(
            "{}.corrupted",
            da.file_name().unwrap().to_string_lossy()
        ))
        .exists());
}

#[test]
fn limits_refuse_what_they_should_and_keep_the_rest() {
    let d = TempDir::new("tracestore-limits");
    let mut r = Rng(6);
    let s = open(
        d.path(),
        TraceStoreOptions {
            max_span_bytes: 2000,
            max_bytes_per_trace: 5000,
            ..opts()
        },
    );
    let mut batch = spans(&mut r, 0, 5, 1_000_000_000);
    batch[0]
        .attributes
        .push(("big".into(), AnyValue::Str("x".repeat(3000))));
    let big = (batch[0].trace_id, batch[0].span_id);
    let rep = s.append("t", batch.clone()).unwrap();
    assert_eq!(rep.accepted, batch.len() - 1);
    assert!(
        matches!(rep.refused[..], [SpanRefusal::SpanTooLarge { trace_id, span_id, limit: 2000, .. }] if (trace_id, span_id) == big)
    );
    // One trace grows past its limit: its later spans are refused.
    let tid = batch[1].trace_id;
    let mut more: Vec<Span> = (0..40)
        .map(|i| Span {
            span_id: SpanId::from_u64(1000 + i),
            attributes: vec![("pad".into(), AnyValue::Str("y".repeat(200)))],
            ..batch[1].clone()
        })
        .collect();
    more.push(batch[2].clone());
    let rep = s.append("t", more).unwrap();
    assert!(rep.accepted >= 10 && rep.accepted < 41, "{rep:?}");
    assert!(
        matches!(rep.refused[..], [SpanRefusal::TraceTooLarge { trace_id, limit: 5000, .. }] if trace_id == tid)
    );
    assert_eq!(rep.accepted + rep.rejected(), 41);
    drop(s);
    // Byte rate: a burst of 1000 bytes lets one small batch through.
    let s = open(
        d.path(),
        TraceStoreOptions {
            ingestion_rate_bytes: 10,
            ingestion_burst_bytes: 1000,
            ..opts()
        },
    );
    let small = spans(&mut r, 100, 1, 1_000_000_000)[..1].to_vec();
    assert_eq!(s.append("t", small.clone()).unwrap().accepted, 1);
    let many = spans(&mut r, 200, 20, 1_000_000_000);
    let rep = s.append("t", many.clone()).unwrap();
    assert_eq!(rep.accepted, 0);
    assert!(rep.refused[0].retryable());
    assert_eq!(rep.rejected(), many.len());
    drop(s);
    // New traces per second.
    let s = open(
        d.path(),
        TraceStoreOptions {
            max_traces_per_second: 3,
            ..opts()
        },
    );
    let three = spans(&mut r, 300, 3, 1_000_000_000);
    assert_eq!(s.append("t", three.clone()).unwrap().accepted, three.len());
    // More spans of the same traces are not new traces.
    assert_eq!(s.append("t", three.clone()).unwrap().accepted, three.len());
    let rep = s.append("t", spans(&mut r, 400, 2, 1_000_000_000)).unwrap();
    assert!(matches!(
        rep.refused[..],
        [SpanRefusal::TraceRateLimited {
            limit_traces_per_s: 3,
            ..
        }]
    ));
    assert_eq!(
        s.counters().refused_trace_rate_limited.load(Relaxed) as usize,
        rep.rejected()
    );
}

#[test]
fn compaction_merges_a_level_once_it_holds_four_blocks() {
    let d = TempDir::new("tracestore-levels");
    let s = open(d.path(), opts());
    let mem = MemTraceStore::new();
    let mut r = Rng(7);
    let mut ids = Vec::new();
    let mut cut = |s: &TraceStore, b: u64| {
        let batch = spans(&mut r, b * 20, 20, 1_000_000_000 + b as i64 * 100_000_000);
        ids.extend(batch.iter().map(|x| x.trace_id));
        s.append("t", batch.clone()).unwrap();
        mem.append("t", batch).unwrap();
        s.flush().unwrap();
    };
    for b in 0..3 {
        cut(&s, b);
    }
    assert!(!s.compact().unwrap(), "three blocks of level 0 wait");
    cut(&s, 3);
    assert!(s.compact().unwrap());
    assert_eq!(s.block_count(), 1);
    for b in 4..13 {
        cut(&s, b);
    }
    // Nine new level-0 blocks: the oldest eight merge, one waits.
    assert!(s.compact().unwrap());
    assert_eq!(s.block_count(), 3);
    assert!(!s.compact().unwrap());
    let levels: Vec<u32> = {
        let mut v: Vec<u32> = s.inner.blocks.read().iter().map(|b| b.meta.level).collect();
        v.sort();
        v
    };
    assert_eq!(levels, vec![0, 1, 1]);
    assert_eq!(s.counters().compactions.load(Relaxed), 2);
    ids.sort();
    ids.dedup();
    assert_same(&s, &mem, "t", &ids);
}

#[test]
fn large_traces_and_spans_round_trip_through_blocks() {
    // Counts far larger than their columns' bytes (issue 16: a count check
    // tied to the column length refused a trace of 3000 spans).
    let d = TempDir::new("tracestore-large");
    let s = open(
        d.path(),
        TraceStoreOptions {
            max_bytes_per_trace: 0,
            max_span_bytes: 0,
            ..opts()
        },
    );
    let mut r = Rng(8);
    let base = spans(&mut r, 0, 1, 1_000_000_000).remove(0);
    let mut big: Vec<Span> = (0..3000)
        .map(|i| Span {
            span_id: SpanId::from_u64(i + 1),
            start_ns: base.start_ns + i as i64,
            end_ns: base.start_ns + i as i64 + 10,
            ..base.clone()
        })
        .collect();
    big[0].attributes = (0..2000)
        .map(|i| (format!("k{i}"), AnyValue::Int(i)))
        .collect();
    s.append("t", big.clone()).unwrap();
    s.flush().unwrap();
    assert_eq!(
        sorted(s.trace("t", base.trace_id, None).unwrap()),
        sorted(big)
    );
}

#[test]
fn appends_and_reads_run_beside_the_maintenance_threads() {
    // Cuts, compactions and queries take the head, frozen-head and block
    // locks in different orders; a deadlock here hangs the test.
    let d = TempDir::new("tracestore-concurrent");
    let s = Arc::new(
        TraceStore::open(
            d.path(),
            TraceStoreOptions {
                max_block_bytes: 32 << 10,
                maintenance_interval: Duration::from_millis(5),
                wal_sync_interval: Duration::from_millis(5),
                ..opts()
            },
        )
        .unwrap(),
    );
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut r = Rng(100 + w);
                let mut all = Vec::new();
                for b in 0..60 {
                    let batch = spans(&mut r, w * 1_000_000 + b * 10, 10, 1_000_000_000);
                    s.append("t", batch.clone()).unwrap();
                    all.extend(batch);
                }
                all
            })
        })
        .collect();
    let reader = {
        let s = s.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            for _ in 0..200 {
                s.scan("t", &TraceHints::range(i64::MIN, i64::MAX), &mut |_| {
                    n += 1;
                    n % 50 != 0
                })
                .unwrap();
                s.tag_names("t", TagScope::Span, i64::MIN, i64::MAX, 10)
                    .unwrap();
                s.trace("t", TraceId::from_halves(1, 1), None).unwrap();
            }
        })
    };
    let mut all = Vec::new();
    for w in writers {
        all.extend(w.join().unwrap());
    }
    reader.join().unwrap();
    // The maintenance thread cuts the head (well past max_block_bytes) on
    // its own schedule: on a loaded machine the writers may finish first.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.counters().flushes.load(Relaxed) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(s.counters().flushes.load(Relaxed) >= 1);
    let mut by_trace: std::collections::HashMap<TraceId, usize> = Default::default();
    for x in &all {
        *by_trace.entry(x.trace_id).or_default() += 1;
    }
    for (id, n) in by_trace {
        assert_eq!(s.trace("t", id, None).unwrap().len(), n, "trace {id}");
    }
}
