//! Zipkin's proto3 encoding (`zipkin.proto`, package `zipkin.proto3`): a
//! `ListOfSpans`, ids as 8 or 16 opaque bytes, times as microseconds,
//! addresses as 4 or 16 bytes. The messages are declared here with prost
//! (a dozen fields do not warrant a build step).

use super::{Endpoint, ZipkinKind, ZipkinSpan};
use prost::Message;
use sightline_core::traces::{SpanId, TraceId};
use std::net::{Ipv4Addr, Ipv6Addr};

/// `zipkin.proto3.ListOfSpans`.
#[derive(Clone, PartialEq, Message)]
pub struct ListOfSpans {
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<PSpan>,
}

/// `zipkin.proto3.Span`.
#[derive(Clone, PartialEq, Message)]
pub struct PSpan {
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub parent_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub id: Vec<u8>,
    /// 0 unspecified, 1 client, 2 server, 3 producer, 4 consumer.
    #[prost(int32, tag = "4")]
    pub kind: i32,
    #[prost(string, tag = "5")]
    pub name: String,
    #[prost(fixed64, tag = "6")]
    pub timestamp: u64,
    #[prost(uint64, tag = "7")]
    pub duration: u64,
    #[prost(message, optional, tag = "8")]
    pub local_endpoint: Option<PEndpoint>,
    #[prost(message, optional, tag = "9")]
    pub remote_endpoint: Option<PEndpoint>,
    #[prost(message, repeated, tag = "10")]
    pub annotations: Vec<PAnnotation>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub tags: std::collections::BTreeMap<String, String>,
    #[prost(bool, tag = "12")]
    pub debug: bool,
    #[prost(bool, tag = "13")]
    pub shared: bool,
}

/// `zipkin.proto3.Endpoint`.
#[derive(Clone, PartialEq, Message)]
pub struct PEndpoint {
    #[prost(string, tag = "1")]
    pub service_name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub ipv4: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub ipv6: Vec<u8>,
    #[prost(int32, tag = "4")]
    pub port: i32,
}

/// `zipkin.proto3.Annotation`.
#[derive(Clone, PartialEq, Message)]
pub struct PAnnotation {
    #[prost(fixed64, tag = "1")]
    pub timestamp: u64,
    #[prost(string, tag = "2")]
    pub value: String,
}

fn endpoint(e: Option<PEndpoint>, path: &str) -> Result<Option<Endpoint>, String> {
    let Some(e) = e else { return Ok(None) };
    let ipv4 = match e.ipv4.len() {
        0 => String::new(),
        4 => Ipv4Addr::new(e.ipv4[0], e.ipv4[1], e.ipv4[2], e.ipv4[3]).to_string(),
        n => return Err(format!("{path}.ipv4: {n} bytes, want 4")),
    };
    let ipv6 = match e.ipv6.len() {
        0 => String::new(),
        16 => {
            let b: [u8; 16] = e.ipv6[..].try_into().expect("16 bytes");
            Ipv6Addr::from(b).to_string()
        }
        n => return Err(format!("{path}.ipv6: {n} bytes, want 16")),
    };
    let port = u16::try_from(e.port)
        .map_err(|_| format!("{path}.port: {} is not a port number", e.port))?;
    Ok(Some(Endpoint {
        service_name: e.service_name,
        ipv4,
        ipv6,
        port,
    }))
}

/// Parses a `ListOfSpans`.
pub fn parse(body: &[u8]) -> Result<Vec<ZipkinSpan>, String> {
    let list = ListOfSpans::decode(body)
        .map_err(|e| format!("decoding zipkin.proto3.ListOfSpans protobuf: {e}"))?;
    let mut out = Vec::with_capacity(list.spans.len());
    for (i, s) in list.spans.into_iter().enumerate() {
        let path = format!("spans[{i}]");
        if s.trace_id.len() != 8 && s.trace_id.len() != 16 {
            return Err(format!(
                "{path}.trace_id: {} bytes, want 8 or 16",
                s.trace_id.len()
            ));
        }
        let trace_id =
            TraceId::from_slice(&s.trace_id).map_err(|e| format!("{path}.trace_id: {e}"))?;
        if trace_id.is_zero() {
            return Err(format!("{path}.trace_id: all zeros, which is invalid"));
        }
        let id = SpanId::from_slice(&s.id).map_err(|e| format!("{path}.id: {e}"))?;
        if id.is_zero() {
            return Err(format!("{path}.id: all zeros, which is invalid"));
        }
        let parent_id = if s.parent_id.is_empty() {
            None
        } else {
            Some(SpanId::from_slice(&s.parent_id).map_err(|e| format!("{path}.parent_id: {e}"))?)
                .filter(|p| !p.is_zero())
        };
        let kind = match s.kind {
            0 => None,
            1 => Some(ZipkinKind::Client),
            2 => Some(ZipkinKind::Server),
            3 => Some(ZipkinKind::Producer),
            4 => Some(ZipkinKind::Consumer),
            k => return Err(format!("{path}.kind: unknown kind {k}")),
        };
        out.push(ZipkinSpan {
            trace_id,
            id,
            parent_id,
            name: s.name,
            kind,
            timestamp_us: s.timestamp,
            duration_us: s.duration,
            local_endpoint: endpoint(s.local_endpoint, &format!("{path}.local_endpoint"))?,
            remote_endpoint: endpoint(s.remote_endpoint, &format!("{path}.remote_endpoint"))?,
            annotations: s
                .annotations
                .into_iter()
                .map(|a| (a.timestamp, a.value))
                .collect(),
            tags: s.tags.into_iter().collect(),
            debug: s.debug,
            shared: s.shared,
        });
    }
    Ok(out)
}
