//! Wire formats: remote_write 1 and 2, Loki push, OTLP, Zipkin, Jaeger.
//!
//! Most bodies arrive compressed; a target compresses the fuzzer's bytes
//! itself (so mutations reach the protobuf or JSON decoder instead of
//! dying in snappy) unless the selector byte asks to pass them as they are.

use crate::selector;
use sightline_core::logs::MemLogStore;
use sightline_core::MemStore;
use sightline_ingest::otlp::http::Format;

fn snappy(data: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(data)
        .unwrap_or_default()
}

/// remote_write: selector bit 0 picks 2.0 (`io.prometheus.write.v2.Request`)
/// over 1.0, bit 1 sends the bytes uncompressed by us (raw snappy input).
/// Decoded writes are appended to a memory store through the receiver's
/// own path (labels, histograms, exemplars, metadata).
pub fn remote_write(data: &[u8]) {
    let (sel, rest) = selector(data);
    let ct = if sel & 1 == 1 {
        "application/x-protobuf;proto=io.prometheus.write.v2.Request"
    } else {
        "application/x-protobuf"
    };
    let body = if sel & 2 == 2 {
        rest.to_vec()
    } else {
        snappy(rest)
    };
    let Ok(req) = sightline_ingest::remote_write::decode(&body, Some(ct), Some("snappy")) else {
        return;
    };
    let store = MemStore::new();
    let _ = sightline_ingest::remote_write::write(&req, &store);
}

/// Loki push: selector bit 0 picks protobuf+snappy over JSON, bit 1 sends
/// protobuf bytes as they are (raw snappy input). Valid lines go to a
/// memory store through validation.
pub fn loki_push(data: &[u8]) {
    let (sel, rest) = selector(data);
    let (ct, enc, body) = if sel & 1 == 1 {
        let body = if sel & 2 == 2 {
            rest.to_vec()
        } else {
            snappy(rest)
        };
        ("application/x-protobuf", None, body)
    } else {
        ("application/json", None, rest.to_vec())
    };
    let store = MemLogStore::new();
    let limits = sightline_ingest::loki::PushLimits::default();
    let out = sightline_ingest::loki::push_body(
        &body,
        Some(ct),
        enc,
        "fuzz",
        &limits,
        1_700_000_000_000_000_000,
        &store,
    );
    assert!(
        matches!(out.status, 204 | 400 | 413 | 415 | 429),
        "unexpected status {} ({})",
        out.status,
        out.message
    );
}

fn otlp_format(sel: u8) -> Format {
    if sel & 1 == 1 {
        Format::Json
    } else {
        Format::Protobuf
    }
}

/// OTLP/HTTP metrics (selector bit 0: JSON, else protobuf), translated and
/// written to a memory store as the receiver does.
pub fn otlp_metrics(data: &[u8]) {
    let (sel, rest) = selector(data);
    let body = prost_bytes(rest);
    let Ok(req) = sightline_ingest::otlp::http::decode(body, otlp_format(sel), None) else {
        return;
    };
    let receiver = sightline_ingest::otlp::Receiver::new(
        sightline_ingest::otlp::OtlpConfig::default(),
        300_000,
    );
    let store = MemStore::new();
    let _ = receiver.write_request(&req, &store);
}

fn prost_bytes(data: &[u8]) -> bytes::Bytes {
    bytes::Bytes::copy_from_slice(data)
}

/// OTLP/HTTP logs (selector bit 0: JSON, else protobuf), turned into Loki
/// streams.
pub fn otlp_logs(data: &[u8]) {
    let (sel, rest) = selector(data);
    let Ok(req) = sightline_ingest::otlp::logs::decode(rest, otlp_format(sel), None) else {
        return;
    };
    let _ = sightline_ingest::otlp::logs::to_streams(&req, 1_700_000_000_000_000_000);
}

/// OTLP/HTTP traces (selector bit 0: JSON, else protobuf), converted to
/// spans: every kept span has a trace id and span id.
pub fn otlp_traces(data: &[u8]) {
    let (sel, rest) = selector(data);
    let Ok(req) = sightline_ingest::otlp::traces::decode(rest, otlp_format(sel), None) else {
        return;
    };
    let _ = sightline_ingest::otlp::traces::to_spans(req);
}

/// Zipkin v2 spans: selector bit 0 picks protobuf (`ListOfSpans`) over
/// JSON (v2, and v1 where the JSON decoder takes it).
pub fn zipkin(data: &[u8]) {
    use sightline_ingest::zipkin::ZipkinFormat;
    let (sel, rest) = selector(data);
    let format = if sel & 1 == 1 {
        ZipkinFormat::Protobuf
    } else {
        ZipkinFormat::Json
    };
    let _ = sightline_ingest::zipkin::decode(rest, format, None);
}

/// Jaeger's thrift batches (`/api/traces`).
pub fn jaeger(data: &[u8]) {
    let _ = sightline_ingest::jaeger::decode(data, None);
}
