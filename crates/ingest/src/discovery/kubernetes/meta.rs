//! Label building shared by the roles: Prometheus's names, its label-name
//! sanitizing, and the metadata every role exposes the same way.

use super::types::{Node, ObjectMeta, Pod};
use crate::discovery::TargetGroup;
use sightline_core::Labels;
use std::collections::BTreeMap;

/// A label set being built (sorted, last write wins, like Go's map).
pub type Meta = BTreeMap<String, String>;

pub const PREFIX: &str = "__meta_kubernetes_";
pub const NAMESPACE: &str = "__meta_kubernetes_namespace";
pub const ADDRESS: &str = crate::discovery::ADDRESS_LABEL;
/// The value of every `..._present_...` label.
pub const PRESENT: &str = "true";

/// Prometheus's `strutil.SanitizeLabelName`: every character outside
/// `[a-zA-Z0-9_]` becomes `_` (a Kubernetes label key like
/// `app.kubernetes.io/name` becomes `app_kubernetes_io_name`).
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Sets `__meta_kubernetes_<key>`.
pub fn set(m: &mut Meta, key: &str, value: impl Into<String>) {
    m.insert(format!("{PREFIX}{key}"), value.into());
}

/// The object's labels and annotations as `<role>_label_<name>`,
/// `<role>_labelpresent_<name>`, `<role>_annotation_<name>` and
/// `<role>_annotationpresent_<name>`.
pub fn labels_and_annotations(m: &mut Meta, role: &str, meta: &ObjectMeta, annotations: bool) {
    for (k, v) in &meta.labels {
        let n = sanitize(k);
        set(m, &format!("{role}_label_{n}"), v.as_str());
        set(m, &format!("{role}_labelpresent_{n}"), PRESENT);
    }
    if annotations {
        for (k, v) in &meta.annotations {
            let n = sanitize(k);
            set(m, &format!("{role}_annotation_{n}"), v.as_str());
            set(m, &format!("{role}_annotationpresent_{n}"), PRESENT);
        }
    }
}

/// The labels describing a pod, shared by the pod role and by endpoints
/// and endpointslice targets backed by a pod (no namespace: the group
/// sets it).
pub fn pod_labels(pod: &Pod) -> Meta {
    let mut m = Meta::new();
    set(&mut m, "pod_name", pod.metadata.name.as_str());
    set(&mut m, "pod_ip", pod.status.pod_ip.as_str());
    set(&mut m, "pod_ready", pod_ready(pod));
    set(&mut m, "pod_phase", pod.status.phase.as_str());
    set(&mut m, "pod_node_name", pod.spec.node_name.as_str());
    set(&mut m, "pod_host_ip", pod.status.host_ip.as_str());
    set(&mut m, "pod_uid", pod.metadata.uid.as_str());
    // The owner that is the controller (a ReplicaSet, StatefulSet, ...).
    if let Some(c) = pod
        .metadata
        .owner_references
        .iter()
        .find(|o| o.controller == Some(true))
    {
        if !c.kind.is_empty() {
            set(&mut m, "pod_controller_kind", c.kind.as_str());
        }
        if !c.name.is_empty() {
            set(&mut m, "pod_controller_name", c.name.as_str());
        }
    }
    labels_and_annotations(&mut m, "pod", &pod.metadata, true);
    m
}

/// The `Ready` condition lowercased (`true`, `false`), `unknown` without one.
fn pod_ready(pod: &Pod) -> String {
    pod.status
        .conditions
        .iter()
        .find(|c| c.kind == "Ready")
        .map_or_else(|| "unknown".to_owned(), |c| c.status.to_lowercase())
}

/// `attach_metadata.node`: the node's name and labels (not its
/// annotations, as Prometheus).
pub fn add_node_labels(m: &mut Meta, node: Option<&Node>, name: &str) {
    if name.is_empty() {
        return;
    }
    let Some(node) = node else { return };
    set(m, "node_name", name);
    labels_and_annotations(m, "node", &node.metadata, false);
}

/// A group from its source, common labels and targets.
pub fn group(source: String, labels: Meta, targets: Vec<Meta>) -> TargetGroup {
    TargetGroup {
        source,
        targets: targets.into_iter().map(Labels::from_pairs).collect(),
        labels: Labels::from_pairs(labels),
    }
}

/// `host:port`, bracketing IPv6 hosts as Go's `net.JoinHostPort`.
pub fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
