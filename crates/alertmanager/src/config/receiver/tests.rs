use super::*;

fn global(yaml: &str) -> GlobalConfig {
    serde_saphyr::from_str(yaml).unwrap()
}

fn receiver(yaml: &str) -> Receiver {
    serde_saphyr::from_str(yaml).unwrap()
}

#[test]
fn durations_in_prometheus_and_go_forms() {
    let timeout = |v: &str| global(&format!("resolve_timeout: {v:?}")).resolve_timeout();
    assert_eq!(timeout("5m"), Duration::from_secs(300));
    assert_eq!(timeout("1h30m"), Duration::from_secs(5400));
    assert_eq!(timeout("1d"), Duration::from_secs(86400));
    assert_eq!(timeout("1.5s"), Duration::from_millis(1500));
    assert_eq!(timeout("100ms"), Duration::from_millis(100));
    assert_eq!(timeout("0"), Duration::ZERO);
    for bad in ["5", "m", "5x"] {
        let e = serde_saphyr::from_str::<GlobalConfig>(&format!("resolve_timeout: {bad:?}"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("not a valid duration string: {bad:?}")),
            "{e}"
        );
    }
}

#[test]
fn global_defaults_are_alertmanagers() {
    let g = global("{}");
    assert_eq!(g, GlobalConfig::default());
    assert_eq!(g.resolve_timeout(), Duration::from_secs(300));
    assert!(g.smtp_require_tls);
    assert_eq!(g.smtp_hello, "localhost");
    assert_eq!(g.pagerduty_url, "https://events.pagerduty.com/v2/enqueue");
    assert_eq!(g.opsgenie_api_url, "https://api.opsgenie.com/");
    assert_eq!(g.telegram_api_url, "https://api.telegram.org");
    assert!(g.http_config.follow_redirects);
}

#[test]
fn global_fields_parse() {
    let g = global(
        r#"
resolve_timeout: 1h
smtp_from: am@example.org
smtp_smarthost: mail.example.org:587
smtp_auth_username: am
smtp_auth_password: pw
smtp_require_tls: false
slack_api_url: https://hooks.slack.com/services/x
pagerduty_url: https://pd.example.org/v2/enqueue
http_config:
  basic_auth: {username: u, password: p}
  tls_config: {insecure_skip_verify: true, ca_file: /etc/ca.pem}
  proxy_url: http://proxy:3128
  follow_redirects: false
"#,
    );
    assert_eq!(g.resolve_timeout(), Duration::from_secs(3600));
    assert_eq!(g.smtp_from.as_deref(), Some("am@example.org"));
    assert!(!g.smtp_require_tls);
    assert_eq!(g.smtp_auth_password.as_ref().unwrap().expose(), "pw");
    assert_eq!(format!("{:?}", g.smtp_auth_password), "Some(<secret>)");
    assert!(g.http_config.tls_config.insecure_skip_verify);
    assert!(!g.http_config.follow_redirects);
    assert_eq!(g.http_config.basic_auth.as_ref().unwrap().username, "u");
    g.validate().unwrap();
}

#[test]
fn unknown_fields_are_rejected() {
    assert!(serde_saphyr::from_str::<GlobalConfig>("smtp_form: x").is_err());
    assert!(serde_saphyr::from_str::<Receiver>(
        "name: a\nwebhook_configs: [{url: 'http://x', sendresolved: true}]"
    )
    .is_err());
    assert!(serde_saphyr::from_str::<GlobalConfig>("pagerduty_url: not a url").is_err());
}

#[test]
fn send_resolved_defaults_per_kind() {
    let r = receiver(
        r#"
name: team
webhook_configs: [{url: "http://127.0.0.1:1/hook"}]
email_configs: [{to: a@example.org}]
slack_configs: [{api_url: "https://hooks.slack.com/x"}]
pagerduty_configs: [{routing_key: abc}]
msteams_configs: [{webhook_url: "https://outlook.office.com/webhook/x"}]
"#,
    );
    assert!(r.webhook_configs[0].send_resolved);
    assert!(!r.email_configs[0].send_resolved);
    assert!(!r.slack_configs[0].send_resolved);
    assert!(r.pagerduty_configs[0].send_resolved);
    assert!(r.msteams_configs[0].send_resolved);
    assert_eq!(
        r.email_configs[0].html,
        r#"{{ template "email.default.html" . }}"#
    );
    assert_eq!(r.email_configs[0].text, "");
    assert_eq!(
        r.slack_configs[0].title,
        r#"{{ template "slack.default.title" . }}"#
    );
    assert_eq!(
        r.slack_configs[0].color,
        r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#
    );
    assert_eq!(
        r.msteams_configs[0].summary,
        r#"{{ template "msteams.default.summary" . }}"#
    );
    let d = r.pagerduty_configs[0].details_with_defaults();
    assert_eq!(d["num_firing"], "{{ .Alerts.Firing | len }}");
    assert_eq!(d.len(), 4);
}

#[test]
fn validate_needs_globals_or_inline_values() {
    let r = receiver("name: mail\nemail_configs: [{to: a@example.org}]");
    let err = r.validate(&GlobalConfig::default()).unwrap_err();
    assert_eq!(
        err,
        "receiver \"mail\": email_configs[0]: no global SMTP smarthost set"
    );
    let mut g = GlobalConfig {
        smtp_smarthost: Some("localhost:25".into()),
        ..Default::default()
    };
    assert_eq!(
        r.validate(&g).unwrap_err(),
        "receiver \"mail\": email_configs[0]: no global SMTP from set"
    );
    g.smtp_from = Some("am@example.org".into());
    r.validate(&g).unwrap();

    let s = receiver("name: s\nslack_configs: [{channel: '#x'}]");
    assert!(s
        .validate(&g)
        .unwrap_err()
        .contains("no global Slack API URL set"));
    let w = receiver("name: w\nwebhook_configs: [{max_alerts: 2}]");
    assert!(w
        .validate(&g)
        .unwrap_err()
        .contains("one of url or url_file must be configured"));
    let p = receiver("name: p\npagerduty_configs: [{client: x}]");
    assert!(p
        .validate(&g)
        .unwrap_err()
        .contains("missing service or routing key"));
    let h = receiver("name: h\nemail_configs: [{to: a@b, headers: {subject: a, Subject: b}}]");
    assert!(h
        .validate(&g)
        .unwrap_err()
        .contains("duplicate header \"Subject\""));
}

#[test]
fn other_kinds_load_and_validate() {
    let r = receiver(
        r#"
name: ops
opsgenie_configs: [{api_key: k, responders: [{name: team, type: team}]}]
sns_configs: [{topic_arn: 'arn:aws:sns:x', sigv4: {region: r}}]
telegram_configs: [{bot_token: t, chat_id: 1}]
"#,
    );
    assert_eq!(r.sns_configs[0].topic_arn, "arn:aws:sns:x");
    assert_eq!(r.opsgenie_configs[0].responders[0].kind, "team");
    assert_eq!(r.telegram_configs[0].parse_mode, "HTML");
    assert!(r.telegram_configs[0].send_resolved);
    r.validate(&GlobalConfig::default()).unwrap();
    let o = receiver("name: o\nopsgenie_configs: [{responders: [{name: x, type: squad}]}]");
    assert!(o
        .validate(&GlobalConfig::default())
        .unwrap_err()
        .contains("type does not match"));
    let w = receiver("name: w\nwebex_configs: [{room_id: r}]");
    assert!(w
        .validate(&GlobalConfig::default())
        .unwrap_err()
        .contains("http_config.authorization"));
    let d = receiver("name: d\ndiscord_configs: [{title: x}]");
    assert!(d
        .validate(&GlobalConfig::default())
        .unwrap_err()
        .contains("webhook_url"));
}

#[test]
fn header_names_are_canonicalised_as_go_does() {
    assert_eq!(canonical_header("content-type"), "Content-Type");
    assert_eq!(canonical_header("X-PRIORITY"), "X-Priority");
    assert_eq!(
        split_host_port("[::1]:25").unwrap(),
        ("::1".to_string(), 25)
    );
    assert!(split_host_port("host").is_err());
}
