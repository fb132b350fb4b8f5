//! Fuzz targets for every parser, decoder and on-disk reader of Sightline
//! (issue 18, part 4).
//!
//! Each target is a plain `fn(&[u8])` in one of four modules: [`text`]
//! (exposition text, OpenMetrics, PromQL, LogQL, TraceQL), [`wire`]
//! (remote_write, Loki push, OTLP, Zipkin, Jaeger), [`config`] (the YAML
//! files users bring) and [`stores`] (WAL segments, chunks, blocks,
//! silences and nflog files, written into a temp dir and opened as the
//! store opens them at startup). A target panics when a property breaks:
//! besides "no panic", text formats check parse → format → parse where we
//! have a formatter, and decoders check what a decoded value promises.
//!
//! [`TARGETS`] names them all. `tests/targets.rs` holds one bolero test per
//! target: under `cargo test` it replays `fuzz/corpus/<target>/` and
//! `fuzz/crashes/<target>/` (every crash ever found stays a regression
//! test) and then a few hundred generated inputs; under
//! `cargo bolero test --engine afl` the same test is driven by AFL++
//! (`bench/fuzz.sh`, `docs/fuzzing.md`).

pub mod config;
pub mod seeds;
pub mod stores;
pub mod text;
pub mod wire;

use std::path::{Path, PathBuf};

// Links bolero (and under AFL its coverage runtime) into every binary of
// this crate, see Cargo.toml.
use bolero as _;

/// A fuzz target: takes any bytes, panics only when a property breaks.
pub type Target = fn(&[u8]);

/// Every target by name (the name is the test's and the corpus folder's).
pub const TARGETS: &[(&str, Target)] = &[
    ("exposition_text", text::exposition_text),
    ("exposition_openmetrics", text::exposition_openmetrics),
    ("exposition_protobuf", text::exposition_protobuf),
    ("promql", text::promql),
    ("logql", text::logql),
    ("traceql", text::traceql),
    ("am_matchers", text::am_matchers),
    ("remote_write", wire::remote_write),
    ("loki_push", wire::loki_push),
    ("otlp_metrics", wire::otlp_metrics),
    ("otlp_logs", wire::otlp_logs),
    ("otlp_traces", wire::otlp_traces),
    ("zipkin", wire::zipkin),
    ("jaeger", wire::jaeger),
    ("config_prometheus", config::prometheus),
    ("config_alertmanager", config::alertmanager),
    ("config_rules", config::rules),
    ("config_slo", config::slo),
    ("config_promtail", config::promtail),
    ("config_blackbox", config::blackbox),
    ("config_probes", config::probes),
    ("tsdb_wal", stores::tsdb_wal),
    ("tsdb_head_chunks", stores::tsdb_head_chunks),
    ("tsdb_block_index", stores::tsdb_block_index),
    ("tsdb_block_chunks", stores::tsdb_block_chunks),
    ("logstore_wal", stores::logstore_wal),
    ("logstore_block", stores::logstore_block),
    ("logstore_block_index", stores::logstore_block_index),
    ("tracestore_wal", stores::tracestore_wal),
    ("tracestore_block", stores::tracestore_block),
    ("tracestore_block_index", stores::tracestore_block_index),
    ("am_silences", stores::am_silences),
    ("am_nflog", stores::am_nflog),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// `fuzz/` (this crate's folder): corpora live under `corpus/<target>/`,
/// crash inputs under `crashes/<target>/`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The committed inputs of `name`: its corpus, then its crash files, sorted
/// by path so a replay is the same every time.
pub fn committed_inputs(name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for kind in ["corpus", "crashes"] {
        let dir = root().join(kind).join(name);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

/// Text input of a target that takes text: invalid UTF-8 is not a text
/// input (the HTTP layers refuse it first), so such bytes are skipped.
pub(crate) fn utf8(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Splits a selector byte off the front (0 for an empty input).
pub(crate) fn selector(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    }
}
