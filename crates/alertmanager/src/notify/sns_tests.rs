use super::*;
use crate::notify::tests::{build, ctx, sample_alerts};
use crate::notify::testserver::TestServer;
use crate::notify::Notifier;

#[test]
fn signature_v4_test_vector() {
    // "get-vanilla" from AWS's Signature Version 4 test suite.
    let mut h = BTreeMap::new();
    h.insert("host".to_owned(), "example.amazonaws.com".to_owned());
    h.insert("x-amz-date".to_owned(), "20150830T123600Z".to_owned());
    let key = SigningKey {
        region: "us-east-1",
        service: "service",
        access_key: "AKIDEXAMPLE",
        secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    let auth = sign_v4("GET", &h, b"", "20150830T123600Z", &key);
    assert_eq!(
        auth,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn form_encoding_as_go() {
    assert_eq!(query_escape("a b*~/é"), "a+b%2A~%2F%C3%A9");
    let mut p = BTreeMap::new();
    p.insert("b".to_owned(), "2".to_owned());
    p.insert("a".to_owned(), "1 2".to_owned());
    assert_eq!(encode_form(&p), "a=1+2&b=2");
}

#[tokio::test]
async fn publish_to_a_fifo_topic() {
    let mut srv = TestServer::start().await;
    let cfg: SnsConfig = serde_saphyr::from_str(&format!(
        "api_url: '{}/'\nsigv4: {{region: eu-west-1, access_key: AK, secret_key: SK}}\n\
         topic_arn: 'arn:aws:sns:eu-west-1:1:alerts.fifo'\nattributes: {{team: '{{{{ .CommonLabels.job }}}}'}}",
        srv.url
    ))
    .unwrap();
    let n = build(&cfg, Sns::new);
    n.notify(&ctx(), &sample_alerts()).await.unwrap();
    let req = srv.next().await;
    let body = String::from_utf8(req.body.clone()).unwrap();
    let key = group_key_hash(r#"{}:{alertname="Disk"}"#);
    assert!(
        body.starts_with("Action=Publish&Message=%5BFIRING%3A1%5D+Disk+%28api%29%0A%0AFiring"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "&MessageDeduplicationId={key}&MessageGroupId={key}&"
        )),
        "{body}"
    );
    assert!(body.contains("&MessageAttributes.entry.1.Name=team&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=api&"), "{body}");
    assert!(body.ends_with("&Subject=%5BFIRING%3A1%5D+Disk+%28api%29&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3Aalerts.fifo&Version=2010-03-31"), "{body}");
    let auth = &req.headers["authorization"];
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/sns/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date, Signature="), "{auth}");
    // The signature covers what was sent.
    let mut h = BTreeMap::new();
    for k in ["content-length", "content-type", "host", "x-amz-date"] {
        h.insert(k.to_owned(), req.headers[k].clone());
    }
    let key = SigningKey {
        region: "eu-west-1",
        service: "sns",
        access_key: "AK",
        secret_key: "SK",
    };
    let again = sign_v4("POST", &h, &req.body, &req.headers["x-amz-date"], &key);
    assert_eq!(&again, auth);
}

#[test]
fn sms_messages_are_cut_to_1600_bytes() {
    let cfg: SnsConfig = serde_saphyr::from_str(
        "sigv4: {region: r, access_key: a, secret_key: s}\nphone_number: '+100'\nsubject: ''\nmessage: '{{ range .Alerts }}{{ .GeneratorURL }}{{ end }}'",
    )
    .unwrap();
    let n = build(&cfg, Sns::new);
    let mut alerts = sample_alerts();
    alerts[0].generator_url = "é".repeat(1000);
    let p = n
        .parameters(&ctx(), &ctx().data(&alerts).to_value())
        .unwrap();
    // 800 two-byte characters fill 1600 bytes exactly.
    assert_eq!(p["Message"], "é".repeat(800));
    assert_eq!(p["MessageAttributes.entry.1.Name"], "truncated");
    assert!(!p.contains_key("Subject"));
}

/// The same alert published by a real Alertmanager 0.25 (aws-sdk-go) and by
/// us: the form bodies must be equal, and our signer must reproduce the
/// signature the SDK computed over its own request.
#[tokio::test]
async fn publish_matches_real_alertmanager() {
    use crate::notify::peer;
    let mut theirs_srv = TestServer::start().await;
    let receivers = |url: &str| {
        format!(
            "- name: 'team'\n  sns_configs:\n  - api_url: '{url}/'\n\
             \x20   sigv4: {{region: eu-west-1, access_key: AKIDEXAMPLE, secret_key: 'wJalr/K7+EXAMPLE'}}\n\
             \x20   topic_arn: 'arn:aws:sns:eu-west-1:123:alerts'\n    subject: '{{{{ .Status }}}} * {{{{ .CommonLabels.job }}}}'\n\
             \x20   message: 'm ~ {{{{ .CommonAnnotations.summary }}}} é'\n    attributes: {{b: '2', a: '{{{{ .Status }}}}'}}\n"
        )
    };
    let cfg = format!(
        "route:\n  receiver: 'team'\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1m\nreceivers:\n{}",
        receivers(&theirs_srv.url)
    );
    let Some(am) = peer::start("sns", &cfg).await else {
        return;
    };
    am.post(&serde_json::json!([peer::posted("a:1", None)]))
        .await;
    let theirs = theirs_srv.next().await;
    let their_body = String::from_utf8(theirs.body.clone()).unwrap();

    // Their signature, recomputed from their request with our signer.
    let auth = &theirs.headers["authorization"];
    let signed = auth
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap();
    let mut h = BTreeMap::new();
    for k in signed.split(';') {
        h.insert(k.to_owned(), theirs.headers[k].clone());
    }
    let date = &theirs.headers["x-amz-date"];
    let key = SigningKey {
        region: "eu-west-1",
        service: "sns",
        access_key: "AKIDEXAMPLE",
        secret_key: "wJalr/K7+EXAMPLE",
    };
    let again = sign_v4("POST", &h, &theirs.body, date, &key);
    assert_eq!(&again, auth);

    let mut ours_srv = TestServer::start().await;
    let recv: Vec<crate::config::receiver::Receiver> =
        serde_saphyr::from_str(&receivers(&ours_srv.url)).unwrap();
    let n = Sns::new(
        0,
        &recv[0].sns_configs[0],
        &GlobalConfig::default(),
        Arc::new(Templates::default()),
    )
    .unwrap();
    let mut c = ctx();
    c.receiver = "team".into();
    c.group_key = r#"{}:{alertname="PeerTest"}"#.into();
    let mut alert = sample_alerts().remove(0);
    alert.annotations =
        crate::notify::tests::ls(&[("summary", "peer test"), ("instance_note", "a:1")]);
    alert.labels = crate::notify::tests::ls(&[
        ("alertname", "PeerTest"),
        ("job", "api"),
        ("instance", "a:1"),
    ]);
    n.notify(&c, &[alert]).await.unwrap();
    let ours = ours_srv.next().await;
    assert_eq!(their_body, String::from_utf8(ours.body).unwrap());
    assert_eq!(theirs.headers["content-type"], ours.headers["content-type"]);
    assert_eq!(
        signed,
        ours.headers["authorization"]
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .unwrap()
    );
}
