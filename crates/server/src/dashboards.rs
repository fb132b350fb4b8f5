//! Dashboards in the server's configuration: the config file's
//! `dashboards:` section (owned by `sightline_ui`) and `--dashboards.dir`
//! become the provisioned set the dashboard store serves, read at start,
//! on reload, and again whenever the providers' files change (checked every
//! `updateIntervalSeconds`, as Grafana does).

use crate::config::DashboardsSection;
use sightline_ui::dashboards::provision::{self, DashboardsConfig, Provider};
use sightline_ui::dashboards::store::ProvisionedSet;
use sightline_ui::dashboards::DashboardStore;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The providers in force, for the task that looks for changed files.
#[derive(Debug)]
pub struct Watch {
    /// The store the provisioned set goes to.
    pub store: Arc<DashboardStore>,
    /// The config file's section in force (a reload replaces it).
    pub section: Mutex<Option<DashboardsSection>>,
    /// `--dashboards.dir`.
    pub dir: Option<PathBuf>,
}

impl Watch {
    /// Every provider in force, as one config (the flag's with a base of
    /// its own: its path is used as given).
    fn providers(&self) -> Vec<(DashboardsConfig, PathBuf)> {
        let mut out = Vec::new();
        if let Some(s) = self
            .section
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            out.push((s.config.clone(), s.base.clone()));
        }
        if let Some(d) = &self.dir {
            out.push((
                DashboardsConfig {
                    api_version: None,
                    providers: vec![Provider::from_dir(d)],
                },
                PathBuf::new(),
            ));
        }
        out
    }

    fn fingerprint(&self) -> u64 {
        self.providers().iter().fold(0u64, |acc, (c, b)| {
            acc.rotate_left(7) ^ provision::fingerprint(c, b)
        })
    }

    fn interval(&self) -> Duration {
        self.providers()
            .iter()
            .filter_map(|(c, _)| provision::interval(c))
            .min()
            .unwrap_or(Duration::from_secs(10))
    }

    /// Reads the providers again and puts the set in force; an error (a
    /// folder gone) is logged and the set in force stays.
    fn rescan(&self) {
        let section = self
            .section
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match load(section.as_ref(), self.dir.as_deref()) {
            Ok(set) => {
                tracing::info!(
                    dashboards = set.dashboards.len(),
                    "provisioned dashboards changed; reloaded"
                );
                self.store.set_provisioned(set);
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "provisioned dashboards not reloaded")
            }
        }
    }
}

/// Checks the providers' files for changes until `cancel`, and reloads
/// them when they changed. Sleeps between checks, which only `stat` files.
pub async fn watch(w: Arc<Watch>, cancel: CancellationToken) {
    let mut last = {
        let w = w.clone();
        tokio::task::spawn_blocking(move || w.fingerprint())
            .await
            .unwrap_or(0)
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(w.interval()) => {}
            _ = cancel.cancelled() => return,
        }
        let w2 = w.clone();
        let now = tokio::task::spawn_blocking(move || w2.fingerprint())
            .await
            .unwrap_or(last);
        if now != last {
            last = now;
            let w2 = w.clone();
            let _ = tokio::task::spawn_blocking(move || w2.rescan()).await;
        }
    }
}

/// Reads every provider of the section and of `--dashboards.dir`. Errors
/// of the section carry file:line:col; a dashboard file that does not load
/// is logged and reported in the set, and refuses nothing.
pub fn load(
    section: Option<&DashboardsSection>,
    dir_flag: Option<&Path>,
) -> anyhow::Result<ProvisionedSet> {
    let mut set = match section {
        Some(s) => provision::load(&s.config, &s.base)
            .map_err(|e| anyhow::anyhow!("{}", locate_error(&s.text, &s.file, &e.to_string())))?,
        None => ProvisionedSet::default(),
    };
    if let Some(dir) = dir_flag {
        let cfg = DashboardsConfig {
            api_version: None,
            providers: vec![Provider::from_dir(dir)],
        };
        let extra = provision::load(&cfg, Path::new("")).map_err(|e| {
            anyhow::anyhow!(
                "--dashboards.dir: {}",
                e.to_string()
                    .split_once(": ")
                    .map_or(e.to_string(), |(_, m)| m.to_owned())
            )
        })?;
        for d in extra.dashboards {
            if set.dashboards.iter().any(|x| x.uid() == d.uid()) {
                let msg = format!(
                    "{}: the dashboard uid {:?} is also provisioned by the config file; skipped",
                    d.provisioned
                        .as_ref()
                        .map(|p| p.file.display().to_string())
                        .unwrap_or_default(),
                    d.uid()
                );
                tracing::error!("{msg}");
                set.errors.push(msg);
                continue;
            }
            set.dashboards.push(d);
        }
        for f in extra.folders {
            if !set.folders.iter().any(|x| x.uid == f.uid) {
                set.folders.push(f);
            }
        }
        set.errors.extend(extra.errors);
    }
    Ok(set)
}

/// Adds `file:line:col` to an error naming a field path
/// (`dashboards.providers[1].type: ...`).
fn locate_error(text: &str, file: &str, msg: &str) -> String {
    match msg.split_once(": ") {
        Some((path, rest)) if path.starts_with("dashboards.") => {
            sightline_config::yaml::locate(text, file, path, rest)
        }
        _ => format!("{file}: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_errors_carry_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("sightline.yml");
        let text = "slos: []\ndashboards:\n  providers:\n    - name: a\n      type: git\n      options: {path: d}\n";
        std::fs::write(&p, text).unwrap();
        let loaded = crate::config::load(Some(&p), "").unwrap();
        let e = load(loaded.dashboards.as_ref(), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("{}:5:", p.display())) && e.contains("type"),
            "{e}"
        );
    }
}
