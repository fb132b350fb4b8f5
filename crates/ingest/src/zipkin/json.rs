//! Zipkin v2 JSON: an array of span objects (zipkin2-api.yaml). Ids are
//! lowercase hex (16 or 32 digits for trace ids, 16 for span ids; upper
//! case is accepted), times are microseconds as JSON numbers, tags are
//! strings. Unknown keys are ignored. Errors name the span and field
//! (`[3].traceId: ...`).

use super::{Endpoint, ZipkinKind, ZipkinSpan};
use serde_json::{Map, Value};
use sightline_core::traces::{SpanId, TraceId};

type R<T> = Result<T, String>;

/// Parses a JSON array of Zipkin v2 spans.
pub fn parse(body: &[u8]) -> R<Vec<ZipkinSpan>> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let a = v
        .as_array()
        .ok_or_else(|| format!("expected a JSON array of spans, got {}", kind(&v)))?;
    a.iter()
        .enumerate()
        .map(|(i, s)| span(s, &format!("[{i}]")))
        .collect()
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

fn get<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn string(o: &Map<String, Value>, key: &str, path: &str) -> R<Option<String>> {
    match get(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!("{path}.{key}: expected a string, got {}", kind(v))),
    }
}

fn micros(o: &Map<String, Value>, key: &str, path: &str) -> R<u64> {
    match get(o, key) {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| {
                format!("{path}.{key}: expected a non-negative integer of microseconds, got {n}")
            }),
        Some(v) => Err(format!(
            "{path}.{key}: expected a number of microseconds, got {}",
            kind(v)
        )),
    }
}

fn boolean(o: &Map<String, Value>, key: &str, path: &str) -> R<bool> {
    match get(o, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(format!("{path}.{key}: expected a boolean, got {}", kind(v))),
    }
}

fn trace_id(s: &str, path: &str) -> R<TraceId> {
    if s.len() != 16 && s.len() != 32 {
        return Err(format!(
            "{path}.traceId: {s:?} is {} hex digits, want 16 or 32",
            s.len()
        ));
    }
    let t = TraceId::parse_hex(s).map_err(|e| format!("{path}.traceId: {e}"))?;
    if t.is_zero() {
        return Err(format!("{path}.traceId: all zeros, which is invalid"));
    }
    Ok(t)
}

fn span_id(s: &str, path: &str, key: &str) -> R<SpanId> {
    if s.len() != 16 {
        return Err(format!(
            "{path}.{key}: {s:?} is {} hex digits, want 16",
            s.len()
        ));
    }
    SpanId::parse_hex(s).map_err(|e| format!("{path}.{key}: {e}"))
}

fn endpoint(o: &Map<String, Value>, key: &str, path: &str) -> R<Option<Endpoint>> {
    let Some(v) = get(o, key) else {
        return Ok(None);
    };
    let p = format!("{path}.{key}");
    let e = v
        .as_object()
        .ok_or_else(|| format!("{p}: expected an object, got {}", kind(v)))?;
    let port = match get(e, "port") {
        None => 0,
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .ok_or_else(|| format!("{p}.port: {n} is not a port number"))?,
        Some(v) => return Err(format!("{p}.port: expected a number, got {}", kind(v))),
    };
    Ok(Some(Endpoint {
        service_name: string(e, "serviceName", &p)?.unwrap_or_default(),
        ipv4: string(e, "ipv4", &p)?.unwrap_or_default(),
        ipv6: string(e, "ipv6", &p)?.unwrap_or_default(),
        port,
    }))
}

fn span(v: &Value, path: &str) -> R<ZipkinSpan> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{path}: expected a span object, got {}", kind(v)))?;
    let tid = string(o, "traceId", path)?.ok_or_else(|| format!("{path}.traceId: missing"))?;
    let id = string(o, "id", path)?.ok_or_else(|| format!("{path}.id: missing"))?;
    let parent_id = match string(o, "parentId", path)? {
        None => None,
        Some(p) if p.is_empty() => None,
        Some(p) => Some(span_id(&p, path, "parentId")?).filter(|p| !p.is_zero()),
    };
    let kind_v = match string(o, "kind", path)?.as_deref() {
        None | Some("") => None,
        Some("CLIENT") => Some(ZipkinKind::Client),
        Some("SERVER") => Some(ZipkinKind::Server),
        Some("PRODUCER") => Some(ZipkinKind::Producer),
        Some("CONSUMER") => Some(ZipkinKind::Consumer),
        Some(k) => {
            return Err(format!(
                "{path}.kind: {k:?} is not CLIENT, SERVER, PRODUCER or CONSUMER"
            ))
        }
    };
    let mut annotations = Vec::new();
    if let Some(a) = get(o, "annotations") {
        let a = a
            .as_array()
            .ok_or_else(|| format!("{path}.annotations: expected an array, got {}", kind(a)))?;
        for (i, e) in a.iter().enumerate() {
            let p = format!("{path}.annotations[{i}]");
            let eo = e
                .as_object()
                .ok_or_else(|| format!("{p}: expected an object, got {}", kind(e)))?;
            annotations.push((
                micros(eo, "timestamp", &p)?,
                string(eo, "value", &p)?.unwrap_or_default(),
            ));
        }
    }
    let mut tags = Vec::new();
    if let Some(t) = get(o, "tags") {
        let t = t
            .as_object()
            .ok_or_else(|| format!("{path}.tags: expected an object, got {}", kind(t)))?;
        for (k, v) in t {
            match v {
                Value::String(s) => tags.push((k.clone(), s.clone())),
                // Zipkin's own parser takes these as text too.
                Value::Number(n) => tags.push((k.clone(), n.to_string())),
                Value::Bool(b) => tags.push((k.clone(), b.to_string())),
                v => {
                    return Err(format!(
                        "{path}.tags.{k}: expected a string, got {}",
                        kind(v)
                    ))
                }
            }
        }
    }
    let id = span_id(&id, path, "id")?;
    if id.is_zero() {
        return Err(format!("{path}.id: all zeros, which is invalid"));
    }
    Ok(ZipkinSpan {
        trace_id: trace_id(&tid, path)?,
        id,
        parent_id,
        name: string(o, "name", path)?.unwrap_or_default(),
        kind: kind_v,
        timestamp_us: micros(o, "timestamp", path)?,
        duration_us: micros(o, "duration", path)?,
        local_endpoint: endpoint(o, "localEndpoint", path)?,
        remote_endpoint: endpoint(o, "remoteEndpoint", path)?,
        annotations,
        tags,
        debug: boolean(o, "debug", path)?,
        shared: boolean(o, "shared", path)?,
    })
}
