//! Tests of the Kubernetes discovery against a fake API server.
