//! Alertmanager's template functions (`toUpper`, `toLower`, `title`,
//! `join`, `match`, `safeHtml`, `reReplaceAll`, `stringSlice`; and
//! `trimSpace`, which later Alertmanager releases added)
//! and the hidden helpers the rewrite inserts (`__method`, `__print`).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncMap, TemplateError, Value};
use sightline_core::goregex;

use super::gotime;
use super::rewrite::{METHOD_FN, PRINT_FN};

type Res = Result<Value, TemplateError>;

fn err(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into().into())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Uint(_) => "int",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        _ => "other",
    }
}

/// A string argument; a missing label (nil) counts as "", as Go's
/// `missingkey=zero` gives the zero string.
fn str_arg(name: &str, args: &[Value], i: usize) -> Result<String, TemplateError> {
    match args.get(i) {
        Some(Value::String(v)) => Ok(v.to_string()),
        Some(Value::Nil) => Ok(String::new()),
        Some(other) => Err(err(format!(
            "{name}: wrong type for value; expected string; got {}",
            kind(other)
        ))),
        None => Err(err(format!("{name}: missing argument {}", i + 1))),
    }
}

fn nargs(name: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
    if args.len() != n {
        return Err(TemplateError::ArgCount {
            name: name.to_owned(),
            expected: n,
            got: args.len(),
        });
    }
    Ok(())
}

fn string_list(name: &str, v: &Value) -> Result<Vec<String>, TemplateError> {
    match v {
        Value::List(l) => l
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.to_string()),
                other => Err(err(format!(
                    "{name}: expected []string; got element of type {}",
                    kind(other)
                ))),
            })
            .collect(),
        Value::Nil => Ok(Vec::new()),
        other => Err(err(format!(
            "{name}: expected []string; got {}",
            kind(other)
        ))),
    }
}

/// `cases.Title(language.AmericanEnglish)`: in each word the first cased
/// letter is upper-case and the rest lower-case (`3rd` becomes `3Rd`, unlike
/// Go's `strings.Title`). Words break as Unicode's word rules break them in
/// the common cases: letters, digits and `_` join, and `'` `.` `:` join
/// when letters or digits stand on both sides (`o'neil`, `x.y`).
pub fn title(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut seen_cased = false;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    for (i, &c) in chars.iter().enumerate() {
        let joins = matches!(c, '\'' | '.' | ':' | '\u{2019}')
            && i > 0
            && word(chars[i - 1])
            && chars.get(i + 1).is_some_and(|n| word(*n));
        if !(word(c) || joins) {
            seen_cased = false;
            out.push(c);
            continue;
        }
        let cased = c.is_lowercase() || c.is_uppercase();
        if cased && !seen_cased {
            out.extend(c.to_uppercase());
            seen_cased = true;
        } else if cased {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Compiles a Go regexp (RE2 syntax, unanchored as `regexp.MatchString`).
fn go_regex(pattern: &str) -> Result<regex::Regex, TemplateError> {
    goregex::compile(pattern, goregex::Anchor::None)
        .map_err(|e| err(format!("error parsing regexp: {e}")))
}

/// Pairs of a `KV` in Alertmanager's order: `alertname` first, then by name.
pub fn sorted_pairs(m: &BTreeMap<Arc<str>, Value>) -> Vec<(Arc<str>, Value)> {
    let mut out = Vec::with_capacity(m.len());
    if let Some(v) = m.get("alertname") {
        out.push((Arc::from("alertname"), v.clone()));
    }
    out.extend(
        m.iter()
            .filter(|(k, _)| k.as_ref() != "alertname")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    out
}

fn pair(name: Arc<str>, value: Value) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Name"), Value::String(name));
    m.insert(Arc::from("Value"), value);
    Value::Map(Arc::new(m))
}

fn is_kv(m: &BTreeMap<Arc<str>, Value>) -> bool {
    m.values().all(|v| matches!(v, Value::String(_)))
}

fn is_pairs(l: &[Value]) -> bool {
    l.iter().all(|v| match v {
        Value::Map(m) => m.len() == 2 && m.contains_key("Name") && m.contains_key("Value"),
        _ => false,
    })
}

fn is_alerts(l: &[Value]) -> bool {
    l.iter().all(
        |v| matches!(v, Value::Map(m) if m.contains_key("Status") && m.contains_key("Fingerprint")),
    )
}

fn no_args(name: &str, extra: &[Value]) -> Result<(), TemplateError> {
    if !extra.is_empty() {
        return Err(err(format!(
            "wrong number of args for {name}: want 0 got {}",
            extra.len()
        )));
    }
    Ok(())
}

/// `__method "Name" receiver args...`: the Go method `Name` of the receiver's type.
fn method(args: &[Value]) -> Res {
    let (name, recv, extra) = match args {
        [Value::String(n), recv, extra @ ..] => (n.as_ref(), recv, extra),
        _ => return Err(err("bad method call")),
    };
    match (name, recv) {
        ("Firing" | "Resolved", Value::List(l)) if is_alerts(l) => {
            no_args(name, extra)?;
            let want = if name == "Firing" {
                "firing"
            } else {
                "resolved"
            };
            let out: Vec<Value> = l
                .iter()
                .filter(
                    |a| matches!(a.field("Status"), Some(Value::String(st)) if st.as_ref() == want),
                )
                .cloned()
                .collect();
            Ok(Value::List(out.into()))
        }
        ("SortedPairs", Value::Map(m)) if is_kv(m) => {
            no_args(name, extra)?;
            let out: Vec<Value> = sorted_pairs(m)
                .into_iter()
                .map(|(k, v)| pair(k, v))
                .collect();
            Ok(Value::List(out.into()))
        }
        ("Names" | "Values", Value::Map(m)) if is_kv(m) => {
            no_args(name, extra)?;
            let pairs = sorted_pairs(m);
            let out: Vec<Value> = pairs
                .into_iter()
                .map(|(k, v)| if name == "Names" { Value::String(k) } else { v })
                .collect();
            Ok(Value::List(out.into()))
        }
        ("Names" | "Values", Value::List(l)) if is_pairs(l) => {
            no_args(name, extra)?;
            let field = if name == "Names" { "Name" } else { "Value" };
            let out: Vec<Value> = l.iter().filter_map(|p| p.field(field).cloned()).collect();
            Ok(Value::List(out.into()))
        }
        ("Remove", Value::Map(m)) if is_kv(m) => {
            if extra.len() != 1 {
                return Err(err(format!(
                    "wrong number of args for Remove: want 1 got {}",
                    extra.len()
                )));
            }
            let drop = string_list("Remove", &extra[0])?;
            let out: BTreeMap<Arc<str>, Value> = m
                .iter()
                .filter(|(k, _)| !drop.iter().any(|d| d.as_str() == k.as_ref()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Value::Map(Arc::new(out)))
        }
        ("Format" | "Unix" | "UnixMilli" | "UTC" | "Local" | "IsZero", Value::String(t)) => {
            let time = gotime::parse_go_string(t)
                .ok_or_else(|| err(format!("can't evaluate field {name} in type string")))?;
            match name {
                "Format" => {
                    if extra.len() != 1 {
                        return Err(err(format!(
                            "wrong number of args for Format: want 1 got {}",
                            extra.len()
                        )));
                    }
                    Ok(s(gotime::format(&time, &str_arg("Format", extra, 0)?)))
                }
                "Unix" => Ok(Value::Int(time.timestamp())),
                "UnixMilli" => Ok(Value::Int(time.timestamp_millis())),
                "IsZero" => Ok(Value::Bool(time == gotime::zero_time())),
                _ => Ok(recv.clone()),
            }
        }
        // Not a method of this value: a plain field, as gotmpl would look it up.
        (_, Value::Map(m)) => {
            let v = m.get(name).cloned().unwrap_or(Value::Nil);
            if extra.is_empty() {
                Ok(v)
            } else {
                Err(err(format!("{name} is not a method but has arguments")))
            }
        }
        (_, Value::Nil) => Ok(Value::Nil),
        (_, other) => Err(err(format!(
            "can't evaluate field {name} in type {}",
            kind(other)
        ))),
    }
}

/// Go's `%v` of a `Pair` struct: `{name value}`.
fn pair_string(p: &Value) -> String {
    format!(
        "{{{} {}}}",
        p.field("Name").cloned().unwrap_or(Value::Nil),
        p.field("Value").cloned().unwrap_or(Value::Nil)
    )
}

/// Go's `%v` of an `Alert` struct: its fields in declaration order.
fn alert_string(a: &Value) -> String {
    let f = |k: &str| a.field(k).cloned().unwrap_or(Value::Nil).to_string();
    format!(
        "{{{} {} {} {} {} {} {}}}",
        f("Status"),
        f("Labels"),
        f("Annotations"),
        f("StartsAt"),
        f("EndsAt"),
        f("GeneratorURL"),
        f("Fingerprint")
    )
}

/// How Go prints what an action yields: a missing label as "" (the zero
/// string), `Pairs` and `Alerts` as slices of structs (`[{alertname X}]`);
/// maps already print as Go's `map[k:v]`. Alertmanager 0.25's `KV` and
/// `Pairs` have no `String` method, so this is all Go does.
fn print(args: &[Value]) -> Res {
    let v = args.last().cloned().unwrap_or(Value::Nil);
    Ok(match &v {
        Value::Nil => s(""),
        Value::List(l) if !l.is_empty() && is_pairs(l) => s(format!(
            "[{}]",
            l.iter().map(pair_string).collect::<Vec<_>>().join(" ")
        )),
        Value::List(l) if !l.is_empty() && is_alerts(l) => s(format!(
            "[{}]",
            l.iter().map(alert_string).collect::<Vec<_>>().join(" ")
        )),
        Value::Map(m) if is_pairs(std::slice::from_ref(&v)) && m.len() == 2 => s(pair_string(&v)),
        Value::Map(_) if is_alerts(std::slice::from_ref(&v)) => s(alert_string(&v)),
        _ => v,
    })
}

/// A nil from a missing label compares as "" against a string, as Go's zero value would.
fn zero_for(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Nil, Value::String(_)) => s(""),
        _ => a.clone(),
    }
}

fn eq_values(a: &Value, b: &Value) -> Result<bool, TemplateError> {
    let (a, b) = (zero_for(a, b), zero_for(b, a));
    Ok(match (&a, &b) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::Uint(x), Value::Uint(y)) => x == y,
        (Value::Int(x), Value::Uint(y)) | (Value::Uint(y), Value::Int(x)) => {
            *x >= 0 && *x as u64 == *y
        }
        _ => {
            return Err(err(format!(
                "incompatible types for comparison: {} and {}",
                kind(&a),
                kind(&b)
            )))
        }
    })
}

/// The function map every notification template is parsed with.
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |name: &str, f: fn(&[Value]) -> Res| {
        m.insert(name.to_owned(), Arc::new(f));
    };
    add("toUpper", |a| {
        nargs("toUpper", a, 1)?;
        Ok(s(str_arg("toUpper", a, 0)?.to_uppercase()))
    });
    add("toLower", |a| {
        nargs("toLower", a, 1)?;
        Ok(s(str_arg("toLower", a, 0)?.to_lowercase()))
    });
    add("title", |a| {
        nargs("title", a, 1)?;
        Ok(s(title(&str_arg("title", a, 0)?)))
    });
    add("trimSpace", |a| {
        nargs("trimSpace", a, 1)?;
        Ok(s(str_arg("trimSpace", a, 0)?.trim()))
    });
    // Alertmanager's join takes the separator first so that a list can be piped in.
    add("join", |a| {
        nargs("join", a, 2)?;
        let sep = str_arg("join", a, 0)?;
        Ok(s(string_list("join", &a[1])?.join(&sep)))
    });
    add("match", |a| {
        nargs("match", a, 2)?;
        let re = go_regex(&str_arg("match", a, 0)?)?;
        Ok(Value::Bool(re.is_match(&str_arg("match", a, 1)?)))
    });
    add("reReplaceAll", |a| {
        nargs("reReplaceAll", a, 3)?;
        let re = go_regex(&str_arg("reReplaceAll", a, 0)?)?;
        let repl = str_arg("reReplaceAll", a, 1)?;
        let text = str_arg("reReplaceAll", a, 2)?;
        Ok(s(re.replace_all(&text, repl.as_str()).into_owned()))
    });
    add("safeHtml", |a| {
        nargs("safeHtml", a, 1)?;
        Ok(gotmpl::html::HTML::from(str_arg("safeHtml", a, 0)?).into())
    });
    add("stringSlice", |a| {
        let out: Result<Vec<Value>, _> = (0..a.len())
            .map(|i| str_arg("stringSlice", a, i).map(s))
            .collect();
        Ok(Value::List(out?.into()))
    });
    add("eq", |a| {
        if a.len() < 2 {
            return Err(err("missing argument for comparison"));
        }
        for b in &a[1..] {
            if eq_values(&a[0], b)? {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(false))
    });
    add("ne", |a| {
        nargs("ne", a, 2)?;
        Ok(Value::Bool(!eq_values(&a[0], &a[1])?))
    });
    add("len", |a| {
        nargs("len", a, 1)?;
        Ok(Value::Int(match &a[0] {
            Value::Nil => 0,
            Value::String(x) => x.len() as i64,
            Value::List(l) => l.len() as i64,
            Value::Map(m) => m.len() as i64,
            other => return Err(err(format!("len of type {}", kind(other)))),
        }))
    });
    add(METHOD_FN, method);
    add(PRINT_FN, print);
    m
}
