//! Targets: from discovered label sets to scrape URLs and final labels,
//! following Prometheus's `PopulateLabels`.

use super::metadata::{MetadataBuilder, MetadataCache, MetricMetadata};
use crate::config::{Duration, ScrapeConfig};
use crate::discovery::{TargetGroup, ADDRESS_LABEL};
use crate::relabel;
use sightline_core::{Labels, LabelsBuilder};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

pub(crate) const SCHEME_LABEL: &str = "__scheme__";
pub(crate) const METRICS_PATH_LABEL: &str = "__metrics_path__";
pub(crate) const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
pub(crate) const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
pub(crate) const PARAM_PREFIX: &str = "__param_";
pub(crate) const META_PREFIX: &str = "__meta_";
pub(crate) const JOB_LABEL: &str = "job";
pub(crate) const INSTANCE_LABEL: &str = "instance";

/// Health of a target, as `/api/v1/targets` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not scraped yet.
    Unknown,
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
}

impl Health {
    /// `"unknown"`, `"up"` or `"down"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// The outcome of the last scrape of a target.
#[derive(Debug, Clone)]
pub(crate) struct LastScrape {
    pub health: Health,
    pub error: String,
    pub at: Option<SystemTime>,
    pub duration_secs: f64,
}

/// One target of a scrape pool.
#[derive(Debug)]
pub struct Target {
    /// Labels as discovered, before relabeling.
    pub discovered: Labels,
    /// Every label after relabeling, `__`-prefixed ones included (the
    /// address, scheme, path, params, interval and timeout live there).
    pub full: Labels,
    /// The labels attached to scraped series: `full` without `__` labels.
    pub labels: Labels,
    /// The URL scraped.
    pub url: String,
    /// Scrape interval (from `__scrape_interval__`).
    pub interval: Duration,
    /// Scrape timeout (from `__scrape_timeout__`).
    pub timeout: Duration,
    pub(crate) last: Mutex<LastScrape>,
    /// Metadata of the recent scrapes (see `super::metadata`).
    pub(crate) metadata: Mutex<MetadataCache>,
}

impl Target {
    fn new(
        discovered: Labels,
        full: Labels,
        interval: Duration,
        timeout: Duration,
        params: &BTreeMap<String, Vec<String>>,
    ) -> Target {
        let labels = Labels::from_sorted(
            full.iter()
                .filter(|l| !l.name.starts_with("__"))
                .cloned()
                .collect(),
        );
        let url = target_url(&full, params);
        Target {
            discovered,
            full,
            labels,
            url,
            interval,
            timeout,
            last: Mutex::new(LastScrape {
                health: Health::Unknown,
                error: String::new(),
                at: None,
                duration_secs: 0.0,
            }),
            metadata: Mutex::new(MetadataCache::default()),
        }
    }

    /// Identifies the target within its pool: its labels and URL, as
    /// Prometheus hashes them.
    pub fn hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(&self.labels.stable_hash().to_le_bytes());
        h.update(self.url.as_bytes());
        h.digest()
    }

    /// Where in each interval this target is scraped, so that targets of a
    /// pool spread out instead of all firing together. The same target gets
    /// the same slot across restarts (Prometheus does the same with its own
    /// hash); `seed` differs per server (external labels).
    pub fn offset(&self, seed: u64, now: SystemTime) -> std::time::Duration {
        let interval = self.interval.as_millis().max(1) as u128;
        let now_ms = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() / 1_000_000)
            .unwrap_or(0);
        let base = interval - now_ms % interval;
        let slot = ((self.hash() ^ seed) as u128) % interval;
        let mut next = base + slot;
        if next > interval {
            next -= interval;
        }
        std::time::Duration::from_millis(next as u64)
    }

    /// The health, error and time of the last scrape.
    pub(crate) fn last(&self) -> LastScrape {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The `# TYPE`/`# HELP`/`# UNIT` of the recent scrapes, by family.
    pub fn metadata(&self) -> Vec<(String, MetricMetadata)> {
        let c = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
        c.iter().map(|(n, m)| (n.clone(), m.clone())).collect()
    }

    /// The metadata of family `name`.
    pub fn metadata_of(&self, name: &str) -> Option<MetricMetadata> {
        let c = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
        c.get(name).cloned()
    }

    /// Applies one scrape's metadata lines; `flush` for a successful
    /// scrape of a non-empty body.
    pub(crate) fn update_metadata(&self, m: &MetadataBuilder, flush: bool) {
        let mut c = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
        c.update(m, flush);
    }

    pub(crate) fn set_last(&self, l: LastScrape) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = l;
    }
}

/// What became of one discovered target.
#[derive(Debug)]
pub enum Populated {
    /// Scrape it.
    Active(Target),
    /// Relabeling dropped it; kept for `droppedTargets`.
    Dropped(Labels),
    /// Its labels are unusable (no address, bad interval, ...).
    Invalid(Labels, String),
}

/// Turns discovered groups into targets for `cfg`, in group order.
pub fn targets_from_groups(cfg: &ScrapeConfig, groups: &[TargetGroup]) -> Vec<Populated> {
    let mut out = Vec::new();
    for g in groups {
        for t in &g.targets {
            // A target's own labels win over its group's.
            let mut lb = g.labels.to_builder();
            for l in t {
                lb.set(l.name.clone(), l.value.clone());
            }
            out.push(populate_labels(cfg, lb));
        }
    }
    out
}

/// Prometheus's `PopulateLabels`: add the job's defaults, relabel, check the
/// address, interval and timeout, drop `__meta_*`, default `instance`.
pub fn populate_labels(cfg: &ScrapeConfig, mut lb: LabelsBuilder) -> Populated {
    let defaults = [
        (JOB_LABEL, cfg.job_name.clone()),
        (SCRAPE_INTERVAL_LABEL, cfg.scrape_interval.to_string()),
        (SCRAPE_TIMEOUT_LABEL, cfg.scrape_timeout.to_string()),
        (METRICS_PATH_LABEL, cfg.metrics_path.clone()),
        (SCHEME_LABEL, cfg.scheme.clone()),
    ];
    for (name, value) in defaults {
        if lb.get(name).is_none() {
            lb.set(name, value);
        }
    }
    for (k, v) in &cfg.params {
        let name = format!("{PARAM_PREFIX}{k}");
        if let Some(first) = v.first() {
            if lb.get(&name).is_none() {
                lb.set(name, first.clone());
            }
        }
    }
    let discovered = lb.build();
    if !relabel::process(&cfg.relabel_configs, &mut lb) {
        return Populated::Dropped(discovered);
    }
    let invalid = |msg: String| Populated::Invalid(discovered.clone(), msg);
    let Some(addr) = lb.get(ADDRESS_LABEL).map(str::to_owned) else {
        return invalid("no address".to_owned());
    };
    let addr = if has_port(&addr) {
        addr
    } else if is_valid_host(&addr) {
        let port = match lb.get(SCHEME_LABEL).unwrap_or("") {
            "http" | "" => 80,
            "https" => 443,
            other => return invalid(format!("invalid scheme: {other:?}")),
        };
        let with_port = format!("{addr}:{port}");
        lb.set(ADDRESS_LABEL, with_port.clone());
        with_port
    } else {
        addr
    };
    if addr.contains('/') {
        return invalid(format!("{addr:?} is not a valid hostname"));
    }
    let interval_text = lb.get(SCRAPE_INTERVAL_LABEL).unwrap_or("").to_owned();
    let interval = match Duration::parse(&interval_text) {
        Ok(d) if d.is_zero() => return invalid("scrape interval cannot be 0".to_owned()),
        Ok(d) => d,
        Err(e) => return invalid(format!("error parsing scrape interval: {e}")),
    };
    let timeout_text = lb.get(SCRAPE_TIMEOUT_LABEL).unwrap_or("").to_owned();
    let timeout = match Duration::parse(&timeout_text) {
        Ok(d) if d.is_zero() => return invalid("scrape timeout cannot be 0".to_owned()),
        Ok(d) => d,
        Err(e) => return invalid(format!("error parsing scrape timeout: {e}")),
    };
    if timeout > interval {
        return invalid(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout_text:?} > {interval_text:?})"
        ));
    }
    lb.retain(|l| !l.name.starts_with(META_PREFIX));
    if lb.get(INSTANCE_LABEL).is_none() {
        lb.set(INSTANCE_LABEL, addr);
    }
    Populated::Active(Target::new(
        discovered,
        lb.into_labels(),
        interval,
        timeout,
        &cfg.params,
    ))
}

/// True when `addr` ends in a `:port` that Go's `net.SplitHostPort` accepts.
fn has_port(addr: &str) -> bool {
    if let Some(rest) = addr.strip_prefix('[') {
        // [v6]:port
        return rest
            .split_once(']')
            .is_some_and(|(_, p)| p.strip_prefix(':').is_some());
    }
    match addr.rsplit_once(':') {
        Some((host, _port)) => !host.contains(':'),
        None => false,
    }
}

/// True when appending `:port` would make a valid host:port (a bare host or
/// a bracketed IPv6 address).
fn is_valid_host(addr: &str) -> bool {
    if addr.is_empty() {
        return false;
    }
    if addr.starts_with('[') {
        return addr.ends_with(']');
    }
    !addr.contains(':')
}

/// `scheme://address/path?params`: the job's `params` with every value,
/// each `__param_<name>` label replacing the first value of `<name>` (or
/// adding it), keys sorted, as Prometheus builds target URLs.
pub(crate) fn target_url(full: &Labels, config_params: &BTreeMap<String, Vec<String>>) -> String {
    let scheme = full.get(SCHEME_LABEL).unwrap_or("http");
    let addr = full.get(ADDRESS_LABEL).unwrap_or("");
    let path = full.get(METRICS_PATH_LABEL).unwrap_or("/metrics");
    let mut params: BTreeMap<&str, Vec<&str>> = config_params
        .iter()
        .map(|(k, vs)| (k.as_str(), vs.iter().map(String::as_str).collect()))
        .collect();
    for l in full {
        if let Some(k) = l.name.strip_prefix(PARAM_PREFIX) {
            let vs = params.entry(k).or_default();
            match vs.first_mut() {
                Some(first) => *first = &l.value,
                None => vs.push(&l.value),
            }
        }
    }
    let mut url = format!("{scheme}://{addr}");
    if !path.starts_with('/') && !path.is_empty() {
        url.push('/');
    }
    url.push_str(path);
    let mut first = true;
    for (k, vs) in params {
        for v in vs {
            url.push(if first { '?' } else { '&' });
            first = false;
            url.push_str(&query_escape(k));
            url.push('=');
            url.push_str(&query_escape(v));
        }
    }
    url
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    fn cfg(yaml: &str) -> ScrapeConfig {
        load_str(yaml, "t.yml").unwrap().scrape_configs.remove(0)
    }

    fn one(cfg: &ScrapeConfig, labels: &[(&str, &str)]) -> Populated {
        populate_labels(cfg, Labels::from_pairs(labels.iter().copied()).to_builder())
    }

    #[test]
    fn labels_urls_and_instance_follow_prometheus() {
        let c = cfg("scrape_configs:\n  - job_name: node\n    params: {module: [a b, c], 'collect[]': [cpu]}\n    static_configs: [{targets: ['h:9100']}]\n");
        let Populated::Active(t) = one(
            &c,
            &[("__address__", "h:9100"), ("__meta_x", "1"), ("env", "p")],
        ) else {
            panic!("active expected")
        };
        // Every configured value is sent; keys sorted and escaped as Go does.
        assert_eq!(
            t.url,
            "http://h:9100/metrics?collect%5B%5D=cpu&module=a+b&module=c"
        );
        assert_eq!(
            t.labels,
            Labels::from_pairs([("env", "p"), ("instance", "h:9100"), ("job", "node")])
        );
        assert_eq!(t.full.get("__scrape_interval__"), Some("1m"));
        assert_eq!(t.full.get("__scrape_timeout__"), Some("10s"));
        assert_eq!(t.full.get("__meta_x"), None);
        assert_eq!(t.discovered.get("__meta_x"), Some("1"));
        assert_eq!(t.discovered.get("job"), Some("node"));
    }

    #[test]
    fn default_ports_are_added_by_scheme() {
        let c = cfg("scrape_configs:\n  - job_name: a\n    scheme: https\n");
        let Populated::Active(t) = one(&c, &[("__address__", "example.org")]) else {
            panic!()
        };
        assert_eq!(t.url, "https://example.org:443/metrics");
        assert_eq!(t.labels.get("instance"), Some("example.org:443"));
        let Populated::Active(t) = one(&c, &[("__address__", "[::1]")]) else {
            panic!()
        };
        assert_eq!(t.full.get("__address__"), Some("[::1]:443"));
    }

    #[test]
    fn relabeling_can_drop_or_rewrite_targets() {
        let c = cfg("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [keep]\n        regex: 'yes'\n        action: keep\n      - source_labels: [__address__]\n        target_label: __param_target\n      - target_label: __address__\n        replacement: prober:9115\n      - source_labels: [__param_target]\n        target_label: instance\n");
        assert!(matches!(
            one(&c, &[("__address__", "x:1")]),
            Populated::Dropped(_)
        ));
        let Populated::Active(t) = one(&c, &[("__address__", "x:1"), ("keep", "yes")]) else {
            panic!()
        };
        assert_eq!(t.url, "http://prober:9115/metrics?target=x%3A1");
        assert_eq!(t.labels.get("instance"), Some("x:1"));
    }

    #[test]
    fn bad_targets_are_invalid() {
        let c = cfg("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [t]\n        target_label: __scrape_timeout__\n");
        match one(&c, &[("__address__", "x:1"), ("t", "2m")]) {
            Populated::Invalid(_, e) => assert!(e.contains("cannot be greater"), "{e}"),
            other => panic!("{other:?}"),
        }
        match one(&c, &[("t", "1s")]) {
            Populated::Invalid(_, e) => assert_eq!(e, "no address"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn offsets_fall_inside_the_interval_and_are_stable() {
        let c = cfg("scrape_configs:\n  - job_name: a\n    scrape_interval: 10s\n");
        let Populated::Active(t) = one(&c, &[("__address__", "x:1")]) else {
            panic!()
        };
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_000_000_123);
        let o = t.offset(7, now);
        assert!(o <= std::time::Duration::from_secs(10));
        assert_eq!(o, t.offset(7, now));
        // The scrape lands on the same phase of the interval whenever we start.
        let phase = |now: SystemTime| {
            let at = now + t.offset(7, now);
            at.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                % 10_000
        };
        assert_eq!(
            phase(now),
            phase(now + std::time::Duration::from_millis(3_456))
        );
    }

    #[test]
    fn target_labels_match_prometheus_2_42() {
        // Expected values as Prometheus 2.42 reported them in
        // /api/v1/targets for this very file.
        let c = load_str(include_str!("testdata/relabel_peer.yml"), "p.yml").unwrap();
        let cfg = &c.scrape_configs[0];
        let groups = crate::discovery::static_groups(cfg);
        let got = targets_from_groups(cfg, &groups);
        let mut active = Vec::new();
        let mut dropped = Vec::new();
        for p in got {
            match p {
                Populated::Active(t) => active.push(t),
                Populated::Dropped(l) => dropped.push(l.get("__address__").unwrap().to_owned()),
                Populated::Invalid(_, e) => panic!("{e}"),
            }
        }
        assert_eq!(dropped, ["10.0.0.4:80"]);
        let common = [
            ("app", "shop"),
            ("env", "Prod"),
            ("env_lower", "prod"),
            ("job", "relabel"),
            ("tier", "front"),
        ];
        let expect = [
            (
                vec![
                    ("host", "10.0.0.1x--$1-"),
                    ("instance", "10.0.0.1:9100"),
                    ("joined", "10.0.0.1:9100|Prod"),
                    ("shard", "1"),
                ],
                "http://10.0.0.1:9100/metrics?module=http_2xx",
            ),
            (
                vec![
                    ("host", "web-1.example.orgx--$1-"),
                    ("instance", "web-1.example.org:80"),
                    ("joined", "web-1.example.org|Prod"),
                    ("named", "web:web"),
                    ("shard", "2"),
                ],
                "http://web-1.example.org:80/metrics?module=http_2xx",
            ),
            (
                vec![
                    ("host", "Db-2x--$1-"),
                    ("instance", "Db-2:5432"),
                    ("joined", "Db-2:5432|Prod"),
                    ("named", "Db:Db"),
                    ("shard", "3"),
                ],
                "http://Db-2:5432/metrics?module=http_2xx",
            ),
        ];
        assert_eq!(active.len(), expect.len());
        for (t, (own, url)) in active.iter().zip(expect) {
            let want = Labels::from_pairs(common.iter().copied().chain(own));
            assert_eq!(t.labels, want);
            assert_eq!(t.url, url);
            assert_eq!(
                (t.interval.to_string(), t.timeout.to_string()),
                ("1h".into(), "10s".into())
            );
        }
    }
}
