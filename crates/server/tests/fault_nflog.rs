//! Issue 18, part 5: the built-in Alertmanager's notification log under
//! `kill -9`.
//!
//! Three clients post alerts to `/api/v2/alerts` as fast as the server
//! takes them, one group per alert (`group_by: [alertname, key]`,
//! `group_wait: 10ms`, `repeat_interval: 1h`), and a webhook receiver in
//! the test answers each notification. The server is killed at a random
//! point, 20 times on the same directory.
//!
//! What the notification log promises is "not again within the repeat
//! interval": a notification the webhook answered is logged right after,
//! so one answered more than [`GRACE`] before the kill is an acknowledged
//! log entry. After each restart those alerts are posted again, unchanged
//! (Alertmanager keeps alerts in memory only, as the original does), and
//! none of them may be notified a second time.

mod common;
#[path = "common/faults.rs"]
mod faults;

use faults::{Ack, Store};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A notification answered this long before the kill must be in the log:
/// logging it is an fsync after the answer, far shorter than this even on
/// a loaded machine.
const GRACE: Duration = Duration::from_millis(500);

/// An alert posted and accepted: its key (its group), and its start,
/// which with the labels fixes its fingerprint when posted again.
#[derive(Clone, Debug)]
struct Rec {
    key: String,
    starts_at: String,
}

#[derive(Default)]
struct Hook {
    /// key -> when each notification of it arrived.
    seen: HashMap<String, Vec<Instant>>,
}

struct Nflog {
    port: u16,
    hook: Arc<Mutex<Hook>>,
    kills: Mutex<Vec<Instant>>,
    /// When a server was up: each start (and each check, which runs on a
    /// started server).
    starts: Mutex<Vec<Instant>>,
    /// Log entries checked over all restarts.
    checked: std::sync::atomic::AtomicUsize,
}

impl Nflog {
    fn new() -> Nflog {
        let hook: Arc<Mutex<Hook>> = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let h = hook.clone();
        std::thread::spawn(move || {
            for s in listener.incoming().flatten() {
                let h = h.clone();
                std::thread::spawn(move || {
                    let _ = answer(s, &h);
                });
            }
        });
        Nflog {
            port,
            hook,
            kills: Mutex::new(Vec::new()),
            starts: Mutex::new(Vec::new()),
            checked: Default::default(),
        }
    }
}

/// Reads one webhook request, answers 200, and records its alerts' keys
/// once the answer is written.
fn answer(mut s: std::net::TcpStream, hook: &Mutex<Hook>) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    let mut len = 0usize;
    let mut line = String::new();
    r.read_line(&mut line)?;
    loop {
        line.clear();
        r.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    s.flush()?;
    let at = Instant::now();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut h = hook.lock().unwrap();
    for a in v["alerts"].as_array().into_iter().flatten() {
        if let Some(k) = a["labels"]["key"].as_str() {
            h.seen.entry(k.to_owned()).or_default().push(at);
        }
    }
    Ok(())
}

fn alert(r: &Rec) -> serde_json::Value {
    serde_json::json!({
        "labels": {"alertname": "FaultTest", "key": r.key},
        "annotations": {"summary": "fault test"},
        "startsAt": r.starts_at,
    })
}

fn post_alerts(url: &str, alerts: &[serde_json::Value]) -> Result<(), String> {
    for batch in alerts.chunks(500) {
        let r = common::http()
            .post(format!("{url}/api/v2/alerts"))
            .json(&batch)
            .send()
            .map_err(|e| format!("post alerts: {e}"))?;
        if !r.status().is_success() {
            return Err(format!("post alerts: {}", r.status()));
        }
    }
    Ok(())
}

impl Store for Nflog {
    type Rec = Rec;

    fn name(&self) -> &'static str {
        "nflog"
    }

    fn args(&self, dir: &Path) -> Vec<String> {
        let am = dir.join("alertmanager.yml");
        std::fs::write(
            &am,
            format!(
                "route:\n  receiver: hook\n  group_by: [alertname, key]\n  group_wait: 10ms\n  \
                 group_interval: 1h\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    \
                 webhook_configs:\n      - url: http://127.0.0.1:{}/hook\n",
                self.port
            ),
        )
        .unwrap();
        vec![
            "--alertmanager.config.file".into(),
            am.display().to_string(),
            "--otlp.grpc.listen".into(),
            "0".into(),
        ]
    }

    fn write(
        &self,
        http: &reqwest::blocking::Client,
        url: &str,
        c: usize,
        state: &mut u64,
    ) -> Ack<Rec> {
        *state += 1;
        let rec = Rec {
            key: format!("c{c}-{}", *state),
            starts_at: "2026-01-01T00:00:00Z".into(),
        };
        // A few alerts a second per client: each is a group, notified once.
        std::thread::sleep(Duration::from_millis(5));
        faults::post(
            http,
            &format!("{url}/api/v2/alerts"),
            "application/json",
            serde_json::to_vec(&[alert(&rec)]).unwrap(),
            || rec.clone(),
        )
    }

    fn started(&self, _url: &str) {
        self.starts.lock().unwrap().push(Instant::now());
    }

    fn killed(&self, at: Instant) {
        self.kills.lock().unwrap().push(at);
    }

    fn verify(&self, url: &str, acked: &[Rec]) -> Result<(), String> {
        self.starts.lock().unwrap().push(Instant::now());
        // The acknowledged log entries: notifications answered while a
        // server was up and GRACE before the kill that followed them. (A
        // request the killed server had sent may still be read by the
        // webhook after the kill; nothing logged it.)
        let kills = self.kills.lock().unwrap().clone();
        let starts = self.starts.lock().unwrap().clone();
        let logged: Vec<&Rec> = {
            let h = self.hook.lock().unwrap();
            acked
                .iter()
                .filter(|r| {
                    let Some(&first) = h.seen.get(&r.key).and_then(|v| v.first()) else {
                        return false;
                    };
                    let up = starts.iter().filter(|s| **s <= first).max();
                    let down = kills.iter().filter(|k| **k <= first).max();
                    let alive = match (up, down) {
                        (Some(u), Some(d)) => u > d,
                        (Some(_), None) => true,
                        _ => false,
                    };
                    alive
                        && kills
                            .iter()
                            .find(|k| **k > first)
                            .is_some_and(|k| first + GRACE < *k)
                })
                .collect()
        };
        let before = Instant::now();
        post_alerts(url, &logged.iter().map(|r| alert(r)).collect::<Vec<_>>())?;
        // group_wait is 10 ms: a group whose log entry was lost is notified
        // again well within this.
        std::thread::sleep(Duration::from_millis(1500));
        let h = self.hook.lock().unwrap();
        let again: Vec<String> = logged
            .iter()
            .filter(|r| h.seen[&r.key].iter().any(|t| *t > before))
            .map(|r| format!("{} notified again", r.key))
            .collect();
        eprintln!(
            "nflog: {} of {} posted alerts were notified {GRACE:?} before a kill",
            logged.len(),
            acked.len()
        );
        self.checked
            .fetch_add(logged.len(), std::sync::atomic::Ordering::Relaxed);
        faults::problems("acknowledged notification log entries lost", &again)
    }
}

#[test]
fn issue_18_notification_log_survives_kill_9() {
    let store = Nflog::new();
    faults::kill9_runs(&store, faults::runs(20));
    let checked = store.checked.into_inner();
    assert!(checked > 20, "only {checked} log entries checked");
}
