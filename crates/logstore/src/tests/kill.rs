//! An acknowledged push survives `kill -9`: the test binary runs itself as
//! a child that appends and prints each acknowledgement, the parent kills
//! it with SIGKILL mid-stream, then opens the store and finds every
//! acknowledged line.

use super::{entry, read};
use crate::{LogStore, LogStoreOptions};
use sightline_core::duration::Duration;
use sightline_core::logs::{LogAppender, LogHints, LogStream};
use sightline_core::{Labels, Matcher};
use sightline_testkit::TempDir;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "SIGHTLINE_LOGSTORE_KILL_CHILD";

fn child_opts() -> LogStoreOptions {
    LogStoreOptions {
        reject_old_samples_max_age: Duration::from_secs(0),
        per_stream_rate_limit: 0,
        chunk_target_size: 2048,
        // Flushes and checkpoints happen while the child is killed.
        flush_wal_size: 64 << 10,
        maintenance_interval: Duration::from_millis(20),
        wal_sync_interval: Duration::from_millis(20),
        ..LogStoreOptions::default()
    }
}

#[test]
fn acked_pushes_survive_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        // The child: append until killed, printing what was acknowledged.
        let s = LogStore::open(std::path::Path::new(&dir), child_opts()).unwrap();
        let labels = Labels::from_pairs([("app", "kill")]);
        for i in 0i64.. {
            let entries = (0..10)
                .map(|j| {
                    entry(
                        i * 10 + j,
                        format!("line {} of the child with some text", i * 10 + j),
                    )
                })
                .collect();
            s.append(
                "t",
                vec![LogStream {
                    labels: labels.clone(),
                    entries,
                }],
            )
            .unwrap();
            println!("acked {}", i * 10 + 9);
            if i % 1000 == 999 {
                // Besides the maintenance thread's flushes (which a loaded
                // machine may delay), so that a kill can land mid-flush.
                s.flush().unwrap();
            }
        }
        return;
    }
    let d = TempDir::new("logstore-kill9");
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "tests::kill::acked_pushes_survive_kill_9",
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
            if acked >= 100_000 {
                break;
            }
        }
    }
    // Child::kill sends SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(acked >= 100_000, "the child stopped early at {acked}");
    let s = LogStore::open_without_maintenance(d.path(), child_opts()).unwrap();
    // The child flushed blocks and checkpointed its WAL while it ran.
    assert!(s.block_count() >= 1);
    let got = read(
        &s,
        "t",
        &[Matcher::equal("app", "kill")],
        0,
        i64::MAX,
        &LogHints::default(),
    );
    let ts: Vec<i64> = got[0].1.iter().map(|e| e.ts_ns).collect();
    // Every acknowledged line, once, in order (lines after the last ack
    // may or may not be there).
    assert!(ts.len() as i64 > acked, "{} lines, {acked} acked", ts.len());
    assert_eq!(ts[..=acked as usize], (0..=acked).collect::<Vec<_>>()[..]);
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "duplicates or disorder");
}
