//! blackbox's `/probe` handler without the HTTP server: parameters in,
//! status, content type and body out, so the API crate only maps them onto
//! its router (and gets the [`ProbeResult`] to store, if it wants).

use crate::config::Module;
use crate::{effective_timeout, render_debug, render_exposition, run_probe, ProbeResult};
use std::collections::BTreeMap;

/// The exposition content type blackbox answers with.
pub const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
const PLAIN: &str = "text/plain; charset=utf-8";

/// The parameters of one `/probe` request.
#[derive(Debug, Clone, Default)]
pub struct ProbeQuery {
    /// `module=`; blackbox uses `http_2xx` when it is empty or absent.
    pub module: Option<String>,
    /// `target=`.
    pub target: Option<String>,
    /// `debug=true`.
    pub debug: bool,
    /// `hostname=`: for http modules, the `Host` header (and so the TLS
    /// server name) to send, as blackbox 0.23 takes it.
    pub hostname: Option<String>,
    /// The `X-Prometheus-Scrape-Timeout-Seconds` header, as sent.
    pub scrape_timeout_header: Option<String>,
    /// blackbox's `--timeout-offset` (0.5 by default).
    pub timeout_offset: f64,
}

/// What to answer.
#[derive(Debug)]
pub struct ProbeResponse {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
    /// The probe's result when one ran.
    pub result: Option<ProbeResult>,
}

fn plain(status: u16, body: String) -> ProbeResponse {
    ProbeResponse {
        status,
        content_type: PLAIN,
        body,
        result: None,
    }
}

/// Handles one `/probe` request as blackbox 0.23 does (same status codes
/// and messages for an unknown module, a missing target, a bad timeout
/// header).
pub async fn probe_endpoint(modules: &BTreeMap<String, Module>, q: &ProbeQuery) -> ProbeResponse {
    let name = q
        .module
        .as_deref()
        .filter(|m| !m.is_empty())
        .unwrap_or("http_2xx");
    let Some(module) = modules.get(name) else {
        return plain(400, format!("Unknown module {name:?}\n"));
    };
    let scrape_timeout = match q.scrape_timeout_header.as_deref() {
        None | Some("") => None,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(s) => Some(s),
            Err(_) => {
                return plain(
                    500,
                    format!(
                        "Failed to parse timeout from Prometheus header: strconv.ParseFloat: parsing {v:?}: invalid syntax\n"
                    ),
                )
            }
        },
    };
    let Some(target) = q.target.as_deref().filter(|t| !t.is_empty()) else {
        return plain(400, "Target parameter is missing\n".into());
    };
    let hostname = q.hostname.as_deref().filter(|h| !h.is_empty());
    let with_host;
    let module = match hostname {
        Some(h) if module.prober == "http" => match with_host_header(module, h) {
            Ok(m) => {
                with_host = m;
                &with_host
            }
            Err(msg) => return plain(400, msg),
        },
        _ => module,
    };
    let timeout = effective_timeout(module, scrape_timeout, q.timeout_offset);
    let result = run_probe(module, target, timeout).await;
    let (content_type, body) = if q.debug {
        (PLAIN, render_debug(&result, name))
    } else {
        (EXPOSITION_CONTENT_TYPE, render_exposition(&result))
    };
    ProbeResponse {
        status: 200,
        content_type,
        body,
        result: Some(result),
    }
}

/// A copy of `module` sending `Host: hostname`, or blackbox's 400 message
/// when the module sets another Host header itself.
fn with_host_header(module: &Module, hostname: &str) -> Result<Module, String> {
    if let Some((_, v)) = module
        .http
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("host") && v.as_str() != hostname)
    {
        return Err(format!(
            "host header defined both in module configuration ({v}) and with URL-parameter 'hostname' ({hostname})\n"
        ));
    }
    let mut m = module.clone();
    m.http.headers.insert("Host".into(), hostname.into());
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules() -> BTreeMap<String, Module> {
        let m = Module {
            prober: "tcp".into(),
            ..Default::default()
        };
        BTreeMap::from([("tcp".to_string(), m)])
    }

    #[tokio::test]
    async fn errors_as_blackbox() {
        // Status codes and messages as blackbox_exporter 0.23 answered them.
        let q = ProbeQuery {
            module: Some("nope".into()),
            target: Some("x".into()),
            ..Default::default()
        };
        let r = probe_endpoint(&modules(), &q).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, "Unknown module \"nope\"\n")
        );
        // An empty module means http_2xx, which is not configured here.
        let q = ProbeQuery {
            target: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            probe_endpoint(&modules(), &q).await.body,
            "Unknown module \"http_2xx\"\n"
        );
        let q = ProbeQuery {
            module: Some("tcp".into()),
            ..Default::default()
        };
        let r = probe_endpoint(&modules(), &q).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, "Target parameter is missing\n")
        );
        let q = ProbeQuery {
            module: Some("tcp".into()),
            target: Some("127.0.0.1:1".into()),
            scrape_timeout_header: Some("abc".into()),
            ..Default::default()
        };
        let r = probe_endpoint(&modules(), &q).await;
        assert_eq!(r.status, 500);
        assert_eq!(
            r.body,
            "Failed to parse timeout from Prometheus header: strconv.ParseFloat: parsing \"abc\": invalid syntax\n"
        );
    }

    #[tokio::test]
    async fn hostname_sets_the_host_header_unless_the_module_has_another() {
        let mut m = Module {
            prober: "http".into(),
            ..Default::default()
        };
        m.http.headers.insert("host".into(), "a.example".into());
        let modules = BTreeMap::from([("web".to_string(), m.clone())]);
        let q = ProbeQuery {
            module: Some("web".into()),
            target: Some("http://127.0.0.1:1/".into()),
            hostname: Some("b.example".into()),
            ..Default::default()
        };
        let r = probe_endpoint(&modules, &q).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (
                400,
                "host header defined both in module configuration (a.example) and with URL-parameter 'hostname' (b.example)\n"
            )
        );
        // The same value is fine, and a module without one gets it.
        assert!(with_host_header(&m, "a.example").is_ok());
        m.http.headers.clear();
        let with = with_host_header(&m, "b.example").unwrap();
        assert_eq!(
            with.http.headers.get("Host").map(String::as_str),
            Some("b.example")
        );
        assert!(
            m.http.headers.is_empty(),
            "the configured module is left alone"
        );
    }

    #[tokio::test]
    async fn probes_and_renders() {
        let q = ProbeQuery {
            module: Some("tcp".into()),
            target: Some("127.0.0.1:1".into()),
            scrape_timeout_header: Some("5".into()),
            timeout_offset: 0.5,
            ..Default::default()
        };
        let r = probe_endpoint(&modules(), &q).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, EXPOSITION_CONTENT_TYPE);
        assert!(r.body.contains("\nprobe_success 0\n"), "{}", r.body);
        let dbg = probe_endpoint(&modules(), &ProbeQuery { debug: true, ..q }).await;
        assert!(dbg.body.starts_with("Logs for the probe:\n"));
        assert!(dbg
            .body
            .contains("Metrics that would have been returned:\n"));
        assert!(
            dbg.body.contains("msg=\"Error dialing TCP\""),
            "{}",
            dbg.body
        );
    }
}
