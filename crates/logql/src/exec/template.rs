//! `line_format` and `label_format`: Go text/template (the `gotmpl`
//! crate) over the line's labels, with Loki's functions and its
//! `__line__` and `__timestamp__`.

use super::{errors, LabelSet, ERROR, ERROR_DETAILS};
use gotmpl::{FuncMap, Template, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct LineTemplate(Template);

pub enum LabelValue {
    Template(Template),
    Rename(String),
}

impl LabelValue {
    pub fn template(t: &str) -> Result<LabelValue, String> {
        Ok(LabelValue::Template(compile(t)?))
    }
}

/// `__line__` and `__timestamp__` are functions in Loki; here they are
/// fields of the data, so the text is rewritten to read them as fields.
fn compile(text: &str) -> Result<Template, String> {
    let mut src = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("__") {
        let (before, after) = rest.split_at(i);
        src.push_str(before);
        let word = ["__line__", "__timestamp__"]
            .into_iter()
            .find(|w| after.starts_with(w));
        match word {
            Some(w) if !before.ends_with('.') => {
                src.push('.');
                src.push_str(w);
                rest = &after[w.len()..];
            }
            _ => {
                src.push_str("__");
                rest = &after[2..];
            }
        }
    }
    src.push_str(rest);
    Template::new("line")
        .funcs(funcs())
        .parse(&src)
        .map_err(|e| format!("invalid template {text:?}: {e}"))
}

fn data(line: &str, ts_ns: i64, labels: &LabelSet) -> Value {
    let mut m: BTreeMap<Arc<str>, Value> = labels
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), Value::String(v.as_str().into())))
        .collect();
    m.insert(Arc::from("__line__"), Value::String(line.into()));
    m.insert(Arc::from("__timestamp__"), Value::Int(ts_ns));
    Value::Map(Arc::new(m))
}

fn run(t: &Template, line: &str, ts_ns: i64, labels: &mut LabelSet) -> Option<String> {
    match t.execute_to_string(&data(line, ts_ns, labels)) {
        Ok(s) => Some(s),
        Err(e) => {
            if !labels.contains_key(ERROR) {
                labels.insert(ERROR.into(), errors::TEMPLATE.into());
                labels.insert(ERROR_DETAILS.into(), e.to_string());
            }
            None
        }
    }
}

impl LineTemplate {
    pub fn new(text: &str) -> Result<LineTemplate, String> {
        Ok(LineTemplate(compile(text)?))
    }

    /// The new line; on a template error the line stays and `__error__`
    /// says why.
    pub fn render(&self, line: &str, ts_ns: i64, labels: &mut LabelSet) -> String {
        run(&self.0, line, ts_ns, labels).unwrap_or_else(|| line.to_owned())
    }
}

/// Applies `label_format`: every value is computed from the labels as
/// they were before the stage, then set.
pub fn label_format(fmts: &[(String, LabelValue)], line: &str, ts_ns: i64, labels: &mut LabelSet) {
    let before = labels.clone();
    for (dst, v) in fmts {
        match v {
            LabelValue::Rename(src) => {
                if let Some(val) = before.get(src) {
                    labels.remove(src);
                    labels.insert(dst.clone(), val.clone());
                }
            }
            LabelValue::Template(t) => {
                let mut scratch = before.clone();
                match run(t, line, ts_ns, &mut scratch) {
                    Some(s) => {
                        labels.insert(dst.clone(), s);
                    }
                    None => {
                        for k in [ERROR, ERROR_DETAILS] {
                            if let Some(v) = scratch.get(k) {
                                labels.entry(k.into()).or_insert_with(|| v.clone());
                            }
                        }
                    }
                }
            }
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Nil => String::new(),
        other => format!("{other:?}"),
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Uint(u) => *u as i64,
        Value::Float(f) => *f as i64,
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .or_else(|_| s.trim().parse::<f64>().map(|f| f as i64))
            .unwrap_or(0),
        _ => 0,
    }
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Nil)
}

type F = gotmpl::ValueFunc;

fn s1(f: fn(&str) -> String) -> F {
    Arc::new(move |a: &[Value]| Ok(Value::String(f(&text(arg(a, 0))).into())))
}

/// The text functions Loki's templates offer (Go's `strings` ones under
/// their Loki names, and the sprig ones Loki includes). With sprig's
/// argument order: the piped value comes last.
fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    let mut add = |n: &str, f: F| {
        m.insert(n.to_owned(), f);
    };
    add("ToLower", s1(|s| s.to_lowercase()));
    add("ToUpper", s1(|s| s.to_uppercase()));
    add("lower", s1(|s| s.to_lowercase()));
    add("upper", s1(|s| s.to_uppercase()));
    add("TrimSpace", s1(|s| s.trim().to_owned()));
    add("trim", s1(|s| s.trim().to_owned()));
    add(
        "title",
        s1(|s| {
            let mut out = String::new();
            let mut start = true;
            for c in s.chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = !c.is_alphanumeric();
            }
            out
        }),
    );
    // Go's argument order: the string first.
    add(
        "Replace",
        Arc::new(|a: &[Value]| {
            let n = int(arg(a, 3));
            let (s, old, new) = (text(arg(a, 0)), text(arg(a, 1)), text(arg(a, 2)));
            Ok(Value::String(
                if n < 0 {
                    s.replace(&old, &new)
                } else {
                    s.replacen(&old, &new, n as usize)
                }
                .into(),
            ))
        }),
    );
    add(
        "TrimPrefix",
        Arc::new(|a: &[Value]| {
            Ok(Value::String(
                {
                    let s = text(arg(a, 0));
                    s.strip_prefix(text(arg(a, 1)).as_str())
                        .unwrap_or(&s)
                        .to_owned()
                }
                .into(),
            ))
        }),
    );
    add(
        "TrimSuffix",
        Arc::new(|a: &[Value]| {
            Ok(Value::String(
                {
                    let s = text(arg(a, 0));
                    s.strip_suffix(text(arg(a, 1)).as_str())
                        .unwrap_or(&s)
                        .to_owned()
                }
                .into(),
            ))
        }),
    );
    add(
        "Trim",
        Arc::new(|a: &[Value]| {
            let cut = text(arg(a, 1));
            Ok(Value::String(
                text(arg(a, 0))
                    .trim_matches(|c| cut.contains(c))
                    .to_owned()
                    .into(),
            ))
        }),
    );
    add(
        "TrimLeft",
        Arc::new(|a: &[Value]| {
            let cut = text(arg(a, 1));
            Ok(Value::String(
                text(arg(a, 0))
                    .trim_start_matches(|c| cut.contains(c))
                    .to_owned()
                    .into(),
            ))
        }),
    );
    add(
        "TrimRight",
        Arc::new(|a: &[Value]| {
            let cut = text(arg(a, 1));
            Ok(Value::String(
                text(arg(a, 0))
                    .trim_end_matches(|c| cut.contains(c))
                    .to_owned()
                    .into(),
            ))
        }),
    );
    // sprig's order: the string last.
    add(
        "replace",
        Arc::new(|a: &[Value]| {
            Ok(Value::String(
                text(arg(a, 2))
                    .replace(&text(arg(a, 0)), &text(arg(a, 1)))
                    .into(),
            ))
        }),
    );
    add(
        "trimPrefix",
        Arc::new(|a: &[Value]| {
            Ok(Value::String(
                {
                    let s = text(arg(a, 1));
                    s.strip_prefix(text(arg(a, 0)).as_str())
                        .unwrap_or(&s)
                        .to_owned()
                }
                .into(),
            ))
        }),
    );
    add(
        "trimSuffix",
        Arc::new(|a: &[Value]| {
            Ok(Value::String(
                {
                    let s = text(arg(a, 1));
                    s.strip_suffix(text(arg(a, 0)).as_str())
                        .unwrap_or(&s)
                        .to_owned()
                }
                .into(),
            ))
        }),
    );
    add(
        "trimAll",
        Arc::new(|a: &[Value]| {
            let cut = text(arg(a, 0));
            Ok(Value::String(
                text(arg(a, 1))
                    .trim_matches(|c| cut.contains(c))
                    .to_owned()
                    .into(),
            ))
        }),
    );
    add(
        "contains",
        Arc::new(|a: &[Value]| Ok(Value::Bool(text(arg(a, 1)).contains(&text(arg(a, 0)))))),
    );
    add(
        "hasPrefix",
        Arc::new(|a: &[Value]| Ok(Value::Bool(text(arg(a, 1)).starts_with(&text(arg(a, 0)))))),
    );
    add(
        "hasSuffix",
        Arc::new(|a: &[Value]| Ok(Value::Bool(text(arg(a, 1)).ends_with(&text(arg(a, 0)))))),
    );
    add(
        "repeat",
        Arc::new(|a: &[Value]| {
            Ok(Value::String(
                text(arg(a, 1))
                    .repeat(int(arg(a, 0)).max(0) as usize)
                    .into(),
            ))
        }),
    );
    add(
        "trunc",
        Arc::new(|a: &[Value]| {
            let n = int(arg(a, 0));
            let s: Vec<char> = text(arg(a, 1)).chars().collect();
            let out: String = if n >= 0 {
                s.iter().take(n as usize).collect()
            } else {
                s[s.len().saturating_sub((-n) as usize)..].iter().collect()
            };
            Ok(Value::String(out.into()))
        }),
    );
    add(
        "substr",
        Arc::new(|a: &[Value]| {
            let s: Vec<char> = text(arg(a, 2)).chars().collect();
            let start = int(arg(a, 0)).clamp(0, s.len() as i64) as usize;
            let end = int(arg(a, 1));
            let end = if end < 0 {
                s.len()
            } else {
                (end as usize).min(s.len())
            };
            Ok(Value::String(
                s[start.min(end)..end].iter().collect::<String>().into(),
            ))
        }),
    );
    add(
        "indent",
        Arc::new(|a: &[Value]| {
            let pad = " ".repeat(int(arg(a, 0)).max(0) as usize);
            Ok(Value::String(
                text(arg(a, 1))
                    .lines()
                    .map(|l| format!("{pad}{l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into(),
            ))
        }),
    );
    add(
        "nindent",
        Arc::new(|a: &[Value]| {
            let pad = " ".repeat(int(arg(a, 0)).max(0) as usize);
            Ok(Value::String(
                format!(
                    "\n{}",
                    text(arg(a, 1))
                        .lines()
                        .map(|l| format!("{pad}{l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
                .into(),
            ))
        }),
    );
    add(
        "count",
        Arc::new(|a: &[Value]| {
            let sub = text(arg(a, 0));
            Ok(Value::Int(if sub.is_empty() {
                0
            } else {
                text(arg(a, 1)).matches(sub.as_str()).count() as i64
            }))
        }),
    );
    add(
        "default",
        Arc::new(|a: &[Value]| {
            let given = arg(a, 1);
            let empty =
                matches!(given, Value::Nil) || matches!(given, Value::String(s) if s.is_empty());
            Ok(if empty {
                arg(a, 0).clone()
            } else {
                given.clone()
            })
        }),
    );
    add(
        "regexReplaceAll",
        Arc::new(|a: &[Value]| {
            let re = sightline_core::goregex::compile(
                &text(arg(a, 0)),
                sightline_core::goregex::Anchor::None,
            )
            .map_err(|e| gotmpl::TemplateError::Exec(e.to_string()))?;
            let repl = text(arg(a, 2));
            Ok(Value::String(
                re.replace_all(&text(arg(a, 1)), repl.as_str())
                    .into_owned()
                    .into(),
            ))
        }),
    );
    add(
        "regexReplaceAllLiteral",
        Arc::new(|a: &[Value]| {
            let re = sightline_core::goregex::compile(
                &text(arg(a, 0)),
                sightline_core::goregex::Anchor::None,
            )
            .map_err(|e| gotmpl::TemplateError::Exec(e.to_string()))?;
            Ok(Value::String(
                re.replace_all(&text(arg(a, 1)), regex::NoExpand(&text(arg(a, 2))))
                    .into_owned()
                    .into(),
            ))
        }),
    );
    add(
        "alignLeft",
        Arc::new(|a: &[Value]| {
            let n = int(arg(a, 0)).max(0) as usize;
            let s: String = text(arg(a, 1)).chars().take(n).collect();
            Ok(Value::String(format!("{s:<n$}").into()))
        }),
    );
    add(
        "alignRight",
        Arc::new(|a: &[Value]| {
            let n = int(arg(a, 0)).max(0) as usize;
            let c: Vec<char> = text(arg(a, 1)).chars().collect();
            let s: String = c[c.len().saturating_sub(n)..].iter().collect();
            Ok(Value::String(format!("{s:>n$}").into()))
        }),
    );
    add(
        "add",
        Arc::new(|a: &[Value]| Ok(Value::Int(a.iter().map(int).sum()))),
    );
    add(
        "sub",
        Arc::new(|a: &[Value]| Ok(Value::Int(int(arg(a, 0)) - int(arg(a, 1))))),
    );
    add(
        "mul",
        Arc::new(|a: &[Value]| Ok(Value::Int(a.iter().map(int).product()))),
    );
    add(
        "div",
        Arc::new(|a: &[Value]| {
            let d = int(arg(a, 1));
            if d == 0 {
                return Err(gotmpl::TemplateError::Exec("integer divide by zero".into()));
            }
            Ok(Value::Int(int(arg(a, 0)) / d))
        }),
    );
    add(
        "mod",
        Arc::new(|a: &[Value]| {
            let d = int(arg(a, 1));
            if d == 0 {
                return Err(gotmpl::TemplateError::Exec("integer divide by zero".into()));
            }
            Ok(Value::Int(int(arg(a, 0)) % d))
        }),
    );
    add(
        "addf",
        Arc::new(|a: &[Value]| Ok(Value::Float(a.iter().map(num).sum()))),
    );
    add(
        "subf",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                a.iter().skip(1).fold(num(arg(a, 0)), |x, y| x - num(y)),
            ))
        }),
    );
    add(
        "mulf",
        Arc::new(|a: &[Value]| Ok(Value::Float(a.iter().map(num).product()))),
    );
    add(
        "divf",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                a.iter().skip(1).fold(num(arg(a, 0)), |x, y| x / num(y)),
            ))
        }),
    );
    add(
        "max",
        Arc::new(|a: &[Value]| Ok(Value::Int(a.iter().map(int).max().unwrap_or(0)))),
    );
    add(
        "min",
        Arc::new(|a: &[Value]| Ok(Value::Int(a.iter().map(int).min().unwrap_or(0)))),
    );
    add(
        "maxf",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                a.iter().map(num).fold(f64::NEG_INFINITY, f64::max),
            ))
        }),
    );
    add(
        "minf",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                a.iter().map(num).fold(f64::INFINITY, f64::min),
            ))
        }),
    );
    add(
        "ceil",
        Arc::new(|a: &[Value]| Ok(Value::Float(num(arg(a, 0)).ceil()))),
    );
    add(
        "floor",
        Arc::new(|a: &[Value]| Ok(Value::Float(num(arg(a, 0)).floor()))),
    );
    add(
        "round",
        Arc::new(|a: &[Value]| {
            let p = 10f64.powi(int(arg(a, 1)) as i32);
            Ok(Value::Float((num(arg(a, 0)) * p).round() / p))
        }),
    );
    add(
        "int",
        Arc::new(|a: &[Value]| Ok(Value::Int(int(arg(a, 0))))),
    );
    add(
        "float64",
        Arc::new(|a: &[Value]| Ok(Value::Float(num(arg(a, 0))))),
    );
    add(
        "toString",
        Arc::new(|a: &[Value]| Ok(Value::String(text(arg(a, 0)).into()))),
    );
    add(
        "unixEpoch",
        Arc::new(|a: &[Value]| Ok(Value::Int(int(arg(a, 0)) / 1_000_000_000))),
    );
    add(
        "unixEpochMillis",
        Arc::new(|a: &[Value]| Ok(Value::Int(int(arg(a, 0)) / 1_000_000))),
    );
    add(
        "unixEpochNanos",
        Arc::new(|a: &[Value]| Ok(Value::Int(int(arg(a, 0))))),
    );
    add(
        "bytes",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                crate::lexer::parse_bytes(&text(arg(a, 0)).replace(' ', ""))
                    .map_or(0.0, |b| b as f64),
            ))
        }),
    );
    add(
        "duration",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                super::convert(&text(arg(a, 0)), crate::ast::Conversion::Duration).unwrap_or(0.0),
            ))
        }),
    );
    add(
        "duration_seconds",
        Arc::new(|a: &[Value]| {
            Ok(Value::Float(
                super::convert(&text(arg(a, 0)), crate::ast::Conversion::Duration).unwrap_or(0.0),
            ))
        }),
    );
    m
}
