//! User events in `serve`: the event store under `<data-dir>/events`, the
//! intake (Segment's HTTP tracking API and `/v1/events`, with each
//! source's write keys and PII scrubbing), and the events as metrics:
//! `sightline_events_total{event,source,type}` written into the metrics
//! store every `metrics_interval`, so PromQL, rules and SLOs read them.
//! From the `events:` section of sightline.yml (read at start;
//! docs/events-intake.md, docs/events-pii.md).

use anyhow::Context;
use serde::Deserialize;
use sightline_api::events::{EventCounts, Intake, IntakeLimits, Source};
use sightline_core::lifecycle::{Running, StartContext, Task};
use sightline_core::Labels;
use sightline_core::MetricAppender;
use sightline_eventstore::scrub::{ScrubConfig, ScrubTelemetry, Scrubber};
use sightline_eventstore::{EventStore, EventStoreOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `events:` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// The store: retention, WAL sync, head cut, de-duplication window
    /// (docs/events-store.md).
    #[serde(default)]
    pub storage: EventStoreOptions,
    /// Segment's size limits (32 KB per message, 500 KB per request).
    #[serde(default)]
    pub limits: IntakeLimits,
    /// The sources and their write keys. Without any, the intake is open:
    /// every request is stored as source `default`, scrubbed by `scrub`.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// The scrubbing of the open intake's `default` source.
    #[serde(default)]
    pub scrub: ScrubConfig,
    /// How often `sightline_events_total` is written into the metrics
    /// store (15s; 0s turns it off).
    #[serde(default = "default_metrics_interval")]
    pub metrics_interval: sightline_core::duration::Duration,
}

fn default_metrics_interval() -> sightline_core::duration::Duration {
    sightline_core::duration::Duration::from_secs(15)
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            storage: EventStoreOptions::default(),
            limits: IntakeLimits::default(),
            sources: Vec::new(),
            scrub: ScrubConfig::default(),
            metrics_interval: default_metrics_interval(),
        }
    }
}

/// One source: a name, its write keys, its scrubbing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The name events are stored under (`source`).
    pub name: String,
    /// Write keys, inline.
    #[serde(default)]
    pub write_keys: Vec<String>,
    /// A file of write keys, one a line (relative to the config file).
    #[serde(default)]
    pub write_key_file: Option<PathBuf>,
    /// PII scrubbing (docs/events-pii.md).
    #[serde(default)]
    pub scrub: ScrubConfig,
}

impl EventsConfig {
    /// Anchors the section's file paths at `dir`, the config file's folder.
    pub fn anchor(&mut self, dir: &Path) {
        let at = |p: &mut Option<PathBuf>| {
            if let Some(p) = p.as_mut().filter(|p| p.is_relative()) {
                *p = dir.join(&*p);
            }
        };
        at(&mut self.scrub.hash_key_file);
        for s in &mut self.sources {
            at(&mut s.write_key_file);
            at(&mut s.scrub.hash_key_file);
        }
    }
}

/// The running event subsystem.
pub struct Events {
    /// The store (the analytics read it).
    pub store: Arc<EventStore>,
    intake: Arc<Intake>,
}

/// The key sources hash under when their config names none: 32 random
/// bytes made on first start and kept in `<data-dir>/events/scrub.key`,
/// so hashes stay comparable across restarts.
fn server_key(dir: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let path = dir.join("scrub.key");
    if let Ok(k) = std::fs::read(&path) {
        if k.len() >= 16 {
            return Ok(k);
        }
    }
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .context("reading /dev/urandom for the scrub key")?;
    let tmp = dir.join("scrub.key.new");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(&key)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

/// The write keys of `s`: inline and from its file.
fn write_keys(s: &SourceConfig, field: &str) -> anyhow::Result<Vec<String>> {
    let mut keys = s.write_keys.clone();
    if let Some(f) = &s.write_key_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("{field}.write_key_file: cannot read {}", f.display()))?;
        keys.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if keys.iter().any(|k| k.is_empty()) {
        anyhow::bail!("{field}.write_keys: a write key is empty");
    }
    if keys.is_empty() {
        anyhow::bail!("{field}: no write key (write_keys or write_key_file)");
    }
    Ok(keys)
}

/// The sources of `cfg`, checked: names and keys unique.
fn sources(cfg: &EventsConfig, server_key: &[u8]) -> anyhow::Result<(Vec<Source>, bool)> {
    let scrubber = |name: &str, scrub: &ScrubConfig, field: &str| -> anyhow::Result<Scrubber> {
        let key = scrub
            .configured_key(Path::new(""), field)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Scrubber::new(
            name,
            scrub,
            key.as_deref().unwrap_or(server_key),
        ))
    };
    if cfg.sources.is_empty() {
        let s = Source {
            name: "default".into(),
            write_keys: Vec::new(),
            scrubber: Arc::new(scrubber("default", &cfg.scrub, "events.scrub")?),
        };
        return Ok((vec![s], true));
    }
    let mut out: Vec<Source> = Vec::new();
    for (i, s) in cfg.sources.iter().enumerate() {
        let field = format!("events.sources[{i}]");
        if s.name.trim().is_empty() {
            anyhow::bail!("{field}.name: empty");
        }
        if out.iter().any(|o| o.name == s.name) {
            anyhow::bail!("{field}.name: {:?} is already a source", s.name);
        }
        let keys = write_keys(s, &field)?;
        for k in &keys {
            if let Some(o) = out.iter().find(|o| o.write_keys.contains(k)) {
                anyhow::bail!(
                    "{field}.write_keys: a key of {:?} is also one of {:?}",
                    s.name,
                    o.name
                );
            }
        }
        out.push(Source {
            name: s.name.clone(),
            write_keys: keys,
            scrubber: Arc::new(scrubber(&s.name, &s.scrub, &format!("{field}.scrub"))?),
        });
    }
    Ok((out, false))
}

/// Writes the counts as `sightline_events_total` samples at `t_ms`.
fn write_counts(counts: &EventCounts, metrics: &dyn MetricAppender, t_ms: i64) {
    let snap = counts.snapshot();
    if snap.is_empty() {
        return;
    }
    let mut app = metrics.appender();
    for ((event, source, kind), v) in snap {
        let labels = Labels::from_pairs([
            ("__name__", "sightline_events_total"),
            ("event", event.as_str()),
            ("source", source.as_str()),
            ("type", kind),
        ]);
        if let Err(e) = app.append(0, &labels, t_ms, v) {
            tracing::debug!(error = %e, "events as metrics: sample refused");
        }
    }
    if let Err(e) = app.commit() {
        tracing::warn!(error = %e, "events as metrics: commit failed");
    }
}

impl Events {
    /// Opens the store (replaying its WAL), builds the sources and the
    /// intake, registers their telemetry and starts the metrics writer.
    pub fn start(
        cfg: &EventsConfig,
        ctx: &StartContext,
        metrics: Arc<dyn MetricAppender>,
    ) -> anyhow::Result<(Events, Vec<Box<dyn Running>>)> {
        let dir = ctx.data_dir.join("events");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let key = server_key(&dir)?;
        let (sources, open) = sources(cfg, &key)?;
        tracing::info!(dir = %dir.display(), "opening the event store (replaying its WAL)");
        let store =
            Arc::new(EventStore::open(&dir, cfg.storage.clone()).map_err(|e| {
                anyhow::anyhow!("opening the event store in {}: {e}", dir.display())
            })?);
        ctx.telemetry.register(store.clone());
        ctx.telemetry.register(Arc::new(ScrubTelemetry(
            sources.iter().map(|s| s.scrubber.clone()).collect(),
        )));
        let counts = Arc::new(EventCounts::default());
        ctx.telemetry.register(counts.clone());
        let intake = Arc::new(Intake::new(
            store.clone(),
            sources,
            open,
            cfg.limits.clone(),
            counts.clone(),
        ));
        let mut running: Vec<Box<dyn Running>> = Vec::new();
        let every = cfg.metrics_interval.std();
        if !every.is_zero() {
            let cancel = ctx.cancel.clone();
            running.push(Box::new(Task::spawn("events metrics", async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = cancel.cancelled() => break,
                    }
                    let (c, m) = (counts.clone(), metrics.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        write_counts(&c, m.as_ref(), sightline_core::time::now_ms())
                    })
                    .await;
                }
                // The last counts, so a clean stop loses none.
                write_counts(&counts, metrics.as_ref(), sightline_core::time::now_ms());
            })));
        }
        Ok((Events { store, intake }, running))
    }

    /// The intake's routes and the analytics API over the store. Events
    /// are not kept per tenant: with multi-tenancy on, they belong to the
    /// default tenant, and another tenant is refused rather than shown them.
    pub fn routes(&self) -> axum::Router {
        let source: Arc<dyn sightline_api::analytics::EventsSource> = self.store.clone();
        sightline_api::events::routes(self.intake.clone())
            .merge(sightline_api::analytics::analytics_routes(source))
            .layer(axum::middleware::from_fn(default_tenant_only))
    }
}

/// Refuses a tenant other than the default one (events have no tenants).
async fn default_tenant_only(
    tenant: sightline_api::tenant::TenantOf,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if tenant.is_default() {
        return next.run(req).await;
    }
    (
        axum::http::StatusCode::FORBIDDEN,
        "user events belong to the default tenant (they are not kept per tenant)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> EventsConfig {
        sightline_config::yaml::from_str(yaml, "t.yml").unwrap()
    }

    fn err(yaml: &str) -> String {
        match sources(&cfg(yaml), &[7u8; 32]) {
            Ok(_) => panic!("accepted {yaml}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn sources_are_checked_naming_the_field() {
        let (s, open) = sources(&cfg("sources: []\n"), &[7u8; 32]).unwrap();
        assert!(open);
        assert_eq!(s[0].name, "default");
        let (s, open) = sources(
            &cfg(
                "sources:\n  - {name: web, write_keys: [a, b]}\n  - {name: app, write_keys: [c]}\n",
            ),
            &[7u8; 32],
        )
        .unwrap();
        assert!(!open);
        assert_eq!(s[1].write_keys, ["c"]);
        assert_eq!(
            err("sources:\n  - {name: web}\n"),
            "events.sources[0]: no write key (write_keys or write_key_file)"
        );
        assert_eq!(
            err("sources:\n  - {name: web, write_keys: [a]}\n  - {name: web, write_keys: [b]}\n"),
            "events.sources[1].name: \"web\" is already a source"
        );
        assert_eq!(
            err("sources:\n  - {name: web, write_keys: [a]}\n  - {name: app, write_keys: [a]}\n"),
            "events.sources[1].write_keys: a key of \"app\" is also one of \"web\""
        );
        assert!(
            err("sources:\n  - {name: web, write_keys: [a], scrub: {hash_key: short}}\n")
                .starts_with("events.sources[0].scrub.hash_key: the key is 5 bytes")
        );
        assert!(sightline_config::yaml::from_str::<EventsConfig>(
            "sources: []\nbogus: 1\n",
            "t.yml"
        )
        .is_err());
    }

    #[test]
    fn key_files_are_read_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keys.txt"), "k1\n\n  k2  \n").unwrap();
        let mut c = cfg("sources:\n  - {name: web, write_key_file: keys.txt}\n");
        c.anchor(dir.path());
        let (s, _) = sources(&c, &[7u8; 32]).unwrap();
        assert_eq!(s[0].write_keys, ["k1", "k2"]);
        // The server's key is made once and kept.
        let k1 = server_key(dir.path()).unwrap();
        assert_eq!(k1.len(), 32);
        assert_eq!(server_key(dir.path()).unwrap(), k1);
    }
}
