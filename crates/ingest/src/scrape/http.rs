//! Fetching a target: the HTTP client of a pool and one GET per scrape.

use crate::config::{HttpClientConfig, ScrapeConfig};
use crate::exposition::protobuf::SCRAPE_ACCEPT_HEADER_PROTOBUF;
use flate2::read::GzDecoder;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, USER_AGENT};
use std::io::Read;
use std::time::Duration;

/// The `User-Agent` of scrapes.
pub const SCRAPE_USER_AGENT: &str = concat!("Sightline/", env!("CARGO_PKG_VERSION"));

/// An HTTP client built from a config's HTTP settings: one connection
/// pool (shared by a scrape pool's targets, or by the alert sender).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    http: HttpClientConfig,
    accept_gzip: bool,
}

/// A fetched body, uncompressed.
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    pub content_type: String,
}

impl HttpClient {
    /// Builds the client for a job's HTTP settings. Fails on unreadable
    /// TLS files or a bad proxy URL, naming the job.
    pub fn new(cfg: &ScrapeConfig) -> Result<Self, String> {
        Self::with_settings(
            &cfg.http,
            &format!("job {:?}", cfg.job_name),
            cfg.enable_compression,
        )
    }

    /// Builds a client for any HTTP settings of the config (an
    /// Alertmanager's, say); `owner` names them in errors.
    pub fn with_settings(
        h: &HttpClientConfig,
        owner: &str,
        accept_gzip: bool,
    ) -> Result<Self, String> {
        // reqwest is built without a provider of its own.
        sightline_config::tls::install_default_provider();
        let mut b = reqwest::Client::builder()
            .redirect(if h.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            })
            .pool_idle_timeout(Duration::from_secs(5 * 60))
            .danger_accept_invalid_certs(h.tls_config.insecure_skip_verify);
        if !h.enable_http2 {
            b = b.http1_only();
        }
        if !h.proxy_from_environment {
            b = b.no_proxy();
        }
        if let Some(p) = &h.proxy_url {
            let mut proxy = reqwest::Proxy::all(p)
                .map_err(|e| format!("{owner}: invalid proxy_url {p:?}: {e}"))?;
            if let Some(np) = &h.no_proxy {
                proxy = proxy.no_proxy(reqwest::NoProxy::from_string(np));
            }
            b = b.proxy(proxy);
        }
        let tls = &h.tls_config;
        let read = |what: &str, path: &str| {
            std::fs::read(path)
                .map_err(|e| format!("{owner}: cannot read tls_config {what} {path:?}: {e}"))
        };
        let ca = match (&tls.ca_file, &tls.ca) {
            (Some(f), _) => Some(read("ca_file", f)?),
            (None, Some(inline)) => Some(inline.as_bytes().to_vec()),
            _ => None,
        };
        let cert = match (&tls.cert_file, &tls.cert) {
            (Some(f), _) => Some(read("cert_file", f)?),
            (None, Some(inline)) => Some(inline.as_bytes().to_vec()),
            _ => None,
        };
        let key = match (&tls.key_file, &tls.key) {
            (Some(f), _) => Some(read("key_file", f)?),
            (None, Some(inline)) => Some(inline.expose().as_bytes().to_vec()),
            _ => None,
        };
        let identity = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(format!(
                    "{owner}: tls_config needs both a client certificate and a key"
                ))
            }
        };
        if let Some(name) = &tls.server_name {
            // reqwest verifies against the URL's host; a fixed name needs
            // our own rustls configuration.
            let config = super::tls::client_config(&super::tls::TlsSettings {
                ca: ca.as_deref(),
                identity: identity.as_ref().map(|(c, k)| (c.as_slice(), k.as_slice())),
                server_name: name,
                insecure_skip_verify: tls.insecure_skip_verify,
                min_version: tls.min_version.as_deref(),
                max_version: tls.max_version.as_deref(),
                http2: h.enable_http2,
            })
            .map_err(|e| format!("{owner}: {e}"))?;
            b = b.use_preconfigured_tls(config);
        } else {
            if let Some(pem) = ca {
                let certs = reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| format!("{owner}: invalid CA certificate: {e}"))?;
                for c in certs {
                    b = b.add_root_certificate(c);
                }
            }
            if let Some((mut c, k)) = identity {
                c.push(b'\n');
                c.extend_from_slice(&k);
                let id = reqwest::Identity::from_pem(&c)
                    .map_err(|e| format!("{owner}: invalid client certificate or key: {e}"))?;
                b = b.identity(id);
            }
            if let Some(v) = &tls.min_version {
                b = b.min_tls_version(tls_version(v));
            }
            if let Some(v) = &tls.max_version {
                b = b.max_tls_version(tls_version(v));
            }
        }
        let client = b
            .build()
            .map_err(|e| format!("{owner}: cannot build HTTP client: {e}"))?;
        Ok(HttpClient {
            client,
            http: h.clone(),
            accept_gzip,
        })
    }

    /// The `Authorization` header for this scrape; files are re-read every
    /// time so that rotated credentials are picked up, as in Prometheus.
    fn authorization(&self) -> Result<Option<HeaderValue>, String> {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("unable to read {path:?}: {e}"))
        };
        let Some(value) = self.http.authorization_header(read)? else {
            return Ok(None);
        };
        let mut hv =
            HeaderValue::from_str(&value).map_err(|_| "invalid authorization header".to_owned())?;
        hv.set_sensitive(true);
        Ok(Some(hv))
    }

    /// GETs `url` within `timeout`, returning the uncompressed body or an
    /// error worded as Prometheus words it. `limit` bounds the uncompressed
    /// size (0 = none).
    pub(crate) async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        limit: u64,
    ) -> Result<Fetched, String> {
        let mut headers = HeaderMap::new();
        // Protobuf first, as Prometheus 2.42 with native histograms enabled
        // asks: Sightline always stores native histograms (issue 12).
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(SCRAPE_ACCEPT_HEADER_PROTOBUF),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static(SCRAPE_USER_AGENT));
        headers.insert(
            "X-Prometheus-Scrape-Timeout-Seconds",
            HeaderValue::from_str(&format!("{}", timeout.as_secs_f64()))
                .expect("a number is a valid header value"),
        );
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(if self.accept_gzip { "gzip" } else { "identity" }),
        );
        if let Some(a) = self.authorization()? {
            headers.insert(AUTHORIZATION, a);
        }
        let fut = async {
            let mut resp = self
                .client
                .get(url)
                .headers(headers)
                .send()
                .await
                .map_err(|e| go_transport_error("Get", url, &e))?;
            let status = resp.status();
            if status != reqwest::StatusCode::OK {
                return Err(format!("server returned HTTP status {status}"));
            }
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let gzip = resp
                .headers()
                .get(reqwest::header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
            let mut raw =
                Vec::with_capacity(resp.content_length().unwrap_or(0).min(64 << 20) as usize);
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| go_transport_error("Get", url, &e))?
            {
                raw.extend_from_slice(&chunk);
                // Without gzip the raw size is the body size; stop early.
                if !gzip && limit > 0 && raw.len() as u64 > limit {
                    return Err(body_limit_error(limit));
                }
            }
            let body = if gzip { gunzip(&raw, limit)? } else { raw };
            Ok(Fetched { body, content_type })
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            // Prometheus's words for a scrape cut by its timeout.
            Err(_) => Err(format!("Get \"{url}\": context deadline exceeded")),
        }
    }
}

impl HttpClient {
    /// GETs `url` with the config's credentials and returns the response
    /// as soon as its headers arrive, whatever the status: the Kubernetes
    /// discovery reads list bodies and endless watch streams with it.
    pub(crate) async fn get_response(
        &self,
        url: &str,
        accept: &'static str,
    ) -> Result<reqwest::Response, String> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        headers.insert(USER_AGENT, HeaderValue::from_static(SCRAPE_USER_AGENT));
        if let Some(a) = self.authorization()? {
            headers.insert(AUTHORIZATION, a);
        }
        self.client
            .get(url)
            .headers(headers)
            .send()
            .await
            .map_err(|e| go_transport_error("Get", url, &e))
    }
}

impl HttpClient {
    /// POSTs a JSON body to `url` within `timeout`, with the config's
    /// credentials. Ok on any 2xx; otherwise the status (or transport error)
    /// and the start of the reply, for logs and `lastError`.
    pub async fn post_json(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static(SCRAPE_USER_AGENT));
        if let Some(a) = self.authorization()? {
            headers.insert(AUTHORIZATION, a);
        }
        let fut = async {
            let resp = self
                .client
                .post(url)
                .headers(headers)
                .body(body)
                .send()
                .await
                .map_err(|e| go_transport_error("Post", url, &e))?;
            let status = resp.status();
            if status.is_success() {
                return Ok(());
            }
            let text = resp.text().await.unwrap_or_default();
            let text: String = text.chars().take(200).collect();
            Err(format!("bad response status {status}: {}", text.trim()))
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(format!("Post \"{url}\": context deadline exceeded")),
        }
    }
}

fn body_limit_error(limit: u64) -> String {
    format!("body size limit exceeded (limit: {limit} bytes)")
}

/// Decompresses a gzip body, refusing more than `limit` bytes (0 = none).
fn gunzip(raw: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(raw.len() * 4);
    let dec = GzDecoder::new(raw);
    let res = if limit > 0 {
        dec.take(limit + 1).read_to_end(&mut out)
    } else {
        let mut dec = dec;
        dec.read_to_end(&mut out)
    };
    res.map_err(|e| format!("decompressing gzip body: {e}"))?;
    if limit > 0 && out.len() as u64 > limit {
        return Err(body_limit_error(limit));
    }
    Ok(out)
}

/// A transport error worded as Go's net/http words it (`Get "url": dial
/// tcp 127.0.0.1:1: connect: connection refused`), since that is what
/// Prometheus shows as a target's `lastError` and what users search for
/// (issue 12). Causes Go would word differently from their Rust text fall
/// back to reqwest's chain after the same `Get "url": ` prefix.
fn go_transport_error(method: &str, url: &str, e: &reqwest::Error) -> String {
    let cause = if e.is_timeout() {
        "context deadline exceeded".to_owned()
    } else {
        match io_error_kind(e) {
            Some(std::io::ErrorKind::ConnectionRefused) => {
                format!(
                    "dial tcp {}: connect: connection refused",
                    dial_address(url)
                )
            }
            Some(std::io::ErrorKind::ConnectionReset) => "EOF".to_owned(),
            _ => describe_reqwest(e),
        }
    };
    format!("{method} \"{url}\": {cause}")
}

/// The kind of the first I/O error in `e`'s chain.
fn io_error_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

/// `host:port` of `url` as Go's dialer prints it (the scheme's port when
/// none is written, IPv6 hosts in brackets).
fn dial_address(url: &str) -> String {
    let Ok(u) = reqwest::Url::parse(url) else {
        return url.to_owned();
    };
    // host_str keeps an IPv6 address's brackets, as Go prints it.
    let host = u.host_str().unwrap_or("");
    match u.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

fn describe_reqwest(e: &reqwest::Error) -> String {
    // reqwest's Display hides the cause ("error sending request"); the
    // chain says what actually happened (connection refused, TLS, ...).
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        src = s.source();
    }
    msg
}

fn tls_version(v: &str) -> reqwest::tls::Version {
    match v {
        "TLS10" => reqwest::tls::Version::TLS_1_0,
        "TLS11" => reqwest::tls::Version::TLS_1_1,
        "TLS13" => reqwest::tls::Version::TLS_1_3,
        _ => reqwest::tls::Version::TLS_1_2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gunzip_enforces_the_limit() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&[b'a'; 1000]).unwrap();
        let gz = e.finish().unwrap();
        assert_eq!(gunzip(&gz, 0).unwrap().len(), 1000);
        assert_eq!(gunzip(&gz, 1000).unwrap().len(), 1000);
        assert!(gunzip(&gz, 999)
            .unwrap_err()
            .contains("body size limit exceeded"));
        assert!(gunzip(b"not gzip", 0).is_err());
    }
}
