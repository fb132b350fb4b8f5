//! The `service` role: one group per service, one target per port, at the
//! service's cluster DNS name (for blackbox probing).

use super::meta::{self, set, Meta, ADDRESS, NAMESPACE};
use super::types::Service;
use crate::discovery::TargetGroup;

/// `svc/<namespace>/<name>`.
pub fn source(namespace: &str, name: &str) -> String {
    format!("svc/{namespace}/{name}")
}

/// The service's own labels, shared with endpoints and endpointslice
/// groups whose service is known (no namespace: the group sets it).
pub fn service_labels(svc: &Service) -> Meta {
    let mut m = Meta::new();
    set(&mut m, "service_name", svc.metadata.name.as_str());
    meta::labels_and_annotations(&mut m, "service", &svc.metadata, true);
    m
}

/// The group of `svc`.
pub fn build(svc: &Service) -> TargetGroup {
    let ns = &svc.metadata.namespace;
    let name = &svc.metadata.name;
    let mut labels = service_labels(svc);
    labels.insert(NAMESPACE.into(), ns.clone());
    let host = format!("{name}.{ns}.svc");
    let targets = svc
        .spec
        .ports
        .iter()
        .map(|p| {
            let mut t = Meta::new();
            t.insert(ADDRESS.into(), meta::join_host_port(&host, p.port));
            set(&mut t, "service_port_name", p.name.as_str());
            set(&mut t, "service_port_number", p.port.to_string());
            set(&mut t, "service_port_protocol", p.protocol.as_str());
            set(&mut t, "service_type", svc.spec.kind.as_str());
            if svc.spec.kind == "ExternalName" {
                set(
                    &mut t,
                    "service_external_name",
                    svc.spec.external_name.as_str(),
                );
            } else {
                set(&mut t, "service_cluster_ip", svc.spec.cluster_ip.as_str());
            }
            t
        })
        .collect();
    meta::group(source(ns, name), labels, targets)
}
