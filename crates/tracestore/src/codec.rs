//! The row encoding of spans, resources, scopes and attribute values:
//! LEB128 varints, zigzag for signed numbers, length-prefixed bytes. WAL
//! records and the head hold spans in it; blocks keep events, links and
//! the rare span fields in it (`docs/format/tracestore.md`).

use crate::{Error, Result};
use sightline_core::traces::{
    AnyValue, Attributes, Resource, Scope, Span, SpanEvent, SpanId, SpanKind, SpanLink, StatusCode,
    TraceId,
};
use std::sync::Arc;

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Items reserved ahead from a decoded count.
pub(crate) const CAP: usize = 1024;

/// A cursor over encoded bytes; errors name `what` and the offset.
pub(crate) struct Dec<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
    what: &'static str,
}

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Dec { buf, pos: 0, what }
    }

    pub fn err(&self, reason: &str) -> Error {
        Error::corrupt(self.what, self.pos as u64, reason)
    }

    pub fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn uvarint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.err("truncated varint"));
            };
            self.pos += 1;
            if shift >= 64 {
                return Err(self.err("varint too long"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    pub fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A count. Callers reserve at most [`CAP`] items from it, so a
    /// damaged count fails on the data it promises, not in an allocation.
    pub fn usize(&mut self) -> Result<usize> {
        let v = self.uvarint()?;
        if v > u32::MAX as u64 {
            return Err(self.err("count out of range"));
        }
        Ok(v as usize)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() - self.pos < n {
            return Err(self.err("truncated"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.usize()?;
        self.take(n)
    }

    pub fn string(&mut self) -> Result<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| self.err("string is not UTF-8"))
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }
}

/// Value type tags, shared by rows and block columns.
pub(crate) const T_STR: u8 = 0;
pub(crate) const T_INT: u8 = 1;
pub(crate) const T_FLOAT: u8 = 2;
pub(crate) const T_BOOL: u8 = 3;
pub(crate) const T_BYTES: u8 = 4;
pub(crate) const T_ARRAY: u8 = 5;
pub(crate) const T_MAP: u8 = 6;

pub(crate) fn value_tag(v: &AnyValue) -> u8 {
    match v {
        AnyValue::Str(_) => T_STR,
        AnyValue::Int(_) => T_INT,
        AnyValue::Float(_) => T_FLOAT,
        AnyValue::Bool(_) => T_BOOL,
        AnyValue::Bytes(_) => T_BYTES,
        AnyValue::Array(_) => T_ARRAY,
        AnyValue::Map(_) => T_MAP,
    }
}

/// The body of a value (after its tag).
pub(crate) fn put_value_body(out: &mut Vec<u8>, v: &AnyValue) {
    match v {
        AnyValue::Str(s) => put_bytes(out, s.as_bytes()),
        AnyValue::Int(i) => put_varint(out, *i),
        AnyValue::Float(f) => out.extend_from_slice(&f.to_bits().to_le_bytes()),
        AnyValue::Bool(b) => out.push(*b as u8),
        AnyValue::Bytes(b) => put_bytes(out, b),
        AnyValue::Array(a) => {
            put_uvarint(out, a.len() as u64);
            for x in a {
                put_value(out, x);
            }
        }
        AnyValue::Map(m) => put_attrs(out, m),
    }
}

pub(crate) fn put_value(out: &mut Vec<u8>, v: &AnyValue) {
    out.push(value_tag(v));
    put_value_body(out, v);
}

pub(crate) fn value_body(d: &mut Dec, tag: u8, depth: u32) -> Result<AnyValue> {
    if depth > 64 {
        return Err(d.err("values nested too deep"));
    }
    Ok(match tag {
        T_STR => AnyValue::Str(d.string()?),
        T_INT => AnyValue::Int(d.varint()?),
        T_FLOAT => AnyValue::Float(f64::from_bits(u64::from_le_bytes(d.array()?))),
        T_BOOL => AnyValue::Bool(d.u8()? != 0),
        T_BYTES => AnyValue::Bytes(d.bytes()?.to_vec()),
        T_ARRAY => {
            let n = d.usize()?;
            let mut a = Vec::with_capacity(n.min(CAP));
            for _ in 0..n {
                let t = d.u8()?;
                a.push(value_body(d, t, depth + 1)?);
            }
            AnyValue::Array(a)
        }
        T_MAP => AnyValue::Map(attrs_at(d, depth + 1)?),
        _ => return Err(d.err("unknown value type")),
    })
}

pub(crate) fn value(d: &mut Dec) -> Result<AnyValue> {
    let t = d.u8()?;
    value_body(d, t, 0)
}

pub(crate) fn put_attrs(out: &mut Vec<u8>, a: &Attributes) {
    put_uvarint(out, a.len() as u64);
    for (k, v) in a {
        put_bytes(out, k.as_bytes());
        put_value(out, v);
    }
}

fn attrs_at(d: &mut Dec, depth: u32) -> Result<Attributes> {
    let n = d.usize()?;
    let mut a = Vec::with_capacity(n.min(CAP));
    for _ in 0..n {
        let k = d.string()?;
        let t = d.u8()?;
        a.push((k, value_body(d, t, depth)?));
    }
    Ok(a)
}

pub(crate) fn attrs(d: &mut Dec) -> Result<Attributes> {
    attrs_at(d, 0)
}

pub(crate) fn put_resource(out: &mut Vec<u8>, r: &Resource) {
    put_attrs(out, &r.attributes);
    put_uvarint(out, r.dropped_attributes_count.into());
}

pub(crate) fn resource(d: &mut Dec) -> Result<Resource> {
    Ok(Resource {
        attributes: attrs(d)?,
        dropped_attributes_count: d.uvarint()? as u32,
    })
}

pub(crate) fn put_scope(out: &mut Vec<u8>, s: &Scope) {
    put_bytes(out, s.name.as_bytes());
    put_bytes(out, s.version.as_bytes());
    put_attrs(out, &s.attributes);
}

pub(crate) fn scope(d: &mut Dec) -> Result<Scope> {
    Ok(Scope {
        name: d.string()?,
        version: d.string()?,
        attributes: attrs(d)?,
    })
}

/// The fields of a span most spans leave empty: trace state, dropped
/// counts, events, links and the status message. Blocks keep them whole.
pub(crate) fn put_extras(out: &mut Vec<u8>, s: &Span) {
    put_bytes(out, s.trace_state.as_bytes());
    put_uvarint(out, s.dropped_attributes_count.into());
    put_uvarint(out, s.dropped_events_count.into());
    put_uvarint(out, s.dropped_links_count.into());
    put_bytes(out, s.status_message.as_bytes());
    put_uvarint(out, s.events.len() as u64);
    for e in &s.events {
        put_varint(out, e.time_ns);
        put_bytes(out, e.name.as_bytes());
        put_attrs(out, &e.attributes);
        put_uvarint(out, e.dropped_attributes_count.into());
    }
    put_uvarint(out, s.links.len() as u64);
    for l in &s.links {
        out.extend_from_slice(&l.trace_id.0);
        out.extend_from_slice(&l.span_id.0);
        put_bytes(out, l.trace_state.as_bytes());
        put_attrs(out, &l.attributes);
        put_uvarint(out, l.dropped_attributes_count.into());
    }
}

/// Whether a span has anything [`put_extras`] would keep.
pub(crate) fn has_extras(s: &Span) -> bool {
    !s.trace_state.is_empty()
        || s.dropped_attributes_count != 0
        || s.dropped_events_count != 0
        || s.dropped_links_count != 0
        || !s.status_message.is_empty()
        || !s.events.is_empty()
        || !s.links.is_empty()
}

pub(crate) fn extras(d: &mut Dec, s: &mut Span) -> Result<()> {
    s.trace_state = d.string()?;
    s.dropped_attributes_count = d.uvarint()? as u32;
    s.dropped_events_count = d.uvarint()? as u32;
    s.dropped_links_count = d.uvarint()? as u32;
    s.status_message = d.string()?;
    let n = d.usize()?;
    s.events = Vec::with_capacity(n.min(CAP));
    for _ in 0..n {
        s.events.push(SpanEvent {
            time_ns: d.varint()?,
            name: d.string()?,
            attributes: attrs(d)?,
            dropped_attributes_count: d.uvarint()? as u32,
        });
    }
    let n = d.usize()?;
    s.links = Vec::with_capacity(n.min(CAP));
    for _ in 0..n {
        s.links.push(SpanLink {
            trace_id: TraceId(d.array()?),
            span_id: SpanId(d.array()?),
            trace_state: d.string()?,
            attributes: attrs(d)?,
            dropped_attributes_count: d.uvarint()? as u32,
        });
    }
    Ok(())
}

/// Kind, status and whether a parent and extras follow, in one byte.
pub(crate) fn flags(s: &Span, extras: bool) -> u8 {
    (s.kind as u8)
        | ((s.status_code as u8) << 3)
        | ((s.parent_span_id.is_some() as u8) << 5)
        | ((extras as u8) << 6)
}

pub(crate) struct Flags {
    pub kind: SpanKind,
    pub status: StatusCode,
    pub has_parent: bool,
    pub has_extras: bool,
}

pub(crate) fn unflags(f: u8) -> Flags {
    Flags {
        kind: SpanKind::from_i32((f & 7) as i32),
        status: StatusCode::from_i32(((f >> 3) & 3) as i32),
        has_parent: f & (1 << 5) != 0,
        has_extras: f & (1 << 6) != 0,
    }
}

/// A span without its resource and scope (which records and the head
/// keep once and refer to by number).
pub(crate) fn put_span(out: &mut Vec<u8>, s: &Span) {
    out.extend_from_slice(&s.trace_id.0);
    out.extend_from_slice(&s.span_id.0);
    let x = has_extras(s);
    out.push(flags(s, x));
    if let Some(p) = s.parent_span_id {
        out.extend_from_slice(&p.0);
    }
    put_bytes(out, s.name.as_bytes());
    put_varint(out, s.start_ns);
    put_varint(out, s.end_ns.wrapping_sub(s.start_ns));
    put_attrs(out, &s.attributes);
    if x {
        put_extras(out, s);
    }
}

pub(crate) fn span(d: &mut Dec, resource: Arc<Resource>, scope: Arc<Scope>) -> Result<Span> {
    let trace_id = TraceId(d.array()?);
    let span_id = SpanId(d.array()?);
    let f = unflags(d.u8()?);
    let parent_span_id = if f.has_parent {
        Some(SpanId(d.array()?))
    } else {
        None
    };
    let name = d.string()?;
    let start_ns = d.varint()?;
    let end_ns = start_ns.wrapping_add(d.varint()?);
    let mut s = Span {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind: f.kind,
        start_ns,
        end_ns,
        attributes: attrs(d)?,
        status_code: f.status,
        resource,
        scope,
        ..Default::default()
    };
    if f.has_extras {
        extras(d, &mut s)?;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let mut out = Vec::new();
        for v in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            put_varint(&mut out, v);
        }
        let mut d = Dec::new(&out, "test");
        for v in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert!(d.done());
        let e = Dec::new(&[0x80], "test").uvarint().unwrap_err();
        assert!(e.to_string().contains("truncated varint"), "{e}");
    }
}
