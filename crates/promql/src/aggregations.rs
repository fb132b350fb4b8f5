//! Aggregation operators: sum, avg, min, max, group, count, stddev, stdvar,
//! quantile, count_values, topk, bottomk, limitk, limit_ratio.

use crate::error::{Error, Result};
use crate::eval::{present, Evaluator, Row, Steps, Val, ABSENT};
use crate::functions::quantile;
use crate::topk::order;
use foldhash::{HashMap, HashMapExt};
use promql_parser::parser::token::*;
use promql_parser::parser::{AggregateExpr, LabelModifier};
use sightline_core::{Labels, METRIC_NAME};

/// Neumaier's compensated summation step (one definition, in core, shared
/// with the histogram sums).
pub(crate) use sightline_core::histogram::kahan_inc;

/// Running state of one group at one step; `count == 0` means empty.
#[derive(Clone, Copy, Default)]
struct Acc {
    count: f64,
    value: f64,
    c: f64,
    mean: f64,
    incremental: bool,
}

fn acc_add(op: TokenId, a: &mut Acc, f: f64) {
    if a.count == 0.0 {
        *a = Acc {
            count: 1.0,
            value: f,
            ..Acc::default()
        };
        if op == T_STDDEV || op == T_STDVAR {
            a.value = if f.is_finite() { 0.0 } else { f64::NAN };
            a.mean = f;
        }
        return;
    }
    a.count += 1.0;
    match op {
        T_SUM => (a.value, a.c) = kahan_inc(f, a.value, a.c),
        T_AVG => {
            if !a.incremental {
                let (nv, nc) = kahan_inc(f, a.value, a.c);
                if !nv.is_infinite() {
                    a.value = nv;
                    a.c = nc;
                    return;
                }
                // The sum overflowed: continue with an incremental mean.
                a.incremental = true;
                a.mean = a.value / (a.count - 1.0);
                a.c /= a.count - 1.0;
            }
            let q = (a.count - 1.0) / a.count;
            (a.mean, a.c) = kahan_inc(f / a.count, q * a.mean, q * a.c);
        }
        T_MAX if a.value < f || a.value.is_nan() => a.value = f,
        T_MIN if a.value > f || a.value.is_nan() => a.value = f,
        T_STDDEV | T_STDVAR => {
            let delta = f - (a.mean + a.c);
            (a.mean, a.c) = kahan_inc(delta / a.count, a.mean, a.c);
            a.value += delta * (f - (a.mean + a.c));
        }
        _ => {}
    }
}

fn acc_result(op: TokenId, a: &Acc) -> f64 {
    match op {
        T_SUM => a.value + a.c,
        T_AVG if a.incremental => a.mean + a.c,
        T_AVG => (a.value + a.c) / a.count,
        T_COUNT => a.count,
        T_GROUP => 1.0,
        T_STDVAR => a.value / a.count,
        T_STDDEV => (a.value / a.count).sqrt(),
        _ => a.value,
    }
}

pub(crate) use sightline_core::gofmt::{shortest_f as format_float, shortest_g as go_g};

pub(crate) fn valid_label_name(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c != '\u{fffd}')
}

/// Prometheus's `labels.Hash()`: xxhash64 over `name 0xff value 0xff ...`.
fn prom_hash(l: &Labels) -> u64 {
    let mut b = Vec::with_capacity(l.byte_len() + 2 * l.len());
    for x in l {
        b.extend_from_slice(x.name.as_bytes());
        b.push(0xff);
        b.extend_from_slice(x.value.as_bytes());
        b.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&b, 0)
}

impl<'a> Evaluator<'a> {
    pub fn eval_aggregate(&mut self, a: &AggregateExpr, s: &Steps) -> Result<Val> {
        let op = a.op.id();
        let mut num_param = None;
        let mut str_param = None;
        if let Some(p) = &a.param {
            if op == T_COUNT_VALUES {
                str_param = Some(self.eval_string(p, s)?);
            } else {
                num_param = Some(self.eval_scalar(p, s)?);
            }
        }
        let mut rows = self.eval_vector(&a.expr, s)?;
        let (by, names): (bool, Vec<String>) = match &a.modifier {
            Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
            None => (true, Vec::new()),
        };
        let n = s.n;
        let keeps_series = matches!(op, T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO);
        // Group keys, once per series.
        // Keyed by a 64-bit hash of the grouping labels (as Prometheus keys
        // groups); a group's label set is built once, from its first series.
        let keep = |name: &str| {
            if by {
                names.iter().any(|n| n == name)
            } else {
                name != METRIC_NAME && !names.iter().any(|n| n == name)
            }
        };
        let mut group_of: HashMap<u64, usize> = HashMap::new();
        let mut group_labels: Vec<Labels> = Vec::new();
        let gids: Vec<usize> = rows
            .iter()
            .map(|r| {
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                for x in r.labels.iter().filter(|x| keep(&x.name)) {
                    h.update(x.name.as_bytes());
                    h.update(&[0xff]);
                    h.update(x.value.as_bytes());
                    h.update(&[0xff]);
                }
                let next = group_labels.len();
                *group_of.entry(h.digest()).or_insert_with(|| {
                    let mut b = r.labels.to_builder();
                    b.retain(|x| keep(&x.name));
                    group_labels.push(b.into_labels());
                    next
                })
            })
            .collect();
        let ng = group_labels.len();
        // Grouping by a name that is only marked for removal keeps it until
        // the end of the query; the group then drops it if any member does.
        let mut group_drop = vec![false; ng];
        if !keeps_series {
            for (r, &g) in rows.iter().zip(&gids) {
                group_drop[g] |= r.drop_name && group_labels[g].get(METRIC_NAME).is_some();
            }
        }

        // Histograms take a side path; float-only inputs skip it.
        let hist_part = if rows.iter().any(|r| r.hists.is_some()) {
            self.hist_aggregate_pre(op, a, &mut rows, &gids, ng, n)
        } else {
            None
        };
        match op {
            T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO => {
                let p = num_param.unwrap_or_default();
                self.select_series(op, rows, &gids, ng, &p, a, s)
            }
            T_COUNT_VALUES => {
                let label = str_param.unwrap_or_default();
                if !valid_label_name(&label) {
                    // Quoted from the query's bytes, where a literal may
                    // spell invalid UTF-8 that the parsed value lost.
                    let shown = crate::parse_error::go_quoted_literal(self.query, &label)
                        .unwrap_or_else(|| crate::parse_error::quote_bytes(label.as_bytes()));
                    return Err(Error::exec(format!("invalid label name {shown}")));
                }
                let mut out: Vec<Row> = Vec::new();
                let mut idx: HashMap<(usize, String), usize> = HashMap::new();
                let mut by_labels: HashMap<Labels, usize> = HashMap::new();
                for (r, &g) in rows.iter().zip(&gids) {
                    for i in 0..n {
                        let v = r.vals[i];
                        // A histogram counts under its string form.
                        let sv = if present(v) {
                            format_float(v)
                        } else if let Some(h) = r.hist(i) {
                            h.to_string()
                        } else {
                            continue;
                        };
                        let k = *idx.entry((g, sv.clone())).or_insert_with(|| {
                            // The value label may overwrite a grouping label,
                            // so groups can merge: key rows by final labels.
                            let mut b = group_labels[g].to_builder();
                            b.set(label.clone(), sv);
                            let labels = b.into_labels();
                            *by_labels.entry(labels.clone()).or_insert_with(|| {
                                out.push(Row {
                                    labels,
                                    drop_name: group_drop[g],
                                    vals: vec![ABSENT; n],
                                    hists: None,
                                });
                                out.len() - 1
                            })
                        });
                        let cell = &mut out[k].vals[i];
                        *cell = if present(*cell) { *cell + 1.0 } else { 1.0 };
                    }
                }
                Ok(Val::Vector(out))
            }
            T_QUANTILE => {
                let q = num_param.unwrap_or_default();
                let mut out: Vec<Row> = group_labels
                    .into_iter()
                    .zip(&group_drop)
                    .map(|(l, &d)| Row {
                        labels: l,
                        drop_name: d,
                        vals: vec![ABSENT; n],
                        hists: None,
                    })
                    .collect();
                let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); ng];
                #[allow(clippy::needless_range_loop)]
                for i in 0..n {
                    if (q[i].is_nan() || !(0.0..=1.0).contains(&q[i]))
                        && rows.iter().any(|r| present(r.vals[i]))
                    {
                        let pos = a
                            .param
                            .as_ref()
                            .map(|p| self.pos(&p.to_string()))
                            .unwrap_or_default();
                        self.warn(format!(
                            "quantile value should be between 0 and 1, got {} {pos}",
                            go_g(q[i])
                        ));
                    }
                    buckets.iter_mut().for_each(|b| b.clear());
                    for (r, &g) in rows.iter().zip(&gids) {
                        if present(r.vals[i]) {
                            buckets[g].push(r.vals[i]);
                        }
                    }
                    for (g, b) in buckets.iter_mut().enumerate() {
                        if !b.is_empty() {
                            out[g].vals[i] = quantile(q[i], b);
                        }
                    }
                }
                out.retain(|r| r.vals.iter().any(|v| present(*v)));
                Ok(Val::Vector(out))
            }
            _ => {
                let mut out: Vec<Row> = group_labels
                    .into_iter()
                    .zip(&group_drop)
                    .map(|(l, &d)| Row {
                        labels: l,
                        drop_name: d,
                        vals: vec![ABSENT; n],
                        hists: None,
                    })
                    .collect();
                if ng.saturating_mul(n) <= 1 << 20 {
                    // Row by row, so each series' values are read in order;
                    // one accumulator per group and step.
                    let mut acc = vec![Acc::default(); ng * n];
                    for (r, &g) in rows.iter().zip(&gids) {
                        let accs = &mut acc[g * n..(g + 1) * n];
                        for (a, &f) in accs.iter_mut().zip(&r.vals) {
                            if present(f) {
                                acc_add(op, a, f);
                            }
                        }
                    }
                    for (g, o) in out.iter_mut().enumerate() {
                        for (v, a) in o.vals.iter_mut().zip(&acc[g * n..(g + 1) * n]) {
                            if a.count > 0.0 {
                                *v = acc_result(op, a);
                            }
                        }
                    }
                } else {
                    // Too many groups for a full grid: step by step.
                    let mut acc = vec![Acc::default(); ng];
                    for i in 0..n {
                        acc.iter_mut().for_each(|a| a.count = 0.0);
                        for (r, &g) in rows.iter().zip(&gids) {
                            if present(r.vals[i]) {
                                acc_add(op, &mut acc[g], r.vals[i]);
                            }
                        }
                        for (o, a) in out.iter_mut().zip(&acc) {
                            if a.count > 0.0 {
                                o.vals[i] = acc_result(op, a);
                            }
                        }
                    }
                }
                if let Some((sums, notes)) = hist_part {
                    self.hist_aggregate_post(op, a, &mut out, sums, notes, n);
                }
                out.retain(|r| r.any());
                Ok(Val::Vector(out))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn select_series(
        &mut self,
        op: TokenId,
        mut rows: Vec<Row>,
        gids: &[usize],
        ng: usize,
        p: &[f64],
        a: &AggregateExpr,
        s: &Steps,
    ) -> Result<Val> {
        let n = s.n;
        if op == T_TOPK || op == T_BOTTOMK {
            let top = op == T_TOPK;
            let mut kept = crate::topk::select_top(rows, gids, ng, p, n, top)?;
            if n == 1 {
                // Instant results come out group by group, best first, as
                // Prometheus returns them.
                kept.sort_by(|(xi, x), (yi, y)| {
                    gids[*xi]
                        .cmp(&gids[*yi])
                        .then_with(|| order(x.vals[0], y.vals[0], top))
                });
            }
            return Ok(Val::Vector(kept.into_iter().map(|(_, r)| r).collect()));
        }
        let mut keep = vec![vec![false; n]; rows.len()];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); ng];
        for (i, &param) in p.iter().enumerate().take(n) {
            if param.is_nan() {
                return Err(Error::exec(if op == T_LIMIT_RATIO {
                    "Ratio value is NaN"
                } else {
                    "Parameter value is NaN"
                }));
            }
            members.iter_mut().for_each(|m| m.clear());
            for (ri, (r, &g)) in rows.iter().zip(gids).enumerate() {
                if r.has(i) {
                    members[g].push(ri);
                }
            }
            if op == T_LIMIT_RATIO {
                let mut ratio = param;
                if !(-1.0..=1.0).contains(&ratio) {
                    ratio = ratio.clamp(-1.0, 1.0);
                    let pos = a
                        .param
                        .as_ref()
                        .map(|x| self.pos(&x.to_string()))
                        .unwrap_or_default();
                    self.warn(format!(
                        "ratio value should be between -1 and 1, got {}, capping to {} {pos}",
                        go_g(param),
                        go_g(ratio)
                    ));
                }
                for m in &members {
                    for &ri in m {
                        let off = prom_hash(&rows[ri].labels) as f64 / u64::MAX as f64;
                        if (ratio >= 0.0 && off < ratio) || (ratio < 0.0 && off >= 1.0 + ratio) {
                            keep[ri][i] = true;
                        }
                    }
                }
                continue;
            }
            if !(-9.223372036854776e18..9.223372036854776e18).contains(&param) {
                return Err(Error::exec(format!(
                    "Scalar value {} overflows int64",
                    go_g(param)
                )));
            }
            let k = param as i64;
            if k < 1 {
                continue;
            }
            let k = k as usize;
            // limitk: the first k members of each group.
            for m in &members {
                for &ri in m.iter().take(k) {
                    keep[ri][i] = true;
                }
            }
        }
        // limitk and limit_ratio keep histograms as they keep floats.
        for (r, k) in rows.iter_mut().zip(&keep) {
            for (i, &kk) in k.iter().enumerate() {
                if !kk {
                    r.vals[i] = ABSENT;
                    if let Some(h) = &mut r.hists {
                        h[i] = None;
                    }
                }
            }
        }
        rows.retain(|r| r.any());
        Ok(Val::Vector(rows))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineOptions, Value};
    use sightline_core::{Labels, MemStore};

    #[test]
    fn topk_orders_best_first_and_puts_nan_last() {
        let s = MemStore::new();
        for (i, v) in [3.0, f64::NAN, 7.0, 5.0].into_iter().enumerate() {
            s.add(
                Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
                0,
                v,
            );
        }
        let e = Engine::new(EngineOptions::default());
        let got = |q: &str| -> Vec<f64> {
            let Value::Vector(v) = e.instant_query(&s, q, 0).unwrap().value else {
                panic!()
            };
            v.into_iter().map(|x| x.v).collect()
        };
        assert_eq!(got("topk(2, m)"), vec![7.0, 5.0]);
        assert_eq!(got("bottomk(2, m)"), vec![3.0, 5.0]);
        let all = got("topk(10, m)");
        assert_eq!(&all[..3], &[7.0, 5.0, 3.0]);
        assert!(all[3].is_nan());
        assert!(e.instant_query(&s, "topk(NaN, m)", 0).is_err());
    }

    #[test]
    fn limitk_and_limit_ratio_keep_histograms() {
        // issue 12: limitk and limit_ratio select histogram series too.
        let s = MemStore::new();
        s.add(Labels::from_pairs([("__name__", "m"), ("i", "f")]), 0, 1.0);
        let h = sightline_core::FloatHistogram {
            count: 3.0,
            sum: 2.0,
            ..Default::default()
        };
        s.add_histogram(Labels::from_pairs([("__name__", "m"), ("i", "h")]), 0, h);
        let e = Engine::new(EngineOptions::default());
        for q in ["limitk(5, m)", "limit_ratio(1, m)"] {
            let Value::Vector(v) = e.instant_query(&s, q, 0).unwrap().value else {
                panic!()
            };
            assert_eq!(v.len(), 2, "{q}");
            assert!(v
                .iter()
                .any(|x| x.h.as_ref().is_some_and(|h| h.count == 3.0)));
        }
    }

    #[test]
    fn count_values_counts_histograms_by_their_string_form() {
        // issue 12: Prometheus 3 counts histograms in count_values.
        let s = MemStore::new();
        let h = sightline_core::FloatHistogram {
            count: 3.0,
            sum: 2.0,
            ..Default::default()
        };
        for i in ["a", "b"] {
            s.add_histogram(
                Labels::from_pairs([("__name__", "m"), ("i", i)]),
                0,
                h.clone(),
            );
        }
        s.add(Labels::from_pairs([("__name__", "m"), ("i", "c")]), 0, 1.0);
        let e = Engine::new(EngineOptions::default());
        let Value::Vector(mut v) = e
            .instant_query(&s, "count_values(\"x\", m)", 0)
            .unwrap()
            .value
        else {
            panic!()
        };
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        let got: Vec<(String, f64)> = v
            .iter()
            .map(|x| (x.labels.get("x").unwrap_or_default().to_string(), x.v))
            .collect();
        assert_eq!(
            got,
            vec![("1".into(), 1.0), ("{count:3, sum:2}".into(), 2.0)]
        );
    }

    #[test]
    fn go_style_float_formatting() {
        use super::go_g;
        assert_eq!(go_g(1.1), "1.1");
        assert_eq!(go_g(1e6), "1e+06");
        assert_eq!(go_g(123456.0), "123456");
        assert_eq!(go_g(-9.223372036854776e18), "-9.223372036854776e+18");
        assert_eq!(go_g(0.00001), "1e-05");
        assert_eq!(go_g(f64::NAN), "NaN");
    }

    #[test]
    fn sum_uses_compensated_summation() {
        let s = MemStore::new();
        for (i, v) in [1e100, 1.0, -1e100].into_iter().enumerate() {
            s.add(
                Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
                0,
                v,
            );
        }
        let e = Engine::new(EngineOptions::default());
        let Value::Vector(v) = e.instant_query(&s, "sum(m)", 0).unwrap().value else {
            panic!()
        };
        assert_eq!(v[0].v, 1.0);
    }
}
