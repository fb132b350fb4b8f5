//! The DNS wire format (RFC 1035) for one question and its answer, and
//! records printed as miekg/dns's `RR.String()` prints them, because
//! blackbox's `validate_*_rrs` regexps are written against that text.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

const TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("PTR", 12),
    ("HINFO", 13),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
    ("SRV", 33),
    ("NAPTR", 35),
    ("DS", 43),
    ("RRSIG", 46),
    ("NSEC", 47),
    ("DNSKEY", 48),
    ("TLSA", 52),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("SPF", 99),
    ("AXFR", 252),
    ("ANY", 255),
    ("CAA", 257),
];
const CLASSES: &[(&str, u16)] = &[
    ("IN", 1),
    ("CS", 2),
    ("CH", 3),
    ("HS", 4),
    ("NONE", 254),
    ("ANY", 255),
];
const RCODES: &[(&str, u16)] = &[
    ("NOERROR", 0),
    ("FORMERR", 1),
    ("SERVFAIL", 2),
    ("NXDOMAIN", 3),
    ("NOTIMP", 4),
    ("REFUSED", 5),
    ("YXDOMAIN", 6),
    ("YXRRSET", 7),
    ("NXRRSET", 8),
    ("NOTAUTH", 9),
    ("NOTZONE", 10),
];

fn code(table: &[(&str, u16)], name: &str) -> Option<u16> {
    let up = name.to_ascii_uppercase();
    table.iter().find(|(n, _)| *n == up).map(|(_, c)| *c)
}

fn name_of(table: &[(&str, u16)], c: u16, prefix: &str) -> String {
    table
        .iter()
        .find(|(_, v)| *v == c)
        .map_or_else(|| format!("{prefix}{c}"), |(n, _)| n.to_string())
}

/// Record type code of a name (`A`, `aaaa`, `TYPE99`).
pub(crate) fn type_code(name: &str) -> Option<u16> {
    code(TYPES, name).or_else(|| name.to_ascii_uppercase().strip_prefix("TYPE")?.parse().ok())
}

/// Class code of a name.
pub(crate) fn class_code(name: &str) -> Option<u16> {
    code(CLASSES, name).or_else(|| {
        name.to_ascii_uppercase()
            .strip_prefix("CLASS")?
            .parse()
            .ok()
    })
}

/// Rcode of a name (`NOERROR`, `NXDOMAIN`, ...).
pub(crate) fn rcode_code(name: &str) -> Option<u16> {
    code(RCODES, name)
}

/// Builds a query for one question.
pub(crate) fn encode_query(
    id: u16,
    name: &str,
    qtype: u16,
    qclass: u16,
    rd: bool,
) -> Result<Vec<u8>, String> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&(if rd { 0x0100u16 } else { 0 }).to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    encode_name(&mut m, name)?;
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&qclass.to_be_bytes());
    Ok(m)
}

pub(crate) fn encode_name(m: &mut Vec<u8>, name: &str) -> Result<(), String> {
    let trimmed = name.trim_end_matches('.');
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(format!("invalid domain name {name:?}"));
            }
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
    }
    m.push(0);
    Ok(())
}

/// One resource record, decoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub name: String,
    pub rtype: u16,
    pub class: u16,
    pub ttl: u32,
    /// The rdata as miekg/dns prints it.
    pub data: String,
    /// The SOA serial, for `probe_dns_serial`.
    pub serial: Option<u32>,
}

impl Record {
    /// miekg/dns's `RR.String()`: `name\tttl\tclass\ttype\trdata`.
    pub(crate) fn text(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.name,
            self.ttl,
            name_of(CLASSES, self.class, "CLASS"),
            name_of(TYPES, self.rtype, "TYPE"),
            self.data
        )
    }
}

/// A decoded response.
#[derive(Debug, Clone, Default)]
pub(crate) struct Message {
    pub id: u16,
    pub rcode: u16,
    pub answer: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

/// Name of an rcode for logs.
pub(crate) fn rcode_name(rc: u16) -> String {
    name_of(RCODES, rc, "RCODE")
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, String> {
        let b = *self.msg.get(self.pos).ok_or("dns: message too short")?;
        self.pos += 1;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let b = self
            .msg
            .get(self.pos..self.pos + n)
            .ok_or("dns: message too short")?;
        self.pos += n;
        Ok(b)
    }
    /// A possibly compressed name, as `a.example.com.`.
    fn name(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut jumped = false;
        let mut hops = 0;
        loop {
            let len = *self.msg.get(pos).ok_or("dns: name past end of message")? as usize;
            if len & 0xc0 == 0xc0 {
                let lo = *self
                    .msg
                    .get(pos + 1)
                    .ok_or("dns: name past end of message")? as usize;
                if !jumped {
                    self.pos = pos + 2;
                }
                jumped = true;
                hops += 1;
                if hops > 64 {
                    return Err("dns: compression loop".into());
                }
                pos = ((len & 0x3f) << 8) | lo;
                continue;
            }
            if len == 0 {
                if !jumped {
                    self.pos = pos + 1;
                }
                break;
            }
            let label = self
                .msg
                .get(pos + 1..pos + 1 + len)
                .ok_or("dns: name past end of message")?;
            for &b in label {
                if b == b'.' || b == b'\\' {
                    out.push('\\');
                    out.push(b as char);
                } else if b.is_ascii_graphic() {
                    out.push(b as char);
                } else {
                    let _ = write!(out, "\\{b:03}");
                }
            }
            out.push('.');
            pos += 1 + len;
        }
        if out.is_empty() {
            out.push('.');
        }
        Ok(out)
    }

    fn record(&mut self) -> Result<Record, String> {
        let name = self.name()?;
        let rtype = self.u16()?;
        let class = self.u16()?;
        let ttl = self.u32()?;
        let rdlen = self.u16()? as usize;
        let end = self.pos + rdlen;
        if end > self.msg.len() {
            return Err("dns: rdata past end of message".into());
        }
        let mut serial = None;
        let data = match rtype {
            1 if rdlen == 4 => {
                let b = self.bytes(4)?;
                Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()
            }
            28 if rdlen == 16 => {
                let b: [u8; 16] = self.bytes(16)?.try_into().expect("16 bytes");
                Ipv6Addr::from(b).to_string()
            }
            2 | 5 | 12 => self.name()?,
            15 => {
                let pref = self.u16()?;
                format!("{pref} {}", self.name()?)
            }
            6 => {
                let (ns, mbox) = (self.name()?, self.name()?);
                let s = self.u32()?;
                serial = Some(s);
                let (r, re, ex, min) = (self.u32()?, self.u32()?, self.u32()?, self.u32()?);
                format!("{ns} {mbox} {s} {r} {re} {ex} {min}")
            }
            33 => {
                let (p, w, port) = (self.u16()?, self.u16()?, self.u16()?);
                format!("{p} {w} {port} {}", self.name()?)
            }
            16 | 99 => {
                let mut parts = Vec::new();
                while self.pos < end {
                    let n = self.u8()? as usize;
                    let s = self.bytes(n)?;
                    let mut t = String::from("\"");
                    for &b in s {
                        match b {
                            b'"' | b'\\' => {
                                t.push('\\');
                                t.push(b as char);
                            }
                            0x20..=0x7e => t.push(b as char),
                            _ => {
                                let _ = write!(t, "\\{b:03}");
                            }
                        }
                    }
                    t.push('"');
                    parts.push(t);
                }
                parts.join(" ")
            }
            _ => {
                let b = self.bytes(rdlen)?;
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!("\\# {rdlen} {hex}").trim_end().to_string()
            }
        };
        self.pos = end;
        Ok(Record {
            name,
            rtype,
            class,
            ttl,
            data,
            serial,
        })
    }
}

/// Decodes a response message.
pub(crate) fn decode(msg: &[u8]) -> Result<Message, String> {
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return Err("dns: message is not a response".into());
    }
    let (qd, an, ns, ar) = (r.u16()?, r.u16()?, r.u16()?, r.u16()?);
    for _ in 0..qd {
        r.name()?;
        r.u16()?;
        r.u16()?;
    }
    let mut read = |n: u16| {
        (0..n)
            .map(|_| r.record())
            .collect::<Result<Vec<_>, String>>()
    };
    let answer = read(an)?;
    let authority = read(ns)?;
    let additional = read(ar)?;
    Ok(Message {
        id,
        rcode: flags & 0x000f,
        answer,
        authority,
        additional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes() {
        // Hand-assembled: id 0x1234, RD, one question example.com A IN.
        let q = encode_query(0x1234, "example.com", 1, 1, true).unwrap();
        let want: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(q, want);
    }

    #[test]
    fn decodes_compressed_answers() {
        // Response to the query above: one A record named by a pointer to
        // offset 12, TTL 300, 93.184.216.34; one MX, one TXT.
        let mut m = encode_query(0x1234, "example.com", 1, 1, true).unwrap();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 3;
        m.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\x5d\xb8\xd8\x22");
        m.extend_from_slice(
            b"\xc0\x0c\x00\x0f\x00\x01\x00\x00\x00\x3c\x00\x09\x00\x0a\x04mail\xc0\x0c",
        );
        m.extend_from_slice(b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x06\x05a \"b\"");
        let d = decode(&m).unwrap();
        assert_eq!(d.id, 0x1234);
        assert_eq!(d.rcode, 0);
        let texts: Vec<String> = d.answer.iter().map(Record::text).collect();
        assert_eq!(
            texts,
            vec![
                "example.com.\t300\tIN\tA\t93.184.216.34",
                "example.com.\t60\tIN\tMX\t10 mail.example.com.",
                "example.com.\t60\tIN\tTXT\t\"a \\\"b\\\"\"",
            ]
        );
    }

    #[test]
    fn codes() {
        assert_eq!(type_code("aaaa"), Some(28));
        assert_eq!(type_code("TYPE99"), Some(99));
        assert_eq!(type_code("BOGUS"), None);
        assert_eq!(rcode_code("nxdomain"), Some(3));
        assert_eq!(class_code("IN"), Some(1));
    }
}
