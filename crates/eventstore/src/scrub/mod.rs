//! PII scrubbing: what the intake does to every event before it is
//! appended, so personal data never reaches the WAL or a block.
//!
//! A [`Scrubber`] is built per source from its [`ScrubConfig`] and a
//! secret key, and applied with [`Scrubber::scrub_batch`]:
//! 1. **listed keys**, anywhere in `properties`, `traits` and `context`
//!    (case-insensitive, at any depth): `drop_keys` are removed,
//!    `hash_keys` have their value replaced by a keyed hash
//!    (`h:` and 16 hex digits of HMAC-SHA256 under the source's key), so
//!    equal values still group and count together but cannot be read back;
//! 2. **`context.ip`** is truncated to its /24 (IPv4) or /48 (IPv6), as
//!    analytics tools do (`truncate_ip`);
//! 3. **detectors** ([`detect`]) look inside every other string value (and
//!    object key, event and page name): e-mail addresses, phone numbers,
//!    card numbers, IBANs, IP addresses and JWTs; each find is masked
//!    (`[email]`) or hashed (`h:…`) as the detector's action says;
//! 4. **ids** (`userId`, `anonymousId`, `groupId`, `previousId`) in which
//!    a detector finds anything are hashed whole (never masked: a masked id
//!    would merge every such user into one), as are ids listed in
//!    `hash_keys`.
//!
//! Every change is counted per rule ([`Rule`]); [`ScrubTelemetry`] writes
//! the counts as `sightline_events_scrubbed_total{source,rule}`.

pub mod detect;

use crate::model::Event;
use crate::{Error, Result};
use detect::{Detector, DetectorSet, Hit};
use serde::Deserialize;
use serde_json::{Map, Value};
use sightline_core::telemetry::{MetricKind, Report, Telemetry};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a detector does with what it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Replace the find with `[rule]` (the default).
    #[default]
    Mask,
    /// Replace the find with its keyed hash (`h:` and 16 hex digits).
    Hash,
    /// Leave it (the detector is off).
    Keep,
}

/// One action per detector (all `mask` by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorActions {
    /// E-mail addresses.
    #[serde(default)]
    pub email: Action,
    /// Phone numbers.
    #[serde(default)]
    pub phone: Action,
    /// Card numbers (Luhn-valid).
    #[serde(default)]
    pub card: Action,
    /// IBANs (mod-97-valid).
    #[serde(default)]
    pub iban: Action,
    /// IPv4 and IPv6 addresses (other than `context.ip`, which
    /// `truncate_ip` handles).
    #[serde(default)]
    pub ip: Action,
    /// JSON Web Tokens.
    #[serde(default)]
    pub jwt: Action,
}

impl DetectorActions {
    fn get(&self, d: Detector) -> Action {
        match d {
            Detector::Email => self.email,
            Detector::Phone => self.phone,
            Detector::Card => self.card,
            Detector::Iban => self.iban,
            Detector::Ip => self.ip,
            Detector::Jwt => self.jwt,
        }
    }
}

/// A source's `scrub:` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrubConfig {
    /// Scrub at all (on by default; off stores events as sent).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Keys removed wherever they occur (case-insensitive).
    #[serde(default)]
    pub drop_keys: Vec<String>,
    /// Keys whose values are replaced by their keyed hash.
    #[serde(default)]
    pub hash_keys: Vec<String>,
    /// What each detector does.
    #[serde(default)]
    pub detectors: DetectorActions,
    /// Truncate `context.ip` to /24 (IPv4) or /48 (IPv6).
    #[serde(default = "default_true")]
    pub truncate_ip: bool,
    /// The HMAC key, inline. Without it or `hash_key_file`, the server's
    /// own key (`<data-dir>/events/scrub.key`) is used.
    #[serde(default)]
    pub hash_key: Option<String>,
    /// A file holding the HMAC key (relative to the config file's folder).
    #[serde(default)]
    pub hash_key_file: Option<PathBuf>,
}

fn default_true() -> bool {
    true
}

impl Default for ScrubConfig {
    fn default() -> Self {
        ScrubConfig {
            enabled: true,
            drop_keys: Vec::new(),
            hash_keys: Vec::new(),
            detectors: DetectorActions::default(),
            truncate_ip: true,
            hash_key: None,
            hash_key_file: None,
        }
    }
}

impl ScrubConfig {
    /// The key this config names (`hash_key`, or the contents of
    /// `hash_key_file` read relative to `base`, without a final newline),
    /// or None when it names none. `field` is where the config sits, for
    /// errors (`events.sources[0].scrub`).
    pub fn configured_key(&self, base: &Path, field: &str) -> Result<Option<Vec<u8>>> {
        let key = match (&self.hash_key, &self.hash_key_file) {
            (Some(_), Some(_)) => {
                return Err(Error::BadInput {
                    field: format!("{field}.hash_key"),
                    reason: "give hash_key or hash_key_file, not both".into(),
                })
            }
            (Some(k), None) => k.as_bytes().to_vec(),
            (None, Some(f)) => {
                let path = base.join(f);
                let mut k = std::fs::read(&path).map_err(|source| Error::Io {
                    op: "reading the scrub key file",
                    path,
                    source,
                })?;
                while k.last().is_some_and(|c| matches!(c, b'\n' | b'\r')) {
                    k.pop();
                }
                k
            }
            (None, None) => return Ok(None),
        };
        if key.len() < 16 {
            return Err(Error::BadInput {
                field: format!("{field}.hash_key"),
                reason: format!(
                    "the key is {} bytes; use at least 16 (a short key is guessable)",
                    key.len()
                ),
            });
        }
        Ok(Some(key))
    }
}

/// What a change is counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A detector's find.
    Detected(Detector),
    /// A `drop_keys` key removed.
    DropKey,
    /// A `hash_keys` value hashed.
    HashKey,
    /// `context.ip` truncated.
    IpTruncate,
}

const N_RULES: usize = 9;

impl Rule {
    /// Every rule, in the order of its counter.
    pub const ALL: [Rule; N_RULES] = [
        Rule::Detected(Detector::Email),
        Rule::Detected(Detector::Phone),
        Rule::Detected(Detector::Card),
        Rule::Detected(Detector::Iban),
        Rule::Detected(Detector::Ip),
        Rule::Detected(Detector::Jwt),
        Rule::DropKey,
        Rule::HashKey,
        Rule::IpTruncate,
    ];

    /// The `rule` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Detected(d) => d.as_str(),
            Rule::DropKey => "drop_key",
            Rule::HashKey => "hash_key",
            Rule::IpTruncate => "ip_truncate",
        }
    }

    fn index(self) -> usize {
        match self {
            Rule::Detected(d) => match d {
                Detector::Email => 0,
                Detector::Phone => 1,
                Detector::Card => 2,
                Detector::Iban => 3,
                Detector::Ip => 4,
                Detector::Jwt => 5,
            },
            Rule::DropKey => 6,
            Rule::HashKey => 7,
            Rule::IpTruncate => 8,
        }
    }
}

/// Changes made, per rule (indexed as [`Rule::ALL`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally(pub [u64; N_RULES]);

impl Tally {
    fn add(&mut self, r: Rule) {
        self.0[r.index()] += 1;
    }

    /// The count of `r`.
    pub fn get(&self, r: Rule) -> u64 {
        self.0[r.index()]
    }
}

/// A source's compiled scrubbing rules and its running counts.
pub struct Scrubber {
    source: String,
    enabled: bool,
    drop_keys: Vec<String>,
    hash_keys: Vec<String>,
    actions: DetectorActions,
    detectors: DetectorSet,
    truncate_ip: bool,
    key: ring::hmac::Key,
    counts: [AtomicU64; N_RULES],
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Per-call scratch: the finds of the string at hand and the tally.
#[derive(Default)]
struct Pass {
    hits: Vec<Hit>,
    tally: Tally,
}

impl Scrubber {
    /// The scrubber of `source` with `cfg`, hashing under `key`.
    pub fn new(source: &str, cfg: &ScrubConfig, key: &[u8]) -> Scrubber {
        let mut detectors = DetectorSet::default();
        for d in Detector::ALL {
            if cfg.detectors.get(d) != Action::Keep {
                detectors.insert(d);
            }
        }
        let lower = |v: &[String]| v.iter().map(|k| k.to_ascii_lowercase()).collect();
        Scrubber {
            source: source.to_owned(),
            enabled: cfg.enabled,
            drop_keys: lower(&cfg.drop_keys),
            hash_keys: lower(&cfg.hash_keys),
            actions: cfg.detectors.clone(),
            detectors,
            truncate_ip: cfg.truncate_ip,
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
            counts: Default::default(),
        }
    }

    /// The source's name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Scrubs `events` in place and adds what it changed to the counts.
    pub fn scrub_batch(&self, events: &mut [Event]) -> Tally {
        let mut pass = Pass::default();
        if self.enabled {
            for e in events.iter_mut() {
                self.scrub_event(e, &mut pass);
            }
        }
        for r in Rule::ALL {
            let n = pass.tally.get(r);
            if n > 0 {
                self.counts[r.index()].fetch_add(n, Ordering::Relaxed);
            }
        }
        pass.tally
    }

    /// The counts so far, per rule.
    pub fn counts(&self) -> Tally {
        let mut t = Tally::default();
        for r in Rule::ALL {
            t.0[r.index()] = self.counts[r.index()].load(Ordering::Relaxed);
        }
        t
    }

    /// The keyed hash of `bytes` as stored: `h:` and 16 hex digits.
    pub fn hash(&self, bytes: &[u8]) -> String {
        let tag = ring::hmac::sign(&self.key, bytes);
        let mut out = String::with_capacity(18);
        out.push_str("h:");
        for b in &tag.as_ref()[..8] {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    fn is_drop(&self, k: &str) -> bool {
        self.drop_keys.iter().any(|d| d.eq_ignore_ascii_case(k))
    }

    fn is_hash(&self, k: &str) -> bool {
        self.hash_keys.iter().any(|d| d.eq_ignore_ascii_case(k))
    }

    fn scrub_event(&self, e: &mut Event, pass: &mut Pass) {
        for (key, id) in [
            ("userId", &mut e.user_id),
            ("anonymousId", &mut e.anonymous_id),
            ("groupId", &mut e.group_id),
            ("previousId", &mut e.previous_id),
        ] {
            if let Some(v) = id {
                self.scrub_id(key, v, pass);
            }
        }
        if let Some(s) = self.scrub_str(&e.name, pass) {
            e.name = s;
        }
        // `context.ip` is truncated, not masked, unless a key rule takes it:
        // it is set aside while the rest of the context is scrubbed.
        let mut truncated = None;
        if self.truncate_ip && !self.is_drop("ip") && !self.is_hash("ip") {
            if let Some(a) = e.context.get("ip").and_then(Value::as_str) {
                if let Ok(a) = a.trim().parse::<IpAddr>() {
                    e.context.remove("ip");
                    pass.tally.add(Rule::IpTruncate);
                    truncated = Some(truncate_ip(a).to_string());
                }
            }
        }
        self.scrub_map(&mut e.properties, pass);
        self.scrub_map(&mut e.traits, pass);
        self.scrub_map(&mut e.context, pass);
        if let Some(ip) = truncated {
            e.context.insert("ip".into(), Value::String(ip));
        }
    }

    fn scrub_id(&self, key: &str, v: &mut String, pass: &mut Pass) {
        if self.is_hash(key) {
            pass.tally.add(Rule::HashKey);
            *v = self.hash(v.as_bytes());
            return;
        }
        detect::find(v, self.detectors, &mut pass.hits);
        if let Some(h) = pass.hits.first() {
            pass.tally.add(Rule::Detected(h.what));
            *v = self.hash(v.as_bytes());
        }
    }

    /// The scrubbed text of `s`, or None when nothing was found.
    fn scrub_str(&self, s: &str, pass: &mut Pass) -> Option<String> {
        detect::find(s, self.detectors, &mut pass.hits);
        if pass.hits.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        for h in &pass.hits {
            pass.tally.add(Rule::Detected(h.what));
            out.push_str(&s[at..h.start]);
            match self.actions.get(h.what) {
                Action::Hash => out.push_str(&self.hash(&s.as_bytes()[h.start..h.end])),
                _ => {
                    out.push('[');
                    out.push_str(h.what.as_str());
                    out.push(']');
                }
            }
            at = h.end;
        }
        out.push_str(&s[at..]);
        Some(out)
    }

    fn scrub_map(&self, m: &mut Map<String, Value>, pass: &mut Pass) {
        if m.is_empty() {
            return;
        }
        if !self.drop_keys.is_empty() {
            let before = m.len();
            m.retain(|k, _| !self.is_drop(k));
            for _ in m.len()..before {
                pass.tally.add(Rule::DropKey);
            }
        }
        let mut renames: Vec<(String, String)> = Vec::new();
        for (k, v) in m.iter_mut() {
            if self.is_hash(k) {
                if !v.is_null() {
                    pass.tally.add(Rule::HashKey);
                    let text = match &mut *v {
                        Value::String(s) => std::mem::take(s),
                        other => other.to_string(),
                    };
                    *v = Value::String(self.hash(text.as_bytes()));
                }
            } else {
                self.scrub_value(v, pass);
            }
            // A key may itself be personal (`{"jane@example.com": 1}`).
            if let Some(nk) = self.scrub_str(k, pass) {
                renames.push((k.clone(), nk));
            }
        }
        for (old, new) in renames {
            if let Some(v) = m.remove(&old) {
                m.insert(new, v);
            }
        }
    }

    fn scrub_value(&self, v: &mut Value, pass: &mut Pass) {
        match v {
            Value::String(s) => {
                if let Some(n) = self.scrub_str(s, pass) {
                    *s = n;
                }
            }
            Value::Array(a) => {
                for x in a {
                    self.scrub_value(x, pass);
                }
            }
            Value::Object(m) => self.scrub_map(m, pass),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// `a` with its host part zeroed: the /24 of an IPv4 address, the /48 of
/// an IPv6 one.
pub fn truncate_ip(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(v4) => {
            let [x, y, z, _] = v4.octets();
            IpAddr::from([x, y, z, 0])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
        }
    }
}

/// `sightline_events_scrubbed_total{source,rule}` over every source's
/// scrubber.
pub struct ScrubTelemetry(pub Vec<Arc<Scrubber>>);

impl Telemetry for ScrubTelemetry {
    fn report(&self, out: &mut Report) {
        let f = out.family(
            "sightline_events_scrubbed",
            "Values scrubbed from events before they were stored, by source and rule.",
            MetricKind::Counter,
        );
        for s in &self.0 {
            let t = s.counts();
            for r in Rule::ALL {
                f.point(
                    &[("source", s.source()), ("rule", r.as_str())],
                    t.get(r) as f64,
                );
            }
        }
    }
}

#[cfg(test)]
#[path = "scrub_tests.rs"]
mod tests;
