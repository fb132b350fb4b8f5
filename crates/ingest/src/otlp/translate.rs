//! An `ExportMetricsServiceRequest` to appender calls, as Prometheus 3's
//! receiver maps it (`FromMetrics` and its helpers):
//!
//! - gauges, and sums that are not monotonic, become gauges; monotonic
//!   sums become counters named `..._total`;
//! - explicit-bucket histograms become `_bucket{le=...}` (cumulative
//!   counts, `+Inf` last), `_sum` (only when the point has a sum) and
//!   `_count`; summaries become `{quantile=...}`, `_sum` and `_count`;
//! - exponential histograms become native histograms;
//! - delta sums and histograms are turned into cumulative ones first
//!   ([`super::delta`]); a sum or histogram without temporality is refused;
//! - a point flagged "no recorded value" becomes the staleness marker;
//! - exemplars go to the series of the point (for histograms, to the first
//!   bucket whose bound is at least the exemplar's value), with `trace_id`
//!   and `span_id` labels in hex and the filtered attributes when all fit
//!   in 128 characters;
//! - every resource with points and non-identifying attributes also gets a
//!   `target_info` series (value 1 from its earliest to its latest point,
//!   every half lookback delta) carrying those attributes.

use super::cache::{self, RefCache};
use super::config::OtlpConfig;
use super::delta::{DeltaState, Total};
use super::exphist::{self, ExpPoint, NativeHistogram};
use super::labels::{
    attr, value_string, LabelSet, ResourceLabels, SERVICE_INSTANCE_ID, SERVICE_NAME,
    SERVICE_NAMESPACE,
};
use super::names::{label_name, metric_name, LabelNaming, MetricKind};
use super::wire::{Data, Metric, NumberDataPoint, Request, ScopeMetrics};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, number_data_point, AggregationTemporality, Exemplar as OtlpExemplar,
    HistogramDataPoint, SummaryDataPoint,
};
use sightline_core::gofmt::shortest_f;
use sightline_core::{Appender, ErrorKind, Exemplar, Labels, SeriesRef, STALE_NAN};
use std::sync::Mutex;

/// The OTLP flag bit for "no recorded value".
const FLAG_NO_RECORDED_VALUE: u32 = 1;
/// Exemplar labels beyond this many characters drop the filtered attributes.
const MAX_EXEMPLAR_RUNES: usize = 128;

/// What a request did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Data points in the request.
    pub points: u64,
    /// Data points refused (bad metric, refused delta, refused by the store).
    pub rejected_points: u64,
    /// Float samples appended.
    pub samples_appended: u64,
    /// Native histogram samples appended.
    pub histograms_appended: u64,
    /// Exemplars appended.
    pub exemplars_appended: u64,
    /// Exemplars the store refused (they never fail a point).
    pub exemplars_dropped: u64,
    /// The first problems, for the partial-success message.
    pub messages: Vec<String>,
    /// Problems not in `messages`.
    pub more_messages: u64,
    /// A store failure that ends the request; everything is rolled back.
    pub store_error: Option<sightline_core::Error>,
    /// Attributes that did not decode (protobuf bodies decode them only
    /// when needed): the request is malformed, answered 400 and rolled
    /// back, as when the body itself does not decode.
    pub decode_error: Option<prost::DecodeError>,
}

impl Outcome {
    fn note(&mut self, msg: String) {
        if self.messages.len() < 3 {
            self.messages.push(msg);
        } else {
            self.more_messages += 1;
        }
    }

    /// The partial-success message: the first problems and how many more.
    pub fn error_message(&self) -> String {
        let mut s = self.messages.join("; ");
        if self.more_messages > 0 {
            s.push_str(&format!(" (and {} more)", self.more_messages));
        }
        s
    }
}

/// The request ends: the store failed.
pub(super) struct Abort;

type Step = Result<(), Abort>;

pub(super) struct Converter<'a> {
    pub cfg: &'a OtlpConfig,
    pub delta: &'a Mutex<DeltaState>,
    pub cache: &'a Mutex<RefCache>,
    pub app: &'a mut dyn Appender,
    pub now_ms: i64,
    pub lookback_ms: i64,
    pub out: Outcome,
    naming: LabelNaming,
    /// Set when a sample of the current point was refused.
    point_failed: bool,
    /// Cache key of the current resource and scope, and of the metric.
    scope_key: Option<u128>,
    metric_key: Option<u128>,
}

fn ms(ns: u64) -> i64 {
    (ns / 1_000_000) as i64
}

impl<'a> Converter<'a> {
    pub fn new(
        cfg: &'a OtlpConfig,
        delta: &'a Mutex<DeltaState>,
        cache: &'a Mutex<RefCache>,
        app: &'a mut dyn Appender,
        now_ms: i64,
        lookback_ms: i64,
    ) -> Self {
        let naming = LabelNaming {
            escape: cfg.translation_strategy.escapes(),
            underscore_sanitization: cfg.label_name_underscore_sanitization,
            preserve_multiple_underscores: cfg.label_name_preserve_multiple_underscores,
        };
        Converter {
            cfg,
            delta,
            cache,
            app,
            now_ms,
            lookback_ms,
            out: Outcome::default(),
            naming,
            point_failed: false,
            scope_key: None,
            metric_key: None,
        }
    }

    /// Converts and appends the whole request; stops at a store failure.
    pub fn request(&mut self, req: &Request) {
        for rm in &req.resource_metrics {
            let attrs = rm
                .resource
                .as_ref()
                .map(|r| r.attributes.as_slice())
                .unwrap_or(&[]);
            let mut res = ResourceLabels::new(attrs, self.cfg, self.naming);
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            let resource_key = cache::hash_attrs(&mut h, attrs).then(|| h.digest128());
            let mut range = (i64::MAX, i64::MIN);
            for sm in &rm.scope_metrics {
                res.scope = self.scope_labels(sm);
                let parts: Vec<&[u8]> = res
                    .scope
                    .iter()
                    .flat_map(|(n, v)| [n.as_bytes(), v.as_bytes()])
                    .collect();
                self.scope_key = resource_key.map(|k| cache::derive(k, &parts));
                for m in &sm.metrics {
                    update_range(&mut range, m);
                    if self.metric(&res, m).is_err() {
                        return;
                    }
                }
            }
            if range.0 <= range.1 && self.target_info(attrs, &res, range).is_err() {
                return;
            }
        }
    }

    fn scope_labels(&self, sm: &ScopeMetrics) -> Vec<(String, String)> {
        let Some(scope) = sm.scope.as_ref().filter(|s| !s.name.is_empty()) else {
            return Vec::new();
        };
        if !self.cfg.promote_scope_metadata {
            return Vec::new();
        }
        let mut v = vec![
            ("otel_scope_name".into(), scope.name.clone()),
            ("otel_scope_version".into(), scope.version.clone()),
            ("otel_scope_schema_url".into(), sm.schema_url.clone()),
        ];
        for kv in &scope.attributes {
            if let Some(n) = label_name(&format!("otel_scope_{}", kv.key), self.naming) {
                v.push((n, value_string(kv.value.as_ref())));
            }
        }
        v
    }

    fn refuse_points(&mut self, n: usize, msg: String) {
        self.out.points += n as u64;
        self.out.rejected_points += n as u64;
        self.out.note(msg);
    }

    fn metric(&mut self, res: &ResourceLabels, m: &Metric) -> Step {
        let Some(data) = &m.data else {
            self.out.note(format!("metric {:?} has no data", m.name));
            return Ok(());
        };
        let (kind, n_points, temporality) = match data {
            Data::Gauge(g) => (MetricKind::Gauge, g.data_points.len(), None),
            Data::Sum(s) => (
                if s.is_monotonic {
                    MetricKind::Counter
                } else {
                    MetricKind::Gauge
                },
                s.data_points.len(),
                Some(s.aggregation_temporality),
            ),
            Data::Histogram(h) => (
                MetricKind::Histogram,
                h.data_points.len(),
                Some(h.aggregation_temporality),
            ),
            Data::ExponentialHistogram(h) => (
                MetricKind::Histogram,
                h.data_points.len(),
                Some(h.aggregation_temporality),
            ),
            Data::Summary(s) => (MetricKind::Summary, s.data_points.len(), None),
        };
        let delta = match temporality {
            Some(t) if t == AggregationTemporality::Cumulative as i32 => false,
            Some(t) if t == AggregationTemporality::Delta as i32 => true,
            Some(t) => {
                self.validate(m)?;
                self.refuse_points(
                    n_points,
                    format!(
                        "invalid temporality and type combination for metric {:?} (aggregation temporality {t})",
                        m.name
                    ),
                );
                return Ok(());
            }
            None => false,
        };
        let Some(name) = metric_name(&m.name, &m.unit, kind, self.cfg.translation_strategy) else {
            self.validate(m)?;
            self.refuse_points(
                n_points,
                format!(
                    "metric name {:?} translates to an empty or invalid name",
                    m.name
                ),
            );
            return Ok(());
        };
        self.metric_key = self
            .scope_key
            .map(|k| cache::derive(k, &[name.as_bytes(), &[kind as u8]]));
        match data {
            Data::Gauge(g) => {
                for p in &g.data_points {
                    self.number(res, &name, p, false)?;
                }
            }
            Data::Sum(s) => {
                for p in &s.data_points {
                    self.number(res, &name, p, delta)?;
                }
            }
            Data::Histogram(h) => {
                for p in &h.data_points {
                    self.histogram(res, &name, p, delta)?;
                }
            }
            Data::ExponentialHistogram(h) => {
                for p in &h.data_points {
                    self.begin_point();
                    let labels = res
                        .point_labels(&p.attributes, self.naming, &[])
                        .into_series(&name);
                    let stale = p.flags & FLAG_NO_RECORDED_VALUE != 0;
                    let mut point = ExpPoint::from_proto(p);
                    if delta && !stale {
                        match self.accumulate(
                            labels.stable_hash(),
                            &|| labels.clone(),
                            p.start_time_unix_nano,
                            p.time_unix_nano,
                            Total::Exponential(point),
                        ) {
                            Some(Total::Exponential(t)) => point = t,
                            _ => {
                                self.end_point();
                                continue;
                            }
                        }
                    }
                    match exphist::to_native(&point, stale) {
                        Ok(h) => {
                            let r = self.native(&labels, ms(p.time_unix_nano), h)?;
                            if let Some(r) = r {
                                self.exemplars(r, &labels, &p.exemplars);
                            }
                        }
                        Err(e) => self.refuse_sample(format!("{e} (series {labels})")),
                    }
                    self.end_point();
                }
            }
            Data::Summary(s) => {
                for p in &s.data_points {
                    self.summary(res, &name, p)?;
                }
            }
        }
        Ok(())
    }

    /// Ends the request when an attribute of `m`'s points does not decode
    /// (a refused metric's points are not translated, but a malformed
    /// request is refused whole).
    fn validate(&mut self, m: &Metric) -> Step {
        m.validate().map_err(|e| self.decode_failed(e))
    }

    fn decode_failed(&mut self, e: prost::DecodeError) -> Abort {
        self.out.decode_error = Some(e);
        Abort
    }

    fn begin_point(&mut self) {
        self.out.points += 1;
        self.point_failed = false;
    }

    fn end_point(&mut self) {
        if self.point_failed {
            self.out.rejected_points += 1;
        }
    }

    fn refuse_sample(&mut self, msg: String) {
        if !self.point_failed {
            self.point_failed = true;
            self.out.note(msg);
        }
    }

    /// Adds a delta to its stream's total; `None` (point refused) when the
    /// stream refuses it.
    fn accumulate(
        &mut self,
        key: u64,
        describe: &dyn Fn() -> Labels,
        start: u64,
        time: u64,
        d: Total,
    ) -> Option<Total> {
        let r = self.delta.lock().unwrap_or_else(|e| e.into_inner()).add(
            key,
            start,
            time,
            d,
            self.now_ms,
        );
        match r {
            Ok((t, _start)) => Some(t),
            Err(e) => {
                self.refuse_sample(format!("{e}: series {} at {}", describe(), ms(time)));
                None
            }
        }
    }

    /// Appends one float sample. `Ok(None)` when the store refused it (the
    /// point is counted as rejected), `Err` when the store failed.
    fn sample(&mut self, labels: &Labels, t: i64, v: f64) -> Result<Option<SeriesRef>, Abort> {
        match self.app.append(0, labels, t, v) {
            Ok(r) => {
                self.out.samples_appended += 1;
                Ok(Some(r))
            }
            Err(e) => self.store_refusal(e, labels, t),
        }
    }

    fn store_refusal<T>(
        &mut self,
        e: sightline_core::Error,
        labels: &Labels,
        t: i64,
    ) -> Result<Option<T>, Abort> {
        match e.kind() {
            ErrorKind::OutOfOrder
            | ErrorKind::OutOfBounds
            | ErrorKind::DuplicateSample
            | ErrorKind::BadData => {
                self.refuse_sample(format!("{} for series {labels} at {t}", e.message()));
                Ok(None)
            }
            _ => {
                self.out.store_error = Some(e);
                Err(Abort)
            }
        }
    }

    /// Appends a native histogram sample. `Ok(None)` when the store
    /// refused it (the point is counted as rejected).
    fn native(
        &mut self,
        labels: &Labels,
        t: i64,
        h: NativeHistogram,
    ) -> Result<Option<SeriesRef>, Abort> {
        match self.app.append_histogram(0, labels, t, &h.into_float()) {
            Ok(r) => {
                self.out.samples_appended += 1;
                Ok(Some(r))
            }
            Err(e) => self.store_refusal(e, labels, t),
        }
    }

    fn number(
        &mut self,
        res: &ResourceLabels,
        name: &str,
        p: &NumberDataPoint,
        delta: bool,
    ) -> Step {
        self.begin_point();
        let key = self.metric_key.and_then(|m| p.attributes.cache_key(m));
        let t = ms(p.time_unix_nano);
        let mut v = match p.value {
            Some(number_data_point::Value::AsDouble(d)) => d,
            Some(number_data_point::Value::AsInt(i)) => i as f64,
            None => 0.0,
        };
        let stale = p.flags & FLAG_NO_RECORDED_VALUE != 0;
        if stale {
            v = STALE_NAN;
        }
        // The common case: a known series, no delta, no exemplars. The
        // attributes stay encoded.
        if let (Some(k), false, true) = (key, delta && !stale, p.exemplars.is_empty()) {
            let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(k);
            if let Some(r) = cached {
                match self.app.append(r, &Labels::empty(), t, v) {
                    Ok(_) => {
                        self.out.samples_appended += 1;
                        self.end_point();
                        return Ok(());
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        self.cache
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(k);
                    }
                    Err(e) => {
                        let attrs = p.attributes.decode().map_err(|e| self.decode_failed(e))?;
                        let labels = res.point_labels(&attrs, self.naming, &[]).into_series(name);
                        self.store_refusal::<SeriesRef>(e, &labels, t)?;
                        self.end_point();
                        return Ok(());
                    }
                }
            }
        }
        let attrs = p.attributes.decode().map_err(|e| self.decode_failed(e))?;
        self.number_slow(res, name, p, &attrs, key, t, v, delta && !stale)
    }

    /// [`Self::number`] with the attributes decoded.
    #[allow(clippy::too_many_arguments)]
    fn number_slow(
        &mut self,
        res: &ResourceLabels,
        name: &str,
        p: &NumberDataPoint,
        attrs: &[KeyValue],
        key: Option<u128>,
        t: i64,
        mut v: f64,
        delta: bool,
    ) -> Step {
        let naming = self.naming;
        let build = || res.point_labels(attrs, naming, &[]).into_series(name);
        let mut labels: Option<Labels> = None;
        if delta {
            // The stream is keyed by the decoded attributes, whatever the
            // transport, so that a stream keeps its total across them.
            let stream = match self.metric_key.and_then(|m| cache::point_key(m, attrs)) {
                Some(k) => cache::fold(k),
                None => labels.get_or_insert_with(build).stable_hash(),
            };
            match self.accumulate(
                stream,
                &build,
                p.start_time_unix_nano,
                p.time_unix_nano,
                Total::Value(v),
            ) {
                Some(Total::Value(total)) => v = total,
                _ => {
                    self.end_point();
                    return Ok(());
                }
            }
        }
        if let Some(r) = self.append_keyed(key, &mut labels, &build, t, v)? {
            if !p.exemplars.is_empty() {
                let l = labels.get_or_insert_with(build).clone();
                self.exemplars(r, &l, &p.exemplars);
            }
        }
        self.end_point();
        Ok(())
    }

    /// Appends by the cached handle of `key` when there is one (no labels
    /// built), else by labels, remembering the handle.
    fn append_keyed(
        &mut self,
        key: Option<u128>,
        labels: &mut Option<Labels>,
        build: &dyn Fn() -> Labels,
        t: i64,
        v: f64,
    ) -> Result<Option<SeriesRef>, Abort> {
        if let Some(k) = key {
            let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(k);
            if let Some(r) = cached {
                match self.app.append(r, &Labels::empty(), t, v) {
                    Ok(r) => {
                        self.out.samples_appended += 1;
                        return Ok(Some(r));
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        self.cache
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(k);
                    }
                    Err(e) => {
                        let l = labels.get_or_insert_with(build);
                        return self.store_refusal(e, l, t);
                    }
                }
            }
        }
        let l = labels.get_or_insert_with(build);
        match self.app.append(0, l, t, v) {
            Ok(r) => {
                self.out.samples_appended += 1;
                if let (Some(k), true) = (key, r != 0) {
                    self.cache
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(k, r);
                }
                Ok(Some(r))
            }
            Err(e) => self.store_refusal(e, l, t),
        }
    }

    fn histogram(
        &mut self,
        res: &ResourceLabels,
        name: &str,
        p: &HistogramDataPoint,
        delta: bool,
    ) -> Step {
        self.begin_point();
        let base = res.point_labels(&p.attributes, self.naming, &[]);
        let t = ms(p.time_unix_nano);
        let stale = p.flags & FLAG_NO_RECORDED_VALUE != 0;
        let n = p.explicit_bounds.len().min(p.bucket_counts.len());
        let mut bounds = p.explicit_bounds[..n].to_vec();
        let mut counts = p.bucket_counts.clone();
        let (mut count, mut sum) = (p.count, p.sum);
        if delta && !stale {
            let key_labels = base.series(name, None);
            let d = Total::Histogram {
                count,
                sum,
                bounds,
                counts,
            };
            match self.accumulate(
                key_labels.stable_hash(),
                &|| key_labels.clone(),
                p.start_time_unix_nano,
                p.time_unix_nano,
                d,
            ) {
                Some(Total::Histogram {
                    count: c,
                    sum: s,
                    bounds: b,
                    counts: k,
                }) => {
                    (count, sum, bounds, counts) = (c, s, b, k);
                }
                _ => {
                    self.end_point();
                    return Ok(());
                }
            }
        }
        let val = |x: f64| if stale { STALE_NAN } else { x };
        if let Some(s) = sum {
            self.sample(&base.series(&format!("{name}_sum"), None), t, val(s))?;
        }
        self.sample(
            &base.series(&format!("{name}_count"), None),
            t,
            val(count as f64),
        )?;
        let bucket = format!("{name}_bucket");
        let mut refs: Vec<(f64, Option<SeriesRef>, Labels)> = Vec::with_capacity(n + 1);
        let mut cum = 0u64;
        for (i, &bound) in bounds.iter().enumerate() {
            cum += counts.get(i).copied().unwrap_or(0);
            let l = base.series(&bucket, Some(("le", &shortest_f(bound))));
            let r = self.sample(&l, t, val(cum as f64))?;
            refs.push((bound, r, l));
        }
        let l = base.series(&bucket, Some(("le", "+Inf")));
        let r = self.sample(&l, t, val(count as f64))?;
        refs.push((f64::INFINITY, r, l));
        for e in &p.exemplars {
            let v = exemplar_value(e);
            if let Some((_, Some(r), l)) = refs.iter().find(|(b, _, _)| v <= *b) {
                let (r, l) = (*r, l.clone());
                self.exemplars(r, &l, std::slice::from_ref(e));
            }
        }
        self.end_point();
        Ok(())
    }

    fn summary(&mut self, res: &ResourceLabels, name: &str, p: &SummaryDataPoint) -> Step {
        self.begin_point();
        let base = res.point_labels(&p.attributes, self.naming, &[]);
        let t = ms(p.time_unix_nano);
        let stale = p.flags & FLAG_NO_RECORDED_VALUE != 0;
        let val = |x: f64| if stale { STALE_NAN } else { x };
        self.sample(&base.series(&format!("{name}_sum"), None), t, val(p.sum))?;
        self.sample(
            &base.series(&format!("{name}_count"), None),
            t,
            val(p.count as f64),
        )?;
        for q in &p.quantile_values {
            let l = base.series(name, Some(("quantile", &shortest_f(q.quantile))));
            self.sample(&l, t, val(q.value))?;
        }
        self.end_point();
        Ok(())
    }

    fn exemplars(&mut self, r: SeriesRef, labels: &Labels, exs: &[OtlpExemplar]) {
        for e in exs {
            let mut pairs: Vec<(String, String)> =
                Vec::with_capacity(2 + e.filtered_attributes.len());
            let mut runes = 0;
            for (k, id) in [("trace_id", &e.trace_id), ("span_id", &e.span_id)] {
                if !id.is_empty() && id.iter().any(|&b| b != 0) {
                    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                    runes += k.len() + hex.len();
                    pairs.push((k.into(), hex));
                }
            }
            let attrs: Vec<(String, String)> = e
                .filtered_attributes
                .iter()
                .map(|kv| (kv.key.clone(), value_string(kv.value.as_ref())))
                .collect();
            runes += attrs
                .iter()
                .map(|(k, v)| k.chars().count() + v.chars().count())
                .sum::<usize>();
            if runes <= MAX_EXEMPLAR_RUNES {
                pairs.extend(attrs);
            }
            let ex = Exemplar {
                labels: Labels::from_pairs(pairs),
                value: exemplar_value(e),
                timestamp: (e.time_unix_nano != 0).then(|| ms(e.time_unix_nano)),
            };
            match self.app.append_exemplar(r, labels, &ex) {
                Ok(()) => self.out.exemplars_appended += 1,
                Err(_) => self.out.exemplars_dropped += 1,
            }
        }
    }

    /// `target_info` for a resource with points in `[range.0, range.1]`.
    fn target_info(&mut self, attrs: &[KeyValue], res: &ResourceLabels, range: (i64, i64)) -> Step {
        let identifying = [SERVICE_NAMESPACE, SERVICE_NAME, SERVICE_INSTANCE_ID];
        let non_identifying = attrs
            .iter()
            .filter(|kv| !identifying.contains(&kv.key.as_str()))
            .count();
        if non_identifying == 0 || (res.job.is_none() && res.instance.is_none()) {
            return Ok(());
        }
        let skip: &[&str] = if self.cfg.keep_identifying_resource_attributes {
            &[]
        } else {
            &identifying
        };
        let bare = ResourceLabels {
            job: res.job.clone(),
            instance: res.instance.clone(),
            ..ResourceLabels::default()
        };
        let set: LabelSet = bare.point_labels(attrs, self.naming, skip);
        let labels = set.series("target_info", None);
        let step = (self.lookback_ms / 2).max(1);
        let mut t = range.0;
        let mut last = None;
        while t < range.1 {
            self.info_sample(&labels, t)?;
            last = Some(t);
            t += step;
        }
        if last.is_none_or(|l| l < range.1) {
            self.info_sample(&labels, range.1)?;
        }
        debug_assert!(attr(attrs, SERVICE_NAME).is_some() || res.instance.is_some());
        Ok(())
    }

    /// `target_info` samples are not data points: their refusals (an
    /// older request's resource, say) are not reported.
    fn info_sample(&mut self, labels: &Labels, t: i64) -> Step {
        match self.app.append(0, labels, t, 1.0) {
            Ok(_) => {
                self.out.samples_appended += 1;
                Ok(())
            }
            Err(e) => match e.kind() {
                ErrorKind::OutOfOrder
                | ErrorKind::OutOfBounds
                | ErrorKind::DuplicateSample
                | ErrorKind::BadData => Ok(()),
                _ => {
                    self.out.store_error = Some(e);
                    Err(Abort)
                }
            },
        }
    }
}

fn exemplar_value(e: &OtlpExemplar) -> f64 {
    match e.value {
        Some(exemplar::Value::AsDouble(d)) => d,
        Some(exemplar::Value::AsInt(i)) => i as f64,
        None => 0.0,
    }
}

/// Widens `range` (ms) by the times of the metric's points.
fn update_range(range: &mut (i64, i64), m: &Metric) {
    let mut upd = |ns: u64| {
        let t = ms(ns);
        range.0 = range.0.min(t);
        range.1 = range.1.max(t);
    };
    match &m.data {
        Some(Data::Gauge(g)) => g.data_points.iter().for_each(|p| upd(p.time_unix_nano)),
        Some(Data::Sum(s)) => s.data_points.iter().for_each(|p| upd(p.time_unix_nano)),
        Some(Data::Histogram(h)) => h.data_points.iter().for_each(|p| upd(p.time_unix_nano)),
        Some(Data::ExponentialHistogram(h)) => {
            h.data_points.iter().for_each(|p| upd(p.time_unix_nano))
        }
        Some(Data::Summary(s)) => s.data_points.iter().for_each(|p| upd(p.time_unix_nano)),
        None => {}
    }
}
