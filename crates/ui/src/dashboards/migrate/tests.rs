//! One test per rule, with hand-written before and after (Grafana's
//! rules: 24 columns, 40 px per grid unit, spans doubled), then every real
//! dashboard of `../shared/peer-tests/grafana-dashboards/`.

use super::*;
use serde_json::json;

fn run(v: Value) -> Map<String, Value> {
    let mut m = v.as_object().cloned().expect("object");
    migrate(&mut m);
    m
}

#[test]
fn rows_become_a_grid_with_row_panels() {
    let d = run(json!({
        "schemaVersion": 14, "title": "t",
        "rows": [
            {"title": "Row A", "height": "250px", "showTitle": true, "collapse": false, "panels": [
                {"id": 1, "type": "text", "span": 6},
                {"id": 2, "type": "text", "span": 6},
                {"id": 3, "type": "text", "span": 12, "height": "100px"}]},
            {"title": "Row B", "height": 300, "collapse": true, "panels": [
                {"id": 4, "type": "text", "span": 4}]}
        ]
    }));
    assert!(!d.contains_key("rows"));
    assert_eq!(d["schemaVersion"], 39);
    let ps = d["panels"].as_array().unwrap();
    let pos: Vec<(Value, Value)> = ps
        .iter()
        .map(|p| (p["id"].clone(), p["gridPos"].clone()))
        .collect();
    // 250 px → ceil(250/40) = 7 units; 100 px → 3; 300 px → 8.
    assert_eq!(
        pos,
        vec![
            (json!(5), json!({"x": 0, "y": 0, "w": 24, "h": 1})),
            (json!(1), json!({"x": 0, "y": 1, "w": 12, "h": 7})),
            (json!(2), json!({"x": 12, "y": 1, "w": 12, "h": 7})),
            (json!(3), json!({"x": 0, "y": 8, "w": 24, "h": 3})),
            (json!(6), json!({"x": 0, "y": 11, "w": 24, "h": 1})),
        ]
    );
    assert_eq!(ps[0]["type"], "row");
    assert_eq!(ps[0]["title"], "Row A");
    assert_eq!(ps[0]["collapsed"], false);
    assert_eq!(ps[4]["collapsed"], true);
    // The collapsed row holds its panel, placed under the row.
    assert_eq!(
        ps[4]["panels"][0]["gridPos"],
        json!({"x": 0, "y": 12, "w": 8, "h": 8})
    );
    assert!(ps.iter().all(|p| p.get("span").is_none()));
}

#[test]
fn rows_without_titles_leave_no_row_panels() {
    let d = run(json!({"title": "t", "rows": [
        {"panels": [{"id": 1, "type": "text"}]},
        {"height": "100px", "panels": [{"id": 2, "type": "text", "span": 12}]}]}));
    let ps = d["panels"].as_array().unwrap();
    assert_eq!(ps.len(), 2);
    // Default span 4 → 8 columns; default row 250 px → 7 units.
    assert_eq!(ps[0]["gridPos"], json!({"x": 0, "y": 0, "w": 8, "h": 7}));
    assert_eq!(ps[1]["gridPos"], json!({"x": 0, "y": 7, "w": 24, "h": 3}));
}

#[test]
fn graph_becomes_timeseries() {
    let d = run(json!({"title": "t", "schemaVersion": 27, "panels": [{
        "type": "graph", "id": 1, "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
        "lines": false, "bars": true, "points": false, "fill": 3, "linewidth": 2,
        "stack": true,
        "yaxes": [{"format": "bytes", "min": "0", "max": null, "logBase": 1}, {"format": "short"}],
        "legend": {"show": true, "values": true, "min": true, "max": true, "avg": true,
                   "current": true, "total": false, "alignAsTable": true, "rightSide": true},
        "aliasColors": {"errors": "#E02F44"},
        "seriesOverrides": [{"alias": "/5xx/", "color": "#FF0000", "yaxis": 2}],
        "targets": [{"expr": "up", "refId": "A"}]
    }]}));
    let p = &d["panels"][0];
    assert_eq!(p["type"], "timeseries");
    let defs = &p["fieldConfig"]["defaults"];
    assert_eq!(defs["unit"], "bytes");
    assert_eq!(defs["min"], json!(0.0));
    assert!(defs.get("max").is_none());
    let c = &defs["custom"];
    assert_eq!(c["drawStyle"], "bars");
    assert_eq!(c["showPoints"], "never");
    assert_eq!(c["fillOpacity"], 30);
    assert_eq!(c["lineWidth"], 2);
    assert_eq!(c["stacking"], json!({"mode": "normal", "group": "A"}));
    assert!(c.get("scaleDistribution").is_none(), "logBase 1 is linear");
    assert_eq!(
        p["options"]["legend"],
        json!({"showLegend": true, "displayMode": "table", "placement": "right",
               "calcs": ["min", "max", "mean", "lastNotNull"]})
    );
    assert_eq!(
        p["fieldConfig"]["overrides"],
        json!([
            {"matcher": {"id": "byName", "options": "errors"},
             "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "#E02F44"}}]},
            {"matcher": {"id": "byRegexp", "options": "/5xx/"},
             "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "#FF0000"}},
                            {"id": "custom.axisPlacement", "value": "right"}]}
        ])
    );
    for gone in [
        "yaxes",
        "legend",
        "aliasColors",
        "seriesOverrides",
        "bars",
        "fill",
    ] {
        assert!(p.get(gone).is_none(), "{gone} left behind");
    }
    assert_eq!(p["targets"][0]["expr"], "up");
}

#[test]
fn graph_points_and_hidden_legend() {
    let d = run(json!({"title": "t", "panels": [{"type": "graph", "id": 1,
        "lines": false, "points": true, "legend": {"show": false},
        "yaxes": [{"format": "short", "logBase": 10}]}]}));
    let p = &d["panels"][0];
    assert_eq!(
        p["fieldConfig"]["defaults"]["custom"]["drawStyle"],
        "points"
    );
    assert_eq!(
        p["fieldConfig"]["defaults"]["custom"]["showPoints"],
        "always"
    );
    assert_eq!(
        p["fieldConfig"]["defaults"]["custom"]["scaleDistribution"],
        json!({"type": "log", "log": 10})
    );
    assert_eq!(p["options"]["legend"]["showLegend"], false);
    assert_eq!(p["options"]["legend"]["displayMode"], "hidden");
}

#[test]
fn singlestat_becomes_stat() {
    let d = run(json!({"title": "t", "panels": [{
        "type": "singlestat", "id": 2, "format": "percent", "decimals": 1,
        "thresholds": "80,90",
        "colors": ["#299c46", "rgba(237, 129, 40, 0.89)", "#d44a3a"],
        "valueName": "current", "colorBackground": true, "sparkline": {"show": true},
        "valueMaps": [{"op": "=", "value": "0", "text": "down"}]
    }]}));
    let p = &d["panels"][0];
    assert_eq!(p["type"], "stat");
    let defs = &p["fieldConfig"]["defaults"];
    assert_eq!(defs["unit"], "percent");
    assert_eq!(defs["decimals"], 1);
    assert_eq!(
        defs["thresholds"],
        json!({"mode": "absolute", "steps": [
            {"color": "#299c46", "value": null},
            {"color": "rgba(237, 129, 40, 0.89)", "value": 80.0},
            {"color": "#d44a3a", "value": 90.0}]})
    );
    assert_eq!(
        defs["mappings"],
        json!([{"type": "value", "options": {"0": {"text": "down"}}}])
    );
    assert_eq!(
        p["options"]["reduceOptions"]["calcs"],
        json!(["lastNotNull"])
    );
    assert_eq!(p["options"]["colorMode"], "background");
    assert_eq!(p["options"]["graphMode"], "area");
    assert!(p.get("thresholds").is_none() && p.get("valueName").is_none());
}

#[test]
fn singlestat_with_gauge_becomes_gauge() {
    let d = run(json!({"title": "t", "panels": [{
        "type": "singlestat", "id": 2, "format": "none", "valueName": "avg",
        "gauge": {"show": true, "minValue": 0, "maxValue": 100, "thresholdMarkers": true}
    }]}));
    let p = &d["panels"][0];
    assert_eq!(p["type"], "gauge");
    let defs = &p["fieldConfig"]["defaults"];
    assert!(defs.get("unit").is_none(), "format none is no unit");
    assert_eq!(defs["min"], 0);
    assert_eq!(defs["max"], 100);
    assert_eq!(p["options"]["reduceOptions"]["calcs"], json!(["mean"]));
    assert_eq!(p["options"]["showThresholdMarkers"], true);
}

#[test]
fn table_old_becomes_table() {
    let d = run(json!({"title": "t", "panels": [{
        "type": "table-old", "id": 3, "transform": "timeseries_to_rows",
        "styles": [
            {"pattern": "Time", "type": "hidden"},
            {"pattern": "Value", "type": "number", "unit": "ms", "decimals": 2, "alias": "Latency"},
            {"pattern": "/.*/", "type": "number", "unit": "short"}]
    }]}));
    let p = &d["panels"][0];
    assert_eq!(p["type"], "table");
    assert_eq!(p["fieldConfig"]["defaults"]["unit"], "short");
    assert_eq!(
        p["fieldConfig"]["overrides"],
        json!([
            {"matcher": {"id": "byName", "options": "Time"},
             "properties": [{"id": "custom.hidden", "value": true}]},
            {"matcher": {"id": "byName", "options": "Value"},
             "properties": [{"id": "unit", "value": "ms"}, {"id": "decimals", "value": 2},
                            {"id": "displayName", "value": "Latency"}]}
        ])
    );
    assert_eq!(
        p["transformations"],
        json!([{"id": "seriesToRows", "options": {}}])
    );
    assert!(p.get("styles").is_none());
}

#[test]
fn datasource_names_become_references() {
    let d = run(json!({"title": "t",
    "annotations": {"list": [{"datasource": "-- Grafana --", "builtIn": 1}]},
    "templating": {"list": [{"name": "job", "type": "query", "datasource": "${DS_PROM}"}]},
    "panels": [
        {"id": 1, "type": "timeseries", "datasource": "-- Mixed --",
         "targets": [{"refId": "A", "datasource": "Prometheus"}]},
        {"id": 2, "type": "timeseries", "datasource": "$ds"},
        {"id": 3, "type": "timeseries", "datasource": null},
        {"id": 4, "type": "timeseries", "datasource": {"type": "prometheus", "uid": "abc"}},
        {"id": 5, "type": "logs", "datasource": "Loki (prod)"}
    ]}));
    // Issue 15: a Loki data source named in an old dashboard is ours.
    assert_eq!(
        d["panels"][4]["datasource"],
        json!({"type": "loki", "uid": "sightline-logs"})
    );
    assert_eq!(
        d["annotations"]["list"][0]["datasource"],
        json!({"type": "datasource", "uid": "grafana"})
    );
    assert_eq!(
        d["templating"]["list"][0]["datasource"],
        json!({"type": "prometheus", "uid": "${DS_PROM}"})
    );
    let ps = &d["panels"];
    assert_eq!(
        ps[0]["datasource"],
        json!({"type": "datasource", "uid": "-- Mixed --"})
    );
    assert_eq!(
        ps[0]["targets"][0]["datasource"],
        json!({"type": "prometheus", "uid": "sightline"})
    );
    assert_eq!(
        ps[1]["datasource"],
        json!({"type": "prometheus", "uid": "$ds"})
    );
    assert_eq!(ps[2]["datasource"], Value::Null);
    assert_eq!(
        ps[3]["datasource"],
        json!({"type": "prometheus", "uid": "abc"})
    );
}

#[test]
fn panels_get_ids_and_grid_positions() {
    let d = run(json!({"title": "t", "schemaVersion": 39, "panels": [
        {"id": 7, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 4}},
        {"type": "text"}, {"type": "text"}, {"type": "text", "content": "hi", "mode": "markdown"}]}));
    let ps = d["panels"].as_array().unwrap();
    assert_eq!(ps[1]["id"], 8);
    assert_eq!(ps[2]["id"], 9);
    assert_eq!(ps[1]["gridPos"], json!({"x": 0, "y": 4, "w": 12, "h": 8}));
    assert_eq!(ps[2]["gridPos"], json!({"x": 12, "y": 4, "w": 12, "h": 8}));
    assert_eq!(ps[3]["gridPos"], json!({"x": 0, "y": 12, "w": 12, "h": 8}));
    assert_eq!(
        ps[3]["options"],
        json!({"content": "hi", "mode": "markdown"})
    );
    assert_eq!(d["schemaVersion"], 39);
}

#[test]
fn a_current_dashboard_is_left_as_it_is() {
    let before = json!({"title": "t", "schemaVersion": 41, "panels": [
        {"id": 1, "type": "timeseries", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 8},
         "datasource": {"type": "prometheus", "uid": "x"}}]});
    let after = run(before.clone());
    assert_eq!(Value::Object(after), before);
}

/// The shape of a Grafana 4 export (schema 14; Node Exporter Full of
/// 2017 looked like this): rows without shown titles, numeric heights,
/// singlestat gauges on a `${DS_...}` data source, "null" value maps.
#[test]
fn a_grafana_4_export_migrates_whole() {
    let d = run(json!({
        "__inputs": [{"name": "DS_LOCALHOST", "type": "datasource", "pluginId": "prometheus"}],
        "schemaVersion": 14, "title": "Node", "annotations": {"list": []},
        "rows": [
            {"collapse": false, "height": 151, "repeat": null, "showTitle": false,
             "title": "Gauges", "panels": [
                {"id": 20, "type": "singlestat", "span": 2, "datasource": "${DS_LOCALHOST}",
                 "format": "percent", "thresholds": "85, 95",
                 "colors": ["green", "orange", "red"], "valueName": "current",
                 "gauge": {"show": true, "minValue": 0, "maxValue": 100},
                 "valueMaps": [{"op": "=", "text": "N/A", "value": "null"}],
                 "targets": [{"expr": "up", "refId": "A", "step": 900}]},
                {"id": 16, "type": "singlestat", "span": 2, "datasource": "${DS_LOCALHOST}",
                 "format": "short", "gauge": {"show": false}, "valueName": "current"}]},
            {"collapse": false, "height": "250px", "title": "Graphs", "panels": [
                {"id": 3, "type": "graph", "span": 12, "datasource": "${DS_LOCALHOST}",
                 "yaxes": [{"format": "bytes"}, {"format": "short"}],
                 "seriesOverrides": [{"alias": "/.*Total/", "color": "#C4162A", "fill": 0}]}]}
        ]
    }));
    let ps = d["panels"].as_array().unwrap();
    // No row showed its title: no row panels.
    assert_eq!(ps.len(), 3);
    // 151 px → ceil(151/40) = 4 units; span 2 → 4 columns.
    assert_eq!(ps[0]["gridPos"], json!({"x": 0, "y": 0, "w": 4, "h": 4}));
    assert_eq!(ps[1]["gridPos"], json!({"x": 4, "y": 0, "w": 4, "h": 4}));
    assert_eq!(ps[2]["gridPos"], json!({"x": 0, "y": 4, "w": 24, "h": 7}));
    assert_eq!(ps[0]["type"], "gauge");
    assert_eq!(ps[1]["type"], "stat");
    assert_eq!(ps[2]["type"], "timeseries");
    assert_eq!(
        ps[0]["datasource"],
        json!({"type": "prometheus", "uid": "${DS_LOCALHOST}"})
    );
    assert_eq!(
        ps[0]["fieldConfig"]["defaults"]["thresholds"]["steps"][2],
        json!({"color": "red", "value": 95.0})
    );
    assert_eq!(
        ps[0]["fieldConfig"]["defaults"]["mappings"],
        json!([{"type": "special", "options": {"match": "null", "result": {"text": "N/A"}}}])
    );
    assert_eq!(ps[0]["targets"][0]["expr"], "up");
    assert_eq!(
        ps[2]["fieldConfig"]["overrides"][0],
        json!({"matcher": {"id": "byRegexp", "options": "/.*Total/"}, "properties": [
            {"id": "color", "value": {"mode": "fixed", "fixedColor": "#C4162A"}},
            {"id": "custom.fillOpacity", "value": 0}]})
    );
    // Migration leaves `__inputs` alone: resolving them is the import's job.
    assert!(d.contains_key("__inputs"));
}

fn peer_dir() -> std::path::PathBuf {
    if let Ok(d) = std::env::var("GRAFANA_DASHBOARDS") {
        return d.into();
    }
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/peer-tests/grafana-dashboards")
}

fn all_panels(ps: &Value, out: &mut Vec<Value>) {
    for p in ps.as_array().into_iter().flatten() {
        out.push(p.clone());
        if let Some(inner) = p.get("panels") {
            all_panels(inner, out);
        }
    }
}

/// Issue 14: every real dashboard migrates, every panel ends with a grid
/// position and a type the UI knows, and no panel is lost.
#[test]
fn issue_14_real_dashboards_migrate() {
    let Some(dir) = sightline_testkit::external_dir(
        &peer_dir(),
        "Grafana dashboards (../shared/peer-tests/grafana-dashboards, or set GRAFANA_DASHBOARDS)",
    ) else {
        return;
    };
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        n += 1;
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut before = Vec::new();
        all_panels(&v["panels"], &mut before);
        let mut old_rows = 0;
        for r in v
            .get("rows")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            old_rows += 1;
            all_panels(&r["panels"], &mut before);
        }
        let d = run(v);
        let mut after = Vec::new();
        all_panels(&d["panels"], &mut after);
        assert!(
            after.len() >= before.len(),
            "{}: panels lost",
            path.display()
        );
        assert!(after.len() <= before.len() + old_rows);
        for p in &after {
            let g = &p["gridPos"];
            for k in ["x", "y", "w", "h"] {
                assert!(
                    g[k].is_i64(),
                    "{}: panel {} gridPos.{k}: {g}",
                    path.display(),
                    p["id"]
                );
            }
            let ty = p["type"].as_str().unwrap_or("");
            assert!(
                KNOWN_TYPES.contains(&ty),
                "{}: panel {} has type {ty:?}",
                path.display(),
                p["id"]
            );
            assert!(p["id"].is_i64());
        }
    }
    assert!(n >= 2, "expected the peer dashboards in {}", dir.display());
}
