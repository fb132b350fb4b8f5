//! A small Kubernetes API client: list a resource, then watch it from the
//! list's version. Only what discovery needs, over the crate's one HTTP
//! client (so TLS, tokens and basic auth behave as for scrapes); the
//! `kube` crate would add minutes to every clean build for this.

use super::auth::Connection;
use super::types::{List, Object, Status, WatchEvent};
use crate::scrape::HttpClient;

/// One kind of object and where the API serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// `/api/v1` or `/apis/<group>/<version>`.
    pub api: &'static str,
    /// The plural name in URLs (`pods`).
    pub plural: &'static str,
    /// Whether objects live in namespaces (nodes do not).
    pub namespaced: bool,
}

pub const PODS: Resource = Resource {
    api: "/api/v1",
    plural: "pods",
    namespaced: true,
};
pub const SERVICES: Resource = Resource {
    api: "/api/v1",
    plural: "services",
    namespaced: true,
};
pub const ENDPOINTS: Resource = Resource {
    api: "/api/v1",
    plural: "endpoints",
    namespaced: true,
};
pub const ENDPOINTSLICES: Resource = Resource {
    api: "/apis/discovery.k8s.io/v1",
    plural: "endpointslices",
    namespaced: true,
};
pub const NODES: Resource = Resource {
    api: "/api/v1",
    plural: "nodes",
    namespaced: false,
};
pub const INGRESSES: Resource = Resource {
    api: "/apis/networking.k8s.io/v1",
    plural: "ingresses",
    namespaced: true,
};

/// One list+watch target: a resource, in one namespace or all, with
/// optional selectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub resource: Resource,
    /// `None`: all namespaces (and cluster-scoped resources).
    pub namespace: Option<String>,
    pub label_selector: String,
    pub field_selector: String,
}

impl Query {
    fn url(&self, base: &str, extra: &[(&str, &str)]) -> String {
        let mut url = format!("{base}{}", self.resource.api);
        if let (true, Some(ns)) = (self.resource.namespaced, &self.namespace) {
            url.push_str("/namespaces/");
            url.push_str(&encode(ns));
        }
        url.push('/');
        url.push_str(self.resource.plural);
        let mut params: Vec<(&str, &str)> = Vec::new();
        if !self.label_selector.is_empty() {
            params.push(("labelSelector", &self.label_selector));
        }
        if !self.field_selector.is_empty() {
            params.push(("fieldSelector", &self.field_selector));
        }
        params.extend_from_slice(extra);
        for (i, (k, v)) in params.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    /// `pods` or `pods in namespace "x"`, for messages.
    pub fn describe(&self) -> String {
        match (&self.namespace, self.resource.namespaced) {
            (Some(ns), true) => format!("{} in namespace {ns:?}", self.resource.plural),
            _ => self.resource.plural.to_owned(),
        }
    }
}

/// Percent-encodes a query value (selectors hold `=`, `!`, `,`, spaces).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a watch reported.
pub enum Event<T> {
    /// Added or modified: the object's new state.
    Applied(T),
    /// Deleted: its last state.
    Deleted(T),
}

/// Why a watch ended.
#[derive(Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// The server closed the stream normally (its timeout): watch again
    /// from the last version.
    Closed,
    /// 410 Gone: the version is too old; list again.
    Expired,
}

/// A client for one API server.
pub struct ApiClient {
    base: String,
    http: HttpClient,
}

const JSON: &str = "application/json";

/// How long a list may take: lists of even large clusters answer in
/// seconds, so a minute tells a hung connection from a slow answer.
const LIST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl ApiClient {
    /// A client for `conn`; `owner` names the job in errors.
    pub fn new(conn: &Connection, owner: &str) -> Result<ApiClient, String> {
        Ok(ApiClient {
            base: conn.base.clone(),
            http: HttpClient::with_settings(&conn.http, owner, false)?,
        })
    }

    /// Lists `q`: its objects and the version to watch from.
    pub async fn list<T: Object>(&self, q: &Query) -> Result<(Vec<T>, String), String> {
        let url = q.url(&self.base, &[]);
        // A server that accepts and then hangs must not stall the informer.
        let fetched = tokio::time::timeout(LIST_TIMEOUT, async {
            let resp = self.http.get_response(&url, JSON).await?;
            let status = resp.status();
            let body = resp
                .bytes()
                .await
                .map_err(|e| format!("list {}: reading the response: {e}", q.describe()))?;
            Ok::<_, String>((status, body))
        })
        .await
        .map_err(|_| format!("list {}: no answer within {LIST_TIMEOUT:?}", q.describe()))?;
        let (status, body) = fetched?;
        if !status.is_success() {
            return Err(format!(
                "list {}: {status}: {}",
                q.describe(),
                status_message(&body)
            ));
        }
        let list: List<T> = serde_json::from_slice(&body)
            .map_err(|e| format!("list {}: invalid response: {e}", q.describe()))?;
        Ok((list.items, list.metadata.resource_version))
    }

    /// Watches `q` from `*version`, calling `on` per event and keeping
    /// `*version` at the last one seen (bookmarks included), until the
    /// stream ends. `timeout_secs` asks the server to end it then; an
    /// error is a broken stream or a refused request.
    pub async fn watch<T: Object>(
        &self,
        q: &Query,
        version: &mut String,
        timeout_secs: u64,
        mut on: impl FnMut(Event<T>),
    ) -> Result<WatchEnd, String> {
        let timeout = timeout_secs.to_string();
        let url = q.url(
            &self.base,
            &[
                ("watch", "1"),
                ("resourceVersion", version.as_str()),
                ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", &timeout),
            ],
        );
        let what = q.describe();
        // The server ends the stream after timeoutSeconds; a silent dead
        // connection is cut a little later on our side.
        let limit = std::time::Duration::from_secs(timeout_secs + 30);
        let fut = async {
            let mut resp = self.http.get_response(&url, JSON).await?;
            let status = resp.status();
            if status == reqwest::StatusCode::GONE {
                return Ok(WatchEnd::Expired);
            }
            if !status.is_success() {
                let body = resp.bytes().await.unwrap_or_default();
                return Err(format!("watch {what}: {status}: {}", status_message(&body)));
            }
            let mut buf: Vec<u8> = Vec::new();
            loop {
                let chunk = resp
                    .chunk()
                    .await
                    .map_err(|e| format!("watch {what}: stream broken: {e}"))?;
                let Some(chunk) = chunk else {
                    return Ok(WatchEnd::Closed);
                };
                buf.extend_from_slice(&chunk);
                // Events are newline-delimited JSON; a chunk may hold
                // several, or part of one.
                while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if let Some(end) = handle_line(&line, version, &mut on, &what)? {
                        return Ok(end);
                    }
                }
            }
        };
        match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Ok(WatchEnd::Closed),
        }
    }
}

/// Applies one watch event; `Some` when it ends the watch.
fn handle_line<T: Object>(
    line: &[u8],
    version: &mut String,
    on: &mut impl FnMut(Event<T>),
    what: &str,
) -> Result<Option<WatchEnd>, String> {
    let ev: WatchEvent =
        serde_json::from_slice(line).map_err(|e| format!("watch {what}: invalid event: {e}"))?;
    let rv = |o: &serde_json::Value| {
        o.pointer("/metadata/resourceVersion")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    match ev.kind.as_str() {
        "ADDED" | "MODIFIED" | "DELETED" => {
            let new_rv = rv(&ev.object);
            let obj: T = serde_json::from_value(ev.object)
                .map_err(|e| format!("watch {what}: invalid object: {e}"))?;
            if ev.kind == "DELETED" {
                on(Event::Deleted(obj));
            } else {
                on(Event::Applied(obj));
            }
            if let Some(v) = new_rv {
                *version = v;
            }
        }
        "BOOKMARK" => {
            if let Some(v) = rv(&ev.object) {
                *version = v;
            }
        }
        "ERROR" => {
            let st: Status = serde_json::from_value(ev.object).unwrap_or_default();
            if st.code == 410 {
                return Ok(Some(WatchEnd::Expired));
            }
            return Err(format!("watch {what}: error {}: {}", st.code, st.message));
        }
        other => return Err(format!("watch {what}: unknown event type {other:?}")),
    }
    Ok(None)
}

/// The `message` of a `Status` body, or the start of the body.
fn status_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Status>(body) {
        Ok(s) if !s.message.is_empty() => s.message,
        _ => String::from_utf8_lossy(&body[..body.len().min(200)])
            .trim()
            .to_owned(),
    }
}
