//! Issue 19: the event intake under `kill -9`.
//!
//! Three clients post batches of events through `/v1/batch` as fast as
//! the server answers; the server is killed at a random point (seeded,
//! `FAULT_SEED` replays), 20 times (`FAULT_RUNS`) on one data directory,
//! with a 1 s head age and 100 ms maintenance so runs die during head cuts
//! and compactions too. After each kill the store is opened from the
//! directory (the server is gone, so nothing else holds it) and every
//! acknowledged event must be there exactly once; each restart also
//! re-sends the last acknowledged batch, a client's retry, which must not
//! store anything twice.

mod common;
#[path = "common/events.rs"]
mod events_common;
#[path = "common/faults.rs"]
mod faults;

use common::Server;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events per batch.
const PER_BATCH: usize = 10;

fn batch(client: usize, seq: u64) -> Vec<u8> {
    let msgs: Vec<Value> = (0..PER_BATCH)
        .map(|j| {
            json!({
                "type": "track",
                "userId": format!("user-{client}-{}", seq % 50),
                "event": format!("Fault {}", j % 4),
                "messageId": format!("c{client}-{seq}-{j}"),
                "properties": {"seq": seq, "j": j, "note": "plain text, nothing to scrub"}
            })
        })
        .collect();
    json!({"batch": msgs, "writeKey": "wk-fault"})
        .to_string()
        .into_bytes()
}

#[test]
fn issue_19_events_survive_kill_9_during_ingest() {
    let runs = faults::runs(20);
    let seed = faults::seed();
    println!("fault_events: seed {seed}");
    let mut rng = faults::Rng::new(seed);
    let tmp = sightline_testkit::TempDir::new("fault-events");
    let args = events_common::config(
        tmp.path(),
        "  storage: {head_cut_age: 1s, maintenance_interval: 100ms, wal_segment_size: 256KB}\n  \
         metrics_interval: 0s\n  sources:\n    - {name: fault, write_keys: [wk-fault]}\n",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = tmp.path().join("data");
    // Acknowledged message ids, and each client's next sequence number.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut next_seq = [0u64; faults::CLIENTS];
    let mut last_acked: Option<(usize, u64)> = None;
    let mut clean = 0;
    let mut failures = Vec::new();
    for run in 0..runs {
        let server = Server::start(&data, &args);
        let url = format!("{}/v1/batch", server.url());
        let http = common::http();
        // A retry of the last acknowledged batch: already stored.
        if let Some((c, seq)) = last_acked {
            let r = http.post(&url).body(batch(c, seq)).send().unwrap();
            assert!(
                r.status().is_success(),
                "retry refused: {}",
                r.text().unwrap_or_default()
            );
        }
        let stop = Arc::new(AtomicBool::new(false));
        let last = Arc::new(Mutex::new(None));
        let handles: Vec<_> = (0..faults::CLIENTS)
            .map(|c| {
                let (url, stop, acked, last) =
                    (url.clone(), stop.clone(), acked.clone(), last.clone());
                let mut seq = next_seq[c];
                std::thread::spawn(move || {
                    let http = common::http();
                    while !stop.load(Ordering::Relaxed) {
                        seq += 1;
                        match faults::post(&http, &url, "application/json", batch(c, seq), || seq) {
                            faults::Ack::Yes(s) => {
                                let mut a = acked.lock().unwrap();
                                a.extend((0..PER_BATCH).map(|j| format!("c{c}-{s}-{j}")));
                                *last.lock().unwrap() = Some((c, s));
                            }
                            faults::Ack::Refused(m) => panic!("refused: {m}"),
                            faults::Ack::Gone => break,
                        }
                    }
                    seq
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.range(300, 1300)));
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for (c, h) in handles.into_iter().enumerate() {
            next_seq[c] = h.join().unwrap();
        }
        if let Some(l) = *last.lock().unwrap() {
            last_acked = Some(l);
        }
        // Every acknowledged event, exactly once.
        let stored = events_common::stored(&data);
        let mut count: HashMap<String, usize> = HashMap::new();
        for e in &stored {
            *count
                .entry(e["messageId"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        let mut bad = Vec::new();
        for id in acked.lock().unwrap().iter() {
            match count.get(id) {
                None => bad.push(format!("{id} lost")),
                Some(1) => {}
                Some(n) => bad.push(format!("{id} stored {n} times")),
            }
        }
        bad.extend(
            count
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(id, n)| format!("{id} stored {n} times")),
        );
        bad.sort();
        bad.dedup();
        match faults::problems("acknowledged events lost or doubled", &bad) {
            Ok(()) => clean += 1,
            Err(e) => failures.push(format!("run {run}: {e}")),
        }
    }
    let n = acked.lock().unwrap().len();
    println!("events: {clean}/{runs} runs with nothing lost ({n} events acknowledged)");
    assert!(n > 0, "no event was acknowledged");
    assert_eq!(clean, runs, "{}", failures.join("\n"));
}
