//! One push, from decoded streams to Loki's answer: validation, the append,
//! and the store's refusals turned into Loki's status codes and messages.
//!
//! As in Loki, a push is not all or nothing: valid streams (and valid lines
//! of a stream) are written even when others are refused, and the answer
//! reports the refused ones. Status: 204 when everything was kept (exact
//! duplicates are dropped silently, as Loki drops them); 429 when the store
//! refused lines for a rate or stream limit (Loki's ingester error wins
//! over the distributor's validation errors); 400 when lines were refused
//! as invalid; 500/503 when the store failed, and then nothing is
//! acknowledged.

use super::decode::{decode_body, RawStream};
use super::validate::{go_time, PushLimits};
use crate::Error;
use sightline_core::logs::{LogAppendReport, LogAppender, LogRefusal, LogStream};
use sightline_core::{ErrorKind, Labels};

/// The answer to a push.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushOutcome {
    /// HTTP status: 204, 400, 413, 415, 429, 500 or 503.
    pub status: u16,
    /// The body for a failure: Loki's messages, one per line.
    pub message: String,
    /// What the store kept (zero when it was not called).
    pub report: LogAppendReport,
    /// Lines refused by validation (before the store).
    pub invalid_lines: usize,
}

/// Decodes a body and pushes it (see [`push_streams`]).
pub fn push_body(
    body: &[u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    tenant: &str,
    limits: &PushLimits,
    now_ns: i64,
    appender: &dyn LogAppender,
) -> PushOutcome {
    match decode_body(body, content_type, content_encoding) {
        Ok(streams) => push_streams(streams, tenant, limits, now_ns, appender),
        Err(e) => PushOutcome {
            status: match e {
                Error::UnsupportedMediaType(_) => 415,
                _ => 400,
            },
            message: e.to_string(),
            ..PushOutcome::default()
        },
    }
}

/// Validates `streams` and appends the valid lines; the store is called
/// only when there is something to write, and a 204 means its `append`
/// returned `Ok`.
pub fn push_streams(
    streams: Vec<RawStream>,
    tenant: &str,
    limits: &PushLimits,
    now_ns: i64,
    appender: &dyn LogAppender,
) -> PushOutcome {
    let mut errors: Vec<String> = Vec::new();
    let mut invalid_lines = 0;
    let mut good: Vec<LogStream> = Vec::with_capacity(streams.len());
    for raw in streams {
        let labels = match limits.stream_labels(&raw.labels) {
            Ok(l) => l,
            Err(e) => {
                invalid_lines += raw.entries.len();
                errors.push(e);
                continue;
            }
        };
        let mut entries = raw.entries;
        entries.retain(|e| match limits.entry(&labels, e, now_ns) {
            Ok(()) => true,
            Err(msg) => {
                invalid_lines += 1;
                errors.push(msg);
                false
            }
        });
        if !entries.is_empty() {
            good.push(LogStream { labels, entries });
        }
    }
    let mut out = PushOutcome {
        invalid_lines,
        ..PushOutcome::default()
    };
    if !good.is_empty() {
        // Figures for the messages, taken before the streams move.
        let sizes: Vec<(Labels, usize, usize)> = good
            .iter()
            .map(|s| {
                (
                    s.labels.clone(),
                    s.entries.len(),
                    s.entries.iter().map(|e| e.line.len()).sum(),
                )
            })
            .collect();
        match appender.append(tenant, good) {
            Ok(report) => {
                let mut limited = false;
                let mut msgs = refusal_messages(&report.refused, tenant, &sizes, &mut limited);
                if limited {
                    out.status = 429;
                    // Loki answers an ingester's refusal alone.
                    errors = msgs;
                } else {
                    errors.append(&mut msgs);
                }
                out.report = report;
            }
            Err(e) => {
                out.status = match e.kind() {
                    ErrorKind::Unavailable => 503,
                    _ => 500,
                };
                out.message = e.to_string();
                return out;
            }
        }
    }
    if out.status == 0 {
        out.status = if errors.is_empty() { 204 } else { 400 };
    }
    out.message = errors.join("\n");
    out
}

/// Most distinct refusal messages one answer lists.
const MAX_REFUSAL_MESSAGES: usize = 1000;

/// Loki's messages for the store's refusals, grouped as Loki's ingester
/// groups them (one message per stream and reason); `limited` is set
/// when any refusal is a rate or stream limit (429).
fn refusal_messages(
    refused: &[LogRefusal],
    tenant: &str,
    sizes: &[(Labels, usize, usize)],
    limited: &mut bool,
) -> Vec<String> {
    let size = |l: &Labels| {
        sizes
            .iter()
            .find(|s| &s.0 == l)
            .map(|s| (s.1, s.2))
            .unwrap_or((0, 0))
    };
    let (lines, bytes) = sizes.iter().fold((0, 0), |(n, b), s| (n + s.1, b + s.2));
    let mut out: Vec<String> = Vec::new();
    let mut too_far: Vec<(&Labels, Vec<i64>)> = Vec::new();
    // A set for the duplicates, and a cap on the answer: a push of a
    // million new streams past the stream limit (issue 18) made this
    // quadratic and its answer hundreds of MB.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut more = 0usize;
    let mut push = |m: String| {
        if seen.len() >= MAX_REFUSAL_MESSAGES {
            more += usize::from(!seen.contains(&m));
        } else if seen.insert(m.clone()) {
            out.push(m);
        }
    };
    for r in refused {
        match r {
            LogRefusal::TooFarBehind { labels, ts_ns } => {
                match too_far.iter_mut().find(|(l, _)| *l == labels) {
                    Some((_, v)) => v.push(*ts_ns),
                    None => too_far.push((labels, vec![*ts_ns])),
                }
            }
            LogRefusal::TooOld { labels, ts_ns } => push(format!(
                "entry for stream '{labels}' has timestamp too old: {}",
                go_time(*ts_ns)
            )),
            LogRefusal::LineTooLong {
                labels,
                bytes,
                limit,
            } => push(format!(
                "Max entry size '{limit}' bytes exceeded for stream '{labels}' while adding an entry with length '{bytes}' bytes"
            )),
            LogRefusal::StreamRateLimited { labels } => {
                *limited = true;
                push(format!(
                    "Per stream rate limit exceeded while attempting to ingest for stream '{labels}' totaling {}B, consider splitting a stream via additional labels or contact your Loki administrator to see if the limit can be increased",
                    size(labels).1
                ))
            }
            LogRefusal::RateLimited { limit_bytes_per_s } => {
                *limited = true;
                push(format!(
                    "Ingestion rate limit exceeded for user {tenant} (limit: {limit_bytes_per_s} bytes/sec) while attempting to ingest '{lines}' lines totaling '{bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased"
                ))
            }
            LogRefusal::StreamLimit { labels, .. } => {
                *limited = true;
                push(format!(
                    "Maximum active stream limit exceeded when trying to create stream {labels}, reduce the number of active streams (reduce labels or reduce label values), or contact your Loki administrator to see if the limit can be increased, user: '{tenant}'"
                ))
            }
        }
    }
    if more > 0 {
        out.push(format!("... and {more} more refusals"));
    }
    // Loki's ingester lists the first ignored entries of a stream, then a
    // total for the stream.
    for (labels, ts) in too_far {
        let mut m = String::new();
        for t in ts.iter().take(10) {
            let t = go_time(*t);
            m.push_str(&format!(
                "entry with timestamp {t} ignored, reason: 'entry too far behind, entry timestamp is: {t}',\n"
            ));
        }
        m.push_str(&format!(
            "user '{tenant}', total ignored: {} out of {} for stream: {labels}",
            ts.len(),
            size(labels).0
        ));
        out.push(m);
    }
    out
}
