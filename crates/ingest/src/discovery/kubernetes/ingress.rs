//! The `ingress` role (`networking.k8s.io/v1`): one target per path of
//! each rule, at the rule's host, for blackbox probing.

use super::meta::{self, set, Meta, ADDRESS, NAMESPACE};
use super::types::Ingress;
use crate::discovery::TargetGroup;

/// `ingress/<namespace>/<name>`.
pub fn source(namespace: &str, name: &str) -> String {
    format!("ingress/{namespace}/{name}")
}

/// The group of `ing`.
pub fn build(ing: &Ingress) -> TargetGroup {
    let ns = &ing.metadata.namespace;
    let name = &ing.metadata.name;
    let mut labels = Meta::new();
    labels.insert(NAMESPACE.into(), ns.clone());
    set(&mut labels, "ingress_name", name.as_str());
    meta::labels_and_annotations(&mut labels, "ingress", &ing.metadata, true);
    if let Some(class) = &ing.spec.ingress_class_name {
        set(&mut labels, "ingress_class_name", class.as_str());
    }
    let tls_hosts: Vec<&str> = ing
        .spec
        .tls
        .iter()
        .flat_map(|t| t.hosts.iter().map(String::as_str))
        .collect();
    let mut targets = Vec::new();
    for rule in &ing.spec.rules {
        let scheme = if tls_hosts.iter().any(|h| host_matches(h, &rule.host)) {
            "https"
        } else {
            "http"
        };
        let mut paths: Vec<&str> = rule
            .http
            .iter()
            .flat_map(|h| h.paths.iter().map(|p| p.path.as_str()))
            .collect();
        if paths.is_empty() {
            paths.push("/");
        }
        for path in paths {
            let mut t = Meta::new();
            t.insert(ADDRESS.into(), rule.host.clone());
            set(&mut t, "ingress_scheme", scheme);
            set(&mut t, "ingress_host", rule.host.as_str());
            set(
                &mut t,
                "ingress_path",
                if path.is_empty() { "/" } else { path },
            );
            targets.push(t);
        }
    }
    meta::group(source(ns, name), labels, targets)
}

/// A TLS host matches the rule's host exactly, or as `*.suffix` one
/// label deep.
fn host_matches(pattern: &str, host: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix("*.") {
        return host.split_once('.').is_some_and(|(_, rest)| rest == suffix);
    }
    pattern == host
}
