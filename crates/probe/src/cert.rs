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
    let (subject, _) = raw_element(r)?;
    Some(CertInfo {
        issuer: issuer.to_vec(),
        subject: subject.to_vec(),
        not_after: parse_time(tag, not_after)?,
    })
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
    }
}
