//! Binary operators where an operand holds native histograms: `+` and `-`
//! between histograms, `*` and `/` by floats, `==` and `!=` between
//! histograms; every other pairing drops the sample with Prometheus's
//! "incompatible sample types" info. Float-only operands never come here.

use crate::binary::{apply, group_ids, is_comparison, result_labels, signature};
use crate::error::{Error, Result};
use crate::eval::{go_labels, present, Evaluator, Hist, Row, Steps, ABSENT};
use crate::hist_range::Notes;
use foldhash::{HashMap, HashMapExt};
use promql_parser::parser::token::*;
use promql_parser::parser::{BinaryExpr, VectorMatchCardinality};
use sightline_core::FloatHistogram;
use std::sync::Arc;

/// One operand's value at a step.
#[derive(Clone)]
pub(crate) enum Cell {
    F(f64),
    H(Hist),
}

impl Cell {
    fn kind(&self) -> &'static str {
        match self {
            Cell::F(_) => "float",
            Cell::H(_) => "histogram",
        }
    }
}

/// The cell of `r` at step `i`.
pub(crate) fn cell(r: &Row, i: usize) -> Option<Cell> {
    if let Some(h) = r.hist(i) {
        return Some(Cell::H(h.clone()));
    }
    present(r.vals[i]).then(|| Cell::F(r.vals[i]))
}

/// Puts `c` into `r` at step `i`.
pub(crate) fn put(r: &mut Row, i: usize, c: Cell) {
    match c {
        Cell::F(v) => r.vals[i] = v,
        Cell::H(h) => r.set_hist(i, h),
    }
}

fn op_text(op: TokenId) -> &'static str {
    match op {
        T_ADD => "+",
        T_SUB => "-",
        T_MUL => "*",
        T_DIV => "/",
        T_MOD => "%",
        T_POW => "^",
        T_ATAN2 => "atan2",
        T_EQLC => "==",
        T_NEQ => "!=",
        T_GTR => ">",
        T_LSS => "<",
        T_GTE => ">=",
        T_LTE => "<=",
        _ => "?",
    }
}

/// What one pairing gives: a value to keep, a failed comparison (dropped
/// silently), or an incompatible pairing (dropped with an info).
pub(crate) enum Outcome {
    Keep(Cell),
    Filtered,
    Incompatible,
}

/// `l op r` on cells. With `ret_bool` comparisons give 1 or 0.
pub(crate) fn combine(
    op: TokenId,
    l: &Cell,
    r: &Cell,
    ret_bool: bool,
    notes: &mut Notes,
) -> Outcome {
    let scaled = |h: &Hist, f: f64, div: bool| {
        let mut h: FloatHistogram = (**h).clone();
        if div {
            h.div(f);
        } else {
            h.scale(f);
        }
        Outcome::Keep(Cell::H(Arc::new(h)))
    };
    match (l, r) {
        (Cell::F(a), Cell::F(b)) => {
            let (v, keep) = apply(op, *a, *b);
            if ret_bool {
                Outcome::Keep(Cell::F(if keep { 1.0 } else { 0.0 }))
            } else if keep {
                Outcome::Keep(Cell::F(v))
            } else {
                Outcome::Filtered
            }
        }
        (Cell::H(a), Cell::H(b)) => match op {
            T_ADD | T_SUB => {
                let mut h: FloatHistogram = (**a).clone();
                let (r, what) = if op == T_ADD {
                    (h.add(b), "addition")
                } else {
                    (h.sub(b), "subtraction")
                };
                if !notes.note(r, what) {
                    return Outcome::Filtered;
                }
                h.compact(0);
                Outcome::Keep(Cell::H(Arc::new(h)))
            }
            T_EQLC | T_NEQ => {
                let eq = a.equals(b);
                let keep = eq == (op == T_EQLC);
                if ret_bool {
                    Outcome::Keep(Cell::F(if keep { 1.0 } else { 0.0 }))
                } else if keep {
                    Outcome::Keep(l.clone())
                } else {
                    Outcome::Filtered
                }
            }
            _ => Outcome::Incompatible,
        },
        (Cell::H(h), Cell::F(f)) => match op {
            T_MUL => scaled(h, *f, false),
            T_DIV => scaled(h, *f, true),
            _ => Outcome::Incompatible,
        },
        (Cell::F(f), Cell::H(h)) => match op {
            T_MUL => scaled(h, *f, false),
            _ => Outcome::Incompatible,
        },
    }
}

impl<'a> Evaluator<'a> {
    /// Emits the info for an incompatible pairing.
    pub(crate) fn incompatible(&mut self, op: TokenId, l: &Cell, r: &Cell, b: &BinaryExpr) {
        let pos = self.pos(&b.to_string());
        self.info(format!(
            "incompatible sample types encountered for binary operator {:?}: {} {} {} {pos}",
            op_text(op),
            l.kind(),
            op_text(op),
            r.kind()
        ));
    }

    /// Emits what combining histograms noted.
    pub(crate) fn binary_notes(&mut self, notes: &Notes, b: &BinaryExpr, metric: &str) {
        notes.emit(self, metric, &b.to_string());
    }

    /// Vector/scalar operations on rows holding histograms: the floats
    /// were done by the float path; this does the histogram cells.
    pub(crate) fn hist_vector_scalar(
        &mut self,
        op: TokenId,
        b: &BinaryExpr,
        rows: &mut [Row],
        sc: &[f64],
        swap: bool,
        ret_bool: bool,
    ) {
        let mut notes = Notes::default();
        let mut bad: Option<(Cell, Cell)> = None;
        for row in rows.iter_mut() {
            let Some(cells) = row.hists.take() else {
                continue;
            };
            let mut kept = Vec::new();
            for (i, c) in cells.into_iter().enumerate() {
                let Some(h) = c else { continue };
                let (hc, fc) = (Cell::H(h), Cell::F(sc[i]));
                let (l, r) = if swap { (fc, hc) } else { (hc, fc) };
                match combine(op, &l, &r, ret_bool, &mut notes) {
                    Outcome::Keep(c) => kept.push((i, c)),
                    Outcome::Filtered => {}
                    Outcome::Incompatible => bad = Some((l, r)),
                }
            }
            for (i, c) in kept {
                put(row, i, c);
            }
        }
        if let Some((l, r)) = bad {
            self.incompatible(op, &l, &r, b);
        }
        self.binary_notes(&notes, b, "");
    }

    /// Vector/vector arithmetic and comparisons when either side holds
    /// histograms: step by step, with the same matching rules and errors
    /// as the float path.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn hist_vector_vector(
        &mut self,
        op: TokenId,
        b: &BinaryExpr,
        l: Vec<Row>,
        r: Vec<Row>,
        s: &Steps,
        ret_bool: bool,
        on: bool,
        names: &[String],
    ) -> Result<Vec<Row>> {
        let modifier = b.modifier.as_ref();
        let card = modifier.map_or(VectorMatchCardinality::OneToOne, |m| m.card.clone());
        let (include, swapped, one_to_one) = match &card {
            VectorMatchCardinality::ManyToOne(ls) => (ls.labels.clone(), false, false),
            VectorMatchCardinality::OneToMany(ls) => (ls.labels.clone(), true, false),
            _ => (Vec::new(), false, true),
        };
        let (many, one) = if swapped { (r, l) } else { (l, r) };
        let (mg, og, reps) = group_ids(&many, &one, on, names);
        let groups = reps.len();
        let arith = !is_comparison(op);
        let one_side = if swapped { "left" } else { "right" };
        let mut out: Vec<Row> = Vec::new();
        let mut out_by_pair: HashMap<(usize, usize), usize> = HashMap::new();
        let mut out_by_labels: HashMap<sightline_core::Labels, usize> = HashMap::new();
        let mut one_at = vec![usize::MAX; groups];
        let mut one_stamp = vec![usize::MAX; groups];
        let mut matched_stamp = vec![usize::MAX; groups];
        let mut notes = Notes::default();
        let mut bad: Option<(Cell, Cell)> = None;
        for i in 0..s.n {
            for (j, (row, &g)) in one.iter().zip(&og).enumerate() {
                if !row.has(i) {
                    continue;
                }
                if one_stamp[g] == i {
                    let (right, k) = reps[g];
                    let rep = if right { &one[k] } else { &many[k] };
                    let sig = signature(&rep.labels, on, names);
                    return Err(Error::exec(format!(
                        "found duplicate series for the match group {} on the {one_side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                        go_labels(&sig), go_labels(&one[one_at[g]].labels), go_labels(&row.labels)
                    )));
                }
                one_stamp[g] = i;
                one_at[g] = j;
            }
            for ((mi, row), &g) in many.iter().enumerate().zip(&mg) {
                let Some(mc) = cell(row, i) else { continue };
                if one_stamp[g] != i {
                    continue;
                }
                let oj = one_at[g];
                if one_to_one && matched_stamp[g] == i {
                    return Err(Error::exec(
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                    ));
                }
                matched_stamp[g] = i;
                let Some(oc) = cell(&one[oj], i) else {
                    continue;
                };
                let (fl, fr) = if swapped { (oc, mc) } else { (mc, oc) };
                let v = match combine(op, &fl, &fr, ret_bool, &mut notes) {
                    Outcome::Keep(v) => v,
                    Outcome::Filtered => continue,
                    Outcome::Incompatible => {
                        bad = Some((fl, fr));
                        continue;
                    }
                };
                let idx = match out_by_pair.get(&(mi, oj)) {
                    Some(&x) => x,
                    None => {
                        let labels = result_labels(
                            &row.labels,
                            Some(&one[oj].labels),
                            on,
                            names,
                            one_to_one,
                            &include,
                        );
                        let idx = *out_by_labels.entry(labels.clone()).or_insert_with(|| {
                            out.push(Row::floats(
                                labels,
                                arith || ret_bool || row.drop_name,
                                vec![ABSENT; s.n],
                            ));
                            out.len() - 1
                        });
                        out_by_pair.insert((mi, oj), idx);
                        idx
                    }
                };
                if out[idx].has(i) {
                    return Err(Error::exec(if one_to_one {
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                    } else {
                        "multiple matches for labels: grouping labels must ensure unique matches"
                    }));
                }
                put(&mut out[idx], i, v);
            }
        }
        if let Some((l, r)) = bad {
            self.incompatible(op, &l, &r, b);
        }
        let metric = many
            .first()
            .and_then(|r| r.labels.metric_name())
            .unwrap_or("")
            .to_owned();
        self.binary_notes(&notes, b, &metric);
        out.retain(|row| row.any());
        Ok(out)
    }
}
