//! Export of the events a [`ScanRequest`] selects, for users who still want
//! Spark or Superset: NDJSON whose lines read like the Segment messages
//! that were sent, or Parquet (the `parquet` crate's arrow-free writer).
//!
//! Events come out day by day, oldest first; within a day, block by block
//! (each in time order) and then the head's events in time order.

use crate::block::Block;
use crate::head::sorted;
use crate::model::{Event, ScanRequest};
use crate::scan::Plan;
use crate::store::EventStore;
use crate::{Error, Result};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::{Map, Value};
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

/// What [`EventStore::export`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One Segment-shaped JSON message per line.
    Ndjson,
    /// A Parquet file (schema in `docs/events-store.md`).
    Parquet,
}

/// The Parquet schema of an export.
pub const PARQUET_SCHEMA: &str = "message event {
  REQUIRED INT64 timestamp (TIMESTAMP(MILLIS,true));
  REQUIRED INT64 received_at (TIMESTAMP(MILLIS,true));
  REQUIRED BYTE_ARRAY type (STRING);
  REQUIRED BYTE_ARRAY event (STRING);
  OPTIONAL BYTE_ARRAY user_id (STRING);
  OPTIONAL BYTE_ARRAY anonymous_id (STRING);
  REQUIRED BYTE_ARRAY message_id (STRING);
  REQUIRED BYTE_ARRAY source (STRING);
  OPTIONAL BYTE_ARRAY group_id (STRING);
  OPTIONAL BYTE_ARRAY previous_id (STRING);
  OPTIONAL BYTE_ARRAY properties (JSON);
  OPTIONAL BYTE_ARRAY traits (JSON);
  OPTIONAL BYTE_ARRAY context (JSON);
}";

/// Rows per Parquet row group.
const PARQUET_ROWS: usize = 65536;

fn rfc3339(ms: i64) -> String {
    sightline_core::time::from_ms(ms)
        .map(|t| sightline_core::time::rfc3339_millis(&t))
        .unwrap_or_else(|| ms.to_string())
}

/// An event as the Segment message it came from: `type`, `event` (track)
/// or `name` (page, screen), ids, RFC 3339 `timestamp` and `receivedAt`,
/// the documents, and Sightline's `source`.
pub fn segment_message(e: &Event) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), e.kind.as_str().into());
    match e.kind {
        crate::model::EventKind::Track => {
            m.insert("event".into(), e.name.clone().into());
        }
        crate::model::EventKind::Page | crate::model::EventKind::Screen if !e.name.is_empty() => {
            m.insert("name".into(), e.name.clone().into());
        }
        _ => {}
    }
    let opt = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), v.clone().into());
        }
    };
    opt(&mut m, "userId", &e.user_id);
    opt(&mut m, "anonymousId", &e.anonymous_id);
    opt(&mut m, "groupId", &e.group_id);
    opt(&mut m, "previousId", &e.previous_id);
    m.insert("messageId".into(), e.message_id.clone().into());
    m.insert("timestamp".into(), rfc3339(e.timestamp_ms).into());
    m.insert("receivedAt".into(), rfc3339(e.received_at_ms).into());
    for (k, d) in [
        ("properties", &e.properties),
        ("traits", &e.traits),
        ("context", &e.context),
    ] {
        if !d.is_empty() {
            m.insert(k.into(), Value::Object(d.clone()));
        }
    }
    m.insert("source".into(), e.source.clone().into());
    Value::Object(m)
}

/// A `Send` sink the Parquet writer owns; what it collects is moved to the
/// caller's writer after each row group, so an export streams.
#[derive(Clone, Default)]
struct Spool(Arc<Mutex<Vec<u8>>>);

impl Write for Spool {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Spool {
    fn drain_to(&self, out: &mut dyn Write) -> Result<()> {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(&v)
            .map_err(|e| Error::io("write", "the export", e))?;
        v.clear();
        Ok(())
    }
}

fn pq(e: parquet::errors::ParquetError) -> Error {
    Error::io("write parquet", "the export", std::io::Error::other(e))
}

struct ParquetOut {
    w: SerializedFileWriter<Spool>,
    spool: Spool,
    rows: Vec<Event>,
}

impl ParquetOut {
    fn new() -> Result<ParquetOut> {
        let schema = Arc::new(parse_message_type(PARQUET_SCHEMA).map_err(pq)?);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(Default::default()))
            .build();
        let spool = Spool::default();
        let w = SerializedFileWriter::new(spool.clone(), schema, Arc::new(props)).map_err(pq)?;
        Ok(ParquetOut {
            w,
            spool,
            rows: Vec::new(),
        })
    }

    fn flush(&mut self, out: &mut dyn Write) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let mut rg = self.w.next_row_group().map_err(pq)?;
        let mut i = 0;
        while let Some(mut col) = rg.next_column().map_err(pq)? {
            if i < 2 {
                let v: Vec<i64> = rows
                    .iter()
                    .map(|e| {
                        if i == 0 {
                            e.timestamp_ms
                        } else {
                            e.received_at_ms
                        }
                    })
                    .collect();
                col.typed::<Int64Type>()
                    .write_batch(&v, None, None)
                    .map_err(pq)?;
            } else {
                let text = |e: &Event| -> Option<String> {
                    let doc = |d: &Map<String, Value>| {
                        (!d.is_empty()).then(|| Value::Object(d.clone()).to_string())
                    };
                    match i {
                        2 => Some(e.kind.as_str().to_owned()),
                        3 => Some(e.name.clone()),
                        4 => e.user_id.clone(),
                        5 => e.anonymous_id.clone(),
                        6 => Some(e.message_id.clone()),
                        7 => Some(e.source.clone()),
                        8 => e.group_id.clone(),
                        9 => e.previous_id.clone(),
                        10 => doc(&e.properties),
                        11 => doc(&e.traits),
                        _ => doc(&e.context),
                    }
                };
                let vals: Vec<Option<String>> = rows.iter().map(text).collect();
                let present: Vec<ByteArray> = vals
                    .iter()
                    .flatten()
                    .map(|s| ByteArray::from(s.as_str()))
                    .collect();
                let required = matches!(i, 2 | 3 | 6 | 7);
                let defs: Vec<i16> = vals.iter().map(|v| i16::from(v.is_some())).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&present, (!required).then_some(&defs[..]), None)
                    .map_err(pq)?;
            }
            col.close().map_err(pq)?;
            i += 1;
        }
        rg.close().map_err(pq)?;
        self.spool.drain_to(out)
    }
}

impl EventStore {
    /// Writes the events `req` selects (its `columns` are ignored: whole
    /// events go out) to `out` as `format`; returns how many.
    pub fn export(
        &self,
        req: &ScanRequest,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let plan = Plan::new(req)?;
        let mut parquet_out = match format {
            ExportFormat::Parquet => Some(ParquetOut::new()?),
            ExportFormat::Ndjson => None,
        };
        let mut n = 0u64;
        let mut line = Vec::new();
        let mut emit = |e: Event, out: &mut dyn Write| -> Result<()> {
            n += 1;
            match parquet_out.as_mut() {
                Some(p) => {
                    p.rows.push(e);
                    if p.rows.len() >= PARQUET_ROWS {
                        p.flush(out)?;
                    }
                }
                None => {
                    line.clear();
                    serde_json::to_writer(&mut line, &segment_message(&e))
                        .map_err(|e| Error::io("encode", "the export", e.into()))?;
                    line.push(b'\n');
                    out.write_all(&line)
                        .map_err(|e| Error::io("write", "the export", e))?;
                }
            }
            Ok(())
        };
        let (head, blocks) = self.snapshot();
        let mut days: Vec<i64> = blocks.iter().map(|b| b.meta.day).collect();
        days.extend(head.keys());
        days.sort_unstable();
        days.dedup();
        for day in days {
            for b in blocks.iter().filter(|b| b.meta.day == day) {
                for e in block_events(b, &plan)? {
                    emit(e, out)?;
                }
            }
            if let Some(runs) = head.get(&day) {
                for e in sorted(runs) {
                    if plan.matches(e) {
                        emit(e.clone(), out)?;
                    }
                }
            }
        }
        if let Some(mut p) = parquet_out {
            p.flush(out)?;
            p.w.close().map_err(pq)?;
            p.spool.drain_to(out)?;
        }
        self.inner.counters.events_exported.fetch_add(n, Relaxed);
        Ok(n)
    }
}

impl EventStore {
    /// The newest events `req` selects, newest first, at most `limit`:
    /// the event list of the UI. Reads day by day from the newest, so a
    /// page of the last events touches the last day or two.
    pub fn recent(&self, req: &ScanRequest, limit: usize) -> Result<Vec<Event>> {
        let plan = Plan::new(req)?;
        let (head, blocks) = self.snapshot();
        let mut days: Vec<i64> = blocks.iter().map(|b| b.meta.day).collect();
        days.extend(head.keys());
        days.sort_unstable();
        days.dedup();
        let mut out = Vec::new();
        for day in days.into_iter().rev() {
            if out.len() >= limit {
                break;
            }
            let mut of_day: Vec<Event> = Vec::new();
            for b in blocks.iter().filter(|b| b.meta.day == day) {
                of_day.extend(block_events(b, &plan)?);
            }
            if let Some(runs) = head.get(&day) {
                of_day.extend(
                    sorted(runs)
                        .into_iter()
                        .filter(|e| plan.matches(e))
                        .cloned(),
                );
            }
            // Newest first; events of the same millisecond by message id,
            // so pages are stable.
            of_day.sort_by(|a, b| {
                (b.timestamp_ms, &b.message_id).cmp(&(a.timestamp_ms, &a.message_id))
            });
            of_day.truncate(limit - out.len());
            out.extend(of_day);
        }
        Ok(out)
    }
}

/// The events of `b` that `plan` selects, skipping row groups by time and
/// name as the scan does.
fn block_events(b: &Block, plan: &Plan) -> Result<Vec<Event>> {
    let r = plan.req;
    if b.meta.max_ts_ms < r.start_ms || b.meta.min_ts_ms >= r.end_ms {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (g, rg) in b.groups.iter().enumerate() {
        if rg.max_ts < r.start_ms || rg.min_ts >= r.end_ms {
            continue;
        }
        if !r.names.is_empty()
            && !rg
                .names
                .iter()
                .any(|&c| r.names.contains(&b.meta.names[c as usize]))
        {
            continue;
        }
        out.extend(b.read_events(g)?.into_iter().filter(|e| plan.matches(e)));
    }
    Ok(out)
}
