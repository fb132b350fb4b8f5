//! Dashboards in the server's configuration: the config file's
//! `dashboards:` section (owned by `sightline_ui`) and `--dashboards.dir`
//! become the provisioned set the dashboard store serves.

use crate::config::DashboardsSection;
use sightline_ui::dashboards::provision::{self, DashboardsConfig, Provider};
use sightline_ui::dashboards::store::ProvisionedSet;
use std::path::Path;

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
