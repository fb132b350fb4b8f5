//! The storage seams: how ingest writes samples and how engines read them.
//!
//! These traits carry no chunk, block or WAL types, so a second backend (a
//! remote store, say) can sit behind the same engines and APIs.
//!
//! Reads take a [`QueryContext`] (deadline, cancellation, limits on what
//! is read, counters of what was) and return streams ([`SeriesSet`]); the
//! contract is on [`MetricQuerier`]. The context is not about metrics: the
//! log and trace stores' traits take the same one.

use crate::{
    Error, ErrorKind, Exemplar, FloatHistogram, HistogramSample, Labels, Matcher, Result, Sample,
};

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An opaque handle a store returns for a series so that callers (the scrape
/// loop's cache, say) can append again without hashing labels. `0` means
/// "unknown": the store looks the series up by its labels.
pub type SeriesRef = u64;

/// A source of appenders. One appender is one transaction.
pub trait MetricAppender: Send + Sync {
    /// Starts a new transaction.
    fn appender(&self) -> Box<dyn Appender>;
}

/// One write transaction: samples become visible, and durable in the WAL,
/// together on [`Appender::commit`], or not at all on [`Appender::rollback`]
/// (or drop).
pub trait Appender: Send {
    /// Adds a sample. `series_ref` is a hint from an earlier call for the same
    /// labels, or 0. A caller holding a handle may pass empty `labels`; if
    /// the store no longer knows the handle it then fails with
    /// [`crate::ErrorKind::NotFound`] and the caller appends by labels
    /// again. Fails per sample with [`crate::ErrorKind::OutOfOrder`],
    /// [`crate::ErrorKind::OutOfBounds`] or [`crate::ErrorKind::DuplicateSample`];
    /// such a failure leaves the rest of the transaction usable.
    fn append(
        &mut self,
        series_ref: SeriesRef,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<SeriesRef>;

    /// Adds a native histogram sample, with the same `series_ref` and
    /// failure contract as [`Appender::append`]. A series may hold float
    /// samples and histogram samples at different timestamps. Stores
    /// without native histogram support refuse with
    /// [`crate::ErrorKind::BadData`], so nothing is silently lost.
    fn append_histogram(
        &mut self,
        _series_ref: SeriesRef,
        _labels: &Labels,
        _t: i64,
        _h: &FloatHistogram,
    ) -> Result<SeriesRef> {
        Err(Error::new(
            ErrorKind::BadData,
            "native histograms are not supported by this store",
        ))
    }

    /// Attaches an exemplar to a series (by the handle an `append` returned,
    /// or by labels), stored on [`Appender::commit`]. An exemplar without a
    /// timestamp takes the caller's sample time. Stores without exemplar
    /// support, or with it turned off, accept and drop them; one equal to
    /// the series' newest is accepted and dropped; an older one fails with
    /// [`crate::ErrorKind::OutOfOrder`] and labels longer than
    /// [`crate::EXEMPLAR_MAX_LABEL_RUNES`] with [`crate::ErrorKind::BadData`].
    fn append_exemplar(
        &mut self,
        _series_ref: SeriesRef,
        _labels: &Labels,
        _exemplar: &Exemplar,
    ) -> Result<()> {
        Ok(())
    }

    /// Makes the transaction's samples durable and visible. Returns what was
    /// written.
    fn commit(self: Box<Self>) -> Result<AppendStats>;

    /// Discards the transaction.
    fn rollback(self: Box<Self>);
}

/// What a committed transaction wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// Samples written.
    pub samples: u64,
    /// Series created by this transaction.
    pub series_created: u64,
}

/// An iterator over one series' samples in time order.
pub type SampleIter = Box<dyn Iterator<Item = Sample> + Send>;

/// An iterator over one series' native histogram samples in time order.
pub type HistogramIter = Box<dyn Iterator<Item = HistogramSample> + Send>;

/// One series selected by a query: its labels and its samples, decoded lazily.
pub struct Series {
    /// The series' labels.
    pub labels: Labels,
    /// Float samples with `mint <= t <= maxt`, in time order, staleness markers included.
    pub samples: SampleIter,
    /// Native histogram samples in the same range, in time order, or `None`
    /// when the series has none there (the common case, which costs
    /// nothing). A timestamp holds a float or a histogram, never both, so
    /// a reader that wants every sample merges the two by time.
    pub histograms: Option<HistogramIter>,
}

impl std::fmt::Debug for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Series")
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// The exemplars of one series, oldest first (`timestamp` always set).
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesExemplars {
    /// The series' labels.
    pub series_labels: Labels,
    /// Its exemplars in the queried range.
    pub exemplars: Vec<Exemplar>,
}

/// Read access to stored metrics. Time bounds are inclusive milliseconds.
///
/// # Contract
///
/// Every method takes the caller's [`QueryContext`] (deadline,
/// cancellation, limits on samples and bytes read) and honours it: a store
/// checks it before producing each series and charges every chunk it
/// decodes, so a query over a million series stops within one chunk of its
/// deadline instead of after reading them all.
///
/// Reads stream. [`MetricQuerier::select`] returns a [`SeriesSet`] that
/// produces series one by one, in label order, as the store walks its
/// index: a consumer that stops early reads no more than it used, and a
/// store behind a network can send the set in pages. Samples inside a
/// [`Series`] are iterators too, decoded chunk by chunk. A sample iterator
/// cannot carry an error (it yields plain [`Sample`]s, which keeps the hot
/// decode loop free of `Result`s), so when the context stops it mid-series
/// it ends early and records why in the context: the next item of the set
/// is that error, and a consumer that has drained a series' samples calls
/// [`QueryContext::check`] to learn whether they were complete.
pub trait MetricQuerier: Send + Sync {
    /// The series matching every matcher that have at least one sample in
    /// `[mint, maxt]`, sorted by labels, with their samples in that range.
    fn select(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<SeriesSet>;

    /// The label sets of matching series, sorted, without reading samples,
    /// as a stream like [`MetricQuerier::select`]'s.
    fn series(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<LabelsSet> {
        let set = self.select(ctx, mint, maxt, matchers)?;
        Ok(Box::new(set.map(|s| s.map(|s| s.labels))))
    }

    /// Sorted, unique label names of series matching `matchers` (all series
    /// when empty) in the time range.
    ///
    /// A sorted `Vec` rather than a stream: the answer is a deduplicated
    /// set, so a store must see every name before it can hand out the
    /// first in order (the union over the head and blocks), and it is
    /// small (names, not series). The context still bounds the walk.
    fn label_names(
        &self,
        ctx: &QueryContext,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>>;

    /// Sorted, unique values of label `name` among series matching
    /// `matchers`; a `Vec` for the reason [`MetricQuerier::label_names`]
    /// gives.
    fn label_values(
        &self,
        ctx: &QueryContext,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>>;

    /// Exemplars with `mint <= t <= maxt` of the series matching any one of
    /// the matcher sets, grouped by series and sorted by series labels.
    /// Stores without exemplars have none. A `Vec`: exemplars are kept in
    /// a small bounded buffer, never decoded from chunks.
    fn select_exemplars(
        &self,
        _ctx: &QueryContext,
        _mint: i64,
        _maxt: i64,
        _selectors: &[Vec<Matcher>],
    ) -> Result<Vec<SeriesExemplars>> {
        Ok(Vec::new())
    }
}

/// A stream of label sets in label order, from [`MetricQuerier::series`].
pub type LabelsSet = Box<dyn Iterator<Item = Result<Labels>> + Send>;

/// The series a [`MetricQuerier::select`] found, produced one at a time in
/// label order. Each item is a series or the error that ended the stream
/// (after an error the set yields nothing more). Wrapping a store's
/// iterator with [`SeriesSet::new`] also checks the context before each
/// series, so every store gets the between-series check the same way.
pub struct SeriesSet {
    inner: Box<dyn Iterator<Item = Result<Series>> + Send>,
    ctx: QueryContext,
    done: bool,
    produced: u32,
}

/// How many series may pass between two looks at the clock (the flags are
/// looked at before every series).
const DEADLINE_EVERY_SERIES: u32 = 64;

impl SeriesSet {
    /// A set reading `inner`, checking `ctx` before each series.
    pub fn new(
        ctx: &QueryContext,
        inner: impl Iterator<Item = Result<Series>> + Send + 'static,
    ) -> Self {
        SeriesSet {
            inner: Box::new(inner),
            ctx: ctx.clone(),
            done: false,
            produced: 0,
        }
    }

    /// A set with no series.
    pub fn empty() -> Self {
        SeriesSet {
            inner: Box::new(std::iter::empty()),
            ctx: QueryContext::default(),
            done: true,
            produced: 0,
        }
    }

    /// Reads the whole set (samples stay lazy) or returns its first error.
    /// For callers that need every series at once anyway (an evaluator
    /// joining selectors, tests).
    pub fn into_vec(self) -> Result<Vec<Series>> {
        self.collect()
    }
}

impl Iterator for SeriesSet {
    type Item = Result<Series>;

    fn next(&mut self) -> Option<Result<Series>> {
        if self.done {
            return None;
        }
        let checked = if self.produced.is_multiple_of(DEADLINE_EVERY_SERIES) {
            self.ctx.check()
        } else {
            self.ctx.check_stopped()
        };
        if let Err(e) = checked {
            self.done = true;
            return Some(Err(e));
        }
        self.produced = self.produced.wrapping_add(1);
        let item = self.inner.next();
        match &item {
            Some(Ok(_)) => {}
            Some(Err(_)) => self.done = true,
            None => {
                self.done = true;
                // A store whose iterators stopped early for the context
                // (the last series' samples cut short, or the rest of the
                // series skipped) ends the set with the reason.
                return self.ctx.check_stopped().err().map(Err);
            }
        }
        item
    }
}

impl std::fmt::Debug for SeriesSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeriesSet").finish_non_exhaustive()
    }
}

/// Limits on what one query may read from a store; `0` means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most samples (float or histogram) the query may decode.
    pub max_samples: u64,
    /// Most encoded bytes (chunks) the query may read.
    pub max_bytes: u64,
}

/// What one query may spend, shared by everything that works for it: the
/// engine, the store, and (for a remote store) the other end.
///
/// Built by the caller that owns the query (an HTTP handler, a rule
/// group), then passed by reference; clones share the cancellation flag
/// and the read counters, so a store's iterators can hold one. The same
/// type serves every signal: a metric, log or trace store checks it the
/// same way ([`QueryContext::check`] between items, [`QueryContext::charge`]
/// as it decodes).
///
/// Once a check fails the context remembers why, so every later check
/// (from any clone) fails with the same error: an iterator that had to stop
/// early cannot return an error itself, and this is how its consumer
/// learns the reason.
#[derive(Debug, Clone, Default)]
pub struct QueryContext {
    deadline: Option<Instant>,
    cancel: Arc<AtomicBool>,
    limits: QueryLimits,
    state: Arc<ReadState>,
}

#[derive(Debug, Default)]
struct ReadState {
    samples: AtomicU64,
    bytes: AtomicU64,
    /// One of the `STOP_*` reasons; the first recorded wins.
    stop: AtomicU8,
}

const RUNNING: u8 = 0;
const STOP_TIMEOUT: u8 = 1;
const STOP_CANCELED: u8 = 2;
const STOP_SAMPLES: u8 = 3;
const STOP_BYTES: u8 = 4;

/// How many samples may be charged between two looks at the clock:
/// reading the clock costs about as much as decoding a few samples, and a
/// deadline needs no better than this.
const DEADLINE_EVERY_SAMPLES: u64 = 4096;

/// Where Prometheus's messages say a query stopped; kept so the texts read
/// as the PromQL engine's always have.
const STAGE: &str = "query execution";

impl QueryContext {
    /// A context without deadline or limits, not canceled.
    pub fn new() -> Self {
        QueryContext::default()
    }

    /// Stops the query at `deadline`.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Stops the query `timeout` from now.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        self.with_deadline(Instant::now() + timeout)
    }

    /// Shares the caller's cancellation flag: raising it (from any thread)
    /// stops the query at its next check.
    pub fn with_cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = flag;
        self
    }

    /// Limits what the query may read.
    pub fn with_limits(mut self, limits: QueryLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The read limits.
    pub fn limits(&self) -> QueryLimits {
        self.limits
    }

    /// Cancels the query (and every other holding the same flag).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Samples charged so far.
    pub fn samples_read(&self) -> u64 {
        self.state.samples.load(Ordering::Relaxed)
    }

    /// Encoded bytes charged so far.
    pub fn bytes_read(&self) -> u64 {
        self.state.bytes.load(Ordering::Relaxed)
    }

    /// `Ok` while the query may go on; otherwise the reason it must stop
    /// (deadline, cancellation, or a limit an earlier
    /// [`QueryContext::charge`] hit), with Prometheus's texts.
    pub fn check(&self) -> Result<()> {
        self.check_stopped()?;
        self.check_deadline()
    }

    /// The cheap part of [`QueryContext::check`]: a recorded stop and the
    /// cancellation flag, without reading the clock. For loops too tight
    /// to read the clock every time round.
    pub fn check_stopped(&self) -> Result<()> {
        let stop = self.state.stop.load(Ordering::Relaxed);
        if stop != RUNNING {
            return Err(stop_error(stop));
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(self.stop(STOP_CANCELED));
        }
        Ok(())
    }

    fn check_deadline(&self) -> Result<()> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(self.stop(STOP_TIMEOUT)),
            _ => Ok(()),
        }
    }

    /// Records `samples` decoded from `bytes` encoded bytes. `false` means
    /// stop reading: a limit was passed, the query was canceled or its
    /// deadline passed; the reason is recorded for the next
    /// [`QueryContext::check`]. Stores call it once per decoded chunk.
    #[inline]
    pub fn charge(&self, samples: u64, bytes: u64) -> bool {
        let st = &self.state;
        let before = st.samples.fetch_add(samples, Ordering::Relaxed);
        let total = before + samples;
        let b = st.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if self.limits.max_samples > 0 && total > self.limits.max_samples {
            self.stop(STOP_SAMPLES);
            return false;
        }
        if self.limits.max_bytes > 0 && b > self.limits.max_bytes {
            self.stop(STOP_BYTES);
            return false;
        }
        if self.check_stopped().is_err() {
            return false;
        }
        let crossed = before / DEADLINE_EVERY_SAMPLES != total / DEADLINE_EVERY_SAMPLES;
        !(crossed && self.check_deadline().is_err())
    }

    /// Records `reason` unless another was recorded first, and returns the
    /// error of whichever reason stands.
    fn stop(&self, reason: u8) -> Error {
        let stood = match self.state.stop.compare_exchange(
            RUNNING,
            reason,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => reason,
            Err(earlier) => earlier,
        };
        stop_error(stood)
    }
}

fn stop_error(reason: u8) -> Error {
    match reason {
        STOP_TIMEOUT => Error::new(ErrorKind::Timeout, format!("query timed out in {STAGE}")),
        STOP_CANCELED => Error::new(
            ErrorKind::Canceled,
            format!("query was canceled in {STAGE}"),
        ),
        STOP_SAMPLES => Error::new(
            ErrorKind::LimitExceeded,
            format!("query processing would load too many samples into memory in {STAGE}"),
        ),
        _ => Error::new(
            ErrorKind::LimitExceeded,
            format!("query processing would load too many bytes into memory in {STAGE}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_is_a_timeout_with_prometheus_text() {
        let ctx = QueryContext::new().with_deadline(Instant::now());
        let e = ctx.check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.to_string(), "query timed out in query execution");
    }

    #[test]
    fn cancel_is_seen_by_clones_and_remembered() {
        let ctx = QueryContext::new();
        let held = ctx.clone();
        assert!(held.check().is_ok());
        ctx.cancel();
        let e = held.check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Canceled);
        assert_eq!(e.to_string(), "query was canceled in query execution");
        assert!(!held.charge(1, 1));
    }

    #[test]
    fn limits_trip_as_charged_and_the_first_reason_stays() {
        let ctx = QueryContext::new().with_limits(QueryLimits {
            max_samples: 10,
            max_bytes: 0,
        });
        assert!(ctx.charge(10, 100));
        assert!(ctx.check().is_ok());
        assert!(!ctx.charge(1, 1));
        ctx.cancel();
        let e = ctx.check().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        assert_eq!(
            e.to_string(),
            "query processing would load too many samples into memory in query execution"
        );
        assert_eq!((ctx.samples_read(), ctx.bytes_read()), (11, 101));
        let bytes = QueryContext::new().with_limits(QueryLimits {
            max_samples: 0,
            max_bytes: 5,
        });
        assert!(!bytes.charge(1, 6));
        assert!(bytes
            .check()
            .unwrap_err()
            .to_string()
            .contains("too many bytes"));
    }

    #[test]
    fn a_series_set_stops_at_the_context() {
        let ctx = QueryContext::new();
        let one = || {
            Ok(Series {
                labels: Labels::from_pairs([("a", "b")]),
                samples: Box::new(std::iter::empty()),
                histograms: None,
            })
        };
        let mut set = SeriesSet::new(&ctx, std::iter::repeat_with(one));
        assert!(set.next().unwrap().is_ok());
        ctx.cancel();
        assert_eq!(set.next().unwrap().unwrap_err().kind(), ErrorKind::Canceled);
        assert!(set.next().is_none(), "nothing after the error");
    }
}
