//! Go's float formatting, `strconv.FormatFloat(v, fmt, prec, 64)`: the one
//! definition every output that must read as Prometheus's calls (API JSON,
//! exposition text, label values made from numbers such as `le` and
//! `quantile`, template functions, promtool's messages, histogram strings).
//!
//! Rust's shortest formatting finds the same number of digits as Go's, but
//! can pick the other candidate of an exact tie (`...813` where Go prints
//! `...812`); [`shortest_digits`] re-derives such digits with exact
//! round-half-even formatting, as Go does. Layout (`1e+06`, `0.0001`,
//! `1E+03`) then follows Go's `%e`, `%f` and `%g` rules.

/// The shortest decimal digits that read back as `v` (finite, not zero),
/// chosen as Go chooses them: among equally short candidates the one
/// nearest `v`, ties to even. Returns the digits and the decimal exponent
/// of the first digit (`d.ddd × 10^exp`); the sign is the caller's.
pub fn shortest_digits(v: f64) -> (String, i32) {
    let split = |s: &str| -> (String, i32) {
        let (m, e) = s.split_once('e').unwrap_or((s, "0"));
        let digits: String = m.chars().filter(char::is_ascii_digit).collect();
        (digits, e.parse().unwrap_or(0))
    };
    let (digits, exp) = split(&format!("{:e}", v.abs()));
    if digits.len() > 1 {
        let exact = format!("{:.*e}", digits.len() - 1, v.abs());
        if exact.parse::<f64>().ok() == Some(v.abs()) {
            return split(&exact);
        }
    }
    (digits, exp)
}

/// `strconv.FormatFloat(v, fmt, prec, 64)` for `fmt` one of `e E f g G`;
/// `prec` -1 asks for the shortest digits that read back as `v`.
pub fn format_float(v: f64, fmt: char, prec: i32) -> String {
    let mut out = String::new();
    push_float(&mut out, v, fmt, prec);
    out
}

/// Go's `%v` / `%g` for a float (`FormatFloat(v, 'g', -1, 64)`): the form
/// of PromQL's messages, histogram strings and blackbox_exporter's output
/// (`1e+06`, `0.0001`, `3.668918509e+09`).
pub fn shortest_g(v: f64) -> String {
    format_float(v, 'g', -1)
}

/// `FormatFloat(v, 'f', -1, 64)`: label values made from numbers (`le`,
/// `quantile`) and `count_values`'s output (`0.0000001`, `1e21` in full).
pub fn shortest_f(v: f64) -> String {
    format_float(v, 'f', -1)
}

/// [`format_float`] appending to `out`.
pub fn push_float(out: &mut String, v: f64, fmt: char, prec: i32) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    let shortest = prec < 0;
    // Decimal digits without trailing zeros, and the place of the decimal
    // point: v = 0.d1d2d3... × 10^dp (Go's `decimalSlice`). Zero has none.
    let (digits, dp) = if v == 0.0 {
        (Vec::new(), 0)
    } else if shortest {
        let (d, exp) = shortest_digits(v);
        (d.into_bytes(), exp + 1)
    } else {
        let sig = match fmt {
            'e' | 'E' => prec + 1,
            'g' | 'G' => prec.max(1),
            _ => {
                // %f with a precision rounds at a fixed decimal place,
                // which Rust's formatter does exactly, ties to even.
                out.push_str(&format!("{:.*}", prec as usize, v.abs()));
                return;
            }
        };
        let s = format!("{:.*e}", (sig - 1) as usize, v.abs());
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let mut d: Vec<u8> = m.bytes().filter(u8::is_ascii_digit).collect();
        while d.len() > 1 && d.last() == Some(&b'0') {
            d.pop();
        }
        (d, e.parse::<i32>().unwrap_or(0) + 1)
    };
    let nd = digits.len() as i32;
    match fmt {
        'e' | 'E' => {
            let p = if shortest { (nd - 1).max(0) } else { prec };
            push_e(out, &digits, dp, p, fmt);
        }
        'g' | 'G' => {
            let mut p = if shortest { nd } else { prec.max(1) };
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                let e = if fmt == 'g' { 'e' } else { 'E' };
                push_e(out, &digits, dp, (p - 1).max(0), e);
            } else {
                if p > dp {
                    p = nd;
                }
                push_f(out, &digits, dp, (p - dp).max(0));
            }
        }
        _ => {
            let p = if shortest { (nd - dp).max(0) } else { prec };
            push_f(out, &digits, dp, p);
        }
    }
}

/// Go's `fmtE`: `d.ddde±xx` with `prec` digits after the point.
fn push_e(out: &mut String, d: &[u8], dp: i32, prec: i32, e: char) {
    out.push(d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as usize {
            out.push(d.get(i).map_or('0', |&c| c as char));
        }
    }
    out.push(e);
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// Go's `fmtF`: the integer part (at least `0`), then `prec` decimals.
fn push_f(out: &mut String, d: &[u8], dp: i32, prec: i32) {
    let digit = |i: i32| -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| d.get(i))
            .map_or('0', |&c| c as char)
    };
    if dp > 0 {
        for i in 0..dp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            out.push(digit(dp + i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format_float as f;

    #[test]
    // The tie case below is exactly representable; its digits are the point.
    #[allow(clippy::excessive_precision)]
    fn shortest_forms_print_as_go() {
        // Expected strings are Go's strconv.FormatFloat output (as printed
        // by Prometheus, blackbox_exporter and promtool on this machine).
        let cases: &[(f64, char, &str)] = &[
            (0.0, 'f', "0"),
            (-0.0, 'f', "-0"),
            (0.1 + 0.2, 'f', "0.30000000000000004"),
            (1e20, 'f', "100000000000000000000"),
            (1e-7, 'f', "0.0000001"),
            (123456.789, 'f', "123456.789"),
            (-0.243000030517578125, 'f', "-0.24300003051757812"),
            (1e21, 'e', "1e+21"),
            (1.5e300, 'e', "1.5e+300"),
            (-2.5e-10, 'e', "-2.5e-10"),
            (0.0, 'e', "0e+00"),
            (1.7976931348623157e308, 'e', "1.7976931348623157e+308"),
            (3.0, 'E', "3E+00"),
            (1234.5, 'E', "1.2345E+03"),
            (3668918509.0, 'g', "3.668918509e+09"),
            (1.2289e-05, 'g', "1.2289e-05"),
            (0.001743131, 'g', "0.001743131"),
            (335.0, 'g', "335"),
            (0.0, 'g', "0"),
            (1.5e21, 'g', "1.5e+21"),
            (0.0001, 'g', "0.0001"),
            (0.00001, 'g', "1e-05"),
            (1e6, 'g', "1e+06"),
            (123456.0, 'g', "123456"),
            (-2.5, 'g', "-2.5"),
            (f64::NAN, 'g', "NaN"),
            (f64::INFINITY, 'f', "+Inf"),
            (f64::NEG_INFINITY, 'e', "-Inf"),
        ];
        for &(v, fmt, want) in cases {
            assert_eq!(f(v, fmt, -1), want, "{v:?} as {fmt}");
        }
    }

    #[test]
    fn fixed_precisions_print_as_go() {
        // Go's fmt.Sprintf("%.4g") / ("%.2f") / ("%.3e") results.
        assert_eq!(f(1.234567, 'g', 4), "1.235");
        assert_eq!(f(1000.0, 'g', 4), "1000");
        assert_eq!(f(10000.0, 'g', 4), "1e+04");
        assert_eq!(f(1.5, 'g', 4), "1.5");
        assert_eq!(f(123.456, 'g', 4), "123.5");
        assert_eq!(f(0.0, 'g', 4), "0");
        assert_eq!(f(0.00001234, 'g', 4), "1.234e-05");
        assert_eq!(f(2.675, 'f', 2), "2.67"); // 2.675 is below the tie in binary
        assert_eq!(f(-0.5, 'f', 0), "-0");
        assert_eq!(f(1234.5, 'e', 3), "1.234e+03"); // an exact tie, to even
        assert_eq!(f(0.0, 'e', 2), "0.00e+00");
    }
}
