//! Loki's ruler view of the log rule groups: `GET /loki/api/v1/rules`
//! lists rule groups by namespace, each group as it would be written in a
//! rule file. A namespace is a rule file, named by its file name (Loki's
//! local rule storage names a namespace after its file) or by its whole
//! path where two files share a name.

use crate::file::{QueryLang, RuleKind};
use crate::group::RuleGroup;
use crate::RuleManager;
use serde::Serialize;
use sightline_core::duration::format_prometheus;
use std::collections::BTreeMap;
use std::path::Path;

/// A group as a rule file writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulerGroup {
    /// Group name.
    pub name: String,
    /// Evaluation interval (`1m`).
    pub interval: String,
    /// `limit:`, left out when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: usize,
    /// Rules in file order.
    pub rules: Vec<RulerRule>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A rule as a rule file writes it (group labels merged in).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulerRule {
    /// `record:` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// `alert:` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// The LogQL expression.
    pub expr: String,
    /// `for:`, alerting rules with one only.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// `keep_firing_for:`, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<String>,
    /// Labels (templates for alerting rules).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations (alerting rules).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The groups in `lang` by namespace, namespaces sorted, groups in file
/// order.
pub fn ruler_namespaces(m: &RuleManager, lang: QueryLang) -> BTreeMap<String, Vec<RulerGroup>> {
    let groups: Vec<(String, RulerGroup)> = m
        .groups()
        .iter()
        .filter_map(|g| {
            let g = g.lock().unwrap_or_else(|e| e.into_inner());
            (g.lang == lang).then(|| (g.file.clone(), ruler_group(&g)))
        })
        .collect();
    let base = |f: &str| {
        Path::new(f)
            .file_name()
            .map_or_else(|| f.to_owned(), |n| n.to_string_lossy().into_owned())
    };
    let mut files_by_base: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (f, _) in &groups {
        let v = files_by_base.entry(base(f)).or_default();
        if !v.contains(&f.as_str()) {
            v.push(f);
        }
    }
    let mut out: BTreeMap<String, Vec<RulerGroup>> = BTreeMap::new();
    for (f, g) in &groups {
        let b = base(f);
        let ns = if files_by_base[&b].len() > 1 {
            f.clone()
        } else {
            b
        };
        out.entry(ns).or_default().push(g.clone());
    }
    out
}

fn ruler_group(g: &RuleGroup) -> RulerGroup {
    let dur = |ms: i64| (ms > 0).then(|| format_prometheus(ms));
    RulerGroup {
        name: g.name.clone(),
        interval: format_prometheus(g.interval_ms),
        limit: g.limit,
        rules: g
            .rules
            .iter()
            .map(|r| {
                let s = r.spec();
                let alerting = s.kind == RuleKind::Alerting;
                RulerRule {
                    record: (!alerting).then(|| s.name.clone()),
                    alert: alerting.then(|| s.name.clone()),
                    expr: s.expr.clone(),
                    for_: dur(s.for_ms),
                    keep_firing_for: dur(s.keep_firing_for_ms),
                    labels: s.labels.clone(),
                    annotations: s.annotations.clone(),
                }
            })
            .collect(),
    }
}
