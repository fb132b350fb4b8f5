//! A push stream's label text, `{app="api", env="prod"}`, parsed as Loki
//! parses it (Prometheus's series notation): label names
//! `[a-zA-Z_][a-zA-Z0-9_]*`, values quoted with `"`, `'` or `` ` `` and
//! Go's escapes inside double and single quotes, pairs separated by commas
//! (a trailing comma allowed). Only `=` is meaningful in a stream's labels.

/// Parses `text` into name/value pairs in their written order (duplicates
/// kept, for the validator to report). Errors say what and at which byte.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut p = P {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    p.ws();
    p.expect(b'{')?;
    let mut out = Vec::new();
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let name = p.name()?;
        p.ws();
        if !p.eat(b'=') {
            return Err(p.err("expected \"=\" after the label name"));
        }
        if matches!(p.peek(), Some(b'~') | Some(b'=')) {
            return Err(p.err("only \"=\" is allowed in a stream's labels"));
        }
        p.ws();
        let value = p.value()?;
        out.push((name, value));
        p.ws();
        if p.eat(b',') {
            continue;
        }
        if p.eat(b'}') {
            break;
        }
        return Err(p.err("expected \",\" or \"}\""));
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected text after \"}\""));
    }
    Ok(out)
}

/// Whether `name` is a valid (legacy Prometheus) label name.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

struct P<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl P<'_> {
    fn err(&self, what: &str) -> String {
        match self.peek() {
            None => format!("parse error at byte {}: {what}, found the end", self.i),
            Some(_) => {
                let c = self.text[self.i..].chars().next().unwrap_or('?');
                format!("parse error at byte {}: {what}, found {c:?}", self.i)
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(&format!("expected {:?}", c as char)))
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            self.i += 1;
        }
        let n = &self.text[start..self.i];
        if !valid_name(n) {
            self.i = start;
            return Err(self.err("expected a label name"));
        }
        Ok(n.to_owned())
    }

    fn value(&mut self) -> Result<String, String> {
        let q = match self.peek() {
            Some(q @ (b'"' | b'\'' | b'`')) => q,
            _ => return Err(self.err("expected a quoted label value")),
        };
        let open = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.i = open;
                return Err(self.err("unterminated quoted string"));
            };
            if c == q {
                self.i += 1;
                return Ok(out);
            }
            if c == b'\\' && q != b'`' {
                self.i += 1;
                let e = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
                self.i += 1;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'\\' => out.push('\\'),
                    b'"' => out.push('"'),
                    b'\'' => out.push('\''),
                    b'a' => out.push('\x07'),
                    b'b' => out.push('\x08'),
                    b'f' => out.push('\x0c'),
                    b'v' => out.push('\x0b'),
                    b'x' => out.push(self.hex(2)?),
                    b'u' => out.push(self.hex(4)?),
                    b'U' => out.push(self.hex(8)?),
                    _ => {
                        self.i -= 1;
                        return Err(self.err("unknown escape sequence"));
                    }
                }
                continue;
            }
            // Copy one whole UTF-8 character.
            let ch = self.text[self.i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            self.i += ch.len_utf8();
        }
    }

    fn hex(&mut self, n: usize) -> Result<char, String> {
        let digits = self
            .text
            .get(self.i..self.i + n)
            .ok_or_else(|| self.err("short escape sequence"))?;
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.err("bad escape sequence"))?;
        self.i += n;
        char::from_u32(v).ok_or_else(|| self.err("escape is not a character"))
    }
}
