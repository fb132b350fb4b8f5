//! Stages that steer lines: `match` (a LogQL selector, with an optional
//! line filter pipeline, parsed by crates/logql), `drop`, `multiline`,
//! `template` (Go templates run by LogQL's `line_format` engine, so the
//! functions are Loki's), `pack` and `decolorize`.

use super::{opt_duration, Entry, Flow, Pipeline, StageConfig, TailMetrics};
use regex::Regex;
use serde::{de, Deserialize, Deserializer};
use sightline_core::goregex::{compile, Anchor};
use sightline_core::{matches_all, Labels, Matcher};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `match: {selector, stages, action, pipeline_name, drop_counter_reason}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// A LogQL stream selector, optionally with line filters:
    /// `{app="api"} |= "error"`.
    pub selector: String,
    #[serde(default)]
    pub stages: Vec<StageConfig>,
    /// `keep` (default: run `stages` on matching lines) or `drop`.
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub pipeline_name: Option<String>,
    #[serde(default)]
    pub drop_counter_reason: Option<String>,
}

pub struct Match {
    matchers: Vec<Matcher>,
    filter: Option<sightline_logql::exec::Pipeline>,
    drop: Option<String>,
    stages: Pipeline,
}

impl Match {
    pub fn new(c: &MatchConfig, job: &str, metrics: &Arc<TailMetrics>) -> Result<Match, String> {
        let expr = sightline_logql::parse(&c.selector)
            .map_err(|e| format!("match selector {:?}: {e}", c.selector))?;
        let sightline_logql::ast::Expr::Log(log) = expr else {
            return Err(format!(
                "match selector {:?} is a metric query, not a stream selector",
                c.selector
            ));
        };
        let filter = if log.stages.is_empty() {
            None
        } else {
            Some(
                sightline_logql::exec::Pipeline::new(&log.stages)
                    .map_err(|e| format!("match selector {:?}: {e}", c.selector))?,
            )
        };
        let drop = match c.action.as_deref() {
            None | Some("keep") => None,
            Some("drop") => Some(
                c.drop_counter_reason
                    .clone()
                    .unwrap_or_else(|| "match_stage".into()),
            ),
            Some(o) => return Err(format!("match action {o:?}: must be keep or drop")),
        };
        if drop.is_none() && c.stages.is_empty() {
            return Err("match with action keep needs stages".into());
        }
        Ok(Match {
            matchers: log.matchers,
            filter,
            drop,
            stages: Pipeline::new(&c.stages, job, metrics)
                .map_err(|e| format!("match stages: {e}"))?,
        })
    }

    fn matches(&self, e: &Entry) -> bool {
        let labels = Labels::from_pairs(e.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        if !matches_all(&self.matchers, &labels) {
            return false;
        }
        match &self.filter {
            Some(p) => p.process(e.ts_ns, &e.line, &e.labels).is_some(),
            None => true,
        }
    }

    pub fn apply(&mut self, e: Entry) -> Flow {
        if !self.matches(&e) {
            return Flow::Next(e);
        }
        if let Some(reason) = &self.drop {
            return Flow::Dropped(reason.clone());
        }
        let (mut out, mut dropped) = (Vec::new(), Vec::new());
        self.stages.process(e, &mut out, &mut dropped);
        match (out.len(), dropped.pop()) {
            (0, Some(r)) => Flow::Dropped(r),
            (0, None) => Flow::Held,
            (1, _) => Flow::Next(out.pop().unwrap_or_default()),
            _ => Flow::Many(out),
        }
    }

    pub fn flush(
        &mut self,
        now: Instant,
        all: bool,
        out: &mut Vec<Entry>,
        dropped: &mut Vec<String>,
    ) {
        self.stages.flush(now, all, out, dropped);
    }

    pub fn held_from(&self) -> Option<u64> {
        self.stages.held_from()
    }
}

/// One string or a list of them (`drop`'s `source`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `drop: {source, separator, expression, value, older_than, longer_than,
/// drop_counter_reason}`: a line is dropped when every option given holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropConfig {
    #[serde(default)]
    pub source: Option<OneOrMany>,
    #[serde(default)]
    pub separator: Option<String>,
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default, deserialize_with = "opt_duration")]
    pub older_than: Option<Duration>,
    #[serde(default, deserialize_with = "byte_size")]
    pub longer_than: Option<u64>,
    #[serde(default)]
    pub drop_counter_reason: Option<String>,
}

/// A Go `units.Base2Bytes` (`8KB`, `1MiB`) or a plain number of bytes.
fn byte_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a size such as 8KB")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            sightline_core::bytesize::parse_base2(v)
                .map(|n| Some(n.max(0) as u64))
                .map_err(|e| E::custom(e.message()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.max(0) as u64))
        }
    }
    d.deserialize_any(V)
}

pub struct Drop {
    sources: Option<Vec<String>>,
    separator: String,
    expression: Option<Regex>,
    value: Option<String>,
    older_than: Option<Duration>,
    longer_than: Option<u64>,
    reason: String,
}

impl Drop {
    pub fn new(c: &DropConfig) -> Result<Drop, String> {
        if c.expression.is_some() && c.value.is_some() {
            return Err("drop: expression and value cannot both be set".into());
        }
        if c.value.is_some() && c.source.is_none() {
            return Err("drop: value needs a source".into());
        }
        if c.source.is_none()
            && c.expression.is_none()
            && c.older_than.is_none()
            && c.longer_than.is_none()
        {
            return Err("drop needs source, expression, older_than or longer_than".into());
        }
        let expression = c
            .expression
            .as_deref()
            .map(|x| compile(x, Anchor::None).map_err(|e| format!("drop expression {x:?}: {e}")))
            .transpose()?;
        Ok(Drop {
            sources: c.source.clone().map(|s| match s {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            }),
            separator: c.separator.clone().unwrap_or_else(|| ";".into()),
            expression,
            value: c.value.clone(),
            older_than: c.older_than,
            longer_than: c.longer_than,
            reason: c
                .drop_counter_reason
                .clone()
                .unwrap_or_else(|| "drop_stage".into()),
        })
    }

    /// The reason when `e` is to be dropped.
    pub fn drops(&self, e: &Entry) -> Option<String> {
        if let Some(limit) = self.older_than {
            let now = sightline_core::time::now_ms().saturating_mul(1_000_000);
            if e.ts_ns >= now.saturating_sub(limit.as_nanos() as i64) {
                return None;
            }
        }
        if let Some(n) = self.longer_than {
            if e.line.len() as u64 <= n {
                return None;
            }
        }
        let subject = match &self.sources {
            Some(names) => {
                let mut vals = Vec::with_capacity(names.len());
                for n in names {
                    // A missing source never drops.
                    vals.push(e.extracted.get(n)?.as_str());
                }
                Some(vals.join(&self.separator))
            }
            None => None,
        };
        if let Some(v) = &self.value {
            if subject.as_deref() != Some(v.as_str()) {
                return None;
            }
        }
        if let Some(re) = &self.expression {
            let text = subject.as_deref().unwrap_or(&e.line);
            if !re.is_match(text) {
                return None;
            }
        }
        Some(self.reason.clone())
    }
}

/// `multiline: {firstline, max_wait_time, max_lines}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultilineConfig {
    pub firstline: String,
    /// Promtail: 3s.
    #[serde(default, deserialize_with = "opt_duration")]
    pub max_wait_time: Option<Duration>,
    /// Promtail: 128.
    #[serde(default)]
    pub max_lines: Option<usize>,
}

/// Joins a first line and the lines that follow it, up to the next first
/// line, `max_lines`, or `max_wait_time` without a new line. One block per
/// file (Promtail keeps one per stream; a file is one stream until a later
/// stage splits it).
pub struct Multiline {
    first: Regex,
    max_wait: Duration,
    max_lines: usize,
    block: Option<(Entry, usize, Instant)>,
}

impl Multiline {
    pub fn new(c: &MultilineConfig) -> Result<Multiline, String> {
        Ok(Multiline {
            first: compile(&c.firstline, Anchor::None)
                .map_err(|e| format!("multiline firstline {:?}: {e}", c.firstline))?,
            max_wait: c.max_wait_time.unwrap_or(Duration::from_secs(3)),
            max_lines: c.max_lines.unwrap_or(128).max(1),
            block: None,
        })
    }

    pub fn apply(&mut self, e: Entry) -> Flow {
        let now = Instant::now();
        if self.first.is_match(&e.line) {
            let prev = self.block.take().map(|(b, _, _)| b);
            self.block = Some((e, 1, now));
            return match prev {
                Some(p) => Flow::Next(p),
                None => Flow::Held,
            };
        }
        match self.block.take() {
            Some((mut b, n, _)) => {
                b.line.push('\n');
                b.line.push_str(&e.line);
                b.end = e.end;
                if n + 1 >= self.max_lines {
                    Flow::Next(b)
                } else {
                    self.block = Some((b, n + 1, now));
                    Flow::Held
                }
            }
            // A continuation with no first line before it starts a block,
            // as Promtail does.
            None => {
                self.block = Some((e, 1, now));
                Flow::Held
            }
        }
    }

    pub fn flush(&mut self, now: Instant, all: bool) -> Vec<Entry> {
        match &self.block {
            Some((_, _, at)) if all || now.duration_since(*at) >= self.max_wait => {
                self.block.take().map(|(b, _, _)| b).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    pub fn held_from(&self) -> Option<u64> {
        self.block.as_ref().map(|(b, _, _)| b.start)
    }
}

/// `template: {source, template}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    pub source: String,
    pub template: String,
}

/// Runs the Go template through LogQL's `line_format` engine over the
/// extracted map plus `Value` (the source's value); the result replaces
/// the source in the extracted map.
pub struct Template {
    source: String,
    pipeline: sightline_logql::exec::Pipeline,
}

impl Template {
    pub fn new(c: &TemplateConfig) -> Result<Template, String> {
        let quoted = if c.template.contains('`') {
            let esc = c.template.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{esc}\"")
        } else {
            format!("`{}`", c.template)
        };
        let query = format!("{{__t=\"1\"}} | line_format {quoted}");
        let expr = sightline_logql::parse(&query)
            .map_err(|e| format!("template {:?}: {e}", c.template))?;
        let sightline_logql::ast::Expr::Log(log) = expr else {
            return Err(format!("template {:?}: not a template", c.template));
        };
        let pipeline = sightline_logql::exec::Pipeline::new(&log.stages)
            .map_err(|e| format!("template {:?}: {e}", c.template))?;
        Ok(Template {
            source: c.source.clone(),
            pipeline,
        })
    }

    pub fn apply(&self, e: &mut Entry) {
        let mut data = e.extracted.clone();
        data.remove("__error__");
        if let Some(v) = e.extracted.get(&self.source) {
            data.insert("Value".into(), v.clone());
        }
        if let Some(out) = self.pipeline.process(e.ts_ns, &e.line, &data) {
            if !out.labels.contains_key("__error__") {
                e.extracted.insert(self.source.clone(), out.line);
            }
        }
    }
}

/// `pack: {labels, ingest_timestamp}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackConfig {
    pub labels: Vec<String>,
    /// Promtail: true (the line's time becomes the time of packing).
    #[serde(default)]
    pub ingest_timestamp: Option<bool>,
}

/// Packs the named labels (or extracted values) and the line into a JSON
/// object `{"label": "value", ..., "_entry": "line"}`; packed labels leave
/// the stream.
pub fn pack(c: &PackConfig, e: &mut Entry) {
    let mut m = serde_json::Map::new();
    for l in &c.labels {
        let v = e.labels.remove(l).or_else(|| e.extracted.get(l).cloned());
        if let Some(v) = v {
            m.insert(l.clone(), serde_json::Value::String(v));
        }
    }
    m.insert("_entry".into(), serde_json::Value::String(e.line.clone()));
    e.line = serde_json::Value::Object(m).to_string();
    if c.ingest_timestamp.unwrap_or(true) {
        e.ts_ns = sightline_core::time::now_ms().saturating_mul(1_000_000);
    }
}

/// The line without ANSI colour sequences (`ESC [ ... letter`).
pub fn decolorize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut it = line.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' && it.peek() == Some(&'[') {
            it.next();
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}
