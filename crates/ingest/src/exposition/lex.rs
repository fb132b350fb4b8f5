//! Byte-level pieces both formats share: a cursor over one line, name
//! classes, quoted label values, numbers and timestamps.
//!
//! Everything works on byte ranges of the body, so parsing a line allocates
//! nothing; strings are built only when a caller asks for labels.

/// Byte classes, as bit flags in [`CLASS`].
const METRIC_START: u8 = 1;
const METRIC_CONT: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CONT: u8 = 8;

/// `[a-zA-Z_:]` starts a metric name, `[a-zA-Z0-9_:]` continues it; label
/// names are the same without `:`. A table lookup per byte is the cheapest
/// way to scan names, which are most of a body's bytes.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let alpha = c.is_ascii_alphabetic() || c == b'_';
        let digit = c.is_ascii_digit();
        let mut f = 0;
        if alpha || c == b':' {
            f |= METRIC_START | METRIC_CONT;
        }
        if digit {
            f |= METRIC_CONT | LABEL_CONT;
        }
        if alpha {
            f |= LABEL_START | LABEL_CONT;
        }
        t[i] = f;
        i += 1;
    }
    t
};

/// Whether `b` may appear in a metric name after its first byte.
pub(super) fn is_metric_cont(b: u8) -> bool {
    CLASS[b as usize] & METRIC_CONT != 0
}

/// A byte range of the body.
pub(super) type Span = (usize, usize);

/// One label of a sample or exemplar as byte ranges of the body. `value`
/// excludes the quotes; `escaped` says whether it holds a backslash.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LabelSpan {
    pub name: Span,
    pub value: Span,
    pub escaped: bool,
}

/// A cursor over one line `b[pos..end]` (the `\n` excluded).
pub(super) struct Cur<'a> {
    pub b: &'a [u8],
    pub pos: usize,
    pub end: usize,
}

impl<'a> Cur<'a> {
    pub fn new(b: &'a [u8], start: usize, end: usize) -> Self {
        Cur { b, pos: start, end }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    pub fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            Some(self.b[self.pos])
        } else {
            None
        }
    }

    /// Consumes `c` if it is next.
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips blanks and tabs; true when there were any.
    pub fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while self.pos < self.end && matches!(self.b[self.pos], b' ' | b'\t') {
            self.pos += 1;
        }
        self.pos > start
    }

    fn name(&mut self, start: u8, cont: u8) -> Option<Span> {
        let s = self.pos;
        if s >= self.end || CLASS[self.b[s] as usize] & start == 0 {
            return None;
        }
        let mut i = s + 1;
        while i < self.end && CLASS[self.b[i] as usize] & cont != 0 {
            i += 1;
        }
        self.pos = i;
        Some((s, i))
    }

    /// A metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    pub fn metric_name(&mut self) -> Option<Span> {
        self.name(METRIC_START, METRIC_CONT)
    }

    /// A label name, `[a-zA-Z_][a-zA-Z0-9_]*`.
    pub fn label_name(&mut self) -> Option<Span> {
        self.name(LABEL_START, LABEL_CONT)
    }

    /// The bytes up to the next byte for which `stop` is true, or to the
    /// end of the line.
    pub fn token(&mut self, stop: impl Fn(u8) -> bool) -> &'a [u8] {
        let s = self.pos;
        while self.pos < self.end && !stop(self.b[self.pos]) {
            self.pos += 1;
        }
        &self.b[s..self.pos]
    }

    /// Describes what stands at the cursor for an error message: the next
    /// word, quoted, or "end of line".
    pub fn found(&self) -> String {
        if self.at_end() {
            return "end of line".to_owned();
        }
        let mut e = self.pos + 1;
        while e < self.end && e - self.pos < 24 && !matches!(self.b[e], b' ' | b'\t') {
            e += 1;
        }
        quote(&self.b[self.pos..e])
    }

    /// A double-quoted label value starting at the cursor (which must be on
    /// the opening quote). Returns the range inside the quotes and whether it
    /// contains escapes. `strict` rejects escapes other than `\\`, `\"` and
    /// `\n` (OpenMetrics); the text format keeps them verbatim, as
    /// Prometheus does. Values must be valid UTF-8; `check_utf8` is false
    /// when the whole body is already known to be.
    pub fn quoted(
        &mut self,
        strict: bool,
        check_utf8: bool,
        label: Name<'_>,
    ) -> Result<(Span, bool), String> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        let unterminated =
            || format!("value of label {label:?} has no closing quote before the end of the line");
        loop {
            // Jump to the next quote or backslash: label values are long
            // runs of plain bytes.
            match memchr::memchr2(b'"', b'\\', &self.b[i..self.end]) {
                None => return Err(unterminated()),
                Some(n) => i += n,
            }
            if self.b[i] == b'"' {
                break;
            }
            escaped = true;
            if i + 1 >= self.end {
                return Err(unterminated());
            }
            let n = self.b[i + 1];
            if strict && !matches!(n, b'\\' | b'"' | b'n') {
                return Err(format!(
                    "invalid escape sequence {} in value of label {label:?} (allowed: \\\\, \\\" and \\n)",
                    quote(&self.b[i..(i + 2).min(self.end)])
                ));
            }
            i += 2;
        }
        if check_utf8 && std::str::from_utf8(&self.b[start..i]).is_err() {
            return Err(format!("value of label {label:?} is not valid UTF-8"));
        }
        self.pos = i + 1;
        Ok(((start, i), escaped))
    }
}

/// Where the label set whose `{` ends just before `start` ends: the
/// offset just past its `}`, or `None` when the line `b[..end]` has no `}`
/// outside a quoted value. A quote opens or closes a value, and inside one
/// a backslash takes the next byte with it, so `}` and `\"` in values are
/// skipped; nothing else is checked. This is all a sample needs to hand out
/// its series text, and it costs a fraction of lexing each label, which
/// most samples never need (their text is already in the scrape cache).
/// For a label set the lexer accepts, it ends exactly where the lexer does:
/// outside values such a set has no `}` but the last and no backslash.
pub(super) fn label_set_end(b: &[u8], start: usize, end: usize) -> Option<usize> {
    let line = &b[..end];
    let mut i = start;
    let mut in_value = false;
    loop {
        i = next_special(line, i)?;
        match line[i] {
            b'"' => in_value = !in_value,
            b'}' if !in_value => return Some(i + 1),
            // An escape pair: its second byte may be a quote. The lexer
            // refuses a backslash at the end of the line, and so do we.
            b'\\' if in_value => {
                if i + 1 >= end {
                    return None;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The first `"`, `\` or `}` in `b[from..]`, eight bytes at a time.
/// `memchr3` did the same, but label names and values are mostly shorter
/// than its vectors, and its call overhead per search made the scan cost
/// as much as the lexing it replaces.
#[inline]
fn next_special(b: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // 0x80 in each byte of `w` that is zero, exactly (no borrow between
    // bytes, unlike the shorter `(w - LO) & !w` test).
    let zero_bytes = |w: u64| !(((w & LOW7) + LOW7) | w | LOW7);
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let hits = zero_bytes(w ^ (LO * u64::from(b'"')))
            | zero_bytes(w ^ (LO * u64::from(b'\\')))
            | zero_bytes(w ^ (LO * u64::from(b'}')));
        if hits != 0 {
            // Little-endian: the lowest set bit is the first such byte.
            return Some(i + hits.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    b.get(i..)?
        .iter()
        .position(|&c| matches!(c, b'"' | b'\\' | b'}'))
        .map(|n| i + n)
}

/// A name from the body, printed quoted in messages; building one costs
/// nothing, so parsers make them eagerly and format them only on error.
#[derive(Clone, Copy)]
pub(super) struct Name<'a>(pub &'a [u8]);

impl std::fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.0))
    }
}

/// Adds a label, refusing a name already present (or `__name__`, which the
/// metric name already sets): a label set with a repeated name has no
/// meaning, and Prometheus's storage rejects it. `seen` is a per-label-set
/// bitmask over (length, first byte) so that the usual case of distinct
/// names costs no comparisons; a series' label set starts it at
/// [`NAME_BIT`], an exemplar's at 0 (exemplars have no metric name).
pub(super) fn push_label(
    b: &[u8],
    out: &mut Vec<LabelSpan>,
    seen: &mut u64,
    series: bool,
    l: LabelSpan,
) -> Result<(), String> {
    let name = &b[l.name.0..l.name.1];
    let bit = name_bit(name);
    if *seen & bit != 0 {
        if series && name == b"__name__" {
            return Err("label \"__name__\" given in braces; the metric name sets it".to_owned());
        }
        if out.iter().any(|o| &b[o.name.0..o.name.1] == name) {
            return Err(format!("duplicate label name {}", quote(name)));
        }
    }
    *seen |= bit;
    out.push(l);
    Ok(())
}

/// A label name's bit in [`push_label`]'s mask, from its first and last
/// bytes and length (common names like `instance`, `job`, `handler`,
/// `code`, `le`, `quantile` and `__name__` all get different bits).
const fn name_bit(name: &[u8]) -> u64 {
    let h = name[0] as usize * 31 + name[name.len() - 1] as usize * 7 + name.len() * 131;
    1u64 << (h & 63)
}

/// The bit [`push_label`] uses for `__name__`: a label set starts with it
/// set, so that `__name__` in braces is caught.
pub(super) const NAME_BIT: u64 = name_bit(b"__name__");

/// Bytes as a quoted string for messages (lossy for invalid UTF-8).
pub(super) fn quote(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Bytes the grammar guarantees are ASCII as `&str`.
pub(super) fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// Undoes escapes: `\\` and `\n` always, `\"` when `quote` is set. Other
/// backslashes stay as they are (Prometheus's `strings.Replacer` behaviour).
pub(super) fn unescape(raw: &[u8], quote: bool) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == b'\\' && i + 1 < raw.len() {
            match raw[i + 1] {
                b'\\' => out.push(b'\\'),
                b'n' => out.push(b'\n'),
                b'"' if quote => out.push(b'"'),
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// A float as Go's `strconv.ParseFloat` reads it, which is what Prometheus
/// uses for values in both formats: decimal and exponent forms, `NaN`,
/// `Inf`/`Infinity` with an optional sign, any case. Rust's parser agrees
/// except that it also takes a signed NaN and turns overflow into infinity,
/// where Go fails; both are refused here. Hex floats and `_` separators fail
/// in both.
pub(super) fn parse_float(tok: &[u8]) -> Option<f64> {
    if let Some(v) = simple_decimal(tok) {
        return Some(v);
    }
    let s = std::str::from_utf8(tok).ok()?;
    let v: f64 = s.parse().ok()?;
    if v.is_nan() && matches!(tok[0], b'+' | b'-') {
        return None;
    }
    if v.is_infinite() && !tok.iter().any(|&b| b | 0x20 == b'i') {
        return None;
    }
    Some(v)
}

/// Exact powers of ten as doubles.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The common case of a value, `[-]digits[.digits]` with at most 15
/// digits, without the general parser: the digits form an integer below
/// 2^53 and 10^k is exact, so one division gives the correctly rounded
/// result (Clinger's fast path). Anything else returns `None`.
fn simple_decimal(tok: &[u8]) -> Option<f64> {
    let (neg, digits) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        _ => (false, tok),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut m: u64 = 0;
    let mut n = 0;
    let mut frac: Option<usize> = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(b - b'0');
                n += 1;
            }
            b'.' if frac.is_none() => frac = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    if n == 0 || n > 15 {
        return None;
    }
    let v = m as f64 / POW10[frac.unwrap_or(0)];
    Some(if neg { -v } else { v })
}

/// A text-format timestamp: integer milliseconds. The spec calls it an
/// int64, so a leading `-` is allowed (for times before 1970).
pub(super) fn parse_int_ms(tok: &[u8]) -> Option<i64> {
    let (neg, digits) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        _ => (false, tok),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        // Accumulate negatively so that i64::MIN itself fits.
        v = v.checked_mul(10)?.checked_sub(i64::from(b - b'0'))?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// Seconds as written (`1520879607.789`, `1.5e9`, `-3`) to milliseconds,
/// truncating below the millisecond as Prometheus's `int64(ts*1000)` does.
/// Plain decimals are converted digit by digit, so `1.001` gives exactly
/// 1001 ms (the float product gives 1000.9999...); other forms go through
/// the float. Returns `None` for what is not a number, NaN, infinities and
/// out-of-range values.
pub(super) fn seconds_to_ms(tok: &[u8]) -> Option<i64> {
    let (neg, digits) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        Some(b'+') => (false, &tok[1..]),
        _ => (false, tok),
    };
    let (int, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    let plain = !(int.is_empty() && frac.is_empty())
        && int.iter().all(u8::is_ascii_digit)
        && frac.iter().all(u8::is_ascii_digit);
    if !plain {
        let ms = parse_float(tok)? * 1000.0;
        if !ms.is_finite() || ms.abs() >= 9.2e18 {
            return None;
        }
        return Some(ms as i64);
    }
    let mut v: i64 = 0;
    for &b in int {
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    for k in 0..3 {
        let d = frac.get(k).map_or(0, |&b| i64::from(b - b'0'));
        v = v.checked_mul(10)?.checked_add(d)?;
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_go_parse_float() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+2", 2.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("1.5e+2", 150.0),
            ("+Inf", f64::INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("inf", f64::INFINITY),
            ("Infinity", f64::INFINITY),
            ("-infinity", f64::NEG_INFINITY),
            ("1e-400", 0.0),
        ];
        for (s, want) in ok {
            assert_eq!(parse_float(s.as_bytes()), Some(*want), "{s}");
        }
        for s in ["NaN", "nan", "NAN"] {
            assert!(parse_float(s.as_bytes()).unwrap().is_nan(), "{s}");
        }
        for s in [
            "", "+NaN", "-nan", "1e400", "-1e400", "0x1p3", "0x10", "1_000", "abc", "1.2.3",
            "Inf1", "infin", ".", "e5", "1e", " 1", "1 ",
        ] {
            assert_eq!(parse_float(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn common_label_names_do_not_share_bits() {
        let names: [&[u8]; 8] = [
            b"__name__",
            b"instance",
            b"job",
            b"handler",
            b"code",
            b"le",
            b"quantile",
            b"method",
        ];
        let mut seen = 0u64;
        for n in names {
            assert_eq!(seen & name_bit(n), 0, "{}", String::from_utf8_lossy(n));
            seen |= name_bit(n);
        }
    }

    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        for s in [
            "0",
            "-0",
            "1",
            "17",
            "1.5",
            "-2.25",
            "0.1",
            "0.3",
            "123456789012345",
            "1.23456789012345",
            "99999.9999999999",
            "5.",
            ".5",
            "-.5",
            "0.000000000000001",
            "4503599627370497",
        ] {
            let general: f64 = s.parse().unwrap();
            match simple_decimal(s.as_bytes()) {
                Some(v) => assert_eq!(v.to_bits(), general.to_bits(), "{s}"),
                None => assert!(s.len() > 15, "{s} should take the fast path"),
            }
        }
        for s in ["", ".", "-", "1..2", "1e5", "+1", "1-", "--1"] {
            assert_eq!(simple_decimal(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn seconds_convert_exactly_for_plain_decimals() {
        let f = |s: &str| seconds_to_ms(s.as_bytes());
        assert_eq!(f("1.001"), Some(1001));
        assert_eq!(f("1520879607.789"), Some(1_520_879_607_789));
        assert_eq!(f("1520879607.7899"), Some(1_520_879_607_789));
        assert_eq!(f("-1.5"), Some(-1500));
        assert_eq!(f("+2"), Some(2000));
        assert_eq!(f(".5"), Some(500));
        assert_eq!(f("1.5e3"), Some(1_500_000));
        assert_eq!(f("NaN"), None);
        assert_eq!(f("+Inf"), None);
        assert_eq!(f("1e300"), None);
        assert_eq!(f("99999999999999999999"), None);
        assert_eq!(f(""), None);
        assert_eq!(f("."), None);
        assert_eq!(f("x"), None);
    }

    #[test]
    fn int_ms_takes_int64_only() {
        assert_eq!(parse_int_ms(b"1395066363000"), Some(1_395_066_363_000));
        assert_eq!(parse_int_ms(b"-5"), Some(-5));
        assert_eq!(parse_int_ms(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int_ms(b"9223372036854775808"), None);
        assert_eq!(parse_int_ms(b"+5"), None);
        assert_eq!(parse_int_ms(b"-"), None);
        assert_eq!(parse_int_ms(b"1.5"), None);
        assert_eq!(parse_int_ms(b"99999999999999999999"), None);
        assert_eq!(parse_int_ms(b""), None);
    }

    #[test]
    fn next_special_finds_the_first_quote_backslash_or_brace() {
        // Every position, in and beyond the first eight-byte word, and
        // bytes next to the specials (which a borrowing test would confuse).
        for len in 0..20 {
            for at in 0..=len {
                for c in [b'"', b'\\', b'}'] {
                    let mut b = vec![b'a'; len];
                    if at < len {
                        b[at] = c;
                    }
                    if at + 1 < len {
                        b[at + 1] = c.wrapping_add(1);
                    }
                    let want = (at < len).then_some(at);
                    assert_eq!(next_special(&b, 0), want, "{len} {at} {c}");
                }
            }
        }
        assert_eq!(next_special(b"ab}\x05\x7f\x80\xff\"\x01", 3), Some(7));
        assert_eq!(next_special(b"ab}", 3), None);
    }

    #[test]
    fn label_set_end_skips_quoted_values() {
        // Offsets are of the byte after `}`; the scan starts after `{`.
        let end = |s: &str| label_set_end(s.as_bytes(), 2, s.len());
        assert_eq!(end(r#"a{} 1"#), Some(3));
        assert_eq!(end(r#"a{x="1",y="2"} 1"#), Some(14));
        // `}` and `\"` inside a value are part of it.
        assert_eq!(end(r#"a{x="}"} 1"#), Some(8));
        assert_eq!(end(r#"a{x="q\"}\"",y="2"} 1"#), Some(19));
        // An escaped backslash right before the closing quote: the quote
        // closes the value, and the `}` after it ends the set.
        assert_eq!(end(r#"a{x="c:\\"} 1"#), Some(11));
        assert_eq!(end(r#"a{x="\\\\"} 1"#), Some(11));
        // Blanks and a trailing comma (text format) do not matter.
        assert_eq!(end(r#"a{ x = "1" , } 1"#), Some(14));
        // Only the line counts: `end` stops the scan.
        let b = b"a{x=\"1\"\n} 1";
        assert_eq!(label_set_end(b, 2, 8), None);
        for s in [
            r#"a{x="1" 1"#,
            r#"a{x="}"#,
            r#"a{x="1\"} 1"#,
            r#"a{x="1\"#,
            "a{",
        ] {
            assert_eq!(end(s), None, "{s}");
        }
    }

    #[test]
    fn unescape_handles_known_and_unknown_escapes() {
        assert_eq!(unescape(br#"a\\b\"c\nd\te"#, true), "a\\b\"c\nd\\te");
        assert_eq!(unescape(br#"q\"x"#, false), "q\\\"x");
    }
}
