//! Sightline's shared vocabulary.
//!
//! Every other crate speaks in these types, so they stay small and free of any
//! storage engine's internals:
//!
//! - [`Labels`] / [`Label`]: a sorted label set identifying a series.
//! - [`Matcher`] / [`MatchOp`]: PromQL-style label matchers (`=`, `!=`, `=~`, `!~`).
//! - [`Sample`], [`FamilySample`] (a labelled value of an exposition), [`Exemplar`], and the staleness marker ([`STALE_NAN`], [`is_stale_nan`]).
//! - The storage seams: [`MetricAppender`] / [`Appender`] for writing samples and
//!   [`MetricQuerier`] for reading them back as streams ([`SeriesSet`]) under a
//!   [`QueryContext`] (deadline, cancellation, read limits). The TSDB implements both; the
//!   in-memory [`MemStore`] does too, for tests of the query engines.
//! - [`Error`] with [`ErrorKind`], which maps onto HTTP statuses and Prometheus's
//!   `errorType` strings.
//!
//! - [`bytesize`]: byte sizes (`512MB`, `1GiB`) as Go's `units.Base2Bytes` reads them.
//! - [`duration`]: Prometheus's and Go's duration syntax, and the config [`duration::Duration`].
//! - [`histogram`]: native histograms ([`FloatHistogram`]), the second sample type.
//! - [`gofmt`]: Go's float formatting (`strconv.FormatFloat`), for every output read as Prometheus's.
//! - [`goregex`]: Go (RE2) regexps compiled with Go's meaning and each peer's anchoring.
//! - `lifecycle` (feature `runtime`): how a subsystem starts under the shared
//!   cancellation token and stops, flushing what it holds.
//! - [`telemetry`]: how each subsystem reports its own metrics for `/metrics`.
//! - [`logs`]: the log storage seams ([`logs::LogAppender`], [`logs::LogQuerier`]) and an in-memory log store.
//! - [`traces`]: the span model and the trace storage seams ([`traces::TraceAppender`], [`traces::TraceQuerier`]) with an in-memory trace store.
//! - [`time`]: the clock, millisecond and nanosecond times, and Go's RFC 3339 forms.
//!
//! Time is milliseconds since the Unix epoch in an `i64`, as in Prometheus,
//! except in Alertmanager, which keeps nanoseconds ([`time::UtcTime`]).

pub mod bytesize;
pub mod duration;
mod error;
pub mod gofmt;
pub mod goregex;
pub mod histogram;
mod labels;
#[cfg(feature = "runtime")]
pub mod lifecycle;
pub mod logs;
mod matcher;
pub mod memory;
mod memstore;
mod sample;
mod storage;
pub mod telemetry;
pub mod time;
pub mod traces;

pub use error::{Error, ErrorKind, Result};
pub use histogram::{FloatHistogram, HistogramSample};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{matches_all, MatchOp, Matcher};
pub use memstore::MemStore;
pub use sample::{
    is_stale_nan, Exemplar, FamilySample, Sample, EXEMPLAR_MAX_LABEL_RUNES, STALE_NAN,
    STALE_NAN_BITS,
};
pub use storage::{
    AppendStats, Appender, HistogramIter, LabelsSet, MetricAppender, MetricQuerier, QueryContext,
    QueryLimits, SampleIter, Series, SeriesExemplars, SeriesRef, SeriesSet,
};
