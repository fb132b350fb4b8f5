use std::collections::HashMap;
use std::sync::Arc;

use tokio::time::{sleep, Duration};

use super::*;
use crate::dispatch::tests::{base_time, Fake, CONFIG};
use crate::matcher::ApiMatcher;

fn start(dir: &std::path::Path, yaml: &str) -> (Arc<Alertmanager>, Arc<Fake>) {
    start_at(dir, yaml, base_time())
}

/// Starts with the wall clock reading `wall` now.
fn start_at(
    dir: &std::path::Path,
    yaml: &str,
    wall: chrono::DateTime<chrono::Utc>,
) -> (Arc<Alertmanager>, Arc<Fake>) {
    let clock = Clock::tokio_from(wall);
    let fake = Fake::new(clock.clone(), true);
    let fake_dyn: Arc<dyn Notifier> = fake.clone();
    let notifiers = HashMap::from([("team".to_string(), vec![fake_dyn])]);
    let config = Config::load_str(yaml, "alertmanager.yml").unwrap();
    let am = Alertmanager::start_inner(
        config,
        AlertmanagerOptions::new(dir),
        clock,
        Some(notifiers),
    )
    .unwrap();
    (am, fake)
}

/// An alert that fires for ten hours from the test's start.
fn long(pairs: &[(&str, &str)]) -> PostableAlert {
    let mut a = postable(pairs);
    // Without startsAt, Alertmanager would start it at its endsAt.
    a.starts_at = Some(base_time());
    a.ends_at = Some(base_time() + chrono::Duration::hours(10));
    a
}

fn postable(pairs: &[(&str, &str)]) -> PostableAlert {
    PostableAlert {
        labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn put_alerts_validates_and_lists_like_api_v2() {
    let dir = tempfile::tempdir().unwrap();
    let (am, _fake) = start(dir.path(), CONFIG);
    let mut backwards = postable(&[("alertname", "B")]);
    backwards.starts_at = Some(base_time() + chrono::Duration::seconds(10));
    backwards.ends_at = Some(base_time());
    let err = am
        .put_alerts(vec![
            postable(&[("alertname", "A"), ("x", "")]),
            postable(&[]),
            backwards,
            postable(&[("1bad", "B")]),
        ])
        .unwrap_err();
    // Alertmanager 0.25's messages for the same four alerts.
    assert_eq!(
        err.to_string(),
        "at least one label pair required; start time must be before end time; invalid label set: invalid name \"1bad\""
    );
    let got = am.alerts(&AlertFilter::default()).unwrap();
    assert_eq!(got.len(), 1);
    // Alertmanager 0.25 answered this for {alertname="A"} posted without times
    // (fingerprint included); times are ours: start now, end now + 5m.
    assert_eq!(
        serde_json::to_string(&got[0]).unwrap(),
        r#"{"annotations":{},"endsAt":"2024-05-01T10:05:00.000Z","fingerprint":"d2c6efc389df0927","receivers":[{"name":"team"}],"startsAt":"2024-05-01T10:00:00.000Z","status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2024-05-01T10:00:00.000Z","labels":{"alertname":"A"}}"#
    );
    // Filters.
    let f = AlertFilter {
        active: false,
        ..Default::default()
    };
    assert!(am.alerts(&f).unwrap().is_empty());
    let f = AlertFilter {
        receiver: Some("tea".into()),
        ..Default::default()
    };
    assert!(
        am.alerts(&f).unwrap().is_empty(),
        "receiver regex is anchored"
    );
    let f = AlertFilter {
        matchers: crate::matcher::parse_matchers("alertname=~\"A|Z\"").unwrap(),
        ..Default::default()
    };
    assert_eq!(am.alerts(&f).unwrap().len(), 1);
    assert_eq!(am.receivers(), vec!["team".to_string()]);
    // Groups: one group, its receiver and labels.
    sleep(Duration::from_secs(1)).await;
    let groups = am.alert_groups(&AlertFilter::default()).unwrap();
    assert_eq!(
        serde_json::to_value(&groups).unwrap()[0]["receiver"],
        serde_json::json!({"name": "team"})
    );
    assert_eq!(
        serde_json::to_value(&groups).unwrap()[0]["labels"],
        serde_json::json!({"alertname": "A"})
    );
}

#[tokio::test(start_paused = true)]
async fn silences_through_the_facade_mute_and_show_in_status() {
    let dir = tempfile::tempdir().unwrap();
    let (am, fake) = start(dir.path(), CONFIG);
    let id = am
        .put_silence(SilenceInput {
            id: None,
            matchers: vec![ApiMatcher {
                name: "alertname".into(),
                value: "A".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: base_time() - chrono::Duration::hours(1),
            ends_at: base_time() + chrono::Duration::hours(1),
            created_by: "me".into(),
            comment: "maintenance".into(),
        })
        .unwrap();
    let v = am.get_silence(&id).unwrap();
    // A start in the past becomes now, as in Alertmanager.
    assert_eq!(v.starts_at, base_time());
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["status"], serde_json::json!({"state": "active"}));
    assert_eq!(json["endsAt"], "2024-05-01T11:00:00.000Z");
    am.put_alerts(vec![long(&[("alertname", "A")])]).unwrap();
    sleep(Duration::from_secs(100)).await;
    assert!(fake.calls().is_empty(), "silenced");
    let a = &am.alerts(&AlertFilter::default()).unwrap()[0];
    assert_eq!(a.status.silenced_by, vec![id.clone()]);
    let f = AlertFilter {
        silenced: false,
        ..Default::default()
    };
    assert!(am.alerts(&f).unwrap().is_empty());
    // Expiring lets the next flush (at 330) send it.
    am.expire_silence(&id).unwrap();
    sleep(Duration::from_secs(300)).await;
    assert_eq!(fake.summary(), vec![(330.0, vec!["A+".to_string()])]);
    assert_eq!(am.silences(&[])[0].status.state, SilenceState::Expired);
    assert!(matches!(am.get_silence("nope"), Err(Error::NotFound(_))));
    let st = serde_json::to_value(am.status()).unwrap();
    assert_eq!(
        st["cluster"],
        serde_json::json!({"peers": [], "status": "disabled"})
    );
    assert_eq!(st["config"]["original"], CONFIG);
    assert_eq!(st["uptime"], "2024-05-01T10:00:00.000Z");
}

#[tokio::test(start_paused = true)]
async fn restart_does_not_notify_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = postable(&[("alertname", "A")]);
    a.starts_at = Some(base_time());
    a.ends_at = Some(base_time() + chrono::Duration::hours(10));
    {
        let (am, fake) = start(dir.path(), CONFIG);
        am.put_alerts(vec![a.clone()]).unwrap();
        sleep(Duration::from_secs(60)).await;
        assert_eq!(fake.summary(), vec![(30.0, vec!["A+".to_string()])]);
        am.shutdown().unwrap();
    }
    // Prometheus re-sends the alert to the restarted Alertmanager: its
    // group is overdue and flushes at once, but the log says it was sent.
    let later = base_time() + chrono::Duration::seconds(60);
    let (am, fake) = start_at(dir.path(), CONFIG, later);
    am.put_alerts(vec![a.clone()]).unwrap();
    sleep(Duration::from_secs(600)).await;
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    am.shutdown().unwrap();
    // The same with an empty data directory does send, right away.
    let fresh = tempfile::tempdir().unwrap();
    let (am, fake) = start_at(fresh.path(), CONFIG, later);
    am.put_alerts(vec![a]).unwrap();
    sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.summary(), vec![(0.0, vec!["A+".to_string()])]);
    am.shutdown().unwrap();
}

#[tokio::test(start_paused = true)]
async fn reload_rebuilds_groups_without_resending() {
    let dir = tempfile::tempdir().unwrap();
    let (am, fake) = start(dir.path(), CONFIG);
    am.put_alerts(vec![long(&[("alertname", "A")])]).unwrap();
    sleep(Duration::from_secs(60)).await;
    am.apply_config(Config::load_str(CONFIG, "alertmanager.yml").unwrap())
        .unwrap();
    sleep(Duration::from_secs(1)).await;
    assert_eq!(am.alert_groups(&AlertFilter::default()).unwrap().len(), 1);
    sleep(Duration::from_secs(600)).await;
    assert_eq!(fake.summary(), vec![(30.0, vec!["A+".to_string()])]);
    // A config routing the alert through a new child route makes a new
    // group (new route key), which notifies at once: its alert is overdue.
    let rerouted = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
  routes:
  - receiver: team
    matchers: ['alertname="A"']
receivers:
- name: team
"#;
    let cfg = Config::load_str(rerouted, "alertmanager.yml").unwrap();
    am.apply_config(cfg).unwrap();
    sleep(Duration::from_secs(1)).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1].group_key, r#"{}/{alertname="A"}:{alertname="A"}"#);
}

#[tokio::test(start_paused = true)]
async fn silences_list_in_alertmanagers_order() {
    let dir = tempfile::tempdir().unwrap();
    let (am, _fake) = start(dir.path(), CONFIG);
    let h = |n: i64| base_time() + chrono::Duration::hours(n);
    let put = |comment: &str, starts: chrono::DateTime<chrono::Utc>, ends| {
        am.put_silence(SilenceInput {
            id: None,
            matchers: vec![ApiMatcher {
                name: "n".into(),
                value: comment.into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: starts,
            ends_at: ends,
            created_by: "x".into(),
            comment: comment.into(),
        })
        .unwrap()
    };
    put("act_late", h(-1), h(3));
    put("act_soon", h(-1), h(1));
    put("pend_late", h(2), h(5));
    put("pend_soon", h(1), h(5));
    let e1 = put("exp_first", h(-1), h(3));
    let e2 = put("exp_second", h(-1), h(3));
    sleep(Duration::from_secs(1)).await;
    am.expire_silence(&e1).unwrap();
    sleep(Duration::from_secs(1)).await;
    am.expire_silence(&e2).unwrap();
    // The order Alertmanager 0.25 listed the same six silences in: active by
    // end, pending by start, expired by end, latest first.
    let order: Vec<String> = am.silences(&[]).into_iter().map(|s| s.comment).collect();
    assert_eq!(
        order,
        [
            "act_soon",
            "act_late",
            "pend_soon",
            "pend_late",
            "exp_second",
            "exp_first"
        ]
    );
    // The filter compares against the silences' own matchers.
    let f = crate::matcher::parse_matchers(r#"n=~"pend.*""#).unwrap();
    let order: Vec<String> = am.silences(&f).into_iter().map(|s| s.comment).collect();
    assert_eq!(order, ["pend_soon", "pend_late"]);
}

#[test]
fn facade_is_shareable_across_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Alertmanager>();
}
