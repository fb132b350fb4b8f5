//! The head: spans not yet in a block, per tenant and trace, kept as their
//! encoded rows (several times smaller than `Span` structs with their
//! strings), with the resources and scopes they came under kept once per
//! tenant. The WAL
//! record of an append ([`encode_record`]) carries the same rows, so
//! append and replay fill the head the same way.

use crate::codec::{self, put_bytes, put_uvarint, Dec};
use crate::Result;
use sightline_core::traces::{Resource, Scope, Span, TraceId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// The WAL record type of an append.
pub(crate) const REC_SPANS: u8 = 1;

/// One trace's spans in the head: rows of `resource index, scope index,
/// length-prefixed span` ([`codec::put_span`]).
#[derive(Default)]
pub(crate) struct HeadTrace {
    pub rows: Vec<u8>,
    pub spans: u32,
    pub min_ns: i64,
    pub max_ns: i64,
    /// Newest span start: scans come newest first by it.
    pub max_start: i64,
}

/// Values kept once, numbered in the order first seen.
#[derive(Default)]
pub(crate) struct Interner<T> {
    pub list: Vec<Arc<T>>,
    index: HashMap<Vec<u8>, u32>,
}

impl<T> Interner<T> {
    fn get_or_insert(&mut self, encoded: &[u8], make: impl FnOnce() -> Result<T>) -> Result<u32> {
        if let Some(&i) = self.index.get(encoded) {
            return Ok(i);
        }
        let i = self.list.len() as u32;
        self.list.push(Arc::new(make()?));
        self.index.insert(encoded.to_vec(), i);
        Ok(i)
    }
}

/// One tenant's head.
#[derive(Default)]
pub(crate) struct TenantHead {
    pub traces: HashMap<TraceId, HeadTrace>,
    pub resources: Interner<Resource>,
    pub scopes: Interner<Scope>,
    pub bytes: u64,
    pub spans: u64,
}

impl TenantHead {
    /// Applies one decoded record's spans.
    pub fn insert(&mut self, rec: &Record<'_>) -> Result<()> {
        let mut res_map = Vec::with_capacity(rec.resources.len());
        for r in &rec.resources {
            res_map.push(
                self.resources
                    .get_or_insert(r, || codec::resource(&mut Dec::new(r, "wal resource")))?,
            );
        }
        let mut scope_map = Vec::with_capacity(rec.scopes.len());
        for s in &rec.scopes {
            scope_map.push(
                self.scopes
                    .get_or_insert(s, || codec::scope(&mut Dec::new(s, "wal scope")))?,
            );
        }
        for row in &rec.spans {
            let r = *res_map
                .get(row.resource as usize)
                .ok_or_else(|| crate::Error::corrupt("wal record", 0, "resource out of range"))?;
            let s = *scope_map
                .get(row.scope as usize)
                .ok_or_else(|| crate::Error::corrupt("wal record", 0, "scope out of range"))?;
            let t = self
                .traces
                .entry(row.trace_id)
                .or_insert_with(|| HeadTrace {
                    min_ns: i64::MAX,
                    max_ns: i64::MIN,
                    max_start: i64::MIN,
                    ..Default::default()
                });
            let before = t.rows.len();
            put_uvarint(&mut t.rows, r.into());
            put_uvarint(&mut t.rows, s.into());
            put_bytes(&mut t.rows, row.bytes);
            t.spans += 1;
            t.min_ns = t.min_ns.min(row.start_ns);
            t.max_ns = t.max_ns.max(row.end_ns);
            t.max_start = t.max_start.max(row.start_ns);
            self.bytes += (t.rows.len() - before) as u64;
            self.spans += 1;
        }
        Ok(())
    }

    /// The spans of one head trace.
    pub fn decode(&self, t: &HeadTrace) -> Result<Vec<Span>> {
        let mut d = Dec::new(&t.rows, "head trace");
        let mut out = Vec::with_capacity(t.spans as usize);
        while !d.done() {
            let r = d.usize()?;
            let s = d.usize()?;
            let row = d.bytes()?;
            let (Some(res), Some(sc)) = (self.resources.list.get(r), self.scopes.list.get(s))
            else {
                return Err(d.err("resource or scope out of range"));
            };
            out.push(codec::span(
                &mut Dec::new(row, "head span"),
                res.clone(),
                sc.clone(),
            )?);
        }
        Ok(out)
    }
}

/// Spans not in a block yet.
#[derive(Default)]
pub(crate) struct Head {
    pub tenants: HashMap<String, TenantHead>,
    /// When the oldest span in the head arrived.
    pub since: Option<Instant>,
    /// Newest span end in the head (retention counts back from it).
    pub newest_ns: Option<i64>,
}

impl Head {
    pub fn bytes(&self) -> u64 {
        self.tenants.values().map(|t| t.bytes).sum()
    }

    pub fn insert(&mut self, rec: &Record<'_>) -> Result<()> {
        if rec.spans.is_empty() {
            return Ok(());
        }
        self.since.get_or_insert_with(Instant::now);
        let newest = rec.spans.iter().map(|s| s.end_ns).max().unwrap_or(i64::MIN);
        self.newest_ns = Some(self.newest_ns.map_or(newest, |n| n.max(newest)));
        self.tenants
            .entry(rec.tenant.to_owned())
            .or_default()
            .insert(rec)
    }
}

/// One span of a record: which resource and scope (by number in the
/// record), and its encoded bytes.
pub(crate) struct Row<'a> {
    pub resource: u32,
    pub scope: u32,
    pub trace_id: TraceId,
    pub start_ns: i64,
    pub end_ns: i64,
    pub bytes: &'a [u8],
}

/// A decoded (borrowing) WAL record.
pub(crate) struct Record<'a> {
    pub tenant: &'a str,
    pub resources: Vec<&'a [u8]>,
    pub scopes: Vec<&'a [u8]>,
    pub spans: Vec<Row<'a>>,
}

/// Encodes an append: tenant, the distinct resources and scopes, then
/// each span with their numbers. Resources and scopes are told apart by
/// pointer first (a batch shares its `Arc`s), then by their encoding.
pub(crate) fn encode_record(out: &mut Vec<u8>, tenant: &str, spans: &[Span]) {
    let mut res: Vec<(*const Resource, Vec<u8>)> = Vec::new();
    let mut scopes: Vec<(*const Scope, Vec<u8>)> = Vec::new();
    let mut idx: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
    let mut scratch = Vec::new();
    for s in spans {
        let rp = Arc::as_ptr(&s.resource);
        let ri = match res.iter().rposition(|(p, _)| *p == rp) {
            Some(i) => i,
            None => {
                scratch.clear();
                codec::put_resource(&mut scratch, &s.resource);
                match res.iter().position(|(_, b)| *b == scratch) {
                    Some(i) => i,
                    None => {
                        res.push((rp, scratch.clone()));
                        res.len() - 1
                    }
                }
            }
        };
        let sp = Arc::as_ptr(&s.scope);
        let si = match scopes.iter().rposition(|(p, _)| *p == sp) {
            Some(i) => i,
            None => {
                scratch.clear();
                codec::put_scope(&mut scratch, &s.scope);
                match scopes.iter().position(|(_, b)| *b == scratch) {
                    Some(i) => i,
                    None => {
                        scopes.push((sp, scratch.clone()));
                        scopes.len() - 1
                    }
                }
            }
        };
        idx.push((ri as u32, si as u32));
    }
    put_bytes(out, tenant.as_bytes());
    put_uvarint(out, res.len() as u64);
    for (_, b) in &res {
        put_bytes(out, b);
    }
    put_uvarint(out, scopes.len() as u64);
    for (_, b) in &scopes {
        put_bytes(out, b);
    }
    put_uvarint(out, spans.len() as u64);
    for (s, (ri, si)) in spans.iter().zip(idx) {
        put_uvarint(out, ri.into());
        put_uvarint(out, si.into());
        scratch.clear();
        codec::put_span(&mut scratch, s);
        put_bytes(out, &scratch);
    }
}

/// Decodes a record written by [`encode_record`].
pub(crate) fn decode_record(body: &[u8]) -> Result<Record<'_>> {
    let mut d = Dec::new(body, "wal record");
    let tenant = std::str::from_utf8(d.bytes()?).map_err(|_| d.err("tenant is not UTF-8"))?;
    let n = d.usize()?;
    let mut resources = Vec::with_capacity(n.min(codec::CAP));
    for _ in 0..n {
        resources.push(d.bytes()?);
    }
    let n = d.usize()?;
    let mut scopes = Vec::with_capacity(n.min(codec::CAP));
    for _ in 0..n {
        scopes.push(d.bytes()?);
    }
    let n = d.usize()?;
    let mut spans = Vec::with_capacity(n.min(codec::CAP));
    for _ in 0..n {
        let resource = d.uvarint()? as u32;
        let scope = d.uvarint()? as u32;
        let bytes = d.bytes()?;
        // The row starts with the ids; the times follow the name.
        let mut r = Dec::new(bytes, "wal span");
        let trace_id = TraceId(r.array()?);
        r.take(8)?;
        let f = codec::unflags(r.u8()?);
        if f.has_parent {
            r.take(8)?;
        }
        r.bytes()?;
        let start_ns = r.varint()?;
        let end_ns = start_ns.wrapping_add(r.varint()?);
        spans.push(Row {
            resource,
            scope,
            trace_id,
            start_ns,
            end_ns,
            bytes,
        });
    }
    if !d.done() {
        return Err(d.err("trailing bytes"));
    }
    Ok(Record {
        tenant,
        resources,
        scopes,
        spans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::traces::{AnyValue, SpanId, SpanKind, StatusCode};

    #[test]
    fn a_spans_record_is_the_bytes_the_format_page_gives() {
        // docs/format/tracestore.md's `spans` record, worked by hand.
        let s = Span {
            trace_id: TraceId::from_halves(0, 1),
            span_id: SpanId::from_u64(2),
            name: "a".into(),
            kind: SpanKind::Server,
            status_code: StatusCode::Error,
            start_ns: 10,
            end_ns: 15,
            attributes: vec![("k".into(), AnyValue::Int(-1))],
            resource: Arc::new(Resource {
                attributes: vec![("service.name".into(), AnyValue::Str("api".into()))],
                dropped_attributes_count: 0,
            }),
            ..Default::default()
        };
        let mut out = Vec::new();
        encode_record(&mut out, "t", std::slice::from_ref(&s));
        let mut want = vec![1, b't', 1, 20, 1, 12];
        want.extend_from_slice(b"service.name");
        want.extend_from_slice(&[0, 3, b'a', b'p', b'i', 0]);
        want.extend_from_slice(&[1, 3, 0, 0, 0]);
        let mut row = vec![0u8; 15];
        row.push(1);
        row.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 2]);
        // kind 2 | status 2 << 3; no parent, no extras.
        row.push(0x12);
        row.extend_from_slice(&[1, b'a', 20, 10, 1, 1, b'k', 1, 1]);
        want.extend_from_slice(&[1, 0, 0, row.len() as u8]);
        want.extend_from_slice(&row);
        assert_eq!(out, want);

        let rec = decode_record(&out).unwrap();
        assert_eq!((rec.tenant, rec.spans.len()), ("t", 1));
        assert_eq!((rec.spans[0].start_ns, rec.spans[0].end_ns), (10, 15));
        let mut h = Head::default();
        h.insert(&rec).unwrap();
        let th = &h.tenants["t"];
        assert_eq!(th.decode(&th.traces[&s.trace_id]).unwrap(), vec![s]);
        // A cut record is damage, not a panic.
        let e = decode_record(&out[..out.len() - 1]).err().unwrap();
        assert!(e.to_string().contains("corrupt wal record"), "{e}");
    }
}
