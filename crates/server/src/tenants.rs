//! Wiring of multi-tenancy: the `--auth.multitenancy-enabled` switch and
//! the `tenants:` section's limits, shared by the router layer, the
//! scrape loop (the default tenant's series limit) and `/metrics`.
//! The logic lives in `sightline_api::tenant`.

use sightline_api::tenant::limits::LimitsConfig;
use sightline_api::tenant::{scoped, Tenancy, TenantLimits, DEFAULT_TENANT};
use sightline_core::telemetry::TelemetryRegistry;
use sightline_core::MetricAppender;
use std::sync::Arc;

/// The tenancy of the server, its limits registered on `/metrics`.
pub fn setup(
    enabled: bool,
    config: &LimitsConfig,
    registry: &TelemetryRegistry,
) -> anyhow::Result<Tenancy> {
    let limits = Arc::new(TenantLimits::new(config).map_err(|e| anyhow::anyhow!("{e}"))?);
    registry.register(limits.clone());
    if enabled {
        tracing::info!("multi-tenancy on: tenant APIs need X-Scope-OrgID");
    }
    Ok(Tenancy { enabled, limits })
}

/// The store as the scrape loop writes it: the default tenant's, within
/// its active series limit.
pub fn scrape_appender(
    store: Arc<dyn MetricAppender>,
    tenancy: &Tenancy,
) -> Arc<dyn MetricAppender> {
    scoped::limit_series(store, DEFAULT_TENANT, &tenancy.limits)
}
