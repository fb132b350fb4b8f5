//! `jaeger.thrift`'s `Batch` and what it holds, read from Thrift's binary
//! protocol. Field ids and types are the IDL's:
//!
//! - `Batch`: 1 `Process process`, 2 `list<Span> spans`, 3 `i64 seqNo`,
//!   4 `ClientStats stats` (skipped).
//! - `Process`: 1 `string serviceName`, 2 `list<Tag> tags`.
//! - `Span`: 1 `i64 traceIdLow`, 2 `i64 traceIdHigh`, 3 `i64 spanId`,
//!   4 `i64 parentSpanId`, 5 `string operationName`, 6 `list<SpanRef>
//!   references`, 7 `i32 flags`, 8 `i64 startTime` (µs), 9 `i64 duration`
//!   (µs), 10 `list<Tag> tags`, 11 `list<Log> logs`, 12 `bool incomplete`.
//! - `Tag`: 1 `string key`, 2 `TagType vType` (i32: STRING 0, DOUBLE 1,
//!   BOOL 2, LONG 3, BINARY 4), 3 `vStr`, 4 `vDouble`, 5 `vBool`, 6 `vLong`,
//!   7 `vBinary`.
//! - `Log`: 1 `i64 timestamp` (µs), 2 `list<Tag> fields`.
//! - `SpanRef`: 1 `SpanRefType refType` (i32: CHILD_OF 0, FOLLOWS_FROM 1),
//!   2 `i64 traceIdLow`, 3 `i64 traceIdHigh`, 4 `i64 spanId`.
//!
//! Unknown fields are skipped, as Thrift readers do.

use super::thrift::{Reader, R, T_BOOL, T_DOUBLE, T_I32, T_I64, T_LIST, T_STRING, T_STRUCT};
use sightline_core::traces::AnyValue;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub process: Process,
    pub spans: Vec<JSpan>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Process {
    pub service_name: String,
    pub tags: Vec<(String, AnyValue)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JSpan {
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
    pub parent_span_id: i64,
    pub operation_name: String,
    pub references: Vec<SpanRef>,
    pub flags: i32,
    pub start_time_us: i64,
    pub duration_us: i64,
    pub tags: Vec<(String, AnyValue)>,
    pub logs: Vec<Log>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Log {
    pub timestamp_us: i64,
    pub fields: Vec<(String, AnyValue)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanRef {
    /// 0 CHILD_OF, 1 FOLLOWS_FROM.
    pub ref_type: i32,
    pub trace_id_low: i64,
    pub trace_id_high: i64,
    pub span_id: i64,
}

/// Reads a struct: calls `f(reader, type, id)` for each field, which
/// returns `false` for a field it does not read (then skipped).
fn read_struct(
    r: &mut Reader<'_>,
    what: &str,
    mut f: impl FnMut(&mut Reader<'_>, u8, i16) -> R<bool>,
) -> R<()> {
    while let Some((t, id)) = r.field(what)? {
        if !f(r, t, id)? {
            r.skip(t, what)?;
        }
    }
    Ok(())
}

fn list<T>(
    r: &mut Reader<'_>,
    t: u8,
    what: &str,
    mut f: impl FnMut(&mut Reader<'_>, &str) -> R<T>,
) -> R<Vec<T>> {
    r.expect(t, T_LIST, what)?;
    let (et, n) = r.list(what)?;
    r.expect(et, T_STRUCT, what)?;
    (0..n).map(|i| f(r, &format!("{what}[{i}]"))).collect()
}

fn typed(r: &mut Reader<'_>, t: u8, want: u8, what: &str) -> R<()> {
    r.expect(t, want, what)
}

fn tag(r: &mut Reader<'_>, what: &str) -> R<(String, AnyValue)> {
    let (mut key, mut vtype) = (String::new(), 0);
    let (mut s, mut d, mut b, mut l, mut bin) = (None, None, None, None, None);
    read_struct(r, what, |r, t, id| {
        match id {
            1 => {
                typed(r, t, T_STRING, &format!("{what}.key"))?;
                key = r.string(&format!("{what}.key"))?;
            }
            2 => {
                typed(r, t, T_I32, &format!("{what}.vType"))?;
                vtype = r.i32(&format!("{what}.vType"))?;
            }
            3 => {
                typed(r, t, T_STRING, &format!("{what}.vStr"))?;
                s = Some(r.string(&format!("{what}.vStr"))?);
            }
            4 => {
                typed(r, t, T_DOUBLE, &format!("{what}.vDouble"))?;
                d = Some(r.double(&format!("{what}.vDouble"))?);
            }
            5 => {
                typed(r, t, T_BOOL, &format!("{what}.vBool"))?;
                b = Some(r.bool(&format!("{what}.vBool"))?);
            }
            6 => {
                typed(r, t, T_I64, &format!("{what}.vLong"))?;
                l = Some(r.i64(&format!("{what}.vLong"))?);
            }
            7 => {
                typed(r, t, T_STRING, &format!("{what}.vBinary"))?;
                bin = Some(r.binary(&format!("{what}.vBinary"))?.to_vec());
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let v = match vtype {
        0 => AnyValue::Str(s.unwrap_or_default()),
        1 => AnyValue::Float(d.unwrap_or(0.0)),
        2 => AnyValue::Bool(b.unwrap_or(false)),
        3 => AnyValue::Int(l.unwrap_or(0)),
        4 => AnyValue::Bytes(bin.unwrap_or_default()),
        v => return Err(format!("{what} {key:?}: unknown vType {v}")),
    };
    Ok((key, v))
}

fn i64_field(r: &mut Reader<'_>, t: u8, what: &str) -> R<i64> {
    typed(r, t, T_I64, what)?;
    r.i64(what)
}

fn span_ref(r: &mut Reader<'_>, what: &str) -> R<SpanRef> {
    let mut s = SpanRef::default();
    read_struct(r, what, |r, t, id| {
        match id {
            1 => {
                typed(r, t, T_I32, &format!("{what}.refType"))?;
                s.ref_type = r.i32(&format!("{what}.refType"))?;
            }
            2 => s.trace_id_low = i64_field(r, t, &format!("{what}.traceIdLow"))?,
            3 => s.trace_id_high = i64_field(r, t, &format!("{what}.traceIdHigh"))?,
            4 => s.span_id = i64_field(r, t, &format!("{what}.spanId"))?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(s)
}

fn log(r: &mut Reader<'_>, what: &str) -> R<Log> {
    let mut l = Log::default();
    read_struct(r, what, |r, t, id| {
        match id {
            1 => l.timestamp_us = i64_field(r, t, &format!("{what}.timestamp"))?,
            2 => l.fields = list(r, t, &format!("{what}.fields"), tag)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(l)
}

fn span(r: &mut Reader<'_>, what: &str) -> R<JSpan> {
    let mut s = JSpan::default();
    read_struct(r, what, |r, t, id| {
        match id {
            1 => s.trace_id_low = i64_field(r, t, &format!("{what}.traceIdLow"))?,
            2 => s.trace_id_high = i64_field(r, t, &format!("{what}.traceIdHigh"))?,
            3 => s.span_id = i64_field(r, t, &format!("{what}.spanId"))?,
            4 => s.parent_span_id = i64_field(r, t, &format!("{what}.parentSpanId"))?,
            5 => {
                typed(r, t, T_STRING, &format!("{what}.operationName"))?;
                s.operation_name = r.string(&format!("{what}.operationName"))?;
            }
            6 => s.references = list(r, t, &format!("{what}.references"), span_ref)?,
            7 => {
                typed(r, t, T_I32, &format!("{what}.flags"))?;
                s.flags = r.i32(&format!("{what}.flags"))?;
            }
            8 => s.start_time_us = i64_field(r, t, &format!("{what}.startTime"))?,
            9 => s.duration_us = i64_field(r, t, &format!("{what}.duration"))?,
            10 => s.tags = list(r, t, &format!("{what}.tags"), tag)?,
            11 => s.logs = list(r, t, &format!("{what}.logs"), log)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(s)
}

fn process(r: &mut Reader<'_>, what: &str) -> R<Process> {
    let mut p = Process::default();
    read_struct(r, what, |r, t, id| {
        match id {
            1 => {
                typed(r, t, T_STRING, &format!("{what}.serviceName"))?;
                p.service_name = r.string(&format!("{what}.serviceName"))?;
            }
            2 => p.tags = list(r, t, &format!("{what}.tags"), tag)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(p)
}

/// Reads a `Batch` that fills `body`.
pub fn parse(body: &[u8]) -> R<Batch> {
    let mut r = Reader::new(body);
    let mut b = Batch::default();
    let (mut has_process, mut has_spans) = (false, false);
    read_struct(&mut r, "Batch", |r, t, id| {
        match id {
            1 => {
                typed(r, t, T_STRUCT, "Batch.process")?;
                b.process = process(r, "Batch.process")?;
                has_process = true;
            }
            2 => {
                b.spans = list(r, t, "Batch.spans", span)?;
                has_spans = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if !r.at_end() {
        return Err(format!(
            "offset {}: bytes after the end of the Batch struct",
            r.offset()
        ));
    }
    if !has_process {
        return Err("Batch.process: missing (a required field)".into());
    }
    if !has_spans {
        return Err("Batch.spans: missing (a required field)".into());
    }
    Ok(b)
}
