//! Classic-bucket histograms: `histogram_quantile` and `histogram_fraction`
//! over `le`-labelled bucket series, and the join with native histograms
//! when a query mixes both.

use super::*;

impl<'a> Evaluator<'a> {
    pub(super) fn classic_histogram(
        &mut self,
        name: &str,
        args: &[&Expr],
        s: &Steps,
    ) -> Result<Val> {
        match name {
            "histogram_quantile" => {
                let q = self.eval_scalar(args[0], s)?;
                let rows = self.eval_vector(args[1], s)?;
                let (floats, native) = split_native(rows);
                let classic = self.bucket_rows(&q, &[], &[], &floats, args[1], Some(args[0]), s);
                let native = self.native_quantiles(Some(&q), None, &native, args[1]);
                Ok(Val::Vector(
                    self.join_classic_native(classic, native, args[1]),
                ))
            }
            "histogram_fraction" => {
                let lower = self.eval_scalar(args[0], s)?;
                let upper = self.eval_scalar(args[1], s)?;
                let rows = self.eval_vector(args[2], s)?;
                let (floats, native) = split_native(rows);
                let classic = self.bucket_rows(&[], &lower, &upper, &floats, args[2], None, s);
                let native = self.native_quantiles(None, Some((&lower, &upper)), &native, args[2]);
                Ok(Val::Vector(
                    self.join_classic_native(classic, native, args[2]),
                ))
            }
            _ => {
                // histogram_quantiles(v, "label", q1, q2, ...): one result per quantile.
                let rows = self.eval_vector(args[0], s)?;
                let label = self.eval_string(args[1], s)?;
                let (floats, native) = split_native(rows);
                let mut all = Vec::new();
                for qa in &args[2..] {
                    let q = self.eval_scalar(qa, s)?;
                    let mut text = format_float(q[0]);
                    if q[0].is_finite() && !text.contains('.') && !text.contains('e') {
                        text.push_str(".0");
                    }
                    let classic = self.bucket_rows(&q, &[], &[], &floats, args[0], Some(qa), s);
                    let native = self.native_quantiles(Some(&q), None, &native, args[0]);
                    for mut r in self.join_classic_native(classic, native, args[0]) {
                        let mut b = r.labels.to_builder();
                        b.set(label.clone(), text.clone());
                        r.labels = b.into_labels();
                        all.push(r);
                    }
                }
                Ok(Val::Vector(all))
            }
        }
    }

    /// Puts classic and native results together; where a group has both at
    /// a step, neither counts and Prometheus's mix warning is emitted.
    fn join_classic_native(
        &mut self,
        mut classic: Vec<Row>,
        mut native: Vec<Row>,
        varg: &Expr,
    ) -> Vec<Row> {
        if native.is_empty() {
            return classic;
        }
        if !classic.is_empty() {
            let index: HashMap<Labels, usize> = classic
                .iter()
                .enumerate()
                .map(|(i, r)| (r.labels.clone(), i))
                .collect();
            let mut mixed = Vec::new();
            for r in &mut native {
                let Some(&k) = index.get(&r.labels) else {
                    continue;
                };
                for i in 0..r.vals.len() {
                    if present(r.vals[i]) && present(classic[k].vals[i]) {
                        r.vals[i] = ABSENT;
                        classic[k].vals[i] = ABSENT;
                        mixed.push(r.labels.metric_name().unwrap_or("").to_owned());
                    }
                }
            }
            let pos = self.pos(&varg.to_string());
            for m in mixed {
                self.warn(format!(
                    "vector contains a mix of classic and native histograms for metric name {m:?} {pos}"
                ));
            }
            classic.retain(|r| r.any());
        }
        native.retain(|r| r.any());
        classic.extend(native);
        classic
    }

    /// Quantiles (when `q` is given) or fractions over classic `le` buckets,
    /// grouped by the labels other than `le`.
    #[allow(clippy::too_many_arguments)]
    fn bucket_rows(
        &mut self,
        q: &[f64],
        lower: &[f64],
        upper: &[f64],
        rows: &[Row],
        varg: &Expr,
        qarg: Option<&Expr>,
        s: &Steps,
    ) -> Vec<Row> {
        let n = s.n;
        let quantile_mode = qarg.is_some();
        let mut groups: HashMap<Labels, usize> = HashMap::new();
        let mut out: Vec<Row> = Vec::new();
        let mut members: Vec<Vec<(f64, usize)>> = Vec::new();
        for (ri, r) in rows.iter().enumerate() {
            let le = r.labels.get("le").and_then(parse_le);
            let Some(le) = le else {
                let pos = self.pos(&varg.to_string());
                let raw = r.labels.get("le").unwrap_or("");
                let metric = r.labels.metric_name().unwrap_or("");
                self.warn(format!(
                    "bucket label \"le\" is missing or has a malformed value of \"{raw}\" for metric name \"{metric}\" {pos}"
                ));
                continue;
            };
            let mut b = r.labels.to_builder();
            b.del("le");
            let key = b.into_labels();
            let g = *groups.entry(key.clone()).or_insert_with(|| {
                out.push(Row {
                    labels: key,
                    drop_name: true,
                    vals: vec![ABSENT; n],
                    hists: None,
                });
                members.push(Vec::new());
                out.len() - 1
            });
            members[g].push((le, ri));
        }
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for i in 0..n {
            if quantile_mode && (q[i].is_nan() || !(0.0..=1.0).contains(&q[i])) {
                let pos = self.pos(&qarg.map(|a| a.to_string()).unwrap_or_default());
                self.warn(format!(
                    "quantile value should be between 0 and 1, got {} {pos}",
                    go_g(q[i])
                ));
            }
            for (g, m) in members.iter().enumerate() {
                buckets.clear();
                for &(le, ri) in m {
                    let v = rows[ri].vals[i];
                    if present(v) {
                        buckets.push((le, v));
                    }
                }
                if buckets.is_empty() {
                    continue;
                }
                let (v, forced) = if quantile_mode {
                    bucket_quantile(q[i], &mut buckets)
                } else {
                    bucket_fraction(lower[i], upper[i], &mut buckets)
                };
                if forced {
                    let metric = rows[m[0].1].labels.metric_name().unwrap_or("").to_owned();
                    let pos = self.pos(&varg.to_string());
                    self.info(format!(
                        "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"{metric}\" {pos}"
                    ));
                }
                out[g].vals[i] = v;
            }
        }
        out.retain(|r| r.vals.iter().any(|v| present(*v)));
        out
    }
}

/// Splits rows into those with floats (for classic buckets) and those with
/// native histograms; a row with both goes to both.
fn split_native(rows: Vec<Row>) -> (Vec<Row>, Vec<Row>) {
    if !rows.iter().any(|r| r.hists.is_some()) {
        return (rows, Vec::new());
    }
    let mut floats = Vec::new();
    let mut native = Vec::new();
    for r in rows {
        if r.hists.is_none() {
            floats.push(r);
            continue;
        }
        if r.vals.iter().any(|v| present(*v)) {
            floats.push(Row::floats(r.labels.clone(), r.drop_name, r.vals.clone()));
        }
        native.push(r);
    }
    (floats, native)
}

fn parse_le(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

/// Sorts, merges equal bounds, and forces cumulative counts to be monotonic.
/// Returns whether a real (non-rounding) decrease had to be fixed.
fn prepare_buckets(b: &mut Vec<(f64, f64)>) -> bool {
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(Ordering::Equal));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for &(ub, c) in b.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == ub => last.1 += c,
            _ => merged.push((ub, c)),
        }
    }
    *b = merged;
    let mut forced = false;
    let mut prev = b[0].1;
    for x in b.iter_mut().skip(1) {
        let curr = x.1;
        if curr == prev {
            continue;
        }
        if (curr - prev).abs() <= 1e-12 * curr.abs().max(prev.abs()) {
            x.1 = prev;
            continue;
        }
        if curr < prev {
            x.1 = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    forced
}

fn bucket_quantile(q: f64, b: &mut Vec<(f64, f64)>) -> (f64, bool) {
    if q.is_nan() {
        return (f64::NAN, false);
    }
    if q < 0.0 {
        return (f64::NEG_INFINITY, false);
    }
    if q > 1.0 {
        return (f64::INFINITY, false);
    }
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(Ordering::Equal));
    if b.last().is_none_or(|l| l.0 != f64::INFINITY) {
        return (f64::NAN, false);
    }
    let forced = prepare_buckets(b);
    if b.len() < 2 {
        return (f64::NAN, forced);
    }
    let total = b[b.len() - 1].1;
    if total == 0.0 || total.is_nan() {
        return (f64::NAN, forced);
    }
    let mut rank = q * total;
    let idx = b[..b.len() - 1].partition_point(|x| x.1 < rank);
    if idx == b.len() - 1 {
        return (b[b.len() - 2].0, forced);
    }
    if idx == 0 && b[0].0 <= 0.0 {
        return (b[0].0, forced);
    }
    let (mut start, end, mut count) = (0.0, b[idx].0, b[idx].1);
    if idx > 0 {
        start = b[idx - 1].0;
        count -= b[idx - 1].1;
        rank -= b[idx - 1].1;
    }
    (start + (end - start) * (rank / count), forced)
}

fn bucket_fraction(lower: f64, upper: f64, b: &mut Vec<(f64, f64)>) -> (f64, bool) {
    b.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(Ordering::Equal));
    if b.last().is_none_or(|l| l.0 != f64::INFINITY) {
        return (f64::NAN, false);
    }
    let forced = prepare_buckets(b);
    let total = b[b.len() - 1].1;
    if total == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, forced);
    }
    if lower >= upper {
        return (0.0, forced);
    }
    // Cumulative count at x, interpolating linearly inside a bucket. The
    // first bucket starts at 0 when its bound is positive; otherwise it has
    // no known start and counts wholly at its bound.
    let rank_at = |x: f64| -> f64 {
        if x == f64::NEG_INFINITY {
            return 0.0;
        }
        if x == f64::INFINITY {
            return total;
        }
        let mut prev_ub = f64::NEG_INFINITY;
        let mut prev_c = 0.0;
        for (k, &(ub, c)) in b.iter().enumerate() {
            if x <= ub {
                let start = if k == 0 {
                    if ub > 0.0 {
                        0.0
                    } else {
                        // An infinitely wide first bucket cannot be interpolated.
                        return c;
                    }
                } else {
                    prev_ub
                };
                if ub == f64::INFINITY {
                    return prev_c;
                }
                if x <= start {
                    return prev_c;
                }
                return prev_c + (c - prev_c) * (x - start) / (ub - start);
            }
            prev_ub = ub;
            prev_c = c;
        }
        total
    };
    ((rank_at(upper) - rank_at(lower)) / total, forced)
}
