use super::*;
use chrono::TimeZone;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn interval(yaml: &str) -> TimeInterval {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

#[test]
fn times_are_half_open() {
    let ti = interval("times: [{start_time: '09:00', end_time: '17:30'}]");
    assert!(!ti.contains(at(2024, 3, 4, 8, 59)));
    assert!(ti.contains(at(2024, 3, 4, 9, 0)));
    assert!(ti.contains(at(2024, 3, 4, 17, 29)));
    assert!(!ti.contains(at(2024, 3, 4, 17, 30)));
    let late = interval("times: [{start_time: '22:00', end_time: '24:00'}]");
    assert!(late.contains(at(2024, 3, 4, 23, 59)));
    assert!(!late.contains(at(2024, 3, 5, 0, 0)));
}

#[test]
fn weekdays_and_ranges() {
    // 2024-03-04 was a Monday, 2024-03-09 a Saturday, 2024-03-10 a Sunday.
    let ti = interval("weekdays: ['Monday:friday']");
    assert!(ti.contains(at(2024, 3, 4, 12, 0)));
    assert!(ti.contains(at(2024, 3, 8, 23, 59)));
    assert!(!ti.contains(at(2024, 3, 9, 0, 0)));
    assert!(!ti.contains(at(2024, 3, 10, 12, 0)));
    let weekend = interval("weekdays: [saturday, sunday]");
    assert!(weekend.contains(at(2024, 3, 10, 12, 0)));
    assert!(!weekend.contains(at(2024, 3, 11, 12, 0)));
}

#[test]
fn negative_days_count_from_the_month_end() {
    let last_two = interval("days_of_month: ['-2:-1']");
    // February 2024 has 29 days, February 2023 has 28.
    assert!(last_two.contains(at(2024, 2, 28, 0, 0)));
    assert!(last_two.contains(at(2024, 2, 29, 0, 0)));
    assert!(!last_two.contains(at(2024, 2, 27, 0, 0)));
    assert!(last_two.contains(at(2023, 2, 27, 0, 0)));
    // 25th to the second-to-last day.
    let mixed = interval("days_of_month: ['25:-2']");
    assert!(mixed.contains(at(2024, 4, 29, 0, 0)));
    assert!(!mixed.contains(at(2024, 4, 30, 0, 0)));
    // The 31st does not exist in April: nothing that month.
    let d31 = interval("days_of_month: ['31']");
    assert!(!d31.contains(at(2024, 4, 30, 0, 0)));
    assert!(!d31.contains(at(2024, 5, 1, 0, 0)));
    assert!(d31.contains(at(2024, 5, 31, 0, 0)));
}

#[test]
fn months_years_and_all_together() {
    let ti = interval(
        "months: ['january', 'march:4']\nyears: ['2023:2024']\nweekdays: [monday]\ntimes: [{start_time: '00:00', end_time: '01:00'}]",
    );
    assert!(ti.contains(at(2024, 3, 4, 0, 30)));
    assert!(!ti.contains(at(2024, 3, 4, 1, 0)));
    assert!(!ti.contains(at(2024, 2, 5, 0, 30)));
    assert!(!ti.contains(at(2025, 3, 3, 0, 30)));
    assert!(ti.contains(at(2023, 1, 2, 0, 30)));
    // Given empty, a list contains nothing.
    assert!(!interval("times: []").contains(at(2024, 3, 4, 0, 30)));
    assert!(interval("{}").contains(at(2024, 3, 4, 0, 30)));
}

#[test]
fn location_moves_the_clock() {
    // 2024-07-01 07:30 UTC is 09:30 in Berlin (CEST, UTC+2) and a Monday;
    // 2024-01-15 07:30 UTC is 08:30 in Berlin (CET, UTC+1).
    let ti = interval("location: Europe/Berlin\ntimes: [{start_time: '09:00', end_time: '17:00'}]");
    assert!(ti.contains(at(2024, 7, 1, 7, 30)));
    assert!(!ti.contains(at(2024, 1, 15, 7, 30)));
    // 23:30 UTC on Sunday 2024-03-10 is already Monday in Tokyo (UTC+9).
    let mon = interval("location: Asia/Tokyo\nweekdays: [monday]");
    assert!(mon.contains(at(2024, 3, 10, 23, 30)));
    assert!(!interval("weekdays: [monday]").contains(at(2024, 3, 10, 23, 30)));
}

#[test]
fn bad_intervals_are_refused_with_alertmanagers_words() {
    let err = |yaml: &str| {
        serde_saphyr::from_str::<TimeInterval>(yaml)
            .unwrap_err()
            .to_string()
    };
    for (yaml, want) in [
        ("weekdays: ['1:5']", "1 is not a valid weekday"),
        (
            "weekdays: ['friday:monday']",
            "start day cannot be before end day",
        ),
        (
            "days_of_month: ['-1:3']",
            "end day must be negative if start day is negative",
        ),
        (
            "days_of_month: ['0']",
            "0 is not a valid day of the month: out of range",
        ),
        (
            "days_of_month: ['20:-9']",
            "end day -9 is always before start day 20",
        ),
        (
            "years: ['2020:2019']",
            "end year 2019 is before start year 2020",
        ),
        (
            "times: [{start_time: '9:00', end_time: '17:00'}]",
            "couldn't parse timestamp 9:00, invalid format",
        ),
        (
            "times: [{start_time: '17:00', end_time: '17:00'}]",
            "start time cannot be equal or greater than end time",
        ),
        ("location: Mars/Base", "unknown time zone Mars/Base"),
        (
            "weekdays: ['monday:tuesday:friday']",
            "couldn't parse range monday:tuesday:friday, invalid format",
        ),
    ] {
        let e = err(yaml);
        assert!(e.contains(want), "{yaml}: {e}");
    }
}
