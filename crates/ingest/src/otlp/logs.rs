//! The OpenTelemetry logs receiver: OTLP `ExportLogsServiceRequest`s
//! (HTTP bodies or gRPC messages) to Loki streams, as Loki 3 maps them
//! (`pkg/loghttp/push/otlp.go`, default `otlp_config`), then through the
//! Loki push path ([`crate::loki::push_streams`]) so limits, validation and
//! refusals are the same as for a Loki push.
//!
//! The mapping:
//! - Stream labels: the resource attributes Loki indexes by default
//!   ([`INDEX_LABEL_ATTRIBUTES`]: `service.name`, `service.namespace`,
//!   `k8s.*`, ...), their names normalized (`service.name` ->
//!   `service_name`). Without `service.name`, `service_name` comes from the
//!   first of Loki's `discover_service_name` labels present, else
//!   `unknown_service`.
//! - Structured metadata of each line, in Loki's order: the log
//!   attributes, `observed_timestamp` (when both times are set),
//!   `severity_number`, `severity_text`, `dropped_attributes_count`,
//!   `flags`, `trace_id` and `span_id` (hex), then the other resource
//!   attributes, then the scope's attributes, `scope_name`,
//!   `scope_version`, `scope_dropped_attributes_count`. Map values flatten
//!   to `parent_child` names. We also add `detected_level` from the
//!   severity, as Loki's `discover_log_levels` does.
//! - The line is the body as text (`pcommon.Value.AsString`: strings as
//!   they are, maps and arrays as JSON); the time is `time_unix_nano`, else
//!   `observed_time_unix_nano`, else the time of receipt.

use super::http::{gunzip, Format};
use super::labels::value_string;
use super::names::{label_name, LabelNaming};
use crate::loki::decode::{RawStream, StreamLabels};
use crate::loki::{push_streams, LogIngestCounters, Protocol, PushLimits};
use crate::{Error, Result};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use sightline_core::logs::{LogAppender, LogEntry};
use std::collections::HashMap;

/// Resource attributes Loki 3 makes stream labels by default.
pub const INDEX_LABEL_ATTRIBUTES: [&str; 17] = [
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
];

/// Loki's default `discover_service_name`: labels whose value becomes
/// `service_name` when `service.name` is absent, first match wins.
pub const DISCOVER_SERVICE_NAME: [&str; 11] = [
    "service",
    "app",
    "application",
    "name",
    "app_kubernetes_io_name",
    "container",
    "container_name",
    "k8s_container_name",
    "component",
    "workload",
    "job",
];

/// Decodes an OTLP/HTTP logs body (`format` from the `Content-Type`,
/// gzip or none). Errors: 415 ([`Error::UnsupportedMediaType`]) for another
/// encoding, 400 ([`Error::Otlp`]) for a body that does not decode.
pub fn decode(
    body: &[u8],
    format: Format,
    content_encoding: Option<&str>,
) -> Result<ExportLogsServiceRequest> {
    let inflated;
    let body = match content_encoding.map(str::trim).filter(|s| !s.is_empty()) {
        None => body,
        Some(e) if e.eq_ignore_ascii_case("identity") => body,
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            inflated = gunzip(body)?;
            &inflated[..]
        }
        Some(e) => {
            return Err(Error::UnsupportedMediaType(format!(
                "unsupported Content-Encoding {e:?}: OTLP/HTTP bodies are gzip-compressed or not compressed"
            )))
        }
    };
    match format {
        Format::Protobuf => ExportLogsServiceRequest::decode(body).map_err(|e| {
            Error::Otlp(format!(
                "decoding opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest protobuf: {e}"
            ))
        }),
        Format::Json => super::logs_json::parse_request(body)
            .map_err(|e| Error::Otlp(format!("decoding OTLP/JSON logs request: {e}"))),
    }
}

/// One attribute as metadata pairs: maps flatten to `key_child` names.
fn attribute_pairs(prefix: &str, kv: &KeyValue, out: &mut Vec<(String, String)>) {
    let key = if prefix.is_empty() {
        kv.key.clone()
    } else {
        format!("{prefix}_{}", kv.key)
    };
    let Some(name) = label_name(&key, LabelNaming::default()) else {
        return;
    };
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::KvlistValue(m)) => {
            for e in &m.values {
                attribute_pairs(&name, e, out);
            }
        }
        _ => out.push((name, value_string(kv.value.as_ref()))),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Loki's level from an OTLP severity number (1-24), else from a
/// severity text that names a level.
pub fn detected_level(severity_number: i32, severity_text: &str) -> Option<&'static str> {
    match severity_number {
        1..=4 => return Some("trace"),
        5..=8 => return Some("debug"),
        9..=12 => return Some("info"),
        13..=16 => return Some("warn"),
        17..=20 => return Some("error"),
        21..=24 => return Some("fatal"),
        _ => {}
    }
    let t = severity_text.to_ascii_lowercase();
    Some(match t.as_str() {
        "trace" => "trace",
        "debug" | "dbg" => "debug",
        "info" | "information" | "informational" | "notice" => "info",
        "warn" | "warning" => "warn",
        "error" | "err" => "error",
        "fatal" => "fatal",
        "critical" | "crit" | "alert" | "emerg" | "emergency" => "critical",
        _ => return None,
    })
}

fn body_text(body: Option<&AnyValue>) -> String {
    value_string(body)
}

fn record_entry(r: &LogRecord, now_ns: i64) -> LogEntry {
    let mut md = Vec::with_capacity(r.attributes.len() + 8);
    for kv in &r.attributes {
        attribute_pairs("", kv, &mut md);
    }
    if r.time_unix_nano != 0 && r.observed_time_unix_nano != 0 {
        md.push((
            "observed_timestamp".into(),
            r.observed_time_unix_nano.to_string(),
        ));
    }
    if r.severity_number != 0 {
        md.push(("severity_number".into(), r.severity_number.to_string()));
    }
    if !r.severity_text.is_empty() {
        md.push(("severity_text".into(), r.severity_text.clone()));
    }
    if r.dropped_attributes_count != 0 {
        md.push((
            "dropped_attributes_count".into(),
            r.dropped_attributes_count.to_string(),
        ));
    }
    if r.flags != 0 {
        md.push(("flags".into(), r.flags.to_string()));
    }
    if r.trace_id.iter().any(|b| *b != 0) {
        md.push(("trace_id".into(), hex(&r.trace_id)));
    }
    if r.span_id.iter().any(|b| *b != 0) {
        md.push(("span_id".into(), hex(&r.span_id)));
    }
    let ts = if r.time_unix_nano != 0 {
        r.time_unix_nano
    } else {
        r.observed_time_unix_nano
    };
    LogEntry {
        ts_ns: if ts == 0 {
            now_ns
        } else {
            i64::try_from(ts).unwrap_or(i64::MAX)
        },
        line: body_text(r.body.as_ref()),
        metadata: md,
    }
}

/// The request as Loki streams (labels as pairs, not yet validated).
pub fn to_streams(req: &ExportLogsServiceRequest, now_ns: i64) -> Vec<RawStream> {
    let mut streams: Vec<RawStream> = Vec::new();
    let mut index: HashMap<Vec<(String, String)>, usize> = HashMap::new();
    for rl in &req.resource_logs {
        let mut labels: Vec<(String, String)> = Vec::new();
        let mut resource_md: Vec<(String, String)> = Vec::new();
        let attrs: &[KeyValue] = rl.resource.as_ref().map_or(&[], |r| &r.attributes);
        for kv in attrs {
            if INDEX_LABEL_ATTRIBUTES.contains(&kv.key.as_str()) {
                attribute_pairs("", kv, &mut labels);
            } else {
                attribute_pairs("", kv, &mut resource_md);
            }
        }
        labels.retain(|(_, v)| !v.is_empty());
        if !labels.iter().any(|(n, _)| n == "service_name") {
            let found = DISCOVER_SERVICE_NAME
                .iter()
                .find_map(|d| labels.iter().find(|(n, _)| n == d).map(|(_, v)| v.clone()));
            labels.push((
                "service_name".into(),
                found.unwrap_or_else(|| "unknown_service".into()),
            ));
        }
        labels.sort();
        labels.dedup_by(|a, b| a.0 == b.0);
        let i = *index.entry(labels.clone()).or_insert_with(|| {
            streams.push(RawStream {
                labels: StreamLabels::Pairs(labels.clone()),
                entries: Vec::new(),
            });
            streams.len() - 1
        });
        for sl in &rl.scope_logs {
            let mut scope_md = Vec::new();
            if let Some(s) = &sl.scope {
                for kv in &s.attributes {
                    attribute_pairs("", kv, &mut scope_md);
                }
                if !s.name.is_empty() {
                    scope_md.push(("scope_name".into(), s.name.clone()));
                }
                if !s.version.is_empty() {
                    scope_md.push(("scope_version".into(), s.version.clone()));
                }
                if s.dropped_attributes_count != 0 {
                    scope_md.push((
                        "scope_dropped_attributes_count".into(),
                        s.dropped_attributes_count.to_string(),
                    ));
                }
            }
            for r in &sl.log_records {
                let mut e = record_entry(r, now_ns);
                e.metadata.extend(resource_md.iter().cloned());
                e.metadata.extend(scope_md.iter().cloned());
                if let Some(level) = detected_level(r.severity_number, &r.severity_text) {
                    e.metadata.push(("detected_level".into(), level.into()));
                }
                streams[i].entries.push(e);
            }
        }
    }
    streams.retain(|s| !s.entries.is_empty());
    streams
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsOutcome {
    /// 200 (all or part kept: see `rejected`), 429/503 (retryable, nothing
    /// to retry partially), 500.
    pub status: u16,
    /// Log records refused (for `partial_success`).
    pub rejected: u64,
    /// Why (Loki's messages), empty when all were kept.
    pub message: String,
    /// Records written.
    pub accepted: u64,
}

/// Maps and appends a request for `tenant`, counting it in `counters`.
pub fn write(
    req: &ExportLogsServiceRequest,
    tenant: &str,
    limits: &PushLimits,
    now_ns: i64,
    appender: &dyn LogAppender,
    counters: &LogIngestCounters,
) -> LogsOutcome {
    let streams = to_streams(req, now_ns);
    let total: usize = streams.iter().map(|s| s.entries.len()).sum();
    let out = push_streams(streams, tenant, limits, now_ns, appender);
    counters.record(Protocol::Otlp, &out);
    let kept = out.report.accepted + out.report.duplicates;
    let status = match out.status {
        204 | 400 => 200,
        s => s,
    };
    LogsOutcome {
        status,
        rejected: if status == 200 {
            total.saturating_sub(kept) as u64
        } else {
            0
        },
        message: out.message,
        accepted: out.report.accepted as u64,
    }
}

/// The success body, with `partial_success` when records were refused.
pub fn encode_response(format: Format, rejected: u64, message: &str) -> Vec<u8> {
    let partial = (rejected > 0 || !message.is_empty()).then(|| ExportLogsPartialSuccess {
        rejected_log_records: rejected as i64,
        error_message: message.to_owned(),
    });
    match format {
        Format::Protobuf => ExportLogsServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Format::Json => match partial {
            None => b"{}".to_vec(),
            Some(p) => serde_json::json!({"partialSuccess": {
                "rejectedLogRecords": p.rejected_log_records.to_string(),
                "errorMessage": p.error_message,
            }})
            .to_string()
            .into_bytes(),
        },
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
