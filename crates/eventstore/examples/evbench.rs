//! The event store's bench driver (bench/events_store.py runs it):
//!
//! - `evbench load DIR < events.ndjson`: appends Segment messages, one per
//!   line, in batches of 1000 (the store's own options but a periodic WAL
//!   sync, as a bulk load would), cuts the head and merges every day into
//!   one block; prints `{"events", "store_bytes", "load_s", "blocks"}`.
//! - `evbench scan DIR [RUNS]`: scans the `timestamp` and `person` columns
//!   of every event RUNS times (median reported) and counts daily active
//!   people from them; prints `{"events", "scan_ms", "dau": {day: n}}`.
//!
//! The Segment-to-event mapping here is the bench's own minimal one (the
//! intake's, with validation and scrubbing, lives in the server).

use serde_json::Value;
use sightline_eventstore::model::{
    Event, EventAppender, EventBatch, EventKind, EventScan, ScanRequest,
};
use sightline_eventstore::{EventStore, EventStoreOptions, WalSync};
use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::ops::ControlFlow;
use std::time::Instant;

fn ms(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_default();
    sightline_core::time::parse_rfc3339(s)
        .map(|t| sightline_core::time::to_ms(&t))
        .unwrap_or(0)
}

fn event(v: Value) -> Option<Event> {
    let kind = EventKind::parse(v.get("type")?.as_str()?)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let doc = |k: &str| {
        v.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Some(Event {
        timestamp_ms: ms(v.get("timestamp")?),
        received_at_ms: v.get("receivedAt").map_or(0, ms),
        kind,
        name: match kind {
            EventKind::Track => s("event")?,
            EventKind::Page | EventKind::Screen => s("name").unwrap_or_default(),
            k => k.as_str().to_owned(),
        },
        user_id: s("userId"),
        anonymous_id: s("anonymousId"),
        message_id: s("messageId")?,
        source: s("source").unwrap_or_else(|| "bench".into()),
        group_id: s("groupId"),
        previous_id: s("previousId"),
        properties: doc("properties"),
        traits: doc("traits"),
        context: doc("context"),
    })
}

fn opts() -> EventStoreOptions {
    EventStoreOptions {
        wal_sync: WalSync::Periodic,
        // Historical events, received long ago: the bench measures storage,
        // not the retry window (which would hold 10M keys in memory).
        dedupe_window: sightline_core::duration::Duration::from_secs(0),
        ..Default::default()
    }
}

fn load(dir: &str) {
    let store = EventStore::open_without_maintenance(dir.as_ref(), opts()).unwrap();
    let t0 = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    let mut n = 0u64;
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let Some(e) = serde_json::from_str(&line).ok().and_then(event) else {
            continue;
        };
        batch.push(e);
        if batch.len() == 1000 {
            n += store.append(std::mem::take(&mut batch)).unwrap().accepted as u64;
            if n.is_multiple_of(100_000) {
                store.maintain().unwrap();
            }
        }
    }
    if !batch.is_empty() {
        n += store.append(batch).unwrap().accepted as u64;
    }
    store.cut().unwrap();
    while store.compact(true).unwrap() {}
    println!(
        "{}",
        serde_json::json!({
            "events": n,
            "store_bytes": store.disk_bytes(),
            "load_s": t0.elapsed().as_secs_f64(),
            "blocks": store.block_days().len(),
        })
    );
}

/// This thread's CPU time in ns (the machine is shared: wall time counts
/// other processes' turns too).
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn scan(dir: &str, runs: usize) {
    let store = EventStore::open_without_maintenance(dir.as_ref(), opts()).unwrap();
    let all = ScanRequest {
        start_ms: i64::MIN,
        end_ms: i64::MAX,
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut events = 0u64;
    for _ in 0..runs {
        let t0 = Instant::now();
        let c0 = cpu_ns();
        let (mut n, mut sum) = (0u64, 0u64);
        store
            .scan(&all, &mut |b: &EventBatch| {
                n += b.len() as u64;
                sum = sum.wrapping_add(b.timestamp_ms[b.len() - 1] as u64);
                sum = sum.wrapping_add(u64::from(b.person[b.len() / 2]));
                ControlFlow::Continue(())
            })
            .unwrap();
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        cpu.push((cpu_ns() - c0) as f64 / 1e6);
        events = n;
        std::hint::black_box(sum);
    }
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    // Daily active people, from the same two columns: a bitset over each
    // batch's person codes, merged per day.
    let t0 = Instant::now();
    let mut days: BTreeMap<i64, HashSet<u64>> = BTreeMap::new();
    store
        .scan(&all, &mut |b: &EventBatch| {
            let mut seen = vec![false; b.persons.len()];
            for &p in &b.person {
                seen[p as usize] = true;
            }
            let day = b.timestamp_ms[0].div_euclid(86_400_000);
            let set = days.entry(day).or_default();
            for (i, s) in seen.into_iter().enumerate() {
                if s && b.persons[i] != 0 {
                    set.insert(b.persons[i]);
                }
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    let dau_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let dau: BTreeMap<String, usize> = days
        .into_iter()
        .map(|(d, s)| {
            let t = sightline_core::time::from_ms(d * 86_400_000).unwrap();
            (
                sightline_core::time::rfc3339_millis(&t)[..10].to_owned(),
                s.len(),
            )
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "events": events,
            "scan_ms": times[times.len() / 2],
            "scan_ms_all": times,
            "scan_cpu_ms": cpu[cpu.len() / 2],
            "dau_ms": dau_ms,
            "dau": dau,
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("load"), Some(dir)) => load(dir),
        (Some("scan"), Some(dir)) => {
            scan(dir, args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5))
        }
        _ => {
            eprintln!("usage: evbench load DIR < events.ndjson | evbench scan DIR [RUNS]");
            std::process::exit(2);
        }
    }
}
