//! The protobuf exposition format: varint-length-delimited
//! `io.prometheus.client.MetricFamily` messages, what targets serve for
//! [`PROTOBUF_CONTENT_TYPE`] and the only format that carries native
//! histograms.
//!
//! [`decode`] splits a body the way Prometheus 2.42's `ProtobufParser`
//! presents it:
//!
//! - counters, gauges and untyped metrics: one sample named as the family;
//! - summaries: `<name>_count`, `<name>_sum`, then `<name>{quantile="q"}`
//!   per quantile;
//! - histograms without native buckets ("classic"): `<name>_count`,
//!   `<name>_sum`, then `<name>_bucket{le="b"}` per bucket, with a `+Inf`
//!   bucket added when the target left it out;
//! - histograms with native buckets (any delta or count, a zero count or a
//!   zero threshold, as 2.42's `isNativeHistogram` decides): one native
//!   histogram sample named as the family, checked and converted as
//!   remote write's are ([`crate::native_histogram`]); gauge histograms get
//!   the gauge hint. 2.42 then ignores the classic buckets.
//!
//! `quantile` and `le` values are formatted as 2.42 formats them
//! (OpenMetrics floats: `1.0`, `0.25`, `+Inf`). The float samples come out
//! as text format 0.0.4 ([`ProtobufScrape::text`]) so that the scrape path
//! labels, relabels, limits and caches them exactly as text samples; the
//! native histograms come out as a list.

use crate::Error;
use prost::Message;
use sightline_core::{FloatHistogram, Label, Labels, METRIC_NAME};
use sightline_proto::client_model::{self as cm, MetricFamily, MetricType};
use sightline_proto::prometheus as rw;
use std::fmt::Write;

/// The media type of the delimited protobuf format.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The `Accept` header Prometheus 2.42 sends with
/// `--enable-feature=native-histograms`: protobuf first, then the text
/// formats (checked against 2.42 itself; it has no
/// `scrape_classic_histograms` or bucket limit settings).
pub const SCRAPE_ACCEPT_HEADER_PROTOBUF: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// True when a response's `Content-Type` is the delimited protobuf format
/// (media type and `proto` parameter, as 2.42's `textparse.New` checks).
pub fn is_protobuf(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let media = parts.next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("application/vnd.google.protobuf")
        && parts.any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("proto")
                    && v.trim().trim_matches('"') == "io.prometheus.client.MetricFamily"
            })
        })
}

/// One native histogram sample of a scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSample {
    /// The series as text (`name{a="b"}`): the scrape cache's key.
    pub series: Vec<u8>,
    /// The series' labels, `__name__` included.
    pub labels: Labels,
    /// The metric's own timestamp (ms), if it has one.
    pub timestamp: Option<i64>,
    /// The histogram.
    pub histogram: FloatHistogram,
}

/// A decoded protobuf body, split for the scrape path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProtobufScrape {
    /// Float samples with their families' HELP/TYPE/UNIT, as text 0.0.4.
    pub text: Vec<u8>,
    /// Native histogram samples, in body order.
    pub histograms: Vec<NativeSample>,
}

/// Decodes a delimited protobuf body. Errors name the byte offset of the
/// message that does not decode, or the metric that is invalid.
pub fn decode(body: &[u8]) -> Result<ProtobufScrape, Error> {
    let mut out = ProtobufScrape::default();
    let mut buf = body;
    while !buf.is_empty() {
        let at = body.len() - buf.len();
        let mf = MetricFamily::decode_length_delimited(&mut buf).map_err(|e| {
            Error::Scrape(format!(
                "protobuf body: metric family at byte {at} does not decode: {e}"
            ))
        })?;
        // A family without a name would become text lines without one,
        // which the text parser then refuses with a message about text the
        // target never sent (found by fuzzing, issue 18).
        if mf.name.is_empty() {
            return Err(Error::Scrape(format!(
                "protobuf body: metric family at byte {at} has no name"
            )));
        }
        family(&mf, &mut out)?;
    }
    Ok(out)
}

fn escape_value(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A float as the text format reads it back bit for bit.
fn text_float(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// A float as 2.42 formats `le` and `quantile` values (OpenMetrics: a
/// whole number keeps `.0`).
fn label_float(v: f64) -> String {
    let mut s = String::new();
    text_float(v, &mut s);
    s
}

fn series_text(name: &str, labels: &[(&str, &str)]) -> String {
    let mut s = String::from(name);
    if !labels.is_empty() {
        s.push('{');
        for (i, (n, v)) in labels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(n);
            s.push_str("=\"");
            escape_value(v, &mut s);
            s.push('"');
        }
        s.push('}');
    }
    s
}

fn family(mf: &MetricFamily, out: &mut ProtobufScrape) -> Result<(), Error> {
    let name = mf.name.as_str();
    let kind = MetricType::try_from(mf.r#type).unwrap_or(MetricType::Untyped);
    let mut text = String::new();
    if !mf.help.is_empty() {
        let _ = writeln!(
            text,
            "# HELP {name} {}",
            mf.help.replace('\\', "\\\\").replace('\n', "\\n")
        );
    }
    let type_word = match kind {
        MetricType::Counter => "counter",
        MetricType::Gauge => "gauge",
        MetricType::Summary => "summary",
        MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
        MetricType::Untyped => "untyped",
    };
    let _ = writeln!(text, "# TYPE {name} {type_word}");
    for m in &mf.metric {
        let pairs: Vec<(&str, &str)> = m
            .label
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        let ts = (m.timestamp_ms != 0).then_some(m.timestamp_ms);
        let mut line = |suffix: &str, extra: Option<(&str, String)>, v: f64| {
            let mut ls = pairs.clone();
            if let Some((n, val)) = &extra {
                ls.push((n, val.as_str()));
            }
            text.push_str(&series_text(&format!("{name}{suffix}"), &ls));
            text.push(' ');
            text_float(v, &mut text);
            if let Some(t) = ts {
                let _ = write!(text, " {t}");
            }
            text.push('\n');
        };
        match kind {
            MetricType::Counter => line("", None, m.counter.as_ref().map_or(0.0, |c| c.value)),
            MetricType::Gauge => line("", None, m.gauge.map_or(0.0, |g| g.value)),
            MetricType::Untyped => line("", None, m.untyped.map_or(0.0, |u| u.value)),
            MetricType::Summary => {
                let s = m.summary.clone().unwrap_or_default();
                line("_count", None, s.sample_count as f64);
                line("_sum", None, s.sample_sum);
                for q in &s.quantile {
                    line("", Some(("quantile", label_float(q.quantile))), q.value);
                }
            }
            MetricType::Histogram | MetricType::GaugeHistogram => {
                let h = m.histogram.clone().unwrap_or_default();
                if is_native(&h) {
                    let labels = Labels::from_pairs(
                        std::iter::once((METRIC_NAME, name))
                            .chain(pairs.iter().copied())
                            .map(|(n, v)| (n.to_owned(), v.to_owned())),
                    );
                    if labels.iter().any(|l: &Label| l.name.is_empty()) {
                        return Err(Error::Scrape(format!(
                            "protobuf body: metric family {name}: empty label name"
                        )));
                    }
                    let wire = to_wire(&h, kind == MetricType::GaugeHistogram);
                    let histogram =
                        crate::native_histogram::from_remote_write(&wire).map_err(|e| {
                            Error::Scrape(format!(
                                "protobuf body: native histogram {}: {e}",
                                series_text(name, &pairs)
                            ))
                        })?;
                    out.histograms.push(NativeSample {
                        series: series_text(name, &pairs).into_bytes(),
                        labels,
                        timestamp: ts,
                        histogram,
                    });
                    continue;
                }
                let count = if h.sample_count_float > 0.0 {
                    h.sample_count_float
                } else {
                    h.sample_count as f64
                };
                line("_count", None, count);
                line("_sum", None, h.sample_sum);
                for b in &h.bucket {
                    let c = if b.cumulative_count_float > 0.0 {
                        b.cumulative_count_float
                    } else {
                        b.cumulative_count as f64
                    };
                    line("_bucket", Some(("le", label_float(b.upper_bound))), c);
                }
                if h.bucket
                    .last()
                    .is_none_or(|b| b.upper_bound != f64::INFINITY)
                {
                    line("_bucket", Some(("le", "+Inf".into())), count);
                }
            }
        }
    }
    out.text.extend_from_slice(text.as_bytes());
    Ok(())
}

/// 2.42's `isNativeHistogram`, widened to float histograms.
fn is_native(h: &cm::Histogram) -> bool {
    !h.positive_delta.is_empty()
        || !h.negative_delta.is_empty()
        || !h.positive_count.is_empty()
        || !h.negative_count.is_empty()
        || h.zero_count > 0
        || h.zero_count_float > 0.0
        || h.zero_threshold > 0.0
}

/// The remote write shape of a client-model histogram, so that both paths
/// share one conversion and one set of checks.
fn to_wire(h: &cm::Histogram, gauge: bool) -> rw::Histogram {
    let float = h.sample_count_float > 0.0
        || h.zero_count_float > 0.0
        || !h.positive_count.is_empty()
        || !h.negative_count.is_empty();
    let spans = |s: &[cm::BucketSpan]| -> Vec<rw::BucketSpan> {
        s.iter()
            .map(|s| rw::BucketSpan {
                offset: s.offset,
                length: s.length,
            })
            .collect()
    };
    rw::Histogram {
        count: Some(if float {
            rw::histogram::Count::CountFloat(h.sample_count_float)
        } else {
            rw::histogram::Count::CountInt(h.sample_count)
        }),
        zero_count: Some(if float {
            rw::histogram::ZeroCount::ZeroCountFloat(h.zero_count_float)
        } else {
            rw::histogram::ZeroCount::ZeroCountInt(h.zero_count)
        }),
        sum: h.sample_sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        negative_spans: spans(&h.negative_span),
        negative_deltas: h.negative_delta.clone(),
        negative_counts: h.negative_count.clone(),
        positive_spans: spans(&h.positive_span),
        positive_deltas: h.positive_delta.clone(),
        positive_counts: h.positive_count.clone(),
        reset_hint: if gauge {
            rw::histogram::ResetHint::Gauge as i32
        } else {
            rw::histogram::ResetHint::Unknown as i32
        },
        timestamp: 0,
        custom_values: Vec::new(),
    }
}

#[cfg(test)]
#[path = "protobuf_tests.rs"]
mod tests;
