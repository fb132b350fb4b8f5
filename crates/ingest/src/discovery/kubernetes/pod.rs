//! The `pod` role: one group per pod, one target per container port, or
//! one per container that declares no port (its address is the bare pod
//! IP: relabeling adds the port, typically from `prometheus.io/port`).

use super::meta::{self, join_host_port, set, Meta, ADDRESS, NAMESPACE};
use super::types::{Container, Node, Pod};
use crate::discovery::TargetGroup;
use std::collections::BTreeMap;

/// `pod/<namespace>/<name>`.
pub fn source(namespace: &str, name: &str) -> String {
    format!("pod/{namespace}/{name}")
}

/// The group of `pod`; `nodes` is given with `attach_metadata.node`.
pub fn build(pod: &Pod, nodes: Option<&BTreeMap<String, Node>>) -> TargetGroup {
    let src = source(&pod.metadata.namespace, &pod.metadata.name);
    // A pod without an IP (pending, evicted) has nothing to scrape yet; the
    // empty group still replaces what an earlier version of it had.
    if pod.status.pod_ip.is_empty() {
        return meta::group(src, Meta::new(), Vec::new());
    }
    let mut labels = meta::pod_labels(pod);
    labels.insert(NAMESPACE.into(), pod.metadata.namespace.clone());
    if let Some(nodes) = nodes {
        let name = &pod.spec.node_name;
        meta::add_node_labels(&mut labels, nodes.get(name), name);
    }
    let ip = &pod.status.pod_ip;
    let mut targets = Vec::new();
    let all = pod
        .spec
        .containers
        .iter()
        .map(|c| (c, false))
        .chain(pod.spec.init_containers.iter().map(|c| (c, true)));
    for (c, init) in all {
        if c.ports.is_empty() {
            let mut t = container(c, init);
            t.insert(ADDRESS.into(), ip.clone());
            targets.push(t);
            continue;
        }
        for p in &c.ports {
            let mut t = container(c, init);
            let port = p.container_port.to_string();
            t.insert(ADDRESS.into(), join_host_port(ip, &port));
            set(&mut t, "pod_container_port_number", port);
            set(&mut t, "pod_container_port_name", p.name.as_str());
            set(&mut t, "pod_container_port_protocol", p.protocol.as_str());
            targets.push(t);
        }
    }
    meta::group(src, labels, targets)
}

fn container(c: &Container, init: bool) -> Meta {
    let mut t = Meta::new();
    set(&mut t, "pod_container_name", c.name.as_str());
    set(&mut t, "pod_container_image", c.image.as_str());
    set(
        &mut t,
        "pod_container_init",
        if init { "true" } else { "false" },
    );
    t
}
