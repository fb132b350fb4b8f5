//! LogQL's tokens. Numbers that run straight into letters are one token,
//! classified as a duration (`5m`, `1h30m`, `250ms`) or a byte size
//! (`10KB`, `1.5MiB`) as Loki's lexer does; strings are Go's interpreted
//! (`"..."` with escapes) or raw (`` `...` ``) literals.

use crate::error::{ParseError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    /// Nanoseconds.
    Duration(i64),
    Bytes(u64),
    /// `{ } ( ) [ ] , | |= != |~ !~ |> !> = =~ == > >= < <= + - * / % ^`
    Punct(&'static str),
    Eof,
}

impl Tok {
    /// The token's kind as Loki's parser names it in errors.
    pub fn kind(&self) -> String {
        match self {
            Tok::Ident(s) => format!("IDENTIFIER {s:?}"),
            Tok::Str(s) => format!("STRING {s:?}"),
            Tok::Num(n) => format!("NUMBER {n}"),
            Tok::Duration(_) => "DURATION".into(),
            Tok::Bytes(_) => "BYTES".into(),
            Tok::Punct(p) => format!("{p:?}"),
            Tok::Eof => "end of query".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset in the query.
    pub at: usize,
}

const PUNCT: [&str; 27] = [
    "|=", "!=", "|~", "!~", "|>", "!>", "=~", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",",
    "|", "=", ">", "<", "+", "-", "*", "/", "%", "^",
];

/// Splits `src` into tokens, ending with `Tok::Eof`.
pub fn lex(src: &str) -> Result<Vec<Token>> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            // A comment runs to the end of the line.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let at = i;
        if c == b'"' || c == b'`' {
            let (s, next) = string(src, i)?;
            out.push(Token {
                tok: Tok::Str(s),
                at,
            });
            i = next;
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let (tok, next) = number(src, i)?;
            out.push(Token { tok, at });
            i = next;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(src[start..i].to_owned()),
                at,
            });
            continue;
        }
        match PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            Some(p) => {
                out.push(Token {
                    tok: Tok::Punct(p),
                    at,
                });
                i += p.len();
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(ParseError::at(
                    src,
                    i,
                    format!("syntax error: unexpected character {ch:?}"),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        at: src.len(),
    });
    Ok(out)
}

/// A string literal starting at `i`: its value and the offset after it.
fn string(src: &str, i: usize) -> Result<(String, usize)> {
    let quote = src.as_bytes()[i];
    let mut out = String::new();
    let mut chars = src[i + 1..].char_indices();
    while let Some((k, ch)) = chars.next() {
        let pos = i + 1 + k;
        if ch as u32 == quote as u32 {
            return Ok((out, pos + 1));
        }
        if ch == '\\' && quote == b'"' {
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, c)| c))
                        .collect();
                    let v = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    match v {
                        Some(c) => out.push(c),
                        None => {
                            return Err(ParseError::at(
                                src,
                                pos,
                                format!("invalid escape \\{e}{hex} in string"),
                            ))
                        }
                    }
                }
                _ => {
                    return Err(ParseError::at(
                        src,
                        pos,
                        format!("invalid escape \\{e} in string (write \\\\{e} for a backslash)"),
                    ))
                }
            }
            continue;
        }
        if ch == '\n' && quote == b'"' {
            return Err(ParseError::at(src, i, "newline in string"));
        }
        out.push(ch);
    }
    Err(ParseError::at(src, i, "unterminated string"))
}

/// A number, duration or byte size starting at `i`.
fn number(src: &str, i: usize) -> Result<(Tok, usize)> {
    let b = src.as_bytes();
    let mut j = i;
    if src[i..].starts_with("0x") || src[i..].starts_with("0X") {
        j += 2;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        let v = i64::from_str_radix(&src[i + 2..j], 16)
            .map_err(|_| ParseError::at(src, i, "bad hexadecimal number"))?;
        return Ok((Tok::Num(v as f64), j));
    }
    // Digits, dots and letters run together: `1.5`, `1e3`, `5m`, `1h30m`,
    // `10KiB`.
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'.' || b[j] == b'_') {
        // An exponent's sign belongs to the number.
        if (b[j] == b'e' || b[j] == b'E')
            && matches!(b.get(j + 1), Some(b'+' | b'-'))
            && b.get(j + 2).is_some_and(u8::is_ascii_digit)
        {
            j += 2;
        }
        j += 1;
    }
    let text = &src[i..j];
    if let Ok(v) = text.parse::<f64>() {
        if !text.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
            return Ok((Tok::Num(v), j));
        }
    }
    if text.eq_ignore_ascii_case("inf") || text.eq_ignore_ascii_case("nan") {
        return Ok((Tok::Num(text.parse().unwrap_or(f64::NAN)), j));
    }
    if let Some(ns) = parse_duration(text) {
        return Ok((Tok::Duration(ns), j));
    }
    if let Some(n) = parse_bytes(text) {
        return Ok((Tok::Bytes(n), j));
    }
    Err(ParseError::at(
        src,
        i,
        format!("bad number, duration or byte size {text:?}"),
    ))
}

/// A duration as Loki reads it (Go's `time.ParseDuration` units plus
/// Prometheus's `d`, `w`, `y`): nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let units: [(&str, f64); 10] = [
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("m", 60e9),
        ("h", 3600e9),
        ("d", 86400e9),
        ("w", 604800e9),
        ("y", 31536000e9),
    ];
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|&n| n > 0)?;
        let v: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let (unit, mult) = units
            .iter()
            // Longest unit first: `ms` before `m`.
            .filter(|(u, _)| rest.starts_with(u))
            .max_by_key(|(u, _)| u.len())?;
        rest = &rest[unit.len()..];
        total += v * mult;
    }
    Some(total as i64)
}

/// A byte size as go-humanize's `ParseBytes` reads it (Loki's bytes label
/// filters): `B`, SI `kB`/`KB`/`MB`... (powers of 1000) and IEC
/// `KiB`/`MiB`... (powers of 1024), any case.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let Some(n) = s.find(|c: char| !(c.is_ascii_digit() || c == '.')) else {
        // No unit: bytes.
        return s.parse::<f64>().ok().map(|v| v as u64);
    };
    let v: f64 = s[..n].parse().ok()?;
    let unit = s[n..].to_ascii_lowercase();
    let mult: f64 = match unit.as_str() {
        "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "pb" | "p" => 1e15,
        "eb" | "e" => 1e18,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024f64.powi(2),
        "gib" | "gi" => 1024f64.powi(3),
        "tib" | "ti" => 1024f64.powi(4),
        "pib" | "pi" => 1024f64.powi(5),
        "eib" | "ei" => 1024f64.powi(6),
        _ => return None,
    };
    Some((v * mult) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_durations_and_sizes() {
        assert_eq!(
            toks("1.5 5m 1h30m 250ms 10KB 1.5MiB 1e3 0x1f"),
            vec![
                Tok::Num(1.5),
                Tok::Duration(300_000_000_000),
                Tok::Duration(5_400_000_000_000),
                Tok::Duration(250_000_000),
                Tok::Bytes(10_000),
                Tok::Bytes(1_572_864),
                Tok::Num(1000.0),
                Tok::Num(31.0),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_and_operators() {
        assert_eq!(
            toks(r#"{app="a\"b"} |= `c\d` != "e" |~ "f" !~ "g" |> "h" !> "i""#),
            vec![
                Tok::Punct("{"),
                Tok::Ident("app".into()),
                Tok::Punct("="),
                Tok::Str("a\"b".into()),
                Tok::Punct("}"),
                Tok::Punct("|="),
                Tok::Str("c\\d".into()),
                Tok::Punct("!="),
                Tok::Str("e".into()),
                Tok::Punct("|~"),
                Tok::Str("f".into()),
                Tok::Punct("!~"),
                Tok::Str("g".into()),
                Tok::Punct("|>"),
                Tok::Str("h".into()),
                Tok::Punct("!>"),
                Tok::Str("i".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn errors_name_the_place() {
        let e = lex("{app=\"x}").unwrap_err();
        assert_eq!((e.line, e.col), (1, 6));
        assert_eq!(e.message, "unterminated string");
        let e = lex("{a=\"b\"}\n  |= 5xy").unwrap_err();
        assert_eq!((e.line, e.col), (2, 6));
        assert!(e.message.contains("\"5xy\""), "{}", e.message);
    }
}
