//! `load_with_nhcb`: besides its float series, a block loads every classic
//! histogram it holds (`_bucket` series with `le`, `_count`, `_sum`) once
//! more, converted to native histograms with custom buckets under the base
//! name, as upstream's test loader does.

use sightline_core::histogram::{Span, CUSTOM_BUCKETS_SCHEMA};
use sightline_core::{FloatHistogram, Labels, MemStore};
use std::collections::{BTreeMap, HashMap};

/// One classic histogram at one timestamp, as its series give it.
#[derive(Default)]
struct Temp {
    /// `(le, cumulative count)`; a repeated `le` keeps its first count.
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
}

/// Collects the classic series of a `load_with_nhcb` block.
#[derive(Default)]
pub(crate) struct Collector {
    hists: HashMap<Labels, BTreeMap<i64, Temp>>,
}

impl Collector {
    /// Takes the float points (`(t, v)`) of one loaded series.
    pub fn series(&mut self, labels: &Labels, points: &[(i64, f64)]) {
        let name = labels.metric_name().unwrap_or("");
        enum Part {
            Bucket(f64),
            Count,
            Sum,
        }
        let (base, part) = if let Some(b) = name.strip_suffix("_bucket") {
            let Some(le) = labels.get("le").and_then(|v| v.trim().parse::<f64>().ok()) else {
                return;
            };
            if le.is_nan() {
                return;
            }
            (b, Part::Bucket(le))
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, Part::Sum)
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, Part::Count)
        } else {
            return;
        };
        let mut lb = labels.to_builder();
        lb.set("__name__", base.to_owned());
        lb.del("le");
        let by_t = self.hists.entry(lb.into_labels()).or_default();
        for &(t, v) in points {
            let h = by_t.entry(t).or_default();
            match part {
                Part::Bucket(le) => {
                    if !h.buckets.iter().any(|b| b.0 == le) {
                        h.buckets.push((le, v));
                    }
                }
                Part::Count => h.count = Some(v),
                Part::Sum => h.sum = v,
            }
        }
    }

    /// Adds the converted histograms to `store`. A timestamp whose classic
    /// histogram does not convert (counts not cumulative, negative, or
    /// disagreeing with `_count`) gets no sample; upstream's loader fails
    /// on it, so the suite has none.
    pub fn store(self, store: &MemStore) {
        for (labels, by_t) in self.hists {
            for (t, temp) in by_t {
                if let Some(h) = convert(temp) {
                    store.add_histogram(labels.clone(), t, h);
                }
            }
        }
    }
}

/// A classic histogram as one native histogram with custom buckets.
fn convert(mut t: Temp) -> Option<FloatHistogram> {
    t.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut prev = 0.0;
    for &(_, c) in &t.buckets {
        if c.is_nan() || c < 0.0 || c < prev {
            return None;
        }
        prev = c;
    }
    let count = t
        .count
        .or_else(|| t.buckets.last().map(|b| b.1))
        .unwrap_or(0.0);
    if count.is_nan() || count < 0.0 {
        return None;
    }
    if t.buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        t.buckets.push((f64::INFINITY, count));
    }
    if t.buckets.last().map(|b| b.1) != Some(count) {
        return None;
    }
    let mut counts = Vec::with_capacity(t.buckets.len());
    let mut prev = 0.0;
    for &(_, c) in &t.buckets {
        counts.push(c - prev);
        prev = c;
    }
    let custom_values: Vec<f64> = t.buckets[..t.buckets.len() - 1]
        .iter()
        .map(|b| b.0)
        .collect();
    let mut h = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count,
        sum: t.sum,
        positive_spans: vec![Span {
            offset: 0,
            length: counts.len() as u32,
        }],
        positive_buckets: counts,
        custom_values,
        ..FloatHistogram::default()
    };
    h.compact(0);
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_buckets_become_custom_buckets() {
        let mut c = Collector::default();
        let l = |pairs: &[(&str, &str)]| Labels::from_pairs(pairs.iter().copied());
        c.series(&l(&[("__name__", "x_bucket"), ("le", "1")]), &[(0, 2.0)]);
        c.series(&l(&[("__name__", "x_bucket"), ("le", "+Inf")]), &[(0, 5.0)]);
        c.series(&l(&[("__name__", "x_bucket"), ("le", "0.5")]), &[(0, 1.0)]);
        c.series(&l(&[("__name__", "x_sum")]), &[(0, 7.5)]);
        c.series(&l(&[("__name__", "x_count")]), &[(0, 5.0)]);
        let store = MemStore::new();
        c.store(&store);
        let e = crate::Engine::new(crate::EngineOptions::default());
        let crate::Value::Vector(v) = e.instant_query(&store, "x", 0).unwrap().value else {
            panic!()
        };
        let h = v[0].h.as_ref().expect("a histogram");
        assert_eq!(h.custom_values, vec![0.5, 1.0]);
        assert_eq!(h.positive_buckets, vec![1.0, 1.0, 3.0]);
        assert_eq!((h.count, h.sum), (5.0, 7.5));
    }
}
