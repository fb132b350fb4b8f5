//! Prometheus text format 0.0.4 and OpenMetrics 1.0 parsing.
//!
//! API CONTRACT (being implemented; signatures are fixed, bodies are not yet):
//! the scrape loop reads entries one by one and uses the raw series bytes as
//! a cache key, building [`Labels`] only for series it has not seen.

use crate::Error;
use sightline_core::{Exemplar, Labels};

/// Which exposition format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`
    PrometheusText,
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
}

impl Format {
    /// Picks the parser for a response's `Content-Type` (text when unknown,
    /// as Prometheus does).
    pub fn from_content_type(_content_type: &str) -> Format {
        unimplemented!("exposition::Format::from_content_type")
    }
}

/// The `Accept` header Prometheus sends when scraping (OpenMetrics preferred).
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The metric type from `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// counter
    Counter,
    /// gauge
    Gauge,
    /// histogram
    Histogram,
    /// gaugehistogram (OpenMetrics)
    GaugeHistogram,
    /// summary
    Summary,
    /// info (OpenMetrics)
    Info,
    /// stateset (OpenMetrics)
    StateSet,
    /// untyped / unknown
    Unknown,
}

/// One parsed line (or logical entry).
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// A sample. `series` is the raw text of the metric name and label set
    /// exactly as in the body (e.g. `http_requests_total{code="200"}`), a
    /// cheap cache key; call [`Parser::labels`] for the parsed labels.
    Sample {
        /// Raw series text.
        series: &'a [u8],
        /// Explicit timestamp in milliseconds, if the line had one.
        timestamp: Option<i64>,
        /// The value.
        value: f64,
    },
    /// `# TYPE name type`
    Type {
        /// Metric family name.
        name: &'a str,
        /// The declared type.
        kind: MetricType,
    },
    /// `# HELP name text` (unescaped)
    Help {
        /// Metric family name.
        name: &'a str,
        /// The help text.
        text: String,
    },
    /// `# UNIT name unit` (OpenMetrics)
    Unit {
        /// Metric family name.
        name: &'a str,
        /// The unit.
        unit: &'a str,
    },
    /// Any other comment line.
    Comment,
}

/// A pull parser over one exposition body.
pub struct Parser<'a> {
    _body: &'a [u8],
    _format: Format,
}

impl<'a> Parser<'a> {
    /// A parser for `body` in `format`.
    pub fn new(body: &'a [u8], format: Format) -> Self {
        Parser {
            _body: body,
            _format: format,
        }
    }

    /// The next entry, `Ok(None)` at the end (after `# EOF` for OpenMetrics,
    /// which is required there), or an error naming the line and the reason.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, Error> {
        unimplemented!("exposition::Parser::next_entry")
    }

    /// The labels (with `__name__`) of the last [`Entry::Sample`].
    pub fn labels(&self) -> Labels {
        unimplemented!("exposition::Parser::labels")
    }

    /// The exemplar attached to the last sample, if any (OpenMetrics).
    pub fn exemplar(&self) -> Option<Exemplar> {
        None
    }

    /// The 1-based line number of the last entry returned.
    pub fn line(&self) -> usize {
        0
    }
}
