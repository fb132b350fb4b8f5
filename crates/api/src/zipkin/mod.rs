//! Zipkin's HTTP API. For now the span intake, [`ingest`]
//! (`POST /api/v2/spans`); the read API comes with the trace store.

pub mod ingest;
