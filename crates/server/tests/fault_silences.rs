//! Issue 18, part 5: the built-in Alertmanager's silences under `kill -9`.
//!
//! Three clients create silences through API v2 as fast as the server
//! answers and expire every third one right away; the server is killed at
//! a random point, 20 times on the same directory. After each restart
//! every acknowledged silence must be listed by `GET /api/v2/silences`
//! with its matcher and comment, and every acknowledged expiry must have
//! left it expired.

mod common;
#[path = "common/faults.rs"]
mod faults;

use faults::{Ack, Store};
use std::collections::HashMap;
use std::path::Path;

struct Silences;

/// One acknowledged silence: its id, the test's own key (in its matcher
/// and comment), and whether an expiry of it was acknowledged.
#[derive(Clone, Debug)]
struct Rec {
    id: String,
    key: String,
    expired: bool,
}

fn rfc3339(ns: i64) -> String {
    let secs = ns / 1_000_000_000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Store for Silences {
    type Rec = Rec;

    fn name(&self) -> &'static str {
        "silences"
    }

    fn args(&self, dir: &Path) -> Vec<String> {
        let am = dir.join("alertmanager.yml");
        std::fs::write(
            &am,
            "route:\n  receiver: none\nreceivers:\n  - name: none\n",
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
        let key = format!("c{c}-{}", *state);
        let now = faults::now_ns();
        let body = serde_json::json!({
            "matchers": [{"name": "fault_key", "value": key, "isRegex": false, "isEqual": true}],
            "startsAt": rfc3339(now - 60_000_000_000),
            "endsAt": rfc3339(now + 3_600_000_000_000),
            "createdBy": "fault test",
            "comment": format!("silence {key}"),
        });
        let r = match http
            .post(format!("{url}/api/v2/silences"))
            .json(&body)
            .send()
        {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                let st = r.status();
                return Ack::Refused(format!("{st}: {}", r.text().unwrap_or_default()));
            }
            Err(_) => return Ack::Gone,
        };
        let Ok(v) = r.json::<serde_json::Value>() else {
            // Answered 200 but the body was cut by the kill: the create
            // counts as acknowledged only with its id in hand.
            return Ack::Gone;
        };
        let id = v["silenceID"].as_str().unwrap_or_default().to_owned();
        let mut rec = Rec {
            id,
            key,
            expired: false,
        };
        if (*state).is_multiple_of(3) {
            if let Ok(r) = http
                .delete(format!("{url}/api/v2/silence/{}", rec.id))
                .send()
            {
                rec.expired = r.status().is_success();
            }
        }
        Ack::Yes(rec)
    }

    fn verify(&self, url: &str, acked: &[Rec]) -> Result<(), String> {
        let v: serde_json::Value = common::http()
            .get(format!("{url}/api/v2/silences"))
            .send()
            .and_then(|r| r.json())
            .map_err(|e| format!("list silences: {e}"))?;
        let by_id: HashMap<&str, &serde_json::Value> = v
            .as_array()
            .ok_or_else(|| format!("silences answered {v}"))?
            .iter()
            .map(|s| (s["id"].as_str().unwrap_or_default(), s))
            .collect();
        let mut bad = Vec::new();
        for r in acked {
            let Some(s) = by_id.get(r.id.as_str()) else {
                bad.push(format!("silence {} ({}) missing", r.id, r.key));
                continue;
            };
            if s["comment"] != format!("silence {}", r.key)
                || s["matchers"][0]["value"] != r.key.as_str()
            {
                bad.push(format!("silence {} is not {}: {s}", r.id, r.key));
            }
            let state = s["status"]["state"].as_str().unwrap_or_default();
            if r.expired && state != "expired" {
                bad.push(format!("silence {} expired but {state}", r.id));
            }
        }
        faults::problems("acknowledged silences lost or wrong", &bad)
    }
}

#[test]
fn issue_18_silences_survive_kill_9() {
    assert_eq!(rfc3339(1_700_000_000_000_000_000), "2023-11-14T22:13:20Z");
    faults::kill9_runs(&Silences, faults::runs(20));
}

#[test]
fn issue_18_silences_full_disk_refuses_writes_and_recovers() {
    faults::full_disk(&Silences, 256 << 10);
}
