//! The `ApiState` every router test starts from: no targets, no reload, an
//! empty or fixed status, a `MemStore` as both appender and querier. Each
//! test file passes what it varies (store, rules, status, engine).

#![allow(dead_code)] // each test binary uses its own part

use sightline_api::prometheus::{QueryEngine, RemoteWriteCounters};
use sightline_api::{
    ApiState, BoxFuture, HeadStats, Reloader, RulesSource, StatusSource, TargetsSource,
};
use sightline_core::MemStore;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// No scrape targets.
pub struct NoTargets;
impl TargetsSource for NoTargets {
    fn targets(&self, _: &str) -> serde_json::Value {
        serde_json::json!({"activeTargets": [], "droppedTargets": []})
    }
}

/// A reload that always succeeds and changes nothing.
pub struct NoReload;
impl Reloader for NoReload {
    fn reload(self: Arc<Self>) -> BoxFuture<Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// No rules and no alerts.
pub struct NoRules;
impl RulesSource for NoRules {
    fn rules(&self) -> serde_json::Value {
        serde_json::json!({"groups": []})
    }
    fn alerts(&self) -> serde_json::Value {
        serde_json::json!({"alerts": []})
    }
}

/// An empty status: no config, flags or runtime facts.
pub struct NoStatus;
impl StatusSource for NoStatus {
    fn config_yaml(&self) -> String {
        String::new()
    }
    fn flags(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn runtime_info(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    fn head_stats(&self) -> HeadStats {
        HeadStats::default()
    }
}

/// The state over `store`, with the given rules, status and engine.
pub fn api_state(
    store: Arc<MemStore>,
    rules: Arc<dyn RulesSource>,
    status: Arc<dyn StatusSource>,
    engine: QueryEngine,
) -> ApiState {
    ApiState {
        rules,
        appendable: store.clone(),
        querier: store,
        targets: Arc::new(NoTargets),
        metadata: Arc::new(sightline_api::NoMetadata),
        reloader: Arc::new(NoReload),
        registry: sightline_core::telemetry::TelemetryRegistry::new(),
        ready: Arc::new(AtomicBool::new(true)),
        remote_write: Arc::new(RemoteWriteCounters::default()),
        promql: Arc::new(engine),
        status,
    }
}
