//! Go's number and time formatting in the forms the rules engine prints:
//! template functions (`%.4g`), promtool's failure blocks
//! (`FormatFloat(v, 'E', -1, 64)`), the API's alert values (`'e'`), and
//! Go's time printing. The digits come from `sightline_core::gofmt`, the
//! one float formatter; durations from `sightline_core::duration`; times
//! from `sightline_core::time` (here only taking milliseconds).

use sightline_core::{gofmt, time};

/// Go's `fmt.Sprintf("%.<prec>g", v)`.
pub fn format_g(v: f64, prec: usize) -> String {
    gofmt::format_float(v, 'g', prec as i32)
}

/// Go's `%v` for a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`).
pub fn format_shortest_g(v: f64) -> String {
    gofmt::shortest_g(v)
}

/// `strconv.FormatFloat(v, 'e' or 'E', -1, 64)`.
pub fn format_shortest_e(v: f64, upper: bool) -> String {
    gofmt::format_float(v, if upper { 'E' } else { 'e' }, -1)
}

/// Go's `time.Time.String()` in UTC of a millisecond time:
/// `2006-01-02 15:04:05.999 +0000 UTC` (the number itself outside chrono's range).
pub fn format_go_time(ms: i64) -> String {
    time::from_ms(ms).map_or_else(|| ms.to_string(), |t| time::go_string(&t))
}

/// RFC 3339 with nanoseconds as Go's JSON encodes a `time.Time` in UTC.
pub fn format_rfc3339(ms: i64) -> String {
    time::from_ms(ms).map_or_else(|| ms.to_string(), |t| time::rfc3339_nano(&t))
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
