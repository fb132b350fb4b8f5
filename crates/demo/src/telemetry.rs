//! One service's telemetry: an OTLP/HTTP span and log pipeline (the
//! `opentelemetry` crates with batch processors on the caller's runtime), the
//! JSON log file, and the `/metrics` registry.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::trace::{SpanContext, TraceFlags, TracerProvider};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use serde::Serialize;

use crate::metrics::HttpMetrics;
use crate::DemoError;

/// A service's telemetry, cheap to clone.
#[derive(Clone)]
pub(crate) struct Telemetry(Arc<Inner>);

struct Inner {
    service: &'static str,
    tracer_provider: SdkTracerProvider,
    tracer: SdkTracer,
    logger_provider: SdkLoggerProvider,
    logger: SdkLogger,
    log_file: Mutex<File>,
    metrics: HttpMetrics,
}

/// One request's log line, as written to `<service>.log` (and, as body and
/// attributes, over OTLP).
#[derive(Serialize)]
pub(crate) struct LogFields<'a> {
    pub ts: String,
    pub level: &'static str,
    pub service: &'static str,
    pub msg: &'a str,
    pub route: &'static str,
    pub status: u16,
    pub duration_ms: f64,
    pub trace_id: String,
    pub span_id: String,
}

impl Telemetry {
    pub(crate) fn new(
        service: &'static str,
        otlp_base: &str,
        log_dir: &Path,
        client: reqwest::Client,
    ) -> Result<Self, DemoError> {
        let base = otlp_base.trim_end_matches('/');
        let resource = Resource::builder_empty()
            .with_service_name(service)
            .with_attribute(opentelemetry::KeyValue::new(
                "service.namespace",
                "sightline-demo",
            ))
            .build();
        let tel = |e: &dyn std::fmt::Display| DemoError::Telemetry(format!("{service}: {e}"));
        let span_exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client.clone())
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/traces"))
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| tel(&e))?;
        // Modest queues: a demo that falls behind drops spans rather than memory.
        let batch = || {
            BatchConfigBuilder::default()
                .with_max_queue_size(1024)
                .with_max_export_batch_size(256)
                .with_scheduled_delay(Duration::from_secs(2))
                .build()
        };
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_span_processor(
                BatchSpanProcessor::builder(span_exporter, Tokio)
                    .with_batch_config(batch())
                    .build(),
            )
            .build();
        let tracer = tracer_provider.tracer("sightline-demo");
        let log_exporter = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{base}/v1/logs"))
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| tel(&e))?;
        let logger_provider = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_log_processor(crate::logbatch::TokioBatchLogs::new(log_exporter))
            .build();
        let logger = logger_provider.logger("sightline-demo");
        let log_path = log_dir.join(format!("{service}.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| DemoError::Io {
                path: log_path,
                source,
            })?;
        Ok(Telemetry(Arc::new(Inner {
            service,
            tracer_provider,
            tracer,
            logger_provider,
            logger,
            log_file: Mutex::new(log_file),
            metrics: HttpMetrics::new(),
        })))
    }

    pub(crate) fn service(&self) -> &'static str {
        self.0.service
    }

    pub(crate) fn tracer(&self) -> &SdkTracer {
        &self.0.tracer
    }

    pub(crate) fn metrics(&self) -> &HttpMetrics {
        &self.0.metrics
    }

    /// Writes a log line to the service's file and sends it over OTLP with
    /// the span's ids.
    pub(crate) fn log(&self, fields: &LogFields<'_>, cx: &SpanContext) {
        let mut line = serde_json::to_vec(fields).unwrap_or_default();
        line.push(b'\n');
        {
            let mut f = self.0.log_file.lock().unwrap_or_else(|e| e.into_inner());
            // A full disk must not take the shop down: the line is lost, the
            // request still answers.
            let _ = f.write_all(&line);
        }
        let mut rec = self.0.logger.create_log_record();
        rec.set_timestamp(SystemTime::now());
        let (severity, text) = match fields.level {
            "error" => (Severity::Error, "ERROR"),
            "warn" => (Severity::Warn, "WARN"),
            _ => (Severity::Info, "INFO"),
        };
        rec.set_severity_number(severity);
        rec.set_severity_text(text);
        rec.set_body(AnyValue::from(fields.msg.to_owned()));
        rec.add_attribute("http.route", fields.route);
        rec.add_attribute("http.response.status_code", i64::from(fields.status));
        rec.add_attribute("duration_ms", fields.duration_ms);
        if cx.is_valid() {
            rec.set_trace_context(cx.trace_id(), cx.span_id(), Some(TraceFlags::SAMPLED));
        }
        self.0.logger.emit(rec);
    }

    /// Flushes and stops the exporters (blocks: call off the runtime threads).
    pub(crate) fn shutdown(&self) {
        let _ = self.0.tracer_provider.shutdown();
        let _ = self.0.logger_provider.shutdown();
    }
}

impl Drop for Inner {
    /// The SDK flushes its providers when their last handle drops, blocking
    /// until the export task (on this runtime) answers: on a runtime thread
    /// that could stall it, so the flush moves to the blocking pool.
    fn drop(&mut self) {
        let (tp, lp) = (self.tracer_provider.clone(), self.logger_provider.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn_blocking(move || {
                    let _ = tp.shutdown();
                    let _ = lp.shutdown();
                });
            }
            Err(_) => {
                let _ = tp.shutdown();
                let _ = lp.shutdown();
            }
        }
    }
}
