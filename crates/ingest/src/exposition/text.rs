//! The Prometheus text format 0.0.4, as Prometheus 2.42's `promparse` reads it.
//!
//! ```text
//! # HELP http_requests_total The total number of HTTP requests.
//! # TYPE http_requests_total counter
//! http_requests_total{method="post",code="200"} 1027 1395066363000
//! ```
//!
//! Lines are separated by `\n`; blanks and tabs may separate any two tokens,
//! and lines may be indented. Empty lines are skipped. `#` starts a comment;
//! `# HELP name text` and `# TYPE name type` are metadata. Label sets may end
//! with a comma. A timestamp is integer milliseconds. The last line may lack
//! its `\n` (Prometheus appends one before lexing). Label values unescape
//! `\\`, `\"` and `\n`; HELP text unescapes `\\` and `\n`; any other
//! backslash stays as written. Nothing is checked across lines: the order of
//! metadata and samples is the caller's business, as in Prometheus.

use super::lex::{self, parse_float, parse_int_ms, push_label, quote, Cur, LabelSpan, Span};
use super::{Entry, MetricType, Parser};

impl<'a> Parser<'a> {
    pub(super) fn next_text(&mut self) -> Result<Option<Entry<'a>>, String> {
        loop {
            let Some((start, end)) = self.take_line() else {
                return Ok(None);
            };
            let mut c = Cur::new(self.body, start, end);
            c.skip_blanks();
            match c.peek() {
                None => continue,
                Some(b'#') => return text_comment(c).map(Some),
                Some(_) => return self.text_sample(c).map(Some),
            }
        }
    }

    fn text_sample(&mut self, mut c: Cur<'a>) -> Result<Entry<'a>, String> {
        let name = c.metric_name().ok_or_else(|| {
            format!(
                "expected a metric name or \"#\" at the start of the line, found {}",
                c.found()
            )
        })?;
        self.begin_sample(name);
        let mut blank = c.skip_blanks();
        let mut series_end = name.1;
        if c.eat(b'{') {
            self.take_label_set(&mut c)?;
            series_end = c.pos;
            blank = c.skip_blanks();
        }
        let series = &self.body[name.0..series_end];
        if c.at_end() {
            return Err(format!(
                "expected a value after {}, found end of line",
                quote(series)
            ));
        }
        if !blank {
            return Err(format!(
                "expected a blank and a value after {}, found {}",
                quote(series),
                c.found()
            ));
        }
        let tok = c.token(|b| matches!(b, b' ' | b'\t'));
        let value = parse_float(tok).ok_or_else(|| {
            format!(
                "invalid value {} for {}: expected a number, NaN, +Inf or -Inf",
                quote(tok),
                quote(series)
            )
        })?;
        c.skip_blanks();
        let mut timestamp = None;
        if !c.at_end() {
            let tok = c.token(|b| matches!(b, b' ' | b'\t'));
            timestamp = Some(parse_int_ms(tok).ok_or_else(|| {
                format!(
                    "invalid timestamp {} for {}: expected integer milliseconds",
                    quote(tok),
                    quote(series)
                )
            })?);
            c.skip_blanks();
            if !c.at_end() {
                return Err(format!(
                    "expected end of line after the timestamp of {}, found {}",
                    quote(series),
                    c.found()
                ));
            }
        }
        Ok(Entry::Sample {
            series,
            timestamp,
            value,
        })
    }
}

/// A label set after its `{`, up to and including the `}`.
pub(super) fn text_labels(
    c: &mut Cur<'_>,
    out: &mut Vec<LabelSpan>,
    check_utf8: bool,
) -> Result<(), String> {
    let mut seen = lex::NAME_BIT;
    loop {
        c.skip_blanks();
        if c.eat(b'}') {
            return Ok(());
        }
        let name = label_name(c)?;
        let lname = lex::Name(&c.b[name.0..name.1]);
        c.skip_blanks();
        if !c.eat(b'=') {
            return Err(format!(
                "expected \"=\" after label name {lname:?}, found {}",
                c.found()
            ));
        }
        c.skip_blanks();
        if c.peek() != Some(b'"') {
            return Err(format!(
                "expected a quoted value for label {lname:?}, found {}",
                c.found()
            ));
        }
        let (value, escaped) = c.quoted(false, check_utf8, lname)?;
        push_label(
            c.b,
            out,
            &mut seen,
            true,
            LabelSpan {
                name,
                value,
                escaped,
            },
        )?;
        c.skip_blanks();
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

fn label_name(c: &mut Cur<'_>) -> Result<Span, String> {
    c.label_name()
        .ok_or_else(|| format!("expected a label name or \"}}\", found {}", c.found()))
}

/// A line starting with `#`: HELP, TYPE or a free comment.
fn text_comment<'a>(mut c: Cur<'a>) -> Result<Entry<'a>, String> {
    c.pos += 1;
    // `#HELP` and a lone `# HELP` are plain comments, as in Prometheus's lexer.
    if !c.skip_blanks() {
        return Ok(Entry::Comment);
    }
    let kw = c.token(|b| matches!(b, b' ' | b'\t'));
    let is_help = kw == b"HELP";
    if !(is_help || kw == b"TYPE") || !c.skip_blanks() {
        return Ok(Entry::Comment);
    }
    let kw = if is_help { "HELP" } else { "TYPE" };
    let name = c.metric_name().ok_or_else(|| {
        format!(
            "expected a metric name after \"# {kw}\", found {}",
            c.found()
        )
    })?;
    let name = lex::ascii(&c.b[name.0..name.1]);
    if !c.at_end() && !c.skip_blanks() {
        return Err(format!(
            "expected a blank after the metric name in \"# {kw} {name}\", found {}",
            c.found()
        ));
    }
    let rest = &c.b[c.pos..c.end];
    if is_help {
        if std::str::from_utf8(rest).is_err() {
            return Err(format!("help text of {name:?} is not valid UTF-8"));
        }
        return Ok(Entry::Help {
            name,
            text: lex::unescape(rest, false),
        });
    }
    let ty = rest.trim_ascii_end();
    let kind = match ty {
        b"counter" => MetricType::Counter,
        b"gauge" => MetricType::Gauge,
        b"histogram" => MetricType::Histogram,
        b"summary" => MetricType::Summary,
        b"untyped" => MetricType::Unknown,
        _ => {
            return Err(format!(
                "invalid metric type {} for {name:?}: expected counter, gauge, histogram, summary or untyped",
                quote(ty)
            ))
        }
    };
    Ok(Entry::Type { name, kind })
}
