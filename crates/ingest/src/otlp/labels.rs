//! Attributes to labels, as Prometheus 3's receiver builds them
//! (`createAttributes`): data point attributes (sorted by key; keys that
//! escape to the same name have their values joined with `;`), then the
//! promoted resource attributes where no attribute took the name, then the
//! scope labels, then `job` (`service.namespace/service.name`) and
//! `instance` (`service.instance.id`), which override, then the metric name
//! and `le`/`quantile`.

use super::config::OtlpConfig;
use super::names::{label_name, LabelNaming};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use sightline_core::{Label, Labels, METRIC_NAME};

/// `service.name`, `service.namespace` and `service.instance.id`.
pub const SERVICE_NAME: &str = "service.name";
/// See [`SERVICE_NAME`].
pub const SERVICE_NAMESPACE: &str = "service.namespace";
/// See [`SERVICE_NAME`].
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// An attribute value as a label value, as the Collector's
/// `pcommon.Value.AsString` prints it: strings as they are, numbers in
/// Go's shortest form, arrays and maps as JSON, bytes as base64.
pub fn value_string(v: Option<&AnyValue>) -> String {
    use any_value::Value;
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => format_double(*d),
        Some(Value::BytesValue(b)) => base64(b),
        Some(v @ (Value::ArrayValue(_) | Value::KvlistValue(_))) => json(v).to_string(),
    }
}

fn format_double(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        d.to_string()
    }
}

fn json(v: &any_value::Value) -> serde_json::Value {
    use any_value::Value;
    use serde_json::Value as J;
    let inner = |v: &Option<AnyValue>| match v.as_ref().and_then(|v| v.value.as_ref()) {
        None => J::Null,
        Some(v) => json(v),
    };
    match v {
        Value::StringValue(s) => J::String(s.clone()),
        Value::BoolValue(b) => J::Bool(*b),
        Value::IntValue(i) => J::from(*i),
        Value::DoubleValue(d) => serde_json::Number::from_f64(*d)
            .map(J::Number)
            .unwrap_or_else(|| J::String(format_double(*d))),
        Value::BytesValue(b) => J::String(base64(b)),
        Value::ArrayValue(a) => {
            J::Array(a.values.iter().map(|v| inner(&Some(v.clone()))).collect())
        }
        Value::KvlistValue(kv) => J::Object(
            kv.values
                .iter()
                .map(|e| (e.key.clone(), inner(&e.value)))
                .collect(),
        ),
    }
}

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A label set under construction, sorted by name.
///
/// Not `sightline_core::LabelsBuilder`: this is the OTLP conversion's hot
/// path (one set per data point; a histogram's `_sum`, `_count` and every
/// bucket series are cut from it), so it keeps empty values until a series
/// is cut and merges the metric name and `le`/`quantile` in one pass
/// ([`LabelSet::series`]) instead of a builder copy and sort per series; what
/// it hands on is core's [`Labels`].
#[derive(Debug, Clone, Default)]
pub struct LabelSet(Vec<Label>);

impl LabelSet {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|l| l.name.as_str().cmp(name))
    }

    /// Sets `name`, replacing any value.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.find(name) {
            Ok(i) => value.clone_into(&mut self.0[i].value),
            Err(i) => self.0.insert(i, Label::new(name, value)),
        }
    }

    /// Sets `name` only when absent.
    pub fn set_if_absent(&mut self, name: &str, value: &str) {
        if let Err(i) = self.find(name) {
            self.0.insert(i, Label::new(name, value));
        }
    }

    /// Whether `name` is set.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// The labels plus the metric name, consuming the set (no copies: the
    /// one-series-per-point case of gauges and sums).
    pub fn into_series(mut self, name: &str) -> Labels {
        self.0.retain(|l| !l.value.is_empty());
        match self.find(METRIC_NAME) {
            Ok(i) => name.clone_into(&mut self.0[i].value),
            Err(i) => self.0.insert(i, Label::new(METRIC_NAME, name)),
        }
        Labels::from_sorted(self.0)
    }

    /// The labels plus the metric name and an optional extra label (`le`,
    /// `quantile`); empty values dropped, as the store reads them.
    pub fn series(&self, name: &str, extra: Option<(&str, &str)>) -> Labels {
        let mut v = Vec::with_capacity(self.0.len() + 2);
        let mut pending = [Some((METRIC_NAME, name)), extra];
        pending.sort_by(|a, b| match (a, b) {
            (Some(a), Some(b)) => a.0.cmp(b.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        let mut pending = pending.into_iter().flatten().peekable();
        for l in &self.0 {
            while let Some(&(n, val)) = pending.peek() {
                if n <= l.name.as_str() {
                    if !val.is_empty() {
                        v.push(Label::new(n, val));
                    }
                    pending.next();
                } else {
                    break;
                }
            }
            if pending_overrides(&v, &l.name) || l.value.is_empty() {
                continue;
            }
            v.push(l.clone());
        }
        for (n, val) in pending {
            if !val.is_empty() {
                v.push(Label::new(n, val));
            }
        }
        Labels::from_sorted(v)
    }
}

/// True when the label just pushed has this name (an extra overrides a
/// base label of the same name).
fn pending_overrides(v: &[Label], name: &str) -> bool {
    v.last().is_some_and(|l| l.name == name)
}

/// Labels shared by every series of one resource.
#[derive(Debug, Clone, Default)]
pub struct ResourceLabels {
    /// `job`, from `service.namespace` and `service.name`.
    pub job: Option<String>,
    /// `instance`, from `service.instance.id`.
    pub instance: Option<String>,
    /// Promoted resource attributes, names translated.
    pub promoted: Vec<(String, String)>,
    /// Scope labels of the current scope.
    pub scope: Vec<(String, String)>,
}

/// Finds an attribute by key.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attrs.iter().find(|kv| kv.key == key)
}

impl ResourceLabels {
    /// The job, instance and promoted labels of a resource.
    pub fn new(attrs: &[KeyValue], cfg: &OtlpConfig, naming: LabelNaming) -> Self {
        let job = attr(attrs, SERVICE_NAME).map(|n| {
            let name = value_string(n.value.as_ref());
            match attr(attrs, SERVICE_NAMESPACE) {
                Some(ns) => format!("{}/{name}", value_string(ns.value.as_ref())),
                None => name,
            }
        });
        let instance = attr(attrs, SERVICE_INSTANCE_ID).map(|i| value_string(i.value.as_ref()));
        let mut promoted = Vec::new();
        if cfg.promote_all_resource_attributes || !cfg.promote_resource_attributes.is_empty() {
            for kv in attrs {
                if cfg.promotes(&kv.key) {
                    if let Some(n) = label_name(&kv.key, naming) {
                        promoted.push((n, value_string(kv.value.as_ref())));
                    }
                }
            }
        }
        ResourceLabels {
            job,
            instance,
            promoted,
            scope: Vec::new(),
        }
    }

    /// The base labels of a data point with `attrs`, in Prometheus's order
    /// of precedence (see the module docs). `skip` names attribute keys
    /// left out (the identifying ones, for `target_info`).
    pub fn point_labels(&self, attrs: &[KeyValue], naming: LabelNaming, skip: &[&str]) -> LabelSet {
        let mut sorted: Vec<&KeyValue> = attrs
            .iter()
            .filter(|kv| !skip.contains(&kv.key.as_str()))
            .collect();
        if !sorted.windows(2).all(|w| w[0].key <= w[1].key) {
            sorted.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let mut v: Vec<Label> = Vec::with_capacity(sorted.len() + self.promoted.len() + 4);
        for kv in sorted {
            let Some(name) = label_name(&kv.key, naming) else {
                continue;
            };
            v.push(Label {
                name,
                value: value_string(kv.value.as_ref()),
            });
        }
        // Stable: values of colliding names join in key order.
        if !v.windows(2).all(|w| w[0].name < w[1].name) {
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v.dedup_by(|b, a| {
                if a.name == b.name {
                    a.value.push(';');
                    a.value.push_str(&b.value);
                    true
                } else {
                    false
                }
            });
        }
        let mut set = LabelSet(v);
        for (n, val) in &self.promoted {
            set.set_if_absent(n, val);
        }
        for (n, val) in &self.scope {
            set.set(n, val);
        }
        if let Some(j) = &self.job {
            set.set("job", j);
        }
        if let Some(i) = &self.instance {
            set.set("instance", i);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(k: &str, v: any_value::Value) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
        }
    }

    fn s(k: &str, v: &str) -> KeyValue {
        kv(k, any_value::Value::StringValue(v.into()))
    }

    #[test]
    fn values_print_as_the_collector_prints_them() {
        use any_value::Value::*;
        let p = |v| value_string(Some(&AnyValue { value: Some(v) }));
        assert_eq!(p(IntValue(-3)), "-3");
        assert_eq!(p(BoolValue(true)), "true");
        assert_eq!(p(DoubleValue(0.5)), "0.5");
        assert_eq!(p(DoubleValue(1e21)), "1000000000000000000000");
        assert_eq!(p(DoubleValue(f64::INFINITY)), "+Inf");
        assert_eq!(p(BytesValue(b"hi!?".to_vec())), "aGkhPw==");
        assert_eq!(
            p(ArrayValue(
                opentelemetry_proto::tonic::common::v1::ArrayValue {
                    values: vec![AnyValue {
                        value: Some(StringValue("a".into()))
                    }]
                }
            )),
            "[\"a\"]"
        );
    }

    #[test]
    fn precedence_and_collisions() {
        let cfg = OtlpConfig {
            promote_resource_attributes: vec!["k8s.pod".into(), "region".into()],
            ..OtlpConfig::default()
        };
        let naming = LabelNaming::default();
        let res = [
            s("service.name", "api"),
            s("service.namespace", "shop"),
            s("service.instance.id", "i-1"),
            s("k8s.pod", "pod-7"),
            s("region", "eu"),
            s("host.name", "h"),
        ];
        let mut r = ResourceLabels::new(&res, &cfg, naming);
        r.scope = vec![("otel_scope_name".into(), "lib".into())];
        assert_eq!(r.job.as_deref(), Some("shop/api"));
        let point = [
            s("http.method", "GET"),
            s("http_method", "POST"),
            s("region", "us"),
            s("job", "ignored"),
            s("empty", ""),
        ];
        let l = r
            .point_labels(&point, naming, &[])
            .series("m_total", Some(("le", "1")));
        assert_eq!(
            l.to_string(),
            "m_total{http_method=\"GET;POST\", instance=\"i-1\", job=\"shop/api\", k8s_pod=\"pod-7\", le=\"1\", otel_scope_name=\"lib\", region=\"us\"}"
        );
    }

    #[test]
    fn extras_override_and_sort_before_uppercase() {
        let mut set = LabelSet::default();
        set.set("A", "x");
        set.set("le", "base");
        set.set("z", "1");
        assert_eq!(
            set.clone().into_series("m").to_string(),
            "m{A=\"x\", le=\"base\", z=\"1\"}"
        );
        let l = set.series("m", Some(("le", "0.5")));
        let names: Vec<_> = l
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            names,
            [("A", "x"), ("__name__", "m"), ("le", "0.5"), ("z", "1")]
        );
    }
}
