//! Metric metadata received by remote write, kept for `/api/v1/metadata`.
//!
//! Prometheus 2.42 decodes the `metadata` of a 1.0 `WriteRequest` and drops
//! it (its receiver only appends samples and exemplars; `/api/v1/metadata`
//! reads the scrape targets' caches alone), and it has no remote write 2.0.
//! Sightline keeps it instead, because a Sightline that only receives remote
//! write (from a Prometheus, an Agent or Alloy) would otherwise show an empty
//! metric browser: 1.0 `metadata` entries by their `metric_family_name`, and
//! 2.0 per-series metadata by the series' `__name__`. It is held in memory
//! only (senders repeat it, Prometheus every minute by default), bounded in
//! families and entries per family, and forgotten when no sender repeated
//! it for [`RemoteMetadata::TTL`]. `/api/v1/targets/metadata` does not show
//! it: it belongs to no target.

use crate::remote_write::DecodedWrite;
use crate::scrape::MetricMetadata;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Families kept at most; the metadata of further ones is dropped until
/// some expire.
const MAX_FAMILIES: usize = 100_000;
/// Distinct entries kept per family (several senders may disagree).
const MAX_PER_FAMILY: usize = 10;

/// The metadata remote write senders sent recently.
#[derive(Debug, Default)]
pub struct RemoteMetadata {
    families: Mutex<HashMap<String, Vec<(MetricMetadata, Instant)>>>,
}

/// A remote write metric type number as its name (1.0 and 2.0 number the
/// types alike; 0 is `UNKNOWN` in 1.0 and `UNSPECIFIED` in 2.0).
fn type_name(t: i32) -> &'static str {
    match t {
        1 => "counter",
        2 => "gauge",
        3 => "histogram",
        4 => "gaugehistogram",
        5 => "summary",
        6 => "info",
        7 => "stateset",
        _ => "unknown",
    }
}

/// The metadata a request carries, by family name.
pub fn metadata_of(req: &DecodedWrite) -> Vec<(String, MetricMetadata)> {
    match req {
        DecodedWrite::V1(r) => r
            .metadata
            .iter()
            .filter(|m| !m.metric_family_name.is_empty())
            .map(|m| {
                (
                    m.metric_family_name.clone(),
                    MetricMetadata {
                        kind: type_name(m.r#type),
                        help: m.help.clone(),
                        unit: m.unit.clone(),
                    },
                )
            })
            .collect(),
        DecodedWrite::V2(r) => {
            let sym = |i: u32| r.symbols.get(i as usize).map(String::as_str).unwrap_or("");
            let mut out: Vec<(String, MetricMetadata)> = Vec::new();
            for ts in &r.timeseries {
                let Some(m) = &ts.metadata else { continue };
                let (help, unit) = (sym(m.help_ref), sym(m.unit_ref));
                if m.r#type == 0 && help.is_empty() && unit.is_empty() {
                    continue;
                }
                let name = ts
                    .labels_refs
                    .chunks_exact(2)
                    .find(|p| sym(p[0]) == sightline_core::METRIC_NAME)
                    .map(|p| sym(p[1]))
                    .unwrap_or("");
                if name.is_empty() {
                    continue;
                }
                let kind = type_name(m.r#type);
                // Series of one family follow each other and repeat it:
                // compare before allocating (2.0 sends it with every series).
                if out.last().is_some_and(|(n, l)| {
                    n == name && l.kind == kind && l.help == help && l.unit == unit
                }) {
                    continue;
                }
                let meta = MetricMetadata {
                    kind,
                    help: help.to_owned(),
                    unit: unit.to_owned(),
                };
                out.push((name.to_owned(), meta));
            }
            out
        }
    }
}

impl RemoteMetadata {
    /// How long an entry no sender repeated is kept.
    pub const TTL: Duration = Duration::from_secs(10 * 60);

    /// Records what one request carried.
    pub fn record(&self, items: Vec<(String, MetricMetadata)>) {
        if items.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut f = self.families.lock().unwrap_or_else(|e| e.into_inner());
        for (name, meta) in items {
            if !f.contains_key(&name) && f.len() >= MAX_FAMILIES {
                f.retain(|_, l| {
                    l.retain(|(_, t)| now.duration_since(*t) < Self::TTL);
                    !l.is_empty()
                });
                if f.len() >= MAX_FAMILIES {
                    continue;
                }
            }
            let list = f.entry(name).or_default();
            if let Some(e) = list.iter_mut().find(|(m, _)| *m == meta) {
                e.1 = now;
            } else if list.len() < MAX_PER_FAMILY {
                list.push((meta, now));
            } else if let Some(oldest) = list.iter_mut().min_by_key(|(_, t)| *t) {
                // Replace the entry repeated least recently.
                *oldest = (meta, now);
            }
        }
    }

    /// The live entries, by family name.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<MetricMetadata>> {
        let now = Instant::now();
        let f = self.families.lock().unwrap_or_else(|e| e.into_inner());
        f.iter()
            .filter_map(|(name, l)| {
                let live: Vec<MetricMetadata> = l
                    .iter()
                    .filter(|(_, t)| now.duration_since(*t) < Self::TTL)
                    .map(|(m, _)| m.clone())
                    .collect();
                (!live.is_empty()).then(|| (name.clone(), live))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_proto::{prometheus as v1, write_v2 as v2};

    #[test]
    fn v1_and_v2_metadata_are_kept_by_family() {
        let req = DecodedWrite::V1(v1::WriteRequest {
            timeseries: vec![],
            metadata: vec![v1::MetricMetadata {
                r#type: 1,
                metric_family_name: "http_requests_total".into(),
                help: "Requests.".into(),
                unit: String::new(),
            }],
        });
        let store = RemoteMetadata::default();
        store.record(metadata_of(&req));
        let v2req = DecodedWrite::V2(v2::Request {
            symbols: [
                "",
                "__name__",
                "temp_celsius",
                "Temperature.",
                "celsius",
                "job",
                "j",
            ]
            .map(String::from)
            .to_vec(),
            timeseries: vec![v2::TimeSeries {
                labels_refs: vec![1, 2, 5, 6],
                samples: vec![],
                histograms: vec![],
                exemplars: vec![],
                metadata: Some(v2::Metadata {
                    r#type: 2,
                    help_ref: 3,
                    unit_ref: 4,
                }),
                created_timestamp: 0,
            }],
        });
        store.record(metadata_of(&v2req));
        store.record(metadata_of(&v2req));
        let snap = store.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(
            snap["http_requests_total"],
            [MetricMetadata {
                kind: "counter",
                help: "Requests.".into(),
                unit: String::new()
            }]
        );
        assert_eq!(
            snap["temp_celsius"],
            [MetricMetadata {
                kind: "gauge",
                help: "Temperature.".into(),
                unit: "celsius".into()
            }]
        );
    }
}
