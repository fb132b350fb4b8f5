//! The experimental `info()` function: enriches series with the data labels
//! of info metrics (`target_info` by default) that share their identifying
//! labels (`instance`, `job`).

use crate::error::{Error, Result};
use crate::eval::{present, selector_matchers, system_time_ms, Evaluator, Row, Steps, Val, ABSENT};
use foldhash::{HashMap, HashMapExt};
use promql_parser::parser::{AtModifier, Expr, Offset};
use sightline_core::{is_stale_nan, Labels, MatchOp, Matcher, METRIC_NAME};

const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// One info series: its labels and, per step, the timestamp of the sample
/// the lookback finds (for "latest sample wins" between churned series).
struct InfoSeries {
    labels: Labels,
    ts: Vec<Option<i64>>,
}

impl<'a> Evaluator<'a> {
    fn shift(&self, at: &Option<AtModifier>, offset: &Option<Offset>, times: &mut [i64]) {
        if let Some(a) = at {
            let t = match a {
                AtModifier::Start => self.qstart,
                AtModifier::End => self.qend,
                AtModifier::At(t) => system_time_ms(*t),
            };
            times.iter_mut().for_each(|x| *x = t);
        }
        let off = match offset {
            Some(Offset::Pos(d)) => d.as_millis() as i64,
            Some(Offset::Neg(d)) => -(d.as_millis() as i64),
            None => 0,
        };
        times.iter_mut().for_each(|x| *x -= off);
    }

    /// The times the base expression's first selector reads at, so that the
    /// info series are looked up as of the same instants (`@`, `offset`).
    fn reference_times(&self, e: &Expr, mut times: Vec<i64>) -> Option<Vec<i64>> {
        match e {
            Expr::VectorSelector(vs) => {
                self.shift(&vs.at, &vs.offset, &mut times);
                Some(times)
            }
            Expr::MatrixSelector(ms) => {
                self.shift(&ms.vs.at, &ms.vs.offset, &mut times);
                Some(times)
            }
            Expr::Subquery(sq) => {
                self.shift(&sq.at, &sq.offset, &mut times);
                self.reference_times(&sq.expr, times)
            }
            Expr::Paren(p) => self.reference_times(&p.expr, times),
            Expr::Unary(u) => self.reference_times(&u.expr, times),
            Expr::Aggregate(a) => self.reference_times(&a.expr, times),
            Expr::Binary(b) => self
                .reference_times(&b.lhs, times.clone())
                .or_else(|| self.reference_times(&b.rhs, times)),
            Expr::Call(c) => c
                .args
                .args
                .iter()
                .find_map(|a| self.reference_times(a, times.clone())),
            _ => None,
        }
    }

    pub fn eval_info(&mut self, args: &[&Expr], s: &Steps) -> Result<Val> {
        let rows = self.eval_vector(args[0], s)?;
        let mut name_m: Vec<Matcher> = Vec::new();
        let mut data_m: Vec<Matcher> = Vec::new();
        if let Some(Expr::VectorSelector(vs)) = args.get(1) {
            for m in selector_matchers(vs)?
                .into_iter()
                .next()
                .unwrap_or_default()
            {
                if m.name == METRIC_NAME {
                    name_m.push(m);
                } else {
                    data_m.push(m);
                }
            }
        }
        if name_m.is_empty() {
            name_m.push(Matcher::equal(METRIC_NAME, "target_info"));
        } else if !name_m
            .iter()
            .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
        {
            // Only exclusions given: the candidates are still info metrics.
            name_m.push(Matcher::new(MatchOp::Regex, METRIC_NAME, ".+_info")?);
        }
        let steps: Vec<i64> = (0..s.n).map(|i| s.t(i)).collect();
        let times = self
            .reference_times(args[0], steps.clone())
            .unwrap_or(steps);
        let (mint, maxt) = (
            times.iter().min().copied().unwrap_or(0) - self.lookback + 1,
            times.iter().max().copied().unwrap_or(0),
        );
        let all: Vec<Matcher> = name_m.iter().chain(&data_m).cloned().collect();
        let mut infos = Vec::new();
        for ser in self.q.select(&self.ctx, mint, maxt, &all)? {
            let ser = ser?;
            let samples: Vec<_> = ser.samples.collect();
            // Info metrics hold floats: a histogram a step would read is an
            // error, as in Prometheus.
            if let Some(hs) = ser.histograms {
                let hts: Vec<i64> = hs.filter(|h| !h.h.is_stale()).map(|h| h.t).collect();
                let read_hist = times.iter().any(|&t| {
                    let k = hts.partition_point(|&x| x <= t);
                    let Some(&ht) = hts[..k].last() else {
                        return false;
                    };
                    let f = samples.partition_point(|x| x.t <= t);
                    ht > t - self.lookback && samples[..f].last().is_none_or(|x| x.t < ht)
                });
                if read_hist {
                    return Err(Error::exec(format!(
                        "this should be an info metric, with float samples: {}",
                        crate::eval::go_labels(&ser.labels)
                    )));
                }
            }
            let ts = times
                .iter()
                .map(|&t| {
                    let k = samples.partition_point(|x| x.t <= t);
                    let last = samples[..k].last()?;
                    (last.t > t - self.lookback && !is_stale_nan(last.v)).then_some(last.t)
                })
                .collect();
            infos.push(InfoSeries {
                labels: ser.labels,
                ts,
            });
        }
        let keep_unmatched = data_m.iter().all(|m| m.matches(""));
        let wanted: Option<Vec<&str>> =
            (!data_m.is_empty()).then(|| data_m.iter().map(|m| m.name.as_str()).collect());

        let mut out: Vec<Row> = Vec::new();
        let mut by_labels: HashMap<Labels, usize> = HashMap::new();
        for row in rows {
            let name = row.labels.metric_name().unwrap_or("");
            // A base series is itself an info metric (and passes through) when
            // it satisfies the positive name matchers and all the others.
            let is_info = !name.is_empty()
                && name_m
                    .iter()
                    .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
                && name_m.iter().all(|m| m.matches(name));
            let ident: Vec<(&str, &str)> = IDENTIFYING
                .iter()
                .filter_map(|n| row.labels.get(n).map(|v| (*n, v)))
                .collect();
            let candidates: Vec<&InfoSeries> = if is_info || ident.is_empty() {
                Vec::new()
            } else {
                infos
                    .iter()
                    .filter(|inf| ident.iter().all(|(n, v)| inf.labels.get(n) == Some(*v)))
                    .collect()
            };
            // The chosen info series rarely change between steps: reuse the
            // output row of the previous step's choice instead of building
            // the same label set again.
            let mut prev: Option<(Vec<usize>, usize)> = None;
            for i in 0..s.n {
                let v = row.vals[i];
                if !present(v) {
                    continue;
                }
                let mut key: Vec<usize> = Vec::new();
                if !is_info {
                    let mut chosen: HashMap<&str, (usize, i64)> = HashMap::new();
                    for (ci, inf) in candidates.iter().enumerate() {
                        if let Some(t) = inf.ts[i] {
                            let n = inf.labels.metric_name().unwrap_or("");
                            match chosen.get(n) {
                                Some((_, bt)) if *bt >= t => {}
                                _ => {
                                    chosen.insert(n, (ci, t));
                                }
                            }
                        }
                    }
                    key = chosen.values().map(|(ci, _)| *ci).collect();
                    key.sort_unstable();
                }
                if let Some((pk, k)) = &prev {
                    if *pk == key && (is_info || !key.is_empty() || keep_unmatched) {
                        out[*k].vals[i] = v;
                        continue;
                    }
                }
                let labels = if is_info {
                    row.labels.clone()
                } else {
                    // Latest sample wins among series of one info metric.
                    let mut chosen: HashMap<&str, (&InfoSeries, i64)> = HashMap::new();
                    for inf in &candidates {
                        if let Some(t) = inf.ts[i] {
                            let n = inf.labels.metric_name().unwrap_or("");
                            match chosen.get(n) {
                                Some((_, bt)) if *bt >= t => {}
                                _ => {
                                    chosen.insert(n, (inf, t));
                                }
                            }
                        }
                    }
                    if chosen.is_empty() {
                        if !keep_unmatched {
                            continue;
                        }
                        row.labels.clone()
                    } else {
                        let mut b = row.labels.to_builder();
                        let mut added: HashMap<&str, &str> = HashMap::new();
                        for (inf, _) in chosen.values() {
                            for l in inf.labels.iter() {
                                if l.name == METRIC_NAME
                                    || IDENTIFYING.contains(&l.name.as_str())
                                    || row.labels.get(&l.name).is_some()
                                    || wanted
                                        .as_ref()
                                        .is_some_and(|w| !w.contains(&l.name.as_str()))
                                {
                                    continue;
                                }
                                if let Some(prev) = added.insert(&l.name, &l.value) {
                                    if prev != l.value {
                                        return Err(Error::exec(format!(
                                            "conflicting label: {} has values {prev:?} and {:?} in different info metrics",
                                            l.name, l.value
                                        )));
                                    }
                                }
                                b.set(l.name.clone(), l.value.clone());
                            }
                        }
                        b.into_labels()
                    }
                };
                let k = *by_labels.entry(labels.clone()).or_insert_with(|| {
                    out.push(Row {
                        labels,
                        drop_name: row.drop_name,
                        vals: vec![ABSENT; s.n],
                        hists: None,
                    });
                    out.len() - 1
                });
                out[k].vals[i] = v;
                prev = Some((key, k));
            }
        }
        Ok(Val::Vector(out))
    }
}
