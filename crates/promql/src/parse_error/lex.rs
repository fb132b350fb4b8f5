//! A scanner with the token boundaries, states and error texts of
//! Prometheus 3's PromQL lexer (`promql/parser/lex.go`), written for error
//! reporting only: `promql-parser` reports neither positions nor the
//! lexer's messages, so when it refuses a query we scan it again here.
//!
//! Series descriptions and native histogram literals (test files only) are
//! not scanned; the query parser never sees them.

/// Token kinds, grouped as Prometheus describes them in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Eof,
    Ident,
    MetricIdent,
    Number,
    Duration,
    Str,
    /// Punctuation Prometheus prints quoted: `"("`, `","`, `"="`, ...
    Punct(Punct),
    /// Operators Prometheus prints as `<op:+>`.
    Op(Op),
    /// Aggregation operators, printed `<aggr:sum>`.
    Agg(Agg),
    /// Keywords, printed `<by>`.
    Kw(Kw),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Punct {
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Eql,
    Colon,
    DoubleColon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eqlc,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    EqlRegex,
    NeqRegex,
    And,
    Or,
    Unless,
    Atan2,
    At,
}

impl Op {
    /// Binding strength in binary expressions (Prometheus's yacc
    /// precedences); `None` for operators that are not binary.
    pub(super) fn precedence(self) -> Option<u8> {
        Some(match self {
            Op::Or => 1,
            Op::And | Op::Unless => 2,
            Op::Eqlc | Op::Neq | Op::Lte | Op::Lss | Op::Gte | Op::Gtr => 3,
            Op::Add | Op::Sub => 4,
            Op::Mul | Op::Div | Op::Mod | Op::Atan2 => 5,
            Op::Pow => 6,
            Op::EqlRegex | Op::NeqRegex | Op::At => return None,
        })
    }

    pub(super) fn is_comparison(self) -> bool {
        matches!(
            self,
            Op::Eqlc | Op::Neq | Op::Lte | Op::Lss | Op::Gte | Op::Gtr
        )
    }

    pub(super) fn is_set(self) -> bool {
        matches!(self, Op::And | Op::Or | Op::Unless)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Agg {
    /// Takes one argument.
    Plain,
    /// Takes a parameter first (`topk`, `quantile`, `count_values`, ...).
    WithParam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
    Offset,
    By,
    Without,
    On,
    Ignoring,
    GroupLeft,
    GroupRight,
    Bool,
    Start,
    End,
    Step,
    Range,
    Smoothed,
    Anchored,
    Fill,
}

/// One token: its kind and byte range in the query.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub kind: Kind,
    pub pos: usize,
    pub end: usize,
}

/// The tokens up to the first lexer error, the error (byte position and
/// message) if any, and an `Eof` token otherwise.
pub(super) struct Scan {
    pub toks: Vec<Tok>,
    pub err: Option<(usize, String)>,
}

fn keyword(word: &str) -> Option<Kind> {
    let lower = word.to_ascii_lowercase();
    Some(match lower.as_str() {
        "and" => Kind::Op(Op::And),
        "or" => Kind::Op(Op::Or),
        "unless" => Kind::Op(Op::Unless),
        "atan2" => Kind::Op(Op::Atan2),
        "sum" | "avg" | "count" | "min" | "max" | "group" | "stddev" | "stdvar" => {
            Kind::Agg(Agg::Plain)
        }
        "topk" | "bottomk" | "count_values" | "quantile" | "limitk" | "limit_ratio" => {
            Kind::Agg(Agg::WithParam)
        }
        "offset" => Kind::Kw(Kw::Offset),
        "by" => Kind::Kw(Kw::By),
        "without" => Kind::Kw(Kw::Without),
        "on" => Kind::Kw(Kw::On),
        "ignoring" => Kind::Kw(Kw::Ignoring),
        "group_left" => Kind::Kw(Kw::GroupLeft),
        "group_right" => Kind::Kw(Kw::GroupRight),
        "bool" => Kind::Kw(Kw::Bool),
        "start" => Kind::Kw(Kw::Start),
        "end" => Kind::Kw(Kw::End),
        "step" => Kind::Kw(Kw::Step),
        "range" => Kind::Kw(Kw::Range),
        "smoothed" => Kind::Kw(Kw::Smoothed),
        "anchored" => Kind::Kw(Kw::Anchored),
        "fill" | "fill_left" | "fill_right" => Kind::Kw(Kw::Fill),
        "inf" | "nan" => Kind::Number,
        _ => return None,
    })
}

fn is_space(c: Option<char>) -> bool {
    matches!(c, Some(' ' | '\t' | '\n' | '\r'))
}

fn is_alpha(c: Option<char>) -> bool {
    matches!(c, Some(c) if c == '_' || c.is_ascii_alphabetic())
}

fn is_digit(c: Option<char>) -> bool {
    matches!(c, Some(c) if c.is_ascii_digit())
}

fn is_alnum(c: Option<char>) -> bool {
    is_alpha(c) || is_digit(c)
}

/// Go's `%q` of a rune (`'x'`); `None` (end of input) prints as Go prints
/// the `eof` rune -1.
pub(super) fn quote_rune(c: Option<char>) -> String {
    match c {
        None | Some('\u{FFFD}') => "'�'".to_owned(),
        Some('\'') => "'\\''".to_owned(),
        Some('\\') => "'\\\\'".to_owned(),
        Some(c) => format!("'{}'", escape_char(c, '\'')),
    }
}

/// Go's `%q` of a string (`strconv.Quote`).
pub(super) fn quote_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push_str(&escape_char(c, '"')),
        }
    }
    out.push('"');
    out
}

fn escape_char(c: char, _quote: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\t' => "\\t".into(),
        '\r' => "\\r".into(),
        '\u{7}' => "\\a".into(),
        '\u{8}' => "\\b".into(),
        '\u{c}' => "\\f".into(),
        '\u{b}' => "\\v".into(),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("\\x{:02x}", c as u32),
        c if c.is_control() => format!("\\u{:04x}", c as u32),
        c => c.to_string(),
    }
}

/// Go's `%#U`: `U+0063 'c'`.
fn unicode_desc(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

struct Lexer<'a> {
    q: &'a str,
    pos: usize,
    start: usize,
    toks: Vec<Tok>,
    paren_depth: i32,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
}

type Step = Result<(), String>;

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.q[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn emit(&mut self, kind: Kind) {
        self.toks.push(Tok {
            kind,
            pos: self.start,
            end: self.pos,
        });
        self.start = self.pos;
    }

    /// An error raised right after emitting a token: Go's lexer writes
    /// both into the same item, so the parser never sees that token.
    fn fail_emitted(&mut self, msg: &str) -> Step {
        self.toks.pop();
        Err(msg.into())
    }

    fn skip_spaces(&mut self) {
        while is_space(self.peek()) {
            self.next();
        }
        self.start = self.pos;
    }

    fn run(&mut self) -> Step {
        loop {
            if self.brace_open {
                self.inside_braces()?;
                continue;
            }
            if self.q[self.pos..].starts_with('#') {
                self.comment();
                continue;
            }
            let c = self.next();
            match c {
                None => {
                    if self.paren_depth != 0 {
                        return Err("unclosed left parenthesis".into());
                    }
                    if self.bracket_open {
                        return Err("unclosed left bracket".into());
                    }
                    self.emit(Kind::Eof);
                    return Ok(());
                }
                Some(',') => self.emit(Kind::Punct(Punct::Comma)),
                c if is_space(c) => self.skip_spaces(),
                Some('*') => self.emit(Kind::Op(Op::Mul)),
                Some('/') => self.emit(Kind::Op(Op::Div)),
                Some('%') => self.emit(Kind::Op(Op::Mod)),
                Some('+') => self.emit(Kind::Op(Op::Add)),
                Some('-') => self.emit(Kind::Op(Op::Sub)),
                Some('^') => self.emit(Kind::Op(Op::Pow)),
                Some('=') => match self.peek() {
                    Some('=') => {
                        self.next();
                        self.emit(Kind::Op(Op::Eqlc));
                    }
                    Some('~') => return Err("unexpected character after '=': '~'".into()),
                    _ => self.emit(Kind::Punct(Punct::Eql)),
                },
                Some('!') => {
                    let t = self.next();
                    if t != Some('=') {
                        return Err(format!("unexpected character after '!': {}", quote_rune(t)));
                    }
                    self.emit(Kind::Op(Op::Neq));
                }
                Some('<') => {
                    if self.accept("=") {
                        self.emit(Kind::Op(Op::Lte));
                    } else {
                        self.emit(Kind::Op(Op::Lss));
                    }
                }
                Some('>') => {
                    if self.accept("=") {
                        self.emit(Kind::Op(Op::Gte));
                    } else {
                        self.emit(Kind::Op(Op::Gtr));
                    }
                }
                c if is_digit(c) || (c == Some('.') && is_digit(self.peek())) => {
                    self.pos -= 1;
                    self.number_or_duration()?;
                }
                Some(q @ ('"' | '\'')) => self.string(q)?,
                Some('`') => self.raw_string()?,
                c if is_alpha(c) || c == Some(':') => {
                    if !self.bracket_open {
                        self.pos -= 1;
                        self.keyword_or_identifier();
                        continue;
                    }
                    match c {
                        Some(':') => {
                            if self.got_colon {
                                return Err("unexpected colon ':'".into());
                            }
                            if self.accept(":") {
                                self.emit(Kind::Punct(Punct::DoubleColon));
                            } else {
                                self.emit(Kind::Punct(Punct::Colon));
                            }
                            self.got_colon = true;
                        }
                        Some('s' | 'S' | 'm' | 'M') if self.duration_keyword() => {}
                        c => {
                            return Err(format!(
                                "unexpected character: {}, expected ':'",
                                quote_rune(c)
                            ))
                        }
                    }
                }
                Some('(') => {
                    self.emit(Kind::Punct(Punct::LParen));
                    self.paren_depth += 1;
                }
                Some(')') => {
                    self.emit(Kind::Punct(Punct::RParen));
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.fail_emitted("unexpected right parenthesis ')'");
                    }
                }
                Some('{') => {
                    self.emit(Kind::Punct(Punct::LBrace));
                    self.brace_open = true;
                }
                Some('[') => {
                    if self.bracket_open {
                        return Err("unexpected left bracket '['".into());
                    }
                    self.got_colon = false;
                    self.emit(Kind::Punct(Punct::LBracket));
                    self.skip_spaces();
                    self.bracket_open = true;
                    self.duration_expr()?;
                }
                Some(']') => {
                    if !self.bracket_open {
                        return Err("unexpected right bracket ']'".into());
                    }
                    self.emit(Kind::Punct(Punct::RBracket));
                    self.bracket_open = false;
                }
                Some('@') => self.emit(Kind::Op(Op::At)),
                c => return Err(format!("unexpected character: {}", quote_rune(c))),
            }
        }
    }

    /// Right after `[`, and after operators inside brackets: Prometheus 3
    /// scans duration arithmetic here.
    fn duration_expr(&mut self) -> Step {
        loop {
            let c = self.next();
            match c {
                None => return Err("unexpected end of input in duration expression".into()),
                Some(']') => {
                    self.emit(Kind::Punct(Punct::RBracket));
                    self.bracket_open = false;
                    self.got_colon = false;
                    return Ok(());
                }
                Some(':') => {
                    self.emit(Kind::Punct(Punct::Colon));
                    if !self.got_duration {
                        return self.fail_emitted(
                            "unexpected colon before duration in duration expression",
                        );
                    }
                    if self.got_colon {
                        return self
                            .fail_emitted("unexpected repeated colon in duration expression");
                    }
                    self.got_colon = true;
                }
                Some('(') => {
                    self.emit(Kind::Punct(Punct::LParen));
                    self.paren_depth += 1;
                }
                Some(')') => {
                    self.emit(Kind::Punct(Punct::RParen));
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.fail_emitted("unexpected right parenthesis ')'");
                    }
                }
                c if is_space(c) => self.skip_spaces(),
                Some('+') => self.emit(Kind::Op(Op::Add)),
                Some('-') => self.emit(Kind::Op(Op::Sub)),
                Some('*') => self.emit(Kind::Op(Op::Mul)),
                Some('/') => self.emit(Kind::Op(Op::Div)),
                Some('%') => self.emit(Kind::Op(Op::Mod)),
                Some('^') => self.emit(Kind::Op(Op::Pow)),
                Some(',') => self.emit(Kind::Punct(Punct::Comma)),
                Some('s' | 'S' | 'm' | 'M' | 'r' | 'R') if self.duration_keyword() => {}
                c if is_digit(c) || (c == Some('.') && is_digit(self.peek())) => {
                    self.pos -= 1;
                    self.got_duration = true;
                    return self.number_or_duration();
                }
                c => {
                    return Err(format!(
                        "unexpected character in duration expression: {}",
                        quote_rune(c)
                    ))
                }
            }
        }
    }

    /// `step`, `range`, `min`, `max` inside brackets; false (and nothing
    /// emitted) for any other word.
    fn duration_keyword(&mut self) -> bool {
        while is_alpha(self.peek()) {
            self.next();
        }
        let kind = match self.q[self.start..self.pos].to_ascii_lowercase().as_str() {
            "step" => Kind::Kw(Kw::Step),
            "range" => Kind::Kw(Kw::Range),
            "min" | "max" => Kind::Agg(Agg::Plain),
            _ => return false,
        };
        self.emit(kind);
        true
    }

    fn comment(&mut self) {
        while !matches!(self.peek(), None | Some('\n' | '\r')) {
            self.next();
        }
        // Comments are skipped by the parser, so they are not kept.
        self.start = self.pos;
    }

    fn inside_braces(&mut self) -> Step {
        if self.q[self.pos..].starts_with('#') {
            self.comment();
            return Ok(());
        }
        let c = self.next();
        match c {
            None => return Err("unexpected end of input inside braces".into()),
            c if is_space(c) => self.skip_spaces(),
            c if is_alpha(c) => {
                while is_alnum(self.peek()) {
                    self.next();
                }
                self.emit(Kind::Ident);
            }
            Some(',') => self.emit(Kind::Punct(Punct::Comma)),
            Some(q @ ('"' | '\'')) => self.string(q)?,
            Some('`') => self.raw_string()?,
            Some('=') => {
                if self.accept("~") {
                    self.emit(Kind::Op(Op::EqlRegex));
                } else {
                    self.emit(Kind::Punct(Punct::Eql));
                }
            }
            Some('!') => match self.next() {
                Some('~') => self.emit(Kind::Op(Op::NeqRegex)),
                Some('=') => self.emit(Kind::Op(Op::Neq)),
                c => {
                    return Err(format!(
                        "unexpected character after '!' inside braces: {}",
                        quote_rune(c)
                    ))
                }
            },
            Some('{') => return Err("unexpected left brace '{'".into()),
            Some('}') => {
                self.emit(Kind::Punct(Punct::RBrace));
                self.brace_open = false;
            }
            c => {
                return Err(format!(
                    "unexpected character inside braces: {}",
                    quote_rune(c)
                ))
            }
        }
        Ok(())
    }

    fn keyword_or_identifier(&mut self) {
        while is_alnum(self.peek()) || self.peek() == Some(':') {
            self.next();
        }
        let word = &self.q[self.start..self.pos];
        let kind = match keyword(word) {
            // fill, fill_left and fill_right are keywords only before `(`.
            Some(Kind::Kw(Kw::Fill)) if !self.q[self.pos..].trim_start().starts_with('(') => {
                Kind::Ident
            }
            Some(k) => k,
            None if word.contains(':') => Kind::MetricIdent,
            None => Kind::Ident,
        };
        self.emit(kind);
    }

    fn string(&mut self, quote: char) -> Step {
        loop {
            match self.next() {
                Some('\\') => self.escape(quote)?,
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::Str);
        Ok(())
    }

    fn raw_string(&mut self) -> Step {
        loop {
            match self.next() {
                None => return Err("unterminated raw string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::Str);
        Ok(())
    }

    /// A string escape; the backslash is consumed.
    fn escape(&mut self, quote: char) -> Step {
        let mut ch = self.next();
        let (mut n, base, max): (u32, u32, u32) = match ch {
            Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => return Ok(()),
            Some(c) if c == quote => return Ok(()),
            Some('0'..='7') => (3, 8, 255),
            Some('x') => {
                ch = self.next();
                (2, 16, 255)
            }
            Some('u') => {
                ch = self.next();
                (4, 16, 0x10FFFF)
            }
            Some('U') => {
                ch = self.next();
                (8, 16, 0x10FFFF)
            }
            None => return Err("escape sequence not terminated".into()),
            Some(c) => return Err(format!("unknown escape sequence {}", unicode_desc(c))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = ch.and_then(|c| c.to_digit(16)).unwrap_or(16);
            if d >= base {
                return Err(match ch {
                    None => "escape sequence not terminated".into(),
                    Some(c) => format!("illegal character {} in escape sequence", unicode_desc(c)),
                });
            }
            x = x.wrapping_mul(base).wrapping_add(d);
            n -= 1;
            if n > 0 {
                ch = self.next();
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn number_or_duration(&mut self) -> Step {
        if self.scan_number() {
            self.emit(Kind::Number);
            return Ok(());
        }
        if self.remaining_duration() {
            self.emit(Kind::Duration);
            return Ok(());
        }
        Err(format!(
            "bad number or duration syntax: {}",
            quote_str(&self.q[self.start..self.pos])
        ))
    }

    /// A unit and the rest of a duration after its first number; true when
    /// what follows is not alphanumeric (not consumed).
    fn remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        // Go reads the next rune and steps back on success; on failure the
        // rune stays consumed, so the error text includes it.
        let next = self.peek();
        if is_alnum(next) {
            self.next();
            return false;
        }
        true
    }

    /// Prometheus's `scanNumber`: decimal, hex, octal or float, with `_`
    /// separators; false when an alphanumeric follows (position kept).
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        let is = |l: &Self, set: &str| matches!(l.peek(), Some(c) if set.contains(c));
        self.accept(".");
        self.accept(digits);
        let mut dot = false;
        let mut exp = false;
        let body: String = format!("{digits}._eE");
        while is(self, &body) {
            if is(self, ".") && dot {
                self.accept(".");
                return false;
            }
            if is(self, "eE") && exp {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot = true;
                if self.accept("_.") {
                    return false;
                }
                if digits.len() > 10 {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exp = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        if self.pos == initial {
            return false;
        }
        !is_alnum(self.peek())
    }
}

/// Scans `q` as Prometheus 3 does, up to its first lexer error.
pub(super) fn scan(q: &str) -> Scan {
    let mut l = Lexer {
        q,
        pos: 0,
        start: 0,
        toks: Vec::new(),
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
        got_colon: false,
        got_duration: false,
    };
    match l.run() {
        Ok(()) => Scan {
            toks: l.toks,
            err: None,
        },
        // Prometheus places a lexer error where the token being scanned
        // began (`l.start`), which is after a token just emitted.
        Err(msg) => Scan {
            toks: l.toks,
            err: Some((l.start, msg)),
        },
    }
}

/// How Prometheus names a token in "unexpected ..." messages (`Item.desc`).
pub(super) fn describe(q: &str, t: &Tok) -> String {
    let text = &q[t.pos..t.end];
    match t.kind {
        Kind::Eof => "end of input".into(),
        Kind::Ident => format!("identifier {}", quote_str(text)),
        Kind::MetricIdent => format!("metric identifier {}", quote_str(text)),
        Kind::Number => format!("number {}", short_quote(text)),
        Kind::Duration => format!("duration {}", short_quote(text)),
        Kind::Str => format!("string {}", short_quote(text)),
        Kind::Punct(_) => quote_str(text),
        Kind::Op(_) => format!("<op:{text}>"),
        Kind::Agg(_) => format!("<aggr:{text}>"),
        Kind::Kw(_) => format!("<{text}>"),
    }
}

/// Go's `%q`, or `%.10q...` for values longer than 10 bytes.
fn short_quote(s: &str) -> String {
    if s.len() > 10 {
        let cut: String = s.chars().take(10).collect();
        format!("{}...", quote_str(&cut))
    } else {
        quote_str(s)
    }
}
