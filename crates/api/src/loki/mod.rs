//! Loki's HTTP API. [`push`]: the push endpoints (`/loki/api/v1/push`,
//! `/api/prom/push`) with their own router ([`push::push_routes`]).

pub mod push;
