//! The storage seams: how ingest writes samples and how engines read them.
//!
//! These traits carry no chunk, block or WAL types, so a second backend (a
//! remote store, say) can sit behind the same engines and APIs.

use crate::{
    Error, ErrorKind, Exemplar, FloatHistogram, HistogramSample, Labels, Matcher, Result, Sample,
};

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
pub trait MetricQuerier: Send + Sync {
    /// The series matching every matcher that have at least one sample in
    /// `[mint, maxt]`, sorted by labels, with their samples in that range.
    fn select(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Result<Vec<Series>>;

    /// The label sets of matching series, sorted, without reading samples.
    fn series(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Result<Vec<Labels>> {
        Ok(self
            .select(mint, maxt, matchers)?
            .into_iter()
            .map(|s| s.labels)
            .collect())
    }

    /// Sorted, unique label names of series matching `matchers` (all series
    /// when empty) in the time range.
    fn label_names(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// Sorted, unique values of label `name` among series matching `matchers`.
    fn label_values(
        &self,
        name: &str,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
    ) -> Result<Vec<String>>;

    /// Exemplars with `mint <= t <= maxt` of the series matching any one of
    /// the matcher sets, grouped by series and sorted by series labels.
    /// Stores without exemplars have none.
    fn select_exemplars(
        &self,
        _mint: i64,
        _maxt: i64,
        _selectors: &[Vec<Matcher>],
    ) -> Result<Vec<SeriesExemplars>> {
        Ok(Vec::new())
    }
}
