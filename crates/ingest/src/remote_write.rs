//! The Prometheus remote_write receiver, without HTTP: the API crate hands
//! over the body and two headers ([`decode`]), then an appender
//! ([`append`], or [`write`] which also commits or rolls back).
//!
//! # Semantics, and where they come from
//!
//! Remote write 1.0 follows Prometheus 2.42's handler
//! (`storage/remote/write_handler.go` at v2.42.0, `writeHandler.ServeHTTP`
//! and `writeHandler.write`):
//!
//! - The body is snappy block format around a `prometheus.WriteRequest`; a
//!   body that does not decompress or decode is answered 400.
//! - All samples of the request go through one appender. The first sample
//!   the store refuses ends the request: `write` returns the error, its
//!   deferred function rolls the whole appender back, and nothing of the
//!   request is stored (no partial commit). Out of order, out of bounds and
//!   duplicate samples give 400 so that the sender drops the batch instead of
//!   retrying it forever; any other append error gives 500.
//! - Exemplar errors never fail the request (exemplar storage was
//!   experimental; they are logged and dropped). Metadata is not appended
//!   here: [`crate::remote_metadata`] keeps it for `/api/v1/metadata`
//!   (2.42 dropped it).
//!
//! Where 2.42 has no rule, or a rule that makes senders retry a batch that
//! can never succeed, we choose, and say so:
//!
//! - Labels are checked before a series is appended: `__name__` present,
//!   names valid (`[a-zA-Z_][a-zA-Z0-9_]*`, the metric name
//!   `[a-zA-Z_:][a-zA-Z0-9_:]*`), no name twice. An invalid series refuses
//!   the request with 400 (2.42's head refused empty or duplicate label sets
//!   with a generic error, which its handler answered 500). Labels out of
//!   order are sorted, as 2.42's `labelProtosToLabels` does; empty values
//!   mean an absent label, as in Prometheus's head.
//! - Native histograms (issue 12) are converted and checked by
//!   [`crate::native_histogram`] (2.42's checks and messages for integer
//!   histograms) and appended after the series' float samples, as 2.42
//!   does; an invalid one is bad data (400 with Prometheus's text; 2.42
//!   itself answered 500, newer Prometheus 400), a refused one follows the
//!   float rules below. Float histograms and custom buckets (schema -53),
//!   which 2.42's receiver did not take apart, are stored as newer
//!   Prometheus stores them.
//! - `Content-Type` and `Content-Encoding` are checked as the remote write
//!   specs say (2.42 ignored both): a missing Content-Type or
//!   `application/x-protobuf` is 1.0, `proto=io.prometheus.write.v2.Request`
//!   is 2.0, anything else is [`Error::UnsupportedMediaType`] (415).
//!
//! Remote write 2.0 follows its spec and the newer Prometheus handler
//! (`writeV2`): symbols are resolved per series; an invalid series, and
//! samples refused as out of order, out of bounds or duplicate, are skipped
//! and counted while the rest of the request is committed (a partial write),
//! and the request is then answered 400 naming the first problem. Any
//! other store error still rolls everything back (500).

use crate::{Error, Result};
use prost::Message;
use sightline_core::{
    Appender, ErrorKind, Exemplar, Label, Labels, MetricAppender, SeriesRef, METRIC_NAME,
};
use sightline_proto::{prometheus as v1, write_v2 as v2};

/// The media type of both protocol versions.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
/// The `proto` parameter naming a 1.0 body (also the default).
pub const PROTO_V1: &str = "prometheus.WriteRequest";
/// The `proto` parameter naming a 2.0 body.
pub const PROTO_V2: &str = "io.prometheus.write.v2.Request";
/// The largest decompressed body accepted. Snappy states the decompressed
/// length up front, so a tiny body could otherwise make us allocate
/// gigabytes.
pub const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// A decoded request of either protocol version.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodedWrite {
    /// Remote write 1.0.
    V1(v1::WriteRequest),
    /// Remote write 2.0.
    V2(v2::Request),
}

impl DecodedWrite {
    /// Number of float samples in the request.
    pub fn sample_count(&self) -> usize {
        match self {
            DecodedWrite::V1(r) => r.timeseries.iter().map(|t| t.samples.len()).sum(),
            DecodedWrite::V2(r) => r.timeseries.iter().map(|t| t.samples.len()).sum(),
        }
    }
}

/// Decodes a remote write body given its `Content-Type` and
/// `Content-Encoding` headers (`None` when absent).
///
/// Errors: [`Error::UnsupportedMediaType`] for another media type, `proto`
/// or encoding (HTTP 415); [`Error::RemoteWrite`] for a body that is not
/// snappy or not the protobuf message (HTTP 400).
pub fn decode(
    body: &[u8],
    content_type: Option<&str>,
    content_encoding: Option<&str>,
) -> Result<DecodedWrite> {
    let v2 = match content_type.map(str::trim).filter(|s| !s.is_empty()) {
        None => false,
        Some(ct) => is_v2_content_type(ct)?,
    };
    if let Some(enc) = content_encoding.map(str::trim).filter(|s| !s.is_empty()) {
        if !enc.eq_ignore_ascii_case("snappy") {
            return Err(Error::UnsupportedMediaType(format!(
                "unsupported Content-Encoding {enc:?}: remote write bodies are snappy-compressed"
            )));
        }
    }
    let len = snap::raw::decompress_len(body)
        .map_err(|e| Error::RemoteWrite(format!("decompressing snappy body: {e}")))?;
    if len > MAX_DECOMPRESSED_BYTES {
        return Err(Error::RemoteWrite(format!(
            "snappy body would decompress to {len} bytes, more than the {MAX_DECOMPRESSED_BYTES} accepted"
        )));
    }
    check_snappy_ratio(body.len(), len)
        .map_err(|e| Error::RemoteWrite(format!("decompressing snappy body: {e}")))?;
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| Error::RemoteWrite(format!("decompressing snappy body: {e}")))?;
    if v2 {
        v2::Request::decode(raw.as_slice())
            .map(DecodedWrite::V2)
            .map_err(|e| Error::RemoteWrite(format!("decoding {PROTO_V2} protobuf: {e}")))
    } else {
        v1::WriteRequest::decode(raw.as_slice())
            .map(DecodedWrite::V1)
            .map_err(|e| Error::RemoteWrite(format!("decoding {PROTO_V1} protobuf: {e}")))
    }
}

/// The most a snappy block can expand: the longest copy (64 bytes) costs
/// three bytes, so no valid body decompresses to more than ~21.4 times its
/// size (32 leaves room, plus the header).
const SNAPPY_MAX_RATIO: usize = 32;

/// Refuses a snappy header that claims more than `compressed` bytes could
/// hold. The decoder allocates the claimed length before reading a byte, so
/// without this check a 10-byte body makes the server allocate the whole
/// decompression limit (found by fuzzing, issue 18). Shared by every snappy
/// receiver (remote write, Loki push).
pub fn check_snappy_ratio(compressed: usize, claimed: usize) -> std::result::Result<(), String> {
    if claimed
        > compressed
            .saturating_mul(SNAPPY_MAX_RATIO)
            .saturating_add(64)
    {
        return Err(format!(
            "corrupt input: header claims {claimed} bytes, more than {compressed} compressed bytes can hold"
        ));
    }
    Ok(())
}

/// Whether a (present) Content-Type selects 2.0; errors for anything that
/// is neither version.
fn is_v2_content_type(ct: &str) -> Result<bool> {
    let mut parts = ct.split(';');
    let media = parts.next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(CONTENT_TYPE) {
        return Err(Error::UnsupportedMediaType(format!(
            "unsupported Content-Type {ct:?}: expected {CONTENT_TYPE:?} (remote write 1.0) or \"{CONTENT_TYPE};proto={PROTO_V2}\" (2.0)"
        )));
    }
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("proto") {
            return match v.trim().trim_matches('"') {
                PROTO_V1 => Ok(false),
                PROTO_V2 => Ok(true),
                other => Err(Error::UnsupportedMediaType(format!(
                    "unsupported remote write message {other:?} in Content-Type: expected {PROTO_V1:?} or {PROTO_V2:?}"
                ))),
            };
        }
    }
    Ok(false)
}

/// Samples refused by the store or by validation, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected {
    /// Older than the series' newest sample (outside any out-of-order window).
    pub out_of_order: u64,
    /// Outside the time range the store accepts.
    pub out_of_bounds: u64,
    /// Same timestamp as a stored sample, different value.
    pub duplicate: u64,
    /// Samples of series whose labels are invalid.
    pub invalid_labels: u64,
}

/// What [`append`] did with a request.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Samples accepted by the appender (committed only if the caller commits).
    pub samples_appended: u64,
    /// Exemplars accepted by the appender.
    pub exemplars_appended: u64,
    /// Exemplars the appender refused; never fails a request.
    pub exemplars_dropped: u64,
    /// Native histogram samples accepted by the appender.
    pub histograms_appended: u64,
    /// Native histogram samples received but not stored (invalid, or
    /// refused by the store).
    pub histograms_dropped: u64,
    /// Refused samples by reason.
    pub rejected: Rejected,
    /// Why the request is answered with an error, if it is.
    pub error: Option<Error>,
    /// True when the appender must be rolled back rather than committed:
    /// always for a failed 1.0 request, and for 2.0 on a store failure.
    pub rollback: bool,
}

impl WriteOutcome {
    /// The HTTP status to answer: 204 on success, else the error's status
    /// (400 for bad data and refused samples, 500 for store failures).
    pub fn http_status(&self) -> u16 {
        match &self.error {
            None => 204,
            Some(e) => http_status(e),
        }
    }

    fn fail(&mut self, e: Error, rollback: bool) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.rollback |= rollback;
    }

    /// Counts a sample the store refused; true for the three kinds a
    /// sender should not retry.
    fn count_rejected(&mut self, kind: ErrorKind) -> bool {
        match kind {
            ErrorKind::OutOfOrder => self.rejected.out_of_order += 1,
            ErrorKind::OutOfBounds => self.rejected.out_of_bounds += 1,
            ErrorKind::DuplicateSample => self.rejected.duplicate += 1,
            _ => return false,
        }
        true
    }
}

/// The HTTP status for an ingest error on the remote write path: 415 for
/// [`Error::UnsupportedMediaType`], otherwise the kind's status.
pub fn http_status(e: &Error) -> u16 {
    match e {
        Error::UnsupportedMediaType(_) => 415,
        e => e.kind().http_status(),
    }
}

/// Appends every sample and exemplar of `req` to `appender` with the
/// semantics in the module docs. The caller then commits, or rolls back
/// when [`WriteOutcome::rollback`] is set, and answers
/// [`WriteOutcome::http_status`].
pub fn append(req: &DecodedWrite, appender: &mut dyn Appender) -> WriteOutcome {
    let mut out = WriteOutcome::default();
    match req {
        DecodedWrite::V1(r) => append_v1(r, appender, &mut out),
        DecodedWrite::V2(r) => append_v2(r, appender, &mut out),
    }
    out
}

/// [`append`] in a fresh transaction of `store`, committed or rolled back
/// as the outcome says. A failed commit becomes the outcome's error.
pub fn write(req: &DecodedWrite, store: &dyn MetricAppender) -> WriteOutcome {
    let mut app = store.appender();
    let mut out = append(req, app.as_mut());
    if out.rollback {
        app.rollback();
        out.samples_appended = 0;
        out.exemplars_appended = 0;
        out.histograms_appended = 0;
    } else if let Err(e) = app.commit() {
        out.fail(Error::Storage(e), true);
        out.samples_appended = 0;
        out.exemplars_appended = 0;
        out.histograms_appended = 0;
    }
    out
}

/// What a sample the store refuses does to the rest of a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnReject {
    /// Remote write 1.0: the request fails as a whole.
    Abort,
    /// Remote write 2.0: refusals the receiver counts (out of order, too
    /// old, duplicates) are reported and the other samples go in; anything
    /// else still fails the request.
    Continue,
}

/// Appends one series' samples. Returns the series' reference for its
/// exemplars, or `None` when the request must stop here.
fn append_samples(
    app: &mut dyn Appender,
    labels: &Labels,
    samples: impl Iterator<Item = (i64, f64)>,
    on_reject: OnReject,
    out: &mut WriteOutcome,
) -> Option<SeriesRef> {
    let mut r: SeriesRef = 0;
    for (t, v) in samples {
        match app.append(r, labels, t, v) {
            Ok(nr) => {
                r = nr;
                out.samples_appended += 1;
            }
            Err(e) => {
                if refused(e, labels, t, on_reject, out) {
                    return None;
                }
            }
        }
    }
    Some(r)
}

/// Records a sample the store refused; true when the request must stop.
fn refused(
    e: sightline_core::Error,
    labels: &Labels,
    t: i64,
    on_reject: OnReject,
    out: &mut WriteOutcome,
) -> bool {
    let kind = e.kind();
    let msg = format!("{} for series {labels} at {t}", e.message());
    let e = Error::Storage(sightline_core::Error::new(kind, msg));
    if out.count_rejected(kind) && on_reject == OnReject::Continue {
        out.fail(e, false);
        false
    } else {
        out.fail(e, true);
        true
    }
}

/// Appends one series' native histograms after its floats (`r` is the
/// series' reference from them, or 0). Returns false when the request must
/// stop here.
fn append_histograms(
    app: &mut dyn Appender,
    mut r: SeriesRef,
    labels: &Labels,
    hs: &[v1::Histogram],
    on_reject: OnReject,
    out: &mut WriteOutcome,
) -> bool {
    for h in hs {
        let t = h.timestamp;
        let fh = match crate::native_histogram::from_remote_write(h) {
            Ok(fh) => fh,
            Err(msg) => {
                out.histograms_dropped += 1;
                let e = Error::RemoteWrite(format!("{msg} for series {labels} at {t}"));
                out.fail(e, on_reject == OnReject::Abort);
                if on_reject == OnReject::Abort {
                    return false;
                }
                continue;
            }
        };
        match app.append_histogram(r, labels, t, &fh) {
            Ok(nr) => {
                r = nr;
                out.histograms_appended += 1;
            }
            Err(e) => {
                out.histograms_dropped += 1;
                if refused(e, labels, t, on_reject, out) {
                    return false;
                }
            }
        }
    }
    true
}

fn append_v1(req: &v1::WriteRequest, app: &mut dyn Appender, out: &mut WriteOutcome) {
    for ts in &req.timeseries {
        let labels = match series_labels(ts.labels.iter().map(|l| (&*l.name, &*l.value))) {
            Ok(l) => l,
            Err(msg) => {
                out.rejected.invalid_labels += (ts.samples.len() + ts.histograms.len()) as u64;
                out.fail(Error::RemoteWrite(msg), true);
                return;
            }
        };
        let samples = ts.samples.iter().map(|s| (s.timestamp, s.value));
        let Some(r) = append_samples(app, &labels, samples, OnReject::Abort, out) else {
            return;
        };
        for e in &ts.exemplars {
            let pairs = e.labels.iter().map(|l| (l.name.as_str(), l.value.as_str()));
            append_exemplar(app, r, &labels, pairs, e.value, e.timestamp, out);
        }
        if !append_histograms(app, r, &labels, &ts.histograms, OnReject::Abort, out) {
            return;
        }
    }
}

fn append_v2(req: &v2::Request, app: &mut dyn Appender, out: &mut WriteOutcome) {
    let sym = &req.symbols;
    for (i, ts) in req.timeseries.iter().enumerate() {
        let labels = resolve_refs(sym, &ts.labels_refs)
            .map_err(|m| format!("series {i}: {m}"))
            .and_then(|pairs| series_labels(pairs.into_iter()));
        let labels = match labels {
            Ok(l) => l,
            Err(msg) => {
                out.rejected.invalid_labels += (ts.samples.len() + ts.histograms.len()) as u64;
                out.fail(Error::RemoteWrite(msg), false);
                continue;
            }
        };
        let samples = ts.samples.iter().map(|s| (s.timestamp, s.value));
        let Some(r) = append_samples(app, &labels, samples, OnReject::Continue, out) else {
            return;
        };
        for e in &ts.exemplars {
            match resolve_refs(sym, &e.labels_refs) {
                Ok(pairs) => {
                    let ts_ms = e.timestamp;
                    append_exemplar(app, r, &labels, pairs.into_iter(), e.value, ts_ms, out)
                }
                Err(_) => out.exemplars_dropped += 1,
            }
        }
        if !append_histograms(app, r, &labels, &ts.histograms, OnReject::Continue, out) {
            return;
        }
    }
}

fn append_exemplar<'s>(
    app: &mut dyn Appender,
    r: SeriesRef,
    labels: &Labels,
    pairs: impl Iterator<Item = (&'s str, &'s str)>,
    value: f64,
    timestamp: i64,
    out: &mut WriteOutcome,
) {
    // A zero timestamp means "unset" on the wire.
    let ex = Exemplar {
        labels: Labels::from_pairs(pairs),
        value,
        timestamp: (timestamp != 0).then_some(timestamp),
    };
    match app.append_exemplar(r, labels, &ex) {
        Ok(()) => out.exemplars_appended += 1,
        Err(_) => out.exemplars_dropped += 1,
    }
}

/// Label pairs from symbol references.
fn resolve_refs<'s>(
    symbols: &'s [String],
    refs: &[u32],
) -> Result<Vec<(&'s str, &'s str)>, String> {
    if !refs.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of label references ({}): they come in name/value pairs",
            refs.len()
        ));
    }
    let get = |r: u32| {
        symbols.get(r as usize).map(String::as_str).ok_or_else(|| {
            format!(
                "label reference {r} is outside the symbols table ({} entries)",
                symbols.len()
            )
        })
    };
    refs.chunks_exact(2)
        .map(|p| Ok((get(p[0])?, get(p[1])?)))
        .collect()
}

/// Validates and builds a series' labels: sorted, no name twice, names
/// valid, `__name__` present; empty values dropped.
fn series_labels<'s>(pairs: impl Iterator<Item = (&'s str, &'s str)>) -> Result<Labels, String> {
    let mut v: Vec<Label> = Vec::new();
    for (name, value) in pairs {
        let valid = if name == METRIC_NAME {
            is_metric_name(value)
        } else {
            is_label_name(name)
        };
        if !valid {
            return Err(if name == METRIC_NAME {
                format!("invalid metric name {value:?}")
            } else {
                format!("invalid label name {name:?}")
            });
        }
        v.push(Label::new(name, value));
    }
    if !v.windows(2).all(|w| w[0].name < w[1].name) {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    if let Some(w) = v.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!(
            "label name {:?} appears twice in series {}",
            w[0].name,
            describe(&v)
        ));
    }
    v.retain(|l| !l.value.is_empty());
    if !v.iter().any(|l| l.name == METRIC_NAME) {
        return Err(format!(
            "series {} has no metric name (__name__ label)",
            describe(&v)
        ));
    }
    Ok(Labels::from_sorted(v))
}

fn describe(v: &[Label]) -> String {
    Labels::from_pairs(v.iter().map(|l| (l.name.as_str(), l.value.as_str()))).to_string()
}

fn is_metric_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b':')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod issue_18_tests {
    use super::*;

    /// issue 18 (fuzzing): a 9-byte body whose snappy header claims 200 MB
    /// is refused before the decoder allocates the claimed length.
    #[test]
    fn issue_18_snappy_header_larger_than_body_can_hold() {
        let mut body = Vec::new();
        let mut n: u64 = 200 << 20;
        while n >= 0x80 {
            body.push((n as u8) | 0x80);
            n >>= 7;
        }
        body.push(n as u8);
        body.extend_from_slice(&[0, 0, 0, 0, 0]);
        let e = decode(&body, None, Some("snappy")).unwrap_err().to_string();
        assert!(e.contains("claims 209715200 bytes"), "{e}");
        // A real body still decodes: 1000 bytes of 'a' compress ~40x.
        let raw = vec![b'a'; 1000];
        let c = snap::raw::Encoder::new().compress_vec(&raw).unwrap();
        assert!(check_snappy_ratio(c.len(), raw.len()).is_ok());
    }
}
