//! Issue 12: PromQL parse errors as Prometheus gives them, proven against
//! the running Prometheus 2.42. Each broken query goes to both servers'
//! `/api/v1/query`; status, `errorType` and `error` must be equal. The
//! queries are those of the promql crate's table of Prometheus 3 texts
//! (`crates/promql/src/parse_error/tests.rs`) on which 2.42 already gives
//! Prometheus 3's text; the others (2.x wording of durations and offsets,
//! 2.42's `unexpected "<Item 57385>"` for `@@`) are listed in
//! docs/prometheus-api.md. `check rules` and `test rules` on broken
//! expressions must print what `promtool` prints.

mod common;

use serde_json::Value as Json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Broken queries whose error text 2.42 shares with Prometheus 3.
const QUERIES: &[&str] = &[
    "sum(rate(x[5m])",
    "((1)",
    "(",
    "(1))",
    "1+",
    "1 /",
    "*1",
    "-=",
    "e-+=/(0)",
    "++-++-+-+-<",
    ".",
    "up $ 1",
    "}",
    "some}",
    "up]",
    "0deadbeef",
    "1 !~ 1",
    "1 =~ 1",
    "# just a comment\n\n",
    "{",
    "some{",
    "some_metric{a=b}",
    "some_metric{a:b=\"b\"}",
    "foo{a*\"b\"}",
    "foo{a>=\"b\"}",
    "foo{gibberish}",
    "foo{1}",
    "foo{__name__= =}",
    "foo{,}",
    "foo{__name__ == \"bar\"}",
    "foo{__name__=\"bar\" lol}",
    "{}",
    "{x=\"\"}",
    "{x=~\".*\"}",
    "{x!~\".+\"}",
    "{x!=\"a\"}",
    "foo{__name__=\"bar\"}",
    "foo[5m:1m1]",
    "foo[5m1h]",
    "foo[0m]",
    "some_metric[5m] OFFSET 1mm",
    "some_metric OFFSET 1m[5m]",
    "some_metric[5m] @",
    "some_metric @ 1234 [5m]",
    "(foo + bar)[5m]",
    "rate(food[1m])[1h] offset 1h",
    "test[5d] OFFSET 10s [10m:5s]",
    "(foo + bar{nm=\"val\"})[5m:][10m:5s]",
    "1 offset 1d",
    "foo offset 1s offset 2s",
    "rate(some_metric[5m]) @ 1234",
    "sum by (\"foo)(some_metric{})",
    "`\\``",
    "\"\\",
    "\"\\c\"",
    "\"\\x.\"",
    "sum without(==)(some_metric)",
    "sum without(,)(some_metric)",
    "sum without(foo,,)(some_metric)",
    "sum some_metric by (test)",
    "sum (some_metric) by test",
    "sum () by (test)",
    "MIN keep_common (some_metric)",
    "MIN (some_metric) keep_common",
    "sum (some_metric) without (test) by (test)",
    "topk(some_metric)",
    "topk(some_metric,)",
    "topk(some_metric, other_metric)",
    "count_values(5, other_metric)",
    "floor()",
    "floor(some_metric, other_metric)",
    "floor(1)",
    "hour(some_metric, some_metric, some_metric)",
    "time(some_metric)",
    "non_existent_function_far_bar()",
    "rate(some_metric)",
    "rate(avg)",
    "a>b()",
    "1 and 1",
    "1 == 1",
    "foo and 1",
    "1 or on(bar) foo",
    "foo + group_left(baz) bar",
    "a - on(b) ignoring(c) d",
    "foo and on(bar) group_left(baz) bar",
    "http_requests{group=\"production\"} + on(instance) group_left(job,instance) cpu_count{type=\"smp\"}",
    "foo + bool bar",
    "-\"string\"",
    "-test[5m]",
    "x[5m] + 1",
    "sum(\n  rate(x[5m])\n",
    "up\n  + on(job) foo{a=b}",
];

/// A peer process, killed on drop.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(bin: &Path, dir: &Path, config: &Path) -> (Peer, String) {
    let port = common::free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prom").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let peer = Peer(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if common::http()
            .get(format!("{url}/-/ready"))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return (peer, url);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("prometheus not ready after 60s");
}

/// (HTTP status, errorType, error) of an instant query.
fn answer(url: &str, q: &str) -> (u16, String, String) {
    let r = common::http()
        .get(format!("{url}/api/v1/query"))
        .query(&[("query", q), ("time", "1000")])
        .send()
        .unwrap_or_else(|e| panic!("{url} {q:?}: {e}"));
    let status = r.status().as_u16();
    let v: Json = r.json().expect("JSON body");
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (status, s("errorType"), s("error"))
}

#[test]
fn issue_12_parse_errors_match_prometheus() {
    let Some(prometheus) = common::peer("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
    let (_prom, prom_url) = start_prometheus(&prometheus, dir.path(), &config);
    let ours = common::Server::start(
        &dir.path().join("ours"),
        &["--config", config.to_str().unwrap()],
    );
    let mut bad = Vec::new();
    for q in QUERIES {
        let want = answer(&prom_url, q);
        assert_eq!(want.0, 400, "Prometheus accepted {q:?}: {want:?}");
        let got = answer(&ours.url(), q);
        if got != want {
            bad.push(format!(
                "{q:?}\n  prometheus {want:?}\n  sightline  {got:?}"
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        QUERIES.len(),
        bad.join("\n")
    );
}

fn run(bin: &Path, args: &[&str], dir: &Path) -> (String, String, i32) {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `check rules` names the rule's position in the file and the error's
/// position in the (multi-line) expression as promtool does; `test rules`
/// reports a broken `promql_expr_test` expression the same way.
#[test]
fn issue_12_rule_commands_report_parse_errors_as_promtool() {
    let Some(promtool) = common::peer("promtool") else {
        return;
    };
    let sightline = Path::new(env!("CARGO_BIN_EXE_sightline"));
    let dir = tempfile::tempdir().unwrap();
    common::write_files(
        dir.path(),
        &[
            (
                "bad.yml",
                "groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(rate(x[5m])\n  - alert: A\n    expr: |\n      sum(\n        rate(x[5m])\n      ) > on(job) foo{a=b}\n",
            ),
            (
                "t.yml",
                "rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series: []\n    promql_expr_test:\n      - expr: sum(rate(x[5m])\n        eval_time: 1m\n        exp_samples: []\n",
            ),
        ],
    );
    for args in [
        &["check", "rules", "bad.yml"][..],
        &["test", "rules", "t.yml"][..],
    ] {
        let want = run(&promtool, args, dir.path());
        // What promtool 2.42 prints, checked by hand against the peer.
        assert!(
            want.1
                .contains("1:16: parse error: unclosed left parenthesis"),
            "{want:?}"
        );
        let got = run(sightline, args, dir.path());
        assert_eq!(got, want, "sightline {args:?} differs from promtool");
    }
}
