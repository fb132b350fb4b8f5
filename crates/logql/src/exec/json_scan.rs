//! A byte-level reader for the common JSON log line, for `| json` when
//! only a few labels are needed (issue 15: serde's per-field work was most
//! of `sum by (status) (rate({..} | json [5m]))`).
//!
//! It reads a line only when the line is simple: one object, no backslash
//! and no control character in any string, needed fields holding scalars
//! (or objects with no needed field inside). It checks the whole line as
//! serde_json would (structure, numbers, literals, nothing after the
//! object) and gives the needed fields' values as the general reader
//! ([`super::json_select`]) would: strings unquoted, numbers and `true` /
//! `false` as written, `null` as empty. For anything else, a malformed
//! line included, it answers `None` and the caller uses the general reader,
//! which also writes the error message: the two agree by construction on
//! every line this one declines.

/// At most this many needed fields of a line are taken here; a line with
/// more goes to the general reader.
const MAX_FOUND: usize = 8;

/// Deeper nesting goes to the general reader (serde_json stops at 128).
const MAX_DEPTH: usize = 64;

/// Needed fields of a line, in line order: (field name, value).
pub struct Found<'a> {
    items: [(&'a str, &'a str); MAX_FOUND],
    len: usize,
}

impl<'a> Found<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &(&'a str, &'a str)> {
        self.items[..self.len].iter()
    }
}

/// The needed fields of `line` when it is a simple JSON object, `None`
/// otherwise. `wanted(name)` says whether a field is needed itself and
/// whether fields nested under it may be (as `json_select::wanted`).
pub fn simple<'a>(line: &'a str, wanted: &dyn Fn(&str) -> (bool, bool)) -> Option<Found<'a>> {
    let mut s = Scan {
        b: line.as_bytes(),
        i: 0,
    };
    let mut found = Found {
        items: [("", ""); MAX_FOUND],
        len: 0,
    };
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek()? == b'}' {
        s.i += 1;
    } else {
        loop {
            let (ka, kz) = s.string()?;
            let key = &line[ka..kz];
            s.ws();
            s.eat(b':')?;
            s.ws();
            let (here, below) = wanted(key);
            match s.peek()? {
                b'{' if below => return None,
                b'{' | b'[' => s.value(0)?,
                b'"' => {
                    let (va, vz) = s.string()?;
                    if here {
                        found.push(key, &line[va..vz])?;
                    }
                }
                b'n' => {
                    s.literal(b"null")?;
                    if here {
                        found.push(key, "")?;
                    }
                }
                _ => {
                    let a = s.i;
                    s.value(0)?;
                    if here {
                        found.push(key, &line[a..s.i])?;
                    }
                }
            }
            s.ws();
            match s.peek()? {
                b',' => {
                    s.i += 1;
                    s.ws();
                }
                b'}' => {
                    s.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    s.ws();
    (s.i == s.b.len()).then_some(found)
}

impl<'a> Found<'a> {
    fn push(&mut self, k: &'a str, v: &'a str) -> Option<()> {
        if self.len == MAX_FOUND {
            return None;
        }
        self.items[self.len] = (k, v);
        self.len += 1;
        Some(())
    }
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// serde_json's whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// A string with no escape and no control character: the range of its
    /// text (UTF-8 already, as the line is a `str`).
    fn string(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let a = self.i;
        // Log lines' strings are short: a plain loop beats a vector search
        // that must be set up for each.
        let n = self.b[a..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if self.b[a + n] != b'"' {
            return None;
        }
        self.i = a + n + 1;
        Some((a, a + n))
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    /// Skips a value, checking it.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        b'}' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.i += 1;
                            self.ws();
                        }
                        b']' => {
                            self.i += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => self.number(),
        }
    }

    /// JSON's number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek()? == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => {
                self.i += 1;
                // `01` is not a number.
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None;
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.one_or_more_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Option<()> {
        let a = self.i;
        self.digits();
        (self.i > a).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::json_select;
    use std::collections::HashSet;

    /// What the general reader gives (serde's streaming deserializer),
    /// bypassing this one.
    fn general(line: &str, keep: &HashSet<String>) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        json_select::extract_general(line, keep, &mut |k, v| out.push((k.to_owned(), v)))?;
        Ok(out)
    }

    fn fast(line: &str, keep: &HashSet<String>) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        json_select::extract(line, keep, &mut |k, v| out.push((k.to_owned(), v)))?;
        Ok(out)
    }

    #[test]
    fn agrees_with_the_general_reader_on_tricky_lines() {
        // Issue 15: the fast path must give the same labels and the same
        // errors as serde on every line, simple or not.
        let lines = [
            r#"{"status":200,"path":"/a","ms":1.50}"#,
            r#"  {"status" : 503 , "ok":true,"user":null}  "#,
            r#"{"status":"503","status":404}"#,
            r#"{"status":200,"status":null}"#,
            r#"{"msg":"a \"quoted\" word","status":201}"#,
            r#"{"msg":"tab\there","status":202}"#,
            r#"{"status":"caf\u00e9"}"#,
            r#"{"status":"café ☕","naïve":1}"#,
            r#"{"req":{"status":1,"h":{"a":[1,{"b":2}]}},"status":3}"#,
            r#"{"req":{"status":1},"req_status":9}"#,
            r#"{"status":[1,2],"x":{}}"#,
            r#"{"status":{"code":5}}"#,
            r#"{"status":-0.5e+10,"a":1E3,"b":0}"#,
            r#"{"status":01}"#,
            r#"{"status":1.}"#,
            r#"{"status":-}"#,
            r#"{"status":+1}"#,
            r#"{"status":tru}"#,
            r#"{"status":200,}"#,
            r#"{"status":200"#,
            r#"{"status":200} trailing"#,
            r#"{"status":200}{"status":201}"#,
            r#"[{"status":200}]"#,
            r#""status""#,
            "",
            "{}",
            "not json at all",
            "{\"status\":\"a\u{1}b\"}",
            "{\"status\":200,\"x\":\"\u{7f}\"}",
            r#"{"1st":7,"status":200}"#,
            r#"{"sta-tus":7,"status_extracted":1}"#,
            r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"status":1}"#,
            r#"{"lone":"\ud800","status":1}"#,
            r#"{"status":1,"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
        ];
        let keeps: [&[&str]; 4] = [
            &["status"],
            &["status", "req_status", "_1st", "sta_tus"],
            &["a", "b", "c", "d", "e", "f", "g", "h", "i", "status"],
            &["naïve", "naïve_extracted", "status_extracted"],
        ];
        for keep in keeps {
            let keep: HashSet<String> = keep.iter().map(|s| s.to_string()).collect();
            for line in lines {
                assert_eq!(
                    fast(line, &keep),
                    general(line, &keep),
                    "line {line:?} keeping {keep:?}"
                );
            }
        }
    }

    #[test]
    fn declines_what_it_does_not_read() {
        let w = |n: &str| (n == "status", false);
        assert!(super::simple(r#"{"status":"a\"b"}"#, &w).is_none());
        assert!(super::simple(r#"{"status":1"#, &w).is_none());
        let f = super::simple(r#"{"status":"x","status":2,"o":{"status":3}}"#, &w).unwrap();
        let got: Vec<_> = f.iter().copied().collect();
        assert_eq!(got, vec![("status", "x"), ("status", "2")]);
    }
}
