//! Vector aggregations, binary operators with vector matching, and
//! `label_replace`, step by step, as PromQL defines them (LogQL takes
//! their semantics from PromQL).

use super::metric::{group_labels, Steps, Value};
use super::EvalError;
use crate::ast::{BinOp, Grouping, VectorMatching, VectorOp};
use crate::exec::LabelSet;
use std::collections::BTreeMap;

pub(super) fn aggregate(
    op: VectorOp,
    param: Option<f64>,
    grouping: Option<&Grouping>,
    input: Vec<Steps>,
    n: usize,
) -> Result<Vec<Steps>, EvalError> {
    let key = |l: &LabelSet| match grouping {
        Some(g) => group_labels(l, g),
        None => LabelSet::new(),
    };
    match op {
        VectorOp::Sort | VectorOp::SortDesc => return Ok(input),
        VectorOp::Topk | VectorOp::Bottomk => {
            let k = param.unwrap_or(1.0);
            if k < 1.0 {
                return Ok(Vec::new());
            }
            let k = k as usize;
            let mut groups: BTreeMap<LabelSet, Vec<usize>> = BTreeMap::new();
            for (i, s) in input.iter().enumerate() {
                groups.entry(key(&s.labels)).or_default().push(i);
            }
            // keep[step][series]
            let mut keep = vec![vec![false; input.len()]; n];
            for members in groups.values() {
                for (step, kept) in keep.iter_mut().enumerate() {
                    let mut present: Vec<(usize, f64)> = members
                        .iter()
                        .filter_map(|&i| input[i].values[step].map(|v| (i, v)))
                        .collect();
                    present.sort_by(|a, b| {
                        if op == VectorOp::Topk {
                            b.1.total_cmp(&a.1)
                        } else {
                            a.1.total_cmp(&b.1)
                        }
                    });
                    for (i, _) in present.into_iter().take(k) {
                        kept[i] = true;
                    }
                }
            }
            return Ok(input
                .into_iter()
                .enumerate()
                .map(|(i, s)| Steps {
                    labels: s.labels,
                    values: s
                        .values
                        .into_iter()
                        .enumerate()
                        .map(|(st, v)| v.filter(|_| keep[st][i]))
                        .collect(),
                })
                .filter(|s| s.values.iter().any(Option::is_some))
                .collect());
        }
        _ => {}
    }
    let mut groups: BTreeMap<LabelSet, Vec<Vec<f64>>> = BTreeMap::new();
    for s in &input {
        let g = groups
            .entry(key(&s.labels))
            .or_insert_with(|| vec![Vec::new(); n]);
        for (step, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                g[step].push(*v);
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(labels, per_step)| Steps {
            labels,
            values: per_step
                .into_iter()
                .map(|vs| {
                    if vs.is_empty() {
                        return None;
                    }
                    let n = vs.len() as f64;
                    let sum: f64 = vs.iter().sum();
                    Some(match op {
                        VectorOp::Sum => sum,
                        VectorOp::Avg => sum / n,
                        VectorOp::Min => vs.iter().copied().fold(f64::INFINITY, f64::min),
                        VectorOp::Max => vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        VectorOp::Count => n,
                        VectorOp::Stddev | VectorOp::Stdvar => {
                            let mean = sum / n;
                            let var = vs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                            if op == VectorOp::Stddev {
                                var.sqrt()
                            } else {
                                var
                            }
                        }
                        _ => unreachable!("handled above"),
                    })
                })
                .collect(),
        })
        .filter(|s| s.values.iter().any(Option::is_some))
        .collect())
}

fn apply(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Mod => a % b,
        BinOp::Pow => a.powf(b),
        BinOp::Eq => f64::from(u8::from(a == b)),
        BinOp::Ne => f64::from(u8::from(a != b)),
        BinOp::Gt => f64::from(u8::from(a > b)),
        BinOp::Ge => f64::from(u8::from(a >= b)),
        BinOp::Lt => f64::from(u8::from(a < b)),
        BinOp::Le => f64::from(u8::from(a <= b)),
        BinOp::And | BinOp::Or | BinOp::Unless => f64::NAN,
    }
}

/// The value a comparison or arithmetic gives at one point: `None` drops
/// the point (a false comparison without `bool`). `keep_left` says whose
/// value a filtering comparison keeps.
fn point(op: BinOp, a: f64, b: f64, return_bool: bool, keep: f64) -> Option<f64> {
    let r = apply(op, a, b);
    if op.is_comparison() {
        if return_bool {
            Some(r)
        } else if r == 1.0 {
            Some(keep)
        } else {
            None
        }
    } else {
        Some(r)
    }
}

fn signature(l: &LabelSet, m: &VectorMatching) -> LabelSet {
    match m.on {
        Some(true) => l
            .iter()
            .filter(|(k, _)| m.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(false) => l
            .iter()
            .filter(|(k, _)| !m.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => l.clone(),
    }
}

pub(super) fn binary(
    op: BinOp,
    l: Value,
    r: Value,
    return_bool: bool,
    m: &VectorMatching,
    n: usize,
) -> Result<Value, EvalError> {
    Ok(match (l, r) {
        (Value::Scalar(a), Value::Scalar(b)) => {
            if op.is_comparison() && !return_bool {
                return Err(EvalError::Query(
                    "comparisons between scalars must use the bool modifier".into(),
                ));
            }
            Value::Scalar(apply(op, a, b))
        }
        (Value::Series(vs), Value::Scalar(b)) => Value::Series(
            vs.into_iter()
                .map(|s| Steps {
                    labels: s.labels,
                    values: s
                        .values
                        .into_iter()
                        .map(|v| v.and_then(|a| point(op, a, b, return_bool, a)))
                        .collect(),
                })
                .filter(|s| s.values.iter().any(Option::is_some))
                .collect(),
        ),
        (Value::Scalar(a), Value::Series(vs)) => Value::Series(
            vs.into_iter()
                .map(|s| Steps {
                    labels: s.labels,
                    values: s
                        .values
                        .into_iter()
                        .map(|v| v.and_then(|b| point(op, a, b, return_bool, b)))
                        .collect(),
                })
                .filter(|s| s.values.iter().any(Option::is_some))
                .collect(),
        ),
        (Value::Series(ls), Value::Series(rs)) => Value::Series(if op.is_set() {
            set_op(op, ls, rs, m, n)
        } else {
            vector_op(op, ls, rs, return_bool, m, n)?
        }),
    })
}

fn set_op(op: BinOp, ls: Vec<Steps>, rs: Vec<Steps>, m: &VectorMatching, n: usize) -> Vec<Steps> {
    let sig = |s: &Steps| signature(&s.labels, m);
    let mut right_at: BTreeMap<LabelSet, Vec<bool>> = BTreeMap::new();
    for r in &rs {
        let e = right_at.entry(sig(r)).or_insert_with(|| vec![false; n]);
        for (i, v) in r.values.iter().enumerate() {
            e[i] |= v.is_some();
        }
    }
    match op {
        BinOp::And | BinOp::Unless => ls
            .into_iter()
            .map(|s| {
                let present = right_at.get(&sig(&s));
                let values = s
                    .values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let there = present.is_some_and(|p| p[i]);
                        v.filter(|_| there == (op == BinOp::And))
                    })
                    .collect();
                Steps {
                    labels: s.labels,
                    values,
                }
            })
            .filter(|s| s.values.iter().any(Option::is_some))
            .collect(),
        _ => {
            let mut left_at: BTreeMap<LabelSet, Vec<bool>> = BTreeMap::new();
            for l in &ls {
                let e = left_at.entry(sig(l)).or_insert_with(|| vec![false; n]);
                for (i, v) in l.values.iter().enumerate() {
                    e[i] |= v.is_some();
                }
            }
            let mut out = ls;
            for r in rs {
                let taken = left_at.get(&sig(&r));
                let values: Vec<Option<f64>> = r
                    .values
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| v.filter(|_| !taken.is_some_and(|t| t[i])))
                    .collect();
                if values.iter().any(Option::is_some) {
                    out.push(Steps {
                        labels: r.labels,
                        values,
                    });
                }
            }
            out
        }
    }
}

fn vector_op(
    op: BinOp,
    ls: Vec<Steps>,
    rs: Vec<Steps>,
    return_bool: bool,
    m: &VectorMatching,
    n: usize,
) -> Result<Vec<Steps>, EvalError> {
    // group_right swaps the sides: the "many" side is on the right.
    let right_many = m.group_left == Some(false);
    let (many, one) = if right_many { (rs, ls) } else { (ls, rs) };
    let mut one_by_sig: BTreeMap<LabelSet, Vec<&Steps>> = BTreeMap::new();
    for s in &one {
        one_by_sig
            .entry(signature(&s.labels, m))
            .or_default()
            .push(s);
    }
    let mut out: Vec<Steps> = Vec::new();
    let mut seen: std::collections::BTreeSet<LabelSet> = Default::default();
    for s in &many {
        let sig = signature(&s.labels, m);
        let Some(partners) = one_by_sig.get(&sig) else {
            continue;
        };
        let mut values = vec![None; n];
        for (i, v) in values.iter_mut().enumerate() {
            let present: Vec<f64> = partners.iter().filter_map(|p| p.values[i]).collect();
            if present.len() > 1 {
                return Err(EvalError::Query(format!(
                    "found duplicate series for the match group {sig:?} on the {} hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side",
                    if right_many { "left" } else { "right" }
                )));
            }
            let (Some(a), Some(&b)) = (s.values[i], present.first()) else {
                continue;
            };
            let (x, y) = if right_many { (b, a) } else { (a, b) };
            *v = point(op, x, y, return_bool, x);
        }
        if values.iter().all(Option::is_none) {
            continue;
        }
        let mut labels = if m.group_left.is_some() {
            let mut l = s.labels.clone();
            if let Some(p) = partners.first() {
                for inc in &m.include {
                    match p.labels.get(inc) {
                        Some(v) => l.insert(inc.clone(), v.clone()),
                        None => l.remove(inc),
                    };
                }
            }
            l
        } else {
            // One-to-one: the result carries the matching labels only when
            // `on` is used, as PromQL does.
            match m.on {
                Some(true) => sig.clone(),
                _ => s.labels.clone(),
            }
        };
        if !op.is_comparison() || return_bool {
            labels.remove("__name__");
        }
        // Two left series giving one result: PromQL refuses it.
        if m.group_left.is_none() && !seen.insert(labels.clone()) {
            return Err(EvalError::Query("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into()));
        }
        out.push(Steps { labels, values });
    }
    Ok(out)
}

pub(super) fn label_replace(
    series: Vec<Steps>,
    dst: &str,
    repl: &str,
    src: &str,
    regex: &str,
) -> Result<Vec<Steps>, EvalError> {
    let re = sightline_core::goregex::compile(regex, sightline_core::goregex::Anchor::WholeDotAll)
        .map_err(|e| {
            EvalError::Query(format!("invalid regular expression in label_replace: {e}"))
        })?;
    Ok(series
        .into_iter()
        .map(|mut s| {
            let value = s.labels.get(src).cloned().unwrap_or_default();
            if let Some(c) = re.captures(&value) {
                let mut out = String::new();
                c.expand(repl, &mut out);
                if out.is_empty() {
                    s.labels.remove(dst);
                } else {
                    s.labels.insert(dst.to_owned(), out);
                }
            }
            s
        })
        .collect())
}
