//! Issue 2: `sightline import openmetrics FILE` takes the same input as
//! `promtool tsdb create-blocks-from openmetrics`, and both stores end up
//! with the same samples. Prometheus's side is read back with
//! `promtool tsdb dump`; ours by opening the data directory.

mod common;

use sightline_core::{Labels, MatchOp, Matcher, MetricQuerier};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

type SeriesMap = BTreeMap<Labels, Vec<(i64, u64)>>;

/// Six hours of realistic data (so it spans several 2h blocks): counters
/// with a reset, noisy gauges, classic histogram buckets; jittered
/// timestamps at 15s; a NaN; values with many digits.
fn openmetrics_file() -> String {
    let mut s = String::new();
    let start_ms: i64 = 1_700_000_000_000;
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let steps = 6 * 240;
    let ts = |i: i64, j: u64| start_ms + i * 15_000 + (j % 40) as i64 - 20;
    writeln!(s, "# TYPE http_requests counter").unwrap();
    for code in ["200", "500"] {
        let mut v = 0.0f64;
        for i in 0..steps {
            v = if i == 700 {
                3.0
            } else {
                v + (next() % 100) as f64
            };
            writeln!(
                s,
                "http_requests_total{{code=\"{code}\",path=\"/api\"}} {v} {:.3}",
                ts(i, next()) as f64 / 1000.0
            )
            .unwrap();
        }
    }
    writeln!(s, "# TYPE temperature_celsius gauge").unwrap();
    for room in ["a", "b"] {
        for i in 0..steps {
            let v = 20.0 + (next() % 10_000) as f64 / 997.0;
            let v = if room == "b" && i == 100 { f64::NAN } else { v };
            writeln!(
                s,
                "temperature_celsius{{room=\"{room}\"}} {v} {:.3}",
                ts(i, next()) as f64 / 1000.0
            )
            .unwrap();
        }
    }
    writeln!(s, "# TYPE latency_seconds histogram").unwrap();
    let bounds = ["0.1", "0.5", "1.0", "+Inf"];
    let mut acc = [0u64; 4];
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); 6];
    for i in 0..steps {
        let t = ts(i, next()) as f64 / 1000.0;
        let mut c = 0;
        for (k, b) in bounds.iter().enumerate() {
            c += next() % 7;
            acc[k] = acc[k].max(c) + next() % 3;
            lines[k].push(format!(
                "latency_seconds_bucket{{le=\"{b}\"}} {} {t:.3}",
                acc[k]
            ));
        }
        lines[4].push(format!("latency_seconds_count {} {t:.3}", acc[3]));
        lines[5].push(format!(
            "latency_seconds_sum {} {t:.3}",
            acc[3] as f64 * 0.31
        ));
    }
    for l in lines.into_iter().flatten() {
        writeln!(s, "{l}").unwrap();
    }
    s.push_str("# EOF\n");
    s
}

/// Parses `promtool tsdb dump` lines: `{a="b", c="d"} VALUE TS`.
fn parse_dump(out: &str) -> SeriesMap {
    let mut m = SeriesMap::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let close = line.rfind('}').expect("labels end");
        let (lbl, rest) = line.split_at(close + 1);
        let mut parts = rest.split_whitespace();
        let v: f64 = parts.next().unwrap().parse().unwrap();
        let t: i64 = parts.next().unwrap().parse().unwrap();
        let inner = &lbl[1..lbl.len() - 1];
        let mut pairs = Vec::new();
        let mut rest = inner;
        while !rest.is_empty() {
            let eq = rest.find('=').unwrap();
            let name = rest[..eq].trim_start_matches([',', ' ']).to_owned();
            // Values are Go-quoted strings; ours contain no escapes.
            let after = &rest[eq + 2..];
            let end = after.find('"').unwrap();
            pairs.push((name, after[..end].to_owned()));
            rest = &after[end + 1..];
        }
        m.entry(Labels::from_pairs(pairs))
            .or_default()
            .push((t, bits(v)));
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

fn bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

#[test]
fn import_matches_promtool_create_blocks_from_openmetrics() {
    let Some(promtool) = common::peer("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.om");
    std::fs::write(&file, openmetrics_file()).unwrap();

    let prom_dir = dir.path().join("prom");
    common::promtool_create_blocks(&promtool, &file, &prom_dir);
    // promtool's dump opens the directory as a database and wants a WAL.
    std::fs::create_dir_all(prom_dir.join("wal")).unwrap();
    let dump = Command::new(&promtool)
        .args(["tsdb", "dump"])
        .arg(&prom_dir)
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "promtool dump: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let want = parse_dump(&String::from_utf8_lossy(&dump.stdout));

    let ours = dir.path().join("sightline");
    common::sightline_import(&file, &ours);
    let db = sightline_tsdb::Db::open(&ours, sightline_tsdb::Options::default()).unwrap();
    let mut got = SeriesMap::new();
    for s in db
        .select(
            &sightline_core::QueryContext::new(),
            i64::MIN,
            i64::MAX,
            &[Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()],
        )
        .unwrap()
        .into_vec()
        .unwrap()
    {
        got.insert(s.labels, s.samples.map(|x| (x.t, bits(x.v))).collect());
    }
    db.close().unwrap();

    let total: usize = want.values().map(Vec::len).sum();
    assert_eq!(
        want.len(),
        10,
        "promtool dump should hold the 10 series of the file"
    );
    assert_eq!(total, 10 * 6 * 240);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (l, pts) in &want {
        assert_eq!(&got[l], pts, "samples differ for {l}");
    }
}

#[test]
fn import_refuses_a_malformed_file_naming_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.om");
    std::fs::write(
        &file,
        "# TYPE a gauge\na 1 1700000000\na{x=\"1\" 2 1700000001\n# EOF\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["import", "openmetrics"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "error should name line 3: {err}");
    let blocks = std::fs::read_dir(&data).map(|d| d.count()).unwrap_or(0);
    assert_eq!(blocks, 0, "nothing may be written for a malformed file");
}
