//! Uptime per monitor target: ratios over 24h, 7d, 30d and 90d, the list of
//! outages with their causes, and days until the certificate expires.
//!
//! State is a list of *observed spans* (time during which results kept
//! arriving) and *outages* (a first failure until the next success). The
//! ratio over a window is 1 - (outage time / observed time) within it, so
//! time when Sightline itself was not running counts neither way. We keep
//! this small state in a file rather than recomputing from stored
//! `probe_success` samples because the file survives TSDB retention shorter
//! than 90 days and answers in microseconds; `docs/probes.md` describes it.

use crate::{Error, ProbeResult, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;
/// Windows reported, and the longest one bounds what is kept.
const WINDOWS_DAYS: [i64; 4] = [1, 7, 30, 90];
const FILE_NAME: &str = "uptime.jsonl";
const HEADER: &str = r#"{"format":"sightline-uptime","version":1}"#;

/// One outage: from the first failed probe to the first successful one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// Start, unix milliseconds (the first failed probe).
    pub start_ms: i64,
    /// End, unix milliseconds (the next successful probe); `None` while ongoing.
    pub end_ms: Option<i64>,
    /// The first failure's cause.
    pub cause: String,
}

/// What the uptime API shows for one monitor target.
#[derive(Debug, Clone, PartialEq)]
pub struct UptimeReport {
    /// Monitor name.
    pub monitor: String,
    /// Target.
    pub target: String,
    /// The last result's success.
    pub up: bool,
    /// Uptime ratio (0..1) over the last 24h, 7d, 30d, 90d; `None` when
    /// nothing was observed in the window.
    pub ratios: [Option<f64>; 4],
    /// Outages overlapping the last 90 days, newest first.
    pub outages: Vec<Outage>,
    /// Days until the earliest certificate expires (negative once expired).
    pub cert_days_left: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TargetState {
    monitor: String,
    target: String,
    /// Observed spans `[start_ms, end_ms]`, oldest first, not overlapping.
    spans: Vec<(i64, i64)>,
    outages: Vec<Outage>,
    up: bool,
    cert_expiry: Option<f64>,
}

/// Uptime of every monitor target, optionally persisted in `dir`.
#[derive(Debug, Default)]
pub struct UptimeTracker {
    path: Option<PathBuf>,
    targets: BTreeMap<(String, String), TargetState>,
}

impl UptimeTracker {
    /// A tracker that keeps nothing on disk.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Opens (or starts) the state file `dir/uptime.jsonl`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let mut t = UptimeTracker {
            path: Some(path.clone()),
            targets: BTreeMap::new(),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(t),
            Err(e) => return Err(e.into()),
        };
        let bad = |line: usize, message: String| Error::State {
            file: path.display().to_string(),
            line,
            message,
        };
        for (i, line) in text.lines().enumerate() {
            if i == 0 {
                if line != HEADER {
                    return Err(bad(1, format!("expected header {HEADER}")));
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let s: TargetState =
                serde_json::from_str(line).map_err(|e| bad(i + 1, e.to_string()))?;
            t.targets.insert((s.monitor.clone(), s.target.clone()), s);
        }
        Ok(t)
    }

    /// Records one result taken at `ts_ms`. `interval` is the monitor's: a
    /// result more than two intervals after the previous one starts a new
    /// observed span (the gap was not observed).
    pub fn record(
        &mut self,
        monitor: &str,
        target: &str,
        interval: Duration,
        result: &ProbeResult,
        ts_ms: i64,
    ) {
        let key = (monitor.to_string(), target.to_string());
        let st = self.targets.entry(key).or_insert_with(|| TargetState {
            monitor: monitor.to_string(),
            target: target.to_string(),
            up: true,
            ..TargetState::default()
        });
        let gap = 2 * interval.as_millis() as i64;
        match st.spans.last_mut() {
            Some(last) if ts_ms >= last.1 && ts_ms - last.1 <= gap => last.1 = ts_ms,
            Some(last) if ts_ms < last.1 => {} // out of order: ignore for spans
            _ => st.spans.push((ts_ms, ts_ms)),
        }
        let ongoing = st.outages.last().is_some_and(|o| o.end_ms.is_none());
        if result.success {
            if ongoing {
                st.outages.last_mut().expect("ongoing").end_ms = Some(ts_ms);
            }
        } else if !ongoing {
            st.outages.push(Outage {
                start_ms: ts_ms,
                end_ms: None,
                cause: result
                    .failure
                    .clone()
                    .unwrap_or_else(|| "probe failed".into()),
            });
        }
        st.up = result.success;
        if result.cert_expiry.is_some() {
            st.cert_expiry = result.cert_expiry;
        }
        // Forget what lies beyond the longest window.
        let horizon = ts_ms - WINDOWS_DAYS[3] * DAY_MS;
        st.spans.retain(|s| s.1 >= horizon);
        st.outages.retain(|o| o.end_ms.is_none_or(|e| e >= horizon));
    }

    /// Drops targets no longer configured (keyed by monitor and target).
    pub fn retain(&mut self, keep: impl Fn(&str, &str) -> bool) {
        self.targets.retain(|(m, t), _| keep(m, t));
    }

    /// The report for one target at `now_ms`.
    pub fn report(&self, monitor: &str, target: &str, now_ms: i64) -> Option<UptimeReport> {
        let st = self
            .targets
            .get(&(monitor.to_string(), target.to_string()))?;
        Some(report_of(st, now_ms))
    }

    /// Reports for every target, ordered by monitor and target.
    pub fn reports(&self, now_ms: i64) -> Vec<UptimeReport> {
        self.targets
            .values()
            .map(|s| report_of(s, now_ms))
            .collect()
    }

    /// Writes the state file (to a temporary file renamed over the old one,
    /// so a crash leaves either the old or the new state).
    pub fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let tmp = path.with_extension("jsonl.tmp");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        writeln!(f, "{HEADER}")?;
        for st in self.targets.values() {
            let line =
                serde_json::to_string(st).map_err(|e| Error::Io(std::io::Error::other(e)))?;
            writeln!(f, "{line}")?;
        }
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

fn overlap(a: (i64, i64), b: (i64, i64)) -> i64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0)
}

fn report_of(st: &TargetState, now_ms: i64) -> UptimeReport {
    let mut ratios = [None; 4];
    for (i, days) in WINDOWS_DAYS.iter().enumerate() {
        let w = (now_ms - days * DAY_MS, now_ms);
        let observed: i64 = st.spans.iter().map(|s| overlap(*s, w)).sum();
        if observed == 0 {
            // A single result is a zero-length span: report its state.
            if st.spans.iter().any(|s| s.0 >= w.0 && s.0 <= w.1) {
                ratios[i] = Some(if st.up { 1.0 } else { 0.0 });
            }
            continue;
        }
        // Down time is counted only where it was observed.
        let down: i64 = st
            .outages
            .iter()
            .map(|o| (o.start_ms, o.end_ms.unwrap_or(now_ms)))
            .map(|o| {
                st.spans
                    .iter()
                    .map(|s| overlap((o.0.max(s.0), o.1.min(s.1)), w))
                    .sum::<i64>()
            })
            .sum();
        ratios[i] = Some((1.0 - down as f64 / observed as f64).clamp(0.0, 1.0));
    }
    let horizon = now_ms - WINDOWS_DAYS[3] * DAY_MS;
    let mut outages: Vec<Outage> = st
        .outages
        .iter()
        .filter(|o| o.end_ms.is_none_or(|e| e >= horizon))
        .cloned()
        .collect();
    outages.reverse();
    UptimeReport {
        monitor: st.monitor.clone(),
        target: st.target.clone(),
        up: st.up,
        ratios,
        outages,
        cert_days_left: st
            .cert_expiry
            .map(|e| (e - now_ms as f64 / 1000.0) / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(ok: bool, cause: &str) -> ProbeResult {
        ProbeResult {
            prober: "http".into(),
            target: "t".into(),
            success: ok,
            duration_seconds: 0.0,
            failure: (!ok).then(|| cause.to_string()),
            families: vec![],
            logs: vec![],
            cert_expiry: Some(1_000_000.0),
        }
    }

    #[test]
    fn ratio_outages_and_persistence() {
        let dir = std::env::temp_dir().join(format!("sightline-uptime-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let iv = Duration::from_secs(60);
        let mut t = UptimeTracker::open(&dir).unwrap();
        // 100 minutes of results every minute; down from minute 10 to 20
        // (first failure at 10, first success at 20): 10 of 99 observed minutes.
        let base = 10 * DAY_MS;
        for i in 0..100 {
            let ok = !(10..20).contains(&i);
            t.record(
                "m",
                "t",
                iv,
                &res(ok, "connection refused"),
                base + i * 60_000,
            );
        }
        t.save().unwrap();
        let t = UptimeTracker::open(&dir).unwrap();
        let now = base + 99 * 60_000;
        let r = t.report("m", "t", now).unwrap();
        let want = 1.0 - 10.0 / 99.0;
        assert!((r.ratios[0].unwrap() - want).abs() < 1e-9, "{:?}", r.ratios);
        assert_eq!(r.ratios[0], r.ratios[3]);
        assert_eq!(
            r.outages,
            vec![Outage {
                start_ms: base + 600_000,
                end_ms: Some(base + 1_200_000),
                cause: "connection refused".into()
            }]
        );
        // 1,000,000 s is 11.574 days after the epoch; now is 10 days + 99 min.
        let days = (1_000_000.0 - now as f64 / 1000.0) / 86400.0;
        assert!((r.cert_days_left.unwrap() - days).abs() < 1e-9);
        assert!(r.up);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn gaps_are_not_counted() {
        let iv = Duration::from_secs(60);
        let mut t = UptimeTracker::in_memory();
        // Up for 10 minutes, then nothing for a day, then down for 10 minutes
        // (still ongoing): 10 down of 19 observed minutes (9 + 10 between
        // the first and last result of each span, hand count: spans
        // [0,9] and [day, day+10] minutes).
        for i in 0..10 {
            t.record("m", "t", iv, &res(true, ""), i * 60_000);
        }
        for i in 0..=10 {
            t.record("m", "t", iv, &res(false, "timeout"), DAY_MS + i * 60_000);
        }
        let r = t.report("m", "t", DAY_MS + 600_000).unwrap();
        let want = 1.0 - 10.0 / 19.0;
        assert!((r.ratios[1].unwrap() - want).abs() < 1e-9, "{:?}", r.ratios);
        assert!(!r.up);
        assert_eq!(r.outages[0].end_ms, None);
    }

    #[test]
    fn corrupt_file_names_the_line() {
        let dir = std::env::temp_dir().join(format!("sightline-uptime-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), format!("{HEADER}\n{{not json\n")).unwrap();
        let e = UptimeTracker::open(&dir).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
