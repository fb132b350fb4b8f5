//! A column group: the spans of consecutive traces (in trace id order),
//! stored as columns and compressed together with zstd. Strings (span
//! names, attribute keys, string values) are numbers into the block's
//! dictionary; resources and scopes are numbers into its tables.

use crate::codec::{self, put_bytes, put_uvarint, put_value_body, put_varint, Dec};
use crate::prefilter::{Prefilter, SpanNumbers};
use crate::Result;
use sightline_core::traces::{AnyValue, Resource, Scope, Span, SpanId, TraceId};
use std::sync::Arc;

/// What the columns refer to: the block's dictionary and tables.
pub(crate) struct Dict {
    pub strings: Vec<String>,
    pub resources: Vec<Arc<Resource>>,
    pub scopes: Vec<Arc<Scope>>,
}

/// Columns of a group being written.
#[derive(Default)]
pub(crate) struct GroupBuilder {
    pub traces: u32,
    pub spans: u32,
    pub min_ns: i64,
    pub max_ns: i64,
    counts: Vec<u8>,
    span_ids: Vec<u8>,
    flags: Vec<u8>,
    parents: Vec<u8>,
    names: Vec<u8>,
    res: Vec<u8>,
    scopes: Vec<u8>,
    starts: Vec<u8>,
    durs: Vec<u8>,
    attr_counts: Vec<u8>,
    attr_keys: Vec<u8>,
    attr_types: Vec<u8>,
    attr_vals: Vec<u8>,
    extras: Vec<u8>,
    last_start: i64,
}

/// Numbers for strings, resources and scopes, given by the writer.
pub(crate) trait Numbering {
    fn string(&mut self, s: &str) -> u32;
    fn resource(&mut self, r: &Arc<Resource>) -> u32;
    fn scope(&mut self, s: &Arc<Scope>) -> u32;
}

impl GroupBuilder {
    pub fn new() -> Self {
        GroupBuilder {
            min_ns: i64::MAX,
            max_ns: i64::MIN,
            ..Default::default()
        }
    }

    /// Adds one trace's spans (sorted by start by the caller).
    pub fn add_trace(&mut self, spans: &[Span], n: &mut dyn Numbering) {
        self.traces += 1;
        put_uvarint(&mut self.counts, spans.len() as u64);
        for s in spans {
            self.spans += 1;
            self.min_ns = self.min_ns.min(s.start_ns);
            self.max_ns = self.max_ns.max(s.end_ns);
            self.span_ids.extend_from_slice(&s.span_id.0);
            let x = codec::has_extras(s);
            self.flags.push(codec::flags(s, x));
            if let Some(p) = s.parent_span_id {
                self.parents.extend_from_slice(&p.0);
            }
            put_uvarint(&mut self.names, n.string(&s.name).into());
            put_uvarint(&mut self.res, n.resource(&s.resource).into());
            put_uvarint(&mut self.scopes, n.scope(&s.scope).into());
            put_varint(&mut self.starts, s.start_ns.wrapping_sub(self.last_start));
            self.last_start = s.start_ns;
            put_varint(&mut self.durs, s.end_ns.wrapping_sub(s.start_ns));
            put_uvarint(&mut self.attr_counts, s.attributes.len() as u64);
            for (k, v) in &s.attributes {
                put_uvarint(&mut self.attr_keys, n.string(k).into());
                self.attr_types.push(codec::value_tag(v));
                match v {
                    AnyValue::Str(s) => put_uvarint(&mut self.attr_vals, n.string(s).into()),
                    other => put_value_body(&mut self.attr_vals, other),
                }
            }
            if x {
                codec::put_extras(&mut self.extras, s);
            }
        }
    }

    /// The group's bytes, compressed.
    pub fn finish(&self, level: i32) -> Result<Vec<u8>> {
        let mut raw = Vec::new();
        put_uvarint(&mut raw, self.traces.into());
        put_uvarint(&mut raw, self.spans.into());
        for c in [
            &self.counts,
            &self.span_ids,
            &self.flags,
            &self.parents,
            &self.names,
            &self.res,
            &self.scopes,
            &self.starts,
            &self.durs,
            &self.attr_counts,
            &self.attr_keys,
            &self.attr_types,
            &self.attr_vals,
            &self.extras,
        ] {
            put_bytes(&mut raw, c);
        }
        zstd::bulk::compress(&raw, level)
            .map_err(|e| crate::Error::corrupt("zstd", 0, e.to_string()))
    }
}

/// Decodes the traces of a group for which `want(index in group)` holds;
/// the others are stepped over without building their spans.
pub(crate) fn decode(
    raw: &[u8],
    ids: &[[u8; 16]],
    dict: &Dict,
    want: &mut dyn FnMut(usize) -> bool,
) -> Result<Vec<Vec<Span>>> {
    decode_filtered(raw, ids, dict, want, None)
}

/// Reads one trace's `n` spans as numbers (advancing the columns) and
/// says whether the prefilter may admit it: a span in range and each
/// check held by some span.
#[allow(clippy::too_many_arguments)]
fn numbers_admit(
    n: usize,
    cols: &mut [Dec],
    last_start: &mut i64,
    f: &Prefilter,
    held: &mut Vec<bool>,
    attrs: &mut Vec<(u64, u8, u64)>,
) -> Result<bool> {
    let [_counts, span_ids, flags, parents, names, res, scopes, starts, durs, attr_counts, attr_keys, attr_types, attr_vals, extras] =
        cols
    else {
        unreachable!("14 columns")
    };
    held.clear();
    held.resize(f.checks.len(), false);
    let mut in_range = false;
    for _ in 0..n {
        span_ids.take(8)?;
        let fl = codec::unflags(flags.u8()?);
        if fl.has_parent {
            parents.take(8)?;
        }
        let name = names.uvarint()?;
        let resource = res.uvarint()?;
        let scope = scopes.uvarint()?;
        let start = last_start.wrapping_add(starts.varint()?);
        *last_start = start;
        let dur = durs.varint()?;
        let na = attr_counts.usize()?;
        attrs.clear();
        for _ in 0..na {
            let k = attr_keys.uvarint()?;
            let t = attr_types.u8()?;
            let v = match t {
                codec::T_STR => attr_vals.uvarint()?,
                t => {
                    codec::value_body(attr_vals, t, 0)?;
                    u64::MAX
                }
            };
            attrs.push((k, t, v));
        }
        if fl.has_extras {
            codec::extras(extras, &mut Span::default())?;
        }
        in_range |= start <= f.end_ns && start.wrapping_add(dur) >= f.start_ns;
        let s = SpanNumbers {
            name,
            resource,
            scope,
            duration_ns: dur,
            kind: fl.kind,
            status: fl.status,
            attrs,
        };
        for (h, c) in held.iter_mut().zip(&f.checks) {
            *h = *h || c.holds(&s);
        }
    }
    Ok(in_range && held.iter().all(|h| *h))
}

/// [`decode`], with a search's prefilter: a wanted trace is built only
/// when the prefilter may admit it or `elsewhere(index)` says it may have
/// parts in other blocks (whose spans the hints may need).
pub(crate) fn decode_filtered(
    raw: &[u8],
    ids: &[[u8; 16]],
    dict: &Dict,
    want: &mut dyn FnMut(usize) -> bool,
    mut filter: Option<(&Prefilter, &mut dyn FnMut(usize) -> bool)>,
) -> Result<Vec<Vec<Span>>> {
    let mut d = Dec::new(raw, "column group");
    let traces = d.usize()?;
    let spans = d.usize()?;
    if traces != ids.len() {
        return Err(d.err("trace count differs from the index"));
    }
    let mut cols: Vec<Dec> = Vec::with_capacity(14);
    for _ in 0..14 {
        cols.push(Dec::new(d.bytes()?, "column"));
    }
    let s = |d: &Dec, id: u64| -> Result<&String> {
        dict.strings
            .get(id as usize)
            .ok_or_else(|| d.err("string number out of range"))
    };
    let mut out = Vec::new();
    let mut last_start = 0i64;
    let mut seen = 0usize;
    let (mut held, mut attrs) = (Vec::new(), Vec::new());
    for (ti, id) in ids.iter().enumerate() {
        let n = cols[0].usize()?;
        seen += n;
        if seen > spans {
            return Err(cols[0].err("more spans than the group holds"));
        }
        let keep = want(ti);
        if let (true, Some((f, elsewhere))) = (keep, filter.as_mut()) {
            // Read the trace as numbers first; build it only if it may be
            // wanted, else go on from where the numbers left the columns.
            let saved: Vec<usize> = cols.iter().map(|c| c.pos).collect();
            let saved_start = last_start;
            if !numbers_admit(n, &mut cols, &mut last_start, f, &mut held, &mut attrs)?
                && !elsewhere(ti)
            {
                continue;
            }
            for (c, p) in cols.iter_mut().zip(saved) {
                c.pos = p;
            }
            last_start = saved_start;
        }
        let [_counts, span_ids, flags, parents, names, res, scopes, starts, durs, attr_counts, attr_keys, attr_types, attr_vals, extras] =
            &mut cols[..]
        else {
            unreachable!("14 columns")
        };
        let mut trace = Vec::with_capacity(if keep { n.min(codec::CAP) } else { 0 });
        for _ in 0..n {
            let sid = SpanId(span_ids.array()?);
            let f = codec::unflags(flags.u8()?);
            let parent = if f.has_parent {
                Some(SpanId(parents.array()?))
            } else {
                None
            };
            let name = names.uvarint()?;
            let r = res.uvarint()?;
            let sc = scopes.uvarint()?;
            let start = last_start.wrapping_add(starts.varint()?);
            last_start = start;
            let dur = durs.varint()?;
            let na = attr_counts.usize()?;
            if !keep {
                for _ in 0..na {
                    attr_keys.uvarint()?;
                    let t = attr_types.u8()?;
                    match t {
                        codec::T_STR => {
                            attr_vals.uvarint()?;
                        }
                        t => {
                            codec::value_body(attr_vals, t, 0)?;
                        }
                    }
                }
                if f.has_extras {
                    codec::extras(extras, &mut Span::default())?;
                }
                continue;
            }
            let mut attributes = Vec::with_capacity(na.min(codec::CAP));
            for _ in 0..na {
                let kid = attr_keys.uvarint()?;
                let k = s(attr_keys, kid)?.clone();
                let t = attr_types.u8()?;
                let v = match t {
                    codec::T_STR => {
                        let vid = attr_vals.uvarint()?;
                        AnyValue::Str(s(attr_vals, vid)?.clone())
                    }
                    t => codec::value_body(attr_vals, t, 0)?,
                };
                attributes.push((k, v));
            }
            let resource = dict
                .resources
                .get(r as usize)
                .ok_or_else(|| res.err("resource number out of range"))?
                .clone();
            let scope = dict
                .scopes
                .get(sc as usize)
                .ok_or_else(|| scopes.err("scope number out of range"))?
                .clone();
            let mut span = Span {
                trace_id: TraceId(*id),
                span_id: sid,
                parent_span_id: parent,
                name: s(names, name)?.clone(),
                kind: f.kind,
                start_ns: start,
                end_ns: start.wrapping_add(dur),
                attributes,
                status_code: f.status,
                resource,
                scope,
                ..Default::default()
            };
            if f.has_extras {
                codec::extras(extras, &mut span)?;
            }
            trace.push(span);
        }
        if keep {
            out.push(trace);
        }
    }
    Ok(out)
}
