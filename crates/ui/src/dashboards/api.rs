//! Grafana's dashboard, search and folder HTTP API over the store, in
//! Grafana's own request and answer shapes, so Grafana tooling (grizzly,
//! grafana-backup, `curl` recipes) works against Sightline.

use super::model::{self, slugify, DATASOURCE_UID, LOGS_DATASOURCE_UID};
use super::store::{DashboardStore, Folder, View, GENERAL};
use crate::error::{Error, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::SystemTime;

/// The largest request body: Grafana's own limit is in this range, and
/// the largest public dashboards are a few MB.
const MAX_BODY: usize = 32 << 20;

#[derive(Clone)]
struct Api {
    store: Arc<DashboardStore>,
    /// The route prefix (`/sl`, or empty), for the URLs in answers.
    prefix: Arc<str>,
}

/// The dashboards API and the `/d/{uid}` links, for any router state.
/// `prefix` is the route prefix the server is mounted under (empty for
/// none): it starts the `url`s of answers, as Grafana's sub path does.
pub fn routes<S: Clone + Send + Sync + 'static>(
    store: Arc<DashboardStore>,
    prefix: &str,
) -> Router<S> {
    search_route(store.clone(), prefix).merge(routes_except_search(store, prefix))
}

fn api(store: Arc<DashboardStore>, prefix: &str) -> Api {
    Api {
        store,
        prefix: prefix.trim_end_matches('/').into(),
    }
}

/// Grafana's `GET /api/search` alone: a server that answers another
/// search on the same path (Tempo's) routes between the two.
pub fn search_route<S: Clone + Send + Sync + 'static>(
    store: Arc<DashboardStore>,
    prefix: &str,
) -> Router<S> {
    Router::new()
        .route("/api/search", get(search))
        .with_state(api(store, prefix))
}

/// [`routes`] but [`search_route`].
pub fn routes_except_search<S: Clone + Send + Sync + 'static>(
    store: Arc<DashboardStore>,
    prefix: &str,
) -> Router<S> {
    let api = api(store, prefix);
    Router::new()
        .route(
            "/api/dashboards/uid/{uid}",
            get(get_dashboard).delete(delete_dashboard),
        )
        .route("/api/dashboards/db", axum::routing::post(save))
        .route("/api/dashboards/import", axum::routing::post(import))
        .route("/api/dashboards/provisioning", get(provisioning))
        .route("/api/folders", get(list_folders).post(create_folder))
        .route(
            "/api/folders/{uid}",
            get(get_folder).put(rename_folder).delete(delete_folder),
        )
        .route("/api/dashboards/tags", get(tags))
        .route("/d/{uid}", get(open_link))
        .route("/d/{uid}/{slug}", get(open_link_slug))
        // Big dashboards (hundreds of panels) pass axum's default 2 MB.
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Io { .. } | Error::Storage(_) = &self {
            tracing::error!(error = %self, "dashboard store");
        }
        let mut body = json!({"message": self.to_string()});
        if let Some(s) = self.grafana_status() {
            body["status"] = Value::String(s.into());
        }
        (self.status(), Json(body)).into_response()
    }
}

/// Runs a store call that writes files off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::BadRequest(format!("internal error: {e}")))?
}

fn unix_rfc3339(t: SystemTime) -> String {
    // Grafana prints `2024-01-02T03:04:05Z`; seconds are enough here.
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl Api {
    fn dash_url(&self, uid: &str, title: &str) -> String {
        format!("{}/d/{uid}/{}", self.prefix, slugify(title))
    }
    fn folder_url(&self, f: &Folder) -> String {
        format!(
            "{}/dashboards/f/{}/{}",
            self.prefix,
            f.uid,
            slugify(&f.title)
        )
    }
    fn folder_json(&self, id: i64, f: &Folder) -> Value {
        json!({"id": id, "uid": f.uid, "title": f.title, "url": self.folder_url(f)})
    }
}

/// The query's `key=value` pairs, repeated keys kept (Grafana's `tag`
/// and `folderUIDs` may repeat).
fn pairs(q: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn search(State(api): State<Api>, RawQuery(q): RawQuery) -> Response {
    let mut query = String::new();
    let mut kind = String::new();
    let mut tags: Vec<String> = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let mut uids: Vec<String> = Vec::new();
    let mut limit = usize::MAX;
    for (k, v) in pairs(q) {
        match k.as_str() {
            "query" => query = v.to_lowercase(),
            "type" => kind = v,
            "tag" => tags.push(v),
            "folderUIDs" | "folderUid" => folders.extend(v.split(',').map(str::to_owned)),
            "dashboardUIDs" | "dashboardUID" => uids.extend(v.split(',').map(str::to_owned)),
            "limit" => {
                if let Ok(n) = v.parse::<usize>() {
                    limit = if n == 0 { usize::MAX } else { n };
                }
            }
            _ => {}
        }
    }
    if !matches!(kind.as_str(), "" | "dash-db" | "dash-folder") {
        return Error::BadRequest(format!(
            "type: unknown search type {kind:?} (dash-db or dash-folder)"
        ))
        .into_response();
    }
    let folder_match = |uid: &str| {
        folders.is_empty()
            || folders
                .iter()
                .any(|f| f == uid || (uid.is_empty() && (f == GENERAL || f.is_empty())))
    };
    let mut out: Vec<Value> = Vec::new();
    // Folders first, as Grafana lists them, unless the search is for
    // dashboards only (a type, tags, or named dashboards).
    if (kind.is_empty() && tags.is_empty() && uids.is_empty() && folders.is_empty())
        || kind == "dash-folder"
    {
        for (id, f) in api.store.folders() {
            if f.title.to_lowercase().contains(&query) {
                out.push(json!({
                    "id": id, "uid": f.uid, "title": f.title,
                    "uri": format!("db/{}", slugify(&f.title)),
                    "url": api.folder_url(&f), "slug": "",
                    "type": "dash-folder", "tags": [], "isStarred": false, "sortMeta": 0,
                }));
            }
        }
    }
    if kind != "dash-folder" {
        for v in api.store.list() {
            if !v.title.to_lowercase().contains(&query)
                || !tags.iter().all(|t| v.tags.contains(t))
                || !folder_match(&v.folder_uid)
                || !(uids.is_empty() || uids.contains(&v.uid))
            {
                continue;
            }
            let mut row = json!({
                "id": v.id, "uid": v.uid, "title": v.title,
                "uri": format!("db/{}", slugify(&v.title)),
                "url": api.dash_url(&v.uid, &v.title), "slug": "",
                "type": "dash-db", "tags": v.tags, "isStarred": false, "sortMeta": 0,
            });
            // Grafana leaves the folder fields out for General.
            if !v.folder_uid.is_empty() {
                if let Some(m) = row.as_object_mut() {
                    let url = api.folder_url(&Folder {
                        uid: v.folder_uid.clone(),
                        title: v.folder_title.clone(),
                    });
                    m.insert("folderId".into(), v.folder_id.into());
                    m.insert("folderUid".into(), v.folder_uid.into());
                    m.insert("folderTitle".into(), v.folder_title.into());
                    m.insert("folderUrl".into(), url.into());
                }
            }
            out.push(row);
        }
    }
    out.truncate(limit);
    Json(out).into_response()
}

fn meta(api: &Api, v: &View) -> Value {
    let e = &v.entry;
    let prov = e.provisioned.as_ref();
    let can_save = prov.is_none_or(|p| p.allow_ui_updates);
    json!({
        "type": "db",
        "slug": slugify(e.title()),
        "url": api.dash_url(e.uid(), e.title()),
        "version": e.version(),
        "created": unix_rfc3339(e.created),
        "updated": unix_rfc3339(e.updated),
        "createdBy": "", "updatedBy": "",
        "folderId": v.folder_id,
        "folderUid": e.folder_uid,
        "folderTitle": if e.folder_uid.is_empty() { "General" } else { v.folder_title.as_str() },
        "folderUrl": if e.folder_uid.is_empty() { String::new() } else {
            api.folder_url(&Folder { uid: e.folder_uid.clone(), title: v.folder_title.clone() })
        },
        "provisioned": prov.is_some(),
        "provisionedExternalId": prov.map(|p| p.file.display().to_string()).unwrap_or_default(),
        "canSave": can_save,
        "canEdit": true,
        "canAdmin": false,
        "canStar": false,
        "canDelete": prov.is_none(),
        "isStarred": false,
        "isFolder": false,
        "hasAcl": false,
    })
}

async fn get_dashboard(State(api): State<Api>, Path(uid): Path<String>) -> Response {
    let store = api.store.clone();
    // Reading and parsing a big file is blocking work.
    match blocking(move || store.get(&uid)).await {
        Ok(v) => {
            let m = meta(&api, &v);
            let mut d = v.dashboard;
            d.insert("id".into(), v.id.into());
            Json(json!({"dashboard": d, "meta": m})).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn delete_dashboard(State(api): State<Api>, Path(uid): Path<String>) -> Response {
    let store = api.store.clone();
    match blocking(move || store.delete(&uid)).await {
        Ok((id, e)) => Json(json!({
            "id": id,
            "uid": e.uid,
            "title": e.title,
            "message": format!("Dashboard {} deleted", e.title),
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The body of `POST /api/dashboards/db`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveRequest {
    dashboard: Value,
    #[serde(default)]
    folder_uid: Option<String>,
    #[serde(default)]
    overwrite: bool,
    /// The commit message: accepted, not kept (there is no history).
    #[serde(default)]
    #[allow(dead_code)]
    message: Option<String>,
}

async fn save(State(api): State<Api>, body: Bytes) -> Response {
    let req: SaveRequest = match model::parse(&body, "request body") {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let dashboard = match model::check_dashboard(req.dashboard, "request body") {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let folder = req.folder_uid.unwrap_or_default();
    let store = api.store.clone();
    match blocking(move || store.save(dashboard, &folder, req.overwrite)).await {
        Ok(s) => Json(json!({
            "id": s.id,
            "uid": s.uid,
            "url": format!("{}/d/{}/{}", api.prefix, s.uid, s.slug),
            "status": "success",
            "version": s.version,
            "slug": s.slug,
            "folderUid": s.folder_uid,
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// The body of `POST /api/dashboards/import`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImportRequest {
    dashboard: Value,
    #[serde(default)]
    overwrite: bool,
    #[serde(default)]
    inputs: Vec<ImportInput>,
    #[serde(default)]
    folder_uid: Option<String>,
}

/// One answer to a dashboard's `__inputs`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportInput {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) value: Value,
}

async fn import(State(api): State<Api>, body: Bytes) -> Response {
    let req: ImportRequest = match model::parse(&body, "request body") {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut dashboard = match model::check_dashboard(req.dashboard, "request body") {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = resolve_inputs(&mut dashboard, &req.inputs) {
        return e.into_response();
    }
    // An id is the exporting server's: it must not name one of ours.
    dashboard.remove("id");
    let folder = req.folder_uid.unwrap_or_default();
    let store = api.store.clone();
    match blocking(move || store.save(dashboard, &folder, req.overwrite)).await {
        Ok(s) => Json(json!({
            "uid": s.uid,
            "pluginId": "",
            "title": s.title,
            "imported": true,
            "importedUri": format!("db/{}", s.slug),
            "importedUrl": format!("{}/d/{}/{}", api.prefix, s.uid, s.slug),
            "slug": s.slug,
            "dashboardId": s.id,
            "folderUid": s.folder_uid,
            "importedRevision": 0,
            "revision": 0,
            "description": "",
            "path": "",
            "removed": false,
            "version": s.version,
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Replaces `${NAME}` in every string of the dashboard by the value the
/// import's `inputs` give each of its `__inputs`; a data source input
/// without an answer is Sightline's own data source of its type
/// (Prometheus or Loki), a constant without
/// one keeps its default. Then `__inputs` goes: nothing is left to ask.
pub(crate) fn resolve_inputs(d: &mut Map<String, Value>, inputs: &[ImportInput]) -> Result<()> {
    let declared = d
        .get("__inputs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut subst: Vec<(String, String)> = Vec::new();
    for (i, inp) in declared.iter().enumerate() {
        let name = inp
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::BadRequest(format!("dashboard.__inputs[{i}].name: missing")))?;
        let given = inputs
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| match &x.value {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        let value = match (inp.get("type").and_then(Value::as_str), given) {
            (_, Some(v)) => v,
            (Some("datasource"), None) => {
                let plugin = inp.get("pluginId").and_then(Value::as_str).unwrap_or("");
                match plugin {
                    "prometheus" => DATASOURCE_UID.to_owned(),
                    "loki" => LOGS_DATASOURCE_UID.to_owned(),
                    _ => {
                        return Err(Error::BadRequest(format!(
                            "inputs: no value for the {plugin:?} data source input {name:?} \
                             (Sightline serves a Prometheus data source, uid {DATASOURCE_UID:?}, \
                             and a Loki one, uid {LOGS_DATASOURCE_UID:?})"
                        )))
                    }
                }
            }
            (_, None) => match inp.get("value") {
                Some(Value::String(s)) => s.clone(),
                _ => {
                    return Err(Error::BadRequest(format!(
                        "inputs: dashboard input missing: {name:?}"
                    )))
                }
            },
        };
        subst.push((format!("${{{name}}}"), value));
    }
    d.remove("__inputs");
    for v in d.values_mut() {
        replace_strings(v, &subst);
    }
    Ok(())
}

fn replace_strings(v: &mut Value, subst: &[(String, String)]) {
    match v {
        Value::String(s) => {
            for (from, to) in subst {
                if s.contains(from.as_str()) {
                    *s = s.replace(from.as_str(), to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, subst)),
        Value::Object(m) => m.values_mut().for_each(|x| replace_strings(x, subst)),
        _ => {}
    }
}

/// Sightline's own: the provisioned files that did not load at the last
/// start or reload (Grafana only logs them), so the UI can show why a
/// dashboard is missing.
async fn provisioning(State(api): State<Api>) -> Response {
    Json(json!({"errors": api.store.provisioning_errors()})).into_response()
}

async fn list_folders(State(api): State<Api>) -> Response {
    let out: Vec<Value> = api
        .store
        .folders()
        .iter()
        .map(|(id, f)| api.folder_json(*id, f))
        .collect();
    Json(out).into_response()
}

async fn get_folder(State(api): State<Api>, Path(uid): Path<String>) -> Response {
    match api.store.folder(&uid) {
        Some((id, f)) => Json(api.folder_json(id, &f)).into_response(),
        None => Error::FolderNotFound(uid).into_response(),
    }
}

/// `PUT /api/folders/{uid}` `{"title": ...}` (Grafana's `version` and
/// `overwrite` are accepted: there is no folder history to conflict with).
async fn rename_folder(State(api): State<Api>, Path(uid): Path<String>, body: Bytes) -> Response {
    let req: FolderRequest = match model::parse(&body, "request body") {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let store = api.store.clone();
    match blocking(move || store.rename_folder(&uid, &req.title)).await {
        Ok((id, f)) => Json(api.folder_json(id, &f)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/dashboards/tags`: `[{"term": "prod", "count": 2}]`, as
/// Grafana's tag filter reads it.
async fn tags(State(api): State<Api>) -> Response {
    let out: Vec<Value> = api
        .store
        .tags()
        .into_iter()
        .map(|(term, count)| json!({"term": term, "count": count}))
        .collect();
    Json(out).into_response()
}

async fn delete_folder(State(api): State<Api>, Path(uid): Path<String>) -> Response {
    let store = api.store.clone();
    match blocking(move || store.delete_folder(&uid)).await {
        Ok((id, f, n)) => Json(json!({
            "id": id,
            "uid": f.uid,
            "title": f.title,
            "message": format!("Folder {} deleted", f.title),
            "deletedDashboards": n,
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct FolderRequest {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    title: String,
    /// Grafana's folder version and overwrite flag (PUT): accepted, unused.
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<i64>,
    #[serde(default)]
    #[allow(dead_code)]
    overwrite: Option<bool>,
    /// Grafana's nested folders: not supported, refused when set.
    #[serde(default, rename = "parentUid")]
    parent_uid: Option<String>,
}

async fn create_folder(State(api): State<Api>, body: Bytes) -> Response {
    let req: FolderRequest = match model::parse(&body, "request body") {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if req.parent_uid.as_deref().is_some_and(|p| !p.is_empty()) {
        return Error::BadRequest("parentUid: nested folders are not supported".into())
            .into_response();
    }
    let store = api.store.clone();
    match blocking(move || store.create_folder(req.uid.as_deref(), &req.title)).await {
        Ok((id, f)) => {
            let mut v = api.folder_json(id, &f);
            if let Some(m) = v.as_object_mut() {
                for (k, x) in [
                    ("hasAcl", json!(false)),
                    ("canSave", json!(true)),
                    ("canEdit", json!(true)),
                    ("canAdmin", json!(false)),
                    ("version", json!(1)),
                ] {
                    m.insert(k.into(), x);
                }
            }
            Json(v).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Grafana's dashboard links (`/d/<uid>/<slug>`) open the UI's page.
async fn open_link(State(api): State<Api>, Path(uid): Path<String>) -> Response {
    redirect(&api, &uid)
}

async fn open_link_slug(
    State(api): State<Api>,
    Path((uid, _slug)): Path<(String, String)>,
) -> Response {
    redirect(&api, &uid)
}

fn redirect(api: &Api, uid: &str) -> Response {
    if model::check_uid(uid, "uid").is_err() {
        return (StatusCode::NOT_FOUND, "no such dashboard\n").into_response();
    }
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{}/#/dashboards/{uid}", api.prefix),
        )],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_as_rfc3339() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        // date -u -d @1700000000 → Tue Nov 14 22:13:20 UTC 2023
        assert_eq!(unix_rfc3339(t), "2023-11-14T22:13:20Z");
        assert_eq!(unix_rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn inputs_resolve_to_the_given_or_our_data_source() {
        let mut d = json!({
            "title": "t",
            "__inputs": [
                {"name": "DS_PROMETHEUS", "type": "datasource", "pluginId": "prometheus"},
                {"name": "VAR_JOB", "type": "constant", "value": "node"}
            ],
            "panels": [{"datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
                        "targets": [{"expr": "up{job=\"${VAR_JOB}\"}"}]}]
        })
        .as_object()
        .cloned()
        .unwrap();
        let mut d2 = d.clone();
        resolve_inputs(&mut d, &[]).unwrap();
        assert_eq!(d["panels"][0]["datasource"]["uid"], "sightline");
        assert_eq!(d["panels"][0]["targets"][0]["expr"], "up{job=\"node\"}");
        assert!(!d.contains_key("__inputs"));
        let given = [ImportInput {
            name: "DS_PROMETHEUS".into(),
            value: json!("other"),
        }];
        resolve_inputs(&mut d2, &given).unwrap();
        assert_eq!(d2["panels"][0]["datasource"]["uid"], "other");
    }

    #[test]
    fn a_loki_input_resolves_to_our_logs_data_source() {
        // Issue 15: Grafana's Loki dashboards import with their
        // `DS_LOKI` input answered by Sightline's Loki API.
        let mut d = json!({"title": "t",
            "__inputs": [{"name": "DS_LOKI", "type": "datasource", "pluginId": "loki"}],
            "panels": [{"type": "logs", "datasource": {"type": "loki", "uid": "${DS_LOKI}"}}]})
        .as_object()
        .cloned()
        .unwrap();
        resolve_inputs(&mut d, &[]).unwrap();
        assert_eq!(d["panels"][0]["datasource"]["uid"], "sightline-logs");
    }

    #[test]
    fn a_foreign_data_source_input_needs_an_answer() {
        let mut d = json!({"title": "t", "__inputs": [
            {"name": "DS_ES", "type": "datasource", "pluginId": "elasticsearch"}]})
        .as_object()
        .cloned()
        .unwrap();
        let e = resolve_inputs(&mut d, &[]).unwrap_err().to_string();
        assert!(e.contains("DS_ES") && e.contains("elasticsearch"), "{e}");
    }
}
