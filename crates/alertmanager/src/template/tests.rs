use super::*;
use crate::alert::{Alert, LabelSet};
use chrono::{DateTime, TimeZone, Utc};

fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 6, h, m, 0).unwrap()
}

/// Two firing alerts and one resolved, grouped by alertname, at 12:00.
fn data() -> Data {
    let mk = |inst: &str, ends: DateTime<Utc>| Alert {
        labels: ls(&[
            ("alertname", "HighLatency"),
            ("job", "api"),
            ("instance", inst),
        ]),
        annotations: ls(&[("summary", "latency high"), ("runbook", inst)]),
        starts_at: at(11, 30),
        ends_at: ends,
        generator_url: format!("http://prom/graph?{inst}"),
        updated_at: at(11, 30),
        timeout: false,
    };
    let alerts = vec![
        mk("a:1", at(12, 5)),
        mk("b:2", at(12, 5)),
        mk("c:3", at(11, 50)),
    ];
    Data::new(
        "team.ops",
        &ls(&[("alertname", "HighLatency")]),
        &alerts,
        "http://sightline:9093",
        at(12, 0),
    )
}

fn run(text: &str) -> String {
    Templates::default().execute_text(text, &data()).unwrap()
}

#[test]
fn data_fields_as_alertmanager_fills_them() {
    let d = data();
    assert_eq!(d.receiver, r"team\.ops");
    assert_eq!(d.status, "firing");
    assert_eq!(
        d.common_labels,
        ls(&[("alertname", "HighLatency"), ("job", "api")])
    );
    assert_eq!(d.common_annotations, ls(&[("summary", "latency high")]));
    assert_eq!(d.alerts[2].status, "resolved");
    assert_eq!(d.alerts[2].ends_at, at(11, 50));
    assert_eq!(d.alerts[0].ends_at, gotime::zero_time());
    assert_eq!(d.alerts[0].fingerprint.len(), 16);
}

#[test]
fn fields_and_methods() {
    assert_eq!(run("{{ .Status }} {{ len .Alerts }}"), "firing 3");
    assert_eq!(
        run("{{ len .Alerts.Firing }}/{{ .Alerts.Resolved | len }}"),
        "2/1"
    );
    assert_eq!(
        run("{{ range .Alerts.Resolved }}{{ .Labels.instance }}{{ end }}"),
        "c:3"
    );
    // alertname first, then by name.
    assert_eq!(
        run("{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}"),
        "alertname=HighLatency;job=api;"
    );
    assert_eq!(run("{{ .CommonLabels.Names }}"), "[alertname job]");
    assert_eq!(
        run("{{ join \",\" .CommonLabels.Values }}"),
        "HighLatency,api"
    );
    assert_eq!(
        run("{{ .CommonLabels.SortedPairs.Names | join \"+\" }}"),
        "alertname+job"
    );
    assert_eq!(
        run("{{ (.CommonLabels.Remove .GroupLabels.Names).Names }}"),
        "[job]"
    );
    assert_eq!(
        run("{{ .CommonLabels.Remove (stringSlice \"job\") }}"),
        "map[alertname:HighLatency]"
    );
    // Go's %v of a map and of a slice of structs.
    assert_eq!(
        run("{{ .CommonLabels }}"),
        "map[alertname:HighLatency job:api]"
    );
    assert_eq!(
        run("{{ .CommonLabels.SortedPairs }}"),
        "[{alertname HighLatency} {job api}]"
    );
    assert_eq!(run("{{ index .CommonLabels.SortedPairs 1 }}"), "{job api}");
    assert_eq!(
        run("{{ $a := index .Alerts 0 }}{{ $a.Labels.SortedPairs.Values }}"),
        "[HighLatency a:1 api]"
    );
    assert_eq!(
        run("{{ .Receiver }} {{ .ExternalURL }}"),
        r"team\.ops http://sightline:9093"
    );
}

#[test]
fn missing_labels_are_empty_strings() {
    assert_eq!(run("[{{ .CommonLabels.nope }}]"), "[]");
    assert_eq!(
        run("{{ if eq .CommonLabels.nope \"\" }}empty{{ end }}"),
        "empty"
    );
    assert_eq!(run("{{ .CommonLabels.nope | toUpper }}|"), "|");
}

#[test]
fn times_print_and_format_as_go() {
    assert_eq!(
        run("{{ (index .Alerts 0).StartsAt }}"),
        "2024-05-06 11:30:00 +0000 UTC"
    );
    assert_eq!(
        run("{{ (index .Alerts 0).EndsAt }}"),
        "0001-01-01 00:00:00 +0000 UTC"
    );
    assert_eq!(
        run("{{ range .Alerts.Resolved }}{{ .EndsAt.Format \"15:04 Jan 2\" }} {{ .StartsAt.Unix }}{{ end }}"),
        "11:50 May 6 1714995000"
    );
}

#[test]
fn functions() {
    assert_eq!(run("{{ toUpper \"abc\" }}{{ toLower \"DeF\" }}"), "ABCdef");
    assert_eq!(run("{{ title \"hELLO wORLD-foo\" }}"), "Hello World-Foo");
    // Go's cases.Title: first cased letter of a word, `.` and `'` inside words.
    assert_eq!(
        run("{{ title \"3rd x.y o'neil a..b\" }}"),
        "3Rd X.y O'neil A..B"
    );
    assert_eq!(run("{{ trimSpace \"  x \" }}"), "x");
    assert_eq!(run("{{ match \"^High\" .CommonLabels.alertname }}"), "true");
    assert_eq!(run("{{ match \"^Low\" .CommonLabels.alertname }}"), "false");
    assert_eq!(
        run("{{ reReplaceAll \"(a+)b\" \"<$1>\" \"xaab-ab\" }}"),
        "x<aa>-<a>"
    );
    assert_eq!(run("{{ stringSlice \"a\" \"b\" | join \"-\" }}"), "a-b");
}

#[test]
fn default_subject_and_lists() {
    // Group values, then the other common label values in parentheses.
    assert_eq!(
        run(r#"{{ template "__subject" . }}"#),
        "[FIRING:2] HighLatency (api)"
    );
    assert_eq!(
        run(r#"{{ template "slack.default.titlelink" . }}"#),
        r"http://sightline:9093/#/alerts?receiver=team%5C.ops"
    );
    assert_eq!(
        run(r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#),
        "Labels:\n  - alertname = HighLatency\n  - instance = c:3\n  - job = api\nAnnotations:\n  - runbook = c:3\n  - summary = latency high\nSource: http://prom/graph?c:3\n\n"
    );
    assert_eq!(run(r#"{{ template "slack.default.pretext" . }}"#), "");
    assert_eq!(
        run(r#"{{ template "slack.default.username" . }}"#),
        "Sightline"
    );
    let text = run(r#"{{ template "slack.default.text" . }}"#);
    assert!(
        text.starts_with("Firing (2):\nLabels:\n  - alertname = HighLatency\n  - instance = a:1\n"),
        "{text}"
    );
    assert!(text.contains("Resolved (1):\nLabels:"), "{text}");
    let teams = run(r#"{{ template "msteams.default.text" . }}"#);
    assert!(
        teams.starts_with("**Firing**: latency high\n\n- alertname = HighLatency\n"),
        "{teams}"
    );
}

#[test]
fn user_templates_override_and_extend() {
    let t = Templates::from_sources(&[(
        "/etc/am/custom.tmpl",
        r#"{{ define "__subject" }}custom {{ .Status }}{{ end }}{{ define "mine" }}{{ range .Alerts.Firing }}{{ .Labels.instance }} {{ end }}{{ end }}"#,
    )])
    .unwrap();
    let d = data();
    assert_eq!(
        t.execute_text(r#"{{ template "slack.default.title" . }}"#, &d)
            .unwrap(),
        "custom firing"
    );
    assert_eq!(
        t.execute_text(r#"{{ template "mine" . }}"#, &d).unwrap(),
        "a:1 b:2 "
    );
    assert_eq!(t.execute_text("plain", &d).unwrap(), "plain");
    assert_eq!(t.execute_text("", &d).unwrap(), "");
    assert!(t.execute_text("{{ .Status", &d).is_err());
    assert!(t.execute_text(r#"{{ template "nope" . }}"#, &d).is_err());
    assert!(Templates::from_sources(&[("bad.tmpl", "{{ .Status")]).is_err());
}

#[test]
fn load_reads_globs_relative_to_base_dir() {
    let dir = std::env::temp_dir().join(format!("sightline-am-tmpl-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("t")).unwrap();
    std::fs::write(dir.join("t/a.tmpl"), r#"{{ define "x" }}from a{{ end }}"#).unwrap();
    let t = Templates::load(&["t/*.tmpl".into(), "none/*.tmpl".into()], &dir).unwrap();
    assert_eq!(
        t.execute_text(r#"{{ template "x" . }}"#, &data()).unwrap(),
        "from a"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn html_escapes_values_but_not_safe_html() {
    let t = Templates::default();
    let mut d = data();
    d.common_annotations
        .insert("summary".into(), "<b>x</b>".into());
    assert_eq!(
        t.execute_html("<p>{{ .CommonAnnotations.summary }}</p>", &d)
            .unwrap(),
        "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    );
    assert_eq!(
        t.execute_html("<p>{{ .CommonAnnotations.summary | safeHtml }}</p>", &d)
            .unwrap(),
        "<p><b>x</b></p>"
    );
    let html = t
        .execute_html(r#"{{ template "email.default.html" . }}"#, &d)
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("<title>[FIRING:2] HighLatency (api)</title>"),
        "{html}"
    );
    assert!(html.contains("2 firing, 1 resolved"), "{html}");
    assert!(
        html.contains(r#"<a href="http://prom/graph?c:3">source</a>"#),
        "{html}"
    );
    assert!(html.contains("Started 2024-05-06 11:30:00 UTC"), "{html}");
}
