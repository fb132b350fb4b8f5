//! Runs a log pipeline over lines: each stage of the syntax tree compiled
//! once (finders, regexes, templates), then applied to every line of a
//! stream with its labels. A stage that fails on a line (a JSON parser on a
//! line that is not JSON, a number filter on a label that is not a number)
//! does what Loki does: it sets the `__error__` label (and
//! `__error_details__`) and lets the line through, so `| __error__=""`
//! drops such lines and a query without it can show them.

mod ip;
mod json_scan;
mod json_select;
mod labels;
mod line;
mod parse;
mod template;

use crate::ast::{Conversion, LabelFmt, LabelSel, Stage};
use std::collections::BTreeMap;

pub use line::LineMatcher;

/// The labels of one line as the pipeline goes: the stream's, then what
/// parsers add.
pub type LabelSet = BTreeMap<String, String>;

/// The label naming a stage's failure on a line.
pub const ERROR: &str = "__error__";
pub const ERROR_DETAILS: &str = "__error_details__";

/// Loki's `__error__` values.
pub mod errors {
    pub const JSON: &str = "JSONParserErr";
    pub const LOGFMT: &str = "LogfmtParserErr";
    pub const LABEL_FILTER: &str = "LabelFilterErr";
    pub const TEMPLATE: &str = "TemplateFormatErr";
    pub const SAMPLE: &str = "SampleExtractionErr";
}

enum Compiled {
    Line(LineMatcher),
    /// With the labels the query needs, when that is known to be a few.
    Parser(parse::LineParser, Option<std::collections::HashSet<String>>),
    Label(labels::Filter),
    LineFormat(template::LineTemplate),
    LabelFormat(Vec<(String, template::LabelValue)>),
    Drop(Vec<LabelSel>),
    Keep(Vec<LabelSel>),
    Decolorize,
}

/// What an `unwrap` stage takes from each line.
pub struct Unwrapper {
    pub label: String,
    pub conversion: Conversion,
    filters: Vec<labels::Filter>,
}

/// A compiled pipeline.
pub struct Pipeline {
    stages: Vec<Compiled>,
    unwrap: Option<Unwrapper>,
    /// The only labels of a line the stages read and the query keeps, when
    /// known ([`Pipeline::with_needed_labels`]).
    needed: Option<std::collections::HashSet<String>>,
}

/// One line after the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub line: String,
    pub labels: LabelSet,
}

impl Pipeline {
    /// Compiles `stages`; an error names the stage that cannot run.
    pub fn new(stages: &[Stage]) -> Result<Pipeline, String> {
        let mut out = Vec::new();
        let mut unwrap = None;
        for s in stages {
            out.push(match s {
                Stage::Line(f) => Compiled::Line(LineMatcher::new(f)?),
                Stage::Parser(p, _) => Compiled::Parser(parse::LineParser::new(p)?, None),
                Stage::Label(f) => Compiled::Label(labels::Filter::new(f)?),
                Stage::LineFormat(t, _) => Compiled::LineFormat(template::LineTemplate::new(t)?),
                Stage::LabelFormat(fmts, _) => Compiled::LabelFormat(
                    fmts.iter()
                        .map(|f| match f {
                            LabelFmt::Template { dst, template } => {
                                Ok((dst.clone(), template::LabelValue::template(template)?))
                            }
                            LabelFmt::Rename { dst, src } => {
                                Ok((dst.clone(), template::LabelValue::Rename(src.clone())))
                            }
                        })
                        .collect::<Result<_, String>>()?,
                ),
                Stage::Drop(s) => Compiled::Drop(s.clone()),
                Stage::Keep(s) => Compiled::Keep(s.clone()),
                Stage::Decolorize => Compiled::Decolorize,
                Stage::Unwrap(u) => {
                    unwrap = Some(Unwrapper {
                        label: u.label.clone(),
                        conversion: u.conversion,
                        filters: u
                            .filters
                            .iter()
                            .map(labels::Filter::new)
                            .collect::<Result<_, _>>()?,
                    });
                    continue;
                }
            });
        }
        Ok(Pipeline {
            stages: out,
            unwrap,
            needed: None,
        })
    }

    /// Compiles `stages` for a query that keeps only the labels `needed`
    /// of each line (a grouping `by` them): parsers then extract only
    /// those and the labels later stages read. Stages that may read any
    /// label (`line_format`, `label_format`, `drop`, `keep`) make it the
    /// same as [`Pipeline::new`].
    pub fn with_needed_labels(stages: &[Stage], needed: &[String]) -> Result<Pipeline, String> {
        let mut p = Pipeline::new(stages)?;
        let mut keep: std::collections::HashSet<String> = needed.iter().cloned().collect();
        for s in stages {
            match s {
                Stage::Line(_) | Stage::Parser(..) | Stage::Decolorize => {}
                Stage::Label(f) => labels::names(f, &mut keep),
                Stage::Unwrap(u) => {
                    keep.insert(u.label.clone());
                    for f in &u.filters {
                        labels::names(f, &mut keep);
                    }
                }
                Stage::LineFormat(..)
                | Stage::LabelFormat(..)
                | Stage::Drop(_)
                | Stage::Keep(_) => return Ok(p),
            }
        }
        for c in &mut p.stages {
            if let Compiled::Parser(_, k) = c {
                *k = Some(keep.clone());
            }
        }
        p.needed = Some(keep);
        Ok(p)
    }

    /// The labels of `stream` a line's labels may start from when only the
    /// needed ones matter ([`Pipeline::with_needed_labels`]): no stage
    /// reads the others and the query drops them, so they need not be
    /// copied for every line. `None`: all of them.
    pub fn narrow(&self, stream: &LabelSet) -> Option<LabelSet> {
        let needed = self.needed.as_ref()?;
        Some(
            stream
                .iter()
                .filter(|(k, _)| needed.contains(*k) || *k == ERROR || *k == ERROR_DETAILS)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// The leading line filters: what a store can test on raw lines (or
    /// use to skip chunks) before anything else runs.
    pub fn leading_line_filters(&self) -> impl Iterator<Item = &LineMatcher> {
        self.stages.iter().map_while(|s| match s {
            Compiled::Line(m) => Some(m),
            _ => None,
        })
    }

    /// Whether the pipeline only filters lines (no labels change), so a
    /// line's stream labels are its labels.
    pub fn only_line_filters(&self) -> bool {
        self.unwrap.is_none() && self.stages.iter().all(|s| matches!(s, Compiled::Line(_)))
    }

    /// Runs the pipeline on one line of a stream. `None`: filtered out.
    pub fn process(&self, ts_ns: i64, line: &str, stream: &LabelSet) -> Option<Output> {
        self.run(ts_ns, line, stream).map(|(line, labels)| Output {
            line: line.into_owned(),
            labels,
        })
    }

    /// [`Pipeline::process`] without copying a line no stage changed
    /// (metric queries only count or measure it).
    pub fn run<'l>(
        &self,
        ts_ns: i64,
        line: &'l str,
        stream: &LabelSet,
    ) -> Option<(std::borrow::Cow<'l, str>, LabelSet)> {
        self.run_from(ts_ns, line, stream, stream.clone())
    }

    /// [`Pipeline::run`] with the line's labels starting as `labels` (the
    /// stream's, or [`Pipeline::narrow`]'s part of them).
    pub fn run_from<'l>(
        &self,
        ts_ns: i64,
        line: &'l str,
        stream: &LabelSet,
        mut labels: LabelSet,
    ) -> Option<(std::borrow::Cow<'l, str>, LabelSet)> {
        let mut line = std::borrow::Cow::Borrowed(line);
        for s in &self.stages {
            match s {
                Compiled::Line(m) => {
                    if !m.matches(&line) {
                        return None;
                    }
                }
                Compiled::Parser(p, keep) => p.apply(&mut line, &mut labels, stream, keep.as_ref()),
                Compiled::Label(f) => {
                    if !f.keep(&mut labels) {
                        return None;
                    }
                }
                Compiled::LineFormat(t) => {
                    line = std::borrow::Cow::Owned(t.render(&line, ts_ns, &mut labels));
                }
                Compiled::LabelFormat(fmts) => {
                    template::label_format(fmts, &line, ts_ns, &mut labels)
                }
                Compiled::Drop(sel) => labels::drop(sel, &mut labels),
                Compiled::Keep(sel) => labels::keep(sel, &mut labels),
                Compiled::Decolorize => line = std::borrow::Cow::Owned(line::decolorize(&line)),
            }
        }
        Some((line, labels))
    }

    /// Runs the pipeline and takes the unwrapped value: `None` when the
    /// line is filtered out; a value of `None` with `__error__` set when
    /// the label is missing or not a number.
    pub fn sample(
        &self,
        ts_ns: i64,
        line: &str,
        stream: &LabelSet,
    ) -> Option<(Option<f64>, LabelSet)> {
        self.sample_from(ts_ns, line, stream, stream.clone())
    }

    /// [`Pipeline::sample`] with the line's labels starting as `labels`.
    pub fn sample_from(
        &self,
        ts_ns: i64,
        line: &str,
        stream: &LabelSet,
        labels: LabelSet,
    ) -> Option<(Option<f64>, LabelSet)> {
        let (_, labels) = self.run_from(ts_ns, line, stream, labels)?;
        let Some(u) = &self.unwrap else {
            return Some((Some(1.0), labels));
        };
        let mut labels = labels;
        let raw = labels.remove(&u.label);
        let value = match raw.as_deref().map(|v| convert(v, u.conversion)) {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                labels
                    .entry(ERROR.into())
                    .or_insert_with(|| errors::SAMPLE.into());
                labels.entry(ERROR_DETAILS.into()).or_insert(e);
                None
            }
            None => {
                labels
                    .entry(ERROR.into())
                    .or_insert_with(|| errors::SAMPLE.into());
                labels
                    .entry(ERROR_DETAILS.into())
                    .or_insert_with(|| format!("label {:?} not found", u.label));
                None
            }
        };
        for f in &u.filters {
            if !f.keep(&mut labels) {
                return None;
            }
        }
        Some((value, labels))
    }

    pub fn unwrapper(&self) -> Option<&Unwrapper> {
        self.unwrap.as_ref()
    }
}

/// A label's text as the number `unwrap` takes.
pub fn convert(v: &str, c: Conversion) -> Result<f64, String> {
    let v = v.trim();
    match c {
        Conversion::None => v
            .parse::<f64>()
            .map_err(|_| format!("strconv.ParseFloat: parsing {v:?}: invalid syntax")),
        Conversion::Duration => crate::lexer::parse_duration(v.trim_start_matches('-'))
            .map(|ns| {
                let s = ns as f64 / 1e9;
                if v.starts_with('-') {
                    -s
                } else {
                    s
                }
            })
            .ok_or_else(|| format!("time: invalid duration {v:?}")),
        Conversion::Bytes => crate::lexer::parse_bytes(&v.replace(' ', ""))
            .map(|b| b as f64)
            .ok_or_else(|| format!("invalid size {v:?}")),
    }
}

#[cfg(test)]
mod tests;
