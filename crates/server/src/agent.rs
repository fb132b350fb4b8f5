//! `sightline agent`: Promtail's job. Reads a Promtail config file, tails
//! its `scrape_configs` and ships the lines to every `clients[].url` with
//! Loki's push protocol (crates/ingest/src/tail); serves `/metrics` and
//! `/ready` on `server.http_listen_port` (9080, as Promtail). Stops on
//! SIGTERM or SIGINT after sending what it read and writing the
//! positions file. docs/logs-tail.md describes it.

use crate::cli::AgentArgs;
use anyhow::Context;
use axum::routing::get;
use sightline_core::telemetry::TelemetryRegistry;
use sightline_ingest::tail::{self, client::ClientsSink, PromtailConfig, TailMetrics, TailOptions};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Promtail's default positions file.
const DEFAULT_POSITIONS: &str = "/var/log/positions.yaml";

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    let cfg = load(&args)?;
    if args.check_syntax {
        println!("Valid config file! No syntax issues found");
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("sightline-agent")
        .build()
        .context("starting the async runtime")?;
    rt.block_on(agent(cfg))
}

/// Reads and checks the config file (`${VAR}` expanded when asked).
fn load(args: &AgentArgs) -> anyhow::Result<PromtailConfig> {
    let path = args.config_file.display().to_string();
    let mut text =
        std::fs::read_to_string(&args.config_file).with_context(|| format!("reading {path}"))?;
    if args.expand_env {
        text = expand_env(&text, |k| std::env::var(k).ok());
    }
    let cfg = PromtailConfig::parse(&text, &path).map_err(|e| anyhow::anyhow!("{e}"))?;
    if cfg.clients.is_empty() {
        anyhow::bail!("{path}: clients: at least one client (a Loki push URL) is needed");
    }
    tail::Tailer::new(
        &cfg.scrape_configs,
        tail::Positions::in_memory(),
        TailMetrics::new(),
    )
    .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    Ok(cfg)
}

/// `${VAR}` and `${VAR:-default}`, as Promtail's `-config.expand-env`
/// (an unset variable without a default becomes empty); `$$` is `$`.
pub fn expand_env(text: &str, get: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(a) = after.strip_prefix('$') {
            out.push('$');
            rest = a;
        } else if let (Some(body), Some(end)) = (after.strip_prefix('{'), after.find('}')) {
            let inner = &body[..end - 1];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            let v = get(name)
                .filter(|v| !v.is_empty() || default.is_none())
                .or(default.map(str::to_owned))
                .unwrap_or_default();
            out.push_str(&v);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

async fn agent(cfg: PromtailConfig) -> anyhow::Result<()> {
    let metrics = TailMetrics::new();
    let registry = TelemetryRegistry::new();
    registry.register(Arc::new(crate::telemetry::ProcessTelemetry::new()));
    registry.register(metrics.clone());
    let sink = Arc::new(
        ClientsSink::new(&cfg.clients, metrics.clone()).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    // The tightest client sets the batch: a batch goes to every client.
    let opts = TailOptions {
        target_sync: cfg.target_config.sync_period,
        batch_wait: cfg
            .clients
            .iter()
            .map(|c| c.batchwait)
            .min()
            .unwrap_or(Duration::from_secs(1)),
        batch_bytes: cfg
            .clients
            .iter()
            .map(|c| c.batchsize)
            .min()
            .unwrap_or(1 << 20),
        ..TailOptions::default()
    };
    let cancel = CancellationToken::new();
    let task = tail::start(
        &cfg.scrape_configs,
        &cfg.positions,
        Path::new(DEFAULT_POSITIONS),
        opts,
        sink,
        metrics,
        cancel.clone(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let addr = format!(
        "{}:{}",
        cfg.server
            .http_listen_address
            .as_deref()
            .filter(|a| !a.is_empty())
            .unwrap_or("0.0.0.0"),
        cfg.server.http_listen_port
    );
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "agent serving /metrics and /ready");
    let reg = registry.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let reg = reg.clone();
                async move { sightline_api::ops::metrics_response(reg.collect()) }
            }),
        )
        .route("/ready", get(|| async { "Ready" }))
        .route("/-/ready", get(|| async { "Ready" }))
        .route("/-/healthy", get(|| async { "Healthy" }));
    let tailer = tokio::spawn(task);
    crate::serve::spawn_shutdown_on_signals(cancel.clone());
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(cancel.clone().cancelled_owned())
        .await;
    cancel.cancel();
    tailer.await.context("the tailer task")?;
    served.context("HTTP server")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::expand_env;

    #[test]
    fn expand_env_reads_variables_defaults_and_dollars() {
        let get = |k: &str| match k {
            "HOST" => Some("web1".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            expand_env("a ${HOST} ${NOPE:-x} ${EMPTY:-d} ${NOPE} $$ $5", get),
            "a web1 x d  $ $5"
        );
    }
}
