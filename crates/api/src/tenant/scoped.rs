//! The metric store as one tenant sees it.
//!
//! [`TenantQuerier`] adds the tenant's matcher on [`TENANT_LABEL`] to every
//! read (`__tenant__=""` for the default tenant, which matches exactly
//! the series without the label) and takes the label off every answer.
//! [`TenantAppendable`] puts the label on every series written (and
//! takes a client's own `__tenant__` off: a tenant cannot write into
//! another's space), and refuses new series past the tenant's active
//! series limit before the store creates them.
//!
//! A query cannot escape: a client's `{__tenant__="b"}` is ANDed with the
//! tenant's own matcher, so it selects nothing.

use super::limits::{Admit, SeriesTracker, TenantLimits};
use super::{Tenant, TENANT_LABEL};
use sightline_core::{
    AppendStats, Appender, Error, ErrorKind, Exemplar, FloatHistogram, Labels, LabelsSet, Matcher,
    MetricAppender, MetricQuerier, QueryContext, Result, SeriesExemplars, SeriesRef, SeriesSet,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The label value a tenant's series carry (empty: none, the default).
fn label_value(t: &Tenant) -> String {
    if t.is_default() {
        String::new()
    } else {
        t.0.clone()
    }
}

fn strip(labels: Labels) -> Labels {
    if labels.get(TENANT_LABEL).is_none() {
        return labels;
    }
    let mut b = labels.to_builder();
    b.del(TENANT_LABEL);
    b.into_labels()
}

/// Reads of one tenant.
pub struct TenantQuerier {
    inner: Arc<dyn MetricQuerier>,
    matcher: Matcher,
    /// Most series the request may select (0: no limit), and how many it
    /// has: one querier serves one request, so this is per query.
    max_series: usize,
    fetched: Arc<AtomicUsize>,
}

impl TenantQuerier {
    /// `inner` as `tenant` sees it.
    pub fn new(inner: Arc<dyn MetricQuerier>, tenant: &Tenant) -> Self {
        TenantQuerier {
            inner,
            matcher: Matcher::equal(TENANT_LABEL, label_value(tenant)),
            max_series: 0,
            fetched: Arc::default(),
        }
    }

    /// Refuses the query once it has selected more than `max` series
    /// (Mimir's `max_fetched_series_per_query`; 0: no limit).
    pub fn with_max_series(mut self, max: usize) -> Self {
        self.max_series = max;
        self
    }

    /// Counts one more series; the error once past the limit.
    fn count(max: usize, fetched: &AtomicUsize) -> Result<()> {
        if max > 0 && fetched.fetch_add(1, Ordering::Relaxed) >= max {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!(
                    "the query exceeded the maximum number of series (limit: {max} series) (err-mimir-max-series-per-query)"
                ),
            ));
        }
        Ok(())
    }

    fn with_tenant(&self, matchers: &[Matcher]) -> Vec<Matcher> {
        let mut m = Vec::with_capacity(matchers.len() + 1);
        m.push(self.matcher.clone());
        m.extend_from_slice(matchers);
        m
    }
}

impl MetricQuerier for TenantQuerier {
    fn select(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<SeriesSet> {
        let set = self
            .inner
            .select(ctx, mint, maxt, &self.with_tenant(matchers))?;
        let (max, fetched) = (self.max_series, self.fetched.clone());
        Ok(SeriesSet::new(
            ctx,
            set.map(move |s| {
                let mut s = s?;
                Self::count(max, &fetched)?;
                s.labels = strip(s.labels);
                Ok(s)
            }),
        ))
    }

    fn series(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<LabelsSet> {
        let set = self
            .inner
            .series(ctx, mint, maxt, &self.with_tenant(matchers))?;
        let (max, fetched) = (self.max_series, self.fetched.clone());
        Ok(Box::new(set.map(move |l| {
            let l = l?;
            Self::count(max, &fetched)?;
            Ok(strip(l))
        })))
    }

    fn label_names(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>> {
        let mut names = self
            .inner
            .label_names(ctx, mint, maxt, &self.with_tenant(matchers))?;
        names.retain(|n| n != TENANT_LABEL);
        Ok(names)
    }

    fn label_values(
        &self,
        ctx: &QueryContext,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>> {
        if name == TENANT_LABEL {
            return Ok(Vec::new());
        }
        self.inner
            .label_values(ctx, name, mint, maxt, &self.with_tenant(matchers))
    }

    fn select_exemplars(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        selectors: &[Vec<Matcher>],
    ) -> Result<Vec<SeriesExemplars>> {
        let selectors: Vec<Vec<Matcher>> = selectors.iter().map(|s| self.with_tenant(s)).collect();
        let mut found = self.inner.select_exemplars(ctx, mint, maxt, &selectors)?;
        for f in &mut found {
            f.series_labels = strip(std::mem::take(&mut f.series_labels));
        }
        Ok(found)
    }
}

/// Writes of one tenant.
pub struct TenantAppendable {
    inner: Arc<dyn MetricAppender>,
    value: String,
    tracker: Option<Arc<SeriesTracker>>,
}

impl TenantAppendable {
    /// `inner` as `tenant` writes to it, within its limits.
    pub fn new(inner: Arc<dyn MetricAppender>, tenant: &Tenant, limits: Arc<TenantLimits>) -> Self {
        TenantAppendable {
            inner,
            value: label_value(tenant),
            tracker: limits.series_tracker(&tenant.0),
        }
    }
}

impl MetricAppender for TenantAppendable {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(TenantAppender {
            inner: Some(self.inner.appender()),
            value: self.value.clone(),
            tracker: self.tracker.clone(),
            added: Vec::new(),
            last: None,
        })
    }
}

/// Wraps any store's appendable with a tenant's active series limit only
/// (no label): the scrape loop and rules of the default tenant.
pub fn limit_series(
    inner: Arc<dyn MetricAppender>,
    tenant: &str,
    limits: &TenantLimits,
) -> Arc<dyn MetricAppender> {
    match limits.series_tracker(tenant) {
        None => inner,
        Some(tracker) => Arc::new(TenantAppendable {
            inner,
            value: String::new(),
            tracker: Some(tracker),
        }),
    }
}

struct TenantAppender {
    inner: Option<Box<dyn Appender>>,
    value: String,
    tracker: Option<Arc<SeriesTracker>>,
    /// Series this transaction admitted: given back if it does not commit.
    added: Vec<u64>,
    /// The last labels admitted and their stored form: remote write
    /// appends a series' samples one by one with the same labels.
    last: Option<(Labels, Labels)>,
}

impl TenantAppender {
    fn inner(&mut self) -> &mut dyn Appender {
        self.inner
            .as_mut()
            .expect("appender used after commit")
            .as_mut()
    }

    /// Admits `labels` by the series limit and returns the store's
    /// appender with the labels as stored.
    fn admit(&mut self, labels: &Labels) -> Result<(&mut dyn Appender, &Labels)> {
        let cached = matches!(&self.last, Some((given, _)) if given == labels);
        if !cached {
            let stored = self.stored(labels)?;
            self.last = Some((labels.clone(), stored));
        }
        let stored = &self.last.as_ref().expect("just set").1;
        let inner = self.inner.as_mut().expect("appender used after commit");
        Ok((inner.as_mut(), stored))
    }

    /// The labels as stored, once admitted by the series limit.
    fn stored(&mut self, labels: &Labels) -> Result<Labels> {
        let stored = if self.value.is_empty() {
            strip(labels.clone())
        } else if labels.get(TENANT_LABEL) == Some(self.value.as_str()) {
            labels.clone()
        } else {
            let mut b = labels.to_builder();
            b.set(TENANT_LABEL, self.value.clone());
            b.into_labels()
        };
        if let Some(t) = &self.tracker {
            let h = stored.stable_hash();
            match t.admit(h) {
                Admit::Known => {}
                Admit::New => self.added.push(h),
                Admit::Refused(limit) => {
                    return Err(Error::new(
                        ErrorKind::LimitExceeded,
                        format!(
                        "per-user series limit of {limit} exceeded (err-mimir-max-series-per-user)"
                    ),
                    ))
                }
            }
        }
        Ok(stored)
    }

    fn give_back(&mut self) {
        if let Some(t) = &self.tracker {
            t.release(&self.added);
        }
        self.added.clear();
    }
}

impl Appender for TenantAppender {
    fn append(
        &mut self,
        series_ref: SeriesRef,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef> {
        if labels.is_empty() {
            return self.inner().append(series_ref, labels, t, v);
        }
        let (inner, stored) = self.admit(labels)?;
        inner.append(series_ref, stored, t, v)
    }

    fn append_histogram(
        &mut self,
        series_ref: SeriesRef,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<SeriesRef> {
        if labels.is_empty() {
            return self.inner().append_histogram(series_ref, labels, t, h);
        }
        let (inner, stored) = self.admit(labels)?;
        inner.append_histogram(series_ref, stored, t, h)
    }

    fn append_exemplar(
        &mut self,
        series_ref: SeriesRef,
        labels: &Labels,
        exemplar: &Exemplar,
    ) -> Result<()> {
        if labels.is_empty() {
            return self.inner().append_exemplar(series_ref, labels, exemplar);
        }
        let (inner, stored) = self.admit(labels)?;
        inner.append_exemplar(series_ref, stored, exemplar)
    }

    fn commit(mut self: Box<Self>) -> Result<AppendStats> {
        let inner = self.inner.take().expect("appender committed twice");
        let r = inner.commit();
        if r.is_ok() {
            self.added.clear();
        }
        r
    }

    fn rollback(mut self: Box<Self>) {
        if let Some(inner) = self.inner.take() {
            inner.rollback();
        }
    }
}

impl Drop for TenantAppender {
    fn drop(&mut self) {
        // Rolled back, dropped, or a failed commit: the series it admitted
        // were never created.
        self.give_back();
    }
}
