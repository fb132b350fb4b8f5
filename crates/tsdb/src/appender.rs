//! The transaction type handed out by [`crate::Db`]'s `MetricAppender`.
//!
//! `append` validates against the head right away (so callers learn about
//! out-of-order samples per sample) and buffers; `commit` writes one batch of
//! WAL records with one `write(2)` and then applies the samples to the head,
//! outside the WAL lock so that commits apply in parallel.
//!
//! Two transactions racing on the *same* series can reach the head in
//! another order than the WAL's. WAL replay therefore keeps older samples in
//! the out-of-order buffer instead of dropping them, so an acknowledged
//! sample always comes back; at worst a replay also keeps one that lost such
//! a race in the live head (counted there as out of order). One writer per
//! series (a scrape loop, a remote-write shard) never sees this. Applying
//! under the WAL lock would close the gap, but serialised commits cost about
//! a fifth of the append throughput.
//!
//! Exemplars are checked against the exemplar ring at `append_exemplar`
//! (duplicates of the series' newest are dropped there, older ones refused),
//! written to the WAL in the commit's batch after its samples, and added to
//! the ring once the samples are applied, as Prometheus's head appender does.
//!
//! A series' labels must reach the WAL before any sample that refers to it.
//! Series are created in the head at `append` time, possibly by a transaction
//! that never commits, so each series carries a `logged` flag: whichever
//! commit first writes samples for it also writes its labels, deciding this
//! under the WAL lock so two commits cannot both skip or both write them.

use crate::db::Inner;
use crate::exemplars::{Refusal, Stored};
use crate::head::series::Appended;
use crate::head::{Head, Reject};
use crate::stats::Counters;
use crate::Error;
use sightline_core::{
    AppendStats, Appender, ErrorKind, Exemplar, FloatHistogram, Labels, SeriesRef,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(crate) struct DbAppender {
    db: Arc<Inner>,
    samples: Vec<(u64, i64, f64)>,
    /// Native histogram samples, kept apart so float transactions carry
    /// nothing extra.
    hists: Vec<(u64, i64, FloatHistogram)>,
    /// Whether `samples` were applied (else `Drop` releases their pending
    /// marks on the series).
    applied: bool,
    unlogged: Vec<u32>,
    created: u64,
    /// Exemplars checked at append: series id, series labels, exemplar.
    exemplars: Vec<(u32, Labels, Stored)>,
}

impl DbAppender {
    pub(crate) fn new(db: Arc<Inner>) -> Self {
        DbAppender {
            db,
            samples: Vec::with_capacity(64),
            hists: Vec::new(),
            applied: false,
            unlogged: Vec::new(),
            created: 0,
            exemplars: Vec::new(),
        }
    }

    /// The series id for `labels` (or the caller's `series_ref`), created
    /// when new, after `check` says whether the sample fits: the part of
    /// `append` that histograms share.
    /// (A function of the head and the creation counter rather than a
    /// method, so `check` can borrow the head without cloning the `Arc`.)
    fn resolve(
        head: &Head,
        created: &mut u64,
        series_ref: SeriesRef,
        labels: &Labels,
        check: impl Fn(u32) -> Result<bool, Reject>,
    ) -> sightline_core::Result<(u32, Result<bool, Reject>)> {
        let mut id = u32::try_from(series_ref).unwrap_or(0);
        let mut checked = if id != 0 {
            check(id)
        } else {
            Err(Reject::NotFound)
        };
        if checked == Err(Reject::NotFound) {
            if labels.is_empty() {
                return Err(if id != 0 {
                    sightline_core::Error::new(
                        sightline_core::ErrorKind::NotFound,
                        format!("series {id} is no longer in the head and no labels were given"),
                    )
                } else {
                    Error::BadData("empty label set".into()).into()
                });
            }
            if let Some(l) = labels.iter().find(|l| l.name.is_empty()) {
                return Err(Error::BadData(format!(
                    "empty label name with value {:?} in {labels}",
                    l.value
                ))
                .into());
            }
            let (nid, new) = head.get_or_create(labels, None);
            id = nid;
            *created += u64::from(new);
            checked = check(id);
        }
        Ok((id, checked))
    }

    fn reject(&self, r: Reject, labels: &Labels, t: i64) -> Error {
        let c = &self.db.counters;
        let series = labels.to_string();
        match r {
            Reject::OutOfOrder | Reject::NotFound => {
                Counters::inc(&c.out_of_order, 1);
                Error::OutOfOrder { series, t }
            }
            Reject::OutOfBounds(min_valid) => {
                Counters::inc(&c.out_of_bounds, 1);
                Error::OutOfBounds {
                    series,
                    t,
                    min_valid,
                }
            }
            Reject::Duplicate => {
                Counters::inc(&c.duplicate, 1);
                Error::DuplicateSample { series, t }
            }
        }
    }
}

impl Drop for DbAppender {
    /// Rollback, drop, or a failed commit: release the pending marks.
    fn drop(&mut self) {
        if !self.applied {
            for s in &self.samples {
                self.db.head.release(s.0 as u32);
            }
            for s in &self.hists {
                self.db.head.release(s.0 as u32);
            }
        }
    }
}

impl Appender for DbAppender {
    fn append(
        &mut self,
        series_ref: SeriesRef,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> sightline_core::Result<SeriesRef> {
        if self.db.closed.load(Ordering::Relaxed) {
            return Err(Error::Closed(self.db.dir.clone()).into());
        }
        let head = &self.db.head;
        let (id, checked) = Self::resolve(head, &mut self.created, series_ref, labels, |id| {
            head.check(id, t, v)
        })?;
        match checked {
            Ok(logged) => {
                if !logged {
                    self.unlogged.push(id);
                }
                self.samples.push((u64::from(id), t, v));
                Ok(u64::from(id))
            }
            Err(r) => Err(self.reject(r, labels, t).into()),
        }
    }

    fn append_histogram(
        &mut self,
        series_ref: SeriesRef,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> sightline_core::Result<SeriesRef> {
        if self.db.closed.load(Ordering::Relaxed) {
            return Err(Error::Closed(self.db.dir.clone()).into());
        }
        if !h.is_stale() {
            h.validate().map_err(|e| {
                sightline_core::Error::new(e.kind(), format!("{} for {labels}", e.message()))
            })?;
        }
        let head = &self.db.head;
        let (id, checked) = Self::resolve(head, &mut self.created, series_ref, labels, |id| {
            head.check_histogram(id, t, h)
        })?;
        match checked {
            Ok(logged) => {
                if !logged {
                    self.unlogged.push(id);
                }
                self.hists.push((u64::from(id), t, h.clone()));
                Ok(u64::from(id))
            }
            Err(Reject::OutOfOrder) => {
                Counters::inc(&self.db.counters.out_of_order, 1);
                Err(Error::HistogramOutOfOrder {
                    series: labels.to_string(),
                    t,
                }
                .into())
            }
            Err(r) => Err(self.reject(r, labels, t).into()),
        }
    }

    fn append_exemplar(
        &mut self,
        series_ref: SeriesRef,
        _labels: &Labels,
        e: &Exemplar,
    ) -> sightline_core::Result<()> {
        let store = &self.db.exemplars;
        if !store.enabled() {
            return Ok(());
        }
        let id = u32::try_from(series_ref).unwrap_or(0);
        let Some(series) = (id != 0).then(|| self.db.head.labels_of(id)).flatten() else {
            return Err(sightline_core::Error::new(
                ErrorKind::NotFound,
                format!("unknown series ref {series_ref} when adding an exemplar"),
            ));
        };
        // Without its own timestamp an exemplar takes its sample's, the
        // series' latest in this transaction (Prometheus: the scrape time);
        // a remote write exemplar without one and without a sample keeps 0,
        // as in Prometheus.
        let t = e.timestamp.unwrap_or_else(|| {
            self.samples
                .iter()
                .rev()
                .find(|s| s.0 == u64::from(id))
                .map_or(0, |s| s.1)
        });
        let ex = Stored {
            labels: Labels::from_sorted(
                e.labels
                    .iter()
                    .filter(|l| !l.value.is_empty())
                    .cloned()
                    .collect(),
            ),
            value: e.value,
            t,
            has_ts: e.timestamp.is_some(),
        };
        match store.validate(&series, &ex) {
            Ok(()) => {}
            Err(Refusal::Duplicate) => return Ok(()),
            Err(Refusal::OutOfOrder) => {
                return Err(sightline_core::Error::new(
                    ErrorKind::OutOfOrder,
                    format!("out of order exemplar for {series} at {t}"),
                ))
            }
            Err(Refusal::LabelsTooLong) => {
                return Err(sightline_core::Error::new(
                    ErrorKind::BadData,
                    format!(
                        "label length for exemplar exceeds maximum of {} UTF-8 characters",
                        sightline_core::EXEMPLAR_MAX_LABEL_RUNES
                    ),
                ))
            }
        }
        // The series' labels must be in the WAL before the exemplar.
        self.unlogged.push(id);
        self.exemplars.push((id, series, ex));
        Ok(())
    }

    fn commit(self: Box<Self>) -> sightline_core::Result<AppendStats> {
        let mut me = *self;
        if me.samples.is_empty() && me.hists.is_empty() && me.exemplars.is_empty() {
            return Ok(AppendStats {
                samples: 0,
                series_created: me.created,
            });
        }
        let db = me.db.clone();
        let _g = db.commit_lock.read();
        // A head cut may have raised the floor since these samples were
        // checked (`Db::cut_head` raises it before collecting the block):
        // refuse the transaction, unlogged, rather than answer for samples
        // the cut would drop. The out-of-order buffer takes old samples
        // itself, so only an in-order head refuses here.
        let floor = db.head.truncated_upto();
        if !db.head.takes_out_of_order() {
            if let Some(&(id, t, _)) = me.samples.iter().find(|s| s.1 < floor) {
                let labels = db.head.labels_of(id as u32).unwrap_or_default();
                return Err(me.reject(Reject::OutOfBounds(floor), &labels, t).into());
            }
        }
        me.unlogged.sort_unstable();
        me.unlogged.dedup();
        let head = &db.head;
        let samples = &me.samples;
        let unlogged = &me.unlogged;
        let exemplars = &me.exemplars;
        let c = &db.counters;
        // The samples record does not depend on what the WAL holds: encode
        // it before taking the lock.
        let mut rec = Vec::with_capacity(samples.len() * 12 + 16);
        let mut scratch = Vec::new();
        crate::wal::encode_samples(&mut rec, &mut scratch, samples);
        crate::wal_histograms::encode(&mut rec, &mut scratch, &me.hists);
        db.wal.log_with(|out, scratch| {
            let mut series = Vec::new();
            for &id in unlogged {
                if head.mark_logged(id) {
                    if let Some(l) = head.labels_of(id) {
                        series.push((u64::from(id), l));
                    }
                }
            }
            crate::wal::encode_series(out, scratch, series.iter().map(|(r, l)| (*r, l)));
            out.extend_from_slice(&rec);
            if !exemplars.is_empty() {
                crate::wal::encode_exemplars(
                    out,
                    scratch,
                    exemplars
                        .iter()
                        .map(|(id, _, e)| (u64::from(*id), e.t, e.value, &e.labels)),
                );
            }
        })?;
        let mut n = 0u64;
        head.apply_all(samples, |r| match r {
            Ok(Appended::OutOfOrder) => {
                Counters::inc(&c.ooo_accepted, 1);
                n += 1;
            }
            Ok(_) => n += 1,
            // Lost a race with another transaction on the same series.
            Err(Reject::Duplicate) => Counters::inc(&c.duplicate, 1),
            Err(Reject::OutOfBounds(_)) => Counters::inc(&c.out_of_bounds, 1),
            Err(_) => Counters::inc(&c.out_of_order, 1),
        });
        head.apply_histograms(std::mem::take(&mut me.hists), |r| match r {
            Ok(_) => n += 1,
            Err(Reject::Duplicate) => Counters::inc(&c.duplicate, 1),
            Err(Reject::OutOfBounds(_)) => Counters::inc(&c.out_of_bounds, 1),
            Err(_) => Counters::inc(&c.out_of_order, 1),
        });
        // Applied: nothing left pending for `Drop` to release.
        me.applied = true;
        // Still under the commit lock, so a checkpoint that replaces this
        // WAL batch finds these exemplars in the ring. Ones another
        // transaction overtook since `append_exemplar` are dropped here.
        for (id, series, e) in me.exemplars.drain(..) {
            let _ = db.exemplars.add(&series, id, e);
        }
        Counters::inc(&c.samples_appended, n);
        Ok(AppendStats {
            samples: n,
            series_created: me.created,
        })
    }

    fn rollback(self: Box<Self>) {}
}
