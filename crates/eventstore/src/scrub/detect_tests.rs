//! Positive and negative cases for every detector. Expected spans are
//! written by hand; card and IBAN check digits were verified separately
//! (Luhn and mod-97 computed in Python).

use super::*;

/// The `(detector, text)` of every find in `s`, all detectors on.
fn finds(s: &str) -> Vec<(Detector, &str)> {
    let mut out = Vec::new();
    find(s, DetectorSet::all(), &mut out);
    out.iter().map(|h| (h.what, &s[h.start..h.end])).collect()
}

fn only(s: &str, d: Detector) -> Vec<&str> {
    let mut out = Vec::new();
    let mut set = DetectorSet::default();
    set.insert(d);
    find(s, set, &mut out);
    out.iter().map(|h| &s[h.start..h.end]).collect()
}

#[test]
fn plain_text_has_nothing() {
    for s in [
        "",
        "pro",
        "Signed Up",
        "Order Completed",
        "hello world: fine",
    ] {
        assert_eq!(finds(s), [], "{s}");
    }
}

#[test]
fn emails() {
    assert_eq!(
        only(
            "write to jane.doe+tag@example.co.uk, please",
            Detector::Email
        ),
        ["jane.doe+tag@example.co.uk"]
    );
    assert_eq!(
        only("<bob@mail.example.com>.", Detector::Email),
        ["bob@mail.example.com"]
    );
    assert_eq!(
        only("a@x.io and b_c@y.org", Detector::Email),
        ["a@x.io", "b_c@y.org"]
    );
    for s in [
        "@handle",
        "user@localhost",
        "a@b.c",
        "x@-bad.com",
        "me@example.123",
        "at @ sign",
        "foo@",
    ] {
        assert_eq!(only(s, Detector::Email), Vec::<&str>::new(), "{s}");
    }
}

#[test]
fn phones() {
    for (s, want) in [
        ("call +44 20 7946 0958 now", "+44 20 7946 0958"),
        ("+4915112345678", "+4915112345678"),
        ("tel:+1 (555) 123-4567", "+1 (555) 123-4567"),
        ("(555) 123-4567", "(555) 123-4567"),
        ("555-123-4567.", "555-123-4567"),
        ("555.123.4567", "555.123.4567"),
        ("1 555 123 4567", "1 555 123 4567"),
        ("020 7946 0958", "020 7946 0958"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("0171-1234567", "0171-1234567"),
        ("0044 20 7946 0958", "0044 20 7946 0958"),
    ] {
        assert_eq!(only(s, Detector::Phone), [want], "{s}");
    }
    for s in [
        // Ids and epoch timestamps: bare runs of digits.
        "1700000000000",
        "5551234567",
        "order 123456789012",
        // Dates and times.
        "2024-01-15 10:30:00",
        "2024-01-15T10:30:00Z",
        "01.02.2024 10:30",
        "01-15-2024",
        // Versions, IPs, decimals, UUIDs.
        "1.2.3",
        "192.168.100.200",
        "3.14159265358979",
        "123e4567-e89b-12d3-a456-426614174000",
        // Too short or too long.
        "+12345",
        "+1234567890123456789",
        // Part of a word or a longer number.
        "abc555-123-4567",
        "555-123-45678",
    ] {
        assert_eq!(only(s, Detector::Phone), Vec::<&str>::new(), "{s}");
    }
}

#[test]
fn cards() {
    for (s, want) in [
        ("4111 1111 1111 1111", "4111 1111 1111 1111"),
        ("card=4111-1111-1111-1111;", "4111-1111-1111-1111"),
        ("5500000000000004", "5500000000000004"),
        ("amex 378282246310005 ok", "378282246310005"),
        ("6011111111111117 x", "6011111111111117"),
        // A trailing number after the card does not hide it.
        ("4242 4242 4242 4242 2 times", "4242 4242 4242 4242"),
    ] {
        assert_eq!(only(s, Detector::Card), [want], "{s}");
    }
    for s in [
        // Luhn fails.
        "4111 1111 1111 1112",
        // Luhn passes but starts with 1: epoch milliseconds.
        "1700000000004",
        // Too short, part of a word, a decimal.
        "411111111111",
        "x4111111111111111",
        "4111111111111111.5",
    ] {
        assert_eq!(only(s, Detector::Card), Vec::<&str>::new(), "{s}");
    }
}

#[test]
fn ibans() {
    for (s, want) in [
        ("DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
        (
            "pay to DE89370400440532013000 today",
            "DE89370400440532013000",
        ),
        (
            "GB82 WEST 1234 5698 7654 32 is mine",
            "GB82 WEST 1234 5698 7654 32",
        ),
        ("FR1420041010050500013M02606", "FR1420041010050500013M02606"),
    ] {
        assert_eq!(only(s, Detector::Iban), [want], "{s}");
    }
    for s in [
        "DE89 3704 0044 0532 0130 01",
        "DE89370400440532013001",
        "XDE89370400440532013000",
        "DE89 3704",
        "AB12",
    ] {
        assert_eq!(only(s, Detector::Iban), Vec::<&str>::new(), "{s}");
    }
}

#[test]
fn ips() {
    for (s, want) in [
        ("from 203.0.113.42 today", vec!["203.0.113.42"]),
        ("10.0.0.1,192.168.1.254", vec!["10.0.0.1", "192.168.1.254"]),
        (
            "addr 2001:db8:85a3::8a2e:370:7334.",
            vec!["2001:db8:85a3::8a2e:370:7334"],
        ),
        (
            "[fe80::1ff:fe23:4567:890a]",
            vec!["fe80::1ff:fe23:4567:890a"],
        ),
        ("::ffff:192.0.2.128", vec!["::ffff:192.0.2.128"]),
    ] {
        assert_eq!(only(s, Detector::Ip), want, "{s}");
    }
    for s in [
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "v10.0.0.1",
        "10:30:00",
        "00:1A:2B:3C:4D:5E",
        "::1",
        "std::io::Error",
        "2001:db8::1x",
    ] {
        assert_eq!(only(s, Detector::Ip), Vec::<&str>::new(), "{s}");
    }
}

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

#[test]
fn jwts() {
    let s = format!("Authorization: Bearer {JWT}");
    assert_eq!(only(&s, Detector::Jwt), [JWT]);
    // An unsigned token (empty signature) is still a token.
    let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    assert_eq!(only(unsigned, Detector::Jwt), [unsigned]);
    for s in [
        // The header decodes to JSON without "alg".
        "eyJub3QiOiJqd3QifQ.eyJzdWIiOiJ4In0.abc",
        // Two parts, or four.
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.a.b",
        // Not base64 JSON at all.
        "eyJ-not-json.x.y",
    ] {
        assert_eq!(only(s, Detector::Jwt), Vec::<&str>::new(), "{s}");
    }
}

#[test]
fn overlaps_go_to_the_first_detector() {
    // The JWT's digits and the e-mail's are not also phones or cards.
    let s = format!("{JWT} +4915112345678@sms.example.com 4111111111111111");
    assert_eq!(
        finds(&s),
        [
            (Detector::Jwt, JWT),
            (Detector::Email, "+4915112345678@sms.example.com"),
            (Detector::Card, "4111111111111111"),
        ]
    );
}
