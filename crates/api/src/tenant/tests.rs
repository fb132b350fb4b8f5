//! The tenant wrappers over an in-memory store (issue 18).

use super::limits::{LimitsConfig, TenantLimits};
use super::scoped::{limit_series, TenantAppendable, TenantQuerier};
use super::{check_id, Tenant, DEFAULT_TENANT, TENANT_LABEL};
use sightline_core::{
    ErrorKind, Labels, Matcher, MemStore, MetricAppender, MetricQuerier, QueryContext,
};
use std::sync::Arc;

fn t(id: &str) -> Tenant {
    Tenant(id.to_owned())
}

fn write(store: &Arc<MemStore>, tenant: &Tenant, limits: &Arc<TenantLimits>, name: &str) {
    let app = TenantAppendable::new(store.clone(), tenant, limits.clone());
    let mut a = app.appender();
    a.append(
        0,
        &Labels::from_pairs([("__name__", name), ("job", "x")]),
        1000,
        1.0,
    )
    .unwrap();
    a.commit().unwrap();
}

fn names(q: &dyn MetricQuerier) -> Vec<String> {
    q.select(&QueryContext::new(), 0, 2000, &[Matcher::equal("job", "x")])
        .unwrap()
        .map(|s| s.unwrap().labels.to_string())
        .collect()
}

#[test]
fn each_tenant_reads_only_its_own_series_without_the_hidden_label() {
    let store = Arc::new(MemStore::new());
    let limits = Arc::new(TenantLimits::default());
    write(&store, &t("a"), &limits, "only_a");
    write(&store, &t("b"), &limits, "only_b");
    write(&store, &t(DEFAULT_TENANT), &limits, "only_default");
    let a = TenantQuerier::new(store.clone(), &t("a"));
    let b = TenantQuerier::new(store.clone(), &t("b"));
    let d = TenantQuerier::new(store.clone(), &t(DEFAULT_TENANT));
    assert_eq!(names(&a), vec![r#"only_a{job="x"}"#]);
    assert_eq!(names(&b), vec![r#"only_b{job="x"}"#]);
    assert_eq!(names(&d), vec![r#"only_default{job="x"}"#]);
    let ctx = QueryContext::new();
    let ln = a.label_names(&ctx, 0, 2000, &[]).unwrap();
    assert!(!ln.iter().any(|n| n == TENANT_LABEL), "{ln:?}");
    assert_eq!(
        a.label_values(&ctx, "__name__", 0, 2000, &[]).unwrap(),
        vec!["only_a"]
    );
    assert!(a
        .label_values(&ctx, TENANT_LABEL, 0, 2000, &[])
        .unwrap()
        .is_empty());
    let series: Vec<_> = a
        .series(&ctx, 0, 2000, &[])
        .unwrap()
        .map(|l| l.unwrap())
        .collect();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].get(TENANT_LABEL), None);
}

#[test]
fn a_query_naming_another_tenant_finds_nothing() {
    let store = Arc::new(MemStore::new());
    let limits = Arc::new(TenantLimits::default());
    write(&store, &t("b"), &limits, "secret");
    let a = TenantQuerier::new(store.clone(), &t("a"));
    let got = a
        .select(
            &QueryContext::new(),
            0,
            2000,
            &[Matcher::equal(TENANT_LABEL, "b")],
        )
        .unwrap()
        .count();
    assert_eq!(got, 0);
}

#[test]
fn a_client_cannot_write_into_another_tenants_space() {
    let store = Arc::new(MemStore::new());
    let limits = Arc::new(TenantLimits::default());
    let app = TenantAppendable::new(store.clone(), &t("a"), limits.clone());
    let mut w = app.appender();
    let forged = Labels::from_pairs([("__name__", "m"), (TENANT_LABEL, "b"), ("job", "x")]);
    w.append(0, &forged, 1000, 1.0).unwrap();
    w.commit().unwrap();
    assert!(names(&TenantQuerier::new(store.clone(), &t("b"))).is_empty());
    assert_eq!(names(&TenantQuerier::new(store.clone(), &t("a"))).len(), 1);
}

fn limits_yaml(json: &str) -> Arc<TenantLimits> {
    let c: LimitsConfig = serde_json::from_str(json).unwrap();
    Arc::new(TenantLimits::new(&c).unwrap())
}

#[test]
fn new_series_past_the_limit_are_refused_and_rolled_back_ones_given_back() {
    let store = Arc::new(MemStore::new());
    let limits = limits_yaml(
        r#"{"limits":{"max_global_series_per_user":3},"overrides":{"big":{"max_global_series_per_user":5}}}"#,
    );
    let app = TenantAppendable::new(store.clone(), &t("a"), limits.clone());
    // A rolled back transaction keeps no room.
    let mut w = app.appender();
    for i in 0..3 {
        let l = Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
        w.append(0, &l, 1000, 1.0).unwrap();
    }
    w.rollback();
    assert_eq!(limits.series_tracker("a").unwrap().len(), 0);
    let mut w = app.appender();
    let mut refused = 0;
    for i in 0..10 {
        let l = Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
        match w.append(0, &l, 1000, 1.0) {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::LimitExceeded);
                assert!(e.message().contains("per-user series limit of 3 exceeded"));
                refused += 1;
            }
        }
    }
    w.commit().unwrap();
    assert_eq!(refused, 7);
    assert_eq!(store.series_count(), 3);
    // Known series still take samples at the limit.
    let mut w = app.appender();
    let l = Labels::from_pairs([("__name__", "m"), ("i", "0")]);
    w.append(0, &l, 2000, 2.0).unwrap();
    w.commit().unwrap();
    // The override applies to its tenant only.
    assert_eq!(limits.of("big").max_global_series_per_user, 5);
    assert_eq!(limits.of("other").max_global_series_per_user, 3);
    // The default tenant's scrape path is limited too.
    let scrape = limit_series(store.clone(), DEFAULT_TENANT, &limits);
    let mut w = scrape.appender();
    let ok = (0..10)
        .filter(|i| {
            let l = Labels::from_pairs([("__name__", "s"), ("i", &i.to_string())]);
            w.append(0, &l, 1000, 1.0).is_ok()
        })
        .count();
    w.commit().unwrap();
    assert_eq!(ok, 3);
}

#[test]
fn overrides_with_unknown_keys_are_refused_naming_the_tenant() {
    let c: LimitsConfig = serde_json::from_str(r#"{"overrides":{"t1":{"max_series":1}}}"#).unwrap();
    let e = TenantLimits::new(&c).err().unwrap();
    assert!(
        e.contains("tenants.overrides.t1") && e.contains("max_series"),
        "{e}"
    );
}

#[test]
fn the_ingestion_rate_refuses_in_mimirs_words() {
    let limits = limits_yaml(r#"{"limits":{"ingestion_rate":100,"ingestion_burst_size":150}}"#);
    assert!(limits.allow_samples("a", 150).is_ok());
    let e = limits.allow_samples("a", 100).unwrap_err();
    assert!(
        e.contains("exceeded the ingestion rate limit, set to 100 items/s"),
        "{e}"
    );
    // Another tenant has its own bucket.
    assert!(limits.allow_samples("b", 150).is_ok());
}

#[test]
fn tenant_ids_are_checked_as_loki_checks_them() {
    assert_eq!(check_id("team-a").unwrap().as_deref(), Some("team-a"));
    assert_eq!(check_id("").unwrap(), None);
    assert!(check_id("a/b").is_err());
    assert!(check_id("..").is_err());
    assert!(check_id(&"x".repeat(151)).is_err());
}

async fn status_of(router: axum::Router, path: &str, org: Option<&str>) -> (u16, String) {
    use tower::ServiceExt;
    let mut req = axum::http::Request::get(path);
    if let Some(o) = org {
        req = req.header("X-Scope-OrgID", o);
    }
    let r = router
        .oneshot(req.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = http_body_util::BodyExt::collect(r.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn tenant_apis_need_an_org_id_when_multi_tenancy_is_on() {
    use axum::routing::get;
    let handler = get(|t: super::TenantOf| async move {
        t.0.map(|(t, _)| t.0).unwrap_or_else(|| "none".into())
    });
    let app = || {
        axum::Router::new()
            .route("/api/v1/labels", handler.clone())
            .route("/-/ready", handler.clone())
    };
    let on = super::Tenancy {
        enabled: true,
        limits: Default::default(),
    };
    let (st, body) = status_of(on.layer(app()), "/api/v1/labels", None).await;
    assert_eq!((st, body.trim()), (401, "no org id"));
    let (st, body) = status_of(on.layer(app()), "/api/v1/labels", Some("a/b")).await;
    assert_eq!(st, 400, "{body}");
    let (st, body) = status_of(on.layer(app()), "/api/v1/labels", Some(" team-a ")).await;
    assert_eq!((st, body.as_str()), (200, "team-a"));
    // Health is nobody's.
    assert_eq!(status_of(on.layer(app()), "/-/ready", None).await.0, 200);
    // Off: everything is the default tenant's, whatever the header says.
    let off = super::Tenancy::default();
    let (st, body) = status_of(off.layer(app()), "/api/v1/labels", Some("team-a")).await;
    assert_eq!((st, body.as_str()), (200, DEFAULT_TENANT));
}
