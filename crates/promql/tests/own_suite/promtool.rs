//! Converts our `.test` files into `promtool test rules` files, so that
//! Prometheus (2.42, the Debian package) checks the expected values.
//!
//! Each `load` block becomes input series of a test group (a later `load`
//! or `clear` starts a new group), each float instant eval becomes a
//! `promql_expr_test`, and each step of a float range eval becomes one
//! too (an instant query at that step gives the same value). Every expr
//! carries a `# line N` comment, so promtool's report names the line. An
//! eval that expects an error is handed over with no expected samples,
//! and promtool must report an error for it.
//!
//! promtool compares floats exactly; a value that differs from ours only
//! in its last bits (another order of additions) is accepted here with
//! the `.test` harness's relative tolerance of 1e-6, read from promtool's
//! report of what it got.
//!
//! What promtool 2.42 cannot check is excluded, with the reason, and is
//! checked by hand only: see [`EXCLUDED_FUNCTIONS`], [`PEER_DIFFERS`] (where
//! 2.42 differs from the Prometheus we follow) and [`exclusion`].

use sightline_core::Labels;
use sightline_promql::promqltest::{expand_values, parse_float, parse_labels, split_series};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Functions that Prometheus 2.42 does not have, or has with a narrower
/// meaning, with the reason.
pub const EXCLUDED_FUNCTIONS: &[(&str, &str)] = &[
    ("limitk", "not in Prometheus 2.42"),
    ("limit_ratio", "not in Prometheus 2.42"),
    ("info", "not in Prometheus 2.42"),
    (
        "double_exponential_smoothing",
        "not in Prometheus 2.42 (its holt_winters, renamed since)",
    ),
    ("sort_by_label", "not in Prometheus 2.42"),
    ("sort_by_label_desc", "not in Prometheus 2.42"),
    ("first_over_time", "not in Prometheus 2.42"),
    ("mad_over_time", "not in Prometheus 2.42"),
    ("ts_of_min_over_time", "not in Prometheus 2.42"),
    ("ts_of_max_over_time", "not in Prometheus 2.42"),
    ("ts_of_first_over_time", "not in Prometheus 2.42"),
    ("ts_of_last_over_time", "not in Prometheus 2.42"),
    ("histogram_avg", "not in Prometheus 2.42"),
    ("histogram_stddev", "not in Prometheus 2.42"),
    ("histogram_stdvar", "not in Prometheus 2.42"),
    ("histogram_quantiles", "not in Prometheus 2.42"),
    (
        "histogram_fraction",
        "Prometheus 2.42 reads native histograms only in it, not classic buckets",
    ),
];

/// Queries whose result in Prometheus 2.42 differs from today's Prometheus,
/// which we follow, with the reason (checked by hand).
pub const PEER_DIFFERS: &[(&str, &str)] = &[(
    "req atan2 0",
    "Prometheus 2.42 keeps the metric name after atan2; later versions drop it \
     as after every arithmetic operator (upstream operators.test expects {} for trigy atan2 trigx)",
)];

/// A promtool file made from one `.test` file.
#[derive(Debug, Default)]
pub struct Converted {
    /// The YAML text for `promtool test rules`.
    pub yaml: String,
    /// Evals handed to promtool (a range eval counts once).
    pub checked: usize,
    /// Instant queries handed to promtool (one per step of a range eval).
    pub queries: usize,
    /// `line N: reason` per eval left out.
    pub excluded: Vec<String>,
    /// The `# line N (fails)` markers of evals that expect an error: promtool
    /// must report an error for each.
    pub expect_errors: Vec<String>,
}

#[derive(Default, Clone)]
struct Group {
    interval: i64,
    series: Vec<(Labels, BTreeMap<i64, f64>)>,
    /// Metric names of native-histogram series, left out of the input.
    native: Vec<String>,
    tests: Vec<ExprTest>,
}

#[derive(Clone)]
struct ExprTest {
    expr: String,
    at: i64,
    samples: Vec<(String, f64)>,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn is_command(l: &str) -> bool {
    l.starts_with("eval") || l.starts_with("load") || l.starts_with("clear")
}

fn duration(s: &str) -> Option<i64> {
    sightline_core::duration::parse_prometheus(s).ok()
}

fn mentions(query: &str, word: &str) -> bool {
    query.match_indices(word).any(|(i, _)| {
        let before = query[..i].chars().next_back();
        let after = query[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// Why promtool 2.42 cannot check an eval, if it cannot.
fn exclusion(query: &str, block: &[&str], native: &[String]) -> Option<String> {
    if block
        .iter()
        .any(|l| l.starts_with('"') || l.starts_with("expect string"))
    {
        return Some("expects a string, which promtool's unit tests cannot".into());
    }
    if block.iter().any(|l| l.contains("{{")) {
        return Some("expects native histograms, which promtool 2.42 cannot state".into());
    }
    if let Some((_, why)) = PEER_DIFFERS.iter().find(|(q, _)| *q == query) {
        return Some((*why).to_owned());
    }
    if let Some((f, why)) = EXCLUDED_FUNCTIONS.iter().find(|(f, _)| mentions(query, f)) {
        return Some(format!("{f}: {why}"));
    }
    if let Some(n) = native.iter().find(|n| mentions(query, n)) {
        return Some(format!(
            "selects native histograms ({n}), which promtool 2.42 cannot load"
        ));
    }
    None
}

fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn yaml_float(v: f64) -> String {
    if v.is_nan() {
        ".nan".into()
    } else if v == f64::INFINITY {
        ".inf".into()
    } else if v == f64::NEG_INFINITY {
        "-.inf".into()
    } else {
        format!("{v:?}")
    }
}

fn series_value(v: f64) -> String {
    if v.to_bits() == sightline_core::STALE_NAN.to_bits() {
        "stale".into()
    } else if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v:?}")
    }
}

fn promql_duration(ms: i64) -> String {
    if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Converts the text of one `.test` file.
pub fn convert(text: &str) -> Converted {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Converted::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut cur = Group::default();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let lineno = i + 1;
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut block = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() && !is_command(lines[i]) {
            let l = lines[i].trim();
            if !l.starts_with('#') {
                block.push(l);
            }
            i += 1;
        }
        let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match cmd {
            "clear" => {
                groups.push(std::mem::take(&mut cur));
            }
            "load" => {
                if !cur.tests.is_empty() {
                    // Later evals see more series than earlier ones did.
                    let next = Group {
                        tests: Vec::new(),
                        ..cur.clone()
                    };
                    groups.push(std::mem::replace(&mut cur, next));
                }
                let step = duration(rest.trim()).expect("load interval");
                cur.interval = gcd(cur.interval, step);
                for l in &block {
                    let (desc, vals) = split_series(l);
                    let labels = parse_labels(desc).expect("series labels");
                    if vals.contains("{{") {
                        cur.native
                            .push(labels.metric_name().unwrap_or_default().to_owned());
                        continue;
                    }
                    let points = expand_values(vals).expect("series values");
                    let pos = match cur.series.iter().position(|s| s.0 == labels) {
                        Some(p) => p,
                        None => {
                            cur.series.push((labels, BTreeMap::new()));
                            cur.series.len() - 1
                        }
                    };
                    for (k, p) in points.into_iter().enumerate() {
                        if let Some(v) = p {
                            cur.series[pos].1.insert(k as i64 * step, v);
                        }
                    }
                }
            }
            c if c.starts_with("eval") => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                let (times, query): (Vec<i64>, String) = match words.as_slice() {
                    ["instant", "at", t, q @ ..] => (vec![duration(t).unwrap()], q.join(" ")),
                    ["range", "from", a, "to", b, "step", s, q @ ..] => {
                        let (a, b, s) = (
                            duration(a).unwrap(),
                            duration(b).unwrap(),
                            duration(s).unwrap(),
                        );
                        ((0..=(b - a) / s).map(|k| a + k * s).collect(), q.join(" "))
                    }
                    _ => panic!("line {lineno}: cannot read eval {rest:?}"),
                };
                if let Some(why) = exclusion(&query, &block, &cur.native) {
                    out.excluded.push(format!("line {lineno}: {why}: {query}"));
                    continue;
                }
                if times.len() > 1 && (mentions(&query, "start") || mentions(&query, "end")) {
                    out.excluded.push(format!(
                        "line {lineno}: start() and end() are a range query's ends, and \
                         promtool runs instant queries: {query}"
                    ));
                    continue;
                }
                if times.iter().any(|t| *t < 0) {
                    out.excluded.push(format!(
                        "line {lineno}: promtool evaluates at times from 0 on: {query}"
                    ));
                    continue;
                }
                if c == "eval_fail" || block.iter().any(|l| l.starts_with("expect fail")) {
                    // An empty expectation: promtool reports the error.
                    let marker = format!("# line {lineno} (fails)");
                    cur.tests.push(ExprTest {
                        expr: format!("{query} {marker}"),
                        at: times[0],
                        samples: Vec::new(),
                    });
                    out.expect_errors.push(marker);
                    out.checked += 1;
                    out.queries += 1;
                    continue;
                }
                let mut rows: Vec<(String, Vec<Option<f64>>)> = Vec::new();
                for l in block.iter().filter(|l| !l.starts_with("expect")) {
                    if let Some(v) = parse_float(l) {
                        rows.push(("{}".into(), vec![Some(v); times.len()]));
                        continue;
                    }
                    let (desc, vals) = split_series(l);
                    let labels = parse_labels(desc).expect("expected labels");
                    let vals = expand_values(vals).expect("expected values");
                    rows.push((labels.to_string(), vals));
                }
                for (k, t) in times.iter().enumerate() {
                    let samples = rows
                        .iter()
                        .filter_map(|(l, v)| v.get(k).copied().flatten().map(|v| (l.clone(), v)))
                        .collect();
                    let step = if times.len() > 1 {
                        format!(" step {k}")
                    } else {
                        String::new()
                    };
                    cur.tests.push(ExprTest {
                        expr: format!("{query} # line {lineno}{step}"),
                        at: *t,
                        samples,
                    });
                }
                out.checked += 1;
                out.queries += times.len();
            }
            other => panic!("line {lineno}: unknown command {other:?}"),
        }
    }
    groups.push(cur);
    out.yaml = render(&groups);
    out
}

fn render(groups: &[Group]) -> String {
    let mut y = String::from("rule_files: []\nevaluation_interval: 1m\ntests:\n");
    for g in groups.iter().filter(|g| !g.tests.is_empty()) {
        let interval = g.interval.max(1);
        let _ = writeln!(y, "  - interval: {}", promql_duration(interval));
        y.push_str("    input_series:\n");
        let mut last = 0;
        for (labels, points) in &g.series {
            let Some((&end, _)) = points.last_key_value() else {
                continue;
            };
            last = last.max(end);
            let vals: Vec<String> = (0..=end / interval)
                .map(|k| {
                    points
                        .get(&(k * interval))
                        .map_or_else(|| "_".to_owned(), |v| series_value(*v))
                })
                .collect();
            let _ = writeln!(y, "      - series: {}", yaml_quote(&labels.to_string()));
            let _ = writeln!(y, "        values: {}", yaml_quote(&vals.join(" ")));
        }
        y.push_str("    promql_expr_test:\n");
        // promtool loads samples only up to the last evaluation time of a
        // group; one more eval past the last sample loads them all.
        let load_all = ExprTest {
            expr: "vector(1) # loads every sample".into(),
            at: (last / 60_000 + 1) * 60_000,
            samples: vec![("{}".into(), 1.0)],
        };
        for t in g.tests.iter().chain(std::iter::once(&load_all)) {
            let _ = writeln!(y, "      - expr: {}", yaml_quote(&t.expr));
            let _ = writeln!(y, "        eval_time: {}", promql_duration(t.at));
            if t.samples.is_empty() {
                y.push_str("        exp_samples: []\n");
                continue;
            }
            y.push_str("        exp_samples:\n");
            for (l, v) in &t.samples {
                let _ = writeln!(y, "          - labels: {}", yaml_quote(l));
                let _ = writeln!(y, "            value: {}", yaml_float(*v));
            }
        }
    }
    y
}

/// Upstream's `almost.Equal` with epsilon 1e-6, as the `.test` harness.
fn almost_equal(a: f64, b: f64) -> bool {
    if (a.is_nan() && b.is_nan()) || a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || diff < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / (a.abs() + b.abs()).min(f64::MAX) < 1e-6
}

/// Parses promtool's `{a="b"} 1E+00, {c="d"} 2E+00` (or `nil`).
fn parse_samples(s: &str) -> Option<Vec<(String, f64)>> {
    let s = s.trim();
    if s == "nil" || s.is_empty() {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        // The label set ends at the first `}` outside quotes.
        let (mut in_q, mut esc, mut end) = (false, false, None);
        for (k, c) in rest.char_indices() {
            match c {
                _ if esc => esc = false,
                '\\' => esc = true,
                '"' => in_q = !in_q,
                '}' if !in_q => {
                    end = Some(k);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        let labels = rest[..=end].to_owned();
        let after = rest[end + 1..].trim_start();
        let (num, next) = after.split_once(", ").unwrap_or((after, ""));
        out.push((labels, parse_float(num.trim())?));
        rest = next.trim_start();
    }
    Some(out)
}

/// What promtool's report says once read.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Failures that are real: an error where none is expected (or none
    /// where one is), or samples that differ beyond the tolerance.
    pub real: Vec<String>,
    /// Queries whose values differ from ours within the tolerance only.
    pub within_tolerance: usize,
}

/// Reads promtool's report of a failed run.
pub fn read_report(report: &str, expect_errors: &[String]) -> Result<Verdict, String> {
    let lines: Vec<&str> = report.lines().collect();
    let mut real = Vec::new();
    let mut within_tolerance = 0;
    let mut errors_seen = Vec::new();
    let mut k = 0;
    while k < lines.len() {
        let l = lines[k].trim();
        k += 1;
        if !l.starts_with("expr: ") {
            continue;
        }
        if l.contains(", err: ") || !l.ends_with(',') {
            match expect_errors
                .iter()
                .find(|m| l.contains(&format!("{m}\", time:")))
            {
                Some(m) => errors_seen.push(m.clone()),
                None => real.push(l.to_owned()),
            }
            continue;
        }
        let exp = lines.get(k).and_then(|x| x.trim().strip_prefix("exp: "));
        let got = lines
            .get(k + 1)
            .and_then(|x| x.trim().strip_prefix("got: "));
        let (Some(exp), Some(got)) = (exp, got) else {
            return Err(format!("cannot read promtool's report after {l:?}"));
        };
        k += 2;
        let (Some(mut e), Some(mut g)) = (parse_samples(exp), parse_samples(got)) else {
            return Err(format!("cannot read samples after {l:?}"));
        };
        e.sort_by(|a, b| a.0.cmp(&b.0));
        g.sort_by(|a, b| a.0.cmp(&b.0));
        let same = e.len() == g.len()
            && e.iter()
                .zip(&g)
                .all(|(a, b)| a.0 == b.0 && almost_equal(a.1, b.1));
        if same {
            within_tolerance += 1;
        } else {
            real.push(format!("{l}\n    exp: {exp}\n    got: {got}"));
        }
    }
    for m in expect_errors {
        if !errors_seen.contains(m) {
            real.push(format!("{m}: expected an error, promtool reported none"));
        }
    }
    Ok(Verdict {
        real,
        within_tolerance,
    })
}

#[test]
fn parses_promtool_samples() {
    let s = parse_samples(r#"{a="b, c"} 1.6666666666666668E+01, {} NaN, {x="}"} +Inf"#).unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].0, r#"{a="b, c"}"#);
    assert!((s[0].1 - 16.666666666666668).abs() < 1e-12);
    assert!(s[1].1.is_nan());
    assert_eq!(s[2], (r#"{x="}"}"#.to_owned(), f64::INFINITY));
    assert_eq!(parse_samples("nil"), Some(vec![]));
}

#[test]
fn reads_promtool_reports() {
    let report = "  FAILED:\n    expr: \"a # line 3\", time: 1m,\n        exp: {} 3E-01\n        got: {} 5E-01\n    expr: \"b # line 5\", time: 1m,\n        exp: {} 3E-01\n        got: {} 3.0000000000000004E-01\n    expr: \"c # line 7 (fails)\", time: 1m, err: 1:3: parse error\n";
    let marker = |n: usize| vec![format!("# line {n} (fails)")];
    let v = read_report(report, &marker(7)).unwrap();
    assert_eq!(v.within_tolerance, 1);
    assert_eq!(v.real.len(), 1, "{:?}", v.real);
    assert!(v.real[0].contains("# line 3"));
    // An error nobody expected, and an expected error that did not come.
    let v = read_report(report, &marker(9)).unwrap();
    assert_eq!(v.real.len(), 3, "{:?}", v.real);
}
