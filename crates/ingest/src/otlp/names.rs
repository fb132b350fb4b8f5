//! OTLP metric, unit and attribute names to Prometheus names.
//!
//! The rules are the OpenTelemetry specification's "Prometheus and
//! OpenMetrics compatibility" (metric points to Prometheus) as Prometheus 3
//! applies them (its `otlptranslator` package, `MetricNamer`, `UnitNamer`
//! and `LabelNamer` with Prometheus's default `otlp:` settings):
//!
//! - With escaping, the name is split on every character outside
//!   `[a-zA-Z0-9:]` and the pieces are joined with `_` (so `http.server..x`
//!   becomes `http_server_x`); a leading digit gets a `_` in front.
//! - With suffixes, the unit is appended: the main unit through a table
//!   (`s` -> `seconds`, `By` -> `bytes`, ...; unknown units as written), the
//!   "per" unit after `/` through another (`s` -> `second`), as
//!   `per_<unit>`; units in curly braces (`{requests}`) are annotations and
//!   add nothing. A suffix the name already contains is not added twice.
//!   Monotonic sums end in `_total`, gauges with unit `1` in `_ratio`.
//! - Label names (attribute keys): invalid characters become `_` (runs are
//!   kept, as Prometheus's default `label_name_preserve_multiple_underscores`),
//!   a leading digit gets `key_`, a single leading `_` gets `key` (the
//!   default `label_name_underscore_sanitization`); `__reserved__` names stay.

use super::config::TranslationStrategy;

/// What kind of Prometheus series an OTLP metric becomes; it decides the
/// suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A gauge, or a non-monotonic sum.
    Gauge,
    /// A monotonic sum: a counter, named `..._total`.
    Counter,
    /// An explicit-bucket or exponential histogram.
    Histogram,
    /// A summary.
    Summary,
}

/// Builds the Prometheus metric name of an OTLP metric. `None` when the
/// name escapes to nothing (or only underscores), which Prometheus refuses.
pub fn metric_name(
    name: &str,
    unit: &str,
    kind: MetricKind,
    strategy: TranslationStrategy,
) -> Option<String> {
    let out = match (strategy.escapes(), strategy.adds_suffixes()) {
        (true, true) => escaped_with_suffixes(name, unit, kind),
        (true, false) => {
            let mut s = name
                .split(|c: char| !is_metric_char(c) && c != '_')
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            if s.starts_with(|c: char| c.is_ascii_digit()) {
                s.insert(0, '_');
            }
            s
        }
        (false, true) => utf8_with_suffixes(name, unit, kind),
        (false, false) => name.to_owned(),
    };
    if out.is_empty() || (out != name && out.bytes().all(|b| b == b'_')) {
        return None;
    }
    Some(out)
}

fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ':'
}

fn escaped_with_suffixes(name: &str, unit: &str, kind: MetricKind) -> String {
    let mut tokens: Vec<String> = name
        .split(|c: char| !is_metric_char(c))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let (main, per) = unit_suffixes(unit);
    let mut main = clean_unit(&main);
    let mut per = clean_unit(&per);
    if tokens.contains(&main) {
        main.clear();
    }
    if per == "per_" {
        per.clear();
    } else {
        if per.ends_with('_') {
            per.pop();
        }
        if tokens.contains(&per) {
            per.clear();
        }
    }
    if !per.is_empty() && main.ends_with('_') {
        main.pop();
    }
    if !main.is_empty() {
        tokens.push(main);
    }
    if !per.is_empty() {
        tokens.push(per);
    }
    if kind == MetricKind::Counter {
        tokens.retain(|t| t != "total");
        tokens.push("total".into());
    }
    if unit == "1" && kind == MetricKind::Gauge {
        tokens.retain(|t| t != "ratio");
        tokens.push("ratio".into());
    }
    let mut s = tokens.join("_");
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

/// `NoUTF8EscapingWithSuffixes`: the name as given, suffixes added.
fn utf8_with_suffixes(name: &str, unit: &str, kind: MetricKind) -> String {
    let mut base = name.to_owned();
    let mut tail = Vec::new();
    if unit == "1" && kind == MetricKind::Gauge {
        trim_suffix_and_delimiter(&mut base, "ratio");
        tail.push("ratio".to_owned());
    }
    if kind == MetricKind::Counter {
        trim_suffix_and_delimiter(&mut base, "total");
        tail.push("total".to_owned());
    }
    let (main, per) = unit_suffixes(unit);
    if !per.is_empty() {
        trim_suffix_and_delimiter(&mut base, &per);
        tail.push(per);
    }
    if !main.is_empty() && !base.ends_with(&main) {
        base.push('_');
        base.push_str(&main);
    }
    // Innermost suffix first: unit, then per unit, _total, _ratio.
    for t in tail.iter().rev() {
        base.push('_');
        base.push_str(t);
    }
    base
}

fn trim_suffix_and_delimiter(s: &mut String, suffix: &str) {
    if s.ends_with(suffix) && s.len() > suffix.len() + 1 {
        s.truncate(s.len() - suffix.len() - 1);
    }
}

/// The main and the `per_` suffix of a UCUM unit, before cleaning.
fn unit_suffixes(unit: &str) -> (String, String) {
    let mut parts = unit.splitn(2, '/');
    let main = parts.next().unwrap_or("").trim();
    let main = if main.is_empty() || main.contains(['{', '}']) {
        String::new()
    } else {
        main_unit(main).to_owned()
    };
    let per = match parts.next().map(str::trim) {
        Some(p) if !p.is_empty() && !p.contains(['{', '}']) => format!("per_{}", per_unit(p)),
        _ => String::new(),
    };
    (main, per)
}

fn main_unit(u: &str) -> &str {
    match u {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit(u: &str) -> &str {
    match u {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// Invalid characters to `_`, runs of `_` collapsed, no leading `_`.
fn clean_unit(u: &str) -> String {
    let mut out = String::with_capacity(u.len());
    for c in u.chars() {
        let c = if is_metric_char(c) { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.starts_with('_') {
        out.remove(0);
    }
    out
}

/// The Prometheus unit (for metadata) of an OTLP unit: `s` -> `seconds`,
/// `By/s` -> `bytes_per_second`, `1` -> empty.
pub fn unit_name(unit: &str, escape: bool) -> String {
    let (mut main, mut per) = unit_suffixes(unit);
    if escape {
        main = clean_unit(&main);
        per = clean_unit(&per);
    }
    let mut u = match (main.is_empty(), per.is_empty()) {
        (false, false) => format!("{main}_{per}"),
        (false, true) => main,
        _ => per,
    };
    if u.starts_with('_') {
        u.remove(0);
    }
    if u.ends_with('_') {
        u.pop();
    }
    u
}

/// How attribute keys become label names (the translation strategy's
/// escaping and the two `label_name_*` keys of the `otlp:` section).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelNaming {
    /// Escape to `[a-zA-Z_][a-zA-Z0-9_]*`; false keeps UTF-8 keys.
    pub escape: bool,
    /// Prefix `key` to a name starting with a single `_`.
    pub underscore_sanitization: bool,
    /// Keep runs of `_`; false collapses them to one.
    pub preserve_multiple_underscores: bool,
}

impl Default for LabelNaming {
    fn default() -> Self {
        LabelNaming {
            escape: true,
            underscore_sanitization: true,
            preserve_multiple_underscores: true,
        }
    }
}

/// Builds a label name from an attribute key. `None` for an empty key, or
/// one that escapes to underscores only.
pub fn label_name(key: &str, naming: LabelNaming) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    if !naming.escape {
        return Some(key.to_owned());
    }
    let valid = key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && (naming.preserve_multiple_underscores || !key.contains("__"));
    let sanitized: std::borrow::Cow<'_, str> = if valid {
        key.into()
    } else {
        let mut out = String::with_capacity(key.len());
        for c in key.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            };
            if c == '_' && !naming.preserve_multiple_underscores && out.ends_with('_') {
                continue;
            }
            out.push(c);
        }
        out.into()
    };
    let b = sanitized.as_bytes();
    let out = if b[0].is_ascii_digit() {
        format!("key_{sanitized}")
    } else if naming.underscore_sanitization && b[0] == b'_' && b.get(1) != Some(&b'_') {
        format!("key{sanitized}")
    } else {
        sanitized.into_owned()
    };
    if out.bytes().all(|c| c == b'_') {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricKind::*;
    use TranslationStrategy::*;

    fn n(name: &str, unit: &str, kind: MetricKind) -> String {
        metric_name(name, unit, kind, UnderscoreEscapingWithSuffixes).unwrap()
    }

    /// The OTel specification's and Prometheus's documented examples
    /// (issue 12), checked by hand against the rules above.
    #[test]
    fn spec_examples_with_escaping_and_suffixes() {
        assert_eq!(
            n("http.server.duration", "s", Histogram),
            "http_server_duration_seconds"
        );
        assert_eq!(n("requests.count", "1", Counter), "requests_count_total");
        assert_eq!(n("memory.usage", "By", Gauge), "memory_usage_bytes");
        assert_eq!(
            n("system.cpu.utilization", "1", Gauge),
            "system_cpu_utilization_ratio"
        );
        assert_eq!(n("speed", "m/s", Gauge), "speed_meters_per_second");
        assert_eq!(
            n("throughput", "By/s", Counter),
            "throughput_bytes_per_second_total"
        );
        assert_eq!(
            n("http.requests", "{request}", Counter),
            "http_requests_total"
        );
        assert_eq!(n("packets", "{packets}/s", Gauge), "packets_per_second");
        assert_eq!(n("requests_total", "", Counter), "requests_total");
        assert_eq!(n("total.requests", "", Counter), "requests_total");
        assert_eq!(n("ratio_x", "1", Gauge), "x_ratio");
        assert_eq!(n("latency_seconds", "s", Histogram), "latency_seconds");
        assert_eq!(n("temp", "Cel", Gauge), "temp_celsius");
        assert_eq!(n("x", "%", Gauge), "x_percent");
        assert_eq!(n("x", "widgets", Gauge), "x_widgets");
        assert_eq!(n("x", "1", Counter), "x_total");
        assert_eq!(n("x", "1", Summary), "x");
        assert_eq!(n("a..b__c", "", Gauge), "a_b_c");
        assert_eq!(n("1st.metric", "", Gauge), "_1st_metric");
        assert_eq!(n("ns:metric", "ms", Gauge), "ns:metric_milliseconds");
        assert_eq!(n("öl.menge", "", Gauge), "l_menge");
        assert_eq!(n("x", "req/w", Gauge), "x_req_per_week");
        assert_eq!(n("x", "MiBy", Gauge), "x_mebibytes");
    }

    #[test]
    fn names_that_escape_to_nothing_are_refused() {
        assert_eq!(
            metric_name("...", "", Gauge, UnderscoreEscapingWithSuffixes),
            None
        );
        assert_eq!(metric_name("", "", Gauge, NoTranslation), None);
        assert_eq!(
            metric_name(".._..", "", Gauge, UnderscoreEscapingWithoutSuffixes),
            None
        );
        // Unchanged names are fine, even all underscores (as Prometheus).
        assert!(metric_name("__", "", Gauge, UnderscoreEscapingWithoutSuffixes).is_some());
    }

    #[test]
    fn other_strategies() {
        let s = |name, unit, kind, st| metric_name(name, unit, kind, st).unwrap();
        assert_eq!(
            s("http.server.duration", "s", Histogram, NoTranslation),
            "http.server.duration"
        );
        assert_eq!(
            s("http.requests", "1", Counter, NoTranslation),
            "http.requests"
        );
        assert_eq!(
            s(
                "http.server.duration",
                "s",
                Histogram,
                NoUTF8EscapingWithSuffixes
            ),
            "http.server.duration_seconds"
        );
        assert_eq!(
            s("http.requests", "1", Counter, NoUTF8EscapingWithSuffixes),
            "http.requests_total"
        );
        assert_eq!(
            s("cpu.util", "1", Gauge, NoUTF8EscapingWithSuffixes),
            "cpu.util_ratio"
        );
        assert_eq!(
            s("io", "By/s", Counter, NoUTF8EscapingWithSuffixes),
            "io_bytes_per_second_total"
        );
        assert_eq!(
            s(
                "http.requests",
                "1",
                Counter,
                UnderscoreEscapingWithoutSuffixes
            ),
            "http_requests"
        );
        assert_eq!(
            s("a__b", "s", Gauge, UnderscoreEscapingWithoutSuffixes),
            "a__b"
        );
    }

    #[test]
    fn units() {
        assert_eq!(unit_name("s", true), "seconds");
        assert_eq!(unit_name("By/s", true), "bytes_per_second");
        assert_eq!(unit_name("1", true), "");
        assert_eq!(unit_name("{request}", true), "");
        assert_eq!(unit_name("{request}/s", true), "per_second");
    }

    #[test]
    fn label_names() {
        let l = |k| label_name(k, LabelNaming::default());
        assert_eq!(l("http.method").as_deref(), Some("http_method"));
        assert_eq!(l("service_name").as_deref(), Some("service_name"));
        assert_eq!(l("123invalid").as_deref(), Some("key_123invalid"));
        assert_eq!(l("_private").as_deref(), Some("key_private"));
        assert_eq!(l("__reserved__").as_deref(), Some("__reserved__"));
        assert_eq!(l("a..b").as_deref(), Some("a__b"));
        assert_eq!(l("k8s.pod-name").as_deref(), Some("k8s_pod_name"));
        assert_eq!(l("..."), None);
        assert_eq!(l(".foo").as_deref(), Some("key_foo"));
        assert_eq!(l(""), None);
        let utf8 = LabelNaming {
            escape: false,
            ..LabelNaming::default()
        };
        assert_eq!(
            label_name("http.method", utf8).as_deref(),
            Some("http.method")
        );
        let collapse = LabelNaming {
            underscore_sanitization: false,
            preserve_multiple_underscores: false,
            ..LabelNaming::default()
        };
        assert_eq!(label_name("a..b", collapse).as_deref(), Some("a_b"));
        assert_eq!(label_name("_x", collapse).as_deref(), Some("_x"));
    }
}
