//! OTLP/HTTP bodies, without HTTP: what the API crate hands over (body,
//! `Content-Type`, `Content-Encoding`) decoded into a request, and the
//! answers encoded as the OTLP specification says.
//!
//! - `application/x-protobuf` and `application/json` bodies (parameters
//!   such as `charset` ignored); anything else is 415.
//! - `Content-Encoding: gzip` (or `identity`/none); any other encoding is
//!   415. A decompressed body larger than [`MAX_DECOMPRESSED_BYTES`] is 400.
//! - Success is 200 with an `ExportMetricsServiceResponse` in the request's
//!   format, carrying `partial_success` when points were refused.
//! - Failures carry a `google.rpc.Status` in the request's format (JSON
//!   when the format is unknown).

use super::wire::Request;
use crate::{Error, Result};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceResponse,
};
use prost::bytes::Bytes;
use prost::Message;
use std::io::Read;

/// The largest body accepted after decompression.
pub const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// The body's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

impl Format {
    /// The media type to answer with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json => "application/json",
        }
    }

    /// The format named by a `Content-Type` header.
    pub fn from_content_type(ct: Option<&str>) -> Result<Format> {
        let media = ct
            .and_then(|c| c.split(';').next())
            .map(str::trim)
            .unwrap_or("");
        if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
        {
            Ok(Format::Protobuf)
        } else if media.eq_ignore_ascii_case("application/json") {
            Ok(Format::Json)
        } else {
            Err(Error::UnsupportedMediaType(format!(
                "unsupported Content-Type {:?}: OTLP/HTTP bodies are \"application/x-protobuf\" or \"application/json\"",
                ct.unwrap_or("")
            )))
        }
    }
}

/// Decodes an OTLP/HTTP metrics body. Errors: [`Error::UnsupportedMediaType`]
/// (415) for another media type or encoding, [`Error::Otlp`] (400) for a
/// body that does not decompress or decode. The attributes of gauge and
/// sum points are decoded later, when needed (see [`super::wire`]); the
/// receiver reports those that do not decode as
/// [`super::Outcome::decode_error`], for [`protobuf_error`].
pub fn decode(body: Bytes, format: Format, content_encoding: Option<&str>) -> Result<Request> {
    let body = match content_encoding.map(str::trim).filter(|s| !s.is_empty()) {
        None => body,
        Some(e) if e.eq_ignore_ascii_case("identity") => body,
        Some(e) if e.eq_ignore_ascii_case("gzip") => Bytes::from(gunzip(&body)?),
        Some(e) => {
            return Err(Error::UnsupportedMediaType(format!(
                "unsupported Content-Encoding {e:?}: OTLP/HTTP bodies are gzip-compressed or not compressed"
            )))
        }
    };
    match format {
        Format::Protobuf => Request::decode(body).map_err(|e| protobuf_error(&e)),
        Format::Json => super::json::parse_request(&body)
            .map(Request::from)
            .map_err(|e| Error::Otlp(format!("decoding OTLP/JSON metrics request: {e}"))),
    }
}

/// The 400 error for a protobuf body that does not decode.
pub fn protobuf_error(e: &prost::DecodeError) -> Error {
    Error::Otlp(format!(
        "decoding opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest protobuf: {e}"
    ))
}

pub(crate) fn gunzip(body: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() * 4);
    let mut d = flate2::read::MultiGzDecoder::new(body).take(MAX_DECOMPRESSED_BYTES as u64 + 1);
    d.read_to_end(&mut out)
        .map_err(|e| Error::Otlp(format!("decompressing gzip body: {e}")))?;
    if out.len() > MAX_DECOMPRESSED_BYTES {
        return Err(Error::Otlp(format!(
            "gzip body decompresses to more than the {MAX_DECOMPRESSED_BYTES} bytes accepted"
        )));
    }
    Ok(out)
}

/// `google.rpc.Status`, the body of an OTLP/HTTP failure.
#[derive(Clone, PartialEq, Message)]
pub struct Status {
    /// A `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong.
    #[prost(string, tag = "2")]
    pub message: String,
}

/// `google.rpc.Code` for an HTTP status, as gRPC-HTTP mappings pair them.
pub fn rpc_code(http_status: u16) -> i32 {
    match http_status {
        400 | 415 => 3, // INVALID_ARGUMENT
        429 => 8,       // RESOURCE_EXHAUSTED
        503 => 14,      // UNAVAILABLE
        _ => 13,        // INTERNAL
    }
}

/// A failure body.
pub fn encode_status(format: Format, http_status: u16, message: &str) -> Vec<u8> {
    let code = rpc_code(http_status);
    match format {
        Format::Protobuf => Status {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        Format::Json => serde_json::json!({"code": code, "message": message})
            .to_string()
            .into_bytes(),
    }
}

/// A success body; `rejected` and `message` fill `partial_success` when
/// any point was refused.
pub fn encode_response(format: Format, rejected: u64, message: &str) -> Vec<u8> {
    let partial = (rejected > 0 || !message.is_empty()).then(|| ExportMetricsPartialSuccess {
        rejected_data_points: rejected as i64,
        error_message: message.to_owned(),
    });
    match format {
        Format::Protobuf => ExportMetricsServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Format::Json => match partial {
            None => b"{}".to_vec(),
            // int64 is a string in protobuf's JSON mapping.
            Some(p) => serde_json::json!({"partialSuccess": {
                "rejectedDataPoints": p.rejected_data_points.to_string(),
                "errorMessage": p.error_message,
            }})
            .to_string()
            .into_bytes(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn content_types() {
        for (ct, want) in [
            ("application/x-protobuf", Format::Protobuf),
            ("Application/JSON; charset=utf-8", Format::Json),
        ] {
            assert_eq!(Format::from_content_type(Some(ct)).unwrap(), want);
        }
        for ct in [None, Some("text/plain"), Some("")] {
            let e = Format::from_content_type(ct).unwrap_err();
            assert!(matches!(e, Error::UnsupportedMediaType(_)), "{e}");
        }
    }

    /// issue 12: malformed bodies give a clear 400 error.
    #[test]
    fn bad_bodies() {
        let e = decode(Bytes::from_static(b"\xff\xff\xff"), Format::Protobuf, None).unwrap_err();
        assert!(e.to_string().starts_with("decoding opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest protobuf"), "{e}");
        assert_eq!(e.kind(), sightline_core::ErrorKind::BadData);
        let e = decode(Bytes::from_static(b"not gzip"), Format::Json, Some("gzip")).unwrap_err();
        assert!(e.to_string().starts_with("decompressing gzip body"), "{e}");
        let e = decode(
            gzip(b"{\"resourceMetrics\":3}").into(),
            Format::Json,
            Some("gzip"),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("resourceMetrics: expected an array, got a number"),
            "{e}"
        );
        let e = decode(Bytes::new(), Format::Json, Some("br")).unwrap_err();
        assert!(matches!(e, Error::UnsupportedMediaType(_)));
    }

    #[test]
    fn gzip_and_identity_decode() {
        let req = Request::default();
        let body = req.encode_to_vec();
        assert_eq!(
            decode(gzip(&body).into(), Format::Protobuf, Some("gzip")).unwrap(),
            req
        );
        assert_eq!(
            decode(body.into(), Format::Protobuf, Some("identity")).unwrap(),
            req
        );
        assert_eq!(
            decode(Bytes::from_static(b"{}"), Format::Json, None).unwrap(),
            req
        );
    }

    #[test]
    fn responses() {
        assert_eq!(encode_response(Format::Json, 0, ""), b"{}");
        let j: serde_json::Value =
            serde_json::from_slice(&encode_response(Format::Json, 2, "bad")).unwrap();
        assert_eq!(j["partialSuccess"]["rejectedDataPoints"], "2");
        let p =
            ExportMetricsServiceResponse::decode(&encode_response(Format::Protobuf, 2, "bad")[..])
                .unwrap();
        assert_eq!(p.partial_success.unwrap().rejected_data_points, 2);
        let s = Status::decode(&encode_status(Format::Protobuf, 400, "x")[..]).unwrap();
        assert_eq!((s.code, s.message.as_str()), (3, "x"));
    }
}
