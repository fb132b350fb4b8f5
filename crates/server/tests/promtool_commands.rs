//! Issue 4: `sightline check config|rules` and `sightline test rules` print
//! what `promtool` prints, with the same exit codes, on the same files.
//! (The rules crate's corpus test compares the library across 35 files; this
//! checks the binary's plumbing: arguments, streams, exit codes.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(bin: &Path, args: &[&str], dir: &Path) -> (String, i32) {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/tests/corpus")
}

#[test]
fn check_and_test_commands_match_promtool() {
    let Some(promtool) = common::peer("promtool") else {
        return;
    };
    let sightline = PathBuf::from(env!("CARGO_BIN_EXE_sightline"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    common::write_files(
        dir.path(),
        &[
            (
                "prometheus.yml",
                "global: {scrape_interval: 15s}\nrule_files: ['rules/*.yml']\nscrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['x:1']}]\n",
            ),
            (
                "rules/r.yml",
                "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n",
            ),
        ],
    );
    for args in [
        &["check", "config", "prometheus.yml"][..],
        &["check", "rules", "rules/r.yml"][..],
    ] {
        let want = run(&promtool, args, dir.path());
        let got = run(&sightline, args, dir.path());
        assert_eq!(got, want, "sightline {args:?} differs from promtool");
    }

    let corpus = corpus();
    for file in [
        "01_basic.test.yml",
        "03_basic_for_not_elapsed_fail.test.yml",
        "09_templates.test.yml",
        "18_agg_wrong_value_fail.test.yml",
    ] {
        let args = ["test", "rules", file];
        let want = run(&promtool, &args, &corpus);
        let got = run(&sightline, &args, &corpus);
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(got.1, want.1, "exit code of test rules {file}");
        assert_eq!(norm(&got.0), norm(&want.0), "output of test rules {file}");
    }
}
