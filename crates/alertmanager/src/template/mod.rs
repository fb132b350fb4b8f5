//! Notification templates: Go text/template (the `gotmpl` crate) with
//! Alertmanager's data (`.Receiver`, `.Status`, `.Alerts`, `.GroupLabels`,
//! `.CommonLabels`, `.CommonAnnotations`, `.ExternalURL`) and functions.
