//! Prometheus text format 0.0.4 and OpenMetrics 1.0 parsing.
//!
//! [`Parser`] is a pull parser: the scrape loop calls [`Parser::next_entry`]
//! and gets one [`Entry`] per line. A sample hands out the raw bytes of its
//! series (`name{labels}` exactly as in the body) so the caller can use them
//! as a cache key, and builds [`Labels`] only on request ([`Parser::labels`]),
//! for series it has not seen before. Nothing is allocated per line except
//! HELP texts and what the caller asks for.
//!
//! Label sets are lexed lazily too. To cut the series text out of a line,
//! [`Parser::next_entry`] only looks for the `}` that ends the label set
//! (skipping quoted values) and checks everything after it; the labels
//! themselves are lexed and validated by [`Parser::labels`], which is where
//! a malformed label set is reported. In steady-state scraping nearly every
//! series text is already in the scrape cache, which holds only texts whose
//! labels were validated when they were first seen, so lexing them again
//! would be wasted: it was a tenth of the scrape path's CPU. A caller that
//! does not call `labels()` for every sample must therefore know the texts
//! it skips to be valid in this format (the label grammar differs between
//! the two), or ask for eager checks with [`Parser::validate_all_labels`].
//!
//! The two formats differ in strictness, and the parser follows each:
//!
//! - Text 0.0.4 ([`text`]) is what Prometheus 2.42's `promparse` accepts:
//!   blanks and tabs between tokens, a trailing comma in label sets, blank
//!   lines and free comments, integer millisecond timestamps, a missing final
//!   newline, unknown escapes kept verbatim, and no checks across lines.
//! - OpenMetrics 1.0 ([`openmetrics`]) is the spec's ABNF: single spaces,
//!   no blank lines or free comments, float second timestamps, exemplars,
//!   `# EOF` required and last, metric families not interleaved, metadata
//!   before samples and at most once per family, sample names that fit the
//!   family's type (`_total`, `_bucket`, ...), and the unit a suffix of the
//!   family name.
//!
//! ```
//! use sightline_ingest::exposition::{Entry, Format, Parser};
//!
//! let body = b"# TYPE http_requests counter\nhttp_requests_total{code=\"200\"} 1027 # {trace_id=\"a1\"} 1 1700000000.5\n# EOF\n";
//! let mut p = Parser::new(body, Format::from_content_type("application/openmetrics-text; version=1.0.0"));
//! while let Some(entry) = p.next_entry()? {
//!     if let Entry::Sample { series, timestamp, value } = entry {
//!         assert_eq!(series, b"http_requests_total{code=\"200\"}"); // cache key
//!         assert_eq!((timestamp, value), (None, 1027.0));
//!         assert_eq!(p.labels()?.to_string(), r#"http_requests_total{code="200"}"#);
//!         assert_eq!(p.exemplar().unwrap().timestamp, Some(1_700_000_000_500));
//!     }
//! }
//! # Ok::<(), sightline_ingest::Error>(())
//! ```
//!
//! Both formats store what Prometheus 2.42 stores: every line is a sample of
//! its own series, so an OpenMetrics `foo_created` line is a normal series
//! (2.42 has no created-timestamp handling). [`Parser::created_timestamp`]
//! also exposes its value as milliseconds for callers that want it.

mod lex;
mod metadata;
mod openmetrics;
pub mod protobuf;
mod text;

#[cfg(test)]
mod om_tests;
#[cfg(test)]
mod text_tests;

use crate::Error;
use sightline_core::{Exemplar, Label, Labels, METRIC_NAME};

use lex::{unescape, LabelSpan};
pub use metadata::{FamilyMetadata, MetadataCollector};

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
    ///
    /// Prometheus 2.42 (`textparse.New`) parses the header with Go's
    /// `mime.ParseMediaType` and looks only at the media type:
    /// `application/openmetrics-text` (any case, any parameters, so any
    /// version) selects OpenMetrics. Anything else falls back to the text
    /// format, and so does a header that does not parse, such as a
    /// parameter without `=`.
    pub fn from_content_type(content_type: &str) -> Format {
        let mut parts = content_type.split(';');
        let media = parts.next().unwrap_or("").trim();
        let params_ok = parts.all(|p| {
            let p = p.trim();
            // Go tolerates empty parameters (a trailing `;`), not bare words.
            p.is_empty() || p.split_once('=').is_some_and(|(k, _)| !k.trim().is_empty())
        });
        if params_ok && media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
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

impl MetricType {
    /// The type's name as OpenMetrics spells it (`unknown` for untyped).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
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

/// An exemplar as byte ranges of the body, turned into an [`Exemplar`] only
/// when asked for.
#[derive(Debug, Clone, Default)]
struct ExemplarSpans {
    labels: Vec<LabelSpan>,
    value: f64,
    timestamp: Option<i64>,
}

/// A pull parser over one exposition body.
pub struct Parser<'a> {
    body: &'a [u8],
    format: Format,
    /// Offset of the next unread byte.
    pos: usize,
    /// 1-based number of the line starting at `pos`.
    next_line: usize,
    /// 1-based number of the line of the last entry returned.
    line: usize,
    /// Set at the end, after `# EOF` or after an error: later calls return `Ok(None)`.
    done: bool,
    /// Whether label values need their own UTF-8 check: false when the
    /// whole body is valid UTF-8, which one fast pass up front tells.
    check_utf8: bool,
    /// The last sample's metric name as a byte range of `body`.
    name: (usize, usize),
    /// The last sample's labels, once lexed; reused from line to line.
    labels: Vec<LabelSpan>,
    /// The last sample's label set: from after its `{` to the end of the
    /// line (the lexer's error messages look past the `}`).
    label_set: (usize, usize),
    /// Whether the last sample's label set still has to be lexed.
    labels_pending: bool,
    /// Lex every label set in [`Parser::next_entry`] instead of on demand.
    validate_all_labels: bool,
    /// The last sample's exemplar, when `has_exemplar`.
    exemplar: ExemplarSpans,
    has_exemplar: bool,
    /// Value of the last sample in ms when it is an OpenMetrics `_created` line.
    created: Option<i64>,
    om: openmetrics::State,
}

impl<'a> Parser<'a> {
    /// A parser for `body` in `format`.
    pub fn new(body: &'a [u8], format: Format) -> Self {
        Parser {
            body,
            format,
            pos: 0,
            next_line: 1,
            line: 0,
            done: false,
            check_utf8: !body.is_ascii() && std::str::from_utf8(body).is_err(),
            name: (0, 0),
            labels: Vec::with_capacity(16),
            label_set: (0, 0),
            labels_pending: false,
            validate_all_labels: false,
            exemplar: ExemplarSpans::default(),
            has_exemplar: false,
            created: None,
            om: openmetrics::State::default(),
        }
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// When `yes`, [`Parser::next_entry`] lexes and validates every label
    /// set itself, as if the caller called [`Parser::labels`] for every
    /// sample. A caller that skips `labels()` for series texts it validated
    /// before needs this when they were validated in the other format:
    /// text 0.0.4 accepts label sets OpenMetrics refuses.
    pub fn validate_all_labels(&mut self, yes: bool) {
        self.validate_all_labels = yes;
    }

    /// The next entry, `Ok(None)` at the end (after `# EOF` for OpenMetrics,
    /// which is required there), or an error naming the line and the reason.
    /// After an error the parser is finished and returns `Ok(None)`.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'a>>, Error> {
        if self.done {
            return Ok(None);
        }
        let r = match self.format {
            Format::PrometheusText => self.next_text(),
            Format::OpenMetrics => self.next_openmetrics(),
        };
        match r {
            Ok(Some(e)) => Ok(Some(e)),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(message) => {
                self.done = true;
                Err(Error::Parse {
                    line: self.line,
                    message,
                })
            }
        }
    }

    /// Cuts the next line off the body: returns its byte range without the
    /// `\n`, and sets [`Parser::line`] to its number.
    fn take_line(&mut self) -> Option<(usize, usize)> {
        if self.pos >= self.body.len() {
            return None;
        }
        let start = self.pos;
        let end = match memchr::memchr(b'\n', &self.body[start..]) {
            Some(n) => {
                self.pos = start + n + 1;
                start + n
            }
            None => {
                self.pos = self.body.len();
                self.body.len()
            }
        };
        self.line = self.next_line;
        self.next_line += 1;
        Some((start, end))
    }

    /// Cuts the label set of a sample out of its line, the cursor just past
    /// the `{`, and leaves the cursor after the `}`. The labels are lexed
    /// now only when every label set is to be validated, or when the quick
    /// scan finds no end: then the lexer says what is wrong, as it would
    /// have anyway.
    fn take_label_set(&mut self, c: &mut lex::Cur<'a>) -> Result<(), String> {
        self.label_set = (c.pos, c.end);
        if !self.validate_all_labels {
            if let Some(end) = lex::label_set_end(c.b, c.pos, c.end) {
                c.pos = end;
                self.labels_pending = true;
                return Ok(());
            }
        }
        self.lex_labels(c)
    }

    /// Lexes the last sample's label set from the cursor into `labels`.
    fn lex_labels(&mut self, c: &mut lex::Cur<'a>) -> Result<(), String> {
        self.labels.clear();
        match self.format {
            Format::PrometheusText => text::text_labels(c, &mut self.labels, self.check_utf8),
            Format::OpenMetrics => {
                openmetrics::om_labels(c, &mut self.labels, self.check_utf8, true)
            }
        }
    }

    /// The labels (with `__name__`) of the last [`Entry::Sample`].
    /// Labels with empty values are left out: Prometheus treats an empty
    /// value as an absent label.
    ///
    /// This is where the label set is lexed and validated (see the module
    /// docs), so a malformed one is an error naming the line, after which
    /// the parser is finished like after any error of
    /// [`Parser::next_entry`].
    pub fn labels(&mut self) -> Result<Labels, Error> {
        if self.labels_pending {
            let mut c = lex::Cur::new(self.body, self.label_set.0, self.label_set.1);
            if let Err(message) = self.lex_labels(&mut c) {
                // Still pending: asking again gives the same error, never
                // the labels lexed up to it.
                self.done = true;
                return Err(Error::Parse {
                    line: self.line,
                    message,
                });
            }
            self.labels_pending = false;
        }
        let mut v = Vec::with_capacity(self.labels.len() + 1);
        let name = self.metric_name();
        if !name.is_empty() {
            v.push(Label::new(METRIC_NAME, name));
        }
        for l in &self.labels {
            if l.value.0 == l.value.1 {
                continue;
            }
            let value = self.label_value(l);
            v.push(Label::new(
                lex::ascii(&self.body[l.name.0..l.name.1]),
                value,
            ));
        }
        v.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(Labels::from_sorted(v))
    }

    fn label_value(&self, l: &LabelSpan) -> String {
        let raw = &self.body[l.value.0..l.value.1];
        if l.escaped {
            unescape(raw, true)
        } else {
            // Validated as UTF-8 while parsing.
            String::from_utf8_lossy(raw).into_owned()
        }
    }

    /// The metric name of the last [`Entry::Sample`].
    pub fn metric_name(&self) -> &'a str {
        lex::ascii(&self.body[self.name.0..self.name.1])
    }

    /// The exemplar attached to the last sample, if any (OpenMetrics).
    pub fn exemplar(&self) -> Option<Exemplar> {
        if !self.has_exemplar {
            return None;
        }
        let pairs = self.exemplar.labels.iter().map(|l| {
            (
                lex::ascii(&self.body[l.name.0..l.name.1]).to_owned(),
                self.label_value(l),
            )
        });
        Some(Exemplar {
            labels: Labels::from_pairs(pairs),
            value: self.exemplar.value,
            timestamp: self.exemplar.timestamp,
        })
    }

    /// When the last sample is the `_created` line of an OpenMetrics counter,
    /// histogram or summary, its value (seconds since the epoch) converted to
    /// milliseconds. The sample itself is still returned as a normal series,
    /// as Prometheus 2.42 stores it.
    pub fn created_timestamp(&self) -> Option<i64> {
        self.created
    }

    /// The 1-based line number of the last entry returned.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Records the last sample's name and clears per-sample state.
    fn begin_sample(&mut self, name: (usize, usize)) {
        self.name = name;
        self.labels.clear();
        self.labels_pending = false;
        self.has_exemplar = false;
        self.created = None;
    }
}

/// One sample of [`parse_all`]: labels, explicit timestamp (ms) and value.
pub type ParsedSample = (Labels, Option<i64>, f64);

/// Parses a whole body into its samples, for imports and tests. The scrape
/// loop should use [`Parser`] directly, which does not build labels for
/// series it already knows.
pub fn parse_all(body: &[u8], format: Format) -> Result<Vec<ParsedSample>, Error> {
    let mut p = Parser::new(body, format);
    let mut out = Vec::new();
    while let Some(e) = p.next_entry()? {
        if let Entry::Sample {
            timestamp, value, ..
        } = e
        {
            out.push((p.labels()?, timestamp, value));
        }
    }
    Ok(out)
}
