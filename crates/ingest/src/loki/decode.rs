//! Push bodies to streams, as Loki's `push.ParseRequest` reads them.
//!
//! - `Content-Encoding`: none, `gzip` or `deflate` (zlib, as Go's
//!   `compress/flate` reader behind Loki's `deflate` accepts raw deflate;
//!   we accept both); anything else is 415.
//! - `Content-Type: application/json`: JSON; any other type is the
//!   protobuf `PushRequest`, snappy block-compressed, as Loki treats it.
//! - JSON streams carry labels as an object (`"stream": {"a": "b"}`, v1) or
//!   as selector text (`"labels": "{a=\"b\"}"`, legacy); lines as `values`
//!   (`["<unix ns>", "line", {"meta": "x"}]`) or `entries`
//!   (`{"ts": "<RFC 3339>", "line": "..."}`).
//!
//! Every error names where in the body it is (`streams[1].values[0][0]`).

use crate::{Error, Result};
use serde_json::{Map, Value};
use sightline_core::logs::LogEntry;
use sightline_proto::loki::PushRequest;
use std::io::Read;

/// The largest body accepted after decompression (Loki's default
/// `max_decompressed_size` is 5000 MB; we keep every push in memory, so
/// less).
pub const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// A stream's labels as the body gave them, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLabels {
    /// Selector text (`{app="api"}`): protobuf and legacy JSON.
    Text(String),
    /// Name/value pairs in body order: v1 JSON's `stream` object.
    Pairs(Vec<(String, String)>),
}

/// One stream of a push, decoded but not validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RawStream {
    pub labels: StreamLabels,
    pub entries: Vec<LogEntry>,
}

/// Decodes a push body.
pub fn decode_body(
    body: &[u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
) -> Result<Vec<RawStream>> {
    let inflated;
    let body = match content_encoding.map(str::trim).filter(|s| !s.is_empty()) {
        None => body,
        Some(e) if e.eq_ignore_ascii_case("identity") => body,
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            inflated = read_limited(flate2::read::MultiGzDecoder::new(body), "gzip")?;
            &inflated[..]
        }
        Some(e) if e.eq_ignore_ascii_case("deflate") => {
            // HTTP's "deflate" is zlib-wrapped (RFC 9110), but some clients
            // send raw deflate; the zlib header tells them apart.
            inflated =
                if body.len() >= 2 && (u16::from(body[0]) << 8 | u16::from(body[1])) % 31 == 0 {
                    read_limited(flate2::read::ZlibDecoder::new(body), "deflate")?
                } else {
                    read_limited(flate2::read::DeflateDecoder::new(body), "deflate")?
                };
            &inflated[..]
        }
        Some(e) => {
            return Err(Error::UnsupportedMediaType(format!(
                "Content-Encoding {e:?} not supported"
            )))
        }
    };
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .unwrap_or("");
    if media.eq_ignore_ascii_case("application/json") {
        decode_json(body)
    } else {
        decode_protobuf(body)
    }
}

fn read_limited(r: impl Read, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(MAX_DECOMPRESSED_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::LokiPush(format!("decompressing {what} body: {e}")))?;
    if out.len() > MAX_DECOMPRESSED_BYTES {
        return Err(Error::LokiPush(format!(
            "request body too large: more than {MAX_DECOMPRESSED_BYTES} bytes decompressed"
        )));
    }
    Ok(out)
}

/// A snappy-compressed (block format) `logproto.PushRequest`.
pub fn decode_protobuf(body: &[u8]) -> Result<Vec<RawStream>> {
    let len = snap::raw::decompress_len(body)
        .map_err(|e| Error::LokiPush(format!("decompressing snappy body: {e}")))?;
    if len > MAX_DECOMPRESSED_BYTES {
        return Err(Error::LokiPush(format!(
            "request body too large: {len} bytes decompressed, limit: {MAX_DECOMPRESSED_BYTES} bytes"
        )));
    }
    crate::remote_write::check_snappy_ratio(body.len(), len)
        .map_err(|e| Error::LokiPush(format!("decompressing snappy body: {e}")))?;
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| Error::LokiPush(format!("decompressing snappy body: {e}")))?;
    let req = <PushRequest as prost::Message>::decode(&raw[..])
        .map_err(|e| Error::LokiPush(format!("decoding logproto.PushRequest protobuf: {e}")))?;
    Ok(req
        .streams
        .into_iter()
        .map(|s| RawStream {
            labels: StreamLabels::Text(s.labels),
            entries: s
                .entries
                .into_iter()
                .map(|e| LogEntry {
                    ts_ns: e
                        .timestamp
                        .map(|t| {
                            t.seconds
                                .saturating_mul(1_000_000_000)
                                .saturating_add(i64::from(t.nanos))
                        })
                        .unwrap_or(0),
                    line: e.line,
                    metadata: e
                        .structured_metadata
                        .into_iter()
                        .map(|p| (p.name, p.value))
                        .collect(),
                })
                .collect(),
        })
        .collect())
}

type R<T> = Result<T, String>;

/// A JSON push body (v1 `values` or legacy `entries`).
pub fn decode_json(body: &[u8]) -> Result<Vec<RawStream>> {
    json_streams(body).map_err(Error::LokiPush)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object<'v>(v: &'v Value, path: &str) -> R<&'v Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{path}: expected an object, got {}", kind(v)))
}

fn array<'v>(v: &'v Value, path: &str) -> R<&'v Vec<Value>> {
    v.as_array()
        .ok_or_else(|| format!("{path}: expected an array, got {}", kind(v)))
}

fn string<'v>(v: &'v Value, path: &str) -> R<&'v str> {
    v.as_str()
        .ok_or_else(|| format!("{path}: expected a string, got {}", kind(v)))
}

fn json_streams(body: &[u8]) -> R<Vec<RawStream>> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let o = object(&v, "request")?;
    let Some(streams) = o.get("streams").filter(|s| !s.is_null()) else {
        return Ok(Vec::new());
    };
    array(streams, "streams")?
        .iter()
        .enumerate()
        .map(|(i, s)| json_stream(s, &format!("streams[{i}]")))
        .collect()
}

fn json_stream(v: &Value, path: &str) -> R<RawStream> {
    let o = object(v, path)?;
    let labels = if let Some(s) = o.get("stream").filter(|s| !s.is_null()) {
        let p = format!("{path}.stream");
        StreamLabels::Pairs(
            object(s, &p)?
                .iter()
                .map(|(k, v)| Ok((k.clone(), string(v, &format!("{p}.{k}"))?.to_owned())))
                .collect::<R<_>>()?,
        )
    } else if let Some(s) = o.get("labels").filter(|s| !s.is_null()) {
        StreamLabels::Text(string(s, &format!("{path}.labels"))?.to_owned())
    } else {
        StreamLabels::Pairs(Vec::new())
    };
    let mut entries = Vec::new();
    if let Some(vals) = o.get("values").filter(|s| !s.is_null()) {
        let p = format!("{path}.values");
        for (j, e) in array(vals, &p)?.iter().enumerate() {
            entries.push(json_value(e, &format!("{p}[{j}]"))?);
        }
    }
    if let Some(ents) = o.get("entries").filter(|s| !s.is_null()) {
        let p = format!("{path}.entries");
        for (j, e) in array(ents, &p)?.iter().enumerate() {
            entries.push(json_entry(e, &format!("{p}[{j}]"))?);
        }
    }
    Ok(RawStream { labels, entries })
}

/// `["<unix ns>", "line"]` or `["<unix ns>", "line", {"name": "value"}]`.
fn json_value(v: &Value, path: &str) -> R<LogEntry> {
    let a = array(v, path)?;
    if a.len() < 2 || a.len() > 3 {
        return Err(format!(
            "{path}: expected [timestamp, line] or [timestamp, line, structured metadata], got {} elements",
            a.len()
        ));
    }
    let ts_ns = unix_ns(&a[0], &format!("{path}[0]"))?;
    let line = string(&a[1], &format!("{path}[1]"))?.to_owned();
    let mut metadata = Vec::new();
    if let Some(m) = a.get(2).filter(|m| !m.is_null()) {
        let p = format!("{path}[2]");
        for (k, v) in object(m, &p)? {
            metadata.push((k.clone(), string(v, &format!("{p}.{k}"))?.to_owned()));
        }
    }
    Ok(LogEntry {
        ts_ns,
        line,
        metadata,
    })
}

fn unix_ns(v: &Value, path: &str) -> R<i64> {
    let parsed = match v {
        Value::String(s) => s.parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        format!(
            "{path}: expected a timestamp in nanoseconds since the epoch (a string of digits), got {v}"
        )
    })
}

/// Legacy `{"ts": "2006-01-02T15:04:05.999999999Z", "line": "..."}`.
fn json_entry(v: &Value, path: &str) -> R<LogEntry> {
    let o = object(v, path)?;
    let ts = o
        .get("ts")
        .or_else(|| o.get("timestamp"))
        .ok_or_else(|| format!("{path}: missing \"ts\""))?;
    let ts_path = format!("{path}.ts");
    let t = sightline_core::time::parse_rfc3339(string(ts, &ts_path)?)
        .map_err(|e| format!("{ts_path}: {e}"))?;
    let ts_ns = t
        .timestamp_nanos_opt()
        .ok_or_else(|| format!("{ts_path}: time out of range"))?;
    let line = match o.get("line") {
        Some(l) => string(l, &format!("{path}.line"))?.to_owned(),
        None => String::new(),
    };
    Ok(LogEntry {
        ts_ns,
        line,
        metadata: Vec::new(),
    })
}
