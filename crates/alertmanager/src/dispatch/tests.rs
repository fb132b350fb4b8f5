//! Dispatcher timing and delivery, on tokio's paused clock: every expected
//! time below is computed by hand from the route's intervals and
//! Alertmanager 0.25's rules.

use std::sync::Mutex as StdMutex;

use async_trait::async_trait;
use chrono::TimeZone;
use tokio::time::Instant;

use super::*;
use crate::config::Config;
use crate::history::{HistoryFilter, Outcome};
use crate::notify::{NotifyContext, NotifyError};

/// One call a fake integration received.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// Seconds since the test started.
    pub at: f64,
    pub group_key: String,
    /// `alertname` plus `+` (firing) or `-` (resolved), in the order sent.
    pub alerts: Vec<String>,
}

/// An integration that records calls and fails while `down` says so.
pub(crate) struct Fake {
    pub start: Instant,
    pub send_resolved: bool,
    pub calls: StdMutex<Vec<Call>>,
    /// Calls fail (retryably) while the test time lies in one of these spans (seconds).
    pub down: StdMutex<Vec<(f64, f64)>>,
    pub clock: Clock,
}

impl Fake {
    pub(crate) fn new(clock: Clock, send_resolved: bool) -> Arc<Fake> {
        Arc::new(Fake {
            start: Instant::now(),
            send_resolved,
            calls: StdMutex::new(Vec::new()),
            down: StdMutex::new(Vec::new()),
            clock,
        })
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The successful calls' times and alerts.
    pub(crate) fn summary(&self) -> Vec<(f64, Vec<String>)> {
        let down = self.down.lock().unwrap().clone();
        self.calls()
            .into_iter()
            .filter(|c| !down.iter().any(|(a, b)| c.at >= *a && c.at < *b))
            .map(|c| (c.at, c.alerts))
            .collect()
    }
}

#[async_trait]
impl Notifier for Fake {
    fn kind(&self) -> &'static str {
        "webhook"
    }
    fn index(&self) -> usize {
        0
    }
    fn send_resolved(&self) -> bool {
        self.send_resolved
    }
    async fn notify(&self, ctx: &NotifyContext, alerts: &[Alert]) -> Result<(), NotifyError> {
        let now = self.clock.now();
        let at = self.start.elapsed().as_secs_f64();
        self.calls.lock().unwrap().push(Call {
            at,
            group_key: ctx.group_key.clone(),
            alerts: alerts
                .iter()
                .map(|a| format!("{}{}", a.name(), if a.resolved_at(now) { "-" } else { "+" }))
                .collect(),
        });
        if self
            .down
            .lock()
            .unwrap()
            .iter()
            .any(|(a, b)| at >= *a && at < *b)
        {
            return Err(NotifyError {
                retryable: true,
                message: "connection refused".into(),
            });
        }
        Ok(())
    }
}

pub(crate) fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
}

pub(crate) const CONFIG: &str = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
- name: team
"#;

struct Harness {
    deps: Arc<Deps>,
    fake: Arc<Fake>,
    _dispatcher: Dispatcher,
}

fn harness(yaml: &str, send_resolved: bool) -> Harness {
    let clock = Clock::tokio_from(base_time());
    let fake = Fake::new(clock.clone(), send_resolved);
    let deps = Arc::new(Deps {
        store: Arc::new(AlertStore::new()),
        silences: Arc::new(Silences::in_memory(crate::silence::DEFAULT_RETENTION)),
        marker: Arc::new(Marker::new()),
        nflog: Arc::new(Nflog::in_memory(crate::silence::DEFAULT_RETENTION)),
        history: Arc::new(History::in_memory(crate::history::DEFAULT_RETENTION)),
        clock,
        external_url: "http://sightline".into(),
        counters: NotifyCounters::default(),
        incidents: None,
    });
    let config = Config::load_str(yaml, "alertmanager.yml").unwrap();
    let fake_dyn: Arc<dyn Notifier> = fake.clone();
    let receivers = HashMap::from([("team".to_string(), vec![fake_dyn])]);
    let pipeline = Arc::new(Pipeline::new(&config, receivers).unwrap());
    let dispatcher = Dispatcher::start(Arc::clone(&deps), pipeline);
    Harness {
        deps,
        fake,
        _dispatcher: dispatcher,
    }
}

impl Harness {
    /// Posts (or re-posts) alert `name`; `ends_in` seconds from now, or
    /// resolved now with `Some(0)`; `None` means a 5-minute timeout end.
    fn post(&self, name: &str, started_secs_ago: i64, ends_in: Option<i64>) {
        let now = self.deps.clock.now();
        let a = Alert {
            labels: [("alertname".to_string(), name.to_string())].into(),
            annotations: LabelSet::new(),
            starts_at: now - chrono::Duration::seconds(started_secs_ago),
            ends_at: now + chrono::Duration::seconds(ends_in.unwrap_or(300)),
            generator_url: String::new(),
            updated_at: now,
            timeout: ends_in.is_none(),
        };
        self.deps.store.put(vec![a], now);
    }
}

/// Sleeps until `secs` after the harness started.
async fn until(h: &Harness, secs: f64) {
    let target = h.fake.start + Duration::from_secs_f64(secs);
    tokio::time::sleep_until(target).await;
}

#[tokio::test(start_paused = true)]
async fn group_wait_interval_and_repeat() {
    let h = harness(CONFIG, true);
    h.post("A", 0, Some(100_000));
    until(&h, 60.0).await;
    h.post("B", 0, Some(100_000));
    // Same alertname groups only; B is its own group.
    until(&h, 61.0).await;
    h.post("A", 0, Some(100_000));
    until(&h, 5000.0).await;
    let a: Vec<(f64, Vec<String>)> = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.group_key.ends_with("{alertname=\"A\"}"))
        .map(|c| (c.at, c.alerts))
        .collect();
    // First flush after group_wait (30 s). Re-posting A changes nothing the
    // receiver has not seen. The log's timestamp is the flush time 30, and a
    // repeat is due when the log is older than repeat_interval, strictly:
    // at 3630 it is exactly 3600 s old, so the repeat goes out at the next
    // flush, 3930 (Alertmanager's well-known "repeat + one group_interval").
    assert_eq!(
        a,
        vec![
            (30.0, vec!["A+".to_string()]),
            (3930.0, vec!["A+".to_string()])
        ]
    );
    let b: Vec<f64> = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.group_key.ends_with("{alertname=\"B\"}"))
        .map(|c| c.at)
        .collect();
    // B's group was created at 60: first flush at 90, repeat at 90+3600+300.
    assert_eq!(b, vec![90.0, 3990.0]);
    assert_eq!(
        h.fake.calls()[0].group_key,
        r#"{}:{alertname="A"}"#,
        "group key as Alertmanager prints it"
    );
}

#[tokio::test(start_paused = true)]
async fn new_alert_in_group_waits_for_group_interval_and_resolved_is_sent() {
    // Group everything together so A and B share one group.
    let h = harness(
        &CONFIG.replace("group_by: [alertname]", "group_by: []"),
        true,
    );
    h.post("A", 0, Some(100_000));
    until(&h, 40.0).await;
    h.post("B", 0, Some(100_000));
    until(&h, 400.0).await;
    // Resolve A at 400: the flush at 630 reports it.
    h.post("A", 400, Some(0));
    until(&h, 1000.0).await;
    assert_eq!(
        h.fake.summary(),
        vec![
            (30.0, vec!["A+".to_string()]),
            (330.0, vec!["A+".to_string(), "B+".to_string()]),
            (630.0, vec!["A-".to_string(), "B+".to_string()]),
        ]
    );
    // After the successful flush A left the group.
    let g = h._dispatcher.groups();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].alerts.len(), 1);
    assert_eq!(g[0].alerts[0].name(), "B");
}

#[tokio::test(start_paused = true)]
async fn without_send_resolved_all_resolved_is_logged_not_sent() {
    let h = harness(CONFIG, false);
    h.post("A", 0, Some(100_000));
    until(&h, 100.0).await;
    h.post("A", 100, Some(0));
    until(&h, 2000.0).await;
    // The resolution is not sent; the group empties after the 330 flush and
    // nothing repeats.
    assert_eq!(h.fake.summary(), vec![(30.0, vec!["A+".to_string()])]);
    assert!(h._dispatcher.groups().is_empty());
    let key = NflogKey {
        group_key: r#"{}:{alertname="A"}"#.into(),
        receiver: "team".into(),
        integration: "webhook".into(),
        index: 0,
    };
    let e = h.deps.nflog.get(&key).unwrap();
    assert!(e.firing.is_empty());
    assert_eq!(e.resolved.len(), 1);
}

use crate::nflog::NflogKey;

#[tokio::test(start_paused = true)]
async fn receiver_down_ten_minutes_gets_the_resolution_when_back() {
    let h = harness(CONFIG, true);
    h.fake.down.lock().unwrap().push((60.0, 660.0));
    h.post("A", 0, Some(100_000));
    until(&h, 120.0).await;
    h.post("A", 120, Some(0));
    until(&h, 1000.0).await;
    // Sent at 30 while up. The flush at 330 retries until 630 and fails; the
    // flush at 630 retries after 1, 1.5, 2.25, ... s: attempts at 630, 631,
    // 632.5, 634.75, 638.125, 643.1875, 650.78125, 662.171875 — the last one
    // after the receiver came back at 660. (Tokio's timer has millisecond
    // steps, hence the tolerance.)
    let ok = h.fake.summary();
    assert_eq!(ok.len(), 2, "{ok:?}");
    assert_eq!(ok[0], (30.0, vec!["A+".to_string()]));
    assert!((ok[1].0 - 662.171875).abs() < 0.01, "{}", ok[1].0);
    assert_eq!(ok[1].1, vec!["A-".to_string()]);
    let at_630: Vec<f64> = h
        .fake
        .calls()
        .iter()
        .map(|c| c.at)
        .filter(|t| *t >= 630.0)
        .collect();
    let expected = [
        630.0, 631.0, 632.5, 634.75, 638.125, 643.1875, 650.78125, 662.171875,
    ];
    assert_eq!(at_630.len(), expected.len(), "{at_630:?}");
    for (got, want) in at_630.iter().zip(expected) {
        assert!((got - want).abs() < 0.01, "{got} vs {want}");
    }
    // History: every attempt, newest first; the last one succeeded.
    let hist = h.deps.history.query(&HistoryFilter::default());
    assert_eq!(hist[0].outcome, Outcome::Success);
    assert_eq!(hist[0].attempt, 8);
    assert_eq!(hist[0].alerts[0].status, "resolved");
    assert_eq!(hist[1].outcome, Outcome::Retrying);
    assert_eq!(hist[1].error.as_deref(), Some("connection refused"));
    assert_eq!(hist.last().unwrap().outcome, Outcome::Success);
    // The 330 flush's last attempt is recorded as failed: no time was left.
    assert!(hist
        .iter()
        .any(|a| a.outcome == Outcome::Failed && a.time < h.deps.clock.now()));
    assert!(h._dispatcher.groups().is_empty());
}

#[tokio::test(start_paused = true)]
async fn silenced_alerts_are_not_sent_and_marked() {
    let h = harness(CONFIG, true);
    let now = h.deps.clock.now();
    let id = h
        .deps
        .silences
        .set(
            crate::silence::Silence {
                id: String::new(),
                matchers: crate::matcher::Matchers(vec![crate::matcher::Matcher::new(
                    "alertname",
                    crate::matcher::MatchOp::Equal,
                    "A",
                )
                .unwrap()]),
                starts_at: now,
                ends_at: now + chrono::Duration::seconds(600),
                updated_at: now,
                created_by: "t".into(),
                comment: "c".into(),
            },
            now,
        )
        .unwrap();
    h.post("A", 0, Some(100_000));
    h.post("B", 0, Some(100_000));
    until(&h, 700.0).await;
    let fp = h
        .deps
        .store
        .list()
        .iter()
        .find(|a| a.name() == "A")
        .unwrap()
        .fingerprint();
    // B at 30; A silenced until 600, then sent at the first flush after: 630.
    let mut got: Vec<(f64, Vec<String>)> = h.fake.summary();
    got.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(
        got,
        vec![
            (30.0, vec!["B+".to_string()]),
            (630.0, vec!["A+".to_string()])
        ]
    );
    let st = h.deps.marker.status(fp);
    assert_eq!(st.state, crate::marker::AlertState::Active);
    let _ = id;
}

#[tokio::test(start_paused = true)]
async fn time_intervals_mute_and_activate() {
    let yaml = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
  - matchers: ['alertname="Muted"']
    mute_time_intervals: [morning]
  - matchers: ['alertname="Active"']
    active_time_intervals: [morning]
time_intervals:
- name: morning
  time_intervals:
  - times:
    - start_time: "10:00"
      end_time: "10:10"
receivers:
- name: team
"#;
    // The test clock starts at 10:00 UTC.
    let h = harness(yaml, true);
    h.post("Muted", 0, Some(100_000));
    h.post("Active", 0, Some(100_000));
    until(&h, 700.0).await;
    let mut got = h.fake.summary();
    got.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Active is sent inside 10:00-10:10 (first flush, 10:00:30); Muted's
    // flushes at 10:00:30 and 10:05:30 are muted, the one at 10:10:30 is
    // outside the interval (its end is exclusive).
    assert_eq!(
        got,
        vec![
            (30.0, vec!["Active+".to_string()]),
            (630.0, vec!["Muted+".to_string()])
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn inhibited_alerts_are_not_sent_and_marked() {
    let yaml = r#"
route:
  receiver: team
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
receivers:
- name: team
"#;
    let h = harness(yaml, true);
    let now = h.deps.clock.now();
    let mk = |name: &str, cluster: &str, severity: &str| Alert {
        labels: [
            ("alertname".to_string(), name.to_string()),
            ("cluster".to_string(), cluster.to_string()),
            ("severity".to_string(), severity.to_string()),
        ]
        .into(),
        annotations: LabelSet::new(),
        starts_at: now,
        ends_at: now + chrono::Duration::seconds(100_000),
        generator_url: String::new(),
        updated_at: now,
        timeout: false,
    };
    let crit = mk("Down", "a", "critical");
    let warn_a = mk("Slow", "a", "warning");
    let warn_b = mk("Slow", "b", "warning");
    h.deps
        .store
        .put(vec![crit.clone(), warn_a.clone(), warn_b.clone()], now);
    until(&h, 100.0).await;
    let mut got: Vec<(f64, String)> = h
        .fake
        .calls()
        .into_iter()
        .map(|c| (c.at, c.group_key))
        .collect();
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got,
        vec![
            (30.0, r#"{}:{alertname="Down", cluster="a"}"#.to_string()),
            (30.0, r#"{}:{alertname="Slow", cluster="b"}"#.to_string()),
        ]
    );
    let st = h.deps.marker.status(warn_a.fingerprint());
    assert_eq!(st.state, crate::marker::AlertState::Suppressed);
    assert_eq!(
        st.inhibited_by,
        vec![format!("{:016x}", crit.fingerprint())]
    );
    assert_eq!(
        h.deps.marker.status(warn_b.fingerprint()).state,
        crate::marker::AlertState::Active
    );
}
