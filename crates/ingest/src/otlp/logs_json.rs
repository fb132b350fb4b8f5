//! OTLP/JSON logs (`ExportLogsServiceRequest`) to the protobuf types, with
//! the JSON rules and helpers of [`super::json`] (hex trace and span ids,
//! 64-bit integers as strings or numbers, lowerCamelCase or protobuf
//! names, errors that name their path).

use super::json::{
    any_value, field, hex_bytes, int, key_values, list, object, resource, scope, string, R,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use serde_json::Value;

/// Parses an OTLP/JSON `ExportLogsServiceRequest`.
pub fn parse_request(body: &[u8]) -> R<ExportLogsServiceRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let o = object(&v, "request")?;
    Ok(ExportLogsServiceRequest {
        resource_logs: list(o, "resourceLogs", "resource_logs", "", resource_logs)?,
    })
}

fn resource_logs(v: &Value, path: &str) -> R<ResourceLogs> {
    let o = object(v, path)?;
    Ok(ResourceLogs {
        resource: resource(o, path)?,
        scope_logs: list(o, "scopeLogs", "scope_logs", path, scope_logs)?,
        schema_url: string(o, "schemaUrl", "schema_url", path)?,
    })
}

fn scope_logs(v: &Value, path: &str) -> R<ScopeLogs> {
    let o = object(v, path)?;
    Ok(ScopeLogs {
        scope: scope(o, path)?,
        log_records: list(o, "logRecords", "log_records", path, log_record)?,
        schema_url: string(o, "schemaUrl", "schema_url", path)?,
    })
}

fn log_record(v: &Value, path: &str) -> R<LogRecord> {
    let o = object(v, path)?;
    Ok(LogRecord {
        time_unix_nano: int(o, "timeUnixNano", "time_unix_nano", path)?,
        observed_time_unix_nano: int(o, "observedTimeUnixNano", "observed_time_unix_nano", path)?,
        severity_number: int(o, "severityNumber", "severity_number", path)?,
        severity_text: string(o, "severityText", "severity_text", path)?,
        body: field(o, "body", "body")
            .map(|b| any_value(b, &format!("{path}.body")))
            .transpose()?,
        attributes: key_values(o, "attributes", path)?,
        dropped_attributes_count: int(
            o,
            "droppedAttributesCount",
            "dropped_attributes_count",
            path,
        )?,
        flags: int(o, "flags", "flags", path)?,
        trace_id: hex_bytes(o, "traceId", "trace_id", path)?,
        span_id: hex_bytes(o, "spanId", "span_id", path)?,
        event_name: string(o, "eventName", "event_name", path)?,
    })
}
