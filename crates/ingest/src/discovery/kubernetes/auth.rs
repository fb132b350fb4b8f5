//! Where the API server is and how to authenticate, from one of three
//! sources (Prometheus's order): an explicit `api_server` with the
//! entry's own HTTP client settings, a kubeconfig file's current context,
//! or the pod's service account when running in a cluster.
//!
//! Every source ends as an [`HttpClientConfig`], so that the one HTTP
//! client builder of the crate handles TLS, bearer tokens and basic auth:
//! kubeconfig's inline `*-data` fields become the inline `tls_config`
//! keys, its `token(File)` a bearer token.

use super::config::KubernetesSdConfig;
use crate::config::{Authorization, BasicAuth, HttpClientConfig, TlsConfig};
use serde::Deserialize;
use sightline_config::http::Secret;
use std::path::{Path, PathBuf};

/// How to reach the API server.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// `https://host:port` (no trailing slash; may carry a path prefix).
    pub base: String,
    /// Credentials and TLS.
    pub http: HttpClientConfig,
    /// The namespace Sightline runs in, when known (in-cluster).
    pub own_namespace: Option<String>,
}

/// Where the in-cluster settings come from: Kubernetes sets the two
/// variables in every pod and mounts the service account's files. A
/// struct rather than direct reads so that tests point it elsewhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InCluster {
    /// `KUBERNETES_SERVICE_HOST`.
    pub host: Option<String>,
    /// `KUBERNETES_SERVICE_PORT`.
    pub port: Option<String>,
    /// The folder with `token`, `ca.crt` and `namespace`.
    pub account_dir: PathBuf,
}

/// Where Kubernetes mounts a pod's service account.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

impl InCluster {
    /// The real environment of a pod.
    pub fn from_env() -> InCluster {
        InCluster {
            host: std::env::var("KUBERNETES_SERVICE_HOST").ok(),
            port: std::env::var("KUBERNETES_SERVICE_PORT").ok(),
            account_dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
        }
    }

    /// client-go's `InClusterConfig`: the token file is re-read at every
    /// request (bound service account tokens rotate hourly), the CA file is
    /// the cluster's.
    fn connection(&self) -> Result<Connection, String> {
        let (Some(host), Some(port)) = (
            self.host.as_deref().filter(|h| !h.is_empty()),
            self.port.as_deref().filter(|p| !p.is_empty()),
        ) else {
            return Err("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined".into());
        };
        let token = self.account_dir.join("token");
        if let Err(e) = std::fs::metadata(&token) {
            return Err(format!(
                "unable to load in-cluster configuration: {}: {e}",
                token.display()
            ));
        }
        // An IPv6 host needs brackets in a URL.
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let ca = self.account_dir.join("ca.crt");
        let http = HttpClientConfig {
            bearer_token_file: Some(token.display().to_string()),
            tls_config: TlsConfig {
                ca_file: ca.exists().then(|| ca.display().to_string()),
                ..TlsConfig::default()
            },
            ..HttpClientConfig::default()
        };
        let own_namespace = std::fs::read_to_string(self.account_dir.join("namespace"))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        Ok(Connection {
            base: format!("https://{host}:{port}"),
            http,
            own_namespace,
        })
    }
}

/// Resolves the connection of `cfg`.
pub fn connection(cfg: &KubernetesSdConfig, env: &InCluster) -> Result<Connection, String> {
    if let Some(url) = &cfg.api_server {
        return Ok(Connection {
            base: url.trim_end_matches('/').to_owned(),
            http: cfg.http.clone(),
            own_namespace: None,
        });
    }
    if let Some(path) = &cfg.kubeconfig_file {
        return kubeconfig(Path::new(path));
    }
    let mut c = env.connection()?;
    // Prometheus reads the namespace only when asked for it.
    if !cfg.namespaces.own_namespace {
        c.own_namespace = None;
    }
    Ok(c)
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct KubeConfig {
    current_context: String,
    clusters: Vec<Named<Cluster>>,
    users: Vec<Named<User>>,
    contexts: Vec<Named<Context>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Named<T: Default> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: T,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct Cluster {
    server: String,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    insecure_skip_tls_verify: bool,
    tls_server_name: Option<String>,
    proxy_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
struct User {
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    username: Option<String>,
    password: Option<String>,
    exec: Option<serde_json::Value>,
    auth_provider: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Context {
    cluster: String,
    user: String,
}

/// Reads a kubeconfig's current context. Unknown keys are ignored (the
/// format has many that do not concern a client: preferences, extensions).
pub fn kubeconfig(path: &Path) -> Result<Connection, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("kubeconfig {name}: cannot read: {e}"))?;
    let kc: KubeConfig =
        sightline_config::yaml::from_str(&text, &name).map_err(|e| e.to_string())?;
    let bad = |m: String| format!("kubeconfig {name}: {m}");
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == kc.current_context)
        .ok_or_else(|| {
            bad(format!(
                "current-context {:?} not found",
                kc.current_context
            ))
        })?;
    let cluster = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.value.cluster)
        .map(|c| &c.value)
        .ok_or_else(|| bad(format!("cluster {:?} not found", ctx.value.cluster)))?;
    let user = kc
        .users
        .iter()
        .find(|u| u.name == ctx.value.user)
        .map(|u| &u.value);
    if cluster.server.is_empty() {
        return Err(bad(format!(
            "cluster {:?} has no server",
            ctx.value.cluster
        )));
    }
    // Relative paths in a kubeconfig are relative to the file.
    let dir = path.parent().unwrap_or(Path::new(""));
    let file = |p: &Option<String>| {
        p.as_ref()
            .filter(|p| !p.is_empty())
            .map(|p| dir.join(p).display().to_string())
    };
    let data = |what: &str, d: &Option<String>| -> Result<Option<String>, String> {
        match d.as_deref().filter(|d| !d.is_empty()) {
            None => Ok(None),
            Some(b64) => {
                let bytes = crate::otlp::json::base64(b64.trim(), what)?;
                String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| bad(format!("{what} is not PEM text")))
            }
        }
    };
    let mut tls = TlsConfig {
        ca_file: file(&cluster.certificate_authority),
        ca: data(
            "certificate-authority-data",
            &cluster.certificate_authority_data,
        )?,
        insecure_skip_verify: cluster.insecure_skip_tls_verify,
        server_name: cluster.tls_server_name.clone(),
        ..TlsConfig::default()
    };
    let mut http = HttpClientConfig {
        proxy_url: cluster.proxy_url.clone(),
        ..HttpClientConfig::default()
    };
    if let Some(u) = user {
        if u.exec.is_some() || u.auth_provider.is_some() {
            return Err(bad(format!(
                "user {:?} authenticates with an exec or auth-provider plugin, which Sightline does not run; use a token or client certificate",
                ctx.value.user
            )));
        }
        tls.cert_file = file(&u.client_certificate);
        tls.cert = data("client-certificate-data", &u.client_certificate_data)?;
        tls.key_file = file(&u.client_key);
        tls.key = data("client-key-data", &u.client_key_data)?.map(Secret);
        if let Some(t) = u.token.as_deref().filter(|t| !t.is_empty()) {
            http.authorization = Some(Authorization {
                credentials: Some(Secret(t.to_owned())),
                ..Authorization::default()
            });
        } else if let Some(f) = file(&u.token_file) {
            http.authorization = Some(Authorization {
                credentials_file: Some(f),
                ..Authorization::default()
            });
        } else if let Some(name) = u.username.as_deref().filter(|n| !n.is_empty()) {
            http.basic_auth = Some(BasicAuth {
                username: name.to_owned(),
                password: u.password.clone().map(Secret),
                ..BasicAuth::default()
            });
        }
    }
    http.tls_config = tls;
    Ok(Connection {
        base: cluster.server.trim_end_matches('/').to_owned(),
        http,
        own_namespace: None,
    })
}
