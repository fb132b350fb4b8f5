//! The bytes of string literals as Prometheus reads them.
//!
//! `promql-parser` hands strings over as Rust `String`s, so a literal that
//! spells invalid UTF-8 (`"a\xc5z"`) arrives with U+FFFD in it. Messages
//! that quote such a value go back to the query text for the bytes
//! Prometheus would quote.

use super::lex::{quote_str, scan, Kind};

/// Go's `%q` of the string literal in `query` whose value, read lossily as
/// UTF-8, is `value`; `None` when no literal has that value.
pub(crate) fn go_quoted_literal(query: &str, value: &str) -> Option<String> {
    scan(query)
        .toks
        .iter()
        .filter(|t| t.kind == Kind::Str)
        .map(|t| unquote_bytes(&query[t.pos..t.end]))
        .find(|b| String::from_utf8_lossy(b) == value)
        .map(|b| quote_bytes(&b))
}

/// Go's `strconv.Quote` of bytes: invalid UTF-8 bytes print as `\xNN`.
pub(crate) fn quote_bytes(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in b.utf8_chunks() {
        let q = quote_str(chunk.valid());
        out.push_str(&q[1..q.len() - 1]);
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out.push('"');
    out
}

/// The bytes a lexed string literal (quotes included) stands for. The
/// lexer has checked its escapes.
fn unquote_bytes(lit: &str) -> Vec<u8> {
    let inner = &lit[1..lit.len().saturating_sub(1).max(1)];
    if lit.starts_with('`') {
        return inner.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut cs = inner.chars().peekable();
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while let Some(c) = cs.next() {
        if c != '\\' {
            push_char(&mut out, c);
            continue;
        }
        let Some(e) = cs.next() else { break };
        let digits = |n: usize, radix: u32, cs: &mut std::iter::Peekable<std::str::Chars>| {
            let mut v: u32 = 0;
            for _ in 0..n {
                v = v * radix + cs.next().and_then(|d| d.to_digit(radix)).unwrap_or(0);
            }
            v
        };
        match e {
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(11),
            'x' => out.push(digits(2, 16, &mut cs) as u8),
            '0'..='7' => {
                let rest = digits(2, 8, &mut cs);
                out.push(((e as u32 - '0' as u32) * 64 + rest) as u8);
            }
            'u' | 'U' => {
                let v = digits(if e == 'u' { 4 } else { 8 }, 16, &mut cs);
                push_char(&mut out, char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            other => push_char(&mut out, other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_escapes_quote_as_go_does() {
        // issue 12: count_values("a\xc5z", ...) names the label as Prometheus.
        let q = r#"count_values("a\xc5z", version)"#;
        assert_eq!(
            go_quoted_literal(q, "a\u{fffd}z").as_deref(),
            Some(r#""a\xc5z""#)
        );
        assert_eq!(
            go_quoted_literal(r#"f('x\n\101\u00e9', `r\n`)"#, "x\nAé").as_deref(),
            Some(r#""x\nAé""#)
        );
        assert_eq!(
            go_quoted_literal(r#"f(`r\n`)"#, "r\\n").as_deref(),
            Some(r#""r\\n""#)
        );
        assert_eq!(go_quoted_literal("up", "x"), None);
    }
}
