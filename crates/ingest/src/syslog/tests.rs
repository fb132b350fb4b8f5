//! Syslog (issue 15): both formats parsed, Promtail's labels, and the
//! listener over TCP (both framings), UDP and logger(1). Expected values
//! are read off the messages by hand.

use super::parse::{parse, Message};
use super::*;
use crate::loki::decode::StreamLabels;
use sightline_core::logs::{LogHints, LogQuerier, MemLogStore};
use sightline_core::Matcher;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

#[test]
fn rfc5424_with_structured_data() {
    let m = parse(
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"lication\"][other x=\"1\"] \u{feff}An application event\n",
    )
    .unwrap();
    assert_eq!(
        m,
        Message {
            facility: 20, // local4: 165 = 20 * 8 + 5
            severity: 5,  // notice
            timestamp_ns: Some(1_065_910_455_003_000_000),
            hostname: Some("mymachine.example.com".into()),
            app_name: Some("evntslog".into()),
            proc_id: Some("42".into()),
            msg_id: Some("ID47".into()),
            structured_data: vec![
                (
                    "exampleSDID@32473".into(),
                    vec![
                        ("iut".into(), "3".into()),
                        ("eventSource".into(), "App\"lication".into())
                    ]
                ),
                ("other".into(), vec![("x".into(), "1".into())]),
            ],
            message: "An application event".into(),
            rfc5424: true,
        }
    );
    // Nil values, no SD, no MSG.
    let m = parse("<34>1 - - - - - -").unwrap();
    assert_eq!((m.facility, m.severity), (4, 2));
    assert_eq!(
        (m.timestamp_ns, m.hostname, m.app_name, m.message.as_str()),
        (None, None, None, "")
    );
}

#[test]
fn rfc3164_as_senders_write_it() {
    let m = parse("<13>Dec  7 06:30:01 web-1 nginx[812]: GET / 200").unwrap();
    assert_eq!((m.facility, m.severity, m.rfc5424), (1, 5, false));
    assert_eq!(m.hostname.as_deref(), Some("web-1"));
    assert_eq!(m.app_name.as_deref(), Some("nginx"));
    assert_eq!(m.proc_id.as_deref(), Some("812"));
    assert_eq!(m.message, "GET / 200");
    let t = m.timestamp_ns.unwrap();
    assert_eq!(
        t.rem_euclid(86_400_000_000_000),
        (6 * 3600 + 30 * 60 + 1) * 1_000_000_000
    );
    // rsyslog's forward format: an RFC 3339 time.
    let m = parse("<30>2026-12-07T06:30:01.5+00:00 db-2 cron: job done").unwrap();
    assert_eq!(m.timestamp_ns, Some(1_796_625_001_500_000_000));
    assert_eq!(
        (
            m.hostname.as_deref(),
            m.app_name.as_deref(),
            m.proc_id,
            m.message.as_str()
        ),
        (Some("db-2"), Some("cron"), None, "job done")
    );
    // No time, no host: the tag and the text.
    let m = parse("<11>su: 'su root' failed").unwrap();
    assert_eq!(
        (m.app_name.as_deref(), m.message.as_str()),
        (Some("su"), "'su root' failed")
    );
    // Nothing recognizable after the priority: all of it is the message.
    let m = parse("<11>just text").unwrap();
    assert_eq!((m.app_name, m.message.as_str()), (None, "just text"));
}

#[test]
fn malformed_messages_say_where() {
    for (raw, want) in [
        (
            "hello",
            "syslog message at byte 0: expected \"<\" starting the priority",
        ),
        (
            "<999>1 -",
            "syslog message at byte 1: priority is not a number from 0 to 191",
        ),
        (
            "<1234",
            "syslog message at byte 1: expected a priority of 1 to 3 digits and \">\"",
        ),
        (
            "<14>1 2003-13-11T22:14:15Z h a p m -",
            "syslog message at byte 6: bad timestamp \"2003-13-11T22:14:15Z\": ",
        ),
        (
            "<14>1 - h a p m [x a=\"1\"",
            "syslog message at byte 24: unterminated structured data element",
        ),
        (
            "<14>2 - h a p m -",
            "syslog message at byte 4: unsupported RFC 5424 version \"2\"",
        ),
    ] {
        let e = parse(raw).unwrap_err();
        assert!(e.starts_with(want), "{raw}: {e}");
    }
}

fn yaml_config(extra: &str) -> SyslogConfig {
    serde_saphyr::from_str(&format!(
        "listen_address: 127.0.0.1:0\nlabels: {{job: syslog}}\nlabel_structured_data: true\n{extra}relabel_configs:\n  - source_labels: [__syslog_message_hostname]\n    target_label: host\n  - source_labels: [__syslog_message_app_name]\n    target_label: app\n  - source_labels: [__syslog_message_severity]\n    target_label: level\n  - source_labels: [__syslog_message_sd_origin_ip]\n    target_label: origin\n"
    ))
    .unwrap()
}

#[test]
fn labels_as_promtail_makes_them() {
    let cfg = yaml_config("use_incoming_timestamp: true\n");
    let raw = "<11>1 2003-10-11T22:14:15Z h1 app1 - - [origin ip=\"10.0.0.1\"] boom";
    let m = parse(raw).unwrap();
    let peer = "127.0.0.1:5000".parse().unwrap();
    let s = listener::to_stream(&m, raw, peer, &cfg, 7).unwrap();
    assert_eq!(
        s.labels,
        StreamLabels::Pairs(
            [
                ("app", "app1"),
                ("host", "h1"),
                ("job", "syslog"),
                ("level", "error"),
                ("origin", "10.0.0.1")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .to_vec()
        )
    );
    assert_eq!(s.entries[0].line, "boom");
    assert_eq!(s.entries[0].ts_ns, 1_065_910_455_000_000_000);
    // Without use_incoming_timestamp, the time of receipt; with
    // use_rfc5424_message, the whole message.
    let mut cfg = SyslogConfig::new("x");
    cfg.use_rfc5424_message = true;
    let s = listener::to_stream(&m, raw, peer, &cfg, 7).unwrap();
    assert_eq!((s.entries[0].ts_ns, s.entries[0].line.as_str()), (7, raw));
    // No labels left: the push path refuses it (Loki's message).
    assert_eq!(s.labels, StreamLabels::Pairs(vec![]));
}

async fn wait_lines(store: &MemLogStore, m: &[Matcher], n: usize) -> Vec<String> {
    for _ in 0..200 {
        let lines: Vec<String> = store
            .select("fake", m, 0, i64::MAX, &LogHints::default())
            .unwrap()
            .into_iter()
            .flat_map(|s| s.entries.map(|e| e.unwrap().line).collect::<Vec<_>>())
            .collect();
        if lines.len() >= n {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} lines arrived");
}

#[tokio::test]
async fn tcp_both_framings_and_udp() {
    let store = Arc::new(MemLogStore::new());
    let cancel = CancellationToken::new();
    let tcp = SyslogListener::bind(yaml_config("")).await.unwrap();
    let tcp_addr = tcp.local_addr().unwrap();
    let mut udp_cfg = yaml_config("");
    udp_cfg.listen_protocol = Protocol::Udp;
    udp_cfg.labels.insert("job".into(), "syslog-udp".into());
    let udp = SyslogListener::bind(udp_cfg).await.unwrap();
    let udp_addr = udp.local_addr().unwrap();
    let t1 = tokio::spawn(tcp.run(store.clone(), Default::default(), cancel.clone()));
    let t2 = tokio::spawn(udp.run(store.clone(), Default::default(), cancel.clone()));

    let mut c = tokio::net::TcpStream::connect(tcp_addr).await.unwrap();
    let framed = "<14>1 - h1 a - - - octet\nwith newline";
    let payload = format!(
        "{} {framed}<14>Dec  7 06:30:01 h1 a: newline one\n<14>Dec  7 06:30:02 h1 a: newline two\n",
        framed.len()
    );
    c.write_all(payload.as_bytes()).await.unwrap();
    c.shutdown().await.unwrap();
    let u = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    u.send_to(b"<14>1 - h2 b - - - datagram\n", udp_addr)
        .await
        .unwrap();

    let mut got = wait_lines(
        &store,
        &[
            Matcher::equal("job", "syslog"),
            Matcher::equal("host", "h1"),
        ],
        3,
    )
    .await;
    got.sort();
    assert_eq!(got, ["newline one", "newline two", "octet\nwith newline"]);
    let got = wait_lines(
        &store,
        &[
            Matcher::equal("job", "syslog-udp"),
            Matcher::equal("app", "b"),
        ],
        1,
    )
    .await;
    assert_eq!(got, ["datagram"]);
    cancel.cancel();
    t1.await.unwrap();
    t2.await.unwrap();
}

/// util-linux logger(1), a real sender, over TCP (octet-counted and
/// newline-framed) and UDP, RFC 5424 and RFC 3164.
#[tokio::test]
async fn logger_sends_to_the_listener() {
    let Some(logger) = sightline_testkit::peer("logger", "apt-get install bsdutils") else {
        return;
    };
    let store = Arc::new(MemLogStore::new());
    let cancel = CancellationToken::new();
    let tcp = SyslogListener::bind(yaml_config("")).await.unwrap();
    let tcp_port = tcp.local_addr().unwrap().port().to_string();
    let mut udp_cfg = yaml_config("");
    udp_cfg.listen_protocol = Protocol::Udp;
    let udp = SyslogListener::bind(udp_cfg).await.unwrap();
    let udp_port = udp.local_addr().unwrap().port().to_string();
    let t1 = tokio::spawn(tcp.run(store.clone(), Default::default(), cancel.clone()));
    let t2 = tokio::spawn(udp.run(store.clone(), Default::default(), cancel.clone()));
    let runs: [(&[&str], &str); 4] = [
        (
            &["--tcp", "--rfc5424", "--octet-count", "--port", &tcp_port],
            "tcp 5424 octet",
        ),
        (
            &["--tcp", "--rfc5424", "--port", &tcp_port],
            "tcp 5424 newline",
        ),
        (&["--tcp", "--rfc3164", "--port", &tcp_port], "tcp 3164"),
        (&["--udp", "--rfc5424", "--port", &udp_port], "udp 5424"),
    ];
    for (args, text) in runs {
        let mut cmd = std::process::Command::new(&logger);
        cmd.args([
            "--server",
            "127.0.0.1",
            "--tag",
            "shop",
            "--priority",
            "local3.warning",
        ])
        .args(args)
        .arg(text);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{text}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut got = wait_lines(
        &store,
        &[
            Matcher::equal("app", "shop"),
            Matcher::equal("level", "warning"),
        ],
        4,
    )
    .await;
    got.sort();
    assert_eq!(
        got,
        ["tcp 3164", "tcp 5424 newline", "tcp 5424 octet", "udp 5424"]
    );
    cancel.cancel();
    t1.await.unwrap();
    t2.await.unwrap();
}

/// Debian's rsyslog as a forwarder (issue 15): logger(1) sends to
/// rsyslog's UDP input; rsyslog forwards every message to our TCP port in
/// RFC 5424 with octet counting and to our UDP port in the traditional
/// (RFC 3164) format, as people configure it to ship logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsyslog_forwards_to_the_listener() {
    // rsyslogd lives in /usr/sbin, which a user's PATH may lack.
    let rsyslogd = sightline_testkit::find_on_path("rsyslogd").or_else(|| {
        let p = std::path::PathBuf::from("/usr/sbin/rsyslogd");
        p.is_file().then_some(p)
    });
    let Some(rsyslogd) = rsyslogd else {
        sightline_testkit::skip(
            "peer \"rsyslogd\" is not installed (apt-get install rsyslog; .ci/run installs every peer)",
        );
        return;
    };
    let Some(logger) = sightline_testkit::peer("logger", "apt-get install bsdutils") else {
        return;
    };
    let store = Arc::new(MemLogStore::new());
    let cancel = CancellationToken::new();
    let tcp = SyslogListener::bind(yaml_config("")).await.unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let mut udp_cfg = yaml_config("");
    udp_cfg.listen_protocol = Protocol::Udp;
    udp_cfg.labels.insert("job".into(), "syslog-udp".into());
    let udp = SyslogListener::bind(udp_cfg).await.unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let t1 = tokio::spawn(tcp.run(store.clone(), Default::default(), cancel.clone()));
    let t2 = tokio::spawn(udp.run(store.clone(), Default::default(), cancel.clone()));

    let dir = sightline_testkit::TempDir::new("rsyslog");
    let in_port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.path().join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            r#"global(workDirectory="{dir}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{in_port}")
action(type="omfwd" target="127.0.0.1" port="{tcp_port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="{udp_port}" protocol="udp" template="RSYSLOG_TraditionalForwardFormat")
"#,
            dir = dir.path().display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(&rsyslogd)
        .arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(dir.path().join("rsyslogd.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let send = |text: String| {
        let logger = logger.clone();
        let port = in_port.to_string();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(logger)
                .args([
                    "--server",
                    "127.0.0.1",
                    "--udp",
                    "--port",
                    &port,
                    "--rfc3164",
                ])
                .args(["--tag", "shop", "--priority", "local3.err", &text])
                .output()
                .unwrap()
        })
    };
    // rsyslog starts listening a moment after it starts: ping until a
    // ping comes through, then send the real lines.
    let ping = [
        Matcher::equal("job", "syslog"),
        Matcher::equal("app", "shop"),
    ];
    let mut ready = false;
    for i in 0..100 {
        send(format!("ping {i}")).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if !store
            .select("fake", &ping, 0, i64::MAX, &LogHints::default())
            .unwrap()
            .is_empty()
        {
            ready = true;
            break;
        }
    }
    assert!(ready, "rsyslog forwarded nothing");
    for text in ["checkout failed", "payment retried"] {
        let out = send(text.to_owned()).await.unwrap();
        assert!(out.status.success());
    }
    let lines = |job: &'static str| {
        let store = store.clone();
        async move {
            let m = [
                Matcher::equal("job", job),
                Matcher::equal("app", "shop"),
                Matcher::equal("level", "error"),
            ];
            let mut got: Vec<String> = wait_lines(&store, &m, 2)
                .await
                .into_iter()
                .filter(|l| !l.trim_start().starts_with("ping "))
                .collect();
            for _ in 0..100 {
                if got.len() >= 2 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                got = wait_lines(&store, &m, 2)
                    .await
                    .into_iter()
                    .filter(|l| !l.trim_start().starts_with("ping "))
                    .collect();
            }
            got.sort();
            got
        }
    };
    // rsyslog's `msg` of a BSD message keeps the space after `shop:`, and
    // its RFC 5424 template sends it as MSG: the line starts with it (as
    // in Promtail, which keeps MSG as it is).
    assert_eq!(
        lines("syslog").await,
        [" checkout failed", " payment retried"]
    );
    assert_eq!(
        lines("syslog-udp").await,
        ["checkout failed", "payment retried"]
    );
    let _ = child.kill();
    let _ = child.wait();
    cancel.cancel();
    t1.await.unwrap();
    t2.await.unwrap();
}

#[test]
fn config_defaults_and_unknown_keys() {
    let c: SyslogConfig = serde_saphyr::from_str("listen_address: 0.0.0.0:1514\n").unwrap();
    assert_eq!(c, SyslogConfig::new("0.0.0.0:1514"));
    assert_eq!(c.max_message_length, 8192);
    assert_eq!(
        c.idle_timeout,
        sightline_core::duration::Duration::from_secs(120)
    );
    let c: SyslogConfig =
        serde_saphyr::from_str("listen_address: x\nlisten_protocol: udp\nsyslog_format: rfc3164\n")
            .unwrap();
    assert_eq!(c.listen_protocol, Protocol::Udp);
    let e =
        serde_saphyr::from_str::<SyslogConfig>("listen_address: x\nlisten_port: 1\n").unwrap_err();
    assert!(e.to_string().contains("listen_port"), "{e}");
}

/// Every prefix of real messages (cut anywhere, as a short read or
/// `max_message_length` cuts them) parses or errors, never panics.
#[test]
fn truncated_messages_never_panic() {
    for raw in [
        "<165>1 2003-10-11T22:14:15.003Z mymachine évntslog 42 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Äpp\\\"lication\"] \u{feff}Ünïcode event",
        "<13>Dec  7 06:30:01 web-1 nginx[812]: GET /é 200",
        "<30>2026-12-07T06:30:01.5+00:00 db-2 cron: job done",
    ] {
        for (i, _) in raw.char_indices() {
            let _ = parse(&raw[..i]);
        }
    }
}
