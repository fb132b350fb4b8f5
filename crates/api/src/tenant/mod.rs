//! Tenants: who a request is for, and keeping each tenant to its own data.
//!
//! There is one definition of "the tenant of a request", [`tenant_of`]:
//! the `X-Scope-OrgID` header (gRPC: the `x-scope-orgid` metadata,
//! [`tenant_of_metadata`]), checked as Loki and Mimir check it, and
//! [`DEFAULT_TENANT`] (`fake`) when absent. Every API family reads it.
//!
//! Multi-tenancy is off by default, as in Loki and Mimir with
//! `auth_enabled: false` / `multitenancy_enabled: false`. When it is on,
//! [`Tenancy::layer`] sits in front of the whole router: a request to a
//! tenant API without the header is refused with 401 `no org id` (Loki's
//! and Mimir's answer), and the tenant it resolved is put in the request's
//! extensions as a [`Tenant`] and written back into the header, so every
//! handler downstream (those reading the header, those reading the
//! extension) agrees on it.
//!
//! Metrics have no tenant field in the store: [`scoped`] adds a hidden
//! label, [`TENANT_LABEL`], to every series a non-default tenant writes,
//! and wraps the querier so every read carries the tenant's matcher and
//! every answer loses the label. The Prometheus handlers reach the store
//! through the [`Scoped`] extractor, which does that wrapping per request.
//!
//! Per-tenant limits (defaults plus overrides, Mimir's and Loki's shape)
//! live in [`limits`].

pub mod limits;
pub mod scoped;
#[cfg(test)]
mod tests;

pub use limits::{Limits, TenantLimits};
pub use scoped::{TenantAppendable, TenantQuerier};

use crate::ApiState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
pub use sightline_core::logs::DEFAULT_TENANT;
use std::sync::Arc;

/// The hidden label that holds a non-default tenant's ID on its series.
/// Series of the default tenant (scrapes, rules, a single-tenant server)
/// have none, so turning multi-tenancy on keeps them where they are.
pub const TENANT_LABEL: &str = "__tenant__";

/// The header naming the tenant, as Loki, Mimir and Tempo take it.
pub const ORG_ID_HEADER: &str = "x-scope-orgid";

/// Loki's and Mimir's answer to a request without a tenant.
pub const NO_ORG_ID: &str = "no org id";

/// The tenant a request was resolved to, in its extensions when
/// multi-tenancy is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant(pub String);

impl Tenant {
    /// True for [`DEFAULT_TENANT`], whose series carry no tenant label.
    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_TENANT
    }
}

/// Why a request has no usable tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantError {
    /// No `X-Scope-OrgID` (only an error when multi-tenancy is on).
    Missing,
    /// The ID is not one Loki would take; the message says why.
    Invalid(String),
}

impl TenantError {
    /// The gRPC answer: `UNAUTHENTICATED` `no org id`, or
    /// `INVALID_ARGUMENT` with the reason.
    pub fn into_status(self) -> tonic::Status {
        match self {
            TenantError::Missing => tonic::Status::unauthenticated(NO_ORG_ID),
            TenantError::Invalid(m) => tonic::Status::invalid_argument(m),
        }
    }

    /// The answer: 401 `no org id`, or 400 with the reason.
    pub fn into_response(self) -> Response {
        match self {
            TenantError::Missing => plain(StatusCode::UNAUTHORIZED, NO_ORG_ID),
            TenantError::Invalid(m) => plain(StatusCode::BAD_REQUEST, &m),
        }
    }
}

fn plain(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [("Content-Type", "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

/// The tenant of a request, from its head: `Ok(None)` when it names none.
///
/// The one place that decides; authentication (a token that carries its
/// tenant, say) extends this function rather than adding a second one.
pub fn tenant_of(parts: &Parts) -> Result<Option<String>, TenantError> {
    header_tenant(&parts.headers)
}

fn header_tenant(headers: &HeaderMap) -> Result<Option<String>, TenantError> {
    match headers.get(ORG_ID_HEADER) {
        None => Ok(None),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| TenantError::Invalid("X-Scope-OrgID is not ASCII text".into()))?;
            check_id(s).map_err(TenantError::Invalid)
        }
    }
}

/// The tenant named by headers, [`DEFAULT_TENANT`] when none: for the
/// handlers that write (and must refuse a malformed ID).
pub fn tenant_checked(headers: &HeaderMap) -> Result<String, String> {
    match header_tenant(headers) {
        Ok(t) => Ok(t.unwrap_or_else(|| DEFAULT_TENANT.to_owned())),
        Err(TenantError::Missing) => Ok(DEFAULT_TENANT.to_owned()),
        Err(TenantError::Invalid(m)) => Err(m),
    }
}

/// The tenant named by headers for a read. A malformed ID is read as
/// given: no write can have used it (writes refuse it), so it finds
/// nothing; with multi-tenancy on, [`Tenancy::layer`] refused it already.
pub fn tenant(headers: &HeaderMap) -> String {
    match headers.get(ORG_ID_HEADER).and_then(|v| v.to_str().ok()) {
        Some(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => DEFAULT_TENANT.to_owned(),
    }
}

/// The tenant of a gRPC request's metadata, as [`tenant_checked`].
pub fn tenant_of_metadata(md: &tonic::metadata::MetadataMap) -> Result<String, String> {
    match md.get(ORG_ID_HEADER) {
        None => Ok(DEFAULT_TENANT.to_owned()),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| "x-scope-orgid is not ASCII text".to_owned())?;
            Ok(check_id(s)?.unwrap_or_else(|| DEFAULT_TENANT.to_owned()))
        }
    }
}

/// A tenant ID checked as Loki checks one: at most 150 bytes of
/// `[a-zA-Z0-9!._*'()-]`, not `.` or `..`; empty is `None`.
pub fn check_id(id: &str) -> Result<Option<String>, String> {
    let id = id.trim();
    if id.is_empty() {
        return Ok(None);
    }
    if id.len() > 150 {
        return Err(format!(
            "tenant ID is too long: max 150 characters, got {}",
            id.len()
        ));
    }
    if id == "." || id == ".." {
        return Err("tenant ID is '.' or '..'".to_owned());
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "!-_.*'()".contains(*c)))
    {
        return Err(format!(
            "tenant ID '{id}' contains unsupported character '{c}'"
        ));
    }
    Ok(Some(id.to_owned()))
}

/// Paths that are not any tenant's: health, self-telemetry, the web UI's
/// files, build information. Everything else names a tenant when
/// multi-tenancy is on.
fn is_tenant_api(path: &str) -> bool {
    const TENANT_PREFIXES: &[&str] = &[
        "/api/",
        "/loki/",
        "/v1/",
        "/otlp/",
        "/prometheus/",
        "/jaeger/",
        "/zipkin/",
        "/tempo/",
        "/tempopb.",
    ];
    const OPEN: &[&str] = &[
        "/api/v1/status/buildinfo",
        "/loki/api/v1/status/buildinfo",
        "/api/status/buildinfo",
    ];
    TENANT_PREFIXES.iter().any(|p| path.starts_with(p)) && !OPEN.contains(&path)
}

/// The multi-tenancy switch and the per-tenant limits, shared by the
/// router layer, the handlers and the gRPC services.
#[derive(Clone, Default)]
pub struct Tenancy {
    /// Multi-tenancy on: tenant APIs need `X-Scope-OrgID`.
    pub enabled: bool,
    /// Limits per tenant, with their counters.
    pub limits: Arc<TenantLimits>,
}

impl Tenancy {
    /// Puts the tenant check in front of `router` (a no-op when off, so a
    /// single-tenant server pays nothing).
    pub fn layer(&self, router: Router) -> Router {
        let this = self.clone();
        router.layer(axum::middleware::from_fn_with_state(this, resolve))
    }

    /// The tenant of a gRPC request when multi-tenancy is on (refusing a
    /// request without one, as the HTTP layer does); `None` when off.
    pub fn grpc_tenant(
        &self,
        md: &tonic::metadata::MetadataMap,
    ) -> Result<Option<Tenant>, TenantError> {
        if !self.enabled {
            return Ok(None);
        }
        if md.get(ORG_ID_HEADER).is_none() {
            return Err(TenantError::Missing);
        }
        tenant_of_metadata(md)
            .map(|t| Some(Tenant(t)))
            .map_err(TenantError::Invalid)
    }
}

async fn resolve(State(t): State<Tenancy>, mut req: Request, next: Next) -> Response {
    if !t.enabled || !is_tenant_api(req.uri().path()) {
        // Off, everything is the default tenant's, within its limits.
        req.extensions_mut().insert(t.limits.clone());
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let id = match tenant_of(&parts) {
        Ok(Some(id)) => id,
        Ok(None) => return TenantError::Missing.into_response(),
        Err(e) => return e.into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        parts.headers.insert(ORG_ID_HEADER, v);
    }
    parts.extensions.insert(Tenant(id));
    parts.extensions.insert(t.limits.clone());
    next.run(Request::from_parts(parts, body)).await
}

/// The API state of one request: with multi-tenancy on, the querier and
/// appender see only the request's tenant (and the appender keeps its
/// limits); off, the state as it is.
pub struct Scoped(pub ApiState);

impl FromRequestParts<ApiState> for Scoped {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let mut s = state.clone();
        let Some(limits) = parts.extensions.get::<Arc<TenantLimits>>().cloned() else {
            // A router without the tenancy layer (tests, embedders).
            return Ok(Scoped(s));
        };
        let tenant = parts.extensions.get::<Tenant>();
        let l = limits.of(tenant.map_or(DEFAULT_TENANT, |t| &t.0));
        if l.query_timeout_ms > 0 || l.max_query_samples > 0 {
            let timeout = (l.query_timeout_ms > 0)
                .then(|| std::time::Duration::from_millis(l.query_timeout_ms));
            s.promql = Arc::new(s.promql.tightened(timeout, l.max_query_samples as usize));
        }
        if let Some(t) = tenant {
            s.querier = Arc::new(
                TenantQuerier::new(s.querier, t).with_max_series(l.max_fetched_series_per_query),
            );
            s.appendable = Arc::new(TenantAppendable::new(s.appendable, t, limits));
        } else {
            s.appendable = scoped::limit_series(s.appendable, DEFAULT_TENANT, &limits);
        }
        Ok(Scoped(s))
    }
}

/// The request's tenant (the default one when multi-tenancy is off) and
/// limits, for handlers that enforce rates or filter by tenant; `None`
/// behind a router without [`Tenancy::layer`].
pub struct TenantOf(pub Option<(Tenant, Arc<TenantLimits>)>);

impl<S: Send + Sync> FromRequestParts<S> for TenantOf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let l = parts.extensions.get::<Arc<TenantLimits>>().cloned();
        let t = parts
            .extensions
            .get::<Tenant>()
            .cloned()
            .unwrap_or_else(|| Tenant(DEFAULT_TENANT.to_owned()));
        Ok(TenantOf(l.map(|l| (t, l))))
    }
}

impl TenantOf {
    /// True for the default tenant (and a server without multi-tenancy):
    /// the owner of the rule files and of the built-in Alertmanager.
    pub fn is_default(&self) -> bool {
        self.0.as_ref().is_none_or(|(t, _)| t.is_default())
    }
}

/// The answer to another tenant on the built-in Alertmanager, which is
/// the default tenant's (it routes the alerts of the rule files): lists
/// are empty, changes are refused with 403, so no tenant reads or
/// silences another's alerts.
pub async fn default_tenant_only(tenant: TenantOf, req: Request, next: Next) -> Response {
    if tenant.is_default() {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let list = path.ends_with("/alerts")
        || path.ends_with("/alerts/groups")
        || path.ends_with("/silences")
        || path.ends_with("/notifications");
    if req.method() == axum::http::Method::GET && list {
        return (StatusCode::OK, [("Content-Type", "application/json")], "[]").into_response();
    }
    plain(
        StatusCode::FORBIDDEN,
        "the built-in Alertmanager belongs to the default tenant",
    )
}
