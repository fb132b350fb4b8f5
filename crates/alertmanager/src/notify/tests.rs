//! Shared fixtures for the notifier tests, and tests of `build_integrations`.

use super::*;
use chrono::Utc;

pub(crate) fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A notifier built by its `new` as the first of its kind, with default
/// globals and templates.
pub(crate) fn build<C, N>(
    config: &C,
    new: fn(usize, &C, &GlobalConfig, Arc<Templates>) -> Result<N, String>,
) -> N {
    new(
        0,
        config,
        &GlobalConfig::default(),
        Arc::new(Templates::default()),
    )
    .unwrap()
}

/// Receiver `team`, grouped by alertname.
pub(crate) fn ctx() -> NotifyContext {
    NotifyContext {
        receiver: "team".into(),
        group_key: r#"{}:{alertname="Disk"}"#.into(),
        group_labels: ls(&[("alertname", "Disk")]),
        repeat_interval: Duration::from_secs(3600),
        external_url: "http://sightline:9093".into(),
    }
}

/// One firing alert (instance a:1) and one resolved (b:2).
pub(crate) fn sample_alerts() -> Vec<Alert> {
    let now = Utc::now();
    let mk = |inst: &str, ends| Alert {
        labels: ls(&[("alertname", "Disk"), ("job", "api"), ("instance", inst)]),
        annotations: ls(&[("summary", "disk full")]),
        starts_at: now - chrono::Duration::minutes(10),
        ends_at: ends,
        generator_url: "http://prom/graph".into(),
        updated_at: now,
        timeout: false,
    };
    vec![
        mk("a:1", now + chrono::Duration::minutes(5)),
        mk("b:2", now - chrono::Duration::minutes(1)),
    ]
}

fn receiver(yaml: &str) -> Receiver {
    serde_saphyr::from_str(yaml).unwrap()
}

#[test]
fn builds_in_alertmanager_order() {
    let r = receiver(
        r#"
name: all
msteams_configs: [{webhook_url: "http://127.0.0.1:1/teams"}]
pagerduty_configs: [{routing_key: k}]
slack_configs: [{api_url: "http://127.0.0.1:1/slack"}]
email_configs: [{to: a@example.org, from: b@example.org, smarthost: "127.0.0.1:25"}]
webhook_configs: [{url: "http://127.0.0.1:1/a"}, {url: "http://127.0.0.1:1/b", send_resolved: false}]
"#,
    );
    let ns =
        build_integrations(&r, &GlobalConfig::default(), Arc::new(Templates::default())).unwrap();
    let got: Vec<(&str, usize, bool)> = ns
        .iter()
        .map(|n| (n.kind(), n.index(), n.send_resolved()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("webhook", 0, true),
            ("webhook", 1, false),
            ("email", 0, false),
            ("pagerduty", 0, true),
            ("slack", 0, false),
            ("msteams", 0, true),
        ]
    );
}

#[test]
fn sns_without_a_region_fails_to_build() {
    // Only meaningful when AWS_REGION does not supply one.
    if std::env::var("AWS_REGION").is_ok() {
        return;
    }
    let r = receiver("name: ops\nsns_configs: [{topic_arn: t}]");
    let e = build_integrations(&r, &GlobalConfig::default(), Arc::new(Templates::default()))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "receiver \"ops\": sns_configs[0]: sigv4.region is required (or AWS_REGION)"
    );
}

#[test]
fn invalid_receivers_fail_to_build() {
    let r = receiver("name: s\nslack_configs: [{channel: x}]");
    let e = build_integrations(&r, &GlobalConfig::default(), Arc::new(Templates::default()))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no global Slack API URL set"), "{e}");
    let r = receiver(
        "name: w\nwebhook_configs: [{url: 'http://x/', http_config: {oauth2: {client_id: a}}}]",
    );
    let e = build_integrations(&r, &GlobalConfig::default(), Arc::new(Templates::default()))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("oauth2 is not supported"), "{e}");
}
