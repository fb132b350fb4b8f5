//! Per-tenant limits: defaults for every tenant, overrides for some, in
//! the shape Mimir and Loki read (`limits:` and `overrides:`), with the
//! same key names where the limit is theirs.
//!
//! Zero means no limit for every key, so a server without a `tenants:`
//! section behaves as before. An override names only the keys it changes;
//! the rest come from `limits:` (as Mimir's runtime overrides do).
//!
//! Refusals use Mimir's and Loki's wording and error IDs, and are counted
//! per tenant and reason in `sightline_discarded_samples_total` (Mimir's
//! `cortex_discarded_samples_total`).

use serde::{Deserialize, Serialize};
use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The limits of one tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most series a tenant may have (Mimir's `max_global_series_per_user`).
    /// Counted from the series written since start; a new series past it is
    /// refused with 400 `per-user series limit of N exceeded`.
    pub max_global_series_per_user: usize,
    /// Samples per second a tenant may write (Mimir's `ingestion_rate`);
    /// a request past it is refused with 429.
    pub ingestion_rate: f64,
    /// Samples a tenant may write at once above the rate (Mimir's
    /// `ingestion_burst_size`); defaults to one second of `ingestion_rate`.
    pub ingestion_burst_size: u64,
    /// Most series one PromQL query may read (Mimir's
    /// `max_fetched_series_per_query`); refused with 422.
    pub max_fetched_series_per_query: usize,
    /// Most samples one PromQL query may load (Prometheus's
    /// `--query.max-samples`, per tenant); the smaller of the two applies.
    pub max_query_samples: u64,
    /// Longest a query may run (Loki's `query_timeout`); the shorter of
    /// this and the server's `--query.timeout` applies.
    #[serde(with = "humantime_ms", rename = "query_timeout")]
    pub query_timeout_ms: u64,
    /// Most lines one log query may ask for with `limit` (Loki's
    /// `max_entries_limit_per_query`; 0: Loki's default, 5000).
    pub max_entries_limit_per_query: usize,
    /// Spans per second a tenant may write (Tempo limits bytes; spans are
    /// what our receivers count); refused with 429.
    pub ingestion_rate_spans: f64,
}

/// `query_timeout: 30s` in the file, milliseconds in memory.
mod humantime_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&sightline_core::duration::format_prometheus(*ms as i64))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = sightline_core::duration::Duration::deserialize(d)?;
        Ok(v.as_millis())
    }
}

/// The `tenants:` section of sightline.yml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Limits of every tenant.
    #[serde(default)]
    pub limits: Limits,
    /// Per-tenant changes: tenant ID to the keys that differ.
    #[serde(default)]
    pub overrides: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// Reasons, as Mimir's `reason` label spells them.
pub const REASON_SERIES: &str = "per_user_series_limit";
/// A request past the tenant's ingestion rate.
pub const REASON_RATE: &str = "rate_limited";

/// The limits of every tenant and what they hold: series trackers, rate
/// buckets, and the counts of what they refused.
#[derive(Default)]
pub struct TenantLimits {
    defaults: Limits,
    overrides: HashMap<String, Limits>,
    series: Mutex<HashMap<String, Arc<SeriesTracker>>>,
    buckets: Mutex<HashMap<(String, &'static str), Bucket>>,
    discarded: Mutex<BTreeMap<(&'static str, String), u64>>,
}

impl TenantLimits {
    /// Limits from a `tenants:` section; an override that does not read
    /// as limits is an error naming the tenant and the key.
    pub fn new(config: &LimitsConfig) -> Result<Self, String> {
        let base = serde_json::to_value(&config.limits).map_err(|e| e.to_string())?;
        let mut overrides = HashMap::new();
        for (tenant, changes) in &config.overrides {
            let mut v = base.clone();
            if let Some(obj) = v.as_object_mut() {
                for (k, val) in changes {
                    obj.insert(k.clone(), val.clone());
                }
            }
            let l: Limits = serde_json::from_value(v)
                .map_err(|e| format!("tenants.overrides.{tenant}: {e}"))?;
            overrides.insert(tenant.clone(), l);
        }
        Ok(TenantLimits {
            defaults: config.limits.clone(),
            overrides,
            ..Default::default()
        })
    }

    /// The limits of `tenant`.
    pub fn of(&self, tenant: &str) -> &Limits {
        self.overrides.get(tenant).unwrap_or(&self.defaults)
    }

    /// The active series tracker of `tenant`, `None` without a limit.
    pub fn series_tracker(&self, tenant: &str) -> Option<Arc<SeriesTracker>> {
        let limit = self.of(tenant).max_global_series_per_user;
        if limit == 0 {
            return None;
        }
        let mut m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            m.entry(tenant.to_owned())
                .or_insert_with(|| {
                    Arc::new(SeriesTracker {
                        limit,
                        seen: Mutex::default(),
                        discarded: Default::default(),
                    })
                })
                .clone(),
        )
    }

    /// Takes `n` samples from `tenant`'s ingestion rate; the refusal in
    /// Mimir's words (answer 429) when the rate is spent.
    pub fn allow_samples(&self, tenant: &str, n: u64) -> Result<(), String> {
        let l = self.of(tenant);
        let burst = if l.ingestion_burst_size > 0 {
            l.ingestion_burst_size as f64
        } else {
            l.ingestion_rate
        };
        self.take(tenant, "samples", l.ingestion_rate, burst, n)
            .map_err(|_| {
                self.discard(REASON_RATE, tenant, n);
                format!(
                    "the request has been rejected because the tenant exceeded the ingestion rate limit, set to {} items/s with a maximum allowed burst of {} (err-mimir-tenant-max-ingestion-rate)",
                    l.ingestion_rate, burst
                )
            })
    }

    /// Takes `n` spans from `tenant`'s span rate (burst: one second).
    pub fn allow_spans(&self, tenant: &str, n: u64) -> Result<(), String> {
        let rate = self.of(tenant).ingestion_rate_spans;
        self.take(tenant, "spans", rate, rate, n).map_err(|_| {
            self.discard(REASON_RATE, tenant, n);
            format!(
                "RATE_LIMITED: ingestion rate limit ({rate} spans/s) exceeded while adding {n} spans for user {tenant}"
            )
        })
    }

    fn take(
        &self,
        tenant: &str,
        what: &'static str,
        rate: f64,
        burst: f64,
        n: u64,
    ) -> Result<(), ()> {
        if rate <= 0.0 {
            return Ok(());
        }
        let mut m = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let b = m.entry((tenant.to_owned(), what)).or_insert(Bucket {
            tokens: burst,
            last: Instant::now(),
        });
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(burst);
        b.last = now;
        if (n as f64) > b.tokens {
            return Err(());
        }
        b.tokens -= n as f64;
        Ok(())
    }

    /// Counts `n` samples of `tenant` refused for `reason`.
    pub fn discard(&self, reason: &'static str, tenant: &str, n: u64) {
        let mut m = self.discarded.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((reason, tenant.to_owned())).or_default() += n;
    }
}

impl Telemetry for TenantLimits {
    fn report(&self, out: &mut Report) {
        let mut discarded = self
            .discarded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        for (tenant, t) in series.iter() {
            let n = t.discarded.load(std::sync::atomic::Ordering::Relaxed);
            if n > 0 {
                *discarded
                    .entry((REASON_SERIES, tenant.clone()))
                    .or_default() += n;
            }
        }
        let f = out.family(
            "sightline_discarded_samples",
            "Samples refused by a tenant's limits, by reason and tenant.",
            MetricKind::Counter,
        );
        for ((reason, user), n) in &discarded {
            f.point(&[("reason", reason), ("user", user)], *n as f64);
        }
        let f = out.family(
            "sightline_tenant_series",
            "Series counted against each tenant's max_global_series_per_user.",
            MetricKind::Gauge,
        );
        for (tenant, t) in series.iter() {
            f.point(&[("user", tenant)], t.len() as f64);
        }
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// What the series limit says of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Counted already.
    Known,
    /// New and counted now.
    New,
    /// New and past the limit (the limit).
    Refused(usize),
}

/// The series of one tenant, by label hash, up to its limit. A series is
/// counted before the store creates it, so a bomb never gets past the
/// limit (concurrent requests included: the check and the count are one
/// step under the lock).
pub struct SeriesTracker {
    limit: usize,
    seen: Mutex<HashSet<u64>>,
    discarded: std::sync::atomic::AtomicU64,
}

impl SeriesTracker {
    /// Counts the series of hash `h` if there is room.
    pub fn admit(&self, h: u64) -> Admit {
        let mut s = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if s.contains(&h) {
            Admit::Known
        } else if s.len() >= self.limit {
            drop(s);
            self.discarded
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Admit::Refused(self.limit)
        } else {
            s.insert(h);
            Admit::New
        }
    }

    /// Gives back series a transaction admitted and did not create.
    pub fn release(&self, hashes: &[u64]) {
        if hashes.is_empty() {
            return;
        }
        let mut s = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for h in hashes {
            s.remove(h);
        }
    }

    /// Series counted.
    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when none is counted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
