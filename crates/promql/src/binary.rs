//! Binary operators: arithmetic, comparisons, set operators, and vector
//! matching (`on`, `ignoring`, `group_left`, `group_right`, `bool`, `fill`).

use crate::error::{Error, Result};
use crate::eval::{go_labels, present, Evaluator, Row, Steps, Val, ABSENT};
use foldhash::{HashMap, HashMapExt};
use promql_parser::parser::token::*;
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};
use sightline_core::{Labels, METRIC_NAME};

pub(crate) fn is_comparison(op: TokenId) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

fn is_set(op: TokenId) -> bool {
    matches!(op, T_LAND | T_LOR | T_LUNLESS)
}

/// Applies `op` to two floats; the bool says whether a comparison holds
/// (always true for arithmetic).
pub(crate) fn apply(op: TokenId, l: f64, r: f64) -> (f64, bool) {
    match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_MOD => (l % r, true),
        T_POW => (l.powf(r), true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

/// The labels two series are matched on.
pub(crate) fn signature(l: &Labels, on: bool, names: &[String]) -> Labels {
    let mut b = l.to_builder();
    if on {
        b.retain(|x| names.contains(&x.name));
    } else {
        b.retain(|x| x.name != METRIC_NAME && !names.contains(&x.name));
    }
    b.into_labels()
}

/// Assigns every row of both sides a match-group id, computed once per series.
/// A 64-bit hash of the labels two series are matched on, as Prometheus's
/// signatures are: no label set is built per series.
fn signature_hash(l: &Labels, on: bool, names: &[String]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for x in l {
        let included = if on {
            names.contains(&x.name)
        } else {
            x.name != METRIC_NAME && !names.contains(&x.name)
        };
        if included {
            h.update(x.name.as_bytes());
            h.update(&[0xff]);
            h.update(x.value.as_bytes());
            h.update(&[0xff]);
        }
    }
    h.digest()
}

/// Match-group ids for the rows of both sides, plus for each group a
/// representative `(right side?, row)` to build its labels from on demand.
type GroupIds = (Vec<usize>, Vec<usize>, Vec<(bool, usize)>);

pub(crate) fn group_ids(l: &[Row], r: &[Row], on: bool, names: &[String]) -> GroupIds {
    let mut ids: HashMap<u64, usize> = HashMap::new();
    let mut reps = Vec::new();
    let mut assign = |rows: &[Row], right: bool| -> Vec<usize> {
        rows.iter()
            .enumerate()
            .map(|(i, row)| {
                let next = ids.len();
                *ids.entry(signature_hash(&row.labels, on, names))
                    .or_insert_with(|| {
                        reps.push((right, i));
                        next
                    })
            })
            .collect()
    };
    let a = assign(l, false);
    let b = assign(r, true);
    (a, b, reps)
}

impl<'a> Evaluator<'a> {
    pub fn eval_binary(&mut self, b: &BinaryExpr, s: &Steps) -> Result<Val> {
        let op = b.op.id();
        let ret_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
        let lhs = self.eval(&b.lhs, s)?;
        let rhs = self.eval(&b.rhs, s)?;
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(
                l.iter()
                    .zip(&r)
                    .map(|(&a, &c)| {
                        let (v, keep) = apply(op, a, c);
                        if is_comparison(op) {
                            if keep {
                                1.0
                            } else {
                                0.0
                            }
                        } else {
                            v
                        }
                    })
                    .collect(),
            )),
            (Val::Vector(rows), Val::Scalar(r)) => Ok(Val::Vector(self.vector_scalar(op, b, rows, &r, false, ret_bool))),
            (Val::Scalar(l), Val::Vector(rows)) => Ok(Val::Vector(self.vector_scalar(op, b, rows, &l, true, ret_bool))),
            (Val::Vector(l), Val::Vector(r)) => {
                if is_set(op) {
                    Ok(Val::Vector(self.set_op(op, b, l, r, s)))
                } else if l.iter().chain(&r).any(|x| x.hists.is_some()) {
                    let (on, names) = Self::matching(b);
                    Ok(Val::Vector(self.hist_vector_vector(op, b, l, r, s, ret_bool, on, &names)?))
                } else {
                    Ok(Val::Vector(self.vector_vector(op, b, l, r, s, ret_bool)?))
                }
            }
            (l, r) => Err(Error::exec(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                l.type_name(),
                r.type_name()
            ))),
        }
    }

    fn matching(b: &BinaryExpr) -> (bool, Vec<String>) {
        match b.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
            None => (false, Vec::new()),
        }
    }

    fn set_op(
        &mut self,
        op: TokenId,
        b: &BinaryExpr,
        mut l: Vec<Row>,
        mut r: Vec<Row>,
        s: &Steps,
    ) -> Vec<Row> {
        let (on, names) = Self::matching(b);
        let (lg, rg, reps) = group_ids(&l, &r, on, &names);
        let n = s.n;
        // Which match groups the filtering side has at each step, as a
        // group-by-step bitmap built row by row (rows are step-contiguous).
        let (filter, target, fg, tg) = match op {
            T_LAND | T_LUNLESS => (&r, &mut l, &rg, &lg),
            _ => (&l, &mut r, &lg, &rg),
        };
        let mut mask = vec![false; reps.len() * n];
        for (row, &g) in filter.iter().zip(fg) {
            for (m, v) in mask[g * n..(g + 1) * n].iter_mut().zip(&row.vals) {
                *m |= present(*v);
            }
            if let Some(h) = &row.hists {
                for (m, c) in mask[g * n..(g + 1) * n].iter_mut().zip(h) {
                    *m |= c.is_some();
                }
            }
        }
        // `and` keeps matched cells; `unless` and the right side of `or`
        // keep unmatched ones.
        let keep_matched = op == T_LAND;
        for (row, &g) in target.iter_mut().zip(tg) {
            for (v, &m) in row.vals.iter_mut().zip(&mask[g * n..(g + 1) * n]) {
                if m != keep_matched {
                    *v = ABSENT;
                }
            }
            if let Some(h) = &mut row.hists {
                for (c, &m) in h.iter_mut().zip(&mask[g * n..(g + 1) * n]) {
                    if m != keep_matched {
                        *c = None;
                    }
                }
            }
        }
        target.retain(|row| row.any());
        if op == T_LOR {
            l.extend(r);
        }
        l
    }

    fn vector_vector(
        &mut self,
        op: TokenId,
        b: &BinaryExpr,
        l: Vec<Row>,
        r: Vec<Row>,
        s: &Steps,
        ret_bool: bool,
    ) -> Result<Vec<Row>> {
        let (on, names) = Self::matching(b);
        let modifier = b.modifier.as_ref();
        let card = modifier.map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone());
        let (include, swapped, one_to_one) = match &card {
            VectorMatchCardinality::ManyToOne(ls) => (ls.labels.clone(), false, false),
            VectorMatchCardinality::OneToMany(ls) => (ls.labels.clone(), true, false),
            _ => (Vec::new(), false, true),
        };
        let fill = modifier.map(|m| m.fill_values.clone()).unwrap_or_default();
        // Prometheus swaps the operands for group_right but not the fill
        // values: fill_left stands in for a missing "many" side either way.
        let (fill_many, fill_one) = (fill.lhs, fill.rhs);
        let (many, one) = if swapped { (r, l) } else { (l, r) };
        let (mg, og, reps) = group_ids(&many, &one, on, &names);
        let groups = reps.len();
        let sig_of = |g: usize| {
            let (right, i) = reps[g];
            let row = if right { &one[i] } else { &many[i] };
            signature(&row.labels, on, &names)
        };
        let arith = !is_comparison(op);
        let n = s.n;

        if fill_many.is_none() && fill_one.is_none() {
            if let Some(out) = pairwise(
                op,
                &many,
                &one,
                &mg,
                &og,
                groups,
                swapped,
                ret_bool,
                |m, o| result_labels(m, Some(o), on, &names, one_to_one, &include),
            ) {
                return Ok(out);
            }
        }

        let mut out: Vec<Row> = Vec::new();
        let mut out_by_labels: HashMap<Labels, usize> = HashMap::new();
        let mut out_by_pair: HashMap<(usize, usize), usize> = HashMap::new();
        let mut one_at = vec![usize::MAX; groups];
        let mut one_stamp = vec![usize::MAX; groups];
        let mut matched_stamp = vec![usize::MAX; groups];
        let mut many_stamp = vec![usize::MAX; groups];
        let one_side = if swapped { "left" } else { "right" };

        for i in 0..n {
            for (j, (row, &g)) in one.iter().zip(&og).enumerate() {
                if !present(row.vals[i]) {
                    continue;
                }
                if one_stamp[g] == i {
                    let other = &one[one_at[g]];
                    return Err(Error::exec(format!(
                        "found duplicate series for the match group {} on the {one_side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                        go_labels(&sig_of(g)), go_labels(&other.labels), go_labels(&row.labels)
                    )));
                }
                one_stamp[g] = i;
                one_at[g] = j;
            }
            for ((mi, row), &g) in many.iter().enumerate().zip(&mg) {
                let mv = row.vals[i];
                if !present(mv) {
                    continue;
                }
                many_stamp[g] = i;
                let (oj, ov) = if one_stamp[g] == i {
                    (one_at[g], one[one_at[g]].vals[i])
                } else if let Some(f) = fill_one {
                    (usize::MAX, f)
                } else {
                    continue;
                };
                if oj != usize::MAX {
                    if one_to_one && matched_stamp[g] == i {
                        return Err(Error::exec(
                            "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                        ));
                    }
                    matched_stamp[g] = i;
                }
                let (fl, fr) = if swapped { (ov, mv) } else { (mv, ov) };
                let (mut v, keep) = apply(op, fl, fr);
                if ret_bool {
                    v = if keep { 1.0 } else { 0.0 };
                } else if !keep {
                    continue;
                }
                let key = (mi, oj);
                let idx = match out_by_pair.get(&key) {
                    Some(&x) => x,
                    None => {
                        let other = if oj == usize::MAX {
                            None
                        } else {
                            Some(&one[oj].labels)
                        };
                        let labels =
                            result_labels(&row.labels, other, on, &names, one_to_one, &include);
                        let idx = *out_by_labels.entry(labels.clone()).or_insert_with(|| {
                            out.push(Row {
                                labels,
                                drop_name: arith || ret_bool || row.drop_name,
                                vals: vec![ABSENT; n],
                                hists: None,
                            });
                            out.len() - 1
                        });
                        out_by_pair.insert(key, idx);
                        idx
                    }
                };
                if present(out[idx].vals[i]) {
                    return Err(Error::exec(if one_to_one {
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                    } else {
                        "multiple matches for labels: grouping labels must ensure unique matches"
                    }));
                }
                out[idx].vals[i] = v;
            }
            // Groups present only on the "one" side, when the many side has a fill value.
            if let Some(f) = fill_many {
                for (j, (row, &g)) in one.iter().zip(&og).enumerate() {
                    if !present(row.vals[i]) || many_stamp[g] == i {
                        continue;
                    }
                    let ov = row.vals[i];
                    let (fl, fr) = if swapped { (ov, f) } else { (f, ov) };
                    let (mut v, keep) = apply(op, fl, fr);
                    if ret_bool {
                        v = if keep { 1.0 } else { 0.0 };
                    } else if !keep {
                        continue;
                    }
                    let key = (usize::MAX, j);
                    let idx = match out_by_pair.get(&key) {
                        Some(&x) => x,
                        None => {
                            // Without a "many" series, the result carries the match labels.
                            let labels = sig_of(g);
                            let idx = *out_by_labels.entry(labels.clone()).or_insert_with(|| {
                                out.push(Row {
                                    labels,
                                    drop_name: arith || ret_bool || row.drop_name,
                                    vals: vec![ABSENT; n],
                                    hists: None,
                                });
                                out.len() - 1
                            });
                            out_by_pair.insert(key, idx);
                            idx
                        }
                    };
                    out[idx].vals[i] = v;
                }
            }
        }
        out.retain(|row| row.vals.iter().any(|v| present(*v)));
        Ok(out)
    }
}

/// The common case, computed series by series: every match group has at
/// most one series on each side, so no step can hold a duplicate and each
/// pair's values combine element-wise. `None` when some group has several
/// series (the step-by-step path then checks cardinality per step).
#[allow(clippy::too_many_arguments)]
fn pairwise(
    op: TokenId,
    many: &[Row],
    one: &[Row],
    mg: &[usize],
    og: &[usize],
    groups: usize,
    swapped: bool,
    ret_bool: bool,
    labels_of: impl Fn(&Labels, &Labels) -> Labels,
) -> Option<Vec<Row>> {
    let mut one_of = vec![usize::MAX; groups];
    for (j, &g) in og.iter().enumerate() {
        if one_of[g] != usize::MAX {
            return None;
        }
        one_of[g] = j;
    }
    let mut seen = vec![false; groups];
    for &g in mg {
        if std::mem::replace(&mut seen[g], true) {
            return None;
        }
    }
    let arith = !is_comparison(op);
    let mut out = Vec::new();
    for (row, &g) in many.iter().zip(mg) {
        let Some(other) = one.get(one_of[g]) else {
            continue;
        };
        let mut vals = vec![ABSENT; row.vals.len()];
        let mut any = false;
        for ((v, &mv), &ov) in vals.iter_mut().zip(&row.vals).zip(&other.vals) {
            if !present(mv) || !present(ov) {
                continue;
            }
            let (fl, fr) = if swapped { (ov, mv) } else { (mv, ov) };
            let (x, keep) = apply(op, fl, fr);
            if ret_bool {
                *v = if keep { 1.0 } else { 0.0 };
            } else if keep {
                *v = x;
            } else {
                continue;
            }
            any = true;
        }
        if any {
            out.push(Row {
                labels: labels_of(&row.labels, &other.labels),
                drop_name: arith || ret_bool || row.drop_name,
                vals,
                hists: None,
            });
        }
    }
    Some(out)
}

/// The labels of a vector-matching result, from the "many" side's labels.
pub(crate) fn result_labels(
    many: &Labels,
    one: Option<&Labels>,
    on: bool,
    names: &[String],
    one_to_one: bool,
    include: &[String],
) -> Labels {
    let mut b = many.to_builder();
    if one_to_one {
        if on {
            b.retain(|x| names.contains(&x.name));
        } else {
            for n in names {
                b.del(n);
            }
        }
    }
    for ln in include {
        match one.and_then(|o| o.get(ln)) {
            Some(v) => {
                b.set(ln.clone(), v.to_owned());
            }
            None => {
                if one.is_some() {
                    b.del(ln);
                }
            }
        }
    }
    b.into_labels()
}

impl<'a> Evaluator<'a> {
    fn vector_scalar(
        &mut self,
        op: TokenId,
        b: &BinaryExpr,
        mut rows: Vec<Row>,
        sc: &[f64],
        swap: bool,
        ret_bool: bool,
    ) -> Vec<Row> {
        let cmp = is_comparison(op);
        for row in &mut rows {
            row.drop_name = row.drop_name || !cmp || ret_bool;
            for (x, &c) in row.vals.iter_mut().zip(sc) {
                if !present(*x) {
                    continue;
                }
                let (l, r) = if swap { (c, *x) } else { (*x, c) };
                let (mut v, keep) = apply(op, l, r);
                if cmp && swap {
                    v = *x;
                }
                *x = if ret_bool {
                    if keep {
                        1.0
                    } else {
                        0.0
                    }
                } else if keep {
                    v
                } else {
                    ABSENT
                };
            }
        }
        if rows.iter().any(|r| r.hists.is_some()) {
            self.hist_vector_scalar(op, b, &mut rows, sc, swap, ret_bool);
        }
        rows.retain(|row| row.any());
        rows
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineOptions, Value};
    use sightline_core::{ErrorKind, Labels, MemStore};

    fn store() -> MemStore {
        let s = MemStore::new();
        for (name, job, inst, v) in [
            ("a", "x", "0", 1.0),
            ("a", "x", "1", 2.0),
            ("b", "x", "0", 10.0),
            ("b", "x", "1", 20.0),
        ] {
            s.add(
                Labels::from_pairs([("__name__", name), ("job", job), ("instance", inst)]),
                0,
                v,
            );
        }
        s
    }

    #[test]
    fn duplicate_match_groups_are_a_many_to_many_error() {
        let e = Engine::new(EngineOptions::default());
        let err = e.instant_query(&store(), "a + on(job) b", 0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Execution);
        let msg = err.to_string();
        assert!(msg.contains("many-to-many matching not allowed"), "{msg}");
        assert!(msg.contains("on the right hand-side"), "{msg}");
    }

    #[test]
    fn group_left_allows_many_to_one_and_copies_labels() {
        let s = store();
        s.add(
            Labels::from_pairs([("__name__", "info"), ("job", "x"), ("team", "t")]),
            0,
            1.0,
        );
        let e = Engine::new(EngineOptions::default());
        let r = e
            .instant_query(&s, "a * on(job) group_left(team) info", 0)
            .unwrap();
        let Value::Vector(v) = r.value else {
            panic!("not a vector")
        };
        assert_eq!(v.len(), 2);
        assert!(v
            .iter()
            .all(|x| x.labels.get("team") == Some("t") && x.labels.metric_name().is_none()));
        let err = e.instant_query(&s, "a * on(job) info", 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("many-to-one matching must be explicit"),
            "{err}"
        );
    }

    #[test]
    fn comparisons_filter_and_keep_the_name_unless_bool() {
        let e = Engine::new(EngineOptions::default());
        let r = e.instant_query(&store(), "a > 1", 0).unwrap();
        let Value::Vector(v) = r.value else { panic!() };
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].labels.metric_name(), Some("a"));
        let r = e.instant_query(&store(), "a > bool 1", 0).unwrap();
        let Value::Vector(v) = r.value else { panic!() };
        assert_eq!(v.iter().map(|x| x.v).sum::<f64>(), 1.0);
        assert!(v.iter().all(|x| x.labels.metric_name().is_none()));
    }
}
