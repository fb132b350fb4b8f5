//! Jaeger's HTTP API. For now the collector's span intake, [`ingest`]
//! (`POST /api/traces`); the query API comes with the trace store.

pub mod ingest;
