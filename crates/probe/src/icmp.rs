//! The icmp prober: one echo request, as blackbox's `icmp.go` sends it.
//!
//! Unprivileged "ping sockets" (`SOCK_DGRAM` + `IPPROTO_ICMP`) work when
//! the process's group is inside `net.ipv4.ping_group_range`; otherwise a
//! raw socket needs `CAP_NET_RAW`. We try the former first, then the
//! latter, and say which sysctl or capability is missing when both fail.

use crate::config::IcmpProbe;
use crate::net;
use crate::result::Recorder;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;
use tokio::net::UdpSocket;

const HELP_PHASE: &str = "Duration of icmp request by phase";
const HELP_HOP: &str = "Replied packet hop-limit (TTL for ipv4)";

/// Runs the icmp prober against `target` (a host name or address).
pub(crate) async fn probe(rec: &mut Recorder, target: &str, cfg: &IcmpProbe) -> bool {
    for phase in ["resolve", "rtt", "setup"] {
        rec.set_with(
            "probe_icmp_duration_seconds",
            HELP_PHASE,
            &[("phase", phase)],
            0.0,
        );
    }
    let (ip, took) = match net::resolve(
        rec,
        target,
        cfg.preferred_ip_protocol,
        cfg.ip_protocol_fallback,
    )
    .await
    {
        Ok(r) => r,
        Err(_) => return false,
    };
    rec.set_with(
        "probe_icmp_duration_seconds",
        HELP_PHASE,
        &[("phase", "resolve")],
        took,
    );
    let setup_start = Instant::now();
    let (sock, raw) = match open(ip, cfg) {
        Ok(s) => s,
        Err(e) => {
            rec.fail("Error listening to socket", &e);
            return false;
        }
    };
    let id = fastrand::u16(..);
    let seq = fastrand::u16(..);
    let mut payload = b"Prometheus Blackbox Exporter".to_vec();
    if cfg.payload_size > 0 {
        payload = (0..cfg.payload_size)
            .map(|i| b'0' + (i % 10) as u8)
            .collect();
    }
    let packet = echo_request(ip.is_ipv4(), id, seq, &payload);
    rec.set_with(
        "probe_icmp_duration_seconds",
        HELP_PHASE,
        &[("phase", "setup")],
        setup_start.elapsed().as_secs_f64(),
    );
    rec.log("info", "Writing out packet", &[]);
    let rtt_start = Instant::now();
    if let Err(e) = sock.send_to(&packet, SocketAddr::new(ip, 0)).await {
        rec.fail("Error writing to socket", &e.to_string());
        return false;
    }
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match sock.recv(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                rec.fail("Error reading from socket", &e.to_string());
                return false;
            }
        };
        let (icmp, ttl) = if raw && ip.is_ipv4() {
            // Raw IPv4 sockets hand us the IP header too.
            let ihl = usize::from(buf[0] & 0x0f) * 4;
            (&buf[ihl.min(n)..n], Some(buf[8]))
        } else {
            (&buf[..n], None)
        };
        if is_reply(ip.is_ipv4(), icmp, id, seq, !raw) {
            rec.set_with(
                "probe_icmp_duration_seconds",
                HELP_PHASE,
                &[("phase", "rtt")],
                rtt_start.elapsed().as_secs_f64(),
            );
            if let Some(ttl) = ttl {
                rec.set("probe_icmp_reply_hop_limit", HELP_HOP, f64::from(ttl));
            }
            rec.log("info", "Found matching reply packet", &[]);
            return true;
        }
    }
}

/// Opens the ICMP socket. tokio's UdpSocket serves as the async wrapper:
/// it only issues sendto/recvfrom, which mean the same on ICMP sockets,
/// and saves registering a raw descriptor by hand (which is unsafe).
fn open(ip: IpAddr, cfg: &IcmpProbe) -> Result<(UdpSocket, bool), String> {
    let (domain, proto) = if ip.is_ipv4() {
        (Domain::IPV4, Protocol::ICMPV4)
    } else {
        (Domain::IPV6, Protocol::ICMPV6)
    };
    let (sock, raw) = match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => (s, false),
        Err(dgram_err) => match Socket::new(domain, Type::RAW, Some(proto)) {
            Ok(s) => (s, true),
            Err(raw_err) => {
                return Err(format!(
                    "no ICMP socket: unprivileged ping socket refused ({dgram_err}; allow the group in net.ipv4.ping_group_range) and raw socket refused ({raw_err}; needs CAP_NET_RAW)"
                ))
            }
        },
    };
    if !cfg.source_ip_address.is_empty() {
        let src: IpAddr = cfg
            .source_ip_address
            .parse()
            .map_err(|_| format!("invalid source_ip_address {:?}", cfg.source_ip_address))?;
        sock.bind(&SockAddr::from(SocketAddr::new(src, 0)))
            .map_err(|e| e.to_string())?;
    }
    if cfg.ttl > 0 {
        let r = if ip.is_ipv4() {
            sock.set_ttl_v4(cfg.ttl as u32)
        } else {
            sock.set_unicast_hops_v6(cfg.ttl as u32)
        };
        r.map_err(|e| format!("setting ttl: {e}"))?;
    }
    sock.set_nonblocking(true).map_err(|e| e.to_string())?;
    let std_sock = std::net::UdpSocket::from(sock);
    Ok((
        UdpSocket::from_std(std_sock).map_err(|e| e.to_string())?,
        raw,
    ))
}

/// An echo request with the Internet checksum filled in (the kernel fills
/// it for ICMPv6, where it covers a pseudo-header we do not see).
fn echo_request(v4: bool, id: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![if v4 { 8 } else { 128 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(payload);
    if v4 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in b.chunks(2) {
        let w = u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
        sum += w;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Whether `icmp` is the echo reply to our request. Ping sockets rewrite
/// the identifier to their port, so only the sequence is compared there.
fn is_reply(v4: bool, icmp: &[u8], id: u16, seq: u16, dgram: bool) -> bool {
    if icmp.len() < 8 || icmp[0] != if v4 { 0 } else { 129 } {
        return false;
    }
    let rid = u16::from_be_bytes([icmp[4], icmp[5]]);
    let rseq = u16::from_be_bytes([icmp[6], icmp[7]]);
    rseq == seq && (dgram || rid == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_known_packet() {
        // Echo request id 1 seq 1 without payload: words 0800 0000 0001 0001,
        // sum 0x0802, complement 0xf7fd.
        let p = echo_request(true, 1, 1, b"");
        assert_eq!(&p[2..4], &[0xf7, 0xfd]);
        assert!(is_reply(true, &[0, 0, 0, 0, 0, 1, 0, 1], 1, 1, false));
        assert!(!is_reply(true, &[0, 0, 0, 0, 0, 2, 0, 1], 1, 1, false));
    }

    #[tokio::test]
    async fn pings_localhost_or_says_why_not() {
        let mut rec = Recorder::default();
        let cfg = IcmpProbe {
            preferred_ip_protocol: crate::config::IpProtocol::Ip4,
            ..IcmpProbe::default()
        };
        let ok = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            probe(&mut rec, "127.0.0.1", &cfg),
        )
        .await;
        match ok {
            Ok(true) => assert!(rec.failure.is_none()),
            Ok(false) => {
                let why = rec.failure.unwrap();
                assert!(why.contains("ping_group_range"), "{why}");
                eprintln!("skip: no ICMP socket here: {why}");
            }
            Err(_) => panic!("no echo reply from 127.0.0.1 within 5s"),
        }
    }
}
