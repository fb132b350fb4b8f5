//! Aggregations over rows holding native histograms: `sum` and `avg` add
//! histograms; `count` and `group` count them like floats, `count_values`
//! by their string form; the others ignore them with Prometheus's info
//! annotation. Float-only inputs never come here.

use crate::eval::{present, Evaluator, Hist, Row, ABSENT};
use crate::hist_range::Notes;
use promql_parser::parser::token::*;
use promql_parser::parser::AggregateExpr;
use sightline_core::histogram::{Combined, CounterResetHint, Incompatible};
use sightline_core::FloatHistogram;
use std::sync::Arc;

/// A running sum or mean of histograms with Kahan-Neumaier compensation
/// of every field, as Prometheus sums them for `sum`, `avg`,
/// `sum_over_time` and `avg_over_time`. A mean adds up like a sum until
/// some field overflows, then goes on as an incremental mean (the float
/// `avg`'s strategy), so a mean of huge histograms stays finite.
pub(crate) struct HistAcc {
    acc: FloatHistogram,
    comp: FloatHistogram,
    n: usize,
    incremental: bool,
    /// An addition failed (mixed schemas): the result is unusable.
    pub failed: bool,
}

impl HistAcc {
    pub fn new(h: &FloatHistogram) -> HistAcc {
        HistAcc {
            comp: h.empty_like(),
            acc: h.clone(),
            n: 1,
            incremental: false,
            failed: false,
        }
    }

    /// Adds `h`; `mean` says the result will be [`HistAcc::mean`], which may
    /// switch to incremental averaging on overflow.
    pub fn add(
        &mut self,
        h: &FloatHistogram,
        mean: bool,
    ) -> std::result::Result<Combined, Incompatible> {
        self.n += 1;
        if !mean {
            return self.acc.kahan_add(&mut self.comp, h);
        }
        if !self.incremental {
            if far_from_overflow(&self.acc) && far_from_overflow(h) {
                // No field can overflow: skip the trial on copies.
                return self.acc.kahan_add(&mut self.comp, h);
            }
            let (mut acc, mut comp) = (self.acc.clone(), self.comp.clone());
            let r = acc.kahan_add(&mut comp, h)?;
            if !acc.has_infinity() {
                (self.acc, self.comp) = (acc, comp);
                return Ok(r);
            }
            // The sum overflowed: continue with the mean so far.
            self.incremental = true;
            let before = (self.n - 1) as f64;
            self.acc.div(before);
            self.comp.div(before);
        }
        let n = self.n as f64;
        self.acc.scale((n - 1.0) / n);
        self.comp.scale((n - 1.0) / n);
        let mut part = h.clone();
        part.div(n);
        self.acc.kahan_add(&mut self.comp, &part)
    }

    /// The compensated sum.
    pub fn sum(mut self) -> FloatHistogram {
        // Same layout, so this cannot fail.
        let _ = self.acc.add(&self.comp);
        self.acc
    }

    /// The compensated mean.
    pub fn mean(mut self) -> FloatHistogram {
        if !self.incremental {
            // Divided apart, as the sum may be near overflow.
            let n = self.n as f64;
            self.acc.div(n);
            self.comp.div(n);
        }
        self.sum()
    }
}

/// True when every field of `h` is below half the float range, so adding
/// two such histograms cannot overflow (NaN and infinities are not).
fn far_from_overflow(h: &FloatHistogram) -> bool {
    const HALF: f64 = f64::MAX / 2.0;
    [h.count, h.sum, h.zero_count]
        .iter()
        .chain(&h.positive_buckets)
        .chain(&h.negative_buckets)
        .all(|v| v.abs() < HALF)
}

/// Per group and step: the histogram sum so far.
type Sums = Vec<Option<HistAcc>>;

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
            // count_values keys histograms by their string form itself.
            T_COUNT_VALUES => None,
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
                let mut sums: Sums = (0..ng * n).map(|_| None).collect();
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
                            None => sums[k] = Some(HistAcc::new(h)),
                            Some(acc) if acc.failed => {}
                            Some(acc) => {
                                if !notes.note(acc.add(h, op == T_AVG), "aggregation") {
                                    acc.failed = true;
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
            let Some(acc) = s else { continue };
            let (g, i) = (k / n, k % n);
            if present(out[g].vals[i]) {
                out[g].vals[i] = ABSENT;
                mixed = true;
                continue;
            }
            if acc.failed {
                continue;
            }
            let mut h = if op == T_AVG { acc.mean() } else { acc.sum() };
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

#[cfg(test)]
mod tests {
    use super::HistAcc;
    use sightline_core::FloatHistogram;

    fn h(count: f64, sum: f64) -> FloatHistogram {
        FloatHistogram {
            count,
            sum,
            ..Default::default()
        }
    }

    #[test]
    fn means_are_compensated_and_survive_overflow() {
        // issue 12: as Prometheus's avg of histograms, sum until a field
        // overflows, then an incremental mean; both compensated.
        let xs = [
            h(1.79e308, 5.3),
            h(1e308, 1e100),
            h(1.0, 1.0),
            h(1.0, -1e100),
        ];
        let mut acc = HistAcc::new(&xs[0]);
        for x in &xs[1..] {
            acc.add(x, true).unwrap();
        }
        let m = acc.mean();
        assert!(
            (m.count - (1.79e308 / 4.0 + 1e308 / 4.0)).abs() / m.count < 1e-12,
            "{}",
            m.count
        );
        assert!((m.sum - 6.3 / 4.0).abs() < 1e-12, "{}", m.sum);
        let mut acc = HistAcc::new(&h(1.0, 1.0));
        for x in [h(1.0, 1e100), h(1.0, 2.0), h(1.0, -1e100)] {
            acc.add(&x, false).unwrap();
        }
        assert_eq!(acc.sum().sum, 3.0);
    }
}
