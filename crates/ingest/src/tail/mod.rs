//! File tailing as Promtail does it: Promtail's configuration read
//! unchanged ([`config`]), `__path__` globs expanded again every
//! `sync_period`, files followed through rename and copytruncate
//! rotation ([`file`], [`tailer`]), Promtail's pipeline stages
//! ([`stages`]), and offsets kept in Promtail's positions file
//! ([`positions`]) only for lines the receiver acknowledged ([`run`]).
//!
//! Two receivers: a store appended to directly ([`run::AppenderSink`],
//! in `serve`) and Loki push endpoints ([`client::ClientsSink`], in
//! `sightline agent`). docs/logs-tail.md describes it for users.

pub mod client;
pub mod config;
pub mod file;
pub mod positions;
pub mod run;
pub mod stages;
pub mod tailer;

#[cfg(test)]
mod tests;

pub use config::{PositionsConfig, PromtailConfig, ScrapeConfig};
pub use positions::Positions;
pub use run::{run, AppenderSink, LogSink, TailOptions, TailStream};
pub use stages::TailMetrics;
pub use tailer::Tailer;

use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Checks `scrape_configs`, loads the positions file and returns the
/// tailer's task, ready to spawn.
pub fn start(
    scrape_configs: &[ScrapeConfig],
    positions: &PositionsConfig,
    default_positions: &Path,
    opts: TailOptions,
    sink: Arc<dyn LogSink>,
    metrics: Arc<TailMetrics>,
    cancel: CancellationToken,
) -> crate::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let path = positions
        .filename
        .clone()
        .unwrap_or_else(|| default_positions.to_owned());
    let pos = Positions::load(&path, positions.ignore_invalid_yaml)?;
    let tailer = Tailer::new(scrape_configs, pos, metrics.clone()).map_err(crate::Error::Config)?;
    let opts = TailOptions {
        positions_sync: positions.sync_period,
        ..opts
    };
    Ok(run(tailer, opts, sink, metrics, cancel))
}
