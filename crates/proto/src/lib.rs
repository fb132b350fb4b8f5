//! Wire types only: Prometheus remote_write messages as hand-written
//! `prost::Message` structs (the published crates pin old prost versions).
