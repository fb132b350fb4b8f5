//! The `node` role: one target per node, on the kubelet's port, at the
//! first address found in Prometheus's order of address types.

use super::meta::{self, join_host_port, set, Meta, ADDRESS};
use super::types::Node;
use crate::discovery::TargetGroup;

/// `node/<name>`.
pub fn source(name: &str) -> String {
    format!("node/{name}")
}

/// Prometheus's preference among a node's addresses.
const ADDRESS_ORDER: [&str; 4] = ["InternalIP", "ExternalIP", "LegacyHostIP", "Hostname"];

/// The group of `node`: empty when the node reports no usable address.
pub fn build(node: &Node) -> TargetGroup {
    let name = &node.metadata.name;
    let mut labels = Meta::new();
    set(&mut labels, "node_name", name.as_str());
    set(
        &mut labels,
        "node_provider_id",
        node.spec.provider_id.as_str(),
    );
    meta::labels_and_annotations(&mut labels, "node", &node.metadata, true);
    let first = |kind: &str| {
        node.status
            .addresses
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.address.as_str())
    };
    let Some(addr) = ADDRESS_ORDER.iter().find_map(|k| first(k)) else {
        tracing::debug!(node = %name, "node has no address; no target");
        return meta::group(source(name), labels, Vec::new());
    };
    let mut t = Meta::new();
    t.insert(
        ADDRESS.into(),
        join_host_port(addr, node.status.daemon_endpoints.kubelet_endpoint.port),
    );
    t.insert("instance".into(), name.clone());
    for a in &node.status.addresses {
        let key = format!("{}node_address_{}", meta::PREFIX, meta::sanitize(&a.kind));
        // The first address of each type.
        t.entry(key).or_insert_with(|| a.address.clone());
    }
    meta::group(source(name), labels, vec![t])
}
