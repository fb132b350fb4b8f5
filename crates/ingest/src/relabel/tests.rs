//! Expected values are worked out by hand from Prometheus's documented
//! semantics (and Go's `regexp.Expand` rules for templates).

use super::*;

fn rules(yaml: &str) -> Vec<RelabelConfig> {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn rule_err(yaml: &str) -> String {
    match serde_saphyr::from_str::<Vec<RelabelConfig>>(yaml) {
        Ok(r) => panic!("{yaml} should be refused, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn run(yaml: &str, input: &[(&str, &str)]) -> Option<Labels> {
    process_labels(&rules(yaml), &ls(input))
}

#[test]
fn defaults_are_prometheus_defaults() {
    let r = &rules("- target_label: x\n")[0];
    assert_eq!(r.action, Action::Replace);
    assert_eq!(r.separator, ";");
    assert_eq!(r.regex.as_str(), "(.*)");
    assert_eq!(r.replacement, "$1");
    assert!(r.source_labels.is_empty());
}

#[test]
fn replace_joins_sources_and_expands_groups() {
    let out = run(
        "- source_labels: [a, b]\n  regex: '(.*);(.*)'\n  target_label: c\n  replacement: '${2}-$1'\n",
        &[("a", "x"), ("b", "y")],
    );
    assert_eq!(out, Some(ls(&[("a", "x"), ("b", "y"), ("c", "y-x")])));
}

#[test]
fn replace_without_match_changes_nothing() {
    let out = run(
        "- source_labels: [a]\n  regex: 'z+'\n  target_label: c\n  replacement: hit\n",
        &[("a", "x")],
    );
    assert_eq!(out, Some(ls(&[("a", "x")])));
}

#[test]
fn replace_is_anchored() {
    // "b" alone would match inside "abc" unanchored; Prometheus anchors it.
    let out = run(
        "- source_labels: [a]\n  regex: b\n  target_label: c\n  replacement: hit\n",
        &[("a", "abc")],
    );
    assert_eq!(out, Some(ls(&[("a", "abc")])));
}

#[test]
fn replace_with_empty_result_deletes_the_target() {
    let out = run(
        "- source_labels: [missing]\n  target_label: a\n",
        &[("a", "x"), ("b", "y")],
    );
    assert_eq!(out, Some(ls(&[("b", "y")])));
}

#[test]
fn replace_into_invalid_name_is_skipped() {
    // target_label "${1}" expands to "1x", not a valid label name.
    let out = run(
        "- source_labels: [a]\n  regex: '(.*)'\n  target_label: '${1}'\n  replacement: v\n",
        &[("a", "1x")],
    );
    assert_eq!(out, Some(ls(&[("a", "1x")])));
    // ... and a valid expanded name is written.
    let out = run(
        "- source_labels: [a]\n  regex: '(.*)'\n  target_label: 'l_${1}'\n  replacement: v\n",
        &[("a", "x")],
    );
    assert_eq!(out, Some(ls(&[("a", "x"), ("l_x", "v")])));
}

#[test]
fn templates_expand_like_go() {
    let re = Regex::new("^(?:(?P<host>[a-z]+):(\\d+))$").unwrap();
    let caps = re.captures("web:80").unwrap();
    let e = |t: &str| expand(&re, &caps, t);
    assert_eq!(e("$1"), "web");
    assert_eq!(e("${1}"), "web");
    assert_eq!(e("$2"), "80");
    assert_eq!(e("${host}"), "web");
    assert_eq!(e("$host"), "web");
    // Longest name: `$1x` is the group named "1x", which does not exist.
    assert_eq!(e("$1x"), "");
    assert_eq!(e("${1}x"), "webx");
    // `$10` is group 10 (absent), not group 1 followed by "0".
    assert_eq!(e("$10"), "");
    // A leading zero makes a name, not an index.
    assert_eq!(e("$01"), "");
    assert_eq!(e("$$1"), "$1");
    assert_eq!(e("a$"), "a$");
    assert_eq!(e("$-"), "$-");
    assert_eq!(e("${1"), "${1");
    assert_eq!(e("${}"), "${}");
    assert_eq!(e("$3"), "");
    assert_eq!(e("plain"), "plain");
    assert_eq!(e("$2.$1"), "80.web");
}

#[test]
fn keep_and_drop() {
    let keep = "- source_labels: [env]\n  regex: prod|staging\n  action: keep\n";
    assert!(run(keep, &[("env", "prod")]).is_some());
    assert!(run(keep, &[("env", "dev")]).is_none());
    // A missing label is the empty string.
    assert!(run(keep, &[("x", "1")]).is_none());
    let drop = "- source_labels: [env]\n  regex: dev\n  action: DROP\n";
    assert!(run(drop, &[("env", "dev")]).is_none());
    assert!(run(drop, &[("env", "dev2")]).is_some());
}

#[test]
fn keepequal_and_dropequal_compare_with_the_target_label() {
    let keq = "- source_labels: [a]\n  target_label: b\n  action: keepequal\n";
    assert!(run(keq, &[("a", "1"), ("b", "1")]).is_some());
    assert!(run(keq, &[("a", "1"), ("b", "2")]).is_none());
    let deq = "- source_labels: [a]\n  target_label: b\n  action: dropequal\n";
    assert!(run(deq, &[("a", "1"), ("b", "1")]).is_none());
    assert!(run(deq, &[("a", "1"), ("b", "2")]).is_some());
    // Both absent: "" == "".
    assert!(run(deq, &[("c", "1")]).is_none());
}

#[test]
fn hashmod_matches_prometheus() {
    // md5("10.0.0.1:9100") = 1eac7f871dc4b32a 4cfeac4083628b3d;
    // 0x4cfeac4083628b3d % 3 = 2.
    assert_eq!(hashmod("10.0.0.1:9100", 3), 2);
    // md5("") = d41d8cd98f00b204 e9800998ecf8427e; % 10 = 8.
    assert_eq!(hashmod("", 10), 8);
    // md5("foo") = acbd18db4cc2f85c edef654fccc4a4d8; % 1000 = 696.
    assert_eq!(hashmod("foo", 1000), 696);
    // md5("a;b") tail 21960bf46f2ebd0a % 7 = 2.
    let out = run(
        "- source_labels: [a, b]\n  modulus: 7\n  target_label: shard\n  action: hashmod\n",
        &[("a", "a"), ("b", "b")],
    );
    assert_eq!(out.unwrap().get("shard"), Some("2"));
}

#[test]
fn labelmap_copies_matching_names() {
    let out = run(
        "- regex: __meta_kubernetes_pod_label_(.+)\n  action: labelmap\n",
        &[
            ("__meta_kubernetes_pod_label_app", "web"),
            ("__meta_kubernetes_pod_label_tier", "front"),
            ("job", "k"),
        ],
    );
    let out = out.unwrap();
    assert_eq!(out.get("app"), Some("web"));
    assert_eq!(out.get("tier"), Some("front"));
    assert_eq!(out.get("__meta_kubernetes_pod_label_app"), Some("web"));
    assert_eq!(out.len(), 5);
}

#[test]
fn labelmap_does_not_rematch_labels_it_added() {
    // "a" -> "aa"; the new "aa" is not mapped again to "aaa" in the same rule.
    let out = run(
        "- regex: '(a+)'\n  replacement: '${1}a'\n  action: labelmap\n",
        &[("a", "1")],
    );
    assert_eq!(out, Some(ls(&[("a", "1"), ("aa", "1")])));
}

#[test]
fn labeldrop_and_labelkeep() {
    let input = [
        ("__name__", "m"),
        ("pod", "p"),
        ("pod_ip", "1"),
        ("job", "j"),
    ];
    let out = run("- regex: pod.*\n  action: labeldrop\n", &input);
    assert_eq!(out, Some(ls(&[("__name__", "m"), ("job", "j")])));
    let out = run("- regex: __name__|job\n  action: labelkeep\n", &input);
    assert_eq!(out, Some(ls(&[("__name__", "m"), ("job", "j")])));
}

#[test]
fn lowercase_and_uppercase() {
    let out = run(
        "- source_labels: [a, b]\n  target_label: l\n  action: lowercase\n- source_labels: [a]\n  target_label: u\n  action: uppercase\n",
        &[("a", "MiX"), ("b", "Ed")],
    );
    let out = out.unwrap();
    assert_eq!(out.get("l"), Some("mix;ed"));
    assert_eq!(out.get("u"), Some("MIX"));
}

#[test]
fn rules_run_in_order_and_stop_on_drop() {
    let yaml = "- source_labels: [a]\n  target_label: b\n- source_labels: [b]\n  regex: x\n  action: drop\n";
    assert!(run(yaml, &[("a", "x")]).is_none());
    assert_eq!(
        run(yaml, &[("a", "y")]),
        Some(ls(&[("a", "y"), ("b", "y")]))
    );
}

#[test]
fn dropping_every_label_drops_the_series() {
    assert!(run("- regex: .*\n  action: labeldrop\n", &[("a", "1")]).is_none());
}

#[test]
fn validation_follows_prometheus() {
    let cases = [
        (
            "- action: hashmod\n  target_label: x\n",
            "requires non-zero modulus",
        ),
        ("- action: replace\n", "requires 'target_label' value"),
        (
            "- action: hashmod\n  modulus: 2\n",
            "requires 'target_label' value",
        ),
        (
            "- action: keepequal\n  source_labels: [a]\n",
            "requires 'target_label'",
        ),
        (
            "- target_label: '1abc'\n",
            "is invalid 'target_label' for replace action",
        ),
        (
            "- action: lowercase\n  target_label: x\n  replacement: y\n",
            "'replacement' can not be set for lowercase action",
        ),
        (
            "- action: labelmap\n  replacement: '-'\n",
            "is invalid 'replacement' for labelmap action",
        ),
        (
            "- action: hashmod\n  modulus: 2\n  target_label: '$1'\n",
            "is invalid 'target_label' for hashmod action",
        ),
        (
            "- action: dropequal\n  source_labels: [a]\n  target_label: b\n  separator: ','\n",
            "dropequal action requires only 'source_labels' and `target_label`",
        ),
        (
            "- action: labeldrop\n  source_labels: [a]\n  regex: x\n",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "- action: labelkeep\n  target_label: a\n",
            "labelkeep action requires only 'regex'",
        ),
        ("- action: explode\n", "unknown relabel action \"explode\""),
        ("- action: ''\n", "relabel action cannot be empty"),
        (
            "- source_labels: ['a-b']\n  target_label: x\n",
            "\"a-b\" is not a valid label name",
        ),
        (
            "- regex: '('\n  target_label: x\n",
            "invalid regular expression \"(\"",
        ),
        ("- target_label: x\n  bogus: 1\n", "bogus"),
    ];
    for (yaml, want) in cases {
        let err = rule_err(yaml);
        assert!(
            err.contains(want),
            "{yaml:?}: {err:?} should contain {want:?}"
        );
    }
    // Templated target labels are fine before expansion.
    rules("- target_label: 'l_${1}'\n- target_label: '$1'\n");
}

#[test]
fn perl_classes_are_ascii_as_in_go() {
    let m = |re: &str, s: &str| RelabelRegex::new(re).unwrap().is_match(s);
    assert!(m(r"\d+", "123"));
    // Arabic-Indic digits are \d in Rust's Unicode mode, not in Go.
    assert!(!m(r"\d+", "\u{661}\u{662}"));
    assert!(m(r"\D+", "\u{661}\u{662}"));
    assert!(!m(r"\w+", "é"));
    assert!(m(r"[\w.]+", "a.b_1"));
    assert!(!m(r"[\w.]+", "é"));
    assert!(m(r"[^\d]+", "abc"));
    assert!(m(r"a\sb", "a b"));
    assert!(!m(r"a\sb", "a\u{a0}b"));
    assert!(m(r"(.*)\b(x)", "a x"));
    assert!(m(r"[]a]+", "]a"));
    assert!(m(r"[[:alpha:]]+", "abc"));
    assert!(m(r"[\[]", "["));
    assert!(m(r"\.", "."));
    assert!(m(r"é.", "éé"));
    // The typical port-stripping rule still works.
    let re = RelabelRegex::new(r"([^:]+)(?::\d+)?").unwrap();
    let caps = re.regex().captures("host:9100").unwrap();
    assert_eq!(&caps[1], "host");
}
