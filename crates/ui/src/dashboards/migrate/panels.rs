//! Old panel types to their current replacements.

use serde_json::{json, Map, Value};

/// Upgrades one panel's type and options in place.
pub(super) fn upgrade(m: &mut Map<String, Value>, version: i64) {
    let ty = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    match ty.as_str() {
        "graph" => graph(m),
        "singlestat" | "grafana-singlestat-panel" => singlestat(m),
        "table-old" => table_old(m),
        // Before Grafana 7 (schema 24) `table` was what is now `table-old`.
        "table" if version < 24 && m.contains_key("styles") => table_old(m),
        "grafana-piechart-panel" => {
            m.insert("type".into(), "piechart".into());
        }
        "text" => {
            for k in ["content", "mode"] {
                if let Some(v) = m.remove(k) {
                    options(m).insert(k.into(), v);
                }
            }
        }
        _ => {}
    }
}

fn obj<'a>(m: &'a mut Map<String, Value>, k: &str) -> &'a mut Map<String, Value> {
    if !m.get(k).is_some_and(Value::is_object) {
        m.insert(k.into(), Value::Object(Map::new()));
    }
    match m.get_mut(k) {
        Some(Value::Object(o)) => o,
        _ => unreachable!("inserted above"),
    }
}

fn options(m: &mut Map<String, Value>) -> &mut Map<String, Value> {
    obj(m, "options")
}

fn defaults(m: &mut Map<String, Value>) -> &mut Map<String, Value> {
    obj(obj(m, "fieldConfig"), "defaults")
}

fn overrides(m: &mut Map<String, Value>) -> &mut Vec<Value> {
    let fc = obj(m, "fieldConfig");
    if !fc.get("overrides").is_some_and(Value::is_array) {
        fc.insert("overrides".into(), Value::Array(Vec::new()));
    }
    match fc.get_mut("overrides") {
        Some(Value::Array(a)) => a,
        _ => unreachable!("inserted above"),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool).unwrap_or(false)
}

/// Grafana's series matcher for an alias: `/re/` is a regexp.
fn matcher(alias: &str) -> Value {
    if alias.len() > 1 && alias.starts_with('/') && alias.ends_with('/') {
        json!({"id": "byRegexp", "options": alias})
    } else {
        json!({"id": "byName", "options": alias})
    }
}

/// The graph panel's old units that are no unit now.
fn unit(format: &str) -> Option<&str> {
    match format {
        "" | "none" => None,
        "short" => Some("short"),
        f => Some(f),
    }
}

/// `graph` → `timeseries`: y axis unit, min, max, decimals and log scale;
/// draw style, points, fill, line width, stacking, null handling; legend
/// (shown, table or list, right or bottom, min/max/avg/current/total);
/// tooltip; `aliasColors` and `seriesOverrides` as overrides.
fn graph(m: &mut Map<String, Value>) {
    m.insert("type".into(), "timeseries".into());
    let mut custom = Map::new();
    let bars = truthy(m.get("bars"));
    let lines = m.get("lines").and_then(Value::as_bool).unwrap_or(true);
    let points = truthy(m.get("points"));
    let draw = if bars {
        "bars"
    } else if lines {
        "line"
    } else if points {
        "points"
    } else {
        "line"
    };
    custom.insert("drawStyle".into(), draw.into());
    custom.insert(
        "showPoints".into(),
        (if points { "always" } else { "never" }).into(),
    );
    let fill = m.get("fill").and_then(Value::as_f64).unwrap_or(1.0);
    custom.insert("fillOpacity".into(), ((fill * 10.0).round() as i64).into());
    if let Some(w) = m.get("linewidth").and_then(Value::as_i64) {
        custom.insert("lineWidth".into(), w.into());
    }
    if let Some(r) = m.get("pointradius").and_then(Value::as_f64) {
        custom.insert("pointSize".into(), ((r * 2.0 + 1.0) as i64).into());
    }
    if truthy(m.get("stack")) {
        let percent = truthy(m.get("percentage"));
        custom.insert(
            "stacking".into(),
            json!({"mode": if percent { "percent" } else { "normal" }, "group": "A"}),
        );
    }
    match m.get("nullPointMode").and_then(Value::as_str) {
        Some("connected") => {
            custom.insert("spanNulls".into(), true.into());
        }
        Some("null as zero") => {
            custom.insert("insertNulls".into(), false.into());
        }
        _ => {}
    }
    let yaxis = m
        .get("yaxes")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_object)
        .cloned();
    let mut defs = Map::new();
    if let Some(y) = &yaxis {
        if let Some(u) = y.get("format").and_then(Value::as_str).and_then(unit) {
            defs.insert("unit".into(), u.into());
        }
        for k in ["min", "max"] {
            let v = y.get(k).and_then(|v| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
            if let Some(v) = v {
                defs.insert(k.into(), json!(v));
            }
        }
        if let Some(d) = y.get("decimals").filter(|d| d.is_number()) {
            defs.insert("decimals".into(), d.clone());
        }
        if let Some(b) = y.get("logBase").and_then(Value::as_i64).filter(|b| *b > 1) {
            custom.insert("scaleDistribution".into(), json!({"type": "log", "log": b}));
        }
        if let Some(l) = y
            .get("label")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
        {
            custom.insert("axisLabel".into(), l.into());
        }
    }
    let legend = m.get("legend").and_then(Value::as_object).cloned();
    let mut opts = json!({"legend": {"showLegend": true, "displayMode": "list",
        "placement": "bottom", "calcs": []}});
    if let Some(l) = &legend {
        let show = l.get("show").and_then(Value::as_bool).unwrap_or(true);
        let mut calcs = Vec::new();
        if truthy(l.get("values")) {
            for (k, c) in [
                ("min", "min"),
                ("max", "max"),
                ("avg", "mean"),
                ("current", "lastNotNull"),
                ("total", "sum"),
            ] {
                if truthy(l.get(k)) {
                    calcs.push(Value::from(c));
                }
            }
        }
        let table = truthy(l.get("alignAsTable"));
        opts["legend"] = json!({
            "showLegend": show,
            "displayMode": if !show { "hidden" } else if table { "table" } else { "list" },
            "placement": if truthy(l.get("rightSide")) { "right" } else { "bottom" },
            "calcs": calcs,
        });
    }
    let shared = m
        .get("tooltip")
        .and_then(|t| t.get("shared"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    opts["tooltip"] = json!({"mode": if shared { "multi" } else { "single" }, "sort": "none"});
    let mut ovs = Vec::new();
    if let Some(Value::Object(colors)) = m.get("aliasColors") {
        for (alias, c) in colors {
            if let Some(c) = c.as_str() {
                ovs.push(json!({"matcher": matcher(alias), "properties": [
                    {"id": "color", "value": {"mode": "fixed", "fixedColor": c}}]}));
            }
        }
    }
    for so in m
        .get("seriesOverrides")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(alias) = so.get("alias").and_then(Value::as_str) else {
            continue;
        };
        let mut props = Vec::new();
        let mut prop = |id: &str, v: Value| props.push(json!({"id": id, "value": v}));
        if let Some(c) = so.get("color").and_then(Value::as_str) {
            prop("color", json!({"mode": "fixed", "fixedColor": c}));
        }
        if let Some(f) = so.get("fill").and_then(Value::as_f64) {
            prop("custom.fillOpacity", json!((f * 10.0).round() as i64));
        }
        if let Some(w) = so.get("linewidth").and_then(Value::as_i64) {
            prop("custom.lineWidth", json!(w));
        }
        if so.get("yaxis").and_then(Value::as_i64) == Some(2) {
            prop("custom.axisPlacement", json!("right"));
        }
        if so.get("transform").and_then(Value::as_str) == Some("negative-Y") {
            prop("custom.transform", json!("negative-Y"));
        }
        if truthy(so.get("bars")) {
            prop("custom.drawStyle", json!("bars"));
        } else if so.get("lines").and_then(Value::as_bool) == Some(false)
            && truthy(so.get("points"))
        {
            prop("custom.drawStyle", json!("points"));
        }
        if let Some(s) = so.get("stack") {
            if s.as_bool() == Some(false) {
                prop("custom.stacking", json!({"mode": "none", "group": "A"}));
            }
        }
        if truthy(so.get("dashes")) {
            prop(
                "custom.lineStyle",
                json!({"fill": "dash", "dash": [10, 10]}),
            );
        }
        if so.get("legend").and_then(Value::as_bool) == Some(false) {
            prop(
                "custom.hideFrom",
                json!({"legend": true, "tooltip": false, "viz": false}),
            );
        }
        if !props.is_empty() {
            ovs.push(json!({"matcher": matcher(alias), "properties": props}));
        }
    }
    for k in [
        "bars",
        "lines",
        "points",
        "fill",
        "linewidth",
        "pointradius",
        "stack",
        "percentage",
        "nullPointMode",
        "yaxes",
        "xaxis",
        "yaxis",
        "legend",
        "tooltip",
        "aliasColors",
        "seriesOverrides",
        "steppedLine",
        "dashes",
        "dashLength",
        "spaceLength",
        "renderer",
        "thresholds",
        "timeRegions",
        "fillGradient",
        "hiddenSeries",
    ] {
        m.remove(k);
    }
    defaults(m).extend(defs);
    obj(defaults(m), "custom").extend(custom);
    if let Value::Object(o) = opts {
        options(m).extend(o);
    }
    overrides(m).extend(ovs);
}

/// A singlestat `valueName` as a reducer.
fn reducer(value_name: &str) -> &'static str {
    match value_name {
        "avg" => "mean",
        "min" => "min",
        "max" => "max",
        "total" => "sum",
        "first" => "firstNotNull",
        "delta" => "delta",
        "diff" => "diff",
        "range" => "range",
        // current, name, last_time and anything unknown
        _ => "lastNotNull",
    }
}

/// `singlestat` → `stat` (or `gauge` when its gauge was shown): unit,
/// decimals, thresholds "a,b" with their colours as steps, value name as
/// the reducer, colouring mode, sparkline, value maps.
fn singlestat(m: &mut Map<String, Value>) {
    let gauge = m
        .get("gauge")
        .and_then(|g| g.get("show"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    m.insert("type".into(), (if gauge { "gauge" } else { "stat" }).into());
    let mut defs = Map::new();
    if let Some(u) = m.get("format").and_then(Value::as_str).and_then(unit) {
        defs.insert("unit".into(), u.into());
    }
    if let Some(d) = m.get("decimals").filter(|d| d.is_number()) {
        defs.insert("decimals".into(), d.clone());
    }
    let colors: Vec<String> = m
        .get("colors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let color = |i: usize, fallback: &str| {
        colors
            .get(i)
            .cloned()
            .unwrap_or_else(|| fallback.to_owned())
    };
    let mut steps = vec![json!({"color": color(0, "green"), "value": null})];
    let limits: Vec<f64> = match m.get("thresholds") {
        Some(Value::String(s)) => s
            .split(',')
            .filter_map(|x| x.trim().parse::<f64>().ok())
            .collect(),
        _ => Vec::new(),
    };
    for (i, v) in limits.iter().enumerate() {
        steps.push(json!({"color": color(i + 1, "red"), "value": v}));
    }
    defs.insert(
        "thresholds".into(),
        json!({"mode": "absolute", "steps": steps}),
    );
    if gauge {
        let g = m.get("gauge").cloned().unwrap_or(Value::Null);
        for k in ["minValue", "maxValue"] {
            if let Some(v) = g.get(k).filter(|v| v.is_number()) {
                defs.insert(k.trim_end_matches("Value").into(), v.clone());
            }
        }
    }
    let mut mappings = Vec::new();
    for vm in m
        .get("valueMaps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(v), Some(t)) = (vm.get("value"), vm.get("text")) {
            let key = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Singlestat wrote "no value" as the value "null".
            if key == "null" {
                mappings.push(json!({"type": "special",
                    "options": {"match": "null", "result": {"text": t}}}));
            } else {
                mappings.push(json!({"type": "value", "options": {key: {"text": t}}}));
            }
        }
    }
    if !mappings.is_empty() {
        defs.insert("mappings".into(), Value::Array(mappings));
    }
    let value_name = m
        .get("valueName")
        .and_then(Value::as_str)
        .unwrap_or("avg")
        .to_owned();
    let color_mode = if truthy(m.get("colorBackground")) {
        "background"
    } else if truthy(m.get("colorValue")) {
        "value"
    } else {
        "none"
    };
    let sparkline = m
        .get("sparkline")
        .and_then(|s| s.get("show"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut opts = json!({
        "reduceOptions": {"calcs": [reducer(&value_name)], "fields": "", "values": false},
        "orientation": "auto",
    });
    if gauge {
        opts["showThresholdMarkers"] = json!(truthy(
            m.get("gauge").and_then(|g| g.get("thresholdMarkers"))
        ));
        opts["showThresholdLabels"] = json!(truthy(
            m.get("gauge").and_then(|g| g.get("thresholdLabels"))
        ));
    } else {
        opts["colorMode"] = json!(color_mode);
        opts["graphMode"] = json!(if sparkline { "area" } else { "none" });
        opts["textMode"] = json!(if value_name == "name" { "name" } else { "auto" });
        opts["justifyMode"] = json!("auto");
    }
    for k in [
        "format",
        "decimals",
        "colors",
        "thresholds",
        "gauge",
        "valueMaps",
        "mappingTypes",
        "rangeMaps",
        "mappingType",
        "valueName",
        "colorBackground",
        "colorValue",
        "colorPostfix",
        "colorPrefix",
        "sparkline",
        "prefix",
        "postfix",
        "prefixFontSize",
        "postfixFontSize",
        "valueFontSize",
        "nullText",
        "nullPointMode",
        "tableColumn",
    ] {
        m.remove(k);
    }
    defaults(m).extend(defs);
    if let Value::Object(o) = opts {
        options(m).extend(o);
    }
}

/// `table-old` → `table`: each column style becomes an override (or the
/// defaults, for the catch-all `/.*/`): unit, decimals, alias as display
/// name, hidden columns.
fn table_old(m: &mut Map<String, Value>) {
    m.insert("type".into(), "table".into());
    let styles = m.remove("styles");
    let mut ovs = Vec::new();
    for st in styles
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let pattern = st.get("pattern").and_then(Value::as_str).unwrap_or("");
        let mut props = Vec::new();
        let kind = st.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "hidden" {
            props.push(json!({"id": "custom.hidden", "value": true}));
        }
        if kind == "number" {
            if let Some(u) = st.get("unit").and_then(Value::as_str).and_then(unit) {
                props.push(json!({"id": "unit", "value": u}));
            }
            if let Some(d) = st.get("decimals").filter(|d| d.is_number()) {
                props.push(json!({"id": "decimals", "value": d}));
            }
        }
        if kind == "date" {
            props.push(json!({"id": "unit", "value": "dateTimeAsIso"}));
        }
        if let Some(a) = st
            .get("alias")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
        {
            props.push(json!({"id": "displayName", "value": a}));
        }
        if props.is_empty() {
            continue;
        }
        if pattern == "/.*/" {
            let defs = defaults(m);
            for p in props {
                if let (Some(id), Some(v)) = (p.get("id").and_then(Value::as_str), p.get("value")) {
                    match id.strip_prefix("custom.") {
                        Some(c) => {
                            obj(defs, "custom").insert(c.into(), v.clone());
                        }
                        None => {
                            defs.insert(id.into(), v.clone());
                        }
                    }
                }
            }
        } else {
            ovs.push(json!({"matcher": matcher(pattern), "properties": props}));
        }
    }
    for k in [
        "columns",
        "scroll",
        "fontSize",
        "pageSize",
        "showHeader",
        "sort",
    ] {
        m.remove(k);
    }
    // Old tables turned each series into rows; `transform` named how.
    if let Some(Value::String(t)) = m.remove("transform") {
        if t == "timeseries_aggregations" || t == "timeseries_to_rows" {
            let tr = m
                .entry("transformations")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Some(a) = tr.as_array_mut() {
                let id = if t == "timeseries_aggregations" {
                    "reduce"
                } else {
                    "seriesToRows"
                };
                a.push(json!({"id": id, "options": {}}));
            }
        }
    }
    obj(defaults(m), "custom");
    overrides(m).extend(ovs);
}
