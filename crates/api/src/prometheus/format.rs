//! Prometheus's JSON, byte for byte: sample values as Go prints them,
//! timestamps as seconds with the millisecond fraction Prometheus writes,
//! and strings escaped as Go's `encoding/json` escapes them.
//!
//! Query results are written by hand rather than through `serde_json`:
//! `serde_json` would print `1.500` as `1.5` and does not escape `<`, `>`
//! and `&` as Go does, and large results are cheaper to write straight
//! into byte buffers: a query answer goes out in pieces of [`PIECE`] bytes
//! ([`write_query_body`]) while it is being written.

use sightline_core::Labels;
use sightline_promql::{QueryResult, Value};
use std::fmt::Write as _;

/// Go's `strconv.FormatFloat(v, fmt, -1, 64)` for `fmt` `'f'` or `'e'`.
fn push_go_float(out: &mut String, v: f64, fmt: char) {
    // Fast paths for the common cases, which need no digit juggling:
    // whole numbers (counters), and 'f' values whose shortest form has
    // fewer than 16 significant digits (a tie between two shortest
    // candidates needs the full 16-17 digits of precision).
    if fmt == 'f' && v.is_finite() {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            if v == 0.0 && v.is_sign_negative() {
                out.push_str("-0");
            } else {
                out.push_str(itoa::Buffer::new().format(v as i64));
            }
            return;
        }
        let start = out.len();
        let _ = write!(out, "{v}");
        let significant = out[start..]
            .bytes()
            .filter(u8::is_ascii_digit)
            .skip_while(|b| *b == b'0')
            .count();
        if significant < 16 {
            return;
        }
        out.truncate(start);
    }
    push_go_float_exact(out, v, fmt);
}

/// [`push_go_float`] without the fast paths.
fn push_go_float_exact(out: &mut String, v: f64, fmt: char) {
    sightline_core::gofmt::push_float(out, v, fmt, -1);
}

/// Appends a sample value of a vector or matrix as Prometheus's
/// `marshalFloat` does: Go's shortest `'f'` format, switching to `'e'`
/// for magnitudes below 1e-6 or from 1e21 on, with `NaN`, `+Inf`, `-Inf`.
pub(crate) fn push_float(out: &mut String, v: f64) {
    let abs = v.abs();
    let fmt = if abs != 0.0 && abs.is_finite() && !(1e-6..1e21).contains(&abs) {
        'e'
    } else {
        'f'
    };
    push_go_float(out, v, fmt);
}

/// A value as [`push_float`] prints it.
#[cfg(test)]
pub(crate) fn format_float(v: f64) -> String {
    let mut s = String::new();
    push_float(&mut s, v);
    s
}

/// Appends a millisecond timestamp as Prometheus's `marshalTimestamp`
/// does: seconds, then `.` and three digits when the milliseconds are not
/// zero (`1.500`, not `1.5`).
pub(crate) fn push_timestamp(out: &mut String, t_ms: i64) {
    if t_ms < 0 {
        out.push('-');
    }
    // Unsigned, so that i64::MIN has a magnitude too.
    let t = t_ms.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(t / 1000));
    let frac = (t % 1000) as u16;
    if frac != 0 {
        let digit = |d: u16| b'0' + (d % 10) as u8;
        let digits = [b'.', digit(frac / 100), digit(frac / 10), digit(frac)];
        // Four ASCII bytes.
        out.push_str(std::str::from_utf8(&digits).unwrap_or_default());
    }
}

/// Appends `s` as a JSON string, escaped as Go's `encoding/json` does with
/// HTML escaping on (what Prometheus's jsoniter configuration uses).
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Label names and values rarely need escaping: copy them whole.
    if !s
        .bytes()
        .any(|b| b < 0x20 || matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xe2))
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a label set as a JSON object, names in sorted order.
pub(crate) fn push_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, &l.name);
        out.push(':');
        push_json_str(out, &l.value);
    }
    out.push('}');
}

/// Appends a JSON array of strings.
pub(crate) fn push_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, s.as_ref());
    }
    out.push(']');
}

/// Timestamps as [`push_timestamp`] writes them, remembered by the point's
/// position in its series: the series of a range query share one step
/// grid, so the j-th point of a series mostly has the time of the j-th
/// point of the one before, and each step is formatted once, not once per
/// series.
#[derive(Default)]
struct StepTimes(Vec<(i64, u8, [u8; 24])>);

impl StepTimes {
    fn get(&mut self, j: usize, t: i64) -> &[u8] {
        if j >= self.0.len() {
            self.0.resize(j + 1, (0, 0, [0; 24]));
        }
        let e = &mut self.0[j];
        // A written timestamp is never empty, so length 0 marks a free slot.
        if e.1 == 0 || e.0 != t {
            let mut s = String::with_capacity(24);
            push_timestamp(&mut s, t);
            e.0 = t;
            e.1 = s.len() as u8;
            e.2[..s.len()].copy_from_slice(s.as_bytes());
        }
        &e.2[..e.1 as usize]
    }
}

/// The text of the value last written in a matrix series, with its bits:
/// a range query's step is often shorter than the scrape interval, so a
/// series repeats each value over several steps (60 times for 1 s steps
/// over a 60 s scrape) and it is formatted once per run, not per point.
struct LastValue {
    bits: u64,
    /// 0 while nothing is cached (a formatted value is never empty).
    len: u8,
    text: [u8; 40],
}

impl Default for LastValue {
    fn default() -> Self {
        LastValue {
            bits: 0,
            len: 0,
            text: [0; 40],
        }
    }
}

impl LastValue {
    /// The value's text as [`push_float`] writes it (with `scratch` as
    /// room to format it), or `None` when it does not fit the cache.
    fn get(&mut self, v: f64, scratch: &mut String) -> Option<&[u8]> {
        if self.len == 0 || self.bits != v.to_bits() {
            // Whole numbers (counters) print as integers: see `push_go_float`.
            let whole = v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative());
            let mut ib = itoa::Buffer::new();
            let text = if whole {
                ib.format(v as i64).as_bytes()
            } else {
                scratch.clear();
                push_float(scratch, v);
                scratch.as_bytes()
            };
            if text.len() > self.text.len() {
                self.len = 0;
                return None;
            }
            self.text[..text.len()].copy_from_slice(text);
            self.len = text.len() as u8;
            self.bits = v.to_bits();
        }
        Some(&self.text[..self.len as usize])
    }
}

/// [`push_point`] for the j-th point of a matrix series: the whole point is
/// put together on the stack and appended in one fixed-size copy (cut back
/// to its length after), which the compiler inlines; a call to `memcpy` per
/// point of variable length costs more than the point itself.
fn push_matrix_point(
    w: &mut Pieces<'_>,
    times: &mut StepTimes,
    last: &mut LastValue,
    j: usize,
    t: i64,
    v: f64,
) {
    let mut buf = [0u8; 96];
    let ts = times.get(j, t);
    let mut n = 1 + ts.len();
    buf[0] = b'[';
    buf[1..n].copy_from_slice(ts);
    buf[n..n + 2].copy_from_slice(b",\"");
    n += 2;
    let Some(text) = last.get(v, &mut w.text) else {
        w.out.extend_from_slice(&buf[..n]);
        w.text(|out| {
            push_float(out, v);
            out.push_str("\"]");
        });
        return;
    };
    buf[n..n + text.len()].copy_from_slice(text);
    n += text.len();
    buf[n..n + 2].copy_from_slice(b"\"]");
    n += 2;
    let start = w.out.len();
    w.out.extend_from_slice(&buf);
    w.out.truncate(start + n);
}

/// Appends a native histogram as Prometheus's `jsonutil.MarshalHistogram`:
/// `{"count":"5","sum":"12.5","buckets":[[0,"0.5","1","1"],...]}`, each
/// bucket `[boundary rule, lower, upper, count]` with the rule 0 for
/// `(l,u]`, 1 for `[l,u)`, 2 for `(l,u)` and 3 for `[l,u]`; empty buckets
/// are left out, and so is `buckets` when none is left.
pub(crate) fn push_histogram(out: &mut String, h: &sightline_core::FloatHistogram) {
    out.push_str("{\"count\":\"");
    push_float(out, h.count);
    out.push_str("\",\"sum\":\"");
    push_float(out, h.sum);
    out.push('"');
    let mut first = true;
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        out.push_str(if first { ",\"buckets\":[" } else { "," });
        first = false;
        let rule = match (b.lower_inclusive, b.upper_inclusive) {
            (false, true) => '0',
            (true, false) => '1',
            (false, false) => '2',
            (true, true) => '3',
        };
        out.push('[');
        out.push(rule);
        for v in [b.lower, b.upper, b.count] {
            out.push_str(",\"");
            push_float(out, v);
            out.push('"');
        }
        out.push(']');
    }
    if !first {
        out.push(']');
    }
    out.push('}');
}

fn push_hist_point(out: &mut String, t_ms: i64, h: &sightline_core::FloatHistogram) {
    out.push('[');
    push_timestamp(out, t_ms);
    out.push(',');
    push_histogram(out, h);
    out.push(']');
}

fn push_point(out: &mut String, t_ms: i64, v: f64) {
    out.push('[');
    push_timestamp(out, t_ms);
    out.push_str(",\"");
    push_float(out, v);
    out.push_str("\"]");
}

/// Bytes per piece of a streamed query response: large enough that
/// framing and wake-ups cost nothing per point, small enough that a large
/// matrix is not held twice, once as values and once as JSON.
pub(crate) const PIECE: usize = 256 * 1024;

/// A body written in pieces: each time the buffer passes `piece` bytes it
/// goes to `spill` (the HTTP response), which answers false once nobody
/// wants the rest (the client went away).
struct Pieces<'a> {
    /// Bytes rather than a `String`: points are put together on the stack
    /// and appended without checking them again for UTF-8.
    out: Vec<u8>,
    /// Scratch for the parts written by the `String` helpers.
    text: String,
    piece: usize,
    spill: &'a mut dyn FnMut(Vec<u8>) -> bool,
    open: bool,
}

impl Pieces<'_> {
    #[inline]
    fn maybe_spill(&mut self) {
        if self.out.len() >= self.piece && self.open {
            // A piece may overrun by one point or label set; the slack
            // keeps that from reallocating.
            let next = Vec::with_capacity(self.piece + self.piece / 4);
            self.open = (self.spill)(std::mem::replace(&mut self.out, next));
        }
    }

    /// Appends what `f` writes with the `String` helpers.
    #[inline]
    fn text(&mut self, f: impl FnOnce(&mut String)) {
        self.text.clear();
        f(&mut self.text);
        self.out.extend_from_slice(self.text.as_bytes());
    }
}

/// Roughly how many bytes the JSON of `value` takes, to size the first
/// piece so that a small answer is written without reallocating.
fn size_hint(value: &Value) -> usize {
    let labels = |l: &Labels| l.byte_len() + 6 * l.len() + 16;
    match value {
        Value::Scalar(..) | Value::String(..) => 128,
        Value::Vector(v) => v.iter().map(|s| labels(&s.labels) + 48).sum(),
        Value::Matrix(m) => m
            .iter()
            .map(|s| labels(&s.labels) + 24 + 26 * s.points.len())
            .sum(),
    }
}

/// Writes the whole success body of a query (the `data` object, then
/// `warnings` and `infos` when not empty) in pieces of about `piece` bytes
/// handed to `spill`. Series are freed as soon as they are written.
pub(crate) fn write_query_body(
    r: QueryResult,
    piece: usize,
    spill: &mut dyn FnMut(Vec<u8>) -> bool,
) {
    let cap = (size_hint(&r.value) + 256).min(piece + piece / 4);
    let mut w = Pieces {
        out: Vec::with_capacity(cap),
        text: String::new(),
        piece,
        spill,
        open: true,
    };
    w.out
        .extend_from_slice(b"{\"status\":\"success\",\"data\":");
    write_data(r.value, &mut w);
    if !r.warnings.is_empty() {
        w.out.extend_from_slice(b",\"warnings\":");
        w.text(|t| push_str_array(t, &r.warnings));
    }
    if !r.infos.is_empty() {
        w.out.extend_from_slice(b",\"infos\":");
        w.text(|t| push_str_array(t, &r.infos));
    }
    w.out.push(b'}');
    if w.open {
        (w.spill)(w.out);
    }
}

/// The `data` object of `/api/v1/query` and `/api/v1/query_range`:
/// `{"resultType":..,"result":..}`.
fn write_data(value: Value, w: &mut Pieces<'_>) {
    w.out.extend_from_slice(b"{\"resultType\":\"");
    w.out.extend_from_slice(value.type_name().as_bytes());
    w.out.extend_from_slice(b"\",\"result\":");
    match value {
        // Scalars and strings go through Go's encoding/json in Prometheus
        // (`promql.Scalar.MarshalJSON`): the timestamp is the float t/1000
        // in its shortest form (`1.5`, not `1.500`) and a scalar's value is
        // always in the 'f' format.
        Value::Scalar(t, v) => w.text(|out| {
            out.push('[');
            push_go_float(out, t as f64 / 1000.0, 'f');
            out.push_str(",\"");
            push_go_float(out, v, 'f');
            out.push_str("\"]");
        }),
        Value::String(t, s) => w.text(|out| {
            out.push('[');
            push_go_float(out, t as f64 / 1000.0, 'f');
            out.push(',');
            push_json_str(out, &s);
            out.push(']');
        }),
        Value::Vector(samples) => {
            w.out.push(b'[');
            for (i, s) in samples.into_iter().enumerate() {
                if !w.open {
                    return;
                }
                w.text(|out| {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"metric\":");
                    push_labels(out, &s.labels);
                    match &s.h {
                        Some(h) => {
                            out.push_str(",\"histogram\":");
                            push_hist_point(out, s.t, h);
                        }
                        None => {
                            out.push_str(",\"value\":");
                            push_point(out, s.t, s.v);
                        }
                    }
                    out.push('}');
                });
                w.maybe_spill();
            }
            w.out.push(b']');
        }
        Value::Matrix(series) => {
            let mut times = StepTimes::default();
            w.out.push(b'[');
            for (i, s) in series.into_iter().enumerate() {
                if !w.open {
                    return;
                }
                w.text(|out| {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"metric\":");
                    push_labels(out, &s.labels);
                });
                // As Prometheus: `values` and `histograms` each only when
                // the series has points of that kind.
                if !s.points.is_empty() || s.histograms.is_empty() {
                    w.out.extend_from_slice(b",\"values\":[");
                    let mut last = LastValue::default();
                    for (j, p) in s.points.iter().enumerate() {
                        if j > 0 {
                            w.out.push(b',');
                        }
                        push_matrix_point(w, &mut times, &mut last, j, p.t, p.v);
                        w.maybe_spill();
                    }
                    w.out.push(b']');
                }
                if !s.histograms.is_empty() {
                    w.out.extend_from_slice(b",\"histograms\":[");
                    for (j, p) in s.histograms.iter().enumerate() {
                        w.text(|out| {
                            if j > 0 {
                                out.push(',');
                            }
                            push_hist_point(out, p.t, &p.h);
                        });
                        w.maybe_spill();
                    }
                    w.out.push(b']');
                }
                w.out.push(b'}');
            }
            w.out.push(b']');
        }
    }
    w.out.push(b'}');
}

/// The `data` object of a query, written whole.
#[cfg(test)]
pub(crate) fn query_data(value: &Value) -> String {
    let mut body = String::new();
    let r = QueryResult {
        value: value.clone(),
        warnings: Vec::new(),
        infos: Vec::new(),
    };
    write_query_body(r, usize::MAX / 2, &mut |piece| {
        body.push_str(std::str::from_utf8(&piece).expect("UTF-8"));
        true
    });
    let data = body.strip_prefix("{\"status\":\"success\",\"data\":");
    data.and_then(|d| d.strip_suffix('}'))
        .unwrap_or_default()
        .to_owned()
}

/// The whole success envelope around an already encoded `data`, with
/// `warnings` and `infos` present only when not empty, as Prometheus
/// omits them.
pub(crate) fn success_body(data: &str, warnings: &[String], infos: &[String]) -> String {
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str("{\"status\":\"success\",\"data\":");
    out.push_str(data);
    if !warnings.is_empty() {
        out.push_str(",\"warnings\":");
        push_str_array(&mut out, warnings);
    }
    if !infos.is_empty() {
        out.push_str(",\"infos\":");
        push_str_array(&mut out, infos);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::Sample;
    use sightline_promql::{InstantSample, RangeSeries};

    #[test]
    // The tie case below is exactly representable; its digits are the point.
    #[allow(clippy::excessive_precision)]
    fn floats_print_as_go_marshal_float() {
        // Expected strings are Go's strconv.AppendFloat output for the
        // format Prometheus picks ('f' or 'e', precision -1).
        let cases: [(f64, &str); 16] = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (1e-6, "0.000001"),
            (1e-7, "1e-07"),
            (-2.5e-10, "-2.5e-10"),
            (123456.789, "123456.789"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            // An exact tie at 17 digits: Go rounds half to even.
            (-0.243000030517578125, "-0.24300003051757812"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(v), want, "value {v:?}");
        }
    }

    #[test]
    fn fast_paths_agree_with_the_exact_digits() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..200_000 {
            let v = match i % 4 {
                0 => f64::from_bits(next()),
                1 => (next() % 1_000_000) as f64 / 1000.0,
                2 => (next() % 100_000) as f64 * 0.1 - 5000.0,
                _ => (next() % 1_000_000_000) as f64,
            };
            if !v.is_finite() {
                continue;
            }
            let (mut fast, mut exact) = (String::new(), String::new());
            push_go_float(&mut fast, v, 'f');
            push_go_float_exact(&mut exact, v, 'f');
            assert_eq!(fast, exact, "{v:?}");
        }
    }

    #[test]
    fn matrix_points_match_the_plain_writer() {
        let mut times = StepTimes::default();
        let values = [
            0.0,
            -0.0,
            1.0,
            -7.0,
            1e15,
            0.25,
            f64::NAN,
            f64::INFINITY,
            1e-7,
            0.1 + 0.2,
            -0.0,
            1.0,
        ];
        // One cache across all points, as in a series: each value repeats
        // (hits) and then changes, including 0 to -0 (same value, other bits).
        let mut last = LastValue::default();
        for (k, &v) in values.iter().enumerate() {
            for t in [1_700_000_000_000, 1_700_000_000_005, -1_500, k as i64] {
                let mut spill = |_: Vec<u8>| true;
                let mut w = Pieces {
                    out: Vec::new(),
                    text: String::new(),
                    piece: usize::MAX,
                    spill: &mut spill,
                    open: true,
                };
                push_matrix_point(&mut w, &mut times, &mut last, k % 3, t, v);
                let mut b = String::new();
                push_point(&mut b, t, v);
                assert_eq!(String::from_utf8(w.out).unwrap(), b, "{t} {v:?}");
            }
        }
    }

    #[test]
    fn timestamps_keep_three_fraction_digits() {
        let cases: [(i64, &str); 6] = [
            (1_700_000_000_000, "1700000000"),
            (1_700_000_000_500, "1700000000.500"),
            (1_700_000_000_050, "1700000000.050"),
            (1_700_000_000_005, "1700000000.005"),
            (-1_500, "-1.500"),
            (0, "0"),
        ];
        for (t, want) in cases {
            let mut s = String::new();
            push_timestamp(&mut s, t);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn strings_escape_as_go() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\n<&>\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u003c\u0026\u003e\u0001é""#);
    }

    #[test]
    fn query_data_shapes() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let v = Value::Vector(vec![InstantSample {
            labels: l.clone(),
            t: 1_500,
            v: f64::NAN,
            h: None,
        }]);
        assert_eq!(
            query_data(&v),
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1.500,"NaN"]}]}"#
        );
        let m = Value::Matrix(vec![RangeSeries {
            labels: l,
            points: vec![Sample::new(1000, 1.0), Sample::new(2000, 2.5)],
            histograms: Vec::new(),
        }]);
        assert_eq!(
            query_data(&m),
            r#"{"resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[1,"1"],[2,"2.5"]]}]}"#
        );
        // issue 12: native histograms as Prometheus's API writes them
        // (web/api/v1 json codec: count and sum as strings, buckets as
        // [rule, lower, upper, count], empty buckets left out; the zero
        // bucket is closed on both sides, rule 3).
        let h = sightline_core::FloatHistogram {
            count: 5.0,
            sum: 12.5,
            zero_threshold: 0.001,
            zero_count: 1.0,
            positive_spans: vec![sightline_core::histogram::Span {
                offset: 0,
                length: 3,
            }],
            positive_buckets: vec![1.0, 0.0, 3.0],
            ..Default::default()
        };
        let v = Value::Vector(vec![InstantSample {
            labels: Labels::empty(),
            t: 1_500,
            v: 0.0,
            h: Some(h.clone()),
        }]);
        assert_eq!(
            query_data(&v),
            r#"{"resultType":"vector","result":[{"metric":{},"histogram":[1.500,{"count":"5","sum":"12.5","buckets":[[3,"-0.001","0.001","1"],[0,"0.5","1","1"],[0,"2","4","3"]]}]}]}"#
        );
        let m = Value::Matrix(vec![RangeSeries {
            labels: Labels::empty(),
            points: Vec::new(),
            histograms: vec![sightline_core::HistogramSample {
                t: 2000,
                h: sightline_core::FloatHistogram::default(),
            }],
        }]);
        assert_eq!(
            query_data(&m),
            r#"{"resultType":"matrix","result":[{"metric":{},"histograms":[[2,{"count":"0","sum":"0"}]]}]}"#
        );
        // Prometheus 2.42 answers `1e-7` at time=1.5 with
        // [1.5,"0.0000001"] and `"a"` with [1.5,"a"].
        assert_eq!(
            query_data(&Value::Scalar(1500, 1e-7)),
            r#"{"resultType":"scalar","result":[1.5,"0.0000001"]}"#
        );
        assert_eq!(
            query_data(&Value::Scalar(1_700_000_000_120, 2.5e22)),
            r#"{"resultType":"scalar","result":[1700000000.12,"25000000000000000000000"]}"#
        );
        assert_eq!(
            query_data(&Value::String(1500, "a".into())),
            r#"{"resultType":"string","result":[1.5,"a"]}"#
        );
        assert_eq!(
            success_body("[]", &["w".into()], &[]),
            r#"{"status":"success","data":[],"warnings":["w"]}"#
        );
    }
}
