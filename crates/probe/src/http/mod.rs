//! The http prober: blackbox's `http.go` behaviour (status, version, SSL,
//! body and header regexps, redirects, auth) over our own HTTP/1.1 client
//! ([`client`]) so each phase is timed as blackbox's httptrace times it.

mod client;
mod stamped;

use crate::config::HttpProbe;
use crate::net;
use crate::result::Recorder;
use crate::tls::{self, TlsSetup};
use client::PhaseSink;
use sightline_config::HttpClientConfig;
use std::io::Read;
use std::net::SocketAddr;

const HELP_PHASE: &str = "Duration of http request by phase, summed over all redirects";
const HELP_CLEN: &str = "Length of http content response";
const HELP_ULEN: &str = "Length of uncompressed response body";
const HELP_REDIRECTS: &str = "The number of redirects";
const HELP_SSL: &str = "Indicates if SSL was used for the final redirect";
const HELP_STATUS: &str = "Response HTTP status code";
const HELP_VERSION: &str = "Returns the version of HTTP of the probe response";
const HELP_LASTMOD: &str = "Returns the Last-Modified HTTP response header in unixtime";
pub(crate) const HELP_REGEX: &str = "Indicates if probe failed due to regex";

/// Go's http.Client stops after 10 redirects.
const MAX_REDIRECTS: usize = 10;

struct Phases<'a> {
    rec: &'a mut Recorder,
    tls: Option<&'a TlsSetup>,
    cert_expiry: Option<f64>,
}

impl PhaseSink for Phases<'_> {
    fn connected(&mut self, secs: f64) {
        self.rec.add_with(
            "probe_http_duration_seconds",
            HELP_PHASE,
            &[("phase", "connect")],
            secs,
        );
    }
    fn tls_done(&mut self, secs: f64, conn: &rustls::ClientConnection) {
        self.rec.add_with(
            "probe_http_duration_seconds",
            HELP_PHASE,
            &[("phase", "tls")],
            secs,
        );
        // Gauges are recorded into a scratch recorder and merged only if
        // this turns out to be the final hop (blackbox reads resp.TLS).
        if let Some(setup) = self.tls {
            let mut scratch = Recorder::default();
            self.cert_expiry = setup.record(&mut scratch, conn);
            self.rec.pending_tls = Some(scratch.families);
        }
    }
    fn first_byte(&mut self, secs: f64) {
        self.rec.add_with(
            "probe_http_duration_seconds",
            HELP_PHASE,
            &[("phase", "processing")],
            secs,
        );
    }
}

/// Runs the http prober against `target` (a URL). Returns success and the
/// earliest certificate expiry seen on the final hop.
pub(crate) async fn probe(
    rec: &mut Recorder,
    target: &str,
    cfg: &HttpProbe,
) -> (bool, Option<f64>) {
    for phase in ["connect", "processing", "resolve", "tls", "transfer"] {
        rec.set_with(
            "probe_http_duration_seconds",
            HELP_PHASE,
            &[("phase", phase)],
            0.0,
        );
    }
    for (name, help) in [
        ("probe_http_content_length", HELP_CLEN),
        ("probe_http_uncompressed_body_length", HELP_ULEN),
        ("probe_http_redirects", HELP_REDIRECTS),
        ("probe_http_ssl", HELP_SSL),
        ("probe_http_status_code", HELP_STATUS),
        ("probe_http_version", HELP_VERSION),
        ("probe_failed_due_to_regex", HELP_REGEX),
    ] {
        rec.set(name, help, 0.0);
    }
    let target = if target.contains("://") {
        target.to_string()
    } else {
        format!("http://{target}")
    };
    let mut url = match url::Url::parse(&target) {
        Ok(u) => u,
        Err(e) => {
            rec.fail("Could not parse target URL", &e.to_string());
            return (false, None);
        }
    };
    let method = if cfg.method.is_empty() {
        "GET".to_string()
    } else {
        cfg.method.to_uppercase()
    };
    let mut method_now = method.clone();
    let mut send_body = !cfg.body.is_empty();
    let mut redirects = 0usize;
    let http = cfg.http_client_config();
    let auth = match auth_header(&http) {
        Ok(a) => a,
        Err(e) => {
            rec.fail("Error creating request", &e);
            return (false, None);
        }
    };
    let resp = loop {
        let host = match url.host_str() {
            Some(h) => h.to_string(),
            None => {
                rec.fail("Could not parse target URL", "missing host");
                return (false, None);
            }
        };
        let Some(port) = url.port_or_known_default() else {
            rec.fail("Could not parse target URL", "unknown port");
            return (false, None);
        };
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            s => {
                rec.fail(
                    "Error for HTTP request",
                    &format!("unsupported protocol scheme {s:?}"),
                );
                return (false, None);
            }
        };
        let ip = match net::resolve_timed(
            rec,
            &host,
            cfg.preferred_ip_protocol,
            cfg.ip_protocol_fallback,
            redirects == 0,
        )
        .await
        {
            Ok(ip) => ip,
            Err(_) => return (false, None),
        };
        let tls_setup = if https {
            // Without a configured server_name, blackbox verifies (and sends
            // as SNI) the Host header's value when the module sets one,
            // else the target's host: probing an IP for a named site works.
            let sni_host = cfg
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map_or(host.as_str(), |(_, v)| v.as_str());
            match tls::setup(&http.tls_config, sni_host, &[b"http/1.1"]) {
                Ok(s) => Some(s),
                Err(e) => {
                    rec.fail("Error creating request", &e);
                    return (false, None);
                }
            }
        } else {
            None
        };
        rec.pending_tls = None;
        let request = build_request(
            &method_now,
            &url,
            &host,
            port,
            cfg,
            auth.as_deref(),
            send_body,
        );
        rec.log(
            "info",
            "Making HTTP request",
            &[
                ("url", url.as_str()),
                ("host", &host_header(&url, &host, port)),
            ],
        );
        let mut sink = Phases {
            rec: &mut *rec,
            tls: tls_setup.as_ref(),
            cert_expiry: None,
        };
        let result = async {
            let mut conn =
                client::connect(SocketAddr::new(ip, port), tls_setup.as_ref(), &mut sink).await?;
            client::round_trip(
                &mut conn,
                &request,
                method_now == "HEAD",
                cfg.body_size_limit,
                &mut sink,
            )
            .await
        }
        .await;
        let cert_expiry = sink.cert_expiry;
        let resp = match result {
            Ok(r) => {
                // Transfer: first response byte to end of body, as
                // blackbox's responseStart..end.
                if let (Some(a), Some(b)) = (r.first_byte, r.end) {
                    let secs = b.duration_since(a).as_secs_f64();
                    rec.add_with(
                        "probe_http_duration_seconds",
                        HELP_PHASE,
                        &[("phase", "transfer")],
                        secs,
                    );
                }
                r
            }
            Err(e) => {
                rec.fail(
                    "Error for HTTP request",
                    &format!("{} \"{}\": {e}", go_method(&method_now), url),
                );
                return (false, None);
            }
        };
        let is_redirect =
            matches!(resp.status, 301 | 302 | 303 | 307 | 308) && resp.header("location").is_some();
        if !is_redirect {
            break (resp, https, cert_expiry);
        }
        let location = resp.header("location").unwrap_or_default().to_string();
        rec.log("info", "Received redirect", &[("location", &location)]);
        redirects += 1;
        rec.set("probe_http_redirects", HELP_REDIRECTS, redirects as f64);
        if redirects > MAX_REDIRECTS || !cfg.follows_redirects() {
            rec.log("info", "Not following redirect", &[]);
            // blackbox keeps the redirect response but does not read its body.
            let mut resp = resp;
            resp.body.clear();
            break (resp, https, cert_expiry);
        }
        url = match url.join(&location) {
            Ok(u) => u,
            Err(e) => {
                rec.fail(
                    "Error for HTTP request",
                    &format!("failed to parse Location header {location:?}: {e}"),
                );
                return (false, None);
            }
        };
        // Go turns 301/302/303 of anything but GET/HEAD into a GET without body.
        if matches!(resp.status, 301..=303) && method_now != "HEAD" {
            method_now = "GET".into();
            send_body = false;
        }
    };
    let (resp, https, cert_expiry) = resp;
    evaluate(rec, cfg, resp, https, cert_expiry)
}

fn go_method(m: &str) -> String {
    // Go's url.Error prints the method capitalized like "Get".
    let mut c = m.chars();
    match c.next() {
        Some(f) => f.to_string() + &c.as_str().to_ascii_lowercase(),
        None => String::new(),
    }
}

fn host_header(url: &url::Url, host: &str, port: u16) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    match url.port() {
        Some(_) => format!("{host}:{port}"),
        None => host,
    }
}

/// The `Authorization` header; credential files are read at each probe.
fn auth_header(http: &HttpClientConfig) -> Result<Option<String>, String> {
    http.authorization_header(|f| {
        std::fs::read_to_string(f)
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("unable to read {f}: {e}"))
    })
}

fn build_request(
    method: &str,
    url: &url::Url,
    host: &str,
    port: u16,
    cfg: &HttpProbe,
    auth: Option<&str>,
    send_body: bool,
) -> Vec<u8> {
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    let has = |name: &str| cfg.headers.keys().any(|k| k.eq_ignore_ascii_case(name));
    if !has("host") {
        req.push_str(&format!("Host: {}\r\n", host_header(url, host, port)));
    }
    if !has("user-agent") {
        req.push_str(concat!(
            "User-Agent: Sightline/",
            env!("CARGO_PKG_VERSION"),
            "\r\n"
        ));
    }
    if !cfg.compression.is_empty() && !has("accept-encoding") {
        req.push_str(&format!("Accept-Encoding: {}\r\n", cfg.compression));
    }
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    for (k, v) in &cfg.headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if send_body || matches!(method, "POST" | "PUT" | "PATCH") {
        let len = if send_body { cfg.body.len() } else { 0 };
        req.push_str(&format!("Content-Length: {len}\r\n"));
    }
    // One request per connection: the probe measures a fresh connection.
    req.push_str("Connection: close\r\n\r\n");
    let mut bytes = req.into_bytes();
    if send_body {
        bytes.extend_from_slice(cfg.body.as_bytes());
    }
    bytes
}

/// Checks the final response as blackbox does and records its gauges.
fn evaluate(
    rec: &mut Recorder,
    cfg: &HttpProbe,
    resp: client::Response,
    https: bool,
    cert_expiry: Option<f64>,
) -> (bool, Option<f64>) {
    let mut success;
    if cfg.valid_status_codes.is_empty() {
        success = (200..300).contains(&resp.status);
        if !success {
            rec.fail(
                "Invalid HTTP response status code, wanted 2xx",
                &format!("status_code={}", resp.status),
            );
        }
    } else {
        success = cfg.valid_status_codes.contains(&resp.status);
        if !success {
            rec.fail(
                "Invalid HTTP response status code",
                &format!("status_code={}", resp.status),
            );
        }
    }
    if success {
        for m in &cfg.fail_if_header_matches {
            if let Some(re) = &m.regexp {
                let values: Vec<&str> = resp
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(&m.header))
                    .map(|(_, v)| v.as_str())
                    .collect();
                if values.is_empty() && !m.allow_missing {
                    rec.fail("Missing required header", &m.header);
                    success = false;
                } else if values.iter().any(|v| re.re.is_match(v)) {
                    rec.fail(
                        "Header matched regular expression",
                        &format!("header={} regexp={}", m.header, re.source),
                    );
                    success = false;
                }
            }
        }
        for m in &cfg.fail_if_header_not_matches {
            if let Some(re) = &m.regexp {
                let values: Vec<&str> = resp
                    .headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(&m.header))
                    .map(|(_, v)| v.as_str())
                    .collect();
                if values.is_empty() && !m.allow_missing {
                    rec.fail("Missing required header", &m.header);
                    success = false;
                } else if !values.is_empty() && !values.iter().any(|v| re.re.is_match(v)) {
                    rec.fail(
                        "Header did not match regular expression",
                        &format!("header={} regexp={}", m.header, re.source),
                    );
                    success = false;
                }
            }
        }
    }
    // Decompress for the regexps and the uncompressed length.
    let encoding = resp
        .header("content-encoding")
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = match decode(&encoding, &resp.body) {
        Ok(b) => b,
        Err(e) => {
            rec.fail("Failed to decompress the response body", &e);
            success = false;
            Vec::new()
        }
    };
    if success {
        let text = String::from_utf8_lossy(&body);
        for re in &cfg.fail_if_body_matches_regexp {
            if re.re.is_match(&text) {
                rec.fail(
                    "Body matched regular expression",
                    &format!("regexp={}", re.source),
                );
                rec.set("probe_failed_due_to_regex", HELP_REGEX, 1.0);
                success = false;
                break;
            }
        }
        if success {
            for re in &cfg.fail_if_body_not_matches_regexp {
                if !re.re.is_match(&text) {
                    rec.fail(
                        "Body did not match regular expression",
                        &format!("regexp={}", re.source),
                    );
                    rec.set("probe_failed_due_to_regex", HELP_REGEX, 1.0);
                    success = false;
                    break;
                }
            }
        }
    }
    if let Some(lm) = resp.header("last-modified").and_then(parse_http_date) {
        rec.set(
            "probe_http_last_modified_timestamp_seconds",
            HELP_LASTMOD,
            lm as f64,
        );
    }
    let version: f64 = match resp.proto.as_str() {
        "HTTP/1.0" => 1.0,
        "HTTP/1.1" => 1.1,
        _ => 0.0,
    };
    rec.set("probe_http_version", HELP_VERSION, version);
    if !cfg.valid_http_versions.is_empty()
        && success
        && !cfg.valid_http_versions.contains(&resp.proto)
    {
        rec.fail(
            "Invalid HTTP version number",
            &format!("version={}", resp.proto),
        );
        success = false;
    }
    rec.set(
        "probe_http_status_code",
        HELP_STATUS,
        f64::from(resp.status),
    );
    rec.set(
        "probe_http_content_length",
        HELP_CLEN,
        resp.content_length as f64,
    );
    rec.set(
        "probe_http_uncompressed_body_length",
        HELP_ULEN,
        body.len() as f64,
    );
    let mut expiry = None;
    if https {
        rec.set("probe_http_ssl", HELP_SSL, 1.0);
        if let Some(fams) = rec.pending_tls.take() {
            rec.families.extend(fams);
        }
        expiry = cert_expiry;
        if cfg.fail_if_ssl && success {
            rec.fail("Final request was over SSL", "");
            success = false;
        }
    } else if cfg.fail_if_not_ssl && success {
        rec.fail("Final request was not over SSL", "");
        success = false;
    }
    (success, expiry)
}

fn decode(encoding: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match encoding {
        "gzip" | "x-gzip" => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(body).read_to_end(&mut out),
        _ => return Ok(body.to_vec()),
    }
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Parses an RFC 1123 date (`Sun, 06 Nov 1994 08:49:37 GMT`) to unix seconds.
fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: i64 = parts[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])? as i64
        + 1;
    let year: i64 = parts[3].parse().ok()?;
    let hms: Vec<i64> = parts[4]
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    if hms.len() != 3 {
        return None;
    }
    let date = format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}Z",
        hms[0], hms[1], hms[2]
    );
    crate::cert::generalized_time(&date)
}

#[cfg(test)]
mod tests;
