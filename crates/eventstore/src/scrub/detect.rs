//! Hand-written detectors of personal data inside a string: e-mail
//! addresses, phone numbers, card numbers, IBANs, IP addresses and JWTs.
//!
//! Each detector walks the bytes once, with no regex: the intake scrubs
//! every string of every event, and most strings (`"pro"`, `"Signed Up"`)
//! hold neither a digit nor an `@`, so [`find`] first looks for the bytes
//! any detector needs and returns at once without them.
//!
//! What each one accepts (docs/events-pii.md says the same for users):
//! - e-mail: `local@domain.tld`, local part of letters, digits and
//!   `._%+-'`, a domain of at least two labels and a top-level label of two
//!   or more letters;
//! - phone: `+` (or `00`) and 8 to 15 digits in groups; North American
//!   `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `1 555 123 4567`;
//!   national numbers with a leading `0` (`020 7946 0958`,
//!   `06 12 34 56 78`, `0171-1234567`): 10 to 12 digits in groups of 2 to 8
//!   parted by one kind of separator. A bare run of digits without `+` is
//!   never a phone (ids and epoch timestamps are such runs), nor is a date;
//! - card: 13 to 19 digits, optionally grouped by single spaces or dashes,
//!   starting with 2 to 6 (the card networks' ranges, which keeps epoch
//!   milliseconds out) and passing the Luhn check;
//! - IBAN: two letters, two check digits and 11 to 30 letters or digits,
//!   optionally in groups parted by single spaces, passing the mod-97 check;
//! - IP: dotted IPv4 with every part at most 255 (not a part of a longer
//!   dotted number such as a version `1.2.3.4.5`), and IPv6 as
//!   `std::net::Ipv6Addr` parses it, with at least two non-empty groups (so
//!   `::1` and `a::` are left alone);
//! - JWT: three base64url parts parted by dots, the first one starting
//!   `eyJ` and decoding to a JSON object with an `alg` key.

use base64::Engine as _;

/// What a detector finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detector {
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A payment card number (Luhn-valid).
    Card,
    /// An IBAN (mod-97-valid).
    Iban,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A JSON Web Token.
    Jwt,
}

impl Detector {
    /// Every detector, in the order overlapping finds are settled (the
    /// first wins): a JWT or an e-mail may hold digits that look like a
    /// phone, an IBAN digits that look like a card.
    pub const ALL: [Detector; 6] = [
        Detector::Jwt,
        Detector::Email,
        Detector::Iban,
        Detector::Card,
        Detector::Ip,
        Detector::Phone,
    ];

    /// The name in config and in the `rule` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Email => "email",
            Detector::Phone => "phone",
            Detector::Card => "card",
            Detector::Iban => "iban",
            Detector::Ip => "ip",
            Detector::Jwt => "jwt",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of detectors, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectorSet(u8);

impl DetectorSet {
    /// Every detector.
    pub fn all() -> DetectorSet {
        DetectorSet(Detector::ALL.iter().fold(0, |a, d| a | d.bit()))
    }

    /// Adds `d`.
    pub fn insert(&mut self, d: Detector) {
        self.0 |= d.bit();
    }

    /// Whether `d` is in.
    pub fn contains(self, d: Detector) -> bool {
        self.0 & d.bit() != 0
    }

    /// No detector at all.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// One find: bytes `start..end` of the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What it is.
    pub what: Detector,
}

/// Appends to `out` the finds of the detectors in `set` in `s`, in
/// order of position, none overlapping another.
pub fn find(s: &str, set: DetectorSet, out: &mut Vec<Hit>) {
    out.clear();
    let b = s.as_bytes();
    // One pass for what any detector needs: a digit, an `@`, or `eyJ`.
    let (mut digits, mut at, mut colons, mut jwt) = (0usize, false, 0usize, false);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => digits += 1,
            b'@' => at = true,
            b':' => colons += 1,
            b'e' if b.get(i + 1..i + 3) == Some(b"yJ") => jwt = true,
            _ => {}
        }
    }
    if digits == 0 && !at && !jwt && colons < 2 {
        return;
    }
    for d in Detector::ALL {
        if !set.contains(d) {
            continue;
        }
        let before = out.len();
        match d {
            Detector::Jwt if jwt => find_jwts(b, out),
            Detector::Email if at => find_emails(b, out),
            Detector::Iban if digits >= 2 => find_ibans(b, out),
            Detector::Card if digits >= 13 => find_cards(b, out),
            Detector::Ip => {
                if colons >= 2 {
                    find_ipv6(b, out);
                }
                if digits >= 4 {
                    // An IPv4 inside an IPv6 (`::ffff:192.0.2.1`) is part
                    // of that find.
                    let v6 = out.len();
                    find_ipv4(b, out);
                    drop_overlaps(out, v6);
                }
            }
            Detector::Phone if digits >= 8 => find_phones(b, out),
            _ => {}
        }
        drop_overlaps(out, before);
    }
    out.sort_by_key(|h| h.start);
}

/// Drops the finds from `from` on that overlap one before `from`.
fn drop_overlaps(out: &mut Vec<Hit>, from: usize) {
    let mut i = from;
    while i < out.len() {
        let h = out[i];
        if out[..from]
            .iter()
            .any(|p| p.start < h.end && h.start < p.end)
        {
            out.remove(i);
        } else {
            i += 1;
        }
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn prev(b: &[u8], i: usize) -> Option<u8> {
    i.checked_sub(1).map(|j| b[j])
}

// ---- JWT ----

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

fn find_jwts(b: &[u8], out: &mut Vec<Hit>) {
    let mut i = 0;
    while i + 3 <= b.len() {
        if &b[i..i + 3] != b"eyJ" || prev(b, i).is_some_and(is_b64url) {
            i += 1;
            continue;
        }
        let run = |from: usize| from + b[from..].iter().take_while(|&&c| is_b64url(c)).count();
        let h_end = run(i);
        let ok = (|| {
            if b.get(h_end) != Some(&b'.') {
                return None;
            }
            let p_end = run(h_end + 1);
            if p_end == h_end + 1 || b.get(p_end) != Some(&b'.') {
                return None;
            }
            let s_end = run(p_end + 1);
            if b.get(s_end) == Some(&b'.') {
                return None;
            }
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&b[i..h_end])
                .ok()?;
            let v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&header).ok()?;
            v.contains_key("alg").then_some(s_end)
        })();
        match ok {
            Some(end) => {
                out.push(Hit {
                    start: i,
                    end,
                    what: Detector::Jwt,
                });
                i = end;
            }
            None => i = h_end.max(i + 1),
        }
    }
}

// ---- e-mail ----

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn is_domain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.'
}

fn find_emails(b: &[u8], out: &mut Vec<Hit>) {
    let mut from = 0;
    while let Some(off) = b[from..].iter().position(|&c| c == b'@') {
        let at = from + off;
        from = at + 1;
        let mut start = at;
        while start > 0 && is_local(b[start - 1]) {
            start -= 1;
        }
        while start < at && matches!(b[start], b'.' | b'\'') {
            start += 1;
        }
        if start == at {
            continue;
        }
        let mut end = at + 1;
        while end < b.len() && is_domain(b[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &b[at + 1..end];
        let labels: Vec<&[u8]> = domain.split(|&c| c == b'.').collect();
        let tld = labels.last().copied().unwrap_or_default();
        let ok = labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-')
            && tld.len() >= 2
            && tld.iter().all(u8::is_ascii_alphabetic);
        if ok {
            out.push(Hit {
                start,
                end,
                what: Detector::Email,
            });
            from = end;
        }
    }
}

// ---- digit groups (cards, phones) ----

/// A run of digits within a candidate.
#[derive(Debug, Clone, Copy)]
struct Group {
    /// Byte where its digits start (after a `(`).
    start: usize,
    /// Byte after its last digit (or its `)`).
    end: usize,
    /// Its digits.
    digits: usize,
    /// Written as `(ddd)`.
    paren: bool,
    /// The separator before it (0 for none or the first group).
    sep: u8,
}

fn digit_run(b: &[u8], i: usize) -> usize {
    b[i..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Whether a find ending at `end` is a whole token: not followed by a
/// letter or digit, nor by `.5`/`,5` continuing a number.
fn ends_clean(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => true,
        Some(&c) if is_word(c) => false,
        Some(b'.' | b',' | b'-') => !b.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(_) => true,
    }
}

// ---- cards ----

fn luhn(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.rev().enumerate() {
        let mut d = u32::from(d - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

fn find_cards(b: &[u8], out: &mut Vec<Hit>) {
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit()
            || prev(b, i).is_some_and(|c| is_word(c) || matches!(c, b'.' | b'+' | b'-'))
        {
            i += 1;
            continue;
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut j = i;
        loop {
            let n = digit_run(b, j);
            groups.push(Group {
                start: j,
                end: j + n,
                digits: n,
                paren: false,
                sep: 0,
            });
            j += n;
            if matches!(b.get(j), Some(b' ' | b'-')) && b.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let run_end = j;
        let mut found = None;
        for k in (1..=groups.len()).rev() {
            let end = groups[k - 1].end;
            let total: usize = groups[..k].iter().map(|g| g.digits).sum();
            if !(13..=19).contains(&total) || !ends_clean(b, end) {
                continue;
            }
            if !(b'2'..=b'6').contains(&b[i]) {
                break;
            }
            let ds = b[i..end].iter().copied().filter(u8::is_ascii_digit);
            if luhn(ds.collect::<Vec<_>>().into_iter()) {
                found = Some(end);
                break;
            }
        }
        if let Some(end) = found {
            out.push(Hit {
                start: i,
                end,
                what: Detector::Card,
            });
            i = end;
        } else {
            i = run_end.max(i + 1);
        }
    }
}

// ---- IBANs ----

fn iban_valid(chars: &[u8]) -> bool {
    if !(15..=34).contains(&chars.len()) {
        return false;
    }
    // Move the first four to the end, letters as 10..35, mod 97 == 1.
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let c = c.to_ascii_uppercase();
        if c.is_ascii_digit() {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        } else if c.is_ascii_uppercase() {
            rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97;
        } else {
            return false;
        }
    }
    rem == 1
}

fn find_ibans(b: &[u8], out: &mut Vec<Hit>) {
    let mut i = 0;
    while i + 4 <= b.len() {
        let head = &b[i..i + 4];
        if !(head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit())
            || prev(b, i).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            i += 1;
            continue;
        }
        // Letters and digits, single spaces between groups, at most 34.
        let mut chars: Vec<u8> = Vec::with_capacity(34);
        let mut ends: Vec<(usize, usize)> = Vec::new(); // (byte end, chars so far)
        let mut j = i;
        while j < b.len() && chars.len() <= 34 {
            let c = b[j];
            if c.is_ascii_alphanumeric() {
                chars.push(c);
                j += 1;
            } else if c == b' ' && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
                ends.push((j, chars.len()));
                j += 1;
            } else {
                break;
            }
        }
        ends.push((j, chars.len()));
        let mut found = None;
        for &(end, n) in ends.iter().rev() {
            if n <= 34 && ends_clean(b, end) && iban_valid(&chars[..n]) {
                found = Some(end);
                break;
            }
        }
        if let Some(end) = found {
            out.push(Hit {
                start: i,
                end,
                what: Detector::Iban,
            });
            i = end;
        } else {
            i += 4;
        }
    }
}

// ---- IP addresses ----

fn find_ipv4(b: &[u8], out: &mut Vec<Hit>) {
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || prev(b, i).is_some_and(|c| is_word(c) || c == b'.') {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut parts = 0;
        let ok = loop {
            let n = digit_run(b, j);
            if n == 0 || n > 3 {
                break false;
            }
            let v: u32 = std::str::from_utf8(&b[j..j + n])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(999);
            if v > 255 {
                break false;
            }
            j += n;
            parts += 1;
            if parts == 4 {
                break true;
            }
            if b.get(j) != Some(&b'.') {
                break false;
            }
            j += 1;
        };
        let clean = ok
            && !b.get(j).is_some_and(|&c| is_word(c))
            && !(b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit));
        if clean {
            out.push(Hit {
                start: i,
                end: j,
                what: Detector::Ip,
            });
            i = j;
        } else {
            i += digit_run(b, i).max(1);
        }
    }
}

fn find_ipv6(b: &[u8], out: &mut Vec<Hit>) {
    let is_v6 = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut i = 0;
    while i < b.len() {
        if !is_v6(b[i]) || prev(b, i).is_some_and(|c| is_word(c) || c == b'.' || c == b':') {
            i += 1;
            continue;
        }
        let mut end = i + b[i..].iter().take_while(|&&c| is_v6(c)).count();
        let run_end = end;
        while end > i && b[end - 1] == b'.' {
            end -= 1;
        }
        if end >= i + 2 && b[end - 1] == b':' && b[end - 2] != b':' {
            end -= 1;
        }
        let cand = &b[i..end];
        let groups = cand.split(|&c| c == b':').filter(|g| !g.is_empty()).count();
        let ok = !b.get(run_end).is_some_and(|&c| is_word(c))
            && cand.iter().filter(|&&c| c == b':').count() >= 2
            && groups >= 2
            && std::str::from_utf8(cand)
                .ok()
                .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
                .is_some();
        if ok {
            out.push(Hit {
                start: i,
                end,
                what: Detector::Ip,
            });
        }
        i = run_end.max(i + 1);
    }
}

// ---- phones ----

/// Phone groups from `i`: digits, `(digits)`, parted by one of ` -.`
/// (or nothing next to a parenthesis).
fn phone_groups(b: &[u8], mut j: usize) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut sep = 0u8;
    loop {
        let paren = b.get(j) == Some(&b'(');
        let ds = if paren { j + 1 } else { j };
        let n = digit_run(b, ds);
        if n == 0 || (paren && b.get(ds + n) != Some(&b')')) {
            break;
        }
        let end = if paren { ds + n + 1 } else { ds + n };
        groups.push(Group {
            start: j,
            end,
            digits: n,
            paren,
            sep,
        });
        j = end;
        match b.get(j) {
            Some(&c @ (b' ' | b'-' | b'.'))
                if b.get(j + 1)
                    .is_some_and(|&d| d.is_ascii_digit() || d == b'(') =>
            {
                sep = c;
                j += 1;
            }
            Some(b'(') if paren || groups.len() == 1 => sep = 0,
            _ if paren && b.get(j).is_some_and(u8::is_ascii_digit) => sep = 0,
            _ => break,
        }
        if groups.iter().map(|g| g.digits).sum::<usize>() > 15 {
            break;
        }
    }
    groups
}

fn nanp(g: &[Group]) -> bool {
    let shape: Vec<usize> = g.iter().map(|g| g.digits).collect();
    let area = match shape.as_slice() {
        [3, 3, 4] => 0,
        [1, 3, 3, 4] => 1,
        _ => return false,
    };
    // Area code 2-9; no parentheses except around it; a separator or a
    // parenthesis between every group (a bare run is an id).
    g.iter().enumerate().all(|(k, x)| !x.paren || k == area)
        && g.iter()
            .skip(1)
            .all(|x| x.sep != 0 || x.paren || g[0].paren)
        && g.iter().skip(1).all(|x| x.sep != b'.' || g.len() == 3)
}

fn national(g: &[Group], b: &[u8]) -> bool {
    let total: usize = g.iter().map(|x| x.digits).sum();
    let first = g[0];
    g.len() >= 2
        && (10..=12).contains(&total)
        && !first.paren
        && b[first.start] == b'0'
        && b.get(first.start + 1) != Some(&b'0')
        && (2..=5).contains(&first.digits)
        && g.iter().all(|x| !x.paren && (2..=8).contains(&x.digits))
        && g.iter().skip(1).all(|x| x.sep == g[1].sep && x.sep != 0)
}

fn find_phones(b: &[u8], out: &mut Vec<Hit>) {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let starts = c == b'+' || c == b'(' || c.is_ascii_digit();
        if !starts
            || prev(b, i).is_some_and(|p| {
                is_word(p) || matches!(p, b'.' | b'-' | b'+' | b'/' | b'@' | b'(' | b')')
            })
        {
            i += 1;
            continue;
        }
        // International: `+` or `00`, a first digit 1-9, 8 to 15 digits.
        let intl_at = if c == b'+' {
            Some(i + 1)
        } else if b[i..].starts_with(b"00") && b.get(i + 2).is_some_and(|d| *d != b'0') {
            Some(i + 2)
        } else {
            None
        };
        let mut found = None;
        if let Some(s) = intl_at {
            if b.get(s).is_some_and(|d| (b'1'..=b'9').contains(d)) {
                let g = phone_groups(b, s);
                for k in (1..=g.len()).rev() {
                    let total: usize = g[..k].iter().map(|x| x.digits).sum();
                    if (8..=15).contains(&total) && ends_clean(b, g[k - 1].end) {
                        found = Some(g[k - 1].end);
                        break;
                    }
                }
            }
        } else {
            let g = phone_groups(b, i);
            for k in (2..=g.len()).rev() {
                let gs = &g[..k];
                if ends_clean(b, gs[k - 1].end) && (nanp(gs) || national(gs, b)) {
                    found = Some(gs[k - 1].end);
                    break;
                }
            }
        }
        match found {
            Some(end) => {
                out.push(Hit {
                    start: i,
                    end,
                    what: Detector::Phone,
                });
                i = end;
            }
            None => {
                // Skip the rest of this number: a phone never starts
                // inside one.
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
