//! Service discovery: turning a job's `static_configs`, `file_sd_configs`
//! and `kubernetes_sd_configs` into [`TargetGroup`]s for its scrape pool.
//!
//! - [`static_groups`]: the fixed groups written in the configuration.
//! - [`FileDiscovery`]: reads JSON/YAML target files matched by globs, notices
//!   changes (polling modification times and the set of matching files) and
//!   re-reads everything every `refresh_interval`. A file that fails to parse
//!   keeps its last good groups and the failure is reported.
//! - [`kubernetes`]: list+watch of the Kubernetes API.
//! - [`run_job_discovery`]: one task per job combining them, sending the
//!   job's full set of groups on a watch channel whenever it changes.

mod file;
pub mod kubernetes;
#[cfg(test)]
mod tests;

pub use file::{is_valid_file_sd_pattern, parse_target_file, FileDiscovery};

use crate::config::ScrapeConfig;
use sightline_core::Labels;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The label that holds a target's `host:port`.
pub const ADDRESS_LABEL: &str = "__address__";

/// Added to targets read from files: the path of their file.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// Targets sharing a set of labels, as a discovery mechanism reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group within its mechanism (`static/0`, `file:/x.json:1`).
    pub source: String,
    /// One label set per target, each with at least `__address__`.
    pub targets: Vec<Labels>,
    /// Labels common to all targets; a target's own labels win.
    pub labels: Labels,
}

impl TargetGroup {
    /// A group from `host:port` strings and common labels.
    pub fn from_addresses<'a>(
        source: impl Into<String>,
        addresses: impl IntoIterator<Item = &'a str>,
        labels: Labels,
    ) -> Self {
        TargetGroup {
            source: source.into(),
            targets: addresses
                .into_iter()
                .map(|a| Labels::from_pairs([(ADDRESS_LABEL, a)]))
                .collect(),
            labels,
        }
    }
}

/// The groups of a job's `static_configs`.
pub fn static_groups(cfg: &ScrapeConfig) -> Vec<TargetGroup> {
    cfg.static_configs
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            TargetGroup::from_addresses(
                format!("static/{i}"),
                sc.targets.iter().map(String::as_str),
                Labels::from_pairs(sc.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            )
        })
        .collect()
}

/// What one job's discovery currently knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoveryState {
    /// Every group of the job, static first, then files in path order.
    pub groups: Vec<TargetGroup>,
    /// The last read error per file (empty when all files read fine).
    pub errors: Vec<String>,
}

/// How often file modification times are polled for changes.
pub const FILE_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs discovery for one job until `cancel` fires, publishing its groups
/// on the returned channel (the first value is ready before this returns;
/// Kubernetes groups follow once their first lists complete). `on_error`
/// is called once per failed file read; Kubernetes failures are logged
/// and kept in [`DiscoveryState::errors`].
pub fn run_job_discovery(
    cfg: &ScrapeConfig,
    poll: std::time::Duration,
    cancel: CancellationToken,
    on_error: Arc<dyn Fn(&str) + Send + Sync>,
) -> watch::Receiver<DiscoveryState> {
    run_job_discovery_with(
        cfg,
        poll,
        &kubernetes::InCluster::from_env(),
        cancel,
        on_error,
    )
}

/// [`run_job_discovery`] with the in-cluster environment given (tests).
pub fn run_job_discovery_with(
    cfg: &ScrapeConfig,
    poll: std::time::Duration,
    in_cluster: &kubernetes::InCluster,
    cancel: CancellationToken,
    on_error: Arc<dyn Fn(&str) + Send + Sync>,
) -> watch::Receiver<DiscoveryState> {
    let statics = static_groups(cfg);
    let mut files: Vec<FileDiscovery> =
        cfg.file_sd_configs.iter().map(FileDiscovery::new).collect();
    let k8s_changed = Arc::new(tokio::sync::Notify::new());
    let mut k8s = Vec::new();
    let mut k8s_start_errors = Vec::new();
    for (i, k) in cfg.kubernetes_sd_configs.iter().enumerate() {
        let owner = format!("job {:?} kubernetes_sd_configs[{i}]", cfg.job_name);
        match kubernetes::start(k, in_cluster, &owner, cancel.clone(), k8s_changed.clone()) {
            Ok(rx) => k8s.push(rx),
            Err(e) => {
                // Not `on_error`: that one counts file read failures.
                tracing::warn!(job = %cfg.job_name, error = %e, "kubernetes discovery cannot start");
                k8s_start_errors.push(e);
            }
        }
    }
    for f in &mut files {
        f.refresh();
        for e in f.errors() {
            on_error(&e);
        }
    }
    let combine = move |files: &[FileDiscovery],
                        k8s: &[watch::Receiver<kubernetes::KubernetesState>]| {
        let mut state = DiscoveryState {
            groups: statics.clone(),
            errors: k8s_start_errors.clone(),
        };
        for f in files {
            state.groups.extend(f.groups());
            state.errors.extend(f.errors());
        }
        for rx in k8s {
            let k = rx.borrow();
            state.groups.extend(k.groups.iter().cloned());
            state.errors.extend(k.errors.iter().cloned());
        }
        state
    };
    let (tx, rx) = watch::channel(combine(&files, &k8s));
    if files.is_empty() && k8s.is_empty() {
        return rx;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        let has_files = !files.is_empty();
        let has_k8s = !k8s.is_empty();
        loop {
            let mut changed = false;
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = k8s_changed.notified(), if has_k8s => changed = true,
                _ = ticker.tick(), if has_files => {
                    // File reads are small and rare; doing them on the
                    // runtime thread keeps this simple without blocking
                    // anything for long.
                    for f in &mut files {
                        if f.due() || f.changed() {
                            let before = (f.groups(), f.errors());
                            f.refresh();
                            for e in f.errors() {
                                on_error(&e);
                            }
                            changed |= before != (f.groups(), f.errors());
                        }
                    }
                }
            }
            if changed {
                let state = combine(&files, &k8s);
                if *tx.borrow() != state && tx.send(state).is_err() {
                    return;
                }
            }
        }
    });
    rx
}
