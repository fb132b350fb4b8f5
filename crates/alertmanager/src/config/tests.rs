use super::*;

fn load(text: &str) -> Result<Config> {
    Config::load_str(text, "am.yml")
}

fn err(text: &str) -> String {
    load(text).unwrap_err().to_string()
}

const BASE: &str = "route:\n  receiver: a\nreceivers:\n  - name: a\n";

#[test]
fn minimal_file_loads_with_defaults() {
    let cfg = load(BASE).unwrap();
    assert_eq!(cfg.route.receiver, "a");
    assert!(cfg.route.group_wait.is_none());
    assert_eq!(cfg.receivers.len(), 1);
    assert_eq!(cfg.original(), BASE);
    assert_eq!(cfg.origin(), "am.yml");
}

#[test]
fn legacy_and_new_matchers_merge_sorted() {
    let cfg = load(
        "route:\n  receiver: a\n  routes:\n    - receiver: a\n      match: {svc: api, code: 500}\n      match_re: {env: 'prod|stage'}\n      matchers: ['b!=\"x\", a=~\"y\"']\nreceivers: [{name: a}]\n",
    )
    .unwrap();
    let child = &cfg.route.routes[0];
    assert_eq!(
        child.all_matchers().to_string(),
        // amtool prints legacy regexes with their anchors (see 04_legacy.yml).
        r#"{a=~"y",b!="x",code="500",env=~"^(?:prod|stage)$",svc="api"}"#
    );
}

#[test]
fn errors_name_line_and_field() {
    let e = err("route:\n  receiver: a\n  routes:\n    - receiver: b\nreceivers:\n  - name: a\n");
    assert_eq!(
        e,
        r#"am.yml:4:7: route.routes[0].receiver: undefined receiver "b" used in route"#
    );
    let e = err("route:\n  receiver: a\n  group_wait: 1.5s\nreceivers:\n  - name: a\n");
    assert!(e.starts_with("am.yml:3:"), "{e}");
    assert!(e.contains("route.group_wait"), "{e}");
    assert!(e.contains("not a valid duration string"), "{e}");
    let e = err("route:\n  receiver: a\n  recevier: b\nreceivers:\n  - name: a\n");
    assert!(e.contains("recevier"), "{e}");
    let e = err(
        "route:\n  receiver: a\n  routes:\n    - matchers: ['a=\"b']\nreceivers:\n  - name: a\n",
    );
    assert!(e.contains("route.routes[0].matchers"), "{e}");
    assert!(e.contains("unescaped double quote"), "{e}");
}

#[test]
fn alertmanagers_cross_checks() {
    for (text, want) in [
        ("receivers: [{name: a}]\n", "no routes provided"),
        ("route: {group_by: [x]}\nreceivers: [{name: a}]\n", "root route must specify a default receiver"),
        ("route: {receiver: a, match: {x: y}}\nreceivers: [{name: a}]\n", "root route must not have any matchers"),
        ("route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\n", r#"notification config name "a" is not unique"#),
        ("route: {receiver: a, routes: [{group_by: ['...', x]}]}\nreceivers: [{name: a}]\n", "cannot have wildcard group_by"),
        ("route: {receiver: a, group_by: [x, x]}\nreceivers: [{name: a}]\n", r#"duplicated label "x" in group_by"#),
        ("route: {receiver: a, group_by: ['a-b']}\nreceivers: [{name: a}]\n", r#"invalid label name "a-b" in group_by list"#),
        ("route: {receiver: a, repeat_interval: 0s}\nreceivers: [{name: a}]\n", "repeat_interval cannot be zero"),
        ("route: {receiver: a, routes: [{mute_time_intervals: [x]}]}\nreceivers: [{name: a}]\n", r#"undefined time interval "x" used in route"#),
        ("route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals: [{name: t}, {name: t}]\n", r#"time interval "t" is not unique"#),
        ("route: {receiver: a, routes: [{match_re: {x: '('}}]}\nreceivers: [{name: a}]\n", "invalid regular expression"),
        ("route: {receiver: a, routes: [{match: {'a-b': x}}]}\nreceivers: [{name: a}]\n", r#"invalid label name "a-b""#),
        ("route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules: [{equal: ['a b']}]\n", "is not a valid label name"),
    ] {
        let e = err(text);
        assert!(e.contains(want), "{text}\n  got {e}\n  want {want}");
    }
}

#[test]
fn templates_resolve_against_the_files_directory() {
    let cfg = Config::load_str(
        "route: {receiver: a}\nreceivers: [{name: a}]\ntemplates: ['t/*.tmpl', '/abs/x.tmpl']\n",
        "/etc/am/alertmanager.yml",
    )
    .unwrap();
    assert_eq!(cfg.templates, ["/etc/am/t/*.tmpl", "/abs/x.tmpl"]);
}

#[test]
fn match_values_keep_the_scalar_text() {
    // amtool config routes show prints {n="",t="yes",v="1.0",w="0x1F"} for this.
    let cfg = load(
        "route:\n  receiver: a\n  routes:\n    - match: {v: 1.0, w: 0x1F, t: yes, n: ~}\n      receiver: a\nreceivers: [{name: a}]\n",
    )
    .unwrap();
    assert_eq!(
        cfg.route.routes[0].all_matchers().to_string(),
        r#"{n="",t="yes",v="1.0",w="0x1F"}"#
    );
}
