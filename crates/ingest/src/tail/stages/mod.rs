//! Promtail's pipeline stages: each line of a file goes through the
//! scrape config's `pipeline_stages` in order, with an *extracted map*
//! (started from the line's labels, as Promtail starts it) that parsing
//! stages fill and action stages read.
//!
//! - [`parse`]: `docker`, `cri`, `json`, `logfmt`, `regex`;
//! - [`timefmt`]: the `timestamp` stage's Go layouts;
//! - [`flow`]: `match`, `drop`, `multiline`, `template`, `pack`;
//! - [`metrics`]: the `metrics` stage (`promtail_custom_*` on /metrics).
//!
//! A [`Pipeline`] is built per file: `multiline`, `cri` partial lines and
//! the `timestamp` stage's fudging keep per-stream state.

pub mod flow;
pub mod metrics;
pub mod parse;
pub mod timefmt;

#[cfg(test)]
mod tests;

use super::config::{opt_go_duration, Unsupported};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub use metrics::TailMetrics;

/// One line on its way through a pipeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// The stream's labels so far.
    pub labels: BTreeMap<String, String>,
    /// Values parsing stages found, read by later stages.
    pub extracted: BTreeMap<String, String>,
    pub line: String,
    /// Nanoseconds since the epoch.
    pub ts_ns: i64,
    /// Set by the `tenant` stage.
    pub tenant: Option<String>,
    /// Set by the `structured_metadata` stage.
    pub metadata: Vec<(String, String)>,
    /// Byte offsets in the file of the first raw line in this entry and
    /// just past its last one: what positions are advanced by.
    pub start: u64,
    pub end: u64,
}

impl Entry {
    /// A line read at `ts_ns` with the target's `labels`; the extracted map
    /// starts as a copy of the labels, as Promtail's does.
    pub fn new(line: String, ts_ns: i64, labels: BTreeMap<String, String>) -> Entry {
        Entry {
            extracted: labels.clone(),
            labels,
            line,
            ts_ns,
            ..Entry::default()
        }
    }

    /// A stage's `source`: the extracted value named, or the line.
    pub fn source<'a>(&'a self, source: &Option<String>) -> Option<&'a str> {
        match source {
            Some(s) => self.extracted.get(s).map(String::as_str),
            None => Some(&self.line),
        }
    }
}

/// One element of `pipeline_stages`, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageConfig {
    Docker(Option<EmptyConfig>),
    Cri(Option<parse::CriConfig>),
    Json(parse::JsonConfig),
    Logfmt(parse::LogfmtConfig),
    Regex(parse::RegexConfig),
    /// `name: source` (empty source: the extracted value of the same name).
    Labels(BTreeMap<String, Option<String>>),
    StructuredMetadata(BTreeMap<String, Option<String>>),
    Timestamp(timefmt::TimestampConfig),
    Output(OutputConfig),
    Match(flow::MatchConfig),
    Drop(flow::DropConfig),
    Multiline(flow::MultilineConfig),
    Template(flow::TemplateConfig),
    Metrics(BTreeMap<String, metrics::MetricConfig>),
    StaticLabels(BTreeMap<String, Option<String>>),
    Labeldrop(Vec<String>),
    Labelallow(Vec<String>),
    Tenant(TenantConfig),
    Pack(flow::PackConfig),
    Decolorize(Option<EmptyConfig>),
    // Promtail stages not implemented: refused by name.
    Replace(Unsupported),
    Geoip(Unsupported),
    Limit(Unsupported),
    Sampling(Unsupported),
    Eventlogmessage(Unsupported),
}

/// `docker: {}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyConfig {}

/// `output: {source}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub source: String,
}

/// `tenant: {source | value | label}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
}

/// A compiled stage with its state.
enum Stage {
    Json(parse::Json),
    Logfmt(parse::Logfmt),
    Regex(parse::RegexStage),
    Cri(parse::Cri),
    Labels(BTreeMap<String, String>, bool),
    Timestamp(timefmt::Timestamp),
    Output(String),
    Match(flow::Match),
    Drop(flow::Drop),
    Multiline(flow::Multiline),
    Template(flow::Template),
    Metrics(metrics::MetricsStage),
    StaticLabels(Vec<(String, Option<String>)>),
    LabelDrop(Vec<String>),
    LabelAllow(Vec<String>),
    Tenant(TenantConfig),
    Pack(flow::PackConfig),
    Decolorize,
}

/// A compiled `pipeline_stages` list.
pub struct Pipeline {
    stages: Vec<Stage>,
}

/// What a stage did with an entry.
pub enum Flow {
    /// Go on to the next stage.
    Next(Entry),
    /// Dropped (the reason for `promtail_dropped_entries_total`).
    Dropped(String),
    /// Held by a stage (a multiline block, a partial CRI line).
    Held,
    /// Several entries go on (a multiline block flushed by a new first line).
    Many(Vec<Entry>),
}

impl Pipeline {
    /// Compiles `stages` for `job`; an error names the stage (by its index
    /// in `pipeline_stages`) and what is wrong with it.
    pub fn new(
        stages: &[StageConfig],
        job: &str,
        metrics: &Arc<TailMetrics>,
    ) -> Result<Pipeline, String> {
        let mut out = Vec::new();
        for (i, s) in stages.iter().enumerate() {
            let at = |e: String| format!("pipeline_stages[{i}]: {e}");
            let mut push = |s: Stage| out.push(s);
            match s {
                StageConfig::Docker(_) => {
                    // Promtail's docker stage is these stages in a row.
                    push(Stage::Json(parse::Json::docker()));
                    push(Stage::Labels(
                        BTreeMap::from([("stream".into(), "stream".into())]),
                        false,
                    ));
                    push(Stage::Timestamp(timefmt::Timestamp::docker()));
                    push(Stage::Output("output".into()));
                }
                StageConfig::Cri(c) => {
                    push(Stage::Cri(parse::Cri::new(c.clone().unwrap_or_default())));
                    push(Stage::Labels(
                        BTreeMap::from([("stream".into(), "stream".into())]),
                        false,
                    ));
                    push(Stage::Timestamp(timefmt::Timestamp::docker()));
                    push(Stage::Output("content".into()));
                }
                StageConfig::Json(c) => push(Stage::Json(parse::Json::new(c).map_err(at)?)),
                StageConfig::Logfmt(c) => push(Stage::Logfmt(parse::Logfmt::new(c))),
                StageConfig::Regex(c) => push(Stage::Regex(parse::RegexStage::new(c).map_err(at)?)),
                StageConfig::Labels(m) | StageConfig::StructuredMetadata(m) => {
                    let meta = matches!(s, StageConfig::StructuredMetadata(_));
                    let mut map = BTreeMap::new();
                    for (k, v) in m {
                        if !crate::relabel::is_valid_label_name(k) {
                            return Err(at(format!("invalid label name {k:?}")));
                        }
                        map.insert(k.clone(), v.clone().unwrap_or_else(|| k.clone()));
                    }
                    push(Stage::Labels(map, meta))
                }
                StageConfig::Timestamp(c) => {
                    push(Stage::Timestamp(timefmt::Timestamp::new(c).map_err(at)?))
                }
                StageConfig::Output(c) => push(Stage::Output(c.source.clone())),
                StageConfig::Match(c) => {
                    push(Stage::Match(flow::Match::new(c, job, metrics).map_err(at)?))
                }
                StageConfig::Drop(c) => push(Stage::Drop(flow::Drop::new(c).map_err(at)?)),
                StageConfig::Multiline(c) => {
                    push(Stage::Multiline(flow::Multiline::new(c).map_err(at)?))
                }
                StageConfig::Template(c) => {
                    push(Stage::Template(flow::Template::new(c).map_err(at)?))
                }
                StageConfig::Metrics(m) => push(Stage::Metrics(
                    metrics::MetricsStage::new(m, metrics).map_err(at)?,
                )),
                StageConfig::StaticLabels(m) => {
                    if let Some(k) = m.keys().find(|k| !crate::relabel::is_valid_label_name(k)) {
                        return Err(at(format!("invalid label name {k:?}")));
                    }
                    push(Stage::StaticLabels(
                        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    ))
                }
                StageConfig::Labeldrop(v) => push(Stage::LabelDrop(v.clone())),
                StageConfig::Labelallow(v) => push(Stage::LabelAllow(v.clone())),
                StageConfig::Tenant(c) => {
                    let n = [&c.source, &c.value, &c.label]
                        .iter()
                        .filter(|x| x.is_some())
                        .count();
                    if n != 1 {
                        return Err(at(
                            "tenant needs exactly one of source, value and label".into()
                        ));
                    }
                    push(Stage::Tenant(c.clone()))
                }
                StageConfig::Pack(c) => push(Stage::Pack(c.clone())),
                StageConfig::Decolorize(_) => push(Stage::Decolorize),
                StageConfig::Replace(_)
                | StageConfig::Geoip(_)
                | StageConfig::Limit(_)
                | StageConfig::Sampling(_)
                | StageConfig::Eventlogmessage(_) => {
                    // Unreachable: `Unsupported` refuses to deserialize.
                    return Err(at("stage not supported".into()));
                }
            }
        }
        Ok(Pipeline { stages: out })
    }

    /// Runs `e` through every stage; lines that come out are pushed to
    /// `out`, drop reasons to `dropped`.
    pub fn process(&mut self, e: Entry, out: &mut Vec<Entry>, dropped: &mut Vec<String>) {
        self.run_from(0, e, out, dropped);
    }

    fn run_from(&mut self, from: usize, e: Entry, out: &mut Vec<Entry>, dropped: &mut Vec<String>) {
        let mut e = e;
        for i in from..self.stages.len() {
            match self.stages[i].apply(e) {
                Flow::Next(n) => e = n,
                Flow::Dropped(r) => {
                    dropped.push(r);
                    return;
                }
                Flow::Held => return,
                Flow::Many(v) => {
                    for n in v {
                        self.run_from(i + 1, n, out, dropped);
                    }
                    return;
                }
            }
        }
        out.push(e);
    }

    /// Lets stages that hold lines release those held too long
    /// (`multiline`'s `max_wait_time`), or everything when `all`.
    pub fn flush(
        &mut self,
        now: std::time::Instant,
        all: bool,
        out: &mut Vec<Entry>,
        dropped: &mut Vec<String>,
    ) {
        for i in 0..self.stages.len() {
            let released = match &mut self.stages[i] {
                Stage::Multiline(m) => m.flush(now, all),
                Stage::Cri(c) if all => c.flush(),
                Stage::Match(m) => {
                    let mut v = Vec::new();
                    m.flush(now, all, &mut v, dropped);
                    v
                }
                _ => Vec::new(),
            };
            for e in released {
                self.run_from(i + 1, e, out, dropped);
            }
        }
    }

    /// The file offset of the first line a stage still holds: positions
    /// must not pass it.
    pub fn held_from(&self) -> Option<u64> {
        self.stages
            .iter()
            .filter_map(|s| match s {
                Stage::Multiline(m) => m.held_from(),
                Stage::Cri(c) => c.held_from(),
                Stage::Match(m) => m.held_from(),
                _ => None,
            })
            .min()
    }
}

impl Stage {
    fn apply(&mut self, mut e: Entry) -> Flow {
        match self {
            Stage::Json(j) => return j.apply(&mut e),
            Stage::Logfmt(l) => return l.apply(&mut e),
            Stage::Regex(r) => return r.apply(&mut e),
            Stage::Cri(c) => return c.apply(e),
            Stage::Labels(map, meta) => {
                for (name, src) in map.iter() {
                    let Some(v) = e.extracted.get(src) else {
                        continue;
                    };
                    if *meta {
                        e.metadata.retain(|(n, _)| n != name);
                        e.metadata.push((name.clone(), v.clone()));
                    } else if !v.is_empty() {
                        e.labels.insert(name.clone(), v.clone());
                    }
                }
            }
            Stage::Timestamp(t) => t.apply(&mut e),
            Stage::Output(src) => {
                if let Some(v) = e.extracted.get(src.as_str()) {
                    e.line = v.clone();
                }
            }
            Stage::Match(m) => return m.apply(e),
            Stage::Drop(d) => {
                if let Some(reason) = d.drops(&e) {
                    return Flow::Dropped(reason);
                }
            }
            Stage::Multiline(m) => return m.apply(e),
            Stage::Template(t) => t.apply(&mut e),
            Stage::Metrics(m) => m.apply(&e),
            Stage::StaticLabels(v) => {
                for (k, val) in v.iter() {
                    match val {
                        Some(val) if !val.is_empty() => {
                            e.labels.insert(k.clone(), val.clone());
                        }
                        _ => {
                            e.labels.remove(k);
                        }
                    }
                }
            }
            Stage::LabelDrop(names) => {
                for n in names.iter() {
                    e.labels.remove(n);
                }
            }
            Stage::LabelAllow(names) => e.labels.retain(|k, _| names.contains(k)),
            Stage::Tenant(c) => {
                let v = if let Some(v) = &c.value {
                    Some(v.clone())
                } else if let Some(s) = &c.source {
                    e.extracted.get(s).cloned()
                } else if let Some(l) = &c.label {
                    e.labels.get(l).cloned()
                } else {
                    None
                };
                if let Some(v) = v.filter(|v| !v.is_empty()) {
                    e.tenant = Some(v);
                }
            }
            Stage::Pack(p) => flow::pack(p, &mut e),
            Stage::Decolorize => e.line = flow::decolorize(&e.line),
        }
        Flow::Next(e)
    }
}

/// `max_wait_time`-like optional durations in stage configs.
pub(crate) fn opt_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    opt_go_duration(d)
}
