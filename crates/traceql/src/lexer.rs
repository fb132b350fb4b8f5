//! Splits a query into tokens, each with its byte offset.

use crate::ast::AttrScope;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    Comma,
    Pipe,
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    /// `=~`
    Re,
    /// `!~`: regex mismatch in a field, not-sibling between spansets.
    Nre,
    Not,
    And,
    Or,
    /// `>>`
    Desc,
    /// `<<`
    Anc,
    /// `~`
    Tilde,
    /// `!>`
    NotChild,
    /// `!>>`
    NotDesc,
    /// `!<`
    NotParent,
    /// `!<<`
    NotAnc,
    /// `&>`
    UnionChild,
    /// `&>>`
    UnionDesc,
    /// `&<`
    UnionParent,
    /// `&<<`
    UnionAnc,
    /// `&~`
    UnionSibling,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Str(String),
    Int(i64),
    Float(f64),
    /// Nanoseconds.
    Duration(i64),
    /// A word: keywords, intrinsics (`name`, `span:id`), function names.
    Ident(String),
    Attr(AttrScope, String),
    Eof,
}

impl Tok {
    /// How errors name the token, in the words of Tempo's (yacc) parser.
    pub fn describe(&self) -> String {
        match self {
            Tok::Str(_) => "STRING".into(),
            Tok::Int(_) => "INTEGER".into(),
            Tok::Float(_) => "FLOAT".into(),
            Tok::Duration(_) => "DURATION".into(),
            Tok::Ident(w) => format!("IDENTIFIER {w:?}"),
            Tok::Attr(..) => "IDENTIFIER".into(),
            Tok::Eof => "end of input".into(),
            other => other.symbol().to_string(),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            Tok::Pipe => "|",
            Tok::Eq => "=",
            Tok::Neq => "!=",
            Tok::Gt => ">",
            Tok::Gte => ">=",
            Tok::Lt => "<",
            Tok::Lte => "<=",
            Tok::Re => "=~",
            Tok::Nre => "!~",
            Tok::Not => "!",
            Tok::And => "&&",
            Tok::Or => "||",
            Tok::Desc => ">>",
            Tok::Anc => "<<",
            Tok::Tilde => "~",
            Tok::NotChild => "!>",
            Tok::NotDesc => "!>>",
            Tok::NotParent => "!<",
            Tok::NotAnc => "!<<",
            Tok::UnionChild => "&>",
            Tok::UnionDesc => "&>>",
            Tok::UnionParent => "&<",
            Tok::UnionAnc => "&<<",
            Tok::UnionSibling => "&~",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Caret => "^",
            _ => "?",
        }
    }
}

/// Characters that end an attribute name (Tempo allows most others,
/// dots and dashes included: `span.http.status-code`).
fn ends_attr(c: char) -> bool {
    c.is_whitespace() || "{}()=~!<>&|^,\"`".contains(c)
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

pub fn lex(src: &str) -> Result<Vec<(Tok, usize)>> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    let peek = |j: usize| src[j..].chars().next();
    while i < src.len() {
        let c = peek(i).unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let two = |s: &str| src[i..].starts_with(s);
        let (tok, len) = if two("!>>") {
            (Tok::NotDesc, 3)
        } else if two("!<<") {
            (Tok::NotAnc, 3)
        } else if two("&>>") {
            (Tok::UnionDesc, 3)
        } else if two("&<<") {
            (Tok::UnionAnc, 3)
        } else if two("!=") {
            (Tok::Neq, 2)
        } else if two("!~") {
            (Tok::Nre, 2)
        } else if two("!>") {
            (Tok::NotChild, 2)
        } else if two("!<") {
            (Tok::NotParent, 2)
        } else if two("&&") {
            (Tok::And, 2)
        } else if two("&>") {
            (Tok::UnionChild, 2)
        } else if two("&<") {
            (Tok::UnionParent, 2)
        } else if two("&~") {
            (Tok::UnionSibling, 2)
        } else if two("||") {
            (Tok::Or, 2)
        } else if two("=~") {
            (Tok::Re, 2)
        } else if two(">>") {
            (Tok::Desc, 2)
        } else if two("<<") {
            (Tok::Anc, 2)
        } else if two(">=") {
            (Tok::Gte, 2)
        } else if two("<=") {
            (Tok::Lte, 2)
        } else {
            match c {
                '{' => (Tok::LBrace, 1),
                '}' => (Tok::RBrace, 1),
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                ',' => (Tok::Comma, 1),
                '|' => (Tok::Pipe, 1),
                '=' => (Tok::Eq, 1),
                '>' => (Tok::Gt, 1),
                '<' => (Tok::Lt, 1),
                '~' => (Tok::Tilde, 1),
                '!' => (Tok::Not, 1),
                '+' => (Tok::Plus, 1),
                '-' => (Tok::Minus, 1),
                '*' => (Tok::Star, 1),
                '/' => (Tok::Slash, 1),
                '%' => (Tok::Percent, 1),
                '^' => (Tok::Caret, 1),
                '"' | '`' => {
                    let (s, end) = lex_string(src, i)?;
                    out.push((Tok::Str(s), start));
                    i = end;
                    continue;
                }
                '.' if peek(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                    let (t, end) = lex_number(src, i)?;
                    out.push((t, start));
                    i = end;
                    continue;
                }
                '.' => {
                    let (name, end) = lex_attr_name(src, i + 1)?;
                    out.push((Tok::Attr(AttrScope::Unscoped, name), start));
                    i = end;
                    continue;
                }
                d if d.is_ascii_digit() => {
                    let (t, end) = lex_number(src, i)?;
                    out.push((t, start));
                    i = end;
                    continue;
                }
                w if is_word_start(w) => {
                    let mut end = i;
                    while end < b.len() && is_word(b[end] as char) {
                        end += 1;
                    }
                    let word = &src[i..end];
                    let scope = match word {
                        "span" => Some(AttrScope::Span),
                        "resource" => Some(AttrScope::Resource),
                        "event" => Some(AttrScope::Event),
                        "link" => Some(AttrScope::Link),
                        "instrumentation" => Some(AttrScope::Instrumentation),
                        _ => None,
                    };
                    if let (Some(scope), Some(b'.')) = (scope, b.get(end)) {
                        let (name, e) = lex_attr_name(src, end + 1)?;
                        out.push((Tok::Attr(scope, name), start));
                        i = e;
                    } else {
                        out.push((Tok::Ident(word.to_string()), start));
                        i = end;
                    }
                    continue;
                }
                other => {
                    return Err(Error::parse_at(
                        src,
                        i,
                        format!("syntax error: unexpected character {other:?}"),
                    ))
                }
            }
        };
        out.push((tok, start));
        i += len;
    }
    out.push((Tok::Eof, src.len()));
    check_size(src, &out)?;
    Ok(out)
}

/// The deepest nesting of parentheses and braces a query may have.
pub const MAX_NESTING: usize = 64;
/// The most operators a query may hold: the evaluator recurses once per
/// operator, so this bounds its stack however the query is written.
pub const MAX_OPERATORS: usize = 1000;

/// Refuses queries whose parse or evaluation would recurse too deeply
/// (a server thread's stack is small; bad input must not crash it).
fn check_size(src: &str, toks: &[(Tok, usize)]) -> Result<()> {
    let (mut depth, mut ops) = (0usize, 0usize);
    for (t, at) in toks {
        match t {
            Tok::LParen | Tok::LBrace => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Error::parse_at(
                        src,
                        *at,
                        format!("query too deeply nested (more than {MAX_NESTING} levels of parentheses and braces)"),
                    ));
                }
            }
            Tok::RParen | Tok::RBrace => depth = depth.saturating_sub(1),
            Tok::Comma
            | Tok::Eof
            | Tok::Str(_)
            | Tok::Int(_)
            | Tok::Float(_)
            | Tok::Duration(_)
            | Tok::Ident(_)
            | Tok::Attr(..) => {}
            _ => {
                ops += 1;
                if ops > MAX_OPERATORS {
                    return Err(Error::parse_at(
                        src,
                        *at,
                        format!("query too large (more than {MAX_OPERATORS} operators)"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// An attribute name starting at `i` (after the scope's dot): bare
/// segments and quoted ones, mixed (`span.a."b c"`), as Tempo reads them.
fn lex_attr_name(src: &str, i: usize) -> Result<(String, usize)> {
    let mut name = String::new();
    let mut end = i;
    loop {
        let at_segment_start = name.is_empty() || name.ends_with('.');
        if at_segment_start && src[end..].starts_with('"') {
            let (quoted, e) = lex_string(src, end)?;
            name.push_str(&quoted);
            end = e;
            continue;
        }
        let Some(c) = src[end..].chars().next() else {
            break;
        };
        if ends_attr(c) {
            break;
        }
        name.push(c);
        end += c.len_utf8();
    }
    if end == i {
        return Err(Error::parse_at(
            src,
            i,
            "syntax error: expected an attribute name after '.'",
        ));
    }
    Ok((name, end))
}

/// A string in double quotes (with Go's escapes) or backquotes (raw).
fn lex_string(src: &str, i: usize) -> Result<(String, usize)> {
    let quote = src[i..].chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = src[i + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        let at = i + 1 + off;
        if c == quote {
            return Ok((out, at + 1));
        }
        if c == '\\' && quote == '"' {
            let Some((_, e)) = chars.next() else { break };
            out.push(match e {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                '"' => '"',
                '\'' => '\'',
                other => {
                    return Err(Error::parse_at(
                        src,
                        at,
                        format!("syntax error: unknown escape sequence \\{other}"),
                    ))
                }
            });
            continue;
        }
        out.push(c);
    }
    Err(Error::parse_at(src, i, "syntax error: unterminated string"))
}

/// An integer, a float or a duration (`1.5s`, `1h30m`, `250µs`).
fn lex_number(src: &str, i: usize) -> Result<(Tok, usize)> {
    let b = src.as_bytes();
    let digits = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut end = digits(i);
    let mut is_float = false;
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(|d| d.is_ascii_digit()) {
        end = digits(end + 1);
        is_float = true;
    }
    if matches!(b.get(end), Some(b'e' | b'E'))
        && (b.get(end + 1).is_some_and(|d| d.is_ascii_digit())
            || (matches!(b.get(end + 1), Some(b'+' | b'-'))
                && b.get(end + 2).is_some_and(|d| d.is_ascii_digit())))
    {
        end = digits(end + 2);
        is_float = true;
    }
    let num = &src[i..end];
    let unit_len = duration_unit(&src[end..]);
    if unit_len.is_none() {
        if src[end..].chars().next().is_some_and(is_word) {
            return Err(Error::parse_at(
                src,
                end,
                format!("syntax error: bad number or duration {:?}", word_at(src, i)),
            ));
        }
        let tok = if is_float {
            Tok::Float(num.parse().map_err(|_| bad_num(src, i))?)
        } else {
            match num.parse::<i64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => Tok::Float(num.parse().map_err(|_| bad_num(src, i))?),
            }
        };
        return Ok((tok, end));
    }
    // A duration: one or more number+unit parts, as Go's ParseDuration.
    let mut total: f64 = 0.0;
    let mut j = i;
    loop {
        let mut k = digits(j);
        if b.get(k) == Some(&b'.') {
            k = digits(k + 1);
        }
        if k == j {
            break;
        }
        let Some((ulen, scale)) = duration_unit(&src[k..]) else {
            return Err(Error::parse_at(
                src,
                k,
                format!(
                    "syntax error: missing unit in duration {:?}",
                    word_at(src, i)
                ),
            ));
        };
        let v: f64 = src[j..k].parse().map_err(|_| bad_num(src, i))?;
        total += v * scale;
        j = k + ulen;
    }
    if src[j..].chars().next().is_some_and(is_word) {
        return Err(Error::parse_at(
            src,
            j,
            format!("syntax error: bad duration {:?}", word_at(src, i)),
        ));
    }
    Ok((Tok::Duration(total.round() as i64), j))
}

/// The unit at the start of `s`: its length in bytes and nanoseconds.
fn duration_unit(s: &str) -> Option<(usize, f64)> {
    const UNITS: [(&str, f64); 8] = [
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("μs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("m", 60e9),
        ("h", 3600e9),
    ];
    UNITS.iter().find_map(|(u, scale)| {
        let rest = s.strip_prefix(u)?;
        // `1m` must not swallow `1min`'s letters: a unit ends the word.
        if rest.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            None
        } else {
            Some((u.len(), *scale))
        }
    })
}

fn word_at(src: &str, i: usize) -> &str {
    let end = src[i..]
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '.' || *c == 'µ'))
        .map_or(src.len(), |(o, _)| i + o);
    &src[i..end]
}

fn bad_num(src: &str, i: usize) -> Error {
    Error::parse_at(
        src,
        i,
        format!("syntax error: bad number {:?}", word_at(src, i)),
    )
}
