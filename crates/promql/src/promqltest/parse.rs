//! Parsing the pieces of the `.test` language: series descriptions and
//! the expanding value notation. Durations are `model.ParseDuration`
//! ([`sightline_core::duration::parse_prometheus`]), as upstream reads them.

use sightline_core::{Labels, STALE_NAN};

/// Parses a float as Go's `strconv.ParseFloat` would for test files.
pub fn parse_float(s: &str) -> Option<f64> {
    match s {
        "Inf" | "+Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse::<f64>().ok(),
    }
}

/// Splits a line into its series description and the rest.
pub fn split_series(line: &str) -> (&str, &str) {
    let line = line.trim();
    let mut in_braces = false;
    let mut in_quote = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '{' => in_braces = true,
            '}' if in_braces => return (&line[..=i], line[i + 1..].trim()),
            c if c.is_whitespace() && !in_braces => return (&line[..i], line[i..].trim()),
            _ => {}
        }
    }
    (line, "")
}

fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Parses `name{a="b", "quoted"="x"}`, `{__name__="n"}` or `{"name", a="b"}`.
pub fn parse_labels(desc: &str) -> Option<Labels> {
    let desc = desc.trim();
    let (name, body) = match desc.find('{') {
        Some(i) => (desc[..i].trim(), Some(desc[i + 1..].strip_suffix('}')?)),
        None => (desc, None),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    if !name.is_empty() {
        pairs.push(("__name__".into(), name.to_owned()));
    }
    if let Some(body) = body {
        // Split on commas outside quotes.
        let mut items = Vec::new();
        let (mut st, mut in_q, mut esc) = (0, false, false);
        for (i, c) in body.char_indices() {
            if in_q {
                if esc {
                    esc = false;
                } else if c == '\\' {
                    esc = true;
                } else if c == '"' {
                    in_q = false;
                }
            } else if c == '"' {
                in_q = true;
            } else if c == ',' {
                items.push(&body[st..i]);
                st = i + 1;
            }
        }
        items.push(&body[st..]);
        for it in items {
            let it = it.trim();
            if it.is_empty() {
                continue;
            }
            // Find '=' outside quotes.
            let mut eq = None;
            let (mut in_q, mut esc) = (false, false);
            for (i, c) in it.char_indices() {
                if in_q {
                    if esc {
                        esc = false;
                    } else if c == '\\' {
                        esc = true;
                    } else if c == '"' {
                        in_q = false;
                    }
                } else if c == '"' {
                    in_q = true;
                } else if c == '=' {
                    eq = Some(i);
                    break;
                }
            }
            match eq {
                None => pairs.push(("__name__".into(), unquote(it)?)),
                Some(i) => {
                    let k = it[..i].trim();
                    let k = if k.starts_with('"') {
                        unquote(k)?
                    } else {
                        k.to_owned()
                    };
                    pairs.push((k, unquote(&it[i + 1..])?));
                }
            }
        }
    }
    Some(Labels::from_pairs(pairs))
}

/// One expanded value: `None` is a gap (`_`).
pub type Point = Option<f64>;

/// Expands `1+2x3 _ stale 5x2 _x3` into points.
pub fn expand_values(s: &str) -> Option<Vec<Point>> {
    let mut out = Vec::new();
    for tok in s.split_whitespace() {
        if tok == "_" {
            out.push(None);
            continue;
        }
        if tok == "stale" {
            out.push(Some(STALE_NAN));
            continue;
        }
        if let Some(n) = tok.strip_prefix("_x") {
            let n: usize = n.parse().ok()?;
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        if let Some(v) = parse_float(tok) {
            out.push(Some(v));
            continue;
        }
        let xi = tok.rfind('x')?;
        let times: usize = tok[xi + 1..].parse().ok()?;
        let left = &tok[..xi];
        let b = left.as_bytes();
        let mut split = None;
        for i in 1..b.len() {
            if (b[i] == b'+' || b[i] == b'-') && !matches!(b[i - 1], b'e' | b'E') {
                split = Some(i);
                break;
            }
        }
        let (start, inc) = match split {
            Some(i) => (parse_float(&left[..i])?, parse_float(&left[i..])?),
            None => {
                if left == "stale" {
                    out.extend(std::iter::repeat_n(Some(STALE_NAN), times + 1));
                    continue;
                }
                (parse_float(left)?, 0.0)
            }
        };
        for k in 0..=times {
            out.push(Some(start + inc * k as f64));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_values() {
        let v = expand_values("1+2x3 _ 5-1x2 _x2 1x1").unwrap();
        let want = vec![
            Some(1.0),
            Some(3.0),
            Some(5.0),
            Some(7.0),
            None,
            Some(5.0),
            Some(4.0),
            Some(3.0),
            None,
            None,
            Some(1.0),
            Some(1.0),
        ];
        assert_eq!(v, want);
        assert_eq!(
            expand_values("-1+1x1").unwrap(),
            vec![Some(-1.0), Some(0.0)]
        );
    }

    #[test]
    fn parses_labels() {
        let l = parse_labels(r#"{"a.b", x="y,z"}"#).unwrap();
        assert_eq!(l.get("__name__"), Some("a.b"));
        assert_eq!(l.get("x"), Some("y,z"));
        assert_eq!(split_series(r#"m{a="} x"} 1 2"#), (r#"m{a="} x"}"#, "1 2"));
    }
}
