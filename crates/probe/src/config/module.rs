//! One blackbox module and its prober sections, with blackbox 0.23's
//! field names and defaults (`DefaultModule`, `DefaultHTTPProbe`, ...).

use super::values::{de_base2_bytes, de_duration, IpProtocol, Regexp};
use serde::Deserialize;
pub use sightline_config::http::TlsConfig;
use std::collections::BTreeMap;
use std::time::Duration;

/// A validation failure: the field path below the module and the reason.
pub(crate) type Invalid = (String, String);

/// One module: which prober runs and how.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Module {
    /// `http`, `tcp`, `dns`, `icmp` or `grpc`.
    pub prober: String,
    /// The module's own timeout; the scrape timeout minus the offset caps it.
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Option<Duration>,
    /// Settings of the http prober.
    pub http: HttpProbe,
    /// Settings of the tcp prober.
    pub tcp: TcpProbe,
    /// Settings of the icmp prober.
    pub icmp: IcmpProbe,
    /// Settings of the dns prober.
    pub dns: DnsProbe,
    /// Settings of the grpc prober.
    pub grpc: GrpcProbe,
}

impl Module {
    /// blackbox's load-time checks (its `UnmarshalYAML` methods).
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        self.http
            .validate()
            .map_err(|(p, m)| (format!(".http{p}"), m))?;
        self.icmp
            .validate()
            .map_err(|(p, m)| (format!(".icmp{p}"), m))?;
        // blackbox checks the dns section only when it is written; a module
        // of another prober has an empty, unchecked one.
        if self.prober == "dns" || !self.dns.query_name.is_empty() {
            self.dns
                .validate()
                .map_err(|(p, m)| (format!(".dns{p}"), m))?;
        }
        Ok(())
    }
}

/// A header matcher of `fail_if_header_(not_)matches`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    /// Header name (case-insensitive).
    #[serde(default)]
    pub header: String,
    /// Expression matched against each value.
    pub regexp: Option<Regexp>,
    /// A missing header is not a failure.
    #[serde(default)]
    pub allow_missing: bool,
}

sightline_config::inline_http_client_config! {
/// Settings of the http prober, with Prometheus's HTTP client settings
/// inline (see [`HttpProbe::http_client_config`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpProbe {
    /// Accepted status codes; empty means 2xx.
    pub valid_status_codes: Vec<u16>,
    /// Accepted versions (`HTTP/1.1`, ...); empty means any.
    pub valid_http_versions: Vec<String>,
    /// Address family tried first.
    pub preferred_ip_protocol: IpProtocol,
    /// Try the other family when the preferred one has no address.
    pub ip_protocol_fallback: bool,
    /// Accepted for compatibility; proxies are not supported.
    pub skip_resolve_phase_with_proxy: bool,
    /// Old spelling of `follow_redirects: false`.
    pub no_follow_redirects: Option<bool>,
    /// Fail when the final response came over TLS.
    pub fail_if_ssl: bool,
    /// Fail when the final response did not come over TLS.
    pub fail_if_not_ssl: bool,
    /// Request method, `GET` when empty.
    pub method: String,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Fail when the body matches any of these.
    pub fail_if_body_matches_regexp: Vec<Regexp>,
    /// Fail when the body does not match each of these.
    pub fail_if_body_not_matches_regexp: Vec<Regexp>,
    /// Fail when a header matches.
    pub fail_if_header_matches: Vec<HeaderMatch>,
    /// Fail when a header does not match.
    pub fail_if_header_not_matches: Vec<HeaderMatch>,
    /// Request body.
    pub body: String,
    /// `gzip`, `deflate` or empty: sent as Accept-Encoding and decoded.
    pub compression: String,
    /// Largest body read; 0 for no limit.
    #[serde(deserialize_with = "de_base2_bytes")]
    pub body_size_limit: u64,
}
}

impl Default for HttpProbe {
    fn default() -> Self {
        HttpProbe {
            valid_status_codes: Vec::new(),
            valid_http_versions: Vec::new(),
            preferred_ip_protocol: IpProtocol::Ip6,
            ip_protocol_fallback: true,
            skip_resolve_phase_with_proxy: false,
            no_follow_redirects: None,
            fail_if_ssl: false,
            fail_if_not_ssl: false,
            method: String::new(),
            headers: BTreeMap::new(),
            fail_if_body_matches_regexp: Vec::new(),
            fail_if_body_not_matches_regexp: Vec::new(),
            fail_if_header_matches: Vec::new(),
            fail_if_header_not_matches: Vec::new(),
            body: String::new(),
            compression: String::new(),
            body_size_limit: 0,
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: None,
            proxy_url: None,
            no_proxy: None,
            proxy_from_environment: None,
            proxy_connect_header: None,
            follow_redirects: None,
            enable_http2: None,
        }
    }
}

/// HTTP client keys the http prober does not implement: refused as unknown,
/// as they were before the settings were shared (issue 13).
/// blackbox_exporter 0.23 accepts `oauth2` and `proxy_connect_header`, and
/// refuses the others too.
const NOT_IMPLEMENTED: &[&str] = &[
    "oauth2",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "basic_auth.username_file",
];

impl HttpProbe {
    /// Whether redirects are followed, honouring the old `no_follow_redirects`.
    pub fn follows_redirects(&self) -> bool {
        match self.no_follow_redirects {
            Some(no) => !no,
            None => self.follow_redirects.unwrap_or(true),
        }
    }

    fn validate(&self) -> Result<(), Invalid> {
        for (field, list) in [
            ("fail_if_header_matches", &self.fail_if_header_matches),
            (
                "fail_if_header_not_matches",
                &self.fail_if_header_not_matches,
            ),
        ] {
            for (i, m) in list.iter().enumerate() {
                if m.header.is_empty() {
                    return Err((
                        format!(".{field}[{i}]"),
                        "header name must be set for HTTP header matchers".into(),
                    ));
                }
                if m.regexp.as_ref().is_none_or(|r| r.source.is_empty()) {
                    return Err((
                        format!(".{field}[{i}]"),
                        "regexp must be set for HTTP header matchers".into(),
                    ));
                }
            }
        }
        let http = self.http_client_config();
        http.refuse_keys(NOT_IMPLEMENTED)
            .and_then(|()| http.validate())
            .map_err(|e| match e {
                sightline_config::Error::Invalid { field, message } if !field.is_empty() => {
                    (format!(".{field}"), message)
                }
                e => (String::new(), e.to_string()),
            })?;
        if http.proxy_url.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err((".proxy_url".into(), "proxies are not supported".into()));
        }
        match self.compression.as_str() {
            "" | "gzip" | "deflate" | "identity" => {}
            c => {
                return Err((
                    ".compression".into(),
                    format!("unsupported compression {c:?} (gzip, deflate or identity)"),
                ))
            }
        }
        Ok(())
    }
}

/// One step of a tcp module's conversation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueryResponse {
    /// Read lines until one matches; `${1}` in `send` refers to its groups.
    pub expect: Option<Regexp>,
    /// Line to send (a newline is added).
    pub send: String,
    /// Upgrade the connection to TLS here.
    pub starttls: bool,
}

/// Settings of the tcp prober.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpProbe {
    /// Address family tried first.
    pub preferred_ip_protocol: IpProtocol,
    /// Try the other family when the preferred one has no address.
    pub ip_protocol_fallback: bool,
    /// Local address to connect from.
    pub source_ip_address: String,
    /// The conversation.
    pub query_response: Vec<QueryResponse>,
    /// Connect with TLS.
    pub tls: bool,
    /// TLS settings.
    pub tls_config: TlsConfig,
}

impl Default for TcpProbe {
    fn default() -> Self {
        TcpProbe {
            preferred_ip_protocol: IpProtocol::Ip6,
            ip_protocol_fallback: true,
            source_ip_address: String::new(),
            query_response: Vec::new(),
            tls: false,
            tls_config: TlsConfig::default(),
        }
    }
}

/// Settings of the icmp prober.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcmpProbe {
    /// Address family tried first.
    pub preferred_ip_protocol: IpProtocol,
    /// Try the other family when the preferred one has no address.
    pub ip_protocol_fallback: bool,
    /// Local address to send from.
    pub source_ip_address: String,
    /// Payload bytes after the ICMP header.
    pub payload_size: usize,
    /// Set the IPv4 don't-fragment bit.
    pub dont_fragment: bool,
    /// IP TTL / hop limit (64 by default).
    pub ttl: i64,
}

impl Default for IcmpProbe {
    fn default() -> Self {
        IcmpProbe {
            preferred_ip_protocol: IpProtocol::Ip6,
            ip_protocol_fallback: true,
            source_ip_address: String::new(),
            payload_size: 0,
            dont_fragment: false,
            ttl: 64,
        }
    }
}

impl IcmpProbe {
    fn validate(&self) -> Result<(), Invalid> {
        if self.preferred_ip_protocol == IpProtocol::Ip6 && self.dont_fragment {
            return Err((
                ".dont_fragment".into(),
                "\"dont_fragment\" can be set only for IPv4".into(),
            ));
        }
        if self.ttl < 0 {
            return Err((".ttl".into(), "\"ttl\" cannot be negative".into()));
        }
        if self.ttl > 255 {
            return Err((".ttl".into(), "\"ttl\" cannot exceed 255".into()));
        }
        Ok(())
    }
}

/// Answer checks of a dns module (`validate_answer_rrs`, ...).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsRrValidator {
    /// Fail if any record matches any of these.
    pub fail_if_matches_regexp: Vec<Regexp>,
    /// Fail if all records match one of these.
    pub fail_if_all_match_regexp: Vec<Regexp>,
    /// Fail if any record does not match one of these.
    pub fail_if_not_matches_regexp: Vec<Regexp>,
    /// Fail if no record matches one of these.
    pub fail_if_none_matches_regexp: Vec<Regexp>,
}

/// Settings of the dns prober.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsProbe {
    /// Address family tried first.
    pub preferred_ip_protocol: IpProtocol,
    /// Try the other family when the preferred one has no address.
    pub ip_protocol_fallback: bool,
    /// Local address to send from.
    pub source_ip_address: String,
    /// `udp` (default) or `tcp`.
    pub transport_protocol: String,
    /// DNS over TLS (TCP with TLS, port 853 by default).
    pub dns_over_tls: bool,
    /// TLS settings for DNS over TLS.
    pub tls_config: TlsConfig,
    /// Name to ask for.
    pub query_name: String,
    /// Record type, `ANY` by default.
    pub query_type: String,
    /// Class, `IN` by default.
    pub query_class: String,
    /// Set the RD bit (default true).
    pub recursion_desired: bool,
    /// Accepted rcodes, `NOERROR` by default.
    pub valid_rcodes: Vec<String>,
    /// Checks on the answer section.
    pub validate_answer_rrs: DnsRrValidator,
    /// Checks on the authority section.
    pub validate_authority_rrs: DnsRrValidator,
    /// Checks on the additional section.
    pub validate_additional_rrs: DnsRrValidator,
}

impl Default for DnsProbe {
    fn default() -> Self {
        DnsProbe {
            preferred_ip_protocol: IpProtocol::Ip6,
            ip_protocol_fallback: true,
            source_ip_address: String::new(),
            transport_protocol: String::new(),
            dns_over_tls: false,
            tls_config: TlsConfig::default(),
            query_name: String::new(),
            query_type: String::new(),
            query_class: String::new(),
            recursion_desired: true,
            valid_rcodes: Vec::new(),
            validate_answer_rrs: DnsRrValidator::default(),
            validate_authority_rrs: DnsRrValidator::default(),
            validate_additional_rrs: DnsRrValidator::default(),
        }
    }
}

impl DnsProbe {
    fn validate(&self) -> Result<(), Invalid> {
        if self.query_name.is_empty() {
            return Err((
                ".query_name".into(),
                "query name must be set for DNS module".into(),
            ));
        }
        if !self.query_class.is_empty() && crate::dns::wire::class_code(&self.query_class).is_none()
        {
            return Err((
                ".query_class".into(),
                format!("query class '{}' is not valid", self.query_class),
            ));
        }
        if !self.query_type.is_empty() && crate::dns::wire::type_code(&self.query_type).is_none() {
            return Err((
                ".query_type".into(),
                format!("query type '{}' is not valid", self.query_type),
            ));
        }
        for rc in &self.valid_rcodes {
            if crate::dns::wire::rcode_code(rc).is_none() {
                return Err((".valid_rcodes".into(), format!("invalid rcode {rc:?}")));
            }
        }
        match self.transport_protocol.as_str() {
            "" | "udp" | "tcp" => Ok(()),
            t => Err((
                ".transport_protocol".into(),
                format!("unknown transport protocol {t:?}"),
            )),
        }
    }
}

/// Settings of the grpc prober.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrpcProbe {
    /// Service name sent in the health check (empty: the whole server).
    pub service: String,
    /// Connect with TLS.
    pub tls: bool,
    /// TLS settings.
    pub tls_config: TlsConfig,
    /// Try the other family when the preferred one has no address.
    pub ip_protocol_fallback: bool,
    /// Address family tried first.
    pub preferred_ip_protocol: IpProtocol,
}

impl Default for GrpcProbe {
    fn default() -> Self {
        GrpcProbe {
            service: String::new(),
            tls: false,
            tls_config: TlsConfig::default(),
            ip_protocol_fallback: true,
            preferred_ip_protocol: IpProtocol::Ip6,
        }
    }
}
