//! Label filters (strings, regexes, numbers, durations, byte sizes, IPs,
//! `and`/`or`) and `drop`/`keep`.

use super::ip::IpMatcher;
use super::{errors, LabelSet, ERROR, ERROR_DETAILS};
use crate::ast::{CmpOp, FilterLit, LabelFilter, LabelSel};
use regex::Regex;

pub enum Filter {
    Str {
        label: String,
        neg: bool,
        value: String,
    },
    Re {
        label: String,
        neg: bool,
        re: Regex,
    },
    Num {
        label: String,
        op: CmpOp,
        value: f64,
        kind: NumKind,
    },
    Ip {
        label: String,
        neg: bool,
        m: IpMatcher,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Clone, Copy)]
pub enum NumKind {
    Number,
    Duration,
    Bytes,
}

impl Filter {
    pub fn new(f: &LabelFilter) -> Result<Filter, String> {
        Ok(match f {
            LabelFilter::And(a, b) => {
                Filter::And(Box::new(Filter::new(a)?), Box::new(Filter::new(b)?))
            }
            LabelFilter::Or(a, b) => {
                Filter::Or(Box::new(Filter::new(a)?), Box::new(Filter::new(b)?))
            }
            LabelFilter::Ip {
                label,
                negated,
                pattern,
                ..
            } => Filter::Ip {
                label: label.clone(),
                neg: *negated,
                m: IpMatcher::new(pattern)?,
            },
            LabelFilter::Cmp {
                label, op, value, ..
            } => match (op, value) {
                (CmpOp::Re | CmpOp::NotRe, FilterLit::Str(s)) => Filter::Re {
                    label: label.clone(),
                    neg: *op == CmpOp::NotRe,
                    re: sightline_core::goregex::compile(
                        s,
                        sightline_core::goregex::Anchor::WholeDotAll,
                    )
                    .map_err(|e| format!("invalid regular expression {s:?}: {e}"))?,
                },
                (_, FilterLit::Str(s)) => Filter::Str {
                    label: label.clone(),
                    neg: *op == CmpOp::Ne,
                    value: s.clone(),
                },
                (_, FilterLit::Num(n)) => Filter::Num {
                    label: label.clone(),
                    op: *op,
                    value: *n,
                    kind: NumKind::Number,
                },
                (_, FilterLit::Duration(d)) => Filter::Num {
                    label: label.clone(),
                    op: *op,
                    value: *d as f64 / 1e9,
                    kind: NumKind::Duration,
                },
                (_, FilterLit::Bytes(b)) => Filter::Num {
                    label: label.clone(),
                    op: *op,
                    value: *b as f64,
                    kind: NumKind::Bytes,
                },
            },
        })
    }

    /// Whether the line stays. A value that cannot be compared (`"abc" >
    /// 5`) keeps the line and marks it with `__error__`, as Loki does.
    ///
    /// As in Loki (pkg/logql/log/label_filter.go), found different by the
    /// reference test of issue 15: number, duration, byte and ip filters
    /// keep a line that already carries `__error__` (only string matchers
    /// may drop it) and drop a line without the label, `!=` included; both
    /// sides of `and` run (the right one may mark an error too).
    pub fn keep(&self, labels: &mut LabelSet) -> bool {
        match self {
            Filter::And(a, b) => {
                let left = a.keep(labels);
                let right = b.keep(labels);
                left && right
            }
            Filter::Or(a, b) => a.keep(labels) || b.keep(labels),
            Filter::Str { label, neg, value } => {
                (labels.get(label).map_or("", String::as_str) == value) != *neg
            }
            Filter::Re { label, neg, re } => {
                re.is_match(labels.get(label).map_or("", String::as_str)) != *neg
            }
            Filter::Ip { label, neg, m } => {
                if labels.contains_key(ERROR) {
                    return true;
                }
                match labels.get(label) {
                    Some(v) => m.value(v) != *neg,
                    None => false,
                }
            }
            Filter::Num {
                label,
                op,
                value,
                kind,
            } => {
                if labels.contains_key(ERROR) {
                    return true;
                }
                let Some(raw) = labels.get(label) else {
                    return false;
                };
                let conv = match kind {
                    NumKind::Number => super::convert(raw, crate::ast::Conversion::None),
                    NumKind::Duration => super::convert(raw, crate::ast::Conversion::Duration),
                    NumKind::Bytes => super::convert(raw, crate::ast::Conversion::Bytes),
                };
                match conv {
                    Ok(v) => match op {
                        CmpOp::Eq | CmpOp::EqEq => v == *value,
                        CmpOp::Ne => v != *value,
                        CmpOp::Gt => v > *value,
                        CmpOp::Ge => v >= *value,
                        CmpOp::Lt => v < *value,
                        CmpOp::Le => v <= *value,
                        CmpOp::Re | CmpOp::NotRe => false,
                    },
                    Err(e) => {
                        if !labels.contains_key(ERROR) {
                            labels.insert(ERROR.into(), errors::LABEL_FILTER.into());
                            labels.insert(ERROR_DETAILS.into(), e);
                        }
                        true
                    }
                }
            }
        }
    }
}

fn selected(sel: &[LabelSel], name: &str, value: &str) -> bool {
    sel.iter()
        .any(|s| s.name == name && s.matcher.as_ref().is_none_or(|m| m.matches(value)))
}

/// `drop a, b="x"`: removes the named labels (those with a matcher only
/// when their value matches).
pub fn drop(sel: &[LabelSel], labels: &mut LabelSet) {
    labels.retain(|k, v| !selected(sel, k, v));
}

/// `keep a, b="x"`: keeps only the named labels.
pub fn keep(sel: &[LabelSel], labels: &mut LabelSet) {
    labels.retain(|k, v| selected(sel, k, v));
}

/// Every label name a filter reads.
pub fn names(f: &LabelFilter, out: &mut std::collections::HashSet<String>) {
    match f {
        LabelFilter::Cmp { label, .. } | LabelFilter::Ip { label, .. } => {
            out.insert(label.clone());
        }
        LabelFilter::And(a, b) | LabelFilter::Or(a, b) => {
            names(a, out);
            names(b, out);
        }
    }
}
