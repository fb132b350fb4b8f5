//! The dns prober against a tiny responder on loopback.

use super::wire;
use crate::config::BlackboxConfig;
use crate::run_probe;
use std::time::Duration;

/// Answers every query for its name with two A records (or NXDOMAIN for
/// names starting with "nx"), echoing id and question.
async fn responder() -> u16 {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let (n, peer) = sock.recv_from(&mut buf).await.unwrap();
            let q = &buf[..n];
            let nx = q[13] == b'n' && q[14] == b'x';
            let mut r = q.to_vec();
            r[2] = 0x81;
            r[3] = if nx { 0x83 } else { 0x80 };
            if !nx {
                r[7] = 2;
                for ip in [[10, 0, 0, 1], [10, 0, 0, 2]] {
                    r.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
                    r.extend_from_slice(&ip);
                }
            }
            sock.send_to(&r, peer).await.unwrap();
        }
    });
    port
}

fn module(extra: &str) -> crate::Module {
    let text = format!("modules:\n  d:\n    prober: dns\n    dns:\n      query_name: example.org\n      query_type: A\n{extra}");
    BlackboxConfig::parse(&text, "t.yml")
        .unwrap()
        .modules
        .remove("d")
        .unwrap()
}

#[tokio::test]
async fn answers_rcodes_and_validation() {
    let port = responder().await;
    let target = format!("127.0.0.1:{port}");
    let t = Duration::from_secs(5);
    let r = run_probe(&module(""), &target, t).await;
    assert!(r.success, "{:?}", r.failure);
    assert_eq!(r.value("probe_dns_answer_rrs"), Some(2.0));
    assert_eq!(r.value("probe_dns_query_succeeded"), Some(1.0));
    let ok = "      validate_answer_rrs:\n        fail_if_none_matches_regexp: ['example\\.org\\.\\t60\\tIN\\tA\\t10\\.0\\.0\\.2']\n";
    assert!(run_probe(&module(ok), &target, t).await.success);
    let bad = "      validate_answer_rrs:\n        fail_if_matches_regexp: ['10\\.0\\.0\\.1$']\n";
    let r = run_probe(&module(bad), &target, t).await;
    assert!(!r.success);
    assert!(r.failure.unwrap().contains("answer RRs"));
    let all = "      validate_answer_rrs:\n        fail_if_all_match_regexp: ['10\\.0\\.0\\.']\n";
    assert!(!run_probe(&module(all), &target, t).await.success);
    let nx = "modules:\n  d:\n    prober: dns\n    dns:\n      query_name: nx.example\n      valid_rcodes: [NXDOMAIN]\n";
    let m = BlackboxConfig::parse(nx, "t")
        .unwrap()
        .modules
        .remove("d")
        .unwrap();
    assert!(run_probe(&m, &target, t).await.success);
    let mut m2 = m.clone();
    m2.dns.valid_rcodes.clear();
    let r = run_probe(&m2, &target, t).await;
    assert!(!r.success);
    assert!(r.failure.unwrap().contains("NXDOMAIN"));
}

#[tokio::test]
async fn refused_port_fails_quickly() {
    // A bound but closed UDP port answers with ICMP port unreachable.
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    drop(s);
    let r = run_probe(
        &module(""),
        &format!("127.0.0.1:{port}"),
        Duration::from_secs(5),
    )
    .await;
    assert!(!r.success);
    assert_eq!(r.value("probe_dns_query_succeeded"), Some(0.0));
    assert!(r.failure.unwrap().contains("connection refused"));
}

#[test]
fn record_text_is_miekg_style() {
    let rec = wire::Record {
        name: "a.".into(),
        rtype: 6,
        class: 1,
        ttl: 5,
        data: "x".into(),
        serial: None,
    };
    assert_eq!(rec.text(), "a.\t5\tIN\tSOA\tx");
}

#[tokio::test]
async fn over_tcp() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut len = [0u8; 2];
        s.read_exact(&mut len).await.unwrap();
        let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut q).await.unwrap();
        // One AAAA answer for ::1 (hand-built), behind its length prefix.
        q[2] = 0x81;
        q[3] = 0x80;
        q[7] = 1;
        q.extend_from_slice(b"\xc0\x0c\x00\x1c\x00\x01\x00\x00\x00\x3c\x00\x10");
        q.extend_from_slice(&[0; 15]);
        q.push(1);
        let mut out = (q.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(&q);
        s.write_all(&out).await.unwrap();
    });
    let text = "modules:\n  d:\n    prober: dns\n    dns:\n      transport_protocol: tcp\n      query_name: example.org\n      query_type: AAAA\n      validate_answer_rrs:\n        fail_if_none_matches_regexp: ['IN\\tAAAA\\t::1$']\n";
    let m = BlackboxConfig::parse(text, "t")
        .unwrap()
        .modules
        .remove("d")
        .unwrap();
    let r = run_probe(&m, &format!("127.0.0.1:{port}"), Duration::from_secs(5)).await;
    assert!(r.success, "{:?}", r.failure);
    assert_eq!(r.value("probe_dns_answer_rrs"), Some(1.0));
}
