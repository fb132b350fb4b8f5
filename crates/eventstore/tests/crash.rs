//! Acknowledged events survive `kill -9`: the test re-executes its own
//! binary in a writer mode that appends batches (retrying some), cuts the
//! head and compacts days all the time, and prints each acknowledged
//! batch's message ids; the parent kills it at a pseudo-random moment,
//! reopens the store and checks that every acknowledged event is there
//! exactly once. Twenty runs on one directory, so later runs crash on top
//! of what earlier ones left.

use sightline_eventstore::model::{Event, EventAppender, EventKind, ScanRequest};
use sightline_eventstore::{EventStore, EventStoreOptions, ExportFormat};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DIR_VAR: &str = "EVSTORE_CRASH_DIR";
const RUN_VAR: &str = "EVSTORE_CRASH_RUN";
const DAY_MS: i64 = 86_400_000;
/// 2026-12-01T00:00:00Z.
const T0: i64 = 1_796_083_200_000;

fn opts() -> EventStoreOptions {
    serde_json::from_value(serde_json::json!({
        "head_cut_size": "32KiB",
        "wal_segment_size": "16KiB",
        "maintenance_interval": "20ms",
        "wal_sync_interval": "10ms",
        "row_group_rows": 50,
    }))
    .unwrap()
}

fn event(run: u64, batch: u64, i: u64) -> Event {
    let n = run * 1_000_003 + batch * 101 + i;
    let plan = ["free", "pro"][(n % 2) as usize];
    let name = if i.is_multiple_of(5) {
        "Pricing"
    } else {
        ["Signed Up", "Order Completed"][(i % 2) as usize]
    };
    serde_json::from_value(serde_json::json!({
        "timestampMs": T0 + ((n * 7_919_993) % (4 * DAY_MS as u64)) as i64,
        "receivedAtMs": sightline_core::time::now_ms(),
        "type": if i.is_multiple_of(5) { "page" } else { "track" },
        "name": name,
        "anonymousId": format!("anon-{}", n % 97),
        "messageId": format!("r{run}-b{batch}-{i}"),
        "source": "web",
        "properties": {"plan": plan, "n": n},
        "context": {"page": {"path": "/pricing"}}
    }))
    .unwrap()
}

/// The writer mode: runs only when the parent sets [`DIR_VAR`].
#[test]
fn crash_writer() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let run: u64 = std::env::var(RUN_VAR).unwrap().parse().unwrap();
    let store = Arc::new(EventStore::open(std::path::Path::new(&dir), opts()).unwrap());
    // A second thread cuts and compacts all the time, so kills land in the
    // middle of them too.
    let s2 = store.clone();
    std::thread::spawn(move || loop {
        println!("begin cut");
        s2.cut().unwrap();
        println!("end cut");
        println!("begin compact");
        s2.compact(true).unwrap();
        println!("end compact");
        std::thread::sleep(Duration::from_millis(3));
    });
    let out = std::io::stdout();
    for batch in 0.. {
        let size = 1 + (batch * 7 + run) % 30;
        let events: Vec<Event> = (0..size).map(|i| event(run, batch, i)).collect();
        let r = store.append(events).unwrap();
        assert_eq!(r.accepted as u64, size);
        let ids: Vec<String> = (0..size).map(|i| format!("r{run}-b{batch}-{i}")).collect();
        let mut o = out.lock();
        writeln!(o, "ack {}", ids.join(" ")).unwrap();
        o.flush().unwrap();
        drop(o);
        if batch % 5 == 4 {
            // A client's retry of an acknowledged batch is dropped.
            let again: Vec<Event> = (0..size).map(|i| event(run, batch, i)).collect();
            assert_eq!(store.append(again).unwrap().duplicates as u64, size);
        }
    }
}

#[test]
fn acknowledged_events_survive_kill_9() {
    let dir = sightline_testkit::TempDir::new("evstore-crash");
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<String> = Vec::new();
    let mut in_cut = 0;
    let mut in_compact = 0;
    for run in 0..20u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_writer", "--nocapture", "--test-threads=1"])
            .env(DIR_VAR, dir.path())
            .env(RUN_VAR, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let stdout = child.stdout.take().unwrap();
        let l2 = lines.clone();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            // Only whole lines count: a line cut by the kill was not
            // printed after its batch was acknowledged... or was, but we
            // cannot read it; either way its ids are not claimed.
            while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                if line.ends_with('\n') {
                    l2.lock().unwrap().push(line.trim_end().to_owned());
                }
                line.clear();
            }
        });
        // Wait for the first acknowledgement, then a pseudo-random while.
        let t0 = std::time::Instant::now();
        while !lines.lock().unwrap().iter().any(|l| l.starts_with("ack ")) {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "run {run}: the writer never acknowledged"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(30 + (run * 7919) % 250));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let lines = lines.lock().unwrap();
        for l in lines.iter() {
            if let Some(ids) = l.strip_prefix("ack ") {
                acked.extend(ids.split(' ').map(str::to_owned));
            }
        }
        match lines
            .iter()
            .rev()
            .find(|l| l.starts_with("begin") || l.starts_with("end"))
        {
            Some(l) if l == "begin cut" => in_cut += 1,
            Some(l) if l == "begin compact" => in_compact += 1,
            _ => {}
        }
        drop(lines);

        let store = EventStore::open_without_maintenance(dir.path(), opts()).unwrap();
        assert!(
            store.corrupted_blocks().is_empty(),
            "run {run}: {:?}",
            store.corrupted_blocks()
        );
        let mut out = Vec::new();
        let all = ScanRequest {
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            ..Default::default()
        };
        store.export(&all, ExportFormat::Ndjson, &mut out).unwrap();
        let mut count: HashMap<String, usize> = HashMap::new();
        for line in String::from_utf8(out).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *count
                .entry(v["messageId"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        for id in &acked {
            assert_eq!(
                count.get(id).copied().unwrap_or(0),
                1,
                "run {run}: acknowledged {id}"
            );
        }
        let twice: Vec<&String> = count
            .iter()
            .filter(|(_, &n)| n > 1)
            .map(|(k, _)| k)
            .collect();
        assert!(twice.is_empty(), "run {run}: stored twice: {twice:?}");
        // A retry of an acknowledged batch after the restart is dropped.
        let last = acked.last().unwrap().clone();
        let parts: Vec<u64> = last
            .trim_start_matches('r')
            .split(['-', 'b'])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let again = event(parts[0], parts[1], parts[2]);
        assert_eq!(again.kind == EventKind::Page, parts[2].is_multiple_of(5));
        assert_eq!(store.append(vec![again]).unwrap().duplicates, 1);
    }
    println!(
        "{} events acknowledged over 20 kills; {in_cut} kills during a head cut, {in_compact} during a compaction",
        acked.len()
    );
}
