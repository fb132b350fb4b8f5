//! The `timestamp` stage: Go reference layouts (`2006-01-02 15:04:05`),
//! Go's named layouts (`RFC3339`, `RFC3339Nano`, `ANSIC`, `Stamp`, ...)
//! and Promtail's `Unix`, `UnixMs`, `UnixUs`, `UnixNs`, with `location`
//! (an IANA zone for layouts without an offset) and `fallback_formats`.
//!
//! The layout parser is ours, written from Go's `time.Parse` docs: each
//! layout element reads the input element it stands for; fractional
//! seconds after a seconds element are read even when the layout has none,
//! as Go reads them. A layout without a year (`Stamp`) takes the current
//! year, as Promtail does.

use super::Entry;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Deserialize;
use sightline_core::time::{GO_DAYS as DAYS, GO_MONTHS as MONTHS};

/// `timestamp: {source, format, fallback_formats, location, action_on_failure}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimestampConfig {
    pub source: String,
    pub format: String,
    #[serde(default)]
    pub fallback_formats: Vec<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// `fudge` (default: one nanosecond after the stream's previous line)
    /// or `skip` (keep the time the line was read).
    #[serde(default)]
    pub action_on_failure: Option<String>,
}

/// A Go named layout, or `None` for a reference layout.
pub fn named_layout(name: &str) -> Option<&'static str> {
    Some(match name {
        "ANSIC" => "Mon Jan _2 15:04:05 2006",
        "UnixDate" => "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate" => "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822" => "02 Jan 06 15:04 MST",
        "RFC822Z" => "02 Jan 06 15:04 -0700",
        "RFC850" => "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123" => "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z" => "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339" => "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano" => "2006-01-02T15:04:05.999999999Z07:00",
        "Kitchen" => "3:04PM",
        "Stamp" => "Jan _2 15:04:05",
        "StampMilli" => "Jan _2 15:04:05.000",
        "StampMicro" => "Jan _2 15:04:05.000000",
        "StampNano" => "Jan _2 15:04:05.000000000",
        _ => return None,
    })
}

/// A compiled format.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Unix,
    UnixMs,
    UnixUs,
    UnixNs,
    Layout(Vec<Tok>),
}

/// One element of a Go layout.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Lit(String),
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekday,
    Weekday,
    Day,
    UnderDay,
    ZeroDay,
    YearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Zone,
    /// `-0700` family; `z` allows `Z` for UTC; the fields are how many
    /// parts (hours, minutes, seconds) and whether colons separate them.
    Offset {
        z: bool,
        parts: u8,
        colons: bool,
    },
    /// `.000` / `.999` (the digits count is only a hint when parsing).
    Frac,
}

const TOKENS: &[(&str, Tok)] = &[
    ("January", Tok::LongMonth),
    ("Jan", Tok::Month),
    ("Monday", Tok::LongWeekday),
    ("Mon", Tok::Weekday),
    ("MST", Tok::Zone),
    ("2006", Tok::LongYear),
    ("002", Tok::YearDay),
    ("01", Tok::ZeroMonth),
    ("02", Tok::ZeroDay),
    ("03", Tok::ZeroHour12),
    ("04", Tok::ZeroMinute),
    ("05", Tok::ZeroSecond),
    ("06", Tok::Year),
    ("15", Tok::Hour),
    ("__2", Tok::YearDay),
    ("_2", Tok::UnderDay),
    ("1", Tok::NumMonth),
    ("2", Tok::Day),
    ("3", Tok::Hour12),
    ("4", Tok::Minute),
    ("5", Tok::Second),
    ("PM", Tok::PM),
    ("pm", Tok::PM),
    (
        "Z07:00:00",
        Tok::Offset {
            z: true,
            parts: 3,
            colons: true,
        },
    ),
    (
        "-07:00:00",
        Tok::Offset {
            z: false,
            parts: 3,
            colons: true,
        },
    ),
    (
        "Z070000",
        Tok::Offset {
            z: true,
            parts: 3,
            colons: false,
        },
    ),
    (
        "-070000",
        Tok::Offset {
            z: false,
            parts: 3,
            colons: false,
        },
    ),
    (
        "Z07:00",
        Tok::Offset {
            z: true,
            parts: 2,
            colons: true,
        },
    ),
    (
        "-07:00",
        Tok::Offset {
            z: false,
            parts: 2,
            colons: true,
        },
    ),
    (
        "Z0700",
        Tok::Offset {
            z: true,
            parts: 2,
            colons: false,
        },
    ),
    (
        "-0700",
        Tok::Offset {
            z: false,
            parts: 2,
            colons: false,
        },
    ),
    (
        "Z07",
        Tok::Offset {
            z: true,
            parts: 1,
            colons: false,
        },
    ),
    (
        "-07",
        Tok::Offset {
            z: false,
            parts: 1,
            colons: false,
        },
    ),
];

/// Compiles a format name or Go layout.
pub fn compile(format: &str) -> Format {
    match format {
        "Unix" => return Format::Unix,
        "UnixMs" => return Format::UnixMs,
        "UnixUs" => return Format::UnixUs,
        "UnixNs" => return Format::UnixNs,
        _ => {}
    }
    let layout = named_layout(format).unwrap_or(format);
    let mut toks: Vec<Tok> = Vec::new();
    let mut rest = layout;
    let lit = |toks: &mut Vec<Tok>, c: &str| match toks.last_mut() {
        Some(Tok::Lit(s)) => s.push_str(c),
        _ => toks.push(Tok::Lit(c.to_owned())),
    };
    while !rest.is_empty() {
        // Fractional seconds: `.` or `,` then only 0s or only 9s, right
        // after a seconds element.
        if let Some(after) = rest.strip_prefix(['.', ',']) {
            let n0 = after.bytes().take_while(|b| *b == b'0').count();
            let n9 = after.bytes().take_while(|b| *b == b'9').count();
            let n = n0.max(n9);
            let next_digit = after.as_bytes().get(n).is_some_and(u8::is_ascii_digit);
            if n > 0 && !next_digit && matches!(toks.last(), Some(Tok::Second | Tok::ZeroSecond)) {
                toks.push(Tok::Frac);
                rest = &after[n..];
                continue;
            }
        }
        match TOKENS.iter().find(|(t, _)| rest.starts_with(t)) {
            // `Jan` must not eat the start of `January`, already first;
            // `Mon` likewise after `Monday`.
            Some((t, tok)) => {
                toks.push(tok.clone());
                rest = &rest[t.len()..];
            }
            None => {
                let c = rest.chars().next().unwrap_or(' ');
                lit(&mut toks, &rest[..c.len_utf8()]);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Format::Layout(toks)
}

/// Parses `s` with `f`: nanoseconds since the epoch. `tz` is the zone of a
/// time without an offset; `year` fills a layout without one.
pub fn parse(f: &Format, s: &str, tz: &TimeZone, year: i16) -> Result<i64, String> {
    let s = s.trim();
    let int = || -> Result<i128, String> {
        s.parse::<i128>()
            .or_else(|_| s.parse::<f64>().map(|v| v as i128))
            .map_err(|_| format!("{s:?} is not a number"))
    };
    let clamp = |v: i128| i64::try_from(v).map_err(|_| format!("{s:?} is out of range"));
    match f {
        Format::Unix => {
            // Unix seconds may carry a fraction (`1562708916.414`).
            if let Some((a, b)) = s.split_once('.') {
                let secs: i128 = a.parse().map_err(|_| format!("{s:?} is not a number"))?;
                let digits: String = b.chars().take(9).collect();
                let frac: i128 = format!("{digits:0<9}")
                    .parse()
                    .map_err(|_| format!("{s:?} is not a number"))?;
                return clamp(secs * 1_000_000_000 + frac);
            }
            clamp(int()? * 1_000_000_000)
        }
        Format::UnixMs => clamp(int()? * 1_000_000),
        Format::UnixUs => clamp(int()? * 1_000),
        Format::UnixNs => clamp(int()?),
        Format::Layout(toks) => parse_layout(toks, s, tz, year),
    }
}

fn parse_layout(toks: &[Tok], s: &str, tz: &TimeZone, year: i16) -> Result<i64, String> {
    let err = |what: &str, at: &str| format!("cannot parse {at:?} as {what} in {s:?}");
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ns) =
        (None, 1i8, 1i8, 0i8, 0i8, 0i8, 0i32);
    let mut pm: Option<bool> = None;
    let mut offset: Option<i32> = None;
    let mut rest = s;
    fn num(rest: &mut &str, min: usize, max: usize) -> Option<i32> {
        let n = rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n < min {
            return None;
        }
        let v = rest[..n].parse().ok()?;
        *rest = &rest[n..];
        Some(v)
    }
    fn word(rest: &mut &str, names: &[&str], short: bool) -> Option<usize> {
        for (i, n) in names.iter().enumerate() {
            let n = if short { &n[..3] } else { n };
            if rest.len() >= n.len() && rest[..n.len()].eq_ignore_ascii_case(n) {
                *rest = &rest[n.len()..];
                return Some(i);
            }
        }
        None
    }
    for (i, t) in toks.iter().enumerate() {
        let at = rest;
        let bad = |w: &str| err(w, at);
        match t {
            Tok::Lit(l) => {
                rest = rest
                    .strip_prefix(l.as_str())
                    .ok_or_else(|| bad(&format!("{l:?}")))?;
            }
            Tok::LongMonth | Tok::Month => {
                mo = word(&mut rest, &MONTHS, *t == Tok::Month).ok_or_else(|| bad("month"))? as i8
                    + 1
            }
            Tok::LongWeekday | Tok::Weekday => {
                word(&mut rest, &DAYS, *t == Tok::Weekday).ok_or_else(|| bad("weekday"))?;
            }
            Tok::ZeroMonth => mo = num(&mut rest, 2, 2).ok_or_else(|| bad("month"))? as i8,
            Tok::NumMonth => mo = num(&mut rest, 1, 2).ok_or_else(|| bad("month"))? as i8,
            Tok::ZeroDay => d = num(&mut rest, 2, 2).ok_or_else(|| bad("day"))? as i8,
            Tok::Day => d = num(&mut rest, 1, 2).ok_or_else(|| bad("day"))? as i8,
            Tok::UnderDay => {
                rest = rest.strip_prefix(' ').unwrap_or(rest);
                d = num(&mut rest, 1, 2).ok_or_else(|| bad("day"))? as i8
            }
            Tok::YearDay => {
                num(&mut rest, 1, 3).ok_or_else(|| bad("day of year"))?;
            }
            Tok::Hour => h = num(&mut rest, 1, 2).ok_or_else(|| bad("hour"))? as i8,
            Tok::ZeroHour12 => h = num(&mut rest, 2, 2).ok_or_else(|| bad("hour"))? as i8,
            Tok::Hour12 => h = num(&mut rest, 1, 2).ok_or_else(|| bad("hour"))? as i8,
            Tok::ZeroMinute => mi = num(&mut rest, 2, 2).ok_or_else(|| bad("minute"))? as i8,
            Tok::Minute => mi = num(&mut rest, 1, 2).ok_or_else(|| bad("minute"))? as i8,
            Tok::ZeroSecond | Tok::Second => {
                let (min, max) = if *t == Tok::ZeroSecond {
                    (2, 2)
                } else {
                    (1, 2)
                };
                sec = num(&mut rest, min, max).ok_or_else(|| bad("second"))? as i8;
                // Go reads a fraction after seconds even when the layout
                // has none, unless the layout itself goes on with one.
                let layout_frac = matches!(toks.get(i + 1), Some(Tok::Frac));
                if !layout_frac {
                    if let Some(f) = frac(&mut rest) {
                        ns = f;
                    }
                }
            }
            Tok::Frac => ns = frac(&mut rest).ok_or_else(|| bad("fractional second"))?,
            Tok::LongYear => y = Some(num(&mut rest, 4, 4).ok_or_else(|| bad("year"))? as i16),
            Tok::Year => {
                let v = num(&mut rest, 2, 2).ok_or_else(|| bad("year"))?;
                y = Some(if v >= 69 { 1900 + v } else { 2000 + v } as i16)
            }
            Tok::PM => {
                pm = Some(
                    match rest.get(..2).map(str::to_ascii_uppercase).as_deref() {
                        Some("PM") => true,
                        Some("AM") => false,
                        _ => return Err(bad("AM/PM")),
                    },
                );
                rest = &rest[2..];
            }
            Tok::Zone => {
                let n = rest.bytes().take_while(u8::is_ascii_uppercase).count();
                if n < 3 {
                    return Err(bad("time zone"));
                }
                if &rest[..n] == "UTC" || &rest[..n] == "GMT" {
                    offset = Some(0);
                }
                rest = &rest[n..];
            }
            Tok::Offset { z, parts, colons } => {
                if *z && rest.starts_with('Z') {
                    rest = &rest[1..];
                    offset = Some(0);
                    continue;
                }
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(bad("time zone offset")),
                };
                rest = &rest[1..];
                let mut total = 0;
                for p in 0..*parts {
                    if p > 0 && *colons {
                        rest = rest
                            .strip_prefix(':')
                            .ok_or_else(|| bad("time zone offset"))?;
                    }
                    let v = num(&mut rest, 2, 2).ok_or_else(|| bad("time zone offset"))?;
                    total += v * [3600, 60, 1][p as usize];
                }
                offset = Some(sign * total);
            }
        }
    }
    if !rest.is_empty() {
        return Err(format!("extra text {rest:?} after the time in {s:?}"));
    }
    if let Some(pm) = pm {
        if h > 12 {
            return Err(format!("hour {h} with AM/PM in {s:?}"));
        }
        h = match (pm, h) {
            (true, 12) => 12,
            (true, h) => h + 12,
            (false, 12) => 0,
            (false, h) => h,
        };
    }
    let dt = DateTime::new(y.unwrap_or(year), mo, d, h, mi, sec, ns)
        .map_err(|e| format!("{s:?}: {e}"))?;
    let ts = match offset {
        Some(off) => {
            let o = jiff::tz::Offset::from_seconds(off).map_err(|e| e.to_string())?;
            o.to_timestamp(dt).map_err(|e| e.to_string())?
        }
        None => tz.to_timestamp(dt).map_err(|e| e.to_string())?,
    };
    i64::try_from(ts.as_nanosecond()).map_err(|_| format!("{s:?} is out of range"))
}

/// `.123` or `,123`: nanoseconds.
fn frac(rest: &mut &str) -> Option<i32> {
    let after = rest.strip_prefix(['.', ','])?;
    let n = after.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let digits: String = after[..n].chars().take(9).collect();
    let v = format!("{digits:0<9}").parse().ok()?;
    *rest = &after[n..];
    Some(v)
}

/// The compiled stage.
pub struct Timestamp {
    source: String,
    formats: Vec<Format>,
    tz: TimeZone,
    skip: bool,
    last_ns: Option<i64>,
}

impl Timestamp {
    pub fn new(c: &TimestampConfig) -> Result<Timestamp, String> {
        let tz = match &c.location {
            Some(l) => TimeZone::get(l).map_err(|e| format!("unknown location {l:?}: {e}"))?,
            None => TimeZone::UTC,
        };
        let skip = match c.action_on_failure.as_deref() {
            None | Some("fudge") => false,
            Some("skip") => true,
            Some(o) => return Err(format!("action_on_failure {o:?}: must be fudge or skip")),
        };
        let mut formats = vec![compile(&c.format)];
        formats.extend(c.fallback_formats.iter().map(|f| compile(f)));
        Ok(Timestamp {
            source: c.source.clone(),
            formats,
            tz,
            skip,
            last_ns: None,
        })
    }

    /// The docker and cri stages' timestamp: RFC3339Nano from `timestamp`.
    pub fn docker() -> Timestamp {
        Timestamp {
            source: "timestamp".into(),
            formats: vec![compile("RFC3339Nano")],
            tz: TimeZone::UTC,
            skip: false,
            last_ns: None,
        }
    }

    pub fn apply(&mut self, e: &mut Entry) {
        let Some(v) = e.extracted.get(&self.source) else {
            return;
        };
        let year = jiff::Zoned::now().with_time_zone(self.tz.clone()).year();
        match self
            .formats
            .iter()
            .find_map(|f| parse(f, v, &self.tz, year).ok())
        {
            Some(ts) => {
                e.ts_ns = ts;
                self.last_ns = Some(ts);
            }
            None if !self.skip => {
                // Fudge: keep lines in order after the last parsed time.
                if let Some(l) = self.last_ns {
                    e.ts_ns = l + 1;
                    self.last_ns = Some(l + 1);
                }
            }
            None => {}
        }
    }
}
