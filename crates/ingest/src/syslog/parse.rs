//! Syslog messages: RFC 5424 and RFC 3164 (BSD), told apart by the
//! version digit that follows `<PRI>` in RFC 5424.
//!
//! RFC 3164 leaves much to senders; we read what rsyslog, syslog-ng and
//! logger(1) send: `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, also with an
//! RFC 3339 time in place of `Mmm dd hh:mm:ss` (rsyslog's forward format)
//! or without a time at all. A BSD time has no year or zone: we take the
//! current year, in UTC.

use chrono::{Datelike, NaiveDate, Utc};

/// Severity names, as Promtail labels them (`__syslog_message_severity`).
pub const SEVERITIES: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
];

/// Facility names, as Promtail labels them (`__syslog_message_facility`).
pub const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// One parsed message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub facility: u8,
    pub severity: u8,
    /// The message's own time, when it has one.
    pub timestamp_ns: Option<i64>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    pub msg_id: Option<String>,
    /// RFC 5424 structured data: `(SD-ID, [(name, value)])`.
    pub structured_data: Vec<(String, Vec<(String, String)>)>,
    /// MSG, the free text.
    pub message: String,
    /// True for RFC 5424.
    pub rfc5424: bool,
}

/// Parses one message (without framing). Errors say what and at which byte.
pub fn parse(raw: &str) -> Result<Message, String> {
    let raw = raw.trim_end_matches(['\n', '\r', '\0']);
    let err = |at: usize, what: &str| format!("syslog message at byte {at}: {what}");
    let rest = raw
        .strip_prefix('<')
        .ok_or_else(|| err(0, "expected \"<\" starting the priority"))?;
    let close = rest
        .find('>')
        .filter(|&i| (1..=3).contains(&i))
        .ok_or_else(|| err(1, "expected a priority of 1 to 3 digits and \">\""))?;
    let pri: u16 = rest[..close]
        .parse()
        .ok()
        .filter(|p| *p <= 191)
        .ok_or_else(|| err(1, "priority is not a number from 0 to 191"))?;
    let mut m = Message {
        facility: (pri / 8) as u8,
        severity: (pri % 8) as u8,
        ..Message::default()
    };
    let body = &rest[close + 1..];
    let at = close + 2;
    if body.starts_with(|c: char| c.is_ascii_digit())
        && body
            .split_once(' ')
            .is_some_and(|(v, _)| v.len() <= 2 && v.bytes().all(|b| b.is_ascii_digit()))
    {
        m.rfc5424 = true;
        parse_5424(body, at, &mut m)?;
    } else {
        parse_3164(body, &mut m);
    }
    Ok(m)
}

fn nil(s: &str) -> Option<String> {
    (s != "-" && !s.is_empty()).then(|| s.to_owned())
}

fn parse_5424(body: &str, at: usize, m: &mut Message) -> Result<(), String> {
    let err = |off: usize, what: &str| format!("syslog message at byte {}: {what}", at + off);
    let mut pos = 0;
    let field = |pos: &mut usize, name: &str| -> Result<&str, String> {
        let s = &body[*pos..];
        let end = s.find(' ').ok_or_else(|| {
            err(
                *pos + s.len(),
                &format!("RFC 5424 message ends before its {name}"),
            )
        })?;
        *pos += end + 1;
        Ok(&s[..end])
    };
    let version = field(&mut pos, "version")?;
    if version != "1" {
        return Err(err(0, &format!("unsupported RFC 5424 version {version:?}")));
    }
    let ts_at = pos;
    let ts = field(&mut pos, "timestamp")?;
    if ts != "-" {
        let t = sightline_core::time::parse_rfc3339(ts)
            .map_err(|e| err(ts_at, &format!("bad timestamp {ts:?}: {e}")))?;
        m.timestamp_ns = t.timestamp_nanos_opt();
    }
    m.hostname = nil(field(&mut pos, "hostname")?);
    m.app_name = nil(field(&mut pos, "app name")?);
    m.proc_id = nil(field(&mut pos, "process id")?);
    // MSGID may end the message when there is no SD and no MSG.
    let s = &body[pos..];
    let (msgid, rest) = s.split_once(' ').unwrap_or((s, ""));
    m.msg_id = nil(msgid);
    let sd_at = pos + msgid.len() + 1;
    let rest = parse_sd(rest, sd_at, at, m)?;
    let msg = rest.strip_prefix(' ').unwrap_or(rest);
    m.message = msg.strip_prefix('\u{feff}').unwrap_or(msg).to_owned();
    Ok(())
}

/// Structured data: `-` or `[id name="value" ...]...`; returns the rest.
fn parse_sd<'a>(s: &'a str, off: usize, at: usize, m: &mut Message) -> Result<&'a str, String> {
    let err = |i: usize, what: &str| format!("syslog message at byte {}: {what}", at + off + i);
    if let Some(rest) = s.strip_prefix('-') {
        return Ok(rest);
    }
    if !s.starts_with('[') {
        if s.is_empty() {
            return Ok(s);
        }
        return Err(err(
            0,
            "expected \"-\" or \"[\" starting the structured data",
        ));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] == b'[' {
        i += 1;
        let id_start = i;
        while i < b.len() && !matches!(b[i], b' ' | b']') {
            i += 1;
        }
        let id = s[id_start..i].to_owned();
        let mut params = Vec::new();
        loop {
            match b.get(i) {
                Some(b']') => {
                    i += 1;
                    break;
                }
                Some(b' ') => i += 1,
                None => return Err(err(i, "unterminated structured data element")),
                _ => {
                    let n_start = i;
                    while i < b.len() && b[i] != b'=' {
                        i += 1;
                    }
                    let name = s[n_start..i].to_owned();
                    if b.get(i + 1) != Some(&b'"') {
                        return Err(err(i + 1, "expected a quoted parameter value"));
                    }
                    i += 2;
                    let mut value = String::new();
                    loop {
                        match b.get(i) {
                            None => return Err(err(i, "unterminated parameter value")),
                            Some(b'"') => {
                                i += 1;
                                break;
                            }
                            Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                                value.push(b[i + 1] as char);
                                i += 2;
                            }
                            Some(_) => {
                                let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                                value.push(c);
                                i += c.len_utf8();
                            }
                        }
                    }
                    params.push((name, value));
                }
            }
        }
        m.structured_data.push((id, params));
    }
    Ok(&s[i..])
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mmm dd hh:mm:ss` (day space-padded) in the current year, UTC.
fn bsd_time(s: &str) -> Option<i64> {
    if s.len() < 15 {
        return None;
    }
    let month = MONTHS.iter().position(|m| s.starts_with(m))? as u32 + 1;
    let day: u32 = s.get(4..6)?.trim().parse().ok()?;
    let (h, mi, se) = (
        s.get(7..9)?.parse().ok()?,
        s.get(10..12)?.parse().ok()?,
        s.get(13..15)?.parse().ok()?,
    );
    if s.as_bytes()[3] != b' ' || s.as_bytes()[9] != b':' || s.as_bytes()[12] != b':' {
        return None;
    }
    NaiveDate::from_ymd_opt(Utc::now().year(), month, day)?
        .and_hms_opt(h, mi, se)?
        .and_utc()
        .timestamp_nanos_opt()
}

fn parse_3164(body: &str, m: &mut Message) {
    let mut rest = body;
    if let Some(t) = bsd_time(rest) {
        m.timestamp_ns = Some(t);
        rest = rest[15..].trim_start_matches(' ');
    } else if let Some((tok, after)) = rest.split_once(' ') {
        if tok.len() >= 20 && tok.as_bytes()[4] == b'-' && tok.contains('T') {
            if let Ok(t) = sightline_core::time::parse_rfc3339(tok) {
                m.timestamp_ns = t.timestamp_nanos_opt();
                rest = after;
            }
        }
    }
    // HOST, when the next word is not already the tag (`app:`/`app[1]:`).
    if m.timestamp_ns.is_some() {
        if let Some((host, after)) = rest.split_once(' ') {
            if !host.ends_with(':') && !host.ends_with(']') && !host.is_empty() {
                m.hostname = Some(host.to_owned());
                rest = after;
            }
        }
    }
    // TAG: up to 32 of [A-Za-z0-9_./-] and an optional [PID], then ":".
    let tag_len = rest
        .bytes()
        .take_while(|c| !matches!(c, b':' | b'[' | b' '))
        .count();
    let after_tag = &rest[tag_len..];
    let (pid, after_pid) = match after_tag.strip_prefix('[') {
        Some(p) => match p.split_once(']') {
            Some((pid, after)) => (Some(pid), after),
            None => (None, after_tag),
        },
        None => (None, after_tag),
    };
    if tag_len > 0 {
        if let Some(msg) = after_pid.strip_prefix(':') {
            m.app_name = Some(rest[..tag_len].to_owned());
            m.proc_id = pid.map(str::to_owned);
            rest = msg.strip_prefix(' ').unwrap_or(msg);
        }
    }
    m.message = rest.to_owned();
}
