//! The agent's senders: Loki push (protobuf, snappy) to every
//! `clients[].url`, with `X-Scope-OrgID`, basic or bearer auth, the
//! client's `external_labels`, and retries with exponential backoff on
//! 429, 5xx and connection errors. A batch counts as acknowledged when
//! every client answered 2xx, or refused it for good with another 4xx
//! (as Promtail drops such a batch). Unlike Promtail, a batch is never
//! dropped after `max_retries`: it is retried at `max_period` until it
//! goes through or the agent stops, so positions never pass a line that
//! was not delivered.

use super::config::ClientConfig;
use super::run::{LogSink, TailStream};
use super::stages::TailMetrics;
use prost::Message;
use sightline_proto::loki::{
    EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// One client with its HTTP connection pool.
pub struct PushClient {
    cfg: ClientConfig,
    http: reqwest::Client,
    auth: Option<String>,
}

impl PushClient {
    pub fn new(cfg: &ClientConfig) -> Result<PushClient, String> {
        sightline_config::tls::install_default_provider();
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .no_proxy()
            .build()
            .map_err(|e| format!("client {}: {e}", cfg.url))?;
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("client {}: reading {}: {e}", cfg.url, p.display()))
        };
        let auth = if let Some(b) = &cfg.basic_auth {
            let pw = match (&b.password, &b.password_file) {
                (Some(p), _) => p.clone(),
                (None, Some(f)) => read(f)?,
                _ => String::new(),
            };
            Some(format!(
                "Basic {}",
                base64(format!("{}:{pw}", b.username).as_bytes())
            ))
        } else if let Some(t) = &cfg.bearer_token {
            Some(format!("Bearer {t}"))
        } else if let Some(f) = &cfg.bearer_token_file {
            Some(format!("Bearer {}", read(f)?))
        } else {
            None
        };
        Ok(PushClient {
            cfg: cfg.clone(),
            http,
            auth,
        })
    }

    /// The body of one tenant's push: snappy-compressed `PushRequest`.
    pub fn encode(&self, streams: &[&TailStream]) -> Vec<u8> {
        let req = PushRequest {
            streams: streams
                .iter()
                .map(|s| {
                    let mut labels: BTreeMap<&str, &str> = self
                        .cfg
                        .external_labels
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    labels.extend(s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    StreamAdapter {
                        labels: selector_text(&labels),
                        entries: s
                            .entries
                            .iter()
                            .map(|e| EntryAdapter {
                                timestamp: Some(Timestamp {
                                    seconds: e.ts_ns.div_euclid(1_000_000_000),
                                    nanos: e.ts_ns.rem_euclid(1_000_000_000) as i32,
                                }),
                                line: e.line.clone(),
                                structured_metadata: e
                                    .metadata
                                    .iter()
                                    .map(|(n, v)| LabelPairAdapter {
                                        name: n.clone(),
                                        value: v.clone(),
                                    })
                                    .collect(),
                            })
                            .collect(),
                        hash: 0,
                    }
                })
                .collect(),
        };
        snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap_or_default()
    }

    /// One attempt: `Ok(true)` kept, `Ok(false)` refused for good,
    /// `Err` worth retrying.
    async fn push_once(&self, tenant: Option<&str>, body: Vec<u8>) -> Result<bool, String> {
        let mut req = self
            .http
            .post(&self.cfg.url)
            .header("Content-Type", "application/x-protobuf")
            .header(
                "User-Agent",
                concat!("sightline-agent/", env!("CARGO_PKG_VERSION")),
            )
            .body(body);
        for (k, v) in &self.cfg.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a.as_str());
        }
        if let Some(t) = tenant.or(self.cfg.tenant_id.as_deref()) {
            req = req.header("X-Scope-OrgID", t);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(true);
        }
        let text = resp.text().await.unwrap_or_default();
        if status == 429 || status >= 500 {
            return Err(format!("{status}: {}", text.trim()));
        }
        tracing::warn!(url = %self.cfg.url, status, "batch refused, dropped: {}", text.trim());
        Ok(false)
    }
}

/// `{a="b", c="d"}` with Go string quoting.
fn selector_text(labels: &BTreeMap<&str, &str>) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(k);
        s.push('=');
        s.push_str(&serde_json::to_string(v).unwrap_or_default());
    }
    s.push('}');
    s
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every client of the agent.
pub struct ClientsSink {
    pub clients: Vec<PushClient>,
    pub metrics: Arc<TailMetrics>,
}

impl ClientsSink {
    pub fn new(cfgs: &[ClientConfig], metrics: Arc<TailMetrics>) -> Result<ClientsSink, String> {
        Ok(ClientsSink {
            clients: cfgs.iter().map(PushClient::new).collect::<Result<_, _>>()?,
            metrics,
        })
    }
}

impl LogSink for ClientsSink {
    fn send<'a>(
        &'a self,
        batch: &'a [TailStream],
        cancel: &'a CancellationToken,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        Box::pin(async move {
            let mut tenants: BTreeMap<Option<&str>, Vec<&TailStream>> = BTreeMap::new();
            for s in batch {
                tenants.entry(s.tenant.as_deref()).or_default().push(s);
            }
            for c in &self.clients {
                for (tenant, streams) in &tenants {
                    let body = c.encode(streams);
                    let b = &c.cfg.backoff_config;
                    let mut wait = b.min_period;
                    let mut tries = 0u32;
                    loop {
                        match c.push_once(*tenant, body.clone()).await {
                            Ok(true) => break,
                            Ok(false) => {
                                let n: usize = streams.iter().map(|s| s.entries.len()).sum();
                                self.metrics.add(
                                    "promtail_dropped_entries",
                                    &[("host", &c.cfg.url), ("reason", "refused")],
                                    n as f64,
                                );
                                break;
                            }
                            Err(e) => {
                                tries += 1;
                                self.metrics.add(
                                    "promtail_batch_retries",
                                    &[("host", &c.cfg.url)],
                                    1.0,
                                );
                                if tries == b.max_retries {
                                    tracing::error!(url = %c.cfg.url, "push failed {tries} times, still retrying: {e}");
                                } else {
                                    tracing::warn!(url = %c.cfg.url, "push failed, retrying in {wait:?}: {e}");
                                }
                            }
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = cancel.cancelled() => return false,
                        }
                        wait = (wait * 2).min(b.max_period.max(b.min_period));
                    }
                }
            }
            true
        })
    }
}

#[cfg(test)]
mod tests;
