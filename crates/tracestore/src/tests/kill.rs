//! Acknowledged spans survive `kill -9`: the test binary runs itself as a
//! child that appends and prints each acknowledgement, the parent kills it
//! with SIGKILL mid-stream, then opens the store and finds every
//! acknowledged span.

use super::{spans, Rng};
use crate::{TraceStore, TraceStoreOptions};
use sightline_core::duration::Duration;
use sightline_core::traces::{TraceAppender, TraceId, TraceQuerier};
use sightline_testkit::TempDir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "SIGHTLINE_TRACESTORE_KILL_CHILD";

fn child_opts() -> TraceStoreOptions {
    TraceStoreOptions {
        ingestion_rate_bytes: 0,
        retention_time: Duration::from_secs(0),
        // Cuts and checkpoints happen while the child is killed.
        max_block_bytes: 256 << 10,
        group_spans: 64,
        maintenance_interval: Duration::from_millis(20),
        wal_sync_interval: Duration::from_millis(20),
        ..TraceStoreOptions::default()
    }
}

#[test]
fn acked_spans_survive_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let s = TraceStore::open(std::path::Path::new(&dir), child_opts()).unwrap();
        let mut r = Rng(9);
        for i in 0u64.. {
            // Trace ids carry the batch number in their high half.
            let mut batch = spans(&mut r, i * 10, 10, 1_000_000_000);
            for x in &mut batch {
                x.trace_id = TraceId::from_halves(i, x.trace_id.low());
            }
            s.append("t", batch).unwrap();
            println!("acked {i}");
            if i % 500 == 499 {
                s.flush().unwrap();
            }
        }
        return;
    }
    let d = TempDir::new("tracestore-kill9");
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "tests::kill::acked_spans_survive_kill_9",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    let mut acked = -1i64;
    for l in out.lines() {
        let l = l.unwrap();
        if let Some(n) = l.strip_prefix("acked ") {
            acked = n.parse().unwrap();
            if acked >= 3000 {
                break;
            }
        }
    }
    // Child::kill sends SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked >= 3000, "the child stopped early at {acked}");
    let s = TraceStore::open_without_maintenance(d.path(), child_opts()).unwrap();
    assert!(s.block_count() >= 1);
    // Regenerate what the child sent and look every acknowledged trace up.
    let mut r = Rng(9);
    for i in 0..=acked as u64 {
        let mut batch = spans(&mut r, i * 10, 10, 1_000_000_000);
        for x in &mut batch {
            x.trace_id = TraceId::from_halves(i, x.trace_id.low());
        }
        if i % 97 != 0 && i + 3 < acked as u64 {
            continue;
        }
        let mut ids: Vec<TraceId> = batch.iter().map(|x| x.trace_id).collect();
        ids.dedup();
        for id in ids {
            let want = batch.iter().filter(|x| x.trace_id == id).count();
            let got = s.trace("t", id, None).unwrap();
            assert_eq!(got.len(), want, "batch {i} trace {id}");
        }
    }
}
