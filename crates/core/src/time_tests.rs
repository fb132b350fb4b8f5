//! The accepted and refused inputs below were sent to the peers built with
//! Go 1.19.8 (Prometheus 2.42: `GET /api/v1/query?query=time()&time=...`;
//! Alertmanager 0.25: `POST /api/v2/alerts` with `startsAt`), and the
//! values are theirs.

use super::*;

/// 2023-01-02T03:04:05Z, in seconds, as Prometheus answered.
const T0: i64 = 1_672_628_645;

fn ms(r: Result<UtcTime>) -> Option<i64> {
    r.ok().map(|t| to_ms(&t))
}

#[test]
fn parse_rfc3339_accepts_what_prometheus_accepts() {
    let ok = [
        ("2023-01-02T03:04:05Z", T0 * 1000),
        ("2023-01-02T3:04:05Z", T0 * 1000),
        ("2023-01-02T03:04:05.5Z", T0 * 1000 + 500),
        ("2023-01-02T03:04:05,5Z", T0 * 1000 + 500),
        ("2023-01-02T03:04:05+01:00", (T0 - 3600) * 1000),
        ("2023-01-02T03:04:05-00:00", T0 * 1000),
        ("2023-01-02T03:04:05+25:00", 1_672_538_645_000),
        ("2023-01-02T03:04:05+01:99", 1_672_619_105_000),
    ];
    for (s, want) in ok {
        assert_eq!(ms(parse_rfc3339(s)), Some(want), "{s}");
    }
    let t = parse_rfc3339("2023-01-02T03:04:05.123456789Z").unwrap();
    assert_eq!(t.timestamp_subsec_nanos(), 123_456_789);
}

#[test]
fn parse_rfc3339_refuses_what_prometheus_refuses() {
    for s in [
        "2023-01-02t03:04:05Z",
        "2023-01-02T03:04:05z",
        "2023-01-02 03:04:05Z",
        "2023-01-02T03:04:05.1234567891Z",
        "2023-01-02T03:04:05+0100",
        "2023-01-02T03:04:05",
        "2023-02-29T03:04:05Z",
        "2023-01-02T24:00:00Z",
        "2023-01-02T03:04:60Z",
        "2023-1-02T03:04:05Z",
        "2023-01-02T03:04:05.Z",
        "2023-01-02T03:04:05ZZ",
        "",
    ] {
        let e = parse_rfc3339(s).expect_err(s);
        assert_eq!(e.kind(), crate::ErrorKind::BadData);
        assert!(e.message().contains(&format!("{s:?}")), "{e}");
    }
}

#[test]
fn parse_openapi_accepts_what_alertmanager_accepts() {
    let ok = [
        ("2023-01-02T03:04:05Z", T0 * 1000),
        ("2023-01-02T3:04:05Z", T0 * 1000),
        ("2023-01-02T03:04:05.000+0100", (T0 - 3600) * 1000),
        ("2023-01-02T03:04:05.123456+0100", (T0 - 3600) * 1000 + 123),
        ("2023-01-02T03:04:05", T0 * 1000),
        ("2023-01-02T03:04:05.25", T0 * 1000 + 250),
        ("2023-01-02 03:04:05", T0 * 1000),
        ("2023-01-02 03:04:05.25", T0 * 1000 + 250),
        ("2023-01-02T03:04Z", (T0 - 5) * 1000),
        ("2023-01-02T03:04", (T0 - 5) * 1000),
        ("2023-01-02T03:04:05,5Z", T0 * 1000 + 500),
        ("2023-01-02T03:04:05.1234567891Z", T0 * 1000 + 123),
        ("2023-01-02T03:04:05+25:00", (T0 - 25 * 3600) * 1000),
    ];
    for (s, want) in ok {
        assert_eq!(ms(parse_openapi(s)), Some(want), "{s}");
    }
    for s in [
        "2023-01-02t03:04:05Z",
        "2023-01-02T03:04:05.5+0100",
        "2023-01-02T03:04:05+0100",
        "2023-01-02 03:04:05Z",
        "2023-01-02T03:04+01:00",
        "2023-01-02T03:04:05z",
    ] {
        assert!(parse_openapi(s).is_err(), "{s}");
    }
}

#[test]
fn formats_as_go_prints() {
    let t = from_ms(T0 * 1000 + 500).unwrap();
    assert_eq!(rfc3339_nano(&t), "2023-01-02T03:04:05.5Z");
    assert_eq!(rfc3339_millis(&t), "2023-01-02T03:04:05.500Z");
    assert_eq!(go_string(&t), "2023-01-02 03:04:05.5 +0000 UTC");
    let whole = from_ms(T0 * 1000).unwrap();
    assert_eq!(rfc3339_nano(&whole), "2023-01-02T03:04:05Z");
    assert_eq!(rfc3339_millis(&whole), "2023-01-02T03:04:05.000Z");
    assert_eq!(go_string(&whole), "2023-01-02 03:04:05 +0000 UTC");
    let nanos = DateTime::from_timestamp(T0, 120_000_000).unwrap();
    assert_eq!(rfc3339_nano(&nanos), "2023-01-02T03:04:05.12Z");
    assert_eq!(parse_go_string(&go_string(&nanos)), Some(nanos));
    assert_eq!(rfc3339_nano(&zero_time()), "0001-01-01T00:00:00Z");
    assert_eq!(rfc3339_digits(&nanos, 9), "2023-01-02T03:04:05.120000000Z");
    assert_eq!(rfc3339_digits(&nanos, 1), "2023-01-02T03:04:05.1Z");
    assert_eq!(rfc3339_digits(&nanos, 0), "2023-01-02T03:04:05Z");
}

#[test]
fn milliseconds_convert_both_ways() {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1500);
    assert_eq!(system_time_ms(t), 1500);
    assert_eq!(to_ms(&from_system_time(t)), 1500);
    let before = std::time::UNIX_EPOCH - std::time::Duration::from_millis(1500);
    assert_eq!(system_time_ms(before), -1500);
    assert!(now_ms() > T0 * 1000);
}
