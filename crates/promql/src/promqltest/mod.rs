//! A runner for Prometheus's `.test` files (the `promqltest` language).
//!
//! It loads series into a [`MemStore`], runs each `eval` through the
//! [`Engine`], and compares with a relative tolerance of 1e-6 as upstream
//! does. Like upstream, a passing instant eval is re-run with every selector
//! pinned by `@` at other evaluation times, and as the middle step of a
//! range query; annotations are checked only where the file states
//! expectations (`expect warn`, `expect no_info`, ...). Native histograms
//! are loaded and expected in the `{{...}}` notation ([`hist`]), and
//! `load_with_nhcb` also loads its classic histograms converted to native
//! histograms with custom buckets, as upstream does. An eval is skipped,
//! with a reason, when `promql-parser` cannot parse its query (newer
//! syntax such as `anchored`/`smoothed` or duration expressions) or when it
//! selects series loaded with start timestamps (`@st`).

mod hist;
mod nhcb;
mod parse;

pub use hist::{expand_with_histograms, histograms_match, parse_histogram, HPoint};
pub use parse::{expand_values, parse_float, parse_labels, split_series};

use crate::eval::selector_matchers;
use crate::{Engine, EngineOptions, Value};
use promql_parser::parser::Expr;
use sightline_core::duration::parse_prometheus;
use sightline_core::{matches_all, Labels, MemStore};
use std::path::Path;

/// Outcome of one file.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Evals that passed.
    pub passed: usize,
    /// Evals that failed.
    pub failed: usize,
    /// Evals skipped as out of scope.
    pub skipped: usize,
    /// `line N: reason` per skipped eval.
    pub skips: Vec<String>,
    /// `line N: query: what went wrong` per failed eval.
    pub failures: Vec<String>,
}

/// Runs one `.test` file.
pub fn run_file(path: &Path) -> std::io::Result<Report> {
    Ok(run_script(&std::fs::read_to_string(path)?))
}

#[derive(Debug, Clone)]
enum Req {
    Any,
    Nothing,
    Msg(String),
    Regex(String),
}

#[derive(Debug, Default)]
struct EvalCmd {
    line: usize,
    query: String,
    range: Option<(i64, i64, i64)>,
    at: i64,
    fail: bool,
    fail_msg: Option<String>,
    fail_regex: Option<String>,
    warn: Vec<Req>,
    info: Vec<Req>,
    ordered: bool,
    rows: Vec<(Labels, Vec<HPoint>)>,
    scalar: Option<f64>,
    string: Option<String>,
    range_vector: Option<(i64, i64, i64)>,
    bad_line: Option<String>,
}

fn is_command(line: &str) -> bool {
    line.starts_with("eval") || line.starts_with("load") || line.starts_with("clear")
}

/// Runs the text of a `.test` file.
pub fn run_script(text: &str) -> Report {
    let lines: Vec<&str> = text.lines().collect();
    let store = MemStore::new();
    let mut hist: Vec<(Labels, &'static str)> = Vec::new();
    let engine = Engine::new(EngineOptions {
        timeout: None,
        delayed_name_removal: true,
        ..EngineOptions::default()
    });
    let mut rep = Report::default();
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
            if !lines[i].trim().starts_with('#') {
                block.push((i + 1, lines[i].trim()));
            }
            i += 1;
        }
        let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match cmd {
            "clear" => {
                store.clear();
                hist.clear();
            }
            "load" | "load_with_nhcb" => {
                let interval = parse_prometheus(rest.trim()).ok().unwrap_or(60_000);
                // Start timestamps (`series@st ...`, Prometheus 3.14) are not
                // modelled: every series of such a block is out of scope.
                if block.iter().any(|(_, l)| l.contains("@st")) {
                    for (_, l) in &block {
                        let desc = split_series(l).0;
                        if let Some(labels) = parse_labels(desc.trim_end_matches("@st")) {
                            hist.push((labels, "needs start timestamps (@st)"));
                        }
                    }
                    continue;
                }
                let mut nhcb = (cmd == "load_with_nhcb").then(nhcb::Collector::default);
                for (ln, l) in block {
                    let (desc, vals) = split_series(l);
                    let Some(labels) = parse_labels(desc) else {
                        rep.failed += 1;
                        rep.failures
                            .push(format!("line {ln}: cannot parse series {desc:?}"));
                        continue;
                    };
                    if vals.contains("{{") {
                        let Some(points) = expand_with_histograms(vals) else {
                            rep.failed += 1;
                            rep.failures
                                .push(format!("line {ln}: cannot parse values {vals:?}"));
                            continue;
                        };
                        for (k, p) in points.into_iter().enumerate() {
                            let t = k as i64 * interval;
                            match p {
                                HPoint::Gap => {}
                                HPoint::F(v) => store.add(labels.clone(), t, v),
                                HPoint::H(h) => store.add_histogram(labels.clone(), t, h),
                            }
                        }
                        continue;
                    }
                    let Some(points) = expand_values(vals) else {
                        rep.failed += 1;
                        rep.failures
                            .push(format!("line {ln}: cannot parse values {vals:?}"));
                        continue;
                    };
                    let points: Vec<(i64, f64)> = points
                        .into_iter()
                        .enumerate()
                        .filter_map(|(k, p)| p.map(|v| (k as i64 * interval, v)))
                        .collect();
                    for &(t, v) in &points {
                        store.add(labels.clone(), t, v);
                    }
                    if let Some(c) = &mut nhcb {
                        c.series(&labels, &points);
                    }
                }
                if let Some(c) = nhcb {
                    c.store(&store);
                }
            }
            c if c.starts_with("eval") => {
                let ev = parse_eval(lineno, c, rest, &block);
                run_eval(&engine, &store, &hist, ev, &mut rep);
            }
            other => {
                rep.failed += 1;
                rep.failures
                    .push(format!("line {lineno}: unknown command {other:?}"));
            }
        }
    }
    rep
}

fn parse_req(rest: &str) -> Req {
    let rest = rest.trim();
    if let Some(m) = rest.strip_prefix("msg:") {
        Req::Msg(m.trim().to_owned())
    } else if let Some(r) = rest.strip_prefix("regex:") {
        Req::Regex(r.trim().to_owned())
    } else {
        Req::Any
    }
}

fn parse_eval(line: usize, cmd: &str, rest: &str, block: &[(usize, &str)]) -> EvalCmd {
    let mut ev = EvalCmd {
        line,
        ..EvalCmd::default()
    };
    match cmd {
        "eval_fail" => ev.fail = true,
        "eval_warn" => ev.warn.push(Req::Any),
        "eval_info" => ev.info.push(Req::Any),
        "eval_ordered" => ev.ordered = true,
        _ => {}
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let take_after = |n: usize| -> String {
        // The query is everything after the first n words.
        let mut s = rest.trim_start();
        for _ in 0..n {
            s = s.trim_start();
            let end = s.find(char::is_whitespace).unwrap_or(s.len());
            s = &s[end..];
        }
        s.trim().to_owned()
    };
    if words.first() == Some(&"instant") && words.get(1) == Some(&"at") {
        ev.at = words
            .get(2)
            .and_then(|w| parse_prometheus(w).ok())
            .unwrap_or(0);
        ev.query = take_after(3);
    } else if words.first() == Some(&"range") && words.get(1) == Some(&"from") {
        let from = words
            .get(2)
            .and_then(|w| parse_prometheus(w).ok())
            .unwrap_or(0);
        let to = words
            .get(4)
            .and_then(|w| parse_prometheus(w).ok())
            .unwrap_or(0);
        let step = words
            .get(6)
            .and_then(|w| parse_prometheus(w).ok())
            .unwrap_or(0);
        ev.range = Some((from, to, step));
        ev.query = take_after(7);
    } else {
        ev.bad_line = Some(format!("cannot parse eval command {rest:?}"));
    }
    for &(_, l) in block {
        if let Some(e) = l.strip_prefix("expect ") {
            let e = e.trim();
            let (kind, arg) = e.split_once(char::is_whitespace).unwrap_or((e, ""));
            match kind {
                "fail" => {
                    ev.fail = true;
                    match parse_req(arg) {
                        Req::Msg(m) => ev.fail_msg = Some(m),
                        Req::Regex(r) => ev.fail_regex = Some(r),
                        _ => {}
                    }
                }
                "warn" => ev.warn.push(parse_req(arg)),
                "no_warn" => ev.warn.push(Req::Nothing),
                "info" => ev.info.push(parse_req(arg)),
                "no_info" => ev.info.push(Req::Nothing),
                "ordered" => ev.ordered = true,
                "string" => {
                    let a = arg.trim();
                    let inner = a
                        .strip_prefix('"')
                        .and_then(|x| x.strip_suffix('"'))
                        .or_else(|| a.strip_prefix('`').and_then(|x| x.strip_suffix('`')))
                        .unwrap_or(a);
                    ev.string = Some(inner.to_owned());
                }
                "range" => {
                    let w: Vec<&str> = arg.split_whitespace().collect();
                    // range vector from A to B step C
                    let get =
                        |k: usize| w.get(k).and_then(|x| parse_prometheus(x).ok()).unwrap_or(0);
                    ev.range_vector = Some((get(2), get(4), get(6)));
                }
                _ => ev.bad_line = Some(format!("unknown expectation {l:?}")),
            }
            continue;
        }
        if let Some(m) = l.strip_prefix("expected_fail_message") {
            ev.fail = true;
            ev.fail_msg = Some(m.trim().to_owned());
            continue;
        }
        if let Some(r) = l.strip_prefix("expected_fail_regexp") {
            ev.fail = true;
            ev.fail_regex = Some(r.trim().to_owned());
            continue;
        }
        if let Some(v) = parse::parse_float(l) {
            ev.scalar = Some(v);
            continue;
        }
        if l.starts_with('"') {
            ev.string = Some(l.trim_matches('"').to_owned());
            continue;
        }
        let (desc, vals) = split_series(l);
        match (parse_labels(desc), expand_with_histograms(vals)) {
            (Some(labels), Some(points)) => ev.rows.push((labels, points)),
            _ => ev.bad_line = Some(format!("cannot parse expected line {l:?}")),
        }
    }
    ev
}

fn collect_selectors<'e>(e: &'e Expr, out: &mut Vec<&'e promql_parser::parser::VectorSelector>) {
    match e {
        Expr::Aggregate(a) => {
            collect_selectors(&a.expr, out);
            if let Some(p) = &a.param {
                collect_selectors(p, out);
            }
        }
        Expr::Unary(u) => collect_selectors(&u.expr, out),
        Expr::Binary(b) => {
            collect_selectors(&b.lhs, out);
            collect_selectors(&b.rhs, out);
        }
        Expr::Paren(p) => collect_selectors(&p.expr, out),
        Expr::Subquery(s) => collect_selectors(&s.expr, out),
        Expr::VectorSelector(v) => out.push(v),
        Expr::MatrixSelector(m) => out.push(&m.vs),
        Expr::Call(c) => c.args.args.iter().for_each(|a| collect_selectors(a, out)),
        _ => {}
    }
}

fn touches(expr: &Expr, hist: &[(Labels, &'static str)]) -> Option<&'static str> {
    if hist.is_empty() {
        return None;
    }
    let mut sels = Vec::new();
    collect_selectors(expr, &mut sels);
    sels.iter().find_map(|vs| {
        let alts = selector_matchers(vs).ok()?;
        alts.iter()
            .find_map(|m| hist.iter().find(|h| matches_all(m, &h.0)).map(|h| h.1))
    })
}

/// Upstream's `almost.Equal` with epsilon 1e-6.
fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || diff < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / (a.abs() + b.abs()).min(f64::MAX) < 1e-6
}

fn check_annos(kind: &str, reqs: &[Req], got: &[String]) -> Result<(), String> {
    // As upstream: annotations nobody asked about are fine; once a file
    // expects some of a kind, every one of that kind must be expected.
    let matches = |r: &Req, g: &str| match r {
        Req::Any => true,
        Req::Nothing => false,
        Req::Msg(m) => g == m,
        Req::Regex(re) => regex::Regex::new(re).is_ok_and(|re| re.is_match(g)),
    };
    for r in reqs {
        let ok = match r {
            Req::Nothing => got.is_empty(),
            _ => got.iter().any(|g| matches(r, g)),
        };
        if !ok {
            return Err(format!("{kind} annotations: expected {r:?}, got {got:?}"));
        }
    }
    let positive: Vec<&Req> = reqs.iter().filter(|r| !matches!(r, Req::Nothing)).collect();
    if !positive.is_empty() {
        if let Some(g) = got.iter().find(|g| !positive.iter().any(|r| matches(r, g))) {
            return Err(format!("unexpected {kind} annotation {g:?}"));
        }
    }
    Ok(())
}

/// Functions whose result depends on the evaluation time even when their
/// arguments are pinned with `@`: the `@` variants skip queries using them.
const AT_UNSAFE: [&str; 15] = [
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
    "start",
    "end",
    "step",
    "range",
];

/// Pins every selector and subquery (not those inside a subquery) to `@ t`,
/// as upstream's step-invariance check does. `None` when the query uses a
/// time-dependent function.
fn pin_at(e: &mut Expr, t: i64) -> Option<()> {
    use promql_parser::parser::AtModifier;
    let at = || {
        let d = std::time::Duration::from_millis(t.unsigned_abs());
        let st = if t >= 0 {
            std::time::UNIX_EPOCH + d
        } else {
            std::time::UNIX_EPOCH - d
        };
        Some(AtModifier::At(st))
    };
    match e {
        Expr::VectorSelector(vs) if vs.at.is_none() => vs.at = at(),
        Expr::MatrixSelector(ms) if ms.vs.at.is_none() => ms.vs.at = at(),
        Expr::Subquery(sq) => {
            if sq.at.is_none() {
                sq.at = at();
            }
            // Inside a pinned subquery nothing changes, but time-dependent
            // functions still make the variant meaningless.
            let mut inner = (*sq.expr).clone();
            pin_at(&mut inner, t)?;
        }
        Expr::Aggregate(a) => {
            pin_at(&mut a.expr, t)?;
            if let Some(p) = &mut a.param {
                pin_at(p, t)?;
            }
        }
        Expr::Unary(u) => pin_at(&mut u.expr, t)?,
        Expr::Binary(b) => {
            pin_at(&mut b.lhs, t)?;
            pin_at(&mut b.rhs, t)?;
        }
        Expr::Paren(p) => pin_at(&mut p.expr, t)?,
        Expr::Call(c) => {
            if AT_UNSAFE.contains(&c.func.name) {
                return None;
            }
            for a in c.args.args.iter_mut() {
                pin_at(a, t)?;
            }
        }
        _ => {}
    }
    Some(())
}

/// Upstream's extra checks of a passing instant eval: the same result with
/// every selector pinned by `@` at other evaluation times, and as the middle
/// step of a range query.
fn invariance_checks(
    engine: &Engine,
    store: &MemStore,
    ev: &EvalCmd,
    expr: &Expr,
    first: &Value,
) -> Result<(), String> {
    let t = ev.at;
    let mut pinned = expr.clone();
    if pin_at(&mut pinned, t).is_some() {
        let times: Vec<i64> = if t == 0 {
            vec![-1000, 0, 1000]
        } else {
            vec![-10 * t, 0, t / 5, t, 10 * t]
        };
        for et in times {
            let r = engine
                .instant_expr(store, &pinned, &ev.query, et)
                .map_err(|e| format!("with @ {t} at time {et}: unexpected error: {e}"))?;
            compare(ev, &r.value).map_err(|e| {
                format!("with @ {t} at time {et}: {e}; got {}", fmt_value(&r.value))
            })?;
        }
    }
    let context_fns = ["start()", "end()", "range()", "step()"];
    if ev.ordered
        || matches!(first, Value::Matrix(_) | Value::String(..))
        || context_fns.iter().any(|f| ev.query.contains(f))
    {
        return Ok(());
    }
    let r = engine
        .range_query(store, &ev.query, t - 60_000, t + 60_000, 60_000)
        .map_err(|e| format!("in range mode: unexpected error: {e}"))?;
    let Value::Matrix(m) = &r.value else {
        return Err("in range mode: not a matrix".into());
    };
    if m.windows(2).any(|w| w[0].labels > w[1].labels) {
        return Err("in range mode: matrix not sorted by labels".into());
    }
    let mid: Vec<crate::InstantSample> = m
        .iter()
        .filter_map(|s| {
            s.points
                .iter()
                .find(|p| p.t == t)
                .map(|p| crate::InstantSample {
                    labels: s.labels.clone(),
                    t,
                    v: p.v,
                    h: None,
                })
                .or_else(|| {
                    s.histograms
                        .iter()
                        .find(|p| p.t == t)
                        .map(|p| crate::InstantSample {
                            labels: s.labels.clone(),
                            t,
                            v: 0.0,
                            h: Some(p.h.clone()),
                        })
                })
        })
        .collect();
    let as_instant = match first {
        Value::Scalar(..) => Value::Scalar(t, mid.first().map_or(f64::NAN, |s| s.v)),
        _ => Value::Vector(mid),
    };
    compare(ev, &as_instant)
        .map_err(|e| format!("in range mode: {e}; got {}", fmt_value(&as_instant)))
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Scalar(_, f) => format!("scalar {f}"),
        Value::String(_, s) => format!("string {s:?}"),
        Value::Vector(v) => {
            let items: Vec<String> = v
                .iter()
                .map(|s| match &s.h {
                    Some(h) => format!("{} {h}", s.labels),
                    None => format!("{} {}", s.labels, s.v),
                })
                .collect();
            format!("vector [{}]", items.join(", "))
        }
        Value::Matrix(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|s| {
                    let mut pts: Vec<String> = s
                        .points
                        .iter()
                        .map(|p| format!("{}@{}", p.v, p.t))
                        .collect();
                    pts.extend(s.histograms.iter().map(|p| format!("{}@{}", p.h, p.t)));
                    format!("{} [{}]", s.labels, pts.join(" "))
                })
                .collect();
            format!("matrix [{}]", items.join(", "))
        }
    }
}

/// One expected or actual value.
#[derive(Debug, Clone)]
enum V {
    F(f64),
    H(sightline_core::FloatHistogram),
}

fn same(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::F(x), V::F(y)) => almost_equal(*x, *y),
        (V::H(x), V::H(y)) => histograms_match(x, y),
        _ => false,
    }
}

fn expected_series(
    rows: &[(Labels, Vec<HPoint>)],
    start: i64,
    step: i64,
) -> Vec<(Labels, Vec<(i64, V)>)> {
    rows.iter()
        .map(|(l, pts)| {
            let p = pts
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    let t = start + k as i64 * step;
                    match p {
                        HPoint::Gap => None,
                        HPoint::F(v) => Some((t, V::F(*v))),
                        HPoint::H(h) => Some((t, V::H(h.clone()))),
                    }
                })
                .collect();
            (l.clone(), p)
        })
        .collect()
}

fn compare(ev: &EvalCmd, got: &Value) -> Result<(), String> {
    if let Some(s) = &ev.string {
        return match got {
            Value::String(_, g) if g == s => Ok(()),
            _ => Err(format!("expected string {s:?}")),
        };
    }
    if let Some(v) = ev.scalar {
        return match got {
            Value::Scalar(_, g) if almost_equal(*g, v) => Ok(()),
            _ => Err(format!("expected scalar {v}")),
        };
    }
    let matrix = match (ev.range, ev.range_vector) {
        (Some((s, _, st)), _) | (None, Some((s, _, st))) => Some((s, st)),
        _ => None,
    };
    if let Some((start, step)) = matrix {
        let Value::Matrix(m) = got else {
            return Err("expected a matrix".into());
        };
        if m.windows(2).any(|w| w[0].labels > w[1].labels) {
            return Err("matrix results must be sorted by labels".into());
        }
        let want = expected_series(&ev.rows, start, step);
        if want.len() != m.len() {
            return Err(format!("expected {} series, got {}", want.len(), m.len()));
        }
        for (l, pts) in &want {
            let Some(g) = m.iter().find(|s| s.labels == *l) else {
                return Err(format!("missing series {l}"));
            };
            let mut gp: Vec<(i64, V)> = g.points.iter().map(|p| (p.t, V::F(p.v))).collect();
            gp.extend(g.histograms.iter().map(|p| (p.t, V::H(p.h.clone()))));
            gp.sort_by_key(|p| p.0);
            let ok = gp.len() == pts.len()
                && gp
                    .iter()
                    .zip(pts)
                    .all(|(a, b)| a.0 == b.0 && same(&b.1, &a.1));
            if !ok {
                return Err(format!("series {l}: expected {pts:?}"));
            }
        }
        return Ok(());
    }
    let got_v: Vec<(Labels, V)> = match got {
        Value::Vector(v) => v
            .iter()
            .map(|s| {
                let v = match &s.h {
                    Some(h) => V::H(h.clone()),
                    None => V::F(s.v),
                };
                (s.labels.clone(), v)
            })
            .collect(),
        Value::Matrix(m) if m.is_empty() => Vec::new(),
        _ => return Err("expected an instant vector".into()),
    };
    if got_v.len() != ev.rows.len() {
        return Err(format!(
            "expected {} samples, got {}",
            ev.rows.len(),
            got_v.len()
        ));
    }
    for (k, (l, pts)) in ev.rows.iter().enumerate() {
        let want = match pts.first() {
            Some(HPoint::F(v)) => V::F(*v),
            Some(HPoint::H(h)) => V::H(h.clone()),
            _ => V::F(f64::NAN),
        };
        let found = if ev.ordered {
            got_v.get(k).filter(|g| g.0 == *l)
        } else {
            got_v.iter().find(|g| g.0 == *l)
        };
        match found {
            Some(g) if same(&want, &g.1) => {}
            Some(g) => return Err(format!("{l}: expected {want:?}, got {:?}", g.1)),
            None => return Err(format!("missing or misplaced sample {l} {want:?}")),
        }
    }
    Ok(())
}

fn run_eval(
    engine: &Engine,
    store: &MemStore,
    hist: &[(Labels, &'static str)],
    ev: EvalCmd,
    rep: &mut Report,
) {
    let line = ev.line;
    let q = ev.query.clone();
    let skip = |rep: &mut Report, why: String| {
        rep.skipped += 1;
        rep.skips.push(format!("line {line}: {why}: {q}"));
    };
    if let Some(b) = &ev.bad_line {
        rep.failed += 1;
        rep.failures.push(format!("line {line}: {b}"));
        return;
    }
    let expr = match promql_parser::parser::parse(&ev.query) {
        Ok(e) => e,
        Err(e) => {
            if ev.fail && ev.fail_msg.is_none() && ev.fail_regex.is_none() {
                rep.passed += 1;
                return;
            }
            return skip(
                rep,
                format!(
                    "promql-parser cannot parse ({})",
                    e.lines().next().unwrap_or("")
                ),
            );
        }
    };
    if let Some(why) = touches(&expr, hist) {
        return skip(rep, why.into());
    }
    let res = match ev.range {
        Some((s, e, st)) => engine.range_query(store, &ev.query, s, e, st),
        None => engine.instant_query(store, &ev.query, ev.at),
    };
    let outcome: Result<(), String> = match (&res, ev.fail) {
        (Err(e), true) => {
            let msg = e.to_string();
            if let Some(m) = &ev.fail_msg {
                if msg.trim() != m.trim() {
                    Err(format!("expected error {m:?}, got {msg:?}"))
                } else {
                    Ok(())
                }
            } else if let Some(r) = &ev.fail_regex {
                match regex::Regex::new(r) {
                    Ok(re) if re.is_match(&msg) => Ok(()),
                    _ => Err(format!("expected error matching {r:?}, got {msg:?}")),
                }
            } else {
                Ok(())
            }
        }
        (Err(e), false) => Err(format!("unexpected error: {e}")),
        (Ok(r), true) => Err(format!("expected an error, got {}", fmt_value(&r.value))),
        (Ok(r), false) => compare(&ev, &r.value)
            .map_err(|e| format!("{e}; got {}", fmt_value(&r.value)))
            .and_then(|_| check_annos("warning", &ev.warn, &r.warnings))
            .and_then(|_| check_annos("info", &ev.info, &r.infos))
            .and_then(|_| match ev.range {
                None => invariance_checks(engine, store, &ev, &expr, &r.value),
                Some(_) => Ok(()),
            }),
    };
    match outcome {
        Ok(()) => rep.passed += 1,
        Err(why) => {
            rep.failed += 1;
            rep.failures.push(format!("line {line}: {q}: {why}"));
        }
    }
}
