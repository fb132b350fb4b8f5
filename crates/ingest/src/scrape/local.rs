//! Targets whose exposition is produced in-process rather than fetched
//! over HTTP: a probe monitor's results are the body blackbox_exporter's
//! `/probe` would have served. [`LocalTarget`] appends such a body through
//! the path an HTTP scrape takes ([`super::append`]): target labels with
//! `exported_` for clashes, the series cache, staleness markers for series
//! that disappear and for a target that goes away. So a probe result is
//! stored as Prometheus stores a scrape of blackbox's `/probe`, by the same
//! code that stores every scrape.
//!
//! What differs from an HTTP target: no `up` or `scrape_*` series (there is
//! no scrape to report on; `probe_success` says whether the probe worked).

use super::append::{append_body, AppendSettings};
use super::cache::ScrapeCache;
use super::metadata::MetadataBuilder;
use crate::exposition::Format;
use sightline_core::{Labels, MetricAppender, STALE_NAN};
use std::sync::Arc;

/// One in-process target and what it wrote last.
#[derive(Debug)]
pub struct LocalTarget {
    settings: AppendSettings,
    cache: ScrapeCache,
    meta: MetadataBuilder,
}

/// What one [`LocalTarget::append`] stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalAppend {
    /// Samples in the body after labeling.
    pub samples: u64,
    /// Samples the store refused (out of order, out of bounds, duplicate).
    pub rejected: u64,
}

impl LocalTarget {
    /// A target labeled `labels` (`job`, `instance` and any others), with
    /// `honor_labels: false` (a body's own label of the same name is kept
    /// as `exported_<name>`), the body's timestamps honored, and no limits.
    pub fn new(labels: Labels) -> Self {
        LocalTarget {
            settings: AppendSettings {
                target_labels: labels,
                honor_labels: false,
                honor_timestamps: true,
                metric_relabel: Arc::new(Vec::new()),
                sample_limit: 0,
                label_limit: 0,
                label_name_length_limit: 0,
                label_value_length_limit: 0,
            },
            cache: ScrapeCache::default(),
            meta: MetadataBuilder::default(),
        }
    }

    /// The target's labels.
    pub fn labels(&self) -> &Labels {
        &self.settings.target_labels
    }

    /// Appends `body` (Prometheus text format) as scraped at `ts` (ms), in
    /// one transaction: series the previous body had and this one lacks get
    /// staleness markers. A malformed body stores nothing of itself, and
    /// every series of the previous body goes stale, as a failed scrape's
    /// do; the error names the line.
    pub fn append(
        &mut self,
        store: &dyn MetricAppender,
        body: &[u8],
        ts: i64,
    ) -> Result<LocalAppend, String> {
        let mut app = store.appender();
        let (counts, res) = append_body(
            app.as_mut(),
            &mut self.cache,
            &self.settings,
            body,
            &[],
            Format::PrometheusText,
            ts,
            &mut self.meta,
        );
        match res {
            Ok(()) => {
                app.commit().map_err(|e| e.to_string())?;
                Ok(LocalAppend {
                    samples: counts.added,
                    rejected: counts.rejected,
                })
            }
            Err(e) => {
                app.rollback();
                self.cache.reset_refs();
                let mut app = store.appender();
                self.cache.finish_failure(|labels, r| {
                    let _ = app.append(r, labels, ts, STALE_NAN);
                });
                if let Err(c) = app.commit() {
                    tracing::warn!(error = %c, "writing staleness markers");
                }
                Err(e.to_string())
            }
        }
    }

    /// The target went away at `ts`: a staleness marker for every series
    /// it last wrote. Returns the markers written.
    pub fn mark_stale(&mut self, store: &dyn MetricAppender, ts: i64) -> u64 {
        let mut app = store.appender();
        let mut n = 0;
        self.cache.mark_all_stale(|labels, r| {
            if app.append(r, labels, ts, STALE_NAN).is_ok() {
                n += 1;
            }
        });
        match app.commit() {
            Ok(_) => n,
            Err(e) => {
                tracing::warn!(error = %e, "writing staleness markers");
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_core::{is_stale_nan, MemStore, MetricQuerier};

    fn target() -> LocalTarget {
        LocalTarget::new(Labels::from_pairs([
            ("job", "web"),
            ("instance", "https://a"),
        ]))
    }

    /// Every stored (labels, values) pair, values in time order.
    fn stored(store: &MemStore) -> Vec<(String, Vec<f64>)> {
        let mut out: Vec<(String, Vec<f64>)> = store
            .select(
                &sightline_core::QueryContext::new(),
                i64::MIN,
                i64::MAX,
                &[],
            )
            .unwrap()
            .into_vec()
            .unwrap()
            .into_iter()
            .map(|s| {
                let vals = s
                    .samples
                    .map(|p| if is_stale_nan(p.v) { -1.0 } else { p.v })
                    .collect();
                (s.labels.to_string(), vals)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn target_labels_win_and_clashes_become_exported() {
        let store = MemStore::new();
        let mut t = target();
        let body = b"# TYPE probe_success gauge\nprobe_success 1\nprobe_info{instance=\"x\",job=\"y\"} 2\n";
        let r = t.append(&store, body, 1000).unwrap();
        assert_eq!(
            r,
            LocalAppend {
                samples: 2,
                rejected: 0
            }
        );
        assert_eq!(
            stored(&store),
            [
                (
                    r#"probe_info{exported_instance="x", exported_job="y", instance="https://a", job="web"}"#.to_owned(),
                    vec![2.0]
                ),
                (
                    r#"probe_success{instance="https://a", job="web"}"#.to_owned(),
                    vec![1.0]
                ),
            ]
        );
    }

    #[test]
    fn series_that_disappear_and_gone_targets_get_staleness_markers() {
        let store = MemStore::new();
        let mut t = target();
        t.append(&store, b"probe_success 1\nprobe_http_ssl 1\n", 1000)
            .unwrap();
        // A failed probe writes fewer series: the missing one ends.
        t.append(&store, b"probe_success 0\n", 2000).unwrap();
        assert_eq!(
            stored(&store),
            [
                (
                    r#"probe_http_ssl{instance="https://a", job="web"}"#.to_owned(),
                    vec![1.0, -1.0]
                ),
                (
                    r#"probe_success{instance="https://a", job="web"}"#.to_owned(),
                    vec![1.0, 0.0]
                ),
            ]
        );
        assert_eq!(t.mark_stale(&store, 3000), 1);
        assert_eq!(stored(&store)[1].1, vec![1.0, 0.0, -1.0]);
    }

    #[test]
    fn a_malformed_body_stores_nothing_and_ends_the_previous_series() {
        let store = MemStore::new();
        let mut t = target();
        t.append(&store, b"probe_success 1\n", 1000).unwrap();
        let err = t
            .append(&store, b"probe_success 1\nbad{ 2\n", 2000)
            .unwrap_err();
        assert!(err.contains("line 2") || err.contains(":2"), "{err}");
        assert_eq!(stored(&store)[0].1, vec![1.0, -1.0]);
    }
}
