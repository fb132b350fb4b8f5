//! `kubernetes_sd_configs`: targets from the Kubernetes API, as
//! Prometheus 2.42 discovers them (roles `pod`, `service`, `endpoints`,
//! `endpointslice`, `node`, `ingress`, with its `__meta_kubernetes_*`
//! labels).
//!
//! - [`config`]: the config entry ([`KubernetesSdConfig`]) and its checks.
//! - [`auth`]: where the API server is (explicit URL, kubeconfig, or the
//!   pod's service account) as an HTTP client config.
//! - [`client`]: list and watch over HTTP; [`watch`]: informers keeping a
//!   local copy of each watched kind.
//! - one module per role turning objects into [`TargetGroup`]s.
//!
//! [`start`] runs one entry: informers for the kinds its role needs, and a
//! builder that recomputes the entry's groups after each change and
//! publishes them when they differ. Recomputing everything (rather than
//! only the changed object's group, as Prometheus does) keeps endpoints
//! right when the pods or services they point at change, at a cost linear
//! in the watched objects per change burst (changes coalesce while a
//! rebuild runs).

pub mod auth;
pub mod client;
pub mod config;
mod endpoints;
mod endpointslice;
mod ingress;
mod meta;
mod node;
mod pod;
mod service;
#[cfg(test)]
pub(crate) mod tests;
pub mod types;
pub mod watch;

pub use auth::{InCluster, SERVICE_ACCOUNT_DIR};
pub use config::{KubernetesSdConfig, Role};
pub use meta::sanitize as sanitize_label_name;

use super::TargetGroup;
use client::{ApiClient, Query, Resource};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{watch as channel, Notify};
use tokio_util::sync::CancellationToken;
use types::{EndpointSlice, Endpoints, Ingress, Node, Pod, Service};
use watch::{Signal, Store};

/// What one entry currently knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubernetesState {
    /// One group per object, in `namespace/name` order.
    pub groups: Vec<TargetGroup>,
    /// The last error of each failing list or watch.
    pub errors: Vec<String>,
}

#[derive(Default)]
struct Stores {
    pods: Store<Pod>,
    services: Store<Service>,
    endpoints: Store<Endpoints>,
    slices: Store<EndpointSlice>,
    nodes: Store<Node>,
    ingresses: Store<Ingress>,
}

fn lock<T>(s: &Mutex<T>) -> MutexGuard<'_, T> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts discovery for `cfg` under `cancel`. Fails when the connection
/// cannot be set up (no in-cluster environment, unreadable kubeconfig,
/// bad TLS files). The state starts empty and fills once every informer
/// has listed; `on_change` is poked after each published change.
pub fn start(
    cfg: &KubernetesSdConfig,
    env: &InCluster,
    owner: &str,
    cancel: CancellationToken,
    on_change: Arc<Notify>,
) -> Result<channel::Receiver<KubernetesState>, String> {
    let conn = auth::connection(cfg, env).map_err(|e| format!("{owner}: {e}"))?;
    let client = Arc::new(ApiClient::new(&conn, owner)?);
    let mut namespaces: Vec<Option<String>> =
        cfg.namespaces.names.iter().cloned().map(Some).collect();
    if let Some(own) = conn.own_namespace.clone() {
        if !namespaces.contains(&Some(own.clone())) {
            namespaces.push(Some(own));
        }
    }
    if namespaces.is_empty() {
        namespaces.push(None);
    }
    let selector = |role: Role| {
        cfg.selectors
            .iter()
            .find(|s| s.role == role)
            .map(|s| (s.label.clone(), s.field.clone()))
            .unwrap_or_default()
    };
    let stores = Arc::new(Stores::default());
    let signal = Signal::new();
    let mut informers = 0usize;
    let spawn_kind =
        |resource: Resource, role: Role, informers: &mut usize, run: &dyn Fn(Query)| {
            let (label, field) = selector(role);
            let scopes: Vec<Option<String>> = if resource.namespaced {
                namespaces.clone()
            } else {
                vec![None]
            };
            for ns in scopes {
                *informers += 1;
                run(Query {
                    resource,
                    namespace: ns,
                    label_selector: label.clone(),
                    field_selector: field.clone(),
                });
            }
        };
    macro_rules! informer {
        ($res:expr, $role:expr, $store:ident) => {{
            let run = |q: Query| {
                tokio::spawn(watch::run(
                    client.clone(),
                    q,
                    stores.$store.clone(),
                    signal.clone(),
                    cancel.clone(),
                ));
            };
            spawn_kind($res, $role, &mut informers, &run);
        }};
    }
    let attach_node = cfg.attach_metadata.node
        && matches!(cfg.role, Role::Pod | Role::Endpoints | Role::EndpointSlice);
    match cfg.role {
        Role::Pod => informer!(client::PODS, Role::Pod, pods),
        Role::Service => informer!(client::SERVICES, Role::Service, services),
        Role::Endpoints => {
            informer!(client::ENDPOINTS, Role::Endpoints, endpoints);
            informer!(client::PODS, Role::Pod, pods);
            informer!(client::SERVICES, Role::Service, services);
        }
        Role::EndpointSlice => {
            informer!(client::ENDPOINTSLICES, Role::EndpointSlice, slices);
            informer!(client::PODS, Role::Pod, pods);
            informer!(client::SERVICES, Role::Service, services);
        }
        Role::Node => informer!(client::NODES, Role::Node, nodes),
        Role::Ingress => informer!(client::INGRESSES, Role::Ingress, ingresses),
    }
    if attach_node {
        // Node selectors belong to the node role only; attach all nodes.
        let run = |q: Query| {
            tokio::spawn(watch::run(
                client.clone(),
                Query {
                    label_selector: String::new(),
                    field_selector: String::new(),
                    ..q
                },
                stores.nodes.clone(),
                signal.clone(),
                cancel.clone(),
            ));
        };
        spawn_kind(client::NODES, Role::Node, &mut informers, &run);
    }
    let (tx, rx) = channel::channel(KubernetesState::default());
    let role = cfg.role;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = signal.changed.notified() => {}
            }
            let errors: Vec<String> = lock(&signal.errors).values().cloned().collect();
            // Until every informer has listed, a partial picture would
            // drop and re-add targets; publish errors only.
            let groups = if signal.synced.load(Ordering::SeqCst) >= informers {
                build(role, &stores, attach_node)
            } else {
                tx.borrow().groups.clone()
            };
            let state = KubernetesState { groups, errors };
            if *tx.borrow() != state {
                if tx.send(state).is_err() {
                    return;
                }
                on_change.notify_one();
            }
        }
    });
    Ok(rx)
}

/// Every group of `role` from the stores.
fn build(role: Role, s: &Stores, attach_node: bool) -> Vec<TargetGroup> {
    let nodes = lock(&s.nodes);
    let nodes_opt = attach_node.then_some(&*nodes);
    match role {
        Role::Pod => lock(&s.pods)
            .values()
            .map(|p| pod::build(p, nodes_opt))
            .collect(),
        Role::Service => lock(&s.services).values().map(service::build).collect(),
        Role::Node => nodes.values().map(node::build).collect(),
        Role::Ingress => lock(&s.ingresses).values().map(ingress::build).collect(),
        Role::Endpoints | Role::EndpointSlice => {
            let pods = lock(&s.pods);
            let services = lock(&s.services);
            let ctx = endpoints::Context {
                pods: &pods,
                services: &services,
                nodes: nodes_opt,
            };
            if role == Role::Endpoints {
                lock(&s.endpoints)
                    .values()
                    .map(|e| endpoints::build(e, &ctx))
                    .collect()
            } else {
                lock(&s.slices)
                    .values()
                    .map(|e| endpointslice::build(e, &ctx))
                    .collect()
            }
        }
    }
}
