use super::*;
use crate::config::Config;

fn tree(yaml: &str) -> Route {
    let cfg = Config::load_str(yaml, "t.yml").unwrap_or_else(|e| panic!("{e}"));
    Route::new(&cfg.route)
}

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn receivers(r: &Route, labels: &[(&str, &str)]) -> Vec<String> {
    r.match_labels(&ls(labels))
        .iter()
        .map(|r| r.receiver.clone())
        .collect()
}

const TREE: &str = r#"
route:
  receiver: root
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_by: ['...']
      continue: true
      routes:
        - match: {severity: critical}
          receiver: db-pager
          repeat_interval: 1h
    - match_re: {team: 'db|web'}
      receiver: dbweb
      group_by: []
    - matchers: ['env!="prod"']
      receiver: nonprod
receivers: [{name: root}, {name: db}, {name: db-pager}, {name: dbweb}, {name: nonprod}]
"#;

#[test]
fn first_match_wins_unless_continue() {
    let r = tree(TREE);
    // team=db matches the first child (continue) and the second.
    assert_eq!(
        receivers(&r, &[("team", "db"), ("env", "prod")]),
        ["db", "dbweb"]
    );
    assert_eq!(
        receivers(
            &r,
            &[("team", "db"), ("severity", "critical"), ("env", "prod")]
        ),
        ["db-pager", "dbweb"]
    );
    // web stops at the second child, so the third is never tried.
    assert_eq!(receivers(&r, &[("team", "web")]), ["dbweb"]);
    // A missing env is "" and so not "prod".
    assert_eq!(receivers(&r, &[("team", "x")]), ["nonprod"]);
    assert_eq!(receivers(&r, &[("team", "x"), ("env", "prod")]), ["root"]);
}

#[test]
fn settings_are_inherited() {
    let r = tree(TREE);
    assert_eq!(r.group_wait, Duration::from_secs(10));
    assert_eq!(r.group_interval, DEFAULT_GROUP_INTERVAL);
    assert_eq!(r.repeat_interval, DEFAULT_REPEAT_INTERVAL);
    let db = &r.routes[0];
    assert!(db.group_by_all);
    assert_eq!(db.group_wait, Duration::from_secs(10));
    let pager = &db.routes[0];
    assert!(pager.group_by_all);
    assert_eq!(pager.repeat_interval, Duration::from_secs(3600));
    // `group_by: []` inherits the parent's list.
    let dbweb = &r.routes[1];
    assert!(!dbweb.group_by_all);
    assert_eq!(dbweb.group_by.iter().collect::<Vec<_>>(), ["alertname"]);
}

#[test]
fn keys_and_ids_print_as_alertmanager() {
    let r = tree(TREE);
    assert_eq!(r.key(), "{}");
    assert_eq!(r.id(), "{}");
    assert_eq!(r.routes[0].key(), r#"{}/{team="db"}"#);
    assert_eq!(r.routes[0].id(), r#"{}/{team="db"}/0"#);
    assert_eq!(
        r.routes[0].routes[0].id(),
        r#"{}/{team="db"}/{severity="critical"}/0"#
    );
    assert_eq!(r.routes[2].id(), r#"{}/{env!="prod"}/2"#);
    let labels = ls(&[("alertname", "X"), ("env", "prod"), ("team", "web")]);
    let g = r.group_labels(&labels);
    assert_eq!(g, ls(&[("alertname", "X")]));
    assert_eq!(r.group_key(&g), r#"{}:{alertname="X"}"#);
    let all = r.routes[0].group_labels(&labels);
    assert_eq!(
        r.routes[0].group_key(&all),
        r#"{}/{team="db"}:{alertname="X", env="prod", team="web"}"#
    );
}

#[test]
fn group_keys_equal_alertmanagers_webhook_payloads() {
    // Expected keys are the `groupKey`s a real Alertmanager 0.25 posted to a
    // webhook for this tree and these two alerts.
    let r = tree(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  routes:
    - matchers: ['team="db"', 'env=~"prod|stage"']
      group_by: ['...']
      continue: true
      routes:
        - match: {severity: "crit\"x"}
    - matchers: ['env!="dev"']
receivers: [{name: hook}]
"#,
    );
    let x = ls(&[
        ("alertname", "X"),
        ("team", "db"),
        ("env", "prod"),
        ("severity", "crit\"x"),
    ]);
    let keys: Vec<String> = r
        .match_labels(&x)
        .iter()
        .map(|route| route.group_key(&route.group_labels(&x)))
        .collect();
    assert_eq!(
        keys,
        [
            r#"{}/{env=~"prod|stage",team="db"}/{severity="crit\"x"}:{alertname="X", env="prod", severity="crit\"x", team="db"}"#,
            r#"{}/{env!="dev"}:{alertname="X"}"#,
        ]
    );
    let y = ls(&[("alertname", "Y"), ("env", "prod"), ("svc", "é\n")]);
    let routes = r.match_labels(&y);
    assert_eq!(routes.len(), 1);
    assert_eq!(
        routes[0].group_key(&routes[0].group_labels(&y)),
        r#"{}/{env!="dev"}:{alertname="Y"}"#
    );
}

#[test]
fn group_labels_quote_as_go_in_group_keys() {
    // The groupKey a real Alertmanager 0.25 posted for this alert under
    // `group_by: ['...']`.
    let r = tree("route: {receiver: hook, group_by: ['...']}\nreceivers: [{name: hook}]\n");
    let labels = ls(&[
        ("alertname", "Q"),
        ("v", "a\tb\u{a0}é\u{200b}\u{1}\u{ad}😀\u{e000}"),
    ]);
    assert_eq!(
        r.group_key(&r.group_labels(&labels)),
        r#"{}:{alertname="Q", v="a\tb\u00a0é\u200b\x01\u00ad😀\ue000"}"#
    );
}
