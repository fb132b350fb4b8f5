//! issue 12: protobuf bodies keep gauge and sum attributes encoded and key
//! the series cache by those bytes; these tests show the cache never hands
//! a point another series' handle, and that malformed attributes still
//! refuse the whole request.

use super::*;
use crate::otlp::http::{self, Format};
use prost::bytes::Bytes;
use prost::Message;

/// `req` as an OTLP/HTTP protobuf body decodes it.
fn wire(req: &ExportMetricsServiceRequest) -> wire::Request {
    http::decode(Bytes::from(req.encode_to_vec()), Format::Protobuf, None).unwrap()
}

/// The body of `req` with the first occurrence of `marker` made invalid
/// UTF-8.
fn corrupt(req: &ExportMetricsServiceRequest, marker: &[u8]) -> wire::Request {
    let mut body = req.encode_to_vec();
    let at = body
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap();
    body[at] = 0xff;
    http::decode(Bytes::from(body), Format::Protobuf, None).unwrap()
}

fn gauge(name: &str, points: Vec<NumberDataPoint>) -> Metric {
    metric(
        name,
        "",
        Data::Gauge(Gauge {
            data_points: points,
        }),
    )
}

fn ab(b: &str) -> Vec<KeyValue> {
    vec![s("a", "1"), s("b", b)]
}

#[test]
fn encoded_attributes_never_reach_another_series() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let res = || vec![s("service.name", "api")];
    // Two attribute sets differing in one value, twice (the second
    // request is all cache hits), and the same sets under a second metric.
    for (t, v) in [(10, 1.0), (20, 3.0)] {
        let req = request(
            res(),
            vec![
                gauge(
                    "g",
                    vec![num(t, 0, v, ab("2")), num(t, 0, v + 1.0, ab("3"))],
                ),
                gauge("h", vec![num(t, 0, -v, ab("2"))]),
            ],
        );
        let out = r.write_request(&wire(&req), &store);
        assert_eq!((out.http_status(), out.rejected_points), (200, 0));
    }
    // The metric renamed: same attribute bytes, another series.
    let req = request(res(), vec![gauge("g2", vec![num(30, 0, 5.0, ab("2"))])]);
    r.write_request(&wire(&req), &store);
    // The same points decoded by tonic (gRPC) find the same series.
    let req = request(res(), vec![gauge("g", vec![num(40, 0, 6.0, ab("3"))])]);
    r.write(&req, &store);
    // A configuration change changes the mapping: no handle survives it.
    r.set_config(OtlpConfig {
        promote_resource_attributes: vec!["service.name".into()],
        ..OtlpConfig::default()
    });
    let req = request(res(), vec![gauge("g", vec![num(50, 0, 7.0, ab("2"))])]);
    r.write_request(&wire(&req), &store);

    let rows = rows(&store);
    let row = |k: &str| rows.get(k).cloned().unwrap_or_default();
    assert_eq!(
        row("g{a=\"1\", b=\"2\", job=\"api\"}"),
        vec![(10_000, 1.0), (20_000, 3.0)]
    );
    assert_eq!(
        row("g{a=\"1\", b=\"3\", job=\"api\"}"),
        vec![(10_000, 2.0), (20_000, 4.0), (40_000, 6.0)]
    );
    assert_eq!(
        row("h{a=\"1\", b=\"2\", job=\"api\"}"),
        vec![(10_000, -1.0), (20_000, -3.0)]
    );
    assert_eq!(
        row("g2{a=\"1\", b=\"2\", job=\"api\"}"),
        vec![(30_000, 5.0)]
    );
    assert_eq!(
        row("g{a=\"1\", b=\"2\", job=\"api\", service_name=\"api\"}"),
        vec![(50_000, 7.0)]
    );
    assert_eq!(rows.len(), 5, "{rows:?}");
}

#[test]
fn malformed_encoded_attributes_refuse_the_whole_request() {
    let store = Store::default();
    let r = Receiver::new(OtlpConfig::default(), DEFAULT_LOOKBACK);
    let good = request(vec![], vec![gauge("g", vec![num(10, 0, 1.0, ab("2"))])]);
    assert_eq!(r.write_request(&wire(&good), &store).http_status(), 200);
    let before = rows(&store);
    // A known series first (appended by its cached handle), then a point
    // whose attribute value is not UTF-8: nothing of the request stays.
    let bad = request(
        vec![],
        vec![gauge(
            "g",
            vec![
                num(20, 0, 2.0, ab("2")),
                num(20, 0, 3.0, vec![s("c", "bad!")]),
            ],
        )],
    );
    let out = r.write_request(&corrupt(&bad, b"bad!"), &store);
    assert_eq!(out.http_status(), 400);
    let msg = http::protobuf_error(out.decode_error.as_ref().unwrap()).to_string();
    assert!(msg.starts_with("decoding opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest protobuf: "), "{msg}");
    assert!(
        msg.contains("invalid string value: data is not UTF-8 encoded"),
        "{msg}"
    );
    assert_eq!((out.points, out.samples_appended), (0, 0));
    assert_eq!(rows(&store), before);
    // A delta point before the malformed one does not move its total.
    let bad = request(
        vec![],
        vec![
            metric("d", "", sum(vec![num(20, 10, 5.0, vec![])], true, DELTA)),
            gauge("g", vec![num(20, 0, 3.0, vec![s("c", "bad!")])]),
        ],
    );
    let out = r.write_request(&corrupt(&bad, b"bad!"), &store);
    assert_eq!(out.http_status(), 400);
    assert_eq!(r.delta_streams(), 0);
    assert_eq!(rows(&store), before);
    // A metric refused for its temporality is still checked.
    let bad = request(
        vec![],
        vec![metric(
            "s",
            "",
            sum(vec![num(20, 0, 1.0, vec![s("c", "bad!")])], true, 0),
        )],
    );
    let out = r.write_request(&corrupt(&bad, b"bad!"), &store);
    assert_eq!(out.http_status(), 400);
}
