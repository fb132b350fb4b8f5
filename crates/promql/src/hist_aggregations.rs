//! Aggregations over rows holding native histograms: `sum` and `avg` add
//! histograms; `count` and `group` count them like floats; the others
//! ignore them with Prometheus's info annotation. Float-only inputs never
//! come here.

use crate::eval::{present, Evaluator, Hist, Row, ABSENT};
use crate::hist_range::Notes;
use promql_parser::parser::token::*;
use promql_parser::parser::AggregateExpr;
use sightline_core::histogram::CounterResetHint;
use sightline_core::FloatHistogram;
use std::sync::Arc;

/// Per group and step: the histogram sum so far and how many were added.
type Sums = Vec<Option<(FloatHistogram, usize)>>;

impl<'a> Evaluator<'a> {
    /// Prepares histogram-holding `rows` for the float aggregation of `op`
    /// and computes the histogram part of `sum`/`avg`; `None` when `op`
    /// has no histogram part.
    pub(crate) fn hist_aggregate_pre(
        &mut self,
        op: TokenId,
        a: &AggregateExpr,
        rows: &mut [Row],
        gids: &[usize],
        ng: usize,
        n: usize,
    ) -> Option<(Sums, Notes)> {
        match op {
            T_COUNT | T_GROUP => {
                // A histogram counts as one sample: stand a float in for it.
                for r in rows.iter_mut() {
                    if let Some(h) = r.hists.take() {
                        for (v, c) in r.vals.iter_mut().zip(h) {
                            if c.is_some() {
                                *v = 0.0;
                            }
                        }
                    }
                }
                None
            }
            T_SUM | T_AVG => {
                let mut sums: Sums = vec![None; ng * n];
                let mut notes = Notes::default();
                let (mut reset, mut not_reset) = (vec![false; ng * n], vec![false; ng * n]);
                for (r, &g) in rows.iter().zip(gids) {
                    let Some(cells) = &r.hists else { continue };
                    for (i, c) in cells.iter().enumerate() {
                        let Some(h) = c else { continue };
                        let k = g * n + i;
                        match h.counter_reset_hint {
                            CounterResetHint::CounterReset => reset[k] = true,
                            CounterResetHint::NotCounterReset => not_reset[k] = true,
                            _ => {}
                        }
                        match &mut sums[k] {
                            None => sums[k] = Some(((**h).clone(), 1)),
                            Some((acc, count)) => {
                                *count += 1;
                                if !notes.note(acc.add(h), "aggregation") {
                                    // Marked unusable: a NaN count.
                                    acc.count = f64::NAN;
                                    acc.sum = f64::NAN;
                                    acc.schema = i32::MIN;
                                }
                            }
                        }
                    }
                }
                if reset.iter().zip(&not_reset).any(|(a, b)| *a && *b) {
                    let pos = self.pos(&a.expr.to_string());
                    self.warn(format!(
                        "conflicting counter resets during histogram aggregation {pos}"
                    ));
                }
                Some((sums, notes))
            }
            _ => {
                if rows.iter().any(|r| r.hists.is_some()) {
                    let name = match op {
                        T_MIN => "min",
                        T_MAX => "max",
                        T_STDDEV => "stddev",
                        T_STDVAR => "stdvar",
                        T_QUANTILE => "quantile",
                        T_TOPK => "topk",
                        T_BOTTOMK => "bottomk",
                        T_COUNT_VALUES => "count_values",
                        _ => return None,
                    };
                    let pos = self.pos(&a.expr.to_string());
                    self.info(format!("ignored histogram in {name} aggregation {pos}"));
                }
                None
            }
        }
    }

    /// Puts the histogram sums into the float results `out` (one row per
    /// group); a group with floats and histograms at one step has no value
    /// there, with Prometheus's warning.
    pub(crate) fn hist_aggregate_post(
        &mut self,
        op: TokenId,
        a: &AggregateExpr,
        out: &mut [Row],
        sums: Sums,
        notes: Notes,
        n: usize,
    ) {
        let mut mixed = false;
        for (k, s) in sums.into_iter().enumerate() {
            let Some((mut h, count)) = s else { continue };
            let (g, i) = (k / n, k % n);
            if present(out[g].vals[i]) {
                out[g].vals[i] = ABSENT;
                mixed = true;
                continue;
            }
            if h.schema == i32::MIN {
                continue;
            }
            if op == T_AVG {
                h.scale(1.0 / count as f64);
            }
            h.compact(0);
            out[g].set_hist(i, Arc::new(h) as Hist);
        }
        let pos = self.pos(&a.expr.to_string());
        if mixed {
            self.warn(format!(
                "encountered a mix of histograms and floats for aggregation {pos}"
            ));
        }
        let metric = "";
        if notes.mixed_schemas {
            self.warn(format!("vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?} {pos}"));
        }
        if notes.reconciled.is_some() {
            self.info(format!(
                "mismatched custom buckets were reconciled during aggregation {pos}"
            ));
        }
    }
}
