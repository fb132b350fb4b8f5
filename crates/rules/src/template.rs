//! Go text/template expansion for alert labels and annotations, with
//! Prometheus's data (`$labels`, `$value`, `$externalLabels`,
//! `$externalURL`, `.Labels`, `.Value`, ...) and function set.
//!
//! The template engine is the `gotmpl` crate. Two of its printing habits
//! differ from Go's, so after parsing we append a hidden `__goprint`
//! command to every printing action: it prints floats as Go's `%v` does
//! (`1e+06`, `+Inf`) and a missing map key as the empty string, which is
//! what Prometheus's `missingkey=zero` gives for its `map[string]string`
//! label maps.

use crate::gofmt::{format_g, format_go_time, format_shortest_g};
use gotmpl::parse::{CommandNode, Expr, ListNode, Node, SmolStr};
use gotmpl::{FuncMap, Template, TemplateError, Value};
use sightline_core::duration::{format_go, parse_prometheus};
use sightline_core::{Labels, MetricQuerier};
use sightline_promql::{Engine, Value as PromValue};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The variables Prometheus defines in front of every alert template.
const DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";
const BODY: &str = "__sightline_body";

/// What templates may query and link to.
#[derive(Clone)]
pub struct TemplateEnv {
    /// Runs the `query` function; `None` makes `query` fail.
    pub querier: Option<Arc<dyn MetricQuerier>>,
    /// The engine `query` uses.
    pub engine: Engine,
    /// Evaluation time in ms, for `query` and `now`.
    pub ts: i64,
    /// The external URL (`externalURL`, `pathPrefix`, `$externalURL`).
    pub external_url: String,
}

impl std::fmt::Debug for TemplateEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateEnv")
            .field("ts", &self.ts)
            .field("external_url", &self.external_url)
            .finish_non_exhaustive()
    }
}

fn labels_value(l: &Labels) -> Value {
    let m: BTreeMap<Arc<str>, Value> = l
        .iter()
        .map(|x| {
            (
                Arc::from(x.name.as_str()),
                Value::String(x.value.as_str().into()),
            )
        })
        .collect();
    Value::Map(Arc::new(m))
}

/// The data of an alert template: `.Labels`, `.ExternalLabels`,
/// `.ExternalURL`, `.Value`.
pub fn alert_data(labels: &Labels, external: &Labels, external_url: &str, value: f64) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Labels"), labels_value(labels));
    m.insert(Arc::from("ExternalLabels"), labels_value(external));
    m.insert(Arc::from("ExternalURL"), Value::String(external_url.into()));
    m.insert(Arc::from("Value"), Value::Float(value));
    Value::Map(Arc::new(m))
}

/// Checks that an alert label or annotation template parses, as
/// `promtool check rules` does.
pub fn check_alert_template(name: &str, text: &str) -> Result<(), String> {
    let text = format!("{DEFS}{text}");
    if has_define(&text) {
        return Template::new(name)
            .funcs(funcs(None))
            .parse(&text)
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    parse_body(name, &text, funcs(None)).map(|_| ())
}

/// Templates with their own `{{define}}` cannot be wrapped in ours (Go
/// allows defines only at the top level), so they are run as written,
/// without the Go-style float printing.
fn has_define(text: &str) -> bool {
    text.contains("define")
}

/// Expands an alert label or annotation the way Prometheus's rule manager
/// does: errors become `<error expanding template: ...>` in the output.
pub fn expand_alert(name: &str, text: &str, data: &Value, env: &TemplateEnv) -> String {
    if !text.contains("{{") {
        return text.to_owned();
    }
    match expand(name, &format!("{DEFS}{text}"), data, env) {
        Ok(s) => s,
        Err(e) => format!("<error expanding template: {e}>"),
    }
}

/// Expands `text` with `data`, with Prometheus's functions available.
pub fn expand(name: &str, text: &str, data: &Value, env: &TemplateEnv) -> Result<String, String> {
    let fm = funcs(Some(env));
    if has_define(text) {
        let t = Template::new(name)
            .funcs(fm)
            .parse(text)
            .map_err(|e| format!("error parsing template {name}: {e}"))?;
        return t
            .execute_to_string(data)
            .map_err(|e| format!("error executing template {name}: {e}"));
    }
    let tree = parse_body_cached(name, text, &fm)
        .map_err(|e| format!("error parsing template {name}: {e}"))?;
    let t = Template::new(name).funcs(fm).add_parse_tree(BODY, tree);
    t.execute_template_to_string(BODY, data)
        .map_err(|e| format!("error executing template {name}: {}", clean(name, &e)))
}

fn clean(name: &str, e: &TemplateError) -> String {
    e.to_string().replace(BODY, name)
}

/// Most parsed bodies [`parse_body_cached`] keeps per thread.
const PARSED_MAX: usize = 4096;

/// [`parse_body`], reusing the tree of an earlier call with the same name
/// and text: an alerting rule expands the same annotations for every alert
/// at every evaluation. The tree depends only on the text and on which
/// function names exist, which is the same for every [`funcs`] map; errors
/// are not kept.
fn parse_body_cached(name: &str, text: &str, fm: &FuncMap) -> Result<ListNode, String> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static PARSED: RefCell<HashMap<(String, String), ListNode>> = RefCell::new(HashMap::new());
    }
    let key = (name.to_owned(), text.to_owned());
    if let Some(t) = PARSED.with(|p| p.borrow().get(&key).cloned()) {
        return Ok(t);
    }
    let tree = parse_body(name, text, fm.clone())?;
    PARSED.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() >= PARSED_MAX {
            p.clear();
        }
        p.insert(key, tree.clone());
    });
    Ok(tree)
}

/// Parses `text` inside a define so that the tree can be fetched and
/// rewritten (the crate exposes only named trees).
fn parse_body(name: &str, text: &str, fm: FuncMap) -> Result<ListNode, String> {
    let src = format!("{{{{define \"{BODY}\"}}}}{text}{{{{end}}}}");
    let t = Template::new(name)
        .funcs(fm)
        .parse(&src)
        .map_err(|e| clean(name, &e))?;
    let mut tree = t
        .lookup(BODY)
        .cloned()
        .ok_or_else(|| format!("template: {name}: no body"))?;
    add_goprint(&mut tree);
    Ok(tree)
}

fn add_goprint(list: &mut ListNode) {
    for node in &mut list.nodes {
        match node {
            Node::Action(a) if a.pipe.decl.is_empty() => {
                let pos = a.pipe.pos;
                a.pipe.commands.push(CommandNode {
                    pos,
                    args: vec![Expr::Identifier(pos, SmolStr::new("__goprint"))],
                });
            }
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                add_goprint(&mut b.body);
                if let Some(e) = &mut b.else_body {
                    add_goprint(e);
                }
            }
            Node::List(l) => add_goprint(l),
            _ => {}
        }
    }
}

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        _ => "func",
    }
}

/// Prometheus's `convertToFloat`: numbers and numeric strings.
fn to_float(v: &Value) -> Result<f64, TemplateError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        Value::String(s) => parse_go_float(s)
            .ok_or_else(|| err(format!("strconv.ParseFloat: parsing {s:?}: invalid syntax"))),
        other => Err(err(format!("can't convert {} to float", type_name(other)))),
    }
}

fn parse_go_float(s: &str) -> Option<f64> {
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

fn arg<'a>(name: &str, args: &'a [Value], n: usize) -> Result<&'a Value, TemplateError> {
    if args.len() != n {
        return Err(TemplateError::ArgCount {
            name: name.to_owned(),
            expected: n,
            got: args.len(),
        });
    }
    Ok(&args[0])
}

fn string_arg(args: &[Value], i: usize, fname: &str) -> Result<String, TemplateError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.to_string()),
        Some(other) => Err(err(format!(
            "{fname}: wrong type for value; expected string; got {}",
            type_name(other)
        ))),
        None => Err(err(format!("{fname}: missing argument {i}"))),
    }
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into().into())
}

/// Prometheus's `humanize`: SI prefixes, 4 significant digits.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return format_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, 4))
}

/// Prometheus's `humanize1024`: binary prefixes.
pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return format_g(v, 4);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, 4))
}

/// Prometheus's `humanizeDuration` of seconds.
pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return format_g(v, 4);
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let (sign, v) = if v < 0.0 { ("-", -v) } else { ("", v) };
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {mins}m {secs}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {mins}m {secs}s");
        }
        if mins != 0 {
            return format!("{sign}{mins}m {secs}s");
        }
        return format!("{sign}{}s", format_g(v, 4));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, 4))
}

/// Go's `strings.Title`: upper-cases the first letter of each word.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Prometheus's link to an expression in the graph (tab 0) or table (tab 1) view.
pub fn expr_link(expr: &str, tab: u8) -> String {
    format!("/graph?g0.expr={}&g0.tab={tab}", query_escape(expr))
}

fn split_host_port(hp: &str) -> Option<(String, String)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host.to_owned(), port.to_owned()));
    }
    let (host, port) = hp.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_owned(), port.to_owned()))
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn sample_labels(v: &Value) -> Option<&BTreeMap<Arc<str>, Value>> {
    match v.field("Labels") {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    }
}

fn run_query(env: &TemplateEnv, q: &str) -> Result<Value, TemplateError> {
    let querier = env
        .querier
        .as_ref()
        .ok_or_else(|| err("query: no querier available"))?;
    let res = env
        .engine
        .instant_query(querier.as_ref(), q, env.ts)
        .map_err(|e| err(format!("error executing query: {e}")))?;
    let samples: Vec<(Labels, f64)> = match res.value {
        PromValue::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
        PromValue::Scalar(_, v) => vec![(Labels::empty(), v)],
        PromValue::String(_, st) => {
            vec![(Labels::from_pairs([("__value__", st)]), 0.0)]
        }
        PromValue::Matrix(_) => {
            return Err(err("error executing query: query result is a range vector"))
        }
    };
    Ok(Value::List(
        samples
            .into_iter()
            .map(|(l, v)| {
                let mut m = BTreeMap::new();
                m.insert(Arc::from("Labels"), labels_value(&l));
                m.insert(Arc::from("Value"), Value::Float(v));
                Value::Map(Arc::new(m))
            })
            .collect::<Vec<_>>()
            .into(),
    ))
}

type F = fn(&[Value]) -> Result<Value, TemplateError>;

fn one_float(
    name: &'static str,
    f: fn(f64) -> String,
) -> impl Fn(&[Value]) -> Result<Value, TemplateError> {
    move |a: &[Value]| Ok(s(f(to_float(arg(name, a, 1)?)?)))
}

/// The function map: gotmpl's builtins plus Prometheus's.
fn funcs(env: Option<&TemplateEnv>) -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |name: &str, f: gotmpl::ValueFunc| {
        m.insert(name.to_owned(), f);
    };
    add(
        "__goprint",
        Arc::new(|a: &[Value]| {
            Ok(match a.last() {
                Some(Value::Float(f)) => s(format_shortest_g(*f)),
                Some(Value::Nil) | None => s(""),
                Some(v) => v.clone(),
            })
        }),
    );
    add("humanize", Arc::new(one_float("humanize", humanize)));
    add(
        "humanize1024",
        Arc::new(one_float("humanize1024", humanize1024)),
    );
    add(
        "humanizeDuration",
        Arc::new(one_float("humanizeDuration", humanize_duration)),
    );
    add(
        "humanizePercentage",
        Arc::new(one_float("humanizePercentage", |v| {
            format!("{}%", format_g(v * 100.0, 4))
        })),
    );
    add(
        "humanizeTimestamp",
        Arc::new(one_float("humanizeTimestamp", |v| {
            if v.is_nan() || v.is_infinite() {
                format_g(v, 4)
            } else {
                format_go_time((v * 1000.0).round() as i64)
            }
        })),
    );
    add(
        "toTime",
        Arc::new(one_float("toTime", |v| {
            format_go_time((v * 1000.0).round() as i64)
        })),
    );
    add(
        "toDuration",
        Arc::new(one_float("toDuration", |v| {
            format_go((v * 1000.0).round() as i64)
        })),
    );
    let simple: [(&str, F); 13] = [
        ("title", |a| Ok(s(title(&string_arg(a, 0, "title")?)))),
        ("toUpper", |a| {
            Ok(s(string_arg(a, 0, "toUpper")?.to_uppercase()))
        }),
        ("toLower", |a| {
            Ok(s(string_arg(a, 0, "toLower")?.to_lowercase()))
        }),
        ("safeHtml", |a| Ok(s(string_arg(a, 0, "safeHtml")?))),
        ("urlQueryEscape", |a| {
            Ok(s(query_escape(&string_arg(a, 0, "urlQueryEscape")?)))
        }),
        ("graphLink", |a| {
            Ok(s(expr_link(&string_arg(a, 0, "graphLink")?, 0)))
        }),
        ("tableLink", |a| {
            Ok(s(expr_link(&string_arg(a, 0, "tableLink")?, 1)))
        }),
        ("reReplaceAll", |a| {
            let re = regex::Regex::new(&string_arg(a, 0, "reReplaceAll")?)
                .map_err(|e| err(format!("reReplaceAll: {e}")))?;
            let repl = string_arg(a, 1, "reReplaceAll")?;
            Ok(s(re
                .replace_all(&string_arg(a, 2, "reReplaceAll")?, repl.as_str())
                .into_owned()))
        }),
        ("match", |a| {
            let re = regex::Regex::new(&string_arg(a, 0, "match")?)
                .map_err(|e| err(format!("match: {e}")))?;
            Ok(Value::Bool(re.is_match(&string_arg(a, 1, "match")?)))
        }),
        ("first", |a| match arg("first", a, 1)? {
            Value::List(l) => l
                .first()
                .cloned()
                .ok_or_else(|| err("first() called on vector with no elements")),
            other => Err(err(format!("first: wrong type {}", type_name(other)))),
        }),
        ("value", |a| {
            let v = arg("value", a, 1)?;
            Ok(v.field("Value").cloned().unwrap_or(Value::Float(0.0)))
        }),
        ("strvalue", |a| {
            let v = arg("strvalue", a, 1)?;
            Ok(sample_labels(v)
                .and_then(|m| m.get("__value__").cloned())
                .unwrap_or_else(|| s("")))
        }),
        ("stripPort", |a| {
            let hp = string_arg(a, 0, "stripPort")?;
            Ok(s(split_host_port(&hp).map_or(hp, |(h, _)| h)))
        }),
    ];
    for (n, f) in simple {
        add(n, Arc::new(f));
    }
    add(
        "stripDomain",
        Arc::new(|a: &[Value]| {
            let hp = string_arg(a, 0, "stripDomain")?;
            let (host, port) = split_host_port(&hp).unwrap_or((hp.clone(), String::new()));
            if host.parse::<std::net::IpAddr>().is_ok() {
                return Ok(s(hp));
            }
            let host = host.split('.').next().unwrap_or("").to_owned();
            Ok(s(if port.is_empty() {
                host
            } else {
                join_host_port(&host, &port)
            }))
        }),
    );
    add(
        "label",
        Arc::new(|a: &[Value]| {
            if a.len() != 2 {
                return Err(TemplateError::ArgCount {
                    name: "label".into(),
                    expected: 2,
                    got: a.len(),
                });
            }
            let name = string_arg(a, 0, "label")?;
            Ok(sample_labels(&a[1])
                .and_then(|m| m.get(name.as_str()).cloned())
                .unwrap_or_else(|| s("")))
        }),
    );
    add(
        "sortByLabel",
        Arc::new(|a: &[Value]| {
            let name = string_arg(a, 0, "sortByLabel")?;
            let Some(Value::List(l)) = a.get(1) else {
                return Err(err("sortByLabel: expected a query result"));
            };
            let mut v: Vec<Value> = l.to_vec();
            let key = |x: &Value| -> String {
                sample_labels(x)
                    .and_then(|m| m.get(name.as_str()))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            };
            v.sort_by_key(key);
            Ok(Value::List(v.into()))
        }),
    );
    add(
        "args",
        Arc::new(|a: &[Value]| {
            let m: BTreeMap<Arc<str>, Value> = a
                .iter()
                .enumerate()
                .map(|(i, v)| (Arc::from(format!("arg{i}").as_str()), v.clone()))
                .collect();
            Ok(Value::Map(Arc::new(m)))
        }),
    );
    add(
        "parseDuration",
        Arc::new(|a: &[Value]| {
            let d = string_arg(a, 0, "parseDuration")?;
            let ms = parse_prometheus(&d)
                .ok()
                .ok_or_else(|| err(format!("not a valid duration string: {d:?}")))?;
            Ok(Value::Float(ms as f64 / 1000.0))
        }),
    );
    let url = env.map(|e| e.external_url.clone()).unwrap_or_default();
    let url2 = url.clone();
    add(
        "externalURL",
        Arc::new(move |_: &[Value]| Ok(s(url.clone()))),
    );
    add(
        "pathPrefix",
        Arc::new(move |_: &[Value]| Ok(s(url_path(&url2)))),
    );
    let now = env.map_or(0, |e| e.ts);
    add(
        "now",
        Arc::new(move |_: &[Value]| Ok(Value::Float(now as f64 / 1000.0))),
    );
    let env = env.cloned();
    add(
        "query",
        Arc::new(move |a: &[Value]| {
            let q = string_arg(a, 0, "query")?;
            match &env {
                Some(env) => run_query(env, &q),
                None => Err(err("query: no querier available")),
            }
        }),
    );
    m
}

/// The path of a URL (`http://h:9090/prom` → `/prom`).
pub fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(i) => {
            let p = &rest[i..];
            p.split(['?', '#']).next().unwrap_or("").to_owned()
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::MemStore;

    fn env() -> TemplateEnv {
        let store = MemStore::new();
        store.add(
            Labels::from_pairs([("__name__", "up"), ("job", "b")]),
            0,
            1.0,
        );
        store.add(
            Labels::from_pairs([("__name__", "up"), ("job", "a")]),
            0,
            0.0,
        );
        TemplateEnv {
            querier: Some(Arc::new(store)),
            engine: Engine::default(),
            ts: 60_000,
            external_url: "http://prom.example:9090/p".into(),
        }
    }

    fn x(text: &str, value: f64) -> String {
        let l = Labels::from_pairs([("instance", "host.dom:9100"), ("job", "node")]);
        let d = alert_data(
            &l,
            &Labels::from_pairs([("dc", "eu")]),
            "http://prom.example:9090/p",
            value,
        );
        expand_alert("t", text, &d, &env())
    }

    #[test]
    fn prometheus_data_and_functions() {
        assert_eq!(
            x("{{ $labels.job }} {{ .Labels.instance }} {{ $value }}", 1e6),
            "node host.dom:9100 1e+06"
        );
        assert_eq!(x("[{{ $labels.missing }}]", 0.0), "[]");
        assert_eq!(
            x("{{ $externalLabels.dc }} {{ $externalURL }}", 0.0),
            "eu http://prom.example:9090/p"
        );
        assert_eq!(x("{{ humanize $value }}", 1234567.0), "1.235M");
        assert_eq!(x("{{ humanize $value }}", 0.001234), "1.234m");
        assert_eq!(x("{{ humanize1024 $value }}", 1024.0 * 1024.0), "1Mi");
        assert_eq!(x("{{ humanizeDuration $value }}", 93784.0), "1d 2h 3m 4s");
        assert_eq!(x("{{ humanizeDuration $value }}", 0.25), "250ms");
        assert_eq!(x("{{ humanizePercentage $value }}", 0.1234567), "12.35%");
        assert_eq!(
            x("{{ humanizeTimestamp $value }}", 1.0),
            "1970-01-01 00:00:01 +0000 UTC"
        );
        assert_eq!(
            x(
                "{{ $labels.instance | stripPort }} {{ $labels.instance | stripDomain }}",
                0.0
            ),
            "host.dom host:9100"
        );
        assert_eq!(
            x("{{ title \"hello world\" }} {{ toUpper \"a\" }}", 0.0),
            "Hello World A"
        );
        assert_eq!(
            x(
                "{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}",
                0.0
            ),
            "host.dom"
        );
        assert_eq!(x("{{ printf \"%.2f\" $value }}", 2.0 / 3.0), "0.67");
        assert_eq!(
            x("{{ pathPrefix }} {{ graphLink \"up == 0\" }}", 0.0),
            "/p /graph?g0.expr=up+%3D%3D+0&g0.tab=0"
        );
        assert_eq!(
            x(
                "{{ with query \"up\" }}{{ . | first | value }}{{ end }}",
                0.0
            ),
            "0"
        );
        assert_eq!(
            x("{{ range query \"up\" | sortByLabel \"job\" }}{{ .Labels.job }}={{ .Value }} {{ end }}", 0.0),
            "a=0 b=1 "
        );
        assert_eq!(
            x("{{ if match \"^node\" $labels.job }}yes{{ end }}", 0.0),
            "yes"
        );
        assert_eq!(x("{{ parseDuration \"1m\" }}", 0.0), "60");
        assert!(x("{{ query \"up\" | first | label \"job\" }}", 0.0) == "a");
        assert_eq!(
            x(
                "{{ define \"j\" }}job={{ .job }}{{ end }}{{ template \"j\" $labels }}",
                0.0
            ),
            "job=node"
        );
    }

    #[test]
    fn errors_are_reported_in_the_output() {
        let out = x("{{ first (query \"nothing\") }}", 0.0);
        assert!(out.starts_with("<error expanding template: "), "{out}");
        assert!(check_alert_template("a", "{{ $labels.x ").is_err());
        assert!(check_alert_template("a", "{{ $labels.x }}").is_ok());
    }
}
