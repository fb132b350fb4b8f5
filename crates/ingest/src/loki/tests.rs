//! Loki push (issue 15): decoders, label validation, Loki's messages and
//! status codes. Expected texts are Loki's `pkg/validation` formats filled
//! in by hand.

use super::decode::{decode_body, StreamLabels};
use super::*;
use sightline_core::logs::{
    LogAppendReport, LogAppender, LogEntry, LogHints, LogQuerier, LogRefusal, LogStream,
    MemLogStore,
};
use sightline_core::{Labels, Matcher};
use sightline_proto::loki::{
    EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp,
};
use std::io::Write;

const NOW: i64 = 1_700_000_000_000_000_000;

fn entry(ts: i64, line: &str) -> LogEntry {
    LogEntry {
        ts_ns: ts,
        line: line.into(),
        metadata: vec![],
    }
}

fn snappy_proto(req: &PushRequest) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(&prost::Message::encode_to_vec(req))
        .unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn zlib(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn lines(store: &MemLogStore, tenant: &str, m: &[Matcher]) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for s in store
        .select(tenant, m, i64::MIN, i64::MAX, &LogHints::default())
        .unwrap()
    {
        for e in s.entries {
            let e = e.unwrap();
            out.push((e.ts_ns, e.line));
        }
    }
    out
}

#[test]
fn selector_parses_quotes_escapes_and_trailing_comma() {
    let got = selector::parse(r#" { app="api", msg='a\'b\n', raw=`x\y`, } "#).unwrap();
    assert_eq!(
        got,
        [
            ("app".to_owned(), "api".to_owned()),
            ("msg".to_owned(), "a'b\n".to_owned()),
            ("raw".to_owned(), "x\\y".to_owned()),
        ]
    );
    assert_eq!(selector::parse("{}").unwrap(), []);
}

#[test]
fn selector_errors_say_what_and_where() {
    for (text, want) in [
        (
            r#"{a=~"b"}"#,
            "parse error at byte 3: only \"=\" is allowed in a stream's labels, found '~'",
        ),
        (
            r#"{1a="b"}"#,
            "parse error at byte 1: expected a label name, found '1'",
        ),
        (
            r#"{a="b"#,
            "parse error at byte 3: unterminated quoted string, found '\"'",
        ),
        (r#"a="b""#, "parse error at byte 0: expected '{', found 'a'"),
        (
            r#"{a="b"} x"#,
            "parse error at byte 8: unexpected text after \"}\", found 'x'",
        ),
        (
            r#"{a="b" c="d"}"#,
            "parse error at byte 7: expected \",\" or \"}\", found 'c'",
        ),
    ] {
        assert_eq!(selector::parse(text).unwrap_err(), want, "{text}");
    }
}

#[test]
fn label_validation_uses_lokis_limits_and_messages() {
    let l = PushLimits::default();
    let text = |s: &str| StreamLabels::Text(s.into());
    // Sorted, empty values dropped.
    assert_eq!(
        l.stream_labels(&text(r#"{b="2", a="1", c=""}"#)).unwrap(),
        Labels::from_pairs([("a", "1"), ("b", "2")])
    );
    assert_eq!(
        l.stream_labels(&text("{}")).unwrap_err(),
        "error at least one label pair is required per stream"
    );
    assert_eq!(
        l.stream_labels(&text(r#"{a="1", a="2"}"#)).unwrap_err(),
        r#"stream '{a="1", a="2"}' has duplicate label name: 'a'"#
    );
    // 16 names, one over Loki's default of 15.
    let many: Vec<String> = (0..16).map(|i| format!("l{i:02}=\"v\"")).collect();
    let e = l
        .stream_labels(&text(&format!("{{{}}}", many.join(","))))
        .unwrap_err();
    assert!(
        e.starts_with("entry for stream '{l00=\"v\", l01=\"v\""),
        "{e}"
    );
    assert!(e.ends_with("' has 16 label names; limit 15"), "{e}");
    let long = "x".repeat(2049);
    assert_eq!(
        l.stream_labels(&text(&format!("{{a=\"{long}\"}}")))
            .unwrap_err(),
        format!("stream '{{a=\"{long}\"}}' has label value too long: '{long}'")
    );
    let name = "n".repeat(1025);
    assert_eq!(
        l.stream_labels(&text(&format!("{{{name}=\"v\"}}")))
            .unwrap_err(),
        format!("stream '{{{name}=\"v\"}}' has label name too long: '{name}'")
    );
    assert_eq!(
        l.stream_labels(&text("{a=}")).unwrap_err(),
        "Error parsing labels '{a=}' with error: parse error at byte 3: expected a quoted label value, found '}'"
    );
    assert_eq!(
        l.stream_labels(&StreamLabels::Pairs(vec![("a-b".into(), "1".into())]))
            .unwrap_err(),
        r#"Error parsing labels '{a-b="1"}' with error: invalid label name "a-b""#
    );
}

#[test]
fn timestamps_too_new_and_too_old() {
    let l = PushLimits::default();
    let labels = Labels::from_pairs([("a", "1")]);
    assert!(l
        .entry(&labels, &entry(NOW + 600_000_000_000, "x"), NOW)
        .is_ok());
    // 2023-11-14 22:13:20 UTC is NOW; ten minutes and one second later:
    assert_eq!(
        l.entry(&labels, &entry(NOW + 601_000_000_000, "x"), NOW)
            .unwrap_err(),
        "entry for stream '{a=\"1\"}' has timestamp too new: 2023-11-14 22:23:21 +0000 UTC"
    );
    let week = 7 * 24 * 3600 * 1_000_000_000i64;
    assert!(l.entry(&labels, &entry(NOW - week, "x"), NOW).is_ok());
    assert_eq!(
        l.entry(&labels, &entry(NOW - week - 1_000_000_000, "x"), NOW).unwrap_err(),
        "entry for stream '{a=\"1\"}' has timestamp too old: 2023-11-07 22:13:19 +0000 UTC, oldest acceptable timestamp is: 2023-11-07 22:13:20 +0000 UTC"
    );
}

fn proto_request() -> PushRequest {
    PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{job="api", env="prod"}"#.into(),
            entries: vec![
                EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1_700_000_000,
                        nanos: 5,
                    }),
                    line: "hello".into(),
                    structured_metadata: vec![LabelPairAdapter {
                        name: "trace_id".into(),
                        value: "abc".into(),
                    }],
                },
                EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1_700_000_001,
                        nanos: 0,
                    }),
                    line: "world".into(),
                    structured_metadata: vec![],
                },
            ],
            hash: 0,
        }],
    }
}

#[test]
fn protobuf_snappy_decodes_with_metadata() {
    let body = snappy_proto(&proto_request());
    let got = decode_body(&body, Some("application/x-protobuf"), None).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].labels,
        StreamLabels::Text(r#"{job="api", env="prod"}"#.into())
    );
    assert_eq!(
        got[0].entries,
        [
            LogEntry {
                ts_ns: 1_700_000_000_000_000_005,
                line: "hello".into(),
                metadata: vec![("trace_id".into(), "abc".into())],
            },
            entry(1_700_000_001_000_000_000, "world"),
        ]
    );
    // Loki reads any non-JSON type as protobuf; gzip around snappy too.
    let again = decode_body(&gzip(&body), None, Some("gzip")).unwrap();
    assert_eq!(again, got);
}

#[test]
fn json_v1_and_legacy_decode() {
    let v1 = br#"{"streams":[{"stream":{"job":"api"},"values":[["1700000000000000005","a"],["1700000000000000006","b",{"user":"u1"}],[1700000000000000007,"c"]]}]}"#;
    let got = decode_body(v1, Some("application/json; charset=utf-8"), None).unwrap();
    assert_eq!(
        got[0].labels,
        StreamLabels::Pairs(vec![("job".into(), "api".into())])
    );
    assert_eq!(
        got[0].entries,
        [
            entry(1_700_000_000_000_000_005, "a"),
            LogEntry {
                ts_ns: 1_700_000_000_000_000_006,
                line: "b".into(),
                metadata: vec![("user".into(), "u1".into())],
            },
            entry(1_700_000_000_000_000_007, "c"),
        ]
    );
    for (enc, body) in [("gzip", gzip(v1)), ("deflate", zlib(v1))] {
        assert_eq!(
            decode_body(&body, Some("application/json"), Some(enc)).unwrap(),
            got,
            "{enc}"
        );
    }
    let legacy = br#"{"streams":[{"labels":"{job=\"api\"}","entries":[{"ts":"2023-11-14T22:13:20.5Z","line":"x"}]}]}"#;
    let got = decode_body(legacy, Some("application/json"), None).unwrap();
    assert_eq!(got[0].labels, StreamLabels::Text("{job=\"api\"}".into()));
    assert_eq!(got[0].entries, [entry(1_700_000_000_500_000_000, "x")]);
}

#[test]
fn bad_bodies_name_the_place() {
    let j = Some("application/json");
    for (body, want) in [
        (&br#"{"streams":[{"stream":{"a":"b"},"values":[["x","l"]]}]}"#[..], "streams[0].values[0][0]: expected a timestamp in nanoseconds since the epoch (a string of digits), got \"x\""),
        (br#"{"streams":[{"stream":{"a":1}}]}"#, "streams[0].stream.a: expected a string, got a number"),
        (br#"{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}"#, "streams[0].values[0]: expected [timestamp, line] or [timestamp, line, structured metadata], got 1 elements"),
        (br#"{"streams":{}}"#, "streams: expected an array, got an object"),
    ] {
        assert_eq!(decode_body(body, j, None).unwrap_err().to_string(), want);
    }
    assert!(decode_body(b"{", j, None)
        .unwrap_err()
        .to_string()
        .starts_with("invalid JSON: "));
    let e = decode_body(b"\xff\xff\xff\xff", None, None).unwrap_err();
    assert!(
        e.to_string().starts_with("decompressing snappy body: "),
        "{e}"
    );
    let e = decode_body(b"{}", j, Some("br")).unwrap_err();
    assert!(matches!(e, crate::Error::UnsupportedMediaType(_)));
    assert_eq!(e.to_string(), "Content-Encoding \"br\" not supported");
    let e = decode_body(b"not gzip", j, Some("gzip")).unwrap_err();
    assert!(
        e.to_string().starts_with("decompressing gzip body: "),
        "{e}"
    );
}

#[test]
fn push_writes_good_streams_and_reports_bad_ones() {
    let store = MemLogStore::new();
    let body = format!(
        r#"{{"streams":[
        {{"stream":{{"job":"ok"}},"values":[["{a}","one"],["{a}","one"],["{b}","future"]]}},
        {{"labels":"{{job=~\"x\"}}","entries":[]}},
        {{"stream":{{}},"values":[["{a}","nolabels"]]}}]}}"#,
        a = NOW,
        b = NOW + 3_600_000_000_000
    );
    let out = push_body(
        body.as_bytes(),
        Some("application/json"),
        None,
        "t1",
        &PushLimits::default(),
        NOW,
        &store,
    );
    assert_eq!(out.status, 400);
    assert_eq!(
        out.message,
        "entry for stream '{job=\"ok\"}' has timestamp too new: 2023-11-14 23:13:20 +0000 UTC\n\
         Error parsing labels '{job=~\"x\"}' with error: parse error at byte 5: only \"=\" is allowed in a stream's labels, found '~'\n\
         error at least one label pair is required per stream"
    );
    // The good line was written once (the duplicate dropped, as Loki does).
    assert_eq!((out.report.accepted, out.report.duplicates), (1, 1));
    assert_eq!(
        lines(&store, "t1", &[Matcher::equal("job", "ok")]),
        [(NOW, "one".to_owned())]
    );
    assert!(lines(&store, "fake", &[Matcher::equal("job", "ok")]).is_empty());

    let ok = push_body(
        &snappy_proto(&proto_request()),
        Some("application/x-protobuf"),
        None,
        "t1",
        &PushLimits::default(),
        NOW,
        &store,
    );
    assert_eq!((ok.status, ok.message.as_str()), (204, ""));
    assert_eq!(
        lines(&store, "t1", &[Matcher::equal("job", "api")]).len(),
        2
    );
}

/// An appender that refuses as it is told, or fails.
struct Refuser(Result<Vec<LogRefusal>, ()>);

impl LogAppender for Refuser {
    fn append(
        &self,
        _tenant: &str,
        streams: Vec<LogStream>,
    ) -> sightline_core::Result<LogAppendReport> {
        match &self.0 {
            Ok(r) => Ok(LogAppendReport {
                accepted: streams.iter().map(|s| s.entries.len()).sum::<usize>() - r.len(),
                refused: r.clone(),
                ..LogAppendReport::default()
            }),
            Err(()) => Err(sightline_core::Error::new(
                sightline_core::ErrorKind::Unavailable,
                "wal: disk full",
            )),
        }
    }
}

fn push_to(app: &dyn LogAppender) -> PushOutcome {
    let body = format!(
        r#"{{"streams":[{{"stream":{{"job":"x"}},"values":[["{NOW}","abcd"],["{NOW}","efgh"]]}}]}}"#
    );
    push_body(
        body.as_bytes(),
        Some("application/json"),
        None,
        "t",
        &PushLimits::default(),
        NOW,
        app,
    )
}

#[test]
fn store_refusals_become_lokis_codes_and_messages() {
    let labels = Labels::from_pairs([("job", "x")]);
    let out = push_to(&Refuser(Ok(vec![LogRefusal::LineTooLong {
        labels: labels.clone(),
        bytes: 4,
        limit: 3,
    }])));
    assert_eq!(out.status, 400);
    assert_eq!(
        out.message,
        "Max entry size '3' bytes exceeded for stream '{job=\"x\"}' while adding an entry with length '4' bytes"
    );
    let out = push_to(&Refuser(Ok(vec![LogRefusal::RateLimited {
        limit_bytes_per_s: 100,
    }])));
    assert_eq!(out.status, 429);
    assert_eq!(
        out.message,
        "Ingestion rate limit exceeded for user t (limit: 100 bytes/sec) while attempting to ingest '2' lines totaling '8' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased"
    );
    let out = push_to(&Refuser(Ok(vec![LogRefusal::StreamRateLimited {
        labels: labels.clone(),
    }])));
    assert_eq!(out.status, 429);
    assert!(out.message.starts_with("Per stream rate limit exceeded while attempting to ingest for stream '{job=\"x\"}' totaling 8B"), "{}", out.message);
    let out = push_to(&Refuser(Ok(vec![LogRefusal::StreamLimit {
        labels: labels.clone(),
        limit: 1,
    }])));
    assert_eq!(out.status, 429);
    assert!(out.message.starts_with(
        "Maximum active stream limit exceeded when trying to create stream {job=\"x\"}, "
    ));
    assert!(out.message.ends_with(", user: 't'"));
    let out = push_to(&Refuser(Ok(vec![LogRefusal::TooFarBehind {
        labels: labels.clone(),
        ts_ns: NOW,
    }])));
    assert_eq!(out.status, 400);
    assert_eq!(
        out.message,
        "entry with timestamp 2023-11-14 22:13:20 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2023-11-14 22:13:20 +0000 UTC',\n\
         user 't', total ignored: 1 out of 2 for stream: {job=\"x\"}"
    );
    let out = push_to(&Refuser(Ok(vec![LogRefusal::TooOld {
        labels,
        ts_ns: NOW,
    }])));
    assert_eq!(
        (out.status, out.message.as_str()),
        (
            400,
            "entry for stream '{job=\"x\"}' has timestamp too old: 2023-11-14 22:13:20 +0000 UTC"
        )
    );
}

/// A 204 is only answered when `append` returned `Ok`: a failing store
/// gives 503 and the store's message.
#[test]
fn no_success_without_a_successful_append() {
    let out = push_to(&Refuser(Err(())));
    assert_eq!(out.status, 503);
    assert!(out.message.contains("wal: disk full"), "{}", out.message);
    assert_eq!(out.report, LogAppendReport::default());
    assert_eq!(push_to(&Refuser(Ok(vec![]))).status, 204);
}

#[test]
fn limits_read_lokis_names_and_defaults() {
    let l: PushLimits =
        serde_saphyr::from_str("max_label_names_per_series: 20\ncreation_grace_period: 1h\n")
            .unwrap();
    assert_eq!(l.max_label_names_per_series, 20);
    assert_eq!(
        l.creation_grace_period,
        sightline_core::duration::Duration::from_secs(3600)
    );
    assert_eq!(
        l,
        PushLimits {
            max_label_names_per_series: 20,
            creation_grace_period: sightline_core::duration::Duration::from_secs(3600),
            ..PushLimits::default()
        }
    );
    // The store's limits are not the distributor's: refused by name.
    let e = serde_saphyr::from_str::<PushLimits>("max_line_size: 1\n").unwrap_err();
    assert!(e.to_string().contains("max_line_size"), "{e}");
}

/// Every prefix of selectors (cut anywhere) parses or errors, never panics.
#[test]
fn truncated_selectors_never_panic() {
    let raw = r#"{ app="äpi", msg='a\'b\n\u00e9', raw=`x\y`, esc="\x41\U0001F600" }"#;
    for (i, _) in raw.char_indices() {
        let _ = selector::parse(&raw[..i]);
    }
    assert_eq!(
        selector::parse(raw).unwrap()[3],
        ("esc".to_owned(), "A\u{1F600}".to_owned())
    );
}
