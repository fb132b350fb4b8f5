//! Just enough X.509 DER reading for blackbox's TLS gauges: a certificate's
//! issuer and subject (raw, to link a chain to its root), its notAfter,
//! and its DNS names. Written by hand because a full X.509 crate is a large
//! dependency for four fields of a structure the certificate verifier has
//! already checked.

/// The fields we read from one certificate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CertInfo {
    /// DER of the issuer Name.
    pub issuer: Vec<u8>,
    /// DER of the subject Name.
    pub subject: Vec<u8>,
    /// notAfter, unix seconds.
    pub not_after: i64,
    /// The subject as Go's `pkix.Name.String()` prints it (`CN=a,O=b`).
    pub subject_text: String,
    /// The issuer, likewise.
    pub issuer_text: String,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
}

/// One DER element: tag, content, and what follows it.
fn element(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *buf.first()?;
    let first = *buf.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let content = buf.get(hdr..hdr.checked_add(len)?)?;
    Some((tag, content, &buf[hdr + len..]))
}

/// The whole encoding (header included) of the first element of `buf`.
fn raw_element(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, _, rest) = element(buf)?;
    let used = buf.len() - rest.len();
    Some((&buf[..used], rest))
}

/// Parses a certificate's issuer, subject and notAfter.
pub(crate) fn parse(der: &[u8]) -> Option<CertInfo> {
    let (0x30, cert, _) = element(der)? else {
        return None;
    };
    let (0x30, tbs, _) = element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    // Optional [0] EXPLICIT version.
    if rest.first() == Some(&0xa0) {
        rest = element(rest)?.2;
    }
    rest = element(rest)?.2; // serialNumber
    rest = element(rest)?.2; // signature algorithm
    let (issuer, r) = raw_element(rest)?;
    let (0x30, validity, r) = element(r)? else {
        return None;
    };
    let (_, after_before) = raw_element(validity)?;
    let (tag, not_after, _) = element(after_before)?;
    let (subject, r) = raw_element(r)?;
    let (_, r) = raw_element(r)?; // subjectPublicKeyInfo
    Some(CertInfo {
        issuer_text: name_text(issuer)?,
        subject_text: name_text(subject)?,
        issuer: issuer.to_vec(),
        subject: subject.to_vec(),
        not_after: parse_time(tag, not_after)?,
        dns_names: dns_names(r).unwrap_or_default(),
    })
}

/// DNS names of the subjectAltName extension, from what follows the
/// public key in the TBSCertificate.
fn dns_names(mut rest: &[u8]) -> Option<Vec<String>> {
    while !rest.is_empty() {
        let (tag, content, r) = element(rest)?;
        rest = r;
        if tag != 0xa3 {
            continue;
        }
        let (0x30, mut exts, _) = element(content)? else {
            return None;
        };
        while !exts.is_empty() {
            let (_, ext, r) = element(exts)?;
            exts = r;
            let (0x06, oid, mut body) = element(ext)? else {
                return None;
            };
            if oid != [0x55, 0x1d, 0x11] {
                continue;
            }
            if body.first() == Some(&0x01) {
                body = element(body)?.2; // critical flag
            }
            let (0x04, value, _) = element(body)? else {
                return None;
            };
            let (0x30, mut names, _) = element(value)? else {
                return None;
            };
            let mut out = Vec::new();
            while !names.is_empty() {
                let (tag, name, r) = element(names)?;
                names = r;
                if tag == 0x82 {
                    out.push(String::from_utf8_lossy(name).into_owned());
                }
            }
            return Some(out);
        }
    }
    Some(Vec::new())
}

/// Short names Go knows, by the last arc of `2.5.4.x`, in the order of
/// `pkix.Name.ToRDNSequence` (printed reversed).
const GO_ORDER: [(u8, &str); 9] = [
    (6, "C"),
    (8, "ST"),
    (7, "L"),
    (9, "STREET"),
    (17, "POSTALCODE"),
    (10, "O"),
    (11, "OU"),
    (3, "CN"),
    (5, "SERIALNUMBER"),
];

/// A Name as Go's `pkix.Name.String()` prints it: attributes Go parses
/// into fields are re-ordered as `ToRDNSequence` does and printed last
/// first; other attributes come out as `OID=#hex` after them.
fn name_text(name: &[u8]) -> Option<String> {
    let (0x30, mut rdns, _) = element(name)? else {
        return None;
    };
    let mut known: Vec<(u8, String)> = Vec::new();
    let mut other: Vec<String> = Vec::new();
    while !rdns.is_empty() {
        let (0x31, mut set, r) = element(rdns)? else {
            return None;
        };
        rdns = r;
        while !set.is_empty() {
            let (0x30, atv, r) = element(set)? else {
                return None;
            };
            set = r;
            let (0x06, oid, value) = element(atv)? else {
                return None;
            };
            let (raw_value, _) = raw_element(value)?;
            let (_, text, _) = element(value)?;
            match oid {
                [0x55, 0x04, arc] if GO_ORDER.iter().any(|(a, _)| a == arc) => {
                    known.push((*arc, String::from_utf8_lossy(text).into_owned()));
                }
                _ => {
                    let hex: String = raw_value.iter().map(|b| format!("{b:02x}")).collect();
                    other.push(format!("{}=#{hex}", oid_text(oid)));
                }
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for (arc, short) in GO_ORDER.iter().rev() {
        let values: Vec<String> = known
            .iter()
            .filter(|(a, _)| a == arc)
            .map(|(_, v)| format!("{short}={}", escape_dn(v)))
            .collect();
        if !values.is_empty() {
            parts.push(values.join("+"));
        }
    }
    // Go places unparsed attributes first in the sequence, so last in print.
    other.reverse();
    parts.extend(other);
    Some(parts.join(","))
}

/// RFC 2253 escaping as Go's `RDNSequence.String()` does it.
fn escape_dn(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (*c == ' ' || *c == '#'))
            || (i == chars.len() - 1 && *c == ' ');
        if special {
            out.push('\\');
        }
        out.push(*c);
    }
    out
}

fn oid_text(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut v = 0u64;
    for (i, b) in oid.iter().enumerate() {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() && i < oid.len() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// GeneralizedTime text (`YYYYMMDDHHMMSSZ`) to unix seconds.
pub(crate) fn generalized_time(s: &str) -> Option<i64> {
    parse_time(0x18, s.as_bytes())
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`) to unix seconds.
fn parse_time(tag: u8, s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?.strip_suffix('Z')?;
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (year, off) = match tag {
        0x17 => {
            let yy = num(0, 2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        0x18 => (num(0, 4)?, 4),
        _ => return None,
    };
    let (mo, d) = (num(off, off + 2)?, num(off + 2, off + 4)?);
    let (h, mi, sec) = (
        num(off + 4, off + 6)?,
        num(off + 6, off + 8)?,
        num(off + 8, off + 10)?,
    );
    Some(days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + sec)
}

/// Civil date to days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        // 2030-01-02T03:04:05Z = 1893553445 (date -u -d 2030-01-02T03:04:05Z +%s).
        assert_eq!(parse_time(0x17, b"300102030405Z"), Some(1893553445));
        assert_eq!(parse_time(0x18, b"20300102030405Z"), Some(1893553445));
        // 1970-01-01.
        assert_eq!(parse_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(parse_time(0x17, b"7001010000Z"), None);
    }

    #[test]
    fn reads_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 5, 6);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let info = parse(cert.der()).unwrap();
        // rcgen's date_time_ymd is midnight: 2031-05-06T00:00:00Z = 1935792000.
        assert_eq!(info.not_after, 1935792000);
        assert_eq!(info.issuer, info.subject);
        assert_eq!(info.dns_names, vec!["localhost"]);
        // rcgen's default subject is "CN=rcgen self signed cert".
        assert_eq!(info.subject_text, "CN=rcgen self signed cert");
    }

    #[test]
    fn names_print_as_go() {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, "DE");
        dn.push(rcgen::DnType::CommonName, "a, b");
        dn.push(rcgen::DnType::OrganizationName, "Org");
        params.distinguished_name = dn;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let info = parse(cert.der()).unwrap();
        // Go: ToRDNSequence order C, O, CN; printed reversed, ',' escaped.
        assert_eq!(info.subject_text, "CN=a\\, b,O=Org,C=DE");
        assert!(info.dns_names.is_empty());
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]),
            "1.2.840.113549.1.9.1"
        );
    }
}
