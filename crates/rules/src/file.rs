//! Rule files in Prometheus's format: parsing, validation as
//! `promtool check rules` does it, glob resolution for `rule_files:`, and
//! the `check rules` report.
//!
//! Errors read like promtool's: `file: line:col: group "g", rule 2, "name":
//! what is wrong`, with the position of the offending field where the YAML
//! gives one.

use crate::template::check_alert_template;
use crate::{Error, Result};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sightline_core::duration::parse_prometheus;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The language of a file's `expr:` fields: Prometheus rule files hold
/// PromQL, Loki ruler files (`logs.rule_files`) hold LogQL metric queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLang {
    /// PromQL, over the TSDB.
    #[default]
    PromQL,
    /// LogQL metric queries, over the log store.
    LogQL,
}

/// A parsed, valid rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFile {
    /// The path it was read from.
    pub path: String,
    /// Its groups in file order.
    pub groups: Vec<GroupSpec>,
}

/// One rule group as written.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// Unique within the file.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// `interval:`; `None` means the global evaluation interval.
    pub interval_ms: Option<i64>,
    /// `limit:`; 0 means no limit.
    pub limit: usize,
    /// `query_offset:`; `None` means the global default.
    pub query_offset_ms: Option<i64>,
    /// Group `labels:`, added to every rule (rule labels win).
    pub labels: BTreeMap<String, String>,
    /// Rules in file order.
    pub rules: Vec<RuleSpec>,
}

/// Recording or alerting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// `record:`
    Recording,
    /// `alert:`
    Alerting,
}

/// One rule as written.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// Recording or alerting.
    pub kind: RuleKind,
    /// The `record:` or `alert:` name.
    pub name: String,
    /// The expression (PromQL, or LogQL in a log rule file).
    pub expr: String,
    /// `for:` in ms (alerting only).
    pub for_ms: i64,
    /// `keep_firing_for:` in ms (alerting only).
    pub keep_firing_for_ms: i64,
    /// `labels:` (templates for alerting rules).
    pub labels: BTreeMap<String, String>,
    /// `annotations:` (alerting only; templates).
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: Vec<Spanned<RawGroup>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    interval: Option<Spanned<String>>,
    #[serde(default)]
    query_offset: Option<Spanned<String>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    record: Option<Spanned<String>>,
    #[serde(default)]
    alert: Option<Spanned<String>>,
    #[serde(default)]
    expr: Option<Spanned<Scalar>>,
    #[serde(default, rename = "for")]
    for_: Option<Spanned<String>>,
    #[serde(default)]
    keep_firing_for: Option<Spanned<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, Scalar>>,
}

fn pos<T>(s: &Spanned<T>) -> (u64, u64) {
    (s.referenced.line(), s.referenced.column())
}

fn is_metric_name(s: &str) -> bool {
    let mut it = s.chars();
    matches!(it.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && it.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut it = s.chars();
    matches!(it.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && it.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses and validates one Prometheus rule file's text. Every problem is
/// reported, each prefixed with `path: `.
pub fn parse_rule_file(path: &str, text: &str) -> std::result::Result<RuleFile, Vec<String>> {
    parse_rule_file_as(path, text, QueryLang::PromQL)
}

/// Parses and validates one rule file whose expressions are in `lang`.
pub fn parse_rule_file_as(
    path: &str,
    text: &str,
    lang: QueryLang,
) -> std::result::Result<RuleFile, Vec<String>> {
    let raw: RawFile = if text.trim().is_empty() {
        RawFile { groups: Vec::new() }
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let loc = e
                .location()
                .filter(|l| l.line() > 0)
                .map(|l| format!("{}:{}: ", l.line(), l.column()))
                .unwrap_or_default();
            let msg = e.without_snippet().to_string();
            let msg = msg.lines().next().unwrap_or("").to_owned();
            let msg = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_owned(),
                None => msg,
            };
            vec![format!("{path}: {loc}{}", msg.replace('`', "\""))]
        })?
    };
    let mut errs = Vec::new();
    let mut seen = HashSet::new();
    let mut groups = Vec::new();
    for g in raw.groups {
        let gpos = pos(&g);
        let g = g.value;
        let name = g.name.as_ref().map(|n| n.value.clone()).unwrap_or_default();
        if name.is_empty() {
            errs.push(format!(
                "{path}: {}:{}: Groupname must not be empty",
                gpos.0, gpos.1
            ));
        } else if !seen.insert(name.clone()) {
            errs.push(format!(
                "{path}: {}:{}: groupname: \"{name}\" is repeated in the same file",
                gpos.0, gpos.1
            ));
        }
        let mut dur = |f: &Option<Spanned<String>>, field: &str| -> Option<i64> {
            let f = f.as_ref()?;
            match parse_prometheus(&f.value).ok() {
                Some(ms) => Some(ms),
                None => {
                    let (l, c) = pos(f);
                    errs.push(format!(
                        "{path}: {l}:{c}: group \"{name}\": {field}: not a valid duration string: \"{}\"",
                        f.value
                    ));
                    None
                }
            }
        };
        let interval_ms = dur(&g.interval, "interval");
        let query_offset_ms = dur(&g.query_offset, "query_offset");
        let labels = g.labels.unwrap_or_default();
        for (k, _) in labels.iter() {
            if !is_label_name(k) || k == "__name__" {
                errs.push(format!("{path}: group \"{name}\": invalid label name: {k}"));
            }
        }
        let mut rules = Vec::new();
        for (i, r) in g.rules.into_iter().enumerate() {
            let rpos = pos(&r);
            match validate_rule(r.value, rpos, lang) {
                Ok(spec) => rules.push(spec),
                Err((rname, problems)) => {
                    for (p, msg) in problems {
                        let at = match p {
                            Some(((l1, c1), Some((l2, c2)))) => format!("{l1}:{c1}: {l2}:{c2}: "),
                            Some(((l, c), None)) => {
                                let (l, c) = block_scalar_start(text, (l, c));
                                format!("{l}:{c}: ")
                            }
                            None => String::new(),
                        };
                        errs.push(format!(
                            "{path}: {at}group \"{name}\", rule {}, \"{rname}\": {msg}",
                            i + 1
                        ));
                    }
                }
            }
        }
        groups.push(GroupSpec {
            name,
            file: path.to_owned(),
            interval_ms,
            limit: g.limit.unwrap_or(0),
            query_offset_ms,
            labels,
            rules,
        });
    }
    if errs.is_empty() {
        Ok(RuleFile {
            path: path.to_owned(),
            groups,
        })
    } else {
        Err(errs)
    }
}

type Pos = (u64, u64);

/// promtool (yaml.v3) places a block scalar (`expr: |`) at its `|` or `>`
/// indicator; serde-saphyr at the first character of its content. For a
/// position that begins a line right under such an indicator, the
/// indicator's position.
fn block_scalar_start(text: &str, (line, col): Pos) -> Pos {
    let l = line as usize;
    let (Some(cur), Some(prev)) = (
        text.lines().nth(l.wrapping_sub(1)),
        text.lines().nth(l.wrapping_sub(2)),
    ) else {
        return (line, col);
    };
    if l < 2 || cur.len() - cur.trim_start().len() + 1 != col as usize {
        return (line, col);
    }
    let prev = prev.trim_end();
    let start = prev.rfind(' ').map_or(0, |i| i + 1);
    let word = &prev[start..];
    let indicator = word.starts_with(['|', '>'])
        && word[1..]
            .chars()
            .all(|c| c == '-' || c == '+' || c.is_ascii_digit());
    if indicator {
        (line - 1, start as u64 + 1)
    } else {
        (line, col)
    }
}
type Problem = (Option<(Pos, Option<Pos>)>, String);

fn validate_rule(
    r: RawRule,
    rpos: Pos,
    lang: QueryLang,
) -> std::result::Result<RuleSpec, (String, Vec<Problem>)> {
    let mut probs: Vec<Problem> = Vec::new();
    let name = r
        .alert
        .as_ref()
        .or(r.record.as_ref())
        .map(|n| n.value.clone())
        .unwrap_or_default();
    let kind = match (&r.record, &r.alert) {
        (Some(a), Some(b)) => {
            probs.push((
                Some((pos(a), Some(pos(b)))),
                "only one of 'record' and 'alert' must be set".into(),
            ));
            RuleKind::Recording
        }
        (None, None) => {
            probs.push((
                Some((rpos, None)),
                "one of 'record' or 'alert' must be set".into(),
            ));
            RuleKind::Recording
        }
        (Some(_), None) => RuleKind::Recording,
        (None, Some(_)) => RuleKind::Alerting,
    };
    let expr = r.expr.as_ref().map(|e| e.value.text()).unwrap_or_default();
    match &r.expr {
        None => probs.push((
            Some((rpos, None)),
            "field 'expr' must be set in rule".into(),
        )),
        Some(e) if expr.trim().is_empty() => probs.push((
            Some((pos(e), None)),
            "field 'expr' must be set in rule".into(),
        )),
        Some(e) => {
            if let Err(err) = check_expr(&expr, lang) {
                probs.push((
                    Some((pos(e), None)),
                    format!("could not parse expression: {err}"),
                ));
            }
        }
    }
    let mut dur = |f: &Option<Spanned<String>>, field: &str| -> i64 {
        let Some(f) = f else { return 0 };
        match parse_prometheus(&f.value).ok() {
            Some(ms) => ms,
            None => {
                probs.push((
                    Some((pos(f), None)),
                    format!("{field}: not a valid duration string: \"{}\"", f.value),
                ));
                0
            }
        }
    };
    let for_ms = dur(&r.for_, "for");
    let keep_firing_for_ms = dur(&r.keep_firing_for, "keep_firing_for");
    let labels: BTreeMap<String, String> = r
        .labels
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.text()))
        .collect();
    let annotations: BTreeMap<String, String> = r
        .annotations
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.text()))
        .collect();
    if kind == RuleKind::Recording && r.alert.is_none() {
        let at = r.record.as_ref().map(|n| (pos(n), None));
        if !annotations.is_empty() {
            probs.push((at, "invalid field 'annotations' in recording rule".into()));
        }
        if for_ms != 0 {
            probs.push((at, "invalid field 'for' in recording rule".into()));
        }
        if keep_firing_for_ms != 0 {
            probs.push((
                at,
                "invalid field 'keep_firing_for' in recording rule".into(),
            ));
        }
        if let Some(rec) = &r.record {
            if !is_metric_name(&rec.value) {
                probs.push((
                    Some((pos(rec), None)),
                    format!("invalid recording rule name: {}", rec.value),
                ));
            }
        }
    }
    for k in labels.keys() {
        if !is_label_name(k) || k == "__name__" {
            probs.push((None, format!("invalid label name: {k}")));
        }
    }
    for k in annotations.keys() {
        if !is_label_name(k) {
            probs.push((None, format!("invalid annotation name: {k}")));
        }
    }
    if kind == RuleKind::Alerting && r.record.is_none() {
        let tname = format!("__alert_{name}");
        for (k, v) in &labels {
            if let Err(e) = check_alert_template(&tname, v) {
                probs.push((None, format!("label \"{k}\": {e}")));
            }
        }
        for (k, v) in &annotations {
            if let Err(e) = check_alert_template(&tname, v) {
                probs.push((None, format!("annotation \"{k}\": {e}")));
            }
        }
    }
    if !probs.is_empty() {
        return Err((name, probs));
    }
    Ok(RuleSpec {
        kind,
        name,
        expr,
        for_ms,
        keep_firing_for_ms,
        labels,
        annotations,
    })
}

/// Checks that `expr` parses in `lang`. A LogQL rule must be a metric
/// query: a log query gives lines, not samples to record or alert on, and
/// Loki's ruler refuses it too.
fn check_expr(expr: &str, lang: QueryLang) -> std::result::Result<(), String> {
    match lang {
        QueryLang::PromQL => sightline_promql::parse(expr)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        QueryLang::LogQL => match sightline_logql::parse(expr).map_err(|e| e.to_string())? {
            sightline_logql::ast::Expr::Metric(m) => check_pipelines(expr, &m),
            sightline_logql::ast::Expr::Log(_) => Err(
                "only sample expression supported: a log query gives lines, a rule needs a metric query such as count_over_time({...} |= \"error\" [5m])".into(),
            ),
        },
    }
}

/// Builds every pipeline of a LogQL metric query, so that what the parser
/// leaves to evaluation (`line_format` and `label_format` templates, for
/// one) fails at load, naming where the selector starts, rather than
/// at every evaluation.
fn check_pipelines(
    src: &str,
    m: &sightline_logql::ast::MetricExpr,
) -> std::result::Result<(), String> {
    use sightline_logql::ast::MetricExpr as M;
    match m {
        M::Range { log, .. } => sightline_logql::exec::Pipeline::new(&log.stages)
            .map(|_| ())
            .map_err(|e| {
                let col = src[..log.at.min(src.len())].chars().count() + 1;
                format!("in the log query at col {col}: {e}")
            }),
        M::Vector { expr, .. } | M::LabelReplace { expr, .. } => check_pipelines(src, expr),
        M::Binary { lhs, rhs, .. } => {
            check_pipelines(src, lhs)?;
            check_pipelines(src, rhs)
        }
        M::Number(_) | M::Vector1(_) => Ok(()),
    }
}

/// Reads and validates one Prometheus rule file.
pub fn load_rule_file(path: &Path) -> Result<RuleFile> {
    load_rule_file_as(path, QueryLang::PromQL)
}

/// Reads and validates one rule file with expressions in `lang`.
pub fn load_rule_file_as(path: &Path, lang: QueryLang) -> Result<RuleFile> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: p.clone(),
        message: e.to_string(),
    })?;
    parse_rule_file_as(&p, &text, lang).map_err(Error::Invalid)
}

/// Resolves `rule_files:` patterns (relative ones against `base_dir`, the
/// directory of the config file) with globs, then loads every match in
/// order. A pattern that matches nothing is not an error, as in Prometheus.
pub fn load_rule_files(globs: &[String], base_dir: &Path) -> Result<Vec<RuleFile>> {
    load_rule_files_as(globs, base_dir, QueryLang::PromQL)
}

/// [`load_rule_files`] for files with expressions in `lang`
/// (`logs.rule_files` are LogQL).
pub fn load_rule_files_as(
    globs: &[String],
    base_dir: &Path,
    lang: QueryLang,
) -> Result<Vec<RuleFile>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for path in resolve_globs(globs, base_dir)? {
        match load_rule_file_as(&path, lang) {
            Ok(f) => out.push(f),
            Err(Error::Invalid(e)) => errs.extend(e),
            Err(e) => errs.push(e.to_string()),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(errs))
    }
}

/// The files `globs` match, each pattern's matches sorted, relative
/// patterns joined to `base_dir`.
pub fn resolve_globs(globs: &[String], base_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for g in globs {
        if g.is_empty() {
            continue;
        }
        let full = if Path::new(g).is_absolute() {
            PathBuf::from(g)
        } else {
            base_dir.join(g)
        };
        let pattern = full.display().to_string();
        let paths = glob::glob(&pattern)
            .map_err(|e| Error::Invalid(vec![format!("invalid rule file pattern \"{g}\": {e}")]))?;
        let mut matched: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
        matched.sort();
        out.extend(matched);
    }
    Ok(out)
}

/// What `check rules` printed and its exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Text promtool writes to standard output.
    pub stdout: String,
    /// Text promtool writes to standard error.
    pub stderr: String,
    /// 0 when every file is valid, 1 otherwise.
    pub exit_code: i32,
}

/// Checks rule files as `promtool check rules` does, with its output.
pub fn check_rules(paths: &[PathBuf]) -> CheckReport {
    check_rules_as(paths, QueryLang::PromQL)
}

/// [`check_rules`] for files with expressions in `lang` (Loki ruler files
/// are LogQL), with the same output.
pub fn check_rules_as(paths: &[PathBuf], lang: QueryLang) -> CheckReport {
    let mut rep = CheckReport::default();
    for path in paths {
        let p = path.display().to_string();
        let _ = writeln!(rep.stdout, "Checking {p}");
        let res = std::fs::read_to_string(path)
            .map_err(|e| vec![format!("{p}: {e}")])
            .and_then(|t| parse_rule_file_as(&p, &t, lang));
        match res {
            Ok(f) => {
                let n: usize = f.groups.iter().map(|g| g.rules.len()).sum();
                let dups = duplicates(&f);
                if dups.is_empty() {
                    let _ = writeln!(rep.stdout, "  SUCCESS: {n} rules found");
                } else {
                    // promtool's default `--lint=duplicate-rules` reports
                    // duplicates as FAILED but, without `--lint-fatal`,
                    // keeps the exit status 0.
                    let mut e = format!("lint error {} duplicate rule(s) found.\n", dups.len());
                    for (metric, labels) in dups {
                        let _ = writeln!(e, "Metric: {metric}\nLabel(s):");
                        for (k, v) in labels {
                            let _ = writeln!(e, "\t{k}: {v}");
                        }
                    }
                    e.push_str("Might cause inconsistency while recording expressions\n");
                    rep.stderr.push_str("  FAILED:\n");
                    rep.stderr.push_str(&e);
                }
            }
            Err(errs) => {
                rep.exit_code = 1;
                rep.stderr.push_str("  FAILED:\n");
                for e in errs {
                    rep.stderr.push_str(&e);
                    rep.stderr.push('\n');
                }
            }
        }
        rep.stdout.push('\n');
    }
    rep
}

/// Recording rules writing the same name and labels twice (promtool warns).
fn duplicates(f: &RuleFile) -> Vec<(String, BTreeMap<String, String>)> {
    let mut all: Vec<(String, BTreeMap<String, String>)> = f
        .groups
        .iter()
        .flat_map(|g| g.rules.iter())
        .filter(|r| r.kind == RuleKind::Recording)
        .map(|r| (r.name.clone(), r.labels.clone()))
        .collect();
    all.sort();
    let mut out = Vec::new();
    for w in all.windows(2) {
        if w[0] == w[1] && out.last() != Some(&w[0]) {
            out.push(w[0].clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// Issue 12: `expr: |` is reported where promtool reports it, at the
    /// `|` (line 2, column 9), not at the expression under it.
    #[test]
    fn block_scalars_are_placed_at_their_indicator() {
        let text = "- alert: A\n  expr: |\n    sum(\n    x\n";
        assert_eq!(super::block_scalar_start(text, (3, 5)), (2, 9));
        assert_eq!(super::block_scalar_start(text, (4, 5)), (4, 5));
        assert_eq!(super::block_scalar_start(text, (1, 3)), (1, 3));
        let plain = "  expr: sum(x\n";
        assert_eq!(super::block_scalar_start(plain, (1, 9)), (1, 9));
    }

    use super::*;

    #[test]
    fn valid_file_loads() {
        let f = parse_rule_file(
            "r.yml",
            "groups:\n- name: g\n  interval: 30s\n  limit: 3\n  labels: {team: a}\n  rules:\n  - record: job:up:sum\n    expr: sum by (job) (up)\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    labels: {severity: page}\n    annotations: {summary: '{{ $labels.job }}'}\n",
        )
        .unwrap();
        let g = &f.groups[0];
        assert_eq!(g.interval_ms, Some(30_000));
        assert_eq!(g.limit, 3);
        assert_eq!(g.rules[1].for_ms, 300_000);
        assert_eq!(g.rules[1].keep_firing_for_ms, 60_000);
        assert_eq!(g.rules[1].kind, RuleKind::Alerting);
    }

    #[test]
    fn errors_name_file_group_rule_and_position() {
        let errs = parse_rule_file(
            "bad.yml",
            "groups:\n  - name: g1\n    rules:\n      - record: \"job up\"\n        expr: sum by (job) (up\n      - alert: X\n        expr: up == 0\n        annotations:\n          summary: \"{{ $labels.instance \"\n  - name: g1\n    rules:\n      - record: a\n        alert: b\n        expr: up\n",
        )
        .unwrap_err();
        assert!(
            errs[0].starts_with(
                "bad.yml: 5:15: group \"g1\", rule 1, \"job up\": could not parse expression: "
            ),
            "{errs:?}"
        );
        assert_eq!(
            errs[1],
            "bad.yml: 4:17: group \"g1\", rule 1, \"job up\": invalid recording rule name: job up"
        );
        assert!(
            errs[2].starts_with("bad.yml: group \"g1\", rule 2, \"X\": annotation \"summary\": "),
            "{errs:?}"
        );
        assert_eq!(
            errs[3],
            "bad.yml: 10:5: groupname: \"g1\" is repeated in the same file"
        );
        assert_eq!(errs[4], "bad.yml: 12:17: 13:16: group \"g1\", rule 1, \"b\": only one of 'record' and 'alert' must be set");
    }

    #[test]
    fn scalars_in_expr_and_labels_are_text() {
        let f = parse_rule_file(
            "s.yml",
            "groups:\n- name: g\n  rules:\n  - record: one\n    expr: 1\n    labels: {n: 2, b: true}\n",
        )
        .unwrap();
        let r = &f.groups[0].rules[0];
        assert_eq!(r.expr, "1");
        assert_eq!(r.labels["n"], "2");
        assert_eq!(r.labels["b"], "true");
    }

    #[test]
    fn globs_resolve_against_the_base_dir() {
        let dir = std::env::temp_dir().join(format!("sightline-rules-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/b.yml"), "groups:\n- name: b\n  rules: []\n").unwrap();
        std::fs::write(dir.join("sub/a.yml"), "groups:\n- name: a\n  rules: []\n").unwrap();
        std::fs::write(dir.join("bad.yml"), "groups:\n- name: \"\"\n").unwrap();
        let files = load_rule_files(&["sub/*.yml".into(), "none/*.yml".into()], &dir).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.groups[0].name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let err = load_rule_files(&["bad.yml".into()], &dir).unwrap_err();
        assert!(
            err.to_string().contains("Groupname must not be empty"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let errs = parse_rule_file("u.yml", "groups:\n- name: g\n  rulez: []\n").unwrap_err();
        assert!(errs[0].starts_with("u.yml: "), "{errs:?}");
        assert!(errs[0].contains("rulez"), "{errs:?}");
    }
}
