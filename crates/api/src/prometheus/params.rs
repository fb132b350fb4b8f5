//! Request parameters as Prometheus reads them: from the URL query and,
//! for POST, an `application/x-www-form-urlencoded` body (body values
//! first, as Go's `Request.FormValue`), with Prometheus's time, duration
//! and matcher syntax and its error messages.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use sightline_core::{duration, time, MatchOp, Matcher, METRIC_NAME};

/// Smallest timestamp Prometheus's API accepts, in milliseconds
/// (`timestamp.FromTime(v1.MinTime)`): the default `start` of metadata
/// endpoints.
pub(crate) const MIN_TIME_MS: i64 = -9_223_309_901_257_974_000;
/// Largest one (`timestamp.FromTime(v1.MaxTime)`): the default `end`.
pub(crate) const MAX_TIME_MS: i64 = 9_223_309_901_257_974_999;
/// `v1.MinTime` and `v1.MaxTime` formatted as RFC 3339: clients (Grafana,
/// Thanos) send these, and Go's time parser cannot read 9-digit years.
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// The parameters of one request, in Go's `Request.Form` order.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Reads the URL query and, when the body is form-encoded, the body.
    pub(crate) fn new(raw_query: Option<&str>, headers: &HeaderMap, body: &Bytes) -> Form {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if is_form {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        if let Some(q) = raw_query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Form { pairs }
    }

    /// The first value of `name`, or "" (Go's `FormValue`).
    pub(crate) fn value(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// `invalid parameter "name": cause`, Prometheus's `invalidParamError`.
pub(crate) fn invalid_param(name: &str, cause: impl std::fmt::Display) -> String {
    format!("invalid parameter {name:?}: {cause}")
}

/// Go's `%q` for ASCII-printable input, which is all our messages quote
/// from user input that matters; other characters are escaped as Rust
/// does, close enough for a human.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// Parses a time as Prometheus's `parseTime`: unix seconds as a float
/// (rounded to milliseconds) or RFC 3339, into milliseconds.
pub(crate) fn parse_time(s: &str) -> Result<i64, String> {
    if let Some(f) = parse_go_float(s) {
        // Go: seconds and a fraction rounded to milliseconds.
        let secs = f.trunc();
        let frac = ((f - secs) * 1000.0).round() / 1000.0;
        let ms = secs * 1000.0 + frac * 1000.0;
        if ms.is_finite() && ms.abs() < 9.2e18 {
            return Ok(ms.round() as i64);
        }
        return Err(format!("cannot parse {} to a valid timestamp", go_quote(s)));
    }
    if let Ok(t) = time::parse_rfc3339(s) {
        return Ok(time::to_ms(&t));
    }
    match s {
        MIN_TIME_FORMATTED => Ok(MIN_TIME_MS),
        MAX_TIME_FORMATTED => Ok(MAX_TIME_MS),
        _ => Err(format!("cannot parse {} to a valid timestamp", go_quote(s))),
    }
}

/// `parseTimeParam`: the default when the parameter is absent or empty,
/// else [`parse_time`] with the parameter named in the message.
pub(crate) fn time_param(form: &Form, name: &str, default: i64) -> Result<i64, String> {
    let v = form.value(name);
    if v.is_empty() {
        return Ok(default);
    }
    parse_time(v).map_err(|e| invalid_param(name, format!("Invalid time value for '{name}': {e}")))
}

/// Parses a duration as Prometheus's `parseDuration`: float seconds or a
/// Prometheus duration (`1h30m`), into nanoseconds.
pub(crate) fn parse_duration_ns(s: &str) -> Result<i64, String> {
    if let Some(f) = parse_go_float(s) {
        let ns = f * 1e9;
        if ns.is_nan() || ns >= i64::MAX as f64 || ns <= i64::MIN as f64 {
            return Err(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(s)
            ));
        }
        return Ok(ns as i64);
    }
    // The duration branch is `model.ParseDuration`, whose own error
    // Prometheus replaces with this one.
    duration::parse_prometheus(s)
        .map(|ms| ms * 1_000_000)
        .map_err(|_| format!("cannot parse {} to a valid duration", go_quote(s)))
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms people send: decimal,
/// exponent, `Inf`/`NaN` words. Rust's parser agrees on these; it also
/// reads "infinity" spellings Go reads.
fn parse_go_float(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains('_') {
        return None;
    }
    s.parse::<f64>().ok()
}

/// `limit` as Prometheus 3 reads it: empty means none (0), negative is refused.
pub(crate) fn limit_param(form: &Form) -> Result<usize, String> {
    let s = form.value("limit");
    if s.is_empty() {
        return Ok(0);
    }
    let n: i64 = s.parse().map_err(|_| {
        invalid_param(
            "limit",
            format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(s)),
        )
    })?;
    if n < 0 {
        return Err(invalid_param("limit", "limit must be non-negative"));
    }
    Ok(n as usize)
}

/// Parses one `match[]` selector (`up{job="a"}`, `{__name__=~"x.*"}`) into
/// matchers, as Prometheus's `parser.ParseMetricSelector`.
pub(crate) fn parse_selector(s: &str) -> Result<Vec<Matcher>, String> {
    let expr = sightline_promql::parse(s).map_err(|e| {
        // Our parser refuses `{a=~".*"}` itself; Prometheus's parses it
        // and `parseMatchersParam` refuses it with this message.
        let m = e.to_string();
        if m.contains("at least one non-empty matcher") {
            EMPTY_MATCHERS.to_owned()
        } else {
            m
        }
    })?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(format!(
            "1:1: parse error: expected a metric selector such as up{{job=\"a\"}}, got {s:?}"
        ));
    };
    if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
        return Err(format!(
            "1:1: parse error: a metric selector may not use offset, @ or `or`: {s:?}"
        ));
    }
    let mut out = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(n) = &vs.name {
        out.push(Matcher::equal(METRIC_NAME, n.clone()));
    }
    for m in &vs.matchers.matchers {
        use promql_parser::label::MatchOp as P;
        let op = match m.op {
            P::Equal => MatchOp::Equal,
            P::NotEqual => MatchOp::NotEqual,
            P::Re(_) => MatchOp::Regex,
            P::NotRe(_) => MatchOp::NotRegex,
        };
        out.push(Matcher::new(op, m.name.clone(), m.value.clone()).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

const EMPTY_MATCHERS: &str = "match[] must contain at least one non-empty matcher";

/// `parseMatchersParam`: every `match[]` parsed; each set must have a
/// matcher that does not match the empty string, or it would select
/// every series.
pub(crate) fn parse_match_sets(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let sets = values
        .iter()
        .map(|s| parse_selector(s))
        .collect::<Result<Vec<_>, _>>()?;
    for set in &sets {
        if set.iter().all(Matcher::matches_empty) {
            return Err(EMPTY_MATCHERS.into());
        }
    }
    Ok(sets)
}

pub(crate) use sightline_core::time::now_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_prometheus() {
        assert_eq!(parse_time("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(parse_time("1700000000.1234").unwrap(), 1_700_000_000_123);
        assert_eq!(parse_time("-1.5").unwrap(), -1_500);
        assert_eq!(parse_time("1.5e9").unwrap(), 1_500_000_000_000);
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time("2023-11-14T23:13:20.5+01:00").unwrap(),
            1_700_000_000_500
        );
        assert_eq!(parse_time(MAX_TIME_FORMATTED).unwrap(), MAX_TIME_MS);
        assert_eq!(parse_time(MIN_TIME_FORMATTED).unwrap(), MIN_TIME_MS);
        assert_eq!(
            parse_time("yesterday").unwrap_err(),
            r#"cannot parse "yesterday" to a valid timestamp"#
        );
    }

    #[test]
    fn durations_parse_as_prometheus() {
        assert_eq!(parse_duration_ns("15").unwrap(), 15_000_000_000);
        assert_eq!(parse_duration_ns("0.5").unwrap(), 500_000_000);
        assert_eq!(parse_duration_ns("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(parse_duration_ns("100ms").unwrap(), 100_000_000);
        assert_eq!(parse_duration_ns("1d").unwrap(), 86_400_000_000_000);
        // Units must descend and appear once, as model.ParseDuration wants.
        assert!(parse_duration_ns("30s1m").is_err());
        assert!(parse_duration_ns("1m1m").is_err());
        assert!(parse_duration_ns("").is_err());
        assert_eq!(
            parse_duration_ns("1e300").unwrap_err(),
            r#"cannot parse "1e300" to a valid duration. It overflows int64"#
        );
        assert_eq!(
            parse_duration_ns("soon").unwrap_err(),
            r#"cannot parse "soon" to a valid duration"#
        );
    }

    #[test]
    fn form_reads_body_before_query_and_repeats() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        let body = Bytes::from_static(b"query=up&match%5B%5D=a");
        let f = Form::new(Some("query=down&match[]=b"), &h, &body);
        assert_eq!(f.value("query"), "up");
        assert_eq!(f.values("match[]"), vec!["a", "b"]);
        assert_eq!(f.value("missing"), "");
    }

    #[test]
    fn match_sets_need_a_non_empty_matcher() {
        let sets = parse_match_sets(&["up{job=\"a\"}", "{__name__=~\"x.+\"}"]).unwrap();
        assert_eq!(sets[0].len(), 2);
        assert_eq!(
            parse_match_sets(&["{job=~\".*\"}"]).unwrap_err(),
            "match[] must contain at least one non-empty matcher"
        );
        assert!(parse_match_sets(&["sum(up)"]).is_err());
        assert!(parse_match_sets(&["up{"]).is_err());
    }
}
