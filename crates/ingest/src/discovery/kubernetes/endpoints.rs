//! The `endpoints` role, and what it shares with `endpointslice`: one
//! target per address and port; a target backed by a pod carries the
//! pod's labels (and its container's, when a container port is the
//! endpoint's port), and each container port of such a pod that no
//! endpoint covers becomes a target of its own, so that a pod's metrics
//! port is found through the service that selects it.

use super::meta::{self, join_host_port, set, Meta, ADDRESS, NAMESPACE};
use super::service::service_labels;
use super::types::{EndpointAddress, Endpoints, Node, ObjectReference, Pod, Service};
use crate::discovery::TargetGroup;
use std::collections::BTreeMap;

/// `endpoints/<namespace>/<name>`.
pub fn source(namespace: &str, name: &str) -> String {
    format!("endpoints/{namespace}/{name}")
}

/// The other objects a group's targets point at.
pub struct Context<'a> {
    pub pods: &'a BTreeMap<String, Pod>,
    pub services: &'a BTreeMap<String, Service>,
    /// Given with `attach_metadata.node`.
    pub nodes: Option<&'a BTreeMap<String, Node>>,
}

impl Context<'_> {
    /// The pod a target reference names, if it is one we know.
    pub fn pod(&self, r: Option<&ObjectReference>) -> Option<&Pod> {
        let r = r.filter(|r| r.kind == "Pod")?;
        self.pods.get(&format!("{}/{}", r.namespace, r.name))
    }

    /// Adds the service's labels to a group, when the service is known.
    pub fn add_service(&self, labels: &mut Meta, namespace: &str, name: &str) {
        if let Some(svc) = self.services.get(&format!("{namespace}/{name}")) {
            labels.extend(service_labels(svc));
        }
    }

    /// `attach_metadata.node`: the node named by the address, or by a
    /// target reference to a node.
    pub fn add_node(&self, t: &mut Meta, node_name: Option<&str>, r: Option<&ObjectReference>) {
        let Some(nodes) = self.nodes else { return };
        let name = match r.filter(|r| r.kind == "Node") {
            Some(r) => Some(r.name.as_str()),
            None => node_name,
        };
        if let Some(name) = name {
            meta::add_node_labels(t, nodes.get(name), name);
        }
    }
}

/// Pods seen behind a group's endpoints, with the ports already covered.
#[derive(Default)]
pub struct SeenPods<'a>(BTreeMap<String, (&'a Pod, Vec<i32>)>);

impl<'a> SeenPods<'a> {
    /// Merges the pod's labels into `t` (with the container whose port is
    /// `port`, if any) and remembers the port as covered.
    pub fn attach(&mut self, t: &mut Meta, pod: &'a Pod, port: Option<i32>, protocol: &str) {
        let key = format!("{}/{}", pod.metadata.namespace, pod.metadata.name);
        let entry = self.0.entry(key).or_insert((pod, Vec::new()));
        t.extend(meta::pod_labels(pod));
        let Some(port) = port else { return };
        for c in &pod.spec.containers {
            if let Some(cp) = c.ports.iter().find(|cp| cp.container_port == port) {
                set(t, "pod_container_name", c.name.as_str());
                set(t, "pod_container_image", c.image.as_str());
                set(t, "pod_container_port_name", cp.name.as_str());
                set(t, "pod_container_port_number", port.to_string());
                set(t, "pod_container_port_protocol", protocol);
            }
        }
        entry.1.push(port);
    }

    /// Targets for the container ports of seen pods that no endpoint covered.
    pub fn uncovered_targets(self) -> Vec<Meta> {
        let mut out = Vec::new();
        for (pod, covered) in self.0.into_values() {
            for c in &pod.spec.containers {
                for cp in &c.ports {
                    if covered.contains(&cp.container_port) {
                        continue;
                    }
                    let mut t = meta::pod_labels(pod);
                    let port = cp.container_port.to_string();
                    t.insert(ADDRESS.into(), join_host_port(&pod.status.pod_ip, &port));
                    set(&mut t, "pod_container_name", c.name.as_str());
                    set(&mut t, "pod_container_image", c.image.as_str());
                    set(&mut t, "pod_container_port_name", cp.name.as_str());
                    set(&mut t, "pod_container_port_number", port);
                    set(&mut t, "pod_container_port_protocol", cp.protocol.as_str());
                    out.push(t);
                }
            }
        }
        out
    }
}

/// The group of `eps`.
pub fn build(eps: &Endpoints, ctx: &Context<'_>) -> TargetGroup {
    let ns = &eps.metadata.namespace;
    let name = &eps.metadata.name;
    let mut labels = Meta::new();
    labels.insert(NAMESPACE.into(), ns.clone());
    set(&mut labels, "endpoints_name", name.as_str());
    ctx.add_service(&mut labels, ns, name);
    meta::labels_and_annotations(&mut labels, "endpoints", &eps.metadata, false);
    let mut seen = SeenPods::default();
    let mut targets = Vec::new();
    for ss in &eps.subsets {
        for port in &ss.ports {
            let ready = ss.addresses.iter().map(|a| (a, "true"));
            let not_ready = ss.not_ready_addresses.iter().map(|a| (a, "false"));
            for (addr, ready) in ready.chain(not_ready) {
                let mut t = address_target(addr, port.port, ready);
                set(&mut t, "endpoint_port_name", port.name.as_str());
                set(&mut t, "endpoint_port_protocol", port.protocol.as_str());
                ctx.add_node(&mut t, addr.node_name.as_deref(), addr.target_ref.as_ref());
                if let Some(pod) = ctx.pod(addr.target_ref.as_ref()) {
                    seen.attach(&mut t, pod, Some(port.port), &port.protocol);
                }
                targets.push(t);
            }
        }
    }
    targets.extend(seen.uncovered_targets());
    meta::group(source(ns, name), labels, targets)
}

fn address_target(addr: &EndpointAddress, port: i32, ready: &str) -> Meta {
    let mut t = Meta::new();
    t.insert(ADDRESS.into(), join_host_port(&addr.ip, port));
    set(&mut t, "endpoint_ready", ready);
    if let Some(r) = &addr.target_ref {
        set(&mut t, "endpoint_address_target_kind", r.kind.as_str());
        set(&mut t, "endpoint_address_target_name", r.name.as_str());
    }
    if let Some(n) = &addr.node_name {
        set(&mut t, "endpoint_node_name", n.as_str());
    }
    if !addr.hostname.is_empty() {
        set(&mut t, "endpoint_hostname", addr.hostname.as_str());
    }
    t
}
