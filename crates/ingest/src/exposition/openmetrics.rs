//! OpenMetrics 1.0 text, following the spec's ABNF.
//!
//! ```text
//! # TYPE foo counter
//! # UNIT foo seconds            (the unit must be a suffix: foo_seconds)
//! # HELP foo Some \"help\".
//! foo_total{a="b"} 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67 1520879606.0
//! foo_created{a="b"} 1520430000.123
//! # EOF
//! ```
//!
//! Tokens are separated by exactly one space; there are no blank lines and
//! no comments other than HELP, TYPE, UNIT and the final `# EOF`, after which
//! only a single `\n` may follow. Timestamps are float seconds, converted to
//! milliseconds. Label values and HELP text know exactly the escapes `\\`,
//! `\"` and `\n`; anything else is an error. Label sets have no trailing
//! comma.
//!
//! Across lines the parser tracks the current metric family, which is what
//! the spec's rules are about: a family's HELP/TYPE/UNIT come before its
//! samples and at most once each; families are not interleaved (a family
//! name may not come back after another family started); a sample's name is
//! the family name plus a suffix its type allows (`_total`/`_created` for
//! counters, `_bucket`/`_count`/`_sum`/`_created` for histograms, ...); and
//! exemplars sit only on counter `_total` and histogram `_bucket` samples.
//! Exemplar labels longer than the 128 characters OpenMetrics allows are
//! not a parse error: as in Prometheus 2.42, the store refuses that one
//! exemplar and the scrape goes on (issue 12).
//!
//! What is not checked: per-type value rules (bucket order, a `+Inf`
//! bucket, non-negative counters) and repeated label sets within a family,
//! which Prometheus 2.42 leaves to storage as well (duplicate samples fail
//! there).

use super::lex::{self, parse_float, push_label, quote, seconds_to_ms, Cur, LabelSpan, Span};
use super::{Entry, MetricType, Parser};
use std::collections::HashMap;

/// Where the parser stands in the metric family sequence.
pub(super) struct State {
    /// The current family's name in the body.
    family: Option<Span>,
    ty: MetricType,
    has_type: bool,
    has_help: bool,
    has_unit: bool,
    has_samples: bool,
    /// Hashes of the names of families already finished, with their types,
    /// to catch interleaving without keeping a string per family.
    seen: HashMap<u64, MetricType>,
}

impl Default for State {
    fn default() -> Self {
        State {
            family: None,
            ty: MetricType::Unknown,
            has_type: false,
            has_help: false,
            has_unit: false,
            has_samples: false,
            seen: HashMap::new(),
        }
    }
}

/// Which part of a family a sample is, from its name's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suffix {
    None,
    Total,
    Created,
    Bucket,
    Count,
    Sum,
    GCount,
    GSum,
    Info,
}

/// The suffix `rest` (what follows the family name) if the type allows it.
fn suffix_for(ty: MetricType, rest: &[u8]) -> Option<Suffix> {
    use MetricType::*;
    let s = match rest {
        b"" => Suffix::None,
        b"_total" => Suffix::Total,
        b"_created" => Suffix::Created,
        b"_bucket" => Suffix::Bucket,
        b"_count" => Suffix::Count,
        b"_sum" => Suffix::Sum,
        b"_gcount" => Suffix::GCount,
        b"_gsum" => Suffix::GSum,
        b"_info" => Suffix::Info,
        _ => return None,
    };
    let ok = match ty {
        Counter => matches!(s, Suffix::Total | Suffix::Created),
        Histogram => matches!(
            s,
            Suffix::Bucket | Suffix::Count | Suffix::Sum | Suffix::Created
        ),
        GaugeHistogram => matches!(s, Suffix::Bucket | Suffix::GCount | Suffix::GSum),
        Summary => matches!(
            s,
            Suffix::None | Suffix::Count | Suffix::Sum | Suffix::Created
        ),
        Info => s == Suffix::Info,
        Gauge | StateSet | Unknown => s == Suffix::None,
    };
    ok.then_some(s)
}

const SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

fn suffixes_of(ty: MetricType) -> &'static str {
    match ty {
        MetricType::Counter => "_total or _created",
        MetricType::Histogram => "_bucket, _count, _sum or _created",
        MetricType::GaugeHistogram => "_bucket, _gcount or _gsum",
        MetricType::Info => "_info",
        _ => "no suffix",
    }
}

/// Whether `name` is `something_<unit>`.
fn unit_is_suffix(name: &str, unit: &str) -> bool {
    name.len() > unit.len() + 1
        && name.ends_with(unit)
        && name.as_bytes()[name.len() - unit.len() - 1] == b'_'
}

fn name_hash(name: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name)
}

impl<'a> Parser<'a> {
    pub(super) fn next_openmetrics(&mut self) -> Result<Option<Entry<'a>>, String> {
        let Some((start, end)) = self.take_line() else {
            self.line = self.next_line;
            return Err(
                "unexpected end of input: an OpenMetrics body must end with \"# EOF\"".into(),
            );
        };
        if start == end {
            return Err("empty line (OpenMetrics allows none)".into());
        }
        let c = Cur::new(self.body, start, end);
        if self.body[start] == b'#' {
            self.om_meta(c)
        } else {
            self.om_sample(c).map(Some)
        }
    }

    /// `# HELP`, `# TYPE`, `# UNIT` or `# EOF`.
    fn om_meta(&mut self, mut c: Cur<'a>) -> Result<Option<Entry<'a>>, String> {
        let line_start = c.pos;
        c.pos += 1;
        let kw = if c.eat(b' ') {
            c.token(|b| b == b' ')
        } else {
            &[][..]
        };
        match kw {
            b"EOF" => {
                if !c.at_end() {
                    return Err(format!("unexpected {} after \"# EOF\"", c.found()));
                }
                if self.pos < self.body.len() {
                    self.line = self.next_line;
                    return Err(
                        "unexpected data after \"# EOF\", which must be the last line".into(),
                    );
                }
                return Ok(None);
            }
            b"HELP" | b"TYPE" | b"UNIT" => {}
            _ => {
                let shown = &c.b[line_start..c.end.min(line_start + 32)];
                return Err(format!(
                    "expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\" (OpenMetrics has no other comments), found {}",
                    quote(shown)
                ));
            }
        }
        let kw = lex::ascii(kw);
        if !c.eat(b' ') {
            return Err(format!(
                "expected a space and a metric name after \"# {kw}\", found {}",
                c.found()
            ));
        }
        let span = c.metric_name().ok_or_else(|| {
            format!(
                "expected a metric name after \"# {kw} \", found {}",
                c.found()
            )
        })?;
        let name = lex::ascii(&c.b[span.0..span.1]);
        if !c.at_end() && !c.eat(b' ') {
            return Err(format!(
                "expected a space after the metric name in \"# {kw} {name}\", found {}",
                c.found()
            ));
        }
        let rest = &c.b[c.pos..c.end];
        self.om_family_meta(span, kw)?;
        match kw {
            "HELP" => {
                let mut i = 0;
                while i < rest.len() {
                    if rest[i] == b'\\' {
                        match rest.get(i + 1) {
                            Some(b'\\' | b'"' | b'n') => i += 2,
                            _ => {
                                return Err(format!(
                                    "invalid escape sequence {} in help text of {name:?} (allowed: \\\\, \\\" and \\n)",
                                    quote(&rest[i..(i + 2).min(rest.len())])
                                ))
                            }
                        }
                    } else {
                        i += 1;
                    }
                }
                if std::str::from_utf8(rest).is_err() {
                    return Err(format!("help text of {name:?} is not valid UTF-8"));
                }
                Ok(Some(Entry::Help {
                    name,
                    text: lex::unescape(rest, true),
                }))
            }
            "TYPE" => {
                let kind = match rest {
                    b"counter" => MetricType::Counter,
                    b"gauge" => MetricType::Gauge,
                    b"histogram" => MetricType::Histogram,
                    b"gaugehistogram" => MetricType::GaugeHistogram,
                    b"summary" => MetricType::Summary,
                    b"info" => MetricType::Info,
                    b"stateset" => MetricType::StateSet,
                    b"unknown" => MetricType::Unknown,
                    _ => return Err(format!(
                        "invalid metric type {} for {name:?}: expected counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown",
                        quote(rest)
                    )),
                };
                self.om.ty = kind;
                Ok(Some(Entry::Type { name, kind }))
            }
            _ => {
                if !rest.iter().all(|&b| lex::is_metric_cont(b)) {
                    return Err(format!(
                        "invalid unit {} for {name:?}: a unit is made of [a-zA-Z0-9_:]",
                        quote(rest)
                    ));
                }
                let unit = lex::ascii(rest);
                if !unit.is_empty() && !unit_is_suffix(name, unit) {
                    return Err(format!(
                        "unit {unit:?} is not a suffix of metric family {name:?} (the name must end in \"_{unit}\")"
                    ));
                }
                Ok(Some(Entry::Unit { name, unit }))
            }
        }
    }

    /// Checks a metadata line against the family state and records it.
    fn om_family_meta(&mut self, name: Span, kw: &str) -> Result<(), String> {
        let b = self.body;
        let same = self
            .om
            .family
            .is_some_and(|f| b[f.0..f.1] == b[name.0..name.1]);
        if !same {
            self.om_new_family(name)?;
        } else if self.om.has_samples {
            return Err(format!(
                "\"# {kw}\" for metric family {} after its samples (metadata must come first)",
                quote(&b[name.0..name.1])
            ));
        }
        let flag = match kw {
            "HELP" => &mut self.om.has_help,
            "TYPE" => &mut self.om.has_type,
            _ => &mut self.om.has_unit,
        };
        if *flag {
            return Err(format!(
                "second \"# {kw}\" line for metric family {}",
                quote(&b[name.0..name.1])
            ));
        }
        *flag = true;
        Ok(())
    }

    fn om_new_family(&mut self, name: Span) -> Result<(), String> {
        let b = self.body;
        if let Some(f) = self.om.family {
            self.om.seen.insert(name_hash(&b[f.0..f.1]), self.om.ty);
        }
        if self.om.seen.contains_key(&name_hash(&b[name.0..name.1])) {
            return Err(format!(
                "metric family {} appears again after other families (OpenMetrics forbids interleaving them)",
                quote(&b[name.0..name.1])
            ));
        }
        self.om = State {
            family: Some(name),
            seen: std::mem::take(&mut self.om.seen),
            ..State::default()
        };
        Ok(())
    }

    /// Finds the family of a sample name, starting a new (untyped) family
    /// when it does not belong to the current one.
    fn om_member(&mut self, name: Span) -> Result<Suffix, String> {
        let b = self.body;
        let n = &b[name.0..name.1];
        if let Some(f) = self.om.family {
            let fam = &b[f.0..f.1];
            if let Some(rest) = n.strip_prefix(fam) {
                if let Some(s) = suffix_for(self.om.ty, rest) {
                    self.om.has_samples = true;
                    return Ok(s);
                }
                if rest.is_empty() {
                    return Err(format!(
                        "sample {} of {} family {} needs a suffix: {}",
                        quote(n),
                        self.om.ty.as_str(),
                        quote(fam),
                        suffixes_of(self.om.ty)
                    ));
                }
            }
        }
        // A suffixed name may belong to a family that is already finished.
        for sfx in SUFFIXES {
            let Some(base) = n.strip_suffix(sfx.as_bytes()) else {
                continue;
            };
            if let Some(&ty) = self.om.seen.get(&name_hash(base)) {
                if suffix_for(ty, sfx.as_bytes()).is_some() {
                    return Err(format!(
                        "sample {} belongs to metric family {}, which appears again after other families (OpenMetrics forbids interleaving them)",
                        quote(n),
                        quote(base)
                    ));
                }
            }
        }
        self.om_new_family(name)?;
        self.om.has_samples = true;
        Ok(Suffix::None)
    }

    fn om_sample(&mut self, mut c: Cur<'a>) -> Result<Entry<'a>, String> {
        let name = c.metric_name().ok_or_else(|| {
            format!(
                "expected a metric name or \"#\" at the start of the line, found {}",
                c.found()
            )
        })?;
        self.begin_sample(name);
        let mut series_end = name.1;
        if c.eat(b'{') {
            self.take_label_set(&mut c)?;
            series_end = c.pos;
        }
        let series = &self.body[name.0..series_end];
        let suffix = self.om_member(name)?;
        if !c.eat(b' ') {
            return Err(if c.at_end() {
                format!(
                    "expected a value after {}, found end of line",
                    quote(series)
                )
            } else {
                format!(
                    "expected a space and a value after {}, found {}",
                    quote(series),
                    c.found()
                )
            });
        }
        let tok = c.token(|b| b == b' ');
        let value = parse_float(tok).ok_or_else(|| {
            format!(
                "invalid value {} for {}: expected a number, NaN, +Inf or -Inf",
                quote(tok),
                quote(series)
            )
        })?;
        let value_tok = tok;
        let mut timestamp = None;
        if c.eat(b' ') {
            if c.peek() != Some(b'#') {
                timestamp = Some(om_timestamp(&mut c, series)?);
                if c.eat(b' ') && c.peek() != Some(b'#') {
                    return Err(format!(
                        "expected end of line or an exemplar (\"# {{...}}\") after the timestamp of {}, found {}",
                        quote(series),
                        c.found()
                    ));
                }
            }
            if c.peek() == Some(b'#') {
                self.om_exemplar(&mut c, suffix, series)?;
            }
        }
        if !c.at_end() {
            return Err(format!(
                "expected end of line after {}, found {}",
                quote(series),
                c.found()
            ));
        }
        if suffix == Suffix::Created
            && matches!(
                self.om.ty,
                MetricType::Counter | MetricType::Histogram | MetricType::Summary
            )
        {
            self.created = seconds_to_ms(value_tok);
        }
        Ok(Entry::Sample {
            series,
            timestamp,
            value,
        })
    }

    /// ` # {labels} value [timestamp]`, the cursor on the `#`.
    fn om_exemplar(
        &mut self,
        c: &mut Cur<'a>,
        suffix: Suffix,
        series: &[u8],
    ) -> Result<(), String> {
        let allowed = match self.om.ty {
            MetricType::Counter => suffix == Suffix::Total,
            MetricType::Histogram | MetricType::GaugeHistogram => suffix == Suffix::Bucket,
            _ => false,
        };
        if !allowed {
            return Err(format!(
                "exemplar on {}: OpenMetrics allows exemplars only on counter _total and histogram _bucket samples",
                quote(series)
            ));
        }
        c.pos += 1;
        if !(c.eat(b' ') && c.eat(b'{')) {
            return Err(format!(
                "expected \"# {{\" to start the exemplar of {}, found {}",
                quote(series),
                c.found()
            ));
        }
        self.exemplar.labels.clear();
        om_labels(c, &mut self.exemplar.labels, self.check_utf8, false)?;
        if !c.eat(b' ') {
            return Err(format!(
                "expected a space and a value after the exemplar labels of {}, found {}",
                quote(series),
                c.found()
            ));
        }
        let tok = c.token(|b| b == b' ');
        self.exemplar.value = parse_float(tok).ok_or_else(|| {
            format!(
                "invalid exemplar value {} for {}: expected a number, NaN, +Inf or -Inf",
                quote(tok),
                quote(series)
            )
        })?;
        self.exemplar.timestamp = None;
        if c.eat(b' ') {
            self.exemplar.timestamp = Some(om_timestamp(c, series)?);
        }
        self.has_exemplar = true;
        Ok(())
    }
}

/// A float seconds timestamp at the cursor, as milliseconds.
fn om_timestamp(c: &mut Cur<'_>, series: &[u8]) -> Result<i64, String> {
    let tok = c.token(|b| b == b' ');
    seconds_to_ms(tok).ok_or_else(|| {
        format!(
            "invalid timestamp {} for {}: expected seconds since the epoch as a finite number",
            quote(tok),
            quote(series)
        )
    })
}

/// A label set after its `{`, up to and including the `}`, in the strict
/// OpenMetrics form: no spaces, no trailing comma.
pub(super) fn om_labels(
    c: &mut Cur<'_>,
    out: &mut Vec<LabelSpan>,
    check_utf8: bool,
    series: bool,
) -> Result<(), String> {
    let mut seen = if series { lex::NAME_BIT } else { 0 };
    if c.eat(b'}') {
        return Ok(());
    }
    loop {
        let name = c.label_name().ok_or_else(|| {
            if c.peek() == Some(b'}') {
                "trailing comma in label set (OpenMetrics forbids it)".to_owned()
            } else {
                format!("expected a label name, found {}", c.found())
            }
        })?;
        let lname = lex::Name(&c.b[name.0..name.1]);
        if !c.eat(b'=') {
            return Err(format!(
                "expected \"=\" after label name {lname:?}, found {}",
                c.found()
            ));
        }
        if c.peek() != Some(b'"') {
            return Err(format!(
                "expected a quoted value for label {lname:?}, found {}",
                c.found()
            ));
        }
        let (value, escaped) = c.quoted(true, check_utf8, lname)?;
        push_label(
            c.b,
            out,
            &mut seen,
            series,
            LabelSpan {
                name,
                value,
                escaped,
            },
        )?;
        if c.eat(b',') {
            continue;
        }
        if c.eat(b'}') {
            return Ok(());
        }
        return Err(format!(
            "expected \",\" or \"}}\" after the value of label {lname:?}, found {}",
            c.found()
        ));
    }
}
