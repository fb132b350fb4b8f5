//! Tests of remote write decoding and appending (v1 and v2).

use super::*;
use sightline_core::AppendStats;
use std::sync::{Arc, Mutex};

type Row = (String, i64, f64);

/// A store that refuses like a TSDB head: out of bounds before
/// `MIN_T`, out of order behind a series' newest committed or pending
/// sample, duplicate for the same time with another value; and fails
/// with an internal error at `BROKEN_T`.
#[derive(Clone, Default)]
struct Store {
    committed: Arc<Mutex<Vec<Row>>>,
    exemplars: Arc<Mutex<Vec<(String, Exemplar)>>>,
    refuse_exemplars: bool,
}

const MIN_T: i64 = 100;
const BROKEN_T: i64 = 9999;

struct App {
    store: Store,
    pending: Vec<Row>,
    exemplars: Vec<(String, Exemplar)>,
}

impl MetricAppender for Store {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(App {
            store: self.clone(),
            pending: Vec::new(),
            exemplars: Vec::new(),
        })
    }
}

impl Appender for App {
    fn append(
        &mut self,
        _r: SeriesRef,
        l: &Labels,
        t: i64,
        v: f64,
    ) -> sightline_core::Result<SeriesRef> {
        use sightline_core::Error as E;
        let key = l.to_string();
        if t == BROKEN_T {
            return Err(E::internal("disk on fire"));
        }
        if t < MIN_T {
            return Err(E::new(ErrorKind::OutOfBounds, "out of bounds"));
        }
        let committed = self.store.committed.lock().unwrap();
        let last = committed
            .iter()
            .chain(self.pending.iter())
            .filter(|r| r.0 == key)
            .map(|r| (r.1, r.2))
            .max_by_key(|r| r.0);
        drop(committed);
        if let Some((lt, lv)) = last {
            if t < lt {
                return Err(E::new(ErrorKind::OutOfOrder, "out of order sample"));
            }
            if t == lt && v != lv {
                return Err(E::new(
                    ErrorKind::DuplicateSample,
                    "duplicate sample for timestamp",
                ));
            }
        }
        self.pending.push((key, t, v));
        Ok(1)
    }

    /// Histograms are kept as their count, under the float rules.
    fn append_histogram(
        &mut self,
        r: SeriesRef,
        l: &Labels,
        t: i64,
        h: &sightline_core::FloatHistogram,
    ) -> sightline_core::Result<SeriesRef> {
        self.append(r, l, t, h.count)
    }

    fn append_exemplar(
        &mut self,
        _r: SeriesRef,
        l: &Labels,
        e: &Exemplar,
    ) -> sightline_core::Result<()> {
        if self.store.refuse_exemplars {
            return Err(sightline_core::Error::new(
                ErrorKind::OutOfOrder,
                "out of order exemplar",
            ));
        }
        self.exemplars.push((l.to_string(), e.clone()));
        Ok(())
    }

    fn commit(self: Box<Self>) -> sightline_core::Result<AppendStats> {
        let n = self.pending.len() as u64;
        self.store.committed.lock().unwrap().extend(self.pending);
        self.store.exemplars.lock().unwrap().extend(self.exemplars);
        Ok(AppendStats {
            samples: n,
            series_created: 0,
        })
    }

    fn rollback(self: Box<Self>) {}
}

fn label(n: &str, v: &str) -> v1::Label {
    v1::Label {
        name: n.into(),
        value: v.into(),
    }
}

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels.iter().map(|(n, v)| label(n, v)).collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| v1::Sample { value, timestamp })
            .collect(),
        ..Default::default()
    }
}

fn v1_req(ts: Vec<v1::TimeSeries>) -> DecodedWrite {
    DecodedWrite::V1(v1::WriteRequest {
        timeseries: ts,
        metadata: vec![],
    })
}

fn snappy(b: &[u8]) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(b).unwrap()
}

fn rows(s: &Store) -> Vec<Row> {
    s.committed.lock().unwrap().clone()
}

#[test]
fn decode_picks_the_version_from_content_type() {
    let req = v1::WriteRequest {
        timeseries: vec![series(&[("__name__", "up")], &[(1000, 1.0)])],
        metadata: vec![],
    };
    let body = snappy(&req.encode_to_vec());
    for ct in [
        None,
        Some(""),
        Some("application/x-protobuf"),
        Some("Application/X-Protobuf; proto=prometheus.WriteRequest"),
        Some("application/x-protobuf;proto=\"prometheus.WriteRequest\""),
    ] {
        let d = decode(&body, ct, Some("snappy")).unwrap();
        assert_eq!(d, DecodedWrite::V1(req.clone()), "{ct:?}");
        assert_eq!(d.sample_count(), 1);
    }
    let v2req = v2::Request {
        symbols: vec!["".into(), "__name__".into(), "up".into()],
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 2],
            samples: vec![v2::Sample {
                value: 1.0,
                timestamp: 5,
            }],
            ..Default::default()
        }],
    };
    let d = decode(
        &snappy(&v2req.encode_to_vec()),
        Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        None,
    )
    .unwrap();
    assert_eq!(d, DecodedWrite::V2(v2req));
}

#[test]
fn decode_refuses_other_media_types_and_encodings_with_415() {
    let body = snappy(&v1::WriteRequest::default().encode_to_vec());
    for (ct, ce, want) in [
        (
            Some("application/json"),
            None,
            "unsupported Content-Type \"application/json\"",
        ),
        (
            Some("application/x-protobuf;proto=foo.Bar"),
            None,
            "unsupported remote write message \"foo.Bar\"",
        ),
        (None, Some("gzip"), "unsupported Content-Encoding \"gzip\""),
        (None, Some("identity"), "unsupported Content-Encoding"),
    ] {
        let e = decode(&body, ct, ce).unwrap_err();
        assert!(matches!(e, Error::UnsupportedMediaType(_)), "{e:?}");
        assert!(e.to_string().contains(want), "{e}");
        assert_eq!(http_status(&e), 415);
    }
}

#[test]
fn decode_reports_bad_bodies_as_400() {
    let e = decode(b"\xff\xff\xff\xff\xff\xff", None, None).unwrap_err();
    assert!(matches!(e, Error::RemoteWrite(_)), "{e:?}");
    assert!(
        e.to_string().starts_with("decompressing snappy body"),
        "{e}"
    );
    assert_eq!(http_status(&e), 400);
    // Not snappy at all: the raw protobuf.
    let raw = v1::WriteRequest {
        timeseries: vec![series(&[("__name__", "up")], &[(1, 1.0)])],
        metadata: vec![],
    }
    .encode_to_vec();
    assert!(decode(&raw, None, None).is_err());
    // Snappy around garbage.
    let e = decode(&snappy(b"\x0a\x05abc"), None, None).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("decoding prometheus.WriteRequest protobuf"),
        "{e}"
    );
    let e = decode(
        &snappy(b"\x22\x05ab"),
        Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("decoding io.prometheus.write.v2.Request protobuf"),
        "{e}"
    );
    // A snappy header claiming 4 GiB is refused before allocating.
    let e = decode(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0], None, None).unwrap_err();
    assert!(e.to_string().contains("would decompress to"), "{e}");
}

#[test]
fn v1_appends_everything_and_sorts_labels() {
    let store = Store::default();
    let req = v1_req(vec![
        series(
            &[("job", "a"), ("__name__", "up"), ("empty", "")],
            &[(1000, 1.0), (2000, 0.0)],
        ),
        series(&[("__name__", "x:y")], &[(1000, 5.0)]),
    ]);
    let out = write(&req, &store);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.http_status(), 204);
    assert_eq!(out.samples_appended, 3);
    assert_eq!(
        rows(&store),
        vec![
            ("up{job=\"a\"}".to_owned(), 1000, 1.0),
            ("up{job=\"a\"}".to_owned(), 2000, 0.0),
            ("x:y".to_owned(), 1000, 5.0)
        ]
    );
}

#[test]
fn v1_refused_sample_rolls_back_the_whole_request() {
    for (samples, kind, field) in [
        (
            vec![(2000, 1.0), (1000, 1.0)],
            ErrorKind::OutOfOrder,
            "out_of_order",
        ),
        (vec![(50, 1.0)], ErrorKind::OutOfBounds, "out_of_bounds"),
        (
            vec![(2000, 1.0), (2000, 2.0)],
            ErrorKind::DuplicateSample,
            "duplicate",
        ),
    ] {
        let store = Store::default();
        let req = v1_req(vec![
            series(&[("__name__", "ok")], &[(1000, 1.0)]),
            series(&[("__name__", "bad")], &samples),
            series(&[("__name__", "never")], &[(1000, 1.0)]),
        ]);
        let out = write(&req, &store);
        assert_eq!(out.http_status(), 400, "{field}");
        assert!(out.rollback);
        assert_eq!(out.samples_appended, 0);
        let e = out.error.as_ref().unwrap();
        assert_eq!(e.kind(), kind);
        assert!(e.to_string().contains("for series bad at"), "{e}");
        let r = out.rejected;
        assert_eq!(
            (r.out_of_order, r.out_of_bounds, r.duplicate),
            match field {
                "out_of_order" => (1, 0, 0),
                "out_of_bounds" => (0, 1, 0),
                _ => (0, 0, 1),
            }
        );
        assert!(rows(&store).is_empty(), "{field}: nothing committed");
    }
}

#[test]
fn v1_store_failure_is_500_and_rolled_back() {
    let store = Store::default();
    let out = write(
        &v1_req(vec![series(
            &[("__name__", "a")],
            &[(1000, 1.0), (BROKEN_T, 1.0)],
        )]),
        &store,
    );
    assert_eq!(out.http_status(), 500);
    assert!(out.rollback);
    assert!(rows(&store).is_empty());
}

#[test]
fn v1_invalid_labels_refuse_the_request() {
    for (labels, want) in [
        (vec![("job", "a")], "has no metric name"),
        (vec![("__name__", "")], "invalid metric name \"\""),
        (vec![("__name__", "a-b")], "invalid metric name \"a-b\""),
        (
            vec![("__name__", "a"), ("1x", "v")],
            "invalid label name \"1x\"",
        ),
        (
            vec![("__name__", "a"), ("", "v")],
            "invalid label name \"\"",
        ),
        (
            vec![("__name__", "a"), ("x:y", "v")],
            "invalid label name \"x:y\"",
        ),
        (
            vec![("__name__", "a"), ("j", "1"), ("j", "2")],
            "label name \"j\" appears twice",
        ),
        (
            vec![("j", "1"), ("__name__", "a"), ("j", "")],
            "label name \"j\" appears twice",
        ),
    ] {
        let store = Store::default();
        let req = v1_req(vec![
            series(&[("__name__", "fine")], &[(1000, 1.0)]),
            series(&labels, &[(1000, 1.0), (2000, 1.0)]),
        ]);
        let out = write(&req, &store);
        assert_eq!(out.http_status(), 400, "{labels:?}");
        let msg = out.error.as_ref().unwrap().to_string();
        assert!(msg.contains(want), "{labels:?}: {msg}");
        assert_eq!(out.rejected.invalid_labels, 2);
        assert!(rows(&store).is_empty());
    }
}

#[test]
fn exemplars_are_appended_and_their_errors_ignored() {
    let mut ts = series(&[("__name__", "c_total")], &[(1000, 1.0)]);
    ts.exemplars = vec![
        v1::Exemplar {
            labels: vec![label("trace_id", "abc")],
            value: 0.5,
            timestamp: 1000,
        },
        v1::Exemplar {
            labels: vec![],
            value: 1.0,
            timestamp: 0,
        },
    ];
    let store = Store::default();
    let out = write(&v1_req(vec![ts.clone()]), &store);
    assert_eq!(out.http_status(), 204);
    assert_eq!(out.exemplars_appended, 2);
    let ex = store.exemplars.lock().unwrap().clone();
    assert_eq!(ex[0].0, "c_total");
    assert_eq!(ex[0].1.labels.get("trace_id"), Some("abc"));
    assert_eq!(ex[0].1.timestamp, Some(1000));
    assert_eq!(ex[1].1.timestamp, None);

    let store = Store {
        refuse_exemplars: true,
        ..Store::default()
    };
    let out = write(&v1_req(vec![ts]), &store);
    assert_eq!(out.http_status(), 204);
    assert_eq!((out.exemplars_appended, out.exemplars_dropped), (0, 2));
    assert_eq!(rows(&store).len(), 1);
}

type RawSeries = (Vec<u32>, Vec<(i64, f64)>);

fn v2_req(symbols: &[&str], ts: Vec<RawSeries>) -> DecodedWrite {
    DecodedWrite::V2(v2::Request {
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
        timeseries: ts
            .into_iter()
            .map(|(labels_refs, s)| v2::TimeSeries {
                labels_refs,
                samples: s
                    .into_iter()
                    .map(|(timestamp, value)| v2::Sample { value, timestamp })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    })
}

fn int_hist(t: i64, count: u64, deltas: Vec<i64>, len: u32) -> v1::Histogram {
    v1::Histogram {
        count: Some(v1::histogram::Count::CountInt(count)),
        sum: 1.5,
        schema: 0,
        positive_spans: vec![v1::BucketSpan {
            offset: 0,
            length: len,
        }],
        positive_deltas: deltas,
        timestamp: t,
        ..Default::default()
    }
}

#[test]
fn v1_histograms_are_appended_after_floats_and_invalid_ones_refuse_the_request() {
    // Issue 12.
    let mut ts = series(&[("__name__", "h")], &[]);
    ts.histograms = vec![
        int_hist(1000, 3, vec![1, 1], 2),
        int_hist(2000, 5, vec![2, 1], 2),
    ];
    let store = Store::default();
    let out = write(&v1_req(vec![ts.clone()]), &store);
    assert_eq!(out.http_status(), 204);
    assert_eq!(out.histograms_appended, 2);
    assert_eq!(
        rows(&store),
        vec![("h".to_owned(), 1000, 3.0), ("h".to_owned(), 2000, 5.0)]
    );
    let ok = series(&[("__name__", "ok")], &[(3000, 1.0)]);
    ts.histograms = vec![int_hist(3000, 3, vec![1, 1], 3)];
    let store = Store::default();
    let out = write(&v1_req(vec![ok, ts]), &store);
    assert_eq!(out.http_status(), 400);
    assert!(out.rollback);
    assert!(rows(&store).is_empty());
    let msg = out.error.unwrap().to_string();
    assert!(
        msg.contains("positive side: spans need 3 buckets, have 2 buckets: histogram spans specify different number of buckets than provided for series h at 3000"),
        "{msg}"
    );
}

#[test]
fn v2_histograms_write_partially() {
    let mut req = v2_req(
        &["", "__name__", "a", "b"],
        vec![(vec![1, 2], vec![]), (vec![1, 3], vec![])],
    );
    let DecodedWrite::V2(r) = &mut req else {
        unreachable!()
    };
    r.timeseries[0].histograms = vec![int_hist(1000, 1, vec![5], 1)];
    r.timeseries[1].histograms = vec![int_hist(1000, 1, vec![1], 1)];
    let store = Store::default();
    let out = write(&req, &store);
    assert_eq!(out.http_status(), 400);
    assert!(!out.rollback);
    assert_eq!((out.histograms_appended, out.histograms_dropped), (1, 1));
    assert_eq!(rows(&store), vec![("b".to_owned(), 1000, 1.0)]);
    assert!(out
        .error
        .unwrap()
        .to_string()
        .contains("5 observations found in buckets"));
}

#[test]
fn v2_resolves_symbols() {
    let store = Store::default();
    let req = v2_req(
        &["", "__name__", "up", "job", "a"],
        vec![(vec![1, 2, 3, 4], vec![(1000, 1.0)])],
    );
    let out = write(&req, &store);
    assert_eq!(out.http_status(), 204);
    assert_eq!(rows(&store), vec![("up{job=\"a\"}".to_owned(), 1000, 1.0)]);
}

#[test]
fn v2_writes_partially_and_answers_400() {
    let store = Store::default();
    let req = v2_req(
        &["", "__name__", "a", "b", "c"],
        vec![
            (vec![1, 2], vec![(1000, 1.0), (500, 1.0), (2000, 2.0)]),
            (vec![1, 9], vec![(1000, 1.0)]),
            (vec![1], vec![(1000, 1.0)]),
            (vec![3, 4], vec![(1000, 1.0)]),
            (vec![1, 3], vec![(50, 1.0), (1000, 3.0)]),
        ],
    );
    let out = write(&req, &store);
    assert_eq!(out.http_status(), 400);
    assert!(!out.rollback);
    assert_eq!(out.samples_appended, 3);
    assert_eq!(
        out.rejected,
        Rejected {
            out_of_order: 1,
            out_of_bounds: 1,
            duplicate: 0,
            invalid_labels: 3
        }
    );
    assert!(out
        .error
        .as_ref()
        .unwrap()
        .to_string()
        .contains("out of order sample for series a at 500"));
    assert_eq!(
        rows(&store),
        vec![
            ("a".to_owned(), 1000, 1.0),
            ("a".to_owned(), 2000, 2.0),
            ("b".to_owned(), 1000, 3.0)
        ]
    );
    let DecodedWrite::V2(r) = &req else {
        unreachable!()
    };
    let mut out = WriteOutcome::default();
    append_v2(
        &v2::Request {
            timeseries: r.timeseries[1..3].to_vec(),
            ..r.clone()
        },
        Store::default().appender().as_mut(),
        &mut out,
    );
    let msg = out.error.unwrap().to_string();
    assert!(
        msg.contains("series 0: label reference 9 is outside the symbols table (5 entries)"),
        "{msg}"
    );
}

#[test]
fn v2_store_failure_rolls_back() {
    let store = Store::default();
    let req = v2_req(
        &["", "__name__", "a"],
        vec![(vec![1, 2], vec![(1000, 1.0), (BROKEN_T, 1.0)])],
    );
    let out = write(&req, &store);
    assert_eq!(out.http_status(), 500);
    assert!(out.rollback);
    assert!(rows(&store).is_empty());
}

#[test]
fn odd_label_refs_are_invalid() {
    assert!(resolve_refs(&["".into(), "a".into()], &[1])
        .unwrap_err()
        .contains("odd number"));
}
