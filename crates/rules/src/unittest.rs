//! `promtool test rules`: unit test files for rules, run against a
//! [`MemStore`] with our engine and evaluator, reported in promtool's
//! format (`Unit Testing:  file`, `  SUCCESS`, `  FAILED:` blocks).
//!
//! The evaluation follows promtool: input series are loaded at
//! `i * interval`; every group is evaluated at `0, evaluation_interval,
//! ...` up to the largest `eval_time`; an alert test at `eval_time` is
//! checked right after the evaluation at the last tick not after it, and
//! sees firing alerts only; `promql_expr_test`s run after all
//! evaluations, against the input plus everything the rules wrote.

use crate::alerting::AlertState;
use crate::file::{load_rule_files, resolve_globs, RuleFile};
use crate::gofmt::format_shortest_e;
use crate::group::{RuleBody, RuleContext, RuleGroup};
use serde::Deserialize;
use sightline_core::duration::{format_go, format_prometheus, parse_prometheus};
use sightline_core::{Labels, MemStore, MetricAppender, MetricQuerier, METRIC_NAME};
use sightline_promql::promqltest::{expand_values, parse_labels};
use sightline_promql::{Engine, EngineOptions, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    rule_files: Vec<String>,
    #[serde(default)]
    evaluation_interval: Option<String>,
    #[serde(default)]
    group_eval_order: Vec<String>,
    #[serde(default)]
    tests: Vec<TestGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestGroup {
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    input_series: Vec<InputSeries>,
    #[serde(default)]
    alert_rule_test: Vec<AlertTest>,
    #[serde(default)]
    promql_expr_test: Vec<ExprTest>,
    #[serde(default)]
    external_labels: BTreeMap<String, String>,
    #[serde(default)]
    external_url: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSeries {
    series: String,
    #[serde(default)]
    values: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertTest {
    #[serde(default)]
    eval_time: Option<String>,
    #[serde(default)]
    alertname: String,
    #[serde(default)]
    exp_alerts: Vec<ExpAlert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpAlert {
    #[serde(default)]
    exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    exp_annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExprTest {
    expr: String,
    #[serde(default)]
    eval_time: Option<String>,
    #[serde(default)]
    exp_samples: Vec<ExpSample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpSample {
    #[serde(default)]
    labels: String,
    value: f64,
}

/// The outcome of one test file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileResult {
    /// The file as given.
    pub file: String,
    /// Failure blocks; empty when the file passed.
    pub errors: Vec<String>,
    /// Warnings printed before them (rule file patterns matching nothing).
    pub warnings: Vec<String>,
}

/// The outcome of a `test rules` run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestReport {
    /// Per file, in order.
    pub files: Vec<FileResult>,
}

impl TestReport {
    /// promtool's exit status: 0 when every file passed, else 1.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.files.iter().any(|f| !f.errors.is_empty()))
    }

    /// What promtool prints to standard output.
    pub fn stdout(&self) -> String {
        let mut s = String::new();
        for f in &self.files {
            let _ = writeln!(s, "Unit Testing:  {}", f.file);
            if f.errors.is_empty() {
                s.push_str("  SUCCESS\n");
            } else {
                for _ in &f.errors {
                    s.push('\n');
                }
            }
            s.push('\n');
        }
        s
    }

    /// What promtool prints to standard error.
    pub fn stderr(&self) -> String {
        let mut s = String::new();
        for f in &self.files {
            for w in &f.warnings {
                let _ = writeln!(s, "  WARNING: {w}");
            }
            if f.errors.is_empty() {
                continue;
            }
            s.push_str("  FAILED:\n");
            for e in &f.errors {
                s.push_str(e);
                s.push('\n');
            }
        }
        s
    }
}

/// Runs promtool-format rule unit test files.
pub fn run_test_files(paths: &[PathBuf]) -> TestReport {
    let files = paths
        .iter()
        .map(|p| {
            let mut warnings = Vec::new();
            let errors = run_file(p, &mut warnings);
            FileResult {
                file: p.display().to_string(),
                errors,
                warnings,
            }
        })
        .collect();
    TestReport { files }
}

fn dur(s: &Option<String>, what: &str) -> Result<i64, String> {
    match s {
        None => Ok(0),
        Some(s) => parse_prometheus(s)
            .ok()
            .ok_or_else(|| format!("{what}: not a valid duration string: \"{s}\"")),
    }
}

fn run_file(path: &Path, warnings: &mut Vec<String>) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![format!("{}: {e}", path.display())],
    };
    let tf: TestFile = match serde_saphyr::from_str(&text) {
        Ok(t) => t,
        Err(e) => return vec![format!("{}: {}", path.display(), e.without_snippet())],
    };
    let base = path.parent().unwrap_or(Path::new("."));
    for pattern in &tf.rule_files {
        let one = std::slice::from_ref(pattern);
        if matches!(resolve_globs(one, base), Ok(v) if v.is_empty()) {
            warnings.push(format!(
                "no file match pattern {}",
                base.join(pattern).display()
            ));
        }
    }
    let files = match load_rule_files(&tf.rule_files, base) {
        Ok(f) => f,
        Err(e) => return vec![e.to_string()],
    };
    let eval_interval = match dur(&tf.evaluation_interval, "evaluation_interval") {
        Ok(0) => 60_000,
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let mut order: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in tf.group_eval_order.iter().enumerate() {
        if order.insert(g, i).is_some() {
            return vec![format!("group name repeated in evaluation order: {g}")];
        }
    }
    let mut errs = Vec::new();
    for tg in &tf.tests {
        match run_group(tg, &files, eval_interval, &order) {
            Ok(e) => errs.extend(e),
            Err(e) => errs.extend(e),
        }
    }
    errs
}

fn labels_string(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}={}", x.name, go_quote(&x.value));
    }
    s.push('}');
    s
}

fn map_string(m: &BTreeMap<String, String>) -> String {
    labels_string(&Labels::from_sorted(
        m.iter()
            .map(|(k, v)| sightline_core::Label::new(k.clone(), v.clone()))
            .collect(),
    ))
}

/// Go's `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\u{7}' => o.push_str("\\a"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            '\u{b}' => o.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn indent_lines(s: &str, indent: &str) -> String {
    s.split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

type LabelsAndAnnotations = Vec<(BTreeMap<String, String>, BTreeMap<String, String>)>;

fn la_string(la: &LabelsAndAnnotations) -> String {
    if la.is_empty() {
        return "[]".into();
    }
    let mut s = String::from("[");
    for (i, (l, a)) in la.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let one = format!("\nLabels:{}\nAnnotations:{}", map_string(l), map_string(a));
        let _ = write!(s, "\n{i}:{}", indent_lines(&one, "  "));
    }
    s.push_str("\n]");
    s
}

fn run_group(
    tg: &TestGroup,
    files: &[RuleFile],
    eval_interval: i64,
    order: &BTreeMap<&str, usize>,
) -> Result<Vec<String>, Vec<String>> {
    let interval = match dur(&tg.interval, "interval").map_err(|e| vec![e])? {
        0 => eval_interval,
        d => d,
    };
    let store = MemStore::new();
    for s in &tg.input_series {
        let labels = parse_labels(&s.series)
            .ok_or_else(|| vec![format!("bad series description \"{}\"", s.series)])?;
        let vals = expand_values(&s.values).ok_or_else(|| {
            vec![format!(
                "bad values \"{}\" of series {}",
                s.values, s.series
            )]
        })?;
        for (i, v) in vals.into_iter().enumerate() {
            if let Some(v) = v {
                store.add(labels.clone(), i as i64 * interval, v);
            }
        }
    }
    let engine = Engine::new(EngineOptions {
        timeout: None,
        default_subquery_step: Duration::from_millis(eval_interval as u64),
        ..EngineOptions::default()
    });
    let ctx = RuleContext {
        querier: Arc::new(store.clone()) as Arc<dyn MetricQuerier>,
        appender: Arc::new(store.clone()) as Arc<dyn MetricAppender>,
        engine: engine.clone(),
        external_labels: Labels::from_pairs(tg.external_labels.clone()),
        external_url: tg.external_url.clone(),
        logs: None,
    };
    let mut groups: Vec<RuleGroup> = files
        .iter()
        .flat_map(|f| f.groups.iter())
        .map(|g| RuleGroup::new(g, interval, 0))
        .collect();
    groups.sort_by_key(|g| order.get(g.name.as_str()).copied().unwrap_or(0));
    for g in &mut groups {
        g.set_restored();
    }
    let mut alert_tests: BTreeMap<i64, Vec<&AlertTest>> = BTreeMap::new();
    let mut max_t = 0;
    for a in &tg.alert_rule_test {
        let t = dur(&a.eval_time, "eval_time").map_err(|e| vec![e])?;
        if a.alertname.is_empty() {
            let name = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return Err(vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{name}",
                format_prometheus(t)
            )]);
        }
        alert_tests.entry(t).or_default().push(a);
        max_t = max_t.max(t);
    }
    for e in &tg.promql_expr_test {
        max_t = max_t.max(dur(&e.eval_time, "eval_time").map_err(|e| vec![e])?);
    }
    let test_name = if tg.name.is_empty() {
        String::new()
    } else {
        format!("    name: {},\n", tg.name)
    };
    let mut errs = Vec::new();
    let times: Vec<i64> = alert_tests.keys().copied().collect();
    let mut curr = 0;
    let mut ts = 0;
    while ts <= max_t {
        let mut eval_errs = Vec::new();
        for g in &mut groups {
            g.eval(&ctx, ts, 60_000);
            for r in &g.rules {
                if let Some(e) = &r.last_error {
                    eval_errs.push(format!(
                        "    rule: {}, time: {}, err: {e}",
                        r.name(),
                        format_go(ts)
                    ));
                }
            }
        }
        if !eval_errs.is_empty() {
            errs.extend(eval_errs);
            return Ok(errs);
        }
        while curr < times.len() && ts <= times[curr] && times[curr] < ts + eval_interval {
            let t = times[curr];
            for test in &alert_tests[&t] {
                let mut got: LabelsAndAnnotations = Vec::new();
                for g in &groups {
                    for r in &g.rules {
                        let RuleBody::Alerting(a) = &r.body else {
                            continue;
                        };
                        if a.spec.name != test.alertname {
                            continue;
                        }
                        for al in a.active_alerts() {
                            if al.state == AlertState::Firing {
                                got.push((
                                    al.labels
                                        .iter()
                                        .map(|l| (l.name.clone(), l.value.clone()))
                                        .collect(),
                                    al.annotations.clone(),
                                ));
                            }
                        }
                    }
                }
                let mut exp: LabelsAndAnnotations = test
                    .exp_alerts
                    .iter()
                    .map(|e| {
                        let mut l: BTreeMap<String, String> = e.exp_labels.clone();
                        l.insert("alertname".into(), test.alertname.clone());
                        (l, e.exp_annotations.clone())
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    errs.push(format!(
                        "{test_name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                        test.alertname,
                        format_prometheus(t),
                        indent_lines(&la_string(&exp), "            "),
                        indent_lines(&la_string(&got), "            ")
                    ));
                }
            }
            curr += 1;
        }
        ts += eval_interval;
    }
    'outer: for e in &tg.promql_expr_test {
        let t = dur(&e.eval_time, "eval_time").map_err(|e| vec![e])?;
        let got = match engine.instant_query(&store, &e.expr, t) {
            Ok(r) => match r.value {
                Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect::<Vec<_>>(),
                Value::Scalar(_, v) => vec![(Labels::empty(), v)],
                _ => Err("rule result is not a vector or scalar".to_string()).map_err(|m| {
                    vec![format!(
                        "    expr: {}, time: {}, err: {m}",
                        go_quote(&e.expr),
                        format_prometheus(t)
                    )]
                })?,
            },
            Err(err) => {
                errs.push(format!(
                    "    expr: {}, time: {}, err: {err}",
                    go_quote(&e.expr),
                    format_prometheus(t)
                ));
                continue;
            }
        };
        let mut exp = Vec::new();
        for s in &e.exp_samples {
            let Some(l) = parse_metric(&s.labels) else {
                errs.push(format!(
                    "    expr: {}, time: {}, err: labels {}: could not parse labels",
                    go_quote(&e.expr),
                    format_prometheus(t),
                    go_quote(&s.labels)
                ));
                continue 'outer;
            };
            exp.push((l, s.value));
        }
        let mut got = got;
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let same =
            exp.len() == got.len() && exp.iter().zip(&got).all(|(a, b)| a.0 == b.0 && a.1 == b.1);
        if !same {
            errs.push(format!(
                "    expr: {}, time: {},\n        exp: {}\n        got: {}",
                go_quote(&e.expr),
                format_prometheus(t),
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    Ok(errs)
}

fn parse_metric(s: &str) -> Option<Labels> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let l = parse_labels(s)?;
    if let Some(n) = l.get(METRIC_NAME) {
        if n.is_empty() {
            return None;
        }
    }
    Some(l)
}

fn samples_string(v: &[(Labels, f64)]) -> String {
    if v.is_empty() {
        return "nil".into();
    }
    v.iter()
        .map(|(l, x)| format!("{} {}", labels_string(l), format_shortest_e(*x, true)))
        .collect::<Vec<_>>()
        .join(", ")
}
