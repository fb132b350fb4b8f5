use super::*;

fn msg(r: Result<i64>) -> String {
    r.unwrap_err().message().to_owned()
}

#[test]
fn sizes_are_units_parse_base2_bytes() {
    let ok = [
        ("0", 0),
        ("-0", 0),
        ("+0", 0),
        ("100B", 100),
        ("1KB", 1024),
        ("1KiB", 1024),
        ("512MB", 536_870_912),
        ("512MiB", 536_870_912),
        ("10GB", 10_737_418_240),
        ("1TiB", 1_099_511_627_776),
        ("2PB", 2_251_799_813_685_248),
        ("7EB", 8_070_450_532_247_928_832),
        // Fractions are summed as floats and truncated to whole bytes.
        ("1.5KB", 1536),
        (".5KB", 512),
        ("1.KiB", 1024),
        ("0.1B", 0),
        ("1.9B", 1),
        // Terms add up, in any order, repeats included.
        ("1GB512MB", 1_610_612_736),
        ("1MB1GB", 1_074_790_400),
        ("1KB1KB", 2048),
        ("1KiB1B", 1025),
        ("-1KB", -1024),
        ("+2MB", 2_097_152),
    ];
    for (s, bytes) in ok {
        assert_eq!(parse_base2(s).unwrap(), bytes, "{s}");
    }
}

#[test]
fn errors_are_go_units_texts() {
    let bad = [
        // A number needs a unit unless it is a lone 0.
        ("1000", "units: unknown unit  in 1000"),
        // Units are case-sensitive and have no one-letter form.
        ("1K", "units: unknown unit K in 1K"),
        ("1kB", "units: unknown unit kB in 1kB"),
        ("512mb", "units: unknown unit mb in 512mb"),
        ("1 KB", "units: unknown unit  KB in 1 KB"),
        // One spelling per text: the error is the old spelling's.
        ("1GB512MiB", "units: unknown unit MiB in 1GB512MiB"),
        ("1GiB512MB", "units: unknown unit GiB in 1GiB512MB"),
        (" 1KB", "units: invalid  1KB"),
        ("", "units: invalid "),
        ("-", "units: invalid -"),
        ("KB", "units: invalid KB"),
        (".KB", "units: invalid .KB"),
        (
            "99999999999999999999B",
            "units: invalid 99999999999999999999B",
        ),
        ("10EB", "units: overflow parsing unit"),
        ("8EB", "units: overflow parsing unit"),
        ("-9EB", "units: overflow parsing unit"),
    ];
    for (s, want) in bad {
        assert_eq!(msg(parse_base2(s)), want, "{s:?}");
    }
}
