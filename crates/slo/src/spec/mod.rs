//! Reading SLO spec files: one file may hold several YAML documents
//! (`---`), each in one of three formats, told apart by their header:
//!
//! - `version: prometheus/v1`: Sloth's format, read unchanged ([`sloth`]);
//! - `apiVersion: openslo/v1` with `kind: SLO` ([`openslo`]);
//! - `version: sightline/v1`: our short forms ([`short`]).
//!
//! Every problem is reported as `file:line:col: field: message`.

mod openslo;
mod short;
mod sloth;

use crate::model::{Slo, Window, MIN_WINDOW_MS};
use crate::{Error, Result};
use serde::Deserialize;
use serde_saphyr::Spanned;
use sightline_core::duration::parse_prometheus;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// How specs are read.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// The window of SLOs whose spec names none (Sloth's `prometheus/v1`
    /// has no window field; Sloth's `--default-slo-period` is 30d too).
    pub default_window: Window,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            default_window: Window::Rolling(30 * 86_400_000),
        }
    }
}

/// Reads every SLO of one spec file with the default options.
pub fn load_specs(path: &Path) -> Result<Vec<Slo>> {
    load_specs_with(path, &LoadOptions::default())
}

/// Reads every SLO of one spec file.
pub fn load_specs_with(path: &Path, opts: &LoadOptions) -> Result<Vec<Slo>> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: p.clone(),
        message: e.to_string(),
    })?;
    parse_specs(&p, &text, opts)
}

/// Reads the spec files `globs` match (relative patterns against
/// `base_dir`, as `rule_files:` are), every problem of every file
/// reported at once. An SLO id defined in two files is an error too.
pub fn load_spec_globs(globs: &[String], base_dir: &Path, opts: &LoadOptions) -> Result<Vec<Slo>> {
    let paths = sightline_rules::file::resolve_globs(globs, base_dir).map_err(|e| match e {
        sightline_rules::Error::Invalid(v) => Error::Invalid(v),
        other => Error::Invalid(vec![other.to_string()]),
    })?;
    let mut out: Vec<Slo> = Vec::new();
    let mut errs = Vec::new();
    for p in paths {
        match load_specs_with(&p, opts) {
            Ok(slos) => {
                for s in slos {
                    match out.iter().find(|o| o.id == s.id) {
                        Some(o) => errs.push(format!(
                            "{}: slos: SLO id {:?} is already defined at {}",
                            s.source, s.id, o.source
                        )),
                        None => out.push(s),
                    }
                }
            }
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

/// Parses the text of one spec file; `file` only names it in messages.
pub fn parse_specs(file: &str, text: &str, opts: &LoadOptions) -> Result<Vec<Slo>> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (offset, doc) in split_documents(text) {
        if doc.trim().is_empty()
            || doc
                .lines()
                .all(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        {
            continue;
        }
        let mut cx = Cx {
            file: file.to_owned(),
            line_offset: offset,
            errs: Vec::new(),
            opts: opts.clone(),
        };
        let slos = match serde_saphyr::from_str::<Header>(doc) {
            Err(e) => {
                cx.yaml_error(doc, &e);
                Vec::new()
            }
            Ok(h) => match (
                h.version.as_deref(),
                h.api_version.as_deref(),
                h.kind.as_deref(),
            ) {
                (Some("prometheus/v1"), None, _) => sloth::read(&mut cx, doc),
                (Some("sightline/v1"), None, _) => short::read(&mut cx, doc),
                (None, Some("openslo/v1"), Some("SLO")) => openslo::read(&mut cx, doc),
                (None, Some("openslo/v1"), kind) => {
                    cx.err(
                        Some((1, 1)),
                        "kind",
                        format!(
                            "only kind SLO is read (with its indicator inline), not {:?}",
                            kind.unwrap_or("")
                        ),
                    );
                    Vec::new()
                }
                (v, a, _) => {
                    let what = v.or(a).unwrap_or("nothing");
                    cx.err(
                        Some((1, 1)),
                        "version",
                        format!("unknown spec format {what:?}: want version prometheus/v1 (Sloth), version sightline/v1 or apiVersion openslo/v1"),
                    );
                    Vec::new()
                }
            },
        };
        errs.extend(cx.errs);
        out.extend(slos);
    }
    let mut seen = HashSet::new();
    for s in &out {
        if !seen.insert(s.id.clone()) {
            errs.push(format!(
                "{}: slos: SLO id {:?} is defined twice",
                s.source, s.id
            ));
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(errs))
    }
}

/// The fields that tell the formats apart; everything else is skipped.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    version: Option<String>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// Splits a multi-document YAML text at `---` lines, keeping each
/// document's first line number (0-based offset) so positions stay right.
fn split_documents(text: &str) -> Vec<(u64, &str)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u64;
    let mut pos = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let l = line.trim_end();
        if l == "---" || l.starts_with("--- ") || l == "..." {
            out.push((start_line, &text[start..pos]));
            start = pos + line.len();
            start_line = i as u64 + 1;
        }
        pos += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

/// Collects positioned problems for one document.
pub(crate) struct Cx {
    file: String,
    line_offset: u64,
    errs: Vec<String>,
    opts: LoadOptions,
}

/// A line and column within the document.
pub(crate) type Pos = (u64, u64);

pub(crate) fn pos<T>(s: &Spanned<T>) -> Pos {
    (s.referenced.line(), s.referenced.column())
}

impl Cx {
    /// `file:line:col` of a position in this document.
    pub(crate) fn at(&self, p: Pos) -> String {
        format!("{}:{}:{}", self.file, p.0 + self.line_offset, p.1)
    }

    pub(crate) fn err(&mut self, p: Option<Pos>, field: &str, msg: impl std::fmt::Display) {
        let at = match p {
            Some(p) => self.at(p),
            None => self.file.clone(),
        };
        self.errs.push(format!("{at}: {field}: {msg}"));
    }

    pub(crate) fn default_window(&self) -> Window {
        self.opts.default_window
    }

    fn yaml_error(&mut self, doc: &str, e: &serde_saphyr::Error) {
        let p = e
            .location()
            .filter(|l| l.line() > 0)
            .map(|l| (l.line(), l.column()));
        let msg = e.without_snippet().to_string();
        let msg = msg.lines().next().unwrap_or("").to_owned();
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_owned(),
            None => msg,
        };
        let msg = msg.replace('`', "\"");
        // Type errors ("invalid floating point") do not say which field;
        // the key on the line they point at does.
        let key = p
            .and_then(|(l, c)| doc.lines().nth(l.checked_sub(1)? as usize).map(|t| (t, c)))
            .and_then(|(t, c)| {
                let (k, _) = t.get(..(c as usize).saturating_sub(1))?.rsplit_once(':')?;
                let k = k.trim().trim_start_matches("- ").trim();
                (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .then(|| k.to_owned())
            })
            .filter(|k| !msg.contains(&format!("\"{k}\"")));
        let at = match p {
            Some(p) => self.at(p),
            None => self.file.clone(),
        };
        match key {
            Some(k) => self.errs.push(format!("{at}: {k}: {msg}")),
            None => self.errs.push(format!("{at}: {msg}")),
        }
    }

    /// Deserializes the whole document as `T`, reporting a failure.
    pub(crate) fn parse<T: for<'de> Deserialize<'de>>(&mut self, doc: &str) -> Option<T> {
        match serde_saphyr::from_str::<T>(doc) {
            Ok(v) => Some(v),
            Err(e) => {
                self.yaml_error(doc, &e);
                None
            }
        }
    }

    /// Checks an SLO name or service name: Sloth's ids are made of these
    /// and end up in label values and group names.
    pub(crate) fn check_name(&mut self, p: Pos, field: &str, v: &str) -> bool {
        let ok = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            self.err(
                Some(p),
                field,
                format!("{v:?} must be non-empty and made of letters, digits, '-', '_' and '.'"),
            );
        }
        ok
    }

    /// Checks label names of a labels map.
    pub(crate) fn check_labels(&mut self, p: Pos, field: &str, m: &BTreeMap<String, String>) {
        for k in m.keys() {
            let mut it = k.chars();
            let ok = matches!(it.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && it.all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with("__");
            if !ok {
                self.err(Some(p), field, format!("invalid label name {k:?}"));
            }
        }
    }

    /// Checks an objective in percent.
    pub(crate) fn check_objective(&mut self, p: Pos, field: &str, v: f64) -> bool {
        let ok = v > 0.0 && v < 100.0;
        if !ok {
            self.err(
                Some(p),
                field,
                format!("objective {v} must be above 0 and below 100 (percent)"),
            );
        }
        ok
    }

    /// Parses a window: a duration of at least a day, or `month`.
    pub(crate) fn window(&mut self, p: Pos, field: &str, v: &str) -> Option<Window> {
        if v == "month" {
            return Some(Window::CalendarMonth);
        }
        match parse_prometheus(v) {
            Ok(ms) if ms >= MIN_WINDOW_MS => Some(Window::Rolling(ms)),
            Ok(_) => {
                self.err(Some(p), field, format!("window {v:?} is shorter than 1d"));
                None
            }
            Err(_) => {
                self.err(
                    Some(p),
                    field,
                    format!("{v:?} is neither a duration (30d, 4w, 7d) nor \"month\""),
                );
                None
            }
        }
    }

    /// Checks that a query template has a window placeholder and parses as
    /// PromQL once it is filled in.
    pub(crate) fn check_query(&mut self, p: Pos, field: &str, q: &str) -> bool {
        if !crate::generate::has_window_placeholder(q) {
            self.err(
                Some(p),
                field,
                "query has no {{.window}} placeholder (write the range as [{{.window}}])",
            );
            return false;
        }
        let filled = crate::generate::fill_window(q, 300_000);
        let doc = format!(
            "groups:\n- name: check\n  rules:\n  - record: check\n    expr: {}\n",
            crate::yaml::quote(&filled)
        );
        if let Err(errs) = sightline_rules::file::parse_rule_file("spec", &doc) {
            let msg = errs
                .first()
                .and_then(|e| e.split("could not parse expression: ").nth(1))
                .unwrap_or("invalid expression")
                .to_owned();
            self.err(Some(p), field, format!("invalid PromQL: {msg}"));
            return false;
        }
        true
    }
}

/// A YAML scalar read as text (label values may be written unquoted).
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub(crate) fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// A labels or annotations map as text.
pub(crate) fn texts(m: Option<BTreeMap<String, Scalar>>) -> BTreeMap<String, String> {
    m.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.text()))
        .collect()
}

/// `base` with `over` on top.
pub(crate) fn merged(
    base: &BTreeMap<String, String>,
    over: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut m = base.clone();
    m.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

/// A default alert name from the SLO id: `checkout-availability` gives
/// `CheckoutAvailabilityBudgetBurn`.
pub(crate) fn default_alert_name(id: &str) -> String {
    let mut s = String::new();
    for part in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut it = part.chars();
        if let Some(c) = it.next() {
            s.push(c.to_ascii_uppercase());
            s.extend(it);
        }
    }
    s.push_str("BudgetBurn");
    s
}

/// Checks an alert name: it becomes the `alertname` label and Sloth only
/// accepts metric-name characters.
pub(crate) fn check_alert_name(cx: &mut Cx, p: Pos, field: &str, v: &str) -> bool {
    let mut it = v.chars();
    let ok = matches!(it.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && it.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if !ok {
        cx.err(Some(p), field, format!("invalid alert name {v:?}"));
    }
    ok
}

#[cfg(test)]
pub(crate) mod tests;
