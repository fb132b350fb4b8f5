//! The dns prober: one query over UDP, TCP or TLS, checked as blackbox's
//! `dns.go` checks it (rcode, then the regexps on each section).

pub(crate) mod wire;

use crate::config::{DnsProbe, DnsRrValidator};
use crate::net;
use crate::result::Recorder;
use std::net::SocketAddr;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wire::Record;

const HELP_PHASE: &str = "Duration of DNS request by phase";
const HELP_AN: &str = "Returns number of entries in the answer resource record list";
const HELP_NS: &str = "Returns number of entries in the authority resource record list";
const HELP_AR: &str = "Returns number of entries in the additional resource record list";
const HELP_OK: &str = "Displays whether or not the query was executed successfully";
const HELP_SERIAL: &str = "Returns the serial number of the zone";

/// Runs the dns prober against `target` (`host[:port]`).
pub(crate) async fn probe(rec: &mut Recorder, target: &str, cfg: &DnsProbe) -> bool {
    for (name, help) in [
        ("probe_dns_answer_rrs", HELP_AN),
        ("probe_dns_authority_rrs", HELP_NS),
        ("probe_dns_additional_rrs", HELP_AR),
        ("probe_dns_query_succeeded", HELP_OK),
    ] {
        rec.set(name, help, 0.0);
    }
    for phase in ["connect", "request", "resolve"] {
        rec.set_with(
            "probe_dns_duration_seconds",
            HELP_PHASE,
            &[("phase", phase)],
            0.0,
        );
    }
    let tcp = cfg.transport_protocol == "tcp" || cfg.dns_over_tls;
    let default_port = if cfg.dns_over_tls { 853 } else { 53 };
    let (host, port) = match net::split_host_port(target, Some(default_port)) {
        Ok(hp) => hp,
        Err(e) => {
            rec.fail("Error splitting target address and port", &e);
            return false;
        }
    };
    let (ip, took) = match net::resolve(
        rec,
        &host,
        cfg.preferred_ip_protocol,
        cfg.ip_protocol_fallback,
    )
    .await
    {
        Ok(r) => r,
        Err(_) => return false,
    };
    rec.set_with(
        "probe_dns_duration_seconds",
        HELP_PHASE,
        &[("phase", "resolve")],
        took,
    );
    let qtype = if cfg.query_type.is_empty() {
        255
    } else {
        wire::type_code(&cfg.query_type).unwrap_or(255)
    };
    let qclass = if cfg.query_class.is_empty() {
        1
    } else {
        wire::class_code(&cfg.query_class).unwrap_or(1)
    };
    let id = fastrand::u16(..);
    let query = match wire::encode_query(id, &cfg.query_name, qtype, qclass, cfg.recursion_desired)
    {
        Ok(q) => q,
        Err(e) => {
            rec.fail("Error building DNS query", &e);
            return false;
        }
    };
    let addr = SocketAddr::new(ip, port);
    let proto = match (tcp, ip.is_ipv4()) {
        (false, true) => "udp4",
        (false, false) => "udp6",
        (true, true) => "tcp4",
        (true, false) => "tcp6",
    };
    rec.log(
        "info",
        "Making DNS query",
        &[
            ("target", &addr.to_string()),
            ("dial_protocol", proto),
            ("query", &cfg.query_name),
            ("type", &qtype.to_string()),
            ("class", &qclass.to_string()),
        ],
    );
    let raw = if tcp {
        exchange_tcp(rec, addr, &query, cfg, &host).await
    } else {
        exchange_udp(rec, addr, &query).await
    };
    let raw = match raw {
        Ok(r) => r,
        Err(e) => {
            rec.fail("Error while sending a DNS query", &e);
            return false;
        }
    };
    let msg = match wire::decode(&raw) {
        Ok(m) if m.id == id => m,
        Ok(_) => {
            rec.fail("Error while sending a DNS query", "dns: id mismatch");
            return false;
        }
        Err(e) => {
            rec.fail("Error while sending a DNS query", &e);
            return false;
        }
    };
    rec.set("probe_dns_query_succeeded", HELP_OK, 1.0);
    rec.set("probe_dns_answer_rrs", HELP_AN, msg.answer.len() as f64);
    rec.set(
        "probe_dns_authority_rrs",
        HELP_NS,
        msg.authority.len() as f64,
    );
    rec.set(
        "probe_dns_additional_rrs",
        HELP_AR,
        msg.additional.len() as f64,
    );
    if let Some(serial) = msg.answer.iter().find_map(|r| r.serial) {
        rec.set("probe_dns_serial", HELP_SERIAL, f64::from(serial));
    }
    rec.log(
        "info",
        "Got response",
        &[("rcode", &wire::rcode_name(msg.rcode))],
    );
    let valid: Vec<u16> = if cfg.valid_rcodes.is_empty() {
        vec![0]
    } else {
        cfg.valid_rcodes
            .iter()
            .filter_map(|r| wire::rcode_code(r))
            .collect()
    };
    if !valid.contains(&msg.rcode) {
        rec.fail(
            "Rcode is not one of the valid rcodes",
            &format!("string_rcode={}", wire::rcode_name(msg.rcode)),
        );
        return false;
    }
    for (section, v, rrs) in [
        ("answer", &cfg.validate_answer_rrs, &msg.answer),
        ("authority", &cfg.validate_authority_rrs, &msg.authority),
        ("additional", &cfg.validate_additional_rrs, &msg.additional),
    ] {
        if let Err(e) = validate_rrs(rrs, v) {
            rec.fail(&format!("Validation of the {section} RRs failed"), &e);
            return false;
        }
    }
    true
}

/// blackbox's `validRRs`.
pub(crate) fn validate_rrs(rrs: &[Record], v: &DnsRrValidator) -> Result<(), String> {
    let texts: Vec<String> = rrs.iter().map(Record::text).collect();
    if texts.is_empty()
        && (!v.fail_if_not_matches_regexp.is_empty() || !v.fail_if_none_matches_regexp.is_empty())
    {
        return Err("fail_if_not_matches_regexp specified but no RRs returned".into());
    }
    for t in &texts {
        if let Some(re) = v.fail_if_matches_regexp.iter().find(|re| re.re.is_match(t)) {
            return Err(format!(
                "at least one RR matched regexp {:?}: {t}",
                re.source
            ));
        }
        if let Some(re) = v
            .fail_if_not_matches_regexp
            .iter()
            .find(|re| !re.re.is_match(t))
        {
            return Err(format!(
                "at least one RR did not match regexp {:?}: {t}",
                re.source
            ));
        }
    }
    for re in &v.fail_if_all_match_regexp {
        if !texts.is_empty() && texts.iter().all(|t| re.re.is_match(t)) {
            return Err(format!("all RRs matched regexp {:?}", re.source));
        }
    }
    for re in &v.fail_if_none_matches_regexp {
        if !texts.iter().any(|t| re.re.is_match(t)) {
            return Err(format!("none of the RRs matched regexp {:?}", re.source));
        }
    }
    Ok(())
}

async fn exchange_udp(
    rec: &mut Recorder,
    addr: SocketAddr,
    query: &[u8],
) -> Result<Vec<u8>, String> {
    let t0 = Instant::now();
    let bind: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("addr")
    } else {
        "[::]:0".parse().expect("addr")
    };
    let sock = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| e.to_string())?;
    sock.connect(addr)
        .await
        .map_err(|e| format!("dial udp {addr}: {e}"))?;
    rec.set_with(
        "probe_dns_duration_seconds",
        HELP_PHASE,
        &[("phase", "connect")],
        t0.elapsed().as_secs_f64(),
    );
    let t1 = Instant::now();
    let local = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let result = async {
        sock.send(query).await?;
        let mut buf = vec![0u8; 65535];
        let n = sock.recv(&mut buf).await?;
        buf.truncate(n);
        Ok::<_, std::io::Error>(buf)
    }
    .await;
    rec.set_with(
        "probe_dns_duration_seconds",
        HELP_PHASE,
        &[("phase", "request")],
        t1.elapsed().as_secs_f64(),
    );
    result.map_err(|e| {
        format!(
            "read udp {local}->{addr}: read: {}",
            crate::net::io_text(&e)
        )
    })
}

async fn exchange_tcp(
    rec: &mut Recorder,
    addr: SocketAddr,
    query: &[u8],
    cfg: &DnsProbe,
    host: &str,
) -> Result<Vec<u8>, String> {
    let t0 = Instant::now();
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("dial tcp {addr}: connect: {}", crate::net::io_text(&e)))?;
    let result = if cfg.dns_over_tls {
        let setup = crate::tls::setup(&cfg.tls_config, host, &[])?;
        let mut s = setup.connect(tcp).await?;
        rec.set_with(
            "probe_dns_duration_seconds",
            HELP_PHASE,
            &[("phase", "connect")],
            t0.elapsed().as_secs_f64(),
        );
        let t1 = Instant::now();
        let r = framed_exchange(&mut s, query).await;
        rec.set_with(
            "probe_dns_duration_seconds",
            HELP_PHASE,
            &[("phase", "request")],
            t1.elapsed().as_secs_f64(),
        );
        r
    } else {
        let mut s = tcp;
        rec.set_with(
            "probe_dns_duration_seconds",
            HELP_PHASE,
            &[("phase", "connect")],
            t0.elapsed().as_secs_f64(),
        );
        let t1 = Instant::now();
        let r = framed_exchange(&mut s, query).await;
        rec.set_with(
            "probe_dns_duration_seconds",
            HELP_PHASE,
            &[("phase", "request")],
            t1.elapsed().as_secs_f64(),
        );
        r
    };
    result.map_err(|e| format!("read tcp {addr}: {}", crate::net::io_text(&e)))
}

/// DNS over a stream: each message behind a two-byte length.
async fn framed_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    query: &[u8],
) -> std::io::Result<Vec<u8>> {
    let mut out = (query.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(query);
    s.write_all(&out).await?;
    s.flush().await?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).await?;
    Ok(buf)
}

#[cfg(test)]
mod tests;
