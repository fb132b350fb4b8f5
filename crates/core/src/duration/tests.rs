use super::*;

fn msg<T: fmt::Debug>(r: Result<T>) -> String {
    r.unwrap_err().message().to_owned()
}

#[test]
fn prometheus_syntax_is_model_parse_duration() {
    let ok = [
        ("0", 0),
        ("15s", 15_000),
        ("1h30m", 5_400_000),
        ("500ms", 500),
        ("1m500ms", 60_500),
        ("1d2h", 93_600_000),
        ("2w", 14 * MS_PER_DAY),
        ("1y", 365 * MS_PER_DAY),
        ("0s", 0),
        (
            "1y2w3d4h5m6s7ms",
            365 * MS_PER_DAY + 17 * MS_PER_DAY + 14_706_007,
        ),
    ];
    for (s, ms) in ok {
        assert_eq!(parse_prometheus(s).unwrap(), ms, "{s}");
    }
    for bad in [
        "5x", "1.5s", "1.5h", "s", "30m1h", "1s1s", "1m1m", "-1s", "+1s", "1 s", "5", "10", "1hh",
        " 1s",
    ] {
        assert_eq!(
            msg(parse_prometheus(bad)),
            format!("not a valid duration string: {bad:?}")
        );
    }
    assert_eq!(msg(parse_prometheus("")), "empty duration string");
}

#[test]
fn prometheus_overflow_is_refused_as_prometheus_refuses_it() {
    // time.Duration holds about 292 years of nanoseconds.
    assert_eq!(parse_prometheus("292y").unwrap(), 292 * 365 * MS_PER_DAY);
    for big in [
        "293y",
        "300y",
        "99999999999999999999s",
        "999999999999999999999ms",
        "292y52w",
    ] {
        assert_eq!(msg(parse_prometheus(big)), "duration out of range", "{big}");
    }
}

#[test]
fn prometheus_printing_is_model_duration_string() {
    for s in [
        "1m", "1h30m", "500ms", "15s", "2w", "8d", "90d", "1y", "1m500ms", "1d2h",
    ] {
        assert_eq!(format_prometheus(parse_prometheus(s).unwrap()), s);
    }
    assert_eq!(format_prometheus(0), "0s");
    assert_eq!(format_prometheus(7_200_000), "2h");
    assert_eq!(format_prometheus(366 * MS_PER_DAY), "366d");
    assert_eq!(format_prometheus(-300_000), "-5m");
}

#[test]
fn go_syntax_is_time_parse_duration() {
    let ns = |s: &str| parse_go(s).unwrap();
    assert_eq!(ns("0"), 0);
    assert_eq!(ns("-0"), 0);
    assert_eq!(ns("5s"), 5_000_000_000);
    assert_eq!(ns("1.5s"), 1_500_000_000);
    assert_eq!(ns(".5s"), 500_000_000);
    assert_eq!(ns("1.s"), 1_000_000_000);
    assert_eq!(ns("100ms"), 100_000_000);
    assert_eq!(ns("10us"), 10_000);
    assert_eq!(ns("10\u{b5}s"), 10_000);
    assert_eq!(ns("10\u{3bc}s"), 10_000);
    assert_eq!(ns("3ns"), 3);
    assert_eq!(ns("1h1m"), 3_660_000_000_000);
    // Go neither orders units nor forbids repeats.
    assert_eq!(ns("1s1h"), 3_601_000_000_000);
    assert_eq!(ns("1s1s"), 2_000_000_000);
    assert_eq!(ns("-1.5h"), -5_400_000_000_000);
    assert_eq!(ns("+2m"), 120_000_000_000);
    assert_eq!(ns("-9223372036854775808ns"), i64::MIN);
    assert_eq!(ns("9223372036854775807ns"), i64::MAX);
    assert_eq!(ns("0.100000000000000000000h"), 360_000_000_000);

    assert_eq!(msg(parse_go("")), "time: invalid duration \"\"");
    assert_eq!(msg(parse_go("-")), "time: invalid duration \"-\"");
    assert_eq!(msg(parse_go(".s")), "time: invalid duration \".s\"");
    assert_eq!(msg(parse_go("s")), "time: invalid duration \"s\"");
    assert_eq!(msg(parse_go("5")), "time: missing unit in duration \"5\"");
    assert_eq!(
        msg(parse_go("5x")),
        "time: unknown unit \"x\" in duration \"5x\""
    );
    assert_eq!(
        msg(parse_go("1d")),
        "time: unknown unit \"d\" in duration \"1d\""
    );
    assert_eq!(
        msg(parse_go("9223372036854775808ns")),
        "time: invalid duration \"9223372036854775808ns\""
    );
    assert_eq!(
        msg(parse_go("3000000h")),
        "time: invalid duration \"3000000h\""
    );
}

#[test]
fn go_printing_is_time_duration_string() {
    assert_eq!(format_go(0), "0s");
    assert_eq!(format_go(250), "250ms");
    assert_eq!(format_go(1500), "1.5s");
    assert_eq!(format_go(300_000), "5m0s");
    assert_eq!(format_go(3_600_000), "1h0m0s");
    assert_eq!(format_go(90_061_001), "25h1m1.001s");
    assert_eq!(format_go(-1500), "-1.5s");
}

#[test]
fn either_syntax_takes_both_and_reports_the_chosen_error() {
    let d = |s: &str| parse_either(s, Syntax::Prometheus).unwrap();
    assert_eq!(d("5m"), std::time::Duration::from_secs(300));
    assert_eq!(d("1d"), std::time::Duration::from_secs(86_400));
    assert_eq!(d("1.5s"), std::time::Duration::from_millis(1500));
    assert_eq!(d("1s1h"), std::time::Duration::from_secs(3601));
    assert_eq!(d("10us"), std::time::Duration::from_micros(10));
    assert_eq!(d("0"), std::time::Duration::ZERO);
    assert_eq!(
        msg(parse_either("5x", Syntax::Prometheus)),
        "not a valid duration string: \"5x\""
    );
    assert_eq!(
        msg(parse_either("5x", Syntax::Go)),
        "time: unknown unit \"x\" in duration \"5x\""
    );
    assert_eq!(
        msg(parse_either("-1s", Syntax::Go)),
        "time: invalid duration \"-1s\""
    );
    for bad in ["", "5", "m", "1.5d"] {
        assert!(parse_either(bad, Syntax::Prometheus).is_err(), "{bad}");
    }
}

#[test]
fn config_field_reads_strings_and_a_bare_zero() {
    #[derive(Deserialize)]
    struct F {
        d: Duration,
    }
    let f: F = serde_json::from_str(r#"{"d": "1h30m"}"#).unwrap();
    assert_eq!(f.d, Duration::from_secs(5400));
    assert_eq!(f.d.to_string(), "1h30m");
    let f: F = serde_json::from_str(r#"{"d": 0}"#).unwrap();
    assert!(f.d.is_zero());
    let e = serde_json::from_str::<F>(r#"{"d": "1.5h"}"#).err().unwrap();
    assert!(
        e.to_string()
            .contains("not a valid duration string: \"1.5h\""),
        "{e}"
    );
}
