//! SLOs in the server: `sightline slo generate|report`, the `slos:` specs
//! of the config (their generated rule groups run with the rule files),
//! and `/api/v1/slos` over the running store.

use crate::cli::SloCommand;
use anyhow::Context;
use sightline_core::Labels;
use sightline_slo::{LoadOptions, Slo, SloQuerier};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The name the generated rule groups carry in `/api/v1/rules` (their "file").
pub const GENERATED_FILE: &str = "<slos>";

/// Runs `sightline slo ...`.
pub fn run(cmd: SloCommand) -> anyhow::Result<()> {
    match cmd {
        SloCommand::Generate { files } => {
            let slos = load_files(&files)?;
            print!("{}", sightline_slo::generate_rule_file(&slos));
            Ok(())
        }
        SloCommand::Report { url, json, files } => {
            let slos = load_files(&files)?;
            let q = HttpQuerier::new(&url)?;
            let statuses =
                sightline_slo::report(&slos, &q, now_ms()).map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&statuses)?);
            } else {
                print!("{}", sightline_slo::render_table(&statuses));
            }
            Ok(())
        }
    }
}

fn load_files(files: &[PathBuf]) -> anyhow::Result<Vec<Slo>> {
    let mut out = Vec::new();
    for f in files {
        out.extend(sightline_slo::load_specs(f).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    Ok(out)
}

use sightline_core::time::now_ms;

/// Loads the config's `slos:` globs (relative to `base`) into SLOs and
/// the rule file their groups form. Empty globs give no file.
pub fn load_config_slos(
    globs: &[String],
    base: &Path,
) -> anyhow::Result<(Vec<Slo>, Option<sightline_rules::RuleFile>)> {
    if globs.is_empty() {
        return Ok((Vec::new(), None));
    }
    let slos = sightline_slo::load_spec_globs(globs, base, &LoadOptions::default())
        .map_err(|e| anyhow::anyhow!("loading SLO specs: {e}"))?;
    let file = sightline_slo::rule_file(&slos, GENERATED_FILE)
        .map_err(|e| anyhow::anyhow!("generating SLO rules: {e}"))?;
    Ok((slos, Some(file)))
}

/// Instant queries through a server's `/api/v1/query`.
struct HttpQuerier {
    base: String,
    client: reqwest::blocking::Client,
}

impl HttpQuerier {
    fn new(url: &str) -> anyhow::Result<Self> {
        sightline_config::tls::install_default_provider();
        Ok(HttpQuerier {
            base: url.trim_end_matches('/').to_owned(),
            client: reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .context("building the HTTP client")?,
        })
    }
}

impl SloQuerier for HttpQuerier {
    fn instant(&self, expr: &str, ts_ms: i64) -> sightline_slo::Result<Vec<(Labels, f64)>> {
        let err = |message: String| sightline_slo::Error::Query {
            expr: expr.to_owned(),
            message,
        };
        let time = format!("{}.{:03}", ts_ms.div_euclid(1000), ts_ms.rem_euclid(1000));
        let body: serde_json::Value = self
            .client
            .post(format!("{}/api/v1/query", self.base))
            .form(&[("query", expr), ("time", time.as_str())])
            .send()
            .and_then(|r| r.json())
            .map_err(|e| err(e.to_string()))?;
        if body["status"] != "success" {
            return Err(err(body["error"]
                .as_str()
                .unwrap_or("query failed")
                .to_owned()));
        }
        let data = &body["data"];
        let num = |v: &serde_json::Value| {
            v.as_str()
                .and_then(|s| match s {
                    "NaN" => Some(f64::NAN),
                    "+Inf" => Some(f64::INFINITY),
                    "-Inf" => Some(f64::NEG_INFINITY),
                    _ => s.parse().ok(),
                })
                .unwrap_or(f64::NAN)
        };
        Ok(match data["resultType"].as_str() {
            Some("vector") => data["result"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let labels = s["metric"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()));
                    (Labels::from_pairs(labels), num(&s["value"][1]))
                })
                .collect(),
            Some("scalar") => vec![(Labels::empty(), num(&data["result"][1]))],
            _ => Vec::new(),
        })
    }
}

/// Instant queries against our own store, for `/api/v1/slos`.
pub struct StoreQuerier {
    pub engine: sightline_promql::Engine,
    pub querier: Arc<dyn sightline_core::MetricQuerier>,
}

impl SloQuerier for StoreQuerier {
    fn instant(&self, expr: &str, ts_ms: i64) -> sightline_slo::Result<Vec<(Labels, f64)>> {
        let r = self
            .engine
            .instant_query(self.querier.as_ref(), expr, ts_ms)
            .map_err(|e| sightline_slo::Error::Query {
                expr: expr.into(),
                message: e.to_string(),
            })?;
        Ok(match r.value {
            sightline_promql::Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
            sightline_promql::Value::Scalar(_, v) => vec![(Labels::empty(), v)],
            _ => Vec::new(),
        })
    }
}

/// The SLOs in force, swapped on reload, and what `/api/v1/slos` reads.
pub struct SloState {
    pub slos: Mutex<Vec<Slo>>,
    pub querier: StoreQuerier,
}

impl sightline_api::native::SloSource for SloState {
    fn slos(&self) -> Result<serde_json::Value, String> {
        let slos = self.slos.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let statuses =
            sightline_slo::report(&slos, &self.querier, now_ms()).map_err(|e| e.to_string())?;
        serde_json::to_value(statuses).map_err(|e| e.to_string())
    }
}
