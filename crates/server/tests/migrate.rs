//! Issue 17, item 4: docs/migrate.md is tested. For each stack the page
//! describes (`<!-- stack: NAME -->`), the seed's files in
//! `tests/fixtures/seeds/NAME/` go through the checks of the page's table:
//! a file marked **unchanged** must pass them as it is; a file marked
//! **changes** gets the page's diff (`<!-- diff: NAME/FILE -->`) applied,
//! and the result must pass; a **new** file is taken from the page
//! (`<!-- file: NAME/FILE -->`) and must pass. Every fixture must be in its
//! stack's table, so none goes unchecked.

mod common;
#[path = "packaging/support.rs"]
mod support;

use sightline_testkit::TempDir;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::{both, read, repo, sightline_in, validator, yaml_docs};

/// One row of a stack's table whose first cell names a file.
#[derive(Debug)]
struct Row {
    file: String,
    status: Status,
    checks: Vec<String>,
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Status {
    Unchanged,
    Changes,
    New,
    Other,
}

#[derive(Debug, Default)]
struct Stack {
    rows: Vec<Row>,
    /// FILE -> the diff's lines.
    diffs: BTreeMap<String, Vec<String>>,
    /// FILE -> the new file's text.
    files: BTreeMap<String, String>,
}

/// The backticked parts of `cell`.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The stacks of docs/migrate.md, by name.
fn parse_guide(text: &str) -> BTreeMap<String, Stack> {
    let mut stacks: BTreeMap<String, Stack> = BTreeMap::new();
    let mut current: Option<String> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("## ") {
            current = None;
        }
        if let Some(rest) = line.strip_prefix("<!-- stack: ") {
            let name = rest.split_whitespace().next().unwrap().to_owned();
            stacks.entry(name.clone()).or_default();
            current = Some(name);
        } else if let Some(rest) = line
            .strip_prefix("<!-- diff: ")
            .or_else(|| line.strip_prefix("<!-- file: "))
        {
            let target = rest.trim_end_matches("-->").trim();
            let (stack, file) = target.split_once('/').expect("STACK/FILE");
            assert!(
                lines[i + 1].starts_with("```"),
                "line {}: no code block",
                i + 2
            );
            let body: Vec<String> = lines[i + 2..]
                .iter()
                .take_while(|l| !l.starts_with("```"))
                .map(|l| l.to_string())
                .collect();
            i += 2 + body.len();
            let s = stacks.entry(stack.to_owned()).or_default();
            if line.starts_with("<!-- diff") {
                s.diffs.insert(file.to_owned(), body);
            } else {
                s.files.insert(file.to_owned(), body.join("\n") + "\n");
            }
        } else if let (Some(name), true) = (&current, line.starts_with("| `")) {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            assert_eq!(cells.len(), 3, "a row of three cells: {line}");
            let file = code_spans(cells[0])[0].clone();
            let status = if cells[1].starts_with("**unchanged**") {
                Status::Unchanged
            } else if cells[1].starts_with("**changes**") {
                Status::Changes
            } else if cells[1].starts_with("**new**") {
                Status::New
            } else {
                Status::Other
            };
            let checks = code_spans(cells[2]);
            stacks.get_mut(name).unwrap().rows.push(Row {
                file,
                status,
                checks,
            });
        }
        i += 1;
    }
    stacks
}

/// Applies a diff without line numbers: each hunk (after an `@@` line) is
/// context (` `), removed (`-`) and added (`+`) lines; its old lines must
/// occur in `text` exactly once, and are replaced by its new lines.
fn apply_diff(text: &str, diff: &[String]) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut hunks: Vec<Vec<&String>> = Vec::new();
    for l in diff {
        if l.starts_with("@@") {
            hunks.push(Vec::new());
        } else {
            hunks
                .last_mut()
                .ok_or("the diff does not start with @@")?
                .push(l);
        }
    }
    for h in hunks {
        let mut old = Vec::new();
        let mut new = Vec::new();
        for l in h {
            let (mark, rest) = l.split_at(l.len().min(1));
            match mark {
                " " | "" => {
                    old.push(rest.to_owned());
                    new.push(rest.to_owned());
                }
                "-" => old.push(rest.to_owned()),
                "+" => new.push(rest.to_owned()),
                _ => return Err(format!("not a diff line: {l:?}")),
            }
        }
        let at: Vec<usize> = (0..=lines.len().saturating_sub(old.len()))
            .filter(|&s| lines[s..s + old.len()] == old[..])
            .collect();
        match at.as_slice() {
            [s] => {
                lines.splice(*s..*s + old.len(), new);
            }
            [] => return Err(format!("the hunk's old lines are not in the file: {old:?}")),
            _ => return Err(format!("the hunk's old lines occur {} times", at.len())),
        }
    }
    Ok(lines.join("\n") + "\n")
}

/// Runs one check of the table in `dir` (a copy of the stack's files),
/// panicking with the output when it fails. `what` names the file for
/// messages.
fn run_check(check: &str, dir: &Path, what: &str) {
    let words: Vec<&str> = check.split_whitespace().collect();
    match words.as_slice() {
        ["sightline", "serve", args @ ..] => {
            let data = TempDir::new("migrate-serve");
            // Starts, waits for /-/ready, panics with the log if it exits.
            let grpc = format!("127.0.0.1:{}", common::free_port());
            let mut args = args.to_vec();
            args.extend(["--otlp.grpc.listen", &grpc]);
            // The server's log goes beside its data dir: keep both inside
            // the temp dir, which is removed.
            let server = common::Server::start_in(Some(dir), &data.path().join("data"), &args);
            server.stop();
        }
        ["sightline", args @ ..] => {
            let out = sightline_in(Some(dir), args);
            assert!(
                out.status.success(),
                "{what}: `{check}` failed:\n{}",
                both(&out)
            );
        }
        [peer @ ("promtool" | "amtool"), args @ ..] => {
            let Some(bin) = common::peer(peer) else {
                return;
            };
            let out = Command::new(bin)
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{what}: `{check}` failed:\n{}",
                both(&out)
            );
        }
        ["test:queries", file] => check_queries(&dir.join(file), dir, what),
        ["test:compose", file] => {
            let path = dir.join(file).display().to_string();
            if let Some(out) = validator(&["compose", &path]) {
                assert!(
                    out.status.success(),
                    "{what}: compose spec:\n{}",
                    both(&out)
                );
            }
        }
        ["test:annotations", file] => check_annotations(&dir.join(file), what),
        ["test:datasources", file] => check_datasources(&dir.join(file), what),
        [path] if path.starts_with("crates/") => {
            assert!(repo().join(path).is_file(), "{what}: {path} does not exist");
        }
        _ => panic!("{what}: the test does not know the check `{check}`"),
    }
}

/// Every query of `file` (separated by blank lines, `#` comments dropped)
/// as a recording rule, through our `check rules` and promtool's.
fn check_queries(file: &Path, dir: &Path, what: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let queries: Vec<String> = text
        .split("\n\n")
        .map(|q| {
            q.lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|q| !q.is_empty())
        .collect();
    assert!(!queries.is_empty(), "{what}: no queries");
    let mut rules = String::from("groups:\n  - name: queries\n    rules:\n");
    for (n, q) in queries.iter().enumerate() {
        let quoted = serde_json::to_string(q).unwrap();
        rules.push_str(&format!(
            "      - record: query_{n}\n        expr: {quoted}\n"
        ));
    }
    let rule_file = dir.join("queries-as-rules.yml");
    std::fs::write(&rule_file, &rules).unwrap();
    let out = sightline_in(Some(dir), &["check", "rules", "queries-as-rules.yml"]);
    assert!(
        out.status.success(),
        "{what}: sightline:\n{}\n{rules}",
        both(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("SUCCESS: {} rules found", queries.len())),
        "{stdout}"
    );
    if let Some(promtool) = common::peer("promtool") {
        let out = Command::new(promtool)
            .args(["check", "rules", "queries-as-rules.yml"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{what}: promtool:\n{}", both(&out));
    }
}

/// The pod annotations of `file` are the ones the Kubernetes ConfigMap's
/// `kubernetes-pods` job relabels on (as Kubernetes SD names them).
fn check_annotations(file: &Path, what: &str) {
    let Some(docs) = yaml_docs(&file.display().to_string()) else {
        return;
    };
    let annotations = docs[0]["annotations"].as_object().expect("annotations:");
    let configmap = read("deploy/kubernetes/configmap.yaml");
    for name in annotations.keys() {
        let meta: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let label = format!("__meta_kubernetes_pod_annotation_{meta}");
        assert!(
            configmap.contains(&label),
            "{what}: deploy/kubernetes/configmap.yaml does not read the annotation {name} ({label})"
        );
    }
}

/// Every data source of a Grafana provisioning file points at Sightline's
/// one port (the URLs of the guide's table).
fn check_datasources(file: &Path, what: &str) {
    let Some(docs) = yaml_docs(&file.display().to_string()) else {
        return;
    };
    let sources = docs[0]["datasources"].as_array().expect("datasources:");
    assert!(!sources.is_empty());
    for ds in sources {
        let url = ds["url"].as_str().unwrap_or("");
        let want = match ds["type"].as_str() {
            Some("jaeger") => "http://sightline:9090/jaeger",
            _ => "http://sightline:9090",
        };
        assert_eq!(url, want, "{what}: data source {}", ds["name"]);
    }
}

fn guide() -> BTreeMap<String, Stack> {
    parse_guide(&read("docs/migrate.md"))
}

#[test]
fn issue_17_the_guide_covers_every_seed_stack_and_fixture() {
    let stacks = guide();
    let names: Vec<&str> = stacks.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "jaeger-flask",
            "kube-prometheus-stack",
            "observability-plan",
            "prometheus-grafana-loki",
            "prometheus-slo"
        ]
    );
    let seeds = repo().join("tests/fixtures/seeds");
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let dir = entry.unwrap();
        let name = dir.file_name().to_string_lossy().into_owned();
        let stack = stacks
            .get(&name)
            .unwrap_or_else(|| panic!("tests/fixtures/seeds/{name} is in no section of the guide"));
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                stack.rows.iter().any(|r| r.file == f),
                "tests/fixtures/seeds/{name}/{f} is not in the guide's table"
            );
        }
    }
    for (name, s) in &stacks {
        for file in s.diffs.keys() {
            assert!(
                s.rows
                    .iter()
                    .any(|r| &r.file == file && r.status == Status::Changes),
                "{name}: a diff for {file}, which the table does not mark **changes**"
            );
        }
        for file in s.files.keys() {
            assert!(
                s.rows
                    .iter()
                    .any(|r| &r.file == file && r.status == Status::New),
                "{name}: a new file {file}, which the table does not mark **new**"
            );
        }
    }
}

#[test]
fn issue_17_every_seed_file_passes_as_the_guide_says() {
    let seeds = repo().join("tests/fixtures/seeds");
    let mut checked = 0;
    for (name, stack) in guide() {
        let dir = TempDir::new(&format!("migrate-{name}"));
        if let Ok(entries) = std::fs::read_dir(seeds.join(&name)) {
            for e in entries {
                let e = e.unwrap();
                std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
            }
        }
        // New files first: a changed or unchanged file's check may read them
        // (a sightline.yml names its prometheus.yml).
        for (file, text) in &stack.files {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        for row in &stack.rows {
            let what = format!("{name}/{}", row.file);
            let path = dir.path().join(&row.file);
            match row.status {
                Status::Unchanged | Status::Changes if !path.is_file() => {
                    assert!(
                        row.checks.is_empty(),
                        "{what}: the guide checks it, but tests/fixtures/seeds has no such file"
                    );
                    continue;
                }
                Status::Changes => {
                    let diff = stack
                        .diffs
                        .get(&row.file)
                        .unwrap_or_else(|| panic!("{what}: **changes** without a diff"));
                    let before = std::fs::read_to_string(&path).unwrap();
                    let after = apply_diff(&before, diff)
                        .unwrap_or_else(|e| panic!("{what}: the guide's diff does not apply: {e}"));
                    std::fs::write(&path, after).unwrap();
                }
                Status::New => assert!(
                    stack.files.contains_key(&row.file),
                    "{what}: **new** but the guide does not show it"
                ),
                Status::Unchanged | Status::Other => {}
            }
            if matches!(row.status, Status::Other) {
                continue;
            }
            for check in &row.checks {
                run_check(check, dir.path(), &what);
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} checks ran");
}

/// The guide says the seed's alertmanager.yml (stack 2) is refused by
/// Alertmanager itself, not only by Sightline: both, as printed.
#[test]
fn issue_17_seed_alertmanager_yml_is_refused_by_alertmanager_too() {
    let file = repo().join("tests/fixtures/seeds/kube-prometheus-stack/alertmanager.yml");
    let data = TempDir::new("migrate-am");
    // `serve` refuses a bad alertmanager.yml at start; should it ever not,
    // it must not hang the test: kill it after 30 s and fail.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["serve", "--data-dir"])
        .arg(data.path())
        .args(["--listen", &format!("127.0.0.1:{}", common::free_port())])
        .args([
            "--otlp.grpc.listen",
            &format!("127.0.0.1:{}", common::free_port()),
        ])
        .arg("--alertmanager.config.file")
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sightline serve kept running with the seed's alertmanager.yml");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "sightline serve accepted it");
    assert!(both(&out).contains("subject"), "{}", both(&out));
    if let Some(amtool) = common::peer("amtool") {
        let out = Command::new(amtool)
            .arg("check-config")
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success(), "amtool accepted it: {}", both(&out));
        assert!(
            both(&out).contains("field subject not found"),
            "{}",
            both(&out)
        );
    }
}

#[test]
fn issue_17_the_diff_applier_refuses_a_diff_that_does_not_match() {
    let text = "a\nb\nc\n";
    let ok = apply_diff(text, &["@@".into(), " b".into(), "-c".into(), "+d".into()]);
    assert_eq!(ok.as_deref(), Ok("a\nb\nd\n"));
    assert!(apply_diff(text, &["@@".into(), "-x".into(), "+y".into()]).is_err());
    assert!(apply_diff("a\na\n", &["@@".into(), "-a".into()]).is_err());
    assert!(apply_diff(text, &["-a".into()]).is_err());
}
