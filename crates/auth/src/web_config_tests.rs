use super::*;

fn parse(text: &str) -> Result<WebConfig> {
    WebConfig::parse(text, "web.yml", Path::new("/etc/sl"))
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn issue_18_empty_file_is_no_tls_no_users() {
    let c = parse("").unwrap();
    assert!(c.tls.is_none() && c.users.is_empty() && c.http2);
}

#[test]
fn issue_18_refusals_name_file_field_and_reason() {
    let e = err("foo: 1\n");
    assert!(e.starts_with("web.yml:1:1") && e.contains("foo"), "{e}");
    let e = err("tls_server_config:\n  cert: x\n");
    assert!(e.contains("web.yml:2") && e.contains("cert"), "{e}");
    let e = err("basic_auth_users:\n  alice: nothash\n");
    assert!(
        e.contains("web.yml:2") && e.contains("basic_auth_users.alice"),
        "{e}"
    );
    let e = err("http_server_config:\n  headers:\n    X-Frame-Options: bad\n");
    assert!(e.contains("invalid value for X-Frame-Options"), "{e}");
    let e = err("http_server_config:\n  headers:\n    Server: x\n");
    assert!(
        e.contains("HTTP header \"Server\" can not be configured"),
        "{e}"
    );
    let e = err("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Bogus\n");
    assert!(e.contains("invalid ClientAuth: Bogus"), "{e}");
    let e = err("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n");
    assert!(e.contains("without a Client Auth Policy"), "{e}");
    let e = err("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n");
    assert!(
        e.contains("web.yml:4") && e.contains("unknown TLS version: TLS14"),
        "{e}"
    );
    let e = err("tls_server_config:\n  key_file: b\n");
    assert!(e.contains("missing cert_file"), "{e}");
    let e = err("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [NOPE]\n");
    assert!(e.contains("unknown cipher: NOPE"), "{e}");
}

#[test]
fn issue_18_paths_are_relative_to_the_file() {
    let c = parse("tls_server_config:\n  cert_file: a.crt\n  key_file: /k/b.key\n  client_auth_type: RequireClientCert\n").unwrap();
    let t = c.tls.unwrap();
    assert_eq!(t.cert_file, Path::new("/etc/sl/a.crt"));
    assert_eq!(t.key_file, Path::new("/k/b.key"));
    assert_eq!(t.client_auth, ClientAuth::RequireAny);
}
