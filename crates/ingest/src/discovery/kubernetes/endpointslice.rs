//! The `endpointslice` role (`discovery.k8s.io/v1`): one target per
//! address, endpoint and port, with pods and services attached as for
//! `endpoints` ([`super::endpoints::Context`]).

use super::endpoints::{Context, SeenPods};
use super::meta::{self, join_host_port, set, Meta, ADDRESS, NAMESPACE, PRESENT};
use super::types::EndpointSlice;
use crate::discovery::TargetGroup;

/// `endpointslice/<namespace>/<name>`.
pub fn source(namespace: &str, name: &str) -> String {
    format!("endpointslice/{namespace}/{name}")
}

/// The label Kubernetes sets on a slice to name its service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// The group of `eps`.
pub fn build(eps: &EndpointSlice, ctx: &Context<'_>) -> TargetGroup {
    let ns = &eps.metadata.namespace;
    let name = &eps.metadata.name;
    let mut labels = Meta::new();
    labels.insert(NAMESPACE.into(), ns.clone());
    set(&mut labels, "endpointslice_name", name.as_str());
    set(
        &mut labels,
        "endpointslice_address_type",
        eps.address_type.as_str(),
    );
    meta::labels_and_annotations(&mut labels, "endpointslice", &eps.metadata, false);
    if let Some(svc) = eps.metadata.labels.get(SERVICE_NAME_LABEL) {
        ctx.add_service(&mut labels, ns, svc);
    }
    let mut seen = SeenPods::default();
    let mut targets = Vec::new();
    for ep in &eps.endpoints {
        for port in &eps.ports {
            for addr in &ep.addresses {
                let mut t = Meta::new();
                let a = match port.port {
                    Some(p) => join_host_port(addr, p),
                    None => addr.clone(),
                };
                t.insert(ADDRESS.into(), a);
                if let Some(n) = &port.name {
                    set(&mut t, "endpointslice_port_name", n.as_str());
                }
                if let Some(p) = &port.protocol {
                    set(&mut t, "endpointslice_port_protocol", p.as_str());
                }
                if let Some(p) = port.port {
                    set(&mut t, "endpointslice_port", p.to_string());
                }
                if let Some(p) = &port.app_protocol {
                    set(&mut t, "endpointslice_port_app_protocol", p.as_str());
                }
                let c = &ep.conditions;
                for (key, v) in [
                    ("ready", c.ready),
                    ("serving", c.serving),
                    ("terminating", c.terminating),
                ] {
                    if let Some(v) = v {
                        set(
                            &mut t,
                            &format!("endpointslice_endpoint_conditions_{key}"),
                            v.to_string(),
                        );
                    }
                }
                if let Some(h) = &ep.hostname {
                    set(&mut t, "endpointslice_endpoint_hostname", h.as_str());
                }
                if let Some(r) = &ep.target_ref {
                    set(&mut t, "endpointslice_address_target_kind", r.kind.as_str());
                    set(&mut t, "endpointslice_address_target_name", r.name.as_str());
                }
                for (k, v) in &ep.deprecated_topology {
                    let n = meta::sanitize(k);
                    set(
                        &mut t,
                        &format!("endpointslice_endpoint_topology_{n}"),
                        v.as_str(),
                    );
                    set(
                        &mut t,
                        &format!("endpointslice_endpoint_topology_present_{n}"),
                        PRESENT,
                    );
                }
                ctx.add_node(&mut t, ep.node_name.as_deref(), ep.target_ref.as_ref());
                if let Some(pod) = ctx.pod(ep.target_ref.as_ref()) {
                    let proto = port.protocol.as_deref().unwrap_or("");
                    seen.attach(&mut t, pod, port.port, proto);
                }
                targets.push(t);
            }
        }
    }
    targets.extend(seen.uncovered_targets());
    meta::group(source(ns, name), labels, targets)
}
