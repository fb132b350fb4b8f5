//! `check rules` against Debian's `promtool check rules` (2.42): the same
//! output for valid files, duplicate recording rules and the validation
//! errors both report alike; see docs/rules.md for the known differences
//! (YAML decoding errors, template and PromQL parser wording, positions
//! promtool prints as `0:0`).

use std::path::{Path, PathBuf};
use std::process::Command;

#[track_caller]
fn promtool() -> Option<PathBuf> {
    sightline_testkit::peer("promtool", "apt-get install prometheus")
}

#[test]
fn valid_and_duplicate_files_match_promtool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files: Vec<String> = std::fs::read_dir(dir.join("corpus/rules"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| format!("corpus/rules/{}", e.file_name().to_string_lossy()))
        .filter(|f| !f.contains("broken") && !f.contains("keepfiring") && !f.contains("offset"))
        .collect();
    files.sort();
    files.push("check/dup.yml".into());
    files.push("check/empty.yml".into());
    let ours = sightline_rules::check_rules(&files.iter().map(|f| dir.join(f)).collect::<Vec<_>>());
    let strip = |s: &str| s.replace(&format!("{}/", dir.display()), "");
    assert!(
        strip(&ours.stdout).contains("Checking corpus/rules/http.yml\n  SUCCESS: 3 rules found\n")
    );
    // Duplicates are reported as FAILED but are only a lint: exit 0.
    assert_eq!(ours.exit_code, 0);
    assert!(ours
        .stderr
        .contains("lint error 1 duplicate rule(s) found."));
    let Some(pt) = promtool() else { return };
    let out = Command::new(pt)
        .current_dir(&dir)
        .arg("check")
        .arg("rules")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), strip(&ours.stdout));
    assert_eq!(String::from_utf8_lossy(&out.stderr), strip(&ours.stderr));
    assert_eq!(out.status.code(), Some(ours.exit_code));
}

#[test]
fn invalid_file_errors_match_promtool_where_both_say_the_same() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let ours = sightline_rules::check_rules(&[dir.join("check/invalid.yml")]);
    let ours_err = ours.stderr.replace(&format!("{}/", dir.display()), "");
    let shared = [
        "check/invalid.yml: 4:17: group \"g1\", rule 1, \"job up\": invalid recording rule name: job up",
        "check/invalid.yml: 10:17: group \"g1\", rule 3, \"fine\": invalid field 'annotations' in recording rule",
        "check/invalid.yml: group \"g1\", rule 4, \"Y\": invalid label name: bad-name",
        "check/invalid.yml: group \"g1\", rule 4, \"Y\": invalid label name: __name__",
        "check/invalid.yml: 19:5: groupname: \"g1\" is repeated in the same file",
        "check/invalid.yml: 21:17: 22:16: group \"g1\", rule 1, \"b\": only one of 'record' and 'alert' must be set",
        "check/invalid.yml: 26:5: Groupname must not be empty",
    ];
    for line in shared {
        assert!(
            ours_err.lines().any(|l| l == line),
            "ours lacks {line:?}:\n{ours_err}"
        );
    }
    assert!(ours_err.contains(
        "check/invalid.yml: 5:15: group \"g1\", rule 1, \"job up\": could not parse expression: "
    ));
    assert!(ours_err
        .contains("check/invalid.yml: group \"g1\", rule 2, \"X\": annotation \"summary\": "));
    assert!(ours_err.contains("group \"g1\", rule 2, \"\": one of 'record' or 'alert' must be set"));
    assert!(ours_err.contains("group \"g1\", rule 3, \"c\": field 'expr' must be set in rule"));
    assert_eq!(ours.exit_code, 1);
    let Some(pt) = promtool() else { return };
    let out = Command::new(pt)
        .current_dir(&dir)
        .args(["check", "rules", "check/invalid.yml"])
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&out.stderr);
    for line in shared {
        assert!(
            theirs.lines().any(|l| l == line),
            "promtool lacks {line:?}:\n{theirs}"
        );
    }
    assert_eq!(out.status.code(), Some(1));
}
