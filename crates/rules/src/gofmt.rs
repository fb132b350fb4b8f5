//! Go's number, duration and time formatting, reproduced where Prometheus's
//! output reaches users: template functions (`%.4g`), promtool's failure
//! blocks (`FormatFloat(v, 'E', -1, 64)`), the API's alert values
//! (`'e'`), and Go's time printing. Durations live in
//! `sightline_core::duration`, shared with the other config readers.

/// Decimal digits of `v` (no leading/trailing zeros) and the position of
/// the decimal point relative to them (`dp`): `v = 0.d1d2... * 10^dp`.
/// `sig` = None asks for the shortest digits that round-trip.
fn digits(v: f64, sig: Option<usize>) -> (String, i32) {
    let s = match sig {
        Some(p) => format!("{:.*e}", p.saturating_sub(1), v.abs()),
        None => format!("{:e}", v.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while d.len() > 1 && d.ends_with('0') {
        d.pop();
    }
    (d, exp + 1)
}

fn special(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

fn sign(v: f64) -> &'static str {
    if v.is_sign_negative() {
        "-"
    } else {
        ""
    }
}

fn fmt_e(neg: &str, d: &str, dp: i32, decimals: usize, e: char) -> String {
    let mut out = String::from(neg);
    let bytes: Vec<char> = d.chars().collect();
    out.push(bytes[0]);
    if decimals > 0 {
        out.push('.');
        for i in 1..=decimals {
            out.push(*bytes.get(i).unwrap_or(&'0'));
        }
    }
    let x = if d == "0" { 0 } else { dp - 1 };
    out.push(e);
    out.push(if x < 0 { '-' } else { '+' });
    let x = x.abs();
    if x < 10 {
        out.push('0');
    }
    out.push_str(&x.to_string());
    out
}

fn fmt_f(neg: &str, d: &str, dp: i32, decimals: usize) -> String {
    let mut out = String::from(neg);
    let ch: Vec<char> = d.chars().collect();
    let digit = |i: i32| -> char {
        if i >= 0 && (i as usize) < ch.len() && d != "0" {
            ch[i as usize]
        } else {
            '0'
        }
    };
    if dp > 0 {
        for i in 0..dp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if decimals > 0 {
        out.push('.');
        for i in 0..decimals as i32 {
            out.push(digit(dp + i));
        }
    }
    out
}

/// Go's `fmt.Sprintf("%.<prec>g", v)`.
pub fn format_g(v: f64, prec: usize) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let prec = prec.max(1);
    let neg = sign(v);
    if v == 0.0 {
        return format!("{neg}0");
    }
    let (d, dp) = digits(v, Some(prec));
    let nd = d.len() as i32;
    let p = prec as i32;
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        let pp = p.min(nd);
        return fmt_e(neg, &d, dp, (pp - 1).max(0) as usize, 'e');
    }
    let pp = if p > dp { nd } else { p };
    fmt_f(neg, &d, dp, (pp - dp).max(0) as usize)
}

/// Go's `%v` for a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`).
pub fn format_shortest_g(v: f64) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let neg = sign(v);
    if v == 0.0 {
        return format!("{neg}0");
    }
    let (d, dp) = digits(v, None);
    let nd = d.len() as i32;
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        return fmt_e(neg, &d, dp, (nd - 1) as usize, 'e');
    }
    fmt_f(neg, &d, dp, (nd - dp).max(0) as usize)
}

/// `strconv.FormatFloat(v, 'e' or 'E', -1, 64)`.
pub fn format_shortest_e(v: f64, upper: bool) -> String {
    if let Some(s) = special(v) {
        return s;
    }
    let neg = sign(v);
    let e = if upper { 'E' } else { 'e' };
    if v == 0.0 {
        return format!("{neg}0{e}+00");
    }
    let (d, dp) = digits(v, None);
    fmt_e(neg, &d, dp, d.len() - 1, e)
}

/// Go's `time.Time.String()` in UTC: `2006-01-02 15:04:05.999999999 +0000 UTC`.
pub fn format_go_time(ms: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    let base = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let frac = ms.rem_euclid(1000);
    if frac == 0 {
        format!("{base} +0000 UTC")
    } else {
        let f = format!("{frac:03}");
        format!("{base}.{} +0000 UTC", f.trim_end_matches('0'))
    }
}

/// RFC 3339 with nanoseconds as Go's JSON encodes a `time.Time` in UTC.
pub fn format_rfc3339(ms: i64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
        return ms.to_string();
    };
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let frac = ms.rem_euclid(1000);
    if frac == 0 {
        format!("{base}Z")
    } else {
        let f = format!("{frac:03}");
        format!("{base}.{}Z", f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_formats_like_go() {
        assert_eq!(format_g(1.234567, 4), "1.235");
        assert_eq!(format_g(1000.0, 4), "1000");
        assert_eq!(format_g(10000.0, 4), "1e+04");
        assert_eq!(format_g(1.5, 4), "1.5");
        assert_eq!(format_g(0.5, 4), "0.5");
        assert_eq!(format_g(123.456, 4), "123.5");
        assert_eq!(format_g(0.0, 4), "0");
        assert_eq!(format_g(0.00001234, 4), "1.234e-05");
        assert_eq!(format_g(f64::INFINITY, 4), "+Inf");
        assert_eq!(format_shortest_g(1e6), "1e+06");
        assert_eq!(format_shortest_g(123456.0), "123456");
        assert_eq!(format_shortest_g(0.0001), "0.0001");
        assert_eq!(format_shortest_g(0.00001), "1e-05");
        assert_eq!(format_shortest_g(-2.5), "-2.5");
        assert_eq!(format_shortest_e(3.0, true), "3E+00");
        assert_eq!(format_shortest_e(1234.5, true), "1.2345E+03");
        assert_eq!(format_shortest_e(0.0, false), "0e+00");
    }

    #[test]
    fn times_print_like_go() {
        assert_eq!(format_go_time(1000), "1970-01-01 00:00:01 +0000 UTC");
        assert_eq!(format_rfc3339(1500), "1970-01-01T00:00:01.5Z");
    }
}
