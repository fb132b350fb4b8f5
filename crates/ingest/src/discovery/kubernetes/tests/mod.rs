//! Kubernetes discovery against a fake API server ([`fake::FakeApi`]).
//! Expected label sets are written by hand from Prometheus 2.42's
//! documentation of each role (configuration.md, `kubernetes_sd_config`),
//! not copied from our output. Issue 17.

pub(crate) mod fake;
mod roles;
mod wiring;

use super::{start, InCluster, KubernetesSdConfig, KubernetesState};
use crate::discovery::TargetGroup;
use fake::FakeApi;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Parses one `kubernetes_sd_configs` entry.
fn sd(yaml: &str) -> KubernetesSdConfig {
    sightline_config::yaml::from_str(yaml, "sd.yml").unwrap()
}

struct Running {
    rx: watch::Receiver<KubernetesState>,
    cancel: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn run(cfg: &KubernetesSdConfig, env: &InCluster) -> Running {
    let cancel = CancellationToken::new();
    let rx = start(
        cfg,
        env,
        "job \"t\"",
        cancel.clone(),
        Arc::new(tokio::sync::Notify::new()),
    )
    .unwrap();
    Running { rx, cancel }
}

/// A discovery of `role` against the fake, no auth.
fn run_role(api: &FakeApi, extra: &str) -> Running {
    run(
        &sd(&format!("api_server: {}\n{extra}", api.url("http"))),
        &InCluster::default(),
    )
}

impl Running {
    /// Waits (5 s at most) until the state satisfies `pred`.
    async fn until(
        &mut self,
        what: &str,
        pred: impl Fn(&KubernetesState) -> bool,
    ) -> KubernetesState {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            {
                let st = self.rx.borrow_and_update();
                if pred(&st) {
                    return st.clone();
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.rx.changed()).await {
                Ok(Ok(())) => {}
                _ => panic!(
                    "timed out waiting for {what}; state: {:#?}",
                    self.rx.borrow()
                ),
            }
        }
    }

    async fn groups(&mut self, n: usize) -> Vec<TargetGroup> {
        self.until(&format!("{n} groups"), |s| s.groups.len() == n)
            .await
            .groups
    }
}

/// A label set as a map, for comparisons that print well.
fn map(l: &sightline_core::Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// `__meta_kubernetes_`-prefixed pairs (and bare ones starting with `__`
/// or naming `instance`) as a map.
fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| {
            let k = if k.starts_with("__") || *k == "instance" {
                (*k).to_owned()
            } else {
                format!("__meta_kubernetes_{k}")
            };
            (k, (*v).to_owned())
        })
        .collect()
}

fn addresses(g: &TargetGroup) -> Vec<String> {
    g.targets
        .iter()
        .map(|t| t.get("__address__").unwrap_or("").to_owned())
        .collect()
}
