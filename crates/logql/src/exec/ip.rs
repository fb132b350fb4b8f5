//! `ip("...")` filters: a single address, a CIDR range (`10.0.0.0/8`,
//! `2001:db8::/32`) or a dash range (`192.168.0.1-192.168.0.255`), matched
//! against the addresses found in a line or against a label's value.

use std::net::IpAddr;

pub struct IpMatcher {
    lo: u128,
    hi: u128,
    v4: bool,
}

fn to_u128(a: IpAddr) -> (u128, bool) {
    match a {
        IpAddr::V4(v) => (u32::from(v) as u128, true),
        IpAddr::V6(v) => match v.to_ipv4_mapped() {
            Some(v4) => (u32::from(v4) as u128, true),
            None => (u128::from(v), false),
        },
    }
}

impl IpMatcher {
    pub fn new(p: &str) -> Result<IpMatcher, String> {
        let bad = || {
            format!("invalid ip filter {p:?}: write an address, a CIDR range (10.0.0.0/8) or a dash range (a-b)")
        };
        let p = p.trim();
        if let Some((addr, bits)) = p.split_once('/') {
            let (n, v4) = to_u128(addr.parse().map_err(|_| bad())?);
            let width = if v4 { 32 } else { 128 };
            let bits: u32 = bits.parse().map_err(|_| bad())?;
            if bits > width {
                return Err(bad());
            }
            let host = if width - bits >= 128 {
                u128::MAX
            } else {
                (1u128 << (width - bits)) - 1
            };
            return Ok(IpMatcher {
                lo: n & !host,
                hi: n | host,
                v4,
            });
        }
        if let Some((a, b)) = p.split_once('-') {
            let (lo, v4) = to_u128(a.trim().parse().map_err(|_| bad())?);
            let (hi, v4b) = to_u128(b.trim().parse().map_err(|_| bad())?);
            if v4 != v4b || lo > hi {
                return Err(bad());
            }
            return Ok(IpMatcher { lo, hi, v4 });
        }
        let (n, v4) = to_u128(p.parse().map_err(|_| bad())?);
        Ok(IpMatcher { lo: n, hi: n, v4 })
    }

    pub fn contains(&self, a: IpAddr) -> bool {
        let (n, v4) = to_u128(a);
        v4 == self.v4 && n >= self.lo && n <= self.hi
    }

    /// Whether a label's value is an address in range.
    pub fn value(&self, v: &str) -> bool {
        v.trim().parse().is_ok_and(|a| self.contains(a))
    }

    /// Whether any address-shaped word of `line` is in range.
    pub fn in_line(&self, line: &str) -> bool {
        line.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
            .filter(|w| w.len() >= 2 && (w.contains('.') || w.contains(':')))
            .any(|w| {
                let w = w.trim_matches(|c| c == '.' || c == ':');
                // `10.1.2.3:8080`: an IPv4 address with its port.
                w.parse().is_ok_and(|a| self.contains(a))
                    || (w.contains('.')
                        && w.split(':')
                            .any(|p| p.parse().is_ok_and(|a| self.contains(a))))
            })
    }
}
