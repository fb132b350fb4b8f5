//! An in-memory store for tests of the query engines and the APIs.
//!
//! It keeps every sample in a sorted map and is deliberately simple: it is a
//! reference for behaviour, not for speed.

use crate::{
    matches_all, AppendStats, Appender, Error, ErrorKind, FloatHistogram, HistogramSample, Labels,
    Matcher, MetricAppender, MetricQuerier, QueryContext, Result, Sample, Series, SeriesRef,
    SeriesSet,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

/// A map from labels to samples behind a lock. Cloning shares the data.
#[derive(Clone, Default)]
pub struct MemStore {
    inner: Arc<RwLock<BTreeMap<Labels, Data>>>,
}

/// One series: float samples and native histogram samples, each sorted by
/// time; a timestamp is in at most one of them.
#[derive(Default)]
struct Data {
    floats: Vec<Sample>,
    hists: Vec<HistogramSample>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        MemStore::default()
    }

    /// Adds one sample directly, keeping each series sorted by time and
    /// replacing a sample with the same timestamp.
    pub fn add(&self, labels: Labels, t: i64, v: f64) {
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let series = map.entry(labels).or_default();
        if let Ok(i) = series.hists.binary_search_by_key(&t, |s| s.t) {
            series.hists.remove(i);
        }
        match series.floats.binary_search_by_key(&t, |s| s.t) {
            Ok(i) => series.floats[i].v = v,
            Err(i) => series.floats.insert(i, Sample::new(t, v)),
        }
    }

    /// Adds one native histogram sample, replacing any sample (float or
    /// histogram) with the same timestamp.
    pub fn add_histogram(&self, labels: Labels, t: i64, h: FloatHistogram) {
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let series = map.entry(labels).or_default();
        if let Ok(i) = series.floats.binary_search_by_key(&t, |s| s.t) {
            series.floats.remove(i);
        }
        match series.hists.binary_search_by_key(&t, |s| s.t) {
            Ok(i) => series.hists[i].h = h,
            Err(i) => series.hists.insert(i, HistogramSample { t, h }),
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Number of series held.
    pub fn series_count(&self) -> usize {
        self.inner.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl MetricAppender for MemStore {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(MemAppender {
            store: self.clone(),
            pending: Vec::new(),
        })
    }
}

struct MemAppender {
    store: MemStore,
    pending: Vec<(Labels, Pending)>,
}

enum Pending {
    Float(Sample),
    Histogram(HistogramSample),
}

impl Appender for MemAppender {
    fn append(&mut self, _r: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        if labels.is_empty() {
            return Err(Error::new(ErrorKind::BadData, "empty label set"));
        }
        self.pending
            .push((labels.clone(), Pending::Float(Sample::new(t, v))));
        Ok(0)
    }

    fn append_histogram(
        &mut self,
        _r: SeriesRef,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef> {
        if labels.is_empty() {
            return Err(Error::new(ErrorKind::BadData, "empty label set"));
        }
        if !h.is_stale() {
            h.validate()?;
        }
        self.pending.push((
            labels.clone(),
            Pending::Histogram(HistogramSample { t, h: h.clone() }),
        ));
        Ok(0)
    }

    fn commit(self: Box<Self>) -> Result<AppendStats> {
        let mut stats = AppendStats::default();
        for (l, s) in self.pending {
            let existed = {
                let map = self.store.inner.read().unwrap_or_else(|e| e.into_inner());
                map.contains_key(&l)
            };
            if !existed {
                stats.series_created += 1;
            }
            match s {
                Pending::Float(s) => self.store.add(l, s.t, s.v),
                Pending::Histogram(h) => self.store.add_histogram(l, h.t, h.h),
            }
            stats.samples += 1;
        }
        Ok(stats)
    }

    fn rollback(self: Box<Self>) {}
}

/// Histogram sample `i` with the counter-reset hint a TSDB reader reports
/// for it, as Prometheus's chunks do: a written hint stays; otherwise a
/// sample that follows another histogram sample (no float in between)
/// without a reset is `NotCounterReset`, and the first of a run or of a new
/// chunk after a reset is `Unknown` (Prometheus's chunk readers report no
/// `CounterReset` there either, prometheus#15346).
fn with_read_hint(data: &Data, i: usize) -> HistogramSample {
    use crate::histogram::CounterResetHint;
    let mut s = data.hists[i].clone();
    if s.h.counter_reset_hint != CounterResetHint::Unknown || i == 0 || s.h.is_stale() {
        return s;
    }
    let prev = &data.hists[i - 1];
    let float_between = {
        let f = &data.floats;
        let k = f.partition_point(|x| x.t <= prev.t);
        k < f.len() && f[k].t < s.t
    };
    if float_between || prev.h.is_stale() {
        return s;
    }
    s.h.counter_reset_hint = if s.h.detect_reset(&prev.h) {
        CounterResetHint::Unknown
    } else {
        CounterResetHint::NotCounterReset
    };
    s
}

impl MemStore {
    /// One series' data in `[mint, maxt]`, copied out of the lock, or
    /// `None` when it has none there (or is gone).
    fn read_series(
        &self,
        ctx: &QueryContext,
        labels: Labels,
        mint: i64,
        maxt: i64,
    ) -> Option<Series> {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let data = map.get(&labels)?;
        let samples = &data.floats;
        let lo = samples.partition_point(|s| s.t < mint);
        let hi = samples.partition_point(|s| s.t <= maxt);
        let hs = &data.hists;
        let hlo = hs.partition_point(|s| s.t < mint);
        let hhi = hs.partition_point(|s| s.t <= maxt);
        if lo >= hi && hlo >= hhi {
            return None;
        }
        // Charged as a chunk would be: 16 bytes a float, ~64 a histogram.
        let n = (hi - lo + hhi - hlo) as u64;
        if !ctx.charge(n, 16 * (hi - lo) as u64 + 64 * (hhi - hlo) as u64) {
            return None;
        }
        let picked: Vec<Sample> = samples[lo..hi].to_vec();
        let histograms: Option<crate::HistogramIter> = if hlo < hhi {
            // Copied out: the iterator outlives the lock.
            let copied: Vec<HistogramSample> =
                (hlo..hhi).map(|i| with_read_hint(data, i)).collect();
            Some(Box::new(copied.into_iter()))
        } else {
            None
        };
        Some(Series {
            labels,
            samples: Box::new(picked.into_iter()),
            histograms,
        })
    }

    /// Label sets matching `matchers`, in order: the store's "postings".
    fn matching(&self, matchers: &[Matcher]) -> Vec<Labels> {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        map.keys()
            .filter(|l| matches_all(matchers, l))
            .cloned()
            .collect()
    }
}

impl MetricQuerier for MemStore {
    fn select(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<SeriesSet> {
        // The matching label sets are listed up front (cheap, no samples);
        // each series' samples are copied only when the set reaches it, so
        // a consumer that stops early copies no more, as a real store
        // decodes no more.
        let store = self.clone();
        let read = ctx.clone();
        let it = self
            .matching(matchers)
            .into_iter()
            .filter_map(move |l| store.read_series(&read, l, mint, maxt))
            .map(Ok);
        Ok(SeriesSet::new(ctx, it))
    }

    fn label_names(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>> {
        let mut names = BTreeSet::new();
        for s in self.select(ctx, mint, maxt, matchers)? {
            names.extend(s?.labels.iter().map(|l| l.name.clone()));
        }
        Ok(names.into_iter().collect())
    }

    fn label_values(
        &self,
        ctx: &QueryContext,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>> {
        let mut values = BTreeSet::new();
        for s in self.select(ctx, mint, maxt, matchers)? {
            if let Some(v) = s?.labels.get(name) {
                values.insert(v.to_owned());
            }
        }
        Ok(values.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MatchOp;

    fn ctx() -> QueryContext {
        QueryContext::new()
    }

    #[test]
    fn appended_samples_are_selected_in_range_and_sorted() {
        let store = MemStore::new();
        let mut app = store.appender();
        let a = Labels::from_pairs([("__name__", "m"), ("i", "a")]);
        let b = Labels::from_pairs([("__name__", "m"), ("i", "b")]);
        for t in [30, 10, 20] {
            app.append(0, &b, t, t as f64).unwrap();
            app.append(0, &a, t, -(t as f64)).unwrap();
        }
        let stats = app.commit().unwrap();
        assert_eq!(
            stats,
            AppendStats {
                samples: 6,
                series_created: 2
            }
        );

        let got = store
            .select(
                &ctx(),
                15,
                30,
                &[Matcher::new(MatchOp::Regex, "i", "a|b").unwrap()],
            )
            .unwrap()
            .into_vec()
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].labels, a);
        let samples: Vec<Sample> = got.into_iter().nth(1).unwrap().samples.collect();
        assert_eq!(samples, vec![Sample::new(20, 20.0), Sample::new(30, 30.0)]);
        assert_eq!(
            store.label_values(&ctx(), "i", 0, 100, &[]).unwrap(),
            vec!["a", "b"]
        );
        assert_eq!(
            store.label_names(&ctx(), 0, 100, &[]).unwrap(),
            vec!["__name__", "i"]
        );
    }

    #[test]
    fn histograms_are_selected_beside_floats() {
        // issue 12: MemStore keeps native histograms for the engine's tests.
        let store = MemStore::new();
        let l = Labels::from_pairs([("__name__", "h")]);
        let h = FloatHistogram {
            count: 1.0,
            sum: 2.0,
            ..FloatHistogram::default()
        };
        let mut app = store.appender();
        app.append(0, &l, 10, 1.0).unwrap();
        app.append_histogram(0, &l, 20, &h).unwrap();
        app.append_histogram(0, &l, 10, &h).unwrap();
        let bad = FloatHistogram {
            schema: 42,
            ..FloatHistogram::default()
        };
        assert!(app.append_histogram(0, &l, 30, &bad).is_err());
        app.commit().unwrap();
        let mut got = store
            .select(&ctx(), 0, 100, &[])
            .unwrap()
            .into_vec()
            .unwrap();
        let s = got.pop().unwrap();
        assert_eq!(
            s.samples.count(),
            0,
            "the histogram at 10 replaced the float"
        );
        let hs: Vec<i64> = s.histograms.unwrap().map(|x| x.t).collect();
        assert_eq!(hs, vec![10, 20]);
        assert!(store.select(&ctx(), 0, 5, &[]).unwrap().next().is_none());
    }

    #[test]
    fn rollback_writes_nothing() {
        let store = MemStore::new();
        let mut app = store.appender();
        app.append(0, &Labels::from_pairs([("a", "1")]), 1, 1.0)
            .unwrap();
        app.rollback();
        assert_eq!(store.series_count(), 0);
    }
}
