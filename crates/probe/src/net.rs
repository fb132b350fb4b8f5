//! Resolving a target host the way blackbox's `chooseProtocol` does:
//! preferred address family first, the other one as fallback, and the
//! `probe_dns_lookup_time_seconds`, `probe_ip_protocol` and
//! `probe_ip_addr_hash` gauges.

use crate::config::IpProtocol;
use crate::result::Recorder;
use std::io;
use std::net::IpAddr;
use std::time::Instant;

pub(crate) const HELP_LOOKUP: &str = "Returns the time taken for probe dns lookup in seconds";
const HELP_PROTO: &str = "Specifies whether probe ip protocol is IP4 or IP6";
const HELP_HASH: &str =
    "Specifies the hash of IP address. It's useful to detect if the IP address changes.";

/// Resolves `host` (a name or an address literal, IPv6 without brackets).
/// Records the lookup time and, on success, the protocol and address hash.
pub(crate) async fn resolve(
    rec: &mut Recorder,
    host: &str,
    preferred: IpProtocol,
    fallback: bool,
) -> Result<(IpAddr, f64), String> {
    let start = Instant::now();
    let want = match preferred {
        IpProtocol::Ip4 => "ip4",
        IpProtocol::Ip6 => "ip6",
    };
    rec.log(
        "info",
        "Resolving target address",
        &[("target", host), ("ip_protocol", want)],
    );
    let result = lookup(host, preferred, fallback).await;
    let took = start.elapsed().as_secs_f64();
    rec.set("probe_dns_lookup_time_seconds", HELP_LOOKUP, took);
    match result {
        Ok(ip) => {
            rec.log(
                "info",
                "Resolved target address",
                &[("target", host), ("ip", &ip.to_string())],
            );
            rec.set(
                "probe_ip_protocol",
                HELP_PROTO,
                if ip.is_ipv4() { 4.0 } else { 6.0 },
            );
            rec.set("probe_ip_addr_hash", HELP_HASH, ip_hash(ip));
            Ok((ip, took))
        }
        Err(e) => {
            rec.fail("Resolution with IP protocol failed", &e);
            Err(e)
        }
    }
}

/// The http prober's resolve step: the first hop resolves as
/// [`resolve`] does; later hops (redirects) only add to the resolve phase,
/// as Go's transport does for them.
pub(crate) async fn resolve_timed(
    rec: &mut Recorder,
    host: &str,
    preferred: IpProtocol,
    fallback: bool,
    first: bool,
) -> Result<IpAddr, String> {
    const HELP_PHASE: &str = "Duration of http request by phase, summed over all redirects";
    let (ip, took) = if first {
        resolve(rec, host, preferred, fallback).await?
    } else {
        let start = Instant::now();
        let ip = lookup(host, preferred, fallback).await.inspect_err(|e| {
            rec.fail("Error for HTTP request", e);
        })?;
        (ip, start.elapsed().as_secs_f64())
    };
    rec.add_with(
        "probe_http_duration_seconds",
        HELP_PHASE,
        &[("phase", "resolve")],
        took,
    );
    Ok(ip)
}

async fn lookup(host: &str, preferred: IpProtocol, fallback: bool) -> Result<IpAddr, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| format!("lookup {host}: {e}"))?
            .map(|a| a.ip())
            .collect(),
    };
    let is_pref = |ip: &IpAddr| match preferred {
        IpProtocol::Ip4 => ip.is_ipv4(),
        IpProtocol::Ip6 => ip.is_ipv6(),
    };
    if let Some(ip) = addrs.iter().find(|ip| is_pref(ip)) {
        return Ok(*ip);
    }
    if fallback {
        if let Some(ip) = addrs.first() {
            return Ok(*ip);
        }
    }
    Err(format!("unable to find ip; no fallback for {host}"))
}

/// FNV-1a (32 bit) over the address bytes, 4 bytes for IPv4: blackbox's
/// `ipHash` (checked against its output: 127.0.0.1 hashes to 3668918509).
pub(crate) fn ip_hash(ip: IpAddr) -> f64 {
    let bytes: Vec<u8> = match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    };
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    f64::from(h)
}

/// Splits `host:port` (with `[v6]:port`), applying `default_port` when none.
pub(crate) fn split_host_port(s: &str, default_port: Option<u16>) -> Result<(String, u16), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("address {s}: missing ']'"))?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host.to_string(), parse_port(s, p)?)),
            None if after.is_empty() => default_port
                .map(|p| (host.to_string(), p))
                .ok_or_else(|| format!("address {s}: missing port in address")),
            None => Err(format!("address {s}: unexpected text after ']'")),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((h.to_string(), parse_port(s, p)?)),
        _ => default_port
            .map(|p| (s.to_string(), p))
            .ok_or_else(|| format!("address {s}: missing port in address")),
    }
}

fn parse_port(s: &str, p: &str) -> Result<u16, String> {
    p.parse().map_err(|_| format!("address {s}: invalid port"))
}

/// Go-like wording of common socket errors ("connection refused").
pub(crate) fn io_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_blackbox() {
        assert_eq!(ip_hash("127.0.0.1".parse().unwrap()), 3668918509.0);
    }

    #[test]
    fn host_port() {
        assert_eq!(split_host_port("a:80", None).unwrap(), ("a".into(), 80));
        assert_eq!(
            split_host_port("[::1]:53", None).unwrap(),
            ("::1".into(), 53)
        );
        assert_eq!(split_host_port("a", Some(53)).unwrap(), ("a".into(), 53));
        assert!(split_host_port("a", None).is_err());
        assert!(split_host_port("a:x", None).is_err());
    }
}
