use super::*;

fn parse(text: &str) -> HttpClientConfig {
    crate::yaml::from_str(text, "http.yml").unwrap_or_else(|e| panic!("{e}"))
}

fn refused(text: &str) -> String {
    match parse(text).validate() {
        Ok(()) => panic!("should be refused: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_follow_prometheus() {
    let h = parse("{}");
    assert_eq!(h, HttpClientConfig::default());
    assert!(h.follow_redirects && h.enable_http2 && !h.proxy_from_environment);
    let h = parse("tls_config: ~\nauthorization: {}\n");
    assert_eq!(h.tls_config, TlsConfig::default());
    assert_eq!(h.authorization.unwrap().scheme(), "Bearer");
}

#[test]
fn unknown_keys_are_refused_with_their_position() {
    let e = crate::yaml::from_str::<HttpClientConfig>("tls_config:\n  cafile: x\n", "h.yml")
        .unwrap_err();
    assert!(
        e.message()
            .starts_with("h.yml:2:3: tls_config.cafile: unknown field"),
        "{e}"
    );
}

/// issue 13: the texts below are what promtool 2.42, amtool and
/// blackbox_exporter 0.23 (Debian's builds, one prometheus/common) print
/// for the same block, checked by hand with each; the three readers used
/// to word some of them differently.
#[test]
fn issue_13_validate_words_as_the_peers() {
    let cases = [
        (
            "{bearer_token: x, bearer_token_file: y}",
            "at most one of bearer_token & bearer_token_file must be configured",
        ),
        (
            "{basic_auth: {username: a}, bearer_token: x}",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured",
        ),
        (
            "{authorization: {credentials: a}, bearer_token: x}",
            "authorization is not compatible with bearer_token & bearer_token_file",
        ),
        (
            "{basic_auth: {username: a}, authorization: {credentials: x}}",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "{oauth2: {client_id: a, token_url: 'http://x'}, basic_auth: {username: a}}",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
        (
            "{authorization: {type: ' Basic '}}",
            "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
        ),
        (
            "{basic_auth: {username: a, password: p, password_file: f}}",
            "at most one of basic_auth password & password_file must be configured",
        ),
        (
            "{tls_config: {min_version: TLS9}}",
            "unknown TLS version: TLS9",
        ),
        (
            "{proxy_connect_header: {X: [a]}}",
            "if proxy_connect_header is configured proxy_url must also be configured",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(refused(text), want, "{text}");
    }
    // Accepted by all three peers: an empty inline value is unset.
    for text in [
        "{authorization: {credentials: '', credentials_file: f}}",
        "{basic_auth: {username: a, password: '', password_file: f}}",
        "{basic_auth: {password: p}}",
        "{proxy_url: 'http://p:1', proxy_connect_header: {X: [a]}}",
        "{tls_config: {max_version: TLS12}}",
    ] {
        parse(text)
            .validate()
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn refused_keys_are_named() {
    let h = parse("{tls_config: {ca: x}, no_proxy: y}");
    assert!(h.refuse_keys(&["oauth2", "tls_config.max_version"]).is_ok());
    let e = h
        .refuse_keys(&["oauth2", "no_proxy", "tls_config.ca"])
        .unwrap_err();
    assert_eq!(
        e,
        Error::Invalid {
            field: "no_proxy".into(),
            message: "unknown field \"no_proxy\"".into()
        }
    );
    let e = h.refuse_keys(&["tls_config.ca"]).unwrap_err();
    assert_eq!(e.message(), "unknown field \"ca\"");
}

#[test]
fn secrets_are_hidden_when_shown() {
    let h = parse("{basic_auth: {username: u, password: hunter2}, tls_config: {key: k}}");
    let shown = format!("{h:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("<secret>"),
        "{shown}"
    );
    assert_eq!(
        serde_json::to_string(&Secret::from("x")).unwrap(),
        "\"<secret>\""
    );
}

fn header(text: &str) -> Option<String> {
    let files = |f: &str| -> Result<String, String> {
        match f {
            "/pw" => Ok("filepass".into()),
            "/tok" => Ok("filetoken".into()),
            other => Err(format!("no file {other}")),
        }
    };
    parse(text).authorization_header(files).unwrap()
}

#[test]
fn authorization_headers() {
    // base64("u:p") = dTpw, base64("u:filepass") = dTpmaWxlcGFzcw==
    assert_eq!(
        header("{basic_auth: {username: u, password: p}}").as_deref(),
        Some("Basic dTpw")
    );
    assert_eq!(
        header("{basic_auth: {username: u, password_file: /pw}}").as_deref(),
        Some("Basic dTpmaWxlcGFzcw==")
    );
    assert_eq!(
        header("{authorization: {credentials: c}}").as_deref(),
        Some("Bearer c")
    );
    assert_eq!(
        header("{authorization: {type: Token, credentials_file: /tok}}").as_deref(),
        Some("Token filetoken")
    );
    assert_eq!(header("{bearer_token: t}").as_deref(), Some("Bearer t"));
    assert_eq!(
        header("{bearer_token_file: /tok}").as_deref(),
        Some("Bearer filetoken")
    );
    // No credentials at all: no header, as Prometheus.
    assert_eq!(header("{authorization: {type: Token}}"), None);
    assert_eq!(header("{}"), None);
    let err = parse("{bearer_token_file: /missing}")
        .authorization_header(|f| Err::<String, _>(format!("cannot read {f}")))
        .unwrap_err();
    assert_eq!(err, "cannot read /missing");
}

#[test]
fn base64_pads() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
}

#[test]
fn set_directory_resolves_relative_files_only() {
    let mut h = parse(
        "{basic_auth: {username_file: u, password_file: /abs/p}, tls_config: {ca_file: ca.pem, cert_file: '', key_file: k}, bearer_token_file: t}",
    );
    h.set_directory(Path::new("/etc/sl"));
    let b = h.basic_auth.as_ref().unwrap();
    assert_eq!(b.username_file.as_deref(), Some("/etc/sl/u"));
    assert_eq!(b.password_file.as_deref(), Some("/abs/p"));
    assert_eq!(h.tls_config.ca_file.as_deref(), Some("/etc/sl/ca.pem"));
    assert_eq!(h.tls_config.cert_file.as_deref(), Some(""));
    assert_eq!(h.tls_config.key_file.as_deref(), Some("/etc/sl/k"));
    assert_eq!(h.bearer_token_file.as_deref(), Some("/etc/sl/t"));
}
