//! Running monitors at their interval.
//!
//! Each (monitor, target) pair gets its own task. Its first run is offset
//! into the interval by a hash of the pair, so a thousand targets with the
//! same interval spread over it instead of firing together (Prometheus
//! spreads scrape loops the same way), and stays at the same phase across
//! restarts. Runs never overlap: the timeout is at most the interval and a
//! run that overruns skips the ticks it missed.

use crate::config::Monitor;
use crate::{run_probe, ProbeResult};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Receives each result with the probe's start time (unix milliseconds).
pub type ProbeCallback = Arc<dyn Fn(&Monitor, &ProbeResult, i64) + Send + Sync>;

/// Runs monitors until stopped.
pub struct ProbeScheduler {
    cancel: CancellationToken,
    tasks: JoinSet<()>,
    pairs: usize,
}

impl ProbeScheduler {
    /// Starts every monitor's targets on the current tokio runtime.
    pub fn start(monitors: Vec<Monitor>, callback: ProbeCallback) -> Self {
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let mut pairs = 0;
        for m in monitors {
            let m = Arc::new(m);
            for target in m.targets.clone() {
                pairs += 1;
                let (m, cb, cancel) = (m.clone(), callback.clone(), cancel.clone());
                tasks.spawn(async move {
                    tokio::select! {
                        _ = cancel.cancelled() => {}
                        _ = run_loop(&m, &target, cb) => {}
                    }
                });
            }
        }
        ProbeScheduler {
            cancel,
            tasks,
            pairs,
        }
    }

    /// How many (monitor, target) loops run.
    pub fn len(&self) -> usize {
        self.pairs
    }

    /// True when no loop runs.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Stops every loop (a probe in flight is abandoned) and waits for them.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// The offset of a pair's runs within its interval: a stable hash of the
/// names (FNV-1a, so it does not change between builds or runs).
pub(crate) fn offset(monitor: &str, target: &str, interval: Duration) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in monitor.bytes().chain([0]).chain(target.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let n = interval.as_nanos().max(1) as u64;
    Duration::from_nanos(h % n)
}

use sightline_core::time::now_ms;

async fn run_loop(m: &Monitor, target: &str, cb: ProbeCallback) {
    // Align to wall-clock multiples of the interval plus the pair's offset,
    // so the phase does not depend on when the process started.
    let iv = m.interval;
    let off = offset(&m.name, target, iv).as_nanos() as i128;
    let now_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let ivn = iv.as_nanos() as i128;
    let wait = (off - now_ns).rem_euclid(ivn);
    let start = tokio::time::Instant::now() + Duration::from_nanos(wait as u64);
    let mut ticker = tokio::time::interval_at(start, iv);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticker.tick().await;
        let ts = now_ms();
        let result = run_probe(&m.module, target, m.timeout).await;
        // A panicking callback must not end this target's loop for good.
        let call = std::panic::AssertUnwindSafe(|| cb(m, &result, ts));
        if std::panic::catch_unwind(call).is_err() {
            tracing::error!(monitor = %m.name, target, "probe result callback panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn offsets_spread_and_stay() {
        let iv = Duration::from_secs(10);
        let a = offset("m", "t1", iv);
        assert_eq!(a, offset("m", "t1", iv));
        assert!(a < iv);
        let distinct: std::collections::HashSet<u128> = (0..100)
            .map(|i| offset("m", &format!("t{i}"), iv).as_millis() / 100)
            .collect();
        // 100 targets over 100 buckets of 100 ms: a uniform hash fills many.
        assert!(distinct.len() > 40, "{}", distinct.len());
    }

    #[tokio::test]
    async fn runs_each_target_and_stops() {
        let module = crate::Module {
            prober: "tcp".into(),
            ..Default::default()
        };
        let m = Monitor {
            name: "m".into(),
            module_name: "tcp".into(),
            module: Arc::new(module),
            // Port 1 on loopback refuses at once.
            targets: vec!["127.0.0.1:1".into(), "127.0.0.2:1".into()],
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(100),
            labels: Default::default(),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let cb: ProbeCallback = Arc::new(move |m, r, ts| {
            s2.lock()
                .unwrap()
                .push((m.name.clone(), r.target.clone(), r.success, ts));
        });
        let sched = ProbeScheduler::start(vec![m], cb);
        assert_eq!(sched.len(), 2);
        tokio::time::sleep(Duration::from_millis(650)).await;
        sched.stop().await;
        let n = {
            let seen = seen.lock().unwrap();
            for t in ["127.0.0.1:1", "127.0.0.2:1"] {
                let runs: Vec<i64> = seen.iter().filter(|s| s.1 == t).map(|s| s.3).collect();
                assert!(runs.len() >= 2, "{t}: {} runs", runs.len());
                // Consecutive runs of one target are an interval apart, not bunched.
                assert!(runs.windows(2).all(|w| w[1] - w[0] >= 50), "{runs:?}");
            }
            assert!(seen.iter().all(|s| !s.2));
            seen.len()
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(seen.lock().unwrap().len(), n, "results after stop");
    }
}
