//! Upgrades dashboards of older Grafana schema versions to the current
//! model when they are loaded, saved or imported, so the UI only deals
//! with one model. The rules follow what Grafana's own migration does for
//! the same input (`DashboardMigrator`, the graph and singlestat panels'
//! migration handlers); Grafana's code is read, not copied.
//!
//! Applied in order:
//! 1. rows (schema < 16) become flat `panels` on the 24-column grid, with
//!    `type: "row"` panels when rows had titles, repeats or collapsed;
//! 2. data sources given by name become references `{type, uid}`;
//! 3. panel types: `graph` → `timeseries`, `singlestat` /
//!    `grafana-singlestat-panel` → `stat` or `gauge`, `table-old` (and the
//!    pre-7 `table` with `styles`) → `table`, `grafana-piechart-panel` →
//!    `piechart`, text panels' top-level `content`/`mode` → `options`;
//! 4. every panel gets an `id` and a `gridPos`.
//!
//! The result says `schemaVersion: 39` when it was older.

mod panels;

use crate::dashboards::model::{DATASOURCE_UID, LOGS_DATASOURCE_UID};
use serde_json::{json, Map, Value};

/// The schema version migrated dashboards are given.
pub const SCHEMA_VERSION: i64 = 39;

/// Grafana's grid: 24 columns, rows of 30 px plus a 10 px margin.
const GRID_COLUMNS: i64 = 24;
const GRID_CELL_PX: f64 = 40.0;
const DEFAULT_ROW_PX: f64 = 250.0;
const MIN_PANEL_PX: f64 = 90.0;
const DEFAULT_SPAN: f64 = 4.0;

/// Panel types the UI knows (Grafana's core panels of the current model).
pub const KNOWN_TYPES: &[&str] = &[
    "row",
    "timeseries",
    "stat",
    "gauge",
    "bargauge",
    "table",
    "text",
    "heatmap",
    "logs",
    "traces",
    "piechart",
    "barchart",
    "state-timeline",
    "status-history",
    "histogram",
    "news",
    "dashlist",
    "alertlist",
    "annolist",
    "nodeGraph",
    "geomap",
    "canvas",
    "xychart",
    "trend",
    "candlestick",
    "flamegraph",
    "datagrid",
    "welcome",
];

/// Upgrades `d` in place; a current dashboard only gets missing panel ids
/// and grid positions filled in.
pub fn migrate(d: &mut Map<String, Value>) {
    let version = d.get("schemaVersion").and_then(Value::as_i64).unwrap_or(0);
    if d.get("rows").is_some_and(Value::is_array) {
        rows_to_panels(d);
    }
    datasources(d);
    let mut next_id = max_panel_id(d.get("panels")) + 1;
    if let Some(Value::Array(ps)) = d.get_mut("panels") {
        for p in ps.iter_mut() {
            upgrade_panel(p, version, &mut next_id);
        }
        fill_grid_positions(ps);
    }
    if version < SCHEMA_VERSION {
        d.insert("schemaVersion".into(), SCHEMA_VERSION.into());
    }
}

fn upgrade_panel(p: &mut Value, version: i64, next_id: &mut i64) {
    let Some(m) = p.as_object_mut() else {
        return;
    };
    if !m.get("id").is_some_and(Value::is_number) {
        m.insert("id".into(), (*next_id).into());
        *next_id += 1;
    }
    panels::upgrade(m, version);
    if let Some(Value::Array(inner)) = m.get_mut("panels") {
        for c in inner.iter_mut() {
            upgrade_panel(c, version, next_id);
        }
    }
}

fn max_panel_id(ps: Option<&Value>) -> i64 {
    let mut max = 0;
    for p in ps.and_then(Value::as_array).into_iter().flatten() {
        max = max
            .max(p.get("id").and_then(Value::as_i64).unwrap_or(0))
            .max(max_panel_id(p.get("panels")));
    }
    max
}

/// A height as Grafana's rows and panels wrote it (`250`, `"250px"`) in
/// grid units.
fn grid_height(v: Option<&Value>, default_px: f64) -> i64 {
    let px = match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(default_px),
        Some(Value::String(s)) => s
            .trim()
            .trim_end_matches("px")
            .parse()
            .unwrap_or(default_px),
        _ => default_px,
    };
    (px.max(MIN_PANEL_PX) / GRID_CELL_PX).ceil() as i64
}

/// Schema < 16: `rows: [{title, height, collapse, showTitle, repeat,
/// panels: [{span}]}]` to flat panels. Panels fill a row left to right by
/// their span (12 columns then, 24 now) and wrap; a row panel is added for
/// every row when any row had a visible title, a repeat or was collapsed,
/// and a collapsed row holds its panels.
fn rows_to_panels(d: &mut Map<String, Value>) {
    let Some(Value::Array(rows)) = d.remove("rows") else {
        return;
    };
    let mut out: Vec<Value> = match d.remove("panels") {
        Some(Value::Array(p)) => p,
        _ => Vec::new(),
    };
    let flag = |r: &Value, k: &str| {
        r.get(k)
            .is_some_and(|v| v.as_bool().unwrap_or(!v.is_null()))
    };
    let show_rows = rows
        .iter()
        .any(|r| flag(r, "collapse") || flag(r, "showTitle") || flag(r, "repeat"));
    let mut next_id = rows
        .iter()
        .map(|r| max_panel_id(r.get("panels")))
        .max()
        .unwrap_or(0)
        .max(max_panel_id(Some(&Value::Array(out.clone()))))
        + 1;
    let mut y: i64 = 0;
    for row in rows {
        let row_h = grid_height(row.get("height"), DEFAULT_ROW_PX);
        let collapsed = flag(&row, "collapse");
        let mut row_panel = None;
        if show_rows {
            let mut rp = json!({
                "type": "row",
                "id": next_id,
                "title": row.get("title").cloned().unwrap_or(Value::String(String::new())),
                "collapsed": collapsed,
                "gridPos": {"x": 0, "y": y, "w": GRID_COLUMNS, "h": 1},
                "panels": [],
            });
            next_id += 1;
            if let Some(r) = row.get("repeat").filter(|r| !r.is_null()) {
                rp["repeat"] = r.clone();
            }
            y += 1;
            row_panel = Some(rp);
        }
        // Panels are placed from the row's top; a collapsed row's panels
        // keep those places for when it opens, but take no room now.
        let (mut x, mut py, mut line_h) = (0i64, y, 0i64);
        let mut placed = Vec::new();
        for p in row
            .get("panels")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Value::Object(mut m) = p else { continue };
            let span = m
                .remove("span")
                .and_then(|s| s.as_f64())
                .unwrap_or(DEFAULT_SPAN);
            let w = ((span.floor() as i64) * 2).clamp(1, GRID_COLUMNS);
            let h = match m.remove("height") {
                Some(v) => grid_height(Some(&v), DEFAULT_ROW_PX),
                None => row_h,
            };
            if x + w > GRID_COLUMNS {
                x = 0;
                py += line_h;
                line_h = 0;
            }
            m.insert("gridPos".into(), json!({"x": x, "y": py, "w": w, "h": h}));
            x += w;
            line_h = line_h.max(h);
            placed.push(Value::Object(m));
        }
        match row_panel {
            Some(mut rp) if collapsed => {
                rp["panels"] = Value::Array(placed);
                out.push(rp);
            }
            Some(rp) => {
                out.push(rp);
                out.extend(placed);
                y = py + line_h;
            }
            None => {
                out.extend(placed);
                y = py + line_h;
            }
        }
    }
    d.insert("panels".into(), Value::Array(out));
}

/// Panels written without a `gridPos` (hand-made JSON) are stacked below
/// the others, half the width each.
fn fill_grid_positions(ps: &mut [Value]) {
    let mut bottom = ps
        .iter()
        .filter_map(|p| p.get("gridPos"))
        .map(|g| {
            g.get("y").and_then(Value::as_i64).unwrap_or(0)
                + g.get("h").and_then(Value::as_i64).unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let mut x = 0;
    for p in ps.iter_mut() {
        let Some(m) = p.as_object_mut() else { continue };
        if let Some(Value::Array(inner)) = m.get_mut("panels") {
            fill_grid_positions(inner);
        }
        if m.get("gridPos").is_some_and(Value::is_object) {
            continue;
        }
        let row = m.get("type").and_then(Value::as_str) == Some("row");
        let (w, h) = if row { (GRID_COLUMNS, 1) } else { (12, 8) };
        if x + w > GRID_COLUMNS {
            x = 0;
            bottom += 8;
        }
        m.insert(
            "gridPos".into(),
            json!({"x": x, "y": bottom, "w": w, "h": h}),
        );
        x += w;
        if row {
            x = 0;
            bottom += 1;
        }
    }
}

/// A data source named by a string (schema < 33) as a reference. Null
/// stays null (the default data source).
pub fn datasource_ref(name: &str) -> Value {
    match name {
        "-- Grafana --" | "grafana" => json!({"type": "datasource", "uid": "grafana"}),
        "-- Mixed --" => json!({"type": "datasource", "uid": "-- Mixed --"}),
        "-- Dashboard --" => json!({"type": "datasource", "uid": "-- Dashboard --"}),
        // A variable (`$ds`, `${DS_PROMETHEUS}`) is resolved when used.
        s if s.starts_with('$') => json!({"type": "prometheus", "uid": s}),
        // A Loki data source of the Grafana it came from (named, as
        // people name them, with the word): Sightline's Loki API.
        s if s.to_ascii_lowercase().contains("loki") => {
            json!({"type": "loki", "uid": LOGS_DATASOURCE_UID})
        }
        // Any other name was a Prometheus data source of the Grafana it
        // came from; Sightline serves one.
        _ => json!({"type": "prometheus", "uid": DATASOURCE_UID}),
    }
}

fn fix_datasource(m: &mut Map<String, Value>) {
    if let Some(Value::String(s)) = m.get("datasource") {
        let r = datasource_ref(s);
        m.insert("datasource".into(), r);
    }
}

fn datasources(d: &mut Map<String, Value>) {
    fn panels(ps: &mut Value) {
        for p in ps.as_array_mut().into_iter().flatten() {
            let Some(m) = p.as_object_mut() else { continue };
            fix_datasource(m);
            for t in m
                .get_mut("targets")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(t) = t.as_object_mut() {
                    fix_datasource(t);
                }
            }
            if let Some(inner) = m.get_mut("panels") {
                panels(inner);
            }
        }
    }
    if let Some(ps) = d.get_mut("panels") {
        panels(ps);
    }
    for key in ["templating", "annotations"] {
        let list = d
            .get_mut(key)
            .and_then(|t| t.get_mut("list"))
            .and_then(Value::as_array_mut);
        for item in list.into_iter().flatten() {
            if let Some(m) = item.as_object_mut() {
                fix_datasource(m);
            }
        }
    }
}

#[cfg(test)]
mod tests;
