//! The store's tests: appends, scans with filters over the head and over
//! blocks, de-duplication across restarts, day splitting, compaction,
//! retention, damage and export. Expected values are computed here from
//! the input events by plain loops over their JSON, not by the store's
//! own code.

use crate::model::{
    Event, EventAppender, EventBatch, EventKind, EventScan, PropFilter, PropOp, ScanRequest,
};
use crate::props::DAY_MS;
use crate::{EventStore, EventStoreOptions};
use serde_json::json;
use sightline_testkit::TempDir;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// 2026-12-01T00:00:00Z.
const T0: i64 = 1_796_083_200_000;

const NAMES: [&str; 4] = ["Signed Up", "Order Completed", "Page Viewed", "Logged In"];
const PLANS: [&str; 3] = ["free", "pro", "team"];

/// `n` events from `seed`, spread over `days` days from T0, with a plan,
/// a price, a nested context and sometimes no userId.
pub(crate) fn events(seed: u64, n: usize, days: i64) -> Vec<Event> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    (0..n)
        .map(|i| {
            let ts = T0 + (next() as i64 % (days * DAY_MS));
            let person = next() % 50;
            let name = NAMES[(next() % 4) as usize];
            let mut props = json!({
                "plan": PLANS[(next() % 3) as usize],
                "price": (next() % 1000) as f64 / 10.0,
            });
            if i % 7 == 0 {
                props["tags"] = json!(["a", "b"]);
            }
            // What the columns cannot give back alone: nulls, dotted keys,
            // empty objects, a key of two types.
            if i % 13 == 0 {
                props["nil"] = json!(null);
                props["a.b"] = json!("dotted");
                props["e"] = json!({});
            }
            props["mixed"] = if i % 2 == 0 { json!(1) } else { json!("1") };
            let kind = if i % 11 == 0 { EventKind::Identify } else { EventKind::Track };
            let mut e: Event = serde_json::from_value(json!({
                "timestampMs": ts, "receivedAtMs": sightline_core::time::now_ms(),
                "type": kind.as_str(), "name": if kind == EventKind::Identify { "identify" } else { name },
                "anonymousId": if person % 2 == 0 { format!("{person:08x}-aaaa-4000-8000-000000000000") } else { format!("anon-{person}") }, "messageId": if i % 3 == 0 { format!("{seed:08x}-0000-4000-8000-{i:012x}") } else { format!("m-{seed}-{i}") },
                "source": if i % 2 == 0 { "web" } else { "ios" },
                "context": {"page": {"path": format!("/p/{}", person % 5)}, "library": {"name": "analytics-python"}}
            }))
            .unwrap();
            if kind == EventKind::Identify {
                e.traits = serde_json::from_value(json!({"plan": props["plan"].clone()})).unwrap();
            } else {
                e.properties = serde_json::from_value(props).unwrap();
            }
            if person % 3 != 0 {
                e.user_id = Some(format!("user-{person}"));
            }
            e
        })
        .collect()
}

fn small_opts() -> EventStoreOptions {
    EventStoreOptions {
        row_group_rows: 64,
        wal_segment_size: 64 << 10,
        ..Default::default()
    }
}

/// Every row a scan returns, as (time, name, distinct key, columns).
type Row = (i64, String, u64, Vec<Option<String>>);

fn rows(s: &dyn EventScan, req: &ScanRequest) -> Vec<Row> {
    let mut out = Vec::new();
    s.scan(req, &mut |b: &EventBatch| {
        assert!(
            b.timestamp_ms.windows(2).all(|w| w[0] <= w[1]),
            "batch out of order"
        );
        let day = b.timestamp_ms[0].div_euclid(DAY_MS);
        assert!(
            b.timestamp_ms.iter().all(|t| t.div_euclid(DAY_MS) == day),
            "batch spans days"
        );
        for i in 0..b.len() {
            out.push((
                b.timestamp_ms[i],
                b.name_of(i).to_owned(),
                b.person_of(i),
                b.props
                    .iter()
                    .map(|p| p.get(i).map(str::to_owned))
                    .collect(),
            ));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    out.sort();
    out
}

/// The same rows computed from the input by hand.
fn expected(evs: &[Event], req: &ScanRequest, pick: &dyn Fn(&Event) -> bool) -> Vec<Row> {
    let text = |v: Option<&serde_json::Value>| -> Option<String> {
        match v? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out: Vec<Row> = evs
        .iter()
        .filter(|e| e.timestamp_ms >= req.start_ms && e.timestamp_ms < req.end_ms)
        .filter(|e| req.names.is_empty() || req.names.contains(&e.name))
        .filter(|e| pick(e))
        .map(|e| {
            let cols = req
                .columns
                .iter()
                .map(|c| match c.as_str() {
                    "properties.plan" => text(e.properties.get("plan")),
                    "properties.price" => text(e.properties.get("price")),
                    "traits.plan" => text(e.traits.get("plan")),
                    "context.page.path" => text(e.context.get("page").and_then(|p| p.get("path"))),
                    other => panic!("no hand rule for {other}"),
                })
                .collect();
            let who = e
                .user_id
                .clone()
                .or(e.anonymous_id.clone())
                .unwrap_or_default();
            (
                e.timestamp_ms,
                e.name.clone(),
                crate::model::person_key(&who),
                cols,
            )
        })
        .collect();
    out.sort();
    out
}

fn all() -> ScanRequest {
    ScanRequest {
        start_ms: i64::MIN,
        end_ms: i64::MAX,
        ..Default::default()
    }
}

/// The requests every store state is checked with, each with its hand
/// rule.
type Case = (ScanRequest, Box<dyn Fn(&Event) -> bool>);

fn cases() -> Vec<Case> {
    let cols = vec![
        "properties.plan".to_string(),
        "context.page.path".to_string(),
    ];
    vec![
        (
            ScanRequest {
                columns: cols.clone(),
                ..all()
            },
            Box::new(|_| true),
        ),
        (
            ScanRequest {
                start_ms: T0 + DAY_MS / 2,
                end_ms: T0 + 2 * DAY_MS + 5,
                names: vec!["Order Completed".into(), "identify".into()],
                columns: vec!["traits.plan".into()],
                ..Default::default()
            },
            Box::new(|_| true),
        ),
        (
            ScanRequest {
                distinct_id: Some("user-7".into()),
                columns: vec!["properties.price".into()],
                ..all()
            },
            Box::new(|e| e.user_id.as_deref() == Some("user-7")),
        ),
        (
            ScanRequest {
                filters: vec![
                    PropFilter {
                        key: "properties.plan".into(),
                        op: PropOp::Eq("pro".into()),
                    },
                    PropFilter {
                        key: "properties.price".into(),
                        op: PropOp::Gt(50.0),
                    },
                ],
                columns: cols.clone(),
                ..all()
            },
            Box::new(|e| {
                e.properties.get("plan").and_then(|v| v.as_str()) == Some("pro")
                    && e.properties
                        .get("price")
                        .and_then(|v| v.as_f64())
                        .is_some_and(|p| p > 50.0)
            }),
        ),
        (
            ScanRequest {
                filters: vec![PropFilter {
                    key: "context.page.path".into(),
                    op: PropOp::Ne("/p/1".into()),
                }],
                ..all()
            },
            Box::new(|e| e.context["page"]["path"] != "/p/1"),
        ),
    ]
}

fn check_all(s: &dyn EventScan, evs: &[Event], what: &str) {
    for (i, (req, pick)) in cases().iter().enumerate() {
        let got = rows(s, req);
        let want = expected(evs, req, pick.as_ref());
        assert!(
            !want.is_empty() || i == 2,
            "case {i} selects nothing: a weak test"
        );
        assert_eq!(got.len(), want.len(), "{what}: case {i}: row count");
        assert_eq!(got, want, "{what}: case {i}");
    }
}

fn append_all(s: &EventStore, evs: &[Event]) {
    for c in evs.chunks(37) {
        let r = s.append(c.to_vec()).unwrap();
        assert_eq!((r.accepted, r.duplicates), (c.len(), 0));
    }
}

#[test]
fn appends_scan_from_the_head_then_from_blocks_and_after_restart() {
    let d = TempDir::new("evstore-scan");
    let evs = events(1, 700, 3);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    append_all(&s, &evs);
    check_all(&s, &evs, "head");
    drop(s);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    check_all(&s, &evs, "head replayed from the wal");
    s.cut().unwrap();
    // One block per day the head spanned.
    let mut days = s.block_days();
    days.sort();
    assert_eq!(days, vec![T0 / DAY_MS, T0 / DAY_MS + 1, T0 / DAY_MS + 2]);
    check_all(&s, &evs, "blocks");
    drop(s);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    check_all(&s, &evs, "blocks reopened");
    // Some in blocks, some in the head.
    let more = events(2, 300, 3);
    append_all(&s, &more);
    let both: Vec<Event> = evs.iter().chain(&more).cloned().collect();
    check_all(&s, &both, "blocks and head");
    s.cut().unwrap();
    assert_eq!(s.block_days().len(), 6);
    check_all(&s, &both, "two cuts");
    assert!(s.compact(true).unwrap());
    while s.compact(true).unwrap() {}
    assert_eq!(s.block_days().len(), 3, "a day ends as one block");
    check_all(&s, &both, "compacted");
    drop(s);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    check_all(&s, &both, "compacted and reopened");
}

#[test]
fn more_keys_than_columns_are_read_from_the_documents() {
    let d = TempDir::new("evstore-keys");
    let evs = events(3, 200, 1);
    let o = EventStoreOptions {
        max_prop_columns: 1,
        ..small_opts()
    };
    let s = EventStore::open_without_maintenance(d.path(), o).unwrap();
    append_all(&s, &evs);
    s.cut().unwrap();
    check_all(&s, &evs, "one property column");
}

#[test]
fn retries_are_dropped_within_the_window_across_restarts() {
    let d = TempDir::new("evstore-dedupe");
    let evs = events(4, 100, 2);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    append_all(&s, &evs[..60]);
    // A retry of a stored batch, with one new event and one repeated
    // inside the batch.
    let mut retry = evs[50..61].to_vec();
    retry.push(evs[60].clone());
    let r = s.append(retry).unwrap();
    assert_eq!((r.accepted, r.duplicates), (1, 11));
    // The same message id from another source is another message.
    let mut other = evs[0].clone();
    other.source = "android".into();
    assert_eq!(s.append(vec![other.clone()]).unwrap().accepted, 1);
    s.cut().unwrap();
    drop(s);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    let r = s.append(evs[..70].to_vec()).unwrap();
    assert_eq!(
        (r.accepted, r.duplicates),
        (9, 61),
        "keys rebuilt from blocks"
    );
    drop(s);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    let r = s.append(evs.to_vec()).unwrap();
    assert_eq!(
        (r.accepted, r.duplicates),
        (30, 70),
        "keys rebuilt from blocks and the wal"
    );
    let mut want: Vec<Event> = evs.clone();
    want.push(other);
    check_all(&s, &want, "after retries");

    // Outside the window a retry is stored again; a window of 0 turns it off.
    let o = EventStoreOptions {
        dedupe_window: sightline_core::duration::Duration::from_secs(0),
        ..small_opts()
    };
    let d2 = TempDir::new("evstore-nodedupe");
    let s = EventStore::open_without_maintenance(d2.path(), o).unwrap();
    assert_eq!(s.append(evs[..5].to_vec()).unwrap().accepted, 5);
    assert_eq!(s.append(evs[..5].to_vec()).unwrap().accepted, 5);
}

#[test]
fn bad_requests_and_events_name_the_field() {
    let d = TempDir::new("evstore-bad");
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    let mut evs = events(5, 3, 1);
    evs[2].message_id.clear();
    let e = s.append(evs.clone()).unwrap_err();
    assert_eq!(e.to_string(), "events[2].messageId: must not be empty");
    assert_eq!(e.kind(), sightline_core::ErrorKind::BadData);
    // Nothing of a refused append is kept.
    assert!(rows(&s, &all()).is_empty());
    let req = ScanRequest {
        columns: vec!["plan".into()],
        ..all()
    };
    let e = s
        .scan(&req, &mut |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(e.to_string().starts_with("columns[0]: "), "{e}");
    let req = ScanRequest {
        start_ms: 5,
        end_ms: 4,
        ..Default::default()
    };
    assert!(s.scan(&req, &mut |_| ControlFlow::Continue(())).is_err());
}

#[test]
fn a_scan_stops_when_asked() {
    let d = TempDir::new("evstore-stop");
    let evs = events(6, 300, 3);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    append_all(&s, &evs);
    s.cut().unwrap();
    let mut calls = 0;
    s.scan(&all(), &mut |_| {
        calls += 1;
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(calls, 1);
}

#[test]
fn retention_deletes_whole_old_days_and_damage_is_set_aside() {
    let d = TempDir::new("evstore-retention");
    let evs = events(7, 400, 4);
    let o = EventStoreOptions {
        retention_time: sightline_core::duration::Duration::from_secs(2 * 86400),
        ..small_opts()
    };
    let s = EventStore::open_without_maintenance(d.path(), o.clone()).unwrap();
    append_all(&s, &evs);
    s.cut().unwrap();
    assert_eq!(s.block_days().len(), 4);
    s.maintain().unwrap();
    // Newest event is on day 3: days 0 (ends before newest - 2d) goes;
    // day 1 ends within 2 days of the newest event unless it is late.
    let newest = evs.iter().map(|e| e.timestamp_ms).max().unwrap();
    let kept_days: BTreeSet<i64> = evs
        .iter()
        .map(|e| e.timestamp_ms.div_euclid(DAY_MS))
        .filter(|&day| {
            let day_max = evs
                .iter()
                .filter(|e| e.timestamp_ms.div_euclid(DAY_MS) == day)
                .map(|e| e.timestamp_ms)
                .max()
                .unwrap();
            day_max + 1 > newest + 1 - 2 * DAY_MS
        })
        .collect();
    let got: BTreeSet<i64> = s.block_days().into_iter().collect();
    assert_eq!(got, kept_days);
    assert!(got.len() < 4);
    let kept: Vec<Event> = evs
        .iter()
        .filter(|e| kept_days.contains(&e.timestamp_ms.div_euclid(DAY_MS)))
        .cloned()
        .collect();
    check_all(&s, &kept, "after retention");
    drop(s);

    // Damage one block's index: it is set aside, the rest serve.
    let victim = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .find(|e| sightline_storage::layout::is_dir_id(&e.file_name().to_string_lossy()))
        .unwrap()
        .path();
    let idx = victim.join("index");
    let mut bytes = std::fs::read(&idx).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&idx, bytes).unwrap();
    let s = EventStore::open_without_maintenance(d.path(), o).unwrap();
    assert_eq!(s.corrupted_blocks().len(), 1);
    assert_eq!(s.block_days().len(), got.len() - 1);
    assert!(d.path().join(&s.corrupted_blocks()[0]).exists());
    assert_eq!(
        s.counters()
            .blocks_corrupted
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn size_retention_keeps_the_newest_days_within_the_limit() {
    let d = TempDir::new("evstore-size");
    let evs = events(8, 600, 6);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    append_all(&s, &evs);
    s.cut().unwrap();
    let total = s.disk_bytes();
    drop(s);
    let o = EventStoreOptions {
        retention_size: total / 2,
        ..small_opts()
    };
    let s = EventStore::open_without_maintenance(d.path(), o).unwrap();
    s.maintain().unwrap();
    assert!(s.disk_bytes() <= total / 2);
    let days = s.block_days();
    assert!(!days.is_empty() && days.len() < 6);
    let first_kept = *days.iter().min().unwrap();
    let max_day = T0 / DAY_MS + 5;
    assert_eq!(days.iter().max(), Some(&max_day), "the newest day is kept");
    assert!(days.iter().all(|&x| x >= first_kept));
}

/// An exported NDJSON line turned back into an event by Segment's field
/// names, by hand.
fn from_segment_line(v: &serde_json::Value) -> Event {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let ms = |k: &str| {
        sightline_core::time::to_ms(&sightline_core::time::parse_rfc3339(&s(k).unwrap()).unwrap())
    };
    let doc = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_object())
            .cloned()
            .unwrap_or_default()
    };
    let kind = EventKind::parse(&s("type").unwrap()).unwrap();
    Event {
        timestamp_ms: ms("timestamp"),
        received_at_ms: ms("receivedAt"),
        kind,
        name: match kind {
            EventKind::Track => s("event").unwrap(),
            EventKind::Page | EventKind::Screen => s("name").unwrap_or_default(),
            k => k.as_str().to_owned(),
        },
        user_id: s("userId"),
        anonymous_id: s("anonymousId"),
        message_id: s("messageId").unwrap(),
        source: s("source").unwrap(),
        group_id: s("groupId"),
        previous_id: s("previousId"),
        properties: doc("properties"),
        traits: doc("traits"),
        context: doc("context"),
    }
}

fn by_id(mut v: Vec<Event>) -> Vec<Event> {
    v.sort_by(|a, b| a.message_id.cmp(&b.message_id));
    v
}

#[test]
fn exports_read_back_as_the_events_appended() {
    use crate::ExportFormat;
    let d = TempDir::new("evstore-export");
    let evs = events(9, 500, 3);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    append_all(&s, &evs[..300]);
    s.cut().unwrap();
    append_all(&s, &evs[300..]);
    // Milliseconds survive the RFC 3339 round trip exactly.
    let first = crate::segment_message(&evs[1]);
    assert!(first["timestamp"]
        .as_str()
        .unwrap()
        .starts_with("2026-12-0"));
    assert_eq!(first["type"], "track");
    assert!(first.get("event").is_some() && first.get("name").is_none());

    let mut out = Vec::new();
    assert_eq!(
        s.export(&all(), ExportFormat::Ndjson, &mut out).unwrap(),
        500
    );
    let text = String::from_utf8(out).unwrap();
    let back: Vec<Event> = text
        .lines()
        .map(|l| from_segment_line(&serde_json::from_str(l).unwrap()))
        .collect();
    assert_eq!(by_id(back), by_id(evs.clone()));
    // Days come out in order.
    let days: Vec<i64> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            from_segment_line(&v).timestamp_ms.div_euclid(DAY_MS)
        })
        .collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]));

    // A filtered export: the hand rule picks the same events.
    let req = ScanRequest {
        names: vec!["Order Completed".into()],
        filters: vec![PropFilter {
            key: "properties.plan".into(),
            op: PropOp::Eq("team".into()),
        }],
        ..all()
    };
    let mut out = Vec::new();
    s.export(&req, ExportFormat::Ndjson, &mut out).unwrap();
    let got: Vec<Event> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| from_segment_line(&serde_json::from_str(l).unwrap()))
        .collect();
    let want: Vec<Event> = evs
        .iter()
        .filter(|e| {
            e.name == "Order Completed"
                && e.properties.get("plan").and_then(|p| p.as_str()) == Some("team")
        })
        .cloned()
        .collect();
    assert!(!want.is_empty());
    assert_eq!(by_id(got), by_id(want));

    // Parquet, read back with the parquet crate's reader.
    let path = d.path().join("export.parquet");
    let mut f = std::fs::File::create(&path).unwrap();
    assert_eq!(
        s.export(&all(), ExportFormat::Parquet, &mut f).unwrap(),
        500
    );
    drop(f);
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let r = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let schema = r.metadata().file_metadata().schema_descr();
    assert_eq!(
        format!("{:?}", schema.column(0).logical_type_ref()),
        "Some(Timestamp(TimestampType { is_adjusted_to_u_t_c: true, unit: MILLIS }))"
    );
    let mut back = Vec::new();
    for row in r.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        let mut m: BTreeMap<String, Field> = BTreeMap::new();
        for (k, v) in row.get_column_iter() {
            m.insert(k.clone(), v.clone());
        }
        let st = |k: &str| match &m[k] {
            Field::Str(s) => Some(s.clone()),
            Field::Null => None,
            other => panic!("{k}: {other:?}"),
        };
        let ts = |k: &str| match &m[k] {
            Field::TimestampMillis(t) => *t,
            other => panic!("{k}: {other:?}"),
        };
        let doc = |k: &str| {
            st(k)
                .map(|s| serde_json::from_str(&s).unwrap())
                .unwrap_or_default()
        };
        back.push(Event {
            timestamp_ms: ts("timestamp"),
            received_at_ms: ts("received_at"),
            kind: EventKind::parse(&st("type").unwrap()).unwrap(),
            name: st("event").unwrap(),
            user_id: st("user_id"),
            anonymous_id: st("anonymous_id"),
            message_id: st("message_id").unwrap(),
            source: st("source").unwrap(),
            group_id: st("group_id"),
            previous_id: st("previous_id"),
            properties: doc("properties"),
            traits: doc("traits"),
            context: doc("context"),
        });
    }
    assert_eq!(by_id(back), by_id(evs));
}

#[test]
fn telemetry_counts_what_the_store_did() {
    use sightline_core::telemetry::{Report, Telemetry};
    let d = TempDir::new("evstore-telemetry");
    let evs = events(10, 150, 2);
    let s = EventStore::open_without_maintenance(d.path(), small_opts()).unwrap();
    append_all(&s, &evs);
    assert_eq!(s.append(evs[..10].to_vec()).unwrap().duplicates, 10);
    let mut r = Report::default();
    s.report(&mut r);
    assert_eq!(r.value("sightline_eventstore_events_appended"), Some(150.0));
    assert_eq!(r.value("sightline_eventstore_duplicate_events"), Some(10.0));
    assert_eq!(r.value("sightline_eventstore_head_events"), Some(150.0));
    assert_eq!(r.value("sightline_eventstore_dedupe_keys"), Some(150.0));
    s.cut().unwrap();
    // Half a day asked for: row groups of the other half are skipped
    // unread.
    let (lo, hi) = (T0 + DAY_MS / 2, T0 + DAY_MS);
    let req = ScanRequest {
        start_ms: lo,
        end_ms: hi,
        ..Default::default()
    };
    let n = rows(&s, &req).len();
    let want = evs
        .iter()
        .filter(|e| e.timestamp_ms >= lo && e.timestamp_ms < hi)
        .count();
    assert_eq!(n, want);
    assert!(n > 0);
    let mut r = Report::default();
    s.report(&mut r);
    assert_eq!(r.value("sightline_eventstore_head_events"), Some(0.0));
    assert_eq!(r.value("sightline_eventstore_blocks"), Some(2.0));
    assert_eq!(r.value("sightline_eventstore_block_events"), Some(150.0));
    assert_eq!(
        r.value("sightline_eventstore_events_scanned"),
        Some(n as f64)
    );
    assert!(r.value("sightline_eventstore_row_groups_skipped").unwrap() > 0.0);
    assert_eq!(r.value("sightline_eventstore_head_cuts"), Some(1.0));
}
