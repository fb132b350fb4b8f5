//! `kubernetes_sd_configs` entries, read and checked as Prometheus 2.42
//! reads them (its `SDConfig.UnmarshalYAML`), with its words.

use crate::config::{null_default, HttpClientConfig};
use serde::Deserialize;

/// The kind of object a discovery watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// One target per container port of each pod.
    Pod,
    /// One target per port of each service.
    Service,
    /// One target per address and port of each Endpoints object.
    Endpoints,
    /// One target per endpoint and port of each `discovery.k8s.io/v1` EndpointSlice.
    EndpointSlice,
    /// One target per node, on the kubelet port.
    Node,
    /// One target per path of each `networking.k8s.io/v1` Ingress rule.
    Ingress,
}

impl Role {
    /// The name as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pod => "pod",
            Role::Service => "service",
            Role::Endpoints => "endpoints",
            Role::EndpointSlice => "endpointslice",
            Role::Node => "node",
            Role::Ingress => "ingress",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "pod" => Role::Pod,
            "service" => Role::Service,
            "endpoints" => Role::Endpoints,
            "endpointslice" => Role::EndpointSlice,
            "node" => Role::Node,
            "ingress" => Role::Ingress,
            _ => return None,
        })
    }

    /// The roles whose selectors a discovery of this role takes: endpoints
    /// and endpointslice also watch the pods and services they point at.
    pub fn allowed_selectors(self) -> &'static [Role] {
        match self {
            Role::Pod => &[Role::Pod],
            Role::Service => &[Role::Service],
            Role::Endpoints => &[Role::Pod, Role::Service, Role::Endpoints],
            Role::EndpointSlice => &[Role::Pod, Role::Service, Role::EndpointSlice],
            Role::Node => &[Role::Node],
            Role::Ingress => &[Role::Ingress],
        }
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Role::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown Kubernetes SD role {s:?}")))
    }
}

/// `namespaces:`: which namespaces to watch (all when empty).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespaces {
    /// Also watch the namespace Sightline runs in (in-cluster only).
    #[serde(default)]
    pub own_namespace: bool,
    /// Namespaces by name.
    #[serde(default, deserialize_with = "null_default")]
    pub names: Vec<String>,
}

/// One `selectors:` entry: API-side label and field selectors for the
/// objects of `role`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// Which watched objects the selector applies to.
    pub role: Role,
    /// A label selector (`app=web,tier!=db`), sent as `labelSelector`.
    #[serde(default)]
    pub label: String,
    /// A field selector (`metadata.name=x`), sent as `fieldSelector`.
    #[serde(default)]
    pub field: String,
}

/// `attach_metadata:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachMetadata {
    /// Add the node's labels to pod, endpoints and endpointslice targets
    /// (watches nodes too).
    #[serde(default)]
    pub node: bool,
}

/// One `kubernetes_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawKubernetesSdConfig")]
pub struct KubernetesSdConfig {
    /// What to discover.
    pub role: Role,
    /// The API server's URL; unset means in-cluster or `kubeconfig_file`.
    pub api_server: Option<String>,
    /// A kubeconfig file whose current context says where and how to connect.
    pub kubeconfig_file: Option<String>,
    /// Namespaces to watch.
    pub namespaces: Namespaces,
    /// Selectors by role.
    pub selectors: Vec<Selector>,
    /// Extra metadata to attach.
    pub attach_metadata: AttachMetadata,
    /// How to reach `api_server`.
    pub http: HttpClientConfig,
}

sightline_config::inline_http_client_config! {
/// The file's shape: Prometheus writes the HTTP client keys inline.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKubernetesSdConfig {
    role: Option<Role>,
    #[serde(default)]
    api_server: Option<String>,
    #[serde(default)]
    kubeconfig_file: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    namespaces: Namespaces,
    #[serde(default, deserialize_with = "null_default")]
    selectors: Vec<Selector>,
    #[serde(default, deserialize_with = "null_default")]
    attach_metadata: AttachMetadata,
}
}

impl TryFrom<RawKubernetesSdConfig> for KubernetesSdConfig {
    type Error = String;

    /// Prometheus's checks, in its order and with its words.
    fn try_from(r: RawKubernetesSdConfig) -> Result<Self, String> {
        let http = r.http_client_config();
        let Some(role) = r.role else {
            return Err(
                "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)"
                    .into(),
            );
        };
        http.validate().map_err(|e| e.to_string())?;
        let api_server = r.api_server.filter(|s| !s.is_empty());
        let kubeconfig_file = r.kubeconfig_file.filter(|s| !s.is_empty());
        if let Some(url) = &api_server {
            let u =
                reqwest::Url::parse(url).map_err(|e| format!("invalid api_server {url:?}: {e}"))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(format!(
                    "invalid api_server {url:?}: must be an http(s) URL"
                ));
            }
        }
        let custom_http = http != HttpClientConfig::default();
        if api_server.is_some() && kubeconfig_file.is_some() {
            return Err("cannot use 'kubeconfig_file' and 'api_server' simultaneously".into());
        }
        if kubeconfig_file.is_some() && custom_http {
            return Err(
                "cannot use a custom HTTP client configuration together with 'kubeconfig_file'"
                    .into(),
            );
        }
        if api_server.is_none() && custom_http {
            return Err(
                "to use custom HTTP client configuration please provide the 'api_server' URL explicitly"
                    .into(),
            );
        }
        if api_server.is_some() && r.namespaces.own_namespace {
            return Err(
                "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously".into(),
            );
        }
        if kubeconfig_file.is_some() && r.namespaces.own_namespace {
            return Err(
                "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously".into(),
            );
        }
        let mut seen = Vec::new();
        for s in &r.selectors {
            if seen.contains(&s.role) {
                return Err(format!("duplicated selector role: {}", s.role.as_str()));
            }
            seen.push(s.role);
            let allowed = role.allowed_selectors();
            if !allowed.contains(&s.role) {
                let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
                return Err(format!(
                    "{} role supports only {} selectors",
                    role.as_str(),
                    names.join(", ")
                ));
            }
            check_selector(&s.field, true)?;
            check_selector(&s.label, false)?;
        }
        Ok(KubernetesSdConfig {
            role,
            api_server,
            kubeconfig_file,
            namespaces: r.namespaces,
            selectors: r.selectors,
            attach_metadata: r.attach_metadata,
            http,
        })
    }
}

/// A light check of a selector's syntax, so that a typo fails at load time
/// rather than as an HTTP 400 from the API server on every retry: each
/// comma-separated term is `key`, `!key`, `key=v`, `key==v`, `key!=v`, or
/// (labels only) `key in (a,b)` / `key notin (a,b)`.
fn check_selector(sel: &str, field: bool) -> Result<(), String> {
    let what = if field { "field" } else { "label" };
    let bad = |t: &str| format!("invalid {what} selector {sel:?}: cannot parse {t:?}");
    let mut depth = 0i32;
    let mut terms = Vec::new();
    let mut start = 0;
    for (i, c) in sel.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&sel[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err(bad(sel));
        }
    }
    if depth != 0 {
        return Err(bad(sel));
    }
    terms.push(&sel[start..]);
    if sel.trim().is_empty() {
        return Ok(());
    }
    for t in terms {
        let t = t.trim();
        let key_ok = |k: &str| {
            let k = k.trim();
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        };
        let ok = if let Some((k, _)) = t.split_once("!=") {
            key_ok(k)
        } else if let Some((k, _)) = t.split_once('=') {
            key_ok(k)
        } else if !field && (t.contains(" in ") || t.contains(" notin ")) {
            let k = t.split_whitespace().next().unwrap_or("");
            key_ok(k) && t.ends_with(')')
        } else if field {
            false
        } else {
            key_ok(t.strip_prefix('!').unwrap_or(t))
        };
        if !ok {
            return Err(bad(t));
        }
    }
    Ok(())
}

impl KubernetesSdConfig {
    /// Resolves `kubeconfig_file` and the HTTP client's files against the
    /// config file's folder, as Prometheus's `SetDirectory`.
    pub fn set_directory(&mut self, dir: &std::path::Path) {
        if let Some(p) = &mut self.kubeconfig_file {
            if std::path::Path::new(p.as_str()).is_relative() {
                *p = dir.join(&*p).display().to_string();
            }
        }
        self.http.set_directory(dir);
    }
}
