use super::node::{find_path, split_path, Seg};
use super::*;
use serde::Deserialize;

#[test]
fn paths_split_into_keys_and_indexes() {
    assert_eq!(
        split_path("scrape_configs[0].relabel_configs[12].regex"),
        vec![
            Seg::Key("scrape_configs"),
            Seg::Index(0),
            Seg::Key("relabel_configs"),
            Seg::Index(12),
            Seg::Key("regex"),
        ]
    );
    assert_eq!(
        split_path("a[1][2]"),
        vec![Seg::Key("a"), Seg::Index(1), Seg::Index(2)]
    );
    assert_eq!(split_path(""), vec![]);
}

#[test]
fn find_path_points_at_the_key() {
    let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_timeout: 1m\n    static_configs: [{targets: [x, y]}]\n";
    assert_eq!(
        find_path(text, "scrape_configs[1].scrape_timeout"),
        Some(((6, 5), true))
    );
    assert_eq!(
        find_path(text, "scrape_configs[1].static_configs[0].targets[1]"),
        Some(((7, 36), true))
    );
    // A field left out points at its parent.
    assert_eq!(
        find_path(text, "scrape_configs[0].scrape_timeout"),
        Some(((4, 5), false))
    );
    // Keys YAML types as numbers, booleans or null are still found.
    let text = "codes:\n  404: a\n  true: b\n  ~: c\n";
    assert_eq!(find_path(text, "codes.404"), Some(((2, 3), true)));
    assert_eq!(find_path(text, "codes.true"), Some(((3, 3), true)));
    assert_eq!(find_path(text, "codes."), Some(((1, 1), true)));
    assert_eq!(find_path("a: [", "a"), None);
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outer {
    #[allow(dead_code)]
    inner: Vec<Inner>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inner {
    #[allow(dead_code)]
    n: u32,
    #[serde(default)]
    #[allow(dead_code)]
    d: Option<sightline_core::duration::Duration>,
}

fn err(text: &str) -> String {
    from_str::<Outer>(text, "f.yml")
        .unwrap_err()
        .message()
        .to_owned()
}

#[test]
fn serde_errors_name_file_line_column_and_field() {
    let e = err("inner:\n  - n: 1\n  - n: x\n");
    assert!(e.starts_with("f.yml:3:8: inner[1].n: "), "{e}");
    // A custom error from a field's own parser sits on the field's key.
    let e = err("inner:\n  - n: 1\n    d: 5x\n");
    assert_eq!(
        e,
        "f.yml:3:5: inner[0].d: not a valid duration string: \"5x\""
    );
    let e = err("inner:\n  - n: 1\n    nn: 2\n");
    assert!(e.starts_with("f.yml:3:"), "{e}");
    assert!(e.contains("unknown field \"nn\""), "{e}");
    assert!(!e.contains('`'), "{e}");
    // A syntax error has a position but no path.
    let e = err("inner: [\n");
    assert!(e.starts_with("f.yml:"), "{e}");
    assert!(!e.contains("\n"), "{e}");
}

#[test]
fn later_checks_are_located_by_path() {
    let text = "inner:\n  - n: 1\n  - n: 2\n";
    assert_eq!(
        locate(text, "f.yml", "inner[1].n", "too big"),
        "f.yml:3:5: inner[1].n: too big"
    );
    assert_eq!(
        locate(text, "f.yml", "inner[1].d", "missing"),
        "f.yml:3:5: inner[1].d: missing"
    );
    assert_eq!(locate(text, "f.yml", "", "empty"), "f.yml:1:1: empty");
    assert_eq!(locate("a: [", "f.yml", "a", "bad"), "f.yml: a: bad");
}
