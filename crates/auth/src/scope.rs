//! Which scope each route needs.
//!
//! Writes name their paths (every push protocol we take); admin routes are
//! the lifecycle endpoints, the TSDB admin API and silence changes; every
//! other route reads (queries are read even when POSTed, as Grafana does).
//! A basic-auth user of the web config holds every scope: Prometheus has
//! none, so a user that could do everything there still can.

use serde::Deserialize;

/// What a credential may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Queries, the UI, every GET API.
    Read,
    /// Pushes: remote_write, OTLP, Loki push, Zipkin, Jaeger, Alertmanager
    /// alerts, dashboard edits.
    Write,
    /// Reload, quit, TSDB admin, silence changes.
    Admin,
}

impl Scope {
    /// Its name in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// A flag that must be on for a route to be served at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// `--web.enable-lifecycle`: `/-/reload`, `/-/quit`.
    Lifecycle,
    /// `--web.enable-admin-api`: `/api/v1/admin/*`.
    AdminApi,
}

/// What a request needs: a scope, and maybe a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The scope a token must hold.
    pub scope: Scope,
    /// The flag that must be on.
    pub switch: Option<Switch>,
}

/// The paths that take data in with POST, every protocol's: what a `write`
/// scope grants and what the memory limit refuses first (the server's
/// `memory.rs`). One list, so a new intake is added once.
pub const INTAKE_PATHS: &[&str] = &[
    "/api/v1/write",
    "/api/v1/otlp/v1/metrics",
    "/otlp/v1/logs",
    "/otlp/v1/traces",
    "/otlp/v1/metrics",
    "/v1/metrics",
    "/v1/logs",
    "/v1/traces",
    "/loki/api/v1/push",
    "/api/prom/push",
    // gRPC over the HTTP port (OTLP exporters pointed at it).
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    // Zipkin v2 and Jaeger's collector take spans on the paths their query
    // APIs read with GET.
    "/api/v2/spans",
    "/api/traces",
    // User events: Segment's tracking API and Sightline's own.
    "/v1/events",
    "/v1/track",
    "/v1/identify",
    "/v1/page",
    "/v1/screen",
    "/v1/group",
    "/v1/alias",
    "/v1/batch",
    "/v1/import",
];

/// Paths whose URL carries its own credential, checked by the handler:
/// the signed acknowledge links in notifications, clicked from a chat or
/// a mail client that holds no Sightline login.
pub const SELF_AUTHENTICATING_PREFIXES: &[&str] = &["/api/v1/incidents/ack/"];

/// Whether `path` (without the route prefix) carries its own credential.
pub fn self_authenticating(path: &str) -> bool {
    SELF_AUTHENTICATING_PREFIXES
        .iter()
        .any(|p| path.starts_with(p))
}

/// The scope and flag `method path` needs; `path` is without the route
/// prefix.
pub fn need(method: &str, path: &str) -> Need {
    let read = |scope| Need {
        scope,
        switch: None,
    };
    let is_get = matches!(method, "GET" | "HEAD" | "OPTIONS");
    if path == "/-/reload" || path == "/-/quit" {
        return Need {
            scope: Scope::Admin,
            switch: Some(Switch::Lifecycle),
        };
    }
    if path.starts_with("/api/v1/admin/") {
        return Need {
            scope: Scope::Admin,
            switch: Some(Switch::AdminApi),
        };
    }
    if !is_get && (path == "/api/v2/silences" || path.starts_with("/api/v2/silence/")) {
        return read(Scope::Admin);
    }
    if !is_get && INTAKE_PATHS.contains(&path) {
        return read(Scope::Write);
    }
    if !is_get && matches!(path, "/api/v2/alerts" | "/api/v1/alerts") {
        return read(Scope::Write);
    }
    // Declaring, editing, acknowledging, commenting on and resolving
    // incidents is on-call work, not administration.
    if !is_get && (path == "/api/v1/incidents" || path.starts_with("/api/v1/incidents/")) {
        return read(Scope::Write);
    }
    if !is_get
        && (path.starts_with("/api/dashboards/")
            || path.starts_with("/api/folders")
            || path == "/api/dashboards")
    {
        return read(Scope::Write);
    }
    read(Scope::Read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_18_routes_map_to_scopes() {
        assert_eq!(need("POST", "/api/v1/query").scope, Scope::Read);
        assert_eq!(need("GET", "/api/v2/spans").scope, Scope::Read);
        assert_eq!(need("POST", "/api/v2/spans").scope, Scope::Write);
        assert_eq!(need("POST", "/api/v1/write").scope, Scope::Write);
        assert_eq!(need("POST", "/loki/api/v1/push").scope, Scope::Write);
        assert_eq!(need("POST", "/v1/traces").scope, Scope::Write);
        assert_eq!(need("GET", "/api/v2/silences").scope, Scope::Read);
        assert_eq!(need("POST", "/api/v2/silences").scope, Scope::Admin);
        assert_eq!(need("DELETE", "/api/v2/silence/abc").scope, Scope::Admin);
        let r = need("POST", "/-/reload");
        assert_eq!((r.scope, r.switch), (Scope::Admin, Some(Switch::Lifecycle)));
        let r = need("POST", "/api/v1/admin/tsdb/snapshot");
        assert_eq!((r.scope, r.switch), (Scope::Admin, Some(Switch::AdminApi)));
        assert_eq!(need("GET", "/metrics").scope, Scope::Read);
        assert_eq!(need("GET", "/api/v1/incidents").scope, Scope::Read);
        assert_eq!(
            need("POST", "/api/v1/incidents/3/acknowledge").scope,
            Scope::Write
        );
        assert_eq!(need("PATCH", "/api/v1/incidents/3").scope, Scope::Write);
        assert!(self_authenticating("/api/v1/incidents/ack/3.1.ab"));
        assert!(!self_authenticating("/api/v1/incidents/3/acknowledge"));
    }
}
