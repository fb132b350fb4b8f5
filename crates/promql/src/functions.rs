//! Functions over instant vectors and scalars: math, clamping, dates,
//! labels, sorting, `absent`, and classic-bucket histograms. Functions over
//! range vectors are in `range_functions`.

use crate::aggregations::{format_float, go_g};
use crate::error::{Error, Result};
use crate::eval::{present, Evaluator, Row, Steps, Val, ABSENT};
use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use foldhash::{HashMap, HashMapExt};
use promql_parser::label::MatchOp as PMatchOp;
use promql_parser::parser::{Call, Expr, VectorSelector};
use sightline_core::{Labels, METRIC_NAME};
use std::cmp::Ordering;

mod classic;

/// Prometheus's quantile over a set of values: linear interpolation between
/// the closest ranks; q outside [0, 1] gives -Inf/+Inf.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as Go's sort.Float64s does.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// The labels `absent()` gives its result: the selector's equality matchers
/// (other than the name) that name a label only once.
pub(crate) fn absent_labels(vs: Option<&VectorSelector>) -> Labels {
    let Some(vs) = vs else { return Labels::empty() };
    let mut seen: HashMap<&str, Option<&str>> = HashMap::new();
    for m in &vs.matchers.matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        let v = matches!(m.op, PMatchOp::Equal).then_some(m.value.as_str());
        seen.entry(m.name.as_str())
            .and_modify(|x| *x = None)
            .or_insert(v);
    }
    Labels::from_pairs(seen.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))))
}

/// Natural ordering of strings (digit runs compare as numbers), as
/// `sort_by_label` uses.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = a[si..i].trim_start_matches('0');
            let nb = b[sj..j].trim_start_matches('0');
            let c = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if c != Ordering::Equal {
                return c;
            }
        } else {
            if ab[i] != bb[j] {
                return ab[i].cmp(&bb[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j))
}

fn map_rows(rows: &mut [Row], f: impl Fn(f64) -> f64) {
    for r in rows.iter_mut() {
        r.drop_name = true;
        for v in r.vals.iter_mut().filter(|v| present(**v)) {
            *v = f(*v);
        }
    }
}

fn date_part(name: &str, v: f64) -> f64 {
    if !v.is_finite() {
        return f64::NAN;
    }
    let Some(t) = DateTime::from_timestamp(v as i64, 0) else {
        return f64::NAN;
    };
    match name {
        "minute" => t.minute() as f64,
        "hour" => t.hour() as f64,
        "day_of_month" => t.day() as f64,
        "day_of_week" => t.weekday().num_days_from_sunday() as f64,
        "day_of_year" => t.ordinal() as f64,
        "month" => t.month() as f64,
        "year" => t.year() as f64,
        _ => {
            // days_in_month
            let (y, m) = (t.year(), t.month());
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            match (next, NaiveDate::from_ymd_opt(y, m, 1)) {
                (Some(n), Some(f)) => (n - f).num_days() as f64,
                _ => f64::NAN,
            }
        }
    }
}

impl<'a> Evaluator<'a> {
    pub fn eval_call(&mut self, c: &Call, s: &Steps) -> Result<Val> {
        let v = self.eval_call_inner(c, s)?;
        // Functions of floats drop histogram samples, as Prometheus's
        // simple functions do.
        let floats_only = matches!(
            c.func.name,
            "abs"
                | "ceil"
                | "floor"
                | "exp"
                | "sqrt"
                | "ln"
                | "log2"
                | "log10"
                | "sgn"
                | "sin"
                | "cos"
                | "tan"
                | "asin"
                | "acos"
                | "atan"
                | "sinh"
                | "cosh"
                | "tanh"
                | "asinh"
                | "acosh"
                | "atanh"
                | "deg"
                | "rad"
                | "round"
                | "clamp"
                | "clamp_min"
                | "clamp_max"
                | "minute"
                | "hour"
                | "day_of_month"
                | "day_of_week"
                | "day_of_year"
                | "days_in_month"
                | "month"
                | "year"
        );
        match v {
            Val::Vector(mut rows) if floats_only && rows.iter().any(|r| r.hists.is_some()) => {
                rows.iter_mut().for_each(|r| r.hists = None);
                rows.retain(|r| r.any());
                Ok(Val::Vector(rows))
            }
            v => Ok(v),
        }
    }

    fn eval_call_inner(&mut self, c: &Call, s: &Steps) -> Result<Val> {
        let name = c.func.name;
        let args: Vec<&Expr> = c.args.args.iter().map(|b| b.as_ref()).collect();
        if crate::range_functions::is_range_function(name) {
            return self.eval_range_function(name, &args, s);
        }
        let n = s.n;
        let times = |s: &Steps| {
            (0..s.n)
                .map(|i| s.t(i) as f64 / 1000.0)
                .collect::<Vec<f64>>()
        };
        match name {
            "time" => Ok(Val::Scalar(times(s))),
            "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
            "start" => Ok(Val::Scalar(vec![self.qstart as f64 / 1000.0; n])),
            "end" => Ok(Val::Scalar(vec![self.qend as f64 / 1000.0; n])),
            "step" => Ok(Val::Scalar(vec![self.qstep as f64 / 1000.0; n])),
            "range" => Ok(Val::Scalar(vec![
                (self.qend - self.qstart) as f64 / 1000.0;
                n
            ])),
            "min_of" | "max_of" => {
                let a = self.eval_scalar(args[0], s)?;
                let b = self.eval_scalar(args[1], s)?;
                let min = name == "min_of";
                Ok(Val::Scalar(
                    a.iter()
                        .zip(&b)
                        .map(|(&x, &y)| {
                            if x.is_nan() || y.is_nan() {
                                f64::NAN
                            } else if min {
                                x.min(y)
                            } else {
                                x.max(y)
                            }
                        })
                        .collect(),
                ))
            }
            "vector" => {
                let v = self.eval_scalar(args[0], s)?;
                Ok(Val::Vector(vec![Row {
                    labels: Labels::empty(),
                    drop_name: false,
                    vals: v,
                    hists: None,
                }]))
            }
            "scalar" => {
                let rows = self.eval_vector(args[0], s)?;
                let mut out = vec![f64::NAN; n];
                for (i, o) in out.iter_mut().enumerate() {
                    let mut it = rows.iter().filter(|r| present(r.vals[i]));
                    if let (Some(r), None) = (it.next(), it.next()) {
                        *o = r.vals[i];
                    }
                }
                Ok(Val::Scalar(out))
            }
            "abs" | "ceil" | "floor" | "exp" | "sqrt" | "ln" | "log2" | "log10" | "sgn" | "sin"
            | "cos" | "tan" | "asin" | "acos" | "atan" | "sinh" | "cosh" | "tanh" | "asinh"
            | "acosh" | "atanh" | "deg" | "rad" => {
                let mut rows = self.eval_vector(args[0], s)?;
                let f: fn(f64) -> f64 = match name {
                    "abs" => f64::abs,
                    "ceil" => f64::ceil,
                    "floor" => f64::floor,
                    "exp" => f64::exp,
                    "sqrt" => f64::sqrt,
                    "ln" => f64::ln,
                    "log2" => f64::log2,
                    "log10" => f64::log10,
                    "sgn" => |v: f64| {
                        if v > 0.0 {
                            1.0
                        } else if v < 0.0 {
                            -1.0
                        } else {
                            v
                        }
                    },
                    "sin" => f64::sin,
                    "cos" => f64::cos,
                    "tan" => f64::tan,
                    "asin" => f64::asin,
                    "acos" => f64::acos,
                    "atan" => f64::atan,
                    "sinh" => f64::sinh,
                    "cosh" => f64::cosh,
                    "tanh" => f64::tanh,
                    "asinh" => f64::asinh,
                    "acosh" => f64::acosh,
                    "atanh" => f64::atanh,
                    "deg" => |v: f64| v * 180.0 / std::f64::consts::PI,
                    _ => |v: f64| v * std::f64::consts::PI / 180.0,
                };
                map_rows(&mut rows, f);
                Ok(Val::Vector(rows))
            }
            "round" => {
                let mut rows = self.eval_vector(args[0], s)?;
                let to = match args.get(1) {
                    Some(a) => self.eval_scalar(a, s)?,
                    None => vec![1.0; n],
                };
                for r in &mut rows {
                    r.drop_name = true;
                    for (v, t) in r.vals.iter_mut().zip(&to) {
                        if present(*v) {
                            let inv = 1.0 / t;
                            *v = (*v * inv + 0.5).floor() / inv;
                        }
                    }
                }
                Ok(Val::Vector(rows))
            }
            "clamp" | "clamp_min" | "clamp_max" => {
                let mut rows = self.eval_vector(args[0], s)?;
                let a1 = self.eval_scalar(args[1], s)?;
                let a2 = if name == "clamp" {
                    Some(self.eval_scalar(args[2], s)?)
                } else {
                    None
                };
                for r in &mut rows {
                    r.drop_name = true;
                    for (i, v) in r.vals.iter_mut().enumerate() {
                        if !present(*v) {
                            continue;
                        }
                        *v = match name {
                            "clamp_min" => go_max(*v, a1[i]),
                            "clamp_max" => go_min(*v, a1[i]),
                            _ => {
                                let (lo, hi) = (a1[i], a2.as_ref().map_or(f64::NAN, |x| x[i]));
                                if hi < lo {
                                    ABSENT
                                } else {
                                    go_max(lo, go_min(hi, *v))
                                }
                            }
                        };
                    }
                }
                rows.retain(|r| r.vals.iter().any(|v| present(*v)));
                Ok(Val::Vector(rows))
            }
            "minute" | "hour" | "day_of_month" | "day_of_week" | "day_of_year"
            | "days_in_month" | "month" | "year" => {
                let mut rows = match args.first() {
                    Some(a) => self.eval_vector(a, s)?,
                    None => vec![Row {
                        labels: Labels::empty(),
                        drop_name: false,
                        vals: times(s),
                        hists: None,
                    }],
                };
                map_rows(&mut rows, |v| date_part(name, v));
                Ok(Val::Vector(rows))
            }
            "timestamp" => {
                let mut rows = match unparen(args[0]) {
                    Expr::VectorSelector(vs) => self.select_vector(vs, s, true)?,
                    other => {
                        let mut rows = self.eval_vector(other, s)?;
                        for r in &mut rows {
                            let hists = r.hists.take();
                            for (i, v) in r.vals.iter_mut().enumerate() {
                                let hist = hists.as_ref().is_some_and(|h| h[i].is_some());
                                if present(*v) || hist {
                                    *v = s.t(i) as f64 / 1000.0;
                                }
                            }
                        }
                        rows
                    }
                };
                rows.iter_mut().for_each(|r| r.drop_name = true);
                Ok(Val::Vector(rows))
            }
            "label_replace" => self.label_replace(&args, s),
            "info" => self.eval_info(&args, s),
            "label_join" => self.label_join(&args, s),
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
                let mut rows = self.eval_vector(args[0], s)?;
                if name == "sort" || name == "sort_desc" {
                    // Sorting by value leaves histograms out.
                    for r in rows.iter_mut() {
                        r.hists = None;
                    }
                    rows.retain(|r| r.any());
                }
                if self.range_query {
                    let pos = self.pos(name);
                    self.warn(format!("sort is ineffective for range queries since results are always ordered by labels {pos}"));
                    return Ok(Val::Vector(rows));
                }
                match name {
                    "sort" | "sort_desc" => {
                        let desc = name == "sort_desc";
                        rows.sort_by(|a, b| {
                            let (x, y) = (a.vals[0], b.vals[0]);
                            match (x.is_nan(), y.is_nan()) {
                                (true, true) => Ordering::Equal,
                                (true, false) => Ordering::Greater,
                                (false, true) => Ordering::Less,
                                _ if desc => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
                                _ => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                            }
                        });
                    }
                    _ => {
                        let mut names = Vec::new();
                        for a in &args[1..] {
                            names.push(self.eval_string(a, s)?);
                        }
                        let desc = name == "sort_by_label_desc";
                        rows.sort_by(|a, b| {
                            let mut c = Ordering::Equal;
                            for nm in &names {
                                c = natural_cmp(
                                    a.labels.get(nm).unwrap_or(""),
                                    b.labels.get(nm).unwrap_or(""),
                                );
                                if c != Ordering::Equal {
                                    break;
                                }
                            }
                            if c == Ordering::Equal {
                                c = a.labels.cmp(&b.labels);
                            }
                            if desc {
                                c.reverse()
                            } else {
                                c
                            }
                        });
                    }
                }
                Ok(Val::Vector(rows))
            }
            "absent" => {
                let rows = self.eval_vector(args[0], s)?;
                let mut vals = vec![1.0; n];
                for r in &rows {
                    for (i, v) in vals.iter_mut().enumerate() {
                        if r.has(i) {
                            *v = ABSENT;
                        }
                    }
                }
                let vs = match unparen(args[0]) {
                    Expr::VectorSelector(vs) => Some(vs),
                    _ => None,
                };
                let out = if vals.iter().any(|v| present(*v)) {
                    vec![Row {
                        labels: absent_labels(vs),
                        drop_name: false,
                        vals,
                        hists: None,
                    }]
                } else {
                    Vec::new()
                };
                Ok(Val::Vector(out))
            }
            "histogram_quantile" | "histogram_fraction" | "histogram_quantiles" => {
                self.classic_histogram(name, &args, s)
            }
            "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
            | "histogram_stdvar" => {
                // Only native histograms carry these; float series give nothing.
                let stats = self.stats_hints;
                self.stats_hints = matches!(name, "histogram_count" | "histogram_sum");
                let rows = self.eval_vector(args[0], s);
                self.stats_hints = stats;
                let rows = rows?;
                let mut out = self.hist_property(name, rows);
                out.retain(|r| r.any());
                Ok(Val::Vector(out))
            }
            other => Err(Error::exec(format!("function {other:?} is not supported"))),
        }
    }

    fn label_replace(&mut self, args: &[&Expr], s: &Steps) -> Result<Val> {
        let mut rows = self.eval_vector(args[0], s)?;
        let dst = self.eval_string(args[1], s)?;
        let repl = self.eval_string(args[2], s)?;
        let src = self.eval_string(args[3], s)?;
        let re_src = self.eval_string(args[4], s)?;
        let re = regex::Regex::new(&format!("^(?s:{re_src})$")).map_err(|e| {
            Error::exec(format!(
                "invalid regular expression in label_replace(): {re_src}: {e}"
            ))
        })?;
        if !valid_label(&dst) {
            return Err(Error::exec(format!(
                "invalid destination label name in label_replace(): {dst}"
            )));
        }
        for r in &mut rows {
            let v = r.labels.get(&src).unwrap_or("");
            if let Some(caps) = re.captures(v) {
                let mut out = String::new();
                caps.expand(&repl, &mut out);
                let mut b = r.labels.to_builder();
                b.set(dst.clone(), out);
                r.labels = b.into_labels();
                if dst == METRIC_NAME {
                    r.drop_name = false;
                }
            }
        }
        Ok(Val::Vector(rows))
    }

    fn label_join(&mut self, args: &[&Expr], s: &Steps) -> Result<Val> {
        let mut rows = self.eval_vector(args[0], s)?;
        let dst = self.eval_string(args[1], s)?;
        let sep = self.eval_string(args[2], s)?;
        let mut srcs = Vec::new();
        for a in &args[3..] {
            let l = self.eval_string(a, s)?;
            if !valid_label(&l) {
                return Err(Error::exec(format!(
                    "invalid source label name in label_join(): {l}"
                )));
            }
            srcs.push(l);
        }
        if !valid_label(&dst) {
            return Err(Error::exec(format!(
                "invalid destination label name in label_join(): {dst}"
            )));
        }
        for r in &mut rows {
            let joined: Vec<&str> = srcs.iter().map(|x| r.labels.get(x).unwrap_or("")).collect();
            let joined = joined.join(&sep);
            let mut b = r.labels.to_builder();
            b.set(dst.clone(), joined);
            r.labels = b.into_labels();
            if dst == METRIC_NAME {
                r.drop_name = false;
            }
        }
        Ok(Val::Vector(rows))
    }
}

/// Go's `math.Max`: NaN if either argument is NaN (Rust's `max` ignores NaN).
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`, NaN-propagating like [`go_max`].
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

pub(crate) fn valid_label(n: &str) -> bool {
    !n.is_empty() && !n.contains('\u{fffd}')
}
