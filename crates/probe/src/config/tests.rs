use super::*;
use std::time::Duration;

/// blackbox_exporter 0.23's own example modules (its example.yml),
/// abridged to the fields that exercise each section.
const EXAMPLE: &str = r#"
modules:
  http_2xx_example:
    prober: http
    timeout: 5s
    http:
      valid_http_versions: ["HTTP/1.1", "HTTP/2.0"]
      valid_status_codes: []  # Defaults to 2xx
      method: GET
      headers:
        Host: vhost.example.com
        Accept-Language: en-US
        Origin: example.com
      no_follow_redirects: false
      fail_if_ssl: false
      fail_if_not_ssl: false
      fail_if_body_matches_regexp:
        - "Could not connect to database"
      fail_if_body_not_matches_regexp:
        - "Download the latest version here"
      fail_if_header_matches:
        - header: Set-Cookie
          allow_missing: true
          regexp: '.*'
      fail_if_header_not_matches:
        - header: Access-Control-Allow-Origin
          regexp: '(\*|example\.com)'
      tls_config:
        insecure_skip_verify: false
      preferred_ip_protocol: "ip4"
      ip_protocol_fallback: false
  http_basic_auth_example:
    prober: http
    timeout: 5s
    http:
      method: POST
      headers:
        Host: "login.example.com"
      basic_auth:
        username: "username"
        password: "mysecret"
  tcp_connect_example:
    prober: tcp
    timeout: 5s
  smtp_starttls:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^220 ([^ ]+) ESMTP (.+)$"
        - send: "EHLO prober\r"
        - expect: "^250-STARTTLS"
        - send: "STARTTLS\r"
        - expect: "^220"
        - starttls: true
        - send: "EHLO prober\r"
        - expect: "^250-AUTH"
        - send: "QUIT\r"
  icmp_example:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: "ip4"
      source_ip_address: "127.0.0.1"
  dns_udp_example:
    prober: dns
    timeout: 5s
    dns:
      query_name: "www.prometheus.io"
      query_type: "A"
      valid_rcodes:
        - NOERROR
      validate_answer_rrs:
        fail_if_matches_regexp:
          - ".*127.0.0.1"
        fail_if_all_match_regexp:
          - ".*127.0.0.1"
        fail_if_not_matches_regexp:
          - "www.prometheus.io.\t300\tIN\tA\t127.0.0.1"
        fail_if_none_matches_regexp:
          - "127.0.0.1"
      validate_authority_rrs:
        fail_if_matches_regexp:
          - ".*127.0.0.1"
  dns_tcp_example:
    prober: dns
    dns:
      transport_protocol: "tcp"
      preferred_ip_protocol: "ip4"
      query_name: "www.prometheus.io"
  grpc_plain:
    prober: grpc
    grpc:
      tls: false
      service: "service1"
"#;

#[test]
fn reads_blackbox_example_modules() {
    let cfg = BlackboxConfig::parse(EXAMPLE, "blackbox.yml").unwrap();
    assert_eq!(cfg.modules.len(), 8);
    let h = &cfg.modules["http_2xx_example"];
    assert_eq!(h.timeout, Some(Duration::from_secs(5)));
    assert_eq!(h.http.valid_http_versions, vec!["HTTP/1.1", "HTTP/2.0"]);
    assert_eq!(h.http.headers["Host"], "vhost.example.com");
    assert!(h.http.follows_redirects());
    assert_eq!(h.http.preferred_ip_protocol, IpProtocol::Ip4);
    assert!(!h.http.ip_protocol_fallback);
    assert!(h.http.fail_if_header_matches[0].allow_missing);
    let a = &cfg.modules["http_basic_auth_example"];
    assert_eq!(
        a.http
            .http_client_config()
            .basic_auth
            .unwrap()
            .password
            .as_ref()
            .map(|p| p.expose()),
        Some("mysecret")
    );
    // Defaults as blackbox's DefaultHTTPProbe.
    assert!(a.http.ip_protocol_fallback);
    assert_eq!(a.http.preferred_ip_protocol, IpProtocol::Ip6);
    let s = &cfg.modules["smtp_starttls"];
    assert_eq!(s.tcp.query_response.len(), 9);
    assert!(s.tcp.query_response[5].starttls);
    assert_eq!(s.tcp.query_response[1].send, "EHLO prober\r");
    let d = &cfg.modules["dns_udp_example"];
    assert!(d.dns.recursion_desired);
    assert_eq!(
        d.dns.validate_answer_rrs.fail_if_not_matches_regexp[0].source,
        "www.prometheus.io.\t300\tIN\tA\t127.0.0.1"
    );
    assert_eq!(cfg.modules["icmp_example"].icmp.ttl, 64);
    assert_eq!(cfg.modules["grpc_plain"].grpc.service, "service1");
}

#[test]
fn unknown_field_names_line_and_path() {
    let text = "modules:\n  m:\n    prober: http\n    http:\n      valid_status_code: [200]\n";
    let e = BlackboxConfig::parse(text, "bb.yml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bb.yml:5:"), "{e}");
    assert!(e.contains("modules.m.http"), "{e}");
    assert!(e.contains("valid_status_code"), "{e}");
}

#[test]
fn load_time_checks_as_blackbox() {
    let text = "modules:\n  d:\n    prober: dns\n    dns:\n      query_type: A\n";
    let e = BlackboxConfig::parse(text, "bb.yml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("query name must be set for DNS module"), "{e}");
    assert!(e.contains("modules.d.dns.query_name"), "{e}");

    let text = "modules:\n  h:\n    prober: http\n    http:\n      fail_if_header_matches:\n        - regexp: x\n";
    let e = BlackboxConfig::parse(text, "bb.yml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("header name must be set for HTTP header matchers"),
        "{e}"
    );

    let text = "modules:\n  i:\n    prober: icmp\n    icmp:\n      ttl: 300\n";
    let e = BlackboxConfig::parse(text, "bb.yml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"ttl\" cannot exceed 255"), "{e}");
    assert!(e.starts_with("bb.yml:5:"), "{e}");

    let text =
        "modules:\n  h:\n    prober: http\n    http:\n      fail_if_body_matches_regexp: ['(']\n";
    let e = BlackboxConfig::parse(text, "bb.yml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid regexp"), "{e}");
}

#[test]
fn probes_section() {
    let text = r#"
modules:
  web: { prober: http, timeout: 3s }
default_interval: 15s
monitors:
  - name: home
    module: web
    targets: [http://a/, http://b/]
    labels: { team: web }
  - name: db
    module: { prober: tcp }
    targets: ["db:5432"]
    interval: 1m
    timeout: 20s
  - name: fast
    module: web
    targets: [http://c/]
    interval: 2s
"#;
    let cfg = ProbesConfig::parse(text, "sightline.yml").unwrap();
    let ms = cfg.monitors(std::path::Path::new(".")).unwrap();
    assert_eq!(ms[0].interval, Duration::from_secs(15));
    assert_eq!(ms[0].timeout, Duration::from_secs(3));
    assert_eq!(ms[0].labels["team"], "web");
    assert_eq!(ms[0].module_name, "web");
    assert_eq!(ms[1].module_name, "inline");
    assert_eq!(ms[1].interval, Duration::from_secs(60));
    assert_eq!(ms[1].timeout, Duration::from_secs(20));
    // Never longer than the interval.
    assert_eq!(ms[2].timeout, Duration::from_secs(2));

    let bad = "monitors:\n  - name: x\n    module: nope\n    targets: [a]\n";
    let e = ProbesConfig::parse(bad, "s.yml")
        .unwrap()
        .monitors(std::path::Path::new("."))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("probes.monitors[0].module: unknown module \"nope\""),
        "{e}"
    );

    let bad = "monitors:\n  - name: x\n    module: { prober: http, htp: {} }\n    targets: [a]\n";
    let e = ProbesConfig::parse(bad, "s.yml").unwrap_err().to_string();
    assert!(e.contains("htp"), "{e}");
}

#[test]
fn effective_timeout_as_blackbox() {
    let m = Module {
        timeout: Some(Duration::from_secs(5)),
        ..Module::default()
    };
    // Scrape timeout 10s - 0.5 = 9.5 > 5: the module's.
    assert_eq!(
        crate::effective_timeout(&m, Some(10.0), 0.5),
        Duration::from_secs(5)
    );
    // Scrape timeout 3s - 0.5 = 2.5 < 5: the scrape's.
    assert_eq!(
        crate::effective_timeout(&m, Some(3.0), 0.5),
        Duration::from_millis(2500)
    );
    // No module timeout, no header: 120 - 0.5 (blackbox printed timeout_seconds=119.5).
    assert_eq!(
        crate::effective_timeout(&Module::default(), None, 0.5),
        Duration::from_millis(119_500)
    );
}
