//! Appending one scrape body: parse, label, relabel, limit, stale-mark.
//!
//! Everything here runs inside one appender transaction that the caller
//! commits or rolls back; nothing does I/O, so it is tested without HTTP.

use super::cache::ScrapeCache;
use super::metadata::MetadataBuilder;
use crate::exposition::protobuf::NativeSample;
use crate::exposition::{Entry, Format, Parser};
use crate::relabel::{self, RelabelConfig};
use sightline_core::{Appender, ErrorKind, Labels, SeriesRef, METRIC_NAME, STALE_NAN};
use std::sync::Arc;

/// How samples of one target are labeled and limited.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppendSettings {
    pub target_labels: Labels,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub metric_relabel: Arc<Vec<RelabelConfig>>,
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
}

/// Counts of one scrape, reported as `scrape_samples_*` / `scrape_series_added`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AppendCounts {
    /// Samples in the body.
    pub total: u64,
    /// Samples left after metric relabeling.
    pub added: u64,
    /// Series this target had not exposed before (cache misses kept).
    pub series_added: u64,
    /// Samples the store refused as out of order, out of bounds or duplicate.
    pub rejected: u64,
}

/// Why a scrape's samples were not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppendError {
    /// The body is malformed (the message names the line).
    Parse(String),
    /// A limit was exceeded.
    Limit(String),
    /// The store failed.
    Storage(String),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppendError::Parse(m) | AppendError::Limit(m) | AppendError::Storage(m) => {
                f.write_str(m)
            }
        }
    }
}

/// Appends `body` into `app` at scrape time `ts` (ms), then `natives`
/// (the native histograms of a protobuf scrape, whose other samples are in
/// `body` as text). On error the caller must roll `app` back; the counts
/// are still meaningful for the report.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_body(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    settings: &AppendSettings,
    body: &[u8],
    natives: &[NativeSample],
    format: Format,
    ts: i64,
    meta: &mut MetadataBuilder,
) -> (AppendCounts, Result<(), AppendError>) {
    let mut counts = AppendCounts::default();
    let no_labels = Labels::empty();
    meta.clear();
    let mut limit_error: Option<AppendError> = None;
    cache.begin();
    let mut parser = Parser::new(body, format);
    loop {
        let entry = match parser.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => return (counts, Err(AppendError::Parse(e.to_string()))),
        };
        let (series, timestamp, value) = match entry {
            Entry::Sample {
                series,
                timestamp,
                value,
            } => (series, timestamp, value),
            Entry::Type { name, kind } => {
                meta.entry(name).kind = Some(kind.as_str());
                continue;
            }
            Entry::Help { name, text } => {
                meta.entry(name).help = Some(text);
                continue;
            }
            Entry::Unit { name, unit } => {
                meta.entry(name).unit = Some(unit.to_owned());
                continue;
            }
            Entry::Comment => continue,
        };
        counts.total += 1;
        // The parser lexes a label set only when asked (see `exposition`):
        // a hit's text was validated when it was cached, so it is asked for
        // misses only, and for hits validated in the other format, whose
        // label grammar differs.
        let slot = match cache.get(series) {
            Some(s) if cache.entry(s).format == format => s,
            Some(s) => {
                if let Err(e) = parser.labels() {
                    return (counts, Err(AppendError::Parse(e.to_string())));
                }
                cache.set_format(s, format);
                s
            }
            None => {
                let scraped = match parser.labels() {
                    Ok(l) => l,
                    Err(e) => return (counts, Err(AppendError::Parse(e.to_string()))),
                };
                let labels = mutate_labels(settings, scraped);
                if let Some(l) = &labels {
                    if l.metric_name().is_none() {
                        return (
                            counts,
                            Err(AppendError::Parse(format!(
                                "line {}: missing metric name (__name__ label)",
                                parser.line()
                            ))),
                        );
                    }
                    if let Err(e) = check_label_limits(settings, series, l) {
                        return (counts, Err(AppendError::Limit(e)));
                    }
                    counts.series_added += 1;
                }
                cache.insert(series, labels, 0, format)
            }
        };
        let entry = cache.entry(slot);
        if !entry.kept {
            continue;
        }
        counts.added += 1;
        if settings.sample_limit > 0 && counts.added > settings.sample_limit {
            // Keep counting what the body holds, as Prometheus reports it,
            // but store nothing more: the whole scrape is going to fail.
            limit_error.get_or_insert_with(|| AppendError::Limit("sample limit exceeded".into()));
            continue;
        }
        if limit_error.is_some() {
            continue;
        }
        let t = match timestamp {
            Some(t) if settings.honor_timestamps => t,
            _ => ts,
        };
        let labels = cache.labels(slot);
        let mut result = app.append(entry.series_ref, labels.unwrap_or(&no_labels), t, value);
        if labels.is_none()
            && result
                .as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::NotFound)
        {
            // The store forgot the handle the cache kept instead of the
            // labels (its head dropped the series while idle): label the
            // series again from this very line and append by labels.
            let scraped = match parser.labels() {
                Ok(l) => l,
                Err(e) => return (counts, Err(AppendError::Parse(e.to_string()))),
            };
            let Some(labels) = mutate_labels(settings, scraped) else {
                continue;
            };
            cache.set_labels(slot, labels);
            let labels = cache.labels(slot).expect("labels just set");
            result = app.append(0, labels, t, value);
        }
        match result {
            Ok(r) => {
                let entry = cache.entry(slot);
                if r != entry.series_ref {
                    cache.set_ref(slot, r);
                }
                if let Some(ex) = parser.exemplar() {
                    let labels = cache.labels(slot).unwrap_or(&no_labels);
                    // Exemplars are best effort, as in Prometheus.
                    let _ = app.append_exemplar(r, labels, &ex);
                }
            }
            Err(e) => match e.kind() {
                // LimitExceeded: a tenant's series limit refused a new
                // series; the target's known series still go in.
                ErrorKind::OutOfOrder
                | ErrorKind::OutOfBounds
                | ErrorKind::DuplicateSample
                | ErrorKind::LimitExceeded => {
                    counts.rejected += 1;
                    continue;
                }
                _ => return (counts, Err(AppendError::Storage(e.to_string()))),
            },
        }
        // Series with explicit timestamps are not marked stale: their
        // timestamps say when they were true, not when they were scraped.
        if timestamp.is_none() {
            cache.track(slot);
        }
    }
    for n in natives {
        if let Err(e) = append_native(
            app,
            cache,
            settings,
            n,
            format,
            ts,
            &mut counts,
            &mut limit_error,
        ) {
            return (counts, Err(e));
        }
    }
    if let Some(e) = limit_error {
        return (counts, Err(e));
    }
    cache.finish_success(|labels, r| {
        // A marker the store refuses (say, out of order after an explicit
        // timestamp) is not worth failing the scrape for.
        let _ = app.append(r, labels, ts, STALE_NAN);
    });
    (counts, Ok(()))
}

/// Appends one native histogram sample with the labeling, limits, cache
/// and staleness tracking of float samples (a histogram series that
/// disappears gets a float staleness marker, which ends it as Prometheus's
/// does).
#[allow(clippy::too_many_arguments)]
fn append_native(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    settings: &AppendSettings,
    n: &NativeSample,
    format: Format,
    ts: i64,
    counts: &mut AppendCounts,
    limit_error: &mut Option<AppendError>,
) -> Result<(), AppendError> {
    counts.total += 1;
    let slot = match cache.get(&n.series) {
        Some(s) => s,
        None => {
            let labels = mutate_labels(settings, n.labels.clone());
            if let Some(l) = &labels {
                check_label_limits(settings, &n.series, l).map_err(AppendError::Limit)?;
                counts.series_added += 1;
            }
            cache.insert(&n.series, labels, 0, format)
        }
    };
    if !cache.entry(slot).kept {
        return Ok(());
    }
    counts.added += 1;
    if settings.sample_limit > 0 && counts.added > settings.sample_limit {
        limit_error.get_or_insert_with(|| AppendError::Limit("sample limit exceeded".into()));
        return Ok(());
    }
    if limit_error.is_some() {
        return Ok(());
    }
    let t = match n.timestamp {
        Some(t) if settings.honor_timestamps => t,
        _ => ts,
    };
    let r = cache.entry(slot).series_ref;
    let labels = match cache.labels(slot) {
        Some(l) => l.clone(),
        None => match mutate_labels(settings, n.labels.clone()) {
            Some(l) => l,
            None => return Ok(()),
        },
    };
    let mut result = app.append_histogram(r, &labels, t, &n.histogram);
    if result
        .as_ref()
        .is_err_and(|e| e.kind() == ErrorKind::NotFound)
    {
        result = app.append_histogram(0, &labels, t, &n.histogram);
    }
    match result {
        Ok(r) => {
            if r != cache.entry(slot).series_ref {
                cache.set_ref(slot, r);
            }
        }
        Err(e) => match e.kind() {
            ErrorKind::OutOfOrder | ErrorKind::OutOfBounds | ErrorKind::DuplicateSample => {
                counts.rejected += 1;
                return Ok(());
            }
            _ => return Err(AppendError::Storage(e.to_string())),
        },
    }
    if n.timestamp.is_none() {
        cache.track(slot);
    }
    Ok(())
}

/// Attaches target labels to scraped labels (Prometheus's
/// `mutateSampleLabels`), then applies `metric_relabel_configs`. `None`
/// when the series is dropped.
pub(crate) fn mutate_labels(settings: &AppendSettings, scraped: Labels) -> Option<Labels> {
    let target = &settings.target_labels;
    let mut lb = scraped.to_builder();
    if settings.honor_labels {
        for l in target {
            if scraped.get(&l.name).is_none() {
                lb.set(l.name.clone(), l.value.clone());
            }
        }
    } else {
        let mut conflicts: Vec<(String, String)> = Vec::new();
        for l in target {
            if let Some(v) = scraped.get(&l.name) {
                conflicts.push((l.name.clone(), v.to_owned()));
            }
            lb.set(l.name.clone(), l.value.clone());
        }
        if !conflicts.is_empty() {
            // Shorter names first, each prefixed with `exported_` until it
            // clashes with nothing, as Prometheus resolves them.
            conflicts.sort_by_key(|(n, _)| n.len());
            for i in 0..conflicts.len() {
                let mut name = conflicts[i].0.clone();
                loop {
                    name = format!("exported_{name}");
                    let taken = scraped.get(&name).is_some()
                        || target.get(&name).is_some()
                        || conflicts[..i].iter().any(|(n, _)| *n == name);
                    if !taken {
                        break;
                    }
                }
                conflicts[i].0 = name;
            }
            for (n, v) in conflicts {
                lb.set(n, v);
            }
        }
    }
    if !settings.metric_relabel.is_empty() && !relabel::process(&settings.metric_relabel, &mut lb) {
        return None;
    }
    let out = lb.into_labels();
    (!out.is_empty()).then_some(out)
}

fn check_label_limits(s: &AppendSettings, raw: &[u8], l: &Labels) -> Result<(), String> {
    let met: String = String::from_utf8_lossy(raw).chars().take(50).collect();
    if s.label_limit > 0 && l.len() as u64 > s.label_limit {
        return Err(format!(
            "label_limit exceeded (metric: {met}, number of labels: {}, limit: {})",
            l.len(),
            s.label_limit
        ));
    }
    for label in l {
        if s.label_name_length_limit > 0 && label.name.len() as u64 > s.label_name_length_limit {
            return Err(format!(
                "label_name_length_limit exceeded (metric: {met}, label name: {}, length: {}, limit: {})",
                truncate(&label.name),
                label.name.len(),
                s.label_name_length_limit
            ));
        }
        if s.label_value_length_limit > 0 && label.value.len() as u64 > s.label_value_length_limit {
            return Err(format!(
                "label_value_length_limit exceeded (metric: {met}, label name: {}, value: {:?}, length: {}, limit: {})",
                truncate(&label.name),
                truncate(&label.value),
                label.value.len(),
                s.label_value_length_limit
            ));
        }
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(50).collect()
}

/// The five series Prometheus writes about every scrape of a target.
pub(crate) struct ReportSeries {
    series: [(Labels, SeriesRef); 5],
}

/// What the report says about one scrape.
pub(crate) struct Report {
    pub up: bool,
    pub duration_secs: f64,
    pub counts: AppendCounts,
}

impl ReportSeries {
    pub fn new(target_labels: &Labels) -> Self {
        let mk = |name: &str| {
            let mut lb = target_labels.to_builder();
            lb.set(METRIC_NAME, name);
            (lb.into_labels(), 0)
        };
        ReportSeries {
            series: [
                mk("up"),
                mk("scrape_duration_seconds"),
                mk("scrape_samples_scraped"),
                mk("scrape_samples_post_metric_relabeling"),
                mk("scrape_series_added"),
            ],
        }
    }

    /// Forgets the store handles (after a rollback).
    pub fn reset_refs(&mut self) {
        for (_, r) in self.series.iter_mut() {
            *r = 0;
        }
    }

    /// Appends the report at `ts`; `None` writes staleness markers instead.
    pub fn append(
        &mut self,
        app: &mut dyn Appender,
        ts: i64,
        report: Option<&Report>,
    ) -> sightline_core::Result<()> {
        let values = match report {
            Some(r) => [
                if r.up { 1.0 } else { 0.0 },
                r.duration_secs,
                r.counts.total as f64,
                r.counts.added as f64,
                r.counts.series_added as f64,
            ],
            None => [STALE_NAN; 5],
        };
        for ((labels, r), v) in self.series.iter_mut().zip(values) {
            match app.append(*r, labels, ts, v) {
                Ok(new_ref) => *r = new_ref,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::OutOfOrder | ErrorKind::OutOfBounds | ErrorKind::DuplicateSample
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(honor: bool, target: &[(&str, &str)]) -> AppendSettings {
        AppendSettings {
            target_labels: Labels::from_pairs(target.iter().copied()),
            honor_labels: honor,
            honor_timestamps: true,
            metric_relabel: Arc::new(Vec::new()),
            sample_limit: 0,
            label_limit: 0,
            label_name_length_limit: 0,
            label_value_length_limit: 0,
        }
    }

    fn ls(p: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(p.iter().copied())
    }

    #[test]
    fn target_labels_win_and_scraped_ones_become_exported() {
        let s = settings(false, &[("job", "j"), ("instance", "i:1")]);
        let got = mutate_labels(
            &s,
            ls(&[
                ("__name__", "m"),
                ("job", "other"),
                ("exported_job", "x"),
                ("instance", "i"),
            ]),
        );
        // exported_job is taken by the scraped labels, so the conflicting
        // job value moves to exported_exported_job (Prometheus 2.42 stores
        // exactly this for such a body).
        assert_eq!(
            got,
            Some(ls(&[
                ("__name__", "m"),
                ("exported_exported_job", "other"),
                ("exported_instance", "i"),
                ("exported_job", "x"),
                ("instance", "i:1"),
                ("job", "j"),
            ]))
        );
    }

    #[test]
    fn honor_labels_keeps_scraped_values() {
        let s = settings(true, &[("job", "j"), ("instance", "i:1")]);
        let got = mutate_labels(&s, ls(&[("__name__", "m"), ("job", "pushed")]));
        assert_eq!(
            got,
            Some(ls(&[
                ("__name__", "m"),
                ("instance", "i:1"),
                ("job", "pushed")
            ]))
        );
    }

    #[test]
    fn metric_relabeling_can_drop() {
        let mut s = settings(false, &[("job", "j")]);
        let rules: Vec<RelabelConfig> =
            serde_saphyr::from_str("- source_labels: [__name__]\n  regex: go_.*\n  action: drop\n")
                .unwrap();
        s.metric_relabel = Arc::new(rules);
        assert_eq!(mutate_labels(&s, ls(&[("__name__", "go_gc")])), None);
        assert!(mutate_labels(&s, ls(&[("__name__", "up2")])).is_some());
    }

    #[test]
    fn label_limits_name_the_metric() {
        let mut s = settings(false, &[]);
        s.label_limit = 1;
        let e = check_label_limits(&s, b"m{a=\"1\"}", &ls(&[("__name__", "m"), ("a", "1")]))
            .unwrap_err();
        assert_eq!(
            e,
            "label_limit exceeded (metric: m{a=\"1\"}, number of labels: 2, limit: 1)"
        );
        s.label_limit = 0;
        s.label_value_length_limit = 2;
        let e = check_label_limits(&s, b"m", &ls(&[("__name__", "m"), ("a", "long")])).unwrap_err();
        assert!(e.starts_with("label_value_length_limit exceeded (metric: m, label name: a, value: \"long\", length: 4, limit: 2)"), "{e}");
    }

    /// A store that hands out handles and can forget them, as the TSDB's
    /// head does for series that went idle.
    #[derive(Default)]
    struct HandleStore {
        by_ref: std::collections::HashMap<SeriesRef, Labels>,
        next: SeriesRef,
        samples: Vec<(Labels, i64, f64)>,
    }

    impl Appender for HandleStore {
        fn append(
            &mut self,
            r: SeriesRef,
            labels: &Labels,
            t: i64,
            v: f64,
        ) -> sightline_core::Result<SeriesRef> {
            if let Some(l) = self.by_ref.get(&r) {
                self.samples.push((l.clone(), t, v));
                return Ok(r);
            }
            if labels.is_empty() {
                return Err(sightline_core::Error::new(
                    ErrorKind::NotFound,
                    "unknown handle",
                ));
            }
            self.next += 1;
            self.by_ref.insert(self.next, labels.clone());
            self.samples.push((labels.clone(), t, v));
            Ok(self.next)
        }
        fn commit(self: Box<Self>) -> sightline_core::Result<sightline_core::AppendStats> {
            Ok(Default::default())
        }
        fn rollback(self: Box<Self>) {}
    }

    #[test]
    fn cache_drops_labels_once_committed_and_relabels_forgotten_handles() {
        let s = settings(false, &[("job", "j")]);
        let mut store = HandleStore::default();
        let mut cache = ScrapeCache::new();
        let mut meta = MetadataBuilder::default();
        let body = |a: f64, b: Option<f64>| {
            let mut t = format!("a{{x=\"1\"}} {a}\n");
            if let Some(b) = b {
                t.push_str(&format!("b {b}\n"));
            }
            t
        };
        let (_, r) = append_body(
            &mut store,
            &mut cache,
            &s,
            body(1.0, Some(2.0)).as_bytes(),
            &[],
            Format::PrometheusText,
            1000,
            &mut meta,
        );
        r.unwrap();
        for raw in [&b"a{x=\"1\"}"[..], b"b"] {
            let slot = cache.get(raw).expect("cached");
            assert!(
                cache.labels(slot).is_none() && cache.entry(slot).series_ref != 0,
                "labels kept after commit"
            );
        }

        // The store forgets every handle: the next scrape must label the
        // series again from their lines, with the target's labels.
        store.by_ref.clear();
        store.samples.clear();
        let (_, r) = append_body(
            &mut store,
            &mut cache,
            &s,
            body(3.0, Some(4.0)).as_bytes(),
            &[],
            Format::PrometheusText,
            2000,
            &mut meta,
        );
        r.unwrap();
        let a = ls(&[("__name__", "a"), ("job", "j"), ("x", "1")]);
        let b = ls(&[("__name__", "b"), ("job", "j")]);
        assert_eq!(
            store.samples,
            vec![(a.clone(), 2000, 3.0), (b.clone(), 2000, 4.0)]
        );

        // b goes away: its staleness marker goes by handle.
        store.samples.clear();
        let (_, r) = append_body(
            &mut store,
            &mut cache,
            &s,
            body(5.0, None).as_bytes(),
            &[],
            Format::PrometheusText,
            3000,
            &mut meta,
        );
        r.unwrap();
        assert_eq!(store.samples.len(), 2);
        assert_eq!(store.samples[0], (a, 3000, 5.0));
        assert_eq!(store.samples[1].0, b);
        assert!(sightline_core::is_stale_nan(store.samples[1].2));
    }

    fn scrape(
        store: &mut HandleStore,
        cache: &mut ScrapeCache,
        body: &str,
        format: Format,
    ) -> Result<(), AppendError> {
        let s = settings(false, &[("job", "j")]);
        let mut meta = MetadataBuilder::default();
        let r = append_body(
            store,
            cache,
            &s,
            body.as_bytes(),
            &[],
            format,
            1000,
            &mut meta,
        )
        .1;
        match r {
            Ok(()) => cache.finish_success(|_, _| {}),
            Err(_) => {
                cache.reset_refs();
                cache.finish_failure(|_, _| {});
            }
        }
        r
    }

    #[test]
    fn malformed_label_sets_of_new_series_fail_the_scrape() {
        for (body, format, want) in [
            (
                "a 1\nb{c=\"1\",c=\"2\"} 1\n",
                Format::PrometheusText,
                "line 2: duplicate label name \"c\"",
            ),
            (
                "a 1\nb{c=\"1\",} 1\n# EOF\n",
                Format::OpenMetrics,
                "line 2: trailing comma in label set",
            ),
        ] {
            let mut store = HandleStore::default();
            let mut cache = ScrapeCache::new();
            match scrape(&mut store, &mut cache, body, format) {
                Err(AppendError::Parse(m)) => assert!(m.starts_with(want), "{m}"),
                other => panic!("{body:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn cache_hits_are_not_lexed_again() {
        // A text in the cache was validated when it was inserted, so its
        // label set is not lexed again. Shown with a text the lexer would
        // refuse, which only a test can put there.
        let mut store = HandleStore::default();
        let mut cache = ScrapeCache::new();
        cache.begin();
        let l = ls(&[("__name__", "a"), ("x", "1")]);
        cache.insert(
            b"a{x=\"1\",x=\"2\"}",
            Some(l.clone()),
            0,
            Format::PrometheusText,
        );
        cache.finish_success(|_, _| {});
        scrape(
            &mut store,
            &mut cache,
            "a{x=\"1\",x=\"2\"} 5\n",
            Format::PrometheusText,
        )
        .unwrap();
        assert_eq!(store.samples, vec![(l, 1000, 5.0)]);
    }

    #[test]
    fn hits_validated_as_text_are_checked_again_as_openmetrics() {
        // Text 0.0.4 takes a trailing comma, OpenMetrics does not: the same
        // bytes, cached from a text scrape, must fail an OpenMetrics one.
        let mut store = HandleStore::default();
        let mut cache = ScrapeCache::new();
        let text = "a{x=\"1\",} 1\nb 2\n";
        scrape(&mut store, &mut cache, text, Format::PrometheusText).unwrap();
        scrape(&mut store, &mut cache, text, Format::PrometheusText).unwrap();
        let om = "a{x=\"1\",} 1\n# EOF\n";
        match scrape(&mut store, &mut cache, om, Format::OpenMetrics) {
            Err(AppendError::Parse(m)) => {
                assert!(m.starts_with("line 1: trailing comma in label set"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        // Per entry, not per scrape: `a` stays cached while an OpenMetrics
        // scrape without it succeeds, and still fails when it comes back.
        scrape(&mut store, &mut cache, "b 2\n# EOF\n", Format::OpenMetrics).unwrap();
        assert!(scrape(&mut store, &mut cache, om, Format::OpenMetrics).is_err());
        // Valid in both formats: checked once more, then a plain hit.
        let both = "a{x=\"1\"} 1\nb 2\n# EOF\n";
        scrape(
            &mut store,
            &mut cache,
            "a{x=\"1\"} 1\nb 2\n",
            Format::PrometheusText,
        )
        .unwrap();
        scrape(&mut store, &mut cache, both, Format::OpenMetrics).unwrap();
        let slot = cache.get(b"a{x=\"1\"}").unwrap();
        assert_eq!(cache.entry(slot).format, Format::OpenMetrics);
    }
}
