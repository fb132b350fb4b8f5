//! PromQL evaluation over Sightline's storage traits.
//!
//! - [`Engine`] with [`EngineOptions`] runs [`Engine::instant_query`] and
//!   [`Engine::range_query`] over any [`sightline_core::MetricQuerier`] and
//!   returns a [`QueryResult`]: a [`Value`] plus Prometheus's warning and info
//!   annotations.
//! - [`Error`] says why a query failed; [`Error::kind`] maps it to
//!   [`sightline_core::ErrorKind`] for HTTP statuses.
//! - [`promqltest`] runs Prometheus's `.test` files against a
//!   [`sightline_core::MemStore`].
//!
//! Parsing is the `promql-parser` crate's; evaluation is ours and follows
//! Prometheus 3.x (left-open range windows, delayed `__name__` removal),
//! on float samples and on native histograms
//! ([`sightline_core::FloatHistogram`]): a cell of an instant vector holds
//! a float or a histogram, and the histogram side of every function and
//! operator lives in the `hist_*` modules, so float-only series never pay
//! for it.
//!
//! How it evaluates: every expression is computed once for all steps of a
//! query. An instant vector is a list of series, each with its labels
//! (computed once) and a dense value per step; a selector reads each series
//! once over the whole query range and walks the steps with a cursor, and
//! range functions slide `(t - range, t]` windows over one series at a time.
//! Operators and aggregations work series by series where the match groups
//! allow it, step by step where cardinality has to be checked per step.
//!
//! ```
//! use sightline_core::{Labels, MemStore};
//! use sightline_promql::{Engine, EngineOptions, Value};
//!
//! let store = MemStore::new();
//! store.add(Labels::from_pairs([("__name__", "up"), ("job", "a")]), 0, 1.0);
//! let engine = Engine::new(EngineOptions::default());
//! let res = engine.instant_query(&store, "sum(up)", 60_000).unwrap();
//! let Value::Vector(v) = res.value else { panic!() };
//! assert_eq!(v[0].v, 1.0);
//! ```

mod aggregations;
mod binary;
mod engine;
mod error;
mod eval;
mod functions;
mod hist_aggregations;
mod hist_binary;
mod hist_functions;
mod hist_range;
mod info;
mod parse_error;
pub mod promqltest;
mod range_functions;
mod topk;
mod value;

pub use engine::{parse, Engine, EngineOptions};
pub use error::{Error, Result};
/// The matchers of a vector selector, one list per `or` alternative, for
/// callers that select series outside an evaluation (`/query_exemplars`).
pub use eval::selector_matchers;
pub use value::{InstantSample, QueryResult, RangeSeries, Value};
